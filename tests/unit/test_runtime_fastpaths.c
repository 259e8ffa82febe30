/*
 * test_runtime_fastpaths.c - the runtime's fast paths agree with the plain
 * code they stand in for:
 *   - glob_simple.c's star-only matcher and its pair prefilter against
 *     glob.c's general automaton, on a table of edge cases and on random globs and
 *     subjects over a small alphabet (so matches are frequent);
 *   - the 8-byte ASCII path of tg_utf8_valid around word boundaries, and
 *     tg_request_check's quick pass over whole requests;
 *   - SHA-256 (the SHA-extension path on CPUs that have it) against the
 *     FIPS 180-4 test vectors, whole and fed in odd pieces;
 *   - the loader's slicing CRC against the bytewise one on a large buffer;
 *   - the loader's candidate lists (cands.c) against the run-time merge of
 *     index postings, and evaluation without them past their size budget;
 *   - the loader's per-pattern matchers (keytab.h) against
 *     tg_pattern_match, the word-at-a-time pair set against one built pair
 *     by pair, the key and role tables against the verifier's role table
 *     and against clustering of keys that differ in their last bytes, and
 *     keys held in their table entry or not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decision.h"
#include "stages.h"
#include "keytab.h"
#include "sha256.h"

/* Checks one glob against one subject through both matchers. */
static void agree(const char *glob, const char *subj, size_t slen)
{
	size_t glen = strlen(glob), from = 0;
	while (from < glen && glob[from] != '*' && glob[from] != '?' && glob[from] != '\\')
		from++;
	bool general = tg_glob_match_from(glob, glen, from, subj + (from <= slen ? from : slen),
					  from <= slen ? slen - from : 0) &&
		       from <= slen && memcmp(glob, subj, from) == 0;
	int kind = tg_glob_star_kind(glob, glen, from);
	if (kind == TG_GLOB_GENERAL)
		return;
	bool fast = from <= slen && memcmp(glob, subj, from) == 0 &&
		    (kind == TG_GLOB_STARS
			     ? tg_glob_simple_match(glob + from, glen - from, subj + from, slen - from)
			     : tg_glob_dstar_match(glob + from, glen - from, subj + from, slen - from));
	if (fast != general)
		fail_msg("glob '%s' subject '%.*s': fast %d, general %d", glob, (int)slen, subj, fast,
			 general);
	uint64_t need = tg_glob_required_pairs(glob, glen, from, kind);
	if (general && (need & ~tg_glob_pairs(subj, slen)))
		fail_msg("glob '%s' subject '%.*s': the prefilter rejects a match", glob, (int)slen,
			 subj);
}

