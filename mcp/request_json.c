/*
 * request_json.c - JSON requests to tg_request, decisions to JSON.
 *
 * The model: jansson parses (rejecting duplicate keys, U+0000 and invalid
 * UTF-8 in the text), then one walk over the whole tree enforces the limits
 * and re-checks every string, so a tree built from YAML gets exactly the
 * checks a parsed one does. The request's shape is validated next, and only
 * then are the fixed fields and the policy's slots filled, with pointers
 * borrowed from the tree: the tg_json_request owns a reference to it, so its
 * tg_request stays valid until tg_json_request_free. Last,
 * tg_request_check applies the runtime's own rules (resource URIs), so the
 * CLI rejects exactly what the library would.
 *
 * One wrinkle: jansson refuses integers outside int64 and reals that
 * overflow a double, where DESIGN makes them present values of type other.
 * A pre-scan finds such number tokens outside strings and parses a copy of
 * the text in which each is replaced by 0.5, a real, which types as other.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request_json.h"

static bool fail(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (errlen == 0)
		return false;
	n = snprintf(err, errlen, "invalid request: ");
	if (n < 0 || (size_t)n >= errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

/* ---- number pre-scan ---------------------------------------------------- */

/* Length of the JSON number token at s (RFC 8259 grammar), 0 when s does not
 * start one. *integer tells whether it has neither fraction nor exponent. */
static size_t number_token(const char *s, const char *end, bool *integer)
{
	const char *p = s;

	*integer = true;
	if (p < end && *p == '-')
		p++;
	if (p == end || *p < '0' || *p > '9')
		return 0;
	if (*p == '0')
		p++;
	else
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	if (p < end && *p == '.') {
		*integer = false;
		if (++p == end || *p < '0' || *p > '9')
			return 0;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		*integer = false;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || *p < '0' || *p > '9')
			return 0;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	return (size_t)(p - s);
}

/* True when jansson would refuse the number token s[0..n). */
static bool number_out_of_range(const char *s, size_t n, bool integer)
{
	if (integer) {
		bool neg = s[0] == '-';
		const char *d = s + neg;
		size_t nd = n - neg;
		const char *lim = neg ? "9223372036854775808" : "9223372036854775807";

		if (nd != 19)
			return nd > 19;
		return memcmp(d, lim, 19) > 0;
	} else {
		char buf[64], *copy = buf, *endp;
		double v;
		bool huge;

		if (n >= sizeof buf) {
			copy = malloc(n + 1);
			if (!copy)
				return false;	/* jansson will report it */
		}
		memcpy(copy, s, n);
		copy[n] = '\0';
		errno = 0;
		v = strtod(copy, &endp);
		huge = errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL);
		if (copy != buf)
			free(copy);
		return huge;
	}
}

/* True when s[0..n) stands alone between JSON punctuation or whitespace. */
static bool delimited(const char *text, const char *s, size_t n, const char *end)
{
	if (s > text && (s[-1] == '\0' || !strchr(" \t\r\n[,:", s[-1])))
		return false;
	return s + n == end || (s[n] != '\0' && strchr(" \t\r\n,]}", s[n]));
}

/*
 * Returns a malloc'd copy of text with every out-of-range number replaced by
 * "0.5" (length in *outlen), or NULL when there is none (or no memory: then
 * jansson reports the number as it would have anyway).
 */
static char *rewrite_numbers(const char *text, size_t len, size_t *outlen)
{
	const char *p = text, *end = text + len, *copied = text;
	char *out = NULL;
	size_t n = 0;
	bool integer;

	while (p < end) {
		size_t tok;

		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\' && p + 1 < end)
					p++;
			if (p < end)
				p++;
			continue;
		}
		if (*p != '-' && (*p < '0' || *p > '9')) {
			p++;
			continue;
		}
		tok = number_token(p, end, &integer);
		if (tok == 0) {
			p++;
			continue;
		}
		/* Only a whole value is replaced, so the rewrite can never make
		 * malformed text ("1-99999999999999999999") well-formed. */
		if (delimited(text, p, tok, end) && number_out_of_range(p, tok, integer)) {
			if (!out) {
				/* Each replacement is no longer than its token. */
				out = malloc(len + 1);
				if (!out)
					return NULL;
			}
			memcpy(out + n, copied, (size_t)(p - copied));
			n += (size_t)(p - copied);
			memcpy(out + n, "0.5", 3);
			n += 3;
			copied = p + tok;
		}
		p += tok;
	}
	if (!out)
		return NULL;
	memcpy(out + n, copied, (size_t)(end - copied));
	n += (size_t)(end - copied);
	*outlen = n;
	return out;
}

