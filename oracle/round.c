/* Correct rounding of an exactly known MPFR value to a dtype, the dtype data, and the
 * ug_exact arrays.
 *
 * Rounding (ANALYSIS.md §1.2).  For |v| in [2^e, 2^(e+1)) a dtype of precision p and
 * smallest normal 2^emin holds, around v, the numbers k 2^(max(e, emin) - p + 1): a
 * grid of precision
 *     p_eff = p - max(0, emin - e)
 * in v's binade.  For p_eff >= 1 rounding v to p_eff bits (RNE, unbounded exponent) is
 * exactly IEEE rounding with subnormals: the grid and the parity of its last bit are the
 * dtype's.  p_eff = 0 means |v| in [2^(emin-p), 2^(emin-p+1)): the neighbours are 0 and
 * the smallest subnormal 2^(emin-p+1), the midpoint is 2^(emin-p) itself, which ties to
 * 0 (even).  p_eff < 0 means |v| < 2^(emin-p), below the midpoint: +-0.  Overflow is
 * decided after rounding, as IEEE 754 says: a rounded magnitude of 2^(emax+1) is +-inf.
 * One rounding, never two: bf16 is rounded from v at p_eff <= 8, never through f32.
 */
#include <math.h>
#include <stdlib.h>

#include "ora_internal.h"

int ug_dtype_precision(ug_dtype dt)
{
    switch (dt) {
    case UG_F32: return 24;
    case UG_F64: return 53;
    case UG_BF16: return 8;
    default: return 0;
    }
}

int ug_dtype_emin(ug_dtype dt) { return dt == UG_F64 ? -1022 : -126; }

int ora_dtype_emax(ug_dtype dt) { return dt == UG_F64 ? 1023 : 127; }

ora_range ora_range_widen(void)
{
    ora_range old = {mpfr_get_emin(), mpfr_get_emax()};
    mpfr_set_emin(mpfr_get_emin_min());
    mpfr_set_emax(mpfr_get_emax_max());
    return old;
}

void ora_range_restore(ora_range old)
{
    mpfr_set_emin(old.emin);
    mpfr_set_emax(old.emax);
}

/* v rounded to p_eff >= 1 bits, then checked for overflow. */
static double round_bits(mpfr_srcptr v, long p_eff, ug_dtype dt)
{
    mpfr_t t;
    mpfr_init2(t, p_eff);
    mpfr_set(t, v, MPFR_RNDN); /* the one rounding: RNE at p_eff, exponent unbounded */
    double r;
    if (mpfr_get_exp(t) > ora_dtype_emax(dt) + 1) /* |t| >= 2^(emax+1): IEEE overflow */
        r = mpfr_signbit(t) ? -INFINITY : INFINITY;
    else
        r = mpfr_get_d(t, MPFR_RNDN); /* exact: t has <= 53 bits, in binary64's range */
    mpfr_clear(t);
    return r;
}

double ora_round(mpfr_srcptr v, ug_dtype dt)
{
    if (mpfr_nan_p(v))
        return NAN;
    if (mpfr_inf_p(v))
        return mpfr_signbit(v) ? -INFINITY : INFINITY;
    double sign = mpfr_signbit(v) ? -1.0 : 1.0;
    if (mpfr_zero_p(v))
        return sign * 0.0;
    int p = ug_dtype_precision(dt), emin = ug_dtype_emin(dt);
    mpfr_exp_t e = mpfr_get_exp(v) - 1; /* |v| in [2^e, 2^(e+1)) */
    if (e > ora_dtype_emax(dt) + 1)      /* |v| >= 2^(emax+2): overflows whatever p */
        return sign * INFINITY;
    long p_eff = p - (e < emin ? (long)(emin - e) : 0);
    if (p_eff >= 1)
        return round_bits(v, p_eff, dt);
    if (p_eff < 0) /* |v| < 2^(emin-p): below half the smallest subnormal */
        return sign * 0.0;
    /* p_eff = 0: 2^(emin-p) ties to 0; anything above it rounds to 2^(emin-p+1) */
    int tie = mpfr_cmp_si_2exp(v, mpfr_signbit(v) ? -1 : 1, emin - p) == 0;
    return tie ? sign * 0.0 : sign * ldexp(1.0, emin - p + 1);
}

double ug_oracle_round(mpfr_srcptr v, ug_dtype dt)
{
    ora_range old = ora_range_widen();
    double r = ora_round(v, dt);
    ora_range_restore(old);
    return r;
}

void ora_set_exact_double(ug_exact *out, double v)
{
    out->rounded = v;
    mpfr_set_d(out->value, v, MPFR_RNDN); /* exact: a dtype value, 128 >= 53 bits */
    out->kappa = INFINITY;
    out->lazy = 0;
}

ug_exact *ug_exact_new(size_t count)
{
    ug_exact *e = calloc(count ? count : 1, sizeof *e);
    if (e == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        mpfr_init2(e[i].value, UG_ORACLE_PREC);
        e[i].rounded = NAN;
        e[i].kappa = INFINITY;
    }
    return e;
}

void ug_exact_free(ug_exact *e, size_t count)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        mpfr_clear(e[i].value);
    free(e);
}
