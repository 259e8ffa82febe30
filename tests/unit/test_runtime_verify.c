/*
 * test_runtime_verify.c - the loader treats bytecode as untrusted: every
 * truncation, every single-byte flip (with the checksum left stale, and
 * recomputed so the structural checks run), and crafted corruptions of the
 * header, section table and code are rejected with a reason - or, when a
 * flip leaves a still-valid policy, evaluating it does not crash.
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

#define S(x) ((tg_str){ x, sizeof(x) - 1 })

static void setup_small(tg_emit *e)
{
	tg_str c = S("environment");
	static const uint8_t closure[4] = { 1, 0, 1, 1 };
	tg_emit_role(e, "reader", 6);
	tg_emit_role(e, "admin", 5);
	tg_emit_role_closure(e, closure, 2);
	int32_t s = tg_emit_slot(e, TG_SLOT_CONTEXT, &c, 1, "context.environment", 19, TG_ATTR_STRING);
	tg_emit_slot_domain_string(e, s, "prod", 4);
	tg_emit_slot_domain_string(e, s, "dev", 3);
	c = S("tags");
	s = tg_emit_slot(e, TG_SLOT_ARGS, &c, 1, "args.tags", 9, TG_ATTR_INT_LIST);
	tg_emit_slot_domain_int(e, s, 7);
}

/* Rule 0's code is the jump/stack playground the crafted cases edit:
 *   pc 0 LOAD 0 | 5 JFALSE +L | 10 INT 5 | 19 INT 5 | 28 CMP EQ | 30 AND | 31 RET */
static const rt_rule rules[] = {
	{ "jumpy", TG_BC_ALLOW, TG_BC_SUBJ_ANYONE, { NULL }, TG_BC_ACT_CALL_TOOL, false, { "a.*" },
	  "LOAD 0; JFALSE L1; INT 5; INT 5; CMP EQ; AND; L1: RET", NULL },
	{ "deep", TG_BC_DENY, TG_BC_SUBJ_ROLE, { "#0" }, TG_BC_ACT_CALL_TOOL, true, { NULL },
	  "LOAD 0; JFALSE L1; TRUE; TRUE; TRUE; AND; AND; AND; L1: RET", "why" },
	{ "lists", TG_BC_ALLOW, TG_BC_SUBJ_SCOPE, { "s" }, TG_BC_ACT_READ_RESOURCE, false,
	  { "file:///x/**", "file:///y" },
	  "STRS \"a\" \"b\"; STR \"a\"; CMP CONTAINS; JFALSE L1; LOAD 1; INTS 7 8; CMP EQ; AND; L1: RET",
	  NULL },
	{ "inv", TG_BC_ALLOW, TG_BC_SUBJ_CLIENT, { "c" }, TG_BC_ACT_INVOKE, false, { "x/*" },
	  "IS 1; LOADB PRINCIPAL_ID; LIKE \"a?\"; AND; RET", NULL },
	{ "lst", TG_BC_ALLOW, TG_BC_SUBJ_PRINCIPAL, { "p" }, TG_BC_ACT_LIST_TOOLS, false, { NULL },
	  NULL, NULL },
};

static unsigned char *good;
static size_t good_len;

static int setup(void **state)
{
	(void)state;
	tg_policy *p = rt_policy(setup_small, rules, sizeof rules / sizeof rules[0], false, &good,
				 &good_len);
	if (!p)
		return -1;
	tg_policy_free(p);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(good);
	return 0;
}

static void fix_checksum(unsigned char *b, size_t len)
{
	tg_wr32(b + TG_HDR_CHECKSUM, tg_bc_checksum(b, len));
}

static uint32_t section(const unsigned char *b, unsigned kind, uint32_t *size)
{
	for (unsigned i = 0; i < TG_SEC_COUNT; i++) {
		const unsigned char *e = b + TG_BC_HEADER_LEN + i * TG_BC_SECTION_ENTRY;
		if (tg_rd32(e) == kind) {
			if (size)
				*size = tg_rd32(e + 8);
			return tg_rd32(e + 4);
		}
	}
	return 0;
}

