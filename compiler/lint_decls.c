/*
 * lint_decls.c - lints about declarations: roles, sets and attributes that
 * nothing uses, and conditions reading attributes nothing declares.
 *
 * A role is used when a rule subject, a `principal is` test or another
 * role's parent list names it, or when it has parents itself: `role admin:
 * sre;` is how a token's "admin" gets sre's grants, even if no rule names
 * admin. Only a role with no parents that nothing names changes nothing.
 */
#include "lint_internal.h"

#include <string.h>

static uint32_t owner_of(const tg_ast *ast, tg_stmt_kind kind, const void *decl, uint32_t dflt)
{
	for (size_t i = 0; i < ast->nstmts; i++) {
		const tg_stmt *s = &ast->stmts[i];
		if (s->kind != kind)
			continue;
		if ((kind == TG_STMT_ROLE && s->u.role == decl) ||
		    (kind == TG_STMT_SET && s->u.set == decl) ||
		    (kind == TG_STMT_ATTRIBUTE && s->u.attr == decl))
			return s->span.start;
	}
	return dflt;
}

static void mark_is(tg_linter *l, const tg_rule *r, const tg_expr *e, void *arg)
{
	uint8_t *used = arg;
	if (e->kind == TG_E_IS && e->u.is.role_index >= 0)
		used[e->u.is.role_index] = 1;
}

static void unused_roles(tg_linter *l)
{
	const tg_ast *ast = l->ast;
	if (!ast->nroles)
		return;
	uint8_t *used = tg_arena_alloc(l->arena, ast->nroles);
	if (!used) {
		l->oom = true;
		return;
	}
	for (size_t i = 0; i < ast->nrules; i++) {
		const tg_rule *r = ast->rules[i];
		if (r->subject.kind == TG_SUBJ_ROLE)
			for (size_t k = 0; k < r->subject.n; k++)
				if (r->subject.role_index[k] >= 0)
					used[r->subject.role_index[k]] = 1;
		tg_lint_walk_rule(l, r, mark_is, used);
	}
	for (size_t i = 0; i < ast->nroles; i++) {
		const tg_role_decl *d = ast->roles[i];
		if (d->nparents)
			used[i] = 1;
		for (size_t k = 0; k < d->nparents; k++)
			if (d->parent_index && d->parent_index[k] >= 0)
				used[d->parent_index[k]] = 1;
	}
	for (size_t i = 0; i < ast->nroles; i++) {
		const tg_role_decl *d = ast->roles[i];
		if (used[i])
			continue;
		tg_diag *g = tg_lint_report(l, owner_of(ast, TG_STMT_ROLE, d, d->span.start),
					    "unused-role", d->name.span,
					    "role '%s' is declared but never used",
					    tg_lint_show(l, d->name.s, d->name.len));
		tg_diag_hint(l->diags, g, "no rule, 'is' test or role parent list names it; "
			     "remove it or grant it something");
	}
}

static void unused_sets(tg_linter *l)
{
	const tg_ast *ast = l->ast;
	for (size_t i = 0; i < ast->nsets; i++) {
		const tg_set_decl *d = ast->sets[i];
		if (d->used)
			continue;
		tg_diag *g = tg_lint_report(l, owner_of(ast, TG_STMT_SET, d, d->span.start),
					    "unused-set", d->name.span,
					    "set '%s' is declared but never used",
					    tg_lint_show(l, d->name.s, d->name.len));
		tg_diag_hint(l->diags, g, "no rule names it; remove it or use it");
	}
}

static void unused_attrs(tg_linter *l)
{
	const tg_ast *ast = l->ast;
	for (size_t i = 0; i < ast->nattr_decls; i++) {
		const tg_attr_decl *d = ast->attr_decls[i];
		if (d->attr && d->attr->used)
			continue;
		const char *name = d->attr && d->attr->display ? d->attr->display :
			tg_lint_show(l, ast->src + d->path.span.start,
				     d->path.span.end - d->path.span.start);
		tg_diag *g = tg_lint_report(l, owner_of(ast, TG_STMT_ATTRIBUTE, d, d->span.start),
					    "unused-attribute", d->path.span,
					    "attribute '%s' is declared but no condition reads it",
					    name);
		tg_diag_hint(l->diags, g, "remove the declaration, or read it in a rule");
	}
}

/* Each undeclared attribute is reported once per rule, at its first read
 * there, so a suppression on one rule covers that rule's reads. */
typedef struct undeclared {
	const tg_attr **seen;
	size_t n, cap;
} undeclared;

static void find_undeclared(tg_linter *l, const tg_rule *r, const tg_expr *e, void *arg)
{
	undeclared *u = arg;
	if (e->kind != TG_E_PATH)
		return;
	const tg_attr *a = e->u.path.attr;
	if (!a || a->builtin || a->decl)
		return;
	for (size_t i = 0; i < u->n; i++)
		if (u->seen[i] == a)
			return;
	if (tg_arena_grow(l->arena, (void **)&u->seen, &u->cap, u->n + 1, sizeof *u->seen) < 0) {
		l->oom = true;
		return;
	}
	u->seen[u->n++] = a;
	tg_diag *d = tg_lint_report(l, r->span.start, "undeclared-attribute", e->span,
				    "condition reads undeclared attribute '%s'", a->display);
	tg_diag_hint(l->diags, d, "declare it ('attribute %s: TYPE;') so its type is checked "
		     "when the policy compiles", a->display);
}

void tg_lint_decls(tg_linter *l)
{
	unused_roles(l);
	unused_sets(l);
	unused_attrs(l);
	for (size_t i = 0; i < l->ast->nrules; i++) {
		undeclared u = {NULL, 0, 0};
		tg_lint_walk_rule(l, l->ast->rules[i], find_undeclared, &u);
	}
}
