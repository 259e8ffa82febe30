/*
 * run.c - evaluates the cases of a suite and judges them.
 *
 * A request case goes through the same JSON request reader as `toolgate
 * eval`, then the production evaluator (tg_eval: candidate lists and quick
 * programs), whose decision is compared with what the case expects; then
 * the explained evaluation of `eval --explain` (tg_mcp_explain over
 * tg_eval_trace, the interpreter), whose trace (every candidate rule and
 * what its condition gave) is kept for the report and whose decision must
 * be tg_eval's: effect, deciding rule and error count (the case fails
 * loudly if not, so every suite case checks the two evaluators agree). A
 * request the reader refuses
 * decides deny with rule null and reason "invalid request: ...", exactly
 * eval's answer, so a suite can pin that invalid requests are refused.
 *
 * A visibility case reads its principal/token/context as a tools/list
 * request and asks tg_visible_many about the catalogue entries, in catalogue
 * order; the names shown must equal the expected list exactly.
 *
 * Results are text built in memory (open_memstream), so the text and JUnit
 * writers print the same words.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "driver.h"
#include "request_json.h"
#include "suite.h"
#include "toolgate/toolgate.h"

/* ---- helpers -------------------------------------------------------------- */

static void tg_sr_quoted(FILE *o, const char *s)
{
	if (s)
		fprintf(o, "'%s'", s);
	else
		fputs("null", o);
}

static const char *tg_sr_access(bool allow)
{
	return allow ? "allow" : "deny";
}

