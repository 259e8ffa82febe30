/*
 * yaml.c - reads a YAML test suite into a tg_suite.
 *
 * Two passes. The first (yaml_tree.c) turns the file into a located tree,
 * refusing anchors, aliases, tags, duplicate keys, deep nesting and a second
 * document. The second, here, checks the tree against the suite format and
 * builds the suite: every request becomes a jansson object with the defaults
 * merged in, so the request reader sees exactly what `toolgate eval` sees.
 *
 * Every problem is reported, not just the first, as
 * FILE:LINE:COL: error: MESSAGE followed by the source line and a caret. A
 * suite with any error is not run at all: nothing in it is silently skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "suite.h"
#include "yaml_tree.h"

static const char *const tg_ys_suite_keys[] = {"policy", "defaults", "tools", "cases"};
static const char *const tg_ys_request_keys[] = {
	"principal", "token", "method", "target", "server", "tool", "args", "context",
};
static const char *const tg_ys_visible_keys[] = {"principal", "token", "context"};
static const char *const tg_ys_tool_keys[] = {"name", "server", "annotations"};
static const char *const tg_ys_hint_keys[TG_SUITE_HINT_COUNT] = {
	[TG_SUITE_HINT_READ_ONLY] = "read_only",
	[TG_SUITE_HINT_DESTRUCTIVE] = "destructive",
	[TG_SUITE_HINT_IDEMPOTENT] = "idempotent",
	[TG_SUITE_HINT_OPEN_WORLD] = "open_world",
};
/* MCP's defaults for absent annotation hints. */
static const bool tg_ys_hint_defaults[TG_SUITE_HINT_COUNT] = {false, true, false, true};
static const char *const tg_ys_case_keys[] = {"name", "request", "visible", "expect"};
static const char *const tg_ys_expect_keys[] = {"decision", "rule", "reason", "errors"};

static bool tg_ys_decision(tg_ys *y, const tg_yn *v, const char *key, bool *allow)
{
	if (tg_ys_type_of(v) == TG_YT_STRING) {
		if (strcmp(v->s, "allow") == 0 && v->len == 5) {
			*allow = true;
			return true;
		}
		if (strcmp(v->s, "deny") == 0 && v->len == 4) {
			*allow = false;
			return true;
		}
	}
	if (tg_ys_type_of(v) != TG_YT_BAD)
		tg_ys_error(y, v, "'%s' must be 'allow' or 'deny'", key);
	return false;
}

static void tg_ys_defaults(tg_ys *y, const tg_yn *v, json_t **out)
{
	size_t i;

	if (!tg_ys_want(y, v, TG_YT_MAP, "", "defaults"))
		return;
	tg_ys_check_keys(y, v, tg_ys_request_keys, TG_NKEYS(tg_ys_request_keys), "defaults");
	for (i = 0; i < 3; i++) {
		static const char *const merged[] = {"principal", "token", "context"};
		const tg_yn *m = tg_ys_get(v, merged[i]);

		if (m)
			tg_ys_want(y, m, TG_YT_MAP, "defaults ", merged[i]);
	}
	*out = tg_ys_to_json(y, v);
}

