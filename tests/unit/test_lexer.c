/*
 * test_lexer.c - tokens, literals, lexical errors and diagnostic rendering.
 *
 * The lexer is driven directly through tg_yylex with a parser context set up
 * the way tg_parse sets it up (a NUL-terminated copy of the source).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../grammar/lex.h"
#include "stages.h"

#define MAX_TOKENS 64

typedef struct lexed {
	tg_arena arena;
	tg_diags diags;
	tg_parser *p;
	int tok[MAX_TOKENS];
	tg_span span[MAX_TOKENS];
	TG_YYSTYPE val[MAX_TOKENS];
	size_t n;
} lexed;

static lexed *lex_n(const char *src, size_t len)
{
	lexed *l = calloc(1, sizeof *l);
	assert_non_null(l);
	tg_arena_init(&l->arena);
	tg_diags_init(&l->diags, &l->arena);
	l->p = calloc(1, sizeof *l->p);
	assert_non_null(l->p);
	l->p->arena = &l->arena;
	l->p->diags = &l->diags;
	l->p->lex.src = tg_arena_strndup(&l->arena, src, len);
	l->p->lex.len = len;
	l->p->lex.cur = l->p->lex.src;
	for (;;) {
		assert_true(l->n < MAX_TOKENS);
		int t = tg_yylex(&l->val[l->n], &l->span[l->n], l->p);
		l->tok[l->n] = t;
		l->n++;
		if (t == TK_YYEOF)
			break;
	}
	return l;
}

static lexed *lex(const char *src)
{
	return lex_n(src, strlen(src));
}

static void lex_free(lexed *l)
{
	free(l->p->buf);
	free(l->p);
	tg_arena_free(&l->arena);
	free(l);
}

static void expect_tokens(const lexed *l, ...)
{
	va_list ap;
	va_start(ap, l);
	size_t k = 0;
	for (;;) {
		int t = va_arg(ap, int);
		assert_true(k < l->n);
		assert_int_equal(l->tok[k], t);
		k++;
		if (t == TK_YYEOF)
			break;
	}
	va_end(ap);
	assert_int_equal(k, l->n);
}

static void test_rule_tokens(void **state)
{
	(void)state;
	lexed *l = lex("rule \"r\": allow role eng, \"mcp:ops\" to call tool x, \"a.*\"\n"
		       "  when not (args.n >= 1) unless principal is admin because \"b\";");
	expect_tokens(l, TK_RULE, TK_STRING, TK_COLON, TK_ALLOW, TK_ROLE, TK_IDENT, TK_COMMA,
		      TK_STRING, TK_TO, TK_CALL, TK_TOOL, TK_IDENT, TK_COMMA, TK_STRING, TK_WHEN,
		      TK_NOT, TK_LPAREN, TK_ARGS, TK_DOT, TK_IDENT, TK_GE, TK_INT, TK_RPAREN,
		      TK_UNLESS, TK_PRINCIPAL, TK_IS, TK_IDENT, TK_BECAUSE, TK_STRING, TK_SEMI,
		      TK_YYEOF);
	assert_int_equal(l->diags.n, 0);
	/* Spans are byte ranges; strings include their quotes. */
	assert_int_equal(l->span[0].start, 0);
	assert_int_equal(l->span[0].end, 4);
	assert_int_equal(l->span[1].start, 5);
	assert_int_equal(l->span[1].end, 8);
	assert_string_equal(l->val[1].name.s, "r");
	assert_string_equal(l->val[5].name.s, "eng");
	assert_int_equal(l->val[5].name.span.start, 21);
	tg_linecol lc = tg_source_linecol(l->p->lex.src, l->p->lex.len, l->span[14].start);
	assert_int_equal(lc.line, 2);
	assert_int_equal(lc.col, 3);
	lex_free(l);
}

