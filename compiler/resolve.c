/*
 * resolve.c - binds names to declarations: roles, sets and attributes.
 *
 * Roles form a graph through their parents (`role admin: engineer` means
 * admin holds engineer). The closure matrix answers "does r hold a" for the
 * code generator and `is`; it is computed by one depth-first walk per role,
 * marking a node when it is pushed, so each walk pushes a node at most once.
 * A role that reaches itself lies on a cycle; a cycle is reported once, at
 * the member declared first, by walking back to it inside its strongly
 * connected component (the roles that reach it and that it reaches).
 *
 * Attributes are keyed by their display path (`args.options.force`,
 * `args["content-type"]`), which is the same whichever way a word key was
 * written, so `args.x` and `args["x"]` are one attribute.
 */
#include "check_internal.h"

#include <string.h>

/* ---- roles -------------------------------------------------------------- */

int tg_check_role_ref(tg_checker *c, const tg_name *name)
{
	int i = tg_check_map_get(&c->roles, name->s, name->len);
	if (i >= 0)
		return i;
	tg_diag *d = tg_error(c->diags, name->span, "unknown role '%s'",
			      tg_check_show(c, name->s, name->len));
	if (d && !tg_check_suggest(c, d, name->s, name->len, c->role_names, c->nrole_names))
		tg_diag_hint(c->diags, d, "roles are declared with 'role NAME;'");
	return -1;
}

static void report_cycle(tg_checker *c, size_t r, const uint8_t *reach, uint8_t *reported)
{
	tg_ast *ast = c->ast;
	size_t n = ast->nroles;
	/* Breadth-first from r along parent edges inside r's component, back to
	 * r: the shortest cycle through the first-declared member. */
	int *from = tg_check_alloc(c, n * sizeof *from);
	size_t *queue = tg_check_alloc(c, (n + 1) * sizeof *queue);
	if (!from || !queue)
		return;
	for (size_t a = 0; a < n; a++) {
		from[a] = -2;
		if (reach[r * n + a] && reach[a * n + r])
			reported[a] = 1;
	}
	size_t head = 0, tail = 0;
	int last = -1;		/* the member whose parent closes the cycle */
	queue[tail++] = r;
	from[r] = -1;
	while (head < tail && last < 0) {
		size_t a = queue[head++];
		const tg_role_decl *ra = ast->roles[a];
		for (size_t k = 0; k < ra->nparents; k++) {
			int p = ra->parent_index[k];
			if (p < 0 || !reach[(size_t)p * n + r])
				continue;
			if ((size_t)p == r) {
				last = (int)a;
				break;
			}
			if (from[p] == -2) {
				from[p] = (int)a;
				queue[tail++] = (size_t)p;
			}
		}
	}
	if (last < 0)
		return;
	/* from[] links each member to its predecessor; collect r .. last. */
	size_t len = 0;
	for (int a = last; a >= 0; a = from[a])
		queue[len++] = (size_t)a;
	size_t size = 1;
	for (size_t k = 0; k < len; k++) {
		const tg_name *nm = &ast->roles[queue[k]]->name;
		size += strlen(tg_check_show(c, nm->s, nm->len)) + 4;
	}
	const tg_name *rn = &ast->roles[r]->name;
	const char *rs = tg_check_show(c, rn->s, rn->len);
	size += strlen(rs);
	char *msg = tg_check_alloc(c, size);
	if (!msg)
		return;
	char *p = msg;
	for (size_t k = len; k-- > 0;) {
		const tg_name *nm = &ast->roles[queue[k]]->name;
		const char *s = tg_check_show(c, nm->s, nm->len);
		size_t sl = strlen(s);
		memcpy(p, s, sl);
		memcpy(p + sl, " -> ", 4);
		p += sl + 4;
	}
	memcpy(p, rs, strlen(rs) + 1);
	tg_error(c->diags, rn->span, "role inheritance cycle: %s", msg);
}

