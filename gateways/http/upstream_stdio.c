/*
 * upstream_stdio.c - stdio upstreams: one child process per session.
 *
 * An `initialize` at a stdio upstream starts its command (gateways/stdio's
 * tg_px_spawn: close-on-exec pipes, stderr inherited) under a fresh random
 * session key; the sealed session id the client gets carries that key. Each
 * child has a reader thread that splits its stdout into lines (the proxy's
 * bounded splitter) and routes them: an answer goes to the HTTP request
 * waiting for its id, anything else (the server's requests and
 * notifications) to a bounded queue that the session's GET stream drains.
 * When the child exits every waiter is woken and told, so no request hangs
 * on a dead server. The number of children per upstream is capped
 * (limits.stdio_sessions); DELETE or shutdown ends a child with SIGTERM,
 * then SIGKILL after 2 s.
 *
 * The children live in this process: a session id presented to another
 * gateway process finds no child there and gets 404.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "driver.h"
#include "gateway.h"

#define MAX_NOTICES	  256
#define CHILD_MAX_LINE	  (64u * 1024 * 1024)
#define KILL_AFTER_MS	  2000

typedef struct waiter {
	char *key;
	char *line;
	size_t len;
	bool done;
	struct waiter *next;
} waiter;

typedef struct notice {
	char *line;
	size_t len;
	struct notice *next;
} notice;

struct tg_gw_child {
	tg_gw_stdio_pool *pool;
	char key[33];
	pid_t pid;
	int to_child, from_child;
	pthread_t reader;
	pthread_mutex_t lock;	/* everything below, and writes to to_child */
	pthread_cond_t cond;
	int refs;		/* the pool's, plus each user's */
	bool dead, closing, in_pool;
	waiter *waiters;
	notice *notices, **notices_tail;
	size_t nnotices;
	tg_gw_child *next;
};

struct tg_gw_stdio_pool {
	pthread_mutex_t lock;
	tg_gw_child *children;
	size_t count;
	tg_gw_stdio_notice notice;
	void *ud;
};

tg_gw_stdio_pool *tg_gw_stdio_pool_create(tg_gw_stdio_notice fn, void *ud)
{
	tg_gw_stdio_pool *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	p->notice = fn;
	p->ud = ud;
	return p;
}

