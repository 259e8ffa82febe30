/*
 * diag.c - collecting, ordering and rendering diagnostics.
 *
 * Diagnostics carry byte spans only; line and column are derived here, when
 * something is printed. Rendering follows the shape of rustc/clang output:
 *
 *   policy.tg:3:22: error: unknown role 'enginer'
 *       3 | rule "x": allow role enginer to call tool "a";
 *         |                      ^~~~~~~
 *         = hint: did you mean 'engineer'?
 *
 * The echoed source line is made safe for a terminal (and for golden files):
 * control bytes and bytes that are not valid UTF-8 are shown as one
 * replacement column each, tabs are kept. The caret line mirrors the echoed
 * line unit for unit (a tab under a tab, one space per code point), so the
 * caret stays aligned whatever the terminal's tab width; columns in the
 * header still count bytes, as the language reference promises. A line
 * longer than LINE_MAX_SHOWN bytes is shown as a window around the span,
 * with "..." where it was cut.
 */
#include "diag.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GUTTER_MIN_WIDTH 5
#define LINE_MAX_SHOWN   240	/* longer source lines are windowed */
#define LINE_CONTEXT     60	/* bytes shown before and after the span */

#if defined(__GNUC__)
#define TG_VPRINTF(f) __attribute__((format(printf, f, 0)))
#else
#define TG_VPRINTF(f)
#endif

void tg_diags_init(tg_diags *d, tg_arena *arena)
{
	memset(d, 0, sizeof *d);
	d->arena = arena;
}

TG_VPRINTF(4)
static tg_diag *diag_vadd(tg_diags *d, tg_severity sev, tg_span span, const char *fmt, va_list ap)
{
	if (sev == TG_SEV_ERROR && d->nerrors >= TG_DIAG_MAX_ERRORS) {
		d->dropped++;
		return NULL;
	}
	if (tg_arena_grow(d->arena, (void **)&d->items, &d->cap, d->n + 1, sizeof *d->items) < 0) {
		d->oom = true;
		return NULL;
	}
	char *msg = tg_arena_vprintf(d->arena, fmt, ap);
	if (!msg) {
		d->oom = true;
		return NULL;
	}
	tg_diag *g = &d->items[d->n++];
	memset(g, 0, sizeof *g);
	g->severity = sev;
	g->span = span;
	g->message = msg;
	if (sev == TG_SEV_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
	return g;
}

tg_diag *tg_diag_add(tg_diags *d, tg_severity sev, tg_span span, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tg_diag *g = diag_vadd(d, sev, span, fmt, ap);
	va_end(ap);
	return g;
}

tg_diag *tg_error(tg_diags *d, tg_span span, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tg_diag *g = diag_vadd(d, TG_SEV_ERROR, span, fmt, ap);
	va_end(ap);
	return g;
}

tg_diag *tg_warning(tg_diags *d, tg_span span, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tg_diag *g = diag_vadd(d, TG_SEV_WARNING, span, fmt, ap);
	va_end(ap);
	return g;
}

void tg_diag_hint(tg_diags *d, tg_diag *diag, const char *fmt, ...)
{
	if (!diag)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *h = tg_arena_vprintf(d->arena, fmt, ap);
	va_end(ap);
	if (!h)
		d->oom = true;
	else
		diag->hint = h;
}

const char *tg_diag_show(tg_arena *a, const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		n += ch < 0x20 || ch == 0x7f ? 8 : 1;
	}
	char *out = tg_arena_alloc(a, n + 1);
	if (!out)
		return NULL;
	char *p = out;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\n') {
			memcpy(p, "\\n", 2);
			p += 2;
		} else if (ch == '\t') {
			memcpy(p, "\\t", 2);
			p += 2;
		} else if (ch < 0x20 || ch == 0x7f) {
			p += sprintf(p, "\\u{%x}", ch);
		} else {
			*p++ = (char)ch;
		}
	}
	*p = '\0';
	return out;
}

