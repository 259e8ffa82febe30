/*
 * glob.c - glob matching and `under`.
 *
 * Glob semantics (DESIGN "Globs"): `*` matches any run of characters other
 * than `/`, `**` (or a longer run of stars) any run at all, slash-star-star-slash
 * also matches a single `/`, `?` one UTF-8 code point other than `/`, `\`
 * makes the next character literal. No classes; byte-exact comparison.
 *
 * Model: a position automaton over the glob's tokens (a literal code point,
 * `?`, `*`, a `**` run), simulated bit-parallel in the Shift-And manner.
 * Bit p of the state says "the subject read so far leaves token p as the
 * next to match"; bit T (T tokens) is acceptance. The subject is read one
 * code point at a time and each step moves every live position at once
 * with a few word operations, 64 positions per word:
 *
 *   lit  = state & LIT[c]               literals equal to code point c
 *   next = (lit | state & ANY1) << 1    literals and `?` advance
 *        | (lit & SKIP) << 3            slash-star-star-slash (below)
 *        | state & LOOP                 stars stay
 *   next |= (next & EPS) << 1           a star may match nothing
 *
 * On a `/`, ANY1 is empty and LOOP keeps only the `**` runs.
 *
 * LIT[c] is the set of literal tokens equal to c. SKIP marks a literal that
 * the `**` of a slash-star-star-slash follows: entering the `**` from that
 * literal may also jump past the `/` after it (so the whole matches one
 * `/`), which is never allowed once the stars consumed something (`a/` `**`
 * `/b` must not match `a/xb`). The epsilon closure is one shift because
 * star runs are maximal: the token after a star is never a star.
 *
 * The masks live in a program: a block sized to the glob (its tokens, its
 * literal classes, the multi-byte table slots it needs), built in time
 * linear in the glob. Per distinct literal code point it holds a short
 * list of (word, bits) pairs, found through a byte table or, for other
 * code points, a small hash table. The loader compiles every policy
 * pattern that takes this matcher once (tg_glob_progs_build), so
 * evaluation only runs programs, in a frame of a few state words;
 * tg_glob_match_from, which has no policy, compiles into its own frame
 * (1 KiB for one-word globs of a few dozen literals, some 10 KiB for the
 * longest). Matching is O(glob / 64) word operations per subject code
 * point, never allocates, and cannot backtrack: about 260 instructions
 * per code point with all 512 positions live, against some 58,000 for the
 * position-set NFA this replaced (`tg-bench glob`). The state only visits
 * the words between its lowest and highest live ones.
 *
 * The compiled pattern stores the literal prefix before the first wildcard;
 * it is compared with memcmp and only the rest runs through the automaton.
 */
#include "policy.h"

#include <stdlib.h>
#include <string.h>

#define MAXTOK TG_BC_GLOB_MAX			/* each token spans at least one byte */
#define NWORDS ((MAXTOK + 1 + 63) / 64)		/* positions 0..MAXTOK */

enum { TOK_LIT, TOK_ANY1, TOK_STAR, TOK_DSTAR, TOK_DSTAR_SLASH };

/* Length of the UTF-8 sequence starting at s[0] (1 for a stray byte). */
static size_t cp_len(const unsigned char *s, size_t avail)
{
	size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 1;
	if (n > avail)
		n = 1;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 1;
	return n;
}

typedef struct tok {
	int kind;
	size_t len;		/* bytes of glob text the token spans */
	size_t lit, litlen;	/* TOK_LIT: the literal code point's bytes */
} tok;

static tok token_at(const unsigned char *g, size_t glen, size_t i)
{
	tok t = { TOK_LIT, 1, i, 1 };
	if (g[i] == '*') {
		size_t j = i;
		while (j < glen && g[j] == '*')
			j++;
		t.len = j - i;
		t.kind = t.len == 1 ? TOK_STAR
			 : i > 0 && g[i - 1] == '/' && j < glen && g[j] == '/' ? TOK_DSTAR_SLASH
			 : TOK_DSTAR;
	} else if (g[i] == '?') {
		t.kind = TOK_ANY1;
	} else if (g[i] == '\\' && i + 1 < glen) {
		t.lit = i + 1;
		t.litlen = cp_len(g + i + 1, glen - i - 1);
		t.len = 1 + t.litlen;
	} else {
		t.litlen = cp_len(g + i, glen - i);
		t.len = t.litlen;
	}
	return t;
}

