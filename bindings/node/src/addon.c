/*
 * addon.c - the N-API addon under the `toolgate` Node package: a thin layer
 * that moves bytes between JavaScript and libtoolgate, libtoolgate-mcp and
 * libtoolgate-compiler. Every rule about what a request or a message means
 * lives in the C libraries; this file only converts arguments and results.
 *
 * Plain C over node_api.h (no node-addon-api): the project is C, the ABI is
 * Node-API's stable one, and the package then has no npm dependency at all.
 *
 * Threads: every function runs synchronously on the JavaScript thread of
 * its environment. One tg_decision per environment (instance data) is reused
 * by every evaluation, which is what the runtime's "one decision per thread"
 * asks: a worker_thread is another environment with its own decision.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <toolgate/compiler.h>
#include <toolgate/mcp.h>
#include <toolgate/toolgate.h>

/* ---- per-environment state ---------------------------------------------- */

typedef struct addon {
	tg_decision *d;		/* reused by every evaluation of this environment */
	napi_ref error_ctor;	/* ToolgateError, handed over by lib/index.js */
	char *buf[3];		/* scratch for strings read from JS, grown as needed */
	size_t cap[3];
	char *out;		/* scratch for decision JSON and audit lines */
	size_t outcap;
} addon;

static void addon_free(napi_env env, void *data, void *hint)
{
	addon *a = data;
	(void)hint;
	if (a->error_ctor)
		napi_delete_reference(env, a->error_ctor);
	tg_decision_free(a->d);
	for (int i = 0; i < 3; i++)
		free(a->buf[i]);
	free(a->out);
	free(a);
}

static addon *get_addon(napi_env env)
{
	void *a = NULL;
	napi_get_instance_data(env, &a);
	return a;
}

/* ---- errors --------------------------------------------------------------- */

/* The enumerator names of tg_status, in the header's order (appended there,
 * never renumbered), so that JavaScript can switch on a stable name. */
static const char *status_name(tg_status st)
{
	static const char *const names[] = {
		"TG_OK", "TG_EINVAL", "TG_ENOMEM", "TG_EIO", "TG_EBADMAGIC", "TG_EVERSION",
		"TG_ETRUNCATED", "TG_ECHECKSUM", "TG_EMALFORMED", "TG_EVERIFY", "TG_ELIMIT",
		"TG_EINVALID_REQUEST", "TG_EINTERNAL", "TG_ENOSPC", "TG_EEMPTY", "TG_ENOENT",
	};
	if ((unsigned)st < sizeof names / sizeof names[0])
		return names[st];
	return "TG_EUNKNOWN";
}

/* Sets a property; failures only happen with an exception pending, which
 * the caller's return then surfaces. */
static void set_str(napi_env env, napi_value obj, const char *key, const char *s)
{
	napi_value v;
	if (s)
		napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
	else
		napi_get_null(env, &v);
	napi_set_named_property(env, obj, key, v);
}

static void set_num(napi_env env, napi_value obj, const char *key, double n)
{
	napi_value v;
	napi_create_double(env, n, &v);
	napi_set_named_property(env, obj, key, v);
}

static void set_bool(napi_env env, napi_value obj, const char *key, bool b)
{
	napi_value v;
	napi_get_boolean(env, b, &v);
	napi_set_named_property(env, obj, key, v);
}

/*
 * Throws a ToolgateError carrying the C status: `status` (the number),
 * `code` (the enumerator's name), `reason`, and for load errors `offset` and
 * `pc`. Returns NULL so that callers can `return throw_tg(...)`.
 */
static napi_value throw_tg(napi_env env, tg_status st, const char *reason,
			   const tg_load_error *le)
{
	addon *a = get_addon(env);
	napi_value ctor = NULL, msg, err, args[1];
	char text[1024];
	bool pending = false;

	napi_is_exception_pending(env, &pending);
	if (pending)
		return NULL;
	snprintf(text, sizeof text, "%s: %s", status_name(st), reason ? reason : tg_strerror(st));
	napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
	args[0] = msg;
	if (!a || !a->error_ctor || napi_get_reference_value(env, a->error_ctor, &ctor) != napi_ok ||
	    !ctor || napi_new_instance(env, ctor, 1, args, &err) != napi_ok)
		napi_create_error(env, NULL, msg, &err);
	set_num(env, err, "status", (double)st);
	set_str(env, err, "code", status_name(st));
	set_str(env, err, "reason", reason ? reason : tg_strerror(st));
	if (le) {
		set_num(env, err, "offset", (double)le->offset);
		set_num(env, err, "pc", (double)le->pc);
	}
	napi_throw(env, err);
	return NULL;
}

