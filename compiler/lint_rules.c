/*
 * lint_rules.c - lints about rules and how they relate to each other.
 *
 * Coverage is the core: rule A covers rule B when every request B's subject
 * and action match, A's match too. It is decided conservatively, from the
 * syntax alone: a subject covers another of the same kind holding a subset
 * of its items (roles through inheritance: `role viewer` covers `role
 * engineer` when engineer holds viewer), `anyone` covers everything; an
 * action covers another through the method sets below and the simple glob
 * cases of tg_lint_glob_covers. "Cannot tell" always answers "does not
 * cover", so shadowed-rule and overridden-allow may miss a case but never
 * report one that is not real.
 */
#include "lint_internal.h"

#include <string.h>

/* One target pattern of an action, with sets expanded. */
typedef struct pat {
	const char *s;
	size_t len;
	tg_span span;			/* where the rule names it */
	const tg_set_decl *set;		/* the set it came from, or NULL */
	size_t item;			/* index of the tg_pattern in the action */
} pat;

typedef struct tg_lint_pats {
	pat *v;
	size_t n;
} pats;

static pats expand(tg_linter *l, const tg_action *a)
{
	pats p = {NULL, 0};
	size_t n = 0;
	for (size_t i = 0; i < a->n; i++)
		n += a->items[i].is_set && a->items[i].set ? a->items[i].set->n : 1;
	if (!n)
		return p;
	p.v = tg_arena_alloc(l->arena, n * sizeof *p.v);
	if (!p.v) {
		l->oom = true;
		return p;
	}
	for (size_t i = 0; i < a->n; i++) {
		const tg_pattern *t = &a->items[i];
		if (t->is_set && t->set) {
			for (size_t k = 0; k < t->set->n; k++) {
				pat x = {t->set->items[k].s, t->set->items[k].len, t->text.span,
					 t->set, i};
				p.v[p.n++] = x;
			}
		} else if (!t->is_set) {
			pat x = {t->text.s, t->text.len, t->text.span, NULL, i};
			p.v[p.n++] = x;
		}
	}
	return p;
}

/* ---- subjects ------------------------------------------------------------ */

static bool name_in(const tg_name *n, const tg_name *items, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (items[i].len == n->len && memcmp(items[i].s, n->s, n->len) == 0)
			return true;
	return false;
}

static bool holds(const tg_ast *ast, int r, int a)
{
	return r >= 0 && a >= 0 && ast->role_closure &&
	       ast->role_closure[(size_t)r * ast->nroles + (size_t)a];
}

static bool subject_covers(const tg_ast *ast, const tg_subject *a, const tg_subject *b)
{
	if (a->kind == TG_SUBJ_ANYONE)
		return true;
	if (a->kind != b->kind)
		return false;
	for (size_t j = 0; j < b->n; j++) {
		bool found = false;
		for (size_t i = 0; i < a->n && !found; i++) {
			if (a->kind == TG_SUBJ_ROLE)
				found = holds(ast, b->role_index[j], a->role_index[i]);
			else
				found = name_in(&b->items[j], &a->items[i], 1);
		}
		if (!found)
			return false;
	}
	return true;
}

/* ---- actions ------------------------------------------------------------- */

/* The methods an action other than invoke/anything matches. */
static size_t action_methods(tg_action_kind k, const char *const **out)
{
	static const char *const call[] = {"tools/call"};
	static const char *const read[] = {"resources/read", "resources/subscribe",
					   "resources/unsubscribe"};
	static const char *const get[] = {"prompts/get"};
	static const char *const lt[] = {"tools/list"};
	static const char *const lr[] = {"resources/list"};
	static const char *const lp[] = {"prompts/list"};
	static const char *const lrt[] = {"resources/templates/list"};
	switch (k) {
	case TG_ACT_CALL_TOOL:
		*out = call;
		return 1;
	case TG_ACT_READ_RESOURCE:
		*out = read;
		return 3;
	case TG_ACT_GET_PROMPT:
		*out = get;
		return 1;
	case TG_ACT_LIST_TOOLS:
		*out = lt;
		return 1;
	case TG_ACT_LIST_RESOURCES:
		*out = lr;
		return 1;
	case TG_ACT_LIST_PROMPTS:
		*out = lp;
		return 1;
	case TG_ACT_LIST_RESOURCE_TEMPLATES:
		*out = lrt;
		return 1;
	default:
		*out = NULL;
		return 0;
	}
}

