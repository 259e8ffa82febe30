/*
 * cmd_check.c - `toolgate check POLICY.tg... [--format text|json|sarif]
 * [--strict] [--quiet]`: parse, type-check and lint each file.
 *
 * A file with syntax or semantic errors is not linted (lints reason about a
 * tree whose names are all bound). The text format prints diagnostics to
 * stderr as they are found, and on stdout one summary line per file without
 * errors ("PATH: 12 rules, no errors, 1 warning"; none under --quiet);
 * json and sarif collect
 * every file's diagnostics and write one document to stdout at the end
 * (docs/check-output.md). --strict reports warnings as errors in every
 * format. Exit 0 when every file is clean, 1 when any has errors (warnings
 * too under --strict), 2 on a usage error or an unreadable file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stages.h"

static const char check_help[] =
	"usage: toolgate check POLICY.tg... [--format text|json|sarif] [--strict] [--quiet]\n"
	"\n"
	"Parses, type-checks and lints each policy. The text format prints\n"
	"diagnostics to stderr as FILE:LINE:COL: error|warning: MESSAGE [LINT-ID]\n"
	"with the source line and a caret, and to stdout one line per file\n"
	"without errors, e.g. 'x.tg: 12 rules, no errors, 1 warning';\n"
	"json and sarif write one document to stdout (docs/check-output.md).\n"
	"Lints and how to suppress them: docs/lints.md.\n"
	"\n"
	"  --format FMT  text (default), json or sarif\n"
	"  --strict      treat warnings as errors\n"
	"  --quiet       text: no summary lines, only diagnostics\n"
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
	size_t nrules;		/* rules of a file that parsed */
	int rc;
} check_file;

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
	f->src = tg_read_file(path, TG_MAX_SOURCE_BYTES, &f->len);
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
				tg_drv_error("cannot read '%s': %s", path, strerror(err));
		}
		return;
	}
	ast = tg_parse(&f->arena, path, f->src, f->len, &f->diags);
	if (ast)
		f->nrules = ast->nrules;
	if (ast && f->diags.nerrors == 0)
		tg_check(ast, &f->diags);
	if (ast && f->diags.nerrors == 0 && !f->diags.oom)
		tg_lint(ast, &f->diags);
	if (strict)
		tg_drv_promote_warnings(&f->diags);
	f->rc = f->diags.nerrors || f->diags.dropped ? TG_EXIT_FAIL : TG_EXIT_OK;
	if (!ast || f->diags.oom) {
		tg_drv_error("%s: out of memory", path);
		f->rc = TG_EXIT_FAIL;
	}
	tg_diags_sort(&f->diags);
	if (fmt == FORMAT_TEXT)
		tg_diags_print(stderr, path, f->src, f->len, &f->diags);
}

/* The text format's line for a file without errors, on stdout. */
static void print_summary(const char *path, const check_file *f)
{
	size_t w = f->diags.nwarnings;

	printf("%s: %zu rule%s, no errors, ", path, f->nrules, f->nrules == 1 ? "" : "s");
	if (w)
		printf("%zu warning%s\n", w, w == 1 ? "" : "s");
	else
		puts("no warnings");
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
	enum { OPT_STRICT = TG_OPT_LONG, OPT_FORMAT, OPT_QUIET };
	static const char shortopts[] = ":h";
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"strict", no_argument, NULL, OPT_STRICT},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"quiet", no_argument, NULL, OPT_QUIET},
		{NULL, 0, NULL, 0},
	};
	const char *format = "text";
	bool strict = false, quiet = false;
	int c, i, nfiles, rc = TG_EXIT_OK;
	check_format fmt;
	check_file *files;
	char **paths;

	tg_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return tg_cli_help(check_help);
		case OPT_STRICT:
			strict = true;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_QUIET:
			quiet = true;
			break;
		default:
			return tg_cli_bad_option("check", c, argv, shortopts, "a value");
		}
	}
	if (strcmp(format, "text") == 0)
		fmt = FORMAT_TEXT;
	else if (strcmp(format, "json") == 0)
		fmt = FORMAT_JSON;
	else if (strcmp(format, "sarif") == 0)
		fmt = FORMAT_SARIF;
	else
		return tg_cli_usage("check", "unknown format '%s' (text, json or sarif)", format);
	paths = argv + optind;
	nfiles = argc - optind;
	if (nfiles == 0)
		return tg_cli_usage("check", "no policy files given");

	files = calloc((size_t)nfiles, sizeof *files);
	if (!files) {
		tg_drv_error("out of memory");
		return TG_EXIT_USAGE;
	}
	for (i = 0; i < nfiles; i++) {
		check_one(&files[i], paths[i], strict, fmt);
		if (files[i].rc > rc)
			rc = files[i].rc;
		/* Text is printed as it goes: nothing to keep. */
		if (fmt == FORMAT_TEXT) {
			if (!quiet && files[i].src && files[i].rc == TG_EXIT_OK)
				print_summary(paths[i], &files[i]);
			release(&files[i]);
		}
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
			tg_drv_error("out of memory");
		}
		if (w < 0)
			rc = TG_EXIT_USAGE;
		for (i = 0; i < nfiles; i++)
			release(&files[i]);
	}
	free(files);
	return rc;
}
