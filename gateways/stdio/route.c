/*
 * route.c - requests in flight both ways, under ids the proxy chose.
 *
 * Every request the proxy passes on, the client's to the server and the
 * server's to the client, leaves with an id of the proxy's own: the next
 * value of one counter, a small integer that any reader, one that reads
 * ids as doubles included, reads exactly. The sender's id is kept beside
 * it (mcp/inflight.c) and put back, as the sender wrote it, on the answer.
 * So the proxy never depends on how a peer reads ids: two client ids that
 * a server would read as the same double (2^53 and 2^53 + 1) still reach
 * it as two ids, and an answer can only be routed to the request it
 * answers, with the handling that request's answer needs (a list result
 * filtered, the proxy's own listing consumed). The rest of each message
 * passes byte for byte; only the id's bytes change.
 *
 * What names a request in flight is translated too: notifications/cancelled
 * (whose requestId the cancelling side wrote in its own ids), and the
 * subscriptionId a 2026-07-28 server puts on the notifications of a
 * subscriptions/listen stream (the listen request's id, so the proxy's).
 * A cancellation retires the request: its late answer is dropped, and it no
 * longer counts against the limit of requests in flight. Progress tokens
 * are not ids: the requester chooses them inside the request, which passes
 * unchanged, so they come back as it wrote them; a progress notification
 * only resets its request's timeout.
 *
 * A request unanswered for the request timeout is answered by the proxy
 * with TG_RPC_TIMEOUT and cancelled towards the side that did not answer.
 * subscriptions/listen is a stream that stays open by design: no timeout.
 */
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "proxy.h"

#define SUBSCRIPTION_ID "io.modelcontextprotocol/subscriptionId"

static tg_mcp_reply reply_of(const char *method)
{
	if (strcmp(method, "tools/list") == 0)
		return TG_MCP_REPLY_TOOLS_LIST;
	if (strcmp(method, "resources/list") == 0)
		return TG_MCP_REPLY_RESOURCES_LIST;
	if (strcmp(method, "prompts/list") == 0)
		return TG_MCP_REPLY_PROMPTS_LIST;
	if (strcmp(method, "subscriptions/listen") == 0)
		return TG_MCP_REPLY_LISTEN;
	return TG_MCP_REPLY_PLAIN;
}

static int64_t deadline(const tg_proxy *px, tg_mcp_reply reply)
{
	if (px->request_timeout_ms <= 0 || reply == TG_MCP_REPLY_LISTEN)
		return 0;
	return tg_px_now_ms(px) + px->request_timeout_ms;
}

/* The canonical text of a request's params._meta.progressToken, or NULL. */
static char *progress_of(const json_t *root)
{
	json_t *meta = json_object_get(json_object_get(root, "params"), "_meta");
	json_t *token = json_is_object(meta) ? json_object_get(meta, "progressToken") : NULL;

	return json_is_string(token) || json_is_integer(token) ? tg_rpc_id_key(token) : NULL;
}

/* Queues line with its id's bytes, line[off..off+n), replaced by id. */
static void emit_with_id(tg_px_buf *b, const char *line, size_t len, size_t off, size_t n,
			 const char *id, size_t idlen)
{
	size_t outlen;
	char *s = tg_rpc_splice(line, len, off, n, id, idlen, &outlen);

	if (!s) {
		tg_drv_error("proxy: out of memory forwarding a message");
		return;
	}
	tg_px_emit(b, s, outlen);
	free(s);
}

/* Queues a message rewritten as a tree (a filtered list), under id. */
static void emit_tree_with_id(tg_px_buf *b, const json_t *root, const char *id, size_t idlen)
{
	char *s = json_dumps(root, JSON_COMPACT);
	tg_rpc_scan_result r;

	if (!s) {
		tg_drv_error("proxy: out of memory forwarding a message");
		return;
	}
	tg_rpc_scan(s, strlen(s), &r);
	if (r.nid == 1)
		emit_with_id(b, s, strlen(s), r.id_off, r.id_len, id, idlen);
	else
		tg_drv_error("proxy: a rewritten message lost its id");
	free(s);
}

static void emit_own(tg_px_buf *b, const tg_rpc_msg *m, const char *line, size_t len, int64_t own)
{
	char text[24];

	snprintf(text, sizeof text, "%lld", (long long)own);
	emit_with_id(b, line, len, m->id_off, m->id_len, text, strlen(text));
}

/* The id a flight's sender wrote, as a tree. */
static json_t *sender_id(const tg_rpc_flight *f)
{
	return json_loadb(f->id, f->id_len, JSON_DECODE_ANY, NULL);
}

