/*
 * config.c - the gateway's YAML configuration (docs/gateway.md).
 *
 * The file is read into a located tree by suite/yaml_tree.c (anchors,
 * aliases, tags, duplicate keys and second documents refused) and checked
 * here key by key. Every problem is reported, not only the first, as
 * FILE:LINE:COL: error: MESSAGE with the line, a caret, and a did-you-mean
 * for unknown keys; a configuration with any error is not used at all, so
 * `--check` and a reload see exactly what a start would.
 *
 * `auth` makes the gateway an OAuth resource server (oauth.c); it and the
 * development `identity` exclude each other, so a deployment cannot fall
 * back to a fixed identity by accident.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway.h"
#include "stages.h"	/* tg_read_file */
#include "yaml_tree.h"

#define TG_GW_MAX_CONF_BYTES (1024u * 1024)

static const char *const top_keys[] = {
	"listen", "resource", "policy", "shadow_policy", "audit", "audit_required", "deny_as", "origins",
	"session_key_file", "upstreams", "auth", "identity", "limits", "tls", "behind_proxy",
};
static const char *const tls_keys[] = {"cert_file", "key_file"};
static const char *const upstream_keys[] = {
	"name", "path", "url", "command", "headers", "bearer_token_file", "env",
};
/* Headers the gateway writes itself on an upstream request, or that belong
 * to one hop of HTTP: not the configuration's to set. */
static const char *const own_headers[] = {
	"Accept", "Connection", "Content-Length", "Content-Type", "Expect", "Host", "Keep-Alive",
	"Last-Event-ID", "MCP-Protocol-Version", "Mcp-Method", "Mcp-Name", "Mcp-Session-Id",
	"Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "User-Agent",
};
#define MAX_TOKEN_BYTES 8192
static const char *const auth_keys[] = {
	"issuer", "jwks_file", "jwks_uri", "claims", "scopes", "hs_secret_file", "headers",
	"step_up", "roles_prefix", "require_at_jwt", "clock_skew_s", "jwks_min_refresh_s",
	"jwks_wait_ms", "jwks_max_age_s", "introspection_endpoint", "introspection_client_id",
	"introspection_client_secret_file", "introspection_cache_s",
};
#define MAX_SECRET_BYTES 1024
static const char *const identity_keys[] = {"principal", "token", "context"};
static const char *const limit_keys[] = {
	"max_body", "max_header", "max_connections", "max_response", "connect_timeout_ms",
	"response_timeout_ms", "idle_timeout_s", "session_ttl_s", "stdio_sessions",
};

typedef struct reader {
	tg_ys y;
	tg_gw_conf *c;
	const char *dir;	/* the file's folder, "" for the current one */
	size_t dirlen;
} reader;

static char *dup_str(reader *r, const char *s)
{
	char *d = strdup(s);

	if (!d)
		tg_ys_oom(&r->y);
	return d;
}

/* A file name relative to the configuration's folder. */
static char *resolve(reader *r, const char *s)
{
	char *d;

	if (s[0] == '/' || r->dirlen == 0)
		return dup_str(r, s);
	d = malloc(r->dirlen + strlen(s) + 2);
	if (!d) {
		tg_ys_oom(&r->y);
		return NULL;
	}
	memcpy(d, r->dir, r->dirlen);
	d[r->dirlen] = '/';
	strcpy(d + r->dirlen + 1, s);
	return d;
}

static const char *nonempty(reader *r, const tg_yn *v, const char *key)
{
	const char *s = tg_ys_string(&r->y, v, "", key);

	if (s && !*s) {
		tg_ys_error(&r->y, v, "'%s' must not be empty", key);
		return NULL;
	}
	return s;
}

/* A non-empty http:// or https:// string (noun: "URI" or "URL" in the
 * message), or NULL (reported). */
static const char *http_uri(reader *r, const tg_yn *v, const char *key, const char *noun)
{
	const char *s = nonempty(r, v, key);

	if (s && strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) {
		tg_ys_error(&r->y, v, "'%s' must be an http:// or https:// %s", key, noun);
		return NULL;
	}
	return s;
}

/* An unsigned integer in [lo, hi]. */
static bool number(reader *r, const tg_yn *v, const char *key, unsigned long long lo,
		   unsigned long long hi, unsigned long long *out)
{
	unsigned long long n;
	char *end;

	if (!tg_ys_want(&r->y, v, TG_YT_INT, "", key))
		return false;
	errno = 0;
	n = strtoull(v->s, &end, 10);
	if (v->s[0] == '-' || errno || *end || n < lo || n > hi) {
		tg_ys_error(&r->y, v, "'%s' must be from %llu to %llu", key, lo, hi);
		return false;
	}
	*out = n;
	return true;
}

/* The list at v, not empty (else `empty` is said), and an array of
 * v->n + extra zeroed items of `size` bytes for it; NULL when not (said). */
