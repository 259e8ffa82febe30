/*
 * cmd_check.c - `toolgate check POLICY.tg... [--format text] [--strict]`:
 * parse and type-check each file, print diagnostics to stderr, print nothing
 * else. Exit 0 when every file is clean, 1 when any has errors (warnings too
 * under --strict), 2 on a usage error or an unreadable file.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char check_help[] =
	"usage: toolgate check POLICY.tg... [--format text|json|sarif] [--strict]\n"
	"\n"
	"Parses and type-checks each policy and prints diagnostics to stderr as\n"
	"FILE:LINE:COL: error|warning: MESSAGE with the source line and a caret.\n"
	"Prints nothing when every file is clean.\n"
	"\n"
	"  --format FMT  diagnostics format; only 'text' is available so far\n"
	"  --strict      treat warnings as errors\n"
	"\n"
	"exit status: 0 clean; 1 errors found; 2 usage error or unreadable file\n";

int tg_cmd_check(int argc, char **argv)
{
	const char *format = "text";
	bool strict = false, options = true;
	int i, nfiles = 0, rc = TG_EXIT_OK, r;

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
	if (strcmp(format, "json") == 0 || strcmp(format, "sarif") == 0)
		return tg_cli_usage("check", "--format %s is not supported yet; use text", format);
	if (strcmp(format, "text") != 0)
		return tg_cli_usage("check", "unknown format '%s' (text, json or sarif)", format);
	if (nfiles == 0)
		return tg_cli_usage("check", "no policy files given");

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
		r = tg_cli_check_file(a, strict);
		if (r > rc)
			rc = r;
	}
	return rc;
}
