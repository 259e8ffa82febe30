/*
 * cli.h - declarations shared by the toolgate command's files.
 *
 * main.c only dispatches: `toolgate COMMAND ARGS...` calls the command's
 * entry point with argv[0] = the command name ("check", "eval", ...) and the
 * rest of the arguments after it, like git's builtins. An entry point returns
 * the process exit status:
 *
 *   0  success
 *   1  the policy or a test is wrong (compile error, failed test, check errors)
 *   2  usage or I/O error, or an invalid request
 *
 * Commands print their own diagnostics; messages that are not compiler
 * diagnostics go to stderr as "toolgate: MESSAGE".
 */
#ifndef TG_CLI_H
#define TG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "driver.h"
#include "toolgate/toolgate.h"

/* One entry point per command (cli/cmd_<name>.c). */
int tg_cmd_check(int argc, char **argv);
int tg_cmd_fmt(int argc, char **argv);
int tg_cmd_compile(int argc, char **argv);
int tg_cmd_eval(int argc, char **argv);
int tg_cmd_test(int argc, char **argv);
int tg_cmd_disasm(int argc, char **argv);
int tg_cmd_proxy(int argc, char **argv);
int tg_cmd_gateway(int argc, char **argv);

/* ---- options.c: command-line options ------------------------------------ */

/* Prints "toolgate CMD: MESSAGE" and a pointer to --help to stderr; returns
 * TG_EXIT_USAGE so callers can `return tg_cli_usage(...)`. */
int tg_cli_usage(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* True when arg is "-h" or "--help". */
bool tg_cli_is_help(const char *arg);

/* getopt_long values of long options without a short form start here,
 * above every letter, so none can pass for a short option. */
#define TG_OPT_LONG 256

/* Readies getopt_long for a new parse, with its own messages off. Call it
 * before each command's option loop. */
void tg_cli_getopt_reset(void);

/* Prints a command's help text to stdout; returns TG_EXIT_OK. */
int tg_cli_help(const char *text);

/* The usage error for what getopt_long returned c ('?' or ':') for, with
 * `shortopts` the optstring it was given: "unknown option 'OPT'" or "OPT
 * needs NEEDS" ("a value", "a file name"). Returns TG_EXIT_USAGE. */
int tg_cli_bad_option(const char *cmd, int c, char **argv, const char *shortopts,
		      const char *needs);

/* ---- diag_json.c, diag_sarif.c: machine-readable `check` output ---------- */

/* What `check` found in one file, for the JSON and SARIF writers. */
typedef struct tg_check_result {
	const char *path;		/* as given on the command line */
	const char *src;		/* the source, NULL when unreadable */
	size_t len;
	const struct tg_diags *diags;	/* NULL when unreadable */
	const char *io_error;		/* why it could not be read, else NULL */
} tg_check_result;

/* A JSON string of s, bytes that are not valid UTF-8 replaced by U+FFFD
 * (jansson refuses them). NULL when out of memory. */
struct json_t *tg_cli_json_string(const char *s, size_t len);

/* Write the results as the documented JSON (docs/check-output.md) or as a
 * SARIF 2.1.0 log, to out. Return 0, or -1 when out of memory or on a write
 * error (a message is printed). */
int tg_cli_write_check_json(FILE *out, const tg_check_result *files, size_t n, bool strict);
int tg_cli_write_check_sarif(FILE *out, const tg_check_result *files, size_t n);

#endif