void tg_check_roles(tg_checker *c)
{
	tg_ast *ast = c->ast;
	size_t n = ast->nroles;
	c->role_names = tg_check_alloc(c, (n ? n : 1) * sizeof *c->role_names);
	if (!c->role_names)
		return;
	for (size_t i = 0; i < n; i++) {
		tg_role_decl *r = ast->roles[i];
		r->index = (int)i;
		int first = tg_check_map_get(&c->roles, r->name.s, r->name.len);
		if (first >= 0) {
			tg_diag *d = tg_error(c->diags, r->name.span, "duplicate role '%s'",
					      tg_check_show(c, r->name.s, r->name.len));
			if (d)
				tg_diag_hint(c->diags, d, "first declared on line %u",
					     tg_check_line(c, ast->roles[first]->name.span.start));
			continue;
		}
		if (!tg_check_map_put(c, &c->roles, r->name.s, r->name.len, (int)i))
			return;
		c->role_names[c->nrole_names++] = r->name.s;
	}
	for (size_t i = 0; i < n; i++) {
		tg_role_decl *r = ast->roles[i];
		r->parent_index = tg_check_alloc(c, (r->nparents ? r->nparents : 1) * sizeof(int));
		if (!r->parent_index)
			return;
		for (size_t k = 0; k < r->nparents; k++)
			r->parent_index[k] = tg_check_role_ref(c, &r->parents[k]);
	}

	if (n > UINT32_MAX / 2 || (n && n > SIZE_MAX / n)) {
		tg_check_nomem(c);
		return;
	}
	uint8_t *reach = tg_check_alloc(c, n * n);
	size_t *stack = tg_check_alloc(c, (n ? n : 1) * sizeof *stack);
	uint8_t *reported = tg_check_alloc(c, n ? n : 1);
	if (!reach || !stack || !reported)
		return;
	/* reach[r][a]: a is reachable from r through at least one parent edge. */
	for (size_t r = 0; r < n; r++) {
		uint8_t *row = reach + r * n;
		size_t top = 0;
		stack[top++] = r;
		while (top) {
			const tg_role_decl *a = ast->roles[stack[--top]];
			for (size_t k = 0; k < a->nparents; k++) {
				int p = a->parent_index[k];
				if (p >= 0 && !row[p]) {
					row[p] = 1;
					stack[top++] = (size_t)p;
				}
			}
		}
	}
	for (size_t r = 0; r < n; r++)
		if (reach[r * n + r] && !reported[r])
			report_cycle(c, r, reach, reported);
	for (size_t r = 0; r < n; r++)
		reach[r * n + r] = 1;
	ast->role_closure = reach;
}

/* ---- sets and patterns -------------------------------------------------- */

void tg_check_sets(tg_checker *c)
{
	tg_ast *ast = c->ast;
	c->set_names = tg_check_alloc(c, (ast->nsets ? ast->nsets : 1) * sizeof *c->set_names);
	if (!c->set_names)
		return;
	for (size_t i = 0; i < ast->nsets; i++) {
		tg_set_decl *s = ast->sets[i];
		for (size_t k = 0; k < s->n; k++)
			tg_check_glob(c, &s->items[k], "glob");
		int first = tg_check_map_get(&c->sets, s->name.s, s->name.len);
		if (first >= 0) {
			tg_diag *d = tg_error(c->diags, s->name.span, "duplicate set '%s'",
					      tg_check_show(c, s->name.s, s->name.len));
			if (d)
				tg_diag_hint(c->diags, d, "first declared on line %u",
					     tg_check_line(c, ast->sets[first]->name.span.start));
			continue;
		}
		if (!tg_check_map_put(c, &c->sets, s->name.s, s->name.len, (int)i))
			return;
		c->set_names[c->nset_names++] = s->name.s;
	}
}

void tg_check_subject(tg_checker *c, tg_subject *s)
{
	if (s->kind != TG_SUBJ_ROLE)
		return;
	s->role_index = tg_check_alloc(c, (s->n ? s->n : 1) * sizeof(int));
	if (!s->role_index)
		return;
	for (size_t i = 0; i < s->n; i++)
		s->role_index[i] = tg_check_role_ref(c, &s->items[i]);
}

