/*
 * test_runtime_quick.c - quick programs (runtime/quick.c, vm.c) against
 * the interpreter they stand in for.
 *
 * For every rule that got a quick program, on random valid requests (slot
 * values absent, of every type, inside and outside declared domains,
 * empty lists, strings without bytes; random roles, scopes, methods,
 * targets and hints), in decision and in visibility mode (where a program
 * has its UNKNOWN edges): when the quick program gives a result, the
 * interpreter on a fresh state gives the same and counts the same
 * instructions. The policies are the example
 * policies, the benchmark scenario and one written to reach every quick
 * test; it also checks that each kind of quick test was translated and
 * that every translated rule gave results, so the path it guards is
 * live. (Random slot values are mostly of the wrong type, so most runs
 * give up: that half is what the interpreter does.)
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
#include "policy_fixture.h"
#include "vm.h"
#include "rng.h"

static const char shapes_src[] =
	"attribute context.env: string in [\"dev\", \"prod\"];\n"
	"attribute context.n: int in [1, 2, 3];\n"
	"attribute context.mfa: bool;\n"
	"attribute principal.tenant: string;\n"
	"attribute context.tenant: string;\n"
	"attribute args.limit: int;\n"
	"attribute args.path: string;\n"
	"attribute args.tags: list<string>;\n"
	"attribute args.nums: list<int>;\n"
	"role r1; role r2: r1;\n"
	"rule \"s1\": deny anyone to call any tool when context.env == \"prod\" and tool.destructive\n"
	"  unless principal is r2 and context.mfa;\n"
	"rule \"s2\": deny anyone to do anything unless principal.tenant == context.tenant;\n"
	"rule \"s3\": deny anyone to call any tool when args has limit and args.limit > 10;\n"
	"rule \"s4\": deny anyone to call any tool unless token.scopes contains \"w\" or tool.read_only;\n"
	"rule \"s5\": deny anyone to call any tool when context.env in [\"dev\"] or context.n in [2, 3];\n"
	"rule \"s6\": deny anyone to call any tool when args.path under \"/srv\" and not (args.path like \"/srv/*.key\");\n"
	"rule \"s7\": deny anyone to read any resource when resource.uri like \"**/.ssh/**\";\n"
	"rule \"s8\": deny anyone to call any tool when tool.name starts_with \"x\" or principal.id ends_with \"bot\";\n"
	"rule \"s9\": deny anyone to call any tool when args.tags contains \"t\" or args.nums contains 2;\n"
	"rule \"s10\": deny anyone to call any tool when context.n <= 2 and context.n != 1;\n"
	"rule \"s11\": deny anyone to call any tool when tool has server and context has mfa;\n"
	"rule \"s12\": deny anyone to call any tool when args.limit >= context.n;\n"
	"rule \"s13\": deny anyone to call any tool when context.mfa == true or args.path contains \"..\";\n"
	"rule \"s14\": deny anyone to call any tool when context.undeclared == \"a\" or args.y > 3 or args.z;\n"
	"rule \"s15\": deny anyone to get any prompt when prompt.name != \"p\" and request.method == \"prompts/get\";\n"
	"rule \"s16\": allow anyone to call any tool when tool.server == \"gh\" or tool.name like \"a?c\";\n"
	"rule \"s17\": allow role r1 to do anything when true;\n"
	"rule \"s18\": allow anyone to call any tool when args.limit + 1 > 3;\n"
	"rule \"s19\": deny anyone to call any tool when principal.tenant in args.tags\n"
	"  or principal.roles contains \"r1\";\n"
	"rule \"s20\": deny anyone to call any tool when all args.tags under \"/srv\"\n"
	"  or any args.tags like \"*.key\";\n"
	"rule \"s21\": deny anyone to call any tool when any args.nums in [1, 2]\n"
	"  and all args.tags in [\"t\", \"w\", \"/srv/x\"];\n"
	"rule \"s22\": deny anyone to call any tool when all token.scopes like \"w*\"\n"
	"  and any principal.roles under \"/r\";\n"
	"rule \"s23\": deny anyone to call any tool when args.path matches \"/srv/[a-z]+\\\\.key\"\n"
	"  or any args.tags matches \"(t|w)\" or all token.scopes matches \"w.*\";\n";


static const char *const words[] = {
	"", "dev", "prod", "staging", "acme", "globex", "t", "w", "/srv/a.key", "/srv/x",
	"/srv/../etc", "/etc/passwd", "relative", "x.y", "abc", "a/b", "..", "bot", "p",
};

static tg_str word(void)
{
	const char *w = words[rnd(sizeof words / sizeof words[0])];
	tg_str s = { w, strlen(w) };
	if (s.len == 0 && rnd(2))
		s.ptr = NULL;	/* an empty string may come without bytes */
	return s;
}

