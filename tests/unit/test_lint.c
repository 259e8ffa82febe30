/*
 * test_lint.c - the linter.
 *
 * Goldens: each tests/golden/lint/NAME.tg is parsed, checked and linted, and
 * its sorted diagnostics are compared byte for byte with NAME.expected (the
 * file's base name stands for its path). For every lint there is a case
 * where it fires and a NAME_ok.tg where it must stay quiet (an empty
 * .expected). Set TG_UPDATE_GOLDEN=1 to rewrite the .expected files, then
 * review the change.
 *
 * Also: the glob coverage rules, the catalogue (ids unique, kebab-case, each
 * with a section in docs/lints.md), and every example policy lint-clean.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compiler.h"
#include "lint_internal.h"

#define MAX_FILE_BYTES (4u * 1024 * 1024)

static char source_dir[4096];

static void find_source_dir(void)
{
	const char *src = getenv("TG_SOURCE_DIR");
	if (src && *src) {
		snprintf(source_dir, sizeof source_dir, "%s", src);
		return;
	}
	snprintf(source_dir, sizeof source_dir, "%s", __FILE__);
	char *slash = strrchr(source_dir, '/');
	if (slash)
		*slash = '\0';
	size_t n = strlen(source_dir);
	snprintf(source_dir + n, sizeof source_dir - n, "/../..");
}

/* Front end plus linter over one file; returns what check would print. */
static char *lint_text(const char *name, const char *src, size_t len, size_t *nerrors)
{
	tg_arena arena;
	tg_arena_init(&arena);
	tg_diags diags;
	tg_diags_init(&diags, &arena);
	tg_ast *ast = tg_parse(&arena, name, src, len, &diags);
	assert_non_null(ast);
	if (diags.nerrors == 0)
		tg_check(ast, &diags);
	if (diags.nerrors == 0)
		tg_lint(ast, &diags);
	assert_false(diags.oom);
	tg_diags_sort(&diags);
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	assert_non_null(f);
	tg_diags_print(f, name, src, len, &diags);
	fclose(f);
	if (nerrors)
		*nerrors = diags.nerrors;
	tg_arena_free(&arena);
	return out;
}

static void run_golden(void **state)
{
	const char *name = *state;
	char path[4600], expath[4600];
	snprintf(path, sizeof path, "%s/tests/golden/lint/%s", source_dir, name);
	snprintf(expath, sizeof expath, "%s/tests/golden/lint/%.*s.expected", source_dir,
		 (int)(strlen(name) - 3), name);
	size_t len = 0, elen = 0, nerrors = 0;
	char *src = tg_read_file(path, MAX_FILE_BYTES, &len);
	assert_non_null(src);
	char *actual = lint_text(name, src, len, &nerrors);
	/* A lint golden must not fail to compile: the linter would not run. */
	if (nerrors)
		fprintf(stderr, "%s has errors:\n%s", name, actual);
	assert_int_equal(nerrors, 0);
	const char *update = getenv("TG_UPDATE_GOLDEN");
	if (update && strcmp(update, "1") == 0) {
		FILE *f = fopen(expath, "wb");
		assert_non_null(f);
		fputs(actual, f);
		assert_int_equal(fclose(f), 0);
	}
	char *expected = tg_read_file(expath, MAX_FILE_BYTES, &elen);
	bool same = expected && strlen(actual) == elen && memcmp(actual, expected, elen) == 0;
	if (!same) {
		fprintf(stderr, "%s: diagnostics differ from %s\n--- expected\n%s--- actual\n%s",
			name, expath, expected ? expected : "(missing)\n", actual);
	}
	/* A case named *_ok must be quiet; any other must report something. */
	size_t nl = strlen(name);
	bool quiet_case = nl > 6 && strcmp(name + nl - 6, "_ok.tg") == 0;
	if (quiet_case != (actual[0] == '\0'))
		fprintf(stderr, "%s: a %s case %s\n", name, quiet_case ? "quiet" : "firing",
			quiet_case ? "reported something" : "reported nothing");
	assert_true(quiet_case == (actual[0] == '\0'));
	free(expected);
	free(actual);
	free(src);
	assert_true(same);
}

/* ---- glob coverage ----------------------------------------------------- */

static bool covers(const char *w, const char *n)
{
	return tg_lint_glob_covers(w, strlen(w), n, strlen(n));
}

