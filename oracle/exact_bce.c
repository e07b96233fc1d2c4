/* Exact bce_logits, elementwise, and its sum and mean over all rows x n elements.
 *
 *     f(x, y) = y log(1 + e^-x) + (1 - y) log(1 + e^x)
 *             = A + T,   A = max(x, 0) - x y  (exact),   T = log1p(e^-|x|) > 0
 *
 * (x > 0: log(1 + e^x) = x + log1p(e^-x); x <= 0: log(1 + e^-x) = -x + log1p(e^x).)
 * A >= 0 and T > 0: no cancellation (ANALYSIS.md §3.8).  Infinite x follow SPECIAL.md
 * rule 6: a term whose coefficient is 0 is exactly 0.
 */
#include <math.h>
#include <string.h>

#include "ora_internal.h"

typedef struct bce_ctx {
    ug_dtype dt;
    const ug_problem *p;
    mpfr_t A, u;
    ora_term T;
} bce_ctx;

/* f at an infinite or NaN x (rules 1 and 6). */
static double special_value(double x, double y)
{
    if (isnan(x))
        return NAN;
    if (x == INFINITY)
        return y == 1 ? 0.0 : INFINITY;
    return y == 0 ? 0.0 : INFINITY;
}

/* A = max(x, 0) - x y exactly (finite x). */
static void exact_part(bce_ctx *c, double x, double y)
{
    mpfr_set_prec(c->u, 106);
    mpfr_set_d(c->u, x, MPFR_RNDN);
    mpfr_mul_d(c->u, c->u, y, MPFR_RNDN); /* exact: 53 + 53 bits */
    mpfr_neg(c->u, c->u, MPFR_RNDN);
    mpfr_set_prec(c->A, 53);
    mpfr_set_d(c->A, x > 0 ? x : 0.0, MPFR_RNDN);
    ora_add_exact(c->A, c->u);
    if (mpfr_zero_p(c->A))
        mpfr_set_zero(c->A, 1);
}

