/* Unit tests of the MPFR oracle: rounding to each dtype, the ULP metric and the
 * comparison classes, hand-derived exact values, the special-value table, the sticky
 * and cancellation cases of ANALYSIS.md, statuses and condition numbers.
 *
 * Every expected value below is derived by hand (the derivation is in the comment) or
 * computed here by MPFR from a different formula than the oracle's; none is taken from
 * the oracle itself.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <mpfr.h>

#include "oracle.h"
#include "ulp.h"

#define NAN_ NAN
#define INF_ INFINITY

static const ug_dtype ALL_DT[3] = {UG_F32, UG_F64, UG_BF16};

/* ---------------------------------------------------------------- helpers */

/* Inputs given as doubles (dtype values), converted exactly to dt arrays. */
static void *arr(ug_dtype dt, const double *v, size_t n)
{
    void *a = calloc(n ? n : 1, 8);
    for (size_t i = 0; i < n; i++) {
        float f = (float)v[i];
        uint32_t b;
        memcpy(&b, &f, 4);
        if (dt == UG_F32)
            ((float *)a)[i] = f;
        else if (dt == UG_F64)
            ((double *)a)[i] = v[i];
        else
            ((ug_bf16 *)a)[i].bits = (uint16_t)(b >> 16);
    }
    return a;
}

typedef struct run {
    ug_status status;
    size_t count;
    ug_exact *e;
} run;

static run eval(ug_op op, ug_dtype dt, size_t rows, size_t n, const double *x, const int64_t *t, const double *aux,
                ug_reduction red)
{
    void *xa = arr(dt, x, rows * n), *aa = aux ? arr(dt, aux, rows * n) : NULL;
    ug_problem p = {.rows = rows, .n = n, .x = xa, .target = t, .aux = aa, .reduction = red};
    run r;
    r.count = ug_output_count(op, rows, n, red);
    r.e = ug_exact_new(r.count);
    r.status = ug_oracle_eval(op, dt, &p, r.e);
    free(xa);
    free(aa);
    return r;
}

static void done(run *r) { ug_exact_free(r->e, r->count); }

#define EXPECT_BITS(dt, got, want)                                                                       \
    cr_expect(ug_same_bits(dt, got, want), "%s:%d: got %a, want %a", __FILE__, __LINE__, (double)(got), \
              (double)(want))

/* Round a value given as mpfr-parsable text (exact) to dt. */
static double rnd_str(const char *s, ug_dtype dt)
{
    mpfr_exp_t emin = mpfr_get_emin(), emax = mpfr_get_emax();
    mpfr_set_emin(mpfr_get_emin_min());
    mpfr_set_emax(mpfr_get_emax_max());
    mpfr_t v;
    mpfr_init2(v, 2000);
    mpfr_set_str(v, s, 0, MPFR_RNDN);
    mpfr_set_emin(emin);
    mpfr_set_emax(emax);
    double r = ug_oracle_round(v, dt);
    mpfr_clear(v);
    return r;
}

/* ---------------------------------------------------------------- rounding */

Test(round, dtype_data)
{
    cr_expect_eq(ug_dtype_precision(UG_F32), 24);
    cr_expect_eq(ug_dtype_precision(UG_F64), 53);
    cr_expect_eq(ug_dtype_precision(UG_BF16), 8);
    cr_expect_eq(ug_dtype_emin(UG_F32), -126);
    cr_expect_eq(ug_dtype_emin(UG_F64), -1022);
    cr_expect_eq(ug_dtype_emin(UG_BF16), -126);
}

Test(round, ties_to_even)
{
    /* 1 + 2^-24 is the f32 midpoint between 1 (even) and 1 + 2^-23: down; 1 + 3 2^-24
     * is between 1 + 2^-23 (odd) and 1 + 2^-22: up. */
    EXPECT_BITS(UG_F32, rnd_str("0x1.000001p0", UG_F32), 1.0);
    EXPECT_BITS(UG_F32, rnd_str("0x1.000003p0", UG_F32), 0x1.000004p0);
    EXPECT_BITS(UG_F32, rnd_str("-0x1.000003p0", UG_F32), -0x1.000004p0);
    EXPECT_BITS(UG_F64, rnd_str("0x1.00000000000008p0", UG_F64), 1.0);
    EXPECT_BITS(UG_F64, rnd_str("0x1.00000000000018p0", UG_F64), 0x1.0000000000002p0);
    EXPECT_BITS(UG_BF16, rnd_str("0x1.01p0", UG_BF16), 1.0);
    EXPECT_BITS(UG_BF16, rnd_str("0x1.03p0", UG_BF16), 0x1.04p0);
}

Test(round, bf16_never_through_f32)
{
    /* 1 + 2^-8 + 2^-60 is above the bf16 midpoint 1 + 2^-8: up to 1 + 2^-7.  Through f32
     * it would become 1 + 2^-8 first and then tie to even, down to 1. */
    EXPECT_BITS(UG_BF16, rnd_str("0x1.01000000000001p0", UG_BF16), 0x1.02p0);
    EXPECT_BITS(UG_BF16, rnd_str("0x1.00fffffffffffffp0", UG_BF16), 1.0);
}

