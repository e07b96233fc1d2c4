/* The bf16 long rows' binary32 vector exp (core/simd_vexp_ps.h: E(x) = exp(x) 2^64, x <= 0)
 * on every binary32 pattern of its domain: the 2^31 patterns with the sign bit set (-0 to
 * -inf and the negative NaNs) and +0.  Label slow (ctest --preset slow).
 *
 * For each pattern x:
 *   NaN                     the result is NaN
 *   x < -150, -inf          the result is +0 (the clamp: every E(x) there is below 2^-152)
 *   E(x) >= 2^-126          |y/E(x) - 1| <= 2^-22.2, the claim of simd_vexp_ps.h
 *   E(x) < 2^-126           |y - E(x)| <= 2^-150 + 2^-22.2 E(x) (subnormal results: one more
 *                           rounding, to the binary32 grid of 2^-149)
 * and the AVX2 and AVX-512 exps give the same bits (when the CPU runs both).
 *
 * The reference is glibc's binary64 exp times 2^64 (exact): within 2^-52.9 of E(x), far
 * below the errors measured (2^-23); wherever that leaves a doubt (within 2^-40 of the
 * bound, of the largest error so far or of the largest share of the claim) the error is
 * recomputed in MPFR at 160 bits (records: only those above a quarter of the claim, 2^-25
 * relative or 2^-151 absolute, which the figures printed exceed), and every 4096th pattern
 * is checked against MPFR too.
 * About 45 s on one core (AVX-512 sweep, AVX2 compared bit for bit).
 *
 * The figures printed are the ones quoted in simd_vexp_ps.h and SIMD-ERROR-ANALYSIS.md §8.1.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <mpfr.h>

#include "simd.h"

enum { CHUNK = 1 << 16 };

#define BOUND 0x1.bdbp-23 /* ~2^-22.2 */
#define X_LO (-150.0)

/* |y - E(x)| and E(x), E(x) = exp(x) 2^64, in MPFR at 160 bits (the error rounded up). */
static double mpfr_abs_error(double x, double y, double *ref)
{
    mpfr_t v, w;
    mpfr_inits2(160, v, w, (mpfr_ptr)0);
    mpfr_set_d(v, x, MPFR_RNDN);
    mpfr_exp(v, v, MPFR_RNDN);
    mpfr_mul_2si(v, v, 64, MPFR_RNDN);
    mpfr_sub_d(w, v, y, MPFR_RNDN);
    mpfr_abs(w, w, MPFR_RNDN);
    double r = mpfr_get_d(w, MPFR_RNDU);
    *ref = mpfr_get_d(v, MPFR_RNDN);
    mpfr_clears(v, w, (mpfr_ptr)0);
    return r;
}

typedef struct sweep {
    uint64_t normal, subnormal, flushed, nans, mpfr_calls;
    double max_rel, max_rel_x;         /* normal results: relative error */
    double max_sub, max_sub_x;         /* subnormal results: error in units of 2^-149 */
    double max_ratio, max_ratio_x;     /* largest share of the claim, either kind */
} sweep;

/* The claim at x for a result near ref: relative where normal, absolute below 2^-126. */
static double allowed(double ref) { return ref >= 0x1p-126 ? BOUND * ref : 0x1p-150 + BOUND * ref; }

static void check_one(sweep *s, double x, float y, int sample)
{
    if (isnan(x)) {
        cr_expect(isnan(y), "vexpf(NaN) = %a", (double)y);
        s->nans++;
        return;
    }
    if (x < X_LO) {
        if (y != 0 || signbit(y))
            cr_expect_fail("vexpf(%a) = %a: below -150 the result is +0", x, (double)y);
        s->flushed++;
        return;
    }
    double ref = ldexp(exp(x), 64), err = fabs((double)y - ref), doubt = 0x1p-40 * ref;
    int normal = ref >= 0x1p-126;
    double share = err / allowed(ref);
    /* the records (largest error, largest share) need MPFR only where glibc's own error could
     * change them: err within doubt of them, and err above doubt (not an exact result) */
    int precise = sample || err > allowed(ref) - doubt ||
                  (err > doubt && (((err + doubt) / allowed(ref) > s->max_ratio && err > 0.25 * allowed(ref)) ||
                                   (normal && (err + doubt) / ref > s->max_rel && err > 0x1p-25 * ref) ||
                                   (!normal && (err + doubt) * 0x1p149 > s->max_sub && err > 0x1p-151)));
    if (precise) {
        double e = mpfr_abs_error(x, y, &ref);
        s->mpfr_calls++;
        if (sample)
            cr_expect(fabs(e - err) <= 0x1p-50 * ref, "vexpf(%a): MPFR and glibc disagree (%a, %a)", x, e, err);
        err = e;
        normal = ref >= 0x1p-126;
        share = err / allowed(ref);
    }
    if (normal)
        s->normal++;
    else
        s->subnormal++;
    if (err > allowed(ref))
        cr_expect_fail("vexpf(%a) = %a: error %a above the claim %a (E = %a)", x, (double)y, err, allowed(ref), ref);
    if (!precise)
        return;
    if (normal && err / ref > s->max_rel)
        s->max_rel = err / ref, s->max_rel_x = x;
    if (!normal && err * 0x1p149 > s->max_sub)
        s->max_sub = err * 0x1p149, s->max_sub_x = x;
    if (share > s->max_ratio)
        s->max_ratio = share, s->max_ratio_x = x;
}

