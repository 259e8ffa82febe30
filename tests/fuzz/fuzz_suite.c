/*
 * fuzz_suite.c - YAML test suites through the suite reader and runner.
 *
 * A suite the reader accepts is run against the fixed policy (its `policy`
 * key is only a path and is not opened) and written as JUnit XML; one it
 * refuses must leave *out NULL. Messages go to /dev/null.
 */
#include "fuzz.h"

#include <stdio.h>

#include "suite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	tg_suite *s = (tg_suite *)&sink;	/* anything but NULL */

	if (!sink && !(sink = fopen("/dev/null", "w")))
		tg_fuzz_fail("cannot open /dev/null");
	tg_suite_status st = tg_suite_parse("fuzz/suite.yaml", (const char *)data, size, sink, &s);
	if (st != TG_SUITE_OK) {
		if (s)
			tg_fuzz_fail("suite refused (%d) but *out is set", (int)st);
		return 0;
	}
	if (!s)
		tg_fuzz_fail("suite accepted without a suite");
	tg_suite_result res;
	if (tg_suite_run(s, tg_fuzz_fixed_policy(), size % 2 == 0, &res) == 0) {
		if (res.passed + res.failed != s->ncases || res.ncases != s->ncases)
			tg_fuzz_fail("%zu cases, %zu passed + %zu failed", s->ncases, res.passed,
				     res.failed);
		for (size_t i = 0; i < res.ncases; i++)
			if (!res.cases[i].passed && !res.cases[i].summary)
				tg_fuzz_fail("failed case %zu has no summary", i);
		tg_junit_write(sink, &res, 1);
		tg_suite_result_free(&res);
	}
	tg_suite_free(s);
	return 0;
}
