/*
 * proxy.h - the pieces of `toolgate proxy`, an MCP stdio gateway that
 * enforces a policy on every message between a client (the proxy's stdin and
 * stdout) and a server (a child process).
 *
 * The split, one job per file:
 *
 *   proxy_buf.c       byte queues and the bounded line splitter
 *   proxy_frame.c     one line -> one checked JSON-RPC message (or an error)
 *   proxy_ids.c       outstanding request ids, both directions
 *   proxy_tools.c     tool annotations from the server's latest tools/list
 *   proxy_identity.c  who the client is: options and --identity FILE
 *   proxy_authz.c     a client request -> a toolgate request -> a decision
 *   proxy_filter.c    list results -> what the requester may see
 *   proxy_core.c      the state machine tying these together, no processes
 *   proxy_reload.c    watching the policy file, swapping the holder
 *   proxy_relay.c     the child process and the poll() loop
 *   cmd_proxy.c       options and wiring
 *
 * The core consumes whole lines and produces bytes for either side into two
 * queues; the relay only moves bytes. So everything that decides what may
 * pass is testable without a process (tests/unit/test_proxy*.c).
 */
#ifndef TG_PROXY_H
#define TG_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "toolgate/toolgate.h"

#define TG_PROXY_DEFAULT_MAX_LINE (8u * 1024 * 1024)	/* client messages */
#define TG_PROXY_SERVER_MAX_LINE  (64u * 1024 * 1024)	/* server messages, at least */
#define TG_PROXY_MAX_PENDING	  4096u		/* outstanding requests per direction */
#define TG_PROXY_MAX_TOOLS	  65536u	/* cached tool annotations */
#define TG_PROXY_FETCH_PAGES	  64u		/* tools/list pages the proxy walks */
#define TG_PROXY_FETCH_TIMEOUT_MS 10000

/* JSON-RPC error codes the proxy answers with (docs/proxy.md). */
#define TG_RPC_PARSE_ERROR	-32700	/* not JSON, invalid UTF-8, binary junk */
#define TG_RPC_INVALID_REQUEST	-32600	/* not a JSON-RPC 2.0 request we forward */
#define TG_RPC_INVALID_PARAMS	-32602	/* params do not make a valid toolgate request */
#define TG_RPC_DENIED		-32001	/* the policy denied the request */
#define TG_RPC_UNAVAILABLE	-32003	/* the server exited or its answer was unusable */
#define TG_RPC_BUSY		-32004	/* too many outstanding requests */

/* ---- proxy_buf.c -------------------------------------------------------- */

/* A FIFO of bytes: data[off..len) is unread. */
typedef struct tg_buf {
	char *data;
	size_t off, len, cap;
} tg_buf;

/* Appends; returns 0 or -1 when out of memory. */
int tg_buf_add(tg_buf *b, const void *p, size_t n);
/* Bytes waiting. */
size_t tg_buf_size(const tg_buf *b);
/* Drops n bytes from the front. */
void tg_buf_drop(tg_buf *b, size_t n);
void tg_buf_free(tg_buf *b);

/*
 * Splits a byte stream into lines, keeping at most `max` bytes of one line:
 * a longer line is discarded up to its newline (reported once, as
 * oversized), so memory stays bounded whatever the peer sends.
 */
typedef struct tg_lines {
	tg_buf pending;
	size_t max;
	bool discarding;
} tg_lines;

typedef struct tg_line_sink {
	void (*line)(void *ud, const char *s, size_t len);	/* without the '\n' */
	void (*oversized)(void *ud);
	void *ud;
} tg_line_sink;

/* Feeds n bytes; returns 0 or -1 when out of memory. */
int tg_lines_feed(tg_lines *l, const char *p, size_t n, const tg_line_sink *sink);
/* End of stream: a final line without a newline is delivered too. */
void tg_lines_finish(tg_lines *l, const tg_line_sink *sink);
void tg_lines_free(tg_lines *l);

/* ---- proxy_frame.c ------------------------------------------------------ */

