/*
 * gen_policy.c - random policy source for differential testing.
 *
 * The generator builds text, not an AST: what it means is whatever the real
 * parser makes of it, and both evaluators work from that parse. Expressions
 * are typed by construction from the attribute table below (each entry has
 * the type requests normally give it, and each policy declares a random
 * subset, some with an `in [...]` domain). Undeclared attributes are
 * sometimes used at another type, which compiles (their type is checked at
 * run time) and makes requests meet type errors. The few programs the checker
 * still rejects (a literal outside a domain in a position the generator does
 * not track, a constant overflow) are skipped by the driver and counted.
 */
#include "gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const gen_attr gen_attrs[] = {
	{"principal.tenant", "principal", {"tenant"}, 1, GT_STR, false, {"\"acme\"", "\"globex\""}, 2},
	{"principal.level", "principal", {"level"}, 1, GT_INT, false, {"1", "2", "3"}, 3},
	{"principal.groups", "principal", {"groups"}, 1, GT_SLIST, false, {"\"dev\"", "\"ops\"", "\"sec\""}, 3},
	{"context.env", "context", {"env"}, 1, GT_STR, false, {"\"dev\"", "\"staging\"", "\"prod\""}, 3},
	{"context.mfa", "context", {"mfa"}, 1, GT_BOOL, false, {NULL}, 0},
	{"context.time", "context", {"time"}, 1, GT_INT, false, {NULL}, 0},
	{"token.exp", "token", {"exp"}, 1, GT_INT, false, {NULL}, 0},
	{"token.client_id", "token", {"client_id"}, 1, GT_STR, false, {"\"desktop\"", "\"cli\""}, 2},
	{"args.path", "args", {"path"}, 1, GT_STR, false, {NULL}, 0},
	{"args.paths", "args", {"paths"}, 1, GT_SLIST, false, {NULL}, 0},
	{"args.n", "args", {"n"}, 1, GT_INT, false, {"1", "2", "-3", "10"}, 4},
	{"args.ns", "args", {"ns"}, 1, GT_ILIST, false, {"1", "2", "3", "10"}, 4},
	{"args.opts.force", "args", {"opts", "force"}, 2, GT_BOOL, false, {NULL}, 0},
	{"args[\"content-type\"]", "args", {"content-type"}, 1, GT_STR, false, {"\"json\"", "\"text\""}, 2},
	{"context.tenant", "context", {"tenant"}, 1, GT_STR, false, {"\"acme\"", "\"globex\""}, 2},
	{"args.sql", "args", {"sql"}, 1, GT_STR, false, {NULL}, 0},
	/* built-ins: fixed types, never declared */
	{"principal.id", "principal", {"id"}, 1, GT_STR, true, {NULL}, 0},
	{"principal.roles", "principal", {"roles"}, 1, GT_SLIST, true, {NULL}, 0},
	{"token.scopes", "token", {"scopes"}, 1, GT_SLIST, true, {NULL}, 0},
	{"tool.name", "tool", {"name"}, 1, GT_STR, true, {NULL}, 0},
	{"tool.server", "tool", {"server"}, 1, GT_STR, true, {NULL}, 0},
	{"tool.destructive", "tool", {"destructive"}, 1, GT_BOOL, true, {NULL}, 0},
	{"tool.read_only", "tool", {"read_only"}, 1, GT_BOOL, true, {NULL}, 0},
	{"resource.uri", "resource", {"uri"}, 1, GT_STR, true, {NULL}, 0},
	{"prompt.name", "prompt", {"name"}, 1, GT_STR, true, {NULL}, 0},
	{"request.method", "request", {"method"}, 1, GT_STR, true, {NULL}, 0},
};
const size_t gen_nattrs = sizeof gen_attrs / sizeof gen_attrs[0];

typedef struct gp {
	gen_rng *r;
	gen_vocab *v;
	FILE *out;
	size_t nsets;
} gp;

#define PICK(r, arr) ((arr)[gen_below((r), sizeof(arr) / sizeof((arr)[0]))])

static void add_str(gen_strs *s, const char *x)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], x))
			return;
	if (s->n < GEN_MAX)
		s->v[s->n++] = strdup(x);
}

static void add_int(gen_vocab *v, int64_t i)
{
	if (v->nints < GEN_MAX)
		v->ints[v->nints++] = i;
}

