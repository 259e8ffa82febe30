/*
 * body.c - an answer's body collected by libcurl up to a bound, for the
 * gateway's own blocking requests (jwks.c, introspect.c).
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

size_t tg_gw_body_collect(char *p, size_t size, size_t n, void *ud)
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
