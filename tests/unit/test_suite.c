/*
 * test_suite.c - the YAML suite reader and runner behind `toolgate test`:
 * scalar typing, defaults merging, every class of bad suite with its exact
 * FILE:LINE:COL message, and request/visibility cases run against a real
 * policy compiled from tests/suites/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cli.h"
#include "suite.h"
#include "toolgate/toolgate.h"

/* Parses `yaml` as the suite "t.yaml"; returns the status and stores what
 * was printed in *msgs (caller frees). */
static tg_suite_status parse(const char *yaml, tg_suite **out, char **msgs)
{
	size_t len = 0;
	FILE *err = open_memstream(msgs, &len);
	tg_suite_status st;

	assert_non_null(err);
	st = tg_suite_parse("t.yaml", yaml, strlen(yaml), err, out);
	fclose(err);
	return st;
}

static tg_suite *parse_ok(const char *yaml)
{
	tg_suite *s = NULL;
	char *msgs = NULL;
	tg_suite_status st = parse(yaml, &s, &msgs);

	if (st != TG_SUITE_OK)
		fprintf(stderr, "unexpected errors:\n%s", msgs);
	assert_int_equal(st, TG_SUITE_OK);
	assert_string_equal(msgs, "");
	free(msgs);
	return s;
}

/* The suite is refused and `line` is one of the printed lines. */
static void expect_error(const char *yaml, const char *line)
{
	tg_suite *s = (tg_suite *)1;
	char *msgs = NULL;
	tg_suite_status st = parse(yaml, &s, &msgs);
	const char *p = msgs;
	bool found = false;

	assert_int_equal(st, TG_SUITE_INVALID);
	assert_null(s);
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n == strlen(line) && memcmp(p, line, n) == 0)
			found = true;
		p += n + (nl ? 1 : 0);
	}
	if (!found)
		fprintf(stderr, "wanted: %s\ngot:\n%s", line, msgs);
	assert_true(found);
	free(msgs);
}

static char *dump(const json_t *j)
{
	return json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
}

static void assert_json(const json_t *j, const char *want)
{
	char *got = dump(j);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

#define HEAD "policy: p.tg\n"

/* ---- typing ------------------------------------------------------------ */

static void test_plain_scalars(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"10", "10"},
		{"-3", "-3"},
		{"0", "0"},
		{"9223372036854775807", "9223372036854775807"},
		{"-9223372036854775808", "-9223372036854775808"},
		{"9223372036854775808", "9.2233720368547758e18"},
		{"1.5", "1.5"},
		{"-2.0e3", "-2000.0"},
		{"1e6", "1000000.0"},
		{"true", "true"},
		{"false", "false"},
		{"null", "null"},
		{"~", "null"},
		{"", "null"},
		{"True", "\"True\""},
		{"yes", "\"yes\""},
		{"off", "\"off\""},
		{"007", "\"007\""},
		{"+5", "\"+5\""},
		{"0x10", "\"0x10\""},
		{"1.", "\"1.\""},
		{".5", "\".5\""},
		{".inf", "\".inf\""},
		{"2026-01-01", "\"2026-01-01\""},
		{"NULL", "\"NULL\""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = tg_suite_plain_scalar(cases[i].in, strlen(cases[i].in));

		assert_non_null(j);
		assert_json(j, cases[i].out);
		json_decref(j);
	}
}

/* Quoted and block scalars are strings whatever they look like; typing
 * applies inside requests, and requests carry the defaults. */
