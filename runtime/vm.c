/*
 * vm.c - the interpreter: one rule's condition on a small stack machine.
 *
 * The code of a rule is straight-line with forward jumps for short-circuit
 * `and`/`or` (opcodes.def has the instruction set). It was verified at load
 * time, so operands index the policy without checks and the stack stays in
 * bounds; the guards left in here turn an impossible state into an
 * internal error (deny), never a crash.
 *
 * Fail closed: reading an absent attribute, a value of the wrong type or
 * outside its declared domain, an operator on the wrong types, an integer
 * overflow, an unclean path under `under` - each is an error that ends the
 * condition at once (DESIGN "Decision" 1: an error makes the whole
 * condition an error unless short-circuit skipped it). In visibility mode
 * `args` reads yield UNKNOWN, which operators propagate (Kleene logic for
 * and/or/not), while errors on the other operand still count.
 *
 * Dispatch goes through vmcase/vmbreak so a computed-goto table could
 * replace the switch; no benchmark has asked for it (bench/RESULTS.md:
 * the switch's own cost is a few instructions of ~18 per dispatch). The
 * fused comparisons (opcodes.def rows 28-31) do in one dispatch what
 * three instructions do, through the same load and compare code.
 *
 * Most conditions never reach the loop: quick.c translates them at load
 * into quick programs (vm.h), decision graphs of tests run at the end of
 * this file with the same load and compare helpers; whatever they do not
 * expect sends the rule back here.
 */
#include "keytab.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

#define vmdispatch(op) switch (op)
#define vmcase(name) case TG_OP_##name:
#define vmbreak break

static const char *const builtin_names[] = {
	[TG_BI_PRINCIPAL_ID] = "principal.id",
	[TG_BI_PRINCIPAL_ROLES] = "principal.roles",
	[TG_BI_TOKEN_SCOPES] = "token.scopes",
	[TG_BI_TOOL_NAME] = "tool.name",
	[TG_BI_TOOL_SERVER] = "tool.server",
	[TG_BI_TOOL_READ_ONLY] = "tool.read_only",
	[TG_BI_TOOL_DESTRUCTIVE] = "tool.destructive",
	[TG_BI_TOOL_IDEMPOTENT] = "tool.idempotent",
	[TG_BI_TOOL_OPEN_WORLD] = "tool.open_world",
	[TG_BI_RESOURCE_URI] = "resource.uri",
	[TG_BI_PROMPT_NAME] = "prompt.name",
	[TG_BI_REQUEST_METHOD] = "request.method",
};

void tg_vm_say(tg_vm *vm, const char *a, const char *b, const char *c, const char *d)
{
	const char *parts[4] = { a, b, c, d };
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		if (!parts[i])
			continue;
		/* libc's strlen and memcpy: errors are common in fail-closed
		 * policies (an absent argument), a byte loop was 3 % of saas */
		size_t len = strlen(parts[i]);
		if (len > sizeof vm->msg - 1 - n)
			len = sizeof vm->msg - 1 - n;
		memcpy(vm->msg + n, parts[i], len);
		n += len;
	}
	vm->msg[n] = 0;
}

static const char *origin_name(const tg_vm *vm, uint16_t origin)
{
	if (origin & TG_VM_ORIGIN_BUILTIN) {
		unsigned bi = origin & ~TG_VM_ORIGIN_BUILTIN;
		return bi <= TG_BI_LAST ? builtin_names[bi] : NULL;
	}
	if (origin == 0 || origin - 1u >= vm->l->nslots)
		return NULL;
	return tg_pol_cstr(vm->l, tg_rd32(vm->l->slots + (size_t)(origin - 1) * TG_BC_SLOT_SIZE + 4));
}

static bool is_list(const tg_vm_val *v)
{
	return v->t == TG_V_LSTR || v->t == TG_V_LINT || v->t == TG_V_PSTR || v->t == TG_V_PINT;
}

static bool is_strs(const tg_vm_val *v)
{
	return v->t == TG_V_LSTR || v->t == TG_V_PSTR;
}

static const char *type_name(const tg_vm_val *v)
{
	switch (v->t) {
	case TG_V_BOOL: return "a bool";
	case TG_V_INT: return "an int";
	case TG_V_STR: return "a string";
	case TG_V_LSTR:
	case TG_V_PSTR: return "a list<string>";
	case TG_V_LINT:
	case TG_V_PINT: return "a list<int>";
	default: return "a value of another type";
	}
}

/* "'args.limit' is a string, expected an int" */
static int type_err(tg_vm *vm, const tg_vm_val *v, const char *expected)
{
	const char *name = origin_name(vm, v->origin);
	char head[TG_ERROR_MESSAGE_MAX];
	size_t n = 0;
	const char *parts[3] = { name ? "'" : "", name ? name : "", name ? "' is " : "" };
	for (int i = 0; i < 3; i++)
		for (const char *s = parts[i]; *s && n + 1 < sizeof head; s++)
			head[n++] = *s;
	head[n] = 0;
	if (name)
		tg_vm_say(vm, head, type_name(v), ", expected ", expected);
	else
		tg_vm_say(vm, "type mismatch: got ", type_name(v), ", expected ", expected);
	return -1;
}

static inline tg_str elem_str(const tg_vm *vm, const tg_vm_val *v, size_t i)
{
	if (v->t == TG_V_LSTR)
		return v->u.strs[i];
	return tg_pol_str(vm->l, tg_pol_ref(vm->l, v->u.first + (uint32_t)i));
}

static inline int64_t elem_int(const tg_vm *vm, const tg_vm_val *v, size_t i)
{
	if (v->t == TG_V_LINT)
		return v->u.ints[i];
	return tg_pol_int(vm->l, v->u.first + (uint32_t)i);
}

static tg_vm_val elem(const tg_vm *vm, const tg_vm_val *list, size_t i)
{
	tg_vm_val e;
	memset(&e, 0, sizeof e);
	e.origin = list->origin;
	if (is_strs(list)) {
		tg_str s = elem_str(vm, list, i);
		e.t = TG_V_STR;
		e.u.s = s.ptr ? s.ptr : "";	/* a request's empty string may have no bytes */
		e.n = (uint32_t)s.len;
	} else {
		e.t = TG_V_INT;
		e.u.i = elem_int(vm, list, i);
	}
	return e;
}

/* Policy and request strings compared here are mostly a few bytes long:
 * below 64 word compares inline cost less than the call to memcmp. */
static inline bool str_eq(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	if (an >= 64)
		return memcmp(a, b, an) == 0;
	return tg_bytes_eq(a, b, an);
}

/* Substring search. O(|hay| x |needle|) at worst; both are bounded by the
 * request's string limit. */
static bool has_substring(const char *h, size_t hn, const char *nd, size_t nn)
{
	if (nn == 0)
		return true;
	for (size_t i = 0; i + nn <= hn; i++) {
		const char *p = memchr(h + i, nd[0], hn - nn - i + 1);
		if (!p)
			return false;
		i = (size_t)(p - h);
		if (memcmp(p, nd, nn) == 0)
			return true;
	}
	return false;
}

/* Some items[i] == s: `in` and `contains` on a request's list of strings
 * (list_has, and the quick tests without compare()'s type dispatch). */
static bool strs_have(const tg_str *items, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (str_eq(items[i].ptr, items[i].len, s, len))
			return true;
	return false;
}

