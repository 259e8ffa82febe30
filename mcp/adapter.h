/*
 * adapter.h - libtoolgate-mcp's internal interface, for the transports built
 * in this tree (the stdio proxy, the HTTP gateway, the test-suite runner).
 * It speaks jansson; the public header (toolgate/mcp.h) wraps it for
 * servers and bindings and keeps jansson out of sight.
 *
 *   jsonrpc.c   one line -> one checked JSON-RPC message (or an error)
 *   idscan.c    where a line's id is, for rewriting it or answering a refusal
 *   inflight.c  requests forwarded under ids of the forwarder's choosing
 *   tools.c     tool annotations from the server's latest tools/list
 *   pins.c      tool definitions pinned, annotations overridden
 *   identity.c  who the client is: options and identity files
 *   adapter.c   a client request -> a toolgate request -> a decision
 *   filter.c    list results -> what the requester may see
 *   roots.c     roots the server is given -> what the requester may read
 *   explain.c   a decision's trace as text
 *   api.c       the public entry points
 */
#ifndef TG_MCP_ADAPTER_H
#define TG_MCP_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "toolgate/toolgate.h"

#define TG_MCP_MAX_TOOLS	  65536u	/* cached tool annotations */

/*
 * JSON-RPC error codes toolgate answers with, on every transport
 * (docs/proxy.md "Answers the proxy gives"). Its own come from -32003 to
 * -32019: -32000 to -32019 is left to implementations by MCP's 2026-07-28
 * allocation, of which the TypeScript SDK already uses -32000 (connection
 * closed) and -32001 (request timeout; "session not found" over HTTP) and
 * MCP used -32002 (resource not found); -32020 to -32099 is reserved for
 * the specification (and the SDK's -32042). A code, once given, keeps its
 * meaning.
 */
#define TG_RPC_PARSE_ERROR	-32700	/* not JSON, invalid UTF-8, binary junk */
#define TG_RPC_INVALID_REQUEST	-32600	/* not a JSON-RPC 2.0 request we forward */
#define TG_RPC_INVALID_PARAMS	-32602	/* params do not make a valid toolgate request */
#define TG_RPC_DENIED		-32003	/* the policy (or the adapter) denied the request */
#define TG_RPC_UNAVAILABLE	-32004	/* the server exited or its answer was unusable */
#define TG_RPC_BUSY		-32005	/* too many requests in flight */
#define TG_RPC_TIMEOUT		-32006	/* no answer within the request timeout */

/* ---- jsonrpc.c ----------------------------------------------------- */

typedef enum tg_rpc_kind {
	TG_RPC_REQUEST,		/* method and id */
	TG_RPC_NOTIFICATION,	/* method, no id */
	TG_RPC_RESPONSE		/* id and exactly one of result / error */
} tg_rpc_kind;

/* One checked JSON-RPC message. */
typedef struct tg_rpc_msg {
	tg_rpc_kind kind;
	json_t *root;		/* owned */
	json_t *id;		/* borrowed from root; NULL for notifications */
	const char *method;	/* borrowed; NULL for responses */
	char *idkey;		/* malloc'd canonical text of id ("7", "\"a\""), or NULL */
	size_t id_off, id_len;	/* where the id's value is in the parsed line */
	bool lossy;		/* parsed with integers as reals: route, never rewrite */
} tg_rpc_msg;

/* Why a line was refused, and whom to tell. */
typedef struct tg_rpc_error {
	int code;		/* TG_RPC_PARSE_ERROR or TG_RPC_INVALID_REQUEST */
	const char *kind;	/* a stable word for audit: "malformed", "duplicate_key", ... */
	char message[160];
	json_t *reply_ids;	/* array of ids to answer (new reference), maybe empty */
	json_t *seen;		/* the message as a lenient parse reads it (the last of
				 * duplicate keys winning), for the audit; or NULL */
} tg_rpc_error;

typedef enum tg_rpc_result {
	TG_RPC_FRAME_OK,
	TG_RPC_FRAME_BLANK,		/* only whitespace: ignored */
	TG_RPC_FRAME_ERROR		/* *err filled; the line must not be forwarded */
} tg_rpc_result;

