/*
 * test_request_json.c - the JSON request reader and the decision writer.
 *
 * Every rule of DESIGN's "A request is invalid" list gets a request that
 * breaks it and nothing else; every limit is tested at and one past the
 * limit; number typing and slot filling run against a small compiled policy
 * whose slots cover each value type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decision.h"
#include "stages.h"
#include "policy_fixture.h"
#include "request_json.h"

static const char slot_policy[] =
	"policy \"t\";\n"
	"attribute args.il: list<int>;\n"
	"attribute args.sl: list<string>;\n"
	"rule \"r\": allow anyone to call any tool\n"
	"  when args.n == 1 and args.s == \"x\" and args.b\n"
	"   and args.il contains 1 and args.sl contains \"a\" and args.any == 1\n"
	"   and args.o.p == 1 and context.x == 1 and principal.tenant == \"a\"\n"
	"   and token.exp == 1;\n";

static int setup(void **state)
{
	*state = compile_policy(slot_policy);
	return 0;
}

static int teardown(void **state)
{
	tg_policy_free(*state);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static char err[512];

/* Parses text into a heap request (NULL when invalid), so tests can keep
 * several and check for leaks through free_req. */
static tg_json_request *parse(const tg_policy *p, const char *text)
{
	tg_json_request *r = malloc(sizeof *r);

	assert_non_null(r);
	if (tg_json_request_parse(p, text, strlen(text), r, err, sizeof err) != 0) {
		/* A failed parse leaves an empty request behind. */
		assert_null(r->root);
		tg_json_request_free(r);
		free(r);
		return NULL;
	}
	return r;
}

static void free_req(tg_json_request *r)
{
	tg_json_request_free(r);
	free(r);
}

/* The request must be rejected with a message containing `want`. */
#define assert_invalid(p, text, want) assert_invalid_at(p, text, want, __FILE__, __LINE__)

static void assert_invalid_at(const tg_policy *p, const char *text, const char *want,
			      const char *file, int line)
{
	tg_json_request *r = parse(p, text);

	if (r) {
		free_req(r);
		_fail(file, line);
	}
	if (strncmp(err, "invalid request: ", 17) != 0 || !strstr(err, want)) {
		print_error("request %s\n  message: %s\n  wanted:  %s\n", text, err, want);
		_fail(file, line);
	}
}

#define assert_valid(p, text) assert_valid_at(p, text, __FILE__, __LINE__)

static void assert_valid_at(const tg_policy *p, const char *text, const char *file, int line)
{
	tg_json_request *r = parse(p, text);

	if (!r) {
		print_error("request %s\n  rejected: %s\n", text, err);
		_fail(file, line);
	}
	free_req(r);
}

