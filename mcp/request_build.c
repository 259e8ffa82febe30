/*
 * request_build.c - JSON events to a tg_request: the typing and validation
 * core that text (json_events.c) and trees (request_json.c) share.
 *
 * The builder follows the document with a stack of open containers. Each
 * object on the path to something the policy reads knows which slots run
 * through it (their candidates); a key either selects a fixed field, ends
 * a slot's path (its value is kept), continues some paths (the candidates
 * of the object that follows) or selects nothing, and then the value goes
 * by unstored. A slot whose value is an object or an array keeps it as a
 * preorder tree; slots below a kept object (args.o.p under args.o) are
 * found in its tree at the end, because while a tree is built its keys are
 * not matched against slots.
 *
 * Strings are copied into one buffer the size of the text, which no set of
 * decoded strings can outgrow, so their pointers are stable from the
 * start; lists and trees grow in arrays that may move, so they are
 * addressed by index until the end.
 *
 * Problems that do not stop reading are kept with a priority (the order
 * request_json.h documents) and reading goes on: a syntax error later in
 * the text still wins, as it did when a parser saw the text first.
 */
#include "request_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unicode.h"

const tg_json_limits tg_json_default_limits = {
	TG_JSON_MAX_BODY, TG_JSON_MAX_DEPTH, TG_MAX_STRING_BYTES, TG_MAX_STRING_BYTES,
	TG_MAX_LIST_ITEMS,
};

#define NO_SLOT UINT32_MAX
#define ARGS_SLOT (UINT32_MAX - 1)	/* cap_slot: the args object itself */

/* Message priorities: the lowest kept wins. */
enum {
	P_FATAL = 0,
	P_LIMIT,
	P_UNKNOWN_KEY,
	P_SECTION,
	P_ID,
	P_METHOD,
	P_TARGET,
	P_ROLES,
	P_SCOPES,
	P_HINT,
	P_NFC,
	P_RUNTIME,
	P_NONE
};

/* What a container is to the request. */
enum { R_PLAIN, R_TOP, R_SECTION, R_ROLES, R_SCOPES, R_TREE };

/* What the value after a key is. */
enum {
	F_NONE,
	F_ID,
	F_ROLES,
	F_SCOPES,
	F_CLIENT_ID,
	F_METHOD,
	F_TARGET,
	F_SERVER,
	F_HINT,			/* + 0..3 */
	F_SECTION = F_HINT + 4	/* + section index */
};

/* In the order their "must be an object" messages are checked. */
enum { S_PRINCIPAL, S_TOKEN, S_TOOL, S_ARGS, S_CONTEXT, S_COUNT };
static const char *const section_names[S_COUNT] = {"principal", "token", "tool", "args",
						   "context"};
static const char *const hint_names[4] = {"read_only", "destructive", "idempotent",
					  "open_world"};

/* flags */
enum {
	HAVE_ID = 1u << 0,
	BAD_ID = 1u << 1,
	HAVE_METHOD = 1u << 2,
	BAD_METHOD = 1u << 3,
	HAVE_TARGET = 1u << 4,
	BAD_TARGET = 1u << 5,
	BAD_ROLES = 1u << 6,
	BAD_SCOPES = 1u << 7,
	HAVE_SERVER = 1u << 8,
	HAVE_CLIENT_ID = 1u << 9,
	BAD_HINT0 = 1u << 10,		/* .. 1u << 13 */
	NOT_OBJECT0 = 1u << 14,		/* .. 1u << 18, by section */
	DONE = 1u << 19,
};

static bool keepv(tg_rb *b, int prio, const char *fmt, va_list ap)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 0)))
#endif
	;

static bool keepv(tg_rb *b, int prio, const char *fmt, va_list ap)
{
	int n;

	if (prio >= b->prio || b->errlen == 0) {
		if (prio < b->prio)
			b->prio = prio;
		return prio != P_FATAL;
	}
	b->prio = prio;
	n = snprintf(b->err, b->errlen, "invalid request: ");
	if (n >= 0 && (size_t)n < b->errlen)
		vsnprintf(b->err + n, b->errlen - (size_t)n, fmt, ap);
	return prio != P_FATAL;
}

