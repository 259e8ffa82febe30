/*
 * core.c - the proxy as a state machine over lines.
 *
 * Client -> server: each line is checked (mcp/jsonrpc.c); a request is
 * authorized (mcp/adapter.c) and either forwarded byte for byte, with its id
 * remembered, or answered by the proxy and never forwarded. Notifications
 * under notifications/ pass; responses pass only for an id the server
 * actually asked (a request of the server's in flight).
 *
 * Server -> client: a response is routed by the remembered id; list results
 * are filtered (mcp/filter.c) and re-serialized, everything else is
 * forwarded unchanged. A response with an unknown id is dropped. Requests
 * of the server (sampling, elicitation, roots) pass to the client: they are
 * out of the policy's scope, but their ids are remembered so only answers
 * to them flow back.
 *
 * A tools/call for a tool the proxy has not seen listed cannot be judged:
 * its annotations are unknown and the proxy never guesses them. The call is
 * held, reading from the client pauses (so later messages keep their order),
 * and the proxy asks the server for tools/list under an id of its own,
 * walking nextCursor until the tool shows up. Then the call is decided with
 * the listed annotations, or refused if the tool is not listed, the listing
 * fails or takes longer than TG_PROXY_FETCH_TIMEOUT_MS.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver.h"
#include "proxy.h"

int64_t tg_proxy_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_s(const tg_proxy *px)
{
	return px->fixed_time > 0 ? px->fixed_time : (int64_t)time(NULL);
}

void tg_proxy_init(tg_proxy *px, tg_holder *holder, const tg_mcp_identity *id, FILE *audit)
{
	memset(px, 0, sizeof *px);
	px->holder = holder;
	px->identity = id;
	px->audit = audit;
}

void tg_proxy_free(tg_proxy *px)
{
	tg_px_buf_free(&px->to_server);
	tg_px_buf_free(&px->to_client);
	tg_px_buf_free(&px->backlog);
	tg_px_idtab_free(&px->client_pending);
	tg_px_idtab_free(&px->server_pending);
	tg_mcp_tools_clear(&px->tools);
	tg_rpc_msg_free(&px->held);
	free(px->held_line);
	free(px->fetch_key);
	memset(px, 0, sizeof *px);
}

/* ---- output ------------------------------------------------------------- */

static void emit(tg_px_buf *b, const char *s, size_t n)
{
	if (tg_px_buf_add(b, s, n) != 0 || tg_px_buf_add(b, "\n", 1) != 0)
		tg_drv_error("proxy: out of memory queueing a message");
}

static void emit_json(tg_px_buf *b, const json_t *msg)
{
	char *s = msg ? json_dumps(msg, JSON_COMPACT) : NULL;

	if (!s) {
		tg_drv_error("proxy: out of memory writing a message");
		return;
	}
	emit(b, s, strlen(s));
	free(s);
}

json_t *tg_proxy_error_reply(json_t *id, int code, const char *message, json_t *data)
{
	json_t *msg = json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id",
				id ? id : json_null(), "error", "code", code, "message", message);

	if (msg && data)
		json_object_set_new(json_object_get(msg, "error"), "data", data);
	else
		json_decref(data);
	return msg;
}

/* Answers request `id` with a JSON-RPC error; takes `data` (may be NULL). */
static void answer_error(tg_proxy *px, json_t *id, int code, const char *message, json_t *data)
{
	json_t *msg = tg_proxy_error_reply(id, code, message, data);

	emit_json(&px->to_client, msg);
	json_decref(msg);
}

static json_t *opt_string(bool present, const char *s)
{
	return present ? json_string(s) : json_null();
}

json_t *tg_proxy_decision_data(const tg_mcp_authz *o)
{
	return json_pack("{s:o,s:o}", "rule", opt_string(o->has_rule, o->rule), "reason",
			 opt_string(o->has_reason, o->reason));
}

/* ---- client -> server --------------------------------------------------- */

static tg_px_pend_kind kind_of(const char *method)
{
	if (strcmp(method, "tools/list") == 0)
		return TG_PX_PEND_TOOLS_LIST;
	if (strcmp(method, "resources/list") == 0)
		return TG_PX_PEND_RESOURCES_LIST;
	if (strcmp(method, "prompts/list") == 0)
		return TG_PX_PEND_PROMPTS_LIST;
	return TG_PX_PEND_PLAIN;
}

