/*
 * test_runtime_visible.c - list filtering with Kleene logic (args reads are
 * UNKNOWN), tg_visible_many against tg_visible, and the audit line (JSON validity, escaping, truncation, time,
 * digest).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "decision.h"
#include "rt_asm.h"

#define S(x) ((tg_str){ x, sizeof(x) - 1 })

static void setup_vis(tg_emit *e)
{
	tg_str c;
	tg_emit_role(e, "engineer", 8);
	tg_emit_role_closure(e, NULL, 1);
	c = S("environment");
	tg_emit_slot(e, TG_SLOT_CONTEXT, &c, 1, "context.environment", 19, TG_ATTR_STRING);
	c = S("limit");
	tg_emit_slot(e, TG_SLOT_ARGS, &c, 1, "args.limit", 10, TG_ATTR_INT);
	c = S("sql");
	tg_emit_slot(e, TG_SLOT_ARGS, &c, 1, "args.sql", 8, TG_ATTR_STRING);
	c = S("time");
	tg_emit_slot(e, TG_SLOT_CONTEXT, &c, 1, "context.time", 12, TG_ATTR_INT);
}

static const rt_rule vis_rules[] = {
	{ "eng-sql", TG_BC_ALLOW, TG_BC_SUBJ_ROLE, { "#0" }, TG_BC_ACT_CALL_TOOL, false,
	  { "postgres.*" }, "LOAD 1; INT 10; CMP LE; RET", NULL },
	{ "k-false", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, false, { "k.false" },
	  "LOAD 1; INT 10; CMP LE; JFALSE L1; FALSE; AND; L1: RET", NULL },
	{ "k-or", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, false, { "k.or" },
	  "LOAD 1; INT 1; CMP EQ; JTRUE L1; TRUE; OR; L1: RET", NULL },
	{ "k-not", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, false, { "k.not" },
	  "LOAD 1; INT 1; CMP EQ; NOT; RET", NULL },
	{ "k-has", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, false, { "k.has" },
	  "HAS 2; RET", NULL },
	{ "k-err", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, false, { "k.err" },
	  "LOAD 1; LOAD 3; ADD; INT 5; CMP GT; RET", NULL },
	{ "d-unknown", TG_BC_DENY, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, false,
	  { "d.unknown" }, "LOAD 2; STR \"x\"; CMP EQ; RET", NULL },
	{ "d-error", TG_BC_DENY, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, false,
	  { "d.error" }, "LOAD 0; STR \"prod\"; CMP EQ; RET", NULL },
	{ "d-destructive", TG_BC_DENY, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, false,
	  { "d.destructive" }, "LOADB TOOL_DESTRUCTIVE; RET", NULL },
	{ "d-all", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, false, { "d.*" },
	  NULL, NULL },
	{ "pub", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_READ_RESOURCE, false,
	  { "file:///pub/**" }, NULL, NULL },
	{ "greet", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_GET_PROMPT, false, { "greet" },
	  "LOADB PROMPT_NAME; STR \"greet\"; CMP EQ; RET", NULL },
	{ "srv", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, false, { "s.*" },
	  "LOADB TOOL_SERVER; STR \"db\"; CMP EQ; RET", NULL },
};

static tg_policy *P;
static tg_value slots[4];
static tg_request req;

static int setup(void **state)
{
	(void)state;
	P = rt_policy(setup_vis, vis_rules, sizeof vis_rules / sizeof vis_rules[0], false, NULL, NULL);
	return P ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tg_policy_free(P);
	return 0;
}

static void base(bool engineer)
{
	static tg_str roles[1] = { { "engineer", 8 } };
	memset(slots, 0, sizeof slots);
	tg_request_init(&req);
	req.principal_id = S("bob");
	req.roles = roles;
	req.nroles = engineer;
	req.method = S("tools/list");
	req.slots = slots;
	req.nslots = 4;
	slots[0].type = TG_VALUE_STRING;
	slots[0].u.s = S("staging");
}

static bool vis(tg_entry_kind kind, const char *name, tg_hint destructive)
{
	tg_entry e;
	bool v = true;
	tg_entry_init(&e);
	e.kind = kind;
	e.name.ptr = name;
	e.name.len = strlen(name);
	e.read_only = TG_HINT_FALSE;
	e.destructive = destructive;
	e.idempotent = TG_HINT_FALSE;
	e.open_world = TG_HINT_TRUE;
	tg_status st = tg_visible(P, &req, &e, &v);
	if (st != TG_OK)
		assert_false(v);
	return v;
}

static void test_kleene(void **state)
{
	(void)state;
	base(true);
	assert_true(vis(TG_ENTRY_TOOL, "postgres.query", TG_HINT_TRUE));	/* UNKNOWN allow */
	base(false);
	assert_false(vis(TG_ENTRY_TOOL, "postgres.query", TG_HINT_TRUE));	/* subject */
	assert_false(vis(TG_ENTRY_TOOL, "k.false", TG_HINT_TRUE));	/* UNKNOWN and false */
	assert_true(vis(TG_ENTRY_TOOL, "k.or", TG_HINT_TRUE));		/* UNKNOWN or true */
	assert_true(vis(TG_ENTRY_TOOL, "k.not", TG_HINT_TRUE));		/* not UNKNOWN */
	assert_true(vis(TG_ENTRY_TOOL, "k.has", TG_HINT_TRUE));		/* has on args */
	/* UNKNOWN + absent context.time: the error on the other side counts */
	assert_false(vis(TG_ENTRY_TOOL, "k.err", TG_HINT_TRUE));
	slots[3].type = TG_VALUE_INT;
	slots[3].u.i = 7;
	assert_true(vis(TG_ENTRY_TOOL, "k.err", TG_HINT_TRUE));
	assert_false(vis(TG_ENTRY_TOOL, "nothing.matches", TG_HINT_TRUE));
}

