/*
 * relay.c - the requests that must block, off the event loop.
 *
 * The event loop (loop.c) runs libmicrohttpd and every HTTP upstream call,
 * so nothing may block there. A request whose exchange would wait (a stdio
 * child, the gateway's own tool-list fetch, a token's key being fetched) is
 * a job: server.c suspends its connection, a worker thread runs the whole
 * exchange (tg_gw_exchange) and resumes the connection when the answer is
 * ready, then wakes the loop (in external mode libmicrohttpd takes a
 * resumption only when run). A connection costs a thread only while it has
 * such a request being worked on, never while it is idle.
 *
 * A streamed answer is relayed in turns, one block at a time: libmicrohttpd
 * asks for content (relay_read), the job has none, so the connection is
 * suspended and the worker reads the next block from the stream (which
 * blocks, bounded by the stream's own timeouts) and resumes it. The worker
 * touches the stream, and through it the client's socket (curl watches it
 * for a hang-up), only while the connection is suspended: libmicrohttpd
 * cannot close that socket meanwhile, so its descriptor cannot be reused
 * under the worker. At most one block is held per stream.
 *
 * A job is freed by whoever drops the last of its two references: the
 * request's (server.c, when libmicrohttpd completes it) and the worker's
 * (when the exchange is answered, or for a stream when libmicrohttpd frees
 * the response). One mutex guards every job's state; each job has its own
 * condition so that a stream's worker wakes only for its own connection.
 *
 * Workers are pooled: the most recently idle one takes the next job (its
 * cache is the warmest), a new one is started when none is idle (so a job
 * never queues behind a long stream), and one idle for IDLE_EXIT_S exits
 * while KEEP_IDLE others are idle (detaching itself). Those still running at
 * shutdown are joined, so none is still tearing down when the process
 * exits.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "driver.h"
#include "gateway.h"

#define KEEP_IDLE 4
#define IDLE_EXIT_S 10
#define WORKER_STACK (1024u * 1024)

struct tg_gw_job {
	tg_gw_relay *r;
	struct MHD_Connection *conn;
	tg_gw *gw;
	const tg_gw_conf *conf;
	const tg_gw_upstream_conf *uc;
	tg_gw_http_in in;
	tg_gw_answer a;
	pthread_cond_t cond;
	int refs;
	bool suspended;		/* the worker's turn: libmicrohttpd leaves the socket alone */
	bool answered;
	/* a stream's block in hand */
	char *buf;
	size_t len, off;
	bool want, eof, failed, freed;
	struct tg_gw_job *next;	/* in the queue */
};

typedef struct tg_gw_idler tg_gw_idler;

struct tg_gw_relay {
	pthread_mutex_t lock;
	pthread_cond_t quiet;	/* a worker left, or a connection was resumed */
	tg_gw_job *head, *tail;	/* jobs no worker was free for */
	tg_gw_idler *idlers;	/* idle workers, the latest first */
	tg_gw_idler *spare;	/* left by workers that exited */
	unsigned idle, threads, suspended;
	pthread_t *tids;	/* running workers, joined at shutdown */
	size_t ntids, tidcap;
	bool stopping;
	tg_gw_loop *loop;	/* runs libmicrohttpd: told of every resumption */
	/* every job not yet freed, for tg_gw_relay_stop */
	tg_gw_job **jobs;
	size_t njobs, cap;
};

tg_gw_relay *tg_gw_relay_new(tg_gw_loop *loop)
{
	tg_gw_relay *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->loop = loop;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->quiet, NULL);
	return r;
}

/* With r->lock held. */
static int track(tg_gw_relay *r, tg_gw_job *j)
{
	if (r->njobs == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		tg_gw_job **t = realloc(r->jobs, cap * sizeof *t);

		if (!t)
			return -1;
		r->jobs = t;
		r->cap = cap;
	}
	r->jobs[r->njobs++] = j;
	return 0;
}

