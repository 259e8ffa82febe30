/*
 * request_json.c - JSON requests to tg_request, decisions to JSON.
 *
 * Text goes through json_events.c, a jansson tree through the walk below;
 * both only produce events for request_build.c, which holds every rule of
 * typing and validity, so `toolgate eval` and `toolgate test` (and the
 * proxy's adapter) cannot read one request two ways. The walk re-checks
 * every string and key of the tree, because a tree built from YAML has
 * not been through a JSON parser's checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_events.h"
#include "request_build.h"
#include "request_json.h"
#include "unicode.h"

static bool tree_string(tg_rb *b, const char *s, size_t n)
{
	switch (tg_uni_check(s, n)) {
	case TG_UNI_OK:
		return true;
	case TG_UNI_NUL:
		return tg_rb_fatal(b, "a string contains U+0000");
	case TG_UNI_BAD_UTF8:
		break;
	}
	return tg_rb_fatal(b, "a string is not valid UTF-8");
}

/* The tree as the events a parser would give for it, in document order
 * (jansson keeps objects in insertion order). */
static bool walk(tg_rb *b, json_t *v);

bool tg_rb_walk_members(tg_rb *b, json_t *obj)
{
	const char *key;
	json_t *m;

	json_object_foreach(obj, key, m) {
		size_t n = strlen(key);

		if (!tree_string(b, key, n) || !tg_rb_key(b, key, n) || !walk(b, m))
			return false;
	}
	return true;
}

static bool walk(tg_rb *b, json_t *v)
{
	tg_rb_scalar x = {TG_RB_OTHER, {NULL, 0}, 0, false};
	json_t *m;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return tg_rb_open(b, true) && tg_rb_walk_members(b, v) && tg_rb_close(b);
	case JSON_ARRAY:
		if (!tg_rb_open(b, false))
			return false;
		json_array_foreach(v, i, m)
			if (!walk(b, m))
				return false;
		return tg_rb_close(b);
	case JSON_STRING:
		x.kind = TG_RB_STRING;
		x.s.ptr = json_string_value(v);
		x.s.len = json_string_length(v);
		if (!tree_string(b, x.s.ptr, x.s.len))
			return false;
		break;
	case JSON_INTEGER:
		x.kind = TG_RB_INT;
		x.i = (int64_t)json_integer_value(v);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		x.kind = TG_RB_BOOL;
		x.b = json_is_true(v);
		break;
	default:	/* reals and null */
		break;
	}
	return tg_rb_scalar_event(b, &x);
}

static void start(tg_json_request *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	tg_request_init(&out->req);
	if (errlen > 0)
		err[0] = '\0';
}

static int finish(tg_rb *b, bool ok, tg_json_request *out)
{
	if (!ok) {
		tg_rb_abort(b);
		tg_json_request_free(out);
		return -1;
	}
	if (tg_rb_end(b) != 0) {
		tg_json_request_free(out);
		return -1;
	}
	return 0;
}

bool tg_rb_walk(tg_rb *b, json_t *v)
{
	return walk(b, v);
}

bool tg_rb_begin_borrowed(tg_rb *b, const tg_policy *p, tg_json_request *out, char *err,
			  size_t errlen)
{
	start(out, err, errlen);
	return tg_rb_begin(b, p, NULL, out, 0, err, errlen);
}

int tg_rb_finish(tg_rb *b, bool ok, tg_json_request *out)
{
	return finish(b, ok, out);
}

int tg_json_request_from_json_with(const tg_policy *p, const tg_json_limits *lim, json_t *root,
				   tg_json_request *out, char *err, size_t errlen)
{
	tg_rb b;

	start(out, err, errlen);
	if (!tg_rb_begin(&b, p, lim, out, 0, err, errlen))
		return finish(&b, false, out);
	if (!root) {
		tg_rb_fatal(&b, "no request");
		return finish(&b, false, out);
	}
	out->root = json_incref(root);
	return finish(&b, walk(&b, root), out);
}

int tg_json_request_from_json(const tg_policy *p, json_t *root, tg_json_request *out, char *err,
			      size_t errlen)
{
	return tg_json_request_from_json_with(p, NULL, root, out, err, errlen);
}

int tg_json_request_parse_with(const tg_policy *p, const tg_json_limits *lim, const char *text,
			       size_t len, tg_json_request *out, char *err, size_t errlen)
{
	size_t body = lim ? lim->body : tg_json_default_limits.body;
	tg_rb b;

	start(out, err, errlen);
	/* A text past the limit is refused before any of it is copied. */
	if (!tg_rb_begin(&b, p, lim, out, len > body ? 1 : len, err, errlen))
		return finish(&b, false, out);
	if (len > body) {
		tg_rb_fatal(&b, "the request is larger than %zu bytes", body);
		return finish(&b, false, out);
	}
	return finish(&b, tg_json_events_parse(&b, text, len), out);
}

int tg_json_request_parse(const tg_policy *p, const char *text, size_t len, tg_json_request *out,
			  char *err, size_t errlen)
{
	return tg_json_request_parse_with(p, NULL, text, len, out, err, errlen);
}

void tg_json_request_free(tg_json_request *r)
{
	free(r->slots);
	free(r->work);
	free(r->strs);
	free(r->ints);
	free(r->nodes);
	free(r->bytes);
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
	return n <= len && tg_uni_check((const char *)s, n) == TG_UNI_OK ? n : 0;
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
	if (tg_decision_by_error(d))
		fputs(",\"by_error\":true", out);
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