static bool list_has(const tg_vm *vm, const tg_vm_val *list, const tg_vm_val *x)
{
	if (x->t != TG_V_STR) {
		for (size_t i = 0; i < list->n; i++)
			if (elem_int(vm, list, i) == x->u.i)
				return true;
		return false;
	}
	if (list->t == TG_V_LSTR)
		return strs_have(list->u.strs, list->n, x->u.s, x->n);
	for (size_t i = 0; i < list->n; i++) {
		tg_str s = elem_str(vm, list, i);
		if (str_eq(s.ptr, s.len, x->u.s, x->n))
			return true;
	}
	return false;
}

/* Element type check for `x in list` / `list contains x`: 0 ok, -1 error. */
static int member_types(tg_vm *vm, const tg_vm_val *list, const tg_vm_val *x)
{
	if (!is_list(list))
		return type_err(vm, list, "a list");
	if (x->t != TG_V_STR && x->t != TG_V_INT)
		return type_err(vm, x, "a string or an int");
	if (list->n && (x->t == TG_V_STR) != is_strs(list))
		return type_err(vm, x, is_strs(list) ? "a string" : "an int");
	return 0;
}

static int compare_eq(tg_vm *vm, const tg_vm_val *a, const tg_vm_val *b)
{
	if (is_list(a) && is_list(b)) {
		if (a->n == 0 || b->n == 0)
			return a->n == b->n;
		if (is_strs(a) != is_strs(b))
			return type_err(vm, b, type_name(a));
		if (a->n != b->n)
			return 0;
		for (size_t i = 0; i < a->n; i++) {
			tg_vm_val x = elem(vm, a, i), y = elem(vm, b, i);
			if (x.t == TG_V_STR ? !str_eq(x.u.s, x.n, y.u.s, y.n) : x.u.i != y.u.i)
				return 0;
		}
		return 1;
	}
	if (a->t == TG_V_OTHER)
		return type_err(vm, a, type_name(b));
	if (a->t != b->t)
		return type_err(vm, b, type_name(a));
	switch (a->t) {
	case TG_V_BOOL: return a->b == b->b;
	case TG_V_INT: return a->u.i == b->u.i;
	case TG_V_STR: return str_eq(a->u.s, a->n, b->u.s, b->n);
	default: return type_err(vm, a, "a comparable value");
	}
}

/* a OP b: 1 true, 0 false, -1 error (vm->msg set). */
static int compare(tg_vm *vm, unsigned op, const tg_vm_val *a, const tg_vm_val *b)
{
	int r;
	switch (op) {
	case TG_BC_EQ:
		return compare_eq(vm, a, b);
	case TG_BC_NE:
		r = compare_eq(vm, a, b);
		return r < 0 ? r : !r;
	case TG_BC_LT:
	case TG_BC_LE:
	case TG_BC_GT:
	case TG_BC_GE:
		if (a->t != TG_V_INT)
			return type_err(vm, a, "an int");
		if (b->t != TG_V_INT)
			return type_err(vm, b, "an int");
		switch (op) {
		case TG_BC_LT: return a->u.i < b->u.i;
		case TG_BC_LE: return a->u.i <= b->u.i;
		case TG_BC_GT: return a->u.i > b->u.i;
		default: return a->u.i >= b->u.i;
		}
	case TG_BC_IN:
		if (member_types(vm, b, a))
			return -1;
		return list_has(vm, b, a);
	case TG_BC_CONTAINS:
		if (a->t == TG_V_STR) {
			if (b->t != TG_V_STR)
				return type_err(vm, b, "a string");
			return has_substring(a->u.s, a->n, b->u.s, b->n);
		}
		if (member_types(vm, a, b))
			return -1;
		return list_has(vm, a, b);
	case TG_BC_STARTS_WITH:
	case TG_BC_ENDS_WITH:
		if (a->t != TG_V_STR)
			return type_err(vm, a, "a string");
		if (b->t != TG_V_STR)
			return type_err(vm, b, "a string");
		if (b->n > a->n)
			return 0;
		return op == TG_BC_STARTS_WITH ? str_eq(a->u.s, b->n, b->u.s, b->n)
					       : str_eq(a->u.s + (a->n - b->n), b->n, b->u.s, b->n);
	}
	tg_vm_say(vm, "internal error: bad comparison", NULL, NULL, NULL);
	vm->internal = true;
	return -1;
}

static int like(tg_vm *vm, uint32_t pat, const tg_vm_val *a)
{
	if (a->t != TG_V_STR)
		return type_err(vm, a, "a string");
	return tg_pattern_match(vm->l, pat, a->u.s, a->n);
}

static int match(tg_vm *vm, uint32_t dfa, const tg_vm_val *a)
{
	if (a->t != TG_V_STR)
		return type_err(vm, a, "a string");
	return tg_dfa_match(vm->l, dfa, a->u.s, a->n);
}

static int under(tg_vm *vm, uint32_t dir, const tg_vm_val *a)
{
	if (a->t != TG_V_STR)
		return type_err(vm, a, "a string");
	tg_str d = tg_pol_str(vm->l, dir);
	int r = tg_under(a->u.s, a->n, d.ptr, d.len);
	if (r < 0) {
		const char *name = origin_name(vm, a->origin);
		if (name)
			tg_vm_say(vm, "'", name, "' is not a clean absolute path", NULL);
		else
			tg_vm_say(vm, "not a clean absolute path", NULL, NULL, NULL);
	}
	return r;
}

/* all/any over list a: kind 0 CMP with b, 1 LIKE pattern, 2 UNDER dir,
 * 3 MATCH dfa. */
static int quantify(tg_vm *vm, bool all, int kind, unsigned arg, const tg_vm_val *a,
		    const tg_vm_val *b)
{
	if (!is_list(a))
		return type_err(vm, a, "a list");
	for (size_t i = 0; i < a->n; i++) {
		tg_vm_val e = elem(vm, a, i);
		int r = kind == 0   ? compare(vm, arg, &e, b)
			: kind == 1 ? like(vm, arg, &e)
			: kind == 2 ? under(vm, arg, &e)
				    : match(vm, arg, &e);
		if (r < 0)
			return r;
		if (all && !r)
			return 0;
		if (!all && r)
			return 1;
	}
	return all;
}

/* The value type each declared attribute type wants (TG_ATTR_ANY: any). */
static const uint8_t declared_vtype[TG_BC_TYPE_LAST + 1] = {
	[TG_ATTR_ANY] = TG_V_OTHER,
	[TG_ATTR_STRING] = TG_V_STR,
	[TG_ATTR_INT] = TG_V_INT,
	[TG_ATTR_BOOL] = TG_V_BOOL,
	[TG_ATTR_STRING_LIST] = TG_V_LSTR,
	[TG_ATTR_INT_LIST] = TG_V_LINT,
};

static int slot_error(tg_vm *vm, const unsigned char *s, const char *what)
{
	tg_vm_say(vm, "'", tg_pol_cstr(vm->l, tg_rd32(s + 4)), what, NULL);
	return -1;
}

