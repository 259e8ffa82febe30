/*
 * json_parsers.c - the JSON parsers Debian packages, on toolgate's requests.
 *
 *   json_parsers list                  the variants
 *   json_parsers bench FILE [PASSES [VARIANT]]
 *                                      ns/document: median (min, max) of PASSES (7)
 *                                      passes over every line, after one warm-up
 *   json_parsers once VARIANT FILE     parse line 1 (warm-up), then every line once
 *                                      inside run_pass(), for callgrind --toggle-collect
 *   json_parsers cases                 the hostile inputs' names, in table order
 *   json_parsers strict                one line per (input, parser): INDEX TAB PARSER
 *                                      TAB CELL TAB rejection message
 *
 * One source, built once per library (-DWITH_JANSSON, -DWITH_JSONC,
 * -DWITH_CJSON, -DWITH_YAJL, -DWITH_SIMDJSON): jansson's and json-c's headers
 * cannot share a translation unit (both declare json_object*), and one
 * library per process keeps each one's allocations and code layout its own.
 * `strict` prints tab-separated cells (case, parser, cell) that bench/json/run
 * pivots into one table.
 *
 * Every line is loaded first into its own buffer: len bytes, a NUL, then
 * zeros up to len + SJ_PADDING, so simdjson can parse it in place and every
 * parser is handed (buf, len). README.md beside this file explains the rest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe.h"

#if defined(WITH_JANSSON)
#include <jansson.h>
#elif defined(WITH_JSONC)
#include <json-c/json.h>
#elif defined(WITH_CJSON)
#include <cjson/cJSON.h>
#elif defined(WITH_YAJL)
#include <yajl/yajl_parse.h>
#elif !defined(WITH_SIMDJSON)
#error "build with one of -DWITH_JANSSON -DWITH_JSONC -DWITH_CJSON -DWITH_YAJL -DWITH_SIMDJSON"
#endif

struct line {
	char *buf;
	size_t len, cap;
};

static struct line make_line(const char *text, size_t len)
{
	struct line l = { malloc(len + SJ_PADDING), len, len + SJ_PADDING };

	if (!l.buf) {
		perror("malloc");
		exit(1);
	}
	memcpy(l.buf, text, len);
	memset(l.buf + len, 0, SJ_PADDING);
	return l;
}

static struct line *load_lines(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t cap = 0, count = 0, room = 0;
	ssize_t got;
	struct line *lines = NULL;

	if (!f) {
		perror(path);
		exit(2);
	}
	while ((got = getline(&text, &cap, f)) >= 0) {
		while (got > 0 && (text[got - 1] == '\n' || text[got - 1] == '\r'))
			got--;
		if (got == 0)
			continue;
		if (count == room) {
			room = room ? 2 * room : 1024;
			lines = realloc(lines, room * sizeof *lines);
			if (!lines) {
				perror("realloc");
				exit(1);
			}
		}
		lines[count++] = make_line(text, (size_t)got);
	}
	free(text);
	fclose(f);
	*n = count;
	return lines;
}

/* ---- strictness ---------------------------------------------------------------- */

struct hostile {
	const char *name;
	const char *text;
	size_t len;             /* 0: strlen(text) */
	const char *path[2];    /* the value to report */
	int npath;
	int gen;                /* text made at run time: 1 valid line, 2 nesting, 3 1 MiB string */
	size_t n;               /* nesting depth */
};

#define KEY_A { "a", NULL }, 1, 0, 0

static struct hostile cases[] = {
	{ "control: a valid request line", NULL, 0, { NULL, NULL }, 0, 1, 0 },
	{ "duplicate key, top level `{\"a\":1,\"a\":2}`", "{\"a\":1,\"a\":2}", 0, KEY_A },
	{ "duplicate key, nested `{\"o\":{\"a\":1,\"a\":2}}`", "{\"o\":{\"a\":1,\"a\":2}}", 0, { "o", "a" }, 2, 0, 0 },
	{ "duplicate key spelled with an escape `{\"a\":1,\"\\u0061\":2}`", "{\"a\":1,\"\\u0061\":2}", 0, KEY_A },
	{ "overlong `C0 80` in a string", "{\"a\":\"\xC0\x80\"}", 0, KEY_A },
	{ "lone continuation byte `80`", "{\"a\":\"\x80\"}", 0, KEY_A },
	{ "truncated sequence `E2 82` then `\"`", "{\"a\":\"\xE2\x82\"}", 0, KEY_A },
	{ "encoded surrogate `ED A0 80`", "{\"a\":\"\xED\xA0\x80\"}", 0, KEY_A },
	{ "escaped lone surrogate `\"\\ud800\"`", "{\"a\":\"\\ud800\"}", 0, KEY_A },
	{ "escaped lone low surrogate `\"\\udc00\"`", "{\"a\":\"\\udc00\"}", 0, KEY_A },
	{ "escaped pair `\"\\ud83d\\ude00\"` (valid, U+1F600)", "{\"a\":\"\\ud83d\\ude00\"}", 0, KEY_A },
	{ "high surrogate + non-surrogate escape `\"\\ud800\\u0041\"`", "{\"a\":\"\\ud800\\u0041\"}", 0, KEY_A },
	{ "high surrogate + text `\"\\ud800ab\"`", "{\"a\":\"\\ud800ab\"}", 0, KEY_A },
	{ "escaped U+0000 `\"x\\u0000y\"`", "{\"a\":\"x\\u0000y\"}", 0, KEY_A },
	{ "raw NUL byte in a string `\"x<00>y\"`", "{\"a\":\"x\0y\"}", 11, KEY_A },
	{ "9007199254740993 (2^53+1)", "{\"a\":9007199254740993}", 0, KEY_A },
	{ "9223372036854775807 (INT64_MAX)", "{\"a\":9223372036854775807}", 0, KEY_A },
	{ "9223372036854775808 (INT64_MAX+1)", "{\"a\":9223372036854775808}", 0, KEY_A },
	{ "-9223372036854775809 (INT64_MIN-1)", "{\"a\":-9223372036854775809}", 0, KEY_A },
	{ "1e400", "{\"a\":1e400}", 0, KEY_A },
	{ "64 nested arrays", NULL, 0, { NULL, NULL }, 0, 2, 64 },
	{ "65 nested arrays", NULL, 0, { NULL, NULL }, 0, 2, 65 },
	{ "10,000 nested arrays", NULL, 0, { NULL, NULL }, 0, 2, 10000 },
	{ "trailing garbage `{\"a\":1} x`", "{\"a\":1} x", 0, KEY_A },
	{ "leading BOM `EF BB BF`", "\xEF\xBB\xBF{\"a\":1}", 0, KEY_A },
	{ "comment `/* c */`", "{\"a\":1 /* c */}", 0, KEY_A },
	{ "comment `// c` + newline", "{\"a\":1 // c\n}", 0, KEY_A },
	{ "single quotes `{\"a\":'x'}`", "{\"a\":'x'}", 0, KEY_A },
	{ "`NaN`", "{\"a\":NaN}", 0, KEY_A },
	{ "`Infinity`", "{\"a\":Infinity}", 0, KEY_A },
	{ "trailing comma in object `{\"a\":1,}`", "{\"a\":1,}", 0, KEY_A },
	{ "trailing comma in array `[1,]`", "{\"a\":[1,]}", 0, KEY_A },
	{ "1 MiB string", NULL, 0, { "a", NULL }, 1, 3, 0 },
	{ "leading zero `01`", "{\"a\":01}", 0, KEY_A },
	{ "raw tab in a string", "{\"a\":\"x\ty\"}", 0, KEY_A },
	{ "raw newline in a string", "{\"a\":\"x\ny\"}", 0, KEY_A },
};
#define NCASES (sizeof cases / sizeof cases[0])

