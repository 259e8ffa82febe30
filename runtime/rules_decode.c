/*
 * rules_decode.c - rule records decoded at load time.
 *
 * So that evaluation reads native fields, the loader decodes every rule
 * record, with the held-role word and mask of a role subject, the lengths
 * of its subject strings, whether it has no condition at all (TRUE; RET,
 * which evaluation then does not run), and for a condition that reads
 * nothing a list entry sets, the first rule with the same code
 * (share_code). The candidate lists (cands.c) are built from these
 * records.
 */
#include "keytab.h"

#include <stdlib.h>

/* What r's instructions read of what a list entry sets: 0 something the
 * entry names (tool.name, tool.server, resource.uri, prompt.name,
 * request.method), 1 nothing, 2 tool annotation hints only - which take
 * a handful of values over a list, so such a condition is remembered per
 * (class, hints) rather than once. */
static int entry_free(const tg_layout *l, const tg_rule_view *r)
{
	int res = 1;
	for (uint32_t pc = r->code_off, end = r->code_off + r->code_len; pc < end;) {
		unsigned op = l->code[pc];
		if (op >= TG_OP_COUNT)
			return 0;
		if (op == TG_OP_LOADB || op == TG_OP_HASB || op == TG_OP_LOADB_STR_CMP) {
			unsigned bi = l->code[pc + 1];
			if (bi >= TG_BI_TOOL_READ_ONLY && bi <= TG_BI_TOOL_OPEN_WORLD)
				res = 2;
			else if (bi != TG_BI_PRINCIPAL_ID && bi != TG_BI_PRINCIPAL_ROLES &&
				 bi != TG_BI_TOKEN_SCOPES)
				return 0;
		}
		pc += 1 + tg_operand_width(tg_opinfo_table[op].operand);
	}
	return res;
}

/*
 * For rules whose condition reads nothing an entry sets: the first rule
 * whose code is byte for byte the same. Same bytes name the same slots,
 * strings and patterns, so such rules have the same value for one
 * requester, and a list remembers it once for all of them: generated
 * policies repeat `context.environment == "prod" unless context.mfa`
 * under a thousand tool names.
 */
static tg_status share_code(tg_policy *p)
{
	tg_layout *l = &p->l;
	uint32_t nb = 16;
	while (nb < 2 * (uint64_t)l->nrules)
		nb *= 2;
	struct code_key {
		uint64_t h;	/* 0: empty */
		const char *code;
		uint32_t len, rule;
	} *seen = calloc(nb, sizeof *seen);
	if (!seen)
		return TG_ENOMEM;
	for (uint32_t i = 0; i < l->nrules; i++) {
		tg_rule_view *r = &p->rv[i];
		if (r->same_code == TG_BC_NONE)
			continue;
		const char *code = (const char *)l->code + r->code_off;
		uint64_t h = tg_key_hash(0, 0, code, r->code_len);
		for (uint64_t k = h;; k++) {
			struct code_key *e = &seen[k & (nb - 1)];
			if (e->h == 0) {
				*e = (struct code_key){ h, code, r->code_len, i };
				break;
			}
			if (e->h == h && e->len == r->code_len &&
			    tg_bytes_eq(e->code, code, r->code_len)) {
				r->same_code = e->rule;
				break;
			}
		}
	}
	free(seen);
	return TG_OK;
}

tg_status tg_rules_decode(tg_policy *p)
{
	tg_layout *l = &p->l;
	p->rv = aligned_alloc(64, (l->nrules ? l->nrules : 1) * sizeof *p->rv);
	if (!p->rv)
		return TG_ENOMEM;
	for (uint32_t i = 0; i < l->nrules; i++) {
		tg_rule_view *r = &p->rv[i];
		*r = tg_pol_rule(l, i);
		r->id_at = tg_pol_str_at(l, tg_pol_rule_id(l, i));
		r->reason_at = tg_pol_str_at(l, tg_pol_rule_reason(l, i));
		r->always = r->code_len == 2 && l->code[r->code_off] == TG_OP_TRUE &&
			    l->code[r->code_off + 1] == TG_OP_RET;
		int ef = entry_free(l, r);
		r->same_code = ef ? i : TG_BC_NONE;
		r->hint_code = ef == 2;
		if (r->subject != TG_BC_SUBJ_ROLE) {
			r->subj_lens = 0;
			for (uint32_t k = 0; k < r->subj_n; k++)
				r->subj_lens |= (uint64_t)1
						<< (tg_pol_str(l, tg_pol_ref(l, r->subj_first + k)).len % 64);
			continue;
		}
		if (r->subj_n == 0)
			continue;
		uint32_t word = tg_pol_ref(l, r->subj_first) / 64;
		uint64_t mask = 0;
		for (uint32_t k = 0; k < r->subj_n && word != TG_BC_NONE; k++) {
			uint32_t role = tg_pol_ref(l, r->subj_first + k);
			if (role / 64 == word)
				mask |= (uint64_t)1 << (role % 64);
			else
				word = TG_BC_NONE;
		}
		if (word != TG_BC_NONE) {
			r->role_word = word;
			r->role_mask = mask;
		}
	}
	l->rv = p->rv;
	return share_code(p);
}