static bool str_eq(tg_str s, const char *lit)
{
	return s.ptr && s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

#define CALL "\"method\":\"tools/call\",\"target\":\"t\""
#define WHO "\"principal\":{\"id\":\"alice\"}"

/* ---- valid requests and fixed fields ------------------------------------ */

static void test_fixed_fields(void **state)
{
	tg_json_request *r = parse(*state,
		"{\"principal\":{\"id\":\"alice\",\"roles\":[\"eng\",\"ops\"],\"tenant\":\"a\"},"
		"\"token\":{\"scopes\":[\"tools:read\"],\"client_id\":\"app\",\"exp\":1},"
		"\"method\":\"tools/call\",\"target\":\"pg.query\",\"server\":\"db\","
		"\"tool\":{\"destructive\":false,\"read_only\":true,\"title\":7},"
		"\"args\":{\"n\":1},\"context\":{\"x\":1}}");
	const tg_request *q;

	assert_non_null(r);
	q = &r->req;
	assert_true(str_eq(q->principal_id, "alice"));
	assert_int_equal(q->nroles, 2);
	assert_true(str_eq(q->roles[0], "eng"));
	assert_true(str_eq(q->roles[1], "ops"));
	assert_int_equal(q->nscopes, 1);
	assert_true(str_eq(q->scopes[0], "tools:read"));
	assert_true(str_eq(q->client_id, "app"));
	assert_true(str_eq(q->method, "tools/call"));
	assert_true(str_eq(q->target, "pg.query"));
	assert_true(str_eq(q->server, "db"));
	assert_int_equal(q->read_only, TG_HINT_TRUE);
	assert_int_equal(q->destructive, TG_HINT_FALSE);
	assert_int_equal(q->idempotent, TG_HINT_ABSENT);
	assert_int_equal(q->open_world, TG_HINT_ABSENT);
	assert_int_equal(q->nslots, tg_policy_slot_count(*state));
	free_req(r);
}

static void test_optional_fields(void **state)
{
	/* No roles, scopes, token, args or context; a non-string client_id
	 * and server count as absent; a target on tools/list is ignored. */
	tg_json_request *r = parse(*state,
		"{\"principal\":{\"id\":\"bob\"},\"token\":{\"client_id\":5},"
		"\"method\":\"tools/list\",\"target\":7,\"server\":false}");
	const tg_request *q;

	assert_non_null(r);
	q = &r->req;
	assert_int_equal(q->nroles, 0);
	assert_int_equal(q->nscopes, 0);
	assert_null(q->client_id.ptr);
	assert_null(q->target.ptr);
	assert_null(q->server.ptr);
	free_req(r);
}

static void test_no_policy(void **state)
{
	tg_json_request *r = parse(NULL, "{" WHO "," CALL "}");

	(void)state;
	assert_non_null(r);
	assert_int_equal(r->req.nslots, 0);
	free_req(r);
}

/* ---- the invalid list --------------------------------------------------- */

static void test_unknown_top_level_key(void **state)
{
	assert_invalid(*state, "{" WHO "," CALL ",\"extra\":1}", "unknown top-level key 'extra'");
	assert_invalid(*state, "{" WHO "," CALL ",\"Method\":\"x\"}", "unknown top-level key");
}

static void test_principal_id(void **state)
{
	assert_invalid(*state, "{" CALL "}", "missing principal.id");
	assert_invalid(*state, "{\"principal\":{}," CALL "}", "missing principal.id");
	assert_invalid(*state, "{\"principal\":{\"id\":1}," CALL "}",
		       "principal.id must be a string");
	assert_invalid(*state, "{\"principal\":{\"id\":null}," CALL "}",
		       "principal.id must be a string");
}

static void test_method(void **state)
{
	assert_invalid(*state, "{" WHO "}", "missing method");
	assert_invalid(*state, "{" WHO ",\"method\":[\"tools/call\"]}",
		       "method must be a string");
	assert_valid(*state, "{" WHO ",\"method\":\"logging/setLevel\"}");
	assert_valid(*state, "{" WHO ",\"method\":\"completion/complete\"}");
}

static void test_target_required(void **state)
{
	static const char *const needs[] = {"tools/call", "resources/read",
					    "resources/subscribe", "resources/unsubscribe",
					    "prompts/get"};
	char text[256];
	size_t i;

	for (i = 0; i < sizeof needs / sizeof needs[0]; i++) {
		snprintf(text, sizeof text, "{" WHO ",\"method\":\"%s\"}", needs[i]);
		assert_invalid(*state, text, "needs a target");
		snprintf(text, sizeof text, "{" WHO ",\"method\":\"%s\",\"target\":1}", needs[i]);
		assert_invalid(*state, text, "target must be a string");
		snprintf(text, sizeof text, "{" WHO ",\"method\":\"%s\",\"target\":\"x\"}",
			 needs[i]);
		assert_valid(*state, text);
	}
	assert_valid(*state, "{" WHO ",\"method\":\"tools/list\"}");
	assert_valid(*state, "{" WHO ",\"method\":\"prompts/list\",\"target\":{}}");
}

static void test_roles_and_scopes(void **state)
{
	assert_invalid(*state, "{\"principal\":{\"id\":\"a\",\"roles\":\"eng\"}," CALL "}",
		       "principal.roles must be a list of strings");
	assert_invalid(*state, "{\"principal\":{\"id\":\"a\",\"roles\":[\"eng\",1]}," CALL "}",
		       "principal.roles must be a list of strings");
	assert_invalid(*state, "{\"principal\":{\"id\":\"a\",\"roles\":null}," CALL "}",
		       "principal.roles must be a list of strings");
	assert_invalid(*state, "{" WHO ",\"token\":{\"scopes\":{}}," CALL "}",
		       "token.scopes must be a list of strings");
	assert_invalid(*state, "{" WHO ",\"token\":{\"scopes\":[[\"a\"]]}," CALL "}",
		       "token.scopes must be a list of strings");
	assert_valid(*state, "{\"principal\":{\"id\":\"a\",\"roles\":[]},"
			     "\"token\":{\"scopes\":[]}," CALL "}");
}

static void test_tool_annotations(void **state)
{
	static const char *const hints[] = {"read_only", "destructive", "idempotent",
					    "open_world"};
	char text[256], want[64];
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(text, sizeof text, "{" WHO "," CALL ",\"tool\":{\"%s\":\"yes\"}}",
			 hints[i]);
		snprintf(want, sizeof want, "tool.%s must be a boolean", hints[i]);
		assert_invalid(*state, text, want);
		snprintf(text, sizeof text, "{" WHO "," CALL ",\"tool\":{\"%s\":null}}", hints[i]);
		assert_invalid(*state, text, want);
	}
	/* Other keys in `tool` are ignored. */
	assert_valid(*state, "{" WHO "," CALL ",\"tool\":{\"title\":1,\"x\":null}}");
}

static void test_sections_are_objects(void **state)
{
	assert_invalid(*state, "{\"principal\":\"alice\"," CALL "}", "principal must be an object");
	assert_invalid(*state, "{" WHO "," CALL ",\"token\":[]}", "token must be an object");
	assert_invalid(*state, "{" WHO "," CALL ",\"tool\":true}", "tool must be an object");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":null}", "args must be an object");
	assert_invalid(*state, "{" WHO "," CALL ",\"context\":1}", "context must be an object");
}

static void test_duplicate_keys(void **state)
{
	assert_invalid(*state, "{" WHO "," CALL ",\"method\":\"tools/call\"}", "duplicate");
	assert_invalid(*state, "{\"principal\":{\"id\":\"a\",\"id\":\"b\"}," CALL "}",
		       "duplicate");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"a\":{\"b\":{\"c\":1,\"c\":1}}}}",
		       "duplicate");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"l\":[{\"k\":1,\"k\":2}]}}",
		       "duplicate");
	/* Same key in different objects is fine. */
	assert_valid(*state, "{" WHO "," CALL ",\"args\":{\"id\":1},\"context\":{\"id\":2}}");
}

static void test_nul_and_utf8(void **state)
{
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"s\":\"a\\u0000b\"}}", "");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"a\\u0000\":1}}", "");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"s\":\"\xff\"}}", "");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"s\":\"\xc0\xaf\"}}", "");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"s\":\"\xed\xa0\x80\"}}", "");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"s\":\"\\ud800\"}}", "");
	assert_valid(*state, "{" WHO "," CALL ",\"args\":{\"s\":\"caf\xc3\xa9 \\ud83d\\ude00\"}}");
}

static void test_nul_and_utf8_in_trees(void **state)
{
	/* A tree built by hand (as from YAML) gets the same string checks. */
	json_t *root = json_pack("{s:{s:s},s:s,s:s}", "principal", "id", "a", "method",
				 "tools/call", "target", "t");
	json_t *args = json_object();
	tg_json_request r;

	assert_non_null(root);
	json_object_set_new(root, "args", args);
	json_object_set_new(args, "s", json_stringn("a\0b", 3));
	assert_int_equal(tg_json_request_from_json(*state, root, &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "U+0000"));

	json_object_set_new(args, "s", json_stringn_nocheck("\xff", 1));
	assert_int_equal(tg_json_request_from_json(*state, root, &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "UTF-8"));

	json_object_set_new(args, "s", json_string("ok"));
	assert_int_equal(tg_json_request_from_json(*state, root, &r, err, sizeof err), 0);
	json_decref(root);	/* the request keeps its own reference */
	assert_true(str_eq(r.req.principal_id, "a"));
	tg_json_request_free(&r);
	tg_json_request_free(&r);	/* freeing twice is harmless */
}

