/*
 * test_runtime_fastpaths.c - the runtime's fast paths agree with the plain
 * code they stand in for:
 *   - glob_simple.c's star-only matcher and its pair prefilter against
 *     glob.c's NFA, on a table of edge cases and on random globs and
 *     subjects over a small alphabet (so matches are frequent);
 *   - the 8-byte ASCII path of tg_utf8_valid around word boundaries;
 *   - SHA-256 (the SHA-extension path on CPUs that have it) against the
 *     FIPS 180-4 test vectors, whole and fed in odd pieces;
 *   - the loader's slicing CRC against the bytewise one on a large buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "sha256.h"

/* Checks one glob against one subject through both matchers. */
static void agree(const char *glob, const char *subj, size_t slen)
{
	size_t glen = strlen(glob), from = 0;
	while (from < glen && glob[from] != '*' && glob[from] != '?' && glob[from] != '\\')
		from++;
	bool nfa = tg_glob_match_from(glob, glen, from, subj + (from <= slen ? from : slen),
				      from <= slen ? slen - from : 0) &&
		   from <= slen && memcmp(glob, subj, from) == 0;
	int kind = tg_glob_simple_kind(glob, glen, from);
	if (kind == TG_GLOB_NFA)
		return;
	bool fast = from <= slen && memcmp(glob, subj, from) == 0 &&
		    tg_glob_simple_match(glob + from, glen - from, subj + from, slen - from);
	if (fast != nfa)
		fail_msg("glob '%s' subject '%.*s': fast %d, nfa %d", glob, (int)slen, subj, fast, nfa);
	uint64_t need = tg_glob_required_pairs(glob, glen, from, kind);
	if (nfa && (need & ~tg_glob_pairs(subj, slen)))
		fail_msg("glob '%s' subject '%.*s': the prefilter rejects a match", glob, (int)slen,
			 subj);
}

static void test_simple_table(void **state)
{
	static const char *const g[] = {
		"*", "a*", "*a", "*.get_*", "github.*", "search_*", "a*b*c", "*ab*ab*", "*aa*",
		"*/x/*", "a/*/b", "*a/a*b", "*.json", "x*y", "*/", "/*",
	};
	static const char *const s[] = {
		"", "a", "ab", "abc", "aXbYc", "a/b/c", "jira.get_issue", "jira.list", "github.",
		"github.x/y", "search_docs", "abab", "ababab", "aab", "a/ab", "a/a/ab", "x.json",
		"a/x/b", "xy", "x/y", "a/", "/a", "aa", "a/aa", "/x/", "q/x/r",
	};
	assert_int_equal(tg_glob_simple_kind("a?b", 3, 1), TG_GLOB_NFA);
	assert_int_equal(tg_glob_simple_kind("a**", 3, 1), TG_GLOB_NFA);
	assert_int_equal(tg_glob_simple_kind("a*\\*", 4, 1), TG_GLOB_NFA);
	assert_int_equal(tg_glob_simple_kind("*\xC3\xA9", 3, 0), TG_GLOB_NFA);
	assert_int_equal(tg_glob_simple_kind("*/x", 3, 0), TG_GLOB_STARS);
	assert_int_equal(tg_glob_simple_kind("x*", 2, 0), TG_GLOB_NFA);	/* from is not a star */
	for (size_t i = 0; i < sizeof g / sizeof *g; i++)
		for (size_t j = 0; j < sizeof s / sizeof *s; j++)
			agree(g[i], s[j], strlen(s[j]));
}

static void test_simple_random(void **state)
{
	static const char alpha[] = "ab/.";
	char glob[16], subj[24];
	srand(12345);
	for (int n = 0; n < 200000; n++) {
		size_t gl = (size_t)(rand() % 8), sl = (size_t)(rand() % 14);
		for (size_t i = 0; i < gl; i++) {
			int r = rand() % 6;
			glob[i] = r < 2 ? '*' : alpha[r - 2];
		}
		glob[gl] = 0;
		for (size_t i = 0; i < sl; i++)
			subj[i] = alpha[rand() % 4];
		subj[sl] = 0;
		agree(glob, subj, sl);
	}
}

static void test_utf8_words(void **state)
{
	char buf[40];
	for (size_t len = 0; len <= 24; len++) {
		memset(buf, 'a', sizeof buf);
		assert_true(tg_utf8_valid(buf, len));
		for (size_t at = 0; at < len; at++) {
			memset(buf, 'a', sizeof buf);
			buf[at] = 0;
			assert_false(tg_utf8_valid(buf, len));
			buf[at] = (char)0xFF;
			assert_false(tg_utf8_valid(buf, len));
			if (at + 1 < len) {
				buf[at] = (char)0xC3;		/* é, split anywhere */
				buf[at + 1] = (char)0xA9;
				assert_true(tg_utf8_valid(buf, len));
				buf[at + 1] = 'a';		/* lead byte without continuation */
				assert_false(tg_utf8_valid(buf, len));
			} else {
				buf[at] = (char)0xC3;		/* truncated at the end */
				assert_false(tg_utf8_valid(buf, len));
			}
		}
	}
	assert_false(tg_utf8_valid("\xED\xA0\x80xxxxxxxx", 11));	/* a surrogate */
	assert_false(tg_utf8_valid("xxxxxxxx\xC0\x80", 10));		/* an overlong NUL */
}

static void hex_of(const void *data, size_t len, char hex[65])
{
	unsigned char d[32];
	tg_sha256(data, len, d);
	tg_sha256_hex(d, hex);
}

static void test_sha256_vectors(void **state)
{
	char hex[65];
	hex_of("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	hex_of(m2, strlen(m2), hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	const char *m3 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
			 "klmnopqrlmnopqrsmnopqrstnopqrstu";
	hex_of(m3, strlen(m3), hex);
	assert_string_equal(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");

	size_t n = 1000000;
	char *a = malloc(n);
	assert_non_null(a);
	memset(a, 'a', n);
	hex_of(a, n, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* the same through the incremental API in uneven pieces */
	tg_sha256_ctx c;
	unsigned char d[32];
	tg_sha256_init(&c);
	for (size_t off = 0, step = 1; off < n; off += step, step = step * 7 % 997 + 1)
		tg_sha256_update(&c, a + off, step < n - off ? step : n - off);
	tg_sha256_final(&c, d);
	tg_sha256_hex(d, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

/* The bytewise CRC-32 the loader's sliced one must equal. */
static uint32_t crc_reference(const unsigned char *b, size_t len)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < len; i++) {
		unsigned char x = i >= TG_HDR_CHECKSUM && i < TG_HDR_CHECKSUM + 4 ? 0 : b[i];
		c ^= x;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xFFFFFFFFu;
}

static void test_crc_sliced(void **state)
{
	size_t sizes[] = { 0, 3, 24, 26, 28, 100, 65536 + 5, 300001 };
	unsigned char *b = malloc(300001);
	assert_non_null(b);
	for (size_t i = 0; i < 300001; i++)
		b[i] = (unsigned char)(i * 2654435761u >> 13);
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
		assert_int_equal(tg_fmt_checksum(b, sizes[i]), crc_reference(b, sizes[i]));
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_table),
		cmocka_unit_test(test_simple_random),
		cmocka_unit_test(test_utf8_words),
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_crc_sliced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