static void *list_items(reader *r, const tg_yn *v, const char *key, const char *empty, size_t extra,
			size_t size)
{
	void *a;

	if (!tg_ys_want(&r->y, v, TG_YT_LIST, "", key))
		return NULL;
	if (v->n == 0) {
		tg_ys_error(&r->y, v, "%s", empty);
		return NULL;
	}
	if (!(a = calloc(v->n + extra, size)))
		tg_ys_oom(&r->y);
	return a;
}

static bool listen_loopback(const tg_gw_conf *c)
{
	struct sockaddr_storage ss;

	return tg_gw_numeric_host(c->listen_host, 0, &ss) &&
	       tg_gw_is_loopback((struct sockaddr *)&ss);
}

/* tls: HTTPS with a PEM certificate and key (read at start). */
static void tls_key(reader *r, const tg_yn *v)
{
	const tg_yn *cert, *key;
	const char *s;

	if (!tg_ys_want(&r->y, v, TG_YT_MAP, "", "tls"))
		return;
	tg_ys_check_keys(&r->y, v, tls_keys, TG_NKEYS(tls_keys), "tls");
	cert = tg_ys_require(&r->y, v, "cert_file", "tls");
	key = tg_ys_require(&r->y, v, "key_file", "tls");
	if (cert && key && (s = nonempty(r, cert, "cert_file"))) {
		r->c->tls_cert_file = resolve(r, s);
		if ((s = nonempty(r, key, "key_file")))
			r->c->tls_key_file = resolve(r, s);
	}
}

/* behind_proxy: the proxies' addresses, the only peers accepted. */
static void proxies_key(reader *r, const tg_yn *v)
{
	size_t i;

	r->c->proxies = list_items(r, v, "behind_proxy",
				   "'behind_proxy' names at least one proxy address", 0,
				   sizeof *r->c->proxies);
	for (i = 0; r->c->proxies && i < v->n; i++) {
		const char *s = tg_ys_string(&r->y, v->kids[i], "", "behind_proxy");

		if (s && !tg_gw_numeric_host(s, 0, &r->c->proxies[r->c->nproxies]))
			tg_ys_error(&r->y, v->kids[i],
				    "'%s' is not a numeric IPv4 or IPv6 address (no port)", s);
		else if (s)
			r->c->nproxies++;
	}
}

static void listen_key(reader *r, const tg_yn *v)
{
	const char *s = nonempty(r, v, "listen");
	const char *colon;
	unsigned long long port;
	char host[64], *end;
	struct sockaddr_storage addr;

	if (!s)
		return;
	colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof host) {
		tg_ys_error(&r->y, v, "'listen' must be HOST:PORT (for example 127.0.0.1:8080)");
		return;
	}
	if (s[0] == '[' && colon[-1] == ']') {
		memcpy(host, s + 1, (size_t)(colon - s) - 2);
		host[colon - s - 2] = '\0';
	} else {
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	errno = 0;
	port = strtoull(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port > 65535 || colon[1] == '-') {
		tg_ys_error(&r->y, v, "the port in 'listen' must be from 0 to 65535");
		return;
	}
	if (!tg_gw_numeric_host(host, 0, &addr)) {
		tg_ys_error(&r->y, v, "'listen' wants a numeric IPv4 or IPv6 address, not '%s'",
			    host);
		return;
	}
	r->c->listen_host = dup_str(r, host);
	r->c->listen_port = (unsigned short)port;
}

static void resource_key(reader *r, const tg_yn *v)
{
	const char *s = http_uri(r, v, "resource", "URI");
	size_t n;

	if (!s)
		return;
	if (strchr(s, '#') || strchr(s, '?')) {
		tg_ys_error(&r->y, v, "'resource' must not have a query or a fragment");
		return;
	}
	r->c->resource = dup_str(r, s);
	n = r->c->resource ? strlen(r->c->resource) : 0;
	while (n > 0 && r->c->resource[n - 1] == '/')
		r->c->resource[--n] = '\0';
}

static void origins_key(reader *r, const tg_yn *v)
{
	size_t i;

	if (!tg_ys_want(&r->y, v, TG_YT_LIST, "", "origins"))
		return;
	r->c->origins = calloc(v->n + 1, sizeof *r->c->origins);
	if (!r->c->origins) {
		tg_ys_oom(&r->y);
		return;
	}
	for (i = 0; i < v->n; i++) {
		const char *s = nonempty(r, v->kids[i], "origins");

		if (!s)
			continue;
		if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) {
			tg_ys_error(&r->y, v->kids[i],
				    "an origin is scheme://host[:port] (for example http://localhost)");
			continue;
		}
		if (strchr(s + 8, '/')) {
			tg_ys_error(&r->y, v->kids[i], "an origin has no path: '%s'", s);
			continue;
		}
		r->c->origins[r->c->norigins++] = dup_str(r, s);
	}
}

static void command_key(reader *r, tg_gw_upstream_conf *u, const tg_yn *v)
{
	size_t i;

	u->command = list_items(r, v, "command", "'command' needs at least the program", 1,
				sizeof *u->command);
	if (!u->command)
		return;
	for (i = 0; i < v->n; i++) {
		const char *s = tg_ys_string(&r->y, v->kids[i], "", "command");

		u->command[i] = dup_str(r, s ? s : "");
	}
}

