/* The SIMD kernels' vector exp (core/simd_vexp.h) on every one of the 2^32 binary32
 * patterns, widened to binary64.  Label slow (ctest --preset slow).
 *
 * For each pattern x:
 *   NaN                   the result is NaN
 *   x > X_MAX (and +inf)  outside the domain: counted, not checked
 *   x < X_MIN, -inf       the result is +0 (the flush)
 *   otherwise             |y/exp(x) - 1| <= 2^-47.2 + 2^-54.7 |x|, the claim of simd_vexp.h
 * and the AVX2 and AVX-512 exps give the same bits (when the CPU runs both).
 *
 * The reference is glibc's exp (<= 0.509 ULP, so a relative error known within 2^-52.9);
 * wherever that leaves a doubt (within 2^-51 of the bound, or of the largest error so
 * far, or of the largest share of the claim) the error is recomputed in MPFR at 160 bits,
 * so that the bound check and the largest error reported are exact to 2^-100.  The
 * patterns go by decreasing magnitude, so the largest errors come first and the doubtful
 * cases stay few.  Every 4096th pattern is also checked
 * against MPFR directly.  About 20 s per ISA on one core.
 *
 * The figure printed is the one quoted in simd_vexp.h and doc/SIMD-ERROR-ANALYSIS.md §1.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <mpfr.h>

#include "simd.h"

enum { CHUNK = 1 << 16 };

static double bound(double x) { return 0x1.bep-48 /* 2^-47.2 */ + 0x1.3cp-55 /* 2^-54.7 */ * fabs(x); }

static double mpfr_rel_error(double x, double y)
{
    mpfr_t v, w;
    mpfr_inits2(160, v, w, (mpfr_ptr)0);
    mpfr_set_d(v, x, MPFR_RNDN);
    mpfr_exp(v, v, MPFR_RNDN);
    mpfr_set_d(w, y, MPFR_RNDN);
    mpfr_div(w, w, v, MPFR_RNDN);
    mpfr_sub_ui(w, w, 1, MPFR_RNDN);
    double r = fabs(mpfr_get_d(w, MPFR_RNDU));
    mpfr_clears(v, w, (mpfr_ptr)0);
    return r;
}

typedef struct sweep {
    uint64_t checked, flushed, outside, nans, mpfr_calls;
    double max_err, max_err_x, max_ratio, max_ratio_x;
    double max_neg, max_neg_x; /* over x <= 0, the kernels' domain */
} sweep;

/* |y - exp(x)| / ulp(exp(x)) in binary64, in MPFR. */
static double mpfr_ulp_error(double x, double y)
{
    mpfr_t v, w;
    mpfr_inits2(160, v, w, (mpfr_ptr)0);
    mpfr_set_d(v, x, MPFR_RNDN);
    mpfr_exp(v, v, MPFR_RNDN);
    mpfr_sub_d(w, v, y, MPFR_RNDN);
    mpfr_abs(w, w, MPFR_RNDN);
    mpfr_mul_2si(w, w, 53 - mpfr_get_exp(v), MPFR_RNDN); /* ulp(v) = 2^(EXP(v) - 53) */
    double r = mpfr_get_d(w, MPFR_RNDU);
    mpfr_clears(v, w, (mpfr_ptr)0);
    return r;
}

static void check_one(sweep *s, double x, double y, int sample)
{
    if (isnan(x)) {
        cr_expect(isnan(y), "exp(NaN) = %a", y);
        s->nans++;
        return;
    }
    if (x > UG__EXP_X_MAX) {
        s->outside++;
        return;
    }
    if (x < UG__EXP_X_MIN) {
        if (y != 0 || signbit(y))
            cr_expect_fail("exp(%a) = %a: below X_MIN the result is +0", x, y);
        s->flushed++;
        return;
    }
    s->checked++;
    double ref = exp(x), cheap = fabs((y - ref) / ref), doubt = 0x1p-51;
    int precise = sample || cheap > bound(x) - doubt || cheap > s->max_err - doubt ||
                  (x <= 0 && cheap > s->max_neg - doubt) || (cheap + doubt) / bound(x) > s->max_ratio;
    if (!precise)
        return;
    double e = mpfr_rel_error(x, y);
    s->mpfr_calls++;
    if (sample)
        cr_expect(fabs(e - cheap) <= 0x1p-52, "exp(%a): MPFR and glibc disagree on the error (%a, %a)", x, e, cheap);
    if (e > bound(x))
        cr_expect_fail("exp(%a) = %a: relative error %a above the claim %a", x, y, e, bound(x));
    if (e > s->max_err)
        s->max_err = e, s->max_err_x = x;
    if (x <= 0 && e > s->max_neg)
        s->max_neg = e, s->max_neg_x = x;
    if (e / bound(x) > s->max_ratio)
        s->max_ratio = e / bound(x), s->max_ratio_x = x;
}

