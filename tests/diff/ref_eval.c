/*
 * ref_eval.c - the reference evaluator: DESIGN.md's semantics, interpreted
 * directly over the checked AST and the request's JSON tree.
 *
 * Model. Every expression evaluates to a value `rv`: a string, an int, a
 * bool, a list (of a JSON array or of a list literal), OTHER (a present
 * value of no policy type), ERR (an error: absent attribute, wrong type,
 * overflow, bad path under `under`) or UNK (visibility: anything read from
 * `args`). Conditions are rv's that must be bools; `and`/`or`/`not` combine
 * them with short-circuit and Kleene logic. Nothing here is shared with the
 * compiler's code generation, the VM or the CLI's request reader: the
 * declarations, roles and sets are looked up by name in the AST, the request
 * is read from jansson values, globs are matched by a memoised
 * recursive matcher written from the glob table of the language reference,
 * and regular expressions by a backtracking one (ref_regex.c).
 * Speed is not a goal; being obviously right is.
 */
#include "ref_eval.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum vkind {
	V_STR, V_INT, V_BOOL, V_LIST, V_OTHER, V_ERR, V_UNK
} vkind;

typedef struct rv {
	vkind k;
	const char *s;		/* V_STR */
	size_t len;
	int64_t i;		/* V_INT */
	bool b;			/* V_BOOL */
	vkind elem;		/* V_LIST: V_STR, V_INT, or V_OTHER when empty:
				 * an empty list value is a list of strings
				 * and a list of ints, whatever the path's
				 * static type, so it meets no type error */
	size_t n;
	json_t *arr;		/* V_LIST from the request */
	tg_expr **items;	/* V_LIST from a literal */
} rv;

/* What one evaluation reads: the request, or the visibility view of it. */
typedef struct ctx {
	const tg_ast *ast;
	json_t *principal, *token, *context, *args, *tool;	/* objects or NULL */
	const char *method;
	const char *target;	/* NULL when absent */
	size_t target_len;
	const char *server;	/* NULL when absent or not a string */
	size_t server_len;
	bool vis;		/* visibility: args are UNKNOWN */
} ctx;

static const rv ERR = {.k = V_ERR};
static const rv UNK = {.k = V_UNK};

static rv mk_bool(bool b)
{
	rv v = {.k = V_BOOL, .b = b};
	return v;
}

static rv mk_str(const char *s, size_t len)
{
	rv v = {.k = V_STR, .s = s, .len = len};
	return v;
}

static rv mk_int(int64_t i)
{
	rv v = {.k = V_INT, .i = i};
	return v;
}

static bool name_is(const tg_name *n, const char *s, size_t len)
{
	return n->len == len && memcmp(n->s, s, len) == 0;
}

static bool name_eq(const tg_name *n, const char *s)
{
	return name_is(n, s, strlen(s));
}

static bool str_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* ---- globs ---------------------------------------------------------------- */

enum { G_LIT, G_STAR, G_DSTAR, G_QMARK };

typedef struct gtok {
	int kind;
	unsigned char c;
} gtok;

typedef struct gmatch {
	const gtok *t;
	size_t nt;
	const unsigned char *s;
	size_t slen;
	signed char *memo;	/* (nt + 1) x (slen + 1): 0 unknown, 1 yes, -1 no */
} gmatch;

/* Bytes in the code point led by c (request strings are valid UTF-8). */
static size_t utf8_len(unsigned char c)
{
	if (c < 0xc0)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	return 4;
}

static bool gm(gmatch *m, size_t pi, size_t si)
{
	if (si > m->slen)
		return false;
	if (pi == m->nt)
		return si == m->slen;
	signed char *memo = &m->memo[pi * (m->slen + 1) + si];
	if (*memo)
		return *memo > 0;
	bool r = false;
	const gtok *t = &m->t[pi];
	switch (t->kind) {
	case G_LIT:
		r = si < m->slen && m->s[si] == t->c && gm(m, pi + 1, si + 1);
		/* slash, double star, slash also matches a single slash */
		if (!r && t->c == '/' && pi + 2 < m->nt && m->t[pi + 1].kind == G_DSTAR &&
		    m->t[pi + 2].kind == G_LIT && m->t[pi + 2].c == '/' && si < m->slen &&
		    m->s[si] == '/')
			r = gm(m, pi + 3, si + 1);
		break;
	case G_QMARK:
		if (si < m->slen && m->s[si] != '/') {
			size_t n = utf8_len(m->s[si]);
			if (si + n <= m->slen)
				r = gm(m, pi + 1, si + n);
		}
		break;
	case G_STAR:
	case G_DSTAR:
		/* runs of whole code points; `*` stops at a `/` */
		for (size_t k = si;; k += utf8_len(m->s[k])) {
			if (gm(m, pi + 1, k)) {
				r = true;
				break;
			}
			if (k >= m->slen || (t->kind == G_STAR && m->s[k] == '/'))
				break;
		}
		break;
	}
	*memo = r ? 1 : -1;
	return r;
}