static void test_resource_uris(void **state)
{
	static const char *const bad[] = {
		"file:///srv/./x", "file:///srv/../etc", "file:///srv/..", "file:///srv\\..\\x",
		"file:///srv/%2e%2e/x", "file:///srv/%2E", "file:///a%2fb", "file:///a%2Fb",
		"file:///a%5cb", "file:///a%5C", "file:///a%25", "file:///a%252e",
	};
	static const char *const good[] = {"file:///srv/x", "file:///srv/.hidden",
					   "file:///srv/a..b", "file:///srv/x%20y"};
	char text[256];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text,
			 "{" WHO ",\"method\":\"resources/read\",\"target\":\"%s\"}", bad[i]);
		assert_invalid(*state, text, "");
	}
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(text, sizeof text,
			 "{" WHO ",\"method\":\"resources/read\",\"target\":\"%s\"}", good[i]);
		assert_valid(*state, text);
	}
}

static void test_malformed(void **state)
{
	assert_invalid(*state, "", "malformed JSON");
	assert_invalid(*state, "{", "malformed JSON");
	assert_invalid(*state, "{" WHO "," CALL "} x", "malformed JSON");
	assert_invalid(*state, "{" WHO "," CALL "}{}", "malformed JSON");
	assert_invalid(*state, "[]", "");
	assert_invalid(*state, "\"x\"", "");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"n\":1-99999999999999999999}}",
		       "malformed JSON");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"n\":01}}", "malformed JSON");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"n\":NaN}}", "malformed JSON");
}

static char *long_string(size_t n, bool as_key);

/* The gaps bench/json/README.md lists for yajl, which the reader once used,
 * each closed by the reader (mcp/json_events.c). */
static void test_yajl_gaps(void **state)
{
	static const char *const utf8[] = {
		"\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800ab\"", "\"a\\ud800\"",
		"\"\\ud800\\ud800\"", "\"\xc0\x80\"", "\"\xed\xa0\x80\"", "\"\x80\"", "\"\xe2\x82\"",
		"\"\xf4\x90\x80\x80\"",
	};
	static const char *const malformed[] = {
		"{\"n\":1,}", "[1,]", "{\"n\":1 /* c */}", "{\"n\":1 // c\n}", "'x'",
		"NaN", "Infinity", "01", "\"a\tb\"", "\"a\nb\"",
	};
	char text[256];
	size_t i;

	for (i = 0; i < sizeof utf8 / sizeof utf8[0]; i++) {
		snprintf(text, sizeof text, "{" WHO "," CALL ",\"args\":{\"x\":%s}}", utf8[i]);
		assert_invalid(*state, text, "a string is not valid UTF-8 at line 1");
		/* As a key, too. */
		snprintf(text, sizeof text, "{" WHO "," CALL ",\"args\":{%s:1}}", utf8[i]);
		assert_invalid(*state, text, "a string is not valid UTF-8 at line 1");
	}
	for (i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
		snprintf(text, sizeof text, "{" WHO "," CALL ",\"args\":{\"x\":%s}}", malformed[i]);
		assert_invalid(*state, text, "malformed JSON at line 1");
	}
	assert_invalid(*state, "\xef\xbb\xbf{" WHO "," CALL "}", "malformed JSON at line 1");
	assert_invalid(*state, "{" WHO "," CALL "} x", "malformed JSON at line 1");
	/* U+0000, escaped or raw, in values and keys, read or not. */
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"x\":\"a\\u0000\"}}",
		       "a string contains U+0000 at line 1");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"\\u0000\":1}}",
		       "a string contains U+0000 at line 1");
	{
		static const char raw[] = "{" WHO "," CALL ",\"args\":{\"x\":\"a\0b\"}}";
		tg_json_request r;

		assert_int_equal(tg_json_request_parse(*state, raw, sizeof raw - 1, &r, err,
						       sizeof err), -1);
		assert_non_null(strstr(err, "a string contains U+0000"));
		tg_json_request_free(&r);
	}
	/* Duplicates spelled with an escape, and in a large object (the
	 * hashed check), at the start and the end. */
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"a\":1,\"\\u0061\":2}}",
		       "duplicate key at line 1");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"\\u0061\":1,\"a\":2}}",
		       "duplicate key at line 1");
	{
		char *big = malloc(64 * 1024), *p = big;
		int k;

		assert_non_null(big);
		p += sprintf(p, "{" WHO "," CALL ",\"args\":{");
		for (k = 0; k < 2000; k++)
			p += sprintf(p, "\"k%d\":%d,", k, k);
		strcpy(p, "\"k0\":1}}");
		assert_invalid(*state, big, "duplicate key at line 1");
		strcpy(p, "\"last\":1}}");
		assert_valid(*state, big);
		free(big);
	}
	/* Deep nesting stops at the limit, however deep the text goes. */
	{
		char *deep = malloc(20100), *p = deep;

		assert_non_null(deep);
		p += sprintf(p, "{" WHO "," CALL ",\"args\":{\"a\":");
		memset(p, '[', 10000);
		memset(p + 10000, ']', 10000);
		strcpy(p + 20000, "}}");
		assert_invalid(*state, deep, "nesting is deeper than 64 levels");
		free(deep);
	}
	/* A valid escaped pair is U+1F600. */
	assert_valid(*state, "{" WHO "," CALL ",\"args\":{\"x\":\"\\ud83d\\ude00\"}}");
}

/* DESIGN's number rule for every number yajl would refuse or convert. */
static void test_numbers_as_text(void **state)
{
	assert_valid(*state, "{" WHO "," CALL ",\"args\":{\"x\":[1e400,-1e400,9223372036854775808,"
			     "-9223372036854775809,1.5e-400,0.1]}}");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"x\":-}}", "malformed JSON");
	assert_invalid(*state, "{" WHO "," CALL ",\"args\":{\"x\":1.}}", "malformed JSON");
}

