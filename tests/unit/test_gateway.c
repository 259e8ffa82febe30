/*
 * test_gateway.c - the HTTP gateway's parts without sockets: the
 * configuration reader (errors against goldens in tests/golden/gateway,
 * TG_UPDATE_GOLDEN=1 rewrites them), sealed session ids (round trip,
 * tampering, another principal, upstream or key, expiry), the header
 * checks, the audit annotation, the SSE splitter and the metrics text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"

static const char *source_dir(void)
{
	const char *s = getenv("TG_SOURCE_DIR");

	return s && *s ? s : ".";
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* ---- configuration ------------------------------------------------------- */

static const char *const goldens[] = {
	"unknown_keys", "missing_and_types", "auth_invalid", "identity_not_loopback",
	"yaml_syntax", "duplicates", "values_invalid", "listen_forms", "not_a_mapping",
	"introspection_invalid", "introspection_orphans",
};

static void config_goldens(void **state)
{
	size_t i;
	int failed = 0;

	(void)state;
	for (i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
		char path[4096], exp[4096], name[128], *text, *out = NULL, *want;
		size_t len, olen = 0, wlen = 0;
		FILE *err = open_memstream(&out, &olen);
		tg_gw_conf *c;
		const char *update = getenv("TG_UPDATE_GOLDEN");

		snprintf(path, sizeof path, "%s/tests/golden/gateway/%s.yaml", source_dir(),
			 goldens[i]);
		snprintf(exp, sizeof exp, "%s/tests/golden/gateway/%s.expected", source_dir(),
			 goldens[i]);
		snprintf(name, sizeof name, "%s.yaml", goldens[i]);
		text = slurp(path, &len);
		assert_non_null(text);
		/* The base name stands for the path, so goldens do not depend on
		 * where the tree lives. */
		c = tg_gw_conf_parse(name, text, len, err);
		fclose(err);
		assert_null(c);
		if (update && strcmp(update, "1") == 0) {
			FILE *f = fopen(exp, "wb");

			assert_non_null(f);
			fputs(out, f);
			fclose(f);
		}
		want = slurp(exp, &wlen);
		if (!want || wlen != olen || memcmp(want, out, olen) != 0) {
			fprintf(stderr, "%s: differs from %s; got:\n%s", name, exp, out);
			failed++;
		}
		free(want);
		free(out);
		free(text);
	}
	assert_int_equal(failed, 0);
}

static const char good[] =
	"listen: 127.0.0.1:0\n"
	"resource: http://127.0.0.1:8080/\n"
	"policy: policies/mcp.tgb\n"
	"shadow_policy: /abs/candidate.tg\n"
	"audit: audit.jsonl\n"
	"audit_required: false\n"
	"origins: [\"http://localhost\", \"https://app.example.com:8443\"]\n"
	"session_key_file: session.key\n"
	"upstreams:\n"
	"  - name: everything\n"
	"    path: /everything/mcp\n"
	"    url: http://127.0.0.1:9001/mcp\n"
	"  - name: files\n"
	"    path: /files/mcp\n"
	"    command: [\"node\", \"server.js\", \"/srv/repos\"]\n"
	"limits: {max_body: 4096, stdio_sessions: 2, response_timeout_ms: 1500}\n"
	"identity:\n"
	"  principal: {id: dev, roles: [engineer], clearance: 2}\n"
	"  context: {environment: staging}\n";

static void config_valid(void **state)
{
	tg_gw_conf *c = tg_gw_conf_parse("/etc/tg/gw.yaml", good, strlen(good), stderr);

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->listen_host, "127.0.0.1");
	assert_int_equal(c->listen_port, 0);
	assert_string_equal(c->resource, "http://127.0.0.1:8080");
	assert_string_equal(c->policy, "/etc/tg/policies/mcp.tgb");
	assert_string_equal(c->shadow_policy, "/abs/candidate.tg");
	assert_string_equal(c->audit, "/etc/tg/audit.jsonl");
	assert_false(c->audit_required);
	assert_int_equal(c->norigins, 2);
	assert_string_equal(c->session_key_file, "/etc/tg/session.key");
	assert_int_equal(c->nupstreams, 2);
	assert_string_equal(c->upstreams[0].url, "http://127.0.0.1:9001/mcp");
	assert_null(c->upstreams[0].command);
	assert_string_equal(c->upstreams[1].command[2], "/srv/repos");
	assert_null(c->upstreams[1].command[3]);
	assert_int_equal(c->limits.max_body, 4096);
	assert_int_equal(c->limits.stdio_sessions, 2);
	assert_int_equal(c->limits.response_timeout_ms, 1500);
	assert_int_equal(c->limits.max_header, TG_GW_DEFAULT_MAX_HEADER);
	assert_int_equal(c->limits.connect_timeout_ms, TG_GW_DEFAULT_CONNECT_MS);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(c->identity, "principal"), "clearance")),
			 2);
	assert_ptr_equal(tg_gw_conf_route(c, "/files/mcp"), &c->upstreams[1]);
	assert_null(tg_gw_conf_route(c, "/files/mcp/"));
	assert_null(tg_gw_conf_route(c, "/"));
	tg_gw_conf_free(c);
}