static void test_operators(void **state)
{
	(void)state;
	lexed *l = lex("== != < <= > >= + - . , : ; ( ) [ ] = in contains like starts_with "
		       "ends_with under has");
	expect_tokens(l, TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE, TK_PLUS, TK_MINUS, TK_DOT,
		      TK_COMMA, TK_COLON, TK_SEMI, TK_LPAREN, TK_RPAREN, TK_LBRACKET, TK_RBRACKET,
		      TK_ASSIGN, TK_IN, TK_CONTAINS, TK_LIKE, TK_STARTS_WITH, TK_ENDS_WITH, TK_UNDER,
		      TK_HAS, TK_YYEOF);
	lex_free(l);
}

static void test_every_keyword_is_reserved(void **state)
{
	(void)state;
	for (size_t k = 0; k < tg_lex_nkeywords; k++) {
		const char *w = tg_lex_keywords[k];
		assert_true(tg_lex_is_keyword(w, strlen(w)));
		lexed *l = lex(w);
		assert_int_not_equal(l->tok[0], TK_IDENT);
		assert_int_equal(l->n, 2);
		lex_free(l);
		if (k > 0)
			assert_true(strcmp(tg_lex_keywords[k - 1], w) < 0);
	}
	assert_int_equal(tg_lex_nkeywords, 53);
	assert_false(tg_lex_is_keyword("allowed", 7));
	assert_false(tg_lex_is_keyword("al", 2));
}

static void test_field_names_may_be_keywords(void **state)
{
	(void)state;
	lexed *l = lex("args.list token has exp args has list args.to.when");
	expect_tokens(l, TK_ARGS, TK_DOT, TK_IDENT, TK_TOKEN, TK_HAS, TK_IDENT, TK_ARGS, TK_HAS,
		      TK_IDENT, TK_ARGS, TK_DOT, TK_IDENT, TK_DOT, TK_IDENT, TK_YYEOF);
	assert_string_equal(l->val[2].name.s, "list");
	assert_string_equal(l->val[8].name.s, "list");
	assert_string_equal(l->val[13].name.s, "when");
	lex_free(l);
}

static void test_negative_literals_and_minus(void **state)
{
	(void)state;
	lexed *l = lex("args.x-1 args.x - 1 == -1 [-9223372036854775808, 9223372036854775807] (1)-2");
	expect_tokens(l, TK_ARGS, TK_DOT, TK_IDENT, TK_MINUS, TK_INT, TK_ARGS, TK_DOT, TK_IDENT,
		      TK_MINUS, TK_INT, TK_EQ, TK_INT, TK_LBRACKET, TK_INT, TK_COMMA, TK_INT,
		      TK_RBRACKET, TK_LPAREN, TK_INT, TK_RPAREN, TK_MINUS, TK_INT, TK_YYEOF);
	assert_int_equal(l->val[4].i, 1);
	assert_int_equal(l->val[11].i, -1);
	assert_true(l->val[13].i == INT64_MIN);
	assert_true(l->val[15].i == INT64_MAX);
	assert_int_equal(l->val[21].i, 2);
	assert_int_equal(l->diags.n, 0);
	lex_free(l);
}

static void test_integer_overflow(void **state)
{
	(void)state;
	lexed *l = lex("9223372036854775808 == -9223372036854775809 == 99999999999999999999999");
	expect_tokens(l, TK_INT, TK_EQ, TK_INT, TK_EQ, TK_INT, TK_YYEOF);
	assert_int_equal(l->diags.n, 3);
	assert_string_equal(l->diags.items[0].message, "integer literal out of range");
	assert_int_equal(l->diags.items[1].span.start, 23);
	assert_int_equal(l->diags.items[1].span.end, 43);
	lex_free(l);
}

static void test_string_escapes(void **state)
{
	(void)state;
	lexed *l = lex("\"a\\\"b\\\\c\\nd\\te\\u{41}\\u{e9}\\u{20AC}\\u{1F600}\" \"\" \"é\"");
	expect_tokens(l, TK_STRING, TK_STRING, TK_STRING, TK_YYEOF);
	assert_int_equal(l->diags.n, 0);
	const char want[] = "a\"b\\c\nd\teA\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
	assert_int_equal(l->val[0].name.len, sizeof want - 1);
	assert_memory_equal(l->val[0].name.s, want, sizeof want - 1);
	assert_int_equal(l->val[1].name.len, 0);
	assert_string_equal(l->val[2].name.s, "é");
	lex_free(l);
}

