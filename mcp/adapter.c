/*
 * adapter.c - authorizing one client request.
 *
 * An MCP request becomes a toolgate request by DESIGN's adapter rules: the
 * identity supplies principal, token and context (context.time is the
 * proxy's clock unless the identity fixes it); tools/call targets
 * params.name with params.arguments as args and the tool's annotations from
 * the server's latest tools/list; resources/read, subscribe and unsubscribe
 * target params.uri; prompts/get targets params.name with params.arguments
 * as args; completion/complete is
 * rewritten to the prompts/get or resources/read it completes for; every
 * other method is decided by its name alone.
 *
 * The request goes to the same builder `toolgate eval`'s reader feeds
 * (request_build.c), as the events of the JSON request tg_mcp_request_json
 * would build, so the proxy and eval cannot disagree about what a request
 * means or whether it is valid; decisions skip building that tree.
 */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "request_build.h"
#include "request_json.h"

static json_t *hints_json(const tg_mcp_hints *h)
{
	return json_pack("{s:b,s:b,s:b,s:b}", "read_only", h->read_only == TG_HINT_TRUE,
			 "destructive", h->destructive == TG_HINT_TRUE, "idempotent",
			 h->idempotent == TG_HINT_TRUE, "open_world", h->open_world == TG_HINT_TRUE);
}

/* params.KEY as a string, or NULL. */
static json_t *param_string(const json_t *params, const char *key)
{
	json_t *v = json_is_object(params) ? json_object_get(params, key) : NULL;

	return json_is_string(v) ? v : NULL;
}

/*
 * What an MCP request is to the policy, by DESIGN's adapter rules: the
 * method decided (*eff), its target and args (borrowed from params, NULL
 * when there are none) and whether the tool's hints belong in it. False
 * with a message in err when params cannot make a request.
 */
static bool adapt(const char *method, const json_t *params, const char **eff, json_t **target,
		  json_t **args, bool *tool, char *err, size_t errlen)
{
	*eff = method;
	*target = *args = NULL;
	*tool = false;
	if (strcmp(method, "tools/call") == 0) {
		*target = param_string(params, "name");
		if (!*target) {
			snprintf(err, errlen, "invalid request: tools/call needs a string params.name");
			return false;
		}
		*args = json_object_get(params, "arguments");
		*tool = true;
	} else if (strcmp(method, "resources/read") == 0 ||
		   strcmp(method, "resources/subscribe") == 0 ||
		   strcmp(method, "resources/unsubscribe") == 0) {
		*target = param_string(params, "uri");
		if (!*target) {
			snprintf(err, errlen, "invalid request: %s needs a string params.uri", method);
			return false;
		}
	} else if (strcmp(method, "prompts/get") == 0) {
		*target = param_string(params, "name");
		if (!*target) {
			snprintf(err, errlen, "invalid request: prompts/get needs a string params.name");
			return false;
		}
		*args = json_object_get(params, "arguments");
	} else if (strcmp(method, "completion/complete") == 0) {
		json_t *ref = json_is_object(params) ? json_object_get(params, "ref") : NULL;
		json_t *type = json_is_object(ref) ? json_object_get(ref, "type") : NULL;

		if (json_is_string(type) && strcmp(json_string_value(type), "ref/prompt") == 0) {
			*eff = "prompts/get";
			*target = param_string(ref, "name");
		} else if (json_is_string(type) &&
			   strcmp(json_string_value(type), "ref/resource") == 0) {
			*eff = "resources/read";
			*target = param_string(ref, "uri");
		}
		if (!*target) {
			snprintf(err, errlen, "invalid request: completion/complete needs params.ref "
					      "of type ref/prompt with a name or ref/resource with a uri");
			return false;
		}
	}
	return true;
}

