/*
 * load.c - loading verified bytecode into a policy, and the policy getters.
 *
 * Loading copies the bytes, verifies the copy (so what was verified is what
 * is evaluated: the caller's buffer may change afterwards), hashes it and
 * builds the slot descriptions a transport reads. This is the only place
 * the runtime allocates besides the holder.
 */
#include "policy.h"
#include "sha256.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int32_t tg_role_find(const tg_layout *l, const char *s, size_t len)
{
	if (l->nroles == 0)
		return -1;
	uint32_t mask = l->role_nbuckets - 1;
	uint32_t h = tg_bc_hash(s, len) & mask;
	for (uint32_t probe = 0; probe < l->role_nbuckets; probe++, h = (h + 1) & mask) {
		uint32_t e = tg_rd32(l->role_buckets + (size_t)h * 4);
		if (e == 0)
			return -1;
		tg_str name = tg_pol_str(l, tg_rd32(l->roles + (size_t)(e - 1) * 4));
		if (name.len == len && (len == 0 || memcmp(name.ptr, s, len) == 0))
			return (int32_t)(e - 1);
	}
	return -1;
}

static tg_status build_slots(tg_policy *p)
{
	const tg_layout *l = &p->l;
	size_t ncomp = 0;
	for (uint32_t i = 0; i < l->nslots; i++)
		ncomp += tg_rd32(l->slots + (size_t)i * TG_BC_SLOT_SIZE + 12);
	p->slot_info = calloc(l->nslots ? l->nslots : 1, sizeof *p->slot_info);
	p->components = calloc(ncomp ? ncomp : 1, sizeof *p->components);
	if (!p->slot_info || !p->components)
		return TG_ENOMEM;
	size_t c = 0;
	for (uint32_t i = 0; i < l->nslots; i++) {
		const unsigned char *s = l->slots + (size_t)i * TG_BC_SLOT_SIZE;
		tg_slot_info *info = &p->slot_info[i];
		uint32_t first = tg_rd32(s + 8), n = tg_rd32(s + 12);
		info->root = (tg_slot_root)s[0];
		info->type = (tg_attr_type)s[1];
		info->name = tg_pol_cstr(l, tg_rd32(s + 4));
		info->ncomponents = n;
		info->components = &p->components[c];
		for (uint32_t k = 0; k < n; k++)
			p->components[c++] = tg_pol_str(l, tg_pol_ref(l, first + k));
	}
	return TG_OK;
}

/* Chooses each pattern's matcher and its pair prefilter (glob_simple.c),
 * and compiles the general matcher's programs (glob.c), so the
 * interpreter never re-derives them per request. */
static tg_status build_patterns(tg_policy *p)
{
	tg_layout *l = &p->l;
	p->pat_simple = calloc(l->npats ? l->npats : 1, 1);
	p->pat_pairs = calloc(l->npats ? l->npats : 1, sizeof *p->pat_pairs);
	if (!p->pat_simple || !p->pat_pairs)
		return TG_ENOMEM;
	for (uint32_t i = 0; i < l->npats; i++) {
		const unsigned char *e = l->pats + (size_t)i * TG_BC_PATTERN_SIZE;
		tg_str g = tg_pol_str(l, tg_rd32(e));
		uint32_t rest = tg_rd32(e + 8);
		if (tg_rd32(e + 12) & TG_PAT_EXACT)
			continue;
		int kind = tg_glob_star_kind(g.ptr, g.len, rest);
		p->pat_simple[i] = (uint8_t)kind;
		p->pat_pairs[i] = tg_glob_required_pairs(g.ptr, g.len, rest, kind);
	}
	l->pat_simple = p->pat_simple;
	l->pat_pairs = p->pat_pairs;
	return tg_glob_progs_build(p);
}

/*
 * Resolves what every lookup of a class would otherwise recompute: the
 * ALL and every-method postings, merged into one list per class, and which
 * PREFIX key lengths exist, so tg_cands_init probes only the exact target
 * and the prefix lengths some key has.
 */
