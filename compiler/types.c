/*
 * types.c - types of conditions, and the literals checked at compile time.
 *
 * Each expression gets a static type bottom-up. ANY (an undeclared
 * attribute, checked when read at run time) is compatible with everything;
 * ERROR marks a subexpression already reported and is compatible with
 * everything too, so a mistake is reported once, where it is. Integer
 * literals and their sums are folded as they are typed so that an overflow
 * in a constant is a compile error rather than a run-time one.
 *
 * Literal checks: globs (`like`, tool/resource/prompt/method patterns, set
 * items) must compile; the directory of `under` must be absolute with no
 * empty, `.` or `..` segment; a literal compared with an attribute declared
 * `in [...]` must be one of its values.
 */
#include "check_internal.h"
#include "format.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct val {
	tg_type ty;
	bool konst;		/* an int known at compile time */
	int64_t v;
} val;

static val expr(tg_checker *c, tg_expr *e);

static bool is_list(tg_type t)
{
	return t == TG_TY_STRING_LIST || t == TG_TY_INT_LIST || t == TG_TY_EMPTY_LIST;
}

/* Whether t can stand where `want` is required. ANY and ERROR always can,
 * and anything can stand where ANY is wanted (the elements of `[]`). */
static bool fits(tg_type t, tg_type want)
{
	return t == want || t == TG_TY_ANY || t == TG_TY_ERROR || want == TG_TY_ANY;
}

static tg_type elem_type(tg_type t)
{
	switch (t) {
	case TG_TY_STRING_LIST:
		return TG_TY_STRING;
	case TG_TY_INT_LIST:
		return TG_TY_INT;
	case TG_TY_EMPTY_LIST:
	case TG_TY_ANY:
		return TG_TY_ANY;
	default:
		return TG_TY_ERROR;
	}
}

static const char *op_name(tg_cmp_op op)
{
	static const char *const names[] = {
		[TG_CMP_EQ] = "==", [TG_CMP_NE] = "!=", [TG_CMP_LT] = "<",
		[TG_CMP_LE] = "<=", [TG_CMP_GT] = ">", [TG_CMP_GE] = ">=",
		[TG_CMP_IN] = "in", [TG_CMP_CONTAINS] = "contains", [TG_CMP_LIKE] = "like",
		[TG_CMP_STARTS_WITH] = "starts_with", [TG_CMP_ENDS_WITH] = "ends_with",
		[TG_CMP_UNDER] = "under", [TG_CMP_MATCHES] = "matches",
	};
	return (size_t)op < sizeof names / sizeof names[0] && names[op] ? names[op] : "?";
}

static tg_expr *strip(tg_expr *e)
{
	while (e && (e->kind == TG_E_PAREN || (e->kind == TG_E_SET && e->u.set.list)))
		e = e->kind == TG_E_PAREN ? e->u.operand : e->u.set.list;
	return e;
}

static bool is_literal(const tg_expr *e)
{
	return e->kind == TG_E_STRING || e->kind == TG_E_INT || e->kind == TG_E_BOOL;
}

/* ---- literals ----------------------------------------------------------- */

/* A glob compiles when no `\\` is left without a character to escape and
 * the part from the first wildcard fits the matcher's state (the runtime's
 * TG_BC_GLOB_MAX). */
bool tg_check_glob(tg_checker *c, const tg_name *g, const char *what)
{
	size_t wild = SIZE_MAX;
	for (size_t i = 0; i < g->len; i++) {
		if (g->s[i] == '*' || g->s[i] == '?') {
			if (wild == SIZE_MAX)
				wild = i;
			continue;
		}
		if (g->s[i] != '\\')
			continue;
		if (i + 1 == g->len) {
			tg_diag *d = tg_error(c->diags, g->span, "%s ends with a lone '\\'", what);
			if (d)
				tg_diag_hint(c->diags, d,
					     "'\\' escapes the next character; to match a backslash write \"\\\\\\\\\"");
			return false;
		}
		i++;
	}
	if (wild != SIZE_MAX && g->len - wild > TG_BC_GLOB_MAX) {
		tg_diag *d = tg_error(c->diags, g->span,
				      "%s is too long: %zu bytes from its first wildcard, at most %u",
				      what, g->len - wild, (unsigned)TG_BC_GLOB_MAX);
		if (d)
			tg_diag_hint(c->diags, d, "split it into several patterns");
		return false;
	}
	return true;
}