static bool has_targets(tg_action_kind k)
{
	return k == TG_ACT_CALL_TOOL || k == TG_ACT_READ_RESOURCE || k == TG_ACT_GET_PROMPT;
}

/* Every pattern of b is covered by some pattern of a. */
static bool pats_cover(const pats *a, const pats *b)
{
	for (size_t j = 0; j < b->n; j++) {
		bool found = false;
		for (size_t i = 0; i < a->n && !found; i++)
			found = tg_lint_glob_covers(a->v[i].s, a->v[i].len, b->v[j].s, b->v[j].len);
		if (!found)
			return false;
	}
	return true;
}

static bool is_literal(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '\\')
			return false;
	return true;
}

static bool action_covers(const tg_action *a, const pats *ppa, const tg_action *b,
			  const pats *ppb)
{
	if (a->kind == TG_ACT_ANYTHING)
		return true;
	if (b->kind == TG_ACT_ANYTHING) {
		/* Only `invoke "**"` (any run of stars) matches every method. */
		if (a->kind != TG_ACT_INVOKE)
			return false;
		for (size_t i = 0; i < a->n; i++) {
			const tg_name *t = &a->items[i].text;
			bool stars = !a->items[i].is_set && t->len >= 2;
			for (size_t k = 0; stars && k < t->len; k++)
				stars = t->s[k] == '*';
			if (stars)
				return true;
		}
		return false;
	}
	const pats pa = *ppa, pb = *ppb;
	const char *const *m;
	if (a->kind == TG_ACT_INVOKE) {
		if (b->kind == TG_ACT_INVOKE)
			return pats_cover(&pa, &pb);
		/* invoke matches on the method alone, whatever the target. */
		size_t nm = action_methods(b->kind, &m);
		for (size_t k = 0; k < nm; k++) {
			bool found = false;
			for (size_t i = 0; i < pa.n && !found; i++)
				found = tg_lint_glob_covers(pa.v[i].s, pa.v[i].len, m[k],
							    strlen(m[k]));
			if (!found)
				return false;
		}
		return nm > 0;
	}
	if (b->kind == TG_ACT_INVOKE) {
		/* `call any tool` is `invoke "tools/call"`; a list action is its
		 * list method. */
		if (has_targets(a->kind) && !a->any)
			return false;
		size_t nm = action_methods(a->kind, &m);
		for (size_t j = 0; j < pb.n; j++) {
			bool found = false;
			if (!is_literal(pb.v[j].s, pb.v[j].len))
				return false;
			for (size_t k = 0; k < nm && !found; k++)
				found = strlen(m[k]) == pb.v[j].len &&
					memcmp(m[k], pb.v[j].s, pb.v[j].len) == 0;
			if (!found)
				return false;
		}
		return pb.n > 0;
	}
	if (a->kind != b->kind)
		return false;
	if (!has_targets(a->kind) || a->any)
		return true;
	if (b->any)
		return false;
	return pats_cover(&pa, &pb);
}

static bool unconditional(const tg_rule *r)
{
	return r->nwhen == 0 && r->nunless == 0;
}

static bool covers(tg_linter *l, const tg_rule *a, const tg_rule *b)
{
	return subject_covers(l->ast, &a->subject, &b->subject) &&
	       action_covers(&a->action, &l->rule_pats[a->index], &b->action,
			     &l->rule_pats[b->index]);
}

/*
 * Only an unconditional rule can shadow or override another, and a policy
 * of many tool-specific rules must not be compared pairwise (10,000 rules
 * would be 50 million comparisons). A rule whose targets are all literal
 * covers only rules whose every target is one of its literals, so it is
 * found through the literal a later rule starts with; every other
 * unconditional rule ("broad") stays a candidate for all. Both lists are in
 * source order, so walking their merge finds the first covering rule, as a
 * pairwise scan would.
 */
typedef struct lit_slot {
	const char *s;
	size_t len;
	uint32_t *rules, n, cap;
} lit_slot;

