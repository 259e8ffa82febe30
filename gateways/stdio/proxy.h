/*
 * proxy.h - the pieces of `toolgate proxy`, an MCP stdio gateway that
 * enforces a policy on every message between a client (the proxy's stdin and
 * stdout) and a server (a child process).
 *
 * The split, one job per file:
 *
 *   buf.c       byte queues and the bounded line splitter
 *   core.c      the state machine over lines, no processes
 *   route.c     requests in flight both ways: ids, cancellation, timeouts
 *   fetch.c     the proxy's own tools/list for a call it cannot yet judge
 *   answer.c    what the proxy says itself: errors, refusals
 *   reload.c    watching the policy file, swapping the holder
 *   relay.c     the child process and the poll() loop
 *
 * What a message means and whether it may pass is libtoolgate-mcp's job
 * (mcp/adapter.h: framing, identity, the adapter, list filtering), shared
 * with every other transport. The core consumes whole lines and produces
 * bytes for either side into two queues; the relay only moves bytes. So
 * everything that decides what may pass is testable without a process
 * (tests/unit/test_proxy.c). cli/cmd_proxy.c holds the options.
 */
#ifndef TG_PROXY_H
#define TG_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "adapter.h"
#include "toolgate/toolgate.h"

#define TG_PROXY_DEFAULT_MAX_LINE (8u * 1024 * 1024)	/* client messages */
#define TG_PROXY_SERVER_MAX_LINE  (64u * 1024 * 1024)	/* server messages, at least */
#define TG_PROXY_DEFAULT_TIMEOUT_MS 300000	/* --request-timeout */
#define TG_PROXY_FETCH_PAGES	  64u		/* tools/list pages the proxy walks */
#define TG_PROXY_FETCH_TIMEOUT_MS 10000

/* ---- buf.c --------------------------------------------------------- */

/* A FIFO of bytes: data[off..len) is unread. */
typedef struct tg_px_buf {
	char *data;
	size_t off, len, cap;
} tg_px_buf;

/* Appends; returns 0 or -1 when out of memory. */
int tg_px_buf_add(tg_px_buf *b, const void *p, size_t n);
/* Bytes waiting, and where they start (never NULL, also when empty). */
size_t tg_px_buf_size(const tg_px_buf *b);
const char *tg_px_buf_head(const tg_px_buf *b);
/* Drops n bytes from the front. */
void tg_px_buf_drop(tg_px_buf *b, size_t n);
void tg_px_buf_free(tg_px_buf *b);

/*
 * Splits a byte stream into lines, keeping at most `max` bytes of one line:
 * a longer line is discarded up to its newline (reported once, as
 * oversized), so memory stays bounded whatever the peer sends.
 */
typedef struct tg_px_lines {
	tg_px_buf pending;
	size_t max;
	bool discarding;
} tg_px_lines;

typedef struct tg_px_line_sink {
	void (*line)(void *ud, const char *s, size_t len);	/* without the '\n' */
	/* A line past the limit, once: its first bytes (at most the limit),
	 * so an id there can still be answered. */
	void (*oversized)(void *ud, const char *head, size_t len);
	void *ud;
} tg_px_line_sink;

/* Feeds n bytes; returns 0 or -1 when out of memory. */
int tg_px_lines_feed(tg_px_lines *l, const char *p, size_t n, const tg_px_line_sink *sink);
/* End of stream: a final line without a newline is delivered too. */
void tg_px_lines_finish(tg_px_lines *l, const tg_px_line_sink *sink);
void tg_px_lines_free(tg_px_lines *l);

/* ---- core.c -------------------------------------------------------- */

typedef struct tg_proxy_stats {
	unsigned long allowed, denied, invalid, passed, rejected, filtered;
	unsigned long cancelled, timed_out;
	double decide_cpu;	/* seconds of process CPU spent deciding */
} tg_proxy_stats;

