/*
 * fmt_expr.c - conditions in canonical layout.
 *
 * Parentheses are printed exactly where the source had them (the parser
 * keeps TG_E_PAREN), so printing never has to decide grouping; the
 * precedence table below only adds parentheses to a tree that could not
 * have come from the parser, so such a tree still prints with its meaning.
 *
 * A condition that does not fit, or that holds a comment between two of its
 * operands, is broken before every `and`/`or` of its outermost chain, one
 * operand per line at the continuation indent; an operand that is itself a
 * chain (directly, in parentheses, or under `not`) breaks the same way two
 * columns deeper. Nothing else breaks: a long comparison overflows.
 */
#include "fmt_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

enum { P_OR = 1, P_AND, P_NOT, P_CMP, P_ADD, P_ATOM };

static int prec(const tg_expr *e)
{
	switch (e->kind) {
	case TG_E_OR:
		return P_OR;
	case TG_E_AND:
		return P_AND;
	case TG_E_NOT:
		return P_NOT;
	case TG_E_CMP:
	case TG_E_HAS:
	case TG_E_IS:
	case TG_E_QUANT:
		return P_CMP;
	case TG_E_ADD:
	case TG_E_SUB:
		return P_ADD;
	default:
		return P_ATOM;
	}
}

static const char *cmp_op(tg_cmp_op op)
{
	switch (op) {
	case TG_CMP_EQ: return "==";
	case TG_CMP_NE: return "!=";
	case TG_CMP_LT: return "<";
	case TG_CMP_LE: return "<=";
	case TG_CMP_GT: return ">";
	case TG_CMP_GE: return ">=";
	case TG_CMP_IN: return "in";
	case TG_CMP_CONTAINS: return "contains";
	case TG_CMP_LIKE: return "like";
	case TG_CMP_STARTS_WITH: return "starts_with";
	case TG_CMP_ENDS_WITH: return "ends_with";
	case TG_CMP_UNDER: return "under";
	case TG_CMP_MATCHES: return "matches";
	}
	return "?";
}

static void sub(tg_fmt_buf *b, const tg_expr *e, int need)
{
	if (prec(e) < need) {
		tg_fmt_putc(b, '(');
		tg_fmt_expr_flat(b, e);
		tg_fmt_putc(b, ')');
	} else {
		tg_fmt_expr_flat(b, e);
	}
}

static void binary(tg_fmt_buf *b, const tg_expr *l, const char *op, const tg_expr *r,
		   int lneed, int rneed)
{
	sub(b, l, lneed);
	tg_fmt_putc(b, ' ');
	tg_fmt_puts(b, op);
	tg_fmt_putc(b, ' ');
	sub(b, r, rneed);
}

static const tg_expr **chain_ops(const tg_expr *e, size_t *n);

/* `a + b - c`: the left spine of + and - in a loop (see chain_count). */
static void arith(tg_fmt_buf *b, const tg_expr *e)
{
	size_t n = 0, k;
	const tg_expr *x;
	for (x = e; x->kind == TG_E_ADD || x->kind == TG_E_SUB; x = x->u.bin.lhs)
		n++;
	const tg_expr **spine = malloc(n * sizeof *spine);
	if (!spine) {
		b->oom = true;
		return;
	}
	k = n;
	for (x = e; x->kind == TG_E_ADD || x->kind == TG_E_SUB; x = x->u.bin.lhs)
		spine[--k] = x;
	sub(b, x, P_ADD);
	for (k = 0; k < n; k++) {
		tg_fmt_puts(b, spine[k]->kind == TG_E_ADD ? " + " : " - ");
		sub(b, spine[k]->u.bin.rhs, P_ATOM);
	}
	free(spine);
}