typedef struct cover_index {
	uint32_t *broad, nbroad;
	uint32_t *all, nall;		/* every unconditional rule */
	lit_slot *slots;
	size_t mask;			/* slots - 1, a power of two minus one */
} cover_index;

static size_t lit_hash(const char *s, size_t len)
{
	size_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static lit_slot *lit_find(const cover_index *ci, const char *s, size_t len)
{
	for (size_t i = lit_hash(s, len) & ci->mask;; i = (i + 1) & ci->mask) {
		lit_slot *t = &ci->slots[i];
		if (!t->s || (t->len == len && memcmp(t->s, s, len) == 0))
			return t;
	}
}

static bool push_rule(tg_linter *l, uint32_t **v, uint32_t *n, uint32_t *cap, uint32_t x)
{
	size_t c = *cap;
	if (tg_arena_grow(l->arena, (void **)v, &c, (size_t)*n + 1, sizeof **v) < 0) {
		l->oom = true;
		return false;
	}
	*cap = (uint32_t)c;
	(*v)[(*n)++] = x;
	return true;
}

/* A rule with targets, not `any`, at least one pattern, all literal. */
static bool literal_targets(const tg_rule *r, const pats *p)
{
	if (!has_targets(r->action.kind) || r->action.any || p->n == 0)
		return false;
	for (size_t i = 0; i < p->n; i++)
		if (!is_literal(p->v[i].s, p->v[i].len))
			return false;
	return true;
}

static bool cover_index_build(tg_linter *l, cover_index *ci)
{
	const tg_ast *ast = l->ast;
	uint32_t bcap = 0, acap = 0;
	size_t nlit = 0;
	memset(ci, 0, sizeof *ci);
	for (size_t i = 0; i < ast->nrules; i++)
		if (unconditional(ast->rules[i]))
			nlit += l->rule_pats[i].n;
	size_t nslots = 16;
	while (nslots < 2 * nlit)
		nslots *= 2;
	ci->slots = tg_arena_alloc(l->arena, nslots * sizeof *ci->slots);
	if (!ci->slots) {
		l->oom = true;
		return false;
	}
	ci->mask = nslots - 1;
	for (uint32_t i = 0; i < ast->nrules; i++) {
		const tg_rule *r = ast->rules[i];
		const pats *p = &l->rule_pats[i];
		if (!unconditional(r))
			continue;
		if (!push_rule(l, &ci->all, &ci->nall, &acap, i))
			return false;
		if (!literal_targets(r, p)) {
			if (!push_rule(l, &ci->broad, &ci->nbroad, &bcap, i))
				return false;
			continue;
		}
		for (size_t k = 0; k < p->n; k++) {
			lit_slot *t = lit_find(ci, p->v[k].s, p->v[k].len);
			t->s = p->v[k].s;
			t->len = p->v[k].len;
			if ((t->n == 0 || t->rules[t->n - 1] != i) &&
			    !push_rule(l, &t->rules, &t->n, &t->cap, i))
				return false;
		}
	}
	return true;
}

/* The first rule, in source order, among the candidates that could cover
 * b, that has effect `effect`, stands before `before`, and covers b; NULL
 * when none does. */
static const tg_rule *first_cover(tg_linter *l, const cover_index *ci, const tg_rule *b,
				  tg_effect effect, uint32_t before)
{
	const pats *pb = &l->rule_pats[b->index];
	const uint32_t *x = ci->all, *y = NULL;
	uint32_t nx = ci->nall, ny = 0;
	if (has_targets(b->action.kind) && !b->action.any && pb->n > 0) {
		x = ci->broad;
		nx = ci->nbroad;
		if (is_literal(pb->v[0].s, pb->v[0].len)) {
			const lit_slot *t = lit_find(ci, pb->v[0].s, pb->v[0].len);
			y = t->rules;
			ny = t->n;
		}
	}
	uint32_t i = 0, j = 0;
	while (i < nx || j < ny) {
		uint32_t k = j >= ny || (i < nx && x[i] < y[j]) ? x[i++] : y[j++];
		if (k >= before)
			break;
		const tg_rule *a = l->ast->rules[k];
		if (a != b && a->effect == effect && covers(l, a, b))
			return a;
	}
	return NULL;
}

/* ---- the lints ----------------------------------------------------------- */

static void shadowed(tg_linter *l, const cover_index *ci, const tg_rule *b)
{
	const tg_rule *a = first_cover(l, ci, b, b->effect, b->index);
	if (!a)
		return;
	tg_diag *d = tg_lint_report(l, b->span.start, "shadowed-rule", tg_lint_rule_span(b),
				    "rule '%s' is shadowed by rule '%s' (line %u)",
				    tg_lint_rule_name(b), tg_lint_rule_name(a),
				    tg_lint_line(l, a->span.start));
	tg_diag_hint(l->diags, d,
		     "'%s' has no condition and covers this rule's subject and action, "
		     "so this rule never decides; remove it or narrow '%s'",
		     tg_lint_rule_name(a), tg_lint_rule_name(a));
}

static void overridden(tg_linter *l, const cover_index *ci, const tg_rule *b)
{
	const tg_rule *a = first_cover(l, ci, b, TG_EFFECT_DENY, UINT32_MAX);
	if (!a)
		return;
	tg_diag *d = tg_lint_report(l, b->span.start, "overridden-allow", tg_lint_rule_span(b),
				    "allow rule '%s' can never decide: deny rule '%s' (line %u) "
				    "covers it", tg_lint_rule_name(b), tg_lint_rule_name(a),
				    tg_lint_line(l, a->span.start));
	tg_diag_hint(l->diags, d,
		     "'%s' has no condition, and a deny wins wherever it stands; "
		     "remove this rule or narrow the deny", tg_lint_rule_name(a));
}

static void over_broad(tg_linter *l, const tg_rule *r)
{
	const tg_action *a = &r->action;
	/* List results are filtered entry by entry through the call rules, so
	 * listing grants nothing by itself. */
	if (r->effect != TG_EFFECT_ALLOW || !unconditional(r))
		return;
	if (!has_targets(a->kind) && a->kind != TG_ACT_ANYTHING && a->kind != TG_ACT_INVOKE)
		return;
	const char *what = NULL;
	tg_span at = r->subject.span;
	if (r->subject.kind == TG_SUBJ_ANYONE) {
		what = "'anyone'";
	} else if (a->kind == TG_ACT_ANYTHING) {
		what = "'do anything'";
		at = a->span;
	} else if (a->kind == TG_ACT_CALL_TOOL && a->any) {
		what = "'call any tool'";
		at = a->span;
	}
	if (!what)
		return;
	tg_diag *d = tg_lint_report(l, r->span.start, "over-broad-grant", at,
				    "allow rule '%s' grants %s without a condition",
				    tg_lint_rule_name(r), what);
	tg_diag_hint(l->diags, d, "name the subjects and targets, or add a 'when' condition");
}

static void no_because(tg_linter *l, const tg_rule *r)
{
	if (r->effect != TG_EFFECT_DENY || r->has_because)
		return;
	tg_diag *d = tg_lint_report(l, r->span.start, "deny-without-because", r->effect_span,
				    "deny rule '%s' has no 'because'", tg_lint_rule_name(r));
	tg_diag_hint(l->diags, d, "add because \"...\": the reason is what a denied caller and "
		     "the audit log see");
}

/* A deny on role R reaches every role that holds R. Roles the rule names
 * itself, in its subject or in a `principal is` test, count as seen. */
typedef struct seen_roles {
	uint8_t *seen;		/* nroles flags: named by an `is` */
} seen_roles;

static void mark_is(tg_linter *l, const tg_rule *r, const tg_expr *e, void *arg)
{
	seen_roles *s = arg;
	if (e->kind == TG_E_IS && e->u.is.role_index >= 0)
		s->seen[e->u.is.role_index] = 1;
}

static void deny_inherited(tg_linter *l, const tg_rule *r)
{
	const tg_ast *ast = l->ast;
	const tg_subject *sub = &r->subject;
	if (r->effect != TG_EFFECT_DENY || sub->kind != TG_SUBJ_ROLE || !ast->nroles)
		return;
	seen_roles s;
	s.seen = tg_arena_alloc(l->arena, ast->nroles);
	if (!s.seen) {
		l->oom = true;
		return;
	}
	tg_lint_walk_rule(l, r, mark_is, &s);
	for (size_t k = 0; k < sub->n; k++)
		if (sub->role_index[k] >= 0)
			s.seen[sub->role_index[k]] = 1;

	for (size_t k = 0; k < sub->n; k++) {
		int role = sub->role_index[k];
		const char *list = "", *last = NULL;
		size_t count = 0;
		for (size_t d = 0; d < ast->nroles; d++) {
			if ((int)d == role || !holds(ast, (int)d, role))
				continue;
			bool acknowledged = false;
			for (size_t a = 0; a < ast->nroles && !acknowledged; a++)
				acknowledged = s.seen[a] && (int)a != role && holds(ast, (int)d, (int)a);
			if (acknowledged)
				continue;
			/* "'a', 'b' and 'c'": the last name waits for the "and". */
			if (last)
				list = tg_arena_printf(l->arena, "%s%s'%s'", list, count > 1 ? ", " : "",
						       last);
			const tg_name *n = &ast->roles[d]->name;
			last = tg_lint_show(l, n->s, n->len);
			if (!list) {
				l->oom = true;
				return;
			}
			count++;
		}
		if (!count)
			continue;
		list = count == 1 ? tg_arena_printf(l->arena, "'%s'", last) :
			tg_arena_printf(l->arena, "%s and '%s'", list, last);
		if (!list) {
			l->oom = true;
			return;
		}
		const tg_name *rn = &sub->items[k];
		tg_diag *d = tg_lint_report(l, r->span.start, "deny-inherited-role", rn->span,
					    "deny on role '%s' also applies to %s %s, which inherit%s it",
					    tg_lint_show(l, rn->s, rn->len),
					    count == 1 ? "role" : "roles", list, count == 1 ? "s" : "");
		tg_diag_hint(l->diags, d, "name them in the rule (e.g. 'unless principal is ...') "
			     "or deny a role nothing inherits");
	}
}

/* Paths defined for one kind of method only; reading them under any other
 * method is an error. Both lints below speak of them through this table. */
enum { MP_TOOL, MP_RESOURCE, MP_PROMPT, MP_KINDS };
static const struct {
	tg_root root;
	tg_action_kind own;	/* the action whose methods define the path */
	const char *methods;	/* those methods, for messages */
	const char *narrow;	/* the action that matches only them */
} method_path_kinds[MP_KINDS] = {
	{TG_ROOT_TOOL, TG_ACT_CALL_TOOL, "tools/call", "call any tool"},
	{TG_ROOT_RESOURCE, TG_ACT_READ_RESOURCE,
	 "resources/read, resources/subscribe and resources/unsubscribe", "read any resource"},
	{TG_ROOT_PROMPT, TG_ACT_GET_PROMPT, "prompts/get", "get any prompt"},
};

typedef struct method_path {
	const tg_expr *read[MP_KINDS];	/* first read of each */
	bool guarded[MP_KINDS];		/* tested with `has` somewhere */
	bool method_read;		/* request.method is read */
} method_path;

static void find_method_paths(tg_linter *l, const tg_rule *r, const tg_expr *e, void *arg)
{
	method_path *m = arg;
	tg_root root;

	if (e->kind == TG_E_PATH)
		root = e->u.path.root;
	else if (e->kind == TG_E_HAS)
		root = e->u.has.base.root;
	else
		return;
	if (e->kind == TG_E_PATH && root == TG_ROOT_REQUEST)
		m->method_read = true;
	for (size_t k = 0; k < MP_KINDS; k++) {
		if (root != method_path_kinds[k].root)
			continue;
		if (e->kind == TG_E_HAS)
			m->guarded[k] = true;
		else if (!m->read[k])
			m->read[k] = e;
	}
}

/* The methods a rule's condition may read method-defined paths under: the
 * walk's findings, or false (nothing to report) when the condition reads
 * request.method and so may well guard its reads. */
static bool method_paths_of(tg_linter *l, const tg_rule *r, method_path *m)
{
	memset(m, 0, sizeof *m);
	tg_lint_walk_rule(l, r, find_method_paths, m);
	return !m->method_read;
}

static bool name_is(const tg_name *t, const char *method)
{
	return strlen(method) == t->len && memcmp(method, t->s, t->len) == 0;
}

/* `invoke "T"` names one of own's methods: a literal equal to one. */
static bool names_method_of(const tg_name *t, tg_action_kind own)
{
	const char *const *m;
	size_t nm = action_methods(own, &m);
	for (size_t k = 0; k < nm; k++)
		if (name_is(t, m[k]))
			return true;
	return false;
}

/* A set or a glob in `invoke`: its methods are not known here. */
static bool item_is_pattern(const tg_action *a, size_t i)
{
	return a->items[i].is_set || !is_literal(a->items[i].text.s, a->items[i].text.len);
}

/* The action can match a method for which the path is not defined. */
static bool reaches_other_methods(const tg_action *a, tg_action_kind own)
{
	if (a->kind == TG_ACT_ANYTHING)
		return true;
	if (a->kind != TG_ACT_INVOKE)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (item_is_pattern(a, i) || !names_method_of(&a->items[i].text, own))
			return true;
	return false;
}

/* The action can match one of `own`'s methods (sets and globs: assumed to). */
static bool reaches_method_of(const tg_action *a, tg_action_kind own)
{
	if (a->kind == own || a->kind == TG_ACT_ANYTHING)
		return true;
	if (a->kind != TG_ACT_INVOKE)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (item_is_pattern(a, i) || names_method_of(&a->items[i].text, own))
			return true;
	return false;
}

static const char *path_text(tg_linter *l, const tg_expr *e)
{
	return e->u.path.attr && e->u.path.attr->display ?
		e->u.path.attr->display :
		tg_lint_show(l, l->ast->src + e->span.start, e->span.end - e->span.start);
}

/* The rule reads tool.*, resource.uri or prompt.name, yet its action
 * matches none of the methods that define it: every such read is an
 * error. A deny over `invoke` is deny-reads-method-path's. */
static void unreachable_path(tg_linter *l, const tg_rule *r)
{
	if (r->effect == TG_EFFECT_DENY && r->action.kind == TG_ACT_INVOKE)
		return;
	method_path m;
	if (!method_paths_of(l, r, &m))
		return;
	for (size_t k = 0; k < MP_KINDS; k++) {
		const tg_expr *e = m.read[k];
		if (!e || m.guarded[k] || reaches_method_of(&r->action, method_path_kinds[k].own))
			continue;
		tg_diag *d = tg_lint_report(l, r->span.start, "unreachable-path", e->span,
					    "rule '%s' reads '%s', defined only for %s, which its "
					    "action never matches: the read is always an error",
					    tg_lint_rule_name(r), path_text(l, e),
					    method_path_kinds[k].methods);
		if (r->effect == TG_EFFECT_ALLOW)
			tg_diag_hint(l->diags, d, "an error never grants, so the rule cannot apply "
				     "through this read; fix the action or the path");
		else
			tg_diag_hint(l->diags, d, "an error makes a deny apply, so the rule denies "
				     "every request it matches; fix the action or the path");
		return;
	}
}

/* The action can match `method`, a list method (sets and globs: assumed to). */
static bool can_list(const tg_action *a, tg_action_kind list, const char *method)
{
	if (a->kind == list || a->kind == TG_ACT_ANYTHING)
		return true;
	if (a->kind != TG_ACT_INVOKE)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (item_is_pattern(a, i) || name_is(&a->items[i].text, method))
			return true;
	return false;
}

/* Allow rules that call tools (read resources, get prompts) in a policy
 * where no rule can allow the matching list: a client's list is denied
 * before it shows a single entry. */
static void list_gaps(tg_linter *l)
{
	static const struct {
		tg_action_kind own, list;
		const char *method, *list_method, *what, *fix;
	} kinds[] = {
		{TG_ACT_CALL_TOOL, TG_ACT_LIST_TOOLS, "tools/call", "tools/list", "tool",
		 "list tools"},
		{TG_ACT_READ_RESOURCE, TG_ACT_LIST_RESOURCES, "resources/read", "resources/list",
		 "resource", "list resources"},
		{TG_ACT_GET_PROMPT, TG_ACT_LIST_PROMPTS, "prompts/get", "prompts/list", "prompt",
		 "list prompts"},
	};
	const tg_ast *ast = l->ast;

	if (ast->default_stmt && ast->default_stmt->u.default_effect == TG_EFFECT_ALLOW)
		return;
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		const tg_rule *grant = NULL;
		bool listed = false;
		for (size_t i = 0; i < ast->nrules && !listed; i++) {
			const tg_rule *r = ast->rules[i];
			if (r->effect != TG_EFFECT_ALLOW)
				continue;
			listed = can_list(&r->action, kinds[k].list, kinds[k].list_method);
			if (!grant && reaches_method_of(&r->action, kinds[k].own))
				grant = r;
		}
		if (!grant || listed)
			continue;
		tg_diag *d = tg_lint_report(l, grant->span.start, "missing-list-grant",
					    grant->action.span,
					    "rule '%s' allows %s, but no rule can allow %s: a client's "
					    "%s is denied before it shows any %s",
					    tg_lint_rule_name(grant), kinds[k].method,
					    kinds[k].list_method, kinds[k].list_method, kinds[k].what);
		tg_diag_hint(l->diags, d, "add e.g. 'allow anyone to %s;' (the list shows each "
			     "caller only the entries it may use)", kinds[k].fix);
	}
}

