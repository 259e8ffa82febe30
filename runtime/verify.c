/*
 * verify.c - the bytecode verifier.
 *
 * Security: bytecode is untrusted input. Modelled on the kernel's classic BPF
 * checker, this file proves, before any evaluation, everything the
 * interpreter relies on without checking again:
 *
 *   - the header: magic, major version, lengths, no unknown flags, checksum;
 *   - the section table: every kind once, every offset + size in the file,
 *     4-byte aligned, sections disjoint;
 *   - every table: exact sizes, every string/ref/int/role/slot/pattern/rule
 *     index in bounds (offset + width, computed in 64 bits), strings
 *     NUL-terminated, enums in range, hash tables consistent;
 *   - the code of each rule: known opcodes only, operands checked per kind
 *     from opcodes.def, an instruction-start bitmap so no jump lands inside
 *     an operand, jumps forward and inside their rule, one linear pass
 *     computing the stack depth at each instruction and requiring the same
 *     depth on every path into a jump target, no underflow, the declared
 *     maximum respected, exactly one RET as the last instruction at depth 1;
 *   - the header's worst-case instruction count equals the recomputed one.
 *
 * Because jumps only go forward and no instruction repeats, a rule executes
 * each instruction at most once: the instruction count of all rules is the
 * cost bound of one evaluation.
 *
 * The verifier reads the buffer and writes only *lay and *err. The first
 * problem found is reported as {status, offset, pc, reason}.
 */
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vctx {
	const unsigned char *buf;
	size_t len;
	tg_layout *l;
	tg_load_diag *err;
	unsigned minor;		/* the header's minor version */
	uint32_t sec_off[TG_SEC_COUNT + 1], sec_size[TG_SEC_COUNT + 1], sec_count[TG_SEC_COUNT + 1];
} vctx;

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static tg_status fail(vctx *v, tg_status st, size_t offset, int64_t pc, const char *fmt, ...)
{
	if (v->err) {
		va_list ap;
		v->err->status = st;
		v->err->offset = offset > UINT32_MAX ? UINT32_MAX : (uint32_t)offset;
		v->err->pc = pc;
		va_start(ap, fmt);
		vsnprintf(v->err->reason, sizeof v->err->reason, fmt, ap);
		va_end(ap);
	}
	return st;
}

static bool in_range(uint64_t first, uint64_t n, uint64_t count)
{
	return first <= count && n <= count - first;
}

static bool str_ok(const vctx *v, uint32_t i)
{
	return i < v->l->nstrings;
}

static const char *sec_name(unsigned k)
{
	static const char *const names[] = { "?", "strings", "refs", "ints", "roles", "slots",
					     "patterns", "rules", "index", "code", "dfas" };
	return k <= TG_SEC_COUNT ? names[k] : "?";
}

