/*
 * keytab.h - the private hash tables of a loaded policy (internal).
 *
 * Targets, prefixes and role names are found through open-addressing
 * tables built at load (cands.c, roles.c) rather than the file's FNV-1a
 * ones; rules_decode.c uses the same hash to find byte-identical code.
 */
#ifndef TG_KEYTAB_H
#define TG_KEYTAB_H

#include "vm.h"

#include <stddef.h>
#include <string.h>

/* Lookups and the common glob shapes are a few dozen instructions: left
 * to gcc, the prefix probes of tg_cands_list become calls (100.9 -> 98.0
 * instructions a decision on scenario-50 forced inline) and so do the
 * pattern matchers (tg_action_match 76.2 -> 74.3): TG_ALWAYS_INLINE. */

/*
 * The tables' hash: 8 bytes at a time (the last word overlapping, short
 * keys read as two 4-byte or three 1-byte loads), class, kind and length
 * in the seed. The index's own FNV-1a is part of the file format and
 * costs a multiply per byte; this one is private to a loaded policy. A
 * word costs an xor and a multiply. A multiply carries a bit only
 * upwards, so the top byte of the last product is the one that depends on
 * every key byte: the byte swap at the end brings it down to the bucket
 * bits (a shift-xor fold there would leave the key's last byte out of
 * every bucket bit below 27). Against the shift-xor mix per word it
 * replaced: tg_cands_list 109 -> 100 and tg_role_lookup 59 -> 54
 * instructions a decision on scenario-50.
 */
#define TG_KEY_MUL 0x9E3779B97F4A7C15u

static TG_ALWAYS_INLINE uint64_t tg_key_hash(unsigned cls, unsigned kind, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	uint64_t h = (((uint64_t)cls << 8 | kind) << 32 | n) ^ 0x632BE59BD9B4E019u, w;
	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&w, s + i, 8);
			h = (h ^ w) * TG_KEY_MUL;
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
	h = __builtin_bswap64((h ^ w) * TG_KEY_MUL);
	return h ? h : 1;
}

/* An entry of the tables: an EXACT target or a PREFIX key of a class,
 * with its candidate list pool[first .. first + n); a role name with its
 * index in first. An entry is one cache line, and a key that fits is
 * copied into it (tg_key_put): the probe that finds a key compares it
 * without a second miss. */
struct tg_key {
	uint64_t h;		/* tg_key_hash; 0 marks an empty bucket */
	const char *key;	/* own, or where the key lies in the policy */
	uint32_t len, first, n, pad;
	char own[32];
};

_Static_assert(sizeof(struct tg_key) == 64, "a table entry is one cache line");

/* Fills bucket k with nk, the key copied into the entry when it fits. */
static inline void tg_key_put(struct tg_key *k, struct tg_key nk)
{
	*k = nk;
	if (nk.len <= sizeof k->own) {
		memcpy(k->own, nk.key, nk.len);
		k->key = k->own;
	}
}

/* The entry for (cls, kind, t[0..n)) in a table of mask + 1 buckets, or NULL. */
static TG_ALWAYS_INLINE const struct tg_key *tg_key_find(const struct tg_key *keys, uint32_t mask,
						      unsigned cls, unsigned kind, const char *t,
						      size_t n)
{
	uint64_t h = tg_key_hash(cls, kind, t, n);
	for (uint64_t i = h;; i++) {
		const struct tg_key *k = &keys[i & mask];
		if (k->h == 0)
			return NULL;
		if (k->h == h && k->len == n && tg_bytes_eq(k->key, t, n))
			return k;
	}
}

/*
 * How a target pattern is matched (tg_keytab's pats): the shapes most
 * tool globs have (`github.*`, `*.json`, `*.get_*`) get a matcher of their
 * own, the rest go to glob_simple.c or glob.c as tg_pattern_match would
 * send them. Decided at load instead of re-reading the pattern record and
 * scanning the glob per match: tg_action_match 114 -> 93 instructions a
 * decision on scenario-50, 777k -> 533k over the saas suite.
 */
enum {
	TG_PF_EXACT,	/* pre only */
	TG_PF_REST,	/* pre`*`: no `/` after pre */
	TG_PF_SUFFIX,	/* pre`*`seg: ends with seg, no `/` before it */
	TG_PF_INFIX,	/* pre`*`seg`*`, seg without `/`: no `/` at all, seg inside */
	TG_PF_STARS,	/* other TG_GLOB_STARS tails */
	TG_PF_DSTARS,	/* TG_GLOB_DSTARS tails */
	TG_PF_GENERAL
};

