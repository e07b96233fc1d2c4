/* The ULP metric and the one comparison of a computed value with the exact one
 * (oracle/ulp.h).  Everything is computed in MPFR from the unrounded 128-bit value, in
 * MPFR's wide exponent range, never in the dtype: 0.5 (correctly rounded at a tie) and
 * 1 (one ULP off) are told apart exactly.
 *
 * ulp_F(v) = 2^(max(e, emin) - p + 1) for |v| in [2^e, 2^(e+1)), 2^(emin - p + 1) at
 * v = 0.  |y - v| is formed exactly when y and v are within 4400 bits of each other;
 * otherwise the smaller one is below 2^-4300 of the larger and the difference, rounded
 * to 4400 bits, is off by less than 2^-4300 relative.  The quotient by a power of two is
 * exact; the final conversion to binary64 rounds to nearest (an error ratio is exactly a
 * binary64 when it has at most 53 significant bits, e.g. 0.5, 1, 1.5).
 */
#include <math.h>
#include <string.h>

#include "ora_internal.h"
#include "ulp.h"

const char *ug_cmp_class_name(ug_cmp_class c)
{
    switch (c) {
    case UG_CMP_OK: return "ok";
    case UG_CMP_NAN_WRONG: return "nan";
    case UG_CMP_OVERFLOW: return "overflow";
    case UG_CMP_INF_WRONG: return "inf";
    case UG_CMP_ZERO_SIGN: return "zero-sign";
    default: return "?";
    }
}

int ug_same_bits(ug_dtype dt, double a, double b)
{
    (void)dt; /* a dtype value held in a double: its bits name the dtype's bits */
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Exponent k of ulp_dt(v) = 2^k (v finite). */
static mpfr_exp_t ulp_exp(ug_dtype dt, mpfr_srcptr v)
{
    int p = ug_dtype_precision(dt), emin = ug_dtype_emin(dt);
    if (mpfr_zero_p(v))
        return emin - p + 1;
    mpfr_exp_t e = mpfr_get_exp(v) - 1; /* |v| in [2^e, 2^(e+1)) */
    return (e > emin ? e : emin) - p + 1;
}

static double ulp_error_wide(ug_dtype dt, double y, mpfr_srcptr v)
{
    mpfr_t d;
    mpfr_prec_t prec = 4400;
    if (mpfr_zero_p(v)) {
        prec = 64;
    } else if (y == 0) {
        prec = mpfr_get_prec(v);
    } else {
        int ey;
        frexp(y, &ey); /* |y| in [2^(ey-1), 2^ey), a multiple of 2^max(ey-53, -1074) */
        mpfr_exp_t ev = mpfr_get_exp(v);
        mpfr_exp_t hi = (ey > ev ? ey : ev) + 1;
        mpfr_exp_t lo_v = ev - (mpfr_exp_t)mpfr_get_prec(v), lo_y = ey - 53 < -1074 ? -1074 : ey - 53;
        mpfr_exp_t lo = lo_v < lo_y ? lo_v : lo_y;
        if (hi - lo < prec)
            prec = hi - lo; /* exact */
    }
    if (prec < 64)
        prec = 64;
    mpfr_init2(d, prec);
    mpfr_set_d(d, y, MPFR_RNDN);            /* exact: prec >= 53 */
    mpfr_sub(d, d, v, MPFR_RNDN);           /* exact unless the operands are 4400 bits apart */
    mpfr_abs(d, d, MPFR_RNDN);
    mpfr_mul_2si(d, d, -ulp_exp(dt, v), MPFR_RNDN); /* exact */
    double r = mpfr_get_d(d, MPFR_RNDN);    /* +inf beyond DBL_MAX */
    mpfr_clear(d);
    return r;
}

double ug_ulp_error(ug_dtype dt, double y, mpfr_srcptr v)
{
    if (!isfinite(y) || !mpfr_number_p(v))
        return INFINITY;
    ora_range old = ora_range_widen();
    double r = ulp_error_wide(dt, y, v);
    ora_range_restore(old);
    return r;
}

static ug_cmp make(ug_cmp_class c, double ulp)
{
    ug_cmp r = {c, ulp};
    return r;
}

/* y or the correctly rounded value (or both) is infinite, neither is NaN. */
static ug_cmp compare_inf(double y, double r)
{
    if (isinf(y) && isinf(r))
        return y == r ? make(UG_CMP_OK, 0) : make(UG_CMP_INF_WRONG, INFINITY);
    if (isinf(r)) /* finite where the correctly rounded value is +-inf */
        return make(UG_CMP_OVERFLOW, INFINITY);
    /* y = +-inf where the correctly rounded value is finite: an overflow when y has
     * the sign of the exact value, an infinity of the wrong sign otherwise */
    int same = (y > 0) == !signbit(r);
    return make(same ? UG_CMP_OVERFLOW : UG_CMP_INF_WRONG, INFINITY);
}

/* The class of y against the correctly rounded r; 1 when it is decided without the
 * value (a special value or a violation), 0 when the ULP error is needed. */
static int classify(double y, double r, ug_cmp *c)
{
    if (isnan(r) || isnan(y)) {
        *c = isnan(r) && isnan(y) ? make(UG_CMP_OK, 0) : make(UG_CMP_NAN_WRONG, INFINITY);
        return 1;
    }
    if (isinf(y) || isinf(r)) {
        *c = compare_inf(y, r);
        return 1;
    }
    if (r == 0 && y == 0 && signbit(r) != signbit(y)) {
        *c = make(UG_CMP_ZERO_SIGN, INFINITY);
        return 1;
    }
    return 0;
}

ug_cmp ug_compare(ug_dtype dt, double y, const ug_exact *e)
{
    ug_cmp c;
    if (classify(y, e->rounded, &c))
        return c;
    return make(UG_CMP_OK, ug_ulp_error(dt, y, e->value));
}

int ug_compare_lazy(ug_dtype dt, double y, const ug_exact *e, ug_cmp *c)
{
    if (!e->lazy) {
        *c = ug_compare(dt, y, e);
        return 1;
    }
    if (classify(y, e->rounded, c))
        return 1;
    /* y finite, the exact value finite and nonzero (lazy) */
    double u;
    if (!ora_fast_ulp(dt, y, e, &u))
        return 0;
    *c = make(UG_CMP_OK, u);
    return 1;
}
