/*
 * arena.h - one allocation arena per compilation.
 *
 * Every AST node, decoded string and diagnostic of a compilation lives in one
 * arena and is freed with it in one step, so no pass has to track ownership of
 * individual nodes. Allocation failure returns NULL; callers report it as a
 * diagnostic ("out of memory") and stop, never abort().
 */
#ifndef TG_ARENA_H
#define TG_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct tg_arena_block tg_arena_block;

typedef struct tg_arena {
	tg_arena_block *head;
	size_t total;		/* bytes handed out, for benchmarks */
} tg_arena;

void tg_arena_init(tg_arena *a);
void tg_arena_free(tg_arena *a);

/* Zeroed memory aligned for any object type, or NULL when out of memory. */
void *tg_arena_alloc(tg_arena *a, size_t size);

/* Copy of s[0..len) with a terminating NUL, or NULL when out of memory. */
char *tg_arena_strndup(tg_arena *a, const char *s, size_t len);

/* printf into the arena, or NULL when out of memory. */
char *tg_arena_printf(tg_arena *a, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* The same with a va_list (left unusable, as by vsnprintf). */
char *tg_arena_vprintf(tg_arena *a, const char *fmt, va_list ap)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 0)))
#endif
	;

/* Grows *items (of *cap elements of elem_size) to hold at least need elements,
 * copying into a fresh arena block; old storage is simply abandoned. Returns 0,
 * or -1 when out of memory (the old array is left intact). */
int tg_arena_grow(tg_arena *a, void **items, size_t *cap, size_t need, size_t elem_size);

#endif
