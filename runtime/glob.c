/*
 * glob.c - glob matching and `under`.
 *
 * Glob semantics (DESIGN "Globs"): `*` matches any run of characters other
 * than `/`, `**` (or a longer run of stars) any run at all, slash-star-star-slash
 * also matches a single `/`, `?` one UTF-8 code point other than `/`, `\`
 * makes the next character literal. No classes; byte-exact comparison.
 *
 * Model: a Thompson NFA whose states are the byte offsets in the glob where
 * a token starts, simulated with two bitsets while the subject is read one
 * code point at a time. A star state loops on itself and has an
 * epsilon edge past its token; the `**` inside slash-star-star-slash has a second
 * epsilon edge past the following `/`, taken only on entering it.
 * Epsilon edges only go forward, so one ascending sweep computes the
 * closure. Each step costs O(pattern), the
 * whole match O(pattern x subject); there is no backtracking, so no input
 * makes it exponential. The state is fixed (two bitsets of TG_FMT_GLOB_MAX
 * + 1 bits) and lives on the caller's stack: matching never allocates.
 *
 * The compiled pattern stores the literal prefix before the first wildcard;
 * it is compared with memcmp and only the rest runs through the NFA.
 */
#include "policy.h"

#include <string.h>

#define NWORDS ((TG_FMT_GLOB_MAX + 1 + 63) / 64)

enum { TOK_LIT, TOK_ANY1, TOK_STAR, TOK_DSTAR, TOK_DSTAR_SLASH };

/* Length of the UTF-8 sequence starting at s[0] (1 for a stray byte). */
static size_t cp_len(const unsigned char *s, size_t avail)
{
	size_t n = 1;
	if (s[0] >= 0xF0)
		n = 4;
	else if (s[0] >= 0xE0)
		n = 3;
	else if (s[0] >= 0xC0)
		n = 2;
	if (n > avail)
		n = 1;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 1;
	return n;
}

typedef struct tok {
	int kind;
	size_t len;		/* bytes of glob text the token spans */
	size_t lit, litlen;	/* TOK_LIT: the literal code point's bytes */
} tok;

static tok token_at(const unsigned char *g, size_t glen, size_t i)
{
	tok t = { TOK_LIT, 1, i, 1 };
	if (g[i] == '*') {
		size_t j = i;
		while (j < glen && g[j] == '*')
			j++;
		t.len = j - i;
		if (t.len == 1) {
			t.kind = TOK_STAR;
		} else {
			t.kind = TOK_DSTAR;
			if (i > 0 && g[i - 1] == '/' && j < glen && g[j] == '/')
				t.kind = TOK_DSTAR_SLASH;
		}
	} else if (g[i] == '?') {
		t.kind = TOK_ANY1;
	} else if (g[i] == '\\' && i + 1 < glen) {
		t.lit = i + 1;
		t.litlen = cp_len(g + i + 1, glen - i - 1);
		t.len = 1 + t.litlen;
	} else {
		t.litlen = cp_len(g + i, glen - i);
		t.len = t.litlen;
	}
	return t;
}

static void set(uint64_t *b, size_t i)
{
	b[i / 64] |= (uint64_t)1 << (i % 64);
}

static bool get(const uint64_t *b, size_t i)
{
	return (b[i / 64] >> (i % 64)) & 1;
}

/* Adds epsilon successors; positions are offsets from `from`. */
static void closure(uint64_t *b, const unsigned char *g, size_t glen, size_t from)
{
	size_t n = glen - from;
	for (size_t i = 0; i < n; i++) {
		if (!get(b, i))
			continue;
		tok t = token_at(g, glen, from + i);
		if (t.kind == TOK_STAR || t.kind == TOK_DSTAR || t.kind == TOK_DSTAR_SLASH)
			set(b, i + t.len);
	}
}

/*
 * The second epsilon edge of slash-star-star-slash: from the `**` state
 * straight past the following `/`, so the whole matches a single `/`. It
 * is taken only on entering the state (right after the first `/`, or at the
 * start), never after the stars consumed something: `a/` `**` `/b` must not
 * match `a/xb`. Position k is an offset from `from`.
 */
static void skip_dstar_slash(uint64_t *b, const unsigned char *g, size_t glen, size_t from,
			     size_t k)
{
	if (from + k >= glen)
		return;
	tok t = token_at(g, glen, from + k);
	if (t.kind == TOK_DSTAR_SLASH)
		set(b, k + t.len + 1);
}

