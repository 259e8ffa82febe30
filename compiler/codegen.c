/*
 * codegen.c - checked AST to bytecode.
 *
 * The model. A rule is data plus a little code: its effect, id, reason,
 * line, subject and action patterns go to the writer as tables (emit.c
 * builds the rule index from the patterns), and only its condition becomes
 * instructions. The condition
 *
 *     W1 and ... and Wn and not (U1) and ... and not (Um)
 *
 * is one flattened `and` chain; an `and` or `or` anywhere is also lowered
 * as a flat chain, every short-circuit jump going straight to the chain's
 * end with the deciding value on the stack:
 *
 *     A and B and C:   A; JFALSE L; B; AND; JFALSE L; C; AND; L:
 *     A or B or C:     A; JTRUE L;  B; OR;  JTRUE L;  C; OR;  L:
 *
 * The AND/OR after each operand is needed for visibility, where a value
 * past the jump may be UNKNOWN (Kleene: UNKNOWN and true is UNKNOWN). An
 * error raised by any instruction ends the rule's condition as an error on
 * the spot, which is exactly DESIGN's "an error makes the whole condition an
 * error except where short-circuit skipped it": an operand skipped by a
 * jump is never executed. The chain ends with RET.
 *
 * Request-independent subexpressions that cannot fail are folded first
 * (fold.c): a folded operand of a chain drops out when it is the neutral
 * value (true in `and`), and ends the chain when it is the absorbing one.
 *
 * Attribute reads: built-in paths (principal.id, tool.destructive, ...)
 * become LOADB/HASB with a tg_bc_builtin; every other attribute the checker
 * found becomes a slot, numbered in the order of ast->attrs.
 *
 * Limits belong to the writer (stack depth, glob size, counts); the first
 * failure is reported at the construct that caused it and stops code
 * generation: nothing is ever truncated.
 */
#include "stages.h"
#include "emit.h"
#include "fold.h"
#include "regex.h"

#include <stdlib.h>
#include <string.h>

/* An operand of a chain; neg for an `unless` clause. */
typedef struct tg_cg_item {
	const tg_expr *e;
	bool neg;
} tg_cg_item;

typedef struct tg_cg {
	const tg_ast *ast;
	tg_diags *diags;
	tg_emit *e;
	int32_t *slot;		/* per ast->attrs entry: slot index, -1 for built-ins */
	bool failed;		/* a diagnostic was reported */
	tg_span fail_span;	/* where the first emit failure happened */
	bool have_fail_span;
	size_t *labels;		/* jump labels of the chains being emitted */
	size_t nlabels, cap_labels;
	tg_cg_item *items;	/* operands of the chains being flattened */
	size_t nitems, cap_items;
	const tg_expr **work;	/* cg_flatten's stack */
	size_t nwork, cap_work;
} tg_cg;

/* Records where an emit call first failed; emit errors are sticky, so
 * later calls fail too and only the first span matters. */
static void cg_check(tg_cg *cg, int rc, tg_span span)
{
	if (rc < 0 && !cg->have_fail_span) {
		cg->fail_span = span;
		cg->have_fail_span = true;
	}
}

static void cg_fail(tg_cg *cg, tg_span span, const char *what)
{
	if (cg->failed)
		return;
	const char *why = tg_emit_error(cg->e);
	if (!why || strstr(why, "out of memory"))
		tg_error(cg->diags, span, "out of memory");
	else
		tg_error(cg->diags, span, "%s: %s", what, why);
	cg->failed = true;
}

/* ---- attributes ------------------------------------------------------- */

static bool name_is(const tg_name *n, const char *s)
{
	size_t len = strlen(s);
	return n->len == len && memcmp(n->s, s, len) == 0;
}

/* The built-in field an attribute names, or -1. */
static int builtin_of(const tg_attr *a)
{
	static const struct {
		tg_root root;
		const char *field;
		tg_bc_builtin bi;
	} map[] = {
		{TG_ROOT_PRINCIPAL, "id", TG_BI_PRINCIPAL_ID},
		{TG_ROOT_PRINCIPAL, "roles", TG_BI_PRINCIPAL_ROLES},
		{TG_ROOT_TOKEN, "scopes", TG_BI_TOKEN_SCOPES},
		{TG_ROOT_TOOL, "name", TG_BI_TOOL_NAME},
		{TG_ROOT_TOOL, "server", TG_BI_TOOL_SERVER},
		{TG_ROOT_TOOL, "read_only", TG_BI_TOOL_READ_ONLY},
		{TG_ROOT_TOOL, "destructive", TG_BI_TOOL_DESTRUCTIVE},
		{TG_ROOT_TOOL, "idempotent", TG_BI_TOOL_IDEMPOTENT},
		{TG_ROOT_TOOL, "open_world", TG_BI_TOOL_OPEN_WORLD},
		{TG_ROOT_RESOURCE, "uri", TG_BI_RESOURCE_URI},
		{TG_ROOT_PROMPT, "name", TG_BI_PROMPT_NAME},
		{TG_ROOT_REQUEST, "method", TG_BI_REQUEST_METHOD},
	};
	if (a->nfields != 1)
		return -1;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (map[i].root == a->root && name_is(&a->fields[0], map[i].field))
			return (int)map[i].bi;
	return -1;
}

