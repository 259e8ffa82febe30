/*
 * gen_request.c - random requests aimed at a generated policy.
 *
 * Targets are instances of the policy's own globs (a hit), often mutated by
 * one edit (a near miss); roles mix the declared ones with undeclared and
 * mis-cased names; every attribute of gen_attrs is present or absent at
 * random and, when present, usually of its intended type and domain, but
 * sometimes of another type, of type `other` (null, a float, an object, a
 * mixed list), out of its domain, at the int64 limits, or a path with `.`,
 * `..` or empty segments.
 */
#include "gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PICK(r, arr) ((arr)[gen_below((r), sizeof(arr) / sizeof((arr)[0]))])

static const char *const chars_noslash[] = {"a", "b", ".", "_", "x", "\xc3\xa9", "-"};
static const char *const chars_any[] = {"a", "/", ".", "_", "\xc3\xa9", "b/"};

char *gen_glob_instance(gen_rng *r, const char *g)
{
	char buf[512];
	size_t n = 0;
	for (size_t i = 0; g[i] && n < 400;) {
		if (g[i] == '\\' && g[i + 1]) {
			buf[n++] = g[i + 1];
			i += 2;
		} else if (g[i] == '*') {
			size_t run = 0;
			while (g[i] == '*') {
				run++;
				i++;
			}
			unsigned k = gen_below(r, 4);
			for (unsigned j = 0; j < k && n < 400; j++)
				n += (size_t)snprintf(buf + n, sizeof buf - n, "%s",
						      run > 1 ? PICK(r, chars_any) : PICK(r, chars_noslash));
		} else if (g[i] == '?') {
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s",
					      gen_chance(r, 5) ? "" : PICK(r, chars_noslash));
			i++;
		} else {
			buf[n++] = g[i++];
		}
	}
	buf[n] = 0;
	return strdup(buf);
}

/* One edit that keeps UTF-8 valid: append, prepend, cut at an ASCII byte, or
 * double a slash. */
static char *mutate(gen_rng *r, char *s)
{
	char buf[600];
	size_t len = strlen(s);
	switch (gen_below(r, 4)) {
	case 0:
		snprintf(buf, sizeof buf, "%s%s", s, PICK(r, chars_any));
		break;
	case 1:
		snprintf(buf, sizeof buf, "%s%s", PICK(r, chars_noslash), s);
		break;
	case 2: {
		size_t ascii[600], n = 0;
		for (size_t i = 0; i < len && n < 600; i++)
			if ((unsigned char)s[i] < 0x80)
				ascii[n++] = i;
		if (n == 0) {
			snprintf(buf, sizeof buf, "%sx", s);
			break;
		}
		size_t cut = ascii[gen_below(r, (unsigned)n)];
		snprintf(buf, sizeof buf, "%.*s%s", (int)cut, s, s + cut + 1);
		break;
	}
	default: {
		char *slash = strchr(s, '/');
		if (slash)
			snprintf(buf, sizeof buf, "%.*s/%s", (int)(slash - s), s, slash);
		else
			snprintf(buf, sizeof buf, "%s/", s);
		break;
	}
	}
	free(s);
	return strdup(buf);
}

static char *target_from(gen_rng *r, const gen_strs *globs, const char *fallback)
{
	char *t = globs->n && gen_chance(r, 85) ?
			  gen_glob_instance(r, globs->v[gen_below(r, (unsigned)globs->n)]) :
			  strdup(fallback);
	if (gen_chance(r, 25))
		t = mutate(r, t);
	return t;
}

/* ---- values ------------------------------------------------------------------ */

static const char *const str_values[] = {
	"acme", "globex", "prod", "dev", "staging", "qa", "x", "", "SELECT 1", "SELECT 1; DROP",
	"select 1", "/srv/repos", "/srv/repos/", "/srv/repos/a/b.c", "/srv/reposx",
	"/srv/repos/../etc", "/srv//x", "rel/x", "/srv/./repos", "/tmp/x/y", "/", "/etc/passwd",
	"gh.issues", "caf\xc3\xa9", "ops", "json", "text", "a\"b", "abc", "a/c", "tools/call",
	"alice", "/srv/x.txt", "*x"};
static const int64_t int_values[] = {0, 1, 2, 3, 10, -1, -3, -5, 900, 1000, 1001,
				     INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1, 1764140000};

static json_t *str_value(gen_rng *r, const gen_vocab *v)
{
	if (v->strings.n && gen_chance(r, 35))
		return json_string(v->strings.v[gen_below(r, (unsigned)v->strings.n)]);
	return json_string(PICK(r, str_values));
}

