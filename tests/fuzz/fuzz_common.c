/*
 * fuzz_common.c - the fixed policy, the request set and the decision checks
 * shared by the fuzz targets (fuzz.h).
 *
 * The request set is built from the policy under test: its declared role
 * names become the principal's roles and its patterns' literal prefixes
 * become targets, so fuzzed or mutated bytecode has rules that are actually
 * reached, not only loaded. Slot values cycle through every value type and
 * a pool of strings and integers near the interesting edges (declared domain
 * words, paths with `..`, INT64_MIN/MAX for overflow).
 */
#include "decision.h"
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages.h"
#include "policy.h"
#include "vm.h"

static const char fixed_source[] =
	"policy \"platform\" version \"2026.11\";\n"
	"attribute principal.tenant: string;\n"
	"attribute principal.clearance: int;\n"
	"attribute context.environment: string in [\"dev\", \"staging\", \"prod\"];\n"
	"attribute context.mfa: bool;\n"
	"attribute token.exp: int;\n"
	"attribute args.limit: int;\n"
	"attribute args.paths: list<string>;\n"
	"attribute args.ids: list<int>;\n"
	"role reader;\n"
	"role engineer: reader;\n"
	"role admin: engineer, auditor;\n"
	"role auditor;\n"
	"role \"mcp:ops\": engineer;\n"
	"set read_tools = [\"search_*\", \"*.get_*\", \"*.list_*\"];\n"
	"default deny;\n"
	"rule \"readers-read\": allow role reader to call tool read_tools;\n"
	"rule \"eng-github\": allow role engineer to call tool \"github.*\"\n"
	"  when context.environment != \"prod\";\n"
	"rule \"eng-sql\": allow role engineer to call tool \"postgres.query\"\n"
	"  when args.sql starts_with \"SELECT \" and not (args.sql contains \";\") and args.limit <= 1000;\n"
	"rule \"fresh-tokens-only\": deny anyone to do anything\n"
	"  when token has exp and token.exp - context.time > 900\n"
	"  because \"tokens must be short-lived\";\n"
	"rule \"no-destructive-in-prod\": deny anyone to call any tool\n"
	"  when context.environment == \"prod\" and tool.destructive\n"
	"  unless principal is admin and context.mfa\n"
	"  because \"destructive tools in prod need an admin with MFA\";\n"
	"rule \"repo-files\": allow role engineer to call tool \"fs.read_file\", \"fs.read_multiple_files\"\n"
	"  when args has path and args.path under \"/srv/repos\"\n"
	"    or args has paths and all args.paths under \"/srv/repos\";\n"
	"rule \"ids\": allow scope \"ids\" to call tool \"ids.*\"\n"
	"  when any args.ids > 10 and args.ids == [1, 2] or 3 in args.ids or args.name like \"a*b?c\";\n"
	"rule \"methods\": allow client \"desktop-app\" to invoke \"logging/*\"\n"
	"  when request.method ends_with \"Level\" and principal.roles contains \"admin\";\n"
	"allow scope \"files:read\" to read resource \"file:///workspace/**\"\n"
	"  when principal.tenant == context.tenant;\n"
	"allow anyone to get prompt \"summ*\" when prompt.name != \"x\" and not (tool has name);\n"
	"deny client \"bad-client\" to list resources;\n"
	"allow anyone to list tools;\n"
	"deny principal \"mallory\" to do anything because \"blocked\";\n";

static tg_policy *fixed;
bool tg_fuzz_light;

void tg_fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

unsigned char *tg_fuzz_compile(const char *src, size_t len, size_t *out_len)
{
	tg_arena arena;
	tg_diags diags;
	unsigned char *code = NULL;

	tg_arena_init(&arena);
	tg_diags_init(&diags, &arena);
	tg_ast *ast = tg_parse(&arena, "fuzz.tg", src, len, &diags);
	if (ast && diags.nerrors == 0 && tg_check(ast, &diags) && diags.nerrors == 0)
		if (!tg_codegen(ast, &diags, &code, out_len))
			code = NULL;
	tg_arena_free(&arena);
	return code;
}

static void free_fixed(void)
{
	tg_policy_free(fixed);
	fixed = NULL;
}