static bool slot_root(tg_root r, tg_slot_root *out)
{
	switch (r) {
	case TG_ROOT_PRINCIPAL:
		*out = TG_SLOT_PRINCIPAL;
		return true;
	case TG_ROOT_TOKEN:
		*out = TG_SLOT_TOKEN;
		return true;
	case TG_ROOT_CONTEXT:
		*out = TG_SLOT_CONTEXT;
		return true;
	case TG_ROOT_ARGS:
		*out = TG_SLOT_ARGS;
		return true;
	case TG_ROOT_TOOL:
	case TG_ROOT_RESOURCE:
	case TG_ROOT_PROMPT:
	case TG_ROOT_REQUEST:
		break;
	}
	return false;
}

static tg_attr_type attr_type(tg_type t)
{
	switch (t) {
	case TG_TY_STRING:
		return TG_ATTR_STRING;
	case TG_TY_INT:
		return TG_ATTR_INT;
	case TG_TY_BOOL:
		return TG_ATTR_BOOL;
	case TG_TY_STRING_LIST:
		return TG_ATTR_STRING_LIST;
	case TG_TY_INT_LIST:
		return TG_ATTR_INT_LIST;
	case TG_TY_ERROR:
	case TG_TY_ANY:
	case TG_TY_EMPTY_LIST:
		break;
	}
	return TG_ATTR_ANY;
}

