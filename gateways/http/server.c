/*
 * server.c - the HTTP side, with libmicrohttpd: routing, the checks that
 * need no body, the body limit, and turning answers into responses.
 *
 * libmicrohttpd parses HTTP; nothing here reads raw requests. It runs in
 * external epoll mode on the gateway's event loop (loop.c), which must
 * never block. A request at an HTTP upstream runs its exchange on the loop
 * (tg_gw_exchange_start): the connection is suspended while the upstream
 * call is in flight on the same loop and resumed with the answer; a
 * streamed answer is read as it comes, the connection suspended whenever
 * nothing waits. A suspended stream's socket is watched for a hang-up,
 * which ends its upstream call. A request whose exchange would block (a
 * stdio child, the gateway's own tool-list fetch, a token's key being
 * fetched) goes to a relay.c worker instead, which resumes the connection
 * with the answer. An idle connection costs its libmicrohttpd state only,
 * no thread; the idle timeout closes connections with nothing to do.
 *
 * Everything decided from headers alone is refused at the first call,
 * before the body is read: unknown path 404, a repeated security header
 * 400, a disallowed Origin 403, a POST that is not application/json 415,
 * one that accepts neither JSON nor SSE 406, a declared length past the
 * limit 413. A body that grows past the limit without declaring it is
 * dropped as it arrives (memory stays bounded) and answered 413.
 * /healthz, /metrics and the RFC 9728 metadata under
 * /.well-known/oauth-protected-resource are the gateway's own: no
 * identity, never forwarded.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <microhttpd.h>

#include "driver.h"
#include "gateway.h"

typedef struct req req;

typedef struct tg_gw_server {
	struct MHD_Daemon *d;
	tg_gw *gw;
	tg_gw_relay *relay;
	tg_gw_loop *loop;
	req *waiting;		/* requests with a pending exchange or a loop's stream */
	const tg_gw_conf *started;	/* the configuration at start: tls, behind_proxy */
	tg_gw_tls *tls;			/* HTTPS: the certificate and key served */
} server;

struct req {
	server *s;
	struct MHD_Connection *conn;
	const tg_gw_conf *conf;
	const tg_gw_upstream_conf *uc;
	tg_px_buf body;
	bool too_large;
	bool answered;
	bool local;		/* /healthz, /metrics, /.well-known/...: answered late */
	bool started;		/* the handler has seen the request */
	size_t uri_len;		/* the request target as sent, query included */
	tg_gw_job *job;		/* the exchange, once handed to a worker */
	tg_gw_http_in in;	/* what the exchange reads */
	/* an exchange on the loop */
	tg_gw_pending *pending;
	tg_gw_answer a;		/* its streamed answer */
	bool suspended, gone;
	tg_gw_watch watch;	/* the client's socket while suspended */
	req *prev, *next;	/* in s->waiting */
};

static void add_header(struct MHD_Response *r, const char *name, const char *value)
{
	if (value && value[0])
		MHD_add_response_header(r, name, value);
}

/* A streamed answer (a->read set) is read through `read` (cls), and
 * done(cls) is called once libmicrohttpd is through with it (NULL: the
 * caller keeps a). */
static enum MHD_Result queue_answer(struct MHD_Connection *conn, tg_gw_answer *a,
				    MHD_ContentReaderCallback read, void *cls,
				    MHD_ContentReaderFreeCallback done)
{
	struct MHD_Response *r;
	enum MHD_Result rc;
	unsigned status = a->status ? a->status : 500;

	if (a->read) {
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, TG_GW_STREAM_BLOCK, read, cls,
						      done);
		if (!r) {
			if (done)
				done(cls);
			return MHD_NO;
		}
		add_header(r, "Content-Type", a->content_type);
		add_header(r, "Cache-Control", "no-cache, no-transform");
		add_header(r, "Mcp-Session-Id", a->session);
	} else {
		r = MHD_create_response_from_buffer(a->body_len, a->body,
						    a->body ? MHD_RESPMEM_MUST_FREE
							    : MHD_RESPMEM_PERSISTENT);
		if (!r) {
			tg_gw_answer_free(a);
			return MHD_NO;
		}
		a->body = NULL;	/* libmicrohttpd frees it */
		add_header(r, "Content-Type", a->body_len ? a->content_type : NULL);
		add_header(r, "Mcp-Session-Id", a->session);
		add_header(r, "Allow", a->allow);
		add_header(r, "WWW-Authenticate", a->www_authenticate);
		tg_gw_answer_free(a);
	}
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result refuse(tg_gw *gw, struct MHD_Connection *conn, req *q, unsigned status,
			      tg_gw_refusal why, const char *message)
{
	tg_gw_answer a;

	memset(&a, 0, sizeof a);
	tg_gw_metrics_refusal(&gw->metrics, why);
	tg_gw_answer_error(&a, status, NULL,
			   why == TG_GW_REF_PARSE ? TG_RPC_PARSE_ERROR : TG_RPC_INVALID_REQUEST,
			   message, NULL);
	q->answered = true;
	return queue_answer(conn, &a, NULL, NULL, NULL);
}

