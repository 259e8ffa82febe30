/*
 * exchange.c - one client HTTP request at an upstream's path: who is
 * calling, which session, what the message is, whether the policy allows
 * it, and the upstream's answer as the caller may see it.
 *
 * The order is fixed and every refusal happens before anything reaches the
 * upstream: method and protocol version; identity (tg_gw_identity_step);
 * the sealed session, which must have been opened by this principal at this
 * upstream (otherwise 404, the status the specification gives a session the
 * server does not know, so a stolen id tells its holder nothing); one
 * JSON-RPC message, parsed once by the adapter (tg_rpc_parse: duplicate keys,
 * batches, bad ids refused); the policy decision (tg_mcp_decide, with the
 * upstream's name as `server`) and its audit line. Only then are the
 * client's bytes forwarded, unchanged (a stdio child gets the same bytes with
 * line breaks between tokens turned into spaces: its framing is one line per
 * message, and JSON strings cannot hold raw line breaks).
 *
 * A denial is HTTP 200 with the JSON-RPC error the stdio proxy gives
 * (tg_mcp_answer, TG_RPC_* codes). List results are filtered in a
 * JSON answer and in the SSE event that carries the answer; every other
 * event passes byte for byte as it arrives.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "driver.h"
#include "gateway.h"

#define FETCH_PAGES 64
/* What a client is told when its upstream fails, as an answer or as a
 * stream's last event. */
#define UPSTREAM_FAILED "toolgate: the upstream failed: %s"
#define STDIO_PREFIX "stdio:"

typedef enum list_kind { LIST_NONE, LIST_TOOLS, LIST_RESOURCES, LIST_PROMPTS, LIST_ANY } list_kind;
typedef struct stream stream;

/* One exchange's state. On the event loop (tg_gw_exchange_start) it is
 * allocated and outlives the call that started it while its upstream call
 * is parked. */
typedef struct tg_gw_pending {
	tg_gw *gw;
	const tg_gw_conf *conf;
	const tg_gw_upstream_conf *uc;
	tg_gw_upstream *up;
	unsigned long gen;		/* up->generation when the exchange began */
	const tg_gw_http_in *in;
	tg_mcp_identity id;
	json_t *auth;			/* the token's audit members, or NULL */
	const char *principal;
	tg_gw_session sess;
	bool has_session;
	bool stateless;			/* MCP-Protocol-Version 2026-07-28 */
	long legacy_status;		/* a 2025-only upstream refused a stateless request */
	char *hdrs[TG_GW_MAX_PARAMS + 2];	/* Mcp-* lines for the upstream, rebuilt from the body */
	size_t nhdrs;
	int64_t now;
	/* the message, and what is forwarded when it is rewritten */
	tg_rpc_msg m;
	bool has_m;
	tg_gw_http_in fwd;
	char *fwd_body;			/* curl does not copy a POST body */
	/* the upstream call in progress (http_forward) */
	stream *fw;
	json_t *fw_id;
	int64_t fw_t0, fw_deadline;
	bool fw_headers, fw_timed_out;
	/* on the event loop */
	tg_gw_loop *loop;
	void (*ready)(void *ud);
	void *ready_ud;
	bool blocks;			/* it would wait: nothing was done, a worker runs it */
	bool parked;			/* the upstream call runs on the loop */
	bool answered;
	tg_gw_answer answer;		/* a parked exchange's, once made */
} ctx;

static void clear_hdrs(ctx *x)
{
	while (x->nhdrs > 0)
		free(x->hdrs[--x->nhdrs]);
}

/* Adds "Name: value" with the value encoded as 2026-07-28 headers carry
 * it. 0 or -1. */
static int add_hdr(ctx *x, const char *name, const char *value)
{
	char enc[8192];
	size_t n;

	if (x->nhdrs >= sizeof x->hdrs / sizeof x->hdrs[0] ||
	    tg_gw_header_encode(value, strlen(value), enc, sizeof enc) != 0)
		return -1;
	n = strlen(name) + strlen(enc) + 3;
	x->hdrs[x->nhdrs] = malloc(n);
	if (!x->hdrs[x->nhdrs])
		return -1;
	snprintf(x->hdrs[x->nhdrs++], n, "%s: %s", name, enc);
	return 0;
}

/* ---- answers ------------------------------------------------------------ */

static void set_type(tg_gw_answer *a, const char *t)
{
	snprintf(a->content_type, sizeof a->content_type, "%s", t);
}

static void answer_json(tg_gw_answer *a, unsigned status, const json_t *msg)
{
	a->status = status;
	a->body = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	a->body_len = a->body ? strlen(a->body) : 0;
	set_type(a, "application/json");
	if (!a->body)
		a->status = 500;
}

/* A JSON-RPC error response to id (NULL: null), or NULL. */
static json_t *rpc_error(json_t *id, int code, const char *message)
{
	return json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
			 "error", "code", code, "message", message);
}

void tg_gw_answer_error(tg_gw_answer *a, unsigned status, json_t *id, int code,
			const char *message, json_t *data)
{
	json_t *msg = rpc_error(id, code, message);

	if (msg && data)
		json_object_set_new(json_object_get(msg, "error"), "data", data);
	else
		json_decref(data);
	answer_json(a, status, msg);
	json_decref(msg);
}

/* The adapter's answer to a request it refused - the stdio proxy's very
 * answer (tg_mcp_answer) - under the request's id. */
static void answer_refused(tg_gw_answer *a, unsigned status, json_t *id, const tg_mcp_authz *out,
			   const char *method, tg_mcp_deny_as as)
{
	json_t *msg = tg_mcp_answer(out, method, as);

	if (msg && (json_object_set_new(msg, "jsonrpc", json_string("2.0")) != 0 ||
		    json_object_set(msg, "id", id ? id : json_null()) != 0)) {
		json_decref(msg);
		msg = NULL;
	}
	answer_json(a, status, msg);
	json_decref(msg);
}

void tg_gw_answer_free(tg_gw_answer *a)
{
	free(a->body);
	if (a->free)
		a->free(a->st);
	memset(a, 0, sizeof *a);
}

static void refuse(ctx *x, tg_gw_answer *a, unsigned status, tg_gw_refusal why, json_t *id,
		   int code, const char *message)
{
	tg_gw_metrics_refusal(&x->gw->metrics, why);
	tg_gw_answer_error(a, status, id, code, message, NULL);
}

static int64_t now_s(const tg_gw *gw)
{
	return gw->fixed_time > 0 ? gw->fixed_time : (int64_t)time(NULL);
}

/* ---- upstream state ----------------------------------------------------- */

static void on_notice(void *ud, const tg_rpc_msg *m)
{
	tg_gw_upstream *up = ud;

	if (m->method && strcmp(m->method, "notifications/tools/list_changed") == 0) {
		pthread_mutex_lock(&up->lock);
		tg_mcp_tools_clear(&up->tools);
		json_object_clear(up->xheaders);
		pthread_mutex_unlock(&up->lock);
	}
}

/* The url, or the command line, an upstream's tools come from. */
static char *source_of(const tg_gw_upstream_conf *uc)
{
	size_t n = 1, i;
	char *s;

	if (uc->url)
		return strdup(uc->url);
	for (i = 0; uc->command && uc->command[i]; i++)
		n += strlen(uc->command[i]) + 1;
	s = malloc(n);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (i = 0; uc->command && uc->command[i]; i++) {
		strcat(s, uc->command[i]);
		strcat(s, "\n");
	}
	return s;
}

/* Forgets what an upstream taught when it now comes from elsewhere, and a
 * stdio upstream's sessions, whose children run the old command (up->lock).
 * Configurations live until exit, so an entry seen before needs no second
 * look: the source is rebuilt only after a reload. False when out of memory. */
static bool same_source(tg_gw_upstream *up, const tg_gw_upstream_conf *uc)
{
	char *now;

	if (up->checked == uc)
		return true;
	if (!(now = source_of(uc)))
		return false;
	up->checked = uc;
	if (up->source && strcmp(up->source, now) == 0) {
		free(now);
		return true;
	}
	if (up->source) {
		tg_mcp_tools_clear(&up->tools);
		json_object_clear(up->xheaders);
		tg_gw_stdio_close_all(up->stdio);
		up->generation++;
	}
	free(up->source);
	up->source = now;
	return true;
}