static tg_entry_kind entry_kind_of(tg_px_pend_kind kind)
{
	return kind == TG_PX_PEND_RESOURCES_LIST ? TG_ENTRY_RESOURCE
	       : kind == TG_PX_PEND_PROMPTS_LIST ? TG_ENTRY_PROMPT
						 : TG_ENTRY_TOOL;
}

static void forward_request(tg_proxy *px, const tg_rpc_msg *m, const char *line, size_t len)
{
	if (tg_px_idtab_add(&px->client_pending, m->idkey, m->id, kind_of(m->method)) != 0) {
		answer_error(px, m->id, TG_RPC_BUSY, "toolgate: too many requests in flight", NULL);
		return;
	}
	emit(&px->to_server, line, len);
}

static void send_fetch(tg_proxy *px, const char *cursor);
static void finish_fetch(tg_proxy *px, const char *failure);

void tg_proxy_deny_unlisted(const tg_policy *p, const tg_mcp_identity *id, const tg_rpc_msg *m,
			    int64_t now, FILE *audit, tg_mcp_authz *out)
{
	/* Listed in full and still absent: refuse, never guess. */
	static const char why[] = "the tool is not in the server's tools/list";
	tg_request req;
	tg_decision *d;
	json_t *pid = json_object_get(id->principal, "id");

	tg_request_init(&req);
	req.principal_id.ptr = json_string_value(pid);
	req.principal_id.len = json_string_length(pid);
	req.method.ptr = m->method;
	req.method.len = strlen(m->method);
	req.target.ptr = out->tool;
	req.target.len = out->tool_len;
	if (tg_decision_create(&d) == TG_OK) {
		tg_decision_set_denied(d, why);
		tg_mcp_audit(audit, p, &req, d, now);
		tg_decision_free(d);
	}
	out->verdict = TG_MCP_DENY;
	out->has_reason = true;
	snprintf(out->reason, sizeof out->reason, "%s", why);
}

/* Decides a client request; takes *m when it has to be held. */
static void handle_request(tg_proxy *px, tg_rpc_msg *m, const char *line, size_t len, bool refetched)
{
	const tg_policy *p;
	tg_mcp_authz out;
	double t0 = 0;

	if (tg_px_idtab_find(&px->client_pending, m->idkey) >= 0) {
		answer_error(px, m->id, TG_RPC_INVALID_REQUEST,
			     "toolgate: the id of a request in flight was reused", NULL);
		px->stats.rejected++;
		return;
	}
	if (px->client_pending.n >= TG_PROXY_MAX_PENDING) {
		answer_error(px, m->id, TG_RPC_BUSY, "toolgate: too many requests in flight", NULL);
		return;
	}
	p = tg_holder_acquire(px->holder);
	if (px->measure)
		t0 = cpu_seconds();
	tg_mcp_decide(p, px->identity, &px->tools, m, now_s(px), px->audit, &out);
	if (px->measure)
		px->stats.decide_cpu += cpu_seconds() - t0;
	if (out.verdict == TG_MCP_NEED_TOOLS && refetched)
		tg_proxy_deny_unlisted(p, px->identity, m, now_s(px), px->audit, &out);
	switch (out.verdict) {
	case TG_MCP_PASS:
		px->stats.passed++;
		forward_request(px, m, line, len);
		break;
	case TG_MCP_ALLOW:
		px->stats.allowed++;
		forward_request(px, m, line, len);
		break;
	case TG_MCP_DENY:
		px->stats.denied++;
		answer_error(px, m->id, TG_RPC_DENIED, "toolgate: denied by policy",
			     tg_proxy_decision_data(&out));
		break;
	case TG_MCP_INVALID:
		px->stats.invalid++;
		answer_error(px, m->id, TG_RPC_INVALID_PARAMS, "toolgate: invalid request",
			     tg_proxy_decision_data(&out));
		break;
	case TG_MCP_NEED_TOOLS:
		if (px->fetching) {
			answer_error(px, m->id, TG_RPC_BUSY,
				     "toolgate: another call is waiting for tools/list", NULL);
			break;
		}
		px->held = *m;
		memset(m, 0, sizeof *m);
		px->held_line = malloc(len ? len : 1);
		if (!px->held_line) {
			answer_error(px, px->held.id, TG_RPC_UNAVAILABLE, "toolgate: out of memory",
				     NULL);
			tg_rpc_msg_free(&px->held);
			break;
		}
		memcpy(px->held_line, line, len);
		px->held_len = len;
		px->fetching = true;
		px->fetch_pages = 0;
		px->fetch_deadline_ms = tg_proxy_now_ms() + TG_PROXY_FETCH_TIMEOUT_MS;
		send_fetch(px, NULL);
		break;
	}
	tg_holder_release(px->holder, p);
}