static char *nested(size_t depth)
{
	char *s = malloc(2 * depth + 1);
	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	s[2 * depth] = 0;
	return s;
}

static char *big_string(size_t n)
{
	char *s = malloc(n + 16);
	memcpy(s, "{\"a\":\"", 6);
	memset(s + 6, 'x', n);
	memcpy(s + 6 + n, "\"}", 3);
	return s;
}

__attribute__((unused)) static void pv_string(struct pv *out, const char *s, size_t n)
{
	out->kind = PV_STR;
	out->slen = n;
	memcpy(out->s, s, n < sizeof out->s ? n : sizeof out->s);
}

/* What a cell says for an accepted input. */
static void pv_format(const struct pv *v, char *out, size_t size)
{
	char val[128] = "";
	size_t k = 0;

	switch (v->kind) {
	case PV_NONE: snprintf(val, sizeof val, "(no value)"); break;
	case PV_OBJ: break;
	case PV_NULL: snprintf(val, sizeof val, "null"); break;
	case PV_OTHER: snprintf(val, sizeof val, "other"); break;
	case PV_ARR: snprintf(val, sizeof val, "[%" PRId64 " item%s]", v->i, v->i == 1 ? "" : "s"); break;
	case PV_BOOL: snprintf(val, sizeof val, "%s", v->i ? "true" : "false"); break;
	case PV_INT: snprintf(val, sizeof val, "%" PRId64, v->i); break;
	case PV_UINT: snprintf(val, sizeof val, "%" PRIu64 " u64", v->u); break;
	case PV_REAL: snprintf(val, sizeof val, "%.17g dbl", v->d); break;
	case PV_STR:
		if (v->slen > 16) {
			snprintf(val, sizeof val, "len %zu", v->slen);
			break;
		}
		val[k++] = '"';
		for (size_t i = 0; i < v->slen && i < sizeof v->s; i++) {
			unsigned char c = v->s[i];
			if (c >= 0x20 && c < 0x7f && c != '\\' && c != '|')
				val[k++] = (char)c;
			else
				k += (size_t)snprintf(val + k, sizeof val - k, "\\x%02X", c);
		}
		val[k++] = '"';
		val[k] = 0;
		break;
	}
	if (v->dups > 1)
		snprintf(out, size, "A %s (%d kept)", val, v->dups);
	else
		snprintf(out, size, "A%s%s", *val ? " " : "", val);
	if (v->trailing) {
		size_t m = strlen(out);
		if (v->end)
			snprintf(out + m, size - m, ", stops at byte %zu", v->end);
		else
			snprintf(out + m, size - m, ", stops early");
	}
}

struct variant {
	const char *name;
	const char *what;
	void *(*init)(void);
	void (*fini)(void *);
	bool (*parse)(void *ctx, const struct line *l);
};

__attribute__((unused)) static void *no_ctx(void) { return NULL; }
__attribute__((unused)) static void no_fini(void *c) { (void)c; }

struct probe {
	const char *name;
	int (*probe)(const struct hostile *h, struct pv *out, char *err, size_t errlen);
};

#if defined(WITH_JANSSON)
/* ---- jansson ---- */

static bool p_jansson_dup(void *c, const struct line *l)
{
	json_error_t err;
	json_t *j = json_loadb(l->buf, l->len, JSON_REJECT_DUPLICATES, &err);

	(void)c;
	json_decref(j);
	return j != NULL;
}