static void test_glob_covers(void **state)
{
	(void)state;
	assert_true(covers("a.b", "a.b"));
	assert_true(covers("a*b", "a*b"));
	assert_true(covers("fs.*", "fs.read"));
	assert_true(covers("fs.*", "fs.read_*"));
	assert_true(covers("fs.*", "fs."));
	assert_true(covers("*", "anything"));
	assert_true(covers("files/**", "files/a/b"));
	assert_true(covers("files/**", "files/a/**"));
	assert_true(covers("files/***", "files/a/b"));
	assert_true(covers("**", "x/y"));
	/* Never claimed. */
	assert_false(covers("fs.*", "fs/read"));
	assert_false(covers("files/*", "files/a/b"));
	assert_false(covers("files/*", "files/**"));
	assert_false(covers("files/*", "files/a\\/b"));
	assert_false(covers("fs.read", "fs.*"));
	assert_false(covers("a*b", "axb"));
	assert_false(covers("a?", "ab"));
	assert_false(covers("x.*", "y.a"));
	assert_false(covers("files/**", "files"));
	assert_false(covers("a\\*", "a*"));
}

/* ---- the catalogue ----------------------------------------------------- */

static void test_catalog(void **state)
{
	(void)state;
	size_t n;
	const tg_lint_info *c = tg_lint_catalog(&n);
	assert_true(n >= 17);
	char path[4600];
	snprintf(path, sizeof path, "%s/docs/lints.md", source_dir);
	size_t dlen;
	char *doc = tg_read_file(path, MAX_FILE_BYTES, &dlen);
	assert_non_null(doc);
	for (size_t i = 0; i < n; i++) {
		const char *id = c[i].id;
		assert_true(id[0] >= 'a' && id[0] <= 'z');
		for (const char *p = id; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || *p == '-');
		assert_true(c[i].summary && c[i].summary[0]);
		assert_true(c[i].description && c[i].description[0]);
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(c[k].id, id);
		char heading[128];
		snprintf(heading, sizeof heading, "\n## %s\n", id);
		if (!strstr(doc, heading))
			fprintf(stderr, "docs/lints.md lacks a '## %s' section\n", id);
		assert_non_null(strstr(doc, heading));
	}
	free(doc);
}

/* ---- example policies --------------------------------------------------- */

static void test_examples_clean(void **state)
{
	(void)state;
	char dir[4600];
	snprintf(dir, sizeof dir, "%s/policies/examples", source_dir);
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	int seen = 0;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l <= 3 || strcmp(e->d_name + l - 3, ".tg") != 0)
			continue;
		char path[9300];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		size_t len;
		char *src = tg_read_file(path, MAX_FILE_BYTES, &len);
		assert_non_null(src);
		char *out = lint_text(e->d_name, src, len, NULL);
		if (out[0])
			fprintf(stderr, "%s is not lint-clean:\n%s", e->d_name, out);
		assert_string_equal(out, "");
		free(out);
		free(src);
		seen++;
	}
	closedir(d);
	assert_true(seen > 0);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	find_source_dir();
	char dir[4600];
	snprintf(dir, sizeof dir, "%s/tests/golden/lint", source_dir);
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "cannot open %s\n", dir);
		return 1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l <= 3 || strcmp(e->d_name + l - 3, ".tg") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof *names);
			if (!names)
				return 1;
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (n == 0) {
		fprintf(stderr, "no golden files in %s\n", dir);
		return 1;
	}
	qsort(names, n, sizeof *names, by_name);
	struct CMUnitTest *tests = calloc(n + 3, sizeof *tests);
	if (!tests)
		return 1;
	for (size_t k = 0; k < n; k++) {
		tests[k].name = names[k];
		tests[k].test_func = run_golden;
		tests[k].initial_state = names[k];
	}
	tests[n].name = "glob_covers";
	tests[n].test_func = test_glob_covers;
	tests[n + 1].name = "catalog";
	tests[n + 1].test_func = test_catalog;
	tests[n + 2].name = "examples_lint_clean";
	tests[n + 2].test_func = test_examples_clean;
	int failed = _cmocka_run_group_tests("lint", tests, n + 3, NULL, NULL);
	for (size_t k = 0; k < n; k++)
		free(names[k]);
	free(names);
	free(tests);
	return failed;
}
