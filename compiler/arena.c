/*
 * arena.c - bump allocator in chained blocks.
 *
 * Blocks grow geometrically so a 100,000-rule policy costs a few dozen
 * malloc calls. Large requests get a block of their own.
 */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_MIN_BLOCK (64 * 1024)
#define ARENA_ALIGN     (sizeof(max_align_t))

struct tg_arena_block {
	tg_arena_block *next;
	size_t used, size;
	max_align_t data[];
};

void tg_arena_init(tg_arena *a)
{
	a->head = NULL;
	a->total = 0;
}

void tg_arena_free(tg_arena *a)
{
	tg_arena_block *b = a->head;
	while (b) {
		tg_arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->total = 0;
}

void *tg_arena_alloc(tg_arena *a, size_t size)
{
	size_t need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	tg_arena_block *b = a->head;
	if (need < size)
		return NULL;
	if (!b || b->size - b->used < need) {
		size_t bsize = b ? b->size * 2 : ARENA_MIN_BLOCK;
		if (bsize > 16u * 1024 * 1024)
			bsize = 16u * 1024 * 1024;
		if (bsize < need)
			bsize = need;
		if (bsize > SIZE_MAX - sizeof *b)
			return NULL;
		tg_arena_block *nb = malloc(sizeof *nb + bsize);
		if (!nb)
			return NULL;
		nb->used = 0;
		nb->size = bsize;
		if (b && b->size - b->used >= ARENA_MIN_BLOCK / 4 && bsize == need) {
			/* Keep filling the current block: link the big one behind it. */
			nb->next = b->next;
			b->next = nb;
			nb->used = need;
			a->total += need;
			return memset(nb->data, 0, need);
		}
		nb->next = b;
		a->head = b = nb;
	}
	void *p = (char *)b->data + b->used;
	b->used += need;
	a->total += need;
	return memset(p, 0, need);
}

char *tg_arena_strndup(tg_arena *a, const char *s, size_t len)
{
	char *p = tg_arena_alloc(a, len + 1);
	if (p) {
		if (len)
			memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

char *tg_arena_printf(tg_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = tg_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

char *tg_arena_vprintf(tg_arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	char *p = tg_arena_alloc(a, (size_t)n + 1);
	if (p)
		vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

int tg_arena_grow(tg_arena *a, void **items, size_t *cap, size_t need, size_t elem_size)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / elem_size)
		return -1;
	void *n = tg_arena_alloc(a, ncap * elem_size);
	if (!n)
		return -1;
	if (*cap)
		memcpy(n, *items, *cap * elem_size);
	*items = n;
	*cap = ncap;
	return 0;
}
