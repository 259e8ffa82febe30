/*
 * test_oauth.c - the gateway's token validator (jwt.c) against the JWKS
 * file fixture tests/gateway/keys/jwks.json, with tokens signed here by
 * libjose from the fixture's private keys; the claims mapping (claims.c);
 * RFC 9728 URLs and challenges (prm.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <jose/b64.h>
#include <jose/jws.h>

#include "gateway.h"

#define NOW 1800000000
#define ISS "http://127.0.0.1:9100"
#define AUD "http://127.0.0.1:8080/rec/mcp"

static char keys_path[1024], priv_path[1024];
static json_t *priv;

static const char *source_dir(void)
{
	const char *s = getenv("TG_SOURCE_DIR");

	return s && *s ? s : ".";
}

static json_t *private_key(const char *kid)
{
	size_t i;
	json_t *k;

	json_array_foreach(json_object_get(priv, "keys"), i, k)
		if (strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0)
			return k;
	fail_msg("no key %s", kid);
	return NULL;
}

/* A compact JWS of claims with header hdr, signed by libjose with key. */
static char *sign_with(json_t *hdr, json_t *claims, const json_t *key)
{
	char *payload = json_dumps(claims, JSON_COMPACT);
	json_t *jws = json_pack("{s:o}", "payload", jose_b64_enc(payload, strlen(payload)));
	json_t *sig = json_pack("{s:O}", "protected", hdr);
	char *out = malloc(TG_GW_JWT_MAX * 2);

	assert_non_null(out);
	assert_true(jose_jws_sig(NULL, jws, sig, key));
	snprintf(out, TG_GW_JWT_MAX * 2, "%s.%s.%s",
		 json_string_value(json_object_get(jws, "protected")),
		 json_string_value(json_object_get(jws, "payload")),
		 json_string_value(json_object_get(jws, "signature")));
	free(payload);
	json_decref(jws);
	json_decref(sig);
	json_decref(hdr);
	json_decref(claims);
	return out;
}

static json_t *base_claims(void)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:[s,s],s:I,s:I,s:s}", "iss", ISS, "aud", AUD, "sub",
			 "alice", "scope", "tools:read files:read", "groups", "mcp:reader", "other",
			 "iat", (json_int_t)NOW - 10, "exp", (json_int_t)NOW + 300, "jti", "j-1");
}

static tg_gw_auth_conf conf(void)
{
	tg_gw_auth_conf a;

	memset(&a, 0, sizeof a);
	a.issuer = (char *)ISS;
	a.jwks_file = keys_path;
	a.clock_skew_s = 60;
	a.jwks_wait_ms = 0;
	return a;
}

static int setup(void **state)
{
	(void)state;
	snprintf(keys_path, sizeof keys_path, "%s/tests/gateway/keys/jwks.json", source_dir());
	snprintf(priv_path, sizeof priv_path, "%s/tests/gateway/keys/private.json", source_dir());
	priv = json_load_file(priv_path, 0, NULL);
	return priv ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(priv);
	return 0;
}

static json_t *verify(const tg_gw_auth_conf *a, const tg_gw_key *hs, const char *tok, char *why)
{
	char err[256];
	tg_gw_jwks *j = tg_gw_jwks_create(a, err, sizeof err);
	json_t *c;

	assert_non_null(j);
	c = tg_gw_jwt_verify(a, j, hs, tok, AUD, NOW, why, 256, NULL);
	tg_gw_jwks_free(j);
	return c;
}

static void good_algorithms(void **state)
{
	static const char *const algs[][2] = {{"RS256", "rsa-1"}, {"PS256", "rsa-1"}, {"ES256", "ec-1"}};
	tg_gw_auth_conf a = conf();
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		char *t = sign_with(json_pack("{s:s,s:s,s:s}", "alg", algs[i][0], "kid", algs[i][1],
					      "typ", "at+jwt"),
				    base_claims(), private_key(algs[i][1]));
		json_t *c = verify(&a, NULL, t, why);

		if (!c)
			fail_msg("%s: %s", algs[i][0], why);
		json_decref(c);
		free(t);
	}
}

/* Expect a refusal whose message contains `want`. */
static void refused(const tg_gw_auth_conf *a, const tg_gw_key *hs, char *tok, const char *want)
{
	char why[256] = "";
	json_t *c = verify(a, hs, tok, why);

	if (c)
		fail_msg("accepted, want refusal '%s'", want);
	if (!strstr(why, want))
		fail_msg("refused with '%s', want '%s'", why, want);
	free(tok);
}