void gen_vocab_free(gen_vocab *v)
{
	gen_strs *all[] = {&v->roles, &v->tool_globs, &v->resource_globs, &v->prompt_globs,
			   &v->strings};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		for (size_t j = 0; j < all[i]->n; j++)
			free(all[i]->v[j]);
	memset(v, 0, sizeof *v);
}

/* Writes a decoded string as a policy string literal, escaping as needed and
 * sometimes spelling non-ASCII as \u{...}. */
static void put_string(gp *g, const char *s)
{
	fputc('"', g->out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(g->out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", g->out);
		else if (*p == '\t')
			fputs("\\t", g->out);
		else if (p[0] == 0xc3 && p[1] == 0xa9 && gen_chance(g->r, 50)) {
			fputs(gen_chance(g->r, 50) ? "\\u{e9}" : "\\u{E9}", g->out);
			p++;
		} else
			fputc(*p, g->out);
	}
	fputc('"', g->out);
}

/* ---- globs ------------------------------------------------------------------ */

static char *make_glob(gp *g, const char *prefix, const char *const *words, size_t nwords)
{
	static const char *const wild[] = {"*", "**", "?", "***", "\\*", "\\?", "\\\\", "/**/", "*",
					   "**"};
	char buf[256];
	size_t n = 0;
	n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", prefix);
	unsigned pieces = 1 + gen_below(g->r, 4);
	for (unsigned i = 0; i < pieces && n < 200; i++) {
		const char *p = gen_chance(g->r, 55) ? words[gen_below(g->r, (unsigned)nwords)] :
						       PICK(g->r, wild);
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", p);
	}
	return strdup(buf);
}

static const char *const tool_words[] = {"gh", "pg", "fs", ".", "_", "/", "read", "a", "caf\xc3\xa9",
					 "gh.", ".list_"};
static const char *const res_words[] = {"w", "/", "a", ".md", ".env", "x/", "data"};
static const char *const prompt_words[] = {"plan", "sum", "_", "p", "\xc3\xa9"};

static char *tool_glob(gp *g)
{
	return make_glob(g, "", tool_words, sizeof tool_words / sizeof *tool_words);
}

static char *resource_glob(gp *g)
{
	return make_glob(g, gen_chance(g->r, 80) ? "file:///" : "mem://", res_words,
			 sizeof res_words / sizeof *res_words);
}

static char *prompt_glob(gp *g)
{
	return make_glob(g, "", prompt_words, sizeof prompt_words / sizeof *prompt_words);
}

/* ---- expressions -------------------------------------------------------------- */

static const char *const str_pool[] = {"acme", "globex", "prod", "dev", "staging", "x", "",
				       "SELECT ", "SELECT 1", ";", "/srv/repos", "gh.issues",
				       "caf\xc3\xa9", "ops", "a\"b", "json", "tools/call", "alice"};
static const char *const int_pool[] = {"0", "1", "2", "3", "10", "-1", "-5", "900", "1000",
				       "9223372036854775807", "-9223372036854775808",
				       "9223372036854775806", "1764140000"};
static const char *const dir_pool[] = {"/srv/repos", "/srv", "/tmp/x", "/srv/repos/a"};
static const char *const like_pool[] = {"/srv/*.txt", "SELECT *", "*", "**", "gh.*", "a?c",
					"\\*x", "/srv/**", "caf?", "*;*", "", "?"};
/* Regular expressions over the same strings: some match pool values, some
 * exercise classes, counted repetition, alternation and code points. */
static const char *const regex_pool[] = {"SELECT .*", "[a-z]+", "(acme|globex)", "gh\\..*",
					 ".*;.*", "caf.", "/srv/repos(/.*)?", "[^;]*", "", "x?",
					 "\\d+", "[a-z]{2,4}", "(?s).*", "a\"b", ".*\\.json",
					 "(prod|dev|staging)", "[^a-z]*", "-?[0-9]{1,3}", "\\w+",
					 "caf\xc3\xa9", "[\xc3\xa0-\xc3\xbf]+|x", ".{3,}"};

/* A path of type t: index into gen_attrs, or -1 when none fits. Undeclared
 * attributes of other types are chosen now and then (a run-time type error). */
static int pick_path(gp *g, int t)
{
	int cand[64];
	size_t n = 0;
	bool cross = gen_chance(g->r, 8);
	for (size_t i = 0; i < gen_nattrs; i++) {
		const gen_attr *a = &gen_attrs[i];
		if (a->type == t || (cross && !a->builtin && !g->v->declared[i]))
			cand[n++] = (int)i;
	}
	return n ? cand[gen_below(g->r, (unsigned)n)] : -1;
}

static bool has_domain(gp *g, int a)
{
	return a >= 0 && !gen_attrs[a].builtin && g->v->declared[a] && g->v->domain[a];
}

static void put_lit(gp *g, int t, int dom_attr)
{
	if (has_domain(g, dom_attr) && gen_attrs[dom_attr].ndomain) {
		const gen_attr *a = &gen_attrs[dom_attr];
		fputs(a->domain[gen_below(g->r, (unsigned)a->ndomain)], g->out);
		return;
	}
	switch (t) {
	case GT_STR: {
		const char *s = PICK(g->r, str_pool);
		add_str(&g->v->strings, s);
		put_string(g, s);
		break;
	}
	case GT_INT: {
		const char *s = PICK(g->r, int_pool);
		add_int(g->v, strtoll(s, NULL, 10));
		fputs(s, g->out);
		break;
	}
	case GT_BOOL:
		fputs(gen_chance(g->r, 50) ? "true" : "false", g->out);
		break;
	default:
		break;
	}
}

/* A list literal of element type t (GT_STR or GT_INT). */
static void put_list(gp *g, int t, int dom_attr)
{
	unsigned n = gen_below(g->r, 4);
	fputc('[', g->out);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			fputs(", ", g->out);
		put_lit(g, t, dom_attr);
	}
	fputc(']', g->out);
}

