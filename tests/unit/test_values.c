/*
 * test_values.c - `any value of args OP V` / `all value of args OP V` on
 * request trees built by hand, through tg_eval: which leaves count, the
 * path to the subject, absent and scalar subjects, errors inside, the
 * 65,536-value bound on both sides of it, and the cost in the header.
 *
 * The JSON path (a reader filling tg_request.args) is tested in
 * test_semantics.c; here the tree is the C API's own, so the runtime's
 * walk is pinned without any reader in between.
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
#include "toolgate/toolgate.h"
#include "policy_fixture.h"

#define K(s) {s, sizeof s - 1}
#define STR(k, v) {K(k), {.type = TG_VALUE_STRING, .u.s = K(v)}}
#define INT(k, v) {K(k), {.type = TG_VALUE_INT, .u.i = (v)}}
#define STRA(v) {{NULL, 0}, {.type = TG_VALUE_STRING, .u.s = K(v)}}
#define INTA(v) {{NULL, 0}, {.type = TG_VALUE_INT, .u.i = (v)}}

static const tg_str p_items[] = { K("/etc/passwd"), K("ok") };

/*
 * {"a": "x/../y", "n": 5, "o": {"p": ["/etc/passwd", "ok"], "b": true},
 *  "arr": [1, "s", {"q": "deep"}], "f": 1.5}
 */
static const tg_node tree[] = {
	STR("a", "x/../y"),
	INT("n", 5),
	{K("o"), {.type = TG_VALUE_OBJECT, .u.tree = {&tree[3], 2}}},
	{K("p"), {.type = TG_VALUE_STRING_LIST, .u.strs = {p_items, 2}}},
	{K("b"), {.type = TG_VALUE_BOOL, .u.b = true}},
	{K("arr"), {.type = TG_VALUE_ARRAY, .u.tree = {&tree[6], 4}}},
	INTA(1),
	STRA("s"),
	{{NULL, 0}, {.type = TG_VALUE_OBJECT, .u.tree = {&tree[9], 1}}},
	STR("q", "deep"),
	{K("f"), {.type = TG_VALUE_OTHER}},
};

struct vcase {
	const char *cond;
	int result;		/* 1 true, 0 false, -1 error */
	const char *message;	/* the error's, or NULL */
};

static const struct vcase cases[] = {
	/* strings anywhere, arrays and lists included */
	{"any value of args contains \"..\"", 1, NULL},
	{"all value of args contains \"..\"", 0, NULL},
	{"any value of args starts_with \"/etc\"", 1, NULL},
	{"any value of args == \"deep\"", 1, NULL},
	{"any value of args.o == \"ok\"", 1, NULL},
	{"any value of args.o == \"deep\"", 0, NULL},
	{"any value of args.o like \"/etc/*\"", 1, NULL},
	{"all value of args.arr matches \"[a-z]+\"", 1, NULL},
	{"any value of args.o.p ends_with \"wd\"", 1, NULL},
	{"any value of args in [\"s\", \"t\"]", 1, NULL},
	/* ints: 5 and 1 only (the bool and the float are never counted) */
	{"all value of args >= 1", 1, NULL},
	{"all value of args > 1", 0, NULL},
	{"any value of args == 5", 1, NULL},
	{"any value of args in [7, 1]", 1, NULL},
	{"all value of args != 2", 1, NULL},
	/* no leaf of the type: all is true, any is false */
	{"all value of args.o.p == 3", 1, NULL},
	{"any value of args.o.p < 3", 0, NULL},
	{"all value of args.o > 100", 1, NULL},
	/* object keys are not values */
	{"any value of args == \"arr\"", 0, NULL},
	/* errors: fail closed */
	{"any value of args.missing == \"x\"", -1, "'args.missing' is absent"},
	{"any value of args.o.b == \"x\"", -1, "'args.o.b' is a bool, expected an object or an array"},
	{"any value of args.a == \"x\"", -1, "'args.a' is a string, expected an object or an array"},
	{"any value of args.a.b == \"x\"", -1, "'args.a.b' is absent"},
	{"all value of args.o under \"/etc\"", -1, "a string in 'args.o' is not a clean absolute path"},
	{"any value of args.o under \"/etc\"", 1, NULL},	/* decided before "ok" */
	{"any value of args == context.n", -1, "'context.n' is absent"},
};

/* Evaluates `allow ... when COND` (and a deny whose condition is COND, to
 * see errors) on req; returns 1, 0 or -1 with the message in msg. */
static int eval_cond(const char *cond, const tg_request *req, char *msg, size_t cap)
{
	char src[512];
	snprintf(src, sizeof src, "rule \"r\": allow anyone to call tool \"t\" when %s;\n", cond);
	tg_policy *p = compile_policy(src);
	tg_decision *d;
	assert_int_equal(tg_decision_create(&d), TG_OK);
	assert_int_equal(tg_eval(p, req, d), TG_OK);
	int r = tg_decision_effect(d) == TG_ALLOW;
	msg[0] = 0;
	if (tg_decision_error_count(d)) {
		r = -1;
		const char *m = NULL;
		assert_int_equal(tg_decision_error(d, 0, NULL, NULL, &m), TG_OK);
		snprintf(msg, cap, "%s", m);
	}
	tg_decision_free(d);
	tg_policy_free(p);
	return r;
}