/* s is an HTTP field name: one or more tchar (RFC 9110). */
static bool field_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("!#$%&'*+-.^_`|~", *s)))
			return false;
	return true;
}

/* A field value the gateway may send: no control characters but tab (a
 * CR or LF would start another header). */
static bool field_value(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return false;
	return true;
}

/* NULL-terminated vector append; false (reported) when out of memory. */
static bool strv_add(reader *r, char ***v, size_t *n, char *s)
{
	char **t = s ? realloc(*v, (*n + 2) * sizeof **v) : NULL;

	if (!t) {
		free(s);
		tg_ys_oom(&r->y);
		return false;
	}
	t[(*n)++] = s;
	t[*n] = NULL;
	*v = t;
	return true;
}

static char *joined(const char *a, const char *sep, const char *b)
{
	size_t na = strlen(a), ns = strlen(sep), nb = strlen(b);
	char *d = malloc(na + ns + nb + 1);

	if (d) {
		memcpy(d, a, na);
		memcpy(d + na, sep, ns);
		memcpy(d + na + ns, b, nb + 1);
	}
	return d;
}

/* The one bearer token in the file at path (at: where it is named): a
 * token68 (RFC 9110) on one line. NULL when not (reported). */
static char *bearer_token(reader *r, const tg_yn *at, const char *path)
{
	size_t n, i;
	char *buf = tg_read_file(path, MAX_TOKEN_BYTES + 2, &n), *line;

	if (!buf) {
		tg_ys_error(&r->y, at, "cannot read '%s': %s", path,
			    errno == EFBIG ? "longer than a bearer token may be" : strerror(errno));
		return NULL;
	}
	tg_gw_secret_mode(path);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	for (i = 0; i < n && (isalnum((unsigned char)buf[i]) || strchr("-._~+/", buf[i])); i++)
		;
	while (i > 0 && i < n && buf[i] == '=')
		i++;
	if (n == 0 || n > MAX_TOKEN_BYTES || i != n) {
		tg_ys_error(&r->y, at,
			    "'%s' does not hold one bearer token (token68 characters on one line, "
			    "at most %d bytes)",
			    path, MAX_TOKEN_BYTES);
		free(buf);
		return NULL;
	}
	line = joined("Authorization: Bearer", " ", buf);
	free(buf);
	return line;
}

/* headers and bearer_token_file of a url upstream: its header lines. */
static void upstream_headers(reader *r, tg_gw_upstream_conf *u, const tg_yn *h,
			     const tg_yn *bearer)
{
	size_t n = 0, i, k;
	const char *s;

	if (h && tg_ys_want(&r->y, h, TG_YT_MAP, "", "headers")) {
		for (i = 0; i + 1 < h->n; i += 2) {
			const char *name = h->kids[i]->s, *value;

			for (k = 0; k < TG_NKEYS(own_headers); k++)
				if (strcasecmp(name, own_headers[k]) == 0)
					break;
			if (!field_name(name)) {
				tg_ys_error(&r->y, h->kids[i], "'%s' is not a header name", name);
				continue;
			}
			if (k < TG_NKEYS(own_headers) || strncasecmp(name, "Mcp-Param-", 10) == 0) {
				tg_ys_error(&r->y, h->kids[i], "the gateway sets '%s' itself", name);
				continue;
			}
			if (bearer && strcasecmp(name, "Authorization") == 0) {
				tg_ys_error(&r->y, h->kids[i],
					    "'Authorization' is set by 'bearer_token_file' already");
				continue;
			}
			if (!(value = nonempty(r, h->kids[i + 1], name)))
				continue;
			if (!field_value(value)) {
				tg_ys_error(&r->y, h->kids[i + 1],
					    "a header value has no control characters");
				continue;
			}
			if (!strv_add(r, &u->headers, &n, joined(name, ": ", value)))
				return;
		}
	}
	if (bearer && (s = nonempty(r, bearer, "bearer_token_file"))) {
		char *path = resolve(r, s), *line = path ? bearer_token(r, bearer, path) : NULL;

		free(path);
		if (line)
			strv_add(r, &u->headers, &n, line);
	}
}

/* env of a stdio upstream: its NAME=value entries. */
static void upstream_env(reader *r, tg_gw_upstream_conf *u, const tg_yn *e)
{
	size_t n = 0, i;

	if (!tg_ys_want(&r->y, e, TG_YT_MAP, "", "env"))
		return;
	for (i = 0; i + 1 < e->n; i += 2) {
		const char *name = e->kids[i]->s, *p;
		const char *value = tg_ys_string(&r->y, e->kids[i + 1], "", name);

		for (p = name; *p && (isalnum((unsigned char)*p) || *p == '_'); p++)
			;
		if (!*name || *p || isdigit((unsigned char)*name)) {
			tg_ys_error(&r->y, e->kids[i],
				    "'%s' is not an environment variable name (letters, digits, _)",
				    name);
			continue;
		}
		if (value && !strv_add(r, &u->env, &n, joined(name, "=", value)))
			return;
	}
}

