/*
 * test_mutation.c - single-byte mutations and truncations of real bytecode.
 *
 * For each example policy's bytecode, every byte position is mutated four
 * ways (XOR 0x01, XOR 0x80, XOR 0xFF, set to 0x00 when not already zero)
 * and every proper prefix is tried:
 *
 *   raw       the mutant as is: the loader must reject every one (the CRC-32
 *             catches every single-byte change; a truncation breaks the
 *             declared length);
 *   resealed  the header's total length and checksum are rewritten to fit,
 *             so the mutant reaches the structural and code checks. Whatever
 *             the verifier still accepts is evaluated on a request set
 *             (tests/fuzz/fuzz_common.c): decisions must be well-formed and
 *             execute no more instructions than the header's bound, and the
 *             sanitizers / valgrind must see no memory error.
 *
 * Mutating the checksum field itself and resealing gives back the original,
 * so those four positions are skipped in resealed mode.
 *
 * TG_MUTATION_STRIDE=N (default 1) tries only every Nth position and
 * length: `make valgrind` uses it to keep the run short.
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
#include "format.h"
#include "fuzz.h"
#include "toolgate/toolgate.h"

static const unsigned char xors[] = { 0x01, 0x80, 0xFF };

typedef struct stats {
	size_t raw, resealed, accepted, truncations;
} stats;

static unsigned char *compile_example(const char *name, size_t *len)
{
	const char *dir = getenv("TG_SOURCE_DIR");
	char path[1024];
	size_t slen;

	assert_non_null(dir);
	snprintf(path, sizeof path, "%s/policies/examples/%s", dir, name);
	char *src = tg_read_file(path, TG_MAX_SOURCE_BYTES, &slen);
	assert_non_null(src);
	unsigned char *code = tg_fuzz_compile(src, slen, len);
	free(src);
	assert_non_null(code);
	return code;
}

static void reseal(unsigned char *b, size_t len)
{
	if (len < TG_BC_HEADER_LEN)
		return;
	tg_wr32(b + TG_HDR_TOTAL_LEN, (uint32_t)len);
	tg_wr32(b + TG_HDR_CHECKSUM, tg_bc_checksum(b, len));
}

static void expect_rejected(const unsigned char *b, size_t len, size_t at)
{
	tg_policy *p = NULL;
	tg_load_diag err;
	tg_status st = tg_policy_load_diag(b, len, &p, &err);
	if (st == TG_OK) {
		tg_policy_free(p);
		fail_msg("a raw mutant at byte %zu (length %zu) was accepted", at, len);
	}
	assert_null(p);
	assert_int_equal(err.status, st);
	assert_true(err.reason[0] != 0);
}

/* Resealed: rejected, or accepted and then evaluated safely. */
static void try_resealed(const unsigned char *b, size_t len, unsigned seed, stats *s)
{
	tg_policy *p = NULL;
	tg_load_diag err;
	tg_status st = tg_policy_load_diag(b, len, &p, &err);
	s->resealed++;
	if (st != TG_OK) {
		assert_null(p);
		assert_int_equal(err.status, st);
		assert_true(err.reason[0] != 0);
		return;
	}
	s->accepted++;
	tg_fuzz_exercise(p, seed, 1);
	tg_policy_free(p);
}

static size_t stride(void)
{
	const char *e = getenv("TG_MUTATION_STRIDE");
	long n = e ? strtol(e, NULL, 10) : 1;
	return n > 0 ? (size_t)n : 1;
}

static void mutate_all(const unsigned char *orig, size_t len, stats *s)
{
	size_t step = stride();
	unsigned char *b = malloc(len);
	assert_non_null(b);
	for (size_t i = 0; i < len; i += step) {
		unsigned char vals[4];
		size_t nv = 0;
		for (size_t k = 0; k < sizeof xors; k++)
			vals[nv++] = orig[i] ^ xors[k];
		if (orig[i] != 0)
			vals[nv++] = 0;
		bool in_sum = i >= TG_HDR_CHECKSUM && i < TG_HDR_CHECKSUM + 4;
		for (size_t k = 0; k < nv; k++) {
			memcpy(b, orig, len);
			b[i] = vals[k];
			expect_rejected(b, len, i);
			s->raw++;
			if (in_sum)
				continue;
			reseal(b, len);
			try_resealed(b, len, (unsigned)(i * 4 + k), s);
		}
	}
	for (size_t n = 0; n < len; n += step) {
		memcpy(b, orig, n);
		expect_rejected(b, n, n);
		reseal(b, n);
		try_resealed(b, n, (unsigned)n, s);
		s->truncations++;
	}
	free(b);
}

static void run_example(const char *name)
{
	size_t len;
	stats s = { 0 };
	unsigned char *code = compile_example(name, &len);

	/* The unmutated bytecode loads and evaluates within its bound. */
	tg_policy *p = NULL;
	assert_int_equal(tg_policy_load(code, len, &p, NULL), TG_OK);
	tg_fuzz_exercise(p, 0, SIZE_MAX);
	tg_policy_free(p);

	tg_fuzz_light = true;
	mutate_all(code, len, &s);
	tg_fuzz_light = false;
	print_message("%s: %zu bytes, %zu raw mutants rejected, %zu resealed mutants (%zu accepted "
		      "and evaluated), %zu truncations\n",
		      name, len, s.raw, s.resealed - s.truncations, s.accepted, s.truncations);
	assert_true(s.raw >= 3 * (len / stride()));
	free(code);
}

static void engineering(void **state)
{
	(void)state;
	run_example("engineering.tg");
}

static void saas(void **state)
{
	(void)state;
	run_example("saas.tg");
}

static void ci_agents(void **state)
{
	(void)state;
	run_example("ci-agents.tg");
}

static void analyst(void **state)
{
	(void)state;
	run_example("analyst.tg");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(engineering),
		cmocka_unit_test(saas),
		cmocka_unit_test(ci_agents),
		cmocka_unit_test(analyst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
