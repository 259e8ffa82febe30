/*
 * visible.c - list filtering (DESIGN "Visibility").
 *
 * An entry of a tools/list, resources/list or prompts/list result is judged
 * as the call that would use it: tools/call of the tool (its annotations
 * standing in for `tool`), resources/read of the URI, prompts/get of the
 * prompt. The arguments of that call are not known yet, so every `args`
 * read is UNKNOWN (vm.c propagates it with Kleene logic). The entry is
 * visible when no matched deny is true or an error, and some matched allow
 * is true or UNKNOWN - or the default is allow.
 *
 * A list has many entries and one requester. What depends only on the
 * requester - validating principal, token and slot values, resolving the
 * principal's roles - is done once (prepare); each entry then costs its own
 * strings' check, a candidate lookup and the conditions of the rules it
 * reaches (judge), as quick programs with their UNKNOWN edges where they
 * have them (vm.h). Of those conditions, the ones whose program has one
 * value in visibility mode whatever the request (tg_rule_view.vis) are not
 * run, the ones that read nothing an entry sets (or only its tool hints)
 * run once per list (or per set of hints: memo), and once the entry is
 * visible only deny rules are looked at.
 * tg_visible is the one-entry case of the same code.
 */
#include "keytab.h"

#include <string.h>

/* The requester's part, once per list: *q is req with the call fields
 * still to be filled per entry; vm is ready but for the entry's class. */
static tg_status prepare(const tg_policy *p, const tg_request *req, tg_request *q, tg_vm *vm)
{
	if (tg_request_identity_problem(req))
		return TG_EINVALID_REQUEST;
	tg_request_copy(q, req);
	/* Each entry puts its own name and server in q: strings no reader
	 * has validated. */
	q->flags &= ~TG_REQUEST_VALIDATED;
	tg_vm_init(vm, &p->l, q, TG_CLASS_TOOL, true);
	return TG_OK;
}

/*
 * Conditions that read nothing an entry sets have one value for the whole
 * list, shared by every rule with the same code (rule view same_code): the
 * first entry that reaches one runs it, the others find the result here.
 * Those that read tool annotation hints too (hint_code) have one value per
 * class and set of hints, which the slot's tag (ctx) records; a list has
 * few of those. Direct-mapped; a collision only costs a rerun.
 */
#define MEMO_SIZE 64

typedef struct memo {
	uint32_t rule[MEMO_SIZE];	/* rule index + 1, 0 = empty */
	uint16_t ctx[MEMO_SIZE];	/* 0, or the entry context of a hint_code rule */
	uint8_t cond[MEMO_SIZE];	/* its tg_cond_result */
} memo;

/* Whether rule ri (r), whose subject and action match, hides the entry
 * (deny true or error: 1), lets it be seen (allow true or UNKNOWN: 2), or
 * neither (0); -1 for an interpreter failure. ctx: the entry's class and
 * hints, never 0. */
static int verdict(tg_vm *vm, memo *m, const tg_rule_view *r, int subj, unsigned ctx)
{
	bool deny = r->effect == TG_BC_DENY;
	tg_cond_result c;
	if (subj == TG_SUBJ_NO_CLIENT)
		return 1;	/* a deny client rule applies */
	if (r->always) {
		c = TG_COND_TRUE;
	} else if (r->vis) {
		c = (tg_cond_result)r->vis;	/* its quick program's, whatever the request */
	} else {
		bool memo_ok = m && r->same_code != TG_BC_NONE;
		uint16_t tag = r->hint_code ? (uint16_t)ctx : 0;
		unsigned at = (r->same_code + tag * 7u) % MEMO_SIZE;
		if (memo_ok && m->rule[at] == r->same_code + 1 && m->ctx[at] == tag) {
			c = (tg_cond_result)m->cond[at];
		} else {
			c = tg_vm_cond(vm, r);
			if (vm->internal)
				return -1;
			if (memo_ok) {
				m->rule[at] = r->same_code + 1;
				m->ctx[at] = tag;
				m->cond[at] = (uint8_t)c;
			}
		}
	}
	if (deny)
		return c == TG_COND_TRUE || c == TG_COND_ERROR;
	return (c == TG_COND_TRUE || c == TG_COND_UNKNOWN) ? 2 : 0;
}