bool ref_glob_match(const char *glob, size_t glen, const char *s, size_t slen)
{
	gtok *t = malloc((glen + 1) * sizeof *t);
	size_t nt = 0;
	if (!t)
		abort();
	for (size_t i = 0; i < glen;) {
		unsigned char c = (unsigned char)glob[i];
		if (c == '\\' && i + 1 < glen) {
			t[nt].kind = G_LIT;
			t[nt++].c = (unsigned char)glob[i + 1];
			i += 2;
		} else if (c == '*') {
			size_t run = 0;
			while (i < glen && glob[i] == '*') {
				run++;
				i++;
			}
			t[nt++].kind = run == 1 ? G_STAR : G_DSTAR;
		} else if (c == '?') {
			t[nt++].kind = G_QMARK;
			i++;
		} else {
			t[nt].kind = G_LIT;
			t[nt++].c = c;
			i++;
		}
	}
	signed char *memo = calloc((nt + 1) * (slen + 1), 1);
	if (!memo)
		abort();
	gmatch m = {t, nt, (const unsigned char *)s, slen, memo};
	bool r = gm(&m, 0, 0);
	free(memo);
	free(t);
	return r;
}

/* ---- under ---------------------------------------------------------------- */

/* Splits an absolute path into segments; false when it is not absolute or
 * has an empty, `.` or `..` segment (one trailing `/` allowed). */
typedef struct seg {
	const char *s;
	size_t len;
} seg;

static bool split_path(const char *s, size_t len, seg *out, size_t *nout, size_t max)
{
	if (len == 0 || s[0] != '/')
		return false;
	/* one trailing `/` after a segment; `//` is an empty segment */
	if (len > 2 && s[len - 1] == '/')
		len--;
	*nout = 0;
	if (len == 1)
		return true;
	size_t i = 1;
	for (;;) {
		size_t j = i;
		while (j < len && s[j] != '/')
			j++;
		size_t n = j - i;
		if (n == 0 || (n == 1 && s[i] == '.') || (n == 2 && s[i] == '.' && s[i + 1] == '.'))
			return false;
		if (*nout < max)
			out[*nout] = (seg){s + i, n};
		(*nout)++;
		if (j == len)
			return true;
		i = j + 1;
	}
}

/* ERR, or a bool. */
static rv under(const char *x, size_t xlen, const char *dir, size_t dlen)
{
	seg xs[256], ds[256];
	size_t nx, nd;
	if (!split_path(x, xlen, xs, &nx, 256) || !split_path(dir, dlen, ds, &nd, 256))
		return ERR;
	if (nx > 256 || nd > 256 || nx < nd)
		return mk_bool(false);
	for (size_t i = 0; i < nd; i++)
		if (!str_eq(xs[i].s, xs[i].len, ds[i].s, ds[i].len))
			return mk_bool(false);
	return mk_bool(true);
}

/* ---- reading the request -------------------------------------------------- */

static rv of_json(json_t *v)
{
	if (json_is_string(v))
		return mk_str(json_string_value(v), json_string_length(v));
	if (json_is_integer(v))
		return mk_int((int64_t)json_integer_value(v));
	if (json_is_boolean(v))
		return mk_bool(json_is_true(v));
	if (json_is_array(v)) {
		size_t n = json_array_size(v);
		vkind elem = V_OTHER;
		for (size_t i = 0; i < n; i++) {
			json_t *e = json_array_get(v, i);
			vkind k = json_is_string(e) ? V_STR : json_is_integer(e) ? V_INT : V_OTHER;
			if (k == V_OTHER || (i > 0 && k != elem)) {
				rv o = {.k = V_OTHER};
				return o;
			}
			elem = k;
		}
		rv l = {.k = V_LIST, .elem = elem, .n = n, .arr = v};
		return l;
	}
	rv o = {.k = V_OTHER};
	return o;
}

static rv list_at(const rv *l, size_t i)
{
	if (l->arr)
		return of_json(json_array_get(l->arr, i));
	const tg_expr *e = l->items[i];
	if (e->kind == TG_E_STRING)
		return mk_str(e->u.str.s, e->u.str.len);
	return mk_int(e->u.i);
}

static bool same(const rv *a, const rv *b);

/* Elements of kinds a and b may be compared: equal, or one list empty. */
static bool elem_fits(vkind list_elem, vkind k)
{
	return list_elem == V_OTHER ? (k == V_STR || k == V_INT) : list_elem == k;
}

static bool same(const rv *a, const rv *b)
{
	if (a->k != b->k)
		return false;
	switch (a->k) {
	case V_STR:
		return str_eq(a->s, a->len, b->s, b->len);
	case V_INT:
		return a->i == b->i;
	case V_BOOL:
		return a->b == b->b;
	case V_LIST:
		if (a->n != b->n)
			return false;
		for (size_t i = 0; i < a->n; i++) {
			rv x = list_at(a, i), y = list_at(b, i);
			if (!same(&x, &y))
				return false;
		}
		return true;
	default:
		return false;
	}
}

