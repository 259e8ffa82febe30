/*
 * test_golden_check.c - diagnostics of tests/golden/check/NAME.tg, byte for
 * byte against NAME.expected.
 *
 * Each file is parsed and, when it has no syntax error, checked; the sorted
 * diagnostics are printed with the file's base name as its path, so the
 * expected text does not depend on where the tree lives. Set
 * TG_UPDATE_GOLDEN=1 to rewrite the .expected files from the actual output
 * (then review the change).
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

#define MAX_GOLDEN_BYTES (4u * 1024 * 1024)

static char golden_dir[4096];

static void find_golden_dir(void)
{
	const char *src = getenv("TG_SOURCE_DIR");
	if (src && *src) {
		snprintf(golden_dir, sizeof golden_dir, "%s/tests/golden/check", src);
		return;
	}
	/* Run by hand: locate the folder from this file's own path. */
	snprintf(golden_dir, sizeof golden_dir, "%s", __FILE__);
	char *slash = strrchr(golden_dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(golden_dir, sizeof golden_dir, ".");
	size_t n = strlen(golden_dir);
	snprintf(golden_dir + n, sizeof golden_dir - n, "/../golden/check");
}

/* Runs the front end over one file and returns what it prints. */
static char *diagnose(const char *name, const char *src, size_t len)
{
	tg_arena arena;
	tg_arena_init(&arena);
	tg_diags diags;
	tg_diags_init(&diags, &arena);
	tg_ast *ast = tg_parse(&arena, name, src, len, &diags);
	assert_non_null(ast);
	if (diags.nerrors == 0)
		tg_check(ast, &diags);
	tg_diags_sort(&diags);
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	assert_non_null(f);
	tg_diags_print(f, name, src, len, &diags);
	fclose(f);
	tg_arena_free(&arena);
	return out;
}

typedef struct lines {
	const char **s;
	size_t *len;
	size_t n;
} lines;

static lines split(const char *text)
{
	lines l = {0};
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

static bool same_line(const lines *a, size_t i, const lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->s[i], b->s[j], a->len[i]) == 0;
}

/* A line diff from the longest common subsequence; goldens are small. */
static void print_diff(const char *expected, const char *actual)
{
	lines a = split(expected), b = split(actual);
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
				T(i, j) = same_line(&a, i, &b, j) ? T(i + 1, j + 1) + 1 :
					  T(i + 1, j) > T(i, j + 1) ? T(i + 1, j) : T(i, j + 1);
		size_t i = 0, j = 0;
		while (i < n || j < m) {
			if (i < n && j < m && same_line(&a, i, &b, j)) {
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

static void run_golden(void **state)
{
	const char *name = *state;
	char path[4600], expath[4600];
	snprintf(path, sizeof path, "%s/%s", golden_dir, name);
	snprintf(expath, sizeof expath, "%s/%.*s.expected", golden_dir, (int)(strlen(name) - 3),
		 name);
	size_t len = 0, elen = 0;
	char *src = tg_read_file(path, MAX_GOLDEN_BYTES, &len);
	assert_non_null(src);
	char *actual = diagnose(name, src, len);
	const char *update = getenv("TG_UPDATE_GOLDEN");
	if (update && strcmp(update, "1") == 0) {
		FILE *f = fopen(expath, "wb");
		assert_non_null(f);
		fputs(actual, f);
		assert_int_equal(fclose(f), 0);
	}
	char *expected = tg_read_file(expath, MAX_GOLDEN_BYTES, &elen);
	if (!expected) {
		fprintf(stderr, "%s: missing %s (run with TG_UPDATE_GOLDEN=1)\n", name, expath);
		fprintf(stderr, "actual output:\n%s", actual);
	}
	bool same = expected && strlen(actual) == elen && memcmp(actual, expected, elen) == 0;
	if (expected && !same) {
		fprintf(stderr, "%s: diagnostics differ from %s\n", name, expath);
		print_diff(expected, actual);
	}
	free(expected);
	free(actual);
	free(src);
	assert_true(same);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	find_golden_dir();
	DIR *d = opendir(golden_dir);
	if (!d) {
		fprintf(stderr, "cannot open %s\n", golden_dir);
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
		fprintf(stderr, "no golden files in %s\n", golden_dir);
		return 1;
	}
	qsort(names, n, sizeof *names, by_name);
	struct CMUnitTest *tests = calloc(n, sizeof *tests);
	if (!tests)
		return 1;
	for (size_t k = 0; k < n; k++) {
		tests[k].name = names[k];
		tests[k].test_func = run_golden;
		tests[k].initial_state = names[k];
	}
	int failed = _cmocka_run_group_tests("golden_check", tests, n, NULL, NULL);
	for (size_t k = 0; k < n; k++)
		free(names[k]);
	free(names);
	free(tests);
	return failed;
}