static void tg_ys_tools(tg_ys *y, tg_suite *s, const tg_yn *v)
{
	size_t i, j, h;

	if (!tg_ys_want(y, v, TG_YT_LIST, "", "tools"))
		return;
	s->tools = tg_arena_alloc(y->arena, (v->n ? v->n : 1) * sizeof *s->tools);
	if (!s->tools) {
		tg_ys_oom(y);
		return;
	}
	for (i = 0; i < v->n; i++) {
		const tg_yn *t = v->kids[i], *f;
		tg_suite_tool *tool = &s->tools[s->ntools];

		memset(tool, 0, sizeof *tool);
		if (!tg_ys_want(y, t, TG_YT_MAP, "", "tools[]"))
			continue;
		tg_ys_check_keys(y, t, tg_ys_tool_keys, TG_NKEYS(tg_ys_tool_keys), "tool");
		tool->loc = t->loc;
		memcpy(tool->hints, tg_ys_hint_defaults, sizeof tool->hints);
		f = tg_ys_require(y, t, "name", "tool");
		if (f && (tool->name = tg_ys_string(y, f, "tool ", "name")) != NULL) {
			for (j = 0; j < s->ntools; j++)
				if (strcmp(s->tools[j].name, tool->name) == 0) {
					tg_ys_error(y, f, "duplicate tool '%s' (first at line %u)",
						    tool->name, s->tools[j].loc.line);
					break;
				}
		}
		if ((f = tg_ys_get(t, "server")) != NULL)
			tool->server = tg_ys_string(y, f, "tool ", "server");
		if ((f = tg_ys_get(t, "annotations")) != NULL &&
		    tg_ys_want(y, f, TG_YT_MAP, "tool ", "annotations")) {
			tg_ys_check_keys(y, f, tg_ys_hint_keys, TG_SUITE_HINT_COUNT, "annotations");
			for (h = 0; h < TG_SUITE_HINT_COUNT; h++) {
				const tg_yn *b = tg_ys_get(f, tg_ys_hint_keys[h]);

				if (b && tg_ys_want(y, b, TG_YT_BOOL, "annotation ",
						    tg_ys_hint_keys[h]))
					tool->hints[h] = b->s[0] == 't';
			}
		}
		if (tool->name)
			s->ntools++;
	}
}

/* `errors: N` or `errors: [substring, ...]`. */
static void tg_ys_expect_errors(tg_ys *y, const tg_yn *v, tg_suite_expect *e)
{
	size_t i;

	if (tg_ys_type_of(v) == TG_YT_INT && v->s[0] != '-') {
		errno = 0;
		e->nerrors = (size_t)strtoull(v->s, NULL, 10);
		if (errno == 0) {
			e->errors_mode = TG_EXPECT_ERRORS_COUNT;
			return;
		}
	}
	if (tg_ys_type_of(v) != TG_YT_LIST) {
		if (tg_ys_type_of(v) != TG_YT_BAD)
			tg_ys_error(y, v,
				    "'errors' must be a count or a list of strings, not %s",
				    tg_ys_type_of(v) == TG_YT_INT ? "a negative integer"
								  : tg_ys_type_name(v));
		return;
	}
	e->errors_mode = TG_EXPECT_ERRORS_LIST;
	e->nerrors = v->n;
	e->errors = tg_arena_alloc(y->arena, (v->n ? v->n : 1) * sizeof *e->errors);
	if (!e->errors) {
		tg_ys_oom(y);
		return;
	}
	for (i = 0; i < v->n; i++)
		e->errors[i] = tg_ys_string(y, v->kids[i], "", "errors[]");
}

static void tg_ys_expect_decision(tg_ys *y, const tg_yn *v, tg_suite_expect *e)
{
	const tg_yn *f;

	if (tg_ys_type_of(v) != TG_YT_MAP) {
		tg_ys_decision(y, v, "expect", &e->allow);
		return;
	}
	tg_ys_check_keys(y, v, tg_ys_expect_keys, TG_NKEYS(tg_ys_expect_keys), "expect");
	if ((f = tg_ys_require(y, v, "decision", "expect")) != NULL)
		tg_ys_decision(y, f, "decision", &e->allow);
	if ((f = tg_ys_get(v, "rule")) != NULL) {
		e->check_rule = true;
		if (tg_ys_type_of(f) != TG_YT_NULL) {
			if (tg_ys_type_of(f) == TG_YT_STRING)
				e->rule = tg_ys_string(y, f, "", "rule");
			else if (tg_ys_type_of(f) != TG_YT_BAD)
				tg_ys_error(y, f, "'rule' must be a rule id or null, not %s",
					    tg_ys_type_name(f));
		}
	}
	if ((f = tg_ys_get(v, "reason")) != NULL)
		e->reason = tg_ys_string(y, f, "", "reason");
	if ((f = tg_ys_get(v, "errors")) != NULL)
		tg_ys_expect_errors(y, f, e);
}

