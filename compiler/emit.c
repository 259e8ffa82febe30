/*
 * emit.c - the bytecode writer (format: runtime/format.h).
 *
 * Model: everything the code generator declares is appended to growable
 * arrays that already have the shape of the final sections - the string
 * table is an (offset, length) array plus a NUL-separated blob, refs and
 * ints are flat pools, code is a byte vector - so tg_emit_finish only
 * builds the two hash tables (roles, index), concatenates the sections,
 * writes the header and checksum, and loads the result with the runtime's
 * verifier as a last check.
 *
 * Per-rule lists (subject items, target patterns) are collected aside and
 * appended to the refs pool when the rule ends, so each stays one
 * contiguous range even though STRS operands append refs meanwhile.
 *
 * Determinism: every table is filled in call order and every hash table is
 * built from that order, so the same calls give the same bytes.
 */
#include "emit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

typedef struct u32vec {
	uint32_t *v;
	size_t n, cap;
} u32vec;

typedef struct slot_rec {
	uint8_t root, type;
	uint32_t name, comp_first, ncomp;
	u32vec dom_str;		/* string indices */
	int64_t *dom_int;
	size_t ndom_int, cap_dom_int;
} slot_rec;

typedef struct pat_rec {
	uint32_t glob, prefix, rest, flags;
} pat_rec;

typedef struct dfa_rec {
	uint32_t pattern, off, nstates, nclasses;	/* off: into dfa_data */
} dfa_rec;

typedef struct rule_rec {
	uint32_t id, reason, line;
	uint8_t effect, subject, action, flags;
	uint32_t subj_first, subj_n, pat_first, pat_n, code_off, code_len;
} rule_rec;

typedef struct ix_rec {
	uint8_t cls, kind;
	uint32_t key;
	u32vec post;
} ix_rec;

struct tg_emit {
	char err[256];
	bool failed;

	uint32_t name, version;
	bool default_allow;
	unsigned char source_hash[32];

	/* strings: entries + blob, interned through an open-addressing table
	 * of index + 1 */
	struct { uint32_t off, len; } *strs;
	size_t nstr, cap_str;
	char *blob;
	size_t nblob, cap_blob;
	uint32_t *str_hash;
	size_t nstr_hash;
	int32_t *str_pat;	/* string index -> pattern index + 1, for interning */
	size_t nstr_pat;

	u32vec refs;
	int64_t *ints;
	size_t nints, cap_ints;

	u32vec roles;		/* name string indices */
	uint8_t *closure;	/* nroles x nroles */
	bool have_closure;

	slot_rec *slots;
	size_t nslots, cap_slots;

	pat_rec *pats;
	size_t npats, cap_pats;

	dfa_rec *dfas;
	size_t ndfas, cap_dfas;
	unsigned char *dfa_data;	/* the DFAs' data blocks, in DFAS layout */
	size_t ndfa_data, cap_dfa_data;

	bool uses_values;	/* code uses rows 35-43: format 1.3 */

	rule_rec *rules;
	size_t nrules, cap_rules;
	bool in_rule, finished;
	u32vec cur_subj, cur_pats;
	unsigned depth, max_depth;
	uint64_t ninsns;
	size_t last_op;		/* offset of the current rule's last instruction */

	unsigned char *code;
	size_t ncode, cap_code;

	ix_rec *ix;
	size_t nix, cap_ix;
	uint32_t *ix_hash;	/* open addressing over ix: entry index + 1 */
	size_t nix_hash;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(tg_emit *e, const char *fmt, ...)
{
	if (!e->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->err, sizeof e->err, fmt, ap);
		va_end(ap);
		e->failed = true;
	}
	return -1;
}

/* Grows *p to hold need elements; 0 or -1 (recorded) on overflow/OOM. */
static int grow(tg_emit *e, void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem)
			return fail(e, "out of memory");
		ncap *= 2;
	}
	void *np = realloc(*p, ncap * elem);
	if (!np)
		return fail(e, "out of memory");
	*p = np;
	*cap = ncap;
	return 0;
}

#define GROW(e, arr, capf, need) grow((e), (void **)&(arr), &(capf), (need), sizeof *(arr))

static int u32_push(tg_emit *e, u32vec *v, uint32_t x)
{
	if (GROW(e, v->v, v->cap, v->n + 1))
		return -1;
	v->v[v->n++] = x;
	return 0;
}

tg_emit *tg_emit_new(void)
{
	tg_emit *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->version = TG_BC_NONE;
	e->name = tg_emit_string(e, "", 0);
	if (e->failed) {
		tg_emit_free(e);
		return NULL;
	}
	return e;
}

void tg_emit_free(tg_emit *e)
{
	if (!e)
		return;
	free(e->strs);
	free(e->blob);
	free(e->str_hash);
	free(e->str_pat);
	free(e->refs.v);
	free(e->ints);
	free(e->roles.v);
	free(e->closure);
	for (size_t i = 0; i < e->nslots; i++) {
		free(e->slots[i].dom_str.v);
		free(e->slots[i].dom_int);
	}
	free(e->slots);
	free(e->pats);
	free(e->dfas);
	free(e->dfa_data);
	free(e->rules);
	free(e->cur_subj.v);
	free(e->cur_pats.v);
	free(e->code);
	for (size_t i = 0; i < e->nix; i++)
		free(e->ix[i].post.v);
	free(e->ix);
	free(e->ix_hash);
	free(e);
}

const char *tg_emit_error(const tg_emit *e)
{
	return e && e->failed ? e->err : NULL;
}

/* ---- strings ------------------------------------------------------------- */