static int check_domain_other(tg_vm *vm, const unsigned char *s, unsigned type,
			      const tg_vm_val *out)
{
	tg_vm_val dom;
	dom.u.first = tg_rd32(s + 16);
	dom.n = tg_rd32(s + 20);
	dom.origin = 0;
	dom.t = (type == TG_ATTR_STRING || type == TG_ATTR_STRING_LIST) ? TG_V_PSTR : TG_V_PINT;
	if (is_list(out)) {
		for (size_t k = 0; k < out->n; k++) {
			tg_vm_val e = elem(vm, out, k);
			if ((e.t == TG_V_STR) == (dom.t == TG_V_PSTR) && !list_has(vm, &dom, &e))
				return slot_error(vm, s, "' is outside its declared domain");
		}
	} else if (out->t == TG_V_INT && dom.t == TG_V_PINT && !list_has(vm, &dom, out)) {
		return slot_error(vm, s, "' is outside its declared domain");
	}
	return 0;
}

/* A value of slot s (declared type `type`, domain first df, n dn) is in
 * the domain: 0, or -1 with the error said. The common case, a string
 * attribute, is a loop of its own without list_has's per-element dispatch
 * and the list cases' frame, in line (a call: 4-7 instructions more). */
static TG_ALWAYS_INLINE int check_domain(tg_vm *vm, const unsigned char *s, unsigned type,
					const tg_vm_val *out)
{
	if (out->t != TG_V_STR || (type != TG_ATTR_STRING && type != TG_ATTR_STRING_LIST))
		return check_domain_other(vm, s, type, out);
	for (uint32_t k = tg_rd32(s + 16), end = k + tg_rd32(s + 20); k < end; k++) {
		tg_str d = tg_pol_str(vm->l, tg_pol_ref(vm->l, k));
		if (d.len == out->n && tg_bytes_eq(d.ptr, out->u.s, d.len))
			return 0;
	}
	return slot_error(vm, s, "' is outside its declared domain");
}

/* load_slot copies a value's first member and its length without looking
 * at which member is active. */
static_assert(offsetof(tg_value, u.s.ptr) == offsetof(tg_value, u.i) &&
	      offsetof(tg_value, u.s.ptr) == offsetof(tg_value, u.strs.items) &&
	      offsetof(tg_value, u.s.ptr) == offsetof(tg_value, u.ints.items),
	      "value members start together");
static_assert(offsetof(tg_value, u.s.len) == offsetof(tg_value, u.strs.n) &&
	      offsetof(tg_value, u.s.len) == offsetof(tg_value, u.ints.n), "lengths line up");

/* The stack tag of each request value type (all are validated by then). */
static const uint8_t value_vtype[TG_VALUE_OTHER + 1] = {
	[TG_VALUE_ABSENT] = TG_V_OTHER,
	[TG_VALUE_STRING] = TG_V_STR,
	[TG_VALUE_INT] = TG_V_INT,
	[TG_VALUE_BOOL] = TG_V_BOOL,
	[TG_VALUE_STRING_LIST] = TG_V_LSTR,
	[TG_VALUE_INT_LIST] = TG_V_LINT,
	[TG_VALUE_OTHER] = TG_V_OTHER,
};

/* The stack value of request value v, of type vt (origin 0). */
static TG_ALWAYS_INLINE void value_of(const tg_value *v, unsigned vt, tg_vm_val *out)
{
	out->t = value_vtype[vt];
	out->origin = 0;
	if (vt == TG_VALUE_BOOL) {
		out->b = v->u.b;
	} else {
		memcpy(&out->u, &v->u, sizeof out->u);
		out->n = (uint32_t)v->u.s.len;
		if (vt == TG_VALUE_STRING && !out->u.s)
			out->u.s = "";	/* empty without bytes */
	}
}

/*
 * Reads slot i of the request, applying its declared type and domain.
 * Every tg_value union member the VM uses starts at offset 0 and every
 * length is the member after it, so a value converts by a table lookup
 * and two copies. A domain check runs once per slot and evaluation
 * (vm->in_domain remembers the first 64 slots): the request does not
 * change while it is evaluated.
 */
static TG_ALWAYS_INLINE int load_slot(tg_vm *vm, uint32_t i, tg_vm_val *out)
{
	const unsigned char *s = vm->l->slots + (size_t)i * TG_BC_SLOT_SIZE;
	const tg_request *r = vm->req;
	uint16_t origin = i < 0x7FFF ? (uint16_t)(i + 1) : 0;

	if (s[0] == TG_SLOT_ARGS && vm->visibility) {
		out->t = TG_V_UNKNOWN;
		out->origin = origin;
		return 0;
	}
	if (i >= r->nslots || r->slots[i].type == TG_VALUE_ABSENT)
		return slot_error(vm, s, "' is absent");
	const tg_value *v = &r->slots[i];
	value_of(v, v->type <= TG_VALUE_OTHER ? v->type : TG_VALUE_OTHER, out);
	out->origin = origin;
	unsigned type = s[1];
	if (type != TG_ATTR_ANY && out->t != declared_vtype[type]) {
		/* An empty list is a list of either element type. */
		bool empty_list = (out->t == TG_V_LSTR || out->t == TG_V_LINT) && out->n == 0 &&
				  (type == TG_ATTR_STRING_LIST || type == TG_ATTR_INT_LIST);
		if (!empty_list) {
			static const char *const want[TG_BC_TYPE_LAST + 1] = {
				[TG_ATTR_STRING] = "' is not a string",
				[TG_ATTR_INT] = "' is not an int",
				[TG_ATTR_BOOL] = "' is not a bool",
				[TG_ATTR_STRING_LIST] = "' is not a list<string>",
				[TG_ATTR_INT_LIST] = "' is not a list<int>",
			};
			return slot_error(vm, s, want[type]);
		}
	}
	if (tg_rd32(s + 20) == 0 || (i < 64 && ((vm->in_domain >> i) & 1)))
		return 0;
	if (check_domain(vm, s, type, out) < 0)
		return -1;
	if (i < 64)
		vm->in_domain |= (uint64_t)1 << i;
	return 0;
}

/* ---- value quantifiers (`any value of args.PATH OP V`) ------------------ */

/* "'" NAME after, NAME being the last LOAD_ARGS's path. */
static int subject_err(tg_vm *vm, const char *before, const char *after)
{
	char name[TG_ERROR_MESSAGE_MAX];
	tg_args_name(vm->l, vm->subj_first, vm->subj_n, name, sizeof name);
	tg_vm_say(vm, before, name, after, NULL);
	return -1;
}

/* LOAD_ARGS: the object or array at the path, as TREE, or a list of
 * strings or ints as itself (an array too); absent or a scalar is an
 * error. In visibility mode, like every args read, UNKNOWN. */
static int load_args(tg_vm *vm, tg_vm_val *out)
{
	out->origin = 0;
	if (vm->visibility) {
		out->t = TG_V_UNKNOWN;
		return 0;
	}
	const tg_value *v = tg_args_at(vm->l, vm->req, vm->subj_first, vm->subj_n);
	if (!v)
		return subject_err(vm, "'", "' is absent");
	switch (v->type) {
	case TG_VALUE_OBJECT:
	case TG_VALUE_ARRAY:
		out->t = TG_V_TREE;
		out->u.nodes = v->u.tree.nodes;
		/* more than 2^32 nodes is past the walk's bound anyway */
		out->n = v->u.tree.n > UINT32_MAX ? UINT32_MAX : (uint32_t)v->u.tree.n;
		return 0;
	case TG_VALUE_STRING_LIST:
	case TG_VALUE_INT_LIST:
		value_of(v, v->type, out);
		out->origin = 0;
		return 0;
	case TG_VALUE_STRING:
		return subject_err(vm, "'", "' is a string, expected an object or an array");
	case TG_VALUE_INT:
		return subject_err(vm, "'", "' is an int, expected an object or an array");
	case TG_VALUE_BOOL:
		return subject_err(vm, "'", "' is a bool, expected an object or an array");
	default:
		return subject_err(vm, "'", "' is a value of another type, expected an object or an array");
	}
}