json_t *tg_mcp_request_json(const tg_mcp_identity *id, const char *method, const json_t *params,
			      const tg_mcp_hints *hints, int64_t now, char *err, size_t errlen)
{
	json_t *root, *context, *target, *args;
	const char *eff;
	bool tool;

	if (!adapt(method, params, &eff, &target, &args, &tool, err, errlen))
		return NULL;
	root = json_object();
	if (!root)
		goto oom;
	if (tool && hints && json_object_set_new(root, "tool", hints_json(hints)) != 0)
		goto oom;
	if (json_object_set(root, "principal", id->principal) != 0 ||
	    json_object_set(root, "token", id->token) != 0 ||
	    json_object_set_new(root, "method", json_string(eff)) != 0)
		goto oom;
	if (target && json_object_set(root, "target", target) != 0)
		goto oom;
	if (args && json_object_set(root, "args", args) != 0)
		goto oom;
	if (id->server && json_object_set(root, "server", id->server) != 0)
		goto oom;
	if (json_object_get(id->context, "time")) {
		context = json_incref(id->context);
	} else {
		/* The proxy's own clock; a shallow copy keeps the identity shared. */
		context = json_copy(id->context);
		if (!context || json_object_set_new(context, "time", json_integer(now)) != 0) {
			json_decref(context);
			goto oom;
		}
	}
	if (json_object_set_new(root, "context", context) != 0)
		goto oom;
	return root;
oom:
	snprintf(err, errlen, "invalid request: out of memory");
	json_decref(root);
	return NULL;
}

/* ---- the same request without its tree -------------------------------- */

static bool member(tg_rb *b, const char *key, json_t *v)
{
	return tg_rb_key(b, key, strlen(key)) && tg_rb_walk(b, v);
}

static bool scalar_member(tg_rb *b, const char *key, const tg_rb_scalar *v)
{
	return tg_rb_key(b, key, strlen(key)) && tg_rb_scalar_event(b, v);
}

static bool hint_member(tg_rb *b, const char *key, tg_hint h)
{
	tg_rb_scalar v = {TG_RB_BOOL, {NULL, 0}, 0, h == TG_HINT_TRUE};

	return scalar_member(b, key, &v);
}

/* The members tg_mcp_request_json sets, in its order, as builder events. */
static bool request_events(tg_rb *b, const tg_mcp_identity *id, const char *eff, json_t *target,
			   json_t *args, const tg_mcp_hints *hints, int64_t now)
{
	tg_rb_scalar m = {TG_RB_STRING, {eff, strlen(eff)}, 0, false};
	tg_rb_scalar t = {TG_RB_INT, {NULL, 0}, now, false};

	if (!tg_rb_open(b, true))
		return false;
	if (hints && !(tg_rb_key(b, "tool", 4) && tg_rb_open(b, true) &&
		       hint_member(b, "read_only", hints->read_only) &&
		       hint_member(b, "destructive", hints->destructive) &&
		       hint_member(b, "idempotent", hints->idempotent) &&
		       hint_member(b, "open_world", hints->open_world) && tg_rb_close(b)))
		return false;
	/* json_object_set refuses a NULL value: the tree's "out of memory". */
	if (!id->principal || !id->token || !json_is_object(id->context))
		return tg_rb_fatal(b, "out of memory");
	if (!member(b, "principal", id->principal) || !member(b, "token", id->token) ||
	    !scalar_member(b, "method", &m))
		return false;
	if ((target && !member(b, "target", target)) || (args && !member(b, "args", args)) ||
	    (id->server && !member(b, "server", id->server)))
		return false;
	if (json_object_get(id->context, "time")) {
		if (!member(b, "context", id->context))
			return false;
	} else if (!(tg_rb_key(b, "context", 7) && tg_rb_open(b, true) &&
		     tg_rb_walk_members(b, id->context) && scalar_member(b, "time", &t) &&
		     tg_rb_close(b))) {
		return false;
	}
	return tg_rb_close(b);
}

int tg_mcp_request_build(const tg_policy *p, const tg_mcp_identity *id, const char *method,
			 const json_t *params, const tg_mcp_hints *hints, int64_t now,
			 tg_json_request *out, char *err, size_t errlen)
{
	json_t *target, *args;
	const char *eff;
	bool tool;
	tg_rb b;

	if (!tg_rb_begin_borrowed(&b, p, out, err, errlen))
		return tg_rb_finish(&b, false, out);
	if (!adapt(method, params, &eff, &target, &args, &tool, err, errlen)) {
		/* The adapter's own message, not the builder's. */
		tg_rb_abort(&b);
		tg_json_request_free(out);
		return -1;
	}
	return tg_rb_finish(&b, request_events(&b, id, eff, target, args, tool ? hints : NULL, now),
			    out);
}