static void upstream(reader *r, tg_gw_upstream_conf *u, const tg_yn *m)
{
	const tg_yn *name, *path, *url, *cmd, *hdrs, *bearer, *env;
	const char *s;

	if (!tg_ys_want(&r->y, m, TG_YT_MAP, "", "upstreams[]"))
		return;
	tg_ys_check_keys(&r->y, m, upstream_keys, TG_NKEYS(upstream_keys), "an upstream");
	name = tg_ys_require(&r->y, m, "name", "an upstream");
	path = tg_ys_require(&r->y, m, "path", "an upstream");
	url = tg_ys_get(m, "url");
	cmd = tg_ys_get(m, "command");
	if (name && (s = nonempty(r, name, "name"))) {
		if (strlen(s) >= sizeof(((tg_gw_session *)0)->upstream))
			tg_ys_error(&r->y, name, "an upstream name has at most %zu bytes",
				    sizeof(((tg_gw_session *)0)->upstream) - 1);
		else
			u->name = dup_str(r, s);
	}
	if (path && (s = nonempty(r, path, "path"))) {
		if (s[0] != '/' || strchr(s, '?') || strchr(s, '#'))
			tg_ys_error(&r->y, path, "'path' must start with '/' and have no query");
		else if (strcmp(s, "/healthz") == 0 || strcmp(s, "/metrics") == 0 ||
			 strncmp(s, "/.well-known/", 13) == 0)
			tg_ys_error(&r->y, path, "'%s' is the gateway's own", s);
		else
			u->path = dup_str(r, s);
	}
	if (url && cmd) {
		tg_ys_error(&r->y, cmd, "an upstream has either 'url' or 'command', not both");
		return;
	}
	if (!url && !cmd) {
		tg_ys_error(&r->y, m, "an upstream needs 'url' (Streamable HTTP) or 'command' "
				      "(stdio)");
		return;
	}
	if (url && (s = http_uri(r, url, "url", "URL")))
		u->url = dup_str(r, s);
	if (cmd)
		command_key(r, u, cmd);
	hdrs = tg_ys_get(m, "headers");
	bearer = tg_ys_get(m, "bearer_token_file");
	env = tg_ys_get(m, "env");
	if (cmd && (hdrs || bearer))
		tg_ys_error(&r->y, hdrs ? hdrs : bearer,
			    "'%s' is for url upstreams; a stdio upstream takes 'env'",
			    hdrs ? "headers" : "bearer_token_file");
	else if (hdrs || bearer)
		upstream_headers(r, u, hdrs, bearer);
	if (url && env)
		tg_ys_error(&r->y, env, "'env' is for command (stdio) upstreams");
	else if (env)
		upstream_env(r, u, env);
}

static void upstreams_key(reader *r, const tg_yn *v)
{
	size_t i, j;

	r->c->upstreams = list_items(r, v, "upstreams", "'upstreams' needs at least one upstream",
				     0, sizeof *r->c->upstreams);
	if (!r->c->upstreams)
		return;
	r->c->nupstreams = v->n;
	for (i = 0; i < v->n; i++) {
		tg_gw_upstream_conf *u = &r->c->upstreams[i];

		upstream(r, u, v->kids[i]);
		for (j = 0; j < i; j++) {
			const tg_gw_upstream_conf *o = &r->c->upstreams[j];
			const tg_yn *at = v->kids[i];

			if (u->name && o->name && strcmp(u->name, o->name) == 0)
				tg_ys_error(&r->y, tg_ys_get(at, "name"),
					    "duplicate upstream name '%s'", u->name);
			if (u->path && o->path && strcmp(u->path, o->path) == 0)
				tg_ys_error(&r->y, tg_ys_get(at, "path"),
					    "duplicate upstream path '%s'", u->path);
		}
	}
}

/* A {KEY: STRING} map as a JSON object; NULL on errors (reported). */
static json_t *string_map(reader *r, const tg_yn *v, const char *what)
{
	json_t *o;
	size_t i;

	if (!tg_ys_want(&r->y, v, TG_YT_MAP, "", what))
		return NULL;
	o = json_object();
	if (!o) {
		tg_ys_oom(&r->y);
		return NULL;
	}
	for (i = 0; i + 1 < v->n; i += 2) {
		const char *s = nonempty(r, v->kids[i + 1], v->kids[i]->s);

		if (s)
			json_object_set_new(o, v->kids[i]->s, json_string(s));
	}
	return o;
}

void tg_gw_auth_free(tg_gw_auth_conf *a)
{
	size_t i;

	if (!a)
		return;
	free(a->issuer);
	free(a->jwks_file);
	free(a->jwks_uri);
	free(a->hs_secret_file);
	json_decref(a->claims);
	json_decref(a->headers);
	json_decref(a->step_up);
	for (i = 0; i < a->nscopes; i++)
		free(a->scopes[i]);
	free(a->scopes);
	free(a->scope_hint);
	free(a->roles_prefix);
	free(a->introspection_endpoint);
	free(a->introspection_client_id);
	if (a->introspection_secret)
		tg_gw_wipe(a->introspection_secret, strlen(a->introspection_secret));
	free(a->introspection_secret);
	free(a);
}

