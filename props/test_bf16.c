/* bf16 emulation (core/bf16.c) against references that share no code with it.
 *
 *   ug_bf16_from_f32     vs ref_bf16(): RNE in binary64 arithmetic (frexp, ldexp, nearbyint)
 *   ug_bf16_from_f32_hw  vs ref_bf16() after flushing subnormal inputs, and vs the
 *                        VCVTNEPS2BF16 instruction itself where the CPU has AVX512_BF16
 *   ug_bf16_from_f64     vs MPFR at precision 8 with bf16's exponent range and
 *                        mpfr_subnormalize, and vs ref_bf16()
 *   ug_bf16_to_f32       all 65,536 patterns decoded by ldexp, and round trips
 *
 * The binary32 conversions are checked here on a sweep (every 251st pattern plus every
 * special neighbourhood, about 19 million patterns); props/slow_bf16_exhaustive.c includes
 * this file with UG_BF16_EXHAUSTIVE defined and checks all 2^32 patterns instead (label
 * slow: it takes longer than the quick suite may).
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <mpfr.h>

#include "prng.h"
#include "ulpgate/bf16.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

/* ------------------------------------------------------------------ helpers */

static float f32_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t bits_of_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* The bf16 pattern of a value that is a bf16 (or +-inf), held in a double: -1 (no
 * pattern) when it is not one. */
static int32_t pattern_of(double v)
{
    uint32_t u = bits_of_f32((float)v);
    return (double)(float)v == v && (u & 0xffffu) == 0 ? (int32_t)(u >> 16) : -1;
}

/* The bf16 nearest x, ties to even, in binary64 arithmetic: scale x so that one bf16 ulp
 * of its binade is 1 (a power-of-two scaling: exact), round to an integer with nearbyint
 * (RNE in the default rounding mode), scale back.  bf16 keeps 8 significant bits in the
 * binades from 2^-126 up and has the fixed ulp 2^-133 below 2^-126; a result of 2^128 or
 * more is an overflow.  Finite x only; exact for every binary64 x. */
static double ref_bf16(double x)
{
    int e;
    frexp(x, &e); /* |x| in [2^(e-1), 2^e) */
    int q = e - 1 < -126 ? -126 : e - 1;
    double r = ldexp(nearbyint(ldexp(x, 7 - q)), q - 7);
    return fabs(r) >= 0x1p128 ? copysign(INFINITY, x) : r;
}

/* What a NaN must become: a NaN of the same sign, quiet, with the input's next 6 payload
 * bits (binary32 bits 21..16 or binary64 bits 50..45) kept. */
static int nan_ok(uint16_t got, int sign, unsigned payload6)
{
    return (got & 0x7f80u) == 0x7f80u && (got & 0x40u) && (got >> 15) == sign && (got & 0x3fu) == payload6;
}

/* Counts of one check, and the first failure. */
typedef struct tally {
    uint64_t checked, bad;
    uint64_t first_in;
    uint32_t first_got, first_want;
} tally;

static void tally_add(tally *t, uint64_t in, uint32_t got, uint32_t want, int ok)
{
    t->checked++;
    if (ok)
        return;
    if (t->bad++ == 0) {
        t->first_in = in;
        t->first_got = got;
        t->first_want = want;
    }
}

static void tally_report(const tally *t, const char *what)
{
    printf("%s: %" PRIu64 " patterns checked, %" PRIu64 " mismatches\n", what, t->checked, t->bad);
    fflush(stdout);
    cr_expect_gt(t->checked, 0, "%s: nothing checked", what);
    cr_expect_eq(t->bad, 0, "%s: %" PRIu64 " mismatches; first: input 0x%" PRIx64 " gave 0x%04" PRIx32 ", want 0x%04" PRIx32,
                 what, t->bad, t->first_in, t->first_got, t->first_want);
}

/* A set of binary32 patterns: lo, lo + stride, ... up to hi inclusive. */
typedef struct range { uint32_t lo, hi, stride; } range;