static void test_simple_table(void **state)
{
	static const char *const g[] = {
		"*", "a*", "*a", "*.get_*", "github.*", "search_*", "a*b*c", "*ab*ab*", "*aa*",
		"*/x/*", "a/*/b", "*a/a*b", "*.json", "x*y", "*/", "/*", "**", "a/**", "**/x/**",
		"**a**b", "a**", "**.json", "/**/x", "a/**b", "***a",
	};
	static const char *const s[] = {
		"", "a", "ab", "abc", "aXbYc", "a/b/c", "jira.get_issue", "jira.list", "github.",
		"github.x/y", "search_docs", "abab", "ababab", "aab", "a/ab", "a/a/ab", "x.json",
		"a/x/b", "xy", "x/y", "a/", "/a", "aa", "a/aa", "/x/", "q/x/r",
	};
	assert_int_equal(tg_glob_star_kind("a?b", 3, 1), TG_GLOB_GENERAL);
	assert_int_equal(tg_glob_star_kind("a*b**", 5, 1), TG_GLOB_GENERAL);	/* both kinds of run */
	assert_int_equal(tg_glob_star_kind("a*\\*", 4, 1), TG_GLOB_GENERAL);
	assert_int_equal(tg_glob_star_kind("*\xC3\xA9", 3, 0), TG_GLOB_GENERAL);
	assert_int_equal(tg_glob_star_kind("*/x", 3, 0), TG_GLOB_STARS);
	assert_int_equal(tg_glob_star_kind("x*", 2, 0), TG_GLOB_GENERAL);	/* from is not a star */
	assert_int_equal(tg_glob_star_kind("a**", 3, 1), TG_GLOB_DSTARS);
	assert_int_equal(tg_glob_star_kind("**/x/**", 7, 0), TG_GLOB_DSTARS);
	assert_int_equal(tg_glob_star_kind("a/**/b", 6, 2), TG_GLOB_GENERAL);	/* may match one `/` */
	assert_int_equal(tg_glob_star_kind("a**b*", 5, 1), TG_GLOB_GENERAL);
	assert_int_equal(tg_glob_star_kind("a**?", 4, 1), TG_GLOB_GENERAL);
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

/* The byte-at-a-time URI check tg_uri_problem replaced: true when bad. */
static bool uri_bad_ref(const char *u, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++) {
		if (u[i] != '%')
			continue;
		char x = u[i + 2];
		if (x >= 'a' && x <= 'z')
			x = (char)(x - 'a' + 'A');
		if ((u[i + 1] == '2' && (x == 'F' || x == 'E' || x == '5')) ||
		    (u[i + 1] == '5' && x == 'C'))
			return true;
	}
	size_t end = 0;
	while (end < len && u[end] != '?' && u[end] != '#')
		end++;
	for (size_t i = 0, seg = 0; i <= end; i++) {
		if (i < end && u[i] != '/' && u[i] != '\\')
			continue;
		size_t sl = i - seg;
		if ((sl == 1 && u[seg] == '.') || (sl == 2 && u[seg] == '.' && u[seg + 1] == '.'))
			return true;
		seg = i + 1;
	}
	return false;
}

