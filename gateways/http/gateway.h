/*
 * gateway.h - the pieces of `toolgate gateway`, an MCP Streamable HTTP
 * gateway (protocol versions 2025-06-18, 2025-11-25 and the stateless
 * 2026-07-28) that enforces a
 * policy in front of HTTP and stdio MCP servers (docs/gateway.md).
 *
 * One job per file:
 *
 *   config.c          the YAML configuration, checked with FILE:LINE:COL errors
 *   session.c         sealed session ids: upstream session + principal + expiry, HMAC'd
 *   checks.c          per-request header checks (Origin, content types, versions)
 *   identity.c        who the client is: a pluggable step (the config's fixed identity)
 *   oauth.c           the OAuth resource server step: bearer token -> identity
 *   jwt.c             validating a JWT access token (libjose verifies signatures)
 *   jwks.c            the issuer's keys: a file, or jwks_uri fetched off-thread
 *   jwtcache.c        validated tokens remembered until they expire
 *   claims.c          a token's claims (and named headers) -> principal/token/context
 *   prm.c             RFC 9728 metadata and WWW-Authenticate challenges
 *   audit.c           the audit sink: one line per decision plus "upstream", reopenable
 *   metrics.c         counters and the Prometheus text of /metrics
 *   sse.c             an incremental text/event-stream splitter
 *   stateless.c       2026-07-28's Mcp-Method/Mcp-Name/Mcp-Param-* headers against the body
 *   tasks.c           task ids sealed to the principal that created them
 *   exchange.c        one client message: decide, forward, filter the answer
 *   upstream_http.c   a request to a Streamable HTTP upstream (libcurl)
 *   upstream_stdio.c  stdio upstreams: one child per session (gateways/stdio's spawn)
 *   server.c          the HTTP side (libmicrohttpd): routing, limits, responses
 *   loop.c            the event loop: libmicrohttpd, libcurl's sockets and hang-ups on one epoll
 *   relay.c           worker threads for requests that must block, streams relayed in turns
 *   run.c             the process: signals, hot reload, graceful shutdown
 *
 * What a message means and whether it may pass is libtoolgate-mcp's job
 * (mcp/adapter.h), shared with the stdio proxy, so both give the same
 * answers. HTTP is parsed by libmicrohttpd and libcurl only.
 *
 * Threads: libmicrohttpd serves every connection from one epoll thread,
 * and a request's exchange runs on a pooled worker thread while its
 * connection is suspended (relay.c); everything a request touches is either immutable while it runs (a configuration
 * reference, a policy reference from a holder) or behind a mutex (the
 * tool-annotation caches, stdio sessions, the audit sink, metrics).
 */
#ifndef TG_GATEWAY_H
#define TG_GATEWAY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "adapter.h"
#include "proxy.h"
#include "toolgate/toolgate.h"

/* ---- config.c ---------------------------------------------------------- */

#define TG_GW_DEFAULT_MAX_BODY		(1024u * 1024)	/* DESIGN: request body 1 MiB */
#define TG_GW_DEFAULT_MAX_HEADER	(16u * 1024)
#define TG_GW_DEFAULT_MAX_CONNECTIONS	256u
#define TG_GW_DEFAULT_MAX_RESPONSE	(16u * 1024 * 1024)
#define TG_GW_DEFAULT_CONNECT_MS	5000u
#define TG_GW_DEFAULT_RESPONSE_MS	60000u
#define TG_GW_DEFAULT_IDLE_S		300u
#define TG_GW_DEFAULT_SESSION_TTL_S	86400u
#define TG_GW_DEFAULT_STDIO_SESSIONS	16u

typedef struct tg_gw_upstream_conf {
	char *name;		/* the request's `server` */
	char *path;		/* where clients connect */
	char *url;		/* Streamable HTTP upstream, or NULL */
	char **command;		/* stdio upstream argv (NULL-terminated), or NULL */
	/* The upstream's own credentials and settings, from the configuration
	 * (never the client's): header lines "Name: value" sent on every
	 * request to a url upstream (headers, bearer_token_file), and
	 * "NAME=value" entries added to a stdio upstream's environment (env).
	 * NULL-terminated, or NULL. */
	char **headers;
	char **env;
} tg_gw_upstream_conf;

typedef struct tg_gw_limits {
	size_t max_body;		/* POST body bytes */
	size_t max_header;		/* request line + headers bytes */
	unsigned max_connections;
	size_t max_response;		/* one upstream JSON body or SSE event held for filtering */
	unsigned connect_timeout_ms;	/* reaching an upstream */
	unsigned response_timeout_ms;	/* an upstream's answer to start, or a JSON answer to end */
	unsigned idle_timeout_s;	/* a client connection with nothing to do */
	unsigned session_ttl_s;		/* a session id's lifetime */
	unsigned stdio_sessions;	/* children per stdio upstream */
} tg_gw_limits;

#define TG_GW_DEFAULT_CLOCK_SKEW_S	60u
#define TG_GW_DEFAULT_JWKS_MIN_REFRESH_S 30u
#define TG_GW_DEFAULT_JWKS_WAIT_MS	2000u
#define TG_GW_DEFAULT_JWKS_MAX_AGE_S	300u
#define TG_GW_DEFAULT_INTROSPECTION_CACHE_S 60u

/* `auth`: the gateway as an OAuth 2.1 resource server (docs/gateway.md,
 * "Authorization"). */