/*
 * Parses one line as a single JSON-RPC 2.0 message: valid UTF-8 without
 * NUL, one JSON object (no batches), no duplicate keys at any depth,
 * "jsonrpc":"2.0", a string method, an id that is a string or an integer.
 * `lenient_numbers` (server lines only) lets integers jansson cannot hold
 * through as reals, marking the message lossy. On TG_RPC_FRAME_OK *m owns the
 * tree (tg_rpc_msg_free); on TG_RPC_FRAME_ERROR release *err
 * (tg_rpc_error_free).
 */
tg_rpc_result tg_rpc_parse(const char *line, size_t len, bool lenient_numbers, tg_rpc_msg *m,
			       tg_rpc_error *err);
void tg_rpc_msg_free(tg_rpc_msg *m);
void tg_rpc_error_free(tg_rpc_error *err);

/* ---- idscan.c ----------------------------------------------------- */

/* What the top level of a line shows, read without trusting the line. */
typedef struct tg_rpc_scan_result {
	size_t id_off, id_len;	/* the (last) top-level "id" member's value */
	unsigned nid;		/* how many top-level "id" members were read */
	bool id_ok;		/* exactly one, a string or 64-bit integer every reader
				 * decodes alike (valid UTF-8, no U+0000, paired surrogates) */
	bool method, result, error;	/* top-level members read */
	bool complete;		/* the object ended, and the line with it */
} tg_rpc_scan_result;

/* Scans s[0..len): one JSON object's top-level members, as far as they can
 * be read (a line cut short, or malformed past some point, still shows the
 * members before). Never reads past len. */
void tg_rpc_scan(const char *s, size_t len, tg_rpc_scan_result *out);

/*
 * A response the forwarder can pass on with only its id changed, read
 * without a tree (a plain answer is most of a proxy's traffic, and
 * tg_rpc_parse's tree is most of its cost). tg_rpc_response_own_id: the
 * top level (*r) shows a response - one id, no method, exactly one of
 * result and error - whose id is an integer of the forwarder's (1 and up)
 * in *own. tg_rpc_response_ok: the line is one that tg_rpc_parse accepts as
 * that response and reads alike. Either false says nothing about the
 * line: tg_rpc_parse decides it.
 */
bool tg_rpc_response_own_id(const char *line, size_t len, tg_rpc_scan_result *r, int64_t *own);
bool tg_rpc_response_ok(const char *line, size_t len);

/* line with line[off..off+n) replaced by with[0..wlen), malloc'd and NUL
 * terminated, its length in *outlen; NULL when out of memory. */
char *tg_rpc_splice(const char *line, size_t len, size_t off, size_t n, const char *with,
		    size_t wlen, size_t *outlen);

/* ---- inflight.c ---------------------------------------------------- */

#define TG_RPC_MAX_IN_FLIGHT 4096u	/* requests in flight per direction */

/* What the answer to a forwarded request needs on its way back. */
typedef enum tg_mcp_reply {
	TG_MCP_REPLY_PLAIN,		/* passes unchanged but for its id */
	TG_MCP_REPLY_TOOLS_LIST,	/* list results: filtered */
	TG_MCP_REPLY_RESOURCES_LIST,
	TG_MCP_REPLY_PROMPTS_LIST,
	TG_MCP_REPLY_FETCH,		/* the forwarder's own tools/list: consumed */
	TG_MCP_REPLY_LISTEN,		/* subscriptions/listen: long-lived; its
					 * notifications name it by id */
	TG_MCP_REPLY_ROOTS		/* the client's roots for the server: filtered */
} tg_mcp_reply;

/* One request in flight. */
typedef struct tg_rpc_flight {
	int64_t own;		/* the id the receiver was given */
	char *key;		/* canonical text of the sender's id; NULL for our own */
	char *id;		/* the sender's id as written (JSON text); NULL for our own */
	size_t id_len;
	char *progress;		/* canonical text of params._meta.progressToken, or NULL */
	tg_mcp_reply reply;
	int64_t deadline_ms;	/* monotonic; 0: none */
} tg_rpc_flight;