/* Strings a rule reads must be in NFC (docs/language.md "Unicode
 * spellings"): KELVIN SIGN and a decomposed e-acute, escaped and raw. */
static void test_nfc(void **state)
{
	static const char *const spellings[] = {"\\u212Aeys", "\342\204\252eys", "cafe\\u0301",
						"cafe\xcc\x81"};
	char text[256];
	size_t i;

	for (i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
		snprintf(text, sizeof text, "{" WHO "," CALL ",\"args\":{\"s\":\"%s\"}}", spellings[i]);
		assert_invalid(*state, text, "'args.s' is not in Unicode NFC");
		snprintf(text, sizeof text, "{" WHO ",\"method\":\"tools/call\",\"target\":\"%s\"}",
			 spellings[i]);
		assert_invalid(*state, text, "'target' is not in Unicode NFC");
		snprintf(text, sizeof text, "{\"principal\":{\"id\":\"a\",\"roles\":[\"%s\"]}," CALL "}",
			 spellings[i]);
		assert_invalid(*state, text, "'principal.roles' is not in Unicode NFC");
		snprintf(text, sizeof text, "{" WHO "," CALL ",\"args\":{\"sl\":[\"ok\",\"%s\"]}}",
			 spellings[i]);
		assert_invalid(*state, text, "'args.sl' is not in Unicode NFC");
		/* Values no rule reads are not checked. */
		snprintf(text, sizeof text, "{" WHO "," CALL ",\"args\":{\"content\":\"%s\"}}",
			 spellings[i]);
		assert_valid(*state, text);
		/* Nor is a target on a method that has none. */
		snprintf(text, sizeof text, "{" WHO ",\"method\":\"tools/list\",\"target\":\"%s\"}",
			 spellings[i]);
		assert_valid(*state, text);
	}
	assert_valid(*state, "{" WHO "," CALL ",\"args\":{\"s\":\"caf\\u00e9 Keys \xea\xb0\x80\"}}");
	/* The same through a tree (YAML suites, the MCP adapter). */
	{
		json_t *root = json_pack("{s:{s:s},s:s,s:s}", "principal", "id", "a", "method",
					 "tools/call", "target", "\342\204\252eys");
		tg_json_request r;

		assert_non_null(root);
		assert_int_equal(tg_json_request_from_json(*state, root, &r, err, sizeof err), -1);
		assert_non_null(strstr(err, "'target' is not in Unicode NFC"));
		json_object_set_new(root, "target", json_string("Keys"));
		json_object_set_new(root, "args", json_pack("{s:s}", "s", "cafe\xcc\x81"));
		assert_int_equal(tg_json_request_from_json(*state, root, &r, err, sizeof err), -1);
		assert_non_null(strstr(err, "'args.s' is not in Unicode NFC"));
		json_decref(root);
	}
}

/* Text and tree must read every request the same way: one builder. */
static void test_text_and_tree_agree(void **state)
{
	static const char *const reqs[] = {
		"{" WHO "," CALL ",\"args\":{\"n\":1,\"s\":\"x\",\"b\":true,\"il\":[1,2],"
		"\"sl\":[\"a\"],\"any\":{\"k\":[1,\"a\",null]},\"o\":{\"p\":[\"q\"]}}}",
		"{\"principal\":{\"id\":\"a\",\"roles\":[\"r\"],\"tenant\":\"t\"},\"token\":"
		"{\"scopes\":[\"s\"],\"client_id\":\"c\",\"exp\":5},\"method\":\"resources/read\","
		"\"target\":\"file:///x\",\"server\":\"db\",\"tool\":{\"read_only\":true},"
		"\"context\":{\"x\":1.5}}",
		"{" WHO "," CALL ",\"args\":{\"any\":[]}}",
		"{" WHO "," CALL ",\"args\":{\"o\":{\"p\":{\"z\":[{}]}}}}",
		"{" WHO ",\"method\":\"tools/list\",\"target\":7}",
		"{" WHO "," CALL ",\"tool\":{\"read_only\":1}}",
		"{" WHO "," CALL ",\"args\":[]}",
		"{" WHO "," CALL ",\"zzz\":1,\"args\":{\"s\":\"cafe\\u0301\"}}",
	};
	size_t i;

	for (i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
		char err2[512], d1[65], d2[65];
		json_t *root = json_loads(reqs[i], JSON_REJECT_DUPLICATES, NULL);
		tg_json_request a, b;
		int ra, rb;

		assert_non_null(root);
		ra = tg_json_request_parse(*state, reqs[i], strlen(reqs[i]), &a, err, sizeof err);
		rb = tg_json_request_from_json(*state, root, &b, err2, sizeof err2);
		json_decref(root);
		if (ra != rb || (ra != 0 && strcmp(err, err2) != 0))
			fail_msg("%s\n  text: %d %s\n  tree: %d %s", reqs[i], ra, err, rb, err2);
		if (ra == 0) {
			tg_request_digest(&a.req, d1);
			tg_request_digest(&b.req, d2);
			assert_string_equal(d1, d2);
		}
		tg_json_request_free(&a);
		tg_json_request_free(&b);
	}
}

/* ---- limits ------------------------------------------------------------- */

/* Issue 15: a long value no rule reads (a file's contents) passes; read
 * values keep the limit; the limits can be lowered. */