static void check_dir(tg_checker *c, const tg_expr *lit)
{
	const char *s = lit->u.str.s;
	size_t len = lit->u.str.len;
	const char *shown = tg_check_show(c, s, len);
	tg_diag *d;
	if (!len || s[0] != '/') {
		d = tg_error(c->diags, lit->span, "'under' needs an absolute directory, found '%s'",
			     shown);
		if (d)
			tg_diag_hint(c->diags, d, "start it with '/'");
		return;
	}
	if (len == 1)
		return;
	size_t start = 1;
	for (size_t i = 1; i <= len; i++) {
		if (i < len && s[i] != '/')
			continue;
		size_t n = i - start;
		const char *seg = s + start;
		if (n == 0) {
			d = tg_error(c->diags, lit->span, "'under' directory '%s' has an empty segment",
				     shown);
			if (d)
				tg_diag_hint(c->diags, d, i == len ? "remove the trailing '/'"
								   : "remove the doubled '/'");
			return;
		}
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
			d = tg_error(c->diags, lit->span, "'under' directory '%s' has a '%.*s' segment",
				     shown, (int)n, seg);
			if (d)
				tg_diag_hint(c->diags, d, "write the directory in its normal form");
			return;
		}
		start = i + 1;
	}
}

static bool lit_equal(const tg_expr *a, const tg_expr *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case TG_E_STRING:
		return a->u.str.len == b->u.str.len &&
		       memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
	case TG_E_INT:
		return a->u.i == b->u.i;
	case TG_E_BOOL:
		return a->u.b == b->u.b;
	default:
		return false;
	}
}

static const char *lit_text(tg_checker *c, const tg_expr *e)
{
	switch (e->kind) {
	case TG_E_STRING:
		return tg_check_show(c, e->u.str.s, e->u.str.len);
	case TG_E_INT: {
		char *s = tg_arena_printf(c->arena, "%" PRId64, e->u.i);
		return s ? s : "?";
	}
	case TG_E_BOOL:
		return e->u.b ? "true" : "false";
	default:
		return "?";
	}
}

/* The declared domain an operand draws from, when it reads one. */
static tg_attr_decl *domain_of(tg_expr *e)
{
	e = strip(e);
	if (e && e->kind == TG_E_PATH && e->u.path.attr && e->u.path.attr->decl &&
	    e->u.path.attr->decl->has_domain)
		return e->u.path.attr->decl;
	return NULL;
}

static void check_in_domain(tg_checker *c, const tg_attr *a, tg_expr *lit)
{
	const tg_attr_decl *d = a->decl;
	lit = strip(lit);
	if (!lit)
		return;
	if (lit->kind == TG_E_LIST) {
		for (size_t i = 0; i < lit->u.list.n; i++)
			check_in_domain(c, a, lit->u.list.items[i]);
		return;
	}
	if (!is_literal(lit))
		return;
	for (size_t i = 0; i < d->ndomain; i++)
		if (lit_equal(lit, d->domain[i]))
			return;
	size_t cap = 64, len = 0;
	for (size_t i = 0; i < d->ndomain; i++)
		cap += strlen(lit_text(c, d->domain[i])) + 2;
	char *values = tg_check_alloc(c, cap);
	const char **cands = tg_check_alloc(c, (d->ndomain ? d->ndomain : 1) * sizeof *cands);
	if (!values || !cands)
		return;
	for (size_t i = 0; i < d->ndomain; i++) {
		const char *t = lit_text(c, d->domain[i]);
		cands[i] = t;
		len += (size_t)snprintf(values + len, cap - len, "%s%s", i ? ", " : "", t);
	}
	tg_diag *g = tg_error(c->diags, lit->span, "'%s' is not one of the declared values of %s: %s",
			      lit_text(c, lit), a->display, values);
	if (g && lit->kind == TG_E_STRING)
		tg_check_suggest(c, g, lit->u.str.s, lit->u.str.len, cands, d->ndomain);
}

