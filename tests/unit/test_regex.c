/*
 * test_regex.c - the `matches` regex engine (compiler/regex.h): a syntax
 * table, one error per refused construct, the limits, the shape of the
 * tables (canonical, minimal, in bounds), the lint questions, and the
 * engine against a backtracking matcher on thousands of random patterns.
 *
 * The backtracking matcher below shares nothing with the engine: random
 * patterns are generated as trees here, printed as text for the engine,
 * and matched as trees over code points by the reference, so a bug in the
 * engine's parser shows up as well as one in its automata.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regex.h"
#include "rng.h"

static bool compile(const char *pattern, tg_re_dfa *d, tg_re_error *e)
{
	return tg_re_compile(pattern, strlen(pattern), d, e);
}

/* ---- the syntax table ---- */

static const struct {
	const char *pattern, *subject;
	bool match;
} table[] = {
	{ "", "", true },
	{ "", "a", false },
	{ "abc", "abc", true },
	{ "abc", "abcd", false },
	{ "abc", "xabc", false },
	{ "a|b", "b", true },
	{ "a|b", "ab", false },
	{ "a|", "", true },
	{ "(?:ab)+", "ababab", true },
	{ "(?:ab)+", "aba", false },
	{ "(ab)*c", "c", true },
	{ "(ab)*c", "ababc", true },
	{ "(?P<word>ab)c", "abc", true },
	{ "(?<word>ab)c", "abc", true },
	{ "a?b", "b", true },
	{ "a?b", "aab", false },
	{ "a{3}", "aaa", true },
	{ "a{3}", "aa", false },
	{ "a{2,}", "aaaaa", true },
	{ "a{2,}", "a", false },
	{ "a{2,3}", "aaa", true },
	{ "a{2,3}", "aaaa", false },
	{ "a{0}", "", true },
	{ "a{0,0}b", "b", true },
	{ "a*?", "aaa", true },
	{ "a+?b", "aab", true },
	{ "a??", "", true },
	{ "a{1,2}?", "aa", true },
	{ "(a*)*", "aaa", true },
	{ "(a|)+b", "b", true },
	{ "(a?){3}", "", true },
	{ ".", "a", true },
	{ ".", "\n", false },
	{ ".", "", false },
	{ ".", "\xC3\xA9", true },		/* é: one code point, two bytes */
	{ ".", "\xF0\x9F\x98\x80", true },	/* 😀: one code point, four bytes */
	{ "..", "\xC3\xA9", false },
	{ "(?s).", "\n", true },
	{ "(?s)a.b", "a\nb", true },
	{ ".*", "any thing \xE2\x82\xAC", true },
	{ ".*", "two\nlines", false },
	{ ".*foo.*", "a foo b", true },
	{ "\xC3\xA9t\xC3\xA9", "\xC3\xA9t\xC3\xA9", true },
	{ "[abc]", "b", true },
	{ "[abc]", "d", false },
	{ "[a-z]+", "hello", true },
	{ "[a-z]+", "Hello", false },
	{ "[^a-z]", "A", true },
	{ "[^a-z]", "q", false },
	{ "[^a]", "\n", true },			/* a negated class includes newline */
	{ "[^a]", "\xE2\x82\xAC", true },
	{ "[]a]", "]", true },
	{ "[^]a]", "]", false },
	{ "[a-]", "-", true },
	{ "[-a]", "-", true },
	{ "[\\]]", "]", true },
	{ "[\\-]", "-", true },
	{ "[\\[]", "[", true },
	{ "[\\d]", "7", true },
	{ "[\\w.]+", "a_b.c", true },
	{ "[\\s]", "\t", true },
	{ "[\\S]", " ", false },
	{ "[\\D\\d]", "\xC3\xA9", true },
	{ "[\xC3\xA0-\xC3\xBF]", "\xC3\xA9", true },	/* [à-ÿ] */
	{ "[\xC3\xA0-\xC3\xBF]", "e", false },
	{ "[a-\xE2\x82\xAC]", "\xC3\xA9", true },	/* [a-€] crosses encoding lengths */
	{ "[a-\xE2\x82\xAC]", "\xE2\x82\xAD", false },
	{ "[\xE2\x82\xAC-\xF0\x9F\x98\x80]", "\xEF\xBF\xBD", true },	/* across the surrogates */
	{ "[^\\x00-\\x{10FFFF}]", "a", false },
	{ "\\d+", "0123456789", true },
	{ "\\d", "\xD9\xA3", false },		/* ASCII digits only */
	{ "\\D", "\xD9\xA3", true },
	{ "\\w+", "snake_Case9", true },
	{ "\\w", "\xC3\xA9", false },
	{ "\\W", "\xC3\xA9", true },
	{ "\\s", " ", true },
	{ "\\s", "\n", true },
	{ "\\s", "\v", false },			/* RE2's \s has no \v */
	{ "\\S", "\v", true },
	{ "\\.", ".", true },
	{ "\\.", "a", false },
	{ "\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\\\/\\-", "*+?()[]{}|^$\\/-", true },
	{ "\\n\\t\\r\\f\\v", "\n\t\r\f\v", true },
	{ "\\x41", "A", true },
	{ "\\x{20AC}", "\xE2\x82\xAC", true },
	{ "\\x{1F600}", "\xF0\x9F\x98\x80", true },
	{ "\\x{10FFFF}", "\xF4\x8F\xBF\xBF", true },
	{ "\\xe9", "\xC3\xA9", true },
	{ "^abc$", "abc", true },
	{ "\\Aabc\\z", "abc", true },
	{ "(?s)^.$", "\n", true },
	{ "^a|b$", "b", true },
	{ "a$", "a\n", false },
	{ "a}", "a}", true },
	{ "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}", "jane.doe+tag@example.co.uk", true },
	{ "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}", "jane@example.c", false },
	{ "(?:SELECT|select) [^;]*", "SELECT * FROM t", true },
	{ "(?:SELECT|select) [^;]*", "SELECT 1; DROP TABLE t", false },
	{ "/srv/repos/[^/]+/.*", "/srv/repos/toolgate/README.md", true },
};