static char *rs(json_t *claims)
{
	return sign_with(json_pack("{s:s,s:s}", "alg", "RS256", "kid", "rsa-1"), claims,
			 private_key("rsa-1"));
}

/* Verifies and frees a token; the claims when accepted. */
static json_t *accepted(const tg_gw_auth_conf *a, char *tok)
{
	char why[256] = "";
	json_t *c = verify(a, NULL, tok, why);

	free(tok);
	return c;
}

/* An HMAC key of bytes[0..len) as a JWK, signing hdr+claims. */
static char *hs_signed(json_t *hdr, json_t *claims, const unsigned char *bytes, size_t len)
{
	json_t *k = json_pack("{s:s,s:o}", "kty", "oct", "k", jose_b64_enc(bytes, len));
	char *t = sign_with(hdr, claims, k);

	json_decref(k);
	return t;
}

static void hostile_claims(void **state)
{
	tg_gw_auth_conf a = conf();
	json_t *c;

	(void)state;
	c = base_claims();
	json_object_set_new(c, "exp", json_integer(NOW - 61));
	refused(&a, NULL, rs(c), "expired");
	c = base_claims();
	json_object_set_new(c, "exp", json_integer(NOW - 30));	/* within the skew */
	c = accepted(&a, rs(c));
	assert_non_null(c);
	json_decref(c);
	c = base_claims();
	json_object_set_new(c, "nbf", json_integer(NOW + 61));
	refused(&a, NULL, rs(c), "not valid yet");
	c = base_claims();
	json_object_set_new(c, "iat", json_integer(NOW + 600));
	refused(&a, NULL, rs(c), "in the future");
	c = base_claims();
	json_object_set_new(c, "exp", json_string("soon"));
	refused(&a, NULL, rs(c), "not an integer");
	c = base_claims();
	json_object_set_new(c, "iss", json_string(ISS "/"));
	refused(&a, NULL, rs(c), "issuer");
	c = base_claims();
	json_object_set_new(c, "aud", json_pack("[s,s]", "http://127.0.0.1:8080", AUD "x"));
	refused(&a, NULL, rs(c), "audience");
	c = base_claims();
	json_object_set_new(c, "cnf", json_pack("{s:s}", "jkt", "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"));
	refused(&a, NULL, rs(c), "bound to a key (cnf)");
	c = base_claims();
	json_object_set_new(c, "aud", json_pack("[s,s]", "http://elsewhere", AUD));
	c = accepted(&a, rs(c));
	assert_non_null(c);	/* a list containing the resource */
	json_decref(c);
}

