/*
 * ast.h - the abstract syntax tree of one policy file.
 *
 * The parser (grammar/parser.y) builds it; check.c resolves names and types
 * in place (the fields marked "set by check"); fmt.c prints it back; codegen.c
 * turns the checked tree into bytecode. Every node carries the byte range of
 * the source it came from; line and column are computed only when a
 * diagnostic is printed (diag.c).
 *
 * All memory belongs to the compilation's arena. Arrays are (pointer, count)
 * pairs; strings are decoded (escapes applied) and NUL-terminated, and their
 * length is explicit because policy strings are byte strings.
 */
#ifndef TG_AST_H
#define TG_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Byte offsets [start, end) into the policy source. */
typedef struct tg_span {
	uint32_t start, end;
} tg_span;

/* A name or a decoded string literal with the range it was written at
 * (quotes included for a string). */
typedef struct tg_name {
	const char *s;
	size_t len;
	tg_span span;
} tg_name;

typedef enum tg_effect { TG_EFFECT_DENY = 0, TG_EFFECT_ALLOW = 1 } tg_effect;

/* Static types. ANY is the type of an undeclared attribute: its value is
 * checked when read, at run time. EMPTY_LIST is the type of `[]`. */
typedef enum tg_type {
	TG_TY_ERROR = 0,
	TG_TY_ANY,
	TG_TY_STRING,
	TG_TY_INT,
	TG_TY_BOOL,
	TG_TY_STRING_LIST,
	TG_TY_INT_LIST,
	TG_TY_EMPTY_LIST
} tg_type;

typedef enum tg_root {
	TG_ROOT_PRINCIPAL,
	TG_ROOT_TOKEN,
	TG_ROOT_CONTEXT,
	TG_ROOT_ARGS,
	TG_ROOT_TOOL,
	TG_ROOT_RESOURCE,
	TG_ROOT_PROMPT,
	TG_ROOT_REQUEST
} tg_root;

struct tg_attr;

/* principal.tenant, args.options.force, args["content-type"], or a bare root
 * (only on the left of `has` and `is`). */
typedef struct tg_path {
	tg_root root;
	tg_span span;		/* the whole path */
	tg_name *fields;
	size_t nfields;
	struct tg_attr *attr;	/* set by check: what the path reads */
} tg_path;

typedef enum tg_cmp_op {
	TG_CMP_EQ,
	TG_CMP_NE,
	TG_CMP_LT,
	TG_CMP_LE,
	TG_CMP_GT,
	TG_CMP_GE,
	TG_CMP_IN,
	TG_CMP_CONTAINS,
	TG_CMP_LIKE,
	TG_CMP_STARTS_WITH,
	TG_CMP_ENDS_WITH,
	TG_CMP_UNDER,
	TG_CMP_MATCHES	/* the right side is a regular expression literal */
} tg_cmp_op;

typedef enum tg_expr_kind {
	TG_E_OR,	/* u.bin */
	TG_E_AND,	/* u.bin */
	TG_E_NOT,	/* u.operand */
	TG_E_PAREN,	/* u.operand: kept so fmt prints what was written */
	TG_E_CMP,	/* u.cmp */
	TG_E_ADD,	/* u.bin */
	TG_E_SUB,	/* u.bin */
	TG_E_HAS,	/* u.has */
	TG_E_IS,	/* u.is */
	TG_E_QUANT,	/* u.quant: all/any L OP V */
	TG_E_PATH,	/* u.path */
	TG_E_STRING,	/* u.str */
	TG_E_INT,	/* u.i */
	TG_E_BOOL,	/* u.b */
	TG_E_LIST,	/* u.list */
	TG_E_SET	/* u.set: a declared set used as a value */
} tg_expr_kind;

typedef struct tg_expr tg_expr;

struct tg_expr {
	tg_expr_kind kind;
	tg_span span;
	tg_type type;		/* set by check */
	/* set by check on the string right of `matches`: its DFA, in the
	 * arena, for the code generator and the linter */
	const struct tg_re_dfa *dfa;
	union {
		struct {
			tg_expr *lhs, *rhs;
		} bin;
		tg_expr *operand;
		struct {
			tg_cmp_op op;
			tg_span op_span;
			tg_expr *lhs, *rhs;
		} cmp;
		struct {
			/* `X has NAME`: base is X, the full path read is
			 * base + field. */
			tg_path base;
			tg_name field;
			struct tg_attr *attr;	/* set by check */
		} has;
		struct {
			tg_span principal_span;
			tg_name role;
			int role_index;	/* set by check */
		} is;
		struct {
			bool all;	/* all vs any */
			/* `all/any value of P OP V`: list is the path P (a
			 * TG_E_PATH, maybe a bare root, never bound to a slot)
			 * and OP applies to every leaf under it */
			bool values;
			tg_expr *list;
			tg_cmp_op op;
			tg_span op_span;
			tg_expr *value;
		} quant;
		tg_path path;
		tg_name str;
		int64_t i;
		bool b;
		struct {
			tg_expr **items;
			size_t n;
		} list;
		struct {
			tg_name name;
			struct tg_set_decl *decl;	/* set by check */
			/* set by check: the list literal it stands for (a
			 * TG_E_LIST of TG_E_STRING items spanning the name),
			 * which every later stage uses in its place */
			tg_expr *list;
		} set;
	} u;
};