typedef struct tg_rpc_flights {
	tg_rpc_flight *v;
	size_t n, cap;
} tg_rpc_flights;

/* The index of the flight with that key / own id / progress token, or -1. */
long tg_rpc_flights_by_key(const tg_rpc_flights *t, const char *key);
long tg_rpc_flights_by_own(const tg_rpc_flights *t, int64_t own);
long tg_rpc_flights_by_progress(const tg_rpc_flights *t, const char *token);
/* Adds a flight, copying the strings (key, id and progress may be NULL);
 * -1 when TG_RPC_MAX_IN_FLIGHT are in flight or out of memory. */
int tg_rpc_flights_add(tg_rpc_flights *t, int64_t own, const char *key, const char *id,
		       size_t id_len, const char *progress, tg_mcp_reply reply, int64_t deadline_ms);
/* Removes flight i (order is not kept). */
void tg_rpc_flights_remove(tg_rpc_flights *t, size_t i);
void tg_rpc_flights_free(tg_rpc_flights *t);

/* Canonical text of an id, malloc'd (NULL when out of memory). */
char *tg_rpc_id_key(const json_t *id);

/* True when the method is lifecycle (never authorized by policy):
 * initialize, ping, server/discover and every notifications/... */
bool tg_rpc_is_lifecycle(const char *method);

/* ---- tools.c ------------------------------------------------------- */

/* A tool's annotations with MCP's defaults applied to absent hints. */
typedef struct tg_mcp_hints {
	tg_hint read_only, destructive, idempotent, open_world;
} tg_mcp_hints;

typedef struct tg_mcp_tools {
	struct tg_tool_slot *slots;	/* open addressing, power of two */
	size_t nslots, count;
	/* The operator's (pins.c), borrowed, or NULL: */
	const json_t *pins;		/* NAME -> pinned digest */
	const json_t *overrides;	/* NAME -> annotations replacing the server's */
	/* With keep_digests: NAME -> the digest of the definition last listed
	 * (digests_changed says when it last grew or changed). */
	json_t *digests;
	bool keep_digests, digests_changed;
} tg_mcp_tools;

/* Reads readOnlyHint etc. from a tool entry's "annotations"; a hint that is
 * absent or not a boolean takes the MCP default. */
tg_mcp_hints tg_mcp_tools_hints_of(const json_t *tool);
/* Records a tool; returns 0 or -1 when out of memory (the cache is cleared
 * when it would pass TG_MCP_MAX_TOOLS). */
int tg_mcp_tools_put(tg_mcp_tools *c, const char *name, size_t len, const tg_mcp_hints *h);
/*
 * Records one entry of a tools/list result: its hints (the server's, with
 * the operator's overrides over them) into the cache and *out (may be
 * NULL), its digest when kept, and whether its definition still matches its
 * pin. Returns 1 when the tool may be judged, 0 when it is pinned and its
 * definition changed, -1 when it has no string name or memory ran out.
 */
int tg_mcp_tools_record(tg_mcp_tools *c, const json_t *tool, tg_mcp_hints *out);
/* The hints of a listed tool, or NULL. */
const tg_mcp_hints *tg_mcp_tools_get(const tg_mcp_tools *c, const char *name, size_t len);
/* What a listed tool's definition digests to now, when that is not its pin;
 * NULL when it matches, is not pinned, or was not listed. */
const char *tg_mcp_tools_changed(const tg_mcp_tools *c, const char *name, size_t len);
/* Forgets the listed tools (a list_changed); keeps pins, overrides and
 * digests. */
void tg_mcp_tools_clear(tg_mcp_tools *c);
/* Releases everything the cache owns. */
void tg_mcp_tools_dispose(tg_mcp_tools *c);

/* ---- pins.c -------------------------------------------------------- */

/* The pin of a tools/list entry: SHA-256, hex, of the canonical form of its
 * name, description, inputSchema and annotations. 0, or -1 when out of
 * memory. */
int tg_mcp_tool_digest(const json_t *tool, char hex[65]);
/* Reads a pins file {"tools":{"NAME":"<64 hex>",...}}: the "tools" object
 * (new reference), or NULL with a message in err. */