typedef enum tg_msg_kind {
	TG_MSG_REQUEST,		/* method and id */
	TG_MSG_NOTIFICATION,	/* method, no id */
	TG_MSG_RESPONSE		/* id and exactly one of result / error */
} tg_msg_kind;

/* One checked JSON-RPC message. */
typedef struct tg_msg {
	tg_msg_kind kind;
	json_t *root;		/* owned */
	json_t *id;		/* borrowed from root; NULL for notifications */
	const char *method;	/* borrowed; NULL for responses */
	char *idkey;		/* malloc'd canonical text of id ("7", "\"a\""), or NULL */
	bool lossy;		/* parsed with integers as reals: route, never rewrite */
} tg_msg;

/* Why a line was refused, and whom to tell. */
typedef struct tg_frame_error {
	int code;		/* TG_RPC_PARSE_ERROR or TG_RPC_INVALID_REQUEST */
	char message[160];
	json_t *reply_ids;	/* array of ids to answer (new reference), maybe empty */
} tg_frame_error;

typedef enum tg_frame_result {
	TG_FRAME_OK,
	TG_FRAME_BLANK,		/* only whitespace: ignored */
	TG_FRAME_ERROR		/* *err filled; the line must not be forwarded */
} tg_frame_result;

/*
 * Parses one line as a single JSON-RPC 2.0 message: valid UTF-8 without
 * NUL, one JSON object (no batches), no duplicate keys at any depth,
 * "jsonrpc":"2.0", a string method, an id that is a string or an integer.
 * `lenient_numbers` (server lines only) lets integers jansson cannot hold
 * through as reals, marking the message lossy. On TG_FRAME_OK *m owns the
 * tree (tg_msg_free); on TG_FRAME_ERROR release err->reply_ids.
 */
tg_frame_result tg_frame_parse(const char *line, size_t len, bool lenient_numbers, tg_msg *m,
			       tg_frame_error *err);
void tg_msg_free(tg_msg *m);

/* Canonical text of an id, malloc'd (NULL when out of memory). */
char *tg_frame_id_key(const json_t *id);

/* True when the method is lifecycle (never authorized by policy):
 * initialize, ping, server/discover and every notifications/... */
bool tg_frame_is_lifecycle(const char *method);

/* ---- proxy_ids.c -------------------------------------------------------- */

typedef enum tg_pend_kind {
	TG_PEND_PLAIN,		/* a forwarded request whose result passes unchanged */
	TG_PEND_TOOLS_LIST,
	TG_PEND_RESOURCES_LIST,
	TG_PEND_PROMPTS_LIST,
	TG_PEND_FETCH		/* the proxy's own tools/list: consumed, never forwarded */
} tg_pend_kind;

typedef struct tg_pending {
	char *key;
	json_t *id;		/* one reference */
	tg_pend_kind kind;
} tg_pending;

typedef struct tg_idtab {
	tg_pending *v;
	size_t n, cap;
} tg_idtab;

/* Index of key, or -1. */
long tg_idtab_find(const tg_idtab *t, const char *key);
/* Adds (copies key, takes a reference to id); -1 when full or out of memory. */
int tg_idtab_add(tg_idtab *t, const char *key, json_t *id, tg_pend_kind kind);
/* Removes entry i (order is not kept). */
void tg_idtab_remove(tg_idtab *t, size_t i);
void tg_idtab_free(tg_idtab *t);

/* ---- proxy_tools.c ------------------------------------------------------ */

/* A tool's annotations with MCP's defaults applied to absent hints. */
typedef struct tg_tool_hints {
	tg_hint read_only, destructive, idempotent, open_world;
} tg_tool_hints;

typedef struct tg_tool_cache {
	struct tg_tool_slot *slots;	/* open addressing, power of two */
	size_t nslots, count;
} tg_tool_cache;

/* Reads readOnlyHint etc. from a tool entry's "annotations"; a hint that is
 * absent or not a boolean takes the MCP default. */