static void hostile_headers(void **state)
{
	tg_gw_auth_conf a = conf();
	json_t *pub = json_deep_copy(private_key("rsa-1"));
	tg_gw_key hs;
	char *t, *dot;

	(void)state;
	refused(&a, NULL,
		sign_with(json_pack("{s:s,s:s}", "alg", "RS256", "kid", "nope"), base_claims(),
			  private_key("rsa-1")),
		"no key");
	refused(&a, NULL,
		sign_with(json_pack("{s:s,s:s}", "alg", "RS256", "kid", "rsa-1"), base_claims(),
			  private_key("other-1")),
		"signature");
	refused(&a, NULL,
		sign_with(json_pack("{s:s,s:s}", "alg", "ES256", "kid", "rsa-1"), base_claims(),
			  private_key("ec-1")),
		"no key");
	refused(&a, NULL,
		sign_with(json_pack("{s:s,s:s,s:s}", "alg", "RS256", "kid", "rsa-1", "jku",
				    "http://x/"),
			  base_claims(), private_key("rsa-1")),
		"'jku'");
	refused(&a, NULL,
		sign_with(json_pack("{s:s,s:s,s:[s]}", "alg", "RS256", "kid", "rsa-1", "crit", "exp"),
			  base_claims(), private_key("rsa-1")),
		"'crit'");
	a.require_at_jwt = true;
	refused(&a, NULL, rs(base_claims()), "typ");
	a.require_at_jwt = false;
	/* RS-to-HS: an HMAC keyed with the public key's JSON is refused both
	 * without a secret and with one (the secret is not the public key). */
	json_object_del(pub, "d");
	t = json_dumps(pub, JSON_COMPACT);
	memset(&hs, 0, sizeof hs);
	hs.len = strlen(t) < sizeof hs.bytes ? strlen(t) : sizeof hs.bytes;
	memcpy(hs.bytes, t, hs.len);
	free(t);
	refused(&a, NULL,
		hs_signed(json_pack("{s:s,s:s}", "alg", "HS256", "kid", "rsa-1"), base_claims(),
			  hs.bytes, hs.len),
		"HS256 tokens are not accepted");
	{
		tg_gw_key secret;
		json_t *c;

		memset(&secret, 0, sizeof secret);
		memcpy(secret.bytes, "0123456789abcdef0123456789abcdef", 32);
		secret.len = 32;
		refused(&a, &secret,
			hs_signed(json_pack("{s:s}", "alg", "HS256"), base_claims(), hs.bytes,
				  hs.len),
			"signature");
		t = hs_signed(json_pack("{s:s}", "alg", "HS256"), base_claims(), secret.bytes,
			      secret.len);
		c = verify(&a, &secret, t, (char[256]){0});
		assert_non_null(c);	/* the configured secret works */
		json_decref(c);
		free(t);
	}
	json_decref(pub);
	/* Signature stripped, and alg none. */
	t = rs(base_claims());
	dot = strrchr(t, '.');
	dot[1] = '\0';
	refused(&a, NULL, t, "not a signed JWT");
	refused(&a, NULL, strdup("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.AAAA"), "algorithm");
	refused(&a, NULL, strdup("a.b.c.d"), "not a signed JWT");
	refused(&a, NULL, strdup("eyJhbGciOiJSUzI1NiIsImFsZyI6Im5vbmUifQ.e30.AAAA"), "header");
	/* {"typ":"JWT"}: no alg; {"alg":"RS256","kid":5}: a kid not a string. */
	refused(&a, NULL, strdup("eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJhIn0.AAAA"), "names no algorithm");
	refused(&a, NULL, strdup("eyJhbGciOiJSUzI1NiIsImtpZCI6NX0.eyJzdWIiOiJhIn0.AAAA"),
		"kid is not a string");
}

static bool any_key(const json_t *k, void *ud)
{
	(void)k;
	(void)ud;
	return true;
}

/* The signature step with the key objects jwks.c caches: one object per key
 * for the set's life; any changed byte of the signed input or of the
 * signature, a signature of the wrong size, a key of the other type, a
 * key whose key_ops omit "verify": refused. */
