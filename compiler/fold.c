/*
 * fold.c - compile-time evaluation of request-independent subexpressions.
 *
 * The evaluator mirrors the interpreter's operators on literals only. It
 * answers "cannot fold" for everything it is not sure of - a type mismatch,
 * an overflow, an unclean `under` path - so a folded program always means
 * what the unfolded one would have meant, errors included. `like` and
 * `under` call the runtime's own matchers, so the two cannot disagree.
 * Short-circuit is honoured: `false and X` folds to false whatever X is,
 * because X is never evaluated.
 */
#include "fold.h"
#include "regex.h"

#include <string.h>

#include "format.h"	/* TG_BC_GLOB_MAX */
#include "toolgate/toolgate.h"	/* the runtime's own glob and `under` matchers */

const tg_expr *tg_cg_strip(const tg_expr *e)
{
	while (e && (e->kind == TG_E_PAREN || (e->kind == TG_E_SET && e->u.set.list)))
		e = e->kind == TG_E_PAREN ? e->u.operand : e->u.set.list;
	return e;
}

static bool item_const(const tg_expr *it, tg_cg_const *out)
{
	memset(out, 0, sizeof *out);
	if (it->kind == TG_E_STRING) {
		out->kind = TG_CG_STR;
		out->s = it->u.str.s;
		out->len = it->u.str.len;
		return true;
	}
	if (it->kind == TG_E_INT) {
		out->kind = TG_CG_INT;
		out->i = it->u.i;
		return true;
	}
	return false;
}

/* -1: not comparable (a run-time type error), else 0/1 equality. */
static int scalar_eq(const tg_cg_const *a, const tg_cg_const *b)
{
	if (a->kind != b->kind)
		return -1;
	switch (a->kind) {
	case TG_CG_BOOL:
		return a->b == b->b;
	case TG_CG_INT:
		return a->i == b->i;
	case TG_CG_STR:
		return a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
	case TG_CG_LIST:
		break;
	}
	return -1;
}

static int list_eq(const tg_expr *a, const tg_expr *b)
{
	if (a->u.list.n != b->u.list.n)
		return 0;
	for (size_t i = 0; i < a->u.list.n; i++) {
		tg_cg_const x, y;
		if (!item_const(a->u.list.items[i], &x) || !item_const(b->u.list.items[i], &y))
			return -1;
		int r = scalar_eq(&x, &y);
		if (r != 1)
			return r;
	}
	return 1;
}

static int member(const tg_expr *list, const tg_cg_const *v)
{
	if (v->kind != TG_CG_STR && v->kind != TG_CG_INT)
		return -1;
	for (size_t i = 0; i < list->u.list.n; i++) {
		tg_cg_const x;
		if (!item_const(list->u.list.items[i], &x))
			return -1;
		int r = scalar_eq(&x, v);
		if (r != 0)
			return r;
	}
	return 0;
}

/* a OP b on constants: 1 true, 0 false, -1 cannot fold. */
static int cmp_const(tg_cmp_op op, const tg_cg_const *a, const tg_cg_const *b)
{
	int r;
	switch (op) {
	case TG_CMP_EQ:
	case TG_CMP_NE:
		if (a->kind == TG_CG_LIST && b->kind == TG_CG_LIST)
			r = list_eq(a->list, b->list);
		else
			r = scalar_eq(a, b);
		return r < 0 ? -1 : (op == TG_CMP_EQ ? r : !r);
	case TG_CMP_LT:
	case TG_CMP_LE:
	case TG_CMP_GT:
	case TG_CMP_GE:
		if (a->kind != TG_CG_INT || b->kind != TG_CG_INT)
			return -1;
		if (op == TG_CMP_LT)
			return a->i < b->i;
		if (op == TG_CMP_LE)
			return a->i <= b->i;
		if (op == TG_CMP_GT)
			return a->i > b->i;
		return a->i >= b->i;
	case TG_CMP_IN:
		return b->kind == TG_CG_LIST ? member(b->list, a) : -1;
	case TG_CMP_CONTAINS:
		if (a->kind == TG_CG_LIST)
			return member(a->list, b);
		if (a->kind != TG_CG_STR || b->kind != TG_CG_STR)
			return -1;
		if (b->len == 0)
			return 1;
		for (size_t i = 0; i + b->len <= a->len; i++)
			if (memcmp(a->s + i, b->s, b->len) == 0)
				return 1;
		return 0;
	case TG_CMP_STARTS_WITH:
	case TG_CMP_ENDS_WITH:
		if (a->kind != TG_CG_STR || b->kind != TG_CG_STR)
			return -1;
		if (b->len > a->len)
			return 0;
		if (b->len == 0)
			return 1;
		return memcmp(op == TG_CMP_STARTS_WITH ? a->s : a->s + a->len - b->len, b->s,
			      b->len) == 0;
	case TG_CMP_LIKE:
		if (a->kind != TG_CG_STR || b->kind != TG_CG_STR || b->len > TG_BC_GLOB_MAX)
			return -1;
		return tg_glob_match(b->s, b->len, a->s, a->len);
	case TG_CMP_MATCHES:
		if (a->kind != TG_CG_STR || b->kind != TG_CG_STR)
			return -1;
		{
			tg_re_dfa dfa;
			tg_re_error err;
			if (!tg_re_compile(b->s, b->len, &dfa, &err))
				return -1;	/* the checker reports it */
			bool m = tg_re_dfa_match(&dfa, a->s, a->len);
			tg_re_dfa_free(&dfa);
			return m;
		}
	case TG_CMP_UNDER:
		if (a->kind != TG_CG_STR || b->kind != TG_CG_STR)
			return -1;
		{
			bool under;

			/* Not a clean path: an error at run time, so not folded. */
			if (tg_path_under(a->s, a->len, b->s, b->len, &under) != TG_OK)
				return -1;
			return under;
		}
	}
	return -1;
}