/* ---- sessions ---------------------------------------------------------- */

static void make_key(tg_gw_key *k, unsigned char fill)
{
	memset(k->bytes, fill, 32);
	k->len = 32;
}

static void session_round_trip(void **state)
{
	tg_gw_key k, other;
	tg_gw_session s = {"everything", "alice", "f9ab52df-2fd2-4f63-8403-b86ebf250ad4", 2000},
		      got;
	char id[TG_GW_SESSION_MAX + 1];
	size_t i;

	(void)state;
	make_key(&k, 7);
	make_key(&other, 8);
	assert_int_equal(tg_gw_session_seal(&k, &s, id, sizeof id), 0);
	for (i = 0; id[i]; i++)	/* visible ASCII, header-safe */
		assert_true(id[i] > 0x20 && id[i] < 0x7f && id[i] != '=' && id[i] != '+' &&
			    id[i] != '/');
	assert_int_equal(tg_gw_session_open(&k, id, "everything", "alice", 1000, &got),
			 TG_GW_SESSION_OK);
	assert_string_equal(got.up_session, s.up_session);
	assert_int_equal(got.expires, 2000);
	/* Another principal, another upstream: refused. */
	assert_int_equal(tg_gw_session_open(&k, id, "everything", "mallory", 1000, &got),
			 TG_GW_SESSION_OTHER);
	assert_int_equal(tg_gw_session_open(&k, id, "files", "alice", 1000, &got),
			 TG_GW_SESSION_OTHER);
	/* Expired. */
	assert_int_equal(tg_gw_session_open(&k, id, "everything", "alice", 2000, &got),
			 TG_GW_SESSION_EXPIRED);
	/* Another gateway's key. */
	assert_int_equal(tg_gw_session_open(&other, id, "everything", "alice", 1000, &got),
			 TG_GW_SESSION_MALFORMED);
}

static void session_tampering(void **state)
{
	tg_gw_key k;
	tg_gw_session s = {"e", "alice", "up-1", 2000}, got;
	char id[TG_GW_SESSION_MAX + 1], bad[TG_GW_SESSION_MAX + 1];
	size_t i, n;
	static const char *const junk[] = {
		"", "x", "====", "AQ", "not base64!", "AQAAAAAAAAfQAWUFYWxpY2UABHVwLTE",
	};

	(void)state;
	make_key(&k, 1);
	assert_int_equal(tg_gw_session_seal(&k, &s, id, sizeof id), 0);
	n = strlen(id);
	/* Every single-character change is caught by the MAC. */
	for (i = 0; i < n; i++) {
		strcpy(bad, id);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_int_not_equal(tg_gw_session_open(&k, bad, "e", "alice", 1000, &got),
				     TG_GW_SESSION_OK);
	}
	/* Truncated or extended. */
	strcpy(bad, id);
	bad[n - 1] = '\0';
	assert_int_equal(tg_gw_session_open(&k, bad, "e", "alice", 1000, &got),
			 TG_GW_SESSION_MALFORMED);
	assert_true(n + 3 <= sizeof bad);
	strcpy(bad, id);
	memcpy(bad + n, "AA", 3);
	assert_int_equal(tg_gw_session_open(&k, bad, "e", "alice", 1000, &got),
			 TG_GW_SESSION_MALFORMED);
	for (i = 0; i < sizeof junk / sizeof junk[0]; i++)
		assert_int_equal(tg_gw_session_open(&k, junk[i], "e", "alice", 1000, &got),
				 TG_GW_SESSION_MALFORMED);
	memset(bad, 'A', TG_GW_SESSION_MAX + 1);
	bad[TG_GW_SESSION_MAX] = '\0';
	assert_int_equal(tg_gw_session_open(&k, bad, "e", "alice", 1000, &got),
			 TG_GW_SESSION_MALFORMED);
	/* An upstream session id too long to seal is refused, not cut. */
	memset(s.up_session, 'x', sizeof s.up_session - 1);
	s.up_session[sizeof s.up_session - 1] = '\0';
	assert_int_equal(tg_gw_session_seal(&k, &s, id, sizeof id), 0);
	assert_int_equal(tg_gw_session_seal(&k, &s, id, 64), -1);
}

