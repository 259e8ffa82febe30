/*
 * format.h - the toolgate bytecode format, version 1.3.
 *
 * Shared by the writer (compiler/emit.c), the loader and verifier
 * (runtime/load.c, runtime/verify.c), the interpreter and the disassembler.
 * docs/bytecode.md is the prose version of this file.
 *
 * Layout. Every integer is little-endian and read byte by byte, so the file
 * means the same on every host and no read depends on alignment.
 *
 *   header        TG_BC_HEADER_LEN bytes (below)
 *   section table nsections x 16 bytes: {u32 kind, u32 offset, u32 size, u32 count}
 *   sections      each kind exactly once, 4-byte aligned, in bounds, disjoint
 *
 * References between sections are u32 indices checked once by the verifier
 * (index < count, and every range first + n <= count), so the interpreter
 * never bounds-checks a reference again. TG_BC_NONE marks an absent one.
 *
 * Sections:
 *   STRINGS   count x {u32 off, u32 len}, then the bytes; string i is
 *             data[off, off+len) followed by a NUL (checked), so the runtime
 *             can hand out C strings (rule ids, reasons).
 *   REFS      count x u32: a pool of index lists (string, role or pattern
 *             indices, rule indices of the index postings), each user
 *             naming a (first, n) range of it.
 *   INTS      count x i64: list<int> literals and int domains.
 *   ROLES     count = nroles. nroles x u32 name string; nroles x W x u64
 *             closure bitsets (W = (nroles + 63) / 64; bit a of role r set
 *             when r holds a, r itself included); u32 nbuckets (a power of
 *             two, > nroles); nbuckets x u32 hash table of role index + 1
 *             (0 = empty), linear probing, hash tg_bc_hash(name).
 *   SLOTS     count x 24 bytes: {u8 root, u8 type, u16 0, u32 name string,
 *             u32 component first, u32 n (REFS -> strings), u32 domain
 *             first, u32 n (REFS -> strings for string types, INTS for int
 *             types; n = 0 when no domain)}.
 *   PATTERNS  count x 16 bytes: {u32 glob string (as written, `\` escapes
 *             kept), u32 literal prefix string (escapes applied: the bytes
 *             every match starts with), u32 rest (byte offset in the glob
 *             where its first wildcard starts; = glob length when EXACT),
 *             u32 flags (TG_PAT_EXACT)}. The glob from `rest` on is at most
 *             TG_BC_GLOB_MAX bytes.
 *   RULES     count x 40 bytes, source order: {u32 id string, u32 reason
 *             string or NONE, u32 line, u8 effect, u8 subject kind, u8
 *             action kind, u8 flags (TG_RULE_ANY), u32 subject first, u32 n
 *             (REFS -> role indices for ROLE, strings otherwise), u32 pattern
 *             first, u32 n (REFS -> patterns: targets, or method globs for
 *             INVOKE), u32 code offset, u32 code length}. Code ranges are
 *             contiguous in rule order and cover CODE exactly.
 *   INDEX     count = nentries. u32 nbuckets (a power of two, > nentries),
 *             u32 nentries, nbuckets x u32 (entry + 1, 0 = empty), then
 *             nentries x 16 bytes {u8 class, u8 kind, u16 0, u32 key string,
 *             u32 postings first, u32 n (REFS -> rule indices, strictly
 *             increasing)}. Hash tg_bc_index_hash(class, kind, key).
 *   CODE      instructions: one opcode byte (opcodes.def) and its operand.
 *   DFAS      (format 1.2, only in files with `matches`) count x 16 bytes
 *             {u32 pattern string (the regular expression as written), u32
 *             data offset (from the section start, 4-aligned), u32 nstates,
 *             u32 nclasses}, then each DFA's data in entry order, contiguous
 *             to the section's end: 256 bytes mapping a byte to its class,
 *             nstates x nclasses transitions (row s, column class; state 0
 *             starts), zero padding to 4 bytes, then (nstates + 31) / 32
 *             u32 accepting-state bit sets (bit s % 32 of word s / 32). A
 *             transition holds the next state's row offset, state x
 *             nclasses, so the walk adds the class and loads, with no
 *             multiply between two bytes; it is a u16 when nstates x
 *             nclasses <= 65536 (tg_bc_dfa_wide), a u32 otherwise.
 *
 * The index maps a request's method class and target to candidate rules:
 * an EXACT entry keyed by a full target name, PREFIX entries keyed by the
 * first min(TG_INDEX_PREFIX, n) bytes of a glob's literal prefix (n >= 1),
 * and ALL entries (empty key) for rules that match every target of a class
 * (`any`, globs with an empty prefix, list actions) or, under
 * TG_CLASS_EVERY, every method (`invoke`, `do anything`). A lookup probes
 * at most TG_INDEX_PREFIX + 3 keys and merges the sorted postings, so the
 * candidates come out in source order without a scan of every rule. The
 * index only narrows: each candidate's subject and action are checked in
 * full.
 */
