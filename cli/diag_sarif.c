/*
 * diag_sarif.c - `toolgate check --format sarif`: a SARIF 2.1.0 log, the
 * format code-scanning services ingest.
 *
 * One run. Its driver lists every rule toolgate can report, whether or not
 * it fired: each lint id with its descriptions and a pointer to its section
 * of docs/lints.md, then "compile-error" for syntax, name and type errors
 * (which have no lint id). Each diagnostic is one result pointing at its
 * rule by id and index. A file that cannot be read is no result (there is
 * nothing to point at) but a tool execution notification, and marks the
 * invocation unsuccessful.
 *
 * SARIF columns cannot count bytes, so the run declares unicodeCodePoints
 * and columns are converted; the region also carries byteOffset and
 * byteLength, which are exact.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "stages.h"

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"
/* Where each lint's rationale and fix are written down, relative to the
 * source tree: the project has no canonical web address to link to. */
#define TG_LINTS_DOC "docs/lints.md#"
#define COMPILE_ERROR_ID "compile-error"

static json_t *text(const char *s)
{
	return json_pack("{s:o?}", "text", tg_cli_json_string(s, strlen(s)));
}

static json_t *rule(const char *id, const char *summary, const char *description,
		    const char *level)
{
	char *help = malloc(sizeof "see " TG_LINTS_DOC + strlen(id));
	if (!help)
		return NULL;
	strcpy(help, "see " TG_LINTS_DOC);
	strcat(help, id);
	json_t *r = json_pack("{s:s, s:o?, s:o?, s:o?, s:{s:s}}", "id", id, "shortDescription",
			      text(summary), "fullDescription", text(description), "help",
			      text(help), "defaultConfiguration", "level", level);
	free(help);
	return r;
}

static json_t *rules(void)
{
	size_t n;
	const tg_lint_info *lints = tg_lint_catalog(&n);
	json_t *arr = json_array();
	if (!arr)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(arr, rule(lints[i].id, lints[i].summary,
						    lints[i].description, "warning")) < 0)
			goto fail;
	if (json_array_append_new(arr, rule(COMPILE_ERROR_ID, "the policy does not compile",
					     "A syntax, name or type error: the policy cannot be "
					     "compiled until it is fixed.", "error")) < 0)
		goto fail;
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

static json_int_t rule_index(const char *id)
{
	size_t n;
	const tg_lint_info *lints = tg_lint_catalog(&n);
	if (id)
		for (size_t i = 0; i < n; i++)
			if (strcmp(lints[i].id, id) == 0)
				return (json_int_t)i;
	return (json_int_t)n;	/* compile-error comes last */
}

static bool unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
}

/* The path as a URI reference: a relative one for a relative path, file://
 * for an absolute one; anything outside the unreserved set percent-encoded
 * (so a ':' in a relative path cannot read as a scheme). */
static json_t *path_uri(const char *path)
{
	size_t n = strlen(path);
	char *u = malloc(3 * n + sizeof "file://");
	if (!u)
		return NULL;
	char *p = u;
	if (path[0] == '/')
		p += sprintf(p, "file://");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];
		if (unreserved(c))
			*p++ = (char)c;
		else
			p += sprintf(p, "%%%02X", c);
	}
	json_t *j = json_stringn(u, (size_t)(p - u));
	free(u);
	return j;
}

/* The code-point column of a byte offset. */
static json_int_t cp_column(const char *src, size_t len, size_t offset)
{
	size_t ls = offset > len ? len : offset;
	json_int_t col = 1;
	while (ls > 0 && src[ls - 1] != '\n')
		ls--;
	for (size_t i = ls; i < offset && i < len; i++)
		col += ((unsigned char)src[i] & 0xC0) != 0x80;
	return col;
}

static json_t *result(const tg_check_result *f, const tg_diag *g, json_t *uri)
{
	size_t start = g->span.start > f->len ? f->len : g->span.start;
	size_t end = g->span.end > f->len ? f->len : g->span.end;
	if (end < start)
		end = start;
	tg_linecol s = tg_source_linecol(f->src, f->len, start);
	tg_linecol e = tg_source_linecol(f->src, f->len, end);
	const char *msg = g->message ? g->message : "";
	char *full = NULL;
	if (g->hint) {
		full = malloc(strlen(msg) + strlen(g->hint) + sizeof "\nhint: ");
		if (!full) {
			json_decref(uri);
			return NULL;
		}
		sprintf(full, "%s\nhint: %s", msg, g->hint);
		msg = full;
	}
	json_t *r = json_pack("{s:s, s:I, s:s, s:o?, s:[{s:{s:{s:o}, s:{s:I, s:I, s:I, s:I, "
			      "s:I, s:I}}}]}",
			      "ruleId", g->id ? g->id : COMPILE_ERROR_ID,
			      "ruleIndex", rule_index(g->id),
			      "level", g->severity == TG_SEV_ERROR ? "error" : "warning",
			      "message", text(msg),
			      "locations", "physicalLocation", "artifactLocation", "uri", uri,
			      "region", "startLine", (json_int_t)s.line, "startColumn",
			      cp_column(f->src, f->len, start), "endLine", (json_int_t)e.line,
			      "endColumn", cp_column(f->src, f->len, end), "byteOffset",
			      (json_int_t)start, "byteLength", (json_int_t)(end - start));
	free(full);
	return r;
}

int tg_cli_write_check_sarif(FILE *out, const tg_check_result *files, size_t n)
{
	json_t *results = json_array(), *notes = json_array(), *doc = NULL, *driver_rules = rules();
	bool ok = true;
	int rc = -1;
	if (!results || !notes || !driver_rules)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		const tg_check_result *f = &files[i];
		if (f->io_error) {
			json_t *note = json_pack("{s:s, s:o?, s:[{s:{s:{s:o?}}}]}", "level", "error",
						 "message", text(f->io_error), "locations",
						 "physicalLocation", "artifactLocation", "uri",
						 path_uri(f->path));
			if (!note || json_array_append_new(notes, note) < 0)
				goto oom;
			ok = false;
			continue;
		}
		for (size_t k = 0; k < f->diags->n; k++) {
			json_t *uri = path_uri(f->path);
			json_t *r = uri ? result(f, &f->diags->items[k], uri) : NULL;
			if (!r || json_array_append_new(results, r) < 0)
				goto oom;
		}
	}
	doc = json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:s, s:[{s:b, s:o}], "
			"s:o}]}",
			"$schema", SARIF_SCHEMA, "version", "2.1.0", "runs",
			"tool", "driver", "name", "toolgate", "version", TG_VERSION_STRING,
			"semanticVersion", TG_VERSION_STRING,
			"rules", driver_rules,
			"columnKind", "unicodeCodePoints",
			"invocations", "executionSuccessful", ok, "toolExecutionNotifications",
			notes, "results", results);
	results = notes = driver_rules = NULL;
	if (!doc)
		goto oom;
	if (json_dumpf(doc, out, JSON_INDENT(2)) < 0 || fputc('\n', out) == EOF ||
	    fflush(out) != 0)
		tg_drv_error("cannot write the SARIF output");
	else
		rc = 0;
	json_decref(doc);
	return rc;
oom:
	json_decref(results);
	json_decref(notes);
	json_decref(driver_rules);
	tg_drv_error("out of memory");
	return -1;
}
