/*
 * parse.c - tg_parse: runs the Bison parser over one source and assembles
 * the AST's views.
 *
 * The lexer needs a NUL after the last byte (its end-of-input sentinel), and
 * the caller's buffer need not have one, so the source is copied into the
 * arena first; spans index both copies alike.
 *
 * Statements are collected in one growing array during the parse; pointers
 * into it are taken only at the end (ast->policy_stmt, ...), when it no
 * longer moves.
 */
#include <stdlib.h>
#include <string.h>

#include "stages.h"
#include "lex.h"

int tg_parse_push(tg_parser *p, tg_parse_vec *v, const void *elem, size_t size)
{
	if (tg_arena_grow(p->arena, &v->items, &v->cap, v->n + 1, size) < 0) {
		p->oom = true;
		return -1;
	}
	memcpy((char *)v->items + v->n * size, elem, size);
	v->n++;
	return 0;
}

void *tg_parse_new(tg_parser *p, size_t size)
{
	void *x = tg_arena_alloc(p->arena, size);
	if (!x)
		p->oom = true;
	return x;
}

tg_expr *tg_parse_expr(tg_parser *p, tg_expr_kind kind, tg_span span)
{
	tg_expr *e = tg_parse_new(p, sizeof *e);
	if (e) {
		e->kind = kind;
		e->span = span;
	}
	return e;
}

/* Appends a statement; the returned pointer is valid until the next one. */
tg_stmt *tg_parse_stmt(tg_parser *p, tg_stmt_kind kind, tg_span span)
{
	tg_stmt s;
	memset(&s, 0, sizeof s);
	s.kind = kind;
	s.span = span;
	if (tg_parse_push(p, &p->stmts, &s, sizeof s) < 0)
		return NULL;
	return &((tg_stmt *)p->stmts.items)[p->stmts.n - 1];
}

static const char *base_name(const char *path)
{
	const char *b = path;
	for (const char *s = path; *s; s++)
		if (*s == '/' && s[1])
			b = s + 1;
	return b;
}

/* Fills the convenience arrays from the statement list. */
static int build_views(tg_parser *p, tg_ast *ast)
{
	size_t nrules = 0, nroles = 0, nsets = 0, nattrs = 0;
	for (size_t k = 0; k < ast->nstmts; k++) {
		switch (ast->stmts[k].kind) {
		case TG_STMT_RULE:
			nrules++;
			break;
		case TG_STMT_ROLE:
			nroles++;
			break;
		case TG_STMT_SET:
			nsets++;
			break;
		case TG_STMT_ATTRIBUTE:
			nattrs++;
			break;
		default:
			break;
		}
	}
	ast->rules = tg_arena_alloc(p->arena, (nrules + 1) * sizeof *ast->rules);
	ast->roles = tg_arena_alloc(p->arena, (nroles + 1) * sizeof *ast->roles);
	ast->sets = tg_arena_alloc(p->arena, (nsets + 1) * sizeof *ast->sets);
	ast->attr_decls = tg_arena_alloc(p->arena, (nattrs + 1) * sizeof *ast->attr_decls);
	if (!ast->rules || !ast->roles || !ast->sets || !ast->attr_decls)
		return -1;
	for (size_t k = 0; k < ast->nstmts; k++) {
		const tg_stmt *s = &ast->stmts[k];
		switch (s->kind) {
		case TG_STMT_POLICY:
			if (!ast->policy_stmt)
				ast->policy_stmt = s;
			break;
		case TG_STMT_DEFAULT:
			if (!ast->default_stmt)
				ast->default_stmt = s;
			break;
		case TG_STMT_RULE:
			s->u.rule->index = (uint32_t)ast->nrules;
			ast->rules[ast->nrules++] = s->u.rule;
			break;
		case TG_STMT_ROLE:
			s->u.role->index = (int)ast->nroles;
			ast->roles[ast->nroles++] = s->u.role;
			break;
		case TG_STMT_SET:
			ast->sets[ast->nsets++] = s->u.set;
			break;
		case TG_STMT_ATTRIBUTE:
			ast->attr_decls[ast->nattr_decls++] = s->u.attr;
			break;
		}
	}
	return 0;
}

tg_ast *tg_parse(tg_arena *arena, const char *path, const char *src, size_t len, tg_diags *diags)
{
	tg_ast *ast = tg_arena_alloc(arena, sizeof *ast);
	if (!ast)
		return NULL;
	ast->path = path;
	ast->base = base_name(path);
	ast->src = src;
	ast->len = len;
	if (len > TG_MAX_SOURCE_BYTES) {
		tg_diag *d = tg_error(diags, (tg_span){0, 0},
				      "policy source is %zu bytes; the limit is %u bytes (16 MiB)", len,
				      TG_MAX_SOURCE_BYTES);
		tg_diag_hint(diags, d, "split the policy, or generate fewer rules");
		return ast;
	}

	tg_parser *p = calloc(1, sizeof *p);
	char *copy = tg_arena_strndup(arena, src, len);
	if (!p || !copy) {
		free(p);
		return NULL;
	}
	p->arena = arena;
	p->diags = diags;
	p->ast = ast;
	p->lex.src = copy;
	p->lex.len = len;
	p->lex.cur = copy;

	tg_yyparse(p);

	ast->stmts = p->stmts.items;
	ast->nstmts = p->stmts.n;
	ast->comments = p->comments.items;
	ast->ncomments = p->comments.n;
	bool ok = !p->oom && build_views(p, ast) == 0;
	free(p->buf);
	free(p);
	return ok ? ast : NULL;
}