static void deny_method_path(tg_linter *l, const tg_rule *r)
{
	if (r->effect != TG_EFFECT_DENY ||
	    (r->action.kind != TG_ACT_ANYTHING && r->action.kind != TG_ACT_INVOKE))
		return;
	/* A condition that looks at request.method, or tests the path with
	 * `has`, may well guard the read: stay quiet rather than guess. */
	method_path m;
	if (!method_paths_of(l, r, &m))
		return;
	for (size_t k = 0; k < MP_KINDS; k++) {
		const tg_expr *e = m.read[k];
		if (!e || m.guarded[k] || !reaches_other_methods(&r->action, method_path_kinds[k].own))
			continue;
		tg_diag *d = tg_lint_report(l, r->span.start, "deny-reads-method-path", e->span,
					    "deny rule '%s' reads '%s', an error for every method but "
					    "%s, so it denies all of them", tg_lint_rule_name(r),
					    path_text(l, e), method_path_kinds[k].methods);
		tg_diag_hint(l->diags, d, "narrow the action to '%s', or test request.method first",
			     method_path_kinds[k].narrow);
		return;
	}
}

void tg_lint_rules(tg_linter *l)
{
	const tg_ast *ast = l->ast;
	size_t named = 0;
	for (size_t i = 0; i < ast->nrules; i++)
		named += ast->rules[i]->has_id;
	if (!ast->nrules)
		goto out;
	/* Coverage compares rules pairwise: expand each action's sets once. */
	l->rule_pats = tg_arena_alloc(l->arena, ast->nrules * sizeof *l->rule_pats);
	if (!l->rule_pats) {
		l->oom = true;
		return;
	}
	for (size_t i = 0; i < ast->nrules; i++)	/* rules[i]->index == i */
		l->rule_pats[i] = expand(l, &ast->rules[i]->action);
	cover_index ci;
	if (l->oom || !cover_index_build(l, &ci))
		return;

	for (size_t i = 0; i < ast->nrules; i++) {
		const tg_rule *r = ast->rules[i];
		shadowed(l, &ci, r);
		if (r->effect == TG_EFFECT_ALLOW)
			overridden(l, &ci, r);
		over_broad(l, r);
		no_because(l, r);
		deny_inherited(l, r);
		deny_method_path(l, r);
		unreachable_path(l, r);
		if (!r->has_id && named > 0) {
			tg_diag *d = tg_lint_report(l, r->span.start, "missing-rule-id", r->effect_span,
						    "rule has no id, so it is named '%s' after "
						    "its line", tg_lint_rule_name(r));
			tg_diag_hint(l->diags, d, "the policy names its other rules; name this one "
				     "too: rule \"ID\": ...");
		}
	}
	list_gaps(l);
out:
	if (ast->default_stmt && ast->default_stmt->u.default_effect == TG_EFFECT_ALLOW) {
		tg_diag *d = tg_lint_report(l, ast->default_stmt->span.start, "default-allow",
					    ast->default_stmt->span,
					    "'default allow' allows every request no rule decides");
		tg_diag_hint(l->diags, d, "use 'default deny' and grant access with allow rules");
	}
}

