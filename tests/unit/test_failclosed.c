/*
 * test_failclosed.c - every error path of the runtime ends in deny, with a
 * precise error.
 *
 * Conditions: an absent attribute, a type mismatch (declared and inferred),
 * an integer overflow, an unclean path, an absent client id; more errors
 * than a decision lists (the truncated flag). Requests: every invalid shape
 * the C API can be handed, values that are oversized or truncated (a length
 * without bytes), and JSON request text that is cut short or too big.
 * Bytecode: one example of every load status, and code the verifier would
 * refuse planted behind its back (the interpreter's own guards). Memory:
 * every allocation the loader makes is failed in turn.
 *
 * Allocation failure is injected with the linker's --wrap (tests/
 * CMakeLists.txt links this test with -Wl,--wrap=malloc,calloc,realloc):
 * calls to malloc from the runtime library land in __wrap_malloc below, which
 * fails the Nth call while armed and otherwise forwards to the real one. The
 * __wrap_/__real_ names are the linker's convention, not ours to choose.
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
#include "stages.h"
#include "format.h"
#include "policy.h"
#include "request_json.h"
#include "toolgate/toolgate.h"

/* ---- allocation failure injection --------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

static long fail_at = -1;	/* fail the call with this number; -1 disarmed */
static long ncalls;		/* calls counted since arming */

static bool should_fail(void)
{
	if (fail_at < 0)
		return false;
	return ncalls++ == fail_at;
}

void *__wrap_malloc(size_t n)
{
	return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	return should_fail() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : __real_realloc(p, n);
}

static void arm(long n)
{
	ncalls = 0;
	fail_at = n;
}

static void disarm(void)
{
	fail_at = -1;
}

/* ---- helpers ------------------------------------------------------------- */

static unsigned char *compile(const char *src, size_t *len)
{
	tg_arena arena;
	tg_diags diags;
	unsigned char *code = NULL;

	tg_arena_init(&arena);
	tg_diags_init(&diags, &arena);
	tg_ast *ast = tg_parse(&arena, "failclosed.tg", src, strlen(src), &diags);
	assert_non_null(ast);
	if (diags.nerrors == 0 && tg_check(ast, &diags))
		assert_true(tg_codegen(ast, &diags, &code, len));
	if (diags.nerrors)
		tg_diags_print(stderr, "failclosed.tg", src, strlen(src), &diags);
	assert_int_equal(diags.nerrors, 0);
	tg_arena_free(&arena);
	return code;
}

static tg_policy *load(const char *src)
{
	size_t len;
	unsigned char *code = compile(src, &len);
	tg_policy *p = NULL;
	tg_load_diag err;
	assert_int_equal(tg_policy_load_diag(code, len, &p, &err), TG_OK);
	free(code);
	return p;
}

static tg_str S(const char *s)
{
	tg_str t = { s, strlen(s) };
	return t;
}

static tg_request base_request(void)
{
	tg_request r;
	tg_request_init(&r);
	r.principal_id = S("alice");
	r.method = S("tools/call");
	r.target = S("db.query");
	return r;
}

/* Slot values by display name, for a request against p. */
typedef struct slots {
	tg_value v[16];
} slots;

static void set_slot(const tg_policy *p, slots *s, tg_request *r, const char *name, tg_value v)
{
	uint32_t i;
	assert_int_equal(tg_policy_slot_find(p, name, &i), TG_OK);
	assert_true(i < 16);
	s->v[i] = v;
	r->slots = s->v;
	r->nslots = tg_policy_slot_count(p);
}

static tg_value vstr(const char *s)
{
	tg_value v;
	memset(&v, 0, sizeof v);
	v.type = TG_VALUE_STRING;
	v.u.s = S(s);
	return v;
}

static tg_value vint(int64_t i)
{
	tg_value v;
	memset(&v, 0, sizeof v);
	v.type = TG_VALUE_INT;
	v.u.i = i;
	return v;
}

/* Evaluates and checks a deny by `rule` (NULL: the default) whose first
 * error is `msg` (NULL: no error). */
static void expect_deny(const tg_policy *p, const tg_request *r, const char *rule, const char *msg)
{
	tg_decision d;
	assert_int_equal(tg_eval(p, r, &d), TG_OK);
	assert_int_equal(d.effect, TG_DENY);
	assert_false(d.invalid);
	if (rule)
		assert_string_equal(d.rule_id, rule);
	else
		assert_null(d.rule_id);
	if (msg) {
		assert_true(d.nerrors >= 1);
		assert_string_equal(d.errors[0].message, msg);
	} else {
		assert_int_equal(d.nerrors, 0);
	}
}

/* ---- conditions that cannot be evaluated ---------------------------------- */