typedef struct tg_proxy {
	tg_holder *holder;	/* borrowed */
	const tg_mcp_identity *identity;	/* borrowed */
	FILE *audit;		/* borrowed; NULL: no audit */
	int64_t fixed_time;	/* > 0: the clock (tests) */
	int64_t fixed_ms;	/* > 0: the monotonic clock (tests) */
	bool measure;		/* account CPU time in stats.decide_cpu */
	int64_t request_timeout_ms;	/* 0: requests in flight never time out */
	tg_mcp_deny_as deny_as;	/* how a denied tools/call is answered */
	const json_t *roots;	/* borrowed: roots pinned by the operator, or NULL */
	const char *write_pins;	/* borrowed: where to keep the listed tools' pins, or NULL */

	tg_px_buf to_server, to_client;
	tg_px_buf backlog;		/* client lines read while a call is held */
	bool draining;
	/* Every request forwarded either way gets an id of the proxy's own
	 * (route.c): one counter for both directions, so an id names one
	 * request in one table. */
	int64_t next_id;
	tg_rpc_flights at_server;	/* client (and proxy) requests at the server */
	tg_rpc_flights at_client;	/* server requests at the client */
	tg_mcp_tools tools;

	/* A tools/call waiting for the proxy's own tools/list (fetch.c). */
	bool fetching;
	tg_rpc_msg held;
	char *held_line;
	size_t held_len;
	int64_t fetch_own;
	unsigned fetch_pages;
	int64_t fetch_deadline_ms;

	tg_proxy_stats stats;
} tg_proxy;

void tg_proxy_init(tg_proxy *px, tg_holder *holder, const tg_mcp_identity *id, FILE *audit);
void tg_proxy_free(tg_proxy *px);

/* One line from the client / from the server (without its newline). */
void tg_proxy_client_line(tg_proxy *px, const char *line, size_t len);
void tg_proxy_server_line(tg_proxy *px, const char *line, size_t len);
/* A line past the limit; head is its first bytes. */
void tg_proxy_client_oversized(tg_proxy *px, const char *head, size_t len);
void tg_proxy_server_oversized(tg_proxy *px, const char *head, size_t len);

/* False while a tools/call waits for the proxy's tools/list, or client
 * lines read meanwhile wait behind it: reading the client pauses, so
 * messages keep their order. Lines fed in the meantime (the rest of a read)
 * are kept in order and handled when the call is decided. */
bool tg_proxy_accepts_client(const tg_proxy *px);

/* Time passes (monotonic milliseconds): a fetch past its deadline fails,
 * requests past the request timeout are answered with an error. */
void tg_proxy_tick(tg_proxy *px, int64_t now_ms);

/* The server is gone: every request waiting for it is answered with
 * TG_RPC_UNAVAILABLE. */
void tg_proxy_server_gone(tg_proxy *px, const char *why);

/* Monotonic milliseconds. */
int64_t tg_proxy_now_ms(void);

/* ---- between core.c, route.c, fetch.c and answer.c ------------------- */

/* Queues one line (a newline is added) / one JSON message. */
void tg_px_emit(tg_px_buf *b, const char *s, size_t n);
void tg_px_emit_json(tg_px_buf *b, const json_t *msg);
/* An answer under id (JSON text), into b: body is {"error":...} or
 * {"result":...} (taken; NULL when out of memory). */
void tg_px_answer(tg_px_buf *b, const char *id, size_t idlen, json_t *body);
/* A JSON-RPC error answer under id (JSON text), into b; takes data (may be
 * NULL). */
void tg_px_answer_error(tg_px_buf *b, const char *id, size_t idlen, int code, const char *message,
			json_t *data);
/* The same under a parsed id. */
void tg_px_answer_error_json(tg_px_buf *b, const json_t *id, int code, const char *message,
			     json_t *data);

/* Reports a refusal on stderr and in the audit, and answers every id it
 * names (to the side the message came from). */
void tg_px_refuse(tg_proxy *px, const tg_mcp_refusal *r);
/* The same for a parsed request m, answered under its id. */
void tg_px_refuse_msg(tg_proxy *px, bool from_server, const char *kind, const char *reason,
		      int code, const tg_rpc_msg *m);

/* core.c: the clocks: policy time (UTC seconds), monotonic milliseconds,
 * CPU seconds. */
int64_t tg_px_now_s(const tg_proxy *px);
int64_t tg_px_now_ms(const tg_proxy *px);
double tg_px_cpu_seconds(void);