enum { NLIST = 3 };

typedef struct req_buf {
	tg_request q;
	tg_value slots[64];
	tg_str lists[64][NLIST], roles[2], scopes[2];
	int64_t ints[64][NLIST];
} req_buf;

static void random_value(req_buf *b, size_t i)
{
	tg_value *v = &b->slots[i];
	static const int64_t nums[] = { 0, 1, 2, 3, 4, 11, -5, INT64_MAX };
	memset(v, 0, sizeof *v);
	switch (rnd(8)) {
	case 0: v->type = TG_VALUE_ABSENT; break;
	case 1:
	case 2: v->type = TG_VALUE_STRING; v->u.s = word(); break;
	case 3: v->type = TG_VALUE_INT; v->u.i = nums[rnd(8)]; break;
	case 4: v->type = TG_VALUE_BOOL; v->u.b = rnd(2); break;
	case 5:
		v->type = TG_VALUE_STRING_LIST;
		v->u.strs.n = rnd(NLIST + 1);
		v->u.strs.items = b->lists[i];
		for (size_t k = 0; k < v->u.strs.n; k++)
			b->lists[i][k] = word();
		break;
	case 6:
		v->type = TG_VALUE_INT_LIST;
		v->u.ints.n = rnd(NLIST + 1);
		v->u.ints.items = b->ints[i];
		for (size_t k = 0; k < v->u.ints.n; k++)
			b->ints[i][k] = nums[rnd(8)];
		break;
	default: v->type = TG_VALUE_OTHER; break;
	}
}

static void random_request(req_buf *b, size_t nslots)
{
	static const char *const methods[] = {
		"tools/call", "tools/call", "resources/read", "prompts/get", "tools/list", "ping",
	};
	static const char *const targets[] = {
		"gh.issue", "xtool", "abc", "a?c", "file:///home/u/.ssh/id", "p", "q", "fs.read",
	};
	static const char *const role_names[] = { "r1", "r2", "other", "admin", "engineer" };
	static const char *const servers[] = { "gh", "fs" };
	tg_request *q = &b->q;
	tg_request_init(q);
	const char *m = methods[rnd(sizeof methods / sizeof methods[0])];
	const char *t = targets[rnd(sizeof targets / sizeof targets[0])];
	q->principal_id = word();
	if (!q->principal_id.ptr)
		q->principal_id.ptr = "";
	q->method = (tg_str){ m, strlen(m) };
	q->target = (tg_str){ t, strlen(t) };
	if (rnd(2)) {
		const char *s = servers[rnd(2)];
		q->server = (tg_str){ s, strlen(s) };
	}
	q->nroles = rnd(3);
	for (size_t k = 0; k < q->nroles; k++) {
		const char *r = role_names[rnd(sizeof role_names / sizeof role_names[0])];
		b->roles[k] = (tg_str){ r, strlen(r) };
	}
	q->roles = b->roles;
	q->nscopes = rnd(3);
	for (size_t k = 0; k < q->nscopes; k++)
		b->scopes[k] = word();
	q->scopes = b->scopes;
	tg_hint *h[] = { &q->read_only, &q->destructive, &q->idempotent, &q->open_world };
	for (int k = 0; k < 4; k++)
		*h[k] = (tg_hint)rnd(3);
	q->nslots = nslots < 64 ? nslots : 64;
	q->slots = b->slots;
	for (size_t i = 0; i < q->nslots; i++)
		random_value(b, i);
}

typedef struct tally {
	size_t translated, results, bails, errors;	/* errors: results that are */
	size_t unknowns;	/* visibility-mode results that are UNKNOWN */
	unsigned ops_seen;	/* bit TG_Q_* of quick instructions translated */
	uint64_t answered;	/* bit ri (< 64): rule ri's program gave a result */
} tally;

