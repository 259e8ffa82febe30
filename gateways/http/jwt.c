/*
 * jwt.c - validating a JWT access token (RFC 9068 profile of RFC 7519)
 * for one protected resource. Signatures are checked by OpenSSL
 * (EVP_DigestVerify) with the key object jwks.c built once per key, or by
 * libjose (jose_jws_ver) for an HMAC secret; nothing here is cryptography,
 * only the decisions around it, each of which refuses by default:
 *
 *   - shape: compact JWS, three base64url parts, a non-empty signature, at
 *     most TG_GW_JWT_MAX bytes; header and claims are JSON objects without
 *     duplicate keys and no deeper than TG_GW_JWT_MAX_DEPTH;
 *   - algorithm: RS256, PS256 or ES256 against a key from the issuer's set;
 *     HS256/384/512 only when auth.hs_secret_file is configured, and then
 *     only against that secret. `none` and everything else is refused. The
 *     algorithm picks the key type before any key is looked at, so a public
 *     key can never be used as an HMAC secret (algorithm confusion), and a
 *     key that names its own `alg` must name the token's;
 *   - keys named by the token itself (jwk, jku, x5u, x5c) are never
 *     trusted or fetched: such a token is refused, as is any `crit`;
 *   - `typ` must be at+jwt when auth.require_at_jwt is set;
 *   - a key whose key_ops omit "verify" verifies nothing (as in libjose);
 *   - claims: iss equals the issuer; aud (string or list) contains the
 *     resource the request is for; exp is required, nbf and iat are checked
 *     when present, all with auth.clock_skew_s of tolerance; a token bound
 *     to a key (`cnf`: DPoP or mTLS) is refused, as no proof comes with it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jose/b64.h>
#include <jose/jws.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>

#include "gateway.h"

static bool b64url_chars(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

size_t tg_gw_json_depth(const json_t *v)
{
	size_t d = 0, i;
	const char *k;
	json_t *c;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, c) {
			size_t e = tg_gw_json_depth(c);

			if (e > d)
				d = e;
			if (d > TG_GW_JWT_MAX_DEPTH)
				break;
		}
		return d + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, c) {
			size_t e = tg_gw_json_depth(c);

			if (e > d)
				d = e;
			if (d > TG_GW_JWT_MAX_DEPTH)
				break;
		}
		return d + 1;
	}
	return 0;
}

/* One base64url part as a JSON object, or NULL. */
static json_t *part_json(const char *p, size_t n)
{
	size_t len = jose_b64_dec_buf(p, n, NULL, 0);
	char *buf;
	json_t *v = NULL;

	if (len == SIZE_MAX || len == 0)
		return NULL;
	buf = malloc(len);
	if (!buf)
		return NULL;
	if (jose_b64_dec_buf(p, n, buf, len) == len)
		v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	free(buf);
	if (v && (!json_is_object(v) || tg_gw_json_depth(v) > TG_GW_JWT_MAX_DEPTH)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

typedef struct want_key {
	const char *alg;
	const char *kty;	/* "RSA" or "EC" */
	const char *crv;	/* "P-256" for ES256 */
} want_key;

static bool key_fits(const json_t *k, void *ud)
{
	const want_key *w = ud;
	const char *kty = json_string_value(json_object_get(k, "kty"));
	const char *alg = json_string_value(json_object_get(k, "alg"));
	const char *crv = json_string_value(json_object_get(k, "crv"));

	if (!kty || strcmp(kty, w->kty) != 0)
		return false;
	if (json_object_get(k, "alg") && (!alg || strcmp(alg, w->alg) != 0))
		return false;
	if (w->crv && (!crv || strcmp(crv, w->crv) != 0))
		return false;
	if (json_object_get(k, "key_ops")) {
		const json_t *ops = json_object_get(k, "key_ops"), *op;
		size_t i;
		bool verify = false;

		json_array_foreach(ops, i, op)
			if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0)
				verify = true;
		if (!verify)
			return false;
	}
	return true;
}

/* An ES256 signature is r || s, 32 bytes each (RFC 7518 3.4); OpenSSL
 * wants DER. The DER form in a malloc'd buffer, or NULL. */
static unsigned char *es256_der(const unsigned char *raw, size_t len, size_t *derlen)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	unsigned char *der = NULL;
	int n;

	/* The length first: r and s are read from it (a shorter signature
	 * is the sender's to choose). */
	if (len != 64)
		return NULL;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(raw, 32, NULL);
	s = BN_bin2bn(raw + 32, 32, NULL);
	if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return NULL;
	}
	n = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return NULL;
	*derlen = (size_t)n;
	return der;
}

