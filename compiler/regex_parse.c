/*
 * regex_parse.c - pattern text to a syntax tree over code point sets.
 *
 * Recursive descent over the grammar
 *
 *   pattern := ['(?s)'] ['^' | '\A'] alt ['$' | '\z']
 *   alt     := concat ('|' concat)*
 *   concat  := repeat*
 *   repeat  := atom [('*' | '+' | '?' | '{m}' | '{m,}' | '{m,n}') ['?']]
 *   atom    := literal | '.' | class | escape | '(' alt ')' | '(?:' alt ')'
 *
 * Every literal, `.`, class and shorthand becomes a set of code points; the
 * NFA stage turns sets into UTF-8 byte sequences. Lazy quantifiers parse to
 * the greedy node: under whole-subject matching they accept the same
 * strings. What cannot run as a finite automaton is refused here, each with
 * the offset of the construct and a message saying why, since a policy
 * author reads these errors, not a regex engine's maintainer.
 */
#include <stdlib.h>
#include <string.h>

#include "regex_internal.h"

typedef struct re_parser {
	const char *src;
	size_t len, pos;
	size_t body;		/* where the pattern proper starts (after "(?s)") */
	bool dotall;
	unsigned depth;
	tg_re_ast *ast;
	tg_re_error *err;
} re_parser;

static const char anchored_start[] =
	"is only meaningful at the start of the pattern: matching is anchored to the whole value";
static const char anchored_end[] =
	"is only meaningful at the end of the pattern: matching is anchored to the whole value";

static int peek(const re_parser *p, size_t ahead)
{
	return p->pos + ahead < p->len ? (unsigned char)p->src[p->pos + ahead] : -1;
}

static uint32_t oom(re_parser *p)
{
	tg_re_errorf(p->err, p->pos, "out of memory compiling the pattern");
	return TG_RE_NONE;
}

static uint32_t new_node(re_parser *p, tg_re_kind kind)
{
	tg_re_ast *a = p->ast;
	if (a->n == a->cap) {
		uint32_t cap = a->cap ? a->cap * 2 : 16;
		tg_re_node *nodes = realloc(a->nodes, cap * sizeof *nodes);
		if (!nodes)
			return oom(p);
		a->nodes = nodes;
		a->cap = cap;
	}
	a->nodes[a->n] = (tg_re_node){ .kind = kind, .child = TG_RE_NONE, .next = TG_RE_NONE };
	return a->n++;
}

/* A SET node owning *set (emptied either way). */
static uint32_t set_node(re_parser *p, tg_re_set *set)
{
	if (!tg_re_set_normalize(set)) {
		tg_re_set_free(set);
		return oom(p);
	}
	uint32_t n = new_node(p, TG_RE_SET);
	if (n == TG_RE_NONE) {
		tg_re_set_free(set);
		return n;
	}
	p->ast->nodes[n].set = *set;
	*set = (tg_re_set){ 0 };
	return n;
}

/* Decodes the code point at the cursor and steps over it. */
static bool next_cp(re_parser *p, uint32_t *cp)
{
	unsigned n = tg_re_utf8_decode((const uint8_t *)p->src + p->pos, p->len - p->pos, cp);
	if (n == 0) {
		tg_re_errorf(p->err, p->pos, "the pattern is not valid UTF-8");
		return false;
	}
	p->pos += n;
	return true;
}

static bool is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static uint32_t hex_value(int c)
{
	return c <= '9' ? (uint32_t)(c - '0') : (uint32_t)((c | 0x20) - 'a' + 10);
}

/* \xHH or \x{H...}; the cursor is on the 'x'. */
static bool parse_hex(re_parser *p, size_t at, uint32_t *cp)
{
	p->pos++;
	uint32_t v = 0;
	if (peek(p, 0) == '{') {
		p->pos++;
		size_t digits = 0;
		while (is_hex(peek(p, 0))) {
			if (v <= TG_RE_MAX_CP)
				v = v << 4 | hex_value(peek(p, 0));
			digits++;
			p->pos++;
		}
		if (digits == 0 || peek(p, 0) != '}') {
			tg_re_errorf(p->err, at, "'\\x{' needs hexadecimal digits and a closing '}', as in \\x{20AC}");
			return false;
		}
		p->pos++;
	} else {
		if (!is_hex(peek(p, 0)) || !is_hex(peek(p, 1))) {
			tg_re_errorf(p->err, at, "'\\x' needs two hexadecimal digits (\\x41) or braces (\\x{20AC})");
			return false;
		}
		v = hex_value(peek(p, 0)) << 4 | hex_value(peek(p, 1));
		p->pos += 2;
	}
	if (v > TG_RE_MAX_CP) {
		tg_re_errorf(p->err, at, "code point out of range: the largest is \\x{10FFFF}");
		return false;
	}
	if (v >= 0xD800 && v <= 0xDFFF) {
		tg_re_errorf(p->err, at, "\\x{%X} is a surrogate, not a character: it has no UTF-8 encoding", (unsigned)v);
		return false;
	}
	*cp = v;
	return true;
}