/*
 * A compiled glob: this header, then arrays at the offsets it records, in
 * one block sized to the glob. Literals are grouped into classes (equal
 * code points, one class); class 0 is "no literal equals this code point"
 * and its mask is 0. ASCII classes are 1..nascii, found through byte_cls;
 * the others (stray bytes and multi-byte code points) nascii + 1.. through
 * an open-addressing table keyed by the code point's bytes, at most two
 * thirds full.
 *
 *   uint64_t mask[5][S]	loop, dloop, any1, eps, skip; word w of each
 *				at [k][w], S = 1 for one word, else NWORDS
 *				(fixed offsets from one base: fewer
 *				registers in step's loop)
 *   uint64_t ent[nent]		one word (nw == 1): class c's mask is ent[c];
 *				else class c's masks for the words in
 *				words[c] (bit w: word w), in word order,
 *				from ent[first[c]] on
 *   uint32_t mb_key[1 << mb_bits]	(0: empty slot)
 *   uint16_t mb_cls[1 << mb_bits]
 *   uint16_t first[ncls + 1], words[ncls + 1]	nw > 1 only
 */
typedef struct gprog {
	uint32_t size;			/* bytes, a multiple of 8 */
	uint16_t ntok, nascii, ncls, nent, nmb;
	uint16_t o_ent, o_mbkey, o_mbcls, o_first, o_words;
	uint8_t nw, mb_bits;
	bool start_skip;		/* token 0 is a slash-star-star-slash `**` */
	bool with_skip;			/* some literal has a skip bit */
	uint8_t byte_cls[128];
} gprog;

#define HDR ((sizeof(gprog) + 7) & ~(size_t)7)

enum { M_LOOP, M_DLOOP, M_ANY1, M_EPS, M_SKIP };

/* The masks' stride. */
static size_t mstride(size_t nw)
{
	return nw == 1 ? 1 : NWORDS;
}

/* What a program must have room for. From prescan these are bounds
 * (classes and entries counted per literal token); from a compiled
 * program's counts, exact. */
typedef struct caps {
	size_t ntok, nw, nascii, ncls, nent, nmb;
} caps;

/* The largest program: NWORDS state words, an entry and a class per
 * token, and the table for at most 128 distinct stray bytes plus 192
 * two-byte code points (320 keys, 512 slots at two thirds). */
#define MB_SLOTS_MAX 512
#define PROG_MAX ((HDR + 40 * NWORDS + 12 * (MAXTOK + 1) + 6 * MB_SLOTS_MAX + 7) & ~(size_t)7)
/* tg_glob_match_from's frame for the globs most calls have (one word, a
 * few dozen literals); longer ones take a PROG_MAX frame. */
#define PROG_SMALL 1024

static unsigned mb_bits_for(size_t n)
{
	unsigned b = 1;
	if (!n)
		return 0;
	while (((size_t)2 << b) < 3 * n)
		b++;
	return b;
}

_Static_assert(NWORDS <= 16, "a class's words fit a uint16_t");

/* Bits set in x. */
static size_t popcount(unsigned x)
{
	size_t n = 0;
	for (; x; x &= x - 1)
		n++;
	return n;
}

/* Where a program with room c keeps its arrays, and its size. */
typedef struct offs {
	uint16_t ent, mbkey, mbcls, first, words;
	size_t size;
} offs;

