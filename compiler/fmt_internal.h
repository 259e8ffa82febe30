/*
 * fmt_internal.h - shared between the formatter's files (fmt.c,
 * fmt_expr.c, fmt_comment.c, fmt_text.c). Nothing here is part of the
 * compiler's interface.
 *
 * The formatter renders into one growable buffer and writes it out at the
 * end, so a write error or an allocation failure is reported once and no
 * half-formatted file reaches the caller's stream.
 */
#ifndef TG_FMT_INTERNAL_H
#define TG_FMT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "ast.h"

/* Lines are kept within this many columns (code points) where the layout
 * has a place to break; docs/formatting.md says where it has none. */
#define TG_FMT_WIDTH 100

typedef struct tg_fmt_buf {
	char *s;
	size_t len, cap;
	bool oom;
} tg_fmt_buf;

void tg_fmt_buf_free(tg_fmt_buf *b);
void tg_fmt_put(tg_fmt_buf *b, const char *s, size_t n);
void tg_fmt_puts(tg_fmt_buf *b, const char *s);
void tg_fmt_putc(tg_fmt_buf *b, char c);
void tg_fmt_spaces(tg_fmt_buf *b, unsigned n);

/* Display width of s[0..n): UTF-8 code points (continuation bytes do not
 * count). */
size_t tg_fmt_width(const char *s, size_t n);
/* Column (from 0) at the end of the buffer. */
size_t tg_fmt_column(const tg_fmt_buf *b);

/* A word: [A-Za-z_][A-Za-z0-9_]*, the lexer's identifier. */
bool tg_fmt_is_word(const char *s, size_t n);
bool tg_fmt_is_reserved(const char *s, size_t n);

/* A quoted string literal with canonical escapes. */
void tg_fmt_string(tg_fmt_buf *b, const char *s, size_t n);
/* A role name: bare when a word that is not reserved, else quoted. */
void tg_fmt_name(tg_fmt_buf *b, const tg_name *name);
/* A field after `has`: bare when a word (keywords allowed), else quoted. */
void tg_fmt_field(tg_fmt_buf *b, const tg_name *name);
/* principal.tenant, args["content-type"], or a bare root. */
void tg_fmt_path(tg_fmt_buf *b, const tg_path *p);

/*
 * Where an interior comment of a statement goes (fmt.c decides, before the
 * statement is printed, so the decision does not depend on the layout).
 */
enum {
	TG_FMT_C_OUTSIDE = 0,	/* between statements */
	TG_FMT_C_BEFORE,	/* own line before segment `seg` */
	TG_FMT_C_TRAIL,		/* end of the last line of segment `seg` */
	TG_FMT_C_INEXPR		/* between two operands of an and/or chain */
};

typedef struct tg_fmt_state {
	const tg_ast *ast;
	tg_fmt_buf out;
	bool line_has_comment;	/* the current line already ends in one */
	bool *eol;		/* per comment: code precedes it on its line */
	unsigned char *kind;	/* per comment: TG_FMT_C_* */
	size_t *seg;		/* per comment: segment index */
	size_t clo, chi;	/* comments of the statement being printed */
	size_t *trails;		/* offsets in out where a trailing comment's
				 * padding goes, in order */
	size_t ntrails, trails_cap;
} tg_fmt_state;

/* The first comment in [clo, chi) that starts at or after off. */
size_t tg_fmt_first_comment(const tg_fmt_state *st, uint32_t off);
/* Whether code precedes comment i on its source line. */
bool tg_fmt_ends_code_line(const tg_ast *ast, size_t i);
/* Copies st->out into res with trailing comments aligned (fmt_comment.c);
 * returns 0, or -1 when out of memory. */
int tg_fmt_align_trails(const tg_fmt_state *st, tg_fmt_buf *res);
/* Starts a new line (unless at one) indented by `indent` columns. */
void tg_fmt_begin_line(tg_fmt_state *st, unsigned indent);
/* Comment i's text, trailing blanks removed. */
void tg_fmt_comment_text(const tg_fmt_state *st, size_t i, const char **s, size_t *n);
void tg_fmt_comment_trail(tg_fmt_state *st, size_t i);
void tg_fmt_comment_line(tg_fmt_state *st, size_t i, unsigned indent);

/* Expressions (fmt_expr.c). */
void tg_fmt_expr_flat(tg_fmt_buf *b, const tg_expr *e);
/* Places comments [lo, hi), which lie within condition e of segment seg:
 * between two operands of an and/or chain (reached through parentheses and
 * `not`) they stay there (TG_FMT_C_INEXPR); elsewhere they go before the
 * segment. */
void tg_fmt_expr_place(tg_fmt_state *st, const tg_expr *e, size_t lo, size_t hi, size_t seg);
/* A condition starting at the current column: flat when it fits in the
 * width with `trail` more columns after it and holds no comment, else
 * broken before top-level `and`/`or`, continuation lines at `cont`. */
void tg_fmt_expr_cond(tg_fmt_state *st, const tg_expr *e, unsigned cont, unsigned trail);

#endif
