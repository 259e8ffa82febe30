/*
 * yaml_tree.h - reading a YAML file into a small located tree, shared by the
 * readers of YAML files (suite/yaml.c for test suites, the HTTP gateway's
 * configuration).
 *
 * tg_ys_read_tree turns libyaml's events into scalars, lists and mappings,
 * each node keeping where it was written; anchors, aliases and tags are
 * refused, as are duplicate keys, nesting deeper than TG_SUITE_MAX_DEPTH and
 * a second document. The readers then check the tree with the typed getters
 * below, which report FILE:LINE:COL: error: MESSAGE with the source line, a
 * caret and a did-you-mean for unknown keys. Messages are collected and
 * printed in source order by tg_ys_flush.
 */
#ifndef TG_YAML_TREE_H
#define TG_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "arena.h"
#include "suite.h"

#if defined(__GNUC__)
#define TG_YS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TG_YS_PRINTF(f, a)
#endif

/* ---- the node tree ------------------------------------------------------ */

typedef enum tg_yn_kind {
	TG_YN_SCALAR,
	TG_YN_SEQ,
	TG_YN_MAP,
	TG_YN_BAD		/* an alias or other refused node, already reported */
} tg_yn_kind;

typedef struct tg_yn tg_yn;

struct tg_yn {
	tg_yn_kind kind;
	tg_suite_loc loc;
	size_t off;		/* byte offset, for the caret */
	bool plain;		/* scalar written without quotes or block style */
	const char *s;		/* scalar text, NUL-terminated */
	size_t len;
	tg_yn **kids;		/* list items, or key, value, key, value, ... */
	size_t n, cap;
};

typedef struct tg_ys {
	const char *path;
	const char *text;
	size_t len;
	FILE *err;
	const char *what;	/* "a suite file", "a gateway configuration": for messages */
	tg_arena *arena;
	unsigned nerrors;
	bool oom;
	/* Messages are collected and printed in source order at the end, so
	 * problems found by the two passes read top to bottom. */
	struct tg_ys_msg {
		size_t off;
		char *text;
	} *msgs;
	size_t nmsgs, capmsgs;
	FILE *buf;		/* the message being written */
	char *bufp;
	size_t buflen;
	/* Character index -> byte offset cursor: marks mostly increase, so
	 * converting from the last position keeps the walk linear. */
	size_t cur_char, cur_byte;
} tg_ys;

typedef enum tg_ys_type {
	TG_YT_STRING,
	TG_YT_INT,
	TG_YT_FLOAT,
	TG_YT_BOOL,
	TG_YT_NULL,
	TG_YT_LIST,
	TG_YT_MAP,
	TG_YT_BAD
} tg_ys_type;

void tg_ys_flush(tg_ys *y);

void tg_ys_error(tg_ys *y, const tg_yn *at, const char *fmt, ...) TG_YS_PRINTF(3, 4);

void tg_ys_error_hint(tg_ys *y, const tg_yn *at, const char *hint, const char *fmt, ...)
	TG_YS_PRINTF(4, 5);

void tg_ys_oom(tg_ys *y);

tg_yn *tg_ys_read_tree(tg_ys *y);

tg_ys_type tg_ys_type_of(const tg_yn *n);

const char *tg_ys_type_name(const tg_yn *n);

json_t *tg_ys_to_json(tg_ys *y, const tg_yn *n);

bool tg_ys_key_is(const tg_yn *k, const char *name);

const tg_yn *tg_ys_get(const tg_yn *map, const char *name);

void tg_ys_check_keys(tg_ys *y, const tg_yn *map, const char *const *allowed,
		      size_t nallowed, const char *where);

const tg_yn *tg_ys_require(tg_ys *y, const tg_yn *map, const char *key, const char *where);

bool tg_ys_want(tg_ys *y, const tg_yn *v, tg_ys_type t, const char *what,
		const char *key);

const char *tg_ys_string(tg_ys *y, const tg_yn *v, const char *what, const char *key);

#define TG_NKEYS(a) (sizeof(a) / sizeof((a)[0]))

#endif
