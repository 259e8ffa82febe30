/*
 * lint.c - the linter's driver: the catalogue of lint ids, suppression
 * comments, and the reporting path every lint takes.
 *
 * Lints run on a tree that parsed and checked without errors, so every name
 * is bound and every expression typed. Each finding belongs to one statement
 * (a rule, a declaration, `default`): that statement is its "owner", and a
 * suppression comment written on the line(s) directly before the owner
 * silences it:
 *
 *   # toolgate: allow(shadowed-rule, deny-without-because) -- kept for audit
 *   rule "legacy": deny principal "bob" to do anything;
 *
 * Suppressions are parsed before any lint runs; a lint calls tg_lint_report,
 * which either consumes a matching suppression or adds the warning. What is
 * left over afterwards (a suppression nothing used) is itself reported, so
 * stale suppressions do not pile up. Lints never fire errors: a lint is
 * advice, and `check --strict` is how CI makes advice binding.
 */
#include "lint_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const tg_lint_info catalog[] = {
	{"shadowed-rule", "a rule is shadowed by an earlier rule of the same effect",
	 "An earlier rule with the same effect has no condition and covers this rule's subject "
	 "and action, so whenever this rule could apply the earlier one already decides: this "
	 "rule never decides anything."},
	{"overridden-allow", "an allow rule can never decide: an unconditional deny covers it",
	 "A deny rule without a condition covers this allow rule's subject and action. Deny wins "
	 "over allow wherever the rules stand, so this grant is dead."},
	{"over-broad-grant", "an unconditional allow for anyone, any tool or every method",
	 "An allow rule without a condition grants 'anyone', 'call any tool' or 'do anything'. "
	 "Least privilege asks for named subjects and targets, or a condition."},
	{"default-allow", "the policy allows every request no rule decides",
	 "'default allow' turns every gap in the rules into access. Deny by default and grant "
	 "with allow rules."},
	{"unused-role", "a role is declared but nothing names it",
	 "No rule, 'is' test or role parent list names this role, and it has no parents, so "
	 "holding it changes nothing."},
	{"unused-set", "a set is declared but no rule uses it",
	 "No rule names this set: it is dead code, or a rule was meant to use it and names "
	 "something else."},
	{"unused-attribute", "an attribute is declared but no condition reads it",
	 "No condition reads or tests this attribute, so its declared type and domain are never "
	 "checked."},
	{"duplicate-pattern", "a pattern repeats or is covered by another in the same set or rule",
	 "The pattern matches nothing the other pattern does not already match. Remove it, or "
	 "fix it if it was meant to say something else."},
	{"undeclared-attribute", "a condition reads an attribute that is not declared",
	 "An undeclared attribute has no static type, so a mistyped request value is only caught "
	 "when the rule runs, and a typo in its name is never caught."},
	{"deny-without-because", "a deny rule has no 'because'",
	 "The reason is what a denied caller and the audit log see. Without it a denial names "
	 "only the rule."},
	{"missing-rule-id", "a rule has no id in a policy that names its other rules",
	 "An unnamed rule is called FILE:LINE in decisions and audit records, a name that changes "
	 "whenever lines above it move."},
	{"deny-inherited-role", "a deny on a role also reaches the roles that inherit it",
	 "Denying a role denies every role that inherits it. When the rule does not name those "
	 "roles, the reach is easy to miss."},
	{"deny-reads-method-path", "a deny over every method reads a path defined for only one",
	 "tool.*, resource.uri and prompt.name exist only for their own methods; reading them "
	 "for any other method is an error, and an error makes a deny apply, so the rule denies "
	 "every other method it covers."},
	{"unreachable-path", "a condition reads a path its action never defines",
	 "tool.*, resource.uri and prompt.name exist only for their own methods. The rule's "
	 "action matches none of them, so every read of the path is an error: an allow never "
	 "applies through it, a deny applies to everything it matches."},
	{"missing-list-grant", "tools, resources or prompts are granted but never listable",
	 "An allow rule grants tools/call (resources/read, prompts/get), but no rule can allow "
	 "the matching list method, so a client's tools/list (resources/list, prompts/list) is "
	 "denied before it shows a single entry."},
	{"contradictory-condition", "comparisons joined by 'and' can never all hold",
	 "Two comparisons of the same attribute in one 'and' chain contradict each other, so the "
	 "chain is never true."},
	{"trivial-regex", "a regular expression matches every string or none",
	 "A 'matches' pattern that accepts every string makes its comparison true for any "
	 "string value, and one that accepts none makes it always false: either way the "
	 "pattern does not check the shape it was written for."},
	{"suppression-without-reason", "a suppression comment gives no reason",
	 "A suppression says a finding is intended; the reason after '--' says why, for the next "
	 "reader."},
	{"invalid-suppression", "a 'toolgate:' comment is malformed or names an unknown lint",
	 "A suppression that cannot be read silences nothing."},
	{"unused-suppression", "a suppression comment silences nothing",
	 "The lint it names no longer fires on the statement below it (or there is no statement "
	 "directly below it). Remove it."},
};

