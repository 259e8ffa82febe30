/*
 * yaml_tree.c - YAML text -> a located tree, and the typed getters the
 * readers check it with (yaml_tree.h).
 *
 * libyaml counts columns in characters; marks are converted to bytes so
 * locations agree with policy diagnostics. Every problem is reported, not
 * just the first.
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "diag.h"
#include "yaml_tree.h"

/* Messages past this many are counted, not shown. */
#define TG_SUITE_MAX_ERRORS 100

/* ---- locations and messages --------------------------------------------- */

/* Walks from the last position, backwards too: every mark first converts
 * its line's start, which lies behind the previous mark, and restarting
 * from the top of the file there made reading a suite quadratic. */
static size_t tg_ys_byte_of_char(tg_ys *y, size_t ch)
{
	while (y->cur_char > ch && y->cur_byte > 0) {
		y->cur_byte--;
		while (y->cur_byte > 0 && ((unsigned char)y->text[y->cur_byte] & 0xC0) == 0x80)
			y->cur_byte--;
		y->cur_char--;
	}
	while (y->cur_char < ch && y->cur_byte < y->len) {
		y->cur_byte++;
		while (y->cur_byte < y->len && ((unsigned char)y->text[y->cur_byte] & 0xC0) == 0x80)
			y->cur_byte++;
		y->cur_char++;
	}
	return y->cur_byte;
}

static void tg_ys_mark(tg_ys *y, const yaml_mark_t *m, tg_suite_loc *loc, size_t *off)
{
	size_t line_start = tg_ys_byte_of_char(y, m->index - m->column);
	size_t at = tg_ys_byte_of_char(y, m->index);

	loc->line = (unsigned)m->line + 1;
	loc->col = (unsigned)(at - line_start) + 1;
	*off = at;
}



/* Starts a message in y->buf, an in-memory stream, which tg_ys_end_msg
 * files under `off`. */
static void tg_ys_begin_msg(tg_ys *y)
{
	y->bufp = NULL;
	y->buflen = 0;
	y->buf = open_memstream(&y->bufp, &y->buflen);
}

static void tg_ys_end_msg(tg_ys *y, size_t off)
{
	if (!y->buf) {
		tg_ys_oom(y);
		return;
	}
	fclose(y->buf);
	y->buf = NULL;
	if (y->nmsgs == y->capmsgs) {
		size_t cap = y->capmsgs ? y->capmsgs * 2 : 16;
		struct tg_ys_msg *m = realloc(y->msgs, cap * sizeof *m);

		if (!m) {
			free(y->bufp);
			tg_ys_oom(y);
			return;
		}
		y->msgs = m;
		y->capmsgs = cap;
	}
	y->msgs[y->nmsgs].off = off;
	y->msgs[y->nmsgs].text = y->bufp;
	y->nmsgs++;
}

void tg_ys_flush(tg_ys *y)
{
	size_t i, j;

	/* Insertion sort: stable, so messages at one position keep the
	 * order they were found in; there are few of them. */
	for (i = 0; i < y->nmsgs; i++) {
		for (j = i; j > 0 && y->msgs[j - 1].off > y->msgs[j].off; j--) {
			struct tg_ys_msg t = y->msgs[j];

			y->msgs[j] = y->msgs[j - 1];
			y->msgs[j - 1] = t;
		}
	}
	for (i = 0; i < y->nmsgs; i++) {
		fputs(y->msgs[i].text, y->err);
		free(y->msgs[i].text);
	}
	if (y->nerrors > TG_SUITE_MAX_ERRORS)
		fprintf(y->err, "%s: %u more errors not shown\n", y->path,
			y->nerrors - TG_SUITE_MAX_ERRORS);
	free(y->msgs);
	y->msgs = NULL;
	y->nmsgs = y->capmsgs = 0;
}