/* ---- duplicate-pattern ---------------------------------------------------- */

static void report_dup(tg_linter *l, uint32_t owner, tg_span at, const pat *dup,
		       const pat *by, const char *where)
{
	const char *ds = tg_lint_show(l, dup->s, dup->len);
	const char *bs = tg_lint_show(l, by->s, by->len);
	const char *of = dup->set && dup->set != by->set ?
		tg_arena_printf(l->arena, " (set '%s')",
				tg_lint_show(l, dup->set->name.s, dup->set->name.len)) : "";
	const char *from = by->set && by->set != dup->set ?
		tg_arena_printf(l->arena, " (set '%s')",
				tg_lint_show(l, by->set->name.s, by->set->name.len)) : "";
	bool same = dup->len == by->len && memcmp(dup->s, by->s, dup->len) == 0;
	if (!of || !from) {
		l->oom = true;
		return;
	}
	tg_diag *d = same ?
		tg_lint_report(l, owner, "duplicate-pattern", at,
			       "pattern '%s'%s appears twice in %s", ds, of, where) :
		tg_lint_report(l, owner, "duplicate-pattern", at,
			       "pattern '%s'%s in %s is covered by '%s'%s", ds, of, where, bs, from);
	tg_diag_hint(l->diags, d, "remove it, or fix it if it was meant to match something else");
}

