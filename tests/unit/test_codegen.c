/*
 * test_codegen.c - the shape of generated code, in the manner of Lua's
 * testes/code.lua: compile a small policy and compare rule 0's instruction
 * sequence (opcode names, and operands where they matter) with what the
 * lowering promises. Also: determinism, header fields, constant folding and
 * encoding-limit diagnostics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decision.h"
#include "policy.h"
#include "stages.h"
#include "format.h"
#include "toolgate/toolgate.h"

/* Compiles src as "t.tg". Returns the bytecode (malloc'd) or NULL; the
 * diagnostics' messages are joined into msgs (if given). */
static unsigned char *compile(const char *src, size_t *len, char *msgs, size_t msgs_len)
{
	tg_arena arena;
	tg_diags diags;
	tg_arena_init(&arena);
	tg_diags_init(&diags, &arena);
	unsigned char *bc = NULL;
	*len = 0;
	tg_ast *ast = tg_parse(&arena, "t.tg", src, strlen(src), &diags);
	assert_non_null(ast);
	bool checked = diags.nerrors == 0 && tg_check(ast, &diags);
	if (!checked)
		tg_diags_print(stderr, "t.tg", src, strlen(src), &diags);
	assert_true(checked);
	if (!tg_codegen(ast, &diags, &bc, len)) {
		assert_null(bc);
		assert_true(diags.nerrors > 0);
	}
	if (msgs) {
		msgs[0] = '\0';
		for (size_t i = 0; i < diags.n; i++) {
			size_t used = strlen(msgs);
			snprintf(msgs + used, msgs_len - used, "%s%s", used ? "; " : "",
				 diags.items[i].message);
		}
	}
	tg_arena_free(&arena);
	return bc;
}

static const unsigned char *section(const unsigned char *bc, size_t len, uint32_t kind,
				    uint32_t *size, uint32_t *count)
{
	uint32_t n = tg_rd32(bc + TG_HDR_NSECTIONS);
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *s = bc + TG_BC_HEADER_LEN + (size_t)i * TG_BC_SECTION_ENTRY;
		if (tg_rd32(s) == kind) {
			uint32_t off = tg_rd32(s + 4);
			*size = tg_rd32(s + 8);
			*count = tg_rd32(s + 12);
			assert_true((size_t)off + *size <= len);
			return bc + off;
		}
	}
	fail_msg("no section %u", (unsigned)kind);
	return NULL;
}

/*
 * Rule `rule`'s code as text: opcode names separated by spaces; INT shows
 * its value ("INT:3"), jumps their target as an instruction number
 * ("JFALSE>7"), CMP/ALL/ANY their comparison number ("CMP=0"), the fused
 * comparisons their comparison number and any integer ("LOAD_INT_CMP:3=0",
 * "LOAD_STR_CMP=8").
 */
