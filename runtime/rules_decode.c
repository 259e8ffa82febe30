/*
 * rules_decode.c - rule records decoded at load time.
 *
 * So that evaluation reads native fields, the loader decodes every rule
 * record, with the held-role word and mask of a role subject, the lengths
 * of its subject strings, whether it has no condition at all (TRUE; RET,
 * which evaluation then does not run), the value its condition has in
 * visibility mode whatever the request (vis_const), and for a condition
 * that reads nothing a list entry sets, the first rule with the same code
 * (share_code). The candidate lists (cands.c) are built from these
 * records.
 */
#include "keytab.h"

#include <stdlib.h>

/*
 * What a rule's condition yields in visibility mode, when that does not
 * depend on the request: an abstract run of its code where `args` reads
 * are UNKNOWN (as vm.c makes them), constants are known, and anything
 * that could fail or whose value depends on the request ends the analysis
 * with "unknown" (0). Values: FALSE, TRUE, UNK (UNKNOWN), VAL (a known
 * non-bool constant), ANY (a bool or UNKNOWN, read from the request, never
 * an error). Jumps only go forward, so one pass follows the one path a
 * known value takes. Returns TG_COND_TRUE, _FALSE, _UNKNOWN or 0.
 */
enum { A_FALSE, A_TRUE, A_UNK, A_VAL, A_ANY };

static bool args_slot(const tg_layout *l, uint32_t slot)
{
	return l->slots[(size_t)slot * TG_BC_SLOT_SIZE] == TG_SLOT_ARGS;
}

static uint8_t vis_const(const tg_layout *l, const tg_rule_view *r)
{
	uint8_t st[TG_BC_MAX_STACK];
	unsigned sp = 0;
	uint32_t pc = r->code_off, end = r->code_off + r->code_len;

#define APUSH(v) do { if (sp >= TG_BC_MAX_STACK) return 0; st[sp++] = (v); } while (0)
#define APOP(x) do { if (sp == 0) return 0; (x) = st[--sp]; } while (0)
	while (pc < end) {
		unsigned op = l->code[pc], a, b;
		const unsigned char *o = l->code + pc + 1;
		if (op >= TG_OP_COUNT)
			return 0;
		pc += 1 + tg_operand_width(tg_opinfo_table[op].operand);
		switch (op) {
		case TG_OP_TRUE: APUSH(A_TRUE); break;
		case TG_OP_FALSE: APUSH(A_FALSE); break;
		case TG_OP_INT:
		case TG_OP_STR:
		case TG_OP_STRS:
		case TG_OP_INTS: APUSH(A_VAL); break;
		case TG_OP_LOAD:
		case TG_OP_LOAD_STR_CMP:
		case TG_OP_LOAD_INT_CMP:
			if (!args_slot(l, tg_rd32(o)))
				return 0;	/* may be absent, ill-typed: an error */
			APUSH(A_UNK);
			break;
		case TG_OP_LOAD_LOAD_CMP:
			if (!args_slot(l, tg_rd32(o)) || !args_slot(l, tg_rd32(o + 4)))
				return 0;
			APUSH(A_UNK);
			break;
		case TG_OP_HAS:
			APUSH(args_slot(l, tg_rd32(o)) ? A_UNK : A_ANY);
			break;
		case TG_OP_HASB:
		case TG_OP_IS: APUSH(A_ANY); break;
		case TG_OP_NOT:
			APOP(a);
			if (a == A_VAL)
				return 0;
			APUSH(a == A_FALSE ? A_TRUE : a == A_TRUE ? A_FALSE : a);
			break;
		case TG_OP_AND:
		case TG_OP_OR: {
			APOP(b);
			APOP(a);
			if (a == A_VAL || b == A_VAL)
				return 0;
			unsigned dom = op == TG_OP_OR ? A_TRUE : A_FALSE;
			APUSH(a == dom || b == dom ? dom
			      : a == A_ANY || b == A_ANY ? A_ANY
			      : a == A_UNK || b == A_UNK ? A_UNK : (dom == A_TRUE ? A_FALSE : A_TRUE));
			break;
		}
		case TG_OP_JFALSE:
		case TG_OP_JTRUE:
			if (sp == 0)
				return 0;
			a = st[sp - 1];
			if (a == A_ANY || a == A_VAL)
				return 0;	/* either path, or a type error */
			if (a == (op == TG_OP_JTRUE ? A_TRUE : A_FALSE))
				pc += tg_rd32(o);
			break;
		case TG_OP_LOAD_ARGS:	/* an args read: UNKNOWN, as vm.c makes it */
			APUSH(A_UNK);
			break;
		case TG_OP_CMP:
		case TG_OP_ALL:
		case TG_OP_ANY:
		case TG_OP_ALL_VALUES:
		case TG_OP_ANY_VALUES:
		case TG_OP_ADD:
		case TG_OP_SUB:
			APOP(b);
			APOP(a);
			if (a != A_UNK && b != A_UNK)
				return 0;
			APUSH(A_UNK);
			break;
		case TG_OP_LIKE:
		case TG_OP_UNDER:
		case TG_OP_ALL_LIKE:
		case TG_OP_ANY_LIKE:
		case TG_OP_ALL_UNDER:
		case TG_OP_ANY_UNDER:
		case TG_OP_MATCH:
		case TG_OP_ALL_MATCH:
		case TG_OP_ANY_MATCH:
		case TG_OP_ALL_VALUES_LIKE:
		case TG_OP_ANY_VALUES_LIKE:
		case TG_OP_ALL_VALUES_UNDER:
		case TG_OP_ANY_VALUES_UNDER:
		case TG_OP_ALL_VALUES_MATCH:
		case TG_OP_ANY_VALUES_MATCH:
			APOP(a);
			if (a != A_UNK)
				return 0;
			APUSH(A_UNK);
			break;
		case TG_OP_RET:
			APOP(a);
			return a == A_TRUE ? TG_COND_TRUE : a == A_FALSE ? TG_COND_FALSE
			       : a == A_UNK ? TG_COND_UNKNOWN : 0;
		default:	/* LOADB, LOADB_STR_CMP: may be undefined or absent */
			return 0;
		}
	}
	return 0;
#undef APUSH
#undef APOP
}

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
	struct tg_key *seen = calloc(nb, sizeof *seen);
	if (!seen)
		return TG_ENOMEM;
	for (uint32_t i = 0; i < l->nrules; i++) {
		tg_rule_view *r = &p->rv[i];
		if (r->same_code == TG_BC_NONE)
			continue;
		const char *code = (const char *)l->code + r->code_off;
		uint64_t h = tg_key_hash(0, 0, code, r->code_len);
		for (uint64_t k = h;; k++) {
			struct tg_key *e = &seen[k & (nb - 1)];
			if (e->h == 0) {
				*e = (struct tg_key){ h, code, r->code_len, i, 0, 0 };
				break;
			}
			if (e->h == h && e->len == r->code_len &&
			    tg_bytes_eq(e->key, code, r->code_len)) {
				r->same_code = e->first;
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
	p->rv = malloc((l->nrules ? l->nrules : 1) * sizeof *p->rv);
	if (!p->rv)
		return TG_ENOMEM;
	for (uint32_t i = 0; i < l->nrules; i++) {
		tg_rule_view *r = &p->rv[i];
		*r = tg_pol_rule(l, i);
		r->always = r->code_len == 2 && l->code[r->code_off] == TG_OP_TRUE &&
			    l->code[r->code_off + 1] == TG_OP_RET;
		r->vis = vis_const(l, r);
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
