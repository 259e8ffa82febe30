/*
 * proxy.h - the pieces of `toolgate proxy`, an MCP stdio gateway that
 * enforces a policy on every message between a client (the proxy's stdin and
 * stdout) and a server (a child process).
 *
 * The split, one job per file:
 *
 *   buf.c       byte queues and the bounded line splitter
 *   ids.c       outstanding request ids, both directions
 *   core.c      the state machine tying these together, no processes
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
#define TG_PROXY_MAX_PENDING	  4096u		/* outstanding requests per direction */
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
/* Bytes waiting. */
size_t tg_px_buf_size(const tg_px_buf *b);
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
	void (*oversized)(void *ud);
	void *ud;
} tg_px_line_sink;

/* Feeds n bytes; returns 0 or -1 when out of memory. */
int tg_px_lines_feed(tg_px_lines *l, const char *p, size_t n, const tg_px_line_sink *sink);
/* End of stream: a final line without a newline is delivered too. */
void tg_px_lines_finish(tg_px_lines *l, const tg_px_line_sink *sink);
void tg_px_lines_free(tg_px_lines *l);

/* ---- ids.c --------------------------------------------------------- */

typedef enum tg_px_pend_kind {
	TG_PX_PEND_PLAIN,		/* a forwarded request whose result passes unchanged */
	TG_PX_PEND_TOOLS_LIST,
	TG_PX_PEND_RESOURCES_LIST,
	TG_PX_PEND_PROMPTS_LIST,
	TG_PX_PEND_FETCH		/* the proxy's own tools/list: consumed, never forwarded */
} tg_px_pend_kind;

typedef struct tg_px_pending {
	char *key;
	json_t *id;		/* one reference */
	tg_px_pend_kind kind;
} tg_px_pending;

typedef struct tg_px_idtab {
	tg_px_pending *v;
	size_t n, cap;
} tg_px_idtab;

/* Index of key, or -1. */
long tg_px_idtab_find(const tg_px_idtab *t, const char *key);
/* Adds (copies key, takes a reference to id); -1 when full or out of memory. */
int tg_px_idtab_add(tg_px_idtab *t, const char *key, json_t *id, tg_px_pend_kind kind);
/* Removes entry i (order is not kept). */
void tg_px_idtab_remove(tg_px_idtab *t, size_t i);
void tg_px_idtab_free(tg_px_idtab *t);

/* ---- core.c -------------------------------------------------------- */

typedef struct tg_proxy_stats {
	unsigned long allowed, denied, invalid, passed, rejected, filtered;
	double decide_cpu;	/* seconds of process CPU spent deciding */
} tg_proxy_stats;

typedef struct tg_proxy {
	tg_holder *holder;	/* borrowed */
	const tg_mcp_identity *identity;	/* borrowed */
	FILE *audit;		/* borrowed; NULL: no audit */
	int64_t fixed_time;	/* > 0: the clock (tests) */
	bool measure;		/* account CPU time in stats.decide_cpu */

	tg_px_buf to_server, to_client;
	tg_px_buf backlog;		/* client lines read while a call is held */
	bool draining;
	tg_px_idtab client_pending;	/* client (and proxy) requests at the server */
	tg_px_idtab server_pending;	/* server requests at the client */
	tg_mcp_tools tools;

	/* A tools/call waiting for the proxy's own tools/list. */
	bool fetching;
	tg_rpc_msg held;
	char *held_line;
	size_t held_len;
	char *fetch_key;
	unsigned fetch_pages;
	int64_t fetch_deadline_ms;
	unsigned long own_ids;

	tg_proxy_stats stats;
} tg_proxy;

void tg_proxy_init(tg_proxy *px, tg_holder *holder, const tg_mcp_identity *id, FILE *audit);
void tg_proxy_free(tg_proxy *px);

/* One line from the client / from the server (without its newline). */
void tg_proxy_client_line(tg_proxy *px, const char *line, size_t len);
void tg_proxy_server_line(tg_proxy *px, const char *line, size_t len);
void tg_proxy_client_oversized(tg_proxy *px);
void tg_proxy_server_oversized(tg_proxy *px);

/* False while a tools/call waits for the proxy's tools/list, or client
 * lines read meanwhile wait behind it: reading the client pauses, so
 * messages keep their order. Lines fed in the meantime (the rest of a read)
 * are kept in order and handled when the call is decided. */
bool tg_proxy_accepts_client(const tg_proxy *px);

/* Time passes (monotonic milliseconds): a fetch past its deadline fails. */
void tg_proxy_tick(tg_proxy *px, int64_t now_ms);

/* The server is gone: every request waiting for it is answered with
 * TG_RPC_UNAVAILABLE. */
void tg_proxy_server_gone(tg_proxy *px, const char *why);

/* Monotonic milliseconds. */
int64_t tg_proxy_now_ms(void);

/* The answers the proxy gives, for every transport that must give the same:
 * a JSON-RPC error response for `id` (NULL: null) taking `data` (may be
 * NULL), and a decision's error.data {"rule": ..., "reason": ...}. */
json_t *tg_proxy_error_reply(json_t *id, int code, const char *message, json_t *data);
json_t *tg_proxy_decision_data(const tg_mcp_authz *o);
/* A tools/call whose tool the server's full tools/list does not have:
 * turns *out (TG_MCP_NEED_TOOLS) into a deny and audits it. */
void tg_proxy_deny_unlisted(const tg_policy *p, const tg_mcp_identity *id, const tg_rpc_msg *m,
			    int64_t now, FILE *audit, tg_mcp_authz *out);

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
} tg_relay_opts;

/* Starts argv with close-on-exec pipes on its stdin and stdout (stderr is
 * inherited). Returns the pid, or -1 with a message printed. */
pid_t tg_px_spawn(char **argv, int *to_child, int *from_child);

/* Runs the server and relays until both sides are done; returns the exit
 * status of `toolgate proxy`. */
int tg_relay_run(tg_proxy *px, const tg_relay_opts *opts);

#endif
