/*
 * emit.h - the bytecode writer.
 *
 * The code generator describes a policy in its own terms - strings, roles,
 * attribute slots, glob patterns, rules with their subjects, targets and
 * condition code - and emit.c lays it out in the format of
 * runtime/format.h: interned string table, role closure and hash table,
 * compiled patterns, the rule index, header, checksum. The writer tracks
 * the operand stack depth and the instruction count as code is emitted, so
 * the header bounds are computed here, and tg_emit_finish runs the runtime's
 * own verifier on the result before handing it out.
 *
 * Order of calls:
 *
 *   e = tg_emit_new();
 *   tg_emit_policy(e, name, version); tg_emit_default(e, allow); tg_emit_source(e, src, len);
 *   tg_emit_role(...) for each role in declaration order, then tg_emit_role_closure
 *   tg_emit_slot(...) for each slot in slot order (+ tg_emit_slot_domain_*)
 *   for each rule in source order:
 *     tg_emit_rule_begin(e, &info);
 *     tg_emit_subject_string / tg_emit_subject_role ...
 *     tg_emit_target(e, tg_emit_pattern(e, glob, len)) ...
 *     condition code: tg_emit_op*, tg_emit_jump + tg_emit_patch; ends with RET
 *     tg_emit_rule_end(e);
 *   tg_emit_finish(e, &buf, &len);
 *   tg_emit_free(e);
 *
 * Errors are sticky: the first failure (out of memory, an encoding limit,
 * misuse) is kept, every later call returns -1 (or TG_BC_NONE), and
 * tg_emit_finish fails with it; tg_emit_error() says what it was, e.g.
 * "expression needs more than 32 stack entries". A caller may therefore
 * check only tg_emit_finish.
 *
 * The same calls always produce the same bytes.
 */
#ifndef TG_EMIT_H
#define TG_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toolgate/toolgate.h"
#include "format.h"

typedef struct tg_emit tg_emit;

/* NULL when out of memory. */
tg_emit *tg_emit_new(void);
void tg_emit_free(tg_emit *e);

/* The first error's message, or NULL when none. Owned by e. */
const char *tg_emit_error(const tg_emit *e);

/* `policy NAME version VERSION`: version NULL when none. Default: "" and
 * no version. */
int tg_emit_policy(tg_emit *e, const char *name, size_t name_len, const char *version,
		   size_t version_len);

/* `default allow` when allow; deny otherwise (the default). */
void tg_emit_default(tg_emit *e, bool allow);

/* Records the SHA-256 of the policy source in the header. */
void tg_emit_source(tg_emit *e, const char *src, size_t len);

/* Interns a byte string (may hold any bytes); returns its index or
 * TG_BC_NONE on error. */
uint32_t tg_emit_string(tg_emit *e, const char *s, size_t len);

/* Declares the next role (index = number of earlier calls). At most
 * TG_BC_MAX_ROLES. Returns the index or -1. */
int32_t tg_emit_role(tg_emit *e, const char *name, size_t len);

/* The inheritance closure, nroles x nroles bytes as in tg_ast.role_closure:
 * closure[r * nroles + a] != 0 when role r holds role a. Call once, after
 * every tg_emit_role (a role always holds itself, whatever is passed). */
int tg_emit_role_closure(tg_emit *e, const uint8_t *closure, size_t nroles);

/* Declares the next attribute slot (index = number of earlier calls):
 * root under principal/token/context/args, path components after the root,
 * display name ("args.options.force", `args["content-type"]`) and declared
 * type (TG_ATTR_ANY when undeclared). Returns the slot index or -1. */
int32_t tg_emit_slot(tg_emit *e, tg_slot_root root, const tg_str *components, size_t n,
		     const char *display, size_t display_len, tg_attr_type type);

/* Adds one value of a declared `in [...]` domain to a slot; string values
 * for string and list<string> slots, ints for int and list<int> slots. */
int tg_emit_slot_domain_string(tg_emit *e, int32_t slot, const char *s, size_t len);
int tg_emit_slot_domain_int(tg_emit *e, int32_t slot, int64_t v);

/* Compiles a glob (as written in the policy after string-escape decoding,
 * so `\*` is an escaped star) into a pattern; identical globs share one.
 * Returns the pattern index, or -1 when the glob ends in a lone `\` or its
 * part from the first wildcard exceeds TG_BC_GLOB_MAX bytes. */
int32_t tg_emit_pattern(tg_emit *e, const char *glob, size_t len);