void tg_px_forward_request(tg_proxy *px, const tg_rpc_msg *m, const char *line, size_t len)
{
	tg_mcp_reply reply = reply_of(m->method);
	char *progress = progress_of(m->root);
	int64_t own = px->next_id;

	if (tg_rpc_flights_add(&px->at_server, own, m->idkey, line + m->id_off, m->id_len,
			       progress, reply, deadline(px, reply)) != 0) {
		tg_px_answer_error(&px->to_client, line + m->id_off, m->id_len, TG_RPC_BUSY,
				   "toolgate: too many requests in flight", NULL);
	} else {
		px->next_id++;
		emit_own(&px->to_server, m, line, len, own);
	}
	free(progress);
}

/* Roots as the identity may have them (mcp/roots.c): from the client's
 * answer, or the operator's pinned list. The count removed, or -1 when
 * the answer holds no roots to check. */
static long filter_roots(tg_proxy *px, json_t *result)
{
	const tg_policy *p = tg_holder_acquire(px->holder);
	long removed = tg_mcp_filter_roots(p, px->identity, px->roots, result, tg_px_now_s(px),
					   px->audit);

	tg_holder_release(px->holder, p);
	if (removed > 0)
		px->stats.filtered += (unsigned long)removed;
	return removed;
}

/* With roots pinned, roots/list never reaches the client: the proxy
 * answers it. */
static void answer_pinned_roots(tg_proxy *px, const tg_rpc_msg *m, const char *line)
{
	json_t *result = json_object();

	if (!result || filter_roots(px, result) < 0) {
		json_decref(result);
		tg_px_answer_error(&px->to_server, line + m->id_off, m->id_len, TG_RPC_UNAVAILABLE,
				   "toolgate: out of memory", NULL);
		return;
	}
	tg_px_answer(&px->to_server, line + m->id_off, m->id_len,
		     json_pack("{s:o}", "result", result));
}

void tg_px_forward_tree(tg_proxy *px, const tg_rpc_msg *m, const char *line)
{
	char *s = json_dumps(m->root, JSON_COMPACT), *with_id = NULL;
	tg_rpc_scan_result r;
	tg_rpc_msg copy = *m;
	size_t n = 0;

	if (s)
		tg_rpc_scan(s, strlen(s), &r);
	/* The client's id as it wrote it, for the answer's sake. */
	if (s && r.nid == 1)
		with_id = tg_rpc_splice(s, strlen(s), r.id_off, r.id_len, line + m->id_off,
					m->id_len, &n);
	if (!with_id) {
		tg_px_answer_error(&px->to_client, line + m->id_off, m->id_len, TG_RPC_UNAVAILABLE,
				   "toolgate: out of memory", NULL);
	} else {
		copy.id_off = r.id_off;
		tg_px_forward_request(px, &copy, with_id, n);
	}
	free(s);
	free(with_id);
}

void tg_px_server_request(tg_proxy *px, const tg_rpc_msg *m, const char *line, size_t len)
{
	bool roots = strcmp(m->method, "roots/list") == 0;
	tg_mcp_reply reply = roots ? TG_MCP_REPLY_ROOTS : TG_MCP_REPLY_PLAIN;
	int64_t own = px->next_id;

	if (roots && px->roots) {
		answer_pinned_roots(px, m, line);
		return;
	}
	if (tg_rpc_flights_by_key(&px->at_client, m->idkey) >= 0 ||
	    tg_rpc_flights_add(&px->at_client, own, m->idkey, line + m->id_off, m->id_len, NULL,
			       reply, deadline(px, reply)) != 0) {
		tg_px_refuse_msg(px, true, "busy", "request id in use or too many in flight",
				 TG_RPC_BUSY, m);
		return;
	}
	px->next_id++;
	emit_own(&px->to_client, m, line, len, own);
}

/* The flight an answer is for: its id must be one of ours, in flight. An
 * id the proxy issued and retired (answered, cancelled, timed out) is a
 * late answer, dropped; any other id was never asked: a refusal. */
static long answered(tg_proxy *px, const tg_rpc_flights *t, const tg_rpc_msg *m,
		     bool from_server)
{
	int64_t own = json_is_integer(m->id) ? (int64_t)json_integer_value(m->id) : 0;
	long k = own > 0 ? tg_rpc_flights_by_own(t, own) : -1;

	if (k < 0 && own > 0 && own < px->next_id) {
		tg_drv_error("proxy: dropped a late %s answer to id %lld",
			     from_server ? "server" : "client", (long long)own);
	} else if (k < 0) {
		tg_mcp_refusal r = {from_server, "unknown_id", "an answer to an id never asked", 0,
				    NULL, m->root};

		tg_px_refuse(px, &r);
	}
	return k;
}