struct tg_pat_fast {
	uint64_t need;		/* l->pat_pairs[i], or 0 */
	const unsigned char *prog;	/* TG_PF_GENERAL: the loader's automaton (glob.c) */
	const char *pre, *glob, *seg;
	uint32_t pre_len, glob_len, rest, seg_len;
	uint8_t shape;		/* TG_PF_* */
};

/* Whether s[0..n) holds a `/`. libc's memchr beat a word-at-a-time loop
 * here (saas: tg_action_match 434k -> 420k). */
static TG_ALWAYS_INLINE bool tg_has_slash(const char *s, size_t n)
{
	return n && memchr(s, '/', n) != NULL;
}

/* Whether s[0..n) matches the pattern f stands for: tg_pattern_match's
 * answer, with the common shapes decided here. */
static TG_ALWAYS_INLINE bool tg_pat_fast_match(const struct tg_pat_fast *f, const char *s, size_t n)
{
	if (f->shape == TG_PF_EXACT)
		return n == f->pre_len && tg_bytes_eq(s, f->pre, n);
	if (n < f->pre_len || !tg_bytes_eq(s, f->pre, f->pre_len))
		return false;
	s += f->pre_len;
	n -= f->pre_len;
	size_t m = f->seg_len;
	switch (f->shape) {
	case TG_PF_REST:
		return !tg_has_slash(s, n);
	case TG_PF_SUFFIX:
		return n >= m && tg_bytes_eq(s + n - m, f->seg, m) && !tg_has_slash(s, n - m);
	case TG_PF_INFIX:
		if (n < m || tg_has_slash(s, n))
			return false;
		for (size_t i = 0; i + m <= n; i++)
			if (s[i] == f->seg[0] && tg_bytes_eq(s + i + 1, f->seg + 1, m - 1))
				return true;
		return false;
	case TG_PF_STARS:
		return tg_glob_simple_match(f->glob + f->rest, f->glob_len - f->rest, s, n);
	case TG_PF_DSTARS:
		return tg_glob_dstar_match(f->glob + f->rest, f->glob_len - f->rest, s, n);
	default:	/* as tg_pattern_match: no program, no match */
		return f->prog && tg_glob_prog_match(f->prog, s, n);
	}
}

/*
 * What cands.c builds at load, l->keytab (NULL: nothing built).
 *   - pats: pattern i's matcher, decided once; evaluation uses them also
 *     past the lists' budget;
 *   - pfx_lens: per class and first byte, bit k when a PREFIX key of
 *     length k starts with that byte: a target without an exact key
 *     probes only the prefix lengths that can exist for it (tg_cands_list
 *     100.7 -> 98.0 instructions a decision on scenario-50);
 *   - ents: the EXACT and PREFIX keys of the TOOL, RESOURCE and PROMPT
 *     classes, l->keys_mask + 1 buckets, valid when l->pool is set.
 */
struct tg_keytab {
	const struct tg_pat_fast *pats;
	uint8_t pfx_lens[TG_CLASS_PROMPT + 1][256];
	_Alignas(64) struct tg_key ents[];	/* each on a cache line of its own */
};

/* The load-time candidate list for a request of class cls on target t
 * (l->pool must be non-NULL): what tg_cands would produce, in the same
 * order, minus rules whose action cannot match. In line in tg_vm_listed. */
static TG_ALWAYS_INLINE const uint32_t *tg_cands_list(const tg_layout *l, unsigned cls,
						      const char *t, size_t tlen, uint32_t *n)
{
	if (cls == TG_CLASS_TOOL || cls == TG_CLASS_RESOURCE || cls == TG_CLASS_PROMPT) {
		const struct tg_keytab *kt = l->keytab;
		const struct tg_key *k =
			tg_key_find(kt->ents, l->keys_mask, cls, TG_INDEX_EXACT, t, tlen);
		/* Else the longest prefix key: its list holds the shorter
		 * ones' postings too. Only the lengths of keys that start
		 * with t's first byte are probed. */
		unsigned lens = tlen ? kt->pfx_lens[cls][(unsigned char)t[0]] : 0;
		for (size_t j = tlen < TG_INDEX_PREFIX ? tlen : TG_INDEX_PREFIX; !k && j >= 1; j--)
			if (lens & (1u << j))
				k = tg_key_find(kt->ents, l->keys_mask, cls, TG_INDEX_PREFIX_KEY, t, j);
		if (k) {
			*n = k->n;
			return l->pool + k->first;
		}
	}
	*n = l->cls_n[cls];
	return l->pool + l->cls_first[cls];
}

#endif