/* \d \w \s and their complements, RE2's ASCII meanings. */
static bool add_shorthand(re_parser *p, int c, tg_re_set *set)
{
	tg_re_set s = { 0 };
	bool ok = true;
	switch (c | 0x20) {
	case 'd':
		ok = tg_re_set_add(&s, '0', '9');
		break;
	case 'w':
		ok = tg_re_set_add(&s, '0', '9') && tg_re_set_add(&s, 'A', 'Z') &&
		     tg_re_set_add(&s, '_', '_') && tg_re_set_add(&s, 'a', 'z');
		break;
	default:	/* 's' */
		ok = tg_re_set_add(&s, '\t', '\n') && tg_re_set_add(&s, '\f', '\r') &&
		     tg_re_set_add(&s, ' ', ' ');
		break;
	}
	if (ok && c >= 'A' && c <= 'Z')
		ok = tg_re_set_complement(&s);
	if (ok)
		ok = tg_re_set_add_set(set, &s);
	tg_re_set_free(&s);
	if (!ok)
		oom(p);
	return ok;
}

/*
 * The escape at the cursor (a backslash). A single character sets *single
 * and leaves set alone; a shorthand adds to set and sets *single to
 * TG_RE_NONE. Anchors (\A, \z) are the caller's business outside classes.
 */
