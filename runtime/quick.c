/*
 * quick.c - conditions translated at load into quick programs (vm.h has
 * the model; vm.c runs them).
 *
 * Two steps. First the code becomes a linear program, one entry per
 * instruction or group: a rule is translated when every instruction is
 * one this file knows - TRUE, FALSE, IS, HAS, HASB, NOT, AND, OR,
 * JFALSE, JTRUE, RET, the fused comparisons, a LOAD of a bool slot, a
 * LOADB of a bool built-in, and the groups LOAD|LOADB then LIKE|UNDER
 * and LOAD, STRS|INTS, CMP (one test each, so no jump may land inside
 * one). Anything else - arithmetic, ALL/ANY, a CMP of two computed values,
 * a stack deeper than TG_Q_MAX_DEPTH - leaves the rule to the
 * interpreter. Then the linear program is run symbolically: from each
 * test, for each outcome, the bool-stack instructions are followed to the
 * next test or to RET, counting instructions. A node is a test at a given
 * stack state, so a condition of N tests has about N nodes; past
 * TG_Q_MAX_NODES the rule stays with the interpreter. A rule that reads
 * `args` gets the UNKNOWN edges of visibility mode too (vm.h): its tests of
 * `args` alone have a third outcome, and the stack holds Kleene values;
 * when that graph is too large, the rule keeps the graph of the normal
 * mode and the interpreter decides its visibility.
 *
 * The code was verified: operands are in bounds, jumps go forward to
 * instruction starts and the stack never underflows; the checks here only
 * decide whether a rule is translated.
 */
#include "vm.h"

#include <stdlib.h>

/* Bytecode instructions a condition may have to be translated. */
#define MAX_INSNS 64

/* The request value type a slot's declared type admits; for an
 * undeclared (TG_ATTR_ANY) slot, what the reading instruction wants. */
static uint8_t slot_vt(const tg_layout *l, uint32_t slot, uint8_t if_any)
{
	static const uint8_t of_type[TG_BC_TYPE_LAST + 1] = {
		[TG_ATTR_ANY] = TG_VALUE_ABSENT,
		[TG_ATTR_STRING] = TG_VALUE_STRING,
		[TG_ATTR_INT] = TG_VALUE_INT,
		[TG_ATTR_BOOL] = TG_VALUE_BOOL,
		[TG_ATTR_STRING_LIST] = TG_VALUE_STRING_LIST,
		[TG_ATTR_INT_LIST] = TG_VALUE_INT_LIST,
	};
	unsigned type = l->slots[(size_t)slot * TG_BC_SLOT_SIZE + 1];
	if (type > TG_BC_TYPE_LAST)
		return TG_VALUE_ABSENT;
	return type == TG_ATTR_ANY ? if_any : of_type[type];
}

static bool slot_args(const tg_layout *l, uint32_t slot)
{
	return l->slots[(size_t)slot * TG_BC_SLOT_SIZE] == TG_SLOT_ARGS;
}

/* q reads slot a (vt: what it must hold; 0 refuses the rule). */
static bool set_slot(const tg_layout *l, tg_qinsn *q, uint32_t a, uint8_t if_any, bool *args)
{
	q->a = a;
	q->vt = slot_vt(l, a, if_any);
	q->dom = tg_rd32(l->slots + (size_t)a * TG_BC_SLOT_SIZE + 20) != 0;	/* a domain */
	q->args = slot_args(l, a) ? TG_Q_ARGS_ONLY : TG_Q_ARGS_NONE;
	*args |= slot_args(l, a);
	return q->vt != TG_VALUE_ABSENT;
}

/* A string constant as pointer and length. */
static void set_str(const tg_layout *l, tg_qinsn *q, uint32_t str)
{
	tg_str s = tg_pol_str(l, str);
	q->u.s = s.ptr;
	q->b = (uint32_t)s.len;
}

/* Whether op tests a string or a list of strings against a glob, a
 * directory or a DFA: LIKE, UNDER, MATCH and their ALL_/ANY_ forms. */
static bool is_match(unsigned op)
{
	return op == TG_OP_LIKE || op == TG_OP_UNDER || op == TG_OP_MATCH ||
	       op == TG_OP_ALL_LIKE || op == TG_OP_ANY_LIKE || op == TG_OP_ALL_UNDER ||
	       op == TG_OP_ANY_UNDER || op == TG_OP_ALL_MATCH || op == TG_OP_ANY_MATCH;
}

/* LOAD|LOADB then a matching op (is_match; o its operand) as one quick
 * instruction; x->a names the value already. */
