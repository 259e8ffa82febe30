/*
 * request.c - request validation (DESIGN "A request is invalid").
 *
 * A transport may validate earlier (the CLI does, on the JSON), but the
 * runtime never trusts that it did: tg_eval and tg_visible run this check
 * first and deny an invalid request. Messages are static strings so the
 * check allocates nothing and the decision can point at them.
 */
#include "policy.h"

#include <string.h>

void tg_request_init(tg_request *req)
{
	if (req)
		memset(req, 0, sizeof *req);
}

/* The general validator from byte i on (i is a code point boundary). */
static bool utf8_from(const unsigned char *s, size_t i, size_t len)
{
	while (i < len) {
		unsigned c = s[i];
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		unsigned lo = 0x80, hi = 0xBF;
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= n; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		i += n + 1;
	}
	return true;
}

#define HIGH_BITS 0x8080808080808080u
#define LOW_BITS 0x0101010101010101u

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

const char *tg_uri_problem(const char *u, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++) {
		if (u[i] != '%')
			continue;
		if (pct_is(u, i, '2', 'F') || pct_is(u, i, '5', 'C') || pct_is(u, i, '2', 'E') ||
		    pct_is(u, i, '2', '5'))
			return "invalid request: resource URI has a percent-encoded '/', '\\', '.' or '%'";
	}
	/* The path ends at a query or fragment. */
	size_t end = 0;
	while (end < len && u[end] != '?' && u[end] != '#')
		end++;
	for (size_t i = 0, seg = 0; i <= end; i++) {
		if (i < end && u[i] != '/' && u[i] != '\\')
			continue;
		size_t sl = i - seg;
		if ((sl == 1 && u[seg] == '.') || (sl == 2 && u[seg] == '.' && u[seg + 1] == '.'))
			return "invalid request: resource URI has a '.' or '..' segment";
		seg = i + 1;
	}
	return NULL;
}

static const char *str_problem(tg_str s)
{
	if (s.len > TG_MAX_STRING_BYTES)
		return "invalid request: a string is longer than 64 KiB";
	if (s.len && !s.ptr)
		return "invalid request: a string has no bytes";
	if (!tg_utf8_valid(s.ptr, s.len))
		return "invalid request: a string contains U+0000 or is not valid UTF-8";
	return NULL;
}

static const char *list_problem(const tg_str *items, size_t n, const char *what)
{
	if (n > TG_MAX_LIST_ITEMS)
		return "invalid request: a list has more than 4096 elements";
	if (n && !items)
		return what;
	for (size_t i = 0; i < n; i++) {
		const char *why = str_problem(items[i]);
		if (why)
			return why;
	}
	return NULL;
}

static const char *value_problem(const tg_value *v)
{
	switch (v->type) {
	case TG_VALUE_ABSENT:
	case TG_VALUE_INT:
	case TG_VALUE_BOOL:
	case TG_VALUE_OTHER:
		return NULL;
	case TG_VALUE_STRING:
		return str_problem(v->u.s);
	case TG_VALUE_STRING_LIST:
		return list_problem(v->u.strs.items, v->u.strs.n,
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

static bool hint_ok(tg_hint h)
{
	return h == TG_HINT_ABSENT || h == TG_HINT_FALSE || h == TG_HINT_TRUE;
}

tg_status tg_request_check(const tg_request *r, const char **why)
{
	const char *bad = NULL;

	if (!r)
		bad = "invalid request: no request";
	else if (!r->principal_id.ptr)
		bad = "invalid request: missing principal.id";
	else if (!r->method.ptr)
		bad = "invalid request: missing method";
	if (bad)
		goto out;
	if ((bad = str_problem(r->principal_id)) || (bad = str_problem(r->method)))
		goto out;
	tg_bc_class cls = tg_fmt_method_class(r->method.ptr, r->method.len);
	bool needs_target = cls == TG_CLASS_TOOL || cls == TG_CLASS_RESOURCE || cls == TG_CLASS_PROMPT;
	if (needs_target && !r->target.ptr) {
		bad = "invalid request: missing target for this method";
		goto out;
	}
	if (r->target.ptr && (bad = str_problem(r->target)))
		goto out;
	if (cls == TG_CLASS_RESOURCE && (bad = tg_uri_problem(r->target.ptr, r->target.len)))
		goto out;
	if (r->server.ptr && (bad = str_problem(r->server)))
		goto out;
	if (r->client_id.ptr && (bad = str_problem(r->client_id)))
		goto out;
	if ((bad = list_problem(r->roles, r->nroles, "invalid request: roles has no elements array")) ||
	    (bad = list_problem(r->scopes, r->nscopes, "invalid request: scopes has no elements array")))
		goto out;
	if (!hint_ok(r->read_only) || !hint_ok(r->destructive) || !hint_ok(r->idempotent) ||
	    !hint_ok(r->open_world)) {
		bad = "invalid request: a tool annotation is not a boolean";
		goto out;
	}
	if (r->nslots && !r->slots) {
		bad = "invalid request: slot values missing";
		goto out;
	}
	for (size_t i = 0; i < r->nslots; i++)
		if ((bad = value_problem(&r->slots[i])))
			goto out;
out:
	if (why)
		*why = bad;
	return bad ? TG_EINVALID_REQUEST : TG_OK;
}
