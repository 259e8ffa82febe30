/*
 * regex.h - `X matches "REGEX"`: a pattern compiled to a minimal DFA.
 *
 * The compiler turns the pattern into a table once; the runtime only walks
 * it, one lookup per subject byte, so matching is linear whatever the
 * pattern. That is why the syntax (docs/regex.md) keeps only what a finite
 * automaton can do: no backreferences, no lookaround, no word boundaries.
 *
 * Pipeline: regex_parse.c (text -> syntax tree over code point sets),
 * regex_nfa.c (tree -> byte-level Thompson NFA, code point ranges split
 * into UTF-8 byte sequences by regex_utf8.c), regex_dfa.c (subset
 * construction, minimization, byte classes, canonical numbering),
 * regex.c (this API).
 *
 * The output is canonical: the same pattern (indeed, the same language)
 * always gives the same bytes, so the bytecode stays reproducible. Byte
 * classes are numbered in order of their first byte (byte 0 is in class
 * 0); states in breadth-first order from the start state (0), visiting
 * classes 0..nclasses-1. A dead state, when the language needs one, is an
 * ordinary state: not accepting, every transition to itself.
 */
#ifndef TG_REGEX_H
#define TG_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TG_RE_MAX_STATES 4096u	/* DFA states, counted during subset construction, dead state included */
#define TG_RE_MAX_REPEAT 1000u	/* the largest m or n in {m,n} */
#define TG_RE_MAX_NFA   65536u	/* NFA states (bounds {m,n} expansion); past it: an error */

typedef struct tg_re_dfa {
	uint32_t nstates;	/* state 0 is the start state */
	uint32_t nclasses;	/* 1..256 byte classes */
	uint8_t classes[256];	/* byte -> class */
	uint16_t *next;		/* nstates * nclasses: next[s * nclasses + class] */
	uint8_t *accept;	/* nstates flags, 1 = accepting */
} tg_re_dfa;

typedef struct tg_re_error {
	uint32_t offset;	/* byte offset in the pattern where the problem starts */
	char message[200];	/* e.g. "backreferences are not supported" */
} tg_re_error;

/* Compiles pattern[0..len) (valid UTF-8, as policy string literals are).
 * On success fills *out (free it with tg_re_dfa_free) and returns true; on
 * failure fills *err, leaves *out empty (safe to free) and returns false. */
bool tg_re_compile(const char *pattern, size_t len, tg_re_dfa *out, tg_re_error *err);
void tg_re_dfa_free(tg_re_dfa *dfa);
/* Whole-subject (anchored) match by walking the tables: for tests and the
 * compiler's constant folding. */
bool tg_re_dfa_match(const tg_re_dfa *dfa, const char *s, size_t n);
/* For the lint "pattern matches everything / nothing": */
bool tg_re_dfa_matches_nothing(const tg_re_dfa *dfa);	/* no accepting state reachable */
bool tg_re_dfa_matches_all_utf8(const tg_re_dfa *dfa);	/* accepts every valid UTF-8 string */

#endif