typedef int (*vexpf_fn)(const float *, float *, size_t);

static void run_sweep(vexpf_fn vexpf, const char *isa, vexpf_fn other)
{
    static float x[CHUNK], y[CHUNK], z[CHUNK];
    sweep s = {0};
    uint64_t differ = 0;
    /* The NaNs and -inf, then the sign-bit patterns downwards in magnitude to -0, then +0:
     * the largest errors (|x| of tens) come before the small ones of tiny |x|, so that the
     * records sent to MPFR stay few. */
    for (uint64_t base = 0; base < (1ull << 31) + 1; base += CHUNK) {
        size_t count = 0;
        for (uint32_t i = 0; i < CHUNK && base + i <= (1ull << 31); i++) {
            uint32_t bits = base + i == 1ull << 31 ? 0u : 0xffffffffu - (uint32_t)(base + i);
            memcpy(&x[count++], &bits, sizeof(float));
        }
        if (count == 0)
            break;
        cr_assert_eq(vexpf(x, y, count), 0, "%s exp unavailable", isa);
        if (other != NULL && other(x, z, count) == 0)
            for (size_t i = 0; i < count; i++)
                differ += memcmp(&y[i], &z[i], sizeof(float)) != 0;
        for (size_t i = 0; i < count; i++)
            check_one(&s, x[i], y[i], ((base + i) & 4095) == 0);
    }
    cr_expect_eq(differ, 0, "%s: %llu results differ from the other ISA's", isa, (unsigned long long)differ);
    fprintf(stderr,
            "slow_exp_ps_exhaustive: %s vexpf over the 2^31 + 1 binary32 x <= 0 (and NaN): %llu normal results, "
            "%llu subnormal, %llu clamped to +0, %llu NaN; MPFR consulted %llu times\n"
            "  normal results: largest relative error %a = 2^%.3f at x = %a\n"
            "  subnormal results: largest error %.4f units of 2^-149 at x = %a\n"
            "  largest share of the claim (2^-22.2 relative; 2^-150 + 2^-22.2 E below 2^-126): %.4f at x = %a; %s\n",
            isa, (unsigned long long)s.normal, (unsigned long long)s.subnormal, (unsigned long long)s.flushed,
            (unsigned long long)s.nans, (unsigned long long)s.mpfr_calls, s.max_rel, log2(s.max_rel), s.max_rel_x,
            s.max_sub, s.max_sub_x, s.max_ratio, s.max_ratio_x,
            other != NULL ? (differ == 0 ? "same bits as the other ISA" : "DIFFERS from the other ISA")
                          : "the other ISA not run");
}

Test(vexpf, every_binary32_input_of_the_domain, .timeout = 7000)
{
    float probe = 0, out;
    int have512 = ug__vexpf_avx512(&probe, &out, 1) == 0, have2 = ug__vexpf_avx2(&probe, &out, 1) == 0;
    if (!have512 && !have2)
        cr_skip_test("this CPU runs neither the AVX2 nor the AVX-512 binary32 exp");
    if (have512)
        run_sweep(ug__vexpf_avx512, "avx512", have2 ? ug__vexpf_avx2 : NULL);
    else {
        fprintf(stderr, "slow_exp_ps_exhaustive: skip avx512: this CPU cannot run avx512 code\n");
        run_sweep(ug__vexpf_avx2, "avx2", NULL);
    }
}