/* Among n patterns, reports each one another pattern covers (of identical
 * ones, the later). With per_item, patterns that come from one item of the
 * rule (one set) are not compared: the set's own scan reports those. */
static void dup_scan(tg_linter *l, uint32_t owner, const pat *v, size_t n, const char *where,
		     bool per_item, const tg_span *spans)
{
	for (size_t j = 0; j < n; j++) {
		for (size_t i = 0; i < n; i++) {
			if (i == j || (per_item && v[i].item == v[j].item))
				continue;
			bool same = v[i].len == v[j].len && memcmp(v[i].s, v[j].s, v[i].len) == 0;
			if (same ? i > j :
			    !tg_lint_glob_covers(v[i].s, v[i].len, v[j].s, v[j].len))
				continue;
			/* A set named twice is one finding, at its second name. */
			if (same && per_item && v[i].set && v[i].set == v[j].set) {
				if (v[j].s != v[j].set->items[0].s)
					break;
				tg_diag *d = tg_lint_report(l, owner, "duplicate-pattern",
							    v[j].span,
							    "set '%s' is named twice in %s",
							    tg_lint_show(l, v[j].set->name.s,
									 v[j].set->name.len),
							    where);
				tg_diag_hint(l->diags, d, "remove one of them");
				break;
			}
			report_dup(l, owner, spans ? spans[j] : v[j].span, &v[j], &v[i], where);
			break;
		}
	}
}