static bool is_resource_method(const char *m)
{
	return !strcmp(m, "resources/read") || !strcmp(m, "resources/subscribe") ||
	       !strcmp(m, "resources/unsubscribe");
}

/* The declaration of the attribute at (root, fields), or NULL. */
static const tg_attr_decl *find_decl(const ctx *c, tg_root root, const tg_name *f, size_t nf)
{
	for (size_t i = 0; i < c->ast->nattr_decls; i++) {
		const tg_attr_decl *d = c->ast->attr_decls[i];
		if (d->path.root != root || d->path.nfields != nf)
			continue;
		size_t j = 0;
		while (j < nf && name_is(&d->path.fields[j], f[j].s, f[j].len))
			j++;
		if (j == nf)
			return d;
	}
	return NULL;
}

static json_t *root_object(const ctx *c, tg_root root)
{
	switch (root) {
	case TG_ROOT_PRINCIPAL:
		return c->principal;
	case TG_ROOT_TOKEN:
		return c->token;
	case TG_ROOT_CONTEXT:
		return c->context;
	case TG_ROOT_ARGS:
		return c->args;
	default:
		return NULL;
	}
}

/* The JSON value at root.f[0].f[1]..., or NULL when absent. */
static json_t *lookup(json_t *obj, const tg_name *f, size_t nf)
{
	for (size_t i = 0; i < nf; i++) {
		if (!json_is_object(obj))
			return NULL;
		/* keys never hold NUL; names are NUL-terminated */
		obj = json_object_get(obj, f[i].s);
	}
	return obj;
}

static rv lit_value(const tg_expr *e);

/* Checks a value read from a declared attribute against its declaration. */
static rv check_declared(const tg_attr_decl *d, rv v)
{
	bool ok;
	switch (d->type) {
	case TG_TY_STRING:
		ok = v.k == V_STR;
		break;
	case TG_TY_INT:
		ok = v.k == V_INT;
		break;
	case TG_TY_BOOL:
		ok = v.k == V_BOOL;
		break;
	case TG_TY_STRING_LIST:
		ok = v.k == V_LIST && (v.elem == V_STR || v.n == 0);
		break;
	case TG_TY_INT_LIST:
		ok = v.k == V_LIST && (v.elem == V_INT || v.n == 0);
		break;
	default:
		ok = false;
	}
	if (!ok)
		return ERR;
	if (!d->has_domain)
		return v;
	size_t n = v.k == V_LIST ? v.n : 1;
	for (size_t i = 0; i < n; i++) {
		rv x = v.k == V_LIST ? list_at(&v, i) : v;
		bool in = false;
		for (size_t j = 0; j < d->ndomain && !in; j++) {
			rv y = lit_value(d->domain[j]);
			in = y.k == x.k && same(&x, &y);
		}
		if (!in)
			return ERR;
	}
	return v;
}

static rv annotation(const ctx *c, const char *key)
{
	json_t *v = c->tool ? json_object_get(c->tool, key) : NULL;
	if (!json_is_boolean(v))
		return ERR;
	return mk_bool(json_is_true(v));
}

/* principal.roles, token.scopes: absent is empty. */
static rv empty_or_list(json_t *v)
{
	if (!v) {
		rv l = {.k = V_LIST, .elem = V_OTHER, .n = 0, .arr = NULL};
		return l;
	}
	return of_json(v);
}

static rv read_path(const ctx *c, const tg_path *p)
{
	const tg_name *f = p->fields;
	size_t nf = p->nfields;
	bool tools_call = !strcmp(c->method, "tools/call");

	switch (p->root) {
	case TG_ROOT_TOOL:
		if (!tools_call || nf != 1)
			return ERR;
		if (name_eq(&f[0], "name"))
			return mk_str(c->target, c->target_len);
		if (name_eq(&f[0], "server"))
			return c->server ? mk_str(c->server, c->server_len) : ERR;
		return annotation(c, f[0].s);
	case TG_ROOT_RESOURCE:
		if (!is_resource_method(c->method))
			return ERR;
		return mk_str(c->target, c->target_len);
	case TG_ROOT_PROMPT:
		if (strcmp(c->method, "prompts/get") != 0)
			return ERR;
		return mk_str(c->target, c->target_len);
	case TG_ROOT_REQUEST:
		return mk_str(c->method, strlen(c->method));
	case TG_ROOT_ARGS:
		if (c->vis)
			return UNK;
		break;
	case TG_ROOT_PRINCIPAL:
		if (nf == 1 && name_eq(&f[0], "id"))
			return of_json(json_object_get(c->principal, "id"));
		if (nf == 1 && name_eq(&f[0], "roles"))
			return empty_or_list(c->principal ? json_object_get(c->principal, "roles") : NULL);
		break;
	case TG_ROOT_TOKEN:
		if (nf == 1 && name_eq(&f[0], "scopes"))
			return empty_or_list(c->token ? json_object_get(c->token, "scopes") : NULL);
		break;
	default:
		break;
	}
	json_t *v = lookup(root_object(c, p->root), f, nf);
	if (!v)
		return ERR;
	rv x = of_json(v);
	const tg_attr_decl *d = find_decl(c, p->root, f, nf);
	return d ? check_declared(d, x) : x;
}

