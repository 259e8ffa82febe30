/*
 * regex_dfa.c - byte-level NFA to the canonical minimal DFA.
 *
 * 1. Byte classes of the NFA: the bytes between two consecutive range
 *    boundaries of its BYTE states behave alike, so the subset
 *    construction steps over classes, not over 256 bytes.
 * 2. Subset construction: a DFA state is the set of the NFA's BYTE
 *    and MATCH states reached through epsilon edges. The empty set is the
 *    dead state. Past TG_RE_MAX_STATES states the pattern is refused, and
 *    past TG_RE_MAX_WORK closure steps too: a few thousand states whose
 *    NFA sets hold thousands of states each would otherwise take seconds.
 * 3. Hopcroft's minimization, on a refinable partition (states of a block
 *    are contiguous in one array, the marked ones moved to its front), so
 *    a chain of a thousand states costs n log n, not n^2.
 * 4. Byte classes again, now of the minimal DFA: bytes whose columns are
 *    equal everywhere merge, numbered in order of their first byte.
 * 5. States renumbered breadth-first from the start over classes 0..k-1.
 *    Steps 3-5 make the result depend only on the language: two patterns
 *    meaning the same thing give byte-identical tables.
 */
#include <stdlib.h>
#include <string.h>

#include "regex_internal.h"

/* ---- 1 + 2: subset construction ---- */

typedef struct subset {
	const tg_re_nfa *nfa;
	uint8_t cls[256];
	uint32_t ncls;
	/* DFA states: their NFA sets end to end in pool */
	uint32_t *pool;
	size_t pool_n, pool_cap;
	size_t *off;
	uint32_t *len;
	uint32_t n, cap;
	uint32_t *trans;	/* n * ncls */
	uint8_t *accept;
	uint32_t *table;	/* open addressing: state + 1, 0 empty */
	uint32_t table_cap;
	/* scratch for closures */
	uint32_t *mark, gen, *stack, *buf, nbuf;
	/* scratch for the targets of one state, grouped by class */
	uint32_t *bucket, bucket_cap, count[257], target_hash[256];
	uint64_t work;		/* closure steps so far, against TG_RE_MAX_WORK */
	bool too_big, too_slow, nomem;
} subset;

static void nfa_classes(subset *d)
{
	bool cut[257] = { false };
	for (uint32_t i = 0; i < d->nfa->n; i++) {
		const tg_re_nstate *s = &d->nfa->s[i];
		if (s->kind == TG_RE_N_BYTE) {
			cut[s->lo] = true;
			cut[s->hi + 1] = true;
		}
	}
	uint32_t c = 0;
	for (unsigned b = 0; b < 256; b++) {
		if (cut[b] && b > 0)
			c++;
		d->cls[b] = (uint8_t)c;
	}
	d->ncls = c + 1;
}

static void closure_push(subset *d, uint32_t s, uint32_t *top)
{
	if (s != TG_RE_NONE && d->mark[s] != d->gen) {
		d->mark[s] = d->gen;
		d->stack[(*top)++] = s;
	}
}

/* d->buf = the BYTE and MATCH states reachable from seeds[0..n), in no
 * particular order: mark[s] == gen tells membership, which is all intern
 * needs to compare sets, and skipping the sort halves the construction. */
static void closure(subset *d, const uint32_t *seeds, uint32_t n)
{
	uint32_t top = 0;
	d->gen++;
	d->nbuf = 0;
	for (uint32_t i = 0; i < n; i++)
		closure_push(d, seeds[i], &top);
	d->work += n;
	while (top > 0) {
		uint32_t s = d->stack[--top];
		d->work++;
		const tg_re_nstate *st = &d->nfa->s[s];
		if (st->kind == TG_RE_N_EPS) {
			closure_push(d, st->out, &top);
			closure_push(d, st->out1, &top);
		} else {
			d->buf[d->nbuf++] = s;
		}
	}
}

/* Order-independent: a sum of mixed members. */
static uint32_t hash_set(const uint32_t *s, uint32_t n)
{
	uint32_t h = n * 0x9E3779B1u;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t x = s[i] * 0x85EBCA6Bu;
		x ^= x >> 13;
		x *= 0xC2B2AE35u;
		h += x ^ (x >> 16);
	}
	return h;
}

