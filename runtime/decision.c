/*
 * decision.c - tg_eval: DESIGN's decision rules 1-4 over the candidate
 * rules of one request.
 *
 *   - A rule whose subject or action does not match evaluates nothing.
 *   - A deny rule applies when its condition is true or an error; an allow
 *     rule only when it is true.
 *   - The first applying deny (source order) decides; else the first
 *     applying allow; else the default.
 *   - errors: the deciding rule's and those of every matched allow rule
 *     before it (all matched allow rules for a default decision); one per
 *     rule, in source order.
 *
 * Candidates arrive in source order - from the loader's lists (cands.c),
 * or merged at run time (match.c) for a trace or a policy past the lists'
 * budget - so evaluation stops at the first applying deny: nothing after
 * it can change the decision or its error list. Errors are written straight into the caller's decision as
 * they occur; when an allow decides, the count is cut back to the errors
 * recorded before it, which are exactly the ones rule 4 lists.
 *
 * The whole evaluation state is one tg_vm on this function's stack.
 */
#include "vm.h"

#include <string.h>

static void record_error(tg_decision *d, const tg_layout *l, uint32_t rule, const char *msg)
{
	if (d->nerrors < TG_DECISION_MAX_ERRORS) {
		tg_rule_error *e = &d->errors[d->nerrors];
		tg_rule_view tmp;
		e->rule_id = tg_pol_cstr(l, tg_vm_rule(l, rule, &tmp)->id);
		e->rule_index = rule;
		size_t n = strlen(msg);
		if (n >= sizeof e->message)
			n = sizeof e->message - 1;
		memcpy(e->message, msg, n);
		e->message[n] = 0;
	}
	d->nerrors++;
}

static void deny_init(tg_decision *d)
{
	d->effect = TG_DENY;
	d->rule_id = NULL;
	d->reason = NULL;
	d->rule_index = -1;
	d->invalid = false;
	d->nerrors = 0;
	d->truncated = false;
	d->instructions = 0;
}

/* Fills the decision of deciding rule `decider` (-1: the default). */
static void decide(tg_decision *d, const tg_layout *l, int64_t decider, bool by_deny,
		   size_t allow_nerrors, uint32_t insns)
{
	if (decider >= 0) {
		tg_rule_view tmp;
		const tg_rule_view *r = tg_vm_rule(l, (uint32_t)decider, &tmp);
		d->effect = by_deny ? TG_DENY : TG_ALLOW;
		d->rule_id = tg_pol_cstr(l, r->id);
		d->reason = tg_pol_cstr(l, r->reason);
		d->rule_index = (int32_t)decider;
		if (!by_deny)
			d->nerrors = allow_nerrors;
	} else {
		d->effect = l->default_allow ? TG_ALLOW : TG_DENY;
	}
	d->truncated = d->nerrors > TG_DECISION_MAX_ERRORS;
	d->instructions = insns;
}

/*
 * The same rules over a load-time candidate list (cands.c): one list in
 * source order, rules whose action cannot match already left out, most
 * of the others marked as matching. No trace is served here.
 */
static tg_status eval_listed(tg_vm *vm, const tg_layout *l, const tg_request *req, tg_decision *d)
{
	uint32_t n;
	const uint32_t *list = tg_cands_list(l, vm->cls, req->target.ptr, req->target.len, &n);
	int64_t allow_rule = -1;
	size_t allow_nerrors = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (allow_rule >= 0 && (list[i] & TG_CAND_NO_DENY))
			break;
		uint32_t ri = list[i] & TG_CAND_RULE;
		const tg_rule_view *r = &l->rv[ri];
		bool deny = r->effect == TG_BC_DENY;
		int subj = tg_subject_quick(vm, r);
		if (subj == TG_SUBJ_NO || (subj == TG_SUBJ_NO_CLIENT && !deny))
			continue;
		if (!(list[i] & TG_CAND_KNOWN) && !tg_action_match(vm, r))
			continue;
		tg_cond_result c;
		if (subj == TG_SUBJ_NO_CLIENT) {
			c = TG_COND_ERROR;
			tg_vm_say(vm, "'token.client_id' is absent", NULL, NULL, NULL);
		} else if (r->always) {
			c = TG_COND_TRUE;	/* TRUE; RET */
			vm->insns += 2;
		} else {
			c = tg_vm_cond(vm, r);
			if (vm->internal) {
				deny_init(d);
				return TG_EINTERNAL;
			}
		}
		if (c == TG_COND_ERROR)
			record_error(d, l, ri, vm->msg);
		if (deny && c != TG_COND_FALSE) {
			decide(d, l, ri, true, 0, vm->insns);
			return TG_OK;
		}
		if (!deny && c == TG_COND_TRUE && allow_rule < 0) {
			allow_rule = ri;
			allow_nerrors = d->nerrors;
		}
	}
	decide(d, l, allow_rule, false, allow_nerrors, vm->insns);
	return TG_OK;
}