static int cg_domain(tg_cg *cg, int32_t slot, const tg_attr_decl *d)
{
	for (size_t i = 0; i < d->ndomain; i++) {
		const tg_expr *v = tg_cg_strip(d->domain[i]);
		int rc;
		if (v->kind == TG_E_STRING)
			rc = tg_emit_slot_domain_string(cg->e, slot, v->u.str.s, v->u.str.len);
		else if (v->kind == TG_E_INT)
			rc = tg_emit_slot_domain_int(cg->e, slot, v->u.i);
		else
			continue;	/* bool domains need no check at run time */
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* One slot per non-built-in attribute, in the checker's order (first
 * appearance in the source), so slot numbers are a function of the text. */
static int cg_slots(tg_cg *cg)
{
	const tg_ast *ast = cg->ast;
	cg->slot = calloc(ast->nattrs ? ast->nattrs : 1, sizeof *cg->slot);
	if (!cg->slot)
		return -1;
	for (size_t i = 0; i < ast->nattrs; i++) {
		const tg_attr *a = ast->attrs[i];
		tg_slot_root root;
		cg->slot[i] = -1;
		if (builtin_of(a) >= 0 || !slot_root(a->root, &root))
			continue;
		tg_str comp[64], *cp = comp;
		if (a->nfields > sizeof comp / sizeof comp[0]) {
			cp = malloc(a->nfields * sizeof *cp);
			if (!cp)
				return -1;
		}
		for (size_t k = 0; k < a->nfields; k++) {
			cp[k].ptr = a->fields[k].s;
			cp[k].len = a->fields[k].len;
		}
		int32_t s = tg_emit_slot(cg->e, root, cp, a->nfields, a->display,
					 strlen(a->display), attr_type(a->type));
		if (cp != comp)
			free(cp);
		if (s < 0)
			return -1;
		cg->slot[i] = s;
		if (a->decl && a->decl->has_domain && cg_domain(cg, s, a->decl) < 0)
			return -1;
	}
	return 0;
}

static int32_t cg_slot_of(const tg_cg *cg, const tg_attr *a)
{
	const tg_ast *ast = cg->ast;
	if (a->slot >= 0 && (size_t)a->slot < ast->nattrs && ast->attrs[a->slot] == a)
		return cg->slot[a->slot];
	for (size_t i = 0; i < ast->nattrs; i++)
		if (ast->attrs[i] == a)
			return cg->slot[i];
	return -1;
}

/* ---- expressions --------------------------------------------------------- */

static void cg_expr(tg_cg *cg, const tg_expr *e);

static bool is_int_type(tg_type t)
{
	return t == TG_TY_INT || t == TG_TY_INT_LIST;
}

/* Pushes a folded constant. `peer` is the static type of the value it is
 * compared with, which decides the element type of an empty list. */
static void cg_const(tg_cg *cg, const tg_cg_const *k, tg_type peer, tg_span span)
{
	int rc = -1;
	switch (k->kind) {
	case TG_CG_BOOL:
		rc = tg_emit_op(cg->e, k->b ? TG_OP_TRUE : TG_OP_FALSE);
		break;
	case TG_CG_INT:
		rc = tg_emit_op_int(cg->e, k->i);
		break;
	case TG_CG_STR: {
		uint32_t s = tg_emit_string(cg->e, k->s, k->len);
		rc = s == TG_BC_NONE ? -1 : tg_emit_op_arg(cg->e, TG_OP_STR, s);
		break;
	}
	case TG_CG_LIST: {
		const tg_expr *l = k->list;
		size_t n = l->u.list.n;
		bool ints = n ? tg_cg_strip(l->u.list.items[0])->kind == TG_E_INT
			      : is_int_type(peer);
		void *buf = malloc((n ? n : 1) * (ints ? sizeof(int64_t) : sizeof(uint32_t)));
		if (!buf)
			break;
		rc = 0;
		for (size_t i = 0; i < n && rc == 0; i++) {
			const tg_expr *it = tg_cg_strip(l->u.list.items[i]);
			if (ints) {
				((int64_t *)buf)[i] = it->u.i;
			} else {
				uint32_t s = tg_emit_string(cg->e, it->u.str.s, it->u.str.len);
				((uint32_t *)buf)[i] = s;
				if (s == TG_BC_NONE)
					rc = -1;
			}
		}
		if (rc == 0)
			rc = ints ? tg_emit_op_ints(cg->e, buf, n) : tg_emit_op_strs(cg->e, buf, n);
		free(buf);
		break;
	}
	}
	cg_check(cg, rc, span);
}

/* Like cg_expr, with the peer type for an empty list literal. */
static void cg_operand(tg_cg *cg, const tg_expr *e, tg_type peer)
{
	tg_cg_const k;
	if (tg_cg_fold(e, &k))
		cg_const(cg, &k, peer, e->span);
	else
		cg_expr(cg, e);
}

static tg_bc_cmp bc_cmp(tg_cmp_op op)
{
	switch (op) {
	case TG_CMP_EQ:
		return TG_BC_EQ;
	case TG_CMP_NE:
		return TG_BC_NE;
	case TG_CMP_LT:
		return TG_BC_LT;
	case TG_CMP_LE:
		return TG_BC_LE;
	case TG_CMP_GT:
		return TG_BC_GT;
	case TG_CMP_GE:
		return TG_BC_GE;
	case TG_CMP_IN:
		return TG_BC_IN;
	case TG_CMP_CONTAINS:
		return TG_BC_CONTAINS;
	case TG_CMP_STARTS_WITH:
		return TG_BC_STARTS_WITH;
	case TG_CMP_ENDS_WITH:
		return TG_BC_ENDS_WITH;
	case TG_CMP_LIKE:
	case TG_CMP_UNDER:
	case TG_CMP_MATCHES:
		break;
	}
	return TG_BC_EQ;	/* unreachable: LIKE, UNDER and MATCH have their own opcodes */
}

/* The string operand of `like` / `under` / `matches`: a literal (the
 * checker's rule). */
static const tg_expr *cg_literal_rhs(tg_cg *cg, const tg_expr *rhs)
{
	rhs = tg_cg_strip(rhs);
	if (rhs->kind != TG_E_STRING) {
		if (!cg->failed)
			tg_error(cg->diags, rhs->span,
				 "the right side of 'like', 'matches' and 'under' must be a string literal");
		cg->failed = true;
		return NULL;
	}
	return rhs;
}

/* The DFA of a `matches` pattern, which the checker compiled and kept on
 * the literal. */
static int32_t cg_dfa(tg_cg *cg, const tg_expr *lit)
{
	const tg_re_dfa *dfa = lit->dfa;
	if (!dfa) {
		if (!cg->failed)
			tg_error(cg->diags, lit->span, "internal error: the pattern was not checked");
		cg->failed = true;
		return -1;
	}
	int32_t d = tg_emit_dfa(cg->e, lit->u.str.s, lit->u.str.len, dfa->nstates, dfa->nclasses,
				dfa->classes, dfa->next, dfa->accept);
	if (d < 0)
		cg_fail(cg, lit->span, "cannot encode the DFA");
	return d;
}

/* LIKE / UNDER / MATCH and their ALL_ / ANY_ forms take the literal, or
 * what it compiles to, as operand. */
static void cg_glob_op(tg_cg *cg, tg_opcode op, tg_cmp_op cmp, const tg_expr *rhs)
{
	const tg_expr *lit = cg_literal_rhs(cg, rhs);
	if (!lit)
		return;
	int rc;
	if (cmp == TG_CMP_MATCHES) {
		int32_t d = cg_dfa(cg, lit);
		if (d < 0)
			return;
		rc = tg_emit_op_arg(cg->e, op, (uint32_t)d);
	} else if (cmp == TG_CMP_LIKE) {
		int32_t pat = tg_emit_pattern(cg->e, lit->u.str.s, lit->u.str.len);
		if (pat < 0) {
			cg_fail(cg, lit->span, "glob cannot be compiled");
			return;
		}
		rc = tg_emit_op_arg(cg->e, op, (uint32_t)pat);
	} else {
		uint32_t s = tg_emit_string(cg->e, lit->u.str.s, lit->u.str.len);
		rc = s == TG_BC_NONE ? -1 : tg_emit_op_arg(cg->e, op, s);
	}
	cg_check(cg, rc, rhs->span);
}

/*
 * An attribute compared with a string or integer constant, or with another
 * attribute, becomes one fused instruction (opcodes.def rows 28-31) that
 * makes the same reads, in the same order, with the same errors: three
 * dispatches become one in the shapes policies are mostly made of. Returns
 * false, having emitted nothing, for any other shape.
 */
static bool cg_fused_cmp(tg_cg *cg, const tg_expr *e)
{
	const tg_expr *l = tg_cg_strip(e->u.cmp.lhs), *r = e->u.cmp.rhs;
	tg_bc_cmp op = bc_cmp(e->u.cmp.op);
	tg_cg_const k;
	int rc;

	if (l->kind != TG_E_PATH || !l->u.path.attr)
		return false;
	int bi = builtin_of(l->u.path.attr);
	int32_t slot = bi >= 0 ? -1 : cg_slot_of(cg, l->u.path.attr);
	if (bi < 0 && slot < 0)
		return false;
	if (tg_cg_fold(r, &k)) {
		if (k.kind == TG_CG_STR) {
			uint32_t s = tg_emit_string(cg->e, k.s, k.len);
			rc = s == TG_BC_NONE ? -1
			     : bi >= 0 ? tg_emit_op_cmp(cg->e, TG_OP_LOADB_STR_CMP, (uint32_t)bi, s, op)
				       : tg_emit_op_cmp(cg->e, TG_OP_LOAD_STR_CMP, (uint32_t)slot, s, op);
		} else if (k.kind == TG_CG_INT && slot >= 0) {
			rc = tg_emit_op_cmp(cg->e, TG_OP_LOAD_INT_CMP, (uint32_t)slot, (uint64_t)k.i, op);
		} else {
			return false;
		}
	} else {
		const tg_expr *rs = tg_cg_strip(r);
		if (slot < 0 || rs->kind != TG_E_PATH || !rs->u.path.attr ||
		    builtin_of(rs->u.path.attr) >= 0)
			return false;
		int32_t slot2 = cg_slot_of(cg, rs->u.path.attr);
		if (slot2 < 0)
			return false;
		rc = tg_emit_op_cmp(cg->e, TG_OP_LOAD_LOAD_CMP, (uint32_t)slot, (uint32_t)slot2, op);
	}
	cg_check(cg, rc, e->span);
	return true;
}

static void cg_cmp(tg_cg *cg, const tg_expr *e)
{
	const tg_expr *l = e->u.cmp.lhs, *r = e->u.cmp.rhs;
	tg_cmp_op op = e->u.cmp.op;
	bool literal_op = op == TG_CMP_LIKE || op == TG_CMP_UNDER || op == TG_CMP_MATCHES;
	if (!literal_op && cg_fused_cmp(cg, e))
		return;
	cg_operand(cg, l, r->type);
	if (literal_op) {
		cg_glob_op(cg, op == TG_CMP_LIKE ? TG_OP_LIKE : op == TG_CMP_UNDER ? TG_OP_UNDER
										 : TG_OP_MATCH,
			   op, r);
		return;
	}
	cg_operand(cg, r, l->type);
	cg_check(cg, tg_emit_op_arg(cg->e, TG_OP_CMP, bc_cmp(op)), e->span);
}

/* `all/any value of P OP V`: LOAD_ARGS with P's keys, then as a list
 * quantifier with the ALL_VALUES family. The checker admitted only args
 * paths. */
static void cg_values_quant(tg_cg *cg, const tg_expr *e)
{
	bool all = e->u.quant.all;
	tg_cmp_op op = e->u.quant.op;
	const tg_expr *v = e->u.quant.value;
	const tg_path *p = &e->u.quant.list->u.path;
	uint32_t *keys = malloc((p->nfields ? p->nfields : 1) * sizeof *keys);
	int rc = keys ? 0 : -1;
	for (size_t i = 0; i < p->nfields && rc == 0; i++) {
		keys[i] = tg_emit_string(cg->e, p->fields[i].s, p->fields[i].len);
		if (keys[i] == TG_BC_NONE)
			rc = -1;
	}
	if (rc == 0)
		rc = tg_emit_op_load_args(cg->e, keys, p->nfields);
	free(keys);
	cg_check(cg, rc, p->span);
	switch (op) {
	case TG_CMP_LIKE:
		cg_glob_op(cg, all ? TG_OP_ALL_VALUES_LIKE : TG_OP_ANY_VALUES_LIKE, op, v);
		return;
	case TG_CMP_UNDER:
		cg_glob_op(cg, all ? TG_OP_ALL_VALUES_UNDER : TG_OP_ANY_VALUES_UNDER, op, v);
		return;
	case TG_CMP_MATCHES:
		cg_glob_op(cg, all ? TG_OP_ALL_VALUES_MATCH : TG_OP_ANY_VALUES_MATCH, op, v);
		return;
	default:
		/* V as in a list quantifier; `in []` is a list of strings */
		cg_operand(cg, v, op == TG_CMP_IN ? (v->type == TG_TY_INT_LIST ? v->type : TG_TY_STRING_LIST)
					    : v->type == TG_TY_INT ? TG_TY_INT : TG_TY_STRING);
		cg_check(cg, tg_emit_op_arg(cg->e, all ? TG_OP_ALL_VALUES : TG_OP_ANY_VALUES, bc_cmp(op)),
			 e->span);
	}
}

static void cg_quant(tg_cg *cg, const tg_expr *e)
{
	if (e->u.quant.values) {
		cg_values_quant(cg, e);
		return;
	}
	bool all = e->u.quant.all;
	tg_cmp_op op = e->u.quant.op;
	const tg_expr *v = e->u.quant.value;
	cg_operand(cg, e->u.quant.list, v->type == TG_TY_INT ? TG_TY_INT_LIST : TG_TY_STRING_LIST);
	if (op == TG_CMP_LIKE) {
		cg_glob_op(cg, all ? TG_OP_ALL_LIKE : TG_OP_ANY_LIKE, op, v);
		return;
	}
	if (op == TG_CMP_UNDER) {
		cg_glob_op(cg, all ? TG_OP_ALL_UNDER : TG_OP_ANY_UNDER, op, v);
		return;
	}
	if (op == TG_CMP_MATCHES) {
		cg_glob_op(cg, all ? TG_OP_ALL_MATCH : TG_OP_ANY_MATCH, op, v);
		return;
	}
	/* The element type is the peer of the value; for `in`, a list. */
	tg_type lt = e->u.quant.list->type;
	tg_type et = lt == TG_TY_INT_LIST ? TG_TY_INT : TG_TY_STRING;
	cg_operand(cg, v, op == TG_CMP_IN ? lt : et);
	cg_check(cg, tg_emit_op_arg(cg->e, all ? TG_OP_ALL : TG_OP_ANY, bc_cmp(op)), e->span);
}

/* A read of `a` (LOAD/LOADB) or a presence test (HAS/HASB). */
static void cg_read(tg_cg *cg, const tg_attr *a, bool has, tg_span span)
{
	int rc = -1;
	if (!a) {
		if (!cg->failed)
			tg_error(cg->diags, span, "internal error: unresolved attribute");
		cg->failed = true;
		return;
	}
	int bi = builtin_of(a);
	if (bi >= 0) {
		rc = tg_emit_op_arg(cg->e, has ? TG_OP_HASB : TG_OP_LOADB, (uint32_t)bi);
	} else {
		int32_t s = cg_slot_of(cg, a);
		if (s >= 0)
			rc = tg_emit_op_arg(cg->e, has ? TG_OP_HAS : TG_OP_LOAD, (uint32_t)s);
	}
	cg_check(cg, rc, span);
}

/* Grows a malloc'd vector to hold need elements; -1 when out of memory. */
static int cg_grow(void **v, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	void *nv = realloc(*v, ncap * elem);
	if (!nv)
		return -1;
	*v = nv;
	*cap = ncap;
	return 0;
}

static int cg_grow_work(tg_cg *cg, size_t need)
{
	void *v = cg->work;
	int rc = cg_grow(&v, &cg->cap_work, need, sizeof *cg->work);
	cg->work = v;
	return rc;
}

static int cg_grow_items(tg_cg *cg, size_t need)
{
	void *v = cg->items;
	int rc = cg_grow(&v, &cg->cap_items, need, sizeof *cg->items);
	cg->items = v;
	return rc;
}

/* Appends the operands of a chain of `kind` (AND or OR) rooted at e to
 * cg->items in source order, looking through parentheses. Iterative: `a and
 * b and c ...` nests one level per operand, and a long chain must not cost
 * C stack. */
static int cg_flatten(tg_cg *cg, const tg_expr *e, tg_expr_kind kind)
{
	size_t base = cg->nwork;
	if (cg_grow_work(cg, base + 1) < 0)
		return -1;
	cg->work[cg->nwork++] = e;
	while (cg->nwork > base) {
		const tg_expr *x = tg_cg_strip(cg->work[--cg->nwork]);
		if (x->kind == kind) {
			if (cg_grow_work(cg, cg->nwork + 2) < 0)
				goto nomem;
			cg->work[cg->nwork++] = x->u.bin.rhs;
			cg->work[cg->nwork++] = x->u.bin.lhs;
			continue;
		}
		if (cg_grow_items(cg, cg->nitems + 1) < 0)
			goto nomem;
		cg->items[cg->nitems].e = x;
		cg->items[cg->nitems++].neg = false;
	}
	return 0;
nomem:
	cg->nwork = base;
	return -1;
}

static int cg_push_label(tg_cg *cg, size_t label)
{
	void *v = cg->labels;
	int rc = cg_grow(&v, &cg->cap_labels, cg->nlabels + 1, sizeof *cg->labels);
	cg->labels = v;
	if (rc < 0)
		return -1;
	cg->labels[cg->nlabels++] = label;
	return 0;
}

/*
 * Emits a chain: n operands, each optionally negated (`unless`), joined by
 * `and` (is_and) or `or`. Constant operands are folded away. Returns with
 * one value pushed.
 */

static void cg_chain(tg_cg *cg, const tg_cg_item *items, size_t n, bool is_and, tg_span span)
{
	size_t label_mark = cg->nlabels;
	size_t emitted = 0;
	for (size_t i = 0; i < n; i++) {
		tg_cg_const k;
		bool konst = tg_cg_fold(items[i].e, &k) && k.kind == TG_CG_BOOL;
		bool kv = konst && (k.b != items[i].neg);
		if (konst && kv == is_and)
			continue;	/* neutral: true in `and`, false in `or` */
		if (emitted) {
			size_t label;
			int rc = tg_emit_jump(cg->e, is_and ? TG_OP_JFALSE : TG_OP_JTRUE, &label);
			cg_check(cg, rc, items[i].e->span);
			if (rc == 0 && cg_push_label(cg, label) < 0)
				cg_check(cg, -1, items[i].e->span);
		}
		if (konst) {
			cg_check(cg, tg_emit_op(cg->e, kv ? TG_OP_TRUE : TG_OP_FALSE), items[i].e->span);
		} else {
			cg_expr(cg, items[i].e);
			if (items[i].neg)
				cg_check(cg, tg_emit_op(cg->e, TG_OP_NOT), items[i].e->span);
		}
		if (emitted)
			cg_check(cg, tg_emit_op(cg->e, is_and ? TG_OP_AND : TG_OP_OR), items[i].e->span);
		emitted++;
		if (konst)
			break;		/* absorbing: nothing after it is evaluated */
	}
	if (!emitted)
		cg_check(cg, tg_emit_op(cg->e, is_and ? TG_OP_TRUE : TG_OP_FALSE), span);
	for (size_t i = label_mark; i < cg->nlabels; i++)
		cg_check(cg, tg_emit_patch(cg->e, cg->labels[i]), span);
	cg->nlabels = label_mark;
}

/* Emits cg->items[mark..] as one chain and drops them. The slice is copied
 * out first: operands that contain chains of their own push onto the same
 * vector. */
static void cg_emit_items(tg_cg *cg, size_t mark, bool is_and, tg_span span)
{
	size_t n = cg->nitems - mark;
	tg_cg_item *items = malloc((n ? n : 1) * sizeof *items);
	if (!items) {
		cg->nitems = mark;
		cg_check(cg, -1, span);
		return;
	}
	if (n)
		memcpy(items, cg->items + mark, n * sizeof *items);
	cg->nitems = mark;
	cg_chain(cg, items, n, is_and, span);
	free(items);
}

/* An `and`/`or` subexpression as a flat chain. */
static void cg_bool_chain(tg_cg *cg, const tg_expr *e)
{
	size_t mark = cg->nitems;
	if (cg_flatten(cg, e, e->kind) < 0) {
		cg->nitems = mark;
		cg_check(cg, -1, e->span);
		return;
	}
	cg_emit_items(cg, mark, e->kind == TG_E_AND, e->span);
}

static void cg_expr(tg_cg *cg, const tg_expr *e)
{
	tg_cg_const k;
	if (tg_cg_fold(e, &k)) {
		cg_const(cg, &k, TG_TY_ANY, e->span);
		return;
	}
	e = tg_cg_strip(e);
	switch (e->kind) {
	case TG_E_AND:
	case TG_E_OR:
		cg_bool_chain(cg, e);
		return;
	case TG_E_NOT:
		cg_expr(cg, e->u.operand);
		cg_check(cg, tg_emit_op(cg->e, TG_OP_NOT), e->span);
		return;
	case TG_E_CMP:
		cg_cmp(cg, e);
		return;
	case TG_E_ADD:
	case TG_E_SUB:
		cg_operand(cg, e->u.bin.lhs, TG_TY_INT);
		cg_operand(cg, e->u.bin.rhs, TG_TY_INT);
		cg_check(cg, tg_emit_op(cg->e, e->kind == TG_E_ADD ? TG_OP_ADD : TG_OP_SUB), e->span);
		return;
	case TG_E_HAS:
		cg_read(cg, e->u.has.attr, true, e->span);
		return;
	case TG_E_IS:
		if (e->u.is.role_index < 0) {
			cg_read(cg, NULL, false, e->span);
			return;
		}
		cg_check(cg, tg_emit_op_arg(cg->e, TG_OP_IS, (uint32_t)e->u.is.role_index), e->span);
		return;
	case TG_E_QUANT:
		cg_quant(cg, e);
		return;
	case TG_E_PATH:
		cg_read(cg, e->u.path.attr, false, e->span);
		return;
	case TG_E_PAREN:
	case TG_E_STRING:
	case TG_E_INT:
	case TG_E_BOOL:
	case TG_E_LIST:
	case TG_E_SET:	/* lowered to its list literal by check */
		break;	/* folded above */
	}
	cg_check(cg, -1, e->span);
}

/* ---- rules -------------------------------------------------------------- */

static tg_bc_subject bc_subject(tg_subject_kind k)
{
	switch (k) {
	case TG_SUBJ_ANYONE:
		return TG_BC_SUBJ_ANYONE;
	case TG_SUBJ_ROLE:
		return TG_BC_SUBJ_ROLE;
	case TG_SUBJ_SCOPE:
		return TG_BC_SUBJ_SCOPE;
	case TG_SUBJ_PRINCIPAL:
		return TG_BC_SUBJ_PRINCIPAL;
	case TG_SUBJ_CLIENT:
		return TG_BC_SUBJ_CLIENT;
	}
	return TG_BC_SUBJ_ANYONE;
}

static tg_bc_action bc_action(tg_action_kind k)
{
	switch (k) {
	case TG_ACT_CALL_TOOL:
		return TG_BC_ACT_CALL_TOOL;
	case TG_ACT_READ_RESOURCE:
		return TG_BC_ACT_READ_RESOURCE;
	case TG_ACT_GET_PROMPT:
		return TG_BC_ACT_GET_PROMPT;
	case TG_ACT_LIST_TOOLS:
		return TG_BC_ACT_LIST_TOOLS;
	case TG_ACT_LIST_RESOURCES:
		return TG_BC_ACT_LIST_RESOURCES;
	case TG_ACT_LIST_PROMPTS:
		return TG_BC_ACT_LIST_PROMPTS;
	case TG_ACT_LIST_RESOURCE_TEMPLATES:
		return TG_BC_ACT_LIST_RESOURCE_TEMPLATES;
	case TG_ACT_INVOKE:
		return TG_BC_ACT_INVOKE;
	case TG_ACT_ANYTHING:
		return TG_BC_ACT_ANYTHING;
	}
	return TG_BC_ACT_ANYTHING;
}

static int cg_target(tg_cg *cg, const tg_name *glob, tg_span span)
{
	int32_t pat = tg_emit_pattern(cg->e, glob->s, glob->len);
	if (pat < 0 || tg_emit_target(cg->e, pat) < 0) {
		cg_fail(cg, span, "cannot encode pattern");
		return -1;
	}
	return 0;
}

static int cg_rule_head(tg_cg *cg, const tg_rule *r, uint32_t line)
{
	tg_emit_rule info;
	memset(&info, 0, sizeof info);
	info.id = r->display_id;
	info.id_len = strlen(r->display_id);
	if (r->has_because) {
		info.reason = r->because.s;
		info.reason_len = r->because.len;
	}
	info.line = line;
	info.effect = r->effect == TG_EFFECT_ALLOW ? TG_BC_ALLOW : TG_BC_DENY;
	info.subject = bc_subject(r->subject.kind);
	info.action = bc_action(r->action.kind);
	info.any = r->action.any;
	if (tg_emit_rule_begin(cg->e, &info) < 0)
		return -1;

	const tg_subject *s = &r->subject;
	for (size_t i = 0; i < s->n; i++) {
		int rc;
		if (s->kind == TG_SUBJ_ROLE)
			rc = s->role_index && s->role_index[i] >= 0
				     ? tg_emit_subject_role(cg->e, s->role_index[i]) : -1;
		else
			rc = tg_emit_subject_string(cg->e, s->items[i].s, s->items[i].len);
		if (rc < 0)
			return -1;
	}

	const tg_action *a = &r->action;
	for (size_t i = 0; i < a->n; i++) {
		const tg_pattern *p = &a->items[i];
		if (!p->is_set) {
			if (cg_target(cg, &p->text, p->text.span) < 0)
				return -1;
			continue;
		}
		if (!p->set)
			return -1;
		for (size_t k = 0; k < p->set->n; k++)
			if (cg_target(cg, &p->set->items[k], p->set->items[k].span) < 0)
				return -1;
	}
	return 0;
}

static void cg_rule(tg_cg *cg, const tg_rule *r, uint32_t line)
{
	if (cg_rule_head(cg, r, line) < 0) {
		cg_fail(cg, r->span, "cannot encode rule");
		return;
	}
	/* W1 and ... and Wn and not (U1) and ... and not (Um): one chain, a
	 * `when` that is itself an `and` spliced in. */
	size_t mark = cg->nitems;
	for (size_t i = 0; i < r->nwhen; i++) {
		if (cg_flatten(cg, r->when[i], TG_E_AND) < 0) {
			cg->nitems = mark;
			cg_check(cg, -1, r->span);
			break;
		}
	}
	for (size_t i = 0; i < r->nunless && !cg->have_fail_span; i++) {
		if (cg_grow_items(cg, cg->nitems + 1) < 0) {
			cg->nitems = mark;
			cg_check(cg, -1, r->span);
			break;
		}
		cg->items[cg->nitems].e = r->unless[i];
		cg->items[cg->nitems++].neg = true;
	}
	cg_emit_items(cg, mark, true, r->span);
	cg_check(cg, tg_emit_op(cg->e, TG_OP_RET), r->span);
	cg_check(cg, tg_emit_rule_end(cg->e), r->span);
	if (cg->have_fail_span)
		cg_fail(cg, cg->fail_span, "rule too long");
}

/* Line numbers of the rules' allow/deny keywords, in one pass over the
 * source (rules come in source order). */
static uint32_t cg_advance_line(const tg_ast *ast, size_t *pos, uint32_t line, size_t to)
{
	if (to > ast->len)
		to = ast->len;
	for (; *pos < to; (*pos)++)
		if (ast->src[*pos] == '\n')
			line++;
	return line;
}

static void cg_header(tg_cg *cg)
{
	const tg_ast *ast = cg->ast;
	tg_span none = {0, 0};
	if (ast->policy_stmt) {
		const tg_stmt *p = ast->policy_stmt;
		if (tg_emit_policy(cg->e, p->u.policy.name.s, p->u.policy.name.len,
				   p->u.policy.has_version ? p->u.policy.version.s : NULL,
				   p->u.policy.has_version ? p->u.policy.version.len : 0) < 0) {
			cg_fail(cg, p->span, "cannot encode the policy name");
			return;
		}
	}
	tg_emit_default(cg->e, ast->default_stmt &&
			       ast->default_stmt->u.default_effect == TG_EFFECT_ALLOW);
	tg_emit_source(cg->e, ast->src, ast->len);
	for (size_t i = 0; i < ast->nroles; i++) {
		const tg_role_decl *r = ast->roles[i];
		if (tg_emit_role(cg->e, r->name.s, r->name.len) < 0) {
			cg_fail(cg, r->name.span, "cannot declare the role");
			return;
		}
	}
	if (ast->nroles && ast->role_closure &&
	    tg_emit_role_closure(cg->e, ast->role_closure, ast->nroles) < 0)
		cg_fail(cg, none, "cannot encode the role closure");
}

bool tg_codegen(const tg_ast *ast, tg_diags *diags, unsigned char **out, size_t *out_len)
{
	tg_cg cg;
	memset(&cg, 0, sizeof cg);
	cg.ast = ast;
	cg.diags = diags;
	cg.e = tg_emit_new();
	tg_span whole = {0, 0};
	if (!cg.e) {
		tg_error(diags, whole, "out of memory");
		return false;
	}

	cg_header(&cg);
	if (!cg.failed && cg_slots(&cg) < 0)
		cg_fail(&cg, whole, "cannot encode attributes");

	size_t pos = 0;
	uint32_t line = 1;
	for (size_t i = 0; i < ast->nrules && !cg.failed; i++) {
		const tg_rule *r = ast->rules[i];
		line = cg_advance_line(ast, &pos, line, r->effect_span.start);
		cg_rule(&cg, r, line);
	}

	unsigned char *buf = NULL;
	size_t len = 0;
	if (!cg.failed && tg_emit_finish(cg.e, &buf, &len) < 0)
		cg_fail(&cg, whole, "cannot encode policy");
	tg_emit_free(cg.e);
	free(cg.slot);
	free(cg.labels);
	free(cg.items);
	free(cg.work);
	if (cg.failed) {
		free(buf);
		return false;
	}
	*out = buf;
	*out_len = len;
	return true;
}