static enum MHD_Result plain(struct MHD_Connection *conn, req *q, unsigned status,
			     const char *type, char *text, size_t len)
{
	tg_gw_answer a;

	memset(&a, 0, sizeof a);
	a.status = status;
	snprintf(a.content_type, sizeof a.content_type, "%s", type);
	a.body = text;
	a.body_len = len;
	q->answered = true;
	return queue_answer(conn, &a, NULL, NULL, NULL);
}

#define NSINGLE 7

typedef struct counts {
	unsigned n[NSINGLE];
	size_t bytes;
} counts;

/* Headers that must not be given twice: a second copy is a second source
 * of truth (2026-07-28's Mcp-Method and Mcp-Name included). */
static const char *const single[NSINGLE] = {
	"Origin", "Mcp-Session-Id", "MCP-Protocol-Version", "Content-Type", "Authorization",
	"Mcp-Method", "Mcp-Name",
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	counts *c = cls;
	size_t i;

	(void)kind;
	/* "Name: value" CRLF: what the line is as a client writes it. */
	c->bytes += strlen(key) + 2 + (value ? strlen(value) : 0) + 2;
	for (i = 0; i < NSINGLE; i++)
		if (strcasecmp(key, single[i]) == 0)
			c->n[i]++;
	return MHD_YES;
}

/* Collects Mcp-Param-* headers (2026-07-28) for stateless.c; a repeated
 * one (names are case-insensitive) or too many mark the request bad. */
static enum MHD_Result param_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	tg_gw_http_in *in = cls;
	size_t i;

	(void)kind;
	if (strncasecmp(key, "Mcp-Param-", 10) != 0)
		return MHD_YES;
	for (i = 0; i < in->nparams; i++)
		if (strcasecmp(in->param_names[i], key) == 0)
			in->params_bad = true;
	if (in->nparams == TG_GW_MAX_PARAMS || key[10] == '\0') {
		in->params_bad = true;
		return MHD_YES;
	}
	in->param_names[in->nparams] = key;
	in->param_values[in->nparams++] = value ? value : "";
	return MHD_YES;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static const char *header_cb(void *ud, const char *name)
{
	return header(ud, name);
}

/* ---- exchanges on the loop ---------------------------------------------- */

static void hangup(void *ud);

/* A stream waiting for its upstream watches its client's socket: a
 * client that hangs up ends the upstream request instead of leaving it
 * streaming to nobody. A pending exchange is bounded by its response
 * timeout and is not watched (two system calls a request). */
static void suspend(req *q, bool watch)
{
	MHD_suspend_connection(q->conn);
	q->suspended = true;
	if (watch)
		tg_gw_loop_watch(q->s->loop, &q->watch, q->in.client_fd, hangup, q);
}

static void resume(req *q)
{
	tg_gw_loop_unwatch(q->s->loop, &q->watch);
	q->suspended = false;
	MHD_resume_connection(q->conn);
	tg_gw_loop_kick(q->s->loop);
}

/* The exchange's news: its answer is made, or its stream has more. */
static void ready(void *ud)
{
	req *q = ud;

	if (q->suspended)
		resume(q);
}

/* Only a stream's connection is watched (suspend): its reader ends it. */
static void hangup(void *ud)
{
	req *q = ud;

	q->gone = true;
	resume(q);
}

static ssize_t loop_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	req *q = cls;
	ssize_t n = q->gone ? -2 : q->a.read(q->a.st, buf, max);

	(void)pos;
	if (n > 0)
		return n;
	if (n == -1)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	/* Nothing yet: 0 with the connection suspended until ready(). */
	suspend(q, true);
	return 0;
}