static void test_uri_random(void **state)
{
	static const char alpha[] = "a./\\%2F5c?#e";
	char u[16];
	srand(777);
	for (int n = 0; n < 300000; n++) {
		size_t len = (size_t)(rand() % 14);
		for (size_t i = 0; i < len; i++)
			u[i] = alpha[rand() % (int)(sizeof alpha - 1)];
		if ((tg_uri_problem(u, len) != NULL) != uri_bad_ref(u, len))
			fail_msg("uri '%.*s': %d", (int)len, u, tg_uri_problem(u, len) != NULL);
	}
	assert_null(tg_uri_problem("", 0));
	assert_non_null(tg_uri_problem("file:///a/../b", 14));
	assert_null(tg_uri_problem("file:///a/..b?x/../", 19));
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

/* tg_request_check's quick pass (whole words, overlapping short loads)
 * against the byte-by-byte validator, for a bad or good byte at every
 * position of strings of every length up to 40, in every kind of field a
 * request has. */
static void test_request_quick_pass(void **state)
{
	(void)state;
	static const unsigned char probes[] = { 0, 0x7F, 0x80, 0xC3, 0xFF, 'a' };
	char buf[48];
	tg_str scopes[2], items[2];
	tg_value slot;
	for (size_t field = 0; field < 6; field++)
		for (size_t len = 0; len <= 40; len++)
			for (size_t at = 0; at <= len; at++)
				for (size_t k = 0; k < sizeof probes; k++) {
					memset(buf, 'a', sizeof buf);
					if (at < len)
						buf[at] = (char)probes[k];
					if (at + 1 < len && probes[k] == 0xC3)
						buf[at + 1] = (char)0xA9;	/* é */
					tg_str str = { buf, len };
					tg_request r;
					tg_request_init(&r);
					r.principal_id = (tg_str){ "p", 1 };
					r.method = (tg_str){ "tools/call", 10 };
					r.target = (tg_str){ "t", 1 };
					scopes[0] = scopes[1] = items[0] = items[1] = (tg_str){ "s", 1 };
					memset(&slot, 0, sizeof slot);
					switch (field) {
					case 0: r.principal_id = str; break;
					case 1: r.target = str; break;
					case 2: r.server = str; break;
					case 3: scopes[1] = str; r.scopes = scopes; r.nscopes = 2; break;
					case 4:
						slot.type = TG_VALUE_STRING;
						slot.u.s = str;
						r.slots = &slot;
						r.nslots = 1;
						break;
					default:
						items[0] = str;
						slot.type = TG_VALUE_STRING_LIST;
						slot.u.strs.items = items;
						slot.u.strs.n = 2;
						r.slots = &slot;
						r.nslots = 1;
					}
					bool want = tg_utf8_valid(buf, len);
					bool got = tg_request_check(&r, NULL) == TG_OK;
					if (got != want)
						fail_msg("field %zu len %zu byte 0x%02x at %zu: check %d, "
							 "validator %d", field, len, probes[k], at, got, want);
				}
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
		assert_int_equal(tg_bc_checksum(b, sizes[i]), crc_reference(b, sizes[i]));
	free(b);
}

static tg_policy *load_src(const char *src)
{
	tg_arena arena;
	tg_diags diags;
	unsigned char *code = NULL;
	size_t len = 0;
	tg_policy *p = NULL;

	tg_arena_init(&arena);
	tg_diags_init(&diags, &arena);
	tg_ast *ast = tg_parse(&arena, "lists.tg", src, strlen(src), &diags);
	assert_non_null(ast);
	if (diags.nerrors == 0 && tg_check(ast, &diags))
		assert_true(tg_codegen(ast, &diags, &code, &len));
	if (diags.nerrors)
		tg_diags_print(stderr, "lists.tg", src, strlen(src), &diags);
	assert_int_equal(diags.nerrors, 0);
	tg_arena_free(&arena);
	assert_int_equal(tg_policy_load(code, len, &p, NULL), TG_OK);
	free(code);
	return p;
}

/* The rules whose action matches a request, in order: from the load-time
 * list (cands.c) and from the run-time merge of index postings (match.c). */
static size_t listed(const tg_policy *p, const tg_request *q, uint32_t *out)
{
	tg_vm vm;
	uint32_t n;
	size_t k = 0;
	tg_vm_init(&vm, &p->l, q, tg_bc_method_class(q->method.ptr, q->method.len), false);
	const uint32_t *list = tg_cands_list(&p->l, vm.cls, q->target.ptr, q->target.len, &n);
	for (uint32_t i = 0; i < n; i++) {
		const tg_rule_view *r = &p->l.rv[list[i] & TG_CAND_RULE];
		bool m = tg_action_match(&vm, r);
		if ((list[i] & TG_CAND_KNOWN) && !m)
			fail_msg("rule %u is marked as matching '%.*s' but does not",
				 (unsigned)(list[i] & TG_CAND_RULE), (int)q->target.len, q->target.ptr);
		if (m)
			out[k++] = list[i] & TG_CAND_RULE;
	}
	return k;
}

static size_t merged(const tg_policy *p, const tg_request *q, uint32_t *out)
{
	tg_vm vm;
	tg_cands c;
	uint32_t ri;
	size_t k = 0;
	tg_vm_init(&vm, &p->l, q, tg_bc_method_class(q->method.ptr, q->method.len), false);
	tg_cands_init(&c, &p->l, vm.cls, q->target.ptr, q->target.len);
	while (tg_cands_next(&c, &ri)) {
		tg_rule_view r = tg_pol_rule(&p->l, ri);
		if (tg_action_match(&vm, &r))
			out[k++] = ri;
	}
	return k;
}

/* The loader's candidate lists hold exactly the rules the run-time merge
 * finds whose action matches, in the same order, for exact, prefix-only
 * and unindexed targets of every method class. */
static void test_cands_lists(void **state)
{
	(void)state;
	static const char src[] =
		"rule \"a\": deny principal \"m\" to do anything;\n"
		"rule \"b\": deny anyone to call any tool;\n"
		"rule \"c\": allow anyone to call tool \"github.*\", \"gi.x\", \"g\";\n"
		"rule \"d\": allow anyone to call tool \"github.create_issue\";\n"
		"rule \"e\": allow anyone to call tool \"*.get_*\", \"*.list_*\";\n"
		"rule \"f\": allow anyone to call tool \"gith*b.x\", \"**\";\n"
		"rule \"g\": allow anyone to invoke \"tools/*\", \"resources/sub*\";\n"
		"rule \"h\": allow anyone to list tools;\n"
		"rule \"i\": allow anyone to read resource \"file:///a/**\", \"file:///a/b\";\n"
		"rule \"j\": allow anyone to read any resource;\n"
		"rule \"k\": allow anyone to get prompt \"greet\", \"g*\";\n"
		"rule \"l\": allow client \"c\" to call tool \"github.get_x\";\n"
		"rule \"m\": allow anyone to list resources;\n";
	static const char *const methods[] = {
		"tools/call", "resources/read", "resources/subscribe", "prompts/get", "tools/list",
		"resources/list", "prompts/list", "resources/templates/list", "ping",
		"completion/complete",
	};
	static const char *const targets[] = {
		"github.create_issue", "github.get_x", "github.list_y", "gith", "gi.x", "g", "gi",
		"githubxb.x", "x.get_y", "nothing", "", "file:///a/b", "file:///a/b/c", "file:///z",
		"greet", "gre", "zzz/yy",
	};
	tg_policy *p = load_src(src);
	assert_non_null(p->l.pool);
	uint32_t a[64], b[64];
	for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++)
		for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
			tg_request q;
			tg_request_init(&q);
			q.principal_id = (tg_str){ "p", 1 };
			q.method = (tg_str){ methods[m], strlen(methods[m]) };
			q.target = (tg_str){ targets[t], strlen(targets[t]) };
			size_t na = listed(p, &q, a), nb = merged(p, &q, b);
			if (na != nb || memcmp(a, b, na * sizeof a[0]) != 0)
				fail_msg("%s '%s': %zu listed rules, %zu merged", methods[m], targets[t],
					 na, nb);
		}
	tg_policy_free(p);
}

