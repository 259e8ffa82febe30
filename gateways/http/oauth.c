/*
 * oauth.c - the OAuth 2.1 resource server as an identity step
 * (tg_gw_identity_step): the bearer token of the Authorization header,
 * validated for the resource the request is for (jwt.c, keys from jwks.c;
 * or, for a token that is not a JWT or without a key set, by asking the
 * authorization server, introspect.c), becomes the identity (claims.c).
 * Validated tokens are remembered (jwtcache.c): a JWT until it expires, an
 * introspected token for at most introspection_cache_s, so a revocation
 * takes effect within that time.
 *
 * Only the Authorization header carries a token (bearer_methods_supported
 * ["header"]): a token in the query string or a form body is never looked
 * at, so such a request is simply unauthenticated. Any failure is 401 with
 * a challenge naming the resource's metadata (prm.c), and error=
 * "invalid_token" when a token was presented; the exchange forwards
 * nothing after a refusal. The token itself is never logged or audited:
 * the audit gets its issuer, client id and jti, or a SHA-256 digest of the
 * token when it has no jti.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "gateway.h"

#define JWT_CACHE_SLOTS 1024
#define INACTIVE_CACHE_SLOTS 256

typedef struct oauth {
	const tg_gw_auth_conf *auth;	/* the start configuration's (kept until exit) */
	tg_gw_jwks *keys;
	tg_gw_jwt_cache *seen;		/* validated tokens, until they expire */
	tg_gw_jwt_cache *inactive;	/* tokens the server said are not active */
	tg_gw_key hs;
	bool has_hs;
	int64_t fixed_time;		/* > 0: the clock (tests) */
} oauth;

/* The token of "Bearer TOKEN", or NULL when the header is absent or names
 * another scheme. *bad is set when it says Bearer but the rest is not one
 * token68. */
