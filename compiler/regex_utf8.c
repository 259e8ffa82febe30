/*
 * regex_utf8.c - code point ranges as alternatives of UTF-8 byte ranges.
 *
 * The DFA reads bytes, so [a-é] has to become byte sequences. The split is
 * the one RE2 and Go's regexp/syntax use: cut a range where the encoded
 * length changes (7F, 7FF, FFFF), then wherever the low 6*i bits do not
 * run from all-zeros to all-ones, until lo and hi differ only in ways that
 * each byte position can express as one byte range on its own:
 *
 *   U+0080..U+07FF   ->  [C2-DF][80-BF]
 *   U+00E9..U+20AC   ->  [C3][A9-BF] | [C4-DF][80-BF] | [E0][A0-BF][80-BF]
 *                        | [E1][80-81][80-BF] | [E2][80][80-AB] ... (and so on)
 */
#include "regex_internal.h"

unsigned tg_re_utf8_encode(uint32_t cp, uint8_t *buf)
{
	if (cp < 0x80) {
		buf[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (uint8_t)(0xC0 | cp >> 6);
		buf[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (uint8_t)(0xE0 | cp >> 12);
		buf[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		buf[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	buf[0] = (uint8_t)(0xF0 | cp >> 18);
	buf[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
	buf[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
	buf[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

unsigned tg_re_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
	if (n == 0)
		return 0;
	uint8_t b = s[0];
	unsigned len;
	uint32_t c, min;
	if (b < 0x80) {
		*cp = b;
		return 1;
	} else if (b >= 0xC2 && b <= 0xDF) {
		len = 2, c = b & 0x1Fu, min = 0x80;
	} else if (b >= 0xE0 && b <= 0xEF) {
		len = 3, c = b & 0x0Fu, min = 0x800;
	} else if (b >= 0xF0 && b <= 0xF4) {
		len = 4, c = b & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (unsigned i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3Fu);
	}
	if (c < min || c > TG_RE_MAX_CP || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static uint32_t max_of_length(unsigned len)
{
	static const uint32_t max[] = { 0, 0x7F, 0x7FF, 0xFFFF, TG_RE_MAX_CP };
	return max[len];
}

bool tg_re_utf8_split(uint32_t lo, uint32_t hi, tg_re_seq_fn fn, void *ctx)
{
	if (lo > hi)
		return true;
	/* Different encoded lengths: one piece per length. */
	for (unsigned len = 1; len < 4; len++) {
		uint32_t max = max_of_length(len);
		if (lo <= max && hi > max)
			return tg_re_utf8_split(lo, max, fn, ctx) &&
			       tg_re_utf8_split(max + 1, hi, fn, ctx);
	}
	if (hi < 0x80) {
		tg_re_utf8_seq seq = { .len = 1, .lo = { (uint8_t)lo }, .hi = { (uint8_t)hi } };
		return fn(ctx, &seq);
	}
	/* Same length: make every trailing 6-bit group span its full range,
	 * so each byte position becomes independent of the others. */
	for (unsigned i = 1; i < 4; i++) {
		uint32_t m = (1u << (6 * i)) - 1;
		if ((lo & ~m) != (hi & ~m)) {
			if ((lo & m) != 0)
				return tg_re_utf8_split(lo, lo | m, fn, ctx) &&
				       tg_re_utf8_split((lo | m) + 1, hi, fn, ctx);
			if ((hi & m) != m)
				return tg_re_utf8_split(lo, (hi & ~m) - 1, fn, ctx) &&
				       tg_re_utf8_split(hi & ~m, hi, fn, ctx);
		}
	}
	tg_re_utf8_seq seq;
	uint8_t a[4], b[4];
	seq.len = (uint8_t)tg_re_utf8_encode(lo, a);
	tg_re_utf8_encode(hi, b);
	for (unsigned i = 0; i < seq.len; i++) {
		seq.lo[i] = a[i];
		seq.hi[i] = b[i];
	}
	return fn(ctx, &seq);
}