void tg_fmt_expr_flat(tg_fmt_buf *b, const tg_expr *e)
{
	char num[32];
	switch (e->kind) {
	case TG_E_OR:
	case TG_E_AND: {
		size_t n;
		const tg_expr **ops = chain_ops(e, &n);
		if (!ops) {
			b->oom = true;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				tg_fmt_puts(b, e->kind == TG_E_OR ? " or " : " and ");
			sub(b, ops[i], e->kind == TG_E_OR ? P_OR : P_AND);
		}
		free(ops);
		break;
	}
	case TG_E_NOT:
		tg_fmt_puts(b, "not ");
		sub(b, e->u.operand, P_NOT);
		break;
	case TG_E_PAREN:
		tg_fmt_putc(b, '(');
		tg_fmt_expr_flat(b, e->u.operand);
		tg_fmt_putc(b, ')');
		break;
	case TG_E_CMP:
		binary(b, e->u.cmp.lhs, cmp_op(e->u.cmp.op), e->u.cmp.rhs, P_ADD, P_ADD);
		break;
	case TG_E_ADD:
	case TG_E_SUB:
		arith(b, e);
		break;
	case TG_E_HAS:
		tg_fmt_path(b, &e->u.has.base);
		tg_fmt_puts(b, " has ");
		tg_fmt_field(b, &e->u.has.field);
		break;
	case TG_E_IS:
		tg_fmt_puts(b, "principal is ");
		tg_fmt_name(b, &e->u.is.role);
		break;
	case TG_E_QUANT:
		tg_fmt_puts(b, e->u.quant.all ? "all " : "any ");
		if (e->u.quant.values)
			tg_fmt_puts(b, "value of ");
		binary(b, e->u.quant.list, cmp_op(e->u.quant.op), e->u.quant.value, P_ADD, P_ADD);
		break;
	case TG_E_PATH:
		tg_fmt_path(b, &e->u.path);
		break;
	case TG_E_STRING:
		tg_fmt_string(b, e->u.str.s, e->u.str.len);
		break;
	case TG_E_INT:
		snprintf(num, sizeof num, "%" PRId64, e->u.i);
		tg_fmt_puts(b, num);
		break;
	case TG_E_BOOL:
		tg_fmt_puts(b, e->u.b ? "true" : "false");
		break;
	case TG_E_SET:
		tg_fmt_name(b, &e->u.set.name);
		break;
	case TG_E_LIST:
		tg_fmt_putc(b, '[');
		for (size_t i = 0; i < e->u.list.n; i++) {
			if (i > 0)
				tg_fmt_puts(b, ", ");
			sub(b, e->u.list.items[i], P_OR);
		}
		tg_fmt_putc(b, ']');
		break;
	}
}

/*
 * The operands of the chain of `kind` rooted at e, left to right. The parser
 * builds chains left-associated, and the nesting limit does not bound their
 * length, so the left spine is walked in a loop, not by recursion.
 */
static size_t chain_count(const tg_expr *e, tg_expr_kind kind)
{
	size_t n = 1;
	for (; e->kind == kind; e = e->u.bin.lhs)
		n += chain_count(e->u.bin.rhs, kind);
	return n;
}

/* Fills ops[0..*k) from the right: *k starts at chain_count(e, kind). */
static void chain_fill(const tg_expr *e, tg_expr_kind kind, const tg_expr **ops, size_t *k)
{
	for (; e->kind == kind; e = e->u.bin.lhs)
		chain_fill(e->u.bin.rhs, kind, ops, k);
	ops[--*k] = e;
}

static const tg_expr **chain_ops(const tg_expr *e, size_t *n)
{
	*n = chain_count(e, e->kind);
	const tg_expr **ops = malloc(*n * sizeof *ops);
	size_t k = *n;
	if (ops)
		chain_fill(e, e->kind, ops, &k);
	return ops;
}

/* The chain a breakable operand opens: e itself, or what parentheses and
 * `not` enclose; NULL when e cannot break. */
static const tg_expr *breakable(const tg_expr *e)
{
	while (e->kind == TG_E_PAREN || e->kind == TG_E_NOT)
		e = e->u.operand;
	return e->kind == TG_E_OR || e->kind == TG_E_AND ? e : NULL;
}

