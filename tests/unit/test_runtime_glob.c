/*
 * test_runtime_glob.c - the glob matcher and `under`, table-driven, plus
 * the compiled-pattern path (literal prefix + automaton), a pathological
 * case that an exponential matcher would not finish, and the bit-parallel
 * automaton against a plain backtracking matcher on random globs: short
 * ones over a small alphabet, globs of hundreds of tokens (state across
 * several 64-bit words) and subjects up to 64 KiB; then the same through
 * the programs the loader compiles for a policy's patterns, matched on
 * the loaded layout and through tg_eval (`all args.list like`).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decision.h"
#include "policy.h"
#include "policy_fixture.h"
#include "rt_asm.h"
#include "rng.h"

static const struct {
	const char *glob, *subject;
	bool match;
} globs[] = {
	{ "", "", true },
	{ "", "a", false },
	{ "abc", "abc", true },
	{ "abc", "abd", false },
	{ "abc", "ab", false },
	{ "*", "", true },
	{ "*", "anything", true },
	{ "*", "a/b", false },
	{ "**", "a/b/c", true },
	{ "**", "", true },
	{ "***", "a/b", true },		/* a run of more than two stars is ** */
	{ "github.*", "github.create_issue", true },
	{ "github.*", "github.", true },
	{ "github.*", "gitlab.x", false },
	{ "*.get_*", "jira.get_issue", true },
	{ "*.get_*", "jira.list", false },
	{ "search_*", "search_", true },
	{ "a*b*c", "abc", true },
	{ "a*b*c", "aXXbYYc", true },
	{ "a*b*c", "aXXbYY", false },
	{ "a*b*c", "a/b/c", false },
	{ "a**c", "a/b/c", true },
	{ "file:///workspace/**", "file:///workspace/a/b.txt", true },
	{ "file:///workspace/**", "file:///workspace/", true },
	{ "file:///workspace/**", "file:///workspace", false },
	{ "file:///workspace/**", "file:///etc/passwd", false },
	{ "a/**/b", "a/b", true },		/* slash-star-star-slash matches one / */
	{ "a/**/b", "a/x/b", true },
	{ "a/**/b", "a/x/y/b", true },
	{ "a/**/b", "ab", false },
	{ "a/**/b", "a//b", true },
	{ "**/b", "b", false },
	{ "**/b", "x/b", true },
	{ "a/**", "a/", true },
	{ "?", "a", true },
	{ "?", "", false },
	{ "?", "ab", false },
	{ "?", "/", false },
	{ "?", "\xC3\xA9", true },		/* one code point, two bytes */
	{ "??", "\xC3\xA9", false },
	{ "?", "\xF0\x9F\x98\x80", true },	/* four bytes */
	{ "a?c", "a\xE2\x82\xAC" "c", true },
	{ "\\*", "*", true },
	{ "\\*", "a", false },
	{ "\\?", "?", true },
	{ "\\?", "x", false },
	{ "a\\\\b", "a\\b", true },
	{ "\\**", "*abc", true },
	{ "\\**", "abc", false },
	{ "x\\*\\*", "x**", true },
	{ "x\\*\\*", "xab", false },
	{ "*\\/*", "a/b", true },
	{ "resources/*", "resources/read", true },
	{ "resources/*", "resources/templates/list", false },
	{ "*", "tools/call", false },
	{ "*é*", "caf\xC3\xA9s", true },
	{ "caf?s", "caf\xC3\xA9s", true },
	{ "CASE", "case", false },
};

static void test_glob_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof globs / sizeof globs[0]; i++) {
		bool got = tg_glob_match_from(globs[i].glob, strlen(globs[i].glob), 0, globs[i].subject,
					      strlen(globs[i].subject));
		if (got != globs[i].match)
			fail_msg("glob '%s' on '%s': got %d", globs[i].glob, globs[i].subject, got);
	}
}

/* The same table through compiled patterns (literal prefix + rest) and the
 * LIKE instruction. */
