/*
 * test_api_mcp.c - libtoolgate-mcp's public entry points (toolgate/mcp.h),
 * used only through the public headers: JSON requests, JSON text to a
 * decision in one call, MCP messages to requests for each kind of method
 * (prompts/get arguments included), lifecycle and malformed messages, list
 * filtering with the tool annotations it records, roots checked, and
 * decision JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toolgate/compiler.h"
#include "toolgate/mcp.h"
#include "toolgate/toolgate.h"

static const char policy_src[] =
	"policy \"api\";\n"
	"role engineer;\n"
	"rule \"prompt-en\": allow anyone to get prompt \"summary\" when args.lang == \"en\";\n"
	"rule \"read\": allow role engineer to call tool \"fs.*\";\n"
	"rule \"no-destructive\": deny anyone to call any tool when tool.destructive\n"
	"  because \"destructive tools are off\";\n"
	"rule \"files\": allow role engineer to read resource \"file:///srv/**\";\n"
	"allow anyone to list tools;\n"
	"rule \"tenant\": allow anyone to invoke \"logging/setLevel\" when context.tenant == \"acme\";\n";

static tg_policy *policy;
static tg_mcp_identity *engineer;
static tg_decision *decision;
static char why[256];

static int setup(void **state)
{
	static const char id[] = "{\"principal\":{\"id\":\"alice\",\"roles\":[\"engineer\"]},"
				 "\"context\":{\"tenant\":\"acme\"},\"server\":\"fs\"}";
	tg_compilation *c;
	const unsigned char *code;
	size_t n;

	if (tg_compile(policy_src, strlen(policy_src), "api.tg", 0, &c) != TG_OK)
		return -1;
	code = tg_compilation_bytecode(c, &n);
	if (!code || tg_policy_load(code, n, &policy, NULL) != TG_OK)
		return -1;
	tg_compilation_free(c);
	if (tg_decision_create(&decision) != TG_OK)
		return -1;
	return tg_mcp_identity_parse(id, strlen(id), &engineer, why, sizeof why) == TG_OK ? 0 : -1;
}

static int teardown(void **state)
{
	tg_mcp_identity_free(engineer);
	tg_decision_free(decision);
	tg_policy_free(policy);
	return 0;
}

/* Decides an MCP message for the engineer; returns the deciding rule id
 * ("-" for the default, "lifecycle" when the message is not decided). */
static const char *decide(const tg_mcp_tools *tools, const char *msg, tg_access *effect)
{
	tg_mcp_request *r = NULL;
	const char *rule;

	assert_int_equal(tg_mcp_request_from_message(policy, engineer, tools, msg, strlen(msg), 1000,
						     &r, why, sizeof why),
			 TG_OK);
	if (!r)
		return "lifecycle";
	assert_int_equal(tg_eval(policy, tg_mcp_request_get(r), decision), TG_OK);
	tg_mcp_request_free(r);
	*effect = tg_decision_effect(decision);
	rule = tg_decision_rule_id(decision);
	return rule ? rule : "-";
}

static void test_eval_json(void **state)
{
	static const char ok[] = "{\"principal\":{\"id\":\"a\",\"roles\":[\"engineer\"]},"
				 "\"method\":\"tools/call\",\"target\":\"fs.read\","
				 "\"tool\":{\"destructive\":false}}";
	static const char dup[] = "{\"principal\":{\"id\":\"a\"},\"method\":\"x\",\"method\":\"y\"}";
	char line[512];
	tg_decision *d = decision;
	tg_mcp_request *r = NULL;
	size_t n;

	assert_int_equal(tg_eval_json(policy, ok, strlen(ok), d), TG_OK);
	assert_int_equal(tg_decision_effect(d), TG_ALLOW);
	assert_string_equal(tg_decision_rule_id(d), "read");
	tg_decision_json(d, line, sizeof line);
	assert_string_equal(line,
			    "{\"decision\":\"allow\",\"rule\":\"read\",\"reason\":null,\"errors\":[]}");

	assert_int_equal(tg_eval_json(policy, dup, strlen(dup), d), TG_EINVALID_REQUEST);
	assert_int_equal(tg_decision_effect(d), TG_DENY);
	assert_true(tg_decision_invalid(d));
	assert_int_equal(tg_decision_rule(d), TG_NO_RULE);
	assert_non_null(strstr(tg_decision_reason(d), "invalid request: duplicate key"));
	n = tg_decision_json(d, line, sizeof line);
	assert_int_equal(n, strlen(line));
	assert_non_null(strstr(line, "\"invalid\":true"));

	assert_int_equal(tg_mcp_request_parse(policy, ok, strlen(ok), &r, why, sizeof why), TG_OK);
	assert_int_equal(tg_mcp_request_get(r)->method.len, strlen("tools/call"));
	tg_mcp_request_free(r);
	r = NULL;
	assert_int_equal(tg_mcp_request_parse(policy, "[]", 2, &r, why, sizeof why),
			 TG_EINVALID_REQUEST);
	assert_null(r);
	assert_int_equal(strncmp(why, "invalid request: ", 17), 0);
}