typedef struct tg_gw_auth_conf {
	char *issuer;
	char *jwks_file;		/* resolved path, or NULL */
	char *jwks_uri;			/* or NULL */
	char *hs_secret_file;		/* resolved path: HS256/384/512 allowed, or NULL */
	json_t *claims;			/* {"TARGET":"CLAIM",...} over the defaults (claims.c) */
	json_t *headers;		/* {"NAME":"Header-Name"}: context.NAME */
	json_t *step_up;		/* {"RULE-ID":["scope",...]}: a denial by it is 403 */
	char **scopes;			/* scopes_supported */
	size_t nscopes;
	char *scope_hint;		/* the scopes joined with ' ' for a 401's scope="", or NULL */
	char *roles_prefix;		/* principal.roles keeps only these, or NULL */
	bool require_at_jwt;		/* typ must be at+jwt (RFC 9068) */
	unsigned clock_skew_s;
	unsigned jwks_min_refresh_s;	/* at most one key set fetch per this */
	unsigned jwks_wait_ms;		/* a request waits this long for a refresh */
	unsigned jwks_max_age_s;	/* a key set's lifetime without Cache-Control */
	/* RFC 7662: tokens that are not JWTs (or all of them, without a key
	 * set) are asked about at this endpoint, as this client */
	char *introspection_endpoint;	/* or NULL */
	char *introspection_client_id;
	char *introspection_secret;	/* read from introspection_client_secret_file */
	unsigned introspection_cache_s;	/* an active answer is trusted this long */
} tg_gw_auth_conf;

typedef struct tg_gw_conf {
	char *file;			/* the configuration's path */
	char *listen_host;		/* numeric address */
	unsigned short listen_port;
	char *resource;			/* base URI, without a trailing '/' */
	char *policy, *shadow_policy;	/* paths, resolved against the file's folder */
	char *audit;			/* a path, or "-" for stderr */
	bool audit_required;		/* deny when the audit line cannot be written */
	tg_mcp_deny_as deny_as;		/* how a denied tools/call is answered */
	char **origins;
	size_t norigins;
	char *session_key_file;
	tg_gw_upstream_conf *upstreams;
	size_t nupstreams;
	bool has_auth;
	tg_gw_auth_conf *auth;		/* or NULL */
	bool auth_borrowed;		/* auth is the start configuration's (a reload) */
	json_t *identity;		/* {"principal":{...},"token":{...},"context":{...}} or NULL */
	tg_gw_limits limits;
	char *tls_cert_file;		/* HTTPS: PEM certificate (chain), or NULL */
	char *tls_key_file;		/* and its PEM private key */
	/* behind_proxy: the addresses of the TLS-terminating proxies in front,
	 * the only peers a connection is accepted from (none: any peer) */
	struct sockaddr_storage *proxies;
	size_t nproxies;
} tg_gw_conf;

/* Reads and checks a configuration. Every problem is printed to `err` as
 * FILE:LINE:COL: error: MESSAGE with the line and a caret. Returns the
 * configuration (tg_gw_conf_free) or NULL. Files it names are resolved
 * against the configuration's folder; of them only bearer_token_file is
 * read here (its token is part of the configuration). */
tg_gw_conf *tg_gw_conf_load(const char *path, FILE *err);
tg_gw_conf *tg_gw_conf_parse(const char *path, const char *text, size_t len, FILE *err);
void tg_gw_conf_free(tg_gw_conf *c);
/* An auth section alone (a configuration frees its own unless borrowed). */
void tg_gw_auth_free(tg_gw_auth_conf *a);
/* The upstream serving an exact request path, or NULL. */
const tg_gw_upstream_conf *tg_gw_conf_route(const tg_gw_conf *c, const char *path);

/* ---- session.c --------------------------------------------------------- */

#define TG_GW_KEY_MIN 32	/* bytes of key material, at least */
#define TG_GW_SESSION_MAX 1024	/* characters of a sealed session id */

typedef struct tg_gw_key {
	unsigned char bytes[256];
	size_t len;
} tg_gw_key;

/* Reads a key file (raw bytes, at least TG_GW_KEY_MIN, surrounding
 * whitespace kept as key material). 0, or -1 with a message naming it as
 * `what` ("session key"). */
int tg_gw_key_load(tg_gw_key *k, const char *what, const char *path, char *err, size_t errlen);
/* Says so (a warning on stderr) when the secret file at path is open to
 * other users. */
void tg_gw_secret_mode(const char *path);
/* Overwrites len bytes at p (a secret's last use) in a way the compiler
 * keeps even when the memory is freed next; p may be NULL. */
void tg_gw_wipe(void *p, size_t len);
/* A random key for a gateway without session_key_file. 0 or -1. */
int tg_gw_key_random(tg_gw_key *k);

typedef struct tg_gw_session {
	char upstream[64];		/* the upstream's name */
	char principal[256];		/* principal.id */
	char up_session[512];		/* the upstream's own session id */
	int64_t expires;		/* unix seconds */
} tg_gw_session;

/* Seals s into base64url(payload || HMAC-SHA256(key, payload)) in out
 * (at most TG_GW_SESSION_MAX + 1 bytes). 0, or -1 when it does not fit. */
int tg_gw_session_seal(const tg_gw_key *k, const tg_gw_session *s, char *out, size_t outlen);

typedef enum tg_gw_unseal {
	TG_GW_SESSION_OK,
	TG_GW_SESSION_MALFORMED,	/* not one of ours, or tampered with */
	TG_GW_SESSION_EXPIRED,
	TG_GW_SESSION_OTHER		/* sealed for another principal or upstream */
} tg_gw_unseal;

/* Checks a presented id: MAC (constant time), expiry against now, and that
 * it was sealed for this upstream and principal. On OK fills *s. */
tg_gw_unseal tg_gw_session_open(const tg_gw_key *k, const char *text, const char *upstream,
				const char *principal, int64_t now, tg_gw_session *s);

/* ---- tasks.c ------------------------------------------------------------ */

/* True for tasks/... methods, whose params name a task. */
bool tg_gw_is_task_method(const char *method);
/* Seals an upstream task id to principal and upstream until expires. 0,
 * or -1 when it does not fit. */
int tg_gw_task_seal(const tg_gw_key *k, const char *upstream, const char *principal,
		    const char *task, int64_t expires, char *out, size_t outlen);
/* Opens a sealed task id presented by principal at upstream; on OK the
 * upstream's id is in task. */
tg_gw_unseal tg_gw_task_open(const tg_gw_key *k, const char *text, const char *upstream,
			     const char *principal, int64_t now, char *task, size_t tasklen);
/* Replaces every task id of a server message with a sealed one, in place.
 * Returns how many, or -1 when one could not be sealed (drop the message). */