tg_gw_upstream *tg_gw_upstream_of(tg_gw *gw, const tg_gw_upstream_conf *uc, unsigned long *gen)
{
	const char *name = uc->name;
	tg_gw_upstream *up = NULL;
	size_t i;

	pthread_mutex_lock(&gw->lock);
	for (i = 0; i < gw->nups; i++)
		if (strcmp(gw->ups[i].name, name) == 0) {
			up = &gw->ups[i];
			break;
		}
	if (!up && gw->nups < TG_GW_MAX_UPSTREAMS) {
		up = &gw->ups[gw->nups];
		memset(up, 0, sizeof *up);
		snprintf(up->name, sizeof up->name, "%s", name);
		up->name_json = json_string(name);
		up->xheaders = json_object();
		pthread_mutex_init(&up->lock, NULL);
		up->stdio = tg_gw_stdio_pool_create(on_notice, up);
		if (!up->name_json || !up->xheaders || !up->stdio) {
			json_decref(up->name_json);
			json_decref(up->xheaders);
			tg_gw_stdio_pool_free(up->stdio);
			pthread_mutex_destroy(&up->lock);
			up = NULL;
		} else {
			gw->nups++;
		}
	}
	if (up) {
		pthread_mutex_lock(&up->lock);
		if (!same_source(up, uc))
			up = (pthread_mutex_unlock(&up->lock), NULL);
		else {
			*gen = up->generation;
			pthread_mutex_unlock(&up->lock);
		}
	}
	pthread_mutex_unlock(&gw->lock);
	return up;
}

/* ---- the decision ------------------------------------------------------- */

static json_t *own_call(ctx *x, json_t *msg, const char *idkey);

/* The gateway's own tools/list, walking nextCursor, until `tool` is cached
 * (tools/call of a tool never listed: annotations are never guessed). */
static void fetch_tools(ctx *x, const char *tool, size_t toollen)
{
	json_t *cursor = NULL;
	unsigned page;

	for (page = 0; page < FETCH_PAGES; page++) {
		char key[64];
		json_t *msg, *resp, *next;
		bool found;
		long n;

		pthread_mutex_lock(&x->up->lock);
		snprintf(key, sizeof key, "\"toolgate-gateway-%lu\"", ++x->up->own_ids);
		pthread_mutex_unlock(&x->up->lock);
		msg = json_pack("{s:s,s:s#,s:s}", "jsonrpc", "2.0", "id", key + 1, strlen(key) - 2,
				"method", "tools/list");
		if (msg && (cursor || x->stateless))
			json_object_set_new(msg, "params", json_object());
		if (msg && cursor)
			json_object_set(json_object_get(msg, "params"), "cursor", cursor);
		if (msg && x->stateless)
			/* 2026-07-28: every request says its version and capabilities */
			json_object_set_new(json_object_get(msg, "params"), "_meta",
					    json_pack("{s:s,s:{},s:{s:s,s:s}}",
						      "io.modelcontextprotocol/protocolVersion",
						      TG_GW_STATELESS_VERSION,
						      "io.modelcontextprotocol/clientCapabilities",
						      "io.modelcontextprotocol/clientInfo", "name",
						      "toolgate-gateway", "version", "1"));
		json_decref(cursor);
		cursor = NULL;
		resp = msg ? own_call(x, msg, key) : NULL;
		json_decref(msg);
		if (!resp)
			return;
		pthread_mutex_lock(&x->up->lock);
		if (x->up->generation != x->gen) {	/* the upstream is elsewhere now */
			pthread_mutex_unlock(&x->up->lock);
			json_decref(resp);
			break;
		}
		n = tg_mcp_tools_learn(&x->up->tools, resp);
		tg_gw_xheaders_learn(x->up->xheaders, resp);
		found = tg_mcp_tools_get(&x->up->tools, tool, toollen) != NULL;
		pthread_mutex_unlock(&x->up->lock);
		next = json_object_get(json_object_get(resp, "result"), "nextCursor");
		cursor = json_is_string(next) ? json_incref(next) : NULL;
		json_decref(resp);
		if (n < 0 || found || !cursor)
			break;
	}
	json_decref(cursor);
}

/* One policy's decision, its audit lines in *lines (malloc'd). */
static void decide_with(ctx *x, tg_holder *h, const tg_rpc_msg *m, tg_mcp_authz *out,
			char **lines, size_t *nlines, bool may_fetch)
{
	const tg_policy *p = tg_holder_acquire(h);
	FILE *audit = open_memstream(lines, nlines);

	pthread_mutex_lock(&x->up->lock);
	tg_mcp_decide(p, &x->id, &x->up->tools, m, x->now, audit, out);
	pthread_mutex_unlock(&x->up->lock);
	if (out->verdict == TG_MCP_NEED_TOOLS && may_fetch && x->loop) {
		/* The fetch waits on the upstream: a worker decides again. */
		x->blocks = true;
	} else if (out->verdict == TG_MCP_NEED_TOOLS && may_fetch) {
		fetch_tools(x, out->tool, out->tool_len);
		pthread_mutex_lock(&x->up->lock);
		tg_mcp_decide(p, &x->id, &x->up->tools, m, x->now, audit, out);
		pthread_mutex_unlock(&x->up->lock);
	}
	if (out->verdict == TG_MCP_NEED_TOOLS && !x->blocks)
		/* Listed in full and still absent: refuse, never guess. */
		tg_mcp_deny(p, &x->id, m, "the tool is not in the server's tools/list", x->now,
			    audit, out);
	if (audit)
		fclose(audit);
	else
		*lines = NULL, *nlines = 0;
	tg_holder_release(h, p);
}

static tg_gw_outcome outcome_of(tg_mcp_verdict v)
{
	return v == TG_MCP_ALLOW ? TG_GW_OUT_ALLOW
	       : v == TG_MCP_PASS ? TG_GW_OUT_PASS
	       : v == TG_MCP_INVALID ? TG_GW_OUT_INVALID
				     : TG_GW_OUT_DENY;
}

/* Decides m; the audit line is written before anything is forwarded, and
 * with audit_required a decision that cannot be audited denies. */
static void decide(ctx *x, const tg_rpc_msg *m, tg_mcp_authz *out)
{
	char *lines = NULL;
	size_t n = 0;
	bool unwritten;

	decide_with(x, x->gw->holder, m, out, &lines, &n, true);
	if (x->blocks) {
		free(lines);	/* not written: the worker decides and audits */
		return;
	}
	if (x->gw->shadow && out->verdict != TG_MCP_PASS) {
		tg_mcp_authz s;
		char *sl = NULL;
		size_t sn = 0;

		/* The candidate decides and is audited, never obeyed. */
		decide_with(x, x->gw->shadow, m, &s, &sl, &sn, false);
		tg_gw_metrics_decision(&x->gw->metrics, x->up->name,
				       s.verdict == TG_MCP_ALLOW ? TG_GW_OUT_SHADOW_ALLOW
								 : TG_GW_OUT_SHADOW_DENY);
		if (sn)
			tg_gw_audit_write(&x->gw->audit, sl, sn, x->up->name, true, x->auth);
		free(sl);
	}
	unwritten = n && tg_gw_audit_write(&x->gw->audit, lines, n, x->up->name, false,
					   x->auth) != 0;
	if (unwritten && x->conf->audit_required) {
		tg_drv_error("gateway: cannot write the audit log; denying");
		tg_gw_metrics_refusal(&x->gw->metrics, TG_GW_REF_AUDIT);
		out->verdict = TG_MCP_DENY;
		out->has_rule = false;
		out->has_reason = true;
		snprintf(out->reason, sizeof out->reason, "the audit log cannot be written");
	} else if (unwritten) {
		/* The configured opposite: serving without an audit trail must
		 * not go unnoticed. */
		tg_drv_error("gateway: cannot write the audit log; serving anyway "
			     "(audit_required: false)");
	} else if (!n && lines == NULL && out->verdict != TG_MCP_PASS && x->conf->audit_required) {
		out->verdict = TG_MCP_DENY;
		out->has_reason = true;
		snprintf(out->reason, sizeof out->reason, "the audit line cannot be made");
	}
	free(lines);
	tg_gw_metrics_decision(&x->gw->metrics, x->up->name, outcome_of(out->verdict));
}

/* ---- filtering answers -------------------------------------------------- */

static list_kind kind_of(const char *method)
{
	if (!method)
		return LIST_NONE;
	if (strcmp(method, "tools/list") == 0)
		return LIST_TOOLS;
	if (strcmp(method, "resources/list") == 0)
		return LIST_RESOURCES;
	if (strcmp(method, "prompts/list") == 0)
		return LIST_PROMPTS;
	return LIST_NONE;
}

/* What filters an answer: the requester's identity, the upstream's tool
 * cache, which answer (id) and what it lists. Owns its references, so a
 * stream can outlive the request's context. */
typedef struct filter {
	tg_gw *gw;
	tg_gw_upstream *up;
	unsigned long gen;	/* the exchange's up->generation */
	tg_mcp_identity id;
	char *idkey;		/* the answer to filter; NULL: any list-shaped answer */
	bool answered;		/* the response with idkey has passed */
	list_kind kind;
	int64_t now;
	bool stateless;		/* filtered lists are marked cacheScope "private" */
	int64_t task_expires;	/* sealed task ids live until then */
} filter;