static int rehash_strings(tg_emit *e, size_t nb)
{
	uint32_t *t = calloc(nb, sizeof *t);
	if (!t)
		return fail(e, "out of memory");
	for (size_t i = 0; i < e->nstr; i++) {
		uint32_t h = tg_bc_hash(e->blob + e->strs[i].off, e->strs[i].len) & (uint32_t)(nb - 1);
		while (t[h])
			h = (h + 1) & (uint32_t)(nb - 1);
		t[h] = (uint32_t)i + 1;
	}
	free(e->str_hash);
	e->str_hash = t;
	e->nstr_hash = nb;
	return 0;
}

uint32_t tg_emit_string(tg_emit *e, const char *s, size_t len)
{
	if (!e || e->failed)
		return TG_BC_NONE;
	if (len > UINT32_MAX / 2 || (len && !s)) {
		fail(e, "string too long");
		return TG_BC_NONE;
	}
	if (e->nstr_hash && e->nstr_hash >= 0x40000000u) {
		fail(e, "too many strings");
		return TG_BC_NONE;
	}
	if ((e->nstr + 1) * 2 > e->nstr_hash && rehash_strings(e, e->nstr_hash ? e->nstr_hash * 2 : 64))
		return TG_BC_NONE;
	uint32_t mask = (uint32_t)e->nstr_hash - 1;
	uint32_t h = tg_bc_hash(s, len) & mask;
	for (; e->str_hash[h]; h = (h + 1) & mask) {
		uint32_t i = e->str_hash[h] - 1;
		if (e->strs[i].len == len && (len == 0 || memcmp(e->blob + e->strs[i].off, s, len) == 0))
			return i;
	}
	if (e->nblob + len + 1 > UINT32_MAX / 2) {
		fail(e, "string table exceeds 2 GiB");
		return TG_BC_NONE;
	}
	if (GROW(e, e->strs, e->cap_str, e->nstr + 1))
		return TG_BC_NONE;
	/* s may point into the blob itself (an index key is a prefix of an
	 * interned string): keep its offset across the realloc. */
	bool inside = len && e->blob && s >= e->blob && s < e->blob + e->nblob;
	size_t soff = inside ? (size_t)(s - e->blob) : 0;
	if (GROW(e, e->blob, e->cap_blob, e->nblob + len + 1))
		return TG_BC_NONE;
	if (inside)
		s = e->blob + soff;
	if (len)
		memcpy(e->blob + e->nblob, s, len);
	e->blob[e->nblob + len] = 0;
	e->strs[e->nstr].off = (uint32_t)e->nblob;
	e->strs[e->nstr].len = (uint32_t)len;
	e->nblob += len + 1;
	e->str_hash[h] = (uint32_t)e->nstr + 1;
	return (uint32_t)e->nstr++;
}

/* ---- header-level -------------------------------------------------------- */

int tg_emit_policy(tg_emit *e, const char *name, size_t name_len, const char *version,
		   size_t version_len)
{
	if (!e || e->failed)
		return -1;
	e->name = tg_emit_string(e, name ? name : "", name ? name_len : 0);
	e->version = version ? tg_emit_string(e, version, version_len) : TG_BC_NONE;
	return e->failed ? -1 : 0;
}

void tg_emit_default(tg_emit *e, bool allow)
{
	if (e)
		e->default_allow = allow;
}

void tg_emit_source(tg_emit *e, const char *src, size_t len)
{
	if (e)
		tg_sha256(src, len, e->source_hash);
}

int32_t tg_emit_role(tg_emit *e, const char *name, size_t len)
{
	if (!e || e->failed)
		return -1;
	if (e->have_closure)
		return fail(e, "role declared after the role closure");
	if (e->roles.n >= TG_BC_MAX_ROLES)
		return fail(e, "more than %d roles", TG_BC_MAX_ROLES);
	uint32_t s = tg_emit_string(e, name, len);
	if (s == TG_BC_NONE || u32_push(e, &e->roles, s))
		return -1;
	return (int32_t)e->roles.n - 1;
}

int tg_emit_role_closure(tg_emit *e, const uint8_t *closure, size_t nroles)
{
	if (!e || e->failed)
		return -1;
	if (nroles != e->roles.n)
		return fail(e, "role closure for %zu roles, %zu declared", nroles, e->roles.n);
	free(e->closure);
	e->closure = calloc(nroles * nroles + 1, 1);
	if (!e->closure)
		return fail(e, "out of memory");
	for (size_t r = 0; r < nroles; r++)
		for (size_t a = 0; a < nroles; a++)
			e->closure[r * nroles + a] = (r == a) || (closure && closure[r * nroles + a]);
	e->have_closure = true;
	return 0;
}

int32_t tg_emit_slot(tg_emit *e, tg_slot_root root, const tg_str *components, size_t n,
		     const char *display, size_t display_len, tg_attr_type type)
{
	if (!e || e->failed)
		return -1;
	if ((unsigned)root > TG_BC_ROOT_LAST || (unsigned)type > TG_BC_TYPE_LAST || n == 0)
		return fail(e, "bad slot description");
	if (GROW(e, e->slots, e->cap_slots, e->nslots + 1))
		return -1;
	slot_rec *s = &e->slots[e->nslots];
	memset(s, 0, sizeof *s);
	s->root = (uint8_t)root;
	s->type = (uint8_t)type;
	s->name = tg_emit_string(e, display, display_len);
	uint32_t first = (uint32_t)e->refs.n;
	for (size_t i = 0; i < n; i++) {
		uint32_t c = tg_emit_string(e, components[i].ptr, components[i].len);
		if (c == TG_BC_NONE || u32_push(e, &e->refs, c))
			return -1;
	}
	if (e->failed)
		return -1;
	s->comp_first = first;
	s->ncomp = (uint32_t)n;
	return (int32_t)e->nslots++;
}

int tg_emit_slot_domain_string(tg_emit *e, int32_t slot, const char *s, size_t len)
{
	if (!e || e->failed)
		return -1;
	if (slot < 0 || (size_t)slot >= e->nslots)
		return fail(e, "domain for an unknown slot");
	uint32_t i = tg_emit_string(e, s, len);
	if (i == TG_BC_NONE)
		return -1;
	return u32_push(e, &e->slots[slot].dom_str, i);
}