static void client_line(tg_proxy *px, const char *line, size_t len);

/* Handles the lines that queued up behind a held call, until another call
 * has to be held or none is left. */
static void drain_backlog(tg_proxy *px)
{
	tg_px_buf *b = &px->backlog;

	if (px->draining)
		return;
	px->draining = true;
	while (!px->fetching && tg_px_buf_size(b) > 0) {
		const char *line = b->data + b->off;
		const char *nl = memchr(line, '\n', tg_px_buf_size(b));
		size_t len = nl ? (size_t)(nl - line) : tg_px_buf_size(b);

		/* Nothing appends to the backlog while it is not fetching, so
		 * the line stays in place while it is handled. */
		client_line(px, line, len);
		tg_px_buf_drop(b, len + (nl != NULL));
	}
	px->draining = false;
}

void tg_proxy_client_line(tg_proxy *px, const char *line, size_t len)
{
	if (px->fetching || tg_px_buf_size(&px->backlog) > 0) {
		if (tg_px_buf_add(&px->backlog, line, len) != 0 ||
		    tg_px_buf_add(&px->backlog, "\n", 1) != 0)
			tg_drv_error("proxy: out of memory holding a client message");
		return;
	}
	client_line(px, line, len);
}

static void client_line(tg_proxy *px, const char *line, size_t len)
{
	tg_rpc_error err;
	tg_rpc_msg m;
	size_t i;
	long k;

	switch (tg_rpc_parse(line, len, false, &m, &err)) {
	case TG_RPC_FRAME_BLANK:
		return;
	case TG_RPC_FRAME_ERROR:
		tg_drv_error("proxy: refused a client message: %s", err.message);
		px->stats.rejected++;
		for (i = 0; i < json_array_size(err.reply_ids); i++) {
			char text[200];

			snprintf(text, sizeof text, "toolgate: %s", err.message);
			answer_error(px, json_array_get(err.reply_ids, i), err.code, text, NULL);
		}
		json_decref(err.reply_ids);
		return;
	case TG_RPC_FRAME_OK:
		break;
	}
	switch (m.kind) {
	case TG_RPC_RESPONSE:
		k = tg_px_idtab_find(&px->server_pending, m.idkey);
		if (k < 0) {
			tg_drv_error("proxy: dropped a client response to unknown id %s", m.idkey);
			px->stats.rejected++;
			break;
		}
		tg_px_idtab_remove(&px->server_pending, (size_t)k);
		emit(&px->to_server, line, len);
		break;
	case TG_RPC_NOTIFICATION:
		if (!tg_rpc_is_lifecycle(m.method)) {
			/* Without an id nobody could be told of a deny, and a
			 * server might still act on it: not forwarded. */
			tg_drv_error("proxy: dropped a notification '%.64s' outside "
				     "notifications/",
				     m.method);
			px->stats.rejected++;
			break;
		}
		px->stats.passed++;
		emit(&px->to_server, line, len);
		break;
	case TG_RPC_REQUEST:
		handle_request(px, &m, line, len, false);
		break;
	}
	tg_rpc_msg_free(&m);
}

void tg_proxy_client_oversized(tg_proxy *px)
{
	px->stats.rejected++;
	tg_drv_error("proxy: refused a client message longer than the line limit");
}

bool tg_proxy_accepts_client(const tg_proxy *px)
{
	return !px->fetching && tg_px_buf_size(&px->backlog) == 0;
}

/* ---- the proxy's own tools/list ----------------------------------------- */