static void test_compiled_patterns(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof globs / sizeof globs[0]; i++) {
		char code[256];
		char esc[128];
		size_t n = 0;
		for (const char *g = globs[i].glob; *g; g++) {
			if (*g == '"' || *g == '\\')
				esc[n++] = '\\';
			esc[n++] = *g;
		}
		esc[n] = 0;
		snprintf(code, sizeof code, "LOADB REQUEST_METHOD; LIKE \"%s\"; RET", esc);
		rt_rule r = { "g", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_ANYTHING, false,
			      { NULL }, code, NULL };
		tg_policy *p = rt_policy(NULL, &r, 1, false, NULL, NULL);
		assert_non_null(p);
		tg_request q;
		tg_decision d;
		tg_request_init(&q);
		q.principal_id.ptr = "a";
		q.principal_id.len = 1;
		q.method.ptr = globs[i].subject;
		q.method.len = strlen(globs[i].subject);
		q.target.ptr = "x";
		q.target.len = 1;
		tg_status st = tg_eval(p, &q, &d);
		if (st != TG_OK)
			fail_msg("case %zu: %s", i, d.reason);
		assert_int_equal(st, TG_OK);
		if ((d.effect == TG_ALLOW) != globs[i].match)
			fail_msg("compiled glob '%s' on '%s': got %d", globs[i].glob, globs[i].subject,
				 d.effect == TG_ALLOW);
		tg_policy_free(p);
	}
}

static void test_glob_limits(void **state)
{
	(void)state;
	/* Patterns that make backtracking matchers exponential. */
	char pat[TG_BC_GLOB_MAX + 2], subj[8192];
	size_t n = 0;
	while (n + 2 < 200) {
		pat[n++] = 'a';
		pat[n++] = '*';
	}
	pat[n++] = 'b';
	memset(subj, 'a', sizeof subj);
	clock_t t0 = clock();
	assert_false(tg_glob_match_from(pat, n, 0, subj, sizeof subj));
	memset(pat, '*', 100);
	memcpy(pat + 100, "**/x", 4);
	for (size_t i = 0; i < sizeof subj; i++)
		subj[i] = i % 2 ? '/' : 'a';
	assert_false(tg_glob_match_from(pat, 104, 0, subj, sizeof subj));
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
	/* Longer than the verified bound from `from`: never matches. */
	memset(pat, '*', TG_BC_GLOB_MAX + 1);
	assert_false(tg_glob_match_from(pat, TG_BC_GLOB_MAX + 1, 0, "x", 1));
	assert_true(tg_glob_match_from(pat, TG_BC_GLOB_MAX, 0, "x", 1));
	/* Writer refuses it, and a lone trailing backslash. */
	tg_emit *e = tg_emit_new();
	assert_int_equal(tg_emit_pattern(e, pat, TG_BC_GLOB_MAX + 1), -1);
	assert_non_null(strstr(tg_emit_error(e), "longer than"));
	tg_emit_free(e);
	e = tg_emit_new();
	assert_int_equal(tg_emit_pattern(e, "ab\\", 3), -1);
	assert_non_null(strstr(tg_emit_error(e), "lone"));
	tg_emit_free(e);
}

/* ---- the reference: the spec, written as a classic backtracking matcher ---- */

/* Bytes of the code point at s[0]: its UTF-8 length when the sequence is
 * complete and well formed (continuation bytes only), else 1. */
static size_t ref_cp(const unsigned char *s, size_t avail)
{
	size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 1;
	if (n > avail)
		return 1;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 1;
	return n;
}

typedef struct ref_ctx {
	const unsigned char *g, *s;
	size_t gn, sn;
	unsigned char *failed;	/* (gi, si, skipped) known not to match: keeps it polynomial */
} ref_ctx;

/* skipped: the glob's `/` before gi was passed over by a slash-star-star-slash
 * matching one `/`, not matched itself, so `/` `**` `/` `**` `/` needs two. */
static bool ref_at(ref_ctx *c, size_t gi, size_t si, bool skipped)
{
	const unsigned char *g = c->g, *s = c->s;
	if (gi == c->gn)
		return si == c->sn;
	size_t key = (gi * (c->sn + 1) + si) * 2 + skipped;
	if (c->failed[key / 8] & (1u << (key % 8)))
		return false;
	bool ok = false;
	if (g[gi] == '*') {
		size_t j = gi;
		while (j < c->gn && g[j] == '*')
			j++;
		bool dstar = j - gi > 1;
		/* slash-star-star-slash may match one `/`: skip the stars and the slash */
		if (dstar && !skipped && gi > 0 && g[gi - 1] == '/' && j < c->gn && g[j] == '/' &&
		    ref_at(c, j + 1, si, true))
			return true;
		for (size_t k = si;; k += ref_cp(s + k, c->sn - k)) {
			if (ref_at(c, j, k, false)) {
				ok = true;
				break;
			}
			if (k == c->sn || (!dstar && s[k] == '/'))
				break;
		}
	} else if (g[gi] == '?') {
		ok = si < c->sn && s[si] != '/' && ref_at(c, gi + 1, si + ref_cp(s + si, c->sn - si), false);
	} else {
		size_t at = g[gi] == '\\' && gi + 1 < c->gn ? gi + 1 : gi;
		size_t gl = ref_cp(g + at, c->gn - at);
		size_t sl = si < c->sn ? ref_cp(s + si, c->sn - si) : 0;
		ok = gl == sl && memcmp(g + at, s + si, gl) == 0 && ref_at(c, at + gl, si + sl, false);
	}
	if (!ok)
		c->failed[key / 8] |= (unsigned char)(1u << (key % 8));
	return ok;
}

