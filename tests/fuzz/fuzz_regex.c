/*
 * fuzz_regex.c - arbitrary bytes as a `matches` pattern (compiler/regex.h).
 *
 * When the pattern compiles: the table must be in bounds (every transition
 * below nstates, every class below nclasses, classes numbered by first
 * byte), compiling again must give the same bytes, and on short subjects
 * the table must agree with a bounded backtracking matcher that walks the
 * engine's syntax tree directly, so the NFA, the UTF-8 split, the subset
 * construction and the minimization are all checked against the tree's
 * meaning. A match must contradict "matches nothing"; a non-match, "matches
 * all". When it does not compile, the error must have a message and an
 * offset inside the pattern.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "regex_internal.h"

#define FUZZ_MAX_PATTERN 1024
#define MAX_STEPS 200000u
#define MAX_DEPTH 4000u

typedef struct matcher {
	const tg_re_ast *ast;
	uint32_t cp[16];
	int n;
	unsigned long steps;
	unsigned depth;
	bool gave_up;
} matcher;

/* What remains after the current node: the CAT siblings from node `at`
 * on, or more iterations of a REPEAT after `count`, the last begun at start. */
typedef struct rest {
	uint32_t node, at, count;
	int start;
	const struct rest *next;
} rest;

static bool match(matcher *m, uint32_t node, int i, const rest *k);

static bool in_set(const tg_re_set *s, uint32_t cp)
{
	for (uint32_t j = 0; j < s->n; j++)
		if (cp >= s->r[j].lo && cp <= s->r[j].hi)
			return true;
	return false;
}

static bool budget(matcher *m)
{
	if (++m->steps > MAX_STEPS || m->depth > MAX_DEPTH)
		m->gave_up = true;
	return !m->gave_up;
}

static bool resume(matcher *m, const rest *k, int i)
{
	if (!budget(m))
		return false;
	if (!k)
		return i == m->n;
	const tg_re_node *n = &m->ast->nodes[k->node];
	bool ok;
	m->depth++;
	if (n->kind == TG_RE_CAT) {
		if (k->at == TG_RE_NONE) {
			ok = resume(m, k->next, i);
		} else {
			rest r = { k->node, m->ast->nodes[k->at].next, 0, 0, k->next };
			ok = match(m, k->at, i, &r);
		}
	} else if (i == k->start && k->count > n->min) {
		ok = false;	/* an empty iteration past the minimum adds nothing */
	} else {
		ok = false;
		if (n->max == TG_RE_INF || k->count < n->max) {
			rest r = { k->node, 0, k->count + 1, i, k->next };
			ok = match(m, n->child, i, &r);
		}
		if (!ok && k->count >= n->min)
			ok = resume(m, k->next, i);
	}
	m->depth--;
	return ok;
}

static bool match(matcher *m, uint32_t node, int i, const rest *k)
{
	if (!budget(m))
		return false;
	const tg_re_node *n = &m->ast->nodes[node];
	switch (n->kind) {
	case TG_RE_EMPTY:
		return resume(m, k, i);
	case TG_RE_SET:
		return i < m->n && in_set(&n->set, m->cp[i]) && resume(m, k, i + 1);
	case TG_RE_CAT: {
		rest r = { node, n->child, 0, 0, k };
		return resume(m, &r, i);
	}
	case TG_RE_ALT:
		for (uint32_t c = n->child; c != TG_RE_NONE; c = m->ast->nodes[c].next)
			if (match(m, c, i, k))
				return true;
		return false;
	case TG_RE_REPEAT: {
		if (n->max != 0) {
			rest r = { node, 0, 1, i, k };
			if (match(m, n->child, i, &r))
				return true;
		}
		return n->min == 0 && resume(m, k, i);
	}
	}
	return false;
}

