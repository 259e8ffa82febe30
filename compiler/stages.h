/*
 * stages.h - the compiler's stages, for the tools built in this tree; the
 * public entry point is include/toolgate/compiler.h.
 *
 * A compilation is: read the source, tg_parse, tg_check, then any of tg_fmt,
 * tg_lint, tg_codegen. Every stage reports through one tg_diags list and
 * allocates from one arena owned by the caller.
 */
#ifndef TG_STAGES_H
#define TG_STAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"

/* Limits on policy source (DESIGN.md "Limits"; docs/language.md lists them). */
#define TG_MAX_SOURCE_BYTES   (16u * 1024 * 1024)
#define TG_MAX_STRING_LITERAL (64u * 1024)
#define TG_MAX_EXPR_DEPTH     256

/*
 * Parses src[0..len) (need not be NUL-terminated) into an AST allocated in
 * `arena`. Syntax errors go to `diags`, with recovery at `;`, so the AST is
 * returned even when there are errors (it then holds the statements that
 * parsed). Returns NULL only when out of memory. `path` is kept for rule names
 * (its base name) and must outlive the AST.
 */
tg_ast *tg_parse(tg_arena *arena, const char *path, const char *src, size_t len, tg_diags *diags);

/*
 * Resolves names and checks types, filling the "set by check" fields of the
 * AST. Returns true when no error was reported (warnings allowed).
 */
bool tg_check(tg_ast *ast, tg_diags *diags);

/* Writes the canonical layout of a parsed (syntax-error-free) AST. Returns 0,
 * or -1 on a write error. */
int tg_fmt(const tg_ast *ast, FILE *out);

/*
 * Generates bytecode for a checked AST. On success stores a malloc'd buffer
 * in *out (the caller frees it) and its size in *out_len and returns true; on
 * failure (an encoding limit, out of memory) reports to diags and returns
 * false, leaving *out untouched.
 */
bool tg_codegen(const tg_ast *ast, tg_diags *diags, unsigned char **out, size_t *out_len);

/*
 * Lints a checked, error-free AST: findings are warnings carrying a stable
 * lint id (tg_diag.id), except those a `# toolgate: allow(ID) -- REASON`
 * comment suppresses (docs/lints.md). Returns true when it reported nothing.
 */
bool tg_lint(const tg_ast *ast, tg_diags *diags);

/* One lint id with what the documentation and SARIF say about it. */
typedef struct tg_lint_info {
	const char *id;		/* kebab-case, stable */
	const char *summary;	/* one line */
	const char *description;	/* why it matters, a few sentences */
} tg_lint_info;

/* Every lint id, in documentation order; *n receives the count. */
const tg_lint_info *tg_lint_catalog(size_t *n);

/* Reads a whole file into a malloc'd buffer (NUL-terminated, for
 * convenience; *len excludes the NUL). Returns NULL with errno set, or with
 * errno = EFBIG when it exceeds max bytes. */
char *tg_read_file(const char *path, size_t max, size_t *len);

#endif