/* glob[from..) against s, the bytes before `from` consulted only where the
 * spec says so (a `/` before `**`). */
static bool ref_match(const char *glob, size_t glen, size_t from, const char *s, size_t sn)
{
	if (glen - from > TG_BC_GLOB_MAX)
		return false;
	ref_ctx c = { (const unsigned char *)glob, (const unsigned char *)s, glen, sn, NULL };
	size_t bits = (glen + 1) * (sn + 1) * 2;
	c.failed = calloc(bits / 8 + 1, 1);
	assert_non_null(c.failed);
	bool r = ref_at(&c, from, 0, false);
	free(c.failed);
	return r;
}

/* ---- random globs and subjects ---- */


/* Glob pieces: wildcards, escapes, `/`, multi-byte code points and stray
 * bytes (a lead byte alone, a continuation byte alone). */
static const char *const gpieces[] = {
	"a", "b", "/", "*", "**", "***", "?", "\\*", "\\?", "\\\\", "\\a", "\\/",
	"\\\xC3\xA9", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "/**/", "\xC3", "\xA9",
};
static const char *const spieces[] = {
	"a", "b", "/", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "*", "?", "\\", "\xC3",
	"\xA9", "\xE2\x82", "x",
};
#define NG (sizeof gpieces / sizeof *gpieces)
#define NS (sizeof spieces / sizeof *spieces)

typedef struct buf {
	char *p;
	size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void put_random(buf *b, unsigned count, bool slash)
{
	for (unsigned i = 0; i < count; i++) {
		const char *p = spieces[rnd(NS)];
		if (!slash && *p == '/')
			p = "b";
		put(b, p, strlen(p));
	}
}

/* A subject the glob pieces g[0..n) are likely to match: each literal as
 * itself, each wildcard filled in (runs up to `run` pieces), then now and
 * then one piece changed. */
static void instantiate(buf *s, const char *const *g, size_t n, unsigned run)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = g[i];
		if (strcmp(p, "*") == 0)
			put_random(s, rnd(run + 1), false);
		else if (strcmp(p, "**") == 0 || strcmp(p, "***") == 0)
			put_random(s, rnd(run + 1), true);
		else if (strcmp(p, "?") == 0)
			put_random(s, 1, false);
		else if (strcmp(p, "/**/") == 0) {
			put(s, "/", 1);
			if (rnd(2)) {
				put_random(s, rnd(run + 1), true);
				put(s, "/", 1);
			}
		} else if (p[0] == '\\')
			put(s, p + 1, strlen(p + 1));
		else
			put(s, p, strlen(p));
	}
	if (s->n && rnd(3) == 0) {
		size_t at = rnd((unsigned)s->n);
		s->p[at] = "ab/\xC3"[rnd(4)];
	}
}

/* One case: the glob g[0..n) pieces (the first `pre` of them a literal
 * prefix), a subject for the part after the prefix. */
static void check_case(const char *const *g, size_t n, size_t pre, unsigned run, unsigned nrand)
{
	buf gb = { 0 }, sb = { 0 };
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		if (i == pre)
			from = gb.n;
		put(&gb, g[i], strlen(g[i]));
	}
	if (pre >= n)
		from = gb.n;
	if (rnd(50) == 0)
		put(&gb, "\\", 1);		/* a lone trailing backslash: a literal `\` */
	if (nrand)
		put_random(&sb, rnd(nrand + 1), true);
	else
		instantiate(&sb, g + (pre < n ? pre : n), pre < n ? n - pre : 0, run);
	put(&gb, "", 1);
	put(&sb, "", 1);
	size_t glen = gb.n - 1, slen = sb.n - 1;
	bool want = ref_match(gb.p, glen, from, sb.p, slen);
	bool got = from == 0 ? tg_glob_match(gb.p, glen, sb.p, slen)
			     : tg_glob_match_from(gb.p, glen, from, sb.p, slen);
	if (got != want)
		fail_msg("glob '%s' (from %zu) on '%.200s' (%zu bytes): automaton %d, reference %d",
			 gb.p, from, sb.p, slen, got, want);
	free(gb.p);
	free(sb.p);
}