/* Which leaves a value quantifier compares: the type of V (for `in`, of
 * its elements; ordering operators compare ints; the string operators,
 * strings). 1 strings, 2 ints, or -1 when V has no type the operator
 * takes. */
static int leaf_type(tg_vm *vm, int kind, unsigned cmp, const tg_vm_val *b)
{
	if (kind != 0)
		return 1;	/* like, under, matches */
	switch (cmp) {
	case TG_BC_EQ:
	case TG_BC_NE:
		if (b->t == TG_V_STR || b->t == TG_V_INT)
			return b->t == TG_V_STR ? 1 : 2;
		return type_err(vm, b, "a string or an int");
	case TG_BC_LT:
	case TG_BC_LE:
	case TG_BC_GT:
	case TG_BC_GE:
		return b->t == TG_V_INT ? 2 : type_err(vm, b, "an int");
	case TG_BC_IN:
		if (!is_list(b))
			return type_err(vm, b, "a list");
		return is_strs(b) ? 1 : 2;
	default:	/* contains, starts_with, ends_with */
		return b->t == TG_V_STR ? 1 : type_err(vm, b, "a string");
	}
}

/* One leaf e: -1 error, 1 when it decides the quantifier (false for all,
 * true for any), else 0. */
static int values_leaf(tg_vm *vm, bool all, int kind, unsigned arg, const tg_vm_val *e,
		       const tg_vm_val *b)
{
	int r = kind == 0   ? compare(vm, arg, e, b)
		: kind == 1 ? like(vm, arg, e)
		: kind == 2 ? under(vm, arg, e)
			    : match(vm, arg, e);
	if (r < 0) {
		if (kind == 2)	/* under() could not name the value */
			subject_err(vm, "a string in '", "' is not a clean absolute path");
		return r;
	}
	return all ? !r : r;
}

/* Every leaf of list v (request or tree list) of the wanted type. */
static int values_list(tg_vm *vm, bool all, int kind, unsigned arg, const tg_vm_val *list,
		       int want, const tg_vm_val *b)
{
	if ((list->t == TG_V_LSTR) != (want == 1))
		return 0;	/* the other type: skipped */
	for (size_t i = 0; i < list->n; i++) {
		tg_vm_val e = elem(vm, list, i);
		int r = values_leaf(vm, all, kind, arg, &e, b);
		if (r)
			return r;
	}
	return 0;
}

/*
 * all/any over the leaves of a (TREE, or a list) whose type is the
 * comparison's (leaf_type); others (bools, values of no policy type, the
 * other scalar type) are skipped, and containers are not values but hold
 * them. kind as quantify(). The tree is in preorder, so one pass over its
 * nodes visits every leaf, in document order, without a stack. A subject
 * holding more than TG_BC_TREE_MAX values (nodes and list items, at any
 * depth) is an error before any comparison: that is the walk's bound.
 */
static int values_quantify(tg_vm *vm, bool all, int kind, unsigned arg, const tg_vm_val *a,
			   const tg_vm_val *b)
{
	if (a->t != TG_V_TREE && a->t != TG_V_LSTR && a->t != TG_V_LINT)
		return type_err(vm, a, "an object or an array");
	int want = leaf_type(vm, kind, arg, b);
	if (want < 0)
		return -1;
	uint64_t count = a->n;
	if (a->t == TG_V_TREE)
		for (size_t i = 0; i < a->n && count <= TG_BC_TREE_MAX; i++) {
			const tg_value *v = &a->u.nodes[i].value;
			if (v->type == TG_VALUE_STRING_LIST || v->type == TG_VALUE_INT_LIST)
				count += v->u.strs.n;
		}
	if (count > TG_BC_TREE_MAX)
		return subject_err(vm, "'", "' holds more than 65536 values");
	int r = 0;
	if (a->t != TG_V_TREE) {
		r = values_list(vm, all, kind, arg, a, want, b);
	} else {
		for (size_t i = 0; i < a->n && !r; i++) {
			const tg_value *v = &a->u.nodes[i].value;
			tg_vm_val e;
			if ((v->type == TG_VALUE_STRING && want == 1) || (v->type == TG_VALUE_INT && want == 2)) {
				value_of(v, v->type, &e);
				r = values_leaf(vm, all, kind, arg, &e, b);
			} else if (v->type == TG_VALUE_STRING_LIST || v->type == TG_VALUE_INT_LIST) {
				value_of(v, v->type, &e);
				r = values_list(vm, all, kind, arg, &e, want, b);
			}
		}
	}
	if (r < 0)
		return r;
	return r ? !all : all;
}

static bool builtin_defined(const tg_vm *vm, unsigned bi)
{
	switch (bi) {
	case TG_BI_TOOL_NAME:
	case TG_BI_TOOL_SERVER:
	case TG_BI_TOOL_READ_ONLY:
	case TG_BI_TOOL_DESTRUCTIVE:
	case TG_BI_TOOL_IDEMPOTENT:
	case TG_BI_TOOL_OPEN_WORLD:
		return vm->cls == TG_CLASS_TOOL;
	case TG_BI_RESOURCE_URI:
		return vm->cls == TG_CLASS_RESOURCE;
	case TG_BI_PROMPT_NAME:
		return vm->cls == TG_CLASS_PROMPT;
	default:
		return true;
	}
}

static tg_hint hint_of(const tg_request *r, unsigned bi)
{
	switch (bi) {
	case TG_BI_TOOL_READ_ONLY: return r->read_only;
	case TG_BI_TOOL_DESTRUCTIVE: return r->destructive;
	case TG_BI_TOOL_IDEMPOTENT: return r->idempotent;
	default: return r->open_world;
	}
}

/* Pushes built-in `bi` (load) or whether it is present (has). */
static int load_builtin(tg_vm *vm, unsigned bi, bool has, tg_vm_val *out)
{
	const tg_request *r = vm->req;
	out->origin = (uint16_t)(TG_VM_ORIGIN_BUILTIN | bi);
	bool defined = builtin_defined(vm, bi), present = defined;
	if (bi == TG_BI_TOOL_SERVER)
		present = defined && r->server.ptr;
	else if (bi >= TG_BI_TOOL_READ_ONLY && bi <= TG_BI_TOOL_OPEN_WORLD)
		present = defined && hint_of(r, bi) != TG_HINT_ABSENT;
	if (has) {
		out->t = TG_V_BOOL;
		out->b = present;
		return 0;
	}
	if (!defined) {
		tg_vm_say(vm, "'", builtin_names[bi], "' is not defined for this method", NULL);
		return -1;
	}
	if (!present) {
		tg_vm_say(vm, "'", builtin_names[bi], "' is absent", NULL);
		return -1;
	}
	tg_str s = { NULL, 0 };
	switch (bi) {
	case TG_BI_PRINCIPAL_ID: s = r->principal_id; break;
	case TG_BI_PRINCIPAL_ROLES:
		out->t = TG_V_LSTR;
		out->u.strs = r->roles;
		out->n = (uint32_t)r->nroles;
		return 0;
	case TG_BI_TOKEN_SCOPES:
		out->t = TG_V_LSTR;
		out->u.strs = r->scopes;
		out->n = (uint32_t)r->nscopes;
		return 0;
	case TG_BI_TOOL_SERVER: s = r->server; break;
	case TG_BI_TOOL_READ_ONLY:
	case TG_BI_TOOL_DESTRUCTIVE:
	case TG_BI_TOOL_IDEMPOTENT:
	case TG_BI_TOOL_OPEN_WORLD:
		out->t = TG_V_BOOL;
		out->b = hint_of(r, bi) == TG_HINT_TRUE;
		return 0;
	case TG_BI_REQUEST_METHOD: s = r->method; break;
	default: s = r->target; break;	/* tool.name, resource.uri, prompt.name */
	}
	out->t = TG_V_STR;
	out->u.s = s.ptr;
	out->n = (uint32_t)s.len;
	return 0;
}