static json_t *int_value(gen_rng *r, const gen_vocab *v)
{
	if (v->nints && gen_chance(r, 40)) {
		int64_t i = v->ints[gen_below(r, (unsigned)v->nints)];
		int d = (int)gen_below(r, 3) - 1;
		if ((d > 0 && i < INT64_MAX) || (d < 0 && i > INT64_MIN))
			i += d;
		return json_integer(i);
	}
	return json_integer(PICK(r, int_values));
}

static json_t *other_value(gen_rng *r)
{
	switch (gen_below(r, 5)) {
	case 0:
		return json_null();
	case 1:
		return json_real(1.5);
	case 2:
		return json_pack("{s:i}", "k", 1);
	case 3:
		return json_pack("[s,i]", "a", 1);
	default:
		return json_pack("[b]", 1);
	}
}

/* A nested arguments value for `value of`: objects and arrays of strings
 * (paths among them), ints, bools, nulls and floats, a few levels deep. */
static json_t *tree_value(gen_rng *r, const gen_vocab *v, unsigned depth)
{
	unsigned roll = gen_below(r, depth >= 3 ? 60 : 100);
	if (roll < 25)
		return str_value(r, v);
	if (roll < 40)
		return int_value(r, v);
	if (roll < 47)
		return json_boolean(gen_chance(r, 50));
	if (roll < 52)
		return gen_chance(r, 50) ? json_null() : json_real(2.5);
	if (roll < 60) {
		json_t *l = json_array();	/* a list of strings or ints, or empty */
		bool ints = gen_chance(r, 40);
		for (unsigned i = gen_below(r, 4); i; i--)
			json_array_append_new(l, ints ? int_value(r, v) : str_value(r, v));
		return l;
	}
	if (roll < 80) {
		json_t *o = json_object();
		static const char *const keys[] = {"a", "b", "path", "x", "..", "c"};
		for (unsigned i = gen_below(r, 4); i; i--)
			json_object_set_new(o, PICK(r, keys), tree_value(r, v, depth + 1));
		return o;
	}
	json_t *l = json_array();	/* mixed */
	for (unsigned i = gen_below(r, 4); i; i--)
		json_array_append_new(l, tree_value(r, v, depth + 1));
	return l;
}

/* A value whose intended type is t, for attribute a (domain-aware). */
static json_t *value(gen_rng *r, const gen_vocab *v, int t, const gen_attr *a)
{
	unsigned roll = gen_below(r, 100);
	if (roll < 6)
		return other_value(r);
	if (roll < 16) {
		static const int others[] = {GT_STR, GT_INT, GT_BOOL, GT_SLIST, GT_ILIST};
		t = PICK(r, others);
		a = NULL;
	}
	if (a && a->ndomain && gen_chance(r, 75) && t != GT_SLIST && t != GT_ILIST) {
		const char *d = a->domain[gen_below(r, (unsigned)a->ndomain)];
		if (d[0] == '"')
			return json_stringn(d + 1, strlen(d) - 2);
		return json_integer(strtoll(d, NULL, 10));
	}
	switch (t) {
	case GT_STR:
		return str_value(r, v);
	case GT_INT:
		return int_value(r, v);
	case GT_BOOL:
		return json_boolean(gen_chance(r, 50));
	case GT_SLIST:
	case GT_ILIST: {
		json_t *l = json_array();
		unsigned n = gen_below(r, 4);
		for (unsigned i = 0; i < n; i++) {
			json_t *e;
			if (a && a->ndomain && gen_chance(r, 80)) {
				const char *d = a->domain[gen_below(r, (unsigned)a->ndomain)];
				e = d[0] == '"' ? json_stringn(d + 1, strlen(d) - 2) :
						  json_integer(strtoll(d, NULL, 10));
			} else {
				e = t == GT_SLIST ? str_value(r, v) : int_value(r, v);
			}
			json_array_append_new(l, e);
		}
		return l;
	}
	}
	return json_null();
}

static json_t *section(json_t *req, const char *name)
{
	json_t *s = json_object_get(req, name);
	if (!s) {
		s = json_object();
		json_object_set_new(req, name, s);
	}
	return s;
}

/* ---- requests ------------------------------------------------------------------ */

static const char *const methods[] = {
	"tools/call", "tools/call", "tools/call", "tools/call", "tools/call", "resources/read",
	"resources/read", "resources/subscribe", "resources/unsubscribe", "prompts/get",
	"prompts/get", "tools/list", "resources/list", "prompts/list", "resources/templates/list",
	"completion/complete", "logging/setLevel", "custom"};