static const char *const prefixes[] = { "a", "/", "x/", "\xC3\xA9" };

/* Short globs over the small alphabet: 150,000 cases, half with subjects
 * made to fit the glob, half random. */
static void test_glob_random(void **state)
{
	(void)state;
	const char *g[16];
	for (int k = 0; k < 150000; k++) {
		size_t pre = rnd(4) == 0 ? rnd(3) : 0, n = pre + rnd(10);
		for (size_t i = 0; i < n; i++)
			g[i] = i < pre ? prefixes[rnd(4)] : gpieces[rnd(NG)];
		check_case(g, n, pre, 3, k % 2 ? 0 : 12);
	}
}

/* Globs of 60 to 400 tokens, mostly literals: the state spans several
 * words and live positions cross word boundaries (the skip of a
 * slash-star-star-slash crosses three positions at once). */
static void test_glob_random_long(void **state)
{
	(void)state;
	static const char *g[TG_BC_GLOB_MAX];
	for (int k = 0; k < 3000; k++) {
		size_t n = 60 + rnd(340), bytes = 0, pre = rnd(3) == 0 ? 1 : 0;
		for (size_t i = 0; i < n; i++) {
			const char *p = i < pre		? prefixes[rnd(4)]
					: rnd(8) == 0	? gpieces[rnd(NG)]
							: gpieces[rnd(3)];
			if (bytes + strlen(p) > TG_BC_GLOB_MAX - 2) {
				n = i;
				break;
			}
			bytes += i < pre ? 0 : strlen(p);
			g[i] = p;
		}
		check_case(g, n, pre, 4, k % 4 == 3 ? 400 : 0);
	}
}

/* Subjects up to 64 KiB (the request string limit): wildcards filled with
 * long runs, against the same reference. */
static void test_glob_long_subjects(void **state)
{
	(void)state;
	const char *g[12];
	for (int k = 0; k < 60; k++) {
		size_t n = 1 + rnd(8);
		for (size_t i = 0; i < n; i++)
			g[i] = gpieces[rnd(NG)];
		check_case(g, n, 0, 3000 + rnd(5000), 0);
	}
	/* The benchmark's shape: a 512-byte glob whose positions are all live
	 * at once, over 64 KiB. */
	char *gl = malloc(TG_BC_GLOB_MAX + 1), *s = malloc(65536);
	assert_non_null(gl);
	assert_non_null(s);
	size_t n = 0;
	while (n + 3 <= TG_BC_GLOB_MAX - 2) {
		memcpy(gl + n, "*a?", 3);
		n += 3;
	}
	memcpy(gl + n, "**", 2);
	n += 2;
	memset(s, 'a', 65536);
	assert_true(tg_glob_match(gl, n, s, 65536));
	assert_false(tg_glob_match(gl, n, s, 339));	/* 170 x `a?` need 340 */
	assert_true(tg_glob_match(gl, n, s, 340));
	s[65535] = '/';
	assert_true(tg_glob_match(gl, n, s, 65536));	/* the final `**` takes it */
	s[100] = '/';
	assert_false(tg_glob_match(gl, n, s, 65536));	/* a `*` or `?` would have to */
	free(gl);
	free(s);
}

/* ---- programs compiled at load ---- */

/* A generated glob: its pieces (to make subjects from) and its bytes. */
typedef struct gcase {
	const char **pieces;
	size_t n;
	buf glob;
} gcase;

/* Pieces of valid UTF-8 only (source strings, request values). */
static const char *const upieces[] = {
	"a", "b", "/", "*", "**", "?", "\\*", "\\?", "\\\\", "\\a", "/**/", "\xC3\xA9",
	"\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\\\xC3\xA9", "c",
};
/* Multi-byte heavy: many distinct code points (the table grows), stray bytes. */
static const char *const mpieces[] = {
	"\xC3\xA9", "\xC3\xA8", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xC3", "\xA9", "\xD0\x96",
	"\xE4\xB8\xAD", "?", "*", "a", "**",
};
#define NU (sizeof upieces / sizeof *upieces)
#define NM (sizeof mpieces / sizeof *mpieces)

/* A random glob: short (up to 10 pieces, sometimes after a literal
 * prefix), long (60 to 400 pieces, mostly literals: several state
 * words) or long and multi-byte heavy. utf8: valid UTF-8 pieces only. */