#define RANGES_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#ifndef UG_BF16_EXHAUSTIVE
/* Every 251st pattern (251 is prime: the sweep hits every residue of the low 16 bits), and
 * the neighbourhoods where conversions go wrong, both signs:
 *   every kept half with dropped halves 0x0000, 0x0001, 0x7fff, 0x8000 (the ties),
 *   0x8001 and 0xffff: every bf16 midpoint and its neighbours, every NaN's top bits;
 *   0 to 0x0001ffff           zero and the smallest subnormals (ulp 2^-149 .. 2^-133)
 *   0x007f0000 .. 0x0080ffff  the largest subnormals and 2^-126, the smallest normal
 *   0x7f7e0000 .. 0x7f81ffff  the largest finite, 0x1.ffp127 (overflow midpoint), inf, sNaN
 *   0x7fbf0000 .. 0x7fc0ffff  the signalling/quiet NaN boundary */
static const range check_set[] = {
    {0, 0xffffffffu, 251},
    {0x0000u, 0xffff0000u, 0x10000}, {0x0001u, 0xffff0001u, 0x10000}, {0x7fffu, 0xffff7fffu, 0x10000},
    {0x8000u, 0xffff8000u, 0x10000}, {0x8001u, 0xffff8001u, 0x10000}, {0xffffu, 0xffffffffu, 0x10000},
    {0x00000000u, 0x0001ffffu, 1}, {0x80000000u, 0x8001ffffu, 1},
    {0x007f0000u, 0x0080ffffu, 1}, {0x807f0000u, 0x8080ffffu, 1},
    {0x7f7e0000u, 0x7f81ffffu, 1}, {0xff7e0000u, 0xff81ffffu, 1},
    {0x7fbf0000u, 0x7fc0ffffu, 1}, {0xffbf0000u, 0xffc0ffffu, 1},
};
#define CHECK_SET_NAME "sweep"
#else
static const range check_set[] = {{0, 0xffffffffu, 1}};
#define CHECK_SET_NAME "all 2^32"
#endif

/* ------------------------------------------------------------------ software checks */

/* ug_bf16_from_f32 and ug_bf16_from_f32_hw of pattern u against ref_bf16(). */
static void check_soft(uint32_t u, tally *rne, tally *hw)
{
    float f = f32_of(u);
    uint16_t got = ug_bf16_from_f32(f).bits;
    uint16_t got_hw = ug_bf16_from_f32_hw(f).bits;
    if (isnan(f)) {
        int sign = (int)(u >> 31);
        unsigned payload6 = (u >> 16) & 0x3fu;
        tally_add(rne, u, got, 0x7fc0u, nan_ok(got, sign, payload6));
        tally_add(hw, u, got_hw, 0x7fc0u, nan_ok(got_hw, sign, payload6));
        return;
    }
    double want = ref_bf16(f);
    double want_hw = fpclassify(f) == FP_SUBNORMAL ? copysign(0.0, f) : want;
    tally_add(rne, u, got, (uint32_t)pattern_of(want), got == pattern_of(want));
    tally_add(hw, u, got_hw, (uint32_t)pattern_of(want_hw), got_hw == pattern_of(want_hw));
}

static void check_soft_range(range r, tally *rne, tally *hw)
{
    for (uint64_t u = r.lo; u <= r.hi; u += r.stride)
        check_soft((uint32_t)u, rne, hw);
}

Test(bf16_from_f32, matches_binary64_reference)
{
    tally rne = {0}, hw = {0};
    for (size_t i = 0; i < RANGES_COUNT(check_set); i++)
        check_soft_range(check_set[i], &rne, &hw);
    tally_report(&rne, "ug_bf16_from_f32 vs binary64 RNE reference (" CHECK_SET_NAME ")");
    tally_report(&hw, "ug_bf16_from_f32_hw vs binary64 RNE reference with DAZ (" CHECK_SET_NAME ")");
}

/* ------------------------------------------------------------------ the instruction */

#if HAVE_X86
/* VCVTNEPS2BF16 on 16 binary32 patterns.  Loaded as integers so that no scalar float
 * move can touch a signalling NaN on the way. */
