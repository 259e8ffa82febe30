/*
 * fmt_text.c - the formatter's output buffer and its lexical pieces: names,
 * paths and string literals in their one canonical spelling.
 *
 * A string literal is re-escaped from its decoded bytes, so `"\u{41}"` and
 * `"A"` print the same. Escapes are chosen so the printed literal reads as
 * what it matches: `\"`, `\\`, `\n`, `\t`, and `\u{H}` (uppercase hex, no
 * leading zeros) for every other control character and for the invisible
 * code points that could make two different strings look alike (bidi
 * controls, zero-width characters, ...). Bytes that are not valid UTF-8 are
 * copied as they are: no escape spells a raw byte.
 */
#include "fmt_internal.h"

#include <stdlib.h>
#include <string.h>

void tg_fmt_buf_free(tg_fmt_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void tg_fmt_put(tg_fmt_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->len < n + 1) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->len < n + 1) {
			if (cap > (size_t)-1 / 2) {
				b->oom = true;
				return;
			}
			cap *= 2;
		}
		char *s2 = realloc(b->s, cap);
		if (!s2) {
			b->oom = true;
			return;
		}
		b->s = s2;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void tg_fmt_puts(tg_fmt_buf *b, const char *s)
{
	tg_fmt_put(b, s, strlen(s));
}

void tg_fmt_putc(tg_fmt_buf *b, char c)
{
	tg_fmt_put(b, &c, 1);
}

void tg_fmt_spaces(tg_fmt_buf *b, unsigned n)
{
	static const char sp[] = "                                ";
	while (n > 0) {
		unsigned k = n < sizeof sp - 1 ? n : (unsigned)(sizeof sp - 1);
		tg_fmt_put(b, sp, k);
		n -= k;
	}
}

size_t tg_fmt_width(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			w++;
	return w;
}

size_t tg_fmt_column(const tg_fmt_buf *b)
{
	size_t i = b->len;
	while (i > 0 && b->s[i - 1] != '\n')
		i--;
	return tg_fmt_width(b->s + i, b->len - i);
}

bool tg_fmt_is_word(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

/* DESIGN.md "Reserved words". */
static const char *const reserved[] = {
	"policy", "version", "attribute", "role", "set", "default", "rule",
	"allow", "deny", "to", "when", "unless", "because", "anyone", "scope",
	"principal", "client", "call", "read", "get", "list", "invoke", "do",
	"anything", "any", "all", "tool", "tools", "resource", "resources",
	"prompt", "prompts", "resource_templates", "and", "or", "not", "in",
	"contains", "like", "starts_with", "ends_with", "under", "has", "is",
	"true", "false", "string", "int", "bool", "token", "context", "args",
	"request",
};

bool tg_fmt_is_reserved(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (strlen(reserved[i]) == n && memcmp(reserved[i], s, n) == 0)
			return true;
	return false;
}

/* Decodes one UTF-8 sequence at s[0..n); returns its length, or 0 when the
 * bytes there are not a well-formed, shortest-form scalar value. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xE0) == 0xC0) {
		len = 2, c = s[0] & 0x1F, min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3, c = s[0] & 0x0F, min = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

/* Code points printed as \u{H}: controls, spaces other than U+0020, and
 * format characters that are invisible or reorder text (docs/formatting.md
 * lists them). */
static bool invisible(uint32_t c)
{
	static const uint32_t ranges[][2] = {
		{0x0000, 0x001F}, {0x007F, 0x009F}, {0x00A0, 0x00A0},
		{0x00AD, 0x00AD}, {0x061C, 0x061C}, {0x1680, 0x1680},
		{0x180E, 0x180E}, {0x2000, 0x200F}, {0x2028, 0x202F},
		{0x205F, 0x2064}, {0x2066, 0x206F}, {0x3000, 0x3000},
		{0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB}, {0xE0000, 0xE007F},
	};
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
		if (c >= ranges[i][0] && c <= ranges[i][1])
			return true;
	return false;
}

void tg_fmt_string(tg_fmt_buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	tg_fmt_putc(b, '"');
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t len = utf8_decode(u + i, n - i, &c);
		if (len == 0) {
			tg_fmt_put(b, s + i, 1);
			i++;
			continue;
		}
		if (c == '"') {
			tg_fmt_puts(b, "\\\"");
		} else if (c == '\\') {
			tg_fmt_puts(b, "\\\\");
		} else if (c == '\n') {
			tg_fmt_puts(b, "\\n");
		} else if (c == '\t') {
			tg_fmt_puts(b, "\\t");
		} else if (invisible(c)) {
			char esc[16];
			static const char hex[] = "0123456789ABCDEF";
			int k = 0, shift = 20;
			while (shift > 0 && ((c >> shift) & 0xF) == 0)
				shift -= 4;
			esc[k++] = '\\';
			esc[k++] = 'u';
			esc[k++] = '{';
			for (; shift >= 0; shift -= 4)
				esc[k++] = hex[(c >> shift) & 0xF];
			esc[k++] = '}';
			tg_fmt_put(b, esc, (size_t)k);
		} else {
			tg_fmt_put(b, s + i, len);
		}
		i += len;
	}
	tg_fmt_putc(b, '"');
}

void tg_fmt_name(tg_fmt_buf *b, const tg_name *name)
{
	if (tg_fmt_is_word(name->s, name->len) && !tg_fmt_is_reserved(name->s, name->len))
		tg_fmt_put(b, name->s, name->len);
	else
		tg_fmt_string(b, name->s, name->len);
}

void tg_fmt_field(tg_fmt_buf *b, const tg_name *name)
{
	if (tg_fmt_is_word(name->s, name->len))
		tg_fmt_put(b, name->s, name->len);
	else
		tg_fmt_string(b, name->s, name->len);
}

void tg_fmt_path(tg_fmt_buf *b, const tg_path *p)
{
	static const char *const roots[] = {
		[TG_ROOT_PRINCIPAL] = "principal", [TG_ROOT_TOKEN] = "token",
		[TG_ROOT_CONTEXT] = "context", [TG_ROOT_ARGS] = "args",
		[TG_ROOT_TOOL] = "tool", [TG_ROOT_RESOURCE] = "resource",
		[TG_ROOT_PROMPT] = "prompt", [TG_ROOT_REQUEST] = "request",
	};
	tg_fmt_puts(b, (unsigned)p->root < sizeof roots / sizeof roots[0] ? roots[p->root] : "?");
	for (size_t i = 0; i < p->nfields; i++) {
		const tg_name *f = &p->fields[i];
		if (tg_fmt_is_word(f->s, f->len)) {
			tg_fmt_putc(b, '.');
			tg_fmt_put(b, f->s, f->len);
		} else {
			tg_fmt_putc(b, '[');
			tg_fmt_string(b, f->s, f->len);
			tg_fmt_putc(b, ']');
		}
	}
}