static const char *guard_src =
	"attribute context.environment: string;\n"
	"attribute token.exp: int;\n"
	"rule \"env\": deny anyone to call tool \"db.*\" when context.environment == \"prod\";\n"
	"rule \"limit\": allow anyone to call tool \"db.query\" when args.limit < 10;\n"
	"rule \"exp\": deny anyone to call tool \"svc.*\" when token.exp - context.time > 900;\n"
	"rule \"path\": deny anyone to call tool \"fs.*\" unless args.path under \"/srv\";\n"
	"rule \"client\": deny client \"old-app\" to call tool \"fs.*\";\n"
	"allow anyone to call tool \"fs.*\", \"svc.*\";\n";

static void absent_attribute(void **state)
{
	(void)state;
	tg_policy *p = load(guard_src);
	tg_request r = base_request();
	expect_deny(p, &r, "env", "'context.environment' is absent");
	tg_policy_free(p);
}

static void type_mismatch(void **state)
{
	(void)state;
	tg_policy *p = load(guard_src);
	tg_request r = base_request();
	slots s;
	memset(&s, 0, sizeof s);
	/* Declared string, given an int: the deny applies. */
	set_slot(p, &s, &r, "context.environment", vint(3));
	expect_deny(p, &r, "env", "'context.environment' is not a string");
	/* Undeclared, inferred int, given a string: the allow does not. */
	set_slot(p, &s, &r, "context.environment", vstr("dev"));
	set_slot(p, &s, &r, "args.limit", vstr("5"));
	expect_deny(p, &r, NULL, "'args.limit' is a string, expected an int");
	/* A value of no policy type. */
	tg_value other;
	memset(&other, 0, sizeof other);
	other.type = TG_VALUE_OTHER;
	set_slot(p, &s, &r, "args.limit", other);
	expect_deny(p, &r, NULL, "'args.limit' is a value of another type, expected an int");
	/* Sanity: a well-typed request is allowed. */
	set_slot(p, &s, &r, "args.limit", vint(5));
	tg_decision d;
	assert_int_equal(tg_eval(p, &r, &d), TG_OK);
	assert_int_equal(d.effect, TG_ALLOW);
	tg_policy_free(p);
}

static void overflow_and_paths(void **state)
{
	(void)state;
	tg_policy *p = load(guard_src);
	tg_request r = base_request();
	slots s;
	memset(&s, 0, sizeof s);
	r.target = S("svc.x");
	set_slot(p, &s, &r, "token.exp", vint(INT64_MIN));
	set_slot(p, &s, &r, "context.time", vint(1));
	expect_deny(p, &r, "exp", "integer overflow in '-'");

	r.target = S("fs.read");
	set_slot(p, &s, &r, "args.path", vstr("/srv/../etc/passwd"));
	expect_deny(p, &r, "path", "'args.path' is not a clean absolute path");
	set_slot(p, &s, &r, "args.path", vstr("srv/a"));
	expect_deny(p, &r, "path", "'args.path' is not a clean absolute path");

	/* A `deny client` rule applies, with an error, when there is no client. */
	set_slot(p, &s, &r, "args.path", vstr("/srv/a"));
	expect_deny(p, &r, "client", "'token.client_id' is absent");
	r.client_id = S("new-app");
	tg_decision d;
	assert_int_equal(tg_eval(p, &r, &d), TG_OK);
	assert_int_equal(d.effect, TG_ALLOW);
	tg_policy_free(p);
}

/* An argument whose name is not a word is named as the policy spells it,
 * args["..."], with `"`, `\\`, newline, tab and other control bytes
 * escaped so that the message stays one line a reader can copy back. The
 * compiler spells a slot's name (resolve.c), the runtime a value
 * quantifier's path (values.c tg_args_name): the same text either way. */
static void quoted_argument_names(void **state)
{
	(void)state;
	static const struct {
		const char *key, *message;	/* key: as the policy spells it */
	} cases[] = {
		{ "content-type", "'args.opts[\"content-type\"]' is absent" },
		{ "a\\\"b", "'args.opts[\"a\\\"b\"]' is absent" },
		{ "x\\\\y", "'args.opts[\"x\\\\y\"]' is absent" },
		{ "line\\nnext\\ttab", "'args.opts[\"line\\nnext\\ttab\"]' is absent" },
		{ "bell\\u{7}del\\u{7f}esc\\u{1b}", "'args.opts[\"bell\\u{7}del\\u{7f}esc\\u{1b}\"]' is absent" },
		{ "caf\\u{e9}", "'args.opts[\"caf\xc3\xa9\"]' is absent" },
	};
	static const char *const forms[][2] = { { "", " == 1" },
						{ "any value of ", " contains \"x\"" } };
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
			char src[256];
			snprintf(src, sizeof src,
				 "rule \"q\": deny anyone to call tool \"db.query\" when "
				 "%sargs.opts[\"%s\"]%s;\n",
				 forms[f][0], cases[i].key, forms[f][1]);
			tg_policy *p = load(src);
			tg_request r = base_request();
			expect_deny(p, &r, "q", cases[i].message);
			tg_policy_free(p);
		}
	}
}