/* Whether stored state s holds exactly the set of the last closure. */
static bool same_as_closure(const subset *d, uint32_t s)
{
	if (d->len[s] != d->nbuf)
		return false;
	const uint32_t *set = d->pool + d->off[s];
	for (uint32_t i = 0; i < d->nbuf; i++)
		if (d->mark[set[i]] != d->gen)
			return false;
	return true;
}

static bool grow_table(subset *d)
{
	uint32_t cap = d->table_cap ? d->table_cap * 2 : 64;
	uint32_t *t = calloc(cap, sizeof *t);
	if (!t)
		return false;
	for (uint32_t i = 0; i < d->n; i++) {
		uint32_t h = hash_set(d->pool + d->off[i], d->len[i]) & (cap - 1);
		while (t[h])
			h = (h + 1) & (cap - 1);
		t[h] = i + 1;
	}
	free(d->table);
	d->table = t;
	d->table_cap = cap;
	return true;
}

static bool grow_states(subset *d)
{
	uint32_t cap = d->cap ? d->cap * 2 : 16;
	size_t *off = realloc(d->off, cap * sizeof *off);
	if (off)
		d->off = off;
	uint32_t *len = realloc(d->len, cap * sizeof *len);
	if (len)
		d->len = len;
	uint32_t *trans = realloc(d->trans, (size_t)cap * d->ncls * sizeof *trans);
	if (trans)
		d->trans = trans;
	uint8_t *accept = realloc(d->accept, cap);
	if (accept)
		d->accept = accept;
	if (!off || !len || !trans || !accept)
		return false;
	d->cap = cap;
	return true;
}

/* The DFA state for the set of the last closure (d->buf), created if new;
 * TG_RE_NONE on failure. */
static uint32_t intern(subset *d)
{
	if (d->n * 2 >= d->table_cap && !grow_table(d)) {
		d->nomem = true;
		return TG_RE_NONE;
	}
	uint32_t h = hash_set(d->buf, d->nbuf) & (d->table_cap - 1);
	for (; d->table[h]; h = (h + 1) & (d->table_cap - 1)) {
		uint32_t s = d->table[h] - 1;
		if (same_as_closure(d, s))
			return s;
	}
	if (d->n >= TG_RE_MAX_STATES) {
		d->too_big = true;
		return TG_RE_NONE;
	}
	if (d->n == d->cap && !grow_states(d)) {
		d->nomem = true;
		return TG_RE_NONE;
	}
	if (d->pool_n + d->nbuf > d->pool_cap) {
		size_t cap = d->pool_cap ? d->pool_cap : 256;
		while (cap < d->pool_n + d->nbuf)
			cap *= 2;
		uint32_t *pool = realloc(d->pool, cap * sizeof *pool);
		if (!pool) {
			d->nomem = true;
			return TG_RE_NONE;
		}
		d->pool = pool;
		d->pool_cap = cap;
	}
	uint32_t s = d->n++;
	if (d->nbuf > 0)
		memcpy(d->pool + d->pool_n, d->buf, d->nbuf * sizeof *d->buf);
	d->off[s] = d->pool_n;
	d->len[s] = d->nbuf;
	d->pool_n += d->nbuf;
	d->accept[s] = 0;
	for (uint32_t i = 0; i < d->nbuf; i++)
		if (d->nfa->s[d->buf[i]].kind == TG_RE_N_MATCH)
			d->accept[s] = 1;
	d->table[h] = s + 1;
	return s;
}

/* Groups the BYTE states of DFA state s by the classes their ranges cover:
 * bucket[count[c]..count[c+1]) are the NFA targets on class c. */
static bool group_targets(subset *d, uint32_t s)
{
	const uint32_t *set = d->pool + d->off[s];
	uint32_t n = d->len[s];
	memset(d->count, 0, sizeof d->count);
	for (uint32_t i = 0; i < n; i++) {
		const tg_re_nstate *st = &d->nfa->s[set[i]];
		if (st->kind == TG_RE_N_BYTE)
			for (uint32_t c = d->cls[st->lo]; c <= d->cls[st->hi]; c++)
				d->count[c + 1]++;
	}
	for (uint32_t c = 0; c < d->ncls; c++)
		d->count[c + 1] += d->count[c];
	uint32_t total = d->count[d->ncls];
	d->work += n + total;
	if (total > d->bucket_cap) {
		uint32_t *bucket = realloc(d->bucket, total * sizeof *bucket);
		if (!bucket)
			return false;
		d->bucket = bucket;
		d->bucket_cap = total;
	}
	uint32_t fill[256];
	memcpy(fill, d->count, sizeof fill);
	for (uint32_t i = 0; i < n; i++) {
		const tg_re_nstate *st = &d->nfa->s[set[i]];
		if (st->kind == TG_RE_N_BYTE)
			for (uint32_t c = d->cls[st->lo]; c <= d->cls[st->hi]; c++)
				d->bucket[fill[c]++] = st->out;
	}
	return true;
}