static tg_status eval(const tg_policy *p, const tg_request *req, tg_decision *d, tg_trace_fn fn,
		      void *ud)
{
	tg_vm vm;
	tg_cands cands;
	const char *why;
	uint32_t ri;
	int64_t allow_rule = -1, deny_rule = -1;
	size_t allow_nerrors = 0;

	if (!d)
		return TG_EINVAL;
	deny_init(d);
	if (!p || !req)
		return TG_EINVAL;
	tg_bc_class cls;
	if ((why = tg_request_problem(req, &cls))) {
		d->invalid = true;
		d->reason = why;
		return TG_EINVALID_REQUEST;
	}
	const tg_layout *l = &p->l;
	tg_vm_init(&vm, l, req, cls, false);
	if (!fn && l->pool)
		return eval_listed(&vm, l, req, d);
	tg_cands_init(&cands, l, vm.cls, req->target.ptr, req->target.len);
	while (tg_cands_next(&cands, &ri)) {
		tg_rule_view r = tg_pol_rule(l, ri);
		bool deny = r.effect == TG_BC_DENY;
		tg_trace_event ev;
		if (fn) {
			/* Only a trace reads the event's identity fields. */
			memset(&ev, 0, sizeof ev);
			ev.rule_index = ri;
			ev.rule_id = tg_pol_cstr(l, r.id);
			ev.effect = deny ? TG_DENY : TG_ALLOW;
			ev.line = r.line;
		}
		ev.condition = TG_COND_NOT_EVALUATED;
		ev.message = NULL;
		ev.applied = false;

		int subj = tg_subject_match(&vm, &r);
		ev.subject_matched = subj == TG_SUBJ_YES || (subj == TG_SUBJ_NO_CLIENT && deny);
		/* Glob matching is the costly half: skip it when the subject
		 * already ruled the rule out, unless a trace wants to see it. */
		ev.action_matched = (ev.subject_matched || fn) && tg_action_match(&vm, &r);
		if (ev.subject_matched && ev.action_matched) {
			if (subj == TG_SUBJ_NO_CLIENT) {
				ev.condition = TG_COND_ERROR;
				tg_vm_say(&vm, "'token.client_id' is absent", NULL, NULL, NULL);
			} else {
				ev.condition = tg_vm_run(&vm, r.code_off, r.code_len);
				if (vm.internal) {
					deny_init(d);
					return TG_EINTERNAL;
				}
			}
			if (ev.condition == TG_COND_ERROR)
				ev.message = vm.msg;
			ev.applied = deny ? ev.condition != TG_COND_FALSE : ev.condition == TG_COND_TRUE;
			if (deny_rule < 0) {
				if (ev.condition == TG_COND_ERROR)
					record_error(d, l, ri, vm.msg);
				if (ev.applied && deny)
					deny_rule = ri;
				else if (ev.applied && allow_rule < 0) {
					allow_rule = ri;
					allow_nerrors = d->nerrors;
				}
			}
		}
		if (fn)
			fn(&ev, ud);
		else if (deny_rule >= 0)
			break;
	}

	decide(d, l, deny_rule >= 0 ? deny_rule : allow_rule, deny_rule >= 0, allow_nerrors,
	       vm.insns);
	return TG_OK;
}

tg_status tg_eval(const tg_policy *p, const tg_request *req, tg_decision *out)
{
	return eval(p, req, out, NULL, NULL);
}

tg_status tg_eval_trace(const tg_policy *p, const tg_request *req, tg_decision *out,
			tg_trace_fn fn, void *userdata)
{
	return eval(p, req, out, fn, userdata);
}
