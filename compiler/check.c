/*
 * check.c - semantic checks: the driver and the helpers the passes share.
 *
 * Declarations may stand anywhere in a file, so checking is two sweeps.
 * The first binds every declaration (roles with their inheritance closure,
 * sets, attribute declarations) without looking at rules. The second walks
 * the statements in source order, which is what fixes the order of
 * ast->attrs ("first appearance"): it binds attribute declarations to
 * attributes, names the rules, resolves subjects and actions and types every
 * condition.
 *
 * Every check reports and carries on: a name that does not resolve gets
 * index -1 or a NULL binding and its expression the type ERROR, which no
 * later check complains about, so one mistake yields one diagnostic.
 */
#include "check_internal.h"

#include <stdio.h>
#include <string.h>

/* ---- map ---------------------------------------------------------------- */

static uint64_t map_hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211u;
	}
	return h;
}

int tg_check_map_get(const tg_check_map *m, const char *key, size_t len)
{
	if (!m->cap)
		return -1;
	size_t mask = m->cap - 1;
	for (size_t i = map_hash(key, len) & mask;; i = (i + 1) & mask) {
		const tg_check_slot *s = &m->slots[i];
		if (!s->key)
			return -1;
		if (s->len == len && memcmp(s->key, key, len) == 0)
			return s->value;
	}
}

static void map_insert(tg_check_slot *slots, size_t cap, const char *key, size_t len, int value)
{
	size_t mask = cap - 1;
	size_t i = map_hash(key, len) & mask;
	while (slots[i].key)
		i = (i + 1) & mask;
	slots[i].key = key;
	slots[i].len = len;
	slots[i].value = value;
}

/* Inserts a key known to be absent. */
bool tg_check_map_put(tg_checker *c, tg_check_map *m, const char *key, size_t len, int value)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 16;
		tg_check_slot *ns = tg_check_alloc(c, ncap * sizeof *ns);
		if (!ns)
			return false;
		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i].key)
				map_insert(ns, ncap, m->slots[i].key, m->slots[i].len,
					   m->slots[i].value);
		m->slots = ns;
		m->cap = ncap;
	}
	map_insert(m->slots, m->cap, key ? key : "", len, value);
	m->n++;
	return true;
}

/* ---- helpers ------------------------------------------------------------ */

void tg_check_nomem(tg_checker *c)
{
	if (!c->oom) {
		c->oom = true;
		tg_span none = {0, 0};
		tg_error(c->diags, none, "out of memory");
	}
}

void *tg_check_alloc(tg_checker *c, size_t size)
{
	void *p = tg_arena_alloc(c->arena, size ? size : 1);
	if (!p)
		tg_check_nomem(c);
	return p;
}

const char *tg_check_show(tg_checker *c, const char *s, size_t len)
{
	const char *shown = tg_diag_show(c->arena, s, len);
	if (!shown) {
		tg_check_nomem(c);
		return "?";
	}
	return shown;
}

unsigned tg_check_line(const tg_checker *c, uint32_t offset)
{
	return tg_source_linecol(c->ast->src, c->ast->len, offset).line;
}

bool tg_check_suggest(tg_checker *c, tg_diag *d, const char *name, size_t len,
		      const char *const *candidates, size_t n)
{
	const char *best = n ? tg_suggest(name, len, candidates, n) : NULL;
	if (!best)
		return false;
	if (d)
		tg_diag_hint(c->diags, d, "did you mean '%s'?", tg_check_show(c, best, strlen(best)));
	return true;
}

const char *tg_check_type_name(tg_type t)
{
	switch (t) {
	case TG_TY_ERROR:
		return "error";
	case TG_TY_ANY:
		return "any";
	case TG_TY_STRING:
		return "string";
	case TG_TY_INT:
		return "int";
	case TG_TY_BOOL:
		return "bool";
	case TG_TY_STRING_LIST:
		return "list<string>";
	case TG_TY_INT_LIST:
		return "list<int>";
	case TG_TY_EMPTY_LIST:
		return "empty list";
	}
	return "?";
}

/* ---- statements --------------------------------------------------------- */

/* `policy` and `default` appear at most once; the second is the error. */
static void check_singletons(tg_checker *c)
{
	const tg_stmt *first_policy = NULL, *first_default = NULL;
	for (size_t i = 0; i < c->ast->nstmts; i++) {
		const tg_stmt *s = &c->ast->stmts[i];
		const tg_stmt **first;
		const char *kw;
		if (s->kind == TG_STMT_POLICY) {
			first = &first_policy;
			kw = "policy";
		} else if (s->kind == TG_STMT_DEFAULT) {
			first = &first_default;
			kw = "default";
		} else {
			continue;
		}
		if (!*first) {
			*first = s;
			continue;
		}
		tg_span at = {s->span.start, s->span.start + (uint32_t)strlen(kw)};
		if (at.end > s->span.end)
			at = s->span;
		tg_diag *d = tg_error(c->diags, at, "second '%s' statement", kw);
		if (d)
			tg_diag_hint(c->diags, d, "the first is on line %u",
				     tg_check_line(c, (*first)->span.start));
	}
}