static void put_int(gp *g, int depth);

/* An operand of type t: a path (returned) or a literal (-1). */
static int put_operand(gp *g, int t, int dom_attr, int depth)
{
	if (t == GT_INT && depth > 0 && gen_chance(g->r, 20)) {
		put_int(g, depth);
		return -1;
	}
	if (gen_chance(g->r, 60)) {
		int a = pick_path(g, t);
		if (a >= 0) {
			fputs(gen_attrs[a].src, g->out);
			return a;
		}
	}
	if (t == GT_SLIST || t == GT_ILIST)
		put_list(g, t == GT_SLIST ? GT_STR : GT_INT, dom_attr);
	else
		put_lit(g, t, dom_attr);
	return -1;
}

static void put_int(gp *g, int depth)
{
	bool paren = gen_chance(g->r, 30);
	if (paren)
		fputc('(', g->out);
	put_operand(g, GT_INT, -1, depth - 1);
	static const char *const ops[] = {" + ", " - ", " -", "+"};
	fputs(PICK(g->r, ops), g->out);
	put_operand(g, GT_INT, -1, depth - 1);
	if (paren)
		fputc(')', g->out);
}

/* `lhs OP rhs` where the side that is a literal respects the other's domain. */
static void put_pair(gp *g, int t, const char *op, bool dom_checked, int depth)
{
	if (gen_chance(g->r, 50)) {
		int a = put_operand(g, t, -1, depth);
		fputs(op, g->out);
		put_operand(g, t, dom_checked ? a : -1, depth);
	} else {
		/* path on the right: write it first into a side buffer */
		int a = pick_path(g, t);
		if (a < 0) {
			put_lit(g, t, -1);
			fputs(op, g->out);
			put_lit(g, t, -1);
			return;
		}
		if (t == GT_SLIST || t == GT_ILIST)
			put_list(g, t == GT_SLIST ? GT_STR : GT_INT, dom_checked ? a : -1);
		else
			put_lit(g, t, dom_checked ? a : -1);
		fputs(op, g->out);
		fputs(gen_attrs[a].src, g->out);
	}
}

static void put_has(gp *g)
{
	static const char *const forms[] = {
		"args has path", "args has \"content-type\"", "args.opts has force", "principal has tenant",
		"principal has roles", "token has exp", "token has client_id", "token has scopes",
		"context has env", "tool has destructive", "tool has name", "tool has server",
		"context has mfa", "args has x", "principal has id", "args has opts", "args has list",
		"resource has uri", "prompt has name", "request has method", "tool has read_only"};
	fputs(PICK(g->r, forms), g->out);
}

static void put_role_name(gp *g, const char *name)
{
	bool word = strspn(name, "abcdefghijklmnopqrstuvwxyz_") == strlen(name);
	if (word && gen_chance(g->r, 80))
		fputs(name, g->out);
	else
		put_string(g, name);
}