static offs layout(const caps *c)
{
	offs o;
	size_t slots = c->nmb ? (size_t)1 << mb_bits_for(c->nmb) : 0;
	size_t off = HDR + 40 * mstride(c->nw);
	o.ent = (uint16_t)off;
	off += 8 * c->nent;
	o.mbkey = (uint16_t)off;
	off += 4 * slots;
	o.mbcls = (uint16_t)off;
	off += 2 * slots;
	o.first = (uint16_t)off;
	o.words = (uint16_t)(off + 2 * (c->ncls + 1));
	if (c->nw > 1)
		off += 4 * (c->ncls + 1);
	o.size = (off + 7) & ~(size_t)7;
	return o;
}

#define AT(pr, type, o) ((type *)(void *)((unsigned char *)(pr) + (pr)->o))
#define CAT(pr, type, o) ((const type *)(const void *)((const unsigned char *)(pr) + (pr)->o))

static uint64_t *masks(gprog *pr)
{
	return (uint64_t *)(void *)((unsigned char *)pr + HDR);
}

static const uint64_t *cmasks(const gprog *pr)
{
	return (const uint64_t *)(const void *)((const unsigned char *)pr + HDR);
}

/* Bounds for g[from..glen): tokens, and classes as distinct one-byte
 * literals plus multi-byte literal tokens. */
static void prescan(caps *c, const unsigned char *g, size_t glen, size_t from)
{
	uint64_t seen[4] = { 0 };
	size_t ntok = 0, nlit = 0, nascii = 0, nmb = 0;
	for (size_t i = from; i < glen; ntok++) {
		tok t = token_at(g, glen, i);
		if (t.kind == TOK_LIT) {
			unsigned b = g[t.lit];
			nlit++;
			if (t.litlen > 1) {
				nmb++;
			} else if (!((seen[b / 64] >> (b % 64)) & 1)) {
				seen[b / 64] |= (uint64_t)1 << (b % 64);
				if (b < 128)
					nascii++;
				else
					nmb++;
			}
		}
		i += t.len;
	}
	c->ntok = ntok;
	c->nw = ntok / 64 + 1;
	c->nascii = nascii;
	c->nmb = nmb;
	c->ncls = nascii + nmb;
	c->nent = c->nw == 1 ? c->ncls + 1 : nlit + 1;
}

/* A code point's bytes as one number. cp_len admits continuation bytes
 * only, so each length has its own range (< 2^8, 2^15.., 2^23.., 2^31..):
 * equal keys mean equal length and bytes. */
static uint32_t cp_key(const unsigned char *s, size_t n)
{
	uint32_t k = 0;
	for (size_t i = 0; i < n; i++)
		k |= (uint32_t)s[i] << (8 * i);
	return k;
}

static size_t mb_slot(unsigned bits, uint32_t key)
{
	return (size_t)((key * 2654435761u) >> (32 - bits));
}

/* The class of a non-ASCII code point (key >= 128), 0 when no literal. */
static uint16_t mb_find(const gprog *pr, uint32_t key)
{
	const uint32_t *mk = CAT(pr, uint32_t, o_mbkey);
	size_t mask = ((size_t)1 << pr->mb_bits) - 1;
	for (size_t i = mb_slot(pr->mb_bits, key);; i = (i + 1) & mask) {
		if (mk[i] == key)
			return CAT(pr, uint16_t, o_mbcls)[i];
		if (mk[i] == 0)
			return 0;
	}
}

/* The class of a literal, a new one if it is the first of its kind. */
static uint16_t class_of(gprog *pr, uint32_t key)
{
	if (key < 128) {
		if (!pr->byte_cls[key])
			pr->byte_cls[key] = (uint8_t)++pr->ncls;
		return pr->byte_cls[key];
	}
	uint32_t *mk = AT(pr, uint32_t, o_mbkey);
	size_t mask = ((size_t)1 << pr->mb_bits) - 1, i = mb_slot(pr->mb_bits, key);
	while (mk[i] && mk[i] != key)
		i = (i + 1) & mask;
	if (!mk[i]) {
		mk[i] = key;
		AT(pr, uint16_t, o_mbcls)[i] = (uint16_t)(pr->nascii + ++pr->nmb);
	}
	return AT(pr, uint16_t, o_mbcls)[i];
}