/* In line in tg_vm_listed: a call saved and restored six registers. */
static TG_ALWAYS_INLINE void vm_init(tg_vm *vm, const tg_layout *l, const tg_request *req,
				     tg_bc_class cls, bool visibility)
{
	vm->l = l;
	vm->req = req;
	vm->cls = (uint8_t)cls;
	vm->visibility = visibility;
	vm->internal = false;
	vm->insns = 0;
	vm->have_pairs = false;
	vm->in_domain = 0;
	vm->msg[0] = 0;
	/* IS and subjects read no further than role_words, which is 1 in
	 * nearly every policy: a store, not a memset call (12 instructions) */
	vm->held[0] = 0;
	for (uint32_t w = 1; w < l->role_words; w++)
		vm->held[w] = 0;
	vm->id_len = (uint64_t)1 << (req->principal_id.len % 64);
	vm->client_len = req->client_id.ptr ? (uint64_t)1 << (req->client_id.len % 64) : 0;
	vm->scope_lens = 0;	/* tg_subject_quick's, when a scope subject is met */
	for (size_t i = 0; i < req->nroles; i++) {
		int32_t r = tg_role_lookup(l, req->roles[i].ptr, req->roles[i].len);
		if (r < 0)
			continue;	/* undeclared roles are ignored */
		const unsigned char *bits = l->closure + (size_t)r * l->role_words * 8;
		uint32_t w = 0;	/* a role was found: role_words >= 1 */
		do
			vm->held[w] |= tg_rd64(bits + (size_t)w * 8);
		while (++w < l->role_words);
	}
}

void tg_vm_init(tg_vm *vm, const tg_layout *l, const tg_request *req, tg_bc_class cls,
		bool visibility)
{
	vm_init(vm, l, req, cls, visibility);
}

static bool truth_ok(tg_vm *vm, const tg_vm_val *v)
{
	if (v->t == TG_V_BOOL || v->t == TG_V_UNKNOWN)
		return true;
	type_err(vm, v, "a bool");
	return false;
}

/* Instruction lengths by opcode byte, from opcodes.def; 0 for a byte that
 * is no opcode (the dispatch's default case rejects it). */
static const uint8_t insn_len[256] = {
#define TG_OP(name, opnd, pops, pushes, synopsis) [TG_OP_##name] = 1 + TG_OPND_WIDTH(TG_OPND_##opnd),
#include "opcodes.def"
#undef TG_OP
};

static inline void set_bool(tg_vm_val *v, int b)
{
	v->t = TG_V_BOOL;
	v->b = (uint8_t)b;
	v->origin = 0;
}

static inline int int_compare(unsigned op, int64_t x, int64_t y)
{
	switch (op) {
	case TG_BC_EQ: return x == y;
	case TG_BC_NE: return x != y;
	case TG_BC_LT: return x < y;
	case TG_BC_LE: return x <= y;
	case TG_BC_GT: return x > y;
	default: return x >= y;
	}
}

/*
 * a OP k for the fused comparisons, a read from the request, k (in *k) a
 * constant or a second read: the common cases inline, the rest through
 * compare(), which is what CMP would run on the same two values. Leaves
 * the result in *a: 0, or -1 for an error (vm->msg set).
 */
static inline int fused_compare(tg_vm *vm, unsigned op, tg_vm_val *a, const tg_vm_val *k)
{
	int r;
	if (a->t == TG_V_UNKNOWN || k->t == TG_V_UNKNOWN) {
		a->t = TG_V_UNKNOWN;
		a->origin = 0;
		return 0;
	}
	if (a->t == TG_V_STR && k->t == TG_V_STR && op <= TG_BC_NE)
		r = str_eq(a->u.s, a->n, k->u.s, k->n) == (op == TG_BC_EQ);
	else if (a->t == TG_V_INT && k->t == TG_V_INT && op <= TG_BC_GE)
		r = int_compare(op, a->u.i, k->u.i);
	else if ((r = compare(vm, op, a, k)) < 0)
		return -1;
	set_bool(a, r);
	return 0;
}

#define PUSH() (sp < TG_BC_MAX_STACK ? &st[sp++] : NULL)
#define POP() (sp > 0 ? &st[--sp] : NULL)

/*
 * The loop. Operands are read in place from the code bytes; the length of
 * each instruction comes from a table derived from opcodes.def, so
 * decoding costs one load. The instruction counter lives in a local and is
 * stored on every way out. Pushed values are written field by field: only
 * the fields their type uses are read later.
 */
