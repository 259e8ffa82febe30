/*
 * cmd_compile.c - `toolgate compile POLICY.tg [-o OUT.tgb]`: compile one
 * policy to bytecode, written atomically. The default output sits beside the
 * input: the .tg suffix replaced by .tgb (or .tgb appended).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char compile_help[] =
	"usage: toolgate compile POLICY.tg [-o OUT.tgb] [--strict]\n"
	"\n"
	"Compiles a policy to bytecode. The output is written atomically (a\n"
	"temporary file renamed over the target), by default beside the input\n"
	"with the .tg suffix replaced by .tgb.\n"
	"\n"
	"  -o FILE     write the bytecode to FILE\n"
	"  --strict    treat warnings as errors\n"
	"\n"
	"exit status: 0 ok; 1 the policy has errors; 2 usage or I/O error\n";

static char *default_output(const char *in)
{
	size_t n = strlen(in);
	char *out;

	if (n > 3 && strcmp(in + n - 3, ".tg") == 0)
		n -= 3;
	out = malloc(n + sizeof ".tgb");
	if (!out)
		return NULL;
	memcpy(out, in, n);
	memcpy(out + n, ".tgb", sizeof ".tgb");
	return out;
}

int tg_cmd_compile(int argc, char **argv)
{
	enum { OPT_STRICT = TG_OPT_LONG };
	static const char shortopts[] = ":ho:";
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"output", required_argument, NULL, 'o'},
		{"strict", no_argument, NULL, OPT_STRICT},
		{NULL, 0, NULL, 0},
	};
	const char *input, *output = NULL;
	bool strict = false;
	unsigned char *code;
	char *dflt = NULL;
	size_t len;
	int c, rc;

	tg_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return tg_cli_help(compile_help);
		case 'o':
			output = optarg;
			break;
		case OPT_STRICT:
			strict = true;
			break;
		default:
			return tg_cli_bad_option("compile", c, argv, shortopts, "a file name");
		}
	}
	if (optind == argc)
		return tg_cli_usage("compile", "no policy file given");
	if (argc - optind > 1)
		return tg_cli_usage("compile", "one policy at a time");
	input = argv[optind];
	if (tg_drv_is_bytecode_path(input))
		return tg_cli_usage("compile", "'%s' is bytecode already", input);
	if (!output) {
		dflt = default_output(input);
		if (!dflt) {
			tg_drv_error("out of memory");
			return TG_EXIT_USAGE;
		}
		output = dflt;
	}
	rc = tg_drv_compile_file(input, strict, &code, &len);
	if (rc == TG_EXIT_OK) {
		if (tg_drv_write_atomic(output, code, len, NULL) != 0)
			rc = TG_EXIT_USAGE;
		free(code);
	}
	free(dflt);
	return rc;
}