const tg_lint_info *tg_lint_catalog(size_t *n)
{
	*n = sizeof catalog / sizeof catalog[0];
	return catalog;
}

static const tg_lint_info *find_lint(const char *id, size_t len)
{
	for (size_t i = 0; i < sizeof catalog / sizeof catalog[0]; i++)
		if (strlen(catalog[i].id) == len && memcmp(catalog[i].id, id, len) == 0)
			return &catalog[i];
	return NULL;
}

/* ---- helpers for the lint families ------------------------------------- */

const char *tg_lint_show(tg_linter *l, const char *s, size_t len)
{
	const char *shown = tg_diag_show(l->arena, s, len);
	if (!shown) {
		l->oom = true;
		return "?";
	}
	return shown;
}

const char *tg_lint_rule_name(const tg_rule *r)
{
	return r->display_id ? r->display_id : "?";
}

tg_span tg_lint_rule_span(const tg_rule *r)
{
	return r->has_id ? r->id.span : r->effect_span;
}

unsigned tg_lint_line(const tg_linter *l, uint32_t offset)
{
	return tg_source_linecol(l->ast->src, l->ast->len, offset).line;
}

static void walk(tg_linter *l, const tg_rule *r, const tg_expr *e, tg_lint_expr_fn fn, void *arg)
{
	if (!e)
		return;
	fn(l, r, e, arg);
	switch (e->kind) {
	case TG_E_OR:
	case TG_E_AND:
	case TG_E_ADD:
	case TG_E_SUB:
		walk(l, r, e->u.bin.lhs, fn, arg);
		walk(l, r, e->u.bin.rhs, fn, arg);
		break;
	case TG_E_NOT:
	case TG_E_PAREN:
		walk(l, r, e->u.operand, fn, arg);
		break;
	case TG_E_CMP:
		walk(l, r, e->u.cmp.lhs, fn, arg);
		walk(l, r, e->u.cmp.rhs, fn, arg);
		break;
	case TG_E_QUANT:
		walk(l, r, e->u.quant.list, fn, arg);
		walk(l, r, e->u.quant.value, fn, arg);
		break;
	case TG_E_LIST:
		for (size_t i = 0; i < e->u.list.n; i++)
			walk(l, r, e->u.list.items[i], fn, arg);
		break;
	case TG_E_SET:
		if (e->u.set.list)
			walk(l, r, e->u.set.list, fn, arg);
		break;
	default:
		break;
	}
}

void tg_lint_walk_rule(tg_linter *l, const tg_rule *r, tg_lint_expr_fn fn, void *arg)
{
	for (size_t i = 0; i < r->nwhen; i++)
		walk(l, r, r->when[i], fn, arg);
	for (size_t i = 0; i < r->nunless; i++)
		walk(l, r, r->unless[i], fn, arg);
}

/* ---- glob coverage ------------------------------------------------------ */

static bool is_meta(char c)
{
	return c == '*' || c == '?' || c == '\\';
}

/*
 * Only two shapes are decided, both exactly: identical globs, and a wide glob
 * that is a literal prefix P followed by one run of stars. P** matches every
 * string starting with P, so it covers any narrow glob whose own literal
 * prefix starts with P. P* stops at '/', so it covers a narrow glob starting
 * with P whose rest can produce no '/': no '/' byte, no `**`, no escape (an
 * escape could spell '/'). Everything else answers "not known", which the
 * lints read as "not covered": a missed finding, never a false one.
 */