int tg_emit_slot_domain_int(tg_emit *e, int32_t slot, int64_t v)
{
	if (!e || e->failed)
		return -1;
	if (slot < 0 || (size_t)slot >= e->nslots)
		return fail(e, "domain for an unknown slot");
	slot_rec *s = &e->slots[slot];
	if (GROW(e, s->dom_int, s->cap_dom_int, s->ndom_int + 1))
		return -1;
	s->dom_int[s->ndom_int++] = v;
	return 0;
}

/* ---- patterns -------------------------------------------------------------- */

int32_t tg_emit_pattern(tg_emit *e, const char *glob, size_t len)
{
	if (!e || e->failed)
		return -1;
	uint32_t g = tg_emit_string(e, glob, len);
	if (g == TG_BC_NONE)
		return -1;
	if (g < e->nstr_pat && e->str_pat[g])
		return e->str_pat[g] - 1;

	/* The literal prefix: escapes applied, up to the first wildcard. */
	char *pre = malloc(len + 1);
	size_t np = 0, i = 0, rest = len;
	if (!pre)
		return fail(e, "out of memory");
	while (i < len) {
		if (glob[i] == '*' || glob[i] == '?') {
			rest = i;
			break;
		}
		if (glob[i] == '\\') {
			if (i + 1 >= len) {
				free(pre);
				return fail(e, "glob '%.*s' ends in a lone '\\'", (int)(len > 200 ? 200 : len), glob);
			}
			i++;
		}
		pre[np++] = glob[i++];
	}
	for (size_t k = rest; k < len; k++) {
		if (glob[k] == '\\') {
			if (k + 1 >= len) {
				free(pre);
				return fail(e, "glob '%.*s' ends in a lone '\\'", (int)(len > 200 ? 200 : len), glob);
			}
			k++;
		}
	}
	if (len - rest > TG_BC_GLOB_MAX) {
		free(pre);
		return fail(e, "glob is longer than %d bytes from its first wildcard", TG_BC_GLOB_MAX);
	}
	uint32_t ps = tg_emit_string(e, pre, np);
	free(pre);
	if (ps == TG_BC_NONE)
		return -1;
	if (GROW(e, e->pats, e->cap_pats, e->npats + 1))
		return -1;
	if (e->nstr_pat < e->nstr) {
		size_t old = e->nstr_pat, cap = e->nstr_pat;
		if (GROW(e, e->str_pat, cap, e->nstr))
			return -1;
		memset(e->str_pat + old, 0, (cap - old) * sizeof *e->str_pat);
		e->nstr_pat = cap;
	}
	pat_rec *p = &e->pats[e->npats];
	p->glob = g;
	p->prefix = ps;
	p->rest = (uint32_t)rest;
	p->flags = rest == len ? TG_PAT_EXACT : 0;
	e->str_pat[g] = (int32_t)e->npats + 1;
	return (int32_t)e->npats++;
}

/* ---- DFAs ------------------------------------------------------------------ */

int32_t tg_emit_dfa(tg_emit *e, const char *pattern, size_t len, uint32_t nstates,
		    uint32_t nclasses, const uint8_t classes[256], const uint16_t *next,
		    const uint8_t *accept)
{
	if (!e || e->failed)
		return -1;
	if (nstates == 0 || nstates > TG_BC_DFA_MAX_STATES || nclasses == 0 || nclasses > 256)
		return fail(e, "a DFA of %u states and %u classes is out of bounds",
			    (unsigned)nstates, (unsigned)nclasses);
	uint32_t ps = tg_emit_string(e, pattern, len);
	if (ps == TG_BC_NONE)
		return -1;
	for (size_t i = 0; i < e->ndfas; i++)
		if (e->dfas[i].pattern == ps)
			return (int32_t)i;	/* one pattern, one DFA */
	size_t size = (size_t)tg_bc_dfa_data_size(nstates, nclasses);
	if (GROW(e, e->dfas, e->cap_dfas, e->ndfas + 1) ||
	    GROW(e, e->dfa_data, e->cap_dfa_data, e->ndfa_data + size))
		return -1;
	unsigned char *d = e->dfa_data + e->ndfa_data;
	memset(d, 0, size);
	memcpy(d, classes, 256);
	bool wide = tg_bc_dfa_wide(nstates, nclasses);
	for (size_t c = 0; c < (size_t)nstates * nclasses; c++) {
		if (next[c] >= nstates)
			return fail(e, "DFA transition to state %u of %u", (unsigned)next[c],
				    (unsigned)nstates);
		uint32_t row = (uint32_t)next[c] * nclasses;	/* format.h: row offsets */
		if (wide)
			tg_wr32(d + 256 + c * 4, row);
		else
			tg_wr16(d + 256 + c * 2, (uint16_t)row);
	}
	unsigned char *acc = d + size - ((size_t)nstates + 31) / 32 * 4;
	for (uint32_t st = 0; st < nstates; st++)
		if (accept[st])
			acc[st / 32 * 4 + st % 32 / 8] |= (unsigned char)(1u << (st % 8));
	e->dfas[e->ndfas] = (dfa_rec){ ps, (uint32_t)e->ndfa_data, nstates, nclasses };
	e->ndfa_data += size;
	return (int32_t)e->ndfas++;
}

/* ---- rules and code -------------------------------------------------------- */

