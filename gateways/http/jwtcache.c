/*
 * jwtcache.c - bearer tokens already validated, remembered until they
 * expire, so a client that sends the same token with every call pays for
 * its signature once (an RS256 check, the base64 and JSON of its parts: most
 * of what OAuth adds to a request, bench/RESULTS.md round 14).
 *
 * An entry is found by the SHA-256 of the protected resource and the token
 * (the audience check depends on the resource), and holds the validated
 * claims. It serves only while:
 *   - now < exp + clock skew (the one time check that can turn false later:
 *     nbf and iat hold once they held);
 *   - the key set is the one it was validated under (any fetch of the
 *     issuer's keys, rotation or not, forgets everything validated before).
 * Everything else a validation checks (issuer, audience, typ, algorithm)
 * depends on the token, the resource and the configuration, which is fixed
 * for the process (auth cannot change on reload). Failed validations are not
 * remembered. Slots are direct-mapped: a new token takes its slot's place.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gateway.h"

typedef struct slot {
	unsigned char key[32];
	json_t *claims;			/* NULL: empty */
	int64_t until;
	unsigned long gen;
} slot;

struct tg_gw_jwt_cache {
	pthread_mutex_t lock;
	size_t n;
	slot *slots;
};

tg_gw_jwt_cache *tg_gw_jwt_cache_new(size_t slots)
{
	tg_gw_jwt_cache *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->n = slots;
	c->slots = calloc(slots, sizeof *c->slots);
	if (!c->slots) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void tg_gw_jwt_cache_free(tg_gw_jwt_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		json_decref(c->slots[i].claims);
	pthread_mutex_destroy(&c->lock);
	free(c->slots);
	free(c);
}

/* The entry's key; false when it cannot be computed (nothing is then
 * looked up or remembered). */
static bool key_of(const char *resource, const char *token, size_t len, unsigned char key[32])
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned int n = 0;
	bool ok = m && EVP_DigestInit_ex(m, EVP_sha256(), NULL) == 1 &&
		  EVP_DigestUpdate(m, resource, strlen(resource) + 1) == 1 &&
		  EVP_DigestUpdate(m, token, len) == 1 && EVP_DigestFinal_ex(m, key, &n) == 1 &&
		  n == 32;

	EVP_MD_CTX_free(m);
	return ok;
}

static slot *slot_of(tg_gw_jwt_cache *c, const unsigned char key[32])
{
	uint64_t h;

	memcpy(&h, key, sizeof h);
	return &c->slots[h % c->n];
}

json_t *tg_gw_jwt_cache_get(tg_gw_jwt_cache *c, const char *resource, const char *token,
			    size_t len, int64_t now, unsigned long gen)
{
	unsigned char key[32];
	json_t *claims = NULL;
	slot *s;

	if (!c || !key_of(resource, token, len, key))
		return NULL;
	s = slot_of(c, key);
	pthread_mutex_lock(&c->lock);
	if (s->claims && memcmp(s->key, key, sizeof key) == 0 && s->gen == gen && now < s->until)
		claims = json_incref(s->claims);
	pthread_mutex_unlock(&c->lock);
	return claims;
}

void tg_gw_jwt_cache_put(tg_gw_jwt_cache *c, const char *resource, const char *token,
			 size_t len, const json_t *claims, int64_t until, unsigned long gen)
{
	unsigned char key[32];
	json_t *old;
	slot *s;

	if (!c || !key_of(resource, token, len, key))
		return;
	s = slot_of(c, key);
	pthread_mutex_lock(&c->lock);
	old = s->claims;
	memcpy(s->key, key, sizeof key);
	s->claims = json_incref((json_t *)claims);
	s->until = until;
	s->gen = gen;
	pthread_mutex_unlock(&c->lock);
	json_decref(old);
}
