/*
 * loop.c - the gateway's event loop: one thread and one epoll set for
 * libmicrohttpd (its epoll descriptor, in external mode), libcurl's sockets
 * (the multi socket interface: one multi handle for every call started on
 * the loop) and the client sockets of suspended connections, watched for a
 * hang-up.
 *
 * Why one loop: a forwarded request then costs the wake-ups of a one-hop
 * proxy, the client's request arriving and the upstream's answer arriving.
 * With the upstream call on a worker thread, every request also crossed
 * threads twice (bench/RESULTS.md, rounds 11 and 14). Workers (relay.c) are
 * kept for what must block: stdio children, the gateway's own tool-list
 * fetch, a token whose key is being fetched.
 *
 * Every callback runs on the loop's thread: libmicrohttpd's (MHD_run is
 * called only here), libcurl's, hang-ups and the tick. A call's news is
 * queued by libcurl's callbacks and handed out after libcurl returns, so a
 * call may be freed by its own news. Other threads resume connections and
 * then wake the loop through an eventfd (in external mode libmicrohttpd
 * takes a resumption only when it is run), or ask it to quiesce or stop.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "gateway.h"

#define EASY_POOL 64
#define TICK_MS 1000	/* the tick runs at least this often */
#define MAX_EVENTS 64
#define SETTLE_ROUNDS 8

/* What an epoll event is about: data.u64 holds a tag in the high half and
 * a descriptor below (libcurl may close a socket while an event for it waits
 * in the same batch; an unknown descriptor is harmless to libcurl), or a
 * watch's address, whose high half is below any tag (user space addresses
 * have at most 47 bits). */
enum { TAG_MHD = 0x10001, TAG_WAKE, TAG_CURL };

#define WANT_QUIESCE 1
#define WANT_STOP 2

/*
 * What the loop knows of each socket libcurl opened through on_open for an
 * upstream connection (indexed by descriptor). libcurl stops watching a
 * kept-alive connection after every answer and watches it again with the
 * next request on it: such a socket stays in the epoll set meanwhile
 * (IDLE), which spares an epoll_ctl pair a request. It leaves the set when
 * libcurl closes it (on_close: libcurl closes what on_open opened through
 * it, whichever handle closes the connection) or when an event comes while
 * it is idle (the upstream closed it or sent what nobody asked for: the
 * next reuse finds it dead). Other sockets (the resolver's) come and go
 * with libcurl's watch, as libcurl closes them itself.
 */
enum {
	S_OURS = 1,	/* opened by on_open, closed by on_close */
	S_IN_SET = 2,	/* in the epoll set, with S_EV_* */
	S_IDLE = 4,	/* in the set though libcurl no longer watches it */
	S_EV_IN = 8,
	S_EV_OUT = 16,
};
#define MAX_SOCKETS (1 << 20)

struct tg_gw_loop {
	int ep, wake;
	struct MHD_Daemon *d;
	CURLM *multi;
	int64_t curl_due;		/* monotonic ms, -1: no libcurl timeout */
	int64_t mhd_due;		/* libmicrohttpd wants a turn by then at the latest */
	bool kicked;			/* a connection was resumed: libmicrohttpd's turn */
	tg_gw_http_call *news;		/* queued, handed out after libcurl returns */
	int64_t (*tick)(void *ud, int64_t now_ms);
	void *tick_ud;
	int64_t next_tick;
	CURL *easy[EASY_POOL];
	unsigned neasy;
	uint8_t *sock;			/* S_* by descriptor, nsock entries */
	size_t nsock;
	pthread_t thread;
	bool started, quiesced;
	int want;			/* WANT_*, atomic builtins */
};

static uint64_t tagged(int tag, int fd)
{
	return (uint64_t)tag << 32 | (uint32_t)fd;
}