static void send_fetch(tg_proxy *px, const char *cursor)
{
	char key[64];
	json_t *msg, *id;

	do
		snprintf(key, sizeof key, "\"toolgate-proxy-%lu\"", ++px->own_ids);
	while (tg_px_idtab_find(&px->client_pending, key) >= 0);
	id = json_loadb(key, strlen(key), JSON_DECODE_ANY, NULL);
	msg = json_pack("{s:s,s:o,s:s}", "jsonrpc", "2.0", "id", json_incref(id), "method",
			"tools/list");
	if (msg && cursor)
		json_object_set_new(msg, "params", json_pack("{s:s}", "cursor", cursor));
	free(px->fetch_key);
	px->fetch_key = strdup(key);
	if (!id || !msg || !px->fetch_key ||
	    tg_px_idtab_add(&px->client_pending, key, id, TG_PX_PEND_FETCH) != 0) {
		json_decref(id);
		json_decref(msg);
		finish_fetch(px, "out of memory");
		return;
	}
	json_decref(id);
	emit_json(&px->to_server, msg);
	json_decref(msg);
	px->fetch_pages++;
}

static void finish_fetch(tg_proxy *px, const char *failure)
{
	tg_rpc_msg m = px->held;
	char *line = px->held_line;
	long k = px->fetch_key ? tg_px_idtab_find(&px->client_pending, px->fetch_key) : -1;

	if (k >= 0)
		tg_px_idtab_remove(&px->client_pending, (size_t)k);
	free(px->fetch_key);
	px->fetch_key = NULL;
	px->fetching = false;
	memset(&px->held, 0, sizeof px->held);
	px->held_line = NULL;
	if (failure) {
		char text[256];

		snprintf(text, sizeof text, "toolgate: cannot authorize the call: %s", failure);
		tg_drv_error("proxy: %s", text + 10);
		px->stats.denied++;
		answer_error(px, m.id, TG_RPC_UNAVAILABLE, text, NULL);
	} else {
		handle_request(px, &m, line, px->held_len, true);
	}
	tg_rpc_msg_free(&m);
	free(line);
	drain_backlog(px);
}

static void fetch_response(tg_proxy *px, tg_rpc_msg *m)
{
	json_t *result = json_object_get(m->root, "result");
	json_t *cursor = json_is_object(result) ? json_object_get(result, "nextCursor") : NULL;
	const char *tool;
	size_t len = 0;
	long n;

	if (m->lossy) {
		finish_fetch(px, "the server's tools/list could not be read");
		return;
	}
	n = tg_mcp_tools_learn(&px->tools, m->root);
	if (n < 0) {
		finish_fetch(px, "the server's tools/list failed");
		return;
	}
	tool = tg_mcp_tool_name(&px->held, &len);
	if ((tool && tg_mcp_tools_get(&px->tools, tool, len)) || !json_is_string(cursor) ||
	    px->fetch_pages >= TG_PROXY_FETCH_PAGES) {
		finish_fetch(px, NULL);
		return;
	}
	send_fetch(px, json_string_value(cursor));
}

void tg_proxy_tick(tg_proxy *px, int64_t now_ms)
{
	if (px->fetching && now_ms >= px->fetch_deadline_ms)
		finish_fetch(px, "the server did not answer the proxy's tools/list in time");
}

/* ---- server -> client --------------------------------------------------- */

static void server_response(tg_proxy *px, tg_rpc_msg *m, const char *line, size_t len)
{
	long k = tg_px_idtab_find(&px->client_pending, m->idkey);
	tg_px_pend_kind kind;
	const tg_policy *p;
	double t0 = 0;
	long removed;

	if (k < 0) {
		tg_drv_error("proxy: dropped a server response to unknown id %s", m->idkey);
		return;
	}
	kind = px->client_pending.v[k].kind;
	tg_px_idtab_remove(&px->client_pending, (size_t)k);
	if (kind == TG_PX_PEND_FETCH) {
		fetch_response(px, m);
		return;
	}
	if (kind == TG_PX_PEND_PLAIN || !json_object_get(m->root, "result")) {
		emit(&px->to_client, line, len);
		return;
	}
	if (m->lossy) {
		/* Numbers jansson cannot hold: the list cannot be filtered
		 * and rewritten faithfully, so it is not passed. */
		answer_error(px, m->id, TG_RPC_UNAVAILABLE,
			     "toolgate: the server's list result could not be read", NULL);
		return;
	}
	p = tg_holder_acquire(px->holder);
	if (px->measure)
		t0 = cpu_seconds();
	removed = tg_mcp_filter(p, px->identity, &px->tools, entry_kind_of(kind), m->root, now_s(px));
	if (px->measure)
		px->stats.decide_cpu += cpu_seconds() - t0;
	tg_holder_release(px->holder, p);
	if (removed < 0) {
		emit(&px->to_client, line, len);
		return;
	}
	px->stats.filtered += (unsigned long)removed;
	emit_json(&px->to_client, m->root);
}

