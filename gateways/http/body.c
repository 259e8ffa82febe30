/*
 * body.c - the gateway's own blocking requests to the authorization server
 * (jwks.c, introspect.c): the same limits on each, and the answer's body
 * collected up to a bound.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "gateway.h"

/* libcurl's write callback (CURLOPT_WRITEFUNCTION) into a tg_gw_body. */
static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	tg_gw_body *b = ud;
	size_t k = size * n;
	char *d;

	if (b->len + k > b->max) {
		b->overflow = true;
		return 0;	/* ends the transfer: CURLE_WRITE_ERROR */
	}
	d = realloc(b->data, b->len + k + 1);
	if (!d)
		return 0;
	memcpy(d + b->len, p, k);
	b->data = d;
	b->len += k;
	d[b->len] = '\0';
	return k;
}

void tg_gw_own_request(void *easy, const char *url, tg_gw_body *b)
{
	CURL *e = easy;

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
}