void tg_check_domain(tg_checker *c, tg_attr_decl *d, const char *display)
{
	if (!d->has_domain)
		return;
	tg_type want = d->type;
	if (is_list(want))
		want = elem_type(want);
	for (size_t i = 0; i < d->ndomain; i++) {
		tg_expr *e = d->domain[i];
		if (!is_literal(e)) {
			tg_error(c->diags, e->span, "declared values of %s must be literals", display);
			continue;
		}
		val v = expr(c, e);
		if (v.ty != want)
			tg_error(c->diags, e->span,
				 "declared values of %s must be %s, found %s", display,
				 tg_check_type_name(want), tg_check_type_name(v.ty));
	}
}

/* ---- comparisons -------------------------------------------------------- */

/* One side of a comparison: the expression (for its span and literal
 * value) and its type, which for `all`/`any` is the list's element type. */
typedef struct side {
	tg_expr *e;
	tg_type ty;
} side;

static void need(tg_checker *c, side s, tg_type want, const char *fmt_op, const char *what)
{
	if (!fits(s.ty, want))
		tg_error(c->diags, s.e->span, "'%s' needs %s, found %s", fmt_op, what,
			 tg_check_type_name(s.ty));
}

/* The side to blame for a mismatch: a literal over an attribute. */
static tg_span blame(side l, side r, tg_span op_span)
{
	tg_expr *le = strip(l.e), *re = strip(r.e);
	if (is_literal(re) || re->kind == TG_E_LIST)
		return r.e->span;
	if (is_literal(le) || le->kind == TG_E_LIST)
		return l.e->span;
	return op_span;
}

static bool ok_type(tg_type t)
{
	return t != TG_TY_ERROR;
}

/*
 * Types `l OP r`. `elementwise` is set for `all/any L OP V`, where l stands
 * for each element of L (its type is the element type and l.e is L).
 */
