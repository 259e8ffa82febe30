/*
 * lint_regex.c - `trivial-regex`: a `matches` pattern that accepts every
 * value or none, which makes its comparison a constant in disguise (`.*`
 * where a narrower pattern was meant, or a class that excludes itself).
 */
#include "lint_internal.h"
#include "regex.h"

static void check_pattern(tg_linter *l, const tg_rule *r, const tg_expr *lit)
{
	if (lit->kind != TG_E_STRING || !lit->dfa)
		return;
	bool none = tg_re_dfa_matches_nothing(lit->dfa);
	bool all = !none && tg_re_dfa_matches_all_utf8(lit->dfa);
	if (!none && !all)
		return;
	const char *shown = tg_lint_show(l, lit->u.str.s, lit->u.str.len);
	tg_diag *d = tg_lint_report(l, r->span.start, "trivial-regex", lit->span,
				    "regular expression \"%s\" matches %s", shown,
				    none ? "no string at all" : "every string");
	if (d)
		tg_diag_hint(l->diags, d, none ? "the comparison is always false; check the "
						 "classes and repetitions of the pattern"
					       : "the comparison is always true for a string; "
						 "write the shape the value must have");
}

static void walk(tg_linter *l, const tg_rule *r, const tg_expr *e)
{
	switch (e->kind) {
	case TG_E_OR:
	case TG_E_AND:
	case TG_E_ADD:
	case TG_E_SUB:
		walk(l, r, e->u.bin.lhs);
		walk(l, r, e->u.bin.rhs);
		break;
	case TG_E_NOT:
	case TG_E_PAREN:
		walk(l, r, e->u.operand);
		break;
	case TG_E_CMP:
		if (e->u.cmp.op == TG_CMP_MATCHES)
			check_pattern(l, r, e->u.cmp.rhs);
		break;
	case TG_E_QUANT:
		if (e->u.quant.op == TG_CMP_MATCHES)
			check_pattern(l, r, e->u.quant.value);
		break;
	default:
		break;
	}
}

void tg_lint_regexes(tg_linter *l)
{
	for (size_t i = 0; i < l->ast->nrules; i++) {
		const tg_rule *r = l->ast->rules[i];
		for (size_t k = 0; k < r->nwhen; k++)
			walk(l, r, r->when[k]);
		for (size_t k = 0; k < r->nunless; k++)
			walk(l, r, r->unless[k]);
	}
}