static void test_request_typing(void **state)
{
	tg_suite *s = parse_ok(HEAD
			       "cases:\n"
			       "  - name: c\n"
			       "    request:\n"
			       "      method: tools/call\n"
			       "      principal: {id: a}\n"
			       "      args:\n"
			       "        a: 10\n"
			       "        b: \"10\"\n"
			       "        c: '1.5'\n"
			       "        d: 1.5\n"
			       "        e: ~\n"
			       "        f: true\n"
			       "        g: 'true'\n"
			       "        h: [1, 2]\n"
			       "        i: [x, 2]\n"
			       "        j: |\n"
			       "          text\n"
			       "    expect: allow\n");

	(void)state;
	assert_int_equal(s->ncases, 1);
	assert_json(json_object_get(s->cases[0].request, "args"),
		    "{\"a\":10,\"b\":\"10\",\"c\":\"1.5\",\"d\":1.5,\"e\":null,\"f\":true,"
		    "\"g\":\"true\",\"h\":[1,2],\"i\":[\"x\",2],\"j\":\"text\\n\"}");
	tg_suite_free(s);
}

/* ---- merging ------------------------------------------------------------- */

static void test_merge(void **state)
{
	json_t *d = json_loads("{\"principal\":{\"id\":\"alice\",\"roles\":[\"eng\"],\"tenant\":\"acme\"},"
			       "\"token\":{\"scopes\":[\"a\"]},\"context\":{\"env\":\"staging\",\"t\":1},"
			       "\"args\":{\"x\":1},\"method\":\"tools/call\"}",
			       0, NULL);
	json_t *f = json_loads("{\"principal\":{\"roles\":[\"admin\"],\"tenant\":null},"
			       "\"context\":{\"env\":\"prod\"},\"args\":{\"y\":2},\"token\":null,"
			       "\"target\":\"t\"}",
			       0, NULL);
	json_t *m;

	(void)state;
	assert_non_null(d);
	assert_non_null(f);
	m = tg_suite_merge(d, f);
	assert_non_null(m);
	assert_json(m, "{\"args\":{\"y\":2},\"context\":{\"env\":\"prod\",\"t\":1},"
		       "\"method\":\"tools/call\",\"principal\":{\"id\":\"alice\",\"roles\":[\"admin\"]},"
		       "\"target\":\"t\"}");
	/* Neither input changed. */
	assert_json(json_object_get(d, "principal"),
		    "{\"id\":\"alice\",\"roles\":[\"eng\"],\"tenant\":\"acme\"}");
	json_decref(m);
	json_decref(d);
	json_decref(f);
}