static void test_syntax_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
		tg_re_dfa d;
		tg_re_error e;
		if (!compile(table[i].pattern, &d, &e))
			fail_msg("/%s/ does not compile: %s (offset %u)", table[i].pattern, e.message, e.offset);
		bool got = tg_re_dfa_match(&d, table[i].subject, strlen(table[i].subject));
		tg_re_dfa_free(&d);
		if (got != table[i].match)
			fail_msg("/%s/ on \"%s\": got %d, want %d", table[i].pattern, table[i].subject, got,
				 table[i].match);
	}
}

/* ---- refused constructs ---- */

static const struct {
	const char *pattern;
	uint32_t offset;
	const char *message;	/* a part of it */
} errors[] = {
	{ "(a)\\1", 3, "backreferences are not supported: they cannot run in linear time" },
	{ "\\9", 0, "backreferences are not supported" },
	{ "(?P<x>a)\\k<x>", 8, "backreferences are not supported" },
	{ "(?P<x>a)(?P=x)", 8, "backreferences are not supported" },
	{ "a(?=b)", 1, "lookahead/lookbehind is not supported" },
	{ "a(?!b)", 1, "lookahead/lookbehind is not supported" },
	{ "(?<=a)b", 0, "lookahead/lookbehind is not supported" },
	{ "(?<!a)b", 0, "lookahead/lookbehind is not supported" },
	{ "\\bfoo", 0, "word boundaries" },
	{ "foo\\B", 3, "word boundaries" },
	{ "[\\b]", 1, "word boundaries" },
	{ "\\p{L}", 0, "Unicode classes" },
	{ "x\\PL", 1, "Unicode classes" },
	{ "a*+", 2, "possessive quantifiers" },
	{ "a{2}+", 4, "possessive quantifiers" },
	{ "(?>ab)", 0, "atomic groups" },
	{ "\\q", 0, "unknown escape '\\q'" },
	{ "ab\\Q", 2, "unknown escape '\\Q'" },
	{ "\\\xC3\xA9", 0, "unknown escape" },
	{ "\\", 0, "trailing backslash" },
	{ "\\0", 0, "octal escapes" },
	{ "(ab", 0, "missing ')' to close the '(' at offset 0" },
	{ "a(b(c)", 1, "missing ')'" },
	{ "ab)", 2, "unmatched ')'" },
	{ "*a", 0, "nothing to repeat" },
	{ "a|+", 2, "nothing to repeat" },
	{ "(?:?)", 3, "nothing to repeat" },
	{ "{2}", 0, "nothing to repeat" },
	{ "a**", 2, "double repetition" },
	{ "a*??", 3, "double repetition" },
	{ "a{2}{3}", 4, "double repetition" },
	{ "a{2,1}", 1, "the minimum is larger than the maximum" },
	{ "a{1001}", 1, "over the limit of 1000" },
	{ "a{1,1001}", 1, "over the limit of 1000" },
	{ "a{99999999999999999999}", 1, "over the limit of 1000" },
	{ "a{,3}", 1, "'{' must be a repetition" },
	{ "a{x}", 1, "'{' must be a repetition" },
	{ "a{", 1, "'{' must be a repetition" },
	{ "[abc", 0, "unterminated class" },
	{ "x[^", 1, "unterminated class" },
	{ "[]", 0, "unterminated class" },
	{ "[z-a]", 1, "reversed range 'z-a'" },
	{ "[\xE2\x82\xAC-a]", 1, "reversed range" },
	{ "[\\d-z]", 1, "cannot start a range" },
	{ "[a-\\w]", 3, "cannot end a range" },
	{ "[[:alpha:]]", 1, "'[' inside a class must be escaped" },
	{ "(?i)abc", 0, "case-insensitive matching (?i) is not supported; write a class for each letter, such as [Aa]" },
	{ "(?i:a)", 0, "case-insensitive" },
	{ "(?m)a", 0, "flags are not supported, except (?s)" },
	{ "a(?s)b", 1, "(?s) is only supported at the very start" },
	{ "(?#note)a", 0, "comments" },
	{ "(?<1x>a)", 0, "invalid group name" },
	{ "(?%)", 0, "unknown group syntax" },
	{ "a^", 1, "'^' is only meaningful at the start of the pattern: matching is anchored to the whole value" },
	{ "(^a)", 1, "'^' is only meaningful at the start" },
	{ "a\\A", 1, "'\\A' is only meaningful at the start" },
	{ "a$b", 1, "'$' is only meaningful at the end of the pattern" },
	{ "(a$)", 2, "'$' is only meaningful at the end" },
	{ "a\\zb", 1, "'\\z' is only meaningful at the end" },
	{ "a\\Z", 1, "'\\Z' is only meaningful at the end" },
	{ "\\x4", 0, "'\\x' needs two hexadecimal digits" },
	{ "\\x{}", 0, "'\\x{' needs hexadecimal digits" },
	{ "\\x{110000}", 0, "code point out of range" },
	{ "\\x{FFFFFFFFFFFF}", 0, "code point out of range" },
	{ "\\x{D800}", 0, "surrogate" },
	{ "ab\xC3", 2, "not valid UTF-8" },
	{ "\xED\xA0\x80", 0, "not valid UTF-8" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof errors / sizeof *errors; i++) {
		tg_re_dfa d;
		tg_re_error e;
		if (compile(errors[i].pattern, &d, &e)) {
			tg_re_dfa_free(&d);
			fail_msg("/%s/ compiles; want the error \"%s\"", errors[i].pattern, errors[i].message);
		}
		if (!strstr(e.message, errors[i].message) || e.offset != errors[i].offset)
			fail_msg("/%s/: got \"%s\" at %u, want \"%s\" at %u", errors[i].pattern, e.message,
				 e.offset, errors[i].message, errors[i].offset);
		assert_null(d.next);
		assert_null(d.accept);
		tg_re_dfa_free(&d);	/* safe on a failed compile */
	}
}