static bool p_jansson(void *c, const struct line *l)
{
	json_error_t err;
	json_t *j = json_loadb(l->buf, l->len, 0, &err);

	(void)c;
	json_decref(j);
	return j != NULL;
}

static void jansson_value(json_t *j, struct pv *out)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: out->kind = PV_OBJ; break;
	case JSON_ARRAY: out->kind = PV_ARR; out->i = (int64_t)json_array_size(j); break;
	case JSON_STRING: pv_string(out, json_string_value(j), json_string_length(j)); break;
	case JSON_INTEGER: out->kind = PV_INT; out->i = json_integer_value(j); break;
	case JSON_REAL: out->kind = PV_REAL; out->d = json_real_value(j); break;
	case JSON_TRUE: case JSON_FALSE: out->kind = PV_BOOL; out->i = json_is_true(j); break;
	case JSON_NULL: out->kind = PV_NULL; break;
	}
}

static int probe_jansson(size_t flags, const struct hostile *h, struct pv *out, char *err, size_t errlen)
{
	json_error_t e;
	json_t *root = json_loadb(h->text, h->len, flags, &e), *j;

	if (!root) {
		snprintf(err, errlen, "%s (line %d col %d)", e.text, e.line, e.column);
		return 0;
	}
	j = root;
	for (int i = 0; i < h->npath && j; i++)
		j = json_object_get(j, h->path[i]);
	out->dups = 1; /* a jansson object cannot hold two equal keys */
	if (j)
		jansson_value(j, out);
	json_decref(root);
	return 1;
}

static int probe_jansson_dup(const struct hostile *h, struct pv *o, char *e, size_t n) { return probe_jansson(JSON_REJECT_DUPLICATES, h, o, e, n); }
static int probe_jansson_nodup(const struct hostile *h, struct pv *o, char *e, size_t n) { return probe_jansson(0, h, o, e, n); }

static const struct variant variants[] = {
	{ "jansson-dup", "json_loadb, JSON_REJECT_DUPLICATES (toolgate today)", no_ctx, no_fini, p_jansson_dup },
	{ "jansson", "json_loadb, flags 0", no_ctx, no_fini, p_jansson },
};
static const struct probe probes[] = {
	{ "jansson-dup", probe_jansson_dup },
	{ "jansson", probe_jansson_nodup },
};
#elif defined(WITH_JSONC)
/* ---- json-c ---- */