static napi_value throw_type(napi_env env, const char *what)
{
	napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
	return NULL;
}

#define CHECK(call)                                                                          \
	do {                                                                                 \
		if ((call) != napi_ok)                                                       \
			return NULL;                                                         \
	} while (0)

/* ---- reading arguments ---------------------------------------------------- */

/* Reads a JS string as UTF-8 into scratch buffer `slot` (valid until the
 * next read into the same slot). Returns false with a TypeError thrown. */
static bool read_str(napi_env env, napi_value v, int slot, const char **s, size_t *len)
{
	addon *a = get_addon(env);
	size_t n, got;

	if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) {
		throw_type(env, "expected a string");
		return false;
	}
	if (n + 1 > a->cap[slot]) {
		size_t cap = n + 1 < 4096 ? 4096 : n + 1;
		char *b = realloc(a->buf[slot], cap);
		if (!b) {
			throw_tg(env, TG_ENOMEM, NULL, NULL);
			return false;
		}
		a->buf[slot] = b;
		a->cap[slot] = cap;
	}
	napi_get_value_string_utf8(env, v, a->buf[slot], a->cap[slot], &got);
	*s = a->buf[slot];
	*len = got;
	return true;
}

/* A string, or the bytes of a Buffer/TypedArray as they are (no copy). */
static bool read_text(napi_env env, napi_value v, int slot, const char **s, size_t *len)
{
	bool is_ta = false;
	napi_valuetype t;

	napi_typeof(env, v, &t);
	if (t == napi_string)
		return read_str(env, v, slot, s, len);
	napi_is_typedarray(env, v, &is_ta);
	if (is_ta) {
		napi_typedarray_type tt;
		size_t n, off;
		void *data;
		napi_value ab;
		if (napi_get_typedarray_info(env, v, &tt, &n, &data, &ab, &off) != napi_ok)
			return false;
		if (tt != napi_uint8_array && tt != napi_int8_array &&
		    tt != napi_uint8_clamped_array) {
			throw_type(env, "expected a string or a Uint8Array");
			return false;
		}
		*s = n ? data : "";
		*len = n;
		return true;
	}
	throw_type(env, "expected a string or a Uint8Array");
	return false;
}

static bool is_nullish(napi_env env, napi_value v)
{
	napi_valuetype t;
	return !v || napi_typeof(env, v, &t) != napi_ok || t == napi_undefined || t == napi_null;
}

/* ---- handles -------------------------------------------------------------
 * Each native object is an external tagged with its kind, so that a handle
 * of one kind passed where another is expected is a TypeError, not a crash. */

static const napi_type_tag TAG_POLICY = { 0x746f6f6c67617465ULL, 0x01 };
static const napi_type_tag TAG_HOLDER = { 0x746f6f6c67617465ULL, 0x02 };
static const napi_type_tag TAG_IDENTITY = { 0x746f6f6c67617465ULL, 0x03 };
static const napi_type_tag TAG_TOOLS = { 0x746f6f6c67617465ULL, 0x04 };

/* The verified bytecode a policy was loaded from, shared between the policy
 * objects made from it. Kept because the public C API adds references to a
 * loaded policy only through a holder: Holder.swap(policy) loads (and
 * verifies) these bytes again to give the holder a reference of its own. */
typedef struct bytes {
	size_t refs;
	size_t len;
	unsigned char data[];
} bytes;

static void bytes_release(bytes *b)
{
	if (b && --b->refs == 0)
		free(b);
}

/* A holder, reference-counted by the JS Holder and by every policy acquired
 * from it: tg_holder_release must run before tg_holder_free, whatever order
 * the garbage collector finalizes them in. One JS thread touches it. */
typedef struct hbox {
	tg_holder *h;
	size_t refs;
	bytes *cur;		/* the bytes of the policy last swapped in */
} hbox;

static void hbox_release(hbox *hb)
{
	if (hb && --hb->refs == 0) {
		tg_holder_free(hb->h);
		bytes_release(hb->cur);
		free(hb);
	}
}

typedef struct pol {
	const tg_policy *p;
	hbox *from;		/* acquired from this holder, or NULL: our own reference */
	bytes *b;
} pol;