#ifndef TG_FORMAT_H
#define TG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* PNG-style: a high byte, then CR LF, ^Z and LF reveal transfer damage. */
#define TG_BC_MAGIC "\x89TGB\r\n\x1a\n"
#define TG_BC_MAGIC_LEN 8
#define TG_BC_MAJOR 1
#define TG_BC_MINOR 3	/* 1.1: the fused comparisons (rows 28-31); 1.2: DFAS and MATCH (rows 32-34);
			 * 1.3: LOAD_ARGS and the value quantifiers (rows 35-43) */
#define TG_BC_MINOR_DFAS 2	/* the first minor with the DFAS section */
#define TG_BC_MINOR_VALUES 3	/* the first minor whose code may use rows 35-43 */
#define TG_BC_FLAGS_KNOWN 0u	/* no header flags defined yet: any set bit is rejected */
#define TG_BC_NONE 0xFFFFFFFFu

/* Header field offsets. */
enum {
	TG_HDR_MAGIC = 0,		/* 8 bytes */
	TG_HDR_MAJOR = 8,		/* u16 */
	TG_HDR_MINOR = 10,		/* u16: readers accept any minor of their major */
	TG_HDR_HEADER_LEN = 12,		/* u32 = TG_BC_HEADER_LEN */
	TG_HDR_FLAGS = 16,		/* u32 */
	TG_HDR_TOTAL_LEN = 20,		/* u32: the whole file */
	TG_HDR_CHECKSUM = 24,		/* u32: CRC-32 of the file with this field zero */
	TG_HDR_MAX_STACK = 28,		/* u32: operand stack bound over every rule */
	TG_HDR_MAX_INSNS = 32,		/* u32: low half of the cost bound (below) */
	TG_HDR_NAME = 36,		/* u32 string: policy name ("" when none) */
	TG_HDR_VERSION = 40,		/* u32 string or NONE */
	TG_HDR_DEFAULT = 44,		/* u32: 0 deny, 1 allow */
	TG_HDR_NSECTIONS = 48,		/* u32 = tg_bc_nsections(minor) */
	TG_HDR_MAX_INSNS_HI = 52,	/* u32: high half of the cost bound (0 before 1.2) */
	TG_HDR_SOURCE_HASH = 56,	/* 32 bytes: SHA-256 of the policy source */
	TG_BC_HEADER_LEN = 88
};

#define TG_BC_SECTION_ENTRY 16

typedef enum tg_section_kind {
	TG_SEC_STRINGS = 1,
	TG_SEC_REFS,
	TG_SEC_INTS,
	TG_SEC_ROLES,
	TG_SEC_SLOTS,
	TG_SEC_PATTERNS,
	TG_SEC_RULES,
	TG_SEC_INDEX,
	TG_SEC_CODE,
	TG_SEC_DFAS,
	TG_SEC_LAST = TG_SEC_DFAS
} tg_section_kind;
#define TG_SEC_COUNT 10

/* A file of minor 0 or 1 has no DFAS section; the writer uses minor 1
 * for a policy without `matches`, so those files stay readable by 1.1
 * readers byte for byte. */
static inline unsigned tg_bc_nsections(unsigned minor)
{
	return minor >= TG_BC_MINOR_DFAS ? TG_SEC_COUNT : TG_SEC_COUNT - 1;
}

#define TG_BC_SLOT_SIZE 24
#define TG_BC_PATTERN_SIZE 16
#define TG_BC_RULE_SIZE 40
#define TG_BC_INDEX_ENTRY_SIZE 16

/* Runtime limits; the writer refuses to exceed them, the loader rejects
 * them with TG_ELIMIT. They size the interpreter's fixed state. */
#define TG_BC_MAX_STACK 32	/* operand stack entries */
#define TG_BC_MAX_ROLES 1024	/* declared roles (held-role bitset) */
#define TG_BC_GLOB_MAX 512	/* bytes of a glob from its first wildcard */
#define TG_INDEX_PREFIX 4	/* bytes of a glob prefix used as index key */
#define TG_BC_DFA_MAX_STATES 4096	/* states of one DFA (u16 transitions) */
#define TG_BC_DFA_ENTRY_SIZE 16
#define TG_BC_SUBJECT_MAX (64u * 1024)	/* = TG_MAX_STRING_BYTES: one MATCH's table steps */
#define TG_BC_LIST_MAX 4096u		/* = TG_MAX_LIST_ITEMS */
/* The values a value quantifier may walk: every member and element below
 * its subject, at any depth, containers and list items included. A larger
 * subject makes the quantifier an error (fail closed), so each of its
 * instructions costs at most this many comparisons. */
