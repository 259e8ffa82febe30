/*
 * test_parser.c - AST shapes, spans, recovery and limits of tg_parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stages.h"

typedef struct parsed {
	tg_arena arena;
	tg_diags diags;
	tg_ast *ast;
	const char *src;
} parsed;

static parsed *parse_n(const char *src, size_t len)
{
	parsed *r = calloc(1, sizeof *r);
	assert_non_null(r);
	tg_arena_init(&r->arena);
	tg_diags_init(&r->diags, &r->arena);
	r->src = src;
	r->ast = tg_parse(&r->arena, "dir/sub/policy.tg", src, len, &r->diags);
	assert_non_null(r->ast);
	return r;
}

static parsed *parse(const char *src)
{
	return parse_n(src, strlen(src));
}

static parsed *parse_ok(const char *src)
{
	parsed *r = parse(src);
	for (size_t k = 0; k < r->diags.n; k++)
		print_error("unexpected diagnostic: %s\n", r->diags.items[k].message);
	assert_int_equal(r->diags.n, 0);
	return r;
}

static void done(parsed *r)
{
	tg_arena_free(&r->arena);
	free(r);
}

static const char *text(const parsed *r, tg_span s)
{
	static char buf[512];
	snprintf(buf, sizeof buf, "%.*s", (int)(s.end - s.start), r->src + s.start);
	return buf;
}

/* The only condition of the only rule. */
static const tg_expr *cond(const parsed *r)
{
	assert_int_equal(r->ast->nrules, 1);
	assert_int_equal(r->ast->rules[0]->nwhen, 1);
	return r->ast->rules[0]->when[0];
}

static parsed *parse_cond(const char *expr)
{
	static char src[1024];
	snprintf(src, sizeof src, "allow anyone to do anything when %s;", expr);
	return parse_ok(src);
}

static void test_empty(void **state)
{
	(void)state;
	parsed *r = parse_ok("  # nothing\n");
	assert_int_equal(r->ast->nstmts, 0);
	assert_int_equal(r->ast->ncomments, 1);
	assert_string_equal(r->ast->base, "policy.tg");
	assert_null(r->ast->policy_stmt);
	assert_null(r->ast->default_stmt);
	done(r);
}