static void test_suite_shape(void **state)
{
	tg_suite *s = parse_ok("policy: ../pol/p.tg\n"
			       "defaults:\n"
			       "  principal: {id: alice, roles: [engineer], tenant: acme}\n"
			       "  context: {environment: staging, time: 1764140000}\n"
			       "  server: db\n"
			       "tools:\n"
			       "  - name: a.one\n"
			       "    server: a\n"
			       "    annotations: {read_only: true, destructive: false}\n"
			       "  - name: a.two\n"
			       "cases:\n"
			       "  - name: first\n"
			       "    request: {method: tools/call, target: a.one,\n"
			       "              context: {environment: prod, time: null}}\n"
			       "    expect: {decision: deny, rule: r1, reason: MFA, errors: 0}\n"
			       "  - name: second\n"
			       "    request: {method: tools/list}\n"
			       "    expect: {decision: allow, rule: null, errors: [absent, \"type\"]}\n"
			       "  - name: third\n"
			       "    visible: {principal: {roles: [viewer]}}\n"
			       "    expect: [a.two]\n");
	const tg_suite_case *c;

	(void)state;
	assert_string_equal(s->policy, "../pol/p.tg");
	assert_string_equal(s->policy_path, "../pol/p.tg");
	assert_int_equal(s->policy_loc.line, 1);
	assert_int_equal(s->policy_loc.col, 9);
	assert_int_equal(s->ntools, 2);
	assert_string_equal(s->tools[0].server, "a");
	assert_true(s->tools[0].hints[TG_SUITE_HINT_READ_ONLY]);
	assert_false(s->tools[0].hints[TG_SUITE_HINT_DESTRUCTIVE]);
	/* MCP defaults for absent hints. */
	assert_null(s->tools[1].server);
	assert_false(s->tools[1].hints[TG_SUITE_HINT_READ_ONLY]);
	assert_true(s->tools[1].hints[TG_SUITE_HINT_DESTRUCTIVE]);
	assert_false(s->tools[1].hints[TG_SUITE_HINT_IDEMPOTENT]);
	assert_true(s->tools[1].hints[TG_SUITE_HINT_OPEN_WORLD]);

	assert_int_equal(s->ncases, 3);
	c = &s->cases[0];
	assert_string_equal(c->name, "first");
	assert_int_equal(c->loc.line, 12);
	assert_int_equal(c->loc.col, 11);
	assert_int_equal(c->kind, TG_CASE_REQUEST);
	assert_false(c->expect.allow);
	assert_true(c->expect.check_rule);
	assert_string_equal(c->expect.rule, "r1");
	assert_string_equal(c->expect.reason, "MFA");
	assert_int_equal(c->expect.errors_mode, TG_EXPECT_ERRORS_COUNT);
	assert_int_equal(c->expect.nerrors, 0);
	assert_json(c->request,
		    "{\"context\":{\"environment\":\"prod\"},\"method\":\"tools/call\","
		    "\"principal\":{\"id\":\"alice\",\"roles\":[\"engineer\"],\"tenant\":\"acme\"},"
		    "\"server\":\"db\",\"target\":\"a.one\"}");

	c = &s->cases[1];
	assert_true(c->expect.allow);
	assert_true(c->expect.check_rule);
	assert_null(c->expect.rule);
	assert_null(c->expect.reason);
	assert_int_equal(c->expect.errors_mode, TG_EXPECT_ERRORS_LIST);
	assert_int_equal(c->expect.nerrors, 2);
	assert_string_equal(c->expect.errors[0], "absent");
	assert_string_equal(c->expect.errors[1], "type");

	/* A visibility case takes identity and context from the defaults,
	 * nothing else (no server). */
	c = &s->cases[2];
	assert_int_equal(c->kind, TG_CASE_VISIBLE);
	assert_int_equal(c->expect.nvisible, 1);
	assert_string_equal(c->expect.visible[0], "a.two");
	assert_json(c->request,
		    "{\"context\":{\"environment\":\"staging\",\"time\":1764140000},"
		    "\"method\":\"tools/list\","
		    "\"principal\":{\"id\":\"alice\",\"roles\":[\"viewer\"],\"tenant\":\"acme\"}}");
	tg_suite_free(s);
}

static void test_policy_path_relative_to_suite(void **state)
{
	const char *yaml = HEAD "cases:\n  - {name: a, request: {}, expect: deny}\n";
	tg_suite *s = NULL;
	char *msgs = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&msgs, &len);

	(void)state;
	assert_int_equal(tg_suite_parse("dir/sub/s.yaml", yaml, strlen(yaml), err, &s),
			 TG_SUITE_OK);
	fclose(err);
	free(msgs);
	assert_string_equal(s->policy_path, "dir/sub/p.tg");
	tg_suite_free(s);
}

/* ---- bad suites: one test per class of error --------------------------- */

static void test_bad_unknown_keys(void **state)
{
	(void)state;
	expect_error("policy: p.tg\ncses: []\n", "t.yaml:2:1: error: unknown key 'cses' in suite");
	expect_error("policy: p.tg\ncses: []\n", "      = hint: did you mean 'cases'?");
	expect_error(HEAD "cases:\n  - nmae: a\n    request: {}\n    expect: deny\n",
		     "t.yaml:3:5: error: unknown key 'nmae' in case");
	expect_error(HEAD "cases:\n  - {name: a, request: {}, expect: {decison: deny}}\n",
		     "t.yaml:3:37: error: unknown key 'decison' in expect");
	expect_error(HEAD "defaults: {principle: {id: a}}\ncases: [{name: a, request: {}, expect: deny}]\n",
		     "t.yaml:2:12: error: unknown key 'principle' in defaults");
	expect_error(HEAD "tools: [{name: a, annotations: {readonly: true}}]\n"
			  "cases: [{name: a, request: {}, expect: deny}]\n",
		     "t.yaml:2:33: error: unknown key 'readonly' in annotations");
	expect_error(HEAD "tools: [{name: a}]\n"
			  "cases: [{name: a, visible: {target: x}, expect: []}]\n",
		     "t.yaml:3:29: error: unknown key 'target' in visible");
}

