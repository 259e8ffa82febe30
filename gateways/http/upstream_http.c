/*
 * upstream_http.c - one request to a Streamable HTTP upstream, with libcurl.
 *
 * A call started on the event loop (loop.c) is an easy handle in the
 * loop's multi handle: libcurl's callbacks note what arrived and the loop
 * tells the call's owner (news) once they have returned.
 *
 * An SSE answer's transfer is paused while TG_GW_STREAM_BLOCK bytes wait
 * unconsumed (set as its headers end: one turn of libcurl may read far more
 * than max_response before the owner hears of them), so a slow client slows
 * the upstream instead of filling memory.
 *
 * Any other call is an easy handle in its own multi handle, driven by the
 * worker thread that handles the client's request (relay.c), so an SSE
 * answer is relayed as it arrives: the caller pumps, consumes what came in,
 * pumps again. Nothing waits without a bound:
 * connecting has connect_timeout_ms, the answer's headers (and a JSON body)
 * a deadline from the caller, and each pump at most the time it is given.
 * While it waits the client's socket is watched too, so a client that hangs
 * up ends the upstream request instead of leaving it streaming to nobody.
 *
 * Only the headers the gateway chooses are sent: Content-Type, Accept,
 * Mcp-Session-Id (the upstream's own id, unsealed), MCP-Protocol-Version
 * and Last-Event-ID. The client's Authorization header is never among them.
 *
 * Upstream connections are kept alive between requests by libcurl itself:
 * a pair (easy handle, multi handle) whose call ended cleanly goes back to a
 * small process-wide pool, and the multi handle's connection cache keeps the
 * pair's idle connection open for the next call that takes it. A pair is
 * curl_easy_reset when it is returned, so nothing of one request's options
 * (headers, body, callbacks) reaches the next; a call that failed, was
 * abandoned mid-answer or whose client went away is not returned, its
 * connection closed with it. libcurl checks an idle connection before reusing
 * it and does not reuse one the server closed.
 */
#include <pthread.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "driver.h"
#include "gateway.h"

int tg_gw_http_global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	/* The event loop relies on libcurl resolving names off its thread. */
	if (!(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_ASYNCHDNS))
		tg_drv_error("gateway: this libcurl resolves host names synchronously: an upstream "
			     "named by host name stalls every request while it resolves (use an "
			     "address, or a libcurl with asynchronous DNS)");
	return 0;
}

/* Idle pairs: at most POOL_CAP, the most recently used first (its
 * connection is the likeliest to be alive). */
#define POOL_CAP 64
static struct {
	pthread_mutex_t lock;
	unsigned n;
	struct pair { CURL *easy; CURLM *multi; } idle[POOL_CAP];
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void pair_destroy(CURL *e, CURLM *m)
{
	if (e)
		curl_easy_cleanup(e);
	if (m)
		curl_multi_cleanup(m);
}

/* A pair from the pool, or a new one. */
static void pair_take(CURL **e, CURLM **m)
{
	*e = NULL;
	*m = NULL;
	pthread_mutex_lock(&pool.lock);
	if (pool.n > 0) {
		pool.n--;
		*e = pool.idle[pool.n].easy;
		*m = pool.idle[pool.n].multi;
	}
	pthread_mutex_unlock(&pool.lock);
	if (*e)
		return;
	*e = curl_easy_init();
	*m = curl_multi_init();
	/* One connection per pair is all a pair ever uses at a time. */
	if (*m)
		curl_multi_setopt(*m, CURLMOPT_MAXCONNECTS, 1L);
}

/* Back to the pool (reset: no option of this call stays set), or freed when
 * the pool is full. */
static void pair_give(CURL *e, CURLM *m)
{
	curl_easy_reset(e);
	pthread_mutex_lock(&pool.lock);
	if (pool.n < POOL_CAP) {
		pool.idle[pool.n].easy = e;
		pool.idle[pool.n].multi = m;
		pool.n++;
		e = NULL;
		m = NULL;
	}
	pthread_mutex_unlock(&pool.lock);
	pair_destroy(e, m);
}

void tg_gw_http_global_cleanup(void)
{
	pthread_mutex_lock(&pool.lock);
	while (pool.n > 0) {
		pool.n--;
		pair_destroy(pool.idle[pool.n].easy, pool.idle[pool.n].multi);
	}
	pthread_mutex_unlock(&pool.lock);
	curl_global_cleanup();
}

/* "Name: value\r\n" -> value without surrounding blanks, when the name
 * matches (any case). */
static bool header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
	size_t k = strlen(name), v, e = n;

	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return false;
	v = k + 1;
	while (v < n && (line[v] == ' ' || line[v] == '\t'))
		v++;
	while (e > v && (line[e - 1] == '\r' || line[e - 1] == '\n' || line[e - 1] == ' '))
		e--;
	if (e - v >= cap)
		return false;
	memcpy(out, line + v, e - v);
	out[e - v] = '\0';
	return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	tg_gw_http_call *c = ud;
	size_t len = size * n;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new status line (after a 1xx): start over. */
		c->content_type[0] = c->session[0] = '\0';
		c->headers_done = false;
	} else if (len <= 2 && (p[0] == '\r' || p[0] == '\n')) {
		long status = 0;

		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200) {
			c->status = status;
			c->headers_done = true;
			if (tg_gw_is_sse_type(c->content_type))
				c->pause_at = TG_GW_STREAM_BLOCK;
			if (c->loop)
				tg_gw_loop_news(c->loop, c);
		}
	} else if (!header_value(p, len, "content-type", c->content_type,
				 sizeof c->content_type)) {
		header_value(p, len, "mcp-session-id", c->session, sizeof c->session);
	}
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	tg_gw_http_call *c = ud;
	size_t len = size * n;

	if (c->pause_at && tg_px_buf_size(&c->in) >= c->pause_at) {
		/* libcurl hands this block again once unpaused */
		c->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (tg_px_buf_size(&c->in) + len > c->max_in) {
		c->overflow = true;
		return 0;	/* CURLE_WRITE_ERROR: ends the transfer */
	}
	if (tg_px_buf_add(&c->in, p, len) != 0)
		return 0;
	if (c->loop)
		tg_gw_loop_news(c->loop, c);
	return len;
}

