/*
 * rt_asm.h - a tiny assembler for the runtime tests: rule conditions are
 * written as text and turned into tg_emit calls, so each test reads like the
 * code it checks.
 *
 *   "LOAD 0; INT 5; CMP LE; RET"
 *   "LOAD 0; JFALSE L1; LOAD 1; AND; L1: RET"
 *   "LOADB TOOL_DESTRUCTIVE; STR \"x\"; STRS \"a\" \"b\"; INTS 1 2; LIKE \"a*\"; UNDER \"/srv\""
 *
 * Operands: integers; quoted strings (interned; for LIKE/ALL_LIKE/ANY_LIKE
 * compiled as patterns); CMP names (EQ NE LT LE GT GE IN CONTAINS
 * STARTS_WITH ENDS_WITH); built-in names (PRINCIPAL_ID ... REQUEST_METHOD);
 * labels (Ln) for jumps, defined by "Ln:" before an instruction.
 * Header-only (static functions) so each test executable includes it once.
 */
#ifndef RT_ASM_H
#define RT_ASM_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "emit.h"

static const char *const rt_cmp_names[] = { "EQ", "NE", "LT", "LE", "GT", "GE", "IN",
					    "CONTAINS", "STARTS_WITH", "ENDS_WITH" };
static const char *const rt_bi_names[] = { "PRINCIPAL_ID", "PRINCIPAL_ROLES", "TOKEN_SCOPES",
					   "TOOL_NAME", "TOOL_SERVER", "TOOL_READ_ONLY",
					   "TOOL_DESTRUCTIVE", "TOOL_IDEMPOTENT", "TOOL_OPEN_WORLD",
					   "RESOURCE_URI", "PROMPT_NAME", "REQUEST_METHOD" };

static inline int rt_find(const char *const *names, size_t n, const char *w, size_t wl)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == wl && memcmp(names[i], w, wl) == 0)
			return (int)i;
	return -1;
}

static inline const char *rt_skip(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	return s;
}

/* Reads a quoted string (\" and \\ escapes) into buf; returns the end. */
static inline const char *rt_qstr(const char *s, char *buf, size_t *len)
{
	size_t n = 0;
	s++;
	while (*s && *s != '"') {
		if (*s == '\\' && s[1])
			s++;
		buf[n++] = *s++;
	}
	*len = n;
	return *s ? s + 1 : s;
}

/* Assembles one rule's code. Returns 0, or -1 (with a message on stderr). */
static inline int rt_asm(tg_emit *e, const char *src)
{
	struct { int id; size_t label; bool used; } pend[16];
	int npend = 0;
	const char *s = src;
	char buf[1024];

	for (;;) {
		s = rt_skip(s);
		if (!*s)
			break;
		if (*s == ';') {
			s++;
			continue;
		}
		const char *w = s;
		while (*s && *s != ' ' && *s != ';' && *s != ':')
			s++;
		size_t wl = (size_t)(s - w);
		if (*s == ':') {	/* label definition */
			int id = atoi(w + 1);
			for (int i = 0; i < npend; i++)
				if (pend[i].id == id && !pend[i].used) {
					tg_emit_patch(e, pend[i].label);
					pend[i].used = true;
				}
			s++;
			continue;
		}
		int op = -1;
		for (int i = 0; i < TG_OP_COUNT; i++)
			if (strlen(tg_opinfo_table[i].name) == wl && memcmp(tg_opinfo_table[i].name, w, wl) == 0)
				op = i;
		if (op < 0) {
			fprintf(stderr, "rt_asm: unknown opcode '%.*s'\n", (int)wl, w);
			return -1;
		}
		s = rt_skip(s);
		switch (tg_opinfo_table[op].operand) {
		case TG_OPND_NONE:
			tg_emit_op(e, (tg_opcode)op);
			break;
		case TG_OPND_I64:
			tg_emit_op_int(e, strtoll(s, (char **)&s, 10));
			break;
		case TG_OPND_JUMP: {
			size_t label;
			int id = atoi(s + 1);
			while (*s && *s != ';')
				s++;
			if (tg_emit_jump(e, (tg_opcode)op, &label) == 0) {
				pend[npend].id = id;
				pend[npend].label = label;
				pend[npend].used = false;
				npend++;
			}
			break;
		}
		case TG_OPND_STR:
		case TG_OPND_PAT: {
			size_t len;
			s = rt_qstr(s, buf, &len);
			uint32_t arg = tg_opinfo_table[op].operand == TG_OPND_PAT
				? (uint32_t)tg_emit_pattern(e, buf, len) : tg_emit_string(e, buf, len);
			tg_emit_op_arg(e, (tg_opcode)op, arg);
			break;
		}
		case TG_OPND_STRS: {
			uint32_t items[64];
			size_t n = 0, len;
			while (*(s = rt_skip(s)) == '"') {
				s = rt_qstr(s, buf, &len);
				items[n++] = tg_emit_string(e, buf, len);
			}
			tg_emit_op_strs(e, items, n);
			break;
		}
		case TG_OPND_INTS: {
			int64_t items[64];
			size_t n = 0;
			while (*(s = rt_skip(s)) && *s != ';')
				items[n++] = strtoll(s, (char **)&s, 10);
			tg_emit_op_ints(e, items, n);
			break;
		}
		case TG_OPND_CMP:
		case TG_OPND_BUILTIN: {
			const char *a = s;
			while (*s && *s != ' ' && *s != ';')
				s++;
			int v = tg_opinfo_table[op].operand == TG_OPND_CMP
				? rt_find(rt_cmp_names, 10, a, (size_t)(s - a))
				: rt_find(rt_bi_names, 12, a, (size_t)(s - a));
			if (v < 0) {
				fprintf(stderr, "rt_asm: bad operand '%.*s'\n", (int)(s - a), a);
				return -1;
			}
			tg_emit_op_arg(e, (tg_opcode)op, (uint32_t)v);
			break;
		}
		case TG_OPND_SLOT:
		case TG_OPND_ROLE:
			tg_emit_op_arg(e, (tg_opcode)op, (uint32_t)strtoul(s, (char **)&s, 10));
			break;
		case TG_OPND_SLOT_STR_CMP:
		case TG_OPND_SLOT_I64_CMP:
		case TG_OPND_BUILTIN_STR_CMP:
		case TG_OPND_SLOT_SLOT_CMP: {
			/* "LOAD_STR_CMP 0 \"x\" EQ", "LOADB_STR_CMP TOKEN_SCOPES \"s\" CONTAINS" */
			tg_operand_kind parts[TG_OPND_MAX_PARTS];
			uint64_t v[3] = { 0, 0, 0 };
			tg_operand_parts(tg_opinfo_table[op].operand, parts);
			for (int i = 0; i < 3; i++) {
				s = rt_skip(s);
				const char *a = s;
				size_t len;
				int found = 0;
				switch (parts[i]) {
				case TG_OPND_STR:
					s = rt_qstr(s, buf, &len);
					v[i] = tg_emit_string(e, buf, len);
					break;
				case TG_OPND_I64:
					v[i] = (uint64_t)strtoll(s, (char **)&s, 10);
					break;
				case TG_OPND_SLOT:
					v[i] = strtoul(s, (char **)&s, 10);
					break;
				default:	/* BUILTIN, CMP */
					while (*s && *s != ' ' && *s != ';')
						s++;
					found = parts[i] == TG_OPND_CMP
						? rt_find(rt_cmp_names, 10, a, (size_t)(s - a))
						: rt_find(rt_bi_names, 12, a, (size_t)(s - a));
					if (found < 0) {
						fprintf(stderr, "rt_asm: bad operand '%.*s'\n", (int)(s - a), a);
						return -1;
					}
					v[i] = (uint64_t)found;
				}
			}
			tg_emit_op_cmp(e, (tg_opcode)op, (uint32_t)v[0], v[1], (tg_bc_cmp)v[2]);
			break;
		}
		default:
			fprintf(stderr, "rt_asm: no syntax for the operand of '%.*s'\n", (int)wl, w);
			return -1;
		}
	}
	return tg_emit_error(e) ? -1 : 0;
}