/* Compiles g[from..glen), at most MAXTOK bytes, into pr, which has room
 * for layout(c) bytes. Two passes over the glob: the first finds the
 * classes and the wildcard masks (and, for several words, counts each
 * class's entries), the second places the entries. */
static void compile(gprog *pr, const caps *c, const unsigned char *g, size_t glen, size_t from)
{
	offs o = layout(c);
	memset(pr, 0, o.size);
	pr->size = (uint32_t)o.size;
	pr->o_ent = o.ent;
	pr->o_mbkey = o.mbkey;
	pr->o_mbcls = o.mbcls;
	pr->o_first = o.first;
	pr->o_words = o.words;
	pr->ntok = (uint16_t)c->ntok;
	pr->nw = (uint8_t)c->nw;
	pr->nascii = (uint16_t)c->nascii;
	pr->mb_bits = (uint8_t)mb_bits_for(c->nmb);
	size_t nw = c->nw, ms = mstride(nw);
	uint64_t *m = masks(pr), *ent = AT(pr, uint64_t, o_ent);
	uint16_t *first = AT(pr, uint16_t, o_first), *words = AT(pr, uint16_t, o_words);
	for (size_t i = from, p = 0; i < glen; p++) {
		tok t = token_at(g, glen, i);
		uint64_t bit = (uint64_t)1 << (p % 64);
		size_t w = p / 64;
		uint64_t *mw = m + w;
		switch (t.kind) {
		case TOK_LIT: {
			uint16_t k = class_of(pr, cp_key(g + t.lit, t.litlen));
			if (nw == 1)
				ent[k] |= bit;
			else
				words[k] |= (uint16_t)(1u << w);
			break;
		}
		case TOK_ANY1:
			mw[M_ANY1 * ms] |= bit;
			break;
		case TOK_STAR:
			mw[M_LOOP * ms] |= bit;
			mw[M_EPS * ms] |= bit;
			break;
		case TOK_DSTAR_SLASH:
			if (p == 0) {
				pr->start_skip = true;
			} else {
				m[M_SKIP * ms + (p - 1) / 64] |= (uint64_t)1 << ((p - 1) % 64);
				pr->with_skip = true;
			}
			/* fall through */
		default:
			mw[M_LOOP * ms] |= bit;
			mw[M_DLOOP * ms] |= bit;
			mw[M_EPS * ms] |= bit;
		}
		i += t.len;
	}
	pr->ncls += pr->nmb;
	if (nw == 1) {
		pr->nent = (uint16_t)(pr->ncls + 1);
		return;
	}
	/* pass 2 */
	size_t at = 0;
	for (size_t k = 1; k <= pr->ncls; k++) {
		first[k] = (uint16_t)at;
		at += popcount(words[k]);
	}
	pr->nent = (uint16_t)at;
	for (size_t i = from, p = 0; i < glen; p++) {
		tok t = token_at(g, glen, i);
		i += t.len;
		if (t.kind != TOK_LIT)
			continue;
		uint32_t key = cp_key(g + t.lit, t.litlen);
		uint16_t k = key < 128 ? pr->byte_cls[key] : mb_find(pr, key);
		size_t w = p / 64;
		ent[first[k] + popcount(words[k] & ((1u << w) - 1))] |= (uint64_t)1 << (p % 64);
	}
}

/* The class of the subject's code point s[0..n). */
static inline uint16_t subject_class(const gprog *pr, const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return pr->byte_cls[s[0]];
	return pr->mb_bits ? mb_find(pr, cp_key(s, n)) : 0;
}