static void test_bad_types(void **state)
{
	(void)state;
	expect_error("policy: 3\ncases: [{name: a, request: {}, expect: deny}]\n",
		     "t.yaml:1:9: error: 'policy' must be a string, not an integer");
	expect_error(HEAD "cases: {}\n", "t.yaml:2:8: error: 'cases' must be a list, not a mapping");
	expect_error(HEAD "cases: [{name: a, request: [], expect: deny}]\n",
		     "t.yaml:2:28: error: 'request' must be a mapping, not a list");
	expect_error(HEAD "cases: [{name: a, request: {}, expect: allw}]\n",
		     "t.yaml:2:40: error: 'expect' must be 'allow' or 'deny'");
	expect_error(HEAD "cases: [{name: a, request: {}, expect: {decision: deny, errors: -1}}]\n",
		     "t.yaml:2:65: error: 'errors' must be a count or a list of strings, not a negative integer");
	expect_error(HEAD "cases: [{name: a, request: {}, expect: {decision: deny, rule: 3}}]\n",
		     "t.yaml:2:63: error: 'rule' must be a rule id or null, not an integer");
	expect_error(HEAD "cases: [{name: 1, request: {}, expect: deny}]\n",
		     "t.yaml:2:16: error: case 'name' must be a string, not an integer");
	expect_error(HEAD "tools: [{name: a, annotations: {destructive: yes}}]\n"
			  "cases: [{name: a, request: {}, expect: deny}]\n",
		     "t.yaml:2:46: error: annotation 'destructive' must be true or false, not a string");
	expect_error(HEAD "tools: [{name: a}]\ncases: [{name: a, visible: {}, expect: deny}]\n",
		     "t.yaml:3:40: error: visibility case 'expect' must be a list, not a string");
	expect_error(HEAD "defaults: {context: [1]}\ncases: [{name: a, request: {}, expect: deny}]\n",
		     "t.yaml:2:21: error: defaults 'context' must be a mapping, not a list");
	expect_error("- a\n", "t.yaml:1:1: error: a suite must be a mapping, not a list");
}

static void test_bad_missing(void **state)
{
	(void)state;
	expect_error("cases: [{name: a, request: {}, expect: deny}]\n",
		     "t.yaml:1:1: error: missing required key 'policy' in suite");
	expect_error(HEAD, "t.yaml:1:1: error: missing required key 'cases' in suite");
	expect_error(HEAD "cases: []\n", "t.yaml:2:8: error: a suite needs at least one case");
	expect_error(HEAD "cases:\n  - request: {}\n    expect: deny\n",
		     "t.yaml:3:5: error: missing required key 'name' in case");
	expect_error(HEAD "cases:\n  - name: a\n    expect: deny\n",
		     "t.yaml:3:5: error: missing required key 'request' or 'visible' in case");
	expect_error(HEAD "cases:\n  - name: a\n    request: {}\n",
		     "t.yaml:3:5: error: missing required key 'expect' in case");
	expect_error(HEAD "cases: [{name: a, request: {}, expect: {rule: x}}]\n",
		     "t.yaml:2:40: error: missing required key 'decision' in expect");
	expect_error(HEAD "tools: [{server: x}]\ncases: [{name: a, request: {}, expect: deny}]\n",
		     "t.yaml:2:9: error: missing required key 'name' in tool");
	expect_error(HEAD "cases: [{name: a, visible: {}, expect: []}]\n",
		     "t.yaml:2:28: error: a visibility case needs a 'tools' catalogue");
	expect_error("", "t.yaml:1:1: error: empty suite (expected 'policy' and 'cases')");
}

