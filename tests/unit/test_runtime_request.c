/*
 * test_runtime_request.c - request validation (runtime/request.c) against
 * a plain reference validator written from DESIGN "Precise rules": a
 * byte-at-a-time UTF-8 decoder, the limits, the URI rule and the order in
 * which problems are reported.
 *
 * Random requests mix every kind of string the quick pass tells apart
 * (lengths 0 to 40 of every byte value, ASCII with one odd byte, valid and
 * invalid multi-byte sequences, NUL, NULL pointers with and without a
 * length, strings at and past 64 KiB), lists at and past 4,096 elements,
 * every value type and out-of-range types and hints. Every string has its
 * own allocation of exactly its length, so ASan and valgrind see any read
 * outside it. tg_request_check must give the reference's message (or
 * none, and then the reference's method class), and so must the split
 * checks tg_visible uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "rng.h"

/* ---- the reference ---------------------------------------------------- */

static bool ref_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i], need;
		uint32_t cp, min;
		if (c < 0x80) {
			need = 0, cp = c, min = 0;
		} else if ((c & 0xE0) == 0xC0) {
			need = 1, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			need = 2, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i - 1 < need)
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp == 0 || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += need + 1;
	}
	return true;
}

static const char *ref_str(tg_str s)
{
	if (s.len > 65536)
		return "invalid request: a string is longer than 64 KiB";
	if (s.len && !s.ptr)
		return "invalid request: a string has no bytes";
	if (s.len && !ref_utf8((const unsigned char *)s.ptr, s.len))
		return "invalid request: a string contains U+0000 or is not valid UTF-8";
	return NULL;
}

static const char *ref_list(const tg_str *items, size_t n, const char *what)
{
	if (n > 4096)
		return "invalid request: a list has more than 4096 elements";
	if (n && !items)
		return what;
	for (size_t i = 0; i < n; i++)
		if (ref_str(items[i]))
			return ref_str(items[i]);
	return NULL;
}