/* Exercise a policy that loaded: evaluation must not crash. */
static void exercise(const tg_policy *p)
{
	static const char *const methods[] = { "tools/call", "resources/read", "x/y", "tools/list" };
	tg_value slots[2];
	tg_str roles[2] = { S("reader"), S("admin") };
	tg_str scopes[1] = { S("s") };
	int64_t tags[2] = { 7, 8 };
	tg_request q;
	tg_decision d;
	char line[512];
	memset(slots, 0, sizeof slots);
	slots[0].type = TG_VALUE_STRING;
	slots[0].u.s = S("prod");
	slots[1].type = TG_VALUE_INT_LIST;
	slots[1].u.ints.items = tags;
	slots[1].u.ints.n = 2;
	for (size_t m = 0; m < 4; m++) {
		tg_request_init(&q);
		q.principal_id = S("ab");
		q.roles = roles;
		q.nroles = 2;
		q.scopes = scopes;
		q.nscopes = 1;
		q.client_id = S("c");
		q.method.ptr = methods[m];
		q.method.len = strlen(methods[m]);
		q.target = m == 1 ? S("file:///x/y") : S("a.b");
		q.slots = slots;
		q.nslots = 2;
		tg_eval(p, &q, &d);
		tg_audit_format(p, &q, &d, 0, line, sizeof line);
		tg_entry e;
		bool v;
		tg_entry_init(&e);
		e.name = S("a.b");
		tg_visible(p, &q, &e, &v);
	}
}

static void expect_reject(const unsigned char *b, size_t len, tg_status want, const char *reason)
{
	tg_policy *p = NULL;
	tg_load_diag err;
	tg_status st = tg_policy_load_diag(b, len, &p, &err);
	if (st == TG_OK) {
		tg_policy_free(p);
		fail_msg("accepted corrupt bytecode (expected '%s')", reason);
	}
	assert_null(p);
	assert_int_equal(err.status, st);
	assert_true(err.reason[0] != 0);
	if (want != TG_OK && st != want)
		fail_msg("status %d (%s), want %d: %s", st, tg_strerror(st), want, err.reason);
	if (reason && !strstr(err.reason, reason))
		fail_msg("reason '%s' lacks '%s'", err.reason, reason);
}

static void test_good_loads(void **state)
{
	(void)state;
	tg_policy *p;
	tg_load_diag err;
	assert_int_equal(tg_policy_load_diag(good, good_len, &p, &err), TG_OK);
	assert_int_equal(err.status, TG_OK);
	exercise(p);
	tg_policy_free(p);
}

static void test_truncation(void **state)
{
	(void)state;
	for (size_t n = 0; n < good_len; n++) {
		unsigned char *b = malloc(n ? n : 1);
		memcpy(b, good, n);
		expect_reject(b, n, TG_OK, NULL);
		free(b);
	}
	/* a stale total length with the checksum fixed: still truncated */
	unsigned char *b = malloc(good_len);
	memcpy(b, good, good_len);
	expect_reject(b, good_len - 4, TG_ETRUNCATED, "truncated");
	free(b);
}

static void test_every_flip(void **state)
{
	(void)state;
	unsigned char *b = malloc(good_len);
	size_t accepted = 0;
	for (size_t i = 0; i < good_len; i++) {
		for (int k = 0; k < 2; k++) {
			memcpy(b, good, good_len);
			b[i] ^= k ? 0x01 : 0xFF;
			/* stale checksum: always rejected */
			expect_reject(b, good_len, TG_OK, NULL);
			/* recomputed: the structural checks must hold */
			fix_checksum(b, good_len);
			tg_policy *p = NULL;
			tg_load_diag err;
			if (tg_policy_load_diag(b, good_len, &p, &err) == TG_OK) {
				accepted++;
				exercise(p);
				tg_policy_free(p);
			} else {
				assert_true(err.reason[0] != 0);
			}
		}
	}
	/* most flips land in checked structure; the rest are string bytes,
	 * constants and the source hash */
	assert_true(accepted < good_len);
	free(b);
}

