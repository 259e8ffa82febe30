/*
 * ref_regex.c - the reference evaluator's `matches`: a backtracking matcher
 * written from docs/regex.md, sharing nothing with the compiler's DFA
 * construction.
 *
 * The pattern is parsed into a tree, the tree into a little program in
 * the style of Thompson's and Pike's (SET, SPLIT, JMP, MATCH), and the
 * program run by depth-first backtracking over (instruction, position)
 * pairs of the subject's code points, each pair tried once. Slow and plain
 * on purpose: it is the side of the comparison that is easy to read.
 */
#include "ref_eval.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CP 0x10FFFFu

typedef struct range {
	uint32_t lo, hi;
} range;

typedef struct cset {
	range *r;
	size_t n;
	bool neg;
} cset;

enum { N_SET, N_CAT, N_ALT, N_REP, N_EMPTY };

typedef struct node {
	int kind;
	int set;		/* N_SET */
	struct node *a, *b;	/* N_CAT, N_ALT; N_REP: a */
	int min, max;		/* N_REP; max -1: unbounded */
} node;

enum { I_SET, I_SPLIT, I_JMP, I_MATCH };

typedef struct insn {
	int op, x, y;		/* I_SET: x = set; I_SPLIT: x, y; I_JMP: x */
} insn;

typedef struct re {
	const uint32_t *p;	/* the pattern's code points */
	size_t n, i;
	bool dotall, bad;
	cset *sets;
	size_t nsets;
	node **nodes;		/* every node, to free */
	size_t nnodes;
	insn *code;
	size_t ncode, cap;
} re;

static size_t decode(const char *s, size_t len, uint32_t *out)
{
	size_t n = 0;
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		uint32_t c = u[i];
		size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		if (k > 1)
			c &= 0xFFu >> (k + 1);
		for (size_t j = 1; j < k && i + j < len; j++)
			c = c << 6 | (u[i + j] & 0x3F);
		out[n++] = c;
		i += k;
	}
	return n;
}

static node *mk(re *r, int kind)
{
	node *x = calloc(1, sizeof *x);
	node **grown = realloc(r->nodes, (r->nnodes + 1) * sizeof *grown);
	if (!x || !grown) {
		free(x);
		if (grown)
			r->nodes = grown;
		r->bad = true;
		return NULL;
	}
	r->nodes = grown;
	r->nodes[r->nnodes++] = x;
	x->kind = kind;
	return x;
}

static int new_set(re *r, bool neg)
{
	cset *grown = realloc(r->sets, (r->nsets + 1) * sizeof *grown);
	if (!grown) {
		r->bad = true;
		return -1;
	}
	r->sets = grown;
	r->sets[r->nsets] = (cset){NULL, 0, neg};
	return (int)r->nsets++;
}

static void add_range(re *r, int set, uint32_t lo, uint32_t hi)
{
	if (set < 0)
		return;
	cset *s = &r->sets[set];
	range *grown = realloc(s->r, (s->n + 1) * sizeof *grown);
	if (!grown) {
		r->bad = true;
		return;
	}
	s->r = grown;
	s->r[s->n++] = (range){lo, hi};
}

/* \d \w \s as ranges; their capitals as the complement. */
static bool add_shorthand(re *r, int set, uint32_t c)
{
	static const range d[] = {{'0', '9'}};
	static const range w[] = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
	static const range s[] = {{'\t', '\n'}, {'\f', '\r'}, {' ', ' '}};
	const range *t;
	size_t n;
	switch (c | 0x20) {
	case 'd': t = d, n = 1; break;
	case 'w': t = w, n = 4; break;
	case 's': t = s, n = 3; break;
	default: return false;
	}
	if (c >= 'a') {
		for (size_t i = 0; i < n; i++)
			add_range(r, set, t[i].lo, t[i].hi);
		return true;
	}
	uint32_t from = 0;
	for (size_t i = 0; i < n; i++) {
		if (t[i].lo > from)
			add_range(r, set, from, t[i].lo - 1);
		from = t[i].hi + 1;
	}
	add_range(r, set, from, MAX_CP);
	return true;
}

static uint32_t hexval(uint32_t c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* After a backslash: a single code point, or -1 for a shorthand added to
 * set (which must then be >= 0). */
static int64_t escape(re *r, int set)
{
	if (r->i >= r->n) {
		r->bad = true;
		return 0;
	}
	uint32_t c = r->p[r->i++];
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case 'f': return '\f';
	case 'v': return '\v';
	case 'x': {
		uint32_t v = 0;
		if (r->i < r->n && r->p[r->i] == '{') {
			for (r->i++; r->i < r->n && r->p[r->i] != '}'; r->i++)
				v = v * 16 + hexval(r->p[r->i]);
			r->i++;
		} else {
			for (int k = 0; k < 2 && r->i < r->n; k++)
				v = v * 16 + hexval(r->p[r->i++]);
		}
		return v;
	}
	default:
		if (add_shorthand(r, set, c))
			return -1;
		return c;	/* punctuation stands for itself */
	}
}