json_t *tg_mcp_pins_load(const char *path, char *err, size_t errlen);
/* The text of a pins file for digests, {"tools":digests} and a newline
 * (malloc'd), or NULL when out of memory. */
char *tg_mcp_pins_text(const json_t *digests);
/* Reads an annotations file {"tools":{"NAME":{"readOnlyHint":true,...}}}:
 * the "tools" object (new reference), or NULL with a message in err. */
json_t *tg_mcp_annotations_load(const char *path, char *err, size_t errlen);
/* Sets the hints the overrides give NAME; true when there are some. */
bool tg_mcp_override_hints(const json_t *overrides, const char *name, size_t len,
			   tg_mcp_hints *h);
/* Writes a tool's overrides into the annotations of its listing, so the
 * client sees what the policy judged. 0, or -1 when out of memory. */
int tg_mcp_override_listing(const json_t *overrides, json_t *tool);

/* ---- identity.c ---------------------------------------------------- */

/* Who is calling, as the request model's objects. */
typedef struct tg_mcp_identity {
	json_t *principal;	/* object, with a string "id" once complete */
	json_t *token;		/* object */
	json_t *context;	/* object; "time" is added per request unless set */
	json_t *server;		/* string or NULL: the request's `server` */
} tg_mcp_identity;

void tg_mcp_identity_init(tg_mcp_identity *id);
void tg_mcp_identity_clear(tg_mcp_identity *id);
/* Merges an --identity file: {"principal":{...},"token":{...},
 * "context":{...},"server":"..."}; keys merge over what is there. Returns 0,
 * or -1 with a message in err. */
int tg_mcp_identity_load_file(tg_mcp_identity *id, const char *path, char *err, size_t errlen);
/* Merges an identity given as JSON text (the same object as an identity
 * file), which must leave a string principal.id. Returns 0, or -1 with a
 * message in err. */
int tg_mcp_identity_merge_text(tg_mcp_identity *id, const char *text, size_t len, char *err,
			       size_t errlen);
/* One command-line option (name without "--") with its value, e.g.
 * ("role", "engineer"), ("attr", "principal.tenant=acme"). Returns 0, or -1
 * with a message in err. */
int tg_mcp_identity_option(tg_mcp_identity *id, const char *name, const char *value, char *err,
		       size_t errlen);
/* Types an option value: integers, true/false, otherwise a string. */
json_t *tg_mcp_identity_value(const char *text);

/* ---- adapter.c ----------------------------------------------------- */

/* What the proxy decided about one client request. */
typedef enum tg_mcp_verdict {
	TG_MCP_PASS,	/* lifecycle: forwarded without policy */
	TG_MCP_ALLOW,
	TG_MCP_DENY,
	TG_MCP_INVALID,	/* answer TG_RPC_INVALID_PARAMS */
	TG_MCP_NEED_TOOLS	/* tools/call of a tool not yet listed */
} tg_mcp_verdict;

typedef struct tg_mcp_authz {
	tg_mcp_verdict verdict;
	/* DENY and INVALID: why, for people and agents. DENY: the rule's
	 * `because` text, or what was denied ("no rule allows tools/call
	 * rm", "rule 'r' denies ..."); INVALID: "invalid request: ...". */
	char reason[512];
	char message[800];	/* DENY, INVALID: the answer's message, "toolgate: ..." */
	char rule[256];		/* DENY: the deciding rule id, "" for none */
	bool has_rule, has_reason;
	bool by_error;		/* DENY: the rule decided because its condition
				 * was an error (tg_decision_by_error) */
	const char *tool;	/* NEED_TOOLS: the tool name (borrowed from the message) */
	size_t tool_len;
	/* The decision's audit line could not be written (the stream failed,
	 * or memory ran out): never ALLOW then, an allow became a DENY with
	 * the reason "the audit log cannot be written". */
	bool unaudited;
} tg_mcp_authz;

/* How a denied tools/call is answered. */
typedef enum tg_mcp_deny_as {
	TG_MCP_DENY_AS_RESULT,	/* a tool result with isError: the model reads why */
	TG_MCP_DENY_AS_ERROR	/* a JSON-RPC error TG_RPC_DENIED */
} tg_mcp_deny_as;