static void check_cmp(tg_checker *c, tg_cmp_op op, tg_span op_span, side l, side r, bool elementwise)
{
	const char *on = op_name(op);
	if (!ok_type(l.ty) || !ok_type(r.ty)) {
		/* Still validate literal right sides that need it. */
		tg_expr *re = strip(r.e);
		if (op == TG_CMP_LIKE && r.e->kind == TG_E_STRING)
			tg_check_glob(c, &re->u.str, "glob");
		else if (op == TG_CMP_MATCHES && r.e->kind == TG_E_STRING)
			tg_check_regex(c, r.e);
		else if (op == TG_CMP_UNDER && r.e->kind == TG_E_STRING)
			check_dir(c, re);
		return;
	}
	tg_attr_decl *ld = domain_of(l.e), *rd = domain_of(r.e);
	switch (op) {
	case TG_CMP_EQ:
	case TG_CMP_NE: {
		bool same = l.ty == r.ty || l.ty == TG_TY_ANY || r.ty == TG_TY_ANY ||
			    (l.ty == TG_TY_EMPTY_LIST && is_list(r.ty)) ||
			    (r.ty == TG_TY_EMPTY_LIST && is_list(l.ty));
		if (!same) {
			tg_error(c->diags, blame(l, r, op_span), "cannot compare %s with %s",
				 tg_check_type_name(l.ty), tg_check_type_name(r.ty));
			return;
		}
		if (ld)
			check_in_domain(c, strip(l.e)->u.path.attr, r.e);
		if (rd && !elementwise)
			check_in_domain(c, strip(r.e)->u.path.attr, l.e);
		return;
	}
	case TG_CMP_LT:
	case TG_CMP_LE:
	case TG_CMP_GT:
	case TG_CMP_GE:
		if (!fits(l.ty, TG_TY_INT))
			need(c, l, TG_TY_INT, on, "ints");
		else
			need(c, r, TG_TY_INT, on, "ints");
		return;
	case TG_CMP_IN:
		if (is_list(l.ty) || l.ty == TG_TY_BOOL) {
			tg_error(c->diags, l.e->span, "'in' needs a string or an int on the left, found %s",
				 tg_check_type_name(l.ty));
			return;
		}
		if (!is_list(r.ty) && r.ty != TG_TY_ANY) {
			tg_error(c->diags, r.e->span, "'in' needs a list on the right, found %s",
				 tg_check_type_name(r.ty));
			return;
		}
		if (!fits(l.ty, elem_type(r.ty))) {
			tg_error(c->diags, blame(l, r, op_span), "cannot look for %s in %s",
				 tg_check_type_name(l.ty), tg_check_type_name(r.ty));
			return;
		}
		if (ld)
			check_in_domain(c, strip(l.e)->u.path.attr, r.e);
		if (rd && !elementwise)
			check_in_domain(c, strip(r.e)->u.path.attr, l.e);
		return;
	case TG_CMP_CONTAINS:
		if (is_list(r.ty) || r.ty == TG_TY_BOOL) {
			tg_error(c->diags, r.e->span,
				 "'contains' needs a string or an int on the right, found %s",
				 tg_check_type_name(r.ty));
			return;
		}
		if (l.ty == TG_TY_STRING) {
			if (!fits(r.ty, TG_TY_STRING))
				tg_error(c->diags, r.e->span,
					 "'contains' on a string needs a string, found %s",
					 tg_check_type_name(r.ty));
			return;
		}
		if (l.ty == TG_TY_ANY)
			return;
		if (!is_list(l.ty)) {
			tg_error(c->diags, l.e->span,
				 "'contains' needs a list or a string on the left, found %s",
				 tg_check_type_name(l.ty));
			return;
		}
		if (!fits(r.ty, elem_type(l.ty))) {
			tg_error(c->diags, blame(l, r, op_span), "cannot look for %s in %s",
				 tg_check_type_name(r.ty), tg_check_type_name(l.ty));
			return;
		}
		if (ld && !elementwise)
			check_in_domain(c, strip(l.e)->u.path.attr, r.e);
		return;
	case TG_CMP_STARTS_WITH:
	case TG_CMP_ENDS_WITH:
		if (!fits(l.ty, TG_TY_STRING))
			need(c, l, TG_TY_STRING, on, "strings");
		else
			need(c, r, TG_TY_STRING, on, "strings");
		return;
	case TG_CMP_LIKE:
	case TG_CMP_UNDER:
	case TG_CMP_MATCHES:
		need(c, l, TG_TY_STRING, on, "a string on the left");
		if (r.e->kind != TG_E_STRING) {
			tg_diag *d = tg_error(c->diags, r.e->span,
					      "the right side of '%s' must be a string literal", on);
			if (d)
				tg_diag_hint(c->diags, d, op == TG_CMP_LIKE ? "the glob is compiled with the policy"
						 : op == TG_CMP_MATCHES
						     ? "the regular expression is compiled with the policy"
						     : "the directory is checked with the policy");
			return;
		}
		if (op == TG_CMP_LIKE)
			tg_check_glob(c, &r.e->u.str, "glob");
		else if (op == TG_CMP_MATCHES)
			tg_check_regex(c, r.e);
		else
			check_dir(c, r.e);
		return;
	}
}

/* ---- value quantifiers --------------------------------------------------- */

