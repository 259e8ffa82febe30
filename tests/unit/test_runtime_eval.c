/*
 * test_runtime_eval.c - the interpreter and DESIGN's decision rules on
 * hand-assembled policies: deny-overrides, first rule wins, fail closed on
 * every error path, the error list of rule 4, client subjects, the index,
 * request validation, explain traces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "decision.h"
#include "rt_asm.h"

#define S(x) ((tg_str){ x, sizeof(x) - 1 })

enum {
	SL_ENV, SL_LIMIT, SL_SQL, SL_PTENANT, SL_CTENANT, SL_PATHS, SL_EXP, SL_TIME, SL_MFA,
	SL_PATH, SL_ANY, SL_TAGS, NSLOTS
};

static void setup_platform(tg_emit *e)
{
	static const uint8_t closure[9] = {
		1, 0, 0,	/* reader */
		1, 1, 0,	/* engineer: reader */
		1, 1, 1,	/* admin: engineer, reader */
	};
	tg_emit_role(e, "reader", 6);
	tg_emit_role(e, "engineer", 8);
	tg_emit_role(e, "admin", 5);
	tg_emit_role_closure(e, closure, 3);
	tg_str c;
#define SLOT(root, comp, disp, type) \
	(c = S(comp), tg_emit_slot(e, root, &c, 1, disp, strlen(disp), type))
	int32_t env = SLOT(TG_SLOT_CONTEXT, "environment", "context.environment", TG_ATTR_STRING);
	tg_emit_slot_domain_string(e, env, "dev", 3);
	tg_emit_slot_domain_string(e, env, "staging", 7);
	tg_emit_slot_domain_string(e, env, "prod", 4);
	SLOT(TG_SLOT_ARGS, "limit", "args.limit", TG_ATTR_INT);
	SLOT(TG_SLOT_ARGS, "sql", "args.sql", TG_ATTR_STRING);
	SLOT(TG_SLOT_PRINCIPAL, "tenant", "principal.tenant", TG_ATTR_STRING);
	SLOT(TG_SLOT_CONTEXT, "tenant", "context.tenant", TG_ATTR_STRING);
	SLOT(TG_SLOT_ARGS, "paths", "args.paths", TG_ATTR_STRING_LIST);
	SLOT(TG_SLOT_TOKEN, "exp", "token.exp", TG_ATTR_INT);
	SLOT(TG_SLOT_CONTEXT, "time", "context.time", TG_ATTR_INT);
	SLOT(TG_SLOT_CONTEXT, "mfa", "context.mfa", TG_ATTR_BOOL);
	SLOT(TG_SLOT_ARGS, "path", "args.path", TG_ATTR_STRING);
	SLOT(TG_SLOT_CONTEXT, "anything", "context.anything", TG_ATTR_ANY);
	int32_t tags = SLOT(TG_SLOT_ARGS, "tags", "args.tags", TG_ATTR_INT_LIST);
	tg_emit_slot_domain_int(e, tags, 1);
	tg_emit_slot_domain_int(e, tags, 2);
#undef SLOT
}

