/*
 * request.c - request validation (DESIGN "A request is invalid").
 *
 * A transport may validate earlier (the CLI does, on the JSON), but the
 * runtime never trusts that it did: tg_eval and tg_visible run this check
 * first and deny an invalid request. Messages are static strings so the
 * check allocates nothing and the decision can point at them.
 */
#include "request.h"
#include "utf8.h"

#include <string.h>

void tg_request_init(tg_request *req)
{
	if (req) {
		memset(req, 0, sizeof *req);
		req->size = sizeof *req;
	}
}

void tg_request_copy(tg_request *dst, const tg_request *src)
{
	size_t n = src->size < sizeof *dst ? src->size : sizeof *dst;

	memset(dst, 0, sizeof *dst);
	memcpy(dst, src, n);
	dst->size = sizeof *dst;
}

void tg_entry_init(tg_entry *e)
{
	if (e) {
		memset(e, 0, sizeof *e);
		e->size = sizeof *e;
	}
}

/* The general validator from byte i on (i is a code point boundary). */
static bool utf8_from(const unsigned char *s, size_t i, size_t len)
{
	for (size_t n; i < len; i += n)
		if (!s[i] || !(n = tg_utf8_len(s + i, len - i)))
			return false;
	return true;
}

/* Some byte of w is zero (the classic bit trick; exact when no byte has
 * its high bit set). */
static bool has_zero(uint64_t w)
{
	return ((w - LOW_BITS) & ~w & HIGH_BITS) != 0;
}

/*
 * Well-formed UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF) without U+0000. tg_eval validates every request string on
 * every call, and request strings are nearly all short ASCII, so ASCII is
 * checked 8 bytes at a time (the last, partial word as an overlapping load
 * of the final 8 bytes); the first non-ASCII word hands over to the
 * general validator at that word's start, a code point boundary.
 */
bool tg_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	uint64_t w;
	size_t i = 0;

	if (len < 8) {
		for (; i < len; i++)
			if (s[i] == 0 || s[i] >= 0x80)
				return utf8_from(s, i, len);
		return true;
	}
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		if (w & HIGH_BITS)
			return utf8_from(s, i, len);
		if (has_zero(w))
			return false;
	}
	if (i == len)
		return true;
	memcpy(&w, s + len - 8, 8);
	if (w & HIGH_BITS)
		return utf8_from(s, i, len);
	return !has_zero(w);
}

/* u[i] is '%' and u[i+1], u[i+2] exist: is it %AB, B in either case? */
static bool pct_is(const char *u, size_t i, char a, char b)
{
	char x = u[i + 2];
	if (x >= 'a' && x <= 'z')
		x = (char)(x - 'a' + 'A');
	return u[i + 1] == a && x == b;
}

static bool uri_sep(char c)
{
	return c == '/' || c == '\\';
}

/* memchr finds the few bytes that matter: a URI is mostly plain segments. */
const char *tg_uri_problem(const char *u, size_t len)
{
	if (len == 0)
		return NULL;
	for (const char *q = len > 2 ? memchr(u, '%', len - 2) : NULL; q;
	     q = memchr(q + 1, '%', (size_t)(u + len - 2 - (q + 1)))) {
		size_t i = (size_t)(q - u);
		if (pct_is(u, i, '2', 'F') || pct_is(u, i, '5', 'C') || pct_is(u, i, '2', 'E') ||
		    pct_is(u, i, '2', '5'))
			return "invalid request: resource URI has a percent-encoded '/', '\\', '.' or '%'";
	}
	/* The path ends at a query or fragment. */
	const char *e = memchr(u, '?', len);
	size_t end = e ? (size_t)(e - u) : len;
	if ((e = memchr(u, '#', end)))
		end = (size_t)(e - u);
	/* A `.` or `..` segment starts with a dot after a separator. */
	for (const char *d = memchr(u, '.', end); d;
	     d = memchr(d + 1, '.', end - (size_t)(d + 1 - u))) {
		size_t i = (size_t)(d - u);
		if (i > 0 && !uri_sep(u[i - 1]))
			continue;
		if (i + 1 == end || uri_sep(u[i + 1]) ||
		    (u[i + 1] == '.' && (i + 2 == end || uri_sep(u[i + 2]))))
			return "invalid request: resource URI has a '.' or '..' segment";
	}
	return NULL;
}