tg_tool_hints tg_tools_hints_of(const json_t *tool);
/* Records a tool; returns 0 or -1 when out of memory (the cache is cleared
 * when it would pass TG_PROXY_MAX_TOOLS). */
int tg_tools_put(tg_tool_cache *c, const char *name, size_t len, const tg_tool_hints *h);
/* The hints of a listed tool, or NULL. */
const tg_tool_hints *tg_tools_get(const tg_tool_cache *c, const char *name, size_t len);
void tg_tools_clear(tg_tool_cache *c);

/* ---- proxy_identity.c --------------------------------------------------- */

/* Who is calling, as the request model's objects. */
typedef struct tg_identity {
	json_t *principal;	/* object, with a string "id" once complete */
	json_t *token;		/* object */
	json_t *context;	/* object; "time" is added per request unless set */
	json_t *server;		/* string or NULL: the request's `server` */
} tg_identity;

void tg_identity_init(tg_identity *id);
void tg_identity_free(tg_identity *id);
/* Merges an --identity file: {"principal":{...},"token":{...},
 * "context":{...},"server":"..."}; keys merge over what is there. Returns 0,
 * or -1 with a message in err. */
int tg_identity_load_file(tg_identity *id, const char *path, char *err, size_t errlen);
/* One command-line option (name without "--") with its value, e.g.
 * ("role", "engineer"), ("attr", "principal.tenant=acme"). Returns 0, or -1
 * with a message in err. */
int tg_identity_option(tg_identity *id, const char *name, const char *value, char *err,
		       size_t errlen);
/* Types an option value: integers, true/false, otherwise a string. */
json_t *tg_identity_value(const char *text);

/* ---- proxy_authz.c ------------------------------------------------------ */

/* What the proxy decided about one client request. */
typedef enum tg_verdict {
	TG_VERDICT_PASS,	/* lifecycle: forwarded without policy */
	TG_VERDICT_ALLOW,
	TG_VERDICT_DENY,
	TG_VERDICT_INVALID,	/* answer TG_RPC_INVALID_PARAMS */
	TG_VERDICT_NEED_TOOLS	/* tools/call of a tool not yet listed */
} tg_verdict;

typedef struct tg_authz_out {
	tg_verdict verdict;
	char reason[512];	/* INVALID: the message; DENY: a copy of the reason */
	char rule[256];		/* DENY: the deciding rule id, "" for none */
	bool has_rule, has_reason;
	const char *tool;	/* NEED_TOOLS: the tool name (borrowed from the message) */
	size_t tool_len;
} tg_authz_out;

/*
 * The toolgate request for an MCP request, as the JSON request model:
 * principal, token and context from the identity (context.time = now unless
 * the identity sets it), method and target by DESIGN's adapter rules,
 * `tool` from hints, `args` from params.arguments. NULL with a message in
 * err when the params cannot make one (missing name/uri, bad ref).
 * The returned tree holds references into the identity and the message.
 */
json_t *tg_authz_request_json(const tg_identity *id, const char *method, const json_t *params,
			      const tg_tool_hints *hints, int64_t now, char *err, size_t errlen);

/*
 * Authorizes one client request against policy p (NULL: no policy loaded,
 * everything but lifecycle is denied). Writes one audit line to `audit`
 * (may be NULL) for every decision, lifecycle excluded.
 */
void tg_authz_decide(const tg_policy *p, const tg_identity *id, const tg_tool_cache *tools,
		     const tg_msg *m, int64_t now, FILE *audit, tg_authz_out *out);

/* The target name a tools/call carries, or NULL. */
const char *tg_authz_tool_name(const tg_msg *m, size_t *len);

/* Writes the audit line for a decision, newline and flush included. */
void tg_authz_audit(FILE *audit, const tg_policy *p, const tg_request *req,
		    const tg_decision *d, int64_t now);

/* ---- proxy_filter.c ----------------------------------------------------- */

/*
 * Filters a list response in place: result.tools (kind TOOLS_LIST; every
 * listed tool's hints also go to the cache), result.resources or
 * result.prompts, keeping the entries tg_visible allows for the identity.
 * Entries without a string name (uri) are dropped. Every other member,
 * nextCursor included, is kept. Returns how many entries were removed, or
 * -1 when the result has no such list (left unchanged).
 */