static void *jc_init(void) { return json_tokener_new(); }
static void *jc_init_strict(void)
{
	struct json_tokener *t = json_tokener_new();
	json_tokener_set_flags(t, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	return t;
}
static void jc_fini(void *c) { json_tokener_free(c); }

/* One tokener reused (reset per document); the whole text must be consumed. */
static bool p_jsonc(void *c, const struct line *l)
{
	struct json_tokener *t = c;
	struct json_object *o;
	bool ok;

	json_tokener_reset(t);
	o = json_tokener_parse_ex(t, l->buf, (int)l->len);
	ok = o && json_tokener_get_error(t) == json_tokener_success &&
	     json_tokener_get_parse_end(t) == l->len;
	json_object_put(o);
	return ok;
}

static int probe_jsonc(int flags, const struct hostile *h, struct pv *out, char *err, size_t errlen)
{
	struct json_tokener *t = json_tokener_new();
	struct json_object *root, *j;
	enum json_tokener_error e;

	json_tokener_set_flags(t, flags);
	root = json_tokener_parse_ex(t, h->text, (int)h->len);
	e = json_tokener_get_error(t);
	if (!root || e != json_tokener_success) {
		snprintf(err, errlen, "%s", json_tokener_error_desc(e));
		json_object_put(root);
		json_tokener_free(t);
		return 0;
	}
	if (json_tokener_get_parse_end(t) < h->len) {
		out->trailing = 1;
		out->end = json_tokener_get_parse_end(t);
	}
	j = root;
	out->dups = 1;
	for (int i = 0; i < h->npath && j; i++) {
		struct json_object *parent = j;
		if (!json_object_is_type(parent, json_type_object) ||
		    !json_object_object_get_ex(parent, h->path[i], &j)) {
			j = NULL;
			break;
		}
		if (i == h->npath - 1) {
			int n = 0;
			json_object_object_foreach(parent, key, val) {
				(void)val;
				n += strcmp(key, h->path[i]) == 0;
			}
			out->dups = n;
		}
	}
	if (j) {
		switch (json_object_get_type(j)) {
		case json_type_object: out->kind = PV_OBJ; break;
		case json_type_array: out->kind = PV_ARR; out->i = (int64_t)json_object_array_length(j); break;
		case json_type_null: out->kind = PV_NULL; break;
		case json_type_boolean: out->kind = PV_BOOL; out->i = json_object_get_boolean(j); break;
		case json_type_double: out->kind = PV_REAL; out->d = json_object_get_double(j); break;
		case json_type_int:
			out->kind = PV_INT;
			out->i = json_object_get_int64(j);
			if (out->i == INT64_MAX && json_object_get_uint64(j) != (uint64_t)INT64_MAX) {
				out->kind = PV_UINT;
				out->u = json_object_get_uint64(j);
			}
			break;
		case json_type_string:
			pv_string(out, json_object_get_string(j), (size_t)json_object_get_string_len(j));
			break;
		}
	} else {
		out->kind = PV_NONE;
	}
	json_object_put(root);
	json_tokener_free(t);
	return 1;
}

static int probe_jsonc_default(const struct hostile *h, struct pv *o, char *e, size_t n) { return probe_jsonc(0, h, o, e, n); }
static int probe_jsonc_strict(const struct hostile *h, struct pv *o, char *e, size_t n) { return probe_jsonc(JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8, h, o, e, n); }

static const struct variant variants[] = {
	{ "json-c", "json_tokener_parse_ex, default flags, tokener reused", jc_init, jc_fini, p_jsonc },
	{ "json-c-strict", "same, JSON_TOKENER_STRICT|JSON_TOKENER_VALIDATE_UTF8", jc_init_strict, jc_fini, p_jsonc },
};
static const struct probe probes[] = {
	{ "json-c", probe_jsonc_default },
	{ "json-c-strict", probe_jsonc_strict },
};
#elif defined(WITH_CJSON)
/* ---- cJSON ---- */

static bool p_cjson(void *c, const struct line *l)
{
	cJSON *j = cJSON_ParseWithLength(l->buf, l->len);

	(void)c;
	cJSON_Delete(j);
	return j != NULL;
}

/* cJSON_ParseWithLength is cJSON_ParseWithLengthOpts(text, len, NULL, 0);
 * the Opts form is called only to learn where it stopped. */
static int probe_cjson(const struct hostile *h, struct pv *out, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(h->text, h->len, &end, 0), *j;

	if (!root) {
		snprintf(err, errlen, "error at byte %td", cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - h->text : -1);
		return 0;
	}
	if (end && (size_t)(end - h->text) < h->len) {
		out->trailing = 1;
		out->end = (size_t)(end - h->text);
	}
	j = root;
	out->dups = 1;
	for (int i = 0; i < h->npath && j; i++) {
		cJSON *parent = j;
		j = cJSON_GetObjectItemCaseSensitive(parent, h->path[i]); /* the first match */
		if (i == h->npath - 1 && j) {
			int n = 0;
			for (cJSON *c = parent->child; c; c = c->next)
				n += c->string && strcmp(c->string, h->path[i]) == 0;
			out->dups = n;
		}
	}
	if (!j) {
		out->kind = PV_NONE;
	} else if (cJSON_IsObject(j)) {
		out->kind = PV_OBJ;
	} else if (cJSON_IsArray(j)) {
		out->kind = PV_ARR;
		out->i = cJSON_GetArraySize(j);
	} else if (cJSON_IsString(j)) {
		pv_string(out, j->valuestring, strlen(j->valuestring)); /* NUL-terminated only */
	} else if (cJSON_IsNumber(j)) {
		out->kind = PV_REAL; /* cJSON keeps every number as a double (valueint saturates) */
		out->d = j->valuedouble;
	} else if (cJSON_IsBool(j)) {
		out->kind = PV_BOOL;
		out->i = cJSON_IsTrue(j);
	} else {
		out->kind = PV_NULL;
	}
	cJSON_Delete(root);
	return 1;
}

static const struct variant variants[] = {
	{ "cjson", "cJSON_ParseWithLength", no_ctx, no_fini, p_cjson },
};
static const struct probe probes[] = {
	{ "cjson", probe_cjson },
};
#elif defined(WITH_YAJL)
/* ---- yajl ---------------------------------------------------------------------
 * Three sets of callbacks over the same event API:
 *   yajl      no-op callbacks: what the parser alone costs;
 *   yajl-dup  + duplicate keys rejected per object (map-key callback);
 *   yajl-tg   + every rule toolgate applies to a request text today (after
 *             jansson, in mcp/request_json.c): depth <= TG_JSON_MAX_DEPTH,
 *             strings <= TG_MAX_STRING_BYTES, lists <= TG_MAX_LIST_ITEMS,
 *             strict UTF-8 (no overlong forms, no surrogates, <= U+10FFFF),
 *             no U+0000, \u escapes paired properly, and numbers read from
 *             their text (yajl_number) so an integer outside int64 or a real
 *             that overflows a double is a value of type other, not an error.
 * None of them builds a tree. */

#define TG_JSON_MAX_DEPTH 64            /* include/toolgate/mcp.h */
#define TG_MAX_STRING_BYTES (64u * 1024) /* include/toolgate/toolgate.h */
#define TG_MAX_LIST_ITEMS 4096u          /* include/toolgate/toolgate.h */

static int y_null(void *c) { (void)c; return 1; }
static int y_bool(void *c, int b) { (void)c; (void)b; return 1; }
static int y_int(void *c, long long i) { (void)c; (void)i; return 1; }
static int y_double(void *c, double d) { (void)c; (void)d; return 1; }
static int y_string(void *c, const unsigned char *s, size_t n) { (void)c; (void)s; (void)n; return 1; }
static int y_start_map(void *c) { (void)c; return 1; }
static int y_map_key(void *c, const unsigned char *s, size_t n) { (void)c; (void)s; (void)n; return 1; }
static int y_end_map(void *c) { (void)c; return 1; }
static int y_start_array(void *c) { (void)c; return 1; }
static int y_end_array(void *c) { (void)c; return 1; }

/* yajl_number stays NULL, so yajl converts numbers itself (its own integer
 * loop, strtod) and calls yajl_integer or yajl_double, as tree parsers do. */
static const yajl_callbacks y_noop = {
	y_null, y_bool, y_int, y_double, NULL, y_string,
	y_start_map, y_map_key, y_end_map, y_start_array, y_end_array,
};

/* -- state shared by yajl-dup and yajl-tg --
 * The keys of every open object sit in one arena, each as [size_t len][bytes];
 * an object's keys start where the arena stood at its '{' and are dropped at
 * its '}'. A key is compared with its object's earlier keys: linear, fine
 * for requests of a few keys per object; a cap on keys per object or a hash
 * past a handful keeps a hostile object from going quadratic. Keys are
 * copied because yajl hands escaped keys out of a buffer it reuses. */

struct frame {
	size_t start;   /* arena offset of this object's keys; SIZE_MAX: an array */
	unsigned items; /* array elements so far */
};

struct yctx {
	char *arena;
	size_t used, cap;
	struct frame *f;
	size_t depth, room;
	/* yajl-tg only */
	yajl_handle h;
	const unsigned char *in;
	size_t inlen;
};

static void yctx_reset(struct yctx *d, const char *in, size_t len)
{
	d->used = 0;
	d->depth = 0;
	d->in = (const unsigned char *)in;
	d->inlen = len;
}

static int yc_push(struct yctx *d, size_t start)
{
	if (d->depth == d->room) {
		size_t room = d->room ? 2 * d->room : 64;
		struct frame *f = realloc(d->f, room * sizeof *f);
		if (!f)
			return 0;
		d->f = f;
		d->room = room;
	}
	d->f[d->depth].start = start;
	d->f[d->depth].items = 0;
	d->depth++;
	return 1;
}

static int yd_start_map(void *c) { struct yctx *d = c; return yc_push(d, d->used); }
static int yd_start_array(void *c) { return yc_push(c, SIZE_MAX); }

static int yd_end(void *c)
{
	struct yctx *d = c;
	size_t start = d->f[--d->depth].start;

	if (start != SIZE_MAX)
		d->used = start;
	return 1;
}

static int yd_map_key(void *c, const unsigned char *s, size_t n)
{
	struct yctx *d = c;
	size_t at = d->f[d->depth - 1].start;

	while (at < d->used) {
		size_t klen;
		memcpy(&klen, d->arena + at, sizeof klen);
		at += sizeof klen;
		if (klen == n && memcmp(d->arena + at, s, n) == 0)
			return 0; /* duplicate: yajl stops with "client cancelled parse" */
		at += klen;
	}
	if (d->cap - d->used < sizeof n + n) {
		size_t cap = d->cap ? d->cap : 4096;
		while (cap - d->used < sizeof n + n)
			cap *= 2;
		char *a = realloc(d->arena, cap);
		if (!a)
			return 0;
		d->arena = a;
		d->cap = cap;
	}
	memcpy(d->arena + d->used, &n, sizeof n);
	memcpy(d->arena + d->used + sizeof n, s, n);
	d->used += sizeof n + n;
	return 1;
}

static const yajl_callbacks y_dup = {
	y_null, y_bool, y_int, y_double, NULL, y_string,
	yd_start_map, yd_map_key, yd_end, yd_start_array, yd_end,
};

/* -- yajl-tg: toolgate's rules -- */

/* Strict UTF-8 (RFC 3629): the same rule as mcp/request_json.c utf8_valid. */
static bool utf8_strict(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			if (len - i < 2 || (s[i + 1] & 0xc0) != 0x80)
				return false;
			i += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
			if (len - i < 3 || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xc0) != 0x80)
				return false;
			i += 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
			if (len - i < 4 || s[i + 1] < lo || s[i + 1] > hi ||
			    (s[i + 2] & 0xc0) != 0x80 || (s[i + 3] & 0xc0) != 0x80)
				return false;
			i += 4;
		} else {
			return false;
		}
	}
	return true;
}