/* ---- the tree walk: limits and strings ---------------------------------- */

static bool utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t n, k;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

static bool check_string(const char *s, size_t len, char *err, size_t errlen)
{
	if (len > TG_MAX_STRING_BYTES)
		return fail(err, errlen, "a string is longer than %u bytes", TG_MAX_STRING_BYTES);
	if (memchr(s, '\0', len))
		return fail(err, errlen, "a string contains U+0000");
	if (!utf8_valid((const unsigned char *)s, len))
		return fail(err, errlen, "a string is not valid UTF-8");
	return true;
}

/* depth: how many objects and arrays enclose v, v included if it is one. */
static bool walk(json_t *v, unsigned depth, char *err, size_t errlen)
{
	size_t i;
	void *it;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (depth > TG_JSON_MAX_DEPTH)
			return fail(err, errlen, "nesting is deeper than %u levels",
				    TG_JSON_MAX_DEPTH);
		for (it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
			if (!check_string(json_object_iter_key(it), json_object_iter_key_len(it),
					  err, errlen))
				return false;
			if (!walk(json_object_iter_value(it), depth + 1, err, errlen))
				return false;
		}
		return true;
	case JSON_ARRAY:
		if (depth > TG_JSON_MAX_DEPTH)
			return fail(err, errlen, "nesting is deeper than %u levels",
				    TG_JSON_MAX_DEPTH);
		if (json_array_size(v) > TG_MAX_LIST_ITEMS)
			return fail(err, errlen, "a list has more than %u elements",
				    TG_MAX_LIST_ITEMS);
		for (i = 0; i < json_array_size(v); i++)
			if (!walk(json_array_get(v, i), depth + 1, err, errlen))
				return false;
		return true;
	case JSON_STRING:
		return check_string(json_string_value(v), json_string_length(v), err, errlen);
	default:
		return true;
	}
}

/* ---- shape -------------------------------------------------------------- */

static const char *const top_keys[] = {
	"principal", "token", "method", "target", "server", "tool", "args", "context",
};

static const char *const sections[] = {"principal", "token", "tool", "args", "context"};

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

static tg_str str_of(const json_t *v)
{
	tg_str s = {json_string_value(v), json_string_length(v)};

	return s;
}

/* A list of strings into a malloc'd tg_str array; absent -> empty. */
static bool string_list(json_t *v, const char *what, tg_str **out, size_t *n, char *err,
			size_t errlen)
{
	size_t i;

	*out = NULL;
	*n = 0;
	if (!v)
		return true;
	if (!json_is_array(v))
		return fail(err, errlen, "%s must be a list of strings", what);
	for (i = 0; i < json_array_size(v); i++)
		if (!json_is_string(json_array_get(v, i)))
			return fail(err, errlen, "%s must be a list of strings", what);
	if (json_array_size(v) == 0)
		return true;
	*out = malloc(json_array_size(v) * sizeof **out);
	if (!*out)
		return fail(err, errlen, "out of memory");
	for (i = 0; i < json_array_size(v); i++)
		(*out)[i] = str_of(json_array_get(v, i));
	*n = json_array_size(v);
	return true;
}

static bool annotation(json_t *tool, const char *key, tg_hint *out, char *err, size_t errlen)
{
	json_t *v = tool ? json_object_get(tool, key) : NULL;

	*out = TG_HINT_ABSENT;
	if (!v)
		return true;
	if (!json_is_boolean(v))
		return fail(err, errlen, "tool.%s must be a boolean", key);
	*out = json_is_true(v) ? TG_HINT_TRUE : TG_HINT_FALSE;
	return true;
}

/* ---- slots -------------------------------------------------------------- */

static const char *root_key(tg_slot_root root)
{
	switch (root) {
	case TG_SLOT_PRINCIPAL:
		return "principal";
	case TG_SLOT_TOKEN:
		return "token";
	case TG_SLOT_CONTEXT:
		return "context";
	case TG_SLOT_ARGS:
		return "args";
	}
	return NULL;
}

/* Types v by DESIGN's value rules. Returns false only when out of memory. */
/* Nodes below v when it becomes a tree (objects and arrays count their
 * members, recursively). */
static size_t tree_size(const json_t *v)
{
	size_t n = 0, i;
	const char *key;
	json_t *m;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, m)
			n += 1 + tree_size(m);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			n += 1 + tree_size(m);
	}
	return n;
}