static void filter_init(filter *f, const ctx *x, const char *idkey, list_kind kind)
{
	memset(f, 0, sizeof *f);
	f->gw = x->gw;
	f->up = x->up;
	f->gen = x->gen;
	f->id.principal = json_incref(x->id.principal);
	f->id.token = json_incref(x->id.token);
	f->id.context = json_incref(x->id.context);
	f->id.server = json_incref(x->id.server);
	f->idkey = idkey ? strdup(idkey) : NULL;
	f->kind = kind;
	f->now = x->now;
	f->stateless = x->stateless;
	f->task_expires = x->now + (int64_t)x->conf->limits.session_ttl_s;
}

/* Whether a message may carry a task id: a byte search, so the common
 * message pays no parse for tasks.c. */
static bool mentions_tasks(const char *text, size_t len)
{
	static const char needle[] = "\"taskId\"";
	const char *p = text, *end = text + len;

	while ((size_t)(end - p) >= sizeof needle - 1) {
		const char *q = memchr(p, '"', (size_t)(end - p) - (sizeof needle - 2));

		if (!q)
			return false;
		if (memcmp(q, needle, sizeof needle - 1) == 0)
			return true;
		p = q + 1;
	}
	return false;
}

static void filter_free(filter *f)
{
	tg_mcp_identity_clear(&f->id);
	free(f->idkey);
}

/* A response's list kind by its shape (a resumed GET stream does not say
 * which request an answer belongs to). */
static list_kind kind_by_shape(const json_t *root)
{
	json_t *r = json_object_get(root, "result");

	if (json_is_array(json_object_get(r, "tools")))
		return LIST_TOOLS;
	if (json_is_array(json_object_get(r, "resources")))
		return LIST_RESOURCES;
	if (json_is_array(json_object_get(r, "prompts")))
		return LIST_PROMPTS;
	return LIST_NONE;
}

/*
 * Looks at one server message: returns a malloc'd replacement text when it
 * is a list answer that was filtered, NULL when it passes unchanged. *drop
 * is set when it must not pass at all (a list answer that cannot be read
 * faithfully).
 */
static char *filter_message(filter *f, const char *text, size_t len, bool *drop)
{
	tg_rpc_error err;
	tg_rpc_msg m;
	list_kind kind;
	char *out = NULL;

	bool changed = false;

	*drop = false;
	if (tg_rpc_parse(text, len, true, &m, &err) != TG_RPC_FRAME_OK) {
		tg_rpc_error_free(&err);
		/* a message that may carry a task id the gateway cannot bind */
		*drop = mentions_tasks(text, len);
		return NULL;
	}
	/* Task ids never reach a client unsealed (tasks.c). */
	if (mentions_tasks(text, len)) {
		const char *who = json_string_value(json_object_get(f->id.principal, "id"));
		long n = m.lossy || !who ? -1
					 : tg_gw_tasks_seal(&f->gw->key, f->up->name, who,
							    f->task_expires, m.root);

		if (n < 0) {
			*drop = true;
			goto done;
		}
		changed = n > 0;
	}
	if (m.kind == TG_RPC_NOTIFICATION) {
		if (strcmp(m.method, "notifications/tools/list_changed") == 0) {
			pthread_mutex_lock(&f->up->lock);
			tg_mcp_tools_clear(&f->up->tools);
			json_object_clear(f->up->xheaders);
			pthread_mutex_unlock(&f->up->lock);
		}
		goto done;
	}
	if (m.kind == TG_RPC_RESPONSE && f->idkey && strcmp(f->idkey, m.idkey) == 0)
		f->answered = true;
	if (m.kind != TG_RPC_RESPONSE || !json_object_get(m.root, "result"))
		goto done;
	if (f->idkey && strcmp(f->idkey, m.idkey) != 0)
		goto done;
	kind = f->kind == LIST_ANY ? kind_by_shape(m.root) : f->kind;
	if (kind == LIST_NONE)
		goto done;
	if (m.lossy) {
		*drop = true;
		goto done;
	}
	{
		const tg_policy *p = tg_holder_acquire(f->gw->holder);
		tg_mcp_tools scratch = {0};
		long removed;

		pthread_mutex_lock(&f->up->lock);
		/* An answer from where the upstream was before a reload is
		 * filtered, but the cache learns nothing from it. */
		bool current = f->up->generation == f->gen;
		scratch.pins = f->up->tools.pins;
		scratch.overrides = f->up->tools.overrides;
		if (kind == LIST_TOOLS && current)
			tg_gw_xheaders_learn(f->up->xheaders, m.root);
		removed = tg_mcp_filter(p, &f->id, current ? &f->up->tools : &scratch,
					kind == LIST_RESOURCES ? TG_ENTRY_RESOURCE
					: kind == LIST_PROMPTS ? TG_ENTRY_PROMPT
							       : TG_ENTRY_TOOL,
					m.root, f->now);
		pthread_mutex_unlock(&f->up->lock);
		tg_mcp_tools_dispose(&scratch);
		tg_holder_release(f->gw->holder, p);
		if (removed >= 0) {
			json_t *r = json_object_get(m.root, "result");

			/* What this list shows depends on who asked: a shared cache
			 * must never hand it to anyone else. ttlMs is kept. */
			if (f->stateless || json_object_get(r, "cacheScope"))
				json_object_set_new(r, "cacheScope", json_string("private"));
			changed = true;
		}
	}
done:
	if (changed && !*drop) {
		out = json_dumps(m.root, JSON_COMPACT);
		if (!out)
			*drop = true;
	}
	tg_rpc_msg_free(&m);
	return out;
}

/* ---- SSE relay ---------------------------------------------------------- */

struct stream {
	tg_gw_http_call call;
	tg_gw_sse sse;
	tg_px_buf out;
	filter f;
	bool ended, failed, whole;	/* whole: a GET stream, no idle limit */
	json_t *id;		/* the request's id, when the stream is its answer */
	unsigned idle_ms;
	int64_t last_ms;
	/* a stdio GET stream */
	tg_gw_child *child;
	int client_fd;
	char *body;		/* a rewritten request body curl may still be sending */
	/* on the loop: who hears of the call's news (the parked exchange, then
	 * the server's connection once the stream is the answer) */
	void (*news)(void *ud);
	void *news_ud;
};

static void on_event(void *ud, const tg_gw_sse_event *e)
{
	stream *s = ud;
	bool drop = false;
	char *repl = e->data ? filter_message(&s->f, e->data, e->data_len, &drop) : NULL;

	if (drop) {
		tg_drv_error("gateway: dropped an upstream list answer that could not be read");
		return;
	}
	if (repl) {
		tg_gw_sse_data_event(&s->out, repl, strlen(repl), e->id[0] ? e->id : NULL);
		free(repl);
		return;
	}
	tg_px_buf_add(&s->out, e->raw, e->raw_len);
}

static ssize_t copy_out(stream *s, char *buf, size_t max)
{
	size_t n = tg_px_buf_size(&s->out);

	if (n > max)
		n = max;
	memcpy(buf, tg_px_buf_head(&s->out), n);
	tg_px_buf_drop(&s->out, n);
	return (ssize_t)n;
}

/* Logged and counted once for every way an upstream fails. */
static void upstream_error(tg_gw *gw, const tg_gw_upstream *up, const char *why)
{
	tg_drv_error("gateway: upstream '%s': %s", up->name, why);
	tg_gw_metrics_upstream_error(&gw->metrics, up->name);
}

/* The upstream's stream cannot go on. When it is the answer to a request
 * that has had no response yet, the client gets one, the error a JSON
 * answer would have been, as the stream's last event; else it is cut. */
static void stream_failed(stream *s, const char *why)
{
	char msg[320], *text = NULL;
	json_t *err;

	upstream_error(s->f.gw, s->f.up, why);
	if (s->id && !s->f.answered) {
		snprintf(msg, sizeof msg, UPSTREAM_FAILED, why);
		err = rpc_error(s->id, TG_RPC_UNAVAILABLE, msg);
		text = err ? json_dumps(err, JSON_COMPACT) : NULL;
		json_decref(err);
	}
	if (text && tg_gw_sse_data_event(&s->out, text, strlen(text), NULL) == 0)
		s->ended = true;
	else
		s->failed = true;
	free(text);
}

/* A worker's stream blocks until something comes; a loop's returns 0 when
 * nothing has, and its news() says when to read again. */
