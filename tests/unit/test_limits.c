/*
 * test_limits.c - every input size limit, at the limit and one past it.
 *
 * docs/limits.md lists the limits and names the test for each; keep the two
 * in step. Inputs are generated in memory (or in a temporary file where the
 * limit is enforced while reading a file).
 *
 * TG_LIMITS_QUICK=1 skips the two at-the-limit cases that build 16 MiB
 * inputs for the parser and for libyaml (`make valgrind` sets it; the
 * past-the-limit cases still run).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "decision.h"
#include "cli.h"
#include "stages.h"
#include "format.h"
#include "request_json.h"
#include "suite.h"
#include "toolgate/toolgate.h"

static bool quick(void)
{
	const char *e = getenv("TG_LIMITS_QUICK");
	return e && strcmp(e, "1") == 0;
}

/* ---- a growable text buffer ----------------------------------------------- */

typedef struct buf {
	char *s;
	size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *ns = realloc(b->s, cap);
		assert_non_null(ns);
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
}

static void puts_(buf *b, const char *s)
{
	put(b, s, strlen(s));
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void putf(buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof tmp);
	put(b, tmp, (size_t)n);
}

static void repeat(buf *b, char c, size_t n)
{
	while (n--)
		put(b, &c, 1);
}

/* ---- the compiler ------------------------------------------------------------ */

typedef struct compiled {
	size_t nerrors;
	char first_error[256];
	unsigned char *code;	/* when it compiled */
	size_t len;
} compiled;

/* Parse, check, codegen; records the first error message. */
static compiled compile(const char *src, size_t len)
{
	tg_arena arena;
	tg_diags diags;
	compiled c;

	memset(&c, 0, sizeof c);
	tg_arena_init(&arena);
	tg_diags_init(&diags, &arena);
	tg_ast *ast = tg_parse(&arena, "limits.tg", src, len, &diags);
	assert_non_null(ast);
	if (diags.nerrors == 0 && tg_check(ast, &diags) && diags.nerrors == 0)
		if (!tg_codegen(ast, &diags, &c.code, &c.len))
			c.code = NULL;
	c.nerrors = diags.nerrors;
	for (size_t i = 0; i < diags.n; i++)
		if (diags.items[i].severity == TG_SEV_ERROR) {
			snprintf(c.first_error, sizeof c.first_error, "%s", diags.items[i].message);
			break;
		}
	tg_arena_free(&arena);
	return c;
}

static void expect_compiles(const buf *b)
{
	compiled c = compile(b->s, b->n);
	if (c.nerrors || !c.code)
		fail_msg("expected to compile, got: %s", c.first_error);
	tg_policy *p = NULL;
	assert_int_equal(tg_policy_load(c.code, c.len, &p, NULL), TG_OK);
	tg_policy_free(p);
	free(c.code);
}

static void expect_error(const buf *b, const char *msg)
{
	compiled c = compile(b->s, b->n);
	free(c.code);
	assert_true(c.nerrors >= 1);
	if (!strstr(c.first_error, msg))
		fail_msg("first error '%s' does not contain '%s'", c.first_error, msg);
}

/* ---- policy source: 16 MiB ----------------------------------------------------- */

/* A policy of exactly `size` bytes: one rule, then a comment filling the rest. */
static void sized_policy(buf *b, size_t size)
{
	static const char rule[] = "allow anyone to list tools;\n#";
	b->n = 0;
	puts_(b, rule);
	repeat(b, 'x', size - (sizeof rule - 1) - 1);
	puts_(b, "\n");
	assert_int_equal(b->n, size);
}

static void policy_source_size(void **state)
{
	(void)state;
	buf b = { 0 };
	if (!quick()) {
		sized_policy(&b, TG_MAX_SOURCE_BYTES);
		expect_compiles(&b);
	}
	sized_policy(&b, TG_MAX_SOURCE_BYTES + 1);
	expect_error(&b, "policy source is 16777217 bytes; the limit is 16777216 bytes");

	/* Read from a file: the reader enforces the same limit. */
	char path[] = "/tmp/tg-limits-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, TG_MAX_SOURCE_BYTES), 0);
	size_t len;
	char *s = tg_read_file(path, TG_MAX_SOURCE_BYTES, &len);
	assert_non_null(s);
	assert_int_equal(len, TG_MAX_SOURCE_BYTES);
	free(s);
	assert_int_equal(ftruncate(fd, TG_MAX_SOURCE_BYTES + 1), 0);
	errno = 0;
	assert_null(tg_read_file(path, TG_MAX_SOURCE_BYTES, &len));
	assert_int_equal(errno, EFBIG);
	close(fd);
	remove(path);
	free(b.s);
}

