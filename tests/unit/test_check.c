/*
 * test_check.c - the semantic checker: names, types, domains, literals.
 *
 * Most cases give a policy and the exact diagnostics it must produce, one per
 * line as "LINE:COL+WIDTH message (hint)", so every test pins the message,
 * the span and the hint at once. Passing cases expect "".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages.h"

typedef struct fixture {
	tg_arena arena;
	tg_diags diags;
	tg_ast *ast;
	bool ok;
	char text[8192];
} fixture;

static void render(fixture *f, const char *src)
{
	size_t len = 0;
	f->text[0] = '\0';
	for (size_t i = 0; i < f->diags.n; i++) {
		const tg_diag *d = &f->diags.items[i];
		tg_linecol lc = tg_source_linecol(src, strlen(src), d->span.start);
		len += (size_t)snprintf(f->text + len, sizeof f->text - len, "%s%u:%u+%u %s%s%s%s",
					i ? "\n" : "", lc.line, lc.col,
					(unsigned)(d->span.end - d->span.start), d->message,
					d->hint ? " (" : "", d->hint ? d->hint : "", d->hint ? ")" : "");
	}
}

static fixture *check(const char *src)
{
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	tg_arena_init(&f->arena);
	tg_diags_init(&f->diags, &f->arena);
	f->ast = tg_parse(&f->arena, "dir/t.tg", src, strlen(src), &f->diags);
	assert_non_null(f->ast);
	if (f->diags.nerrors) {
		render(f, src);
		fail_msg("syntax errors in test policy:\n%s", f->text);
	}
	f->ok = tg_check(f->ast, &f->diags);
	tg_diags_sort(&f->diags);
	render(f, src);
	assert_int_equal(f->ok, f->diags.nerrors == 0);
	return f;
}

static void done(fixture *f)
{
	tg_arena_free(&f->arena);
	free(f);
}

static void expect(const char *src, const char *want)
{
	fixture *f = check(src);
	assert_string_equal(f->text, want);
	done(f);
}

static const tg_attr *attr_named(const tg_ast *ast, const char *display)
{
	for (size_t i = 0; i < ast->nattrs; i++)
		if (strcmp(ast->attrs[i]->display, display) == 0)
			return ast->attrs[i];
	return NULL;
}

/* ---- roles -------------------------------------------------------------- */

static void test_unknown_role(void **state)
{
	(void)state;
	expect("role engineer;\n"
	       "rule \"x\": allow role enginer to call tool \"a\";\n",
	       "2:22+7 unknown role 'enginer' (did you mean 'engineer'?)");
	expect("allow role admin to do anything;\n",
	       "1:12+5 unknown role 'admin' (roles are declared with 'role NAME;')");
	expect("role reader;\nrole eng: reeder;\n",
	       "2:11+6 unknown role 'reeder' (did you mean 'reader'?)");
	expect("role admin;\nallow anyone to do anything when principal is admn;\n",
	       "2:47+4 unknown role 'admn' (did you mean 'admin'?)");
}