/* A message longer than a decision keeps is cut, still NUL-terminated. */
static void long_message(void **state)
{
	(void)state;
	char key[151], src[512], full[256];
	tg_decision d;
	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = 0;
	snprintf(src, sizeof src,
		 "rule \"q\": deny anyone to call tool \"db.query\" when args.%s == 1;\n", key);
	tg_policy *p = load(src);
	tg_request r = base_request();
	assert_int_equal(tg_eval(p, &r, &d), TG_OK);
	assert_int_equal(d.effect, TG_DENY);
	assert_true(d.by_error);
	snprintf(full, sizeof full, "'args.%s' is absent", key);
	size_t keep = sizeof d.errors[0].message - 1;
	assert_true(strlen(full) > keep);
	assert_int_equal(strlen(d.errors[0].message), keep);
	assert_memory_equal(d.errors[0].message, full, keep);
	tg_policy_free(p);
}

/* n allow rules that all fail on an absent attribute. */
static char *erring_rules(int n)
{
	size_t cap = (size_t)n * 80 + 64;
	char *src = malloc(cap), *at = src;
	assert_non_null(src);
	for (int i = 0; i < n; i++)
		at += sprintf(at, "rule \"r%02d\": allow anyone to call any tool when args.x == %d;\n",
			      i, i);
	return src;
}

static void too_many_errors(void **state)
{
	(void)state;
	int counts[] = { TG_DECISION_MAX_ERRORS, TG_DECISION_MAX_ERRORS + 1, 40 };
	for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
		char *src = erring_rules(counts[k]);
		tg_policy *p = load(src);
		free(src);
		tg_request r = base_request();
		tg_decision d;
		assert_int_equal(tg_eval(p, &r, &d), TG_OK);
		assert_int_equal(d.effect, TG_DENY);
		assert_null(d.rule_id);
		assert_int_equal(d.nerrors, (size_t)counts[k]);
		assert_int_equal(d.truncated, counts[k] > TG_DECISION_MAX_ERRORS);
		for (int i = 0; i < TG_DECISION_MAX_ERRORS; i++) {
			char id[8];
			snprintf(id, sizeof id, "r%02d", i);
			assert_string_equal(d.errors[i].rule_id, id);
			assert_string_equal(d.errors[i].message, "'args.x' is absent");
		}
		tg_policy_free(p);
	}
}

/* ---- invalid requests ------------------------------------------------------ */

static void expect_invalid(const tg_policy *p, const tg_request *r, const char *why)
{
	tg_decision d;
	bool vis = true;
	tg_entry e;

	assert_int_equal(tg_eval(p, r, &d), TG_EINVALID_REQUEST);
	assert_int_equal(d.effect, TG_DENY);
	assert_true(d.invalid);
	assert_null(d.rule_id);
	assert_string_equal(d.reason, why);
	tg_entry_init(&e);
	e.kind = TG_ENTRY_TOOL;
	e.name = S("db.query");
	if (tg_visible(p, r, &e, &vis) != TG_OK)
		assert_false(vis);
}

