/*
 * test_runtime_emit.c - the writer: byte-identical output for the same
 * calls, the golden fixture tests/golden/runtime/embed.tgb (used by the
 * embedding example), its disassembly, and the writer's own errors.
 *
 * TG_UPDATE_GOLDEN=1 rewrites the fixtures after an intended format change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disasm.h"
#include "rt_asm.h"

#define S(x) ((tg_str){ x, sizeof(x) - 1 })

static void setup_embed(tg_emit *e)
{
	tg_str c = S("environment");
	tg_emit_source(e, "example source", 14);
	tg_emit_role(e, "reader", 6);
	tg_emit_role(e, "engineer", 8);
	tg_emit_role_closure(e, (const uint8_t[]){ 1, 0, 1, 1 }, 2);
	int32_t s = tg_emit_slot(e, TG_SLOT_CONTEXT, &c, 1, "context.environment", 19, TG_ATTR_STRING);
	tg_emit_slot_domain_string(e, s, "dev", 3);
	tg_emit_slot_domain_string(e, s, "staging", 7);
	tg_emit_slot_domain_string(e, s, "prod", 4);
}

/* The policy of docs/embedding.md:
 *   rule "readers": allow role reader to call tool "*.get_*", "*.list_*";
 *   rule "eng-github": allow role engineer to call tool "github.*"
 *     when context.environment != "prod";
 *   rule "no-destructive": deny anyone to call any tool when tool.destructive
 *     because "destructive tools are disabled";
 *   rule "list": allow anyone to list tools; */
static const rt_rule embed_rules[] = {
	{ "readers", TG_BC_ALLOW, TG_BC_SUBJ_ROLE, { "#0" }, TG_BC_ACT_CALL_TOOL, false,
	  { "*.get_*", "*.list_*" }, NULL, NULL },
	{ "eng-github", TG_BC_ALLOW, TG_BC_SUBJ_ROLE, { "#1" }, TG_BC_ACT_CALL_TOOL, false,
	  { "github.*" }, "LOAD 0; STR \"prod\"; CMP NE; RET", NULL },
	{ "no-destructive", TG_BC_DENY, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, true,
	  { NULL }, "LOADB TOOL_DESTRUCTIVE; RET", "destructive tools are disabled" },
	{ "list", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_LIST_TOOLS, false, { NULL },
	  NULL, NULL },
};

static unsigned char *build(size_t *len)
{
	unsigned char *b = NULL;
	tg_policy *p = rt_policy(setup_embed, embed_rules, 4, false, &b, len);
	assert_non_null(p);
	tg_policy_free(p);
	return b;
}

static char *path_of(const char *rel)
{
	const char *src = getenv("TG_SOURCE_DIR");
	static char buf[4096];
	snprintf(buf, sizeof buf, "%s/%s", src ? src : ".", rel);
	return buf;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	unsigned char *b = malloc(1 << 20);
	*len = fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

static void check_golden(const char *rel, const unsigned char *got, size_t n)
{
	const char *path = path_of(rel);
	if (getenv("TG_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		fwrite(got, 1, n, f);
		fclose(f);
	}
	size_t len;
	unsigned char *want = slurp(path, &len);
	if (!want)
		fail_msg("missing golden file %s (run with TG_UPDATE_GOLDEN=1)", path);
	if (len != n || memcmp(want, got, n) != 0)
		fail_msg("%s differs from the writer's output (%zu vs %zu bytes)", path, len, n);
	free(want);
}

static void test_deterministic(void **state)
{
	(void)state;
	size_t n1, n2;
	unsigned char *a = build(&n1), *b = build(&n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(a, b, n1);
	free(a);
	free(b);
}

static void test_golden_fixture(void **state)
{
	(void)state;
	size_t n;
	unsigned char *b = build(&n);
	check_golden("tests/golden/runtime/embed.tgb", b, n);
	char *text = NULL;
	size_t tlen = 0;
	FILE *m = open_memstream(&text, &tlen);
	assert_int_equal(tg_disasm(b, n, m), 0);
	fclose(m);
	check_golden("tests/golden/runtime/embed.disasm", (const unsigned char *)text, tlen);
	assert_non_null(strstr(text, "rule 2 \"no-destructive\" (line 3): deny anyone to call tool (any)"));
	free(text);
	/* a rejected buffer prints the loader's reason */
	b[0] = 0;
	text = NULL;
	m = open_memstream(&text, &tlen);
	assert_int_equal(tg_disasm(b, n, m), -1);
	fclose(m);
	assert_non_null(strstr(text, "error: bad magic"));
	free(text);
	free(b);
}

static void test_writer_errors(void **state)
{
	(void)state;
	unsigned char *out = NULL;
	size_t len;
	tg_emit *e = tg_emit_new();
	tg_emit_rule r = { "r", 1, NULL, 0, 1, TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, TG_BC_ACT_ANYTHING, false };
	tg_emit_rule_begin(e, &r);
	for (int i = 0; i < TG_BC_MAX_STACK; i++)
		assert_int_equal(tg_emit_op(e, TG_OP_TRUE), 0);
	assert_int_equal(tg_emit_op(e, TG_OP_TRUE), -1);
	assert_non_null(strstr(tg_emit_error(e), "more than 32 stack entries"));
	assert_int_equal(tg_emit_finish(e, &out, &len), -1);	/* sticky */
	assert_null(out);
	tg_emit_free(e);

	e = tg_emit_new();
	tg_emit_rule_begin(e, &r);
	tg_emit_op(e, TG_OP_TRUE);
	assert_int_equal(tg_emit_rule_end(e), -1);	/* no RET */
	tg_emit_free(e);

	e = tg_emit_new();
	tg_emit_rule_begin(e, &r);
	assert_int_equal(tg_emit_op(e, TG_OP_AND), -1);	/* underflow */
	tg_emit_free(e);

	e = tg_emit_new();
	for (int i = 0; i < TG_BC_MAX_ROLES; i++) {
		char name[16];
		int n = snprintf(name, sizeof name, "r%d", i);
		assert_int_equal(tg_emit_role(e, name, (size_t)n), i);
	}
	assert_int_equal(tg_emit_role(e, "one-more", 8), -1);
	tg_emit_free(e);

	/* an empty policy is valid bytecode */
	e = tg_emit_new();
	assert_int_equal(tg_emit_finish(e, &out, &len), 0);
	tg_policy *p;
	assert_int_equal(tg_policy_load(out, len, &p, NULL), TG_OK);
	assert_int_equal(tg_policy_rule_count(p), 0);
	assert_string_equal(tg_policy_name(p), "");
	assert_null(tg_policy_version(p));
	tg_policy_free(p);
	free(out);
	tg_emit_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_golden_fixture),
		cmocka_unit_test(test_writer_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