/*
 * `all/any value of P OP V`. P must be args or a path under it (the only
 * object the request carries as a tree), and not a declared attribute
 * (declarations have no object type). The leaves compared are of one type
 * fixed by OP and V: ints for ordering, the elements' type for `in`, V's
 * type for == and !=, strings otherwise; so V is typed as in `all L OP V`
 * with L a list of that type.
 */
static void values_quant(tg_checker *c, tg_expr *e)
{
	tg_expr *subj = e->u.quant.list;
	tg_path *p = &subj->u.path;
	tg_cmp_op op = e->u.quant.op;
	const char *q = e->u.quant.all ? "all" : "any";
	val r = expr(c, e->u.quant.value);
	subj->type = TG_TY_ANY;
	if (p->root != TG_ROOT_ARGS) {
		tg_diag *d = tg_error(c->diags, p->span, "'%s value of' ranges over args, not %s", q,
				      tg_check_root_name(p->root));
		if (d)
			tg_diag_hint(c->diags, d, "the request carries the tool's arguments as a tree; "
				     "compare other attributes one by one");
		return;
	}
	tg_attr_decl *decl = p->nfields ? tg_check_attr_declared(c, p->root, p->fields, p->nfields)
					: NULL;
	if (decl) {
		tg_diag *d = tg_error(c->diags, p->span,
				      "'%s value of' needs an object or an array, and this path is "
				      "declared %s", q, tg_check_type_name(decl->type));
		if (d && is_list(decl->type))
			tg_diag_hint(c->diags, d, "for the elements of a list, write '%s %.*s %s ...'",
				     q, (int)(p->span.end - p->span.start), c->ast->src + p->span.start,
				     op_name(op));
		return;
	}
	tg_type et = TG_TY_STRING;
	switch (op) {
	case TG_CMP_LT:
	case TG_CMP_LE:
	case TG_CMP_GT:
	case TG_CMP_GE:
		et = TG_TY_INT;
		break;
	case TG_CMP_IN:
		et = is_list(r.ty) ? elem_type(r.ty) : TG_TY_ANY;
		break;
	case TG_CMP_EQ:
	case TG_CMP_NE:
		if (r.ty != TG_TY_STRING && r.ty != TG_TY_INT && r.ty != TG_TY_ANY &&
		    r.ty != TG_TY_ERROR) {
			tg_diag *d = tg_error(c->diags, e->u.quant.value->span,
					      "'%s value of' compares strings or ints, found %s", q,
					      tg_check_type_name(r.ty));
			if (d)
				tg_diag_hint(c->diags, d, is_list(r.ty)
						 ? "to compare each value with several, write 'in [...]'"
						 : "only string or int leaves are compared, never booleans");
			return;
		}
		et = r.ty;
		break;
	default:
		break;	/* string operators */
	}
	side ls = {subj, et}, rs = {e->u.quant.value, r.ty};
	check_cmp(c, op, e->u.quant.op_span, ls, rs, true);
}

/* ---- expressions -------------------------------------------------------- */

static void need_bool(tg_checker *c, const tg_expr *e, tg_type t, const char *op)
{
	if (!fits(t, TG_TY_BOOL))
		tg_error(c->diags, e->span, "'%s' needs bool operands, found %s", op,
			 tg_check_type_name(t));
}

