/*
 * core.c - the proxy as a state machine over lines.
 *
 * Client -> server: each line is checked (mcp/jsonrpc.c); a request is
 * authorized (mcp/adapter.c) and either forwarded, under an id of the
 * proxy's own (route.c) but otherwise byte for byte, or answered by the
 * proxy and never forwarded. Notifications under notifications/ pass (a
 * cancellation translated to the proxy's id); responses pass only for a
 * request of the server's in flight.
 *
 * Server -> client: a response is routed by the proxy's id to the request
 * it answers; list results are filtered (mcp/filter.c) and re-serialized,
 * everything else passes with only its id changed back. Requests of the
 * server (sampling, elicitation, roots) pass to the client under the
 * proxy's ids too, so only answers to them flow back.
 *
 * A tools/call for a tool not yet listed is held while the proxy lists the
 * tools itself (fetch.c); client lines read meanwhile wait in the backlog.
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

double tg_px_cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t tg_px_now_s(const tg_proxy *px)
{
	return px->fixed_time > 0 ? px->fixed_time : (int64_t)time(NULL);
}

int64_t tg_px_now_ms(const tg_proxy *px)
{
	return px->fixed_ms > 0 ? px->fixed_ms : tg_proxy_now_ms();
}

void tg_proxy_init(tg_proxy *px, tg_holder *holder, const tg_mcp_identity *id, FILE *audit)
{
	memset(px, 0, sizeof *px);
	px->holder = holder;
	px->identity = id;
	px->audit = audit;
	px->next_id = 1;
	px->request_timeout_ms = TG_PROXY_DEFAULT_TIMEOUT_MS;
	px->deny_as = TG_MCP_DENY_AS_RESULT;
}

void tg_proxy_free(tg_proxy *px)
{
	tg_px_buf_free(&px->to_server);
	tg_px_buf_free(&px->to_client);
	tg_px_buf_free(&px->backlog);
	tg_rpc_flights_free(&px->at_server);
	tg_rpc_flights_free(&px->at_client);
	tg_mcp_tools_dispose(&px->tools);
	tg_rpc_msg_free(&px->held);
	free(px->held_line);
	memset(px, 0, sizeof *px);
}

/* ---- client -> server --------------------------------------------------- */

static void answer_decision(tg_proxy *px, const tg_rpc_msg *m, const char *line,
			    const tg_mcp_authz *out)
{
	tg_px_answer(&px->to_client, line + m->id_off, m->id_len,
		     tg_mcp_answer(out, m->method, px->deny_as));
}

/* An allowed request goes on; roots the client answers inside it (a
 * 2026-07-28 retry's inputResponses) only as the policy lets the identity
 * have them. */
static void forward_allowed(tg_proxy *px, const tg_policy *p, tg_rpc_msg *m, const char *line,
			    size_t len)
{
	char err[256];
	long n = tg_mcp_input_roots(p, px->identity, px->roots, json_object_get(m->root, "params"),
				    tg_px_now_s(px), px->audit, err, sizeof err);

	if (n < 0)
		tg_px_refuse_msg(px, false, "bad_input_roots", err, TG_RPC_INVALID_PARAMS, m);
	else if (n > 0)
		tg_px_forward_tree(px, m, line);
	else
		tg_px_forward_request(px, m, line, len);
}

/* Holds a call until the proxy has listed the tools; takes *m. */
static void hold(tg_proxy *px, tg_rpc_msg *m, const char *line, size_t len)
{
	if (px->fetching) {
		tg_px_answer_error(&px->to_client, line + m->id_off, m->id_len, TG_RPC_BUSY,
				   "toolgate: another call is waiting for tools/list", NULL);
		return;
	}
	px->held_line = malloc(len ? len : 1);
	if (!px->held_line) {
		tg_px_answer_error(&px->to_client, line + m->id_off, m->id_len, TG_RPC_UNAVAILABLE,
				   "toolgate: out of memory", NULL);
		return;
	}
	px->held = *m;
	memset(m, 0, sizeof *m);
	memcpy(px->held_line, line, len);
	px->held_len = len;
	tg_px_fetch_start(px);
}