void tg_px_client_response(tg_proxy *px, const tg_rpc_msg *m, const char *line, size_t len)
{
	long k = answered(px, &px->at_client, m, false);
	tg_rpc_flight *f;

	if (k < 0)
		return;
	f = &px->at_client.v[k];
	if (f->reply == TG_MCP_REPLY_ROOTS && json_object_get(m->root, "result")) {
		if (filter_roots(px, json_object_get(m->root, "result")) < 0)
			tg_px_answer_error(&px->to_server, f->id, f->id_len, TG_RPC_UNAVAILABLE,
					   "toolgate: the client's roots could not be checked", NULL);
		else
			emit_tree_with_id(&px->to_server, m->root, f->id, f->id_len);
	} else {
		emit_with_id(&px->to_server, line, len, m->id_off, m->id_len, f->id, f->id_len);
	}
	tg_rpc_flights_remove(&px->at_client, (size_t)k);
}

static tg_entry_kind entry_kind_of(tg_mcp_reply reply)
{
	return reply == TG_MCP_REPLY_RESOURCES_LIST ? TG_ENTRY_RESOURCE
	       : reply == TG_MCP_REPLY_PROMPTS_LIST ? TG_ENTRY_PROMPT
						    : TG_ENTRY_TOOL;
}

/* A list result as the identity may see it, under the client's id. */
static void list_response(tg_proxy *px, tg_rpc_msg *m, const char *line, size_t len,
			  const tg_rpc_flight *f)
{
	const tg_policy *p;
	double t0 = 0;
	long removed;

	if (!json_object_get(m->root, "result")) {
		emit_with_id(&px->to_client, line, len, m->id_off, m->id_len, f->id, f->id_len);
		return;
	}
	if (m->lossy) {
		/* Numbers jansson cannot hold: the list cannot be filtered
		 * and rewritten faithfully, so it is not passed. */
		tg_px_answer_error(&px->to_client, f->id, f->id_len, TG_RPC_UNAVAILABLE,
				   "toolgate: the server's list result could not be read", NULL);
		return;
	}
	p = tg_holder_acquire(px->holder);
	if (px->measure)
		t0 = tg_px_cpu_seconds();
	removed = tg_mcp_filter(p, px->identity, &px->tools, entry_kind_of(f->reply), m->root,
				tg_px_now_s(px));
	if (px->measure)
		px->stats.decide_cpu += tg_px_cpu_seconds() - t0;
	tg_holder_release(px->holder, p);
	if (removed < 0) {
		emit_with_id(&px->to_client, line, len, m->id_off, m->id_len, f->id, f->id_len);
		return;
	}
	px->stats.filtered += (unsigned long)removed;
	emit_tree_with_id(&px->to_client, m->root, f->id, f->id_len);
	if (f->reply == TG_MCP_REPLY_TOOLS_LIST)
		tg_px_listed(px);
}

/* The value at meta[SUBSCRIPTION_ID], when it names a listen in flight,
 * becomes the client's id; true when something was replaced. */
static bool translate_subscription(tg_proxy *px, json_t *meta, const tg_rpc_flight *f)
{
	json_t *v = json_is_object(meta) ? json_object_get(meta, SUBSCRIPTION_ID) : NULL;
	json_t *id;

	if (!json_is_integer(v) || json_integer_value(v) != f->own)
		return false;
	id = sender_id(f);
	return id && json_object_set_new(meta, SUBSCRIPTION_ID, id) == 0;
}

void tg_px_server_response(tg_proxy *px, tg_rpc_msg *m, const char *line, size_t len)
{
	long k = answered(px, &px->at_server, m, true);
	tg_rpc_flight f;

	if (k < 0)
		return;
	/* Taken out first: what follows may add flights (a refetch). */
	f = px->at_server.v[k];
	px->at_server.v[k].key = px->at_server.v[k].id = px->at_server.v[k].progress = NULL;
	tg_rpc_flights_remove(&px->at_server, (size_t)k);
	switch (f.reply) {
	case TG_MCP_REPLY_FETCH:
		tg_px_fetch_response(px, m);
		break;
	case TG_MCP_REPLY_TOOLS_LIST:
	case TG_MCP_REPLY_RESOURCES_LIST:
	case TG_MCP_REPLY_PROMPTS_LIST:
		list_response(px, m, line, len, &f);
		break;
	case TG_MCP_REPLY_LISTEN:
		if (!m->lossy &&
		    translate_subscription(px, json_object_get(json_object_get(m->root, "result"),
							       "_meta"), &f)) {
			emit_tree_with_id(&px->to_client, m->root, f.id, f.id_len);
			break;
		}
		/* fall through */
	case TG_MCP_REPLY_PLAIN:
	case TG_MCP_REPLY_ROOTS:
		emit_with_id(&px->to_client, line, len, m->id_off, m->id_len, f.id, f.id_len);
		break;
	}
	free(f.key);
	free(f.id);
	free(f.progress);
}

