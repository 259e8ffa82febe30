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
 * The masks are built per call from the glob into a fixed-size frame on
 * the caller's stack (11.4 KiB, sized for the 512-byte limit), in time linear
 * in the glob: per distinct literal code point a short list of (word, bits)
 * pairs, looked up through a byte table or, for multi-byte code points, a
 * small hash table. Matching is then O(glob / 64) word operations per
 * subject code point, never allocates, and cannot backtrack: about 290
 * instructions per code point with all 512 positions live, against some
 * 58,000 for the position-set NFA this replaced (`tg-bench glob`). The
 * state only visits the words between its lowest and highest live ones.
 *
 * The compiled pattern stores the literal prefix before the first wildcard;
 * it is compared with memcmp and only the rest runs through the automaton.
 */
#include "policy.h"

#include <string.h>

#define MAXTOK TG_FMT_GLOB_MAX			/* each token spans at least one byte */
#define NWORDS ((MAXTOK + 1 + 63) / 64)		/* positions 0..MAXTOK */
#define MB_SLOTS_MAX 512			/* >= 2 x the multi-byte literals a glob can hold */

enum { TOK_LIT, TOK_ANY1, TOK_STAR, TOK_DSTAR, TOK_DSTAR_SLASH };

/* Length of the UTF-8 sequence starting at s[0] (1 for a stray byte). */
static size_t cp_len(const unsigned char *s, size_t avail)
{
	size_t n = 1;
	if (s[0] >= 0xF0)
		n = 4;
	else if (s[0] >= 0xE0)
		n = 3;
	else if (s[0] >= 0xC0)
		n = 2;
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
		if (t.len == 1) {
			t.kind = TOK_STAR;
		} else {
			t.kind = TOK_DSTAR;
			if (i > 0 && g[i - 1] == '/' && j < glen && g[j] == '/')
				t.kind = TOK_DSTAR_SLASH;
		}
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
 * A glob compiled for one match. Class 0 is "no literal equals this code
 * point"; its entry range is empty and entry 0 (mask 0) stands in for it
 * in the one-word loop.
 */
typedef struct prog {
	size_t ntok, nw;
	bool start_skip;		/* token 0 is a slash-star-star-slash `**` */
	uint64_t loop[NWORDS];		/* `*` and `**`: stay on a code point other than `/` */
	uint64_t dloop[NWORDS];		/* `**`: stay on `/` too */
	uint64_t any1[NWORDS];		/* `?` */
	uint64_t eps[NWORDS];		/* every star run: may match nothing */
	uint64_t skip[NWORDS];		/* literals followed by a slash-star-star-slash `**` */
	uint16_t byte_cls[256];		/* one-byte code point -> class */
	uint32_t mb_key[MB_SLOTS_MAX];	/* multi-byte code point (its packed bytes; 0 empty) */
	uint16_t mb_cls[MB_SLOTS_MAX];
	uint32_t mb_bits;		/* log2 of the slots in use; 0: no multi-byte literal */
	size_t ncls;
	uint16_t first[MAXTOK + 1];	/* class c: entries first[c] .. first[c] + nent[c] */
	uint16_t nent[MAXTOK + 1];
	uint8_t ent_word[MAXTOK + 1];
	uint64_t ent_mask[MAXTOK + 1];
	uint16_t tok_cls[MAXTOK];
} prog;

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

static size_t mb_slot(const prog *pr, uint32_t key)
{
	return (size_t)((key * 2654435761u) >> (32 - pr->mb_bits));
}

static uint16_t mb_find(const prog *pr, uint32_t key)
{
	size_t mask = ((size_t)1 << pr->mb_bits) - 1;
	for (size_t i = mb_slot(pr, key);; i = (i + 1) & mask) {
		if (pr->mb_key[i] == key)
			return pr->mb_cls[i];
		if (pr->mb_key[i] == 0)
			return 0;
	}
}

/* The class of a literal, a new one if it is the first of its kind. */
static uint16_t class_of(prog *pr, uint32_t key, size_t glob_bytes)
{
	if (key < 256) {
		if (!pr->byte_cls[key]) {
			pr->byte_cls[key] = (uint16_t)++pr->ncls;
			pr->nent[pr->ncls] = 0;
		}
		return pr->byte_cls[key];
	}
	if (!pr->mb_bits) {
		/* a multi-byte literal spans >= 2 bytes: glob_bytes slots keep
		 * the table at most half full */
		pr->mb_bits = 3;
		while (((size_t)1 << pr->mb_bits) < glob_bytes)
			pr->mb_bits++;
		memset(pr->mb_key, 0, sizeof pr->mb_key[0] << pr->mb_bits);
	}
	size_t mask = ((size_t)1 << pr->mb_bits) - 1, i = mb_slot(pr, key);
	while (pr->mb_key[i] && pr->mb_key[i] != key)
		i = (i + 1) & mask;
	if (!pr->mb_key[i]) {
		pr->mb_key[i] = key;
		pr->mb_cls[i] = (uint16_t)++pr->ncls;
		pr->nent[pr->ncls] = 0;
	}
	return pr->mb_cls[i];
}

/* Compiles g[from..glen), at most MAXTOK bytes. */
static void compile(prog *pr, const unsigned char *g, size_t glen, size_t from)
{
	size_t p = 0;
	memset(pr->loop, 0, sizeof pr->loop);
	memset(pr->dloop, 0, sizeof pr->dloop);
	memset(pr->any1, 0, sizeof pr->any1);
	memset(pr->eps, 0, sizeof pr->eps);
	memset(pr->skip, 0, sizeof pr->skip);
	memset(pr->byte_cls, 0, sizeof pr->byte_cls);
	pr->mb_bits = 0;
	pr->ncls = 0;
	pr->start_skip = false;
	for (size_t i = from; i < glen; p++) {
		tok t = token_at(g, glen, i);
		uint64_t bit = (uint64_t)1 << (p % 64);
		size_t w = p / 64;
		uint16_t c = 0;
		switch (t.kind) {
		case TOK_LIT:
			c = class_of(pr, cp_key(g + t.lit, t.litlen), glen - from);
			pr->nent[c]++;
			break;
		case TOK_ANY1:
			pr->any1[w] |= bit;
			break;
		case TOK_STAR:
			pr->loop[w] |= bit;
			pr->eps[w] |= bit;
			break;
		case TOK_DSTAR_SLASH:
			if (p == 0)
				pr->start_skip = true;
			else
				pr->skip[(p - 1) / 64] |= (uint64_t)1 << ((p - 1) % 64);
			/* fall through */
		default:
			pr->loop[w] |= bit;
			pr->dloop[w] |= bit;
			pr->eps[w] |= bit;
		}
		pr->tok_cls[p] = c;
		i += t.len;
	}
	pr->ntok = p;
	pr->nw = p / 64 + 1;
	/* Each class's entries, one per word it has literals in. */
	pr->first[0] = 0;
	pr->nent[0] = 0;
	pr->ent_word[0] = UINT8_MAX;
	pr->ent_mask[0] = 0;
	for (size_t c = 1, at = 1; c <= pr->ncls; c++) {
		pr->first[c] = (uint16_t)at;
		at += pr->nent[c];
		pr->nent[c] = 0;
	}
	for (size_t q = 0; q < p; q++) {
		uint16_t c = pr->tok_cls[q];
		if (!c)
			continue;
		size_t e = (size_t)pr->first[c] + pr->nent[c];
		uint64_t bit = (uint64_t)1 << (q % 64);
		if (pr->nent[c] && pr->ent_word[e - 1] == q / 64) {
			pr->ent_mask[e - 1] |= bit;
		} else {
			pr->ent_word[e] = (uint8_t)(q / 64);
			pr->ent_mask[e] = bit;
			pr->nent[c]++;
		}
	}
}

/* The class of the subject's code point s[0..n). */
static uint16_t subject_class(const prog *pr, const unsigned char *s, size_t n)
{
	if (n == 1)
		return pr->byte_cls[s[0]];
	return pr->mb_bits ? mb_find(pr, cp_key(s, n)) : 0;
}

static const uint64_t no_bits[NWORDS];

/* Globs of up to 63 tokens: the whole state in one word. */
static bool run1(const prog *pr, const unsigned char *s, size_t slen)
{
	uint64_t eps = pr->eps[0], skip = pr->skip[0];
	uint64_t d = 1;
	if (pr->start_skip)
		d |= 4;
	d |= (d & eps) << 1;
	for (size_t j = 0; j < slen;) {
		size_t cl = s[j] < 0x80 ? 1 : cp_len(s + j, slen - j);
		bool slash = s[j] == '/';
		uint64_t a = d & pr->ent_mask[pr->first[subject_class(pr, s + j, cl)]];
		uint64_t nx = ((a | (d & (slash ? 0 : pr->any1[0]))) << 1) | ((a & skip) << 3) |
			      (d & (slash ? pr->dloop[0] : pr->loop[0]));
		nx |= (nx & eps) << 1;
		if (!nx)
			return false;
		d = nx;
		j += cl;
	}
	return (d >> pr->ntok) & 1;
}

/* One step of the multi-word state st over words lo..top for a code point
 * of class c. with_skip is a constant at each call, so the common case (no
 * slash-star-star-slash) loses the skip terms entirely. */
static inline void step(const prog *pr, uint64_t *st, size_t lo, size_t top, uint16_t c,
			bool slash, bool with_skip)
{
	const uint64_t *any1 = slash ? no_bits : pr->any1;
	const uint64_t *loop = slash ? pr->dloop : pr->loop;
	size_t e = pr->first[c], eend = e + pr->nent[c];
	while (e < eend && pr->ent_word[e] < lo)
		e++;
	uint64_t c1 = 0, c3 = 0, ce = 0;
	for (size_t w = lo; w <= top; w++) {
		uint64_t d = st[w], lit = 0;
		if (e < eend && pr->ent_word[e] == w)
			lit = pr->ent_mask[e++];
		uint64_t a = d & lit, adv = a | (d & any1[w]);
		uint64_t nx = (adv << 1) | c1 | (d & loop[w]);
		c1 = adv >> 63;
		if (with_skip) {
			uint64_t sk = a & pr->skip[w];
			nx |= (sk << 3) | c3;
			c3 = sk >> 61;
		}
		uint64_t ep = nx & pr->eps[w];
		st[w] = nx | (ep << 1) | ce;
		ce = ep >> 63;
	}
}

static bool run(const prog *pr, const unsigned char *s, size_t slen)
{
	uint64_t st[NWORDS];
	size_t nw = pr->nw, lo = 0, hi = 0;
	bool with_skip = false;
	for (size_t w = 0; w < nw; w++)
		with_skip |= pr->skip[w] != 0;
	memset(st, 0, sizeof st);
	st[0] = 1;
	if (pr->start_skip)
		st[0] |= 4;
	st[0] |= (st[0] & pr->eps[0]) << 1;
	for (size_t j = 0; j < slen;) {
		size_t cl = s[j] < 0x80 ? 1 : cp_len(s + j, slen - j);
		uint16_t c = subject_class(pr, s + j, cl);
		/* Shifts move positions up by at most 3: one word past the
		 * highest live one is as far as the state can spread. */
		size_t top = hi + 1 < nw ? hi + 1 : nw - 1;
		if (with_skip)
			step(pr, st, lo, top, c, s[j] == '/', true);
		else
			step(pr, st, lo, top, c, s[j] == '/', false);
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

bool tg_glob_match_from(const char *glob, size_t glen, size_t from, const char *subj, size_t slen)
{
	prog pr;
	if (from > glen || glen - from > TG_FMT_GLOB_MAX)
		return false;
	compile(&pr, (const unsigned char *)glob, glen, from);
	if (pr.nw == 1)
		return run1(&pr, (const unsigned char *)subj, slen);
	return run(&pr, (const unsigned char *)subj, slen);
}

bool tg_pattern_match(const tg_layout *l, uint32_t pat, const char *s, size_t slen)
{
	const unsigned char *p = l->pats + (size_t)pat * TG_FMT_PATTERN_SIZE;
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
	return tg_glob_match_from(glob.ptr, glob.len, rest, s + pre.len, slen - pre.len);
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
	size_t end = xlen;
	if (xlen > 1) {
		if (x[xlen - 1] == '/')
			end = xlen - 1;
		for (size_t i = 1, seg = 1; i <= end; i++) {
			if (i < end && x[i] != '/')
				continue;
			size_t sl = i - seg;
			if (sl == 0)
				return -1;
			if ((sl == 1 && x[seg] == '.') ||
			    (sl == 2 && x[seg] == '.' && x[seg + 1] == '.'))
				return -1;
			seg = i + 1;
		}
	}
	size_t dl = dlen > 1 && dir[dlen - 1] == '/' ? dlen - 1 : dlen;
	if (dl == 1 && dir[0] == '/')
		return 1;
	if (end < dl || memcmp(x, dir, dl) != 0)
		return 0;
	return end == dl || x[dl] == '/';
}
