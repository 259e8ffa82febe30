/*
 * lookup.c - candidate lists resolved at load time.
 *
 * match.c finds a request's candidate rules by probing the index for the
 * exact target and each of its glob-prefix keys, then merging the posting
 * lists it found with the class's target-independent ones; every candidate
 * then has its action matched, globs included. All of that depends only on
 * the method class and the target, and a target that reaches the index at
 * all reaches it through one key: its exact entry, else its longest
 * prefix key, else none. So the loader does the work once per key:
 *
 *   - for an EXACT key K: the merge a request on K would make (tg_cands
 *     with target K), minus every rule whose action does not match K;
 *     the others are marked TG_CAND_KNOWN, except `invoke` rules, whose
 *     method globs are matched per request;
 *   - for a PREFIX key K: the merge without an exact list, i.e. what a
 *     target whose longest prefix key is K gets; its glob candidates keep
 *     their action check, `any` and `do anything` rules are KNOWN;
 *   - per class, the target-independent list, for requests without a key.
 *
 * A request then costs one hash probe (plus one per prefix length present
 * when the target has no exact key) and a walk of one list in source
 * order, which is what the decision rules need. The lists stay smaller
 * than the index postings unless `any` rules are many and keys too; a
 * budget bounds their size, and past it the loader leaves them out and
 * evaluation merges at run time as before. Traces always merge at run
 * time, since they report the candidates whose action did not match too.
 *
 * Also decoded here, so evaluation reads native fields: every rule record,
 * with the held-role word and mask of a role subject, the lengths of its
 * subject strings, whether it has no condition at all (TRUE; RET, which
 * evaluation then does not run), the value its condition has in
 * visibility mode whatever the request (vis_const), and for a condition
 * that reads nothing a list entry sets, the first rule with the same code
 * (share_code); and the role names, for mapping a request's roles.
 * Targets, prefixes and role names are found through private hash tables
 * (key_hash) rather than the file's FNV-1a ones.
 */
#include "vm.h"

#include <stdlib.h>
#include <string.h>

/* At most this many list entries per rule and key, plus a constant. */
#define LIST_BUDGET(rules, keys) (8 * ((size_t)(rules) + (keys)) + 65536)

/* A key of the load-time table: an EXACT target or a PREFIX key of a
 * class, with its candidate list pool[first .. first + n). */
struct tg_key {
	uint64_t h;		/* key_hash; 0 marks an empty bucket */
	const char *key;
	uint32_t len, first, n, pad;
};

/*
 * The table's hash: 8 bytes at a time (the last word overlapping, short
 * keys read as two 4-byte or three 1-byte loads), class, kind and length
 * in the seed. The index's own FNV-1a is part of the file format and
 * costs a multiply per byte; this one is private to a loaded policy.
 */
static inline uint64_t mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9E3779B97F4A7C15u;
	return h ^ (h >> 29);
}

static inline uint64_t key_hash(unsigned cls, unsigned kind, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	uint64_t h = mix(((uint64_t)cls << 8 | kind) << 32 | n, 0x632BE59BD9B4E019u), w;
	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&w, s + i, 8);
			h = mix(h, w);
		}
		memcpy(&w, s + n - 8, 8);
	} else if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		w = a | (uint64_t)b << 32;
	} else {
		w = n ? s[0] | (uint64_t)s[n / 2] << 8 | (uint64_t)s[n - 1] << 16 : 0;
	}
	h = mix(h, w);
	return h ? h : 1;
}

static const struct tg_key *key_find(const struct tg_key *keys, uint32_t mask, unsigned cls,
				     unsigned kind, const char *t, size_t n)
{
	uint64_t h = key_hash(cls, kind, t, n);
	for (uint64_t i = h;; i++) {
		const struct tg_key *k = &keys[i & mask];
		if (k->h == 0)
			return NULL;
		if (k->h == h && k->len == n && tg_bytes_eq(k->key, t, n))
			return k;
	}
}

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
	return l->slots[(size_t)slot * TG_FMT_SLOT_SIZE] == TG_SLOT_ARGS;
}

