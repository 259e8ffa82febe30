/*
 * disasm.c - `toolgate disasm`: a listing of verified bytecode.
 *
 * The buffer is first loaded with the runtime's verifier, so everything
 * read here is known to be in bounds; the listing then walks the raw
 * sections with format.h's accessors. Each instruction is printed with its
 * operand decoded (strings quoted, slots, roles and built-ins by name, jump
 * targets as absolute pcs) and the synopsis from opcodes.def.
 */
#include "disasm.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "toolgate/toolgate.h"

typedef struct dis {
	const unsigned char *b;
	FILE *out;
	uint32_t off[TG_SEC_COUNT + 1], size[TG_SEC_COUNT + 1], count[TG_SEC_COUNT + 1];
} dis;

static const char *const effect_names[] = { "deny", "allow" };
static const char *const subject_names[] = { "anyone", "role", "scope", "principal", "client" };
static const char *const action_names[] = { "call tool", "read resource", "get prompt",
					    "list tools", "list resources", "list prompts",
					    "list resource_templates", "invoke", "do anything" };
static const char *const class_names[] = { "tools/call", "resources/read", "prompts/get",
					   "tools/list", "resources/list", "prompts/list",
					   "resources/templates/list", "other", "every method" };
static const char *const kind_names[] = { "exact", "prefix", "all" };
static const char *const type_names[] = { "any", "string", "int", "bool", "list<string>",
					  "list<int>" };
static const char *const root_names[] = { "principal", "token", "context", "args" };
static const char *const cmp_names[] = { "==", "!=", "<", "<=", ">", ">=", "in", "contains",
					 "starts_with", "ends_with" };
static const char *const builtin_names[] = { "principal.id", "principal.roles", "token.scopes",
					     "tool.name", "tool.server", "tool.read_only",
					     "tool.destructive", "tool.idempotent",
					     "tool.open_world", "resource.uri", "prompt.name",
					     "request.method" };

static const unsigned char *sec(const dis *d, unsigned k)
{
	return d->b + d->off[k];
}

static void str_at(const dis *d, uint32_t i, const char **p, uint32_t *len)
{
	const unsigned char *t = sec(d, TG_SEC_STRINGS) + (size_t)i * 8;
	*p = (const char *)sec(d, TG_SEC_STRINGS) + (size_t)d->count[TG_SEC_STRINGS] * 8 + tg_rd32(t);
	*len = tg_rd32(t + 4);
}

/* Prints string i quoted, escaping what is not printable ASCII. */
static void qstr(const dis *d, uint32_t i)
{
	const char *p;
	uint32_t len;
	if (i == TG_BC_NONE) {
		fputs("none", d->out);
		return;
	}
	str_at(d, i, &p, &len);
	fputc('"', d->out);
	for (uint32_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)p[k];
		if (c == '"' || c == '\\')
			fprintf(d->out, "\\%c", c);
		else if (c < 0x20 || c == 0x7F)
			fprintf(d->out, "\\x%02x", c);
		else
			fputc(c, d->out);
	}
	fputc('"', d->out);
}

static void raw(const dis *d, uint32_t i)
{
	const char *p;
	uint32_t len;
	str_at(d, i, &p, &len);
	fwrite(p, 1, len, d->out);
}

static uint32_t ref(const dis *d, uint32_t i)
{
	return tg_rd32(sec(d, TG_SEC_REFS) + (size_t)i * 4);
}

static uint32_t role_name(const dis *d, uint32_t r)
{
	return tg_rd32(sec(d, TG_SEC_ROLES) + (size_t)r * 4);
}

static uint32_t slot_name(const dis *d, uint32_t s)
{
	return tg_rd32(sec(d, TG_SEC_SLOTS) + (size_t)s * TG_BC_SLOT_SIZE + 4);
}

static uint32_t pat_glob(const dis *d, uint32_t p)
{
	return tg_rd32(sec(d, TG_SEC_PATTERNS) + (size_t)p * TG_BC_PATTERN_SIZE);
}