static void untrack(tg_gw_relay *r, tg_gw_job *j)
{
	for (size_t i = 0; i < r->njobs; i++)
		if (r->jobs[i] == j) {
			r->jobs[i] = r->jobs[--r->njobs];
			return;
		}
}

/* With r->lock held; true when this was the last reference. */
static bool drop(tg_gw_job *j)
{
	if (--j->refs > 0)
		return false;
	untrack(j->r, j);
	return true;
}

static void job_free(tg_gw_job *j)
{
	tg_gw_answer_free(&j->a);
	pthread_cond_destroy(&j->cond);
	free(j->buf);
	free(j);
}

/* The worker's turn ends: libmicrohttpd takes the connection back. Called
 * with r->lock held, returns with it released. */
static void give_back(tg_gw_job *j)
{
	tg_gw_relay *r = j->r;
	struct MHD_Connection *conn = j->conn;

	j->suspended = false;
	if (--r->suspended == 0 && r->stopping)
		pthread_cond_broadcast(&r->quiet);
	pthread_mutex_unlock(&r->lock);
	MHD_resume_connection(conn);
	tg_gw_loop_wake(r->loop);
}

/* Relays a streamed answer block by block until libmicrohttpd frees the
 * response. With r->lock held. */
static void relay_stream(tg_gw_job *j)
{
	tg_gw_relay *r = j->r;

	for (;;) {
		ssize_t n;

		while (!j->want && !j->freed)
			pthread_cond_wait(&j->cond, &r->lock);
		if (j->freed)
			return;
		pthread_mutex_unlock(&r->lock);
		n = j->a.read(j->a.st, j->buf, TG_GW_STREAM_BLOCK);
		pthread_mutex_lock(&r->lock);
		j->want = false;
		if (n > 0) {
			j->len = (size_t)n;
			j->off = 0;
		} else if (n == -1) {
			j->eof = true;
		} else {
			j->failed = true;
		}
		give_back(j);
		pthread_mutex_lock(&r->lock);
	}
}

static void run(tg_gw_job *j)
{
	tg_gw_relay *r = j->r;
	bool last;

	tg_gw_exchange(j->gw, j->conf, j->uc, &j->in, &j->a);
	pthread_mutex_lock(&r->lock);
	j->answered = true;
	if (j->a.read) {
		j->buf = malloc(TG_GW_STREAM_BLOCK);
		if (!j->buf) {
			tg_gw_answer_free(&j->a);
			tg_gw_answer_error(&j->a, 500, NULL, TG_RPC_UNAVAILABLE,
					   "toolgate: out of memory", NULL);
		}
	}
	if (j->a.read) {
		/* server.c queues a response that reads through relay_read;
		 * the worker stays with the stream until that response is freed. */
		give_back(j);
		pthread_mutex_lock(&r->lock);
		relay_stream(j);
		tg_gw_answer_free(&j->a);
		last = drop(j);
		pthread_mutex_unlock(&r->lock);
		if (last)
			job_free(j);
	} else {
		/* The answer is the request's now (its reference outlives the
		 * suspension); give_back is the worker's last touch of the job. */
		drop(j);
		give_back(j);
	}
}

/* Where an idle worker waits; kept (on r->spare) after its thread leaves,
 * so that a wake-up sent after the lock is released never meets freed
 * memory. */
struct tg_gw_idler {
	pthread_cond_t cond;
	tg_gw_job *job;		/* handed over by summon */
	struct tg_gw_idler *next;
};

/* With r->lock held. */
static void unstack(tg_gw_relay *r, tg_gw_idler *me)
{
	for (tg_gw_idler **p = &r->idlers; *p; p = &(*p)->next)
		if (*p == me) {
			*p = me->next;
			r->idle--;
			return;
		}
}