/* Every rule's quick program against the interpreter on one request. */
static void compare_rules(const tg_policy *p, const tg_request *q, bool visibility, tally *t)
{
	const tg_layout *l = &p->l;
	tg_bc_class cls = tg_bc_method_class(q->method.ptr, q->method.len);
	for (uint32_t ri = 0; ri < l->nrules; ri++) {
		const tg_rule_view *r = &l->rv[ri];
		if (r->quick == TG_BC_NONE || (visibility && !r->quick_vis))
			continue;
		tg_vm a, b;
		tg_vm_init(&a, l, q, cls, visibility);
		tg_vm_init(&b, l, q, cls, visibility);
		int c = tg_vm_quick(&a, r);
		tg_cond_result want = tg_vm_run(&b, r->code_off, r->code_len);
		if (c < 0) {
			t->bails++;
			continue;
		}
		t->results++;
		t->errors += c == TG_COND_ERROR;
		t->unknowns += c == TG_COND_UNKNOWN;
		if (ri < 64)
			t->answered |= (uint64_t)1 << ri;
		if ((tg_cond_result)c != want || a.insns != b.insns ||
		    (want == TG_COND_ERROR && strcmp(a.msg, b.msg) != 0))
			fail_msg("rule %u (line %u): quick %d after %u instructions (%s), interpreter "
				 "%d after %u (%s)", ri, tg_pol_rule_line(l, ri), c, a.insns, a.msg, (int)want, b.insns,
				 b.msg);
		/* And through the entry point evaluation uses. */
		tg_vm_init(&a, l, q, cls, visibility);
		assert_int_equal(tg_vm_cond(&a, r), want);
	}
}

static void run_policy(tg_policy *p, size_t nrequests, tally *t)
{
	const tg_layout *l = &p->l;
	for (uint32_t ri = 0; ri < l->nrules; ri++) {
		const tg_rule_view *r = &l->rv[ri];
		if (r->quick == TG_BC_NONE)
			continue;
		t->translated++;
		/* nodes follow the entry up to the first that no edge reaches
		 * from before it: walk the edges instead */
		const tg_qinsn *prog = l->quick + r->quick;
		uint16_t todo[TG_Q_MAX_NODES * TG_Q_EDGES], n = 0;
		bool seen[TG_Q_MAX_NODES] = { false };
		if (r->quick_first < TG_Q_UNKNOWN)
			todo[n++] = r->quick_first;
		while (n) {
			uint16_t k = todo[--n];
			if (seen[k])
				continue;
			seen[k] = true;
			t->ops_seen |= 1u << prog[k].op;
			for (int e = 0; e < TG_Q_EDGES; e++)
				if (prog[k].next[e] < TG_Q_UNKNOWN)
					todo[n++] = prog[k].next[e];
		}
	}
	req_buf *b = malloc(sizeof *b);
	assert_non_null(b);
	for (size_t k = 0; k < nrequests; k++) {
		random_request(b, l->nslots);
		if (tg_request_check(&b->q, NULL) != TG_OK)
			continue;
		compare_rules(p, &b->q, false, t);
		compare_rules(p, &b->q, true, t);
	}
	free(b);
}

static tg_policy *load_file(const char *rel)
{
	const char *dir = getenv("TG_SOURCE_DIR");
	char path[1024];
	size_t len;
	assert_non_null(dir);
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	char *src = tg_read_file(path, TG_MAX_SOURCE_BYTES, &len);
	assert_non_null(src);
	tg_policy *p = compile_policy(src);
	free(src);
	return p;
}

static void test_shapes(void **state)
{
	(void)state;
	tally t = { 0 };
	tg_policy *p = compile_policy(shapes_src);
	run_policy(p, 20000, &t);
	/* Left to the interpreter: s13 compares with a bool constant (LOAD,
	 * TRUE, CMP), s17 is TRUE; RET (never run), s18 does arithmetic. */
	for (uint32_t ri = 0; ri < p->l.nrules; ri++) {
		bool interp = ri == 12 || ri == 16 || ri == 17;
		if ((p->l.rv[ri].quick == TG_BC_NONE) != interp)
			fail_msg("rule s%u: %s quick program", ri + 1, interp ? "a" : "no");
		if (!interp && !(t.answered & ((uint64_t)1 << ri)))
			fail_msg("rule s%u: its quick program never gave a result", ri + 1);
	}
	tg_policy_free(p);
	if (t.errors == 0)	/* an unclean path under `under` */
		fail_msg("no quick program reported an error itself");
	if (t.unknowns == 0)	/* an `args` test in visibility mode */
		fail_msg("no quick program gave UNKNOWN in visibility mode");
	for (unsigned op = TG_Q_CONST; op < TG_Q_TESTS; op++)
		if (op != TG_Q_CONST && !(t.ops_seen & (1u << op)))
			fail_msg("no rule was translated to a quick test of kind %u", op);
}

static void test_examples(void **state)
{
	(void)state;
	static const char *const files[] = {
		"policies/examples/engineering.tg", "policies/examples/saas.tg",
		"policies/examples/ci-agents.tg", "policies/examples/analyst.tg",
		"bench/peers/scenario-50/scenario.tg",
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		tally t = { 0 };
		tg_policy *p = load_file(files[i]);
		run_policy(p, 3000, &t);
		if (t.translated == 0 || t.results == 0)
			fail_msg("%s: %zu quick programs, %zu results", files[i], t.translated,
				 t.results);
		tg_policy_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
