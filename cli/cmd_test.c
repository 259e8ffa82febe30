/*
 * cmd_test.c - `toolgate test SUITE.yaml... [--format text|junit]
 *              [--output FILE] [--explain] [--verbose]`
 *
 * Each suite is read (suite/yaml.c), its policy loaded the way `eval` loads
 * one, and its cases run (suite/run.c). Suites are independent: a bad one is
 * reported and the others still run. The exit status is the worst outcome:
 * 2 when a suite or its policy file could not be read (or on a usage error),
 * else 1 when a case failed or a policy did not compile, else 0.
 *
 * Text output goes to stdout: each failing case with its location and the
 * evaluation trace, and the last line "N passed, M failed". Suite problems
 * and policy diagnostics go to stderr. With --format junit the XML goes to
 * stdout (or --output FILE) and the summary line to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "suite.h"
#include "toolgate/toolgate.h"

typedef struct tg_test_opts {
	bool junit;
	bool explain;
	bool verbose;
	const char *output;
	char **suites;
	size_t nsuites;
} tg_test_opts;

static const char test_help[] =
	"usage: toolgate test SUITE.yaml... [--format text|junit] [--output FILE]\n"
	"                     [--explain] [--verbose]\n"
	"\n"
	"Runs YAML test suites against their policies (docs/testing.md).\n"
	"  --format junit  write JUnit XML instead of text\n"
	"  --output FILE   write the report to FILE instead of stdout\n"
	"  --explain       show the evaluation trace of passing cases too\n"
	"  --verbose, -v   list passing cases, one line each\n"
	"Exit status: 0 all cases passed, 1 a case failed or a policy did not compile,\n"
	"2 usage error or a suite or policy that could not be read.\n";

/* Returns -1 when the suites are to run (o filled), else the status to exit
 * with at once: help printed, or a usage error. */
static int tg_test_parse_args(int argc, char **argv, tg_test_opts *o)
{
	enum { OPT_FORMAT = TG_OPT_LONG, OPT_EXPLAIN };
	static const char shortopts[] = ":hvo:";
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"verbose", no_argument, NULL, 'v'},
		{"output", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"explain", no_argument, NULL, OPT_EXPLAIN},
		{NULL, 0, NULL, 0},
	};
	int c;

	tg_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return tg_cli_help(test_help);
		case 'v':
			o->verbose = true;
			break;
		case 'o':
			if (!*optarg)
				return tg_cli_usage("test", "--output needs a file name");
			o->output = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "junit") == 0)
				o->junit = true;
			else if (strcmp(optarg, "text") == 0)
				o->junit = false;
			else
				return tg_cli_usage("test", "unknown format '%s' (expected text or junit)",
						    optarg);
			break;
		case OPT_EXPLAIN:
			o->explain = true;
			break;
		default:
			return tg_cli_bad_option("test", c, argv, shortopts,
						 optopt == 'o' ? "a file name" :
						 "a value (text or junit)");
		}
	}
	o->suites = argv + optind;
	o->nsuites = (size_t)(argc - optind);
	if (o->nsuites == 0)
		return tg_cli_usage("test", "expected at least one SUITE.yaml");
	return -1;
}

/* Reads a memstream's text into a malloc'd string owned by the caller. */
static char *tg_test_take(FILE *f, char **buf)
{
	if (!f)
		return NULL;
	fclose(f);
	return *buf;
}

/* Loads and runs one suite into *res. Problems with the suite itself are
 * printed to stderr and also kept in res->error for the JUnit report. */