/* T = log1p(e^-|x|) at precision P (§3.8). */
static void term(bce_ctx *c, double x, mpfr_prec_t P)
{
    double ax = fabs(x);
    if (ax > 0x1p61) { /* T < e^-|x| < 2^-(2^61): BEYOND (§1.5) */
        ora_term_beyond(&c->T, 1);
        return;
    }
    mpfr_set_prec(c->T.t, P + 4);
    mpfr_set_d(c->T.t, -ax, MPFR_RNDN);          /* exact */
    mpfr_exp(c->T.t, c->T.t, MPFR_RNDN);         /* e^-|x| (1 + d), |d| <= 2^-(P+4)       */
    mpfr_log1p(c->T.t, c->T.t, MPFR_RNDN);       /* d passes with factor <= 1; + 2^-(P+4) */
    ora_term_rel(&c->T, P);                       /* rel. error <= 2^-(P+2) < 2^(1-P)      */
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static double load(const bce_ctx *c, const void *a, size_t k) { return ug_load(c->dt, a, k); }

static ug_status eval_elems(bce_ctx *c, ug_exact *out)
{
    size_t count = c->p->rows * c->p->n;
    for (size_t k = 0; k < count; k++) {
        double x = load(c, c->p->x, k), y = load(c, c->p->aux, k);
        if (!isfinite(x)) {
            ora_set_exact_double(&out[k], special_value(x, y));
            continue;
        }
        /* f is a function of (x, y) alone: an element equal to the one before it (the
         * same binary64 bits: long regular rows, equal_large) gets a copy of its answer,
         * bit for bit what the Ziv loop would give again. */
        if (k > 0 && same_bits(x, load(c, c->p->x, k - 1)) && same_bits(y, load(c, c->p->aux, k - 1))) {
            out[k].rounded = out[k - 1].rounded;
            mpfr_set(out[k].value, out[k - 1].value, MPFR_RNDN); /* same precision: exact */
            out[k].kappa = out[k - 1].kappa;
            continue;
        }
        exact_part(c, x, y);
        for (mpfr_prec_t P = ORA_P0;; P = ORA_P_NEXT(P)) {
            if (P > ORA_PMAX)
                return ora_fail_cap("bce_logits", k / c->p->n);
            term(c, x, P);
            if (ora_finish(c->A, 1, &c->T, c->dt, &out[k]))
                break;
        }
        out[k].kappa = ora_cond_bce(x, y, out[k].value);
    }
    return UG_OK;
}

/* One pass of the sum at precision P (§3.7): 1 when decided. */
static int sum_pass(bce_ctx *c, mpfr_prec_t P, ug_exact *out)
{
    size_t count = c->p->rows * c->p->n;
    mpfr_t A, loss;
    ora_term S;
    ora_cond_sum ks;
    mpfr_init2(A, 2);
    mpfr_set_zero(A, 1);
    mpfr_init2(loss, 53);
    ora_term_init(&S);
    ora_cond_sum_init(&ks);
    mpfr_set_prec(S.t, P + 4 + ora_bits(count));
    mpfr_set_zero(S.t, 1);
    size_t nbeyond = 0;
    int have_prev = 0;
    double px = 0, py = 0, kc = 0;
    for (size_t k = 0; k < count; k++) {
        double x = load(c, c->p->x, k), y = load(c, c->p->aux, k);
        if (!isfinite(x))
            continue; /* special values are +0 here: NaN and +inf were handled */
        /* A, T, the loss and its kappa are functions of (x, y) and P alone: an element
         * equal to the last finite one (long regular rows) reuses them, the same bits. */
        if (!have_prev || !same_bits(x, px) || !same_bits(y, py)) {
            exact_part(c, x, y);
            term(c, x, P);
            if (c->T.kind == ORA_BEYOND)
                mpfr_set(loss, c->A, MPFR_RNDN);
            else
                mpfr_add(loss, c->A, c->T.t, MPFR_RNDN);
            kc = ora_cond_bce(x, y, loss);
            have_prev = 1, px = x, py = y;
        }
        ora_add_exact(A, c->A);
        if (c->T.kind == ORA_BEYOND)
            nbeyond++;
        else
            mpfr_add(S.t, S.t, c->T.t, MPFR_RNDN); /* count adds: <= 2^-(P+4) relative */
        ora_cond_sum_add(&ks, kc, loss);
    }
    unsigned long B = c->p->reduction == UG_RED_MEAN ? count : 1;
    if (!mpfr_zero_p(S.t)) {
        if (B > 1)
            mpfr_div_ui(S.t, S.t, B, MPFR_RNDN);
        ora_term_rel(&S, P);
        if (nbeyond > 0) {
            mpfr_exp_t eb = -(1L << ORA_BEYOND_LOG2) + ora_bits(count);
            S.err = (S.err > eb ? S.err : eb) + 1;
            S.sign_sure = 1; /* a sum of terms > 0 */
        }
    } else {
        ora_term_beyond(&S, 1); /* every T BEYOND (there is at least one finite x) */
    }
    int ok = ora_finish(A, B, &S, c->dt, out);
    if (ok)
        out->kappa = ora_cond_sum_value(&ks);
    ora_cond_sum_clear(&ks);
    ora_term_clear(&S);
    mpfr_clears(A, loss, (mpfr_ptr)0);
    return ok;
}

static ug_status eval_sum(bce_ctx *c, ug_exact *out)
{
    size_t count = c->p->rows * c->p->n;
    int nan = 0, inf = 0, finite = 0;
    for (size_t k = 0; k < count; k++) {
        double x = load(c, c->p->x, k), y = load(c, c->p->aux, k);
        if (isfinite(x)) {
            finite = 1;
            continue;
        }
        double v = special_value(x, y);
        nan |= isnan(v) != 0;
        inf |= v == INFINITY;
    }
    if (nan || inf || !finite) { /* rule 9; every x infinite with f = +0: exactly +0 */
        ora_set_exact_double(out, nan ? NAN : inf ? INFINITY : 0.0);
        return UG_OK;
    }
    for (mpfr_prec_t P = ORA_P0;; P = ORA_P_NEXT(P)) {
        if (P > ORA_PMAX)
            return ora_fail_cap("bce_logits", 0);
        if (sum_pass(c, P, out))
            return UG_OK;
    }
}

ug_status ora_eval_bce(ug_dtype dt, const ug_problem *p, ug_exact *out)
{
    bce_ctx c = {.dt = dt, .p = p};
    mpfr_inits2(64, c.A, c.u, (mpfr_ptr)0);
    ora_term_init(&c.T);
    ug_status s = p->reduction == UG_RED_NONE ? eval_elems(&c, out) : eval_sum(&c, out);
    ora_term_clear(&c.T);
    mpfr_clears(c.A, c.u, (mpfr_ptr)0);
    return s;
}