/* Deadlines: each waiting request's, and the earliest still ahead. */
static int64_t tick(void *ud, int64_t now_ms)
{
	server *s = ud;
	int64_t next = INT64_MAX, due;

	for (req *q = s->waiting; q; q = q->next) {
		if (q->pending)
			due = tg_gw_pending_tick(q->pending, now_ms);
		else if (q->a.tick)
			due = q->a.tick(q->a.st, now_ms);
		else
			continue;
		if (due < next)
			next = due;
	}
	return next;
}

/* The first call: everything that needs no body. Returns MHD_YES with
 * q->answered set when a response was queued. */
static enum MHD_Result first_call(tg_gw *gw, struct MHD_Connection *conn, req *q,
				  const char *url, const char *method, const char *version)
{
	const char *origin = header(conn, "Origin"), *len, *accept;
	counts c;
	size_t i;

	memset(&c, 0, sizeof c);
	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &c);
	/* max_header is exact here: the request line, the header lines and
	 * the blank line, as sent (without optional whitespace). The memory
	 * pool libmicrohttpd refuses by is larger, see tg_gw_server_start. */
	if (strlen(method) + 1 + q->uri_len + 1 + strlen(version) + 2 + c.bytes + 2 >
	    q->conf->limits.max_header)
		return refuse(gw, conn, q, 431, TG_GW_REF_TOO_LARGE,
			      "toolgate: the request headers are larger than limits.max_header");
	for (i = 0; i < NSINGLE; i++)
		if (c.n[i] > 1) {
			char msg[128];

			snprintf(msg, sizeof msg, "toolgate: the %s header is given more than once",
				 single[i]);
			return refuse(gw, conn, q, 400, TG_GW_REF_INVALID, msg);
		}
	if (!tg_gw_origin_ok(q->conf, origin))
		return refuse(gw, conn, q, 403, TG_GW_REF_ORIGIN, "toolgate: Origin not allowed");
	if (strcmp(url, "/healthz") == 0 && strcmp(method, "GET") == 0) {
		char *ok = strdup("ok\n");

		return plain(conn, q, ok ? 200 : 500, "text/plain", ok, ok ? 3 : 0);
	}
	if (strcmp(url, "/metrics") == 0 && strcmp(method, "GET") == 0) {
		size_t n = 0;
		char *text = tg_gw_metrics_text(&gw->metrics, &n);

		return plain(conn, q, text ? 200 : 500, "text/plain; version=0.0.4", text,
			     text ? n : 0);
	}
	if (strncmp(url, "/.well-known/oauth-protected-resource", 37) == 0 &&
	    strcmp(method, "GET") == 0 && q->conf->auth) {
		size_t n = 0;
		char *doc = tg_gw_prm_document(q->conf, url, &n);

		if (doc)
			return plain(conn, q, 200, "application/json", doc, n);
	}
	q->uc = tg_gw_conf_route(q->conf, url);
	if (!q->uc)
		return refuse(gw, conn, q, 404, TG_GW_REF_NOT_FOUND, "toolgate: no MCP endpoint here");
	if (strcmp(method, "POST") != 0)
		return MHD_YES;
	if (!tg_gw_is_json_type(header(conn, "Content-Type")))
		return refuse(gw, conn, q, 415, TG_GW_REF_MEDIA_TYPE,
			      "toolgate: a POST body must be application/json");
	accept = header(conn, "Accept");
	if (accept && !tg_gw_accepts(accept, "application/json") &&
	    !tg_gw_accepts(accept, "text/event-stream"))
		return refuse(gw, conn, q, 406, TG_GW_REF_MEDIA_TYPE,
			      "toolgate: Accept must include application/json or text/event-stream");
	len = header(conn, "Content-Length");
	if (len && strtoull(len, NULL, 10) > q->conf->limits.max_body)
		return refuse(gw, conn, q, 413, TG_GW_REF_TOO_LARGE,
			      "toolgate: the body is larger than limits.max_body");
	return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	server *s = cls;
	tg_gw *gw = s->gw;
	req *q = *con_cls;
	const union MHD_ConnectionInfo *ci;
	tg_gw_http_in *in;
	tg_gw_answer *a;

	if (!q)
		return MHD_NO;	/* uri_log could not allocate it */
	if (q->job) {
		/* Resumed by the worker: the answer is ready. */
		if (!tg_gw_job_answered(q->job, &a))
			return MHD_YES;
		q->answered = true;
		return queue_answer(conn, a, tg_gw_relay_read, q->job, tg_gw_relay_done);
	}
	if (q->pending) {
		/* Resumed by ready(): the answer is made. */
		if (!tg_gw_pending_take(q->pending, &q->a))
			return MHD_YES;
		q->pending = NULL;
		q->answered = true;
		if (q->a.tick)
			tg_gw_loop_due(q->s->loop, q->a.tick(q->a.st, tg_proxy_now_ms()));
		return queue_answer(conn, &q->a, loop_read, q, NULL);
	}
	if (!q->started) {
		q->started = true;
		__atomic_add_fetch(&gw->in_flight, 1, __ATOMIC_SEQ_CST);
		q->conf = tg_gw_current(gw);
		/* The gateway's own GET endpoints answer on the next call, once
		 * libmicrohttpd has the whole (empty) request: a response queued
		 * earlier makes it close the connection, and monitors and load
		 * balancers keep theirs alive. */
		if (strcmp(method, "GET") == 0 &&
		    (strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0 ||
		     strncmp(url, "/.well-known/", 13) == 0)) {
			q->local = true;
			return MHD_YES;
		}
		return first_call(gw, conn, q, url, method, version);
	}
	if (q->local && !q->answered && *upload_size == 0) {
		enum MHD_Result rc = first_call(gw, conn, q, url, method, version);

		/* Unanswered there: an upstream's own path; served below. */
		q->local = false;
		if (rc != MHD_YES || q->answered)
			return rc;
	}
	if (q->answered) {
		*upload_size = 0;	/* the body of a refused request is not read */
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!q->too_large &&
		    tg_px_buf_size(&q->body) + *upload_size > q->conf->limits.max_body) {
			q->too_large = true;
			tg_px_buf_free(&q->body);
		}
		if (!q->too_large && tg_px_buf_add(&q->body, upload, *upload_size) != 0)
			q->too_large = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->too_large)
		return refuse(gw, conn, q, 413, TG_GW_REF_TOO_LARGE,
			      "toolgate: the body is larger than limits.max_body");
	in = &q->in;
	memset(in, 0, sizeof *in);
	in->method = method;
	in->session = header(conn, "Mcp-Session-Id");
	in->version = header(conn, "MCP-Protocol-Version");
	in->last_event_id = header(conn, "Last-Event-ID");
	in->accept = header(conn, "Accept");
	in->authorization = header(conn, "Authorization");
	/* The worker looks headers up while the connection is suspended:
	 * libmicrohttpd leaves a suspended request's headers alone. */
	in->header = header_cb;
	in->header_ud = conn;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, param_header, in);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	in->peer = ci ? ci->client_addr : NULL;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	in->client_fd = ci ? ci->connect_fd : -1;
	in->body = tg_px_buf_head(&q->body);
	in->body_len = tg_px_buf_size(&q->body);
	switch (tg_gw_exchange_start(gw, q->conf, q->uc, in, s->loop, ready, q, &q->a,
				     &q->pending)) {
	case TG_GW_START_ANSWERED:
		q->answered = true;
		return queue_answer(conn, &q->a, NULL, NULL, NULL);
	case TG_GW_START_PENDING:
		q->s = s;
		q->conn = conn;
		q->next = s->waiting;
		if (q->next)
			q->next->prev = q;
		s->waiting = q;
		suspend(q, false);
		tg_gw_loop_due(s->loop, tg_gw_pending_tick(q->pending, tg_proxy_now_ms()));
		return MHD_YES;
	case TG_GW_START_BLOCKS:
		break;
	}
	q->job = tg_gw_job_start(s->relay, conn, gw, q->conf, q->uc, in);
	if (!q->job)
		return refuse(gw, conn, q, 503, TG_GW_REF_BUSY,
			      "toolgate: the gateway is stopping");
	return MHD_YES;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	server *s = cls;
	req *q = *con_cls;

	(void)conn;
	(void)toe;
	if (!q)
		return;
	if (q->started)
		__atomic_sub_fetch(&s->gw->in_flight, 1, __ATOMIC_SEQ_CST);
	if (q->s) {
		tg_gw_loop_unwatch(s->loop, &q->watch);
		if (q->prev)
			q->prev->next = q->next;
		else
			s->waiting = q->next;
		if (q->next)
			q->next->prev = q->prev;
	}
	tg_gw_pending_free(q->pending);
	tg_gw_answer_free(&q->a);
	tg_gw_job_release(q->job);
	tg_px_buf_free(&q->body);
	free(q);
	*con_cls = NULL;
}