static node *set_node(re *r, int set)
{
	node *x = mk(r, N_SET);
	if (x)
		x->set = set;
	return x;
}

static node *parse_class(re *r)
{
	bool neg = r->i < r->n && r->p[r->i] == '^';
	if (neg)
		r->i++;
	int set = new_set(r, neg);
	bool first = true;
	while (r->i < r->n && (r->p[r->i] != ']' || first)) {
		first = false;
		uint32_t lo = r->p[r->i++];
		if (lo == '\\') {
			int64_t e = escape(r, set);
			if (e < 0)
				continue;
			lo = (uint32_t)e;
		}
		uint32_t hi = lo;
		if (r->i + 1 < r->n && r->p[r->i] == '-' && r->p[r->i + 1] != ']') {
			r->i++;
			hi = r->p[r->i++];
			if (hi == '\\')
				hi = (uint32_t)escape(r, -1);
		}
		add_range(r, set, lo, hi);
	}
	r->i++;	/* ']' */
	return set_node(r, set);
}

static node *parse_alt(re *r);

static node *parse_atom(re *r)
{
	uint32_t c = r->p[r->i++];
	int set;
	switch (c) {
	case '(': {
		if (r->i + 1 < r->n && r->p[r->i] == '?' && r->p[r->i + 1] == ':')
			r->i += 2;
		node *x = parse_alt(r);
		r->i++;	/* ')' */
		return x;
	}
	case '[':
		return parse_class(r);
	case '.':
		set = new_set(r, false);
		if (r->dotall) {
			add_range(r, set, 0, MAX_CP);
		} else {
			add_range(r, set, 0, '\n' - 1);
			add_range(r, set, '\n' + 1, MAX_CP);
		}
		return set_node(r, set);
	case '^':
	case '$':
		return mk(r, N_EMPTY);	/* only at the edges: anchoring is implied */
	case '\\': {
		if (r->i < r->n && (r->p[r->i] == 'A' || r->p[r->i] == 'z')) {
			r->i++;
			return mk(r, N_EMPTY);
		}
		set = new_set(r, false);
		int64_t e = escape(r, set);
		if (e >= 0)
			add_range(r, set, (uint32_t)e, (uint32_t)e);
		return set_node(r, set);
	}
	default:
		set = new_set(r, false);
		add_range(r, set, c, c);
		return set_node(r, set);
	}
}

static int number(re *r)
{
	int v = 0;
	while (r->i < r->n && r->p[r->i] >= '0' && r->p[r->i] <= '9')
		v = v * 10 + (int)(r->p[r->i++] - '0');
	return v;
}

static node *parse_item(re *r)
{
	node *x = parse_atom(r);
	while (x && r->i < r->n) {
		uint32_t c = r->p[r->i];
		int min, max;
		if (c == '*')
			min = 0, max = -1;
		else if (c == '+')
			min = 1, max = -1;
		else if (c == '?')
			min = 0, max = 1;
		else if (c == '{' && r->i + 1 < r->n && r->p[r->i + 1] >= '0' && r->p[r->i + 1] <= '9')
			min = max = 0;
		else
			break;
		r->i++;
		if (c == '{') {
			min = max = number(r);
			if (r->p[r->i] == ',') {
				r->i++;
				max = r->p[r->i] == '}' ? -1 : number(r);
			}
			r->i++;	/* '}' */
		}
		if (r->i < r->n && r->p[r->i] == '?')
			r->i++;	/* lazy: the same language for a whole-string match */
		node *rep = mk(r, N_REP);
		if (!rep)
			return NULL;
		rep->a = x;
		rep->min = min;
		rep->max = max;
		x = rep;
	}
	return x;
}

static node *parse_cat(re *r)
{
	node *x = mk(r, N_EMPTY);
	while (x && r->i < r->n && r->p[r->i] != '|' && r->p[r->i] != ')') {
		node *cat = mk(r, N_CAT);
		if (!cat)
			return NULL;
		cat->a = x;
		cat->b = parse_item(r);
		x = cat->b ? cat : NULL;
	}
	return x;
}