static void pol_finalize(napi_env env, void *data, void *hint)
{
	pol *x = data;
	(void)env, (void)hint;
	if (x->p) {
		if (x->from)
			tg_holder_release(x->from->h, x->p);
		else
			tg_policy_free((tg_policy *)x->p);
	}
	hbox_release(x->from);
	bytes_release(x->b);
	free(x);
}

static void *unwrap(napi_env env, napi_value v, const napi_type_tag *tag, const char *what)
{
	bool ok = false;
	void *data = NULL;
	napi_valuetype t;

	if (v && napi_typeof(env, v, &t) == napi_ok && t == napi_external &&
	    napi_check_object_type_tag(env, v, tag, &ok) == napi_ok && ok &&
	    napi_get_value_external(env, v, &data) == napi_ok && data)
		return data;
	throw_type(env, what);
	return NULL;
}

static napi_value wrap(napi_env env, void *data, const napi_type_tag *tag, napi_finalize fin)
{
	napi_value v;
	if (napi_create_external(env, data, fin, NULL, &v) != napi_ok) {
		fin(env, data, NULL);
		return NULL;
	}
	napi_type_tag_object(env, v, tag);
	return v;
}

static napi_value new_pol(napi_env env, const tg_policy *p, hbox *from, bytes *b)
{
	pol *x = calloc(1, sizeof *x);
	if (!x) {
		if (from)
			tg_holder_release(from->h, p);
		else
			tg_policy_free((tg_policy *)p);
		return throw_tg(env, TG_ENOMEM, NULL, NULL);
	}
	x->p = p;
	x->from = from;
	x->b = b;
	if (from)
		from->refs++;
	if (b)
		b->refs++;
	return wrap(env, x, &TAG_POLICY, pol_finalize);
}

/*
 * The policy to evaluate with: a Policy handle, or a Holder handle whose
 * current policy is acquired for the call (*from set: release it after).
 * Returns NULL with an exception pending (an empty holder is TG_EEMPTY).
 */
static const tg_policy *get_policy(napi_env env, napi_value v, hbox **from)
{
	bool ok = false;
	void *data;

	*from = NULL;
	if (napi_check_object_type_tag(env, v, &TAG_HOLDER, &ok) == napi_ok && ok) {
		napi_get_value_external(env, v, &data);
		hbox *hb = data;
		const tg_policy *p = tg_holder_acquire(hb->h);
		if (!p) {
			throw_tg(env, TG_EEMPTY, "the holder holds no policy", NULL);
			return NULL;
		}
		*from = hb;
		return p;
	}
	pol *x = unwrap(env, v, &TAG_POLICY, "expected a Policy or a Holder");
	return x ? x->p : NULL;
}

static void put_policy(hbox *from, const tg_policy *p)
{
	if (from)
		tg_holder_release(from->h, p);
}

/* ---- results -------------------------------------------------------------- */

/* snprintf-style formatter into the environment's output scratch. */
static const char *format(addon *a, size_t (*fn)(void *, char *, size_t), void *ctx)
{
	size_t n = fn(ctx, a->out, a->outcap);
	if (n >= a->outcap) {
		char *b = realloc(a->out, n + 1);
		if (!b)
			return NULL;
		a->out = b;
		a->outcap = n + 1;
		fn(ctx, a->out, a->outcap);
	}
	return a->out;
}

typedef struct audit_ctx {
	const tg_policy *p;
	const tg_request *req;
	const tg_decision *d;
	int64_t now;
} audit_ctx;

static size_t audit_fn(void *ctx, char *buf, size_t len)
{
	audit_ctx *c = ctx;
	return tg_audit_format(c->p, c->req, c->d, c->now, buf, len);
}

/* The decision as an object, read through the decision's accessors:
 * {decision, rule, reason, errors:[{rule, message}], errorsTotal, invalid,
 * byError, lifecycle[, audit]}. */