#define TG_BC_TREE_MAX (64u * 1024)

/* Whether a DFA's transitions are u32 (row offsets past a u16). */
static inline bool tg_bc_dfa_wide(uint32_t nstates, uint32_t nclasses)
{
	return (uint64_t)nstates * nclasses > 65536;
}

/* Bytes of one DFA's data block. */
static inline uint64_t tg_bc_dfa_data_size(uint32_t nstates, uint32_t nclasses)
{
	uint64_t w = tg_bc_dfa_wide(nstates, nclasses) ? 4 : 2;
	uint64_t table = ((uint64_t)nstates * nclasses * w + 3) & ~(uint64_t)3;
	return 256 + table + ((uint64_t)nstates + 31) / 32 * 4;
}

/* Rule fields. The numbering mirrors the AST's but is the format's own. */
typedef enum tg_bc_effect { TG_BC_DENY = 0, TG_BC_ALLOW = 1 } tg_bc_effect;

typedef enum tg_bc_subject {
	TG_BC_SUBJ_ANYONE = 0,
	TG_BC_SUBJ_ROLE,	/* REFS -> role indices: holds any (inheritance included) */
	TG_BC_SUBJ_SCOPE,	/* REFS -> strings: token.scopes carries any */
	TG_BC_SUBJ_PRINCIPAL,	/* REFS -> strings: principal.id is one */
	TG_BC_SUBJ_CLIENT,	/* REFS -> strings: client id is one */
	TG_BC_SUBJ_LAST = TG_BC_SUBJ_CLIENT
} tg_bc_subject;

typedef enum tg_bc_action {
	TG_BC_ACT_CALL_TOOL = 0,	/* tools/call: target patterns, or RULE_ANY */
	TG_BC_ACT_READ_RESOURCE,	/* resources/read|subscribe|unsubscribe */
	TG_BC_ACT_GET_PROMPT,		/* prompts/get */
	TG_BC_ACT_LIST_TOOLS,
	TG_BC_ACT_LIST_RESOURCES,
	TG_BC_ACT_LIST_PROMPTS,
	TG_BC_ACT_LIST_RESOURCE_TEMPLATES,
	TG_BC_ACT_INVOKE,		/* patterns are method globs */
	TG_BC_ACT_ANYTHING,
	TG_BC_ACT_LAST = TG_BC_ACT_ANYTHING
} tg_bc_action;

#define TG_RULE_ANY 0x01u	/* call any tool / read any resource / get any prompt */
#define TG_RULE_FLAGS_KNOWN 0x01u

#define TG_PAT_EXACT 0x01u	/* no wildcard: matches the prefix string exactly */
#define TG_PAT_FLAGS_KNOWN 0x01u

/* Method classes: what the index and action matching dispatch on. */
typedef enum tg_bc_class {
	TG_CLASS_TOOL = 0,		/* tools/call */
	TG_CLASS_RESOURCE,		/* resources/read, resources/subscribe, resources/unsubscribe */
	TG_CLASS_PROMPT,		/* prompts/get */
	TG_CLASS_LIST_TOOLS,		/* tools/list */
	TG_CLASS_LIST_RESOURCES,	/* resources/list */
	TG_CLASS_LIST_PROMPTS,		/* prompts/list */
	TG_CLASS_LIST_TEMPLATES,	/* resources/templates/list */
	TG_CLASS_OTHER,			/* any other method (never an index key) */
	TG_CLASS_EVERY,			/* index key only: rules for every method */
	TG_CLASS_LAST = TG_CLASS_EVERY
} tg_bc_class;

typedef enum tg_bc_index_kind {
	TG_INDEX_EXACT = 0,
	TG_INDEX_PREFIX_KEY,
	TG_INDEX_ALL,
	TG_INDEX_KIND_LAST = TG_INDEX_ALL
} tg_bc_index_kind;

/* Slot roots and types use the public tg_slot_root / tg_attr_type numbers
 * (toolgate.h): principal 0, token 1, context 2, args 3; any 0, string 1,
 * int 2, bool 3, list<string> 4, list<int> 5. */