static const rt_rule platform[] = {
	{ "readers-read", TG_BC_ALLOW, TG_BC_SUBJ_ROLE, { "#0" }, TG_BC_ACT_CALL_TOOL, false,
	  { "search_*", "*.get_*" }, NULL, NULL },
	{ "eng-github", TG_BC_ALLOW, TG_BC_SUBJ_ROLE, { "#1" }, TG_BC_ACT_CALL_TOOL, false,
	  { "github.*" }, "LOAD 0; STR \"prod\"; CMP NE; RET", NULL },
	{ "eng-sql", TG_BC_ALLOW, TG_BC_SUBJ_ROLE, { "#1" }, TG_BC_ACT_CALL_TOOL, false,
	  { "postgres.query" },
	  "LOAD 2; STR \"SELECT \"; CMP STARTS_WITH; JFALSE L1; LOAD 1; INT 1000; CMP LE; AND; L1: RET",
	  NULL },
	{ "no-destructive-in-prod", TG_BC_DENY, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, true,
	  { NULL },
	  "LOAD 0; STR \"prod\"; CMP EQ; JFALSE L1; LOADB TOOL_DESTRUCTIVE; AND; L1: JFALSE L2; "
	  "IS 2; JFALSE L3; LOAD 8; AND; L3: NOT; AND; L2: RET",
	  "destructive tools in prod need an admin with MFA" },
	{ "list", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_LIST_TOOLS, false, { NULL },
	  NULL, NULL },
	{ "blocked", TG_BC_DENY, TG_BC_SUBJ_PRINCIPAL, { "mallory" }, TG_BC_ACT_ANYTHING, false,
	  { NULL }, NULL, "blocked" },
	{ "desktop-logging", TG_BC_ALLOW, TG_BC_SUBJ_CLIENT, { "desktop" }, TG_BC_ACT_INVOKE, false,
	  { "logging/*" }, NULL, NULL },
	{ "no-evil-completion", TG_BC_DENY, TG_BC_SUBJ_CLIENT, { "evil" }, TG_BC_ACT_INVOKE, false,
	  { "completion/*" }, NULL, "no" },
	{ "repo-files", TG_BC_ALLOW, TG_BC_SUBJ_ROLE, { "#1" }, TG_BC_ACT_CALL_TOOL, false,
	  { "fs.read_file", "fs.read_multiple_files" },
	  "HAS 9; JFALSE L1; LOAD 9; UNDER \"/srv/repos\"; AND; L1: JTRUE L2; HAS 5; JFALSE L3; "
	  "LOAD 5; ALL_UNDER \"/srv/repos\"; AND; L3: OR; L2: RET",
	  NULL },
	{ "fresh-tokens", TG_BC_DENY, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_GET_PROMPT, true, { NULL },
	  "HAS 6; JFALSE L1; LOAD 6; LOAD 7; SUB; INT 900; CMP GT; AND; L1: RET",
	  "tokens must be short-lived" },
	{ "prompts", TG_BC_ALLOW, TG_BC_SUBJ_SCOPE, { "prompts:read" }, TG_BC_ACT_GET_PROMPT, true,
	  { NULL }, NULL, NULL },
	{ "files", TG_BC_ALLOW, TG_BC_SUBJ_SCOPE, { "files:read" }, TG_BC_ACT_READ_RESOURCE, false,
	  { "file:///workspace/**" }, "LOAD 3; LOAD 4; CMP EQ; RET", NULL },
};

static tg_policy *P;
static tg_value slots[NSLOTS];
static tg_str roles[4];
static tg_request req;

static int setup(void **state)
{
	(void)state;
	P = rt_policy(setup_platform, platform, sizeof platform / sizeof platform[0], false, NULL, NULL);
	return P ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tg_policy_free(P);
	return 0;
}

/* A fresh engineer calling a tool in staging. */
static void base(const char *role, const char *method, const char *target)
{
	memset(slots, 0, sizeof slots);
	tg_request_init(&req);
	req.principal_id = S("alice");
	roles[0].ptr = role;
	roles[0].len = role ? strlen(role) : 0;
	req.roles = roles;
	req.nroles = role ? 1 : 0;
	req.method.ptr = method;
	req.method.len = strlen(method);
	if (target) {
		req.target.ptr = target;
		req.target.len = strlen(target);
	}
	req.slots = slots;
	req.nslots = NSLOTS;
	slots[SL_ENV].type = TG_VALUE_STRING;
	slots[SL_ENV].u.s = S("staging");
}

static void set_str(int slot, const char *s)
{
	slots[slot].type = TG_VALUE_STRING;
	slots[slot].u.s.ptr = s;
	slots[slot].u.s.len = strlen(s);
}

static void set_int(int slot, int64_t v)
{
	slots[slot].type = TG_VALUE_INT;
	slots[slot].u.i = v;
}

static tg_decision D;

static tg_status run(void)
{
	return tg_eval(P, &req, &D);
}

static void expect(tg_access eff, const char *rule, size_t nerrors)
{
	assert_int_equal(run(), TG_OK);
	assert_int_equal(D.effect, eff);
	if (rule)
		assert_string_equal(D.rule_id, rule);
	else
		assert_null(D.rule_id);
	assert_int_equal(D.nerrors, nerrors);
	assert_false(D.invalid);
}

