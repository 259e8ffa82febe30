/*
 * rng.h - the property tests' pseudo-random sequence: xorshift64* (Vigna,
 * "An experimental exploration of Marsaglia's xorshift generators", 2016)
 * from a fixed seed, so every run draws the same inputs and a failure
 * repeats. A test may add to `rng` to explore other sequences by hand; it
 * must not leave it 0, the generator's one fixed point.
 */
#ifndef TG_TEST_RNG_H
#define TG_TEST_RNG_H

#include <stdint.h>

static uint64_t rng = 0x9E3779B97F4A7C15u;

/* A number in [0, n), n > 0. */
static inline unsigned rnd(unsigned n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (unsigned)((rng * 2685821657736338717u) >> 33) % n;
}

#endif