int tg_gw_http_start(tg_gw_http_call *c, const tg_gw_http_req *r, size_t max_in, int client_fd)
{
	struct curl_slist *h = NULL;
	char line[700];
	CURL *e;

	memset(c, 0, sizeof *c);
	c->max_in = max_in;
	c->client_fd = client_fd;
	if (r->loop) {
		c->loop = r->loop;
		c->news = r->news;
		c->news_ud = r->news_ud;
		e = tg_gw_loop_easy(r->loop);
	} else {
		pair_take(&e, (CURLM **)&c->multi);
	}
	c->easy = e;
	if (!e || (!c->loop && !c->multi)) {
		snprintf(c->error, sizeof c->error, "out of memory");
		return -1;
	}
#define ADD(s)                                                   \
	do {                                                     \
		struct curl_slist *t = curl_slist_append(h, s); \
		if (!t)                                          \
			goto oom;                                \
		h = t;                                           \
	} while (0)
	if (strcmp(r->method, "POST") == 0) {
		ADD("Content-Type: application/json");
		ADD("Accept: application/json, text/event-stream");
	} else {
		ADD("Accept: text/event-stream");
	}
	/* libcurl adds these by default; the gateway sends only its own. */
	ADD("Expect:");
	ADD("User-Agent: toolgate-gateway");
	if (r->session) {
		snprintf(line, sizeof line, "Mcp-Session-Id: %s", r->session);
		ADD(line);
	}
	if (r->version) {
		snprintf(line, sizeof line, "MCP-Protocol-Version: %s", r->version);
		ADD(line);
	}
	if (r->last_event_id) {
		snprintf(line, sizeof line, "Last-Event-ID: %s", r->last_event_id);
		ADD(line);
	}
	for (size_t i = 0; i < r->nextra; i++)
		ADD(r->extra[i]);
	for (size_t i = 0; r->configured && r->configured[i]; i++)
		ADD(r->configured[i]);
#undef ADD
	c->headers = h;
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)r->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	/* Bytes exactly as received: no decoding that could change them. */
	curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "DELETE") == 0) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
	if (c->loop ? tg_gw_loop_add(c->loop, c) != 0
		    : curl_multi_add_handle(c->multi, e) != CURLM_OK)
		goto oom;
	return 0;
oom:
	curl_slist_free_all(h);
	c->headers = NULL;
	snprintf(c->error, sizeof c->error, "out of memory");
	return -1;
}