static void invalid_requests(void **state)
{
	(void)state;
	tg_policy *p = load("default allow;\nallow anyone to do anything;\n");
	tg_request r;
	static char big[TG_MAX_STRING_BYTES + 1];
	static tg_str many[TG_MAX_LIST_ITEMS + 1];
	static int64_t ints[TG_MAX_LIST_ITEMS + 1];
	tg_value v[1];
	memset(big, 'a', sizeof big);
	for (size_t i = 0; i < TG_MAX_LIST_ITEMS + 1; i++)
		many[i] = S("x");

	r = base_request();
	r.principal_id.ptr = NULL;
	expect_invalid(p, &r, "invalid request: missing principal.id");
	r = base_request();
	r.method.ptr = NULL;
	expect_invalid(p, &r, "invalid request: missing method");
	r = base_request();
	r.target.ptr = NULL;
	expect_invalid(p, &r, "invalid request: missing target for this method");
	r = base_request();
	r.target.ptr = big;
	r.target.len = sizeof big;
	expect_invalid(p, &r, "invalid request: a string is longer than 64 KiB");
	r.target.len = sizeof big - 1;	/* exactly at the limit: fine */
	tg_decision d;
	assert_int_equal(tg_eval(p, &r, &d), TG_OK);
	assert_int_equal(d.effect, TG_ALLOW);
	r = base_request();
	r.target = S("db.\xc3(");
	expect_invalid(p, &r, "invalid request: a string contains U+0000 or is not valid UTF-8");
	r.target.ptr = "db\0x";
	r.target.len = 4;
	expect_invalid(p, &r, "invalid request: a string contains U+0000 or is not valid UTF-8");
	/* A truncated value: a length without bytes. */
	r = base_request();
	r.principal_id.ptr = NULL;
	r.principal_id.len = 3;
	expect_invalid(p, &r, "invalid request: missing principal.id");
	r = base_request();
	memset(v, 0, sizeof v);
	v[0].type = TG_VALUE_STRING;
	v[0].u.s.len = 5;	/* ptr NULL */
	r.slots = v;
	r.nslots = 1;
	expect_invalid(p, &r, "invalid request: a string has no bytes");
	v[0].type = TG_VALUE_STRING_LIST;
	v[0].u.strs.items = NULL;
	v[0].u.strs.n = 2;
	expect_invalid(p, &r, "invalid request: an attribute list has no elements array");
	v[0].u.strs.items = many;
	v[0].u.strs.n = TG_MAX_LIST_ITEMS + 1;
	expect_invalid(p, &r, "invalid request: a list has more than 4096 elements");
	v[0].type = TG_VALUE_INT_LIST;
	v[0].u.ints.items = ints;
	v[0].u.ints.n = TG_MAX_LIST_ITEMS + 1;
	expect_invalid(p, &r, "invalid request: a list has more than 4096 elements");
	v[0].type = (tg_value_type)42;
	expect_invalid(p, &r, "invalid request: an attribute value has an unknown type");
	r.slots = NULL;
	expect_invalid(p, &r, "invalid request: slot values missing");
	r = base_request();
	r.roles = many;
	r.nroles = TG_MAX_LIST_ITEMS + 1;
	expect_invalid(p, &r, "invalid request: a list has more than 4096 elements");
	r.roles = NULL;
	r.nroles = 1;
	expect_invalid(p, &r, "invalid request: roles has no elements array");
	r = base_request();
	r.destructive = (tg_hint)7;
	expect_invalid(p, &r, "invalid request: a tool annotation is not a boolean");
	r = base_request();
	r.method = S("resources/read");
	r.target = S("file:///srv/../etc/passwd");
	expect_invalid(p, &r, "invalid request: resource URI has a '.' or '..' segment");
	r.target = S("file:///srv/%2e%2E/etc");
	expect_invalid(p, &r,
		       "invalid request: resource URI has a percent-encoded '/', '\\', '.' or '%'");
	r = base_request();
	r.flags = TG_REQUEST_VALIDATED | 0x2;
	expect_invalid(p, &r, "invalid request: tg_request.flags has unknown flags");
	/* The whole `args` tree: members it counts but does not have, one
	 * member too many. */
	static tg_node members[TG_MAX_LIST_ITEMS + 1];
	for (size_t i = 0; i < TG_MAX_LIST_ITEMS + 1; i++) {
		members[i].key = S("k");
		members[i].value.type = TG_VALUE_INT;
	}
	r = base_request();
	r.args.type = TG_VALUE_OBJECT;
	r.args.u.tree.n = 1;
	expect_invalid(p, &r, "invalid request: a nested value has no nodes");
	r.args.u.tree.nodes = members;
	r.args.u.tree.n = TG_MAX_LIST_ITEMS + 1;
	expect_invalid(p, &r, "invalid request: a list has more than 4096 elements");
	r.args.u.tree.n = TG_MAX_LIST_ITEMS;	/* at the limit: fine */
	assert_int_equal(tg_eval(p, &r, &d), TG_OK);
	assert_int_equal(d.effect, TG_ALLOW);
	tg_policy_free(p);
}

static void null_arguments(void **state)
{
	(void)state;
	tg_policy *p = load("default allow;\n");
	tg_request r = base_request();
	tg_decision d;
	bool vis = true;
	tg_entry e;

	memset(&d, 0xFF, sizeof d);
	assert_int_equal(tg_eval(NULL, &r, &d), TG_EINVAL);
	assert_int_equal(d.effect, TG_DENY);
	memset(&d, 0xFF, sizeof d);
	assert_int_equal(tg_eval(p, NULL, &d), TG_EINVAL);
	assert_int_equal(d.effect, TG_DENY);
	assert_int_equal(tg_eval(p, &r, NULL), TG_EINVAL);
	tg_entry_init(&e);
	e.kind = TG_ENTRY_TOOL;
	e.name = S("a");
	assert_int_equal(tg_visible(NULL, &r, &e, &vis), TG_EINVAL);
	assert_false(vis);
	vis = true;
	e.kind = (tg_entry_kind)9;
	assert_int_equal(tg_visible(p, &r, &e, &vis), TG_EINVAL);
	assert_false(vis);
	tg_policy_free(p);
}

/* JSON request text that is cut short, too big or otherwise unreadable
 * never becomes a request. */