static void cached_keys(void **state)
{
	static const char *const algs[][2] = {{"RS256", "rsa-1"}, {"PS256", "rsa-1"}, {"ES256", "ec-1"}};
	tg_gw_auth_conf a = conf();
	char err[256], why[256], path[1100];
	tg_gw_jwks *j = tg_gw_jwks_create(&a, err, sizeof err);
	json_t *set, *k;
	size_t i;

	(void)state;
	assert_non_null(j);
	for (i = 0; i < 3; i++) {
		char *t = sign_with(json_pack("{s:s,s:s}", "alg", algs[i][0], "kid", algs[i][1]),
				    base_claims(), private_key(algs[i][1]));
		char *sig = strrchr(t, '.') + 1;
		size_t in = (size_t)(sig - 1 - t), sl = strlen(sig);
		json_t *key = tg_gw_jwks_key(j, algs[i][1], any_key, NULL, NULL);
		EVP_PKEY *p1 = tg_gw_jwks_pkey(j, key), *p2 = tg_gw_jwks_pkey(j, key);
		json_t *other_key = tg_gw_jwks_key(j, i < 2 ? "ec-1" : "rsa-1", any_key, NULL, NULL);
		EVP_PKEY *other = tg_gw_jwks_pkey(j, other_key);

		assert_non_null(p1);
		assert_ptr_equal(p1, p2);	/* built once, shared */
		assert_true(tg_gw_jws_verify(p1, algs[i][0], t, in, sig, sl));
		assert_false(tg_gw_jws_verify(other, algs[i][0], t, in, sig, sl));
		assert_false(tg_gw_jws_verify(p1, i < 2 ? "ES256" : "RS256", t, in, sig, sl));
		assert_false(tg_gw_jws_verify(p1, "HS256", t, in, sig, sl));
		assert_false(tg_gw_jws_verify(NULL, algs[i][0], t, in, sig, sl));
		assert_false(tg_gw_jws_verify(p1, algs[i][0], t, in, sig, sl - 4));
		/* A one-byte signature: nothing is read past it (ES256 wants 64). */
		assert_false(tg_gw_jws_verify(p1, algs[i][0], t, in, "AA", 2));
		t[in - 3] ^= 1;
		assert_false(tg_gw_jws_verify(p1, algs[i][0], t, in, sig, sl));
		t[in - 3] ^= 1;
		sig[sl / 2] = sig[sl / 2] == 'A' ? 'B' : 'A';
		assert_false(tg_gw_jws_verify(p1, algs[i][0], t, in, sig, sl));
		EVP_PKEY_free(p1);
		EVP_PKEY_free(p2);
		EVP_PKEY_free(other);
		json_decref(other_key);
		json_decref(key);
		free(t);
	}
	{
		/* A key object outlives its set for the request that holds it. */
		json_t *key = tg_gw_jwks_key(j, "rsa-1", any_key, NULL, NULL);
		EVP_PKEY *p = tg_gw_jwks_pkey(j, key);
		char *t = sign_with(json_pack("{s:s,s:s}", "alg", "RS256", "kid", "rsa-1"),
				    base_claims(), private_key("rsa-1"));
		char *sig = strrchr(t, '.') + 1;

		tg_gw_jwks_free(j);
		assert_true(tg_gw_jws_verify(p, "RS256", t, (size_t)(sig - 1 - t), sig, strlen(sig)));
		EVP_PKEY_free(p);
		json_decref(key);
		free(t);
	}
	/* key_ops without "verify": the key verifies nothing. */
	set = json_load_file(keys_path, 0, NULL);
	assert_non_null(set);
	json_array_foreach(json_object_get(set, "keys"), i, k)
		json_object_set_new(k, "key_ops", json_pack("[s]", "encrypt"));
	snprintf(path, sizeof path, "/tmp/tg-test-oauth-%d.json", (int)getpid());
	assert_int_equal(json_dump_file(set, path, 0), 0);
	json_decref(set);
	a.jwks_file = path;
	{
		char *t = rs(base_claims());
		json_t *c = verify(&a, NULL, t, why);

		assert_null(c);
		assert_non_null(strstr(why, "no key"));
		free(t);
	}
	unlink(path);
}

static void claims_mapping(void **state)
{
	tg_gw_auth_conf a = conf();
	tg_mcp_identity id;
	json_t *c = base_claims();
	char why[256];

	(void)state;
	json_object_set_new(c, "azp", json_string("desk"));
	json_object_set_new(c, "act", json_pack("{s:s,s:{s:s}}", "sub", "agent", "act", "sub", "o"));
	a.roles_prefix = (char *)"mcp:";
	tg_mcp_identity_init(&id);
	assert_int_equal(tg_gw_claims_identity(&a, c, NULL, &id, why, sizeof why), 0);
	assert_string_equal(json_string_value(json_object_get(id.principal, "id")), "alice");
	assert_int_equal(json_array_size(json_object_get(id.principal, "roles")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(id.principal, "roles"), 0)),
			    "mcp:reader");
	assert_int_equal(json_array_size(json_object_get(id.token, "scopes")), 2);
	assert_null(json_object_get(id.token, "scope"));
	assert_string_equal(json_string_value(json_object_get(id.token, "client_id")), "desk");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
				    json_object_get(id.token, "act"), "act"), "sub")),
			    "o");
	assert_string_equal(json_string_value(json_object_get(id.token, "jti")), "j-1");
	tg_mcp_identity_clear(&id);
	/* A configured mapping, and wrong types refused. */
	a.claims = json_pack("{s:s,s:s}", "principal.id", "email", "context.org", "org");
	json_object_set_new(c, "email", json_string("a@x"));
	json_object_set_new(c, "org", json_string("acme"));
	json_object_set_new(c, "scope", json_pack("[s,i]", "a", 1));
	tg_mcp_identity_init(&id);
	assert_int_equal(tg_gw_claims_identity(&a, c, NULL, &id, why, sizeof why), -1);
	assert_non_null(strstr(why, "scope"));
	tg_mcp_identity_clear(&id);
	json_object_set_new(c, "scope", json_pack("[s]", "a"));
	tg_mcp_identity_init(&id);
	assert_int_equal(tg_gw_claims_identity(&a, c, NULL, &id, why, sizeof why), 0);
	assert_string_equal(json_string_value(json_object_get(id.principal, "id")), "a@x");
	assert_string_equal(json_string_value(json_object_get(id.context, "org")), "acme");
	tg_mcp_identity_clear(&id);
	json_object_del(c, "email");
	tg_mcp_identity_init(&id);
	assert_int_equal(tg_gw_claims_identity(&a, c, NULL, &id, why, sizeof why), -1);
	assert_non_null(strstr(why, "names no subject"));
	tg_mcp_identity_clear(&id);
	json_decref(a.claims);
	/* The subject and the client id of the default mapping, of the
	 * wrong type or empty: refused with what is wrong. */
	a.claims = NULL;
	static const struct {
		const char *claim, *why;
	} bad[] = { { "sub", "subject is not a usable string" },
		    { "azp", "client id is not a string" } };
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		json_t *values[] = { json_integer(7), json_string(""), json_pack("[s]", "x") };
		for (size_t v = 0; v < 3; v++) {
			json_t *c2 = base_claims();
			if (k == 1 && v == 1) {	/* "" is a string: a client id may be empty */
				json_decref(values[v]);
				json_decref(c2);
				continue;
			}
			json_object_set_new(c2, bad[k].claim, values[v]);
			tg_mcp_identity_init(&id);
			assert_int_equal(tg_gw_claims_identity(&a, c2, NULL, &id, why, sizeof why), -1);
			if (!strstr(why, bad[k].why))
				fail_msg("%s #%zu: '%s', want '%s'", bad[k].claim, v, why, bad[k].why);
			tg_mcp_identity_clear(&id);
			json_decref(c2);
		}
	}
	json_decref(c);
}