void tg_px_handle_request(tg_proxy *px, tg_rpc_msg *m, const char *line, size_t len,
			  bool refetched)
{
	const tg_policy *p;
	tg_mcp_authz out;
	double t0 = 0;

	if (tg_rpc_flights_by_key(&px->at_server, m->idkey) >= 0) {
		tg_px_refuse_msg(px, false, "id_reuse", "the id of a request in flight was reused",
				 TG_RPC_INVALID_REQUEST, m);
		return;
	}
	if (px->at_server.n >= TG_RPC_MAX_IN_FLIGHT) {
		tg_px_refuse_msg(px, false, "busy", "too many requests in flight", TG_RPC_BUSY, m);
		return;
	}
	p = tg_holder_acquire(px->holder);
	if (px->measure)
		t0 = tg_px_cpu_seconds();
	tg_mcp_decide(p, px->identity, &px->tools, m, tg_px_now_s(px), px->audit, &out);
	if (out.verdict == TG_MCP_NEED_TOOLS && refetched)
		/* Listed in full and still absent: refuse, never guess. */
		tg_mcp_deny(p, px->identity, m, "the tool is not in the server's tools/list",
			    tg_px_now_s(px), px->audit, &out);
	if (px->measure)
		px->stats.decide_cpu += tg_px_cpu_seconds() - t0;
	if (out.unaudited)
		tg_drv_error("proxy: cannot write the audit log; denying");
	switch (out.verdict) {
	case TG_MCP_PASS:
		px->stats.passed++;
		tg_px_forward_request(px, m, line, len);
		break;
	case TG_MCP_ALLOW:
		px->stats.allowed++;
		forward_allowed(px, p, m, line, len);
		break;
	case TG_MCP_DENY:
		px->stats.denied++;
		answer_decision(px, m, line, &out);
		break;
	case TG_MCP_INVALID:
		px->stats.invalid++;
		answer_decision(px, m, line, &out);
		break;
	case TG_MCP_NEED_TOOLS:
		hold(px, m, line, len);
		break;
	}
	tg_holder_release(px->holder, p);
}

static void client_line(tg_proxy *px, const char *line, size_t len);

void tg_px_drain_backlog(tg_proxy *px)
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

	switch (tg_rpc_parse(line, len, false, &m, &err)) {
	case TG_RPC_FRAME_BLANK:
		return;
	case TG_RPC_FRAME_ERROR: {
		tg_mcp_refusal r = {false, err.kind, err.message, err.code, err.reply_ids,
				    err.seen};

		tg_px_refuse(px, &r);
		tg_rpc_error_free(&err);
		return;
	}
	case TG_RPC_FRAME_OK:
		break;
	}
	switch (m.kind) {
	case TG_RPC_RESPONSE:
		tg_px_client_response(px, &m, line, len);
		break;
	case TG_RPC_NOTIFICATION:
		if (!tg_rpc_is_lifecycle(m.method)) {
			/* Without an id nobody could be told of a deny, and a
			 * server might still act on it: not forwarded. */
			char why[128];
			tg_mcp_refusal r = {false, "notification_call", why, 0, NULL, m.root};

			snprintf(why, sizeof why, "a notification '%.64s' outside notifications/",
				 m.method);
			tg_px_refuse(px, &r);
			break;
		}
		px->stats.passed++;
		if (!tg_px_client_notification(px, &m))
			tg_px_emit(&px->to_server, line, len);
		break;
	case TG_RPC_REQUEST:
		tg_px_handle_request(px, &m, line, len, false);
		break;
	}
	tg_rpc_msg_free(&m);
}

/* A line past the limit: answered when its first bytes show a request's id,
 * and a request waiting for it is told when they show an answer's. */