static bool parse_escape(re_parser *p, tg_re_set *set, uint32_t *single)
{
	size_t at = p->pos;
	int c = peek(p, 1);
	*single = TG_RE_NONE;
	if (c < 0) {
		tg_re_errorf(p->err, at, "trailing backslash at the end of the pattern");
		return false;
	}
	p->pos++;
	switch (c) {
	case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
		p->pos++;
		return add_shorthand(p, c, set);
	case 'n': p->pos++; *single = '\n'; return true;
	case 't': p->pos++; *single = '\t'; return true;
	case 'r': p->pos++; *single = '\r'; return true;
	case 'f': p->pos++; *single = '\f'; return true;
	case 'v': p->pos++; *single = '\v'; return true;
	case 'x':
		return parse_hex(p, at, single);
	case '0':
		tg_re_errorf(p->err, at, "octal escapes like \\0 are not supported; write \\x00");
		return false;
	case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
	case 'k':
		tg_re_errorf(p->err, at, "backreferences are not supported: they cannot run in linear time");
		return false;
	case 'b': case 'B':
		tg_re_errorf(p->err, at, "word boundaries (\\b, \\B) are not supported; "
			     "matching is anchored to the whole value, so spell out the characters around the word");
		return false;
	case 'p': case 'P':
		tg_re_errorf(p->err, at, "Unicode classes (\\p{...}, \\P{...}) are not supported; write the ranges in a class");
		return false;
	case 'A':
		tg_re_errorf(p->err, at, "'\\A' %s", anchored_start);
		return false;
	case 'z': case 'Z':
		tg_re_errorf(p->err, at, "'\\%c' %s", c, anchored_end);
		return false;
	}
	if (c < 0x80 && c > ' ' && c != 0x7F && !(c >= '0' && c <= '9') &&
	    !((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
		p->pos++;
		*single = (uint32_t)c;
		return true;
	}
	if (c > ' ' && c < 0x7F)
		tg_re_errorf(p->err, at, "unknown escape '\\%c'", c);
	else
		tg_re_errorf(p->err, at, "unknown escape: a backslash must be followed by punctuation, "
			     "a letter of \\d \\w \\s \\n \\t \\r \\f \\v or \\x");
	return false;
}

/* One class member for a range end: a character or a single-character escape. */
static bool class_char(re_parser *p, tg_re_set *set, uint32_t *single)
{
	int c = peek(p, 0);
	if (c == '\\')
		return parse_escape(p, set, single);
	if (c == '[') {
		tg_re_errorf(p->err, p->pos, "a literal '[' inside a class must be escaped as \\[ "
			     "(POSIX classes like [:alpha:] are not supported)");
		return false;
	}
	return next_cp(p, single);
}

static void describe_range(const re_parser *p, size_t from, char *buf, size_t cap)
{
	size_t n = p->pos - from;
	if (n > cap - 1)
		n = cap - 1;
	memcpy(buf, p->src + from, n);
	buf[n] = '\0';
}

static uint32_t parse_class(re_parser *p)
{
	size_t open = p->pos;
	p->pos++;
	bool negate = false;
	if (peek(p, 0) == '^') {
		negate = true;
		p->pos++;
	}
	tg_re_set set = { 0 };
	bool first = true;
	for (;;) {
		int c = peek(p, 0);
		if (c < 0) {
			tg_re_errorf(p->err, open, "unterminated class: missing ']' for the '[' at offset %zu", open);
			goto fail;
		}
		if (c == ']' && !first) {
			p->pos++;
			break;
		}
		first = false;
		size_t item = p->pos;
		uint32_t lo, hi;
		if (!class_char(p, &set, &lo))
			goto fail;
		bool range = peek(p, 0) == '-' && peek(p, 1) != ']' && peek(p, 1) >= 0;
		if (!range) {
			if (lo != TG_RE_NONE && !tg_re_set_add(&set, lo, lo))
				goto nomem;
			continue;
		}
		if (lo == TG_RE_NONE) {
			tg_re_errorf(p->err, item, "a class shorthand (\\d, \\w, \\s ...) cannot start a range; "
				     "escape the '-' as \\- for a literal dash");
			goto fail;
		}
		p->pos++;
		size_t end_at = p->pos;
		if (!class_char(p, &set, &hi))
			goto fail;
		if (hi == TG_RE_NONE) {
			tg_re_errorf(p->err, end_at, "a class shorthand (\\d, \\w, \\s ...) cannot end a range; "
				     "escape the '-' as \\- for a literal dash");
			goto fail;
		}
		if (hi < lo) {
			char what[64];
			describe_range(p, item, what, sizeof what);
			tg_re_errorf(p->err, item, "reversed range '%s' in class: its start comes after its end", what);
			goto fail;
		}
		if (!tg_re_set_add(&set, lo, hi))
			goto nomem;
	}
	if (negate && !tg_re_set_complement(&set))
		goto nomem;
	return set_node(p, &set);
nomem:
	oom(p);
fail:
	tg_re_set_free(&set);
	return TG_RE_NONE;
}

static uint32_t parse_alt(re_parser *p);

/* The "(?" forms: only (?:...) and named groups group; the rest are refused. */
static bool parse_group_prefix(re_parser *p, size_t open)
{
	int c = peek(p, 2);
	if (c == ':') {
		p->pos += 3;
		return true;
	}
	if (c == '=' || c == '!' || (c == '<' && (peek(p, 3) == '=' || peek(p, 3) == '!'))) {
		tg_re_errorf(p->err, open, "lookahead/lookbehind is not supported: it cannot run as a finite automaton");
		return false;
	}
	if (c == '>') {
		tg_re_errorf(p->err, open, "atomic groups (?>...) are not supported");
		return false;
	}
	if (c == 'P' && peek(p, 3) == '=') {
		tg_re_errorf(p->err, open, "backreferences are not supported: they cannot run in linear time");
		return false;
	}
	if (c == '<' || (c == 'P' && peek(p, 3) == '<')) {
		/* A named group groups like any other: there are no captures to name. */
		size_t name = p->pos + (c == '<' ? 3 : 4);
		size_t i = name;
		while (i < p->len && (p->src[i] == '_' || (p->src[i] >= '0' && p->src[i] <= '9') ||
				      ((p->src[i] | 0x20) >= 'a' && (p->src[i] | 0x20) <= 'z')))
			i++;
		if (i == name || i >= p->len || p->src[i] != '>' || (p->src[name] >= '0' && p->src[name] <= '9')) {
			tg_re_errorf(p->err, open, "invalid group name: write (?P<name>...) with letters, digits and '_'");
			return false;
		}
		p->pos = i + 1;
		return true;
	}
	if (c == '#') {
		tg_re_errorf(p->err, open, "comments (?#...) are not supported");
		return false;
	}
	size_t i = p->pos + 2;
	bool has_i = false, only_s = true;
	while (i < p->len && (((p->src[i] | 0x20) >= 'a' && (p->src[i] | 0x20) <= 'z') || p->src[i] == '-')) {
		has_i |= p->src[i] == 'i';
		only_s &= p->src[i] == 's';
		i++;
	}
	if (i > p->pos + 2 && i < p->len && (p->src[i] == ')' || p->src[i] == ':')) {
		if (has_i)
			tg_re_errorf(p->err, open, "case-insensitive matching (?i) is not supported; "
				     "write a class for each letter, such as [Aa]");
		else if (only_s && i == p->pos + 3 && p->src[i] == ')')
			tg_re_errorf(p->err, open, "the flag (?s) is only supported at the very start of the pattern");
		else
			tg_re_errorf(p->err, open, "flags are not supported, except (?s) at the very start of the pattern");
		return false;
	}
	tg_re_errorf(p->err, open, "unknown group syntax after '(?'");
	return false;
}

static uint32_t parse_group(re_parser *p)
{
	size_t open = p->pos;
	if (p->depth >= TG_RE_MAX_DEPTH) {
		tg_re_errorf(p->err, open, "groups are nested more than %u deep", TG_RE_MAX_DEPTH);
		return TG_RE_NONE;
	}
	if (peek(p, 1) == '?') {
		if (!parse_group_prefix(p, open))
			return TG_RE_NONE;
	} else {
		p->pos++;
	}
	p->depth++;
	uint32_t inner = parse_alt(p);
	p->depth--;
	if (inner == TG_RE_NONE)
		return TG_RE_NONE;
	if (peek(p, 0) != ')') {
		tg_re_errorf(p->err, open, "missing ')' to close the '(' at offset %zu", open);
		return TG_RE_NONE;
	}
	p->pos++;
	return inner;
}

static uint32_t parse_atom(re_parser *p)
{
	int c = peek(p, 0);
	tg_re_set set = { 0 };
	uint32_t cp;
	switch (c) {
	case '(':
		return parse_group(p);
	case '[':
		return parse_class(p);
	case '.':
		p->pos++;
		if (!(p->dotall ? tg_re_set_add(&set, 0, TG_RE_MAX_CP)
				: tg_re_set_add(&set, 0, '\n' - 1) && tg_re_set_add(&set, '\n' + 1, TG_RE_MAX_CP))) {
			tg_re_set_free(&set);
			return oom(p);
		}
		return set_node(p, &set);
	case '\\':
		if (!parse_escape(p, &set, &cp)) {
			tg_re_set_free(&set);
			return TG_RE_NONE;
		}
		if (cp != TG_RE_NONE && !tg_re_set_add(&set, cp, cp)) {
			tg_re_set_free(&set);
			return oom(p);
		}
		return set_node(p, &set);
	case '*': case '+': case '?':
		tg_re_errorf(p->err, p->pos, "nothing to repeat before '%c'", c);
		return TG_RE_NONE;
	case '{':
		tg_re_errorf(p->err, p->pos, "nothing to repeat before '{' (write \\{ for a literal brace)");
		return TG_RE_NONE;
	}
	if (!next_cp(p, &cp))
		return TG_RE_NONE;
	if (!tg_re_set_add(&set, cp, cp))
		return oom(p);
	return set_node(p, &set);
}

/* Digits of a repetition count, saturating past the limit. */
static bool repeat_count(re_parser *p, uint32_t *v)
{
	if (!(peek(p, 0) >= '0' && peek(p, 0) <= '9'))
		return false;
	*v = 0;
	while (peek(p, 0) >= '0' && peek(p, 0) <= '9') {
		if (*v <= TG_RE_MAX_REPEAT)
			*v = *v * 10 + (uint32_t)(peek(p, 0) - '0');
		p->pos++;
	}
	return true;
}

/* {m}, {m,} or {m,n} at the cursor; anything else after an atom is refused
 * rather than read as literal text, since engines disagree on it ({,n}). */
static bool parse_braces(re_parser *p, uint32_t *min, uint32_t *max)
{
	size_t open = p->pos;
	p->pos++;
	if (!repeat_count(p, min))
		goto bad;
	*max = *min;
	if (peek(p, 0) == ',') {
		p->pos++;
		*max = TG_RE_INF;
		if (peek(p, 0) != '}' && !repeat_count(p, max))
			goto bad;
	}
	if (peek(p, 0) != '}')
		goto bad;
	p->pos++;
	if (*min > TG_RE_MAX_REPEAT || (*max != TG_RE_INF && *max > TG_RE_MAX_REPEAT)) {
		tg_re_errorf(p->err, open, "repetition count over the limit of %u", TG_RE_MAX_REPEAT);
		return false;
	}
	if (*max < *min) {
		tg_re_errorf(p->err, open, "invalid repetition {%u,%u}: the minimum is larger than the maximum",
			     (unsigned)*min, (unsigned)*max);
		return false;
	}
	return true;
bad:
	tg_re_errorf(p->err, open, "'{' must be a repetition {m}, {m,} or {m,n} (write \\{ for a literal brace)");
	return false;
}

static bool at_quantifier(const re_parser *p)
{
	int c = peek(p, 0);
	return c == '*' || c == '+' || c == '?' || c == '{';
}

static uint32_t parse_repeat(re_parser *p)
{
	uint32_t atom = parse_atom(p);
	if (atom == TG_RE_NONE || !at_quantifier(p))
		return atom;
	size_t q = p->pos;
	uint32_t min = 0, max = TG_RE_INF;
	switch (peek(p, 0)) {
	case '*': p->pos++; break;
	case '+': p->pos++; min = 1; break;
	case '?': p->pos++; max = 1; break;
	default:
		if (!parse_braces(p, &min, &max))
			return TG_RE_NONE;
	}
	if (peek(p, 0) == '?')	/* lazy: the same strings under whole-value matching */
		p->pos++;
	else if (peek(p, 0) == '+') {
		tg_re_errorf(p->err, p->pos, "possessive quantifiers like '*+' are not supported; "
			     "use the plain quantifier");
		return TG_RE_NONE;
	}
	if (at_quantifier(p)) {
		tg_re_errorf(p->err, p->pos, "double repetition: nothing to repeat after the quantifier at offset %zu; "
			     "use a group, as in (?:a*)*", q);
		return TG_RE_NONE;
	}
	uint32_t r = new_node(p, TG_RE_REPEAT);
	if (r == TG_RE_NONE)
		return r;
	p->ast->nodes[r].min = min;
	p->ast->nodes[r].max = max;
	p->ast->nodes[r].child = atom;
	return r;
}

static bool at_end_anchor(const re_parser *p)
{
	return (peek(p, 0) == '$' && p->pos + 1 == p->len) ||
	       (peek(p, 0) == '\\' && peek(p, 1) == 'z' && p->pos + 2 == p->len);
}

static uint32_t parse_concat(re_parser *p)
{
	uint32_t cat = new_node(p, TG_RE_CAT), last = TG_RE_NONE;
	if (cat == TG_RE_NONE)
		return cat;
	for (;;) {
		int c = peek(p, 0);
		if (c < 0 || c == '|' || (c == ')' && p->depth > 0))
			break;
		if (c == ')') {
			tg_re_errorf(p->err, p->pos, "unmatched ')'");
			return TG_RE_NONE;
		}
		if (c == '^' || (c == '\\' && peek(p, 1) == 'A')) {
			if (p->pos != p->body) {
				tg_re_errorf(p->err, p->pos, "'%s' %s", c == '^' ? "^" : "\\A", anchored_start);
				return TG_RE_NONE;
			}
			p->pos += c == '^' ? 1 : 2;
			continue;
		}
		if (at_end_anchor(p)) {
			p->pos = p->len;
			break;
		}
		if (c == '$') {
			tg_re_errorf(p->err, p->pos, "'$' %s", anchored_end);
			return TG_RE_NONE;
		}
		uint32_t item = parse_repeat(p);
		if (item == TG_RE_NONE)
			return TG_RE_NONE;
		if (last == TG_RE_NONE)
			p->ast->nodes[cat].child = item;
		else
			p->ast->nodes[last].next = item;
		last = item;
	}
	return cat;
}

static uint32_t parse_alt(re_parser *p)
{
	uint32_t first = parse_concat(p);
	if (first == TG_RE_NONE || peek(p, 0) != '|')
		return first;
	uint32_t alt = new_node(p, TG_RE_ALT), last = first;
	if (alt == TG_RE_NONE)
		return alt;
	p->ast->nodes[alt].child = first;
	while (peek(p, 0) == '|') {
		p->pos++;
		uint32_t next = parse_concat(p);
		if (next == TG_RE_NONE)
			return TG_RE_NONE;
		p->ast->nodes[last].next = next;
		last = next;
	}
	return alt;
}

bool tg_re_parse(const char *pattern, size_t len, tg_re_ast *ast, tg_re_error *err)
{
	re_parser p = { .src = pattern, .len = len, .ast = ast, .err = err };
	*ast = (tg_re_ast){ .root = TG_RE_NONE };
	if (len >= 4 && memcmp(pattern, "(?s)", 4) == 0) {
		p.dotall = true;
		p.pos = p.body = 4;
	}
	ast->root = parse_alt(&p);
	return ast->root != TG_RE_NONE;
}

void tg_re_ast_free(tg_re_ast *ast)
{
	for (uint32_t i = 0; i < ast->n; i++)
		tg_re_set_free(&ast->nodes[i].set);
	free(ast->nodes);
	*ast = (tg_re_ast){ .root = TG_RE_NONE };
}