static unsigned auth_number(reader *r, const tg_yn *v, const char *key, unsigned lo, unsigned hi,
			    unsigned dflt)
{
	const tg_yn *f = tg_ys_get(v, key);
	unsigned long long n;

	return f && number(r, f, key, lo, hi, &n) ? (unsigned)n : dflt;
}

/* The client secret in the file at path (at: where it is named): one line
 * of printable ASCII. NULL when not (reported). */
static char *client_secret(reader *r, const tg_yn *at, const char *path)
{
	size_t n, i;
	char *buf = tg_read_file(path, MAX_SECRET_BYTES + 2, &n);

	if (!buf) {
		tg_ys_error(&r->y, at, "cannot read '%s': %s", path,
			    errno == EFBIG ? "longer than a client secret may be" : strerror(errno));
		return NULL;
	}
	tg_gw_secret_mode(path);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	for (i = 0; i < n && buf[i] >= 0x20 && buf[i] < 0x7f; i++)
		;
	if (n == 0 || n > MAX_SECRET_BYTES || i != n) {
		tg_ys_error(&r->y, at,
			    "'%s' does not hold one client secret (printable ASCII on one line, at "
			    "most %d bytes)", path, MAX_SECRET_BYTES);
		tg_gw_wipe(buf, n);
		free(buf);
		return NULL;
	}
	return buf;
}

/* auth's introspection_* keys (RFC 7662). */
static void introspection_keys(reader *r, const tg_yn *v, tg_gw_auth_conf *a)
{
	const tg_yn *f = tg_ys_get(v, "introspection_endpoint");
	const char *s;

	a->introspection_cache_s = auth_number(r, v, "introspection_cache_s", 1, 3600,
					       TG_GW_DEFAULT_INTROSPECTION_CACHE_S);
	if (!f) {
		static const char *const needs[] = {"introspection_client_id",
						    "introspection_client_secret_file",
						    "introspection_cache_s"};

		for (size_t i = 0; i < TG_NKEYS(needs); i++)
			if (tg_ys_get(v, needs[i]))
				tg_ys_error(&r->y, tg_ys_get(v, needs[i]),
					    "'%s' goes with 'introspection_endpoint'", needs[i]);
		return;
	}
	if ((s = http_uri(r, f, "introspection_endpoint", "URI")))
		a->introspection_endpoint = dup_str(r, s);
	if ((f = tg_ys_require(&r->y, v, "introspection_client_id", "auth")) &&
	    (s = nonempty(r, f, "introspection_client_id")))
		a->introspection_client_id = dup_str(r, s);
	if ((f = tg_ys_require(&r->y, v, "introspection_client_secret_file", "auth")) &&
	    (s = nonempty(r, f, "introspection_client_secret_file"))) {
		char *path = resolve(r, s);

		a->introspection_secret = path ? client_secret(r, f, path) : NULL;
		free(path);
	}
}

