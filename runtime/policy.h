/*
 * policy.h - the runtime's internal view of a verified policy.
 *
 * tg_layout is what the verifier proves about a buffer: where each section
 * is and how many entries it has. Once verify.c has accepted a buffer, every
 * index stored in it is in bounds, so the accessors below do no checks of
 * their own. The policy owns a private copy of the bytes; nothing in it
 * changes after load (only the reference count), which is what makes
 * concurrent evaluation safe.
 */
#ifndef TG_POLICY_H
#define TG_POLICY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "format.h"
#include "toolgate/toolgate.h"

/* Inlining decided by measurement rather than left to the compiler: each
 * use says what it gained (bench/RESULTS.md). */
#if defined(__GNUC__)
#define TG_ALWAYS_INLINE inline __attribute__((always_inline))
#define TG_NOINLINE __attribute__((noinline))
#else
#define TG_ALWAYS_INLINE inline
#define TG_NOINLINE
#endif

typedef struct tg_layout {
	const unsigned char *base;
	size_t len;
	uint32_t max_stack;
	uint64_t max_insns;	/* the cost bound: instructions, DFA steps counted */
	bool args_tree;		/* some rule has LOAD_ARGS: reads tg_request.args */
	uint32_t name, version;	/* string indices (version may be NONE) */
	bool default_allow;

	const unsigned char *str_tab, *str_data;
	uint32_t nstrings, str_data_len;
	const unsigned char *refs;
	uint32_t nrefs;
	const unsigned char *ints;
	uint32_t nints;
	const unsigned char *roles, *closure, *role_buckets;
	uint32_t nroles, role_words, role_nbuckets;
	const unsigned char *slots;
	uint32_t nslots;
	const unsigned char *pats;
	uint32_t npats;
	const unsigned char *dfas;	/* the DFAS section (NULL before format 1.2) */
	uint32_t ndfas;
	const unsigned char *rules;
	uint32_t nrules;
	const unsigned char *ix_buckets, *ix_entries;
	uint32_t ix_nbuckets, ix_nentries;
	const unsigned char *code;
	uint32_t code_len;
	/* Not from the buffer: set by load.c after verification. Entry i is
	 * pattern i's TG_GLOB_* matcher kind; NULL means glob.c's for all. */
	const uint8_t *pat_simple;
	/* Not from the buffer either: pattern i's tg_glob_required_pairs, or
	 * NULL (no prefilter). */
	const uint64_t *pat_pairs;
	/* And the programs glob.c compiled for the patterns that take its
	 * automaton: pattern i's at pat_prog + the i-th u32 there, when that
	 * is not 0. NULL: no pattern needs one. */
	const unsigned char *pat_prog;
	/* And the index's per-class constants (load.c, before anything reads
	 * the index): the class's ALL postings merged with the every-method
	 * ones (REFS-style little-endian u32 rule indices), and a bit mask of
	 * the PREFIX key lengths present, bit k for length k. */
	const unsigned char *cls_static[TG_CLASS_OTHER + 1];
	uint32_t cls_nstatic[TG_CLASS_OTHER + 1];
	uint8_t cls_prefix_lens[TG_CLASS_OTHER + 1];
	/* Load-time rule records and candidate lists (rules_decode.c,
	 * cands.c). rv: every rule decoded (every loaded policy has them;
	 * evaluation reads rules only here). pool: when non-NULL, the
	 * candidate lists; keytab (keytab.h; keys_mask + 1 buckets) finds a
	 * target's or prefix's list, and a request without a key gets its
	 * class's cls_first/cls_n; every loaded policy has keytab's pattern
	 * matchers, even past the lists' budget. quick: the conditions
	 * translated by quick.c (rule view `quick`), or NULL. */
	const struct tg_rule_view *rv;
	const struct tg_qinsn *quick;
	const uint32_t *pool;
	const struct tg_keytab *keytab;
	const struct tg_key *role_keys;
	uint32_t keys_mask, role_keys_mask;
	uint32_t cls_first[TG_CLASS_OTHER + 1], cls_n[TG_CLASS_OTHER + 1];
} tg_layout;

/* The sizes of version 1 of the caller-built records: a caller whose
 * tg_request or tg_entry is at least this large has every member the
 * runtime reads; members appended later are read only when the caller's
 * size covers them. Never change these two. */
#define TG_REQUEST_V1_SIZE (offsetof(tg_request, args) + sizeof(tg_value))
#define TG_ENTRY_V1_SIZE (offsetof(tg_entry, open_world) + sizeof(tg_hint))

/* Why verification failed, as the verifier records it; tg_policy_load
 * turns it into the public tg_load_error. */
