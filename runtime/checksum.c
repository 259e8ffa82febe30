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

uint32_t tg_fmt_checksum(const unsigned char *buf, size_t len)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < len; i++) {
		unsigned char b = buf[i];
		if (i >= TG_HDR_CHECKSUM && i < TG_HDR_CHECKSUM + 4)
			b = 0;
		c = crc_table[(c ^ b) & 0xFF] ^ (c >> 8);
	}
	return c ^ 0xFFFFFFFFu;
}

static bool eq(const char *m, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(m, lit, len) == 0;
}

tg_bc_class tg_fmt_method_class(const char *m, size_t len)
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