/* route.c: passing requests and answers on under the proxy's ids. */
void tg_px_forward_request(tg_proxy *px, const tg_rpc_msg *m, const char *line, size_t len);
/* The same for a message the proxy changed (m->root), line being the one
 * it came as. */
void tg_px_forward_tree(tg_proxy *px, const tg_rpc_msg *m, const char *line);
void tg_px_server_request(tg_proxy *px, const tg_rpc_msg *m, const char *line, size_t len);
void tg_px_client_response(tg_proxy *px, const tg_rpc_msg *m, const char *line, size_t len);
void tg_px_server_response(tg_proxy *px, tg_rpc_msg *m, const char *line, size_t len);
/* A plain answer from the server passed back without parsing it into a
 * tree (tg_rpc_response_ok); false when the line needs tg_rpc_parse. */
bool tg_px_server_plain_answer(tg_proxy *px, const char *line, size_t len);
/* notifications/cancelled and others naming a request: true when the
 * notification was handled (forwarded translated, or dropped). */
bool tg_px_client_notification(tg_proxy *px, tg_rpc_msg *m);
bool tg_px_server_notification(tg_proxy *px, tg_rpc_msg *m);
/* A line that was refused or cut short, possibly the answer to a request
 * in flight: that request is answered with an error instead. */
void tg_px_unreadable_answer(tg_proxy *px, bool from_server, const char *line, size_t len,
			     const char *why);
void tg_px_expire(tg_proxy *px, int64_t now_ms);

/* fetch.c: the proxy's own tools/list. */
void tg_px_fetch_start(tg_proxy *px);
void tg_px_fetch_response(tg_proxy *px, tg_rpc_msg *m);
void tg_px_fetch_finish(tg_proxy *px, const char *failure);
/* core.c: decides a client request; takes *m when it has to be held. */
void tg_px_handle_request(tg_proxy *px, tg_rpc_msg *m, const char *line, size_t len,
			  bool refetched);
/* core.c: the client lines queued behind a held call. */
void tg_px_drain_backlog(tg_proxy *px);
/* core.c: after a tools/list result: with --write-pins, the pins of every
 * tool listed so far go to the file when they changed. */
void tg_px_listed(tg_proxy *px);

/* ---- reload.c ------------------------------------------------------ */

typedef struct tg_reloader {
	const char *path;
	bool known;
	unsigned long long dev, ino, size;
	long long mtime_sec, mtime_nsec;
	int64_t last_check_ms;
} tg_reloader;

/* Loads the policy at r->path into the holder (first load). 0 or a CLI exit
 * status. */
int tg_reload_initial(tg_reloader *r, tg_holder *h);
/*
 * Checks the file (at most every 250 ms unless `force`) and, when it
 * changed, loads, verifies and swaps it in. A policy that fails to load is
 * reported on stderr and the old one keeps serving. Returns true when a new
 * policy was installed.
 */
bool tg_reload_check(tg_reloader *r, tg_holder *h, bool force);

/* ---- relay.c ------------------------------------------------------- */

typedef struct tg_relay_opts {
	char **argv;		/* the server command */
	size_t max_line;	/* client lines; server lines get at least 64 MiB */
	bool stats;
	tg_reloader *reloader;
	void (*on_hup)(void *ud);	/* also on SIGHUP, or NULL */
	void *hup_ud;
	void (*on_usr1)(void *ud);	/* on SIGUSR1, or NULL (then it is ignored) */
	void *usr1_ud;
} tg_relay_opts;

/* Starts argv with close-on-exec pipes on its stdin and stdout (stderr is
 * inherited, no other descriptor) and this process's environment, with the
 * "NAME=value" entries of env (NULL-terminated, or NULL) in place of the
 * variables they name. Returns the pid, or -1 with a message printed. */
pid_t tg_px_spawn(char **argv, char *const *env, int *to_child, int *from_child);

/* Runs the server and relays until both sides are done; returns the exit
 * status of `toolgate proxy`. */
int tg_relay_run(tg_proxy *px, const tg_relay_opts *opts);

#endif