static void test_unread_values_unlimited(void **state)
{
	size_t n = 3 * TG_MAX_STRING_BYTES;
	char *buf = malloc(n + 256), *p;
	tg_json_limits lim = tg_json_default_limits;
	tg_json_request r;

	assert_non_null(buf);
	p = buf + sprintf(buf, "{" WHO "," CALL ",\"args\":{\"s\":\"x\",\"content\":\"");
	memset(p, 'c', n);
	strcpy(p + n, "\"}}");
	assert_valid(*state, buf);
	/* As a read value it is refused. */
	p = buf + sprintf(buf, "{" WHO "," CALL ",\"args\":{\"s\":\"");
	memset(p, 's', n);
	strcpy(p + n, "\"}}");
	assert_invalid(*state, buf, "a string is longer than 65536 bytes");
	free(buf);

	/* Lower limits, as a deployment might set them ("tools/call" is 10 bytes). */
	lim.string = 10;
	lim.list = 2;
	assert_int_equal(tg_json_request_parse_with(*state, &lim, "{" WHO "," CALL ",\"args\":{\"s\":\"abcdefghijk\"}}",
						    strlen("{" WHO "," CALL ",\"args\":{\"s\":\"abcdefghijk\"}}"), &r,
						    err, sizeof err), -1);
	assert_non_null(strstr(err, "longer than 10 bytes"));
	tg_json_request_free(&r);
	{
		static const char t[] = "{" WHO "," CALL ",\"args\":{\"il\":[1,2,3],\"l\":[1,2,3]}}";

		assert_int_equal(tg_json_request_parse_with(*state, &lim, t, sizeof t - 1, &r, err,
							    sizeof err), -1);
		assert_non_null(strstr(err, "more than 2 elements"));
		tg_json_request_free(&r);
	}
	/* Higher ones are clamped to the runtime's. */
	lim.string = 10 * TG_MAX_STRING_BYTES;
	lim.list = TG_MAX_LIST_ITEMS;
	{
		char *past = long_string(TG_MAX_STRING_BYTES + 1, false);

		assert_int_equal(tg_json_request_parse_with(*state, &lim, past, strlen(past), &r,
							    err, sizeof err), -1);
		tg_json_request_free(&r);
		free(past);
	}
}

static char *padded(size_t total)
{
	static const char core[] = "{" WHO "," CALL "}";
	char *buf = malloc(total);

	assert_non_null(buf);
	memset(buf, ' ', total);
	memcpy(buf, core, sizeof core - 1);
	return buf;
}

static void test_body_limit(void **state)
{
	char *buf = padded(TG_JSON_MAX_BODY + 1);
	tg_json_request r;

	assert_int_equal(tg_json_request_parse(*state, buf, TG_JSON_MAX_BODY, &r, err, sizeof err),
			 0);
	tg_json_request_free(&r);
	assert_int_equal(tg_json_request_parse(*state, buf, TG_JSON_MAX_BODY + 1, &r, err,
					       sizeof err),
			 -1);
	tg_json_request_free(&r);
	assert_non_null(strstr(err, "larger than 1048576 bytes"));
	free(buf);
}

/* A request whose deepest value sits inside `depth` nested containers. */
static char *nested(unsigned depth)
{
	/* The top-level object and `args` are two levels. */
	unsigned inner = depth - 2, i;
	char *buf = malloc(64 + 2 * inner + 64), *p;

	assert_non_null(buf);
	p = buf + sprintf(buf, "{" WHO "," CALL ",\"args\":{\"a\":");
	for (i = 0; i < inner; i++)
		*p++ = '[';
	for (i = 0; i < inner; i++)
		*p++ = ']';
	strcpy(p, "}}");
	return buf;
}

static void test_depth_limit(void **state)
{
	char *at = nested(TG_JSON_MAX_DEPTH), *past = nested(TG_JSON_MAX_DEPTH + 1);

	assert_valid(*state, at);
	assert_invalid(*state, past, "nesting is deeper than 64 levels");
	free(at);
	free(past);
}

static char *long_string(size_t n, bool as_key)
{
	char *buf = malloc(n + 128), *p;

	assert_non_null(buf);
	p = buf + sprintf(buf, "{" WHO "," CALL ",\"args\":{\"");
	if (as_key) {
		memset(p, 'k', n);
		strcpy(p + n, "\":1}}");
	} else {
		p += sprintf(p, "s\":\"");
		memset(p, 's', n);
		strcpy(p + n, "\"}}");
	}
	return buf;
}

static void test_string_limit(void **state)
{
	int key;

	for (key = 0; key <= 1; key++) {
		char *at = long_string(TG_MAX_STRING_BYTES, key);
		char *past = long_string(TG_MAX_STRING_BYTES + 1, key);

		assert_valid(*state, at);
		assert_invalid(*state, past, "a string is longer than 65536 bytes");
		free(at);
		free(past);
	}
}

/* A list of n ints at args.<key>. */
static char *long_list(const char *key, size_t n)
{
	char *buf = malloc(2 * n + 128), *p;
	size_t i;

	assert_non_null(buf);
	p = buf + sprintf(buf, "{" WHO "," CALL ",\"args\":{\"%s\":[", key);
	for (i = 0; i < n; i++) {
		*p++ = i ? ',' : '1';
		if (i)
			*p++ = '1';
	}
	strcpy(p, "]}}");
	return buf;
}

static void test_list_limit(void **state)
{
	/* args.il is read by the policy; args.l is not, and passes at any
	 * length (docs/limits.md). */
	char *at = long_list("il", TG_MAX_LIST_ITEMS), *past = long_list("il", TG_MAX_LIST_ITEMS + 1);
	char *unread = long_list("l", 3 * TG_MAX_LIST_ITEMS);

	assert_valid(*state, at);
	assert_invalid(*state, past, "a list has more than 4096 elements");
	assert_valid(*state, unread);
	free(at);
	free(past);
	free(unread);
}

/* ---- values and slots --------------------------------------------------- */

static const tg_value *slot(const tg_policy *p, const tg_json_request *r, const char *name)
{
	uint32_t i;
	const tg_request *q = &r->req;

	if (tg_policy_slot_find(p, name, &i) != TG_OK)
		fail_msg("policy has no slot '%s'", name);
	assert_true((size_t)i < q->nslots);
	return &q->slots[i];
}

/* ---- the whole args tree (`value of`) ----------------------------------- */

/* A policy with `any value of args ...` gets req.args, every argument in
 * document order, and its slots under args still filled (from that tree);
 * one without gets no tree. A call without arguments is {}. Text, tree and
 * their digests agree. */