/* Stable merge sort: passes report in their own order, and two diagnostics
 * at one offset must keep the order they were reported in. */
static void merge_sort(tg_diag *a, tg_diag *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	merge_sort(a, tmp, h);
	merge_sort(a + h, tmp, n - h);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = a[j].span.start < a[i].span.start ? a[j++] : a[i++];
	while (i < h)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof *a);
}

void tg_diags_sort(tg_diags *d)
{
	if (d->n < 2)
		return;
	tg_diag *tmp = malloc(d->n * sizeof *tmp);
	if (tmp) {
		merge_sort(d->items, tmp, d->n);
		free(tmp);
		return;
	}
	/* No memory for the scratch array: insertion sort is stable too. */
	for (size_t i = 1; i < d->n; i++) {
		tg_diag x = d->items[i];
		size_t j = i;
		while (j > 0 && d->items[j - 1].span.start > x.span.start) {
			d->items[j] = d->items[j - 1];
			j--;
		}
		d->items[j] = x;
	}
}

tg_linecol tg_source_linecol(const char *src, size_t len, size_t offset)
{
	tg_linecol lc = {1, 1};
	size_t line_start = 0;
	if (offset > len)
		offset = len;
	for (size_t i = 0; i < offset; i++) {
		if (src[i] == '\n') {
			lc.line++;
			line_start = i + 1;
		}
	}
	lc.col = (unsigned)(offset - line_start + 1);
	return lc;
}

/* One displayed unit of the echoed line: how many source bytes it covers. */
static size_t unit_len(const unsigned char *s, size_t n)
{
	size_t u = tg_utf8_len(s, n);
	return u ? u : 1;
}

static void put_unit(FILE *out, const unsigned char *s, size_t n)
{
	size_t u = tg_utf8_len(s, n);
	if (u == 1 && (s[0] < 0x20 || s[0] == 0x7F) && s[0] != '\t')
		fputc(' ', out);
	else if (u == 0)
		fputc('?', out);
	else
		fwrite(s, 1, u, out);
}