static void session_key_file(void **state)
{
	char path[] = "/tmp/tgkeyXXXXXX", err[256];
	int fd = mkstemp(path);
	tg_gw_key k;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "short", 5), 5);
	assert_int_equal(tg_gw_key_load(&k, "session key", path, err, sizeof err), -1);
	assert_non_null(strstr(err, "at least 32"));
	assert_non_null(strstr(err, "session key '"));
	assert_int_equal(write(fd, "0123456789012345678901234567", 27), 27);
	assert_int_equal(tg_gw_key_load(&k, "session key", path, err, sizeof err), 0);
	assert_int_equal(k.len, 32);
	close(fd);
	unlink(path);
	assert_int_equal(tg_gw_key_load(&k, "HMAC secret", path, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot read HMAC secret '"));
}

/* ---- header checks ------------------------------------------------------ */

static void header_checks(void **state)
{
	tg_gw_conf *c = tg_gw_conf_parse("gw.yaml", good, strlen(good), stderr);
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;

	(void)state;
	assert_non_null(c);
	assert_true(tg_gw_origin_ok(c, NULL));
	assert_true(tg_gw_origin_ok(c, "http://localhost"));
	assert_true(tg_gw_origin_ok(c, "https://app.example.com:8443"));
	assert_false(tg_gw_origin_ok(c, "http://localhost:80"));
	assert_false(tg_gw_origin_ok(c, "http://evil.example"));
	assert_false(tg_gw_origin_ok(c, "null"));
	assert_false(tg_gw_origin_ok(c, "http://LOCALHOST"));
	assert_false(tg_gw_origin_ok(c, ""));
	tg_gw_conf_free(c);

	assert_true(tg_gw_is_json_type("application/json"));
	assert_true(tg_gw_is_json_type("Application/JSON; charset=utf-8"));
	assert_false(tg_gw_is_json_type(NULL));
	assert_false(tg_gw_is_json_type("text/plain"));
	assert_false(tg_gw_is_json_type("application/jsonx"));
	assert_false(tg_gw_is_json_type("application/x-www-form-urlencoded"));

	assert_true(tg_gw_accepts("application/json, text/event-stream", "text/event-stream"));
	assert_true(tg_gw_accepts("text/*;q=0.5", "text/event-stream"));
	assert_true(tg_gw_accepts("*/*", "application/json"));
	assert_false(tg_gw_accepts("text/html", "application/json"));
	assert_false(tg_gw_accepts(NULL, "application/json"));

	assert_true(tg_gw_version_ok(NULL));
	assert_true(tg_gw_version_ok("2025-06-18"));
	assert_true(tg_gw_version_ok("2025-11-25"));
	assert_false(tg_gw_version_ok("2099-01-01"));
	assert_false(tg_gw_version_ok(""));

	memset(&a4, 0, sizeof a4);
	a4.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.2", &a4.sin_addr);
	assert_true(tg_gw_is_loopback((struct sockaddr *)&a4));
	inet_pton(AF_INET, "10.0.0.1", &a4.sin_addr);
	assert_false(tg_gw_is_loopback((struct sockaddr *)&a4));
	memset(&a6, 0, sizeof a6);
	a6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::1", &a6.sin6_addr);
	assert_true(tg_gw_is_loopback((struct sockaddr *)&a6));
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &a6.sin6_addr);
	assert_true(tg_gw_is_loopback((struct sockaddr *)&a6));
	inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr);
	assert_false(tg_gw_is_loopback((struct sockaddr *)&a6));
	assert_false(tg_gw_is_loopback(NULL));
}

/* ---- audit, SSE, metrics ------------------------------------------------ */

static void audit_annotation(void **state)
{
	char *s = tg_gw_audit_annotate("{\"a\":1}\n", 8, "fi\"les", false, NULL);

	(void)state;
	assert_string_equal(s, "{\"a\":1,\"upstream\":\"fi\\\"les\"}\n");
	free(s);
	s = tg_gw_audit_annotate("{\"a\":1}", 7, "e", true, NULL);
	assert_string_equal(s, "{\"a\":1,\"upstream\":\"e\",\"shadow\":true}\n");
	free(s);
	assert_null(tg_gw_audit_annotate("not json", 8, "e", false, NULL));
}

