/*
 * cmd_proxy.c - `toolgate proxy --policy POLICY.tgb [options] -- COMMAND
 * ARGS...`: run an MCP server over stdio and enforce the policy on every
 * message between it and the client (docs/proxy.md). This file reads the
 * options; proxy.h describes the parts.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proxy.h"

static const char proxy_help[] =
	"usage: toolgate proxy --policy POLICY.tgb [IDENTITY...] [--audit FILE]\n"
	"                      [--max-line BYTES] [--request-timeout MS]\n"
	"                      [--deny-as result|error] [--roots URI]... [--pin FILE]\n"
	"                      [--write-pins FILE] [--annotations FILE] [--stats]\n"
	"                      -- COMMAND [ARGS...]\n"
	"\n"
	"Runs COMMAND, an MCP server speaking newline-delimited JSON-RPC on stdio,\n"
	"and relays between it and the client on this process's stdin/stdout.\n"
	"Every client request is authorized before it is forwarded; a denied one\n"
	"is answered by the proxy and never reaches the server. tools/list,\n"
	"resources/list and prompts/list results show only what the policy lets\n"
	"the identity see. The policy reloads on SIGHUP or when its file changes.\n"
	"\n"
	"identity (applied in order, later ones merging over earlier ones):\n"
	"  --principal ID          principal.id (required, here or in --identity)\n"
	"  --role R                add to principal.roles (repeatable)\n"
	"  --scope S               add to token.scopes (repeatable)\n"
	"  --client-id ID          token.client_id\n"
	"  --attr principal.K=V    a principal attribute\n"
	"  --token-claim K=V       a token claim\n"
	"  --context K=V           a context attribute (context.time defaults to\n"
	"                          the proxy's clock, UTC seconds, per request)\n"
	"  --server NAME           the request's server field\n"
	"  --identity FILE.json    {\"principal\":{...},\"token\":{...},\"context\":{...}}\n"
	"  V is typed: an integer, true or false, otherwise a string; K may hold\n"
	"  dots for nested objects (--context env.region=eu)\n"
	"\n"
	"  --policy FILE     the policy: bytecode (.tgb), or source compiled in memory\n"
	"  --audit FILE      append one JSON audit line per decision to FILE\n"
	"                    (default: stderr); SIGUSR1 opens FILE again\n"
	"  --max-line BYTES  longest message accepted either way (default 8 MiB)\n"
	"  --request-timeout MS\n"
	"                    answer a request with an error (and cancel it) when\n"
	"                    no answer came within MS milliseconds, progress\n"
	"                    restarting the clock (default 300000; 0: never)\n"
	"  --deny-as result|error\n"
	"                    a denied tools/call is answered as a tool result with\n"
	"                    isError and the reason as text, which the model reads\n"
	"                    (result, the default), or as JSON-RPC error -32003\n"
	"  --roots URI       pin the server's roots (repeatable): the proxy answers\n"
	"                    the server's roots/list with these itself. Either way\n"
	"                    a root reaches the server only when the policy lets\n"
	"                    the identity read it as a tree (resources/read URI/)\n"
	"  --pin FILE        tool definitions pinned by digest ({\"tools\":{NAME:HEX}}):\n"
	"                    a pinned tool whose name, description, inputSchema or\n"
	"                    annotations changed is hidden and denied until re-pinned\n"
	"  --write-pins FILE write the pins of every tool listed to FILE (then review\n"
	"                    it and pass it to --pin)\n"
	"  --annotations FILE\n"
	"                    per-tool annotations that replace the server's\n"
	"                    ({\"tools\":{NAME:{\"readOnlyHint\":false,...}}})\n"
	"                    SIGHUP also re-reads --pin and --annotations files\n"
	"  --stats           print counts and CPU time on stderr at exit\n"
	"\n"
	"exit status: 0 the client closed and the server exited cleanly;\n"
	"1 the policy is wrong; 2 usage or I/O error, or the server exited first\n";

/* Long-only options; the identity options carry their names into
 * tg_mcp_identity_option. */
enum {
	OPT_POLICY = TG_OPT_LONG, OPT_AUDIT, OPT_MAX_LINE, OPT_TIMEOUT, OPT_DENY_AS, OPT_ROOTS,
	OPT_PIN, OPT_WRITE_PINS, OPT_ANNOTATIONS, OPT_STATS, OPT_IDENTITY
};

