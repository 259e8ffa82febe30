/*
 * api.c - libtoolgate-mcp's public entry points (toolgate/mcp.h), each a
 * thin wrapper over the in-tree interface (adapter.h, request_json.h) that
 * toolgate's own transports use: a binding and the proxy cannot read one
 * message two ways because there is only one reader.
 */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "request_json.h"
#include "toolgate/mcp.h"

struct tg_mcp_request {
	tg_json_request jr;
};

static tg_status invalid(char *why, size_t whylen, const char *msg)
{
	if (why && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return TG_EINVALID_REQUEST;
}

/* Wraps a filled reader result; frees it when out of memory. */
static tg_status wrap(tg_json_request *jr, tg_mcp_request **out)
{
	tg_mcp_request *r = malloc(sizeof *r);

	if (!r) {
		tg_json_request_free(jr);
		return TG_ENOMEM;
	}
	r->jr = *jr;
	*out = r;
	return TG_OK;
}

tg_status tg_mcp_request_parse(const tg_policy *p, const char *text, size_t len,
			       tg_mcp_request **out, char *why, size_t whylen)
{
	char err[512];
	tg_json_request jr;

	if (!out || (!text && len > 0))
		return TG_EINVAL;
	if (tg_json_request_parse(p, text ? text : "", len, &jr, err, sizeof err) != 0) {
		tg_json_request_free(&jr);
		return invalid(why, whylen, err);
	}
	return wrap(&jr, out);
}

const tg_request *tg_mcp_request_get(const tg_mcp_request *r)
{
	return r ? &r->jr.req : NULL;
}

void tg_mcp_request_free(tg_mcp_request *r)
{
	if (!r)
		return;
	tg_json_request_free(&r->jr);
	free(r);
}

tg_status tg_eval_json(const tg_policy *p, const char *text, size_t len, tg_decision *d)
{
	char why[TG_JSON_REASON_MAX];
	tg_json_request jr;
	tg_status st;

	if (!d)
		return TG_EINVAL;
	if (!p || (!text && len > 0)) {
		tg_decision_set_invalid(d, "invalid request: no policy or no text");
		return TG_EINVAL;
	}
	if (tg_json_request_parse(p, text ? text : "", len, &jr, why, sizeof why) != 0) {
		tg_json_request_free(&jr);
		tg_decision_set_invalid(d, why);
		return TG_EINVALID_REQUEST;
	}
	st = tg_eval(p, &jr.req, d);
	tg_json_request_free(&jr);
	return st;
}

size_t tg_decision_json(const tg_decision *d, char *buf, size_t len)
{
	char *text = d ? tg_decision_to_json(d) : NULL;
	size_t n = text ? strlen(text) : 0;

	if (len > 0) {
		size_t k = n < len ? n : len - 1;

		if (k)
			memcpy(buf, text, k);
		buf[k] = '\0';
	}
	free(text);
	return n;
}

/* ---- identities ----------------------------------------------------------- */

tg_status tg_mcp_identity_parse(const char *json, size_t len, tg_mcp_identity **out, char *why,
				size_t whylen)
{
	char err[256];
	tg_mcp_identity *id;

	if (!out || (!json && len > 0))
		return TG_EINVAL;
	id = malloc(sizeof *id);
	if (!id)
		return TG_ENOMEM;
	tg_mcp_identity_init(id);
	if (!id->principal || !id->token || !id->context) {
		tg_mcp_identity_free(id);
		return TG_ENOMEM;
	}
	if (tg_mcp_identity_merge_text(id, json ? json : "", len, err, sizeof err) != 0) {
		tg_mcp_identity_free(id);
		return invalid(why, whylen, err);
	}
	*out = id;
	return TG_OK;
}

void tg_mcp_identity_free(tg_mcp_identity *id)
{
	if (!id)
		return;
	tg_mcp_identity_clear(id);
	free(id);
}

/* ---- tool annotations ----------------------------------------------------- */

tg_status tg_mcp_tools_create(tg_mcp_tools **out)
{
	if (!out)
		return TG_EINVAL;
	*out = calloc(1, sizeof **out);
	return *out ? TG_OK : TG_ENOMEM;
}

void tg_mcp_tools_free(tg_mcp_tools *t)
{
	if (!t)
		return;
	tg_mcp_tools_dispose(t);
	free(t);
}

void tg_mcp_tools_reset(tg_mcp_tools *t)
{
	if (t)
		tg_mcp_tools_clear(t);
}

/* ---- MCP messages ----------------------------------------------------------- */

tg_status tg_mcp_request_from_message(const tg_policy *p, const tg_mcp_identity *id,
				      const tg_mcp_tools *tools, const char *message, size_t len,
				      int64_t now, tg_mcp_request **out, char *why, size_t whylen)
{
	tg_mcp_hints defaults = tg_mcp_tools_hints_of(NULL);
	const tg_mcp_hints *hints = NULL;
	tg_rpc_error ferr;
	tg_rpc_msg m;
	tg_json_request jr;
	char err[512];
	json_t *root;
	const char *tool;
	size_t tool_len;

	if (!out || !id || (!message && len > 0))
		return TG_EINVAL;
	*out = NULL;
	if (tg_rpc_parse(message ? message : "", len, false, &m, &ferr) != TG_RPC_FRAME_OK) {
		tg_rpc_error_free(&ferr);
		return invalid(why, whylen,
			       ferr.message[0] ? ferr.message : "invalid request: an empty message");
	}
	if (m.kind == TG_RPC_RESPONSE) {
		tg_rpc_msg_free(&m);
		return invalid(why, whylen, "invalid request: a response, not a request");
	}
	if (tg_rpc_is_lifecycle(m.method)) {
		tg_rpc_msg_free(&m);
		return TG_OK;
	}
	tool = tg_mcp_tool_name(&m, &tool_len);
	if (tool) {
		hints = tools ? tg_mcp_tools_get(tools, tool, tool_len) : NULL;
		if (!hints)
			hints = &defaults;
	}
	root = tg_mcp_request_json(id, m.method, json_object_get(m.root, "params"), hints, now, err,
				   sizeof err);
	tg_rpc_msg_free(&m);
	if (!root)
		return invalid(why, whylen, err);
	if (tg_json_request_from_json(p, root, &jr, err, sizeof err) != 0) {
		json_decref(root);
		tg_json_request_free(&jr);
		return invalid(why, whylen, err);
	}
	json_decref(root);
	return wrap(&jr, out);
}

tg_status tg_mcp_filter_list(const tg_policy *p, const tg_mcp_identity *id, tg_mcp_tools *tools,
			     const char *method, const char *response, size_t len, int64_t now,
			     char **out, size_t *out_len, size_t *removed)
{
	tg_mcp_tools scratch = {0};
	tg_entry_kind kind;
	json_error_t jerr;
	json_t *root;
	long n;
	char *text;

	if (!p || !id || !method || !out || (!response && len > 0))
		return TG_EINVAL;
	if (strcmp(method, "tools/list") == 0)
		kind = TG_ENTRY_TOOL;
	else if (strcmp(method, "resources/list") == 0)
		kind = TG_ENTRY_RESOURCE;
	else if (strcmp(method, "prompts/list") == 0)
		kind = TG_ENTRY_PROMPT;
	else
		return TG_EINVAL;
	root = json_loadb(response ? response : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return TG_EINVALID_REQUEST;
	n = tg_mcp_filter(p, id, tools ? tools : &scratch, kind, root, now);
	tg_mcp_tools_dispose(&scratch);
	if (n < 0) {
		json_decref(root);
		return TG_EINVALID_REQUEST;
	}
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!text)
		return TG_ENOMEM;
	*out = text;
	if (out_len)
		*out_len = strlen(text);
	if (removed)
		*removed = (size_t)n;
	return TG_OK;
}

tg_status tg_mcp_check_roots(const tg_policy *p, const tg_mcp_identity *id, const char *message,
			     size_t len, int64_t now, char **out, size_t *out_len)
{
	json_error_t jerr;
	json_t *root;
	char err[256], *text;
	bool changed;
	int gives;

	if (!p || !id || !out || (!message && len > 0))
		return TG_EINVAL;
	*out = NULL;
	root = json_loadb(message ? message : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		return TG_EINVALID_REQUEST;
	}
	gives = tg_mcp_message_roots(p, id, root, now, NULL, &changed, err, sizeof err);
	if (gives <= 0) {
		json_decref(root);
		return gives < 0 ? TG_EINVALID_REQUEST : TG_OK;
	}
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!text)
		return TG_ENOMEM;
	*out = text;
	if (out_len)
		*out_len = strlen(text);
	return TG_OK;
}

void tg_mcp_free(void *p)
{
	free(p);
}