/* A regular expression's DFA (compiler/regex.h gives the tables): state 0
 * starts, next is nstates x nclasses, accept nstates flags. Identical
 * patterns share one. Returns the DFA index, or -1 when a table is out of
 * the format's bounds. */
int32_t tg_emit_dfa(tg_emit *e, const char *pattern, size_t len, uint32_t nstates,
		    uint32_t nclasses, const uint8_t classes[256], const uint16_t *next,
		    const uint8_t *accept);

typedef struct tg_emit_rule {
	const char *id;		/* display id: "eng-sql" or "policy.tg:12" */
	size_t id_len;
	const char *reason;	/* `because` text, NULL when none */
	size_t reason_len;
	uint32_t line;		/* line of allow/deny, from 1 */
	tg_bc_effect effect;
	tg_bc_subject subject;
	tg_bc_action action;
	bool any;		/* call any tool / read any resource / get any prompt */
} tg_emit_rule;

/* Starts the next rule (index = number of earlier rules). Returns 0 or -1. */
int tg_emit_rule_begin(tg_emit *e, const tg_emit_rule *r);

/* Subject items of the current rule: strings for scope, principal and
 * client subjects; role indices for role subjects. */
int tg_emit_subject_string(tg_emit *e, const char *s, size_t len);
int tg_emit_subject_role(tg_emit *e, int32_t role);

/* A target pattern of the current rule (tool, resource or prompt glob; the
 * method glob for `invoke`). Pass tg_emit_pattern's result; -1 propagates
 * its error. Sets expand to their globs, one call each. */
int tg_emit_target(tg_emit *e, int32_t pattern);

/* Instructions of the current rule's condition. The condition leaves one
 * bool and ends with TG_OP_RET; a rule without condition is TRUE, RET.
 *
 *   tg_emit_op      operand NONE (RET TRUE FALSE NOT AND OR ADD SUB)
 *   tg_emit_op_int  TG_OP_INT
 *   tg_emit_op_arg  operand STR, SLOT, BUILTIN, ROLE, CMP, PAT or DFA (string,
 *                   slot, tg_bc_builtin, role, tg_bc_cmp, pattern or DFA index)
 *   tg_emit_op_strs TG_OP_STRS with string indices
 *   tg_emit_op_load_args TG_OP_LOAD_ARGS with the path's keys (string
 *                   indices; none for args itself)
 *   tg_emit_op_ints TG_OP_INTS
 *   tg_emit_op_cmp  a fused comparison (below)
 *   tg_emit_jump    JFALSE or JTRUE with its target left open; *label
 *                   names it for tg_emit_patch, which points it at the next
 *                   instruction to be emitted (always forward).
 *
 * Short-circuit shapes (the stack depth at a jump target is the same on
 * both paths):
 *   A and B:  A; JFALSE L; B; AND; L:
 *   A or B:   A; JTRUE L;  B; OR;  L:
 * Returns 0 or -1 (e.g. more than TG_BC_MAX_STACK entries). */
int tg_emit_op(tg_emit *e, tg_opcode op);
int tg_emit_op_int(tg_emit *e, int64_t v);
int tg_emit_op_arg(tg_emit *e, tg_opcode op, uint32_t arg);
int tg_emit_op_strs(tg_emit *e, const uint32_t *strings, size_t n);
int tg_emit_op_load_args(tg_emit *e, const uint32_t *keys, size_t n);
int tg_emit_op_ints(tg_emit *e, const int64_t *v, size_t n);
int tg_emit_jump(tg_emit *e, tg_opcode op, size_t *label);

/* A fused comparison (opcodes.def: LOAD_STR_CMP, LOAD_INT_CMP,
 * LOADB_STR_CMP, LOAD_LOAD_CMP): `first` is the slot (the tg_bc_builtin
 * for LOADB_STR_CMP), `second` the string index, the integer (as its
 * two's-complement bits) or the second slot, `cmp` the tg_bc_cmp. The
 * operand is encoded part by part as tg_operand_parts lists them. */
int tg_emit_op_cmp(tg_emit *e, tg_opcode op, uint32_t first, uint64_t second, tg_bc_cmp cmp);
int tg_emit_patch(tg_emit *e, size_t label);

/* Ends the current rule (its code must end with RET at depth 1). */
int tg_emit_rule_end(tg_emit *e);

/*
 * Builds the index, lays out every section, writes the header and checksum,
 * and verifies the result with the runtime loader. On success stores a
 * malloc'd buffer in *out (the caller frees it) and its size in *len and
 * returns 0; otherwise returns -1 with tg_emit_error() set and *out
 * untouched.
 */
int tg_emit_finish(tg_emit *e, unsigned char **out, size_t *len);

#endif