/* A key set file the gateway cannot use stops it at start, saying why:
 * not JSON, no "keys", or only keys it must not verify with (an HMAC
 * secret published in a set, an encryption key). */
static void bad_key_sets(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "{\"keys\":[", "jwks_file '" },
		{ "{}", "no \"keys\" array" },
		{ "{\"keys\":{}}", "no \"keys\" array" },
		{ "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}", "no usable signing key" },
		{ "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
		  "no usable signing key" },
		{ "{\"keys\":[7,{\"use\":\"sig\"}]}", "no usable signing key" },
	};
	char path[] = "/tmp/tg-jwks-XXXXXX", err[256];
	tg_gw_auth_conf a = conf();

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, cases[i].text, strlen(cases[i].text)),
				 (ssize_t)strlen(cases[i].text));
		close(fd);
		a.jwks_file = path;
		err[0] = 0;
		tg_gw_jwks *j = tg_gw_jwks_create(&a, err, sizeof err);
		unlink(path);
		memcpy(path + sizeof path - 7, "XXXXXX", 6);
		if (j || !strstr(err, cases[i].why))
			fail_msg("'%s': %s '%s', want '%s'", cases[i].text, j ? "accepted" : "refused",
				 err, cases[i].why);
	}
}

/* The cache of validated tokens on its own: an entry serves the same
 * token at the same resource, under the same key set generation, until
 * `until`; one slot holds one token. */
static void remembered_tokens(void **state)
{
	tg_gw_jwt_cache *c = tg_gw_jwt_cache_new(1);
	json_t *claims = base_claims(), *got;
	const char *tok = "aaa.bbb.ccc", *other = "aaa.bbb.ccd";

	(void)state;
	assert_non_null(c);
	assert_null(tg_gw_jwt_cache_get(c, AUD, tok, strlen(tok), NOW, 7));
	tg_gw_jwt_cache_put(c, AUD, tok, strlen(tok), claims, NOW + 100, 7);
	got = tg_gw_jwt_cache_get(c, AUD, tok, strlen(tok), NOW + 99, 7);
	assert_ptr_equal(got, claims);
	json_decref(got);
	assert_null(tg_gw_jwt_cache_get(c, AUD, tok, strlen(tok), NOW + 100, 7));	/* expired */
	assert_null(tg_gw_jwt_cache_get(c, AUD, tok, strlen(tok), NOW, 8));	/* keys fetched */
	assert_null(tg_gw_jwt_cache_get(c, "http://127.0.0.1:8080/other/mcp", tok, strlen(tok),
					NOW, 7));
	assert_null(tg_gw_jwt_cache_get(c, AUD, other, strlen(other), NOW, 7));
	assert_null(tg_gw_jwt_cache_get(c, AUD, tok, strlen(tok) - 1, NOW, 7));
	/* The one slot goes to the next token. */
	tg_gw_jwt_cache_put(c, AUD, other, strlen(other), claims, NOW + 100, 7);
	assert_null(tg_gw_jwt_cache_get(c, AUD, tok, strlen(tok), NOW, 7));
	got = tg_gw_jwt_cache_get(c, AUD, other, strlen(other), NOW, 7);
	assert_ptr_equal(got, claims);
	json_decref(got);
	tg_gw_jwt_cache_free(c);
	assert_null(tg_gw_jwt_cache_get(NULL, AUD, tok, strlen(tok), NOW, 7));
	json_decref(claims);
}

