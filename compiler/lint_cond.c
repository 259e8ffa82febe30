/*
 * lint_cond.c - contradictory-condition: comparisons in one `and` chain
 * that can never all hold.
 *
 * A rule's condition is `W1 and ... and Wn and not U1 and ... and not Um`,
 * so its `when` clauses and negated `unless` clauses form one chain; inside
 * them, every `and` (and every `or` under a `not`, by De Morgan) starts or
 * extends a chain. The atoms of a chain that can be reasoned about are an
 * attribute compared with a literal (`x == "a"`, `5 < x`, `x in ["a"]`) and a
 * bare boolean attribute, each possibly negated. Two atoms on the same
 * attribute contradict when no value satisfies both: different equalities,
 * `==` against `!=` of the same value, disjoint integer ranges, a value
 * outside an `in` list. Pairs only: three atoms that conflict only together
 * go unreported, which is a miss, never a false finding. Literals outside a
 * declared domain are check's errors, not ours.
 */
#include "lint_internal.h"

#include <string.h>

#include "fold.h"

typedef enum atom_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN } atom_op;

typedef struct atom {
	const tg_attr *attr;
	atom_op op;
	tg_cg_const v;
	tg_span span;
	bool negated;		/* shown with "not" in front */
} atom;

typedef struct chain {
	atom *v;
	size_t n, cap;
} chain;

static const tg_expr *strip(const tg_expr *e)
{
	while (e && (e->kind == TG_E_PAREN || (e->kind == TG_E_SET && e->u.set.list)))
		e = e->kind == TG_E_PAREN ? e->u.operand : e->u.set.list;
	return e;
}

static atom_op negate(atom_op op)
{
	switch (op) {
	case OP_EQ:
		return OP_NE;
	case OP_NE:
		return OP_EQ;
	case OP_LT:
		return OP_GE;
	case OP_LE:
		return OP_GT;
	case OP_GT:
		return OP_LE;
	case OP_GE:
		return OP_LT;
	default:
		return op;
	}
}

static atom_op flip(atom_op op)
{
	switch (op) {
	case OP_LT:
		return OP_GT;
	case OP_LE:
		return OP_GE;
	case OP_GT:
		return OP_LT;
	case OP_GE:
		return OP_LE;
	default:
		return op;
	}
}

static bool scalar(const tg_cg_const *c)
{
	return c->kind == TG_CG_INT || c->kind == TG_CG_STR || c->kind == TG_CG_BOOL;
}

/* e as an atom, when it is one. */
static bool as_atom(const tg_expr *e, bool neg, atom *out)
{
	const tg_expr *x = strip(e);
	memset(out, 0, sizeof *out);
	out->span = e->span;
	out->negated = neg;
	if (x->kind == TG_E_PATH && x->u.path.attr && x->u.path.attr->type == TG_TY_BOOL) {
		out->attr = x->u.path.attr;
		out->op = OP_EQ;
		out->v.kind = TG_CG_BOOL;
		out->v.b = !neg;
		return true;
	}
	if (x->kind != TG_E_CMP)
		return false;
	const tg_expr *lhs = strip(x->u.cmp.lhs), *rhs = strip(x->u.cmp.rhs);
	atom_op op;
	switch (x->u.cmp.op) {
	case TG_CMP_EQ:
		op = OP_EQ;
		break;
	case TG_CMP_NE:
		op = OP_NE;
		break;
	case TG_CMP_LT:
		op = OP_LT;
		break;
	case TG_CMP_LE:
		op = OP_LE;
		break;
	case TG_CMP_GT:
		op = OP_GT;
		break;
	case TG_CMP_GE:
		op = OP_GE;
		break;
	case TG_CMP_IN:
		op = OP_IN;
		break;
	default:
		return false;
	}
	if (lhs->kind == TG_E_PATH && tg_cg_fold(rhs, &out->v)) {
		out->attr = lhs->u.path.attr;
	} else if (rhs->kind == TG_E_PATH && op != OP_IN && tg_cg_fold(lhs, &out->v)) {
		out->attr = rhs->u.path.attr;
		op = flip(op);
	} else {
		return false;
	}
	if (!out->attr)
		return false;
	if (op == OP_IN ? out->v.kind != TG_CG_LIST : !scalar(&out->v))
		return false;
	if (neg) {
		if (op == OP_IN)
			return false;
		op = negate(op);
	}
	out->op = op;
	return true;
}

static bool same_value(const tg_cg_const *a, const tg_cg_const *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case TG_CG_INT:
		return a->i == b->i;
	case TG_CG_BOOL:
		return a->b == b->b;
	case TG_CG_STR:
		return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
	default:
		return false;
	}
}

/* -1: cannot tell; else whether v is one of the list's items. */
static int member(const tg_expr *list, const tg_cg_const *v)
{
	for (size_t i = 0; i < list->u.list.n; i++) {
		tg_cg_const x;
		if (!tg_cg_fold(list->u.list.items[i], &x) || !scalar(&x) || x.kind != v->kind)
			return -1;
		if (same_value(&x, v))
			return 1;
	}
	return 0;
}

