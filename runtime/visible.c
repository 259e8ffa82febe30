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
 */
#include "vm.h"

#include <string.h>

tg_status tg_visible(const tg_policy *p, const tg_request *req, const tg_entry *entry,
		     bool *visible)
{
	static const char *const methods[] = { "tools/call", "resources/read", "prompts/get" };
	tg_request q;
	tg_vm vm;
	tg_cands cands;
	uint32_t ri;
	bool some_allow = false;

	if (!visible)
		return TG_EINVAL;
	*visible = false;
	if (!p || !req || !entry || (unsigned)entry->kind > TG_ENTRY_PROMPT)
		return TG_EINVAL;
	q = *req;
	q.method.ptr = methods[entry->kind];
	q.method.len = strlen(q.method.ptr);
	q.target = entry->name;
	if (!q.target.ptr) {
		q.target.ptr = "";
		q.target.len = 0;
	}
	if (entry->kind == TG_ENTRY_TOOL) {
		q.server = entry->server;
		q.read_only = entry->read_only;
		q.destructive = entry->destructive;
		q.idempotent = entry->idempotent;
		q.open_world = entry->open_world;
	} else {
		q.server.ptr = NULL;
		q.server.len = 0;
		q.read_only = q.destructive = q.idempotent = q.open_world = TG_HINT_ABSENT;
	}
	if (tg_request_check(&q, NULL) != TG_OK)
		return TG_EINVALID_REQUEST;

	const tg_layout *l = &p->l;
	tg_vm_init(&vm, l, &q, true);
	tg_cands_init(&cands, l, vm.cls, q.target.ptr, q.target.len);
	while (tg_cands_next(&cands, &ri)) {
		tg_rule_view r = tg_pol_rule(l, ri);
		bool deny = r.effect == TG_BC_DENY;
		int subj = tg_subject_match(&vm, &r);
		if (subj == TG_SUBJ_NO || (subj == TG_SUBJ_NO_CLIENT && !deny) ||
		    !tg_action_match(&vm, &r))
			continue;
		if (subj == TG_SUBJ_NO_CLIENT)
			return TG_OK;	/* a deny client rule applies: hidden */
		tg_cond_result c = tg_vm_run(&vm, r.code_off, r.code_len);
		if (vm.internal)
			return TG_EINTERNAL;
		if (deny && (c == TG_COND_TRUE || c == TG_COND_ERROR))
			return TG_OK;
		if (!deny && (c == TG_COND_TRUE || c == TG_COND_UNKNOWN))
			some_allow = true;
	}
	*visible = some_allow || l->default_allow;
	return TG_OK;
}