/* Past its size budget the loader builds no lists, and evaluation merges
 * at run time with the same decisions. */
static void test_cands_over_budget(void **state)
{
	(void)state;
	enum { N = 400 };
	size_t cap = (size_t)N * 160, n = 0;
	char *src = malloc(cap);
	assert_non_null(src);
	n += (size_t)snprintf(src + n, cap - n, "attribute context.x: int;\n");
	for (int i = 0; i < N; i++)
		n += (size_t)snprintf(src + n, cap - n,
				      "deny anyone to call any tool when context.x == %d;\n"
				      "allow anyone to call tool \"t%d\";\n", i, i);
	n += (size_t)snprintf(src + n, cap - n,
			      "role viewer;\nrole blocked;\n"
			      "allow role viewer to call tool \"v*\";\n"
			      "deny role blocked to call any tool;\n");
	tg_policy *p = load_src(src);
	free(src);
	assert_null(p->l.pool);
	uint32_t slot;
	assert_int_equal(tg_policy_slot_find(p, "context.x", &slot), TG_OK);
	tg_value v[1];
	memset(v, 0, sizeof v);
	v[0].type = TG_VALUE_INT;
	tg_request q;
	tg_request_init(&q);
	q.principal_id = (tg_str){ "p", 1 };
	q.method = (tg_str){ "tools/call", 10 };
	q.target = (tg_str){ "t7", 2 };
	q.slots = v;
	q.nslots = 1;
	tg_decision d;
	v[0].u.i = 5;
	assert_int_equal(tg_eval(p, &q, &d), TG_OK);
	assert_int_equal(d.effect, TG_DENY);
	assert_int_equal(d.rule_index, 10);
	v[0].u.i = 1000;
	assert_int_equal(tg_eval(p, &q, &d), TG_OK);
	assert_int_equal(d.effect, TG_ALLOW);
	assert_int_equal(d.rule_index, 15);
	bool vis = false;
	tg_entry e;
	tg_entry_init(&e);
	e.name = q.target;
	assert_int_equal(tg_visible(p, &q, &e, &vis), TG_OK);
	assert_true(vis);
	/* Visibility merges at run time too: a deny that applies hides, role
	 * subjects are matched, a target no rule names stays hidden. */
	v[0].u.i = 7;
	assert_int_equal(tg_visible(p, &q, &e, &vis), TG_OK);
	assert_false(vis);
	v[0].u.i = 1000;
	/* Past the budget tg_eval walks the merged postings with quick
	 * programs; tg_eval_trace merges and interprets: the same decisions. */
	{
		static const char *const names[] = { "t0", "t7", "t399", "v1", "v/x", "w1", "" };
		char t[8];
		tg_str rl[] = { { "viewer", 6 }, { "blocked", 7 } };
		q.roles = rl;
		for (int x = -1; x <= N; x += 37)
			for (size_t k = 0; k < sizeof names / sizeof names[0] + 3; k++)
				for (size_t nr = 0; nr <= 2; nr++) {
					tg_decision a, b;
					if (k < sizeof names / sizeof names[0])
						snprintf(t, sizeof t, "%s", names[k]);
					else
						snprintf(t, sizeof t, "t%d", (x + (int)k) % N < 0 ? 0 : (x + (int)k) % N);
					q.target = (tg_str){ t, strlen(t) };
					q.nroles = nr;
					v[0].u.i = x;
					assert_int_equal(tg_eval(p, &q, &a), TG_OK);
					assert_int_equal(tg_eval_trace(p, &q, &b, NULL, NULL), TG_OK);
					if (a.effect != b.effect || a.rule_index != b.rule_index ||
					    a.nerrors != b.nerrors || a.by_error != b.by_error)
						fail_msg("x %d target '%s' roles %zu: tg_eval %d/%u, trace %d/%u", x,
							 t, nr, a.effect, a.rule_index, b.effect, b.rule_index);
				}
		q.target = (tg_str){ "t7", 2 };
		q.nroles = 0;
		v[0].u.i = 1000;
	}
	static const char *const targets[] = { "v1", "t9", "w1" };
	enum { NT = sizeof targets / sizeof targets[0] };
	static const bool want[3][NT] = {	/* by the number of roles held */
		{ false, true, false },		/* none */
		{ true, true, false },		/* viewer */
		{ false, false, false },	/* viewer, blocked */
	};
	tg_str roles[] = { { "viewer", 6 }, { "blocked", 7 } };
	tg_entry es[NT];
	bool many[NT];
	q.roles = roles;
	for (size_t nr = 0; nr <= 2; nr++) {
		q.nroles = nr;
		for (size_t i = 0; i < NT; i++) {
			tg_entry_init(&es[i]);
			es[i].name = (tg_str){ targets[i], strlen(targets[i]) };
			assert_int_equal(tg_visible(p, &q, &es[i], &vis), TG_OK);
			if (vis != want[nr][i])
				fail_msg("'%s' with %zu roles: visible %d", targets[i], nr, vis);
		}
		assert_int_equal(tg_visible_many(p, &q, es, NT, many), TG_OK);
		for (size_t i = 0; i < NT; i++)
			assert_int_equal(many[i], want[nr][i]);
	}
	tg_policy_free(p);
}