/* A server line that was refused may still be the answer to a request in
 * flight: if a lenient parse finds such an id, that request is answered with
 * an error instead of waiting forever. The lenient tree decides nothing
 * else. */
static void answer_unreadable(tg_proxy *px, const char *line, size_t len)
{
	json_t *root = json_loadb(line, len, 0, NULL);
	json_t *id = json_is_object(root) && !json_object_get(root, "method")
			     ? json_object_get(root, "id") : NULL;
	char *key = json_is_string(id) || json_is_integer(id) ? tg_rpc_id_key(id) : NULL;
	long k = key ? tg_px_idtab_find(&px->client_pending, key) : -1;

	if (k >= 0 && px->client_pending.v[k].kind == TG_PX_PEND_FETCH) {
		finish_fetch(px, "the server's tools/list could not be read");
	} else if (k >= 0) {
		answer_error(px, id, TG_RPC_UNAVAILABLE,
			     "toolgate: the server's answer could not be read", NULL);
		tg_px_idtab_remove(&px->client_pending, (size_t)k);
	}
	free(key);
	json_decref(root);
}

void tg_proxy_server_line(tg_proxy *px, const char *line, size_t len)
{
	tg_rpc_error err;
	tg_rpc_msg m;

	switch (tg_rpc_parse(line, len, true, &m, &err)) {
	case TG_RPC_FRAME_BLANK:
		return;
	case TG_RPC_FRAME_ERROR:
		tg_drv_error("proxy: dropped a server message: %s", err.message);
		json_decref(err.reply_ids);
		answer_unreadable(px, line, len);
		return;
	case TG_RPC_FRAME_OK:
		break;
	}
	switch (m.kind) {
	case TG_RPC_RESPONSE:
		server_response(px, &m, line, len);
		break;
	case TG_RPC_REQUEST:
		if (tg_px_idtab_find(&px->server_pending, m.idkey) >= 0 ||
		    tg_px_idtab_add(&px->server_pending, m.idkey, m.id, TG_PX_PEND_PLAIN) != 0) {
			json_t *e = json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id",
					      m.id, "error", "code", TG_RPC_BUSY, "message",
					      "toolgate: request id in use or too many in flight");

			emit_json(&px->to_server, e);
			json_decref(e);
			break;
		}
		emit(&px->to_client, line, len);
		break;
	case TG_RPC_NOTIFICATION:
		if (strcmp(m.method, "notifications/tools/list_changed") == 0)
			tg_mcp_tools_clear(&px->tools);
		emit(&px->to_client, line, len);
		break;
	}
	tg_rpc_msg_free(&m);
}

void tg_proxy_server_oversized(tg_proxy *px)
{
	tg_drv_error("proxy: dropped a server message longer than the line limit");
}

void tg_proxy_server_gone(tg_proxy *px, const char *why)
{
	size_t i;

	if (px->fetching)
		finish_fetch(px, why);
	for (i = 0; i < px->client_pending.n; i++) {
		tg_px_pending *e = &px->client_pending.v[i];

		if (e->kind != TG_PX_PEND_FETCH)
			answer_error(px, e->id, TG_RPC_UNAVAILABLE, "toolgate: the MCP server exited",
				     json_pack("{s:s}", "reason", why));
	}
	tg_px_idtab_free(&px->client_pending);
	tg_px_idtab_free(&px->server_pending);
	tg_px_buf_drop(&px->to_server, tg_px_buf_size(&px->to_server));
}