static void make_case(gcase *c, int kind, bool utf8)
{
	size_t n, bytes = 0;
	c->pieces = malloc(TG_BC_GLOB_MAX * sizeof *c->pieces);
	assert_non_null(c->pieces);
	memset(&c->glob, 0, sizeof c->glob);
	if (kind == 0)
		n = rnd(11);
	else
		n = 60 + rnd(340);
	size_t pre = kind == 0 && rnd(4) == 0 ? rnd(3) : kind == 1 && rnd(3) == 0 ? 1 : 0;
	for (size_t i = 0; i < n; i++) {
		const char *p;
		if (i < pre)
			p = prefixes[rnd(utf8 ? 3 : 4)];
		else if (kind == 2)
			p = utf8 && rnd(3) == 0 ? upieces[rnd(NU)] : mpieces[rnd(NM)];
		else if (kind == 1 && rnd(8) != 0)
			p = gpieces[rnd(3)];
		else
			p = utf8 ? upieces[rnd(NU)] : gpieces[rnd(NG)];
		if (utf8 && (unsigned char)p[0] >= 0x80 && (unsigned char)p[0] < 0xC2)
			p = "a";
		if (utf8 && strcmp(p, "\xC3") == 0)
			p = "b";
		if (bytes + strlen(p) > TG_BC_GLOB_MAX - 4) {
			n = i;
			break;
		}
		bytes += strlen(p);
		c->pieces[i] = p;
		put(&c->glob, p, strlen(p));
	}
	c->n = n;
	put(&c->glob, "", 1);
	c->glob.n--;
}

static void free_case(gcase *c)
{
	free(c->pieces);
	free(c->glob.p);
}

/* A subject for c: fitted to it (now and then off by one piece), or random. */
static void make_subject(buf *s, const gcase *c, bool utf8)
{
	s->n = 0;
	for (int tries = 0; tries < 20; tries++) {
		s->n = 0;
		if (rnd(4) == 0)
			put_random(s, rnd(c->n > 20 ? 400 : 12), true);
		else
			instantiate(s, c->pieces, c->n, c->n > 20 ? 4 : 3);
		if (!utf8 || tg_utf8_valid(s->p ? s->p : "", s->n))
			break;
	}
	if (utf8 && !tg_utf8_valid(s->p ? s->p : "", s->n))
		s->n = 0;
	put(s, "", 1);
	s->n--;
}

/* The loader's pattern for glob g, found by its text. */
static uint32_t find_pattern(const tg_layout *l, const buf *g)
{
	for (uint32_t i = 0; i < l->npats; i++) {
		tg_str t = tg_pol_str(l, tg_rd32(l->pats + (size_t)i * TG_BC_PATTERN_SIZE));
		if (t.len == g->n && memcmp(t.ptr, g->p, g->n) == 0)
			return i;
	}
	fail_msg("no pattern for '%s'", g->p);
	return 0;
}

/* What pattern pat means: its literal prefix, byte for byte, then the
 * reference on the rest. (The same as the whole glob unless the prefix
 * ends inside a code point of the subject, which takes invalid UTF-8.) */
static bool ref_pattern(const tg_layout *l, uint32_t pat, const char *s, size_t n)
{
	const unsigned char *e = l->pats + (size_t)pat * TG_BC_PATTERN_SIZE;
	tg_str g = tg_pol_str(l, tg_rd32(e)), pre = tg_pol_str(l, tg_rd32(e + 4));
	uint32_t rest = tg_rd32(e + 8);
	if (n < pre.len || memcmp(s, pre.ptr, pre.len) != 0)
		return false;
	if (tg_rd32(e + 12) & TG_PAT_EXACT)
		return n == pre.len;
	return ref_match(g.ptr, g.len, rest, s + pre.len, n - pre.len);
}

/* The largest programs a glob can need, per match and loaded: 127
 * distinct stray bytes and 192 distinct two-byte code points (the
 * multi-byte table at its largest), and 511 literals over 73 ASCII
 * characters (an entry per class and word). ASan checks the frames. */