static bool set_bool(tg_cg_const *out, bool b)
{
	memset(out, 0, sizeof *out);
	out->kind = TG_CG_BOOL;
	out->b = b;
	return true;
}

static bool fold_quant(const tg_expr *e, tg_cg_const *out)
{
	tg_cg_const l, v;
	if (!tg_cg_fold(e->u.quant.list, &l) || l.kind != TG_CG_LIST ||
	    !tg_cg_fold(e->u.quant.value, &v))
		return false;
	bool all = e->u.quant.all;
	for (size_t i = 0; i < l.list->u.list.n; i++) {
		tg_cg_const x;
		if (!item_const(l.list->u.list.items[i], &x))
			return false;
		int r = cmp_const(e->u.quant.op, &x, &v);
		if (r < 0)
			return false;
		if (all && !r)
			return set_bool(out, false);
		if (!all && r)
			return set_bool(out, true);
	}
	return set_bool(out, all);
}

static bool fold_has(const tg_expr *e, tg_cg_const *out)
{
	/* DESIGN: `principal has roles` and `token has scopes` are always
	 * true (absent means empty). */
	const tg_path *b = &e->u.has.base;
	const tg_name *f = &e->u.has.field;
	if (b->nfields)
		return false;
	if (b->root == TG_ROOT_PRINCIPAL && f->len == 5 && memcmp(f->s, "roles", 5) == 0)
		return set_bool(out, true);
	if (b->root == TG_ROOT_TOKEN && f->len == 6 && memcmp(f->s, "scopes", 6) == 0)
		return set_bool(out, true);
	return false;
}

bool tg_cg_fold(const tg_expr *e, tg_cg_const *out)
{
	tg_cg_const l, r;
	e = tg_cg_strip(e);
	switch (e->kind) {
	case TG_E_STRING:
	case TG_E_INT:
		return item_const(e, out);
	case TG_E_BOOL:
		return set_bool(out, e->u.b);
	case TG_E_LIST:
		for (size_t i = 0; i < e->u.list.n; i++)
			if (!item_const(e->u.list.items[i], &l))
				return false;
		memset(out, 0, sizeof *out);
		out->kind = TG_CG_LIST;
		out->list = e;
		return true;
	case TG_E_NOT:
		if (!tg_cg_fold(e->u.operand, &l) || l.kind != TG_CG_BOOL)
			return false;
		return set_bool(out, !l.b);
	case TG_E_AND:
	case TG_E_OR: {
		bool is_and = e->kind == TG_E_AND;
		if (!tg_cg_fold(e->u.bin.lhs, &l) || l.kind != TG_CG_BOOL)
			return false;
		if (l.b != is_and)	/* false and X, true or X */
			return set_bool(out, l.b);
		if (!tg_cg_fold(e->u.bin.rhs, &r) || r.kind != TG_CG_BOOL)
			return false;
		return set_bool(out, r.b);
	}
	case TG_E_ADD:
	case TG_E_SUB: {
		if (!tg_cg_fold(e->u.bin.lhs, &l) || !tg_cg_fold(e->u.bin.rhs, &r) ||
		    l.kind != TG_CG_INT || r.kind != TG_CG_INT)
			return false;
		bool ovf = e->kind == TG_E_ADD
			? (r.i > 0 && l.i > INT64_MAX - r.i) || (r.i < 0 && l.i < INT64_MIN - r.i)
			: (r.i < 0 && l.i > INT64_MAX + r.i) || (r.i > 0 && l.i < INT64_MIN + r.i);
		if (ovf)
			return false;
		memset(out, 0, sizeof *out);
		out->kind = TG_CG_INT;
		out->i = e->kind == TG_E_ADD ? l.i + r.i : l.i - r.i;
		return true;
	}
	case TG_E_CMP: {
		if (!tg_cg_fold(e->u.cmp.lhs, &l) || !tg_cg_fold(e->u.cmp.rhs, &r))
			return false;
		int v = cmp_const(e->u.cmp.op, &l, &r);
		return v >= 0 && set_bool(out, v);
	}
	case TG_E_QUANT:
		return fold_quant(e, out);
	case TG_E_HAS:
		return fold_has(e, out);
	case TG_E_PAREN:
	case TG_E_SET:	/* one check did not lower */
	case TG_E_IS:
	case TG_E_PATH:
		break;
	}
	return false;
}