static tg_status check_header(vctx *v)
{
	const unsigned char *b = v->buf;
	size_t n = v->len < TG_BC_MAGIC_LEN ? v->len : TG_BC_MAGIC_LEN;
	if (memcmp(b, TG_BC_MAGIC, n) != 0)
		return fail(v, TG_EBADMAGIC, 0, -1, "bad magic: not toolgate bytecode");
	if (v->len < TG_BC_HEADER_LEN)
		return fail(v, TG_ETRUNCATED, v->len, -1,
			    "truncated: %zu bytes, the header alone needs %d", v->len,
			    (int)TG_BC_HEADER_LEN);
	unsigned major = tg_rd16(b + TG_HDR_MAJOR);
	if (major != TG_BC_MAJOR)
		return fail(v, TG_EVERSION, TG_HDR_MAJOR, -1,
			    "format version %u.%u is not supported (this runtime reads %d.x)", major,
			    (unsigned)tg_rd16(b + TG_HDR_MINOR), TG_BC_MAJOR);
	uint32_t total = tg_rd32(b + TG_HDR_TOTAL_LEN);
	if (total > v->len)
		return fail(v, TG_ETRUNCATED, v->len, -1,
			    "truncated: header says %u bytes, got %zu", (unsigned)total, v->len);
	if (total < v->len)
		return fail(v, TG_EMALFORMED, total, -1,
			    "%zu trailing bytes after the %u the header declares", v->len - total,
			    (unsigned)total);
	uint32_t hlen = tg_rd32(b + TG_HDR_HEADER_LEN);
	if (hlen < TG_BC_HEADER_LEN || hlen % 4 || hlen > total)
		return fail(v, TG_EMALFORMED, TG_HDR_HEADER_LEN, -1, "bad header length %u",
			    (unsigned)hlen);
	uint32_t flags = tg_rd32(b + TG_HDR_FLAGS);
	if (flags & ~TG_BC_FLAGS_KNOWN)
		return fail(v, TG_EMALFORMED, TG_HDR_FLAGS, -1, "unknown header flags 0x%x",
			    (unsigned)(flags & ~TG_BC_FLAGS_KNOWN));
	uint32_t sum = tg_rd32(b + TG_HDR_CHECKSUM);
	uint32_t want = tg_bc_checksum(b, v->len);
	if (sum != want)
		return fail(v, TG_ECHECKSUM, TG_HDR_CHECKSUM, -1,
			    "checksum mismatch: header says 0x%08x, contents give 0x%08x",
			    (unsigned)sum, (unsigned)want);
	unsigned minor = tg_rd16(b + TG_HDR_MINOR);
	v->minor = minor;
	uint32_t cost_hi = tg_rd32(b + TG_HDR_MAX_INSNS_HI);
	if (cost_hi != 0 && minor < TG_BC_MINOR_DFAS)
		return fail(v, TG_EMALFORMED, TG_HDR_MAX_INSNS_HI, -1,
			    "reserved header field is not zero");
	uint32_t def = tg_rd32(b + TG_HDR_DEFAULT);
	if (def > 1)
		return fail(v, TG_EMALFORMED, TG_HDR_DEFAULT, -1, "bad default effect %u", (unsigned)def);
	v->l->default_allow = def == 1;
	v->l->max_stack = tg_rd32(b + TG_HDR_MAX_STACK);
	if (v->l->max_stack > TG_BC_MAX_STACK)
		return fail(v, TG_ELIMIT, TG_HDR_MAX_STACK, -1,
			    "declared stack depth %u exceeds the runtime limit %d",
			    (unsigned)v->l->max_stack, TG_BC_MAX_STACK);
	v->l->max_insns = (uint64_t)cost_hi << 32 | tg_rd32(b + TG_HDR_MAX_INSNS);
	v->l->name = tg_rd32(b + TG_HDR_NAME);
	v->l->version = tg_rd32(b + TG_HDR_VERSION);

	uint32_t nsec = tg_rd32(b + TG_HDR_NSECTIONS);
	if (nsec != tg_bc_nsections(minor))
		return fail(v, TG_EMALFORMED, TG_HDR_NSECTIONS, -1,
			    "expected %u sections in format 1.%u, header says %u",
			    tg_bc_nsections(minor), minor, (unsigned)nsec);
	uint64_t table_end = (uint64_t)hlen + (uint64_t)nsec * TG_BC_SECTION_ENTRY;
	if (table_end > total)
		return fail(v, TG_EMALFORMED, hlen, -1, "section table runs past the end");
	for (uint32_t i = 0; i < nsec; i++) {
		const unsigned char *e = b + hlen + (size_t)i * TG_BC_SECTION_ENTRY;
		size_t at = hlen + (size_t)i * TG_BC_SECTION_ENTRY;
		uint32_t kind = tg_rd32(e), off = tg_rd32(e + 4), size = tg_rd32(e + 8);
		if (kind < 1 || kind > nsec)
			return fail(v, TG_EMALFORMED, at, -1, "unknown section kind %u", (unsigned)kind);
		if (v->sec_off[kind] != TG_BC_NONE)
			return fail(v, TG_EMALFORMED, at, -1, "section '%s' appears twice",
				    sec_name(kind));
		if (off % 4 || off < table_end || (uint64_t)off + size > total)
			return fail(v, TG_EMALFORMED, at, -1,
				    "section '%s' at %u+%u is out of bounds or misaligned",
				    sec_name(kind), (unsigned)off, (unsigned)size);
		v->sec_off[kind] = off;
		v->sec_size[kind] = size;
		v->sec_count[kind] = tg_rd32(e + 12);
	}
	for (unsigned i = 1; i <= TG_SEC_COUNT; i++)
		for (unsigned j = i + 1; j <= TG_SEC_COUNT; j++) {
			uint64_t a0 = v->sec_off[i], a1 = a0 + v->sec_size[i];
			uint64_t b0 = v->sec_off[j], b1 = b0 + v->sec_size[j];
			if (a0 < b1 && b0 < a1)
				return fail(v, TG_EMALFORMED, (size_t)(a0 > b0 ? a0 : b0), -1,
					    "sections '%s' and '%s' overlap", sec_name(i),
					    sec_name(j));
		}
	return TG_OK;
}

#define SEC(k) (v->buf + v->sec_off[k])

/* A section of fixed-size records: its size must be exactly its count times
 * the record size. Sets *base and *n on success. */
