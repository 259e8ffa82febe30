/*
 * test_golden_check.c - diagnostics of tests/golden/check/NAME.tg, byte for
 * byte against NAME.expected.
 *
 * Each file is parsed and, when it has no syntax error, checked; the sorted
 * diagnostics are compared by the runner in golden.h (TG_UPDATE_GOLDEN=1
 * rewrites the .expected files).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stages.h"
#include "golden.h"

static void run_golden(void **state)
{
	const char *name = *state;
	size_t len = 0;
	char *src = golden_source("check", name, &len);
	char *actual = golden_diagnostics(name, src, len, false, NULL);
	bool same = golden_match("check", name, actual);
	free(actual);
	free(src);
	assert_true(same);
}

int main(void)
{
	return golden_main("check", run_golden, NULL, 0);
}
