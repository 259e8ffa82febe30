/*
 * main.c - the toolgate command: finds the subcommand in a table and hands it
 * the arguments from the command name on (see cli.h for the conventions).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "toolgate/toolgate.h"

typedef struct tg_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
	const char *summary;
} tg_command;

static const tg_command commands[] = {
	{"check", tg_cmd_check, "check POLICY.tg... [--format text|json|sarif] [--strict]",
	 "parse, type-check and lint policies; print diagnostics"},
	{"fmt", tg_cmd_fmt, "fmt [--check | -w] POLICY.tg...",
	 "print, check or rewrite policies in canonical layout"},
	{"compile", tg_cmd_compile, "compile POLICY.tg [-o OUT.tgb]",
	 "compile a policy to verified bytecode"},
	{"eval", tg_cmd_eval, "eval POLICY.tg|POLICY.tgb [--request REQ.json] [--explain] [--audit]",
	 "decide requests (JSON lines on stdin when no --request)"},
	{"test", tg_cmd_test, "test SUITE.yaml... [--format text|junit]",
	 "run YAML test suites against their policies"},
	{"disasm", tg_cmd_disasm, "disasm POLICY.tgb",
	 "print the bytecode of a compiled policy"},
	{"proxy", tg_cmd_proxy, "proxy --policy POLICY.tgb [IDENTITY...] -- COMMAND [ARGS...]",
	 "run an MCP stdio server behind the policy"},
	{"gateway", tg_cmd_gateway, "gateway --config GATEWAY.yaml [--check]",
	 "serve MCP over HTTP in front of HTTP and stdio servers"},
};

static void usage(FILE *out)
{
	size_t i;

	fputs("usage: toolgate COMMAND [ARGS...]\n\ncommands:\n", out);
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs("\nsynopsis:\n", out);
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  toolgate %s\n", commands[i].synopsis);
	fputs("\n'toolgate COMMAND --help' describes a command's options.\n"
	      "exit status: 0 success; 1 the policy or a test is wrong;"
	      " 2 usage or I/O error, or an invalid request\n",
	      out);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return TG_EXIT_USAGE;
	}
	if (tg_cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			/* `toolgate help eval` is `toolgate eval --help`. */
			char help[] = "--help";
			char *sub[] = {argv[2], help, NULL};

			for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
				if (strcmp(argv[2], commands[i].name) == 0)
					return commands[i].run(2, sub);
			return tg_cli_usage(NULL, "unknown command '%s'", argv[2]);
		}
		usage(stdout);
		return TG_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("toolgate %s\n", tg_version());
		return TG_EXIT_OK;
	}
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		return tg_cli_usage(NULL, "unknown option '%s'", argv[1]);
	return tg_cli_usage(NULL, "unknown command '%s'", argv[1]);
}
