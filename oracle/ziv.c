/* The Ziv decision: from v = A/B + T (A exact, B a positive integer, T approximated
 * with a proven error bound) to the correctly rounded dtype value and the 128-bit value,
 * or "not yet: raise the working precision".  ANALYSIS.md §1 proves every step.
 *
 * Three ways to decide, tried in this order:
 *   exact      T = 0: v = A/B is a rational with a bounded numerator; rounding it is
 *              exact (§1.2, the "representative" lemma);
 *   sticky     T != 0 but |T| is below the distance from A/B to the nearest point of a
 *              grid of W >= 129 + p bits: v rounds like a representative R of that open
 *              grid cell, whatever T is (§1.2).  This is how 0.5 + 2^-100000 rounds
 *              without a 100000-bit sum, and how A/B + T rounds when T is ORA_BEYOND;
 *   Ziv        otherwise b = A/B + t is formed with a rounding error below the bound on
 *              |t - T| and mpfr_can_round decides, for the dtype at its effective
 *              precision at b (subnormals included) and for the 128-bit value (§1.3).
 */
#include <math.h>

#include "ora_internal.h"

int ora_bits(unsigned long n)
{
    int b = 0;
    while (n) {
        b++;
        n >>= 1;
    }
    return b;
}

void ora_term_init(ora_term *T)
{
    T->kind = ORA_ZERO;
    T->sign = 0;
    T->sign_sure = 1;
    T->err = 0;
    mpfr_init2(T->t, ORA_P0);
}

void ora_term_clear(ora_term *T) { mpfr_clear(T->t); }

void ora_term_zero(ora_term *T)
{
    T->kind = ORA_ZERO;
    T->sign = 0;
    T->sign_sure = 1;
}

void ora_term_beyond(ora_term *T, int sign)
{
    T->kind = ORA_BEYOND;
    T->sign = sign < 0 ? -1 : 1;
    T->sign_sure = 1;
}

void ora_term_rel(ora_term *T, mpfr_prec_t P)
{
    /* |t - T| <= 2^(1-P) |T| <= 2^(1-P) |t| / (1 - 2^(1-P)) < 2^(2-P) |t| < 2^(EXP(t)+2-P);
     * one more bit of slack makes the bound cover the final sums and quotients of §3. */
    T->kind = ORA_APPROX;
    T->sign = mpfr_sgn(T->t) < 0 ? -1 : 1;
    T->err = mpfr_get_exp(T->t) + 3 - P;
    T->sign_sure = T->err < mpfr_get_exp(T->t) - 1; /* |t - T| < |t|/2 */
}

/* Exponent of the lowest set bit of a nonzero v: v is a multiple of 2^lsb(v). */
static mpfr_exp_t lsb(mpfr_srcptr v) { return mpfr_get_exp(v) - mpfr_min_prec(v); }

void ora_add_exact(mpfr_t acc, mpfr_srcptr v)
{
    if (mpfr_zero_p(v))
        return;
    if (mpfr_zero_p(acc)) {
        if (mpfr_get_prec(acc) < mpfr_get_prec(v))
            mpfr_set_prec(acc, mpfr_get_prec(v));
        mpfr_set(acc, v, MPFR_RNDN); /* exact */
        return;
    }
    /* both are multiples of 2^lo and below 2^hi in magnitude: the sum fits hi - lo bits */
    mpfr_exp_t hi = (mpfr_get_exp(acc) > mpfr_get_exp(v) ? mpfr_get_exp(acc) : mpfr_get_exp(v)) + 1;
    mpfr_exp_t lo = lsb(acc) < lsb(v) ? lsb(acc) : lsb(v);
    if (hi - lo > mpfr_get_prec(acc))
        mpfr_prec_round(acc, hi - lo, MPFR_RNDN); /* exact: more bits */
    mpfr_add(acc, acc, v, MPFR_RNDN);            /* exact by the bound above */
}

void ora_dbl_span(double v, long *hi, long *lo)
{
    int e;
    double m = frexp(fabs(v), &e);              /* |v| = m 2^e, m in [1/2, 1) */
    unsigned long long M = (unsigned long long)ldexp(m, 53);
    *hi = e;
    *lo = e - 53 + __builtin_ctzll(M);
}

void ora_sub_exact_d(mpfr_t rop, double a, double b)
{
    if (a == 0 || b == 0) {
        if (mpfr_get_prec(rop) < 53)
            mpfr_set_prec(rop, 53);
        mpfr_set_d(rop, a == 0 ? -b : a, MPFR_RNDN); /* exact; 0 - 0 gives the sign below */
        if (a == 0 && b == 0)
            mpfr_set_zero(rop, 1);
        return;
    }
    long ha, la, hb, lb;
    ora_dbl_span(a, &ha, &la);
    ora_dbl_span(b, &hb, &lb);
    long need = (ha > hb ? ha : hb) + 1 - (la < lb ? la : lb);
    if (need > mpfr_get_prec(rop))
        mpfr_set_prec(rop, need);
    mpfr_set_d(rop, a, MPFR_RNDN);
    mpfr_sub_d(rop, rop, b, MPFR_RNDN); /* exact: |a - b| < 2^(max+1), multiple of 2^min */
}

