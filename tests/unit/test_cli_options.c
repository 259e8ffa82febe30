/*
 * test_cli_options.c - the commands' option parsing (cli/options.c and the
 * getopt_long loops): usage errors name the option as it was written, exit
 * 2, and one command's parse leaves nothing behind for the next one run in
 * the same process (getopt keeps its state in globals).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef int (*command)(int argc, char **argv);

/* Runs cmd on the NULL-terminated words with stdout and stderr captured;
 * returns its status and what it wrote to stderr in err. */
static int run(command cmd, char *err, size_t errlen, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;
	va_start(ap, errlen);
	for (char *w; (w = va_arg(ap, char *)) != NULL;) {
		assert_true(argc < 15);
		argv[argc++] = w;
	}
	va_end(ap);
	argv[argc] = NULL;

	FILE *cap = tmpfile(), *out = tmpfile();
	assert_non_null(cap);
	assert_non_null(out);
	fflush(stdout);
	fflush(stderr);
	int saved_err = dup(STDERR_FILENO), saved_out = dup(STDOUT_FILENO);
	assert_true(saved_err >= 0 && saved_out >= 0);
	dup2(fileno(cap), STDERR_FILENO);
	dup2(fileno(out), STDOUT_FILENO);
	int rc = cmd(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_err, STDERR_FILENO);
	dup2(saved_out, STDOUT_FILENO);
	close(saved_err);
	close(saved_out);
	rewind(cap);
	size_t n = fread(err, 1, errlen - 1, cap);
	err[n] = '\0';
	fclose(cap);
	fclose(out);
	return rc;
}

#define EXPECT_USAGE(err, first_line)                                                   \
	do {                                                                            \
		const char *nl_ = strchr(err, '\n');                                    \
		assert_non_null(nl_);                                                   \
		if ((size_t)(nl_ - (err)) != strlen(first_line) ||                      \
		    strncmp(err, first_line, strlen(first_line)) != 0)                  \
			fail_msg("stderr: %s\nwanted first line: %s", err, first_line); \
	} while (0)

static void test_messages(void **state)
{
	(void)state;
	char err[1024];

	assert_int_equal(run(tg_cmd_check, err, sizeof err, "check", "--bogus", "x.tg", NULL), 2);
	EXPECT_USAGE(err, "toolgate check: unknown option '--bogus'");
	assert_int_equal(run(tg_cmd_check, err, sizeof err, "check", "--strict=1", "x.tg", NULL),
			 2);
	EXPECT_USAGE(err, "toolgate check: unknown option '--strict=1'");
	assert_int_equal(run(tg_cmd_check, err, sizeof err, "check", "x.tg", "--format", NULL), 2);
	EXPECT_USAGE(err, "toolgate check: --format needs a value");
	assert_int_equal(run(tg_cmd_fmt, err, sizeof err, "fmt", "-wx", "x.tg", NULL), 2);
	EXPECT_USAGE(err, "toolgate fmt: unknown option '-x'");
	assert_int_equal(run(tg_cmd_compile, err, sizeof err, "compile", "x.tg", "-o", NULL), 2);
	EXPECT_USAGE(err, "toolgate compile: -o needs a file name");
	assert_int_equal(run(tg_cmd_eval, err, sizeof err, "eval", "x.tg", "--request", NULL), 2);
	EXPECT_USAGE(err, "toolgate eval: --request needs a file name");
	assert_int_equal(run(tg_cmd_eval, err, sizeof err, "eval", "a.tg", "b.tg", NULL), 2);
	EXPECT_USAGE(err, "toolgate eval: one policy at a time");
	assert_int_equal(run(tg_cmd_disasm, err, sizeof err, "disasm", NULL), 2);
	EXPECT_USAGE(err, "toolgate disasm: no bytecode file given");
	assert_int_equal(run(tg_cmd_test, err, sizeof err, "test", "--format", "xml", "s.yaml",
			     NULL), 2);
	EXPECT_USAGE(err, "toolgate test: unknown format 'xml' (expected text or junit)");
	assert_int_equal(run(tg_cmd_proxy, err, sizeof err, "proxy", "--policy", "p.tgb", "cat",
			     NULL), 2);
	EXPECT_USAGE(err, "toolgate proxy: unexpected 'cat' (the server command goes after --)");
	/* A "--" that is an option's value does not start the command. */
	assert_int_equal(run(tg_cmd_proxy, err, sizeof err, "proxy", "--audit", "--", "cat", NULL),
			 2);
	EXPECT_USAGE(err, "toolgate proxy: unexpected 'cat' (the server command goes after --)");
	assert_int_equal(run(tg_cmd_proxy, err, sizeof err, "proxy", "--principal", "a", "--",
			     "cat", NULL), 2);
	EXPECT_USAGE(err, "toolgate proxy: no policy given (--policy FILE)");
	assert_int_equal(run(tg_cmd_proxy, err, sizeof err, "proxy", "--max-line", NULL), 2);
	EXPECT_USAGE(err, "toolgate proxy: --max-line needs a value");
}

/* "--" ends the options: what follows is an operand even if it looks like
 * an option. */
static void test_double_dash(void **state)
{
	(void)state;
	char err[1024];

	assert_int_equal(run(tg_cmd_compile, err, sizeof err, "compile", "--", "--strict", NULL),
			 2);
	EXPECT_USAGE(err, "toolgate: cannot read '--strict': No such file or directory");
}

/* A parse stopped inside a cluster ("-x" of "-xw") must not leak its
 * leftover "w" into the next command's parse. */
static void test_reset_between_commands(void **state)
{
	(void)state;
	char err[1024];

	for (int i = 0; i < 2; i++) {
		assert_int_equal(run(tg_cmd_fmt, err, sizeof err, "fmt", "-xw", "x.tg", NULL), 2);
		EXPECT_USAGE(err, "toolgate fmt: unknown option '-x'");
		assert_int_equal(run(tg_cmd_disasm, err, sizeof err, "disasm", "-h", NULL), 0);
		assert_string_equal(err, "");
		assert_int_equal(run(tg_cmd_eval, err, sizeof err, "eval", "--help", NULL), 0);
		assert_int_equal(run(tg_cmd_proxy, err, sizeof err, "proxy", "-h", NULL), 0);
		assert_int_equal(run(tg_cmd_test, err, sizeof err, "test", "-v", NULL), 2);
		EXPECT_USAGE(err, "toolgate test: expected at least one SUITE.yaml");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_double_dash),
		cmocka_unit_test(test_reset_between_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