typedef struct tg_load_diag {
	tg_status status;
	uint32_t offset;
	int64_t pc;
	char reason[128];
} tg_load_diag;

/*
 * Verifies buf[0..len) (verify.c). On success fills *lay with views into
 * buf and returns TG_OK; otherwise fills *err (status, offset, pc, reason).
 * Reads buf only; no other side effects.
 */
tg_status tg_verify(const unsigned char *buf, size_t len, tg_layout *lay, tg_load_diag *err);

/* tg_policy_load and tg_policy_load_file with the verifier's record in *err
 * (never NULL) instead of an allocated tg_load_error: what the tests and
 * fuzzers read. */
tg_status tg_policy_load_diag(const void *bytes, size_t len, tg_policy **out, tg_load_diag *err);
tg_status tg_policy_load_file_diag(const char *path, tg_policy **out, tg_load_diag *err);

struct tg_policy {
	tg_layout l;
	unsigned char *buf;
	atomic_long refs;
	char hash[65], source_hash[65];
	tg_slot_info *slot_info;	/* nslots entries */
	tg_str *components;		/* backing for slot_info[].components */
	uint8_t *pat_simple;		/* backing for l.pat_simple */
	uint64_t *pat_pairs;		/* backing for l.pat_pairs */
	unsigned char *pat_prog;	/* backing for l.pat_prog */
	unsigned char *static_post;	/* backing for l.cls_static */
	struct tg_rule_view *rv;	/* backing for l.rv */
	struct tg_qinsn *quick;		/* backing for l.quick */
	uint32_t *lists;		/* backing for l.pool */
	struct tg_keytab *keytab;	/* backing for l.keytab */
	struct tg_key *role_keys;	/* backing for l.role_keys */
};

/* A decoded rule record. Set at load (rules_decode.c, quick.c), else
 * TG_BC_NONE, false and 0:
 * - id_at and reason_at, where the id and the reason start in str_data (a
 *   decision reads them from the view's line, not through the string table);
 * - role_word/role_mask, when a ROLE subject's roles all lie in one 64-bit
 *   word of the held-role bitset (it matches when held[role_word] & role_mask);
 * - always, when the code is TRUE; RET (no condition);
 * - quick, the condition's quick program, with its entry in quick_first and
 *   quick_cnt (a program starts at its first test, one miss fewer), and
 *   quick_vis when it runs in visibility mode too;
 * - vis, the tg_cond_result that program gives in visibility mode when it
 *   gets there through `args` tests alone (an `args.limit <= 60` is UNKNOWN
 *   for every list entry);
 * - same_code, when the condition reads nothing a list entry changes
 *   (tool.*, resource.uri, prompt.name, request.method) but tool annotation
 *   hints: the first rule with byte-identical code (so the same value for one
 *   requester and one class and set of hints); hint_code, when that code
 *   reads hints. */
typedef struct tg_rule_view {
	uint32_t id_at, reason_at;
	uint8_t effect, subject, action, flags;
	uint32_t subj_first, subj_n, pat_first, pat_n, code_off, code_len;
	uint32_t role_word;
	bool always;
	uint8_t vis;		/* tg_cond_result in visibility mode, when the same for every request */
	bool hint_code;
	bool quick_vis;		/* the quick program has its UNKNOWN edges (vm.h) */
	uint32_t same_code;
	uint32_t quick;		/* the condition's program (quick.c), or TG_BC_NONE */
	uint16_t quick_first;	/* its entry: the first node, or TG_Q_FALSE/TRUE */
	uint8_t quick_cnt;	/* the instructions before that node */
	uint8_t pad;
	union {	/* what a subject needs, by its kind: */
		uint64_t role_mask;	/* role (with role_word) */
		uint64_t subj_lens;	/* scope, principal, client: bit (len % 64) of each string */
	};
} tg_rule_view;

/* One cache line: a candidate's subject, action and program are read
 * from one miss (rules_decode.c aligns the records). */
_Static_assert(sizeof(tg_rule_view) == 64, "a rule view is 64 bytes");

static inline tg_str tg_pol_str(const tg_layout *l, uint32_t i)
{
	const unsigned char *e = l->str_tab + (size_t)i * 8;
	tg_str s = { (const char *)l->str_data + tg_rd32(e), tg_rd32(e + 4) };
	return s;
}

/* Where string i starts in str_data (TG_BC_NONE for none). */
static inline uint32_t tg_pol_str_at(const tg_layout *l, uint32_t i)
{
	return i == TG_BC_NONE ? TG_BC_NONE : tg_rd32(l->str_tab + (size_t)i * 8);
}