static tg_status record_section(vctx *v, unsigned k, size_t record, const unsigned char **base,
				uint32_t *n)
{
	if ((uint64_t)v->sec_count[k] * record != v->sec_size[k])
		return fail(v, TG_EMALFORMED, v->sec_off[k], -1,
			    "%s section size does not match its count", sec_name(k));
	*base = SEC(k);
	*n = v->sec_count[k];
	return TG_OK;
}

static tg_status check_strings(vctx *v)
{
	uint32_t n = v->sec_count[TG_SEC_STRINGS], size = v->sec_size[TG_SEC_STRINGS];
	size_t at = v->sec_off[TG_SEC_STRINGS];
	if ((uint64_t)n * 8 > size)
		return fail(v, TG_EMALFORMED, at, -1, "string table of %u entries exceeds its section",
			    (unsigned)n);
	tg_layout *l = v->l;
	l->str_tab = SEC(TG_SEC_STRINGS);
	l->nstrings = n;
	l->str_data = l->str_tab + (size_t)n * 8;
	l->str_data_len = size - n * 8;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = tg_rd32(l->str_tab + (size_t)i * 8);
		uint32_t len = tg_rd32(l->str_tab + (size_t)i * 8 + 4);
		if ((uint64_t)off + len + 1 > l->str_data_len)
			return fail(v, TG_EMALFORMED, at + (size_t)i * 8, -1,
				    "string %u is out of bounds", (unsigned)i);
		if (l->str_data[(size_t)off + len] != 0)
			return fail(v, TG_EMALFORMED, at + (size_t)i * 8, -1,
				    "string %u is not NUL-terminated", (unsigned)i);
	}
	if (!str_ok(v, l->name))
		return fail(v, TG_EMALFORMED, TG_HDR_NAME, -1, "policy name is not a string");
	if (l->version != TG_BC_NONE && !str_ok(v, l->version))
		return fail(v, TG_EMALFORMED, TG_HDR_VERSION, -1, "policy version is not a string");
	return TG_OK;
}

static tg_status check_pools(vctx *v)
{
	tg_layout *l = v->l;
	tg_status st = record_section(v, TG_SEC_REFS, 4, &l->refs, &l->nrefs);
	if (st != TG_OK)
		return st;
	return record_section(v, TG_SEC_INTS, 8, &l->ints, &l->nints);
}

/* A REFS range whose entries are all < limit. */
static bool refs_ok(const vctx *v, uint32_t first, uint32_t n, uint32_t limit)
{
	if (!in_range(first, n, v->l->nrefs))
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (tg_pol_ref(v->l, first + i) >= limit)
			return false;
	return true;
}

static tg_status check_roles(vctx *v)
{
	tg_layout *l = v->l;
	uint32_t n = v->sec_count[TG_SEC_ROLES], size = v->sec_size[TG_SEC_ROLES];
	size_t at = v->sec_off[TG_SEC_ROLES];
	if (n > TG_BC_MAX_ROLES)
		return fail(v, TG_ELIMIT, at, -1, "%u roles exceed the runtime limit %d", (unsigned)n,
			    TG_BC_MAX_ROLES);
	uint32_t w = (n + 63) / 64;
	uint64_t fixed = (uint64_t)n * 4 + (uint64_t)n * w * 8 + 4;
	if (fixed > size)
		return fail(v, TG_EMALFORMED, at, -1, "roles section is too small");
	l->nroles = n;
	l->role_words = w;
	l->roles = SEC(TG_SEC_ROLES);
	l->closure = l->roles + (size_t)n * 4;
	uint32_t nb = tg_rd32(l->closure + (size_t)n * w * 8);
	if (nb == 0 || (nb & (nb - 1)) || nb <= n || fixed + (uint64_t)nb * 4 != size)
		return fail(v, TG_EMALFORMED, at, -1, "bad role hash table (%u buckets)", (unsigned)nb);
	l->role_nbuckets = nb;
	l->role_buckets = l->closure + (size_t)n * w * 8 + 4;
	for (uint32_t b = 0; b < nb; b++)
		if (tg_rd32(l->role_buckets + (size_t)b * 4) > n)
			return fail(v, TG_EMALFORMED, at, -1, "role hash bucket %u is out of range",
				    (unsigned)b);
	for (uint32_t r = 0; r < n; r++)
		if (!str_ok(v, tg_rd32(l->roles + (size_t)r * 4)))
			return fail(v, TG_EMALFORMED, at + (size_t)r * 4, -1,
				    "role %u name is not a string", (unsigned)r);
	for (uint32_t r = 0; r < n; r++) {
		uint32_t name = tg_rd32(l->roles + (size_t)r * 4);
		const unsigned char *bits = l->closure + (size_t)r * w * 8;
		if (!((tg_rd64(bits + (size_t)(r / 64) * 8) >> (r % 64)) & 1))
			return fail(v, TG_EMALFORMED, at, -1, "role %u does not hold itself", (unsigned)r);
		if (n % 64 && (tg_rd64(bits + (size_t)(w - 1) * 8) >> (n % 64)) != 0)
			return fail(v, TG_EMALFORMED, at, -1,
				    "role %u closure has bits past the last role", (unsigned)r);
		tg_str s = tg_pol_str(l, name);
		if (tg_role_find(l, s.ptr, s.len) != (int32_t)r)
			return fail(v, TG_EMALFORMED, at, -1,
				    "role %u is not found through the hash table", (unsigned)r);
	}
	return TG_OK;
}