long tg_gw_tasks_seal(const tg_gw_key *k, const char *upstream, const char *principal,
		      int64_t expires, json_t *msg);
/* Replaces every sealed task id of a client request's params with the
 * upstream's, in place. Returns how many, or -1 when one is not this
 * principal's (refuse the request). */
long tg_gw_tasks_open(const tg_gw_key *k, const char *upstream, const char *principal,
		      int64_t now, json_t *msg);

/* ---- checks.c ---------------------------------------------------------- */

/* True when the Origin may call: absent, or exactly one of the allowed. */
bool tg_gw_origin_ok(const tg_gw_conf *c, const char *origin);
/* True for application/json, parameters (charset) allowed, any case. */
bool tg_gw_is_json_type(const char *content_type);
/* True for an upstream's text/event-stream answer (its Content-Type starts
 * so, any case). */
bool tg_gw_is_sse_type(const char *content_type);
/* True when an Accept header lists the media type (or a wildcard for it). */
bool tg_gw_accepts(const char *accept, const char *type);
/* True when MCP-Protocol-Version is absent or a version this gateway
 * speaks (2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28). */
bool tg_gw_version_ok(const char *version);
/* True when the peer is a loopback address. */
bool tg_gw_is_loopback(const struct sockaddr *sa);
/* A numeric IPv4 or IPv6 address (no port) into ss, with port: false when
 * s is not one. */
bool tg_gw_numeric_host(const char *s, unsigned short port, struct sockaddr_storage *ss);
/* Whether two addresses are the same host (port aside). */
bool tg_gw_same_host(const struct sockaddr *a, const struct sockaddr *b);

/* ---- clock.c ------------------------------------------------------ */

/* *ts = the CLOCK_REALTIME instant ms from now, for pthread_cond_timedwait. */
void tg_gw_deadline(struct timespec *ts, int64_t ms);

/* ---- identity.c -------------------------------------------------------- */

/* What an identity step sees of a request. */
typedef struct tg_gw_peer {
	const struct sockaddr *addr;	/* the client's address */
	const char *authorization;	/* the Authorization header, or NULL */
	const char *resource;		/* the protected resource URI asked for */
	const tg_gw_conf *conf;		/* the configuration serving the request */
	const tg_gw_upstream_conf *uc;	/* the upstream asked for */
	/* A request header by name (NULL when absent). */
	const char *(*header)(void *ud, const char *name);
	void *header_ud;
	bool no_wait;			/* on the event loop: return TG_GW_WOULD_WAIT instead of waiting */
} tg_gw_peer;

/* What an identity step says besides the identity. */
typedef struct tg_gw_who {
	char why[256];			/* a refusal's message */
	char challenge[1536];		/* WWW-Authenticate of a refusal, "" none */
	json_t *audit;			/* {"iss","client_id","jti"|"token_sha256"} or NULL */
} tg_gw_who;

/*
 * Who is calling. A step fills `out` (initialized, principal.id a string)
 * and returns 0, or returns the HTTP status to refuse with (401, 403) with
 * who->why (and who->challenge). who->audit, when set, is the caller's to
 * free. With peer->no_wait, a step that would have to wait (for a key being
 * fetched) returns TG_GW_WOULD_WAIT instead, having decided nothing.
 */
#define TG_GW_WOULD_WAIT 1
typedef struct tg_gw_identity_step {
	int (*identify)(void *self, const tg_gw_peer *peer, tg_mcp_identity *out, tg_gw_who *who);
	void (*destroy)(void *self);
	void *self;
} tg_gw_identity_step;

/* The configuration's fixed identity: loopback clients only. 0 or -1 with
 * a message. */
int tg_gw_identity_fixed(const json_t *identity, tg_gw_identity_step *out, char *err,
			 size_t errlen);
void tg_gw_identity_destroy(tg_gw_identity_step *s);

/* ---- oauth.c, jwt.c, jwks.c, claims.c, prm.c ---------------------------- */

#define TG_GW_JWT_MAX		8192u	/* bytes of a token */
#define TG_GW_JWT_MAX_DEPTH	8	/* nesting of a token's header or claims */

/* The OAuth step for `auth` (which must outlive it). fixed_time > 0 is the
 * clock (tests). 0, or -1 with a message (unreadable keys or secret). */
int tg_gw_identity_oauth(const tg_gw_auth_conf *a, int64_t fixed_time, tg_gw_identity_step *out,
			 char *err, size_t errlen);

typedef struct tg_gw_jwks tg_gw_jwks;
/* Loads jwks_file now, or starts the jwks_uri refresher. NULL with a
 * message. */
tg_gw_jwks *tg_gw_jwks_create(const tg_gw_auth_conf *a, char *err, size_t errlen);
void tg_gw_jwks_free(tg_gw_jwks *j);
/* The key with this kid (any kid when NULL, if exactly one fits) for which
 * fits() holds, as a reference (json_decref); NULL when none. An unknown
 * kid may wait up to jwks_wait_ms for a refresh; with would_wait, it sets
 * *would_wait instead. */
json_t *tg_gw_jwks_key(tg_gw_jwks *j, const char *kid, bool (*fits)(const json_t *, void *),
		       void *ud, bool *would_wait);
void tg_gw_jwks_stats(tg_gw_jwks *j, unsigned long *fetches, unsigned long *failures);
/* Bumped by every fetch of the key set that ended (0 for a jwks_file). */
unsigned long tg_gw_jwks_generation(tg_gw_jwks *j);

/* Validated tokens remembered until exp + clock skew, under the key set
 * generation they were validated with (jwtcache.c). A NULL cache
 * remembers nothing. */
typedef struct tg_gw_jwt_cache tg_gw_jwt_cache;
tg_gw_jwt_cache *tg_gw_jwt_cache_new(size_t slots);
void tg_gw_jwt_cache_free(tg_gw_jwt_cache *c);
/* The claims (a reference) remembered for token at resource, valid at now
 * under generation gen, or NULL. */
json_t *tg_gw_jwt_cache_get(tg_gw_jwt_cache *c, const char *resource, const char *token,
			    size_t len, int64_t now, unsigned long gen);