static napi_value decision_object(napi_env env, const tg_decision *d, bool lifecycle,
				  const audit_ctx *audit)
{
	napi_value o, errs, e;
	size_t n = lifecycle ? 0 : tg_decision_error_count(d);

	CHECK(napi_create_object(env, &o));
	if (lifecycle) {
		set_str(env, o, "decision", "allow");
		set_str(env, o, "rule", NULL);
		set_str(env, o, "reason", NULL);
	} else {
		set_str(env, o, "decision", tg_decision_effect(d) == TG_ALLOW ? "allow" : "deny");
		set_str(env, o, "rule", tg_decision_rule_id(d));
		set_str(env, o, "reason", tg_decision_reason(d));
	}
	CHECK(napi_create_array_with_length(env, n, &errs));
	for (size_t i = 0; i < n; i++) {
		const char *rule = NULL, *message = NULL;
		if (tg_decision_error(d, i, NULL, &rule, &message) != TG_OK)
			break;
		CHECK(napi_create_object(env, &e));
		set_str(env, e, "rule", rule);
		set_str(env, e, "message", message);
		napi_set_element(env, errs, (uint32_t)i, e);
	}
	napi_set_named_property(env, o, "errors", errs);
	set_num(env, o, "errorsTotal", lifecycle ? 0 : (double)tg_decision_error_total(d));
	set_bool(env, o, "invalid", !lifecycle && tg_decision_invalid(d));
	set_bool(env, o, "byError", !lifecycle && tg_decision_by_error(d));
	set_bool(env, o, "lifecycle", lifecycle);
	if (audit) {
		audit_ctx c = *audit;
		const char *line = format(get_addon(env), audit_fn, &c);
		if (!line)
			return throw_tg(env, TG_ENOMEM, NULL, NULL);
		set_str(env, o, "audit", line);
	}
	return o;
}

static bool get_int64(napi_env env, napi_value v, int64_t *out)
{
	double dv;
	if (napi_get_value_double(env, v, &dv) != napi_ok) {
		throw_type(env, "expected a number");
		return false;
	}
	*out = (int64_t)dv;
	return true;
}

static bool get_bool(napi_env env, napi_value v)
{
	bool b = false;
	napi_get_value_bool(env, v, &b);
	return b;
}

/* ---- exported functions --------------------------------------------------- */

#define ARGS(n)                                                                              \
	size_t argc = (n);                                                                   \
	napi_value argv[(n) > 0 ? (n) : 1];                                                  \
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));                         \
	for (size_t i_ = argc; i_ < (n); i_++)                                               \
		napi_get_undefined(env, &argv[i_])

static napi_value js_set_error_class(napi_env env, napi_callback_info info)
{
	ARGS(1);
	addon *a = get_addon(env);
	if (a->error_ctor)
		napi_delete_reference(env, a->error_ctor);
	CHECK(napi_create_reference(env, argv[0], 1, &a->error_ctor));
	return NULL;
}

static napi_value js_version(napi_env env, napi_callback_info info)
{
	napi_value v;
	(void)info;
	CHECK(napi_create_string_utf8(env, tg_version(), NAPI_AUTO_LENGTH, &v));
	return v;
}

static napi_value load_bytes(napi_env env, const void *data, size_t len)
{
	tg_policy *p;
	tg_load_error *le = NULL;
	tg_status st = tg_policy_load(data, len, &p, &le);

	if (st != TG_OK) {
		throw_tg(env, st, le ? le->reason : NULL, le);
		tg_load_error_free(le);
		return NULL;
	}
	bytes *b = malloc(sizeof *b + len);
	if (!b) {
		tg_policy_free(p);
		return throw_tg(env, TG_ENOMEM, NULL, NULL);
	}
	b->refs = 0;
	b->len = len;
	memcpy(b->data, data, len);
	return new_pol(env, p, NULL, b);
}

/* policyLoad(bytes: Uint8Array) */
static napi_value js_policy_load(napi_env env, napi_callback_info info)
{
	ARGS(1);
	bool is_ta = false;
	napi_is_typedarray(env, argv[0], &is_ta);
	if (!is_ta)
		return throw_type(env, "expected bytecode as a Uint8Array");
	const char *s;
	size_t len;
	if (!read_text(env, argv[0], 0, &s, &len))
		return NULL;
	return load_bytes(env, s, len);
}

/* policyLoadFile(path: string). The file is read here, not with
 * tg_policy_load_file, because the bytes are kept (see `bytes`). */
static napi_value js_policy_load_file(napi_env env, napi_callback_info info)
{
	ARGS(1);
	const char *path;
	size_t plen;
	char why[512];
	if (!read_str(env, argv[0], 0, &path, &plen))
		return NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(why, sizeof why, "%s: %s", path, strerror(errno));
		return throw_tg(env, TG_EIO, why, NULL);
	}
	size_t cap = 65536, len = 0, n;
	unsigned char *data = malloc(cap);
	while (data && (n = fread(data + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			unsigned char *b = realloc(data, cap * 2);
			if (!b) {
				free(data);
				data = NULL;
				break;
			}
			data = b;
			cap *= 2;
		}
	}
	int failed = ferror(f);
	fclose(f);
	if (!data)
		return throw_tg(env, TG_ENOMEM, NULL, NULL);
	if (failed) {
		free(data);
		snprintf(why, sizeof why, "%s: read error", path);
		return throw_tg(env, TG_EIO, why, NULL);
	}
	napi_value v = load_bytes(env, data, len);
	free(data);
	return v;
}