/* One leaf or container of a tree: inside a tree, arrays stay arrays (the
 * tree is the JSON as it was); strings point into the document. Returns
 * the next free node. */
static tg_node *fill_tree(const json_t *v, tg_value *out, tg_node *next);

static tg_node *fill_node(tg_node *at, const char *key, size_t keylen, const json_t *v)
{
	at->key.ptr = key;
	at->key.len = keylen;
	return fill_tree(v, &at->value, at + 1);
}

static tg_node *fill_tree(const json_t *v, tg_value *out, tg_node *next)
{
	tg_node *first = next;
	const char *key;
	json_t *m;
	size_t i;

	memset(out, 0, sizeof *out);
	switch (json_typeof(v)) {
	case JSON_STRING:
		out->type = TG_VALUE_STRING;
		out->u.s = str_of(v);
		return next;
	case JSON_INTEGER:
		out->type = TG_VALUE_INT;
		out->u.i = (int64_t)json_integer_value(v);
		return next;
	case JSON_TRUE:
	case JSON_FALSE:
		out->type = TG_VALUE_BOOL;
		out->u.b = json_is_true(v);
		return next;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, m)
			next = fill_node(next, key, strlen(key), m);
		out->type = TG_VALUE_OBJECT;
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, m)
			next = fill_node(next, NULL, 0, m);
		out->type = TG_VALUE_ARRAY;
		break;
	default:
		out->type = TG_VALUE_OTHER;
		return next;
	}
	out->u.tree.nodes = first;
	out->u.tree.n = (size_t)(next - first);
	return next;
}

/* An object or a mixed array as a borrowed tree in one allocation. */
static bool tree_value(const json_t *v, tg_value *out)
{
	size_t n = tree_size(v);
	tg_node *nodes = malloc((n ? n : 1) * sizeof *nodes);

	if (!nodes)
		return false;
	fill_tree(v, out, nodes);
	return true;
}

static bool type_value(json_t *v, tg_attr_type declared, tg_value *out)
{
	size_t i, n;
	bool strs = true, ints = true;

	memset(out, 0, sizeof *out);
	if (!v)
		return true;
	switch (json_typeof(v)) {
	case JSON_STRING:
		out->type = TG_VALUE_STRING;
		out->u.s = str_of(v);
		return true;
	case JSON_INTEGER:
		out->type = TG_VALUE_INT;
		out->u.i = (int64_t)json_integer_value(v);
		return true;
	case JSON_TRUE:
	case JSON_FALSE:
		out->type = TG_VALUE_BOOL;
		out->u.b = json_is_true(v);
		return true;
	case JSON_ARRAY:
		break;
	case JSON_OBJECT:
		return tree_value(v, out);
	default:
		out->type = TG_VALUE_OTHER;
		return true;
	}
	n = json_array_size(v);
	for (i = 0; i < n; i++) {
		strs = strs && json_is_string(json_array_get(v, i));
		ints = ints && json_is_integer(json_array_get(v, i));
	}
	if (n == 0) {
		/* An empty list is a list of whatever the policy declared. */
		out->type = declared == TG_ATTR_INT_LIST ? TG_VALUE_INT_LIST : TG_VALUE_STRING_LIST;
	} else if (strs) {
		tg_str *items = malloc(n * sizeof *items);

		if (!items)
			return false;
		for (i = 0; i < n; i++)
			items[i] = str_of(json_array_get(v, i));
		out->type = TG_VALUE_STRING_LIST;
		out->u.strs.items = items;
		out->u.strs.n = n;
	} else if (ints) {
		int64_t *items = malloc(n * sizeof *items);

		if (!items)
			return false;
		for (i = 0; i < n; i++)
			items[i] = (int64_t)json_integer_value(json_array_get(v, i));
		out->type = TG_VALUE_INT_LIST;
		out->u.ints.items = items;
		out->u.ints.n = n;
	} else {
		return tree_value(v, out);
	}
	return true;
}