int tg_emit_rule_begin(tg_emit *e, const tg_emit_rule *r)
{
	if (!e || e->failed)
		return -1;
	if (e->in_rule)
		return fail(e, "rule begun inside a rule");
	if ((unsigned)r->effect > 1 || (unsigned)r->subject > TG_BC_SUBJ_LAST ||
	    (unsigned)r->action > TG_BC_ACT_LAST)
		return fail(e, "bad rule description");
	if (GROW(e, e->rules, e->cap_rules, e->nrules + 1))
		return -1;
	rule_rec *rr = &e->rules[e->nrules];
	memset(rr, 0, sizeof *rr);
	rr->id = tg_emit_string(e, r->id ? r->id : "", r->id ? r->id_len : 0);
	rr->reason = r->reason ? tg_emit_string(e, r->reason, r->reason_len) : TG_BC_NONE;
	rr->line = r->line;
	rr->effect = (uint8_t)r->effect;
	rr->subject = (uint8_t)r->subject;
	rr->action = (uint8_t)r->action;
	rr->flags = r->any ? TG_RULE_ANY : 0;
	if (e->ncode > UINT32_MAX)
		return fail(e, "code exceeds 4 GiB");
	rr->code_off = (uint32_t)e->ncode;
	e->cur_subj.n = 0;
	e->cur_pats.n = 0;
	e->depth = 0;
	e->last_op = SIZE_MAX;
	e->in_rule = true;
	return e->failed ? -1 : 0;
}

int tg_emit_subject_string(tg_emit *e, const char *s, size_t len)
{
	if (!e || e->failed)
		return -1;
	if (!e->in_rule)
		return fail(e, "subject outside a rule");
	uint32_t i = tg_emit_string(e, s, len);
	return i == TG_BC_NONE ? -1 : u32_push(e, &e->cur_subj, i);
}

int tg_emit_subject_role(tg_emit *e, int32_t role)
{
	if (!e || e->failed)
		return -1;
	if (!e->in_rule || role < 0 || (size_t)role >= e->roles.n)
		return fail(e, "bad subject role %d", (int)role);
	return u32_push(e, &e->cur_subj, (uint32_t)role);
}

int tg_emit_target(tg_emit *e, int32_t pattern)
{
	if (!e || e->failed)
		return -1;
	if (!e->in_rule || pattern < 0 || (size_t)pattern >= e->npats)
		return fail(e, "bad target pattern %d", (int)pattern);
	return u32_push(e, &e->cur_pats, (uint32_t)pattern);
}

/* Appends opcode + operand bytes, tracking depth and the cost bound. */
static int put_insn(tg_emit *e, tg_opcode op, const unsigned char *operand, size_t w)
{
	if (!e || e->failed)
		return -1;
	if (!e->in_rule)
		return fail(e, "instruction outside a rule");
	if ((unsigned)op >= TG_OP_COUNT)
		return fail(e, "unknown opcode %u", (unsigned)op);
	const tg_opinfo *in = &tg_opinfo_table[op];
	if (tg_operand_width(in->operand) != w)
		return fail(e, "%s takes a %u-byte operand", in->name, tg_operand_width(in->operand));
	if (e->depth < in->pops)
		return fail(e, "%s would underflow the evaluation stack", in->name);
	unsigned d = e->depth - in->pops + in->pushes;
	if (d > TG_BC_MAX_STACK)
		return fail(e, "expression needs more than %d stack entries", TG_BC_MAX_STACK);
	if (GROW(e, e->code, e->cap_code, e->ncode + 1 + w))
		return -1;
	e->last_op = e->ncode;
	e->code[e->ncode++] = (unsigned char)op;
	if (w)
		memcpy(e->code + e->ncode, operand, w);
	e->ncode += w;
	e->depth = d;
	if (d > e->max_depth)
		e->max_depth = d;
	e->ninsns += tg_op_cost(op);
	if (tg_op_needs_values_minor(op))
		e->uses_values = true;
	return 0;
}

int tg_emit_op(tg_emit *e, tg_opcode op)
{
	return put_insn(e, op, NULL, 0);
}

int tg_emit_op_int(tg_emit *e, int64_t v)
{
	unsigned char b[8];
	tg_wr64(b, (uint64_t)v);
	return put_insn(e, TG_OP_INT, b, 8);
}

int tg_emit_op_arg(tg_emit *e, tg_opcode op, uint32_t arg)
{
	unsigned char b[4];
	if (!e || e->failed)
		return -1;
	if ((unsigned)op >= TG_OP_COUNT)
		return fail(e, "unknown opcode %u", (unsigned)op);
	switch (tg_opinfo_table[op].operand) {
	case TG_OPND_BUILTIN:
	case TG_OPND_CMP:
		if (arg > 255)
			return fail(e, "%s operand %u out of range", tg_opinfo_table[op].name, (unsigned)arg);
		b[0] = (unsigned char)arg;
		return put_insn(e, op, b, 1);
	case TG_OPND_STR:
	case TG_OPND_SLOT:
	case TG_OPND_ROLE:
	case TG_OPND_PAT:
	case TG_OPND_DFA:
		tg_wr32(b, arg);
		return put_insn(e, op, b, 4);
	default:
		return fail(e, "%s does not take a single index operand", tg_opinfo_table[op].name);
	}
}

/* An instruction whose operand is a STRS range of the given strings. */
static int put_strs(tg_emit *e, tg_opcode op, const uint32_t *strings, size_t n)
{
	unsigned char b[8];
	if (!e || e->failed)
		return -1;
	uint32_t first = (uint32_t)e->refs.n;
	for (size_t i = 0; i < n; i++) {
		if (strings[i] >= e->nstr)
			return fail(e, "list literal names an unknown string");
		if (u32_push(e, &e->refs, strings[i]))
			return -1;
	}
	tg_wr32(b, first);
	tg_wr32(b + 4, (uint32_t)n);
	return put_insn(e, op, b, 8);
}

int tg_emit_op_strs(tg_emit *e, const uint32_t *strings, size_t n)
{
	return put_strs(e, TG_OP_STRS, strings, n);
}

int tg_emit_op_load_args(tg_emit *e, const uint32_t *keys, size_t n)
{
	return put_strs(e, TG_OP_LOAD_ARGS, keys, n);
}