#define TG_BC_ROOT_LAST 3
#define TG_BC_TYPE_LAST 5

/* Built-in request fields (LOADB/HASB operand). */
typedef enum tg_bc_builtin {
	TG_BI_PRINCIPAL_ID = 0,
	TG_BI_PRINCIPAL_ROLES,
	TG_BI_TOKEN_SCOPES,
	TG_BI_TOOL_NAME,	/* tools/call only */
	TG_BI_TOOL_SERVER,	/* tools/call only; absent when no server */
	TG_BI_TOOL_READ_ONLY,	/* tools/call only; bool hints */
	TG_BI_TOOL_DESTRUCTIVE,
	TG_BI_TOOL_IDEMPOTENT,
	TG_BI_TOOL_OPEN_WORLD,
	TG_BI_RESOURCE_URI,	/* resources/read|subscribe|unsubscribe only */
	TG_BI_PROMPT_NAME,	/* prompts/get only */
	TG_BI_REQUEST_METHOD,
	TG_BI_LAST = TG_BI_REQUEST_METHOD
} tg_bc_builtin;

/* CMP / ALL / ANY operand. */
typedef enum tg_bc_cmp {
	TG_BC_EQ = 0,
	TG_BC_NE,
	TG_BC_LT,
	TG_BC_LE,
	TG_BC_GT,
	TG_BC_GE,
	TG_BC_IN,		/* a in list b */
	TG_BC_CONTAINS,		/* list a has element b, or string a has substring b */
	TG_BC_STARTS_WITH,
	TG_BC_ENDS_WITH,
	TG_BC_CMP_LAST = TG_BC_ENDS_WITH
} tg_bc_cmp;

/* Operand kinds; each opcode has one (opcodes.def). */
typedef enum tg_operand_kind {
	TG_OPND_NONE = 0,	/* 0 bytes */
	TG_OPND_I64,		/* 8 bytes: signed integer */
	TG_OPND_STR,		/* 4 bytes: string index */
	TG_OPND_STRS,		/* 8 bytes: REFS first, n; each a string index */
	TG_OPND_INTS,		/* 8 bytes: INTS first, n */
	TG_OPND_SLOT,		/* 4 bytes: slot index */
	TG_OPND_BUILTIN,	/* 1 byte: tg_bc_builtin */
	TG_OPND_ROLE,		/* 4 bytes: role index */
	TG_OPND_JUMP,		/* 4 bytes: forward distance from the next instruction */
	TG_OPND_CMP,		/* 1 byte: tg_bc_cmp */
	TG_OPND_PAT,		/* 4 bytes: pattern index */
	TG_OPND_DFA,		/* 4 bytes: DFAS index */
	/* Composite operands of the fused comparisons: their parts in
	 * order (tg_operand_parts), each encoded and checked as above. */
	TG_OPND_SLOT_STR_CMP,	/* 9 bytes: SLOT, STR, CMP */
	TG_OPND_SLOT_I64_CMP,	/* 13 bytes: SLOT, I64, CMP */
	TG_OPND_BUILTIN_STR_CMP,	/* 6 bytes: BUILTIN, STR, CMP */
	TG_OPND_SLOT_SLOT_CMP	/* 9 bytes: SLOT, SLOT, CMP */
} tg_operand_kind;

#define TG_OPND_MAX_PARTS 3

/* The primitive kinds a composite operand is made of, in encoding order,
 * in parts[0..n); a primitive kind is its own single part. Returns n. */
static inline unsigned tg_operand_parts(tg_operand_kind k, tg_operand_kind parts[TG_OPND_MAX_PARTS])
{
	switch (k) {
	case TG_OPND_SLOT_STR_CMP:
		parts[0] = TG_OPND_SLOT, parts[1] = TG_OPND_STR, parts[2] = TG_OPND_CMP;
		return 3;
	case TG_OPND_SLOT_I64_CMP:
		parts[0] = TG_OPND_SLOT, parts[1] = TG_OPND_I64, parts[2] = TG_OPND_CMP;
		return 3;
	case TG_OPND_BUILTIN_STR_CMP:
		parts[0] = TG_OPND_BUILTIN, parts[1] = TG_OPND_STR, parts[2] = TG_OPND_CMP;
		return 3;
	case TG_OPND_SLOT_SLOT_CMP:
		parts[0] = TG_OPND_SLOT, parts[1] = TG_OPND_SLOT, parts[2] = TG_OPND_CMP;
		return 3;
	default:
		parts[0] = k;
		return 1;
	}
}

/* Operand width in bytes; a constant expression, so tables indexed by
 * opcode can be built from opcodes.def at compile time. */