/* `auth` (docs/gateway.md, "Authorization"). */
static void auth_key(reader *r, const tg_yn *v)
{
	const tg_yn *f, *claims;
	const char *s;
	tg_gw_auth_conf *a;
	size_t i, hint = 0;

	if (!tg_ys_want(&r->y, v, TG_YT_MAP, "", "auth"))
		return;
	a = calloc(1, sizeof *a);
	if (!a) {
		tg_ys_oom(&r->y);
		return;
	}
	r->c->auth = a;
	tg_ys_check_keys(&r->y, v, auth_keys, TG_NKEYS(auth_keys), "auth");
	if ((f = tg_ys_require(&r->y, v, "issuer", "auth")) && (s = nonempty(r, f, "issuer")))
		a->issuer = dup_str(r, s);
	if (tg_ys_get(v, "jwks_file") && tg_ys_get(v, "jwks_uri"))
		tg_ys_error(&r->y, tg_ys_get(v, "jwks_uri"),
			    "auth has either 'jwks_file' or 'jwks_uri', not both");
	else if (!tg_ys_get(v, "jwks_file") && !tg_ys_get(v, "jwks_uri") &&
		 !tg_ys_get(v, "introspection_endpoint"))
		tg_ys_error(&r->y, v,
			    "auth needs 'jwks_file', 'jwks_uri' or 'introspection_endpoint'");
	if ((f = tg_ys_get(v, "jwks_file")) && (s = nonempty(r, f, "jwks_file")))
		a->jwks_file = resolve(r, s);
	if ((f = tg_ys_get(v, "jwks_uri")) && (s = http_uri(r, f, "jwks_uri", "URI")))
		a->jwks_uri = dup_str(r, s);
	if ((f = tg_ys_get(v, "hs_secret_file")) && !tg_ys_get(v, "jwks_file") &&
	    !tg_ys_get(v, "jwks_uri"))
		tg_ys_error(&r->y, f, "'hs_secret_file' goes with 'jwks_file' or 'jwks_uri' (without "
			    "a key set every token is introspected)");
	if ((f = tg_ys_get(v, "hs_secret_file")) && (s = nonempty(r, f, "hs_secret_file")))
		a->hs_secret_file = resolve(r, s);
	if ((f = tg_ys_get(v, "roles_prefix")) && (s = nonempty(r, f, "roles_prefix")))
		a->roles_prefix = dup_str(r, s);
	if ((f = tg_ys_get(v, "require_at_jwt")) &&
	    tg_ys_want(&r->y, f, TG_YT_BOOL, "", "require_at_jwt"))
		a->require_at_jwt = strcmp(f->s, "true") == 0;
	a->clock_skew_s = auth_number(r, v, "clock_skew_s", 0, 600, TG_GW_DEFAULT_CLOCK_SKEW_S);
	a->jwks_min_refresh_s =
		auth_number(r, v, "jwks_min_refresh_s", 1, 86400, TG_GW_DEFAULT_JWKS_MIN_REFRESH_S);
	a->jwks_wait_ms = auth_number(r, v, "jwks_wait_ms", 0, 30000, TG_GW_DEFAULT_JWKS_WAIT_MS);
	a->jwks_max_age_s =
		auth_number(r, v, "jwks_max_age_s", 1, 86400, TG_GW_DEFAULT_JWKS_MAX_AGE_S);
	introspection_keys(r, v, a);
	if ((f = tg_ys_get(v, "scopes")) && tg_ys_want(&r->y, f, TG_YT_LIST, "", "scopes")) {
		a->scopes = calloc(f->n + 1, sizeof *a->scopes);
		if (!a->scopes)
			tg_ys_oom(&r->y);
		for (i = 0; a->scopes && i < f->n; i++)
			if ((s = nonempty(r, f->kids[i], "scopes"))) {
				if (strchr(s, ' ') || strchr(s, '"') || strchr(s, '\\'))
					tg_ys_error(&r->y, f->kids[i],
						    "a scope has no spaces, quotes or backslashes");
				a->scopes[a->nscopes++] = dup_str(r, s);
				hint += strlen(s) + 1;
			}
		if (hint && (a->scope_hint = calloc(1, hint)))
			for (i = 0; i < a->nscopes; i++)
				if (a->scopes[i])
					strcat(strcat(a->scope_hint, i ? " " : ""), a->scopes[i]);
	}
	claims = tg_ys_get(v, "claims");
	if (claims && (a->claims = string_map(r, claims, "claims"))) {
		for (i = 0; i + 1 < claims->n; i += 2) {
			const tg_yn *k = claims->kids[i];

			if (strncmp(k->s, "principal.", 10) != 0 && strncmp(k->s, "token.", 6) != 0 &&
			    strncmp(k->s, "context.", 8) != 0)
				tg_ys_error(&r->y, k,
					    "a claim maps to principal.*, token.* or context.*, "
					    "not '%s'",
					    k->s);
		}
	}
	if ((f = tg_ys_get(v, "headers")))
		a->headers = string_map(r, f, "headers");
	if ((f = tg_ys_get(v, "step_up")) && tg_ys_want(&r->y, f, TG_YT_MAP, "", "step_up")) {
		/* rule id -> the scopes that would allow what it denies */
		a->step_up = json_object();
		for (i = 0; a->step_up && i + 1 < f->n; i += 2) {
			const tg_yn *l = f->kids[i + 1];
			json_t *list = json_array();
			size_t j;

			if (!list || !tg_ys_want(&r->y, l, TG_YT_LIST, "step_up.", f->kids[i]->s)) {
				json_decref(list);
				continue;
			}
			if (l->n == 0)
				tg_ys_error(&r->y, l, "a step_up entry names at least one scope");
			for (j = 0; j < l->n; j++)
				if ((s = nonempty(r, l->kids[j], "step_up"))) {
					if (strchr(s, ' ') || strchr(s, '"') || strchr(s, '\\'))
						tg_ys_error(&r->y, l->kids[j],
							    "a scope has no spaces, quotes or "
							    "backslashes");
					json_array_append_new(list, json_string(s));
				}
			json_object_set_new(a->step_up, f->kids[i]->s, list);
		}
	}
	r->c->has_auth = true;
}

static void identity_key(reader *r, const tg_yn *v)
{
	const tg_yn *p, *pid;
	size_t i;

	if (!tg_ys_want(&r->y, v, TG_YT_MAP, "", "identity"))
		return;
	tg_ys_check_keys(&r->y, v, identity_keys, TG_NKEYS(identity_keys), "identity");
	for (i = 0; i + 1 < v->n; i += 2)
		tg_ys_want(&r->y, v->kids[i + 1], TG_YT_MAP, "identity.", v->kids[i]->s);
	p = tg_ys_require(&r->y, v, "principal", "identity");
	if (p && p->kind == TG_YN_MAP) {
		pid = tg_ys_require(&r->y, p, "id", "identity.principal");
		if (pid && nonempty(r, pid, "id") &&
		    strlen(pid->s) >= sizeof(((tg_gw_session *)0)->principal))
			tg_ys_error(&r->y, pid, "a principal id has at most %zu bytes",
				    sizeof(((tg_gw_session *)0)->principal) - 1);
	}
	r->c->identity = tg_ys_to_json(&r->y, v);
}