static void test_declarations(void **state)
{
	(void)state;
	parsed *r = parse_ok("policy \"p\" version \"2026.11\";\n"
			     "default allow;\n"
			     "role admin: engineer, \"mcp:ops\";\n"
			     "role \"mcp:ops\";\n"
			     "set tools_a = [\"a.*\", \"b\"];\n"
			     "set empty = [];\n"
			     "attribute context.environment: string in [\"dev\", \"prod\"];\n"
			     "attribute args[\"content-type\"].x: list<string>;\n"
			     "attribute token.exp: int;\n"
			     "attribute principal.level: list<int> in [1, -2];\n"
			     "attribute context.mfa: bool in [true, false];\n"
			     "policy \"second\";\n");
	const tg_ast *a = r->ast;
	assert_int_equal(a->nstmts, 12);
	assert_int_equal(a->stmts[0].kind, TG_STMT_POLICY);
	assert_string_equal(a->stmts[0].u.policy.name.s, "p");
	assert_true(a->stmts[0].u.policy.has_version);
	assert_string_equal(a->stmts[0].u.policy.version.s, "2026.11");
	assert_ptr_equal(a->policy_stmt, &a->stmts[0]);	/* the first one */
	assert_false(a->stmts[11].u.policy.has_version);
	assert_ptr_equal(a->default_stmt, &a->stmts[1]);
	assert_int_equal(a->stmts[1].u.default_effect, TG_EFFECT_ALLOW);
	assert_string_equal(text(r, a->stmts[1].span), "default allow;");

	assert_int_equal(a->nroles, 2);
	assert_string_equal(a->roles[0]->name.s, "admin");
	assert_int_equal(a->roles[0]->nparents, 2);
	assert_string_equal(a->roles[0]->parents[1].s, "mcp:ops");
	assert_string_equal(text(r, a->roles[0]->parents[1].span), "\"mcp:ops\"");
	assert_string_equal(a->roles[1]->name.s, "mcp:ops");
	assert_string_equal(text(r, a->roles[0]->span), "role admin: engineer, \"mcp:ops\";");

	assert_int_equal(a->nsets, 2);
	assert_string_equal(a->sets[0]->name.s, "tools_a");
	assert_int_equal(a->sets[0]->n, 2);
	assert_string_equal(a->sets[0]->items[0].s, "a.*");
	assert_int_equal(a->sets[1]->n, 0);

	assert_int_equal(a->nattr_decls, 5);
	const tg_attr_decl *d = a->attr_decls[0];
	assert_int_equal(d->path.root, TG_ROOT_CONTEXT);
	assert_int_equal(d->path.nfields, 1);
	assert_string_equal(d->path.fields[0].s, "environment");
	assert_string_equal(text(r, d->path.span), "context.environment");
	assert_int_equal(d->type, TG_TY_STRING);
	assert_string_equal(text(r, d->type_span), "string");
	assert_true(d->has_domain);
	assert_int_equal(d->ndomain, 2);
	assert_int_equal(d->domain[1]->kind, TG_E_STRING);
	assert_string_equal(d->domain[1]->u.str.s, "prod");
	d = a->attr_decls[1];
	assert_int_equal(d->path.root, TG_ROOT_ARGS);
	assert_int_equal(d->path.nfields, 2);
	assert_string_equal(d->path.fields[0].s, "content-type");
	assert_string_equal(text(r, d->path.fields[0].span), "\"content-type\"");
	assert_int_equal(d->type, TG_TY_STRING_LIST);
	assert_string_equal(text(r, d->type_span), "list<string>");
	assert_false(d->has_domain);
	assert_int_equal(a->attr_decls[2]->type, TG_TY_INT);
	assert_int_equal(a->attr_decls[3]->type, TG_TY_INT_LIST);
	assert_int_equal(a->attr_decls[3]->domain[1]->u.i, -2);
	assert_int_equal(a->attr_decls[4]->type, TG_TY_BOOL);
	assert_int_equal(a->attr_decls[4]->domain[0]->kind, TG_E_BOOL);
	assert_true(a->attr_decls[4]->domain[0]->u.b);
	done(r);
}

static void test_rule_parts(void **state)
{
	(void)state;
	parsed *r = parse_ok("rule \"r1\": allow role a, \"b c\" to call tool \"x.*\", myset\n"
			     "  when args.a == 1 when args.b == 2 unless args.c == 3\n"
			     "  because \"why\";\n"
			     "deny anyone to do anything;\n");
	const tg_ast *a = r->ast;
	assert_int_equal(a->nrules, 2);
	const tg_rule *x = a->rules[0];
	assert_true(x->has_id);
	assert_string_equal(x->id.s, "r1");
	assert_string_equal(text(r, x->id.span), "\"r1\"");
	assert_int_equal(x->effect, TG_EFFECT_ALLOW);
	assert_string_equal(text(r, x->effect_span), "allow");
	assert_int_equal(x->subject.kind, TG_SUBJ_ROLE);
	assert_int_equal(x->subject.n, 2);
	assert_string_equal(x->subject.items[1].s, "b c");
	assert_string_equal(text(r, x->subject.span), "role a, \"b c\"");
	assert_int_equal(x->action.kind, TG_ACT_CALL_TOOL);
	assert_false(x->action.any);
	assert_int_equal(x->action.n, 2);
	assert_false(x->action.items[0].is_set);
	assert_string_equal(x->action.items[0].text.s, "x.*");
	assert_true(x->action.items[1].is_set);
	assert_string_equal(x->action.items[1].text.s, "myset");
	assert_string_equal(text(r, x->action.span), "call tool \"x.*\", myset");
	assert_int_equal(x->nwhen, 2);
	assert_int_equal(x->nunless, 1);
	assert_string_equal(text(r, x->when[1]->span), "args.b == 2");
	assert_string_equal(text(r, x->unless[0]->span), "args.c == 3");
	assert_true(x->has_because);
	assert_string_equal(x->because.s, "why");
	assert_int_equal(x->span.start, 0);
	assert_int_equal(r->src[x->span.end - 1], ';');
	assert_int_equal(x->index, 0);
	assert_ptr_equal(a->stmts[0].u.rule, x);
	assert_int_equal(a->stmts[0].span.start, x->span.start);
	assert_int_equal(a->stmts[0].span.end, x->span.end);

	x = a->rules[1];
	assert_false(x->has_id);
	assert_int_equal(x->index, 1);
	assert_int_equal(x->effect, TG_EFFECT_DENY);
	assert_int_equal(x->subject.kind, TG_SUBJ_ANYONE);
	assert_int_equal(x->action.kind, TG_ACT_ANYTHING);
	assert_false(x->has_because);
	assert_int_equal(x->nwhen + x->nunless, 0);
	assert_string_equal(text(r, x->span), "deny anyone to do anything;");
	done(r);
}