static bool is(tg_str s, const char *lit)
{
	return s.ptr && s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

static tg_bc_class ref_class(tg_str m)
{
	if (is(m, "tools/call"))
		return TG_CLASS_TOOL;
	if (is(m, "resources/read") || is(m, "resources/subscribe") ||
	    is(m, "resources/unsubscribe"))
		return TG_CLASS_RESOURCE;
	if (is(m, "prompts/get"))
		return TG_CLASS_PROMPT;
	if (is(m, "tools/list"))
		return TG_CLASS_LIST_TOOLS;
	if (is(m, "resources/list"))
		return TG_CLASS_LIST_RESOURCES;
	if (is(m, "prompts/list"))
		return TG_CLASS_LIST_PROMPTS;
	if (is(m, "resources/templates/list"))
		return TG_CLASS_LIST_TEMPLATES;
	return TG_CLASS_OTHER;
}

static bool sep(char c)
{
	return c == '/' || c == '\\';
}

static const char *ref_uri(const char *u, size_t n)
{
	static const char *const enc[] = { "%2F", "%5C", "%2E", "%25" };
	for (size_t i = 0; i + 3 <= n; i++)
		for (size_t k = 0; k < 4; k++)
			if (u[i] == '%' && u[i + 1] == enc[k][1] &&
			    (u[i + 2] == enc[k][2] || u[i + 2] == enc[k][2] + ('a' - 'A')))
				return "invalid request: resource URI has a percent-encoded '/', '\\', "
				       "'.' or '%'";
	size_t end = 0;
	while (end < n && u[end] != '?' && u[end] != '#')
		end++;
	for (size_t i = 0, seg = 0; i <= end; i++) {
		if (i < end && !sep(u[i]))
			continue;
		if ((i - seg == 1 && u[seg] == '.') ||
		    (i - seg == 2 && u[seg] == '.' && u[seg + 1] == '.'))
			return "invalid request: resource URI has a '.' or '..' segment";
		seg = i + 1;
	}
	return NULL;
}

static const char *ref_value(const tg_value *v)
{
	switch ((int)v->type) {
	case TG_VALUE_ABSENT:
	case TG_VALUE_INT:
	case TG_VALUE_BOOL:
	case TG_VALUE_OTHER:
		return NULL;
	case TG_VALUE_STRING:
		return ref_str(v->u.s);
	case TG_VALUE_STRING_LIST:
		return ref_list(v->u.strs.items, v->u.strs.n,
				"invalid request: an attribute list has no elements array");
	case TG_VALUE_INT_LIST:
		if (v->u.ints.n > 4096)
			return "invalid request: a list has more than 4096 elements";
		if (v->u.ints.n && !v->u.ints.items)
			return "invalid request: an attribute list has no elements array";
		return NULL;
	default:
		return "invalid request: an attribute value has an unknown type";
	}
}

static bool hint_bad(tg_hint h)
{
	return (unsigned)h > 2;
}

/* The first problem in DESIGN's order; *cls gets the class when valid. */
static const char *ref_problem(const tg_request *r, tg_bc_class *cls)
{
	const char *bad;
	if (!r->principal_id.ptr)
		return "invalid request: missing principal.id";
	if (!r->method.ptr)
		return "invalid request: missing method";
	if ((bad = ref_str(r->principal_id)) || (bad = ref_str(r->method)))
		return bad;
	*cls = ref_class(r->method);
	if (!r->target.ptr &&
	    (*cls == TG_CLASS_TOOL || *cls == TG_CLASS_RESOURCE || *cls == TG_CLASS_PROMPT))
		return "invalid request: missing target for this method";
	if (r->target.ptr && (bad = ref_str(r->target)))
		return bad;
	if (*cls == TG_CLASS_RESOURCE && r->target.ptr && (bad = ref_uri(r->target.ptr, r->target.len)))
		return bad;
	if (r->server.ptr && (bad = ref_str(r->server)))
		return bad;
	if (r->client_id.ptr && (bad = ref_str(r->client_id)))
		return bad;
	if ((bad = ref_list(r->roles, r->nroles, "invalid request: roles has no elements array")) ||
	    (bad = ref_list(r->scopes, r->nscopes, "invalid request: scopes has no elements array")))
		return bad;
	if (hint_bad(r->read_only) || hint_bad(r->destructive) || hint_bad(r->idempotent) ||
	    hint_bad(r->open_world))
		return "invalid request: a tool annotation is not a boolean";
	if (r->nslots && !r->slots)
		return "invalid request: slot values missing";
	for (size_t i = 0; i < r->nslots; i++)
		if ((bad = ref_value(&r->slots[i])))
			return bad;
	return NULL;
}

/* ---- random requests -------------------------------------------------- */


/* Every allocation of one request, freed after it is checked. */
static void *owned[256];
static size_t nowned;

static void *own(size_t n)
{
	assert_true(nowned < sizeof owned / sizeof owned[0]);
	void *p = malloc(n ? n : 1);
	assert_non_null(p);
	return owned[nowned++] = p;
}

static void free_owned(void)
{
	while (nowned)
		free(owned[--nowned]);
}

#define BIG (65536 + 8)
static char big[BIG];		/* 'a' */
static char bigbad[BIG];	/* 'a' and one 0x80 in the last 64 KiB */
static tg_str many[4097];	/* "x" */
static int64_t ints[4097];	/* INT_LIST elements, never read */

static const char *const good_seqs[] = {
	"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF",
	"\xC2\x80", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80", "\xF0\x90\x80\x80",
};
static const char *const bad_seqs[] = {
	"\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xE0\x9F\xBF", "\xED\xA0\x80", "\xED\xBF\xBF",
	"\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xF8", "\xFF", "\x80",
	"\xBF", "\xC3", "\xE2\x82", "\xF0\x9F\x98", "\xC3\x28", "\xE2\x28\xA1", "\x00",
};

/* How messy the current request is: 0, every part valid; else each part
 * is odd with probability 1/mess. */
static uint32_t mess;

static bool odd(void)
{
	return mess && rnd(mess) == 0;
}

/* A copy of len bytes of p in a block of exactly that size (an empty
 * string points at the end of its block), so any read outside it is a
 * heap overflow. */
static tg_str exact(const char *p, size_t len)
{
	char *q = own(len);
	memcpy(q, p, len);
	return (tg_str){ len ? q : q + 1, len };
}

/* A string of one of the kinds the quick pass tells apart. */
static tg_str rnd_str(void)
{
	char buf[48];
	size_t len = rnd(41);
	bool bad = odd();
	if (rnd(400) == 0) {	/* at and past 64 KiB, ending where the array ends */
		static const size_t sizes[] = { 65535, 65536, 65537 };
		size_t n = sizes[rnd(bad ? 3 : 2)];
		return (tg_str){ (bad && rnd(2) ? bigbad : big) + BIG - n, n };
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(' ' + rnd(95));
	unsigned kind = bad ? rnd(4) : rnd(4) + 4;
	if (kind == 0) {
		return (tg_str){ NULL, rnd(2) ? 0 : len + 1 };
	} else if (kind == 1) {
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)rnd(256);
	} else if (kind == 2 && len) {
		static const unsigned char bytes[] = { 0, 0x80, 0xBF, 0xC2, 0xF4, 0xFF };
		buf[rnd((uint32_t)len)] = (char)bytes[rnd(sizeof bytes)];
	} else if (kind == 3 || kind == 4) {
		const char *q = kind == 3 ? bad_seqs[rnd(sizeof bad_seqs / sizeof bad_seqs[0])]
					  : good_seqs[rnd(sizeof good_seqs / sizeof good_seqs[0])];
		size_t ql = q[0] ? strlen(q) : 1, at = rnd((uint32_t)len + 1);
		memcpy(buf + at, q, ql);
		len = at + ql > len ? at + ql : len;
	}
	return exact(buf, len);
}

static const tg_str *rnd_items(size_t *n)
{
	if (odd()) {
		*n = rnd(2) ? 4097 : rnd(3);
		return rnd(2) ? NULL : many;
	}
	if (rnd(50) == 0) {
		*n = 4096;
		return many;
	}
	*n = rnd(6);
	tg_str *items = own(*n * sizeof *items);
	for (size_t i = 0; i < *n; i++)
		items[i] = rnd_str();
	return *n ? items : (rnd(2) ? NULL : items);
}

static tg_str pick(const char *const *v, size_t n)
{
	const char *s = v[rnd((uint32_t)n)];
	return exact(s, strlen(s));
}

static tg_hint rnd_hint(void)
{
	static const unsigned bad[] = { 3, 4, 7, 0x7FFFFFFF, 0xFFFFFFFFu };
	return odd() ? (tg_hint)bad[rnd(5)] : (tg_hint)rnd(3);
}

static const char *const methods[] = {
	"tools/call", "tools/call", "tools/call", "resources/read", "resources/subscribe",
	"resources/unsubscribe", "prompts/get", "tools/list", "resources/list", "prompts/list",
	"resources/templates/list", "ping", "completion/complete", "tools/cal", "tools/calL",
	"tools/callx", "Tools/call", "tools/lisT", "", "t\xC3\xA9",
};
static const tg_str bad_methods[] = { { "tools/c\0ll", 10 }, { "tools/call\x80", 11 }, { "\xFF", 1 } };

static const char *const uris[] = {
	"file:///a/b", "s3://bucket/key", "file:///a/..b?x/../", "file:///a#/..",
	"file:///caf\xC3\xA9", "x%2", "%", "file:///a/.b/c.",
};
static const char *const bad_uris[] = {
	"file:///a/../b", "file:///a/./b", "file:///a/%2e%2E/b", "file:///a%2Fb", "..", ".",
	"file:///a\\..\\b", "x%25y", "a%5c", "/.", "./x",
};

static void rnd_request(tg_request *r)
{
	mess = rnd(2) ? 0 : 1 + rnd(40);
	tg_request_init(r);
	r->principal_id = odd() && rnd(4) == 0 ? (tg_str){ NULL, 0 } : rnd_str();
	if (rnd(3) == 0)
		r->client_id = rnd_str();
	r->roles = rnd_items(&r->nroles);
	r->scopes = rnd_items(&r->nscopes);
	if (odd())
		r->method = rnd(3) ? bad_methods[rnd(3)] : (tg_str){ NULL, rnd(2) ? 0 : 4 };
	else
		r->method = rnd(8) ? pick(methods, sizeof methods / sizeof methods[0]) : rnd_str();
	bool resource = r->method.ptr && r->method.len && r->method.ptr[0] == 'r';
	if (!odd() || rnd(2))
		r->target = !resource || rnd(2) ? rnd_str()
			    : odd() ? pick(bad_uris, sizeof bad_uris / sizeof bad_uris[0])
				    : pick(uris, sizeof uris / sizeof uris[0]);
	if (rnd(2))
		r->server = rnd_str();
	r->read_only = rnd_hint();
	r->destructive = rnd_hint();
	r->idempotent = rnd_hint();
	r->open_world = rnd_hint();
	r->nslots = rnd(11);
	if (odd() && rnd(4) == 0) {
		r->slots = NULL;
		return;
	}
	tg_value *v = own(r->nslots * sizeof *v);
	memset(v, 0, r->nslots * sizeof *v);
	for (size_t i = 0; i < r->nslots; i++) {
		unsigned t = rnd(16);
		if (odd() && rnd(3) == 0) {
			static const int bad[] = { TG_VALUE_ARRAY + 1, 100, 1000, -1 };
			if (rnd(2)) {
				v[i].type = (tg_value_type)bad[rnd(4)];
			} else {
				v[i].type = TG_VALUE_INT_LIST;
				v[i].u.ints.n = rnd(2) ? 4097 : 1 + rnd(3);
				v[i].u.ints.items = v[i].u.ints.n > 3 ? ints : NULL;
			}
		} else if (t < 6) {
			v[i].type = TG_VALUE_STRING;
			v[i].u.s = rnd_str();
		} else if (t < 9) {
			v[i].type = TG_VALUE_INT;
			v[i].u.i = (int64_t)rnd(1000) - 500;
		} else if (t < 11) {
			v[i].type = TG_VALUE_BOOL;
			v[i].u.b = rnd(2);
		} else if (t < 13) {
			v[i].type = TG_VALUE_STRING_LIST;
			v[i].u.strs.items = rnd_items(&v[i].u.strs.n);
		} else if (t < 14) {
			static const size_t ns[] = { 0, 1, 3, 4096 };
			v[i].type = TG_VALUE_INT_LIST;
			v[i].u.ints.n = ns[rnd(4)];
			v[i].u.ints.items = v[i].u.ints.n || rnd(2) ? ints : NULL;
		} else if (t < 15) {
			v[i].type = TG_VALUE_OTHER;
		}	/* else ABSENT */
	}
	r->slots = v;
}

static void fill(void)
{
	memset(big, 'a', sizeof big);
	memset(bigbad, 'a', sizeof bigbad);
	bigbad[BIG - 65530] = (char)0x80;
	for (size_t i = 0; i < 4097; i++)
		many[i] = (tg_str){ "x", 1 };
}

static const char *name(const char *s)
{
	return s ? s : "(valid)";
}

static void test_random_requests(void **state)
{
	(void)state;
	fill();
	size_t invalid = 0;
	for (int n = 0; n < 60000; n++) {
		tg_request r;
		rnd_request(&r);
		tg_bc_class want_cls = TG_CLASS_EVERY, got_cls = TG_CLASS_EVERY;
		const char *want = ref_problem(&r, &want_cls);
		const char *got = tg_request_problem(&r, &got_cls);
		const char *why = "x";
		tg_status st = tg_request_check(&r, &why);
		invalid += want != NULL;
		if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0))
			fail_msg("request %d: reference %s, tg_request_problem %s", n, name(want),
				 name(got));
		if (!want && got_cls != want_cls)
			fail_msg("request %d: class %d, reference %d", n, got_cls, want_cls);
		assert_true(why == got);
		assert_int_equal(st, got ? TG_EINVALID_REQUEST : TG_OK);

		/* The split checks tg_visible makes: the identity with a stand-in
		 * call, then each entry under its class's method. */
		if (!r.principal_id.ptr) {
			free_owned();
			continue;
		}
		tg_request id = r;
		id.method = (tg_str){ "tools/list", 10 };
		id.target = id.server = (tg_str){ NULL, 0 };
		id.read_only = id.destructive = id.idempotent = id.open_world = TG_HINT_ABSENT;
		want = ref_problem(&id, &want_cls);
		got = tg_request_identity_problem(&r);
		if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0))
			fail_msg("request %d: identity: reference %s, got %s", n, name(want), name(got));
		if (want)
			goto next;
		static const struct {
			const char *method;
			tg_bc_class cls;
		} entry[] = {
			{ "tools/call", TG_CLASS_TOOL },
			{ "resources/read", TG_CLASS_RESOURCE },
			{ "prompts/get", TG_CLASS_PROMPT },
		};
		size_t e = rnd(3);
		tg_request q = r;
		q.method = (tg_str){ entry[e].method, strlen(entry[e].method) };
		if (e == 1 && q.target.ptr && rnd(2))
			q.target = pick(uris, sizeof uris / sizeof uris[0]);
		want = ref_problem(&q, &want_cls);
		got = tg_request_entry_problem(&q, entry[e].cls);
		if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0))
			fail_msg("request %d: entry %s: reference %s, got %s", n, entry[e].method,
				 name(want), name(got));
