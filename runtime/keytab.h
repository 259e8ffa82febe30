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

#include <string.h>

/* A key of the load-time table: an EXACT target or a PREFIX key of a
 * class, with its candidate list pool[first .. first + n). */
struct tg_key {
	uint64_t h;		/* tg_key_hash; 0 marks an empty bucket */
	const char *key;
	uint32_t len, first, n, pad;
};

/*
 * The table's hash: 8 bytes at a time (the last word overlapping, short
 * keys read as two 4-byte or three 1-byte loads), class, kind and length
 * in the seed. The index's own FNV-1a is part of the file format and
 * costs a multiply per byte; this one is private to a loaded policy.
 */
static inline uint64_t tg_key_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9E3779B97F4A7C15u;
	return h ^ (h >> 29);
}

static inline uint64_t tg_key_hash(unsigned cls, unsigned kind, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	uint64_t h = tg_key_mix(((uint64_t)cls << 8 | kind) << 32 | n, 0x632BE59BD9B4E019u), w;
	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&w, s + i, 8);
			h = tg_key_mix(h, w);
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
	h = tg_key_mix(h, w);
	return h ? h : 1;
}

/* The entry for (cls, kind, t[0..n)) in a table of mask + 1 buckets, or NULL. */
static inline const struct tg_key *tg_key_find(const struct tg_key *keys, uint32_t mask,
					       unsigned cls, unsigned kind, const char *t, size_t n)
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

#endif