/* `base has field`: a bool, or UNK for args in visibility. */
static rv has(const ctx *c, const tg_path *base, const tg_name *field)
{
	size_t nf = base->nfields + 1;
	tg_name f[64];
	if (nf > 64)
		abort();
	for (size_t i = 0; i < base->nfields; i++)
		f[i] = base->fields[i];
	f[nf - 1] = *field;
	bool tools_call = !strcmp(c->method, "tools/call");

	switch (base->root) {
	case TG_ROOT_TOOL:
		if (!tools_call || nf != 1)
			return mk_bool(false);
		if (name_eq(&f[0], "name"))
			return mk_bool(true);
		if (name_eq(&f[0], "server"))
			return mk_bool(c->server != NULL);
		return mk_bool(c->tool && json_is_boolean(json_object_get(c->tool, f[0].s)));
	case TG_ROOT_RESOURCE:
		return mk_bool(nf == 1 && is_resource_method(c->method));
	case TG_ROOT_PROMPT:
		return mk_bool(nf == 1 && !strcmp(c->method, "prompts/get"));
	case TG_ROOT_REQUEST:
		return mk_bool(nf == 1);
	case TG_ROOT_ARGS:
		if (c->vis)
			return UNK;
		break;
	case TG_ROOT_PRINCIPAL:
		if (nf == 1 && (name_eq(&f[0], "roles") || name_eq(&f[0], "id")))
			return mk_bool(true);
		break;
	case TG_ROOT_TOKEN:
		if (nf == 1 && name_eq(&f[0], "scopes"))
			return mk_bool(true);
		break;
	default:
		break;
	}
	return mk_bool(lookup(root_object(c, base->root), f, nf) != NULL);
}

/* ---- roles ---------------------------------------------------------------- */

static const tg_role_decl *find_role(const tg_ast *ast, const char *s, size_t len)
{
	for (size_t i = 0; i < ast->nroles; i++)
		if (name_is(&ast->roles[i]->name, s, len))
			return ast->roles[i];
	return NULL;
}

/* Whether role `from` is or inherits role `want` (depth-first over parents;
 * the checker rejected cycles, the depth bound is a seatbelt). */
static bool reaches(const tg_ast *ast, const tg_role_decl *from, const tg_role_decl *want,
		    unsigned depth)
{
	if (from == want)
		return true;
	if (depth > ast->nroles)
		return false;
	for (size_t i = 0; i < from->nparents; i++) {
		const tg_role_decl *p = find_role(ast, from->parents[i].s, from->parents[i].len);
		if (p && reaches(ast, p, want, depth + 1))
			return true;
	}
	return false;
}

static bool holds(const ctx *c, const char *name, size_t len)
{
	const tg_role_decl *want = find_role(c->ast, name, len);
	json_t *roles = c->principal ? json_object_get(c->principal, "roles") : NULL;
	if (!want || !roles)
		return false;
	for (size_t i = 0; i < json_array_size(roles); i++) {
		json_t *r = json_array_get(roles, i);
		const tg_role_decl *d = find_role(c->ast, json_string_value(r), json_string_length(r));
		if (d && reaches(c->ast, d, want, 0))
			return true;
	}
	return false;
}

/* ---- expressions ---------------------------------------------------------- */

static rv lit_value(const tg_expr *e)
{
	while (e->kind == TG_E_PAREN)
		e = e->u.operand;
	switch (e->kind) {
	case TG_E_STRING:
		return mk_str(e->u.str.s, e->u.str.len);
	case TG_E_INT:
		return mk_int(e->u.i);
	case TG_E_BOOL:
		return mk_bool(e->u.b);
	default:
		return ERR;
	}
}