static void shape(const unsigned char *bc, size_t len, uint32_t rule, char *out, size_t out_len)
{
	uint32_t rsize, nrules, csize, ccount;
	const unsigned char *rules = section(bc, len, TG_SEC_RULES, &rsize, &nrules);
	const unsigned char *code = section(bc, len, TG_SEC_CODE, &csize, &ccount);
	assert_true(rule < nrules);
	const unsigned char *r = rules + (size_t)rule * TG_BC_RULE_SIZE;
	uint32_t off = tg_rd32(r + 32), clen = tg_rd32(r + 36);
	assert_true((size_t)off + clen <= csize);

	/* First pass: instruction start offsets, to name jump targets. */
	uint32_t starts[512];
	size_t n = 0;
	for (uint32_t pc = 0; pc < clen; n++) {
		assert_true(n < 512);
		starts[n] = pc;
		unsigned op = code[off + pc];
		assert_true(op < TG_OP_COUNT);
		pc += 1 + tg_operand_width(tg_opinfo_table[op].operand);
	}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = code + off + starts[i];
		const tg_opinfo *info = &tg_opinfo_table[p[0]];
		char buf[64];
		if (p[0] == TG_OP_INT) {
			snprintf(buf, sizeof buf, "INT:%lld", (long long)(int64_t)tg_rd64(p + 1));
		} else if (info->operand == TG_OPND_JUMP) {
			uint32_t target = starts[i] + 5 + tg_rd32(p + 1);
			size_t k = 0;
			while (k < n && starts[k] != target)
				k++;
			snprintf(buf, sizeof buf, "%s>%zu", info->name, k);
		} else if (info->operand == TG_OPND_CMP) {
			snprintf(buf, sizeof buf, "%s=%u", info->name, p[1]);
		} else if (info->operand == TG_OPND_SLOT_I64_CMP) {
			snprintf(buf, sizeof buf, "%s:%lld=%u", info->name,
				 (long long)(int64_t)tg_rd64(p + 5), p[13]);
		} else if (info->operand == TG_OPND_SLOT_STR_CMP ||
			   info->operand == TG_OPND_SLOT_SLOT_CMP ||
			   info->operand == TG_OPND_BUILTIN_STR_CMP) {
			snprintf(buf, sizeof buf, "%s=%u", info->name,
				 p[tg_operand_width(info->operand)]);
		} else {
			snprintf(buf, sizeof buf, "%s", info->name);
		}
		size_t used = strlen(out);
		snprintf(out + used, out_len - used, "%s%s", used ? " " : "", buf);
	}
}

static void expect_shape(const char *src, const char *want)
{
	size_t len;
	char got[2048];
	unsigned char *bc = compile(src, &len, NULL, 0);
	assert_non_null(bc);
	shape(bc, len, 0, got, sizeof got);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "policy: %s\n  want: %s\n  got:  %s\n", src, want, got);
	assert_string_equal(got, want);
	tg_policy *p;
	tg_load_diag err;
	assert_int_equal(tg_policy_load_diag(bc, len, &p, &err), TG_OK);
	tg_policy_free(p);
	free(bc);
}

#define R(cond) "rule \"r\": allow anyone to call tool \"a\" " cond ";"

/* ---- shapes ------------------------------------------------------------- */

static void test_no_condition(void **state)
{
	expect_shape("rule \"r\": allow anyone to call tool \"a\";", "TRUE RET");
}

static void test_comparison(void **state)
{
	expect_shape(R("when args.a == 1"), "LOAD_INT_CMP:1=0 RET");
	expect_shape(R("when args.a != 1"), "LOAD_INT_CMP:1=1 RET");
	expect_shape(R("when args.s starts_with \"x\""), "LOAD_STR_CMP=8 RET");
	expect_shape(R("when args.a == args.b"), "LOAD_LOAD_CMP=0 RET");
	expect_shape(R("when principal.id == \"x\""), "LOADB_STR_CMP=0 RET");
	expect_shape(R("when token.scopes contains \"s\""), "LOADB_STR_CMP=7 RET");
	/* Not fused: a constant on the left, a built-in on the right, a list. */
	expect_shape(R("when 1 == args.a"), "INT:1 LOAD CMP=0 RET");
	expect_shape(R("when args.s == principal.id"), "LOAD LOADB CMP=0 RET");
	expect_shape(R("when args.a + 1 == 2"), "LOAD INT:1 ADD INT:2 CMP=0 RET");
	expect_shape(R("when args.s in [\"a\", \"b\"]"), "LOAD STRS CMP=6 RET");
	expect_shape(R("when args.n in [1, 2]"), "LOAD INTS CMP=6 RET");
	expect_shape(R("when args.s like \"a*\""), "LOAD LIKE RET");
	expect_shape(R("when args.p under \"/srv\""), "LOAD UNDER RET");
}

static void test_and_chain_is_flat(void **state)
{
	/* Both short-circuit jumps go straight to RET. */
	expect_shape(R("when args.a == 1 and args.b == 2 and args.c == 3"),
		     "LOAD_INT_CMP:1=0 JFALSE>7 LOAD_INT_CMP:2=0 AND JFALSE>7 LOAD_INT_CMP:3=0 AND RET");
	/* Parentheses and separate `when` clauses do not change it. */
	expect_shape(R("when (args.a == 1 and args.b == 2) when args.c == 3"),
		     "LOAD_INT_CMP:1=0 JFALSE>7 LOAD_INT_CMP:2=0 AND JFALSE>7 LOAD_INT_CMP:3=0 AND RET");
}