/* Globs of up to 63 tokens: the whole state in one word. */
static bool run1(const gprog *pr, const unsigned char *s, size_t slen)
{
	const uint64_t *m = cmasks(pr), *ent = CAT(pr, uint64_t, o_ent);
	uint64_t loop = m[M_LOOP], dloop = m[M_DLOOP], any1 = m[M_ANY1], eps = m[M_EPS],
		 skip = m[M_SKIP];
	uint64_t d = 1;
	if (pr->start_skip)
		d |= 4;
	d |= (d & eps) << 1;
	for (size_t j = 0; j < slen;) {
		size_t cl = s[j] < 0x80 ? 1 : cp_len(s + j, slen - j);
		bool slash = s[j] == '/';
		uint64_t a = d & ent[subject_class(pr, s + j, cl)];
		uint64_t nx = ((a | (d & (slash ? 0 : any1))) << 1) | ((a & skip) << 3) |
			      (d & (slash ? dloop : loop));
		nx |= (nx & eps) << 1;
		if (!nx)
			return false;
		d = nx;
		j += cl;
	}
	return (d >> pr->ntok) & 1;
}

/* A multi-word program's arrays, found once per match. */
typedef struct view {
	const uint64_t *m, *ent;
	const uint16_t *first, *words;
} view;

/* No `?` on a `/`: any1's stand-in. */
static const uint64_t no_bits[NWORDS];

/* One step of the multi-word state st over words lo..top for a code point
 * of class c. with_skip is a constant at each call, so the common case (no
 * slash-star-star-slash) loses the skip terms entirely. */
static inline void step(const view *v, uint64_t *st, size_t lo, size_t top, uint16_t c,
			bool slash, bool with_skip)
{
	/* on a `/`: no `?`, and only the `**` runs stay */
	const uint64_t *m = v->m;
	const uint64_t *any1 = slash ? no_bits : m + M_ANY1 * NWORDS;
	const uint64_t *loop = m + (slash ? M_DLOOP : M_LOOP) * NWORDS;
	const uint64_t *ent = v->ent;
	unsigned wm = v->words[c];
	size_t e = v->first[c] + popcount(wm & ((1u << lo) - 1));
	uint64_t c1 = 0, c3 = 0, ce = 0;
	for (size_t w = lo; w <= top; w++) {
		uint64_t d = st[w], lit = 0;
		if ((wm >> w) & 1)
			lit = ent[e++];
		uint64_t a = d & lit, adv = a | (d & any1[w]);
		uint64_t nx = (adv << 1) | c1 | (d & loop[w]);
		c1 = adv >> 63;
		if (with_skip) {
			uint64_t sk = a & m[M_SKIP * NWORDS + w];
			nx |= (sk << 3) | c3;
			c3 = sk >> 61;
		}
		uint64_t ep = nx & m[M_EPS * NWORDS + w];
		st[w] = nx | (ep << 1) | ce;
		ce = ep >> 63;
	}
}

static bool run(const gprog *pr, const unsigned char *s, size_t slen)
{
	uint64_t st[NWORDS];
	size_t nw = pr->nw, lo = 0, hi = 0;
	const uint64_t *m = cmasks(pr);
	view v = { m, CAT(pr, uint64_t, o_ent), CAT(pr, uint16_t, o_first),
		   CAT(pr, uint16_t, o_words) };
	bool with_skip = pr->with_skip;
	memset(st, 0, nw * sizeof st[0]);
	st[0] = 1;
	if (pr->start_skip)
		st[0] |= 4;
	st[0] |= (st[0] & m[M_EPS * NWORDS]) << 1;
	for (size_t j = 0; j < slen;) {
		size_t cl = s[j] < 0x80 ? 1 : cp_len(s + j, slen - j);
		uint16_t c = subject_class(pr, s + j, cl);
		/* Shifts move positions up by at most 3: one word past the
		 * highest live one is as far as the state can spread. */
		size_t top = hi + 1 < nw ? hi + 1 : nw - 1;
		if (with_skip)
			step(&v, st, lo, top, c, s[j] == '/', true);
		else
			step(&v, st, lo, top, c, s[j] == '/', false);
		while (lo <= top && !st[lo])
			lo++;
		if (lo > top)
			return false;
		hi = top;
		while (!st[hi])
			hi--;
		j += cl;
	}
	return (st[pr->ntok / 64] >> (pr->ntok % 64)) & 1;
}