static void test_bad_escapes(void **state)
{
	(void)state;
	lexed *l = lex("\"ab\\qc\" \"\\u{D800}\" \"\\u{0}\" \"\\u{110000}\" \"\\u{}\" \"\\u{1234567}\"");
	expect_tokens(l, TK_STRING, TK_STRING, TK_STRING, TK_STRING, TK_STRING, TK_STRING,
		      TK_YYEOF);
	assert_int_equal(l->diags.n, 6);
	/* Reported at the backslash. */
	assert_int_equal(l->diags.items[0].span.start, 3);
	assert_int_equal(l->diags.items[0].span.end, 5);
	assert_string_equal(l->diags.items[0].message, "invalid escape '\\q' in string");
	assert_non_null(l->diags.items[0].hint);
	assert_string_equal(l->val[0].name.s, "abc");
	assert_non_null(strstr(l->diags.items[1].message, "U+D800"));
	assert_non_null(strstr(l->diags.items[2].message, "U+0000"));
	assert_non_null(strstr(l->diags.items[3].message, "U+110000"));
	lex_free(l);
}

static void test_unterminated_string(void **state)
{
	(void)state;
	lexed *l = lex("x \"abc;\nallow");
	expect_tokens(l, TK_IDENT, TK_LEXERR, TK_ALLOW, TK_YYEOF);
	assert_int_equal(l->diags.n, 1);
	assert_string_equal(l->diags.items[0].message, "unterminated string");
	assert_int_equal(l->diags.items[0].span.start, 2);
	lex_free(l);

	l = lex("\"abc");
	expect_tokens(l, TK_LEXERR, TK_YYEOF);
	assert_int_equal(l->diags.items[0].span.start, 0);
	lex_free(l);
}

static void test_string_length_limit(void **state)
{
	(void)state;
	for (size_t extra = 0; extra < 2; extra++) {
		size_t n = TG_MAX_STRING_LITERAL + extra;
		char *src = malloc(n + 3);
		assert_non_null(src);
		src[0] = '"';
		memset(src + 1, 'a', n);
		src[n + 1] = '"';
		src[n + 2] = '\0';
		lexed *l = lex(src);
		expect_tokens(l, TK_STRING, TK_YYEOF);
		assert_int_equal(l->val[0].name.len, n);
		assert_int_equal(l->diags.n, extra);
		if (extra)
			assert_int_equal(l->diags.items[0].span.start, 0);
		lex_free(l);
		free(src);
	}
}

static void test_nul_bytes_are_reported(void **state)
{
	(void)state;
	const char src[] = "allow\0 \"a\0b\" # c\0d\nx";
	lexed *l = lex_n(src, sizeof src - 1);
	expect_tokens(l, TK_ALLOW, TK_STRING, TK_IDENT, TK_YYEOF);
	assert_int_equal(l->diags.n, 3);
	assert_int_equal(l->diags.items[0].span.start, 5);
	assert_int_equal(l->diags.items[1].span.start, 9);
	assert_int_equal(l->diags.items[2].span.start, 16);
	assert_string_equal(l->diags.items[0].message, "NUL byte in source");
	/* Not a truncation: the token after the NUL is still there. */
	assert_string_equal(l->val[2].name.s, "x");
	lex_free(l);
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	/* A lone continuation byte, an overlong '/', an encoded surrogate, a
	 * byte that never occurs, and a truncated sequence in a comment. */
	const char src[] = "\x80 \"\xC0\xAF\" \"\xED\xA0\x80\" \xFF # \xE2\x82\nx";
	lexed *l = lex(src);
	expect_tokens(l, TK_STRING, TK_STRING, TK_IDENT, TK_YYEOF);
	assert_int_equal(l->diags.n, 5);
	assert_int_equal(l->diags.items[0].span.start, 0);
	assert_int_equal(l->diags.items[1].span.start, 3);
	assert_int_equal(l->diags.items[2].span.start, 8);
	assert_int_equal(l->diags.items[3].span.start, 13);
	assert_int_equal(l->diags.items[4].span.start, 17);
	assert_non_null(strstr(l->diags.items[3].message, "0xFF"));
	lex_free(l);
}

