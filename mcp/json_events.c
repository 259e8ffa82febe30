/*
 * json_events.c - request text to the builder's events through yajl's
 * event API: the text is read once, no document tree is built
 * (bench/json: yajl with these checks costs about a fifth of jansson).
 *
 * yajl is strict about JSON's grammar (no comments, BOM, trailing commas or
 * trailing text with its default options, which are the ones used), but
 * not about what toolgate needs of strings, so the callbacks add it:
 *
 *   - duplicate keys: the keys of every open object, compared within it
 *     (a hash once an object is past a handful of keys, so a hostile
 *     object cannot make the check quadratic);
 *   - strict UTF-8: yajl accepts overlong forms and encoded surrogates, so
 *     its own check is off and tg_uni_check runs on every string and key;
 *   - escapes: yajl turns "\ud800" into "?", "\ud800\u0041" into U+10041
 *     and "\udc00" into CESU bytes, silently, so a string yajl decoded (one
 *     that does not point into the text) has its raw token re-read: lone
 *     surrogates and \u0000 are refused there;
 *   - numbers: taken as text (yajl_number) and typed here, so an integer
 *     outside int64 or a real past a double's range is a value of type
 *     other instead of yajl's error.
 *
 * The re-read relies on the whole text going to one yajl_parse call, which
 * is how every caller holds a request.
 */
#include "json_events.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "unicode.h"

/* An object switches from comparing keys one by one to a hash past this
 * many keys. */
#define LINEAR_KEYS 16

typedef struct jkey {
	const char *p;
	size_t len;
} jkey;

typedef struct jhash {
	uint32_t obj;		/* 0: empty slot */
	uint32_t hash;
	const char *p;
	size_t len;
} jhash;

typedef struct jframe {
	size_t start;		/* its first key in keys[] */
	uint32_t obj;		/* its id in the hash, 0 while it is linear */
	bool object;
} jframe;

typedef struct jev {
	tg_rb *b;
	yajl_handle h;
	const char *text;
	size_t len;
	jframe f[TG_JSON_MAX_DEPTH + 2];
	unsigned depth;
	jkey *keys;
	size_t nkeys, capkeys;
	char *decoded;		/* escaped keys, decoded: never more than the text */
	size_t ndecoded;
	jhash *table;
	size_t tcap, tused;
	uint32_t nobj;
} jev;

/* ---- positions ---------------------------------------------------------- */

static void position(const jev *e, size_t off, unsigned *line, unsigned *col)
{
	size_t i, start = 0;

	*line = 1;
	if (off > e->len)
		off = e->len;
	for (i = 0; i < off; i++)
		if (e->text[i] == '\n') {
			++*line;
			start = i + 1;
		}
	*col = (unsigned)(off - start) + 1;
}

static int fail_at(jev *e, const char *what)
{
	unsigned line, col;

	position(e, yajl_get_bytes_consumed(e->h), &line, &col);
	tg_rb_fatal(e->b, "%s at line %u, column %u", what, line, col);
	return 0;
}

/* ---- strings ------------------------------------------------------------ */

