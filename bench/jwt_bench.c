/*
 * jwt_bench.c - what bearer-token validation costs the gateway per request:
 * tg_gw_jwt_verify (header checks, key lookup, signature, claims checks)
 * plus the claims mapping, on one RS256, PS256 and ES256 token each, keys
 * from the test fixture's JWKS file. In the same run, the signature step
 * alone two ways: with the OpenSSL key object jwks.c caches per key
 * (tg_gw_jws_verify, what the gateway does), and through libjose's
 * jose_jws_ver, which rebuilds the key object from the JWK on every call
 * (what the gateway did before). Each figure is the best of 5 batches.
 * Not part of `make bench`'s policy numbers: run it on its own.
 *
 *   cmake --build build --target tg-bench-jwt && build/bin/tg-bench-jwt [SRCDIR] [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jose/b64.h>
#include <jose/jws.h>

#include "gateway.h"

#define ISS "http://127.0.0.1:9100"
#define AUD "http://127.0.0.1:8080/rec/mcp"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define BATCHES 5

/* Best of BATCHES batches of n/BATCHES calls of f, in us per call. */
static double best_us(long n, bool (*f)(void *), void *ud)
{
	double best = 1e30;
	long per = n / BATCHES > 0 ? n / BATCHES : 1, i;
	int b;

	for (b = 0; b < BATCHES; b++) {
		double t0 = now_s(), t;

		for (i = 0; i < per; i++)
			if (!f(ud)) {
				fprintf(stderr, "tg-bench-jwt: a check failed\n");
				exit(1);
			}
		t = (now_s() - t0) / (double)per * 1e6;
		if (t < best)
			best = t;
	}
	return best;
}

typedef struct run {
	tg_gw_auth_conf *a;
	tg_gw_jwks *j;
	const char *token, *alg;
	int64_t now;
	EVP_PKEY *pk;
	json_t *jwk, *jws;
} run;

static bool full(void *ud)
{
	run *r = ud;
	char why[256];
	json_t *c = tg_gw_jwt_verify(r->a, r->j, NULL, r->token, AUD, r->now, why, sizeof why, NULL);
	tg_mcp_identity id;
	bool ok;

	if (!c) {
		fprintf(stderr, "refused: %s\n", why);
		return false;
	}
	tg_mcp_identity_init(&id);
	ok = tg_gw_claims_identity(r->a, c, NULL, &id, why, sizeof why) == 0;
	tg_mcp_identity_clear(&id);
	json_decref(c);
	return ok;
}

static bool sig_cached(void *ud)
{
	run *r = ud;
	const char *d2 = strrchr(r->token, '.');

	return tg_gw_jws_verify(r->pk, r->alg, r->token, (size_t)(d2 - r->token), d2 + 1,
				strlen(d2 + 1));
}

static bool sig_libjose(void *ud)
{
	run *r = ud;

	return jose_jws_ver(NULL, r->jws, NULL, r->jwk, false);
}

static char *sign(const json_t *keys, const char *alg, const char *kid, int64_t now)
{
	const json_t *key = NULL, *k;
	json_t *claims = json_pack("{s:s,s:s,s:s,s:s,s:[s],s:s,s:I,s:I,s:s}", "iss", ISS, "aud", AUD,
				   "sub", "alice", "scope", "tools:read", "groups", "reader",
				   "client_id", "cli", "iat", (json_int_t)now, "exp",
				   (json_int_t)now + 600, "jti", "j-1");
	char *payload = json_dumps(claims, JSON_COMPACT), *out = malloc(4096);
	json_t *jws = json_pack("{s:o}", "payload", jose_b64_enc(payload, strlen(payload)));
	json_t *sig = json_pack("{s:{s:s,s:s,s:s}}", "protected", "alg", alg, "kid", kid, "typ",
				"at+jwt");
	size_t i;

	json_array_foreach(json_object_get(keys, "keys"), i, k)
		if (strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0)
			key = k;
	if (!key || !out || !jose_jws_sig(NULL, jws, sig, key)) {
		fprintf(stderr, "cannot sign with %s\n", kid);
		exit(2);
	}
	snprintf(out, 4096, "%s.%s.%s", json_string_value(json_object_get(jws, "protected")),
		 json_string_value(json_object_get(jws, "payload")),
		 json_string_value(json_object_get(jws, "signature")));
	free(payload);
	json_decref(claims);
	json_decref(jws);
	json_decref(sig);
	return out;
}

/* Any key: tg_gw_jwks_key has already matched the kid. */
static bool any_key(const json_t *k, void *ud)
{
	(void)k;
	(void)ud;
	return true;
}

int main(int argc, char **argv)
{
	const char *src = argc > 1 ? argv[1] : ".";
	long n = argc > 2 ? atol(argv[2]) : 2000;
	static const char *const algs[][2] = {{"RS256", "rsa-1"}, {"PS256", "rsa-1"}, {"ES256", "ec-1"}};
	char path[1024], priv[1024], err[256];
	tg_gw_auth_conf a;
	tg_gw_jwks *j;
	json_t *keys;
	int64_t now = (int64_t)time(NULL);
	size_t k;

	snprintf(path, sizeof path, "%s/tests/gateway/keys/jwks.json", src);
	snprintf(priv, sizeof priv, "%s/tests/gateway/keys/private.json", src);
	memset(&a, 0, sizeof a);
	a.issuer = (char *)ISS;
	a.jwks_file = path;
	a.clock_skew_s = 60;
	a.require_at_jwt = true;
	keys = json_load_file(priv, 0, NULL);
	j = tg_gw_jwks_create(&a, err, sizeof err);
	if (!keys || !j) {
		fprintf(stderr, "tg-bench-jwt: %s (give the source folder)\n", keys ? err : priv);
		return 2;
	}
	printf("per validation, best of %d batches of %ld (us): full = tg_gw_jwt_verify + claims "
	       "mapping; signature step alone: cached key object vs libjose rebuilding it\n",
	       BATCHES, n / BATCHES);
	for (k = 0; k < 3; k++) {
		char *t = sign(keys, algs[k][0], algs[k][1], now);
		const char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
		run r = {&a, j, t, algs[k][0], now, NULL, NULL, NULL};
		double f, c, l;

		r.jwk = tg_gw_jwks_key(j, algs[k][1], any_key, NULL, NULL);
		r.pk = r.jwk ? tg_gw_jwks_pkey(j, r.jwk) : NULL;
		r.jws = json_pack("{s:s%,s:s%,s:s}", "protected", t, (size_t)(d1 - t), "payload",
				  d1 + 1, (size_t)(d2 - d1 - 1), "signature", d2 + 1);
		if (!r.pk || !r.jws) {
			fprintf(stderr, "tg-bench-jwt: no key object for %s\n", algs[k][1]);
			return 2;
		}
		f = best_us(n, full, &r);
		c = best_us(n, sig_cached, &r);
		l = best_us(n, sig_libjose, &r);
		printf("%s: full %.1f; signature: cached %.1f, libjose %.1f (%zu-byte token)\n",
		       algs[k][0], f, c, l, strlen(t));
		EVP_PKEY_free(r.pk);
		json_decref(r.jwk);
		json_decref(r.jws);
		free(t);
	}
	tg_gw_jwks_free(j);
	json_decref(keys);
	return 0;
}
