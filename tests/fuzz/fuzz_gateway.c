/*
 * fuzz_gateway.c - what the HTTP gateway reads from its peers before any
 * policy runs. The first byte picks the reader, the rest is its input:
 *
 *   't'  a client's bearer token: tg_gw_jwt_verify against the test key set
 *        (tests/gateway/keys: RS256, PS256, ES256) at a fixed time. A token
 *        it accepts has the issuer, an audience naming the resource, and an
 *        expiry after the time, as the configuration demands.
 *   's'  a client's session id: tg_gw_session_open under a fixed key. One it
 *        opens seals back to the very same text.
 *   'r'  a session sealed from the input's fields, then opened: the fields
 *        come back whole, and under another principal or upstream it does
 *        not open.
 *   'e'  an upstream's SSE stream, fed whole and in the pieces the input's
 *        first bytes choose: the same events either way, their raw texts the
 *        input's prefix in order, none past the limit.
 *   'c'  a configuration file (what `gateway --check` reads): refused with
 *        its errors, or read whole, with every upstream named, routed and
 *        either a url or a command. Inputs naming bearer_token_file or
 *        introspection_client_secret_file are left out: they are the keys
 *        read as they are parsed, and a fuzzer's path could name a FIFO. So
 *        are inputs with a backslash, with which a double-quoted key could
 *        spell them otherwise.
 */
#define _GNU_SOURCE	/* memmem */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "gateway.h"

#define NOW 1765000100	/* the seed tokens' iat + 100 */
#define ISSUER "http://127.0.0.1:9100"
#define RESOURCE "http://127.0.0.1:8080/rec/mcp"

/* The configuration and key set every token is checked against (both
 * live for the process: the key set keeps its configuration). */
static const tg_gw_auth_conf *auth(tg_gw_jwks **keys)
{
	static char path[] = TG_FUZZ_SOURCE_DIR "/tests/gateway/keys/jwks.json";
	static tg_gw_auth_conf a;
	static tg_gw_jwks *j;
	char err[256];

	if (!j) {
		a.issuer = (char *)ISSUER;
		a.jwks_file = path;
		a.clock_skew_s = 60;
		if (!(j = tg_gw_jwks_create(&a, err, sizeof err)))
			tg_fuzz_fail("the test key set does not load: %s", err);
	}
	*keys = j;
	return &a;
}

static void token(const char *text)
{
	tg_gw_jwks *keys;
	const tg_gw_auth_conf *a = auth(&keys);
	char why[256];
	json_t *claims, *aud;
	size_t i;
	bool names = false;

	claims = tg_gw_jwt_verify(a, keys, NULL, text, RESOURCE, NOW, why, sizeof why, NULL);
	if (!claims)
		return;
	if (!json_is_string(json_object_get(claims, "iss")) ||
	    strcmp(json_string_value(json_object_get(claims, "iss")), ISSUER) != 0)
		tg_fuzz_fail("a token of another issuer was accepted");
	aud = json_object_get(claims, "aud");
	if (json_is_string(aud))
		names = strcmp(json_string_value(aud), RESOURCE) == 0;
	for (i = 0; json_is_array(aud) && i < json_array_size(aud); i++)
		names |= json_is_string(json_array_get(aud, i)) &&
			 strcmp(json_string_value(json_array_get(aud, i)), RESOURCE) == 0;
	if (!names)
		tg_fuzz_fail("a token for another audience was accepted");
	if (!json_is_integer(json_object_get(claims, "exp")) ||
	    json_integer_value(json_object_get(claims, "exp")) + 60 <= NOW)
		tg_fuzz_fail("an expired token was accepted");
	json_decref(claims);
}

static const tg_gw_key *fixed_key(void)
{
	static tg_gw_key k;

	if (!k.len) {
		for (size_t i = 0; i < 32; i++)
			k.bytes[i] = (unsigned char)(i * 7 + 1);
		k.len = 32;
	}
	return &k;
}

static void session_text(const char *text)
{
	tg_gw_session s, back;
	char again[TG_GW_SESSION_MAX + 1];

	memset(&s, 0, sizeof s);
	if (tg_gw_session_open(fixed_key(), text, "rec", "alice", NOW, &s) != TG_GW_SESSION_OK)
		return;
	if (tg_gw_session_seal(fixed_key(), &s, again, sizeof again) != 0 || strcmp(again, text) != 0)
		tg_fuzz_fail("an opened session id does not seal back to itself");
	if (tg_gw_session_open(fixed_key(), again, "rec", "alice", NOW, &back) != TG_GW_SESSION_OK)
		tg_fuzz_fail("a sealed session id does not open");
}

/* Copies up to the next NUL (or the end) of in into out (cap bytes). */
static const char *field(const char *in, const char *end, char *out, size_t cap)
{
	size_t n = 0;

	while (in < end && *in && n + 1 < cap)
		out[n++] = *in++;
	out[n] = '\0';
	while (in < end && *in)
		in++;
	return in < end ? in + 1 : in;
}