Test(round, subnormals)
{
    /* f32: smallest subnormal 2^-149; 2^-150 ties to 0; 3 2^-150 ties to 2^-148 (even). */
    EXPECT_BITS(UG_F32, rnd_str("0x1p-149", UG_F32), 0x1p-149);
    EXPECT_BITS(UG_F32, rnd_str("0x1p-150", UG_F32), 0.0);
    EXPECT_BITS(UG_F32, rnd_str("-0x1p-150", UG_F32), -0.0);
    EXPECT_BITS(UG_F32, rnd_str("0x1.0000000001p-150", UG_F32), 0x1p-149);
    EXPECT_BITS(UG_F32, rnd_str("0x3p-150", UG_F32), 0x1p-148);
    EXPECT_BITS(UG_F32, rnd_str("0x1.fffffep-127", UG_F32), 0x1p-126); /* 2^-126 - 2^-150: up */
    EXPECT_BITS(UG_F32, rnd_str("0x1.234567p-140", UG_F32), 0x1.238p-140); /* 10 bits: 1.001000110|1... up */
    /* bf16: smallest subnormal 2^-133 */
    EXPECT_BITS(UG_BF16, rnd_str("0x1p-133", UG_BF16), 0x1p-133);
    EXPECT_BITS(UG_BF16, rnd_str("0x1p-134", UG_BF16), 0.0);
    EXPECT_BITS(UG_BF16, rnd_str("0x3p-134", UG_BF16), 0x1p-132);
    EXPECT_BITS(UG_BF16, rnd_str("0x1.8p-130", UG_BF16), 0x1.8p-130);
    EXPECT_BITS(UG_BF16, rnd_str("0x1.1p-130", UG_BF16), 0x1p-130); /* grid 2^-133: 8.5 -> 8 */
    /* f64: smallest subnormal 2^-1074 */
    EXPECT_BITS(UG_F64, rnd_str("0x1p-1075", UG_F64), 0.0);
    EXPECT_BITS(UG_F64, rnd_str("0x1.00000001p-1075", UG_F64), 0x1p-1074);
    EXPECT_BITS(UG_F64, rnd_str("0x3p-1075", UG_F64), 0x1p-1073);
    EXPECT_BITS(UG_F64, rnd_str("0x1p-5000", UG_F64), 0.0);
    EXPECT_BITS(UG_F64, rnd_str("-0x1p-5000000", UG_F64), -0.0);
}

Test(round, overflow)
{
    /* f32: the overflow threshold is the midpoint 2^128 - 2^103 (ties to 2^128: inf) */
    EXPECT_BITS(UG_F32, rnd_str("0x1.ffffffp127", UG_F32), INFINITY);
    EXPECT_BITS(UG_F32, rnd_str("0x1.fffffefffp127", UG_F32), FLT_MAX);
    EXPECT_BITS(UG_F32, rnd_str("-0x1p200", UG_F32), -INFINITY);
    /* bf16: largest 0x1.fep127, threshold 0x1.ffp127 */
    EXPECT_BITS(UG_BF16, rnd_str("0x1.ffp127", UG_BF16), INFINITY);
    EXPECT_BITS(UG_BF16, rnd_str("0x1.fefffp127", UG_BF16), 0x1.fep127);
    EXPECT_BITS(UG_BF16, rnd_str("0x1.fffffep127", UG_BF16), INFINITY); /* FLT_MAX -> inf in bf16 */
    /* f64 */
    EXPECT_BITS(UG_F64, rnd_str("0x1.fffffffffffff8p1023", UG_F64), INFINITY);
    EXPECT_BITS(UG_F64, rnd_str("0x1.fffffffffffff7fp1023", UG_F64), DBL_MAX);
    EXPECT_BITS(UG_F64, rnd_str("0x1p1000000", UG_F64), INFINITY);
}

Test(round, specials)
{
    mpfr_t v;
    mpfr_init2(v, 64);
    mpfr_set_nan(v);
    cr_expect(isnan(ug_oracle_round(v, UG_BF16)));
    mpfr_set_inf(v, -1);
    EXPECT_BITS(UG_F32, ug_oracle_round(v, UG_F32), -INFINITY);
    mpfr_set_zero(v, -1);
    EXPECT_BITS(UG_F64, ug_oracle_round(v, UG_F64), -0.0);
    mpfr_clear(v);
}

/* ---------------------------------------------------------------- ULP metric */

static double ulp_of(ug_dtype dt, double y, const char *v)
{
    mpfr_exp_t emin = mpfr_get_emin(), emax = mpfr_get_emax();
    mpfr_set_emin(mpfr_get_emin_min());
    mpfr_set_emax(mpfr_get_emax_max());
    mpfr_t m;
    mpfr_init2(m, UG_ORACLE_PREC);
    mpfr_set_str(m, v, 0, MPFR_RNDN);
    mpfr_set_emin(emin);
    mpfr_set_emax(emax);
    double u = ug_ulp_error(dt, y, m);
    mpfr_clear(m);
    return u;
}

Test(ulp, exact_halves_and_ones)
{
    cr_expect_eq(ulp_of(UG_F32, 0x1.000002p0, "1"), 1.0);
    cr_expect_eq(ulp_of(UG_F32, 1.0, "0x1.000001p0"), 0.5);
    cr_expect_eq(ulp_of(UG_F32, 0x1.000002p0, "0x1.000001p0"), 0.5);
    /* below 1 the ulp is 2^-24: 1 vs 1 - 2^-25 is half an ulp */
    cr_expect_eq(ulp_of(UG_F32, 1.0, "0x1.fffffep-1"), 1.0);
    cr_expect_eq(ulp_of(UG_F32, 1.0, "0x1.ffffffp-1"), 0.5);
    cr_expect_eq(ulp_of(UG_F64, 0x1.0000000000001p0, "1"), 1.0);
    cr_expect_eq(ulp_of(UG_BF16, 0x1.02p0, "1"), 1.0);
    cr_expect_eq(ulp_of(UG_BF16, 0x1.06p0, "1"), 3.0);
    cr_expect_eq(ulp_of(UG_F64, -3.0, "-3"), 0.0);
    /* the error is measured in MPFR, never in the format: a quarter of an ulp exists */
    cr_expect_eq(ulp_of(UG_F32, 1.0, "0x1.0000008p0"), 0.25);
}

Test(ulp, zero_and_subnormals)
{
    cr_expect_eq(ulp_of(UG_F32, 0x1p-149, "0"), 1.0);
    cr_expect_eq(ulp_of(UG_BF16, 0x1p-133, "0"), 1.0);
    cr_expect_eq(ulp_of(UG_F64, 0x1p-1074, "0"), 1.0);
    cr_expect_eq(ulp_of(UG_F64, 0.0, "0"), 0.0);
    cr_expect_eq(ulp_of(UG_F32, -0.0, "0"), 0.0);
    /* subnormal v: the ulp is the smallest subnormal whatever v's binade */
    cr_expect_eq(ulp_of(UG_F32, 0x1p-149, "0x3p-150"), 0.5);
    cr_expect_eq(ulp_of(UG_F32, 0x1.008p-140, "0x1p-140"), 1.0);
    cr_expect_eq(ulp_of(UG_F32, 0.0, "0x1p-200"), 0x1p-51);
    cr_expect_eq(ulp_of(UG_F32, 0x1p-149, "0x1p-1000000"), 1.0);
}

