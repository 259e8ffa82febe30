/*
 * regex_internal.h - what the regex stages hand each other: code point
 * sets, the syntax tree, UTF-8 byte sequences and the byte-level NFA.
 * Only regex_*.c and the tests include it; the rest of the compiler uses
 * regex.h.
 */
#ifndef TG_REGEX_INTERNAL_H
#define TG_REGEX_INTERNAL_H

#include "regex.h"

#define TG_RE_NONE UINT32_MAX	/* no node, no NFA state */
#define TG_RE_INF UINT32_MAX	/* the max of an unbounded repetition */
#define TG_RE_MAX_CP 0x10FFFFu
#define TG_RE_MAX_DEPTH 250u	/* nested groups; keeps every recursion shallow */
/* Steps of the subset construction (states visited by closures, targets
 * grouped): bounds compile time to a few hundred milliseconds whatever
 * the pattern. Only patterns made to be slow reach it, like
 * (?:a?b?c?d?e?f?g?h?i?j?k?l?m?n?o?p?){0,200} (about 170 million). */
#define TG_RE_MAX_WORK 50000000u

/* Reports the first problem only: later calls keep the first message. */
void tg_re_errorf(tg_re_error *err, size_t offset, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* ---- code point sets (regex_set.c) ----
 * Sorted, disjoint, non-adjacent ranges once normalized, never containing a
 * surrogate (D800-DFFF): surrogates have no UTF-8 encoding, so a set that
 * excludes them is exactly what a UTF-8 subject can contain. */
typedef struct tg_re_range {
	uint32_t lo, hi;
} tg_re_range;

typedef struct tg_re_set {
	tg_re_range *r;
	uint32_t n, cap;
} tg_re_set;

bool tg_re_set_add(tg_re_set *s, uint32_t lo, uint32_t hi);
bool tg_re_set_add_set(tg_re_set *s, const tg_re_set *t);
bool tg_re_set_normalize(tg_re_set *s);
bool tg_re_set_complement(tg_re_set *s);	/* over every code point */
void tg_re_set_free(tg_re_set *s);

/* ---- syntax tree (regex_parse.c) ----
 * Groups only group, so they leave no node. CAT and ALT list their
 * children through child/next; REPEAT has one child. */
typedef enum tg_re_kind {
	TG_RE_EMPTY,	/* matches "" */
	TG_RE_SET,	/* one code point of set */
	TG_RE_CAT,
	TG_RE_ALT,
	TG_RE_REPEAT	/* child{min,max}, max TG_RE_INF when unbounded */
} tg_re_kind;

typedef struct tg_re_node {
	tg_re_kind kind;
	uint32_t min, max;
	uint32_t child, next;
	tg_re_set set;
} tg_re_node;

typedef struct tg_re_ast {
	tg_re_node *nodes;
	uint32_t n, cap;
	uint32_t root;
} tg_re_ast;

bool tg_re_parse(const char *pattern, size_t len, tg_re_ast *ast, tg_re_error *err);
void tg_re_ast_free(tg_re_ast *ast);

/* ---- UTF-8 byte sequences (regex_utf8.c) ----
 * A code point range as alternatives of byte-range sequences: [lo[i],hi[i]]
 * for each of the len bytes. Every byte string the alternatives accept is
 * the encoding of a code point of the range, and conversely. */
typedef struct tg_re_utf8_seq {
	uint8_t len;
	uint8_t lo[4], hi[4];
} tg_re_utf8_seq;

typedef bool (*tg_re_seq_fn)(void *ctx, const tg_re_utf8_seq *seq);
/* Calls fn for each sequence of [lo, hi] (no surrogate inside), in
 * increasing code point order; stops and returns false when fn does. */
bool tg_re_utf8_split(uint32_t lo, uint32_t hi, tg_re_seq_fn fn, void *ctx);
/* Encodes cp into buf (4 bytes at least); returns the length. */
unsigned tg_re_utf8_encode(uint32_t cp, uint8_t *buf);
/* Decodes one code point of s[0..n); returns its length, 0 if invalid
 * (overlong, surrogate, past 10FFFF, truncated). */
unsigned tg_re_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp);

/* ---- byte-level NFA (regex_nfa.c) ----
 * EPS states have up to two epsilon edges (out, out1); a BYTE state moves
 * to out on a byte in [lo, hi]; MATCH accepts. */
typedef enum tg_re_nkind { TG_RE_N_EPS, TG_RE_N_BYTE, TG_RE_N_MATCH } tg_re_nkind;

typedef struct tg_re_nstate {
	uint8_t kind, lo, hi;
	uint32_t out, out1;
} tg_re_nstate;

typedef struct tg_re_nfa {
	tg_re_nstate *s;
	uint32_t n, cap;
	uint32_t start;
} tg_re_nfa;

bool tg_re_nfa_build(const tg_re_ast *ast, size_t pattern_len, tg_re_nfa *nfa, tg_re_error *err);
void tg_re_nfa_free(tg_re_nfa *nfa);

/* ---- NFA to canonical minimal DFA (regex_dfa.c) ---- */
bool tg_re_dfa_build(const tg_re_nfa *nfa, size_t pattern_len, tg_re_dfa *out, tg_re_error *err);

#endif
