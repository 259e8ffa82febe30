/*
 * test_api_compiler.c - libtoolgate-compiler's public entry points
 * (toolgate/compiler.h), used only through that header: bytecode that
 * loads, diagnostics as data with positions, lint ids and hints, strict
 * mode, the source limit, the rendered text, and unreadable files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toolgate/compiler.h"
#include "toolgate/toolgate.h"

static tg_compilation *compile(const char *src, unsigned flags)
{
	tg_compilation *c = NULL;

	assert_int_equal(tg_compile(src, strlen(src), "dir/p.tg", flags, &c), TG_OK);
	assert_non_null(c);
	return c;
}

static void test_valid_source_gives_loadable_bytecode(void **state)
{
	static const char src[] = "policy \"p\";\nrole a;\nrule \"r\": allow role a to call tool \"x\";\n";
	tg_compilation *c = compile(src, 0), *again = compile(src, 0);
	const unsigned char *code, *code2;
	size_t n, n2;
	tg_policy *p;

	code = tg_compilation_bytecode(c, &n);
	code2 = tg_compilation_bytecode(again, &n2);
	assert_non_null(code);
	assert_int_equal(tg_compilation_error_count(c), 0);
	assert_int_equal(tg_compilation_diagnostic_count(c), 0);
	assert_null(tg_compilation_diagnostic(c, 0));
	/* Byte-identical from the same source. */
	assert_int_equal(n, n2);
	assert_memory_equal(code, code2, n);
	assert_int_equal(tg_policy_load(code, n, &p, NULL), TG_OK);
	assert_string_equal(tg_policy_name(p), "p");
	assert_string_equal(tg_policy_rule_id(p, 0), "r");
	tg_policy_free(p);
	assert_int_equal(tg_compilation_render(c, NULL, 0), 0);
	tg_compilation_free(again);
	tg_compilation_free(c);
}

static void test_errors_are_data(void **state)
{
	static const char src[] = "role engineer;\n"
				  "rule \"x\": allow role enginer to call tool \"a\";\n";
	tg_compilation *c = compile(src, 0);
	const tg_diagnostic *d;
	size_t n = 99, need;
	char *text;

	assert_null(tg_compilation_bytecode(c, &n));
	assert_int_equal(n, 0);
	assert_int_equal(tg_compilation_error_count(c), 1);
	assert_int_equal(tg_compilation_diagnostic_count(c), 1);
	d = tg_compilation_diagnostic(c, 0);
	assert_non_null(d);
	assert_int_equal(d->severity, TG_DIAG_ERROR);
	assert_string_equal(d->file, "dir/p.tg");
	assert_int_equal(d->line, 2);
	assert_int_equal(d->column, 22);
	assert_int_equal(d->end_line, 2);
	assert_int_equal(d->end_column, 29);
	assert_null(d->lint_id);
	assert_string_equal(d->message, "unknown role 'enginer'");
	assert_non_null(d->hint);
	assert_non_null(strstr(d->hint, "engineer"));

	/* The text `toolgate check` prints, snprintf-style. */
	need = tg_compilation_render(c, NULL, 0);
	assert_true(need > 0);
	text = malloc(need + 1);
	assert_non_null(text);
	assert_int_equal(tg_compilation_render(c, text, need + 1), need);
	assert_non_null(strstr(text, "dir/p.tg:2:22: error: unknown role 'enginer'"));
	assert_non_null(strstr(text, "^~~~~~~"));
	/* Truncated output is still terminated. */
	assert_int_equal(tg_compilation_render(c, text, 5), need);
	assert_string_equal(text, "dir/");
	free(text);
	tg_compilation_free(c);
}

static void test_lints_and_strict(void **state)
{
	static const char src[] = "role unused;\nrole a;\nrule \"r\": allow role a to call tool \"x\";\n"
				  "rule \"l\": allow role a to list tools;\n";
	tg_compilation *plain = compile(src, 0), *lint = compile(src, TG_COMPILE_LINT),
		       *strict = compile(src, TG_COMPILE_LINT | TG_COMPILE_STRICT);
	const tg_diagnostic *d;

	assert_int_equal(tg_compilation_diagnostic_count(plain), 0);
	assert_non_null(tg_compilation_bytecode(plain, NULL));

	assert_int_equal(tg_compilation_warning_count(lint), 1);
	assert_int_equal(tg_compilation_error_count(lint), 0);
	d = tg_compilation_diagnostic(lint, 0);
	assert_int_equal(d->severity, TG_DIAG_WARNING);
	assert_string_equal(d->lint_id, "unused-role");
	assert_int_equal(d->line, 1);
	assert_non_null(tg_compilation_bytecode(lint, NULL));

	assert_int_equal(tg_compilation_error_count(strict), 1);
	assert_int_equal(tg_compilation_warning_count(strict), 0);
	assert_int_equal(tg_compilation_diagnostic(strict, 0)->severity, TG_DIAG_ERROR);
	assert_null(tg_compilation_bytecode(strict, NULL));
	tg_compilation_free(plain);
	tg_compilation_free(lint);
	tg_compilation_free(strict);
}

static void test_source_limit_and_arguments(void **state)
{
	size_t big = 16u * 1024 * 1024 + 1;
	char *src = malloc(big);
	tg_compilation *c = NULL;

	assert_non_null(src);
	memset(src, ' ', big);
	assert_int_equal(tg_compile(src, big, NULL, 0, &c), TG_OK);
	assert_int_equal(tg_compilation_error_count(c), 1);
	assert_string_equal(tg_compilation_diagnostic(c, 0)->file, "<input>");
	assert_non_null(strstr(tg_compilation_diagnostic(c, 0)->message, "larger than"));
	tg_compilation_free(c);
	free(src);

	assert_int_equal(tg_compile(NULL, 1, "x", 0, &c), TG_EINVAL);
	assert_int_equal(tg_compile("", 0, "x", 0, NULL), TG_EINVAL);
	c = NULL;
	assert_int_equal(tg_compile_file("/nonexistent/p.tg", 0, &c), TG_EIO);
	assert_null(c);
	tg_compilation_free(NULL);
	assert_int_equal(tg_compilation_diagnostic_count(NULL), 0);
}

static void test_compile_file(void **state)
{
	char path[4096];
	tg_compilation *c = NULL;
	const char *src = getenv("TG_SOURCE_DIR");

	assert_non_null(src);
	snprintf(path, sizeof path, "%s/policies/examples/engineering.tg", src);
	assert_int_equal(tg_compile_file(path, TG_COMPILE_LINT | TG_COMPILE_STRICT, &c), TG_OK);
	assert_int_equal(tg_compilation_error_count(c), 0);
	assert_non_null(tg_compilation_bytecode(c, NULL));
	tg_compilation_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_source_gives_loadable_bytecode),
		cmocka_unit_test(test_errors_are_data),
		cmocka_unit_test(test_lints_and_strict),
		cmocka_unit_test(test_source_limit_and_arguments),
		cmocka_unit_test(test_compile_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