static void test_subjects_and_actions(void **state)
{
	(void)state;
	static const struct {
		const char *src;
		tg_subject_kind subj;
		size_t nsubj;
		tg_action_kind act;
		bool any;
		size_t nact;
	} cases[] = {
		{"allow scope \"a\", \"b\" to call any tool;", TG_SUBJ_SCOPE, 2, TG_ACT_CALL_TOOL, true, 0},
		{"allow principal \"alice\" to read resource \"file:///x/**\", s;", TG_SUBJ_PRINCIPAL, 1,
		 TG_ACT_READ_RESOURCE, false, 2},
		{"allow client \"app\" to read any resource;", TG_SUBJ_CLIENT, 1, TG_ACT_READ_RESOURCE,
		 true, 0},
		{"allow anyone to get prompt \"p\";", TG_SUBJ_ANYONE, 0, TG_ACT_GET_PROMPT, false, 1},
		{"allow anyone to get any prompt;", TG_SUBJ_ANYONE, 0, TG_ACT_GET_PROMPT, true, 0},
		{"allow anyone to list tools;", TG_SUBJ_ANYONE, 0, TG_ACT_LIST_TOOLS, false, 0},
		{"allow anyone to list resources;", TG_SUBJ_ANYONE, 0, TG_ACT_LIST_RESOURCES, false, 0},
		{"allow anyone to list prompts;", TG_SUBJ_ANYONE, 0, TG_ACT_LIST_PROMPTS, false, 0},
		{"allow anyone to list resource_templates;", TG_SUBJ_ANYONE, 0,
		 TG_ACT_LIST_RESOURCE_TEMPLATES, false, 0},
		{"allow anyone to invoke \"resources/*\", \"ping\";", TG_SUBJ_ANYONE, 0, TG_ACT_INVOKE,
		 false, 2},
		{"deny role x to do anything;", TG_SUBJ_ROLE, 1, TG_ACT_ANYTHING, false, 0},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		parsed *r = parse_ok(cases[k].src);
		const tg_rule *x = r->ast->rules[0];
		assert_int_equal(x->subject.kind, cases[k].subj);
		assert_int_equal(x->subject.n, cases[k].nsubj);
		assert_int_equal(x->action.kind, cases[k].act);
		assert_int_equal(x->action.any, cases[k].any);
		assert_int_equal(x->action.n, cases[k].nact);
		done(r);
	}
	parsed *r = parse("allow anyone to invoke methods;");
	assert_int_equal(r->diags.nerrors, 1);
	done(r);
}