/* The DFA state an earlier class of state s went to with the same NFA
 * targets, in the same order (as [aceg] gives: one BYTE state per letter,
 * all leading to the same place), or TG_RE_NONE. Hashing the targets is
 * much cheaper than the closure it saves. */
static uint32_t same_targets(subset *d, uint32_t s, uint32_t c)
{
	const uint32_t *targets = d->bucket + d->count[c];
	uint32_t n = d->count[c + 1] - d->count[c], h = 2166136261u;
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ targets[i]) * 16777619u;
	d->target_hash[c] = h;
	d->work += n;
	for (uint32_t e = 0; e < c; e++)
		if (d->target_hash[e] == h && d->count[e + 1] - d->count[e] == n &&
		    (n == 0 || memcmp(d->bucket + d->count[e], targets, n * sizeof *targets) == 0))
			return d->trans[(size_t)s * d->ncls + e];
	return TG_RE_NONE;
}

static bool subset_construct(subset *d)
{
	uint32_t n = d->nfa->n;
	d->mark = calloc(n, sizeof *d->mark);
	d->stack = malloc(n * sizeof *d->stack);
	d->buf = malloc(n * sizeof *d->buf);
	/* Never NULL, even when every set is empty ([^\s\S]): pointer
	 * arithmetic on them must stay defined. */
	d->bucket_cap = 64;
	d->bucket = malloc(d->bucket_cap * sizeof *d->bucket);
	d->pool_cap = 256;
	d->pool = malloc(d->pool_cap * sizeof *d->pool);
	if (!d->mark || !d->stack || !d->buf || !d->bucket || !d->pool) {
		d->nomem = true;
		return false;
	}
	nfa_classes(d);
	closure(d, &d->nfa->start, 1);
	if (intern(d) == TG_RE_NONE)
		return false;
	for (uint32_t s = 0; s < d->n; s++) {
		if (!group_targets(d, s)) {
			d->nomem = true;
			return false;
		}
		for (uint32_t c = 0; c < d->ncls; c++) {
			uint32_t t = same_targets(d, s, c);
			if (t == TG_RE_NONE) {
				closure(d, d->bucket + d->count[c], d->count[c + 1] - d->count[c]);
				t = intern(d);
				if (t == TG_RE_NONE)
					return false;
			}
			d->trans[(size_t)s * d->ncls + c] = t;
		}
		if (d->work > TG_RE_MAX_WORK) {
			d->too_slow = true;
			return false;
		}
	}
	return true;
}

static void subset_free(subset *d)
{
	free(d->pool);
	free(d->off);
	free(d->len);
	free(d->trans);
	free(d->accept);
	free(d->table);
	free(d->mark);
	free(d->stack);
	free(d->buf);
	free(d->bucket);
}

/* ---- 3: Hopcroft's minimization ---- */

typedef struct partition {
	uint32_t *elems, *loc, *blk;	/* per state */
	uint32_t *first, *end, *mid;	/* per block: [first, end), marked [first, mid) */
	uint32_t nblocks;
	uint8_t *in_work;
	uint32_t *work, nwork;
	uint32_t *touched, ntouched;
} partition;

static void mark_state(partition *p, uint32_t s)
{
	uint32_t b = p->blk[s], i = p->loc[s], m = p->mid[b];
	if (i < m)
		return;
	if (m == p->first[b])
		p->touched[p->ntouched++] = b;
	uint32_t other = p->elems[m];
	p->elems[m] = s;
	p->loc[s] = m;
	p->elems[i] = other;
	p->loc[other] = i;
	p->mid[b] = m + 1;
}

static void push_work(partition *p, uint32_t b)
{
	if (!p->in_work[b]) {
		p->in_work[b] = 1;
		p->work[p->nwork++] = b;
	}
}