void tg_check_action(tg_checker *c, tg_action *a)
{
	const char *what = a->kind == TG_ACT_INVOKE ? "method glob" : "glob";
	for (size_t i = 0; i < a->n; i++) {
		tg_pattern *p = &a->items[i];
		if (!p->is_set) {
			tg_check_glob(c, &p->text, what);
			continue;
		}
		if (a->kind == TG_ACT_INVOKE)
			continue;	/* a syntax error, reported by the parser */
		int k = tg_check_map_get(&c->sets, p->text.s, p->text.len);
		if (k >= 0) {
			p->set = c->ast->sets[k];
			p->set->used = true;
			continue;
		}
		const char *name = tg_check_show(c, p->text.s, p->text.len);
		tg_diag *d = tg_error(c->diags, p->text.span, "unknown set '%s'", name);
		if (d && !tg_check_suggest(c, d, p->text.s, p->text.len, c->set_names, c->nset_names))
			tg_diag_hint(c->diags, d, "to match the name itself, quote it: \"%s\"", name);
	}
}

/* ---- attributes --------------------------------------------------------- */

typedef struct builtin {
	tg_root root;
	const char *field;
	const char *display;
	tg_type type;
} builtin;

static const builtin builtins[] = {
	{TG_ROOT_PRINCIPAL, "id", "principal.id", TG_TY_STRING},
	{TG_ROOT_PRINCIPAL, "roles", "principal.roles", TG_TY_STRING_LIST},
	{TG_ROOT_TOKEN, "scopes", "token.scopes", TG_TY_STRING_LIST},
	{TG_ROOT_TOOL, "read_only", "tool.read_only", TG_TY_BOOL},
	{TG_ROOT_TOOL, "destructive", "tool.destructive", TG_TY_BOOL},
	{TG_ROOT_TOOL, "idempotent", "tool.idempotent", TG_TY_BOOL},
	{TG_ROOT_TOOL, "open_world", "tool.open_world", TG_TY_BOOL},
	{TG_ROOT_TOOL, "name", "tool.name", TG_TY_STRING},
	{TG_ROOT_TOOL, "server", "tool.server", TG_TY_STRING},
	{TG_ROOT_RESOURCE, "uri", "resource.uri", TG_TY_STRING},
	{TG_ROOT_PROMPT, "name", "prompt.name", TG_TY_STRING},
	{TG_ROOT_REQUEST, "method", "request.method", TG_TY_STRING},
};
#define NBUILTINS (sizeof builtins / sizeof builtins[0])

const char *tg_check_root_name(tg_root r)
{
	switch (r) {
	case TG_ROOT_PRINCIPAL:
		return "principal";
	case TG_ROOT_TOKEN:
		return "token";
	case TG_ROOT_CONTEXT:
		return "context";
	case TG_ROOT_ARGS:
		return "args";
	case TG_ROOT_TOOL:
		return "tool";
	case TG_ROOT_RESOURCE:
		return "resource";
	case TG_ROOT_PROMPT:
		return "prompt";
	case TG_ROOT_REQUEST:
		return "request";
	}
	return "?";
}

/* Roots whose every field is built in. */
static bool fixed_root(tg_root r)
{
	return r == TG_ROOT_TOOL || r == TG_ROOT_RESOURCE || r == TG_ROOT_PROMPT ||
	       r == TG_ROOT_REQUEST;
}

static const builtin *find_builtin(tg_root root, const tg_name *f)
{
	for (size_t i = 0; i < NBUILTINS; i++)
		if (builtins[i].root == root && strlen(builtins[i].field) == f->len &&
		    memcmp(builtins[i].field, f->s, f->len) == 0)
			return &builtins[i];
	return NULL;
}

static bool is_word(const char *s, size_t len)
{
	if (!len || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
	}
	return true;
}

