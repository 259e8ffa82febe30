/*
 * dfa.c - `matches`: one walk of a DFA from the DFAS section.
 *
 * The compiler turned the regular expression into a minimal DFA over the
 * bytes of UTF-8 text (compiler/regex_*.c); the verifier checked every
 * class below nclasses and every transition to a row that exists
 * (verify.c check_dfas), so the walk is one class lookup and one table
 * read per byte, with no bounds check and no allocation. A transition is
 * the next row's offset, so the loop carries no multiply from one byte to
 * the next. Matching is anchored: the state after the last byte decides.
 */
#include "policy.h"

bool tg_dfa_match(const tg_layout *l, uint32_t dfa, const char *s, size_t n)
{
	const unsigned char *e = l->dfas + (size_t)dfa * TG_BC_DFA_ENTRY_SIZE;
	const unsigned char *classes = l->dfas + tg_rd32(e + 4);
	const unsigned char *next = classes + 256;
	uint32_t nstates = tg_rd32(e + 8), nclasses = tg_rd32(e + 12);
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t row = 0;
	if (tg_bc_dfa_wide(nstates, nclasses))
		while (p < end)
			row = tg_rd32(next + (row + classes[*p++]) * 4);
	else
		while (p < end)
			row = tg_rd16(next + (row + classes[*p++]) * 2);
	size_t st = row / nclasses;
	const unsigned char *accept = classes + tg_bc_dfa_data_size(nstates, nclasses) -
				      (nstates + 31) / 32 * 4;
	return tg_rd32(accept + st / 32 * 4) >> (st % 32) & 1;
}