static void test_args_tree(void **state)
{
	tg_policy *q = compile_policy("attribute args.sl: list<string>;\n"
				      "rule \"r\": deny anyone to call any tool\n"
				      "  when any value of args contains \"..\" or args.o.p == 1\n"
				      "   or args.sl contains \"a\";\n");
	const char *text = "{" WHO "," CALL ",\"args\":{\"s\":\"x\",\"o\":{\"p\":1,\"q\":[true,\"y\"]},"
			   "\"sl\":[\"a\",\"b\"]}}";
	tg_json_request *r;
	const tg_request *req;
	const tg_value *v;

	assert_non_null(q);
	assert_true(tg_policy_reads_args_tree(q));
	r = parse(q, text);
	assert_non_null(r);
	req = &r->req;
	assert_int_equal(req->args.type, TG_VALUE_OBJECT);
	/* s, o, p, q, true, "y", sl, "a", "b" */
	assert_int_equal(req->args.u.tree.n, 9);
	assert_true(str_eq(req->args.u.tree.nodes[0].key, "s"));
	assert_true(str_eq(req->args.u.tree.nodes[0].value.u.s, "x"));
	assert_int_equal(req->args.u.tree.nodes[1].value.type, TG_VALUE_OBJECT);
	assert_int_equal(req->args.u.tree.nodes[1].value.u.tree.n, 4);
	assert_int_equal(req->args.u.tree.nodes[3].value.type, TG_VALUE_ARRAY);
	assert_null(req->args.u.tree.nodes[4].key.ptr);
	assert_int_equal(tg_request_check(req, NULL), TG_OK);
	v = slot(q, r, "args.o.p");
	assert_int_equal(v->type, TG_VALUE_INT);
	assert_true(v->u.i == 1);
	v = slot(q, r, "args.sl");
	assert_int_equal(v->type, TG_VALUE_STRING_LIST);
	assert_int_equal(v->u.strs.n, 2);
	assert_true(str_eq(v->u.strs.items[1], "b"));
	free_req(r);

	/* no arguments: an empty object, not an absent one */
	r = parse(q, "{" WHO "," CALL "}");
	assert_non_null(r);
	assert_int_equal(r->req.args.type, TG_VALUE_OBJECT);
	assert_int_equal(r->req.args.u.tree.n, 0);
	free_req(r);

	/* args that are not an object are still invalid */
	assert_invalid(q, "{" WHO "," CALL ",\"args\":[1]}", "args must be an object");
	assert_invalid(q, "{" WHO "," CALL ",\"args\":\"x\"}", "args must be an object");

	/* every argument is read: limits and NFC apply to all of them */
	assert_invalid(q, "{" WHO "," CALL ",\"args\":{\"deep\":[{\"s\":\"cafe\\u0301\"}]}}",
		       "is not in Unicode NFC");

	/* text and tree give the same request */
	{
		json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
		tg_json_request a, b;
		char d1[65], d2[65], err2[512];

		assert_non_null(root);
		assert_int_equal(tg_json_request_parse(q, text, strlen(text), &a, err, sizeof err), 0);
		assert_int_equal(tg_json_request_from_json(q, root, &b, err2, sizeof err2), 0);
		json_decref(root);
		assert_int_equal(b.req.args.u.tree.n, 9);
		tg_request_digest(&a.req, d1);
		tg_request_digest(&b.req, d2);
		assert_string_equal(d1, d2);
		tg_json_request_free(&a);
		tg_json_request_free(&b);
	}
	tg_policy_free(q);

	/* without the quantifier: no tree, unread arguments go by */
	r = parse(*state, text);
	assert_non_null(r);
	assert_int_equal(r->req.args.type, TG_VALUE_ABSENT);
	free_req(r);
}

/* Types the JSON text of args.any. */
static tg_value_type any_type(const tg_policy *p, const char *value)
{
	char text[256];
	tg_json_request *r;
	tg_value_type t;

	snprintf(text, sizeof text, "{" WHO "," CALL ",\"args\":{\"any\":%s}}", value);
	r = parse(p, text);
	if (!r)
		fail_msg("%s: %s", value, err);
	t = slot(p, r, "args.any")->type;
	free_req(r);
	return t;
}

static void test_number_typing(void **state)
{
	const tg_policy *p = *state;
	tg_json_request *r;

	assert_int_equal(any_type(p, "1"), TG_VALUE_INT);
	assert_int_equal(any_type(p, "-0"), TG_VALUE_INT);
	assert_int_equal(any_type(p, "9223372036854775807"), TG_VALUE_INT);
	assert_int_equal(any_type(p, "-9223372036854775808"), TG_VALUE_INT);
	assert_int_equal(any_type(p, "9223372036854775808"), TG_VALUE_OTHER);
	assert_int_equal(any_type(p, "-9223372036854775809"), TG_VALUE_OTHER);
	assert_int_equal(any_type(p, "100000000000000000000000000000000"), TG_VALUE_OTHER);
	assert_int_equal(any_type(p, "1.0"), TG_VALUE_OTHER);
	assert_int_equal(any_type(p, "1e2"), TG_VALUE_OTHER);
	assert_int_equal(any_type(p, "1E+2"), TG_VALUE_OTHER);
	assert_int_equal(any_type(p, "1e400"), TG_VALUE_OTHER);
	assert_int_equal(any_type(p, "-1e400"), TG_VALUE_OTHER);
	assert_int_equal(any_type(p, "[1, 99999999999999999999]"), TG_VALUE_ARRAY);
	assert_int_equal(any_type(p, "null"), TG_VALUE_OTHER);
	assert_int_equal(any_type(p, "{}"), TG_VALUE_OBJECT);
	assert_int_equal(any_type(p, "\"99999999999999999999\""), TG_VALUE_STRING);
	assert_int_equal(any_type(p, "true"), TG_VALUE_BOOL);

	r = parse(p, "{" WHO "," CALL ",\"args\":{\"any\":-9223372036854775808,"
		     "\"n\":9223372036854775807}}");
	assert_non_null(r);
	assert_true(slot(p, r, "args.any")->u.i == INT64_MIN);
	assert_true(slot(p, r, "args.n")->u.i == INT64_MAX);
	free_req(r);
}

