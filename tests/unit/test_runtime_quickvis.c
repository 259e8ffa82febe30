/*
 * test_runtime_quickvis.c - quick programs in visibility mode (their
 * UNKNOWN edges, runtime/quick.c and vm.c: an `args` test is UNKNOWN, the
 * rest follows Kleene logic) side by side with the interpreter, over random
 * tools/list requesters and catalogue entries drawn from the example
 * policies and a policy of `args` shapes:
 *   - every rule whose program has its UNKNOWN edges: when the program
 *     gives a result in visibility mode, the interpreter (tg_vm_run,
 *     visibility mode) gives the same, with the same instruction count;
 *     and a rule's visibility value folded from its program at load
 *     (tg_rule_view.vis, where `args` tests alone lead to the end) is what
 *     the interpreter gives on every request;
 *   - tg_visible on the policy gives what it gives on a second load of the
 *     same policy with every quick program and folded value removed (the
 *     interpreter alone);
 *   - the paths are live: programs answer UNKNOWN, rules have folded
 *     values, and requests reach them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_fixture.h"
#include "request_json.h"
#include "vm.h"
#include "rng.h"

static const char shapes_src[] =
	"policy \"vis-shapes\" version \"1\";\n"
	"attribute args.limit: int;\n"
	"attribute args.path: string;\n"
	"attribute args.channel: string;\n"
	"attribute context.environment: string in [\"dev\", \"staging\", \"prod\"];\n"
	"attribute context.mfa: bool;\n"
	"role viewer;\n"
	"role engineer: viewer;\n"
	"default deny;\n"
	"rule \"cap\": allow role viewer to call tool \"db.query\" when args.limit <= 50;\n"
	"rule \"under\": allow anyone to call tool \"fs.*\" when args.path under \"/srv\";\n"
	"rule \"starts\": allow role engineer to call tool \"chat.post\" when args.channel starts_with \"eng-\";\n"
	"rule \"both\": allow role engineer to call tool \"db.*\"\n"
	"  when args.limit <= 10 and args.channel starts_with \"x\";\n"
	"rule \"either\": allow anyone to call tool \"chat.*\"\n"
	"  when args.limit > 5 or args.path under \"/tmp\";\n"
	"rule \"deny-cap\": deny anyone to call tool \"db.query\" when args.limit > 1000;\n"
	"rule \"deny-unless\": deny anyone to call tool \"fs.write\" unless args.path under \"/srv/tmp\";\n"
	"rule \"mixed\": allow role viewer to call tool \"db.list\"\n"
	"  when context.environment == \"dev\" and args.limit <= 5;\n"
	"rule \"mfa\": deny anyone to call tool \"db.*\" when context.mfa and args.limit > 10;\n";


static char *read_source(const char *name)
{
	const char *dir = getenv("TG_SOURCE_DIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/policies/examples/%s", dir ? dir : ".", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* Quoted strings of the source: tool names (a `*` made "get"), scopes,
 * roles' neighbours, values. */
