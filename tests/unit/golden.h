/*
 * golden.h - the golden-file runner of the diagnostics tests.
 *
 * Each tests/golden/AREA/NAME.tg is one cmocka test: the test runs the
 * compiler over it and hands what it printed to golden_match, which compares
 * it byte for byte with NAME.expected and, when they differ, prints a line
 * diff. The file's base name stands for its path in the output, so nothing
 * depends on where the tree lives. TG_UPDATE_GOLDEN=1 rewrites the .expected
 * files from the actual output (then review the change).
 *
 * Header-only (static functions) so each test executable includes it once.
 */
#ifndef TG_GOLDEN_H
#define TG_GOLDEN_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages.h"

#define GOLDEN_MAX_BYTES (4u * 1024 * 1024)

static char golden_root[4096];

/* The source tree: TG_SOURCE_DIR under ctest, else found from this file's
 * own path (tests/unit/golden.h) when a test is run by hand. */
static const char *golden_source_dir(void)
{
	if (golden_root[0])
		return golden_root;
	const char *src = getenv("TG_SOURCE_DIR");
	if (src && *src) {
		snprintf(golden_root, sizeof golden_root, "%s", src);
		return golden_root;
	}
	snprintf(golden_root, sizeof golden_root, "%s", __FILE__);
	char *slash = strrchr(golden_root, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(golden_root, sizeof golden_root, ".");
	size_t n = strlen(golden_root);
	snprintf(golden_root + n, sizeof golden_root - n, "/../..");
	return golden_root;
}

/* Reads a file below the source tree; NULL when it cannot. */
static char *golden_read(const char *rel, size_t *len)
{
	char path[4600];
	int n = snprintf(path, sizeof path, "%s/%s", golden_source_dir(), rel);
	if (n < 0 || (size_t)n >= sizeof path)
		return NULL;
	return tg_read_file(path, GOLDEN_MAX_BYTES, len);
}

/* The front end over one file, and the linter when `lint` (only on a tree
 * without errors, as `check` does); returns what `check` would print, and
 * its error count in *nerrors when not NULL. */
static char *golden_diagnostics(const char *name, const char *src, size_t len, bool lint,
				size_t *nerrors)
{
	tg_arena arena;
	tg_arena_init(&arena);
	tg_diags diags;
	tg_diags_init(&diags, &arena);
	tg_ast *ast = tg_parse(&arena, name, src, len, &diags);
	assert_non_null(ast);
	if (diags.nerrors == 0)
		tg_check(ast, &diags);
	if (lint && diags.nerrors == 0)
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

/* ---- line diff ------------------------------------------------------------ */

typedef struct golden_lines {
	const char **s;
	size_t *len;
	size_t n;
} golden_lines;

static golden_lines golden_split(const char *text)
{
	golden_lines l = {0};
	size_t cap = 16;
	l.s = malloc(cap * sizeof *l.s);
	l.len = malloc(cap * sizeof *l.len);
	assert_true(l.s && l.len);
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (l.n == cap) {
			cap *= 2;
			l.s = realloc(l.s, cap * sizeof *l.s);
			l.len = realloc(l.len, cap * sizeof *l.len);
			assert_true(l.s && l.len);
		}
		l.s[l.n] = p;
		l.len[l.n++] = n;
		p += n + (e ? 1 : 0);
	}
	return l;
}

static bool golden_same_line(const golden_lines *a, size_t i, const golden_lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->s[i], b->s[j], a->len[i]) == 0;
}

