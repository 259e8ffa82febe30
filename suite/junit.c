/*
 * junit.c - `toolgate test --format junit`: results as JUnit XML.
 *
 * The shape CI systems read:
 *
 *   <testsuites name="toolgate" tests=".." failures=".." errors="..">
 *     <testsuite name="SUITE.yaml" tests=".." failures=".." errors="..">
 *       <testcase classname="SUITE.yaml" name="CASE" file="SUITE.yaml" line="N">
 *         <failure message="SUMMARY" type="failure">DETAIL</failure>
 *       </testcase>
 *
 * A suite that could not run (unreadable, invalid, or naming a policy file
 * that cannot be read) has one testcase carrying an <error> with the
 * messages, so CI shows it instead of an empty suite.
 *
 * Everything written comes from a suite or a policy and is escaped: the five
 * markup characters become entities, and bytes XML 1.0 cannot carry (control
 * characters, invalid UTF-8, U+FFFE/U+FFFF) become U+FFFD, so the document is
 * well-formed whatever the input was.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "suite.h"

/* Length of the valid UTF-8 sequence at s[0..len), storing its code point,
 * or 0 when the bytes there are not one. */
static size_t tg_xml_utf8(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n, i;
	uint32_t c = s[0];

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		c &= 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

void tg_xml_escape(FILE *out, const char *str, size_t len, bool attr)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = tg_xml_utf8(s + i, len - i, &cp);

		if (n == 0) {
			fputs("\xEF\xBF\xBD", out);
			i++;
			continue;
		}
		switch (cp) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		case '\t':
		case '\n':
		case '\r':
			/* Kept as they are in text. A parser normalises them to
			 * spaces in an attribute value (and \r\n to \n in
			 * text), so there they become references. */
			if (attr || cp == '\r')
				fprintf(out, "&#%u;", (unsigned)cp);
			else
				fputc((int)cp, out);
			break;
		default:
			if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF)
				fputs("\xEF\xBF\xBD", out);
			else
				fwrite(s + i, 1, n, out);
		}
		i += n;
	}
}

static void tg_xml_attr(FILE *out, const char *s)
{
	tg_xml_escape(out, s ? s : "", s ? strlen(s) : 0, true);
}

static void tg_xml_text(FILE *out, const char *s)
{
	tg_xml_escape(out, s ? s : "", s ? strlen(s) : 0, false);
}

static void tg_junit_suite(FILE *out, const tg_suite_result *r)
{
	size_t i, errors = r->error ? 1 : 0;
	size_t tests = r->error ? r->ncases + 1 : r->ncases;

	fputs("  <testsuite name=\"", out);
	tg_xml_attr(out, r->path);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n", tests, r->failed,
		errors);
	if (r->error) {
		fputs("    <testcase classname=\"", out);
		tg_xml_attr(out, r->path);
		fputs("\" name=\"(suite)\" file=\"", out);
		tg_xml_attr(out, r->path);
		fputs("\">\n      <error message=\"", out);
		tg_xml_attr(out, "the suite could not run");
		fputs("\">", out);
		tg_xml_text(out, r->error);
		fputs("</error>\n    </testcase>\n", out);
	}
	for (i = 0; i < r->ncases; i++) {
		const tg_case_result *c = &r->cases[i];

		fputs("    <testcase classname=\"", out);
		tg_xml_attr(out, r->path);
		fputs("\" name=\"", out);
		tg_xml_attr(out, c->c->name);
		fputs("\" file=\"", out);
		tg_xml_attr(out, r->path);
		fprintf(out, "\" line=\"%u\"", c->c->loc.line);
		if (c->passed) {
			fputs("/>\n", out);
			continue;
		}
		fputs(">\n      <failure type=\"failure\" message=\"", out);
		tg_xml_attr(out, c->summary);
		fputs("\">", out);
		tg_xml_text(out, c->detail);
		fputs("</failure>\n    </testcase>\n", out);
	}
	fputs("  </testsuite>\n", out);
}

int tg_junit_write(FILE *out, const tg_suite_result *results, size_t n)
{
	size_t i, tests = 0, failures = 0, errors = 0;

	for (i = 0; i < n; i++) {
		tests += results[i].ncases + (results[i].error ? 1 : 0);
		failures += results[i].failed;
		errors += results[i].error ? 1 : 0;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out, "<testsuites name=\"toolgate\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n",
		tests, failures, errors);
	for (i = 0; i < n; i++)
		tg_junit_suite(out, &results[i]);
	fputs("</testsuites>\n", out);
	return ferror(out) ? -1 : 0;
}
