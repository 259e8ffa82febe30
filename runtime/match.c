/*
 * match.c - which rules a request reaches: the index lookup and the full
 * subject and action checks.
 *
 * The index (format.h) maps (method class, target) to sorted posting lists
 * of rule indices: the exact target, the target's first 1..TG_INDEX_PREFIX
 * bytes as glob-prefix keys, the class's ALL list and the every-method list.
 * load.c resolves the two target-independent lists of each class once.
 * tg_cands merges those few lists on the fly, smallest rule index first, so
 * rules are visited in source order - which deny-overrides and
 * first-applicable-rule semantics need - without scanning every rule and
 * without allocating. A candidate is only a candidate: the caller checks
 * its subject and action in full.
 */
#include "keytab.h"

#include <string.h>

/* The entry for (cls, kind, key) given its hash; see tg_index_find. */
static bool find_hashed(const tg_layout *l, uint32_t h, unsigned cls, unsigned kind,
			const char *key, size_t klen, uint32_t *first, uint32_t *n)
{
	if (l->ix_nentries == 0)
		return false;
	uint32_t mask = l->ix_nbuckets - 1;
	h &= mask;
	for (uint32_t probe = 0; probe < l->ix_nbuckets; probe++, h = (h + 1) & mask) {
		uint32_t e = tg_rd32(l->ix_buckets + (size_t)h * 4);
		if (e == 0)
			return false;
		const unsigned char *ent = l->ix_entries + (size_t)(e - 1) * TG_BC_INDEX_ENTRY_SIZE;
		if (ent[0] != cls || ent[1] != kind)
			continue;
		tg_str k = tg_pol_str(l, tg_rd32(ent + 4));
		if (k.len == klen && (klen == 0 || memcmp(k.ptr, key, klen) == 0)) {
			*first = tg_rd32(ent + 8);
			*n = tg_rd32(ent + 12);
			return *n > 0;
		}
	}
	return false;
}

bool tg_index_find(const tg_layout *l, unsigned cls, unsigned kind, const char *key, size_t klen,
		   uint32_t *first, uint32_t *n)
{
	return find_hashed(l, tg_bc_index_hash(cls, kind, key, klen), cls, kind, key, klen, first,
			   n);
}

static void add_list(tg_cands *c, const unsigned char *post, uint32_t n)
{
	if (n && c->nlists < TG_CANDS_MAX_LISTS) {
		c->post[c->nlists] = post;
		c->n[c->nlists] = n;
		c->pos[c->nlists] = 0;
		c->nlists++;
	}
}

static void add(tg_cands *c, const tg_layout *l, uint32_t h, unsigned cls, unsigned kind,
		const char *key, size_t klen)
{
	uint32_t first, n;
	if (find_hashed(l, h, cls, kind, key, klen, &first, &n))
		add_list(c, l->refs + (size_t)first * 4, n);
}

void tg_cands_init(tg_cands *c, const tg_layout *l, unsigned cls, const char *target, size_t tlen)
{
	tg_cands_init_keys(c, l, cls, target, tlen, true);
}

void tg_cands_init_keys(tg_cands *c, const tg_layout *l, unsigned cls, const char *target,
			size_t tlen, bool exact)
{
	c->nlists = 0;
	c->last = -1;
	if (cls == TG_CLASS_TOOL || cls == TG_CLASS_RESOURCE || cls == TG_CLASS_PROMPT) {
		if (exact)
			add(c, l, tg_bc_index_hash(cls, TG_INDEX_EXACT, target, tlen), cls,
			    TG_INDEX_EXACT, target, tlen);
		/* Prefix keys share their bytes: hash them incrementally, and
		 * probe only the lengths some key has. */
		unsigned lens = l->cls_prefix_lens[cls];
		size_t maxk = tlen < TG_INDEX_PREFIX ? tlen : TG_INDEX_PREFIX;
		unsigned char ck[2] = { (unsigned char)cls, TG_INDEX_PREFIX_KEY };
		uint32_t h = tg_bc_hash_add(TG_BC_HASH_INIT, ck, 2);
		for (size_t k = 1; k <= maxk && (lens >> k); k++) {
			h = tg_bc_hash_add(h, target + k - 1, 1);
			if (lens & (1u << k))
				add(c, l, h, cls, TG_INDEX_PREFIX_KEY, target, k);
		}
	}
	add_list(c, l->cls_static[cls], l->cls_nstatic[cls]);
}

bool tg_cands_next(tg_cands *c, uint32_t *rule)
{
	for (;;) {
		int best = -1;
		uint32_t bv = 0;
		for (int i = 0; i < c->nlists; i++) {
			if (c->pos[i] >= c->n[i])
				continue;
			uint32_t v = tg_rd32(c->post[i] + (size_t)c->pos[i] * 4);
			if (best < 0 || v < bv) {
				best = i;
				bv = v;
			}
		}
		if (best < 0)
			return false;
		c->pos[best]++;
		if ((int64_t)bv > c->last) {
			c->last = bv;
			*rule = bv;
			return true;
		}
	}
}