static void tg_test_one(const char *path, const tg_test_opts *o, tg_suite **suite_out,
			tg_suite_result *res)
{
	char *errbuf = NULL;
	size_t errlen = 0;
	FILE *err = open_memstream(&errbuf, &errlen);
	tg_suite *s = NULL;
	tg_suite_status st;
	struct tg_policy *policy = NULL;
	FILE *probe;
	int rc;

	memset(res, 0, sizeof *res);
	res->path = path;
	*suite_out = NULL;
	st = tg_suite_load(path, err ? err : stderr, &s);
	if (st != TG_SUITE_OK) {
		res->status = TG_EXIT_USAGE;
		res->error = tg_test_take(err, &errbuf);
		if (res->error)
			fputs(res->error, stderr);
		return;
	}
	/* The policy path is checked here so a missing file is reported at
	 * the suite line that names it. */
	probe = fopen(s->policy_path, "rb");
	if (!probe) {
		fprintf(err ? err : stderr, "%s:%u:%u: error: cannot read policy '%s': %s\n", path,
			s->policy_loc.line, s->policy_loc.col, s->policy_path, strerror(errno));
		res->status = TG_EXIT_USAGE;
		res->error = tg_test_take(err, &errbuf);
		if (res->error)
			fputs(res->error, stderr);
		tg_suite_free(s);
		return;
	}
	fclose(probe);
	if (err) {
		fclose(err);
		free(errbuf);
	}
	*suite_out = s;
	rc = tg_drv_load_policy(s->policy_path, &policy);
	if (rc != TG_EXIT_OK) {
		char why[512];

		snprintf(why, sizeof why, "policy '%s' did not load (see its diagnostics)",
			 s->policy_path);
		if (tg_suite_fail_all(s, why, res) < 0)
			tg_drv_error("out of memory");
		res->status = rc == TG_EXIT_USAGE ? TG_EXIT_USAGE : TG_EXIT_FAIL;
		return;
	}
	if (tg_suite_run(s, policy, o->explain, res) < 0) {
		tg_drv_error("out of memory running '%s'", path);
		res->status = TG_EXIT_USAGE;
	}
	tg_policy_free(policy);
}

static void tg_test_print_text(FILE *out, const tg_suite_result *r, const tg_test_opts *o)
{
	size_t i;

	for (i = 0; i < r->ncases; i++) {
		const tg_case_result *c = &r->cases[i];

		if (c->passed && !o->verbose && !o->explain)
			continue;
		fprintf(out, "%s %s:%u:%u: %s\n", c->passed ? "PASS" : "FAIL", r->path,
			c->c->loc.line, c->c->loc.col, c->c->name);
		if (!c->passed && c->summary)
			fprintf(out, "  %s\n", c->summary);
		if (c->detail && (!c->passed || o->explain))
			fputs(c->detail, out);
	}
}

int tg_cmd_test(int argc, char **argv)
{
	tg_test_opts o = {0};
	tg_suite_result *results = NULL;
	tg_suite **suites = NULL;
	size_t i, passed = 0, failed = 0;
	int status = TG_EXIT_OK, rc;
	FILE *out = stdout;

	rc = tg_test_parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	results = calloc(o.nsuites, sizeof *results);
	suites = calloc(o.nsuites, sizeof *suites);
	if (!results || !suites) {
		tg_drv_error("out of memory");
		status = TG_EXIT_USAGE;
		goto done;
	}
	if (o.output && !(out = fopen(o.output, "w"))) {
		tg_drv_error("cannot write '%s': %s", o.output, strerror(errno));
		status = TG_EXIT_USAGE;
		out = stdout;
		goto done;
	}
	for (i = 0; i < o.nsuites; i++) {
		tg_test_one(o.suites[i], &o, &suites[i], &results[i]);
		if (!o.junit)
			tg_test_print_text(out, &results[i], &o);
		if (results[i].status > status)
			status = results[i].status;
		passed += results[i].passed;
		failed += results[i].failed;
	}
	if (o.junit && tg_junit_write(out, results, o.nsuites) < 0) {
		tg_drv_error("cannot write the report: %s", strerror(errno));
		status = TG_EXIT_USAGE;
	}
	fprintf(o.junit ? stderr : out, "%zu passed, %zu failed\n", passed, failed);
	if (failed && status == TG_EXIT_OK)
		status = TG_EXIT_FAIL;
done:
	/* ferror too: a write that failed before the last flush is not
	 * reported by fclose or fflush */
	if (out != stdout) {
		bool unwritten = ferror(out) != 0;

		if (fclose(out) != 0 || unwritten) {
			tg_drv_error("cannot write '%s': %s", o.output, strerror(errno));
			status = TG_EXIT_USAGE;
		}
	} else if (fflush(stdout) != 0 || ferror(stdout)) {
		status = TG_EXIT_USAGE;
	}
	for (i = 0; results && suites && i < o.nsuites; i++) {
		tg_suite_result_free(&results[i]);
		tg_suite_free(suites[i]);
	}
	free(results);
	free(suites);
	return status;
}