/* ---- invariants of every compiled table ---- */

static bool same_dfa(const tg_re_dfa *a, const tg_re_dfa *b)
{
	return a->nstates == b->nstates && a->nclasses == b->nclasses &&
	       memcmp(a->classes, b->classes, sizeof a->classes) == 0 &&
	       memcmp(a->next, b->next, (size_t)a->nstates * a->nclasses * sizeof *a->next) == 0 &&
	       memcmp(a->accept, b->accept, a->nstates) == 0;
}

/* In bounds, classes numbered by first byte, states in breadth-first
 * order, no two classes alike, no two states equivalent. Returns a reason. */
static const char *check_shape(const tg_re_dfa *d)
{
	if (d->nstates < 1 || d->nstates > TG_RE_MAX_STATES || d->nclasses < 1 || d->nclasses > 256)
		return "sizes out of range";
	unsigned seen = 0;
	for (unsigned b = 0; b < 256; b++) {
		if (d->classes[b] > seen)
			return "classes not numbered in order of their first byte";
		if (d->classes[b] == seen)
			seen++;
	}
	if (seen != d->nclasses)
		return "a class has no byte";
	uint32_t n = d->nstates, k = d->nclasses;
	for (size_t i = 0; i < (size_t)n * k; i++)
		if (d->next[i] >= n)
			return "transition out of range";
	uint32_t bfs = 1;	/* the next state BFS would discover */
	for (uint32_t s = 0; s < n; s++)
		for (uint32_t c = 0; c < k; c++)
			if (d->next[s * k + c] > bfs)
				return "states not in breadth-first order";
			else if (d->next[s * k + c] == bfs)
				bfs++;
	if (bfs != n)
		return "unreachable state";
	for (uint32_t a = 0; a < k; a++)
		for (uint32_t b = a + 1; b < k; b++) {
			bool same = true;
			for (uint32_t s = 0; s < n && same; s++)
				same = d->next[s * k + a] == d->next[s * k + b];
			if (same)
				return "two byte classes behave alike";
		}
	/* Moore's refinement, naive: the number of blocks must be n. */
	uint32_t *blk = malloc(n * sizeof *blk), *nb = malloc(n * sizeof *nb);
	assert_non_null(blk);
	assert_non_null(nb);
	for (uint32_t s = 0; s < n; s++)
		blk[s] = d->accept[s];
	uint32_t blocks = 0, prev = 0;
	for (;;) {
		blocks = 0;
		for (uint32_t s = 0; s < n; s++) {
			nb[s] = UINT32_MAX;
			for (uint32_t t = 0; t < s && nb[s] == UINT32_MAX; t++) {
				bool same = blk[s] == blk[t];
				for (uint32_t c = 0; c < k && same; c++)
					same = blk[d->next[s * k + c]] == blk[d->next[t * k + c]];
				if (same)
					nb[s] = nb[t];
			}
			if (nb[s] == UINT32_MAX)
				nb[s] = blocks++;
		}
		memcpy(blk, nb, n * sizeof *blk);
		if (blocks == prev)
			break;
		prev = blocks;
	}
	free(blk);
	free(nb);
	return blocks == n ? NULL : "two states are equivalent (not minimal)";
}