static void check_shape(const tg_re_dfa *d)
{
	if (d->nstates < 1 || d->nstates > TG_RE_MAX_STATES || d->nclasses < 1 || d->nclasses > 256)
		tg_fuzz_fail("regex: %u states, %u classes", d->nstates, d->nclasses);
	unsigned seen = 0;
	for (unsigned b = 0; b < 256; b++) {
		if (d->classes[b] >= d->nclasses || d->classes[b] > seen)
			tg_fuzz_fail("regex: byte %u in class %u (of %u)", b, d->classes[b], d->nclasses);
		if (d->classes[b] == seen)
			seen++;
	}
	for (size_t i = 0; i < (size_t)d->nstates * d->nclasses; i++)
		if (d->next[i] >= d->nstates)
			tg_fuzz_fail("regex: transition to %u of %u states", d->next[i], d->nstates);
}

static void compare(const tg_re_dfa *d, const tg_re_ast *ast, const uint8_t *s, size_t len)
{
	matcher m = { .ast = ast };
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		unsigned l = tg_re_utf8_decode(s + i, len - i, &cp);
		if (l == 0 || m.n == 16)
			return;	/* only valid UTF-8 reaches a table */
		m.cp[m.n++] = cp;
		i += l;
	}
	bool want = match(&m, ast->root, 0, NULL);
	bool got = tg_re_dfa_match(d, (const char *)s, len);
	if (got && tg_re_dfa_matches_nothing(d))
		tg_fuzz_fail("regex: matches \"%.*s\" yet matches nothing", (int)len, (const char *)s);
	if (!got && tg_re_dfa_matches_all_utf8(d))
		tg_fuzz_fail("regex: misses \"%.*s\" yet matches all", (int)len, (const char *)s);
	if (!m.gave_up && got != want)
		tg_fuzz_fail("regex: on \"%.*s\" the table says %d, the tree %d", (int)len, (const char *)s, got, want);
}

static const char *const subjects[] = {
	"", "a", "b", "ab", "aaa", "abc", "\n", "a\nb", " ", "0", "_", "-", ".", "\xC3\xA9", "\xE2\x82\xAC",
	"\xF0\x9F\x98\x80", "a\xC3\xA9", "\xF4\x8F\xBF\xBF", "\x7F", "\xC2\x80", "\xEF\xBF\xBF",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_PATTERN)
		size = FUZZ_MAX_PATTERN;
	const char *pattern = (const char *)data;
	tg_re_dfa d, again;
	tg_re_error err;
	if (!tg_re_compile(pattern, size, &d, &err)) {
		if (!err.message[0] || err.offset > size)
			tg_fuzz_fail("regex: refused with no message or an offset past the pattern");
		if (d.next || d.accept || d.nstates)
			tg_fuzz_fail("regex: a refused pattern left a table");
		return 0;
	}
	check_shape(&d);
	if (!tg_re_compile(pattern, size, &again, &err))
		tg_fuzz_fail("regex: compiles once, not twice: %s", err.message);
	if (again.nstates != d.nstates || again.nclasses != d.nclasses ||
	    memcmp(again.classes, d.classes, sizeof d.classes) != 0 ||
	    memcmp(again.next, d.next, (size_t)d.nstates * d.nclasses * sizeof *d.next) != 0 ||
	    memcmp(again.accept, d.accept, d.nstates) != 0)
		tg_fuzz_fail("regex: two compilations differ");
	tg_re_dfa_free(&again);

	tg_re_ast ast;
	if (!tg_re_parse(pattern, size, &ast, &err))
		tg_fuzz_fail("regex: compiles but does not parse: %s", err.message);
	for (size_t i = 0; i < sizeof subjects / sizeof *subjects; i++)
		compare(&d, &ast, (const uint8_t *)subjects[i], strlen(subjects[i]));
	/* Pieces of the pattern itself make likely subjects. */
	for (size_t at = 0; at < size; at += 1 + at / 2)
		for (size_t len = 1; len <= 8 && at + len <= size; len *= 2)
			compare(&d, &ast, data + at, len);
	tg_re_ast_free(&ast);
	tg_re_dfa_free(&d);
	return 0;
}
