/*
 * answer.c - what the proxy says itself, rather than passing on.
 *
 * Answers go under the id as the requester wrote it (JSON text), so a
 * requester that compares ids by their text or by their value finds its
 * request either way. A refusal is a message the proxy does not pass on:
 * a security event, so it is audited as well as reported, and every id it
 * names is answered, to the side it came from, so nobody waits for an
 * answer that will never come.
 */
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "proxy.h"

void tg_px_emit(tg_px_buf *b, const char *s, size_t n)
{
	if (tg_px_buf_add(b, s, n) != 0 || tg_px_buf_add(b, "\n", 1) != 0)
		tg_drv_error("proxy: out of memory queueing a message");
}

void tg_px_emit_json(tg_px_buf *b, const json_t *msg)
{
	char *s = msg ? json_dumps(msg, JSON_COMPACT) : NULL;

	if (!s) {
		tg_drv_error("proxy: out of memory writing a message");
		return;
	}
	tg_px_emit(b, s, strlen(s));
	free(s);
}

void tg_px_answer(tg_px_buf *b, const char *id, size_t idlen, json_t *body)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":";
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	size_t n = text ? strlen(text) : 0;

	/* body is {"error":...} or {"result":...}: its members follow the id. */
	json_decref(body);
	if (n < 2 || tg_px_buf_add(b, head, sizeof head - 1) != 0 ||
	    tg_px_buf_add(b, id, idlen) != 0 || tg_px_buf_add(b, ",", 1) != 0 ||
	    tg_px_buf_add(b, text + 1, n - 1) != 0 || tg_px_buf_add(b, "\n", 1) != 0)
		tg_drv_error("proxy: out of memory writing an answer");
	free(text);
}

void tg_px_answer_error(tg_px_buf *b, const char *id, size_t idlen, int code, const char *message,
			json_t *data)
{
	json_t *err = json_pack("{s:i,s:s}", "code", code, "message", message);

	if (err && data)
		json_object_set_new(err, "data", data);
	else
		json_decref(data);
	tg_px_answer(b, id, idlen, err ? json_pack("{s:o}", "error", err) : NULL);
}

void tg_px_answer_error_json(tg_px_buf *b, const json_t *id, int code, const char *message,
			     json_t *data)
{
	char *text = tg_rpc_id_key(id);

	if (!text) {
		json_decref(data);
		tg_drv_error("proxy: out of memory writing an answer");
		return;
	}
	tg_px_answer_error(b, text, strlen(text), code, message, data);
	free(text);
}

void tg_px_refuse(tg_proxy *px, const tg_mcp_refusal *r)
{
	tg_px_buf *to = r->from_server ? &px->to_server : &px->to_client;
	char text[256];
	size_t i;

	const tg_policy *p = tg_holder_acquire(px->holder);

	tg_drv_error("proxy: %s a %s message: %s", r->from_server ? "dropped" : "refused",
		     r->from_server ? "server" : "client", r->reason);
	if (!tg_mcp_audit_refusal(px->audit, p, px->identity, r, tg_px_now_s(px)))
		tg_drv_error("proxy: cannot write the audit log: the refusal is not audited");
	tg_holder_release(px->holder, p);
	if (!r->from_server)
		px->stats.rejected++;
	snprintf(text, sizeof text, "toolgate: %s", r->reason);
	for (i = 0; r->code && i < json_array_size(r->ids); i++)
		tg_px_answer_error_json(to, json_array_get(r->ids, i), r->code, text, NULL);
}

void tg_px_refuse_msg(tg_proxy *px, bool from_server, const char *kind, const char *reason,
		      int code, const tg_rpc_msg *m)
{
	json_t *ids = json_pack("[O]", m->id);
	tg_mcp_refusal r = {from_server, kind, reason, code, ids, m->root};

	tg_px_refuse(px, &r);
	json_decref(ids);
}
