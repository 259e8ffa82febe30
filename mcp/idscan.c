/*
 * idscan.c - where a line's top-level "id" is, without trusting the line.
 *
 * Two jobs need the id's bytes rather than its parsed value. Forwarding
 * replaces the id of a checked message with one the forwarder chose, and
 * puts the sender's id back on the answer, leaving every other byte as it
 * was. And a line the framing refused (invalid UTF-8, a lone surrogate, a
 * NUL escape, a line cut at the length limit) should still be answered
 * when its id can be found, though no JSON parser accepts it.
 *
 * So this is a scanner of one object's top level, not a parser: it walks
 * member by member, skipping nested values by their brackets (matched on a
 * stack 64 deep) and strings by their quotes and escapes, never looking at
 * UTF-8. It decides nothing: on a line jansson accepted it only finds the
 * id jansson saw (keys are compared decoded, as jansson compares them, so
 * "\u0069d" is "id"); on a refused line its result is only ever used to
 * address an error answer, and only when the id is a well-formed string or
 * integer that appears exactly once in what could be read.
 */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "utf8.h"

#define MAX_DEPTH 64

static size_t skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	return i;
}

/* s[i] is '"': the index after the closing quote, or len when the string
 * does not end within the bytes. */
static size_t skip_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return len;
}

/* The index after the value at s[i], or len when it does not end within
 * the bytes (or nests too deep to follow). */
static size_t skip_value(const char *s, size_t len, size_t i)
{
	char want[MAX_DEPTH];
	size_t depth = 0;

	if (i >= len)
		return len;
	if (s[i] == '"')
		return skip_string(s, len, i);
	if (s[i] != '{' && s[i] != '[') {
		while (i < len && !memchr(",}] \t\r\n", s[i], 7))
			i++;
		return i;
	}
	while (i < len) {
		char c = s[i];

		if (c == '"') {
			i = skip_string(s, len, i);
			continue;
		}
		if (c == '{' || c == '[') {
			if (depth == MAX_DEPTH)
				return len;
			want[depth++] = c == '{' ? '}' : ']';
		} else if (c == '}' || c == ']') {
			if (c != want[--depth])
				return len;
			if (depth == 0)
				return i + 1;
		}
		i++;
	}
	return len;
}

static int hex4(const char *s, size_t len, size_t i)
{
	int v = 0;

	if (i + 4 > len)
		return -1;
	for (size_t k = i; k < i + 4; k++) {
		char c = s[k];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * A JSON string token s[0..len) (quotes included) that any reader decodes
 * the same: escapes well-formed, surrogates paired, no U+0000, no raw
 * control character, valid UTF-8. Its ASCII decoding goes to out (NUL
 * terminated, at most outsize - 1 bytes; a longer or non-ASCII string
 * leaves out empty) so keys can be compared.
 */
static bool string_token(const char *s, size_t len, char *out, size_t outsize)
{
	size_t i = 1, n = 0;
	bool ascii = true;

	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return false;
	while (i < len - 1) {
		unsigned char c = (unsigned char)s[i];
		int u = -1;

		if (c == '\\') {
			char e = i + 1 < len - 1 ? s[i + 1] : '\0';
			const char *esc = strchr("\"\\/bfnrt", e);

			if (e && esc) {
				u = "\"\\/\b\f\n\r\t"[esc - "\"\\/bfnrt"];
				i += 2;
			} else if (e == 'u') {
				u = hex4(s, len - 1, i + 2);
				i += 6;
				if (u == 0 || (u >= 0xDC00 && u <= 0xDFFF) || u < 0)
					return false;
				if (u >= 0xD800 && u <= 0xDBFF) {
					int lo = i + 1 < len - 1 && s[i] == '\\' && s[i + 1] == 'u'
							 ? hex4(s, len - 1, i + 2) : -1;

					if (lo < 0xDC00 || lo > 0xDFFF)
						return false;
					i += 6;
				}
			} else {
				return false;
			}
		} else if (c < 0x20) {
			return false;
		} else if (c < 0x80) {
			u = c;
			i++;
		} else {
			size_t k = tg_utf8_len((const unsigned char *)s + i, len - 1 - i);

			if (k == 0)
				return false;
			i += k;
		}
		if (u < 0 || u >= 0x80)
			ascii = false;
		else if (ascii && n + 1 < outsize)
			out[n++] = (char)u;
		else
			ascii = false;
	}
	if (outsize)
		out[ascii ? n : 0] = '\0';
	return true;
}

/* An integer token within 64 bits, as JSON writes one. */
static bool integer_token(const char *s, size_t len)
{
	static const char max[] = "9223372036854775807";
	size_t i = s[0] == '-', digits = len - i;

	if (digits == 0 || digits > 19 || (s[i] == '0' && digits > 1))
		return false;
	for (size_t k = i; k < len; k++)
		if (s[k] < '0' || s[k] > '9')
			return false;
	/* -2^63 is one more than max; refusing it costs nothing. */
	return digits < 19 || memcmp(s + i, max, 19) <= 0;
}

void tg_rpc_scan(const char *s, size_t len, tg_rpc_scan_result *out)
{
	size_t i;

	memset(out, 0, sizeof *out);
	i = skip_ws(s, len, 0);
	if (i >= len || s[i] != '{')
		return;
	for (i++;;) {
		char key[8];
		size_t k, v;

		i = skip_ws(s, len, i);
		if (i < len && s[i] == '}') {
			out->complete = skip_ws(s, len, i + 1) == len;
			break;
		}
		if (i >= len || s[i] != '"')
			break;
		k = skip_string(s, len, i);
		if (k >= len || !string_token(s + i, k - i, key, sizeof key))
			break;
		i = skip_ws(s, len, k);
		if (i >= len || s[i] != ':')
			break;
		/* What a message is shows in its keys, even when the value is
		 * cut short (a result past the line limit). */
		out->method |= strcmp(key, "method") == 0;
		out->result |= strcmp(key, "result") == 0;
		out->error |= strcmp(key, "error") == 0;
		i = skip_ws(s, len, i + 1);
		v = skip_value(s, len, i);
		if (v >= len)
			break;	/* a value cut short is no id */
		if (strcmp(key, "id") == 0) {
			out->nid++;
			out->id_off = i;
			out->id_len = v - i;
		}
		i = skip_ws(s, len, v);
		if (i < len && s[i] == ',')
			i++;
		else if (i >= len || s[i] != '}')
			break;
	}
	if (out->nid == 1) {
		const char *id = s + out->id_off;

		out->id_ok = id[0] == '"' ? string_token(id, out->id_len, NULL, 0)
					  : integer_token(id, out->id_len);
	}
}

char *tg_rpc_splice(const char *line, size_t len, size_t off, size_t n, const char *with,
		    size_t wlen, size_t *outlen)
{
	char *s = malloc(len - n + wlen + 1);

	if (!s)
		return NULL;
	memcpy(s, line, off);
	memcpy(s + off, with, wlen);
	memcpy(s + off + wlen, line + off + n, len - off - n);
	s[len - n + wlen] = '\0';
	*outlen = len - n + wlen;
	return s;
}
