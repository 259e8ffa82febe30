/*
 * jwks.c - the issuer's signing keys (a JWK set), from a file or from the
 * issuer's jwks_uri (libcurl).
 *
 * Model: one holder per gateway keeps the last good key set as an immutable
 * jansson tree; a request takes a reference under the lock and reads it
 * without one. A `jwks_file` is read once at start (a key rotation is a
 * restart, like the session key). A `jwks_uri` is fetched by one refresher
 * thread, never by a request-serving thread:
 *
 *   - at start, and again when the answer's lifetime (Cache-Control max-age,
 *     else auth.jwks_max_age_s) has passed;
 *   - early, when a request meets a `kid` it does not know: the request
 *     signals the refresher and waits at most auth.jwks_wait_ms for a newer
 *     generation. Only the refresher fetches, so any number of waiting
 *     requests cost one fetch (single flight), and it fetches at most once
 *     per auth.jwks_min_refresh_s, so a flood of tokens with random kids
 *     cannot hammer the issuer: they wait their bounded time and fail.
 *
 * A failed fetch (issuer down, bad JSON, no usable key) keeps the last good
 * set serving; a key that was never fetched is never trusted, so new kids
 * fail closed while the issuer is down. Fetched documents are capped in
 * size and time and restricted to http(s).
 *
 * Each installed set comes with its OpenSSL key objects, built once
 * (jose_openssl_jwk_to_EVP_PKEY) when the set arrives: building one is the
 * larger part of checking a signature (an EC key's point is validated on
 * every build), so a request only takes a counted reference.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jose/openssl.h>
#include <openssl/x509.h>

#include "driver.h"
#include "gateway.h"

#define JWKS_MAX_BYTES (512u * 1024)
#define JWKS_MAX_KEYS 64

struct tg_gw_jwks {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* generation changed, or a refresh is wanted */
	json_t *keys;			/* the last good {"keys":[...]}, or NULL */
	/* pk[i] is keys' i-th key as an OpenSSL object, or NULL when OpenSSL
	 * refused it (such a key then never verifies anything). */
	EVP_PKEY *pk[JWKS_MAX_KEYS];
	unsigned long generation;	/* bumped by every fetch attempt that ended */
	bool want, stop, has_thread;
	pthread_t thread;
	char *uri;
	unsigned min_refresh_s, wait_ms, max_age_s;
	int64_t last_fetch_ms;		/* monotonic; 0 never */
	int64_t expires_ms;		/* when the set must be fetched again */
	unsigned long fetches, failures;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libjose builds a legacy (OpenSSL 1.1 style) key; OpenSSL 3 would convert
 * it to its provider form on each use. Round-tripping it through its
 * SubjectPublicKeyInfo encoding yields the provider form once. Takes pk;
 * NULL when it cannot be encoded. */
static EVP_PKEY *native(EVP_PKEY *pk)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *out = NULL;
	int n = pk ? i2d_PUBKEY(pk, &der) : -1;

	if (n > 0) {
		p = der;
		out = d2i_PUBKEY(NULL, &p, n);
	}
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	return out;
}

/* Builds the OpenSSL objects of set's keys into pk (outside any lock: it
 * is the slow part). */
static void build_pkeys(const json_t *set, EVP_PKEY **pk)
{
	const json_t *k;
	size_t i;

	memset(pk, 0, sizeof(EVP_PKEY *) * JWKS_MAX_KEYS);
	json_array_foreach(json_object_get(set, "keys"), i, k)
		if (i < JWKS_MAX_KEYS)
			pk[i] = native(jose_openssl_jwk_to_EVP_PKEY(NULL, k));
}

/* Replaces the current set and its key objects (the caller holds the lock
 * or is alone). A request holding a key object of the old set keeps its
 * own reference. */