/* `all/any value of SUBJECT OP V`: the subject is args, a path to an
 * object the requests fill (args.opts, args.tree), an absent one, or an
 * undeclared scalar or list argument; V as in put_quant, with non-empty
 * list literals for `in` (an empty list's element type is not in JSON). */
static void put_values_quant(gp *g)
{
	static const char *const subjects[] = {"args", "args", "args.tree", "args.tree",
					       "args.opts", "args.nope", "args[\"tree\"].a"};
	static const int scalar_subjects[] = {8, 9, 10};	/* args.path, .paths, .n */
	fputs(gen_chance(g->r, 50) ? "all value of " : "any value of ", g->out);
	int sa = scalar_subjects[gen_below(g->r, 3)];
	if (gen_chance(g->r, 10) && !g->v->declared[sa])
		fputs(gen_attrs[sa].src, g->out);
	else
		fputs(PICK(g->r, subjects), g->out);
	bool ints = gen_chance(g->r, 35);
	if (ints) {
		static const char *const ops[] = {" == ", " != ", " < ", " <= ", " > ", " >= ", " in "};
		const char *op = PICK(g->r, ops);
		fputs(op, g->out);
		if (strcmp(op, " in ") != 0) {
			put_operand(g, GT_INT, -1, 0);
			return;
		}
	} else {
		switch (gen_below(g->r, 9)) {
		case 0: fputs(" == ", g->out); put_operand(g, GT_STR, -1, 0); return;
		case 1: fputs(" != ", g->out); put_operand(g, GT_STR, -1, 0); return;
		case 2: fputs(" contains ", g->out); put_operand(g, GT_STR, -1, 0); return;
		case 3: fputs(" starts_with ", g->out); put_operand(g, GT_STR, -1, 0); return;
		case 4: fputs(" ends_with ", g->out); put_operand(g, GT_STR, -1, 0); return;
		case 5: fputs(" like ", g->out); put_string(g, PICK(g->r, like_pool)); return;
		case 6: fputs(" matches ", g->out); put_string(g, PICK(g->r, regex_pool)); return;
		case 7: fputs(" under ", g->out); put_string(g, PICK(g->r, dir_pool)); return;
		default: fputs(" in ", g->out); break;
		}
	}
	unsigned n = 1 + gen_below(g->r, 3);
	fputc('[', g->out);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			fputs(", ", g->out);
		put_lit(g, ints ? GT_INT : GT_STR, -1);
	}
	fputc(']', g->out);
}

static void put_quant(gp *g)
{
	bool ints = gen_chance(g->r, 40);
	fputs(gen_chance(g->r, 50) ? "all " : "any ", g->out);
	int l = put_operand(g, ints ? GT_ILIST : GT_SLIST, -1, 0);
	if (ints) {
		static const char *const ops[] = {" == ", " != ", " < ", " <= ", " > ", " >= ", " in "};
		const char *op = PICK(g->r, ops);
		fputs(op, g->out);
		if (!strcmp(op, " in "))
			put_list(g, GT_INT, l);
		else
			put_operand(g, GT_INT, l, 0);
		return;
	}
	switch (gen_below(g->r, 9)) {
	case 0:
		fputs(" == ", g->out);
		put_operand(g, GT_STR, l, 0);
		break;
	case 7:
		fputs(" matches ", g->out);
		put_string(g, PICK(g->r, regex_pool));
		break;
	case 1:
		fputs(" != ", g->out);
		put_operand(g, GT_STR, l, 0);
		break;
	case 2:
		fputs(" in ", g->out);
		put_list(g, GT_STR, l);
		break;
	case 3:
		fputs(" contains ", g->out);
		put_operand(g, GT_STR, -1, 0);
		break;
	case 4:
		fputs(" like ", g->out);
		put_string(g, PICK(g->r, like_pool));
		break;
	case 5:
		fputs(" starts_with ", g->out);
		put_operand(g, GT_STR, -1, 0);
		break;
	case 6:
		fputs(" ends_with ", g->out);
		put_operand(g, GT_STR, -1, 0);
		break;
	default:
		fputs(" under ", g->out);
		put_string(g, PICK(g->r, dir_pool));
		break;
	}
}

static void put_cond(gp *g, int depth);

