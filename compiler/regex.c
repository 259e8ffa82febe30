/*
 * regex.c - the regex API (regex.h): compile through the stages, walk the
 * table, and the two questions the lint asks of a compiled pattern.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regex_internal.h"

void tg_re_errorf(tg_re_error *err, size_t offset, const char *fmt, ...)
{
	if (err->message[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	err->offset = (uint32_t)offset;
}

bool tg_re_compile(const char *pattern, size_t len, tg_re_dfa *out, tg_re_error *err)
{
	tg_re_ast ast;
	tg_re_nfa nfa = { 0 };
	memset(out, 0, sizeof *out);
	memset(err, 0, sizeof *err);
	bool ok = tg_re_parse(pattern, len, &ast, err) &&
		  tg_re_nfa_build(&ast, len, &nfa, err) &&
		  tg_re_dfa_build(&nfa, len, out, err);
	tg_re_nfa_free(&nfa);
	tg_re_ast_free(&ast);
	return ok;
}

void tg_re_dfa_free(tg_re_dfa *dfa)
{
	free(dfa->next);
	free(dfa->accept);
	memset(dfa, 0, sizeof *dfa);
}

bool tg_re_dfa_match(const tg_re_dfa *dfa, const char *s, size_t n)
{
	if (dfa->nstates == 0)
		return false;
	uint32_t state = 0;
	for (size_t i = 0; i < n; i++)
		state = dfa->next[(size_t)state * dfa->nclasses + dfa->classes[(unsigned char)s[i]]];
	return dfa->accept[state] != 0;
}

bool tg_re_dfa_matches_nothing(const tg_re_dfa *dfa)
{
	/* Canonical numbering leaves only states reachable from the start. */
	for (uint32_t s = 0; s < dfa->nstates; s++)
		if (dfa->accept[s])
			return false;
	return true;
}

/*
 * A DFA accepting exactly the valid UTF-8 strings (RFC 3629): state 0 is
 * "between characters" and the only accepting one; U8_BAD is the sink.
 */
enum { U8_START, U8_NEED1, U8_NEED2, U8_NEED3, U8_E0, U8_ED, U8_F0, U8_F4, U8_STATES, U8_BAD = U8_STATES };

static unsigned utf8_step(unsigned u, unsigned b)
{
	switch (u) {
	case U8_START:
		if (b < 0x80) return U8_START;
		if (b >= 0xC2 && b <= 0xDF) return U8_NEED1;
		if (b == 0xE0) return U8_E0;
		if (b == 0xED) return U8_ED;
		if (b >= 0xE1 && b <= 0xEF) return U8_NEED2;
		if (b == 0xF0) return U8_F0;
		if (b >= 0xF1 && b <= 0xF3) return U8_NEED3;
		if (b == 0xF4) return U8_F4;
		return U8_BAD;
	case U8_NEED1: return b >= 0x80 && b <= 0xBF ? U8_START : U8_BAD;
	case U8_NEED2: return b >= 0x80 && b <= 0xBF ? U8_NEED1 : U8_BAD;
	case U8_NEED3: return b >= 0x80 && b <= 0xBF ? U8_NEED2 : U8_BAD;
	case U8_E0: return b >= 0xA0 && b <= 0xBF ? U8_NEED1 : U8_BAD;
	case U8_ED: return b >= 0x80 && b <= 0x9F ? U8_NEED1 : U8_BAD;
	case U8_F0: return b >= 0x90 && b <= 0xBF ? U8_NEED2 : U8_BAD;
	case U8_F4: return b >= 0x80 && b <= 0x8F ? U8_NEED2 : U8_BAD;
	}
	return U8_BAD;
}

/* Walks the product of dfa and the UTF-8 automaton: every valid UTF-8
 * string is accepted iff each reachable pair (s, between characters) has
 * s accepting. */
bool tg_re_dfa_matches_all_utf8(const tg_re_dfa *dfa)
{
	if (dfa->nstates == 0)
		return false;
	size_t npairs = (size_t)dfa->nstates * U8_STATES;
	uint8_t *seen = calloc(npairs, 1);
	uint32_t *queue = malloc(npairs * sizeof *queue);
	bool all = seen && queue;
	size_t head = 0, tail = 0;
	if (all) {
		seen[0] = 1;
		queue[tail++] = 0;
	}
	while (all && head < tail) {
		uint32_t pair = queue[head++], s = pair / U8_STATES, u = pair % U8_STATES;
		if (u == U8_START && !dfa->accept[s]) {
			all = false;
			break;
		}
		for (unsigned b = 0; b < 256; b++) {
			unsigned v = utf8_step(u, b);
			if (v == U8_BAD)
				continue;
			uint32_t t = dfa->next[(size_t)s * dfa->nclasses + dfa->classes[b]];
			uint32_t next = t * U8_STATES + v;
			if (!seen[next]) {
				seen[next] = 1;
				queue[tail++] = next;
			}
		}
	}
	free(seen);
	free(queue);
	return all;
}