/* Splits every touched block into its marked and unmarked states. */
static void split_touched(partition *p)
{
	for (uint32_t t = 0; t < p->ntouched; t++) {
		uint32_t b = p->touched[t];
		if (p->mid[b] == p->end[b]) {
			p->mid[b] = p->first[b];
			continue;
		}
		uint32_t nb = p->nblocks++;
		p->first[nb] = p->first[b];
		p->end[nb] = p->mid[b];
		p->mid[nb] = p->first[nb];
		p->first[b] = p->mid[b];
		p->in_work[nb] = 0;
		for (uint32_t i = p->first[nb]; i < p->end[nb]; i++)
			p->blk[p->elems[i]] = nb;
		if (p->in_work[b] || p->end[nb] - p->first[nb] < p->end[b] - p->first[b])
			push_work(p, nb);
		else
			push_work(p, b);
	}
	p->ntouched = 0;
}

/* block[s] for each state s of the DFA (n states, k classes); returns the
 * number of blocks, 0 when out of memory. */
static uint32_t minimize(uint32_t n, uint32_t k, const uint32_t *trans, const uint8_t *accept, uint32_t *block)
{
	size_t nk = (size_t)n * k;
	uint32_t *inv_off = calloc(nk + 1, sizeof *inv_off);
	uint32_t *inv = malloc(nk * sizeof *inv);
	uint32_t *splitter = malloc(n * sizeof *splitter);
	partition p = { 0 };
	p.elems = malloc(n * sizeof *p.elems);
	p.loc = malloc(n * sizeof *p.loc);
	p.blk = block;
	p.first = malloc(n * sizeof *p.first);
	p.end = malloc(n * sizeof *p.end);
	p.mid = malloc(n * sizeof *p.mid);
	p.in_work = calloc(n, 1);
	p.work = malloc(n * sizeof *p.work);
	p.touched = malloc(n * sizeof *p.touched);
	uint32_t result = 0;
	if (!inv_off || !inv || !splitter || !p.elems || !p.loc || !p.first || !p.end || !p.mid ||
	    !p.in_work || !p.work || !p.touched)
		goto done;

	/* Predecessors of (target, class), as compressed rows. */
	for (size_t i = 0; i < nk; i++)
		inv_off[(size_t)trans[i] * k + i % k + 1]++;
	for (size_t i = 0; i < nk; i++)
		inv_off[i + 1] += inv_off[i];
	for (size_t i = 0; i < nk; i++) {
		size_t row = (size_t)trans[i] * k + i % k;
		inv[inv_off[row]++] = (uint32_t)(i / k);
	}
	for (size_t i = nk; i > 0; i--)	/* the fill moved each start to the next row's */
		inv_off[i] = inv_off[i - 1];
	inv_off[0] = 0;

	/* Accepting states, then the others. */
	uint32_t m = 0;
	for (int pass = 1; pass >= 0; pass--) {
		uint32_t from = m;
		for (uint32_t s = 0; s < n; s++) {
			if (accept[s] == pass) {
				p.elems[m] = s;
				p.loc[s] = m++;
			}
		}
		if (m > from) {
			uint32_t b = p.nblocks++;
			p.first[b] = p.mid[b] = from;
			p.end[b] = m;
			for (uint32_t i = from; i < m; i++)
				block[p.elems[i]] = b;
			push_work(&p, b);
		}
	}

	while (p.nwork > 0) {
		uint32_t a = p.work[--p.nwork];
		p.in_work[a] = 0;
		uint32_t len = p.end[a] - p.first[a];
		memcpy(splitter, p.elems + p.first[a], len * sizeof *splitter);
		for (uint32_t c = 0; c < k; c++) {
			for (uint32_t i = 0; i < len; i++) {
				size_t row = (size_t)splitter[i] * k + c;
				for (uint32_t j = inv_off[row]; j < inv_off[row + 1]; j++)
					mark_state(&p, inv[j]);
			}
			split_touched(&p);
		}
	}
	result = p.nblocks;
done:
	free(inv_off);
	free(inv);
	free(splitter);
	free(p.elems);
	free(p.loc);
	free(p.first);
	free(p.end);
	free(p.mid);
	free(p.in_work);
	free(p.work);
	free(p.touched);
	return result;
}

/* ---- 4 + 5: canonical classes and numbering ---- */

static uint64_t hash_column(const uint32_t *t, uint32_t n, uint32_t k, uint32_t c)
{
	uint64_t h = 1469598103934665603u;
	for (uint32_t s = 0; s < n; s++)
		h = (h ^ t[(size_t)s * k + c]) * 1099511628211u;
	return h;
}