static void test_bad_both_request_and_visible(void **state)
{
	(void)state;
	expect_error(HEAD "tools: [{name: a}]\n"
			  "cases: [{name: a, request: {}, visible: {}, expect: deny}]\n",
		     "t.yaml:3:41: error: a case has either 'request' or 'visible', not both");
}

static void test_bad_duplicates(void **state)
{
	(void)state;
	expect_error(HEAD "cases:\n"
			  "  - {name: same, request: {}, expect: deny}\n"
			  "  - {name: same, request: {}, expect: deny}\n",
		     "t.yaml:4:12: error: duplicate case name 'same' (first at line 3)");
	expect_error(HEAD "policy: q.tg\ncases: [{name: a, request: {}, expect: deny}]\n",
		     "t.yaml:2:1: error: duplicate key 'policy'");
	/* Inside requests too: JSON objects cannot hold a key twice. */
	expect_error(HEAD "cases: [{name: a, request: {method: x, method: y}, expect: deny}]\n",
		     "t.yaml:2:40: error: duplicate key 'method'");
	expect_error(HEAD "tools: [{name: a}, {name: a}]\n"
			  "cases: [{name: a, request: {}, expect: deny}]\n",
		     "t.yaml:2:27: error: duplicate tool 'a' (first at line 2)");
	expect_error(HEAD "tools: [{name: a}]\n"
			  "cases: [{name: a, visible: {}, expect: [b]}]\n",
		     "t.yaml:3:41: error: unknown tool 'b' (not in 'tools')");
}

static void test_bad_aliases_and_tags(void **state)
{
	(void)state;
	expect_error(HEAD "defaults: &d {principal: {id: a}}\n"
			  "cases: [{name: a, request: *d, expect: deny}]\n",
		     "t.yaml:2:11: error: anchors and aliases are not supported");
	expect_error(HEAD "defaults: &d {principal: {id: a}}\n"
			  "cases: [{name: a, request: *d, expect: deny}]\n",
		     "t.yaml:3:28: error: anchors and aliases are not supported");
	expect_error(HEAD "cases: [{name: a, request: !!map {}, expect: deny}]\n",
		     "t.yaml:2:28: error: tags are not supported");
	/* The classic expansion bomb is refused at its first anchor. */
	expect_error(HEAD "a: &a [x, x, x, x, x, x, x, x, x]\n"
			  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
		     "t.yaml:2:4: error: anchors and aliases are not supported");
}

static void test_bad_yaml(void **state)
{
	char deep[256];
	size_t i;

	(void)state;
	expect_error(HEAD "cases: [\n",
		     "t.yaml:3:1: error: did not find expected node content while parsing a flow node");
	expect_error(HEAD "cases:\n  - name: a\n   bad: x\n",
		     "t.yaml:4:4: error: did not find expected '-' indicator while parsing a block collection");
	expect_error(HEAD "---\npolicy: q.tg\n",
		     "t.yaml:2:1: error: a suite file holds one YAML document");
	strcpy(deep, HEAD "cases: ");
	for (i = 0; i < 70; i++)
		strcat(deep, "[");
	expect_error(deep, "t.yaml:2:71: error: nesting deeper than 64 levels");
}

/* Columns count bytes, like policy diagnostics. */
static void test_byte_columns(void **state)
{
	(void)state;
	expect_error(HEAD "cases: [{name: \xc3\xa9t\xc3\xa9, request: {}, expect: dny}]\n",
		     "t.yaml:2:44: error: 'expect' must be 'allow' or 'deny'");
}

