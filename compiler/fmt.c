/*
 * fmt.c - prints a parsed policy in its one canonical layout
 * (docs/formatting.md is the specification; this is its implementation).
 *
 * The layout is a function of the AST, of where comments sit relative to
 * the tokens, and of where the source had blank lines between statements;
 * nothing else of the source's layout survives. That is what makes the
 * formatter idempotent: reparsing the output gives the same AST, the same
 * comment order relative to the same tokens and the same blank lines, so the
 * second run prints the same bytes.
 *
 * Statements are cut into segments, each printed on its own line(s): a rule
 * is [`rule "ID":`] + head + one segment per when/unless/because clause; a
 * declaration is one segment, or, for a wrapped list, one per item. Each
 * comment is placed before any output, by its position against the
 * segments' spans:
 *
 *   - after a segment, first in its gap, and ending a source line that has
 *     code: trails the segment's last line, two columns after the code or
 *     aligned with the trailing comments of the lines around it;
 *   - between two operands of an and/or chain of a condition: kept there,
 *     and the chain is broken so it has a line to sit on (fmt_expr.c);
 *   - anywhere else: on a line of its own before the segment it precedes or
 *     lies in (after the statement when no segment follows).
 *
 * Comments keep their text and marker (`#` or `//`); only trailing blanks
 * are dropped. Each output line ends in at most one comment, so no two
 * comments can merge into one on reparse.
 */
#include "stages.h"
#include "fmt_internal.h"

#include <stdlib.h>

void tg_fmt_begin_line(tg_fmt_state *st, unsigned indent)
{
	if (st->out.len > 0 && st->out.s[st->out.len - 1] != '\n')
		tg_fmt_putc(&st->out, '\n');
	st->line_has_comment = false;
	tg_fmt_spaces(&st->out, indent);
}

static void blank_line(tg_fmt_state *st)
{
	if (st->out.len == 0)
		return;
	if (st->out.s[st->out.len - 1] != '\n')
		tg_fmt_putc(&st->out, '\n');
	tg_fmt_putc(&st->out, '\n');
	st->line_has_comment = false;
}

/* Newlines in the source between two offsets. */
static size_t newlines(const tg_ast *ast, uint32_t from, uint32_t to)
{
	size_t n = 0;
	for (uint32_t i = from; i < to && i < ast->len; i++)
		n += ast->src[i] == '\n';
	return n;
}

/* Where a statement's first token starts. An unnamed rule starts at its
 * allow/deny keyword whatever its span says, so a span that also covers the
 * blanks before the rule cannot pull comments into it. */
static uint32_t stmt_start(const tg_stmt *stmt)
{
	if (stmt->kind == TG_STMT_RULE && !stmt->u.rule->has_id)
		return stmt->u.rule->effect_span.start;
	return stmt->span.start;
}

/* ---- segments and comment placement ---------------------------------- */

typedef struct seg {
	uint32_t start, end;
	const tg_expr *expr;	/* when/unless: the condition, else NULL */
} seg;

/* Places the statement's comments [clo, chi) against nseg segments in
 * source order (see the header comment). */
static void place_comments(tg_fmt_state *st, const seg *segs, size_t nseg)
{
	size_t last_gap = (size_t)-1, j = 0;
	for (size_t i = st->clo; i < st->chi;) {
		uint32_t c = st->ast->comments[i].span.start;
		while (j < nseg && segs[j].start <= c)
			j++;
		if (j == 0) {
			st->kind[i] = TG_FMT_C_BEFORE;
			st->seg[i++] = 0;
			continue;
		}
		size_t s = j - 1;
		if (c < segs[s].end) {
			/* Inside segment s: all its comments at once. */
			size_t e = i;
			while (e < st->chi && st->ast->comments[e].span.start < segs[s].end)
				e++;
			if (segs[s].expr) {
				tg_fmt_expr_place(st, segs[s].expr, i, e, s);
			} else {
				for (size_t k = i; k < e; k++) {
					st->kind[k] = TG_FMT_C_BEFORE;
					st->seg[k] = s;
				}
			}
			i = e;
			continue;
		}
		if (last_gap != s && st->eol[i]) {
			st->kind[i] = TG_FMT_C_TRAIL;
			st->seg[i] = s;
		} else {
			st->kind[i] = TG_FMT_C_BEFORE;
			st->seg[i] = s + 1;
		}
		last_gap = s;
		i++;
	}
}