static bool buf_put(tg_checker *c, const char *s, size_t len)
{
	if (c->buflen + len + 1 > c->bufcap) {
		void *b = c->buf;
		size_t cap = c->bufcap;
		if (tg_arena_grow(c->arena, &b, &cap, c->buflen + len + 1, 1) < 0) {
			tg_check_nomem(c);
			return false;
		}
		c->buf = b;
		c->bufcap = cap;
	}
	memcpy(c->buf + c->buflen, s, len);
	c->buflen += len;
	c->buf[c->buflen] = '\0';
	return true;
}

static bool buf_field(tg_checker *c, const tg_name *f)
{
	if (is_word(f->s, f->len))
		return buf_put(c, ".", 1) && buf_put(c, f->s, f->len);
	if (!buf_put(c, "[\"", 2))
		return false;
	for (size_t i = 0; i < f->len; i++) {
		unsigned char ch = (unsigned char)f->s[i];
		char esc[16];
		size_t n;
		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			n = 2;
		} else if (ch == '\n') {
			memcpy(esc, "\\n", 2);
			n = 2;
		} else if (ch == '\t') {
			memcpy(esc, "\\t", 2);
			n = 2;
		} else if (ch < 0x20 || ch == 0x7f) {
			n = (size_t)snprintf(esc, sizeof esc, "\\u{%x}", ch);
		} else {
			esc[0] = (char)ch;
			n = 1;
		}
		if (!buf_put(c, esc, n))
			return false;
	}
	return buf_put(c, "\"]", 2);
}

/* Builds the display path into c->buf; false when out of memory. */
static bool build_display(tg_checker *c, tg_root root, const tg_name *fields, size_t n,
			  const tg_name *extra)
{
	c->buflen = 0;
	const char *rn = tg_check_root_name(root);
	if (!buf_put(c, rn, strlen(rn)))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!buf_field(c, &fields[i]))
			return false;
	return !extra || buf_field(c, extra);
}

static const builtin *builtin_of(tg_root root, const tg_name *fields, size_t n,
				 const tg_name *extra)
{
	if (n + (extra != NULL) != 1)
		return NULL;
	return find_builtin(root, n ? &fields[0] : extra);
}

static void suggest_builtin(tg_checker *c, tg_diag *d, tg_root root)
{
	const char *cands[NBUILTINS];
	size_t n = 0;
	for (size_t i = 0; i < NBUILTINS; i++)
		if (builtins[i].root == root)
			cands[n++] = builtins[i].display;
	if (!tg_check_suggest(c, d, c->buf, c->buflen, cands, n) && d) {
		/* No close match: list what exists under this root. */
		size_t len = 0;
		char list[160];
		for (size_t i = 0; i < n && len < sizeof list - 40; i++)
			len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
						i ? ", " : "", cands[i]);
		tg_diag_hint(c->diags, d, "'%s' has %s", tg_check_root_name(root), list);
	}
}

void tg_check_attr_decls(tg_checker *c)
{
	tg_ast *ast = c->ast;
	for (size_t i = 0; i < ast->nattr_decls; i++) {
		tg_attr_decl *d = ast->attr_decls[i];
		const tg_path *p = &d->path;
		if (!build_display(c, p->root, p->fields, p->nfields, NULL))
			return;
		const builtin *b = builtin_of(p->root, p->fields, p->nfields, NULL);
		tg_diag *g;
		if (b) {
			g = tg_error(c->diags, p->span, "'%s' is built in and cannot be declared",
				     b->display);
			if (g)
				tg_diag_hint(c->diags, g, "its type is %s",
					     tg_check_type_name(b->type));
			continue;
		}
		if (fixed_root(p->root)) {
			g = tg_error(c->diags, p->span,
				     "attributes are declared under principal, token, context or args, not '%s'",
				     tg_check_root_name(p->root));
			continue;
		}
		if (!p->nfields) {
			tg_error(c->diags, p->span, "'%s' needs a field, e.g. %s.NAME",
				 tg_check_root_name(p->root), tg_check_root_name(p->root));
			continue;
		}
		tg_check_domain(c, d, c->buf);
		int first = tg_check_map_get(&c->decls, c->buf, c->buflen);
		if (first >= 0) {
			g = tg_error(c->diags, p->span, "duplicate attribute '%s'",
				     tg_check_show(c, c->buf, c->buflen));
			if (g)
				tg_diag_hint(c->diags, g, "first declared on line %u",
					     tg_check_line(c, ast->attr_decls[first]->path.span.start));
			continue;
		}
		char *key = tg_arena_strndup(c->arena, c->buf, c->buflen);
		if (!key) {
			tg_check_nomem(c);
			return;
		}
		if (!tg_check_map_put(c, &c->decls, key, c->buflen, (int)i))
			return;
	}
}