static void unreadable_json(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"principal\":{\"id\":\"a\"},\"method\":\"tools/ca",
		"{\"principal\":{\"id\":\"a\"},\"method\":\"tools/call\",\"target\":\"x\"",
		"",
		"[]",
		"{\"principal\":{\"id\":\"a\"},\"method\":\"tools/call\",\"target\":\"x\",\"target\":\"y\"}",
		"{\"principal\":{\"id\":\"a\",\"roles\":\"admin\"},\"method\":\"tools/list\"}",
		("{\"principal\":{\"id\":\"a\"},\"method\":\"tools/call\",\"target\":\"x\","
		 "\"tool\":{\"destructive\":1}}"),
		"{\"principal\":{\"id\":\"a\\u0000\"},\"method\":\"tools/list\"}",
		"{\"principal\":{\"id\":\"a\"},\"method\":\"tools/list\",\"extra\":1}",
	};
	tg_policy *p = load("default allow;\n");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tg_json_request r;
		char err[256] = "";
		assert_int_equal(tg_json_request_parse(p, bad[i], strlen(bad[i]), &r, err, sizeof err),
				 -1);
		assert_memory_equal(err, "invalid request: ", 17);
		tg_json_request_free(&r);
		tg_decision d;
		tg_decision_set_invalid(&d, err);
		assert_int_equal(d.effect, TG_DENY);
		assert_true(d.invalid);
	}
	/* Over the body limit. */
	size_t n = TG_JSON_MAX_BODY + 1;
	char *body = malloc(n);
	assert_non_null(body);
	memset(body, ' ', n);
	memcpy(body, "{\"principal\":{\"id\":\"a\"},\"method\":\"tools/list\"}", 46);
	tg_json_request r;
	char err[256] = "";
	assert_int_equal(tg_json_request_parse(p, body, n, &r, err, sizeof err), -1);
	assert_string_equal(err, "invalid request: the request is larger than 1048576 bytes");
	tg_json_request_free(&r);
	free(body);
	tg_policy_free(p);
}

/* ---- bad bytecode ------------------------------------------------------------ */

static unsigned char *good_code(size_t *len)
{
	return compile("policy \"p\";\nattribute args.n: int;\n"
		       "rule \"a\": allow anyone to call tool \"x.*\" when args.n + 1 > 2;\n",
		       len);
}

static void reseal(unsigned char *b, size_t len)
{
	tg_wr32(b + TG_HDR_TOTAL_LEN, (uint32_t)len);
	tg_wr32(b + TG_HDR_CHECKSUM, tg_bc_checksum(b, len));
}

static uint32_t section_off(const unsigned char *b, unsigned kind)
{
	uint32_t hlen = tg_rd32(b + TG_HDR_HEADER_LEN);
	for (unsigned i = 0; i < tg_rd32(b + TG_HDR_NSECTIONS); i++) {
		const unsigned char *e = b + hlen + i * TG_BC_SECTION_ENTRY;
		if (tg_rd32(e) == kind)
			return tg_rd32(e + 4);
	}
	fail_msg("no section %u", kind);
	return 0;
}

static void expect_load(const unsigned char *b, size_t len, tg_status want, const char *reason)
{
	tg_policy *sentinel = (tg_policy *)&sentinel, *p = sentinel;
	tg_load_diag err;
	assert_int_equal(tg_policy_load_diag(b, len, &p, &err), want);
	assert_ptr_equal(p, sentinel);
	assert_int_equal(err.status, want);
	if (strstr(err.reason, reason) == NULL)
		fail_msg("reason '%s' does not contain '%s'", err.reason, reason);
}

static void bad_bytecode(void **state)
{
	(void)state;
	size_t len;
	unsigned char *orig = good_code(&len);
	unsigned char *b = malloc(len);
	assert_non_null(b);
	tg_policy *p = NULL;

	assert_int_equal(tg_policy_load(NULL, 0, &p, NULL), TG_EINVAL);
	assert_int_equal(tg_policy_load(orig, len, NULL, NULL), TG_EINVAL);
	expect_load(orig, 0, TG_ETRUNCATED, "truncated: 0 bytes");
	expect_load((const unsigned char *)"#!/bin/sh\n", 10, TG_EBADMAGIC, "bad magic");
	expect_load(orig, 40, TG_ETRUNCATED, "the header alone needs 88");
	expect_load(orig, len - 1, TG_ETRUNCATED, "truncated: header says");

	memcpy(b, orig, len);
	b[len - 1] ^= 1;
	expect_load(b, len, TG_ECHECKSUM, "checksum mismatch");

	memcpy(b, orig, len);
	tg_wr16(b + TG_HDR_MAJOR, 2);
	tg_wr16(b + TG_HDR_MINOR, 0);
	reseal(b, len);
	expect_load(b, len, TG_EVERSION, "format version 2.0 is not supported");

	memcpy(b, orig, len);
	tg_wr32(b + TG_HDR_MAX_INSNS_HI, 1);	/* a 1.1 file: no high half */
	reseal(b, len);
	expect_load(b, len, TG_EMALFORMED, "reserved header field is not zero");

	memcpy(b, orig, len);
	tg_wr32(b + TG_HDR_MAX_STACK, TG_BC_MAX_STACK + 1);
	reseal(b, len);
	expect_load(b, len, TG_ELIMIT, "exceeds the runtime limit 32");

	memcpy(b, orig, len);
	tg_wr32(b + TG_HDR_MAX_INSNS, tg_rd32(b + TG_HDR_MAX_INSNS) - 1);
	reseal(b, len);
	expect_load(b, len, TG_EVERIFY, "header declares");

	uint32_t code = section_off(orig, TG_SEC_CODE);
	memcpy(b, orig, len);
	b[code] = 0xEE;
	reseal(b, len);
	expect_load(b, len, TG_EVERIFY, "unknown opcode 0xee at pc 0");
	tg_load_diag err;
	assert_int_equal(tg_policy_load_diag(b, len, &p, &err), TG_EVERIFY);
	assert_int_equal(err.pc, 0);
	assert_int_equal(err.offset, code);

	assert_int_equal(tg_policy_load_file_diag("/nonexistent/policy.tgb", &p, &err), TG_EIO);
	assert_memory_equal(err.reason, "cannot open: ", 13);
	free(b);
	free(orig);
}

