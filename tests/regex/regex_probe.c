/*
 * regex_probe.c - answers whole-value regex matches for another program.
 *
 * Reads lines PATTERN<TAB>SUBJECT, both hex-encoded bytes (so tabs,
 * newlines and any UTF-8 travel unharmed), and prints one line per input:
 * 1 (match), 0 (no match) or E (the pattern does not compile; the message
 * follows after a space). Consecutive lines with the same pattern reuse
 * one compiled table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regex.h"

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex in place; returns the byte count, -1 if malformed. */
static long unhex(char *s, size_t n)
{
	if (n % 2)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit((unsigned char)s[i]), lo = hex_digit((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		s[i / 2] = (char)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

int main(void)
{
	char *line = NULL, *last = NULL;
	size_t cap = 0, last_len = 0;
	ssize_t got;
	tg_re_dfa dfa = { 0 };
	tg_re_error err = { 0 };
	bool compiled = false;
	while ((got = getline(&line, &cap, stdin)) > 0) {
		size_t n = (size_t)got;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		char *tab = memchr(line, '\t', n);
		if (!tab) {
			fprintf(stderr, "regex_probe: a line without a tab\n");
			return 2;
		}
		char *subject = tab + 1;
		long plen = unhex(line, (size_t)(tab - line));
		long slen = unhex(subject, n - (size_t)(subject - line));
		if (plen < 0 || slen < 0) {
			fprintf(stderr, "regex_probe: malformed hex\n");
			return 2;
		}
		if (!last || last_len != (size_t)plen || memcmp(last, line, (size_t)plen) != 0) {
			tg_re_dfa_free(&dfa);
			free(last);
			last = malloc((size_t)plen + 1);
			if (!last)
				return 2;
			memcpy(last, line, (size_t)plen);
			last_len = (size_t)plen;
			compiled = tg_re_compile(line, (size_t)plen, &dfa, &err);
		}
		if (compiled)
			puts(tg_re_dfa_match(&dfa, subject, (size_t)slen) ? "1" : "0");
		else
			printf("E %s\n", err.message);
	}
	tg_re_dfa_free(&dfa);
	free(last);
	free(line);
	return 0;
}