static unsigned char *copy(void)
{
	unsigned char *b = malloc(good_len);
	memcpy(b, good, good_len);
	return b;
}

static void test_header(void **state)
{
	(void)state;
	unsigned char *b = copy();
	b[0] = 'X';
	expect_reject(b, good_len, TG_EBADMAGIC, "magic");
	expect_reject((const unsigned char *)"\x89TGB", 4, TG_ETRUNCATED, "truncated");
	expect_reject((const unsigned char *)"ELF", 3, TG_EBADMAGIC, "magic");
	free(b);

	b = copy();
	tg_wr16(b + TG_HDR_MAJOR, 2);
	tg_wr16(b + TG_HDR_MINOR, 0);
	fix_checksum(b, good_len);
	expect_reject(b, good_len, TG_EVERSION, "version 2.0");
	free(b);

	b = copy();
	tg_wr32(b + TG_HDR_FLAGS, 0x10);
	fix_checksum(b, good_len);
	expect_reject(b, good_len, TG_EMALFORMED, "unknown header flags");
	free(b);

	b = copy();
	b[good_len - 1] ^= 1;
	expect_reject(b, good_len, TG_ECHECKSUM, "checksum mismatch");
	free(b);

	b = copy();
	tg_wr32(b + TG_HDR_MAX_STACK, 1000);
	fix_checksum(b, good_len);
	expect_reject(b, good_len, TG_ELIMIT, "runtime limit");
	free(b);

	b = copy();
	tg_wr32(b + TG_HDR_MAX_INSNS, tg_rd32(b + TG_HDR_MAX_INSNS) - 1);
	fix_checksum(b, good_len);
	expect_reject(b, good_len, TG_EVERIFY, "header declares a cost of");
	free(b);

	/* trailing garbage */
	b = malloc(good_len + 4);
	memcpy(b, good, good_len);
	memset(b + good_len, 0, 4);
	expect_reject(b, good_len + 4, TG_EMALFORMED, "trailing");
	free(b);

	expect_reject(NULL, 0, TG_EINVAL, NULL);
	tg_policy *p;
	assert_int_equal(tg_policy_load_file("/nonexistent/x.tgb", &p, NULL), TG_EIO);
}

static void test_sections(void **state)
{
	(void)state;
	unsigned char *b = copy();
	unsigned char *e = b + TG_BC_HEADER_LEN;	/* first table entry */
	tg_wr32(e + 4, (uint32_t)good_len);		/* offset at the end */
	fix_checksum(b, good_len);
	expect_reject(b, good_len, TG_EMALFORMED, "out of bounds");
	free(b);

	b = copy();
	e = b + TG_BC_HEADER_LEN;
	tg_wr32(e + 8, 0xFFFFFFF0u);			/* offset + size wraps */
	fix_checksum(b, good_len);
	expect_reject(b, good_len, TG_EMALFORMED, "out of bounds");
	free(b);

	b = copy();
	e = b + TG_BC_HEADER_LEN;
	tg_wr32(e + TG_BC_SECTION_ENTRY, tg_rd32(e));	/* a kind twice */
	fix_checksum(b, good_len);
	expect_reject(b, good_len, TG_EMALFORMED, "twice");
	free(b);

	b = copy();
	e = b + TG_BC_HEADER_LEN;
	tg_wr32(e, 99);
	fix_checksum(b, good_len);
	expect_reject(b, good_len, TG_EMALFORMED, "unknown section kind");
	free(b);

	/* string table count too large for its section */
	b = copy();
	e = b + TG_BC_HEADER_LEN;
	tg_wr32(e + 12, 0x10000000u);
	fix_checksum(b, good_len);
	expect_reject(b, good_len, TG_EMALFORMED, "string table");
	free(b);

	/* a rule's code range out of place */
	b = copy();
	uint32_t rsec = section(b, TG_SEC_RULES, NULL);
	tg_wr32(b + rsec + 32, 1);
	fix_checksum(b, good_len);
	expect_reject(b, good_len, TG_EMALFORMED, "code range");
	free(b);

	/* a rule's subject role out of range */
	b = copy();
	uint32_t refs = section(b, TG_SEC_REFS, NULL);
	const unsigned char *r1 = b + rsec + TG_BC_RULE_SIZE;
	tg_wr32(b + refs + tg_rd32(r1 + 16) * 4, 77);
	fix_checksum(b, good_len);
	expect_reject(b, good_len, TG_EMALFORMED, "subject");
	free(b);
}