/* The interpreter's guards: code the verifier would have refused (here
 * AND on an empty stack), planted behind a verified policy's back, ends in
 * TG_EINTERNAL and a deny, never a crash. (The condition reads a context
 * attribute: one on args alone has a visibility value the loader knows
 * without running it; and a deny, since under `default allow` list
 * filtering skips allow rules.) */
/* orig with the `width`-byte little-endian field at off set to v, resealed,
 * must be refused with st and a reason containing `reason`. */
static void expect_patched(const unsigned char *orig, size_t len, size_t off, unsigned width,
			   uint32_t v, tg_status st, const char *reason)
{
	unsigned char *b = malloc(len);
	assert_non_null(b);
	memcpy(b, orig, len);
	if (width == 1)
		b[off] = (unsigned char)v;
	else if (width == 2)
		tg_wr16(b + off, (uint16_t)v);
	else
		tg_wr32(b + off, v);
	reseal(b, len);
	expect_load(b, len, st, reason);
	free(b);
}

/* The DFAS section of format 1.2: each table the walk indexes without a
 * check is refused when it could send the walk out of bounds. */
static void bad_dfa(void **state)
{
	(void)state;
	size_t len;
	unsigned char *orig = compile("rule \"r\": allow anyone to call tool \"t\"\n"
				      "  when args.id matches \"[a-c]+x?\";\n", &len);
	assert_int_equal(tg_rd16(orig + TG_HDR_MINOR), 2);
	assert_int_equal(tg_rd32(orig + TG_HDR_NSECTIONS), 10);
	uint32_t sec = section_off(orig, TG_SEC_DFAS);
	uint32_t data = sec + tg_rd32(orig + sec + 4);
	uint32_t ns = tg_rd32(orig + sec + 8), nc = tg_rd32(orig + sec + 12);
	assert_true(ns >= 2 && ns <= 8 && nc >= 2);
	size_t last = data + tg_bc_dfa_data_size(ns, nc) - 1;

	expect_patched(orig, len, data + 'b', 1, nc, TG_EMALFORMED, "maps byte 0x62 to class");
	/* transitions are row offsets: past the last row, or between rows */
	expect_patched(orig, len, data + 256 + 2 * (nc + 1), 2, ns * nc, TG_EMALFORMED,
		       "goes to row offset");
	expect_patched(orig, len, data + 256 + 2 * (nc + 1), 2, 1, TG_EMALFORMED, "not a state's");
	/* bit 31 of the last accepting word: a state past the last of a smaller DFA */
	expect_patched(orig, len, last, 1, orig[last] | 0x80u, TG_EMALFORMED,
		       "accepts a state past its last");
	expect_patched(orig, len, sec + 8, 4, 0, TG_ELIMIT, "has 0 states");
	expect_patched(orig, len, sec + 8, 4, TG_BC_DFA_MAX_STATES + 1, TG_ELIMIT, "at most 4096");
	expect_patched(orig, len, sec + 4, 4, tg_rd32(orig + sec + 4) + 4, TG_EMALFORMED,
		       "out of place");
	expect_patched(orig, len, sec, 4, 0x7FFFFFFF, TG_EMALFORMED, "has no pattern string");

	/* the MATCH operand names DFA 1 of 1 */
	uint32_t at = section_off(orig, TG_SEC_CODE);
	while (orig[at] != TG_OP_MATCH)
		at++;
	expect_patched(orig, len, at + 1, 4, 1, TG_EVERIFY, "MATCH at pc");

	/* a 1.2 file read as 1.1: the section count no longer fits */
	expect_patched(orig, len, TG_HDR_MINOR, 2, 1, TG_EMALFORMED,
		       "expected 9 sections in format 1.1");

	/* the cost of a MATCH is its subject's bytes: one less is refused */
	uint32_t cost = tg_rd32(orig + TG_HDR_MAX_INSNS);
	assert_int_equal(tg_rd32(orig + TG_HDR_MAX_INSNS_HI), 0);
	assert_int_equal(cost, 65536 + 3);	/* LOAD 1, MATCH 1 + 65536, RET 1 */
	expect_patched(orig, len, TG_HDR_MAX_INSNS, 4, cost - 1, TG_EVERIFY,
		       "header declares a cost of");
	free(orig);
}