/* One entry, on a prepared q and vm. */
static tg_status judge(const tg_layout *l, tg_request *q, tg_vm *vm, memo *m,
		       const tg_entry *entry, bool *visible)
{
	static const tg_str methods[] = {
		{ "tools/call", 10 }, { "resources/read", 14 }, { "prompts/get", 11 },
	};
	static const tg_bc_class classes[] = { TG_CLASS_TOOL, TG_CLASS_RESOURCE, TG_CLASS_PROMPT };
	tg_bc_class cls;
	/* Once some allow has made the entry visible (or the default does),
	 * an allow rule can no longer change the verdict: they are skipped. */
	bool some_allow = l->default_allow;
	int v;

	*visible = false;
	if ((unsigned)entry->kind > TG_ENTRY_PROMPT)
		return TG_EINVAL;
	q->method = methods[entry->kind];
	q->target = entry->name;
	if (!q->target.ptr) {
		q->target.ptr = "";
		q->target.len = 0;
	}
	if (entry->kind == TG_ENTRY_TOOL) {
		q->server = entry->server;
		q->read_only = entry->read_only;
		q->destructive = entry->destructive;
		q->idempotent = entry->idempotent;
		q->open_world = entry->open_world;
	} else {
		q->server.ptr = NULL;
		q->server.len = 0;
		q->read_only = q->destructive = q->idempotent = q->open_world = TG_HINT_ABSENT;
	}
	cls = classes[entry->kind];
	if (tg_request_entry_problem(q, cls))
		return TG_EINVALID_REQUEST;
	vm->cls = (uint8_t)cls;
	vm->have_pairs = false;	/* a new target */
	/* 1 + class and hints in base 3 (entry_problem checked them) */
	unsigned ctx = 1 + (((((unsigned)entry->kind * 3 + q->read_only) * 3 + q->destructive) * 3 +
			      q->idempotent) * 3 + q->open_world);

	/* The load-time list (TG_CAND_KNOWN on the entries whose action is
	 * known to match), or past its budget the index postings merged here. */
	const uint32_t *list = NULL;
	uint32_t n = 0, e = 0;
	tg_cands merge;
	if (l->pool)
		list = tg_cands_list(l, cls, q->target.ptr, q->target.len, &n);
	else
		tg_cands_init(&merge, l, cls, q->target.ptr, q->target.len);
	for (uint32_t i = 0; list ? i < n : tg_cands_next(&merge, &e); i++) {
		if (list)
			e = list[i];
		const tg_rule_view *r = &l->rv[e & TG_CAND_RULE];
		if (some_allow && r->effect != TG_BC_DENY)
			continue;	/* only a deny can change the verdict now */
		int subj = tg_subject_quick(vm, r);
		if (subj == TG_SUBJ_NO || (subj == TG_SUBJ_NO_CLIENT && r->effect != TG_BC_DENY))
			continue;
		if (!(e & TG_CAND_KNOWN) && !tg_action_match(vm, r))
			continue;
		if ((v = verdict(vm, m, r, subj, ctx)) < 0)
			return TG_EINTERNAL;
		if (v == 1)
			return TG_OK;
		some_allow |= v == 2;
	}
	*visible = some_allow;
	return TG_OK;
}

tg_status tg_visible(const tg_policy *p, const tg_request *req, const tg_entry *entry,
		     bool *visible)
{
	tg_request q;
	tg_vm vm;
	tg_status st;

	if (!visible)
		return TG_EINVAL;
	*visible = false;
	if (!p || !req || !entry || entry->size < TG_ENTRY_V1_SIZE ||
	    (unsigned)entry->kind > TG_ENTRY_PROMPT)
		return TG_EINVAL;
	if ((st = prepare(p, req, &q, &vm)) != TG_OK)
		return st;
	return judge(&p->l, &q, &vm, NULL, entry, visible);
}

tg_status tg_visible_many(const tg_policy *p, const tg_request *req, const tg_entry *entries,
			  size_t n, bool *visible)
{
	tg_request q;
	tg_vm vm;
	memo m;
	tg_status st, first = TG_OK;

	if (!visible || (n && !entries))
		return TG_EINVAL;
	for (size_t i = 0; i < n; i++)
		visible[i] = false;
	/* Entries are laid out at the caller's sizeof(tg_entry), which a
	 * later header may make larger than ours. */
	size_t stride = n ? entries[0].size : 0;
	if (!p || !req || (n && stride < TG_ENTRY_V1_SIZE))
		return TG_EINVAL;
	if ((st = prepare(p, req, &q, &vm)) != TG_OK)
		return st;
	memset(m.rule, 0, sizeof m.rule);
	for (size_t i = 0; i < n; i++) {
		const tg_entry *e = (const tg_entry *)(const void *)((const char *)entries + i * stride);

		if (e->size != stride) {
			if (first == TG_OK)
				first = TG_EINVAL;
			continue;
		}
		st = judge(&p->l, &q, &vm, &m, e, &visible[i]);
		if (st == TG_EINVALID_REQUEST)
			continue;	/* this entry only: hidden */
		if (st != TG_OK && first == TG_OK)
			first = st;
	}
	return first;
}
