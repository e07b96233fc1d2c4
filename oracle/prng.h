/* The one pseudo-random generator of ulpgate: xoshiro256** seeded by splitmix64.
 *
 * Every input family, test and fuzz seed corpus draws from this generator, so that a
 * (seed, family, dtype, op) names the same bytes on every run.  rand() is never used.
 *
 *   generator  xoshiro256** 1.0: 256-bit state, period 2^256 - 1, passes BigCrush and
 *              PractRand (D. Blackman and S. Vigna, "Scrambled linear pseudorandom number
 *              generators", ACM Trans. Math. Softw. 47(4), 2021; https://prng.di.unimi.it).
 *   seeding    the four state words are four successive outputs of splitmix64 (G. Steele,
 *              D. Lea, C. Flood, "Fast splittable pseudorandom number generators", OOPSLA
 *              2014), as Vigna recommends: never the all-zero state.
 *   uniform    ug_prng_uniform: the top 53 bits times 2^-53, every double k*2^-53 in [0, 1)
 *              equally likely; exact, no libm.
 *   integers   ug_prng_below: uniform in [0, bound) without modulo bias (rejection of the
 *              2^64 mod bound lowest outputs, then the remainder).
 *   normal     ug_prng_normal: Marsaglia's polar method (Marsaglia & Bray 1964).  It calls
 *              sqrt (IEEE, correctly rounded) and log (glibc's: not correctly rounded, but
 *              deterministic for one glibc build and CPU family).  So a normal deviate is
 *              bit-identical across runs on one system; another libm may move its last bit,
 *              which the rounding to the dtype usually, not always, absorbs.  The uniform
 *              and integer draws are exact everywhere.
 */
#ifndef ULPGATE_ORACLE_PRNG_H
#define ULPGATE_ORACLE_PRNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct ug_prng {
    uint64_t s[4];
} ug_prng;

/* One step of splitmix64 on *state: the seeding generator, also a good 64-bit mixer. */
uint64_t ug_splitmix64(uint64_t *state);

/* Seed from one 64-bit value (any value, 0 included). */
void ug_prng_seed(ug_prng *g, uint64_t seed);

/* Seed from several words (a seed and what names a stream: family, dtype, op...): each
 * word is folded in through splitmix64, so streams of different words are unrelated. */
void ug_prng_seed_words(ug_prng *g, const uint64_t *words, size_t count);

/* FNV-1a of a string: a stable 64-bit name for a stream ("normal1" is always the same). */
uint64_t ug_prng_hash_str(const char *s);

/* The next 64 output bits (xoshiro256**). */
uint64_t ug_prng_next(ug_prng *g);

/* Uniform double in [0, 1): k * 2^-53 with k uniform in [0, 2^53). */
double ug_prng_uniform(ug_prng *g);

/* Uniform double in [a, b): a + (b - a) * ug_prng_uniform (one rounding each). */
double ug_prng_uniform_in(ug_prng *g, double a, double b);

/* Uniform integer in [0, bound), without modulo bias; bound = 0 returns 0. */
uint64_t ug_prng_below(ug_prng *g, uint64_t bound);

/* Standard normal deviate N(0, 1), Marsaglia's polar method (see the header). */
double ug_prng_normal(ug_prng *g);

#endif