static void tg_ys_expect_visible(tg_ys *y, const tg_suite *s, const tg_yn *v, tg_suite_expect *e)
{
	size_t i, j;
	const char **names;

	if (!tg_ys_want(y, v, TG_YT_LIST, "visibility case ", "expect"))
		return;
	e->visible = tg_arena_alloc(y->arena, (v->n ? v->n : 1) * sizeof *e->visible);
	names = tg_arena_alloc(y->arena, (s->ntools ? s->ntools : 1) * sizeof *names);
	if (!e->visible || !names) {
		tg_ys_oom(y);
		return;
	}
	for (j = 0; j < s->ntools; j++)
		names[j] = s->tools[j].name;
	for (i = 0; i < v->n; i++) {
		const char *name = tg_ys_string(y, v->kids[i], "", "expect[]");
		const char *best;
		char hint[256];

		if (!name)
			continue;
		for (j = 0; j < s->ntools; j++)
			if (strcmp(names[j], name) == 0)
				break;
		if (j == s->ntools) {
			best = tg_suggest(name, strlen(name), (const char *const *)names, s->ntools);
			if (best) {
				snprintf(hint, sizeof hint, "did you mean '%s'?", best);
				tg_ys_error_hint(y, v->kids[i], hint,
						 "unknown tool '%s' (not in 'tools')", name);
			} else {
				tg_ys_error(y, v->kids[i], "unknown tool '%s' (not in 'tools')",
					    name);
			}
			continue;
		}
		e->visible[e->nvisible++] = name;
	}
}

static void tg_ys_case(tg_ys *y, tg_suite *s, const tg_yn *c, const json_t *defaults,
		       const tg_yn *tools_node)
{
	tg_suite_case *tc = &s->cases[s->ncases];
	const tg_yn *name, *req, *vis, *exp;
	json_t *fields = NULL;
	size_t i;

	memset(tc, 0, sizeof *tc);
	if (!tg_ys_want(y, c, TG_YT_MAP, "", "cases[]"))
		return;
	tg_ys_check_keys(y, c, tg_ys_case_keys, TG_NKEYS(tg_ys_case_keys), "case");
	tc->loc = c->loc;
	if ((name = tg_ys_require(y, c, "name", "case")) != NULL &&
	    (tc->name = tg_ys_string(y, name, "case ", "name")) != NULL) {
		tc->loc = name->loc;
		for (i = 0; i < s->ncases; i++)
			if (strcmp(s->cases[i].name, tc->name) == 0) {
				tg_ys_error(y, name, "duplicate case name '%s' (first at line %u)",
					    tc->name, s->cases[i].loc.line);
				break;
			}
	}
	req = tg_ys_get(c, "request");
	vis = tg_ys_get(c, "visible");
	exp = tg_ys_require(y, c, "expect", "case");
	if ((req && vis) || (!req && !vis)) {
		if (req)
			tg_ys_error(y, vis, "a case has either 'request' or 'visible', not both");
		else
			tg_ys_error(y, c, "missing required key 'request' or 'visible' in case");
		/* Still check `expect`, read as the shape it has. */
		if (exp && tg_ys_type_of(exp) == TG_YT_LIST)
			tg_ys_expect_visible(y, s, exp, &tc->expect);
		else if (exp)
			tg_ys_expect_decision(y, exp, &tc->expect);
		return;
	}
	if (req) {
		tc->kind = TG_CASE_REQUEST;
		if (tg_ys_want(y, req, TG_YT_MAP, "", "request"))
			fields = tg_ys_to_json(y, req);
		if (exp) {
			tc->expect.loc = exp->loc;
			tg_ys_expect_decision(y, exp, &tc->expect);
		}
	} else {
		tc->kind = TG_CASE_VISIBLE;
		if (!tools_node)
			tg_ys_error(y, vis, "a visibility case needs a 'tools' catalogue");
		if (tg_ys_want(y, vis, TG_YT_MAP, "", "visible")) {
			tg_ys_check_keys(y, vis, tg_ys_visible_keys,
					 TG_NKEYS(tg_ys_visible_keys), "visible");
			fields = tg_ys_to_json(y, vis);
		}
		if (exp) {
			tc->expect.loc = exp->loc;
			tg_ys_expect_visible(y, s, exp, &tc->expect);
		}
	}
	if (!fields)
		return;
	if (tc->kind == TG_CASE_VISIBLE) {
		/* Only the identity and context apply to a catalogue; the
		 * rest of each request comes from the tool entry. */
		json_t *base = json_object();
		const char *k;
		json_t *dv;

		json_object_foreach((json_t *)defaults, k, dv)
			if (strcmp(k, "principal") == 0 || strcmp(k, "token") == 0 ||
			    strcmp(k, "context") == 0)
				json_object_set(base, k, dv);
		tc->request = tg_suite_merge(base, fields);
		json_decref(base);
		if (tc->request)
			json_object_set_new(tc->request, "method", json_string("tools/list"));
	} else {
		tc->request = tg_suite_merge(defaults, fields);
	}
	json_decref(fields);
	if (!tc->request)
		tg_ys_oom(y);
	if (tc->name)
		s->ncases++;
	else {
		json_decref(tc->request);
		tc->request = NULL;
	}
}

