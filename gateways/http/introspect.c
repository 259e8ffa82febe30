/*
 * introspect.c - asking the authorization server whether a token is active
 * (RFC 7662 token introspection), for tokens the gateway cannot read
 * itself: opaque ones, or every token when there is no key set.
 *
 * One POST of token=...&token_type_hint=access_token, form-encoded, with
 * the gateway's client id and secret as HTTP Basic credentials (RFC 6749
 * 2.3.1: each form-encoded first), through libcurl. Only a 200 answer that
 * is a JSON object (no duplicate keys, at most TG_GW_JWT_MAX_DEPTH deep,
 * at most 64 KiB) with "active": true says yes; everything else, a timeout
 * included, is a refusal. A "token_type" other than Bearer is refused: the
 * gateway takes bearer tokens only. The claims in the answer are then
 * checked as a JWT's are (oauth.c, tg_gw_token_claims_check).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "gateway.h"

#define ANSWER_MAX_BYTES (64u * 1024)

/* "ID:SECRET", each form-encoded (NULL when out of memory). */
static char *basic_credentials(CURL *e, const tg_gw_auth_conf *a)
{
	char *id = curl_easy_escape(e, a->introspection_client_id, 0);
	char *secret = curl_easy_escape(e, a->introspection_secret, 0);
	size_t n = id && secret ? strlen(id) + strlen(secret) + 2 : 0;
	char *out = n ? malloc(n) : NULL;

	if (out)
		snprintf(out, n, "%s:%s", id, secret);
	curl_free(id);
	if (secret)
		tg_gw_wipe(secret, strlen(secret));
	curl_free(secret);
	return out;
}

/* The answer's object when it says active, else NULL with why (and
 * *inactive when the server said so in a readable answer). */
static json_t *verdict(const tg_gw_body *b, long status, char *why, size_t whylen,
		       bool *inactive)
{
	json_error_t je;
	json_t *o, *type;

	if (status != 200) {
		snprintf(why, whylen, "the introspection endpoint answered HTTP %ld", status);
		return NULL;
	}
	o = json_loadb(b->data ? b->data : "", b->len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o) || tg_gw_json_depth(o) > TG_GW_JWT_MAX_DEPTH) {
		snprintf(why, whylen, "the introspection endpoint's answer is not a JSON object");
		json_decref(o);
		return NULL;
	}
	if (!json_is_true(json_object_get(o, "active"))) {
		*inactive = true;
		snprintf(why, whylen, "the authorization server says the token is not active");
		json_decref(o);
		return NULL;
	}
	type = json_object_get(o, "token_type");
	if (type && (!json_is_string(type) || strcasecmp(json_string_value(type), "Bearer") != 0)) {
		snprintf(why, whylen, "the token is not a bearer token (token_type %s)",
			 json_is_string(type) ? json_string_value(type) : "not a string");
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *tg_gw_introspect(const tg_gw_auth_conf *a, const char *token, size_t len, char *why,
			 size_t whylen, bool *inactive)
{
	CURL *e = curl_easy_init();
	char *tok = e ? curl_easy_escape(e, token, (int)len) : NULL, *form = NULL, *cred = NULL;
	struct curl_slist *h = NULL, *h2;
	tg_gw_body b = {NULL, 0, ANSWER_MAX_BYTES, false};
	long status = 0;
	json_t *out = NULL;
	CURLcode rc;

	*inactive = false;
	if (tok && (form = malloc(strlen(tok) + 40)))
		snprintf(form, strlen(tok) + 40, "token=%s&token_type_hint=access_token", tok);
	cred = form ? basic_credentials(e, a) : NULL;
	if (cred && (h2 = curl_slist_append(NULL, "Accept: application/json")))
		h = h2;
	if (!h) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	tg_gw_own_request(e, a->introspection_endpoint, &b);
	curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
	curl_easy_setopt(e, CURLOPT_USERPWD, cred);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK)
		snprintf(why, whylen, "the introspection endpoint: %s",
			 b.overflow ? "its answer is too large" : curl_easy_strerror(rc));
	else
		out = verdict(&b, status, why, whylen, inactive);
out:
	curl_slist_free_all(h);
	if (form)
		tg_gw_wipe(form, strlen(form));
	free(form);
	if (cred)
		tg_gw_wipe(cred, strlen(cred));
	free(cred);
	curl_free(tok);
	if (e)
		curl_easy_cleanup(e);
	free(b.data);
	return out;
}
