/*
 * stateless.c - MCP 2026-07-28's request metadata headers, checked against
 * the body the gateway authorizes (docs/gateway.md, "2026-07-28").
 *
 * 2026-07-28 mirrors body fields into headers so that load balancers and
 * gateways can route without parsing: MCP-Protocol-Version mirrors
 * params._meta["io.modelcontextprotocol/protocolVersion"], Mcp-Method the
 * method, Mcp-Name params.name / params.uri / params.taskId, and
 * Mcp-Param-{Name} the tools/call arguments whose schema property carries
 * `x-mcp-header`. Two parties reading two sources of truth is exactly how a
 * policy gets bypassed (a balancer routes on the header, the server runs the
 * body), so a header that disagrees with the body, or a required one that is
 * missing, is 400 HeaderMismatch (-32020) and nothing is forwarded. The
 * decision is always taken on the body; what goes upstream is rebuilt from
 * the body the gateway forwards, never copied from the client's headers.
 *
 * Values may come Base64-wrapped (`=?base64?...?=`); they are decoded
 * before the comparison, and encoded the same way going upstream.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "gateway.h"

#define META_VERSION	"io.modelcontextprotocol/protocolVersion"
#define SENTINEL_HEAD	"=?base64?"
#define SENTINEL_TAIL	"?="
#define PARAM_PREFIX	"Mcp-Param-"
#define MAX_DEPTH	8	/* properties chains followed for x-mcp-header */

bool tg_gw_is_stateless(const char *version)
{
	return version && strcmp(version, TG_GW_STATELESS_VERSION) == 0;
}

const char *tg_gw_name_field(const char *method)
{
	static const char *const table[][2] = {
		{"tools/call", "name"},	  {"prompts/get", "name"},   {"resources/read", "uri"},
		{"tasks/get", "taskId"},  {"tasks/update", "taskId"}, {"tasks/cancel", "taskId"},
		{"tasks/result", "taskId"},
	};
	size_t i;

	for (i = 0; method && i < sizeof table / sizeof table[0]; i++)
		if (strcmp(method, table[i][0]) == 0)
			return table[i][1];
	return NULL;
}

/* A plain header value: visible ASCII, space and tab only. */
static bool plain_ok(const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c != '\t' && (c < 0x20 || c > 0x7e))
			return false;
	}
	return true;
}

long tg_gw_header_decode(const char *v, char *out, size_t outlen)
{
	size_t n = strlen(v), hl = strlen(SENTINEL_HEAD), tl = strlen(SENTINEL_TAIL), b64;
	int len;

	if (!plain_ok(v, n))
		return -1;
	if (n < hl + tl || strncmp(v, SENTINEL_HEAD, hl) != 0 ||
	    strcmp(v + n - tl, SENTINEL_TAIL) != 0) {
		if (n + 1 > outlen)
			return -1;
		memcpy(out, v, n + 1);
		return (long)n;
	}
	b64 = n - hl - tl;
	if (b64 % 4 != 0 || b64 / 4 * 3 + 1 > outlen)
		return -1;
	len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)v + hl, (int)b64);
	if (len < 0)
		return -1;
	/* DecodeBlock counts padding as zero bytes */
	if (b64 >= 1 && v[hl + b64 - 1] == '=')
		len--;
	if (b64 >= 2 && v[hl + b64 - 2] == '=')
		len--;
	out[len] = '\0';
	return len;
}

int tg_gw_header_encode(const char *v, size_t n, char *out, size_t outlen)
{
	size_t hl = strlen(SENTINEL_HEAD), tl = strlen(SENTINEL_TAIL);
	bool wrap = n == 0 || !plain_ok(v, n) || v[0] == ' ' || v[0] == '\t' ||
		    v[n - 1] == ' ' || v[n - 1] == '\t' ||
		    (n >= hl + tl && strncmp(v, SENTINEL_HEAD, hl) == 0 &&
		     strncmp(v + n - tl, SENTINEL_TAIL, tl) == 0);

	if (!wrap) {
		if (n + 1 > outlen)
			return -1;
		memcpy(out, v, n);
		out[n] = '\0';
		return 0;
	}
	if (hl + 4 * ((n + 2) / 3) + tl + 1 > outlen)
		return -1;
	memcpy(out, SENTINEL_HEAD, hl);
	n = (size_t)EVP_EncodeBlock((unsigned char *)out + hl, (const unsigned char *)v, (int)n);
	memcpy(out + hl + n, SENTINEL_TAIL, tl + 1);
	return 0;
}

