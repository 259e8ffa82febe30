/*
 * request.h - the quick pass of request validation (request.c), in line
 * in tg_eval: a call to it saved and restored six registers.
 */
#ifndef TG_REQUEST_H
#define TG_REQUEST_H

#include "policy.h"

#include <string.h>

#define HIGH_BITS 0x8080808080808080u
#define LOW_BITS 0x0101010101010101u

/*
 * The quick pass. Nearly every request is valid and nearly every request
 * string is short ASCII, so instead of validating string by string it
 * folds every word of every string into one accumulator that gets a high
 * bit from a non-ASCII or a zero byte (quick_word). Every read stays
 * inside [ptr, ptr + len): strings of 4-7 bytes are read as two
 * overlapping 4-byte loads, of 8-16 bytes as two overlapping 8-byte
 * loads, of 1-3 bytes as three single bytes padded with 0x01, longer ones
 * word by word. A NULL pointer, a length or count over its limit or an
 * unknown value type sets a high bit too. The pass only says "certainly
 * valid" (no high bit in the end) or "look closer": then the precise check
 * runs from the start and reports the first problem in its own order, so
 * non-ASCII requests cost what they did before this pass existed.
 *
 * Its cost is per string (a typical tools/call has a dozen: identity,
 * scopes, slot values, target, server), so the common lengths take the
 * fewest comparisons: 4-7 bytes one range test, 8-16 two.
 */
/* A high bit set unless every byte of w is in 1..0x7F: a zero byte is the
 * lowest to borrow in w - LOW_BITS, which sets its high bit; a byte >=
 * 0x80 has its own. */
static inline uint64_t quick_word(uint64_t w)
{
	return (w - LOW_BITS) | w;
}

/* Strings of 0-3 bytes or of 17 or more (s is not NULL). Principal ids
 * are often e-mail addresses of 17-24 bytes: the first two words are read
 * before the loop. */
static inline uint64_t quick_rest(const unsigned char *s, size_t n)
{
	uint64_t w, acc;
	if (n < 4)
		return n ? quick_word(s[0] | (uint64_t)s[n / 2] << 8 | (uint64_t)s[n - 1] << 16 |
				      0x0101010101000000u)
			 : 0;
	if (n > TG_MAX_STRING_BYTES)
		return HIGH_BITS;
	memcpy(&w, s, 8);
	acc = quick_word(w);
	memcpy(&w, s + 8, 8);
	acc |= quick_word(w);
	for (size_t i = 16; i + 8 < n; i += 8) {
		memcpy(&w, s + i, 8);
		acc |= quick_word(w);
	}
	memcpy(&w, s + n - 8, 8);
	return acc | quick_word(w);
}

static TG_ALWAYS_INLINE uint64_t quick_str(bool validated, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	uint64_t w, x;
	if (!s)
		return n ? HIGH_BITS : 0;
	/* The reader has read these bytes already: only the length is left,
	 * ORed into the pass's result as it is (quick_ok). */
	if (validated)
		return n;
	if (n - 4 < 4) {	/* unsigned: n < 4 wraps round */
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		return quick_word(a | (uint64_t)b << 32);
	}
	/* The hint puts the 8-16 byte loads in line (2-5 instructions per
	 * decision fewer). */
	if (__builtin_expect(n - 8 > 8, 0))
		return quick_rest(s, n);
	memcpy(&w, s, 8);
	memcpy(&x, s + n - 8, 8);
	return quick_word(w) | quick_word(x);
}

static TG_ALWAYS_INLINE uint64_t quick_list(bool validated, const tg_str *items, size_t n)
{
	uint64_t acc = 0;
	if (n - 1 >= TG_MAX_LIST_ITEMS)	/* empty (n - 1 wraps round) or too long */
		return n ? HIGH_BITS : 0;
	if (!items)
		return HIGH_BITS;
	const tg_str *end = items + n;
	do
		acc |= quick_str(validated, items->ptr, items->len);
	while (++items < end);
	return acc;
}

/* quick_identity lets every type up to BOOL but STRING pass unread. */
_Static_assert(TG_VALUE_ABSENT < TG_VALUE_BOOL && TG_VALUE_INT < TG_VALUE_BOOL &&
		       TG_VALUE_STRING < TG_VALUE_BOOL && TG_VALUE_STRING_LIST > TG_VALUE_BOOL &&
		       TG_VALUE_INT_LIST > TG_VALUE_BOOL && TG_VALUE_OTHER > TG_VALUE_BOOL,
	       "the scalar value types come first");

/* The slot values that are neither strings nor scalars: lists, OTHER and
 * types no tg_value has. */
static inline uint64_t quick_value(bool validated, const tg_value *v)
{
	switch (v->type) {
	case TG_VALUE_STRING_LIST:
		return quick_list(validated, v->u.strs.items, v->u.strs.n);
	case TG_VALUE_INT_LIST:
		if (v->u.ints.n > TG_MAX_LIST_ITEMS || (v->u.ints.n && !v->u.ints.items))
			return HIGH_BITS;
		return 0;
	case TG_VALUE_OTHER:
		return 0;
	default:
		return HIGH_BITS;
	}
}