/* A comparison on two evaluated operands (neither ERR nor UNK). */
static rv compare(tg_cmp_op op, const rv *a, const rv *b)
{
	if (a->k == V_OTHER || b->k == V_OTHER)
		return ERR;
	switch (op) {
	case TG_CMP_EQ:
	case TG_CMP_NE: {
		if (a->k != b->k)
			return ERR;
		if (a->k == V_LIST && a->elem != b->elem && a->elem != V_OTHER && b->elem != V_OTHER)
			return ERR;
		bool eq = same(a, b);
		return mk_bool(op == TG_CMP_EQ ? eq : !eq);
	}
	case TG_CMP_LT:
	case TG_CMP_LE:
	case TG_CMP_GT:
	case TG_CMP_GE:
		if (a->k != V_INT || b->k != V_INT)
			return ERR;
		return mk_bool(op == TG_CMP_LT ? a->i < b->i : op == TG_CMP_LE ? a->i <= b->i :
			       op == TG_CMP_GT ? a->i > b->i : a->i >= b->i);
	case TG_CMP_IN:
	case TG_CMP_CONTAINS: {
		const rv *list = op == TG_CMP_IN ? b : a;
		const rv *x = op == TG_CMP_IN ? a : b;
		if (op == TG_CMP_CONTAINS && a->k == V_STR) {
			if (b->k != V_STR)
				return ERR;
			if (b->len == 0)
				return mk_bool(true);
			for (size_t i = 0; i + b->len <= a->len; i++)
				if (!memcmp(a->s + i, b->s, b->len))
					return mk_bool(true);
			return mk_bool(false);
		}
		if (list->k != V_LIST || !elem_fits(list->elem, x->k))
			return ERR;
		for (size_t i = 0; i < list->n; i++) {
			rv e = list_at(list, i);
			if (same(&e, x))
				return mk_bool(true);
		}
		return mk_bool(false);
	}
	case TG_CMP_LIKE:
		if (a->k != V_STR || b->k != V_STR)
			return ERR;
		return mk_bool(ref_glob_match(b->s, b->len, a->s, a->len));
	case TG_CMP_STARTS_WITH:
		if (a->k != V_STR || b->k != V_STR)
			return ERR;
		return mk_bool(b->len <= a->len && !memcmp(a->s, b->s, b->len));
	case TG_CMP_ENDS_WITH:
		if (a->k != V_STR || b->k != V_STR)
			return ERR;
		return mk_bool(b->len <= a->len && !memcmp(a->s + a->len - b->len, b->s, b->len));
	case TG_CMP_UNDER:
		if (a->k != V_STR || b->k != V_STR)
			return ERR;
		return under(a->s, a->len, b->s, b->len);
	case TG_CMP_MATCHES: {
		if (a->k != V_STR || b->k != V_STR)
			return ERR;
		int m = ref_regex_match(b->s, b->len, a->s, a->len);
		return m < 0 ? ERR : mk_bool(m);
	}
	}
	return ERR;
}

static rv eval(const ctx *c, const tg_expr *e);

/* A condition: true, false, ERR or UNK (a non-bool value is an error). */
static rv cond(const ctx *c, const tg_expr *e)
{
	rv v = eval(c, e);
	if (v.k == V_BOOL || v.k == V_UNK || v.k == V_ERR)
		return v;
	return ERR;
}

/* Kleene `and` with short-circuit, the right side given lazily by expr. */
static rv and_then(const ctx *c, rv l, const tg_expr *rhs, bool negate_rhs)
{
	if (l.k == V_ERR || (l.k == V_BOOL && !l.b))
		return l;
	rv r = cond(c, rhs);
	if (negate_rhs && r.k == V_BOOL)
		r.b = !r.b;
	if (r.k == V_ERR || (r.k == V_BOOL && !r.b))
		return r;
	if (l.k == V_UNK || r.k == V_UNK)
		return UNK;
	return mk_bool(true);
}

/* ---- `all/any value of args.PATH OP V` ------------------------------------------
 * Written from the language reference (§11), on the JSON text's tree: the
 * leaves are the strings and integers inside the subject, in document
 * order; only those of the comparison's type count; objects' keys never do;
 * more than 65,536 values under the subject is an error. */

static size_t json_count(json_t *j)
{
	size_t n = 0;
	if (json_is_object(j)) {
		const char *k;
		json_t *x;
		json_object_foreach(j, k, x)
			n += 1 + json_count(x);
	} else if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j); i++)
			n += 1 + json_count(json_array_get(j, i));
	}
	return n;
}

/* -1 error, 1 decided (a false for all, a true for any), 0 go on. */
static int walk_leaves(json_t *j, tg_cmp_op op, const rv *v, vkind want, bool all)
{
	if (json_is_object(j) || json_is_array(j)) {
		size_t n = json_is_array(j) ? json_array_size(j) : 0;
		void *it = json_is_object(j) ? json_object_iter(j) : NULL;
		for (size_t i = 0; json_is_array(j) ? i < n : it != NULL; i++) {
			json_t *x = json_is_array(j) ? json_array_get(j, i) : json_object_iter_value(it);
			if (json_is_object(j))
				it = json_object_iter_next(j, it);
			int r = walk_leaves(x, op, v, want, all);
			if (r)
				return r;
		}
		return 0;
	}
	rv x;
	if (want == V_STR && json_is_string(j))
		x = mk_str(json_string_value(j), json_string_length(j));
	else if (want == V_INT && json_is_integer(j))
		x = mk_int((int64_t)json_integer_value(j));
	else
		return 0;
	rv r = compare(op, &x, v);
	if (r.k == V_ERR)
		return -1;
	return r.b != all;
}