/* Every problem is reported, in source order, with the source line. */
static void test_all_errors_in_order(void **state)
{
	tg_suite *s = NULL;
	char *msgs = NULL;

	(void)state;
	assert_int_equal(parse("policy: 3\n"
			       "cses: []\n"
			       "cases: [{name: a, request: *x, expect: dny}]\n",
			       &s, &msgs),
			 TG_SUITE_INVALID);
	assert_string_equal(msgs,
			    "t.yaml:1:9: error: 'policy' must be a string, not an integer\n"
			    "    1 | policy: 3\n"
			    "      |         ^\n"
			    "t.yaml:2:1: error: unknown key 'cses' in suite\n"
			    "    2 | cses: []\n"
			    "      | ^\n"
			    "      = hint: did you mean 'cases'?\n"
			    "t.yaml:3:28: error: anchors and aliases are not supported\n"
			    "    3 | cases: [{name: a, request: *x, expect: dny}]\n"
			    "      |                            ^\n"
			    "t.yaml:3:40: error: 'expect' must be 'allow' or 'deny'\n"
			    "    3 | cases: [{name: a, request: *x, expect: dny}]\n"
			    "      |                                        ^\n");
	free(msgs);
}

/* ---- running against a real policy --------------------------------------- */

static tg_suite *load_fixture(const char *name, struct tg_policy **policy)
{
	const char *src = getenv("TG_SOURCE_DIR");
	char path[4096];
	tg_suite *s = NULL;

	assert_non_null(src);
	snprintf(path, sizeof path, "%s/tests/suites/%s", src, name);
	assert_int_equal(tg_suite_load(path, stderr, &s), TG_SUITE_OK);
	assert_int_equal(tg_drv_load_policy(s->policy_path, policy), TG_EXIT_OK);
	return s;
}

static void test_run_passing_suite(void **state)
{
	struct tg_policy *p = NULL;
	tg_suite *s = load_fixture("pass.yaml", &p);
	tg_suite_result r;
	size_t i;

	(void)state;
	assert_int_equal(tg_suite_run(s, p, false, &r), 0);
	for (i = 0; i < r.ncases; i++)
		if (!r.cases[i].passed)
			fprintf(stderr, "%s: %s\n%s", r.cases[i].c->name, r.cases[i].summary,
				r.cases[i].detail);
	assert_int_equal(r.passed, s->ncases);
	assert_int_equal(r.failed, 0);
	assert_int_equal(r.status, TG_EXIT_OK);
	/* Quiet unless asked: no detail for passing cases. */
	assert_null(r.cases[0].detail);
	assert_null(r.cases[0].summary);
	tg_suite_result_free(&r);

	assert_int_equal(tg_suite_run(s, p, true, &r), 0);
	assert_non_null(r.cases[0].detail);
	assert_non_null(strstr(r.cases[0].detail, "allow rule 'viewers-read' (line "));
	tg_suite_result_free(&r);
	tg_policy_free(p);
	tg_suite_free(s);
}

static void test_run_failing_suite(void **state)
{
	struct tg_policy *p = NULL;
	tg_suite *s = load_fixture("fail.yaml", &p);
	tg_suite_result r;

	(void)state;
	assert_int_equal(tg_suite_run(s, p, false, &r), 0);
	assert_int_equal(r.ncases, 4);
	assert_int_equal(r.passed, 1);
	assert_int_equal(r.failed, 3);
	assert_int_equal(r.status, TG_EXIT_FAIL);

	assert_false(r.cases[0].passed);
	assert_string_equal(r.cases[0].summary, "expected allow, got deny");
	assert_non_null(strstr(r.cases[0].detail, "  expected: allow\n"
						  "  actual:   deny by default (no rule applied)\n"
						  "  reason:   null\n"));
	assert_non_null(strstr(r.cases[0].detail, "  trace:\n"));

	assert_false(r.cases[1].passed);
	assert_string_equal(r.cases[1].summary, "expected rule 'eng-db', got 'viewers-read'");

	assert_true(r.cases[2].passed);
	assert_null(r.cases[2].summary);

	assert_false(r.cases[3].passed);
	assert_string_equal(r.cases[3].summary, "expected 2 visible tools, got 1; 'db.drop' is hidden");
	assert_string_equal(r.cases[3].detail, "  expected: [docs.search, db.drop]\n"
					       "  actual:   [docs.search]\n");
	tg_suite_result_free(&r);
	tg_policy_free(p);
	tg_suite_free(s);
}

