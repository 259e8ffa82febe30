/*
 * api.c - the compiler library's public entry points (toolgate/compiler.h):
 * the stages of stages.h run in order with their diagnostics turned into
 * data. A compilation keeps its arena, so every string a tg_diagnostic
 * points to lives exactly as long as the compilation.
 *
 * Stages stop at the first one that reports an error, so later stages never
 * see a tree that failed an earlier one (no cascades of follow-on errors),
 * as in `toolgate compile` and `toolgate check`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages.h"
#include "toolgate/compiler.h"

struct tg_compilation {
	tg_arena arena;
	tg_diags diags;
	char *path;
	unsigned char *code;
	size_t code_len;
	tg_diagnostic *items;	/* diags.items as public records */
	size_t nerrors, nwarnings;
	char *text;		/* the rendered diagnostics */
	size_t text_len;
};

static char *copy_string(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	return d ? memcpy(d, s, n) : NULL;
}

/* Diagnostics as public records, and as text, once they are final. */
static bool publish(tg_compilation *c, const char *src, size_t len)
{
	FILE *out;

	tg_diags_sort(&c->diags);
	c->items = calloc(c->diags.n ? c->diags.n : 1, sizeof *c->items);
	if (!c->items)
		return false;
	for (size_t i = 0; i < c->diags.n; i++) {
		const tg_diag *d = &c->diags.items[i];
		tg_linecol a = tg_source_linecol(src, len, d->span.start);
		tg_linecol b = tg_source_linecol(src, len, d->span.end);
		tg_diagnostic *p = &c->items[i];

		p->severity = d->severity == TG_SEV_ERROR ? TG_DIAG_ERROR : TG_DIAG_WARNING;
		p->file = c->path;
		p->line = a.line;
		p->column = a.col;
		p->end_line = b.line;
		p->end_column = b.col;
		p->lint_id = d->id;
		p->message = d->message;
		p->hint = d->hint;
	}
	c->nerrors = c->diags.nerrors + c->diags.dropped;
	c->nwarnings = c->diags.nwarnings;
	out = open_memstream(&c->text, &c->text_len);
	if (!out)
		return false;
	tg_diags_print(out, c->path, src, len, &c->diags);
	return fclose(out) == 0;
}

static void run(tg_compilation *c, const char *src, size_t len, unsigned flags)
{
	tg_diags *d = &c->diags;
	tg_ast *ast;

	if (len > TG_MAX_SOURCE_BYTES) {
		tg_error(d, (tg_span){0, 0}, "policy source is larger than %u bytes",
			 TG_MAX_SOURCE_BYTES);
		return;
	}
	ast = tg_parse(&c->arena, c->path, src, len, d);
	if (!ast) {
		d->oom = true;
		return;
	}
	if (d->nerrors == 0)
		tg_check(ast, d);
	if ((flags & TG_COMPILE_LINT) && d->nerrors == 0 && !d->oom)
		tg_lint(ast, d);
	if (flags & TG_COMPILE_STRICT) {
		for (size_t i = 0; i < d->n; i++)
			if (d->items[i].severity == TG_SEV_WARNING) {
				d->items[i].severity = TG_SEV_ERROR;
				d->nwarnings--;
				d->nerrors++;
			}
	}
	if (d->nerrors == 0 && !d->oom)
		(void)tg_codegen(ast, d, &c->code, &c->code_len);
}

tg_status tg_compile(const char *src, size_t len, const char *path, unsigned flags,
		     tg_compilation **out)
{
	tg_compilation *c;

	if (!out || (!src && len > 0))
		return TG_EINVAL;
	c = calloc(1, sizeof *c);
	if (!c)
		return TG_ENOMEM;
	tg_arena_init(&c->arena);
	tg_diags_init(&c->diags, &c->arena);
	c->path = copy_string(path ? path : "<input>");
	if (!c->path) {
		tg_compilation_free(c);
		return TG_ENOMEM;
	}
	run(c, src ? src : "", len, flags);
	if (c->diags.oom || !publish(c, src ? src : "", len > TG_MAX_SOURCE_BYTES ? 0 : len)) {
		tg_compilation_free(c);
		return TG_ENOMEM;
	}
	*out = c;
	return TG_OK;
}

tg_status tg_compile_file(const char *path, unsigned flags, tg_compilation **out)
{
	size_t len;
	char *src;
	tg_status st;

	if (!path || !out)
		return TG_EINVAL;
	src = tg_read_file(path, TG_MAX_SOURCE_BYTES, &len);
	if (!src && errno != EFBIG)
		return errno == ENOMEM ? TG_ENOMEM : TG_EIO;
	/* Too large: the compilation says so, as it would for the bytes. */
	st = tg_compile(src ? src : "", src ? len : (size_t)TG_MAX_SOURCE_BYTES + 1, path, flags,
			out);
	free(src);
	return st;
}

const unsigned char *tg_compilation_bytecode(const tg_compilation *c, size_t *len)
{
	bool ok = c && c->code && c->nerrors == 0;

	if (len)
		*len = ok ? c->code_len : 0;
	return ok ? c->code : NULL;
}

size_t tg_compilation_error_count(const tg_compilation *c)
{
	return c ? c->nerrors : 0;
}

size_t tg_compilation_warning_count(const tg_compilation *c)
{
	return c ? c->nwarnings : 0;
}

size_t tg_compilation_diagnostic_count(const tg_compilation *c)
{
	return c ? c->diags.n : 0;
}

const tg_diagnostic *tg_compilation_diagnostic(const tg_compilation *c, size_t i)
{
	return c && i < c->diags.n ? &c->items[i] : NULL;
}

size_t tg_compilation_render(const tg_compilation *c, char *buf, size_t len)
{
	size_t n = c && c->text ? c->text_len : 0;

	if (len > 0) {
		size_t k = n < len ? n : len - 1;

		if (k)
			memcpy(buf, c->text, k);
		buf[k] = '\0';
	}
	return n;
}

void tg_compilation_free(tg_compilation *c)
{
	if (!c)
		return;
	tg_arena_free(&c->arena);
	free(c->path);
	free(c->code);
	free(c->items);
	free(c->text);
	free(c);
}