static unsigned digits(unsigned v)
{
	unsigned d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static void print_at(FILE *out, const char *path, const char *src, size_t len, const tg_diag *g,
		     size_t line_start, unsigned line)
{
	size_t start = g->span.start, end = g->span.end;
	if (start > len)
		start = len;
	if (end < start)
		end = start;
	if (end > len)
		end = len;
	size_t line_end = line_start;
	while (line_end < len && src[line_end] != '\n')
		line_end++;
	size_t shown_end = line_end;
	if (shown_end > line_start && src[shown_end - 1] == '\r')
		shown_end--;
	unsigned col = (unsigned)(start - line_start + 1);
	int width = (int)digits(line);
	if (width < GUTTER_MIN_WIDTH)
		width = GUTTER_MIN_WIDTH;

	fprintf(out, "%s:%u:%u: %s: %s", path, line, col,
		g->severity == TG_SEV_ERROR ? "error" : "warning", g->message);
	if (g->id)
		fprintf(out, " [%s]", g->id);
	fputc('\n', out);

	const unsigned char *s = (const unsigned char *)src;
	/* A very long line is shown as a window around the span. */
	size_t ws = line_start, we = shown_end;
	if (shown_end - line_start > LINE_MAX_SHOWN) {
		if (start > line_start + LINE_CONTEXT)
			ws = start - LINE_CONTEXT;
		size_t stop = (end > start ? end : start) + LINE_CONTEXT;
		if (stop > start + 2 * LINE_CONTEXT)
			stop = start + 2 * LINE_CONTEXT;
		if (stop < we)
			we = stop;
		while (ws > line_start && (s[ws] & 0xC0) == 0x80)
			ws--;
		while (we < shown_end && (s[we] & 0xC0) == 0x80)
			we++;
	}
	fprintf(out, "%*u | %s", width, line, ws > line_start ? "..." : "");
	for (size_t i = ws; i < we;) {
		size_t u = unit_len(s + i, we - i);
		put_unit(out, s + i, we - i);
		i += u;
	}
	fprintf(out, "%s\n", we < shown_end ? "..." : "");
	shown_end = we;

	fprintf(out, "%*s | %s", width, "", ws > line_start ? "   " : "");
	size_t i = ws;
	while (i < start && i < shown_end) {
		size_t u = unit_len(s + i, shown_end - i);
		fputc(s[i] == '\t' ? '\t' : ' ', out);
		i += u;
	}
	fputc('^', out);
	if (i < shown_end)
		i += unit_len(s + i, shown_end - i);
	size_t stop = end < shown_end ? end : shown_end;
	while (i < stop) {
		fputc('~', out);
		i += unit_len(s + i, shown_end - i);
	}
	fputc('\n', out);
	if (g->hint)
		fprintf(out, "%*s = hint: %s\n", width, "", g->hint);
}

void tg_diag_print(FILE *out, const char *path, const char *src, size_t len, const tg_diag *diag)
{
	size_t off = diag->span.start > len ? len : diag->span.start;
	size_t ls = off;
	while (ls > 0 && src[ls - 1] != '\n')
		ls--;
	tg_linecol lc = tg_source_linecol(src, len, off);
	print_at(out, path, src, len, diag, ls, lc.line);
}

/* Offsets of line starts, so printing many diagnostics of a large file
 * does not rescan it for each one. */
typedef struct line_index {
	size_t *starts;
	size_t n;
} line_index;

static int index_lines(line_index *li, const char *src, size_t len)
{
	size_t n = 1;
	for (size_t i = 0; i < len; i++)
		n += src[i] == '\n';
	li->starts = malloc(n * sizeof *li->starts);
	if (!li->starts)
		return -1;
	li->n = 0;
	li->starts[li->n++] = 0;
	for (size_t i = 0; i < len; i++)
		if (src[i] == '\n')
			li->starts[li->n++] = i + 1;
	return 0;
}

void tg_diags_print(FILE *out, const char *path, const char *src, size_t len, const tg_diags *d)
{
	line_index li;
	bool indexed = d->n > 8 && index_lines(&li, src, len) == 0;
	for (size_t k = 0; k < d->n; k++) {
		const tg_diag *g = &d->items[k];
		if (!indexed) {
			tg_diag_print(out, path, src, len, g);
			continue;
		}
		size_t off = g->span.start > len ? len : g->span.start;
		size_t lo = 0, hi = li.n;	/* last start <= off */
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;
			if (li.starts[mid] <= off)
				lo = mid;
			else
				hi = mid;
		}
		print_at(out, path, src, len, g, li.starts[lo], (unsigned)(lo + 1));
	}
	if (indexed)
		free(li.starts);
	if (d->dropped > 0)
		fprintf(out, "too many errors; %zu more not shown\n", d->dropped);
}

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions), bounded: names longer than this are never typos of each
 * other worth suggesting. */
#define SUGGEST_MAX_LEN 64

static size_t osa_distance(const char *a, size_t n, const char *b, size_t m)
{
	size_t d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[n][m];
}

const char *tg_suggest(const char *name, size_t len, const char *const *candidates, size_t n)
{
	if (len == 0 || len > SUGGEST_MAX_LEN)
		return NULL;
	/* A third of the name, at least one edit and at most three: "enginer"
	 * finds "engineer", "db" does not find "ui". */
	size_t limit = len / 3;
	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	const char *best = NULL;
	size_t best_d = limit + 1;
	for (size_t k = 0; k < n; k++) {
		const char *c = candidates[k];
		if (!c)
			continue;
		size_t m = strlen(c);
		if (m > SUGGEST_MAX_LEN)
			continue;
		size_t diff = m > len ? m - len : len - m;
		if (diff >= best_d)
			continue;
		size_t dist = osa_distance(name, len, c, m);
		if (dist < best_d && dist < m) {
			best = c;
			best_d = dist;
		}
	}
	return best;
}
