/*
 * json_events.c - request text to the builder's events, read once by a
 * strict lexer of its own: no document tree, no second pass over a string.
 *
 * Why not a library's event parser: none refuses what toolgate must
 * (yajl takes overlong UTF-8 and encoded surrogates, and turns an escaped
 * lone surrogate into "?" or CESU bytes), so every string was read again
 * after it; here each string is validated and decoded in the one pass that
 * finds its end (bench/RESULTS.md, round 11):
 *
 *   - the grammar is RFC 8259's, nothing more: no comments, BOM, trailing
 *     commas, single quotes, NaN, leading zeros or trailing text;
 *   - strings: strict UTF-8 (runtime/utf8.c's rule), no U+0000 raw or
 *     escaped, no raw control character, escaped surrogates only in pairs.
 *     A string without escapes is handed over where it lies in the text;
 *     an escaped one is decoded into a buffer the size of the text, never
 *     reused, so keys stay valid for the duplicate check;
 *   - numbers are typed by DESIGN's rule as they are read: an int is
 *     written without fraction or exponent and fits int64; every other
 *     number is a value of type other, never an error;
 *   - duplicate keys: the keys of every open object, compared within it
 *     (a hash once an object is past a handful of keys, so a hostile
 *     object cannot make the check quadratic).
 *
 * Within one string a grammar error (a bad escape, a control character,
 * no closing quote) wins over a bad escaped code point, which wins over
 * bad raw UTF-8: the order the messages came in when yajl lexed a token
 * before the callbacks saw it.
 *
 * Nesting is bounded by the builder, which refuses a container past the
 * depth limit before the lexer descends into it.
 */
#include "json_events.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

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
} jframe;

typedef struct jev {
	tg_rb *b;
	const unsigned char *p, *end;	/* the next byte to read; the text's end */
	const char *text;
	size_t len;
	unsigned depth;
	jkey *keys;
	size_t nkeys, capkeys;
	char *decoded;		/* escaped strings, decoded: never more than the text */
	size_t ndecoded;
	jhash *table;
	size_t tcap, tused;
	uint32_t nobj;
	tg_json_facts facts;	/* checking without a builder (b NULL) */
	bool jsonrpc_key;	/* the value being read is the top level's "jsonrpc" */
	jframe f[TG_JSON_MAX_DEPTH + 2];
	/* A request's keys fit here: no allocation for them. */
	jkey first_keys[64];
} jev;

/* ---- positions and messages --------------------------------------------- */

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

/* A problem at the read position: reading stops. */
static int fail_at(jev *e, const char *what)
{
	unsigned line, col;

	if (!e->b)
		return 0;
	position(e, (size_t)(e->p - (const unsigned char *)e->text), &line, &col);
	tg_rb_fatal(e->b, "%s at line %u, column %u", what, line, col);
	return 0;
}

static int malformed(jev *e, const char *what)
{
	unsigned line, col;

	if (!e->b)
		return 0;
	position(e, (size_t)(e->p - (const unsigned char *)e->text), &line, &col);
	tg_rb_fatal(e->b, "malformed JSON at line %u, column %u: %s", line, col, what);
	return 0;
}

static int out_of_memory(jev *e)
{
	return e->b ? tg_rb_fatal(e->b, "out of memory") : 0;
}

/* ---- events: to the builder, or, when only checking, to the facts ------- */

/* Each event is one test away from the builder: inlined, so that checking
 * without one costs the reader nothing. */
#if defined(__GNUC__)
#define EVENT static inline __attribute__((always_inline)) int
#else
#define EVENT static inline int
#endif

EVENT key_event(jev *e, const char *s, size_t n)
{
	if (e->b)
		return tg_rb_key(e->b, s, n);
	e->jsonrpc_key = e->depth == 1 && n == 7 && memcmp(s, "jsonrpc", 7) == 0;
	return 1;
}

EVENT scalar_event(jev *e, const tg_rb_scalar *v)
{
	if (e->b)
		return tg_rb_scalar_event(e->b, v);
	if (e->jsonrpc_key)
		e->facts.jsonrpc_20 = v->kind == TG_RB_STRING && v->s.len == 3 &&
				      memcmp(v->s.ptr, "2.0", 3) == 0;
	e->jsonrpc_key = false;
	return 1;
}