static void put_atom(gp *g, int depth)
{
	static const int types[] = {GT_STR, GT_STR, GT_INT, GT_INT, GT_BOOL, GT_SLIST, GT_ILIST};
	switch (gen_below(g->r, 24)) {
	case 0:
	case 1:
		put_operand(g, GT_BOOL, -1, depth);
		break;
	case 2:
	case 3:
	case 4: {
		int t = PICK(g->r, types);
		put_pair(g, t, gen_chance(g->r, 50) ? " == " : " != ", true, depth);
		break;
	}
	case 5:
	case 6: {
		static const char *const ops[] = {" < ", " <= ", " > ", " >= "};
		put_pair(g, GT_INT, PICK(g->r, ops), false, depth);
		break;
	}
	case 7:
	case 8: {
		bool ints = gen_chance(g->r, 40);
		int a = put_operand(g, ints ? GT_INT : GT_STR, -1, depth);
		fputs(" in ", g->out);
		if (gen_chance(g->r, 70))
			put_list(g, ints ? GT_INT : GT_STR, a);
		else
			put_operand(g, ints ? GT_ILIST : GT_SLIST, a, depth);
		break;
	}
	case 9:
	case 10:
		if (gen_chance(g->r, 50)) {
			bool ints = gen_chance(g->r, 30);
			int a = put_operand(g, ints ? GT_ILIST : GT_SLIST, -1, depth);
			fputs(" contains ", g->out);
			put_operand(g, ints ? GT_INT : GT_STR, a, depth);
		} else {
			put_pair(g, GT_STR, " contains ", false, depth);
		}
		break;
	case 11:
		put_operand(g, GT_STR, -1, depth);
		fputs(" like ", g->out);
		put_string(g, gen_chance(g->r, 50) ? PICK(g->r, like_pool) :
			   g->v->tool_globs.n ? g->v->tool_globs.v[0] : "*");
		break;
	case 12:
		put_pair(g, GT_STR, gen_chance(g->r, 50) ? " starts_with " : " ends_with ", false, depth);
		break;
	case 22:
		put_operand(g, GT_STR, -1, depth);
		fputs(" matches ", g->out);
		put_string(g, PICK(g->r, regex_pool));
		break;
	case 13:
	case 14:
		put_operand(g, GT_STR, -1, depth);
		fputs(" under ", g->out);
		put_string(g, PICK(g->r, dir_pool));
		break;
	case 15:
	case 16:
		put_has(g);
		break;
	case 17:
		if (g->v->roles.n) {
			fputs("principal is ", g->out);
			put_role_name(g, g->v->roles.v[gen_below(g->r, (unsigned)g->v->roles.n)]);
		} else {
			put_has(g);
		}
		break;
	case 18:
	case 19:
		put_quant(g);
		break;
	case 23:
		put_values_quant(g);
		break;
	case 20:
		fputs(gen_chance(g->r, 50) ? "true" : "false", g->out);
		break;
	default:
		fputc('(', g->out);
		put_cond(g, depth - 1);
		fputc(')', g->out);
		break;
	}
}

/* A condition. Precedence is the parser's business: both evaluators read
 * the tree it builds, so the text need not be bracketed to mean anything in
 * particular. */
static void put_cond(gp *g, int depth)
{
	if (depth <= 0) {
		put_atom(g, 0);
		return;
	}
	switch (gen_below(g->r, 10)) {
	case 0:
	case 1:
		put_cond(g, depth - 1);
		fputs(" and ", g->out);
		put_cond(g, depth - 1);
		break;
	case 2:
	case 3:
		put_cond(g, depth - 1);
		fputs(" or ", g->out);
		put_cond(g, depth - 1);
		break;
	case 4:
		fputs("not ", g->out);
		put_atom(g, depth - 1);
		break;
	case 5:
		fputs("not (", g->out);
		put_cond(g, depth - 1);
		fputc(')', g->out);
		break;
	default:
		put_atom(g, depth - 1);
		break;
	}
}

/* ---- rules -------------------------------------------------------------------- */

static void put_patterns(gp *g, int kind)
{
	unsigned n = 1 + gen_below(g->r, 3);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			fputs(", ", g->out);
		if (kind == 0 && g->nsets && gen_chance(g->r, 25)) {
			fprintf(g->out, "s%u", gen_below(g->r, (unsigned)g->nsets));
			continue;
		}
		char *glob = kind == 0 ? tool_glob(g) : kind == 1 ? resource_glob(g) : prompt_glob(g);
		add_str(kind == 0 ? &g->v->tool_globs : kind == 1 ? &g->v->resource_globs :
			&g->v->prompt_globs, glob);
		put_string(g, glob);
		free(glob);
	}
}

