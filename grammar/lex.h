/*
 * lex.h - what the lexer (lexer.re), the parser (parser.y) and the parse
 * driver (parse.c) share.
 *
 * One tg_parser is the whole state of a parse: the lexer's cursor, the AST
 * being built and the diagnostics sink. Bison passes it to every action and
 * to the lexer (%param), so nothing is global and parses can run
 * concurrently.
 *
 * The lexer knows a little context, kept here:
 *  - the previous token, because after `.` and `has` every word is a field
 *    name, and because `-` before digits is a negative literal only where an
 *    operand may start;
 *  - the open brackets and pending `not`s, because expression nesting is
 *    limited (TG_MAX_EXPR_DEPTH) and the limit must be enforced before
 *    Bison's stack grows with the input;
 *  - the first token of the current statement, for error messages ("after
 *    the rule");
 *  - whether the parser is recovering from a syntax error, because then a
 *    statement keyword at the start of a line ends the broken statement
 *    (tg_lex_recover, lexer.re).
 */
#ifndef TG_LEX_H
#define TG_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "ast.h"
#include "stages.h"
#include "diag.h"
#include "parser.h"

typedef struct tg_lex {
	const char *src;	/* the source, followed by a NUL sentinel */
	size_t len;
	const char *cur;

	int prev;		/* last token returned (0 before the first) */
	tg_span prev_span;
	int before;		/* the token returned before prev */
	tg_span before_span;
	int stmt_first;		/* first token of the current statement */

	/* Nesting: nopen brackets are open; nots[k] counts the `not`s still
	 * pending at bracket level k (0 = outside every bracket); depth is
	 * nopen plus every pending `not`. */
	unsigned nopen, depth;
	uint32_t open_at[TG_MAX_EXPR_DEPTH + 2];
	unsigned nots[TG_MAX_EXPR_DEPTH + 2];

	bool quiet;		/* skipping after an error: record nothing */

	bool recovering;	/* from a syntax error, until a statement ends */
	uint32_t resync_floor;	/* no rewind to a keyword before this offset */
} tg_lex;

/* A growable arena array of any element type. */
typedef struct tg_parse_vec {
	void *items;
	size_t n, cap;
} tg_parse_vec;

struct tg_parser {
	tg_arena *arena;
	tg_diags *diags;
	tg_ast *ast;
	tg_lex lex;

	tg_parse_vec stmts;	/* tg_stmt */
	tg_parse_vec comments;	/* tg_comment */

	char *buf;		/* scratch for decoding string literals */
	size_t buflen, bufcap;

	bool oom;
};

int tg_yylex(TG_YYSTYPE *val, TG_YYLTYPE *loc, tg_parser *p);

/* Reports a lexical error unless the lexer is skipping input. */
tg_diag *tg_lex_error(tg_parser *p, tg_span at, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* Called by the parser when it reports a syntax error (or meets LEXERR),
 * with the lookahead's location: until the broken statement ends (the
 * parser clears p->lex.recovering), a statement keyword at the start of a
 * line is preceded by a RESYNC token, which ends it. */
void tg_lex_recover(tg_parser *p, tg_span at);

/* Whether a word is reserved, and the sorted list of reserved words. */
bool tg_lex_is_keyword(const char *s, size_t len);
extern const char *const tg_lex_keywords[];
extern const size_t tg_lex_nkeywords;

/* Helpers the grammar actions use (parse.c); NULL/-1 when out of memory. */
int tg_parse_push(tg_parser *p, tg_parse_vec *v, const void *elem, size_t size);
tg_expr *tg_parse_expr(tg_parser *p, tg_expr_kind kind, tg_span span);
void *tg_parse_new(tg_parser *p, size_t size);
tg_stmt *tg_parse_stmt(tg_parser *p, tg_stmt_kind kind, tg_span span);

#endif
