/*
 * diag.h - diagnostics: collected during a compilation, printed at the end.
 *
 * Passes never print. They add diagnostics to a tg_diags list with a byte
 * span; diag.c turns spans into LINE:COL (columns count bytes from 1) and
 * renders the source line with a caret and underline:
 *
 *   policy.tg:3:22: error: unknown role 'enginer'
 *       3 | rule "x": allow role enginer to call tool "a";
 *         |                      ^~~~~~~
 *         = hint: did you mean 'engineer'?
 *
 * The same list feeds the JSON and SARIF writers.
 */
#ifndef TG_DIAG_H
#define TG_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "arena.h"
#include "ast.h"

typedef enum tg_severity { TG_SEV_ERROR, TG_SEV_WARNING } tg_severity;

typedef struct tg_diag {
	tg_severity severity;
	tg_span span;
	const char *id;		/* stable lint id ("unused-role"), or NULL */
	const char *message;
	const char *hint;	/* NULL when none */
} tg_diag;

/* How many errors one file reports before the rest are summarised. */
#define TG_DIAG_MAX_ERRORS 50

typedef struct tg_diags {
	tg_arena *arena;
	tg_diag *items;
	size_t n, cap;
	size_t nerrors, nwarnings;
	size_t dropped;		/* errors past TG_DIAG_MAX_ERRORS */
	bool oom;		/* a diagnostic could not be recorded */
} tg_diags;

void tg_diags_init(tg_diags *d, tg_arena *arena);

/* Adds a diagnostic; returns it so the caller can attach an id or a hint,
 * or NULL when it was dropped (cap reached, out of memory). */
tg_diag *tg_diag_add(tg_diags *d, tg_severity sev, tg_span span, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;
tg_diag *tg_error(tg_diags *d, tg_span span, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;
tg_diag *tg_warning(tg_diags *d, tg_span span, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;
void tg_diag_hint(tg_diags *d, tg_diag *diag, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* A user string made safe to quote in a message: newline and tab as \n and
 * \t, other control bytes as \u{X}. Allocated in the arena; NULL when out
 * of memory. */
const char *tg_diag_show(tg_arena *a, const char *s, size_t len);

/* Sorts by position (stable), so passes may report in any order. */
void tg_diags_sort(tg_diags *d);

/* Line and column (both from 1, column in bytes) of a byte offset. */
typedef struct tg_linecol {
	unsigned line, col;
} tg_linecol;

tg_linecol tg_source_linecol(const char *src, size_t len, size_t offset);

/* Prints one diagnostic in the text format above. */
void tg_diag_print(FILE *out, const char *path, const char *src, size_t len, const tg_diag *diag);

/* Prints all of them, then "N errors, M warnings generated" style trailer
 * only when something was dropped. */
void tg_diags_print(FILE *out, const char *path, const char *src, size_t len, const tg_diags *d);

/* "did you mean" support: the candidate closest to name by edit distance,
 * or NULL when none is close enough to be a plausible typo. */
const char *tg_suggest(const char *name, size_t len, const char *const *candidates, size_t n);

#endif