/* The step accepts peer's token as principal `want`: what it put in the
 * audit record, the caller's to release. */
static json_t *identifies_as(const tg_gw_identity_step *step, const tg_gw_peer *peer,
			     const char *want)
{
	tg_mcp_identity id;
	tg_gw_who who;

	memset(&who, 0, sizeof who);
	tg_mcp_identity_init(&id);
	assert_int_equal(step->identify(step->self, peer, &id, &who), 0);
	assert_string_equal(json_string_value(json_object_get(id.principal, "id")), want);
	tg_mcp_identity_clear(&id);
	return who.audit;
}

/* The step refuses peer's token (401), saying why. */
static void identify_refuses(const tg_gw_identity_step *step, const tg_gw_peer *peer,
			     const char *why)
{
	tg_mcp_identity id;
	tg_gw_who who;

	memset(&who, 0, sizeof who);
	tg_mcp_identity_init(&id);
	assert_int_equal(step->identify(step->self, peer, &id, &who), 401);
	if (!strstr(who.why, why))
		fail_msg("refused for '%s', not '%s'", who.why, why);
	tg_mcp_identity_clear(&id);
}

/* Through the OAuth step: a token served the second time from the cache
 * gives the same identity, and what the cache must not change holds: the
 * same token at another resource (another audience) and a token one
 * signature byte away are validated, and refused. */
static void oauth_remembers(void **state)
{
	tg_gw_auth_conf a = conf();
	tg_gw_upstream_conf u = {.name = (char *)"rec", .path = (char *)"/rec/mcp"};
	tg_gw_identity_step step;
	tg_gw_conf gc;
	tg_gw_peer peer;
	char err[256], header[4096], *t = rs(base_claims());
	int round;

	(void)state;
	memset(&gc, 0, sizeof gc);
	gc.resource = (char *)"http://127.0.0.1:8080";
	assert_int_equal(tg_gw_identity_oauth(&a, NOW, &step, err, sizeof err), 0);
	memset(&peer, 0, sizeof peer);
	peer.conf = &gc;
	peer.uc = &u;
	peer.resource = AUD;
	peer.authorization = header;
	snprintf(header, sizeof header, "Bearer %s", t);
	for (round = 0; round < 2; round++) {
		json_t *audit = identifies_as(&step, &peer, "alice");

		assert_string_equal(json_string_value(json_object_get(audit, "jti")), "j-1");
		json_decref(audit);
	}
	peer.resource = "http://127.0.0.1:8080/other/mcp";
	identify_refuses(&step, &peer, "audience");
	peer.resource = AUD;
	size_t n = strlen(header);
	header[n - 2] = header[n - 2] == 'A' ? 'B' : 'A';
	identify_refuses(&step, &peer, "signature");
	tg_gw_identity_destroy(&step);
	free(t);
}

static void metadata_urls(void **state)
{
	tg_gw_upstream_conf u = {.name = (char *)"f", .path = (char *)"/files/mcp"};
	tg_gw_conf c;
	char out[512];

	(void)state;
	memset(&c, 0, sizeof c);
	c.resource = (char *)"https://gw.example/base";
	assert_int_equal(tg_gw_prm_url(&c, &u, out, sizeof out), 0);
	assert_string_equal(out, "https://gw.example/.well-known/oauth-protected-resource/base/files/mcp");
	tg_gw_challenge(&c, &u, "insufficient_scope", "say \"hi\"", "a b", out, sizeof out);
	assert_string_equal(out, "Bearer error=\"insufficient_scope\", scope=\"a b\", "
				 "resource_metadata=\"https://gw.example/.well-known/"
				 "oauth-protected-resource/base/files/mcp\", error_description=\"say hi\"");
}

/* ---- introspection (RFC 7662) against a canned HTTP responder ---------------- */

