/* Row analysis shared by the production and variant kernels (see row.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"
#include "row.h"
#include "wide_exp_data.h"

void ug__shift(double x, double m, double *hi, double *lo)
{
    if (isinf(x)) { /* a mask: exp gives exactly 0 */
        *hi = -INFINITY;
        *lo = 0;
        return;
    }
    ug__two_sum(x, -m, hi, lo);
    if (isinf(*hi)) { /* |x - m| > DBL_MAX: exp is 0 and the output overflows anyway */
        *lo = 0;
        return;
    }
    if (!isfinite(*lo)) {
        /* TwoSum overflows inside when x - m is finite but t - x rounds past DBL_MAX
         * (|m| near DBL_MAX, x ~ 2^1021 on the other side: fuzz_rowops found NaN outputs).
         * Halved operands cannot overflow, and halving and doubling are exact here: the
         * operands are >= 2^969 in magnitude (else t - x ~ -m rounds to within DBL_MAX),
         * so lo is a multiple of 2^916, far above the subnormals. */
        ug__two_sum(0.5 * x, -0.5 * m, hi, lo);
        *hi *= 2;
        *lo *= 2;
    }
}

double ug__exp_shifted(double hi, double lo)
{
    /* exp(hi + lo) = exp(hi) (1 + lo + lo^2/2 + ...), |lo| <= 2^-53 |hi|; the dropped
     * lo^2/2 is below 2^-106 relative for |hi| <= 746 (beyond, exp(hi) = 0). */
    double E = exp(hi);
    return fma(E, lo, E);
}

/* 2^e as a ug__wide, e >= -16381 (normal) */
static ug__wide pow2_wide(int e)
{
#if LDBL_MANT_DIG == 64 && LDBL_MAX_EXP == 16384 && defined(__x86_64__)
    /* x87 extended: explicit integer bit, 15-bit biased exponent; a few times faster
     * than scalbnl, which is a library call */
    union {
        ug__wide f;
        struct { uint64_t m; uint16_t se; } b;
    } two = {0};
    two.b.m = UINT64_C(1) << 63;
    two.b.se = (uint16_t)(16383 + e);
    return two.f;
#else
    return scalbnl(1.0L, e);
#endif
}

ug__wide ug__exp_neg_wide(double x)
{
    if (!(x >= -11400)) /* -inf, NaN, or below 2^-16447: 0 (NaN stays NaN) */
        return x == x ? 0 : x;
    /* k = round(x 64/ln2) by the 1.5*2^63 shifter (|x 64/ln2| < 2^21: exact integer) */
    ug__wide kf = (x * ug__wexp_inv + 0x1.8p63L) - 0x1.8p63L;
    long k = (long)(double)kf;
    /* r = x - k ln2/64: k*C1 exact, the subtraction exact by Sterbenz (or one rounding
     * of u_w |r|), k*C2 < 2^-29: |r| <= ln2/128 (1 + 2^-40), absolute error <= 0.011 u_w */
    ug__wide r = ((ug__wide)x - kf * ug__wexp_c1) - kf * ug__wexp_c2;
    /* exp(r) - 1 = r + r^2 (1/2 + r/6 + ...), Taylor to degree 7: truncation |r|^8/8! <=
     * 2^-75; the tail r^2(...) <= 1.5e-5 with relative error <= 4.1 u_w */
    ug__wide p = r + r * r * (0.5L + r * (1.0L / 6 + r * (1.0L / 24 + r * (1.0L / 120 + r * (1.0L / 720 + r * (1.0L / 5040))))));
    ug__wide t = ug__wexp_table[k & 63];
    int e = (int)((k - (k & 63)) / 64); /* floor(k / 64), in [-16447, 0] */
    if (e < -16381) /* a result below 2^-16381: scale in two steps (x87 subnormal, harmless) */
        return (t + t * p) * pow2_wide(e + 128) * 0x1p-128L;
    return (t + t * p) * pow2_wide(e);
}

ug__wide ug__exp_wide(ug_dtype dt, double hi, double lo)
{
    if (dt != UG_F64)
        return ug__exp_shifted(hi, lo);
    /* As ug__exp_shifted, with E = ug__exp_neg_wide(hi) (<= 2.03 u_w), the product and the
     * sum 2 u_w, the dropped lo^2/2 <= 2^-78 (ERROR-ANALYSIS.md §0, §1). */
    ug__wide E = ug__exp_neg_wide(hi);
    return E + E * lo;
}

ug__wide ug__log1p_wide(ug_dtype dt, ug__wide s)
{
    return dt == UG_F64 ? log1pl(s) : log1p((double)s);
}

void ug__row_analyse(ug__row *row, const ug_problem *p, ug_dtype dt, size_t r, double *xbuf, ug__wide *e,
                     ug__wide *work, int with_exp)
{
    size_t n = p->n;
    int nan = 0;
    size_t ninf = 0, nmasked = 0;
    for (size_t j = 0; j < n; j++) {
        double v = ug__load(dt, p->x, r * n + j);
        xbuf[j] = v;
        nan |= isnan(v);
        ninf += v == INFINITY;
        nmasked += v == -INFINITY;
    }
    row->dt = dt;
    row->n = n;
    row->x = xbuf;
    row->e = e;
    row->work = work;
    row->ninf = ninf;
    row->nfinite = n - ninf - nmasked; /* NaN rows never use it */
    if (nan) {
        row->kind = UG__ROW_NAN;
        return;
    }
    if (ninf > 0) {
        row->kind = UG__ROW_POSINF;
        return;
    }
    if (nmasked == n) {
        row->kind = UG__ROW_MASKED;
        return;
    }
    row->kind = UG__ROW_FINITE;
    if (!with_exp)
        return;
    size_t imax = ug__row_argmax(xbuf, n);
    double m = xbuf[imax];
    ug__wsum acc = {0, 0};
    for (size_t j = 0; j < n; j++) {
        double hi, lo;
        if (j == imax) {
            e[j] = 1;
            continue;
        }
        ug__shift(xbuf[j], m, &hi, &lo);
        e[j] = ug__exp_wide(dt, hi, lo);
        ug__wsum_add(&acc, e[j]);
    }
    row->m = m;
    row->imax = imax;
    row->sp = ug__wsum_value(&acc);
    /* sp's relative error eps changes log1p(sp) by at most eps * sp/(1+sp) <=
     * eps * log1p(sp) (ERROR-ANALYSIS.md §2). */
    row->L = ug__log1p_wide(dt, row->sp);
}