static void install(tg_gw_jwks *j, json_t *set, EVP_PKEY **pk)
{
	size_t i;

	json_decref(j->keys);
	for (i = 0; i < JWKS_MAX_KEYS; i++) {
		EVP_PKEY_free(j->pk[i]);
		j->pk[i] = pk ? pk[i] : NULL;
	}
	j->keys = set;
}

/* Keeps the keys a verifier may use: objects with a string kty, not for
 * encryption, at most JWKS_MAX_KEYS. Private members are dropped so a
 * misconfigured issuer's private key is never held. NULL when none. */
static json_t *usable_set(const json_t *doc, char *err, size_t errlen)
{
	static const char *const priv[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
	json_t *keys = json_object_get(doc, "keys"), *out = json_array(), *k;
	size_t i, j;

	if (!out)
		return NULL;
	if (!json_is_array(keys)) {
		snprintf(err, errlen, "not a JWK set (no \"keys\" array)");
		json_decref(out);
		return NULL;
	}
	json_array_foreach(keys, i, k) {
		const char *use = json_string_value(json_object_get(k, "use"));
		json_t *c;

		if (!json_is_object(k) || !json_is_string(json_object_get(k, "kty")) ||
		    (use && strcmp(use, "sig") != 0) || json_array_size(out) >= JWKS_MAX_KEYS)
			continue;
		/* Symmetric keys never come from a key set: an HMAC secret is
		 * configured (auth.hs_secret_file), never published. */
		if (strcmp(json_string_value(json_object_get(k, "kty")), "oct") == 0)
			continue;
		c = json_deep_copy(k);
		if (!c)
			break;
		for (j = 0; j < sizeof priv / sizeof priv[0]; j++)
			json_object_del(c, priv[j]);
		json_array_append_new(out, c);
	}
	if (json_array_size(out) == 0) {
		snprintf(err, errlen, "the JWK set has no usable signing key");
		json_decref(out);
		return NULL;
	}
	k = json_pack("{s:o}", "keys", out);
	return k;
}

static json_t *parse_set(const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *set;

	if (!doc) {
		snprintf(err, errlen, "bad JSON: %s", je.text);
		return NULL;
	}
	set = usable_set(doc, err, errlen);
	json_decref(doc);
	return set;
}

/* Cache-Control: max-age=N, if the answer says so (bounded below by the
 * refresh interval, above by a day), else the configured default. */
static unsigned max_age_of(const char *cc, unsigned dflt)
{
	const char *p = NULL;
	unsigned long n;

	for (; cc && *cc && !p; cc++)
		if (strncasecmp(cc, "max-age=", 8) == 0)
			p = cc;
	if (!p)
		return dflt;
	n = strtoul(p + 8, NULL, 10);
	return n > 86400 ? 86400 : (unsigned)n;
}

typedef struct header_buf {
	char cache_control[128];
} header_buf;

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	header_buf *h = ud;
	size_t k = size * n;

	if (k > 14 && strncasecmp(p, "cache-control:", 14) == 0) {
		size_t m = k - 14 < sizeof h->cache_control - 1 ? k - 14 : sizeof h->cache_control - 1;

		memcpy(h->cache_control, p + 14, m);
		h->cache_control[m] = '\0';
	}
	return k;
}

/* One GET of the key set. The new set, or NULL with a message. */
static json_t *fetch(const char *uri, unsigned *max_age, unsigned dflt, char *err, size_t errlen)
{
	CURL *e = curl_easy_init();
	tg_gw_body b = {NULL, 0, JWKS_MAX_BYTES, false};
	header_buf h = {{0}};
	json_t *set = NULL;
	long status = 0;
	CURLcode rc;

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tg_gw_own_request(e, uri, &b);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &h);
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	if (rc != CURLE_OK)
		snprintf(err, errlen, "%s", b.overflow ? "the key set is too large"
						       : curl_easy_strerror(rc));
	else if (status != 200)
		snprintf(err, errlen, "HTTP status %ld", status);
	else if ((set = parse_set(b.data ? b.data : "", b.len, err, errlen)))
		*max_age = max_age_of(h.cache_control, dflt);
	free(b.data);
	return set;
}