bool tg_px_server_plain_answer(tg_proxy *px, const char *line, size_t len)
{
	tg_rpc_scan_result r;
	tg_rpc_flight f;
	int64_t own;
	long k;

	if (!tg_rpc_response_own_id(line, len, &r, &own))
		return false;
	k = tg_rpc_flights_by_own(&px->at_server, own);
	if (k < 0 || px->at_server.v[k].reply != TG_MCP_REPLY_PLAIN ||
	    !tg_rpc_response_ok(line, len))
		return false;
	/* What tg_px_server_response does for a plain answer. */
	f = px->at_server.v[k];
	px->at_server.v[k].key = px->at_server.v[k].id = px->at_server.v[k].progress = NULL;
	tg_rpc_flights_remove(&px->at_server, (size_t)k);
	emit_with_id(&px->to_client, line, len, r.id_off, r.id_len, f.id, f.id_len);
	free(f.key);
	free(f.id);
	free(f.progress);
	return true;
}

/* params.requestId of a cancellation, canonical, or NULL. */
static char *cancelled_key(const json_t *params)
{
	json_t *rid = json_is_object(params) ? json_object_get(params, "requestId") : NULL;

	return json_is_string(rid) || json_is_integer(rid) ? tg_rpc_id_key(rid) : NULL;
}

bool tg_px_client_notification(tg_proxy *px, tg_rpc_msg *m)
{
	json_t *params = json_object_get(m->root, "params");
	char *key;
	long k;

	if (strcmp(m->method, "notifications/cancelled") != 0)
		return false;
	key = cancelled_key(params);
	k = key ? tg_rpc_flights_by_key(&px->at_server, key) : -1;
	if (k < 0) {
		/* Passed on as written it could name another request. */
		tg_drv_error("proxy: dropped a cancellation of %s, not in flight",
			     key ? key : "no request id");
	} else {
		json_object_set_new(params, "requestId", json_integer(px->at_server.v[k].own));
		tg_px_emit_json(&px->to_server, m->root);
		tg_rpc_flights_remove(&px->at_server, (size_t)k);
		px->stats.cancelled++;
	}
	free(key);
	return true;
}

/* A server's cancellation: of its own request to the client (2025), or,
 * on stdio in 2026-07-28, the end of a subscriptions/listen stream. */
static void server_cancelled(tg_proxy *px, tg_rpc_msg *m, json_t *params)
{
	char *key = cancelled_key(params);
	json_t *rid = json_object_get(params, "requestId");
	long k = key ? tg_rpc_flights_by_key(&px->at_client, key) : -1;

	if (k >= 0) {
		json_object_set_new(params, "requestId", json_integer(px->at_client.v[k].own));
		tg_px_emit_json(&px->to_client, m->root);
		tg_rpc_flights_remove(&px->at_client, (size_t)k);
	} else if (json_is_integer(rid) &&
		   (k = tg_rpc_flights_by_own(&px->at_server, json_integer_value(rid))) >= 0 &&
		   px->at_server.v[k].reply == TG_MCP_REPLY_LISTEN) {
		json_t *id = sender_id(&px->at_server.v[k]);

		if (id && json_object_set_new(params, "requestId", id) == 0)
			tg_px_emit_json(&px->to_client, m->root);
		tg_rpc_flights_remove(&px->at_server, (size_t)k);
	} else {
		tg_drv_error("proxy: dropped a server cancellation of %s, not in flight",
			     key ? key : "no request id");
	}
	free(key);
}

