/*
 * cmd_disasm.c - `toolgate disasm POLICY.tgb`: print a compiled policy's
 * header, tables and code. The bytecode is verified first, so a rejected
 * file gets the loader's offset, pc and reason on stderr and exit 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stages.h"
#include "disasm.h"
#include "toolgate/toolgate.h"

static const char disasm_help[] =
	"usage: toolgate disasm POLICY.tgb\n"
	"\n"
	"Verifies compiled bytecode and prints its header, tables and every\n"
	"rule's instructions with their synopses and source lines.\n"
	"\n"
	"exit status: 0 ok; 1 the bytecode is rejected; 2 usage or I/O error\n";

int tg_cmd_disasm(int argc, char **argv)
{
	static const char shortopts[] = ":h";
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path;
	unsigned char *code;
	tg_policy *policy;
	size_t len;
	int c, rc;

	tg_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h')
			return tg_cli_help(disasm_help);
		return tg_cli_bad_option("disasm", c, argv, shortopts, "a value");
	}
	if (optind == argc)
		return tg_cli_usage("disasm", "no bytecode file given");
	if (argc - optind > 1)
		return tg_cli_usage("disasm", "one bytecode file at a time");
	path = argv[optind];
	if (!tg_drv_is_bytecode_path(path))
		return tg_cli_usage("disasm", "'%s' is not a .tgb file; run 'toolgate compile' first",
				    path);

	/* Verify through the same path eval uses, for the same messages. */
	rc = tg_drv_load_policy(path, &policy);
	if (rc != TG_EXIT_OK)
		return rc;
	tg_policy_free(policy);

	code = (unsigned char *)tg_read_file(path, TG_DRV_MAX_BYTECODE, &len);
	if (!code) {
		tg_drv_error("cannot read '%s': %s", path, strerror(errno));
		return TG_EXIT_USAGE;
	}
	rc = TG_EXIT_OK;
	if (tg_disasm(code, len, stdout) != 0 || fflush(stdout) != 0 || ferror(stdout)) {
		tg_drv_error("%s: cannot write the listing", path);
		rc = TG_EXIT_USAGE;
	}
	free(code);
	return rc;
}
