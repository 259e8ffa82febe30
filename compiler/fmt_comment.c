/*
 * fmt_comment.c - the formatter's comments: their text, the two ways they
 * are printed (trailing a line, or on a line of their own), and the final
 * pass that aligns trailing comments of neighbouring lines.
 *
 * Where each comment goes is decided in fmt.c and fmt_expr.c; this file
 * only prints.
 */
#include "fmt_internal.h"

#include <stdlib.h>

/* Whether code precedes comment i on its source line. */
bool tg_fmt_ends_code_line(const tg_ast *ast, size_t i)
{
	uint32_t p = ast->comments[i].span.start;
	while (p > 0 && ast->src[p - 1] != '\n') {
		char c = ast->src[p - 1];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != '\v')
			return true;
		p--;
	}
	return false;
}

void tg_fmt_comment_text(const tg_fmt_state *st, size_t i, const char **s, size_t *n)
{
	tg_span sp = st->ast->comments[i].span;
	const char *p = st->ast->src + sp.start;
	size_t len = sp.end - sp.start;
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r' ||
			   p[len - 1] == '\n'))
		len--;
	*s = p;
	*n = len;
}

void tg_fmt_comment_trail(tg_fmt_state *st, size_t i)
{
	const char *s;
	size_t n;
	tg_fmt_comment_text(st, i, &s, &n);
	if (st->ntrails == st->trails_cap) {
		size_t cap = st->trails_cap ? 2 * st->trails_cap : 64;
		size_t *t = realloc(st->trails, cap * sizeof *t);
		if (!t) {
			st->out.oom = true;
			return;
		}
		st->trails = t;
		st->trails_cap = cap;
	}
	st->trails[st->ntrails++] = st->out.len;
	tg_fmt_puts(&st->out, "  ");
	tg_fmt_put(&st->out, s, n);
	st->line_has_comment = true;
}

void tg_fmt_comment_line(tg_fmt_state *st, size_t i, unsigned indent)
{
	const char *s;
	size_t n;
	tg_fmt_comment_text(st, i, &s, &n);
	tg_fmt_begin_line(st, indent);
	tg_fmt_put(&st->out, s, n);
	st->line_has_comment = true;
}

size_t tg_fmt_first_comment(const tg_fmt_state *st, uint32_t off)
{
	size_t lo = st->clo, hi = st->chi;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (st->ast->comments[mid].span.start < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Aligns trailing comments: in each run of consecutive lines that all end in
 * one, the comments start two columns after the longest code of the run,
 * unless that would take a line of the run past the width (then each keeps
 * its two spaces). The choice depends only on the printed code and comment
 * texts, so it is the same when the output is formatted again.
 */
int tg_fmt_align_trails(const tg_fmt_state *st, tg_fmt_buf *res)
{
	const tg_fmt_buf *b = &st->out;
	size_t t = 0, pos = 0;
	while (pos < b->len) {
		/* A run: lines [pos, end) whose trails are trails[t, u). */
		size_t end = pos, u = t, width = 0, longest = 0;
		for (;;) {
			size_t eol = end;
			while (eol < b->len && b->s[eol] != '\n')
				eol++;
			if (u == st->ntrails || st->trails[u] < end || st->trails[u] >= eol)
				break;
			size_t w = tg_fmt_width(b->s + end, st->trails[u] - end);
			size_t c = tg_fmt_width(b->s + st->trails[u], eol - st->trails[u]);
			width = w > width ? w : width;
			longest = c > longest ? c : longest;
			u++;
			end = eol < b->len ? eol + 1 : eol;
		}
		bool align = width + longest <= TG_FMT_WIDTH;
		if (u == t) {	/* a line without a trailing comment */
			size_t eol = pos;
			while (eol < b->len && b->s[eol] != '\n')
				eol++;
			end = eol < b->len ? eol + 1 : eol;
			tg_fmt_put(res, b->s + pos, end - pos);
			pos = end;
			continue;
		}
		for (size_t line = pos; t < u; t++) {
			size_t w = tg_fmt_width(b->s + line, st->trails[t] - line);
			size_t eol = st->trails[t];
			tg_fmt_put(res, b->s + line, st->trails[t] - line);
			if (align)
				tg_fmt_spaces(res, (unsigned)(width - w));
			while (eol < b->len && b->s[eol] != '\n')
				eol++;
			line = eol < b->len ? eol + 1 : eol;
			tg_fmt_put(res, b->s + st->trails[t], line - st->trails[t]);
		}
		pos = end;
	}
	return res->oom ? -1 : 0;
}