static void set_match(tg_qinsn *x, unsigned op, const unsigned char *o)
{
	bool like = op == TG_OP_LIKE || op == TG_OP_ALL_LIKE || op == TG_OP_ANY_LIKE;
	bool match = op == TG_OP_MATCH || op == TG_OP_ALL_MATCH || op == TG_OP_ANY_MATCH;
	x->op = like ? TG_Q_LIKE : match ? TG_Q_MATCH : TG_Q_UNDER;
	x->quant = op == TG_OP_ALL_LIKE || op == TG_OP_ALL_UNDER || op == TG_OP_ALL_MATCH ? TG_Q_ALL
		   : op == TG_OP_ANY_LIKE || op == TG_OP_ANY_UNDER || op == TG_OP_ANY_MATCH
		       ? TG_Q_ANY
		       : 0;
	x->count = 2;
	x->c = tg_rd32(o);	/* the pattern, the directory string or the DFA */
}

/* The value type an undeclared slot compared with a constant of the
 * comparison's kind must hold: a string or an int. */
static uint8_t scalar_vt(bool is_int)
{
	return is_int ? TG_VALUE_INT : TG_VALUE_STRING;
}

/*
 * Translates rule r's code into the linear program q[0..) and returns its
 * length, or 0 when the rule stays with the interpreter. Jumps hold the
 * index of their target in q.
 */