static void test_denies(void **state)
{
	(void)state;
	base(false);
	assert_true(vis(TG_ENTRY_TOOL, "d.other", TG_HINT_TRUE));
	assert_true(vis(TG_ENTRY_TOOL, "d.unknown", TG_HINT_TRUE));	/* UNKNOWN deny: shown */
	assert_true(vis(TG_ENTRY_TOOL, "d.error", TG_HINT_TRUE));	/* env staging: false */
	slots[0].type = TG_VALUE_ABSENT;
	assert_false(vis(TG_ENTRY_TOOL, "d.error", TG_HINT_TRUE));	/* deny error: hidden */
	assert_true(vis(TG_ENTRY_TOOL, "d.destructive", TG_HINT_FALSE));
	assert_false(vis(TG_ENTRY_TOOL, "d.destructive", TG_HINT_TRUE));
	assert_false(vis(TG_ENTRY_TOOL, "d.destructive", TG_HINT_ABSENT));	/* absent: error */
}

static void test_other_entries(void **state)
{
	(void)state;
	tg_entry e;
	bool v = true;
	base(false);
	assert_true(vis(TG_ENTRY_RESOURCE, "file:///pub/a.txt", TG_HINT_ABSENT));
	assert_false(vis(TG_ENTRY_RESOURCE, "file:///priv/a.txt", TG_HINT_ABSENT));
	assert_true(vis(TG_ENTRY_PROMPT, "greet", TG_HINT_ABSENT));
	assert_false(vis(TG_ENTRY_PROMPT, "other", TG_HINT_ABSENT));
	/* a URI a read would reject is hidden, with the request status */
	tg_entry_init(&e);
	e.kind = TG_ENTRY_RESOURCE;
	e.name = S("file:///pub/../etc/passwd");
	assert_int_equal(tg_visible(P, &req, &e, &v), TG_EINVALID_REQUEST);
	assert_false(v);
	/* tool server */
	e.kind = TG_ENTRY_TOOL;
	e.name = S("s.query");
	e.server = S("db");
	assert_int_equal(tg_visible(P, &req, &e, &v), TG_OK);
	assert_true(v);
	e.server = S("web");
	assert_int_equal(tg_visible(P, &req, &e, &v), TG_OK);
	assert_false(v);
	/* invalid list request: no principal */
	req.principal_id.ptr = NULL;
	v = true;
	assert_int_equal(tg_visible(P, &req, &e, &v), TG_EINVALID_REQUEST);
	assert_false(v);
	assert_int_equal(tg_visible(P, NULL, &e, &v), TG_EINVAL);
}