static void put_subject(gp *g)
{
	static const char *const scopes[] = {"files:read", "repo:*", "tools:read", "admin"};
	static const char *const ids[] = {"alice", "bob", "mallory"};
	static const char *const clients[] = {"desktop", "cli", "ci"};
	unsigned n = 1 + gen_below(g->r, 2);
	switch (gen_below(g->r, 7)) {
	case 0:
	case 1:
		fputs("anyone", g->out);
		return;
	case 2:
	case 3:
		if (!g->v->roles.n) {
			fputs("anyone", g->out);
			return;
		}
		fputs("role ", g->out);
		for (unsigned i = 0; i < n; i++) {
			if (i)
				fputs(", ", g->out);
			put_role_name(g, g->v->roles.v[gen_below(g->r, (unsigned)g->v->roles.n)]);
		}
		return;
	case 4:
		fputs("scope ", g->out);
		for (unsigned i = 0; i < n; i++) {
			fputs(i ? ", " : "", g->out);
			put_string(g, PICK(g->r, scopes));
		}
		return;
	case 5:
		fputs("principal ", g->out);
		for (unsigned i = 0; i < n; i++) {
			fputs(i ? ", " : "", g->out);
			put_string(g, PICK(g->r, ids));
		}
		return;
	default:
		fputs("client ", g->out);
		for (unsigned i = 0; i < n; i++) {
			fputs(i ? ", " : "", g->out);
			put_string(g, PICK(g->r, clients));
		}
		return;
	}
}

static void put_action(gp *g)
{
	static const char *const methods[] = {"tools/*", "resources/*", "*", "**", "resources/**",
					      "prompts/get", "completion/*", "*/list", "tools/call",
					      "logging/setLevel", "?ools/call", "resources/templates/*"};
	static const char *const lists[] = {"list tools", "list resources", "list prompts",
					    "list resource_templates"};
	switch (gen_below(g->r, 12)) {
	case 0:
	case 1:
	case 2:
		fputs("call tool ", g->out);
		put_patterns(g, 0);
		break;
	case 3:
		fputs("call any tool", g->out);
		break;
	case 4:
	case 5:
		fputs("read resource ", g->out);
		put_patterns(g, 1);
		break;
	case 6:
		fputs(gen_chance(g->r, 50) ? "read any resource" : "get any prompt", g->out);
		break;
	case 7:
		fputs("get prompt ", g->out);
		put_patterns(g, 2);
		break;
	case 8:
		fputs(PICK(g->r, lists), g->out);
		break;
	case 9:
	case 10: {
		unsigned n = 1 + gen_below(g->r, 2);
		fputs("invoke ", g->out);
		for (unsigned i = 0; i < n; i++) {
			fputs(i ? ", " : "", g->out);
			put_string(g, PICK(g->r, methods));
		}
		break;
	}
	default:
		fputs("do anything", g->out);
		break;
	}
}

static void put_rule(gp *g, unsigned index)
{
	if (gen_chance(g->r, 60))
		fprintf(g->out, "rule \"r%u\": ", index);
	fputs(gen_chance(g->r, 50) ? "allow " : "deny ", g->out);
	put_subject(g);
	fputs(" to ", g->out);
	put_action(g);
	unsigned nwhen = gen_below(g->r, 3), nunless = gen_below(g->r, 100) < 30 ? 1 + gen_below(g->r, 2) : 0;
	for (unsigned i = 0; i < nwhen; i++) {
		fputs(gen_chance(g->r, 50) ? "\n  when " : " when ", g->out);
		put_cond(g, (int)gen_below(g->r, 4));
	}
	for (unsigned i = 0; i < nunless; i++) {
		fputs("\n  unless ", g->out);
		put_cond(g, (int)gen_below(g->r, 3));
	}
	if (gen_chance(g->r, 30)) {
		fputs(" because ", g->out);
		put_string(g, gen_chance(g->r, 50) ? "blocked" : "need \"MFA\"");
	}
	fputc(';', g->out);
}

/* ---- declarations --------------------------------------------------------------- */

static const char *const type_names[] = {"string", "int", "bool", "list<string>", "list<int>"};