/* ---- string literal: 64 KiB after decoding ------------------------------------ */

static void literal_policy(buf *b, size_t n, bool escaped)
{
	b->n = 0;
	puts_(b, "rule \"r\": allow anyone to call tool \"");
	for (size_t i = 0; i < n; i++)
		puts_(b, escaped ? "\\t" : "a");
	puts_(b, "\";\n");
}

static void string_literal_size(void **state)
{
	(void)state;
	buf b = { 0 };
	literal_policy(&b, TG_MAX_STRING_LITERAL, false);
	expect_compiles(&b);
	literal_policy(&b, TG_MAX_STRING_LITERAL + 1, false);
	expect_error(&b, "string literal longer than 65536 bytes");
	/* The limit counts decoded bytes: 64 Ki escapes are 128 KiB of source. */
	literal_policy(&b, TG_MAX_STRING_LITERAL, true);
	expect_compiles(&b);
	literal_policy(&b, TG_MAX_STRING_LITERAL + 1, true);
	expect_error(&b, "string literal longer than 65536 bytes");
	free(b.s);
}

/* ---- expression nesting: 256 ---------------------------------------------------- */

static void nested_policy(buf *b, size_t depth, bool nots)
{
	b->n = 0;
	puts_(b, "rule \"r\": allow anyone to list tools when ");
	for (size_t i = 0; i < depth; i++)
		puts_(b, nots ? "not " : "(");
	puts_(b, "args.x == 1");
	if (!nots)
		repeat(b, ')', depth);
	puts_(b, ";\n");
}

static void expression_nesting(void **state)
{
	(void)state;
	buf b = { 0 };
	nested_policy(&b, TG_MAX_EXPR_DEPTH, false);
	expect_compiles(&b);
	nested_policy(&b, TG_MAX_EXPR_DEPTH + 1, false);
	expect_error(&b, "expression nested too deeply (the limit is 256 levels)");
	nested_policy(&b, TG_MAX_EXPR_DEPTH, true);
	expect_compiles(&b);
	nested_policy(&b, TG_MAX_EXPR_DEPTH + 1, true);
	expect_error(&b, "expression nested too deeply (the limit is 256 levels)");
	free(b.s);
}

/* ---- operand stack: 32 entries --------------------------------------------------- */

/* args.v0 + (args.v1 + (... + args.v{n-1})) > 0 keeps n values on the stack. */
static void stack_policy(buf *b, size_t n)
{
	b->n = 0;
	puts_(b, "rule \"r\": allow anyone to list tools when ");
	for (size_t i = 0; i < n; i++)
		putf(b, "args.v%zu%s", i, i + 1 < n ? " + (" : "");
	repeat(b, ')', n - 1);
	puts_(b, " > 0;\n");
}

static void operand_stack(void **state)
{
	(void)state;
	buf b = { 0 };
	stack_policy(&b, TG_BC_MAX_STACK);
	compiled c = compile(b.s, b.n);
	assert_non_null(c.code);
	tg_policy *p = NULL;
	assert_int_equal(tg_policy_load(c.code, c.len, &p, NULL), TG_OK);
	assert_int_equal(tg_policy_max_stack(p), TG_BC_MAX_STACK);
	tg_policy_free(p);
	free(c.code);
	stack_policy(&b, TG_BC_MAX_STACK + 1);
	expect_error(&b, "expression needs more than 32 stack entries");
	free(b.s);
}

/* ---- roles: 1,024 ------------------------------------------------------------------ */

static void roles_policy(buf *b, size_t n)
{
	b->n = 0;
	for (size_t i = 0; i < n; i++)
		putf(b, "role r%zu;\n", i);
	putf(b, "allow role r%zu to list tools;\n", n - 1);
}

static void declared_roles(void **state)
{
	(void)state;
	buf b = { 0 };
	roles_policy(&b, TG_BC_MAX_ROLES);
	compiled c = compile(b.s, b.n);
	assert_non_null(c.code);
	tg_policy *p = NULL;
	assert_int_equal(tg_policy_load(c.code, c.len, &p, NULL), TG_OK);
	tg_str role = { "r1023", 5 };
	tg_request r;
	tg_request_init(&r);
	r.principal_id = (tg_str){ "a", 1 };
	r.method = (tg_str){ "tools/list", 10 };
	r.roles = &role;
	r.nroles = 1;
	tg_decision d;
	assert_int_equal(tg_eval(p, &r, &d), TG_OK);
	assert_int_equal(d.effect, TG_ALLOW);
	tg_policy_free(p);
	free(c.code);
	roles_policy(&b, TG_BC_MAX_ROLES + 1);
	expect_error(&b, "more than 1024 roles");
	free(b.s);
}

