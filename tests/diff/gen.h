/*
 * gen.h - random policies and requests for differential testing.
 *
 * gen_policy writes the SOURCE text of a random, mostly well-typed policy
 * (so it goes through the real lexer, parser and checker) and records its
 * vocabulary: the roles, subjects, globs, literals and attribute
 * declarations it used. gen_request draws requests from that vocabulary, so
 * that they hit the policy's rules, miss them narrowly, and carry attribute
 * values of the right type, the wrong type, out of the declared domain,
 * absent, of type `other`, near the int64 limits, and paths with `..`.
 *
 * Everything is deterministic in the generator's seed.
 */
#ifndef TG_GEN_H
#define TG_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct gen_rng {
	uint64_t s;
} gen_rng;

/* splitmix64: small, fast, good enough to drive a test generator. */
static inline uint64_t gen_next(gen_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline unsigned gen_below(gen_rng *r, unsigned n)
{
	return n ? (unsigned)(gen_next(r) % n) : 0;
}

static inline bool gen_chance(gen_rng *r, unsigned percent)
{
	return gen_below(r, 100) < percent;
}

/* The attributes policies may read, with the type requests should give them
 * (a policy may or may not declare each). */
enum { GT_STR, GT_INT, GT_BOOL, GT_SLIST, GT_ILIST };

typedef struct gen_attr {
	const char *src;	/* as written in a policy: `args["content-type"]` */
	const char *root;	/* "principal", ... */
	const char *keys[2];	/* path below the root */
	size_t nkeys;
	int type;
	bool builtin;
	const char *domain[4];	/* literal source text of the domain, or NULL */
	size_t ndomain;
} gen_attr;

extern const gen_attr gen_attrs[];
extern const size_t gen_nattrs;

#define GEN_MAX 48

typedef struct gen_strs {
	char *v[GEN_MAX];	/* decoded, malloc'd */
	size_t n;
} gen_strs;

typedef struct gen_vocab {
	gen_strs roles;
	gen_strs tool_globs, resource_globs, prompt_globs;
	gen_strs strings;	/* string literals used in conditions */
	int64_t ints[GEN_MAX];
	size_t nints;
	bool declared[32];	/* per gen_attrs entry */
	bool domain[32];
} gen_vocab;

/* A random policy's source (malloc'd, NUL-terminated) into *src and its
 * vocabulary into *v (gen_vocab_free releases it). */
void gen_policy(gen_rng *r, gen_vocab *v, char **src, size_t *len);
void gen_vocab_free(gen_vocab *v);

/* A random valid request (except for resource URIs with dot segments, which
 * are rare and invalid on purpose). The caller owns the reference. */
json_t *gen_request(gen_rng *r, const gen_vocab *v);

/* A string the glob matches, built at random (used for near misses too). */
char *gen_glob_instance(gen_rng *r, const char *glob);

#endif
