/*
 * glob_simple.c - the fast matcher for star-only globs.
 *
 * Most tool globs are literals and single stars: `github.*`, `*.get_*`,
 * `search_*`. For those glob.c's general automaton is needless work: with `*`
 * matching any run without `/`, a glob `*S1*S2*...*Sk` (Sk anchored at the
 * end, possibly empty) matches by finding each middle segment at its
 * leftmost occurrence. Leftmost is safe: a later occurrence of a segment
 * has a gap before it that contains the earlier one's gap, so it can only
 * bring in a `/`, and the text it leaves for the rest is a subset (for
 * overlapping occurrences the segment's period makes the skipped bytes
 * reappear in the gap). Cost O(subject x segment) at worst, no allocation.
 *
 * A glob qualifies when its part from the first wildcard is ASCII with no
 * `?`, no `\` and no `**`. ASCII segments keep byte matching identical to
 * glob.c's code-point matching on any subject: an ASCII byte is never part
 * of a multi-byte sequence there, so segment boundaries fall on code point
 * boundaries. load.c decides which patterns qualify, once per policy.
 *
 * Globs whose wildcards are all `**` runs, such as a directory followed
 * by `**`, or `/.ssh/` between two `**` (same ASCII conditions, and no run
 * with a `/` on both sides, which may also match a single `/`), take a
 * second matcher: `**` matches any run, so the middle segments are found
 * at their leftmost occurrence with no `/` test at all and the last one is
 * anchored at the end.
 *
 * A prefilter runs before either matcher when a glob is matched against a
 * request's target: every adjacent byte pair inside a literal segment of
 * the glob must occur somewhere in the target, so a 64-bit set of hashed
 * pairs per pattern (built at load) and one per target (built once per
 * request) rule out most non-matching globs with one AND. Globs without an
 * index prefix, `*.get_*`, are candidates for every target: this is what
 * keeps them cheap.
 */
#include "policy.h"

#include <string.h>

int tg_glob_star_kind(const char *g, size_t glen, size_t from)
{
	bool single = false, dstar = false;
	if (from >= glen || g[from] != '*')
		return TG_GLOB_GENERAL;
	for (size_t i = from; i < glen;) {
		unsigned char c = (unsigned char)g[i];
		if (c >= 0x80 || c == '?' || c == '\\')
			return TG_GLOB_GENERAL;
		if (c != '*') {
			i++;
			continue;
		}
		size_t j = i;
		while (j < glen && g[j] == '*')
			j++;
		if (j - i == 1)
			single = true;
		else if (i > 0 && g[i - 1] == '/' && j < glen && g[j] == '/')
			return TG_GLOB_GENERAL;	/* may match a single `/` */
		else
			dstar = true;
		i = j;
	}
	return single == dstar ? TG_GLOB_GENERAL : single ? TG_GLOB_STARS : TG_GLOB_DSTARS;
}