void tg_lint_patterns(tg_linter *l)
{
	const tg_ast *ast = l->ast;
	for (size_t s = 0; s < ast->nsets; s++) {
		const tg_set_decl *set = ast->sets[s];
		if (!set->n)
			continue;
		pat *v = tg_arena_alloc(l->arena, set->n * sizeof *v);
		tg_span *spans = tg_arena_alloc(l->arena, set->n * sizeof *spans);
		if (!v || !spans) {
			l->oom = true;
			return;
		}
		for (size_t k = 0; k < set->n; k++) {
			pat x = {set->items[k].s, set->items[k].len, set->items[k].span, set, k};
			v[k] = x;
			spans[k] = set->items[k].span;
		}
		const char *where = tg_arena_printf(l->arena, "set '%s'",
						    tg_lint_show(l, set->name.s, set->name.len));
		uint32_t owner = set->span.start;
		for (size_t k = 0; k < ast->nstmts; k++)
			if (ast->stmts[k].kind == TG_STMT_SET && ast->stmts[k].u.set == set)
				owner = ast->stmts[k].span.start;
		dup_scan(l, owner, v, set->n, where ? where : "a set", false, spans);
	}
	for (size_t i = 0; i < ast->nrules; i++) {
		const tg_rule *r = ast->rules[i];
		if (!has_targets(r->action.kind) && r->action.kind != TG_ACT_INVOKE)
			continue;
		pats p = l->rule_pats ? l->rule_pats[i] : expand(l, &r->action);
		const char *where = tg_arena_printf(l->arena, "rule '%s'", tg_lint_rule_name(r));
		dup_scan(l, r->span.start, p.v, p.n, where ? where : "a rule", true, NULL);
	}
}
