/*
 * disasm.h - human-readable listing of toolgate bytecode.
 */
#ifndef TG_DISASM_H
#define TG_DISASM_H

#include <stddef.h>
#include <stdio.h>

/*
 * Verifies buf[0..len) with the runtime loader, then prints the header,
 * tables (strings, roles, slots, patterns, index), every rule and its code
 * with each instruction's synopsis from opcodes.def and the rule's source
 * line. Returns 0; or -1 when the bytecode is rejected (the loader's reason
 * is printed as "error: ...") or on a write error.
 */
int tg_disasm(const unsigned char *buf, size_t len, FILE *out);

#endif
