/* The value-aware mutator (LLVMFuzzerCustomMutator).
 *
 * libFuzzer's own mutations (bit flips, byte inserts, dictionary words, cross-over) see
 * bytes; the errors of a softmax kernel live in values.  This mutator decodes the input's
 * layout (decode.h: the tail says the dtype and the body encoding) and moves values the
 * way the hard inputs differ from the easy ones:
 *
 *   ulp        move one value by 1..16 ULPs (raw: the bit pattern as an integer; deltas:
 *              a delta by one step, or the offset by ULPs)
 *   sign       flip the sign of one value (or of the offset)
 *   exponent   add -4..4 to one value's exponent (deltas: the step's exponent)
 *   dupmax     copy the row's largest value over another (ties of the max: outputs 1/k)
 *   mask       make one value -inf (a mask; deltas: the byte 0x80)
 *   scale      multiply the whole row by 2^k or by (1 + u) (deltas: the step by 2^k)
 *   shift      add one value of the row (or a power of two) to every value
 *   special    set one value (raw) or the offset (deltas) to a special value of the dtype
 *              or a threshold (log of the largest finite, of the smallest subnormal, ...),
 *              give or take a few ULPs; raw, one time in three, its negation elsewhere
 *   past-max   (raw) set x_j so that x_max - x_j is just past the dtype's overflow
 *              threshold, big (1 + t) with t in [2^-p-1, 2^-p+2) (the midpoint above the
 *              largest finite big is big (1 + 2^-p)): log_softmax at j, and the loss with
 *              target j, overflow by a hair, or land just below it; a narrow band that
 *              ULP and exponent moves find slowly (a bf16 store that truncates instead of
 *              rounding returns big there instead of inf)
 *   dominant   (raw) one time in two set the max to 0, and move every other value down
 *              by c in [16, 2^11): one logit dominates, the sum of the others' e^(x - max)
 *              is tiny (log1p(s) against log(1 + s), losses of confident right answers)
 *   grow       append one value (a copy of another) before the tail
 *   tail       change n, the target, the label byte, the kernel, the rows or the encoding
 *
 * One call in four, and always under UG_FUZZ_GUIDE=coverage or counters, falls back to
 * LLVMFuzzerMutate.  The choices come from a generator seeded with libFuzzer's seed, so
 * the mutator is deterministic.
 */
#include <math.h>
#include <string.h>

#include "decode.h"
#include "harness.h"
#include "oracle.h"
#include "prng.h"

/* The layout of the input being mutated. */
typedef struct view {
    uint8_t *data;
    size_t size, max;
    ug_dtype dt;
    size_t w;     /* width of a raw value                                   */
    int delta;    /* offset-plus-deltas encoding                            */
    size_t body;  /* bytes before the tail                                  */
    ug_prng *g;
} view;

static int coin(ug_prng *g, unsigned in) { return ug_prng_below(g, in) == 0; }

static int64_t small_signed(ug_prng *g, unsigned mag)
{
    int64_t k = 1 + (int64_t)ug_prng_below(g, mag);
    return coin(g, 2) ? -k : k;
}

static size_t mant_bits(ug_dtype dt) { return (size_t)ug_dtype_precision(dt) - 1; }

/* ---------------------------------------------------------------- raw values */

static size_t raw_count(const view *v) { return v->body / v->w; }

static uint64_t raw_get(const view *v, size_t i) { return ug_fuzz_load_bits(v->data + i * v->w, v->w); }

static void raw_set(view *v, size_t i, uint64_t bits) { ug_fuzz_store_bits(v->data + i * v->w, v->w, bits); }

static double raw_value(const view *v, size_t i) { return ug_fuzz_from_bits(v->dt, raw_get(v, i)); }

static void raw_set_value(view *v, size_t i, double x) { raw_set(v, i, ug_fuzz_to_bits(v->dt, x)); }

static size_t raw_argmax(const view *v)
{
    size_t best = 0;
    for (size_t i = 1; i < raw_count(v); i++)
        if (raw_value(v, i) > raw_value(v, best))
            best = i;
    return best;
}

/* A special value or threshold of dt, give or take a few ULPs. */
static double special_value(ug_dtype dt, ug_prng *g)
{
    double big = ug_dtype_max(dt), sub = ug_dtype_min_subnormal(dt);
    double normal = ldexp(1, ug_dtype_emin(dt));
    const double table[] = {0, 1, INFINITY, NAN, big, sub, normal, log(big), log(sub), log(normal),
                            ldexp(1, ug_dtype_precision(dt) - 2), 1e30, log((double)(1 + ug_prng_below(g, 64)))};
    double x = table[ug_prng_below(g, sizeof table / sizeof table[0])];
    x = ug_dtype_round(dt, coin(g, 2) ? -x : x);
    if (isfinite(x) && coin(g, 2))
        x = ug_dtype_round(dt, x + (double)small_signed(g, 4) * ug_fuzz_ulp(dt, x));
    return x;
}

