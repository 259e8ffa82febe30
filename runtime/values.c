/*
 * values.c - the subject of a value quantifier (`any value of args.PATH
 * OP V`): the object or array at a path of the request's `args` tree, and
 * the path's display name for error messages.
 *
 * The quantifier reads tg_request.args, never the slots: a slot holds one
 * attribute a transport chose to extract, the tree holds the arguments as
 * they came, which is what a walk over "every value" must see. The tree
 * was validated with the request (request.c tree_problem: counts inside
 * their parents, keys exactly inside objects), so the search below follows
 * its counts without further checks.
 */
#include "policy.h"

#include <string.h>

/* The member `key` of object v, or NULL. Children are laid out in
 * preorder: a container child is followed by its own subtree, skipped. */
static const tg_value *member(const tg_value *v, tg_str key)
{
	const tg_node *nodes = v->u.tree.nodes;
	size_t n = v->u.tree.n;
	for (size_t i = 0; i < n; i++) {
		const tg_node *e = &nodes[i];
		if (e->key.len == key.len && (key.len == 0 || memcmp(e->key.ptr, key.ptr, key.len) == 0))
			return &e->value;
		if (e->value.type == TG_VALUE_OBJECT || e->value.type == TG_VALUE_ARRAY)
			i += e->value.u.tree.n;
	}
	return NULL;
}

const tg_value *tg_args_at(const tg_layout *l, const tg_request *r, uint32_t first, uint32_t n)
{
	const tg_value *v = &r->args;
	if (v->type != TG_VALUE_OBJECT)
		return NULL;	/* absent (a request's args is an object or absent) */
	for (uint32_t k = 0; k < n; k++) {
		if (v->type != TG_VALUE_OBJECT)
			return NULL;	/* a key below a non-object is absent */
		v = member(v, tg_pol_str(l, tg_pol_ref(l, first + k)));
		if (!v || v->type == TG_VALUE_ABSENT)
			return NULL;
	}
	return v;
}

/* A key written after a `.` is a word; any other is quoted in brackets
 * with the escapes of a string literal, as the compiler writes slot names
 * (resolve.c buf_field): args.options, args["content-type"]. */
static bool is_word(tg_str s)
{
	if (s.len == 0 || (s.ptr[0] >= '0' && s.ptr[0] <= '9'))
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

static size_t put(char *buf, size_t cap, size_t at, const char *s, size_t len)
{
	for (size_t i = 0; i < len && at + 1 < cap; i++)
		buf[at++] = s[i];
	buf[at < cap ? at : cap - 1] = 0;
	return at;
}

void tg_args_name(const tg_layout *l, uint32_t first, uint32_t n, char *buf, size_t cap)
{
	size_t at = put(buf, cap, 0, "args", 4);
	for (uint32_t k = 0; k < n; k++) {
		tg_str s = tg_pol_str(l, tg_pol_ref(l, first + k));
		bool word = is_word(s);
		if (word) {
			at = put(buf, cap, at, ".", 1);
			at = put(buf, cap, at, s.ptr, s.len);
			continue;
		}
		at = put(buf, cap, at, "[\"", 2);
		for (size_t i = 0; i < s.len; i++) {
			unsigned char ch = (unsigned char)s.ptr[i];
			char esc[8] = { '\\', (char)ch };
			static const char hex[] = "0123456789abcdef";
			size_t w = 2;
			if (ch == '\n' || ch == '\t') {
				esc[1] = ch == '\n' ? 'n' : 't';
			} else if (ch < 0x20 || ch == 0x7f) {
				memcpy(esc, "\\u{", 3);
				esc[3] = hex[ch >> 4];
				esc[4] = hex[ch & 15];
				esc[5] = '}';
				w = ch >> 4 ? 6 : 5;
				if (!(ch >> 4))
					esc[3] = hex[ch], esc[4] = '}';
			} else if (ch != '"' && ch != '\\') {
				esc[0] = (char)ch;
				w = 1;
			}
			at = put(buf, cap, at, esc, w);
		}
		at = put(buf, cap, at, "\"]", 2);
	}
}