static void tg_ys_suite(tg_ys *y, tg_suite *s, const tg_yn *root)
{
	const tg_yn *policy, *defaults, *tools, *cases;
	json_t *djson = NULL;
	size_t i;

	if (root->kind != TG_YN_MAP) {
		if (root->kind != TG_YN_BAD)
			tg_ys_error(y, root, "a suite must be a mapping, not %s",
				    tg_ys_type_name(root));
		return;
	}
	tg_ys_check_keys(y, root, tg_ys_suite_keys, TG_NKEYS(tg_ys_suite_keys), "suite");
	if ((policy = tg_ys_require(y, root, "policy", "suite")) != NULL) {
		s->policy = tg_ys_string(y, policy, "", "policy");
		s->policy_loc = policy->loc;
		if (s->policy && !*s->policy) {
			tg_ys_error(y, policy, "'policy' must not be empty");
			s->policy = NULL;
		}
	}
	if ((defaults = tg_ys_get(root, "defaults")) != NULL)
		tg_ys_defaults(y, defaults, &djson);
	if (!djson && !(djson = json_object())) {
		tg_ys_oom(y);
		return;
	}
	if ((tools = tg_ys_get(root, "tools")) != NULL)
		tg_ys_tools(y, s, tools);
	cases = tg_ys_require(y, root, "cases", "suite");
	if (cases && tg_ys_want(y, cases, TG_YT_LIST, "", "cases")) {
		if (cases->n == 0)
			tg_ys_error(y, cases, "a suite needs at least one case");
		s->cases = tg_arena_alloc(y->arena, (cases->n ? cases->n : 1) * sizeof *s->cases);
		if (!s->cases)
			tg_ys_oom(y);
		for (i = 0; s->cases && i < cases->n && !y->oom; i++)
			tg_ys_case(y, s, cases->kids[i], djson, tools);
	}
	json_decref(djson);
}

/* The policy path, relative to the suite file's directory unless absolute. */
static const char *tg_ys_resolve(tg_arena *a, const char *suite_path, const char *policy)
{
	const char *slash;

	if (policy[0] == '/')
		return policy;
	slash = strrchr(suite_path, '/');
	if (!slash)
		return policy;
	return tg_arena_printf(a, "%.*s/%s", (int)(slash - suite_path), suite_path, policy);
}

/* ---- merging ------------------------------------------------------------ */

static bool tg_suite_merged_key(const char *k)
{
	return strcmp(k, "principal") == 0 || strcmp(k, "token") == 0 ||
	       strcmp(k, "context") == 0;
}