static uint32_t linear(const tg_layout *l, const tg_rule_view *r, tg_qinsn *q, bool *args)
{
	uint32_t pc_of[MAX_INSNS + 1], n = 0, nq = 0;
	uint32_t qi_of[MAX_INSNS];	/* quick index of a group's first instruction */
	uint32_t first_of[MAX_INSNS];	/* first instruction of a quick one */
	bool target[MAX_INSNS] = { false };
	uint32_t end = r->code_off + r->code_len;

	for (uint32_t pc = r->code_off; pc < end; n++) {
		if (n == MAX_INSNS || l->code[pc] >= TG_OP_COUNT)
			return 0;
		pc_of[n] = pc;
		pc += 1 + tg_operand_width(tg_opinfo_table[l->code[pc]].operand);
	}
	pc_of[n] = end;
	if (n == 0 || l->code[pc_of[n - 1]] != TG_OP_RET)
		return 0;
	/* Mark jump targets (instruction indices). */
	for (uint32_t i = 0; i < n; i++) {
		unsigned op = l->code[pc_of[i]];
		if (op != TG_OP_JFALSE && op != TG_OP_JTRUE)
			continue;
		uint32_t to = pc_of[i + 1] + tg_rd32(l->code + pc_of[i] + 1), k = i + 1;
		while (k < n && pc_of[k] < to)
			k++;
		if (k >= n || pc_of[k] != to)
			return 0;
		target[k] = true;
	}

	*args = false;
	unsigned depth = 0;
	for (uint32_t i = 0; i < n; nq++) {
		const unsigned char *o = l->code + pc_of[i] + 1;
		unsigned op = l->code[pc_of[i]];
		unsigned next = i + 1 < n && !target[i + 1] ? l->code[pc_of[i + 1]] : TG_OP_COUNT;
		tg_qinsn *x = &q[nq];
		int effect = 1;		/* on the bool stack */
		unsigned need = 0;	/* bools it takes from the stack */

		memset(x, 0, sizeof *x);
		x->count = 1;
		qi_of[i] = nq;
		first_of[nq] = i;
		switch (op) {
		case TG_OP_RET:
			x->op = TG_Q_RET;
			effect = -1;
			need = 1;
			break;
		case TG_OP_TRUE:
		case TG_OP_FALSE:
			x->op = TG_Q_CONST;
			x->cmp = op == TG_OP_TRUE;
			break;
		case TG_OP_IS: {
			uint32_t role = tg_rd32(o);
			if (role >= TG_BC_MAX_ROLES)
				return 0;
			x->op = TG_Q_IS;
			x->a = role / 64;
			x->u.mask = (uint64_t)1 << (role % 64);
			break;
		}
		case TG_OP_HAS:
			x->op = TG_Q_HAS;
			x->a = tg_rd32(o);
			x->args = slot_args(l, x->a) ? TG_Q_ARGS_ONLY : TG_Q_ARGS_NONE;
			*args |= slot_args(l, x->a);
			break;
		case TG_OP_HASB:
		case TG_OP_LOADB:
			x->op = op == TG_OP_HASB ? TG_Q_HASB : TG_Q_BOOLB;
			x->a = o[0];
			if (op == TG_OP_LOADB && is_match(next)) {
				x->builtin = true;
				set_match(x, next, l->code + pc_of[++i] + 1);
			}
			break;
		case TG_OP_NOT:
			x->op = TG_Q_NOT;
			effect = 0;
			need = 1;
			break;
		case TG_OP_AND:
		case TG_OP_OR:
			x->op = op == TG_OP_AND ? TG_Q_AND : TG_Q_OR;
			effect = -1;
			need = 2;
			break;
		case TG_OP_JFALSE:
		case TG_OP_JTRUE:
			x->op = op == TG_OP_JFALSE ? TG_Q_JFALSE : TG_Q_JTRUE;
			effect = 0;
			need = 1;
			break;
		case TG_OP_LOAD_STR_CMP:
			x->op = TG_Q_STR;
			x->cmp = o[8];
			if (!set_slot(l, x, tg_rd32(o), scalar_vt(false), args))
				return 0;
			set_str(l, x, tg_rd32(o + 4));
			/* dom2: the constant is one of the slot's declared values */
			const unsigned char *sr = l->slots + (size_t)x->a * TG_BC_SLOT_SIZE;
			for (uint32_t k = tg_rd32(sr + 16), e = k + tg_rd32(sr + 20); x->dom && k < e; k++) {
				tg_str d = tg_pol_str(l, tg_pol_ref(l, k));
				x->dom2 |= d.len == x->b && memcmp(d.ptr, x->u.s, d.len) == 0;
			}
			break;
		case TG_OP_LOAD_INT_CMP:
			x->op = TG_Q_INT;
			x->cmp = o[12];
			if (!set_slot(l, x, tg_rd32(o), scalar_vt(true), args))
				return 0;
			x->u.k = (int64_t)tg_rd64(o + 4);
			break;
		case TG_OP_LOAD_LOAD_CMP: {
			uint32_t b = tg_rd32(o + 4);
			x->op = TG_Q_SLOTS;
			x->cmp = o[8];
			/* two undeclared slots: no one type to ask of them */
			if (!set_slot(l, x, b, TG_VALUE_ABSENT, args))
				return 0;
			x->b = b;
			x->vt2 = x->vt;
			x->dom2 = x->dom;
			uint8_t args_b = x->args;
			if (!set_slot(l, x, tg_rd32(o), TG_VALUE_ABSENT, args))
				return 0;
			if (x->args != args_b)
				x->args = TG_Q_ARGS_MIXED;
			break;
		}
		case TG_OP_LOADB_STR_CMP:
			x->op = TG_Q_STRB;
			x->a = o[0];
			x->cmp = o[5];
			set_str(l, x, tg_rd32(o + 1));
			break;
		case TG_OP_LOAD: {
			uint32_t slot = tg_rd32(o);
			unsigned after = i + 2 < n && !target[i + 2] ? l->code[pc_of[i + 2]] : TG_OP_COUNT;
			if ((next == TG_OP_STRS || next == TG_OP_INTS) &&
			    (after == TG_OP_CMP || after == TG_OP_ALL || after == TG_OP_ANY)) {
				const unsigned char *lo = l->code + pc_of[i + 1] + 1;
				x->op = TG_Q_LIST;
				x->is_ints = next == TG_OP_INTS;
				x->quant = after == TG_OP_ALL ? TG_Q_ALL : after == TG_OP_ANY ? TG_Q_ANY : 0;
				x->c = tg_rd32(lo);
				x->b = tg_rd32(lo + 4);
				x->cmp = l->code[pc_of[i + 2] + 1];
				x->count = 3;
				i += 2;
				/* an undeclared slot: a scalar, or for all/any a list of
				 * the constant list's element type */
				uint8_t want = x->quant ? (x->is_ints ? TG_VALUE_INT_LIST : TG_VALUE_STRING_LIST)
							: scalar_vt(x->is_ints);
				if (!set_slot(l, x, slot, want, args))
					return 0;
				break;
			}
			if (is_match(next)) {
				bool quant = next != TG_OP_LIKE && next != TG_OP_UNDER &&
					     next != TG_OP_MATCH;
				if (!set_slot(l, x, slot, quant ? TG_VALUE_STRING_LIST : TG_VALUE_STRING,
					      args))
					return 0;
				set_match(x, next, l->code + pc_of[++i] + 1);
				break;
			}
			x->op = TG_Q_BOOL;
			if (!set_slot(l, x, slot, TG_VALUE_BOOL, args) || x->vt != TG_VALUE_BOOL)
				return 0;
			break;
		}
		default:
			return 0;
		}
		if (depth < need)
			return 0;
		depth = (unsigned)((int)depth + effect);
		if (depth > TG_Q_MAX_DEPTH)
			return 0;
		i++;
	}
	if (depth != 0)
		return 0;
	/* Jumps: from instruction indices to quick indices. */
	for (uint32_t k = 0; k < nq; k++) {
		if (q[k].op != TG_Q_JFALSE && q[k].op != TG_Q_JTRUE)
			continue;
		uint32_t i = first_of[k], t = i + 1;
		uint32_t to = pc_of[i + 1] + tg_rd32(l->code + pc_of[i] + 1);
		while (pc_of[t] < to)
			t++;
		q[k].a = qi_of[t];
	}
	return nq;
}

