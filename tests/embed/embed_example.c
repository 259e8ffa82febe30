/*
 * embed_example.c - a server embedding libtoolgate (docs/embedding.md).
 *
 * Links only the runtime library. Loads verified bytecode, resolves the
 * attribute slots it needs once, then authorizes requests, filters a
 * tools/list result and prints an audit line for each decision. It checks
 * its own results, so it doubles as a test: exit 0 when every decision is
 * the one expected, 1 otherwise, 2 when the policy cannot be loaded.
 *
 *   usage: embed_example POLICY.tgb
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "toolgate/toolgate.h"

#define STR(s) ((tg_str){ (s), sizeof(s) - 1 })

/* What the transport knows about one call, as its own structure. */
struct call {
	const char *principal, *role, *tool, *environment;
	tg_hint destructive;
	tg_access want;
};

/* Slot indices this server fills, resolved once per loaded policy. */
struct slots {
	bool has_environment;	/* the policy reads context.environment */
	uint32_t environment;
	uint32_t count;
};

static struct slots resolve(const tg_policy *p)
{
	struct slots s;
	s.has_environment = tg_policy_slot_find(p, "context.environment", &s.environment) == TG_OK;
	s.count = tg_policy_slot_count(p);
	return s;
}

/* d: this thread's decision, created once and reused for every request. */
static int authorize(tg_holder *h, tg_decision *d, const struct call *c)
{
	const tg_policy *p = tg_holder_acquire(h);	/* the policy for this request */
	struct slots s = resolve(p);			/* cache this per policy in a real server */
	tg_value values[16];
	tg_str roles[1] = { { c->role, strlen(c->role) } };
	tg_request req;
	char line[2048];

	memset(values, 0, sizeof values);		/* zero = absent */
	if (s.count > 16) {
		tg_holder_release(h, p);
		return 0;
	}
	if (s.has_environment && c->environment) {
		values[s.environment].type = TG_VALUE_STRING;
		values[s.environment].u.s.ptr = c->environment;
		values[s.environment].u.s.len = strlen(c->environment);
	}
	tg_request_init(&req);
	req.principal_id.ptr = c->principal;
	req.principal_id.len = strlen(c->principal);
	req.roles = roles;
	req.nroles = 1;
	req.method = STR("tools/call");
	req.target.ptr = c->tool;
	req.target.len = strlen(c->tool);
	req.destructive = c->destructive;
	req.slots = values;
	req.nslots = s.count;

	tg_status st = tg_eval(p, &req, d);		/* deny on any error status */
	tg_audit_format(p, &req, d, (int64_t)time(NULL), line, sizeof line);
	printf("%s\n", line);
	if (st != TG_OK && st != TG_EINVALID_REQUEST)
		fprintf(stderr, "eval: %s\n", tg_strerror(st));
	tg_holder_release(h, p);
	return tg_decision_effect(d) == c->want;
}

static int list_tools(tg_holder *h)
{
	static const struct {
		const char *name;
		tg_hint destructive;
		bool want;
	} catalogue[] = {
		{ "github.list_issues", TG_HINT_FALSE, true },
		{ "github.delete_repo", TG_HINT_TRUE, false },
		{ "postgres.query", TG_HINT_TRUE, false },
	};
	const tg_policy *p = tg_holder_acquire(h);
	tg_value values[16];
	tg_str roles[1] = { STR("reader") };
	tg_request req;
	int ok = 1;

	memset(values, 0, sizeof values);
	tg_request_init(&req);
	req.principal_id = STR("bob");
	req.roles = roles;
	req.nroles = 1;
	req.method = STR("tools/list");
	req.slots = values;
	req.nslots = tg_policy_slot_count(p) <= 16 ? tg_policy_slot_count(p) : 0;
	for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++) {
		tg_entry e;
		bool visible;
		tg_entry_init(&e);
		e.kind = TG_ENTRY_TOOL;
		e.name.ptr = catalogue[i].name;
		e.name.len = strlen(catalogue[i].name);
		/* MCP defaults for hints the server did not send */
		e.read_only = TG_HINT_FALSE;
		e.destructive = catalogue[i].destructive;
		e.idempotent = TG_HINT_FALSE;
		e.open_world = TG_HINT_TRUE;
		tg_visible(p, &req, &e, &visible);
		printf("tools/list: %s %s\n", catalogue[i].name, visible ? "shown" : "hidden");
		ok &= visible == catalogue[i].want;
	}
	tg_holder_release(h, p);
	return ok;
}

int main(int argc, char **argv)
{
	static const struct call calls[] = {
		{ "alice", "engineer", "github.create_issue", "staging", TG_HINT_FALSE, TG_ALLOW },
		{ "alice", "engineer", "github.create_issue", "prod", TG_HINT_FALSE, TG_DENY },
		{ "alice", "engineer", "github.delete_repo", "staging", TG_HINT_TRUE, TG_DENY },
		{ "bob", "reader", "jira.get_issue", NULL, TG_HINT_FALSE, TG_ALLOW },
		{ "bob", "reader", "github.create_issue", "dev", TG_HINT_FALSE, TG_DENY },
	};
	tg_policy *p;
	tg_load_error *err;
	tg_holder *h;
	tg_decision *d;
	int ok = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: embed_example POLICY.tgb\n");
		return 2;
	}
	if (tg_policy_load_file(argv[1], &p, &err) != TG_OK) {
		fprintf(stderr, "%s: %s (offset %u)\n", argv[1], err ? err->reason : "out of memory",
			err ? (unsigned)err->offset : 0u);
		tg_load_error_free(err);
		return 2;
	}
	printf("loaded policy '%s' version %s, %u rules, at most %u instructions per request\n",
	       tg_policy_name(p), tg_policy_version(p) ? tg_policy_version(p) : "-",
	       (unsigned)tg_policy_rule_count(p), (unsigned)tg_policy_max_instructions(p));
	if (tg_holder_create(&h) != TG_OK || tg_decision_create(&d) != TG_OK) {
		tg_policy_free(p);
		return 2;
	}
	tg_holder_swap(h, p);	/* the holder now owns p; reloads swap again */

	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
		ok &= authorize(h, d, &calls[i]);
	ok &= list_tools(h);
	tg_decision_free(d);
	tg_holder_free(h);
	printf("%s\n", ok ? "all decisions as expected" : "UNEXPECTED DECISION");
	return ok ? 0 : 1;
}