/* tg_glob_pairs takes eight pairs per word: it must equal the union of
 * the pair sets of every two-byte window, for every length and offset. */
static void test_pairs_words(void **state)
{
	(void)state;
	unsigned char buf[64];
	srand(777);
	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof buf; i++)
			buf[i] = (unsigned char)(round % 3 ? "ab./_x"[rand() % 6] : rand() % 256);
		for (size_t n = 0; n <= 48; n++) {
			const char *s = (const char *)buf + round % 8;
			uint64_t want = 0;
			for (size_t i = 0; i + 1 < n; i++)
				want |= tg_glob_pairs(s + i, 2);
			if (tg_glob_pairs(s, n) != want)
				fail_msg("pair set of %zu bytes differs from its windows'", n);
		}
	}
}

/* Every pattern's load-time matcher against tg_pattern_match: the target
 * patterns below take each shape (and the general one), the subjects are fixed
 * edge cases plus random strings over the globs' alphabet. A match must
 * also pass the pair prefilter. */
static void test_pattern_shapes(void **state)
{
	(void)state;
	static const char src[] =
		"rule \"a\": allow anyone to call tool \"github.*\", \"*.json\", \"*.get_*\", "
		"\"gh.x\";\n"
		"rule \"b\": allow anyone to call tool \"a*b*c\", \"*/x/*\", \"*a/b*\", \"*/\", "
		"\"x*/\", \"s*\";\n"
		"rule \"c\": allow anyone to call tool \"**\", \"a/**\", \"**/x/**\", \"x?y*\", "
		"\"\xC3\xA9*\", \"a/**/b\", \"*.get_*.x\";\n"
		"rule \"d\": allow anyone to invoke \"tools/*\", \"ping\";\n";
	static const char *const fixed[] = {
		"", "a", "github.", "github.x", "github.x/y", "githu", "x.json", ".json", "a/.json",
		"x.get_", "a.get_b", "a/b.get_c", "a.get_b/c", "abc", "aXbYc", "a/bc", "q/x/r",
		"/x/", "xa/by", "a/b", "/", "x/", "xy/", "s", "s/", "anything/at/all", "a/b/c",
		"x/y/x/z", "xzy", "x\xC3\xA9y", "\xC3\xA9", "\xC3\xA9/", "a/b", "a/x/b",
		"a.get_.x", "a.get_b.x", "tools/call", "ping", "gh.x",
	};
	static const char alpha[] = "ab/.x_getjson*";
	tg_policy *p = load_src(src);
	const tg_layout *l = &p->l;
	assert_non_null(l->keytab);
	const struct tg_pat_fast *pf = l->keytab->pats;
	unsigned seen = 0;
	for (uint32_t i = 0; i < l->npats; i++)
		seen |= 1u << pf[i].shape;
	/* each shape is exercised, so a classification gone wrong shows */
	assert_int_equal(seen, (1u << (TG_PF_GENERAL + 1)) - 1);
	char subj[24];
	srand(4242);
	for (int round = 0; round < 40000; round++) {
		const char *s;
		size_t n;
		if (round < (int)(sizeof fixed / sizeof fixed[0])) {
			s = fixed[round];
			n = strlen(s);
		} else {
			n = (size_t)(rand() % 16);
			for (size_t k = 0; k < n; k++)
				subj[k] = alpha[rand() % (sizeof alpha - 1)];
			s = subj;
		}
		for (uint32_t i = 0; i < l->npats; i++) {
			bool want = tg_pattern_match(l, i, s, n);
			if (tg_pat_fast_match(&pf[i], s, n) != want)
				fail_msg("pattern %u (shape %d) on '%.*s': fast %d, tg_pattern_match %d",
					 (unsigned)i, pf[i].shape, (int)n, s, !want, want);
			if (want && (pf[i].need & ~tg_glob_pairs(s, n)))
				fail_msg("pattern %u: the prefilter rejects '%.*s'", (unsigned)i, (int)n, s);
		}
	}
	tg_policy_free(p);
}

