/*
 * cmd_check.c - `toolgate check POLICY.tg... [--format text|json|sarif]
 * [--strict]`: parse, type-check and lint each file.
 *
 * A file with syntax or semantic errors is not linted (lints reason about a
 * tree whose names are all bound). The text format prints diagnostics to
 * stderr as they are found and nothing on stdout; json and sarif collect
 * every file's diagnostics and write one document to stdout at the end
 * (docs/check-output.md). --strict reports warnings as errors in every
 * format. Exit 0 when every file is clean, 1 when any has errors (warnings
 * too under --strict), 2 on a usage error or an unreadable file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compiler.h"

static const char check_help[] =
	"usage: toolgate check POLICY.tg... [--format text|json|sarif] [--strict]\n"
	"\n"
	"Parses, type-checks and lints each policy. The text format prints\n"
	"diagnostics to stderr as FILE:LINE:COL: error|warning: MESSAGE [LINT-ID]\n"
	"with the source line and a caret, and nothing when every file is clean;\n"
	"json and sarif write one document to stdout (docs/check-output.md).\n"
	"Lints and how to suppress them: docs/lints.md.\n"
	"\n"
	"  --format FMT  text (default), json or sarif\n"
	"  --strict      treat warnings as errors\n"
	"\n"
	"exit status: 0 clean; 1 errors found; 2 usage error or unreadable file\n";

typedef enum check_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_SARIF } check_format;

/* One file's state, kept until the document is written. */
typedef struct check_file {
	tg_arena arena;
	tg_diags diags;
	char *src;
	size_t len;
	char *io_error;
	int rc;
} check_file;

/* In strict mode a warning is reported, and counted, as an error. */
static void promote_warnings(tg_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->items[i].severity == TG_SEV_WARNING) {
			d->items[i].severity = TG_SEV_ERROR;
			d->nwarnings--;
			d->nerrors++;
		}
	}
}

/* "cannot read 'PATH': REASON", malloc'd (NULL when out of memory). */
static char *read_error(const char *path, const char *reason)
{
	size_t n = strlen(path) + strlen(reason) + sizeof "cannot read '': ";
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "cannot read '%s': %s", path, reason);
	return s;
}

static void check_one(check_file *f, const char *path, bool strict, check_format fmt)
{
	tg_ast *ast;

	tg_arena_init(&f->arena);
	tg_diags_init(&f->diags, &f->arena);
	f->src = (char *)tg_cli_read_file(path, TG_MAX_SOURCE_BYTES, &f->len);
	if (!f->src) {
		int err = errno;
		if (err == EFBIG) {
			f->io_error = malloc(64);
			if (f->io_error)
				snprintf(f->io_error, 64, "policy source is larger than %u bytes",
					 TG_MAX_SOURCE_BYTES);
			f->rc = TG_EXIT_FAIL;
			if (fmt == FORMAT_TEXT)
				fprintf(stderr, "%s: error: %s\n", path,
					f->io_error ? f->io_error : "policy source too large");
		} else {
			f->io_error = read_error(path, strerror(err));
			f->rc = TG_EXIT_USAGE;
			if (fmt == FORMAT_TEXT)
				tg_cli_error("cannot read '%s': %s", path, strerror(err));
		}
		return;
	}
	ast = tg_parse(&f->arena, path, f->src, f->len, &f->diags);
	if (ast && f->diags.nerrors == 0)
		tg_check(ast, &f->diags);
	if (ast && f->diags.nerrors == 0 && !f->diags.oom)
		tg_lint(ast, &f->diags);
	if (strict)
		promote_warnings(&f->diags);
	f->rc = f->diags.nerrors || f->diags.dropped ? TG_EXIT_FAIL : TG_EXIT_OK;
	if (!ast || f->diags.oom) {
		tg_cli_error("%s: out of memory", path);
		f->rc = TG_EXIT_FAIL;
	}
	tg_diags_sort(&f->diags);
	if (fmt == FORMAT_TEXT)
		tg_diags_print(stderr, path, f->src, f->len, &f->diags);
}

static void release(check_file *f)
{
	tg_arena_free(&f->arena);
	free(f->src);
	free(f->io_error);
	f->src = NULL;
	f->io_error = NULL;
}

int tg_cmd_check(int argc, char **argv)
{
	const char *format = "text";
	bool strict = false, options = true;
	int i, nfiles = 0, rc = TG_EXIT_OK;
	check_format fmt;
	check_file *files;
	char **paths;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (options && a[0] == '-' && a[1] != '\0') {
			if (strcmp(a, "--") == 0) {
				options = false;
			} else if (tg_cli_is_help(a)) {
				fputs(check_help, stdout);
				return TG_EXIT_OK;
			} else if (strcmp(a, "--strict") == 0) {
				strict = true;
			} else if (strcmp(a, "--format") == 0) {
				if (++i == argc)
					return tg_cli_usage("check", "--format needs a value");
				format = argv[i];
			} else if (strncmp(a, "--format=", 9) == 0) {
				format = a + 9;
			} else {
				return tg_cli_usage("check", "unknown option '%s'", a);
			}
			continue;
		}
		nfiles++;
	}
	if (strcmp(format, "text") == 0)
		fmt = FORMAT_TEXT;
	else if (strcmp(format, "json") == 0)
		fmt = FORMAT_JSON;
	else if (strcmp(format, "sarif") == 0)
		fmt = FORMAT_SARIF;
	else
		return tg_cli_usage("check", "unknown format '%s' (text, json or sarif)", format);
	if (nfiles == 0)
		return tg_cli_usage("check", "no policy files given");

	files = calloc((size_t)nfiles, sizeof *files);
	paths = calloc((size_t)nfiles, sizeof *paths);
	if (!files || !paths) {
		free(files);
		free(paths);
		tg_cli_error("out of memory");
		return TG_EXIT_USAGE;
	}
	nfiles = 0;
	options = true;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (options && a[0] == '-' && a[1] != '\0') {
			if (strcmp(a, "--") == 0)
				options = false;
			else if (strcmp(a, "--format") == 0)
				i++;
			continue;
		}
		paths[nfiles] = argv[i];
		check_one(&files[nfiles], a, strict, fmt);
		if (files[nfiles].rc > rc)
			rc = files[nfiles].rc;
		/* Text is printed as it goes: nothing to keep. */
		if (fmt == FORMAT_TEXT)
			release(&files[nfiles]);
		nfiles++;
	}

	if (fmt != FORMAT_TEXT) {
		tg_check_result *res = calloc((size_t)nfiles, sizeof *res);
		int w = -1;
		if (res) {
			for (i = 0; i < nfiles; i++) {
				res[i].path = paths[i];
				res[i].src = files[i].src;
				res[i].len = files[i].len;
				res[i].diags = files[i].src ? &files[i].diags : NULL;
				res[i].io_error = files[i].src ? NULL :
					(files[i].io_error ? files[i].io_error : "cannot read the file");
			}
			w = fmt == FORMAT_JSON ?
				tg_cli_write_check_json(stdout, res, (size_t)nfiles, strict) :
				tg_cli_write_check_sarif(stdout, res, (size_t)nfiles);
			free(res);
		} else {
			tg_cli_error("out of memory");
		}
		if (w < 0)
			rc = TG_EXIT_USAGE;
		for (i = 0; i < nfiles; i++)
			release(&files[i]);
	}
	free(files);
	free(paths);
	return rc;
}