const tg_policy *tg_fuzz_fixed_policy(void)
{
	if (fixed)
		return fixed;
	size_t len;
	unsigned char *code = tg_fuzz_compile(fixed_source, sizeof fixed_source - 1, &len);
	if (!code)
		tg_fuzz_fail("the fixed policy does not compile");
	tg_load_diag err;
	if (tg_policy_load_diag(code, len, &fixed, &err) != TG_OK)
		tg_fuzz_fail("the fixed policy does not load: %s", err.reason);
	free(code);
	atexit(free_fixed);
	return fixed;
}

static void check_message(const char *m, size_t cap)
{
	if (!memchr(m, 0, cap))
		tg_fuzz_fail("an error message is not NUL-terminated");
	if (m[0] == 0)
		tg_fuzz_fail("an error message is empty");
}

void tg_fuzz_check_decision(const tg_policy *p, tg_status st, const tg_decision *d)
{
	size_t nrules = tg_policy_rule_count(p);

	if (d->effect != TG_DENY && d->effect != TG_ALLOW)
		tg_fuzz_fail("effect %d", (int)d->effect);
	if (st != TG_OK && d->effect != TG_DENY)
		tg_fuzz_fail("status %s but not deny", tg_strerror(st));
	if (st == TG_EINVALID_REQUEST && (!d->invalid || !d->reason ||
					  strncmp(d->reason, "invalid request: ", 17) != 0))
		tg_fuzz_fail("invalid request without an 'invalid request: ' reason");
	if (st == TG_OK && d->invalid)
		tg_fuzz_fail("TG_OK with invalid set");
	if (st != TG_OK && st != TG_EINVALID_REQUEST && st != TG_EINTERNAL)
		tg_fuzz_fail("unexpected status %s", tg_strerror(st));
	bool by_default = d->rule_index == TG_NO_RULE;
	if (!by_default && d->rule_index >= nrules)
		tg_fuzz_fail("rule index %u of %zu rules", (unsigned)d->rule_index, nrules);
	if (by_default ? d->rule_id != NULL : d->rule_id != tg_policy_rule_id(p, d->rule_index))
		tg_fuzz_fail("rule id does not match rule index %u", (unsigned)d->rule_index);
	if (by_default && st == TG_OK &&
	    d->effect != (tg_policy_default_allow(p) ? TG_ALLOW : TG_DENY))
		tg_fuzz_fail("default decision differs from the policy's default");
	if (d->truncated != (d->nerrors > TG_DECISION_MAX_ERRORS))
		tg_fuzz_fail("truncated flag wrong for %zu errors", d->nerrors);
	size_t shown = d->nerrors < TG_DECISION_MAX_ERRORS ? d->nerrors : TG_DECISION_MAX_ERRORS;
	for (size_t i = 0; i < shown; i++) {
		const tg_rule_error *e = &d->errors[i];
		if (e->rule_index >= nrules || e->rule_id != tg_policy_rule_id(p, e->rule_index))
			tg_fuzz_fail("error %zu names rule %u", i, (unsigned)e->rule_index);
		if (i > 0 && e->rule_index <= d->errors[i - 1].rule_index)
			tg_fuzz_fail("errors are not in source order");
		check_message(e->message, sizeof e->message);
	}
	if (d->instructions > tg_policy_max_instructions(p))
		tg_fuzz_fail("%u instructions executed, the header bound is %u",
			     (unsigned)d->instructions, (unsigned)tg_policy_max_instructions(p));
}

/* ---- the request set ---------------------------------------------------- */

#define MAX_NAMES 10
#define MAX_SLOTS 256
#define BIG_LIST 300

static const char *const str_pool[] = {
	"prod", "staging", "dev", "acme", "SELECT 1", "SELECT 1; DROP TABLE t", "/srv/repos/a",
	"/srv/repos/../etc", "", "files:read", "a-b-c", "/", "\xc3\xa9t\xc3\xa9", "logging/setLevel",
};
#define NSTR (sizeof str_pool / sizeof str_pool[0])

static const int64_t int_pool[] = {
	0, 1, 2, 3, 11, 1000, 1001, -1, INT64_MAX, INT64_MIN, 1764140000, 1893456000,
};
#define NINT (sizeof int_pool / sizeof int_pool[0])

typedef struct reqset {
	tg_str roles[MAX_NAMES + 2];
	size_t nroles;
	tg_str targets[MAX_NAMES + 8];
	size_t ntargets;
	tg_str strs[NSTR];
	tg_str big[BIG_LIST];
	int64_t bigints[BIG_LIST];
	tg_value slots[MAX_SLOTS];
	size_t nslots;
} reqset;