static const char shortopts[] = "+:h";	/* '+': stop at the server command */
static const struct option longopts[] = {
	{"help", no_argument, NULL, 'h'},
	{"policy", required_argument, NULL, OPT_POLICY},
	{"audit", required_argument, NULL, OPT_AUDIT},
	{"max-line", required_argument, NULL, OPT_MAX_LINE},
	{"request-timeout", required_argument, NULL, OPT_TIMEOUT},
	{"deny-as", required_argument, NULL, OPT_DENY_AS},
	{"roots", required_argument, NULL, OPT_ROOTS},
	{"pin", required_argument, NULL, OPT_PIN},
	{"write-pins", required_argument, NULL, OPT_WRITE_PINS},
	{"annotations", required_argument, NULL, OPT_ANNOTATIONS},
	{"stats", no_argument, NULL, OPT_STATS},
	{"principal", required_argument, NULL, OPT_IDENTITY},
	{"role", required_argument, NULL, OPT_IDENTITY},
	{"scope", required_argument, NULL, OPT_IDENTITY},
	{"client-id", required_argument, NULL, OPT_IDENTITY},
	{"attr", required_argument, NULL, OPT_IDENTITY},
	{"token-claim", required_argument, NULL, OPT_IDENTITY},
	{"context", required_argument, NULL, OPT_IDENTITY},
	{"server", required_argument, NULL, OPT_IDENTITY},
	{"identity", required_argument, NULL, OPT_IDENTITY},
	{NULL, 0, NULL, 0},
};

/* "--max-line BYTES": 0 when out of range. */
static size_t max_line_value(const char *value)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno || *end || value[0] == '-' || v < 64 || v > (1ull << 31))
		return 0;
	return (size_t)v;
}

/* "--request-timeout MS": -1 when not a count of milliseconds up to a day. */
static int64_t timeout_value(const char *value)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno || *end || !*value || value[0] == '-' || v > 86400000ull)
		return -1;
	return (int64_t)v;
}

/* The operator's files about tools: pins and annotation overrides. */
typedef struct tool_files {
	const char *pins_path, *annotations_path;
	json_t *pins, *overrides;
	tg_proxy *px;
} tool_files;

/* Reads both files; on failure keeps what it had. 0, or -1 with a message. */
static int load_tool_files(tool_files *t, char *err, size_t errlen)
{
	json_t *pins = NULL, *overrides = NULL;

	if (t->pins_path && !(pins = tg_mcp_pins_load(t->pins_path, err, errlen)))
		return -1;
	if (t->annotations_path &&
	    !(overrides = tg_mcp_annotations_load(t->annotations_path, err, errlen))) {
		json_decref(pins);
		return -1;
	}
	json_decref(t->pins);
	json_decref(t->overrides);
	t->pins = pins;
	t->overrides = overrides;
	return 0;
}

/* SIGHUP: a re-pinned tool is usable again. The listed tools are
 * forgotten, so each is judged on its next listing (or the proxy's own). */
static void reload_tool_files(void *ud)
{
	tool_files *t = ud;
	char err[512];

	if (!t->pins_path && !t->annotations_path)
		return;
	if (load_tool_files(t, err, sizeof err) != 0) {
		tg_drv_error("proxy: %s; keeping the current pins and annotations", err);
		return;
	}
	t->px->tools.pins = t->pins;
	t->px->tools.overrides = t->overrides;
	tg_mcp_tools_clear(&t->px->tools);
	tg_drv_error("proxy: re-read the pins and annotations");
}

/* --audit's file and the proxy that writes to it. */
typedef struct audit_file {
	const char *path;
	tg_proxy *px;
} audit_file;

/* SIGUSR1: the audit log opened again, for log rotation; a file that
 * cannot be opened leaves the current one in use. */
static void reopen_audit(void *ud)
{
	audit_file *a = ud;
	FILE *f = fopen(a->path, "a");

	if (!f) {
		tg_drv_error("proxy: cannot reopen the audit log '%s': %s; keeping the current one",
			     a->path, strerror(errno));
		return;
	}
	fclose(a->px->audit);
	a->px->audit = f;
	tg_drv_error("proxy: reopened the audit log '%s'", a->path);
}