Test(ulp, wide_and_nonfinite)
{
    /* v beyond FLT_MAX (an exact overflow): the ulp formula still applies */
    cr_expect_eq(ulp_of(UG_F32, FLT_MAX, "0x1p128"), 0.5); /* ulp(2^128) = 2^105 */
    cr_expect(isinf(ulp_of(UG_F32, INFINITY, "1")));
    /* y = 1e300 against 1e-300 in f64: about 2^2071 ulps, beyond binary64: +inf */
    cr_expect(isinf(ulp_of(UG_F64, 1e300, "1e-300")));
    /* y = 2^-1000 against v = 2^-1000 + 2^-1060: 2^-1060 / 2^-1052 = 2^-8, exactly */
    cr_expect_eq(ulp_of(UG_F64, 0x1p-1000, "0x1.000000000000001p-1000"), 0x1p-8);
}

static ug_exact make_exact(double rounded, const char *value)
{
    ug_exact e;
    mpfr_init2(e.value, UG_ORACLE_PREC);
    mpfr_set_str(e.value, value, 0, MPFR_RNDN);
    e.rounded = rounded;
    e.kappa = 1;
    return e;
}

static ug_cmp_class cls(ug_dtype dt, double y, double rounded, const char *value)
{
    ug_exact e = make_exact(rounded, value);
    ug_cmp c = ug_compare(dt, y, &e);
    mpfr_clear(e.value);
    return c.cls;
}

Test(ulp, compare_classes)
{
    cr_expect_eq(cls(UG_F32, NAN, NAN, "@NaN@"), UG_CMP_OK);
    cr_expect_eq(cls(UG_F32, 1.0, NAN, "@NaN@"), UG_CMP_NAN_WRONG);
    cr_expect_eq(cls(UG_F32, NAN, 1.0, "1"), UG_CMP_NAN_WRONG);
    cr_expect_eq(cls(UG_F64, INFINITY, INFINITY, "@Inf@"), UG_CMP_OK);
    cr_expect_eq(cls(UG_F64, -INFINITY, INFINITY, "@Inf@"), UG_CMP_INF_WRONG);
    /* an exact overflow: v finite, rounded inf */
    cr_expect_eq(cls(UG_F32, INFINITY, INFINITY, "0x1p130"), UG_CMP_OK);
    cr_expect_eq(cls(UG_F32, FLT_MAX, INFINITY, "0x1p130"), UG_CMP_OVERFLOW);
    cr_expect_eq(cls(UG_F32, INFINITY, FLT_MAX, "0x1.fffffep127"), UG_CMP_OVERFLOW);
    cr_expect_eq(cls(UG_F32, -INFINITY, FLT_MAX, "0x1.fffffep127"), UG_CMP_INF_WRONG);
    cr_expect_eq(cls(UG_BF16, -0.0, 0.0, "0x1p-300"), UG_CMP_ZERO_SIGN);
    cr_expect_eq(cls(UG_BF16, 0.0, -0.0, "-0x1p-300"), UG_CMP_ZERO_SIGN);
    cr_expect_eq(cls(UG_BF16, 0.0, 0.0, "0"), UG_CMP_OK);
    cr_expect_eq(cls(UG_BF16, 0x1p-133, 0.0, "0x1p-300"), UG_CMP_OK);
    ug_exact e = make_exact(0.0, "0");
    ug_cmp c = ug_compare(UG_F32, -0.0, &e);
    cr_expect(isinf(c.ulp));
    c = ug_compare(UG_F32, 0x1p-149, &e);
    cr_expect(c.cls == UG_CMP_OK && c.ulp == 1.0);
    mpfr_clear(e.value);
    cr_expect_str_eq(ug_cmp_class_name(UG_CMP_OK), "ok");
    cr_expect_str_eq(ug_cmp_class_name(UG_CMP_NAN_WRONG), "nan");
    cr_expect_str_eq(ug_cmp_class_name(UG_CMP_OVERFLOW), "overflow");
    cr_expect_str_eq(ug_cmp_class_name(UG_CMP_INF_WRONG), "inf");
    cr_expect_str_eq(ug_cmp_class_name(UG_CMP_ZERO_SIGN), "zero-sign");
}

Test(ulp, same_bits)
{
    cr_expect(ug_same_bits(UG_F32, NAN, -NAN));
    cr_expect(!ug_same_bits(UG_F32, 0.0, -0.0));
    cr_expect(ug_same_bits(UG_F64, -0.0, -0.0));
    cr_expect(!ug_same_bits(UG_F64, NAN, 1.0));
    cr_expect(ug_same_bits(UG_BF16, 0x1.02p0, 0x1.02p0));
}

/* ---------------------------------------------------------------- exact values */

