/*
 * test_runtime_noalloc.c - evaluation allocates nothing. The test defines
 * malloc, calloc and realloc itself (the executable's definitions take
 * precedence over libc's); while `forbid` is set every call fails and is
 * counted. AddressSanitizer owns the allocator, so under ASan this one test
 * is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "decision.h"
#include "policy.h"
#include "rt_asm.h"

#if defined(__SANITIZE_ADDRESS__)
#define NOALLOC_SKIP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NOALLOC_SKIP 1
#endif
#endif

static volatile int forbid, calls;

#ifndef NOALLOC_SKIP
/* glibc's own entry points, which our wrappers forward to. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);

void *malloc(size_t n)
{
	if (forbid) {
		calls++;
		return NULL;
	}
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	if (forbid) {
		calls++;
		return NULL;
	}
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	if (forbid) {
		calls++;
		return NULL;
	}
	return __libc_realloc(p, n);
}
#endif

#define S(x) ((tg_str){ x, sizeof(x) - 1 })

#ifndef NOALLOC_SKIP
/* Valgrind, like ASan, puts its own allocator in place of the functions
 * above; then nothing can be counted or failed, so the tests skip. */
static bool allocator_replaced(void)
{
	void *(*volatile m)(size_t) = malloc;
	forbid = 1;
	void *x = m(16);
	forbid = 0;
	calls = 0;
	free(x);
	return x != NULL;
}
#endif

static void setup_na(tg_emit *e)
{
	tg_str c = S("environment");
	tg_emit_role(e, "engineer", 8);
	tg_emit_role_closure(e, NULL, 1);
	tg_emit_slot(e, TG_SLOT_CONTEXT, &c, 1, "context.environment", 19, TG_ATTR_STRING);
	c = S("paths");
	tg_emit_slot(e, TG_SLOT_ARGS, &c, 1, "args.paths", 10, TG_ATTR_STRING_LIST);
}

static const rt_rule na_rules[] = {
	{ "a", TG_BC_ALLOW, TG_BC_SUBJ_ROLE, { "#0" }, TG_BC_ACT_CALL_TOOL, false, { "fs.*", "x/**/y" },
	  "LOAD 0; STR \"prod\"; CMP NE; JFALSE L1; LOAD 1; ALL_UNDER \"/srv\"; AND; L1: RET", NULL },
	{ "b", TG_BC_DENY, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, true, { NULL },
	  "LOADB TOOL_NAME; LIKE \"*.delete_*\"; RET", "no" },
	{ "c", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_ANYTHING, false, { NULL },
	  "LOAD 0; INT 1; ADD; RET", NULL },
};

static void test_eval_allocates_nothing(void **state)
{
	(void)state;
#ifdef NOALLOC_SKIP
	(void)setup_na;
	(void)na_rules;
	(void)forbid;
	(void)calls;
	print_message("skipped: AddressSanitizer replaces the allocator\n");
	skip();
#else
	if (allocator_replaced()) {
		print_message("skipped: the allocator is replaced (valgrind?)\n");
		skip();
	}
	tg_policy *p = rt_policy(setup_na, na_rules, 3, false, NULL, NULL);
	tg_value slots[2];
	tg_str paths[2] = { S("/srv/a"), S("/srv/b") };
	tg_str roles[1] = { S("engineer") };
	tg_request q;
	tg_decision d1, d2, d3;
	tg_status s1, s2, s3, s4;
	char line[1024];
	bool vis = false;
	tg_entry e;
	tg_holder *h;
	const tg_policy *hp;

	assert_non_null(p);
	assert_int_equal(tg_holder_create(&h), TG_OK);
	memset(slots, 0, sizeof slots);
	slots[0].type = TG_VALUE_STRING;
	slots[0].u.s = S("dev");
	slots[1].type = TG_VALUE_STRING_LIST;
	slots[1].u.strs.items = paths;
	slots[1].u.strs.n = 2;
	tg_request_init(&q);
	q.principal_id = S("alice");
	q.roles = roles;
	q.nroles = 1;
	q.method = S("tools/call");
	q.target = S("fs.read");
	q.slots = slots;
	q.nslots = 2;
	tg_entry_init(&e);
	e.name = S("fs.read");
	tg_holder_swap(h, p);

	forbid = 1;
	calls = 0;
	hp = tg_holder_acquire(h);
	s1 = tg_eval(hp, &q, &d1);
	q.target = S("fs.delete_all");
	s2 = tg_eval_trace(hp, &q, &d2, NULL, NULL);
	q.method = S("x/y");
	s3 = tg_eval(hp, &q, &d3);	/* an error path: LOAD string + INT */
	s4 = tg_visible(hp, &q, &e, &vis);
	size_t n = tg_audit_format(hp, &q, &d3, 1764140000, line, sizeof line);
	tg_holder_release(h, hp);
	forbid = 0;

	assert_int_equal(calls, 0);
	assert_int_equal(s1, TG_OK);
	assert_int_equal(d1.effect, TG_ALLOW);
	assert_int_equal(s2, TG_OK);
	assert_int_equal(d2.effect, TG_DENY);
	assert_int_equal(s3, TG_OK);
	assert_int_equal(d3.nerrors, 1);
	assert_int_equal(s4, TG_OK);
	assert_true(vis);
	assert_true(n > 0 && n < sizeof line);
	tg_holder_free(h);
#endif
}

/* Loading does allocate; with every allocation failing it reports
 * TG_ENOMEM instead of crashing. */
static void test_load_out_of_memory(void **state)
{
	(void)state;
#ifdef NOALLOC_SKIP
	skip();
#else
	if (allocator_replaced()) {
		print_message("skipped: the allocator is replaced (valgrind?)\n");
		skip();
	}
	unsigned char *b;
	size_t len;
	tg_policy *p = rt_policy(setup_na, na_rules, 3, false, &b, &len);
	tg_policy_free(p);
	tg_load_diag err;
	forbid = 1;
	tg_status st = tg_policy_load_diag(b, len, &p, &err);
	forbid = 0;
	assert_int_equal(st, TG_ENOMEM);
	free(b);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eval_allocates_nothing),
		cmocka_unit_test(test_load_out_of_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