static bool same_column(const uint32_t *t, uint32_t n, uint32_t k, uint32_t a, uint32_t b)
{
	for (uint32_t s = 0; s < n; s++)
		if (t[(size_t)s * k + a] != t[(size_t)s * k + b])
			return false;
	return true;
}

/* The minimal DFA (nb states, table qt over the k NFA classes, start
 * qstart) written canonically into out. */
static bool canonical(const subset *d, uint32_t nb, const uint32_t *qt, const uint8_t *qaccept,
		      uint32_t qstart, tg_re_dfa *out)
{
	uint32_t k = d->ncls;
	uint64_t hash[256];
	uint32_t merged[256], rep[256], nc = 0;	/* NFA class -> final class; final class -> an NFA class */
	for (uint32_t c = 0; c < k; c++) {
		hash[c] = hash_column(qt, nb, k, c);
		merged[c] = TG_RE_NONE;
		for (uint32_t f = 0; f < nc; f++) {
			if (hash[rep[f]] == hash[c] && same_column(qt, nb, k, rep[f], c)) {
				merged[c] = f;
				break;
			}
		}
		if (merged[c] == TG_RE_NONE) {
			rep[nc] = c;
			merged[c] = nc++;
		}
	}
	uint32_t *order = malloc(nb * sizeof *order), *number = malloc(nb * sizeof *number);
	out->next = malloc((size_t)nb * nc * sizeof *out->next);
	out->accept = malloc(nb);
	if (!order || !number || !out->next || !out->accept) {
		free(order);
		free(number);
		return false;
	}
	for (uint32_t s = 0; s < nb; s++)
		number[s] = TG_RE_NONE;
	uint32_t n = 0;
	order[n] = qstart;
	number[qstart] = n++;
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t f = 0; f < nc; f++) {
			uint32_t t = qt[(size_t)order[i] * k + rep[f]];
			if (number[t] == TG_RE_NONE) {
				order[n] = t;
				number[t] = n++;
			}
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		out->accept[i] = qaccept[order[i]];
		for (uint32_t f = 0; f < nc; f++)
			out->next[(size_t)i * nc + f] = (uint16_t)number[qt[(size_t)order[i] * k + rep[f]]];
	}
	for (unsigned b = 0; b < 256; b++)
		out->classes[b] = (uint8_t)merged[d->cls[b]];
	out->nstates = n;
	out->nclasses = nc;
	free(order);
	free(number);
	return true;
}

bool tg_re_dfa_build(const tg_re_nfa *nfa, size_t pattern_len, tg_re_dfa *out, tg_re_error *err)
{
	subset d = { .nfa = nfa };
	uint32_t *block = NULL, *qt = NULL;
	uint8_t *qaccept = NULL;
	bool ok = false;
	memset(out, 0, sizeof *out);
	if (!subset_construct(&d))
		goto done;
	uint32_t k = d.ncls;
	block = malloc(d.n * sizeof *block);
	if (!block)
		goto nomem;
	uint32_t nb = minimize(d.n, k, d.trans, d.accept, block);
	qt = malloc((size_t)nb * k * sizeof *qt);
	qaccept = malloc(nb);
	if (nb == 0 || !qt || !qaccept)
		goto nomem;
	for (uint32_t s = 0; s < d.n; s++) {
		qaccept[block[s]] = d.accept[s];
		for (uint32_t c = 0; c < k; c++)
			qt[(size_t)block[s] * k + c] = block[d.trans[(size_t)s * k + c]];
	}
	if (!canonical(&d, nb, qt, qaccept, block[0], out))
		goto nomem;
	ok = true;
	goto done;
nomem:
	d.nomem = true;
done:
	if (!ok) {
		if (d.too_big)
			tg_re_errorf(err, 0, "the pattern needs more than %u DFA states (pattern of %zu bytes); "
				     "simplify it or split it into several conditions", TG_RE_MAX_STATES, pattern_len);
		else if (d.too_slow)
			tg_re_errorf(err, 0, "the pattern is too complex to compile: building its automaton takes "
				     "more than %u million steps (pattern of %zu bytes); simplify it or split it "
				     "into several conditions", TG_RE_MAX_WORK / 1000000u, pattern_len);
		else
			tg_re_errorf(err, 0, "out of memory compiling the pattern");
		free(out->next);
		free(out->accept);
		memset(out, 0, sizeof *out);
	}
	free(block);
	free(qt);
	free(qaccept);
	subset_free(&d);
	return ok;
}
