/*
 * lexer.re - the tokens of toolgate policies (re2c, UTF-8).
 *
 * The whole source is in memory, copied by tg_parse with a NUL after its last
 * byte; re2c's end-of-input rule (`re2c:eof`) checks the cursor against the
 * limit whenever it reads a NUL, so a NUL inside the source is an ordinary
 * (erroneous) byte, reported where it stands, and never ends the input early.
 *
 * Character classes are Unicode scalar values (re2c --utf8 builds the byte
 * automaton), so only well-formed UTF-8 matches them: no overlong forms, no
 * surrogates. Any other byte falls through to the default rule `*` and is
 * reported at its offset, in comments and strings as well as in code.
 *
 * The lexer never prints. It reports through tg_lex_error and either goes on
 * (a stray character is skipped; a bad escape still yields its string) or
 * returns LEXERR when the token cannot be recovered (an unterminated string,
 * nesting too deep), which makes the parser resynchronise.
 *
 * Resynchronising. After a syntax error the parser discards tokens up to
 * the next `;`. When the error is a missing `;` or an unterminated string,
 * that `;` ends the NEXT statement, which would vanish unchecked. So while
 * the parser recovers (tg_lex_recover), a keyword that can only begin a
 * statement and stands first on its line is preceded by a RESYNC token,
 * which the parser's error rule accepts like the `;`. `role`, `allow` and
 * `deny` also continue statements (`rule "x":` NEWLINE `  allow ...`), so
 * they count only at column 1, where fmt never puts a continuation. RESYNC
 * exists only in the error state, so no "expected ..." list can name it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lex.h"

/* Sorted, for bsearch; the reserved words of DESIGN.md. */
static const struct keyword {
	const char *word;
	int token;
} keywords[] = {
	{"all", TK_ALL},
	{"allow", TK_ALLOW},
	{"and", TK_AND},
	{"any", TK_ANY},
	{"anyone", TK_ANYONE},
	{"anything", TK_ANYTHING},
	{"args", TK_ARGS},
	{"attribute", TK_ATTRIBUTE},
	{"because", TK_BECAUSE},
	{"bool", TK_BOOL_T},
	{"call", TK_CALL},
	{"client", TK_CLIENT},
	{"contains", TK_CONTAINS},
	{"context", TK_CONTEXT},
	{"default", TK_DEFAULT},
	{"deny", TK_DENY},
	{"do", TK_DO},
	{"ends_with", TK_ENDS_WITH},
	{"false", TK_FALSE},
	{"get", TK_GET},
	{"has", TK_HAS},
	{"in", TK_IN},
	{"int", TK_INT_T},
	{"invoke", TK_INVOKE},
	{"is", TK_IS},
	{"like", TK_LIKE},
	{"list", TK_LIST},
	{"not", TK_NOT},
	{"or", TK_OR},
	{"policy", TK_POLICY},
	{"principal", TK_PRINCIPAL},
	{"prompt", TK_PROMPT},
	{"prompts", TK_PROMPTS},
	{"read", TK_READ},
	{"request", TK_REQUEST},
	{"resource", TK_RESOURCE},
	{"resource_templates", TK_RESOURCE_TEMPLATES},
	{"resources", TK_RESOURCES},
	{"role", TK_ROLE},
	{"rule", TK_RULE},
	{"scope", TK_SCOPE},
	{"set", TK_SET},
	{"starts_with", TK_STARTS_WITH},
	{"string", TK_STRING_T},
	{"to", TK_TO},
	{"token", TK_TOKEN},
	{"tool", TK_TOOL},
	{"tools", TK_TOOLS},
	{"true", TK_TRUE},
	{"under", TK_UNDER},
	{"unless", TK_UNLESS},
	{"version", TK_VERSION},
	{"when", TK_WHEN},
};

#define NKEYWORDS (sizeof keywords / sizeof keywords[0])