bool tg_lint_glob_covers(const char *wide, size_t wlen, const char *narrow, size_t nlen)
{
	if (wlen == nlen && memcmp(wide, narrow, wlen) == 0)
		return true;
	size_t p = 0;
	while (p < wlen && !is_meta(wide[p]))
		p++;
	size_t stars = wlen - p;
	if (stars == 0)
		return false;
	for (size_t i = p; i < wlen; i++)
		if (wide[i] != '*')
			return false;
	if (nlen < p || memcmp(wide, narrow, p) != 0)
		return false;
	if (stars >= 2)
		return true;
	for (size_t i = p; i < nlen; i++) {
		if (narrow[i] == '/' || narrow[i] == '\\')
			return false;
		if (narrow[i] == '*' && i + 1 < nlen && narrow[i + 1] == '*')
			return false;
	}
	return true;
}

/* ---- suppressions ------------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool is_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* The statement starting at `pos`, found by binary search over the
 * statements (in source order); UINT32_MAX when none starts there. */
static uint32_t stmt_at(const tg_ast *ast, size_t pos)
{
	size_t lo = 0, hi = ast->nstmts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ast->stmts[mid].span.start < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ast->nstmts && ast->stmts[lo].span.start == pos)
		return (uint32_t)pos;
	return UINT32_MAX;
}

/* A suppression applies to the statement that starts the first line after
 * it that is not a comment line; a blank line in between breaks the link. */
static uint32_t supp_target(const tg_ast *ast, size_t end)
{
	const char *s = ast->src;
	size_t n = ast->len, i = end;
	for (;;) {
		while (i < n && s[i] != '\n')
			i++;
		if (i >= n)
			return UINT32_MAX;
		i++;
		while (i < n && is_space(s[i]))
			i++;
		if (i >= n || s[i] == '\n')
			return UINT32_MAX;
		if (s[i] == '#' || (s[i] == '/' && i + 1 < n && s[i + 1] == '/'))
			continue;
		return stmt_at(ast, i);
	}
}

static bool add_supp(tg_linter *l, const char *id, size_t len, tg_span span, uint32_t target)
{
	if (tg_arena_grow(l->arena, (void **)&l->supps, &l->suppcap, l->nsupps + 1,
			  sizeof *l->supps) < 0) {
		l->oom = true;
		return false;
	}
	tg_lint_supp *s = &l->supps[l->nsupps++];
	s->id = id;
	s->idlen = len;
	s->span = span;
	s->target = target;
	s->used = false;
	return true;
}

static void suggest_lint(tg_linter *l, tg_diag *d, const char *id, size_t len)
{
	const char *names[sizeof catalog / sizeof catalog[0]];
	for (size_t i = 0; i < sizeof catalog / sizeof catalog[0]; i++)
		names[i] = catalog[i].id;
	const char *best = tg_suggest(id, len, names, sizeof catalog / sizeof catalog[0]);
	if (best)
		tg_diag_hint(l->diags, d, "did you mean '%s'?", best);
}

static tg_span span_of(size_t start, size_t end)
{
	tg_span sp = {(uint32_t)start, (uint32_t)end};
	return sp;
}

/* Adds msg (NULL: formatting it ran out of memory) as the warning `id`.
 * Findings about the suppressions themselves call it directly: they have no
 * owner to be suppressed by. */
static tg_diag *lint_warn(tg_linter *l, const char *id, tg_span span, const char *msg)
{
	if (!msg) {
		l->oom = true;
		return NULL;
	}
	tg_diag *d = tg_warning(l->diags, span, "%s", msg);
	if (d)
		d->id = id;
	return d;
}