__attribute__((target("avx512bf16,avx512f,avx512vl"))) static void vcvtneps2bf16_x16(const uint32_t *in, uint16_t *out)
{
    __m256bh r = _mm512_cvtneps_pbh(_mm512_castsi512_ps(_mm512_loadu_si512(in)));
    memcpy(out, &r, 16 * sizeof *out);
}

/* The 512-bit form needs AVX512F and AVX512_BF16; both checks include the OS's XSAVE
 * support of the AVX-512 state (libgcc and compiler-rt test XCR0). */
static int cpu_has_avx512bf16(void)
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
}
#else
static void vcvtneps2bf16_x16(const uint32_t *in, uint16_t *out) { (void)in, (void)out; }
static int cpu_has_avx512bf16(void) { return 0; }
#endif

static void check_hw_block(const uint32_t *in, size_t count, tally *t)
{
    uint16_t want[16];
    vcvtneps2bf16_x16(in, want);
    for (size_t i = 0; i < count; i++) {
        uint16_t got = ug_bf16_from_f32_hw(f32_of(in[i])).bits;
        tally_add(t, in[i], got, want[i], got == want[i]);
    }
}

static void check_hw_range(range r, tally *t)
{
    uint32_t block[16] = {0};
    size_t k = 0;
    for (uint64_t u = r.lo; u <= r.hi; u += r.stride) {
        block[k++] = (uint32_t)u;
        if (k == 16) {
            check_hw_block(block, k, t);
            k = 0;
        }
    }
    if (k > 0)
        check_hw_block(block, k, t);
}

Test(bf16_from_f32_hw, matches_vcvtneps2bf16)
{
    if (!cpu_has_avx512bf16()) {
        printf("skipped: CPU has no AVX512_BF16\n");
        cr_skip_test("CPU has no AVX512_BF16");
    }
    tally t = {0};
    for (size_t i = 0; i < RANGES_COUNT(check_set); i++)
        check_hw_range(check_set[i], &t);
    tally_report(&t, "ug_bf16_from_f32_hw vs VCVTNEPS2BF16 (" CHECK_SET_NAME ")");
}

#ifndef UG_BF16_EXHAUSTIVE
/* ------------------------------------------------------------------ named cases */