const char *const tg_lex_keywords[] = {
	"all", "allow", "and", "any", "anyone", "anything", "args", "attribute", "because",
	"bool", "call", "client", "contains", "context", "default", "deny", "do", "ends_with",
	"false", "get", "has", "in", "int", "invoke", "is", "like", "list", "not", "or",
	"policy", "principal", "prompt", "prompts", "read", "request", "resource",
	"resource_templates", "resources", "role", "rule", "scope", "set", "starts_with",
	"string", "to", "token", "tool", "tools", "true", "under", "unless", "version", "when",
};
const size_t tg_lex_nkeywords = sizeof tg_lex_keywords / sizeof tg_lex_keywords[0];

static int keyword_token(const char *s, size_t len)
{
	size_t lo = 0, hi = NKEYWORDS;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *w = keywords[mid].word;
		int c = strncmp(s, w, len);
		if (c == 0)
			c = w[len] ? -1 : 0;
		if (c == 0)
			return keywords[mid].token;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

bool tg_lex_is_keyword(const char *s, size_t len)
{
	return keyword_token(s, len) != 0;
}

tg_diag *tg_lex_error(tg_parser *p, tg_span at, const char *fmt, ...)
{
	if (p->lex.quiet)
		return NULL;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return tg_error(p->diags, at, "%s", msg);
}

static tg_span span_of(const tg_parser *p, const char *a, const char *b)
{
	return (tg_span){(uint32_t)(a - p->lex.src), (uint32_t)(b - p->lex.src)};
}

/* Reports the byte at s, which is not part of valid UTF-8, and returns the
 * position after it and the continuation bytes that follow it (one report
 * per broken sequence, not one per byte). */
static const char *bad_byte(tg_parser *p, const char *s, const char *lim)
{
	const unsigned char *u = (const unsigned char *)s;
	if (*u == 0) {
		tg_lex_error(p, span_of(p, s, s + 1), "NUL byte in source");
		return s + 1;
	}
	if (*u < 0x80) {
		tg_lex_error(p, span_of(p, s, s + 1), "unexpected control character 0x%02X", *u);
		return s + 1;
	}
	tg_lex_error(p, span_of(p, s, s + 1), "invalid UTF-8 byte 0x%02X", *u);
	s++;
	while (s < lim && ((unsigned char)*s & 0xC0) == 0x80)
		s++;
	return s;
}

static int buf_put(tg_parser *p, const char *s, size_t n)
{
	if (p->buflen + n > p->bufcap) {
		size_t cap = p->bufcap ? p->bufcap : 256;
		while (cap < p->buflen + n)
			cap *= 2;
		char *b = realloc(p->buf, cap);
		if (!b) {
			p->oom = true;
			return -1;
		}
		p->buf = b;
		p->bufcap = cap;
	}
	memcpy(p->buf + p->buflen, s, n);
	p->buflen += n;
	return 0;
}

static size_t utf8_encode(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xC0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xE0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/*!re2c
	re2c:define:YYCTYPE = "unsigned char";
	re2c:yyfill:enable = 0;
	re2c:eof = 0;
	re2c:flags:utf-8 = 1;

	scalar = [\x01-\uD7FF\uE000-\U0010FFFF];
	nonascii = [\x80-\uD7FF\uE000-\U0010FFFF];
	cchar = [\x01-\x09\x0B-\uD7FF\uE000-\U0010FFFF];
	schar = [\x01-\x09\x0B\x0C\x0E-\x21\x23-\x5B\x5D-\uD7FF\uE000-\U0010FFFF];
	hex = [0-9a-fA-F];
	ident = [A-Za-z_][A-Za-z0-9_]*;
*/

/* Scans a comment from after its `#` or `//` to the end of the line. */
static const char *scan_comment(tg_parser *p, const char *start)
{
	const unsigned char *YYCURSOR = (const unsigned char *)start;
	const unsigned char *YYLIMIT = (const unsigned char *)p->lex.src + p->lex.len;
	const unsigned char *YYMARKER;
	const char *lim = (const char *)YYLIMIT;
	for (;;) {
		const unsigned char *t = YYCURSOR;
		(void)t;
		/*!re2c
			cchar+	{ continue; }
			"\n"	{ return (const char *)YYCURSOR - 1; }
			$	{ return lim; }
			*	{ YYCURSOR = (const unsigned char *)bad_byte(p, (const char *)t, lim); continue; }
		*/
	}
}

static int record_comment(tg_parser *p, const char *start, const char *end)
{
	tg_comment c = {span_of(p, start, end)};
	return tg_parse_push(p, &p->comments, &c, sizeof c);
}

/*
 * Scans a string literal from after its opening quote. On success stores the
 * decoded bytes in val and returns TK_STRING; when the string does not end on
 * its line returns TK_LEXERR. *endp is where scanning stops.
 */
static int scan_string(tg_parser *p, const char *quote, tg_name *val, const char **endp)
{
	const unsigned char *YYCURSOR = (const unsigned char *)quote + 1;
	const unsigned char *YYLIMIT = (const unsigned char *)p->lex.src + p->lex.len;
	const unsigned char *YYMARKER;
	const char *lim = (const char *)YYLIMIT;
	bool too_long = false;
	p->buflen = 0;
	for (;;) {
		const unsigned char *t = YYCURSOR;
		if (p->buflen > TG_MAX_STRING_LITERAL && !too_long) {
			too_long = true;
			tg_lex_error(p, span_of(p, quote, quote + 1),
				     "string literal longer than %u bytes", TG_MAX_STRING_LITERAL);
		}
		/*!re2c
			"\""	{ break; }
			"\\\""	{ if (buf_put(p, "\"", 1) < 0) return TK_LEXERR; continue; }
			"\\\\"	{ if (buf_put(p, "\\", 1) < 0) return TK_LEXERR; continue; }
			"\\n"	{ if (buf_put(p, "\n", 1) < 0) return TK_LEXERR; continue; }
			"\\t"	{ if (buf_put(p, "\t", 1) < 0) return TK_LEXERR; continue; }
			"\\u{" hex{1,6} "}" {
				uint32_t c = (uint32_t)strtoul((const char *)t + 3, NULL, 16);
				if (c == 0 || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) {
					tg_lex_error(p, span_of(p, (const char *)t, (const char *)YYCURSOR),
						     "invalid unicode escape: U+%04X is not allowed in a string", c);
					continue;
				}
				char u[4];
				if (buf_put(p, u, utf8_encode(c, u)) < 0)
					return TK_LEXERR;
				continue;
			}
			"\\u{" {
				tg_lex_error(p, span_of(p, (const char *)t, (const char *)YYCURSOR),
					     "invalid unicode escape: expected 1 to 6 hex digits and '}'");
				continue;
			}
			"\\" [\x21-\x7E] {
				tg_diag *g = tg_lex_error(p, span_of(p, (const char *)t, (const char *)YYCURSOR),
							  "invalid escape '\\%c' in string", (char)YYCURSOR[-1]);
				if (p->lex.prev == TK_MATCHES)
					tg_diag_hint(p->diags, g, "a regular expression is a string: write its "
						     "backslash twice, \"\\\\%c\"", (char)YYCURSOR[-1]);
				else
					tg_diag_hint(p->diags, g, "the escapes are \\\" \\\\ \\n \\t and \\u{HEX}");
				continue;
			}
			"\\"	{
				YYCURSOR = t + 1;
				tg_lex_error(p, span_of(p, (const char *)t, (const char *)YYCURSOR),
					     "invalid escape in string");
				continue;
			}
			schar+	{
				if (buf_put(p, (const char *)t, (size_t)(YYCURSOR - t)) < 0)
					return TK_LEXERR;
				continue;
			}
			[\r\n] {
				*endp = (const char *)t;
				tg_diag *g = tg_lex_error(p, span_of(p, quote, quote + 1),
							  "unterminated string");
				tg_diag_hint(p->diags, g, "a string ends on the line it starts; "
					     "write a line break as \\n");
				return TK_LEXERR;
			}
			$	{
				*endp = lim;
				tg_lex_error(p, span_of(p, quote, quote + 1), "unterminated string");
				return TK_LEXERR;
			}
			* { YYCURSOR = (const unsigned char *)bad_byte(p, (const char *)t, lim); continue; }
		*/
	}
	*endp = (const char *)YYCURSOR;
	val->s = tg_arena_strndup(p->arena, p->buf ? p->buf : "", p->buflen);
	if (!val->s) {
		p->oom = true;
		return TK_LEXERR;
	}
	val->len = p->buflen;
	val->span = span_of(p, quote, *endp);
	return TK_STRING;
}

/* Tokens after which `-` is subtraction rather than the sign of a literal. */
static bool ends_operand(int tok)
{
	switch (tok) {
	case TK_IDENT:
	case TK_VALUE:
	case TK_STRING:
	case TK_INT:
	case TK_TRUE:
	case TK_FALSE:
	case TK_RPAREN:
	case TK_RBRACKET:
	case TK_PRINCIPAL:
	case TK_TOKEN:
	case TK_CONTEXT:
	case TK_ARGS:
	case TK_TOOL:
	case TK_RESOURCE:
	case TK_PROMPT:
	case TK_REQUEST:
		return true;
	default:
		return false;
	}
}

/* `matches` is an operator only right after a value (a name, a literal, a
 * closing bracket, or a bare root as in `all value of args matches`; not
 * tool, resource and prompt, which also begin an action's targets):
 * anywhere else it stays a name, so a policy that names a set, a role or
 * a field `matches` reads as it always did. */
static bool ends_value(int tok)
{
	switch (tok) {
	case TK_IDENT:
	case TK_VALUE:
	case TK_PRINCIPAL:
	case TK_TOKEN:
	case TK_CONTEXT:
	case TK_ARGS:
	case TK_REQUEST:
	case TK_STRING:
	case TK_INT:
	case TK_TRUE:
	case TK_FALSE:
	case TK_RPAREN:
	case TK_RBRACKET:
		return true;
	default:
		return false;
	}
}

static int scan_int(tg_parser *p, const char *s, const char *e, int64_t *out)
{
	bool neg = *s == '-';
	uint64_t v = 0, max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (const char *c = s + neg; c < e; c++) {
		unsigned d = (unsigned)(*c - '0');
		if (v > (max - d) / 10) {
			tg_diag *g = tg_lex_error(p, span_of(p, s, e), "integer literal out of range");
			tg_diag_hint(p->diags, g, "integers are 64-bit: -9223372036854775808 to "
				     "9223372036854775807");
			*out = 0;
			return TK_INT;
		}
		v = v * 10 + d;
	}
	*out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return TK_INT;
}

/* One raw token; comments and whitespace are consumed, stray characters
 * reported and skipped. */
static int scan(tg_parser *p, TG_YYSTYPE *val, tg_span *loc)
{
	const unsigned char *YYCURSOR = (const unsigned char *)p->lex.cur;
	const unsigned char *YYLIMIT = (const unsigned char *)p->lex.src + p->lex.len;
	const unsigned char *YYMARKER;
	const char *lim = (const char *)YYLIMIT;
	const unsigned char *t;
	int tok;
	for (;;) {
		t = YYCURSOR;
#define TOKEN(k)	do { tok = (k); goto done; } while (0)
		/*!re2c
			$		{ TOKEN(TK_YYEOF); }
			[ \t\r\n]+	{ continue; }
			"#" | "//"	{
				const char *end = scan_comment(p, (const char *)YYCURSOR);
				if (record_comment(p, (const char *)t, end) < 0)
					TOKEN(TK_LEXERR);
				YYCURSOR = (const unsigned char *)end;
				continue;
			}
			ident		{
				const char *s = (const char *)t;
				size_t n = (size_t)(YYCURSOR - t);
				int kw = p->lex.prev == TK_DOT || p->lex.prev == TK_HAS ? 0 :
					 keyword_token(s, n);
				if (kw)
					TOKEN(kw);
				if (n == 7 && memcmp(s, "matches", 7) == 0 && ends_value(p->lex.prev))
					TOKEN(TK_MATCHES);
				if (n == 2 && memcmp(s, "of", 2) == 0 && p->lex.prev == TK_VALUE)
					TOKEN(TK_OF);
				val->name.s = tg_arena_strndup(p->arena, s, n);
				if (!val->name.s) {
					p->oom = true;
					TOKEN(TK_LEXERR);
				}
				val->name.len = n;
				val->name.span = span_of(p, s, (const char *)YYCURSOR);
				/* `value` right after all/any may begin `value of`
				 * (and `of` is a keyword only right after it, above);
				 * it carries its name, so the parser reads it as the
				 * set `value` when no `of` follows (parser.y, term):
				 * `any value in [...]` keeps its meaning. */
				if (n == 5 && memcmp(s, "value", 5) == 0 &&
				    (p->lex.prev == TK_ALL || p->lex.prev == TK_ANY))
					TOKEN(TK_VALUE);
				TOKEN(TK_IDENT);
			}
			"-"? [0-9]+	{
				if (*t == '-' && ends_operand(p->lex.prev)) {
					YYCURSOR = t + 1;
					TOKEN(TK_MINUS);
				}
				tok = scan_int(p, (const char *)t, (const char *)YYCURSOR, &val->i);
				goto done;
			}
			"\""		{
				const char *end = (const char *)t + 1;
				tok = scan_string(p, (const char *)t, &val->name, &end);
				YYCURSOR = (const unsigned char *)end;
				goto done;
			}
			"=="	{ TOKEN(TK_EQ); }
			"!="	{ TOKEN(TK_NE); }
			"<="	{ TOKEN(TK_LE); }
			">="	{ TOKEN(TK_GE); }
			"<"	{ TOKEN(TK_LT); }
			">"	{ TOKEN(TK_GT); }
			"+"	{ TOKEN(TK_PLUS); }
			"-"	{ TOKEN(TK_MINUS); }
			"."	{ TOKEN(TK_DOT); }
			","	{ TOKEN(TK_COMMA); }
			":"	{ TOKEN(TK_COLON); }
			";"	{ TOKEN(TK_SEMI); }
			"("	{ TOKEN(TK_LPAREN); }
			")"	{ TOKEN(TK_RPAREN); }
			"["	{ TOKEN(TK_LBRACKET); }
			"]"	{ TOKEN(TK_RBRACKET); }
			"="	{ TOKEN(TK_ASSIGN); }
			"&&" | "||" | "!" {
				/* Common in other languages: say so, and carry on
				 * as if the keyword had been written. */
				const char *word = *t == '&' ? "and" : *t == '|' ? "or" : "not";
				tg_diag *g = tg_lex_error(p, span_of(p, (const char *)t, (const char *)YYCURSOR),
							  "unexpected '%.*s'", (int)(YYCURSOR - t), (const char *)t);
				tg_diag_hint(p->diags, g, "write '%s'", word);
				TOKEN(*t == '&' ? TK_AND : *t == '|' ? TK_OR : TK_NOT);
			}
			[\x21-\x7E] {
				tg_lex_error(p, span_of(p, (const char *)t, (const char *)YYCURSOR),
					     "unexpected character '%c'", (char)*t);
				TOKEN(TK_LEXERR);	/* one error: the parser stays quiet */
			}
			nonascii {
				tg_lex_error(p, span_of(p, (const char *)t, (const char *)YYCURSOR),
					     "unexpected character '%.*s'", (int)(YYCURSOR - t),
					     (const char *)t);
				TOKEN(TK_LEXERR);
			}
			* { YYCURSOR = (const unsigned char *)bad_byte(p, (const char *)t, lim); continue; }
		*/
#undef TOKEN
	}
done:
	*loc = span_of(p, (const char *)t, (const char *)YYCURSOR);
	p->lex.cur = (const char *)YYCURSOR;
	return tok;
}

/*
 * Whether tok, at `at`, begins a statement for resynchronisation: one of the
 * statement keywords, first on its line; `role`, `allow` and `deny` only
 * unindented, since an indented one may continue the statement above.
 */
static bool starts_statement(const tg_lex *lx, int tok, tg_span at)
{
	bool indented_too;
	switch (tok) {
	case TK_POLICY:
	case TK_DEFAULT:
	case TK_ATTRIBUTE:
	case TK_SET:
	case TK_RULE:
		indented_too = true;
		break;
	case TK_ROLE:
	case TK_ALLOW:
	case TK_DENY:
		indented_too = false;
		break;
	default:
		return false;
	}
	const char *s = lx->src + at.start;
	if (indented_too)
		while (s > lx->src && (s[-1] == ' ' || s[-1] == '\t'))
			s--;
	return s == lx->src || s[-1] == '\n';
}

/*
 * The parser has met a syntax error whose lookahead is at `at`. When that
 * lookahead is itself a keyword beginning a statement (the usual missing
 * `;`), the parser is about to discard it: scan it again, so that it comes
 * back after a RESYNC. resync_floor makes that happen once per keyword.
 */
void tg_lex_recover(tg_parser *p, tg_span at)
{
	tg_lex *lx = &p->lex;
	lx->recovering = true;
	if (at.start == lx->prev_span.start && at.start >= lx->resync_floor &&
	    starts_statement(lx, lx->prev, lx->prev_span)) {
		lx->cur = lx->src + at.start;
		lx->resync_floor = at.start + 1;
	}
}

static void nest_reset(tg_lex *lx)
{
	lx->nopen = 0;
	lx->depth = 0;
	lx->nots[0] = 0;
}

/* The `not`s pending at the current level end with their operand. */
static void close_nots(tg_lex *lx)
{
	lx->depth -= lx->nots[lx->nopen];
	lx->nots[lx->nopen] = 0;
}

/* Tracks expression nesting; false when tok goes past the limit. Brackets
 * nest, and so does each `not` until `and`, `or`, `,`, a clause keyword or
 * its enclosing bracket ends it: exactly what grows the parser's stack. */
static bool nest(tg_lex *lx, int tok, tg_span at)
{
	switch (tok) {
	case TK_LPAREN:
	case TK_LBRACKET:
		lx->nopen++;
		lx->depth++;
		lx->open_at[lx->nopen] = at.start;
		lx->nots[lx->nopen] = 0;
		break;
	case TK_RPAREN:
	case TK_RBRACKET:
		close_nots(lx);
		if (lx->nopen > 0) {
			lx->nopen--;
			lx->depth--;
		}
		break;
	case TK_NOT:
		lx->nots[lx->nopen]++;
		lx->depth++;
		break;
	case TK_AND:
	case TK_OR:
	case TK_COMMA:
	case TK_WHEN:
	case TK_UNLESS:
	case TK_BECAUSE:
		close_nots(lx);
		break;
	default:
		break;
	}
	return lx->depth <= TG_MAX_EXPR_DEPTH;
}

/* Past the nesting limit: one error, then the rest of the statement is
 * skipped here, so the parser's stack never holds more than the limit. The
 * `;`, or a keyword beginning the next statement, is left for the parser to
 * resynchronise on. */
static tg_span skip_statement(tg_parser *p, tg_span at)
{
	tg_lex *lx = &p->lex;
	tg_diag *g = tg_lex_error(p, at, "expression nested too deeply (the limit is %d levels)",
				  TG_MAX_EXPR_DEPTH);
	tg_diag_hint(p->diags, g, "split the condition into several 'when' clauses or rules");
	lx->quiet = true;
	for (;;) {
		TG_YYSTYPE v;
		tg_span l;
		int t = scan(p, &v, &l);
		if (t == TK_SEMI || starts_statement(lx, t, l)) {
			lx->cur = lx->src + l.start;
			break;
		}
		if (t == TK_YYEOF)
			break;
	}
	lx->quiet = false;
	nest_reset(lx);
	return (tg_span){at.start, (uint32_t)(lx->cur - lx->src)};
}

int tg_yylex(TG_YYSTYPE *val, TG_YYLTYPE *loc, tg_parser *p)
{
	tg_lex *lx = &p->lex;
	int tok = scan(p, val, loc);
	if (lx->recovering && starts_statement(lx, tok, *loc)) {
		/* End the broken statement; the keyword is scanned again. */
		lx->recovering = false;
		lx->cur = lx->src + loc->start;
		*loc = (tg_span){loc->start, loc->start};
		tok = TK_RESYNC;
	}
	bool ended = lx->prev == TK_SEMI || lx->prev == TK_RESYNC;
	/* A statement's brackets end with it; reset only now, so a syntax
	 * error reported at the `;` can still name the unclosed bracket. */
	if (ended)
		nest_reset(lx);
	if (!nest(lx, tok, *loc)) {
		*loc = skip_statement(p, *loc);
		tok = TK_LEXERR;
	}
	if (ended || lx->prev == 0)
		lx->stmt_first = tok;
	lx->before = lx->prev;
	lx->before_span = lx->prev_span;
	lx->prev = tok;
	lx->prev_span = *loc;
	return tok;
}