static void child_free(tg_gw_child *c)
{
	while (c->waiters) {
		waiter *w = c->waiters;

		c->waiters = w->next;
		free(w->key);
		free(w->line);
		free(w);
	}
	while (c->notices) {
		notice *n = c->notices;

		c->notices = n->next;
		free(n->line);
		free(n);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

void tg_gw_child_release(tg_gw_child *c)
{
	bool last;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (last)
		child_free(c);
}

/* Unlinks c from its pool (once); the pool's reference goes with it. */
static void unlink_child(tg_gw_child *c)
{
	tg_gw_stdio_pool *p = c->pool;
	tg_gw_child **pp;
	bool was = false;

	pthread_mutex_lock(&p->lock);
	for (pp = &p->children; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			p->count--;
			was = true;
			break;
		}
	pthread_mutex_unlock(&p->lock);
	if (was)
		tg_gw_child_release(c);
}

static void deliver(tg_gw_child *c, const char *line, size_t len)
{
	tg_rpc_error err;
	tg_rpc_msg m;
	waiter *w;

	if (tg_rpc_parse(line, len, true, &m, &err) != TG_RPC_FRAME_OK) {
		tg_rpc_error_free(&err);
		return;	/* a line that is not one message: nobody gets it */
	}
	pthread_mutex_lock(&c->lock);
	if (m.kind == TG_RPC_RESPONSE) {
		for (w = c->waiters; w; w = w->next)
			if (!w->done && strcmp(w->key, m.idkey) == 0) {
				w->line = malloc(len + 1);
				if (w->line) {
					memcpy(w->line, line, len);
					w->line[len] = '\0';
					w->len = len;
				}
				w->done = true;
				pthread_cond_broadcast(&c->cond);
				break;
			}
	} else if (c->nnotices < MAX_NOTICES) {
		notice *n = malloc(sizeof *n);

		if (n && (n->line = malloc(len + 1))) {
			memcpy(n->line, line, len);
			n->line[len] = '\0';
			n->len = len;
			n->next = NULL;
			*c->notices_tail = n;
			c->notices_tail = &n->next;
			c->nnotices++;
			pthread_cond_broadcast(&c->cond);
		} else {
			free(n);
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (m.kind != TG_RPC_RESPONSE && c->pool->notice)
		c->pool->notice(c->pool->ud, &m);
	tg_rpc_msg_free(&m);
}

static void line_cb(void *ud, const char *s, size_t n)
{
	deliver(ud, s, n);
}

static void over_cb(void *ud, const char *head, size_t len)
{
	tg_drv_error("gateway: dropped a server message longer than %u bytes", CHILD_MAX_LINE);
}

static void *reader_main(void *arg)
{
	tg_gw_child *c = arg;
	tg_px_lines lines = {{0}, CHILD_MAX_LINE, false};
	tg_px_line_sink sink = {line_cb, over_cb, c};
	char chunk[65536];
	int status;

	for (;;) {
		ssize_t n = read(c->from_child, chunk, sizeof chunk);

		if (n > 0) {
			tg_px_lines_feed(&lines, chunk, (size_t)n, &sink);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	tg_px_lines_finish(&lines, &sink);
	tg_px_lines_free(&lines);
	/* The child closed its stdout: give it a moment, then make sure. */
	{
		int64_t start = tg_proxy_now_ms();
		bool termed = false;

		while (waitpid(c->pid, &status, WNOHANG) == 0) {
			int64_t waited = tg_proxy_now_ms() - start;

			if (!termed && waited > 500) {
				kill(c->pid, SIGTERM);
				termed = true;
			} else if (waited > 500 + KILL_AFTER_MS) {
				kill(c->pid, SIGKILL);
				waitpid(c->pid, &status, 0);
				break;
			}
			poll(NULL, 0, 20);
		}
	}
	pthread_mutex_lock(&c->lock);
	c->dead = true;
	close(c->to_child);
	c->to_child = -1;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	close(c->from_child);
	unlink_child(c);
	tg_gw_child_release(c);	/* the reader's own reference */
	return NULL;
}

tg_gw_child *tg_gw_stdio_open(tg_gw_stdio_pool *p, char **argv, char *const *env, unsigned cap,
			      char *key, bool *busy, char *err, size_t errlen)
{
	unsigned char rnd[16];
	tg_gw_child *c;
	pthread_attr_t attr;
	size_t i;

	*busy = false;
	pthread_mutex_lock(&p->lock);
	if (p->count >= cap) {
		pthread_mutex_unlock(&p->lock);
		*busy = true;
		snprintf(err, errlen, "%u sessions of this stdio upstream are open already", cap);
		return NULL;
	}
	p->count++;	/* reserved while the child starts */
	pthread_mutex_unlock(&p->lock);

	c = calloc(1, sizeof *c);
	if (!c || RAND_bytes(rnd, sizeof rnd) != 1) {
		free(c);
		snprintf(err, errlen, "out of memory");
		goto unreserve;
	}
	for (i = 0; i < sizeof rnd; i++)
		snprintf(c->key + 2 * i, 3, "%02x", rnd[i]);
	c->pool = p;
	c->notices_tail = &c->notices;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->pid = tg_px_spawn(argv, env, &c->to_child, &c->from_child);
	if (c->pid < 0) {
		snprintf(err, errlen, "cannot start the stdio upstream '%s'", argv[0]);
		child_free(c);
		goto unreserve;
	}
	c->refs = 3;	/* the pool, the reader thread, the caller */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&c->reader, &attr, reader_main, c) != 0) {
		pthread_attr_destroy(&attr);
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		close(c->to_child);
		close(c->from_child);
		child_free(c);
		snprintf(err, errlen, "cannot start a thread");
		goto unreserve;
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_lock(&p->lock);
	c->next = p->children;
	p->children = c;
	pthread_mutex_unlock(&p->lock);
	memcpy(key, c->key, sizeof c->key);
	return c;
unreserve:
	pthread_mutex_lock(&p->lock);
	p->count--;
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

tg_gw_child *tg_gw_stdio_find(tg_gw_stdio_pool *p, const char *key)
{
	tg_gw_child *c;

	pthread_mutex_lock(&p->lock);
	for (c = p->children; c; c = c->next)
		if (strcmp(c->key, key) == 0)
			break;
	if (c) {
		pthread_mutex_lock(&c->lock);
		if (c->dead || c->closing)
			c = (pthread_mutex_unlock(&c->lock), NULL);
		else {
			c->refs++;
			pthread_mutex_unlock(&c->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return c;
}

/* Asks a child to end: its stdin closes, SIGTERM; the reader thread reaps
 * it (SIGKILL when it lingers). */
static void terminate(tg_gw_child *c)
{
	pthread_mutex_lock(&c->lock);
	c->closing = true;
	if (c->to_child >= 0) {
		close(c->to_child);
		c->to_child = -1;
	}
	if (!c->dead)
		kill(c->pid, SIGTERM);
	pthread_mutex_unlock(&c->lock);
}

bool tg_gw_stdio_close(tg_gw_stdio_pool *p, const char *key)
{
	tg_gw_child *c = tg_gw_stdio_find(p, key);

	if (!c)
		return false;
	terminate(c);
	tg_gw_child_release(c);
	return true;
}

void tg_gw_stdio_close_all(tg_gw_stdio_pool *p)
{
	tg_gw_child *c;

	pthread_mutex_lock(&p->lock);
	for (c = p->children; c; c = c->next)
		terminate(c);
	pthread_mutex_unlock(&p->lock);
}

size_t tg_gw_stdio_count(tg_gw_stdio_pool *p)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->count;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void tg_gw_stdio_pool_free(tg_gw_stdio_pool *p)
{
	int64_t start = tg_proxy_now_ms();

	if (!p)
		return;
	tg_gw_stdio_close_all(p);
	/* The reader threads unlink their children as they are reaped. */
	while (tg_gw_stdio_count(p) > 0 && tg_proxy_now_ms() - start < 2 * KILL_AFTER_MS + 1000)
		poll(NULL, 0, 20);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int tg_gw_child_send(tg_gw_child *c, const char *line, size_t len, const char *idkey)
{
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if (c->dead || c->to_child < 0) {
		pthread_mutex_unlock(&c->lock);
		return -1;
	}
	if (idkey) {
		waiter *w = calloc(1, sizeof *w);

		if (!w || !(w->key = strdup(idkey))) {
			free(w);
			pthread_mutex_unlock(&c->lock);
			return -1;
		}
		w->next = c->waiters;
		c->waiters = w;
	}
	/* Blocking writes under the lock keep lines whole; the child reads
	 * its stdin or the request times out on the answer side. */
	if (tg_drv_write_all(c->to_child, line, len) != 0 ||
	    tg_drv_write_all(c->to_child, "\n", 1) != 0)
		rc = -1;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

char *tg_gw_child_await(tg_gw_child *c, const char *idkey, int timeout_ms, size_t *len,
			bool *timed_out)
{
	struct timespec until;
	waiter **pp, *w = NULL;
	char *line = NULL;

	*timed_out = false;
	tg_gw_deadline(&until, timeout_ms);
	pthread_mutex_lock(&c->lock);
	for (;;) {
		for (pp = &c->waiters; *pp; pp = &(*pp)->next)
			if (strcmp((*pp)->key, idkey) == 0)
				break;
		w = *pp;
		if (!w || w->done || c->dead)
			break;
		if (pthread_cond_timedwait(&c->cond, &c->lock, &until) == ETIMEDOUT) {
			*timed_out = true;
			break;
		}
	}
	if (w) {
		*pp = w->next;
		line = w->line;
		*len = w->len;
		free(w->key);
		free(w);
	}
	pthread_mutex_unlock(&c->lock);
	return line;
}

char *tg_gw_child_next_notice(tg_gw_child *c, int timeout_ms, size_t *len, bool *gone)
{
	struct timespec until;
	char *line = NULL;

	tg_gw_deadline(&until, timeout_ms);
	pthread_mutex_lock(&c->lock);
	while (!c->notices && !c->dead && !c->closing)
		if (pthread_cond_timedwait(&c->cond, &c->lock, &until) == ETIMEDOUT)
			break;
	if (c->notices) {
		notice *n = c->notices;

		c->notices = n->next;
		if (!c->notices)
			c->notices_tail = &c->notices;
		c->nnotices--;
		line = n->line;
		*len = n->len;
		free(n);
	}
	*gone = c->dead || c->closing;
	pthread_mutex_unlock(&c->lock);
	return line;
}
