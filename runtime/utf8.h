/*
 * utf8.h - the one UTF-8 validity rule shared by everything that echoes
 * policy or request bytes (diagnostics, JSON output, the proxy's framing):
 * the shortest form only, no surrogates, nothing past U+10FFFF.
 */
#ifndef TG_UTF8_H
#define TG_UTF8_H

#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence at s[0..n), n >= 1; 0 when the
 * bytes there are not one (overlong forms, surrogates, values past
 * U+10FFFF, a truncated sequence). NUL counts as valid, one byte. */
size_t tg_utf8_len(const unsigned char *s, size_t n);

#endif