bool tg_glob_match_from(const char *glob, size_t glen, size_t from, const char *subj, size_t slen)
{
	const unsigned char *g = (const unsigned char *)glob;
	const unsigned char *s = (const unsigned char *)subj;
	uint64_t cur[NWORDS], nxt[NWORDS];

	if (from > glen || glen - from > TG_FMT_GLOB_MAX)
		return false;
	size_t n = glen - from;
	memset(cur, 0, sizeof cur);
	set(cur, 0);
	skip_dstar_slash(cur, g, glen, from, 0);
	closure(cur, g, glen, from);
	for (size_t j = 0; j < slen;) {
		size_t cl = cp_len(s + j, slen - j);
		bool any = false;
		memset(nxt, 0, sizeof nxt);
		for (size_t w = 0; w < NWORDS; w++) {
			uint64_t bits = cur[w];
			while (bits) {
				size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
				bits &= bits - 1;
				if (i >= n)
					continue;
				tok t = token_at(g, glen, from + i);
				switch (t.kind) {
				case TOK_LIT:
					if (t.litlen == cl && memcmp(g + t.lit, s + j, cl) == 0) {
						set(nxt, i + t.len);
						skip_dstar_slash(nxt, g, glen, from, i + t.len);
						any = true;
					}
					break;
				case TOK_ANY1:
					if (s[j] != '/') {
						set(nxt, i + t.len);
						any = true;
					}
					break;
				case TOK_STAR:
					if (s[j] != '/') {
						set(nxt, i);
						any = true;
					}
					break;
				default:
					set(nxt, i);
					any = true;
				}
			}
		}
		if (!any)
			return false;
		closure(nxt, g, glen, from);
		memcpy(cur, nxt, sizeof cur);
		j += cl;
	}
	return get(cur, n);
}

bool tg_pattern_match(const tg_layout *l, uint32_t pat, const char *s, size_t slen)
{
	const unsigned char *p = l->pats + (size_t)pat * TG_FMT_PATTERN_SIZE;
	tg_str pre = tg_pol_str(l, tg_rd32(p + 4));
	if (tg_rd32(p + 12) & TG_PAT_EXACT)
		return slen == pre.len && memcmp(s, pre.ptr, slen) == 0;
	if (slen < pre.len || memcmp(s, pre.ptr, pre.len) != 0)
		return false;
	tg_str glob = tg_pol_str(l, tg_rd32(p));
	uint32_t rest = tg_rd32(p + 8);
	if (l->pat_simple && l->pat_simple[pat] == TG_GLOB_STARS)
		return tg_glob_simple_match(glob.ptr + rest, glob.len - rest, s + pre.len, slen - pre.len);
	if (l->pat_simple && l->pat_simple[pat] == TG_GLOB_DSTARS)
		return tg_glob_dstar_match(glob.ptr + rest, glob.len - rest, s + pre.len, slen - pre.len);
	return tg_glob_match_from(glob.ptr, glob.len, rest, s + pre.len, slen - pre.len);
}

/*
 * X under DIR. DIR was checked by the compiler (absolute, clean). X must be
 * absolute; it may end in one `/`; any other empty segment and every `.` or
 * `..` segment makes it unclean, an error, so `/srv/repos/../etc` can never
 * pass as under `/srv/repos`.
 */
int tg_under(const char *x, size_t xlen, const char *dir, size_t dlen)
{
	if (xlen == 0 || x[0] != '/')
		return -1;
	size_t end = xlen;
	if (xlen > 1) {
		if (x[xlen - 1] == '/')
			end = xlen - 1;
		for (size_t i = 1, seg = 1; i <= end; i++) {
			if (i < end && x[i] != '/')
				continue;
			size_t sl = i - seg;
			if (sl == 0)
				return -1;
			if ((sl == 1 && x[seg] == '.') ||
			    (sl == 2 && x[seg] == '.' && x[seg + 1] == '.'))
				return -1;
			seg = i + 1;
		}
	}
	size_t dl = dlen > 1 && dir[dlen - 1] == '/' ? dlen - 1 : dlen;
	if (dl == 1 && dir[0] == '/')
		return 1;
	if (end < dl || memcmp(x, dir, dl) != 0)
		return 0;
	return end == dl || x[dl] == '/';
}
