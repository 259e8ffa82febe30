/*
 * request_build.h - the one typing and validation core of the JSON request
 * reader. Producers feed it the same events: json_events.c (text, read
 * by its own lexer), request_json.c (a jansson tree from YAML) and the MCP
 * adapter (an identity and a message's params, adapter.c). It keeps what
 * the policy reads - the fixed fields and the policy's slots, and the whole
 * args object when the policy quantifies over its values (`any value of
 * args ...`) - and lets everything else go by after the checks that apply
 * to any JSON, so the producers cannot drift apart.
 */
#ifndef TG_MCP_REQUEST_BUILD_H
#define TG_MCP_REQUEST_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "request_json.h"

/* A scalar as the producers hand it over: numbers already typed by
 * DESIGN's rule (an int is written without fraction or exponent and fits
 * int64; every other number, and null, is OTHER). */
typedef enum tg_rb_kind {
	TG_RB_STRING,
	TG_RB_INT,
	TG_RB_BOOL,
	TG_RB_OTHER
} tg_rb_kind;

typedef struct tg_rb_scalar {
	tg_rb_kind kind;
	tg_str s;
	int64_t i;
	bool b;
} tg_rb_scalar;

/* One slot of the policy as the builder tracks it. */
struct tg_rb_slot {
	const tg_slot_info *info;
	size_t at;		/* first list item or tree node, in the builder's arrays */
	bool direct;		/* its value was met at its own path (not inside a read tree) */
};

/* An open object or array. */
typedef struct tg_rb_frame {
	uint8_t object;
	uint8_t role;		/* enum in request_build.c: what the container is to the request */
	uint8_t section;	/* RB_SECTION: which one */
	uint32_t items;		/* members so far, counted where a limit applies */
	size_t cand, cand_end;	/* slots whose path runs through this object: cands[cand..cand_end) */
	size_t node;		/* inside a read tree: this container's node */
} tg_rb_frame;

/* The builder's state; on the producer's stack, private to request_build.c. */
typedef struct tg_rb {
	tg_json_request *out;
	tg_json_limits lim;
	char *err;
	size_t errlen;
	int prio;		/* of the message kept in err; lower wins */
	unsigned depth;
	tg_rb_frame f[TG_JSON_MAX_DEPTH + 2];
	size_t first_cands[64];	/* cands, while they fit: no allocation (not cleared) */
	/* what the value after the last key is to the request */
	uint8_t pend_field;
	uint32_t pend_slot;
	size_t pend_cand, pend_cand_end;
	tg_str pend_key;
	/* a read tree under construction */
	unsigned cap_depth;	/* depth of its outermost container, 0: none */
	uint32_t cap_slot;
	bool cap_object;	/* some slot's value is an object: nested slots resolve from it */
	tg_rb_slot *slots;
	size_t nslots;
	size_t *cands;
	size_t ncands, capcands;
	/* what the request keeps */
	bool copy;		/* strings are copied into bytes (text); else borrowed */
	char *bytes;
	size_t nbytes, capbytes;
	tg_node *nodes;
	size_t nnodes, capnodes;
	tg_str *strs;
	size_t nstrs, capstrs;
	int64_t *ints;
	size_t nints, capints;
	/* the fixed fields */
	tg_str id, method, target, server, client_id;
	size_t roles_at, nroles, scopes_at, nscopes;
	uint32_t flags;
	tg_hint hints[4];
	/* the whole args object as a read tree (tg_policy_reads_args_tree) */
	bool args_tree;		/* the policy wants it */
	bool have_args;		/* met and kept: nodes[args_at .. args_at + args_n) */
	size_t args_at, args_n;
} tg_rb;

/*
 * Starts building into *out (zeroed, its tg_request initialised) for
 * policy p (NULL: no slots). `textlen` > 0: strings are copied (their
 * decoded bytes never exceed the text's); 0: they are borrowed from a tree
 * *out owns. Returns false when out of memory (message in err).
 */
bool tg_rb_begin(tg_rb *b, const tg_policy *p, const tg_json_limits *lim, tg_json_request *out,
		 size_t textlen, char *err, size_t errlen);

/*
 * Events, in document order. Each returns false when the request cannot
 * be read any further (the message is kept); errors that need no more
 * parsing to be sure of (a wrong type, a limit on a read value) are kept
 * and parsing goes on, so that a later syntax error still wins as it
 * always has. Strings and keys arrive decoded and already checked as
 * UTF-8 without U+0000; they need only live for the call.
 */
bool tg_rb_open(tg_rb *b, bool object);
bool tg_rb_close(tg_rb *b);
bool tg_rb_key(tg_rb *b, const char *s, size_t n);
bool tg_rb_scalar_event(tg_rb *b, const tg_rb_scalar *v);

/* A problem found by a producer: reading stops, and this message wins over
 * every kept one. printf-style, after "invalid request: ". */
bool tg_rb_fatal(tg_rb *b, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* The end: applies the checks that need the whole request, fills out->req
 * and frees the builder. Returns 0, or -1 with the message in err (the
 * caller frees *out). */
int tg_rb_end(tg_rb *b);

/* Frees a builder after a producer failed (the fatal message is in err). */
void tg_rb_abort(tg_rb *b);

/* ---- a request from parts (request_json.c) ------------------------------
 * For a producer that assembles a request from trees it holds (the MCP
 * adapter: the identity's objects, a message's params) without building
 * the request's own tree first. Strings are borrowed: the trees must
 * outlive *out. */

/* Initialises *out and begins b for policy p with the default limits;
 * false when out of memory (then tg_rb_finish(b, false, out)). */
bool tg_rb_begin_borrowed(tg_rb *b, const tg_policy *p, tg_json_request *out, char *err,
			  size_t errlen);
/* A tree as the events a parser would give for it; an object's members
 * alone, without its braces. */
bool tg_rb_walk(tg_rb *b, json_t *v);
bool tg_rb_walk_members(tg_rb *b, json_t *obj);
/* Ends (ok) or abandons the request: 0, or -1 with the message in err
 * and *out freed, as tg_json_request_from_json returns. */
int tg_rb_finish(tg_rb *b, bool ok, tg_json_request *out);

#endif