long tg_filter_list(const tg_policy *p, const tg_identity *id, tg_tool_cache *tools,
		    tg_pend_kind kind, json_t *response, int64_t now);

/* ---- proxy_core.c ------------------------------------------------------- */

typedef struct tg_proxy_stats {
	unsigned long allowed, denied, invalid, passed, rejected, filtered;
	double decide_cpu;	/* seconds of process CPU spent deciding */
} tg_proxy_stats;

typedef struct tg_proxy {
	tg_holder *holder;	/* borrowed */
	const tg_identity *identity;	/* borrowed */
	FILE *audit;		/* borrowed; NULL: no audit */
	int64_t fixed_time;	/* > 0: the clock (tests) */
	bool measure;		/* account CPU time in stats.decide_cpu */

	tg_buf to_server, to_client;
	tg_buf backlog;		/* client lines read while a call is held */
	bool draining;
	tg_idtab client_pending;	/* client (and proxy) requests at the server */
	tg_idtab server_pending;	/* server requests at the client */
	tg_tool_cache tools;

	/* A tools/call waiting for the proxy's own tools/list. */
	bool fetching;
	tg_msg held;
	char *held_line;
	size_t held_len;
	char *fetch_key;
	unsigned fetch_pages;
	int64_t fetch_deadline_ms;
	unsigned long own_ids;

	tg_proxy_stats stats;
} tg_proxy;

void tg_proxy_init(tg_proxy *px, tg_holder *holder, const tg_identity *id, FILE *audit);
void tg_proxy_free(tg_proxy *px);

/* One line from the client / from the server (without its newline). */
void tg_proxy_client_line(tg_proxy *px, const char *line, size_t len);
void tg_proxy_server_line(tg_proxy *px, const char *line, size_t len);
void tg_proxy_client_oversized(tg_proxy *px);
void tg_proxy_server_oversized(tg_proxy *px);

/* False while a tools/call waits for the proxy's tools/list, or client
 * lines read meanwhile wait behind it: reading the client pauses, so
 * messages keep their order. Lines fed in the meantime (the rest of a read)
 * are kept in order and handled when the call is decided. */
bool tg_proxy_accepts_client(const tg_proxy *px);

/* Time passes (monotonic milliseconds): a fetch past its deadline fails. */
void tg_proxy_tick(tg_proxy *px, int64_t now_ms);

/* The server is gone: every request waiting for it is answered with
 * TG_RPC_UNAVAILABLE. */
void tg_proxy_server_gone(tg_proxy *px, const char *why);

/* Monotonic milliseconds. */
int64_t tg_proxy_now_ms(void);

/* ---- proxy_reload.c ----------------------------------------------------- */

typedef struct tg_reloader {
	const char *path;
	bool known;
	unsigned long long dev, ino, size;
	long long mtime_sec, mtime_nsec;
	int64_t last_check_ms;
} tg_reloader;

/* Loads the policy at r->path into the holder (first load). 0 or a CLI exit
 * status. */
int tg_reload_initial(tg_reloader *r, tg_holder *h);
/*
 * Checks the file (at most every 250 ms unless `force`) and, when it
 * changed, loads, verifies and swaps it in. A policy that fails to load is
 * reported on stderr and the old one keeps serving. Returns true when a new
 * policy was installed.
 */
bool tg_reload_check(tg_reloader *r, tg_holder *h, bool force);

/* ---- proxy_relay.c ------------------------------------------------------ */

typedef struct tg_relay_opts {
	char **argv;		/* the server command */
	size_t max_line;	/* client lines; server lines get at least 64 MiB */
	bool stats;
	tg_reloader *reloader;
} tg_relay_opts;

/* Runs the server and relays until both sides are done; returns the exit
 * status of `toolgate proxy`. */
int tg_relay_run(tg_proxy *px, const tg_relay_opts *opts);

#endif