static void test_metadata(void **state)
{
	(void)state;
	const tg_slot_info *info;
	assert_string_equal(tg_policy_name(P), "test");
	assert_string_equal(tg_policy_version(P), "1.0");
	assert_int_equal(strlen(tg_policy_hash(P)), 64);
	assert_int_equal(tg_policy_rule_count(P), sizeof platform / sizeof platform[0]);
	assert_string_equal(tg_policy_rule_id(P, 1), "eng-github");
	assert_null(tg_policy_rule_id(P, 999));
	assert_int_equal(tg_policy_slot_count(P), NSLOTS);
	uint32_t slot = 99;
	assert_int_equal(tg_policy_slot_find(P, "context.time", &slot), TG_OK);
	assert_int_equal(slot, SL_TIME);
	assert_int_equal(tg_policy_slot_find(P, "context.nope", &slot), TG_ENOENT);
	assert_int_equal(slot, SL_TIME);
	info = tg_policy_slot(P, SL_PATHS);
	assert_non_null(info);
	assert_int_equal(info->root, TG_SLOT_ARGS);
	assert_int_equal(info->type, TG_ATTR_STRING_LIST);
	assert_int_equal(info->ncomponents, 1);
	assert_memory_equal(info->components[0].ptr, "paths", 5);
	assert_string_equal(info->name, "args.paths");
	assert_null(tg_policy_slot(P, NSLOTS));
	assert_true(tg_policy_max_stack(P) >= 2);
	assert_true(tg_policy_max_instructions(P) > 20);
	assert_string_equal(tg_strerror(TG_ECHECKSUM), "bytecode checksum mismatch");
	assert_string_equal(tg_strerror((tg_status)999), "unknown status");
}

static void test_allow_and_default(void **state)
{
	(void)state;
	base("engineer", "tools/call", "github.create_issue");
	expect(TG_ALLOW, "eng-github", 0);
	assert_int_equal(D.rule_index, 1);
	base("reader", "tools/call", "search_docs");
	expect(TG_ALLOW, "readers-read", 0);
	base("admin", "tools/call", "jira.get_issue");	/* inheritance: admin holds reader */
	expect(TG_ALLOW, "readers-read", 0);
	base("reader", "tools/call", "github.create_issue");
	expect(TG_DENY, NULL, 0);
	assert_int_equal(D.rule_index, TG_NO_RULE);
	base("intern", "tools/call", "search_docs");	/* undeclared role: ignored */
	expect(TG_DENY, NULL, 0);
	base(NULL, "tools/list", NULL);
	expect(TG_ALLOW, "list", 0);
	base(NULL, "tools/list", "ignored");
	expect(TG_ALLOW, "list", 0);
}

static void test_deny_overrides(void **state)
{
	(void)state;
	base("engineer", "tools/call", "github.delete_repo");
	set_str(SL_ENV, "prod");
	req.destructive = TG_HINT_TRUE;
	expect(TG_DENY, "no-destructive-in-prod", 0);
	assert_string_equal(D.reason, "destructive tools in prod need an admin with MFA");
	assert_false(D.by_error);	/* the condition was true */
	/* admin with MFA passes the deny; eng-github still refuses prod */
	base("admin", "tools/call", "github.delete_repo");
	set_str(SL_ENV, "prod");
	req.destructive = TG_HINT_TRUE;
	slots[SL_MFA].type = TG_VALUE_BOOL;
	slots[SL_MFA].u.b = true;
	expect(TG_DENY, NULL, 0);
	/* admin without the mfa attribute: `is admin and mfa` errors, so the
	 * deny applies with that error */
	slots[SL_MFA].type = TG_VALUE_ABSENT;
	expect(TG_DENY, "no-destructive-in-prod", 1);
	assert_string_equal(D.errors[0].rule_id, "no-destructive-in-prod");
	assert_string_equal(D.errors[0].message, "'context.mfa' is absent");
	assert_true(D.by_error);
	/* blocked principal: deny whatever allows */
	base("engineer", "tools/call", "github.x");
	req.principal_id = S("mallory");
	expect(TG_DENY, "blocked", 0);
	assert_string_equal(D.reason, "blocked");
}