json_t *tg_suite_merge(const json_t *defaults, const json_t *fields)
{
	json_t *out = defaults ? json_deep_copy(defaults) : json_object();
	const char *k;
	json_t *v;

	if (!out)
		return NULL;
	json_object_foreach((json_t *)fields, k, v) {
		json_t *base = json_object_get(out, k);

		if (json_is_null(v)) {
			json_object_del(out, k);
		} else if (tg_suite_merged_key(k) && json_is_object(base) && json_is_object(v)) {
			const char *sk;
			json_t *sv;

			json_object_foreach(v, sk, sv) {
				if (json_is_null(sv))
					json_object_del(base, sk);
				else if (json_object_set_new(base, sk, json_deep_copy(sv)) < 0)
					goto oom;
			}
		} else if (json_object_set_new(out, k, json_deep_copy(v)) < 0) {
			goto oom;
		}
	}
	return out;
oom:
	json_decref(out);
	return NULL;
}

/* ---- entry points ------------------------------------------------------- */

void tg_suite_free(tg_suite *suite)
{
	size_t i;

	if (!suite)
		return;
	for (i = 0; i < suite->ncases; i++)
		json_decref(suite->cases[i].request);
	tg_arena_free(&suite->arena);
	free(suite);
}

tg_suite_status tg_suite_parse(const char *path, const char *text, size_t len, FILE *err,
			       tg_suite **out)
{
	tg_suite *s = calloc(1, sizeof *s);
	tg_ys y = {0};
	tg_yn *root;

	*out = NULL;
	if (!s) {
		fprintf(err, "%s: error: out of memory\n", path);
		return TG_SUITE_INVALID;
	}
	tg_arena_init(&s->arena);
	y.path = path;
	y.text = text;
	y.len = len;
	y.err = err;
	y.arena = &s->arena;
	s->path = tg_arena_strndup(&s->arena, path, strlen(path));
	if (!s->path)
		tg_ys_oom(&y);

	root = y.oom ? NULL : tg_ys_read_tree(&y);
	if (!root && y.nerrors == 0) {
		static const tg_yn empty = {.kind = TG_YN_BAD, .loc = {1, 1}};

		tg_ys_error(&y, &empty, "empty suite (expected 'policy' and 'cases')");
	}
	if (root)
		tg_ys_suite(&y, s, root);
	if (y.nerrors == 0 && s->policy) {
		s->policy_path = tg_ys_resolve(&s->arena, path, s->policy);
		if (!s->policy_path)
			tg_ys_oom(&y);
	}
	tg_ys_flush(&y);
	if (y.nerrors) {
		tg_suite_free(s);
		return TG_SUITE_INVALID;
	}
	*out = s;
	return TG_SUITE_OK;
}

tg_suite_status tg_suite_load(const char *path, FILE *err, tg_suite **out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	tg_suite_status st;

	*out = NULL;
	if (!f) {
		fprintf(err, "toolgate: cannot read suite '%s': %s\n", path, strerror(errno));
		return TG_SUITE_IO;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if (cap > TG_SUITE_MAX_BYTES + 1)
				cap = TG_SUITE_MAX_BYTES + 1;
			if (len == cap) {
				fprintf(err, "toolgate: suite '%s' is larger than %u bytes\n", path,
					TG_SUITE_MAX_BYTES);
				goto fail;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				fprintf(err, "toolgate: out of memory reading '%s'\n", path);
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(err, "toolgate: cannot read suite '%s': %s\n", path, strerror(errno));
		goto fail;
	}
	if (len > TG_SUITE_MAX_BYTES) {
		fprintf(err, "toolgate: suite '%s' is larger than %u bytes\n", path,
			TG_SUITE_MAX_BYTES);
		goto fail;
	}
	fclose(f);
	st = tg_suite_parse(path, buf ? buf : "", len, err, out);
	free(buf);
	return st;
fail:
	fclose(f);
	free(buf);
	return TG_SUITE_IO;
}