static size_t words(const char *src, char out[][64], size_t cap)
{
	size_t n = 0;
	for (const char *s = strchr(src, '"'); s && n < cap; s = strchr(s + 1, '"')) {
		const char *e = strchr(s + 1, '"');
		if (!e)
			break;
		size_t len = (size_t)(e - s - 1), k = 0;
		if (len > 0 && len < 40 && !memchr(s + 1, ' ', len) && !memchr(s + 1, '\\', len)) {
			for (size_t i = 0; i < len; i++) {
				if (s[1 + i] == '*' || s[1 + i] == '?') {
					memcpy(out[n] + k, "get", 3);
					k += 3;
				} else {
					out[n][k++] = s[1 + i];
				}
			}
			out[n][k] = 0;
			n++;
		}
		s = e;
	}
	return n;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void add(char **w, size_t *left, const char *fmt, ...);

static void add(char **w, size_t *left, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(*w, *left, fmt, ap);
	va_end(ap);
	assert_true(k >= 0 && (size_t)k < *left);
	*w += k;
	*left -= (size_t)k;
}

/* A tools/list requester: random roles and scopes, and each declared
 * context or principal attribute the pools know. */
static void requester(const char *src, char w_[][64], size_t nw, char *buf, size_t cap)
{
	static const char *const roles[] = { "viewer", "engineer", "sre", "admin", "member",
					     "analyst", "senior_analyst", "data_steward", "nobody" };
	static const char *const envs[] = { "dev", "staging", "prod" };
	static const char *const nets[] = { "corp", "vpn", "public" };
	static const char *const plans[] = { "free", "team", "enterprise" };
	static const char *const spaces[] = { "sales", "support", "finance" };
	char *w = buf;
	size_t left = cap;
	add(&w, &left, "{\"principal\":{\"id\":\"u%u\",\"roles\":[\"%s\"", rnd(4),
	    roles[rnd(sizeof roles / sizeof *roles)]);
	if (rnd(2))
		add(&w, &left, ",\"%s\"", roles[rnd(sizeof roles / sizeof *roles)]);
	add(&w, &left, "]");
	if (strstr(src, "attribute principal.tenant"))
		add(&w, &left, ",\"tenant\":\"%s\"", rnd(2) ? "acme" : "globex");
	if (strstr(src, "attribute principal.workspaces"))
		add(&w, &left, ",\"workspaces\":[\"%s\"]", spaces[rnd(3)]);
	add(&w, &left, "},\"token\":{\"scopes\":[");
	for (unsigned i = 0, k = rnd(3); i < k && nw; i++)
		add(&w, &left, "%s\"%s\"", i ? "," : "", w_[rnd((unsigned)nw)]);
	add(&w, &left, "]");
	if (strstr(src, "attribute token.exp"))
		add(&w, &left, ",\"exp\":%u", 1700000000u + rnd(200000000));
	if (strstr(src, "attribute token.ref"))
		add(&w, &left, ",\"ref\":\"%s\"", rnd(2) ? "refs/heads/main" : "refs/tags/v1");
	add(&w, &left, "},\"method\":\"tools/list\",\"context\":{\"x\":1");
	if (strstr(src, "attribute context.environment"))
		add(&w, &left, ",\"environment\":\"%s\"", envs[rnd(3)]);
	if (strstr(src, "attribute context.mfa"))
		add(&w, &left, ",\"mfa\":%s", rnd(2) ? "true" : "false");
	if (strstr(src, "attribute context.network"))
		add(&w, &left, ",\"network\":\"%s\"", nets[rnd(3)]);
	if (strstr(src, "attribute context.plan"))
		add(&w, &left, ",\"plan\":\"%s\"", plans[rnd(3)]);
	if (strstr(src, "attribute context.tenant"))
		add(&w, &left, ",\"tenant\":\"%s\"", rnd(2) ? "acme" : "globex");
	if (strstr(src, "attribute context.time"))
		add(&w, &left, ",\"time\":%u", 1700000000u + rnd(200000000));
	if (strstr(src, "attribute context.workspace"))
		add(&w, &left, ",\"workspace\":\"%s\"", spaces[rnd(3)]);
	add(&w, &left, "}}");
}

static void side_by_side(const char *src)
{
	static char pool[512][64];
	size_t nw = words(src, pool, 512);
	tg_policy *p = compile_policy(src), *g = compile_policy(src);
	size_t nvis = 0, nconst = 0, unknowns = 0, reached = 0, parsed = 0;
	tg_rule_view *grv = (tg_rule_view *)(uintptr_t)g->l.rv;

	for (uint32_t i = 0; i < g->l.nrules; i++) {
		nvis += p->l.rv[i].quick_vis;
		nconst += p->l.rv[i].vis != 0;
		grv[i].quick = TG_BC_NONE;	/* g: the interpreter only */
		grv[i].quick_vis = false;
		grv[i].vis = 0;
	}
	assert_true(nvis > 0);
	assert_true(nconst > 0);
	for (int n = 0; n < 300; n++) {
		char text[2048], err[256];
		tg_json_request jr;
		requester(src, pool, nw, text, sizeof text);
		if (tg_json_request_parse(p, text, strlen(text), &jr, err, sizeof err)) {
			tg_json_request_free(&jr);
			continue;
		}
		parsed++;
		/* Each program against the interpreter in visibility mode. */
		for (uint32_t i = 0; i < p->l.nrules; i++) {
			const tg_rule_view *r = &p->l.rv[i];
			tg_vm a, b;
			if (r->quick == TG_BC_NONE || !r->quick_vis)
				continue;
			tg_vm_init(&a, &p->l, &jr.req, TG_CLASS_TOOL, true);
			tg_vm_init(&b, &p->l, &jr.req, TG_CLASS_TOOL, true);
			int c = tg_vm_quick(&a, r);
			tg_cond_result want = tg_vm_run(&b, r->code_off, r->code_len);
			if (c >= 0 && (c != (int)want || a.insns != b.insns))
				fail_msg("rule %u: quick %d after %u instructions, interpreter %d after %u "
					 "on %s", i, c, a.insns, (int)want, b.insns, text);
			if (r->vis && !b.internal && want != (tg_cond_result)r->vis)
				fail_msg("rule %u: folded value %d, interpreter %d on %s", i, r->vis,
					 (int)want, text);
			unknowns += c == TG_COND_UNKNOWN;
		}
		/* Whole verdicts: quick programs against the interpreter alone. */
		for (size_t k = 0; k < nw; k++) {
			tg_entry e;
			bool a = false, b = false;
			memset(&e, 0, sizeof e);
			e.size = sizeof e;
			e.kind = TG_ENTRY_TOOL;
			e.name.ptr = pool[k];
			e.name.len = strlen(pool[k]);
			e.read_only = (tg_hint)rnd(3);
			e.destructive = (tg_hint)rnd(3);
			tg_status sa = tg_visible(p, &jr.req, &e, &a);
			tg_status sb = tg_visible(g, &jr.req, &e, &b);
			if (sa != sb || a != b)
				fail_msg("entry %s: %s/%d with quick programs, %s/%d without, on %s",
					 pool[k], tg_strerror(sa), a, tg_strerror(sb), b, text);
			reached += sa == TG_OK;
		}
		tg_json_request_free(&jr);
	}
	assert_true(parsed > 100);
	assert_true(reached > 0);
	assert_true(unknowns > 0);
	tg_policy_free(p);
	tg_policy_free(g);
}

static void test_shapes(void **state)
{
	(void)state;
	side_by_side(shapes_src);
}

static void test_examples(void **state)
{
	static const char *const names[] = { "analyst.tg", "ci-agents.tg", "engineering.tg", "saas.tg" };
	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char *src = read_source(names[i]);
		side_by_side(src);
		free(src);
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