json_t *gen_request(gen_rng *r, const gen_vocab *v)
{
	static const char *const ids[] = {"alice", "bob", "mallory", "Alice"};
	static const char *const ghosts[] = {"ghost", "Eng", "ADMIN", "reader "};
	static const char *const scopes[] = {"files:read", "repo:*", "repo:read", "tools:read",
					     "admin", "Admin"};
	static const char *const clients[] = {"desktop", "cli", "ci", "evil"};
	json_t *req = json_object();
	json_t *principal = section(req, "principal");
	json_object_set_new(principal, "id", json_string(PICK(r, ids)));
	if (gen_chance(r, 80)) {
		json_t *roles = json_array();
		unsigned n = gen_below(r, 4);
		for (unsigned i = 0; i < n; i++)
			json_array_append_new(roles, json_string(
				v->roles.n && gen_chance(r, 80) ?
					v->roles.v[gen_below(r, (unsigned)v->roles.n)] :
					PICK(r, ghosts)));
		json_object_set_new(principal, "roles", roles);
	}
	if (gen_chance(r, 75)) {
		json_t *token = section(req, "token");
		if (gen_chance(r, 70)) {
			json_t *l = json_array();
			unsigned n = gen_below(r, 3);
			for (unsigned i = 0; i < n; i++)
				json_array_append_new(l, json_string(PICK(r, scopes)));
			json_object_set_new(token, "scopes", l);
		}
	}

	const char *method = PICK(r, methods);
	json_object_set_new(req, "method", json_string(method));
	char *target = NULL;
	if (!strcmp(method, "tools/call")) {
		target = target_from(r, &v->tool_globs, "gh.issues");
	} else if (!strncmp(method, "resources/", 10) && strstr(method, "list") == NULL) {
		target = target_from(r, &v->resource_globs, "file:///w/a.md");
		if (gen_chance(r, 2))
			target = (free(target), strdup("file:///w/../etc/passwd"));
		else if (gen_chance(r, 1))
			target = (free(target), strdup("file:///w/%2e%2E/x"));
	} else if (!strcmp(method, "prompts/get")) {
		target = target_from(r, &v->prompt_globs, "plan");
	} else if (gen_chance(r, 10)) {
		target = strdup("ignored");
	}
	if (target) {
		json_object_set_new(req, "target", json_string(target));
		free(target);
	}
	if (gen_chance(r, 40))
		json_object_set_new(req, "server", gen_chance(r, 90) ? json_string("gh") : json_integer(3));
	if (gen_chance(r, 60)) {
		static const char *const hints[] = {"read_only", "destructive", "idempotent", "open_world"};
		json_t *tool = section(req, "tool");
		for (size_t i = 0; i < 4; i++)
			if (gen_chance(r, 60))
				json_object_set_new(tool, hints[i], json_boolean(gen_chance(r, 50)));
		if (gen_chance(r, 5))
			json_object_set_new(tool, "title", json_string("ignored"));
	}

	for (size_t i = 0; i < gen_nattrs; i++) {
		const gen_attr *a = &gen_attrs[i];
		if (a->builtin || !gen_chance(r, 65))
			continue;
		if (!strcmp(a->root, "token") && !strcmp(a->keys[0], "client_id")) {
			json_t *token = section(req, "token");
			json_object_set_new(token, "client_id", gen_chance(r, 90) ?
					    json_string(PICK(r, clients)) : json_integer(7));
			continue;
		}
		json_t *obj = section(req, a->root);
		for (size_t k = 0; k + 1 < a->nkeys; k++) {
			json_t *inner = json_object_get(obj, a->keys[k]);
			if (!inner) {
				inner = gen_chance(r, 90) ? json_object() : json_string("flat");
				json_object_set_new(obj, a->keys[k], inner);
			}
			obj = inner;
		}
		if (json_is_object(obj))
			json_object_set_new(obj, a->keys[a->nkeys - 1], value(r, v, a->type, a));
	}
	/* what `value of` walks: a tree, and now and then more under args.opts */
	if (gen_chance(r, 60))
		json_object_set_new(section(req, "args"), "tree", tree_value(r, v, 1));
	json_t *opts = json_object_get(json_object_get(req, "args"), "opts");
	if (json_is_object(opts) && gen_chance(r, 50))
		json_object_set_new(opts, "dir", str_value(r, v));
	return req;
}
