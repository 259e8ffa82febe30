/*
 * regex_set.c - sets of code points as sorted range lists: what a literal,
 * `.`, a class or a shorthand stands for.
 */
#include <stdlib.h>

#include "regex_internal.h"

#define SURROGATE_LO 0xD800u
#define SURROGATE_HI 0xDFFFu

bool tg_re_set_add(tg_re_set *s, uint32_t lo, uint32_t hi)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 4;
		tg_re_range *r = realloc(s->r, cap * sizeof *r);
		if (!r)
			return false;
		s->r = r;
		s->cap = cap;
	}
	s->r[s->n++] = (tg_re_range){ lo, hi };
	return true;
}

bool tg_re_set_add_set(tg_re_set *s, const tg_re_set *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (!tg_re_set_add(s, t->r[i].lo, t->r[i].hi))
			return false;
	return true;
}

static int by_lo(const void *a, const void *b)
{
	const tg_re_range *x = a, *y = b;
	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Sorts, merges overlapping and adjacent ranges, and cuts the surrogates out. */
bool tg_re_set_normalize(tg_re_set *s)
{
	if (s->n == 0)
		return true;
	qsort(s->r, s->n, sizeof *s->r, by_lo);
	uint32_t m = 0;
	for (uint32_t i = 1; i < s->n; i++) {
		if (s->r[i].lo <= s->r[m].hi + 1) {
			if (s->r[i].hi > s->r[m].hi)
				s->r[m].hi = s->r[i].hi;
		} else {
			s->r[++m] = s->r[i];
		}
	}
	uint32_t merged = m + 1;
	/* Cutting the surrogates out of one range splits it in two: room for one more. */
	tg_re_set out = { 0 };
	for (uint32_t i = 0; i < merged; i++) {
		tg_re_range r = s->r[i];
		bool ok = true;
		if (r.hi < SURROGATE_LO || r.lo > SURROGATE_HI) {
			ok = tg_re_set_add(&out, r.lo, r.hi);
		} else {
			if (r.lo < SURROGATE_LO)
				ok = tg_re_set_add(&out, r.lo, SURROGATE_LO - 1);
			if (ok && r.hi > SURROGATE_HI)
				ok = tg_re_set_add(&out, SURROGATE_HI + 1, r.hi);
		}
		if (!ok) {
			tg_re_set_free(&out);
			return false;
		}
	}
	tg_re_set_free(s);
	*s = out;
	return true;
}

bool tg_re_set_complement(tg_re_set *s)
{
	if (!tg_re_set_normalize(s))
		return false;
	tg_re_set out = { 0 };
	uint32_t from = 0;
	bool ok = true;
	for (uint32_t i = 0; i < s->n && ok; i++) {
		if (s->r[i].lo > from)
			ok = tg_re_set_add(&out, from, s->r[i].lo - 1);
		from = s->r[i].hi + 1;
	}
	if (ok && from <= TG_RE_MAX_CP)
		ok = tg_re_set_add(&out, from, TG_RE_MAX_CP);
	if (ok)
		ok = tg_re_set_normalize(&out);
	if (!ok) {
		tg_re_set_free(&out);
		return false;
	}
	tg_re_set_free(s);
	*s = out;
	return true;
}

void tg_re_set_free(tg_re_set *s)
{
	free(s->r);
	*s = (tg_re_set){ 0 };
}