static void tables(const dis *d)
{
	FILE *o = d->out;
	uint32_t n = d->count[TG_SEC_ROLES], w = (n + 63) / 64;
	fprintf(o, "\nroles (%" PRIu32 "):\n", n);
	for (uint32_t r = 0; r < n; r++) {
		const unsigned char *bits = sec(d, TG_SEC_ROLES) + (size_t)n * 4 + (size_t)r * w * 8;
		fprintf(o, "  %4" PRIu32 "  ", r);
		raw(d, role_name(d, r));
		fputs("  holds:", o);
		for (uint32_t a = 0; a < n; a++)
			if ((tg_rd64(bits + (size_t)(a / 64) * 8) >> (a % 64)) & 1) {
				fputc(' ', o);
				raw(d, role_name(d, a));
			}
		fputc('\n', o);
	}
	n = d->count[TG_SEC_SLOTS];
	fprintf(o, "\nslots (%" PRIu32 "):\n", n);
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *s = sec(d, TG_SEC_SLOTS) + (size_t)i * TG_BC_SLOT_SIZE;
		uint32_t df = tg_rd32(s + 16), dn = tg_rd32(s + 20);
		fprintf(o, "  %4" PRIu32 "  ", i);
		raw(d, tg_rd32(s + 4));
		uint32_t ncomp = tg_rd32(s + 12);
		fprintf(o, ": %s (root %s, %" PRIu32 " component%s)", type_names[s[1]],
			root_names[s[0]], ncomp, ncomp == 1 ? "" : "s");
		if (dn) {
			fputs(" in [", o);
			for (uint32_t k = 0; k < dn; k++) {
				if (k)
					fputs(", ", o);
				if (s[1] == TG_ATTR_STRING || s[1] == TG_ATTR_STRING_LIST)
					qstr(d, ref(d, df + k));
				else
					fprintf(o, "%" PRId64,
						(int64_t)tg_rd64(sec(d, TG_SEC_INTS) + (size_t)(df + k) * 8));
			}
			fputc(']', o);
		}
		fputc('\n', o);
	}
	n = d->count[TG_SEC_PATTERNS];
	fprintf(o, "\npatterns (%" PRIu32 "):\n", n);
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *p = sec(d, TG_SEC_PATTERNS) + (size_t)i * TG_BC_PATTERN_SIZE;
		fprintf(o, "  %4" PRIu32 "  ", i);
		qstr(d, tg_rd32(p));
		if (tg_rd32(p + 12) & TG_PAT_EXACT) {
			fputs("  exact\n", o);
		} else {
			fputs("  prefix ", o);
			qstr(d, tg_rd32(p + 4));
			fprintf(o, ", wildcards from byte %" PRIu32 "\n", tg_rd32(p + 8));
		}
	}
	n = d->count[TG_SEC_DFAS];
	if (n) {
		fprintf(o, "\ndfas (%" PRIu32 ", %" PRIu32 " bytes):\n", n, d->size[TG_SEC_DFAS]);
		for (uint32_t i = 0; i < n; i++) {
			const unsigned char *e = sec(d, TG_SEC_DFAS) + (size_t)i * TG_BC_DFA_ENTRY_SIZE;
			uint32_t ns = tg_rd32(e + 8), nc = tg_rd32(e + 12);
			fprintf(o, "  %4" PRIu32 "  ", i);
			qstr(d, tg_rd32(e));
			fprintf(o, "  %" PRIu32 " states, %" PRIu32 " byte classes, %" PRIu64 " bytes\n",
				ns, nc, tg_bc_dfa_data_size(ns, nc) + TG_BC_DFA_ENTRY_SIZE);
		}
	}
	const unsigned char *ix = sec(d, TG_SEC_INDEX);
	uint32_t nb = tg_rd32(ix), ne = tg_rd32(ix + 4);
	fprintf(o, "\nindex (%" PRIu32 " keys, %" PRIu32 " buckets):\n", ne, nb);
	for (uint32_t i = 0; i < ne; i++) {
		const unsigned char *e = ix + 8 + (size_t)nb * 4 + (size_t)i * TG_BC_INDEX_ENTRY_SIZE;
		uint32_t first = tg_rd32(e + 8), cnt = tg_rd32(e + 12);
		fprintf(o, "  %-16s %-6s ", class_names[e[0]], kind_names[e[1]]);
		qstr(d, tg_rd32(e + 4));
		fputs(" -> rules", o);
		for (uint32_t k = 0; k < cnt; k++)
			fprintf(o, " %" PRIu32, ref(d, first + k));
		fputc('\n', o);
	}
}