/* Mismatches of reason and errors are all named; an invalid request is
 * deny with rule null, as eval decides it. */
static void test_run_expectations(void **state)
{
	const char *src = getenv("TG_SOURCE_DIR");
	char path[4096];
	struct tg_policy *p = NULL;
	tg_suite *s = NULL;
	tg_suite_result r;
	char *msgs = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&msgs, &len);
	const char *yaml =
		"policy: policy.tg\n"
		"defaults: {principal: {id: alice, roles: [engineer]}, context: {environment: prod}}\n"
		"cases:\n"
		"  - name: reason and errors\n"
		"    request: {method: tools/call, target: db.query, args: {}}\n"
		"    expect: {decision: deny, reason: nope, errors: [zzz, destructive]}\n"
		"  - name: error substrings\n"
		"    request: {method: tools/call, target: db.query, args: {}}\n"
		"    expect: {decision: deny, rule: no-destructive-in-prod, errors: [limit, destructive]}\n"
		"  - name: invalid\n"
		"    request: {method: tools/call, principal: {id: 7}}\n"
		"    expect: {decision: deny, rule: null, reason: invalid request, errors: 0}\n"
		"  - name: invalid but allow expected\n"
		"    request: {method: tools/call, principal: {id: 7}}\n"
		"    expect: allow\n";

	(void)state;
	assert_non_null(src);
	snprintf(path, sizeof path, "%s/tests/suites/inline.yaml", src);
	assert_int_equal(tg_suite_parse(path, yaml, strlen(yaml), err, &s), TG_SUITE_OK);
	fclose(err);
	free(msgs);
	assert_int_equal(tg_drv_load_policy(s->policy_path, &p), TG_EXIT_OK);
	assert_int_equal(tg_suite_run(s, p, false, &r), 0);

	assert_false(r.cases[0].passed);
	assert_non_null(strstr(r.cases[0].summary,
			       "expected a reason containing 'nope', got 'destructive tools in prod "
			       "need an admin'; expected error 1 to contain 'zzz', got '"));
	assert_null(strstr(r.cases[0].summary, "error 2"));
	assert_true(r.cases[1].passed);
	assert_true(r.cases[2].passed);
	assert_false(r.cases[3].passed);
	assert_string_equal(r.cases[3].summary, "expected allow, got deny");
	assert_non_null(strstr(r.cases[3].detail, "  actual:   deny (invalid request)\n"
						  "  reason:   'invalid request: "));
	tg_suite_result_free(&r);
	tg_policy_free(p);
	tg_suite_free(s);
}

static void test_xml_escape(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char in[] = "<a&b>\"'\x01\t\xff\xc3\xa9\xef\xbf\xbe";

	(void)state;
	tg_xml_escape(f, in, sizeof in - 1, true);
	tg_xml_escape(f, "|\n\t\r|", 5, false);
	fclose(f);
	assert_string_equal(buf, "&lt;a&amp;b&gt;&quot;&apos;\xef\xbf\xbd&#9;\xef\xbf\xbd\xc3\xa9"
				 "\xef\xbf\xbd|\n\t&#13;|");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_scalars),
		cmocka_unit_test(test_request_typing),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_suite_shape),
		cmocka_unit_test(test_policy_path_relative_to_suite),
		cmocka_unit_test(test_bad_unknown_keys),
		cmocka_unit_test(test_bad_types),
		cmocka_unit_test(test_bad_missing),
		cmocka_unit_test(test_bad_both_request_and_visible),
		cmocka_unit_test(test_bad_duplicates),
		cmocka_unit_test(test_bad_aliases_and_tags),
		cmocka_unit_test(test_bad_yaml),
		cmocka_unit_test(test_byte_columns),
		cmocka_unit_test(test_all_errors_in_order),
		cmocka_unit_test(test_run_passing_suite),
		cmocka_unit_test(test_run_failing_suite),
		cmocka_unit_test(test_run_expectations),
		cmocka_unit_test(test_xml_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
