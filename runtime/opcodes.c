/*
 * opcodes.c - the descriptor table derived from opcodes.def.
 */
#include "format.h"

#include <assert.h>

const tg_opinfo tg_opinfo_table[TG_OP_COUNT] = {
#define TG_OP(name, opnd, pops, pushes, synopsis) \
	[TG_OP_##name] = { #name, TG_OPND_##opnd, pops, pushes, synopsis },
#include "opcodes.def"
#undef TG_OP
};

/* The opcode is one byte in the code section. */
static_assert(TG_OP_COUNT <= 256, "opcodes must fit in one byte");
static_assert(sizeof tg_opinfo_table / sizeof tg_opinfo_table[0] == TG_OP_COUNT,
	      "one descriptor per opcode");