size_t ug__row_argmax(const double *x, size_t n)
{
    size_t imax = 0;
    for (size_t j = 1; j < n; j++)
        if (x[j] > x[imax])
            imax = j;
    return imax;
}

ug__wide ug__row_sum_except(const ug__row *row, size_t skip)
{
    ug__wsum acc = {0, 0};
    for (size_t j = 0; j < row->n; j++)
        if (j != skip)
            ug__wsum_add(&acc, row->e[j]);
    return ug__wsum_value(&acc);
}

void ug__store_wide(ug_dtype dt, void *a, size_t i, ug__wide v)
{
    if (dt == UG_F32)
        ((float *)a)[i] = (float)v; /* one rounding, not through binary64 */
    else
        ug__store(dt, a, i, (double)v);
}

void ug__reduce_store_wide(const ug_problem *p, ug_op op, ug_dtype dt, const ug__wide *loss, size_t count)
{
    if (p->reduction == UG_RED_NONE) {
        for (size_t i = 0; i < count; i++)
            ug__store_wide(dt, p->y, i, loss[i]);
        return;
    }
    /* Losses are >= 0 and, from finite binary64 inputs, below 2^1026: count of them cannot
     * overflow ug__wide, so the sum and the mean are rounded once, whether or not the
     * binary64 sum would overflow.  A NaN or +inf loss makes the result NaN or +inf. */
    ug__wsum acc = {0, 0};
    for (size_t i = 0; i < count; i++)
        ug__wsum_add(&acc, loss[i]);
    ug__wide sum = ug__wsum_value(&acc);
    if (p->reduction == UG_RED_MEAN)
        sum /= (ug__wide)count;
    ug__store_wide(dt, p->y, 0, sum);
    ug__threshold_settle(p, op, dt, count, sum);
}

ug_status ug__run_rows(const ug_problem *p, ug_op op, ug_dtype dt, ug__row_body body, int with_exp)
{
    ug_status st = ug__validate(p, op, dt);
    if (st != UG_OK)
        return st;
    size_t n = p->n;
    int reduce = ug_op_has_reduction(op);
    size_t per_row = op == UG_OP_SOFTMAX || op == UG_OP_LOG_SOFTMAX || op == UG_OP_XENT_GRAD ? n : 1;
    /* e, work, the outputs of one row, and the losses of every row when reducing; n and
     * rows are each below SIZE_MAX / 8 (ug__validate), so the count itself cannot wrap */
    size_t count = 2 * n + per_row + (reduce ? p->rows : 0);
    if (count > SIZE_MAX / sizeof(ug__wide))
        return ug__fail(UG_ERR_NOMEM, "cannot allocate scratch for n = %zu", n);
    double *xbuf = malloc(n * sizeof *xbuf);
    ug__wide *w = malloc(count * sizeof *w);
    if (xbuf == NULL || w == NULL) {
        free(xbuf);
        free(w);
        return ug__fail(UG_ERR_NOMEM, "cannot allocate scratch for n = %zu", n);
    }
    ug__wide *e = w, *work = w + n, *out = w + 2 * n, *loss = out + per_row;
    for (size_t r = 0; r < p->rows; r++) {
        ug__row row;
        ug__row_analyse(&row, p, dt, r, xbuf, e, work, with_exp);
        body(&row, p, r, out);
        if (reduce)
            loss[r] = out[0];
        else
            for (size_t i = 0; i < per_row; i++)
                ug__store_wide(dt, p->y, r * per_row + i, out[i]);
    }
    if (reduce)
        ug__reduce_store_wide(p, op, dt, loss, p->rows);
    free(xbuf);
    free(w);
    return UG_OK;
}

/* The one-pass normaliser of the online kernels (softmax.c states the contract). */
void ug__online_normaliser(const ug__row *row, double *m_out, double *sp_out)
{
    double m = -INFINITY;
    ug__nsum acc = {0, 0};
    for (size_t j = 0; j < row->n; j++) {
        double x = row->x[j], hi, lo;
        if (x == -INFINITY)
            continue;
        if (x > m) {
            /* the old max joins the rest: sp <- (sp + 1) exp(m - x); nothing before the
             * first finite entry */
            ug__shift(m, x, &hi, &lo);
            acc.s = m == -INFINITY ? 0 : (ug__nsum_value(&acc) + 1.0) * ug__exp_shifted(hi, lo);
            acc.c = 0;
            m = x;
        } else {
            ug__shift(x, m, &hi, &lo);
            ug__nsum_add(&acc, ug__exp_shifted(hi, lo));
        }
    }
    *m_out = m;
    /* The running max counted once: entries equal to the final max after it were added as
     * exp(0) = 1 terms, which is right (they are not the max term). */
    *sp_out = ug__nsum_value(&acc);
}