/* ---- the decision graph ------------------------------------------------ */

/*
 * A stack state: element i is bit i of bits, or UNKNOWN when bit i of unk
 * is set (its bit in bits then 0), for depth elements.
 */
typedef struct graph {
	const tg_qinsn *lin;	/* the linear program */
	tg_qinsn *node;		/* node[0] is the entry */
	uint32_t nnodes;
	bool full;		/* more than TG_Q_MAX_NODES */
	bool unknown;		/* with the UNKNOWN edges of visibility mode */
	struct {
		uint32_t at, depth, bits, unk;
	} state[TG_Q_MAX_NODES];
} graph;

static uint16_t test_node(graph *g, uint32_t at, uint32_t bits, uint32_t unk, uint32_t depth);

/*
 * Follows the linear program from entry `at` with the stack (bits, unk;
 * depth elements) through the instructions that only move bools, to a
 * test or RET: the node of that test (or TG_Q_FALSE / TG_Q_TRUE /
 * TG_Q_UNKNOWN for RET), adding the instructions passed to *cnt. UNKNOWN
 * goes as in tg_vm_run: NOT keeps it, AND and OR give their dominant value
 * (false, true) if either side has it and else UNKNOWN if either side is,
 * a jump on it is not taken.
 */
static uint16_t follow(graph *g, uint32_t at, uint32_t bits, uint32_t unk, uint32_t depth,
		       unsigned *cnt)
{
	for (;;) {
		const tg_qinsn *x = &g->lin[at];
		uint32_t top = depth ? (bits >> (depth - 1)) & 1 : 0;
		uint32_t top_unk = depth ? (unk >> (depth - 1)) & 1 : 0;
		if (x->op < TG_Q_TESTS && x->op != TG_Q_CONST)
			return test_node(g, at, bits, unk, depth);
		*cnt += x->count;
		at++;
		switch (x->op) {
		case TG_Q_CONST:
			bits = (bits & ~(1u << depth)) | (uint32_t)x->cmp << depth;
			unk &= ~(1u << depth);
			depth++;
			break;
		case TG_Q_NOT:
			bits ^= (top_unk ^ 1u) << (depth - 1);
			break;
		case TG_Q_AND:
		case TG_Q_OR: {
			uint32_t dom = x->op == TG_Q_OR;
			uint32_t a = (bits >> (depth - 2)) & 1, a_unk = (unk >> (depth - 2)) & 1;
			uint32_t wins = (!a_unk && a == dom) || (!top_unk && top == dom);
			uint32_t v_unk = !wins && (a_unk | top_unk);
			uint32_t v = v_unk ? 0 : wins ? dom : !dom;
			depth--;
			bits = (bits & ~(1u << (depth - 1))) | v << (depth - 1);
			unk = (unk & ~(1u << (depth - 1))) | v_unk << (depth - 1);
			break;
		}
		case TG_Q_JFALSE:
		case TG_Q_JTRUE:
			if (!top_unk && top == (x->op == TG_Q_JTRUE))
				at = x->a;
			break;
		default:	/* TG_Q_RET */
			return top_unk ? TG_Q_UNKNOWN : top ? TG_Q_TRUE : TG_Q_FALSE;
		}
	}
}