static ssize_t http_stream_read(void *st, char *buf, size_t max)
{
	stream *s = st;

	for (;;) {
		size_t n;

		if (tg_px_buf_size(&s->out) > 0)
			return copy_out(s, buf, max);
		if (s->failed)
			return -2;
		if (s->ended)
			return -1;
		n = tg_px_buf_size(&s->call.in);
		if (n > 0) {
			if (tg_gw_sse_feed(&s->sse, tg_px_buf_head(&s->call.in), n, on_event,
					   s) != 0) {
				tg_px_buf_drop(&s->call.in, n);
				stream_failed(s, "an SSE event passed max_response, or memory ran "
						 "out; ending the stream");
				continue;
			}
			tg_px_buf_drop(&s->call.in, n);
			tg_gw_http_drained(&s->call);
			s->last_ms = tg_proxy_now_ms();
			continue;
		}
		if (s->call.done) {
			s->ended = true;
			continue;
		}
		if (s->call.failed || (!s->call.loop && tg_gw_http_pump(&s->call, 1000) < 0)) {
			if (s->call.client_gone)
				s->failed = true;
			else
				stream_failed(s, s->call.error);
			continue;
		}
		if (s->call.loop)
			return 0;
		if (!s->whole && tg_proxy_now_ms() - s->last_ms > s->idle_ms) {
			char why[96];

			snprintf(why, sizeof why, "sent nothing for %u ms; ending the stream",
				 s->idle_ms);
			stream_failed(s, why);
		}
	}
}

/* A loop's stream: the idle limit a worker's read checks as it waits. */
static int64_t stream_tick(void *st, int64_t now_ms)
{
	stream *s = st;
	char why[96];

	if (s->whole || s->ended || s->failed)
		return INT64_MAX;
	if (now_ms - s->last_ms <= s->idle_ms)
		return s->last_ms + s->idle_ms + 1;
	snprintf(why, sizeof why, "sent nothing for %u ms; ending the stream", s->idle_ms);
	stream_failed(s, why);
	tg_gw_http_abort(&s->call, why);
	s->news(s->news_ud);
	return INT64_MAX;
}

static void stream_news(void *ud)
{
	stream *s = ud;

	s->news(s->news_ud);
}

static void stream_free(void *st)
{
	stream *s = st;

	tg_gw_http_free(&s->call);
	tg_gw_sse_free(&s->sse);
	tg_px_buf_free(&s->out);
	filter_free(&s->f);
	json_decref(s->id);
	tg_gw_child_release(s->child);
	free(s->body);
	free(s);
}

/* ---- HTTP upstreams ------------------------------------------------------ */

static void upstream_failed(ctx *x, tg_gw_answer *a, json_t *id, bool timeout, const char *why)
{
	char msg[320];

	upstream_error(x->gw, x->up, why);
	snprintf(msg, sizeof msg, UPSTREAM_FAILED, why);
	tg_gw_answer_error(a, timeout ? 504 : 502, id, TG_RPC_UNAVAILABLE, msg, NULL);
}

static void seal_session(ctx *x, tg_gw_answer *a, const char *up_session)
{
	tg_gw_session s;

	memset(&s, 0, sizeof s);
	snprintf(s.upstream, sizeof s.upstream, "%s", x->up->name);
	snprintf(s.principal, sizeof s.principal, "%s", x->principal);
	if (strlen(up_session) >= sizeof s.up_session) {
		/* Cannot be carried whole: no session rather than a wrong one. */
		tg_drv_error("gateway: upstream '%s' gave a session id longer than %zu bytes",
			     x->up->name, sizeof s.up_session - 1);
		a->session[0] = '\0';
		return;
	}
	snprintf(s.up_session, sizeof s.up_session, "%s", up_session);
	s.expires = x->now + (int64_t)x->conf->limits.session_ttl_s;
	if (tg_gw_session_seal(&x->gw->key, &s, a->session, sizeof a->session) != 0)
		a->session[0] = '\0';
}

/* loop: the event loop to run the call on (news to s), or NULL. */
static int start_call(ctx *x, tg_gw_http_call *c, const char *method, const char *body,
		      size_t len, size_t max_in, tg_gw_loop *loop, stream *s)
{
	tg_gw_http_req r = {
		.method = method,
		.url = x->uc->url,
		.body = body,
		.body_len = len,
		.session = x->has_session ? x->sess.up_session : NULL,
		.version = x->in->version,
		.last_event_id = x->in->last_event_id,
		.extra = x->hdrs,
		.nextra = x->nhdrs,
		.configured = x->uc->headers,
		.connect_timeout_ms = x->conf->limits.connect_timeout_ms,
		.loop = loop,
		.news = stream_news,
		.news_ud = s,
	};

	if (x->stateless)
		r.session = NULL, r.last_event_id = NULL;	/* 2026-07-28 has neither */
	if (r.session && !r.session[0])
		r.session = NULL;
	return tg_gw_http_start(c, &r, max_in, x->in->client_fd);
}

/*
 * A 2026-07-28 request at an upstream that speaks only 2025 versions: such
 * a server wants a session (or a version it knows) and refuses with HTTP
 * 4xx and the 2025 SDK's generic -32000. The gateway does not translate
 * between versions (a stateless request has no session to put it in), so
 * the client is told plainly instead of getting the upstream's puzzling
 * "Server not initialized". Errors a 2026 server gives (-32020..-32099,
 * method not found, invalid params) pass unchanged. True when it answered.
 */
static bool legacy_refusal(const tg_gw_http_call *c)
{
	json_t *root, *code;
	json_int_t v;

	if (c->status != 400 && c->status != 404 && c->status != 405)
		return false;
	root = json_loadb(tg_px_buf_head(&c->in), tg_px_buf_size(&c->in), 0, NULL);
	code = json_object_get(json_object_get(root, "error"), "code");
	v = json_is_integer(code) ? json_integer_value(code) : 0;
	json_decref(root);
	return !((v <= -32020 && v >= -32099) || v == -32601 || v == -32602);
}

static void answer_legacy(ctx *x, tg_gw_answer *a, json_t *id, long status)
{
	char msg[400];

	snprintf(msg, sizeof msg,
		 "toolgate: upstream '%s' does not speak %s (it answered HTTP %ld); the gateway "
		 "does not translate between protocol versions: use 2025-11-25 with this upstream",
		 x->up->name, TG_GW_STATELESS_VERSION, status);
	tg_gw_metrics_upstream_error(&x->gw->metrics, x->up->name);
	tg_gw_answer_error(a, 502, id, TG_RPC_UNAVAILABLE, msg,
			   json_pack("{s:[s,s,s]}", "supported", "2025-11-25", "2025-06-18",
				     "2025-03-26"));
}

/* The call in x->fw failed or timed out before it was complete: an error
 * answer (none for a client that went away). */
static void forward_failed(ctx *x, tg_gw_answer *a)
{
	stream *s = x->fw;

	if (!s->call.client_gone)
		upstream_failed(x, a, x->fw_id, x->fw_timed_out || !s->call.failed, s->call.error);
	stream_free(s);
	x->fw = NULL;
}

/* The call's headers are in (waited < 0: they are not, and will not be).
 * True when *a is the answer: an error, or the stream to relay. */
static bool forward_headers(ctx *x, tg_gw_answer *a, int waited)
{
	const tg_gw_limits *l = &x->conf->limits;
	stream *s = x->fw;

	if (waited != 0) {
		forward_failed(x, a);
		return true;
	}
	tg_gw_metrics_latency(&x->gw->metrics, (double)(tg_proxy_now_ms() - x->fw_t0) / 1000.0);
	a->status = (unsigned)s->call.status;
	if (s->call.session[0] && !x->stateless)
		seal_session(x, a, s->call.session);
	if (!tg_gw_is_sse_type(s->call.content_type))
		return false;
	set_type(a, "text/event-stream");
	s->sse.max = l->max_response;
	s->idle_ms = l->response_timeout_ms;
	s->whole = strcmp(x->in->method, "GET") == 0;
	s->last_ms = tg_proxy_now_ms();
	s->body = x->fwd_body;	/* curl may still be sending it */
	x->fwd_body = NULL;
	s->id = json_incref(x->fw_id);	/* NULL for a GET stream */
	a->read = http_stream_read;
	a->free = stream_free;
	a->st = s;
	if (s->call.loop) {
		s->news = x->ready;
		s->news_ud = x->ready_ud;
		a->tick = stream_tick;
	}
	x->fw = NULL;
	return true;
}

/* The whole body is in (waited < 0: it is not, and will not be): a JSON
 * answer (filtered when it is a list answer) or whatever else the upstream
 * said (202, an error page), bounded. */