static void test_default_allow(void **state)
{
	(void)state;
	rt_rule r = { "no-secrets", TG_BC_DENY, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, false,
		      { "secret.*" }, "LOAD 1; INT 0; CMP GT; RET", NULL };
	tg_policy *p = rt_policy(setup_vis, &r, 1, true, NULL, NULL);
	tg_entry e;
	bool v;
	tg_entry_init(&e);
	base(false);
	e.name = S("other");
	assert_int_equal(tg_visible(p, &req, &e, &v), TG_OK);
	assert_true(v);
	e.name = S("secret.x");	/* deny UNKNOWN: still visible under default allow */
	assert_int_equal(tg_visible(p, &req, &e, &v), TG_OK);
	assert_true(v);
	tg_policy_free(p);
}

/* tg_visible_many over a whole catalogue agrees with tg_visible entry by
 * entry, for every requester state test_kleene and test_denies use: the
 * conditions the loader judged without running (args alone) and the ones
 * remembered across entries (context alone) included. */
static void test_visible_many(void **state)
{
	(void)state;
	static const char *const tools[] = {
		"postgres.query", "k.false", "k.or", "k.not", "k.has", "k.err", "nothing.matches",
		"d.other", "d.unknown", "d.error", "d.destructive", "s.query", "d.error", "k.err",
	};
	enum { NT = sizeof tools / sizeof tools[0], N = NT + 5 };
	tg_entry e[N];
	bool many[N], one;
	for (size_t i = 0; i < N; i++)
		tg_entry_init(&e[i]);
	for (size_t i = 0; i < NT; i++) {
		e[i].kind = TG_ENTRY_TOOL;
		e[i].name.ptr = tools[i];
		e[i].name.len = strlen(tools[i]);
		e[i].destructive = (tg_hint)(i % 3);
		e[i].server = i % 2 ? S("db") : S("web");
	}
	e[NT].kind = TG_ENTRY_RESOURCE;
	e[NT].name = S("file:///pub/a.txt");
	e[NT + 1].kind = TG_ENTRY_RESOURCE;
	e[NT + 1].name = S("file:///pub/../etc/passwd");	/* hidden, call goes on */
	e[NT + 2].kind = TG_ENTRY_PROMPT;
	e[NT + 2].name = S("greet");
	e[NT + 3].kind = TG_ENTRY_TOOL;
	e[NT + 3].name = S("d.\xFF");			/* not UTF-8: hidden */
	e[NT + 4].kind = TG_ENTRY_TOOL;
	e[NT + 4].name = S("d.other");
	for (int round = 0; round < 6; round++) {
		base(round % 2);
		if (round >= 2)
			slots[0].type = TG_VALUE_ABSENT;	/* context errors everywhere */
		if (round >= 4) {
			slots[3].type = TG_VALUE_INT;
			slots[3].u.i = 7;
		}
		assert_int_equal(tg_visible_many(P, &req, e, N, many), TG_OK);
		for (size_t i = 0; i < N; i++) {
			one = !many[i];
			tg_visible(P, &req, &e[i], &one);
			if (one != many[i])
				fail_msg("round %d entry %zu (%s): tg_visible %d, tg_visible_many %d", round,
					 i, e[i].name.ptr, one, many[i]);
		}
	}
	assert_true(many[NT]);
	assert_false(many[NT + 1]);
	assert_false(many[NT + 3]);
	assert_true(many[NT + 4]);

	/* Errors: everything hidden. */
	base(true);
	e[0].kind = (tg_entry_kind)7;
	memset(many, 1, sizeof many);
	assert_int_equal(tg_visible_many(P, &req, e, N, many), TG_EINVAL);
	assert_false(many[0]);
	assert_true(many[NT + 4]);	/* the other entries are still judged */
	e[0].kind = TG_ENTRY_TOOL;
	req.principal_id.ptr = NULL;
	memset(many, 1, sizeof many);
	assert_int_equal(tg_visible_many(P, &req, e, N, many), TG_EINVALID_REQUEST);
	for (size_t i = 0; i < N; i++)
		assert_false(many[i]);
	assert_int_equal(tg_visible_many(P, NULL, e, N, many), TG_EINVAL);
	assert_int_equal(tg_visible_many(NULL, &req, e, N, many), TG_EINVAL);
	assert_int_equal(tg_visible_many(P, &req, NULL, 1, many), TG_EINVAL);
	assert_int_equal(tg_visible_many(P, &req, e, N, NULL), TG_EINVAL);
	base(true);
	assert_int_equal(tg_visible_many(P, &req, NULL, 0, many), TG_OK);
}