static bool fill_slots(tg_json_request *r, const tg_policy *p, char *err, size_t errlen)
{
	size_t i, k, n = p ? tg_policy_slot_count(p) : 0;

	if (n == 0)
		return true;
	r->slots = calloc(n, sizeof *r->slots);
	if (!r->slots)
		return fail(err, errlen, "out of memory");
	r->nslots = n;
	for (i = 0; i < n; i++) {
		const tg_slot_info *info = tg_policy_slot(p, (uint32_t)i);
		const char *key;
		json_t *v;

		if (!info)
			continue;
		key = root_key(info->root);
		v = key ? json_object_get(r->root, key) : NULL;
		for (k = 0; v && k < info->ncomponents; k++) {
			if (!json_is_object(v)) {
				v = NULL;
				break;
			}
			v = json_object_getn(v, info->components[k].ptr, info->components[k].len);
		}
		if (!type_value(v, info->type, &r->slots[i]))
			return fail(err, errlen, "out of memory");
	}
	return true;
}

/* ---- building ----------------------------------------------------------- */

static bool build(tg_json_request *r, const tg_policy *p, char *err, size_t errlen)
{
	json_t *root = r->root, *principal, *token, *tool, *v;
	tg_request *req = &r->req;
	const char *why = NULL;
	size_t i, k;
	void *it;

	if (!json_is_object(root))
		return fail(err, errlen, "a request must be a JSON object");
	if (!walk(root, 1, err, errlen))
		return false;
	for (it = json_object_iter(root); it; it = json_object_iter_next(root, it)) {
		const char *key = json_object_iter_key(it);
		bool known = false;

		for (k = 0; k < sizeof top_keys / sizeof top_keys[0]; k++)
			known = known || strcmp(key, top_keys[k]) == 0;
		if (!known)
			return fail(err, errlen, "unknown top-level key '%.64s'", key);
	}
	for (k = 0; k < sizeof sections / sizeof sections[0]; k++) {
		v = json_object_get(root, sections[k]);
		if (v && !json_is_object(v))
			return fail(err, errlen, "%s must be an object", sections[k]);
	}
	principal = json_object_get(root, "principal");
	token = json_object_get(root, "token");
	tool = json_object_get(root, "tool");

	tg_request_init(req);
	v = principal ? json_object_get(principal, "id") : NULL;
	if (!v)
		return fail(err, errlen, "missing principal.id");
	if (!json_is_string(v))
		return fail(err, errlen, "principal.id must be a string");
	req->principal_id = str_of(v);
	v = json_object_get(root, "method");
	if (!v)
		return fail(err, errlen, "missing method");
	if (!json_is_string(v))
		return fail(err, errlen, "method must be a string");
	req->method = str_of(v);
	if (method_needs_target(&req->method)) {
		v = json_object_get(root, "target");
		if (!v)
			return fail(err, errlen, "%.*s needs a target", (int)req->method.len,
				    req->method.ptr);
		if (!json_is_string(v))
			return fail(err, errlen, "target must be a string");
		req->target = str_of(v);
	}
	v = json_object_get(root, "server");
	if (v && json_is_string(v))
		req->server = str_of(v);

	if (!string_list(principal ? json_object_get(principal, "roles") : NULL,
			 "principal.roles", &r->roles, &i, err, errlen))
		return false;
	req->roles = r->roles;
	req->nroles = i;
	if (!string_list(token ? json_object_get(token, "scopes") : NULL, "token.scopes",
			 &r->scopes, &i, err, errlen))
		return false;
	req->scopes = r->scopes;
	req->nscopes = i;
	v = token ? json_object_get(token, "client_id") : NULL;
	if (v && json_is_string(v))
		req->client_id = str_of(v);

	if (!annotation(tool, "read_only", &req->read_only, err, errlen) ||
	    !annotation(tool, "destructive", &req->destructive, err, errlen) ||
	    !annotation(tool, "idempotent", &req->idempotent, err, errlen) ||
	    !annotation(tool, "open_world", &req->open_world, err, errlen))
		return false;

	if (!fill_slots(r, p, err, errlen))
		return false;
	req->slots = r->slots;
	req->nslots = r->nslots;

	if (tg_request_check(req, &why) != TG_OK) {
		const char *prefix = "invalid request: ";

		if (why && strncmp(why, prefix, strlen(prefix)) == 0)
			why += strlen(prefix);
		return fail(err, errlen, "%s", why ? why : "rejected by the runtime");
	}
	return true;
}

int tg_json_request_from_json(const tg_policy *p, json_t *root, tg_json_request *out, char *err,
			      size_t errlen)
{
	memset(out, 0, sizeof *out);
	tg_request_init(&out->req);
	if (errlen > 0)
		err[0] = '\0';
	if (!root) {
		fail(err, errlen, "no request");
		return -1;
	}
	out->root = json_incref(root);
	if (!build(out, p, err, errlen)) {
		tg_json_request_free(out);
		return -1;
	}
	return 0;
}

