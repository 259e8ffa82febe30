/*
 * run.c - the gateway process: start, serve, reload, stop.
 *
 * The main thread only waits: for signals (through a self-pipe) and, every
 * 250 ms, for changed files. SIGHUP or a changed policy file reloads the
 * policy (gateways/stdio/reload.c: a policy that does not load is reported
 * and the old one keeps serving); the shadow policy likewise. A changed
 * configuration file is read again and, when it checks, replaces the
 * current one for new requests (requests in flight keep theirs, which is
 * freed only at exit); settings that need a new socket or a new identity
 * say so and keep their old values. A broken file changes nothing. The
 * TLS certificate and key files are watched too (tls.c). SIGUSR1
 * reopens the audit log. SIGTERM or SIGINT stop accepting
 * (MHD_quiesce_daemon), let requests in flight finish for up to 10 s, then
 * stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver.h"
#include "gateway.h"

#define DRAIN_MS 10000

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	char c = sig == SIGHUP ? 'H' : sig == SIGUSR1 ? 'U' : 'T';

	if (write(sig_pipe[1], &c, 1) < 0) {
		/* Full: a wake-up is pending already. */
	}
	errno = saved;
}

const tg_gw_conf *tg_gw_current(tg_gw *gw)
{
	const tg_gw_conf *c;

	pthread_mutex_lock(&gw->lock);
	c = gw->conf;
	pthread_mutex_unlock(&gw->lock);
	return c;
}