static void put_attribute(gp *g, size_t i)
{
	const gen_attr *a = &gen_attrs[i];
	fprintf(g->out, "attribute %s: %s", a->src, type_names[a->type]);
	if (g->v->domain[i]) {
		fputs(" in [", g->out);
		for (size_t j = 0; j < a->ndomain; j++)
			fprintf(g->out, "%s%s", j ? ", " : "", a->domain[j]);
		fputc(']', g->out);
	}
	fputc(';', g->out);
}

void gen_policy(gen_rng *r, gen_vocab *v, char **src, size_t *len)
{
	static const char *const role_pool[] = {"reader", "eng", "admin", "auditor", "ops", "mcp:ops"};
	char *text = NULL;
	size_t tlen = 0;
	gp g = {r, v, NULL, 0};
	memset(v, 0, sizeof *v);

	/* roles: a random DAG over a random subset, parents earlier in it */
	size_t nroles = gen_below(r, 6);
	const char *order[6];
	memcpy(order, role_pool, sizeof order);
	for (size_t i = 5; i > 0; i--) {
		size_t j = gen_below(r, (unsigned)i + 1);
		const char *t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < nroles; i++)
		add_str(&v->roles, order[i]);
	for (size_t i = 0; i < gen_nattrs; i++) {
		if (gen_attrs[i].builtin)
			continue;
		v->declared[i] = gen_chance(r, 50);
		v->domain[i] = v->declared[i] && gen_attrs[i].ndomain && gen_chance(r, 35);
	}
	g.nsets = gen_below(r, 3);

	/* declarations, then rules, each its own chunk; merged in random order */
	char *chunks[64];
	size_t nchunks = 0;
#define CHUNK_BEGIN() FILE *cf = open_memstream(&chunks[nchunks], &(size_t){0}); g.out = cf
#define CHUNK_END() fclose(cf); nchunks++
	for (size_t i = 0; i < nroles; i++) {
		CHUNK_BEGIN();
		fputs("role ", cf);
		put_role_name(&g, order[i]);
		if (i > 0 && gen_chance(r, 60)) {
			unsigned np = 1 + gen_below(r, i < 2 ? 1 : 2);
			for (unsigned k = 0; k < np; k++) {
				fputs(k ? ", " : ": ", cf);
				put_role_name(&g, order[gen_below(r, (unsigned)i)]);
			}
		}
		fputc(';', cf);
		CHUNK_END();
	}
	for (size_t i = 0; i < g.nsets; i++) {
		CHUNK_BEGIN();
		fprintf(cf, "set s%zu = [", i);
		unsigned n = gen_below(r, 3);
		for (unsigned k = 0; k < n; k++) {
			char *glob = tool_glob(&g);
			add_str(&v->tool_globs, glob);
			fputs(k ? ", " : "", cf);
			put_string(&g, glob);
			free(glob);
		}
		fputs("];", cf);
		CHUNK_END();
	}
	for (size_t i = 0; i < gen_nattrs; i++) {
		if (!v->declared[i])
			continue;
		CHUNK_BEGIN();
		put_attribute(&g, i);
		CHUNK_END();
	}
	if (gen_chance(r, 40)) {
		CHUNK_BEGIN();
		fputs(gen_chance(r, 30) ? "default allow;" : "default deny;", cf);
		CHUNK_END();
	}
	if (gen_chance(r, 30)) {
		CHUNK_BEGIN();
		fputs("policy \"p\" version \"1\";", cf);
		CHUNK_END();
	}
	size_t ndecls = nchunks;
	unsigned nrules = 1 + gen_below(r, 8);
	for (unsigned i = 0; i < nrules; i++) {
		CHUNK_BEGIN();
		put_rule(&g, i);
		CHUNK_END();
	}
#undef CHUNK_BEGIN
#undef CHUNK_END

	/* rules keep their order; declarations land anywhere between them */
	FILE *out = open_memstream(&text, &tlen);
	size_t next_decl = 0, next_rule = ndecls;
	while (next_decl < ndecls || next_rule < nchunks) {
		bool decl = next_decl < ndecls &&
			    (next_rule == nchunks || gen_chance(r, 50));
		size_t k = decl ? next_decl++ : next_rule++;
		if (gen_chance(r, 10))
			fputs("# a comment\n", out);
		fputs(chunks[k], out);
		/* now and then two statements share a line */
		fputs(gen_chance(r, 12) ? " " : gen_chance(r, 20) ? "\n\n" : "\n", out);
		free(chunks[k]);
	}
	fclose(out);
	*src = text;
	*len = tlen;
}