next:
		free_owned();
	}
	/* the mix must exercise both outcomes (about a third is invalid) */
	assert_true(invalid > 10000 && invalid < 40000);
}

/* Every byte value at the first, second, middle, last but one and last
 * position of strings of every length 1..40, as principal id, list item
 * and slot value. */
static void test_every_byte(void **state)
{
	(void)state;
	for (size_t where = 0; where < 3; where++)
		for (size_t len = 1; len <= 40; len++)
			for (size_t k = 0; k < 5; k++)
				for (unsigned b = 0; b < 256; b++) {
					size_t at = k == 0 ? 0 : k == 1 ? 1 : k == 2 ? len / 2 : len - 5 + k;
					if (at >= len)
						continue;
					char *p = own(len);
					memset(p, 'k', len);
					p[at] = (char)b;
					tg_str s = { p, len }, items[1] = { s };
					tg_value v;
					memset(&v, 0, sizeof v);
					tg_request r;
					tg_request_init(&r);
					r.principal_id = (tg_str){ "p", 1 };
					r.method = (tg_str){ "tools/call", 10 };
					r.target = (tg_str){ "t", 1 };
					if (where == 0) {
						r.principal_id = s;
					} else if (where == 1) {
						r.scopes = items;
						r.nscopes = 1;
					} else {
						v.type = TG_VALUE_STRING;
						v.u.s = s;
						r.slots = &v;
						r.nslots = 1;
					}
					tg_bc_class c;
					const char *want = ref_problem(&r, &c), *got = tg_request_problem(&r, &c);
					if ((want == NULL) != (got == NULL))
						fail_msg("field %zu len %zu byte 0x%02x at %zu: %s, reference %s",
							 where, len, b, at, name(got), name(want));
					free_owned();
				}
}