static void raw_scale(view *v)
{
    double f = coin(v->g, 2) ? ldexp(1, (int)small_signed(v->g, 8)) : 1 + ug_prng_uniform(v->g);
    for (size_t i = 0; i < raw_count(v); i++)
        raw_set_value(v, i, raw_value(v, i) * f);
}

static void raw_shift(view *v)
{
    double c = coin(v->g, 2) ? raw_value(v, ug_prng_below(v->g, raw_count(v))) : ldexp(1, (int)small_signed(v->g, 12));
    c = coin(v->g, 2) ? -c : c;
    for (size_t i = 0; i < raw_count(v); i++)
        raw_set_value(v, i, raw_value(v, i) + c);
}

/* Make room for `bytes` more bytes just before the tail; 0 when max does not allow. */
static int grow(view *v, size_t bytes)
{
    if (v->size + bytes > v->max)
        return 0;
    memmove(v->data + v->body + bytes, v->data + v->body, v->size - v->body);
    v->size += bytes;
    v->body += bytes;
    return 1;
}

static void raw_grow(view *v)
{
    size_t m = raw_count(v);
    uint64_t bits = m > 0 ? raw_get(v, ug_prng_below(v->g, m)) : 0;
    if (grow(v, v->w)) /* stray bytes after the last whole value become part of it */
        raw_set(v, m, bits);
}

/* A special value at i and, one time in three, its negation at j (a row spanning the
 * format: x - max overflows, outputs near the overflow threshold). */
static void raw_special(view *v, size_t i, size_t j)
{
    double x = special_value(v->dt, v->g);
    raw_set_value(v, i, x);
    if (i != j && coin(v->g, 3))
        raw_set_value(v, j, -x);
}

/* x_j = x_max - big (1 + t), t in [2^-p-1, 2^-p+2) (past-max above).  Both must be
 * finite, so x_max is first made huge (big u, u in [1/2, 1)) when it is below big/2 or one
 * time in two; the target byte is pointed at j (the decoder takes it modulo n), so that
 * the loss is the overflowing difference. */
static void raw_past_max(view *v, size_t j)
{
    size_t i = raw_argmax(v), m = raw_count(v);
    if (m < 2)
        return;
    if (i == j)
        j = (j + 1) % m;
    double big = ug_dtype_max(v->dt), xi = raw_value(v, i);
    int p = ug_dtype_precision(v->dt);
    if (!(xi >= big / 2) || !isfinite(xi) || coin(v->g, 2)) {
        xi = ug_dtype_round(v->dt, big * (0.5 + 0.5 * ug_prng_uniform(v->g)));
        raw_set_value(v, i, xi);
    }
    double t = ldexp(0.5 + 3.5 * ug_prng_uniform(v->g), -p);
    raw_set_value(v, j, ug_dtype_round(v->dt, xi - big * (1 + t)));
    v->data[v->size - UG_TAIL_TARGET] = (uint8_t)j;
}

/* See dominant above. */
static void raw_dominant(view *v)
{
    size_t i = raw_argmax(v);
    double c = ldexp(1 + ug_prng_uniform(v->g), 4 + (int)ug_prng_below(v->g, 7));
    if (coin(v->g, 2) && isfinite(raw_value(v, i)))
        raw_set_value(v, i, 0.0);
    for (size_t j = 0; j < raw_count(v); j++)
        if (j != i)
            raw_set_value(v, j, ug_dtype_round(v->dt, raw_value(v, j) - c));
}

static void mutate_raw(view *v, unsigned op)
{
    size_t m = raw_count(v);
    if (m == 0) {
        raw_grow(v);
        return;
    }
    size_t i = ug_prng_below(v->g, m), j = ug_prng_below(v->g, m);
    uint64_t bits = raw_get(v, i), sign = (uint64_t)1 << (8 * v->w - 1);
    switch (op) {
    case 0: raw_set(v, i, bits + (uint64_t)small_signed(v->g, 16)); break;
    case 1: raw_set(v, i, bits ^ sign); break;
    case 2: raw_set(v, i, bits + ((uint64_t)small_signed(v->g, 4) << mant_bits(v->dt))); break;
    case 3: raw_set(v, j, raw_get(v, raw_argmax(v))); break;
    case 4: raw_set_value(v, i, -INFINITY); break;
    case 5: raw_scale(v); break;
    case 6: raw_shift(v); break;
    case 7: raw_special(v, i, j); break;
    case 8: raw_past_max(v, j); break;
    case 9: raw_dominant(v); break;
    default: raw_grow(v); break;
    }
}

/* ---------------------------------------------------------------- offset plus deltas */

static uint8_t *scale_byte(view *v) { return v->data + v->size - UG_TAIL_SCALE; }

static size_t delta_count(const view *v) { return v->body > v->w ? v->body - v->w : 0; }

static uint8_t *delta_at(view *v, size_t i) { return v->data + v->w + i; }