static int mismatch(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fills why; always -1, so a refusal is one statement. */
static int mismatch(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

int tg_gw_stateless_check(const tg_gw_http_in *in, const tg_rpc_msg *m, char *why, size_t whylen)
{
	const json_t *params = json_object_get(m->root, "params");
	const json_t *claimed = json_object_get(json_object_get(params, "_meta"), META_VERSION);
	const char *hm = in->header ? in->header(in->header_ud, "Mcp-Method") : NULL;
	const char *hn = in->header ? in->header(in->header_ud, "Mcp-Name") : NULL;
	const char *field = tg_gw_name_field(m->method);
	const char *body_name = field ? json_string_value(json_object_get(params, field)) : NULL;
	bool stateless = tg_gw_is_stateless(in->version);
	char dec[8192];

	if (in->params_bad)
		return mismatch(why, whylen, "an Mcp-Param header is repeated, or there are too many");
	/* The version: body and header agree, whichever era claims it. */
	if (claimed && (!json_is_string(claimed) || !in->version ||
			strcmp(json_string_value(claimed), in->version) != 0))
		return mismatch(why, whylen,
				"MCP-Protocol-Version header '%s' does not match the body's _meta "
				"protocolVersion", in->version ? in->version : "(absent)");
	if (stateless && m->kind == TG_RPC_REQUEST && !claimed)
		return mismatch(why, whylen, "a %s request carries its version in _meta", TG_GW_STATELESS_VERSION);
	/* Mcp-Method: required on 2026-07-28 requests, equal to the body's. */
	if (hm && strcmp(hm, m->method ? m->method : "") != 0)
		return mismatch(why, whylen,
				"Mcp-Method header '%s' does not match body method '%s'", hm,
				m->method ? m->method : "");
	if (stateless && m->kind == TG_RPC_REQUEST && !hm)
		return mismatch(why, whylen, "the Mcp-Method header is required");
	/* Mcp-Name: the body's name/uri/taskId, decoded before comparing. */
	if (hn) {
		if (!body_name)
			return mismatch(why, whylen,
					"Mcp-Name header given but the body of '%s' names nothing", m->method ? m->method : "");
		if (tg_gw_header_decode(hn, dec, sizeof dec) < 0)
			return mismatch(why, whylen, "Mcp-Name header is malformed");
		if (strcmp(dec, body_name) != 0)
			return mismatch(why, whylen,
					"Mcp-Name header value '%s' does not match body value '%s'", dec,
					body_name);
	} else if (stateless && m->kind == TG_RPC_REQUEST && body_name) {
		return mismatch(why, whylen, "the Mcp-Name header is required for %s", m->method);
	}
	return 0;
}

/* ---- x-mcp-header declarations ------------------------------------------ */

static bool token_ok(const char *s)
{
	const char *tchar = "!#$%&'*+-.^_`|~";

	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(tchar, *s)))
			return false;
	return true;
}

/* Collects [name, [path...]] for properties reachable through `properties`
 * chains only (the specification's "statically reachable"). */
static void scan(const json_t *schema, json_t *path, json_t *out, int depth)
{
	const json_t *props = json_object_get(schema, "properties"), *s;
	const char *k;

	if (depth > MAX_DEPTH || !json_is_object(props))
		return;
	json_object_foreach((json_t *)props, k, s) {
		const json_t *h = json_object_get(s, "x-mcp-header");
		json_t *p = json_copy(path);

		if (!p || json_array_append_new(p, json_string(k)) != 0) {
			json_decref(p);
			return;
		}
		if (json_is_string(h) && token_ok(json_string_value(h)))
			json_array_append_new(out, json_pack("[O,O]", h, p));
		scan(s, p, out, depth + 1);
		json_decref(p);
	}
}

void tg_gw_xheaders_learn(json_t *map, const json_t *response)
{
	const json_t *tools = json_object_get(json_object_get(response, "result"), "tools"), *t;
	size_t i;

	json_array_foreach(tools, i, t) {
		const char *name = json_string_value(json_object_get(t, "name"));
		json_t *decls = json_array(), *path = json_array();

		if (name && decls && path) {
			scan(json_object_get(t, "inputSchema"), path, decls, 0);
			if (json_array_size(decls) > 0)
				json_object_set(map, name, decls);
			else
				json_object_del(map, name);
		}
		json_decref(decls);
		json_decref(path);
	}
}

/* The header text of a body value (string, integer, boolean, number), or
 * -1 when it has none (objects, arrays). */