static void test_shape(void **state)
{
	(void)state;
	const char *patterns[] = {
		"", "a", "abc", "a*", "(a|b)*abb", ".", "(?s).*", "[^a]+", "\xC3\xA9|\xE2\x82\xAC|\xF0\x9F\x98\x80",
		"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}", "\\w{3,5}", "[^\\s\\S]", ".{0,20}x",
	};
	for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++) {
		tg_re_dfa d, d2;
		tg_re_error e;
		assert_true(compile(patterns[i], &d, &e));
		const char *why = d.nstates <= 300 ? check_shape(&d) : NULL;
		if (why)
			fail_msg("/%s/: %s", patterns[i], why);
		assert_int_equal(d.classes[0], 0);
		assert_true(compile(patterns[i], &d2, &e));
		assert_true(same_dfa(&d, &d2));	/* reproducible */
		tg_re_dfa_free(&d);
		tg_re_dfa_free(&d2);
	}
}

/* Patterns that mean the same give the same bytes: the table depends on
 * the language, not the spelling. */
static void test_canonical(void **state)
{
	(void)state;
	const char *pairs[][2] = {
		{ "a*", "a*?" },
		{ "a*", "(?:a*)*" },
		{ "[ab]", "a|b" },
		{ "[ab]", "(b|a)" },
		{ "a+", "aa*" },
		{ "a{2,}", "aaa*" },
		{ "a{0,2}", "(a(a)?)?" },
		{ "\\d", "[0-9]" },
		{ "\\d", "[0123456789]" },
		{ "[^\\n]", "." },
		{ "[\\s\\S]", "(?s)." },
		{ "\\x{20AC}", "\xE2\x82\xAC" },
		{ "^abc$", "abc" },
		{ "(?:x|y)*z", "[xy]*z" },
		{ "[\\w\\W]*", "(?s).*" },
		{ "(?P<n>ab)", "ab" },
	};
	for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
		tg_re_dfa a, b;
		tg_re_error e;
		assert_true(compile(pairs[i][0], &a, &e));
		assert_true(compile(pairs[i][1], &b, &e));
		if (!same_dfa(&a, &b))
			fail_msg("/%s/ and /%s/ give different tables", pairs[i][0], pairs[i][1]);
		tg_re_dfa_free(&a);
		tg_re_dfa_free(&b);
	}
	/* The exact table of a small pattern: classes by first byte, states breadth-first. */
	tg_re_dfa d;
	tg_re_error e;
	assert_true(compile("ab|b", &d, &e));
	assert_int_equal(d.nclasses, 3);	/* {everything else}, {a}, {b} */
	assert_int_equal(d.classes[0], 0);
	assert_int_equal(d.classes['a'], 1);
	assert_int_equal(d.classes['b'], 2);
	assert_int_equal(d.classes['c'], 0);
	assert_int_equal(d.nstates, 4);	/* start, dead, after a, accept */
	static const uint16_t next[] = { 1, 2, 3, 1, 1, 1, 1, 1, 3, 1, 1, 1 };
	assert_memory_equal(d.next, next, sizeof next);
	static const uint8_t accept[] = { 0, 0, 0, 1 };
	assert_memory_equal(d.accept, accept, sizeof accept);
	tg_re_dfa_free(&d);
}