static void test_precedence(void **state)
{
	(void)state;
	/* or < and < not < comparison < + - */
	parsed *r = parse_cond("args.a or args.b and not args.c == args.d + 1 - 2");
	const tg_expr *e = cond(r);
	assert_int_equal(e->kind, TG_E_OR);
	assert_int_equal(e->u.bin.lhs->kind, TG_E_PATH);
	const tg_expr *and = e->u.bin.rhs;
	assert_int_equal(and->kind, TG_E_AND);
	const tg_expr *not = and->u.bin.rhs;
	assert_int_equal(not->kind, TG_E_NOT);
	const tg_expr *cmp = not->u.operand;
	assert_int_equal(cmp->kind, TG_E_CMP);
	assert_int_equal(cmp->u.cmp.op, TG_CMP_EQ);
	assert_string_equal(text(r, cmp->u.cmp.op_span), "==");
	const tg_expr *sub = cmp->u.cmp.rhs;
	assert_int_equal(sub->kind, TG_E_SUB);	/* (d + 1) - 2: left-associative */
	assert_int_equal(sub->u.bin.lhs->kind, TG_E_ADD);
	assert_int_equal(sub->u.bin.rhs->u.i, 2);
	assert_string_equal(text(r, sub->span), "args.d + 1 - 2");
	assert_string_equal(text(r, e->span), "args.a or args.b and not args.c == args.d + 1 - 2");
	done(r);

	r = parse_cond("args.a and args.b and args.c or args.d or args.e");
	e = cond(r);
	assert_int_equal(e->kind, TG_E_OR);
	assert_int_equal(e->u.bin.lhs->kind, TG_E_OR);
	assert_int_equal(e->u.bin.lhs->u.bin.lhs->kind, TG_E_AND);
	assert_int_equal(e->u.bin.lhs->u.bin.lhs->u.bin.lhs->kind, TG_E_AND);
	done(r);
}

static void test_comparison_operators(void **state)
{
	(void)state;
	static const struct {
		const char *op;
		tg_cmp_op k;
	} ops[] = {
		{"==", TG_CMP_EQ}, {"!=", TG_CMP_NE}, {"<", TG_CMP_LT}, {"<=", TG_CMP_LE},
		{">", TG_CMP_GT}, {">=", TG_CMP_GE}, {"in", TG_CMP_IN},
		{"contains", TG_CMP_CONTAINS}, {"like", TG_CMP_LIKE},
		{"starts_with", TG_CMP_STARTS_WITH}, {"ends_with", TG_CMP_ENDS_WITH},
		{"under", TG_CMP_UNDER},
	};
	for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
		char e[128];
		snprintf(e, sizeof e, "args.x %s \"v\"", ops[k].op);
		parsed *r = parse_cond(e);
		assert_int_equal(cond(r)->kind, TG_E_CMP);
		assert_int_equal(cond(r)->u.cmp.op, ops[k].k);
		assert_string_equal(text(r, cond(r)->u.cmp.op_span), ops[k].op);
		done(r);
		snprintf(e, sizeof e, "any args.x %s \"v\"", ops[k].op);
		r = parse_cond(e);
		assert_int_equal(cond(r)->kind, TG_E_QUANT);
		assert_false(cond(r)->u.quant.all);
		assert_int_equal(cond(r)->u.quant.op, ops[k].k);
		done(r);
	}
}