static void test_or_chain(void **state)
{
	expect_shape(R("when args.a == 1 or args.b == 2"),
		     "LOAD_INT_CMP:1=0 JTRUE>4 LOAD_INT_CMP:2=0 OR RET");
}

static void test_mixed_chain(void **state)
{
	expect_shape(R("when args.a == 1 or args.b == 2 and args.c == 3"),
		     "LOAD_INT_CMP:1=0 JTRUE>7 LOAD_INT_CMP:2=0 JFALSE>6 LOAD_INT_CMP:3=0 AND OR RET");
}

static void test_unless(void **state)
{
	expect_shape(R("when args.a == 1 unless args.b == 2"),
		     "LOAD_INT_CMP:1=0 JFALSE>5 LOAD_INT_CMP:2=0 NOT AND RET");
	expect_shape(R("unless args.b"), "LOAD NOT RET");
	/* An `and` inside `unless` stays inside the not. */
	expect_shape(R("unless args.a and args.b"), "LOAD JFALSE>4 LOAD AND NOT RET");
}

static void test_reads(void **state)
{
	expect_shape("rule \"r\": allow anyone to call any tool when tool.destructive;", "LOADB RET");
	expect_shape("role eng;\nrule \"r\": allow anyone to call any tool when principal is eng;",
		     "IS RET");
	expect_shape(R("when args has path"), "HAS RET");
	expect_shape(R("when tool has destructive"), "HASB RET");
	expect_shape(R("when args.a + 1 - args.b > 0"), "LOAD INT:1 ADD LOAD SUB INT:0 CMP=4 RET");
}

static void test_quantifiers(void **state)
{
	expect_shape(R("when all args.ps under \"/srv\""), "LOAD ALL_UNDER RET");
	expect_shape(R("when any args.ps like \"*.md\""), "LOAD ANY_LIKE RET");
	expect_shape(R("when any args.ns > 10"), "LOAD INT:10 ANY=4 RET");
	expect_shape(R("when all args.ps != \"x\""), "LOAD STR ALL=1 RET");
}

static void test_folding(void **state)
{
	expect_shape(R("when 1 + 2 == 3"), "TRUE RET");
	expect_shape(R("when \"a\" == \"a\""), "TRUE RET");
	expect_shape(R("when \"x\" in [\"a\", \"b\"]"), "FALSE RET");
	expect_shape(R("when 3 in [1, 2, 3] and not false"), "TRUE RET");
	expect_shape(R("when \"abc\" contains \"b\" and \"abc\" starts_with \"ab\""), "TRUE RET");
	expect_shape(R("when args.a == 1 + 2"), "LOAD_INT_CMP:3=0 RET");
	expect_shape(R("when args.a == 10 - 2 - 3"), "LOAD_INT_CMP:5=0 RET");
	expect_shape(R("when true and args.b"), "LOAD RET");
	expect_shape(R("when args.b and true"), "LOAD RET");
	expect_shape(R("when false and args.b"), "FALSE RET");
	expect_shape(R("when principal has roles and token has scopes"), "TRUE RET");
	expect_shape(R("when all [1, 2] > 0"), "TRUE RET");
	expect_shape(R("when any [\"a\", \"b\"] == \"c\""), "FALSE RET");
	expect_shape(R("when \"a/b\" like \"a/*\""), "TRUE RET");
	expect_shape(R("when \"a/b/c\" like \"a/*\""), "FALSE RET");
	expect_shape(R("when \"/srv/x/\" under \"/srv\""), "TRUE RET");
	/* Not folded: an unclean path is a run-time error. */
	expect_shape(R("when \"/srv/../x\" under \"/srv\""), "STR UNDER RET");
	/* Not folded: the left side may be an error, which must win. */
	expect_shape(R("when args.b or true"), "LOAD JTRUE>4 TRUE OR RET");
	expect_shape(R("when args.b and false"), "LOAD JFALSE>4 FALSE AND RET");
	/* A constant `when` is dropped, an `unless` of false too. */
	expect_shape(R("when 1 < 2 when args.b unless 2 < 1"), "LOAD RET");
}

