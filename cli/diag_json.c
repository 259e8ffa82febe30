/*
 * diag_json.c - `toolgate check --format json`: the diagnostics of every
 * file as one JSON document on stdout (the schema is in
 * docs/check-output.md, and is versioned: fields are only ever added).
 *
 * Positions are given three ways, so no consumer has to recompute them:
 * line and column (from 1, columns in bytes, as in the text format) and the
 * byte offset (from 0). `end` is exclusive: the position just after the
 * last byte of the range.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "diag.h"
#include "utf8.h"

#define CHECK_JSON_VERSION 1

json_t *tg_cli_json_string(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, k, bad = 0;
	for (i = 0; i < len;) {
		size_t q = u[i] ? tg_utf8_len(u + i, len - i) : 0;
		bad += q == 0;
		i += q ? q : 1;
	}
	if (!bad)
		return json_stringn(s, len);
	/* Each bad byte (or NUL) becomes U+FFFD, three bytes. */
	char *clean = malloc(len + 2 * bad + 1);
	if (!clean)
		return NULL;
	for (i = 0, k = 0; i < len;) {
		size_t q = u[i] ? tg_utf8_len(u + i, len - i) : 0;
		if (q) {
			memcpy(clean + k, s + i, q);
			k += q;
			i += q;
		} else {
			memcpy(clean + k, "\xEF\xBF\xBD", 3);
			k += 3;
			i++;
		}
	}
	json_t *j = json_stringn(clean, k);
	free(clean);
	return j;
}

static json_t *str_or_null(const char *s)
{
	return s ? tg_cli_json_string(s, strlen(s)) : json_null();
}

static json_t *position(const char *src, size_t len, size_t offset)
{
	if (offset > len)
		offset = len;
	tg_linecol lc = tg_source_linecol(src, len, offset);
	return json_pack("{s:I, s:I, s:I}", "line", (json_int_t)lc.line, "column",
			 (json_int_t)lc.col, "offset", (json_int_t)offset);
}

static json_t *diagnostic(const tg_check_result *f, const tg_diag *g)
{
	size_t start = g->span.start, end = g->span.end;
	if (end < start)
		end = start;
	json_t *range = json_pack("{s:o?, s:o?}", "start", position(f->src, f->len, start),
				  "end", position(f->src, f->len, end));
	return json_pack("{s:s, s:o?, s:o?, s:o?, s:o?}",
			 "severity", g->severity == TG_SEV_ERROR ? "error" : "warning",
			 "id", str_or_null(g->id),
			 "message", str_or_null(g->message),
			 "hint", str_or_null(g->hint),
			 "range", range);
}

static json_t *file_entry(const tg_check_result *f, size_t *nerr, size_t *nwarn)
{
	json_t *diags = json_array(), *entry;
	size_t errors = 0, warnings = 0, dropped = 0;
	if (!diags)
		return NULL;
	if (f->io_error) {
		json_t *d = json_pack("{s:s, s:n, s:o?, s:n, s:n}", "severity", "error", "id",
				      "message", str_or_null(f->io_error), "hint", "range");
		if (!d || json_array_append_new(diags, d) < 0)
			goto oom;
		errors = 1;
	} else {
		for (size_t i = 0; i < f->diags->n; i++) {
			json_t *d = diagnostic(f, &f->diags->items[i]);
			if (!d || json_array_append_new(diags, d) < 0)
				goto oom;
		}
		errors = f->diags->nerrors + f->diags->dropped;
		warnings = f->diags->nwarnings;
		dropped = f->diags->dropped;
		if (f->diags->oom)
			errors++;
	}
	*nerr += errors;
	*nwarn += warnings;
	entry = json_pack("{s:o?, s:I, s:I, s:I, s:o}", "path",
			  tg_cli_json_string(f->path, strlen(f->path)), "errors", (json_int_t)errors,
			  "warnings", (json_int_t)warnings, "dropped", (json_int_t)dropped,
			  "diagnostics", diags);
	return entry;
oom:
	json_decref(diags);
	return NULL;
}

int tg_cli_write_check_json(FILE *out, const tg_check_result *files, size_t n, bool strict)
{
	json_t *arr = json_array(), *doc = NULL;
	size_t nerr = 0, nwarn = 0;
	int rc = -1;
	if (!arr)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		json_t *e = file_entry(&files[i], &nerr, &nwarn);
		if (!e || json_array_append_new(arr, e) < 0) {
			json_decref(arr);
			goto oom;
		}
	}
	doc = json_pack("{s:i, s:{s:s, s:s}, s:b, s:o, s:I, s:I}", "version", CHECK_JSON_VERSION,
			"tool", "name", "toolgate", "version", TG_VERSION_STRING, "strict", strict,
			"files", arr, "errors", (json_int_t)nerr, "warnings", (json_int_t)nwarn);
	if (!doc)
		goto oom;
	if (json_dumpf(doc, out, JSON_INDENT(2)) < 0 || fputc('\n', out) == EOF ||
	    fflush(out) != 0) {
		tg_drv_error("cannot write the JSON output");
	} else {
		rc = 0;
	}
	json_decref(doc);
	return rc;
oom:
	tg_drv_error("out of memory");
	return -1;
}