static uint8_t *sock_state(tg_gw_loop *l, curl_socket_t fd)
{
	return fd >= 0 && (size_t)fd < l->nsock && (l->sock[fd] & S_OURS) ? &l->sock[fd] : NULL;
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *ud, void *sockp)
{
	tg_gw_loop *l = ud;
	uint8_t *st = sock_state(l, fd);
	struct epoll_event ev = {.data.u64 = tagged(TAG_CURL, fd)};
	unsigned bits;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (st && (*st & S_IN_SET)) {
			*st |= S_IDLE;
			return 0;
		}
		epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
		curl_multi_assign(l->multi, fd, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	bits = (what & CURL_POLL_IN ? S_EV_IN : 0) | (what & CURL_POLL_OUT ? S_EV_OUT : 0);
	if (st) {
		if (!(*st & S_IN_SET)) {
			if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
				return -1;
		} else if ((*st & (S_EV_IN | S_EV_OUT)) != bits &&
			   epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) != 0) {
			return -1;
		}
		*st = (uint8_t)(S_OURS | S_IN_SET | bits);
		return 0;
	}
	if (sockp)
		return epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -1;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -1;
	/* Any non-NULL value: "this socket is in the set". */
	curl_multi_assign(l->multi, fd, l);
	return 0;
}

static curl_socket_t on_open(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	tg_gw_loop *l = ud;
	curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);

	(void)purpose;
	if (fd < 0 || fd >= MAX_SOCKETS)
		return fd;
	if ((size_t)fd >= l->nsock) {
		size_t n = l->nsock ? l->nsock : 64;
		uint8_t *t;

		while (n <= (size_t)fd)
			n *= 2;
		t = realloc(l->sock, n);
		if (!t)
			return fd;	/* watched the plain way */
		memset(t + l->nsock, 0, n - l->nsock);
		l->sock = t;
		l->nsock = n;
	}
	l->sock[fd] = S_OURS;
	return fd;
}

static int on_close(void *ud, curl_socket_t fd)
{
	tg_gw_loop *l = ud;
	uint8_t *st = sock_state(l, fd);

	if (st) {
		if (*st & S_IN_SET)
			epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
		*st = 0;
	}
	return close(fd) == 0 ? 0 : 1;
}

/* An event for a socket libcurl does not watch: out of the set. */
static bool idle_event(tg_gw_loop *l, curl_socket_t fd)
{
	uint8_t *st = sock_state(l, fd);

	if (!st || !(*st & S_IDLE))
		return false;
	epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
	*st = S_OURS;
	return true;
}

static int on_timer(CURLM *m, long ms, void *ud)
{
	tg_gw_loop *l = ud;

	(void)m;
	l->curl_due = ms < 0 ? -1 : tg_proxy_now_ms() + ms;
	return 0;
}

tg_gw_loop *tg_gw_loop_new(struct MHD_Daemon *d, int64_t (*tick)(void *ud, int64_t now_ms),
			   void *ud, char *err, size_t errlen)
{
	tg_gw_loop *l = calloc(1, sizeof *l);
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	struct epoll_event ev = {.events = EPOLLIN};

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->d = d;
	l->tick = tick;
	l->tick_ud = ud;
	l->curl_due = -1;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	l->multi = curl_multi_init();
	if (l->ep < 0 || l->wake < 0 || !l->multi || !di) {
		snprintf(err, errlen, "cannot set up the event loop: %s",
			 l->multi ? strerror(errno) : "out of memory");
		goto fail;
	}
	ev.data.u64 = tagged(TAG_MHD, di->epoll_fd);
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, di->epoll_fd, &ev) != 0)
		goto fail_errno;
	ev.data.u64 = tagged(TAG_WAKE, l->wake);
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake, &ev) != 0)
		goto fail_errno;
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
	/* Idle upstream connections kept for reuse, as the worker pool does. */
	curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, (long)EASY_POOL);
	return l;
fail_errno:
	snprintf(err, errlen, "cannot set up the event loop: %s", strerror(errno));
fail:
	tg_gw_loop_free(l);
	return NULL;
}

/* Hands out queued news until none is left (news may queue more). */
static void deliver(tg_gw_loop *l)
{
	while (l->news) {
		tg_gw_http_call *c = l->news;

		l->news = c->next_news;
		c->next_news = NULL;
		c->queued = false;
		c->news(c->news_ud);
	}
}