static void test_audit(void **state)
{
	(void)state;
	tg_decision d;
	char line[2048], small[16];
	json_error_t jerr;
	base(false);
	req.method = S("tools/call");
	req.target = S("d.error");
	req.principal_id = S("q\"uote\\back\nnl\x01\xC3\xA9");
	slots[0].type = TG_VALUE_ABSENT;
	assert_int_equal(tg_eval(P, &req, &d), TG_OK);
	size_t n = tg_audit_format(P, &req, &d, 1764140000, line, sizeof line);
	assert_true(n < sizeof line);
	assert_int_equal(strlen(line), n);
	json_t *j = json_loads(line, 0, &jerr);
	if (!j)
		fail_msg("audit line is not JSON: %s: %s", jerr.text, line);
	assert_string_equal(json_string_value(json_object_get(j, "time")), "2025-11-26T06:53:20Z");
	assert_string_equal(json_string_value(json_object_get(j, "principal")),
			    "q\"uote\\back\nnl\x01\xC3\xA9");
	assert_string_equal(json_string_value(json_object_get(j, "method")), "tools/call");
	assert_string_equal(json_string_value(json_object_get(j, "target")), "d.error");
	assert_string_equal(json_string_value(json_object_get(j, "decision")), "deny");
	assert_string_equal(json_string_value(json_object_get(j, "rule")), "d-error");
	assert_true(json_is_null(json_object_get(j, "reason")));
	json_t *errs = json_object_get(j, "errors");
	assert_int_equal(json_array_size(errs), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 0), "message")),
			    "'context.environment' is absent");
	json_t *pol = json_object_get(j, "policy");
	assert_string_equal(json_string_value(json_object_get(pol, "name")), "test");
	assert_string_equal(json_string_value(json_object_get(pol, "version")), "1.0");
	assert_string_equal(json_string_value(json_object_get(pol, "hash")), tg_policy_hash(P));
	char digest[65];
	tg_request_digest(&req, digest);
	assert_string_equal(json_string_value(json_object_get(j, "request_digest")), digest);
	json_decref(j);

	/* the digest changes with any field */
	char d2[65];
	req.target = S("d.errors");
	tg_request_digest(&req, d2);
	assert_string_not_equal(digest, d2);

	/* snprintf semantics */
	size_t need = tg_audit_format(P, &req, &d, 0, small, sizeof small);
	assert_true(need > sizeof small);
	assert_int_equal(strlen(small), sizeof small - 1);
	assert_int_equal(tg_audit_format(P, &req, &d, 0, NULL, 0), need);

	/* invalid UTF-8 in an invalid request still gives valid JSON */
	req.principal_id = S("bad\xFF");
	assert_int_equal(tg_eval(P, &req, &d), TG_EINVALID_REQUEST);
	n = tg_audit_format(P, &req, &d, -1, line, sizeof line);
	j = json_loads(line, 0, &jerr);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "principal")), "bad\xEF\xBF\xBD");
	assert_string_equal(json_string_value(json_object_get(j, "time")), "1969-12-31T23:59:59Z");
	assert_true(json_is_true(json_object_get(j, "invalid")));
	assert_non_null(strstr(json_string_value(json_object_get(j, "reason")), "invalid request"));
	json_decref(j);
	tg_audit_format(P, &req, &d, 951782400, line, sizeof line);
	assert_non_null(strstr(line, "\"2000-02-29T00:00:00Z\""));
	tg_audit_format(P, &req, &d, 4102444800, line, sizeof line);
	assert_non_null(strstr(line, "\"2100-01-01T00:00:00Z\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kleene),
		cmocka_unit_test(test_denies),
		cmocka_unit_test(test_other_entries),
		cmocka_unit_test(test_default_allow),
		cmocka_unit_test(test_visible_many),
		cmocka_unit_test(test_audit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