Test(exact, equal_entries)
{
    /* softmax of k equal logits is exactly 1/k: 1/4 exact; 1/3 rounded once:
     * f32 0x1.555556p-2, f64 0x1.5555555555555p-2, bf16 1.0101010|1010... -> 0x1.56p-2 */
    const double want3[3] = {0x1.555556p-2, 0x1.5555555555555p-2, 0x1.56p-2};
    for (int d = 0; d < 3; d++) {
        ug_dtype dt = ALL_DT[d];
        double x4[4] = {7.5, 7.5, 7.5, 7.5}, x3[3] = {-2.25, -2.25, -2.25};
        run r = eval(UG_OP_SOFTMAX, dt, 1, 4, x4, NULL, NULL, UG_RED_NONE);
        for (int i = 0; i < 4; i++) {
            EXPECT_BITS(dt, r.e[i].rounded, 0.25);
            cr_expect(mpfr_cmp_d(r.e[i].value, 0.25) == 0);
        }
        done(&r);
        r = eval(UG_OP_SOFTMAX, dt, 1, 3, x3, NULL, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[1].rounded, want3[d]);
        done(&r);
        /* xent_grad sparse at t: 1/4 - 1 = -3/4 exactly; elsewhere 1/4 */
        int64_t t = 2;
        r = eval(UG_OP_XENT_GRAD, dt, 1, 4, x4, &t, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[2].rounded, -0.75);
        EXPECT_BITS(dt, r.e[0].rounded, 0.25);
        done(&r);
        /* dense with p = 1/4 everywhere: exactly +0 */
        double p4[4] = {0.25, 0.25, 0.25, 0.25};
        r = eval(UG_OP_XENT_GRAD, dt, 1, 4, x4, NULL, p4, UG_RED_NONE);
        for (int i = 0; i < 4; i++) {
            EXPECT_BITS(dt, r.e[i].rounded, 0.0);
            cr_expect(mpfr_zero_p(r.e[i].value) && !mpfr_signbit(r.e[i].value));
            cr_expect(isinf(r.e[i].kappa));
        }
        done(&r);
    }
}

Test(exact, n_equals_one)
{
    for (int d = 0; d < 3; d++) {
        ug_dtype dt = ALL_DT[d];
        double x = -3.5;
        int64_t t = 0;
        double one = 1.0;
        run r = eval(UG_OP_SOFTMAX, dt, 1, 1, &x, NULL, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, 1.0);
        done(&r);
        r = eval(UG_OP_LOG_SOFTMAX, dt, 1, 1, &x, NULL, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, 0.0);
        done(&r);
        r = eval(UG_OP_LOGSUMEXP, dt, 1, 1, &x, NULL, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, -3.5);
        done(&r);
        r = eval(UG_OP_XENT, dt, 1, 1, &x, &t, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, 0.0);
        done(&r);
        r = eval(UG_OP_XENT_GRAD, dt, 1, 1, &x, &t, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, 0.0);
        done(&r);
        r = eval(UG_OP_XENT_DENSE, dt, 1, 1, &x, NULL, &one, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, 0.0);
        done(&r);
        /* -0 and +0 are the same logit; logsumexp of [-0] is exactly 0: +0 (rule 7) */
        double mz = -0.0;
        r = eval(UG_OP_LOGSUMEXP, dt, 1, 1, &mz, NULL, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, 0.0);
        done(&r);
    }
}

/* log 2 = 0x1.62e42fefa39ef358p-1: f32 0x1.62e430p-1, f64 0x1.62e42fefa39efp-1, bf16
 * 1.0110001|0111... -> 0x1.62p-1. */
static const double LOG2[3] = {0x1.62e430p-1, 0x1.62e42fefa39efp-1, 0x1.62p-1};

Test(exact, log2_family)
{
    for (int d = 0; d < 3; d++) {
        ug_dtype dt = ALL_DT[d];
        double x[2] = {0.0, 0.0}, x6[6] = {0, 0, 0, 0, 0, 0};
        int64_t t[3] = {0, 1, 0};
        run r = eval(UG_OP_LOGSUMEXP, dt, 1, 2, x, NULL, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, LOG2[d]);
        done(&r);
        r = eval(UG_OP_XENT, dt, 3, 2, x6, t, NULL, UG_RED_MEAN);
        EXPECT_BITS(dt, r.e[0].rounded, LOG2[d]);
        done(&r);
        double y[3] = {0.0, 0.5, 1.0};
        r = eval(UG_OP_BCE_LOGITS, dt, 1, 3, x6, NULL, y, UG_RED_NONE);
        for (int i = 0; i < 3; i++)
            EXPECT_BITS(dt, r.e[i].rounded, LOG2[d]);
        done(&r);
        r = eval(UG_OP_BCE_LOGITS, dt, 1, 3, x6, NULL, y, UG_RED_MEAN);
        EXPECT_BITS(dt, r.e[0].rounded, LOG2[d]);
        done(&r);
        /* log_softmax of two equal logits: -log 2 */
        r = eval(UG_OP_LOG_SOFTMAX, dt, 1, 2, x, NULL, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, -LOG2[d]);
        done(&r);
    }
    /* sum of three log 2 in f64: 3 log 2 = 0x1.0a2b23f3bab73681p+1 -> 0x1.0a2b23f3bab73p+1 */
    double x6[6] = {0, 0, 0, 0, 0, 0};
    int64_t t[3] = {0, 1, 0};
    run r = eval(UG_OP_XENT, UG_F64, 3, 2, x6, t, NULL, UG_RED_SUM);
    EXPECT_BITS(UG_F64, r.e[0].rounded, 0x1.0a2b23f3bab73p+1);
    done(&r);
}

/* ---------------------------------------------------------------- special values */