typedef struct events {
	char data[8][256];
	char id[8][256];
	size_t raw[8];
	int n, nodata;
} events;

static void collect(void *ud, const tg_gw_sse_event *e)
{
	events *ev = ud;

	assert_true(ev->n < 8);
	if (e->data)
		snprintf(ev->data[ev->n], sizeof ev->data[0], "%s", e->data);
	else
		ev->nodata++;
	snprintf(ev->id[ev->n], sizeof ev->id[0], "%s", e->id);
	ev->raw[ev->n] = e->raw_len;
	ev->n++;
}

static void sse_splitting(void **state)
{
	static const char stream[] = "id: 7\nevent: message\ndata: {\"a\":\n"
				     "data: 1}\n\n"
				     ": a comment\r\n\r\n"
				     "data:x\r\rdata: last\n\n";
	tg_gw_sse s = {.max = 1024};
	events ev;
	size_t i;

	(void)state;
	memset(&ev, 0, sizeof ev);
	/* Byte by byte: events are whole however the bytes arrive. */
	for (i = 0; i < sizeof stream - 1; i++)
		assert_int_equal(tg_gw_sse_feed(&s, stream + i, 1, collect, &ev), 0);
	assert_int_equal(ev.n, 4);
	assert_string_equal(ev.data[0], "{\"a\":\n1}");
	assert_string_equal(ev.id[0], "7");
	assert_int_equal(ev.raw[0], strlen("id: 7\nevent: message\ndata: {\"a\":\ndata: 1}\n\n"));
	assert_int_equal(ev.nodata, 1);
	assert_string_equal(ev.data[2], "x");
	assert_string_equal(ev.data[3], "last");
	tg_gw_sse_free(&s);

	/* One event past the limit ends the stream. */
	s.max = 16;
	memset(&ev, 0, sizeof ev);
	assert_int_equal(tg_gw_sse_feed(&s, "data: 0123456789abcdef", 22, collect, &ev), -1);
	assert_int_equal(tg_gw_sse_feed(&s, "\n\n", 2, collect, &ev), -1);
	assert_int_equal(ev.n, 0);
	tg_gw_sse_free(&s);
	/* The same when the whole event arrives in one piece. */
	s.max = 16;
	memset(&ev, 0, sizeof ev);
	assert_int_equal(tg_gw_sse_feed(&s, "data: 0123456789abcdef\n\n", 24, collect, &ev), -1);
	assert_int_equal(ev.n, 0);
	tg_gw_sse_free(&s);
}

static void metrics_text(void **state)
{
	tg_gw_metrics m;
	size_t len;
	char *t;

	(void)state;
	tg_gw_metrics_init(&m);
	tg_gw_metrics_decision(&m, "files", TG_GW_OUT_DENY);
	tg_gw_metrics_decision(&m, "files", TG_GW_OUT_DENY);
	tg_gw_metrics_refusal(&m, TG_GW_REF_ORIGIN);
	tg_gw_metrics_latency(&m, 0.003);
	tg_gw_metrics_upstream_error(&m, "everything");
	tg_gw_metrics_reload(&m, false);
	t = tg_gw_metrics_text(&m, &len);
	assert_non_null(t);
	assert_non_null(strstr(t, "toolgate_gateway_decisions_total{upstream=\"files\",outcome=\"deny\"} 2\n"));
	assert_non_null(strstr(t, "toolgate_gateway_refusals_total{reason=\"origin\"} 1\n"));
	assert_non_null(strstr(t, "toolgate_gateway_upstream_latency_seconds_bucket{le=\"0.0025\"} 0\n"));
	assert_non_null(strstr(t, "toolgate_gateway_upstream_latency_seconds_bucket{le=\"0.005\"} 1\n"));
	assert_non_null(strstr(t, "toolgate_gateway_upstream_errors_total{upstream=\"everything\"} 1\n"));
	assert_non_null(strstr(t, "toolgate_gateway_reloads_total{result=\"failed\"} 1\n"));
	free(t);
	tg_gw_metrics_destroy(&m);
}

/* tasks.c: a sealed task id opens only for its principal and upstream,
 * never as a session id, and every task id of a message is sealed. */