/* What the precise check may take as known: with TG_REQUEST_VALIDATED the
 * bytes of strings (their lengths and pointers are still checked). */
typedef struct check_ctx {
	bool validated;
} check_ctx;

static const char *str_problem(const check_ctx *k, tg_str s)
{
	if (s.len > TG_MAX_STRING_BYTES)
		return "invalid request: a string is longer than 64 KiB";
	if (s.len && !s.ptr)
		return "invalid request: a string has no bytes";
	if (!k->validated && !tg_utf8_valid(s.ptr, s.len))
		return "invalid request: a string contains U+0000 or is not valid UTF-8";
	return NULL;
}

static const char *list_problem(const check_ctx *k, const tg_str *items, size_t n,
				const char *what)
{
	if (n > TG_MAX_LIST_ITEMS)
		return "invalid request: a list has more than 4096 elements";
	if (n && !items)
		return what;
	for (size_t i = 0; i < n; i++) {
		const char *why = str_problem(k, items[i]);
		if (why)
			return why;
	}
	return NULL;
}

static const char *value_problem(const check_ctx *k, const tg_value *v, unsigned depth);

/* A tree of n nodes at nesting `depth`: every count inside its bounds,
 * keys exactly inside objects, every key and leaf valid. */
static const char *tree_problem(const check_ctx *k, const tg_value *v, unsigned depth)
{
	const tg_node *nodes = v->u.tree.nodes;
	size_t n = v->u.tree.n, children = 0;

	if (depth > TG_MAX_DEPTH)
		return "invalid request: a value is nested more than 64 deep";
	if (n && !nodes)
		return "invalid request: a nested value has no nodes";
	for (size_t i = 0; i < n; i++) {
		const tg_node *e = &nodes[i];
		const char *why;

		if (++children > TG_MAX_LIST_ITEMS)
			return "invalid request: a list has more than 4096 elements";
		if ((v->type == TG_VALUE_OBJECT) != (e->key.ptr != NULL))
			return "invalid request: a nested value has a key where none belongs";
		if (e->key.ptr && (why = str_problem(k, e->key)))
			return why;
		bool container = e->value.type == TG_VALUE_OBJECT || e->value.type == TG_VALUE_ARRAY;
		if (container && (e->value.u.tree.n > n - i - 1 ||
				  (e->value.u.tree.n && e->value.u.tree.nodes != e + 1)))
			return "invalid request: a nested value does not fit its parent";
		if ((why = value_problem(k, &e->value, depth + 1)))
			return why;
		if (container)
			i += e->value.u.tree.n;
	}
	return NULL;
}

static const char *value_problem(const check_ctx *k, const tg_value *v, unsigned depth)
{
	switch (v->type) {
	case TG_VALUE_OBJECT:
	case TG_VALUE_ARRAY:
		return tree_problem(k, v, depth);
	case TG_VALUE_ABSENT:
	case TG_VALUE_INT:
	case TG_VALUE_BOOL:
	case TG_VALUE_OTHER:
		return NULL;
	case TG_VALUE_STRING:
		return str_problem(k, v->u.s);
	case TG_VALUE_STRING_LIST:
		return list_problem(k, v->u.strs.items, v->u.strs.n,
				    "invalid request: an attribute list has no elements array");
	case TG_VALUE_INT_LIST:
		if (v->u.ints.n > TG_MAX_LIST_ITEMS)
			return "invalid request: a list has more than 4096 elements";
		if (v->u.ints.n && !v->u.ints.items)
			return "invalid request: an attribute list has no elements array";
		return NULL;
	}
	return "invalid request: an attribute value has an unknown type";
}