/* The integers an ordering or equality atom allows, as [lo, hi]. */
static bool range(const atom *a, int64_t *lo, int64_t *hi)
{
	if (a->v.kind != TG_CG_INT)
		return false;
	int64_t v = a->v.i;
	*lo = INT64_MIN;
	*hi = INT64_MAX;
	switch (a->op) {
	case OP_EQ:
		*lo = *hi = v;
		return true;
	case OP_LT:
		if (v == INT64_MIN)
			return false;
		*hi = v - 1;
		return true;
	case OP_LE:
		*hi = v;
		return true;
	case OP_GT:
		if (v == INT64_MAX)
			return false;
		*lo = v + 1;
		return true;
	case OP_GE:
		*lo = v;
		return true;
	default:
		return false;
	}
}

static bool contradict(const atom *a, const atom *b)
{
	if (a->attr != b->attr)
		return false;
	if (a->op == OP_IN || b->op == OP_IN) {
		const atom *in = a->op == OP_IN ? a : b, *other = in == a ? b : a;
		if (other->op == OP_EQ)
			return member(in->v.list, &other->v) == 0;
		if (other->op != OP_IN)
			return false;
		/* Two lists with no item in common. */
		const tg_expr *la = in->v.list, *lb = other->v.list;
		for (size_t i = 0; i < la->u.list.n; i++) {
			tg_cg_const x;
			if (!tg_cg_fold(la->u.list.items[i], &x) || !scalar(&x) || member(lb, &x) != 0)
				return false;
		}
		return true;
	}
	if (a->v.kind != b->v.kind)
		return false;
	if (a->op == OP_EQ && b->op == OP_EQ)
		return !same_value(&a->v, &b->v);
	if ((a->op == OP_EQ && b->op == OP_NE) || (a->op == OP_NE && b->op == OP_EQ))
		return same_value(&a->v, &b->v);
	int64_t alo, ahi, blo, bhi;
	if (!range(a, &alo, &ahi) || !range(b, &blo, &bhi))
		return false;
	return ahi < blo || bhi < alo;
}

static const char *atom_text(tg_linter *l, const atom *a)
{
	const char *s = tg_lint_show(l, l->ast->src + a->span.start, a->span.end - a->span.start);
	if (!a->negated)
		return s;
	const char *t = tg_arena_printf(l->arena, s[0] == '(' ? "not %s" : "not (%s)", s);
	return t ? t : s;
}

static void check_chain(tg_linter *l, const tg_rule *r, const chain *c)
{
	for (size_t j = 1; j < c->n; j++) {
		for (size_t i = 0; i < j; i++) {
			if (!contradict(&c->v[i], &c->v[j]))
				continue;
			tg_diag *d = tg_lint_report(l, r->span.start, "contradictory-condition",
						    c->v[j].span,
						    "condition can never hold: '%s' contradicts '%s'",
						    atom_text(l, &c->v[j]), atom_text(l, &c->v[i]));
			tg_diag_hint(l->diags, d, "both are joined by 'and' and no value of '%s' "
				     "satisfies both; did you mean 'or'?", c->v[j].attr->display);
			return;
		}
	}
}

static void start_chains(tg_linter *l, const tg_rule *r, const tg_expr *e, bool neg);

/* Adds e (negated when neg) to the chain: an `and` (an `or` under a `not`)
 * continues it, an atom joins it, anything else may hold chains of its
 * own. */
static void collect(tg_linter *l, const tg_rule *r, chain *c, const tg_expr *e, bool neg)
{
	const tg_expr *x = strip(e);
	if ((!neg && x->kind == TG_E_AND) || (neg && x->kind == TG_E_OR)) {
		collect(l, r, c, x->u.bin.lhs, neg);
		collect(l, r, c, x->u.bin.rhs, neg);
		return;
	}
	if (x->kind == TG_E_NOT) {
		collect(l, r, c, x->u.operand, !neg);
		return;
	}
	atom a;
	if (as_atom(e, neg, &a)) {
		if (tg_arena_grow(l->arena, (void **)&c->v, &c->cap, c->n + 1, sizeof *c->v) < 0) {
			l->oom = true;
			return;
		}
		c->v[c->n++] = a;
		return;
	}
	start_chains(l, r, x, neg);
}

static void start_chains(tg_linter *l, const tg_rule *r, const tg_expr *e, bool neg)
{
	const tg_expr *x = strip(e);
	if ((!neg && x->kind == TG_E_AND) || (neg && x->kind == TG_E_OR)) {
		chain c = {NULL, 0, 0};
		collect(l, r, &c, x, neg);
		check_chain(l, r, &c);
	} else if (x->kind == TG_E_NOT) {
		start_chains(l, r, x->u.operand, !neg);
	} else if (x->kind == TG_E_AND || x->kind == TG_E_OR) {
		start_chains(l, r, x->u.bin.lhs, neg);
		start_chains(l, r, x->u.bin.rhs, neg);
	}
}

void tg_lint_conditions(tg_linter *l)
{
	for (size_t i = 0; i < l->ast->nrules; i++) {
		const tg_rule *r = l->ast->rules[i];
		chain c = {NULL, 0, 0};
		for (size_t k = 0; k < r->nwhen; k++)
			collect(l, r, &c, r->when[k], false);
		for (size_t k = 0; k < r->nunless; k++)
			collect(l, r, &c, r->unless[k], true);
		check_chain(l, r, &c);
	}
}