static void finished(tg_gw_loop *l)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(l->multi, &left))) {
		tg_gw_http_call *c = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		if (!c)
			continue;
		tg_gw_http_ended(c, msg->data.result);
		tg_gw_loop_news(l, c);
	}
	deliver(l);
}

static void curl_act(tg_gw_loop *l, curl_socket_t fd, int flags)
{
	int running;

	curl_multi_socket_action(l->multi, fd, flags, &running);
	finished(l);
}

static int timeout_ms(tg_gw_loop *l, int64_t now)
{
	int64_t t = l->next_tick - now;

	if (l->kicked || l->news)
		return 0;
	if (l->mhd_due - now < t)
		t = l->mhd_due - now;
	if (l->curl_due >= 0 && l->curl_due - now < t)
		t = l->curl_due - now;
	return t < 0 ? 0 : (int)t;
}

/* libmicrohttpd's turn, and when it wants the next one at the latest (0:
 * at once). */
static void mhd_turn(tg_gw_loop *l)
{
	MHD_UNSIGNED_LONG_LONG t;

	l->kicked = false;
	MHD_run(l->d);
	l->mhd_due = MHD_get_timeout(l->d, &t) == MHD_YES ? tg_proxy_now_ms() + (int64_t)t
							   : INT64_MAX;
}

/*
 * One turn: wait, hand each event to its owner, then settle: libcurl's due
 * timeout, the tick, and libmicrohttpd's turn when its descriptor fired, a
 * connection was resumed or its timeout is due, again while any of these
 * is due at once (a request that reached its upstream call arms libcurl's
 * timer at 0, an answer resumes its connection): a few rounds, not a wait
 * each.
 */