/* A name of len letters, NUL-terminated, that differs from the names of
 * other lengths (and, by step, from another test's). */
static void letters(char *name, int len, int step)
{
	for (int k = 0; k < len; k++)
		name[k] = (char)('a' + (k * step + len) % 26);
	name[len] = 0;
}

/* The role table against the verifier's, on declared names of every
 * length from 1 to 40 and on near misses (last byte changed, one byte
 * short, one byte more). */
static void test_role_lookup(void **state)
{
	(void)state;
	char src[8192], name[48];
	size_t n = 0;
	for (int len = 1; len <= 40; len++) {
		letters(name, len, 7);
		n += (size_t)snprintf(src + n, sizeof src - n, "role %s;\n", name);
	}
	n += (size_t)snprintf(src + n, sizeof src - n, "allow anyone to list tools;\n");
	tg_policy *p = load_src(src);
	const tg_layout *l = &p->l;
	assert_int_equal(l->nroles, 40);
	for (uint32_t r = 0; r < l->nroles; r++) {
		tg_str nm = tg_pol_str(l, tg_rd32(l->roles + (size_t)r * 4));
		assert_true(nm.len < sizeof name - 1);
		assert_int_equal(tg_role_lookup(l, nm.ptr, nm.len), (int32_t)r);
		memcpy(name, nm.ptr, nm.len);
		name[nm.len] = 'z';
		assert_int_equal(tg_role_lookup(l, name, nm.len + 1), tg_role_find(l, name, nm.len + 1));
		assert_int_equal(tg_role_lookup(l, name, nm.len - 1), tg_role_find(l, name, nm.len - 1));
		name[nm.len - 1] ^= 1;
		assert_int_equal(tg_role_lookup(l, name, nm.len), -1);
	}
	tg_policy_free(p);
}

