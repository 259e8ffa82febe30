/*
 * mcp.h - libtoolgate-mcp: the MCP adapter that toolgate's own transports
 * (the stdio proxy, the HTTP gateway, the test runner, `toolgate eval`) and
 * the language bindings share, so that a request means the same thing
 * wherever it is decided.
 *
 *   - JSON requests in DESIGN's request model, read with its typing and
 *     validity rules (duplicate keys, UTF-8, limits): tg_mcp_request_parse,
 *     or tg_eval_json for text to decision in one call;
 *   - MCP JSON-RPC messages plus an identity to requests, for every method
 *     (docs/proxy.md's table): tg_mcp_request_from_message;
 *   - list results filtered to what the requester may see:
 *     tg_mcp_filter_list;
 *   - decisions as JSON: tg_decision_json.
 *
 * Ownership: functions that allocate say so and name the function that
 * frees; everything else is borrowed for the call. Thread safety: requests,
 * identities and strings may be used from any thread; a tg_mcp_tools may be
 * read by many threads at once, but writing it (tg_mcp_filter_list of a
 * tools/list, tg_mcp_tools_reset) needs exclusive access: no reader or
 * other writer at the same time.
 */
#ifndef TOOLGATE_MCP_H
#define TOOLGATE_MCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toolgate/toolgate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits of the JSON request reader (docs/limits.md); strings and lists use
 * TG_MAX_STRING_BYTES and TG_MAX_LIST_ITEMS. */
#define TG_JSON_MAX_BODY  (1024u * 1024)	/* request text, bytes */
#define TG_JSON_MAX_DEPTH TG_MAX_DEPTH		/* nested objects and arrays */

/* ---- requests ------------------------------------------------------------ */

/* A request and the memory its tg_request borrows from. */
typedef struct tg_mcp_request tg_mcp_request;

/*
 * Reads one JSON request of DESIGN's request model (text need not be
 * NUL-terminated) for policy p's attribute slots (p may be NULL: no slots).
 * Returns TG_OK with *out set; TG_EINVALID_REQUEST with a message starting
 * "invalid request: " in why[0..whylen) (why may be NULL); TG_EINVAL,
 * TG_ENOMEM. Free *out with tg_mcp_request_free. The request holds no
 * reference to p, but its slots are p's: evaluate it with p.
 */
TG_API tg_status tg_mcp_request_parse(const tg_policy *p, const char *text, size_t len,
				      tg_mcp_request **out, char *why, size_t whylen);

/* The request, borrowed from r: valid until tg_mcp_request_free(r). */
TG_API const tg_request *tg_mcp_request_get(const tg_mcp_request *r);

/* NULL is ignored. */
TG_API void tg_mcp_request_free(tg_mcp_request *r);

/*
 * JSON text to decision in one call: tg_mcp_request_parse, tg_eval, free.
 * d is always written (a deny on every error): for a request that cannot
 * be read, the deny of an invalid request with the reader's message as its
 * reason. Returns what tg_eval returns, or TG_EINVALID_REQUEST, TG_EINVAL,
 * TG_ENOMEM.
 */
TG_API tg_status tg_eval_json(const tg_policy *p, const char *text, size_t len, tg_decision *d);

/*
 * The decision as `toolgate eval` prints it, one compact JSON object
 * without a newline:
 *   {"decision":"allow"|"deny","rule":ID|null,"reason":TEXT|null,
 *    "errors":[{"rule":ID,"message":TEXT},...]}   (+ "invalid":true)
 * Like snprintf: writes at most len bytes including the NUL (when len > 0)
 * and returns the length of the whole text, excluding the NUL.
 */
TG_API size_t tg_decision_json(const tg_decision *d, char *buf, size_t len);

/* ---- MCP messages -------------------------------------------------------- */

/*
 * Who is calling: the request model's principal, token and context
 * objects, and the upstream server's name, from a transport's
 * authentication step.
 */
typedef struct tg_mcp_identity tg_mcp_identity;

/*
 * Reads an identity: {"principal":{"id":"alice","roles":[...],...},
 * "token":{...},"context":{...},"server":"db"}; every member but
 * principal.id is optional. Returns TG_OK with *out (free with
 * tg_mcp_identity_free); TG_EINVALID_REQUEST with a message in why when the
 * text is not such an object; TG_EINVAL, TG_ENOMEM.
 */
TG_API tg_status tg_mcp_identity_parse(const char *json, size_t len, tg_mcp_identity **out,
				       char *why, size_t whylen);