static void operand_part(const dis *d, tg_operand_kind k, const unsigned char *op, uint32_t next)
{
	FILE *o = d->out;
	switch (k) {
	case TG_OPND_NONE:
		break;
	case TG_OPND_I64:
		fprintf(o, "%" PRId64, (int64_t)tg_rd64(op));
		break;
	case TG_OPND_STR:
		qstr(d, tg_rd32(op));
		break;
	case TG_OPND_STRS:
	case TG_OPND_INTS:
		fputc('[', o);
		for (uint32_t i = 0; i < tg_rd32(op + 4); i++) {
			if (i)
				fputs(", ", o);
			if (k == TG_OPND_STRS)
				qstr(d, ref(d, tg_rd32(op) + i));
			else
				fprintf(o, "%" PRId64,
					(int64_t)tg_rd64(sec(d, TG_SEC_INTS) + (size_t)(tg_rd32(op) + i) * 8));
		}
		fputc(']', o);
		break;
	case TG_OPND_SLOT:
		fprintf(o, "%" PRIu32 " (", tg_rd32(op));
		raw(d, slot_name(d, tg_rd32(op)));
		fputc(')', o);
		break;
	case TG_OPND_BUILTIN:
		fputs(builtin_names[op[0]], o);
		break;
	case TG_OPND_ROLE:
		raw(d, role_name(d, tg_rd32(op)));
		break;
	case TG_OPND_JUMP:
		fprintf(o, "-> %04" PRIu32, next + tg_rd32(op));
		break;
	case TG_OPND_CMP:
		fputs(cmp_names[op[0]], o);
		break;
	case TG_OPND_PAT:
		qstr(d, pat_glob(d, tg_rd32(op)));
		break;
	case TG_OPND_DFA:
		fprintf(o, "dfa %" PRIu32 " ", tg_rd32(op));
		qstr(d, tg_rd32(sec(d, TG_SEC_DFAS) + (size_t)tg_rd32(op) * TG_BC_DFA_ENTRY_SIZE));
		break;
	default:
		break;	/* composite: operand() prints it part by part */
	}
}

/* An operand as text; a composite one as its parts, comma-separated. */
static void operand(const dis *d, tg_operand_kind k, const unsigned char *op, uint32_t next)
{
	tg_operand_kind parts[TG_OPND_MAX_PARTS];
	unsigned n = tg_operand_parts(k, parts);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			fputs(", ", d->out);
		operand_part(d, parts[i], op, next);
		op += tg_operand_width(parts[i]);
	}
}

