/*
 * cmd_fmt.c - `toolgate fmt [--check | -w] POLICY.tg...`: print each policy
 * in canonical layout (tg_fmt), report which files are not in it, or rewrite
 * them in place. Only syntax matters here: a file with syntax errors is
 * reported and left alone, a file with type errors is still formatted.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stages.h"

static const char fmt_help[] =
	"usage: toolgate fmt [--check | -w] POLICY.tg...\n"
	"\n"
	"Formats policies in the canonical layout.\n"
	"\n"
	"  (default)   print the formatted text of each file to stdout\n"
	"  --check     print nothing but the name of each file that is not\n"
	"              formatted (to stderr); exit 1 if there is any\n"
	"  -w          rewrite files that are not formatted, in place\n"
	"\n"
	"exit status: 0 ok; 1 syntax errors, or unformatted files under --check;\n"
	"2 usage error or I/O error\n";

typedef enum fmt_mode { FMT_PRINT, FMT_CHECK, FMT_WRITE } fmt_mode;

/* The canonical text of src, malloc'd, or NULL with diagnostics printed. */
static char *format_source(const char *path, const char *src, size_t len, size_t *outlen, int *rc)
{
	tg_arena arena;
	tg_diags diags;
	tg_ast *ast;
	char *text = NULL;
	FILE *mem;
	int werr;

	tg_arena_init(&arena);
	tg_diags_init(&diags, &arena);
	ast = tg_parse(&arena, path, src, len, &diags);
	if (!ast || diags.nerrors > 0 || diags.oom) {
		if (!ast || diags.oom)
			tg_drv_error("%s: out of memory", path);
		tg_diags_sort(&diags);
		tg_diags_print(stderr, path, src, len, &diags);
		*rc = TG_EXIT_FAIL;
		goto out;
	}
	mem = open_memstream(&text, outlen);
	if (!mem) {
		tg_drv_error("%s: %s", path, strerror(errno));
		*rc = TG_EXIT_USAGE;
		goto out;
	}
	werr = tg_fmt(ast, mem);
	if (fclose(mem) != 0 || werr != 0) {
		tg_drv_error("%s: cannot format: %s", path, strerror(errno));
		free(text);
		text = NULL;
		*rc = TG_EXIT_USAGE;
	}
out:
	tg_arena_free(&arena);
	return text;
}

static int fmt_file(const char *path, fmt_mode mode)
{
	size_t len, outlen = 0;
	char *src, *text;
	bool same;
	int rc = TG_EXIT_OK;

	src = tg_drv_read_source(path, &len, &rc);
	if (!src)
		return rc;
	text = format_source(path, src, len, &outlen, &rc);
	if (!text)
		goto out;
	same = outlen == len && memcmp(text, src, len) == 0;
	switch (mode) {
	case FMT_PRINT:
		if (fwrite(text, 1, outlen, stdout) != outlen) {
			tg_drv_error("cannot write to stdout: %s", strerror(errno));
			rc = TG_EXIT_USAGE;
		}
		break;
	case FMT_CHECK:
		if (!same) {
			fprintf(stderr, "%s: not formatted\n", path);
			rc = TG_EXIT_FAIL;
		}
		break;
	case FMT_WRITE:
		if (!same && tg_drv_write_atomic(path, text, outlen, path) != 0)
			rc = TG_EXIT_USAGE;
		break;
	}
	free(text);
out:
	free(src);
	return rc;
}

int tg_cmd_fmt(int argc, char **argv)
{
	enum { OPT_CHECK = TG_OPT_LONG };
	static const char shortopts[] = ":hw";
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"check", no_argument, NULL, OPT_CHECK},
		{"write", no_argument, NULL, 'w'},
		{NULL, 0, NULL, 0},
	};
	fmt_mode mode = FMT_PRINT;
	bool check = false, write = false;
	int c, i, rc = TG_EXIT_OK, r;

	tg_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return tg_cli_help(fmt_help);
		case OPT_CHECK:
			check = true;
			break;
		case 'w':
			write = true;
			break;
		default:
			return tg_cli_bad_option("fmt", c, argv, shortopts, "a value");
		}
	}
	if (check && write)
		return tg_cli_usage("fmt", "--check and -w cannot be combined");
	if (optind == argc)
		return tg_cli_usage("fmt", "no policy files given");
	if (check)
		mode = FMT_CHECK;
	else if (write)
		mode = FMT_WRITE;

	for (i = optind; i < argc; i++) {
		r = fmt_file(argv[i], mode);
		if (r > rc)
			rc = r;
	}
	if (mode == FMT_PRINT && (fflush(stdout) != 0 || ferror(stdout))) {
		tg_drv_error("cannot write to stdout: %s", strerror(errno));
		rc = TG_EXIT_USAGE;
	}
	return rc;
}