/* The comments placed before segment s; all start in [from, to), which
 * keeps the scan short in a statement with many segments. */
static void comments_before(tg_fmt_state *st, size_t s, unsigned indent, uint32_t from,
			    uint32_t to)
{
	for (size_t i = tg_fmt_first_comment(st, from);
	     i < st->chi && st->ast->comments[i].span.start < to; i++)
		if (st->kind[i] == TG_FMT_C_BEFORE && st->seg[i] == s)
			tg_fmt_comment_line(st, i, indent);
}

static void comments_trail(tg_fmt_state *st, size_t s, uint32_t from, uint32_t to)
{
	for (size_t i = tg_fmt_first_comment(st, from);
	     i < st->chi && st->ast->comments[i].span.start < to; i++) {
		if (st->kind[i] != TG_FMT_C_TRAIL || st->seg[i] != s)
			continue;
		if (st->line_has_comment)
			tg_fmt_comment_line(st, i, 0);	/* cannot happen: one per gap */
		else
			tg_fmt_comment_trail(st, i);
	}
}

/* ---- rules ------------------------------------------------------------ */

static void subject(tg_fmt_buf *b, const tg_subject *s)
{
	static const char *const kw[] = {
		[TG_SUBJ_ANYONE] = "anyone", [TG_SUBJ_ROLE] = "role",
		[TG_SUBJ_SCOPE] = "scope", [TG_SUBJ_PRINCIPAL] = "principal",
		[TG_SUBJ_CLIENT] = "client",
	};
	tg_fmt_puts(b, kw[s->kind]);
	for (size_t i = 0; i < s->n; i++) {
		tg_fmt_puts(b, i == 0 ? " " : ", ");
		if (s->kind == TG_SUBJ_ROLE)
			tg_fmt_name(b, &s->items[i]);
		else
			tg_fmt_string(b, s->items[i].s, s->items[i].len);
	}
}

/* The action up to its patterns ("call tool", "list tools", ...). */
static const char *action_words(const tg_action *a)
{
	switch (a->kind) {
	case TG_ACT_CALL_TOOL: return a->any ? "call any tool" : "call tool";
	case TG_ACT_READ_RESOURCE: return a->any ? "read any resource" : "read resource";
	case TG_ACT_GET_PROMPT: return a->any ? "get any prompt" : "get prompt";
	case TG_ACT_LIST_TOOLS: return "list tools";
	case TG_ACT_LIST_RESOURCES: return "list resources";
	case TG_ACT_LIST_PROMPTS: return "list prompts";
	case TG_ACT_LIST_RESOURCE_TEMPLATES: return "list resource_templates";
	case TG_ACT_INVOKE: return "invoke";
	case TG_ACT_ANYTHING: return "do anything";
	}
	return "?";
}

static void pattern(tg_fmt_buf *b, const tg_pattern *p)
{
	if (p->is_set)
		tg_fmt_put(b, p->text.s, p->text.len);	/* a set name is a word */
	else
		tg_fmt_string(b, p->text.s, p->text.len);
}

/* `allow SUBJECT to ACTION`, stopping before the patterns. */
static void head_words(tg_fmt_buf *b, const tg_rule *r)
{
	tg_fmt_puts(b, r->effect == TG_EFFECT_ALLOW ? "allow " : "deny ");
	subject(b, &r->subject);
	tg_fmt_puts(b, " to ");
	tg_fmt_puts(b, action_words(&r->action));
}

static void head(tg_fmt_state *st, const tg_rule *r, unsigned indent, unsigned trail)
{
	const tg_action *a = &r->action;
	size_t n = a->any ? 0 : a->n;
	tg_fmt_buf tmp = {0};
	head_words(&tmp, r);
	for (size_t i = 0; i < n; i++) {
		tg_fmt_puts(&tmp, i == 0 ? " " : ", ");
		pattern(&tmp, &a->items[i]);
	}
	if (tmp.oom)
		st->out.oom = true;
	else if (n < 2 || indent + tg_fmt_width(tmp.s, tmp.len) + trail <= TG_FMT_WIDTH)
		tg_fmt_put(&st->out, tmp.s, tmp.len);
	else {
		head_words(&st->out, r);
		for (size_t i = 0; i < n; i++) {
			tg_fmt_begin_line(st, indent + 4);
			pattern(&st->out, &a->items[i]);
			if (i + 1 < n)
				tg_fmt_putc(&st->out, ',');
		}
	}
	tg_fmt_buf_free(&tmp);
}

