/*
 * test_fmt.c - the formatter: golden layouts, idempotence, and that
 * formatting never changes meaning.
 *
 * Every tests/golden/fmt/NAME.tg is formatted and compared byte for byte with
 * its .expected (TG_UPDATE_GOLDEN=1 rewrites them). Every golden input and
 * every policies/examples/NAME.tg (globbed at run time) is also checked for:
 * fmt(fmt(x)) == fmt(x); the AST of the output equals the AST of the input
 * (structurally, spans ignored); the same comments, in the same order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages.h"
#include "fmt_internal.h"

/* ---- helpers ---------------------------------------------------------- */

typedef struct parsed {
	tg_arena arena;
	tg_diags diags;
	tg_ast *ast;
	char *src;
} parsed;

/* Parses a copy of src[0..len); the AST must be free of syntax errors. */
static void parse(parsed *p, const char *path, const char *src, size_t len)
{
	tg_arena_init(&p->arena);
	tg_diags_init(&p->diags, &p->arena);
	p->src = malloc(len + 1);
	assert_non_null(p->src);
	memcpy(p->src, src, len);
	p->src[len] = '\0';
	p->ast = tg_parse(&p->arena, path, p->src, len, &p->diags);
	assert_non_null(p->ast);
	if (p->diags.nerrors > 0) {
		tg_diags_print(stderr, path, p->src, len, &p->diags);
		fail_msg("%s: syntax errors", path);
	}
}

static void parsed_free(parsed *p)
{
	tg_arena_free(&p->arena);
	free(p->src);
}

static char *format(const tg_ast *ast, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(tg_fmt(ast, f), 0);
	assert_int_equal(fclose(f), 0);
	*len = n;
	return buf;
}

/* Formats src and returns the output (malloc'd). */
static char *fmt_str(const char *src)
{
	parsed p;
	size_t n;
	parse(&p, "inline.tg", src, strlen(src));
	char *out = format(p.ast, &n);
	parsed_free(&p);
	return out;
}

static char *read_all(const char *path, size_t *len)
{
	char *s = tg_read_file(path, TG_MAX_SOURCE_BYTES, len);
	if (!s)
		fail_msg("%s: %s", path, strerror(errno));
	return s;
}

static void write_all(const char *path, const char *s, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* ---- structural AST comparison (spans ignored) ------------------------- */

static const char *where;	/* the file being compared, for messages */

static bool differs(const char *what)
{
	print_error("%s: formatted AST differs: %s\n", where, what);
	return false;
}

static bool name_eq(const tg_name *a, const tg_name *b)
{
	return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

static bool names_eq(const tg_name *a, size_t na, const tg_name *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!name_eq(&a[i], &b[i]))
			return false;
	return true;
}

static bool path_eq(const tg_path *a, const tg_path *b)
{
	return a->root == b->root && names_eq(a->fields, a->nfields, b->fields, b->nfields);
}

static bool expr_eq(const tg_expr *a, const tg_expr *b);

static bool exprs_eq(tg_expr *const *a, size_t na, tg_expr *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!expr_eq(a[i], b[i]))
			return false;
	return true;
}

static bool expr_eq(const tg_expr *a, const tg_expr *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case TG_E_OR:
	case TG_E_AND:
	case TG_E_ADD:
	case TG_E_SUB:
		return expr_eq(a->u.bin.lhs, b->u.bin.lhs) && expr_eq(a->u.bin.rhs, b->u.bin.rhs);
	case TG_E_NOT:
	case TG_E_PAREN:
		return expr_eq(a->u.operand, b->u.operand);
	case TG_E_CMP:
		return a->u.cmp.op == b->u.cmp.op && expr_eq(a->u.cmp.lhs, b->u.cmp.lhs) &&
		       expr_eq(a->u.cmp.rhs, b->u.cmp.rhs);
	case TG_E_HAS:
		return path_eq(&a->u.has.base, &b->u.has.base) &&
		       name_eq(&a->u.has.field, &b->u.has.field);
	case TG_E_IS:
		return name_eq(&a->u.is.role, &b->u.is.role);
	case TG_E_QUANT:
		return a->u.quant.all == b->u.quant.all && a->u.quant.op == b->u.quant.op &&
		       expr_eq(a->u.quant.list, b->u.quant.list) &&
		       expr_eq(a->u.quant.value, b->u.quant.value);
	case TG_E_PATH:
		return path_eq(&a->u.path, &b->u.path);
	case TG_E_STRING:
		return name_eq(&a->u.str, &b->u.str);
	case TG_E_INT:
		return a->u.i == b->u.i;
	case TG_E_BOOL:
		return a->u.b == b->u.b;
	case TG_E_LIST:
		return exprs_eq(a->u.list.items, a->u.list.n, b->u.list.items, b->u.list.n);
	case TG_E_SET:
		return name_eq(&a->u.set.name, &b->u.set.name);
	}
	return false;
}