bool tg_gw_file_changed(tg_gw_file_stamp *f, const char *path)
{
	struct stat st;
	bool diff;

	if (stat(path, &st) != 0)
		return false;
	diff = !f->known || st.st_ino != f->st.st_ino || st.st_dev != f->st.st_dev ||
	       st.st_size != f->st.st_size || st.st_mtim.tv_sec != f->st.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != f->st.st_mtim.tv_nsec;
	f->known = true;
	f->st = st;
	return diff;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_json(const json_t *a, const json_t *b)
{
	return (!a && !b) || (a && b && json_equal(a, b));
}

/* Whether two auth sections are the same OAuth resource server. */
static bool same_auth(const tg_gw_auth_conf *a, const tg_gw_auth_conf *b)
{
	size_t i;

	if (!a || !b)
		return a == b;
	if (!same_str(a->issuer, b->issuer) || !same_str(a->jwks_file, b->jwks_file) ||
	    !same_str(a->jwks_uri, b->jwks_uri) || !same_str(a->hs_secret_file, b->hs_secret_file) ||
	    !same_str(a->roles_prefix, b->roles_prefix) || !same_json(a->claims, b->claims) ||
	    !same_json(a->headers, b->headers) || !same_json(a->step_up, b->step_up) ||
	    a->require_at_jwt != b->require_at_jwt || a->clock_skew_s != b->clock_skew_s ||
	    a->jwks_min_refresh_s != b->jwks_min_refresh_s || a->jwks_wait_ms != b->jwks_wait_ms ||
	    a->jwks_max_age_s != b->jwks_max_age_s || a->nscopes != b->nscopes ||
	    !same_str(a->introspection_endpoint, b->introspection_endpoint) ||
	    !same_str(a->introspection_client_id, b->introspection_client_id) ||
	    !same_str(a->introspection_secret, b->introspection_secret) ||
	    a->introspection_cache_s != b->introspection_cache_s)
		return false;
	for (i = 0; i < a->nscopes; i++)
		if (strcmp(a->scopes[i], b->scopes[i]) != 0)
			return false;
	return true;
}

/* Reads the configuration again; a broken one changes nothing. */
static void reload_config(tg_gw *gw, tg_reloader *pol, tg_reloader *sh)
{
	tg_gw_conf *n = tg_gw_conf_load(gw->conf->file, stderr), **r;
	const tg_gw_conf *o = gw->conf;
	char *a, *b;

	if (!n) {
		tg_drv_error("gateway: reload of '%s' failed; keeping the current configuration",
			     o->file);
		tg_gw_metrics_reload(&gw->metrics, false);
		return;
	}
	a = json_dumps(n->identity, JSON_COMPACT | JSON_SORT_KEYS);
	b = json_dumps(o->identity, JSON_COMPACT | JSON_SORT_KEYS);
	if (!same_str(n->listen_host, o->listen_host) || n->listen_port != o->listen_port ||
	    n->limits.max_connections != o->limits.max_connections ||
	    n->limits.max_header != o->limits.max_header ||
	    n->limits.idle_timeout_s != o->limits.idle_timeout_s || !same_str(a, b) ||
	    !same_str(n->audit, o->audit) || !same_str(n->session_key_file, o->session_key_file) ||
	    (n->shadow_policy != NULL) != (o->shadow_policy != NULL) ||
	    !n->tls_cert_file != !o->tls_cert_file || n->nproxies != o->nproxies ||
	    (n->nproxies && memcmp(n->proxies, o->proxies, n->nproxies * sizeof *n->proxies) != 0) ||
	    !same_auth(n->auth, o->auth))
		tg_drv_error("gateway: listen, adding or removing tls, behind_proxy, identity, auth, "
			     "audit, session_key_file, the presence of shadow_policy and "
			     "limits.max_connections/max_header/idle_timeout_s take effect at the "
			     "next start");
	free(a);
	free(b);
	/* Keep what cannot change live as it was. The token validator holds
	 * the start configuration's auth (which lives until exit), so the new
	 * configuration borrows that one: its metadata document and step-up
	 * then say what is enforced. */
	n->limits.max_connections = o->limits.max_connections;
	n->limits.max_header = o->limits.max_header;
	n->limits.idle_timeout_s = o->limits.idle_timeout_s;
	tg_gw_auth_free(n->auth);
	n->auth = o->auth;
	n->auth_borrowed = true;
	pthread_mutex_lock(&gw->lock);
	r = realloc(gw->retired, (gw->nretired + 1) * sizeof *r);
	if (!r) {
		pthread_mutex_unlock(&gw->lock);
		tg_gw_conf_free(n);
		return;
	}
	gw->retired = r;
	gw->retired[gw->nretired++] = gw->conf;
	gw->conf = n;
	pthread_mutex_unlock(&gw->lock);
	tg_drv_error("gateway: reloaded configuration '%s'", n->file);
	tg_gw_metrics_reload(&gw->metrics, true);
	if (!same_str(pol->path, n->policy)) {
		pol->path = n->policy;
		tg_gw_metrics_reload(&gw->metrics, tg_reload_check(pol, gw->holder, true));
	}
	if (sh->path && n->shadow_policy && !same_str(sh->path, n->shadow_policy)) {
		sh->path = n->shadow_policy;
		tg_gw_metrics_reload(&gw->metrics, tg_reload_check(sh, gw->shadow, true));
	}
}

/* The certificate and key the configuration names read again when they
 * changed, or are other files (or on SIGHUP). A configuration without tls
 * leaves the one serving as it is (HTTPS is chosen at start). */
static void reload_tls(tg_gw *gw, tg_gw_server *srv, bool force)
{
	const tg_gw_conf *c = tg_gw_current(gw);
	tg_gw_tls *t = tg_gw_server_tls(srv);
	char msg[512];
	int rc = t && c->tls_cert_file
			 ? tg_gw_tls_check(t, c->tls_cert_file, c->tls_key_file, force, msg, sizeof msg)
			 : 0;

	if (rc > 0)
		tg_drv_error("gateway: reloaded the TLS certificate '%s': %s", c->tls_cert_file, msg);
	else if (rc < 0)
		tg_drv_error("gateway: reload of the TLS certificate failed; keeping the current "
			     "one: %s", msg);
	if (rc != 0)
		tg_gw_metrics_reload(&gw->metrics, rc > 0);
}

static int setup(tg_gw *gw, tg_gw_conf *c, tg_reloader *pol, tg_reloader *sh)
{
	char err[512];
	int rc;

	memset(gw, 0, sizeof *gw);
	pthread_mutex_init(&gw->lock, NULL);
	tg_gw_metrics_init(&gw->metrics);
	gw->conf = c;
	if (c->session_key_file) {
		if (tg_gw_key_load(&gw->key, "session key", c->session_key_file, err, sizeof err) != 0) {
			tg_drv_error("gateway: %s", err);
			return TG_EXIT_USAGE;
		}
	} else if (tg_gw_key_random(&gw->key) != 0) {
		tg_drv_error("gateway: cannot make a session key");
		return TG_EXIT_USAGE;
	}
	if (tg_holder_create(&gw->holder) != TG_OK ||
	    (c->shadow_policy && tg_holder_create(&gw->shadow) != TG_OK)) {
		tg_drv_error("gateway: out of memory");
		return TG_EXIT_USAGE;
	}
	pol->path = c->policy;
	rc = tg_reload_initial(pol, gw->holder);
	if (rc != TG_EXIT_OK)
		return rc;
	if (c->shadow_policy) {
		sh->path = c->shadow_policy;
		rc = tg_reload_initial(sh, gw->shadow);
		if (rc != TG_EXIT_OK)
			return rc;
	}
	/* The start configuration stays alive until exit (reloads retire,
	 * never free it), so the OAuth step may keep pointing at its auth. */
	if (c->auth) {
		if (tg_gw_identity_oauth(c->auth, gw->fixed_time, &gw->identity, err, sizeof err) !=
		    0) {
			tg_drv_error("gateway: %s: auth: %s", c->file, err);
			return TG_EXIT_FAIL;
		}
	} else if (tg_gw_identity_fixed(c->identity, &gw->identity, err, sizeof err) != 0) {
		tg_drv_error("gateway: %s: identity: %s", c->file, err);
		return TG_EXIT_FAIL;
	}
	return TG_EXIT_OK;
}

static void teardown(tg_gw *gw)
{
	size_t i;

	for (i = 0; i < gw->nups; i++) {
		tg_gw_stdio_pool_free(gw->ups[i].stdio);
		tg_mcp_tools_dispose(&gw->ups[i].tools);
		json_decref(gw->ups[i].name_json);
		json_decref(gw->ups[i].xheaders);
		free(gw->ups[i].source);
		pthread_mutex_destroy(&gw->ups[i].lock);
	}
	tg_gw_identity_destroy(&gw->identity);
	if (gw->audit.f)
		tg_gw_audit_close(&gw->audit);
	tg_holder_free(gw->holder);
	tg_holder_free(gw->shadow);
	for (i = 0; i < gw->nretired; i++)
		tg_gw_conf_free(gw->retired[i]);
	free(gw->retired);
	tg_gw_conf_free(gw->conf);
	tg_gw_metrics_destroy(&gw->metrics);
	pthread_mutex_destroy(&gw->lock);
	tg_gw_wipe(&gw->key, sizeof gw->key);
}

int tg_gw_run(const char *config_path)
{
	tg_gw_conf *c = tg_gw_conf_load(config_path, stderr);
	tg_reloader pol, sh;
	tg_gw_file_stamp conf_stamp = {0};
	tg_gw_server *srv = NULL;
	struct sigaction sa;
	tg_gw *gw;
	char err[512];
	int rc;
	bool stopping = false;
	int64_t stop_at = 0;

	if (!c)
		return TG_EXIT_FAIL;
	gw = malloc(sizeof *gw);
	if (!gw) {
		tg_gw_conf_free(c);
		return TG_EXIT_USAGE;
	}
	memset(&pol, 0, sizeof pol);
	memset(&sh, 0, sizeof sh);
	rc = setup(gw, c, &pol, &sh);
	if (rc == TG_EXIT_OK && tg_gw_audit_open(&gw->audit, c->audit, err, sizeof err) != 0) {
		tg_drv_error("gateway: %s", err);
		rc = TG_EXIT_USAGE;
	}
	if (rc == TG_EXIT_OK && (tg_gw_http_global_init() != 0 || pipe(sig_pipe) != 0)) {
		tg_drv_error("gateway: cannot set up: %s", strerror(errno));
		rc = TG_EXIT_USAGE;
	}
	if (rc != TG_EXIT_OK)
		goto out;
	fcntl(sig_pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	tg_gw_file_changed(&conf_stamp, config_path);
	srv = tg_gw_server_start(gw, err, sizeof err);
	if (!srv) {
		tg_drv_error("gateway: %s", err);
		rc = TG_EXIT_USAGE;
		goto out;
	}
	tg_drv_error("gateway: listening on %s:%u%s%s", c->listen_host,
		     (unsigned)tg_gw_server_port(srv), c->tls_cert_file ? " (HTTPS)" : "",
		     c->nproxies ? " behind a proxy" : "");
	for (;;) {
		struct pollfd pfd = {sig_pipe[0], POLLIN, 0};
		char sigs[16];
		ssize_t n, i;

		if (stopping) {
			if (__atomic_load_n(&gw->in_flight, __ATOMIC_SEQ_CST) == 0)
				break;
			if (tg_proxy_now_ms() - stop_at > DRAIN_MS) {
				tg_drv_error("gateway: %d requests still running after %d ms; "
					     "stopping anyway",
					     __atomic_load_n(&gw->in_flight, __ATOMIC_SEQ_CST),
					     DRAIN_MS);
				break;
			}
		}
		poll(&pfd, 1, stopping ? 50 : 250);
		while ((n = read(sig_pipe[0], sigs, sizeof sigs)) > 0) {
			for (i = 0; i < n; i++) {
				if (sigs[i] == 'T' && !stopping) {
					tg_drv_error("gateway: stopping: no new connections; "
						     "finishing requests in flight");
					tg_gw_server_quiesce(srv);
					stopping = true;
					stop_at = tg_proxy_now_ms();
				} else if (sigs[i] == 'U') {
					if (tg_gw_audit_reopen(&gw->audit) != 0)
						tg_drv_error("gateway: cannot reopen the audit log");
				} else if (sigs[i] == 'H' && !stopping) {
					reload_config(gw, &pol, &sh);
					reload_tls(gw, srv, true);
					tg_gw_metrics_reload(&gw->metrics,
							     tg_reload_check(&pol, gw->holder, true));
					if (gw->shadow)
						tg_reload_check(&sh, gw->shadow, true);
				}
			}
		}
		if (stopping)
			continue;
		if (tg_gw_file_changed(&conf_stamp, config_path))
			reload_config(gw, &pol, &sh);
		reload_tls(gw, srv, false);
		if (tg_reload_check(&pol, gw->holder, false))
			tg_gw_metrics_reload(&gw->metrics, true);
		if (gw->shadow)
			tg_reload_check(&sh, gw->shadow, false);
	}
	tg_drv_error("gateway: stopped");
out:
	tg_gw_server_stop(srv);
	if (gw->conf)
		teardown(gw);
	tg_gw_http_global_cleanup();
	free(gw);
	if (sig_pipe[0] >= 0) {
		close(sig_pipe[0]);
		close(sig_pipe[1]);
		sig_pipe[0] = sig_pipe[1] = -1;
	}
	return rc;
}