/* ---- glob: 512 bytes from the first wildcard ---------------------------------------- */

static void glob_policy(buf *b, size_t rest)
{
	b->n = 0;
	puts_(b, "rule \"r\": allow anyone to call tool \"tool.*");
	repeat(b, 'g', rest - 1);
	puts_(b, "\";\n");
}

static void glob_size(void **state)
{
	(void)state;
	buf b = { 0 };
	glob_policy(&b, TG_BC_GLOB_MAX);
	expect_compiles(&b);
	glob_policy(&b, TG_BC_GLOB_MAX + 1);
	expect_error(&b, "from its first wildcard");
	free(b.s);
}

/* ---- rules: bounded by the source size --------------------------------------------- */

/* The format counts rules in u32 and the decision's index is an int32, but
 * the 16 MiB source bounds a policy to about 600,000 rules first. Here:
 * more rules than a 16-bit index holds, the last one deciding. */
static void many_rules(void **state)
{
	(void)state;
	const size_t n = 70000;
	buf b = { 0 };
	for (size_t i = 0; i < n; i++)
		putf(&b, "allow principal \"u%zu\" to list tools;\n", i);
	compiled c = compile(b.s, b.n);
	assert_non_null(c.code);
	tg_policy *p = NULL;
	assert_int_equal(tg_policy_load(c.code, c.len, &p, NULL), TG_OK);
	assert_int_equal(tg_policy_rule_count(p), n);
	tg_request r;
	tg_request_init(&r);
	r.principal_id = (tg_str){ "u69999", 6 };
	r.method = (tg_str){ "tools/list", 10 };
	tg_decision d;
	assert_int_equal(tg_eval(p, &r, &d), TG_OK);
	assert_int_equal(d.effect, TG_ALLOW);
	assert_int_equal(d.rule_index, (uint32_t)(n - 1));
	assert_string_equal(d.rule_id, "limits.tg:70000");
	assert_true(d.instructions <= tg_policy_max_instructions(p));
	tg_policy_free(p);
	free(c.code);
	free(b.s);
}

/* ---- diagnostics: 50 errors per file ------------------------------------------------ */

static void diagnostics_cap(void **state)
{
	(void)state;
	for (size_t n = TG_DIAG_MAX_ERRORS; n <= TG_DIAG_MAX_ERRORS + 1; n++) {
		buf b = { 0 };
		tg_arena arena;
		tg_diags diags;
		for (size_t i = 0; i < n; i++)
			putf(&b, "allow role nope%zu to list tools;\n", i);
		tg_arena_init(&arena);
		tg_diags_init(&diags, &arena);
		tg_ast *ast = tg_parse(&arena, "limits.tg", b.s, b.n, &diags);
		assert_non_null(ast);
		tg_check(ast, &diags);
		assert_int_equal(diags.nerrors, TG_DIAG_MAX_ERRORS);
		assert_int_equal(diags.dropped, n - TG_DIAG_MAX_ERRORS);
		tg_arena_free(&arena);
		free(b.s);
	}
}

/* ---- requests: body 1 MiB, nesting 64, strings 64 KiB, lists 4,096 ----------------- */

static tg_policy *request_policy(void)
{
	static const char src[] = "attribute args.s: string;\n"
				  "attribute args.l: list<string>;\n"
				  "allow anyone to list tools when args.s == \"x\" or args.l contains \"x\";\n";
	compiled c = compile(src, sizeof src - 1);
	assert_non_null(c.code);
	tg_policy *p = NULL;
	assert_int_equal(tg_policy_load(c.code, c.len, &p, NULL), TG_OK);
	free(c.code);
	return p;
}

static void expect_request(const tg_policy *p, const buf *b, const char *err_substr)
{
	tg_json_request r;
	char err[256] = "";
	int rc = tg_json_request_parse(p, b->s, b->n, &r, err, sizeof err);
	if (!err_substr) {
		if (rc != 0)
			fail_msg("expected a valid request, got: %s", err);
		tg_decision d;
		assert_int_equal(tg_eval(p, &r.req, &d), TG_OK);
	} else {
		assert_int_equal(rc, -1);
		if (!strstr(err, err_substr))
			fail_msg("'%s' does not contain '%s'", err, err_substr);
	}
	tg_json_request_free(&r);
}

static const char head[] = "{\"principal\":{\"id\":\"a\"},\"method\":\"tools/list\"";