static tg_status check_slots(vctx *v)
{
	tg_layout *l = v->l;
	size_t at = v->sec_off[TG_SEC_SLOTS];
	tg_status st = record_section(v, TG_SEC_SLOTS, TG_BC_SLOT_SIZE, &l->slots, &l->nslots);
	if (st != TG_OK)
		return st;
	uint32_t n = l->nslots;
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *s = l->slots + (size_t)i * TG_BC_SLOT_SIZE;
		size_t here = at + (size_t)i * TG_BC_SLOT_SIZE;
		unsigned root = s[0], type = s[1];
		uint32_t cf = tg_rd32(s + 8), cn = tg_rd32(s + 12);
		uint32_t df = tg_rd32(s + 16), dn = tg_rd32(s + 20);
		if (root > TG_BC_ROOT_LAST || type > TG_BC_TYPE_LAST || tg_rd16(s + 2) != 0)
			return fail(v, TG_EMALFORMED, here, -1, "slot %u has a bad root or type",
				    (unsigned)i);
		if (!str_ok(v, tg_rd32(s + 4)))
			return fail(v, TG_EMALFORMED, here, -1, "slot %u name is not a string",
				    (unsigned)i);
		if (cn == 0 || !refs_ok(v, cf, cn, l->nstrings))
			return fail(v, TG_EMALFORMED, here, -1, "slot %u path is out of bounds",
				    (unsigned)i);
		bool ok;
		switch (type) {
		case TG_ATTR_STRING:
		case TG_ATTR_STRING_LIST:
			ok = refs_ok(v, df, dn, l->nstrings);
			break;
		case TG_ATTR_INT:
		case TG_ATTR_INT_LIST:
			ok = in_range(df, dn, l->nints);
			break;
		default:
			ok = dn == 0;
		}
		if (!ok)
			return fail(v, TG_EMALFORMED, here, -1, "slot %u domain is out of bounds",
				    (unsigned)i);
	}
	return TG_OK;
}

static tg_status check_patterns(vctx *v)
{
	tg_layout *l = v->l;
	size_t at = v->sec_off[TG_SEC_PATTERNS];
	tg_status st = record_section(v, TG_SEC_PATTERNS, TG_BC_PATTERN_SIZE, &l->pats,
				      &l->npats);
	if (st != TG_OK)
		return st;
	uint32_t n = l->npats;
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *p = l->pats + (size_t)i * TG_BC_PATTERN_SIZE;
		size_t here = at + (size_t)i * TG_BC_PATTERN_SIZE;
		uint32_t g = tg_rd32(p), pre = tg_rd32(p + 4), rest = tg_rd32(p + 8);
		uint32_t flags = tg_rd32(p + 12);
		if (!str_ok(v, g) || !str_ok(v, pre) || (flags & ~TG_PAT_FLAGS_KNOWN))
			return fail(v, TG_EMALFORMED, here, -1, "pattern %u is malformed", (unsigned)i);
		tg_str gs = tg_pol_str(l, g);
		if (rest > gs.len || ((flags & TG_PAT_EXACT) && rest != gs.len))
			return fail(v, TG_EMALFORMED, here, -1, "pattern %u has a bad wildcard offset",
				    (unsigned)i);
		if (gs.len - rest > TG_BC_GLOB_MAX)
			return fail(v, TG_ELIMIT, here, -1,
				    "pattern %u is longer than %d bytes from its first wildcard",
				    (unsigned)i, TG_BC_GLOB_MAX);
	}
	return TG_OK;
}