/* policyInfo(policy) */
static napi_value js_policy_info(napi_env env, napi_callback_info info)
{
	ARGS(1);
	hbox *from;
	napi_value o;
	const tg_policy *p = get_policy(env, argv[0], &from);
	if (!p)
		return NULL;
	if (napi_create_object(env, &o) == napi_ok) {
		set_str(env, o, "name", tg_policy_name(p));
		set_str(env, o, "version", tg_policy_version(p));
		set_str(env, o, "hash", tg_policy_hash(p));
		set_str(env, o, "sourceHash", tg_policy_source_hash(p));
		set_num(env, o, "rules", tg_policy_rule_count(p));
		set_num(env, o, "maxInstructions", tg_policy_max_instructions(p));
		set_bool(env, o, "defaultAllow", tg_policy_default_allow(p));
	}
	put_policy(from, p);
	return o;
}

static void identity_finalize(napi_env env, void *data, void *hint)
{
	(void)env, (void)hint;
	tg_mcp_identity_free(data);
}

/* identityParse(json: string) */
static napi_value js_identity_parse(napi_env env, napi_callback_info info)
{
	ARGS(1);
	const char *s;
	size_t len;
	char why[256];
	tg_mcp_identity *id;
	if (!read_text(env, argv[0], 0, &s, &len))
		return NULL;
	tg_status st = tg_mcp_identity_parse(s, len, &id, why, sizeof why);
	if (st != TG_OK)
		return throw_tg(env, st, st == TG_EINVALID_REQUEST ? why : NULL, NULL);
	return wrap(env, id, &TAG_IDENTITY, identity_finalize);
}

static void tools_finalize(napi_env env, void *data, void *hint)
{
	(void)env, (void)hint;
	tg_mcp_tools_free(data);
}

static napi_value js_tools_create(napi_env env, napi_callback_info info)
{
	tg_mcp_tools *t;
	(void)info;
	tg_status st = tg_mcp_tools_create(&t);
	if (st != TG_OK)
		return throw_tg(env, st, NULL, NULL);
	return wrap(env, t, &TAG_TOOLS, tools_finalize);
}

static napi_value js_tools_reset(napi_env env, napi_callback_info info)
{
	ARGS(1);
	tg_mcp_tools *t = unwrap(env, argv[0], &TAG_TOOLS, "expected a Tools");
	if (t)
		tg_mcp_tools_reset(t);
	return NULL;
}

/*
 * The identity of a call: a prepared Identity handle, or JSON text parsed
 * for this call only (*tmp set: free it after). NULL with an exception.
 */
static const tg_mcp_identity *get_identity(napi_env env, napi_value v, tg_mcp_identity **tmp)
{
	bool ok = false;
	void *data;
	const char *s;
	size_t len;
	char why[256];

	*tmp = NULL;
	if (napi_check_object_type_tag(env, v, &TAG_IDENTITY, &ok) == napi_ok && ok) {
		napi_get_value_external(env, v, &data);
		return data;
	}
	if (!read_text(env, v, 1, &s, &len))
		return NULL;
	tg_status st = tg_mcp_identity_parse(s, len, tmp, why, sizeof why);
	if (st != TG_OK) {
		throw_tg(env, st, st == TG_EINVALID_REQUEST ? why : NULL, NULL);
		return NULL;
	}
	return *tmp;
}