static tg_str lit(const char *s)
{
	tg_str t = { s, strlen(s) };
	return t;
}

/* One value of type `kind` (0..7), picked from the pools by `k`. */
static tg_value make_value(reqset *rs, unsigned kind, unsigned k)
{
	tg_value v;
	memset(&v, 0, sizeof v);
	switch (kind % 8) {
	case 0: v.type = TG_VALUE_ABSENT; break;
	case 1: v.type = TG_VALUE_STRING; v.u.s = rs->strs[k % NSTR]; break;
	case 2: v.type = TG_VALUE_INT; v.u.i = int_pool[k % NINT]; break;
	case 3: v.type = TG_VALUE_BOOL; v.u.b = k & 1; break;
	case 4:
		v.type = TG_VALUE_STRING_LIST;
		v.u.strs.items = k % 5 == 4 ? rs->big : rs->strs + k % 4;
		v.u.strs.n = k % 5 == 4 ? BIG_LIST : k % 5;
		break;
	case 5:
		v.type = TG_VALUE_INT_LIST;
		v.u.ints.items = k % 5 == 4 ? rs->bigints : int_pool + k % 4;
		v.u.ints.n = k % 5 == 4 ? BIG_LIST : k % 5;
		break;
	case 6: v.type = TG_VALUE_OTHER; break;
	default:	/* an empty string without bytes: ptr NULL, len 0 */
		v.type = TG_VALUE_STRING;
		break;
	}
	return v;
}

static unsigned kind_for(tg_attr_type t)
{
	switch (t) {
	case TG_ATTR_STRING: return 1;
	case TG_ATTR_INT: return 2;
	case TG_ATTR_BOOL: return 3;
	case TG_ATTR_STRING_LIST: return 4;
	case TG_ATTR_INT_LIST: return 5;
	default: return 6;
	}
}

static void fill_slots(reqset *rs, const tg_policy *p, unsigned seed)
{
	rs->nslots = tg_policy_slot_count(p);
	if (rs->nslots > MAX_SLOTS)
		rs->nslots = MAX_SLOTS;
	for (size_t i = 0; i < rs->nslots; i++) {
		const tg_slot_info *info = tg_policy_slot(p, (uint32_t)i);
		unsigned kind = (unsigned)(seed + i) % 8;
		if (info && info->type != TG_ATTR_ANY && (seed + i) % 4 != 3)
			kind = kind_for(info->type);
		rs->slots[i] = make_value(rs, kind, seed * 7 + (unsigned)i);
	}
}

static void build(reqset *rs, const tg_policy *p)
{
	const tg_layout *l = &p->l;

	memset(rs, 0, sizeof *rs);
	for (size_t i = 0; i < NSTR; i++)
		rs->strs[i] = lit(str_pool[i]);
	for (size_t i = 0; i < BIG_LIST; i++) {
		rs->big[i] = rs->strs[i % NSTR];
		rs->bigints[i] = (int64_t)i;
	}
	for (uint32_t r = 0; r < l->nroles && rs->nroles < MAX_NAMES; r++)
		rs->roles[rs->nroles++] = tg_pol_str(l, tg_rd32(l->roles + (size_t)r * 4));
	rs->roles[rs->nroles++] = lit("undeclared-role");
	for (uint32_t i = 0; i < l->npats && rs->ntargets < MAX_NAMES; i++) {
		tg_str pre = tg_pol_str(l, tg_rd32(l->pats + (size_t)i * TG_BC_PATTERN_SIZE + 4));
		if (tg_utf8_valid(pre.ptr, pre.len))
			rs->targets[rs->ntargets++] = pre;
	}
	static const char *const fixed_targets[] = {
		"postgres.query", "github.delete_repo", "file:///workspace/a.txt", "summarize",
		"fs.read_file", "ids.x", "", "file:///workspace/../etc/passwd",
	};
	for (size_t i = 0; i < sizeof fixed_targets / sizeof fixed_targets[0]; i++)
		rs->targets[rs->ntargets++] = lit(fixed_targets[i]);
}

typedef struct trace_ctx {
	const tg_policy *p;
	int64_t last;
} trace_ctx;