void tg_fmt_expr_place(tg_fmt_state *st, const tg_expr *e, size_t lo, size_t hi, size_t seg)
{
	const tg_expr *ch = breakable(e);
	const tg_expr **ops = NULL;
	size_t n = 0, k = 0;
	if (ch && !(ops = chain_ops(ch, &n)))
		st->out.oom = true;
	/* Comments and operands are both in source order: one merge. */
	for (size_t i = lo; i < hi;) {
		uint32_t c = st->ast->comments[i].span.start;
		while (k < n && ops[k]->span.end <= c)
			k++;
		if (k < n && c >= ops[k]->span.start) {
			size_t j = i;
			while (j < hi && st->ast->comments[j].span.start < ops[k]->span.end)
				j++;
			tg_fmt_expr_place(st, ops[k], i, j, seg);
			i = j;
			continue;
		}
		if (k > 0 && k < n) {
			st->kind[i] = TG_FMT_C_INEXPR;
		} else {
			st->kind[i] = TG_FMT_C_BEFORE;
			st->seg[i] = seg;
		}
		i++;
	}
	free(ops);
}

/* Whether a comment kept inside the condition lies within e. */
static bool holds_comment(const tg_fmt_state *st, const tg_expr *e)
{
	for (size_t i = tg_fmt_first_comment(st, e->span.start);
	     i < st->chi && st->ast->comments[i].span.start < e->span.end; i++)
		if (st->kind[i] == TG_FMT_C_INEXPR)
			return true;
	return false;
}

static bool fits_flat(tg_fmt_state *st, const tg_expr *e, unsigned trail)
{
	tg_fmt_buf tmp = {0};
	tg_fmt_expr_flat(&tmp, e);
	size_t w = tmp.oom ? (size_t)-1 / 2 : tg_fmt_width(tmp.s, tmp.len);
	if (tmp.oom)
		st->out.oom = true;
	tg_fmt_buf_free(&tmp);
	return tg_fmt_column(&st->out) + w + trail <= TG_FMT_WIDTH;
}

/* Comments between operands a and b of a broken chain: the first trails a's
 * line when it ended a line in the source; the others take lines of their
 * own before b's operator. */
static void gap_comments(tg_fmt_state *st, const tg_expr *a, const tg_expr *b, unsigned cont)
{
	bool first = true;
	for (size_t i = tg_fmt_first_comment(st, a->span.end);
	     i < st->chi && st->ast->comments[i].span.start < b->span.start; i++) {
		if (st->kind[i] != TG_FMT_C_INEXPR)
			continue;
		if (first && st->eol[i] && !st->line_has_comment)
			tg_fmt_comment_trail(st, i);
		else
			tg_fmt_comment_line(st, i, cont);
		first = false;
	}
}

void tg_fmt_expr_cond(tg_fmt_state *st, const tg_expr *e, unsigned cont, unsigned trail)
{
	if (!holds_comment(st, e) && fits_flat(st, e, trail)) {
		tg_fmt_expr_flat(&st->out, e);
		return;
	}
	switch (e->kind) {
	case TG_E_PAREN:
		tg_fmt_putc(&st->out, '(');
		tg_fmt_expr_cond(st, e->u.operand, cont, trail + 1);
		tg_fmt_putc(&st->out, ')');
		return;
	case TG_E_NOT:
		if (prec(e->u.operand) < P_NOT)
			break;
		tg_fmt_puts(&st->out, "not ");
		tg_fmt_expr_cond(st, e->u.operand, cont, trail);
		return;
	case TG_E_OR:
	case TG_E_AND: {
		int need = e->kind == TG_E_OR ? P_OR : P_AND;
		size_t n;
		const tg_expr **ops = chain_ops(e, &n);
		if (!ops) {
			st->out.oom = true;
			return;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned t = i + 1 == n ? trail : 0;
			if (i > 0) {
				gap_comments(st, ops[i - 1], ops[i], cont);
				tg_fmt_begin_line(st, cont);
				tg_fmt_puts(&st->out, e->kind == TG_E_OR ? "or " : "and ");
			}
			if (prec(ops[i]) < need) {
				/* not from the parser: keep its grouping */
				tg_fmt_putc(&st->out, '(');
				tg_fmt_expr_flat(&st->out, ops[i]);
				tg_fmt_putc(&st->out, ')');
			} else {
				tg_fmt_expr_cond(st, ops[i], cont + 2, t);
			}
		}
		free(ops);
		return;
	}
	default:
		break;
	}
	tg_fmt_expr_flat(&st->out, e);
}
