/*
 * checks.c - what is checked on an HTTP request's headers before its body
 * means anything: the Origin (DNS rebinding), media types, the protocol
 * version, and whether a peer is on loopback. Pure functions, so every
 * branch is unit-tested (tests/unit/test_gateway.c).
 */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "gateway.h"

bool tg_gw_origin_ok(const tg_gw_conf *c, const char *origin)
{
	size_t i;

	/* Non-browser clients send no Origin; a browser always does. */
	if (!origin)
		return true;
	for (i = 0; i < c->norigins; i++)
		if (strcmp(c->origins[i], origin) == 0)
			return true;
	return false;
}

/* The media type of a header value: its text up to ';', trimmed. */
static bool media_is(const char *v, size_t vlen, const char *type)
{
	size_t n = strlen(type);

	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	return vlen == n && strncasecmp(v, type, n) == 0;
}

bool tg_gw_is_json_type(const char *ct)
{
	const char *semi;

	if (!ct)
		return false;
	semi = strchr(ct, ';');
	return media_is(ct, semi ? (size_t)(semi - ct) : strlen(ct), "application/json");
}

bool tg_gw_is_sse_type(const char *ct)
{
	return ct && strncasecmp(ct, "text/event-stream", 17) == 0;
}

bool tg_gw_accepts(const char *accept, const char *type)
{
	const char *p = accept, *slash = strchr(type, '/');
	char wild[64];

	if (!accept)
		return false;
	if (!slash || (size_t)(slash - type) + 3 > sizeof wild)
		return false;
	memcpy(wild, type, (size_t)(slash - type) + 1);
	strcpy(wild + (slash - type) + 1, "*");
	while (*p) {
		const char *end = strchr(p, ','), *semi;
		size_t len = end ? (size_t)(end - p) : strlen(p);

		semi = memchr(p, ';', len);
		if (semi)
			len = (size_t)(semi - p);
		if (media_is(p, len, type) || media_is(p, len, wild) || media_is(p, len, "*/*"))
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

bool tg_gw_version_ok(const char *v)
{
	return !v || strcmp(v, TG_GW_STATELESS_VERSION) == 0 || strcmp(v, "2025-11-25") == 0 || strcmp(v, "2025-06-18") == 0 ||
	       strcmp(v, "2025-03-26") == 0;
}

bool tg_gw_is_loopback(const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;

		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
		static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
			return true;
		return memcmp(a->sin6_addr.s6_addr, v4mapped, 12) == 0 &&
		       a->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

bool tg_gw_numeric_host(const char *s, unsigned short port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		return true;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		return true;
	}
	return false;
}

/* sa's address as 16 bytes, an IPv4 one mapped (::ffff:a.b.c.d). */
static bool as_v6(const struct sockaddr *sa, unsigned char out[16])
{
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;

		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a->sin_addr, 4);
		return true;
	}
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(out, ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr, 16);
		return true;
	}
	return false;
}

bool tg_gw_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	unsigned char x[16], y[16];

	return as_v6(a, x) && as_v6(b, y) && memcmp(x, y, 16) == 0;
}
