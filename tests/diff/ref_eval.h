/*
 * ref_eval.h - a reference evaluator for differential testing.
 *
 * It decides a request the slow, obvious way, straight from DESIGN.md:
 * it walks the checked AST of a policy and reads the request from its
 * jansson tree, sharing nothing with code generation, the bytecode VM or the
 * CLI's request reader. tests/diff/diff_main.c compares its answers with the
 * compiled bytecode's.
 */
#ifndef TG_REF_EVAL_H
#define TG_REF_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ast.h"

#define REF_MAX_ERRORS 64

typedef struct ref_decision {
	bool invalid;		/* the request is invalid (resource URI rules only) */
	bool allow;
	int rule;		/* deciding rule index, -1 for the default */
	size_t nerrors;
	int error_rules[REF_MAX_ERRORS];	/* rule index of each error, source order */
} ref_decision;

/* An entry of a list result, as tg_entry has it; absent hints are NULL. */
typedef enum ref_entry_kind { REF_ENTRY_TOOL, REF_ENTRY_RESOURCE, REF_ENTRY_PROMPT } ref_entry_kind;

typedef struct ref_entry {
	ref_entry_kind kind;
	const char *name;
	const char *server;	/* NULL when absent */
	int read_only, destructive, idempotent, open_world;	/* -1 absent, 0, 1 */
} ref_entry;

/* Decides `req` (a request object that the caller knows to be otherwise
 * valid) under the checked `ast`. */
void ref_eval(const tg_ast *ast, json_t *req, ref_decision *out);

/* Whether `entry` is visible to the identity in `req` (DESIGN "Visibility"). */
bool ref_visible(const tg_ast *ast, json_t *req, const ref_entry *entry);

/* Glob matching by DESIGN's rules, exposed for the generators' self-test. */
bool ref_glob_match(const char *glob, size_t glen, const char *s, size_t slen);
/* ref_regex.c: whether all of s matches the regular expression (1 or 0),
 * -1 when the pattern cannot be read. */
int ref_regex_match(const char *pattern, size_t plen, const char *s, size_t slen);

#endif