Test(special, masks)
{
    for (int d = 0; d < 3; d++) {
        ug_dtype dt = ALL_DT[d];
        double x[2] = {2.0, -INFINITY};
        int64_t t0 = 0, t1 = 1;
        run r = eval(UG_OP_SOFTMAX, dt, 1, 2, x, NULL, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, 1.0);
        EXPECT_BITS(dt, r.e[1].rounded, 0.0);
        done(&r);
        r = eval(UG_OP_LOG_SOFTMAX, dt, 1, 2, x, NULL, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, 0.0);
        EXPECT_BITS(dt, r.e[1].rounded, -INFINITY);
        done(&r);
        r = eval(UG_OP_LOGSUMEXP, dt, 1, 2, x, NULL, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, 2.0);
        done(&r);
        r = eval(UG_OP_XENT, dt, 1, 2, x, &t1, NULL, UG_RED_NONE); /* masked target: +inf */
        EXPECT_BITS(dt, r.e[0].rounded, INFINITY);
        done(&r);
        r = eval(UG_OP_XENT_GRAD, dt, 1, 2, x, &t1, NULL, UG_RED_NONE); /* 1 - 0, 0 - 1 */
        EXPECT_BITS(dt, r.e[0].rounded, 1.0);
        EXPECT_BITS(dt, r.e[1].rounded, -1.0);
        done(&r);
        r = eval(UG_OP_XENT_GRAD, dt, 1, 2, x, &t0, NULL, UG_RED_NONE); /* exactly 0: +0 */
        EXPECT_BITS(dt, r.e[0].rounded, 0.0);
        EXPECT_BITS(dt, r.e[1].rounded, 0.0);
        done(&r);
        double p_ok[2] = {1.0, 0.0}, p_bad[2] = {0.5, 0.5};
        r = eval(UG_OP_XENT_DENSE, dt, 1, 2, x, NULL, p_ok, UG_RED_NONE); /* p = 0 on the mask: 0 */
        EXPECT_BITS(dt, r.e[0].rounded, 0.0);
        done(&r);
        r = eval(UG_OP_XENT_DENSE, dt, 1, 2, x, NULL, p_bad, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, INFINITY);
        done(&r);
        r = eval(UG_OP_XENT_GRAD, dt, 1, 2, x, NULL, p_bad, UG_RED_NONE); /* 1 - 1/2, 0 - 1/2 */
        EXPECT_BITS(dt, r.e[0].rounded, 0.5);
        EXPECT_BITS(dt, r.e[1].rounded, -0.5);
        done(&r);
        /* all masked */
        double m[2] = {-INFINITY, -INFINITY};
        r = eval(UG_OP_LOGSUMEXP, dt, 1, 2, m, NULL, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, -INFINITY);
        done(&r);
        r = eval(UG_OP_SOFTMAX, dt, 1, 2, m, NULL, NULL, UG_RED_NONE);
        cr_expect(isnan(r.e[0].rounded) && isnan(r.e[1].rounded));
        done(&r);
        r = eval(UG_OP_XENT, dt, 1, 2, m, &t0, NULL, UG_RED_NONE);
        cr_expect(isnan(r.e[0].rounded));
        done(&r);
    }
}

Test(special, nan_and_inf_rows)
{
    for (int d = 0; d < 3; d++) {
        ug_dtype dt = ALL_DT[d];
        double xn[3] = {1, NAN, -INFINITY}, x1[3] = {1, INFINITY, -INFINITY}, x2[3] = {INFINITY, 0, INFINITY};
        int64_t t0 = 0, t1 = 1;
        run r = eval(UG_OP_LOG_SOFTMAX, dt, 1, 3, xn, NULL, NULL, UG_RED_NONE);
        for (int i = 0; i < 3; i++)
            cr_expect(isnan(r.e[i].rounded));
        done(&r);
        r = eval(UG_OP_SOFTMAX, dt, 1, 3, x1, NULL, NULL, UG_RED_NONE); /* k = 1: the limit */
        EXPECT_BITS(dt, r.e[0].rounded, 0.0);
        EXPECT_BITS(dt, r.e[1].rounded, 1.0);
        EXPECT_BITS(dt, r.e[2].rounded, 0.0);
        done(&r);
        r = eval(UG_OP_LOG_SOFTMAX, dt, 1, 3, x1, NULL, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, -INFINITY);
        EXPECT_BITS(dt, r.e[1].rounded, 0.0);
        done(&r);
        r = eval(UG_OP_SOFTMAX, dt, 1, 3, x2, NULL, NULL, UG_RED_NONE); /* k = 2: no limit */
        cr_expect(isnan(r.e[0].rounded) && isnan(r.e[2].rounded));
        EXPECT_BITS(dt, r.e[1].rounded, 0.0);
        done(&r);
        r = eval(UG_OP_LOGSUMEXP, dt, 1, 3, x2, NULL, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, INFINITY);
        done(&r);
        r = eval(UG_OP_XENT, dt, 1, 3, x1, &t1, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, 0.0);
        done(&r);
        r = eval(UG_OP_XENT, dt, 1, 3, x1, &t0, NULL, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, INFINITY);
        done(&r);
        r = eval(UG_OP_XENT, dt, 1, 3, x2, &t0, NULL, UG_RED_NONE);
        cr_expect(isnan(r.e[0].rounded));
        done(&r);
        double pa[3] = {0.0, 1.0, 0.0}, pb[3] = {0.25, 0.5, 0.25};
        r = eval(UG_OP_XENT_DENSE, dt, 1, 3, x1, NULL, pa, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, 0.0);
        done(&r);
        r = eval(UG_OP_XENT_DENSE, dt, 1, 3, x1, NULL, pb, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, INFINITY);
        done(&r);
        r = eval(UG_OP_XENT_DENSE, dt, 1, 3, x2, NULL, pb, UG_RED_NONE);
        cr_expect(isnan(r.e[0].rounded));
        done(&r);
        r = eval(UG_OP_XENT_GRAD, dt, 1, 3, x1, NULL, pb, UG_RED_NONE); /* -1/4, 1 - 1/2, -1/4 */
        EXPECT_BITS(dt, r.e[0].rounded, -0.25);
        EXPECT_BITS(dt, r.e[1].rounded, 0.5);
        EXPECT_BITS(dt, r.e[2].rounded, -0.25);
        done(&r);
        /* reductions: NaN wins over +inf, +inf over finite */
        double rows[4] = {1, NAN, 1, -INFINITY};
        int64_t tt[2] = {0, 1};
        r = eval(UG_OP_XENT, dt, 2, 2, rows, tt, NULL, UG_RED_SUM);
        cr_expect(isnan(r.e[0].rounded));
        done(&r);
        double rows2[4] = {1, 2, 1, -INFINITY};
        r = eval(UG_OP_XENT, dt, 2, 2, rows2, tt, NULL, UG_RED_MEAN);
        EXPECT_BITS(dt, r.e[0].rounded, INFINITY);
        done(&r);
    }
}