/* Patterns whose answer is known by hand, for both narrowing modes. */
Test(bf16_from_f32, named_cases)
{
    static const struct { uint32_t in; uint16_t rne, hw; const char *why; } cases[] = {
        {0x3f800000u, 0x3f80u, 0x3f80u, "1.0 is a bf16"},
        {0x3f808000u, 0x3f80u, 0x3f80u, "0x1.01p0: tie, to even (down)"},
        {0x3f818000u, 0x3f82u, 0x3f82u, "0x1.03p0: tie, to even (up)"},
        {0x3f808001u, 0x3f81u, 0x3f81u, "just above a tie: up"},
        {0x7f7f7fffu, 0x7f7fu, 0x7f7fu, "just below 0x1.ffp127: largest bf16 0x1.fep127"},
        {0x7f7f8000u, 0x7f80u, 0x7f80u, "0x1.ffp127, the overflow midpoint: inf"},
        {0x7f7fffffu, 0x7f80u, 0x7f80u, "FLT_MAX: inf"},
        {0xff7f8000u, 0xff80u, 0xff80u, "-0x1.ffp127: -inf"},
        {0x7f800000u, 0x7f80u, 0x7f80u, "inf"},
        {0x7f800001u, 0x7fc0u, 0x7fc0u, "sNaN with low payload only: quiet NaN, never inf"},
        {0xff800001u, 0xffc0u, 0xffc0u, "negative sNaN keeps its sign"},
        {0x7fa12345u, 0x7fe1u, 0x7fe1u, "sNaN keeps its top payload bits"},
        {0x7fc00000u, 0x7fc0u, 0x7fc0u, "quiet NaN"},
        {0x00000001u, 0x0000u, 0x0000u, "2^-149 rounds to +0 / is flushed"},
        {0x00008000u, 0x0000u, 0x0000u, "2^-134, half the smallest bf16 subnormal: tie to +0"},
        {0x00008001u, 0x0001u, 0x0000u, "just above 2^-134: 2^-133 (hw: flushed)"},
        {0x00018000u, 0x0002u, 0x0000u, "1.5 * 2^-133: tie to even 2^-132 (hw: flushed)"},
        {0x007fffffu, 0x0080u, 0x0000u, "largest subnormal rounds up to 2^-126 (hw: flushed)"},
        {0x807fffffu, 0x8080u, 0x8000u, "negative: -2^-126 (hw: -0)"},
        {0x00800000u, 0x0080u, 0x0080u, "2^-126, the smallest normal"},
        {0x80000000u, 0x8000u, 0x8000u, "-0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float f = f32_of(cases[i].in);
        uint16_t rne = ug_bf16_from_f32(f).bits, hw = ug_bf16_from_f32_hw(f).bits;
        cr_expect_eq(rne, cases[i].rne, "from_f32(0x%08" PRIx32 ") = 0x%04x, want 0x%04x: %s", cases[i].in, rne,
                     cases[i].rne, cases[i].why);
        cr_expect_eq(hw, cases[i].hw, "from_f32_hw(0x%08" PRIx32 ") = 0x%04x, want 0x%04x: %s", cases[i].in, hw,
                     cases[i].hw, cases[i].why);
    }
}

/* ------------------------------------------------------------------ widening */

/* The value of bf16 pattern b from its fields, by ldexp: (-1)^s (f/128 [+1]) 2^(e-127). */
static double decode(uint16_t b)
{
    int e = (b >> 7) & 0xff, f = b & 0x7f;
    double mag = e == 0 ? ldexp(f, -133) : ldexp(128 + f, e - 134);
    return b >> 15 ? -mag : mag;
}

Test(bf16_to_f32, all_65536_patterns_and_round_trips)
{
    tally widen = {0}, trip = {0};
    for (uint32_t b = 0; b <= 0xffffu; b++) {
        float f = ug_bf16_to_f32((ug_bf16){(uint16_t)b});
        int nan = ((b >> 7) & 0xff) == 0xff && (b & 0x7f);
        int ok = nan ? isnan(f) && bits_of_f32(f) == b << 16 : bits_of_f32(f) == bits_of_f32((float)decode((uint16_t)b));
        tally_add(&widen, b, bits_of_f32(f) >> 16, b, ok && (bits_of_f32(f) & 0xffffu) == 0);
        uint16_t want = (uint16_t)(nan ? b | 0x40u : b); /* a NaN comes back quiet */
        uint16_t back = ug_bf16_from_f32(f).bits, back64 = ug_bf16_from_f64(f).bits;
        tally_add(&trip, b, back, want, back == want && back64 == want);
    }
    tally_report(&widen, "ug_bf16_to_f32 vs ldexp decode (all 65536)");
    tally_report(&trip, "bf16 -> f32 -> bf16 and bf16 -> f64 -> bf16 round trips (all 65536)");
}

/* ------------------------------------------------------------------ from binary64 */

/* MPFR's answer: precision 8, exponent range [-132, 128] in MPFR's convention
 * (x = m 2^e, m in [1/2, 1)): normal bf16 have e in [-125, 128], and mpfr_subnormalize
 * rounds e < -125 to the ulp 2^-133 of bf16 subnormals.  Finite d only. */
static double mpfr_bf16(double d)
{
    mpfr_exp_t emin = mpfr_get_emin(), emax = mpfr_get_emax();
    mpfr_set_emin(-132);
    mpfr_set_emax(128);
    mpfr_t m;
    mpfr_init2(m, 8);
    int inex = mpfr_set_d(m, d, MPFR_RNDN);
    mpfr_subnormalize(m, inex, MPFR_RNDN);
    double r = mpfr_get_d(m, MPFR_RNDN); /* exact: a bf16 or +-inf */
    mpfr_clear(m);
    mpfr_set_emin(emin);
    mpfr_set_emax(emax);
    return r;
}

static void check_f64(double d, tally *t)
{
    uint64_t in;
    memcpy(&in, &d, sizeof in);
    uint16_t got = ug_bf16_from_f64(d).bits;
    if (isnan(d)) {
        tally_add(t, in, got, 0x7fc0u, nan_ok(got, (int)(in >> 63), (unsigned)(in >> 45) & 0x3fu));
        return;
    }
    int32_t want = pattern_of(mpfr_bf16(d));
    /* the two references must agree too: a disagreement is reported as a mismatch */
    int refs_agree = isinf(d) || pattern_of(ref_bf16(d)) == want;
    tally_add(t, in, got, (uint32_t)want, got == want && refs_agree);
}

/* d, its neighbours 1, 2^20 and 2^28 binary64 ulps away (2^29 is one binary32 ulp: a
 * value less than that above a bf16 midpoint looks like a tie once rounded to binary32,
 * the double-rounding trap), and the negations of all of them. */
static void check_f64_around(double d, tally *t)
{
    static const double steps[] = {0x1p-52, 0x1p-32, 0x1p-24};
    for (int s = -1; s <= 1; s += 2) {
        check_f64(s * d, t);
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            double ulp = ldexp(1.0, ilogb(d)) * steps[i];
            check_f64(s * (d + ulp), t);
            check_f64(s * (d - ulp / (d == ldexp(1.0, ilogb(d)) ? 2 : 1)), t);
        }
    }
}