tg_cond_result tg_vm_run(tg_vm *vm, uint32_t code_off, uint32_t code_len)
{
	const tg_layout *l = vm->l;
	const unsigned char *code = l->code;
	tg_vm_val *st = vm->stack, *a, *b, *out, k;
	uint32_t pc = code_off, end = code_off + code_len, insns = vm->insns;
	size_t sp = 0;
	unsigned cmp;
	int r;

	vm->msg[0] = 0;
	while (pc < end) {
		unsigned op = code[pc];
		const unsigned char *o = code + pc + 1;
		pc += insn_len[op];
		insns++;
		vmdispatch((tg_opcode)op) {
		vmcase(RET)
			if (!(a = POP()) || !truth_ok(vm, a))
				goto fail_or_internal;
			vm->insns = insns;
			if (a->t == TG_V_UNKNOWN)
				return TG_COND_UNKNOWN;
			return a->b ? TG_COND_TRUE : TG_COND_FALSE;
		vmcase(TRUE)
		vmcase(FALSE)
			if (!(out = PUSH()))
				goto internal;
			set_bool(out, op == TG_OP_TRUE);
			vmbreak;
		vmcase(INT)
			if (!(out = PUSH()))
				goto internal;
			out->t = TG_V_INT;
			out->origin = 0;
			out->u.i = (int64_t)tg_rd64(o);
			vmbreak;
		vmcase(STR) {
			tg_str s = tg_pol_str(l, tg_rd32(o));
			if (!(out = PUSH()))
				goto internal;
			out->t = TG_V_STR;
			out->origin = 0;
			out->u.s = s.ptr;
			out->n = (uint32_t)s.len;
			vmbreak;
		}
		vmcase(STRS)
		vmcase(INTS)
			if (!(out = PUSH()))
				goto internal;
			out->t = op == TG_OP_STRS ? TG_V_PSTR : TG_V_PINT;
			out->origin = 0;
			out->u.first = tg_rd32(o);
			out->n = tg_rd32(o + 4);
			vmbreak;
		vmcase(LOAD)
		vmcase(LOAD_STR_CMP)
		vmcase(LOAD_INT_CMP)
		vmcase(LOAD_LOAD_CMP)
			/* One call site for the first read, so it inlines. */
			if (!(out = PUSH()))
				goto internal;
			if (load_slot(vm, tg_rd32(o), out) < 0)
				goto fail;
			if (op == TG_OP_LOAD)
				vmbreak;
			if (op == TG_OP_LOAD_STR_CMP) {
				o += 4;
				goto str_cmp;
			}
			if (op == TG_OP_LOAD_INT_CMP) {
				k.t = TG_V_INT;
				k.origin = 0;
				k.u.i = (int64_t)tg_rd64(o + 4);
				cmp = o[12];
				goto fused_cmp;
			}
			if (load_slot(vm, tg_rd32(o + 4), &k) < 0)
				goto fail;
			cmp = o[8];
			goto fused_cmp;
		vmcase(HAS) {
			uint32_t i = tg_rd32(o);
			const tg_request *rq = vm->req;
			if (!(out = PUSH()))
				goto internal;
			out->origin = 0;
			if (vm->visibility && l->slots[(size_t)i * TG_BC_SLOT_SIZE] == TG_SLOT_ARGS)
				out->t = TG_V_UNKNOWN;
			else
				set_bool(out, i < rq->nslots && rq->slots[i].type != TG_VALUE_ABSENT);
			vmbreak;
		}
		vmcase(LOADB)
		vmcase(HASB)
			if (!(out = PUSH()))
				goto internal;
			if (load_builtin(vm, o[0], op == TG_OP_HASB, out) < 0)
				goto fail;
			vmbreak;
		vmcase(IS) {
			uint32_t role = tg_rd32(o);
			if (!(out = PUSH()))
				goto internal;
			set_bool(out, role < TG_BC_MAX_ROLES && ((vm->held[role / 64] >> (role % 64)) & 1));
			vmbreak;
		}
		vmcase(NOT)
			if (!(a = POP()) || !truth_ok(vm, a))
				goto fail_or_internal;
			if (a->t == TG_V_BOOL)
				a->b = !a->b;
			goto push_a;
		vmcase(AND)
		vmcase(OR) {
			if (!(b = POP()) || !(a = POP()) || !truth_ok(vm, a) || !truth_ok(vm, b))
				goto fail_or_internal;
			bool dominant = op == TG_OP_OR;	/* true absorbs `or`, false `and` */
			if ((a->t == TG_V_BOOL && a->b == dominant) || (b->t == TG_V_BOOL && b->b == dominant))
				set_bool(a, dominant);
			else if (a->t == TG_V_UNKNOWN || b->t == TG_V_UNKNOWN)
				a->t = TG_V_UNKNOWN;
			else
				a->b = !dominant;
			goto push_a;
		}
		vmcase(JFALSE)
		vmcase(JTRUE)
			if (sp == 0)
				goto internal;
			a = &st[sp - 1];
			if (a->t == TG_V_BOOL) {
				if (a->b == (op == TG_OP_JTRUE))
					pc += tg_rd32(o);
			} else if (!truth_ok(vm, a)) {
				goto fail;
			}
			vmbreak;
		vmcase(CMP)
		vmcase(ALL)
		vmcase(ANY)
		vmcase(ALL_VALUES)
		vmcase(ANY_VALUES)
			if (!(b = POP()) || !(a = POP()))
				goto internal;
			if (a->t == TG_V_UNKNOWN || b->t == TG_V_UNKNOWN) {
				a->t = TG_V_UNKNOWN;
			} else {
				r = op == TG_OP_CMP			 ? compare(vm, o[0], a, b)
				    : op == TG_OP_ALL || op == TG_OP_ANY ? quantify(vm, op == TG_OP_ALL, 0, o[0], a, b)
					: values_quantify(vm, op == TG_OP_ALL_VALUES, 0, o[0], a, b);
			set_r:	/* r from a test on a (LIKE and the other one-value tests) */
				if (r < 0)
					goto fail_or_internal;
				a->t = TG_V_BOOL;
				a->b = (uint8_t)r;
			}
		push_a:	/* a, a result, back on the stack */
			a->origin = 0;
			sp++;
			vmbreak;
		vmcase(LIKE)
		vmcase(UNDER)
		vmcase(ALL_LIKE)
		vmcase(ANY_LIKE)
		vmcase(ALL_UNDER)
		vmcase(ANY_UNDER)
		vmcase(MATCH)
		vmcase(ALL_MATCH)
		vmcase(ANY_MATCH)
		vmcase(ALL_VALUES_LIKE)
		vmcase(ANY_VALUES_LIKE)
		vmcase(ALL_VALUES_UNDER)
		vmcase(ANY_VALUES_UNDER)
		vmcase(ALL_VALUES_MATCH)
		vmcase(ANY_VALUES_MATCH)
			if (!(a = POP()))
				goto internal;
			if (a->t == TG_V_UNKNOWN)
				goto push_a;
			{
				uint32_t arg = tg_rd32(o);
				switch (op) {
				case TG_OP_LIKE: r = like(vm, arg, a); break;
				case TG_OP_UNDER: r = under(vm, arg, a); break;
				case TG_OP_ALL_LIKE: r = quantify(vm, true, 1, arg, a, NULL); break;
				case TG_OP_ANY_LIKE: r = quantify(vm, false, 1, arg, a, NULL); break;
				case TG_OP_ALL_UNDER: r = quantify(vm, true, 2, arg, a, NULL); break;
				case TG_OP_ANY_UNDER: r = quantify(vm, false, 2, arg, a, NULL); break;
				case TG_OP_MATCH: r = match(vm, arg, a); break;
				case TG_OP_ALL_MATCH: r = quantify(vm, true, 3, arg, a, NULL); break;
				case TG_OP_ANY_MATCH: r = quantify(vm, false, 3, arg, a, NULL); break;
				default:
					/* the value quantifiers: kinds 1 like, 2 under, 3 match,
					 * each a pair of rows, all then any */
					r = values_quantify(vm, (op - TG_OP_ALL_VALUES_LIKE) % 2 == 0,
							    1 + (int)(op - TG_OP_ALL_VALUES_LIKE) / 2, arg, a,
							    NULL);
					break;
				}
				goto set_r;
			}
		vmcase(LOAD_ARGS)
			if (!(out = PUSH()))
				goto internal;
			vm->subj_first = tg_rd32(o);
			vm->subj_n = tg_rd32(o + 4);
			if (load_args(vm, out) < 0)
				goto fail;
			vmbreak;
		vmcase(ADD)
		vmcase(SUB) {
			if (!(b = POP()) || !(a = POP()))
				goto internal;
			if (a->t == TG_V_UNKNOWN || b->t == TG_V_UNKNOWN) {
				a->t = TG_V_UNKNOWN;
			} else {
				int64_t v;
				if (a->t != TG_V_INT) {
					type_err(vm, a, "an int");
					goto fail;
				}
				if (b->t != TG_V_INT) {
					type_err(vm, b, "an int");
					goto fail;
				}
				bool ovf = op == TG_OP_ADD ? __builtin_add_overflow(a->u.i, b->u.i, &v)
							   : __builtin_sub_overflow(a->u.i, b->u.i, &v);
				if (ovf) {
					tg_vm_say(vm, "integer overflow in '", op == TG_OP_ADD ? "+" : "-",
						  "'", NULL);
					goto fail;
				}
				a->u.i = v;
			}
			goto push_a;
		}
		vmcase(LOADB_STR_CMP) {
			if (!(out = PUSH()))
				goto internal;
			if (load_builtin(vm, o[0], false, out) < 0)
				goto fail;
			o += 1;
		str_cmp: {
			tg_str str = tg_pol_str(l, tg_rd32(o));
			k.t = TG_V_STR;
			k.origin = 0;
			k.u.s = str.ptr;
			k.n = (uint32_t)str.len;
			cmp = o[4];
		}
		fused_cmp:
			if (fused_compare(vm, cmp, out, &k) < 0)
				goto fail_or_internal;
			vmbreak;
		}
		default:
			goto internal;
		}
	}
internal:
	vm->internal = true;
	tg_vm_say(vm, "internal error: the interpreter met an impossible state", NULL, NULL, NULL);
	vm->insns = insns;
	return TG_COND_ERROR;
fail_or_internal:
	if (!vm->msg[0])
		goto internal;
fail:
	vm->insns = insns;
	return TG_COND_ERROR;
}