static inline uint32_t tg_pol_ref(const tg_layout *l, uint32_t i)
{
	return tg_rd32(l->refs + (size_t)i * 4);
}

static inline int64_t tg_pol_int(const tg_layout *l, uint32_t i)
{
	return (int64_t)tg_rd64(l->ints + (size_t)i * 8);
}

/* The string indices of rule i's id and reason (TG_BC_NONE: none). */
static inline uint32_t tg_pol_rule_id(const tg_layout *l, uint32_t i)
{
	return tg_rd32(l->rules + (size_t)i * TG_BC_RULE_SIZE);
}

static inline uint32_t tg_pol_rule_reason(const tg_layout *l, uint32_t i)
{
	return tg_rd32(l->rules + (size_t)i * TG_BC_RULE_SIZE + 4);
}

static inline uint32_t tg_pol_rule_line(const tg_layout *l, uint32_t i)
{
	return tg_rd32(l->rules + (size_t)i * TG_BC_RULE_SIZE + 8);
}

/* The string that starts at str_data[at] (a view's id_at, reason_at). */
static inline const char *tg_pol_at(const tg_layout *l, uint32_t at)
{
	return at == TG_BC_NONE ? NULL : (const char *)l->str_data + at;
}

/* String i, NUL-terminated, or NULL for TG_BC_NONE. */
static inline const char *tg_pol_cstr(const tg_layout *l, uint32_t i)
{
	return tg_pol_at(l, tg_pol_str_at(l, i));
}

static inline tg_rule_view tg_pol_rule(const tg_layout *l, uint32_t i)
{
	const unsigned char *r = l->rules + (size_t)i * TG_BC_RULE_SIZE;
	tg_rule_view v;
	v.id_at = v.reason_at = TG_BC_NONE;
	v.effect = r[12];
	v.subject = r[13];
	v.action = r[14];
	v.flags = r[15];
	v.subj_first = tg_rd32(r + 16);
	v.subj_n = tg_rd32(r + 20);
	v.pat_first = tg_rd32(r + 24);
	v.pat_n = tg_rd32(r + 28);
	v.code_off = tg_rd32(r + 32);
	v.code_len = tg_rd32(r + 36);
	v.role_word = TG_BC_NONE;
	v.always = false;
	v.same_code = TG_BC_NONE;
	v.hint_code = false;
	v.quick_vis = false;
	v.quick = TG_BC_NONE;
	v.quick_first = 0;
	v.quick_cnt = v.pad = 0;
	v.vis = 0;
	v.subj_lens = ~(uint64_t)0;	/* role_word is NONE: no role_mask */
	return v;
}

/* a[0..n) == b[0..n). Runtime strings are mostly a few to a few dozen
 * bytes: words compared 8 at a time (the last one overlapping, short ones
 * as two overlapping 4-byte loads) beat both a byte loop and a call. */
static inline bool tg_bytes_eq(const char *a, const char *b, size_t n)
{
	uint64_t x, y;
	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if (x != y)
				return false;
		}
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		uint32_t p, q, r, t;
		memcpy(&p, a, 4);
		memcpy(&q, b, 4);
		memcpy(&r, a + n - 4, 4);
		memcpy(&t, b + n - 4, 4);
		return p == q && r == t;
	}
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* ---- glob.c ------------------------------------------------------------ */

/* Whole-string match of s against glob g from byte `from` on (the bytes
 * before `from` are the already-matched literal prefix; they are consulted
 * only to recognise a slash-star-star-slash run). The part from `from` must be at most
 * TG_BC_GLOB_MAX bytes (verified); longer input simply does not match. */
bool tg_glob_match_from(const char *g, size_t glen, size_t from, const char *s, size_t slen);

/* ---- glob_simple.c ------------------------------------------------------- */

/* Which matcher a pattern takes: glob.c's general automaton, or
 * glob_simple.c's for star-only globs and for globs whose wildcards are
 * all `**` runs. */
enum { TG_GLOB_GENERAL = 0, TG_GLOB_STARS, TG_GLOB_DSTARS };

/* The kind for a glob whose first wildcard is at byte `from`: STARS when
 * every wildcard is a single `*`, DSTARS when every one is a `**` run
 * (none with a `/` on both sides), either only with no `?`, no `\` and
 * no byte past 0x7F from `from` on; else GENERAL. */
int tg_glob_star_kind(const char *g, size_t glen, size_t from);

/* Whole-string match of s against the star-only tail t (t[0] is `*`) of a
 * TG_GLOB_STARS glob. */
bool tg_glob_simple_match(const char *t, size_t tn, const char *s, size_t sn);