static void test_operands(void **state)
{
	(void)state;
	parsed *r = parse_cond("args[\"content-type\"].list == [\"a\", -3, true, false, []]");
	const tg_expr *e = cond(r);
	const tg_expr *p = e->u.cmp.lhs;
	assert_int_equal(p->kind, TG_E_PATH);
	assert_int_equal(p->u.path.root, TG_ROOT_ARGS);
	assert_int_equal(p->u.path.nfields, 2);
	assert_string_equal(p->u.path.fields[0].s, "content-type");
	assert_string_equal(p->u.path.fields[1].s, "list");
	assert_string_equal(text(r, p->u.path.span), "args[\"content-type\"].list");
	const tg_expr *l = e->u.cmp.rhs;
	assert_int_equal(l->kind, TG_E_LIST);
	assert_int_equal(l->u.list.n, 5);
	assert_int_equal(l->u.list.items[0]->kind, TG_E_STRING);
	assert_int_equal(l->u.list.items[1]->kind, TG_E_INT);
	assert_int_equal(l->u.list.items[1]->u.i, -3);
	assert_int_equal(l->u.list.items[2]->kind, TG_E_BOOL);
	assert_false(l->u.list.items[3]->u.b);
	assert_int_equal(l->u.list.items[4]->kind, TG_E_LIST);
	assert_int_equal(l->u.list.items[4]->u.list.n, 0);
	done(r);

	static const struct {
		const char *src;
		tg_root root;
	} roots[] = {
		{"principal.x", TG_ROOT_PRINCIPAL}, {"token.x", TG_ROOT_TOKEN},
		{"context.x", TG_ROOT_CONTEXT}, {"args.x", TG_ROOT_ARGS}, {"tool.x", TG_ROOT_TOOL},
		{"resource.x", TG_ROOT_RESOURCE}, {"prompt.x", TG_ROOT_PROMPT},
		{"request.x", TG_ROOT_REQUEST},
	};
	for (size_t k = 0; k < sizeof roots / sizeof roots[0]; k++) {
		r = parse_cond(roots[k].src);
		assert_int_equal(cond(r)->kind, TG_E_PATH);
		assert_int_equal(cond(r)->u.path.root, roots[k].root);
		done(r);
	}

	r = parse_cond("(args.a == 1)");
	assert_int_equal(cond(r)->kind, TG_E_PAREN);
	assert_string_equal(text(r, cond(r)->span), "(args.a == 1)");
	assert_int_equal(cond(r)->u.operand->kind, TG_E_CMP);
	done(r);

	r = parse_cond("args.x-1 == -9223372036854775808");
	assert_int_equal(cond(r)->u.cmp.lhs->kind, TG_E_SUB);
	assert_true(cond(r)->u.cmp.rhs->u.i == INT64_MIN);
	done(r);
}

static void test_has_is_quant(void **state)
{
	(void)state;
	parsed *r = parse_cond("token has exp and args.o has \"k-1\" and args.o has list");
	const tg_expr *e = cond(r);
	const tg_expr *h1 = e->u.bin.lhs->u.bin.lhs;
	assert_int_equal(h1->kind, TG_E_HAS);
	assert_int_equal(h1->u.has.base.root, TG_ROOT_TOKEN);
	assert_int_equal(h1->u.has.base.nfields, 0);
	assert_string_equal(h1->u.has.field.s, "exp");
	assert_string_equal(text(r, h1->span), "token has exp");
	const tg_expr *h2 = e->u.bin.lhs->u.bin.rhs;
	assert_int_equal(h2->u.has.base.nfields, 1);
	assert_string_equal(h2->u.has.base.fields[0].s, "o");
	assert_string_equal(text(r, h2->u.has.base.span), "args.o");
	assert_string_equal(h2->u.has.field.s, "k-1");
	assert_string_equal(e->u.bin.rhs->u.has.field.s, "list");
	done(r);

	r = parse_cond("principal is admin or principal is \"mcp:ops\"");
	e = cond(r);
	assert_int_equal(e->u.bin.lhs->kind, TG_E_IS);
	assert_string_equal(e->u.bin.lhs->u.is.role.s, "admin");
	assert_string_equal(text(r, e->u.bin.lhs->u.is.principal_span), "principal");
	assert_string_equal(e->u.bin.rhs->u.is.role.s, "mcp:ops");
	done(r);

	r = parse_cond("all args.paths under \"/srv\"");
	e = cond(r);
	assert_int_equal(e->kind, TG_E_QUANT);
	assert_true(e->u.quant.all);
	assert_int_equal(e->u.quant.list->kind, TG_E_PATH);
	assert_int_equal(e->u.quant.op, TG_CMP_UNDER);
	assert_string_equal(text(r, e->u.quant.op_span), "under");
	assert_int_equal(e->u.quant.value->kind, TG_E_STRING);
	assert_string_equal(text(r, e->span), "all args.paths under \"/srv\"");
	done(r);
}

static void test_comments_kept(void **state)
{
	(void)state;
	parsed *r = parse_ok("# head\nrole a; // tail\nrule \"x\": # inside\n allow anyone to list tools;\n");
	assert_int_equal(r->ast->ncomments, 3);
	assert_string_equal(text(r, r->ast->comments[0].span), "# head");
	assert_string_equal(text(r, r->ast->comments[1].span), "// tail");
	assert_string_equal(text(r, r->ast->comments[2].span), "# inside");
	done(r);
}