/*
 * Quick programs (vm.h, quick.c). A slot read admits exactly the value
 * type the translation recorded (vt), which load_slot's declared-type
 * check admits too, and applies the domain as load_slot does; a value
 * load_slot would reject, or one it would accept in another way (an
 * empty list of the other element type), makes the program give up.
 */

/* Slot i's value when it holds type vt and, with dom, lies in its domain
 * (checked once per evaluation), else NULL. */
static TG_ALWAYS_INLINE const tg_value *quick_value(tg_vm *vm, uint32_t i, unsigned vt, bool dom)
{
	const tg_request *r = vm->req;
	if (i >= r->nslots || r->slots[i].type != (tg_value_type)vt)
		return NULL;
	const tg_value *v = &r->slots[i];
	if (!dom || (i < 64 && ((vm->in_domain >> i) & 1)))
		return v;
	const unsigned char *s = vm->l->slots + (size_t)i * TG_BC_SLOT_SIZE;
	tg_vm_val x;
	value_of(v, vt, &x);
	if (check_domain(vm, s, s[1], &x) < 0)
		return NULL;
	if (i < 64)
		vm->in_domain |= (uint64_t)1 << i;
	return v;
}

static TG_ALWAYS_INLINE bool quick_slot(tg_vm *vm, uint32_t i, unsigned vt, bool dom,
					tg_vm_val *out)
{
	const tg_value *v = quick_value(vm, i, vt, dom);
	if (v)
		value_of(v, vt, out);
	return v != NULL;
}

/* The value a LIKE, UNDER or MATCH tests, a string (with quant, a list of
 * strings): false to give up. */
static TG_ALWAYS_INLINE bool quick_subject(tg_vm *vm, const tg_qinsn *q, tg_vm_val *v)
{
	if (q->builtin ? load_builtin(vm, q->a, false, v) < 0 : !quick_slot(vm, q->a, q->vt, q->dom, v))
		return false;
	if (!q->builtin)	/* load_slot's origin, for under()'s message */
		v->origin = q->a < 0x7FFF ? (uint16_t)(q->a + 1) : 0;
	return v->t == (q->quant ? TG_V_LSTR : TG_V_STR);
}

/* Inlined into tg_vm_cond and tg_vm_listed: a call costs ~20 instructions
 * per rule (saving and restoring six registers). vis: visibility mode (a
 * constant at each call, so the normal mode's loop has no trace of it). */
static TG_ALWAYS_INLINE int quick_run(tg_vm *vm, const tg_rule_view *rule, bool vis)
{
	unsigned k = rule->quick_first;
	uint32_t insns = vm->insns + rule->quick_cnt;
	const tg_qinsn *prog = vm->l->quick + rule->quick;
	tg_vm_val a, b;
	int r;

	while (k < TG_Q_UNKNOWN) {
		const tg_qinsn *q = prog + k;
		if (vis && q->args != TG_Q_ARGS_NONE) {
			/* `args` is UNKNOWN, as load_slot makes it; a test that also
			 * reads another slot may fail on that one first */
			if (q->args != TG_Q_ARGS_ONLY)
				return -1;
			r = TG_Q_EDGE_UNKNOWN;
			goto edge;
		}
		switch (q->op) {
		case TG_Q_IS:
			r = (vm->held[q->a] & q->u.mask) != 0;
			break;
		case TG_Q_HAS:
			r = q->a < vm->req->nslots && vm->req->slots[q->a].type != TG_VALUE_ABSENT;
			break;
		case TG_Q_HASB:
			load_builtin(vm, q->a, true, &a);
			r = a.b;
			break;
		case TG_Q_BOOL:
			if (!quick_slot(vm, q->a, q->vt, q->dom, &a))
				return -1;
			r = a.b;
			break;
		case TG_Q_BOOLB:
			/* a tools/call's annotation (tool.destructive): its hint */
			if (vm->cls == TG_CLASS_TOOL && q->a >= TG_BI_TOOL_READ_ONLY &&
			    q->a <= TG_BI_TOOL_OPEN_WORLD) {
				tg_hint h = hint_of(vm->req, q->a);
				if (h == TG_HINT_ABSENT)
					return -1;
				r = h == TG_HINT_TRUE;
				break;
			}
			if (load_builtin(vm, q->a, false, &a) < 0 || a.t != TG_V_BOOL)
				return -1;
			r = a.b;
			break;
		case TG_Q_STR:
			/* string == and != (most tests) without a stack value */
			if (q->vt == TG_VALUE_STRING && q->cmp <= TG_BC_NE) {
				/* equal to one of its declared values (dom2): in the domain */
				const tg_value *v = quick_value(vm, q->a, q->vt, false);
				bool eq = v && str_eq(v->u.s.ptr, v->u.s.len, q->u.s, q->b);
				if (!v || (q->dom && !(eq && q->dom2) &&
					   !quick_value(vm, q->a, q->vt, true)))
					return -1;
				r = eq == (q->cmp == TG_BC_EQ);
				break;
			}
			/* fall through */
		case TG_Q_STRB:
			/* `token.scopes contains "x"`: the request's own list */
			if (q->op == TG_Q_STRB && q->cmp == TG_BC_CONTAINS &&
			    (q->a == TG_BI_TOKEN_SCOPES || q->a == TG_BI_PRINCIPAL_ROLES)) {
				const tg_request *rq = vm->req;
				r = q->a == TG_BI_TOKEN_SCOPES ? strs_have(rq->scopes, rq->nscopes, q->u.s, q->b)
							     : strs_have(rq->roles, rq->nroles, q->u.s, q->b);
				break;
			}
			if (q->op == TG_Q_STR ? !quick_slot(vm, q->a, q->vt, q->dom, &a)
					      : load_builtin(vm, q->a, false, &a) < 0)
				return -1;
			b.t = TG_V_STR;
			b.origin = 0;
			b.u.s = q->u.s;
			b.n = q->b;
			goto compare;
		case TG_Q_INT:
			if (q->vt == TG_VALUE_INT && q->cmp <= TG_BC_GE) {
				const tg_value *v = quick_value(vm, q->a, q->vt, q->dom);
				if (!v)
					return -1;
				r = int_compare(q->cmp, v->u.i, q->u.k);
				break;
			}
			if (!quick_slot(vm, q->a, q->vt, q->dom, &a))
				return -1;
			b.t = TG_V_INT;
			b.origin = 0;
			b.u.i = q->u.k;
			goto compare;
		case TG_Q_SLOTS:
			if (q->vt == TG_VALUE_STRING && q->vt2 == TG_VALUE_STRING && q->cmp <= TG_BC_NE) {
				const tg_value *x = quick_value(vm, q->a, q->vt, q->dom), *y;
				if (!x || !(y = quick_value(vm, q->b, q->vt2, q->dom2)))
					return -1;
				r = str_eq(x->u.s.ptr, x->u.s.len, y->u.s.ptr, y->u.s.len) ==
				    (q->cmp == TG_BC_EQ);
				break;
			}
			if (q->vt == TG_VALUE_STRING && q->vt2 == TG_VALUE_STRING_LIST && q->cmp == TG_BC_IN) {
				const tg_value *x = quick_value(vm, q->a, q->vt, q->dom), *y;
				if (!x || !(y = quick_value(vm, q->b, q->vt2, q->dom2)))
					return -1;
				r = strs_have(y->u.strs.items, y->u.strs.n, x->u.s.ptr, x->u.s.len);
				break;
			}
			if (!quick_slot(vm, q->a, q->vt, q->dom, &a) ||
			    !quick_slot(vm, q->b, q->vt2, q->dom2, &b))
				return -1;
			goto compare;
		case TG_Q_LIST:
			if (!quick_slot(vm, q->a, q->vt, q->dom, &a))
				return -1;
			b.t = q->is_ints ? TG_V_PINT : TG_V_PSTR;
			b.origin = 0;
			b.u.first = q->c;
			b.n = q->b;
			if (q->quant)
				r = quantify(vm, q->quant == TG_Q_ALL, 0, q->cmp, &a, &b);
			else if (q->cmp == TG_BC_IN && a.t == TG_V_STR && !q->is_ints)
				r = list_has(vm, &b, &a);	/* member_types would pass it */
			else
				r = compare(vm, q->cmp, &a, &b);
			if (r < 0)
				return -1;
			break;
		case TG_Q_LIKE:
		case TG_Q_UNDER:
		case TG_Q_MATCH:
			if (!quick_subject(vm, q, &a))
				return -1;
			/* the interpreter's own LIKE, UNDER, MATCH and quantifier */
			if (q->quant)
				r = quantify(vm, q->quant == TG_Q_ALL, 1 + (q->op - TG_Q_LIKE), q->c,
					     &a, NULL);
			else
				r = q->op == TG_Q_LIKE	  ? like(vm, q->c, &a)
				    : q->op == TG_Q_UNDER ? under(vm, q->c, &a)
							  : match(vm, q->c, &a);
			if (r < 0) {	/* an unclean path: the interpreter's error */
				vm->insns = insns + q->count;
				return TG_COND_ERROR;
			}
			break;
		default:
			return -1;
		compare:
			if (fused_compare(vm, q->cmp, &a, &b) < 0)
				return -1;
			r = a.b;
			break;
		}
		r = r != 0;
	edge:
		insns += q->cnt[r];
		k = q->next[r];
	}
	vm->insns = insns;
	if (vis && k == TG_Q_UNKNOWN)
		return TG_COND_UNKNOWN;
	return k == TG_Q_TRUE ? TG_COND_TRUE : TG_COND_FALSE;
}

