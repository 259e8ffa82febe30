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

#include "toolgate/toolgate.h"

#define TG_EXIT_OK    0
#define TG_EXIT_FAIL  1
#define TG_EXIT_USAGE 2

/* One entry point per command (cli/cmd_<name>.c). */
int tg_cmd_check(int argc, char **argv);
int tg_cmd_fmt(int argc, char **argv);
int tg_cmd_compile(int argc, char **argv);
int tg_cmd_eval(int argc, char **argv);
int tg_cmd_test(int argc, char **argv);
int tg_cmd_disasm(int argc, char **argv);
int tg_cmd_proxy(int argc, char **argv);

/* Prints "toolgate: MESSAGE\n" to stderr. */
void tg_cli_error(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

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

/* ---- source.c: reading policies ---------------------------------------- */

/* Bytecode is read whole before verification; anything larger than this
 * could not have come from the compiler. */
#define TG_CLI_MAX_BYTECODE (64u * 1024 * 1024)


/* Reads a policy source (at most TG_MAX_SOURCE_BYTES) the way every command
 * does: on failure prints why, stores TG_EXIT_FAIL (too large: the policy is
 * wrong) or TG_EXIT_USAGE (unreadable) in *rc and returns NULL. */
char *tg_cli_read_source(const char *path, size_t *len, int *rc);

/* Under --strict a warning is reported, and counted, as an error. */
struct tg_diags;
void tg_cli_promote_warnings(struct tg_diags *d);

/* True when path names bytecode (ends in ".tgb"); anything else is source. */
bool tg_cli_is_bytecode_path(const char *path);

/*
 * Compiles the policy source at `path` to bytecode: read, parse, check,
 * codegen. Diagnostics are printed to stderr. With `strict`, warnings count as
 * errors. On success stores a malloc'd buffer in *out (caller frees) and
 * returns TG_EXIT_OK; otherwise returns TG_EXIT_FAIL (the policy is wrong) or
 * TG_EXIT_USAGE (the file could not be read) and leaves *out untouched.
 */
int tg_cli_compile_file(const char *path, bool strict, unsigned char **out, size_t *out_len);

/*
 * Loads a policy for evaluation: a .tgb file is read and verified by the
 * runtime loader, anything else is compiled in memory first. Errors are
 * printed to stderr. On success stores the policy in *out (release it with
 * tg_policy_free) and returns TG_EXIT_OK; otherwise TG_EXIT_FAIL (bad source
 * or bytecode that fails verification) or TG_EXIT_USAGE (unreadable file).
 */
int tg_cli_load_policy(const char *path, tg_policy **out);

/*
 * Writes buf[0..len) to `path` atomically: a temporary file in the same
 * directory, fsync'd, then renamed over the target. `mode_from`, when not
 * NULL, names an existing file whose permission bits the new file takes.
 * Returns 0, or -1 with a message printed.
 */
int tg_cli_write_atomic(const char *path, const void *buf, size_t len, const char *mode_from);

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

/* ---- explain.c ---------------------------------------------------------- */

/*
 * Evaluates req with tg_eval_trace, filling *d and *status exactly as
 * tg_eval would, and returns a malloc'd text describing the evaluation: one
 * line per candidate rule (whether its subject and action matched, what its
 * condition gave, whether it applied), then the outcome. Every line starts
 * with two spaces and ends with a newline. NULL when out of memory (*d and
 * *status are still filled).
 */
char *tg_cli_explain(const tg_policy *p, const tg_request *req, tg_decision *d,
		     tg_status *status);

#endif