static void *worker(void *arg)
{
	tg_gw_relay *r = arg;
	tg_gw_idler *me;

	pthread_mutex_lock(&r->lock);
	me = r->spare;
	if (me) {
		r->spare = me->next;
	} else if ((me = calloc(1, sizeof *me)) != NULL) {
		pthread_cond_init(&me->cond, NULL);
	} else {
		goto out;	/* a queued job waits for a busy worker */
	}
	for (;;) {
		tg_gw_job *j = r->head;
		int rc = 0;

		if (j) {
			r->head = j->next;
			if (!r->head)
				r->tail = NULL;
		} else if (r->stopping) {
			break;
		} else {
			struct timespec until;

			/* Last in, first woken: the worker whose cache is warm. */
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += IDLE_EXIT_S;
			me->job = NULL;
			me->next = r->idlers;
			r->idlers = me;
			r->idle++;
			while (!me->job && !r->stopping && rc == 0)
				rc = pthread_cond_timedwait(&me->cond, &r->lock, &until);
			j = me->job;	/* handed one, even as it timed out: run it */
			if (!j) {
				unstack(r, me);
				if (r->stopping || (rc != 0 && r->idle >= KEEP_IDLE))
					break;
				continue;
			}
		}
		pthread_mutex_unlock(&r->lock);
		run(j);
		pthread_mutex_lock(&r->lock);
	}
	me->next = r->spare;
	r->spare = me;
out:
	if (!r->stopping) {
		/* Leaving on its own: nobody will join it. */
		for (size_t i = 0; i < r->ntids; i++)
			if (pthread_equal(r->tids[i], pthread_self())) {
				r->tids[i] = r->tids[--r->ntids];
				break;
			}
		pthread_detach(pthread_self());
	}
	r->threads--;
	pthread_cond_broadcast(&r->quiet);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* With r->lock held: gives job j to a worker. The idle worker to wake
 * once the lock is released (woken under it, it would only wait for the
 * lock) in *wake; 0 when j was handed over or queued for a worker, -1 when
 * there is no worker at all. */
static int summon(tg_gw_relay *r, tg_gw_job *j, tg_gw_idler **wake)
{
	pthread_attr_t at;
	pthread_t t;
	int rc;

	*wake = r->idlers;
	if (*wake) {
		r->idlers = (*wake)->next;
		r->idle--;
		(*wake)->job = j;
		return 0;
	}
	if (r->tail)
		r->tail->next = j;
	else
		r->head = j;
	r->tail = j;
	if (r->ntids == r->tidcap) {
		size_t cap = r->tidcap ? r->tidcap * 2 : 16;
		pthread_t *n = realloc(r->tids, cap * sizeof *n);

		if (!n)
			return r->threads ? 0 : -1;
		r->tids = n;
		r->tidcap = cap;
	}
	if (pthread_attr_init(&at) != 0)
		return -1;
	pthread_attr_setstacksize(&at, WORKER_STACK);
	/* With r->lock held: the worker's first step waits for it, so its
	 * id is recorded before it could leave. */
	rc = pthread_create(&t, &at, worker, r);
	pthread_attr_destroy(&at);
	if (rc == 0) {
		r->tids[r->ntids++] = t;
		r->threads++;
	}
	else if (r->threads == 0)
		return -1;
	/* else a busy worker takes it from the queue */
	return 0;
}

tg_gw_job *tg_gw_job_start(tg_gw_relay *r, struct MHD_Connection *conn, tg_gw *gw,
			   const tg_gw_conf *conf, const tg_gw_upstream_conf *uc,
			   const tg_gw_http_in *in)
{
	tg_gw_job *j = calloc(1, sizeof *j);
	tg_gw_idler *wake;

	if (!j)
		return NULL;
	j->r = r;
	j->conn = conn;
	j->gw = gw;
	j->conf = conf;
	j->uc = uc;
	j->in = *in;
	j->refs = 2;
	pthread_cond_init(&j->cond, NULL);
	pthread_mutex_lock(&r->lock);
	if (r->stopping || track(r, j) != 0) {
		pthread_mutex_unlock(&r->lock);
		pthread_cond_destroy(&j->cond);
		free(j);
		return NULL;
	}
	/* Suspended before any worker can see it: only a suspended
	 * connection may be resumed. */
	MHD_suspend_connection(conn);
	j->suspended = true;
	r->suspended++;
	if (summon(r, j, &wake) != 0) {
		/* No thread at all: answer here rather than never. */
		tg_drv_error("gateway: cannot start a worker thread; answering 503");
		r->head = r->tail = NULL;
		j->answered = true;
		tg_gw_answer_error(&j->a, 503, NULL, TG_RPC_UNAVAILABLE,
				   "toolgate: the gateway is out of threads", NULL);
		j->refs--;
		give_back(j);
		return j;
	}
	pthread_mutex_unlock(&r->lock);
	if (wake)
		pthread_cond_signal(&wake->cond);
	return j;
}

bool tg_gw_job_answered(tg_gw_job *j, tg_gw_answer **a)
{
	bool done;

	pthread_mutex_lock(&j->r->lock);
	done = j->answered && !j->suspended;
	pthread_mutex_unlock(&j->r->lock);
	*a = &j->a;
	return done;
}

void tg_gw_job_release(tg_gw_job *j)
{
	tg_gw_relay *r;
	bool last;

	if (!j)
		return;
	r = j->r;
	pthread_mutex_lock(&r->lock);
	last = drop(j);
	pthread_mutex_unlock(&r->lock);
	if (last)
		job_free(j);
}

ssize_t tg_gw_relay_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	tg_gw_job *j = cls;
	tg_gw_relay *r = j->r;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&r->lock);
	if (j->off < j->len) {
		n = (ssize_t)(j->len - j->off < max ? j->len - j->off : max);
		memcpy(buf, j->buf + j->off, (size_t)n);
		j->off += (size_t)n;
	} else if (j->eof) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else if (j->failed || r->stopping) {
		n = MHD_CONTENT_READER_END_WITH_ERROR;
	} else {
		/* Nothing in hand: the worker's turn (0 with a suspended
		 * connection is how libmicrohttpd is told to wait). */
		MHD_suspend_connection(j->conn);
		j->suspended = true;
		r->suspended++;
		j->want = true;
		pthread_mutex_unlock(&r->lock);
		/* After unlocking (woken under the lock, the worker would wait
		 * for it); the job lives on: only tg_gw_relay_done, on this
		 * thread, lets its worker go. */
		pthread_cond_signal(&j->cond);
		return 0;
	}
	pthread_mutex_unlock(&r->lock);
	return n;
}