void tg_gw_jwt_cache_put(tg_gw_jwt_cache *c, const char *resource, const char *token,
			 size_t len, const json_t *claims, int64_t until, unsigned long gen);
/* key's OpenSSL object (EVP_PKEY_free), built when its set arrived; key is
 * what tg_gw_jwks_key returned. NULL when OpenSSL cannot use the key. */
EVP_PKEY *tg_gw_jwks_pkey(tg_gw_jwks *j, const json_t *key);
/* Checks a JWS signature (sig: base64url, as in the token) over input with
 * pk for alg RS256, PS256 or ES256, by OpenSSL (EVP_DigestVerify). RSA keys
 * under 2048 bits are refused (RFC 7518 3.3), as libjose refuses them. */
bool tg_gw_jws_verify(EVP_PKEY *pk, const char *alg, const char *input, size_t inlen,
		      const char *sig, size_t siglen);

/* Validates a JWT access token for `resource` at time now: its claims (a
 * reference), or NULL with why. hs is the shared secret, or NULL. With
 * would_wait, a key that would have to be waited for sets *would_wait
 * (and NULL is returned) instead. */
json_t *tg_gw_jwt_verify(const tg_gw_auth_conf *a, tg_gw_jwks *keys, const tg_gw_key *hs,
			 const char *token, const char *resource, int64_t now, char *why,
			 size_t whylen, bool *would_wait);

/* The checks every token's claims pass, a JWT's or an introspection
 * answer's: iss, aud containing resource, exp (required), nbf, iat, no
 * cnf. 0, or -1 with why. */
int tg_gw_token_claims_check(const json_t *c, const tg_gw_auth_conf *a, const char *resource,
			     int64_t now, char *why, size_t whylen);
/* How deeply v nests (a scalar is 0), counted up to a little past
 * TG_GW_JWT_MAX_DEPTH. */
size_t tg_gw_json_depth(const json_t *v);

/* body.c: an answer's body, NUL-terminated, as tg_gw_own_request collects
 * it; past max bytes the transfer ends with overflow set. */
typedef struct tg_gw_body {
	char *data;		/* malloc'd, or NULL while empty */
	size_t len, max;
	bool overflow;
} tg_gw_body;
/* Sets up easy (a CURL *) for one of the gateway's own requests to url:
 * http or https only, no redirects, 2 s to connect, 5 s in all, the body
 * into b. */
void tg_gw_own_request(void *easy, const char *url, tg_gw_body *b);

/* introspect.c: asks the authorization server about a token (RFC 7662,
 * a->introspection_endpoint, as its client). The answer's members, to be
 * checked as claims, when it says the token is active; else NULL with why,
 * and *inactive set when the server answered that it is not (rather than
 * failing to answer). Blocks for up to 7 s (connect and answer timeouts). */
json_t *tg_gw_introspect(const tg_gw_auth_conf *a, const char *token, size_t len, char *why,
			 size_t whylen, bool *inactive);

/* Fills id's principal, token and context from validated claims and
 * peer's headers (peer may be NULL). 0, or -1 with why. */
int tg_gw_claims_identity(const tg_gw_auth_conf *a, const json_t *claims, const tg_gw_peer *peer,
			  tg_mcp_identity *id, char *why, size_t whylen);

/* The RFC 9728 metadata URL of an upstream's resource (uc NULL: the base
 * URI's). 0, or -1 when it does not fit. */
int tg_gw_prm_url(const tg_gw_conf *c, const tg_gw_upstream_conf *uc, char *out, size_t outlen);
/* The metadata document served at url_path (malloc'd JSON), or NULL when
 * auth is off or the path names no resource. */
char *tg_gw_prm_document(const tg_gw_conf *c, const char *url_path, size_t *len);
/* A WWW-Authenticate value: Bearer [error=][, scope=][, resource_metadata=]
 * [, error_description=]. */
void tg_gw_challenge(const tg_gw_conf *c, const tg_gw_upstream_conf *uc, const char *error,
		     const char *description, const char *scope, char *out, size_t outlen);

/* ---- audit.c ----------------------------------------------------------- */

typedef struct tg_gw_audit {
	pthread_mutex_t lock;
	char *path;		/* NULL or "-": stderr */
	FILE *f;
	bool broken;		/* the last write failed */
} tg_gw_audit;

int tg_gw_audit_open(tg_gw_audit *a, const char *path, char *err, size_t errlen);
/* Reopens the file (SIGUSR1, log rotation). 0 or -1. */
int tg_gw_audit_reopen(tg_gw_audit *a);
void tg_gw_audit_close(tg_gw_audit *a);
/* Writes the audit line(s) an adapter wrote to a memory stream, each with
 * "upstream":NAME (and "shadow":true for a shadow decision) added. Returns
 * 0, or -1 when the line could not be written whole. */
int tg_gw_audit_write(tg_gw_audit *a, const char *lines, size_t len, const char *upstream,
		      bool shadow, const json_t *auth);
/* One line with the "upstream" member (and "auth":{...} when auth is not
 * NULL) inserted before the closing brace; malloc'd, or NULL. Exposed for
 * tests. */
char *tg_gw_audit_annotate(const char *line, size_t len, const char *upstream, bool shadow,
			   const json_t *auth);

/* ---- metrics.c --------------------------------------------------------- */

typedef enum tg_gw_outcome {
	TG_GW_OUT_ALLOW,
	TG_GW_OUT_DENY,
	TG_GW_OUT_INVALID,
	TG_GW_OUT_PASS,		/* lifecycle */
	TG_GW_OUT_SHADOW_ALLOW,
	TG_GW_OUT_SHADOW_DENY,
	TG_GW_OUT_COUNT
} tg_gw_outcome;