static void test_lint_questions(void **state)
{
	(void)state;
	static const struct {
		const char *pattern;
		bool nothing, all;
	} cases[] = {
		{ "(?s).*", false, true },
		{ "[\\s\\S]*", false, true },
		{ "[^a]*|.*a.*", false, false },	/* the second branch misses newlines */
		{ "(?s)[^a]*|.*a.*", false, true },
		{ "(?s)(?:.|\\n)*", false, true },
		{ ".*", false, false },
		{ "(?s).+", false, false },		/* not the empty value */
		{ "(?s).*|", false, true },
		{ "[^\\x00-\\x{10FFFF}]", true, false },
		{ "[^\\s\\S]+x", true, false },
		{ "a[^\\w\\W]", true, false },
		{ "a{0}", false, false },
		{ "", false, false },
		{ "[\\x00-\\x{D7FF}\\x{E000}-\\x{10FFFF}]*", false, true },
		{ "[\\x00-\\x{D7FF}\\x{E000}-\\x{10FFFE}]*", false, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		tg_re_dfa d;
		tg_re_error e;
		if (!compile(cases[i].pattern, &d, &e))
			fail_msg("/%s/: %s", cases[i].pattern, e.message);
		if (tg_re_dfa_matches_nothing(&d) != cases[i].nothing ||
		    tg_re_dfa_matches_all_utf8(&d) != cases[i].all)
			fail_msg("/%s/: nothing %d all %d, want %d %d", cases[i].pattern,
				 tg_re_dfa_matches_nothing(&d), tg_re_dfa_matches_all_utf8(&d),
				 cases[i].nothing, cases[i].all);
		tg_re_dfa_free(&d);
	}
}

/* ---- limits ---- */

/* How long these take to compile is measured by bench/regex_bench.c, not
 * here: a unit test checks what is accepted and refused. */
static void test_limits(void **state)
{
	(void)state;
	tg_re_dfa d;
	tg_re_error e;
	/* 2^11 + 1 states: fine; one more position of lookbehind doubles it past the limit. */
	assert_true(compile("(a|b)*a(a|b){10}", &d, &e));
	assert_int_equal(d.nstates, 2049);
	tg_re_dfa_free(&d);
	assert_false(compile("(a|b)*a(a|b){11}", &d, &e));
	assert_string_equal(e.message, "the pattern needs more than 4096 DFA states (pattern of 16 bytes); "
			    "simplify it or split it into several conditions");

	/* The worst allowed ones found: long chains of multi-byte code points,
	 * and closures of many NFA states at many DFA states. */
	const char *heavy[] = { ".{500}", "(?s).{0,500}", "[^a]{1,400}", "\\w{1000}",
				"(?:[a-z0-9]+\\.){0,20}[a-z]{2,30}",
				"(?:\xC3\xA9|\xE2\x82\xAC|\xF0\x9F\x98\x80|x){500}",
				"(?:a?b?c?d?e?f?g?h?i?j?k?l?m?n?o?p?){0,100}", "(?:\\w?\\d?\\s?.?){0,200}x",
				"(?:\\w?){0,1000}\\d" };
	for (size_t i = 0; i < sizeof heavy / sizeof *heavy; i++) {
		if (!compile(heavy[i], &d, &e))
			fail_msg("/%s/: %s", heavy[i], e.message);
		tg_re_dfa_free(&d);
	}
	/* Refused by the work bound before it takes seconds. */
	assert_false(compile("(?:a?b?c?d?e?f?g?h?i?j?k?l?m?n?o?p?){0,200}", &d, &e));
	assert_non_null(strstr(e.message, "too complex to compile"));

	assert_false(compile(".{1000}", &d, &e));
	assert_non_null(strstr(e.message, "more than 4096 DFA states (pattern of 7 bytes)"));

	assert_false(compile("((a{1000}){1000}){1000}", &d, &e));
	assert_non_null(strstr(e.message, "more than 65536 NFA states"));
	assert_non_null(strstr(e.message, "(pattern of 23 bytes)"));

	assert_true(compile("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}", &d, &e));
	assert_int_equal(d.nstates, 8);
	tg_re_dfa_free(&d);

	/* Deep nesting is refused before it can exhaust the stack. */
	char deep[602], ok_depth[202];
	memset(deep, '(', 300);
	deep[300] = 'a';
	memset(deep + 301, ')', 300);
	deep[601] = '\0';
	assert_false(compile(deep, &d, &e));
	assert_non_null(strstr(e.message, "nested more than 250 deep"));
	memset(ok_depth, '(', 100);
	ok_depth[100] = 'a';
	memset(ok_depth + 101, ')', 100);
	ok_depth[201] = '\0';
	assert_true(compile(ok_depth, &d, &e));
	assert_true(tg_re_dfa_match(&d, "a", 1));
	tg_re_dfa_free(&d);
}

/* A policy string may hold U+0000 (\u{0}): the pattern is a byte span,
 * not a C string. */
static void test_nul_in_pattern(void **state)
{
	(void)state;
	tg_re_dfa d, x;
	tg_re_error e;
	assert_true(tg_re_compile("a\0b*", 4, &d, &e));
	assert_true(tg_re_dfa_match(&d, "a\0bb", 4));
	assert_false(tg_re_dfa_match(&d, "a", 1));
	assert_true(compile("a\\x00b*", &x, &e));
	assert_true(same_dfa(&d, &x));
	tg_re_dfa_free(&d);
	tg_re_dfa_free(&x);
}

/* Invalid UTF-8 never reaches a table in production; walking one with it
 * must still stay in bounds (ASan watches). */
static void test_invalid_subjects(void **state)
{
	(void)state;
	tg_re_dfa d;
	tg_re_error e;
	assert_true(compile(".*\xC3\xA9", &d, &e));
	const char *bad[] = { "\xC3", "\xA9", "\xFF\xFE", "\xED\xA0\x80", "\xC0\xAF", "a\xC3\xA9\xF5" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		(void)tg_re_dfa_match(&d, bad[i], strlen(bad[i]));
	tg_re_dfa_free(&d);
}

/* ---- random patterns against a backtracking reference ---- */


/* Subjects and literals come from a small alphabet with one, two, three
 * and four byte code points. */
static const uint32_t alphabet[] = { 'a', 'b', 'c', '0', '_', ' ', '\n', '-', 0xE9, 0x20AC, 0x1F600, 'Z' };
#define NALPHA (sizeof alphabet / sizeof *alphabet)

enum { R_LIT, R_ANY, R_CLASS, R_CAT, R_ALT, R_REP };
#define R_INF -1

typedef struct rnode {
	int kind;
	uint32_t cp;			/* R_LIT */
	bool neg;			/* R_CLASS */
	int nitems;
	struct {
		uint32_t lo, hi;
		char shorthand;		/* 'd', 'W' ... or 0 for a range */
	} items[3];
	int min, max;			/* R_REP */
	int nkids;
	struct rnode *kids[3];
} rnode;

static rnode pool[64];
static int npool;
static bool dotall;

static uint32_t random_cp(void)
{
	return alphabet[rnd(NALPHA)];
}

static rnode *gen(int depth)
{
	rnode *n = &pool[npool++];
	memset(n, 0, sizeof *n);
	unsigned pick = depth >= 3 || npool > 50 ? rnd(3) : rnd(6);
	switch (pick) {
	case 0:
		n->kind = R_LIT;
		n->cp = random_cp();
		break;
	case 1:
		if (rnd(3) == 0) {
			n->kind = R_ANY;
			break;
		}
		/* fallthrough */
	case 2:
		n->kind = R_CLASS;
		n->neg = rnd(3) == 0;
		n->nitems = 1 + (int)rnd(3);
		for (int i = 0; i < n->nitems; i++) {
			unsigned what = rnd(4);
			if (what == 0) {
				n->items[i].shorthand = "dwsDWS"[rnd(6)];
			} else {
				uint32_t a = random_cp(), b = what == 1 ? a : random_cp();
				n->items[i].lo = a < b ? a : b;
				n->items[i].hi = a < b ? b : a;
			}
		}
		break;
	case 3:
	case 4:
		n->kind = pick == 3 ? R_CAT : R_ALT;
		n->nkids = 2 + (int)rnd(2);
		for (int i = 0; i < n->nkids; i++)
			n->kids[i] = gen(depth + 1);
		break;
	default:
		n->kind = R_REP;
		n->nkids = 1;
		n->kids[0] = gen(depth + 1);
		switch (rnd(6)) {
		case 0: n->min = 0, n->max = R_INF; break;
		case 1: n->min = 1, n->max = R_INF; break;
		case 2: n->min = 0, n->max = 1; break;
		case 3: n->min = n->max = (int)rnd(3); break;
		case 4: n->min = (int)rnd(3), n->max = R_INF; break;
		default: n->min = (int)rnd(3), n->max = n->min + (int)rnd(3); break;
		}
		break;
	}
	return n;
}

/* ---- printing a tree as pattern text, with random cosmetic choices ---- */

typedef struct text {
	char s[2048];
	size_t n;
} text;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(t->s + t->n, sizeof t->s - t->n, fmt, ap);
	va_end(ap);
	assert_true(w >= 0 && (size_t)w < sizeof t->s - t->n);
	t->n += (size_t)w;
}

static void put_utf8(text *t, uint32_t cp)
{
	char b[5] = { 0 };
	if (cp < 0x80) {
		b[0] = (char)cp;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
	} else {
		b[0] = (char)(0xF0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3F)), b[3] = (char)(0x80 | (cp & 0x3F));
	}
	put(t, "%s", b);
}