typedef enum tg_subject_kind {
	TG_SUBJ_ANYONE,
	TG_SUBJ_ROLE,
	TG_SUBJ_SCOPE,
	TG_SUBJ_PRINCIPAL,
	TG_SUBJ_CLIENT
} tg_subject_kind;

typedef struct tg_subject {
	tg_subject_kind kind;
	tg_span span;
	tg_name *items;		/* role names, scopes, principal ids, client ids */
	size_t n;
	int *role_index;	/* set by check, for TG_SUBJ_ROLE: n entries */
} tg_subject;

typedef enum tg_action_kind {
	TG_ACT_CALL_TOOL,	/* call tool P, ... | call any tool */
	TG_ACT_READ_RESOURCE,	/* read resource P, ... | read any resource */
	TG_ACT_GET_PROMPT,	/* get prompt P, ... | get any prompt */
	TG_ACT_LIST_TOOLS,
	TG_ACT_LIST_RESOURCES,
	TG_ACT_LIST_PROMPTS,
	TG_ACT_LIST_RESOURCE_TEMPLATES,
	TG_ACT_INVOKE,		/* invoke "METHOD", ... (patterns are globs) */
	TG_ACT_ANYTHING		/* do anything */
} tg_action_kind;

struct tg_set_decl;

/* One target pattern: a quoted glob, or the name of a set. */
typedef struct tg_pattern {
	bool is_set;
	tg_name text;			/* the glob, or the set's name */
	struct tg_set_decl *set;	/* set by check when is_set */
} tg_pattern;

typedef struct tg_action {
	tg_action_kind kind;
	tg_span span;
	bool any;		/* call any tool / read any resource / get any prompt */
	tg_pattern *items;
	size_t n;
} tg_action;

typedef struct tg_rule {
	bool has_id;
	tg_name id;
	tg_effect effect;
	tg_span effect_span;	/* the allow/deny keyword */
	tg_subject subject;
	tg_action action;
	tg_expr **when;
	size_t nwhen;
	tg_expr **unless;
	size_t nunless;
	bool has_because;
	tg_name because;
	tg_span span;		/* the whole statement, `;` included */
	const char *display_id;	/* set by check: the id, or FILE:LINE[:COL] */
	uint32_t index;		/* position among the rules, from 0 */
} tg_rule;

typedef struct tg_role_decl {
	tg_name name;
	tg_name *parents;
	size_t nparents;
	tg_span span;
	int index;		/* set by check: position among roles */
	int *parent_index;	/* set by check: nparents entries */
} tg_role_decl;

typedef struct tg_set_decl {
	tg_name name;
	tg_name *items;		/* glob strings */
	size_t n;
	tg_span span;
	bool used;		/* set by check */
} tg_set_decl;

typedef struct tg_attr_decl {
	tg_path path;
	tg_type type;
	tg_span type_span;
	bool has_domain;
	tg_expr **domain;	/* literals of the declared type */
	size_t ndomain;
	tg_span span;
	struct tg_attr *attr;	/* set by check */
} tg_attr_decl;

/*
 * An attribute the policy reads (set by check): one per distinct path, in
 * order of first appearance. Declared attributes carry their type and domain;
 * built-ins (principal.id, tool.destructive, ...) their fixed type; an
 * undeclared path has type ANY. The runtime addresses request values by
 * `slot`.
 */
typedef struct tg_attr {
	tg_root root;
	tg_name *fields;
	size_t nfields;
	const char *display;	/* "args.options.force", `args["content-type"]` */
	tg_type type;
	bool builtin;
	tg_attr_decl *decl;	/* NULL when undeclared or built-in */
	bool used;
	int slot;
} tg_attr;

typedef enum tg_stmt_kind {
	TG_STMT_POLICY,
	TG_STMT_DEFAULT,
	TG_STMT_ROLE,
	TG_STMT_SET,
	TG_STMT_ATTRIBUTE,
	TG_STMT_RULE
} tg_stmt_kind;

typedef struct tg_stmt {
	tg_stmt_kind kind;
	tg_span span;		/* first token to the `;`, inclusive */
	union {
		struct {
			tg_name name;
			bool has_version;
			tg_name version;
		} policy;
		tg_effect default_effect;
		tg_role_decl *role;
		tg_set_decl *set;
		tg_attr_decl *attr;
		tg_rule *rule;
	} u;
} tg_stmt;

/* A `#` or `//` comment, text without the line break. */
typedef struct tg_comment {
	tg_span span;
} tg_comment;

typedef struct tg_ast {
	const char *path;	/* as given on the command line */
	const char *base;	/* base name, used in rule names FILE:LINE */
	const char *src;
	size_t len;

	tg_stmt *stmts;		/* every statement, in source order */
	size_t nstmts;
	tg_comment *comments;	/* in source order */
	size_t ncomments;

	/* Convenience views over stmts, in source order (filled by the
	 * parser). */
	tg_rule **rules;
	size_t nrules;
	tg_role_decl **roles;
	size_t nroles;
	tg_set_decl **sets;
	size_t nsets;
	tg_attr_decl **attr_decls;
	size_t nattr_decls;
	const tg_stmt *policy_stmt;	/* NULL when absent */
	const tg_stmt *default_stmt;	/* NULL when absent */

	/* Set by check. */
	tg_attr **attrs;
	size_t nattrs;
	uint8_t *role_closure;	/* nroles x nroles: [r * nroles + a] = 1
				 * when role r holds role a (r itself
				 * included) */
} tg_ast;

#endif
