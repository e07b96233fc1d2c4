/* Relative condition numbers of every output (ANALYSIS.md §4).
 *
 * kappa(f, x) = sum_j |x_j| |df/dx_j| / |f|  (and the labels' share for the losses with
 * labels): the factor by which a relative perturbation of the inputs, of the size of
 * one rounding, can move the output.  Kernels' claimed bounds scale with it.
 *
 * The numbers are approximations (53 bits), computed in MPFR's wide exponent range and
 * not in binary64 because the ratios that matter most are of two tiny numbers: log_softmax
 * at the max of a row with one dominant logit is -L with L ~ e^-1000, and its kappa
 * (|x_i| (1 - s_i) + sum_{j != i} |x_j| s_j) / L ~ |m| + |x_2| is finite and ordinary,
 * while each factor underflows binary64.  s_i and 1 - s_i are formed from S' and c1
 * (row.c), so 1 - s_i at the max is never a cancellation.
 *
 * kappa is +inf where the output is 0, NaN, infinite, or below 2^-(2^61) (ORA_BEYOND).
 */
#include <math.h>

#include "ora_internal.h"

static void round53(mpfr_t d, mpfr_srcptr v, ora_kind kind)
{
    if (kind == ORA_APPROX)
        mpfr_set(d, v, MPFR_RNDN);
    else
        mpfr_set_zero(d, 1);
}

/* s = e^(x_j - m) / S for a finite x_j < m (53 bits).  In binary64 when nothing
 * underflows (a > -700, S < 2^1000): a few ulps, enough for a condition number. */
static void tail_prob(ora_cond_row *c, size_t j)
{
    double a = c->r->x[j] - c->r->m;
    if (a > -700 && c->Sd < 0x1p1000) {
        mpfr_set_d(c->s, exp(a) / c->Sd, MPFR_RNDN);
        return;
    }
    mpfr_set_d(c->t, c->r->x[j], MPFR_RNDN);
    mpfr_sub_d(c->t, c->t, c->r->m, MPFR_RNDN);
    mpfr_exp(c->s, c->t, MPFR_RNDN);
    mpfr_div(c->s, c->s, c->S, MPFR_RNDN);
}

void ora_cond_row_init(ora_cond_row *c, ora_row *r)
{
    c->r = r;
    mpfr_inits2(53, c->S, c->s1, c->L, c->Wtail, c->Wmax, c->s, c->om, c->t, c->u, (mpfr_ptr)0);
    mpfr_set(c->S, r->S, MPFR_RNDN);
    c->Sd = mpfr_get_d(c->S, MPFR_RNDN);
    round53(c->s1, r->s1, r->s1_kind);
    round53(c->L, r->L, r->L_kind);
    mpfr_set_zero(c->Wtail, 1);
    for (size_t j = 0; j < r->n; j++) {
        double v = r->x[j];
        if (!(v < r->m) || v == -INFINITY)
            continue;
        tail_prob(c, j);
        mpfr_mul_d(c->u, c->s, fabs(v), MPFR_RNDN);
        mpfr_add(c->Wtail, c->Wtail, c->u, MPFR_RNDN);
    }
    mpfr_set_d(c->Wmax, fabs(r->m), MPFR_RNDN);
    mpfr_mul_ui(c->Wmax, c->Wmax, r->c1, MPFR_RNDN);
    mpfr_div(c->Wmax, c->Wmax, c->S, MPFR_RNDN);
}

void ora_cond_row_clear(ora_cond_row *c)
{
    mpfr_clears(c->S, c->s1, c->L, c->Wtail, c->Wmax, c->s, c->om, c->t, c->u, (mpfr_ptr)0);
}

void ora_cond_prob(ora_cond_row *c, size_t i)
{
    const ora_row *r = c->r;
    double v = r->x[i];
    if (v == -INFINITY) {
        mpfr_set_zero(c->s, 1);
        mpfr_set_ui(c->om, 1, MPFR_RNDN);
    } else if (v == r->m) { /* s = 1/S, 1 - s = (c1 - 1 + S')/S */
        mpfr_ui_div(c->s, 1, c->S, MPFR_RNDN);
        mpfr_add_ui(c->om, c->s1, r->c1 - 1, MPFR_RNDN);
        mpfr_div(c->om, c->om, c->S, MPFR_RNDN);
    } else {                /* s < 1/2: 1 - s has no cancellation */
        tail_prob(c, i);
        mpfr_ui_sub(c->om, 1, c->s, MPFR_RNDN);
    }
}

/* u = |x_i| (1 - s_i) + sum_{j != i} |x_j| s_j, after ora_cond_prob(c, i). */
static void softmax_numerator(ora_cond_row *c, size_t i)
{
    const ora_row *r = c->r;
    double ax = fabs(r->x[i]);
    if (r->x[i] == r->m) { /* sum_{j != i} = Wtail + (c1 - 1)|m|/S */
        mpfr_set_d(c->t, ax, MPFR_RNDN);
        mpfr_mul_ui(c->t, c->t, r->c1 - 1, MPFR_RNDN);
        mpfr_div(c->t, c->t, c->S, MPFR_RNDN);
        mpfr_add(c->t, c->t, c->Wtail, MPFR_RNDN);
    } else {               /* Wtail + Wmax - |x_i| s_i >= 0; the error is relative to
                              the sum, below |x_i| (1 - s_i) as s_i < 1/2 */
        mpfr_mul_d(c->t, c->s, ax, MPFR_RNDN);
        mpfr_sub(c->t, c->Wmax, c->t, MPFR_RNDN);
        mpfr_add(c->t, c->t, c->Wtail, MPFR_RNDN);
        if (mpfr_sgn(c->t) < 0)
            mpfr_set_zero(c->t, 1);
    }
    mpfr_mul_d(c->u, c->om, ax, MPFR_RNDN);
    mpfr_add(c->u, c->u, c->t, MPFR_RNDN);
}