static uint32_t max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static void fmt_rule(tg_fmt_state *st, const tg_stmt *stmt)
{
	const tg_rule *r = stmt->u.rule;
	size_t cap = 2 + r->nwhen + r->nunless + 1, nseg = 0, head_seg;
	seg *segs = calloc(cap, sizeof *segs);
	if (!segs) {
		st->out.oom = true;
		return;
	}
	if (r->has_id)
		segs[nseg++] = (seg){stmt_start(stmt), r->id.span.end, NULL};
	uint32_t hend = max32(r->action.span.end, r->subject.span.end);
	for (size_t i = 0; i < r->action.n; i++)
		hend = max32(hend, r->action.items[i].text.span.end);
	head_seg = nseg;
	segs[nseg++] = (seg){r->effect_span.start, hend, NULL};
	for (size_t i = 0; i < r->nwhen; i++)
		segs[nseg++] = (seg){r->when[i]->span.start, r->when[i]->span.end, r->when[i]};
	for (size_t i = 0; i < r->nunless; i++)
		segs[nseg++] = (seg){r->unless[i]->span.start, r->unless[i]->span.end, r->unless[i]};
	if (r->has_because)
		segs[nseg++] = (seg){r->because.span.start, r->because.span.end, NULL};
	place_comments(st, segs, nseg);

	for (size_t s = 0; s < nseg; s++) {
		unsigned indent = s == 0 ? 0 : 2, trail = s + 1 == nseg;
		comments_before(st, s, indent, s == 0 ? 0 : segs[s - 1].end, segs[s].end);
		tg_fmt_begin_line(st, indent);
		if (r->has_id && s == 0) {
			tg_fmt_puts(&st->out, "rule ");
			tg_fmt_string(&st->out, r->id.s, r->id.len);
			tg_fmt_putc(&st->out, ':');
		} else if (s == head_seg) {
			head(st, r, indent, trail);
		} else if (segs[s].expr) {
			bool is_when = s < head_seg + 1 + r->nwhen;
			tg_fmt_puts(&st->out, is_when ? "when " : "unless ");
			tg_fmt_expr_cond(st, segs[s].expr, indent + 2, trail);
		} else {
			tg_fmt_puts(&st->out, "because ");
			tg_fmt_string(&st->out, r->because.s, r->because.len);
		}
		if (trail)
			tg_fmt_putc(&st->out, ';');
		comments_trail(st, s, segs[s].end, trail ? UINT32_MAX : segs[s + 1].start);
	}
	comments_before(st, nseg, 0, segs[nseg - 1].end, UINT32_MAX);
	free(segs);
}

/* ---- declarations ----------------------------------------------------- */

static void type_name(tg_fmt_buf *b, tg_type t)
{
	switch (t) {
	case TG_TY_STRING: tg_fmt_puts(b, "string"); break;
	case TG_TY_INT: tg_fmt_puts(b, "int"); break;
	case TG_TY_BOOL: tg_fmt_puts(b, "bool"); break;
	case TG_TY_STRING_LIST: tg_fmt_puts(b, "list<string>"); break;
	case TG_TY_INT_LIST: tg_fmt_puts(b, "list<int>"); break;
	default: tg_fmt_puts(b, "?"); break;
	}
}

/* A statement ending in a list: `set NAME = [...]` or an attribute with a
 * domain. One line when it fits and holds no comment, else one item per
 * line, so each item can carry its own comment. */
typedef struct list_decl {
	const tg_name *names;	/* set items, or */
	tg_expr *const *exprs;	/* domain items */
	size_t n;
} list_decl;

static tg_span item_span(const list_decl *l, size_t i)
{
	return l->names ? l->names[i].span : l->exprs[i]->span;
}