static bool rule_eq(const tg_rule *a, const tg_rule *b)
{
	if (a->has_id != b->has_id || (a->has_id && !name_eq(&a->id, &b->id)))
		return differs("rule id");
	if (a->effect != b->effect)
		return differs("effect");
	if (a->subject.kind != b->subject.kind ||
	    !names_eq(a->subject.items, a->subject.n, b->subject.items, b->subject.n))
		return differs("subject");
	if (a->action.kind != b->action.kind || a->action.any != b->action.any ||
	    a->action.n != b->action.n)
		return differs("action");
	for (size_t i = 0; i < a->action.n; i++)
		if (a->action.items[i].is_set != b->action.items[i].is_set ||
		    !name_eq(&a->action.items[i].text, &b->action.items[i].text))
			return differs("action pattern");
	if (!exprs_eq(a->when, a->nwhen, b->when, b->nwhen))
		return differs("when clauses");
	if (!exprs_eq(a->unless, a->nunless, b->unless, b->nunless))
		return differs("unless clauses");
	if (a->has_because != b->has_because ||
	    (a->has_because && !name_eq(&a->because, &b->because)))
		return differs("because");
	return true;
}

static bool stmt_eq(const tg_stmt *a, const tg_stmt *b)
{
	if (a->kind != b->kind)
		return differs("statement kind");
	switch (a->kind) {
	case TG_STMT_POLICY:
		if (!name_eq(&a->u.policy.name, &b->u.policy.name) ||
		    a->u.policy.has_version != b->u.policy.has_version ||
		    (a->u.policy.has_version &&
		     !name_eq(&a->u.policy.version, &b->u.policy.version)))
			return differs("policy");
		return true;
	case TG_STMT_DEFAULT:
		return a->u.default_effect == b->u.default_effect || differs("default");
	case TG_STMT_ROLE:
		if (!name_eq(&a->u.role->name, &b->u.role->name) ||
		    !names_eq(a->u.role->parents, a->u.role->nparents, b->u.role->parents,
			      b->u.role->nparents))
			return differs("role");
		return true;
	case TG_STMT_SET:
		if (!name_eq(&a->u.set->name, &b->u.set->name) ||
		    !names_eq(a->u.set->items, a->u.set->n, b->u.set->items, b->u.set->n))
			return differs("set");
		return true;
	case TG_STMT_ATTRIBUTE: {
		const tg_attr_decl *x = a->u.attr, *y = b->u.attr;
		if (!path_eq(&x->path, &y->path) || x->type != y->type ||
		    x->has_domain != y->has_domain ||
		    !exprs_eq(x->domain, x->ndomain, y->domain, y->ndomain))
			return differs("attribute");
		return true;
	}
	case TG_STMT_RULE:
		return rule_eq(a->u.rule, b->u.rule);
	}
	return differs("unknown statement kind");
}

static bool ast_eq(const tg_ast *a, const tg_ast *b)
{
	if (a->nstmts != b->nstmts)
		return differs("statement count");
	for (size_t i = 0; i < a->nstmts; i++)
		if (!stmt_eq(&a->stmts[i], &b->stmts[i]))
			return false;
	if (a->nrules != b->nrules || a->nroles != b->nroles || a->nsets != b->nsets ||
	    a->nattr_decls != b->nattr_decls || !a->policy_stmt != !b->policy_stmt ||
	    !a->default_stmt != !b->default_stmt)
		return differs("statement views");
	return true;
}

/* Comment text without trailing blanks. */
static void comment_text(const tg_ast *ast, size_t i, const char **s, size_t *n)
{
	tg_span sp = ast->comments[i].span;
	*s = ast->src + sp.start;
	*n = sp.end - sp.start;
	while (*n > 0 && strchr(" \t\r\n", (*s)[*n - 1]))
		(*n)--;
}

static bool comments_eq(const tg_ast *a, const tg_ast *b)
{
	if (a->ncomments != b->ncomments)
		return differs("comment count");
	for (size_t i = 0; i < a->ncomments; i++) {
		const char *x, *y;
		size_t nx, ny;
		comment_text(a, i, &x, &nx);
		comment_text(b, i, &y, &ny);
		if (nx != ny || memcmp(x, y, nx) != 0)
			return differs("comment text or order");
	}
	return true;
}