Test(special, bce_infinite_x)
{
    for (int d = 0; d < 3; d++) {
        ug_dtype dt = ALL_DT[d];
        double x[6] = {INFINITY, INFINITY, -INFINITY, -INFINITY, NAN, -0.0};
        double y[6] = {1.0, 0.5, 0.0, 1.0, 0.5, 1.0};
        run r = eval(UG_OP_BCE_LOGITS, dt, 1, 6, x, NULL, y, UG_RED_NONE);
        EXPECT_BITS(dt, r.e[0].rounded, 0.0);
        EXPECT_BITS(dt, r.e[1].rounded, INFINITY);
        EXPECT_BITS(dt, r.e[2].rounded, 0.0);
        EXPECT_BITS(dt, r.e[3].rounded, INFINITY);
        cr_expect(isnan(r.e[4].rounded));
        EXPECT_BITS(dt, r.e[5].rounded, LOG2[d]);
        done(&r);
    }
}

/* ---------------------------------------------------------------- hard cases */

Test(hard, sticky_ties)
{
    /* f32 [2^24, -1]: log_softmax_1 = -(2^24 + 1) - L, L = log1p(e^-(2^24+1)) > 0 tiny.
     * -(2^24 + 1) is the f32 midpoint between -2^24 (even) and -(2^24 + 2); L pushes the
     * exact value past it: -(2^24 + 2).  Deciding needs L's sign, not its 24-million bits. */
    double x[2] = {0x1p24, -1.0};
    int64_t t = 1;
    run r = eval(UG_OP_LOG_SOFTMAX, UG_F32, 1, 2, x, NULL, NULL, UG_RED_NONE);
    cr_expect_eq(r.status, UG_OK);
    EXPECT_BITS(UG_F32, r.e[1].rounded, -0x1.000002p24);
    EXPECT_BITS(UG_F32, r.e[0].rounded, -0.0); /* -L rounds to -0 */
    done(&r);
    r = eval(UG_OP_XENT, UG_F32, 1, 2, x, &t, NULL, UG_RED_NONE); /* 2^24 + 1 + L */
    EXPECT_BITS(UG_F32, r.e[0].rounded, 0x1.000002p24);
    done(&r);
    /* bf16 [256, -1]: -257 - L -> -258 */
    double xb[2] = {256.0, -1.0};
    r = eval(UG_OP_LOG_SOFTMAX, UG_BF16, 1, 2, xb, NULL, NULL, UG_RED_NONE);
    EXPECT_BITS(UG_BF16, r.e[1].rounded, -258.0);
    done(&r);
    /* logsumexp [0.5, 0.5 - 2^20] = 0.5 + L: 0.5 in every dtype, 128-bit value 0.5 */
    for (int d = 0; d < 3; d++) {
        double xs[2] = {0.5, 0.5 - 0x1p20};
        r = eval(UG_OP_LOGSUMEXP, ALL_DT[d], 1, 2, xs, NULL, NULL, UG_RED_NONE);
        EXPECT_BITS(ALL_DT[d], r.e[0].rounded, 0.5);
        cr_expect(mpfr_cmp_d(r.e[0].value, 0.5) == 0);
        done(&r);
    }
}

Test(hard, beyond_mpfr_range)
{
    /* f64 [DBL_MAX, -DBL_MAX]: e^(-2 DBL_MAX) is below MPFR's range; softmax [1, +0],
     * log_softmax [-0 (a tiny negative), -inf (overflow of -2 DBL_MAX)] */
    double x[2] = {DBL_MAX, -DBL_MAX};
    run r = eval(UG_OP_SOFTMAX, UG_F64, 1, 2, x, NULL, NULL, UG_RED_NONE);
    EXPECT_BITS(UG_F64, r.e[0].rounded, 1.0);
    EXPECT_BITS(UG_F64, r.e[1].rounded, 0.0);
    cr_expect(mpfr_sgn(r.e[1].value) > 0); /* nonzero: a stand-in below 2^-(2^61) */
    done(&r);
    r = eval(UG_OP_LOG_SOFTMAX, UG_F64, 1, 2, x, NULL, NULL, UG_RED_NONE);
    EXPECT_BITS(UG_F64, r.e[0].rounded, -0.0);
    EXPECT_BITS(UG_F64, r.e[1].rounded, -INFINITY);
    cr_expect(mpfr_number_p(r.e[1].value)); /* the exact value is finite: an overflow */
    done(&r);
    /* f32 overflow: xent [FLT_MAX, -FLT_MAX], t = 1 -> 2 FLT_MAX + L: +inf in f32 */
    int64_t t = 1;
    double xf[2] = {FLT_MAX, -FLT_MAX};
    r = eval(UG_OP_XENT, UG_F32, 1, 2, xf, &t, NULL, UG_RED_NONE);
    EXPECT_BITS(UG_F32, r.e[0].rounded, INFINITY);
    done(&r);
    r = eval(UG_OP_XENT, UG_F64, 1, 2, xf, &t, NULL, UG_RED_NONE); /* 2 FLT_MAX fits f64 */
    EXPECT_BITS(UG_F64, r.e[0].rounded, 2.0 * FLT_MAX);
    done(&r);
}

Test(hard, cancellation)
{
    /* logsumexp [l, l], l = -log 2 rounded to f64 (below log 2 in magnitude):
     * lse = log 2 + l = log 2 - 0x1.62e42fefa39efp-1, about 2^-55.7: 53 bits of it need
     * ~110 bits of log 2.  Expected value computed here by MPFR at 400 bits. */
    double l = -0x1.62e42fefa39efp-1, x[2] = {l, l};
    run r = eval(UG_OP_LOGSUMEXP, UG_F64, 1, 2, x, NULL, NULL, UG_RED_NONE);
    mpfr_t w;
    mpfr_init2(w, 400);
    mpfr_const_log2(w, MPFR_RNDN);
    mpfr_add_d(w, w, l, MPFR_RNDN);
    EXPECT_BITS(UG_F64, r.e[0].rounded, mpfr_get_d(w, MPFR_RNDN));
    cr_expect(r.e[0].rounded > 0 && r.e[0].rounded < 0x1p-50);
    mpfr_prec_round(w, UG_ORACLE_PREC, MPFR_RNDN);
    cr_expect(mpfr_equal_p(w, r.e[0].value));
    cr_expect(r.e[0].kappa > 1e15); /* |l| / |lse|: ill-conditioned */
    mpfr_clear(w);
    done(&r);
    /* dense xent_grad [0, log 3 rounded] with p = [1/4, 3/4]: s_0 - 1/4 ~ 1e-17 in f64 */
    double xq[2] = {0.0, 0x1.193ea7aad030bp+0}, pq[2] = {0.25, 0.75};
    r = eval(UG_OP_XENT_GRAD, UG_F64, 1, 2, xq, NULL, pq, UG_RED_NONE);
    cr_expect_eq(r.status, UG_OK);
    EXPECT_BITS(UG_F64, r.e[0].rounded, -r.e[1].rounded); /* the two sum to 0 exactly */
    cr_expect(fabs(r.e[0].rounded) < 1e-15 && r.e[0].rounded != 0);
    done(&r);
}