static void run_sweep(int (*vexp)(const double *, double *, size_t), const char *isa, int (*other)(const double *, double *, size_t))
{
    static double x[CHUNK], y[CHUNK], z[CHUNK];
    sweep s = {0};
    uint64_t differ = 0;
    /* Largest magnitudes first (patterns downwards in each sign): the largest errors are
     * met early, so the doubtful cases sent to MPFR stay few. */
    for (uint64_t top = 1ull << 32; top > 0; top -= CHUNK) {
        for (uint32_t i = 0; i < CHUNK; i++) {
            uint32_t bits = (uint32_t)(top - 1 - i) ^ 0x80000000u; /* positives, then negatives */
            float f;
            memcpy(&f, &bits, sizeof f);
            x[i] = f;
        }
        cr_assert_eq(vexp(x, y, CHUNK), 0, "%s exp unavailable", isa);
        if (other != NULL && other(x, z, CHUNK) == 0)
            for (uint32_t i = 0; i < CHUNK; i++)
                differ += memcmp(&y[i], &z[i], sizeof(double)) != 0;
        for (uint32_t i = 0; i < CHUNK; i++)
            check_one(&s, x[i], y[i], (i & 4095) == 0);
    }
    cr_expect_eq(differ, 0, "%s: %llu results differ from the other ISA's", isa, (unsigned long long)differ);
    double y_worst;
    vexp(&s.max_err_x, &y_worst, 1);
    fprintf(stderr,
            "slow_exp_exhaustive: %s exp over all 2^32 binary32 inputs: %llu in the domain, %llu flushed to +0, "
            "%llu above X_MAX, %llu NaN; MPFR consulted %llu times\n"
            "  largest relative error %a = 2^%.3f at x = %a (%.1f ULP of binary64 there)\n"
            "  over x <= 0 (the kernels' arguments): %a = 2^%.3f at x = %a\n"
            "  largest share of the claim 2^-47.2 + 2^-54.7|x|: %.4f at x = %a; %s\n",
            isa, (unsigned long long)s.checked, (unsigned long long)s.flushed, (unsigned long long)s.outside,
            (unsigned long long)s.nans, (unsigned long long)s.mpfr_calls, s.max_err, log2(s.max_err), s.max_err_x,
            mpfr_ulp_error(s.max_err_x, y_worst), s.max_neg, log2(s.max_neg), s.max_neg_x, s.max_ratio,
            s.max_ratio_x,
            other != NULL ? (differ == 0 ? "same bits as the other ISA" : "DIFFERS from the other ISA")
                          : "the other ISA not run");
}

Test(vexp, every_binary32_input, .timeout = 7000)
{
    double probe = 0, out;
    int have512 = ug__vexp_avx512(&probe, &out, 1) == 0, have2 = ug__vexp_avx2(&probe, &out, 1) == 0;
    if (!have512 && !have2)
        cr_skip_test("this CPU runs neither the AVX2 nor the AVX-512 exp");
    if (have512)
        run_sweep(ug__vexp_avx512, "avx512", have2 ? ug__vexp_avx2 : NULL);
    else {
        fprintf(stderr, "slow_exp_exhaustive: skip avx512: this CPU cannot run avx512 code\n");
        run_sweep(ug__vexp_avx2, "avx2", NULL);
    }
}