static void test_fail_closed_errors(void **state)
{
	(void)state;
	/* environment absent: eng-github errs (not applied); the deny errs and
	 * so applies; errors list both in source order (rule 4) */
	base("engineer", "tools/call", "github.create_issue");
	slots[SL_ENV].type = TG_VALUE_ABSENT;
	expect(TG_DENY, "no-destructive-in-prod", 2);
	assert_string_equal(D.errors[0].rule_id, "eng-github");
	assert_string_equal(D.errors[0].message, "'context.environment' is absent");
	assert_string_equal(D.errors[1].rule_id, "no-destructive-in-prod");
	/* out of the declared domain */
	base("engineer", "tools/call", "github.create_issue");
	set_str(SL_ENV, "qa");
	expect(TG_DENY, "no-destructive-in-prod", 2);
	assert_string_equal(D.errors[0].message, "'context.environment' is outside its declared domain");
	/* ill-typed against the declaration */
	base("engineer", "tools/call", "github.create_issue");
	set_int(SL_ENV, 3);
	expect(TG_DENY, "no-destructive-in-prod", 2);
	assert_string_equal(D.errors[0].message, "'context.environment' is not a string");
	/* a value of type other */
	slots[SL_ENV].type = TG_VALUE_OTHER;
	expect(TG_DENY, "no-destructive-in-prod", 2);
	/* absent annotation in prod: reading tool.destructive is an error */
	base("engineer", "tools/call", "github.create_issue");
	set_str(SL_ENV, "prod");
	expect(TG_DENY, "no-destructive-in-prod", 1);
	assert_string_equal(D.errors[0].message, "'tool.destructive' is absent");
}

static void test_allow_errors_before_allow(void **state)
{
	(void)state;
	/* eng-sql errs on a missing limit; no deny; default deny lists the error */
	base("engineer", "tools/call", "postgres.query");
	set_str(SL_SQL, "SELECT 1");
	expect(TG_DENY, NULL, 1);
	assert_string_equal(D.errors[0].rule_id, "eng-sql");
	assert_string_equal(D.errors[0].message, "'args.limit' is absent");
	set_int(SL_LIMIT, 10);
	expect(TG_ALLOW, "eng-sql", 0);
	set_int(SL_LIMIT, 5000);
	expect(TG_DENY, NULL, 0);
	/* short-circuit: false and ERR is false, no error */
	slots[SL_LIMIT].type = TG_VALUE_ABSENT;
	set_str(SL_SQL, "DROP TABLE x");
	expect(TG_DENY, NULL, 0);
	/* ill-typed limit */
	set_str(SL_SQL, "SELECT 1");
	set_str(SL_LIMIT, "10");
	expect(TG_DENY, NULL, 1);
	assert_string_equal(D.errors[0].message, "'args.limit' is not an int");
}

static void test_overflow_and_arith(void **state)
{
	(void)state;
	base(NULL, "prompts/get", "summary");
	req.scopes = (tg_str[]){ S("prompts:read") };
	req.nscopes = 1;
	expect(TG_ALLOW, "prompts", 0);
	set_int(SL_EXP, 1900);
	set_int(SL_TIME, 1000);
	expect(TG_ALLOW, "prompts", 0);
	set_int(SL_EXP, 5000);
	expect(TG_DENY, "fresh-tokens", 0);
	assert_string_equal(D.reason, "tokens must be short-lived");
	set_int(SL_EXP, INT64_MAX);
	set_int(SL_TIME, -1);
	expect(TG_DENY, "fresh-tokens", 1);
	assert_string_equal(D.errors[0].message, "integer overflow in '-'");
	set_int(SL_EXP, INT64_MIN);
	set_int(SL_TIME, 1);
	expect(TG_DENY, "fresh-tokens", 1);
	set_int(SL_EXP, 0);
	slots[SL_TIME].type = TG_VALUE_ABSENT;
	expect(TG_DENY, "fresh-tokens", 1);
	assert_string_equal(D.errors[0].message, "'context.time' is absent");
}

static void test_under_and_quantifier(void **state)
{
	(void)state;
	tg_str ok[2] = { S("/srv/repos/a"), S("/srv/repos/b/c") };
	tg_str bad[2] = { S("/srv/repos/a"), S("/srv/repos/../etc/passwd") };
	tg_str outside[2] = { S("/srv/other"), S("/srv/repos/../x") };
	base("engineer", "tools/call", "fs.read_file");
	set_str(SL_PATH, "/srv/repos/x/y");
	expect(TG_ALLOW, "repo-files", 0);
	set_str(SL_PATH, "/srv/repos");
	expect(TG_ALLOW, "repo-files", 0);
	set_str(SL_PATH, "/srv/repository");
	expect(TG_DENY, NULL, 0);
	set_str(SL_PATH, "/srv/repos/../../etc");
	expect(TG_DENY, NULL, 1);
	assert_string_equal(D.errors[0].message, "'args.path' is not a clean absolute path");
	slots[SL_PATH].type = TG_VALUE_ABSENT;
	slots[SL_PATHS].type = TG_VALUE_STRING_LIST;
	slots[SL_PATHS].u.strs.items = ok;
	slots[SL_PATHS].u.strs.n = 2;
	req.target = S("fs.read_multiple_files");
	expect(TG_ALLOW, "repo-files", 0);
	slots[SL_PATHS].u.strs.items = bad;
	expect(TG_DENY, NULL, 1);
	/* all: the first false ends it before the unclean element */
	slots[SL_PATHS].u.strs.items = outside;
	expect(TG_DENY, NULL, 0);
	slots[SL_PATHS].u.strs.n = 0;	/* all over [] is true */
	expect(TG_ALLOW, "repo-files", 0);
}