static double f64_of(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

Test(bf16_from_f64, structured_and_random_against_mpfr)
{
    tally t = {0};
    /* every positive finite bf16, the midpoint above it (the one above 0x1.fep127 is the
     * overflow threshold 0x1.ffp127), each with its neighbours: every tie, every
     * subnormal, both sides of 2^-126 and of the overflow threshold */
    for (uint16_t b = 0; b < 0x7f80u; b++) {
        double v = decode(b), ulp = ldexp(1.0, (b >> 7 ? (b >> 7) : 1) - 134);
        check_f64_around(b ? v : 0x1p-1074, &t);
        check_f64_around(v + ulp / 2, &t);
    }
    static const double specials[] = {0.0, -0.0, 0x1p-1074, 0x1p-1022, 0x1p-134, 0x1.0000000000001p-134, 0x1p-150,
                                      0x1.0100000000001p0, 0x1.ffp127, 0x1.fefffffffffffp127, 0x1p128, DBL_MAX,
                                      INFINITY, -INFINITY, NAN, -NAN};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++)
        check_f64(specials[i], &t);
    check_f64(f64_of(UINT64_C(0x7ff0000000000001)), &t); /* sNaN, low payload only */
    check_f64(f64_of(UINT64_C(0xfff5a00000000000)), &t); /* negative sNaN with top payload */
    ug_prng g; /* the project's generator (oracle/prng.h), fixed seed */
    ug_prng_seed(&g, UINT64_C(0x5eed0b16));
    for (int i = 0; i < 1000000; i++) {
        check_f64(f64_of(ug_prng_next(&g)), &t); /* any pattern: mostly huge or tiny */
        double m = f64_of((ug_prng_next(&g) >> 12) | UINT64_C(0x3ff0000000000000)); /* [1, 2) */
        int e = (int)ug_prng_below(&g, 270) - 140;                                   /* [-140, 130) */
        check_f64((ug_prng_next(&g) & 1 ? -1 : 1) * ldexp(m, e), &t);
    }
    tally_report(&t, "ug_bf16_from_f64 vs MPFR (precision 8, subnormalized) and the binary64 reference");
}

/* The double-rounding trap exists: through binary32 the answer is wrong. */
Test(bf16_from_f64, never_rounds_through_f32)
{
    double d = 0x1.0100000000001p0; /* a hair above the midpoint of 1 and 0x1.02p0 */
    cr_expect_eq(ug_bf16_from_f64(d).bits, 0x3f81u, "from_f64(%a) = 0x%04x, want 0x3f81", d, ug_bf16_from_f64(d).bits);
    cr_expect_eq(ug_bf16_from_f32((float)d).bits, 0x3f80u, "the trap: via f32 gives 0x3f80 (a tie, to even)");
}
#endif