/* authorize(policy|holder, identity|json, tools|null, message, now, audit) */
static napi_value js_authorize(napi_env env, napi_callback_info info)
{
	ARGS(6);
	addon *a = get_addon(env);
	const char *msg;
	size_t len;
	int64_t now;
	tg_mcp_identity *tmp;
	tg_mcp_tools *tools = NULL;
	tg_mcp_request *r = NULL;
	char why[512];
	hbox *from;
	napi_value result = NULL;

	if (!is_nullish(env, argv[2]) &&
	    !(tools = unwrap(env, argv[2], &TAG_TOOLS, "expected a Tools")))
		return NULL;
	if (!get_int64(env, argv[4], &now))
		return NULL;
	bool want_audit = get_bool(env, argv[5]);
	const tg_mcp_identity *id = get_identity(env, argv[1], &tmp);
	if (!id)
		return NULL;
	if (!read_text(env, argv[3], 0, &msg, &len)) {
		tg_mcp_identity_free(tmp);
		return NULL;
	}
	const tg_policy *p = get_policy(env, argv[0], &from);
	if (!p) {
		tg_mcp_identity_free(tmp);
		return NULL;
	}
	tg_status st = tg_mcp_request_from_message(p, id, tools, msg, len, now, &r, why, sizeof why);
	if (st == TG_OK && !r) {
		result = decision_object(env, a->d, true, NULL);
	} else if (st == TG_OK || st == TG_EINVALID_REQUEST) {
		/* A message that cannot make a request is an invalid deny, audited
		 * and returned like any other decision. */
		if (st == TG_OK)
			tg_eval(p, tg_mcp_request_get(r), a->d);
		else
			tg_decision_set_invalid(a->d, why);
		audit_ctx c = { p, r ? tg_mcp_request_get(r) : NULL, a->d, now };
		result = decision_object(env, a->d, false, want_audit ? &c : NULL);
	} else {
		throw_tg(env, st, NULL, NULL);
	}
	tg_mcp_request_free(r);
	put_policy(from, p);
	tg_mcp_identity_free(tmp);
	return result;
}

/* evalJson(policy|holder, text, now, audit): DESIGN's request model. */
static napi_value js_eval_json(napi_env env, napi_callback_info info)
{
	ARGS(4);
	addon *a = get_addon(env);
	const char *text;
	size_t len;
	int64_t now;
	hbox *from;
	napi_value result = NULL;

	if (!get_int64(env, argv[2], &now))
		return NULL;
	bool want_audit = get_bool(env, argv[3]);
	if (!read_text(env, argv[1], 0, &text, &len))
		return NULL;
	const tg_policy *p = get_policy(env, argv[0], &from);
	if (!p)
		return NULL;
	tg_status st;
	if (!want_audit) {
		st = tg_eval_json(p, text, len, a->d);
		if (st == TG_OK || st == TG_EINVALID_REQUEST || st == TG_EINTERNAL)
			result = decision_object(env, a->d, false, NULL);
		else
			throw_tg(env, st, NULL, NULL);
	} else {
		/* The audit line needs the request: parse, evaluate, format. */
		tg_mcp_request *r = NULL;
		char why[512];
		st = tg_mcp_request_parse(p, text, len, &r, why, sizeof why);
		if (st == TG_OK)
			tg_eval(p, tg_mcp_request_get(r), a->d);
		else if (st == TG_EINVALID_REQUEST)
			tg_decision_set_invalid(a->d, why);
		if (st == TG_OK || st == TG_EINVALID_REQUEST) {
			audit_ctx c = { p, r ? tg_mcp_request_get(r) : NULL, a->d, now };
			result = decision_object(env, a->d, false, &c);
		} else {
			throw_tg(env, st, NULL, NULL);
		}
		tg_mcp_request_free(r);
	}
	put_policy(from, p);
	return result;
}

/* filterList(policy|holder, identity|json, tools|null, method, response, now)
 * -> [filtered text, removed] */
static napi_value js_filter_list(napi_env env, napi_callback_info info)
{
	ARGS(6);
	const char *method, *resp;
	size_t mlen, rlen, out_len = 0, removed = 0;
	int64_t now;
	tg_mcp_identity *tmp;
	tg_mcp_tools *tools = NULL;
	char *out = NULL;
	hbox *from;
	napi_value result = NULL;

	if (!is_nullish(env, argv[2]) &&
	    !(tools = unwrap(env, argv[2], &TAG_TOOLS, "expected a Tools")))
		return NULL;
	if (!get_int64(env, argv[5], &now))
		return NULL;
	if (!read_str(env, argv[3], 2, &method, &mlen))
		return NULL;
	const tg_mcp_identity *id = get_identity(env, argv[1], &tmp);
	if (!id)
		return NULL;
	if (!read_text(env, argv[4], 0, &resp, &rlen)) {
		tg_mcp_identity_free(tmp);
		return NULL;
	}
	const tg_policy *p = get_policy(env, argv[0], &from);
	if (p) {
		tg_status st = tg_mcp_filter_list(p, id, tools, method, resp, rlen, now, &out,
						  &out_len, &removed);
		if (st == TG_OK) {
			napi_value text, n;
			if (napi_create_array_with_length(env, 2, &result) == napi_ok &&
			    napi_create_string_utf8(env, out, out_len, &text) == napi_ok &&
			    napi_create_double(env, (double)removed, &n) == napi_ok) {
				napi_set_element(env, result, 0, text);
				napi_set_element(env, result, 1, n);
			}
			tg_mcp_free(out);
		} else {
			throw_tg(env, st,
				 st == TG_EINVALID_REQUEST
					 ? "the response is not JSON or has no such list"
					 : NULL,
				 NULL);
		}
		put_policy(from, p);
	}
	tg_mcp_identity_free(tmp);
	return result;
}