/* The node of the test at `at` with that stack, made on first sight. */
static uint16_t test_node(graph *g, uint32_t at, uint32_t bits, uint32_t unk, uint32_t depth)
{
	bits &= (1u << depth) - 1;
	unk &= (1u << depth) - 1;
	for (uint32_t i = 1; i < g->nnodes; i++)
		if (g->state[i].at == at && g->state[i].bits == bits && g->state[i].unk == unk &&
		    g->state[i].depth == depth)
			return (uint16_t)i;
	if (g->nnodes == TG_Q_MAX_NODES) {
		g->full = true;
		return TG_Q_FALSE;
	}
	uint32_t me = g->nnodes++;
	g->state[me].at = at;
	g->state[me].bits = bits;
	g->state[me].unk = unk;
	g->state[me].depth = depth;
	g->node[me] = g->lin[at];
	for (uint32_t r = 0; r < TG_Q_EDGES; r++) {
		unsigned cnt = g->lin[at].count;
		uint16_t next = TG_Q_FALSE;
		if (r != TG_Q_EDGE_UNKNOWN)
			next = follow(g, at + 1, bits | r << depth, unk, depth + 1, &cnt);
		else if (g->unknown && g->lin[at].args == TG_Q_ARGS_ONLY)
			next = follow(g, at + 1, bits, unk | 1u << depth, depth + 1, &cnt);
		else
			cnt = 0;	/* an edge visibility mode never takes */
		g->node[me].next[r] = next;
		g->node[me].cnt[r] = (uint8_t)cnt;
	}
	return (uint16_t)me;
}

/* The graph of the linear program lin in node[0..), its length, or 0. */
static uint32_t graph_of(const tg_qinsn *lin, tg_qinsn *node, bool unknown)
{
	graph g;
	unsigned cnt = 0;

	g.lin = lin;
	g.node = node;
	g.nnodes = 1;
	g.full = false;
	g.unknown = unknown;
	memset(&node[0], 0, sizeof node[0]);
	node[0].op = TG_Q_CONST;
	node[0].cmp = 1;
	node[0].next[TG_Q_EDGE_TRUE] = follow(&g, 0, 0, 0, 0, &cnt);
	node[0].cnt[TG_Q_EDGE_TRUE] = (uint8_t)cnt;
	node[0].next[TG_Q_EDGE_FALSE] = node[0].next[TG_Q_EDGE_UNKNOWN] = TG_Q_FALSE;
	return g.full ? 0 : g.nnodes;
}

/* What prog gives in visibility mode when every test on its way reads
 * `args` alone (each one UNKNOWN there): one value for every request, so
 * visible.c need not run it. Else 0. */
static uint8_t vis_value(const tg_qinsn *prog)
{
	unsigned k = prog->next[TG_Q_EDGE_TRUE];

	while (k < TG_Q_UNKNOWN) {
		if (prog[k].args != TG_Q_ARGS_ONLY)
			return 0;
		k = prog[k].next[TG_Q_EDGE_UNKNOWN];
	}
	return k == TG_Q_TRUE ? TG_COND_TRUE : k == TG_Q_FALSE ? TG_COND_FALSE : TG_COND_UNKNOWN;
}

tg_status tg_quick_build(tg_policy *p)
{
	tg_layout *l = &p->l;
	tg_qinsn lin[MAX_INSNS], prog[TG_Q_MAX_NODES];
	/* A program's entry goes into its rule view, its other nodes here:
	 * node k of the program at r->quick is all[r->quick + k], k >= 1
	 * (all[0] is never read: the first program's entry would be there). */
	size_t used = 1, cap = 0;
	tg_qinsn *all = NULL;

	for (uint32_t ri = 0; ri < l->nrules; ri++) {
		tg_rule_view *r = &p->rv[ri];
		bool args;
		if (r->always || !linear(l, r, lin, &args))
			continue;
		uint32_t nq = graph_of(lin, prog, true);
		bool vis = nq != 0;
		if (nq == 0 && args)	/* too large with UNKNOWN edges */
			nq = graph_of(lin, prog, false);
		if (nq == 0)
			continue;
		if (used + nq > cap) {
			size_t ncap = cap ? 2 * cap : 256;
			while (ncap < used + nq)
				ncap *= 2;
			tg_qinsn *na = realloc(all, ncap * sizeof *na);
			if (!na) {
				free(all);
				return TG_ENOMEM;
			}
			if (!cap)
				memset(na, 0, sizeof *na);
			all = na;
			cap = ncap;
		}
		memcpy(all + used, prog + 1, (nq - 1) * sizeof *prog);
		r->quick = (uint32_t)(used - 1);
		r->quick_first = prog[0].next[TG_Q_EDGE_TRUE];
		r->quick_cnt = prog[0].cnt[TG_Q_EDGE_TRUE];
		r->quick_vis = vis;
		r->vis = vis ? vis_value(prog) : 0;
		used += nq - 1;
	}
	p->quick = all;
	l->quick = all;
	return TG_OK;
}