#define TG_OPND_WIDTH(k) \
	((k) == TG_OPND_NONE ? 0u : \
	 (k) == TG_OPND_BUILTIN || (k) == TG_OPND_CMP ? 1u : \
	 (k) == TG_OPND_STR || (k) == TG_OPND_SLOT || (k) == TG_OPND_ROLE || \
	 (k) == TG_OPND_JUMP || (k) == TG_OPND_PAT || (k) == TG_OPND_DFA ? 4u : \
	 (k) == TG_OPND_BUILTIN_STR_CMP ? 6u : \
	 (k) == TG_OPND_I64 || (k) == TG_OPND_STRS || (k) == TG_OPND_INTS ? 8u : \
	 (k) == TG_OPND_SLOT_STR_CMP || (k) == TG_OPND_SLOT_SLOT_CMP ? 9u : \
	 (k) == TG_OPND_SLOT_I64_CMP ? 13u : 0u)

static inline unsigned tg_operand_width(tg_operand_kind k)
{
	return TG_OPND_WIDTH(k);
}

typedef enum tg_opcode {
#define TG_OP(name, opnd, pops, pushes, synopsis) TG_OP_##name,
#include "opcodes.def"
#undef TG_OP
	TG_OP_COUNT
} tg_opcode;

/* One row of opcodes.def. */
typedef struct tg_opinfo {
	const char *name;		/* "JFALSE" */
	tg_operand_kind operand;
	uint8_t pops, pushes;
	const char *synopsis;
} tg_opinfo;

/* The table, indexed by opcode (runtime/opcodes.c). */
extern const tg_opinfo tg_opinfo_table[TG_OP_COUNT];

/* What an instruction adds to the header's cost bound: 1, or for a DFA
 * walk one step per byte of the longest string it can be given, plus one. */
static inline uint64_t tg_op_cost(unsigned op)
{
	if (op == TG_OP_MATCH)
		return 1 + (uint64_t)TG_BC_SUBJECT_MAX;
	if (op == TG_OP_ALL_MATCH || op == TG_OP_ANY_MATCH)
		return 1 + (uint64_t)TG_BC_LIST_MAX * TG_BC_SUBJECT_MAX;
	/* a value quantifier: one comparison per value it may walk, a DFA
	 * walk costing one step per byte of the longest string */
	if (op == TG_OP_ALL_VALUES_MATCH || op == TG_OP_ANY_VALUES_MATCH)
		return 1 + (uint64_t)TG_BC_TREE_MAX * TG_BC_SUBJECT_MAX;
	if (op >= TG_OP_ALL_VALUES && op <= TG_OP_ANY_VALUES_UNDER)
		return 1 + (uint64_t)TG_BC_TREE_MAX;
	return 1;
}

/* Whether op is one of rows 35-43, which a file of minor < 3 may not use. */
static inline bool tg_op_needs_values_minor(unsigned op)
{
	return op >= TG_OP_LOAD_ARGS && op <= TG_OP_ANY_VALUES_MATCH;
}

/* Little-endian access; callers have bounds-checked p. */
static inline uint16_t tg_rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t tg_rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t tg_rd64(const unsigned char *p)
{
	return (uint64_t)tg_rd32(p) | (uint64_t)tg_rd32(p + 4) << 32;
}

static inline void tg_wr16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void tg_wr32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void tg_wr64(unsigned char *p, uint64_t v)
{
	tg_wr32(p, (uint32_t)v);
	tg_wr32(p + 4, (uint32_t)(v >> 32));
}

/* FNV-1a, 32 bits: the role table's and the index's hash. */
static inline uint32_t tg_bc_hash_add(uint32_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

#define TG_BC_HASH_INIT 2166136261u

static inline uint32_t tg_bc_hash(const void *data, size_t len)
{
	return tg_bc_hash_add(TG_BC_HASH_INIT, data, len);
}

static inline uint32_t tg_bc_index_hash(unsigned cls, unsigned kind, const void *key, size_t len)
{
	unsigned char ck[2] = { (unsigned char)cls, (unsigned char)kind };
	return tg_bc_hash_add(tg_bc_hash_add(TG_BC_HASH_INIT, ck, 2), key, len);
}

/* CRC-32 (IEEE 802.3, reflected) of the file with the checksum field
 * counted as zero (runtime/checksum.c). */
uint32_t tg_bc_checksum(const unsigned char *buf, size_t len);

/* Method name -> class (runtime/method.c). */
tg_bc_class tg_bc_method_class(const char *method, size_t len);

#endif