static void test_messages(void **state)
{
	tg_access e;

	/* Lifecycle: not for the policy. */
	assert_string_equal(decide(NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &e),
			    "lifecycle");
	/* prompts/get: its arguments are the request's args. */
	assert_string_equal(decide(NULL,
				   "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"prompts/get\",\"params\":"
				   "{\"name\":\"summary\",\"arguments\":{\"lang\":\"en\"}}}",
				   &e),
			    "prompt-en");
	assert_int_equal(e, TG_ALLOW);
	assert_string_equal(decide(NULL,
				   "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"prompts/get\",\"params\":"
				   "{\"name\":\"summary\",\"arguments\":{\"lang\":\"fr\"}}}",
				   &e),
			    "-");
	assert_int_equal(e, TG_DENY);
	/* completion/complete is the prompts/get it completes for (no args). */
	assert_string_equal(decide(NULL,
				   "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"completion/complete\","
				   "\"params\":{\"ref\":{\"type\":\"ref/resource\",\"uri\":"
				   "\"file:///srv/a\"},\"argument\":{\"name\":\"x\",\"value\":\"\"}}}",
				   &e),
			    "files");
	assert_int_equal(e, TG_ALLOW);
	/* An unlisted tool has MCP's default annotations: destructive. */
	assert_string_equal(decide(NULL,
				   "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":"
				   "{\"name\":\"fs.read\",\"arguments\":{}}}",
				   &e),
			    "no-destructive");
	assert_int_equal(e, TG_DENY);
	/* The identity's context reaches the policy. */
	assert_string_equal(decide(NULL,
				   "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"logging/setLevel\","
				   "\"params\":{\"level\":\"info\"}}",
				   &e),
			    "tenant");
}

/* A policy with `any value of args` sees a message's whole arguments. */
static void test_value_quantifier(void **state)
{
	static const char src[] = "rule \"climb\": deny anyone to call any tool\n"
				  "  when any value of args contains \"..\" because \"no climbing\";\n"
				  "rule \"ok\": allow anyone to call any tool;\n";
	static const char *const msgs[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"fs.read\","
		"\"arguments\":{\"opts\":{\"paths\":[\"/srv/a\",\"/srv/../etc\"]}}}}",
		"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"fs.read\","
		"\"arguments\":{\"opts\":{\"paths\":[\"/srv/a\"]},\"n\":3}}}",
		"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"fs.read\"}}",
	};
	static const char *const want[] = {"climb", "ok", "ok"};
	tg_compilation *c;
	const unsigned char *code;
	tg_policy *p;
	size_t n, i;

	(void)state;
	assert_int_equal(tg_compile(src, strlen(src), "v.tg", 0, &c), TG_OK);
	code = tg_compilation_bytecode(c, &n);
	assert_non_null(code);
	assert_int_equal(tg_policy_load(code, n, &p, NULL), TG_OK);
	tg_compilation_free(c);
	assert_true(tg_policy_reads_args_tree(p));
	for (i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
		tg_mcp_request *r = NULL;

		assert_int_equal(tg_mcp_request_from_message(p, engineer, NULL, msgs[i], strlen(msgs[i]),
							     1000, &r, why, sizeof why),
				 TG_OK);
		assert_non_null(r);
		assert_int_equal(tg_eval(p, tg_mcp_request_get(r), decision), TG_OK);
		tg_mcp_request_free(r);
		assert_int_equal(tg_decision_error_count(decision), 0);
		assert_string_equal(tg_decision_rule_id(decision), want[i]);
	}
	tg_policy_free(p);
}

static void test_refused_messages(void **state)
{
	static const char *const bad[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}",
		"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}",
		"not json",
		"",
	};
	tg_mcp_request *r;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = NULL;
		why[0] = '\0';
		assert_int_equal(tg_mcp_request_from_message(policy, engineer, NULL, bad[i],
							     strlen(bad[i]), 0, &r, why, sizeof why),
				 TG_EINVALID_REQUEST);
		assert_null(r);
		assert_true(why[0] != '\0');
	}
	assert_int_equal(tg_mcp_request_from_message(policy, NULL, NULL, "{}", 2, 0, &r, NULL, 0),
			 TG_EINVAL);
}