static double ratio(mpfr_srcptr num, mpfr_srcptr den)
{
    if (mpfr_zero_p(den) || !mpfr_number_p(den))
        return INFINITY;
    mpfr_t q;
    mpfr_init2(q, 53);
    mpfr_div(q, num, den, MPFR_RNDN);
    mpfr_abs(q, q, MPFR_RNDN);
    double k = mpfr_get_d(q, MPFR_RNDN); /* overflow: +inf */
    mpfr_clear(q);
    return k;
}

double ora_cond_softmax(ora_cond_row *c, size_t i)
{
    ora_cond_prob(c, i);
    softmax_numerator(c, i);
    return mpfr_get_d(c->u, MPFR_RNDN);
}

double ora_cond_log_softmax(ora_cond_row *c, size_t i, mpfr_srcptr y)
{
    ora_cond_prob(c, i);
    softmax_numerator(c, i);
    return ratio(c->u, y);
}

double ora_cond_logsumexp(ora_cond_row *c, mpfr_srcptr lse)
{
    mpfr_add(c->u, c->Wtail, c->Wmax, MPFR_RNDN); /* sum_j |x_j| s_j */
    return ratio(c->u, lse);
}

double ora_cond_xent(ora_cond_row *c, size_t t, mpfr_srcptr loss)
{
    ora_cond_prob(c, t);
    softmax_numerator(c, t);
    return ratio(c->u, loss);
}

double ora_cond_xent_dense(ora_cond_row *c, const double *p, mpfr_srcptr loss)
{
    const ora_row *r = c->r;
    mpfr_t num;
    mpfr_init2(num, 53);
    mpfr_set_zero(num, 1);
    for (size_t j = 0; j < r->n; j++) {
        if (r->x[j] == -INFINITY)
            continue; /* p_j = 0 there, or the loss is +inf */
        ora_cond_prob(c, j);
        mpfr_sub_d(c->t, c->s, p[j], MPFR_RNDN); /* |x_j| |s_j - p_j| */
        mpfr_abs(c->t, c->t, MPFR_RNDN);
        mpfr_mul_d(c->t, c->t, fabs(r->x[j]), MPFR_RNDN);
        mpfr_add(num, num, c->t, MPFR_RNDN);
        mpfr_set_d(c->t, r->m, MPFR_RNDN); /* p_j |lse - x_j| = p_j (L + m - x_j) */
        mpfr_sub_d(c->t, c->t, r->x[j], MPFR_RNDN);
        mpfr_add(c->t, c->t, c->L, MPFR_RNDN);
        mpfr_mul_d(c->t, c->t, p[j], MPFR_RNDN);
        mpfr_add(num, num, c->t, MPFR_RNDN);
    }
    double k = ratio(num, loss);
    mpfr_clear(num);
    return k;
}

double ora_cond_xent_grad(ora_cond_row *c, size_t i, double p_i, mpfr_srcptr g)
{
    ora_cond_prob(c, i);
    if (c->r->x[i] == -INFINITY) {
        mpfr_set_d(c->u, p_i, MPFR_RNDN);
    } else { /* sum_j |x_j| s_i |d_ij - s_j| = s_i (|x_i| (1 - s_i) + sum_{j != i} |x_j| s_j) */
        softmax_numerator(c, i);
        mpfr_mul(c->u, c->u, c->s, MPFR_RNDN);
        mpfr_add_d(c->u, c->u, p_i, MPFR_RNDN);
    }
    return ratio(c->u, g);
}

double ora_cond_bce(double x, double y, mpfr_srcptr f)
{
    mpfr_t s;
    mpfr_init2(s, 53);
    mpfr_set_d(s, -x, MPFR_RNDN); /* sigma(x) = 1 / (1 + e^-x) */
    mpfr_exp(s, s, MPFR_RNDN);
    mpfr_add_ui(s, s, 1, MPFR_RNDN);
    mpfr_ui_div(s, 1, s, MPFR_RNDN);
    mpfr_sub_d(s, s, y, MPFR_RNDN);
    mpfr_abs(s, s, MPFR_RNDN);
    mpfr_add_d(s, s, fabs(y), MPFR_RNDN); /* |x| (|sigma(x) - y| + |y|) */
    mpfr_mul_d(s, s, fabs(x), MPFR_RNDN);
    double k = ratio(s, f);
    mpfr_clear(s);
    return k;
}

void ora_cond_sum_init(ora_cond_sum *s)
{
    mpfr_inits2(53, s->num, s->den, (mpfr_ptr)0);
    mpfr_set_zero(s->num, 1);
    mpfr_set_zero(s->den, 1);
    s->inf = 0;
}

void ora_cond_sum_add(ora_cond_sum *s, double kappa, mpfr_srcptr loss)
{
    if (mpfr_zero_p(loss))
        return;
    if (!(kappa < INFINITY)) {
        s->inf = 1;
        return;
    }
    mpfr_t t;
    mpfr_init2(t, 53);
    mpfr_abs(t, loss, MPFR_RNDN);
    mpfr_add(s->den, s->den, t, MPFR_RNDN);
    mpfr_mul_d(t, t, kappa, MPFR_RNDN);
    mpfr_add(s->num, s->num, t, MPFR_RNDN);
    mpfr_clear(t);
}

double ora_cond_sum_value(ora_cond_sum *s) { return s->inf ? INFINITY : ratio(s->num, s->den); }

void ora_cond_sum_clear(ora_cond_sum *s) { mpfr_clears(s->num, s->den, (mpfr_ptr)0); }