static void test_declaration_order_free(void **state)
{
	(void)state;
	parsed *r = parse_ok("allow role b to call tool s;\nset s = [\"x\"];\nrole b;\ndefault deny;\n"
			     "policy \"late\";\n");
	assert_int_equal(r->ast->nstmts, 5);
	assert_int_equal(r->ast->stmts[4].kind, TG_STMT_POLICY);
	assert_ptr_equal(r->ast->policy_stmt, &r->ast->stmts[4]);
	done(r);
}

static void test_recovery_reports_every_error(void **state)
{
	(void)state;
	parsed *r = parse("allow anyone call tool \"a\";\n"
			  "role ok;\n"
			  "allow anyone to call tool \"a\" when args.a == args.b == 1;\n"
			  "set s = [\"a\"];\n"
			  "deny anyone to list tools when;\n"
			  "allow anyone to list tools\n");
	assert_int_equal(r->diags.nerrors, 4);
	assert_string_equal(r->diags.items[0].message, "expected 'to' after the subject, found 'call'");
	assert_string_equal(r->diags.items[1].message, "comparisons cannot be chained, found '=='");
	assert_string_equal(r->diags.items[2].message, "expected an expression, found ';'");
	assert_string_equal(r->diags.items[3].message,
			    "expected ';' after the rule, found end of file");
	/* The good statements survive. */
	assert_int_equal(r->ast->nroles, 1);
	assert_int_equal(r->ast->nsets, 1);
	assert_int_equal(r->ast->nrules, 0);
	done(r);
}

/* Whether no diagnostic names the lexer's resynchronisation token. */
static void assert_no_resync_in_messages(const parsed *r)
{
	for (size_t k = 0; k < r->diags.n; k++) {
		assert_null(strstr(r->diags.items[k].message, "resynchron"));
		assert_null(strstr(r->diags.items[k].message, "RESYNC"));
	}
}

static void test_recovery_at_next_statement(void **state)
{
	(void)state;
	/* An unterminated string and a missing `;` no longer swallow the
	 * statement that follows: its own error is reported. */
	parsed *r = parse("policy \"p\";\n"
			  "rule \"a\": allow anyone to call tool \"abc;\n"
			  "rule \"b\": allow anyone to call tool \"x\" when nosuch.attr == 1;\n"
			  "rule \"c\": allow anyone to call tool \"y\" when undefinedthing\n"
			  "rule \"d\": deny anyone to list tools\n"
			  "rule \"e\": deny anyone to list prompts;\n");
	assert_int_equal(r->diags.nerrors, 4);
	assert_string_equal(r->diags.items[0].message, "unterminated string");
	/* A bare name is a set used as a value: `nosuch.attr` is reported
	 * as a bad root, and `when undefinedthing` parses (check reports the
	 * unknown set), so its missing `;` is the error. */
	assert_string_equal(r->diags.items[1].message, "'nosuch' is not a path root");
	assert_string_equal(r->diags.items[2].message,
			    "expected ';' after the rule, found 'rule'");
	assert_string_equal(r->diags.items[3].message,
			    "expected ';' after the rule, found 'rule'");
	tg_linecol lc = tg_source_linecol(r->src, strlen(r->src), r->diags.items[3].span.start);
	assert_int_equal(lc.line, 6);
	assert_int_equal(lc.col, 1);
	/* The statement after the broken ones is whole, span included. */
	assert_int_equal(r->ast->nrules, 1);
	assert_string_equal(r->ast->rules[0]->id.s, "e");
	assert_string_equal(text(r, r->ast->stmts[1].span), "rule \"e\": deny anyone to list prompts;");
	assert_no_resync_in_messages(r);
	done(r);

	/* Brackets open in a broken statement end with it. */
	r = parse("allow anyone to list tools when (args.a\n"
		  "allow anyone to list tools when args.b );\n");
	assert_int_equal(r->diags.nerrors, 2);
	assert_string_equal(r->diags.items[0].message,
			    "expected ')' to close '(' at 1:33, found 'allow'");
	assert_string_equal(r->diags.items[1].message, "expected ';' after the rule, found ')'");
	done(r);

	/* The next statement's kind names it in messages. */
	r = parse("role r: a\nallow anyone to list tools x;\n");
	assert_int_equal(r->diags.nerrors, 2);
	assert_string_equal(r->diags.items[1].message, "expected ';' after the rule, found 'x'");
	done(r);

	/* An error found at a `;` ends there: a keyword starting the next
	 * line is an ordinary token again. */
	r = parse("deny anyone to list tools when;\nallow anyone to list tools;\n");
	assert_int_equal(r->diags.nerrors, 1);
	assert_int_equal(r->ast->nrules, 1);
	done(r);
}