typedef struct responder {
	int fd;
	const char *answer;	/* the whole HTTP response */
	char request[4096];	/* the request as received */
} responder;

static void *respond_once(void *arg)
{
	responder *r = arg;
	int c = accept(r->fd, NULL, NULL);
	size_t n = 0;

	if (c < 0)
		return NULL;
	/* Headers, then the body of Content-Length bytes. */
	for (;;) {
		ssize_t k = recv(c, r->request + n, sizeof r->request - 1 - n, 0);
		const char *end, *cl;

		if (k <= 0)
			break;
		n += (size_t)k;
		r->request[n] = '\0';
		end = strstr(r->request, "\r\n\r\n");
		cl = strstr(r->request, "Content-Length:");
		if (end && cl && n >= (size_t)(end + 4 - r->request) + strtoul(cl + 15, NULL, 10))
			break;
	}
	if (send(c, r->answer, strlen(r->answer), 0) < 0)
		r->request[0] = '\0';
	close(c);
	return NULL;
}

/* Starts a responder that answers one request with answer; url gets its
 * address. */
static void responder_start(responder *r, pthread_t *t, const char *answer, char *url,
			    size_t urllen)
{
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof sa;

	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(r->fd >= 0);
	assert_int_equal(bind(r->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(r->fd, 1), 0);
	assert_int_equal(getsockname(r->fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(url, urllen, "http://127.0.0.1:%u/introspect", ntohs(sa.sin_port));
	r->answer = answer;
	r->request[0] = '\0';
	assert_int_equal(pthread_create(t, NULL, respond_once, r), 0);
}

static void responder_stop(responder *r, pthread_t t)
{
	pthread_join(t, NULL);
	close(r->fd);
}

/* Introspects token at a responder giving answer; the claims or NULL with
 * why, the request it saw in r. */
static json_t *introspect_at(responder *r, const char *answer, const char *token, char *why)
{
	pthread_t t;
	char url[64];
	tg_gw_auth_conf a = conf();
	bool inactive;
	json_t *c;

	responder_start(r, &t, answer, url, sizeof url);
	a.introspection_endpoint = url;
	a.introspection_client_id = (char *)"gw:1";
	a.introspection_secret = (char *)"s&cret";
	c = tg_gw_introspect(&a, token, strlen(token), why, 256, &inactive);
	/* "not active" exactly when the server said so */
	if (!c && inactive != (strstr(why, "not active") != NULL))
		fail_msg("inactive %d for '%s'", inactive, why);
	responder_stop(r, t);
	return c;
}

#define OK_HEAD "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"

static void introspection(void **state)
{
	static const char *const refusals[][2] = {
		{OK_HEAD "{\"active\":false}", "not active"},
		{OK_HEAD "{\"active\":\"true\"}", "not active"},
		{OK_HEAD "{}", "not active"},
		{OK_HEAD "{\"active\":true,\"token_type\":\"DPoP\"}", "not a bearer token (token_type DPoP)"},
		{OK_HEAD "{\"active\":true,\"token_type\":7}", "not a bearer token"},
		{OK_HEAD "{\"active\":true,\"active\":true}", "not a JSON object"},
		{OK_HEAD "[true]", "not a JSON object"},
		{OK_HEAD "{\"active\":true,\"x\":[[[[[[[[[[1]]]]]]]]]]}", "not a JSON object"},
		{"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		 "answered HTTP 401"},
	};
	responder r;
	char why[256];
	json_t *c;

	(void)state;
	c = introspect_at(&r, OK_HEAD "{\"active\":true,\"token_type\":\"bearer\",\"sub\":\"alice\"}",
			  "op+aque/tok=", why);
	if (!c)
		fail_msg("refused: %s", why);
	assert_string_equal(json_string_value(json_object_get(c, "sub")), "alice");
	json_decref(c);
	/* A form-encoded token, the hint, and Basic credentials of the
	 * form-encoded id and secret ("gw%3A1:s%26cret"). */
	assert_non_null(strstr(r.request, "POST /introspect HTTP/1.1\r\n"));
	assert_non_null(strstr(r.request, "\r\n\r\ntoken=op%2Baque%2Ftok%3D&token_type_hint=access_token"));
	assert_non_null(strstr(r.request, "Authorization: Basic Z3clM0ExOnMlMjZjcmV0\r\n"));
	assert_non_null(strstr(r.request, "Accept: application/json\r\n"));
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		why[0] = '\0';
		c = introspect_at(&r, refusals[i][0], "t", why);
		if (c || !strstr(why, refusals[i][1]))
			fail_msg("answer %zu: %s, want refusal '%s'", i, c ? "accepted" : why,
				 refusals[i][1]);
	}
}

/* With a key set and an introspection endpoint both, a JWT is checked
 * with the keys and anything else introspected, its answer remembered. */
static void oauth_routes_tokens(void **state)
{
	static const char answer[] =
		OK_HEAD "{\"active\":true,\"token_type\":\"Bearer\",\"iss\":\"" ISS "\",\"aud\":\"" AUD
		"\",\"sub\":\"bob\",\"exp\":1800000300,\"scope\":\"tools:read\"}";
	static const char *const opaque[] = {"opaque-tok_1", "v4.public.eyJzdWIiOiJ4In0"};
	tg_gw_auth_conf a = conf();
	tg_gw_upstream_conf u = {.name = (char *)"rec", .path = (char *)"/rec/mcp"};
	tg_gw_identity_step step;
	tg_gw_conf gc;
	tg_gw_peer peer;
	responder r;
	pthread_t t;
	char err[256], header[4096], url[64], *jwt = rs(base_claims());

	(void)state;
	memset(&gc, 0, sizeof gc);
	gc.resource = (char *)"http://127.0.0.1:8080";
	memset(&peer, 0, sizeof peer);
	peer.conf = &gc;
	peer.uc = &u;
	peer.resource = AUD;
	peer.authorization = header;
	a.introspection_client_id = (char *)"gw";
	a.introspection_secret = (char *)"s";
	a.introspection_cache_s = 60;
	for (size_t i = 0; i < 2; i++) {
		tg_mcp_identity id;
		tg_gw_who who;
		json_t *audit;

		responder_start(&r, &t, answer, url, sizeof url);
		a.introspection_endpoint = url;
		assert_int_equal(tg_gw_identity_oauth(&a, NOW, &step, err, sizeof err), 0);
		/* The JWT needs no endpoint: the responder sees nothing. */
		snprintf(header, sizeof header, "Bearer %s", jwt);
		json_decref(identifies_as(&step, &peer, "alice"));
		/* An opaque token: on the event loop it would wait; on a worker it
		 * is introspected. */
		snprintf(header, sizeof header, "Bearer %s", opaque[i]);
		peer.no_wait = true;
		tg_mcp_identity_init(&id);
		memset(&who, 0, sizeof who);
		assert_int_equal(step.identify(step.self, &peer, &id, &who), TG_GW_WOULD_WAIT);
		tg_mcp_identity_clear(&id);
		peer.no_wait = false;
		audit = identifies_as(&step, &peer, "bob");
		assert_non_null(json_object_get(audit, "token_sha256"));
		json_decref(audit);
		responder_stop(&r, t);
		assert_non_null(strstr(r.request, "token_type_hint=access_token"));
		/* Remembered: the responder is gone, the answer still serves, now
		 * on the event loop too. */
		peer.no_wait = true;
		json_decref(identifies_as(&step, &peer, "bob"));
		peer.no_wait = false;
		tg_gw_identity_destroy(&step);
	}
	/* "Not active" is remembered too: asked once, then refused at once,
	 * on the event loop, with the responder gone. */
	responder_start(&r, &t, OK_HEAD "{\"active\":false}", url, sizeof url);
	a.introspection_endpoint = url;
	assert_int_equal(tg_gw_identity_oauth(&a, NOW, &step, err, sizeof err), 0);
	snprintf(header, sizeof header, "Bearer revoked-tok");
	for (int round = 0; round < 2; round++) {
		identify_refuses(&step, &peer, round ? "not active (asked at most 60s ago)"
						     : "says the token is not active");
		if (round == 0)
			responder_stop(&r, t);
		peer.no_wait = true;
	}
	peer.no_wait = false;
	tg_gw_identity_destroy(&step);
	free(jwt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_algorithms), cmocka_unit_test(hostile_claims),
		cmocka_unit_test(hostile_headers), cmocka_unit_test(claims_mapping),
		cmocka_unit_test(bad_key_sets),
		cmocka_unit_test(metadata_urls), cmocka_unit_test(cached_keys),
		cmocka_unit_test(remembered_tokens), cmocka_unit_test(oauth_remembers),
		cmocka_unit_test(introspection), cmocka_unit_test(oauth_routes_tokens),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
