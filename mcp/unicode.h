/*
 * unicode.h - the request reader's Unicode rules: strict UTF-8 for every
 * string and key, and NFC for the strings a policy reads.
 */
#ifndef TG_MCP_UNICODE_H
#define TG_MCP_UNICODE_H

#include <stdbool.h>
#include <stddef.h>

/* What is wrong with a string, if anything. */
typedef enum tg_uni_problem {
	TG_UNI_OK = 0,
	TG_UNI_NUL,		/* contains U+0000 */
	TG_UNI_BAD_UTF8		/* overlong, surrogate, past U+10FFFF, truncated, stray byte */
} tg_uni_problem;

/* RFC 3629 UTF-8 without U+0000; ASCII is checked a word at a time. */
tg_uni_problem tg_uni_check(const char *s, size_t len);

/* True when s[0..len) (valid UTF-8) is in Unicode Normalization Form C.
 * *oom is set when the check could not allocate (the caller fails closed). */
bool tg_uni_is_nfc(const char *s, size_t len, bool *oom);

#endif