int tg_cmd_proxy(int argc, char **argv)
{
	const char *policy_path = NULL, *audit_path = NULL;
	tg_mcp_identity id;
	tg_reloader reloader;
	tg_relay_opts opts;
	tg_holder *holder = NULL;
	tg_proxy px;
	audit_file reopen = { NULL, &px };
	FILE *audit = stderr;
	json_t *pid;
	const char *value = NULL;	/* the last option's value */
	char err[512];
	int c, li = 0, rc = TG_EXIT_USAGE;
	int64_t timeout_ms = TG_PROXY_DEFAULT_TIMEOUT_MS;
	tg_mcp_deny_as deny_as = TG_MCP_DENY_AS_RESULT;
	json_t *roots = NULL;
	tool_files tools = {0};
	const char *write_pins = NULL;

	memset(&opts, 0, sizeof opts);
	memset(&reloader, 0, sizeof reloader);
	opts.max_line = TG_PROXY_DEFAULT_MAX_LINE;
	tg_mcp_identity_init(&id);
	tg_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, shortopts, longopts, &li)) != -1) {
		value = optarg;
		switch (c) {
		case 'h':
			rc = tg_cli_help(proxy_help);
			goto out;
		case OPT_POLICY:
			policy_path = optarg;
			break;
		case OPT_AUDIT:
			audit_path = optarg;
			break;
		case OPT_MAX_LINE:
			opts.max_line = max_line_value(optarg);
			if (opts.max_line == 0) {
				tg_cli_usage("proxy", "--max-line wants a byte count from 64 to 2^31");
				goto out;
			}
			break;
		case OPT_TIMEOUT:
			timeout_ms = timeout_value(optarg);
			if (timeout_ms < 0) {
				tg_cli_usage("proxy", "--request-timeout wants milliseconds, "
						      "from 0 (never) to 86400000");
				goto out;
			}
			break;
		case OPT_DENY_AS:
			if (strcmp(optarg, "result") == 0) {
				deny_as = TG_MCP_DENY_AS_RESULT;
			} else if (strcmp(optarg, "error") == 0) {
				deny_as = TG_MCP_DENY_AS_ERROR;
			} else {
				tg_cli_usage("proxy", "--deny-as wants result or error, not '%s'",
					     optarg);
				goto out;
			}
			break;
		case OPT_ROOTS: {
			json_t *one = tg_mcp_roots_from_uris(&optarg, 1);

			if (!roots)
				roots = json_array();
			if (!one || !roots || json_array_extend(roots, one) != 0) {
				json_decref(one);
				tg_cli_usage("proxy", "--roots wants a URI in UTF-8, not '%s'", optarg);
				goto out;
			}
			json_decref(one);
			break;
		}
		case OPT_PIN:
			tools.pins_path = optarg;
			break;
		case OPT_WRITE_PINS:
			write_pins = optarg;
			break;
		case OPT_ANNOTATIONS:
			tools.annotations_path = optarg;
			break;
		case OPT_STATS:
			opts.stats = true;
			break;
		case OPT_IDENTITY:
			if (tg_mcp_identity_option(&id, longopts[li].name, optarg, err, sizeof err) != 0) {
				tg_cli_usage("proxy", "%s", err);
				goto out;
			}
			break;
		default:
			tg_cli_bad_option("proxy", c, argv, shortopts, "a value");
			goto out;
		}
	}
	/* getopt stopped at "--" (and stepped over it) or at the first operand;
	 * a "--" that was an option's value does not count. */
	if (optind < argc && (optind < 2 || strcmp(argv[optind - 1], "--") != 0 ||
			      argv[optind - 1] == value)) {
		tg_cli_usage("proxy", "unexpected '%s' (the server command goes after --)",
			     argv[optind]);
		goto out;
	}
	if (!policy_path) {
		tg_cli_usage("proxy", "no policy given (--policy FILE)");
		goto out;
	}
	if (optind >= argc) {
		tg_cli_usage("proxy", "no server command given (after --)");
		goto out;
	}
	pid = json_object_get(id.principal, "id");
	if (!json_is_string(pid)) {
		tg_cli_usage("proxy", "no principal: give --principal ID or --identity FILE");
		goto out;
	}
	if (load_tool_files(&tools, err, sizeof err) != 0) {
		tg_cli_usage("proxy", "%s", err);
		goto out;
	}
	if (audit_path) {
		audit = fopen(audit_path, "a");
		if (!audit) {
			tg_drv_error("cannot open '%s': %s", audit_path, strerror(errno));
			goto out;
		}
	}
	if (tg_holder_create(&holder) != TG_OK) {
		tg_drv_error("out of memory");
		goto out;
	}
	reloader.path = policy_path;
	rc = tg_reload_initial(&reloader, holder);
	if (rc != TG_EXIT_OK)
		goto out;
	opts.argv = argv + optind;
	opts.reloader = &reloader;
	tg_proxy_init(&px, holder, &id, audit);
	px.measure = opts.stats;
	px.request_timeout_ms = timeout_ms;
	px.deny_as = deny_as;
	px.roots = roots;
	px.write_pins = write_pins;
	px.tools.keep_digests = write_pins != NULL;
	px.tools.pins = tools.pins;
	px.tools.overrides = tools.overrides;
	tools.px = &px;
	opts.on_hup = reload_tool_files;
	opts.hup_ud = &tools;
	if (audit_path) {
		reopen.path = audit_path;
		opts.on_usr1 = reopen_audit;
		opts.usr1_ud = &reopen;
	}
	rc = tg_relay_run(&px, &opts);
	audit = px.audit;	/* the file SIGUSR1 last opened */
	tg_proxy_free(&px);
out:
	if (audit && audit != stderr)
		fclose(audit);
	tg_holder_free(holder);
	tg_mcp_identity_clear(&id);
	json_decref(roots);
	json_decref(tools.pins);
	json_decref(tools.overrides);
	return rc;
}