/* True when the client has closed its side (EOF on a peek). */
static bool client_closed(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void tg_gw_http_ended(tg_gw_http_call *c, int result)
{
	if (result != CURLE_OK) {
		snprintf(c->error, sizeof c->error, "%s",
			 c->overflow ? "the upstream's answer is larger than max_response"
				     : curl_easy_strerror((CURLcode)result));
		c->failed = true;
		return;
	}
	c->done = true;
	if (!c->headers_done) {
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
		c->headers_done = true;
	}
}

int tg_gw_http_pump(tg_gw_http_call *c, int timeout_ms)
{
	struct curl_waitfd extra = {0};
	CURLMsg *msg;
	int running = 0, left, numfds = 0;
	bool before = c->headers_done;
	size_t had = tg_px_buf_size(&c->in);

	if (c->failed || c->loop)
		return -1;
	if (c->done)
		return 1;
	if (curl_multi_perform(c->multi, &running) != CURLM_OK)
		goto fail;
	if (running && !(c->headers_done != before || tg_px_buf_size(&c->in) > had)) {
		if (c->client_fd >= 0) {
			extra.fd = c->client_fd;
			extra.events = CURL_WAIT_POLLIN;
		}
		if (curl_multi_poll(c->multi, c->client_fd >= 0 ? &extra : NULL,
				    c->client_fd >= 0 ? 1 : 0, timeout_ms, &numfds) != CURLM_OK)
			goto fail;
		if (c->client_fd >= 0 && extra.revents && client_closed(c->client_fd)) {
			c->client_gone = true;
			snprintf(c->error, sizeof c->error, "the client went away");
			c->failed = true;
			return -1;
		}
		if (curl_multi_perform(c->multi, &running) != CURLM_OK)
			goto fail;
	}
	while ((msg = curl_multi_info_read(c->multi, &left)))
		if (msg->msg == CURLMSG_DONE) {
			tg_gw_http_ended(c, msg->data.result);
			if (c->failed)
				return -1;
		}
	return c->done || c->headers_done != before || tg_px_buf_size(&c->in) > had;
fail:
	snprintf(c->error, sizeof c->error, "internal error driving the upstream request");
	c->failed = true;
	return -1;
}

static int wait_until(tg_gw_http_call *c, int64_t deadline_ms, bool whole)
{
	for (;;) {
		int64_t left = deadline_ms - tg_proxy_now_ms();

		if (whole ? c->done : c->headers_done)
			return 0;
		if (left <= 0) {
			snprintf(c->error, sizeof c->error, "the upstream did not answer in time");
			return -1;
		}
		if (tg_gw_http_pump(c, left > 1000 ? 1000 : (int)left) < 0)
			return -1;
	}
}

int tg_gw_http_wait_headers(tg_gw_http_call *c, int64_t deadline_ms)
{
	return wait_until(c, deadline_ms, false);
}

int tg_gw_http_wait_done(tg_gw_http_call *c, int64_t deadline_ms)
{
	return wait_until(c, deadline_ms, true);
}

void tg_gw_http_drained(tg_gw_http_call *c)
{
	if (!c->paused || tg_px_buf_size(&c->in) >= c->pause_at)
		return;
	c->paused = false;
	/* May hand the held block to on_body at once: its news is queued. */
	curl_easy_pause(c->easy, CURLPAUSE_CONT);
}

void tg_gw_http_abort(tg_gw_http_call *c, const char *why)
{
	if (c->done || c->failed)
		return;
	snprintf(c->error, sizeof c->error, "%s", why);
	c->failed = true;
	if (c->loop && c->easy) {
		/* Not reused: the connection is closed mid-answer. */
		tg_gw_loop_remove(c->loop, c, false);
		c->easy = NULL;
	}
}

void tg_gw_http_free(tg_gw_http_call *c)
{
	/* Only a call that ended cleanly leaves a connection worth keeping; an
	 * unfinished one (removed mid-answer) or a failed one is not reused. */
	bool reuse = c->done && !c->failed;

	if (c->loop) {
		if (c->easy)
			tg_gw_loop_remove(c->loop, c, reuse);
	} else {
		if (c->multi && c->easy)
			curl_multi_remove_handle(c->multi, c->easy);
		if (c->easy && c->multi && reuse)
			pair_give(c->easy, c->multi);
		else
			pair_destroy(c->easy, c->multi);
	}
	curl_slist_free_all(c->headers);
	tg_px_buf_free(&c->in);
	memset(c, 0, sizeof *c);
	c->client_fd = -1;
}