typedef enum tg_gw_refusal {
	TG_GW_REF_NOT_FOUND,
	TG_GW_REF_ORIGIN,
	TG_GW_REF_TOO_LARGE,
	TG_GW_REF_MEDIA_TYPE,
	TG_GW_REF_PARSE,
	TG_GW_REF_INVALID,	/* not a JSON-RPC message we forward, batches included */
	TG_GW_REF_METHOD,
	TG_GW_REF_VERSION,
	TG_GW_REF_SESSION,
	TG_GW_REF_IDENTITY,
	TG_GW_REF_AUDIT,
	TG_GW_REF_BUSY,
	TG_GW_REF_HEADER,	/* 2026-07-28: a header disagrees with the body */
	TG_GW_REF_PEER,		/* a connection from other than the behind_proxy addresses */
	TG_GW_REF_COUNT
} tg_gw_refusal;

#define TG_GW_LATENCY_BUCKETS 12
#define TG_GW_MAX_UPSTREAM_METRICS 64

typedef struct tg_gw_metrics {
	pthread_mutex_t lock;
	char names[TG_GW_MAX_UPSTREAM_METRICS][64];
	size_t nnames;
	unsigned long decisions[TG_GW_MAX_UPSTREAM_METRICS][TG_GW_OUT_COUNT];
	unsigned long upstream_errors[TG_GW_MAX_UPSTREAM_METRICS];
	unsigned long refusals[TG_GW_REF_COUNT];
	unsigned long latency[TG_GW_LATENCY_BUCKETS + 1];	/* +Inf last */
	double latency_sum;
	unsigned long latency_count;
	unsigned long reloads, reload_failures;
} tg_gw_metrics;

void tg_gw_metrics_init(tg_gw_metrics *m);
void tg_gw_metrics_destroy(tg_gw_metrics *m);
void tg_gw_metrics_decision(tg_gw_metrics *m, const char *upstream, tg_gw_outcome o);
void tg_gw_metrics_upstream_error(tg_gw_metrics *m, const char *upstream);
void tg_gw_metrics_refusal(tg_gw_metrics *m, tg_gw_refusal r);
/* Seconds a forwarded request took until its answer started. */
void tg_gw_metrics_latency(tg_gw_metrics *m, double seconds);
void tg_gw_metrics_reload(tg_gw_metrics *m, bool ok);
/* The Prometheus text exposition, malloc'd. */
char *tg_gw_metrics_text(tg_gw_metrics *m, size_t *len);

/* ---- sse.c ------------------------------------------------------------- */

/* Splits text/event-stream bytes into events (blank-line terminated). Each
 * event's raw text (terminator included) and its joined data are handed to
 * the sink; an event longer than `max` is refused (the stream must end). */
typedef struct tg_gw_sse {
	tg_px_buf raw;
	size_t max, scanned;
	bool too_large;
} tg_gw_sse;

typedef struct tg_gw_sse_event {
	const char *raw;	/* the event as received */
	size_t raw_len;
	char id[256];		/* the event's id field, "" when none (or too long) */
	char *data;		/* the data lines joined with '\n', NUL-terminated, or NULL */
	size_t data_len;
} tg_gw_sse_event;

/* Feeds bytes; calls `event` for each complete event. Returns 0, or -1 when
 * an event passed the limit or memory ran out. */
int tg_gw_sse_feed(tg_gw_sse *s, const char *p, size_t n,
		   void (*event)(void *ud, const tg_gw_sse_event *e), void *ud);
void tg_gw_sse_free(tg_gw_sse *s);
/* Writes a data-only event for one JSON text (single line) to b. */
int tg_gw_sse_data_event(tg_px_buf *b, const char *json, size_t len, const char *id);

/* ---- upstream_http.c ---------------------------------------------------- */

typedef struct tg_gw_loop tg_gw_loop;

/* A streamed answer moves in blocks of at most this many bytes, and an SSE
 * transfer from an upstream pauses while this much waits unconsumed. */
#define TG_GW_STREAM_BLOCK (64u * 1024)

/* One request to a Streamable HTTP upstream, driven either by the calling
 * thread (curl's multi interface: nothing blocks longer than a poll) or by
 * the event loop (loop.c), which calls news() whenever something changed. */
typedef struct tg_gw_http_call {
	void *easy, *multi;		/* CURL *, CURLM * (the caller's own) */
	void *headers;			/* struct curl_slist * */
	long status;
	char content_type[128];
	char session[512];		/* Mcp-Session-Id of the answer */
	bool headers_done, done, failed, overflow;
	char error[256];
	tg_px_buf in;			/* received, not yet consumed */
	size_t max_in;			/* more than this unconsumed: the call fails */
	int client_fd;			/* the client's socket, watched for hang-ups; -1 none */
	bool client_gone;
	/* driven by the loop */
	tg_gw_loop *loop;
	void (*news)(void *ud);		/* on the loop, never inside a libcurl callback */
	void *news_ud;
	size_t pause_at;		/* SSE: this much unconsumed pauses the transfer */
	bool paused, queued;
	struct tg_gw_http_call *next_news;
} tg_gw_http_call;

typedef struct tg_gw_http_req {
	const char *method;		/* "POST", "GET", "DELETE" */
	const char *url;
	const char *body;
	size_t body_len;
	const char *session;		/* the upstream's session id, or NULL */
	const char *version;		/* MCP-Protocol-Version, or NULL */
	const char *last_event_id;	/* Last-Event-ID, or NULL */
	char *const *extra;		/* more header lines ("Name: value"), rebuilt by the gateway */
	size_t nextra;
	char *const *configured;	/* the upstream's own header lines, NULL-terminated, or NULL */
	unsigned connect_timeout_ms;
	tg_gw_loop *loop;		/* drive the call on this loop (news() required), or NULL */
	void (*news)(void *ud);
	void *news_ud;
} tg_gw_http_req;

/* Starts a request. 0, or -1 with call->error set. */
int tg_gw_http_start(tg_gw_http_call *c, const tg_gw_http_req *r, size_t max_in, int client_fd);
/* Drives the caller's own call for at most timeout_ms or until something
 * happens: 1 when headers are in, body bytes wait or the call ended; 0 when
 * nothing happened; -1 on failure (error set). Never for a loop's call. */