static void test_glob_extremes(void **state)
{
	(void)state;
	char g[2][TG_BC_GLOB_MAX + 1];
	size_t gl[2] = { 0, 0 };
	g[0][gl[0]++] = '*';
	for (unsigned b = 0x80; b <= 0xFE; b++)
		g[0][gl[0]++] = (char)b;	/* continuations, then leads: all stray */
	for (unsigned k = 0; k < 192; k++) {
		g[0][gl[0]++] = (char)(0xC2 + k / 64);
		g[0][gl[0]++] = (char)(0x80 + k % 64);
	}
	g[1][gl[1]++] = '*';
	for (; gl[1] < TG_BC_GLOB_MAX; gl[1]++) {
		char ch = (char)('0' + (gl[1] * 7) % 75);
		g[1][gl[1]] = ch == '?' || ch == '\\' ? '~' : ch;
	}
	g[1][gl[1] - 1] = '?';		/* else glob_simple.c takes it */
	assert_int_equal(gl[0], TG_BC_GLOB_MAX);
	for (int i = 0; i < 2; i++) {
		char code[2 * TG_BC_GLOB_MAX + 64];
		size_t n = 0;
		n += (size_t)snprintf(code, sizeof code, "LOADB REQUEST_METHOD; LIKE \"");
		for (size_t k = 0; k < gl[i]; k++) {
			if (g[i][k] == '"' || g[i][k] == '\\')
				code[n++] = '\\';
			code[n++] = g[i][k];
		}
		snprintf(code + n, sizeof code - n, "\"; RET");
		rt_rule r = { "x", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_ANYTHING, false,
			      { NULL }, code, NULL };
		tg_policy *p = rt_policy(NULL, &r, 1, false, NULL, NULL);
		assert_non_null(p);
		buf gb = { g[i], gl[i], 0 };
		uint32_t pat = find_pattern(&p->l, &gb);
		assert_non_null(tg_glob_prog(&p->l, pat));
		char subj[TG_BC_GLOB_MAX + 8];
		for (int v = 0; v < 4; v++) {
			size_t sn = 0;
			if (v == 3)
				subj[sn++] = 'z';
			memcpy(subj + sn, g[i] + 1, gl[i] - 1);
			sn += gl[i] - 1;
			if (v == 1)
				subj[sn / 2] ^= 1;
			if (v == 2)
				sn--;
			bool want = ref_match(g[i], gl[i], 0, subj, sn);
			assert_int_equal(tg_glob_match(g[i], gl[i], subj, sn), want);
			assert_int_equal(tg_pattern_match(&p->l, pat, subj, sn), want);
			if (v == 0 || v == 3)
				assert_true(want);
		}
		tg_policy_free(p);
	}
}

/* Policies of 200 `like` globs each: every pattern matched on the loaded
 * layout (the loader's programs for the general ones) against the
 * reference, on 4 subjects per glob: 48,000 cases. */
static void test_loaded_random(void **state)
{
	(void)state;
	enum { NGLOB = 200, NSUBJ = 4, ROUNDS = 60 };
	static gcase cases[NGLOB];
	static rt_rule rules[NGLOB];
	static char *codes[NGLOB];
	size_t via_prog = 0, long_prog = 0, total = 0;
	buf s = { 0 };
	for (int round = 0; round < ROUNDS; round++) {
		for (size_t k = 0; k < NGLOB; k++) {
			int kind = k % 10 < 6 ? 0 : k % 10 < 9 ? 1 : 2;
			make_case(&cases[k], kind, false);
			buf code = { 0 };
			const char *head = "LOADB REQUEST_METHOD; LIKE \"";
			put(&code, head, strlen(head));
			for (size_t i = 0; i < cases[k].glob.n; i++) {
				char ch = cases[k].glob.p[i];
				if (ch == '"' || ch == '\\')
					put(&code, "\\", 1);
				put(&code, &ch, 1);
			}
			put(&code, "\"; RET", 7);
			codes[k] = code.p;
			rules[k] = (rt_rule){ "g", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL },
					      TG_BC_ACT_ANYTHING, false, { NULL }, codes[k], NULL };
		}
		tg_policy *p = rt_policy(NULL, rules, NGLOB, false, NULL, NULL);
		assert_non_null(p);
		const tg_layout *l = &p->l;
		for (size_t k = 0; k < NGLOB; k++) {
			const gcase *c = &cases[k];
			uint32_t pat = find_pattern(l, &c->glob);
			bool prog = l->pat_prog && ((const uint32_t *)(const void *)l->pat_prog)[pat];
			via_prog += prog;
			long_prog += prog && c->n > 64;
			for (int j = 0; j < NSUBJ; j++) {
				make_subject(&s, c, false);
				bool want = ref_pattern(l, pat, s.p, s.n);
				bool got = tg_pattern_match(l, pat, s.p, s.n);
				if (got != want)
					fail_msg("loaded glob '%s' on '%.200s' (%zu bytes): %d, reference %d",
						 c->glob.p, s.p, s.n, got, want);
				total++;
			}
		}
		tg_policy_free(p);
		for (size_t k = 0; k < NGLOB; k++) {
			free_case(&cases[k]);
			free(codes[k]);
		}
	}
	free(s.p);
	print_message("%zu cases; %zu globs matched by a load-time program, %zu of them past 64 tokens\n",
		      total, via_prog, long_prog);
	assert_true(total >= 20000);
	assert_true(via_prog >= ROUNDS * NGLOB / 4);
	assert_true(long_prog >= ROUNDS * NGLOB / 10);
}