static val arith(tg_checker *c, tg_expr *e)
{
	const char *on = e->kind == TG_E_ADD ? "+" : "-";
	val l = expr(c, e->u.bin.lhs), r = expr(c, e->u.bin.rhs);
	val out = {TG_TY_INT, false, 0};
	if (!fits(l.ty, TG_TY_INT)) {
		tg_error(c->diags, e->u.bin.lhs->span, "'%s' needs ints, found %s", on,
			 tg_check_type_name(l.ty));
		return out;
	}
	if (!fits(r.ty, TG_TY_INT)) {
		tg_error(c->diags, e->u.bin.rhs->span, "'%s' needs ints, found %s", on,
			 tg_check_type_name(r.ty));
		return out;
	}
	if (!l.konst || !r.konst)
		return out;
	bool overflow;
	if (e->kind == TG_E_ADD) {
		overflow = (r.v > 0 && l.v > INT64_MAX - r.v) || (r.v < 0 && l.v < INT64_MIN - r.v);
		if (!overflow)
			out.v = l.v + r.v;
	} else {
		overflow = (r.v < 0 && l.v > INT64_MAX + r.v) || (r.v > 0 && l.v < INT64_MIN + r.v);
		if (!overflow)
			out.v = l.v - r.v;
	}
	if (overflow) {
		tg_diag *d = tg_error(c->diags, e->span, "integer overflow in constant expression");
		if (d)
			tg_diag_hint(c->diags, d, "ints are 64-bit: from %" PRId64 " to %" PRId64,
				     INT64_MIN, INT64_MAX);
		return out;
	}
	out.konst = true;
	return out;
}

static val list(tg_checker *c, tg_expr *e)
{
	val out = {TG_TY_EMPTY_LIST, false, 0};
	tg_type first = TG_TY_ERROR;
	bool bad = false;
	for (size_t i = 0; i < e->u.list.n; i++) {
		tg_expr *it = e->u.list.items[i];
		val v = expr(c, it);
		if (v.ty == TG_TY_ERROR) {
			bad = true;
			continue;
		}
		if (!is_literal(it)) {
			tg_error(c->diags, it->span, "list items must be string or int literals");
			bad = true;
		} else if (v.ty != TG_TY_STRING && v.ty != TG_TY_INT) {
			tg_error(c->diags, it->span, "lists hold strings or ints, found %s",
				 tg_check_type_name(v.ty));
			bad = true;
		} else if (first == TG_TY_ERROR) {
			first = v.ty;
		} else if (v.ty != first) {
			tg_error(c->diags, it->span, "list mixes %s and %s",
				 tg_check_type_name(first), tg_check_type_name(v.ty));
			bad = true;
		}
	}
	if (bad)
		out.ty = TG_TY_ERROR;
	else if (first == TG_TY_STRING)
		out.ty = TG_TY_STRING_LIST;
	else if (first == TG_TY_INT)
		out.ty = TG_TY_INT_LIST;
	return out;
}

/*
 * `context.x-agent-name`: a subtraction of bare names from a path, written
 * without spaces, is a dashed key written as a path. Reports it once, with
 * the bracketed spelling, and returns true.
 */
static bool dashed_key(tg_checker *c, tg_expr *e)
{
	const tg_expr *x = e;
	while (x->kind == TG_E_SUB && x->u.bin.rhs->kind == TG_E_SET)
		x = x->u.bin.lhs;
	if (x == e || x->kind != TG_E_PATH || !x->u.path.nfields)
		return false;
	const char *src = c->ast->src;
	for (uint32_t i = e->span.start; i < e->span.end; i++)
		if (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r' ||
		    src[i] == '#')
			return false;
	const tg_name *last = &x->u.path.fields[x->u.path.nfields - 1];
	if (last->span.start == 0 || src[last->span.start - 1] != '.')
		return false;
	int head = (int)(last->span.start - 1 - e->span.start);
	int key = (int)(e->span.end - last->span.start);
	tg_diag *d = tg_error(c->diags, e->span, "'%.*s' subtracts names; a key with '-' is not "
			      "a field name", (int)(e->span.end - e->span.start), src + e->span.start);
	if (d)
		tg_diag_hint(c->diags, d, "write %.*s[\"%.*s\"]", head, src + e->span.start, key,
			     src + last->span.start);
	return true;
}

/* The glob metacharacter in s, or 0: a set holding one is a pattern set. */
static char glob_meta(const tg_name *s)
{
	for (size_t i = 0; i < s->len; i++)
		if (s->s[i] == '*' || s->s[i] == '?' || s->s[i] == '\\')
			return s->s[i];
	return 0;
}