static tg_status build_index_cache(tg_policy *p)
{
	tg_layout *l = &p->l;
	uint32_t af[TG_CLASS_OTHER + 1] = { 0 }, an[TG_CLASS_OTHER + 1] = { 0 }, ef = 0, en = 0;
	size_t total = 0;

	if (!tg_index_find(l, TG_CLASS_EVERY, TG_INDEX_ALL, "", 0, &ef, &en))
		en = 0;
	for (unsigned c = 0; c <= TG_CLASS_OTHER; c++) {
		if (c == TG_CLASS_OTHER ||
		    !tg_index_find(l, c, TG_INDEX_ALL, "", 0, &af[c], &an[c]))
			an[c] = 0;
		total += (size_t)an[c] + en;
	}
	p->static_post = malloc(total ? total * 4 : 1);
	if (!p->static_post)
		return TG_ENOMEM;
	unsigned char *out = p->static_post;
	for (unsigned c = 0; c <= TG_CLASS_OTHER; c++) {
		uint32_t i = 0, j = 0, n = 0;
		while (i < an[c] || j < en) {
			uint32_t a = i < an[c] ? tg_pol_ref(l, af[c] + i) : UINT32_MAX;
			uint32_t b = j < en ? tg_pol_ref(l, ef + j) : UINT32_MAX;
			uint32_t v = a < b ? a : b;
			i += a == v;
			j += b == v;
			tg_wr32(out + (size_t)n * 4, v);
			n++;
		}
		l->cls_static[c] = out;
		l->cls_nstatic[c] = n;
		out += (size_t)n * 4;
	}
	for (uint32_t e = 0; e < l->ix_nentries; e++) {
		const unsigned char *ent = l->ix_entries + (size_t)e * TG_BC_INDEX_ENTRY_SIZE;
		size_t klen = tg_pol_str(l, tg_rd32(ent + 4)).len;
		if (ent[0] <= TG_CLASS_OTHER && ent[1] == TG_INDEX_PREFIX_KEY && klen >= 1 &&
		    klen <= TG_INDEX_PREFIX)
			l->cls_prefix_lens[ent[0]] |= (uint8_t)(1u << klen);
	}
	return TG_OK;
}

static void release(tg_policy *p)
{
	free(p->keytab);
	free(p->role_keys);
	free(p->lists);
	free(p->rv);
	free(p->quick);
	free(p->static_post);
	free(p->pat_simple);
	free(p->pat_pairs);
	free(p->pat_prog);
	free(p->slot_info);
	free(p->components);
	free(p->buf);
	free(p);
}

static tg_status load_fail(tg_load_diag *err, tg_status st, const char *reason)
{
	err->status = st;
	err->offset = 0;
	err->pc = -1;
	snprintf(err->reason, sizeof err->reason, "%s", reason);
	return st;
}

/* The public record of a failed load: one block, the reason inside it. */
static tg_status report(tg_status st, const tg_load_diag *diag, tg_load_error **err)
{
	tg_load_error *e;
	size_t n;

	if (st == TG_OK || !err)
		return st;
	n = strlen(diag->reason) + 1;
	e = malloc(sizeof *e + n);
	if (e) {
		char *reason = (char *)(e + 1);

		memcpy(reason, diag->reason, n);
		e->status = diag->status;
		e->offset = diag->offset;
		e->pc = diag->pc;
		e->reason = reason;
	}
	*err = e;
	return st;
}

void tg_load_error_free(tg_load_error *err)
{
	free(err);
}

tg_status tg_policy_load_diag(const void *bytes, size_t len, tg_policy **out, tg_load_diag *err)
{
	tg_policy *p;
	tg_status st;
	unsigned char digest[32];

	if (!bytes || !out)
		return load_fail(err, TG_EINVAL, "no bytecode or no output given");
	p = calloc(1, sizeof *p);
	if (!p)
		return load_fail(err, TG_ENOMEM, "out of memory");
	p->buf = malloc(len ? len : 1);
	if (!p->buf) {
		free(p);
		return load_fail(err, TG_ENOMEM, "out of memory");
	}
	memcpy(p->buf, bytes, len);
	st = tg_verify(p->buf, len, &p->l, err);
	if (st == TG_OK && ((st = build_slots(p)) != TG_OK || (st = build_patterns(p)) != TG_OK ||
			     (st = build_index_cache(p)) != TG_OK || (st = tg_rules_decode(p)) != TG_OK ||
			     (st = tg_quick_build(p)) != TG_OK ||
			     (st = tg_roles_build(p)) != TG_OK || (st = tg_cands_build(p)) != TG_OK))
		load_fail(err, st, "out of memory");
	if (st != TG_OK) {
		release(p);
		return st;
	}
	tg_sha256(p->buf, len, digest);
	tg_sha256_hex(digest, p->hash);
	tg_sha256_hex(p->buf + TG_HDR_SOURCE_HASH, p->source_hash);
	atomic_init(&p->refs, 1);
	*out = p;
	return TG_OK;
}