static void tg_ys_show_line(tg_ys *y, FILE *o, const tg_suite_loc *loc, size_t off)
{
	size_t start, end, i;

	if (off > y->len)
		return;
	start = off - (loc->col - 1);
	end = start;
	while (end < y->len && y->text[end] != '\n' && y->text[end] != '\r')
		end++;
	fprintf(o, "%5u | %.*s\n", loc->line, (int)(end - start), y->text + start);
	fputs("      | ", o);
	for (i = start; i < off; i++)
		fputc(y->text[i] == '\t' ? '\t' : ' ', o);
	fputs("^\n", o);
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 0)))
#endif
static void tg_ys_verror(tg_ys *y, const tg_suite_loc *loc, size_t off, const char *hint,
			 const char *fmt, va_list ap)
{
	FILE *o;

	if (y->nerrors++ >= TG_SUITE_MAX_ERRORS)
		return;
	tg_ys_begin_msg(y);
	if (!(o = y->buf)) {
		tg_ys_oom(y);
		return;
	}
	fprintf(o, "%s:%u:%u: error: ", y->path, loc->line, loc->col);
	vfprintf(o, fmt, ap);
	fputc('\n', o);
	tg_ys_show_line(y, o, loc, off);
	if (hint)
		fprintf(o, "      = hint: %s\n", hint);
	tg_ys_end_msg(y, off);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void tg_ys_error(tg_ys *y, const tg_yn *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tg_ys_verror(y, &at->loc, at->off, NULL, fmt, ap);
	va_end(ap);
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
void tg_ys_error_hint(tg_ys *y, const tg_yn *at, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tg_ys_verror(y, &at->loc, at->off, hint, fmt, ap);
	va_end(ap);
}

void tg_ys_oom(tg_ys *y)
{
	if (!y->oom)
		fprintf(y->err, "%s: error: out of memory\n", y->path);
	y->oom = true;
	y->nerrors++;
}

/* ---- pass 1: events -> tree ------------------------------------------- */

static tg_yn *tg_ys_node(tg_ys *y, tg_yn_kind kind, const yaml_mark_t *m)
{
	tg_yn *n = tg_arena_alloc(y->arena, sizeof *n);

	if (!n) {
		tg_ys_oom(y);
		return NULL;
	}
	n->kind = kind;
	tg_ys_mark(y, m, &n->loc, &n->off);
	return n;
}

static int tg_ys_add_kid(tg_ys *y, tg_yn *parent, tg_yn *kid)
{
	if (parent->n == parent->cap &&
	    tg_arena_grow(y->arena, (void **)&parent->kids, &parent->cap, parent->n + 1,
			  sizeof *parent->kids) < 0) {
		tg_ys_oom(y);
		return -1;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

static int tg_ys_keycmp(const void *a, const void *b)
{
	const tg_yn *x = *(tg_yn *const *)a, *y = *(tg_yn *const *)b;
	int c;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	c = memcmp(x->s, y->s, x->len);
	if (c)
		return c;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Reports each key written a second time in `map`, at the later one. */
static void tg_ys_check_duplicates(tg_ys *y, tg_yn *map)
{
	size_t nkeys = map->n / 2, i, k = 0;
	tg_yn **keys;

	if (nkeys < 2)
		return;
	keys = tg_arena_alloc(y->arena, nkeys * sizeof *keys);
	if (!keys) {
		tg_ys_oom(y);
		return;
	}
	for (i = 0; i < map->n; i += 2)
		if (map->kids[i]->kind == TG_YN_SCALAR)
			keys[k++] = map->kids[i];
	qsort(keys, k, sizeof *keys, tg_ys_keycmp);
	for (i = 1; i < k; i++)
		if (keys[i]->len == keys[i - 1]->len &&
		    memcmp(keys[i]->s, keys[i - 1]->s, keys[i]->len) == 0)
			tg_ys_error(y, keys[i], "duplicate key '%s'", keys[i]->s);
}

/* Refuses what a suite never needs and could be abused: anchors (and with
 * them aliases) and explicit tags. Returns true when the node is acceptable. */
static bool tg_ys_plain_node(tg_ys *y, tg_yn *n, const yaml_char_t *anchor,
			     const yaml_char_t *tag, bool implicit_tag)
{
	if (anchor) {
		tg_ys_error(y, n, "anchors and aliases are not supported");
		return false;
	}
	if (tag && !implicit_tag) {
		tg_ys_error(y, n, "tags are not supported");
		return false;
	}
	return true;
}

tg_yn *tg_ys_read_tree(tg_ys *y)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	tg_yn *stack[TG_SUITE_MAX_DEPTH + 1];
	size_t depth = 0;
	tg_yn *root = NULL;
	int docs = 0;
	bool done = false;

	if (!yaml_parser_initialize(&parser)) {
		tg_ys_oom(y);
		return NULL;
	}
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&parser, (const unsigned char *)y->text, y->len);

	while (!done) {
		tg_yn *n = NULL;

		if (!yaml_parser_parse(&parser, &ev)) {
			tg_suite_loc loc;
			size_t off;

			tg_ys_mark(y, &parser.problem_mark, &loc, &off);
			if (parser.error == YAML_MEMORY_ERROR) {
				tg_ys_oom(y);
			} else {
				y->nerrors++;
				tg_ys_begin_msg(y);
				if (y->buf) {
					fprintf(y->buf, "%s:%u:%u: error: %s%s%s\n", y->path,
						loc.line, loc.col,
						parser.problem ? parser.problem : "invalid YAML",
						parser.context ? " " : "",
						parser.context ? parser.context : "");
					tg_ys_show_line(y, y->buf, &loc, off);
				}
				tg_ys_end_msg(y, off);
			}
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
		case YAML_NO_EVENT:
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				n = tg_ys_node(y, TG_YN_BAD, &ev.start_mark);
				if (n)
					tg_ys_error(y, n, "%s holds one YAML document", y->what ? y->what : "a suite file");
				done = true;
				n = NULL;
			}
			break;
		case YAML_ALIAS_EVENT:
			n = tg_ys_node(y, TG_YN_BAD, &ev.start_mark);
			if (n)
				tg_ys_error(y, n, "anchors and aliases are not supported");
			break;
		case YAML_SCALAR_EVENT:
			n = tg_ys_node(y, TG_YN_SCALAR, &ev.start_mark);
			if (!n)
				break;
			if (!tg_ys_plain_node(y, n, ev.data.scalar.anchor, ev.data.scalar.tag,
					      ev.data.scalar.plain_implicit ||
					      ev.data.scalar.quoted_implicit)) {
				n->kind = TG_YN_BAD;
				break;
			}
			n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			n->len = ev.data.scalar.length;
			n->s = tg_arena_strndup(y->arena, (const char *)ev.data.scalar.value,
						n->len);
			if (!n->s)
				tg_ys_oom(y);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			bool seq = ev.type == YAML_SEQUENCE_START_EVENT;

			n = tg_ys_node(y, seq ? TG_YN_SEQ : TG_YN_MAP, &ev.start_mark);
			if (!n)
				break;
			/* A refused container still collects its contents, so
			 * the rest of the file is checked too. */
			tg_ys_plain_node(y, n,
					 seq ? ev.data.sequence_start.anchor
					     : ev.data.mapping_start.anchor,
					 seq ? ev.data.sequence_start.tag : ev.data.mapping_start.tag,
					 seq ? ev.data.sequence_start.implicit
					     : ev.data.mapping_start.implicit);
			if (depth == TG_SUITE_MAX_DEPTH) {
				tg_ys_error(y, n, "nesting deeper than %d levels",
					    TG_SUITE_MAX_DEPTH);
				done = true;
				n = NULL;
				break;
			}
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth == 0)
				break;
			n = stack[--depth];
			if (n->kind == TG_YN_MAP)
				tg_ys_check_duplicates(y, n);
			/* The finished container is attached below, like a
			 * scalar. */
			break;
		}
		if (n && (ev.type == YAML_SEQUENCE_START_EVENT ||
			  ev.type == YAML_MAPPING_START_EVENT)) {
			/* Open: attached to its parent when it closes. */
			stack[depth++] = n;
			n = NULL;
		}
		yaml_event_delete(&ev);
		if (n) {
			if (depth == 0) {
				root = n;
			} else {
				tg_yn *parent = stack[depth - 1];

				if (parent->kind == TG_YN_MAP && parent->n % 2 == 0 &&
				    n->kind != TG_YN_SCALAR && n->kind != TG_YN_BAD)
					tg_ys_error(y, n, "a mapping key must be a scalar");
				/* Readers go on after an error to report more, and
				 * read every key as text: one that is not gets "". */
				if (parent->kind == TG_YN_MAP && parent->n % 2 == 0 && !n->s) {
					n->s = "";
					n->len = 0;
				}
				if (tg_ys_add_kid(y, parent, n) < 0)
					done = true;
			}
		}
		if (y->oom)
			done = true;
	}
	yaml_parser_delete(&parser);
	return root;
}

/* ---- scalar typing -------------------------------------------------------- */

static bool tg_ys_digits(const char *s, size_t len, size_t *i)
{
	size_t start = *i;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	return *i > start;
}

/* -?(0|[1-9][0-9]*) */
static bool tg_ys_is_int(const char *s, size_t len)
{
	size_t i = 0;

	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		return i + 1 == len;
	return tg_ys_digits(s, len, &i) && i == len;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? with a fraction or an
 * exponent. */
static bool tg_ys_is_float(const char *s, size_t len)
{
	size_t i = 0;
	bool more = false;

	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (i >= len || s[i] < '1' || s[i] > '9' || !tg_ys_digits(s, len, &i))
		return false;
	if (i < len && s[i] == '.') {
		i++;
		if (!tg_ys_digits(s, len, &i))
			return false;
		more = true;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		if (!tg_ys_digits(s, len, &i))
			return false;
		more = true;
	}
	return more && i == len;
}

static bool tg_ys_is_null(const char *s, size_t len)
{
	return len == 0 || (len == 1 && s[0] == '~') || (len == 4 && memcmp(s, "null", 4) == 0);
}

json_t *tg_suite_plain_scalar(const char *s, size_t len)
{
	if (tg_ys_is_null(s, len))
		return json_null();
	if (len == 4 && memcmp(s, "true", 4) == 0)
		return json_true();
	if (len == 5 && memcmp(s, "false", 5) == 0)
		return json_false();
	if (tg_ys_is_int(s, len) || tg_ys_is_float(s, len)) {
		char buf[64];
		double d;

		if (len < sizeof buf && tg_ys_is_int(s, len)) {
			long long v;

			memcpy(buf, s, len);
			buf[len] = '\0';
			errno = 0;
			v = strtoll(buf, NULL, 10);
			if (errno == 0)
				return json_integer(v);
		}
		/* A float, or an integer past 64 bits: a present value of
		 * type other either way, like the same number in JSON. */
		if (len >= sizeof buf)
			return json_real(0.0);
		memcpy(buf, s, len);
		buf[len] = '\0';
		d = strtod(buf, NULL);
		if (!isfinite(d))
			d = d < 0 ? -DBL_MAX : DBL_MAX;
		return json_real(d);
	}
	return json_stringn(s, len);
}


tg_ys_type tg_ys_type_of(const tg_yn *n)
{
	switch (n->kind) {
	case TG_YN_SEQ:
		return TG_YT_LIST;
	case TG_YN_MAP:
		return TG_YT_MAP;
	case TG_YN_BAD:
		return TG_YT_BAD;
	case TG_YN_SCALAR:
		break;
	}
	if (!n->plain)
		return TG_YT_STRING;
	if (tg_ys_is_null(n->s, n->len))
		return TG_YT_NULL;
	if ((n->len == 4 && memcmp(n->s, "true", 4) == 0) ||
	    (n->len == 5 && memcmp(n->s, "false", 5) == 0))
		return TG_YT_BOOL;
	if (tg_ys_is_int(n->s, n->len))
		return TG_YT_INT;
	if (tg_ys_is_float(n->s, n->len))
		return TG_YT_FLOAT;
	return TG_YT_STRING;
}

const char *tg_ys_type_name(const tg_yn *n)
{
	static const char *const names[] = {
		[TG_YT_STRING] = "a string",	[TG_YT_INT] = "an integer",
		[TG_YT_FLOAT] = "a number",	[TG_YT_BOOL] = "a boolean",
		[TG_YT_NULL] = "null",		[TG_YT_LIST] = "a list",
		[TG_YT_MAP] = "a mapping",	[TG_YT_BAD] = "invalid",
	};
	return names[tg_ys_type_of(n)];
}

json_t *tg_ys_to_json(tg_ys *y, const tg_yn *n)
{
	json_t *j = NULL;
	size_t i;

	switch (n->kind) {
	case TG_YN_BAD:
		return json_null();
	case TG_YN_SCALAR:
		j = n->plain ? tg_suite_plain_scalar(n->s, n->len) : json_stringn(n->s, n->len);
		break;
	case TG_YN_SEQ:
		j = json_array();
		for (i = 0; j && i < n->n; i++)
			if (json_array_append_new(j, tg_ys_to_json(y, n->kids[i])) < 0) {
				json_decref(j);
				j = NULL;
			}
		break;
	case TG_YN_MAP:
		j = json_object();
		for (i = 0; j && i + 1 < n->n; i += 2) {
			const tg_yn *k = n->kids[i];

			if (k->kind != TG_YN_SCALAR)
				continue;	/* already reported */
			if (json_object_setn_new(j, k->s, k->len,
						 tg_ys_to_json(y, n->kids[i + 1])) < 0) {
				json_decref(j);
				j = NULL;
			}
		}
		break;
	}
	if (!j)
		tg_ys_oom(y);
	return j;
}

/* ---- pass 2: tree -> suite ------------------------------------------------ */

bool tg_ys_key_is(const tg_yn *k, const char *name)
{
	return k->kind == TG_YN_SCALAR && k->len == strlen(name) && memcmp(k->s, name, k->len) == 0;
}

const tg_yn *tg_ys_get(const tg_yn *map, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < map->n; i += 2)
		if (tg_ys_key_is(map->kids[i], name))
			return map->kids[i + 1];
	return NULL;
}

/* Reports every key of `map` that is not in `allowed`, with a suggestion. */
void tg_ys_check_keys(tg_ys *y, const tg_yn *map, const char *const *allowed,
			     size_t nallowed, const char *where)
{
	size_t i, j;

	for (i = 0; i + 1 < map->n; i += 2) {
		const tg_yn *k = map->kids[i];
		const char *best;
		char hint[128];

		if (k->kind != TG_YN_SCALAR)
			continue;
		for (j = 0; j < nallowed; j++)
			if (tg_ys_key_is(k, allowed[j]))
				break;
		if (j < nallowed)
			continue;
		best = tg_suggest(k->s, k->len, allowed, nallowed);
		if (best) {
			snprintf(hint, sizeof hint, "did you mean '%s'?", best);
			tg_ys_error_hint(y, k, hint, "unknown key '%s' in %s", k->s, where);
		} else {
			tg_ys_error(y, k, "unknown key '%s' in %s", k->s, where);
		}
	}
}

const tg_yn *tg_ys_require(tg_ys *y, const tg_yn *map, const char *key, const char *where)
{
	const tg_yn *v = tg_ys_get(map, key);

	if (!v)
		tg_ys_error(y, map, "missing required key '%s' in %s", key, where);
	return v;
}

bool tg_ys_want(tg_ys *y, const tg_yn *v, tg_ys_type t, const char *what,
		       const char *key)
{
	static const char *const names[] = {
		[TG_YT_STRING] = "a string",	[TG_YT_INT] = "an integer",
		[TG_YT_FLOAT] = "a number",	[TG_YT_BOOL] = "true or false",
		[TG_YT_NULL] = "null",		[TG_YT_LIST] = "a list",
		[TG_YT_MAP] = "a mapping",	[TG_YT_BAD] = "invalid",
	};
	tg_ys_type got = tg_ys_type_of(v);

	if (got == t)
		return true;
	if (got != TG_YT_BAD)
		tg_ys_error(y, v, "%s'%s' must be %s, not %s", what, key, names[t],
			    tg_ys_type_name(v));
	return false;
}

/* A string field; NULL (reported) when it is not one. */
const char *tg_ys_string(tg_ys *y, const tg_yn *v, const char *what, const char *key)
{
	if (!tg_ys_want(y, v, TG_YT_STRING, what, key))
		return NULL;
	if (strlen(v->s) != v->len) {
		tg_ys_error(y, v, "%s'%s' must not contain U+0000", what, key);
		return NULL;
	}
	return v->s;
}