static void request_body_size(void **state)
{
	(void)state;
	tg_policy *p = request_policy();
	buf b = { 0 };
	for (size_t size = TG_JSON_MAX_BODY; size <= TG_JSON_MAX_BODY + 1; size++) {
		b.n = 0;
		puts_(&b, head);
		puts_(&b, "}");
		repeat(&b, ' ', size - b.n);
		expect_request(p, &b, size > TG_JSON_MAX_BODY ? "larger than 1048576 bytes" : NULL);
	}
	free(b.s);
	tg_policy_free(p);
}

static void request_nesting(void **state)
{
	(void)state;
	tg_policy *p = request_policy();
	buf b = { 0 };
	/* The top-level object is depth 1, args depth 2. */
	for (size_t depth = TG_JSON_MAX_DEPTH; depth <= TG_JSON_MAX_DEPTH + 1; depth++) {
		b.n = 0;
		puts_(&b, head);
		puts_(&b, ",\"args\":");
		for (size_t i = 2; i < depth; i++)
			puts_(&b, "{\"n\":");
		puts_(&b, "[]");
		repeat(&b, '}', depth - 2);
		puts_(&b, "}");
		expect_request(p, &b,
			       depth > TG_JSON_MAX_DEPTH ? "nesting is deeper than 64 levels" : NULL);
	}
	free(b.s);
	tg_policy_free(p);
}

static void request_string_size(void **state)
{
	(void)state;
	tg_policy *p = request_policy();
	buf b = { 0 };
	for (size_t n = TG_MAX_STRING_BYTES; n <= TG_MAX_STRING_BYTES + 1; n++) {
		const char *want = n > TG_MAX_STRING_BYTES ? "longer than 65536 bytes" : NULL;
		/* As a value. */
		b.n = 0;
		puts_(&b, head);
		puts_(&b, ",\"args\":{\"s\":\"");
		repeat(&b, 's', n);
		puts_(&b, "\"}}");
		expect_request(p, &b, want);
		/* As a key. */
		b.n = 0;
		puts_(&b, head);
		puts_(&b, ",\"context\":{\"");
		repeat(&b, 'k', n);
		puts_(&b, "\":1}}");
		expect_request(p, &b, want);
	}
	/* The runtime's own check, on the C struct. */
	static char big[TG_MAX_STRING_BYTES + 1];
	memset(big, 'a', sizeof big);
	tg_request r;
	tg_request_init(&r);
	r.principal_id = (tg_str){ big, TG_MAX_STRING_BYTES };
	r.method = (tg_str){ "tools/list", 10 };
	assert_int_equal(tg_request_check(&r, NULL), TG_OK);
	r.principal_id.len++;
	assert_int_equal(tg_request_check(&r, NULL), TG_EINVALID_REQUEST);
	free(b.s);
	tg_policy_free(p);
}

static void request_list_size(void **state)
{
	(void)state;
	tg_policy *p = request_policy();
	buf b = { 0 };
	for (size_t n = TG_MAX_LIST_ITEMS; n <= TG_MAX_LIST_ITEMS + 1; n++) {
		const char *want = n > TG_MAX_LIST_ITEMS ? "more than 4096 elements" : NULL;
		b.n = 0;
		puts_(&b, head);
		puts_(&b, ",\"args\":{\"l\":[");
		for (size_t i = 0; i < n; i++)
			puts_(&b, i ? ",\"y\"" : "\"y\"");
		puts_(&b, "]}}");
		expect_request(p, &b, want);
		/* principal.roles is a list like any other. */
		b.n = 0;
		puts_(&b, "{\"principal\":{\"id\":\"a\",\"roles\":[");
		for (size_t i = 0; i < n; i++)
			puts_(&b, i ? ",\"r\"" : "\"r\"");
		puts_(&b, "]},\"method\":\"tools/list\"}");
		expect_request(p, &b, want);
	}
	static tg_str items[TG_MAX_LIST_ITEMS + 1];
	for (size_t i = 0; i <= TG_MAX_LIST_ITEMS; i++)
		items[i] = (tg_str){ "x", 1 };
	tg_request r;
	tg_request_init(&r);
	r.principal_id = (tg_str){ "a", 1 };
	r.method = (tg_str){ "tools/list", 10 };
	r.scopes = items;
	r.nscopes = TG_MAX_LIST_ITEMS;
	assert_int_equal(tg_request_check(&r, NULL), TG_OK);
	r.nscopes++;
	assert_int_equal(tg_request_check(&r, NULL), TG_EINVALID_REQUEST);
	free(b.s);
	tg_policy_free(p);
}