/* The reader's own lexer: every escape decodes to its character (the
 * decoded string is what a rule reads), escapes and raw bytes mix, and
 * what RFC 8259 does not allow is malformed. */
static void test_lexer_escapes(void **state)
{
	static const char *const malformed[] = {
		"\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"a\x01\"", "\"abc", "\"a\\", "tru",
		"nul", "[1 2]", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "{1:2}", "-a", "1e", "1e+",
		".5", "+1", "\"\\U0041\"",
	};
	const tg_policy *p = *state;
	char text[256];
	tg_json_request *r;
	const tg_value *v;
	size_t i;

	r = parse(p, "{" WHO "," CALL ",\"args\":{\"s\":\"x\",\"any\":"
		     "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00 \xc3\xa9\"}}");
	assert_non_null(r);
	v = slot(p, r, "args.any");
	assert_int_equal(v->type, TG_VALUE_STRING);
	assert_true(str_eq(v->u.s, "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xc3\xa9"));
	free_req(r);
	/* An escaped key is the key it spells, for slots as for duplicates. */
	r = parse(p, "{" WHO "," CALL ",\"args\":{\"\\u0073\":\"x\", \"n\" : 1 }}\r\n\t ");
	assert_non_null(r);
	assert_true(str_eq(slot(p, r, "args.s")->u.s, "x"));
	free_req(r);
	for (i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
		snprintf(text, sizeof text, "{" WHO "," CALL ",\"args\":{\"x\":%s}}", malformed[i]);
		assert_invalid(p, text, "malformed JSON at line 1");
	}
	/* A grammar error in a string wins over bad UTF-8 before it; an escaped
	 * lone surrogate over raw bad UTF-8. */
	assert_invalid(p, "{" WHO "," CALL ",\"args\":{\"x\":\"\xff\\q\"}}", "malformed JSON");
	assert_invalid(p, "{" WHO "," CALL ",\"args\":{\"x\":\"\xff\\u0000\"}}",
		       "a string contains U+0000");
	assert_invalid(p, "{" WHO ",\n" CALL ",\n\"args\":{\"x\":[1,]}}", "malformed JSON at line 3");
}

static void test_list_typing(void **state)
{
	const tg_policy *p = *state;
	tg_json_request *r;
	const tg_value *v;

	assert_int_equal(any_type(p, "[\"a\",\"b\"]"), TG_VALUE_STRING_LIST);
	assert_int_equal(any_type(p, "[1,2]"), TG_VALUE_INT_LIST);
	assert_int_equal(any_type(p, "[1,\"a\"]"), TG_VALUE_ARRAY);
	assert_int_equal(any_type(p, "[1,2.5]"), TG_VALUE_ARRAY);
	assert_int_equal(any_type(p, "[true]"), TG_VALUE_ARRAY);
	assert_int_equal(any_type(p, "[[1]]"), TG_VALUE_ARRAY);
	assert_int_equal(any_type(p, "[]"), TG_VALUE_STRING_LIST);

	r = parse(p, "{" WHO "," CALL ",\"args\":{\"il\":[],\"sl\":[],"
		     "\"any\":[-1,0,9223372036854775807]}}");
	assert_non_null(r);
	assert_int_equal(slot(p, r, "args.il")->type, TG_VALUE_INT_LIST);
	assert_int_equal(slot(p, r, "args.il")->u.ints.n, 0);
	assert_int_equal(slot(p, r, "args.sl")->type, TG_VALUE_STRING_LIST);
	v = slot(p, r, "args.any");
	assert_int_equal(v->type, TG_VALUE_INT_LIST);
	assert_int_equal(v->u.ints.n, 3);
	assert_true(v->u.ints.items[0] == -1 && v->u.ints.items[2] == INT64_MAX);
	free_req(r);
}

static void test_slot_filling(void **state)
{
	const tg_policy *p = *state;
	tg_json_request *r;
	const tg_value *v;

	r = parse(p, "{\"principal\":{\"id\":\"a\",\"tenant\":\"acme\"},"
		     "\"token\":{\"exp\":5},\"context\":{\"x\":false}," CALL ","
		     "\"args\":{\"s\":\"hi\",\"o\":{\"p\":[\"q\"]},\"sl\":[\"a\",\"b\"]}}");
	assert_non_null(r);
	v = slot(p, r, "principal.tenant");
	assert_int_equal(v->type, TG_VALUE_STRING);
	assert_true(str_eq(v->u.s, "acme"));
	v = slot(p, r, "token.exp");
	assert_int_equal(v->type, TG_VALUE_INT);
	assert_true(v->u.i == 5);
	v = slot(p, r, "context.x");
	assert_int_equal(v->type, TG_VALUE_BOOL);
	assert_false(v->u.b);
	v = slot(p, r, "args.s");
	assert_true(str_eq(v->u.s, "hi"));
	v = slot(p, r, "args.o.p");
	assert_int_equal(v->type, TG_VALUE_STRING_LIST);
	assert_int_equal(v->u.strs.n, 1);
	assert_true(str_eq(v->u.strs.items[0], "q"));
	v = slot(p, r, "args.sl");
	assert_int_equal(v->u.strs.n, 2);
	assert_true(str_eq(v->u.strs.items[1], "b"));
	assert_int_equal(slot(p, r, "args.n")->type, TG_VALUE_ABSENT);
	assert_int_equal(slot(p, r, "args.b")->type, TG_VALUE_ABSENT);
	free_req(r);

	/* A path through a non-object is absent; the object itself a tree. */
	r = parse(p, "{" WHO "," CALL ",\"args\":{\"o\":\"flat\"}}");
	assert_non_null(r);
	assert_int_equal(slot(p, r, "args.o.p")->type, TG_VALUE_ABSENT);
	assert_int_equal(slot(p, r, "principal.tenant")->type, TG_VALUE_ABSENT);
	free_req(r);
	r = parse(p, "{" WHO "," CALL ",\"args\":{\"o\":{\"p\":{\"z\":1}}}}");
	assert_non_null(r);
	assert_int_equal(slot(p, r, "args.o.p")->type, TG_VALUE_OBJECT);
	free_req(r);
}