static void task_binding(void **state)
{
	tg_gw_key k;
	tg_gw_session sess;
	char sealed[TG_GW_SESSION_MAX + 1], task[256], sid[TG_GW_SESSION_MAX + 1];
	json_t *msg;

	(void)state;
	make_key(&k, 7);
	assert_int_equal(tg_gw_task_seal(&k, "up", "alice", "t-1", 2000, sealed, sizeof sealed), 0);
	assert_int_equal(tg_gw_task_open(&k, sealed, "up", "alice", 1000, task, sizeof task),
			 TG_GW_SESSION_OK);
	assert_string_equal(task, "t-1");
	assert_int_equal(tg_gw_task_open(&k, sealed, "up", "bob", 1000, task, sizeof task),
			 TG_GW_SESSION_OTHER);
	assert_int_equal(tg_gw_task_open(&k, sealed, "other", "alice", 1000, task, sizeof task),
			 TG_GW_SESSION_OTHER);
	assert_int_equal(tg_gw_task_open(&k, sealed, "up", "alice", 3000, task, sizeof task),
			 TG_GW_SESSION_EXPIRED);
	assert_int_equal(tg_gw_task_open(&k, "t-1", "up", "alice", 1000, task, sizeof task),
			 TG_GW_SESSION_MALFORMED);
	/* a session id is not a task id */
	memset(&sess, 0, sizeof sess);
	strcpy(sess.upstream, "up");
	strcpy(sess.principal, "alice");
	strcpy(sess.up_session, "t-1");
	sess.expires = 2000;
	assert_int_equal(tg_gw_session_seal(&k, &sess, sid, sizeof sid), 0);
	assert_int_equal(tg_gw_task_open(&k, sid, "up", "alice", 1000, task, sizeof task),
			 TG_GW_SESSION_MALFORMED);

	msg = json_loads("{\"result\":{\"task\":{\"taskId\":\"t-2\"},\"_meta\":{\"x\":"
			 "{\"taskId\":\"t-3\"}},\"content\":[{\"taskId\":\"mine\"}]}}",
			 0, NULL);
	assert_non_null(msg);
	assert_int_equal(tg_gw_tasks_seal(&k, "up", "alice", 2000, msg), 2);
	/* tool output is the tool's own data: left alone */
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(json_object_get(msg, "result"),
								   "content"),
						   0),
				    "taskId")),
			    "mine");
	json_decref(msg);
	msg = json_pack("{s:{s:s}}", "params", "taskId", sealed);
	assert_int_equal(tg_gw_tasks_open(&k, "up", "alice", 1000, msg), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(msg, "params"), "taskId")),
			    "t-1");
	json_decref(msg);
	msg = json_pack("{s:{s:s}}", "params", "taskId", sealed);
	assert_int_equal(tg_gw_tasks_open(&k, "up", "bob", 1000, msg), -1);
	json_decref(msg);
}

/* stateless.c: header values with the Base64 sentinel, both ways. */
static void header_values(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(tg_gw_header_decode("us-west1", out, sizeof out), 8);
	assert_string_equal(out, "us-west1");
	assert_int_equal(tg_gw_header_decode("=?base64?SGVsbG8sIOS4lueVjA==?=", out, sizeof out),
			 13);
	assert_string_equal(out, "Hello, \xe4\xb8\x96\xe7\x95\x8c");
	assert_int_equal(tg_gw_header_decode("=?base64?IHBhZGRlZCA=?=", out, sizeof out), 8);
	assert_string_equal(out, " padded ");
	assert_true(tg_gw_header_decode("=?base64?***?=", out, sizeof out) < 0);
	assert_true(tg_gw_header_decode("a\x01b", out, sizeof out) < 0);
	assert_int_equal(tg_gw_header_encode("us-west1", 8, out, sizeof out), 0);
	assert_string_equal(out, "us-west1");
	assert_int_equal(tg_gw_header_encode(" padded ", 8, out, sizeof out), 0);
	assert_string_equal(out, "=?base64?IHBhZGRlZCA=?=");
	assert_int_equal(tg_gw_header_encode("=?base64?literal?=", 18, out, sizeof out), 0);
	assert_string_equal(out, "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=");
	assert_int_equal(tg_gw_header_encode("line1\nline2", 11, out, sizeof out), 0);
	assert_string_equal(out, "=?base64?bGluZTEKbGluZTI=?=");
	assert_string_equal(tg_gw_name_field("resources/read"), "uri");
	assert_string_equal(tg_gw_name_field("tasks/get"), "taskId");
	assert_null(tg_gw_name_field("tools/list"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_goldens),   cmocka_unit_test(config_valid),
		cmocka_unit_test(session_round_trip), cmocka_unit_test(session_tampering),
		cmocka_unit_test(session_key_file), cmocka_unit_test(header_checks),
		cmocka_unit_test(audit_annotation), cmocka_unit_test(sse_splitting),
		cmocka_unit_test(metrics_text),	    cmocka_unit_test(task_binding),
		cmocka_unit_test(header_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