/*
 * The toolgate request for an MCP request, as the JSON request model:
 * principal, token and context from the identity (context.time = now unless
 * the identity sets it), method and target by DESIGN's adapter rules,
 * `tool` from hints, `args` from params.arguments. NULL with a message in
 * err when the params cannot make one (missing name/uri, bad ref).
 * The returned tree holds references into the identity and the message.
 */
json_t *tg_mcp_request_json(const tg_mcp_identity *id, const char *method, const json_t *params,
			      const tg_mcp_hints *hints, int64_t now, char *err, size_t errlen);

struct tg_json_request;

/*
 * The same request read for policy p straight into *out (request_json.h),
 * without the tree: what every decision uses. Its strings are borrowed from
 * the identity and params, which must outlive *out. 0, or -1 with the
 * message in err (*out freed, as tg_json_request_from_json leaves it).
 */
int tg_mcp_request_build(const tg_policy *p, const tg_mcp_identity *id, const char *method,
			 const json_t *params, const tg_mcp_hints *hints, int64_t now,
			 struct tg_json_request *out, char *err, size_t errlen);

/*
 * Authorizes one client request against policy p (NULL: no policy loaded,
 * everything but lifecycle is denied). Writes one audit line to `audit`
 * (may be NULL) for every decision, lifecycle excluded; a decision whose
 * line cannot be written is not an allow (out->unaudited).
 */
void tg_mcp_decide(const tg_policy *p, const tg_mcp_identity *id, const tg_mcp_tools *tools,
		     const tg_rpc_msg *m, int64_t now, FILE *audit, tg_mcp_authz *out);

/*
 * Decides `method` with `params` on behalf of a message that implies it
 * (`implied_by` names that message for the audit line, as its "for"
 * member): a root the server would be given is a resources/read of it, a
 * resource subscription a resources/read of its URI. *out as for
 * tg_mcp_decide (never PASS or NEED_TOOLS).
 */
void tg_mcp_decide_implied(const tg_policy *p, const tg_mcp_identity *id, const char *method,
			   const json_t *params, const char *implied_by, int64_t now, FILE *audit,
			   tg_mcp_authz *out);

/*
 * 2026-07-28 multi round-trip requests: a retry carries the client's
 * answers to the server's input requests in params.inputResponses. Each
 * answer that is a ListRootsResult (an object with "roots") gets the check
 * a roots/list answer gets (tg_mcp_filter_roots, `pinned` included), in
 * place. Returns how many were checked (params changed when > 0), or -1
 * with a message in err when one cannot be checked: then the request must
 * not pass.
 */
long tg_mcp_input_roots(const tg_policy *p, const tg_mcp_identity *id, const json_t *pinned,
			json_t *params, int64_t now, FILE *audit, char *err, size_t errlen);

/*
 * The answer to a request the adapter refused (DENY or INVALID), without
 * jsonrpc and id: {"error":{"code":..,"message":..,"data":{"rule":ID|null,
 * "reason":TEXT}}}, or for a denied tools/call with TG_MCP_DENY_AS_RESULT
 * {"result":{"content":[{"type":"text","text":MESSAGE}],"isError":true,
 * "resultType":"complete","_meta":{"toolgate/denial":{"code":..,"rule":..,
 * "reason":..}}}}. Both the data and the denial add "by_error":true when
 * out->by_error. New reference, NULL when out of memory.
 */
json_t *tg_mcp_answer(const tg_mcp_authz *out, const char *method, tg_mcp_deny_as as);

/* A denial the adapter makes itself, outside the policy (a tool the server
 * does not list): *out says deny, no rule, `reason`; audited as such. */
void tg_mcp_deny(const tg_policy *p, const tg_mcp_identity *id, const tg_rpc_msg *m,
		 const char *reason, int64_t now, FILE *audit, tg_mcp_authz *out);

/* The target name a tools/call carries, or NULL. */
const char *tg_mcp_tool_name(const tg_rpc_msg *m, size_t *len);