/* ---- the representative lemma (ANALYSIS.md §1.2) ----------------------------- */

/* Grid precision W for A/B: W >= prec(A) + 160 >= 129 + 2 + p for every dtype. */
static mpfr_prec_t grid_prec(mpfr_srcptr A)
{
    mpfr_prec_t pa = mpfr_get_prec(A);
    return (pa > 64 ? pa : 64) + 160;
}

/* q = A/B rounded toward zero to W bits; returns the ternary value. */
static int quotient_rz(mpfr_t q, mpfr_srcptr A, unsigned long B, mpfr_prec_t W)
{
    mpfr_set_prec(q, W);
    return mpfr_div_ui(q, A, B, MPFR_RNDZ);
}

/* R = a point of the open W-grid cell that holds A/B + T (§1.2):
 *   tern = 0 (A/B on the W-bit grid): R = q + sign_T 2^(EXP(q)-W-3), sign_T = 0 when T = 0;
 *   tern != 0: A/B lies strictly inside (q, q + ulp_W(q)) and R = q + sgn(A) ulp_W(q)/2.
 * R is exact at precision W + 4. */
static void representative(mpfr_t R, mpfr_srcptr q, int tern, int sign_T, mpfr_prec_t W)
{
    mpfr_set_prec(R, W + 4);
    mpfr_set(R, q, MPFR_RNDN); /* exact */
    mpfr_exp_t E = mpfr_get_exp(q);
    if (tern != 0) {
        mpfr_t h;
        mpfr_init2(h, 2);
        mpfr_set_si_2exp(h, mpfr_sgn(q) < 0 ? -1 : 1, E - W - 1, MPFR_RNDN);
        mpfr_add(R, R, h, MPFR_RNDN); /* exact: bit EXP(q)-W-1 of a W+4 bit number */
        mpfr_clear(h);
    } else if (sign_T != 0) {
        mpfr_t h;
        mpfr_init2(h, 2);
        mpfr_set_si_2exp(h, sign_T, E - W - 3, MPFR_RNDN);
        mpfr_add(R, R, h, MPFR_RNDN); /* exact: bit EXP(q)-W-3, within W+4 bits of q */
        mpfr_clear(h);
    }
}

/* Round the representative R: the dtype value and the 128-bit value. */
static void set_from(ug_exact *out, mpfr_srcptr R, ug_dtype dt)
{
    out->rounded = ora_round(R, dt);
    mpfr_set(out->value, R, MPFR_RNDN);
}

static void set_zero(ug_exact *out)
{
    out->rounded = 0.0;
    mpfr_set_zero(out->value, 1);
}

/* Round A/B + T where T = 0 or |T| < 2^(EXP(q) - W - 3 - bits(B)) (sticky lemma). */
static void round_sticky(mpfr_srcptr A, unsigned long B, int sign_T, ug_dtype dt, ug_exact *out)
{
    mpfr_prec_t W = grid_prec(A);
    mpfr_t q, R;
    mpfr_inits2(W, q, R, (mpfr_ptr)0);
    int tern = quotient_rz(q, A, B, W);
    representative(R, q, tern, sign_T, W);
    set_from(out, R, dt);
    mpfr_clears(q, R, (mpfr_ptr)0);
}

/* The smallest MPFR number of sign s stands for a BEYOND value (ANALYSIS.md §1.5). */
static void set_beyond(ug_exact *out, int sign)
{
    mpfr_set_zero(out->value, sign);
    if (sign > 0)
        mpfr_nextabove(out->value);
    else
        mpfr_nextbelow(out->value);
    out->rounded = sign < 0 ? -0.0 : 0.0;
}

/* ---- the Ziv test (ANALYSIS.md §1.3) ------------------------------------------ */