static void test_stray_characters(void **state)
{
	(void)state;
	lexed *l = lex("allow $ é \x01 deny");
	/* A stray character is one error token, so the parser adds no
	 * second error for it. */
	expect_tokens(l, TK_ALLOW, TK_LEXERR, TK_LEXERR, TK_DENY, TK_YYEOF);
	assert_int_equal(l->diags.n, 3);
	assert_string_equal(l->diags.items[0].message, "unexpected character '$'");
	assert_string_equal(l->diags.items[1].message, "unexpected character 'é'");
	assert_int_equal(l->diags.items[1].span.end - l->diags.items[1].span.start, 2);
	assert_string_equal(l->diags.items[2].message, "unexpected control character 0x01");
	lex_free(l);
}

static void test_comments(void **state)
{
	(void)state;
	lexed *l = lex("# one\nallow // two\n#\n//x");
	expect_tokens(l, TK_ALLOW, TK_YYEOF);
	assert_int_equal(l->p->comments.n, 4);
	const tg_comment *c = l->p->comments.items;
	assert_int_equal(c[0].span.start, 0);
	assert_int_equal(c[0].span.end, 5);
	assert_int_equal(c[1].span.start, 12);
	assert_int_equal(c[1].span.end, 18);
	assert_int_equal(c[2].span.start, 19);
	assert_int_equal(c[2].span.end, 20);
	assert_int_equal(c[3].span.end, 24);
	lex_free(l);
}

static void test_identifiers_are_ascii(void **state)
{
	(void)state;
	lexed *l = lex("_a9 A_b x1y");
	expect_tokens(l, TK_IDENT, TK_IDENT, TK_IDENT, TK_YYEOF);
	assert_string_equal(l->val[1].name.s, "A_b");
	lex_free(l);
	l = lex("9a");
	expect_tokens(l, TK_INT, TK_IDENT, TK_YYEOF);
	lex_free(l);
}

/* ---- diag.c ---- */

static char *render(const char *src, tg_span span, const char *hint, tg_severity sev)
{
	tg_arena a;
	tg_arena_init(&a);
	tg_diags d;
	tg_diags_init(&d, &a);
	tg_diag *g = tg_diag_add(&d, sev, span, "unknown role '%s'", "enginer");
	if (hint)
		tg_diag_hint(&d, g, "%s", hint);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	tg_diags_print(f, "policy.tg", src, strlen(src), &d);
	fclose(f);
	tg_arena_free(&a);
	return buf;
}

static void test_diag_format(void **state)
{
	(void)state;
	const char *src = "role engineer;\n\nrule \"x\": allow role enginer to call tool \"a\";\n";
	char *out = render(src, (tg_span){37, 44}, "did you mean 'engineer'?", TG_SEV_ERROR);
	assert_string_equal(out,
			    "policy.tg:3:22: error: unknown role 'enginer'\n"
			    "    3 | rule \"x\": allow role enginer to call tool \"a\";\n"
			    "      |                      ^~~~~~~\n"
			    "      = hint: did you mean 'engineer'?\n");
	free(out);
}

static void test_diag_tabs_and_clipping(void **state)
{
	(void)state;
	/* Tabs are copied into the caret line; a span past the line end is
	 * clipped; warnings say so. */
	const char *src = "\tallow\té x\nsecond line";
	char *out = render(src, (tg_span){9, 20}, NULL, TG_SEV_WARNING);
	assert_string_equal(out,
			    "policy.tg:1:10: warning: unknown role 'enginer'\n"
			    "    1 | \tallow\té x\n"
			    "      | \t     \t ^~\n");
	free(out);
	/* An empty span at the end of the file. */
	out = render("x", (tg_span){1, 1}, NULL, TG_SEV_ERROR);
	assert_string_equal(out, "policy.tg:1:2: error: unknown role 'enginer'\n"
				 "    1 | x\n"
				 "      |  ^\n");
	free(out);
}

