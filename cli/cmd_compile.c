/*
 * cmd_compile.c - `toolgate compile POLICY.tg [-o OUT.tgb]`: compile one
 * policy to bytecode, written atomically. The default output sits beside the
 * input: the .tg suffix replaced by .tgb (or .tgb appended).
 */
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
	const char *input = NULL, *output = NULL;
	bool strict = false, options = true;
	unsigned char *code;
	char *dflt = NULL;
	size_t len;
	int i, rc;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (options && a[0] == '-' && a[1] != '\0') {
			if (strcmp(a, "--") == 0) {
				options = false;
			} else if (tg_cli_is_help(a)) {
				fputs(compile_help, stdout);
				return TG_EXIT_OK;
			} else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
				if (++i == argc)
					return tg_cli_usage("compile", "%s needs a file name", a);
				output = argv[i];
			} else if (strcmp(a, "--strict") == 0) {
				strict = true;
			} else {
				return tg_cli_usage("compile", "unknown option '%s'", a);
			}
			continue;
		}
		if (input)
			return tg_cli_usage("compile", "one policy at a time");
		input = a;
	}
	if (!input)
		return tg_cli_usage("compile", "no policy file given");
	if (tg_cli_is_bytecode_path(input))
		return tg_cli_usage("compile", "'%s' is bytecode already", input);
	if (!output) {
		dflt = default_output(input);
		if (!dflt) {
			tg_cli_error("out of memory");
			return TG_EXIT_USAGE;
		}
		output = dflt;
	}
	rc = tg_cli_compile_file(input, strict, &code, &len);
	if (rc == TG_EXIT_OK) {
		if (tg_cli_write_atomic(output, code, len, NULL) != 0)
			rc = TG_EXIT_USAGE;
		free(code);
	}
	free(dflt);
	return rc;
}