/* The same globs written in policy source, through tg_eval: rule rK
 * allows tool tK when `all args.list like` glob K, on lists of 1 to 8
 * subjects (allowed exactly when the reference matches every one). */
static void test_loaded_eval(void **state)
{
	(void)state;
	enum { NGLOB = 60, NREQ = 8, ROUNDS = 5 };
	gcase cases[NGLOB];
	buf subj[8] = { { 0 } };
	size_t evals = 0, allowed = 0;
	for (int round = 0; round < ROUNDS; round++) {
		buf src = { 0 };
		const char *decl = "attribute args.list: list<string>;\n";
		put(&src, decl, strlen(decl));
		for (size_t k = 0; k < NGLOB; k++) {
			make_case(&cases[k], k % 3 == 0 ? 0 : (int)(k % 3), true);
			char head[80];
			snprintf(head, sizeof head,
				 "rule \"r%zu\": allow anyone to call tool \"t%zu\" when all args.list like \"",
				 k, k);
			put(&src, head, strlen(head));
			for (size_t i = 0; i < cases[k].glob.n; i++) {
				char ch = cases[k].glob.p[i];
				if (ch == '"' || ch == '\\')
					put(&src, "\\", 1);
				put(&src, &ch, 1);
			}
			put(&src, "\";\n", 3);
		}
		put(&src, "", 1);
		tg_policy *p = compile_policy(src.p);
		uint32_t slot;
		assert_int_equal(tg_policy_slot_find(p, "args.list", &slot), TG_OK);
		size_t nslots = tg_policy_slot_count(p);
		tg_value *vals = calloc(nslots, sizeof *vals);
		assert_non_null(vals);
		for (size_t k = 0; k < NGLOB; k++) {
			char target[16];
			snprintf(target, sizeof target, "t%zu", k);
			for (int r = 0; r < NREQ; r++) {
				tg_str items[8];
				size_t m = 1 + rnd(8);
				bool want = true;
				for (size_t i = 0; i < m; i++) {
					make_subject(&subj[i], &cases[k], true);
					items[i] = (tg_str){ subj[i].p, subj[i].n };
					want &= ref_match(cases[k].glob.p, cases[k].glob.n, 0, subj[i].p,
							  subj[i].n);
				}
				tg_request q;
				tg_decision d;
				tg_request_init(&q);
				q.principal_id = (tg_str){ "u", 1 };
				q.method = (tg_str){ "tools/call", 10 };
				q.target = (tg_str){ target, strlen(target) };
				vals[slot].type = TG_VALUE_STRING_LIST;
				vals[slot].u.strs.items = items;
				vals[slot].u.strs.n = m;
				q.slots = vals;
				q.nslots = nslots;
				assert_int_equal(tg_eval(p, &q, &d), TG_OK);
				if ((d.effect == TG_ALLOW) != want)
					fail_msg("rule r%zu, glob '%s', %zu subjects (first '%.100s'): "
						 "allow %d, reference %d",
						 k, cases[k].glob.p, m, subj[0].p, d.effect == TG_ALLOW, want);
				evals++;
				allowed += want;
			}
		}
		free(vals);
		tg_policy_free(p);
		free(src.p);
		for (size_t k = 0; k < NGLOB; k++)
			free_case(&cases[k]);
	}
	for (int i = 0; i < 8; i++)
		free(subj[i].p);
	print_message("%zu evaluations, %zu allowed\n", evals, allowed);
	assert_true(allowed > evals / 10 && allowed < evals - evals / 10);
}