/* Appends "; "-separated reasons to the one-line summary. */
static void tg_sr_why(FILE *sum, bool *first, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

static void tg_sr_why(FILE *sum, bool *first, const char *fmt, ...)
{
	va_list ap;

	if (!*first)
		fputs("; ", sum);
	*first = false;
	va_start(ap, fmt);
	vfprintf(sum, fmt, ap);
	va_end(ap);
}

/* ---- reading requests ----------------------------------------------------- */

/* The request reader's output for one case: a tg_request whose strings and
 * slot values live in `rj`, or why it was refused. */
typedef struct tg_sr_req {
	tg_json_request rj;
	bool ok;
	char why[512];
} tg_sr_req;

static void tg_sr_read(const tg_policy *p, json_t *j, tg_sr_req *r)
{
	r->ok = tg_json_request_from_json(p, j, &r->rj, r->why, sizeof r->why) == 0;
}

static void tg_sr_release(tg_sr_req *r)
{
	tg_json_request_free(&r->rj);
}

/* ---- request cases ------------------------------------------------------- */

typedef struct tg_sr_out {
	FILE *sum, *det;
	char *sumbuf, *detbuf;
	size_t sumlen, detlen;
} tg_sr_out;

static int tg_sr_open(tg_sr_out *o)
{
	memset(o, 0, sizeof *o);
	o->sum = open_memstream(&o->sumbuf, &o->sumlen);
	o->det = open_memstream(&o->detbuf, &o->detlen);
	if (!o->sum || !o->det) {
		if (o->sum)
			fclose(o->sum);
		if (o->det)
			fclose(o->det);
		free(o->sumbuf);
		free(o->detbuf);
		return -1;
	}
	return 0;
}

/* Closes the streams and moves their text into the result. */
static int tg_sr_close(tg_sr_out *o, tg_case_result *res, bool keep_detail)
{
	int bad = fclose(o->sum) != 0;

	if (fclose(o->det) != 0)
		bad = 1;
	if (bad || !o->sumbuf || !o->detbuf) {
		free(o->sumbuf);
		free(o->detbuf);
		return -1;
	}
	if (res->passed) {
		free(o->sumbuf);
	} else {
		res->summary = o->sumbuf;
	}
	if (keep_detail || !res->passed)
		res->detail = o->detbuf;
	else
		free(o->detbuf);
	return 0;
}

static void tg_sr_expected(FILE *o, const tg_suite_expect *e)
{
	size_t i;

	fprintf(o, "  expected: %s", tg_sr_access(e->allow));
	if (e->check_rule) {
		fputs(", rule ", o);
		tg_sr_quoted(o, e->rule);
	}
	if (e->reason)
		fprintf(o, ", reason containing '%s'", e->reason);
	if (e->errors_mode == TG_EXPECT_ERRORS_COUNT)
		fprintf(o, ", %zu error%s", e->nerrors, e->nerrors == 1 ? "" : "s");
	if (e->errors_mode == TG_EXPECT_ERRORS_LIST) {
		fprintf(o, ", errors [");
		for (i = 0; i < e->nerrors; i++)
			fprintf(o, "%s'%s'", i ? ", " : "", e->errors[i]);
		fputc(']', o);
	}
	fputc('\n', o);
}

/* Error i's rule id and message (i below tg_decision_error_count). */
static void tg_sr_error(const tg_decision *d, size_t i, const char **rule, const char **message)
{
	*rule = *message = "?";
	(void)tg_decision_error(d, i, NULL, rule, message);
	if (!*rule)
		*rule = "?";
}

static void tg_sr_actual(FILE *o, const tg_decision *d)
{
	size_t i, shown = tg_decision_error_count(d), total = tg_decision_error_total(d);
	const char *rule, *message;

	fprintf(o, "  actual:   %s", tg_sr_access(tg_decision_effect(d) == TG_ALLOW));
	if (tg_decision_rule_id(d))
		fprintf(o, " by rule '%s'\n", tg_decision_rule_id(d));
	else if (tg_decision_invalid(d))
		fputs(" (invalid request)\n", o);
	else
		fputs(" by default (no rule applied)\n", o);
	fputs("  reason:   ", o);
	tg_sr_quoted(o, tg_decision_reason(d));
	fputc('\n', o);
	if (total == 0) {
		fputs("  errors:   none\n", o);
		return;
	}
	fprintf(o, "  errors:   %zu\n", total);
	for (i = 0; i < shown; i++) {
		tg_sr_error(d, i, &rule, &message);
		fprintf(o, "    - %s: %s\n", rule, message);
	}
	if (total > shown)
		fprintf(o, "    ... %zu more\n", total - shown);
}

/* Compares decision d with expectation e, writing every mismatch. */
static bool tg_sr_judge(FILE *sum, const tg_suite_expect *e, const tg_decision *d)
{
	bool first = true;
	bool allow = tg_decision_effect(d) == TG_ALLOW;
	const char *rule = tg_decision_rule_id(d), *reason = tg_decision_reason(d);
	size_t i, total = tg_decision_error_total(d);

	if (allow != e->allow)
		tg_sr_why(sum, &first, "expected %s, got %s", tg_sr_access(e->allow),
			  tg_sr_access(allow));
	if (e->check_rule) {
		bool same = e->rule ? rule && strcmp(e->rule, rule) == 0 : !rule;

		if (!same) {
			tg_sr_why(sum, &first, "expected rule ");
			tg_sr_quoted(sum, e->rule);
			fputs(", got ", sum);
			tg_sr_quoted(sum, rule);
		}
	}
	if (e->reason && (!reason || !strstr(reason, e->reason))) {
		tg_sr_why(sum, &first, "expected a reason containing '%s', got ", e->reason);
		tg_sr_quoted(sum, reason);
	}
	if (e->errors_mode != TG_EXPECT_ERRORS_ANY && total != e->nerrors) {
		tg_sr_why(sum, &first, "expected %zu error%s, got %zu", e->nerrors,
			  e->nerrors == 1 ? "" : "s", total);
	} else if (e->errors_mode == TG_EXPECT_ERRORS_LIST) {
		for (i = 0; i < e->nerrors && i < tg_decision_error_count(d); i++) {
			const char *who, *message;

			tg_sr_error(d, i, &who, &message);
			if (!strstr(message, e->errors[i]))
				tg_sr_why(sum, &first,
					  "expected error %zu to contain '%s', got '%s'", i + 1,
					  e->errors[i], message);
		}
	}
	return first;
}

/* Whether the two evaluators' decisions are the same decision. */
static bool tg_sr_same(tg_status st, const tg_decision *d, tg_status stt, const tg_decision *dt)
{
	const char *a = tg_decision_rule_id(d), *b = tg_decision_rule_id(dt);

	return st == stt && tg_decision_effect(d) == tg_decision_effect(dt) &&
	       (a && b ? strcmp(a, b) == 0 : a == b) &&
	       tg_decision_error_total(d) == tg_decision_error_total(dt);
}

static int tg_sr_request_case(const tg_policy *p, const tg_suite_case *c, bool explain,
			      tg_case_result *res)
{
	tg_sr_out o;
	tg_sr_req r;
	tg_decision *d;

	if (tg_decision_create(&d) != TG_OK)
		return -1;
	if (tg_sr_open(&o) < 0) {
		tg_decision_free(d);
		return -1;
	}
	tg_sr_read(p, c->request, &r);
	if (r.ok) {
		tg_status st, stt;
		tg_decision *dt;
		char *trace = NULL;
		const char *line;

		st = tg_eval(p, &r.rj.req, d);
		if (tg_decision_create(&dt) == TG_OK)
			trace = tg_mcp_explain(p, &r.rj.req, dt, &stt);
		if (!trace) {
			tg_decision_free(dt);
			tg_sr_release(&r);
			tg_sr_close(&o, res, false);
			tg_decision_free(d);
			return -1;
		}
		res->passed = tg_sr_judge(o.sum, &c->expect, d);
		if (!tg_sr_same(st, d, stt, dt)) {
			fprintf(o.sum, "%sEVALUATORS DISAGREE: tg_eval %s by %s (%zu errors), "
				"tg_eval_trace %s by %s (%zu errors)", res->passed ? "" : "; ",
				tg_sr_access(tg_decision_effect(d) == TG_ALLOW),
				tg_decision_rule_id(d) ? tg_decision_rule_id(d) : "no rule",
				tg_decision_error_total(d),
				tg_sr_access(tg_decision_effect(dt) == TG_ALLOW),
				tg_decision_rule_id(dt) ? tg_decision_rule_id(dt) : "no rule",
				tg_decision_error_total(dt));
			res->passed = false;
		}
		tg_decision_free(dt);
		tg_sr_expected(o.det, &c->expect);
		tg_sr_actual(o.det, d);
		fputs("  trace:\n", o.det);
		for (line = trace; *line;) {
			size_t n = strcspn(line, "\n");

			fprintf(o.det, "  %.*s\n", (int)n, line);
			line += n + (line[n] == '\n');
		}
		free(trace);
	} else {
		/* eval's answer for a request it cannot read. */
		tg_decision_set_invalid(d, r.why);
		res->passed = tg_sr_judge(o.sum, &c->expect, d);
		tg_sr_expected(o.det, &c->expect);
		tg_sr_actual(o.det, d);
	}
	tg_decision_free(d);
	tg_sr_release(&r);
	return tg_sr_close(&o, res, explain);
}

/* ---- visibility cases ------------------------------------------------------ */

static tg_hint tg_sr_hint(bool b)
{
	return b ? TG_HINT_TRUE : TG_HINT_FALSE;
}

static void tg_sr_list(FILE *o, const char *label, const char *const *names, size_t n)
{
	size_t i;

	fprintf(o, "  %s [", label);
	for (i = 0; i < n; i++)
		fprintf(o, "%s%s", i ? ", " : "", names[i]);
	fputs("]\n", o);
}

static bool tg_sr_has(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

static int tg_sr_visible_case(const tg_policy *p, const tg_suite *s, const tg_suite_case *c,
			      bool explain, tg_case_result *res)
{
	size_t cap = s->ntools ? s->ntools : 1;
	const char **shown = calloc(cap, sizeof *shown);
	tg_entry *entries = calloc(cap, sizeof *entries);
	bool *vis = calloc(cap, sizeof *vis);
	size_t nshown = 0, i;
	tg_status st = TG_OK;
	tg_sr_out o;
	tg_sr_req r;
	bool first = true;

	if (!shown || !entries || !vis || tg_sr_open(&o) < 0) {
		free(shown);
		free(entries);
		free(vis);
		return -1;
	}
	tg_sr_read(p, c->request, &r);
	for (i = 0; i < s->ntools; i++) {
		const tg_suite_tool *t = &s->tools[i];
		tg_entry *e = &entries[i];

		tg_entry_init(e);
		e->kind = TG_ENTRY_TOOL;
		e->name.ptr = t->name;
		e->name.len = strlen(t->name);
		if (t->server) {
			e->server.ptr = t->server;
			e->server.len = strlen(t->server);
		}
		e->read_only = tg_sr_hint(t->hints[TG_SUITE_HINT_READ_ONLY]);
		e->destructive = tg_sr_hint(t->hints[TG_SUITE_HINT_DESTRUCTIVE]);
		e->idempotent = tg_sr_hint(t->hints[TG_SUITE_HINT_IDEMPOTENT]);
		e->open_world = tg_sr_hint(t->hints[TG_SUITE_HINT_OPEN_WORLD]);
	}
	/* The whole catalogue in one call: the requester is checked once. */
	if (r.ok)
		st = tg_visible_many(p, &r.rj.req, entries, s->ntools, vis);
	for (i = 0; r.ok && i < s->ntools; i++)
		if (vis[i])
			shown[nshown++] = s->tools[i].name;
	res->passed = nshown == c->expect.nvisible;
	for (i = 0; res->passed && i < nshown; i++)
		res->passed = strcmp(shown[i], c->expect.visible[i]) == 0;

	if (!res->passed) {
		tg_sr_why(o.sum, &first, "expected %zu visible tool%s, got %zu",
			  c->expect.nvisible, c->expect.nvisible == 1 ? "" : "s", nshown);
		for (i = 0; i < c->expect.nvisible; i++)
			if (!tg_sr_has(shown, nshown, c->expect.visible[i]))
				tg_sr_why(o.sum, &first, "'%s' is hidden", c->expect.visible[i]);
		for (i = 0; i < nshown; i++)
			if (!tg_sr_has(c->expect.visible, c->expect.nvisible, shown[i]))
				tg_sr_why(o.sum, &first, "'%s' is visible", shown[i]);
	}
	tg_sr_list(o.det, "expected:", c->expect.visible, c->expect.nvisible);
	tg_sr_list(o.det, "actual:  ", shown, nshown);
	if (!r.ok)
		fprintf(o.det, "  the requester is invalid, so nothing is visible: %s\n", r.why);
	if (st != TG_OK && st != TG_EINVALID_REQUEST)
		fprintf(o.det, "  tg_visible_many failed: %s\n", tg_strerror(st));
	tg_sr_release(&r);
	free(shown);
	free(entries);
	free(vis);
	return tg_sr_close(&o, res, explain);
}

/* ---- entry points ------------------------------------------------------- */

static int tg_sr_begin(const tg_suite *suite, tg_suite_result *res)
{
	memset(res, 0, sizeof *res);
	res->suite = suite;
	res->path = suite->path;
	res->ncases = suite->ncases;
	res->cases = calloc(suite->ncases ? suite->ncases : 1, sizeof *res->cases);
	return res->cases ? 0 : -1;
}

int tg_suite_run(const tg_suite *suite, const tg_policy *policy, bool explain,
		 tg_suite_result *res)
{
	size_t i;

	if (tg_sr_begin(suite, res) < 0)
		return -1;
	for (i = 0; i < suite->ncases; i++) {
		const tg_suite_case *c = &suite->cases[i];
		tg_case_result *cr = &res->cases[i];
		int rc;

		cr->c = c;
		if (c->kind == TG_CASE_VISIBLE)
			rc = tg_sr_visible_case(policy, suite, c, explain, cr);
		else
			rc = tg_sr_request_case(policy, c, explain, cr);
		if (rc < 0)
			return -1;
		if (cr->passed)
			res->passed++;
		else
			res->failed++;
	}
	res->status = res->failed ? TG_EXIT_FAIL : TG_EXIT_OK;
	return 0;
}

int tg_suite_fail_all(const tg_suite *suite, const char *why, tg_suite_result *res)
{
	size_t i;

	if (tg_sr_begin(suite, res) < 0)
		return -1;
	for (i = 0; i < suite->ncases; i++) {
		res->cases[i].c = &suite->cases[i];
		res->cases[i].summary = strdup(why);
		if (!res->cases[i].summary)
			return -1;
	}
	res->failed = suite->ncases;
	res->status = TG_EXIT_FAIL;
	return 0;
}

void tg_suite_result_free(tg_suite_result *res)
{
	size_t i;

	for (i = 0; res->cases && i < res->ncases; i++) {
		free(res->cases[i].summary);
		free(res->cases[i].detail);
	}
	free(res->cases);
	free(res->error);
	memset(res, 0, sizeof *res);
}
