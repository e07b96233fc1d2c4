/* xoshiro256** seeded by splitmix64 (see prng.h for the references and the method of
 * each draw).  The constants are those of the reference implementations:
 * https://prng.di.unimi.it/xoshiro256starstar.c and splitmix64.c. */
#include <math.h>

#include "prng.h"

uint64_t ug_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void ug_prng_seed(ug_prng *g, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        g->s[i] = ug_splitmix64(&st);
}

void ug_prng_seed_words(ug_prng *g, const uint64_t *words, size_t count)
{
    uint64_t st = 0;
    for (size_t i = 0; i < count; i++) {
        st ^= words[i];
        st = ug_splitmix64(&st);
    }
    ug_prng_seed(g, st);
}

uint64_t ug_prng_hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a, 64-bit offset basis and prime */
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3u;
    }
    return h;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ug_prng_next(ug_prng *g)
{
    uint64_t *s = g->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ug_prng_uniform(ug_prng *g) { return (double)(ug_prng_next(g) >> 11) * 0x1p-53; }

double ug_prng_uniform_in(ug_prng *g, double a, double b) { return a + (b - a) * ug_prng_uniform(g); }

uint64_t ug_prng_below(ug_prng *g, uint64_t bound)
{
    if (bound == 0)
        return 0;
    /* The outputs below 2^64 mod bound are rejected: what remains is a whole number of
     * copies of [0, bound), so the remainder is uniform. */
    uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        uint64_t r = ug_prng_next(g);
        if (r >= threshold)
            return r % bound;
    }
}

double ug_prng_normal(ug_prng *g)
{
    /* Marsaglia polar: (u, v) uniform in the unit disc, s = u^2 + v^2 in (0, 1);
     * u sqrt(-2 log s / s) is N(0, 1).  The second deviate of the pair is dropped so that
     * the generator has no hidden state beyond its four words. */
    for (;;) {
        double u = ug_prng_uniform_in(g, -1.0, 1.0);
        double v = ug_prng_uniform_in(g, -1.0, 1.0);
        double s = u * u + v * v;
        if (s > 0.0 && s < 1.0)
            return u * sqrt(-2.0 * log(s) / s);
    }
}