static const char *bearer(const char *h, bool *bad)
{
	const char *t;
	size_t n;

	*bad = false;
	if (!h || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\0'))
		return NULL;
	t = h + 6;
	t += strspn(t, " ");
	n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=");
	if (n == 0 || t[n + strspn(t + n, " ")] != '\0') {
		*bad = true;
		return NULL;
	}
	return t;
}

static json_t *audit_of(const json_t *claims, const char *token, size_t len)
{
	const json_t *jti = json_object_get(claims, "jti");
	json_t *a = json_object();

	if (!a)
		return NULL;
	json_object_set(a, "iss", json_object_get(claims, "iss"));
	if (json_is_string(json_object_get(claims, "client_id")))
		json_object_set(a, "client_id", json_object_get(claims, "client_id"));
	else if (json_is_string(json_object_get(claims, "azp")))
		json_object_set(a, "client_id", json_object_get(claims, "azp"));
	if (json_is_string(jti)) {
		json_object_set(a, "jti", (json_t *)jti);
	} else {
		unsigned char md[32];
		unsigned int mdlen = 0;
		char hex[65];
		unsigned i;

		if (EVP_Digest(token, len, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32) {
			for (i = 0; i < 32; i++)
				snprintf(hex + 2 * i, 3, "%02x", md[i]);
			json_object_set_new(a, "token_sha256", json_string(hex));
		}
	}
	return a;
}

/* A JWT for the key set to check: three dot-separated parts, the first a
 * JSON object ("eyJ" is how base64url spells '{"'). Other tokens with dots,
 * such as PASETO's "v4.public.*", are opaque to the gateway. */
static bool jws_shaped(const char *t, size_t len)
{
	const char *end = t + len, *d1 = memchr(t, '.', len);
	const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;

	return len > 3 && memcmp(t, "eyJ", 3) == 0 && d2 &&
	       !memchr(d2 + 1, '.', (size_t)(end - d2 - 1));
}

/* The authorization server's answer for an opaque token, its claims
 * checked and remembered; NULL with why. A "not active" is remembered
 * apart, as long as an active answer would be, so a client retrying with a
 * revoked token costs the server one question per introspection_cache_s. */
static json_t *introspected(oauth *o, const char *resource, const char *tok, size_t len,
			    int64_t now, unsigned long gen, char *why, size_t whylen)
{
	const tg_gw_auth_conf *a = o->auth;
	bool inactive;
	json_t *claims = tg_gw_introspect(a, tok, len, why, whylen, &inactive);
	int64_t until, skew = (int64_t)a->clock_skew_s;

	if (inactive) {
		json_t *mark = json_pack("{s:b}", "active", 0);

		if (mark)
			tg_gw_jwt_cache_put(o->inactive, resource, tok, len, mark,
					    now + (int64_t)a->introspection_cache_s, 0);
		json_decref(mark);
		return NULL;
	}

	if (claims && tg_gw_token_claims_check(claims, a, resource, now, why, whylen) != 0) {
		json_decref(claims);
		return NULL;
	}
	if (claims) {
		until = json_integer_value(json_object_get(claims, "exp")) + skew;
		if (until > now + (int64_t)a->introspection_cache_s)
			until = now + (int64_t)a->introspection_cache_s;
		tg_gw_jwt_cache_put(o->seen, resource, tok, len, claims, until, gen);
	}
	return claims;
}

static int oauth_identify(void *self, const tg_gw_peer *peer, tg_mcp_identity *out,
			  tg_gw_who *who)
{
	oauth *o = self;
	const tg_gw_auth_conf *a = o->auth;
	bool bad;
	const char *tok = bearer(peer->authorization, &bad);
	bool wait = false;
	unsigned long gen;
	json_t *claims;
	char why[200];
	int64_t now = o->fixed_time > 0 ? o->fixed_time : (int64_t)time(NULL);
	size_t len;

	if (!tok) {
		snprintf(who->why, sizeof who->why, "%s",
			 bad ? "the Authorization header is not one bearer token"
			     : "a bearer token is required");
		tg_gw_challenge(peer->conf, peer->uc, bad ? "invalid_token" : NULL,
				bad ? "malformed bearer token" : NULL, a->scope_hint, who->challenge,
				sizeof who->challenge);
		return 401;
	}
	len = strcspn(tok, " ");
	gen = o->keys ? tg_gw_jwks_generation(o->keys) : 0;
	claims = tg_gw_jwt_cache_get(o->seen, peer->resource, tok, len, now, gen);
	if (!claims && a->introspection_endpoint && !(o->keys && jws_shaped(tok, len))) {
		json_t *refused = tg_gw_jwt_cache_get(o->inactive, peer->resource, tok, len, now, 0);

		if (refused)
			snprintf(why, sizeof why, "the authorization server says the token is not "
				 "active (asked at most %us ago)", a->introspection_cache_s);
		else if (peer->no_wait)
			return TG_GW_WOULD_WAIT;	/* a worker asks, blocking */
		else
			claims = introspected(o, peer->resource, tok, len, now, gen, why, sizeof why);
		json_decref(refused);
	} else if (!claims) {
		char *t = strndup(tok, len);

		claims = t ? tg_gw_jwt_verify(a, o->keys, o->has_hs ? &o->hs : NULL, t,
					      peer->resource, now, why, sizeof why,
					      peer->no_wait ? &wait : NULL)
			   : NULL;
		if (!t)
			snprintf(why, sizeof why, "out of memory");
		free(t);
		/* Tagged with the generation read before validating: keys that
		 * changed meanwhile make it miss, never serve. */
		if (claims)
			tg_gw_jwt_cache_put(o->seen, peer->resource, tok, len, claims,
					    json_integer_value(json_object_get(claims, "exp")) +
						    (int64_t)a->clock_skew_s,
					    gen);
	}
	if (wait)
		return TG_GW_WOULD_WAIT;
	if (claims && tg_gw_claims_identity(a, claims, peer, out, why, sizeof why) != 0) {
		json_decref(claims);
		claims = NULL;
	}
	if (!claims) {
		snprintf(who->why, sizeof who->why, "invalid token: %s", why);
		tg_gw_challenge(peer->conf, peer->uc, "invalid_token", why, a->scope_hint,
				who->challenge, sizeof who->challenge);
		return 401;
	}
	who->audit = audit_of(claims, tok, len);
	json_decref(claims);
	return 0;
}

static void oauth_destroy(void *self)
{
	oauth *o = self;

	tg_gw_jwks_free(o->keys);
	tg_gw_jwt_cache_free(o->seen);
	tg_gw_jwt_cache_free(o->inactive);
	tg_gw_wipe(&o->hs, sizeof o->hs);
	free(o);
}

int tg_gw_identity_oauth(const tg_gw_auth_conf *a, int64_t fixed_time, tg_gw_identity_step *out,
			 char *err, size_t errlen)
{
	oauth *o = calloc(1, sizeof *o);

	memset(out, 0, sizeof *out);
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->auth = a;
	o->fixed_time = fixed_time;
	if (a->hs_secret_file) {
		if (tg_gw_key_load(&o->hs, "HMAC secret", a->hs_secret_file, err, errlen) != 0) {
			free(o);
			return -1;
		}
		o->has_hs = true;
	}
	/* Without a key set, every token is introspected. */
	if ((a->jwks_file || a->jwks_uri) && !(o->keys = tg_gw_jwks_create(a, err, errlen))) {
		tg_gw_wipe(&o->hs, sizeof o->hs);
		free(o);
		return -1;
	}
	o->seen = tg_gw_jwt_cache_new(JWT_CACHE_SLOTS);
	o->inactive = tg_gw_jwt_cache_new(INACTIVE_CACHE_SLOTS);
	if (!o->seen || !o->inactive) {
		snprintf(err, errlen, "out of memory");
		tg_gw_jwt_cache_free(o->seen);
		tg_gw_jwt_cache_free(o->inactive);
		tg_gw_jwks_free(o->keys);
		tg_gw_wipe(&o->hs, sizeof o->hs);
		free(o);
		return -1;
	}
	out->identify = oauth_identify;
	out->destroy = oauth_destroy;
	out->self = o;
	return 0;
}
