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
 * or merged at run time (match.c) for a policy past the lists' budget,
 * both walked by vm.c's tg_vm_listed and tg_vm_merged, or for a trace by
 * eval below - so evaluation stops at the first applying deny: nothing
 * after it can change the decision or its error list. Errors are written
 * straight into the caller's decision as they occur; when an allow
 * decides, the count is cut back to the errors recorded before it, which
 * are exactly the ones rule 4 lists.
 *
 * The whole evaluation state is one tg_vm on this function's stack.
 */
#include "decision.h"
#include "request.h"
#include "vm.h"

#include <stdlib.h>
#include <string.h>

void tg_decision_error_add(tg_decision *d, const tg_layout *l, uint32_t rule, const char *msg)
{
	if (d->nerrors < TG_DECISION_MAX_ERRORS) {
		tg_rule_error *e = &d->errors[d->nerrors];
		e->rule_id = tg_pol_at(l, l->rv[rule].id_at);
		e->rule_index = rule;
		size_t n = strlen(msg);
		if (n >= sizeof e->message)
			n = sizeof e->message - 1;
		memcpy(e->message, msg, n);
		e->message[n] = 0;
	}
	d->nerrors++;
}

void tg_decision_deny(tg_decision *d)
{
	d->effect = TG_DENY;
	d->rule_id = NULL;
	d->reason = NULL;
	d->rule_index = TG_NO_RULE;
	d->invalid = false;
	d->by_error = false;
	d->nerrors = 0;
	d->truncated = false;
	d->instructions = 0;
}

/* Fills the decision of deciding rule `decider` (-1: the default). */
void tg_decision_decide(tg_decision *d, const tg_layout *l, int64_t decider, bool by_deny,
			size_t allow_nerrors, uint32_t insns)
{
	if (decider >= 0) {
		const tg_rule_view *r = &l->rv[decider];
		d->effect = by_deny ? TG_DENY : TG_ALLOW;
		d->rule_id = tg_pol_at(l, r->id_at);
		d->reason = tg_pol_at(l, r->reason_at);
		d->rule_index = (uint32_t)decider;
		if (!by_deny)
			d->nerrors = allow_nerrors;
	} else {
		d->effect = l->default_allow ? TG_ALLOW : TG_DENY;
	}
	d->truncated = d->nerrors > TG_DECISION_MAX_ERRORS;
	d->instructions = insns;
}

/* d reset to deny, then the arguments and the request checked: TG_OK with
 * *cls set, or the error (d says so when the request is invalid). */
static TG_ALWAYS_INLINE tg_status start(const tg_policy *p, const tg_request *req, tg_decision *d,
			      tg_bc_class *cls)
{
	if (!d)
		return TG_EINVAL;
	tg_decision_deny(d);
	if (!p || !req)
		return TG_EINVAL;
	const char *why = tg_request_quick(req, cls) ? NULL : tg_request_precise(req, cls);
	if (why) {
		d->invalid = true;
		d->reason = why;
		return TG_EINVALID_REQUEST;
	}
	return TG_OK;
}

/* After start, for tg_eval_trace: the candidates merged at run time, each
 * reported to fn (when given) with how far it matched, conditions run in
 * the interpreter. */