/* Lengths and counts at and past their limits, NULL arrays and pointers. */
static void test_limits(void **state)
{
	(void)state;
	fill();
	tg_request r;
	tg_request_init(&r);
	r.principal_id = (tg_str){ big, 65536 };
	r.method = (tg_str){ "ping", 4 };
	const char *why;
	assert_int_equal(tg_request_check(&r, &why), TG_OK);
	r.principal_id.len = 65537;
	assert_int_equal(tg_request_check(&r, &why), TG_EINVALID_REQUEST);
	assert_string_equal(why, "invalid request: a string is longer than 64 KiB");
	r.principal_id = (tg_str){ "p", 1 };
	r.scopes = many;
	r.nscopes = 4096;
	assert_int_equal(tg_request_check(&r, &why), TG_OK);
	r.nscopes = 4097;
	assert_int_equal(tg_request_check(&r, &why), TG_EINVALID_REQUEST);
	assert_string_equal(why, "invalid request: a list has more than 4096 elements");
	r.scopes = NULL;
	r.nscopes = 0;
	assert_int_equal(tg_request_check(&r, &why), TG_OK);
	r.nscopes = 1;
	assert_string_equal(tg_request_problem(&r, &(tg_bc_class){ 0 }),
			    "invalid request: scopes has no elements array");
	r.nscopes = 0;
	r.server = (tg_str){ NULL, 5 };		/* absent: the length is not read */
	assert_int_equal(tg_request_check(&r, &why), TG_OK);
	r.server = (tg_str){ "", 0 };
	assert_int_equal(tg_request_check(&r, &why), TG_OK);
	r.nslots = SIZE_MAX;
	assert_string_equal(tg_request_problem(&r, &(tg_bc_class){ 0 }),
			    "invalid request: slot values missing");
	assert_int_equal(tg_request_check(NULL, &why), TG_EINVALID_REQUEST);
	assert_string_equal(why, "invalid request: no request");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_random_requests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