static void test_client_subjects(void **state)
{
	(void)state;
	base(NULL, "logging/setLevel", NULL);
	expect(TG_DENY, NULL, 0);	/* allow client, absent client id: no match */
	req.client_id = S("desktop");
	expect(TG_ALLOW, "desktop-logging", 0);
	base(NULL, "completion/complete", NULL);
	expect(TG_DENY, "no-evil-completion", 1);	/* deny client, absent: applies */
	assert_string_equal(D.errors[0].message, "'token.client_id' is absent");
	req.client_id = S("desktop");
	expect(TG_DENY, NULL, 0);
	req.client_id = S("evil");
	expect(TG_DENY, "no-evil-completion", 0);
	/* invoke globs: `*` does not cross `/` */
	base(NULL, "logging/set/Level", NULL);
	req.client_id = S("desktop");
	expect(TG_DENY, NULL, 0);
}

static void test_resources(void **state)
{
	(void)state;
	base(NULL, "resources/read", "file:///workspace/a/b.txt");
	req.scopes = (tg_str[]){ S("files:read") };
	req.nscopes = 1;
	set_str(SL_PTENANT, "acme");
	set_str(SL_CTENANT, "acme");
	expect(TG_ALLOW, "files", 0);
	req.method = S("resources/subscribe");
	expect(TG_ALLOW, "files", 0);
	set_str(SL_CTENANT, "other");
	expect(TG_DENY, NULL, 0);
	req.target = S("file:///etc/passwd");
	expect(TG_DENY, NULL, 0);
}

static void expect_invalid(const char *why)
{
	assert_int_equal(run(), TG_EINVALID_REQUEST);
	assert_int_equal(D.effect, TG_DENY);
	assert_true(D.invalid);
	assert_null(D.rule_id);
	assert_non_null(D.reason);
	assert_non_null(strstr(D.reason, why));
}