static tg_status check_rules(vctx *v)
{
	tg_layout *l = v->l;
	size_t at = v->sec_off[TG_SEC_RULES];
	tg_status st = record_section(v, TG_SEC_RULES, TG_BC_RULE_SIZE, &l->rules, &l->nrules);
	if (st != TG_OK)
		return st;
	uint32_t n = l->nrules;
	l->code = SEC(TG_SEC_CODE);
	l->code_len = v->sec_size[TG_SEC_CODE];
	uint64_t pos = 0;
	for (uint32_t i = 0; i < n; i++) {
		tg_rule_view r = tg_pol_rule(l, i);
		size_t here = at + (size_t)i * TG_BC_RULE_SIZE;
		uint32_t id = tg_pol_rule_id(l, i), reason = tg_pol_rule_reason(l, i);
		if (!str_ok(v, id) || (reason != TG_BC_NONE && !str_ok(v, reason)))
			return fail(v, TG_EMALFORMED, here, -1, "rule %u id or reason is not a string",
				    (unsigned)i);
		if (r.effect > 1 || r.subject > TG_BC_SUBJ_LAST || r.action > TG_BC_ACT_LAST ||
		    (r.flags & ~TG_RULE_FLAGS_KNOWN))
			return fail(v, TG_EMALFORMED, here, -1,
				    "rule %u has a bad effect, subject, action or flags", (unsigned)i);
		bool subj_ok;
		if (r.subject == TG_BC_SUBJ_ANYONE)
			subj_ok = r.subj_n == 0;
		else if (r.subject == TG_BC_SUBJ_ROLE)
			subj_ok = r.subj_n > 0 && refs_ok(v, r.subj_first, r.subj_n, l->nroles);
		else
			subj_ok = r.subj_n > 0 && refs_ok(v, r.subj_first, r.subj_n, l->nstrings);
		if (!subj_ok)
			return fail(v, TG_EMALFORMED, here, -1, "rule %u subject is out of bounds",
				    (unsigned)i);
		bool any = r.flags & TG_RULE_ANY, act_ok;
		switch (r.action) {
		case TG_BC_ACT_CALL_TOOL:
		case TG_BC_ACT_READ_RESOURCE:
		case TG_BC_ACT_GET_PROMPT:
			/* no patterns is fine: `call tool S` with an empty
			 * set S matches no target */
			act_ok = !any || r.pat_n == 0;
			break;
		case TG_BC_ACT_INVOKE:
			act_ok = !any && r.pat_n > 0;
			break;
		default:
			act_ok = !any && r.pat_n == 0;
		}
		if (!act_ok || !refs_ok(v, r.pat_first, r.pat_n, l->npats))
			return fail(v, TG_EMALFORMED, here, -1, "rule %u action is malformed",
				    (unsigned)i);
		if (r.code_off != pos || r.code_len == 0 || (uint64_t)r.code_off + r.code_len > l->code_len)
			return fail(v, TG_EMALFORMED, here, -1,
				    "rule %u code range %u+%u does not follow the previous rule's",
				    (unsigned)i, (unsigned)r.code_off, (unsigned)r.code_len);
		pos += r.code_len;
	}
	if (pos != l->code_len)
		return fail(v, TG_EMALFORMED, v->sec_off[TG_SEC_CODE] + (size_t)pos, -1,
			    "%u code bytes belong to no rule", (unsigned)(l->code_len - pos));
	return TG_OK;
}

/* Every DFA: its data block inside the section, blocks in entry order and
 * contiguous, byte classes below nclasses, every transition to a state that
 * exists, no accepting bit past the last state. The walk (dfa.c) then
 * indexes its tables without a check. */