int tg_gw_http_pump(tg_gw_http_call *c, int timeout_ms);
/* Drives until the headers are in, or deadline (monotonic ms). 0 or -1. */
int tg_gw_http_wait_headers(tg_gw_http_call *c, int64_t deadline_ms);
/* Drives until the whole body is in (at most max_in bytes), or deadline.
 * 0 or -1. */
int tg_gw_http_wait_done(tg_gw_http_call *c, int64_t deadline_ms);
/* The transfer ended with libcurl's result (a CURLcode): done, or failed
 * with error set. */
void tg_gw_http_ended(tg_gw_http_call *c, int result);
/* A loop's call: c->in was drained below pause_at, let the transfer go on. */
void tg_gw_http_drained(tg_gw_http_call *c);
/* A loop's call: ends it as failed with why (outside libcurl's callbacks). */
void tg_gw_http_abort(tg_gw_http_call *c, const char *why);
void tg_gw_http_free(tg_gw_http_call *c);
/* Once per process, before threads: curl_global_init. */
int tg_gw_http_global_init(void);
void tg_gw_http_global_cleanup(void);

/* ---- upstream_stdio.c --------------------------------------------------- */

typedef struct tg_gw_child tg_gw_child;
typedef struct tg_gw_stdio_pool tg_gw_stdio_pool;

/* A server message that is not an answer the gateway waits for (a request or
 * notification of the server's), for the session's GET stream. */
typedef void (*tg_gw_stdio_notice)(void *ud, const tg_rpc_msg *m);

tg_gw_stdio_pool *tg_gw_stdio_pool_create(tg_gw_stdio_notice notice, void *ud);
/* Ends every child (SIGTERM, then SIGKILL) and frees the pool. */
void tg_gw_stdio_pool_free(tg_gw_stdio_pool *p);
/* Starts a child for a new session (env: tg_px_spawn's), unless `cap`
 * children run already. Returns the child (a reference:
 * tg_gw_child_release) with its session key in key (33 bytes), or NULL with
 * a message and *busy set when at the cap. */
tg_gw_child *tg_gw_stdio_open(tg_gw_stdio_pool *p, char **argv, char *const *env, unsigned cap,
			      char *key, bool *busy, char *err, size_t errlen);
/* The live child of a session key (a reference), or NULL. */
tg_gw_child *tg_gw_stdio_find(tg_gw_stdio_pool *p, const char *key);
void tg_gw_child_release(tg_gw_child *c);
/* Ends a session's child. True when there was one. */
bool tg_gw_stdio_close(tg_gw_stdio_pool *p, const char *key);
/* Ends every session (children get SIGTERM; their reader threads reap). */
void tg_gw_stdio_close_all(tg_gw_stdio_pool *p);
/* Writes one message line. With `idkey`, registers interest in the answer
 * with that id first. 0, or -1 when the child is gone. */
int tg_gw_child_send(tg_gw_child *c, const char *line, size_t len, const char *idkey);
/* Waits for the answer to idkey (registered by send): a malloc'd line, or
 * NULL when the child died or timeout_ms passed (*timed_out says which). */
char *tg_gw_child_await(tg_gw_child *c, const char *idkey, int timeout_ms, size_t *len,
			bool *timed_out);
/* The next queued server message for a GET stream (malloc'd line), NULL
 * after timeout_ms; *gone when the child has ended. */
char *tg_gw_child_next_notice(tg_gw_child *c, int timeout_ms, size_t *len, bool *gone);
/* Number of live children. */
size_t tg_gw_stdio_count(tg_gw_stdio_pool *p);

/* ---- the gateway (exchange.c, server.c, run.c) ------------------------ */

#define TG_GW_MAX_UPSTREAMS 64
#define TG_GW_MAX_PARAMS    32	/* Mcp-Param-* headers of one request */

/* Per-upstream state that outlives configuration reloads (keyed by name). */
typedef struct tg_gw_upstream {
	char name[64];
	json_t *name_json;		/* the request's `server` */
	pthread_mutex_t lock;		/* tools */
	tg_mcp_tools tools;
	json_t *xheaders;		/* tool -> x-mcp-header declarations (stateless.c) */
	tg_gw_stdio_pool *stdio;	/* created on first use */
	unsigned long own_ids;
	/* What tools and xheaders were learnt from: the url or command line.
	 * A reload that points the name elsewhere forgets them and bumps
	 * generation; requests begun before learn nothing more (lock). */
	char *source;
	const struct tg_gw_upstream_conf *checked;	/* the entry last found to name source */
	unsigned long generation;
} tg_gw_upstream;

typedef struct tg_gw {
	pthread_mutex_t lock;		/* conf, upstreams, retired */
	tg_gw_conf *conf;		/* current */
	tg_gw_conf **retired;		/* replaced configurations: requests may still hold them */
	size_t nretired;
	tg_gw_upstream ups[TG_GW_MAX_UPSTREAMS];
	size_t nups;
	tg_holder *holder, *shadow;
	tg_gw_identity_step identity;
	tg_gw_audit audit;
	tg_gw_metrics metrics;
	tg_gw_key key;
	int64_t fixed_time;		/* > 0: the clock (tests) */
	volatile int in_flight;		/* requests being handled (atomic builtins) */
} tg_gw;

/* An answer the HTTP side sends. Either a whole body or a stream. */
typedef struct tg_gw_answer {
	unsigned status;
	char content_type[128];		/* "" for none */
	char *body;			/* malloc'd, or NULL */
	size_t body_len;
	char session[TG_GW_SESSION_MAX + 1];	/* Mcp-Session-Id to send, "" none */
	char allow[32];			/* Allow header for 405, "" none */
	char www_authenticate[1536];	/* WWW-Authenticate for 401/403, "" none */
	/* A stream: read() fills buf and returns bytes, -1 at the end of the
	 * stream, -2 on error; free() when done. A worker's stream blocks in
	 * read(); one made on the event loop returns 0 when nothing has come
	 * yet (the exchange's ready() says when to read again) and has tick(),
	 * which keeps its idle limit and returns when it is due next. */
	ssize_t (*read)(void *st, char *buf, size_t max);
	void (*free)(void *st);
	int64_t (*tick)(void *st, int64_t now_ms);
	void *st;
} tg_gw_answer;