static tg_status eval(const tg_policy *p, const tg_request *req, tg_bc_class cls, tg_decision *d,
		      tg_trace_fn fn, void *ud)
{
	tg_vm vm;
	tg_cands cands;
	uint32_t ri;
	int64_t allow_rule = -1, deny_rule = -1;
	size_t allow_nerrors = 0;
	bool deny_by_error = false;
	const tg_layout *l = &p->l;

	tg_vm_init(&vm, l, req, cls, false);
	tg_cands_init(&cands, l, vm.cls, req->target.ptr, req->target.len);
	while (tg_cands_next(&cands, &ri)) {
		tg_rule_view r = tg_pol_rule(l, ri);
		bool deny = r.effect == TG_BC_DENY;
		tg_trace_event ev;
		if (fn) {
			/* Only a trace reads the event's identity fields. */
			memset(&ev, 0, sizeof ev);
			ev.rule_index = ri;
			ev.rule_id = tg_pol_at(l, l->rv[ri].id_at);
			ev.effect = deny ? TG_DENY : TG_ALLOW;
			ev.line = tg_pol_rule_line(l, ri);
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
					tg_decision_deny(d);
					return TG_EINTERNAL;
				}
			}
			if (ev.condition == TG_COND_ERROR)
				ev.message = vm.msg;
			ev.applied = deny ? ev.condition != TG_COND_FALSE : ev.condition == TG_COND_TRUE;
			if (deny_rule < 0) {
				if (ev.condition == TG_COND_ERROR)
					tg_decision_error_add(d, l, ri, vm.msg);
				if (ev.applied && deny) {
					deny_rule = ri;
					deny_by_error = ev.condition == TG_COND_ERROR;
				}
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

	tg_decision_decide(d, l, deny_rule >= 0 ? deny_rule : allow_rule, deny_rule >= 0,
			   allow_nerrors, vm.insns);
	d->by_error = deny_by_error;
	return TG_OK;
}

tg_status tg_eval(const tg_policy *p, const tg_request *req, tg_decision *out)
{
	tg_bc_class cls;
	tg_status st = start(p, req, out, &cls);
	if (st != TG_OK)
		return st;
	return p->l.pool ? tg_vm_listed(&p->l, req, cls, out) : tg_vm_merged(&p->l, req, cls, out);
}

tg_status tg_eval_trace(const tg_policy *p, const tg_request *req, tg_decision *out,
			tg_trace_fn fn, void *userdata)
{
	tg_bc_class cls;
	tg_status st = start(p, req, out, &cls);
	return st != TG_OK ? st : eval(p, req, cls, out, fn, userdata);
}

/* ---- the decision as callers see it --------------------------------------- */

tg_status tg_decision_create(tg_decision **out)
{
	if (!out)
		return TG_EINVAL;
	*out = malloc(sizeof **out);
	if (!*out)
		return TG_ENOMEM;
	tg_decision_deny(*out);
	return TG_OK;
}

void tg_decision_free(tg_decision *d)
{
	free(d);
}

tg_access tg_decision_effect(const tg_decision *d)
{
	return d ? d->effect : TG_DENY;
}

uint32_t tg_decision_rule(const tg_decision *d)
{
	return d ? d->rule_index : TG_NO_RULE;
}

const char *tg_decision_rule_id(const tg_decision *d)
{
	return d ? d->rule_id : NULL;
}

const char *tg_decision_reason(const tg_decision *d)
{
	return d ? d->reason : NULL;
}

bool tg_decision_invalid(const tg_decision *d)
{
	return d && d->invalid;
}

bool tg_decision_by_error(const tg_decision *d)
{
	return d && d->by_error;
}

size_t tg_decision_error_count(const tg_decision *d)
{
	if (!d)
		return 0;
	return d->nerrors < TG_DECISION_MAX_ERRORS ? d->nerrors : TG_DECISION_MAX_ERRORS;
}

size_t tg_decision_error_total(const tg_decision *d)
{
	return d ? d->nerrors : 0;
}

tg_status tg_decision_error(const tg_decision *d, size_t i, uint32_t *rule, const char **rule_id,
			    const char **message)
{
	if (i >= tg_decision_error_count(d))
		return TG_EINVAL;
	if (rule)
		*rule = d->errors[i].rule_index;
	if (rule_id)
		*rule_id = d->errors[i].rule_id;
	if (message)
		*message = d->errors[i].message;
	return TG_OK;
}

static void set_reason(tg_decision *d, const char *reason)
{
	size_t n = reason ? strlen(reason) : 0;

	if (n >= sizeof d->reason_buf)
		n = sizeof d->reason_buf - 1;
	if (n)
		memcpy(d->reason_buf, reason, n);
	d->reason_buf[n] = '\0';
	d->reason = d->reason_buf;
}

void tg_decision_set_invalid(tg_decision *d, const char *reason)
{
	if (!d)
		return;
	tg_decision_deny(d);
	d->invalid = true;
	set_reason(d, reason);
}

void tg_decision_set_denied(tg_decision *d, const char *reason)
{
	if (!d)
		return;
	tg_decision_deny(d);
	set_reason(d, reason);
}