static tg_status check_dfas(vctx *v)
{
	tg_layout *l = v->l;
	if (v->sec_off[TG_SEC_DFAS] == TG_BC_NONE)
		return TG_OK;	/* format 1.0-1.1: none */
	uint32_t n = v->sec_count[TG_SEC_DFAS], size = v->sec_size[TG_SEC_DFAS];
	size_t at = v->sec_off[TG_SEC_DFAS];
	const unsigned char *s = SEC(TG_SEC_DFAS);
	if ((uint64_t)n * TG_BC_DFA_ENTRY_SIZE > size)
		return fail(v, TG_EMALFORMED, at, -1, "DFA table of %u entries exceeds its section",
			    (unsigned)n);
	uint64_t expect = (uint64_t)n * TG_BC_DFA_ENTRY_SIZE;
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *e = s + (size_t)i * TG_BC_DFA_ENTRY_SIZE;
		size_t here = at + (size_t)i * TG_BC_DFA_ENTRY_SIZE;
		uint32_t pat = tg_rd32(e), off = tg_rd32(e + 4);
		uint32_t ns = tg_rd32(e + 8), nc = tg_rd32(e + 12);
		if (!str_ok(v, pat))
			return fail(v, TG_EMALFORMED, here, -1, "DFA %u has no pattern string",
				    (unsigned)i);
		if (ns == 0 || ns > TG_BC_DFA_MAX_STATES || nc == 0 || nc > 256)
			return fail(v, TG_ELIMIT, here, -1,
				    "DFA %u has %u states and %u byte classes (at most %d and 256)",
				    (unsigned)i, (unsigned)ns, (unsigned)nc, TG_BC_DFA_MAX_STATES);
		uint64_t len = tg_bc_dfa_data_size(ns, nc);
		if (off != expect || len > size - expect)
			return fail(v, TG_EMALFORMED, here, -1,
				    "DFA %u data at %u is out of place or out of bounds", (unsigned)i,
				    (unsigned)off);
		expect += len;
		const unsigned char *d = s + off;
		for (unsigned b = 0; b < 256; b++)
			if (d[b] >= nc)
				return fail(v, TG_EMALFORMED, at + off + b, -1,
					    "DFA %u maps byte 0x%02x to class %u of %u", (unsigned)i,
					    b, (unsigned)d[b], (unsigned)nc);
		const unsigned char *t = d + 256;
		uint64_t cells = (uint64_t)ns * nc;
		unsigned w = tg_bc_dfa_wide(ns, nc) ? 4 : 2;
		for (uint64_t c = 0; c < cells; c++) {
			uint32_t row = w == 4 ? tg_rd32(t + c * 4) : tg_rd16(t + c * 2);
			if (row >= cells || row % nc)
				return fail(v, TG_EMALFORMED, at + off + 256 + (size_t)c * w, -1,
					    "DFA %u: state %u goes to row offset %u, not a state's "
					    "(%u states of %u classes)", (unsigned)i, (unsigned)(c / nc),
					    (unsigned)row, (unsigned)ns, (unsigned)nc);
		}
		const unsigned char *acc = d + len - (ns + 31) / 32 * 4;
		for (size_t c = cells * w; d + 256 + c < acc; c++)
			if (t[c] != 0)
				return fail(v, TG_EMALFORMED, at + off + 256 + c, -1,
					    "DFA %u: padding is not zero", (unsigned)i);
		if (ns % 32 && tg_rd32(acc + (size_t)(ns / 32) * 4) >> (ns % 32))
			return fail(v, TG_EMALFORMED, at + off + len - 4, -1,
				    "DFA %u accepts a state past its last", (unsigned)i);
	}
	if (expect != size)
		return fail(v, TG_EMALFORMED, at + expect, -1,
			    "%llu bytes after the last DFA", (unsigned long long)(size - expect));
	l->dfas = s;
	l->ndfas = n;
	return TG_OK;
}

static tg_status check_index(vctx *v)
{
	tg_layout *l = v->l;
	uint32_t size = v->sec_size[TG_SEC_INDEX];
	size_t at = v->sec_off[TG_SEC_INDEX];
	const unsigned char *s = SEC(TG_SEC_INDEX);
	if (size < 8)
		return fail(v, TG_EMALFORMED, at, -1, "index section is too small");
	uint32_t nb = tg_rd32(s), ne = tg_rd32(s + 4);
	if (ne != v->sec_count[TG_SEC_INDEX] || nb == 0 || (nb & (nb - 1)) || nb <= ne ||
	    8 + (uint64_t)nb * 4 + (uint64_t)ne * TG_BC_INDEX_ENTRY_SIZE != size)
		return fail(v, TG_EMALFORMED, at, -1, "bad index hash table (%u buckets, %u entries)",
			    (unsigned)nb, (unsigned)ne);
	l->ix_nbuckets = nb;
	l->ix_nentries = ne;
	l->ix_buckets = s + 8;
	l->ix_entries = s + 8 + (size_t)nb * 4;
	for (uint32_t b = 0; b < nb; b++)
		if (tg_rd32(l->ix_buckets + (size_t)b * 4) > ne)
			return fail(v, TG_EMALFORMED, at + 8 + (size_t)b * 4, -1,
				    "index bucket %u is out of range", (unsigned)b);
	for (uint32_t i = 0; i < ne; i++) {
		const unsigned char *e = l->ix_entries + (size_t)i * TG_BC_INDEX_ENTRY_SIZE;
		size_t here = (size_t)(e - v->buf);
		uint32_t first = tg_rd32(e + 8), n = tg_rd32(e + 12);
		if (e[0] > TG_CLASS_LAST || e[0] == TG_CLASS_OTHER || e[1] > TG_INDEX_KIND_LAST ||
		    tg_rd16(e + 2) != 0 || !str_ok(v, tg_rd32(e + 4)))
			return fail(v, TG_EMALFORMED, here, -1, "index entry %u is malformed",
				    (unsigned)i);
		if (!refs_ok(v, first, n, l->nrules))
			return fail(v, TG_EMALFORMED, here, -1,
				    "index entry %u postings are out of bounds", (unsigned)i);
		for (uint32_t k = 1; k < n; k++)
			if (tg_pol_ref(l, first + k) <= tg_pol_ref(l, first + k - 1))
				return fail(v, TG_EMALFORMED, here, -1,
					    "index entry %u postings are not in rule order",
					    (unsigned)i);
	}
	return TG_OK;
}