Test(hard, tiny_outputs_and_zero_signs)
{
    /* softmax [0, -1000] in f64: e^-1000 ~ 2^-1442.7: +0 in every dtype; value exact */
    double x[2] = {0.0, -1000.0};
    run r = eval(UG_OP_SOFTMAX, UG_F64, 1, 2, x, NULL, NULL, UG_RED_NONE);
    EXPECT_BITS(UG_F64, r.e[1].rounded, 0.0);
    mpfr_t w;
    mpfr_init2(w, 300);
    mpfr_set_si(w, -1000, MPFR_RNDN);
    mpfr_exp(w, w, MPFR_RNDN); /* e^-1000 / (1 + e^-1000): relative gap 2^-1442 */
    cr_expect(mpfr_cmp(w, r.e[1].value) > 0);
    mpfr_prec_round(w, UG_ORACLE_PREC, MPFR_RNDN);
    cr_expect(mpfr_equal_p(w, r.e[1].value));
    mpfr_clear(w);
    done(&r);
    r = eval(UG_OP_LOG_SOFTMAX, UG_F64, 1, 2, x, NULL, NULL, UG_RED_NONE);
    EXPECT_BITS(UG_F64, r.e[0].rounded, -0.0); /* -log1p(e^-1000): a negative tiny: -0 */
    cr_expect(isfinite(r.e[0].kappa) && fabs(r.e[0].kappa - 1000) < 1e-9);
    done(&r);
    /* softmax [0, a] around each dtype's smallest subnormal 2^(emin-p+1): e^a/(1 + e^a)
     * computed here by MPFR (exp, then a division), rounded by ug_oracle_round (tested
     * above); a in {log(k 2^(emin-p)) : k = 0.9, 1.1, 1.9, 2.1, 3.5} */
    const double ks[5] = {0.9, 1.1, 1.9, 2.1, 3.5};
    for (int d = 0; d < 3; d++) {
        ug_dtype dt = ALL_DT[d];
        int e0 = ug_dtype_emin(dt) - ug_dtype_precision(dt);
        for (int k = 0; k < 5; k++) {
            mpfr_t v;
            mpfr_init2(v, 300);
            mpfr_set_d(v, ks[k], MPFR_RNDN);
            mpfr_mul_2si(v, v, e0, MPFR_RNDN);
            mpfr_log(v, v, MPFR_RNDN);
            double xa[2] = {0.0, dt == UG_F64 ? mpfr_get_d(v, MPFR_RNDN) : (double)mpfr_get_flt(v, MPFR_RNDN)};
            if (dt == UG_BF16)
                xa[1] = (double)(float)ug_oracle_round(v, UG_BF16);
            mpfr_set_d(v, xa[1], MPFR_RNDN);
            mpfr_exp(v, v, MPFR_RNDN);
            mpfr_t den;
            mpfr_init2(den, 300);
            mpfr_add_ui(den, v, 1, MPFR_RNDN);
            mpfr_div(v, v, den, MPFR_RNDN);
            run rs = eval(UG_OP_SOFTMAX, dt, 1, 2, xa, NULL, NULL, UG_RED_NONE);
            EXPECT_BITS(dt, rs.e[1].rounded, ug_oracle_round(v, dt));
            done(&rs);
            mpfr_clears(v, den, (mpfr_ptr)0);
        }
    }
    /* xent with one dominant logit: loss ~ 2 e^-70 ~ 7.9e-31, relative accuracy kept */
    double xd[3] = {70.0, 0.0, 0.0};
    int64_t t = 0;
    r = eval(UG_OP_XENT, UG_F32, 1, 3, xd, &t, NULL, UG_RED_NONE);
    mpfr_init2(w, 200);
    mpfr_set_si(w, -70, MPFR_RNDN);
    mpfr_exp(w, w, MPFR_RNDN);
    mpfr_mul_ui(w, w, 2, MPFR_RNDN);
    mpfr_log1p(w, w, MPFR_RNDN);
    EXPECT_BITS(UG_F32, r.e[0].rounded, (double)mpfr_get_flt(w, MPFR_RNDN));
    mpfr_clear(w);
    done(&r);
}

Test(hard, long_rows)
{
    /* n = 10^6: logsumexp of [0, -1, -1, ...] = log(1 + (n - 1)/e), computed here directly */
    size_t n = 1000000;
    double *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = i == 0 ? 0.0 : -1.0;
    run r = eval(UG_OP_LOGSUMEXP, UG_F32, 1, n, x, NULL, NULL, UG_RED_NONE);
    cr_expect_eq(r.status, UG_OK);
    mpfr_t w;
    mpfr_init2(w, 300);
    mpfr_set_si(w, -1, MPFR_RNDN);
    mpfr_exp(w, w, MPFR_RNDN);
    mpfr_mul_ui(w, w, n - 1, MPFR_RNDN);
    mpfr_log1p(w, w, MPFR_RNDN);
    EXPECT_BITS(UG_F32, r.e[0].rounded, (double)mpfr_get_flt(w, MPFR_RNDN));
    mpfr_clear(w);
    done(&r);
    /* softmax of 10^6 equal logits: 1/10^6 rounded once */
    for (size_t i = 0; i < n; i++)
        x[i] = 3.0;
    r = eval(UG_OP_SOFTMAX, UG_F64, 1, n, x, NULL, NULL, UG_RED_NONE);
    EXPECT_BITS(UG_F64, r.e[12345].rounded, 1e-6);
    done(&r);
    free(x);
}

