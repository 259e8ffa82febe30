/*
 * checksum.c - the header checksum (CRC-32) and the method classifier.
 *
 * The checksum catches accidental damage; it is no defence against a forger,
 * which is why the loader verifies every structure regardless. The CRC is
 * computed bytewise with a table built at compile time by the polynomial,
 * so nothing is initialised at run time.
 */
#include "format.h"

#include <string.h>

#define CRC_POLY 0xEDB88320u
#define C1(c) (((c) & 1) ? CRC_POLY ^ ((c) >> 1) : (c) >> 1)
#define C8(c) C1(C1(C1(C1(C1(C1(C1(C1((uint32_t)(c)))))))))
#define R4(i) C8(i), C8((i) + 1), C8((i) + 2), C8((i) + 3)
#define R16(i) R4(i), R4((i) + 4), R4((i) + 8), R4((i) + 12)
#define R64(i) R16(i), R16((i) + 16), R16((i) + 32), R16((i) + 48)

static const uint32_t crc_table[256] = { R64(0), R64(64), R64(128), R64(192) };

static uint32_t crc_bytes(uint32_t c, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return c;
}

/*
 * Slicing-by-8: eight bytes per step through eight derived tables (t[k][b]
 * is the CRC of byte b followed by k zero bytes). Building them costs about
 * as much as 4 KB of bytewise CRC, so only large inputs - the bytecode of a
 * big policy - take this path; the tables live on the stack, keeping the
 * no-run-time-initialisation rule and thread safety trivial.
 */
#define SLICE_MIN (64u * 1024)

static uint32_t crc_add(uint32_t c, const unsigned char *p, size_t n)
{
	uint32_t t[8][256];
	if (n < SLICE_MIN)
		return crc_bytes(c, p, n);
	memcpy(t[0], crc_table, sizeof t[0]);
	for (int k = 1; k < 8; k++)
		for (int i = 0; i < 256; i++)
			t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
	for (; n >= 8; n -= 8, p += 8) {
		uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				   (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
			      (uint32_t)p[7] << 24;
		c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
		    t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
	}
	return crc_bytes(c, p, n);
}

/* Three runs, so the per-byte loop has no test for the checksum field
 * (the loader checksums the whole file: 1.6 MB for 10,000 rules). */
uint32_t tg_bc_checksum(const unsigned char *buf, size_t len)
{
	static const unsigned char zero[4];
	uint32_t c = 0xFFFFFFFFu;
	if (len <= TG_HDR_CHECKSUM)
		return crc_add(c, buf, len) ^ 0xFFFFFFFFu;
	c = crc_add(c, buf, TG_HDR_CHECKSUM);
	size_t field = len - TG_HDR_CHECKSUM < 4 ? len - TG_HDR_CHECKSUM : 4;
	c = crc_add(c, zero, field);
	c = crc_add(c, buf + TG_HDR_CHECKSUM + field, len - TG_HDR_CHECKSUM - field);
	return c ^ 0xFFFFFFFFu;
}

static bool eq(const char *m, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(m, lit, len) == 0;
}

tg_bc_class tg_bc_method_class(const char *m, size_t len)
{
	if (!m)
		return TG_CLASS_OTHER;
	if (eq(m, len, "tools/call"))
		return TG_CLASS_TOOL;
	if (eq(m, len, "resources/read") || eq(m, len, "resources/subscribe") ||
	    eq(m, len, "resources/unsubscribe"))
		return TG_CLASS_RESOURCE;
	if (eq(m, len, "prompts/get"))
		return TG_CLASS_PROMPT;
	if (eq(m, len, "tools/list"))
		return TG_CLASS_LIST_TOOLS;
	if (eq(m, len, "resources/list"))
		return TG_CLASS_LIST_RESOURCES;
	if (eq(m, len, "prompts/list"))
		return TG_CLASS_LIST_PROMPTS;
	if (eq(m, len, "resources/templates/list"))
		return TG_CLASS_LIST_TEMPLATES;
	return TG_CLASS_OTHER;
}
