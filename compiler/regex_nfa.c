/*
 * regex_nfa.c - syntax tree to a byte-level Thompson NFA.
 *
 * Each node becomes a fragment: a start state and an end state, an EPS
 * state whose out edge is left open for whatever follows. A code point set
 * becomes alternatives of byte-range chains (regex_utf8.c). {m,n} is
 * expanded: m copies, then n-m nested optional copies (x(x(x)?)?), or a
 * star for {m,}; the copies are rebuilt from the tree, so the NFA grows
 * with the counts, and TG_RE_MAX_NFA bounds it before the DFA stage sees it.
 */
#include <stdlib.h>

#include "regex_internal.h"

typedef struct nfa_builder {
	tg_re_nfa *nfa;
	const tg_re_ast *ast;
	bool too_big, nomem;
} nfa_builder;

typedef struct frag {
	uint32_t start, end;
} frag;

static uint32_t add_state(nfa_builder *b, tg_re_nkind kind, uint8_t lo, uint8_t hi, uint32_t out)
{
	tg_re_nfa *nfa = b->nfa;
	if (b->too_big || b->nomem)
		return TG_RE_NONE;
	if (nfa->n >= TG_RE_MAX_NFA) {
		b->too_big = true;
		return TG_RE_NONE;
	}
	if (nfa->n == nfa->cap) {
		uint32_t cap = nfa->cap ? nfa->cap * 2 : 64;
		tg_re_nstate *s = realloc(nfa->s, cap * sizeof *s);
		if (!s) {
			b->nomem = true;
			return TG_RE_NONE;
		}
		nfa->s = s;
		nfa->cap = cap;
	}
	nfa->s[nfa->n] = (tg_re_nstate){ (uint8_t)kind, lo, hi, out, TG_RE_NONE };
	return nfa->n++;
}

static uint32_t eps(nfa_builder *b)
{
	return add_state(b, TG_RE_N_EPS, 0, 0, TG_RE_NONE);
}

/* Alternatives hang off a chain of EPS states: each one's out is an
 * alternative, its out1 the next link. *link is the last link's out1 slot
 * owner (TG_RE_NONE before the first alternative). */
static bool add_alternative(nfa_builder *b, uint32_t *first, uint32_t *link, uint32_t target)
{
	uint32_t s = eps(b);
	if (s == TG_RE_NONE)
		return false;
	b->nfa->s[s].out = target;
	if (*link == TG_RE_NONE)
		*first = s;
	else
		b->nfa->s[*link].out1 = s;
	*link = s;
	return true;
}

/* Sequences of one set share their common suffixes ([E1-EC][80-BF][80-BF]
 * and [EE-EF][80-BF][80-BF] end in the same two states), as RE2 does: the
 * subset construction then meets the same NFA sets and creates about as
 * many states as the minimal DFA has, which keeps `.{300}` under the limit. */
typedef struct suffix {
	uint8_t lo, hi;
	uint32_t next, state;
} suffix;

typedef struct set_ctx {
	nfa_builder *b;
	uint32_t first, link, end;
	suffix *cache;
	uint32_t ncache, cache_cap;
} set_ctx;

static uint32_t byte_state(set_ctx *c, uint8_t lo, uint8_t hi, uint32_t next)
{
	for (uint32_t i = 0; i < c->ncache; i++)
		if (c->cache[i].lo == lo && c->cache[i].hi == hi && c->cache[i].next == next)
			return c->cache[i].state;
	uint32_t s = add_state(c->b, TG_RE_N_BYTE, lo, hi, next);
	if (s == TG_RE_NONE)
		return s;
	if (c->ncache == c->cache_cap) {
		uint32_t cap = c->cache_cap ? c->cache_cap * 2 : 16;
		suffix *cache = realloc(c->cache, cap * sizeof *cache);
		if (!cache) {
			c->b->nomem = true;
			return TG_RE_NONE;
		}
		c->cache = cache;
		c->cache_cap = cap;
	}
	c->cache[c->ncache++] = (suffix){ lo, hi, next, s };
	return s;
}

static bool add_sequence(void *ctx, const tg_re_utf8_seq *seq)
{
	set_ctx *c = ctx;
	uint32_t next = c->end;
	for (unsigned i = seq->len; i-- > 0;) {
		/* Only the continuation bytes are shared: a first byte starts
		 * its own alternative. */
		next = i > 0 ? byte_state(c, seq->lo[i], seq->hi[i], next)
			     : add_state(c->b, TG_RE_N_BYTE, seq->lo[i], seq->hi[i], next);
		if (next == TG_RE_NONE)
			return false;
	}
	return add_alternative(c->b, &c->first, &c->link, next);
}

static bool build(nfa_builder *b, uint32_t node, frag *f);

static bool build_set(nfa_builder *b, const tg_re_set *set, frag *f)
{
	set_ctx c = { b, TG_RE_NONE, TG_RE_NONE, eps(b), NULL, 0, 0 };
	bool ok = c.end != TG_RE_NONE;
	for (uint32_t i = 0; ok && i < set->n; i++)
		ok = tg_re_utf8_split(set->r[i].lo, set->r[i].hi, add_sequence, &c);
	free(c.cache);
	if (ok && c.first == TG_RE_NONE)	/* the empty set: a start that leads nowhere */
		ok = (c.first = eps(b)) != TG_RE_NONE;
	*f = (frag){ c.first, c.end };
	return ok;
}

