/*
 * explain.c - why a request was allowed or denied, in words.
 *
 * The runtime reports every candidate rule through tg_eval_trace's callback
 * while it evaluates; the callback renders each event into a memory stream
 * and the outcome line is added once the decision is known, so the caller
 * can print the trace after the decision it explains. The wording follows
 * DESIGN's decision rules: a rule is skipped when its subject or action does
 * not match; a deny applies when its condition is true or an error (fail
 * closed); an allow applies only when its condition is true.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"


static const char *effect_name(tg_access e)
{
	return e == TG_ALLOW ? "allow" : "deny";
}

static void on_event(const tg_trace_event *ev, void *userdata)
{
	FILE *out = userdata;

	fprintf(out, "  %s rule '%s' (line %lu): ", effect_name(ev->effect),
		ev->rule_id ? ev->rule_id : "?", (unsigned long)ev->line);
	if (!ev->subject_matched) {
		fputs("subject does not match, skipped\n", out);
		return;
	}
	if (!ev->action_matched) {
		fputs("action does not match, skipped\n", out);
		return;
	}
	switch (ev->condition) {
	case TG_COND_NOT_EVALUATED:
		fputs("no condition", out);
		break;
	case TG_COND_TRUE:
		fputs("condition true", out);
		break;
	case TG_COND_FALSE:
		fputs("condition false", out);
		break;
	case TG_COND_ERROR:
		fprintf(out, "condition error (%s)", ev->message ? ev->message : "unknown");
		break;
	case TG_COND_UNKNOWN:
		fputs("condition unknown", out);
		break;
	}
	if (ev->applied)
		fputs(ev->condition == TG_COND_ERROR ? ", applies (a deny fails closed)\n"
						     : ", applies\n",
		      out);
	else
		fputs(ev->condition == TG_COND_ERROR ? ", does not apply (an allow needs true)\n"
						     : ", does not apply\n",
		      out);
}

static void outcome(FILE *out, const tg_policy *p, const tg_decision *d, size_t ncandidates)
{
	const char *rule = tg_decision_rule_id(d), *reason = tg_decision_reason(d);
	tg_access effect = tg_decision_effect(d);
	size_t nerrors = tg_decision_error_total(d);

	if (ncandidates == 0 && !tg_decision_invalid(d))
		fputs("  no rule is a candidate for this method and target\n", out);
	if (tg_decision_invalid(d)) {
		fprintf(out, "  => deny: %s\n", reason ? reason : "invalid request");
		return;
	}
	if (rule)
		fprintf(out, "  => %s by rule '%s'", effect_name(effect), rule);
	else
		fprintf(out, "  => %s by default (no rule applied; the policy's default is %s)",
			effect_name(effect), tg_policy_default_allow(p) ? "allow" : "deny");
	if (reason)
		fprintf(out, ": %s", reason);
	fputc('\n', out);
	if (nerrors > 0)
		fprintf(out, "  %lu error%s recorded\n", (unsigned long)nerrors,
			nerrors == 1 ? "" : "s");
}

typedef struct trace_ctx {
	FILE *out;
	size_t n;
} trace_ctx;

static void count_event(const tg_trace_event *ev, void *userdata)
{
	trace_ctx *ctx = userdata;

	ctx->n++;
	on_event(ev, ctx->out);
}

char *tg_mcp_explain(const tg_policy *p, const tg_request *req, tg_decision *d,
		     tg_status *status)
{
	trace_ctx ctx = {NULL, 0};
	char *text = NULL;
	size_t len = 0;

	ctx.out = open_memstream(&text, &len);
	if (!ctx.out) {
		*status = tg_eval(p, req, d);
		return NULL;
	}
	*status = tg_eval_trace(p, req, d, count_event, &ctx);
	outcome(ctx.out, p, d, ctx.n);
	if (fclose(ctx.out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