static void item(tg_fmt_buf *b, const list_decl *l, size_t i)
{
	if (l->names)
		tg_fmt_string(b, l->names[i].s, l->names[i].len);
	else
		tg_fmt_expr_flat(b, l->exprs[i]);
}

static void fmt_list_decl(tg_fmt_state *st, const tg_fmt_buf *prefix, const list_decl *l)
{
	size_t last_gap = (size_t)-1, g = 0;
	for (size_t i = st->clo; i < st->chi; i++) {
		uint32_t c = st->ast->comments[i].span.start;
		while (g < l->n && item_span(l, g).end <= c)
			g++;
		st->kind[i] = last_gap != g && st->eol[i] ? TG_FMT_C_TRAIL : TG_FMT_C_BEFORE;
		st->seg[i] = g;
		last_gap = g;
	}

	tg_fmt_buf tmp = {0};
	tg_fmt_put(&tmp, prefix->s, prefix->len);
	tg_fmt_putc(&tmp, '[');
	for (size_t i = 0; i < l->n; i++) {
		if (i > 0)
			tg_fmt_puts(&tmp, ", ");
		item(&tmp, l, i);
	}
	tg_fmt_puts(&tmp, "];");
	if (tmp.oom)
		st->out.oom = true;
	tg_fmt_begin_line(st, 0);
	if (st->chi == st->clo && tg_fmt_width(tmp.s, tmp.len) <= TG_FMT_WIDTH) {
		tg_fmt_put(&st->out, tmp.s, tmp.len);
		tg_fmt_buf_free(&tmp);
		return;
	}
	tg_fmt_buf_free(&tmp);
	tg_fmt_put(&st->out, prefix->s, prefix->len);
	tg_fmt_putc(&st->out, '[');
	/* Gap g (comments before item g) spans [end of item g-1, end of item g). */
	comments_trail(st, 0, 0, l->n ? item_span(l, 0).end : UINT32_MAX);
	for (size_t i = 0; i < l->n; i++) {
		uint32_t from = i ? item_span(l, i - 1).end : 0, to = item_span(l, i).end;
		uint32_t next = i + 1 < l->n ? item_span(l, i + 1).end : UINT32_MAX;
		comments_before(st, i, 2, from, to);
		tg_fmt_begin_line(st, 2);
		item(&st->out, l, i);
		if (i + 1 < l->n)
			tg_fmt_putc(&st->out, ',');
		comments_trail(st, i + 1, to, next);
	}
	comments_before(st, l->n, 2, l->n ? item_span(l, l->n - 1).end : 0, UINT32_MAX);
	tg_fmt_begin_line(st, 0);
	tg_fmt_puts(&st->out, "];");
}

/* Everything else fits one segment: its comments go before it. */
static void fmt_decl(tg_fmt_state *st, const tg_stmt *stmt)
{
	tg_fmt_buf *b = &st->out;
	for (size_t i = st->clo; i < st->chi; i++) {
		st->kind[i] = TG_FMT_C_BEFORE;
		st->seg[i] = 0;
	}
	comments_before(st, 0, 0, 0, UINT32_MAX);
	tg_fmt_begin_line(st, 0);
	switch (stmt->kind) {
	case TG_STMT_POLICY:
		tg_fmt_puts(b, "policy ");
		tg_fmt_string(b, stmt->u.policy.name.s, stmt->u.policy.name.len);
		if (stmt->u.policy.has_version) {
			tg_fmt_puts(b, " version ");
			tg_fmt_string(b, stmt->u.policy.version.s, stmt->u.policy.version.len);
		}
		break;
	case TG_STMT_DEFAULT:
		tg_fmt_puts(b, stmt->u.default_effect == TG_EFFECT_ALLOW ? "default allow"
									: "default deny");
		break;
	case TG_STMT_ROLE: {
		const tg_role_decl *r = stmt->u.role;
		tg_fmt_puts(b, "role ");
		tg_fmt_name(b, &r->name);
		for (size_t i = 0; i < r->nparents; i++) {
			tg_fmt_puts(b, i == 0 ? ": " : ", ");
			tg_fmt_name(b, &r->parents[i]);
		}
		break;
	}
	case TG_STMT_ATTRIBUTE:
		tg_fmt_puts(b, "attribute ");
		tg_fmt_path(b, &stmt->u.attr->path);
		tg_fmt_puts(b, ": ");
		type_name(b, stmt->u.attr->type);
		break;
	default:
		break;
	}
	tg_fmt_putc(b, ';');
}

