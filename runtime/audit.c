/*
 * audit.c - one JSON line per decision, and the request digest.
 *
 * The writer is snprintf-shaped: it counts every byte it would write and
 * stores only what fits, so a caller can size a buffer with a first call.
 * Everything is formatted by hand (no printf, no locale, no allocation);
 * strings are JSON-escaped, and bytes that are not valid UTF-8 (audit
 * records may describe invalid requests) become U+FFFD so the line is
 * always valid JSON.
 *
 * The digest hashes the request's canonical fields, each tagged and
 * length-prefixed, so two requests that differ in any field the policy can
 * see - split differently between fields or not - hash differently.
 */
#include "decision.h"
#include "policy.h"
#include "sha256.h"

#include <string.h>

typedef struct jw {
	char *buf;
	size_t cap, n;
} jw;

static void put(jw *w, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++, w->n++)
		if (w->n + 1 < w->cap)
			w->buf[w->n] = s[i];
}

static void puts_(jw *w, const char *s)
{
	put(w, s, strlen(s));
}

static size_t utf8_seq(const unsigned char *s, size_t avail)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
	if (n == 0 || n > avail)
		return 0;
	return tg_utf8_valid((const char *)s, n) ? n : 0;
}

static void put_json_str(jw *w, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	put(w, "\"", 1);
	for (size_t i = 0; i < len;) {
		unsigned c = s[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			put(w, e, 2);
			i++;
		} else if (c < 0x20) {
			const char *named = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r"
				: c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
			if (named) {
				put(w, named, 2);
			} else {
				char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
				put(w, e, 6);
			}
			i++;
		} else if (c < 0x80) {
			put(w, (const char *)s + i, 1);
			i++;
		} else {
			size_t n = utf8_seq(s + i, len - i);
			if (n) {
				put(w, (const char *)s + i, n);
				i += n;
			} else {
				put(w, "\xEF\xBF\xBD", 3);
				i++;
			}
		}
	}
	put(w, "\"", 1);
}

static void put_opt(jw *w, const char *s)
{
	if (s)
		put_json_str(w, s, strlen(s));
	else
		puts_(w, "null");
}

static void put_tgstr(jw *w, tg_str s)
{
	if (s.ptr)
		put_json_str(w, s.ptr, s.len);
	else
		puts_(w, "null");
}

static void put_uint(jw *w, uint64_t v, int width)
{
	char d[24];
	int n = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width)
		d[n++] = '0';
	while (n)
		put(w, &d[--n], 1);
}

/* RFC 3339 UTC from Unix seconds (proleptic Gregorian; Howard Hinnant's
 * days-to-civil). */
static void put_time(jw *w, int64_t t)
{
	int64_t days = t / 86400, secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t dd = doy - (153 * mp + 2) / 5 + 1;
	int64_t mm = mp < 10 ? mp + 3 : mp - 9;
	if (mm <= 2)
		y++;
	put(w, "\"", 1);
	if (y < 0) {
		put(w, "-", 1);
		y = -y;
	}
	put_uint(w, (uint64_t)y, 4);
	put(w, "-", 1);
	put_uint(w, (uint64_t)mm, 2);
	put(w, "-", 1);
	put_uint(w, (uint64_t)dd, 2);
	put(w, "T", 1);
	put_uint(w, (uint64_t)(secs / 3600), 2);
	put(w, ":", 1);
	put_uint(w, (uint64_t)(secs / 60 % 60), 2);
	put(w, ":", 1);
	put_uint(w, (uint64_t)(secs % 60), 2);
	put(w, "Z\"", 2);
}

static void dig_bytes(tg_sha256_ctx *c, unsigned char tag, const void *p, size_t len)
{
	unsigned char h[9];
	h[0] = tag;
	for (int i = 0; i < 8; i++)
		h[1 + i] = (unsigned char)((uint64_t)len >> (8 * i));
	tg_sha256_update(c, h, sizeof h);
	if (len)
		tg_sha256_update(c, p, len);
}

static void dig_str(tg_sha256_ctx *c, unsigned char tag, tg_str s)
{
	if (s.ptr)
		dig_bytes(c, tag, s.ptr, s.len);
	else
		dig_bytes(c, 0, NULL, 0);
}

static void dig_int(tg_sha256_ctx *c, unsigned char tag, int64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)v >> (8 * i));
	dig_bytes(c, tag, b, 8);
}

static void dig_list(tg_sha256_ctx *c, unsigned char tag, const tg_str *items, size_t n)
{
	dig_int(c, tag, (int64_t)n);
	for (size_t i = 0; i < n && items; i++)
		dig_str(c, 's', items[i]);
}

static void dig_value(tg_sha256_ctx *c, const tg_value *v);

/* A tree's nodes in preorder, each with its key; a container's count of
 * nodes tells where its subtree ends, so the encoding is unambiguous. */
static void dig_nodes(tg_sha256_ctx *c, const tg_node *nodes, size_t n)
{
	dig_int(c, 'n', (int64_t)n);
	for (size_t i = 0; i < n && nodes; i++) {
		dig_str(c, 'k', nodes[i].key);
		dig_value(c, &nodes[i].value);
		if (nodes[i].value.type == TG_VALUE_OBJECT || nodes[i].value.type == TG_VALUE_ARRAY)
			i += nodes[i].value.u.tree.n;
	}
}