static int hex4(const unsigned char *p)
{
	int v = 0;
	for (int k = 0; k < 4; k++) {
		unsigned char c = p[k];
		v = v << 4 | (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v; /* the lexer has already checked these are hex digits */
}

/* The \u escapes of the raw string token that ends (closing quote included)
 * at in + end: no \u0000, every high surrogate followed by a \u low one, no
 * low one alone. yajl decodes "\ud800" to "?" and "\ud800\u0041" to U+10041,
 * so this cannot be judged from the decoded bytes. */
static bool escapes_ok(const unsigned char *in, size_t end)
{
	size_t q = end - 1, i; /* the closing quote */

	/* the opening quote: the first '"' before it not escaped by an odd run of '\' */
	for (;;) {
		size_t b = 0;
		q--;
		if (in[q] != '"')
			continue;
		while (q - b > 0 && in[q - b - 1] == '\\')
			b++;
		if (b % 2 == 0)
			break;
	}
	for (i = q + 1; i < end - 1; i++) {
		int cp;
		if (in[i] != '\\')
			continue;
		if (in[i + 1] != 'u') {
			i++;
			continue;
		}
		cp = hex4(in + i + 2);
		i += 5;
		if (cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
			return false;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (in[i + 1] != '\\' || in[i + 2] != 'u')
				return false;
			cp = hex4(in + i + 3);
			if (cp < 0xdc00 || cp > 0xdfff)
				return false;
			i += 6;
		}
	}
	return true;
}

static bool tg_text(struct yctx *d, const unsigned char *s, size_t n)
{
	if (n > TG_MAX_STRING_BYTES || !utf8_strict(s, n))
		return false;
	/* Not a pointer into the text: yajl decoded escapes into its buffer. */
	if ((s < d->in || s >= d->in + d->inlen) &&
	    !escapes_ok(d->in, yajl_get_bytes_consumed(d->h)))
		return false;
	return true;
}

static bool tg_item(struct yctx *d)
{
	return d->depth == 0 || d->f[d->depth - 1].start != SIZE_MAX ||
	       ++d->f[d->depth - 1].items <= TG_MAX_LIST_ITEMS;
}

/* A number's text: *kind PV_INT (in *i), PV_REAL (in *r) or PV_NONE, toolgate's
 * "other": an integer outside int64 or a real that overflows a double. */
static void tg_classify(const unsigned char *s, size_t n, int *kind, int64_t *iv, double *rv)
{
	bool neg = n > 0 && s[0] == '-', integer = true;
	uint64_t u = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

	for (size_t k = neg; k < n; k++) {
		if (s[k] < '0' || s[k] > '9') {
			integer = false;
			break;
		}
		if (u > (lim - (uint64_t)(s[k] - '0')) / 10) {
			*kind = PV_NONE; /* integer outside int64 */
			return;
		}
		u = u * 10 + (uint64_t)(s[k] - '0');
	}
	if (integer) {
		*kind = PV_INT;
		*iv = neg ? (int64_t)(0 - u) : (int64_t)u;
		return;
	}
	char small[64], *copy = n < sizeof small ? small : malloc(n + 1);
	memcpy(copy, s, n);
	copy[n] = 0;
	errno = 0;
	*rv = strtod(copy, NULL);
	*kind = errno == ERANGE && (*rv == HUGE_VAL || *rv == -HUGE_VAL) ? PV_NONE : PV_REAL;
	if (copy != small)
		free(copy);
}

static int yt_scalar(void *c) { return tg_item(c); }
static int yt_bool(void *c, int b) { (void)b; return tg_item(c); }
static int yt_number(void *c, const char *s, size_t n)
{
	int kind;
	int64_t i;
	double r;
	tg_classify((const unsigned char *)s, n, &kind, &i, &r);
	return tg_item(c);
}
static int yt_string(void *c, const unsigned char *s, size_t n) { return tg_item(c) && tg_text(c, s, n); }
static int yt_start_map(void *c) { struct yctx *d = c; return tg_item(d) && d->depth < TG_JSON_MAX_DEPTH && yd_start_map(d); }
static int yt_start_array(void *c) { struct yctx *d = c; return tg_item(d) && d->depth < TG_JSON_MAX_DEPTH && yd_start_array(d); }
static int yt_map_key(void *c, const unsigned char *s, size_t n) { return tg_text(c, s, n) && yd_map_key(c, s, n); }

static const yajl_callbacks y_tg = {
	yt_scalar, yt_bool, NULL, NULL, yt_number, yt_string,
	yt_start_map, yt_map_key, yd_end, yt_start_array, yd_end,
};

static bool yajl_run(const yajl_callbacks *cb, struct yctx *ctx, const char *buf, size_t len)
{
	yajl_handle h = yajl_alloc(cb, NULL, ctx);
	bool ok;

	if (ctx) {
		yctx_reset(ctx, buf, len);
		ctx->h = h;
	}
	ok = yajl_parse(h, (const unsigned char *)buf, len) == yajl_status_ok &&
	     yajl_complete_parse(h) == yajl_status_ok;
	yajl_free(h);
	return ok;
}

static bool p_yajl(void *c, const struct line *l) { (void)c; return yajl_run(&y_noop, NULL, l->buf, l->len); }
static bool p_yajl_dup(void *c, const struct line *l) { return yajl_run(&y_dup, c, l->buf, l->len); }
static bool p_yajl_tg(void *c, const struct line *l) { return yajl_run(&y_tg, c, l->buf, l->len); }

static void *yc_init(void) { return calloc(1, sizeof(struct yctx)); }
static void yc_fini(void *c)
{
	struct yctx *d = c;
	free(d->arena);
	free(d->f);
	free(d);
}

/* -- probes: the same checks, plus a record of the events at the path -- */

enum ymode { Y_PLAIN, Y_DUP, Y_TG };

struct yprobe {
	struct yctx y;          /* first: the checks take a struct yctx * */
	enum ymode mode;
	const struct hostile *h;
	size_t depth;
	char key[4][32];        /* current key of each open object, first levels */
	bool is_map[4];
	int events;
	struct pv *out;
};

static bool yp_at_path(struct yprobe *p)
{
	if ((int)p->depth != p->h->npath)
		return false;
	for (int i = 0; i < p->h->npath; i++)
		if (!p->is_map[i] || strcmp(p->key[i], p->h->path[i]) != 0)
			return false;
	return true;
}

static int yp_event(struct yprobe *p, struct pv v)
{
	if (p->mode == Y_TG && !tg_item(&p->y))
		return 0;
	if (!yp_at_path(p))
		return 1;
	if (p->events++ == 0)
		*p->out = v;
	p->out->dups = p->events;
	return 1;
}

static int yp_null(void *c) { struct pv v = { .kind = PV_NULL }; return yp_event(c, v); }
static int yp_bool(void *c, int b) { struct pv v = { .kind = PV_BOOL, .i = b }; return yp_event(c, v); }
static int yp_int(void *c, long long i) { struct pv v = { .kind = PV_INT, .i = i }; return yp_event(c, v); }
static int yp_double(void *c, double d) { struct pv v = { .kind = PV_REAL, .d = d }; return yp_event(c, v); }
static int yp_number(void *c, const char *s, size_t n)
{
	struct pv v = { 0 };
	tg_classify((const unsigned char *)s, n, &v.kind, &v.i, &v.d);
	if (v.kind == PV_NONE)
		v.kind = PV_OTHER;
	return yp_event(c, v);
}
static int yp_string(void *c, const unsigned char *s, size_t n)
{
	struct yprobe *p = c;
	struct pv v = { 0 };
	if (p->mode == Y_TG && !tg_text(&p->y, s, n))
		return 0;
	pv_string(&v, (const char *)s, n);
	return yp_event(c, v);
}

static int yp_open(struct yprobe *p, bool map)
{
	struct pv v = { .kind = map ? PV_OBJ : PV_ARR };
	if (!yp_event(p, v))
		return 0;
	if (p->depth < 4) {
		p->is_map[p->depth] = map;
		p->key[p->depth][0] = 0;
	}
	p->depth++;
	if (p->mode == Y_TG && p->y.depth >= TG_JSON_MAX_DEPTH)
		return 0;
	if (p->mode != Y_PLAIN)
		return map ? yd_start_map(&p->y) : yd_start_array(&p->y);
	return 1;
}

static int yp_start_map(void *c) { return yp_open(c, true); }
static int yp_start_array(void *c) { return yp_open(c, false); }
static int yp_end(void *c)
{
	struct yprobe *p = c;
	p->depth--;
	return p->mode != Y_PLAIN ? yd_end(&p->y) : 1;
}
static int yp_map_key(void *c, const unsigned char *s, size_t n)
{
	struct yprobe *p = c;
	if (p->depth <= 4)
		snprintf(p->key[p->depth - 1], sizeof p->key[0], "%.*s", (int)n, (const char *)s);
	if (p->mode == Y_TG && !tg_text(&p->y, s, n))
		return 0;
	return p->mode != Y_PLAIN ? yd_map_key(&p->y, s, n) : 1;
}

static const yajl_callbacks y_probe = {
	yp_null, yp_bool, yp_int, yp_double, NULL, yp_string,
	yp_start_map, yp_map_key, yp_end, yp_start_array, yp_end,
};
static const yajl_callbacks y_probe_tg = {
	yp_null, yp_bool, NULL, NULL, yp_number, yp_string,
	yp_start_map, yp_map_key, yp_end, yp_start_array, yp_end,
};

static int probe_yajl_any(enum ymode mode, const struct hostile *h, struct pv *out, char *err, size_t errlen)
{
	struct yprobe p = { .mode = mode, .h = h, .out = out };
	yajl_handle y = yajl_alloc(mode == Y_TG ? &y_probe_tg : &y_probe, NULL, &p);
	yajl_status st;

	yctx_reset(&p.y, h->text, h->len);
	p.y.h = y;
	st = yajl_parse(y, (const unsigned char *)h->text, h->len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(y);
	if (st != yajl_status_ok) {
		unsigned char *msg = yajl_get_error(y, 0, (const unsigned char *)h->text, h->len);
		snprintf(err, errlen, "%s", (const char *)msg);
		yajl_free_error(y, msg);
	}
	yajl_free(y);
	free(p.y.arena);
	free(p.y.f);
	if (st != yajl_status_ok)
		return 0;
	if (p.events == 0)
		out->kind = PV_NONE;
	return 1;
}

static int probe_yajl(const struct hostile *h, struct pv *o, char *e, size_t n) { return probe_yajl_any(Y_PLAIN, h, o, e, n); }
static int probe_yajl_dup(const struct hostile *h, struct pv *o, char *e, size_t n) { return probe_yajl_any(Y_DUP, h, o, e, n); }
static int probe_yajl_tg(const struct hostile *h, struct pv *o, char *e, size_t n) { return probe_yajl_any(Y_TG, h, o, e, n); }

static const struct variant variants[] = {
	{ "yajl", "yajl_parse+yajl_complete_parse, no-op callbacks, UTF-8 validated", no_ctx, no_fini, p_yajl },
	{ "yajl-dup", "same, duplicate keys rejected in the callbacks", yc_init, yc_fini, p_yajl_dup },
	{ "yajl-tg", "same, callbacks enforcing all of toolgate's request-text rules", yc_init, yc_fini, p_yajl_tg },
};
static const struct probe probes[] = {
	{ "yajl", probe_yajl },
	{ "yajl-dup", probe_yajl_dup },
	{ "yajl-tg", probe_yajl_tg },
};
#elif defined(WITH_SIMDJSON)
/* ---- simdjson (simdjson_wrap.cpp) ---- */

static void sj_dom_fini(void *c) { sj_dom_free(c); }
static void sj_od_fini(void *c) { sj_od_free(c); }
static bool p_sj_dom(void *c, const struct line *l) { return sj_dom_parse(c, l->buf, l->len); }
static bool p_sj_dom_copy(void *c, const struct line *l) { return sj_dom_parse_copy(c, l->buf, l->len); }
static bool p_sj_od(void *c, const struct line *l) { return sj_od_walk(c, l->buf, l->len, l->cap); }

static int probe_sj_dom(const struct hostile *h, struct pv *o, char *e, size_t n)
{
	return sj_dom_probe(h->text, h->len, h->path, h->npath, o, e, n);
}

static int probe_sj_od(const struct hostile *h, struct pv *o, char *e, size_t n)
{
	struct line l = make_line(h->text, h->len);
	int r = sj_od_probe(l.buf, l.len, l.cap, h->path, h->npath, o, e, n);
	free(l.buf);
	return r;
}

static const struct variant variants[] = {
	{ "simdjson-dom", "dom::parser::parse in place (buffer padded by caller), parser reused", sj_dom_new, sj_dom_fini, p_sj_dom },
	{ "simdjson-dom-copy", "dom::parser::parse(padded_string copy per document), parser reused", sj_dom_new, sj_dom_fini, p_sj_dom_copy },
	{ "simdjson-ondemand", "ondemand iterate + visit every key and value + at-end check", sj_od_new, sj_od_fini, p_sj_od },
};
static const struct probe probes[] = {
	{ "simdjson-dom", probe_sj_dom },
	{ "simdjson-od", probe_sj_od },
};
#endif

#define NVARIANTS (sizeof variants / sizeof variants[0])
#define NPROBES (sizeof probes / sizeof probes[0])

static const struct variant *find_variant(const char *name)
{
	for (size_t i = 0; i < NVARIANTS; i++)
		if (strcmp(variants[i].name, name) == 0)
			return &variants[i];
	fprintf(stderr, "json_parsers: no variant %s (json_parsers list)\n", name);
	exit(2);
}

/* ---- timing and counting ------------------------------------------------------ */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One pass over every line; the count of accepted documents. Not inlined:
 * callgrind's --toggle-collect=run_pass counts exactly this. */
__attribute__((noinline)) size_t run_pass(const struct variant *v, void *ctx,
					  const struct line *lines, size_t n)
{
	size_t ok = 0;

	for (size_t i = 0; i < n; i++)
		ok += v->parse(ctx, &lines[i]);
	return ok;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int cmd_bench(const char *path, int passes, const char *only)
{
	size_t n;
	struct line *lines = load_lines(path, &n);
	uint64_t *t = calloc((size_t)passes, sizeof *t);

	size_t bytes = 0;

	for (size_t i = 0; i < n; i++)
		bytes += lines[i].len;
	printf("%zu documents of %.0f bytes on average; %d timed passes after a warm-up\n",
	       n, (double)bytes / (double)n, passes);
#ifdef WITH_SIMDJSON
	printf("simdjson kernel (run-time dispatch in libsimdjson, DOM and On-Demand): %s\n", sj_active_impl());
#endif
	printf("%-18s %10s %10s %10s\n", "variant", "median", "min", "max");
	for (size_t k = 0; k < NVARIANTS; k++) {
		const struct variant *v = &variants[k];
		if (only && strcmp(only, v->name) != 0)
			continue;
		void *ctx = v->init();
		size_t ok = run_pass(v, ctx, lines, n); /* warm-up */

		if (ok != n) {
			fprintf(stderr, "%s: accepted %zu of %zu documents\n", v->name, ok, n);
			return 1;
		}
		for (int p = 0; p < passes; p++) {
			uint64_t t0 = now_ns();
			ok = run_pass(v, ctx, lines, n);
			t[p] = now_ns() - t0;
			if (ok != n)
				return 1;
		}
		v->fini(ctx);
		qsort(t, (size_t)passes, sizeof *t, cmp_u64);
		printf("%-18s %10.0f %10.0f %10.0f  ns/document\n", v->name,
		       (double)t[passes / 2] / (double)n, (double)t[0] / (double)n,
		       (double)t[passes - 1] / (double)n);
		fflush(stdout);
	}
	free(t);
	return 0;
}

static int cmd_once(const char *name, const char *path)
{
	const struct variant *v = find_variant(name);
	size_t n;
	struct line *lines = load_lines(path, &n);
	void *ctx = v->init();
	size_t ok;

	run_pass(v, ctx, lines, 1); /* first-use set-up (allocations, seeds) outside the count */
	ok = run_pass(v, ctx, lines, n);
	v->fini(ctx);
	printf("%s: %zu of %zu accepted\n", v->name, ok, n);
#ifdef WITH_SIMDJSON
	printf("simdjson kernel: %s\n", sj_active_impl());
#endif
	return ok == n ? 0 : 1;
}

static const char valid_line[] =
	"{\"principal\":{\"id\":\"engineer-4@example.com\",\"roles\":[\"engineer\"],\"tenant\":\"globex\"},"
	"\"token\":{\"scopes\":[\"slack:write\",\"web\"]},\"method\":\"tools/call\",\"target\":\"postgres.drop_table\","
	"\"server\":\"postgres\",\"tool\":{\"destructive\":true,\"read_only\":false},\"args\":{\"limit\":5000,"
	"\"amount\":150,\"replicas\":10,\"path\":\"/srv/postgres/../etc/passwd\",\"channel\":\"eng-backend\"},"
	"\"context\":{\"environment\":\"staging\",\"tenant\":\"globex\",\"mfa\":false}}";

static void setup_cases(void)
{
	for (size_t c = 0; c < NCASES; c++) {
		if (cases[c].gen == 1)
			cases[c].text = valid_line;
		else if (cases[c].gen == 2)
			cases[c].text = nested(cases[c].n);
		else if (cases[c].gen == 3)
			cases[c].text = big_string(1u << 20);
		if (cases[c].len == 0)
			cases[c].len = strlen(cases[c].text);
	}
}

static int cmd_strict(void)
{
	setup_cases();
	for (size_t c = 0; c < NCASES; c++) {
		for (size_t p = 0; p < NPROBES; p++) {
			struct pv v = { 0 };
			char err[256] = "", cell[256];

			if (probes[p].probe(&cases[c], &v, err, sizeof err)) {
				if (cases[c].npath == 0)
					v.kind = PV_OBJ; /* whole-document cases: the verdict only */
				pv_format(&v, cell, sizeof cell);
			}
			else
				snprintf(cell, sizeof cell, "R");
			for (char *q = err; *q; q++)
				if (*q == '\n' || *q == '\t' || *q == '|')
					*q = ' ';
			printf("%zu\t%s\t%s\t%s\n", c, probes[p].name, cell, err);
			fflush(stdout);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0) {
		for (size_t i = 0; i < NVARIANTS; i++)
			printf("%-18s %s\n", variants[i].name, variants[i].what);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "bench") == 0)
		return cmd_bench(argv[2], argc >= 4 ? atoi(argv[3]) : 7, argc >= 5 ? argv[4] : NULL);
	if (argc == 4 && strcmp(argv[1], "once") == 0)
		return cmd_once(argv[2], argv[3]);
	if (argc == 2 && strcmp(argv[1], "cases") == 0) {
		for (size_t c = 0; c < NCASES; c++)
			printf("%s\n", cases[c].name);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "strict") == 0)
		return cmd_strict();
	fprintf(stderr, "usage: json_parsers list | bench FILE [PASSES [VARIANT]] | once VARIANT FILE | cases | strict\n");
	return 2;
}