/*
 * A declared set used as a value: it stands for the list literal of its
 * strings (e->u.set.list, which codegen and the lints use in its place), so
 * the bytecode is the literal's. A set with a glob metacharacter in any
 * element is a pattern set: a value would compare its patterns as text.
 */
static val set_value(tg_checker *c, tg_expr *e)
{
	val out = {TG_TY_ERROR, false, 0};
	const tg_name *n = &e->u.set.name;
	int k = tg_check_map_get(&c->sets, n->s, n->len);
	if (k < 0) {
		const char *name = tg_check_show(c, n->s, n->len);
		tg_diag *d = tg_error(c->diags, n->span, "unknown set '%s'", name);
		if (d && !tg_check_suggest(c, d, n->s, n->len, c->set_names, c->nset_names))
			tg_diag_hint(c->diags, d, "a bare name in a condition is a set; to compare "
				     "with the text itself, quote it: \"%s\"", name);
		return out;
	}
	tg_set_decl *s = c->ast->sets[k];
	e->u.set.decl = s;
	s->used = true;
	for (size_t i = 0; i < s->n; i++) {
		char m = glob_meta(&s->items[i]);
		if (!m)
			continue;
		const char *name = tg_check_show(c, n->s, n->len);
		tg_diag *d = tg_error(c->diags, n->span, "set '%s' holds glob patterns and cannot be "
				      "used as a value", name);
		if (d)
			tg_diag_hint(c->diags, d, "\"%s\" (line %u) has '%c'; a pattern set is only "
				     "for 'call tool', 'read resource' and 'get prompt'; match a value "
				     "against one pattern with 'like'",
				     tg_check_show(c, s->items[i].s, s->items[i].len),
				     tg_check_line(c, s->items[i].span.start), m);
		return out;
	}
	tg_expr *l = tg_check_alloc(c, sizeof *l);
	tg_expr **items = tg_check_alloc(c, (s->n ? s->n : 1) * sizeof *items);
	if (!l || !items)
		return out;
	for (size_t i = 0; i < s->n; i++) {
		tg_expr *it = tg_check_alloc(c, sizeof *it);
		if (!it)
			return out;
		it->kind = TG_E_STRING;
		it->span = n->span;
		it->u.str = s->items[i];
		it->u.str.span = n->span;
		items[i] = it;
	}
	l->kind = TG_E_LIST;
	l->span = n->span;
	l->u.list.items = items;
	l->u.list.n = s->n;
	e->u.set.list = l;
	return list(c, l);
}

static tg_type path(tg_checker *c, tg_path *p)
{
	/* A bare root is a syntax error the parser has already reported. */
	if (!p->nfields)
		return TG_TY_ERROR;
	p->attr = tg_check_attr_ref(c, p->root, p->fields, p->nfields, NULL, p->span);
	if (!p->attr)
		return TG_TY_ERROR;
	p->attr->used = true;
	return p->attr->type;
}

static bool span_is(const tg_checker *c, tg_span s, const char *text)
{
	size_t n = strlen(text);
	return s.end >= s.start && s.end - s.start == n && s.end <= c->ast->len &&
	       memcmp(c->ast->src + s.start, text, n) == 0;
}