/*
 * The properties every formatted file must have. Returns the formatted text
 * (malloc'd) for the golden comparison.
 */
static char *check_file(const char *path, const char *src, size_t len, size_t *out_len)
{
	parsed in, once;
	size_t n1, n2;
	where = path;
	parse(&in, path, src, len);
	char *out1 = format(in.ast, &n1);
	parse(&once, path, out1, n1);
	char *out2 = format(once.ast, &n2);
	if (n1 != n2 || memcmp(out1, out2, n1) != 0)
		fail_msg("%s: not idempotent:\n--- first\n%s--- second\n%s", path, out1, out2);
	assert_true(ast_eq(in.ast, once.ast));
	assert_true(comments_eq(in.ast, once.ast));
	free(out2);
	parsed_free(&once);
	parsed_free(&in);
	*out_len = n1;
	return out1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.tg files of dir, sorted; *n = how many. */
static char **list_tg(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t cnt = 0;
	*n = 0;
	if (!d)
		return NULL;
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		if (l < 4 || strcmp(e->d_name + l - 3, ".tg") != 0)
			continue;
		char **grown = realloc(names, (cnt + 1) * sizeof *names);
		assert_non_null(grown);
		names = grown;
		names[cnt] = malloc(strlen(dir) + l + 2);
		assert_non_null(names[cnt]);
		sprintf(names[cnt], "%s/%s", dir, e->d_name);
		cnt++;
	}
	closedir(d);
	qsort(names, cnt, sizeof *names, cmp_str);
	*n = cnt;
	return names;
}

static const char *source_dir(void)
{
	const char *s = getenv("TG_SOURCE_DIR");
	return s ? s : ".";
}

/* ---- golden files ------------------------------------------------------ */

static void test_golden(void **state)
{
	(void)state;
	char dir[4096];
	size_t n;
	snprintf(dir, sizeof dir, "%s/tests/golden/fmt", source_dir());
	char **files = list_tg(dir, &n);
	bool update = getenv("TG_UPDATE_GOLDEN") && strcmp(getenv("TG_UPDATE_GOLDEN"), "1") == 0;
	int failures = 0;
	assert_true(n >= 12);
	for (size_t i = 0; i < n; i++) {
		size_t len, out_len, exp_len;
		char *src = read_all(files[i], &len);
		char *out = check_file(files[i], src, len, &out_len);
		char expected[4096 + 16];
		snprintf(expected, sizeof expected, "%.*s.expected",
			 (int)(strlen(files[i]) - 3), files[i]);
		if (update) {
			write_all(expected, out, out_len);
		} else {
			char *exp = read_all(expected, &exp_len);
			if (exp_len != out_len || memcmp(exp, out, out_len) != 0) {
				print_error("%s: output differs from %s:\n%s", files[i], expected, out);
				failures++;
			}
			free(exp);
		}
		free(out);
		free(src);
		free(files[i]);
	}
	free(files);
	assert_int_equal(failures, 0);
}

static void test_examples(void **state)
{
	(void)state;
	char dir[4096];
	size_t n;
	snprintf(dir, sizeof dir, "%s/policies/examples", source_dir());
	char **files = list_tg(dir, &n);
	for (size_t i = 0; i < n; i++) {
		size_t len, out_len;
		char *src = read_all(files[i], &len);
		char *out = check_file(files[i], src, len, &out_len);
		free(out);
		free(src);
		free(files[i]);
	}
	free(files);
}

/* ---- focused cases ----------------------------------------------------- */

static void expect_fmt(const char *src, const char *want)
{
	size_t n;
	where = "inline.tg";
	free(check_file("inline.tg", src, strlen(src), &n));
	char *out = fmt_str(src);
	if (strcmp(out, want) != 0)
		fail_msg("formatted:\n%s--- wanted:\n%s", out, want);
	free(out);
}