static void test_invalid_requests(void **state)
{
	(void)state;
	char big[TG_MAX_STRING_BYTES + 1];
	static tg_str many[TG_MAX_LIST_ITEMS + 1];
	base("engineer", "tools/call", "github.x");
	req.principal_id.ptr = NULL;
	expect_invalid("missing principal.id");
	base("engineer", "tools/call", "github.x");
	req.method.ptr = NULL;
	expect_invalid("missing method");
	base("engineer", "tools/call", NULL);
	expect_invalid("missing target");
	base("engineer", "prompts/get", NULL);
	expect_invalid("missing target");
	base(NULL, "resources/read", "file:///workspace/../etc/passwd");
	expect_invalid("'..'");
	base(NULL, "resources/read", "file:///workspace/./a");
	expect_invalid("'.'");
	base(NULL, "resources/read", "file:///workspace\\..\\x");
	expect_invalid("'..'");
	base(NULL, "resources/read", "file:///workspace/%2e%2E/x");
	expect_invalid("percent-encoded");
	base(NULL, "resources/read", "file:///workspace/a%2Fb");
	expect_invalid("percent-encoded");
	base(NULL, "resources/read", "file:///workspace/a%5cb");
	expect_invalid("percent-encoded");
	base(NULL, "resources/read", "file:///workspace/a%25");
	expect_invalid("percent-encoded");
	base(NULL, "resources/read", "file:///workspace/a%20b..c/...");
	assert_int_equal(run(), TG_OK);
	base("engineer", "tools/call", "github.x");
	req.target.len = 9;	/* includes the NUL terminator */
	expect_invalid("U+0000");
	base("engineer", "tools/call", "github.\xC3\x28");
	expect_invalid("UTF-8");
	base("engineer", "tools/call", "github.\xED\xA0\x80");	/* surrogate */
	expect_invalid("UTF-8");
	base("engineer", "tools/call", "github.\xC0\xAF");	/* overlong */
	expect_invalid("UTF-8");
	base("engineer", "tools/call", "github.x");
	set_str(SL_SQL, "\xFF");
	expect_invalid("UTF-8");
	memset(big, 'a', sizeof big);
	base("engineer", "tools/call", "github.x");
	slots[SL_SQL].type = TG_VALUE_STRING;
	slots[SL_SQL].u.s.ptr = big;
	slots[SL_SQL].u.s.len = TG_MAX_STRING_BYTES;
	assert_int_equal(run(), TG_OK);
	slots[SL_SQL].u.s.len = TG_MAX_STRING_BYTES + 1;
	expect_invalid("64 KiB");
	/* Validated requests: only lengths and NULLs are checked, lengths
	 * through the OR of all of them (request.c, quick_ok). */
	base("engineer", "tools/call", "github.x");
	req.flags = TG_REQUEST_VALIDATED;
	slots[SL_SQL].type = TG_VALUE_STRING;
	slots[SL_SQL].u.s.ptr = big;
	slots[SL_SQL].u.s.len = TG_MAX_STRING_BYTES;	/* ORed with 5, 7 ...: over */
	assert_int_equal(run(), TG_OK);
	slots[SL_SQL].u.s.len = TG_MAX_STRING_BYTES - 1;
	assert_int_equal(run(), TG_OK);
	slots[SL_SQL].u.s.len = TG_MAX_STRING_BYTES + 1;
	expect_invalid("64 KiB");
	base("engineer", "tools/call", "github.x");
	req.flags = TG_REQUEST_VALIDATED;
	roles[0].len = TG_MAX_STRING_BYTES + 1;
	expect_invalid("64 KiB");
	base("engineer", "tools/call", "github.x");
	req.flags = TG_REQUEST_VALIDATED;
	slots[SL_SQL].type = TG_VALUE_STRING;
	slots[SL_SQL].u.s.len = 3;	/* NULL with bytes */
	assert_int_equal(run(), TG_EINVALID_REQUEST);
	base("engineer", "tools/call", "github.x");
	req.flags = TG_REQUEST_VALIDATED;
	req.server.ptr = big;
	req.server.len = TG_MAX_STRING_BYTES + 1;
	expect_invalid("64 KiB");
	base("engineer", "tools/call", "github.x");
	req.flags = TG_REQUEST_VALIDATED;
	set_str(SL_SQL, "");
	slots[SL_SQL].u.s.ptr = NULL;	/* empty without bytes */
	assert_int_equal(run(), TG_OK);
	for (size_t i = 0; i < TG_MAX_LIST_ITEMS + 1; i++)
		many[i] = S("x");
	base("engineer", "tools/call", "github.x");
	req.roles = many;
	req.nroles = TG_MAX_LIST_ITEMS;
	assert_int_equal(run(), TG_OK);
	req.nroles = TG_MAX_LIST_ITEMS + 1;
	expect_invalid("4096");
	base("engineer", "tools/call", "github.x");
	req.destructive = (tg_hint)7;
	expect_invalid("annotation");
	base("engineer", "tools/call", "github.x");
	slots[0].type = (tg_value_type)42;
	expect_invalid("unknown type");
	/* NULL arguments */
	assert_int_equal(tg_eval(NULL, &req, &D), TG_EINVAL);
	assert_int_equal(D.effect, TG_DENY);
	assert_int_equal(tg_eval(P, NULL, &D), TG_EINVAL);
	assert_int_equal(tg_eval(P, &req, NULL), TG_EINVAL);
}

typedef struct trace_log {
	int n;
	tg_trace_event ev[16];
	char msg[16][TG_ERROR_MESSAGE_MAX];
} trace_log;

static void on_trace(const tg_trace_event *ev, void *ud)
{
	trace_log *t = ud;
	if (t->n < 16) {
		t->ev[t->n] = *ev;
		snprintf(t->msg[t->n], sizeof t->msg[0], "%s", ev->message ? ev->message : "");
		t->n++;
	}
}