/* One rule: subject items as a NULL-terminated list (role names are looked
 * up by index with "#N"), target globs likewise, code text (NULL = true). */
typedef struct rt_rule {
	const char *id;
	tg_bc_effect effect;
	tg_bc_subject subject;
	const char *subj[4];
	tg_bc_action action;
	bool any;
	const char *targets[4];
	const char *code;
	const char *reason;
} rt_rule;

static inline int rt_add_rule(tg_emit *e, const rt_rule *r, uint32_t line)
{
	tg_emit_rule info = { r->id, strlen(r->id), r->reason, r->reason ? strlen(r->reason) : 0,
			      line, r->effect, r->subject, r->action, r->any };
	tg_emit_rule_begin(e, &info);
	for (int i = 0; i < 4 && r->subj[i]; i++) {
		if (r->subject == TG_BC_SUBJ_ROLE)
			tg_emit_subject_role(e, atoi(r->subj[i] + 1));
		else
			tg_emit_subject_string(e, r->subj[i], strlen(r->subj[i]));
	}
	for (int i = 0; i < 4 && r->targets[i]; i++)
		tg_emit_target(e, tg_emit_pattern(e, r->targets[i], strlen(r->targets[i])));
	if (rt_asm(e, r->code ? r->code : "TRUE; RET"))
		return -1;
	return tg_emit_rule_end(e);
}

/* Builds and loads a policy from rules; roles/slots are declared by the
 * setup callback first (may be NULL). Returns NULL on failure, printing
 * the writer's error. */
static inline tg_policy *rt_policy(void (*setup)(tg_emit *), const rt_rule *rules, size_t n,
			    bool default_allow, unsigned char **bytes, size_t *nbytes)
{
	tg_emit *e = tg_emit_new();
	unsigned char *buf = NULL;
	size_t len = 0;
	tg_policy *p = NULL;
	tg_load_diag err;

	if (bytes) {
		*bytes = NULL;
		*nbytes = 0;
	}
	if (!e)
		return NULL;
	tg_emit_policy(e, "test", 4, "1.0", 3);
	tg_emit_default(e, default_allow);
	if (setup)
		setup(e);
	for (size_t i = 0; i < n; i++)
		rt_add_rule(e, &rules[i], (uint32_t)(i + 1));
	if (tg_emit_finish(e, &buf, &len)) {
		fprintf(stderr, "rt_policy: %s\n", tg_emit_error(e));
		tg_emit_free(e);
		return NULL;
	}
	tg_emit_free(e);
	if (tg_policy_load_diag(buf, len, &p, &err) != TG_OK)
		fprintf(stderr, "rt_policy: load: %s\n", err.reason);
	if (bytes) {
		*bytes = buf;
		*nbytes = len;
	} else {
		free(buf);
	}
	return p;
}

#endif
