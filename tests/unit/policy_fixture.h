/*
 * policy_fixture.h - a test's policy from source text: parsed, checked,
 * compiled and loaded through the runtime's verifier, so tests of the
 * layers above (request reading, the proxy) run on real bytecode. A policy
 * that does not compile fails the test with its diagnostics on stderr.
 *
 * Header-only (static functions) so each test executable includes it once.
 */
#ifndef TG_POLICY_FIXTURE_H
#define TG_POLICY_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "stages.h"
#include "toolgate/toolgate.h"

/* The loaded policy (release it with tg_policy_free). Its file is "t.tg". */
static tg_policy *compile_policy(const char *src)
{
	tg_arena arena;
	tg_diags diags;
	tg_ast *ast;
	unsigned char *code = NULL;
	size_t len = 0;
	tg_policy *p = NULL;
	tg_load_diag err;

	tg_arena_init(&arena);
	tg_diags_init(&diags, &arena);
	ast = tg_parse(&arena, "t.tg", src, strlen(src), &diags);
	assert_non_null(ast);
	if (diags.nerrors == 0)
		tg_check(ast, &diags);
	if (diags.nerrors == 0)
		tg_codegen(ast, &diags, &code, &len);
	if (diags.nerrors) {
		tg_diags_print(stderr, "t.tg", src, strlen(src), &diags);
		fail_msg("test policy does not compile");
	}
	tg_arena_free(&arena);
	assert_non_null(code);
	assert_int_equal(tg_policy_load_diag(code, len, &p, &err), TG_OK);
	free(code);
	return p;
}

#endif