/* Value quantifiers (format 1.3): the LOAD_ARGS keys are a STRS range the
 * verifier bounds, the rows 35-43 are refused in a file that says 1.2, and
 * the cost of a quantifier is 1 + 65,536 comparisons. */
static void bad_values(void **state)
{
	(void)state;
	size_t len;
	unsigned char *orig = compile("rule \"r\": deny anyone to call tool \"t\"\n"
				      "  when any value of args.opts contains \"..\";\n", &len);
	assert_int_equal(tg_rd16(orig + TG_HDR_MINOR), 3);
	uint32_t at = section_off(orig, TG_SEC_CODE);
	while (orig[at] != TG_OP_LOAD_ARGS)
		at++;
	uint32_t q = at + 9;	/* LOAD_ARGS keys; STR ".."; ANY_VALUES */
	while (orig[q] != TG_OP_ANY_VALUES)
		q++;

	/* a key range past the REFS pool */
	expect_patched(orig, len, at + 1, 4, 0x7FFFFFF0, TG_EVERIFY, "LOAD_ARGS at pc");
	/* a comparison code past the last */
	expect_patched(orig, len, q + 1, 1, TG_BC_CMP_LAST + 1, TG_EVERIFY, "ANY_VALUES at pc");
	/* the same code in a file that says 1.2 */
	expect_patched(orig, len, TG_HDR_MINOR, 2, 2, TG_EVERIFY,
		       "LOAD_ARGS at pc 0 needs format 1.3, the file is 1.2");
	/* the cost: LOAD_ARGS 1, STR 1, ANY_VALUES 1 + 65,536, RET 1 */
	assert_int_equal(tg_rd32(orig + TG_HDR_MAX_INSNS) |
				 (uint64_t)tg_rd32(orig + TG_HDR_MAX_INSNS_HI) << 32,
			 65536 + 4);
	expect_patched(orig, len, TG_HDR_MAX_INSNS, 4, tg_rd32(orig + TG_HDR_MAX_INSNS) - 1,
		       TG_EVERIFY, "header declares a cost of");
	free(orig);

	/* ANY_VALUES_MATCH with a DFA that does not exist */
	orig = compile("rule \"r\": deny anyone to call tool \"t\"\n"
		       "  when all value of args matches \"[a-z]+\";\n", &len);
	at = section_off(orig, TG_SEC_CODE);
	while (orig[at] != TG_OP_ALL_VALUES_MATCH)
		at++;
	expect_patched(orig, len, at + 1, 4, 1, TG_EVERIFY, "ALL_VALUES_MATCH at pc");
	free(orig);
}

/* A DFA whose rows pass a u16 (states x classes > 65,536) stores u32
 * row offsets: walked the same, and checked the same. */