static tg_attr *attr_lookup(tg_checker *c, tg_root root, const tg_name *fields, size_t n,
			    const tg_name *extra, tg_span span, bool report)
{
	tg_ast *ast = c->ast;
	if (!build_display(c, root, fields, n, extra))
		return NULL;
	int i = tg_check_map_get(&c->attrs, c->buf, c->buflen);
	if (i >= 0)
		return ast->attrs[i];

	const builtin *b = builtin_of(root, fields, n, extra);
	tg_attr_decl *decl = NULL;
	tg_type type = TG_TY_ANY;
	if (b) {
		type = b->type;
	} else if (fixed_root(root)) {
		if (report) {
			tg_diag *d = tg_error(c->diags, span, "unknown attribute '%s'",
					      tg_check_show(c, c->buf, c->buflen));
			suggest_builtin(c, d, root);
		}
		return NULL;
	} else {
		int k = tg_check_map_get(&c->decls, c->buf, c->buflen);
		if (k >= 0) {
			decl = ast->attr_decls[k];
			type = decl->type;
		}
	}

	tg_attr *a = tg_check_alloc(c, sizeof *a);
	size_t nf = n + (extra != NULL);
	tg_name *f = tg_check_alloc(c, (nf ? nf : 1) * sizeof *f);
	char *display = tg_arena_strndup(c->arena, c->buf, c->buflen);
	if (!a || !f || !display) {
		tg_check_nomem(c);
		return NULL;
	}
	if (n)
		memcpy(f, fields, n * sizeof *f);
	if (extra)
		f[n] = *extra;
	a->root = root;
	a->fields = f;
	a->nfields = nf;
	a->display = display;
	a->type = type;
	a->builtin = b != NULL;
	a->decl = decl;
	a->slot = (int)ast->nattrs;

	void *items = ast->attrs;
	if (tg_arena_grow(c->arena, &items, &c->attrs_cap, ast->nattrs + 1, sizeof(tg_attr *)) < 0) {
		tg_check_nomem(c);
		return NULL;
	}
	ast->attrs = items;
	ast->attrs[ast->nattrs++] = a;
	if (!tg_check_map_put(c, &c->attrs, display, c->buflen, a->slot))
		return NULL;
	return a;
}

tg_attr_decl *tg_check_attr_declared(tg_checker *c, tg_root root, const tg_name *fields,
				     size_t nfields)
{
	if (!build_display(c, root, fields, nfields, NULL))
		return NULL;
	int k = tg_check_map_get(&c->decls, c->buf, c->buflen);
	return k >= 0 ? c->ast->attr_decls[k] : NULL;
}

tg_attr *tg_check_attr_ref(tg_checker *c, tg_root root, const tg_name *fields, size_t nfields,
			   const tg_name *extra, tg_span span)
{
	return attr_lookup(c, root, fields, nfields, extra, span, true);
}

/* Declarations that passed tg_check_attr_decls get their attribute here, in
 * source order with the paths rules read. */
void tg_check_attr_decl_bind(tg_checker *c, tg_attr_decl *d)
{
	const tg_path *p = &d->path;
	if (fixed_root(p->root) || !p->nfields || builtin_of(p->root, p->fields, p->nfields, NULL))
		return;
	d->attr = attr_lookup(c, p->root, p->fields, p->nfields, NULL, p->span, false);
	d->path.attr = d->attr;
}