static void test_trace(void **state)
{
	(void)state;
	trace_log t;
	memset(&t, 0, sizeof t);
	base("reader", "tools/call", "github.create_issue");
	slots[SL_ENV].type = TG_VALUE_ABSENT;
	assert_int_equal(tg_eval_trace(P, &req, &D, on_trace, &t), TG_OK);
	assert_int_equal(D.effect, TG_DENY);
	assert_string_equal(D.rule_id, "no-destructive-in-prod");
	assert_true(D.by_error);	/* its condition was an error */
	/* candidates from the index, in source order: readers-read (its
	 * "*.get_*" has an empty prefix), eng-github (the "gith" prefix), the
	 * `any tool` deny, then the every-method rules (mallory's deny and
	 * both `invoke` rules, whose method globs do not match) */
	assert_int_equal(t.n, 6);
	assert_false(t.ev[4].action_matched);
	assert_false(t.ev[5].action_matched);
	assert_string_equal(t.ev[0].rule_id, "readers-read");
	assert_true(t.ev[0].subject_matched);
	assert_false(t.ev[0].action_matched);
	assert_string_equal(t.ev[1].rule_id, "eng-github");
	assert_false(t.ev[1].subject_matched);	/* reader is not an engineer */
	assert_true(t.ev[1].action_matched);
	assert_int_equal(t.ev[1].condition, TG_COND_NOT_EVALUATED);
	assert_string_equal(t.ev[2].rule_id, "no-destructive-in-prod");
	assert_int_equal(t.ev[2].condition, TG_COND_ERROR);
	assert_string_equal(t.msg[2], "'context.environment' is absent");
	assert_true(t.ev[2].applied);
	assert_int_equal(t.ev[2].line, 4);
	assert_string_equal(t.ev[3].rule_id, "blocked");
	assert_false(t.ev[3].subject_matched);
	/* same decision as tg_eval */
	tg_decision d2;
	assert_int_equal(tg_eval(P, &req, &d2), TG_OK);
	assert_int_equal(d2.effect, D.effect);
	assert_int_equal(d2.rule_index, D.rule_index);
	assert_int_equal(d2.nerrors, D.nerrors);
	assert_true(d2.by_error);
}

/* Many failing allow rules: the error list is bounded and says so. */
static void test_error_truncation(void **state)
{
	(void)state;
	rt_rule rules[TG_DECISION_MAX_ERRORS + 4];
	char ids[TG_DECISION_MAX_ERRORS + 4][16];
	for (size_t i = 0; i < TG_DECISION_MAX_ERRORS + 4; i++) {
		snprintf(ids[i], sizeof ids[i], "r%zu", i);
		rt_rule r = { ids[i], TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL,
			      true, { NULL }, "LOAD 0; STR \"a\"; CMP EQ; RET", NULL };
		rules[i] = r;
	}
	tg_policy *p = rt_policy(setup_platform, rules, TG_DECISION_MAX_ERRORS + 4, true, NULL, NULL);
	assert_non_null(p);
	base(NULL, "tools/call", "x");
	slots[SL_ENV].type = TG_VALUE_ABSENT;
	assert_int_equal(tg_eval(p, &req, &D), TG_OK);
	assert_int_equal(D.effect, TG_ALLOW);	/* default allow */
	assert_null(D.rule_id);
	assert_int_equal(D.nerrors, TG_DECISION_MAX_ERRORS + 4);
	assert_true(D.truncated);
	assert_string_equal(D.errors[TG_DECISION_MAX_ERRORS - 1].rule_id, "r15");
	tg_policy_free(p);
}