const char *tg_mcp_tool_name(const tg_rpc_msg *m, size_t *len)
{
	json_t *name;

	if (!m->method || strcmp(m->method, "tools/call") != 0)
		return NULL;
	name = param_string(json_object_get(m->root, "params"), "name");
	if (!name)
		return NULL;
	*len = json_string_length(name);
	return json_string_value(name);
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

const char *tg_mcp_readable_target(const char *method, const json_t *params)
{
	json_t *v = NULL;

	if (!method)
		return NULL;
	if (strcmp(method, "tools/call") == 0 || strcmp(method, "prompts/get") == 0)
		v = param_string(params, "name");
	else if (strncmp(method, "resources/", 10) == 0)
		v = param_string(params, "uri");
	else if (strcmp(method, "completion/complete") == 0) {
		json_t *ref = json_is_object(params) ? json_object_get(params, "ref") : NULL;

		v = param_string(ref, "name");
		if (!v)
			v = param_string(ref, "uri");
	}
	return json_string_value(v);
}

/* ---- the runtime's request and decision structs, in one place -----------
 * Only the helpers below fill a tg_request or a tg_decision field by field
 * or read one (the rest of the adapter builds requests as JSON through
 * tg_mcp_request_json), so a change in those structs' shape is met here. */

/* A request naming only who asked, for what and on what: the audit of a
 * message that never became a whole request. */
static void bare_request(tg_request *req, const tg_mcp_identity *id, const char *method,
			 const char *target, size_t target_len)
{
	json_t *pid = json_object_get(id->principal, "id");

	tg_request_init(req);
	if (json_is_string(pid)) {
		req->principal_id.ptr = json_string_value(pid);
		req->principal_id.len = json_string_length(pid);
	}
	if (method) {
		req->method.ptr = method;
		req->method.len = strlen(method);
	}
	if (target) {
		req->target.ptr = target;
		req->target.len = target_len;
	}
}

/* A decision to fill; NULL when out of memory (then nothing is audited,
 * and the caller's verdict still denies). */
static tg_decision *new_decision(void)
{
	tg_decision *d;

	return tg_decision_create(&d) == TG_OK ? d : NULL;
}

/* Writes one audit line; `extra` (JSON object members, or NULL) goes after
 * the runtime's members. The line is one write of the whole text and a
 * flush: true when it reached the stream (or there is no stream), false
 * when it did not, the stream's error then cleared so that the next line
 * is tried afresh. */
static bool audit_line(FILE *audit, const tg_policy *p, const tg_request *req, const tg_decision *d,
		       int64_t now, const char *extra)
{
	char small[2048], *buf = small;
	size_t need, more = extra ? strlen(extra) + 1 : 0, len;
	bool ok;

	if (!audit || !p)
		return true;
	need = tg_audit_format(p, req, d, now, small, sizeof small);
	if (need + more + 1 >= sizeof small) {
		buf = malloc(need + more + 2);
		if (!buf)
			return false;
		tg_audit_format(p, req, d, now, buf, need + 1);
	}
	len = need;
	if (extra && need > 0 && buf[need - 1] == '}') {
		buf[need - 1] = ',';
		memcpy(buf + need, extra, more - 1);
		buf[need + more - 1] = '}';
		len = need + more;
	}
	buf[len++] = '\n';
	ok = fwrite(buf, 1, len, audit) == len;
	ok = fflush(audit) == 0 && ok;
	if (!ok)
		clearerr(audit);
	if (buf != small)
		free(buf);
	return ok;
}

/* The members of a JSON object as text, its braces dropped; malloc'd. */
static char *members_of(json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	size_t n = s ? strlen(s) : 0;

	if (n < 2) {
		free(s);
		return NULL;
	}
	memmove(s, s + 1, n - 2);
	s[n - 2] = '\0';
	return s;
}

bool tg_mcp_audit_refusal(FILE *audit, const tg_policy *p, const tg_mcp_identity *id,
			  const tg_mcp_refusal *r, int64_t now)
{
	const char *method = json_string_value(json_object_get(r->seen, "method"));
	const char *target = tg_mcp_readable_target(method, json_object_get(r->seen, "params"));
	json_t *ids = r->ids ? json_deep_copy(r->ids) : json_array();
	json_t *x = json_pack("{s:{s:s,s:s,s:o,s:o}}", "refusal", "kind", r->kind, "from",
			      r->from_server ? "server" : "client", "code",
			      r->code ? json_integer(r->code) : json_null(), "ids", ids);
	char *extra = members_of(x);
	char reason[320];
	tg_request req;
	tg_decision *d = new_decision();
	bool ok = !audit || !p;

	json_decref(x);
	snprintf(reason, sizeof reason, "refused: %s", r->reason);
	bare_request(&req, id, method, target, target ? strlen(target) : 0);
	if (d) {
		tg_decision_set_invalid(d, reason);
		ok = audit_line(audit, p, &req, d, now, extra);
		tg_decision_free(d);
	}
	free(extra);
	return ok;
}

/* A decision whose audit line could not be written is not acted on: an
 * allow becomes a deny that says why. */
static void unaudited(tg_mcp_authz *out)
{
	out->unaudited = true;
	if (out->verdict != TG_MCP_ALLOW)
		return;
	out->verdict = TG_MCP_DENY;
	out->has_rule = out->by_error = false;
	out->rule[0] = '\0';
	out->has_reason = true;
	copy_str(out->reason, sizeof out->reason, "the audit log cannot be written");
	snprintf(out->message, sizeof out->message, "toolgate: denied: %s", out->reason);
}

/* An invalid request: answered, and audited with what is known. */
static void invalid(const tg_policy *p, const tg_mcp_identity *id, const char *method,
		    const char *target, int64_t now, FILE *audit, const char *extra,
		    tg_mcp_authz *out, const char *why)
{
	tg_request req;
	tg_decision *d = new_decision();

	out->verdict = TG_MCP_INVALID;
	copy_str(out->reason, sizeof out->reason, why);
	out->has_reason = true;
	snprintf(out->message, sizeof out->message, "toolgate: %s", out->reason);
	bare_request(&req, id, method, target, target ? strlen(target) : 0);
	if (d) {
		tg_decision_set_invalid(d, out->reason);
		if (!audit_line(audit, p, &req, d, now, extra))
			unaudited(out);
		tg_decision_free(d);
	} else if (audit && p) {
		unaudited(out);
	}
}

void tg_mcp_deny(const tg_policy *p, const tg_mcp_identity *id, const tg_rpc_msg *m,
		 const char *reason, int64_t now, FILE *audit, tg_mcp_authz *out)
{
	tg_request req;
	tg_decision *d = new_decision();

	memset(out, 0, sizeof *out);
	out->verdict = TG_MCP_DENY;
	out->has_reason = true;
	copy_str(out->reason, sizeof out->reason, reason);
	snprintf(out->message, sizeof out->message, "toolgate: denied: %s", out->reason);
	out->tool = tg_mcp_tool_name(m, &out->tool_len);
	bare_request(&req, id, m->method, out->tool, out->tool_len);
	if (d) {
		tg_decision_set_denied(d, out->reason);
		if (!audit_line(audit, p, &req, d, now, NULL))
			unaudited(out);
		tg_decision_free(d);
	} else if (audit && p) {
		unaudited(out);
	}
}

/* What the runtime said, as a verdict with words an agent can act on. */
static void verdict_of(const tg_request *req, const tg_decision *d, tg_status st,
		       tg_mcp_authz *out)
{
	char what[320];
	int tlen = req->target.ptr ? (int)(req->target.len < 200 ? req->target.len : 200) : 0;
	const char *rule = tg_decision_rule_id(d), *reason = tg_decision_reason(d);

	if (st == TG_EINVALID_REQUEST || tg_decision_invalid(d)) {
		out->verdict = TG_MCP_INVALID;
		copy_str(out->reason, sizeof out->reason, reason ? reason : "invalid request");
		out->has_reason = true;
		snprintf(out->message, sizeof out->message, "toolgate: %s", out->reason);
		return;
	}
	if (st == TG_OK && tg_decision_effect(d) == TG_ALLOW) {
		out->verdict = TG_MCP_ALLOW;
		return;
	}
	out->verdict = TG_MCP_DENY;
	out->has_rule = rule != NULL;
	out->by_error = st == TG_OK && tg_decision_by_error(d);
	out->has_reason = true;
	copy_str(out->rule, sizeof out->rule, rule);
	snprintf(what, sizeof what, "%.*s%s%.*s", (int)req->method.len, req->method.ptr,
		 tlen ? " " : "", tlen, tlen ? req->target.ptr : "");
	if (st != TG_OK)
		copy_str(out->reason, sizeof out->reason, tg_strerror(st));
	else if (reason)
		copy_str(out->reason, sizeof out->reason, reason);
	else if (rule)
		snprintf(out->reason, sizeof out->reason, "rule '%s' denies %s", rule, what);
	else
		snprintf(out->reason, sizeof out->reason, "no rule allows %s", what);
	if (rule && reason)
		snprintf(out->message, sizeof out->message, "toolgate: denied by rule '%s': %s",
			 rule, reason);
	else
		snprintf(out->message, sizeof out->message, "toolgate: denied: %s", out->reason);
}

/* Evaluates a request and audits the decision (`extra`: more audit
 * members, or NULL). */
static void judge(const tg_policy *p, const tg_json_request *jr, int64_t now, FILE *audit,
		  const char *extra, tg_mcp_authz *out)
{
	tg_decision *d = new_decision();
	tg_status st;
	bool written;

	if (!d) {
		/* Out of memory: refused, as an evaluation error would be. */
		out->verdict = TG_MCP_DENY;
		out->has_reason = true;
		copy_str(out->reason, sizeof out->reason, tg_strerror(TG_ENOMEM));
		snprintf(out->message, sizeof out->message, "toolgate: denied: %s", out->reason);
		out->unaudited = audit && p;
		return;
	}
	st = tg_eval(p, &jr->req, d);
	written = audit_line(audit, p, &jr->req, d, now, extra);
	verdict_of(&jr->req, d, st, out);
	tg_decision_free(d);
	if (!written)
		unaudited(out);
}

/* Builds the request for method and params, evaluates and audits it. */
static void decide_json(const tg_policy *p, const tg_mcp_identity *id, const char *method,
			const json_t *params, const tg_mcp_hints *hints, int64_t now, FILE *audit,
			const char *extra, tg_mcp_authz *out)
{
	tg_json_request jr;
	char err[512];

	if (tg_mcp_request_build(p, id, method, params, hints, now, &jr, err, sizeof err) != 0) {
		invalid(p, id, method, tg_mcp_readable_target(method, params), now, audit, extra,
			out, err);
		return;
	}
	judge(p, &jr, now, audit, extra, out);
	tg_json_request_free(&jr);
}

/*
 * 2026-07-28 subscriptions/listen carries authority in its params: each
 * URI in notifications.resourceSubscriptions is a subscription to that
 * resource's updates, so it is decided as the resources/read it amounts to
 * (as resources/subscribe was). One URI refused refuses the request: the
 * server gets the message that was checked or nothing, and the client
 * learns which URI, rather than a stream quietly narrower than it asked.
 */
static void decide_subscriptions(const tg_policy *p, const tg_mcp_identity *id,
				 const json_t *params, int64_t now, FILE *audit, tg_mcp_authz *out)
{
	json_t *filter = json_is_object(params) ? json_object_get(params, "notifications") : NULL;
	json_t *uris = json_is_object(filter) ? json_object_get(filter, "resourceSubscriptions")
					      : NULL;
	size_t i;

	if (!uris)
		return;
	if (!json_is_array(uris)) {
		invalid(p, id, "subscriptions/listen", NULL, now, audit, NULL, out,
			"invalid request: resourceSubscriptions must be a list of URIs");
		return;
	}
	for (i = 0; i < json_array_size(uris) && out->verdict == TG_MCP_ALLOW; i++) {
		json_t *one = json_pack("{s:O}", "uri", json_array_get(uris, i));

		if (!json_is_string(json_array_get(uris, i)))
			invalid(p, id, "subscriptions/listen", NULL, now, audit, NULL, out,
				"invalid request: resourceSubscriptions must be a list of URIs");
		else
			tg_mcp_decide_implied(p, id, "resources/read", one, "subscriptions/listen", now,
					      audit, out);
		json_decref(one);
	}
}

void tg_mcp_decide(const tg_policy *p, const tg_mcp_identity *id, const tg_mcp_tools *tools,
		     const tg_rpc_msg *m, int64_t now, FILE *audit, tg_mcp_authz *out)
{
	const json_t *params = json_object_get(m->root, "params");
	const tg_mcp_hints *hints = NULL;

	memset(out, 0, sizeof *out);
	if (tg_rpc_is_lifecycle(m->method)) {
		out->verdict = TG_MCP_PASS;
		return;
	}
	out->tool = tg_mcp_tool_name(m, &out->tool_len);
	if (out->tool) {
		const char *now_digest;

		hints = tg_mcp_tools_get(tools, out->tool, out->tool_len);
		if (!hints) {
			out->verdict = TG_MCP_NEED_TOOLS;
			return;
		}
		now_digest = tg_mcp_tools_changed(tools, out->tool, out->tool_len);
		if (now_digest) {
			char why[320];

			snprintf(why, sizeof why, "the definition of tool '%.64s' changed since it "
				 "was pinned (it digests to %s now)", out->tool, now_digest);
			tg_mcp_deny(p, id, m, why, now, audit, out);
			return;
		}
	}
	decide_json(p, id, m->method, params, hints, now, audit, NULL, out);
	if (out->verdict == TG_MCP_ALLOW && strcmp(m->method, "subscriptions/listen") == 0)
		decide_subscriptions(p, id, params, now, audit, out);
}

void tg_mcp_decide_implied(const tg_policy *p, const tg_mcp_identity *id, const char *method,
			   const json_t *params, const char *implied_by, int64_t now, FILE *audit,
			   tg_mcp_authz *out)
{
	json_t *x = json_pack("{s:s}", "for", implied_by);
	char *extra = members_of(x);

	json_decref(x);
	memset(out, 0, sizeof *out);
	decide_json(p, id, method, params, NULL, now, audit, extra, out);
	free(extra);
}

json_t *tg_mcp_answer(const tg_mcp_authz *out, const char *method, tg_mcp_deny_as as)
{
	bool denied = out->verdict == TG_MCP_DENY;
	int code = denied ? TG_RPC_DENIED : TG_RPC_INVALID_PARAMS;
	json_t *rule = out->has_rule ? json_string(out->rule) : json_null();
	json_t *ans, *data;

	if (denied && as == TG_MCP_DENY_AS_RESULT && method && strcmp(method, "tools/call") == 0) {
		ans = json_pack("{s:{s:[{s:s,s:s}],s:b,s:s,s:{s:{s:i,s:o,s:s}}}}", "result",
				"content", "type", "text", "text", out->message, "isError", 1,
				"resultType", "complete", "_meta", "toolgate/denial", "code", code,
				"rule", rule, "reason", out->reason);
		data = ans ? json_object_get(json_object_get(json_object_get(ans, "result"),
							     "_meta"),
					     "toolgate/denial")
			   : NULL;
	} else {
		ans = json_pack("{s:{s:i,s:s,s:{s:o,s:s}}}", "error", "code", code, "message",
				out->message, "data", "rule", rule, "reason", out->reason);
		data = ans ? json_object_get(json_object_get(ans, "error"), "data") : NULL;
	}
	if (ans && denied && out->by_error && json_object_set_new(data, "by_error", json_true())) {
		json_decref(ans);
		return NULL;
	}
	return ans;
}

long tg_mcp_input_roots(const tg_policy *p, const tg_mcp_identity *id, const json_t *pinned,
			json_t *params, int64_t now, FILE *audit, char *err, size_t errlen)
{
	json_t *responses = json_is_object(params) ? json_object_get(params, "inputResponses")
						   : NULL;
	const char *key;
	json_t *answer;
	long checked = 0;

	if (!json_is_object(responses))
		return 0;
	json_object_foreach(responses, key, answer) {
		/* A ListRootsResult is the answer that has roots, whatever key
		 * the server asked under: its shape, not the key, decides. */
		if (!json_is_object(answer) || !json_object_get(answer, "roots"))
			continue;
		if (tg_mcp_filter_roots(p, id, pinned, answer, now, audit) < 0) {
			snprintf(err, errlen, "invalid request: inputResponses.%.64s.roots is not a list "
					      "of roots", key);
			return -1;
		}
		checked++;
	}
	return checked;
}