/* Whole-string match of s against the tail t (t[0] is `*`) of a
 * TG_GLOB_DSTARS glob. */
bool tg_glob_dstar_match(const char *t, size_t tn, const char *s, size_t sn);

/* The set of hashed adjacent byte pairs of s, and the subset every
 * subject of a glob of that kind must have (0 for the general kind). */
uint64_t tg_glob_pairs(const char *s, size_t n);
uint64_t tg_glob_required_pairs(const char *g, size_t glen, size_t from, int kind);

/* Compiles the patterns that take glob.c's automaton into l.pat_prog
 * (after l.pat_simple is set): TG_OK or TG_ENOMEM. */
tg_status tg_glob_progs_build(tg_policy *p);

/* Pattern pat's program (NULL: it has none), and whether the text after
 * its literal prefix, s, matches it: what tg_glob_match_from gives, with
 * no compiling and a frame of a few state words. */
const unsigned char *tg_glob_prog(const tg_layout *l, uint32_t pat);
bool tg_glob_prog_match(const unsigned char *prog, const char *s, size_t slen);

/* s matches pattern i of the policy (a layout the loader prepared). */
bool tg_pattern_match(const tg_layout *l, uint32_t pat, const char *s, size_t slen);

/* values.c: the value at args.KEY... of r (keys: REFS first .. first + n,
 * n = 0 for args itself), or NULL when absent; and that path's display
 * name (args.options, args["content-type"]), cut to cap bytes. */
const tg_value *tg_args_at(const tg_layout *l, const tg_request *r, uint32_t first, uint32_t n);
void tg_args_name(const tg_layout *l, uint32_t first, uint32_t n, char *buf, size_t cap);

/* s matches DFA dfa of the DFAS section as a whole (dfa.c). */
bool tg_dfa_match(const tg_layout *l, uint32_t dfa, const char *s, size_t n);

/* `X under DIR`: 1 when under, 0 when not, -1 when X is not a clean
 * absolute path (an error). */
int tg_under(const char *x, size_t xlen, const char *dir, size_t dlen);

/* ---- request.c --------------------------------------------------------- */

bool tg_utf8_valid(const char *s, size_t len);

/* The request's flags, 0 when its size does not cover them. */
static inline uint32_t tg_request_flags(const tg_request *r)
{
	return r->size >= offsetof(tg_request, flags) + sizeof r->flags ? r->flags : 0;
}

/* *dst = *src, reading no more of src than its size covers (a version-1
 * caller's struct is shorter than ours); dst's size is ours. */
void tg_request_copy(tg_request *dst, const tg_request *src);

/* tg_request_check's verdict: NULL when valid (*cls then holds the
 * method's class), else the static reason. */
const char *tg_request_problem(const tg_request *r, tg_bc_class *cls);

/* The same, split for list filtering: the identity part (principal,
 * token, slot values) once per list, the entry part (target, server,
 * annotations) once per entry, on a request whose identity already passed
 * and whose method is the constant of class cls (TOOL, RESOURCE or
 * PROMPT). */
const char *tg_request_identity_problem(const tg_request *r);
const char *tg_request_entry_problem(const tg_request *r, tg_bc_class cls);

/* The resource-URI rule of DESIGN "Precise rules"; NULL when acceptable,
 * else a static reason. */
const char *tg_uri_problem(const char *uri, size_t len);

/* ---- match.c ---------------------------------------------------------- */

/* The index entry for (cls, kind, key): its postings range in *first, *n. */
bool tg_index_find(const tg_layout *l, unsigned cls, unsigned kind, const char *key, size_t klen,
		   uint32_t *first, uint32_t *n);

/* ---- rules_decode.c, quick.c, roles.c, cands.c --------------------------- */

/* Called by the loader after verification, in this order; each returns
 * TG_ENOMEM or TG_OK. tg_rules_decode builds l->rv; tg_quick_build the
 * quick programs (vm.h) of the rules it can translate; tg_roles_build the
 * role-name table; tg_cands_build, within a size budget, the candidate
 * lists (from l->rv). */
tg_status tg_rules_decode(tg_policy *p);
tg_status tg_quick_build(tg_policy *p);
tg_status tg_roles_build(tg_policy *p);
tg_status tg_cands_build(tg_policy *p);

/* ---- roles ---------------------------------------------------------------- */

/* Index of the declared role named s, or -1. */
int32_t tg_role_find(const tg_layout *l, const char *s, size_t len);

/* The same through the loader's table when there is one (roles.c). */
int32_t tg_role_lookup(const tg_layout *l, const char *s, size_t len);

#endif
