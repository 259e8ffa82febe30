/*
 * cmd_eval.c - `toolgate eval POLICY [--request REQ.json] [--explain]
 * [--audit]`: decide requests and print one JSON decision line per request
 * on stdout, in input order.
 *
 * Input is one JSON object from --request, or JSON lines on stdin (blank
 * lines skipped). A request that cannot be read is answered, never skipped:
 * it gets a deny line marked "invalid":true and a message on stderr, and the
 * exit status becomes 2 once every input has been answered. stdout carries
 * only decision lines; --explain and --audit write to stderr, so the output
 * stays a clean JSON-lines stream whatever is asked.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "stages.h"
#include "adapter.h"
#include "request_json.h"

static const char eval_help[] =
	"usage: toolgate eval POLICY.tg|POLICY.tgb [--request REQ.json] [--explain] [--audit]\n"
	"\n"
	"Decides requests against a policy: a .tgb file is verified and loaded,\n"
	"anything else is compiled in memory. Requests come from --request (one\n"
	"JSON object) or, without it, from stdin as JSON lines (blank lines are\n"
	"skipped). For each request, one line on stdout:\n"
	"  {\"decision\":\"allow\"|\"deny\",\"rule\":ID|null,\"reason\":TEXT|null,\"errors\":[...]}\n"
	"An invalid request is denied with \"invalid\":true and a message on stderr.\n"
	"\n"
	"  --request FILE  read one JSON request from FILE\n"
	"  --explain       after each decision, write to stderr every candidate\n"
	"                  rule, whether it matched and applied, and the outcome\n"
	"  --audit         write each decision's audit record (one JSON line) to stderr\n"
	"\n"
	"exit status: 0 ok; 1 the policy has errors or is rejected;\n"
	"2 usage or I/O error, or any request was invalid\n";

typedef struct eval_ctx {
	const tg_policy *policy;
	tg_decision *d;		/* one decision, reused for every request */
	bool explain, audit;
	unsigned long count;	/* requests answered */
	int rc;
} eval_ctx;

static void raise_rc(eval_ctx *ctx, int rc)
{
	if (rc > ctx->rc)
		ctx->rc = rc;
}

static void write_audit(const eval_ctx *ctx, const tg_request *req, const tg_decision *d)
{
	char small[2048], *buf = small;
	int64_t now = (int64_t)time(NULL);
	size_t need;

	need = tg_audit_format(ctx->policy, req, d, now, small, sizeof small);
	if (need >= sizeof small) {
		buf = malloc(need + 1);
		if (!buf) {
			tg_drv_error("out of memory writing an audit record");
			return;
		}
		tg_audit_format(ctx->policy, req, d, now, buf, need + 1);
	}
	fprintf(stderr, "%s\n", buf);
	if (buf != small)
		free(buf);
}

static void answer(eval_ctx *ctx, const tg_request *req, const tg_decision *d,
		   const char *trace)
{
	ctx->count++;
	if (tg_decision_write_json(stdout, d) != 0 || putchar('\n') == EOF) {
		raise_rc(ctx, TG_EXIT_USAGE);
		return;
	}
	if (ctx->explain || ctx->audit)
		fflush(stdout);	/* keep stderr next to the line it belongs to */
	if (ctx->explain) {
		fprintf(stderr, "explain: request %lu\n", ctx->count);
		fputs(trace ? trace : "  (no trace: out of memory)\n", stderr);
	}
	if (ctx->audit)
		write_audit(ctx, req, d);
}

/* Answers a request that could not be read: a deny marked invalid. */
static void answer_invalid(eval_ctx *ctx, const char *where, const char *why)
{
	tg_request empty;
	tg_decision *d = ctx->d;

	tg_drv_error("%s: %s", where, why);
	raise_rc(ctx, TG_EXIT_USAGE);
	tg_decision_set_invalid(d, why);
	tg_request_init(&empty);
	ctx->count++;
	if (tg_decision_write_json(stdout, d) != 0 || putchar('\n') == EOF)
		raise_rc(ctx, TG_EXIT_USAGE);
	if (ctx->explain || ctx->audit)
		fflush(stdout);
	if (ctx->explain)
		fprintf(stderr, "explain: request %lu\n  => deny: %s\n", ctx->count, why);
	if (ctx->audit)
		write_audit(ctx, &empty, d);
}