int tg_emit_op_ints(tg_emit *e, const int64_t *v, size_t n)
{
	unsigned char b[8];
	if (!e || e->failed)
		return -1;
	uint32_t first = (uint32_t)e->nints;
	if (GROW(e, e->ints, e->cap_ints, e->nints + n + 1))
		return -1;
	for (size_t i = 0; i < n; i++)
		e->ints[e->nints++] = v[i];
	tg_wr32(b, first);
	tg_wr32(b + 4, (uint32_t)n);
	return put_insn(e, TG_OP_INTS, b, 8);
}

int tg_emit_op_cmp(tg_emit *e, tg_opcode op, uint32_t first, uint64_t second, tg_bc_cmp cmp)
{
	unsigned char b[TG_OPND_WIDTH(TG_OPND_SLOT_I64_CMP)];
	tg_operand_kind parts[TG_OPND_MAX_PARTS];
	size_t w = 0;
	if (!e || e->failed)
		return -1;
	if ((unsigned)op >= TG_OP_COUNT ||
	    tg_operand_parts(tg_opinfo_table[op].operand, parts) != 3 || parts[2] != TG_OPND_CMP)
		return fail(e, "%s is not a fused comparison",
			    (unsigned)op < TG_OP_COUNT ? tg_opinfo_table[op].name : "?");
	if (cmp > TG_BC_CMP_LAST)
		return fail(e, "%s operand %u out of range", tg_opinfo_table[op].name, (unsigned)cmp);
	uint64_t v[2] = { first, second };
	for (int i = 0; i < 2; i++) {
		switch (parts[i]) {
		case TG_OPND_BUILTIN:
			if (v[i] > 255)
				return fail(e, "%s operand %u out of range", tg_opinfo_table[op].name,
					    (unsigned)v[i]);
			b[w++] = (unsigned char)v[i];
			break;
		case TG_OPND_I64:
			tg_wr64(b + w, v[i]);
			w += 8;
			break;
		default:	/* SLOT, STR */
			if (v[i] > UINT32_MAX)
				return fail(e, "%s operand out of range", tg_opinfo_table[op].name);
			tg_wr32(b + w, (uint32_t)v[i]);
			w += 4;
		}
	}
	b[w++] = (unsigned char)cmp;
	return put_insn(e, op, b, w);
}

int tg_emit_jump(tg_emit *e, tg_opcode op, size_t *label)
{
	unsigned char b[4] = { 0, 0, 0, 0 };
	if (!e || e->failed)
		return -1;
	if (op != TG_OP_JFALSE && op != TG_OP_JTRUE)
		return fail(e, "%s is not a jump", (unsigned)op < TG_OP_COUNT ? tg_opinfo_table[op].name : "?");
	if (put_insn(e, op, b, 4))
		return -1;
	*label = e->ncode - 4;
	return 0;
}

int tg_emit_patch(tg_emit *e, size_t label)
{
	if (!e || e->failed)
		return -1;
	if (!e->in_rule || label + 4 > e->ncode || label < e->rules[e->nrules].code_off + 1)
		return fail(e, "patch of an unknown jump");
	size_t dist = e->ncode - (label + 4);
	if (dist > UINT32_MAX)
		return fail(e, "jump too long");
	tg_wr32(e->code + label, (uint32_t)dist);
	return 0;
}

int tg_emit_rule_end(tg_emit *e)
{
	if (!e || e->failed)
		return -1;
	if (!e->in_rule)
		return fail(e, "rule end outside a rule");
	rule_rec *rr = &e->rules[e->nrules];
	if (e->last_op == SIZE_MAX || e->code[e->last_op] != TG_OP_RET || e->depth != 0)
		return fail(e, "rule code must end with RET leaving one bool");
	rr->code_len = (uint32_t)(e->ncode - rr->code_off);
	rr->subj_first = (uint32_t)e->refs.n;
	rr->subj_n = (uint32_t)e->cur_subj.n;
	for (size_t i = 0; i < e->cur_subj.n; i++)
		if (u32_push(e, &e->refs, e->cur_subj.v[i]))
			return -1;
	rr->pat_first = (uint32_t)e->refs.n;
	rr->pat_n = (uint32_t)e->cur_pats.n;
	for (size_t i = 0; i < e->cur_pats.n; i++)
		if (u32_push(e, &e->refs, e->cur_pats.v[i]))
			return -1;
	e->in_rule = false;
	e->nrules++;
	return 0;
}

/* ---- finish ------------------------------------------------------------------ */

static uint32_t ix_slot_hash(unsigned cls, unsigned kind, uint32_t key)
{
	return (key * 2654435761u) ^ (cls << 24) ^ (kind << 28);
}

static int ix_rehash(tg_emit *e, size_t nb)
{
	uint32_t *t = calloc(nb, sizeof *t);
	if (!t)
		return fail(e, "out of memory");
	for (size_t i = 0; i < e->nix; i++) {
		uint32_t h = ix_slot_hash(e->ix[i].cls, e->ix[i].kind, e->ix[i].key) & (uint32_t)(nb - 1);
		while (t[h])
			h = (h + 1) & (uint32_t)(nb - 1);
		t[h] = (uint32_t)i + 1;
	}
	free(e->ix_hash);
	e->ix_hash = t;
	e->nix_hash = nb;
	return 0;
}

/* Adds rule to the postings of (cls, kind, key). Entries are found through
 * a hash table (a policy of 10,000 tool rules has 10,000 exact keys); they
 * stay in first-use order, which is what makes the output deterministic. */