int tg_vm_quick(tg_vm *vm, const tg_rule_view *r)
{
	return vm->visibility ? quick_run(vm, r, true) : quick_run(vm, r, false);
}

tg_cond_result tg_vm_cond(tg_vm *vm, const tg_rule_view *r)
{
	if (r->quick != TG_BC_NONE && (!vm->visibility || r->quick_vis)) {
		int c = vm->visibility ? quick_run(vm, r, true) : quick_run(vm, r, false);
		if (c >= 0)
			return (tg_cond_result)c;
	}
	return tg_vm_run(vm, r->code_off, r->code_len);
}

/* decision.c's rules over the candidates in source order: a load-time
 * list (cands.c) when listed, else the index postings merged at run time
 * (past the lists' budget). Here so that quick programs run in line; each
 * caller has its own copy, the list's loop nothing of the merge. */
static TG_ALWAYS_INLINE tg_status walk(const tg_layout *l, const tg_request *req, tg_bc_class cls,
				       tg_decision *d, bool listed)
{
	tg_vm v, *vm = &v;
	uint32_t n = 0, merged = 0;
	tg_cands cands;
	const uint32_t *e = NULL, *end = NULL;
	vm_init(vm, l, req, cls, false);
	if (listed)
		end = (e = tg_cands_list(l, cls, req->target.ptr, req->target.len, &n)) + n;
	else
		tg_cands_init(&cands, l, cls, req->target.ptr, req->target.len);
	const tg_rule_view *rv = l->rv;
	int64_t allow_rule = -1;
	size_t allow_nerrors = 0;

	for (; listed ? e != end : tg_cands_next(&cands, &merged); e++) {
		if (!listed)
			e = &merged;	/* an index, no flags */
		if (allow_rule >= 0 && (*e & TG_CAND_NO_DENY))
			break;
		const tg_rule_view *r = &rv[*e & TG_CAND_RULE];
		int subj = tg_subject_quick(vm, r);
		if (subj == TG_SUBJ_NO || (subj == TG_SUBJ_NO_CLIENT && r->effect != TG_BC_DENY))
			continue;
		if (!(*e & TG_CAND_KNOWN) && !tg_action_match(vm, r))
			continue;
		int c = -1;
		if (subj == TG_SUBJ_NO_CLIENT) {
			c = TG_COND_ERROR;
			tg_vm_say(vm, "'token.client_id' is absent", NULL, NULL, NULL);
		} else if (r->quick != TG_BC_NONE && (c = quick_run(vm, r, false)) >= 0) {
			/* decided by its quick program (an always rule has none) */
		} else if (r->always) {
			c = TG_COND_TRUE;	/* TRUE; RET */
			vm->insns += 2;
		} else {	/* internal is only ever set on the way here */
			c = tg_vm_run(vm, r->code_off, r->code_len);
			if (vm->internal) {
				tg_decision_deny(d);
				return TG_EINTERNAL;
			}
		}
		uint32_t ri = *e & TG_CAND_RULE;	/* not kept live across the program */
		if (c == TG_COND_ERROR)
			tg_decision_error_add(d, l, ri, vm->msg);
		if (r->effect == TG_BC_DENY && c != TG_COND_FALSE) {
			tg_decision_decide(d, l, ri, true, 0, vm->insns);
			d->by_error = c == TG_COND_ERROR;
			return TG_OK;
		}
		if (r->effect != TG_BC_DENY && c == TG_COND_TRUE && allow_rule < 0) {
			allow_rule = ri;
			allow_nerrors = d->nerrors;
		}
	}
	tg_decision_decide(d, l, allow_rule, false, allow_nerrors, vm->insns);
	return TG_OK;
}

tg_status tg_vm_listed(const tg_layout *l, const tg_request *req, tg_bc_class cls, tg_decision *d)
{
	return walk(l, req, cls, d, true);
}

tg_status tg_vm_merged(const tg_layout *l, const tg_request *req, tg_bc_class cls, tg_decision *d)
{
	return walk(l, req, cls, d, false);
}