bool tg_gw_jws_verify(EVP_PKEY *pk, const char *alg, const char *input, size_t inlen,
		      const char *sig, size_t siglen)
{
	size_t rawlen = jose_b64_dec_buf(sig, siglen, NULL, 0), derlen = 0;
	unsigned char *raw = NULL, *der = NULL;
	EVP_MD_CTX *mc = NULL;
	EVP_PKEY_CTX *pc = NULL;
	bool rsa = strcmp(alg, "RS256") == 0, pss = strcmp(alg, "PS256") == 0, ok = false;

	if (!pk || rawlen == SIZE_MAX || rawlen == 0 || rawlen > 1024)
		return false;
	if (rsa || pss) {
		if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pk) < 2048)
			return false;
	} else if (strcmp(alg, "ES256") != 0 || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
		   EVP_PKEY_get_bits(pk) != 256) {
		return false;
	}
	raw = malloc(rawlen);
	if (!raw || jose_b64_dec_buf(sig, siglen, raw, rawlen) != rawlen)
		goto out;
	if (!rsa && !pss && !(der = es256_der(raw, rawlen, &derlen)))
		goto out;
	mc = EVP_MD_CTX_new();
	if (!mc || EVP_DigestVerifyInit(mc, &pc, EVP_sha256(), NULL, pk) != 1)
		goto out;
	if (rsa && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) <= 0)
		goto out;
	/* RFC 7518 3.5: the salt is as long as the hash. */
	if (pss && (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) <= 0))
		goto out;
	ok = EVP_DigestVerify(mc, der ? der : raw, der ? derlen : rawlen,
			      (const unsigned char *)input, inlen) == 1;
out:
	EVP_MD_CTX_free(mc);
	OPENSSL_free(der);
	free(raw);
	return ok;
}

static bool is_hs(const char *alg)
{
	return strcmp(alg, "HS256") == 0 || strcmp(alg, "HS384") == 0 || strcmp(alg, "HS512") == 0;
}

/* The key to check the signature with (a reference), or NULL with why. */
static json_t *key_for(const json_t *hdr, const char *alg, tg_gw_jwks *keys, const tg_gw_key *hs,
		       char *why, size_t whylen, bool *would_wait)
{
	const json_t *kidv = json_object_get(hdr, "kid");
	const char *kid = json_string_value(kidv);
	want_key w = {alg, NULL, NULL};
	json_t *k;

	if (kidv && !kid) {
		snprintf(why, whylen, "the token's kid is not a string");
		return NULL;
	}
	if (is_hs(alg)) {
		if (!hs) {
			snprintf(why, whylen, "%s tokens are not accepted (no shared secret is configured)",
				 alg);
			return NULL;
		}
		/* Only the configured secret: never a key from the set. */
		k = json_pack("{s:s,s:o,s:s}", "kty", "oct", "k", jose_b64_enc(hs->bytes, hs->len),
			      "alg", alg);
		if (!k)
			snprintf(why, whylen, "out of memory");
		return k;
	}
	if (strcmp(alg, "RS256") == 0 || strcmp(alg, "PS256") == 0)
		w.kty = "RSA";
	else if (strcmp(alg, "ES256") == 0)
		w.kty = "EC", w.crv = "P-256";
	else {
		snprintf(why, whylen, "the token's algorithm is not accepted");
		return NULL;
	}
	k = keys ? tg_gw_jwks_key(keys, kid, key_fits, &w, would_wait) : NULL;
	if (!k)
		snprintf(why, whylen, "no key of the issuer matches the token's kid and alg");
	return k;
}

