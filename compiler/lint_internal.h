/*
 * lint_internal.h - state shared by the linter's files.
 *
 * lint.c owns the catalogue of lint ids, the suppression comments and the
 * one reporting function every lint goes through; the lint families live in
 * lint_rules.c (relations between rules and their patterns), lint_decls.c
 * (declarations and what reads them), lint_cond.c (conditions that can
 * never hold) and lint_regex.c (patterns that match everything or nothing). Nothing here is visible outside the linter.
 */
#ifndef TG_LINT_INTERNAL_H
#define TG_LINT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stages.h"

/* One id named in a `# toolgate: allow(ID, ...) -- REASON` comment. */
typedef struct tg_lint_supp {
	const char *id;		/* points into the source */
	size_t idlen;
	tg_span span;		/* the id inside the comment */
	uint32_t target;	/* start offset of the statement it precedes,
				 * or UINT32_MAX when it precedes none */
	bool used;
} tg_lint_supp;

typedef struct tg_linter {
	const tg_ast *ast;
	tg_diags *diags;
	tg_arena *arena;
	tg_lint_supp *supps;
	size_t nsupps, suppcap;
	struct tg_lint_pats *rule_pats;	/* lint_rules.c: per rule, by index */
	bool oom;
} tg_linter;

/* Reports a finding of lint `id` about the statement starting at offset
 * `owner`, unless a suppression before that statement names the id (the
 * suppression is then marked used). Returns the diagnostic, to attach a hint,
 * or NULL when suppressed or dropped. */
tg_diag *tg_lint_report(tg_linter *l, uint32_t owner, const char *id, tg_span span,
			const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 5, 6)))
#endif
	;

/* A user string made safe to quote in a message (control bytes escaped). */
const char *tg_lint_show(tg_linter *l, const char *s, size_t len);

/* How a rule is named in messages: its id, or FILE:LINE. */
const char *tg_lint_rule_name(const tg_rule *r);

/* Where a finding about a rule points: its id when it has one, else the
 * allow/deny keyword. */
tg_span tg_lint_rule_span(const tg_rule *r);

unsigned tg_lint_line(const tg_linter *l, uint32_t offset);

/* Calls fn on every expression node of the rule's conditions, parents
 * before children. */
typedef void (*tg_lint_expr_fn)(tg_linter *l, const tg_rule *r, const tg_expr *e, void *arg);
void tg_lint_walk_rule(tg_linter *l, const tg_rule *r, tg_lint_expr_fn fn, void *arg);

/* Glob coverage, decided only in the simple cases: true means every string
 * `narrow` matches, `wide` matches too; false means "not known". */
bool tg_lint_glob_covers(const char *wide, size_t wlen, const char *narrow, size_t nlen);

/* The lint families. */
void tg_lint_rules(tg_linter *l);
void tg_lint_patterns(tg_linter *l);
void tg_lint_decls(tg_linter *l);
void tg_lint_conditions(tg_linter *l);
/* lint_regex.c */
void tg_lint_regexes(tg_linter *l);

#endif