static void session_fields(const char *p, size_t n)
{
	const char *end = p + n;
	tg_gw_session s, back;
	char text[TG_GW_SESSION_MAX + 1];

	memset(&s, 0, sizeof s);
	p = field(p, end, s.upstream, sizeof s.upstream);
	p = field(p, end, s.principal, sizeof s.principal);
	field(p, end, s.up_session, sizeof s.up_session);
	s.expires = NOW + 1000;
	if (tg_gw_session_seal(fixed_key(), &s, text, sizeof text) != 0)
		return;	/* too long to carry */
	memset(&back, 0, sizeof back);
	if (tg_gw_session_open(fixed_key(), text, s.upstream, s.principal, NOW, &back) !=
		    TG_GW_SESSION_OK ||
	    strcmp(back.upstream, s.upstream) != 0 || strcmp(back.principal, s.principal) != 0 ||
	    strcmp(back.up_session, s.up_session) != 0 || back.expires != s.expires)
		tg_fuzz_fail("a sealed session does not come back whole");
	if (tg_gw_session_open(fixed_key(), text, s.upstream, "mallory", NOW, &back) ==
		    TG_GW_SESSION_OK &&
	    strcmp(s.principal, "mallory") != 0)
		tg_fuzz_fail("a session opened for another principal");
	if (tg_gw_session_open(fixed_key(), text, "other", s.principal, NOW, &back) ==
		    TG_GW_SESSION_OK &&
	    strcmp(s.upstream, "other") != 0)
		tg_fuzz_fail("a session opened at another upstream");
	if (tg_gw_session_open(fixed_key(), text, s.upstream, s.principal, NOW + 2000, &back) ==
	    TG_GW_SESSION_OK)
		tg_fuzz_fail("an expired session opened");
}

#define SSE_MAX 4096

typedef struct events {
	tg_px_buf log;		/* each event: raw, id, data, separated */
	size_t raw_total;
	const char *input;
	bool in_order;
} events;

static void on_event(void *ud, const tg_gw_sse_event *e)
{
	events *ev = ud;

	if (e->raw_len > SSE_MAX || memcmp(ev->input + ev->raw_total, e->raw, e->raw_len) != 0)
		ev->in_order = false;
	ev->raw_total += e->raw_len;
	tg_px_buf_add(&ev->log, e->raw, e->raw_len);
	tg_px_buf_add(&ev->log, "\x01", 1);
	tg_px_buf_add(&ev->log, e->id, strlen(e->id));
	tg_px_buf_add(&ev->log, "\x01", 1);
	if (e->data)
		tg_px_buf_add(&ev->log, e->data, e->data_len);
	tg_px_buf_add(&ev->log, "\x02", 1);
}

static int feed(const char *p, size_t n, const unsigned char *cuts, size_t ncuts, events *ev)
{
	tg_gw_sse s;
	int rc = 0;
	size_t at = 0, k = 0;

	memset(&s, 0, sizeof s);
	s.max = SSE_MAX;
	memset(ev, 0, sizeof *ev);
	ev->input = p;
	ev->in_order = true;
	while (at < n && rc == 0) {
		size_t piece = ncuts ? (size_t)cuts[k++ % ncuts] + 1 : n;

		if (piece > n - at)
			piece = n - at;
		rc = tg_gw_sse_feed(&s, p + at, piece, on_event, ev);
		at += piece;
	}
	tg_gw_sse_free(&s);
	return rc;
}

static void sse(const unsigned char *p, size_t n)
{
	size_t ncuts = n ? p[0] % 8 : 0;
	events whole, pieces;
	int a, b;

	if (n < 1 + ncuts)
		return;
	a = feed((const char *)p + 1 + ncuts, n - 1 - ncuts, NULL, 0, &whole);
	b = feed((const char *)p + 1 + ncuts, n - 1 - ncuts, p + 1, ncuts, &pieces);
	if (!whole.in_order || !pieces.in_order)
		tg_fuzz_fail("an SSE event is not the input's next bytes, or is past the limit");
	/* Past the limit, where the stream is cut depends on the pieces. */
	if (a == 0 && b == 0 &&
	    (tg_px_buf_size(&whole.log) != tg_px_buf_size(&pieces.log) ||
	     memcmp(tg_px_buf_head(&whole.log), tg_px_buf_head(&pieces.log),
		    tg_px_buf_size(&whole.log)) != 0))
		tg_fuzz_fail("SSE events depend on how the stream was cut");
	tg_px_buf_free(&whole.log);
	tg_px_buf_free(&pieces.log);
}

static void config(const char *text, size_t n)
{
	static FILE *devnull;
	tg_gw_conf *c;

	if (memmem(text, n, "bearer_token_file", 17) ||
	    memmem(text, n, "client_secret_file", 18) || memchr(text, '\\', n))
		return;
	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		return;
	c = tg_gw_conf_parse("/nonexistent/gw.yaml", text, n, devnull);
	if (!c)
		return;
	if (!c->listen_host || !c->resource || !c->policy || !c->audit || c->nupstreams == 0)
		tg_fuzz_fail("a configuration was accepted without a required key");
	for (size_t i = 0; i < c->nupstreams; i++) {
		const tg_gw_upstream_conf *u = &c->upstreams[i];

		if (!u->name || !u->path || !!u->url == !!u->command ||
		    tg_gw_conf_route(c, u->path) != u)
			tg_fuzz_fail("upstream %zu was accepted half-read", i);
	}
	tg_gw_conf_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1 || size > 65536)
		return 0;
	if (data[0] == 'e') {
		sse(data + 1, size - 1);
		return 0;
	}
	if (data[0] == 'r') {
		session_fields((const char *)data + 1, size - 1);
		return 0;
	}
	if (data[0] == 'c') {
		config((const char *)data + 1, size - 1);
		return 0;
	}
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] == 't')
		token(text);
	else if (data[0] == 's')
		session_text(text);
	free(text);
	return 0;
}
