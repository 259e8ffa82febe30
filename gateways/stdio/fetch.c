/*
 * fetch.c - the proxy's own tools/list, for a call it cannot yet judge.
 *
 * A tools/call for a tool the proxy has not seen listed cannot be judged:
 * its annotations are unknown and the proxy never guesses them. The call
 * is held, reading from the client pauses (so later messages keep their
 * order), and the proxy asks the server for tools/list under an id of its
 * own, walking nextCursor until the tool shows up. Then the call is decided
 * with the listed annotations, or refused if the tool is not listed, the
 * listing fails or takes longer than TG_PROXY_FETCH_TIMEOUT_MS. The listing
 * is consumed here and never reaches the client.
 */
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "proxy.h"

/* The held call's params._meta, less its progress token: a 2026-07-28
 * server wants the protocol version and client capabilities on every
 * request, and the client's are the right ones. */
static json_t *held_meta(const tg_proxy *px)
{
	json_t *meta = json_object_get(json_object_get(px->held.root, "params"), "_meta");
	json_t *copy = json_is_object(meta) ? json_copy(meta) : NULL;

	if (copy)
		json_object_del(copy, "progressToken");
	return copy;
}

static void send_fetch(tg_proxy *px, const char *cursor)
{
	int64_t own = px->next_id;
	json_t *msg, *params = json_object(), *meta = held_meta(px);

	if (params && cursor)
		json_object_set_new(params, "cursor", json_string(cursor));
	if (params && meta)
		json_object_set(params, "_meta", meta);
	json_decref(meta);
	msg = json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id", (json_int_t)own, "method",
			"tools/list");
	if (msg && params && json_object_size(params) > 0)
		json_object_set(msg, "params", params);
	json_decref(params);
	if (!msg ||
	    tg_rpc_flights_add(&px->at_server, own, NULL, NULL, 0, NULL, TG_MCP_REPLY_FETCH, 0) != 0) {
		json_decref(msg);
		tg_px_fetch_finish(px, "out of memory");
		return;
	}
	px->next_id++;
	px->fetch_own = own;
	tg_px_emit_json(&px->to_server, msg);
	json_decref(msg);
	px->fetch_pages++;
}

void tg_px_fetch_start(tg_proxy *px)
{
	px->fetching = true;
	px->fetch_pages = 0;
	px->fetch_deadline_ms = tg_px_now_ms(px) + TG_PROXY_FETCH_TIMEOUT_MS;
	send_fetch(px, NULL);
}

void tg_px_fetch_finish(tg_proxy *px, const char *failure)
{
	tg_rpc_msg m = px->held;
	char *line = px->held_line;
	long k = tg_rpc_flights_by_own(&px->at_server, px->fetch_own);

	if (k >= 0 && px->at_server.v[k].reply == TG_MCP_REPLY_FETCH)
		tg_rpc_flights_remove(&px->at_server, (size_t)k);
	px->fetch_own = 0;
	px->fetching = false;
	memset(&px->held, 0, sizeof px->held);
	px->held_line = NULL;
	if (failure) {
		char text[256];

		snprintf(text, sizeof text, "toolgate: cannot authorize the call: %s", failure);
		tg_drv_error("proxy: %s", text + 10);
		px->stats.denied++;
		tg_px_answer_error(&px->to_client, line + m.id_off, m.id_len, TG_RPC_UNAVAILABLE,
				   text, NULL);
	} else {
		tg_px_handle_request(px, &m, line, px->held_len, true);
	}
	tg_rpc_msg_free(&m);
	free(line);
	tg_px_drain_backlog(px);
}

void tg_px_fetch_response(tg_proxy *px, tg_rpc_msg *m)
{
	json_t *result = json_object_get(m->root, "result");
	json_t *cursor = json_is_object(result) ? json_object_get(result, "nextCursor") : NULL;
	const char *tool;
	size_t len = 0;

	if (m->lossy) {
		tg_px_fetch_finish(px, "the server's tools/list could not be read");
		return;
	}
	if (tg_mcp_tools_learn(&px->tools, m->root) < 0) {
		tg_px_fetch_finish(px, "the server's tools/list failed");
		return;
	}
	tg_px_listed(px);
	tool = tg_mcp_tool_name(&px->held, &len);
	if ((tool && tg_mcp_tools_get(&px->tools, tool, len)) || !json_is_string(cursor) ||
	    px->fetch_pages >= TG_PROXY_FETCH_PAGES) {
		tg_px_fetch_finish(px, NULL);
		return;
	}
	send_fetch(px, json_string_value(cursor));
}
