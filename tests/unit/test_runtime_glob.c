/*
 * test_runtime_glob.c - the glob matcher and `under`, table-driven, plus
 * the compiled-pattern path (literal prefix + NFA) and a pathological case
 * that an exponential matcher would not finish.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "policy.h"
#include "rt_asm.h"

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
	char pat[TG_FMT_GLOB_MAX + 2], subj[8192];
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
	memset(pat, '*', TG_FMT_GLOB_MAX + 1);
	assert_false(tg_glob_match_from(pat, TG_FMT_GLOB_MAX + 1, 0, "x", 1));
	assert_true(tg_glob_match_from(pat, TG_FMT_GLOB_MAX, 0, "x", 1));
	/* Writer refuses it, and a lone trailing backslash. */
	tg_emit *e = tg_emit_new();
	assert_int_equal(tg_emit_pattern(e, pat, TG_FMT_GLOB_MAX + 1), -1);
	assert_non_null(strstr(tg_emit_error(e), "longer than"));
	tg_emit_free(e);
	e = tg_emit_new();
	assert_int_equal(tg_emit_pattern(e, "ab\\", 3), -1);
	assert_non_null(strstr(tg_emit_error(e), "lone"));
	tg_emit_free(e);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob_table),
		cmocka_unit_test(test_compiled_patterns),
		cmocka_unit_test(test_glob_limits),
		cmocka_unit_test(test_under_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
