/*
 * cmd_fmt.c - `toolgate fmt [--check | -w] POLICY.tg...`: print each policy
 * in canonical layout (tg_fmt), report which files are not in it, or rewrite
 * them in place. Only syntax matters here: a file with syntax errors is
 * reported and left alone, a file with type errors is still formatted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compiler.h"

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
			tg_cli_error("%s: out of memory", path);
		tg_diags_sort(&diags);
		tg_diags_print(stderr, path, src, len, &diags);
		*rc = TG_EXIT_FAIL;
		goto out;
	}
	mem = open_memstream(&text, outlen);
	if (!mem) {
		tg_cli_error("%s: %s", path, strerror(errno));
		*rc = TG_EXIT_USAGE;
		goto out;
	}
	werr = tg_fmt(ast, mem);
	if (fclose(mem) != 0 || werr != 0) {
		tg_cli_error("%s: cannot format: %s", path, strerror(errno));
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

	src = (char *)tg_cli_read_file(path, TG_MAX_SOURCE_BYTES, &len);
	if (!src) {
		if (errno == EFBIG) {
			fprintf(stderr, "%s: error: policy source is larger than %u bytes\n", path,
				TG_MAX_SOURCE_BYTES);
			return TG_EXIT_FAIL;
		}
		tg_cli_error("cannot read '%s': %s", path, strerror(errno));
		return TG_EXIT_USAGE;
	}
	text = format_source(path, src, len, &outlen, &rc);
	if (!text)
		goto out;
	same = outlen == len && memcmp(text, src, len) == 0;
	switch (mode) {
	case FMT_PRINT:
		if (fwrite(text, 1, outlen, stdout) != outlen) {
			tg_cli_error("cannot write to stdout: %s", strerror(errno));
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
		if (!same && tg_cli_write_atomic(path, text, outlen, path) != 0)
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
	fmt_mode mode = FMT_PRINT;
	bool options = true, check = false, write = false;
	int i, nfiles = 0, rc = TG_EXIT_OK, r;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (options && a[0] == '-' && a[1] != '\0') {
			if (strcmp(a, "--") == 0)
				options = false;
			else if (tg_cli_is_help(a)) {
				fputs(fmt_help, stdout);
				return TG_EXIT_OK;
			} else if (strcmp(a, "--check") == 0)
				check = true;
			else if (strcmp(a, "-w") == 0 || strcmp(a, "--write") == 0)
				write = true;
			else
				return tg_cli_usage("fmt", "unknown option '%s'", a);
			continue;
		}
		nfiles++;
	}
	if (check && write)
		return tg_cli_usage("fmt", "--check and -w cannot be combined");
	if (nfiles == 0)
		return tg_cli_usage("fmt", "no policy files given");
	if (check)
		mode = FMT_CHECK;
	else if (write)
		mode = FMT_WRITE;

	options = true;
	for (i = 1; i < argc; i++) {
		if (options && argv[i][0] == '-' && argv[i][1] != '\0') {
			if (strcmp(argv[i], "--") == 0)
				options = false;
			continue;
		}
		r = fmt_file(argv[i], mode);
		if (r > rc)
			rc = r;
	}
	if (mode == FMT_PRINT && fflush(stdout) != 0) {
		tg_cli_error("cannot write to stdout: %s", strerror(errno));
		rc = TG_EXIT_USAGE;
	}
	return rc;
}
