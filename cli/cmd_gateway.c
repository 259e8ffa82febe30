/*
 * cmd_gateway.c - `toolgate gateway --config FILE.yaml [--check]`: an MCP
 * Streamable HTTP gateway enforcing the policy in front of HTTP and stdio
 * MCP servers (docs/gateway.md). This file reads the options; gateway.h
 * describes the parts.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "gateway.h"

static const char gateway_help[] =
	"usage: toolgate gateway --config GATEWAY.yaml [--check]\n"
	"\n"
	"Serves MCP over Streamable HTTP (protocol 2025-06-18 and 2025-11-25) in\n"
	"front of the upstreams the configuration names: every request is\n"
	"authorized before it is forwarded, a denied one is answered with a\n"
	"JSON-RPC error and never reaches the upstream, list results show only\n"
	"what the caller may see, every decision is audited. The policy and the\n"
	"configuration reload on SIGHUP or when their files change; SIGUSR1\n"
	"reopens the audit log; SIGTERM finishes requests in flight and stops.\n"
	"\n"
	"  --config FILE   the YAML configuration (docs/gateway.md)\n"
	"  --check         check the configuration, the policies, the session key,\n"
	"                  the TLS certificate and key and auth's key files, then\n"
	"                  exit\n"
	"\n"
	"exit status: 0 stopped by a signal, or --check found nothing wrong;\n"
	"1 the configuration or a policy is wrong; 2 usage or I/O error\n";

enum { OPT_CONFIG = TG_OPT_LONG, OPT_CHECK };

static const char shortopts[] = ":h";
static const struct option longopts[] = {
	{"help", no_argument, NULL, 'h'},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"check", no_argument, NULL, OPT_CHECK},
	{NULL, 0, NULL, 0},
};

/* --check: everything a start reads, nothing it opens for serving. */
static int check(const char *path)
{
	tg_gw_conf *c = tg_gw_conf_load(path, stderr);
	tg_policy *p = NULL;
	tg_gw_key key;
	char err[512];
	int rc = TG_EXIT_OK;

	if (!c)
		return TG_EXIT_FAIL;
	if (tg_drv_load_policy(c->policy, &p) != TG_EXIT_OK)
		rc = TG_EXIT_FAIL;
	tg_policy_free(p);
	p = NULL;
	if (c->shadow_policy && tg_drv_load_policy(c->shadow_policy, &p) != TG_EXIT_OK)
		rc = TG_EXIT_FAIL;
	tg_policy_free(p);
	if (c->session_key_file && tg_gw_key_load(&key, "session key", c->session_key_file, err, sizeof err) != 0) {
		tg_drv_error("gateway: %s", err);
		rc = TG_EXIT_FAIL;
	}
	if (c->tls_cert_file) {
		tg_gw_tls *t = tg_gw_tls_new(c->tls_cert_file, c->tls_key_file, err, sizeof err);

		if (!t) {
			tg_drv_error("gateway: %s", err);
			rc = TG_EXIT_FAIL;
		}
		tg_gw_tls_free(t);
	}
	/* The files of auth; a jwks_uri is fetched only by a start. */
	if (c->auth && c->auth->jwks_file) {
		tg_gw_jwks *j = tg_gw_jwks_create(c->auth, err, sizeof err);

		if (!j) {
			tg_drv_error("gateway: %s", err);
			rc = TG_EXIT_FAIL;
		}
		tg_gw_jwks_free(j);
	}
	if (c->auth && c->auth->hs_secret_file &&
	    tg_gw_key_load(&key, "HMAC secret", c->auth->hs_secret_file, err, sizeof err) != 0) {
		tg_drv_error("gateway: %s", err);
		rc = TG_EXIT_FAIL;
	}
	if (rc == TG_EXIT_OK)
		fprintf(stderr, "%s: configuration OK (%zu upstream%s)\n", path, c->nupstreams,
			c->nupstreams == 1 ? "" : "s");
	tg_gw_conf_free(c);
	return rc;
}

int tg_cmd_gateway(int argc, char **argv)
{
	const char *config = NULL;
	bool only_check = false;
	int c, li = 0;

	tg_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, shortopts, longopts, &li)) != -1) {
		switch (c) {
		case 'h':
			return tg_cli_help(gateway_help);
		case OPT_CONFIG:
			config = optarg;
			break;
		case OPT_CHECK:
			only_check = true;
			break;
		default:
			return tg_cli_bad_option("gateway", c, argv, shortopts, "a file name");
		}
	}
	if (optind < argc)
		return tg_cli_usage("gateway", "unexpected '%s'", argv[optind]);
	if (!config)
		return tg_cli_usage("gateway", "no configuration given (--config FILE.yaml)");
	if (access(config, R_OK) != 0) {
		tg_drv_error("cannot read '%s': %s", config, strerror(errno));
		return TG_EXIT_USAGE;
	}
	return only_check ? check(config) : tg_gw_run(config);
}