static void parse_comment(tg_linter *l, const tg_comment *c)
{
	const char *s = l->ast->src;
	size_t i = c->span.start, end = c->span.end;
	if (end > l->ast->len)
		return;
	i += s[i] == '#' ? 1 : 2;
	while (i < end && is_space(s[i]))
		i++;
	static const char tag[] = "toolgate:";
	if (end - i < sizeof tag - 1 || memcmp(s + i, tag, sizeof tag - 1) != 0)
		return;
	i += sizeof tag - 1;

	/* Only a comment alone on its line can stand before a statement. */
	size_t ls = c->span.start;
	while (ls > 0 && s[ls - 1] != '\n')
		ls--;
	bool alone = true;
	for (size_t k = ls; k < c->span.start; k++)
		alone = alone && is_space(s[k]);
	if (!alone) {
		lint_warn(l, "invalid-suppression", c->span,
			  "a suppression comment must stand on its own line");
		return;
	}

	while (i < end && is_space(s[i]))
		i++;
	if (end - i < 6 || memcmp(s + i, "allow(", 6) != 0) {
		lint_warn(l, "invalid-suppression", c->span,
			  "malformed suppression: expected 'toolgate: allow(LINT-ID) -- REASON'");
		return;
	}
	i += 6;
	uint32_t target = supp_target(l->ast, end);
	size_t first = l->nsupps;
	for (;;) {
		while (i < end && is_space(s[i]))
			i++;
		size_t id = i;
		while (i < end && is_id_char(s[i]))
			i++;
		if (i == id)
			goto malformed;
		if (!find_lint(s + id, i - id)) {
			tg_diag *d = lint_warn(l, "invalid-suppression", span_of(id, i),
					       tg_arena_printf(l->arena, "unknown lint id '%s'",
							       tg_lint_show(l, s + id, i - id)));
			suggest_lint(l, d, s + id, i - id);
		} else if (!add_supp(l, s + id, i - id, span_of(id, i), target)) {
			return;
		}
		while (i < end && is_space(s[i]))
			i++;
		if (i < end && s[i] == ',') {
			i++;
			continue;
		}
		if (i < end && s[i] == ')') {
			i++;
			break;
		}
		goto malformed;
	}
	while (i < end && is_space(s[i]))
		i++;
	/* Text after the ids must start with "--"; nothing there, or nothing
	 * after the "--", is a missing reason. */
	if (i < end) {
		if (end - i < 2 || memcmp(s + i, "--", 2) != 0)
			goto malformed;
		i += 2;
		while (i < end && is_space(s[i]))
			i++;
	}
	if (i == end) {
		tg_diag *d = lint_warn(l, "suppression-without-reason", c->span,
				       "suppression without a reason");
		tg_diag_hint(l->diags, d, "say why after '--': # toolgate: allow(ID) -- REASON");
	}
	return;
malformed:
	l->nsupps = first;
	lint_warn(l, "invalid-suppression", c->span,
		  "malformed suppression: expected 'toolgate: allow(LINT-ID) -- REASON'");
}

/* ---- reporting ---------------------------------------------------------- */

tg_diag *tg_lint_report(tg_linter *l, uint32_t owner, const char *id, tg_span span,
			const char *fmt, ...)
{
	bool suppressed = false;
	size_t idlen = strlen(id);
	for (size_t i = 0; i < l->nsupps; i++) {
		tg_lint_supp *s = &l->supps[i];
		if (s->target == owner && s->idlen == idlen && memcmp(s->id, id, idlen) == 0) {
			s->used = true;
			suppressed = true;
		}
	}
	if (suppressed)
		return NULL;

	va_list ap;
	va_start(ap, fmt);
	char *msg = tg_arena_vprintf(l->arena, fmt, ap);
	va_end(ap);
	return lint_warn(l, id, span, msg);
}

bool tg_lint(const tg_ast *ast, tg_diags *diags)
{
	tg_linter l;
	memset(&l, 0, sizeof l);
	l.ast = ast;
	l.diags = diags;
	l.arena = diags->arena;
	size_t before = diags->n;

	for (size_t i = 0; i < ast->ncomments; i++)
		parse_comment(&l, &ast->comments[i]);

	tg_lint_rules(&l);
	tg_lint_patterns(&l);
	tg_lint_decls(&l);
	tg_lint_conditions(&l);
	tg_lint_regexes(&l);

	for (size_t i = 0; i < l.nsupps; i++) {
		const tg_lint_supp *s = &l.supps[i];
		if (s->used)
			continue;
		const char *what = tg_lint_show(&l, s->id, s->idlen);
		if (s->target == UINT32_MAX)
			lint_warn(&l, "unused-suppression", s->span,
				  tg_arena_printf(l.arena, "suppression of '%s' does not stand "
						  "directly before a statement", what));
		else
			lint_warn(&l, "unused-suppression", s->span,
				  tg_arena_printf(l.arena, "unused suppression: '%s' does not fire "
						  "on the statement below", what));
	}
	if (l.oom)
		diags->oom = true;
	return diags->n == before;
}
