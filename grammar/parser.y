/*
 * parser.y - the grammar of toolgate policies (Bison, pure, LALR(1)).
 *
 * The parser builds the AST of compiler/ast.h directly; it checks syntax
 * only (names and types are check.c's business), so statements may come in
 * any order. Locations are byte ranges (tg_span); line and column are
 * computed only when a diagnostic is printed.
 *
 * Error handling. The lexer reports its own errors and then hands the parser
 * a LEXERR token, which no rule accepts: the parser reports nothing for it
 * and recovers like for any syntax error. Recovery is at the next `;` (the
 * `stmts error ';'` rule), or at the next statement keyword that starts a
 * line, before which the lexer, told by yyreport_syntax_error that recovery
 * is under way, puts a RESYNC token (`stmts error RESYNC`); so a missing `;`
 * or an unterminated string does not swallow the following statement, and
 * one run reports every independent error.
 * Syntax errors are worded by yyreport_syntax_error (below) from the expected-token
 * set computed with LAC, which is exact, plus a little context the lexer
 * keeps (the statement being parsed, the open brackets).
 *
 * Expression precedence is spelled out as one nonterminal per level rather
 * than with %left/%prec, so `a == b == c` is simply not derivable and the
 * grammar stays conflict-free (%expect 0).
 */
%define api.pure full
%define api.prefix {tg_yy}
%define api.token.prefix {TK_}
%define api.location.type {tg_span}
%define parse.error custom
%define parse.lac full
%locations
%param {tg_parser *p}
%expect 0

%code requires {
#include <stdbool.h>
#include <stdint.h>

#include "ast.h"

typedef struct tg_parser tg_parser;

/* Semantic values that are built over several reductions. */
typedef struct tg_parse_list {
	void *items;
	size_t n, cap;
	tg_span span;
} tg_parse_list;

typedef struct tg_parse_clauses {
	tg_parse_list when, unless;
} tg_parse_clauses;
}