/* checkRoots(policy|holder, identity|json, message, now) -> text, or null
 * when the message gives no roots */
static napi_value js_check_roots(napi_env env, napi_callback_info info)
{
	ARGS(4);
	const char *msg;
	size_t mlen, out_len = 0;
	int64_t now;
	tg_mcp_identity *tmp;
	char *out = NULL;
	hbox *from;
	napi_value result = NULL;

	if (!get_int64(env, argv[3], &now))
		return NULL;
	const tg_mcp_identity *id = get_identity(env, argv[1], &tmp);
	if (!id)
		return NULL;
	if (!read_text(env, argv[2], 0, &msg, &mlen)) {
		tg_mcp_identity_free(tmp);
		return NULL;
	}
	const tg_policy *p = get_policy(env, argv[0], &from);
	if (p) {
		tg_status st = tg_mcp_check_roots(p, id, msg, mlen, now, &out, &out_len);
		if (st != TG_OK)
			throw_tg(env, st,
				 st == TG_EINVALID_REQUEST
					 ? "the message is not JSON or its roots are not a list of roots"
					 : NULL,
				 NULL);
		else if (!out)
			napi_get_null(env, &result);
		else
			napi_create_string_utf8(env, out, out_len, &result);
		tg_mcp_free(out);
		put_policy(from, p);
	}
	tg_mcp_identity_free(tmp);
	return result;
}

static void holder_finalize(napi_env env, void *data, void *hint)
{
	(void)env, (void)hint;
	hbox_release(data);
}

static napi_value js_holder_create(napi_env env, napi_callback_info info)
{
	(void)info;
	hbox *hb = calloc(1, sizeof *hb);
	if (!hb)
		return throw_tg(env, TG_ENOMEM, NULL, NULL);
	tg_status st = tg_holder_create(&hb->h);
	if (st != TG_OK) {
		free(hb);
		return throw_tg(env, st, NULL, NULL);
	}
	hb->refs = 1;
	return wrap(env, hb, &TAG_HOLDER, holder_finalize);
}

/* holderSwap(holder, policy|null): the holder gets a reference of its own
 * (see `bytes`); requests holding the previous policy finish on it. */
static napi_value js_holder_swap(napi_env env, napi_callback_info info)
{
	ARGS(2);
	hbox *hb = unwrap(env, argv[0], &TAG_HOLDER, "expected a Holder");
	if (!hb)
		return NULL;
	if (is_nullish(env, argv[1])) {
		tg_holder_swap(hb->h, NULL);
		bytes_release(hb->cur);
		hb->cur = NULL;
		return NULL;
	}
	pol *x = unwrap(env, argv[1], &TAG_POLICY, "expected a Policy");
	if (!x)
		return NULL;
	if (!x->b)
		return throw_tg(env, TG_EINVAL, "the policy's bytecode is not known", NULL);
	tg_policy *p;
	tg_load_error *le = NULL;
	tg_status st = tg_policy_load(x->b->data, x->b->len, &p, &le);
	if (st != TG_OK) {
		throw_tg(env, st, le ? le->reason : NULL, le);
		tg_load_error_free(le);
		return NULL;
	}
	tg_holder_swap(hb->h, p);
	x->b->refs++;
	bytes_release(hb->cur);
	hb->cur = x->b;
	return NULL;
}

/* holderCurrent(holder) -> a policy handle holding an acquired reference
 * (released when the handle is collected), or null when empty. */