/* Tool names that differ only in their last bytes must not pile up in a
 * few buckets of the key table (the hash's byte swap); and each is found
 * with its own list. */
static void test_key_spread(void **state)
{
	(void)state;
	enum { N = 600 };
	size_t cap = (size_t)N * 80, n = 0;
	char *src = malloc(cap);
	assert_non_null(src);
	for (int i = 0; i < N; i++)
		n += (size_t)snprintf(src + n, cap - n,
				      "allow anyone to call tool \"server.tool_%04d\";\n", i);
	tg_policy *p = load_src(src);
	free(src);
	const tg_layout *l = &p->l;
	assert_non_null(l->pool);
	const struct tg_key *ents = l->keytab->ents;
	uint64_t used = 0, dist = 0;
	for (uint64_t b = 0; b <= l->keys_mask; b++) {
		if (!ents[b].h)
			continue;
		used++;
		dist += (b - ents[b].h) & l->keys_mask;
	}
	assert_int_equal(used, N);
	if (dist > 2 * used)
		fail_msg("%llu keys %llu buckets from home in all", (unsigned long long)used,
			 (unsigned long long)dist);
	for (int i = 0; i < N; i++) {
		char t[32];
		int tl = snprintf(t, sizeof t, "server.tool_%04d", i);
		uint32_t cn;
		const uint32_t *list = tg_cands_list(l, TG_CLASS_TOOL, t, (size_t)tl, &cn);
		assert_int_equal(cn, 1);
		assert_int_equal(list[0] & TG_CAND_RULE, (uint32_t)i);
	}
	tg_policy_free(p);
}

/* Exact tool names of every length from 1 to 48, around the 32 bytes an
 * entry holds itself: each is found with its own list, from a cache line
 * of its own when it fits there; a name with its last byte changed is
 * not found. */
static void test_key_lengths(void **state)
{
	(void)state;
	char src[8192], name[64];
	size_t n = 0;
	for (int len = 1; len <= 48; len++) {
		letters(name, len, 5);
		n += (size_t)snprintf(src + n, sizeof src - n, "allow anyone to call tool \"%s\";\n",
				      name);
	}
	tg_policy *p = load_src(src);
	const tg_layout *l = &p->l;
	assert_non_null(l->pool);
	assert_int_equal((uintptr_t)l->keytab->ents % 64, 0);
	for (int len = 1; len <= 48; len++) {
		letters(name, len, 5);
		const struct tg_key *k = tg_key_find(l->keytab->ents, l->keys_mask, TG_CLASS_TOOL,
						     TG_INDEX_EXACT, name, (size_t)len);
		assert_non_null(k);
		assert_true((k->key == k->own) == (len <= (int)sizeof k->own));
		uint32_t cn;
		const uint32_t *list = tg_cands_list(l, TG_CLASS_TOOL, name, (size_t)len, &cn);
		assert_int_equal(cn, 1);
		assert_int_equal(list[0] & TG_CAND_RULE, (uint32_t)(len - 1));
		name[len - 1] ^= 1;
		assert_null(tg_key_find(l->keytab->ents, l->keys_mask, TG_CLASS_TOOL, TG_INDEX_EXACT,
					name, (size_t)len));
	}
	tg_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_table),
		cmocka_unit_test(test_simple_random),
		cmocka_unit_test(test_uri_random),
		cmocka_unit_test(test_utf8_words),
		cmocka_unit_test(test_request_quick_pass),
		cmocka_unit_test(test_cands_lists),
		cmocka_unit_test(test_cands_over_budget),
		cmocka_unit_test(test_pairs_words),
		cmocka_unit_test(test_pattern_shapes),
		cmocka_unit_test(test_role_lookup),
		cmocka_unit_test(test_key_spread),
		cmocka_unit_test(test_key_lengths),
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_crc_sliced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