static bool prog_match(const gprog *pr, const char *s, size_t slen)
{
	if (pr->nw == 1)
		return run1(pr, (const unsigned char *)s, slen);
	return run(pr, (const unsigned char *)s, slen);
}

/* Compile-and-match frames of two sizes, kept apart so a short glob does
 * not pay for the long ones' stack. */
static TG_NOINLINE bool match_small(const caps *c, const unsigned char *g, size_t glen,
				    size_t from, const char *s, size_t slen)
{
	uint64_t buf[PROG_SMALL / 8];
	compile((gprog *)(void *)buf, c, g, glen, from);
	return prog_match((const gprog *)(const void *)buf, s, slen);
}

static TG_NOINLINE bool match_large(const caps *c, const unsigned char *g, size_t glen,
				    size_t from, const char *s, size_t slen)
{
	uint64_t buf[PROG_MAX / 8];
	compile((gprog *)(void *)buf, c, g, glen, from);
	return prog_match((const gprog *)(const void *)buf, s, slen);
}

bool tg_glob_match_from(const char *glob, size_t glen, size_t from, const char *subj, size_t slen)
{
	const unsigned char *g = (const unsigned char *)glob;
	caps c;
	if (from > glen || glen - from > TG_BC_GLOB_MAX)
		return false;
	prescan(&c, g, glen, from);
	if (layout(&c).size <= PROG_SMALL)
		return match_small(&c, g, glen, from, subj, slen);
	return match_large(&c, g, glen, from, subj, slen);
}

/* Whether pattern i takes the general matcher, and its glob. */
static bool needs_prog(const tg_layout *l, uint32_t i, tg_str *glob, uint32_t *rest)
{
	const unsigned char *e = l->pats + (size_t)i * TG_BC_PATTERN_SIZE;
	if (tg_rd32(e + 12) & TG_PAT_EXACT)
		return false;
	if (l->pat_simple && l->pat_simple[i] != TG_GLOB_GENERAL)
		return false;
	*glob = tg_pol_str(l, tg_rd32(e));
	*rest = tg_rd32(e + 8);
	return *rest <= glob->len && glob->len - *rest <= TG_BC_GLOB_MAX;
}

/* One block: a u32 offset per pattern (0: no program), then the
 * programs, each exact-sized: the first pass adds up their sizes, the
 * second compiles them in place (1,000 globs of ~25 bytes: 270 bytes a
 * program, ~4,800 instructions each to build). */
tg_status tg_glob_progs_build(tg_policy *p)
{
	tg_layout *l = &p->l;
	size_t head = ((size_t)l->npats * 4 + 7) & ~(size_t)7, total = head;
	gprog *scratch = NULL;
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < l->npats; i++) {
			tg_str gs;
			uint32_t rest;
			caps c;
			if (!needs_prog(l, i, &gs, &rest))
				continue;
			if (!scratch && !(scratch = malloc(PROG_MAX)))
				return TG_ENOMEM;
			const unsigned char *g = (const unsigned char *)gs.ptr;
			/* compiled once within bounds to learn the exact counts */
			prescan(&c, g, gs.len, rest);
			compile(scratch, &c, g, gs.len, rest);
			c.ncls = scratch->ncls;
			c.nent = scratch->nent;
			c.nmb = scratch->nmb;
			if (pass == 0) {
				total += layout(&c).size;
				continue;
			}
			compile((gprog *)(void *)(p->pat_prog + total), &c, g, gs.len, rest);
			((uint32_t *)(void *)p->pat_prog)[i] = (uint32_t)total;
			total += ((const gprog *)(const void *)(p->pat_prog + total))->size;
		}
		if (pass == 1 || total == head)
			break;
		if (total > UINT32_MAX || !(p->pat_prog = calloc(1, total))) {
			free(scratch);
			return TG_ENOMEM;
		}
		total = head;
	}
	free(scratch);
	l->pat_prog = p->pat_prog;
	return TG_OK;
}