static node *parse_alt(re *r)
{
	node *x = parse_cat(r);
	while (x && r->i < r->n && r->p[r->i] == '|') {
		r->i++;
		node *alt = mk(r, N_ALT);
		if (!alt)
			return NULL;
		alt->a = x;
		alt->b = parse_cat(r);
		x = alt->b ? alt : NULL;
	}
	return x;
}

static size_t emit(re *r, int op, int x, int y)
{
	if (r->ncode == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		insn *grown = cap > 1000000 ? NULL : realloc(r->code, cap * sizeof *grown);
		if (!grown) {
			r->bad = true;
			return 0;
		}
		r->code = grown;
		r->cap = cap;
	}
	r->code[r->ncode] = (insn){op, x, y};
	return r->ncode++;
}

static void gen(re *r, const node *x)
{
	if (r->bad)
		return;
	size_t split, jmp;
	switch (x->kind) {
	case N_SET:
		emit(r, I_SET, x->set, 0);
		break;
	case N_CAT:
		gen(r, x->a);
		gen(r, x->b);
		break;
	case N_ALT:
		split = emit(r, I_SPLIT, 0, 0);
		r->code[split].x = (int)r->ncode;
		gen(r, x->a);
		jmp = emit(r, I_JMP, 0, 0);
		r->code[split].y = (int)r->ncode;
		gen(r, x->b);
		r->code[jmp].x = (int)r->ncode;
		break;
	case N_REP:
		for (int k = 0; k < x->min && !r->bad; k++)
			gen(r, x->a);
		if (x->max < 0) {
			split = emit(r, I_SPLIT, 0, 0);
			r->code[split].x = (int)r->ncode;
			gen(r, x->a);
			emit(r, I_JMP, (int)split, 0);
			r->code[split].y = (int)r->ncode;
			break;
		}
		for (int k = x->min; k < x->max && !r->bad; k++) {
			split = emit(r, I_SPLIT, 0, 0);
			r->code[split].x = (int)r->ncode;
			gen(r, x->a);
			r->code[split].y = (int)r->ncode;
		}
		break;
	default:
		break;
	}
}

static bool in_set(const cset *s, uint32_t c)
{
	bool in = false;
	for (size_t i = 0; i < s->n && !in; i++)
		in = s->r[i].lo <= c && c <= s->r[i].hi;
	return in != s->neg;
}

static bool run(const re *r, const uint32_t *s, size_t n)
{
	size_t width = n + 1, cells = r->ncode * width;
	unsigned char *seen = calloc(cells ? cells : 1, 1);
	size_t *stack = malloc((2 * cells + 2) * sizeof *stack);
	bool found = false;
	size_t top = 0;
	if (!seen || !stack)
		goto out;
	stack[top++] = 0;	/* pc * width + position */
	while (top && !found) {
		size_t cell = stack[--top];
		if (seen[cell])
			continue;
		seen[cell] = 1;
		size_t pc = cell / width, i = cell % width;
		const insn *in = &r->code[pc];
		switch (in->op) {
		case I_SET:
			if (i < n && in_set(&r->sets[in->x], s[i]))
				stack[top++] = (pc + 1) * width + i + 1;
			break;
		case I_SPLIT:
			stack[top++] = (size_t)in->y * width + i;
			stack[top++] = (size_t)in->x * width + i;
			break;
		case I_JMP:
			stack[top++] = (size_t)in->x * width + i;
			break;
		default:
			found = i == n;
			break;
		}
	}
out:
	free(seen);
	free(stack);
	return found;
}

int ref_regex_match(const char *pattern, size_t plen, const char *s, size_t slen)
{
	uint32_t *pcp = malloc((plen + 1) * sizeof *pcp);
	uint32_t *scp = malloc((slen + 1) * sizeof *scp);
	re r;
	memset(&r, 0, sizeof r);
	int result = -1;
	if (!pcp || !scp)
		goto out;
	r.p = pcp;
	r.n = decode(pattern, plen, pcp);
	if (r.n >= 4 && pcp[0] == '(' && pcp[1] == '?' && pcp[2] == 's' && pcp[3] == ')') {
		r.dotall = true;
		r.i = 4;
	}
	node *tree = parse_alt(&r);
	if (!tree || r.bad || r.i != r.n)
		goto out;
	gen(&r, tree);
	emit(&r, I_MATCH, 0, 0);
	if (!r.bad)
		result = run(&r, scp, decode(s, slen, scp));
out:
	for (size_t i = 0; i < r.nnodes; i++)
		free(r.nodes[i]);
	free(r.nodes);
	for (size_t i = 0; i < r.nsets; i++)
		free(r.sets[i].r);
	free(r.sets);
	free(r.code);
	free(pcp);
	free(scp);
	return result;
}