static void *run(void *arg)
{
	tg_gw_loop *l = arg;
	struct epoll_event ev[MAX_EVENTS];

	l->next_tick = tg_proxy_now_ms() + TICK_MS;
	l->mhd_due = 0;
	for (;;) {
		int want = __atomic_load_n(&l->want, __ATOMIC_ACQUIRE), n, i, round;
		bool mhd_ready = false;

		if (want & WANT_STOP)
			break;
		if ((want & WANT_QUIESCE) && !l->quiesced) {
			MHD_socket fd = MHD_quiesce_daemon(l->d);

			if (fd != MHD_INVALID_SOCKET)
				close(fd);
			l->quiesced = true;
		}
		n = epoll_wait(l->ep, ev, MAX_EVENTS, timeout_ms(l, tg_proxy_now_ms()));
		for (i = 0; i < n; i++) {
			int tag = (int)(ev[i].data.u64 >> 32);
			int fd = (int)(uint32_t)ev[i].data.u64;

			if (tag == TAG_CURL) {
				if (idle_event(l, fd))
					continue;
				curl_act(l, fd,
					 (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
						 (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
						 (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR
										     : 0));
			} else if (tag == TAG_WAKE) {
				uint64_t v;

				/* Another thread resumed a connection, or asks to
				 * quiesce or stop. */
				if (read(l->wake, &v, sizeof v) < 0 && errno != EAGAIN)
					continue;
				l->kicked = true;
			} else if (tag == TAG_MHD) {
				mhd_ready = true;
			} else {
				tg_gw_watch *w = ev[i].data.ptr;

				/* Unwatched earlier in this batch: stale. */
				if (w->on)
					w->hangup(w->ud);
			}
		}
		for (round = 0; round < SETTLE_ROUNDS; round++) {
			int64_t now = tg_proxy_now_ms();
			bool curl_due = l->curl_due >= 0 && now >= l->curl_due;

			if (curl_due) {
				l->curl_due = -1;
				curl_act(l, CURL_SOCKET_TIMEOUT, 0);
			}
			if (now >= l->next_tick) {
				int64_t due = l->tick(l->tick_ud, now);

				l->next_tick = due < now + TICK_MS ? due : now + TICK_MS;
				deliver(l);
			}
			if (!mhd_ready && !l->kicked && now < l->mhd_due) {
				if (!curl_due)
					break;
				continue;
			}
			mhd_ready = false;
			mhd_turn(l);
			/* News queued by libmicrohttpd's callbacks (a stream
			 * unpaused). */
			deliver(l);
		}
	}
	return NULL;
}

int tg_gw_loop_start(tg_gw_loop *l)
{
	if (pthread_create(&l->thread, NULL, run, l) != 0)
		return -1;
	l->started = true;
	return 0;
}

static void ask(tg_gw_loop *l, int want)
{
	uint64_t one = 1;

	__atomic_or_fetch(&l->want, want, __ATOMIC_RELEASE);
	if (write(l->wake, &one, sizeof one) < 0 && errno != EAGAIN)
		return;	/* the counter is full: the loop is awake anyway */
}

void tg_gw_loop_kick(tg_gw_loop *l)
{
	l->kicked = true;
}

void tg_gw_loop_due(tg_gw_loop *l, int64_t when_ms)
{
	if (when_ms < l->next_tick)
		l->next_tick = when_ms;
}

void tg_gw_loop_wake(tg_gw_loop *l)
{
	ask(l, 0);
}

void tg_gw_loop_quiesce(tg_gw_loop *l)
{
	ask(l, WANT_QUIESCE);
}

void tg_gw_loop_stop(tg_gw_loop *l)
{
	if (!l || !l->started)
		return;
	ask(l, WANT_STOP);
	pthread_join(l->thread, NULL);
	l->started = false;
}

void tg_gw_loop_free(tg_gw_loop *l)
{
	if (!l)
		return;
	tg_gw_loop_stop(l);
	while (l->neasy > 0)
		curl_easy_cleanup(l->easy[--l->neasy]);
	if (l->multi)
		curl_multi_cleanup(l->multi);
	if (l->ep >= 0)
		close(l->ep);
	if (l->wake >= 0)
		close(l->wake);
	free(l->sock);
	free(l);
}

void tg_gw_loop_watch(tg_gw_loop *l, tg_gw_watch *w, int fd, void (*hangup)(void *ud), void *ud)
{
	/* EPOLLRDHUP alone: data the client pipelines meanwhile is no hang-up
	 * (EPOLLHUP and EPOLLERR are always reported). */
	struct epoll_event ev = {.events = EPOLLRDHUP, .data.ptr = w};

	w->fd = fd;
	w->hangup = hangup;
	w->ud = ud;
	w->on = fd >= 0 && epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void tg_gw_loop_unwatch(tg_gw_loop *l, tg_gw_watch *w)
{
	if (!w->on)
		return;
	epoll_ctl(l->ep, EPOLL_CTL_DEL, w->fd, NULL);
	w->on = false;
}

void *tg_gw_loop_easy(tg_gw_loop *l)
{
	return l->neasy > 0 ? l->easy[--l->neasy] : curl_easy_init();
}

int tg_gw_loop_add(tg_gw_loop *l, tg_gw_http_call *c)
{
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, (char *)c);
	curl_easy_setopt(c->easy, CURLOPT_OPENSOCKETFUNCTION, on_open);
	curl_easy_setopt(c->easy, CURLOPT_OPENSOCKETDATA, l);
	curl_easy_setopt(c->easy, CURLOPT_CLOSESOCKETFUNCTION, on_close);
	curl_easy_setopt(c->easy, CURLOPT_CLOSESOCKETDATA, l);
	return curl_multi_add_handle(l->multi, c->easy) == CURLM_OK ? 0 : -1;
}

void tg_gw_loop_remove(tg_gw_loop *l, tg_gw_http_call *c, bool reuse)
{
	CURL *e = c->easy;

	if (c->queued)
		for (tg_gw_http_call **p = &l->news; *p; p = &(*p)->next_news)
			if (*p == c) {
				*p = c->next_news;
				break;
			}
	c->queued = false;
	curl_multi_remove_handle(l->multi, e);
	if (reuse && l->neasy < EASY_POOL) {
		curl_easy_reset(e);
		l->easy[l->neasy++] = e;
	} else {
		curl_easy_cleanup(e);
	}
}

void tg_gw_loop_news(tg_gw_loop *l, tg_gw_http_call *c)
{
	if (c->queued)
		return;
	c->queued = true;
	c->next_news = l->news;
	l->news = c;
}