static void forward_body(ctx *x, tg_gw_answer *a, int waited)
{
	stream *s = x->fw;
	const char *body = tg_px_buf_head(&s->call.in);
	size_t len = tg_px_buf_size(&s->call.in);
	char *repl = NULL;
	bool drop = false;

	if (waited != 0) {
		a->session[0] = '\0';
		forward_failed(x, a);
		return;
	}
	set_type(a, s->call.content_type);
	if (tg_gw_is_json_type(s->call.content_type) &&
	    (s->f.kind != LIST_NONE || mentions_tasks(body, len)))
		repl = filter_message(&s->f, body, len, &drop);
	if (x->stateless && legacy_refusal(&s->call)) {
		answer_legacy(x, a, x->fw_id, s->call.status);
	} else if (drop) {
		upstream_failed(x, a, x->fw_id, false, "its list answer could not be read");
	} else if (repl) {
		a->body = repl;
		a->body_len = strlen(repl);
		repl = NULL;
	} else {
		a->body_len = len;
		a->body = malloc(len + 1);
		if (!a->body)
			a->status = 500;
		else if (len)	/* an empty buffer has no data pointer */
			memcpy(a->body, body, len);
	}
	free(repl);
	stream_free(s);
	x->fw = NULL;
}

static void pending_news(void *ud);

/* Forwards to an HTTP upstream and turns its answer into *a. On the event
 * loop the call is parked instead, and pending_news carries on. */
static void http_forward(ctx *x, tg_gw_answer *a, json_t *id, const char *idkey, list_kind kind)
{
	const tg_gw_limits *l = &x->conf->limits;
	stream *s = calloc(1, sizeof *s);

	if (!s) {
		upstream_failed(x, a, id, false, "out of memory");
		return;
	}
	filter_init(&s->f, x, idkey, kind);
	s->news = pending_news;
	s->news_ud = x;
	x->fw = s;
	x->fw_id = id;
	x->fw_t0 = tg_proxy_now_ms();
	x->fw_deadline = x->fw_t0 + l->response_timeout_ms;
	if (start_call(x, &s->call, x->in->method, x->in->body, x->in->body_len,
		       l->max_response, x->loop, s) != 0) {
		upstream_failed(x, a, id, false, s->call.error);
		stream_free(s);
		x->fw = NULL;
		return;
	}
	if (x->loop) {
		x->parked = true;
		return;
	}
	if (forward_headers(x, a, tg_gw_http_wait_headers(&s->call, x->fw_deadline)))
		return;
	forward_body(x, a, tg_gw_http_wait_done(&s->call, x->fw_deadline));
}

/* On the loop: carries a parked exchange on as far as its call allows.
 * True when x->answer is made. */
static bool pending_step(ctx *x)
{
	stream *s = x->fw;
	bool over = s->call.done || s->call.failed;

	if (!x->fw_headers) {
		if (!s->call.headers_done && !over)
			return false;
		x->fw_headers = true;
		if (forward_headers(x, &x->answer, s->call.headers_done ? 0 : -1))
			return true;
	}
	if (!over)
		return false;
	forward_body(x, &x->answer, s->call.done ? 0 : -1);
	return true;
}

static void pending_news(void *ud)
{
	ctx *x = ud;

	if (x->answered || !pending_step(x))
		return;
	x->answered = true;
	x->ready(x->ready_ud);
}

/* The gateway's own request at an HTTP upstream: the response message with
 * id `idkey`, from a JSON body or the SSE stream, or NULL. */
typedef struct own_sse {
	const char *idkey;
	json_t *found;
} own_sse;

static void own_event(void *ud, const tg_gw_sse_event *e)
{
	own_sse *o = ud;
	tg_rpc_error err;
	tg_rpc_msg m;

	if (o->found || !e->data ||
	    tg_rpc_parse(e->data, e->data_len, true, &m, &err) != TG_RPC_FRAME_OK) {
		if (!o->found && e->data)
			tg_rpc_error_free(&err);
		return;
	}
	if (m.kind == TG_RPC_RESPONSE && !m.lossy && strcmp(m.idkey, o->idkey) == 0)
		o->found = json_incref(m.root);
	tg_rpc_msg_free(&m);
}

static json_t *own_http(ctx *x, const char *line, const char *idkey)
{
	const tg_gw_limits *l = &x->conf->limits;
	int64_t deadline = tg_proxy_now_ms() + l->response_timeout_ms;
	tg_gw_http_call c;
	tg_gw_sse sse = {.max = l->max_response};
	own_sse o = {idkey, NULL};
	tg_gw_http_in in = *x->in;
	const tg_gw_http_in *saved = x->in;

	char *saved_hdrs[TG_GW_MAX_PARAMS + 2];
	size_t saved_n = x->nhdrs;

	in.method = "POST";
	in.last_event_id = NULL;
	x->in = &in;
	/* The gateway's own request carries its own headers (2026-07-28 wants
	 * Mcp-Method), not the client's. */
	memcpy(saved_hdrs, x->hdrs, sizeof saved_hdrs);
	x->nhdrs = 0;
	if (x->stateless)
		add_hdr(x, "Mcp-Method", "tools/list");
	if (start_call(x, &c, "POST", line, strlen(line), l->max_response, NULL, NULL) != 0 ||
	    tg_gw_http_wait_headers(&c, deadline) != 0)
		goto out;
	if (!tg_gw_is_sse_type(c.content_type)) {
		bool whole = tg_gw_http_wait_done(&c, deadline) == 0;

		if (whole && x->stateless && legacy_refusal(&c))
			x->legacy_status = c.status;
		if (whole && c.status == 200) {
			json_t *root = json_loadb(tg_px_buf_head(&c.in), tg_px_buf_size(&c.in),
						  JSON_REJECT_DUPLICATES, NULL);
			char *k = root ? tg_rpc_id_key(json_object_get(root, "id")) : NULL;

			if (k && strcmp(k, idkey) == 0)
				o.found = json_incref(root);
			free(k);
			json_decref(root);
		}
		goto out;
	}
	while (!o.found && tg_proxy_now_ms() < deadline) {
		size_t n = tg_px_buf_size(&c.in);

		if (n > 0) {
			if (tg_gw_sse_feed(&sse, tg_px_buf_head(&c.in), n, own_event, &o) != 0)
				break;
			tg_px_buf_drop(&c.in, n);
			continue;
		}
		if (c.done || tg_gw_http_pump(&c, 250) < 0)
			break;
	}
out:
	if (!o.found) {
		tg_drv_error("gateway: upstream '%s': the gateway's own tools/list failed%s%s",
			     x->up->name, c.error[0] ? ": " : "", c.error);
		tg_gw_metrics_upstream_error(&x->gw->metrics, x->up->name);
	}
	x->in = saved;
	clear_hdrs(x);
	memcpy(x->hdrs, saved_hdrs, sizeof saved_hdrs);
	x->nhdrs = saved_n;
	tg_gw_sse_free(&sse);
	tg_gw_http_free(&c);
	return o.found;
}

/* ---- stdio upstreams ----------------------------------------------------- */

/* The body as one line: line breaks between JSON tokens become spaces (a
 * JSON string cannot hold a raw line break, so no value changes). */
static char *one_line(const char *body, size_t len)
{
	char *s = malloc(len + 1);
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < len; i++)
		s[i] = body[i] == '\n' || body[i] == '\r' ? ' ' : body[i];
	s[len] = '\0';
	return s;
}

static tg_gw_child *session_child(ctx *x)
{
	const char *k = x->sess.up_session;

	if (!x->has_session || strncmp(k, STDIO_PREFIX, strlen(STDIO_PREFIX)) != 0)
		return NULL;
	return tg_gw_stdio_find(x->up->stdio, k + strlen(STDIO_PREFIX));
}

static json_t *own_stdio(ctx *x, const char *line, const char *idkey)
{
	tg_gw_child *c = session_child(x);
	json_t *root = NULL;
	bool timed_out;
	size_t len;
	char *ans;

	if (!c)
		return NULL;
	if (tg_gw_child_send(c, line, strlen(line), idkey) == 0 &&
	    (ans = tg_gw_child_await(c, idkey, (int)x->conf->limits.response_timeout_ms, &len,
				     &timed_out))) {
		root = json_loadb(ans, len, JSON_REJECT_DUPLICATES, NULL);
		free(ans);
	}
	tg_gw_child_release(c);
	return root;
}

static json_t *own_call(ctx *x, json_t *msg, const char *idkey)
{
	char *line = json_dumps(msg, JSON_COMPACT);
	json_t *r;

	if (!line)
		return NULL;
	r = x->uc->url ? own_http(x, line, idkey) : own_stdio(x, line, idkey);
	free(line);
	return r;
}