static void put_char(text *t, uint32_t cp, bool in_class)
{
	if (cp == '\n') {
		put(t, rnd(2) ? "\\n" : "\n");
	} else if (rnd(6) == 0) {
		put(t, cp < 0x100 && rnd(2) ? "\\x%02X" : "\\x{%X}", (unsigned)cp);
	} else if (cp < 0x80 && strchr(in_class ? "]\\^-[" : ".*+?()[]{}|^$\\-", (int)cp)) {
		put(t, "\\%c", (int)cp);
	} else {
		put_utf8(t, cp);
	}
}

static void print_node(text *t, const rnode *n, bool in_cat);

static void print_group(text *t, const rnode *n)
{
	put(t, rnd(2) ? "(" : "(?:");
	print_node(t, n, false);
	put(t, ")");
}

static void print_node(text *t, const rnode *n, bool in_cat)
{
	switch (n->kind) {
	case R_LIT:
		put_char(t, n->cp, false);
		break;
	case R_ANY:
		put(t, ".");
		break;
	case R_CLASS:
		put(t, n->neg ? "[^" : "[");
		for (int i = 0; i < n->nitems; i++) {
			if (n->items[i].shorthand) {
				put(t, "\\%c", n->items[i].shorthand);
				continue;
			}
			put_char(t, n->items[i].lo, true);
			if (n->items[i].hi != n->items[i].lo) {
				put(t, "-");
				put_char(t, n->items[i].hi, true);
			}
		}
		put(t, "]");
		break;
	case R_CAT:
		for (int i = 0; i < n->nkids; i++) {
			if (n->kids[i]->kind == R_ALT)
				print_group(t, n->kids[i]);
			else
				print_node(t, n->kids[i], true);
		}
		break;
	case R_ALT:
		if (in_cat) {
			print_group(t, n);
			break;
		}
		for (int i = 0; i < n->nkids; i++) {
			if (i)
				put(t, "|");
			print_node(t, n->kids[i], false);
		}
		break;
	default: {
		const rnode *k = n->kids[0];
		if (k->kind == R_CAT || k->kind == R_ALT || k->kind == R_REP)
			print_group(t, k);
		else
			print_node(t, k, true);
		if (n->min == 0 && n->max == R_INF && rnd(3))
			put(t, "*");
		else if (n->min == 1 && n->max == R_INF && rnd(3))
			put(t, "+");
		else if (n->min == 0 && n->max == 1 && rnd(3))
			put(t, "?");
		else if (n->max == R_INF)
			put(t, "{%d,}", n->min);
		else if (n->min == n->max && rnd(2))
			put(t, "{%d}", n->min);
		else
			put(t, "{%d,%d}", n->min, n->max);
		if (rnd(4) == 0)
			put(t, "?");	/* lazy: the same language */
		break;
	}
	}
}

