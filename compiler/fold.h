/*
 * fold.h - constant folding for the code generator.
 *
 * A subexpression folds when it reads nothing from the request and its
 * evaluation cannot fail: then its value is known at compile time and the
 * code generator pushes it as one constant instead of computing it. Anything
 * that could be an error at run time (an overflow, a type mismatch, an
 * unclean `under` path) is left unfolded, so the run-time error - and the
 * rule's recorded error - is preserved.
 */
#ifndef TG_FOLD_H
#define TG_FOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"

typedef enum tg_cg_kind {
	TG_CG_BOOL,
	TG_CG_INT,
	TG_CG_STR,
	TG_CG_LIST		/* a list literal: items are TG_E_STRING or TG_E_INT */
} tg_cg_kind;

typedef struct tg_cg_const {
	tg_cg_kind kind;
	bool b;
	int64_t i;
	const char *s;		/* TG_CG_STR: bytes, not NUL-terminated in general */
	size_t len;
	const tg_expr *list;	/* TG_CG_LIST: the TG_E_LIST node */
} tg_cg_const;

/* Strips the parentheses the AST keeps for the formatter. */
const tg_expr *tg_cg_strip(const tg_expr *e);

/* True, with *out set, when e is a constant that cannot fail. */
bool tg_cg_fold(const tg_expr *e, tg_cg_const *out);

#endif