bool tg_px_server_notification(tg_proxy *px, tg_rpc_msg *m)
{
	json_t *params = json_object_get(m->root, "params");
	json_t *meta = json_is_object(params) ? json_object_get(params, "_meta") : NULL;
	json_t *sub = json_is_object(meta) ? json_object_get(meta, SUBSCRIPTION_ID) : NULL;
	long k;

	if (strcmp(m->method, "notifications/cancelled") == 0) {
		server_cancelled(px, m, params);
		return true;
	}
	if (strcmp(m->method, "notifications/progress") == 0 && json_is_object(params)) {
		json_t *token = json_object_get(params, "progressToken");
		char *key = json_is_string(token) || json_is_integer(token) ? tg_rpc_id_key(token)
									     : NULL;

		k = key ? tg_rpc_flights_by_progress(&px->at_server, key) : -1;
		if (k >= 0 && px->at_server.v[k].deadline_ms)
			px->at_server.v[k].deadline_ms = deadline(px, px->at_server.v[k].reply);
		free(key);
	}
	if (!sub)
		return false;
	k = json_is_integer(sub) ? tg_rpc_flights_by_own(&px->at_server, json_integer_value(sub))
				 : -1;
	if (k < 0 && json_is_integer(sub) && json_integer_value(sub) > 0 &&
	    json_integer_value(sub) < px->next_id) {
		/* A stream that just ended (cancelled, closed): late, not forged. */
		tg_drv_error("proxy: dropped a late '%.64s' of a closed subscription", m->method);
		return true;
	}
	if (k < 0 || px->at_server.v[k].reply != TG_MCP_REPLY_LISTEN || m->lossy) {
		/* A stream the client never opened: passed on, the proxy's id
		 * could name one of the client's own requests. */
		tg_mcp_refusal r = {true, "unknown_subscription",
				    "a notification for no subscription in flight", 0, NULL, m->root};

		tg_px_refuse(px, &r);
		return true;
	}
	if (translate_subscription(px, meta, &px->at_server.v[k]))
		tg_px_emit_json(&px->to_client, m->root);
	return true;
}

void tg_px_unreadable_answer(tg_proxy *px, bool from_server, const char *line, size_t len,
			     const char *why)
{
	tg_rpc_flights *t = from_server ? &px->at_server : &px->at_client;
	tg_rpc_scan_result r;
	char text[256];
	long long own;
	long k;

	tg_rpc_scan(line, len, &r);
	if (!r.id_ok || r.method || !(r.result || r.error) || line[r.id_off] == '"')
		return;
	own = strtoll(line + r.id_off, NULL, 10);
	k = tg_rpc_flights_by_own(t, own);
	if (k < 0)
		return;
	if (t->v[k].reply == TG_MCP_REPLY_FETCH) {
		tg_px_fetch_finish(px, "the server's tools/list could not be read");
		return;
	}
	snprintf(text, sizeof text, "toolgate: the %s's answer could not be read: %s",
		 from_server ? "server" : "client", why);
	tg_px_answer_error(from_server ? &px->to_client : &px->to_server, t->v[k].id,
			   t->v[k].id_len, TG_RPC_UNAVAILABLE, text, NULL);
	tg_rpc_flights_remove(t, (size_t)k);
}

/* {"jsonrpc":"2.0","method":"notifications/cancelled","params":{...}} */
static void cancel(tg_px_buf *b, int64_t own, const char *reason)
{
	json_t *n = json_pack("{s:s,s:s,s:{s:I,s:s}}", "jsonrpc", "2.0", "method",
			      "notifications/cancelled", "params", "requestId", (json_int_t)own,
			      "reason", reason);

	tg_px_emit_json(b, n);
	json_decref(n);
}

/* Requests of one side past their deadline: the requester gets the error,
 * the side that did not answer a cancellation. */
static void expire_side(tg_proxy *px, tg_rpc_flights *t, bool at_server, int64_t now_ms,
			const char *text)
{
	tg_px_buf *requester = at_server ? &px->to_client : &px->to_server;
	tg_px_buf *answerer = at_server ? &px->to_server : &px->to_client;
	size_t i;

	for (i = t->n; i-- > 0;) {
		tg_rpc_flight *f = &t->v[i];

		if (!f->deadline_ms || now_ms < f->deadline_ms || f->reply == TG_MCP_REPLY_FETCH)
			continue;
		tg_drv_error("proxy: the %s did not answer request %.64s in time",
			     at_server ? "server" : "client", f->id);
		tg_px_answer_error(requester, f->id, f->id_len, TG_RPC_TIMEOUT, text, NULL);
		cancel(answerer, f->own, text + 10);
		tg_rpc_flights_remove(t, i);
		px->stats.timed_out++;
	}
}

void tg_px_expire(tg_proxy *px, int64_t now_ms)
{
	char text[128];

	snprintf(text, sizeof text, "toolgate: no answer within %lld ms",
		 (long long)px->request_timeout_ms);
	expire_side(px, &px->at_server, true, now_ms, text);
	expire_side(px, &px->at_client, false, now_ms, text);
}