/* What exchange.c needs of an HTTP request. */
typedef struct tg_gw_http_in {
	const char *method;
	const char *session;		/* Mcp-Session-Id, or NULL */
	const char *version;		/* MCP-Protocol-Version, or NULL */
	const char *last_event_id;
	const char *accept;
	const char *authorization;
	const char *(*header)(void *ud, const char *name);	/* any request header */
	void *header_ud;
	const struct sockaddr *peer;
	int client_fd;
	const char *body;
	size_t body_len;
	/* Mcp-Param-* headers as given (2026-07-28); params_bad when one is
	 * repeated or there are more than TG_GW_MAX_PARAMS. */
	const char *param_names[TG_GW_MAX_PARAMS], *param_values[TG_GW_MAX_PARAMS];
	size_t nparams;
	bool params_bad;
} tg_gw_http_in;

/* ---- stateless.c -------------------------------------------------------- */

#define TG_GW_STATELESS_VERSION "2026-07-28"
#define TG_RPC_HEADER_MISMATCH	-32020	/* 2026-07-28's HeaderMismatch */

/* True for the stateless protocol version (no sessions, headers mirror
 * the body). */
bool tg_gw_is_stateless(const char *version);
/* The params member Mcp-Name mirrors for a method ("name", "uri",
 * "taskId"), or NULL. */
const char *tg_gw_name_field(const char *method);
/* A header value, `=?base64?...?=` decoded, into out: its length, or -1
 * when it has characters a header may not or does not decode. */
long tg_gw_header_decode(const char *v, char *out, size_t outlen);
/* A value as a header carries it (Base64-wrapped when not plain). 0/-1. */
int tg_gw_header_encode(const char *v, size_t n, char *out, size_t outlen);
/* MCP-Protocol-Version, Mcp-Method and Mcp-Name against the body: 0, or
 * -1 with why (answer 400 HeaderMismatch). */
int tg_gw_stateless_check(const tg_gw_http_in *in, const tg_rpc_msg *m, char *why, size_t whylen);
/* Records the x-mcp-header declarations of every tool in a tools/list
 * response into map: {"tool": [["Name", ["path", ...]], ...]}. */
void tg_gw_xheaders_learn(json_t *map, const json_t *response);
/* Checks a tools/call's Mcp-Param-* headers against the tool's
 * declarations and its arguments, and writes the header lines to send
 * upstream (malloc'd, rebuilt from the body) into lines. 0, or -1 with
 * why (answer 400 HeaderMismatch); lines written so far are the caller's
 * to free either way. */
int tg_gw_params_check(const json_t *decls, const tg_gw_http_in *in, const json_t *args,
		       char **lines, size_t *nlines, size_t maxlines, char *why, size_t whylen);

/* The upstream state for a configured upstream (created on first use). */
tg_gw_upstream *tg_gw_upstream_of(tg_gw *gw, const tg_gw_upstream_conf *uc, unsigned long *gen);
/* Handles one request at an upstream's path; fills *a. May block (a
 * relay.c worker's). */
void tg_gw_exchange(tg_gw *gw, const tg_gw_conf *conf, const tg_gw_upstream_conf *uc,
		    const tg_gw_http_in *in, tg_gw_answer *a);

/*
 * The same exchange on the event loop, without blocking:
 *   ANSWERED  *a is the answer;
 *   PENDING   the upstream call runs on the loop: *pending makes the answer
 *             and calls ready(ud) once tg_gw_pending_take has it (and, for
 *             a streamed answer, whenever there is more to read);
 *   BLOCKS    a step would wait (a stdio child, the tool-list fetch, a key
 *             being fetched): nothing was decided, audited or sent, and
 *             tg_gw_exchange on a worker handles the request.
 * in must stay valid until the answer is taken or the pending freed.
 */
typedef enum tg_gw_start {
	TG_GW_START_ANSWERED,
	TG_GW_START_PENDING,
	TG_GW_START_BLOCKS,
} tg_gw_start;
typedef struct tg_gw_pending tg_gw_pending;
tg_gw_start tg_gw_exchange_start(tg_gw *gw, const tg_gw_conf *conf,
				 const tg_gw_upstream_conf *uc, const tg_gw_http_in *in,
				 tg_gw_loop *loop, void (*ready)(void *ud), void *ud,
				 tg_gw_answer *a, tg_gw_pending **pending);
/* True once the answer is made: it is moved to *a and the pending freed. */
bool tg_gw_pending_take(tg_gw_pending *p, tg_gw_answer *a);
/* Past limits.response_timeout_ms, answers 504. Returns when it is due
 * next (INT64_MAX: never). */
int64_t tg_gw_pending_tick(tg_gw_pending *p, int64_t now_ms);
void tg_gw_pending_free(tg_gw_pending *p);
/* A JSON-RPC error answer (HTTP status, id may be NULL). */
void tg_gw_answer_error(tg_gw_answer *a, unsigned status, json_t *id, int code,
			const char *message, json_t *data);
void tg_gw_answer_free(tg_gw_answer *a);
/* The current configuration and a reference that stays valid until exit. */
const tg_gw_conf *tg_gw_current(tg_gw *gw);

/* relay.c: requests worked on off the event loop (server.c's). */
struct MHD_Connection;
typedef struct tg_gw_relay tg_gw_relay;
typedef struct tg_gw_job tg_gw_job;
/* Workers wake loop after resuming a connection. */
tg_gw_relay *tg_gw_relay_new(tg_gw_loop *loop);
/* Suspends conn and hands the exchange of its request to a worker, which
 * resumes conn once *answer is ready. in's strings must stay valid until
 * then (libmicrohttpd keeps a suspended request's). NULL when stopping or
 * out of memory: nothing was started and conn is not suspended. */
tg_gw_job *tg_gw_job_start(tg_gw_relay *r, struct MHD_Connection *conn, tg_gw *gw,
			   const tg_gw_conf *conf, const tg_gw_upstream_conf *uc,
			   const tg_gw_http_in *in);