static void rules(const dis *d)
{
	FILE *o = d->out;
	const unsigned char *code = sec(d, TG_SEC_CODE);
	uint32_t n = d->count[TG_SEC_RULES];
	fprintf(o, "\nrules (%" PRIu32 "):\n", n);
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *r = sec(d, TG_SEC_RULES) + (size_t)i * TG_BC_RULE_SIZE;
		uint32_t sf = tg_rd32(r + 16), sn = tg_rd32(r + 20), pf = tg_rd32(r + 24);
		uint32_t pn = tg_rd32(r + 28), co = tg_rd32(r + 32), cl = tg_rd32(r + 36);
		fprintf(o, "\nrule %" PRIu32 " ", i);
		qstr(d, tg_rd32(r));
		fprintf(o, " (line %" PRIu32 "): %s %s", tg_rd32(r + 8), effect_names[r[12]],
			subject_names[r[13]]);
		for (uint32_t k = 0; k < sn; k++) {
			fputs(k ? ", " : " ", o);
			if (r[13] == TG_BC_SUBJ_ROLE)
				raw(d, role_name(d, ref(d, sf + k)));
			else
				qstr(d, ref(d, sf + k));
		}
		fprintf(o, " to %s", action_names[r[14]]);
		if (r[15] & TG_RULE_ANY)
			fputs(" (any)", o);
		for (uint32_t k = 0; k < pn; k++) {
			fputs(k ? ", " : " ", o);
			qstr(d, pat_glob(d, ref(d, pf + k)));
		}
		fputc('\n', o);
		if (tg_rd32(r + 4) != TG_BC_NONE) {
			fputs("  because ", o);
			qstr(d, tg_rd32(r + 4));
			fputc('\n', o);
		}
		for (uint32_t pc = co; pc < co + cl;) {
			const tg_opinfo *in = &tg_opinfo_table[code[pc]];
			uint32_t next = pc + 1 + tg_operand_width(in->operand);
			char *text = NULL;
			size_t tlen = 0;
			FILE *m = open_memstream(&text, &tlen);
			if (m) {
				dis sub = *d;
				sub.out = m;
				operand(&sub, in->operand, code + pc + 1, next);
				fclose(m);
			}
			fprintf(o, "  %04" PRIu32 "  %-8s %-28s ; %s\n", pc, in->name, text ? text : "",
				in->synopsis);
			free(text);
			pc = next;
		}
	}
}

int tg_disasm(const unsigned char *buf, size_t len, FILE *out)
{
	tg_policy *p;
	tg_load_error *err;
	dis d;

	if (tg_policy_load(buf, len, &p, &err) != TG_OK) {
		if (!err) {
			fputs("error: out of memory\n", out);
			return -1;
		}
		fprintf(out, "error: %s (offset %" PRIu32, err->reason, err->offset);
		if (err->pc >= 0)
			fprintf(out, ", pc %" PRId64, err->pc);
		fputs(")\n", out);
		tg_load_error_free(err);
		return -1;
	}
	memset(&d, 0, sizeof d);
	d.b = buf;
	d.out = out;
	for (unsigned k = 0; k < tg_rd32(buf + TG_HDR_NSECTIONS); k++) {
		const unsigned char *e = buf + TG_BC_HEADER_LEN + (size_t)k * TG_BC_SECTION_ENTRY;
		unsigned kind = (unsigned)tg_rd32(e);
		d.off[kind] = tg_rd32(e + 4);
		d.size[kind] = tg_rd32(e + 8);
		d.count[kind] = tg_rd32(e + 12);
	}
	fputs("policy ", out);
	qstr(&d, tg_rd32(buf + TG_HDR_NAME));
	if (tg_rd32(buf + TG_HDR_VERSION) != TG_BC_NONE) {
		fputs(" version ", out);
		qstr(&d, tg_rd32(buf + TG_HDR_VERSION));
	}
	fprintf(out, "\nformat %u.%u, %zu bytes, checksum 0x%08" PRIx32 ", default %s\n",
		(unsigned)tg_rd16(buf + TG_HDR_MAJOR), (unsigned)tg_rd16(buf + TG_HDR_MINOR), len,
		tg_rd32(buf + TG_HDR_CHECKSUM), tg_policy_default_allow(p) ? "allow" : "deny");
	fprintf(out, "max stack %" PRIu32 ", at most %" PRIu64 " instructions per evaluation%s\n",
		tg_policy_max_stack(p), tg_policy_max_cost(p),
		d.count[TG_SEC_DFAS] ? " (a DFA step counted as one)" : "");
	fprintf(out, "bytecode sha256 %s\nsource sha256 %s\n", tg_policy_hash(p),
		tg_policy_source_hash(p));
	fprintf(out, "strings %" PRIu32 ", refs %" PRIu32 ", ints %" PRIu32 ", code %" PRIu32 " bytes\n",
		d.count[TG_SEC_STRINGS], d.count[TG_SEC_REFS], d.count[TG_SEC_INTS],
		d.size[TG_SEC_CODE]);
	tables(&d);
	rules(&d);
	tg_policy_free(p);
	return ferror(out) ? -1 : 0;
}
