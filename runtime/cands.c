/*
 * cands.c - candidate lists resolved at load time.
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
 * Keys are found through a private hash table (keytab.h) rather than the
 * file's FNV-1a one.
 *
 * The same allocation holds a matcher per pattern (keytab.h's
 * tg_pat_fast), for the glob candidates that are still matched per
 * request: those of targets without an exact key and `invoke` methods.
 */
#include "keytab.h"

#include <stdlib.h>

/* At most this many list entries per rule and key, plus a constant. */
#define LIST_BUDGET(rules, keys) (8 * ((size_t)(rules) + (keys)) + 65536)

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
	size_t first = a->n;
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
	for (size_t i = a->n; i > first; i--) {
		if (l->rv[a->v[i - 1] & TG_CAND_RULE].effect == TG_BC_DENY)
			break;
		a->v[i - 1] |= TG_CAND_NO_DENY;
	}
	return 0;
}

/* Pattern i's matcher (keytab.h): the shape of its tail when it is one
 * of the few common ones, else the matcher tg_pattern_match would use. */
static struct tg_pat_fast pat_fast(const tg_layout *l, uint32_t i)
{
	const unsigned char *e = l->pats + (size_t)i * TG_BC_PATTERN_SIZE;
	tg_str glob = tg_pol_str(l, tg_rd32(e)), pre = tg_pol_str(l, tg_rd32(e + 4));
	uint32_t rest = tg_rd32(e + 8);
	struct tg_pat_fast f = { l->pat_pairs ? l->pat_pairs[i] : 0, tg_glob_prog(l, i), pre.ptr,
				 glob.ptr, NULL, (uint32_t)pre.len, (uint32_t)glob.len, rest, 0,
				 TG_PF_GENERAL };
	if (tg_rd32(e + 12) & TG_PAT_EXACT) {
		f.shape = TG_PF_EXACT;
		return f;
	}
	int kind = l->pat_simple ? l->pat_simple[i] : TG_GLOB_GENERAL;
	if (kind == TG_GLOB_DSTARS)
		f.shape = TG_PF_DSTARS;
	if (kind != TG_GLOB_STARS)
		return f;
	/* t[0] is `*` and no two stars are adjacent */
	const char *t = glob.ptr + rest;
	size_t tn = glob.len - rest, stars = 0;
	bool slash = false;
	for (size_t k = 0; k < tn; k++) {
		stars += t[k] == '*';
		slash |= t[k] == '/';
	}
	f.shape = TG_PF_STARS;
	if (stars == 1) {
		f.shape = tn == 1 ? TG_PF_REST : TG_PF_SUFFIX;
		f.seg = t + 1;
		f.seg_len = (uint32_t)tn - 1;
	} else if (stars == 2 && t[tn - 1] == '*' && !slash) {
		f.shape = TG_PF_INFIX;
		f.seg = t + 1;
		f.seg_len = (uint32_t)tn - 2;
	}
	return f;
}

tg_status tg_cands_build(tg_policy *p)
{
	tg_layout *l = &p->l;
	uint32_t ne = l->ix_nentries, nkeys = 0;
	vec a = { NULL, 0, 0, LIST_BUDGET(l->nrules, ne) };
	int rc = 0;

	uint32_t nb = 16;
	while (nb < 2 * (uint64_t)ne)
		nb *= 2;
	/* header, nb buckets, then the pattern matchers (keytab.h) */
	size_t size = sizeof(struct tg_keytab) + (size_t)nb * sizeof(struct tg_key) +
		      (size_t)l->npats * sizeof(struct tg_pat_fast);
	struct tg_keytab *kt = aligned_alloc(64, (size + 63) & ~(size_t)63);
	if (!kt)
		return TG_ENOMEM;
	memset(kt, 0, size);
	struct tg_key *ents = kt->ents;
	struct tg_pat_fast *pats = (struct tg_pat_fast *)(void *)(ents + nb);
	for (uint32_t i = 0; i < l->npats; i++)
		pats[i] = pat_fast(l, i);
	kt->pats = pats;
	/* The matchers serve evaluation even past the lists' budget. */
	p->keytab = kt;
	l->keytab = kt;
	l->keys_mask = nb - 1;

	if (l->nrules > TG_CAND_RULE)
		rc = -1;	/* entries could not hold the indices */
	for (unsigned c = 0; c <= TG_CLASS_OTHER && !rc; c++) {
		size_t at = a.n;
		rc = build_list(l, &a, c, "", 0, false, false);
		l->cls_first[c] = (uint32_t)at;
		l->cls_n[c] = (uint32_t)(a.n - at);
	}
	for (uint32_t e = 0; e < ne && !rc; e++) {
		const unsigned char *ent = l->ix_entries + (size_t)e * TG_BC_INDEX_ENTRY_SIZE;
		unsigned cls = ent[0], kind = ent[1];
		if ((cls != TG_CLASS_TOOL && cls != TG_CLASS_RESOURCE && cls != TG_CLASS_PROMPT) ||
		    kind == TG_INDEX_ALL)
			continue;
		tg_str key = tg_pol_str(l, tg_rd32(ent + 4));
		size_t at = a.n;
		rc = build_list(l, &a, cls, key.ptr, key.len, true, kind == TG_INDEX_EXACT);
		if (kind == TG_INDEX_PREFIX_KEY && key.len >= 1 && key.len <= TG_INDEX_PREFIX)
			kt->pfx_lens[cls][(unsigned char)key.ptr[0]] |= (uint8_t)(1u << key.len);
		/* Crafted bytecode may hold a key twice: both build the same
		 * list (tg_cands looks keys up as the index does), one is kept. */
		struct tg_key nk = { .h = tg_key_hash(cls, kind, key.ptr, key.len), .key = key.ptr,
				     .len = (uint32_t)key.len, .first = (uint32_t)at,
				     .n = (uint32_t)(a.n - at) };
		for (uint64_t i = nk.h;; i++) {
			struct tg_key *k = &ents[i & (nb - 1)];
			if (k->h == 0) {
				tg_key_put(k, nk);
				nkeys++;
				break;
			}
			if (k->h == nk.h && k->len == key.len && tg_bytes_eq(k->key, key.ptr, key.len))
				break;
		}
	}
	if (rc == 0 && a.n > UINT32_MAX)
		rc = -1;
	if (rc) {
		/* Over budget (evaluation merges at run time) or no memory. */
		free(a.v);
		return rc == -2 ? TG_ENOMEM : TG_OK;
	}
	if (!a.v && !(a.v = malloc(sizeof *a.v)))
		return TG_ENOMEM;
	p->lists = a.v;
	l->pool = a.v;
	return TG_OK;
}