static rv values_quant(const ctx *c, const tg_expr *e)
{
	const tg_path *p = &e->u.quant.list->u.path;
	rv v = eval(c, e->u.quant.value);
	if (v.k == V_ERR)
		return ERR;
	json_t *subj = NULL;
	bool empty = false;	/* an absent args is {} */
	if (!c->vis) {
		subj = c->args;
		empty = !subj && p->nfields == 0;
		for (size_t i = 0; i < p->nfields && subj; i++)
			subj = json_is_object(subj) ? json_object_getn(subj, p->fields[i].s, p->fields[i].len)
						    : NULL;
		if (!empty && (!subj || !(json_is_object(subj) || json_is_array(subj))))
			return ERR;
	}
	if (c->vis || v.k == V_UNK)
		return UNK;
	tg_cmp_op op = e->u.quant.op;
	vkind want = V_STR;
	switch (op) {
	case TG_CMP_EQ:
	case TG_CMP_NE:
		if (v.k != V_STR && v.k != V_INT)
			return ERR;
		want = v.k;
		break;
	case TG_CMP_LT:
	case TG_CMP_LE:
	case TG_CMP_GT:
	case TG_CMP_GE:
		if (v.k != V_INT)
			return ERR;
		want = V_INT;
		break;
	case TG_CMP_IN:
		if (v.k != V_LIST || v.elem == V_OTHER)	/* the generator gives no empty list */
			return ERR;
		want = v.elem;
		break;
	case TG_CMP_CONTAINS:
	case TG_CMP_STARTS_WITH:
	case TG_CMP_ENDS_WITH:
		if (v.k != V_STR)
			return ERR;
		break;
	default:
		break;
	}
	if (empty)
		return mk_bool(e->u.quant.all);
	if (json_count(subj) > 65536)
		return ERR;
	int r = walk_leaves(subj, op, &v, want, e->u.quant.all);
	if (r < 0)
		return ERR;
	return mk_bool(r ? !e->u.quant.all : e->u.quant.all);
}

static rv eval(const ctx *c, const tg_expr *e)
{
	switch (e->kind) {
	case TG_E_PAREN:
		return eval(c, e->u.operand);
	case TG_E_AND:
		return and_then(c, cond(c, e->u.bin.lhs), e->u.bin.rhs, false);
	case TG_E_OR: {
		rv l = cond(c, e->u.bin.lhs);
		if (l.k == V_ERR || (l.k == V_BOOL && l.b))
			return l;
		rv r = cond(c, e->u.bin.rhs);
		if (r.k == V_ERR || (r.k == V_BOOL && r.b))
			return r;
		if (l.k == V_UNK || r.k == V_UNK)
			return UNK;
		return mk_bool(false);
	}
	case TG_E_NOT: {
		rv v = cond(c, e->u.operand);
		if (v.k == V_BOOL)
			v.b = !v.b;
		return v;
	}
	case TG_E_CMP: {
		rv a = eval(c, e->u.cmp.lhs), b = eval(c, e->u.cmp.rhs);
		if (a.k == V_ERR || b.k == V_ERR)
			return ERR;
		if (a.k == V_UNK || b.k == V_UNK)
			return UNK;
		return compare(e->u.cmp.op, &a, &b);
	}
	case TG_E_ADD:
	case TG_E_SUB: {
		rv a = eval(c, e->u.bin.lhs), b = eval(c, e->u.bin.rhs);
		if (a.k == V_ERR || b.k == V_ERR)
			return ERR;
		if (a.k == V_UNK || b.k == V_UNK)
			return UNK;
		if (a.k != V_INT || b.k != V_INT)
			return ERR;
		int64_t x = a.i, y = b.i;
		if (e->kind == TG_E_SUB) {
			if ((y < 0 && x > INT64_MAX + y) || (y > 0 && x < INT64_MIN + y))
				return ERR;
			return mk_int(x - y);
		}
		if ((y > 0 && x > INT64_MAX - y) || (y < 0 && x < INT64_MIN - y))
			return ERR;
		return mk_int(x + y);
	}
	case TG_E_HAS:
		return has(c, &e->u.has.base, &e->u.has.field);
	case TG_E_IS:
		return mk_bool(holds(c, e->u.is.role.s, e->u.is.role.len));
	case TG_E_QUANT: {
		if (e->u.quant.values)
			return values_quant(c, e);
		rv l = eval(c, e->u.quant.list), v = eval(c, e->u.quant.value);
		if (l.k == V_ERR || v.k == V_ERR)
			return ERR;
		if (l.k == V_UNK || v.k == V_UNK)
			return UNK;
		if (l.k != V_LIST)
			return ERR;
		bool all = e->u.quant.all;
		for (size_t i = 0; i < l.n; i++) {
			rv x = list_at(&l, i);
			rv r = compare(e->u.quant.op, &x, &v);
			if (r.k == V_ERR)
				return ERR;
			if (r.b != all)
				return mk_bool(!all);
		}
		return mk_bool(all);
	}
	case TG_E_PATH:
		return read_path(c, &e->u.path);
	case TG_E_STRING:
	case TG_E_INT:
	case TG_E_BOOL:
		return lit_value(e);
	case TG_E_SET:
		return e->u.set.list ? eval(c, e->u.set.list) : ERR;
	case TG_E_LIST: {
		rv l = {.k = V_LIST, .elem = V_OTHER, .n = e->u.list.n, .items = e->u.list.items};
		if (l.n > 0)
			l.elem = e->u.list.items[0]->kind == TG_E_STRING ? V_STR : V_INT;
		return l;
	}
	}
	return ERR;
}