static void skip_space(jev *e)
{
	const unsigned char *p = e->p;

	while (p < e->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	e->p = p;
}

/* ---- strings ------------------------------------------------------------ */

/* 1 for the bytes a string holds as they are: printable ASCII but the
 * quote and the backslash. */
static const unsigned char plain[256] = {
#define R8(v) v, v, v, v, v, v, v, v
	R8(0), R8(0), R8(0), R8(0),				/* 0x00-0x1f */
	1, 1, 0, 1, 1, 1, 1, 1, R8(1), R8(1), R8(1),		/* 0x20-0x3f, '"' */
	R8(1), R8(1), R8(1), 1, 1, 1, 1, 0, 1, 1, 1,		/* 0x40-0x5f, '\\' */
	R8(1), R8(1), R8(1), R8(1),				/* 0x60-0x7f */
#undef R8
};

static const char NOT_UTF8[] = "a string is not valid UTF-8";
static const char HAS_NUL[] = "a string contains U+0000";

/* A control byte inside a string: U+0000 has its own class of message. */
static int control(jev *e, const unsigned char *p)
{
	e->p = p;
	return *p == 0 ? fail_at(e, HAS_NUL) : malformed(e, "a control character in a string");
}

static bool hex4(const unsigned char *p, const unsigned char *end, unsigned *out)
{
	unsigned v = 0;
	int k;

	if (end - p < 4)
		return false;
	for (k = 0; k < 4; k++) {
		unsigned c = p[k], d = c - '0';

		if (d > 9) {
			d = (c | 0x20) - 'a';
			if (d > 5)
				return false;
			d += 10;
		}
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

static char *put_utf8(char *d, unsigned cp)
{
	if (cp < 0x80) {
		*d++ = (char)cp;
	} else if (cp < 0x800) {
		*d++ = (char)(0xc0 | cp >> 6);
		*d++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*d++ = (char)(0xe0 | cp >> 12);
		*d++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*d++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*d++ = (char)(0xf0 | cp >> 18);
		*d++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*d++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*d++ = (char)(0x80 | (cp & 0x3f));
	}
	return d;
}

/*
 * The rest of a string from its first backslash at p: decoded into the
 * buffer, after the escape-free start[0..p). raw_why is a raw UTF-8
 * problem already met before p.
 */
static int escaped(jev *e, const unsigned char *start, const unsigned char *p,
		   const char *raw_why, const char **out, size_t *outn)
{
	const unsigned char *end = e->end;
	const char *esc_why = NULL;
	char *d0, *d;

	if (!e->decoded && !(e->decoded = malloc(e->len)))
		return out_of_memory(e);
	d0 = d = e->decoded + e->ndecoded;
	memcpy(d, start, (size_t)(p - start));
	d += p - start;
	for (;;) {
		const unsigned char *run = p;
		unsigned cp, lo;
		size_t n;

		while (p < end && plain[*p])
			p++;
		memcpy(d, run, (size_t)(p - run));
		d += p - run;
		if (p == end) {
			e->p = p;
			return malformed(e, "a string is not closed");
		}
		if (*p == '"')
			break;
		if (*p < 0x20)
			return control(e, p);
		if (*p >= 0x80) {
			n = tg_utf8_len(p, (size_t)(end - p));
			if (n == 0) {
				raw_why = raw_why ? raw_why : NOT_UTF8;
				*d++ = (char)*p++;
				continue;
			}
			memcpy(d, p, n);
			d += n;
			p += n;
			continue;
		}
		/* a backslash */
		if (end - p < 2) {
			e->p = end;
			return malformed(e, "a string is not closed");
		}
		switch (p[1]) {
		case '"': *d++ = '"'; break;
		case '\\': *d++ = '\\'; break;
		case '/': *d++ = '/'; break;
		case 'b': *d++ = '\b'; break;
		case 'f': *d++ = '\f'; break;
		case 'n': *d++ = '\n'; break;
		case 'r': *d++ = '\r'; break;
		case 't': *d++ = '\t'; break;
		case 'u':
			if (!hex4(p + 2, end, &cp)) {
				e->p = p;
				return malformed(e, "a \\u escape needs four hex digits");
			}
			p += 6;
			if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 && p[0] == '\\' &&
			    p[1] == 'u' && hex4(p + 2, end, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xd800 && cp <= 0xdfff) {
				esc_why = esc_why ? esc_why : NOT_UTF8;
				continue;
			} else if (cp == 0) {
				esc_why = esc_why ? esc_why : HAS_NUL;
				continue;
			}
			d = put_utf8(d, cp);
			continue;
		default:
			e->p = p;
			return malformed(e, "an unknown escape in a string");
		}
		p += 2;
	}
	e->p = p + 1;
	if (esc_why || raw_why)
		return fail_at(e, esc_why ? esc_why : raw_why);
	*out = d0;
	*outn = (size_t)(d - d0);
	e->ndecoded += *outn;
	return 1;
}

/* The string at e->p (its opening quote), checked and decoded: *out points
 * into the text or the decoded buffer. */
static int string(jev *e, const char **out, size_t *outn)
{
	const unsigned char *p = e->p + 1, *start = p, *end = e->end;
	const char *raw_why = NULL;

	for (;;) {
		size_t n;

		while (p < end && plain[*p])
			p++;
		if (p == end) {
			e->p = p;
			return malformed(e, "a string is not closed");
		}
		if (*p == '"')
			break;
		if (*p == '\\')
			return escaped(e, start, p, raw_why, out, outn);
		if (*p < 0x20)
			return control(e, p);
		n = tg_utf8_len(p, (size_t)(end - p));
		if (n == 0) {
			raw_why = raw_why ? raw_why : NOT_UTF8;
			n = 1;
		}
		p += n;
	}
	e->p = p + 1;
	if (raw_why)
		return fail_at(e, raw_why);
	*out = (const char *)start;
	*outn = (size_t)(p - start);
	return 1;
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
static int add_key(jev *e, const char *p, size_t n)
{
	jframe *f = &e->f[e->depth];
	bool no_memory = false;
	size_t i;

	if (f->obj) {
		if (!hash_add(e, f->obj, p, n, &no_memory))
			return no_memory ? out_of_memory(e) : fail_at(e, "duplicate key");
		return 1;
	}
	for (i = f->start; i < e->nkeys; i++)
		if (e->keys[i].len == n && memcmp(e->keys[i].p, p, n) == 0)
			return fail_at(e, "duplicate key");
	if (e->nkeys == e->capkeys) {
		size_t cap = 2 * e->capkeys;
		jkey *k = malloc(cap * sizeof *k);

		if (!k)
			return out_of_memory(e);
		memcpy(k, e->keys, e->nkeys * sizeof *k);
		if (e->keys != e->first_keys)
			free(e->keys);
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
				return out_of_memory(e);
	}
	return 1;
}

/* ---- values ------------------------------------------------------------- */

static int value(jev *e);

EVENT open_container(jev *e, bool object)
{
	jframe *f;

	if (e->b ? !tg_rb_open(e->b, object) : e->depth >= TG_JSON_MAX_DEPTH)
		return 0;
	e->jsonrpc_key = false;
	/* The builder refuses nesting past the depth limit, so this fits. */
	f = &e->f[++e->depth];
	f->start = e->nkeys;
	f->obj = 0;
	e->p++;
	skip_space(e);
	return 1;
}

static int close_container(jev *e)
{
	e->p++;
	e->nkeys = e->f[e->depth--].start;
	return e->b ? tg_rb_close(e->b) : 1;
}

static int object(jev *e)
{
	const char *s;
	size_t n;

	if (!open_container(e, true))
		return 0;
	if (e->p < e->end && *e->p == '}')
		return close_container(e);
	for (;;) {
		if (e->p == e->end || *e->p != '"')
			return malformed(e, "expected a key");
		if (!string(e, &s, &n) || !add_key(e, s, n) || !key_event(e, s, n))
			return 0;
		skip_space(e);
		if (e->p == e->end || *e->p != ':')
			return malformed(e, "expected ':'");
		e->p++;
		skip_space(e);
		if (!value(e))
			return 0;
		skip_space(e);
		if (e->p < e->end && *e->p == ',') {
			e->p++;
			skip_space(e);
			continue;
		}
		if (e->p < e->end && *e->p == '}')
			return close_container(e);
		return malformed(e, "expected ',' or '}'");
	}
}

static int array(jev *e)
{
	if (!open_container(e, false))
		return 0;
	if (e->p < e->end && *e->p == ']')
		return close_container(e);
	for (;;) {
		if (!value(e))
			return 0;
		skip_space(e);
		if (e->p < e->end && *e->p == ',') {
			e->p++;
			skip_space(e);
			continue;
		}
		if (e->p < e->end && *e->p == ']')
			return close_container(e);
		return malformed(e, "expected ',' or ']'");
	}
}

static bool digit(const jev *e, const unsigned char *p)
{
	return p < e->end && *p - (unsigned)'0' <= 9;
}

/* DESIGN: an int is written without fraction or exponent and fits int64;
 * every other number is a value of type other. */
static int number(jev *e)
{
	const unsigned char *p = e->p;
	tg_rb_scalar v = {TG_RB_INT, {NULL, 0}, 0, false};
	bool neg = *p == '-';
	uint64_t u = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

	p += neg;
	if (!digit(e, p)) {
		e->p = p;
		return malformed(e, "a number needs a digit");
	}
	if (*p == '0') {
		p++;
	} else {
		for (; digit(e, p); p++) {
			unsigned d = *p - (unsigned)'0';

			if (u > (lim - d) / 10)
				v.kind = TG_RB_OTHER;
			else
				u = u * 10 + d;
		}
	}
	if (p < e->end && *p == '.') {
		if (!digit(e, ++p)) {
			e->p = p;
			return malformed(e, "a fraction needs a digit");
		}
		while (digit(e, p))
			p++;
		v.kind = TG_RB_OTHER;
	}
	if (p < e->end && (*p | 0x20) == 'e') {
		p++;
		if (p < e->end && (*p == '+' || *p == '-'))
			p++;
		if (!digit(e, p)) {
			e->p = p;
			return malformed(e, "an exponent needs a digit");
		}
		while (digit(e, p))
			p++;
		v.kind = TG_RB_OTHER;
	}
	e->p = p;
	if (v.kind == TG_RB_INT)
		v.i = neg ? (int64_t)(0 - u) : (int64_t)u;
	else
		e->facts.other_numbers = true;
	return scalar_event(e, &v);
}

static int literal(jev *e, const char *word, size_t n, tg_rb_scalar *v)
{
	if ((size_t)(e->end - e->p) < n || memcmp(e->p, word, n) != 0)
		return malformed(e, "an unknown word");
	e->p += n;
	return scalar_event(e, v);
}

static int value(jev *e)
{
	tg_rb_scalar v = {TG_RB_OTHER, {NULL, 0}, 0, false};

	if (e->p == e->end)
		return malformed(e, "the text ends early");
	switch (*e->p) {
	case '{':
		return object(e);
	case '[':
		return array(e);
	case '"':
		v.kind = TG_RB_STRING;
		return string(e, &v.s.ptr, &v.s.len) && scalar_event(e, &v);
	case 't':
		v.kind = TG_RB_BOOL;
		v.b = true;
		return literal(e, "true", 4, &v);
	case 'f':
		v.kind = TG_RB_BOOL;
		return literal(e, "false", 5, &v);
	case 'n':
		return literal(e, "null", 4, &v);
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return number(e);
	}
	return malformed(e, "unexpected character");
}

static bool run(jev *e, tg_rb *b, const char *text, size_t len)
{
	bool ok;

	memset(e, 0, offsetof(jev, f));
	e->b = b;
	e->text = text;
	e->len = len;
	e->p = (const unsigned char *)text;
	e->end = e->p + len;
	e->keys = e->first_keys;
	e->capkeys = sizeof e->first_keys / sizeof e->first_keys[0];
	skip_space(e);
	ok = value(e);
	if (ok) {
		skip_space(e);
		if (e->p != e->end)
			ok = malformed(e, "text after the request");
	}
	if (e->keys != e->first_keys)
		free(e->keys);
	free(e->decoded);
	free(e->table);
	return ok;
}

bool tg_json_events_parse(tg_rb *b, const char *text, size_t len)
{
	jev e;

	return run(&e, b, text, len);
}

bool tg_json_check(const char *text, size_t len, tg_json_facts *facts)
{
	jev e;
	bool ok = run(&e, NULL, text, len);

	*facts = e.facts;
	return ok;
}