/* Decides one request; `where` names it in messages ("<stdin>:3"). */
static void eval_text(eval_ctx *ctx, const char *text, size_t len, const char *where)
{
	char err[512];
	tg_json_request jr;
	tg_decision *d = ctx->d;
	tg_status st;
	char *trace = NULL;

	if (tg_json_request_parse(ctx->policy, text, len, &jr, err, sizeof err) != 0) {
		answer_invalid(ctx, where, err);
		return;
	}
	if (ctx->explain)
		trace = tg_mcp_explain(ctx->policy, &jr.req, d, &st);
	else
		st = tg_eval(ctx->policy, &jr.req, d);
	if (st == TG_EINVALID_REQUEST || tg_decision_invalid(d)) {
		tg_drv_error("%s: %s", where,
			     tg_decision_reason(d) ? tg_decision_reason(d) : "invalid request");
		raise_rc(ctx, TG_EXIT_USAGE);
	} else if (st != TG_OK) {
		tg_drv_error("%s: evaluation failed: %s", where, tg_strerror(st));
		raise_rc(ctx, TG_EXIT_FAIL);
	}
	answer(ctx, &jr.req, d, trace);
	free(trace);
	tg_json_request_free(&jr);
}

/*
 * Reads one line without its '\n'. Keeps at most TG_JSON_MAX_BODY + 1 bytes
 * and discards the rest, so an oversized line costs bounded memory and is
 * still seen as oversized. Returns false at end of input with nothing read.
 */
static bool read_line(FILE *in, char *buf, size_t *len)
{
	size_t n = 0;
	int c;
	bool any = false;

	while ((c = getc(in)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (n <= TG_JSON_MAX_BODY)
			buf[n++] = (char)c;
	}
	*len = n;
	return any;
}

static void eval_stdin(eval_ctx *ctx)
{
	char *buf = malloc(TG_JSON_MAX_BODY + 2);
	char where[64];
	unsigned long line = 0;
	size_t len;

	if (!buf) {
		tg_drv_error("out of memory");
		raise_rc(ctx, TG_EXIT_USAGE);
		return;
	}
	while (read_line(stdin, buf, &len)) {
		line++;
		if (tg_json_line_blank(buf, len))
			continue;
		snprintf(where, sizeof where, "<stdin>:%lu", line);
		eval_text(ctx, buf, len, where);
	}
	if (ferror(stdin)) {
		tg_drv_error("cannot read stdin: %s", strerror(errno));
		raise_rc(ctx, TG_EXIT_USAGE);
	}
	free(buf);
}

static void eval_file(eval_ctx *ctx, const char *path)
{
	unsigned char *text;
	size_t len;

	text = (unsigned char *)tg_read_file(path, TG_JSON_MAX_BODY, &len);
	if (!text && errno == EFBIG) {
		/* Too big is an answer (deny), not a read failure. */
		char why[96];

		snprintf(why, sizeof why, "invalid request: the request is larger than %u bytes",
			 TG_JSON_MAX_BODY);
		answer_invalid(ctx, path, why);
		return;
	}
	if (!text) {
		tg_drv_error("cannot read '%s': %s", path, strerror(errno));
		raise_rc(ctx, TG_EXIT_USAGE);
		return;
	}
	eval_text(ctx, (const char *)text, len, path);
	free(text);
}

int tg_cmd_eval(int argc, char **argv)
{
	enum { OPT_EXPLAIN = TG_OPT_LONG, OPT_AUDIT };
	static const char shortopts[] = ":hr:";
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"request", required_argument, NULL, 'r'},
		{"explain", no_argument, NULL, OPT_EXPLAIN},
		{"audit", no_argument, NULL, OPT_AUDIT},
		{NULL, 0, NULL, 0},
	};
	const char *policy_path, *request_path = NULL;
	eval_ctx ctx;
	tg_policy *policy;
	int c, rc;

	memset(&ctx, 0, sizeof ctx);
	tg_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return tg_cli_help(eval_help);
		case 'r':
			request_path = optarg;
			break;
		case OPT_EXPLAIN:
			ctx.explain = true;
			break;
		case OPT_AUDIT:
			ctx.audit = true;
			break;
		default:
			return tg_cli_bad_option("eval", c, argv, shortopts, "a file name");
		}
	}
	if (optind == argc)
		return tg_cli_usage("eval", "no policy file given");
	if (argc - optind > 1)
		return tg_cli_usage("eval", "one policy at a time");
	policy_path = argv[optind];

	rc = tg_drv_load_policy(policy_path, &policy);
	if (rc != TG_EXIT_OK)
		return rc;
	ctx.policy = policy;
	if (tg_decision_create(&ctx.d) != TG_OK) {
		tg_drv_error("out of memory");
		tg_policy_free(policy);
		return TG_EXIT_USAGE;
	}
	if (request_path)
		eval_file(&ctx, request_path);
	else
		eval_stdin(&ctx);
	/* ferror: a flush between lines (--explain, --audit) may have failed */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		tg_drv_error("cannot write to stdout: %s", strerror(errno));
		raise_rc(&ctx, TG_EXIT_USAGE);
	}
	tg_decision_free(ctx.d);
	tg_policy_free(policy);
	return ctx.rc;
}