/* Segments are a few bytes: an inline loop beats a call to memcmp. */
static bool same(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* t (starting with a star) ends with literal text after its last star,
 * t[*last ..), which must end s: whether it does, with *end where it
 * starts in s. Both matchers fit what comes before into s[0 .. *end). */
static inline bool tail_ends(const char *t, size_t tn, const char *s, size_t sn, size_t *last,
			     size_t *end)
{
	size_t l = tn;
	while (t[l - 1] != '*')
		l--;			/* t[0] is '*', so this stops */
	size_t len = tn - l;
	if (sn < len || !same(s + sn - len, t + l, len))
		return false;
	*last = l;
	*end = sn - len;
	return true;
}

/* Both matchers: with stars (single `*`), no segment may have a `/`
 * before it since pos, nor the text after the last one; `**` runs match
 * any bytes. */
static TG_ALWAYS_INLINE bool segs_match(const char *t, size_t tn, const char *s, size_t sn,
					bool stars)
{
	size_t last, end, pos = 0;
	if (!tail_ends(t, tn, s, sn, &last, &end))
		return false;
	for (size_t seg = 0; seg < last;) {
		if (t[seg] == '*') {
			seg++;
			continue;
		}
		size_t len = 0;
		while (t[seg + len] != '*')
			len++;
		/* the leftmost occurrence */
		size_t i = pos;
		for (;; i++) {
			if (i + len > end || (stars && i > pos && s[i - 1] == '/'))
				return false;
			if (s[i] == t[seg] && same(s + i + 1, t + seg + 1, len - 1))
				break;
		}
		pos = i + len;
		seg += len;
	}
	return !stars || end == pos || memchr(s + pos, '/', end - pos) == NULL;
}

bool tg_glob_simple_match(const char *t, size_t tn, const char *s, size_t sn)
{
	return segs_match(t, tn, s, sn, true);
}

bool tg_glob_dstar_match(const char *t, size_t tn, const char *s, size_t sn)
{
	return segs_match(t, tn, s, sn, false);
}

/* A pair's bit: a function of the two bytes that stays within a byte
 * lane, so tg_glob_pairs computes eight pairs at once in one 64-bit word.
 * It filters as well as the multiplicative hash it replaced, (a * 31 + b)
 * mod 64: on every glob and tool name of the benchmark policies (28,114
 * non-matching pairs) one more passes. tg_glob_pairs went from 226 to 120
 * instructions on saas's 19-byte targets (tg_action_match 533k -> 454k
 * over the suite, scenario-50 93 -> 76 a decision). */
#define PAIR_IDX(a, b) ((((a) & 0x3Fu) << 2) ^ (b) ^ ((a) >> 4))

static uint64_t pair_bit(unsigned char a, unsigned char b)
{
	return (uint64_t)1 << (PAIR_IDX((unsigned)a, (unsigned)b) & 63);
}

/* set plus the bits of pairs u[k], u[k + 1] for k < 8. Written out and
 * kept out of line: as a loop, or inlined into its caller, gcc turns the
 * eight bit sets into variable-shift chains (~5 instructions a bit instead
 * of a bts; tg_action_match 74 -> 81 instructions a decision on
 * scenario-50). */
static TG_NOINLINE uint64_t pairs8(const unsigned char *u, uint64_t set)
{
	uint64_t a, b;
	memcpy(&a, u, 8);
	memcpy(&b, u + 1, 8);
	uint64_t x = ((a & 0x3F3F3F3F3F3F3F3Fu) << 2) ^ b ^ ((a >> 4) & 0x0F0F0F0F0F0F0F0Fu);
	set |= (uint64_t)1 << (x & 63);
	x >>= 8;
	set |= (uint64_t)1 << (x & 63);
	x >>= 8;
	set |= (uint64_t)1 << (x & 63);
	x >>= 8;
	set |= (uint64_t)1 << (x & 63);
	x >>= 8;
	set |= (uint64_t)1 << (x & 63);
	x >>= 8;
	set |= (uint64_t)1 << (x & 63);
	x >>= 8;
	set |= (uint64_t)1 << (x & 63);
	x >>= 8;
	return set | (uint64_t)1 << (x & 63);
}

uint64_t tg_glob_pairs(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	uint64_t set = 0;
	if (n < 9) {
		for (size_t i = 1; i < n; i++)
			set |= pair_bit(u[i - 1], u[i]);
		return set;
	}
	/* pairs i .. i + 7 from bytes i .. i + 8; the last run overlaps */
	for (size_t i = 0; i + 9 < n; i += 8)
		set = pairs8(u + i, set);
	return pairs8(u + n - 9, set);
}

uint64_t tg_glob_required_pairs(const char *g, size_t glen, size_t from, int kind)
{
	uint64_t set = 0;
	if (kind == TG_GLOB_GENERAL)
		return 0;	/* escapes and `?` would need decoding: no filter */
	for (size_t i = from + 1; i < glen; i++)
		if (g[i - 1] != '*' && g[i] != '*')
			set |= pair_bit((unsigned char)g[i - 1], (unsigned char)g[i]);
	return set;
}