/* ---- subjects and actions --------------------------------------------------- */

enum { NO = 0, YES = 1, YES_ERR = 2 };

static bool json_list_has(json_t *list, const char *s, size_t len)
{
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i);
		if (json_is_string(e) && str_eq(json_string_value(e), json_string_length(e), s, len))
			return true;
	}
	return false;
}

static int subject_match(const ctx *c, const tg_rule *r)
{
	const tg_subject *sj = &r->subject;
	json_t *v;
	switch (sj->kind) {
	case TG_SUBJ_ANYONE:
		return YES;
	case TG_SUBJ_ROLE:
		for (size_t i = 0; i < sj->n; i++)
			if (holds(c, sj->items[i].s, sj->items[i].len))
				return YES;
		return NO;
	case TG_SUBJ_SCOPE:
		v = c->token ? json_object_get(c->token, "scopes") : NULL;
		for (size_t i = 0; i < sj->n; i++)
			if (json_list_has(v, sj->items[i].s, sj->items[i].len))
				return YES;
		return NO;
	case TG_SUBJ_PRINCIPAL:
		v = json_object_get(c->principal, "id");
		for (size_t i = 0; i < sj->n; i++)
			if (str_eq(json_string_value(v), json_string_length(v), sj->items[i].s,
				   sj->items[i].len))
				return YES;
		return NO;
	case TG_SUBJ_CLIENT:
		v = c->token ? json_object_get(c->token, "client_id") : NULL;
		if (!json_is_string(v))
			return r->effect == TG_EFFECT_DENY ? YES_ERR : NO;
		for (size_t i = 0; i < sj->n; i++)
			if (str_eq(json_string_value(v), json_string_length(v), sj->items[i].s,
				   sj->items[i].len))
				return YES;
		return NO;
	}
	return NO;
}

static bool pattern_match(const ctx *c, const tg_pattern *p)
{
	if (!p->is_set)
		return ref_glob_match(p->text.s, p->text.len, c->target, c->target_len);
	for (size_t i = 0; i < c->ast->nsets; i++) {
		const tg_set_decl *s = c->ast->sets[i];
		if (!name_is(&s->name, p->text.s, p->text.len))
			continue;
		for (size_t j = 0; j < s->n; j++)
			if (ref_glob_match(s->items[j].s, s->items[j].len, c->target, c->target_len))
				return true;
		return false;
	}
	abort();	/* the checker resolved every set */
}

static bool patterns_match(const ctx *c, const tg_action *a)
{
	if (a->any)
		return true;
	for (size_t i = 0; i < a->n; i++)
		if (pattern_match(c, &a->items[i]))
			return true;
	return false;
}

static bool action_match(const ctx *c, const tg_action *a)
{
	const char *m = c->method;
	switch (a->kind) {
	case TG_ACT_CALL_TOOL:
		return !strcmp(m, "tools/call") && patterns_match(c, a);
	case TG_ACT_READ_RESOURCE:
		return is_resource_method(m) && patterns_match(c, a);
	case TG_ACT_GET_PROMPT:
		return !strcmp(m, "prompts/get") && patterns_match(c, a);
	case TG_ACT_LIST_TOOLS:
		return !strcmp(m, "tools/list");
	case TG_ACT_LIST_RESOURCES:
		return !strcmp(m, "resources/list");
	case TG_ACT_LIST_PROMPTS:
		return !strcmp(m, "prompts/list");
	case TG_ACT_LIST_RESOURCE_TEMPLATES:
		return !strcmp(m, "resources/templates/list");
	case TG_ACT_INVOKE:
		for (size_t i = 0; i < a->n; i++)
			if (ref_glob_match(a->items[i].text.s, a->items[i].text.len, m, strlen(m)))
				return true;
		return false;
	case TG_ACT_ANYTHING:
		return true;
	}
	return false;
}

/* ---- rules and decisions ---------------------------------------------------- */

/* A matched rule's outcome: V_BOOL, V_ERR or V_UNK; matched = false when
 * its subject or action did not match. */
static rv rule_outcome(const ctx *c, const tg_rule *r, bool *matched)
{
	int s = subject_match(c, r);
	*matched = s != NO && action_match(c, &r->action);
	if (!*matched)
		return mk_bool(false);
	if (s == YES_ERR)
		return ERR;
	rv v = mk_bool(true);
	for (size_t i = 0; i < r->nwhen; i++)
		v = and_then(c, v, r->when[i], false);
	for (size_t i = 0; i < r->nunless; i++)
		v = and_then(c, v, r->unless[i], true);
	return v;
}