static void on_trace(const tg_trace_event *ev, void *ud)
{
	trace_ctx *t = ud;
	if (ev->rule_index >= tg_policy_rule_count(t->p) ||
	    ev->rule_id != tg_policy_rule_id(t->p, ev->rule_index))
		tg_fuzz_fail("trace event names rule %u", (unsigned)ev->rule_index);
	if ((int64_t)ev->rule_index <= t->last)
		tg_fuzz_fail("trace events are not in source order");
	t->last = ev->rule_index;
	if (ev->condition == TG_COND_ERROR && (!ev->message || !ev->message[0]))
		tg_fuzz_fail("an error condition without a message");
	if (ev->condition == TG_COND_UNKNOWN)
		tg_fuzz_fail("UNKNOWN outside visibility");
}

/* Every rule's quick program (runtime/quick.c) says what the interpreter
 * says of it, with the same instruction count, whenever it gives an
 * answer: on bytecode the verifier accepted, however odd its shapes; in
 * visibility mode too when the program has its UNKNOWN edges. And a
 * rule's visibility value folded from its program (tg_rule_view.vis:
 * visible.c uses it instead of running the condition) is what the
 * interpreter gives in visibility mode on this request. */
static void quick_agrees(const tg_policy *p, const tg_request *req)
{
	const tg_layout *l = &p->l;
	tg_bc_class cls;
	if (!l->rv || tg_request_problem(req, &cls))
		return;
	for (uint32_t ri = 0; ri < l->nrules; ri++) {
		const tg_rule_view *r = &l->rv[ri];
		if (r->vis) {
			tg_vm vm;
			tg_vm_init(&vm, l, req, cls, true);
			tg_cond_result c = tg_vm_run(&vm, r->code_off, r->code_len);
			if (!vm.internal && c != (tg_cond_result)r->vis)
				tg_fuzz_fail("rule %u: folded visibility value %d, interpreter %d", ri,
					     r->vis, (int)c);
		}
		for (int vis = 0; vis < 2 && r->quick != TG_BC_NONE; vis++) {
			if (vis && !r->quick_vis)
				continue;
			tg_vm a, b;
			tg_vm_init(&a, l, req, cls, vis);
			tg_vm_init(&b, l, req, cls, vis);
			int c = tg_vm_quick(&a, r);
			tg_cond_result want = tg_vm_run(&b, r->code_off, r->code_len);
			if (c >= 0 && ((tg_cond_result)c != want || a.insns != b.insns ||
				       (want == TG_COND_ERROR && strcmp(a.msg, b.msg) != 0)))
				tg_fuzz_fail("rule %u: quick program %d after %u instructions, "
					     "interpreter %d after %u%s", ri, c, a.insns, (int)want,
					     b.insns, vis ? " (visibility)" : "");
		}
	}
}

static void eval_one(const tg_policy *p, const tg_request *req)
{
	tg_decision d, dt;
	trace_ctx t = { p, -1 };
	char audit[256];

	tg_status st = tg_eval(p, req, &d);
	tg_fuzz_check_decision(p, st, &d);
	tg_status stt = tg_eval_trace(p, req, &dt, on_trace, &t);
	tg_fuzz_check_decision(p, stt, &dt);
	if (st != stt || d.effect != dt.effect || d.rule_index != dt.rule_index ||
	    d.nerrors != dt.nerrors)
		tg_fuzz_fail("tg_eval_trace decides differently from tg_eval");
	if (tg_fuzz_light)
		return;
	quick_agrees(p, req);
	size_t need = tg_audit_format(p, req, &d, 1764140000, audit, sizeof audit);
	if (need < sizeof audit && strlen(audit) != need)
		tg_fuzz_fail("audit line length %zu, returned %zu", strlen(audit), need);
}

/* tg_visible_many over every target as one list says what tg_visible says
 * of each. */
static void visible_many_agrees(const tg_policy *p, const tg_request *req, const reqset *rs,
				tg_entry_kind kind)
{
	tg_entry e[MAX_NAMES + 8];	/* as many as rs->targets holds */
	bool many[MAX_NAMES + 8];
	for (size_t k = 0; k < rs->ntargets; k++) {
		tg_entry_init(&e[k]);
		e[k].kind = kind;
		e[k].name = rs->targets[k];
		e[k].server = req->server;
		e[k].read_only = req->read_only;
		e[k].destructive = (tg_hint)((k + req->destructive) % 3);
		e[k].idempotent = req->idempotent;
		e[k].open_world = req->open_world;
	}
	tg_status st = tg_visible_many(p, req, e, rs->ntargets, many);
	if (st != TG_OK && st != TG_EINVALID_REQUEST)
		tg_fuzz_fail("tg_visible_many returned %s", tg_strerror(st));
	for (size_t k = 0; k < rs->ntargets; k++) {
		bool one = false;
		tg_visible(p, req, &e[k], &one);
		if (one != many[k])
			tg_fuzz_fail("tg_visible_many says %d for entry %zu, tg_visible %d", many[k],
				     k, one);
	}
}