static unsigned hex4(const unsigned char *p)
{
	unsigned v = 0;
	int k;

	for (k = 0; k < 4; k++) {
		unsigned c = p[k];

		v = v << 4 | (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;	/* yajl's lexer has already checked the hex digits */
}

/*
 * The \u escapes of the raw string token that ends (closing quote
 * included) at in + end. Returns NULL or what is wrong.
 */
static const char *escapes_problem(const unsigned char *in, size_t end)
{
	size_t q = end - 1, i;	/* the closing quote */

	/* The opening quote: the first '"' before it that is not escaped by
	 * an odd run of backslashes. */
	for (;;) {
		size_t k = 0;

		q--;
		if (in[q] != '"')
			continue;
		while (q - k > 0 && in[q - k - 1] == '\\')
			k++;
		if (k % 2 == 0)
			break;
	}
	for (i = q + 1; i + 1 < end; i++) {
		unsigned cp;

		if (in[i] != '\\')
			continue;
		if (in[i + 1] != 'u') {
			i++;
			continue;
		}
		cp = hex4(in + i + 2);
		i += 5;
		if (cp == 0)
			return "a string contains U+0000";
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return "a string is not valid UTF-8";
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (i + 6 >= end - 1 || in[i + 1] != '\\' || in[i + 2] != 'u')
				return "a string is not valid UTF-8";
			cp = hex4(in + i + 3);
			if (cp < 0xdc00 || cp > 0xdfff)
				return "a string is not valid UTF-8";
			i += 6;
		}
	}
	return NULL;
}

/* Whether yajl handed out a pointer into the text (no escapes) or into its
 * own buffer (decoded). */
static bool in_text(const jev *e, const unsigned char *s)
{
	uintptr_t p = (uintptr_t)s, t = (uintptr_t)e->text;

	return p >= t && p < t + e->len;
}

static int string_ok(jev *e, const unsigned char *s, size_t n, bool *decoded)
{
	const char *why;

	*decoded = !in_text(e, s) && n > 0;
	if (*decoded &&
	    (why = escapes_problem((const unsigned char *)e->text, yajl_get_bytes_consumed(e->h))))
		return fail_at(e, why);
	switch (tg_uni_check((const char *)s, n)) {
	case TG_UNI_OK:
		return 1;
	case TG_UNI_NUL:
		return fail_at(e, "a string contains U+0000");
	case TG_UNI_BAD_UTF8:
		break;
	}
	return fail_at(e, "a string is not valid UTF-8");
}

/* ---- duplicate keys ----------------------------------------------------- */

static uint32_t hash_key(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

/* Adds (obj, key) to the hash; false when it was there already. */
static bool hash_add(jev *e, uint32_t obj, const char *p, size_t n, bool *no_memory)
{
	uint32_t h = hash_key(p, n);
	size_t i;

	if (2 * (e->tused + 1) > e->tcap) {
		size_t cap = e->tcap ? 2 * e->tcap : 256, k;
		jhash *t = calloc(cap, sizeof *t);

		if (!t) {
			*no_memory = true;
			return false;
		}
		for (k = 0; k < e->tcap; k++) {
			jhash *x = &e->table[k];

			if (!x->obj)
				continue;
			for (i = x->hash & (cap - 1); t[i].obj; i = (i + 1) & (cap - 1))
				;
			t[i] = *x;
		}
		free(e->table);
		e->table = t;
		e->tcap = cap;
	}
	for (i = h & (e->tcap - 1); e->table[i].obj; i = (i + 1) & (e->tcap - 1)) {
		jhash *x = &e->table[i];

		if (x->obj == obj && x->hash == h && x->len == n && memcmp(x->p, p, n) == 0)
			return false;
	}
	e->table[i].obj = obj;
	e->table[i].hash = h;
	e->table[i].p = p;
	e->table[i].len = n;
	e->tused++;
	return true;
}

/* Records key p[0..n) of the innermost object: 1, or 0 after a message. */
static int add_key(jev *e, const char *p, size_t n, bool decoded)
{
	jframe *f = &e->f[e->depth];
	bool no_memory = false;
	size_t i;

	if (decoded) {
		/* yajl reuses its buffer: keep a copy. */
		if (!e->decoded && !(e->decoded = malloc(e->len)))
			return tg_rb_fatal(e->b, "out of memory");
		p = memcpy(e->decoded + e->ndecoded, p, n);
		e->ndecoded += n;
	}
	if (f->obj) {
		if (!hash_add(e, f->obj, p, n, &no_memory))
			return no_memory ? tg_rb_fatal(e->b, "out of memory")
					 : fail_at(e, "duplicate key");
		return 1;
	}
	for (i = f->start; i < e->nkeys; i++)
		if (e->keys[i].len == n && memcmp(e->keys[i].p, p, n) == 0)
			return fail_at(e, "duplicate key");
	if (e->nkeys == e->capkeys) {
		size_t cap = e->capkeys ? 2 * e->capkeys : 32;
		jkey *k = realloc(e->keys, cap * sizeof *k);

		if (!k)
			return tg_rb_fatal(e->b, "out of memory");
		e->keys = k;
		e->capkeys = cap;
	}
	e->keys[e->nkeys].p = p;
	e->keys[e->nkeys].len = n;
	e->nkeys++;
	if (e->nkeys - f->start > LINEAR_KEYS) {
		f->obj = ++e->nobj;
		for (i = f->start; i < e->nkeys; i++)
			if (!hash_add(e, f->obj, e->keys[i].p, e->keys[i].len, &no_memory))
				return tg_rb_fatal(e->b, "out of memory");
	}
	return 1;
}

/* ---- callbacks ---------------------------------------------------------- */

static int on_null(void *ctx)
{
	jev *e = ctx;
	tg_rb_scalar v = {TG_RB_OTHER, {NULL, 0}, 0, false};

	return tg_rb_scalar_event(e->b, &v);
}

static int on_bool(void *ctx, int truth)
{
	jev *e = ctx;
	tg_rb_scalar v = {TG_RB_BOOL, {NULL, 0}, 0, truth != 0};

	return tg_rb_scalar_event(e->b, &v);
}

/* DESIGN: an int is written without fraction or exponent and fits int64;
 * every other number is a value of type other. yajl's lexer has checked
 * the grammar. */
static int on_number(void *ctx, const char *s, size_t n)
{
	jev *e = ctx;
	tg_rb_scalar v = {TG_RB_INT, {NULL, 0}, 0, false};
	bool neg = n > 0 && s[0] == '-';
	uint64_t u = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	size_t k;

	for (k = neg; k < n; k++) {
		unsigned d = (unsigned char)s[k] - '0';

		if (d > 9 || u > (lim - d) / 10) {
			v.kind = TG_RB_OTHER;
			break;
		}
		u = u * 10 + d;
	}
	if (v.kind == TG_RB_INT)
		v.i = neg ? (int64_t)(0 - u) : (int64_t)u;
	return tg_rb_scalar_event(e->b, &v);
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
	jev *e = ctx;
	tg_rb_scalar v = {TG_RB_STRING, {(const char *)s, n}, 0, false};
	bool decoded;

	return string_ok(e, s, n, &decoded) && tg_rb_scalar_event(e->b, &v);
}

static int open_container(jev *e, bool object)
{
	jframe *f;

	if (!tg_rb_open(e->b, object))
		return 0;
	/* The builder refuses nesting past the depth limit, so this fits. */
	f = &e->f[++e->depth];
	f->start = e->nkeys;
	f->obj = 0;
	f->object = object;
	return 1;
}

static int on_start_map(void *ctx)
{
	return open_container(ctx, true);
}

static int on_start_array(void *ctx)
{
	return open_container(ctx, false);
}

static int on_end(void *ctx)
{
	jev *e = ctx;

	e->nkeys = e->f[e->depth--].start;
	return tg_rb_close(e->b);
}

static int on_key(void *ctx, const unsigned char *s, size_t n)
{
	jev *e = ctx;
	bool decoded;

	return string_ok(e, s, n, &decoded) && add_key(e, (const char *)s, n, decoded) &&
	       tg_rb_key(e->b, (const char *)s, n);
}

static const yajl_callbacks callbacks = {
	on_null, on_bool, NULL, NULL, on_number, on_string,
	on_start_map, on_key, on_end, on_start_array, on_end,
};

/* yajl's own message, for malformed JSON, without its trailing newline. */
static void malformed(jev *e)
{
	unsigned char *msg = yajl_get_error(e->h, 0, (const unsigned char *)e->text, e->len);
	size_t off = yajl_get_bytes_consumed(e->h);
	unsigned line, col;
	const char *m = msg ? (const char *)msg : "unreadable";
	size_t n = strcspn(m, "\n");

	position(e, off, &line, &col);
	/* A raw control byte in a string is the lexer's "invalid character
	 * inside string"; U+0000 has its own class of message. */
	if (strstr(m, "inside string") && memchr(e->text, '\0', e->len))
		tg_rb_fatal(e->b, "a string contains U+0000 at line %u, column %u", line, col);
	else
		tg_rb_fatal(e->b, "malformed JSON at line %u, column %u: %.*s", line, col, (int)n,
			    m);
	if (msg)
		yajl_free_error(e->h, msg);
}

bool tg_json_events_parse(tg_rb *b, const char *text, size_t len)
{
	jev e;
	yajl_status st;
	bool ok;

	memset(&e, 0, offsetof(jev, f));
	e.depth = 0;
	e.keys = NULL;
	e.nkeys = e.capkeys = 0;
	e.decoded = NULL;
	e.ndecoded = 0;
	e.table = NULL;
	e.tcap = e.tused = 0;
	e.nobj = 0;
	e.b = b;
	e.text = text;
	e.len = len;
	e.h = yajl_alloc(&callbacks, NULL, &e);
	if (!e.h)
		return tg_rb_fatal(b, "out of memory");
	/* tg_uni_check is stricter than yajl's check, which would only run
	 * twice over every string. */
	yajl_config(e.h, yajl_dont_validate_strings, 1);
	st = yajl_parse(e.h, (const unsigned char *)text, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(e.h);
	ok = st == yajl_status_ok;
	if (st == yajl_status_error)
		malformed(&e);
	yajl_free(e.h);
	free(e.keys);
	free(e.decoded);
	free(e.table);
	return ok;
}
