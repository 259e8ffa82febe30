/*
 * cmd_proxy.c - `toolgate proxy --policy POLICY.tgb [options] -- COMMAND
 * ARGS...`: run an MCP server over stdio and enforce the policy on every
 * message between it and the client (docs/proxy.md). This file reads the
 * options; proxy.h describes the parts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proxy.h"

static const char proxy_help[] =
	"usage: toolgate proxy --policy POLICY.tgb [IDENTITY...] [--audit FILE]\n"
	"                      [--max-line BYTES] [--stats] -- COMMAND [ARGS...]\n"
	"\n"
	"Runs COMMAND, an MCP server speaking newline-delimited JSON-RPC on stdio,\n"
	"and relays between it and the client on this process's stdin/stdout.\n"
	"Every client request is authorized before it is forwarded; a denied one\n"
	"is answered with error -32001 and never reaches the server. tools/list,\n"
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
	"                    (default: stderr)\n"
	"  --max-line BYTES  longest message accepted either way (default 8 MiB)\n"
	"  --stats           print counts and CPU time on stderr at exit\n"
	"\n"
	"exit status: 0 the client closed and the server exited cleanly;\n"
	"1 the policy is wrong; 2 usage or I/O error, or the server exited first\n";

/* Splits "--name=value" / "--name value": the name (without "--") into
 * name[namelen], the value returned (NULL when missing). */
static const char *option_value(int argc, char **argv, int *i, const char *arg, char *name,
				size_t namelen)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) - 2 : strlen(arg + 2);

	if (n >= namelen)
		n = namelen - 1;
	memcpy(name, arg + 2, n);
	name[n] = '\0';
	if (eq)
		return eq + 1;
	if (*i + 1 < argc)
		return argv[++*i];
	return NULL;
}

int tg_cmd_proxy(int argc, char **argv)
{
	const char *policy_path = NULL, *audit_path = NULL;
	tg_identity id;
	tg_reloader reloader;
	tg_relay_opts opts;
	tg_holder *holder = NULL;
	tg_proxy px;
	FILE *audit = stderr;
	json_t *pid;
	char err[512];
	int i, rc = TG_EXIT_USAGE;

	memset(&opts, 0, sizeof opts);
	memset(&reloader, 0, sizeof reloader);
	opts.max_line = TG_PROXY_DEFAULT_MAX_LINE;
	tg_identity_init(&id);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *value;
		char name[32];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (tg_cli_is_help(a)) {
			fputs(proxy_help, stdout);
			rc = TG_EXIT_OK;
			goto out;
		}
		if (strcmp(a, "--stats") == 0) {
			opts.stats = true;
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			tg_cli_usage("proxy", "unexpected '%s' (the server command goes after --)", a);
			goto out;
		}
		value = option_value(argc, argv, &i, a, name, sizeof name);
		if (strcmp(name, "policy") != 0 && strcmp(name, "audit") != 0 &&
		    strcmp(name, "max-line") != 0 && !tg_identity_is_option(name)) {
			tg_cli_usage("proxy", "unknown option '%s'", a);
			goto out;
		}
		if (!value) {
			tg_cli_usage("proxy", "--%s needs a value", name);
			goto out;
		}
		if (strcmp(name, "policy") == 0) {
			policy_path = value;
		} else if (strcmp(name, "audit") == 0) {
			audit_path = value;
		} else if (strcmp(name, "max-line") == 0) {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(value, &end, 10);
			if (errno || *end || value[0] == '-' || v < 64 || v > (1ull << 31)) {
				tg_cli_usage("proxy", "--max-line wants a byte count from 64 to 2^31");
				goto out;
			}
			opts.max_line = (size_t)v;
		} else if (tg_identity_option(&id, name, value, err, sizeof err) != 0) {
			tg_cli_usage("proxy", "%s", err);
			goto out;
		}
	}
	if (!policy_path) {
		tg_cli_usage("proxy", "no policy given (--policy FILE)");
		goto out;
	}
	if (i >= argc) {
		tg_cli_usage("proxy", "no server command given (after --)");
		goto out;
	}
	pid = json_object_get(id.principal, "id");
	if (!json_is_string(pid)) {
		tg_cli_usage("proxy", "no principal: give --principal ID or --identity FILE");
		goto out;
	}
	if (audit_path) {
		audit = fopen(audit_path, "a");
		if (!audit) {
			tg_cli_error("cannot open '%s': %s", audit_path, strerror(errno));
			goto out;
		}
	}
	if (tg_holder_create(&holder) != TG_OK) {
		tg_cli_error("out of memory");
		goto out;
	}
	reloader.path = policy_path;
	rc = tg_reload_initial(&reloader, holder);
	if (rc != TG_EXIT_OK)
		goto out;
	opts.argv = argv + i;
	opts.reloader = &reloader;
	tg_proxy_init(&px, holder, &id, audit);
	px.measure = opts.stats;
	rc = tg_relay_run(&px, &opts);
	tg_proxy_free(&px);
out:
	if (audit && audit != stderr)
		fclose(audit);
	tg_holder_free(holder);
	tg_identity_free(&id);
	return rc;
}