/*
 * Rule names: the id, or BASE:LINE of the allow/deny keyword, or
 * BASE:LINE:COL when another unnamed rule's keyword is on the same line.
 * Rules are in source order, so unnamed rules sharing a line are
 * neighbours among the unnamed ones. Any name given twice is an error at
 * its second use.
 */
static void name_rules(tg_checker *c)
{
	tg_ast *ast = c->ast;
	const char *base = ast->base ? ast->base : "policy";
	size_t n = ast->nrules;
	if (!n)
		return;
	tg_linecol *lc = tg_check_alloc(c, n * sizeof *lc);
	if (!lc)
		return;
	/* One forward scan: rules are in source order, and a per-rule
	 * tg_source_linecol would make large files quadratic. */
	size_t pos = 0, line_start = 0;
	unsigned line = 1;
	for (size_t i = 0; i < n; i++) {
		size_t off = ast->rules[i]->effect_span.start;
		if (off > ast->len)
			off = ast->len;
		if (off < pos) {
			lc[i] = tg_source_linecol(ast->src, ast->len, off);
			continue;
		}
		for (; pos < off; pos++) {
			if (ast->src[pos] == '\n') {
				line++;
				line_start = pos + 1;
			}
		}
		lc[i].line = line;
		lc[i].col = (unsigned)(off - line_start + 1);
	}

	size_t prev = SIZE_MAX;		/* previous unnamed rule */
	for (size_t i = 0; i < n; i++) {
		tg_rule *r = ast->rules[i];
		if (r->has_id) {
			r->display_id = tg_arena_strndup(c->arena, r->id.s, r->id.len);
			if (!r->display_id) {
				tg_check_nomem(c);
				return;
			}
			continue;
		}
		bool shared = prev != SIZE_MAX && lc[prev].line == lc[i].line;
		for (size_t j = i + 1; !shared && j < n; j++) {
			if (ast->rules[j]->has_id)
				continue;
			shared = lc[j].line == lc[i].line;
			break;
		}
		r->display_id = shared ? tg_arena_printf(c->arena, "%s:%u:%u", base, lc[i].line, lc[i].col)
				       : tg_arena_printf(c->arena, "%s:%u", base, lc[i].line);
		if (!r->display_id) {
			tg_check_nomem(c);
			return;
		}
		prev = i;
	}

	tg_check_map ids = {0};
	for (size_t i = 0; i < n; i++) {
		tg_rule *r = ast->rules[i];
		size_t len = strlen(r->display_id);
		if (r->has_id)
			len = r->id.len;
		int first = tg_check_map_get(&ids, r->display_id, len);
		if (first < 0) {
			if (!tg_check_map_put(c, &ids, r->display_id, len, (int)i))
				return;
			continue;
		}
		const tg_rule *f = ast->rules[first];
		unsigned fline = tg_check_line(c, f->has_id ? f->id.span.start : f->effect_span.start);
		tg_diag *d;
		if (r->has_id) {
			d = tg_error(c->diags, r->id.span, "duplicate rule id '%s'",
				     tg_check_show(c, r->id.s, r->id.len));
			if (d)
				tg_diag_hint(c->diags, d, "first used on line %u", fline);
		} else {
			d = tg_error(c->diags, r->effect_span,
				     "rule name '%s' is already the id of the rule on line %u",
				     tg_check_show(c, r->display_id, len), fline);
			if (d)
				tg_diag_hint(c->diags, d, "give one of them another id");
		}
	}
}

bool tg_check(tg_ast *ast, tg_diags *diags)
{
	tg_checker c;
	memset(&c, 0, sizeof c);
	c.ast = ast;
	c.diags = diags;
	c.arena = diags->arena;
	size_t before = diags->nerrors + diags->dropped;

	ast->attrs = NULL;
	ast->nattrs = 0;

	/* Sweep 1: declarations. */
	tg_check_roles(&c);
	tg_check_sets(&c);
	tg_check_attr_decls(&c);
	check_singletons(&c);
	name_rules(&c);

	/* Sweep 2: statements in source order. */
	for (size_t i = 0; i < ast->nstmts && !c.oom; i++) {
		tg_stmt *s = &ast->stmts[i];
		if (s->kind == TG_STMT_ATTRIBUTE) {
			tg_check_attr_decl_bind(&c, s->u.attr);
		} else if (s->kind == TG_STMT_RULE) {
			tg_rule *r = s->u.rule;
			tg_check_subject(&c, &r->subject);
			tg_check_action(&c, &r->action);
			tg_check_rule_exprs(&c, r);
		}
	}
	return !c.oom && diags->nerrors + diags->dropped == before;
}