static void delta_offset(view *v, unsigned op)
{
    uint64_t bits = ug_fuzz_load_bits(v->data, v->w), sign = (uint64_t)1 << (8 * v->w - 1);
    if (op == 0)
        bits += (uint64_t)small_signed(v->g, 16);
    else if (op == 1)
        bits ^= sign;
    else if (op == 2)
        bits += (uint64_t)small_signed(v->g, 4) << mant_bits(v->dt);
    else
        bits = ug_fuzz_to_bits(v->dt, special_value(v->dt, v->g));
    ug_fuzz_store_bits(v->data, v->w, bits);
}

static size_t delta_argmax(view *v)
{
    size_t best = 0;
    for (size_t i = 1; i < delta_count(v); i++)
        if (*delta_at(v, i) != UG_DELTA_MASK && (int8_t)*delta_at(v, i) > (int8_t)*delta_at(v, best))
            best = i;
    return best;
}

static void delta_grow(view *v)
{
    if (v->body < v->w) {
        grow(v, v->w - v->body);
        return;
    }
    size_t m = delta_count(v);
    uint8_t d = m > 0 ? *delta_at(v, ug_prng_below(v->g, m)) : 0;
    if (grow(v, 1))
        *delta_at(v, delta_count(v) - 1) = d;
}

static void mutate_delta(view *v, unsigned op)
{
    size_t m = delta_count(v);
    if (v->body < v->w || (m == 0 && (op == 3 || op == 4))) {
        delta_grow(v);
        return;
    }
    int on_offset = m == 0 || coin(v->g, 3);
    uint8_t *d = m > 0 ? delta_at(v, ug_prng_below(v->g, m)) : NULL;
    switch (op) {
    case 0: on_offset ? delta_offset(v, 0) : (void)(*d = (uint8_t)(*d + (uint8_t)small_signed(v->g, 2))); break;
    case 1: on_offset ? delta_offset(v, 1) : (void)(*d = (uint8_t)(-(int)(int8_t)*d)); break;
    case 2: on_offset ? delta_offset(v, 2) : (void)(*scale_byte(v) = (uint8_t)(*scale_byte(v) + small_signed(v->g, 4))); break;
    case 3: *delta_at(v, ug_prng_below(v->g, m)) = *delta_at(v, delta_argmax(v)); break;
    case 4: *d = UG_DELTA_MASK; break;
    case 5: *scale_byte(v) = (uint8_t)(*scale_byte(v) + small_signed(v->g, 8)); break;
    case 6: delta_offset(v, 0); break;
    case 7: delta_offset(v, 3); break;
    default: delta_grow(v); break;
    }
}

/* ---------------------------------------------------------------- the tail */

static void mutate_tail(view *v)
{
    uint8_t *end = v->data + v->size;
    switch (ug_prng_below(v->g, 6)) {
    case 0: {
        unsigned n = (unsigned)(end[-UG_TAIL_N_LO] | end[-UG_TAIL_N_HI] << 8) + (unsigned)small_signed(v->g, 4);
        end[-UG_TAIL_N_LO] = (uint8_t)n;
        end[-UG_TAIL_N_HI] = (uint8_t)(n >> 8);
        break;
    }
    case 1: end[-UG_TAIL_TARGET] = (uint8_t)ug_prng_below(v->g, 256); break;
    case 2: end[-UG_TAIL_LABEL] = (uint8_t)ug_prng_below(v->g, 256); break;
    case 3: end[-UG_TAIL_KERNEL] = (uint8_t)(end[-UG_TAIL_KERNEL] + 1); break;
    case 4: end[-UG_TAIL_MODE] ^= (uint8_t)(1u << (1 + ug_prng_below(v->g, 5))); break;
    default: end[-UG_TAIL_MODE] ^= UG_MODE_DELTA; break;
    }
}

/* ---------------------------------------------------------------- entry */

static ug_dtype input_dtype(const ug_fuzz_config *cfg, const uint8_t *data, size_t size)
{
    if (cfg->only != NULL)
        return cfg->only->dtype;
    return (ug_dtype)(ug_fuzz_params_read(data, size).dtype % UG_DTYPE_COUNT);
}

size_t ug_fuzz_mutate(const ug_fuzz_target *t, uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    ug_fuzz_config cfg;
    char why[256];
    ug_prng g;
    ug_prng_seed(&g, seed);
    if (ug_fuzz_config_read(t, &cfg, why, sizeof why) != 0 || cfg.guide != UG_GUIDE_ERROR || size < UG_FUZZ_TAIL ||
        coin(&g, 4))
        return LLVMFuzzerMutate(data, size, max_size);
    ug_dtype dt = input_dtype(&cfg, data, size);
    view v = {data, size, max_size, dt, ug_fuzz_width(dt), 0, ug_fuzz_body_size(size), &g};
    v.delta = (ug_fuzz_params_read(data, size).mode & UG_MODE_DELTA) != 0;
    unsigned op = (unsigned)ug_prng_below(&g, 12);
    if (op == 11)
        mutate_tail(&v);
    else if (v.delta)
        mutate_delta(&v, op % 9); /* 0..7 its moves, 8 grow */
    else
        mutate_raw(&v, op); /* 0..9 its moves, 10 grow */
    return v.size;
}