/* x* around a fresh copy of the node. */
static bool build_star(nfa_builder *b, uint32_t node, frag *f)
{
	frag x;
	uint32_t loop = eps(b), end = eps(b);
	if (loop == TG_RE_NONE || end == TG_RE_NONE || !build(b, node, &x))
		return false;
	b->nfa->s[loop].out = x.start;
	b->nfa->s[loop].out1 = end;
	b->nfa->s[x.end].out = loop;
	*f = (frag){ loop, end };
	return true;
}

static bool build_repeat(nfa_builder *b, const tg_re_node *n, frag *f)
{
	uint32_t start = eps(b);
	if (start == TG_RE_NONE)
		return false;
	uint32_t tail = start;	/* the end state whose out is still open */
	for (uint32_t i = 0; i < n->min; i++) {
		frag x;
		if (!build(b, n->child, &x))
			return false;
		b->nfa->s[tail].out = x.start;
		tail = x.end;
	}
	if (n->max == TG_RE_INF) {
		frag x;
		if (!build_star(b, n->child, &x))
			return false;
		b->nfa->s[tail].out = x.start;
		tail = x.end;
	} else if (n->max > n->min) {
		uint32_t end = eps(b);
		if (end == TG_RE_NONE)
			return false;
		for (uint32_t i = n->min; i < n->max; i++) {
			frag x;
			uint32_t skip = eps(b);
			if (skip == TG_RE_NONE || !build(b, n->child, &x))
				return false;
			b->nfa->s[skip].out = x.start;
			b->nfa->s[skip].out1 = end;
			b->nfa->s[tail].out = skip;
			tail = x.end;
		}
		b->nfa->s[tail].out = end;
		tail = end;
	}
	*f = (frag){ start, tail };
	return true;
}

static bool build(nfa_builder *b, uint32_t node, frag *f)
{
	const tg_re_node *n = &b->ast->nodes[node];
	uint32_t s, k;
	switch (n->kind) {
	case TG_RE_SET:
		return build_set(b, &n->set, f);
	case TG_RE_REPEAT:
		return build_repeat(b, n, f);
	case TG_RE_CAT:
		s = eps(b);
		if (s == TG_RE_NONE)
			return false;
		*f = (frag){ s, s };
		for (k = n->child; k != TG_RE_NONE; k = b->ast->nodes[k].next) {
			frag x;
			if (!build(b, k, &x))
				return false;
			b->nfa->s[f->end].out = x.start;
			f->end = x.end;
		}
		return true;
	case TG_RE_ALT: {
		uint32_t first = TG_RE_NONE, link = TG_RE_NONE, end = eps(b);
		if (end == TG_RE_NONE)
			return false;
		for (k = n->child; k != TG_RE_NONE; k = b->ast->nodes[k].next) {
			frag x;
			if (!build(b, k, &x) || !add_alternative(b, &first, &link, x.start))
				return false;
			b->nfa->s[x.end].out = end;
		}
		*f = (frag){ first, end };
		return true;
	}
	case TG_RE_EMPTY:
		break;
	}
	s = eps(b);
	*f = (frag){ s, s };
	return s != TG_RE_NONE;
}

/* Where an edge to x really leads: past EPS states with a single edge,
 * which the construction leaves everywhere (each fragment's end, each
 * concatenation's start). Every closure of the subset construction walks
 * these edges, so cutting the chains once here saves most of its time.
 * Such chains never loop: every cycle of the construction passes through
 * a star's loop state, which has two edges. */
static uint32_t skip_single(const tg_re_nfa *nfa, uint32_t x)
{
	uint32_t steps = 0;
	while (x != TG_RE_NONE && nfa->s[x].kind == TG_RE_N_EPS && nfa->s[x].out1 == TG_RE_NONE &&
	       nfa->s[x].out != TG_RE_NONE && steps++ < nfa->n)
		x = nfa->s[x].out;
	return x;
}

static void shortcut(tg_re_nfa *nfa)
{
	for (uint32_t i = 0; i < nfa->n; i++) {
		nfa->s[i].out = skip_single(nfa, nfa->s[i].out);
		nfa->s[i].out1 = skip_single(nfa, nfa->s[i].out1);
	}
	nfa->start = skip_single(nfa, nfa->start);
}

bool tg_re_nfa_build(const tg_re_ast *ast, size_t pattern_len, tg_re_nfa *nfa, tg_re_error *err)
{
	nfa_builder b = { nfa, ast, false, false };
	*nfa = (tg_re_nfa){ 0 };
	frag f;
	if (build(&b, ast->root, &f)) {
		uint32_t match = add_state(&b, TG_RE_N_MATCH, 0, 0, TG_RE_NONE);
		if (match != TG_RE_NONE) {
			nfa->s[f.end].out = match;
			nfa->start = f.start;
			shortcut(nfa);
			return true;
		}
	}
	if (b.too_big)
		tg_re_errorf(err, 0, "the pattern needs more than %u NFA states once its repetitions are expanded "
			     "(pattern of %zu bytes); lower the {m,n} counts or split it into several conditions",
			     TG_RE_MAX_NFA, pattern_len);
	else
		tg_re_errorf(err, 0, "out of memory compiling the pattern");
	return false;
}

void tg_re_nfa_free(tg_re_nfa *nfa)
{
	free(nfa->s);
	*nfa = (tg_re_nfa){ 0 };
}