/* The name or URI a request is about, when its params show one (for
 * completion/complete: its ref's), borrowed; or NULL. */
const char *tg_mcp_readable_target(const char *method, const json_t *params);

/* A message refused before any decision: bad framing, past a limit, an
 * answer to nothing asked, a request the forwarder cannot take. */
typedef struct tg_mcp_refusal {
	bool from_server;
	const char *kind;	/* a stable word: "duplicate_key", "oversized", ... */
	const char *reason;	/* for people */
	int code;		/* the error answered, 0 for none */
	const json_t *ids;	/* array of the ids answered, or NULL */
	const json_t *seen;	/* the message as far as it could be read, or NULL */
} tg_mcp_refusal;

/*
 * Audits a refusal as a line of the decision audit's family: an invalid
 * deny whose reason is "refused: REASON", method and target as far as they
 * could be read, and one more member:
 *   "refusal":{"kind":KIND,"from":"client"|"server","code":CODE|null,"ids":[...]}
 * False when the line could not be written.
 */
bool tg_mcp_audit_refusal(FILE *audit, const tg_policy *p, const tg_mcp_identity *id,
			  const tg_mcp_refusal *r, int64_t now);

/* ---- filter.c ------------------------------------------------------ */

/*
 * Filters a list response in place: result.tools (kind TG_ENTRY_TOOL; every
 * listed tool's hints also go to the cache), result.resources or
 * result.prompts, keeping the entries tg_visible allows for the identity.
 * Entries without a string name (uri) are dropped. Every other member,
 * nextCursor included, is kept. Returns how many entries were removed, or
 * -1 when the result has no such list (left unchanged).
 */
long tg_mcp_filter(const tg_policy *p, const tg_mcp_identity *id, tg_mcp_tools *tools,
		    tg_entry_kind kind, json_t *response, int64_t now);

/* Caches the annotations of every tool in a tools/list response without
 * filtering it (the proxy's own fetch). Returns the number of entries, or
 * -1 when the response has no result.tools list. */
long tg_mcp_tools_learn(tg_mcp_tools *tools, const json_t *response);

/* ---- roots.c ------------------------------------------------------- */

/*
 * Filters a ListRootsResult ({"roots":[...]}) in place, keeping the roots
 * the identity may read: each decided (and audited, "for":"roots/list") as
 * a resources/read of its URI in directory form, with one trailing '/'.
 * With `pinned` (an array of roots, or NULL) the result's roots are
 * replaced by those first. Returns how many were removed, or -1 when there
 * is no roots array (or out of memory): then nothing of it may pass.
 */
long tg_mcp_filter_roots(const tg_policy *p, const tg_mcp_identity *id, const json_t *pinned,
			 json_t *result, int64_t now, FILE *audit);

/*
 * The roots a client's message gives a server, checked in place: those of
 * an answer whose result has "roots" (tg_mcp_filter_roots; its shape
 * decides, the answered request is not looked up) or inside a request's
 * params.inputResponses (tg_mcp_input_roots). Returns 1 when the message
 * gives roots, *changed then set when it was rewritten (an answer lost
 * roots, or a retry had answers with roots); 0 when it gives none; -1 with
 * a message in err when they cannot be checked: then none may pass.
 */
int tg_mcp_message_roots(const tg_policy *p, const tg_mcp_identity *id, json_t *msg, int64_t now,
			 FILE *audit, bool *changed, char *err, size_t errlen);

/* [{"uri":URI},...] for n URIs; NULL when out of memory or one is not
 * UTF-8. */
json_t *tg_mcp_roots_from_uris(char *const *uris, size_t n);

/* ---- explain.c ----------------------------------------------------- */

/*
 * Evaluates req with tg_eval_trace, filling *d and *status exactly as
 * tg_eval would, and returns a malloc'd text describing the evaluation: one
 * line per candidate rule (whether its subject and action matched, what its
 * condition gave, whether it applied), then the outcome. Every line starts
 * with two spaces and ends with a newline. NULL when out of memory (*d and
 * *status are still filled).
 */
char *tg_mcp_explain(const tg_policy *p, const tg_request *req, tg_decision *d,
		     tg_status *status);

#endif