static void stdio_forward(ctx *x, tg_gw_answer *a, const tg_rpc_msg *m, list_kind kind)
{
	tg_gw_child *c = NULL;
	bool fresh = false, busy, timed_out;
	char *line = one_line(x->in->body, x->in->body_len), *ans = NULL;
	char err[256], key[33];
	size_t len = 0;
	int64_t t0 = tg_proxy_now_ms();

	if (!line) {
		upstream_failed(x, a, m->id, false, "out of memory");
		return;
	}
	if (!x->has_session && m->kind == TG_RPC_REQUEST && strcmp(m->method, "initialize") == 0) {
		c = tg_gw_stdio_open(x->up->stdio, x->uc->command, x->uc->env,
				     x->conf->limits.stdio_sessions, key, &busy, err, sizeof err);
		if (!c) {
			if (busy)
				refuse(x, a, 503, TG_GW_REF_BUSY, m->id, TG_RPC_BUSY, err);
			else
				upstream_failed(x, a, m->id, false, err);
			free(line);
			return;
		}
		fresh = true;
	} else {
		c = session_child(x);
		if (!c) {
			refuse(x, a, x->has_session ? 404 : 400, TG_GW_REF_SESSION, m->id,
			       TG_RPC_INVALID_REQUEST,
			       x->has_session ? "toolgate: no such session"
					      : "toolgate: a session is needed (send initialize first)");
			free(line);
			return;
		}
	}
	if (tg_gw_child_send(c, line, strlen(line), m->kind == TG_RPC_REQUEST ? m->idkey : NULL) !=
	    0) {
		upstream_failed(x, a, m->id, false, "the MCP server exited");
		goto out;
	}
	if (m->kind != TG_RPC_REQUEST) {
		a->status = 202;
		goto out;
	}
	ans = tg_gw_child_await(c, m->idkey, (int)x->conf->limits.response_timeout_ms, &len,
				&timed_out);
	if (!ans) {
		upstream_failed(x, a, m->id, timed_out,
				timed_out ? "the MCP server did not answer in time"
					  : "the MCP server exited");
		if (fresh)
			tg_gw_stdio_close(x->up->stdio, key);
		goto out;
	}
	tg_gw_metrics_latency(&x->gw->metrics, (double)(tg_proxy_now_ms() - t0) / 1000.0);
	if (fresh) {
		char up[64];

		snprintf(up, sizeof up, "%s%s", STDIO_PREFIX, key);
		seal_session(x, a, up);
	}
	if (kind != LIST_NONE || mentions_tasks(ans, len)) {
		filter f;
		bool drop;
		char *repl;

		filter_init(&f, x, m->idkey, kind);
		repl = filter_message(&f, ans, len, &drop);
		filter_free(&f);
		if (drop) {
			upstream_failed(x, a, m->id, false, "its list answer could not be read");
			a->session[0] = '\0';
			goto out;
		}
		if (repl) {
			free(ans);
			ans = repl;
			len = strlen(repl);
		}
	}
	a->status = 200;
	set_type(a, "application/json");
	a->body = ans;
	a->body_len = len;
	ans = NULL;
out:
	free(ans);
	free(line);
	tg_gw_child_release(c);
}

