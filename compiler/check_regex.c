/*
 * check_regex.c - the pattern of `matches`: compiled here once, to report
 * its errors where they stand in the source and to keep its DFA on the
 * literal, where the code generator and the linter take it.
 */
#include "check_internal.h"
#include "regex.h"

#include <string.h>

/* The source offset of byte `at` of a string literal's value: the literal
 * starts with its quote at span.start, and each escape (\" \\ \n \t, or
 * \u{HEX} for one code point) is longer in the source than in the value. */
static uint32_t source_offset(const char *src, tg_span lit, uint32_t at)
{
	uint32_t i = lit.start + 1, v = 0;
	while (v < at && i + 1 < lit.end) {
		if (src[i] != '\\') {
			i++, v++;
			continue;
		}
		if (src[i + 1] != 'u') {
			i += 2, v++;
			continue;
		}
		uint32_t cp = 0;
		for (i += 3; i < lit.end && src[i] != '}'; i++)
			cp = cp * 16 + (uint32_t)(src[i] <= '9' ? src[i] - '0' : (src[i] | 0x20) - 'a' + 10);
		i++;
		v += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	}
	return i;
}

/* A copy of d in the checker's arena, which outlives the later stages. */
static const tg_re_dfa *keep(tg_checker *c, const tg_re_dfa *d)
{
	size_t cells = (size_t)d->nstates * d->nclasses;
	tg_re_dfa *k = tg_check_alloc(c, sizeof *k);
	uint16_t *next = tg_check_alloc(c, cells * sizeof *next);
	uint8_t *accept = tg_check_alloc(c, d->nstates);
	if (!k || !next || !accept)
		return NULL;
	*k = *d;
	k->next = memcpy(next, d->next, cells * sizeof *next);
	k->accept = memcpy(accept, d->accept, d->nstates);
	return k;
}

bool tg_check_regex(tg_checker *c, tg_expr *lit)
{
	tg_re_dfa dfa;
	tg_re_error err;
	if (tg_re_compile(lit->u.str.s, lit->u.str.len, &dfa, &err)) {
		lit->dfa = keep(c, &dfa);
		tg_re_dfa_free(&dfa);
		return lit->dfa != NULL;
	}
	uint32_t at = source_offset(c->ast->src, lit->span, err.offset);
	tg_span where = { at, at + 1 < lit->span.end ? at + 1 : lit->span.end };
	tg_error(c->diags, where, "invalid regular expression: %s", err.message);
	return false;
}
