/*
 * request_json.h - requests as JSON (DESIGN.md "Request model") to the
 * runtime's tg_request, and decisions back to JSON.
 *
 * `toolgate eval`, tg_mcp_request_parse and tg_eval_json read request text
 * (json_events.c: one strict pass, no document tree); `toolgate test` and the
 * MCP adapter hand over a jansson tree. Both feed one builder
 * (request_build.c), so they apply the same checks:
 *
 *   - anywhere in the request: the body (text only) and nesting limits,
 *     the key limit, duplicate keys at any depth, U+0000 and invalid UTF-8
 *     (overlong forms, encoded or escaped lone surrogates) in any string or
 *     key, malformed JSON (comments, a BOM, trailing text included). The
 *     top-level object is at depth 1, so 64 nested objects/arrays are
 *     accepted and 65 are not;
 *   - on what the policy reads (the fixed fields and the policy's slots,
 *     and all of `args` when the policy has a `value of` quantifier, which
 *     then gets req.args as a tree, `{}` when the request has none):
 *     the string and list limits, and Unicode NFC (docs/language.md). A
 *     value no rule reads - a file's contents - is never stored, limited
 *     or normalised (docs/limits.md);
 *   - every rule of DESIGN's "A request is invalid" list: unknown top-level
 *     keys, a missing or non-string principal.id or method, a missing target
 *     for a method that needs one, roles/scopes that are not lists of
 *     strings, a non-boolean tool annotation, principal/token/tool/args/
 *     context that are not objects, and, through tg_request_check, resource
 *     URIs with dot segments or encoded separators.
 *
 * Values are typed by DESIGN's value rules: a number written without
 * fraction or exponent and within int64 is an int; strings and booleans are
 * themselves; an array of only strings is a string list, of only integers an
 * int list (an empty array takes the slot's declared list type, string list
 * when undeclared); objects and other arrays are OBJECT and ARRAY trees
 * (operators treat them as OTHER); floats, out-of-range integers and null
 * are OTHER. A non-string `server` or `token.client_id` is absent for the
 * fixed fields; a `target` on a method that needs none is ignored.
 *
 * When a request has several problems, the message is the first of: a
 * problem that stops reading (malformed JSON, a duplicate key, bad UTF-8,
 * U+0000, nesting), a limit on a read value, an unknown top-level key, then
 * the shape rules in the order above, NFC, and the runtime's check.
 */
#ifndef TG_REQUEST_JSON_H
#define TG_REQUEST_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "toolgate/mcp.h"
#include "toolgate/toolgate.h"

struct tg_rb_slot;
typedef struct tg_rb_slot tg_rb_slot;

/* TG_JSON_MAX_BODY and TG_JSON_MAX_DEPTH are in toolgate/mcp.h. A reader's
 * message fits in this many bytes with its NUL. */
#define TG_JSON_REASON_MAX 256

/*
 * The reader's limits (docs/limits.md). `body` applies to text only;
 * `depth` and `key` to the whole document; `string` and `list` to what the
 * policy reads (a list's or an object's members), and cannot exceed the
 * runtime's TG_MAX_STRING_BYTES and TG_MAX_LIST_ITEMS, which it enforces
 * on every request it is handed: larger values are clamped, as is a
 * `depth` past TG_JSON_MAX_DEPTH.
 */
typedef struct tg_json_limits {
	size_t body;
	unsigned depth;
	size_t key;
	size_t string;
	size_t list;
} tg_json_limits;

/* 1 MiB, 64, 64 KiB, 64 KiB, 4,096. */
extern const tg_json_limits tg_json_default_limits;

/*
 * A request and everything its borrowed pointers point into. `req` is the
 * filled request, valid until tg_json_request_free; the other members are
 * private.
 */
typedef struct tg_json_request {
	tg_request req;
	json_t *root;		/* a tree's request: one reference, owned */
	char *bytes;		/* a text's request: the strings it keeps */
	tg_str *strs;		/* roles, scopes, string-list items */
	int64_t *ints;		/* int-list items */
	tg_node *nodes;		/* the trees of OBJECT and ARRAY values */
	tg_value *slots;	/* req.slots */
	tg_rb_slot *work;	/* the builder's per-slot state */
	size_t nslots;
} tg_json_request;

/*
 * Parses one JSON request (text need not be NUL-terminated) and fills *out
 * for policy `p`'s attribute slots (p may be NULL: no slots). Returns 0; or
 * -1 when the request is invalid or memory ran out, with `err` (errlen
 * bytes, may be 0) holding a message that starts with "invalid request: ".
 * *out is always initialised: tg_json_request_free on it is correct after
 * either result.
 */
int tg_json_request_parse(const tg_policy *p, const char *text, size_t len, tg_json_request *out,
			  char *err, size_t errlen);

/* The same with other limits than the defaults. */
int tg_json_request_parse_with(const tg_policy *p, const tg_json_limits *lim, const char *text,
			       size_t len, tg_json_request *out, char *err, size_t errlen);

/*
 * The same from a tree built elsewhere (YAML suites). *out takes its own
 * reference to `root`; the caller keeps its own. Duplicate keys cannot be
 * detected in a tree, so the builder must reject them.
 */
int tg_json_request_from_json(const tg_policy *p, json_t *root, tg_json_request *out, char *err,
			      size_t errlen);
int tg_json_request_from_json_with(const tg_policy *p, const tg_json_limits *lim, json_t *root,
				   tg_json_request *out, char *err, size_t errlen);

/* Releases what *r holds (not r itself) and leaves it empty. */
void tg_json_request_free(tg_json_request *r);

/* True when a line of a JSON-lines stream carries no message: only spaces,
 * tabs and a CR (eval and the proxy skip such lines). */
bool tg_json_line_blank(const char *s, size_t len);

/* ---- decisions ---------------------------------------------------------- */

/*
 * Writes the decision as one compact JSON object, no newline:
 *   {"decision":"allow"|"deny","rule":ID|null,"reason":TEXT|null,
 *    "errors":[{"rule":ID,"message":TEXT},...]}
 * and, for an invalid request, with "errors":[] and a trailing
 * "invalid":true. Invalid UTF-8 in policy text is written as U+FFFD.
 * Returns 0, or -1 on a write error.
 */
int tg_decision_write_json(FILE *out, const tg_decision *d);

/* The same line in a malloc'd NUL-terminated string, or NULL when out of
 * memory. */
char *tg_decision_to_json(const tg_decision *d);

/* Writes s[0..len) as a JSON string literal, quotes included. */
void tg_json_write_string(FILE *out, const char *s, size_t len);

#endif