static void test_roles_resolve_anywhere(void **state)
{
	(void)state;
	fixture *f = check("allow role admin to list tools when principal is \"mcp:ops\";\n"
			   "role reader;\n"
			   "role engineer: reader;\n"
			   "role admin: engineer, auditor;\n"
			   "role auditor;\n"
			   "role \"mcp:ops\": engineer;\n");
	assert_string_equal(f->text, "");
	tg_ast *ast = f->ast;
	assert_int_equal(ast->nroles, 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(ast->roles[i]->index, (int)i);
	assert_int_equal(ast->roles[2]->parent_index[0], 1);
	assert_int_equal(ast->roles[2]->parent_index[1], 3);
	assert_int_equal(ast->roles[4]->parent_index[0], 1);
	assert_int_equal(ast->rules[0]->subject.role_index[0], 2);
	assert_int_equal(ast->rules[0]->when[0]->u.is.role_index, 4);
	assert_int_equal(ast->rules[0]->when[0]->type, TG_TY_BOOL);
	const uint8_t *h = ast->role_closure;
	size_t n = ast->nroles;
	/* reader 0, engineer 1, admin 2, auditor 3, mcp:ops 4 */
	static const uint8_t want[5][5] = {
		{1, 0, 0, 0, 0},
		{1, 1, 0, 0, 0},
		{1, 1, 1, 1, 0},
		{0, 0, 0, 1, 0},
		{1, 1, 0, 0, 1},
	};
	for (size_t r = 0; r < n; r++)
		for (size_t a = 0; a < n; a++)
			assert_int_equal(h[r * n + a], want[r][a]);
	done(f);
}

static void test_role_cycles(void **state)
{
	(void)state;
	expect("role a: b;\nrole b: a;\n", "1:6+1 role inheritance cycle: a -> b -> a");
	expect("role x: x;\n", "1:6+1 role inheritance cycle: x -> x");
	/* Reported once, at the first role of the cycle in source order,
	 * even when the walk starts elsewhere. */
	expect("role top: c;\nrole c: d;\nrole d: e;\nrole e: c;\n",
	       "2:6+1 role inheritance cycle: c -> d -> e -> c");
	/* Two separate cycles: two errors. */
	expect("role p: q;\nrole q: p;\nrole r: s;\nrole s: r;\n",
	       "1:6+1 role inheritance cycle: p -> q -> p\n"
	       "3:6+1 role inheritance cycle: r -> s -> r");
	/* One component with two loops through its first member: once. */
	expect("role a: b, c;\nrole b: a;\nrole c: a;\n",
	       "1:6+1 role inheritance cycle: a -> b -> a");
}

/* ---- duplicates --------------------------------------------------------- */

static void test_duplicates(void **state)
{
	(void)state;
	expect("role a;\nrole b;\nrole a;\n",
	       "3:6+1 duplicate role 'a' (first declared on line 1)");
	expect("set s = [\"x\"];\nset s = [\"y\"];\n",
	       "2:5+1 duplicate set 's' (first declared on line 1)");
	expect("attribute context.env: string;\nattribute context.env: int;\n",
	       "2:11+11 duplicate attribute 'context.env' (first declared on line 1)");
	expect("rule \"r\": allow anyone to list tools;\n"
	       "rule \"r\": deny anyone to list tools;\n",
	       "2:6+3 duplicate rule id 'r' (first used on line 1)");
	expect("policy \"a\";\ndefault deny;\npolicy \"b\";\ndefault allow;\n",
	       "3:1+6 second 'policy' statement (the first is on line 1)\n"
	       "4:1+7 second 'default' statement (the first is on line 2)");
	/* args.x and args["x"] are one attribute. */
	expect("attribute args.x: int;\nattribute args[\"x\"]: int;\n",
	       "2:11+9 duplicate attribute 'args.x' (first declared on line 1)");
}

/* ---- rule names --------------------------------------------------------- */

static void test_rule_names(void **state)
{
	(void)state;
	fixture *f = check("rule \"named\": allow anyone to list tools;\n"
			   "\n"
			   "allow anyone to list prompts;\n"
			   "deny anyone to list tools; allow anyone to list resources;\n"
			   "  deny principal \"m\" to do anything;\n");
	assert_string_equal(f->text, "");
	assert_int_equal(f->ast->nrules, 5);
	assert_string_equal(f->ast->rules[0]->display_id, "named");
	assert_string_equal(f->ast->rules[1]->display_id, "t.tg:3");
	assert_string_equal(f->ast->rules[2]->display_id, "t.tg:4:1");
	assert_string_equal(f->ast->rules[3]->display_id, "t.tg:4:28");
	assert_string_equal(f->ast->rules[4]->display_id, "t.tg:5");
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(f->ast->rules[i]->index, i);
	done(f);

	/* The keyword's line, not the `rule` line. */
	f = check("rule \"a\": allow anyone to list tools; deny anyone to list tools\n"
		  "when request.method == \"x\";\n");
	assert_string_equal(f->text, "");
	assert_string_equal(f->ast->rules[1]->display_id, "t.tg:1");
	done(f);

	expect("allow anyone to list tools;\nrule \"t.tg:1\": allow anyone to list tools;\n",
	       "2:6+8 duplicate rule id 't.tg:1' (first used on line 1)");
}

/* ---- sets and patterns -------------------------------------------------- */

static void test_sets(void **state)
{
	(void)state;
	fixture *f = check("allow anyone to call tool read_tools, \"x.*\";\n"
			   "set read_tools = [\"search_*\", \"*.get_*\"];\n"
			   "set unused = [\"a\"];\n");
	assert_string_equal(f->text, "");
	const tg_action *a = &f->ast->rules[0]->action;
	assert_true(a->items[0].is_set);
	assert_ptr_equal(a->items[0].set, f->ast->sets[0]);
	assert_true(f->ast->sets[0]->used);
	assert_false(f->ast->sets[1]->used);
	done(f);

	expect("set read_tools = [\"a\"];\nallow anyone to call tool read_tool;\n",
	       "2:27+9 unknown set 'read_tool' (did you mean 'read_tools'?)");
	expect("allow anyone to get prompt summarize;\n",
	       "1:28+9 unknown set 'summarize' (to match the name itself, quote it: \"summarize\")");
}

static void test_globs(void **state)
{
	(void)state;
	expect("allow anyone to call tool \"a\\\\*\", \"b***\", \"**/x?\";\n"
	       "allow anyone to invoke \"resources/*\";\n"
	       "allow anyone to list tools when args.p like \"\\\\\\\\\";\n",
	       "");
	expect("allow anyone to call tool \"fs.\\\\\";\n",
	       "1:27+7 glob ends with a lone '\\' ('\\' escapes the next character; to match a backslash write \"\\\\\\\\\")");
	expect("set s = [\"ok\", \"bad\\\\\"];\n",
	       "1:16+7 glob ends with a lone '\\' ('\\' escapes the next character; to match a backslash write \"\\\\\\\\\")");
	expect("allow anyone to invoke \"tools/\\\\\";\n",
	       "1:24+10 method glob ends with a lone '\\' ('\\' escapes the next character; to match a backslash write \"\\\\\\\\\")");
	expect("allow anyone to read resource \"file:///\\\\\" when args.p like \"x\\\\\";\n",
	       "1:31+12 glob ends with a lone '\\' ('\\' escapes the next character; to match a backslash write \"\\\\\\\\\")\n"
	       "1:61+5 glob ends with a lone '\\' ('\\' escapes the next character; to match a backslash write \"\\\\\\\\\")");
}

/* ---- attributes --------------------------------------------------------- */

static void test_attribute_table(void **state)
{
	(void)state;
	fixture *f = check("allow anyone to call any tool\n"
			   "  when args.options.force == true and args[\"content-type\"] == \"json\"\n"
			   "  and tool.destructive and principal.tenant == context.tenant\n"
			   "  and token has exp and args.x > 1 and args[\"x\"] < 5;\n"
			   "attribute principal.tenant: string;\n"
			   "attribute context.unread: int;\n");
	assert_string_equal(f->text, "");
	static const char *const order[] = {
		"args.options.force", "args[\"content-type\"]", "tool.destructive",
		"principal.tenant", "context.tenant", "token.exp", "args.x", "context.unread",
	};
	assert_int_equal(f->ast->nattrs, 8);
	for (size_t i = 0; i < 8; i++) {
		assert_string_equal(f->ast->attrs[i]->display, order[i]);
		assert_int_equal(f->ast->attrs[i]->slot, (int)i);
	}
	const tg_attr *a = attr_named(f->ast, "tool.destructive");
	assert_true(a->builtin);
	assert_int_equal(a->type, TG_TY_BOOL);
	assert_int_equal(a->root, TG_ROOT_TOOL);
	a = attr_named(f->ast, "principal.tenant");
	assert_false(a->builtin);
	assert_int_equal(a->type, TG_TY_STRING);
	assert_ptr_equal(a->decl, f->ast->attr_decls[0]);
	assert_ptr_equal(f->ast->attr_decls[0]->attr, a);
	assert_true(a->used);
	a = attr_named(f->ast, "context.tenant");
	assert_int_equal(a->type, TG_TY_ANY);
	assert_null(a->decl);
	a = attr_named(f->ast, "args.options.force");
	assert_int_equal(a->nfields, 2);
	assert_int_equal(a->root, TG_ROOT_ARGS);
	a = attr_named(f->ast, "token.exp");
	assert_true(a->used);
	assert_int_equal(a->nfields, 1);
	assert_string_equal(a->fields[0].s, "exp");
	a = attr_named(f->ast, "context.unread");
	assert_false(a->used);
	assert_ptr_equal(a->decl, f->ast->attr_decls[1]);
	/* Paths in expressions point at their attribute. */
	const tg_expr *w = f->ast->rules[0]->when[0];
	assert_int_equal(w->type, TG_TY_BOOL);
	done(f);
}

static void test_builtin_attributes(void **state)
{
	(void)state;
	expect("allow anyone to call any tool when principal.id == \"a\" and \"r\" in principal.roles\n"
	       "  and \"s\" in token.scopes and tool.read_only and not tool.idempotent\n"
	       "  and tool.open_world and tool.name like \"x*\" and tool.server == \"db\"\n"
	       "  and resource.uri starts_with \"file:\" and prompt.name == \"p\"\n"
	       "  and request.method == \"tools/call\";\n",
	       "");
	expect("attribute principal.id: int;\n",
	       "1:11+12 'principal.id' is built in and cannot be declared (its type is string)");
	expect("attribute tool.read_only: bool;\n",
	       "1:11+14 'tool.read_only' is built in and cannot be declared (its type is bool)");
	expect("attribute tool.cost: int;\n",
	       "1:11+9 attributes are declared under principal, token, context or args, not 'tool'");
	expect("allow anyone to call any tool when tool.destructiv;\n",
	       "1:36+15 unknown attribute 'tool.destructiv' (did you mean 'tool.destructive'?)");
	expect("allow anyone to list tools when resource.url == \"x\";\n",
	       "1:33+12 unknown attribute 'resource.url' (did you mean 'resource.uri'?)");
	expect("allow anyone to list tools when request.body == \"x\";\n",
	       "1:33+12 unknown attribute 'request.body' ('request' has request.method)");
	expect("allow anyone to list tools when tool has cost;\n",
	       "1:42+4 unknown attribute 'tool.cost' ('tool' has tool.read_only, tool.destructive, tool.idempotent, tool.open_world, tool.name, tool.server)");
	/* has never errors on a readable root. */
	expect("allow anyone to list tools when principal has roles and args has \"a b\"\n"
	       "  and tool has destructive and context.x has y;\n",
	       "");
}

/* ---- types -------------------------------------------------------------- */

static const char *decls =
	"attribute principal.clearance: int;\n"
	"attribute args.sql: string;\n"
	"attribute args.tags: list<string>;\n"
	"attribute args.ids: list<int>;\n"
	"attribute context.mfa: bool;\n";

static void expect_typed(const char *cond, const char *want)
{
	char src[2048];
	snprintf(src, sizeof src, "%sallow anyone to call any tool when %s;\n", decls, cond);
	expect(src, want);
}

static void test_types_ok(void **state)
{
	(void)state;
	expect_typed("principal.clearance >= 2 and args.sql starts_with \"SELECT \"", "");
	expect_typed("args.tags == [\"a\", \"b\"] and args.ids != [] and args.tags == []", "");
	expect_typed("\"x\" in args.tags and 3 in args.ids and args.sql in [\"a\"]", "");
	expect_typed("args.tags contains \"x\" and args.ids contains 4 and args.sql contains \";\"", "");
	expect_typed("principal.clearance - 1 + 2 < 10 and context.mfa", "");
	expect_typed("all args.tags like \"t-*\" and any args.ids > 3 and all args.tags in [\"a\"]", "");
	expect_typed("all args.paths under \"/srv\" and any context.x == 1", "");
	/* Undeclared attributes are ANY: anything goes, checked at run time. */
	expect_typed("context.a == 1 and context.b == \"s\" and context.c and context.d > context.e"
		     " and context.f contains 1 and context.g in context.h and context.i + 1 > 0"
		     " and args.sql == context.j and args.tags == context.k", "");
	expect_typed("not (args.sql ends_with \".sql\") and (principal.clearance > 1 or context.mfa)", "");
}

static void test_type_errors(void **state)
{
	(void)state;
	expect_typed("principal.clearance == \"2\"", "6:59+3 cannot compare int with string");
	expect_typed("args.tags == [1]", "6:49+3 cannot compare list<string> with list<int>");
	expect_typed("args.sql == principal.clearance", "6:45+2 cannot compare string with int");
	expect_typed("args.sql < 3", "6:36+8 '<' needs ints, found string");
	expect_typed("principal.clearance >= \"3\"", "6:59+3 '>=' needs ints, found string");
	expect_typed("args.sql + 1 > 0", "6:36+8 '+' needs ints, found string");
	expect_typed("1 - context.mfa > 0", "6:40+11 '-' needs ints, found bool");
	expect_typed("args.sql starts_with 3", "6:57+1 'starts_with' needs strings, found int");
	expect_typed("principal.clearance ends_with \"x\"",
		     "6:36+19 'ends_with' needs strings, found int");
	expect_typed("1 in args.tags", "6:36+1 cannot look for int in list<string>");
	expect_typed("\"a\" in args.sql", "6:43+8 'in' needs a list on the right, found string");
	expect_typed("args.tags in [\"a\"]",
		     "6:36+9 'in' needs a string or an int on the left, found list<string>");
	expect_typed("args.ids contains \"a\"", "6:54+3 cannot look for string in list<int>");
	expect_typed("args.sql contains 1", "6:54+1 'contains' on a string needs a string, found int");
	expect_typed("principal.clearance contains 1",
		     "6:36+19 'contains' needs a list or a string on the left, found int");
	expect_typed("principal.clearance like \"a\"",
		     "6:36+19 'like' needs a string on the left, found int");
	expect_typed("args.sql like args.pattern",
		     "6:50+12 the right side of 'like' must be a string literal (the glob is compiled with the policy)");
	expect_typed("args.sql under context.root",
		     "6:51+12 the right side of 'under' must be a string literal (the directory is checked with the policy)");
	expect_typed("args.sql", "6:36+8 'when' condition must be bool, found string");
	expect_typed("args.sql and context.mfa", "6:36+8 'and' needs bool operands, found string");
	expect_typed("context.mfa or 1", "6:51+1 'or' needs bool operands, found int");
	expect_typed("not args.ids", "6:40+8 'not' needs a bool, found list<int>");
	expect_typed("args.sql in [\"a\", 1]", "6:54+1 list mixes string and int");
	expect_typed("args.sql in [true]", "6:49+4 lists hold strings or ints, found bool");
	expect_typed("all args.sql == \"a\"", "6:40+8 'all' needs a list, found string");
	expect_typed("any args.ids starts_with \"1\"", "6:40+8 'starts_with' needs strings, found int");
	expect_typed("all args.tags > 1", "6:40+9 '>' needs ints, found string");
	/* unless conditions are typed too. */
	char src[1024];
	snprintf(src, sizeof src, "%sdeny anyone to do anything unless principal.clearance;\n",
		 decls);
	expect(src, "6:35+19 'unless' condition must be bool, found int");
}

static void test_independent_errors(void **state)
{
	(void)state;
	expect("role r;\n"
	       "attribute args.n: int;\n"
	       "allow role x to call tool s when args.n == \"a\" and principal is y;\n"
	       "rule \"d\": deny anyone to do anything when args.n like \"*\";\n"
	       "rule \"d\": deny anyone to do anything;\n",
	       "3:12+1 unknown role 'x' (roles are declared with 'role NAME;')\n"
	       "3:27+1 unknown set 's' (to match the name itself, quote it: \"s\")\n"
	       "3:44+3 cannot compare int with string\n"
	       "3:65+1 unknown role 'y' (roles are declared with 'role NAME;')\n"
	       "4:43+6 'like' needs a string on the left, found int\n"
	       "5:6+3 duplicate rule id 'd' (first used on line 4)");
}

static void test_overflow(void **state)
{
	(void)state;
	expect("allow anyone to list tools when context.x > 9223372036854775807 + 1;\n",
	       "1:45+23 integer overflow in constant expression (ints are 64-bit: from -9223372036854775808 to 9223372036854775807)");
	expect("allow anyone to list tools when context.x > -9223372036854775807 - 1 - 1;\n",
	       "1:45+28 integer overflow in constant expression (ints are 64-bit: from -9223372036854775808 to 9223372036854775807)");
	expect("allow anyone to list tools when context.x > -9223372036854775807 - 1"
	       " and context.y < 9223372036854775806 + 1 and context.z > 5 - 9223372036854775807;\n",
	       "");
	/* Not constant: checked at run time. */
	expect("allow anyone to list tools when context.x + 9223372036854775807 > 1;\n", "");
}

/* ---- domains ------------------------------------------------------------ */

static const char *env =
	"attribute context.environment: string in [\"dev\", \"staging\", \"prod\"];\n"
	"attribute principal.groups: list<string> in [\"red\", \"blue\"];\n"
	"attribute args.level: int in [1, 2, 3];\n";

static void expect_domain(const char *cond, const char *want)
{
	char src[2048];
	snprintf(src, sizeof src, "%sallow anyone to call any tool when %s;\n", env, cond);
	expect(src, want);
}

static void test_domains(void **state)
{
	(void)state;
	expect_domain("context.environment == \"prod\" and args.level != 2"
		      " and principal.groups contains \"red\" and \"blue\" in principal.groups"
		      " and context.environment in [\"dev\", \"staging\"]", "");
	/* Not checked: ordering, prefixes, globs, substrings. */
	expect_domain("args.level < 9 and context.environment starts_with \"pr\""
		      " and context.environment like \"q*\" and context.environment contains \"x\"", "");
	expect_domain("context.environment == \"qa\"",
		      "4:59+4 'qa' is not one of the declared values of context.environment: dev, staging, prod");
	expect_domain("\"stagin\" != context.environment",
		      "4:36+8 'stagin' is not one of the declared values of context.environment: dev, staging, prod (did you mean 'staging'?)");
	expect_domain("context.environment in [\"dev\", \"test\"]",
		      "4:67+6 'test' is not one of the declared values of context.environment: dev, staging, prod");
	expect_domain("principal.groups contains \"green\"",
		      "4:62+7 'green' is not one of the declared values of principal.groups: red, blue");
	expect_domain("\"gren\" in principal.groups",
		      "4:36+6 'gren' is not one of the declared values of principal.groups: red, blue");
	expect_domain("principal.groups == [\"red\", \"bleu\"]",
		      "4:64+6 'bleu' is not one of the declared values of principal.groups: red, blue (did you mean 'blue'?)");
	expect_domain("args.level == 4", "4:50+1 '4' is not one of the declared values of args.level: 1, 2, 3");
	expect_domain("any principal.groups == \"x\"",
		      "4:60+3 'x' is not one of the declared values of principal.groups: red, blue");
	expect("attribute context.env: string in [\"a\", 1];\n",
	       "1:40+1 declared values of context.env must be string, found int");
	expect("attribute args.ids: list<int> in [1, \"2\"];\n",
	       "1:38+3 declared values of args.ids must be int, found string");
}

/* ---- under -------------------------------------------------------------- */

static void test_under(void **state)
{
	(void)state;
	expect("allow anyone to list tools when args.p under \"/srv/repos\" and args.q under \"/\";\n",
	       "");
	expect("allow anyone to list tools when args.p under \"srv\";\n",
	       "1:46+5 'under' needs an absolute directory, found 'srv' (start it with '/')");
	expect("allow anyone to list tools when args.p under \"/srv/\";\n",
	       "1:46+7 'under' directory '/srv/' has an empty segment (remove the trailing '/')");
	expect("allow anyone to list tools when args.p under \"/a//b\";\n",
	       "1:46+7 'under' directory '/a//b' has an empty segment (remove the doubled '/')");
	expect("allow anyone to list tools when args.p under \"/srv/../etc\";\n",
	       "1:46+13 'under' directory '/srv/../etc' has a '..' segment (write the directory in its normal form)");
	expect("allow anyone to list tools when all args.ps under \"/./x\";\n",
	       "1:51+6 'under' directory '/./x' has a '.' segment (write the directory in its normal form)");
	expect("allow anyone to list tools when args.p under \"\";\n",
	       "1:46+2 'under' needs an absolute directory, found '' (start it with '/')");
}

static void test_attribute_display(void **state)
{
	(void)state;
	fixture *f = check("allow anyone to list tools when args[\"a\\\"b\"] == 1 and args[\"x\"] == 2"
			   " and args.x > 1 and args[\"9lives\"] has \"k-1\" and args[\"_ok\"] == 3;\n");
	assert_string_equal(f->text, "");
	static const char *const order[] = {
		"args[\"a\\\"b\"]", "args.x", "args[\"9lives\"][\"k-1\"]", "args._ok",
	};
	assert_int_equal(f->ast->nattrs, 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(f->ast->attrs[i]->display, order[i]);
	/* The has expression reads base + field. */
	const tg_expr *and = f->ast->rules[0]->when[0];
	while (and->kind == TG_E_AND && and->u.bin.rhs->kind != TG_E_HAS)
		and = and->u.bin.lhs;
	const tg_expr *h = and->u.bin.rhs;
	assert_int_equal(h->kind, TG_E_HAS);
	assert_int_equal(h->type, TG_TY_BOOL);
	assert_ptr_equal(h->u.has.attr, f->ast->attrs[2]);
	assert_int_equal(h->u.has.attr->nfields, 2);
	assert_true(h->u.has.attr->used);
	done(f);
}

static void test_empty_lists(void **state)
{
	(void)state;
	fixture *f = check("attribute args.tags: list<string>;\n"
			   "allow anyone to list tools when args.tags == [] and [] != args.tags"
			   " and args.x in [] and not ([] contains 1) and all [] == 1;\n");
	assert_string_equal(f->text, "");
	const tg_expr *e = f->ast->rules[0]->when[0];
	while (e->kind == TG_E_AND)
		e = e->u.bin.lhs;
	assert_int_equal(e->kind, TG_E_CMP);
	assert_int_equal(e->u.cmp.lhs->type, TG_TY_STRING_LIST);
	assert_int_equal(e->u.cmp.rhs->type, TG_TY_EMPTY_LIST);
	done(f);
	expect("allow anyone to list tools when principal.id == [];\n",
	       "1:49+2 cannot compare string with empty list");
	expect("allow anyone to list tools when principal.roles contains [];\n",
	       "1:58+2 'contains' needs a string or an int on the right, found empty list");
	expect("allow anyone to list tools when [] in [];\n",
	       "1:33+2 'in' needs a string or an int on the left, found empty list");
}

static void test_bool_domain_and_quantifiers(void **state)
{
	(void)state;
	expect("attribute context.mfa: bool in [true];\n"
	       "attribute args.envs: list<string> in [\"dev\", \"prod\"];\n"
	       "allow anyone to list tools when context.mfa == false and any args.envs in [\"dev\", \"qa\"]"
	       " and all args.envs != \"prod\" and args.envs == [];\n",
	       "3:48+5 'false' is not one of the declared values of context.mfa: true\n"
	       "3:83+4 'qa' is not one of the declared values of args.envs: dev, prod");
}

static void test_glob_too_long(void **state)
{
	(void)state;
	char src[2048], glob[700];
	memset(glob, 'a', sizeof glob - 1);
	glob[sizeof glob - 1] = '\0';
	glob[100] = '*';	/* 599 bytes from the first wildcard */
	snprintf(src, sizeof src, "allow anyone to call tool \"%s\";\n", glob);
	expect(src, "1:27+701 glob is too long: 599 bytes from its first wildcard, at most 512"
		    " (split it into several patterns)");
	glob[100] = 'a';
	glob[sizeof glob - 513] = '?';	/* exactly 512 */
	snprintf(src, sizeof src, "allow anyone to list tools when args.x like \"%s\";\n", glob);
	expect(src, "");
}

/* After syntax errors the checker still runs on what parsed, without
 * crashing and without repeating what the parser said. */
static void test_after_syntax_errors(void **state)
{
	(void)state;
	static const char src[] =
		"role r;\n"
		"allow anyone to list tools when args == 1;\n"
		"allow anyone to invoke some_set;\n"
		"allow role q to list tools;\n"
		"deny anyone to ;\n";
	tg_arena arena;
	tg_diags diags;
	tg_arena_init(&arena);
	tg_diags_init(&diags, &arena);
	tg_ast *ast = tg_parse(&arena, "t.tg", src, strlen(src), &diags);
	assert_non_null(ast);
	size_t syntax = diags.nerrors;
	assert_true(syntax >= 3);
	assert_false(tg_check(ast, &diags));
	assert_int_equal(diags.nerrors, syntax + 1);	/* unknown role 'q' */
	tg_arena_free(&arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_role),
		cmocka_unit_test(test_roles_resolve_anywhere),
		cmocka_unit_test(test_role_cycles),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_rule_names),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_globs),
		cmocka_unit_test(test_attribute_table),
		cmocka_unit_test(test_builtin_attributes),
		cmocka_unit_test(test_types_ok),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_independent_errors),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_under),
		cmocka_unit_test(test_attribute_display),
		cmocka_unit_test(test_empty_lists),
		cmocka_unit_test(test_bool_domain_and_quantifiers),
		cmocka_unit_test(test_glob_too_long),
		cmocka_unit_test(test_after_syntax_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