/* Operand checks per primitive kind. */
static bool part_ok(const vctx *v, tg_operand_kind k, const unsigned char *o)
{
	const tg_layout *l = v->l;
	switch (k) {
	case TG_OPND_NONE:
	case TG_OPND_I64:
	case TG_OPND_JUMP:	/* checked by the caller against the rule */
		return true;
	case TG_OPND_STR:
		return tg_rd32(o) < l->nstrings;
	case TG_OPND_STRS:
		return refs_ok(v, tg_rd32(o), tg_rd32(o + 4), l->nstrings);
	case TG_OPND_INTS:
		return in_range(tg_rd32(o), tg_rd32(o + 4), l->nints);
	case TG_OPND_SLOT:
		return tg_rd32(o) < l->nslots;
	case TG_OPND_BUILTIN:
		return o[0] <= TG_BI_LAST;
	case TG_OPND_ROLE:
		return tg_rd32(o) < l->nroles;
	case TG_OPND_CMP:
		return o[0] <= TG_BC_CMP_LAST;
	case TG_OPND_PAT:
		return tg_rd32(o) < l->npats;
	case TG_OPND_DFA:
		return tg_rd32(o) < l->ndfas;
	default:
		return false;	/* composite kinds are checked part by part */
	}
}

/* Operand checks per kind (the table in opcodes.def names the kind): a
 * composite operand's parts one after the other, each as its own kind. */
static bool operand_ok(const vctx *v, tg_operand_kind k, const unsigned char *o)
{
	tg_operand_kind parts[TG_OPND_MAX_PARTS];
	unsigned n = tg_operand_parts(k, parts);
	for (unsigned i = 0; i < n; i++) {
		if (!part_ok(v, parts[i], o))
			return false;
		o += tg_operand_width(parts[i]);
	}
	return true;
}

#define DEPTH_UNSET 0xFF

/* One rule's code [start, end) of the code section. starts and depth are
 * scratch arrays covering the whole code section. */
static tg_status check_rule_code(vctx *v, uint32_t rule, uint32_t start, uint32_t end,
				 unsigned char *starts, unsigned char *depth, uint64_t *ninsns,
				 uint32_t *maxdepth)
{
	const tg_layout *l = v->l;
	size_t base = v->sec_off[TG_SEC_CODE];
	uint32_t pc, last = start;

	/* Pass 1: decode, mark instruction starts. */
	for (pc = start; pc < end;) {
		unsigned op = l->code[pc];
		if (op >= TG_OP_COUNT)
			return fail(v, TG_EVERIFY, base + pc, pc, "unknown opcode 0x%02x at pc %u",
				    op, (unsigned)pc);
		unsigned w = tg_operand_width(tg_opinfo_table[op].operand);
		if ((uint64_t)pc + 1 + w > end)
			return fail(v, TG_EVERIFY, base + pc, pc,
				    "%s at pc %u runs past the end of rule %u",
				    tg_opinfo_table[op].name, (unsigned)pc, (unsigned)rule);
		/* A file that says 1.2 or less must be readable by a reader of
		 * that version: the rows 1.3 added are refused in it. */
		if (tg_op_needs_values_minor(op) && v->minor < TG_BC_MINOR_VALUES)
			return fail(v, TG_EVERIFY, base + pc, pc, "%s at pc %u needs format 1.%d, the file is 1.%u",
				    tg_opinfo_table[op].name, (unsigned)pc, TG_BC_MINOR_VALUES, v->minor);
		if (op == TG_OP_LOAD_ARGS)
			v->l->args_tree = true;
		starts[pc] = 1;
		last = pc;
		pc += 1 + w;
		*ninsns += tg_op_cost(op);
	}
	if (l->code[last] != TG_OP_RET)
		return fail(v, TG_EVERIFY, base + last, last, "rule %u does not end with RET",
			    (unsigned)rule);

	/* Pass 2: operands, jumps, stack depth; forward jumps only, so every
	 * edge into pc is known when pc is reached. */
	unsigned d = 0;
	for (pc = start; pc < end;) {
		unsigned op = l->code[pc];
		const tg_opinfo *in = &tg_opinfo_table[op];
		const unsigned char *o = l->code + pc + 1;
		uint32_t next = pc + 1 + tg_operand_width(in->operand);
		if (depth[pc] != DEPTH_UNSET && depth[pc] != d)
			return fail(v, TG_EVERIFY, base + pc, pc,
				    "stack depth %u at pc %u differs from %u on a jump into it", d,
				    (unsigned)pc, (unsigned)depth[pc]);
		if (!operand_ok(v, in->operand, o))
			return fail(v, TG_EVERIFY, base + pc, pc, "%s at pc %u has a bad operand",
				    in->name, (unsigned)pc);
		if (d < in->pops)
			return fail(v, TG_EVERIFY, base + pc, pc, "stack underflow at pc %u (%s)",
				    (unsigned)pc, in->name);
		d = d - in->pops + in->pushes;
		if (d > l->max_stack)
			return fail(v, TG_EVERIFY, base + pc, pc,
				    "stack depth %u at pc %u exceeds the declared maximum %u", d,
				    (unsigned)pc, (unsigned)l->max_stack);
		if (d > *maxdepth)
			*maxdepth = d;
		if (in->operand == TG_OPND_JUMP) {
			uint32_t dist = tg_rd32(o);
			if (dist >= end - next)
				return fail(v, TG_EVERIFY, base + pc, pc,
					    "jump at pc %u leaves rule %u", (unsigned)pc,
					    (unsigned)rule);
			uint32_t t = next + dist;
			if (!starts[t])
				return fail(v, TG_EVERIFY, base + pc, pc,
					    "jump at pc %u targets the middle of an instruction",
					    (unsigned)pc);
			if (depth[t] != DEPTH_UNSET && depth[t] != d)
				return fail(v, TG_EVERIFY, base + pc, pc,
					    "jump at pc %u reaches pc %u with stack depth %u, not %u",
					    (unsigned)pc, (unsigned)t, d, (unsigned)depth[t]);
			depth[t] = (unsigned char)d;
		}
		if (op == TG_OP_RET) {
			if (next != end)
				return fail(v, TG_EVERIFY, base + pc, pc,
					    "RET at pc %u before the end of rule %u", (unsigned)pc,
					    (unsigned)rule);
			if (d != 0)
				return fail(v, TG_EVERIFY, base + pc, pc,
					    "rule %u returns with %u extra values on the stack",
					    (unsigned)rule, d);
		}
		pc = next;
	}
	return TG_OK;
}

