/*
 * session.c - the gateway's session ids.
 *
 * A client's Mcp-Session-Id is bound to the principal that opened it, and
 * any gateway process sharing the key can check that binding with no
 * shared memory: the id the gateway hands out is
 *
 *   base64url( payload || HMAC-SHA256(key, payload) )
 *   payload = 0x01 | expiry (8 bytes, big-endian unix seconds)
 *           | len | upstream name | len | principal id | len (2 bytes) | upstream session id
 *
 * The MAC is OpenSSL's (HMAC with EVP_sha256), compared in constant time
 * (CRYPTO_memcmp); nothing here is hand-written cryptography. The payload
 * is authenticated, not encrypted: the client can read its own principal id
 * and the upstream's session id, but cannot change either without the key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "driver.h"
#include "gateway.h"

#define SEAL_VERSION 1
#define MAC_LEN	     32
#define MAX_RAW	     ((TG_GW_SESSION_MAX / 4) * 3)

/* Whoever reads a session key can seal session ids, an HS256 secret mint
 * tokens, an upstream's token call it. Said, not refused: mounted secrets
 * are often 0644. */
void tg_gw_secret_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
		tg_drv_error("gateway: warning: '%s' is open to other users (mode %04o); it holds "
			     "a secret: chmod 600 it",
			     path, (unsigned)(st.st_mode & 07777));
}

void tg_gw_wipe(void *p, size_t len)
{
	if (p)
		OPENSSL_cleanse(p, len);
}

int tg_gw_key_load(tg_gw_key *k, const char *what, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		snprintf(err, errlen, "cannot read %s '%s': %s", what, path, strerror(errno));
		return -1;
	}
	n = fread(k->bytes, 1, sizeof k->bytes, f);
	if (ferror(f) || !feof(f) || fgetc(f) != EOF) {
		snprintf(err, errlen, "%s '%s': unreadable or longer than %zu bytes", what, path,
			 sizeof k->bytes);
		fclose(f);
		tg_gw_wipe(k->bytes, sizeof k->bytes);
		return -1;
	}
	fclose(f);
	tg_gw_secret_mode(path);
	if (n < TG_GW_KEY_MIN) {
		snprintf(err, errlen,
			 "%s '%s' has %zu bytes; it needs at least %d (for example "
			 "`head -c 32 /dev/urandom | base64 > FILE`)",
			 what, path, n, TG_GW_KEY_MIN);
		tg_gw_wipe(k->bytes, n);
		return -1;
	}
	k->len = n;
	return 0;
}

int tg_gw_key_random(tg_gw_key *k)
{
	k->len = 32;
	return RAND_bytes(k->bytes, (int)k->len) == 1 ? 0 : -1;
}

static void mac(const tg_gw_key *k, const unsigned char *p, size_t n, unsigned char out[MAC_LEN])
{
	unsigned int len = MAC_LEN;

	if (!HMAC(EVP_sha256(), k->bytes, (int)k->len, p, n, out, &len) || len != MAC_LEN)
		memset(out, 0, MAC_LEN);	/* never matches a real MAC by chance alone */
}

int tg_gw_session_seal(const tg_gw_key *k, const tg_gw_session *s, char *out, size_t outlen)
{
	unsigned char raw[MAX_RAW + 4];
	size_t nu = strlen(s->upstream), np = strlen(s->principal), ns = strlen(s->up_session);
	size_t n = 0, i;
	uint64_t exp = (uint64_t)s->expires;
	int len;

	if (nu > 255 || np > 255 || ns > 0xffff ||
	    1 + 8 + 1 + nu + 1 + np + 2 + ns + MAC_LEN > MAX_RAW)
		return -1;
	raw[n++] = SEAL_VERSION;
	for (i = 0; i < 8; i++)
		raw[n++] = (unsigned char)(exp >> (56 - 8 * i));
	raw[n++] = (unsigned char)nu;
	memcpy(raw + n, s->upstream, nu);
	n += nu;
	raw[n++] = (unsigned char)np;
	memcpy(raw + n, s->principal, np);
	n += np;
	raw[n++] = (unsigned char)(ns >> 8);
	raw[n++] = (unsigned char)ns;
	memcpy(raw + n, s->up_session, ns);
	n += ns;
	mac(k, raw, n, raw + n);
	n += MAC_LEN;
	if (outlen < 4 * ((n + 2) / 3) + 1)
		return -1;
	len = EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
	/* base64 -> base64url without padding: visible ASCII, header-safe. */
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (i = 0; i < (size_t)len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	return 0;
}

/* base64url without padding -> bytes; -1 when malformed. */
static long decode(const char *text, unsigned char *raw, size_t cap)
{
	char b64[TG_GW_SESSION_MAX + 4];
	size_t n = strlen(text), i, pad;
	int len;

	if (n == 0 || n > TG_GW_SESSION_MAX || n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		char c = text[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			   (c >= '0' && c <= '9')))
			return -1;
		b64[i] = c;
	}
	pad = (4 - n % 4) % 4;
	for (i = 0; i < pad; i++)
		b64[n + i] = '=';
	b64[n + pad] = '\0';
	if ((n + pad) / 4 * 3 > cap)
		return -1;
	len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)(n + pad));
	if (len < 0)
		return -1;
	return (long)len - (long)pad;	/* DecodeBlock counts the padding as zero bytes */
}

static bool field(const unsigned char *raw, size_t n, size_t *at, size_t lenbytes, char *dst,
		  size_t cap)
{
	size_t len = 0, i;

	if (*at + lenbytes > n)
		return false;
	for (i = 0; i < lenbytes; i++)
		len = len << 8 | raw[(*at)++];
	if (len >= cap || *at + len > n)
		return false;
	memcpy(dst, raw + *at, len);
	dst[len] = '\0';
	if (strlen(dst) != len)
		return false;	/* an embedded NUL */
	*at += len;
	return true;
}

tg_gw_unseal tg_gw_session_open(const tg_gw_key *k, const char *text, const char *upstream,
				const char *principal, int64_t now, tg_gw_session *s)
{
	unsigned char raw[MAX_RAW + 4], want[MAC_LEN];
	long got = decode(text, raw, sizeof raw);
	size_t n, at = 0, i;
	uint64_t exp = 0;

	memset(s, 0, sizeof *s);
	if (got < 1 + 8 + 1 + 1 + 2 + MAC_LEN)
		return TG_GW_SESSION_MALFORMED;
	n = (size_t)got - MAC_LEN;
	mac(k, raw, n, want);
	if (CRYPTO_memcmp(want, raw + n, MAC_LEN) != 0 || raw[at++] != SEAL_VERSION)
		return TG_GW_SESSION_MALFORMED;
	for (i = 0; i < 8; i++)
		exp = exp << 8 | raw[at++];
	if (!field(raw, n, &at, 1, s->upstream, sizeof s->upstream) ||
	    !field(raw, n, &at, 1, s->principal, sizeof s->principal) ||
	    !field(raw, n, &at, 2, s->up_session, sizeof s->up_session) || at != n) {
		memset(s, 0, sizeof *s);
		return TG_GW_SESSION_MALFORMED;
	}
	s->expires = (int64_t)exp;
	if (s->expires <= now)
		return TG_GW_SESSION_EXPIRED;
	if (strcmp(s->upstream, upstream) != 0 || strcmp(s->principal, principal) != 0)
		return TG_GW_SESSION_OTHER;
	return TG_GW_SESSION_OK;
}