static void test_empty_list_element_type(void **state)
{
	expect_shape("attribute args.n: int;\n" R("when args.n in []"), "LOAD INTS CMP=6 RET");
	expect_shape("attribute args.s: string;\n" R("when args.s in []"), "LOAD STRS CMP=6 RET");
}

/* ---- header, determinism ------------------------------------------------ */

static const char *const big_policy =
	"policy \"platform\" version \"2026.11\";\n"
	"attribute context.environment: string in [\"dev\", \"staging\", \"prod\"];\n"
	"attribute args.limit: int;\n"
	"role reader;\nrole engineer: reader;\nrole admin: engineer, auditor;\nrole auditor;\n"
	"set read_tools = [\"search_*\", \"*.get_*\", \"*.list_*\"];\n"
	"default deny;\n"
	"rule \"readers-read\": allow role reader to call tool read_tools;\n"
	"rule \"eng-sql\":\n  allow role engineer to call tool \"postgres.query\"\n"
	"  when args.sql starts_with \"SELECT \" and not (args.sql contains \";\") and args.limit <= 1000;\n"
	"rule \"no-destructive-in-prod\":\n  deny anyone to call any tool\n"
	"  when context.environment == \"prod\" and tool.destructive\n"
	"  unless principal is admin and context.mfa\n"
	"  because \"destructive tools in prod need an admin with MFA\";\n"
	"allow scope \"files:read\" to read resource \"file:///workspace/**\"\n"
	"  when principal.tenant == context.tenant;\n"
	"allow anyone to list tools;\n"
	"deny principal \"mallory\" to do anything because \"blocked\";\n";