static void test_long_condition_wraps(void **state)
{
	(void)state;
	expect_fmt("rule \"r\": allow role engineer to call tool \"postgres.query\" when "
		   "args.sql starts_with \"SELECT \" and not (args.sql contains \";\") and "
		   "args.limit <= 1000 or principal is admin and context.environment == "
		   "\"dev\" and context.mfa and token has exp and context.flag_number_two;"
		   "role engineer; role admin;",
		   "rule \"r\":\n"
		   "  allow role engineer to call tool \"postgres.query\"\n"
		   "  when args.sql starts_with \"SELECT \" and not (args.sql contains \";\") and "
		   "args.limit <= 1000\n"
		   "    or principal is admin\n"
		   "      and context.environment == \"dev\"\n"
		   "      and context.mfa\n"
		   "      and token has exp\n"
		   "      and context.flag_number_two;\n"
		   "role engineer;\n"
		   "role admin;\n");
	/* Exactly 100 columns stays on one line; 101 breaks. */
	char src[512], want[512], fill[80];
	memset(fill, 'x', sizeof fill - 1);
	fill[sizeof fill - 1] = '\0';
	/* "  when context.a and context.b == \"" is 35 columns, then fill, "\";" */
	snprintf(src, sizeof src, "deny anyone to do anything when context.a and context.b == \"%.*s\";",
		 63, fill);
	snprintf(want, sizeof want,
		 "deny anyone to do anything\n  when context.a and context.b == \"%.*s\";\n", 63, fill);
	expect_fmt(src, want);
	snprintf(src, sizeof src, "deny anyone to do anything when context.a and context.b == \"%.*s\";",
		 64, fill);
	snprintf(want, sizeof want,
		 "deny anyone to do anything\n  when context.a\n    and context.b == \"%.*s\";\n", 64,
		 fill);
	expect_fmt(src, want);
}

static void test_keyword_roles_quoted(void **state)
{
	(void)state;
	expect_fmt("role \"allow\"; role \"reader\": \"allow\"; role \"mcp:ops\"; role \"tools\";\n"
		   "allow role \"tools\", reader to list tools when principal is \"allow\";",
		   "role \"allow\";\n"
		   "role reader: \"allow\";\n"
		   "role \"mcp:ops\";\n"
		   "role \"tools\";\n"
		   "allow role \"tools\", reader to list tools\n"
		   "  when principal is \"allow\";\n");
	/* Keywords are fields after `.` and `has`: bare there. */
	expect_fmt("allow anyone to list tools when args[\"list\"].x == 1 and args has \"tool\" and "
		   "args has \"a-b\";",
		   "allow anyone to list tools\n"
		   "  when args.list.x == 1 and args has tool and args has \"a-b\";\n");
}

static void test_string_escapes(void **state)
{
	(void)state;
	/* Decoded bytes are respelled: printable UTF-8 stays, escapes become
	 * the canonical ones, invisible code points become \u{H}. */
	expect_fmt("set s = [\"\\u{41}\\u{e9}\\u{1F600}\", \"caf\xc3\xa9 \xe6\x97\xa5\", "
		   "\"a\\\"b\\\\c\\nd\\te\", \"\\u{7}\\u{7F}\\u{85}\\u{202E}\\u{200B}\\u{FEFF}\", "
		   "\"\\u{A0}\\u{3000}\"];",
		   "set s = [\n"
		   "  \"A\xc3\xa9\xf0\x9f\x98\x80\",\n"
		   "  \"caf\xc3\xa9 \xe6\x97\xa5\",\n"
		   "  \"a\\\"b\\\\c\\nd\\te\",\n"
		   "  \"\\u{7}\\u{7F}\\u{85}\\u{202E}\\u{200B}\\u{FEFF}\",\n"
		   "  \"\\u{A0}\\u{3000}\"\n"
		   "];\n");
	/* And the decoded values survive the round trip. */
	parsed p;
	char *out = fmt_str("policy \"\\u{10FFFF}x\\u{1}\";");
	parse(&p, "out.tg", out, strlen(out));
	assert_int_equal(p.ast->nstmts, 1);
	const tg_name *name = &p.ast->stmts[0].u.policy.name;
	assert_int_equal(name->len, 6);
	assert_memory_equal(name->s, "\xf4\x8f\xbf\xbfx\x01", 6);
	assert_string_equal(out, "policy \"\xf4\x8f\xbf\xbfx\\u{1}\";\n");
	parsed_free(&p);
	free(out);
}

static void test_comments_kept(void **state)
{
	(void)state;
	const char *src = "# head\nrole a; # trail\n"
			  "rule \"r\": // id\n allow role a to list tools # head\n"
			  " when context.x # c1\n and # c2\n context.y\n # c3\n ; # c4\n";
	expect_fmt(src, "# head\n"
			"role a;                       # trail\n"
			"rule \"r\":                     // id\n"
			"  allow role a to list tools  # head\n"
			"  when context.x              # c1\n"
			"    # c2\n"
			"    and context.y;\n"
			"# c3\n"
			"# c4\n");
}

/* src with every run of blanks outside string literals and comments
 * replaced by sep (malloc'd); sep must hold a newline when src has
 * comments. */