static void patch_code(unsigned char *b, uint32_t pc, const void *bytes, size_t n)
{
	uint32_t code = section(b, TG_SEC_CODE, NULL);
	memcpy(b + code + pc, bytes, n);
	fix_checksum(b, good_len);
}

static void test_code(void **state)
{
	(void)state;
	unsigned char w[4];
	unsigned char *b = copy();
	tg_wr32(w, 0xFFFFFFFBu);	/* -5: a backward jump as a distance */
	patch_code(b, 6, w, 4);
	expect_reject(b, good_len, TG_EVERIFY, "leaves rule");
	free(b);

	b = copy();
	tg_wr32(w, 1);			/* into INT's operand */
	patch_code(b, 6, w, 4);
	expect_reject(b, good_len, TG_EVERIFY, "middle of an instruction");
	free(b);

	b = copy();
	tg_wr32(w, 18);			/* onto CMP with depth 1, it expects 3 */
	patch_code(b, 6, w, 4);
	expect_reject(b, good_len, TG_EVERIFY, "stack depth");
	free(b);

	b = copy();
	unsigned char bad = 0xEE;
	patch_code(b, 10, &bad, 1);
	expect_reject(b, good_len, TG_EVERIFY, "unknown opcode 0xee");
	free(b);

	b = copy();
	unsigned char ret = TG_OP_RET;
	patch_code(b, 10, &ret, 1);	/* RET mid-rule (and misdecodes the rest) */
	expect_reject(b, good_len, TG_EVERIFY, NULL);
	free(b);

	b = copy();
	unsigned char not = TG_OP_NOT;
	patch_code(b, 0, &not, 1);	/* NOT on an empty stack, rest misdecoded */
	expect_reject(b, good_len, TG_EVERIFY, NULL);
	free(b);

	b = copy();
	unsigned char slot[4];
	tg_wr32(slot, 9);		/* LOAD of a slot that does not exist */
	patch_code(b, 1, slot, 4);
	expect_reject(b, good_len, TG_EVERIFY, "bad operand");
	free(b);

	b = copy();
	unsigned char cmp = 200;	/* CMP with an unknown comparison */
	patch_code(b, 29, &cmp, 1);
	expect_reject(b, good_len, TG_EVERIFY, "bad operand");
	free(b);

	b = copy();
	unsigned char t = TG_OP_TRUE;
	patch_code(b, 31, &t, 1);	/* the last instruction is no RET */
	expect_reject(b, good_len, TG_EVERIFY, "does not end with RET");
	free(b);

	/* stack overflow on one path only: rule "deep" reaches depth 4 on
	 * its fall-through path; declare 3 */
	b = copy();
	tg_wr32(b + TG_HDR_MAX_STACK, 3);
	fix_checksum(b, good_len);
	expect_reject(b, good_len, TG_EVERIFY, "exceeds the declared maximum");
	free(b);
}

static void test_load_error_fields(void **state)
{
	(void)state;
	tg_load_diag err;
	tg_policy *p = NULL;
	unsigned char *b = copy();
	unsigned char bad = 0xEE;
	patch_code(b, 10, &bad, 1);
	assert_int_equal(tg_policy_load_diag(b, good_len, &p, &err), TG_EVERIFY);
	assert_int_equal(err.pc, 10);
	assert_int_equal(err.offset, section(b, TG_SEC_CODE, NULL) + 10);
	assert_string_equal(err.reason, "unknown opcode 0xee at pc 10");
	/* the caller's bytes are not needed after load */
	assert_int_equal(tg_policy_load(good, good_len, &p, NULL), TG_OK);
	memset(b, 0, good_len);
	exercise(p);
	tg_policy_free(p);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_loads),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_every_flip),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_code),
		cmocka_unit_test(test_load_error_fields),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