/* A line diff from the longest common subsequence; goldens are small. */
static void golden_print_diff(const char *expected, const char *actual)
{
	golden_lines a = golden_split(expected), b = golden_split(actual);
	size_t n = a.n, m = b.n;
	fprintf(stderr, "--- expected\n+++ actual\n");
	if (n > 2000 || m > 2000) {
		fprintf(stderr, "(too long to diff)\n");
	} else {
		size_t *t = calloc((n + 1) * (m + 1), sizeof *t);
		assert_non_null(t);
#define T(i, j) t[(i) * (m + 1) + (j)]
		for (size_t i = n; i-- > 0;)
			for (size_t j = m; j-- > 0;)
				T(i, j) = golden_same_line(&a, i, &b, j) ? T(i + 1, j + 1) + 1 :
					  T(i + 1, j) > T(i, j + 1) ? T(i + 1, j) : T(i, j + 1);
		size_t i = 0, j = 0;
		while (i < n || j < m) {
			if (i < n && j < m && golden_same_line(&a, i, &b, j)) {
				fprintf(stderr, " %.*s\n", (int)a.len[i], a.s[i]);
				i++;
				j++;
			} else if (i < n && (j == m || T(i + 1, j) >= T(i, j + 1))) {
				fprintf(stderr, "-%.*s\n", (int)a.len[i], a.s[i]);
				i++;
			} else {
				fprintf(stderr, "+%.*s\n", (int)b.len[j], b.s[j]);
				j++;
			}
		}
#undef T
		free(t);
	}
	free(a.s);
	free(a.len);
	free(b.s);
	free(b.len);
}

/* ---- comparing and running --------------------------------------------------- */

/* Compares actual with AREA/NAME.expected (rewriting it first under
 * TG_UPDATE_GOLDEN=1); says what differs on stderr. True when they match. */
static bool golden_match(const char *area, const char *name, const char *actual)
{
	char expath[4600];
	snprintf(expath, sizeof expath, "%s/tests/golden/%s/%.*s.expected", golden_source_dir(),
		 area, (int)(strlen(name) - 3), name);
	const char *update = getenv("TG_UPDATE_GOLDEN");
	if (update && strcmp(update, "1") == 0) {
		FILE *f = fopen(expath, "wb");
		assert_non_null(f);
		fputs(actual, f);
		assert_int_equal(fclose(f), 0);
	}
	size_t elen = 0;
	char *expected = tg_read_file(expath, GOLDEN_MAX_BYTES, &elen);
	if (!expected) {
		fprintf(stderr, "%s: missing %s (run with TG_UPDATE_GOLDEN=1)\n", name, expath);
		fprintf(stderr, "actual output:\n%s", actual);
	}
	bool same = expected && strlen(actual) == elen && memcmp(actual, expected, elen) == 0;
	if (expected && !same) {
		fprintf(stderr, "%s: diagnostics differ from %s\n", name, expath);
		golden_print_diff(expected, actual);
	}
	free(expected);
	return same;
}

/* The source of AREA/NAME.tg, for a test's run function. */
static char *golden_source(const char *area, const char *name, size_t *len)
{
	char rel[4600];
	snprintf(rel, sizeof rel, "tests/golden/%s/%s", area, name);
	char *src = golden_read(rel, len);
	assert_non_null(src);
	return src;
}

static int golden_by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Runs one test per AREA/NAME.tg, in name order, each calling run with the
 * file's base name as its state, then the `nextra` tests of extra. Returns
 * what cmocka returns (the failure count), or 1 when the folder cannot be
 * read or holds no .tg file.
 */
static int golden_main(const char *area, void (*run)(void **state),
		       const struct CMUnitTest *extra, size_t nextra)
{
	char dir[4600];
	snprintf(dir, sizeof dir, "%s/tests/golden/%s", golden_source_dir(), area);
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
	qsort(names, n, sizeof *names, golden_by_name);
	struct CMUnitTest *tests = calloc(n + nextra, sizeof *tests);
	if (!tests)
		return 1;
	for (size_t k = 0; k < n; k++) {
		tests[k].name = names[k];
		tests[k].test_func = run;
		tests[k].initial_state = names[k];
	}
	for (size_t k = 0; k < nextra; k++)
		tests[n + k] = extra[k];
	char group[64];
	snprintf(group, sizeof group, "golden_%s", area);
	int failed = _cmocka_run_group_tests(group, tests, n + nextra, NULL, NULL);
	for (size_t k = 0; k < n; k++)
		free(names[k]);
	free(names);
	free(tests);
	return failed;
}

#endif