static bool uri_invalid(const char *u, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++) {
		if (u[i] != '%')
			continue;
		char a = u[i + 1], b = (char)(u[i + 2] | 0x20);
		if ((a == '2' && (b == 'f' || b == 'e' || b == '5')) || (a == '5' && b == 'c'))
			return true;
	}
	/* the URI's path: up to a query or a fragment */
	for (size_t i = 0; i < len; i++)
		if (u[i] == '?' || u[i] == '#')
			len = i;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && u[i] != '/' && u[i] != '\\')
			continue;
		size_t n = i - start;
		if ((n == 1 && u[start] == '.') || (n == 2 && u[start] == '.' && u[start + 1] == '.'))
			return true;
		start = i + 1;
	}
	return false;
}

static json_t *obj(json_t *req, const char *key)
{
	json_t *v = json_object_get(req, key);
	return json_is_object(v) ? v : NULL;
}

static void fill_ctx(ctx *c, const tg_ast *ast, json_t *req)
{
	memset(c, 0, sizeof *c);
	c->ast = ast;
	c->principal = obj(req, "principal");
	c->token = obj(req, "token");
	c->context = obj(req, "context");
	c->args = obj(req, "args");
	c->tool = obj(req, "tool");
	c->method = json_string_value(json_object_get(req, "method"));
	json_t *t = json_object_get(req, "target");
	if (json_is_string(t)) {
		c->target = json_string_value(t);
		c->target_len = json_string_length(t);
	}
	json_t *s = json_object_get(req, "server");
	if (json_is_string(s)) {
		c->server = json_string_value(s);
		c->server_len = json_string_length(s);
	}
}

void ref_eval(const tg_ast *ast, json_t *req, ref_decision *out)
{
	ctx c;
	fill_ctx(&c, ast, req);
	memset(out, 0, sizeof *out);
	out->rule = -1;
	if (is_resource_method(c.method) && uri_invalid(c.target, c.target_len)) {
		out->invalid = true;
		return;
	}
	bool default_allow = ast->default_stmt &&
			     ast->default_stmt->u.default_effect == TG_EFFECT_ALLOW;
	size_t n = ast->nrules;
	rv *res = calloc(n + 1, sizeof *res);
	bool *matched = calloc(n + 1, sizeof *matched);
	if (!res || !matched)
		abort();
	int first_deny = -1, first_allow = -1;
	for (size_t i = 0; i < n; i++) {
		const tg_rule *r = ast->rules[i];
		res[i] = rule_outcome(&c, r, &matched[i]);
		if (!matched[i])
			continue;
		bool t = res[i].k == V_BOOL && res[i].b;
		if (r->effect == TG_EFFECT_DENY && (t || res[i].k == V_ERR) && first_deny < 0)
			first_deny = (int)i;
		if (r->effect == TG_EFFECT_ALLOW && t && first_allow < 0)
			first_allow = (int)i;
	}
	int decider = first_deny >= 0 ? first_deny : first_allow;
	out->rule = decider;
	out->allow = decider >= 0 ? first_deny < 0 : default_allow;
	size_t upto = decider >= 0 ? (size_t)decider + 1 : n;
	for (size_t i = 0; i < upto; i++) {
		bool listed = (int)i == decider ||
			      (matched[i] && ast->rules[i]->effect == TG_EFFECT_ALLOW);
		if (listed && matched[i] && res[i].k == V_ERR) {
			if (out->nerrors < REF_MAX_ERRORS)
				out->error_rules[out->nerrors] = (int)i;
			out->nerrors++;
		}
	}
	free(res);
	free(matched);
}

bool ref_visible(const tg_ast *ast, json_t *req, const ref_entry *en)
{
	ctx c;
	fill_ctx(&c, ast, req);
	c.vis = true;
	c.args = NULL;
	c.target = en->name;
	c.target_len = strlen(en->name);
	c.server = NULL;
	c.tool = NULL;
	json_t *tool = NULL;
	if (en->kind == REF_ENTRY_TOOL) {
		c.method = "tools/call";
		c.server = en->server;
		c.server_len = en->server ? strlen(en->server) : 0;
		tool = json_object();
		const char *keys[] = {"read_only", "destructive", "idempotent", "open_world"};
		int vals[] = {en->read_only, en->destructive, en->idempotent, en->open_world};
		for (int i = 0; i < 4; i++)
			if (vals[i] >= 0)
				json_object_set_new(tool, keys[i], json_boolean(vals[i]));
		c.tool = tool;
	} else if (en->kind == REF_ENTRY_RESOURCE) {
		c.method = "resources/read";
		if (uri_invalid(c.target, c.target_len))
			return false;
	} else {
		c.method = "prompts/get";
	}
	bool denied = false, allowed = ast->default_stmt &&
				       ast->default_stmt->u.default_effect == TG_EFFECT_ALLOW;
	for (size_t i = 0; i < ast->nrules; i++) {
		bool m;
		rv v = rule_outcome(&c, ast->rules[i], &m);
		if (!m)
			continue;
		bool t = v.k == V_BOOL && v.b;
		if (ast->rules[i]->effect == TG_EFFECT_DENY && (t || v.k == V_ERR))
			denied = true;
		if (ast->rules[i]->effect == TG_EFFECT_ALLOW && (t || v.k == V_UNK))
			allowed = true;
	}
	json_decref(tool);
	return !denied && allowed;
}