/* Called with the request target as sent (the handler gets the path
 * alone, decoded): its length counts toward max_header. The request's
 * state starts here. */
static void *uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	req *q = calloc(1, sizeof *q);

	(void)cls;
	(void)conn;
	if (q)
		q->uri_len = strlen(uri);
	return q;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 0)))
#endif
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	tg_drv_error("gateway: http: %s", msg);
}

/* behind_proxy: only the proxies in front may connect (counted as the
 * "peer" refusal otherwise: the connection is closed unanswered). */
static enum MHD_Result accept_from(void *cls, const struct sockaddr *addr, socklen_t len)
{
	server *s = cls;
	const tg_gw_conf *c = s->started;

	(void)len;
	for (size_t i = 0; i < c->nproxies; i++)
		if (tg_gw_same_host(addr, (const struct sockaddr *)&c->proxies[i]))
			return MHD_YES;
	tg_gw_metrics_refusal(&s->gw->metrics, TG_GW_REF_PEER);
	return MHD_NO;
}

tg_gw_server *tg_gw_server_start(tg_gw *gw, char *err, size_t errlen)
{
	const tg_gw_conf *c = tg_gw_current(gw);
	tg_gw_server *s = calloc(1, sizeof *s);
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* listen was checked numeric when the configuration was read */
	tg_gw_numeric_host(c->listen_host, c->listen_port, &ss);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->gw = gw;
	s->started = c;
	struct MHD_OptionItem tls[] = {
		{MHD_OPTION_END, 0, NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	if (c->tls_cert_file) {
		char about[512];

		flags |= MHD_USE_TLS;
		s->tls = tg_gw_tls_new(c->tls_cert_file, c->tls_key_file, about, sizeof about);
		if (!s->tls)
			snprintf(err, errlen, "%s", about);
		if (!s->tls || tg_gw_tls_serve(s->tls, &tls[0], err, errlen) != 0) {
			tg_gw_tls_free(s->tls);
			free(s);
			return NULL;
		}
		tg_drv_error("gateway: TLS certificate '%s': %s", c->tls_cert_file, about);
	}
	/* The connection's memory pool holds the request line and headers
	 * plus libmicrohttpd's own buffers and parsed header entries, so it
	 * is 4 KiB larger than max_header (checked exactly in first_call); a
	 * request of very many tiny headers may hit the pool first (431 too).
	 * Nothing is served before the loop's thread starts running it. */
	s->d = MHD_start_daemon(
		flags, c->listen_port, c->nproxies ? accept_from : NULL, s, handler, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_ARRAY,
		tls, MHD_OPTION_SOCK_ADDR, &ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->limits.max_connections,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)c->limits.max_header + 4096,
		MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->limits.idle_timeout_s,
		MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen, "cannot listen on %s:%u", c->listen_host,
			 (unsigned)c->listen_port);
		tg_gw_tls_free(s->tls);
		free(s);
		return NULL;
	}
	s->loop = tg_gw_loop_new(s->d, tick, s, err, errlen);
	s->relay = s->loop ? tg_gw_relay_new(s->loop) : NULL;
	if (s->loop && !s->relay)
		snprintf(err, errlen, "out of memory");
	else if (s->loop && tg_gw_loop_start(s->loop) != 0)
		snprintf(err, errlen, "cannot start the event loop's thread");
	else if (s->loop)
		return s;
	tg_gw_relay_free(s->relay);
	tg_gw_loop_free(s->loop);
	MHD_stop_daemon(s->d);
	tg_gw_tls_free(s->tls);
	free(s);
	return NULL;
}

unsigned short tg_gw_server_port(tg_gw_server *s)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);

	return i ? i->port : 0;
}

tg_gw_tls *tg_gw_server_tls(tg_gw_server *s)
{
	return s->tls;
}

void tg_gw_server_quiesce(tg_gw_server *s)
{
	tg_gw_loop_quiesce(s->loop);
}

void tg_gw_server_stop(tg_gw_server *s)
{
	if (!s)
		return;
	tg_gw_loop_stop(s->loop);
	/* libmicrohttpd must not stop with a connection suspended: the loop's
	 * are ended (their calls go with their requests), the workers' turns
	 * too. */
	for (req *q = s->waiting; q; q = q->next) {
		q->gone = true;
		if (q->suspended)
			resume(q);
	}
	tg_gw_relay_quiesce(s->relay);
	MHD_stop_daemon(s->d);
	tg_gw_loop_free(s->loop);
	tg_gw_relay_free(s->relay);
	tg_gw_tls_free(s->tls);
	free(s);
}
