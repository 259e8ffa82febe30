/*
 * roles.c - declared role names, for mapping a request's roles.
 *
 * tg_vm_init turns each role a request names into its declared index. The
 * verifier's FNV-1a table (tg_role_find) costs a multiply per byte, so the
 * loader also builds a private table (keytab.h) and lookups go through it
 * when it exists.
 */
#include "keytab.h"

#include <stdlib.h>

/* Declared role names, for mapping a request's roles (tg_vm_init). */
tg_status tg_roles_build(tg_policy *p)
{
	tg_layout *l = &p->l;
	uint32_t nb = 16;
	while (nb < 2 * (uint64_t)l->nroles)
		nb *= 2;
	struct tg_key *keys = aligned_alloc(64, nb * sizeof *keys);
	if (!keys)
		return TG_ENOMEM;
	memset(keys, 0, nb * sizeof *keys);
	for (uint32_t r = 0; r < l->nroles; r++) {
		/* names are distinct: the verifier found each through its own
		 * hash table */
		tg_str name = tg_pol_str(l, tg_rd32(l->roles + (size_t)r * 4));
		uint64_t h = tg_key_hash(0, 0, name.ptr, name.len);
		uint64_t i = h;
		while (keys[i & (nb - 1)].h != 0)
			i++;
		tg_key_put(&keys[i & (nb - 1)], (struct tg_key){ .h = h, .key = name.ptr,
							       .len = (uint32_t)name.len, .first = r });
	}
	p->role_keys = keys;
	l->role_keys = keys;
	l->role_keys_mask = nb - 1;
	return TG_OK;
}

int32_t tg_role_lookup(const tg_layout *l, const char *s, size_t len)
{
	if (!l->role_keys)
		return tg_role_find(l, s, len);
	const struct tg_key *k = tg_key_find(l->role_keys, l->role_keys_mask, 0, 0, s, len);
	return k ? (int32_t)k->first : -1;
}
