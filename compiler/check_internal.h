/*
 * check_internal.h - state shared by the semantic checker's files.
 *
 * check.c drives the passes and owns the helpers below; resolve.c binds
 * names (roles, sets, attributes) to declarations; types.c types
 * expressions and validates literals (globs, `under` directories, domains).
 * Nothing here is visible outside the checker.
 */
#ifndef TG_CHECK_INTERNAL_H
#define TG_CHECK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stages.h"

/* Open-addressing map from a byte string to an int, in the arena. Keys are
 * not copied: they must live as long as the map (AST names, arena strings). */
typedef struct tg_check_slot {
	const char *key;	/* NULL: empty slot */
	size_t len;
	int value;
} tg_check_slot;

typedef struct tg_check_map {
	tg_check_slot *slots;
	size_t cap, n;
} tg_check_map;

typedef struct tg_checker {
	tg_ast *ast;
	tg_diags *diags;
	tg_arena *arena;
	bool oom;

	tg_check_map roles;	/* name -> index of its first declaration */
	const char **role_names;	/* distinct, for "did you mean" */
	size_t nrole_names;
	tg_check_map sets;	/* name -> index into ast->sets */
	const char **set_names;
	size_t nset_names;
	tg_check_map decls;	/* display path -> index into ast->attr_decls */
	tg_check_map attrs;	/* display path -> index into ast->attrs */
	size_t attrs_cap;

	char *buf;		/* scratch for display paths */
	size_t buflen, bufcap;
} tg_checker;

/* check.c */
int tg_check_map_get(const tg_check_map *m, const char *key, size_t len);
bool tg_check_map_put(tg_checker *c, tg_check_map *m, const char *key, size_t len, int value);
void tg_check_nomem(tg_checker *c);
void *tg_check_alloc(tg_checker *c, size_t size);
/* A user string made safe to quote in a message (control bytes escaped). */
const char *tg_check_show(tg_checker *c, const char *s, size_t len);
unsigned tg_check_line(const tg_checker *c, uint32_t offset);
/* Adds "did you mean 'X'?" when a candidate is close; returns whether it did. */
bool tg_check_suggest(tg_checker *c, tg_diag *d, const char *name, size_t len,
		      const char *const *candidates, size_t n);
const char *tg_check_type_name(tg_type t);

/* resolve.c */
void tg_check_roles(tg_checker *c);
void tg_check_sets(tg_checker *c);
void tg_check_attr_decls(tg_checker *c);
void tg_check_attr_decl_bind(tg_checker *c, tg_attr_decl *d);
int tg_check_role_ref(tg_checker *c, const tg_name *name);
void tg_check_subject(tg_checker *c, tg_subject *s);
void tg_check_action(tg_checker *c, tg_action *a);
/* The attribute read by root.fields[.extra], created on first sight; NULL
 * (after an error) when the path cannot exist. */
tg_attr *tg_check_attr_ref(tg_checker *c, tg_root root, const tg_name *fields, size_t nfields,
			   const tg_name *extra, tg_span span);
const char *tg_check_root_name(tg_root r);
/* The declaration of exactly root.fields, or NULL; creates nothing. */
tg_attr_decl *tg_check_attr_declared(tg_checker *c, tg_root root, const tg_name *fields,
				     size_t nfields);

/* types.c */
void tg_check_rule_exprs(tg_checker *c, tg_rule *r);
void tg_check_domain(tg_checker *c, tg_attr_decl *d, const char *display);
bool tg_check_glob(tg_checker *c, const tg_name *glob, const char *what);
/* check_regex.c: the pattern of `matches` (a string literal) compiles, and
 * its DFA is kept in lit->dfa; otherwise reports why, at the byte of the
 * source where it goes wrong. */
bool tg_check_regex(tg_checker *c, tg_expr *lit);

#endif