static int ix_add(tg_emit *e, unsigned cls, unsigned kind, const char *key, size_t klen,
		  uint32_t rule)
{
	uint32_t k = tg_emit_string(e, key, klen);
	if (k == TG_BC_NONE)
		return -1;
	if ((e->nix + 1) * 2 > e->nix_hash && ix_rehash(e, e->nix_hash ? e->nix_hash * 2 : 64))
		return -1;
	uint32_t mask = (uint32_t)e->nix_hash - 1, h = ix_slot_hash(cls, kind, k) & mask;
	size_t i = SIZE_MAX;
	for (; e->ix_hash[h]; h = (h + 1) & mask) {
		const ix_rec *x = &e->ix[e->ix_hash[h] - 1];
		if (x->cls == cls && x->kind == kind && x->key == k) {
			i = e->ix_hash[h] - 1;
			break;
		}
	}
	if (i == SIZE_MAX) {
		if (GROW(e, e->ix, e->cap_ix, e->nix + 1))
			return -1;
		i = e->nix++;
		memset(&e->ix[i], 0, sizeof e->ix[i]);
		e->ix[i].cls = (uint8_t)cls;
		e->ix[i].kind = (uint8_t)kind;
		e->ix[i].key = k;
		e->ix_hash[h] = (uint32_t)i + 1;
	}
	u32vec *p = &e->ix[i].post;
	if (p->n && p->v[p->n - 1] == rule)
		return 0;
	return u32_push(e, p, rule);
}

static int build_index(tg_emit *e)
{
	for (size_t r = 0; r < e->nrules; r++) {
		const rule_rec *rr = &e->rules[r];
		unsigned cls;
		switch (rr->action) {
		case TG_BC_ACT_CALL_TOOL: cls = TG_CLASS_TOOL; break;
		case TG_BC_ACT_READ_RESOURCE: cls = TG_CLASS_RESOURCE; break;
		case TG_BC_ACT_GET_PROMPT: cls = TG_CLASS_PROMPT; break;
		case TG_BC_ACT_LIST_TOOLS: cls = TG_CLASS_LIST_TOOLS; break;
		case TG_BC_ACT_LIST_RESOURCES: cls = TG_CLASS_LIST_RESOURCES; break;
		case TG_BC_ACT_LIST_PROMPTS: cls = TG_CLASS_LIST_PROMPTS; break;
		case TG_BC_ACT_LIST_RESOURCE_TEMPLATES: cls = TG_CLASS_LIST_TEMPLATES; break;
		default: cls = TG_CLASS_EVERY; break;
		}
		bool targeted = cls == TG_CLASS_TOOL || cls == TG_CLASS_RESOURCE || cls == TG_CLASS_PROMPT;
		if (!targeted || (rr->flags & TG_RULE_ANY)) {
			if (ix_add(e, cls, TG_INDEX_ALL, "", 0, (uint32_t)r))
				return -1;
			continue;
		}
		for (uint32_t k = 0; k < rr->pat_n; k++) {
			const pat_rec *p = &e->pats[e->refs.v[rr->pat_first + k]];
			const char *pre = e->blob + e->strs[p->prefix].off;
			size_t plen = e->strs[p->prefix].len;
			int st;
			if (p->flags & TG_PAT_EXACT)
				st = ix_add(e, cls, TG_INDEX_EXACT, pre, plen, (uint32_t)r);
			else if (plen == 0)
				st = ix_add(e, cls, TG_INDEX_ALL, "", 0, (uint32_t)r);
			else
				st = ix_add(e, cls, TG_INDEX_PREFIX_KEY, pre,
					    plen < TG_INDEX_PREFIX ? plen : TG_INDEX_PREFIX, (uint32_t)r);
			if (st)
				return -1;
		}
	}
	return 0;
}

static uint32_t pow2_above(size_t n)
{
	uint32_t b = 1;
	while (b <= n * 2 || b <= n)
		b <<= 1;
	return b;
}

typedef struct outbuf {
	unsigned char *b;
	size_t n, cap;
} outbuf;

static int ob_room(tg_emit *e, outbuf *o, size_t more)
{
	if (more > UINT32_MAX || o->n + more > UINT32_MAX)
		return fail(e, "bytecode exceeds 4 GiB");
	if (GROW(e, o->b, o->cap, o->n + more))
		return -1;
	memset(o->b + o->n, 0, more);
	return 0;
}

static int ob_u32(tg_emit *e, outbuf *o, uint32_t v)
{
	if (ob_room(e, o, 4))
		return -1;
	tg_wr32(o->b + o->n, v);
	o->n += 4;
	return 0;
}

static int ob_u64(tg_emit *e, outbuf *o, uint64_t v)
{
	if (ob_room(e, o, 8))
		return -1;
	tg_wr64(o->b + o->n, v);
	o->n += 8;
	return 0;
}

static int ob_bytes(tg_emit *e, outbuf *o, const void *p, size_t n)
{
	if (ob_room(e, o, n))
		return -1;
	if (n)
		memcpy(o->b + o->n, p, n);
	o->n += n;
	return 0;
}

static int ob_align(tg_emit *e, outbuf *o)
{
	size_t pad = (4 - o->n % 4) % 4;
	if (ob_room(e, o, pad))
		return -1;
	o->n += pad;
	return 0;
}

