/*
 * fuzz_load.c - raw bytes into the bytecode loader.
 *
 * Each input is loaded twice: as given (magic, length and checksum checks),
 * and with the header's total length and CRC-32 rewritten to match, so
 * mutations reach the structural and code checks behind the checksum.
 * Whatever the verifier accepts must evaluate the request set with
 * well-formed decisions, no memory error, and no more instructions than
 * the header's bound.
 */
#include "decision.h"
#include "policy.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "format.h"

static void load(const unsigned char *buf, size_t len, unsigned seed)
{
	tg_policy *p = NULL;
	tg_load_diag err;

	memset(&err, 0xAB, sizeof err);
	tg_status st = tg_policy_load_diag(buf, len, &p, &err);
	if (err.status != st)
		tg_fuzz_fail("load error status %d, returned %d", (int)err.status, (int)st);
	if (!memchr(err.reason, 0, sizeof err.reason))
		tg_fuzz_fail("load error reason is not NUL-terminated");
	if (st != TG_OK) {
		if (p)
			tg_fuzz_fail("rejected bytecode but *out was set");
		if (!err.reason[0])
			tg_fuzz_fail("rejected bytecode without a reason");
		return;
	}
	if (!p)
		tg_fuzz_fail("TG_OK without a policy");
	if (tg_policy_max_stack(p) > TG_BC_MAX_STACK)
		tg_fuzz_fail("accepted a stack bound of %u", (unsigned)tg_policy_max_stack(p));
	for (uint32_t i = 0; i < tg_policy_slot_count(p); i++) {
		const tg_slot_info *info = tg_policy_slot(p, i);
		uint32_t found;
		if (!info || !info->name || tg_policy_slot_find(p, info->name, &found) != TG_OK)
			tg_fuzz_fail("slot %u cannot be described or found", (unsigned)i);
	}
	(void)tg_policy_name(p);
	(void)tg_policy_version(p);
	tg_fuzz_exercise(p, seed, SIZE_MAX);
	tg_policy_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load(data, size, (unsigned)size);
	if (size < TG_BC_HEADER_LEN || size > UINT32_MAX)
		return 0;
	unsigned char *copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	tg_wr32(copy + TG_HDR_TOTAL_LEN, (uint32_t)size);
	tg_wr32(copy + TG_HDR_CHECKSUM, tg_bc_checksum(copy, size));
	load(copy, size, (unsigned)size + 1);
	free(copy);
	return 0;
}
