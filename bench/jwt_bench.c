/*
 * jwt_bench.c - what bearer-token validation costs the gateway per request
 * with the key cached: tg_gw_jwt_verify (header checks, key lookup,
 * libjose signature verification, claims checks) on one RS256, PS256 and
 * ES256 token each, keys from the test fixture's JWKS file, plus the claims
 * mapping. Not part of `make bench`'s policy numbers: run it on its own.
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

int main(int argc, char **argv)
{
	const char *src = argc > 1 ? argv[1] : ".";
	long n = argc > 2 ? atol(argv[2]) : 2000, i;
	static const char *const algs[][2] = {{"RS256", "rsa-1"}, {"PS256", "rsa-1"}, {"ES256", "ec-1"}};
	char path[1024], priv[1024], err[256], why[256];
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
	for (k = 0; k < 3; k++) {
		char *t = sign(keys, algs[k][0], algs[k][1], now);
		double t0 = now_s(), t1;

		for (i = 0; i < n; i++) {
			json_t *c = tg_gw_jwt_verify(&a, j, NULL, t, AUD, now, why, sizeof why);
			tg_mcp_identity id;

			if (!c) {
				fprintf(stderr, "refused: %s\n", why);
				return 1;
			}
			tg_mcp_identity_init(&id);
			if (tg_gw_claims_identity(&a, c, NULL, &id, why, sizeof why) != 0)
				return 1;
			tg_mcp_identity_clear(&id);
			json_decref(c);
		}
		t1 = now_s();
		printf("%s: %ld validations, %.1f us each (%zu-byte token)\n", algs[k][0], n,
		       (t1 - t0) / (double)n * 1e6, strlen(t));
		free(t);
	}
	tg_gw_jwks_free(j);
	json_decref(keys);
	return 0;
}