int tg_emit_finish(tg_emit *e, unsigned char **out, size_t *len)
{
	outbuf o = { NULL, 0, 0 };
	uint32_t sec_off[TG_SEC_COUNT + 1] = { 0 }, sec_size[TG_SEC_COUNT + 1] = { 0 };
	uint32_t sec_count[TG_SEC_COUNT + 1] = { 0 };

	if (!e || e->failed || !out || !len)
		return -1;
	if (e->in_rule || e->finished)
		return fail(e, "finish inside a rule or called twice");
	e->finished = true;
	if (!e->have_closure && tg_emit_role_closure(e, NULL, e->roles.n))
		return -1;
	if (build_index(e))
		return -1;
	/* Slot domains into the pools (after every rule, so rule ranges are
	 * unaffected). */
	uint32_t *dom_first = calloc(e->nslots + 1, sizeof *dom_first);
	uint32_t *dom_n = calloc(e->nslots + 1, sizeof *dom_n);
	if (!dom_first || !dom_n) {
		free(dom_first);
		free(dom_n);
		return fail(e, "out of memory");
	}
	for (size_t i = 0; i < e->nslots && !e->failed; i++) {
		slot_rec *s = &e->slots[i];
		if (s->type == TG_ATTR_STRING || s->type == TG_ATTR_STRING_LIST) {
			dom_first[i] = (uint32_t)e->refs.n;
			dom_n[i] = (uint32_t)s->dom_str.n;
			for (size_t k = 0; k < s->dom_str.n; k++)
				u32_push(e, &e->refs, s->dom_str.v[k]);
		} else if (s->type == TG_ATTR_INT || s->type == TG_ATTR_INT_LIST) {
			dom_first[i] = (uint32_t)e->nints;
			dom_n[i] = (uint32_t)s->ndom_int;
			if (GROW(e, e->ints, e->cap_ints, e->nints + s->ndom_int + 1))
				break;
			for (size_t k = 0; k < s->ndom_int; k++)
				e->ints[e->nints++] = s->dom_int[k];
		}
	}
	uint32_t *post_first = calloc(e->nix + 1, sizeof *post_first);
	if (!post_first) {
		free(dom_first);
		free(dom_n);
		return fail(e, "out of memory");
	}
	for (size_t i = 0; i < e->nix && !e->failed; i++) {
		post_first[i] = (uint32_t)e->refs.n;
		for (size_t k = 0; k < e->ix[i].post.n; k++)
			u32_push(e, &e->refs, e->ix[i].post.v[k]);
	}
	if (e->failed)
		goto fail;

	/* Each file gets the oldest minor that can hold it: without `matches`
	 * and value quantifiers it is format 1.1, byte for byte what 1.1
	 * writers made; with `matches` alone 1.2. So older runtimes keep
	 * loading every policy that does not need what they lack. */
	unsigned minor = e->uses_values ? TG_BC_MINOR_VALUES
			 : e->ndfas	? TG_BC_MINOR_DFAS
					: TG_BC_MINOR_DFAS - 1;
	unsigned nsec = tg_bc_nsections(minor);

	/* Header and section table are written last; reserve them. */
	if (ob_room(e, &o, TG_BC_HEADER_LEN + nsec * TG_BC_SECTION_ENTRY))
		goto fail;
	o.n = TG_BC_HEADER_LEN + nsec * TG_BC_SECTION_ENTRY;

#define BEGIN(k) do { if (ob_align(e, &o)) goto fail; sec_off[k] = (uint32_t)o.n; } while (0)
#define END(k, count) do { sec_size[k] = (uint32_t)(o.n - sec_off[k]); sec_count[k] = (uint32_t)(count); } while (0)

	BEGIN(TG_SEC_STRINGS);
	for (size_t i = 0; i < e->nstr; i++)
		if (ob_u32(e, &o, e->strs[i].off) || ob_u32(e, &o, e->strs[i].len))
			goto fail;
	if (ob_bytes(e, &o, e->blob, e->nblob))
		goto fail;
	END(TG_SEC_STRINGS, e->nstr);

	BEGIN(TG_SEC_REFS);
	for (size_t i = 0; i < e->refs.n; i++)
		if (ob_u32(e, &o, e->refs.v[i]))
			goto fail;
	END(TG_SEC_REFS, e->refs.n);

	BEGIN(TG_SEC_INTS);
	for (size_t i = 0; i < e->nints; i++)
		if (ob_u64(e, &o, (uint64_t)e->ints[i]))
			goto fail;
	END(TG_SEC_INTS, e->nints);

	BEGIN(TG_SEC_ROLES);
	{
		size_t n = e->roles.n, w = (n + 63) / 64;
		uint32_t nb = pow2_above(n);
		for (size_t r = 0; r < n; r++)
			if (ob_u32(e, &o, e->roles.v[r]))
				goto fail;
		for (size_t r = 0; r < n; r++)
			for (size_t k = 0; k < w; k++) {
				uint64_t bits = 0;
				for (size_t a = k * 64; a < n && a < k * 64 + 64; a++)
					if (e->closure[r * n + a])
						bits |= (uint64_t)1 << (a % 64);
				if (ob_u64(e, &o, bits))
					goto fail;
			}
		if (ob_u32(e, &o, nb) || ob_room(e, &o, (size_t)nb * 4))
			goto fail;
		unsigned char *bk = o.b + o.n;
		o.n += (size_t)nb * 4;
		for (size_t r = 0; r < n; r++) {
			uint32_t s = e->roles.v[r];
			uint32_t h = tg_bc_hash(e->blob + e->strs[s].off, e->strs[s].len) & (nb - 1);
			while (tg_rd32(bk + (size_t)h * 4))
				h = (h + 1) & (nb - 1);
			tg_wr32(bk + (size_t)h * 4, (uint32_t)r + 1);
		}
		END(TG_SEC_ROLES, n);
	}

	BEGIN(TG_SEC_SLOTS);
	for (size_t i = 0; i < e->nslots; i++) {
		const slot_rec *s = &e->slots[i];
		unsigned char b[TG_BC_SLOT_SIZE] = { s->root, s->type, 0, 0 };
		tg_wr32(b + 4, s->name);
		tg_wr32(b + 8, s->comp_first);
		tg_wr32(b + 12, s->ncomp);
		tg_wr32(b + 16, dom_first[i]);
		tg_wr32(b + 20, dom_n[i]);
		if (ob_bytes(e, &o, b, sizeof b))
			goto fail;
	}
	END(TG_SEC_SLOTS, e->nslots);

	BEGIN(TG_SEC_PATTERNS);
	for (size_t i = 0; i < e->npats; i++) {
		const pat_rec *p = &e->pats[i];
		if (ob_u32(e, &o, p->glob) || ob_u32(e, &o, p->prefix) || ob_u32(e, &o, p->rest) ||
		    ob_u32(e, &o, p->flags))
			goto fail;
	}
	END(TG_SEC_PATTERNS, e->npats);

	BEGIN(TG_SEC_RULES);
	for (size_t i = 0; i < e->nrules; i++) {
		const rule_rec *r = &e->rules[i];
		unsigned char b[TG_BC_RULE_SIZE];
		tg_wr32(b, r->id);
		tg_wr32(b + 4, r->reason);
		tg_wr32(b + 8, r->line);
		b[12] = r->effect;
		b[13] = r->subject;
		b[14] = r->action;
		b[15] = r->flags;
		tg_wr32(b + 16, r->subj_first);
		tg_wr32(b + 20, r->subj_n);
		tg_wr32(b + 24, r->pat_first);
		tg_wr32(b + 28, r->pat_n);
		tg_wr32(b + 32, r->code_off);
		tg_wr32(b + 36, r->code_len);
		if (ob_bytes(e, &o, b, sizeof b))
			goto fail;
	}
	END(TG_SEC_RULES, e->nrules);

	BEGIN(TG_SEC_INDEX);
	{
		uint32_t nb = pow2_above(e->nix);
		if (ob_u32(e, &o, nb) || ob_u32(e, &o, (uint32_t)e->nix) || ob_room(e, &o, (size_t)nb * 4))
			goto fail;
		unsigned char *bk = o.b + o.n;
		o.n += (size_t)nb * 4;
		for (size_t i = 0; i < e->nix; i++) {
			const ix_rec *x = &e->ix[i];
			uint32_t h = tg_bc_index_hash(x->cls, x->kind, e->blob + e->strs[x->key].off,
						       e->strs[x->key].len) & (nb - 1);
			while (tg_rd32(bk + (size_t)h * 4))
				h = (h + 1) & (nb - 1);
			tg_wr32(bk + (size_t)h * 4, (uint32_t)i + 1);
		}
		for (size_t i = 0; i < e->nix; i++) {
			const ix_rec *x = &e->ix[i];
			unsigned char b[TG_BC_INDEX_ENTRY_SIZE] = { x->cls, x->kind, 0, 0 };
			tg_wr32(b + 4, x->key);
			tg_wr32(b + 8, post_first[i]);
			tg_wr32(b + 12, (uint32_t)x->post.n);
			if (ob_bytes(e, &o, b, sizeof b))
				goto fail;
		}
		END(TG_SEC_INDEX, e->nix);
	}

	BEGIN(TG_SEC_CODE);
	if (ob_bytes(e, &o, e->code, e->ncode))
		goto fail;
	END(TG_SEC_CODE, 0);

	if (nsec == TG_SEC_COUNT) {
		BEGIN(TG_SEC_DFAS);
		size_t data = e->ndfas * TG_BC_DFA_ENTRY_SIZE;
		for (size_t i = 0; i < e->ndfas; i++) {
			const dfa_rec *d = &e->dfas[i];
			if (ob_u32(e, &o, d->pattern) || ob_u32(e, &o, (uint32_t)(data + d->off)) ||
			    ob_u32(e, &o, d->nstates) || ob_u32(e, &o, d->nclasses))
				goto fail;
		}
		if (ob_bytes(e, &o, e->dfa_data, e->ndfa_data))
			goto fail;
		END(TG_SEC_DFAS, e->ndfas);
	}
#undef BEGIN
#undef END

	/* Header. */
	memcpy(o.b + TG_HDR_MAGIC, TG_BC_MAGIC, TG_BC_MAGIC_LEN);
	tg_wr16(o.b + TG_HDR_MAJOR, TG_BC_MAJOR);
	tg_wr16(o.b + TG_HDR_MINOR, (uint16_t)minor);
	tg_wr32(o.b + TG_HDR_HEADER_LEN, TG_BC_HEADER_LEN);
	tg_wr32(o.b + TG_HDR_FLAGS, 0);
	tg_wr32(o.b + TG_HDR_TOTAL_LEN, (uint32_t)o.n);
	tg_wr32(o.b + TG_HDR_MAX_STACK, e->max_depth);
	tg_wr32(o.b + TG_HDR_MAX_INSNS, (uint32_t)e->ninsns);
	tg_wr32(o.b + TG_HDR_MAX_INSNS_HI, (uint32_t)(e->ninsns >> 32));
	tg_wr32(o.b + TG_HDR_NAME, e->name);
	tg_wr32(o.b + TG_HDR_VERSION, e->version);
	tg_wr32(o.b + TG_HDR_DEFAULT, e->default_allow ? 1 : 0);
	tg_wr32(o.b + TG_HDR_NSECTIONS, nsec);
	memcpy(o.b + TG_HDR_SOURCE_HASH, e->source_hash, 32);
	for (unsigned k = 1; k <= nsec; k++) {
		unsigned char *t = o.b + TG_BC_HEADER_LEN + (size_t)(k - 1) * TG_BC_SECTION_ENTRY;
		tg_wr32(t, k);
		tg_wr32(t + 4, sec_off[k]);
		tg_wr32(t + 8, sec_size[k]);
		tg_wr32(t + 12, sec_count[k]);
	}
	tg_wr32(o.b + TG_HDR_CHECKSUM, tg_bc_checksum(o.b, o.n));

	/* The runtime must accept what we write; anything else is our bug. */
	tg_policy *p = NULL;
	tg_load_error *le;
	tg_status st = tg_policy_load(o.b, o.n, &p, &le);
	if (st != TG_OK) {
		if (st == TG_ENOMEM || !le)
			fail(e, "out of memory");
		else
			fail(e, "generated bytecode fails verification: %s", le->reason);
		tg_load_error_free(le);
		goto fail;
	}
	tg_policy_free(p);
	free(dom_first);
	free(dom_n);
	free(post_first);
	*out = o.b;
	*len = o.n;
	return 0;
fail:
	free(dom_first);
	free(dom_n);
	free(post_first);
	free(o.b);
	return -1;
}