/* Typed operators on ANY attributes and literal lists. */
static void test_operators(void **state)
{
	(void)state;
	static const struct {
		const char *code;
		int want;	/* 1 true, 0 false, -1 error */
	} cases[] = {
		{ "STR \"abc\"; STR \"b\"; CMP CONTAINS; RET", 1 },
		{ "STR \"abc\"; STR \"\"; CMP CONTAINS; RET", 1 },
		{ "STR \"abc\"; STR \"abcd\"; CMP CONTAINS; RET", 0 },
		{ "STR \"abc\"; STR \"bc\"; CMP ENDS_WITH; RET", 1 },
		{ "STR \"abc\"; STR \"ab\"; CMP ENDS_WITH; RET", 0 },
		{ "STR \"b\"; STRS \"a\" \"b\"; CMP IN; RET", 1 },
		{ "STR \"c\"; STRS \"a\" \"b\"; CMP IN; RET", 0 },
		{ "INT 2; INTS 1 2 3; CMP IN; RET", 1 },
		{ "INT 2; STRS \"a\"; CMP IN; RET", -1 },
		{ "STR \"a\"; STRS; CMP IN; RET", 0 },
		{ "INTS 1 2; INT 2; CMP CONTAINS; RET", 1 },
		{ "STRS \"a\" \"b\"; STRS \"a\" \"b\"; CMP EQ; RET", 1 },
		{ "STRS \"a\" \"b\"; STRS \"b\" \"a\"; CMP EQ; RET", 0 },
		{ "STRS \"a\"; INTS 1; CMP EQ; RET", -1 },
		{ "STRS; INTS; CMP EQ; RET", 1 },
		{ "INT 1; STR \"1\"; CMP EQ; RET", -1 },
		{ "INT 1; STR \"1\"; CMP NE; RET", -1 },
		{ "TRUE; FALSE; CMP NE; RET", 1 },
		{ "STR \"a\"; STR \"b\"; CMP LT; RET", -1 },
		{ "INT -5; INT 3; CMP LT; RET", 1 },
		{ "INT 3; INT 3; CMP GE; RET", 1 },
		{ "INTS 1 2 3; INT 0; ALL GT; RET", 1 },
		{ "INTS 1 2 3; INT 2; ALL GT; RET", 0 },
		{ "INTS 1 2 3; INT 2; ANY GT; RET", 1 },
		{ "INTS; INT 2; ANY GT; RET", 0 },
		{ "INTS; INT 2; ALL GT; RET", 1 },
		{ "STRS \"ab\" \"ac\"; ALL_LIKE \"a?\"; RET", 1 },
		{ "STRS \"ab\" \"bc\"; ANY_LIKE \"b*\"; RET", 1 },
		{ "STRS \"/a\" \"/b\"; ANY_UNDER \"/b\"; RET", 1 },
		{ "STRS \"x\"; ANY_UNDER \"/b\"; RET", -1 },
		{ "INT 1; LIKE \"*\"; RET", -1 },
		{ "STR \"x\"; RET", -1 },
		{ "INT 0; JFALSE L1; TRUE; AND; L1: RET", -1 },
		{ "STR \"x\"; NOT; RET", -1 },
		{ "LOAD 10; INT 1; ADD; INT 2; CMP EQ; RET", 1 },
		{ "LOAD 10; STR \"a\"; CMP EQ; RET", -1 },
		{ "LOADB TOOL_NAME; RET", -1 },
		{ "HASB TOOL_NAME; RET", 0 },
		{ "HASB PRINCIPAL_ROLES; RET", 1 },
		{ "LOADB REQUEST_METHOD; STR \"x/y\"; CMP EQ; RET", 1 },
		{ "LOADB PRINCIPAL_ROLES; STR \"engineer\"; CMP CONTAINS; RET", 1 },
		{ "LOADB TOKEN_SCOPES; STRS; CMP EQ; RET", 1 },
		{ "HAS 11; RET", 0 },
		{ "LOAD 11; RET", -1 },
		{ "FALSE; JTRUE L1; TRUE; OR; L1: RET", 1 },
		{ "FALSE; JFALSE L1; TRUE; AND; L1: RET", 0 },
		{ "INTS 3; ALL_LIKE \"*\"; RET", -1 },
		{ "INTS; ALL_LIKE \"*\"; RET", 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rt_rule r = { "op", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_ANYTHING, false,
			      { NULL }, cases[i].code, NULL };
		tg_policy *p = rt_policy(setup_platform, &r, 1, false, NULL, NULL);
		if (!p)
			fail_msg("case %zu did not assemble: %s", i, cases[i].code);
		base("engineer", "x/y", NULL);
		set_int(SL_ANY, 1);
		assert_int_equal(tg_eval(p, &req, &D), TG_OK);
		int got = D.effect == TG_ALLOW ? 1 : D.nerrors ? -1 : 0;
		if (got != cases[i].want)
			fail_msg("case %zu (%s): got %d, want %d (%s)", i, cases[i].code, got,
				 cases[i].want, D.nerrors ? D.errors[0].message : "");
		tg_policy_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_allow_and_default),
		cmocka_unit_test(test_deny_overrides),
		cmocka_unit_test(test_fail_closed_errors),
		cmocka_unit_test(test_allow_errors_before_allow),
		cmocka_unit_test(test_overflow_and_arith),
		cmocka_unit_test(test_under_and_quantifier),
		cmocka_unit_test(test_client_subjects),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_invalid_requests),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_error_truncation),
		cmocka_unit_test(test_operators),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