static void base_request(tg_request *req)
{
	tg_request_init(req);
	req->principal_id = (tg_str)K("alice");
	req->method = (tg_str)K("tools/call");
	req->target = (tg_str)K("t");
}

static void leaves(void **state)
{
	(void)state;
	tg_request req;
	base_request(&req);
	req.args.type = TG_VALUE_OBJECT;
	req.args.u.tree.nodes = tree;
	req.args.u.tree.n = sizeof tree / sizeof tree[0];
	assert_int_equal(tg_request_check(&req, NULL), TG_OK);
	bool ok = true;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char msg[TG_ERROR_MESSAGE_MAX];
		int r = eval_cond(cases[i].cond, &req, msg, sizeof msg);
		if (r != cases[i].result || (cases[i].message && strcmp(msg, cases[i].message) != 0)) {
			fprintf(stderr, "%s: expected %d %s, got %d %s\n", cases[i].cond,
				cases[i].result, cases[i].message ? cases[i].message : "", r, msg);
			ok = false;
		}
	}
	assert_true(ok);
}

/* A request without a tree: the quantifier is an error, never a vacuous
 * `all`; an empty object is what a call without arguments gives. */
static void absent_and_empty(void **state)
{
	(void)state;
	tg_request req;
	char msg[TG_ERROR_MESSAGE_MAX];
	base_request(&req);
	assert_int_equal(eval_cond("all value of args contains \"x\"", &req, msg, sizeof msg), -1);
	assert_string_equal(msg, "'args' is absent");
	req.args.type = TG_VALUE_OBJECT;
	assert_int_equal(eval_cond("all value of args contains \"x\"", &req, msg, sizeof msg), 1);
	assert_int_equal(eval_cond("any value of args contains \"\"", &req, msg, sizeof msg), 0);
}

/* 65,536 values are walked; one more is an error whatever the leaves. */
static void bound(void **state)
{
	(void)state;
	enum { NLISTS = 16, ITEMS = 4095 };	/* 16 + 16 x 4095 = 65,536 values */
	static tg_str items[ITEMS];
	static tg_node nodes[NLISTS + 1];
	static char keys[NLISTS + 1][4];
	for (size_t i = 0; i < ITEMS; i++)
		items[i] = (tg_str)K("v");
	items[ITEMS - 1] = (tg_str)K("last");
	for (size_t k = 0; k <= NLISTS; k++) {
		snprintf(keys[k], sizeof keys[k], "k%zu", k);
		nodes[k].key = (tg_str){keys[k], strlen(keys[k])};
		nodes[k].value.type = TG_VALUE_STRING_LIST;
		nodes[k].value.u.strs.items = items;
		nodes[k].value.u.strs.n = ITEMS;
	}
	nodes[NLISTS].value.type = TG_VALUE_INT;
	nodes[NLISTS].value.u.i = 1;

	tg_request req;
	char msg[TG_ERROR_MESSAGE_MAX];
	base_request(&req);
	req.args.type = TG_VALUE_OBJECT;
	req.args.u.tree.nodes = nodes;
	req.args.u.tree.n = NLISTS;
	assert_int_equal(tg_request_check(&req, NULL), TG_OK);
	assert_int_equal(eval_cond("any value of args == \"last\"", &req, msg, sizeof msg), 1);
	assert_int_equal(eval_cond("all value of args matches \"v|last\"", &req, msg, sizeof msg), 1);
	req.args.u.tree.n = NLISTS + 1;
	assert_int_equal(eval_cond("any value of args == \"last\"", &req, msg, sizeof msg), -1);
	assert_string_equal(msg, "'args' holds more than 65536 values");
	/* the first leaf would decide, but the bound is checked first */
	assert_int_equal(eval_cond("any value of args == \"v\"", &req, msg, sizeof msg), -1);
}

/* The header's bound: 1 + 65,536 per quantifier, times a DFA walk for
 * matches; and the flag that tells a transport to fill the tree. */
static void cost(void **state)
{
	(void)state;
	tg_policy *p = compile_policy("rule \"r\": deny anyone to call any tool "
				      "when any value of args contains \"..\";");
	assert_non_null(p);
	assert_int_equal(tg_policy_max_cost(p), 1 + 1 + (1 + 65536) + 1);
	assert_true(tg_policy_reads_args_tree(p));
	tg_policy_free(p);
	/* args read by name only: the tree is not needed */
	p = compile_policy("rule \"r\": deny anyone to call any tool when args.o.p == \"x\";");
	assert_non_null(p);
	assert_false(tg_policy_reads_args_tree(p));
	assert_false(tg_policy_reads_args_tree(NULL));
	tg_policy_free(p);
	p = compile_policy("rule \"r\": deny anyone to call any tool "
			   "when all value of args.o matches \"a+\";");
	assert_non_null(p);
	assert_int_equal(tg_policy_max_cost(p), 1 + (1 + 65536ull * 65536) + 1);
	tg_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(leaves),
		cmocka_unit_test(absent_and_empty),
		cmocka_unit_test(bound),
		cmocka_unit_test(cost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
