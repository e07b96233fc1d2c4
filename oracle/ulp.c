/* The ULP metric and the one comparison of a computed value with the exact one
 * (oracle/ulp.h).  Everything is computed in MPFR from the unrounded 128-bit value, in
 * MPFR's wide exponent range, never in the dtype: 0.5 (correctly rounded at a tie) and
 * 1 (one ULP off) are told apart exactly.
 *
 * ulp_F(v) = 2^(max(e, emin) - p + 1) for |v| in [2^e, 2^(e+1)), 2^(emin - p + 1) at
 * v = 0.  |y - v| is formed exactly when y and v are within 4400 bits of each other;
 * otherwise the smaller one is below 2^-4300 of the larger and the difference, rounded
 * away from zero to 4400 bits, is above it by less than 2^-4300 relative.  The quotient by
 * a power of two is exact; the ratio x is then rounded UP to UG_ULP_BITS = 24 significant
 * bits (F = RU_24(x), ANALYSIS.md §6: never below x; 0.5, 1, 1.5 are kept exactly) and
 * whether x < 1 (faithful) is decided on x itself.
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

/* d (initialised; its precision is set here) = x, rounded up to 4400 bits when y and v are
 * 4400 bits apart; *below1 = x < 1. */
static void ulp_error_x(ug_dtype dt, double y, mpfr_srcptr v, mpfr_t d, int *below1)
{
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
    mpfr_set_prec(d, prec);
    mpfr_set_d(d, y, MPFR_RNDN);            /* exact: prec >= 53 */
    /* exact unless the operands are 4400 bits apart; then |d| is rounded up, and x is
     * either above 2^(p-2) (y far below v) or huge (y far above v): x < 1 is exact */
    mpfr_sub(d, d, v, MPFR_RNDA);
    mpfr_abs(d, d, MPFR_RNDN);
    mpfr_mul_2si(d, d, -ulp_exp(dt, v), MPFR_RNDN); /* exact: x */
    *below1 = mpfr_cmp_ui(d, 1) < 0;
}

static double ulp_error_wide(ug_dtype dt, double y, mpfr_srcptr v, int *below1)
{
    mpfr_t d;
    mpfr_init2(d, 64);
    ulp_error_x(dt, y, v, d, below1);
    mpfr_prec_round(d, UG_ULP_BITS, MPFR_RNDU); /* RU_24(RU_4400(x)) = RU_24(x) */
    double r = mpfr_get_d(d, MPFR_RNDU);    /* exact; +inf beyond DBL_MAX */
    mpfr_clear(d);
    return r;
}

double ug_ulp_error_b(ug_dtype dt, double y, mpfr_srcptr v, int *below1)
{
    *below1 = 0;
    if (!isfinite(y) || !mpfr_number_p(v))
        return INFINITY;
    ora_range old = ora_range_widen();
    double r = ulp_error_wide(dt, y, v, below1);
    ora_range_restore(old);
    return r;
}

int ug_ulp_exceeds(ug_dtype dt, double y, mpfr_srcptr v, double bound)
{
    if (!isfinite(y) || !mpfr_number_p(v))
        return 1;
    ora_range old = ora_range_widen();
    int below1;
    mpfr_t d;
    mpfr_init2(d, 64);
    ulp_error_x(dt, y, v, d, &below1);
    /* d = RU_4400(x) is x unless y and v are 4400 bits apart, and then no binary64 bound
     * lies in [x, d) (x is within 2^-4300 below a number of at most 128 bits) */
    int over = mpfr_cmp_d(d, bound) > 0;
    mpfr_clear(d);
    ora_range_restore(old);
    return over;
}

double ug_ulp_error(ug_dtype dt, double y, mpfr_srcptr v)
{
    int below1;
    return ug_ulp_error_b(dt, y, v, &below1);
}

static ug_cmp make(ug_cmp_class c, double ulp)
{
    ug_cmp r = {c, ulp, c == UG_CMP_OK && ulp < 1};
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
    c.cls = UG_CMP_OK;
    c.ulp = ug_ulp_error_b(dt, y, e->value, &c.below1);
    return c;
}

int ug_compare_over_lazy(ug_dtype dt, double y, const ug_exact *e, double bound, int *over)
{
    if (!e->lazy) {
        *over = ug_ulp_exceeds(dt, y, e->value, bound);
        return 1;
    }
    return ora_fast_over(dt, y, e, bound, over);
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
    int below1;
    if (!ora_fast_ulp(dt, y, e, &u, &below1))
        return 0;
    c->cls = UG_CMP_OK;
    c->ulp = u;
    c->below1 = below1;
    return 1;
}