static int value_text(const json_t *v, char *out, size_t outlen)
{
	if (json_is_string(v))
		return snprintf(out, outlen, "%s", json_string_value(v)) < (int)outlen ? 0 : -1;
	if (json_is_integer(v))
		return snprintf(out, outlen, "%lld", (long long)json_integer_value(v)) > 0 ? 0 : -1;
	if (json_is_boolean(v))
		return snprintf(out, outlen, "%s", json_is_true(v) ? "true" : "false") > 0 ? 0 : -1;
	if (json_is_real(v))
		return snprintf(out, outlen, "%.17g", json_real_value(v)) > 0 ? 0 : -1;
	return -1;
}

/* A double holds every integer of at most this magnitude exactly. */
#define EXACT_IN_DOUBLE ((json_int_t)1 << 53)

/* Numbers compare numerically ("42.0" is 42), as the specification
 * suggests; everything else byte for byte. An integer header is compared
 * as an integer: through a double, 2^53 + 1 would equal 2^53, so a header
 * naming another value than the body's would pass. */
static bool same_value(const json_t *v, const char *text, const char *header)
{
	char *end;

	if (json_is_integer(v)) {
		json_int_t k = json_integer_value(v);
		long long h;

		errno = 0;
		h = strtoll(header, &end, 10);
		if (*header && *end == '\0')
			return errno == 0 && h == k;
		double d = strtod(header, &end);
		return *header && *end == '\0' && k >= -EXACT_IN_DOUBLE && k <= EXACT_IN_DOUBLE &&
		       d == (double)k;
	}
	if (json_is_real(v)) {
		double d = strtod(header, &end);

		return *header && *end == '\0' && d == json_real_value(v);
	}
	return strcmp(text, header) == 0;
}

static const char *param_header(const tg_gw_http_in *in, const char *name, bool *used)
{
	size_t i;

	for (i = 0; i < in->nparams; i++)
		if (strcasecmp(in->param_names[i] + strlen(PARAM_PREFIX), name) == 0) {
			used[i] = true;
			return in->param_values[i];
		}
	return NULL;
}

int tg_gw_params_check(const json_t *decls, const tg_gw_http_in *in, const json_t *args,
		       char **lines, size_t *nlines, size_t maxlines, char *why, size_t whylen)
{
	bool used[TG_GW_MAX_PARAMS] = {false};
	const json_t *d;
	size_t i;

	*nlines = 0;
	json_array_foreach(decls, i, d) {
		const char *name = json_string_value(json_array_get(d, 0));
		const json_t *path = json_array_get(d, 1), *v = args, *k;
		const char *h = param_header(in, name, used);
		char text[4096], dec[4096], enc[6000];
		size_t j;

		json_array_foreach(path, j, k) v = json_object_get(v, json_string_value(k));
		if (!v || json_is_null(v)) {
			if (h)
				return mismatch(why, whylen,
						"Mcp-Param-%s header given but the argument is absent", name);
			continue;
		}
		if (value_text(v, text, sizeof text) != 0)
			return mismatch(why, whylen,
					"the argument of Mcp-Param-%s is not a string, number or "
					"boolean", name);
		if (!h)
			return mismatch(why, whylen, "the Mcp-Param-%s header is missing", name);
		if (tg_gw_header_decode(h, dec, sizeof dec) < 0)
			return mismatch(why, whylen, "the Mcp-Param-%s header is malformed", name);
		if (!same_value(v, text, dec))
			return mismatch(why, whylen,
					"Mcp-Param-%s header does not match the body value '%s'", name,
					text);
		if (*nlines >= maxlines ||
		    tg_gw_header_encode(text, strlen(text), enc, sizeof enc) != 0)
			return mismatch(why, whylen, "Mcp-Param-%s cannot be carried", name);
		lines[*nlines] = malloc(strlen(PARAM_PREFIX) + strlen(name) + strlen(enc) + 3);
		if (!lines[*nlines])
			return mismatch(why, whylen, "out of memory");
		sprintf(lines[(*nlines)++], "%s%s: %s", PARAM_PREFIX, name, enc);
	}
	/* Headers no declaration names: an intermediary forwards them and
	 * otherwise ignores them (the upstream checks them against the body
	 * it receives); only their characters are checked. */
	for (i = 0; i < in->nparams; i++) {
		char dec[4096];

		if (used[i])
			continue;
		if (tg_gw_header_decode(in->param_values[i], dec, sizeof dec) < 0)
			return mismatch(why, whylen, "the %s header is malformed", in->param_names[i]);
		if (*nlines >= maxlines)
			return mismatch(why, whylen, "too many Mcp-Param headers");
		lines[*nlines] = malloc(strlen(in->param_names[i]) + strlen(in->param_values[i]) + 3);
		if (!lines[*nlines])
			return mismatch(why, whylen, "out of memory");
		sprintf(lines[(*nlines)++], "%s: %s", in->param_names[i], in->param_values[i]);
	}
	return 0;
}