int tg_json_request_parse(const tg_policy *p, const char *text, size_t len, tg_json_request *out,
			  char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	char *copy;
	size_t copylen = 0;
	int rc;

	memset(out, 0, sizeof *out);
	tg_request_init(&out->req);
	if (errlen > 0)
		err[0] = '\0';
	if (len > TG_JSON_MAX_BODY) {
		fail(err, errlen, "the request is larger than %u bytes", TG_JSON_MAX_BODY);
		return -1;
	}
	copy = rewrite_numbers(text, len, &copylen);
	root = json_loadb(copy ? copy : text, copy ? copylen : len, JSON_REJECT_DUPLICATES, &jerr);
	free(copy);
	if (!root) {
		/* jansson's wording names its own flags; say what the rule is. */
		if (strncmp(jerr.text, "duplicate object key", 20) == 0)
			fail(err, errlen, "duplicate key at line %d, column %d", jerr.line,
			     jerr.column);
		else if (strstr(jerr.text, "\\u0000"))
			fail(err, errlen, "a string contains U+0000 at line %d, column %d",
			     jerr.line, jerr.column);
		else if (strstr(jerr.text, "invalid Unicode") ||
			 strstr(jerr.text, "unable to decode byte"))
			fail(err, errlen, "a string is not valid UTF-8 at line %d, column %d",
			     jerr.line, jerr.column);
		else
			fail(err, errlen, "malformed JSON at line %d, column %d: %s", jerr.line,
			     jerr.column, jerr.text);
		return -1;
	}
	rc = tg_json_request_from_json(p, root, out, err, errlen);
	json_decref(root);
	return rc;
}

void tg_json_request_free(tg_json_request *r)
{
	size_t i;

	for (i = 0; i < r->nslots; i++) {
		if (r->slots[i].type == TG_VALUE_STRING_LIST)
			free((void *)r->slots[i].u.strs.items);
		else if (r->slots[i].type == TG_VALUE_INT_LIST)
			free((void *)r->slots[i].u.ints.items);
		else if (r->slots[i].type == TG_VALUE_OBJECT || r->slots[i].type == TG_VALUE_ARRAY)
			free((void *)r->slots[i].u.tree.nodes);
	}
	free(r->slots);
	free(r->roles);
	free(r->scopes);
	json_decref(r->root);
	memset(r, 0, sizeof *r);
	tg_request_init(&r->req);
}

bool tg_json_line_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* ---- decisions to JSON -------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s, 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	return n <= len && utf8_valid(s, n) ? n : 0;
}

void tg_json_write_string(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	putc('"', out);
	while (i < len) {
		unsigned char c = p[i];

		switch (c) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (c < 0x20) {
				fprintf(out, "\\u%04x", c);
				break;
			}
			n = utf8_seq(p + i, len - i);
			if (n == 0) {
				fputs("\\ufffd", out);
				break;
			}
			fwrite(p + i, 1, n, out);
			i += n;
			continue;
		}
		i++;
	}
	putc('"', out);
}

static void write_opt_string(FILE *out, const char *s)
{
	if (s)
		tg_json_write_string(out, s, strlen(s));
	else
		fputs("null", out);
}

int tg_decision_write_json(FILE *out, const tg_decision *d)
{
	bool invalid = tg_decision_invalid(d);
	size_t i, n;

	fprintf(out, "{\"decision\":\"%s\",\"rule\":",
		tg_decision_effect(d) == TG_ALLOW ? "allow" : "deny");
	write_opt_string(out, invalid ? NULL : tg_decision_rule_id(d));
	fputs(",\"reason\":", out);
	write_opt_string(out, tg_decision_reason(d));
	fputs(",\"errors\":[", out);
	n = invalid ? 0 : tg_decision_error_count(d);
	for (i = 0; i < n; i++) {
		const char *rule, *message;

		(void)tg_decision_error(d, i, NULL, &rule, &message);
		fputs(i ? ",{\"rule\":" : "{\"rule\":", out);
		write_opt_string(out, rule);
		fputs(",\"message\":", out);
		tg_json_write_string(out, message, strlen(message));
		putc('}', out);
	}
	putc(']', out);
	if (invalid)
		fputs(",\"invalid\":true", out);
	putc('}', out);
	return ferror(out) ? -1 : 0;
}

char *tg_decision_to_json(const tg_decision *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int rc;

	if (!mem)
		return NULL;
	rc = tg_decision_write_json(mem, d);
	if (fclose(mem) != 0 || rc != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