static void test_recovery_keeps_indented_continuations(void **state)
{
	(void)state;
	/* After an error, an indented `allow`, `deny` or `role` continues the
	 * broken statement; the statement ends at its `;`. */
	parsed *r = parse("rule x:\n"
			  "  allow\n"
			  "    role r to list tools when nosuch;\n"
			  "role r;\n");
	assert_int_equal(r->diags.nerrors, 1);
	assert_string_equal(r->diags.items[0].message, "expected a string, found 'x'");
	assert_int_equal(r->ast->nrules, 0);
	assert_int_equal(r->ast->nroles, 1);
	done(r);

	/* At column 1 they begin the next statement; keywords that only begin
	 * statements do so indented too. */
	r = parse("rule x:\nallow anyone to list tools;\n"
		  "role a\n  set s = [];\n"
		  "deny anyone to do anything\n\t policy \"p\";\n");
	assert_int_equal(r->diags.nerrors, 3);
	assert_int_equal(r->ast->nrules, 1);
	assert_int_equal(r->ast->nsets, 1);
	assert_non_null(r->ast->policy_stmt);
	assert_no_resync_in_messages(r);
	done(r);

	/* A keyword after `.` is a field name, never a statement. */
	r = parse("allow anyone to list tools when args.\nrule == 1 x;\nrole r;\n");
	assert_int_equal(r->diags.nerrors, 1);
	assert_int_equal(r->ast->nroles, 1);
	done(r);

	/* A valid file has no statement boundary but `;`, whatever its
	 * layout. */
	r = parse_ok("rule \"a\":\nallow\nrole r to list tools;\nrole r;\n");
	assert_int_equal(r->ast->nrules, 1);
	done(r);
}

static void test_specific_messages(void **state)
{
	(void)state;
	static const struct {
		const char *src, *msg;
	} cases[] = {
		{"allow anyone to call tool \"a\"\nrule \"b\": deny anyone to list tools;",
		 "expected ';' after the rule, found 'rule'"},
		{"allow anyone to list tools unless args.a when args.b;", "'when' after 'unless'"},
		{"allow anyone to list tools when principal == \"x\";",
		 "expected a field after 'principal'"},
		{"attribute token: int;", "expected a field after 'token', found ':'"},
		{"allow anyone to list tools when (args.a or (args.b);",
		 "expected ')' to close '(' at 1:33, found ';'"},
		{"allow anyone to list tools when args.a in [1, 2;",
		 "expected ']' to close '[' at 1:43, found ';'"},
		{"allow anyone to list tools when all args.a has b;",
		 "'has' cannot be used inside 'all' or 'any'"},
		{"alow anyone to list tools;", "expected a statement, found 'alow'"},
		{"role list;", "expected a name or a string, found 'list'"},
		{"default maybe;", "expected 'allow' or 'deny', found 'maybe'"},
		{"allow anyone to list tools when args.a == ;", "expected an expression, found ';'"},
		{"allow nobody to list tools;",
		 "expected 'role', 'anyone', 'scope', 'principal' or 'client', found 'nobody'"},
		{"allow anyone to list tools because reasons;", "expected a string, found 'reasons'"},
		{"policy \"p\" \"v\";", "expected 'version' or ';', found a string \"v\""},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		parsed *r = parse(cases[k].src);
		if (r->diags.n < 1 || strcmp(r->diags.items[0].message, cases[k].msg) != 0)
			print_error("case %zu: got '%s'\n", k,
				    r->diags.n ? r->diags.items[0].message : "(nothing)");
		assert_int_equal(r->diags.nerrors, 1);
		assert_string_equal(r->diags.items[0].message, cases[k].msg);
		done(r);
	}
	parsed *r = parse("alow anyone to list tools;");
	assert_string_equal(r->diags.items[0].hint, "did you mean 'allow'?");
	done(r);
	r = parse("role list;");
	assert_non_null(strstr(r->diags.items[0].hint, "reserved word"));
	done(r);
}