static uint8_t vis_const(const tg_layout *l, const tg_rule_view *r)
{
	uint8_t st[TG_FMT_MAX_STACK];
	unsigned sp = 0;
	uint32_t pc = r->code_off, end = r->code_off + r->code_len;

#define APUSH(v) do { if (sp >= TG_FMT_MAX_STACK) return 0; st[sp++] = (v); } while (0)
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
		case TG_OP_CMP:
		case TG_OP_ALL:
		case TG_OP_ANY:
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

/* No instruction of r reads what a list entry sets. */
static bool entry_free(const tg_layout *l, const tg_rule_view *r)
{
	for (uint32_t pc = r->code_off, end = r->code_off + r->code_len; pc < end;) {
		unsigned op = l->code[pc];
		if (op >= TG_OP_COUNT)
			return false;
		if (op == TG_OP_LOADB || op == TG_OP_HASB || op == TG_OP_LOADB_STR_CMP) {
			unsigned bi = l->code[pc + 1];
			if (bi != TG_BI_PRINCIPAL_ID && bi != TG_BI_PRINCIPAL_ROLES &&
			    bi != TG_BI_TOKEN_SCOPES)
				return false;
		}
		pc += 1 + tg_operand_width(tg_opinfo_table[op].operand);
	}
	return true;
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
		if (r->same_code == TG_FMT_NONE)
			continue;
		const char *code = (const char *)l->code + r->code_off;
		uint64_t h = key_hash(0, 0, code, r->code_len);
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

static tg_status build_rules(tg_policy *p)
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
		r->same_code = entry_free(l, r) ? i : TG_FMT_NONE;
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
		for (uint32_t k = 0; k < r->subj_n && word != TG_FMT_NONE; k++) {
			uint32_t role = tg_pol_ref(l, r->subj_first + k);
			if (role / 64 == word)
				mask |= (uint64_t)1 << (role % 64);
			else
				word = TG_FMT_NONE;
		}
		if (word != TG_FMT_NONE) {
			r->role_word = word;
			r->role_mask = mask;
		}
	}
	l->rv = p->rv;
	return share_code(p);
}

/* Whether rule r's action matches every request of class cls: 1 yes, 0
 * never, -1 depends on the target or method. */
static int action_for_class(const tg_rule_view *r, unsigned cls)
{
	switch (r->action) {
	case TG_BC_ACT_CALL_TOOL:
		return cls != TG_CLASS_TOOL ? 0 : (r->flags & TG_RULE_ANY) ? 1 : -1;
	case TG_BC_ACT_READ_RESOURCE:
		return cls != TG_CLASS_RESOURCE ? 0 : (r->flags & TG_RULE_ANY) ? 1 : -1;
	case TG_BC_ACT_GET_PROMPT:
		return cls != TG_CLASS_PROMPT ? 0 : (r->flags & TG_RULE_ANY) ? 1 : -1;
	case TG_BC_ACT_LIST_TOOLS: return cls == TG_CLASS_LIST_TOOLS;
	case TG_BC_ACT_LIST_RESOURCES: return cls == TG_CLASS_LIST_RESOURCES;
	case TG_BC_ACT_LIST_PROMPTS: return cls == TG_CLASS_LIST_PROMPTS;
	case TG_BC_ACT_LIST_RESOURCE_TEMPLATES: return cls == TG_CLASS_LIST_TEMPLATES;
	case TG_BC_ACT_ANYTHING: return 1;
	default: return -1;	/* invoke: the method's own glob */
	}
}

/* Whether one of r's target patterns matches key (pairs: its byte pairs). */
static bool targets_match(const tg_layout *l, const tg_rule_view *r, const char *key, size_t klen,
			  uint64_t pairs)
{
	for (uint32_t i = 0; i < r->pat_n; i++) {
		uint32_t pat = tg_pol_ref(l, r->pat_first + i);
		if (l->pat_pairs && (l->pat_pairs[pat] & ~pairs))
			continue;
		if (tg_pattern_match(l, pat, key, klen))
			return true;
	}
	return false;
}

typedef struct vec {
	uint32_t *v;
	size_t n, cap, limit;
} vec;

static int push(vec *a, uint32_t x)
{
	if (a->n == a->limit)
		return -1;	/* over budget */
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		uint32_t *nv = realloc(a->v, cap * sizeof *nv);
		if (!nv)
			return -2;
		a->v = nv;
		a->cap = cap;
	}
	a->v[a->n++] = x;
	return 0;
}

/* Appends the candidates of (cls, key) to a; exact: key is a whole target
 * (EXACT entry) rather than a prefix. 0, -1 over budget, -2 no memory. */
static int build_list(const tg_layout *l, vec *a, unsigned cls, const char *key, size_t klen,
		      bool has_key, bool exact)
{
	tg_cands c;
	uint32_t ri;
	uint64_t pairs = exact ? tg_glob_pairs(key, klen) : 0;
	if (has_key)
		tg_cands_init_keys(&c, l, cls, key, klen, exact);
	else
		tg_cands_init_keys(&c, l, cls, "", 0, false);
	while (tg_cands_next(&c, &ri)) {
		const tg_rule_view *r = &l->rv[ri];
		int m = action_for_class(r, cls);
		if (m < 0 && exact && r->action != TG_BC_ACT_INVOKE)
			m = targets_match(l, r, key, klen, pairs);
		if (m == 0)
			continue;
		int rc = push(a, ri | (m > 0 ? TG_CAND_KNOWN : 0));
		if (rc)
			return rc;
	}
	return 0;
}

