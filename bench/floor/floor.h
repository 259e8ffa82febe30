/*
 * floor.h - the fixed hand-written floor for the benchmark scenario (issue
 * 21): what a decision costs when everything a general evaluator must
 * discover is known in advance. gen.mjs writes fl_decide_SUFFIX for one
 * variant of bench/peers/scenario.mjs; floor.c pre-decodes requests into
 * fl_req (outside the timed region). tg-bench `floor` times it with the
 * method of toolgate's `stream` figure and checks every decision matches.
 *
 * The request, pre-decoded: principal names and token scopes interned to
 * small integers (scopes as a bit set), roles as a bit mask with the
 * hierarchy guest < reader < engineer < admin already applied, the
 * environment as an enum, strings as pointer + length, arguments in slots.
 */
#ifndef TG_BENCH_FLOOR_H
#define TG_BENCH_FLOOR_H


#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { FL_DENY = 0, FL_ALLOW = 1 };

typedef struct fl_str {
	const char *p;
	size_t n;
} fl_str;

typedef struct fl_req {
	fl_str tool;
	uint64_t scopes[2];	/* bit i: scope_names[i] held */
	uint32_t roles;		/* guest 1, reader 2, engineer 4, admin 8, inherited */
	uint32_t pid;		/* 1 + index in principal_names, 0 for anyone else */
	uint32_t env;		/* dev 1, staging 2, prod 3 */
	bool mfa, destructive;
	int64_t limit, amount, replicas;
	fl_str path, channel, ptenant, ctenant;
} fl_req;

typedef struct fl_slot {
	const char *key;
	uint32_t len, hash;
	uint16_t off, ndeny, nallow;
} fl_slot;

typedef struct fl_names {
	const char *const *principals;
	size_t nprincipals;
	const char *const *scopes;
	size_t nscopes;
} fl_names;

static inline const fl_slot *fl_probe(const fl_slot *t, uint32_t mask, uint32_t h,
				      const char *k, size_t n)
{
	for (uint32_t s = h & mask;; s = (s + 1) & mask) {
		if (!t[s].key)
			return NULL;
		if (t[s].hash == h && t[s].len == n && memcmp(t[s].key, k, n) == 0)
			return &t[s];
	}
}

static inline bool fl_str_eq(fl_str a, fl_str b)
{
	return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

static inline bool fl_starts(fl_str s, const char *lit, size_t n)
{
	return s.n >= n && memcmp(s.p, lit, n) == 0;
}

/* `*LIT*`: a first-byte scan, then the rest compared in place (glibc's
 * memmem set up a two-way search per call: half the floor's instructions). */
static inline bool fl_contains(fl_str s, const char *lit, size_t n)
{
	for (size_t i = 0; i + n <= s.n; i++) {
		size_t k = 0;
		if (s.p[i] != lit[0])
			continue;
		while (++k < n && s.p[i + k] == lit[k])
			;
		if (k == n)
			return true;
	}
	return false;
}

/* `under`: the directory itself or below it, and no `..` segment (an
 * unclean path is refused, as toolgate's error makes it). */
static inline bool fl_under(fl_str s, const char *dir, size_t n)
{
	if (s.n < n || memcmp(s.p, dir, n) != 0 || (s.n > n && s.p[n] != '/'))
		return false;
	for (size_t i = 0; i + 1 < s.n; i++)
		if (s.p[i] == '.' && s.p[i + 1] == '.' && (i == 0 || s.p[i - 1] == '/') &&
		    (i + 2 == s.n || s.p[i + 2] == '/'))
			return false;
	return true;
}

int fl_decide_50(const fl_req *q);
int fl_decide_4960(const fl_req *q);
extern const fl_names fl_names_50, fl_names_4960;

/* Reads one JSON request line (bench/peers/scenario.mjs's form) into *q;
 * q's strings point into *keep, which the caller frees with json_decref.
 * Returns false on a malformed line. */
struct json_t;
bool fl_decode(const fl_names *names, const char *text, size_t len, fl_req *q,
	       struct json_t **keep);

#endif