/* ---- the reference: backtracking over code points ---- */

static uint32_t subj[16];
static int nsubj;

static bool in_shorthand(char c, uint32_t cp)
{
	bool in;
	switch (c | 0x20) {
	case 'd': in = cp >= '0' && cp <= '9'; break;
	case 'w': in = (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_'; break;
	default: in = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\f' || cp == '\r'; break;
	}
	return (c >= 'A' && c <= 'Z') ? !in : in;
}

static bool one_char(const rnode *n, uint32_t cp)
{
	if (n->kind == R_LIT)
		return cp == n->cp;
	if (n->kind == R_ANY)
		return dotall || cp != '\n';
	bool in = false;
	for (int i = 0; i < n->nitems && !in; i++)
		in = n->items[i].shorthand ? in_shorthand(n->items[i].shorthand, cp)
					   : cp >= n->items[i].lo && cp <= n->items[i].hi;
	return in != n->neg;
}

/* What remains to match after the current node: a CAT from child idx on,
 * or a REP after count iterations, the last one started at start. */
typedef struct k {
	const rnode *node;
	int idx, start;
	const struct k *next;
} k;

static bool match_node(const rnode *n, int i, const k *rest);

static bool resume(const k *c, int i)
{
	if (!c)
		return i == nsubj;
	if (c->node->kind == R_CAT) {
		if (c->idx == c->node->nkids)
			return resume(c->next, i);
		k frame = { c->node, c->idx + 1, 0, c->next };
		return match_node(c->node->kids[c->idx], i, &frame);
	}
	/* an iteration of a REP ended at i: an empty one past the minimum
	 * changes nothing and would loop forever */
	if (i == c->start && c->idx > c->node->min)
		return false;
	const rnode *n = c->node;
	if (n->max == R_INF || c->idx < n->max) {
		k frame = { n, c->idx + 1, i, c->next };
		if (match_node(n->kids[0], i, &frame))
			return true;
	}
	return c->idx >= n->min && resume(c->next, i);
}

static bool match_node(const rnode *n, int i, const k *rest)
{
	switch (n->kind) {
	case R_CAT: {
		k frame = { n, 0, 0, rest };
		return resume(&frame, i);
	}
	case R_ALT:
		for (int j = 0; j < n->nkids; j++)
			if (match_node(n->kids[j], i, rest))
				return true;
		return false;
	case R_REP:
		if (n->max != 0) {
			k first = { n, 1, i, rest };
			if (match_node(n->kids[0], i, &first))
				return true;
		}
		return n->min == 0 && resume(rest, i);
	default:
		return i < nsubj && one_char(n, subj[i]) && resume(rest, i + 1);
	}
}

/* A subject the pattern likely matches, to balance the random ones. */
static void sample(const rnode *n)
{
	switch (n->kind) {
	case R_CAT:
		for (int i = 0; i < n->nkids; i++)
			sample(n->kids[i]);
		return;
	case R_ALT:
		sample(n->kids[rnd((unsigned)n->nkids)]);
		return;
	case R_REP: {
		int times = n->min + (int)rnd(n->max == R_INF ? 3 : (unsigned)(n->max - n->min + 1));
		for (int i = 0; i < times; i++)
			sample(n->kids[0]);
		return;
	}
	default:
		for (int tries = 0; tries < 20; tries++) {
			uint32_t cp = random_cp();
			if (one_char(n, cp) || tries == 19) {
				if (nsubj < 16)
					subj[nsubj++] = cp;
				return;
			}
		}
	}
}

static void test_random_vs_backtracking(void **state)
{
	(void)state;
	unsigned patterns = 0, pairs = 0, matches = 0, refused = 0;
	/* Longer or other runs by hand: TG_REGEX_SEED=N TG_REGEX_ROUNDS=M. */
	const char *seed = getenv("TG_REGEX_SEED"), *env_rounds = getenv("TG_REGEX_ROUNDS");
	int rounds = env_rounds ? atoi(env_rounds) : 10000;
	if (seed)
		rng += strtoull(seed, NULL, 10) * 0xD1B54A32D192ED03u;
	if (rng == 0)	/* xorshift's one fixed point */
		rng = 1;
	for (int round = 0; round < rounds; round++) {
		npool = 0;
		dotall = rnd(5) == 0;
		rnode *root = gen(0);
		text t = { .n = 0 };
		if (dotall)
			put(&t, "(?s)");
		if (rnd(8) == 0)
			put(&t, "^");
		print_node(&t, root, false);
		if (rnd(8) == 0)
			put(&t, "$");
		tg_re_dfa d;
		tg_re_error e;
		if (!tg_re_compile(t.s, t.n, &d, &e)) {
			if (strstr(e.message, "DFA states") || strstr(e.message, "too complex")) {	/* legitimate */
				refused++;
				continue;
			}
			fail_msg("/%s/ does not compile: %s (offset %u)", t.s, e.message, e.offset);
		}
		patterns++;
		const char *why = d.nstates <= 200 ? check_shape(&d) : NULL;
		if (why)
			fail_msg("/%s/: %s", t.s, why);
		/* The same tree printed again, spelled differently: the same table. */
		text t2 = { .n = 0 };
		if (dotall)
			put(&t2, "(?s)");
		print_node(&t2, root, false);
		tg_re_dfa d2;
		assert_true(tg_re_compile(t2.s, t2.n, &d2, &e));
		if (!same_dfa(&d, &d2))
			fail_msg("/%s/ and /%s/ give different tables", t.s, t2.s);
		tg_re_dfa_free(&d2);
		for (int s = 0; s < 8; s++) {
			nsubj = 0;
			if (s % 2 == 0) {
				sample(root);
				if (s == 2 && nsubj > 0)
					subj[rnd((unsigned)nsubj)] = random_cp();
			} else {
				unsigned len = rnd(7);
				for (unsigned i = 0; i < len; i++)
					subj[nsubj++] = random_cp();
			}
			text st = { .n = 0 };
			for (int i = 0; i < nsubj; i++)
				put_utf8(&st, subj[i]);
			bool want = match_node(root, 0, NULL);
			bool got = tg_re_dfa_match(&d, st.s, st.n);
			pairs++;
			matches += want;
			if (got != want)
				fail_msg("pattern /%s/ subject \"%s\": engine %d, backtracking %d", t.s, st.s, got, want);
		}
		tg_re_dfa_free(&d);
	}
	printf("random: %u patterns, %u pairs (%u matching), %u refused for size\n", patterns, pairs, matches, refused);
	assert_true(patterns > (unsigned)rounds * 9 / 10);
	assert_true(matches > pairs / 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax_table),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_lint_questions),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_nul_in_pattern),
		cmocka_unit_test(test_invalid_subjects),
		cmocka_unit_test(test_random_vs_backtracking),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