/* ---------------------------------------------------------------- statuses, kappa */

Test(api, statuses)
{
    double x[2] = {1, 2}, y[2];
    int64_t bad_t = 2;
    double bad_p[2] = {0.5, 1.5};
    ug_exact *e = ug_exact_new(4);
    ug_problem p = {.rows = 1, .n = 2, .x = x, .y = NULL};
    cr_expect_eq(ug_oracle_eval(UG_OP_SOFTMAX, UG_F64, &p, e), UG_OK); /* y is ignored */
    p.n = 0;
    cr_expect_eq(ug_oracle_eval(UG_OP_SOFTMAX, UG_F64, &p, e), UG_ERR_EMPTY);
    p.n = 2;
    p.x = NULL;
    cr_expect_eq(ug_oracle_eval(UG_OP_SOFTMAX, UG_F64, &p, e), UG_ERR_NULL);
    p.x = x;
    p.target = &bad_t;
    cr_expect_eq(ug_oracle_eval(UG_OP_XENT, UG_F64, &p, e), UG_ERR_TARGET);
    p.target = NULL;
    p.aux = bad_p;
    cr_expect_eq(ug_oracle_eval(UG_OP_BCE_LOGITS, UG_F64, &p, e), UG_ERR_LABEL);
    p.reduction = UG_RED_SUM;
    cr_expect_eq(ug_oracle_eval(UG_OP_SOFTMAX, UG_F64, &p, e), UG_ERR_REDUCTION);
    cr_expect_eq(ug_oracle_eval(UG_OP_SOFTMAX, UG_F64, NULL, e), UG_ERR_NULL);
    (void)y;
    ug_exact_free(e, 4);
}

Test(api, exponent_range_restored)
{
    mpfr_exp_t emin = mpfr_get_emin(), emax = mpfr_get_emax();
    double x[2] = {DBL_MAX, -DBL_MAX};
    run r = eval(UG_OP_LOG_SOFTMAX, UG_F64, 1, 2, x, NULL, NULL, UG_RED_NONE);
    cr_expect_eq(mpfr_get_emin(), emin);
    cr_expect_eq(mpfr_get_emax(), emax);
    done(&r);
}

Test(kappa, definitions)
{
    /* softmax [0, 0]: kappa = |x_i| (1 - s_i) + sum |x_j| s_j = 0 */
    double z[2] = {0, 0};
    run r = eval(UG_OP_SOFTMAX, UG_F64, 1, 2, z, NULL, NULL, UG_RED_NONE);
    cr_expect_eq(r.e[0].kappa, 0.0);
    done(&r);
    /* logsumexp [1, 1]: sum |x| s / |lse| = 1 / (1 + log 2) */
    double o[2] = {1, 1};
    r = eval(UG_OP_LOGSUMEXP, UG_F64, 1, 2, o, NULL, NULL, UG_RED_NONE);
    cr_expect(fabs(r.e[0].kappa - 1 / (1 + log(2))) < 1e-12);
    done(&r);
    /* log_softmax [1, 3]: s = (1/(1+e^2), e^2/(1+e^2)); output 0: (1 (1 - s0) + 3 s1) / |y0| */
    double x[2] = {1, 3};
    r = eval(UG_OP_LOG_SOFTMAX, UG_F64, 1, 2, x, NULL, NULL, UG_RED_NONE);
    double s0 = 1 / (1 + exp(2)), s1 = 1 - s0, y0 = -log1p(exp(2));
    cr_expect(fabs(r.e[0].kappa - (1 * (1 - s0) + 3 * s1) / fabs(y0)) < 1e-12);
    done(&r);
    /* an exact zero output: +inf */
    double one = 5;
    r = eval(UG_OP_LOG_SOFTMAX, UG_F64, 1, 1, &one, NULL, NULL, UG_RED_NONE);
    cr_expect(isinf(r.e[0].kappa));
    done(&r);
    /* bce x = 2, y = 1/2: (|x| |sigma(x) - y| + |x| |y|) / f */
    double bx = 2, by = 0.5;
    r = eval(UG_OP_BCE_LOGITS, UG_F64, 1, 1, &bx, NULL, &by, UG_RED_NONE);
    double sg = 1 / (1 + exp(-2)), f = 1 + log1p(exp(-2));
    cr_expect(fabs(r.e[0].kappa - (2 * fabs(sg - 0.5) + 1) / f) < 1e-12);
    done(&r);
    /* xent sum of two rows: sum kappa_r |loss_r| / sum |loss_r| */
    double rows[4] = {0, 0, 1, 3};
    int64_t t[2] = {0, 0};
    r = eval(UG_OP_XENT, UG_F64, 2, 2, rows, t, NULL, UG_RED_SUM);
    double l0 = log(2), l1 = log1p(exp(2)), k0 = 0, k1 = (1 * (1 - s0) + 3 * s1) / l1;
    cr_expect(fabs(r.e[0].kappa - (k0 * l0 + k1 * l1) / (l0 + l1)) < 1e-12);
    done(&r);
}

Test(kappa, tiny_outputs_stay_finite)
{
    /* xent at the dominant logit: loss = log1p(e^-1000) ~ e^-1000, far below binary64;
     * kappa = (|x_t| (1 - s_t) + |x_1| s_1) / loss ~ 0 + 1000: finite */
    double x[2] = {0.0, -1000.0};
    int64_t t = 0;
    run r = eval(UG_OP_XENT, UG_F64, 1, 2, x, &t, NULL, UG_RED_NONE);
    cr_expect(fabs(r.e[0].kappa - 1000) < 1e-9);
    done(&r);
}