static val expr(tg_checker *c, tg_expr *e)
{
	val v = {TG_TY_BOOL, false, 0};
	if (!e) {
		/* Left out by syntax-error recovery. */
		v.ty = TG_TY_ERROR;
		return v;
	}
	switch (e->kind) {
	case TG_E_OR:
	case TG_E_AND: {
		const char *op = e->kind == TG_E_OR ? "or" : "and";
		val l = expr(c, e->u.bin.lhs), r = expr(c, e->u.bin.rhs);
		need_bool(c, e->u.bin.lhs, l.ty, op);
		need_bool(c, e->u.bin.rhs, r.ty, op);
		break;
	}
	case TG_E_NOT: {
		val o = expr(c, e->u.operand);
		if (!fits(o.ty, TG_TY_BOOL))
			tg_error(c->diags, e->u.operand->span, "'not' needs a bool, found %s",
				 tg_check_type_name(o.ty));
		break;
	}
	case TG_E_PAREN:
		v = expr(c, e->u.operand);
		break;
	case TG_E_ADD:
	case TG_E_SUB:
		if (e->kind == TG_E_SUB && dashed_key(c, e)) {
			v.ty = TG_TY_ERROR;
			break;
		}
		v = arith(c, e);
		break;
	case TG_E_CMP: {
		val l = expr(c, e->u.cmp.lhs), r = expr(c, e->u.cmp.rhs);
		side ls = {e->u.cmp.lhs, l.ty}, rs = {e->u.cmp.rhs, r.ty};
		check_cmp(c, e->u.cmp.op, e->u.cmp.op_span, ls, rs, false);
		break;
	}
	case TG_E_QUANT: {
		if (e->u.quant.values) {
			values_quant(c, e);
			break;
		}
		val l = expr(c, e->u.quant.list), r = expr(c, e->u.quant.value);
		tg_type et = elem_type(l.ty);
		if (l.ty != TG_TY_ERROR && et == TG_TY_ERROR)
			tg_error(c->diags, e->u.quant.list->span, "'%s' needs a list, found %s",
				 e->u.quant.all ? "all" : "any", tg_check_type_name(l.ty));
		side ls = {e->u.quant.list, et}, rs = {e->u.quant.value, r.ty};
		check_cmp(c, e->u.quant.op, e->u.quant.op_span, ls, rs, true);
		break;
	}
	case TG_E_HAS: {
		tg_path *b = &e->u.has.base;
		e->u.has.attr = tg_check_attr_ref(c, b->root, b->fields, b->nfields,
						  &e->u.has.field, e->u.has.field.span);
		if (e->u.has.attr)
			e->u.has.attr->used = true;
		break;
	}
	case TG_E_IS:
		if (!span_is(c, e->u.is.principal_span, "principal")) {
			tg_diag *d = tg_error(c->diags, e->u.is.principal_span,
					      "'is' applies only to principal");
			if (d)
				tg_diag_hint(c->diags, d, "write 'principal is ROLE'");
		}
		e->u.is.role_index = tg_check_role_ref(c, &e->u.is.role);
		break;
	case TG_E_PATH:
		v.ty = path(c, &e->u.path);
		break;
	case TG_E_STRING:
		v.ty = TG_TY_STRING;
		break;
	case TG_E_INT:
		v.ty = TG_TY_INT;
		v.konst = true;
		v.v = e->u.i;
		break;
	case TG_E_BOOL:
		v.ty = TG_TY_BOOL;
		break;
	case TG_E_LIST:
		v = list(c, e);
		break;
	case TG_E_SET:
		v = set_value(c, e);
		break;
	}
	e->type = v.ty;
	return v;
}

void tg_check_rule_exprs(tg_checker *c, tg_rule *r)
{
	for (size_t pass = 0; pass < 2; pass++) {
		tg_expr **es = pass ? r->unless : r->when;
		size_t n = pass ? r->nunless : r->nwhen;
		for (size_t i = 0; i < n && !c->oom; i++) {
			val v = expr(c, es[i]);
			if (!fits(v.ty, TG_TY_BOOL)) {
				tg_diag *d = tg_error(c->diags, es[i]->span,
						      "'%s' condition must be bool, found %s",
						      pass ? "unless" : "when", tg_check_type_name(v.ty));
				const tg_expr *x = es[i];
				while (x->kind == TG_E_PAREN)
					x = x->u.operand;
				if (d && x->kind == TG_E_SET)
					tg_diag_hint(c->diags, d, "a set is a list of values, not a condition; "
						     "test membership with 'X in %s'",
						     tg_check_show(c, x->u.set.name.s, x->u.set.name.len));
			}
		}
	}
}