static void oversized(tg_proxy *px, bool from_server, const char *head, size_t len)
{
	tg_rpc_scan_result r;
	json_t *ids = json_array();
	tg_mcp_refusal ref = {from_server, "oversized", "longer than the line limit",
			      TG_RPC_INVALID_REQUEST, ids, NULL};

	tg_rpc_scan(head, len, &r);
	if (ids && r.method && r.id_ok)
		json_array_append_new(ids, json_loadb(head + r.id_off, r.id_len, JSON_DECODE_ANY,
						      NULL));
	tg_px_refuse(px, &ref);
	json_decref(ids);
	tg_px_unreadable_answer(px, from_server, head, len, "it was longer than the line limit");
}

void tg_proxy_client_oversized(tg_proxy *px, const char *head, size_t len)
{
	oversized(px, false, head, len);
}

void tg_px_listed(tg_proxy *px)
{
	char *text;

	if (!px->write_pins || !px->tools.digests_changed || !px->tools.digests)
		return;
	px->tools.digests_changed = false;
	/* through a temporary file and a rename: a reader never sees half */
	text = tg_mcp_pins_text(px->tools.digests);
	if (!text)
		tg_drv_error("proxy: out of memory writing the pins");
	else if (tg_drv_write_atomic(px->write_pins, text, strlen(text), NULL) == 0)
		tg_drv_error("proxy: wrote the pins of %zu tools to '%s'",
			     json_object_size(px->tools.digests), px->write_pins);
	free(text);
}

bool tg_proxy_accepts_client(const tg_proxy *px)
{
	return !px->fetching && tg_px_buf_size(&px->backlog) == 0;
}

void tg_proxy_tick(tg_proxy *px, int64_t now_ms)
{
	if (px->fetching && now_ms >= px->fetch_deadline_ms)
		tg_px_fetch_finish(px, "the server did not answer the proxy's tools/list in time");
	tg_px_expire(px, now_ms);
}

/* ---- server -> client --------------------------------------------------- */

void tg_proxy_server_line(tg_proxy *px, const char *line, size_t len)
{
	tg_rpc_error err;
	tg_rpc_msg m;

	if (tg_px_server_plain_answer(px, line, len))
		return;
	switch (tg_rpc_parse(line, len, true, &m, &err)) {
	case TG_RPC_FRAME_BLANK:
		return;
	case TG_RPC_FRAME_ERROR: {
		tg_mcp_refusal r = {true, err.kind, err.message, err.code, err.reply_ids,
				    err.seen};

		tg_px_refuse(px, &r);
		tg_rpc_error_free(&err);
		tg_px_unreadable_answer(px, true, line, len, err.message);
		return;
	}
	case TG_RPC_FRAME_OK:
		break;
	}
	switch (m.kind) {
	case TG_RPC_RESPONSE:
		tg_px_server_response(px, &m, line, len);
		break;
	case TG_RPC_REQUEST:
		tg_px_server_request(px, &m, line, len);
		break;
	case TG_RPC_NOTIFICATION:
		if (strcmp(m.method, "notifications/tools/list_changed") == 0)
			tg_mcp_tools_clear(&px->tools);
		if (!tg_px_server_notification(px, &m))
			tg_px_emit(&px->to_client, line, len);
		break;
	}
	tg_rpc_msg_free(&m);
}

void tg_proxy_server_oversized(tg_proxy *px, const char *head, size_t len)
{
	oversized(px, true, head, len);
}

void tg_proxy_server_gone(tg_proxy *px, const char *why)
{
	size_t i;

	if (px->fetching)
		tg_px_fetch_finish(px, why);
	for (i = 0; i < px->at_server.n; i++) {
		tg_rpc_flight *f = &px->at_server.v[i];

		if (f->reply != TG_MCP_REPLY_FETCH)
			tg_px_answer_error(&px->to_client, f->id, f->id_len, TG_RPC_UNAVAILABLE,
					   "toolgate: the MCP server exited",
					   json_pack("{s:s}", "reason", why));
	}
	tg_rpc_flights_free(&px->at_server);
	tg_rpc_flights_free(&px->at_client);
	tg_px_buf_drop(&px->to_server, tg_px_buf_size(&px->to_server));
}