static napi_value js_holder_current(napi_env env, napi_callback_info info)
{
	ARGS(1);
	napi_value v;
	hbox *hb = unwrap(env, argv[0], &TAG_HOLDER, "expected a Holder");
	if (!hb)
		return NULL;
	const tg_policy *p = tg_holder_acquire(hb->h);
	if (!p) {
		napi_get_null(env, &v);
		return v;
	}
	return new_pol(env, p, hb, hb->cur);
}

typedef struct render_ctx {
	const tg_compilation *c;
} render_ctx;

static size_t render_fn(void *ctx, char *buf, size_t len)
{
	return tg_compilation_render(((render_ctx *)ctx)->c, buf, len);
}

/* compile(source, path|null, flags) -> {bytecode, diagnostics, errors,
 * warnings, text} */
static napi_value js_compile(napi_env env, napi_callback_info info)
{
	ARGS(3);
	const char *src, *path = NULL;
	size_t len, plen;
	uint32_t flags = 0;
	tg_compilation *c;
	napi_value o, diags, v;

	if (!read_text(env, argv[0], 0, &src, &len))
		return NULL;
	if (!is_nullish(env, argv[1]) && !read_str(env, argv[1], 1, &path, &plen))
		return NULL;
	napi_get_value_uint32(env, argv[2], &flags);
	tg_status st = tg_compile(src, len, path, flags, &c);
	if (st != TG_OK)
		return throw_tg(env, st, NULL, NULL);
	if (napi_create_object(env, &o) != napi_ok)
		goto fail;
	size_t blen;
	const unsigned char *code = tg_compilation_bytecode(c, &blen);
	if (code) {
		void *dst;
		if (napi_create_buffer_copy(env, blen, code, &dst, &v) != napi_ok)
			goto fail;
	} else {
		napi_get_null(env, &v);
	}
	napi_set_named_property(env, o, "bytecode", v);
	size_t n = tg_compilation_diagnostic_count(c);
	if (napi_create_array_with_length(env, n, &diags) != napi_ok)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const tg_diagnostic *d = tg_compilation_diagnostic(c, i);
		napi_value e;
		if (!d || napi_create_object(env, &e) != napi_ok)
			goto fail;
		set_str(env, e, "file", d->file);
		set_num(env, e, "line", d->line);
		set_num(env, e, "column", d->column);
		set_num(env, e, "endLine", d->end_line);
		set_num(env, e, "endColumn", d->end_column);
		set_str(env, e, "severity", d->severity == TG_DIAG_ERROR ? "error" : "warning");
		set_str(env, e, "lintId", d->lint_id);
		set_str(env, e, "message", d->message);
		set_str(env, e, "hint", d->hint);
		napi_set_element(env, diags, (uint32_t)i, e);
	}
	napi_set_named_property(env, o, "diagnostics", diags);
	set_num(env, o, "errors", (double)tg_compilation_error_count(c));
	set_num(env, o, "warnings", (double)tg_compilation_warning_count(c));
	render_ctx rc = { c };
	const char *text = format(get_addon(env), render_fn, &rc);
	set_str(env, o, "text", text ? text : "");
	tg_compilation_free(c);
	return o;
fail:
	tg_compilation_free(c);
	return NULL;
}

/* ---- module --------------------------------------------------------------- */

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */)
{
	static const struct {
		const char *name;
		napi_callback fn;
	} fns[] = {
		{ "setErrorClass", js_set_error_class },
		{ "version", js_version },
		{ "policyLoad", js_policy_load },
		{ "policyLoadFile", js_policy_load_file },
		{ "policyInfo", js_policy_info },
		{ "identityParse", js_identity_parse },
		{ "toolsCreate", js_tools_create },
		{ "toolsReset", js_tools_reset },
		{ "authorize", js_authorize },
		{ "evalJson", js_eval_json },
		{ "filterList", js_filter_list },
		{ "checkRoots", js_check_roots },
		{ "holderCreate", js_holder_create },
		{ "holderSwap", js_holder_swap },
		{ "holderCurrent", js_holder_current },
		{ "compile", js_compile },
	};
	addon *a = calloc(1, sizeof *a);

	if (!a || tg_decision_create(&a->d) != TG_OK) {
		free(a);
		napi_throw_error(env, "TG_ENOMEM", "toolgate: out of memory");
		return NULL;
	}
	if (napi_set_instance_data(env, a, addon_free, NULL) != napi_ok) {
		addon_free(env, a, NULL);
		return NULL;
	}
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		napi_value f;
		if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) !=
			    napi_ok ||
		    napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
			return NULL;
	}
	return exports;
}