const char *tg_request_precise(const tg_request *r, tg_bc_class *cls_out)
{
	const char *bad = NULL;

	if (!r)
		return "invalid request: no request";
	if (r->size < TG_REQUEST_V1_SIZE)
		return "invalid request: tg_request.size is not set (tg_request_init)";
	uint32_t flags = tg_request_flags(r);
	if (flags & ~TG_REQUEST_VALIDATED)
		return "invalid request: tg_request.flags has unknown flags";
	const check_ctx kk = { (flags & TG_REQUEST_VALIDATED) != 0 }, *k = &kk;
	if (!r->principal_id.ptr)
		return "invalid request: missing principal.id";
	if (!r->method.ptr)
		return "invalid request: missing method";
	if ((bad = str_problem(k, r->principal_id)) || (bad = str_problem(k, r->method)))
		return bad;
	tg_bc_class cls = *cls_out = tg_bc_method_class(r->method.ptr, r->method.len);
	bool needs_target = cls == TG_CLASS_TOOL || cls == TG_CLASS_RESOURCE || cls == TG_CLASS_PROMPT;
	if (needs_target && !r->target.ptr)
		return "invalid request: missing target for this method";
	if (r->target.ptr && (bad = str_problem(k, r->target)))
		return bad;
	if (cls == TG_CLASS_RESOURCE && (bad = tg_uri_problem(r->target.ptr, r->target.len)))
		return bad;
	if (r->server.ptr && (bad = str_problem(k, r->server)))
		return bad;
	if (r->client_id.ptr && (bad = str_problem(k, r->client_id)))
		return bad;
	if ((bad = list_problem(k, r->roles, r->nroles, "invalid request: roles has no elements array")) ||
	    (bad = list_problem(k, r->scopes, r->nscopes, "invalid request: scopes has no elements array")))
		return bad;
	if (hints_bad(r))
		return "invalid request: a tool annotation is not a boolean";
	if (r->nslots && !r->slots)
		return "invalid request: slot values missing";
	for (size_t i = 0; i < r->nslots; i++)
		if ((bad = value_problem(k, &r->slots[i], 1)))
			return bad;
	if (r->args.type != TG_VALUE_ABSENT && r->args.type != TG_VALUE_OBJECT)
		return "invalid request: args is not an object";
	if ((bad = value_problem(k, &r->args, 1)))
		return bad;
	return NULL;
}

const char *tg_request_problem(const tg_request *r, tg_bc_class *cls)
{
	return r && tg_request_quick(r, cls) ? NULL : tg_request_precise(r, cls);
}

const char *tg_request_identity_problem(const tg_request *r)
{
	bool validated = false;
	if (quick_flags(r, &validated) && quick_ok(validated, quick_identity(r, validated)))
		return NULL;
	if (r->size < TG_REQUEST_V1_SIZE) {
		tg_bc_class cls;
		return tg_request_precise(r, &cls);
	}
	/* The precise check over the identity alone: a stand-in call that
	 * is itself valid. */
	tg_request id;
	tg_request_copy(&id, r);
	id.method.ptr = "tools/list";
	id.method.len = 10;
	id.target.ptr = id.server.ptr = NULL;
	id.target.len = id.server.len = 0;
	id.read_only = id.destructive = id.idempotent = id.open_world = TG_HINT_ABSENT;
	tg_bc_class cls;
	return tg_request_precise(&id, &cls);
}

const char *tg_request_entry_problem(const tg_request *r, tg_bc_class cls)
{
	/* Only the entry's own fields are left (the method is the caller's
	 * valid constant for cls); its strings never come from the reader. */
	uint64_t acc = r->target.ptr ? quick_str(false, r->target.ptr, r->target.len) : HIGH_BITS;
	if (r->server.ptr)
		acc |= quick_str(false, r->server.ptr, r->server.len);
	if (hints_bad(r) || (cls == TG_CLASS_RESOURCE && r->target.ptr &&
			     tg_uri_problem(r->target.ptr, r->target.len)))
		acc = HIGH_BITS;
	tg_bc_class same;
	return acc & HIGH_BITS ? tg_request_precise(r, &same) : NULL;
}

tg_status tg_request_check(const tg_request *r, const char **why)
{
	tg_bc_class cls;
	const char *bad = tg_request_problem(r, &cls);
	if (why)
		*why = bad;
	return bad ? TG_EINVALID_REQUEST : TG_OK;
}