tg_status tg_policy_load(const void *bytes, size_t len, tg_policy **out, tg_load_error **err)
{
	tg_load_diag diag;

	if (err)
		*err = NULL;
	return report(tg_policy_load_diag(bytes, len, out, &diag), &diag, err);
}

tg_status tg_policy_load_file_diag(const char *path, tg_policy **out, tg_load_diag *err)
{
	if (!path || !out)
		return load_fail(err, TG_EINVAL, "no path or no output given");
	FILE *f = fopen(path, "rb");
	if (!f) {
		char why[128];
		snprintf(why, sizeof why, "cannot open: %s", strerror(errno));
		return load_fail(err, TG_EIO, why);
	}
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 64 * 1024;
			unsigned char *nb = ncap > cap ? realloc(buf, ncap) : NULL;
			if (!nb) {
				free(buf);
				fclose(f);
				return load_fail(err, TG_ENOMEM, "out of memory");
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	bool bad = ferror(f) != 0;
	fclose(f);
	if (bad) {
		free(buf);
		return load_fail(err, TG_EIO, "read error");
	}
	tg_status st = tg_policy_load_diag(buf, len, out, err);
	free(buf);
	return st;
}

tg_status tg_policy_load_file(const char *path, tg_policy **out, tg_load_error **err)
{
	tg_load_diag diag;

	if (err)
		*err = NULL;
	return report(tg_policy_load_file_diag(path, out, &diag), &diag, err);
}

void tg_policy_free(tg_policy *p)
{
	if (p && atomic_fetch_sub(&p->refs, 1) == 1)
		release(p);
}

const char *tg_policy_name(const tg_policy *p)
{
	return p ? tg_pol_cstr(&p->l, p->l.name) : NULL;
}

const char *tg_policy_version(const tg_policy *p)
{
	return p ? tg_pol_cstr(&p->l, p->l.version) : NULL;
}

const char *tg_policy_hash(const tg_policy *p)
{
	return p ? p->hash : NULL;
}

const char *tg_policy_source_hash(const tg_policy *p)
{
	return p ? p->source_hash : NULL;
}

bool tg_policy_default_allow(const tg_policy *p)
{
	return p && p->l.default_allow;
}

uint32_t tg_policy_rule_count(const tg_policy *p)
{
	return p ? p->l.nrules : 0;
}

const char *tg_policy_rule_id(const tg_policy *p, uint32_t rule)
{
	if (!p || rule >= p->l.nrules)
		return NULL;
	return tg_pol_at(&p->l, p->l.rv[rule].id_at);
}

uint32_t tg_policy_rule_line(const tg_policy *p, uint32_t rule)
{
	if (!p || rule >= p->l.nrules)
		return 0;
	return tg_pol_rule_line(&p->l, rule);
}

uint32_t tg_policy_max_stack(const tg_policy *p)
{
	return p ? p->l.max_stack : 0;
}

uint64_t tg_policy_max_cost(const tg_policy *p)
{
	return p ? p->l.max_insns : 0;
}

bool tg_policy_reads_args_tree(const tg_policy *p)
{
	return p && p->l.args_tree;
}

uint32_t tg_policy_max_instructions(const tg_policy *p)
{
	uint64_t c = tg_policy_max_cost(p);
	return c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
}

uint32_t tg_policy_slot_count(const tg_policy *p)
{
	return p ? p->l.nslots : 0;
}

const tg_slot_info *tg_policy_slot(const tg_policy *p, uint32_t i)
{
	return p && i < p->l.nslots ? &p->slot_info[i] : NULL;
}

tg_status tg_policy_slot_find(const tg_policy *p, const char *name, uint32_t *slot)
{
	if (!p || !name || !slot)
		return TG_EINVAL;
	for (uint32_t i = 0; i < p->l.nslots; i++)
		if (strcmp(p->slot_info[i].name, name) == 0) {
			*slot = i;
			return TG_OK;
		}
	return TG_ENOENT;
}