/* Keeps a message of priority prio; returns false when it is fatal. */
static bool keep(tg_rb *b, int prio, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

static bool keep(tg_rb *b, int prio, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = keepv(b, prio, fmt, ap);
	va_end(ap);
	return r;
}

bool tg_rb_fatal(tg_rb *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	keepv(b, P_FATAL, fmt, ap);
	va_end(ap);
	return false;
}

static bool oom(tg_rb *b)
{
	return tg_rb_fatal(b, "out of memory");
}

/* Room for one more element in a growable array. */
static bool grow(void **arr, size_t *cap, size_t used, size_t size)
{
	size_t ncap;
	void *p;

	if (used < *cap)
		return true;
	ncap = *cap ? 2 * *cap : 16;
	p = realloc(*arr, ncap * size);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

bool tg_rb_begin(tg_rb *b, const tg_policy *p, const tg_json_limits *lim, tg_json_request *out,
		 size_t textlen, char *err, size_t errlen)
{
	size_t i, n = p ? tg_policy_slot_count(p) : 0;

	memset(b, 0, offsetof(tg_rb, f));
	memset(&b->pend_field, 0, sizeof *b - offsetof(tg_rb, pend_field));
	b->out = out;
	b->lim = lim ? *lim : tg_json_default_limits;
	if (b->lim.depth > TG_JSON_MAX_DEPTH)
		b->lim.depth = TG_JSON_MAX_DEPTH;
	if (b->lim.string > TG_MAX_STRING_BYTES)
		b->lim.string = TG_MAX_STRING_BYTES;
	if (b->lim.list > TG_MAX_LIST_ITEMS)
		b->lim.list = TG_MAX_LIST_ITEMS;
	b->err = err;
	b->errlen = errlen;
	b->prio = P_NONE;
	b->args_tree = p && tg_policy_reads_args_tree(p);
	b->pend_slot = NO_SLOT;
	b->cap_slot = NO_SLOT;
	b->cands = b->first_cands;
	b->capcands = sizeof b->first_cands / sizeof b->first_cands[0];
	b->copy = textlen > 0;
	if (b->copy) {
		b->bytes = malloc(textlen);
		if (!b->bytes)
			return oom(b);
		b->capbytes = textlen;
		out->bytes = b->bytes;
	}
	if (n) {
		b->slots = calloc(n, sizeof *b->slots);
		out->slots = calloc(n, sizeof *out->slots);
		out->work = b->slots;
		if (!b->slots || !out->slots)
			return oom(b);
		out->nslots = b->nslots = n;
		for (i = 0; i < n; i++)
			b->slots[i].info = tg_policy_slot(p, (uint32_t)i);
	}
	return true;
}

/* A string the request keeps, or ptr NULL after a kept limit message. */
static tg_str store(tg_rb *b, const char *s, size_t n)
{
	tg_str r = {NULL, 0};

	if (n > b->lim.string) {
		keep(b, P_LIMIT, "a string is longer than %zu bytes", b->lim.string);
		return r;
	}
	if (!b->copy) {
		r.ptr = s;
		r.len = n;
		return r;
	}
	if (b->capbytes - b->nbytes < n) {
		/* Cannot happen: decoded strings are never longer than their
		 * tokens. Refuse rather than trust that. */
		tg_rb_fatal(b, "internal error: string storage exhausted");
		return r;
	}
	r.ptr = memcpy(b->bytes + b->nbytes, s, n);
	r.len = n;
	b->nbytes += n;
	return r;
}

static void nfc(tg_rb *b, tg_str s, const char *name)
{
	bool no_memory;

	if (s.ptr && b->prio > P_NFC && !tg_uni_is_nfc(s.ptr, s.len, &no_memory)) {
		if (no_memory)
			tg_rb_fatal(b, "out of memory");
		else
			keep(b, P_NFC, "'%s' is not in Unicode NFC", name);
	}
}

static const char *slot_name(const tg_rb *b, uint32_t slot)
{
	const tg_slot_info *info = slot == ARGS_SLOT ? NULL : b->slots[slot].info;

	if (slot == ARGS_SLOT)
		return "args";

	return info && info->name ? info->name : "an attribute";
}

/* ---- candidates ------------------------------------------------------- */

static tg_slot_root section_root(unsigned section, bool *has)
{
	*has = true;
	switch (section) {
	case S_PRINCIPAL:
		return TG_SLOT_PRINCIPAL;
	case S_TOKEN:
		return TG_SLOT_TOKEN;
	case S_ARGS:
		return TG_SLOT_ARGS;
	case S_CONTEXT:
		return TG_SLOT_CONTEXT;
	}
	*has = false;
	return TG_SLOT_ARGS;
}

static bool push_cand(tg_rb *b, size_t slot)
{
	if (b->ncands == b->capcands) {
		size_t cap = 2 * b->capcands;
		size_t *c = malloc(cap * sizeof *c);

		if (!c)
			return oom(b);
		memcpy(c, b->cands, b->ncands * sizeof *c);
		if (b->cands != b->first_cands)
			free(b->cands);
		b->cands = c;
		b->capcands = cap;
	}
	b->cands[b->ncands++] = slot;
	return true;
}

/* The candidates of a section object: every slot under its root. */
static bool section_cands(tg_rb *b, unsigned section, tg_rb_frame *f)
{
	bool has;
	tg_slot_root root = section_root(section, &has);
	size_t i;

	f->cand = f->cand_end = b->ncands;
	if (!has)
		return true;
	for (i = 0; i < b->nslots; i++) {
		const tg_slot_info *info = b->slots[i].info;

		if (info && info->root == root && info->ncomponents > 0 && !push_cand(b, i))
			return false;
	}
	f->cand_end = b->ncands;
	return true;
}

/* ---- read trees --------------------------------------------------------- */

static tg_node *new_node(tg_rb *b)
{
	tg_node *n;

	if (!grow((void **)&b->nodes, &b->capnodes, b->nnodes, sizeof *b->nodes)) {
		oom(b);
		return NULL;
	}
	n = &b->nodes[b->nnodes++];
	memset(n, 0, sizeof *n);
	n->key = b->pend_key;
	b->pend_key.ptr = NULL;
	b->pend_key.len = 0;
	return n;
}

/* One more member of the innermost container of a read tree or list. */
static bool count_item(tg_rb *b)
{
	tg_rb_frame *f = &b->f[b->depth];

	if (++f->items == b->lim.list + 1)
		keep(b, P_LIMIT, "a list has more than %zu elements", b->lim.list);
	return true;
}

/* Types the array whose node is nodes[r] as a slot value: a list of
 * strings or of ints moves out of the tree (which is cut back to r), any
 * other array stays a tree. */
static bool type_array(tg_rb *b, size_t r, tg_attr_type declared, tg_value *out, size_t *at,
		       bool cut)
{
	size_t n = b->nodes[r].value.u.tree.n, j, k, count = 0;
	bool strs = true, ints = true;

	for (j = r + 1; j < r + 1 + n; j++) {
		tg_value_type t = b->nodes[j].value.type;

		strs = strs && t == TG_VALUE_STRING;
		ints = ints && t == TG_VALUE_INT;
		count++;
		if (t == TG_VALUE_OBJECT || t == TG_VALUE_ARRAY)
			j += b->nodes[j].value.u.tree.n;
	}
	memset(out, 0, sizeof *out);
	if (count == 0) {
		out->type = declared == TG_ATTR_INT_LIST ? TG_VALUE_INT_LIST : TG_VALUE_STRING_LIST;
	} else if (strs) {
		*at = b->nstrs;
		for (k = 0; k < count; k++) {
			if (!grow((void **)&b->strs, &b->capstrs, b->nstrs, sizeof *b->strs))
				return oom(b);
			b->strs[b->nstrs++] = b->nodes[r + 1 + k].value.u.s;
		}
		out->type = TG_VALUE_STRING_LIST;
		out->u.strs.n = count;
	} else if (ints) {
		*at = b->nints;
		for (k = 0; k < count; k++) {
			if (!grow((void **)&b->ints, &b->capints, b->nints, sizeof *b->ints))
				return oom(b);
			b->ints[b->nints++] = b->nodes[r + 1 + k].value.u.i;
		}
		out->type = TG_VALUE_INT_LIST;
		out->u.ints.n = count;
	} else {
		out->type = TG_VALUE_ARRAY;
		out->u.tree.n = n;
		*at = r + 1;
		return true;
	}
	if (cut)
		b->nnodes = r;
	return true;
}

/* The end of the args object kept whole: its nodes, where the args slots
 * are found at the end (nested_slots). */
static bool close_args(tg_rb *b, size_t r)
{
	b->have_args = true;
	b->args_at = r + 1;
	b->args_n = b->nodes[r].value.u.tree.n;
	b->cap_object = true;
	b->cap_depth = 0;
	b->cap_slot = NO_SLOT;
	return true;
}

/* The end of a slot's outermost container. */
static bool close_capture(tg_rb *b, size_t r)
{
	tg_rb_slot *s = &b->slots[b->cap_slot];
	tg_value *v = &b->out->slots[b->cap_slot];

	s->direct = true;
	if (b->nodes[r].value.type == TG_VALUE_OBJECT) {
		memset(v, 0, sizeof *v);
		v->type = TG_VALUE_OBJECT;
		v->u.tree.n = b->nodes[r].value.u.tree.n;
		s->at = r + 1;
		b->cap_object = true;
	} else if (!type_array(b, r, s->info ? s->info->type : TG_ATTR_ANY, v, &s->at, true)) {
		return false;
	}
	b->cap_depth = 0;
	b->cap_slot = NO_SLOT;
	return true;
}

/* ---- events ------------------------------------------------------------- */

static void clear_pending(tg_rb *b)
{
	b->pend_field = F_NONE;
	b->pend_slot = NO_SLOT;
	b->pend_cand = b->pend_cand_end = 0;
}

/* A value of the wrong kind for the fixed field it sits at. */
static void wrong_kind(tg_rb *b, unsigned field)
{
	if (field == F_ID)
		b->flags |= BAD_ID | HAVE_ID;
	else if (field == F_METHOD)
		b->flags |= BAD_METHOD | HAVE_METHOD;
	else if (field == F_TARGET)
		b->flags |= BAD_TARGET | HAVE_TARGET;
	else if (field == F_ROLES)
		b->flags |= BAD_ROLES;
	else if (field == F_SCOPES)
		b->flags |= BAD_SCOPES;
	else if (field >= F_HINT && field < F_HINT + 4)
		b->flags |= BAD_HINT0 << (field - F_HINT);
	else if (field >= F_SECTION && field < F_SECTION + S_COUNT)
		b->flags |= NOT_OBJECT0 << (field - F_SECTION);
}

bool tg_rb_open(tg_rb *b, bool object)
{
	tg_rb_frame *f;
	unsigned field = b->pend_field;

	if (b->depth == 0) {
		if (b->flags & DONE)
			return tg_rb_fatal(b, "malformed JSON: more than one value");
		if (!object)
			return tg_rb_fatal(b, "a request must be a JSON object");
	} else if (b->depth >= b->lim.depth) {
		return tg_rb_fatal(b, "nesting is deeper than %u levels", b->lim.depth);
	}
	f = &b->f[b->depth + 1];
	f->object = object;
	f->role = R_PLAIN;
	f->items = 0;
	f->cand = f->cand_end = b->ncands;
	if (b->depth == 0) {
		f->role = R_TOP;
	} else if (b->cap_depth) {
		tg_node *n;

		if (!b->f[b->depth].object)
			count_item(b);
		n = new_node(b);
		if (!n)
			return false;
		n->value.type = object ? TG_VALUE_OBJECT : TG_VALUE_ARRAY;
		f->role = R_TREE;
		f->node = b->nnodes - 1;
	} else {
		if (b->f[b->depth].role == R_ROLES || b->f[b->depth].role == R_SCOPES) {
			/* A list inside the list: not a string. */
			count_item(b);
			b->flags |= b->f[b->depth].role == R_ROLES ? BAD_ROLES : BAD_SCOPES;
		}
		if (field == F_SECTION + S_ARGS && object && b->args_tree) {
			/* `value of` walks every argument: the whole object is
			 * kept as a read tree (limits and NFC on all of it), and
			 * the args slots are found in it at the end. */
			tg_node *n = new_node(b);

			if (!n)
				return false;
			n->value.type = TG_VALUE_OBJECT;
			f->role = R_TREE;
			f->node = b->nnodes - 1;
			b->cap_depth = b->depth + 1;
			b->cap_slot = ARGS_SLOT;
		} else if (field >= F_SECTION && object) {
			f->role = R_SECTION;
			f->section = (uint8_t)(field - F_SECTION);
			if (!section_cands(b, f->section, f))
				return false;
		} else if ((field == F_ROLES || field == F_SCOPES) && !object) {
			f->role = field == F_ROLES ? R_ROLES : R_SCOPES;
			if (field == F_ROLES)
				b->roles_at = b->nstrs;
			else
				b->scopes_at = b->nstrs;
		} else if (field != F_NONE && field != F_CLIENT_ID && field != F_SERVER) {
			wrong_kind(b, field);
		}
		if (b->pend_slot != NO_SLOT) {
			tg_node *n = new_node(b);

			if (!n)
				return false;
			n->value.type = object ? TG_VALUE_OBJECT : TG_VALUE_ARRAY;
			f->role = R_TREE;
			f->node = b->nnodes - 1;
			b->cap_depth = b->depth + 1;
			b->cap_slot = b->pend_slot;
		} else if (object && b->pend_cand_end > b->pend_cand) {
			f->cand = b->pend_cand;
			f->cand_end = b->pend_cand_end;
		}
	}
	b->depth++;
	clear_pending(b);
	return true;
}

bool tg_rb_close(tg_rb *b)
{
	tg_rb_frame *f = &b->f[b->depth];

	if (f->role == R_TREE) {
		size_t r = f->node;

		b->nodes[r].value.u.tree.n = b->nnodes - r - 1;
		if (b->depth == b->cap_depth &&
		    !(b->cap_slot == ARGS_SLOT ? close_args(b, r) : close_capture(b, r)))
			return false;
	} else if (f->role == R_ROLES) {
		b->nroles = b->nstrs - b->roles_at;
	} else if (f->role == R_SCOPES) {
		b->nscopes = b->nstrs - b->scopes_at;
	}
	b->ncands = f->cand;
	b->depth--;
	if (b->depth == 0)
		b->flags |= DONE;
	clear_pending(b);
	return true;
}

static int top_field(const char *s, size_t n)
{
#define IS(lit) (n == sizeof lit - 1 && memcmp(s, lit, n) == 0)
	if (IS("principal"))
		return F_SECTION + S_PRINCIPAL;
	if (IS("token"))
		return F_SECTION + S_TOKEN;
	if (IS("method"))
		return F_METHOD;
	if (IS("target"))
		return F_TARGET;
	if (IS("server"))
		return F_SERVER;
	if (IS("tool"))
		return F_SECTION + S_TOOL;
	if (IS("args"))
		return F_SECTION + S_ARGS;
	if (IS("context"))
		return F_SECTION + S_CONTEXT;
	return -1;
}

static int section_field(unsigned section, const char *s, size_t n)
{
	unsigned k;

	switch (section) {
	case S_PRINCIPAL:
		return IS("id") ? F_ID : IS("roles") ? F_ROLES : F_NONE;
	case S_TOKEN:
		return IS("scopes") ? F_SCOPES : IS("client_id") ? F_CLIENT_ID : F_NONE;
	case S_TOOL:
		for (k = 0; k < 4; k++)
			if (n == strlen(hint_names[k]) && memcmp(s, hint_names[k], n) == 0)
				return F_HINT + (int)k;
		return F_NONE;
	}
	return F_NONE;
#undef IS
}

bool tg_rb_key(tg_rb *b, const char *s, size_t n)
{
	tg_rb_frame *f = &b->f[b->depth];
	size_t i, level;

	clear_pending(b);
	if (n > b->lim.key)
		keep(b, P_LIMIT, "a string is longer than %zu bytes", b->lim.key);
	if (f->role == R_TREE) {
		count_item(b);
		b->pend_key = store(b, s, n);
		return b->prio != P_FATAL;
	}
	if (f->role == R_TOP) {
		int field = top_field(s, n);

		if (field < 0) {
			keep(b, P_UNKNOWN_KEY, "unknown top-level key '%.*s'", n > 64 ? 64 : (int)n,
			     s);
			return true;
		}
		b->pend_field = (uint8_t)field;
		return true;
	}
	if (f->role == R_SECTION)
		b->pend_field = (uint8_t)section_field(f->section, s, n);
	if (f->cand == f->cand_end)
		return true;
	/* Candidates of this object: slots whose path has matched so far.
	 * Those that end here take the value; the others go on into it. */
	level = 0;
	for (i = b->depth; i > 0 && b->f[i].role != R_SECTION; i--)
		level++;
	b->ncands = f->cand_end;
	b->pend_cand = b->ncands;
	for (i = f->cand; i < f->cand_end; i++) {
		size_t slot = b->cands[i];
		const tg_slot_info *info = b->slots[slot].info;
		const tg_str *c = &info->components[level];

		if (c->len != n || memcmp(c->ptr, s, n) != 0)
			continue;
		if (info->ncomponents == level + 1)
			b->pend_slot = (uint32_t)slot;
		else if (!push_cand(b, slot))
			return false;
	}
	b->pend_cand_end = b->ncands;
	return true;
}

/* A scalar as a tg_value, its string stored. */
static bool scalar_value(tg_rb *b, const tg_rb_scalar *v, tg_value *out, const char *name)
{
	memset(out, 0, sizeof *out);
	switch (v->kind) {
	case TG_RB_STRING:
		out->u.s = store(b, v->s.ptr, v->s.len);
		if (!out->u.s.ptr && v->s.len)
			return b->prio != P_FATAL;	/* over the limit: kept as absent */
		if (!out->u.s.ptr)
			out->u.s.ptr = "";
		out->type = TG_VALUE_STRING;
		nfc(b, out->u.s, name);
		break;
	case TG_RB_INT:
		out->type = TG_VALUE_INT;
		out->u.i = v->i;
		break;
	case TG_RB_BOOL:
		out->type = TG_VALUE_BOOL;
		out->u.b = v->b;
		break;
	case TG_RB_OTHER:
		out->type = TG_VALUE_OTHER;
		break;
	}
	return b->prio != P_FATAL;
}

/* A string field of the request: stored, limited, NFC-checked. */
static bool fixed_string(tg_rb *b, const tg_rb_scalar *v, tg_str *out, uint32_t have,
			 const char *name)
{
	*out = store(b, v->s.ptr, v->s.len);
	if (!out->ptr && v->s.len)
		return b->prio != P_FATAL;
	if (!out->ptr)
		out->ptr = "";
	b->flags |= have;
	if (name)
		nfc(b, *out, name);
	return b->prio != P_FATAL;
}

bool tg_rb_scalar_event(tg_rb *b, const tg_rb_scalar *v)
{
	tg_rb_frame *f = &b->f[b->depth];
	unsigned field = b->pend_field;
	bool str = v->kind == TG_RB_STRING;

	if (b->depth == 0) {
		if (b->flags & DONE)
			return tg_rb_fatal(b, "malformed JSON: more than one value");
		return tg_rb_fatal(b, "a request must be a JSON object");
	}
	if (f->role == R_TREE) {
		tg_node *n;
		size_t slot = b->cap_slot;

		if (!f->object)
			count_item(b);
		n = new_node(b);
		if (!n)
			return false;
		return scalar_value(b, v, &n->value, slot_name(b, (uint32_t)slot));
	}
	if (f->role == R_ROLES || f->role == R_SCOPES) {
		bool roles = f->role == R_ROLES;
		tg_str s;

		count_item(b);
		if (!str) {
			b->flags |= roles ? BAD_ROLES : BAD_SCOPES;
			return true;
		}
		s = store(b, v->s.ptr, v->s.len);
		if (!s.ptr && v->s.len)
			return b->prio != P_FATAL;
		if (!s.ptr)
			s.ptr = "";
		if (!grow((void **)&b->strs, &b->capstrs, b->nstrs, sizeof *b->strs))
			return oom(b);
		b->strs[b->nstrs++] = s;
		nfc(b, s, roles ? "principal.roles" : "token.scopes");
		return b->prio != P_FATAL;
	}
	switch (field) {
	case F_ID:
		if (!str)
			b->flags |= BAD_ID | HAVE_ID;
		else if (!fixed_string(b, v, &b->id, HAVE_ID, "principal.id"))
			return false;
		b->flags |= HAVE_ID;
		break;
	case F_METHOD:
		b->flags |= HAVE_METHOD;
		if (!str)
			b->flags |= BAD_METHOD;
		else if (!fixed_string(b, v, &b->method, HAVE_METHOD, NULL))
			return false;
		break;
	case F_TARGET:
		b->flags |= HAVE_TARGET;
		if (!str) {
			b->flags |= BAD_TARGET;
		} else {
			/* Limited and NFC-checked at the end, and only when the
			 * method reads it. */
			b->target.ptr = b->copy ? b->bytes + b->nbytes : v->s.ptr;
			b->target.len = v->s.len;
			if (b->copy) {
				if (b->capbytes - b->nbytes < v->s.len)
					return tg_rb_fatal(b, "internal error: string storage exhausted");
				memcpy(b->bytes + b->nbytes, v->s.ptr, v->s.len);
				b->nbytes += v->s.len;
			}
		}
		break;
	case F_SERVER:
		if (str && !fixed_string(b, v, &b->server, HAVE_SERVER, "server"))
			return false;
		break;
	case F_ROLES:
	case F_SCOPES:
		wrong_kind(b, field);
		break;
	default:
		if (field >= F_HINT && field < F_HINT + 4) {
			if (v->kind == TG_RB_BOOL)
				b->hints[field - F_HINT] = v->b ? TG_HINT_TRUE : TG_HINT_FALSE;
			else
				wrong_kind(b, field);
		} else if (field >= F_SECTION) {
			wrong_kind(b, field);
		}
		break;
	}
	if (b->pend_slot != NO_SLOT) {
		uint32_t slot = b->pend_slot;

		b->slots[slot].direct = true;
		if (field == F_CLIENT_ID && str) {
			/* One string, two readers: the `client` subject and the slot. */
			if (!fixed_string(b, v, &b->client_id, HAVE_CLIENT_ID, slot_name(b, slot)))
				return false;
			if (b->flags & HAVE_CLIENT_ID) {
				b->out->slots[slot].type = TG_VALUE_STRING;
				b->out->slots[slot].u.s = b->client_id;
			}
		} else if (!scalar_value(b, v, &b->out->slots[slot], slot_name(b, slot))) {
			return false;
		}
	} else if (field == F_CLIENT_ID && str &&
		   !fixed_string(b, v, &b->client_id, HAVE_CLIENT_ID, "token.client_id")) {
		return false;
	}
	clear_pending(b);
	return true;
}

/* ---- the end ------------------------------------------------------------ */

static bool str_is(const tg_str *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len == n && memcmp(s->ptr, lit, n) == 0;
}

static bool method_needs_target(const tg_str *m)
{
	return str_is(m, "tools/call") || str_is(m, "resources/read") ||
	       str_is(m, "resources/subscribe") || str_is(m, "resources/unsubscribe") ||
	       str_is(m, "prompts/get");
}

/* Slot i's value from the object whose n members start at nodes[at], its
 * components k on, one at a time down the tree; it stays absent when a key
 * is missing or a member on the way is not an object. */
static bool resolve_slot(tg_rb *b, size_t i, size_t k, size_t at, size_t n)
{
	const tg_slot_info *si = b->slots[i].info;

	for (; k < si->ncomponents; k++) {
		const tg_str *c = &si->components[k];
		size_t e = at, end = at + n, found = SIZE_MAX;

		while (e < end) {
			const tg_node *x = &b->nodes[e];

			if (x->key.len == c->len && memcmp(x->key.ptr, c->ptr, c->len) == 0) {
				found = e;
				break;
			}
			e += 1 + ((x->value.type == TG_VALUE_OBJECT || x->value.type == TG_VALUE_ARRAY)
					  ? x->value.u.tree.n
					  : 0);
		}
		if (found == SIZE_MAX)
			return true;
		if (k + 1 == si->ncomponents) {
			tg_value *v = &b->out->slots[i];
			const tg_node *x = &b->nodes[found];

			if (x->value.type == TG_VALUE_ARRAY)
				return type_array(b, found, si->type, v, &b->slots[i].at, false);
			*v = x->value;
			b->slots[i].at = found + 1;
			return true;
		}
		if (b->nodes[found].value.type != TG_VALUE_OBJECT)
			return true;
		at = found + 1;
		n = b->nodes[found].value.u.tree.n;
	}
	return true;
}

/* Slots below a kept object (args.o.p when args.o is read too) take their
 * value from its tree: the first directly kept slot on their path, or the
 * args object when it is kept whole (then no args slot is kept directly:
 * keys inside a read tree are not matched against slots). */
static bool nested_slots(tg_rb *b)
{
	size_t i, j, k;

	for (i = 0; i < b->nslots; i++) {
		const tg_slot_info *si = b->slots[i].info;

		if (b->slots[i].direct || !si)
			continue;
		if (b->have_args && si->root == TG_SLOT_ARGS) {
			if (!resolve_slot(b, i, 0, b->args_at, b->args_n))
				return false;
			continue;
		}
		for (j = 0; j < b->nslots; j++) {
			const tg_slot_info *sj = b->slots[j].info;
			const tg_value *top = &b->out->slots[j];

			if (!b->slots[j].direct || !sj || top->type != TG_VALUE_OBJECT ||
			    sj->root != si->root || sj->ncomponents >= si->ncomponents)
				continue;
			for (k = 0; k < sj->ncomponents; k++)
				if (sj->components[k].len != si->components[k].len ||
				    memcmp(sj->components[k].ptr, si->components[k].ptr,
					   si->components[k].len) != 0)
					break;
			if (k < sj->ncomponents)
				continue;
			if (!resolve_slot(b, i, k, b->slots[j].at, top->u.tree.n))
				return false;
			break;
		}
	}
	return true;
}

/* Indices to pointers, now that no array moves any more. */
static void fix_pointers(tg_rb *b)
{
	tg_json_request *o = b->out;
	size_t i;

	for (i = 0; i < b->nnodes; i++) {
		tg_value *v = &b->nodes[i].value;

		if (v->type == TG_VALUE_OBJECT || v->type == TG_VALUE_ARRAY)
			v->u.tree.nodes = v->u.tree.n ? &b->nodes[i + 1] : NULL;
	}
	for (i = 0; i < b->nslots; i++) {
		tg_value *v = &o->slots[i];

		if (v->type == TG_VALUE_STRING_LIST)
			v->u.strs.items = v->u.strs.n ? b->strs + b->slots[i].at : NULL;
		else if (v->type == TG_VALUE_INT_LIST)
			v->u.ints.items = v->u.ints.n ? b->ints + b->slots[i].at : NULL;
		else if (v->type == TG_VALUE_OBJECT || v->type == TG_VALUE_ARRAY)
			v->u.tree.nodes = v->u.tree.n ? b->nodes + b->slots[i].at : NULL;
	}
	o->strs = b->strs;
	o->ints = b->ints;
	o->nodes = b->nodes;
}

static void release(tg_rb *b)
{
	tg_json_request *o = b->out;

	/* What the request does not own yet. */
	if (o->strs != b->strs)
		free(b->strs);
	if (o->ints != b->ints)
		free(b->ints);
	if (o->nodes != b->nodes)
		free(b->nodes);
	if (b->cands != b->first_cands)
		free(b->cands);
	b->strs = NULL;
	b->ints = NULL;
	b->nodes = NULL;
	b->cands = NULL;
}

void tg_rb_abort(tg_rb *b)
{
	release(b);
}

int tg_rb_end(tg_rb *b)
{
	tg_request *req = &b->out->req;
	uint32_t fl = b->flags;
	const char *why = NULL;
	unsigned k;
	bool needs_target;

	if (b->prio == P_FATAL)
		goto fail;
	if (!(fl & DONE) || b->depth != 0) {
		tg_rb_fatal(b, "malformed JSON: the request ends early");
		goto fail;
	}
	for (k = 0; k < S_COUNT; k++)
		if (fl & (NOT_OBJECT0 << k)) {
			keep(b, P_SECTION, "%s must be an object", section_names[k]);
			break;
		}
	if (!(fl & HAVE_ID))
		keep(b, P_ID, "missing principal.id");
	else if (fl & BAD_ID)
		keep(b, P_ID, "principal.id must be a string");
	if (!(fl & HAVE_METHOD))
		keep(b, P_METHOD, "missing method");
	else if (fl & BAD_METHOD)
		keep(b, P_METHOD, "method must be a string");
	needs_target = (fl & HAVE_METHOD) && !(fl & BAD_METHOD) && b->method.ptr &&
		       method_needs_target(&b->method);
	if (needs_target) {
		if (!(fl & HAVE_TARGET))
			keep(b, P_TARGET, "%.*s needs a target", (int)b->method.len, b->method.ptr);
		else if (fl & BAD_TARGET)
			keep(b, P_TARGET, "target must be a string");
		else if (b->target.len > b->lim.string)
			keep(b, P_LIMIT, "a string is longer than %zu bytes", b->lim.string);
		else
			nfc(b, b->target, "target");
	}
	if (fl & BAD_ROLES)
		keep(b, P_ROLES, "principal.roles must be a list of strings");
	if (fl & BAD_SCOPES)
		keep(b, P_SCOPES, "token.scopes must be a list of strings");
	for (k = 0; k < 4; k++)
		if (fl & (BAD_HINT0 << k)) {
			keep(b, P_HINT, "tool.%s must be a boolean", hint_names[k]);
			break;
		}
	if (b->prio != P_NONE)
		goto fail;
	if (b->cap_object && !nested_slots(b))
		goto fail;
	fix_pointers(b);

	req->principal_id = b->id;
	req->method = b->method;
	if (needs_target)
		req->target = b->target;
	if (fl & HAVE_SERVER)
		req->server = b->server;
	if (fl & HAVE_CLIENT_ID)
		req->client_id = b->client_id;
	req->roles = b->nroles ? b->strs + b->roles_at : NULL;
	req->nroles = b->nroles;
	req->scopes = b->nscopes ? b->strs + b->scopes_at : NULL;
	req->nscopes = b->nscopes;
	req->read_only = b->hints[0];
	req->destructive = b->hints[1];
	req->idempotent = b->hints[2];
	req->open_world = b->hints[3];
	req->slots = b->out->slots;
	req->nslots = b->out->nslots;
	if (b->args_tree) {
		/* what `value of` walks; a call without arguments has {} */
		req->args.type = TG_VALUE_OBJECT;
		req->args.u.tree.n = b->have_args ? b->args_n : 0;
		req->args.u.tree.nodes = req->args.u.tree.n ? b->nodes + b->args_at : NULL;
	}
	/* Every string in it has passed tg_uni_check and the limits. */
	req->flags = TG_REQUEST_VALIDATED;
	release(b);
	if (tg_request_check(req, &why) != TG_OK) {
		const char *prefix = "invalid request: ";

		if (why && strncmp(why, prefix, strlen(prefix)) == 0)
			why += strlen(prefix);
		keep(b, P_RUNTIME, "%s", why ? why : "rejected by the runtime");
		return -1;
	}
	return 0;
fail:
	release(b);
	return -1;
}