static ssize_t stdio_stream_read(void *st, char *buf, size_t max)
{
	stream *s = st;

	for (;;) {
		bool gone;
		size_t len;
		char *line;

		if (tg_px_buf_size(&s->out) > 0)
			return copy_out(s, buf, max);
		line = tg_gw_child_next_notice(s->child, 1000, &len, &gone);
		if (line) {
			tg_gw_sse_data_event(&s->out, line, len, NULL);
			free(line);
			continue;
		}
		if (gone)
			return -1;
		if (s->client_fd >= 0) {
			char b;
			ssize_t n = recv(s->client_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

			if (n == 0)
				return -2;
		}
	}
}

/* ---- the request ---------------------------------------------------------- */

/*
 * Step-up (docs/gateway.md, "Step-up"): a denial by a rule that auth.step_up
 * names is answered 403 insufficient_scope with every scope the client
 * needs, the token's own plus the rule's, so a client that asks its
 * authorization server for exactly those gets a token that keeps working for
 * what it could already do. The body still carries the JSON-RPC denial.
 * True when it answered.
 */
static bool step_up(ctx *x, const tg_mcp_authz *out, const char *method, tg_gw_answer *a,
		    json_t *id)
{
	const tg_gw_auth_conf *au = x->conf->auth;
	const json_t *need = au && out->has_rule ? json_object_get(au->step_up, out->rule) : NULL;
	const json_t *have = json_object_get(x->id.token, "scopes"), *v;
	char scope[1024] = "", desc[320];
	size_t i, n = 0;
	bool ok = true;

	if (!json_is_array(need) || !x->auth)
		return false;
	/* have first, then what is missing, each once */
	for (int pass = 0; pass < 2; pass++) {
		const json_t *list = pass == 0 ? have : need;

		json_array_foreach(list, i, v) {
			const char *s = json_string_value(v);
			size_t j, k = strlen(s ? s : "");
			bool dup = false;

			if (!s || !*s)
				continue;
			for (j = 0; j < n;) {
				size_t w = strcspn(scope + j, " ");

				if (w == k && strncmp(scope + j, s, k) == 0)
					dup = true;
				j += w + (scope[j + w] == ' ');
			}
			if (dup)
				continue;
			if (n + k + 2 > sizeof scope) {
				ok = false;
				break;
			}
			n += (size_t)snprintf(scope + n, sizeof scope - n, "%s%s", n ? " " : "", s);
		}
	}
	if (!ok)
		return false;
	answer_refused(a, 403, id, out, method, TG_MCP_DENY_AS_ERROR);
	snprintf(desc, sizeof desc, "rule %s needs more scope", out->rule);
	tg_gw_challenge(x->conf, x->uc, "insufficient_scope", desc, scope, a->www_authenticate,
			sizeof a->www_authenticate);
	return true;
}

static void mismatch(ctx *x, tg_gw_answer *a, json_t *id, const char *why)
{
	char msg[600];

	snprintf(msg, sizeof msg, "Header mismatch: %s", why);
	refuse(x, a, 400, TG_GW_REF_HEADER, id, TG_RPC_HEADER_MISMATCH, msg);
}

/*
 * The roots a client's message would give the server, as the policy lets
 * the identity have them (mcp/roots.c, as the stdio proxy checks them):
 * those of an answer whose result has "roots" (its shape decides: another
 * process may have relayed the server's roots/list) and those inside a
 * 2026-07-28 retry's inputResponses. Each root is a decision, audited.
 * *checked gets the text to forward instead (malloc'd), or stays NULL when
 * the message gives no roots; -1 with why when they cannot be checked or
 * audited, and then nothing of them may reach the server.
 */
static int check_roots(ctx *x, const json_t *root, char **checked, char *why, size_t whylen)
{
	bool answer = !json_object_get(root, "method"), changed = false;
	json_t *copy;
	const tg_policy *p;
	char *lines = NULL;
	size_t n = 0;
	FILE *audit;
	int k;

	*checked = NULL;
	/* the cheap test first: most messages give no roots */
	if (!json_object_get(json_object_get(root, answer ? "result" : "params"),
			     answer ? "roots" : "inputResponses"))
		return 0;
	if (x->m.lossy || !(copy = json_deep_copy(root))) {
		snprintf(why, whylen, x->m.lossy ? "a number in the message cannot be rewritten"
						 : "out of memory");
		return -1;
	}
	p = tg_holder_acquire(x->gw->holder);
	audit = open_memstream(&lines, &n);
	if (!audit) {
		k = -1;
		snprintf(why, whylen, "the audit line cannot be made");
	} else {
		k = tg_mcp_message_roots(p, &x->id, copy, x->now, audit, &changed, why, whylen);
	}
	if (audit)
		fclose(audit);
	tg_holder_release(x->gw->holder, p);
	if (k < 0 && audit)	/* roots that are not roots */
		tg_gw_metrics_refusal(&x->gw->metrics, TG_GW_REF_INVALID);
	if (k >= 0 && n &&
	    tg_gw_audit_write(&x->gw->audit, lines, n, x->up->name, false, x->auth) != 0) {
		if (x->conf->audit_required) {
			tg_drv_error("gateway: cannot write the audit log; withholding the roots");
			tg_gw_metrics_refusal(&x->gw->metrics, TG_GW_REF_AUDIT);
			snprintf(why, whylen, "the audit log cannot be written");
			k = -1;
		} else {
			tg_drv_error("gateway: cannot write the audit log; serving anyway "
				     "(audit_required: false)");
		}
	}
	free(lines);
	if (k >= 0 && changed && !(*checked = json_dumps(copy, JSON_COMPACT))) {
		snprintf(why, whylen, "out of memory");
		k = -1;
	}
	json_decref(copy);
	return k < 0 ? -1 : 0;
}

/* Forwards `body` (malloc'd, taken) instead of the client's bytes. */
static void forward_instead(ctx *x, char *body)
{
	free(x->fwd_body);
	x->fwd_body = body;
	if (x->in != &x->fwd)
		x->fwd = *x->in;
	x->fwd.body = body;
	x->fwd.body_len = strlen(body);
	x->in = &x->fwd;
}

/*
 * What goes upstream for an allowed request, decided after the policy:
 * sealed task ids opened back into the upstream's (a task id that is not
 * this principal's is refused like an unknown one, so it tells nothing);
 * the roots answered inside it checked (check_roots);
 * on 2026-07-28 the Mcp-Method, Mcp-Name and Mcp-Param-* headers rebuilt
 * from that body, the Mcp-Param-* ones checked against the tool's
 * x-mcp-header declarations first. *fwd may become x->in with another
 * body (*body owns it). 0, or -1 when it answered.
 */
static int prepare_forward(ctx *x, tg_gw_answer *a, const tg_rpc_msg *m, tg_gw_http_in *fwd,
			   char **body)
{
	json_t *root = m->root, *copy = NULL, *params;
	const char *field, *name;
	char why[512], *checked;
	int rc = -1;

	if (tg_gw_is_task_method(m->method) || mentions_tasks(x->in->body, x->in->body_len)) {
		long n;

		copy = json_deep_copy(m->root);
		n = copy ? tg_gw_tasks_open(&x->gw->key, x->up->name, x->principal, x->now, copy)
			 : -1;
		if (n < 0) {
			tg_gw_answer_error(a, 200, m->id, TG_RPC_INVALID_PARAMS,
					   "toolgate: no such task", NULL);
			goto out;
		}
		if (n > 0) {
			*body = json_dumps(copy, JSON_COMPACT);
			if (!*body) {
				upstream_failed(x, a, m->id, false, "out of memory");
				goto out;
			}
			*fwd = *x->in;
			fwd->body = *body;
			fwd->body_len = strlen(*body);
			x->in = fwd;
			root = copy;
		}
	}
	if (check_roots(x, root, &checked, why, sizeof why) != 0) {
		char text[600];

		snprintf(text, sizeof text, "toolgate: %s", why);
		tg_gw_answer_error(a, 200, m->id, TG_RPC_INVALID_PARAMS, text, NULL);
		goto out;
	}
	if (checked)
		forward_instead(x, checked);
	if (!x->stateless) {
		rc = 0;
		goto out;
	}
	params = json_object_get(root, "params");
	field = tg_gw_name_field(m->method);
	name = field ? json_string_value(json_object_get(params, field)) : NULL;
	if (add_hdr(x, "Mcp-Method", m->method) != 0 || (name && add_hdr(x, "Mcp-Name", name) != 0)) {
		mismatch(x, a, m->id, "a header cannot be carried");
		goto out;
	}
	if (strcmp(m->method, "tools/call") == 0) {
		json_t *decls;
		size_t n = 0;
		int r;

		pthread_mutex_lock(&x->up->lock);
		decls = json_incref(json_object_get(x->up->xheaders, name ? name : ""));
		pthread_mutex_unlock(&x->up->lock);
		r = tg_gw_params_check(decls, x->in, json_object_get(params, "arguments"),
				       x->hdrs + x->nhdrs,
				       &n, sizeof x->hdrs / sizeof x->hdrs[0] - x->nhdrs, why,
				       sizeof why);
		x->nhdrs += n;
		json_decref(decls);
		if (r != 0) {
			mismatch(x, a, m->id, why);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(copy);
	return rc;
}

static void post(ctx *x, tg_gw_answer *a)
{
	tg_rpc_msg *m = &x->m;
	char why[512];
	tg_rpc_error err;
	tg_mcp_authz out;
	list_kind kind = LIST_NONE;

	switch (tg_rpc_parse(x->in->body, x->in->body_len, false, m, &err)) {
	case TG_RPC_FRAME_BLANK:
		refuse(x, a, 400, TG_GW_REF_PARSE, NULL, TG_RPC_PARSE_ERROR,
		       "toolgate: the body is empty");
		return;
	case TG_RPC_FRAME_ERROR: {
		char text[200];

		snprintf(text, sizeof text, "toolgate: %s", err.message);
		refuse(x, a, 400, err.code == TG_RPC_PARSE_ERROR ? TG_GW_REF_PARSE : TG_GW_REF_INVALID,
		       json_array_size(err.reply_ids) == 1 ? json_array_get(err.reply_ids, 0) : NULL,
		       err.code, text);
		tg_rpc_error_free(&err);
		return;
	}
	case TG_RPC_FRAME_OK:
		x->has_m = true;
		break;
	}
	/* 2026-07-28's headers mirror the body; one that disagrees is refused
	 * before anything is decided or forwarded (the body is what is
	 * decided). Checked on every version: a header that disagrees is never
	 * harmless. */
	if (m->kind != TG_RPC_RESPONSE && tg_gw_stateless_check(x->in, m, why, sizeof why) != 0) {
		mismatch(x, a, m->id, why);
		return;
	}
	if (m->kind == TG_RPC_REQUEST && strcmp(m->method, "tasks/list") == 0) {
		/* Lists every caller's tasks: ids the gateway cannot bind to anyone. */
		tg_gw_answer_error(a, 200, m->id, TG_RPC_DENIED,
				   "toolgate: tasks/list is not served through the gateway (task ids "
				   "are bound to the principal that created them)",
				   NULL);
		return;
	}
	if (m->kind == TG_RPC_NOTIFICATION && !tg_rpc_is_lifecycle(m->method)) {
		/* No id, so nobody could be told of a deny: never forwarded. */
		refuse(x, a, 400, TG_GW_REF_INVALID, NULL, TG_RPC_INVALID_REQUEST,
		       "toolgate: a notification outside notifications/ is not forwarded");
		return;
	}
	/* A stdio session that has ended (DELETE, its child gone, a reload
	 * that changed the command) is 404 before anything is decided: the
	 * client starts another, where a decision would need a tool list the
	 * ended session cannot give. */
	if (!x->uc->url && x->has_session && m->kind == TG_RPC_REQUEST) {
		tg_gw_child *c = session_child(x);

		if (!c) {
			refuse(x, a, 404, TG_GW_REF_SESSION, m->id, TG_RPC_INVALID_REQUEST,
			       "toolgate: no such session");
			return;
		}
		tg_gw_child_release(c);
	}
	if (m->kind == TG_RPC_REQUEST) {
		decide(x, m, &out);
		if (x->blocks)
			return;
		if (x->legacy_status && out.verdict != TG_MCP_ALLOW && out.verdict != TG_MCP_PASS) {
			/* denied for want of the tool list a 2025-only upstream would
			 * not give: say why instead */
			answer_legacy(x, a, m->id, x->legacy_status);
			return;
		}
		switch (out.verdict) {
		case TG_MCP_DENY:
			if (step_up(x, &out, m->method, a, m->id))
				return;
			/* fall through */
		case TG_MCP_NEED_TOOLS:
		case TG_MCP_INVALID:
			answer_refused(a, 200, m->id, &out, m->method, x->conf->deny_as);
			return;
		case TG_MCP_PASS:
		case TG_MCP_ALLOW:
			break;
		}
		kind = kind_of(m->method);
		if (prepare_forward(x, a, m, &x->fwd, &x->fwd_body) != 0)
			return;
	} else if (m->kind == TG_RPC_RESPONSE) {
		char *checked;

		/* The server is told its roots/list failed rather than given
		 * roots nobody checked. */
		if (check_roots(x, m->root, &checked, why, sizeof why) != 0) {
			json_t *e = rpc_error(m->id, TG_RPC_UNAVAILABLE,
					      "toolgate: the client's roots could not be checked");

			checked = e ? json_dumps(e, JSON_COMPACT) : NULL;
			json_decref(e);
			tg_drv_error("gateway: %s; the server gets an error instead", why);
			if (!checked) {
				tg_gw_answer_error(a, 500, NULL, TG_RPC_UNAVAILABLE,
						   "toolgate: out of memory", NULL);
				return;
			}
		}
		if (checked)
			forward_instead(x, checked);
	}
	if (x->uc->url)
		http_forward(x, a, m->id, m->kind == TG_RPC_REQUEST ? m->idkey : NULL, kind);
	else
		stdio_forward(x, a, m, kind);
}

static void get(ctx *x, tg_gw_answer *a)
{
	stream *s;

	if (x->in->accept && !tg_gw_accepts(x->in->accept, "text/event-stream")) {
		refuse(x, a, 406, TG_GW_REF_MEDIA_TYPE, NULL, TG_RPC_INVALID_REQUEST,
		       "toolgate: GET opens an SSE stream: Accept must include text/event-stream");
		return;
	}
	if (x->uc->url) {
		http_forward(x, a, NULL, NULL, LIST_ANY);
		return;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		upstream_failed(x, a, NULL, false, "out of memory");
		return;
	}
	s->child = session_child(x);
	if (!s->child) {
		free(s);
		refuse(x, a, x->has_session ? 404 : 400, TG_GW_REF_SESSION, NULL,
		       TG_RPC_INVALID_REQUEST,
		       x->has_session ? "toolgate: no such session" : "toolgate: a session is needed");
		return;
	}
	filter_init(&s->f, x, NULL, LIST_ANY);
	s->client_fd = x->in->client_fd;
	a->status = 200;
	set_type(a, "text/event-stream");
	a->read = stdio_stream_read;
	a->free = stream_free;
	a->st = s;
}

static void delete(ctx *x, tg_gw_answer *a)
{
	if (!x->has_session) {
		refuse(x, a, 400, TG_GW_REF_SESSION, NULL, TG_RPC_INVALID_REQUEST,
		       "toolgate: DELETE needs Mcp-Session-Id");
		return;
	}
	if (x->uc->url) {
		http_forward(x, a, NULL, NULL, LIST_NONE);
		return;
	}
	if (strncmp(x->sess.up_session, STDIO_PREFIX, strlen(STDIO_PREFIX)) == 0 &&
	    tg_gw_stdio_close(x->up->stdio, x->sess.up_session + strlen(STDIO_PREFIX)))
		a->status = 200;
	else
		refuse(x, a, 404, TG_GW_REF_SESSION, NULL, TG_RPC_INVALID_REQUEST,
		       "toolgate: no such session");
}

/* What the exchange holds, released once it is answered. */
static void ctx_clear(ctx *x)
{
	if (x->fw)
		stream_free(x->fw);
	if (x->has_m)
		tg_rpc_msg_free(&x->m);
	free(x->fwd_body);
	clear_hdrs(x);
	json_decref(x->auth);
	tg_mcp_identity_clear(&x->id);
	tg_gw_answer_free(&x->answer);
}

/* Everything from the method to the answer, or to a parked call on the
 * loop, or to the first step that would wait (x->blocks, nothing done). */
static void exchange(ctx *x, tg_gw_answer *a)
{
	tg_gw *gw = x->gw;
	const tg_gw_conf *conf = x->conf;
	const tg_gw_upstream_conf *uc = x->uc;
	const tg_gw_http_in *in = x->in;
	tg_gw_peer peer;
	char resource[1024];
	tg_gw_who who;
	int st;

	memset(a, 0, sizeof *a);
	x->now = now_s(gw);
	x->up = tg_gw_upstream_of(gw, uc, &x->gen);
	tg_mcp_identity_init(&x->id);
	if (!x->up) {
		tg_gw_answer_error(a, 500, NULL, TG_RPC_UNAVAILABLE, "toolgate: out of memory", NULL);
		return;
	}
	if (strcmp(in->method, "POST") != 0 && strcmp(in->method, "GET") != 0 &&
	    strcmp(in->method, "DELETE") != 0) {
		refuse(x, a, 405, TG_GW_REF_METHOD, NULL, TG_RPC_INVALID_REQUEST,
		       "toolgate: an MCP endpoint takes POST, GET and DELETE");
		snprintf(a->allow, sizeof a->allow, "GET, POST, DELETE");
		return;
	}
	if (!tg_gw_version_ok(in->version)) {
		refuse(x, a, 400, TG_GW_REF_VERSION, NULL, TG_RPC_INVALID_REQUEST,
		       "toolgate: unsupported MCP-Protocol-Version");
		return;
	}
	x->stateless = tg_gw_is_stateless(in->version);
	if (x->stateless && strcmp(in->method, "POST") != 0) {
		refuse(x, a, 405, TG_GW_REF_METHOD, NULL, TG_RPC_INVALID_REQUEST,
		       "toolgate: 2026-07-28 has no GET stream and no sessions to DELETE "
		       "(subscriptions/listen is a POST)");
		snprintf(a->allow, sizeof a->allow, "POST");
		return;
	}
	if (x->stateless && in->session) {
		refuse(x, a, 400, TG_GW_REF_SESSION, NULL, TG_RPC_INVALID_REQUEST,
		       "toolgate: 2026-07-28 has no sessions: Mcp-Session-Id is not accepted");
		return;
	}
	if (x->stateless && !uc->url) {
		/* Children are per session, and 2026-07-28 has none. */
		refuse(x, a, 400, TG_GW_REF_VERSION, NULL, TG_RPC_INVALID_REQUEST,
		       "toolgate: this upstream is a stdio server, served to 2025 versions only "
		       "(use MCP-Protocol-Version 2025-11-25)");
		return;
	}
	snprintf(resource, sizeof resource, "%s%s", conf->resource, uc->path);
	peer.addr = in->peer;
	peer.authorization = in->authorization;
	peer.resource = resource;
	peer.conf = conf;
	peer.uc = uc;
	peer.header = in->header;
	peer.header_ud = in->header_ud;
	peer.no_wait = x->loop != NULL;
	memset(&who, 0, sizeof who);
	st = gw->identity.identify(gw->identity.self, &peer, &x->id, &who);
	if (st == TG_GW_WOULD_WAIT) {
		x->blocks = true;
		return;
	}
	if (st != 0) {
		char msg[300];

		snprintf(msg, sizeof msg, "toolgate: %s", who.why);
		refuse(x, a, (unsigned)st, TG_GW_REF_IDENTITY, NULL, TG_RPC_INVALID_REQUEST, msg);
		snprintf(a->www_authenticate, sizeof a->www_authenticate, "%s", who.challenge);
		json_decref(who.audit);
		return;
	}
	x->auth = who.audit;
	json_decref(x->id.server);
	x->id.server = json_incref(x->up->name_json);
	x->principal = json_string_value(json_object_get(x->id.principal, "id"));
	if (in->session) {
		tg_gw_unseal u = tg_gw_session_open(&gw->key, in->session, uc->name,
						    x->principal ? x->principal : "", x->now, &x->sess);

		if (u != TG_GW_SESSION_OK) {
			refuse(x, a, 404, TG_GW_REF_SESSION, NULL, TG_RPC_INVALID_REQUEST,
			       u == TG_GW_SESSION_EXPIRED ? "toolgate: the session has expired"
							  : "toolgate: no such session");
			return;
		}
		x->has_session = true;
	}
	if (strcmp(in->method, "POST") == 0)
		post(x, a);
	else if (strcmp(in->method, "GET") == 0)
		get(x, a);
	else
		delete(x, a);
}

void tg_gw_exchange(tg_gw *gw, const tg_gw_conf *conf, const tg_gw_upstream_conf *uc,
		    const tg_gw_http_in *in, tg_gw_answer *a)
{
	ctx x;

	memset(&x, 0, sizeof x);
	x.gw = gw;
	x.conf = conf;
	x.uc = uc;
	x.in = in;
	exchange(&x, a);
	ctx_clear(&x);
}

tg_gw_start tg_gw_exchange_start(tg_gw *gw, const tg_gw_conf *conf,
				 const tg_gw_upstream_conf *uc, const tg_gw_http_in *in,
				 tg_gw_loop *loop, void (*ready)(void *ud), void *ud,
				 tg_gw_answer *a, tg_gw_pending **pending)
{
	ctx *x;
	bool blocks;

	*pending = NULL;
	memset(a, 0, sizeof *a);
	if (!uc->url)
		return TG_GW_START_BLOCKS;	/* a stdio child is waited for */
	x = calloc(1, sizeof *x);
	if (!x)
		return TG_GW_START_BLOCKS;
	x->gw = gw;
	x->conf = conf;
	x->uc = uc;
	x->in = in;
	x->loop = loop;
	x->ready = ready;
	x->ready_ud = ud;
	exchange(x, a);
	if (x->parked) {
		*pending = x;
		return TG_GW_START_PENDING;
	}
	blocks = x->blocks;
	ctx_clear(x);
	free(x);
	if (!blocks)
		return TG_GW_START_ANSWERED;
	tg_gw_answer_free(a);
	return TG_GW_START_BLOCKS;
}

bool tg_gw_pending_take(tg_gw_pending *x, tg_gw_answer *a)
{
	if (!x->answered)
		return false;
	*a = x->answer;
	memset(&x->answer, 0, sizeof x->answer);
	tg_gw_pending_free(x);
	return true;
}

int64_t tg_gw_pending_tick(tg_gw_pending *x, int64_t now_ms)
{
	if (x->answered)
		return INT64_MAX;
	if (now_ms < x->fw_deadline)
		return x->fw_deadline;
	x->fw_timed_out = true;
	tg_gw_http_abort(&x->fw->call, "the upstream did not answer in time");
	pending_news(x);
	return INT64_MAX;
}

void tg_gw_pending_free(tg_gw_pending *x)
{
	if (!x)
		return;
	ctx_clear(x);
	free(x);
}