static void *refresher(void *arg)
{
	tg_gw_jwks *j = arg;

	pthread_mutex_lock(&j->lock);
	while (!j->stop) {
		int64_t now = mono_ms();
		bool due = j->keys == NULL || now >= j->expires_ms;
		bool may = j->last_fetch_ms == 0 ||
			   now - j->last_fetch_ms >= (int64_t)j->min_refresh_s * 1000;

		if ((due || j->want) && may) {
			char err[256] = "";
			unsigned age = j->max_age_s;
			char *uri = j->uri;
			json_t *set;
			EVP_PKEY *pk[JWKS_MAX_KEYS];

			j->want = false;
			j->last_fetch_ms = now;
			pthread_mutex_unlock(&j->lock);
			set = fetch(uri, &age, j->max_age_s, err, sizeof err);
			if (set)
				build_pkeys(set, pk);
			pthread_mutex_lock(&j->lock);
			j->fetches++;
			if (set) {
				install(j, set, pk);
				if (age < j->min_refresh_s)
					age = j->min_refresh_s;
				j->expires_ms = mono_ms() + (int64_t)age * 1000;
			} else {
				/* The last good set keeps serving. */
				j->failures++;
				tg_drv_error("gateway: auth: fetching %s: %s%s", uri, err,
					     j->keys ? "; keeping the keys fetched before" : "");
			}
			/* Whoever asked during the fetch is answered by it. */
			j->want = false;
			j->generation++;
			pthread_cond_broadcast(&j->cond);
			continue;
		}
		{
			/* Sleep until the next fetch may or must happen. */
			int64_t wake = j->want || due ? j->last_fetch_ms + (int64_t)j->min_refresh_s * 1000
						      : j->expires_ms;
			struct timespec ts;

			if (wake - now > 60000)
				wake = now + 60000;
			tg_gw_deadline(&ts, wake - now);
			pthread_cond_timedwait(&j->cond, &j->lock, &ts);
		}
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

tg_gw_jwks *tg_gw_jwks_create(const tg_gw_auth_conf *a, char *err, size_t errlen)
{
	tg_gw_jwks *j = calloc(1, sizeof *j);

	if (!j) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	j->min_refresh_s = a->jwks_min_refresh_s;
	j->wait_ms = a->jwks_wait_ms;
	j->max_age_s = a->jwks_max_age_s;
	if (a->jwks_file) {
		json_error_t je;
		json_t *doc = json_load_file(a->jwks_file, JSON_REJECT_DUPLICATES, &je), *set;
		EVP_PKEY *pk[JWKS_MAX_KEYS];
		char why[256] = "";

		if (!doc) {
			snprintf(err, errlen, "jwks_file '%s': %s", a->jwks_file, je.text);
			tg_gw_jwks_free(j);
			return NULL;
		}
		set = usable_set(doc, why, sizeof why);
		json_decref(doc);
		if (set) {
			build_pkeys(set, pk);
			install(j, set, pk);
		}
		if (!j->keys) {
			snprintf(err, errlen, "jwks_file '%s': %s", a->jwks_file, why);
			tg_gw_jwks_free(j);
			return NULL;
		}
		return j;
	}
	j->uri = strdup(a->jwks_uri ? a->jwks_uri : "");
	if (!j->uri || pthread_create(&j->thread, NULL, refresher, j) != 0) {
		snprintf(err, errlen, "cannot start the key set refresher");
		tg_gw_jwks_free(j);
		return NULL;
	}
	j->has_thread = true;
	return j;
}

void tg_gw_jwks_free(tg_gw_jwks *j)
{
	if (!j)
		return;
	if (j->has_thread) {
		pthread_mutex_lock(&j->lock);
		j->stop = true;
		pthread_cond_broadcast(&j->cond);
		pthread_mutex_unlock(&j->lock);
		pthread_join(j->thread, NULL);
	}
	install(j, NULL, NULL);
	free(j->uri);
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

/* A key set reference (json_decref), or NULL. */
static json_t *current(tg_gw_jwks *j, unsigned long *gen)
{
	json_t *k;

	pthread_mutex_lock(&j->lock);
	k = json_incref(j->keys);
	*gen = j->generation;
	pthread_mutex_unlock(&j->lock);
	return k;
}

static json_t *find(const json_t *set, const char *kid, bool (*fits)(const json_t *, void *),
		    void *ud, size_t *nfit)
{
	const json_t *keys = json_object_get(set, "keys"), *k, *found = NULL;
	size_t i;

	*nfit = 0;
	json_array_foreach(keys, i, k) {
		const char *kk = json_string_value(json_object_get(k, "kid"));

		if (!fits(k, ud))
			continue;
		if (kid ? kk && strcmp(kk, kid) == 0 : true) {
			(*nfit)++;
			if (!found)
				found = k;
		}
	}
	return found ? json_incref((json_t *)found) : NULL;
}

json_t *tg_gw_jwks_key(tg_gw_jwks *j, const char *kid, bool (*fits)(const json_t *, void *),
		       void *ud, bool *would_wait)
{
	unsigned long gen;
	json_t *set = current(j, &gen), *k = NULL;
	size_t n = 0;

	if (set)
		k = find(set, kid, fits, ud, &n);
	json_decref(set);
	/* Without a kid, a key is chosen only when exactly one fits: guessing
	 * among several would let a token pick its own key. */
	if (!kid && n != 1) {
		json_decref(k);
		return NULL;
	}
	if (k || !j->has_thread)
		return k;
	if (would_wait) {
		*would_wait = true;
		return NULL;
	}
	/* An unknown kid: perhaps the issuer rotated. Ask the refresher and
	 * wait a bounded time for the next generation (it may decline: rate
	 * limit), then look once more. */
	pthread_mutex_lock(&j->lock);
	if (j->generation == gen) {
		struct timespec ts;

		j->want = true;
		pthread_cond_broadcast(&j->cond);
		tg_gw_deadline(&ts, j->wait_ms);
		while (j->generation == gen && !j->stop)
			if (pthread_cond_timedwait(&j->cond, &j->lock, &ts) == ETIMEDOUT)
				break;
	}
	set = json_incref(j->keys);
	pthread_mutex_unlock(&j->lock);
	if (set)
		k = find(set, kid, fits, ud, &n);
	json_decref(set);
	return k;
}

unsigned long tg_gw_jwks_generation(tg_gw_jwks *j)
{
	unsigned long g;

	pthread_mutex_lock(&j->lock);
	g = j->generation;
	pthread_mutex_unlock(&j->lock);
	return g;
}

void tg_gw_jwks_stats(tg_gw_jwks *j, unsigned long *fetches, unsigned long *failures)
{
	pthread_mutex_lock(&j->lock);
	*fetches = j->fetches;
	*failures = j->failures;
	pthread_mutex_unlock(&j->lock);
}

EVP_PKEY *tg_gw_jwks_pkey(tg_gw_jwks *j, const json_t *key)
{
	const json_t *k;
	EVP_PKEY *pk = NULL;
	bool cached = false;
	size_t i;

	pthread_mutex_lock(&j->lock);
	json_array_foreach(json_object_get(j->keys, "keys"), i, k)
		if (k == key && i < JWKS_MAX_KEYS) {
			cached = true;
			if (j->pk[i] && EVP_PKEY_up_ref(j->pk[i]) == 1)
				pk = j->pk[i];
			break;
		}
	pthread_mutex_unlock(&j->lock);
	/* A key of a set replaced since it was looked up: built for this
	 * request only (correct, and rare: once per rotation race). */
	if (!cached)
		pk = jose_openssl_jwk_to_EVP_PKEY(NULL, key);
	return pk;
}