static void test_deterministic(void **state)
{
	size_t l1, l2, l3;
	unsigned char *a = compile(big_policy, &l1, NULL, 0);
	unsigned char *b = compile(big_policy, &l2, NULL, 0);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(l1, l2);
	assert_memory_equal(a, b, l1);

	/* The same AST generated twice. */
	tg_arena arena;
	tg_diags diags;
	tg_arena_init(&arena);
	tg_diags_init(&diags, &arena);
	tg_ast *ast = tg_parse(&arena, "t.tg", big_policy, strlen(big_policy), &diags);
	assert_non_null(ast);
	assert_true(tg_check(ast, &diags));
	unsigned char *c = NULL, *d = NULL;
	size_t l4;
	assert_true(tg_codegen(ast, &diags, &c, &l3));
	assert_true(tg_codegen(ast, &diags, &d, &l4));
	assert_int_equal(l3, l1);
	assert_int_equal(l4, l1);
	assert_memory_equal(c, a, l1);
	assert_memory_equal(d, a, l1);
	tg_arena_free(&arena);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void test_header(void **state)
{
	size_t len;
	unsigned char *bc = compile(big_policy, &len, NULL, 0);
	assert_non_null(bc);
	tg_policy *p;
	tg_load_diag err;
	assert_int_equal(tg_policy_load_diag(bc, len, &p, &err), TG_OK);
	assert_string_equal(tg_policy_name(p), "platform");
	assert_string_equal(tg_policy_version(p), "2026.11");
	assert_false(tg_policy_default_allow(p));
	assert_int_equal(tg_policy_rule_count(p), 6);
	assert_string_equal(tg_policy_rule_id(p, 0), "readers-read");
	assert_string_equal(tg_policy_rule_id(p, 3), "t.tg:19");
	assert_int_equal(tg_policy_rule_line(p, 0), 10);
	assert_int_equal(tg_policy_rule_line(p, 1), 12);	/* the allow/deny keyword */
	assert_int_equal(tg_policy_rule_line(p, 2), 15);
	assert_int_equal(tg_policy_rule_line(p, 5), 22);
	assert_int_equal(strlen(tg_policy_source_hash(p)), 64);
	/* Declared and read attributes become slots; built-ins do not. */
	uint32_t slot;
	assert_int_equal(tg_policy_slot_find(p, "context.environment", &slot), TG_OK);
	assert_int_equal(tg_policy_slot_find(p, "args.limit", &slot), TG_OK);
	assert_int_equal(tg_policy_slot_find(p, "context.mfa", &slot), TG_OK);
	assert_int_equal(tg_policy_slot_find(p, "principal.id", &slot), TG_ENOENT);
	assert_int_equal(tg_policy_slot_find(p, "tool.destructive", &slot), TG_ENOENT);
	char hash[65];
	strcpy(hash, tg_policy_source_hash(p));
	tg_policy_free(p);
	free(bc);

	/* A comment changes the source hash, nothing else observable. */
	char *src2 = malloc(strlen(big_policy) + 16);
	assert_non_null(src2);
	strcpy(src2, big_policy);
	strcat(src2, "# end\n");
	bc = compile(src2, &len, NULL, 0);
	assert_non_null(bc);
	assert_int_equal(tg_policy_load_diag(bc, len, &p, &err), TG_OK);
	assert_string_not_equal(hash, tg_policy_source_hash(p));
	tg_policy_free(p);
	free(bc);
	free(src2);

	bc = compile("default allow;", &len, NULL, 0);
	assert_non_null(bc);
	assert_int_equal(tg_policy_load_diag(bc, len, &p, &err), TG_OK);
	assert_true(tg_policy_default_allow(p));
	assert_string_equal(tg_policy_name(p), "");
	assert_null(tg_policy_version(p));
	assert_int_equal(tg_policy_rule_count(p), 0);
	tg_policy_free(p);
	free(bc);
}

static void test_stack_bound(void **state)
{
	size_t len;
	unsigned char *bc = compile(R("when args.a == 1 and args.b == 2"), &len, NULL, 0);
	assert_non_null(bc);
	tg_policy *p;
	tg_load_diag err;
	assert_int_equal(tg_policy_load_diag(bc, len, &p, &err), TG_OK);
	/* LOAD_INT_CMP (1) JFALSE (1) LOAD_INT_CMP (2) AND (1) */
	assert_int_equal(tg_policy_max_stack(p), 2);
	tg_policy_free(p);
	free(bc);
}

/* ---- limits ------------------------------------------------------------- */

static void test_stack_limit_diagnostic(void **state)
{
	/* args.a + (args.a + (... )): each level keeps one operand on the
	 * stack, so 40 levels need 41 entries, over TG_BC_MAX_STACK. */
	char src[4096] = "rule \"r\": allow anyone to call tool \"a\" when args.a == ";
	size_t n = strlen(src);
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(src + n, sizeof src - n, "args.a + (");
	n += (size_t)snprintf(src + n, sizeof src - n, "1");
	for (int i = 0; i < 40; i++)
		src[n++] = ')';
	snprintf(src + n, sizeof src - n, ";");
	size_t len;
	char msgs[1024];
	unsigned char *bc = compile(src, &len, msgs, sizeof msgs);
	assert_null(bc);
	if (!strstr(msgs, "rule too long"))
		fprintf(stderr, "diagnostics: %s\n", msgs);
	assert_non_null(strstr(msgs, "rule too long"));

	/* 25 levels fit. */
	char ok[4096] = "rule \"r\": allow anyone to call tool \"a\" when args.a == ";
	n = strlen(ok);
	for (int i = 0; i < 25; i++)
		n += (size_t)snprintf(ok + n, sizeof ok - n, "args.a + (");
	n += (size_t)snprintf(ok + n, sizeof ok - n, "1");
	for (int i = 0; i < 25; i++)
		ok[n++] = ')';
	snprintf(ok + n, sizeof ok - n, ";");
	bc = compile(ok, &len, NULL, 0);
	assert_non_null(bc);
	free(bc);
}

static void test_role_limit_diagnostic(void **state)
{
	size_t cap = (TG_BC_MAX_ROLES + 2) * 16 + 128, n = 0;
	char *src = malloc(cap);
	assert_non_null(src);
	for (int i = 0; i <= TG_BC_MAX_ROLES; i++)
		n += (size_t)snprintf(src + n, cap - n, "role r%d;\n", i);
	snprintf(src + n, cap - n, "allow role r0 to list tools;\n");
	size_t len;
	char msgs[1024];
	unsigned char *bc = compile(src, &len, msgs, sizeof msgs);
	assert_null(bc);
	if (!strstr(msgs, "more than 1024 roles"))
		fprintf(stderr, "diagnostics: %s\n", msgs);
	assert_non_null(strstr(msgs, "more than 1024 roles"));
	free(src);

	/* Exactly the limit is fine. */
	n = 0;
	src = malloc(cap);
	assert_non_null(src);
	for (int i = 0; i < TG_BC_MAX_ROLES; i++)
		n += (size_t)snprintf(src + n, cap - n, "role r%d;\n", i);
	snprintf(src + n, cap - n, "allow role r0 to list tools;\n");
	bc = compile(src, &len, NULL, 0);
	assert_non_null(bc);
	free(bc);
	free(src);
}

static void test_glob_limit_diagnostic(void **state)
{
	/* The part of a glob from its first wildcard is bounded
	 * (TG_BC_GLOB_MAX) so matching has a fixed state. The checker
	 * reports it; code generation must too, at the pattern, rather than
	 * truncate: feed it a checked AST whose glob grew afterwards. */
	static const char src[] = "rule \"r\": allow anyone to call tool \"x*\";";
	tg_arena arena;
	tg_diags diags;
	tg_arena_init(&arena);
	tg_diags_init(&diags, &arena);
	tg_ast *ast = tg_parse(&arena, "t.tg", src, strlen(src), &diags);
	assert_non_null(ast);
	assert_true(tg_check(ast, &diags));
	char glob[TG_BC_GLOB_MAX + 8];
	memset(glob, 'a', sizeof glob);
	glob[0] = '*';
	tg_pattern *pat = &ast->rules[0]->action.items[0];
	pat->text.s = glob;
	pat->text.len = sizeof glob;
	unsigned char *bc = NULL;
	size_t len = 0;
	assert_false(tg_codegen(ast, &diags, &bc, &len));
	assert_null(bc);
	assert_int_equal(diags.nerrors, 1);
	assert_non_null(strstr(diags.items[0].message, "longer than"));
	assert_int_equal(diags.items[0].span.start, pat->text.span.start);
	tg_arena_free(&arena);
}

static void test_long_chain(void **state)
{
	/* A long flat chain costs neither C stack nor operand stack. */
	size_t cap = 64 * 1024, n = 0;
	char *src = malloc(cap);
	assert_non_null(src);
	n += (size_t)snprintf(src + n, cap - n, "rule \"r\": allow anyone to call tool \"a\" when args.a == 0");
	for (int i = 1; i < 200; i++)
		n += (size_t)snprintf(src + n, cap - n, " and args.a == %d", i);
	snprintf(src + n, cap - n, ";");
	size_t len;
	unsigned char *bc = compile(src, &len, NULL, 0);
	assert_non_null(bc);
	tg_policy *p;
	tg_load_diag err;
	assert_int_equal(tg_policy_load_diag(bc, len, &p, &err), TG_OK);
	assert_int_equal(tg_policy_max_stack(p), 2);	/* fused comparisons: one entry each */
	tg_policy_free(p);
	free(bc);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_condition),
		cmocka_unit_test(test_comparison),
		cmocka_unit_test(test_and_chain_is_flat),
		cmocka_unit_test(test_or_chain),
		cmocka_unit_test(test_mixed_chain),
		cmocka_unit_test(test_unless),
		cmocka_unit_test(test_reads),
		cmocka_unit_test(test_quantifiers),
		cmocka_unit_test(test_folding),
		cmocka_unit_test(test_empty_list_element_type),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_stack_bound),
		cmocka_unit_test(test_stack_limit_diagnostic),
		cmocka_unit_test(test_role_limit_diagnostic),
		cmocka_unit_test(test_glob_limit_diagnostic),
		cmocka_unit_test(test_long_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
