/*
 * options.c - what every command shares in reading its options: usage
 * errors, help, and the messages for what getopt_long rejects.
 *
 * Commands parse with getopt_long (GNU permutation: options and operands may
 * be mixed; "--" ends the options) and leave their operands in
 * argv[optind..argc). getopt keeps its state in globals, so each parse starts
 * with tg_cli_getopt_reset(), and getopt's own messages are off: a usage
 * error reads "toolgate CMD: MESSAGE" whatever rejected it.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int tg_cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "toolgate%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nrun 'toolgate%s%s --help' for usage\n", cmd ? " " : "",
		cmd ? cmd : "");
	return TG_EXIT_USAGE;
}

bool tg_cli_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

void tg_cli_getopt_reset(void)
{
	/* 0, not 1: glibc then also forgets a half-read "-abc" cluster and
	 * the permutation of an earlier parse (tests run several commands in
	 * one process). */
	optind = 0;
	opterr = 0;
}

int tg_cli_help(const char *text)
{
	fputs(text, stdout);
	return TG_EXIT_OK;
}

/*
 * getopt_long leaves no direct record of whether it stopped in a long or a
 * short option, so it is told apart by optopt: 0 for an unknown long option,
 * the option's value for a known long one given an argument it does not
 * take (a listed short letter, or >= TG_OPT_LONG), the letter for an unknown
 * short one. A long option is quoted as written ("--format=x"), a short one
 * as "-x" even inside a cluster ("-wx").
 */
int tg_cli_bad_option(const char *cmd, int c, char **argv, const char *shortopts,
		      const char *needs)
{
	const char *word = argv[optind - 1];
	char letter[3] = {'-', (char)optopt, '\0'};
	bool is_long;

	if (c == ':') {
		/* A missing value: the option is the last word given. */
		is_long = strncmp(word, "--", 2) == 0;
		return tg_cli_usage(cmd, "%s needs %s", is_long ? word : letter, needs);
	}
	is_long = optopt == 0 || optopt >= TG_OPT_LONG ||
		  (optopt != ':' && optopt != '+' && strchr(shortopts, optopt) != NULL);
	return tg_cli_usage(cmd, "unknown option '%s'", is_long ? word : letter);
}
