/*
 * ids.c - requests in flight, keyed by the canonical text of their
 * JSON-RPC id (so 7 and "7" differ, as they do on the wire).
 *
 * A flat array searched linearly: a stdio session has a handful of requests
 * in flight, and the table is capped at TG_PROXY_MAX_PENDING, so the worst
 * case is a few thousand short string compares per message.
 */
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

long tg_px_idtab_find(const tg_px_idtab *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].key, key) == 0)
			return (long)i;
	return -1;
}

int tg_px_idtab_add(tg_px_idtab *t, const char *key, json_t *id, tg_px_pend_kind kind)
{
	char *copy;

	if (t->n >= TG_PROXY_MAX_PENDING)
		return -1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		tg_px_pending *grown = realloc(t->v, cap * sizeof *grown);

		if (!grown)
			return -1;
		t->v = grown;
		t->cap = cap;
	}
	copy = strdup(key);
	if (!copy)
		return -1;
	t->v[t->n].key = copy;
	t->v[t->n].id = json_incref(id);
	t->v[t->n].kind = kind;
	t->n++;
	return 0;
}

void tg_px_idtab_remove(tg_px_idtab *t, size_t i)
{
	free(t->v[i].key);
	json_decref(t->v[i].id);
	t->v[i] = t->v[--t->n];
}

void tg_px_idtab_free(tg_px_idtab *t)
{
	while (t->n > 0)
		tg_px_idtab_remove(t, t->n - 1);
	free(t->v);
	memset(t, 0, sizeof *t);
}