/* Objects and mixed arrays arrive as borrowed preorder trees: every member,
 * in document order, arrays kept as arrays, keys only inside objects. */
static void test_nested_trees(void **state)
{
	const tg_policy *p = *state;
	tg_json_request *r;
	const tg_value *v;
	const tg_node *n;

	r = parse(p, "{" WHO "," CALL ",\"args\":{\"any\":[{\"sub\":\"u1\",\"scope\":[\"a\",1]},"
		     "7,null],\"o\":{\"p\":{}}}}");
	assert_non_null(r);
	v = slot(p, r, "args.any");
	assert_int_equal(v->type, TG_VALUE_ARRAY);
	assert_int_equal(v->u.tree.n, 7);
	n = v->u.tree.nodes;
	assert_null(n[0].key.ptr);
	assert_int_equal(n[0].value.type, TG_VALUE_OBJECT);
	assert_int_equal(n[0].value.u.tree.n, 4);
	assert_ptr_equal(n[0].value.u.tree.nodes, &n[1]);
	assert_true(str_eq(n[1].key, "sub"));
	assert_true(str_eq(n[1].value.u.s, "u1"));
	assert_true(str_eq(n[2].key, "scope"));
	assert_int_equal(n[2].value.type, TG_VALUE_ARRAY);
	assert_int_equal(n[2].value.u.tree.n, 2);
	assert_int_equal(n[3].value.type, TG_VALUE_STRING);
	assert_null(n[3].key.ptr);
	assert_int_equal(n[4].value.type, TG_VALUE_INT);
	assert_int_equal(n[5].value.type, TG_VALUE_INT);
	assert_true(n[5].value.u.i == 7);
	assert_int_equal(n[6].value.type, TG_VALUE_OTHER);
	v = slot(p, r, "args.o.p");
	assert_int_equal(v->type, TG_VALUE_OBJECT);
	assert_int_equal(v->u.tree.n, 0);
	/* The runtime accepts the trees it was handed. */
	assert_int_equal(tg_request_check(&r->req, NULL), TG_OK);
	free_req(r);
}

/* ---- the decision writer ------------------------------------------------ */

static void assert_json(const tg_decision *d, const char *want)
{
	char *got = tg_decision_to_json(d);

	assert_non_null(got);
	assert_string_equal(got, want);
	/* Whatever it writes is JSON. */
	json_t *back = json_loads(got, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(back);
	json_decref(back);
	free(got);
}

static void test_decision_json(void **state)
{
	tg_decision d;

	(void)state;
	memset(&d, 0, sizeof d);
	d.effect = TG_ALLOW;
	d.rule_id = "eng-sql";
	d.rule_index = 3;
	assert_json(&d, "{\"decision\":\"allow\",\"rule\":\"eng-sql\",\"reason\":null,"
			"\"errors\":[]}");

	memset(&d, 0, sizeof d);
	d.effect = TG_DENY;
	d.rule_index = TG_NO_RULE;
	assert_json(&d, "{\"decision\":\"deny\",\"rule\":null,\"reason\":null,\"errors\":[]}");

	d.rule_id = "no \"prod\"";
	d.reason = "tab\there\nline \\ \x01 caf\xc3\xa9 bad\xff";
	d.nerrors = 2;
	d.errors[0].rule_id = "a";
	strcpy(d.errors[0].message, "'context.tenant' is absent");
	d.errors[1].rule_id = "p.tg:3";
	strcpy(d.errors[1].message, "overflow");
	assert_json(&d, "{\"decision\":\"deny\",\"rule\":\"no \\\"prod\\\"\","
			"\"reason\":\"tab\\there\\nline \\\\ \\u0001 caf\xc3\xa9 bad\\ufffd\","
			"\"errors\":[{\"rule\":\"a\",\"message\":\"'context.tenant' is absent\"},"
			"{\"rule\":\"p.tg:3\",\"message\":\"overflow\"}]}");
}

static void test_invalid_decision_json(void **state)
{
	tg_decision d;

	(void)state;
	tg_decision_set_invalid(&d, "invalid request: missing method");
	assert_json(&d, "{\"decision\":\"deny\",\"rule\":null,"
			"\"reason\":\"invalid request: missing method\",\"errors\":[],"
			"\"invalid\":true}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_fields),
		cmocka_unit_test(test_optional_fields),
		cmocka_unit_test(test_no_policy),
		cmocka_unit_test(test_unknown_top_level_key),
		cmocka_unit_test(test_principal_id),
		cmocka_unit_test(test_method),
		cmocka_unit_test(test_target_required),
		cmocka_unit_test(test_roles_and_scopes),
		cmocka_unit_test(test_tool_annotations),
		cmocka_unit_test(test_sections_are_objects),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_nul_and_utf8),
		cmocka_unit_test(test_nul_and_utf8_in_trees),
		cmocka_unit_test(test_resource_uris),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_yajl_gaps),
		cmocka_unit_test(test_lexer_escapes),
		cmocka_unit_test(test_numbers_as_text),
		cmocka_unit_test(test_nfc),
		cmocka_unit_test(test_text_and_tree_agree),
		cmocka_unit_test(test_unread_values_unlimited),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_string_limit),
		cmocka_unit_test(test_list_limit),
		cmocka_unit_test(test_number_typing),
		cmocka_unit_test(test_list_typing),
		cmocka_unit_test(test_slot_filling),
		cmocka_unit_test(test_nested_trees),
		cmocka_unit_test(test_args_tree),
		cmocka_unit_test(test_decision_json),
		cmocka_unit_test(test_invalid_decision_json),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