typedef struct limit_def {
	const char *key;
	unsigned long long lo, hi;
	size_t off;
	bool is_size;
} limit_def;

#define LIM(k, lo, hi, field, sz) {k, lo, hi, offsetof(tg_gw_limits, field), sz}
static const limit_def limit_defs[] = {
	LIM("max_body", 64, 1ull << 30, max_body, true),
	LIM("max_header", 1024, 1024 * 1024, max_header, true),
	LIM("max_connections", 1, 65536, max_connections, false),
	LIM("max_response", 1024, 1ull << 31, max_response, true),
	LIM("connect_timeout_ms", 1, 600000, connect_timeout_ms, false),
	LIM("response_timeout_ms", 1, 3600000, response_timeout_ms, false),
	LIM("idle_timeout_s", 1, 86400, idle_timeout_s, false),
	LIM("session_ttl_s", 1, 30u * 86400, session_ttl_s, false),
	LIM("stdio_sessions", 1, 4096, stdio_sessions, false),
};

static void limits_key(reader *r, const tg_yn *v)
{
	size_t i;

	if (!tg_ys_want(&r->y, v, TG_YT_MAP, "", "limits"))
		return;
	tg_ys_check_keys(&r->y, v, limit_keys, TG_NKEYS(limit_keys), "limits");
	for (i = 0; i < TG_NKEYS(limit_defs); i++) {
		const tg_yn *f = tg_ys_get(v, limit_defs[i].key);
		unsigned long long n;
		char *field = (char *)&r->c->limits + limit_defs[i].off;

		if (!f || !number(r, f, limit_defs[i].key, limit_defs[i].lo, limit_defs[i].hi, &n))
			continue;
		if (limit_defs[i].is_size)
			*(size_t *)(void *)field = (size_t)n;
		else
			*(unsigned *)(void *)field = (unsigned)n;
	}
}

static void conf_root(reader *r, const tg_yn *root)
{
	tg_gw_conf *c = r->c;
	const tg_yn *v;
	const char *s;

	if (root->kind != TG_YN_MAP) {
		tg_ys_error(&r->y, root, "a gateway configuration is a mapping, not %s",
			    tg_ys_type_name(root));
		return;
	}
	tg_ys_check_keys(&r->y, root, top_keys, TG_NKEYS(top_keys), "the gateway configuration");
	if ((v = tg_ys_require(&r->y, root, "listen", "the gateway configuration")))
		listen_key(r, v);
	if ((v = tg_ys_require(&r->y, root, "resource", "the gateway configuration")))
		resource_key(r, v);
	if ((v = tg_ys_require(&r->y, root, "policy", "the gateway configuration")) &&
	    (s = nonempty(r, v, "policy")))
		c->policy = resolve(r, s);
	if ((v = tg_ys_get(root, "shadow_policy")) && (s = nonempty(r, v, "shadow_policy")))
		c->shadow_policy = resolve(r, s);
	if ((v = tg_ys_require(&r->y, root, "audit", "the gateway configuration")) &&
	    (s = nonempty(r, v, "audit")))
		c->audit = strcmp(s, "-") == 0 ? dup_str(r, s) : resolve(r, s);
	if ((v = tg_ys_get(root, "audit_required")) &&
	    tg_ys_want(&r->y, v, TG_YT_BOOL, "", "audit_required"))
		c->audit_required = strcmp(v->s, "true") == 0;
	if ((v = tg_ys_get(root, "deny_as")) && (s = nonempty(r, v, "deny_as"))) {
		if (strcmp(s, "result") == 0)
			c->deny_as = TG_MCP_DENY_AS_RESULT;
		else if (strcmp(s, "error") == 0)
			c->deny_as = TG_MCP_DENY_AS_ERROR;
		else
			tg_ys_error(&r->y, v, "deny_as is 'result' or 'error', not '%s'", s);
	}
	if ((v = tg_ys_get(root, "origins")))
		origins_key(r, v);
	if ((v = tg_ys_get(root, "session_key_file")) && (s = nonempty(r, v, "session_key_file")))
		c->session_key_file = resolve(r, s);
	if ((v = tg_ys_require(&r->y, root, "upstreams", "the gateway configuration")))
		upstreams_key(r, v);
	if ((v = tg_ys_get(root, "limits")))
		limits_key(r, v);
	if ((v = tg_ys_get(root, "identity")))
		identity_key(r, v);
	if ((v = tg_ys_get(root, "auth")))
		auth_key(r, v);
	if ((v = tg_ys_get(root, "tls")))
		tls_key(r, v);
	if ((v = tg_ys_get(root, "behind_proxy")))
		proxies_key(r, v);
	if (c->has_auth && c->identity && r->y.nerrors == 0)
		tg_ys_error(&r->y, tg_ys_get(root, "identity"),
			    "'identity' (a fixed development identity) and 'auth' exclude each "
			    "other; remove one");
	if (!c->has_auth && !c->identity && r->y.nerrors == 0)
		tg_ys_error(&r->y, root, "the gateway needs 'auth' (OAuth bearer tokens) or "
					 "'identity' (a fixed development identity) to know who is "
					 "calling");
	if (c->identity && c->listen_host && !listen_loopback(c) && r->y.nerrors == 0)
		tg_ys_error(&r->y, tg_ys_get(root, "listen"),
			    "a fixed 'identity' is for development: 'listen' must be a "
			    "loopback address (127.0.0.1 or ::1)");
	if (c->listen_host && !c->tls_cert_file && !c->proxies && !listen_loopback(c) &&
	    r->y.nerrors == 0)
		tg_ys_error(&r->y, tg_ys_get(root, "listen"),
			    "plain HTTP on a non-loopback address would carry bearer tokens in the "
			    "clear: give 'tls' (cert_file, key_file), or 'behind_proxy' (the "
			    "addresses of the TLS-terminating proxy in front)");
}