static const struct {
	const char *x, *dir;
	int want;	/* 1 under, 0 not, -1 error */
} unders[] = {
	{ "/srv/repos", "/srv/repos", 1 },
	{ "/srv/repos/", "/srv/repos", 1 },
	{ "/srv/repos/a", "/srv/repos", 1 },
	{ "/srv/repos/a/b/c.txt", "/srv/repos", 1 },
	{ "/srv/repository", "/srv/repos", 0 },
	{ "/srv", "/srv/repos", 0 },
	{ "/etc/passwd", "/srv/repos", 0 },
	{ "/", "/srv/repos", 0 },
	{ "/", "/", 1 },
	{ "/anything/at/all", "/", 1 },
	{ "/srv/repos/../etc", "/srv/repos", -1 },
	{ "/srv/repos/./a", "/srv/repos", -1 },
	{ "/srv/repos/a/..", "/srv/repos", -1 },
	{ "/srv/repos/a/.", "/srv/repos", -1 },
	{ "/srv//repos/a", "/srv/repos", -1 },
	{ "/srv/repos//", "/srv/repos", -1 },
	{ "//srv/repos", "/srv/repos", -1 },
	{ "srv/repos", "/srv/repos", -1 },
	{ "", "/srv/repos", -1 },
	{ "/srv/repos/...", "/srv/repos", 1 },
	{ "/srv/repos/.hidden", "/srv/repos", 1 },
	{ "/srv/repos/a..b", "/srv/repos", 1 },
	{ "/srv/repos\\..\\x", "/srv/repos", 0 },
};

static void test_under_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof unders / sizeof unders[0]; i++) {
		int got = tg_under(unders[i].x, strlen(unders[i].x), unders[i].dir, strlen(unders[i].dir));
		if (got != unders[i].want)
			fail_msg("'%s' under '%s': got %d, want %d", unders[i].x, unders[i].dir, got,
				 unders[i].want);
	}
}

/* What tg_under says of x under "/": -1 unless x is absolute and clean
 * (no empty, `.` or `..` segment; one trailing '/' allowed), else 1. Written
 * the plain way, segment by segment, as the reference for the scan. */
static int ref_under_root(const char *x, size_t n)
{
	size_t end = n > 1 && x[n - 1] == '/' ? n - 1 : n, seg = 1;

	if (n == 0 || x[0] != '/')
		return -1;
	if (n == 1)
		return 1;
	while (seg <= end) {
		size_t i = seg;

		while (i < end && x[i] != '/')
			i++;
		if (i == seg || (i - seg == 1 && x[seg] == '.') ||
		    (i - seg == 2 && x[seg] == '.' && x[seg + 1] == '.'))
			return -1;
		seg = i + 1;
	}
	return 1;
}

/* tg_under's cleanliness scan reads eight bytes at a time: every unclean
 * form at every offset of paths of 1-48 bytes (the windows' seams and the
 * overlapping last window), then random paths over '/', '.', 'a' and a
 * non-ASCII byte, each against the reference. */
static void test_under_scan(void **state)
{
	static const char *const dirty[] = {"//", "/./", "/../", "/.", "/..", "/...", "/.a", "/a."};
	char x[64];
	uint64_t seed = 42;
	size_t checked = 0;

	(void)state;
	for (size_t n = 1; n <= 48; n++)
		for (size_t k = 0; k < sizeof dirty / sizeof dirty[0]; k++)
			for (size_t at = 0; at + strlen(dirty[k]) <= n; at++) {
				for (size_t i = 0; i < n; i++)
					x[i] = i % 4 == 0 ? '/' : 'a';
				memcpy(x + at, dirty[k], strlen(dirty[k]));
				if (tg_under(x, n, "/", 1) != ref_under_root(x, n))
					fail_msg("'%.*s': got %d, want %d", (int)n, x, tg_under(x, n, "/", 1),
						 ref_under_root(x, n));
				checked++;
			}
	for (int r = 0; r < 300000; r++) {
		size_t n = 1 + (size_t)(r % 40);

		x[0] = '/';
		for (size_t i = 1; i < n; i++) {
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			x[i] = "/.a\xff"[(seed >> 33) % 4];
		}
		if (tg_under(x, n, "/", 1) != ref_under_root(x, n))
			fail_msg("'%.*s': got %d, want %d", (int)n, x, tg_under(x, n, "/", 1),
				 ref_under_root(x, n));
		checked++;
	}
	print_message("%zu paths\n", checked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob_table),
		cmocka_unit_test(test_compiled_patterns),
		cmocka_unit_test(test_glob_limits),
		cmocka_unit_test(test_glob_random),
		cmocka_unit_test(test_glob_random_long),
		cmocka_unit_test(test_glob_long_subjects),
		cmocka_unit_test(test_glob_extremes),
		cmocka_unit_test(test_loaded_random),
		cmocka_unit_test(test_loaded_eval),
		cmocka_unit_test(test_under_table),
		cmocka_unit_test(test_under_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
