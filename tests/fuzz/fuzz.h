/*
 * fuzz.h - what the fuzz targets share: a fixed example policy, a fixed set
 * of requests shaped for whatever policy is loaded, and the checks every
 * decision must pass.
 *
 * Each target defines LLVMFuzzerTestOneInput. Built with -fsanitize=fuzzer
 * (TG_FUZZ=ON, clang) it is a libFuzzer binary; built with replay.c as its
 * main it runs saved inputs (corpus seeds and regressions) under any
 * compiler, which is how ctest replays them.
 *
 * A broken invariant calls tg_fuzz_fail, which prints the reason and aborts:
 * libFuzzer saves the input as a crash, the replay test fails.
 */
#ifndef TG_FUZZ_H
#define TG_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toolgate/toolgate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints "fuzz invariant broken: WHY" to stderr and aborts. */
_Noreturn void tg_fuzz_fail(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

/* The fixed policy targets evaluate against (compiled once from source
 * embedded in fuzz_common.c; freed at exit). Aborts if it does not compile:
 * a fuzz run against nothing would prove nothing. */
const tg_policy *tg_fuzz_fixed_policy(void);

/* Compiles src[0..len) (parse, check, codegen). Returns a malloc'd buffer
 * with *out_len, or NULL when the source has errors. */
unsigned char *tg_fuzz_compile(const char *src, size_t len, size_t *out_len);

/* Asserts that d, returned with st by tg_eval/tg_eval_trace on p, is
 * well-formed: a deny on every error status, rule index and id consistent,
 * error list consistent with its count, instruction count within the
 * policy's bound. */
void tg_fuzz_check_decision(const tg_policy *p, tg_status st, const tg_decision *d);

/*
 * Evaluates a fixed set of requests built for p (targets and roles taken
 * from the policy itself so rules are reached; slot values of every type)
 * with tg_eval, tg_eval_trace and tg_visible, checking every decision.
 * `seed` varies the slot values; at most max_targets targets are tried
 * (SIZE_MAX: all of them).
 */
void tg_fuzz_exercise(const tg_policy *p, unsigned seed, size_t max_targets);

/* When set, tg_fuzz_exercise skips audit lines and request digests (SHA-256
 * per request dominates its cost): for callers that exercise many policies. */
extern bool tg_fuzz_light;

#endif