tg_gw_conf *tg_gw_conf_parse(const char *path, const char *text, size_t len, FILE *err)
{
	tg_arena arena;
	reader r;
	tg_yn *root;
	const char *slash = strrchr(path, '/');

	memset(&r, 0, sizeof r);
	tg_arena_init(&arena);
	r.c = calloc(1, sizeof *r.c);
	r.y.path = path;
	r.y.text = text;
	r.y.len = len;
	r.y.err = err;
	r.y.arena = &arena;
	r.y.what = "a gateway configuration";
	r.dir = path;
	r.dirlen = slash ? (size_t)(slash - path) : 0;
	if (slash == path)
		r.dirlen = 0, r.dir = "";
	if (!r.c) {
		fprintf(err, "%s: error: out of memory\n", path);
		tg_arena_free(&arena);
		return NULL;
	}
	r.c->audit_required = true;
	r.c->limits = (tg_gw_limits){
		TG_GW_DEFAULT_MAX_BODY,	  TG_GW_DEFAULT_MAX_HEADER,  TG_GW_DEFAULT_MAX_CONNECTIONS,
		TG_GW_DEFAULT_MAX_RESPONSE, TG_GW_DEFAULT_CONNECT_MS,  TG_GW_DEFAULT_RESPONSE_MS,
		TG_GW_DEFAULT_IDLE_S,	  TG_GW_DEFAULT_SESSION_TTL_S, TG_GW_DEFAULT_STDIO_SESSIONS,
	};
	r.c->file = strdup(path);
	if (!r.c->file)
		tg_ys_oom(&r.y);
	root = r.y.oom ? NULL : tg_ys_read_tree(&r.y);
	if (!root && r.y.nerrors == 0) {
		static const tg_yn empty = {.kind = TG_YN_BAD, .loc = {1, 1}};

		tg_ys_error(&r.y, &empty, "empty configuration (expected 'listen', 'resource', "
					  "'policy', 'audit' and 'upstreams')");
	}
	if (root)
		conf_root(&r, root);
	tg_ys_flush(&r.y);
	tg_arena_free(&arena);
	if (r.y.nerrors) {
		tg_gw_conf_free(r.c);
		return NULL;
	}
	return r.c;
}

tg_gw_conf *tg_gw_conf_load(const char *path, FILE *err)
{
	size_t len;
	char *buf = tg_read_file(path, TG_GW_MAX_CONF_BYTES, &len);
	tg_gw_conf *c;

	if (!buf) {
		fprintf(err, "toolgate: cannot read '%s': %s\n", path,
			errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
		return NULL;
	}
	c = tg_gw_conf_parse(path, buf, len, err);
	free(buf);
	return c;
}

static void free_strv(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void tg_gw_conf_free(tg_gw_conf *c)
{
	size_t i;

	if (!c)
		return;
	free(c->file);
	free(c->listen_host);
	free(c->resource);
	free(c->policy);
	free(c->shadow_policy);
	free(c->audit);
	for (i = 0; i < c->norigins; i++)
		free(c->origins[i]);
	free(c->origins);
	free(c->session_key_file);
	free(c->tls_cert_file);
	free(c->tls_key_file);
	free(c->proxies);
	for (i = 0; i < c->nupstreams; i++) {
		free(c->upstreams[i].name);
		free(c->upstreams[i].path);
		free(c->upstreams[i].url);
		free_strv(c->upstreams[i].command);
		free_strv(c->upstreams[i].headers);
		free_strv(c->upstreams[i].env);
	}
	free(c->upstreams);
	json_decref(c->identity);
	if (!c->auth_borrowed)
		tg_gw_auth_free(c->auth);
	free(c);
}

const tg_gw_upstream_conf *tg_gw_conf_route(const tg_gw_conf *c, const char *path)
{
	size_t i;

	for (i = 0; i < c->nupstreams; i++)
		if (c->upstreams[i].path && strcmp(c->upstreams[i].path, path) == 0)
			return &c->upstreams[i];
	return NULL;
}