static void wide_dfa(void **state)
{
	(void)state;
	static const char unit[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char src[512], subject[62 * 18 + 1];
	snprintf(src, sizeof src,
		 "rule \"r\": allow anyone to call tool \"db.query\" when args.s matches \"(?:%s){18}\";\n",
		 unit);
	size_t len;
	unsigned char *orig = compile(src, &len);
	uint32_t sec = section_off(orig, TG_SEC_DFAS);
	uint32_t data = sec + tg_rd32(orig + sec + 4);
	uint32_t ns = tg_rd32(orig + sec + 8), nc = tg_rd32(orig + sec + 12);
	assert_true(tg_bc_dfa_wide(ns, nc));

	tg_policy *p = NULL;
	assert_int_equal(tg_policy_load(orig, len, &p, NULL), TG_OK);
	for (int i = 0; i < 18; i++)
		memcpy(subject + 62 * i, unit, 62);
	subject[62 * 18] = 0;
	tg_request r = base_request();
	slots sl;
	memset(&sl, 0, sizeof sl);
	set_slot(p, &sl, &r, "args.s", vstr(subject));
	tg_decision d;
	assert_int_equal(tg_eval(p, &r, &d), TG_OK);
	assert_int_equal(d.effect, TG_ALLOW);
	subject[62 * 17 + 5] = '_';
	expect_deny(p, &r, NULL, NULL);
	tg_policy_free(p);

	expect_patched(orig, len, data + 256 + 4 * 3, 4, nc + 1, TG_EMALFORMED, "not a state's");
	expect_patched(orig, len, data + 256 + 4 * 3, 4, ns * nc, TG_EMALFORMED,
		       "goes to row offset");
	free(orig);
}

static void internal_error(void **state)
{
	(void)state;
	tg_policy *p = load("default allow;\n"
			    "rule \"r\": deny anyone to call tool \"a\" when context.x == 1;\n");
	struct tg_policy fake;
	memcpy(&fake, p, sizeof fake);
	unsigned char *code = calloc(1, p->l.code_len);
	assert_non_null(code);
	code[0] = TG_OP_AND;
	fake.l.code = code;
	tg_request r = base_request();
	r.target = S("a");
	tg_decision d;
	assert_int_equal(tg_eval(&fake, &r, &d), TG_EINTERNAL);
	assert_int_equal(d.effect, TG_DENY);
	assert_null(d.rule_id);
	bool vis = true;
	tg_entry e;
	tg_entry_init(&e);
	e.kind = TG_ENTRY_TOOL;
	e.name = S("a");
	assert_int_equal(tg_visible(&fake, &r, &e, &vis), TG_EINTERNAL);
	assert_false(vis);
	free(code);
	tg_policy_free(p);
}

/* ---- allocation failure --------------------------------------------------- */

static void loader_out_of_memory(void **state)
{
	(void)state;
	size_t len;
	unsigned char *code = good_code(&len);
	long failures = 0;

	for (long n = 0;; n++) {
		tg_policy *sentinel = (tg_policy *)&sentinel, *p = sentinel;
		tg_load_diag err;
		arm(n);
		tg_status st = tg_policy_load_diag(code, len, &p, &err);
		long made = ncalls;
		disarm();
		if (st == TG_OK) {
			assert_true(n >= made);	/* every allocation point was failed once */
			tg_request r = base_request();
			r.target = S("x.y");
			tg_decision d;
			assert_int_equal(tg_eval(p, &r, &d), TG_OK);
			tg_policy_free(p);
			break;
		}
		failures++;
		assert_int_equal(st, TG_ENOMEM);
		assert_int_equal(err.status, TG_ENOMEM);
		assert_ptr_equal(p, sentinel);
		assert_memory_equal(err.reason, "out of memory", 13);
	}
	print_message("the loader allocates %ld times; each failure gives TG_ENOMEM\n", failures);
	assert_true(failures >= 3);

	/* Globs that take the general matcher add the loader's glob programs
	 * (glob.c), and their allocations fail the same way. */
	size_t glen;
	unsigned char *gcode = compile("attribute args.p: string;\n"
				       "rule \"a\": allow anyone to call tool \"x.?\" when "
				       "args.p like \"/srv/**/?.key\";\n",
				       &glen);
	for (long n = 0, gfail = 0;; n++) {
		tg_policy *p = NULL;
		tg_load_diag err;
		arm(n);
		tg_status st = tg_policy_load_diag(gcode, glen, &p, &err);
		disarm();
		if (st == TG_OK) {
			assert_true(gfail > failures);
			tg_policy_free(p);
			break;
		}
		gfail++;
		assert_int_equal(st, TG_ENOMEM);
		assert_null(p);
	}
	free(gcode);

	/* The file loader and the holder fail the same way. */
	char path[] = "/tmp/tg-failclosed-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(code, 1, len, f), len);
	fclose(f);
	for (long n = 0;; n++) {
		tg_policy *p = NULL;
		tg_load_diag err;
		arm(n);
		tg_status st = tg_policy_load_file_diag(path, &p, &err);
		disarm();
		if (st == TG_OK) {
			tg_policy_free(p);
			break;
		}
		assert_int_equal(st, TG_ENOMEM);
		assert_null(p);
	}
	remove(path);
	tg_holder *h = NULL;
	arm(0);
	assert_int_equal(tg_holder_create(&h), TG_ENOMEM);
	disarm();
	assert_int_equal(tg_holder_create(&h), TG_OK);
	tg_holder_free(h);
	free(code);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(absent_attribute),
		cmocka_unit_test(type_mismatch),
		cmocka_unit_test(overflow_and_paths),
		cmocka_unit_test(too_many_errors),
		cmocka_unit_test(quoted_argument_names),
		cmocka_unit_test(long_message),
		cmocka_unit_test(invalid_requests),
		cmocka_unit_test(null_arguments),
		cmocka_unit_test(unreadable_json),
		cmocka_unit_test(bad_bytecode),
		cmocka_unit_test(bad_dfa),
		cmocka_unit_test(bad_values),
		cmocka_unit_test(wide_dfa),
		cmocka_unit_test(internal_error),
		cmocka_unit_test(loader_out_of_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