TG_API void tg_mcp_identity_free(tg_mcp_identity *id);

/*
 * Tool annotations (readOnlyHint, destructiveHint, ...) as the server
 * listed them: tg_mcp_filter_list of a tools/list result records them, and
 * tg_mcp_request_from_message gives a tools/call its tool's annotations. A
 * tool never listed gets MCP's defaults (read_only false, destructive true,
 * idempotent false, open_world true).
 */
typedef struct tg_mcp_tools tg_mcp_tools;

TG_API tg_status tg_mcp_tools_create(tg_mcp_tools **out);
TG_API void tg_mcp_tools_free(tg_mcp_tools *t);
/* Forgets every tool, as a server's notifications/tools/list_changed
 * asks: calls then get MCP's defaults until the next tools/list. */
TG_API void tg_mcp_tools_reset(tg_mcp_tools *t);

/*
 * The request a client's MCP message asks the policy about, by DESIGN's
 * adapter rules: principal, token and context from the identity
 * (context.time = now, UTC seconds, unless the identity sets it), server
 * from the identity, and for
 *   tools/call           target params.name, args params.arguments, tool
 *                        the tool's annotations (tools may be NULL);
 *   resources/read, resources/subscribe, resources/unsubscribe
 *                        target params.uri;
 *   prompts/get          target params.name, args params.arguments;
 *   completion/complete  the prompts/get or resources/read of params.ref;
 *   anything else        the method alone.
 * The message must be one JSON-RPC 2.0 request (no batch, no duplicate
 * keys, valid UTF-8).
 *
 * Returns TG_OK with *out to evaluate (free with tg_mcp_request_free); TG_OK
 * with *out NULL for lifecycle messages the policy does not decide
 * (initialize, ping, notifications/...); TG_EINVALID_REQUEST with why when
 * the message or its params cannot make a request (deny it); TG_EINVAL,
 * TG_ENOMEM.
 */
TG_API tg_status tg_mcp_request_from_message(const tg_policy *p, const tg_mcp_identity *id,
					     const tg_mcp_tools *tools, const char *message,
					     size_t len, int64_t now, tg_mcp_request **out,
					     char *why, size_t whylen);

/*
 * Filters the JSON-RPC response to a `method` request ("tools/list",
 * "resources/list" or "prompts/list") to the entries the identity may see
 * (DESIGN "Visibility"); every other member, nextCursor included, is kept,
 * and entries that cannot be judged are dropped. A tools/list also records
 * its tools' annotations in `tools` (may be NULL). Returns TG_OK with a new
 * NUL-terminated JSON text in *out (its length in *out_len, may be NULL;
 * free with tg_mcp_free) and the number of entries removed in *removed
 * (may be NULL); TG_EINVALID_REQUEST when the response is not JSON or has
 * no such list; TG_EINVAL for NULL arguments or another method; TG_ENOMEM.
 */
TG_API tg_status tg_mcp_filter_list(const tg_policy *p, const tg_mcp_identity *id,
				    tg_mcp_tools *tools, const char *method, const char *response,
				    size_t len, int64_t now, char **out, size_t *out_len,
				    size_t *removed);

/*
 * The roots a client's message gives a server, as the identity may have
 * them (docs/proxy.md, "roots"): those of an answer whose result has
 * "roots" (to the server's roots/list) and those inside a request's
 * params.inputResponses (a 2026-07-28 retry). A root stays only when the
 * identity may read everything under it: each is decided as a
 * resources/read of its URI in directory form (one trailing '/'). Returns
 * TG_OK with *out a new NUL-terminated JSON text of the message holding only
 * those roots (its length in *out_len, may be NULL; free with tg_mcp_free),
 * or *out NULL when the message gives no roots (pass it on as it is);
 * TG_EINVALID_REQUEST when the message is not a JSON object or its roots
 * are not a list of roots (pass none of them on); TG_EINVAL for NULL
 * arguments; TG_ENOMEM.
 */
TG_API tg_status tg_mcp_check_roots(const tg_policy *p, const tg_mcp_identity *id,
				    const char *message, size_t len, int64_t now, char **out,
				    size_t *out_len);

/* Frees what this library allocated for the caller (the texts of
 * tg_mcp_filter_list and tg_mcp_check_roots). NULL is ignored. */
TG_API void tg_mcp_free(void *p);

#ifdef __cplusplus
}
#endif

#endif