void tg_gw_relay_done(void *cls)
{
	tg_gw_job *j = cls;
	tg_gw_relay *r = j->r;

	pthread_mutex_lock(&r->lock);
	j->freed = true;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&r->lock);
}

void tg_gw_relay_quiesce(tg_gw_relay *r)
{
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	/* A worker waiting on an upstream or a child watches the client's
	 * socket: shutting it down ends the wait as a hang-up would. */
	for (size_t i = 0; i < r->njobs; i++)
		if (r->jobs[i]->suspended && r->jobs[i]->in.client_fd >= 0)
			shutdown(r->jobs[i]->in.client_fd, SHUT_RDWR);
	while (r->suspended > 0)
		pthread_cond_wait(&r->quiet, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

void tg_gw_relay_free(tg_gw_relay *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	for (tg_gw_idler *i = r->idlers; i; i = i->next)
		pthread_cond_signal(&i->cond);
	while (r->threads > 0)
		pthread_cond_wait(&r->quiet, &r->lock);
	pthread_mutex_unlock(&r->lock);
	for (size_t i = 0; i < r->ntids; i++)
		pthread_join(r->tids[i], NULL);
	free(r->tids);
	while (r->spare) {
		tg_gw_idler *i = r->spare;

		r->spare = i->next;
		pthread_cond_destroy(&i->cond);
		free(i);
	}
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->quiet);
	free(r->jobs);
	free(r);
}