static char *respace(const char *src, size_t len, const char *sep)
{
	size_t cap = len * (strlen(sep) + 1) + 1, n = 0;
	char *out = malloc(cap);
	bool in_str = false;
	assert_non_null(out);
	for (size_t i = 0; i < len; i++) {
		char c = src[i];
		if (in_str) {
			out[n++] = c;
			if (c == '\\' && i + 1 < len)
				out[n++] = src[++i];
			else if (c == '"')
				in_str = false;
		} else if (c == '#' || (c == '/' && i + 1 < len && src[i + 1] == '/')) {
			while (i < len && src[i] != '\n')
				out[n++] = src[i++];
			i--;
		} else if (strchr(" \t\r\n", c)) {
			while (i + 1 < len && strchr(" \t\r\n", src[i + 1]))
				i++;
			memcpy(out + n, sep, strlen(sep));
			n += strlen(sep);
		} else {
			out[n++] = c;
			in_str = c == '"';
		}
	}
	out[n] = '\0';
	return out;
}

static void drop_blank_lines(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++)
		if (!(*r == '\n' && (r == s || r[-1] == '\n')))
			*w++ = *r;
	*w = '\0';
}

/* The layout is a function of the tree: re-spacing a comment-free golden
 * input changes nothing but its blank lines. Inputs with comments, split at
 * every blank, must still format idempotently to the same tree. */
static void test_layout_ignores_spacing(void **state)
{
	(void)state;
	char dir[4096];
	size_t n, checked = 0;
	snprintf(dir, sizeof dir, "%s/tests/golden/fmt", source_dir());
	char **files = list_tg(dir, &n);
	for (size_t i = 0; i < n; i++) {
		size_t len, olen;
		char *src = read_all(files[i], &len);
		parsed p;
		parse(&p, files[i], src, len);
		bool has_comments = p.ast->ncomments > 0;
		char *want = format(p.ast, &olen);
		parsed_free(&p);
		if (!has_comments) {
			static const char *const seps[] = {" ", "\n", "\n\t  \r\n"};
			drop_blank_lines(want);
			for (size_t k = 0; k < 3; k++) {
				char *variant = respace(src, len, seps[k]);
				char *got = fmt_str(variant);
				drop_blank_lines(got);
				if (strcmp(got, want) != 0)
					fail_msg("%s respaced with %zu: got\n%s", files[i], k, got);
				free(got);
				free(variant);
			}
			checked++;
		} else {
			/* Comments end at a newline, so only newlines can
			 * separate tokens; every comment becomes own-line. */
			static const char *const seps[] = {"\n", "\n\n  "};
			for (size_t k = 0; k < 2; k++) {
				size_t vlen;
				char *variant = respace(src, len, seps[k]);
				free(check_file(files[i], variant, strlen(variant), &vlen));
				free(variant);
			}
		}
		free(want);
		free(src);
		free(files[i]);
	}
	free(files);
	assert_true(checked >= 5);
}

static void test_empty_and_comment_only(void **state)
{
	(void)state;
	expect_fmt("", "");
	expect_fmt("\n\n  \n", "");
	expect_fmt("\n\n# only\n\n\n// two\n\n", "# only\n\n// two\n");
}

/* Long left-associated chains are not bounded by the nesting limit: the
 * printer must not recurse along them, nor rescan comments per operand. */
static void test_long_chains(void **state)
{
	(void)state;
	enum { N = 50000 };
	tg_fmt_buf src = {0};
	tg_fmt_puts(&src, "deny anyone to do anything when context.v0");
	for (int i = 1; i < N; i++) {
		char op[64];
		snprintf(op, sizeof op, " and context.v%d + 1 - 2 > 0 # c%d\n", i, i);
		tg_fmt_puts(&src, op);
	}
	tg_fmt_puts(&src, ";\nset s = [");
	for (int i = 0; i < N; i++)
		tg_fmt_puts(&src, i ? ", \"x\" # c\n" : "\"x\"");
	tg_fmt_puts(&src, "];\n");
	assert_false(src.oom);

	parsed p;
	size_t n, lines = 0;
	parse(&p, "long.tg", src.s, src.len);
	char *out = format(p.ast, &n);
	for (size_t i = 0; i < n; i++)
		lines += out[i] == '\n';
	/* head, one line per operand, set opening, one per item, `];` */
	assert_int_equal(lines, 1 + N + 1 + N + 1);
	free(out);
	parsed_free(&p);
	tg_fmt_buf_free(&src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_condition_wraps),
		cmocka_unit_test(test_keyword_roles_quoted),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_comments_kept),
		cmocka_unit_test(test_empty_and_comment_only),
		cmocka_unit_test(test_layout_ignores_spacing),
		cmocka_unit_test(test_long_chains),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