static bool int_claim(const json_t *c, const char *name, json_int_t *out, bool *present)
{
	const json_t *v = json_object_get(c, name);

	*present = v != NULL;
	if (!v)
		return true;
	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

int tg_gw_token_claims_check(const json_t *c, const tg_gw_auth_conf *a, const char *resource,
			     int64_t now, char *why, size_t whylen)
{
	const json_t *aud = json_object_get(c, "aud"), *v;
	const char *iss = json_string_value(json_object_get(c, "iss"));
	json_int_t exp = 0, nbf = 0, iat = 0, skew = (json_int_t)a->clock_skew_s;
	bool has_exp, has_nbf, has_iat, aud_ok = false;
	size_t i;

	if (!iss || strcmp(iss, a->issuer) != 0) {
		snprintf(why, whylen, "the token's issuer is not %s", a->issuer);
		return -1;
	}
	if (json_is_string(aud))
		aud_ok = strcmp(json_string_value(aud), resource) == 0;
	else if (json_is_array(aud))
		json_array_foreach(aud, i, v)
			if (json_is_string(v) && strcmp(json_string_value(v), resource) == 0)
				aud_ok = true;
	if (!aud_ok) {
		snprintf(why, whylen, "the token's audience does not include %s", resource);
		return -1;
	}
	if (!int_claim(c, "exp", &exp, &has_exp) || !int_claim(c, "nbf", &nbf, &has_nbf) ||
	    !int_claim(c, "iat", &iat, &has_iat)) {
		snprintf(why, whylen, "the token's exp, nbf or iat is not an integer");
		return -1;
	}
	if (!has_exp || now >= exp + skew) {
		snprintf(why, whylen, has_exp ? "the token has expired" : "the token has no exp");
		return -1;
	}
	if (has_nbf && now + skew < nbf) {
		snprintf(why, whylen, "the token is not valid yet");
		return -1;
	}
	if (has_iat && iat > now + skew) {
		snprintf(why, whylen, "the token was issued in the future");
		return -1;
	}
	/* A sender-constrained token (DPoP, RFC 9449; mTLS, RFC 8705) is
	 * only good with the proof of its key, which a bearer request does not
	 * carry and the gateway does not check: taken as a bearer token, a
	 * stolen one would be as good as its owner's. */
	if (json_object_get(c, "cnf")) {
		snprintf(why, whylen, "the token is bound to a key (cnf), and the gateway takes "
			 "bearer tokens only");
		return -1;
	}
	return 0;
}

json_t *tg_gw_jwt_verify(const tg_gw_auth_conf *a, tg_gw_jwks *keys, const tg_gw_key *hs,
			 const char *token, const char *resource, int64_t now, char *why,
			 size_t whylen, bool *would_wait)
{
	static const char *const untrusted[] = {"jwk", "jku", "x5u", "x5c", "crit"};
	size_t len = strnlen(token, TG_GW_JWT_MAX + 1), i;
	const char *d1, *d2;
	json_t *hdr = NULL, *claims = NULL, *key = NULL, *jws = NULL;
	EVP_PKEY *pk = NULL;
	const char *alg, *typ;
	bool sig_ok;

	if (len > TG_GW_JWT_MAX) {
		snprintf(why, whylen, "the token is longer than %u bytes", TG_GW_JWT_MAX);
		return NULL;
	}
	d1 = memchr(token, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
	if (!d1 || !d2 || d1 == token || d2 == d1 + 1 || d2[1] == '\0' ||
	    !b64url_chars(token, (size_t)(d1 - token)) ||
	    !b64url_chars(d1 + 1, (size_t)(d2 - d1 - 1)) ||
	    !b64url_chars(d2 + 1, len - (size_t)(d2 + 1 - token))) {
		snprintf(why, whylen, "the token is not a signed JWT");
		return NULL;
	}
	hdr = part_json(token, (size_t)(d1 - token));
	if (!hdr) {
		snprintf(why, whylen, "the token's header is not a JSON object");
		goto fail;
	}
	alg = json_string_value(json_object_get(hdr, "alg"));
	if (!alg) {
		snprintf(why, whylen, "the token names no algorithm");
		goto fail;
	}
	for (i = 0; i < sizeof untrusted / sizeof untrusted[0]; i++)
		if (json_object_get(hdr, untrusted[i])) {
			snprintf(why, whylen, "the token's header carries '%s', which is not trusted",
				 untrusted[i]);
			goto fail;
		}
	typ = json_string_value(json_object_get(hdr, "typ"));
	if (a->require_at_jwt && (!typ || (strcasecmp(typ, "at+jwt") != 0 &&
					   strcasecmp(typ, "application/at+jwt") != 0))) {
		snprintf(why, whylen, "the token's typ is not at+jwt");
		goto fail;
	}
	key = key_for(hdr, alg, keys, hs, why, whylen, would_wait);
	if (!key)
		goto fail;
	if (is_hs(alg)) {
		jws = json_pack("{s:s%,s:s%,s:s%}", "protected", token, (size_t)(d1 - token),
				"payload", d1 + 1, (size_t)(d2 - d1 - 1), "signature", d2 + 1,
				len - (size_t)(d2 + 1 - token));
		sig_ok = jws && jose_jws_ver(NULL, jws, NULL, key, false);
	} else {
		pk = tg_gw_jwks_pkey(keys, key);
		sig_ok = tg_gw_jws_verify(pk, alg, token, (size_t)(d2 - token), d2 + 1,
					  len - (size_t)(d2 + 1 - token));
	}
	if (!sig_ok) {
		snprintf(why, whylen, "the token's signature does not verify");
		goto fail;
	}
	claims = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
	if (!claims) {
		snprintf(why, whylen, "the token's claims are not a JSON object");
		goto fail;
	}
	if (tg_gw_token_claims_check(claims, a, resource, now, why, whylen) != 0) {
		json_decref(claims);
		claims = NULL;
	}
fail:
	EVP_PKEY_free(pk);
	json_decref(jws);
	json_decref(key);
	json_decref(hdr);
	return claims;
}