/* ---- suites: 16 MiB, nesting 64 ----------------------------------------------------- */

static const char suite_head[] = "policy: limits.tg\n"
				 "cases:\n"
				 "  - name: c\n"
				 "    request: {principal: {id: a}, method: tools/list}\n"
				 "    expect: deny\n";

static tg_suite_status load_suite_file(const buf *b)
{
	char path[] = "/tmp/tg-limits-suite-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b->s, 1, b->n, f), b->n);
	fclose(f);
	FILE *sink = fopen("/dev/null", "w");
	assert_non_null(sink);
	tg_suite *s = NULL;
	tg_suite_status st = tg_suite_load(path, sink, &s);
	fclose(sink);
	remove(path);
	tg_suite_free(s);
	return st;
}

/* At the limit the suite holds 16,000 cases (2 MiB) before the padding:
 * reading must stay linear in the file (converting YAML marks to columns
 * once rescanned the file from the top for every node, and this took hours). */
static void suite_file_size(void **state)
{
	(void)state;
	buf b = { 0 };
	for (size_t size = TG_SUITE_MAX_BYTES; size <= TG_SUITE_MAX_BYTES + 1; size++) {
		if (size == TG_SUITE_MAX_BYTES && quick())
			continue;
		b.n = 0;
		puts_(&b, suite_head);
		for (int i = 0; i < 16000; i++)
			putf(&b, "  - name: c%d\n    request: {principal: {id: \"\xc3\xa9\"}, "
				 "method: tools/list, args: {a: [1, 2]}}\n    expect: deny\n", i);
		puts_(&b, "#");
		repeat(&b, 'x', size - b.n - 1);
		puts_(&b, "\n");
		assert_int_equal(b.n, size);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(load_suite_file(&b),
				 size > TG_SUITE_MAX_BYTES ? TG_SUITE_IO : TG_SUITE_OK);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_true(t1.tv_sec - t0.tv_sec < 60);
	}
	free(b.s);
}

static void suite_nesting(void **state)
{
	(void)state;
	buf b = { 0 };
	/* The document mapping, cases, the case and its request are 4 levels. */
	for (size_t depth = TG_SUITE_MAX_DEPTH; depth <= TG_SUITE_MAX_DEPTH + 1; depth++) {
		b.n = 0;
		puts_(&b, "policy: limits.tg\ncases:\n  - name: c\n    expect: deny\n"
			  "    request: {principal: {id: a}, method: tools/list, args: ");
		for (size_t i = 4; i < depth; i++)
			puts_(&b, "{n: ");
		puts_(&b, "1");
		repeat(&b, '}', depth - 4);
		puts_(&b, "}\n");
		FILE *sink = fopen("/dev/null", "w");
		tg_suite *s = NULL;
		tg_suite_status st = tg_suite_parse("limits.yaml", b.s, b.n, sink, &s);
		fclose(sink);
		assert_int_equal(st, depth > TG_SUITE_MAX_DEPTH ? TG_SUITE_INVALID : TG_SUITE_OK);
		tg_suite_free(s);
	}
	free(b.s);
}

/* ---- bytecode file read by the CLI: 64 MiB ------------------------------------------ */

static void bytecode_file_size(void **state)
{
	(void)state;
	char path[] = "/tmp/tg-limits-tgb-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len;
	assert_int_equal(ftruncate(fd, TG_DRV_MAX_BYTECODE), 0);
	char *s = tg_read_file(path, TG_DRV_MAX_BYTECODE, &len);
	assert_non_null(s);
	assert_int_equal(len, TG_DRV_MAX_BYTECODE);
	free(s);
	assert_int_equal(ftruncate(fd, TG_DRV_MAX_BYTECODE + 1), 0);
	errno = 0;
	assert_null(tg_read_file(path, TG_DRV_MAX_BYTECODE, &len));
	assert_int_equal(errno, EFBIG);
	close(fd);
	remove(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_source_size),
		cmocka_unit_test(string_literal_size),
		cmocka_unit_test(expression_nesting),
		cmocka_unit_test(operand_stack),
		cmocka_unit_test(declared_roles),
		cmocka_unit_test(glob_size),
		cmocka_unit_test(many_rules),
		cmocka_unit_test(diagnostics_cap),
		cmocka_unit_test(request_body_size),
		cmocka_unit_test(request_nesting),
		cmocka_unit_test(request_string_size),
		cmocka_unit_test(request_list_size),
		cmocka_unit_test(suite_file_size),
		cmocka_unit_test(suite_nesting),
		cmocka_unit_test(bytecode_file_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