/* The principal, token and slot values: what a list request and each of
 * its entries share. Strings and scalars are most slot values: two
 * comparisons sort them (a switch over all types cost ~3 instructions
 * more per slot), quick_value takes the rest. */
static TG_ALWAYS_INLINE uint64_t quick_identity(const tg_request *r, bool validated)
{
	if (!r->principal_id.ptr || (!r->slots && r->nslots) || r->args.type != TG_VALUE_ABSENT)
		return HIGH_BITS;
	uint64_t acc = quick_str(validated, r->principal_id.ptr, r->principal_id.len);
	if (r->client_id.ptr)
		acc |= quick_str(validated, r->client_id.ptr, r->client_id.len);
	acc |= quick_list(validated, r->roles, r->nroles) |
	       quick_list(validated, r->scopes, r->nscopes);
	const tg_value *v = r->slots;
	for (size_t k = r->nslots; k; k--, v++) {
		if (v->type == TG_VALUE_STRING)
			acc |= quick_str(validated, v->u.s.ptr, v->u.s.len);
		else if ((unsigned)v->type > TG_VALUE_BOOL)
			acc |= quick_value(validated, v);
	}
	return acc;
}

/* The flags the quick pass knows: 0 or TG_REQUEST_VALIDATED; anything
 * else (a short size, unknown flags) goes to the precise check. */
static inline bool quick_flags(const tg_request *r, bool *validated)
{
	if (r->size < TG_REQUEST_V1_SIZE)
		return false;
	uint32_t f = tg_request_flags(r);
	*validated = f == TG_REQUEST_VALIDATED;
	return (f & ~TG_REQUEST_VALIDATED) == 0;
}

/* tg_bc_method_class with its most frequent answer, tools/call, in line:
 * two compares instead of a call. */
static inline tg_bc_class method_class(const char *m, size_t len)
{
	uint64_t w, k;
	uint16_t h, l;
	if (len == 10) {
		memcpy(&w, m, 8);
		memcpy(&k, "tools/ca", 8);
		memcpy(&h, m + 8, 2);
		memcpy(&l, "ll", 2);
		if (w == k && h == l)
			return TG_CLASS_TOOL;
	}
	return tg_bc_method_class(m, len);
}

/* Some tool annotation is not ABSENT, FALSE or TRUE. */
static inline bool hints_bad(const tg_request *r)
{
	return (unsigned)r->read_only > TG_HINT_TRUE || (unsigned)r->destructive > TG_HINT_TRUE ||
	       (unsigned)r->idempotent > TG_HINT_TRUE || (unsigned)r->open_world > TG_HINT_TRUE;
}

/* The method, target, server and annotations; *cls gets the method class.
 * A method of a known class equals one of the class's names, so only an
 * unknown method's bytes need reading. */
static TG_ALWAYS_INLINE uint64_t quick_call(const tg_request *r, tg_bc_class *cls, bool validated)
{
	if (!r->method.ptr)
		return HIGH_BITS;
	uint64_t acc = 0;
	*cls = method_class(r->method.ptr, r->method.len);
	if (*cls == TG_CLASS_OTHER)
		acc = quick_str(validated, r->method.ptr, r->method.len);
	if (r->target.ptr)
		acc |= quick_str(validated, r->target.ptr, r->target.len);
	else if (*cls == TG_CLASS_TOOL || *cls == TG_CLASS_RESOURCE || *cls == TG_CLASS_PROMPT)
		return HIGH_BITS;
	if (*cls == TG_CLASS_RESOURCE && tg_uri_problem(r->target.ptr, r->target.len))
		return HIGH_BITS;
	if (r->server.ptr)
		acc |= quick_str(validated, r->server.ptr, r->server.len);
	return hints_bad(r) ? HIGH_BITS : acc;
}

/* The pass's verdict "certainly valid". A validated request's result is
 * the OR of its string lengths and HIGH_BITS for any other problem: at
 * most the limit only when every length is. */
static inline bool quick_ok(bool validated, uint64_t acc)
{
	return validated ? acc <= TG_MAX_STRING_BYTES : !(acc & HIGH_BITS);
}

/* The precise check (request.c): the first problem in DESIGN's order, or
 * NULL (and then *cls holds the method's class). */
const char *tg_request_precise(const tg_request *r, tg_bc_class *cls);

/* tg_request_problem's quick pass: true when r (not NULL) is certainly
 * valid, *cls then holding its method's class; false to look closer. */
static TG_ALWAYS_INLINE bool tg_request_quick(const tg_request *r, tg_bc_class *cls)
{
	bool validated = false;
	if (!quick_flags(r, &validated))
		return false;
	/* Two copies of the pass, so each has its branch folded away. */
	return validated ? quick_ok(true, quick_identity(r, true) | quick_call(r, cls, true))
			 : quick_ok(false, quick_identity(r, false) | quick_call(r, cls, false));
}

#endif
