/*
 * inflight.c - requests forwarded and not yet answered, one table per
 * direction.
 *
 * A forwarder gives every request it passes on an id of its own (`own`, a
 * counter) and keeps the sender's id beside it: the text as the sender
 * wrote it, put back on the answer, and its canonical form (`key`, so 7
 * and "7" differ, as on the wire, while "a" and "\u0061" do not), for
 * refusing a reused id and finding the request a cancellation names.
 * The receiver only ever sees small integers the forwarder issued once, so
 * how it reads ids (as doubles, as strings) cannot route an answer to the
 * wrong request.
 *
 * A flat array searched linearly: a session has a handful of requests in
 * flight, and the table is capped at TG_RPC_MAX_IN_FLIGHT, so the worst
 * case is a few thousand compares per message.
 */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

long tg_rpc_flights_by_key(const tg_rpc_flights *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].key && strcmp(t->v[i].key, key) == 0)
			return (long)i;
	return -1;
}

long tg_rpc_flights_by_own(const tg_rpc_flights *t, int64_t own)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].own == own)
			return (long)i;
	return -1;
}

long tg_rpc_flights_by_progress(const tg_rpc_flights *t, const char *token)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].progress && strcmp(t->v[i].progress, token) == 0)
			return (long)i;
	return -1;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

int tg_rpc_flights_add(tg_rpc_flights *t, int64_t own, const char *key, const char *id,
		       size_t id_len, const char *progress, tg_mcp_reply reply, int64_t deadline_ms)
{
	tg_rpc_flight *e;

	if (t->n >= TG_RPC_MAX_IN_FLIGHT)
		return -1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		tg_rpc_flight *grown = realloc(t->v, cap * sizeof *grown);

		if (!grown)
			return -1;
		t->v = grown;
		t->cap = cap;
	}
	e = &t->v[t->n];
	memset(e, 0, sizeof *e);
	e->own = own;
	e->key = key ? strdup(key) : NULL;
	e->id = id ? dup_n(id, id_len) : NULL;
	e->id_len = id ? id_len : 0;
	e->progress = progress ? strdup(progress) : NULL;
	e->reply = reply;
	e->deadline_ms = deadline_ms;
	if ((key && !e->key) || (id && !e->id) || (progress && !e->progress)) {
		free(e->key);
		free(e->id);
		free(e->progress);
		return -1;
	}
	t->n++;
	return 0;
}

void tg_rpc_flights_remove(tg_rpc_flights *t, size_t i)
{
	free(t->v[i].key);
	free(t->v[i].id);
	free(t->v[i].progress);
	t->v[i] = t->v[--t->n];
}

void tg_rpc_flights_free(tg_rpc_flights *t)
{
	while (t->n > 0)
		tg_rpc_flights_remove(t, t->n - 1);
	free(t->v);
	memset(t, 0, sizeof *t);
}