static void test_filter_list_records_annotations(void **state)
{
	static const char list[] =
		"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"tools\":["
		"{\"name\":\"fs.read\",\"annotations\":{\"destructiveHint\":false}},"
		"{\"name\":\"fs.rm\"},"
		"{\"name\":\"db.query\",\"annotations\":{\"destructiveHint\":false}}],"
		"\"nextCursor\":\"c2\"}}";
	tg_mcp_tools *tools;
	size_t len = 0, removed = 0;
	char *out = NULL;
	tg_access e;

	assert_int_equal(tg_mcp_tools_create(&tools), TG_OK);
	assert_int_equal(tg_mcp_filter_list(policy, engineer, tools, "tools/list", list,
					    strlen(list), 0, &out, &len, &removed),
			 TG_OK);
	assert_int_equal(removed, 2);
	assert_int_equal(strlen(out), len);
	assert_non_null(strstr(out, "\"fs.read\""));
	assert_null(strstr(out, "fs.rm"));
	assert_null(strstr(out, "db.query"));
	assert_non_null(strstr(out, "\"nextCursor\":\"c2\""));
	tg_mcp_free(out);

	/* The listed annotation now reaches tools/call. */
	assert_string_equal(decide(tools,
				   "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":"
				   "{\"name\":\"fs.read\",\"arguments\":{}}}",
				   &e),
			    "read");
	assert_int_equal(e, TG_ALLOW);

	assert_int_equal(tg_mcp_filter_list(policy, engineer, tools, "tools/list", "{\"result\":1}",
					    12, 0, &out, NULL, NULL),
			 TG_EINVALID_REQUEST);
	assert_int_equal(tg_mcp_filter_list(policy, engineer, tools, "tools/call", list,
					    strlen(list), 0, &out, NULL, NULL),
			 TG_EINVAL);
	tg_mcp_tools_free(tools);
}

/* tg_mcp_check_roots on `message`: its text, "" when nothing is to change,
 * "invalid" when refused. Caller frees. */
static char *roots_of(const char *message)
{
	char *out = NULL;
	size_t len = 0;
	tg_status st = tg_mcp_check_roots(policy, engineer, message, strlen(message), 1700000000,
					  &out, &len);

	if (st == TG_EINVALID_REQUEST)
		return strdup("invalid");
	assert_int_equal(st, TG_OK);
	if (!out)
		return strdup("");
	assert_int_equal(len, strlen(out));
	char *copy = strdup(out);
	tg_mcp_free(out);
	return copy;
}

/* Roots stay only where the identity may read everything below them:
 * file:///srv and below (rule "files"), not file:/// nor file:///etc. */
static void test_check_roots(void **state)
{
	static const struct {
		const char *message, *want;
	} cases[] = {
		{ "{\"jsonrpc\":\"2.0\",\"id\":\"r\",\"result\":{\"roots\":[{\"uri\":\"file:///\"},"
		  "{\"uri\":\"file:///srv\",\"name\":\"s\"},{\"uri\":\"file:///etc\"}]}}",
		  "{\"jsonrpc\":\"2.0\",\"id\":\"r\",\"result\":{\"roots\":[{\"uri\":\"file:///srv\","
		  "\"name\":\"s\"}]}}" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"fs.x\","
		  "\"inputResponses\":{\"k\":{\"roots\":[{\"uri\":\"file:///srv/a/\"},"
		  "{\"uri\":\"file:///home\"}]}}}}",
		  "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"fs.x\","
		  "\"inputResponses\":{\"k\":{\"roots\":[{\"uri\":\"file:///srv/a/\"}]}}}}" },
		/* no roots: nothing to change */
		{ "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":[]}}", "" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"x\"}}", "" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"x\","
		  "\"inputResponses\":{\"k\":{\"action\":\"accept\"}}}}", "" },
		/* roots that are not a list of roots; not JSON */
		{ "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"roots\":\"file:///\"}}", "invalid" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":\"x\","
		  "\"inputResponses\":{\"k\":{\"roots\":{}}}}}", "invalid" },
		{ "{\"roots\":", "invalid" },
	};
	char *out = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = roots_of(cases[i].message);

		assert_string_equal(got, cases[i].want);
		free(got);
	}
	assert_int_equal(tg_mcp_check_roots(NULL, engineer, "{}", 2, 0, &out, NULL), TG_EINVAL);
	assert_int_equal(tg_mcp_check_roots(policy, engineer, NULL, 1, 0, &out, NULL), TG_EINVAL);
}

static void test_identity_errors(void **state)
{
	static const char *const bad[] = {
		"{\"principal\":{\"roles\":[]}}",
		"{\"principal\":{\"id\":\"a\"},\"who\":{}}",
		"{\"principal\":{\"id\":\"a\"},\"token\":[]}",
		"[]",
	};
	tg_mcp_identity *id;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		id = NULL;
		assert_int_equal(tg_mcp_identity_parse(bad[i], strlen(bad[i]), &id, why, sizeof why),
				 TG_EINVALID_REQUEST);
		assert_null(id);
		assert_non_null(strstr(why, "identity"));
	}
	tg_mcp_identity_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eval_json),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_value_quantifier),
		cmocka_unit_test(test_refused_messages),
		cmocka_unit_test(test_filter_list_records_annotations),
		cmocka_unit_test(test_check_roots),
		cmocka_unit_test(test_identity_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