static void test_diag_cap_and_sort(void **state)
{
	(void)state;
	tg_arena a;
	tg_arena_init(&a);
	tg_diags d;
	tg_diags_init(&d, &a);
	for (unsigned k = 0; k < TG_DIAG_MAX_ERRORS + 5; k++)
		tg_error(&d, (tg_span){(TG_DIAG_MAX_ERRORS + 5 - k) % 7, 0}, "e%u", k);
	tg_warning(&d, (tg_span){3, 3}, "w");
	assert_int_equal(d.nerrors, TG_DIAG_MAX_ERRORS);
	assert_int_equal(d.dropped, 5);
	assert_null(tg_error(&d, (tg_span){0, 0}, "more"));
	tg_diags_sort(&d);
	for (size_t k = 1; k < d.n; k++) {
		assert_true(d.items[k - 1].span.start <= d.items[k].span.start);
		/* Stable: equal starts keep report order. */
		if (d.items[k - 1].span.start == d.items[k].span.start &&
		    d.items[k - 1].message[0] == 'e' && d.items[k].message[0] == 'e')
			assert_true(atoi(d.items[k - 1].message + 1) < atoi(d.items[k].message + 1));
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	tg_diags_print(f, "p.tg", "abcdefgh\n", 9, &d);
	fclose(f);
	assert_non_null(strstr(buf, "too many errors; 6 more not shown\n"));
	free(buf);
	tg_arena_free(&a);
}

static void test_linecol(void **state)
{
	(void)state;
	const char *s = "ab\ncd\n\nx";
	tg_linecol lc = tg_source_linecol(s, strlen(s), 0);
	assert_int_equal(lc.line, 1);
	assert_int_equal(lc.col, 1);
	lc = tg_source_linecol(s, strlen(s), 4);
	assert_int_equal(lc.line, 2);
	assert_int_equal(lc.col, 2);
	lc = tg_source_linecol(s, strlen(s), 7);
	assert_int_equal(lc.line, 4);
	assert_int_equal(lc.col, 1);
	lc = tg_source_linecol(s, strlen(s), 100);
	assert_int_equal(lc.line, 4);
	assert_int_equal(lc.col, 2);
}

static void test_suggest(void **state)
{
	(void)state;
	const char *const c[] = {"reader", "engineer", "admin", "auditor", "ui"};
	assert_string_equal(tg_suggest("enginer", 7, c, 5), "engineer");
	assert_string_equal(tg_suggest("raeder", 6, c, 5), "reader");	/* transposition */
	assert_string_equal(tg_suggest("admn", 4, c, 5), "admin");
	assert_null(tg_suggest("db", 2, c, 5));
	assert_null(tg_suggest("xyzzy", 5, c, 5));
	assert_null(tg_suggest("", 0, c, 5));
	assert_null(tg_suggest("reader", 6, c, 0));
}

static void test_read_file(void **state)
{
	(void)state;
	char path[] = "/tmp/tg_lexer_test_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	for (int k = 0; k < 100000; k++)
		fputc('a' + k % 26, f);
	fclose(f);
	size_t len = 0;
	char *s = tg_read_file(path, 100000, &len);
	assert_non_null(s);
	assert_int_equal(len, 100000);
	assert_int_equal(s[len], '\0');
	assert_int_equal(s[99999], 'a' + 99999 % 26);
	free(s);
	errno = 0;
	assert_null(tg_read_file(path, 99999, &len));
	assert_int_equal(errno, EFBIG);
	remove(path);
	assert_null(tg_read_file("/nonexistent/x.tg", 10, &len));
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_tokens),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_every_keyword_is_reserved),
		cmocka_unit_test(test_field_names_may_be_keywords),
		cmocka_unit_test(test_negative_literals_and_minus),
		cmocka_unit_test(test_integer_overflow),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_bad_escapes),
		cmocka_unit_test(test_unterminated_string),
		cmocka_unit_test(test_string_length_limit),
		cmocka_unit_test(test_nul_bytes_are_reported),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_stray_characters),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_identifiers_are_ascii),
		cmocka_unit_test(test_diag_format),
		cmocka_unit_test(test_diag_tabs_and_clipping),
		cmocka_unit_test(test_diag_cap_and_sort),
		cmocka_unit_test(test_linecol),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_read_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
