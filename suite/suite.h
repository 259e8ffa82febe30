/*
 * suite.h - `toolgate test`: YAML test suites for policies.
 *
 * A suite file names a policy and lists cases (docs/testing.md has the
 * format). suite/yaml.c reads it with libyaml into a tg_suite: every request
 * is already a jansson object with the defaults merged in, exactly what
 * `toolgate eval` would be given, so the request reader sees the same input
 * for both commands. suite/run.c evaluates the cases against the compiled
 * policy and produces one tg_case_result per case; cmd_test.c prints them as
 * text and junit.c as JUnit XML.
 *
 * Locations are 1-based LINE:COL, columns counting bytes like every other
 * toolgate diagnostic.
 */
#ifndef TG_SUITE_H
#define TG_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "arena.h"

struct tg_policy;

/* Suite files larger than this are refused (an I/O-class error). */
#define TG_SUITE_MAX_BYTES  (16u * 1024 * 1024)
/* Deepest YAML nesting accepted; requests allow 64 levels of JSON. */
#define TG_SUITE_MAX_DEPTH  64

typedef struct tg_suite_loc {
	unsigned line, col;
} tg_suite_loc;

typedef enum tg_case_kind {
	TG_CASE_REQUEST,	/* `request:` + an expected decision */
	TG_CASE_VISIBLE		/* `visible:` + the expected list of tool names */
} tg_case_kind;

typedef enum tg_expect_errors {
	TG_EXPECT_ERRORS_ANY,	/* `errors` not given: not checked */
	TG_EXPECT_ERRORS_COUNT,	/* `errors: N` */
	TG_EXPECT_ERRORS_LIST	/* `errors: [substring, ...]`, one per error */
} tg_expect_errors;

typedef struct tg_suite_expect {
	bool allow;			/* the expected decision */
	bool check_rule;		/* `rule` given */
	const char *rule;		/* expected id; NULL expects null */
	const char *reason;		/* substring, or NULL when not checked */
	tg_expect_errors errors_mode;
	size_t nerrors;			/* the count, or the list's length */
	const char **errors;		/* TG_EXPECT_ERRORS_LIST: substrings */
	const char **visible;		/* TG_CASE_VISIBLE: exact names */
	size_t nvisible;
	tg_suite_loc loc;		/* where `expect` is */
} tg_suite_expect;

typedef struct tg_suite_case {
	const char *name;
	tg_suite_loc loc;		/* the case's `name` value */
	tg_case_kind kind;
	/* TG_CASE_REQUEST: the whole request. TG_CASE_VISIBLE: the merged
	 * principal/token/context, method "tools/list". Owned (json_decref'd
	 * by tg_suite_free). */
	json_t *request;
	tg_suite_expect expect;
} tg_suite_case;

/* An annotation hint absent from the catalogue takes the MCP default. */
typedef enum tg_suite_hint {
	TG_SUITE_HINT_READ_ONLY,
	TG_SUITE_HINT_DESTRUCTIVE,
	TG_SUITE_HINT_IDEMPOTENT,
	TG_SUITE_HINT_OPEN_WORLD,
	TG_SUITE_HINT_COUNT
} tg_suite_hint;

typedef struct tg_suite_tool {
	const char *name;
	const char *server;		/* NULL when not given */
	bool hints[TG_SUITE_HINT_COUNT];	/* defaults filled in */
	tg_suite_loc loc;
} tg_suite_tool;

typedef struct tg_suite {
	tg_arena arena;			/* every string and array below */
	const char *path;		/* the suite file, as given */
	const char *policy;		/* as written in the suite */
	const char *policy_path;	/* resolved against the suite's directory */
	tg_suite_loc policy_loc;
	tg_suite_tool *tools;
	size_t ntools;
	tg_suite_case *cases;
	size_t ncases;
} tg_suite;

/* Outcome of reading a suite. */
typedef enum tg_suite_status {
	TG_SUITE_OK = 0,
	TG_SUITE_INVALID,	/* errors in the suite, printed as FILE:LINE:COL */
	TG_SUITE_IO		/* the file could not be read, message printed */
} tg_suite_status;

/*
 * Reads the suite file at `path`. Problems are printed to `err` (every one
 * found, not only the first). On TG_SUITE_OK *out holds the suite (free it
 * with tg_suite_free); otherwise *out is NULL.
 */
tg_suite_status tg_suite_load(const char *path, FILE *err, tg_suite **out);

/* The same from text already in memory; `path` is used for messages and to
 * resolve the policy path. */
tg_suite_status tg_suite_parse(const char *path, const char *text, size_t len, FILE *err,
			       tg_suite **out);

void tg_suite_free(tg_suite *suite);

/* Converts one plain (unquoted) YAML scalar the way suites type them: an
 * int, true/false, a float, null, or else a string. Exposed for tests. */
json_t *tg_suite_plain_scalar(const char *s, size_t len);

/*
 * Merges a case's request fields over the defaults: principal, token and
 * context key by key (a case key replaces the default's; a case key whose
 * value is null removes it), every other top-level key replaced whole (null
 * removes it). Returns a new object; neither input is modified. NULL when
 * out of memory.
 */
json_t *tg_suite_merge(const json_t *defaults, const json_t *fields);

/* ---- running ------------------------------------------------------------ */

typedef struct tg_case_result {
	const tg_suite_case *c;
	bool passed;
	/* Why it failed, one line ("expected allow, got deny"); NULL when it
	 * passed. */
	char *summary;
	/* Everything a reader needs: expected vs actual, rule, reason,
	 * errors and the evaluation trace. Multi-line; always filled when
	 * the case failed, and for passing cases when `explain` was asked. */
	char *detail;
} tg_case_result;

typedef struct tg_suite_result {
	const tg_suite *suite;	/* NULL when the suite could not be read */
	const char *path;
	int status;		/* TG_EXIT_OK, TG_EXIT_FAIL or TG_EXIT_USAGE */
	char *error;		/* why the suite could not run, or NULL */
	tg_case_result *cases;
	size_t ncases;
	size_t passed, failed;
} tg_suite_result;

/*
 * Runs every case of `suite` against `policy`. With `explain`, passing cases
 * get their detail too. Returns 0, or -1 when out of memory.
 */
int tg_suite_run(const tg_suite *suite, const struct tg_policy *policy, bool explain,
		 tg_suite_result *res);

/* Marks every case of `suite` failed with `why` (the policy did not load). */
int tg_suite_fail_all(const tg_suite *suite, const char *why, tg_suite_result *res);

void tg_suite_result_free(tg_suite_result *res);

/* ---- junit.c ------------------------------------------------------------ */

/* Writes the results as JUnit XML. Returns 0, or -1 on a write error. */
int tg_junit_write(FILE *out, const tg_suite_result *results, size_t n);

/* Writes s[0..len) XML-escaped, for an attribute value when `attr` (tabs
 * and line breaks as character references) or for element text. */
void tg_xml_escape(FILE *out, const char *s, size_t len, bool attr);

#endif