static char *nested(const char *open, const char *close, int depth)
{
	size_t lo = strlen(open), lc = strlen(close);
	char *s = malloc(128 + (size_t)depth * (lo + lc));
	assert_non_null(s);
	char *o = s + sprintf(s, "allow anyone to list tools when ");
	for (int k = 0; k < depth; k++)
		o += sprintf(o, "%s", open);
	o += sprintf(o, "args.a");
	for (int k = 0; k < depth; k++)
		o += sprintf(o, "%s", close);
	sprintf(o, ";\ndeny anyone to list prompts;\n");
	return s;
}

static void test_depth_limit(void **state)
{
	(void)state;
	static const struct {
		const char *open, *close;
	} kinds[] = {{"(", ")"}, {"not ", ""}, {"[", "]"}, {"(not ", ")"}};
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		int at = TG_MAX_EXPR_DEPTH / (k == 3 ? 2 : 1);
		char *s = nested(kinds[k].open, kinds[k].close, at);
		parsed *r = parse(s);
		assert_int_equal(r->diags.n, 0);
		assert_int_equal(r->ast->nrules, 2);
		done(r);
		free(s);
		int depths[] = {at + 1, 10000};
		for (int d = 0; d < 2; d++) {
			s = nested(kinds[k].open, kinds[k].close, depths[d]);
			r = parse(s);
			assert_int_equal(r->diags.n, 1);
			assert_non_null(strstr(r->diags.items[0].message, "nested too deeply"));
			/* Recovery: the next statement is still parsed. */
			assert_int_equal(r->ast->nrules, 1);
			done(r);
			free(s);
		}
	}
}

static void test_source_limit(void **state)
{
	(void)state;
	size_t n = TG_MAX_SOURCE_BYTES + 1;
	char *s = malloc(n);
	assert_non_null(s);
	memset(s, ' ', n);
	parsed *r = parse_n(s, n);
	assert_int_equal(r->diags.nerrors, 1);
	assert_non_null(strstr(r->diags.items[0].message, "limit"));
	assert_int_equal(r->ast->nstmts, 0);
	done(r);
	/* At the limit: fine. */
	r = parse_n(s, n - 1);
	assert_int_equal(r->diags.n, 0);
	done(r);
	free(s);
}

static void test_source_not_nul_terminated(void **state)
{
	(void)state;
	char buf[] = {'r', 'o', 'l', 'e', ' ', 'a', ';', 'x'};
	parsed *r = parse_n(buf, 7);
	assert_int_equal(r->diags.n, 0);
	assert_int_equal(r->ast->nroles, 1);
	done(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_declarations),
		cmocka_unit_test(test_rule_parts),
		cmocka_unit_test(test_subjects_and_actions),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_comparison_operators),
		cmocka_unit_test(test_operands),
		cmocka_unit_test(test_has_is_quant),
		cmocka_unit_test(test_comments_kept),
		cmocka_unit_test(test_declaration_order_free),
		cmocka_unit_test(test_recovery_reports_every_error),
		cmocka_unit_test(test_recovery_at_next_statement),
		cmocka_unit_test(test_recovery_keeps_indented_continuations),
		cmocka_unit_test(test_specific_messages),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_source_limit),
		cmocka_unit_test(test_source_not_nul_terminated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