void tg_fuzz_exercise(const tg_policy *p, unsigned seed, size_t max_targets)
{
	static const char *const targeted[] = { "tools/call", "resources/read", "prompts/get" };
	static const char *const others[] = {
		"tools/list", "resources/list", "prompts/list", "resources/templates/list",
		"completion/complete", "logging/setLevel", "resources/subscribe",
	};
	static reqset rs;
	tg_request req;
	unsigned n = seed;

	build(&rs, p);
	if (max_targets < rs.ntargets)
		rs.ntargets = max_targets;
	for (size_t t = 0; t < rs.ntargets; t++) {
		for (size_t m = 0; m < 3; m++, n++) {
			fill_slots(&rs, p, n);
			tg_request_init(&req);
			req.principal_id = lit(n % 5 == 4 ? "mallory" : "alice");
			req.roles = rs.roles + n % 2;
			req.nroles = rs.nroles - n % 2;
			req.scopes = rs.strs + 9;	/* "files:read", "a-b-c", ... */
			req.nscopes = n % 3;
			if (n % 3)
				req.client_id = lit(n % 3 == 1 ? "desktop-app" : "bad-client");
			req.method = lit(targeted[m]);
			req.target = rs.targets[t];
			if (n % 2)
				req.server = lit("github");
			req.read_only = (tg_hint)(n % 3);
			req.destructive = (tg_hint)((n / 3) % 3);
			req.idempotent = (tg_hint)((n / 2) % 3);
			req.open_world = (tg_hint)((n + 1) % 3);
			req.slots = rs.slots;
			req.nslots = rs.nslots;
			eval_one(p, &req);

			tg_entry e;
			bool vis = true;
			tg_entry_init(&e);
			e.kind = (tg_entry_kind)m;
			e.name = rs.targets[t];
			e.server = req.server;
			e.read_only = req.read_only;
			e.destructive = req.destructive;
			e.idempotent = req.idempotent;
			e.open_world = req.open_world;
			tg_status st = tg_visible(p, &req, &e, &vis);
			if (st != TG_OK && vis)
				tg_fuzz_fail("tg_visible failed with %s but says visible",
					     tg_strerror(st));
			if (st != TG_OK && st != TG_EINVALID_REQUEST)
				tg_fuzz_fail("tg_visible returned %s", tg_strerror(st));
			if (t == 0)
				visible_many_agrees(p, &req, &rs, (tg_entry_kind)m);
		}
	}
	/* Empty strings without bytes (ptr NULL) everywhere the API allows
	 * them: roles, scopes, every string slot and list element. */
	static const tg_str nulls[3];
	for (size_t m = 0; m < 3; m++) {
		tg_request_init(&req);
		req.principal_id = lit("");
		req.roles = nulls;
		req.nroles = 3;
		req.scopes = nulls;
		req.nscopes = 3;
		req.method = lit(targeted[m]);
		req.target = lit("");
		for (size_t i = 0; i < rs.nslots; i++) {
			memset(&rs.slots[i], 0, sizeof rs.slots[i]);
			if ((seed + i + m) % 2) {
				rs.slots[i].type = TG_VALUE_STRING;	/* ptr NULL, len 0 */
			} else {
				rs.slots[i].type = TG_VALUE_STRING_LIST;
				rs.slots[i].u.strs.items = nulls;
				rs.slots[i].u.strs.n = 3;
			}
		}
		req.slots = rs.slots;
		req.nslots = rs.nslots;
		eval_one(p, &req);
	}
	for (size_t m = 0; m < sizeof others / sizeof others[0]; m++, n++) {
		fill_slots(&rs, p, n);
		tg_request_init(&req);
		req.principal_id = lit("bob");
		req.roles = rs.roles;
		req.nroles = rs.nroles;
		req.method = lit(others[m]);
		if (m == 6)
			req.target = lit("file:///workspace/x");
		req.slots = rs.slots;
		req.nslots = rs.nslots;
		eval_one(p, &req);
	}
}