static tg_status check_code(vctx *v)
{
	const tg_layout *l = v->l;
	tg_status st = TG_OK;
	uint64_t ninsns = 0;
	uint32_t maxdepth = 0;
	unsigned char *starts = calloc((size_t)l->code_len + 1, 2);
	if (!starts)
		return fail(v, TG_ENOMEM, 0, -1, "out of memory verifying code");
	unsigned char *depth = starts + l->code_len + 1;
	memset(depth, DEPTH_UNSET, (size_t)l->code_len + 1);
	for (uint32_t i = 0; i < l->nrules && st == TG_OK; i++) {
		tg_rule_view r = tg_pol_rule(l, i);
		st = check_rule_code(v, i, r.code_off, r.code_off + r.code_len, starts, depth,
				     &ninsns, &maxdepth);
	}
	free(starts);
	if (st != TG_OK)
		return st;
	if (ninsns != l->max_insns)
		return fail(v, TG_EVERIFY, TG_HDR_MAX_INSNS, -1,
			    "header declares a cost of %llu per evaluation, the code has %llu",
			    (unsigned long long)l->max_insns, (unsigned long long)ninsns);
	return TG_OK;
}

tg_status tg_verify(const unsigned char *buf, size_t len, tg_layout *lay, tg_load_diag *err)
{
	tg_layout l;
	vctx v;
	tg_status st;

	memset(&l, 0, sizeof l);
	memset(&v, 0, sizeof v);
	v.buf = buf;
	v.len = len;
	v.l = &l;
	v.err = err;
	for (unsigned i = 0; i <= TG_SEC_COUNT; i++)
		v.sec_off[i] = TG_BC_NONE;
	if (err) {
		err->status = TG_OK;
		err->offset = 0;
		err->pc = -1;
		err->reason[0] = 0;
	}
	if (!buf)
		return fail(&v, TG_EINVAL, 0, -1, "no bytecode given");
	if (len > UINT32_MAX)
		return fail(&v, TG_EMALFORMED, 0, -1, "bytecode larger than 4 GiB");
	l.base = buf;
	l.len = len;
	if ((st = check_header(&v)) || (st = check_strings(&v)) || (st = check_pools(&v)) ||
	    (st = check_roles(&v)) || (st = check_slots(&v)) || (st = check_patterns(&v)) ||
	    (st = check_dfas(&v)) ||
	    (st = check_rules(&v)) || (st = check_index(&v)) || (st = check_code(&v)))
		return st;
	*lay = l;
	return TG_OK;
}