/* True once the job is answered and conn resumed; *a is the answer (a
 * stream is read through tg_gw_relay_read, never a->read). */
bool tg_gw_job_answered(tg_gw_job *j, tg_gw_answer **a);
/* The request's reference, dropped when libmicrohttpd completes it. */
void tg_gw_job_release(tg_gw_job *j);
/* A streamed answer's libmicrohttpd content reader and its free callback
 * (cls: the job). */
ssize_t tg_gw_relay_read(void *cls, uint64_t pos, char *buf, size_t max);
void tg_gw_relay_done(void *cls);
/* Refuses new jobs and ends the workers' turns (clients' sockets shut
 * down); returns once no connection is suspended, so the daemon may stop. */
void tg_gw_relay_quiesce(tg_gw_relay *r);
/* After the daemon stopped: waits for the workers to leave. */
void tg_gw_relay_free(tg_gw_relay *r);

/*
 * loop.c: the event loop. One thread runs libmicrohttpd (external epoll
 * mode) and every upstream call started on the loop, and watches the
 * sockets of suspended connections for hang-ups. Unless said otherwise the
 * functions below are called on the loop's thread (inside the callbacks it
 * runs).
 */
struct MHD_Daemon;
typedef struct tg_gw_watch {
	int fd;
	bool on;
	void (*hangup)(void *ud);
	void *ud;
} tg_gw_watch;
/* tick(ud, now_ms), for deadlines, returns when it wants to run next
 * (it runs at least once a second). NULL with a message. */
tg_gw_loop *tg_gw_loop_new(struct MHD_Daemon *d, int64_t (*tick)(void *ud, int64_t now_ms),
			   void *ud, char *err, size_t errlen);
int tg_gw_loop_start(tg_gw_loop *l);
/* A connection was resumed on the loop: libmicrohttpd takes it this turn. */
void tg_gw_loop_kick(tg_gw_loop *l);
/* The tick runs again no later than when_ms. */
void tg_gw_loop_due(tg_gw_loop *l, int64_t when_ms);
/* Any thread: runs libmicrohttpd soon (after resuming a connection). */
void tg_gw_loop_wake(tg_gw_loop *l);
/* Any thread: stops accepting connections (MHD_quiesce_daemon, on the loop). */
void tg_gw_loop_quiesce(tg_gw_loop *l);
/* Another thread: ends the loop's thread and waits for it. */
void tg_gw_loop_stop(tg_gw_loop *l);
/* Once the daemon has stopped (every call freed). */
void tg_gw_loop_free(tg_gw_loop *l);
/* Watches fd for a hang-up until unwatched; w stays put meanwhile. */
void tg_gw_loop_watch(tg_gw_loop *l, tg_gw_watch *w, int fd, void (*hangup)(void *ud), void *ud);
void tg_gw_loop_unwatch(tg_gw_loop *l, tg_gw_watch *w);
/* For upstream_http.c: an easy handle (CURL *) from the loop's pool, or a
 * new one; adding a call whose CURLOPT_PRIVATE is the call (0/-1);
 * removing it (its handle kept for reuse when `reuse`); queueing it for
 * its news() once libcurl's callback has returned. */
void *tg_gw_loop_easy(tg_gw_loop *l);
int tg_gw_loop_add(tg_gw_loop *l, tg_gw_http_call *c);
void tg_gw_loop_remove(tg_gw_loop *l, tg_gw_http_call *c, bool reuse);
void tg_gw_loop_news(tg_gw_loop *l, tg_gw_http_call *c);

/* tls.c: the HTTPS certificate and key, replaceable while serving. */
typedef struct tg_gw_tls tg_gw_tls;
struct MHD_OptionItem;
/* Reads both PEM files (the paths are borrowed) and checks that GnuTLS can
 * serve them together: NULL with msg saying why not; else msg describes
 * the certificate (subject, expiry). Warns of a key file open to others
 * (here and for each new pair tg_gw_tls_check takes). */
tg_gw_tls *tg_gw_tls_new(const char *cert_file, const char *key_file, char *msg, size_t msglen);
/* Reads the files again when either changed since the last look (always
 * with force, or when the configuration names other files: the paths are
 * borrowed, and adopted once they make a pair): 1 when a new pair now
 * serves (msg describes it), 0 when nothing changed, -1 when the files do
 * not make a pair GnuTLS can serve (msg says why; the current pair keeps
 * serving). Main thread only. */
int tg_gw_tls_check(tg_gw_tls *t, const char *cert_file, const char *key_file, bool force,
		    char *msg, size_t msglen);
/* Fills *opt with the option that has libmicrohttpd ask t for its pair
 * at each handshake. One per process: -1 (msg set) when another serves. */
int tg_gw_tls_serve(tg_gw_tls *t, struct MHD_OptionItem *opt, char *msg, size_t msglen);
/* After the daemon has stopped. */
void tg_gw_tls_free(tg_gw_tls *t);

/* run.c: whether the file at path changed (identity, size or mtime) since
 * the stamp was taken; takes the new stamp. A first look says changed; a
 * file that cannot be stat'ed has not. */
typedef struct tg_gw_file_stamp {
	bool known;
	struct stat st;
} tg_gw_file_stamp;
bool tg_gw_file_changed(tg_gw_file_stamp *f, const char *path);

/* server.c: the HTTP daemon. */
typedef struct tg_gw_server tg_gw_server;
tg_gw_server *tg_gw_server_start(tg_gw *gw, char *err, size_t errlen);
/* Stops accepting; requests in flight go on. */
void tg_gw_server_quiesce(tg_gw_server *s);
void tg_gw_server_stop(tg_gw_server *s);
/* The port actually bound (listen port 0 picks one). */
unsigned short tg_gw_server_port(tg_gw_server *s);
/* Its certificate and key (NULL in plain HTTP). */
tg_gw_tls *tg_gw_server_tls(tg_gw_server *s);

/* run.c: `toolgate gateway`. Returns the exit status. */
int tg_gw_run(const char *config_path);

#endif