static TG_ALWAYS_INLINE bool str_in(const tg_layout *l, const tg_rule_view *r, const char *s, size_t len)
{
	for (uint32_t i = 0; i < r->subj_n; i++) {
		tg_str x = tg_pol_str(l, tg_pol_ref(l, r->subj_first + i));
		if (x.len == len && tg_bytes_eq(x.ptr, s, len))
			return true;
	}
	return false;
}

int tg_subject_match(const tg_vm *vm, const tg_rule_view *r)
{
	const tg_layout *l = vm->l;
	const tg_request *q = vm->req;
	switch (r->subject) {
	case TG_BC_SUBJ_ANYONE:
		return TG_SUBJ_YES;
	case TG_BC_SUBJ_ROLE:	/* one word's roles: tg_subject_quick decides */
		for (uint32_t i = 0; i < r->subj_n; i++) {
			uint32_t role = tg_pol_ref(l, r->subj_first + i);
			if ((vm->held[role / 64] >> (role % 64)) & 1)
				return TG_SUBJ_YES;
		}
		return TG_SUBJ_NO;
	case TG_BC_SUBJ_SCOPE:
		for (size_t i = 0; i < q->nscopes; i++)	/* of a length the subject has */
			if (((r->subj_lens >> (q->scopes[i].len % 64)) & 1) &&
			    str_in(l, r, q->scopes[i].ptr, q->scopes[i].len))
				return TG_SUBJ_YES;
		return TG_SUBJ_NO;
	case TG_BC_SUBJ_PRINCIPAL:
		return str_in(l, r, q->principal_id.ptr, q->principal_id.len);
	case TG_BC_SUBJ_CLIENT:
		if (!q->client_id.ptr)
			return TG_SUBJ_NO_CLIENT;
		return str_in(l, r, q->client_id.ptr, q->client_id.len);
	}
	return TG_SUBJ_NO;
}

static bool any_pattern(const tg_layout *l, const tg_rule_view *r, const char *s, size_t len)
{
	const struct tg_pat_fast *pf = l->keytab->pats;
	for (uint32_t i = 0; i < r->pat_n; i++)
		if (tg_pat_fast_match(&pf[tg_pol_ref(l, r->pat_first + i)], s, len))
			return true;
	return false;
}

/* A target pattern matches the request's target. The pair prefilter
 * (glob_simple.c) rejects most globs before their matcher runs; the
 * loader's matchers (keytab.h), which every loaded policy has, decide the
 * common shapes inline. */
static bool any_target(tg_vm *vm, const tg_rule_view *r)
{
	const tg_layout *l = vm->l;
	const tg_request *q = vm->req;
	const struct tg_pat_fast *pf = l->keytab->pats;
	for (uint32_t i = 0; i < r->pat_n; i++) {
		const struct tg_pat_fast *f = &pf[tg_pol_ref(l, r->pat_first + i)];
		if (f->need) {
			if (!vm->have_pairs) {
				vm->target_pairs = tg_glob_pairs(q->target.ptr, q->target.len);
				vm->have_pairs = true;
			}
			if (f->need & ~vm->target_pairs)
				continue;
		}
		if (tg_pat_fast_match(f, q->target.ptr, q->target.len))
			return true;
	}
	return false;
}

bool tg_action_match(tg_vm *vm, const tg_rule_view *r)
{
	const tg_request *q = vm->req;
	unsigned want;
	switch (r->action) {
	case TG_BC_ACT_CALL_TOOL: want = TG_CLASS_TOOL; break;
	case TG_BC_ACT_READ_RESOURCE: want = TG_CLASS_RESOURCE; break;
	case TG_BC_ACT_GET_PROMPT: want = TG_CLASS_PROMPT; break;
	case TG_BC_ACT_LIST_TOOLS: return vm->cls == TG_CLASS_LIST_TOOLS;
	case TG_BC_ACT_LIST_RESOURCES: return vm->cls == TG_CLASS_LIST_RESOURCES;
	case TG_BC_ACT_LIST_PROMPTS: return vm->cls == TG_CLASS_LIST_PROMPTS;
	case TG_BC_ACT_LIST_RESOURCE_TEMPLATES: return vm->cls == TG_CLASS_LIST_TEMPLATES;
	case TG_BC_ACT_INVOKE: return any_pattern(vm->l, r, q->method.ptr, q->method.len);
	case TG_BC_ACT_ANYTHING: return true;
	default: return false;
	}
	if (vm->cls != want)
		return false;
	return (r->flags & TG_RULE_ANY) || any_target(vm, r);
}