static tg_status build_lists(tg_policy *p)
{
	tg_layout *l = &p->l;
	uint32_t ne = l->ix_nentries, nkeys = 0;
	vec a = { NULL, 0, 0, LIST_BUDGET(l->nrules, ne) };
	int rc = 0;

	uint32_t nb = 16;
	while (nb < 2 * (uint64_t)ne)
		nb *= 2;
	struct tg_key *keys = calloc(nb, sizeof *keys);
	if (!keys)
		return TG_ENOMEM;
	for (unsigned c = 0; c <= TG_CLASS_OTHER && !rc; c++) {
		size_t at = a.n;
		rc = build_list(l, &a, c, "", 0, false, false);
		l->cls_first[c] = (uint32_t)at;
		l->cls_n[c] = (uint32_t)(a.n - at);
	}
	for (uint32_t e = 0; e < ne && !rc; e++) {
		const unsigned char *ent = l->ix_entries + (size_t)e * TG_FMT_INDEX_ENTRY_SIZE;
		unsigned cls = ent[0], kind = ent[1];
		if ((cls != TG_CLASS_TOOL && cls != TG_CLASS_RESOURCE && cls != TG_CLASS_PROMPT) ||
		    kind == TG_INDEX_ALL)
			continue;
		tg_str key = tg_pol_str(l, tg_rd32(ent + 4));
		size_t at = a.n;
		rc = build_list(l, &a, cls, key.ptr, key.len, true, kind == TG_INDEX_EXACT);
		/* Crafted bytecode may hold a key twice: both build the same
		 * list (tg_cands looks keys up as the index does), one is kept. */
		uint64_t h = key_hash(cls, kind, key.ptr, key.len);
		for (uint64_t i = h;; i++) {
			struct tg_key *k = &keys[i & (nb - 1)];
			if (k->h == 0) {
				*k = (struct tg_key){ h, key.ptr, (uint32_t)key.len, (uint32_t)at,
						      (uint32_t)(a.n - at), 0 };
				nkeys++;
				break;
			}
			if (k->h == h && k->len == key.len && tg_bytes_eq(k->key, key.ptr, key.len))
				break;
		}
	}
	if (rc == 0 && a.n > UINT32_MAX)
		rc = -1;
	if (rc) {
		/* Over budget (evaluation merges at run time) or no memory. */
		free(keys);
		free(a.v);
		return rc == -2 ? TG_ENOMEM : TG_OK;
	}
	if (!a.v && !(a.v = malloc(sizeof *a.v))) {
		free(keys);
		return TG_ENOMEM;
	}
	p->lists = a.v;
	p->keys = keys;
	l->pool = a.v;
	l->keys = keys;
	l->keys_mask = nb - 1;
	return TG_OK;
}

/* Declared role names, for mapping a request's roles (tg_vm_init). */
static tg_status build_roles(tg_policy *p)
{
	tg_layout *l = &p->l;
	uint32_t nb = 16;
	while (nb < 2 * (uint64_t)l->nroles)
		nb *= 2;
	struct tg_key *keys = calloc(nb, sizeof *keys);
	if (!keys)
		return TG_ENOMEM;
	for (uint32_t r = 0; r < l->nroles; r++) {
		/* names are distinct: the verifier found each through its own
		 * hash table */
		tg_str name = tg_pol_str(l, tg_rd32(l->roles + (size_t)r * 4));
		uint64_t h = key_hash(0, 0, name.ptr, name.len);
		uint64_t i = h;
		while (keys[i & (nb - 1)].h != 0)
			i++;
		keys[i & (nb - 1)] = (struct tg_key){ h, name.ptr, (uint32_t)name.len, r, 0, 0 };
	}
	p->role_keys = keys;
	l->role_keys = keys;
	l->role_keys_mask = nb - 1;
	return TG_OK;
}

int32_t tg_role_lookup(const tg_layout *l, const char *s, size_t len)
{
	if (!l->role_keys)
		return tg_role_find(l, s, len);
	const struct tg_key *k = key_find(l->role_keys, l->role_keys_mask, 0, 0, s, len);
	return k ? (int32_t)k->first : -1;
}

tg_status tg_lookup_build(tg_policy *p)
{
	tg_status st = build_rules(p);
	if (st == TG_OK)
		st = build_roles(p);
	return st != TG_OK ? st : build_lists(p);
}

const uint32_t *tg_cands_list(const tg_layout *l, unsigned cls, const char *t, size_t tlen,
			      uint32_t *n)
{
	if (cls == TG_CLASS_TOOL || cls == TG_CLASS_RESOURCE || cls == TG_CLASS_PROMPT) {
		const struct tg_key *k = key_find(l->keys, l->keys_mask, cls, TG_INDEX_EXACT, t, tlen);
		/* Else the longest prefix key: its list holds the shorter
		 * ones' postings too. */
		unsigned lens = l->cls_prefix_lens[cls];
		for (size_t j = tlen < TG_INDEX_PREFIX ? tlen : TG_INDEX_PREFIX; !k && j >= 1; j--)
			if (lens & (1u << j))
				k = key_find(l->keys, l->keys_mask, cls, TG_INDEX_PREFIX_KEY, t, j);
		if (k) {
			*n = k->n;
			return l->pool + k->first;
		}
	}
	*n = l->cls_n[cls];
	return l->pool + l->cls_first[cls];
}
