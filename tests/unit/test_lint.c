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

#include "stages.h"
#include "golden.h"
#include "lint_internal.h"

/* A lint golden: it must compile (the linter would not run), and a case
 * named *_ok must be quiet while any other must report something. */
static void run_golden(void **state)
{
	const char *name = *state;
	size_t len = 0, nerrors = 0;
	char *src = golden_source("lint", name, &len);
	char *actual = golden_diagnostics(name, src, len, true, &nerrors);
	if (nerrors)
		fprintf(stderr, "%s has errors:\n%s", name, actual);
	assert_int_equal(nerrors, 0);
	bool same = golden_match("lint", name, actual);
	size_t nl = strlen(name);
	bool quiet_case = nl > 6 && strcmp(name + nl - 6, "_ok.tg") == 0;
	if (quiet_case != (actual[0] == '\0'))
		fprintf(stderr, "%s: a %s case %s\n", name, quiet_case ? "quiet" : "firing",
			quiet_case ? "reported something" : "reported nothing");
	assert_true(quiet_case == (actual[0] == '\0'));
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
	size_t dlen;
	char *doc = golden_read("docs/lints.md", &dlen);
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
	snprintf(dir, sizeof dir, "%s/policies/examples", golden_source_dir());
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
		char *src = tg_read_file(path, GOLDEN_MAX_BYTES, &len);
		assert_non_null(src);
		char *out = golden_diagnostics(e->d_name, src, len, true, NULL);
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

int main(void)
{
	const struct CMUnitTest more[] = {
		cmocka_unit_test(test_glob_covers),
		cmocka_unit_test(test_catalog),
		cmocka_unit_test(test_examples_clean),
	};
	return golden_main("lint", run_golden, more, sizeof more / sizeof more[0]);
}