static void fmt_stmt(tg_fmt_state *st, const tg_stmt *stmt)
{
	tg_fmt_buf prefix = {0};
	list_decl l = {0};
	switch (stmt->kind) {
	case TG_STMT_RULE:
		fmt_rule(st, stmt);
		return;
	case TG_STMT_SET:
		tg_fmt_puts(&prefix, "set ");
		tg_fmt_put(&prefix, stmt->u.set->name.s, stmt->u.set->name.len);
		tg_fmt_puts(&prefix, " = ");
		l.names = stmt->u.set->items;
		l.n = stmt->u.set->n;
		break;
	case TG_STMT_ATTRIBUTE:
		if (!stmt->u.attr->has_domain) {
			fmt_decl(st, stmt);
			return;
		}
		tg_fmt_puts(&prefix, "attribute ");
		tg_fmt_path(&prefix, &stmt->u.attr->path);
		tg_fmt_puts(&prefix, ": ");
		type_name(&prefix, stmt->u.attr->type);
		tg_fmt_puts(&prefix, " in ");
		l.exprs = stmt->u.attr->domain;
		l.n = stmt->u.attr->ndomain;
		break;
	default:
		fmt_decl(st, stmt);
		return;
	}
	if (prefix.oom)
		st->out.oom = true;
	else
		fmt_list_decl(st, &prefix, &l);
	tg_fmt_buf_free(&prefix);
}

/* ---- the file ---------------------------------------------------------- */

int tg_fmt(const tg_ast *ast, FILE *out)
{
	tg_fmt_state st = {0};
	tg_fmt_buf aligned = {0};
	size_t nc = ast->ncomments, ci = 0;
	bool have_prev = false;
	uint32_t prev_end = 0;
	int rc = 0;

	st.ast = ast;
	st.eol = calloc(nc ? nc : 1, sizeof *st.eol);
	st.kind = calloc(nc ? nc : 1, sizeof *st.kind);
	st.seg = calloc(nc ? nc : 1, sizeof *st.seg);
	if (!st.eol || !st.kind || !st.seg) {
		rc = -1;
		goto done;
	}
	for (size_t i = 0; i < nc; i++)
		st.eol[i] = tg_fmt_ends_code_line(ast, i);

	for (size_t k = 0; k <= ast->nstmts; k++) {
		const tg_stmt *stmt = k < ast->nstmts ? &ast->stmts[k] : NULL;
		uint32_t start = stmt ? stmt_start(stmt) : UINT32_MAX;
		bool first = true;

		/* Comments between statements. */
		for (; ci < nc && ast->comments[ci].span.start < start; ci++) {
			const tg_comment *c = &ast->comments[ci];
			if (first && have_prev && st.eol[ci] && !st.line_has_comment) {
				tg_fmt_comment_trail(&st, ci);
			} else {
				if (have_prev && newlines(ast, prev_end, c->span.start) >= 2)
					blank_line(&st);
				tg_fmt_comment_line(&st, ci, 0);
				prev_end = c->span.end;
				have_prev = true;
			}
			first = false;
		}
		if (!stmt)
			break;

		if (have_prev && newlines(ast, prev_end, start) >= 2)
			blank_line(&st);
		st.clo = ci;
		while (ci < nc && ast->comments[ci].span.start < stmt->span.end)
			ci++;
		st.chi = ci;
		fmt_stmt(&st, stmt);
		prev_end = stmt->span.end;
		have_prev = true;
	}
	if (st.out.len > 0 && st.out.s[st.out.len - 1] != '\n')
		tg_fmt_putc(&st.out, '\n');

	if (st.out.oom || tg_fmt_align_trails(&st, &aligned) < 0)
		rc = -1;
	else if (aligned.len > 0 && fwrite(aligned.s, 1, aligned.len, out) != aligned.len)
		rc = -1;
	tg_fmt_buf_free(&aligned);
done:
	free(st.trails);
	free(st.eol);
	free(st.kind);
	free(st.seg);
	tg_fmt_buf_free(&st.out);
	return rc;
}