/* b approximates v with |b - v| <= 2^err: 1 if both roundings are decided (and set). */
static int decide(mpfr_srcptr b, mpfr_exp_t err, ug_dtype dt, ug_exact *out)
{
    if (mpfr_zero_p(b))
        return 0;
    mpfr_exp_t E = mpfr_get_exp(b);
    if (err >= E - 2)
        return 0;
    /* can_round's error is 2^(E - errp): twice the bound, so that v lies strictly
     * inside the interval tested, never on its end. */
    mpfr_exp_t errp = E - err - 1;
    int p = ug_dtype_precision(dt), emin = ug_dtype_emin(dt);
    mpfr_exp_t e = E - 1;
    long p_eff = p - (e < emin ? (long)(emin - e) : 0);
    long pt = p_eff + 1 >= 1 ? p_eff + 1 : 1;
    /* Directed rounding at p_eff + 1 bits constant on [b - 2^(err+1), b + 2^(err+1)]:
     * v is strictly between two consecutive points of the (p_eff+1)-bit grid, which
     * holds every dtype number and every midpoint near b, so RNE(v) = RNE(b). */
    if (!mpfr_can_round(b, errp, MPFR_RNDN, MPFR_RNDZ, pt))
        return 0;
    if (!mpfr_can_round(b, errp, MPFR_RNDN, MPFR_RNDZ, UG_ORACLE_PREC + 1))
        return 0;
    set_from(out, b, dt);
    return 1;
}

/* A = 0: v = T. */
static int finish_T(const ora_term *T, ug_dtype dt, ug_exact *out)
{
    if (T->kind == ORA_BEYOND) {
        set_beyond(out, T->sign);
        return 1;
    }
    if (decide(T->t, T->err, dt, out))
        return 1;
    /* |v| < 2^-(2^60) with a certain sign: a signed zero in every dtype (§1.5) */
    mpfr_exp_t Et = mpfr_zero_p(T->t) ? T->err : mpfr_get_exp(T->t);
    mpfr_exp_t Tmax = (Et > T->err ? Et : T->err) + 1;
    if (T->sign_sure && Tmax < -(1L << ORA_TINY_LOG2)) {
        mpfr_set(out->value, T->t, MPFR_RNDN);
        out->rounded = T->sign < 0 ? -0.0 : 0.0;
        return 1;
    }
    return 0;
}

/* b = A/B + t with a rounding error <= 2^(err+1); then the Ziv test with 2^(err+2). */
static int finish_sum(mpfr_srcptr A, unsigned long B, const ora_term *T, ug_dtype dt, ug_exact *out,
                      mpfr_exp_t Eq)
{
    mpfr_exp_t Et = mpfr_zero_p(T->t) ? T->err : mpfr_get_exp(T->t);
    mpfr_exp_t hi = (Eq > Et ? Eq : Et) + 1;
    /* Pb such that hi - Pb = err - 1: the two roundings below cost < 2^err together */
    mpfr_prec_t Pb = hi - T->err + 1;
    if (Pb < 2)
        Pb = 2;
    mpfr_t q, b;
    mpfr_inits2(Pb, q, b, (mpfr_ptr)0);
    mpfr_div_ui(q, A, B, MPFR_RNDN);  /* |q| <= 2^Eq <= 2^(hi-1): half ulp <= 2^(err-3) */
    mpfr_add(b, q, T->t, MPFR_RNDN);  /* |b| <= 2^hi: half ulp <= 2^(err-1)            */
    /* |b - v| <= 2^err + 2^(err-3) + 2^(err-1) < 2^(err+1) */
    int ok = decide(b, T->err + 1, dt, out);
    mpfr_clears(q, b, (mpfr_ptr)0);
    return ok;
}

int ora_finish(mpfr_srcptr A, unsigned long B, const ora_term *T, ug_dtype dt, ug_exact *out)
{
    if (mpfr_zero_p(A)) {
        if (T->kind == ORA_ZERO) { /* v = 0 exactly: +0 (SPECIAL.md rule 7) */
            set_zero(out);
            return 1;
        }
        return finish_T(T, dt, out);
    }
    if (T->kind == ORA_ZERO) {
        round_sticky(A, B, 0, dt, out);
        return 1;
    }
    /* EXP(A/B) >= Eq := EXP(A) - bits(B): the threshold below is safe with Eq */
    mpfr_exp_t Eq = mpfr_get_exp(A) - ora_bits(B);
    mpfr_prec_t W = grid_prec(A);
    mpfr_exp_t thr = Eq - W - 3 - ora_bits(B);
    if (T->kind == ORA_BEYOND) { /* |T| < 2^-(2^61) < 2^thr */
        round_sticky(A, B, T->sign, dt, out);
        return 1;
    }
    mpfr_exp_t Et = mpfr_zero_p(T->t) ? T->err : mpfr_get_exp(T->t);
    /* |T| <= |t| + 2^err < 2^(max(Et, err) + 1) */
    mpfr_exp_t Tmax = (Et > T->err ? Et : T->err) + 1;
    if (Tmax <= thr && T->sign_sure) {
        round_sticky(A, B, T->sign, dt, out);
        return 1;
    }
    return finish_sum(A, B, T, dt, out, mpfr_get_exp(A) + 1);
}
