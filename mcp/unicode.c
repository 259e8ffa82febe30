/*
 * unicode.c - strict UTF-8 and the NFC check (DESIGN "A request is
 * invalid"; docs/language.md "Unicode spellings").
 *
 * Policies compare bytes, but the servers behind them often normalise a
 * path or a name before they use it, so two spellings of one name would
 * reach one file while only one of them matches a deny. The reader refuses
 * what a policy reads when it is not in NFC, the form nearly every client
 * sends; utf8proc does the normalisation, here and nowhere else, so the
 * runtime stays libc-only.
 */
#include "unicode.h"
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#define HIGH_BITS 0x8080808080808080u
#define LOW_BITS 0x0101010101010101u

/* The general check from byte i on: the one UTF-8 rule of runtime/utf8.c. */
static tg_uni_problem check_from(const unsigned char *s, size_t i, size_t len)
{
	while (i < len) {
		size_t n;

		if (s[i] == 0)
			return TG_UNI_NUL;
		n = tg_utf8_len(s + i, len - i);
		if (n == 0)
			return TG_UNI_BAD_UTF8;
		i += n;
	}
	return TG_UNI_OK;
}

tg_uni_problem tg_uni_check(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	uint64_t w;

	/* Request strings are nearly all short ASCII: a word at a time until
	 * the first word with a high bit or a zero byte; the last, partial
	 * word as an overlapping load of the final 8 bytes. */
	if (len < 8)
		return check_from(s, 0, len);
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		if ((w | ((w - LOW_BITS) & ~w)) & HIGH_BITS)
			return check_from(s, i, len);
	}
	if (i == len)
		return TG_UNI_OK;
	memcpy(&w, s + len - 8, 8);
	if ((w | ((w - LOW_BITS) & ~w)) & HIGH_BITS)
		return check_from(s, i, len);
	return TG_UNI_OK;
}

bool tg_uni_is_nfc(const char *str, size_t len, bool *oom)
{
	const unsigned char *s = (const unsigned char *)str;
	utf8proc_uint8_t *nfc = NULL;
	utf8proc_ssize_t n;
	size_t i;
	bool same;

	*oom = false;
	if (len >= 8) {
		uint64_t w, acc = 0;

		for (i = 0; i + 8 <= len; i += 8) {
			memcpy(&w, s + i, 8);
			acc |= w;
		}
		memcpy(&w, s + len - 8, 8);
		if (!((acc | w) & HIGH_BITS))
			return true;	/* ASCII */
	}
	/* Below U+0300 every character is its own NFC and none combines with
	 * what precedes it; their lead bytes are all below 0xCC. */
	for (i = 0; i < len; i++)
		if (s[i] >= 0xcc)
			break;
	if (i == len)
		return true;
	n = utf8proc_map(s, (utf8proc_ssize_t)len, &nfc, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
	if (n < 0) {
		/* Only a string the reader has not validated can get here; no
		 * memory is the other cause. Either way: not accepted. */
		*oom = n == UTF8PROC_ERROR_NOMEM;
		return false;
	}
	same = (size_t)n == len && memcmp(nfc, s, len) == 0;
	free(nfc);
	return same;
}