%code {
#include <string.h>

#include "lex.h"

static void tg_yyerror(const TG_YYLTYPE *loc, tg_parser *p, const char *msg);

#define YYLLOC_DEFAULT(Cur, Rhs, N)					\
	do {								\
		if (N) {						\
			(Cur).start = YYRHSLOC(Rhs, 1).start;		\
			(Cur).end = YYRHSLOC(Rhs, N).end;		\
		} else {						\
			(Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end;	\
		}							\
	} while (0)

/* Out of memory in an action: stop the parse (tg_parse returns NULL). */
#define NEED(x)			\
	do {			\
		if (!(x))	\
			YYNOMEM;\
	} while (0)

static int list_push(tg_parser *p, tg_parse_list *l, const void *elem, size_t size)
{
	tg_parse_vec v = {l->items, l->n, l->cap};
	if (tg_parse_push(p, &v, elem, size) < 0)
		return -1;
	l->items = v.items;
	l->n = v.n;
	l->cap = v.cap;
	return 0;
}

static tg_expr *binary(tg_parser *p, tg_expr_kind kind, tg_span span, tg_expr *l, tg_expr *r)
{
	tg_expr *e = tg_parse_expr(p, kind, span);
	if (e) {
		e->u.bin.lhs = l;
		e->u.bin.rhs = r;
	}
	return e;
}

static tg_expr *unary(tg_parser *p, tg_expr_kind kind, tg_span span, tg_expr *x)
{
	tg_expr *e = tg_parse_expr(p, kind, span);
	if (e)
		e->u.operand = x;
	return e;
}

static tg_expr *compare(tg_parser *p, tg_span span, tg_expr *l, tg_cmp_op op, tg_span op_span,
			tg_expr *r)
{
	tg_expr *e = tg_parse_expr(p, TG_E_CMP, span);
	if (e) {
		e->u.cmp.op = op;
		e->u.cmp.op_span = op_span;
		e->u.cmp.lhs = l;
		e->u.cmp.rhs = r;
	}
	return e;
}

static tg_expr *quant(tg_parser *p, tg_span span, bool all, tg_expr *l, tg_cmp_op op,
		      tg_span op_span, tg_expr *r)
{
	tg_expr *e = tg_parse_expr(p, TG_E_QUANT, span);
	if (e) {
		e->u.quant.all = all;
		e->u.quant.list = l;
		e->u.quant.op = op;
		e->u.quant.op_span = op_span;
		e->u.quant.value = r;
	}
	return e;
}

static tg_expr *has(tg_parser *p, tg_span span, tg_path base, tg_name field)
{
	tg_expr *e = tg_parse_expr(p, TG_E_HAS, span);
	if (e) {
		e->u.has.base = base;
		e->u.has.field = field;
	}
	return e;
}

static tg_path path_of(tg_parse_list *fields, tg_root root, tg_span span)
{
	tg_path path = {0};
	path.root = root;
	path.span = span;
	path.fields = fields ? fields->items : NULL;
	path.nfields = fields ? fields->n : 0;
	return path;
}

static tg_stmt *rule_stmt(tg_parser *p, tg_span span, const tg_name *id, tg_effect effect,
			  tg_span effect_span, const tg_subject *subject, const tg_action *action,
			  const tg_parse_clauses *cl, const tg_name *because)
{
	tg_rule *r = tg_parse_new(p, sizeof *r);
	tg_stmt *s = r ? tg_parse_stmt(p, TG_STMT_RULE, span) : NULL;
	if (!s)
		return NULL;
	if (id) {
		r->has_id = true;
		r->id = *id;
	}
	r->effect = effect;
	r->effect_span = effect_span;
	r->subject = *subject;
	r->action = *action;
	r->when = cl->when.items;
	r->nwhen = cl->when.n;
	r->unless = cl->unless.items;
	r->nunless = cl->unless.n;
	if (because) {
		r->has_because = true;
		r->because = *because;
	}
	r->span = span;
	s->u.rule = r;
	return s;
}

static tg_action action_of(tg_action_kind kind, tg_span span, bool any, tg_parse_list *items)
{
	tg_action a = {0};
	a.kind = kind;
	a.span = span;
	a.any = any;
	if (items) {
		a.items = items->items;
		a.n = items->n;
	}
	return a;
}

static tg_subject subject_of(tg_subject_kind kind, tg_span span, tg_parse_list *items)
{
	tg_subject s = {0};
	s.kind = kind;
	s.span = span;
	if (items) {
		s.items = items->items;
		s.n = items->n;
	}
	return s;
}

static const char *root_word(tg_root r)
{
	static const char *const words[] = {
		"principal", "token", "context", "args", "tool", "resource", "prompt", "request",
	};
	return words[r];
}
}

%union {
	tg_name name;
	int64_t i;
	bool b;
	tg_effect effect;
	tg_cmp_op op;
	tg_root root;
	tg_type type;
	tg_expr *expr;
	tg_parse_list list;
	tg_subject subject;
	tg_action action;
	tg_parse_clauses clauses;
	tg_pattern pattern;
}

/* Lexical errors (already reported by the lexer). */
%token LEXERR "invalid input"
/* The end of a broken statement, before the keyword of the next one; only
 * the error rule accepts it, so no syntax error message ever names it. */
%token RESYNC "(resynchronisation)"

%token <name> IDENT "name"
/* `value` right after all/any (lexer.re): `all value of args ...`, or the
 * set `value`. */
%token <name> VALUE "value"
%token <name> STRING "string literal"
%token <i> INT "integer"

%token
	POLICY "policy" VERSION "version" ATTRIBUTE "attribute" ROLE "role" SET "set"
	DEFAULT "default" RULE "rule" ALLOW "allow" DENY "deny" TO "to" WHEN "when"
	UNLESS "unless" BECAUSE "because" ANYONE "anyone" SCOPE "scope"
	PRINCIPAL "principal" CLIENT "client" CALL "call" READ "read" GET "get"
	LIST "list" INVOKE "invoke" DO "do" ANYTHING "anything" ANY "any" ALL "all"
	TOOL "tool" TOOLS "tools" RESOURCE "resource" RESOURCES "resources"
	PROMPT "prompt" PROMPTS "prompts" RESOURCE_TEMPLATES "resource_templates"
	AND "and" OR "or" NOT "not" IN "in" CONTAINS "contains" LIKE "like"
	STARTS_WITH "starts_with" ENDS_WITH "ends_with" UNDER "under" HAS "has"
	IS "is" TRUE "true" FALSE "false" STRING_T "string" INT_T "int" BOOL_T "bool"
	TOKEN "token" CONTEXT "context" ARGS "args" REQUEST "request"
	MATCHES "matches" OF "of"

%token
	EQ "==" NE "!=" LT "<" LE "<=" GT ">" GE ">=" PLUS "+" MINUS "-"
	DOT "." COMMA "," COLON ":" SEMI ";" LPAREN "(" RPAREN ")"
	LBRACKET "[" RBRACKET "]" ASSIGN "="

%type <effect> effect
%type <name> role_name field key rule_id_opt because_opt
%type <list> role_names strings strings_opt patterns literals literals_opt items fields
%type <pattern> pattern
%type <subject> subject
%type <action> action
%type <clauses> clauses
%type <expr> expr and_expr not_expr cmp_expr sum term literal list values_subject
%type <op> cmp_op
%type <root> root
%type <type> type

%%

file:
	  stmts
	;

stmts:
	  %empty
	| stmts stmt
	| stmts error ";"		{ yyerrok; p->lex.recovering = false; }
	| stmts error RESYNC		{ yyerrok; p->lex.recovering = false; }
	;

stmt:
	  POLICY STRING ";"
		{
			tg_stmt *s = tg_parse_stmt(p, TG_STMT_POLICY, @$);
			NEED(s);
			s->u.policy.name = $2;
		}
	| POLICY STRING VERSION STRING ";"
		{
			tg_stmt *s = tg_parse_stmt(p, TG_STMT_POLICY, @$);
			NEED(s);
			s->u.policy.name = $2;
			s->u.policy.has_version = true;
			s->u.policy.version = $4;
		}
	| DEFAULT effect ";"
		{
			tg_stmt *s = tg_parse_stmt(p, TG_STMT_DEFAULT, @$);
			NEED(s);
			s->u.default_effect = $2;
		}
	| ROLE role_name ";"
		{
			tg_role_decl *r = tg_parse_new(p, sizeof *r);
			tg_stmt *s = r ? tg_parse_stmt(p, TG_STMT_ROLE, @$) : NULL;
			NEED(s);
			r->name = $2;
			r->span = @$;
			s->u.role = r;
		}
	| ROLE role_name ":" role_names ";"
		{
			tg_role_decl *r = tg_parse_new(p, sizeof *r);
			tg_stmt *s = r ? tg_parse_stmt(p, TG_STMT_ROLE, @$) : NULL;
			NEED(s);
			r->name = $2;
			r->parents = $4.items;
			r->nparents = $4.n;
			r->span = @$;
			s->u.role = r;
		}
	| SET IDENT "=" "[" strings_opt "]" ";"
		{
			tg_set_decl *d = tg_parse_new(p, sizeof *d);
			tg_stmt *s = d ? tg_parse_stmt(p, TG_STMT_SET, @$) : NULL;
			NEED(s);
			d->name = $2;
			d->items = $5.items;
			d->n = $5.n;
			d->span = @$;
			s->u.set = d;
		}
	| ATTRIBUTE root fields ":" type ";"
		{
			tg_attr_decl *d = tg_parse_new(p, sizeof *d);
			tg_stmt *s = d ? tg_parse_stmt(p, TG_STMT_ATTRIBUTE, @$) : NULL;
			NEED(s);
			d->path = path_of(&$3, $2, (tg_span){@2.start, @3.end});
			d->type = $5;
			d->type_span = @5;
			d->span = @$;
			s->u.attr = d;
		}
	| ATTRIBUTE root fields ":" type IN "[" literals_opt "]" ";"
		{
			tg_attr_decl *d = tg_parse_new(p, sizeof *d);
			tg_stmt *s = d ? tg_parse_stmt(p, TG_STMT_ATTRIBUTE, @$) : NULL;
			NEED(s);
			d->path = path_of(&$3, $2, (tg_span){@2.start, @3.end});
			d->type = $5;
			d->type_span = @5;
			d->has_domain = true;
			d->domain = $8.items;
			d->ndomain = $8.n;
			d->span = @$;
			s->u.attr = d;
		}
	| rule_id_opt effect subject "to" action clauses because_opt ";"
		{
			/* An empty rule_id_opt has an empty span (at the end of
			 * the previous statement): the rule starts at its effect. */
			bool named = @1.start != @1.end;
			tg_span span = {named ? @1.start : @2.start, @$.end};
			NEED(rule_stmt(p, span, named ? &$1 : NULL, $2, @2, &$3, &$5, &$6,
				       @7.start != @7.end ? &$7 : NULL));
		}
	;

rule_id_opt:
	  %empty			{ memset(&$$, 0, sizeof $$); }
	| "rule" STRING ":"		{ $$ = $2; }
	;

because_opt:
	  %empty			{ memset(&$$, 0, sizeof $$); }
	| "because" STRING		{ $$ = $2; }
	;

effect:
	  "allow"			{ $$ = TG_EFFECT_ALLOW; }
	| "deny"			{ $$ = TG_EFFECT_DENY; }
	;

role_name:
	  IDENT
	| STRING
	;

role_names:
	  role_name			{ $$ = (tg_parse_list){0}; NEED(list_push(p, &$$, &$1, sizeof $1) == 0); }
	| role_names "," role_name	{ $$ = $1; NEED(list_push(p, &$$, &$3, sizeof $3) == 0); }
	;

strings:
	  STRING			{ $$ = (tg_parse_list){0}; NEED(list_push(p, &$$, &$1, sizeof $1) == 0); }
	| strings "," STRING		{ $$ = $1; NEED(list_push(p, &$$, &$3, sizeof $3) == 0); }
	;

strings_opt:
	  %empty			{ $$ = (tg_parse_list){0}; }
	| strings
	;

type:
	  "string"			{ $$ = TG_TY_STRING; }
	| "int"				{ $$ = TG_TY_INT; }
	| "bool"			{ $$ = TG_TY_BOOL; }
	| "list" "<" "string" ">"	{ $$ = TG_TY_STRING_LIST; }
	| "list" "<" "int" ">"		{ $$ = TG_TY_INT_LIST; }
	;

literals:
	  literal			{ $$ = (tg_parse_list){0}; NEED(list_push(p, &$$, &$1, sizeof $1) == 0); }
	| literals "," literal		{ $$ = $1; NEED(list_push(p, &$$, &$3, sizeof $3) == 0); }
	;

literals_opt:
	  %empty			{ $$ = (tg_parse_list){0}; }
	| literals
	;

literal:
	  STRING			{ NEED($$ = tg_parse_expr(p, TG_E_STRING, @$)); $$->u.str = $1; }
	| INT				{ NEED($$ = tg_parse_expr(p, TG_E_INT, @$)); $$->u.i = $1; }
	| "true"			{ NEED($$ = tg_parse_expr(p, TG_E_BOOL, @$)); $$->u.b = true; }
	| "false"			{ NEED($$ = tg_parse_expr(p, TG_E_BOOL, @$)); $$->u.b = false; }
	;

subject:
	  "anyone"			{ $$ = subject_of(TG_SUBJ_ANYONE, @$, NULL); }
	| "role" role_names		{ $$ = subject_of(TG_SUBJ_ROLE, @$, &$2); }
	| "scope" strings		{ $$ = subject_of(TG_SUBJ_SCOPE, @$, &$2); }
	| "principal" strings		{ $$ = subject_of(TG_SUBJ_PRINCIPAL, @$, &$2); }
	| "client" strings		{ $$ = subject_of(TG_SUBJ_CLIENT, @$, &$2); }
	;

action:
	  "call" "tool" patterns	{ $$ = action_of(TG_ACT_CALL_TOOL, @$, false, &$3); }
	| "call" "any" "tool"		{ $$ = action_of(TG_ACT_CALL_TOOL, @$, true, NULL); }
	| "read" "resource" patterns	{ $$ = action_of(TG_ACT_READ_RESOURCE, @$, false, &$3); }
	| "read" "any" "resource"	{ $$ = action_of(TG_ACT_READ_RESOURCE, @$, true, NULL); }
	| "get" "prompt" patterns	{ $$ = action_of(TG_ACT_GET_PROMPT, @$, false, &$3); }
	| "get" "any" "prompt"		{ $$ = action_of(TG_ACT_GET_PROMPT, @$, true, NULL); }
	| "list" "tools"		{ $$ = action_of(TG_ACT_LIST_TOOLS, @$, false, NULL); }
	| "list" "resources"		{ $$ = action_of(TG_ACT_LIST_RESOURCES, @$, false, NULL); }
	| "list" "prompts"		{ $$ = action_of(TG_ACT_LIST_PROMPTS, @$, false, NULL); }
	| "list" "resource_templates"	{ $$ = action_of(TG_ACT_LIST_RESOURCE_TEMPLATES, @$, false, NULL); }
	| "invoke" patterns
		{
			/* Only quoted method globs: a set is a list of tool or
			 * resource names, not methods. */
			for (size_t k = 0; k < $2.n; k++) {
				tg_pattern *pt = &((tg_pattern *)$2.items)[k];
				if (pt->is_set)
					tg_error(p->diags, pt->text.span,
						 "'invoke' takes quoted method names, found '%s'",
						 pt->text.s);
			}
			$$ = action_of(TG_ACT_INVOKE, @$, false, &$2);
		}
	| "do" "anything"		{ $$ = action_of(TG_ACT_ANYTHING, @$, false, NULL); }
	;

patterns:
	  pattern			{ $$ = (tg_parse_list){0}; NEED(list_push(p, &$$, &$1, sizeof $1) == 0); }
	| patterns "," pattern		{ $$ = $1; NEED(list_push(p, &$$, &$3, sizeof $3) == 0); }
	;

pattern:
	  STRING			{ $$ = (tg_pattern){.is_set = false, .text = $1}; }
	| IDENT				{ $$ = (tg_pattern){.is_set = true, .text = $1}; }
	;

clauses:
	  %empty			{ memset(&$$, 0, sizeof $$); }
	| clauses "when" expr
		{
			$$ = $1;
			if ($$.unless.n > 0) {
				tg_diag *d = tg_error(p->diags, @2, "'when' after 'unless'");
				tg_diag_hint(p->diags, d,
					     "every 'when' must come before the first 'unless'");
			}
			NEED(list_push(p, &$$.when, &$3, sizeof $3) == 0);
		}
	| clauses "unless" expr
		{
			$$ = $1;
			NEED(list_push(p, &$$.unless, &$3, sizeof $3) == 0);
		}
	;

/* ---- expressions, lowest precedence first ---- */

expr:
	  expr "or" and_expr		{ NEED($$ = binary(p, TG_E_OR, @$, $1, $3)); }
	| and_expr
	;

and_expr:
	  and_expr "and" not_expr	{ NEED($$ = binary(p, TG_E_AND, @$, $1, $3)); }
	| not_expr
	;

not_expr:
	  "not" not_expr		{ NEED($$ = unary(p, TG_E_NOT, @$, $2)); }
	| cmp_expr
	;

cmp_expr:
	  sum
	| sum cmp_op sum		{ NEED($$ = compare(p, @$, $1, $2, @2, $3)); }
	| "all" sum cmp_op sum		{ NEED($$ = quant(p, @$, true, $2, $3, @3, $4)); }
	| "any" sum cmp_op sum		{ NEED($$ = quant(p, @$, false, $2, $3, @3, $4)); }
	| "all" "value" "of" values_subject cmp_op sum
		{
			NEED($$ = quant(p, @$, true, $4, $5, @5, $6));
			$$->u.quant.values = true;
		}
	| "any" "value" "of" values_subject cmp_op sum
		{
			NEED($$ = quant(p, @$, false, $4, $5, @5, $6));
			$$->u.quant.values = true;
		}
	| root fields "has" key
		{
			NEED($$ = has(p, @$, path_of(&$2, $1, (tg_span){@1.start, @2.end}), $4));
		}
	| root "has" key		{ NEED($$ = has(p, @$, path_of(NULL, $1, @1), $3)); }
	| "principal" "is" role_name
		{
			NEED($$ = tg_parse_expr(p, TG_E_IS, @$));
			$$->u.is.principal_span = @1;
			$$->u.is.role = $3;
			$$->u.is.role_index = -1;
		}
	;

cmp_op:
	  "=="				{ $$ = TG_CMP_EQ; }
	| "!="				{ $$ = TG_CMP_NE; }
	| "<"				{ $$ = TG_CMP_LT; }
	| "<="				{ $$ = TG_CMP_LE; }
	| ">"				{ $$ = TG_CMP_GT; }
	| ">="				{ $$ = TG_CMP_GE; }
	| "in"				{ $$ = TG_CMP_IN; }
	| "contains"			{ $$ = TG_CMP_CONTAINS; }
	| "like"			{ $$ = TG_CMP_LIKE; }
	| "matches"			{ $$ = TG_CMP_MATCHES; }
	| "starts_with"			{ $$ = TG_CMP_STARTS_WITH; }
	| "ends_with"			{ $$ = TG_CMP_ENDS_WITH; }
	| "under"			{ $$ = TG_CMP_UNDER; }
	;

sum:
	  sum "+" term			{ NEED($$ = binary(p, TG_E_ADD, @$, $1, $3)); }
	| sum "-" term			{ NEED($$ = binary(p, TG_E_SUB, @$, $1, $3)); }
	| term
	;

term:
	  root fields
		{
			NEED($$ = tg_parse_expr(p, TG_E_PATH, @$));
			$$->u.path = path_of(&$2, $1, @$);
		}
	| root
		{
			tg_diag *d = tg_error(p->diags, @1, "expected a field after '%s'",
					      root_word($1));
			tg_diag_hint(p->diags, d, "write '%s.NAME'; a bare '%s' is only allowed "
				     "before 'has'%s", root_word($1), root_word($1),
				     $1 == TG_ROOT_PRINCIPAL ? " and 'is'" : "");
			NEED($$ = tg_parse_expr(p, TG_E_PATH, @$));
			$$->u.path = path_of(NULL, $1, @$);
		}
	| IDENT
		{
			NEED($$ = tg_parse_expr(p, TG_E_SET, @$));
			$$->u.set.name = $1;
		}
	| "value"
		{
			/* a set named `value` after all/any, with no `of` */
			NEED($$ = tg_parse_expr(p, TG_E_SET, @$));
			$$->u.set.name = $1;
		}
	| literal
	| list
	| "(" expr ")"			{ NEED($$ = unary(p, TG_E_PAREN, @$, $2)); }
	;

/* What `value of` ranges over: a root and its fields, the root alone
 * included (`args`); the checker admits only args. */
values_subject:
	  root fields
		{
			NEED($$ = tg_parse_expr(p, TG_E_PATH, @$));
			$$->u.path = path_of(&$2, $1, @$);
		}
	| root
		{
			NEED($$ = tg_parse_expr(p, TG_E_PATH, @$));
			$$->u.path = path_of(NULL, $1, @$);
		}
	;

list:
	  "[" "]"
		{
			NEED($$ = tg_parse_expr(p, TG_E_LIST, @$));
		}
	| "[" items "]"
		{
			NEED($$ = tg_parse_expr(p, TG_E_LIST, @$));
			$$->u.list.items = $2.items;
			$$->u.list.n = $2.n;
		}
	;

items:
	  sum				{ $$ = (tg_parse_list){0}; NEED(list_push(p, &$$, &$1, sizeof $1) == 0); }
	| items "," sum			{ $$ = $1; NEED(list_push(p, &$$, &$3, sizeof $3) == 0); }
	;

root:
	  "principal"			{ $$ = TG_ROOT_PRINCIPAL; }
	| "token"			{ $$ = TG_ROOT_TOKEN; }
	| "context"			{ $$ = TG_ROOT_CONTEXT; }
	| "args"			{ $$ = TG_ROOT_ARGS; }
	| "tool"			{ $$ = TG_ROOT_TOOL; }
	| "resource"			{ $$ = TG_ROOT_RESOURCE; }
	| "prompt"			{ $$ = TG_ROOT_PROMPT; }
	| "request"			{ $$ = TG_ROOT_REQUEST; }
	;

fields:
	  field				{ $$ = (tg_parse_list){0}; NEED(list_push(p, &$$, &$1, sizeof $1) == 0); }
	| fields field			{ $$ = $1; NEED(list_push(p, &$$, &$2, sizeof $2) == 0); }
	;

field:
	  "." IDENT			{ $$ = $2; }
	| "[" STRING "]"		{ $$ = $2; }
	;

key:
	  IDENT
	| STRING
	;

%%

/* ---- syntax error messages ---- */

/* How a grammar symbol is named in "expected ..." lists. */
static const char *symbol_text(yysymbol_kind_t k, char *buf, size_t size)
{
	switch (k) {
	case YYSYMBOL_YYEOF:
		return "end of file";
	case YYSYMBOL_IDENT:
		return "a name";
	case YYSYMBOL_STRING:
		return "a string";
	case YYSYMBOL_INT:
		return "an integer";
	default:
		break;
	}
	snprintf(buf, size, "'%s'", yysymbol_name(k));
	return buf;
}

/* How the token that was found is named: its source text, shortened. */
static const char *found_text(tg_parser *p, yysymbol_kind_t k, tg_span at, char *buf, size_t size)
{
	if (k == YYSYMBOL_YYEOF)
		return "end of file";
	const char *s = p->lex.src + at.start;
	size_t n = at.end - at.start, max = 32;
	char text[48];
	size_t o = 0;
	for (size_t i = 0; i < n && i < max; i++)
		text[o++] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
	text[o] = '\0';
	const char *more = n > max ? "..." : "";
	if (k == YYSYMBOL_STRING)
		snprintf(buf, size, "a string %s%s", text, more);
	else
		snprintf(buf, size, "'%s%s'", text, more);
	return buf;
}

static bool is_comparison(yysymbol_kind_t k)
{
	switch (k) {
	case YYSYMBOL_EQ: case YYSYMBOL_NE: case YYSYMBOL_LT: case YYSYMBOL_LE:
	case YYSYMBOL_GT: case YYSYMBOL_GE: case YYSYMBOL_IN: case YYSYMBOL_CONTAINS:
	case YYSYMBOL_LIKE: case YYSYMBOL_MATCHES: case YYSYMBOL_STARTS_WITH:
	case YYSYMBOL_ENDS_WITH: case YYSYMBOL_UNDER: case YYSYMBOL_HAS: case YYSYMBOL_IS:
		return true;
	default:
		return false;
	}
}

static const char *statement_name(int first)
{
	switch (first) {
	case TK_POLICY:
		return "the 'policy' statement";
	case TK_DEFAULT:
		return "the 'default' statement";
	case TK_ROLE:
		return "the role declaration";
	case TK_SET:
		return "the set declaration";
	case TK_ATTRIBUTE:
		return "the attribute declaration";
	case TK_RULE:
	case TK_ALLOW:
	case TK_DENY:
		return "the rule";
	default:
		return "the statement";
	}
}

static const char *root_token_word(int tok)
{
	switch (tok) {
	case TK_PRINCIPAL: return "principal";
	case TK_TOKEN: return "token";
	case TK_CONTEXT: return "context";
	case TK_ARGS: return "args";
	case TK_TOOL: return "tool";
	case TK_RESOURCE: return "resource";
	case TK_PROMPT: return "prompt";
	case TK_REQUEST: return "request";
	default: return NULL;
	}
}

/* Cedar and CEL method calls, and the operator each one is written as. */
static const char *method_operator(const char *s, size_t n)
{
	static const char *const m[][2] = {
		{"contains", "contains"}, {"startsWith", "starts_with"},
		{"endsWith", "ends_with"}, {"matches", "matches"}, {"includes", "contains"},
		{"starts_with", "starts_with"}, {"ends_with", "ends_with"}, {"like", "like"},
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		if (strlen(m[i][0]) == n && memcmp(m[i][0], s, n) == 0)
			return m[i][1];
	return NULL;
}

/*
 * `token.roles.contains("admin")`: the lookahead is the `(` after a field
 * named like a method. Reports it with the operator spelling, the path and
 * the argument copied from the source; NULL when it is not that habit.
 */
static tg_diag *method_call(tg_parser *p, tg_span at)
{
	const tg_lex *lx = &p->lex;
	const char *src = lx->src;
	tg_span m = lx->before_span;
	if (lx->before != TK_IDENT || m.start == 0 || src[m.start - 1] != '.')
		return NULL;
	const char *op = method_operator(src + m.start, m.end - m.start);
	if (!op)
		return NULL;
	uint32_t from = m.start - 1;
	while (from > 0 && strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "0123456789_.", src[from - 1]) && src[from - 1] != '\0')
		from--;
	uint32_t arg = at.end, end = arg;
	while (end < lx->len && src[end] != ')' && src[end] != '\n' && end - arg < 200)
		end++;
	tg_diag *d = tg_error(p->diags, (tg_span){m.start, at.end},
			      "'%.*s(' is a method call; policies have no methods",
			      (int)(m.end - m.start), src + m.start);
	if (d && end < lx->len && src[end] == ')')
		tg_diag_hint(p->diags, d, "write '%.*s %s %.*s'%s", (int)(m.start - 1 - from),
			     src + from, op, (int)(end - arg), src + arg,
			     strcmp(op, "like") == 0 ? " (a glob, not a regular expression)" : "");
	else if (d)
		tg_diag_hint(p->diags, d, "write 'X %s Y'", op);
	return d;
}

#define MAX_EXPECTED 64

/*
 * Words a syntax error from what LAC says may come next. The most useful
 * explanation wins: a specific construct (unclosed bracket, missing `to`,
 * chained comparison), then a category (an expression, a statement), then
 * the plain list of what was expected when it is short.
 */
static int yyreport_syntax_error(const yypcontext_t *ctx, tg_parser *p)
{
	yysymbol_kind_t tok = yypcontext_token(ctx);
	tg_span at = *yypcontext_location(ctx);
	tg_lex_recover(p, at);
	if (tok == YYSYMBOL_LEXERR)
		return 0;	/* the lexer has said what is wrong */
	yysymbol_kind_t exp[MAX_EXPECTED];
	int n = yypcontext_expected_tokens(ctx, exp, MAX_EXPECTED);
	if (n < 0)
		n = 0;
	bool want[YYNTOKENS] = {false};
	for (int k = 0; k < n; k++)
		if (exp[k] >= 0 && exp[k] < YYNTOKENS)
			want[exp[k]] = true;

	char fbuf[96], ebuf[64];
	const char *found = found_text(p, tok, at, fbuf, sizeof fbuf);
	const tg_lex *lx = &p->lex;
	if (tok == YYSYMBOL_YYEOF && lx->before != 0) {
		/* Point just past the last token, not at an empty last line. */
		at = (tg_span){lx->before_span.end, lx->before_span.end};
	}
	tg_diag *d = NULL;

	if (tok == YYSYMBOL_LPAREN && (d = method_call(p, at)) != NULL) {
		/* reported */
	} else if (tok == YYSYMBOL_DOT && lx->before == TK_IDENT) {
		/* `nosuch.attr`: a bare name is a set, which has no fields */
		int len = (int)(lx->before_span.end - lx->before_span.start);
		d = tg_error(p->diags, lx->before_span, "'%.*s' is not a path root", len,
			     lx->src + lx->before_span.start);
		tg_diag_hint(p->diags, d, "paths start with principal, token, context, args, "
			     "tool, resource, prompt or request");
	} else if (is_comparison(tok) && !want[YYSYMBOL_EQ] && want[YYSYMBOL_AND]) {
		d = tg_error(p->diags, at, "comparisons cannot be chained, found %s", found);
		tg_diag_hint(p->diags, d, "join comparisons with 'and', or add parentheses");
	} else if ((tok == YYSYMBOL_HAS || tok == YYSYMBOL_IS) && want[YYSYMBOL_EQ] &&
		   !want[YYSYMBOL_AND]) {
		d = tg_error(p->diags, at, "'%s' cannot be used inside 'all' or 'any'",
			     tok == YYSYMBOL_HAS ? "has" : "is");
		tg_diag_hint(p->diags, d, "'all' and 'any' take a comparison: == != < <= > >= "
			     "in contains like matches starts_with ends_with under");
	} else if (want[YYSYMBOL_EQ] && !want[YYSYMBOL_PLUS] && !want[YYSYMBOL_AND] &&
		   tok != YYSYMBOL_ASSIGN) {
		/* after the subject of `all/any value of`, which is a path,
		 * never a sum */
		d = tg_error(p->diags, at, "expected a comparison after the subject of 'value of', "
			     "found %s", found);
		tg_diag_hint(p->diags, d, "write e.g. 'any value of args contains \"..\"'; the "
			     "comparisons are == != < <= > >= in contains like matches starts_with "
			     "ends_with under");
	} else if (want[YYSYMBOL_ARGS] && !want[YYSYMBOL_INT] && !want[YYSYMBOL_LPAREN] &&
		   lx->before == TK_OF) {
		d = tg_error(p->diags, at, "'value of' ranges over args or a path under it, found %s",
			     found);
		tg_diag_hint(p->diags, d, "write 'any value of args ...' or 'any value of args.NAME ...'");
	} else if (tok == YYSYMBOL_ASSIGN && want[YYSYMBOL_EQ]) {
		d = tg_error(p->diags, at, "'=' is not a comparison");
		tg_diag_hint(p->diags, d, "write '==' to compare");
	} else if (want[YYSYMBOL_TO]) {
		d = tg_error(p->diags, at, "expected 'to' after the subject, found %s", found);
	} else if ((want[YYSYMBOL_RPAREN] || want[YYSYMBOL_RBRACKET]) && lx->nopen > 0) {
		/* The innermost bracket still open, not counting the lookahead
		 * itself when it opens one. */
		unsigned k = lx->nopen;
		if ((tok == YYSYMBOL_LPAREN || tok == YYSYMBOL_LBRACKET) && k > 1 &&
		    lx->open_at[k] == at.start)
			k--;
		char open = lx->src[lx->open_at[k]];
		tg_linecol lc = tg_source_linecol(lx->src, lx->len, lx->open_at[k]);
		d = tg_error(p->diags, at, "expected '%c' to close '%c' at %u:%u, found %s",
			     open == '(' ? ')' : ']', open, lc.line, lc.col, found);
	} else if (want[YYSYMBOL_LPAREN] && want[YYSYMBOL_INT]) {
		d = tg_error(p->diags, at, "expected an expression, found %s", found);
	} else if (want[YYSYMBOL_DOT] && root_token_word(lx->before)) {
		const char *w = root_token_word(lx->before);
		d = tg_error(p->diags, at, "expected a field after '%s', found %s", w, found);
		tg_diag_hint(p->diags, d, "write '%s.NAME' or '%s[\"key\"]'", w, w);
	} else if (want[YYSYMBOL_SEMI] && n >= 3) {
		d = tg_error(p->diags, at, "expected ';' after %s, found %s",
			     statement_name(lx->stmt_first), found);
	} else if (want[YYSYMBOL_RULE] && want[YYSYMBOL_ALLOW]) {
		d = tg_error(p->diags, at, "expected a statement, found %s", found);
		if (tok == YYSYMBOL_IDENT) {
			static const char *const starters[] = {
				"policy", "default", "role", "set", "attribute", "rule", "allow", "deny",
			};
			const char *s = tg_suggest(lx->src + at.start, at.end - at.start, starters,
						   sizeof starters / sizeof starters[0]);
			if (s)
				tg_diag_hint(p->diags, d, "did you mean '%s'?", s);
		}
	} else if (n > 0 && n <= 6) {
		char msg[512];
		size_t o = 0;
		o += (size_t)snprintf(msg + o, sizeof msg - o, "expected ");
		for (int k = 0; k < n && o < sizeof msg; k++) {
			const char *sep = k == 0 ? "" : k == n - 1 ? " or " : ", ";
			o += (size_t)snprintf(msg + o, sizeof msg - o, "%s%s", sep,
					      symbol_text(exp[k], ebuf, sizeof ebuf));
		}
		d = tg_error(p->diags, at, "%s, found %s", msg, found);
	} else {
		d = tg_error(p->diags, at, "unexpected %s", found);
	}

	if (d && !d->hint && want[YYSYMBOL_IDENT] && tok != YYSYMBOL_YYEOF &&
	    tok != YYSYMBOL_IDENT && tg_lex_is_keyword(lx->src + at.start, at.end - at.start)) {
		int len = (int)(at.end - at.start);
		if (want[YYSYMBOL_STRING])
			tg_diag_hint(p->diags, d, "'%.*s' is a reserved word; write it as a string: "
				     "\"%.*s\"", len, lx->src + at.start, len, lx->src + at.start);
		else
			tg_diag_hint(p->diags, d, "'%.*s' is a reserved word", len,
				     lx->src + at.start);
	}
	return 0;
}

static void tg_yyerror(const TG_YYLTYPE *loc, tg_parser *p, const char *msg)
{
	/* Only "memory exhausted" reaches here: every syntax error goes
	 * through yyreport_syntax_error, and nesting is bounded by the lexer
	 * long before Bison's stack limit. */
	(void)msg;
	p->oom = true;
	tg_error(p->diags, *loc, "out of memory");
}
