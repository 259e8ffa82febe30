/*
 * fuzz_compile.c - policy source text through the whole compiler.
 *
 * Parse; when the text has no syntax errors, format it, parse the output
 * again and require no errors and an identical second formatting (fmt is
 * idempotent and never produces text it cannot read back), and require the
 * formatted text to pass or fail the checker exactly like the original.
 * When the checker accepts, generate bytecode twice (the same source must
 * give byte-identical bytecode) and load it: a compiled policy must always
 * verify; then evaluate the request set against it.
 * Diagnostics are rendered too (carets, windows, hints) into /dev/null.
 */
#include "policy.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages.h"

/* Inputs past this are cut: the interesting structure is small, and the
 * 16 MiB source limit has its own test (test_limits). */
#define FUZZ_MAX_SOURCE (256 * 1024)

static FILE *sink;

static char *format(const tg_ast *ast, size_t *len)
{
	char *text = NULL;
	FILE *m = open_memstream(&text, len);

	if (!m)
		tg_fuzz_fail("open_memstream failed");
	if (tg_fmt(ast, m) != 0)
		tg_fuzz_fail("tg_fmt reported a write error");
	if (fclose(m) != 0)
		tg_fuzz_fail("fclose of a memstream failed");
	return text;
}

static void first_error(const tg_diags *d, const char *src, size_t len)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->items[i].severity == TG_SEV_ERROR) {
			tg_diag_print(stderr, "fmt-output.tg", src, len, &d->items[i]);
			return;
		}
}

/* Returns whether the checker accepts the formatted text. */
static bool roundtrip(const tg_ast *ast)
{
	tg_arena arena;
	tg_diags diags;
	size_t n1, n2;
	char *f1 = format(ast, &n1);

	tg_arena_init(&arena);
	tg_diags_init(&diags, &arena);
	tg_ast *again = tg_parse(&arena, "fuzz.tg", f1, n1, &diags);
	if (!again)
		tg_fuzz_fail("out of memory parsing fmt output");
	if (diags.nerrors) {
		fprintf(stderr, "---- fmt output ----\n%.*s\n----\n", (int)n1, f1);
		first_error(&diags, f1, n1);
		tg_fuzz_fail("fmt output does not parse (%zu errors)", diags.nerrors);
	}
	char *f2 = format(again, &n2);
	if (n1 != n2 || memcmp(f1, f2, n1) != 0) {
		fprintf(stderr, "---- first ----\n%.*s\n---- second ----\n%.*s\n----\n", (int)n1, f1,
			(int)n2, f2);
		tg_fuzz_fail("fmt is not idempotent");
	}
	bool ok = tg_check(again, &diags) && diags.nerrors == 0;
	free(f1);
	free(f2);
	tg_arena_free(&arena);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_arena arena;
	tg_diags diags;
	const char *src = (const char *)data;
	size_t len = size > FUZZ_MAX_SOURCE ? FUZZ_MAX_SOURCE : size;

	if (!sink && !(sink = fopen("/dev/null", "w")))
		tg_fuzz_fail("cannot open /dev/null");
	tg_arena_init(&arena);
	tg_diags_init(&diags, &arena);
	tg_ast *ast = tg_parse(&arena, "fuzz.tg", src, len, &diags);
	if (!ast)
		tg_fuzz_fail("tg_parse returned NULL (out of memory?)");
	if (diags.nerrors == 0) {
		bool fmt_ok = roundtrip(ast);
		bool ok = tg_check(ast, &diags) && diags.nerrors == 0;
		if (ok != fmt_ok)
			tg_fuzz_fail("the checker %s the source but %s its formatting",
				     ok ? "accepts" : "rejects", fmt_ok ? "accepts" : "rejects");
		unsigned char *code;
		size_t clen;
		if (ok && tg_codegen(ast, &diags, &code, &clen)) {
			unsigned char *again;
			size_t alen;
			if (!tg_codegen(ast, &diags, &again, &alen))
				tg_fuzz_fail("a second code generation failed");
			if (alen != clen || memcmp(code, again, clen) != 0)
				tg_fuzz_fail("code generation is not deterministic");
			free(again);
			tg_policy *p = NULL;
			tg_load_diag err;
			tg_status st = tg_policy_load_diag(code, clen, &p, &err);
			if (st != TG_OK)
				tg_fuzz_fail("compiled bytecode fails verification: %s: %s",
					     tg_strerror(st), err.reason);
			tg_fuzz_exercise(p, (unsigned)size, SIZE_MAX);
			tg_policy_free(p);
			free(code);
		}
	}
	tg_diags_sort(&diags);
	tg_diags_print(sink, "fuzz.tg", src, len, &diags);
	tg_arena_free(&arena);
	return 0;
}