const unsigned char *tg_glob_prog(const tg_layout *l, uint32_t pat)
{
	uint32_t off = l->pat_prog ? ((const uint32_t *)(const void *)l->pat_prog)[pat] : 0;
	return off ? l->pat_prog + off : NULL;
}

bool tg_glob_prog_match(const unsigned char *prog, const char *s, size_t slen)
{
	return prog_match((const gprog *)(const void *)prog, s, slen);
}

bool tg_pattern_match(const tg_layout *l, uint32_t pat, const char *s, size_t slen)
{
	const unsigned char *p = l->pats + (size_t)pat * TG_BC_PATTERN_SIZE;
	tg_str pre = tg_pol_str(l, tg_rd32(p + 4));
	if (tg_rd32(p + 12) & TG_PAT_EXACT)
		return slen == pre.len && memcmp(s, pre.ptr, slen) == 0;
	if (slen < pre.len || memcmp(s, pre.ptr, pre.len) != 0)
		return false;
	tg_str glob = tg_pol_str(l, tg_rd32(p));
	uint32_t rest = tg_rd32(p + 8);
	if (l->pat_simple && l->pat_simple[pat] == TG_GLOB_STARS)
		return tg_glob_simple_match(glob.ptr + rest, glob.len - rest, s + pre.len, slen - pre.len);
	if (l->pat_simple && l->pat_simple[pat] == TG_GLOB_DSTARS)
		return tg_glob_dstar_match(glob.ptr + rest, glob.len - rest, s + pre.len, slen - pre.len);
	/* The loader compiled every other pattern but those longer than
	 * the automaton takes, which tg_glob_match_from would not match
	 * either; evaluation never compiles (nor needs its frame). */
	const unsigned char *prog = tg_glob_prog(l, pat);
	return prog && prog_match((const gprog *)(const void *)prog, s + pre.len, slen - pre.len);
}

/* Certainly clean: no "//" nor "/." in x, so no empty, `.` or `..`
 * segment; the byte pairs at x + p and x + p + 1, eight a step. */
static bool plain(const char *x, size_t n)
{
	const uint64_t lo = 0x0101010101010101u, m = 0x7f * lo;
	uint64_t a, b, pair = 0;	/* high bits: a '/' then a '/' or '.' */
	for (size_t p = 0; n > 8 && !pair; p = p + 17 > n ? n - 9 : p + 8) {
		memcpy(&a, x + p, 8);
		memcpy(&b, x + p + 1, 8);
		a ^= 0x2f * lo;
		b = (b | lo) ^ 0x2f * lo;	/* '.' (0x2e) or '/' */
		pair = ~(((a & m) + m) | a | m) & ~(((b & m) + m) | b | m);
		if (p + 9 == n)
			return !pair;
	}
	return n == 1;	/* "/"; 2-8 bytes, or a pair: not known */
}

/*
 * X under DIR. DIR was checked by the compiler (absolute, clean). X must be
 * absolute; it may end in one `/`; any other empty segment and every `.` or
 * `..` segment makes it unclean, an error, so `/srv/repos/../etc` can never
 * pass as under `/srv/repos`.
 */
int tg_under(const char *x, size_t xlen, const char *dir, size_t dlen)
{
	if (xlen == 0 || x[0] != '/')
		return -1;
	size_t end = xlen > 1 && x[xlen - 1] == '/' ? xlen - 1 : xlen;
	/* unless plain: no '/' before end with 0-2 dots, then '/' or end, after it */
	for (size_t i = plain(x, xlen) ? end : 0, n; i < end; i++) {
		for (n = 1; x[i] == '/' && i + n < end && x[i + n] == '.'; n++)
			;
		if (x[i] == '/' && n <= 3 && (i + n == end || x[i + n] == '/'))
			return -1;
	}
	size_t dl = dlen > 1 && dir[dlen - 1] == '/' ? dlen - 1 : dlen;
	if (dl == 1 && dir[0] == '/')
		return 1;
	if (end < dl || !tg_bytes_eq(x, dir, dl))
		return 0;
	return end == dl || x[dl] == '/';
}