static void dig_value(tg_sha256_ctx *c, const tg_value *v)
{
	switch (v->type) {
	case TG_VALUE_STRING:
		dig_str(c, 's', v->u.s);
		break;
	case TG_VALUE_INT:
		dig_int(c, 'i', v->u.i);
		break;
	case TG_VALUE_BOOL:
		dig_int(c, 'b', v->u.b);
		break;
	case TG_VALUE_STRING_LIST:
		dig_list(c, 'L', v->u.strs.items, v->u.strs.n);
		break;
	case TG_VALUE_INT_LIST:
		dig_int(c, 'I', (int64_t)v->u.ints.n);
		for (size_t k = 0; k < v->u.ints.n && v->u.ints.items; k++)
			dig_int(c, 'i', v->u.ints.items[k]);
		break;
	case TG_VALUE_OBJECT:
	case TG_VALUE_ARRAY:
		dig_int(c, v->type == TG_VALUE_OBJECT ? 'O' : 'Y', (int64_t)v->u.tree.n);
		dig_nodes(c, v->u.tree.nodes, v->u.tree.n);
		break;
	default:
		dig_int(c, 'x', (int64_t)v->type);
	}
}

void tg_request_digest(const tg_request *r, char hex[65])
{
	tg_sha256_ctx c;
	unsigned char d[32];
	tg_sha256_init(&c);
	if (r) {
		dig_str(&c, 'P', r->principal_id);
		dig_list(&c, 'R', r->roles, r->nroles);
		dig_list(&c, 'S', r->scopes, r->nscopes);
		dig_str(&c, 'C', r->client_id);
		dig_str(&c, 'M', r->method);
		dig_str(&c, 'T', r->target);
		dig_str(&c, 'V', r->server);
		unsigned char hints[4] = { (unsigned char)r->read_only, (unsigned char)r->destructive,
					   (unsigned char)r->idempotent, (unsigned char)r->open_world };
		dig_bytes(&c, 'A', hints, 4);
		dig_int(&c, 'N', (int64_t)r->nslots);
		for (size_t i = 0; i < r->nslots && r->slots; i++)
			dig_value(&c, &r->slots[i]);
		/* Only a request that carries the args tree digests it, so the
		 * digest of one that does not is what it always was. */
		if (r->size >= TG_REQUEST_V1_SIZE && r->args.type != TG_VALUE_ABSENT) {
			dig_int(&c, 'G', 1);
			dig_value(&c, &r->args);
		}
	}
	tg_sha256_final(&c, d);
	tg_sha256_hex(d, hex);
}
size_t tg_audit_format(const tg_policy *p, const tg_request *req, const tg_decision *d,
		       int64_t unix_time, char *buf, size_t len)
{
	jw w = { buf, buf ? len : 0, 0 };
	char digest[65];
	tg_str none = { NULL, 0 };

	puts_(&w, "{\"time\":");
	put_time(&w, unix_time);
	puts_(&w, ",\"principal\":");
	put_tgstr(&w, req ? req->principal_id : none);
	puts_(&w, ",\"method\":");
	put_tgstr(&w, req ? req->method : none);
	puts_(&w, ",\"target\":");
	put_tgstr(&w, req ? req->target : none);
	puts_(&w, ",\"decision\":");
	puts_(&w, d && d->effect == TG_ALLOW ? "\"allow\"" : "\"deny\"");
	puts_(&w, ",\"rule\":");
	put_opt(&w, d ? d->rule_id : NULL);
	puts_(&w, ",\"reason\":");
	put_opt(&w, d ? d->reason : NULL);
	puts_(&w, ",\"errors\":[");
	size_t ne = tg_decision_error_count(d);
	for (size_t i = 0; i < ne; i++) {
		const tg_rule_error *e = &d->errors[i];
		puts_(&w, i ? ",{\"rule\":" : "{\"rule\":");
		put_opt(&w, e->rule_id);
		puts_(&w, ",\"message\":");
		put_json_str(&w, e->message, strnlen(e->message, sizeof e->message));
		puts_(&w, "}");
	}
	puts_(&w, "],\"errors_total\":");
	put_uint(&w, d ? d->nerrors : 0, 1);
	puts_(&w, ",\"invalid\":");
	puts_(&w, d && d->invalid ? "true" : "false");
	if (d && d->by_error)
		puts_(&w, ",\"by_error\":true");
	puts_(&w, ",\"policy\":{\"name\":");
	put_opt(&w, p ? tg_policy_name(p) : NULL);
	puts_(&w, ",\"version\":");
	put_opt(&w, p ? tg_policy_version(p) : NULL);
	puts_(&w, ",\"hash\":");
	put_opt(&w, p ? tg_policy_hash(p) : NULL);
	puts_(&w, "},\"request_digest\":");
	tg_request_digest(req, digest);
	put_json_str(&w, digest, 64);
	puts_(&w, "}");
	if (w.cap)
		w.buf[w.n < w.cap ? w.n : w.cap - 1] = 0;
	return w.n;
}
