/*
 * sha256_x86.c - SHA-256 blocks with the x86 SHA extensions.
 *
 * The loader hashes every policy it loads (tg_policy_hash, which audit
 * records carry): for 10,000 rules that is 1.6 MB, and the portable code in
 * sha256.c spends about 60 instructions a byte on it - most of the load
 * time. The SHA extensions (SHA256RNDS2, SHA256MSG1, SHA256MSG2) do two
 * rounds per instruction. Used only when CPUID says the CPU has them (and
 * SSSE3/SSE4.1 for the shuffles); anything else, or any other compiler or
 * architecture, keeps the portable code. Both produce the same digests
 * (tests/unit/test_runtime_sha256.c compares them).
 *
 * State layout: the instructions want the eight words as ABEF and CDGH
 * vectors; they are rearranged on entry and back on exit. Each group of
 * four rounds adds four schedule words to four constants; MSG1/MSG2 build
 * words 16..63 from the previous sixteen, kept in four rotating vectors.
 */
#include "sha256.h"

#include <stdatomic.h>
#include <stdbool.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

bool tg_sha256_x86_available(void)
{
	static atomic_int state;	/* 0 unknown, 1 available, 2 not */
	int s = atomic_load_explicit(&state, memory_order_relaxed);
	if (s == 0) {
		unsigned a, b, c, d;
		bool ok = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 9)) && (c & (1u << 19)) &&
			  __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
		s = ok ? 1 : 2;
		atomic_store_explicit(&state, s, memory_order_relaxed);
	}
	return s == 1;
}

__attribute__((target("sha,sse4.1,ssse3")))
void tg_sha256_x86_blocks(uint32_t h[8], const unsigned char *p, size_t n, const uint32_t k[64])
{
	const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i tmp = _mm_loadu_si128((const __m128i *)(const void *)&h[0]);
	__m128i st1 = _mm_loadu_si128((const __m128i *)(const void *)&h[4]);
	tmp = _mm_shuffle_epi32(tmp, 0xB1);		/* CDAB */
	st1 = _mm_shuffle_epi32(st1, 0x1B);		/* EFGH */
	__m128i st0 = _mm_alignr_epi8(tmp, st1, 8);	/* ABEF */
	st1 = _mm_blend_epi16(st1, tmp, 0xF0);		/* CDGH */

	for (; n > 0; n--, p += 64) {
		__m128i save0 = st0, save1 = st1, m[4], msg;
		for (int i = 0; i < 16; i++) {
			if (i < 4)
				m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i)), mask);
			msg = _mm_add_epi32(m[i & 3], _mm_loadu_si128((const __m128i *)(const void *)&k[4 * i]));
			st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
			if (i >= 3 && i <= 14) {
				/* completes schedule words 4(i+1) .. 4(i+1)+3 */
				__m128i t = _mm_alignr_epi8(m[i & 3], m[(i + 3) & 3], 4);
				m[(i + 1) & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(m[(i + 1) & 3], t), m[i & 3]);
			}
			msg = _mm_shuffle_epi32(msg, 0x0E);
			st0 = _mm_sha256rnds2_epu32(st0, st1, msg);
			if (i >= 1 && i <= 12)
				m[(i + 3) & 3] = _mm_sha256msg1_epu32(m[(i + 3) & 3], m[i & 3]);
		}
		st0 = _mm_add_epi32(st0, save0);
		st1 = _mm_add_epi32(st1, save1);
	}

	tmp = _mm_shuffle_epi32(st0, 0x1B);		/* FEBA */
	st1 = _mm_shuffle_epi32(st1, 0xB1);		/* DCHG */
	st0 = _mm_blend_epi16(tmp, st1, 0xF0);		/* DCBA */
	st1 = _mm_alignr_epi8(st1, tmp, 8);		/* ABEF */
	_mm_storeu_si128((__m128i *)(void *)&h[0], st0);
	_mm_storeu_si128((__m128i *)(void *)&h[4], st1);
}

#else

bool tg_sha256_x86_available(void)
{
	return false;
}

void tg_sha256_x86_blocks(uint32_t h[8], const unsigned char *p, size_t n, const uint32_t k[64])
{
	(void)h;
	(void)p;
	(void)n;
	(void)k;
}

#endif
