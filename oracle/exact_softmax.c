/* Exact softmax, log_softmax and xent_grad (sparse and dense): one output per logit.
 *
 * Each output of a finite row is written v = A/B + T (ANALYSIS.md §3.1-§3.3):
 *
 *   output                       x_i = m (the max)                 x_i < m
 *   softmax_i                    1/c1 - S'/(c1 S)                  0 + e^(a_i)/S
 *   log_softmax_i                a_i - L  (a_i = 0 at the max)     a_i - L
 *   xent_grad_i, i != t          as softmax_i                      as softmax_i
 *   xent_grad_t                  -(c1-1)/c1 - S'/(c1 S)            -1 + e^(a_t)/S
 *   xent_grad dense              (1 - c1 p_i)/c1 - S'/(c1 S)       -p_i + e^(a_i)/S
 *
 * (1/S = 1/c1 - S'/(c1 S) exactly.)  No form subtracts two approximations: the
 * cancellation left (xent_grad dense, s_i ~ p_i) is between an exact A/B and T, which
 * ora_finish handles by raising the working precision.  Masked entries (-inf) and the
 * rows with NaN, +inf or only masks take their values from SPECIAL.md.
 */
#include <math.h>
#include <stdlib.h>

#include "ora_internal.h"

typedef struct sm_ctx {
    ug_op op;
    ug_dtype dt;
    const ug_problem *p;
    size_t row;
    int64_t t;    /* the target of the row, -1 when there is none (dense or not a grad) */
    int dense;    /* xent_grad with probabilities                                      */
    ora_row r;
    mpfr_t A, u;
    ora_term T;
    size_t *pending;
} sm_ctx;

static void set_one_minus(sm_ctx *c, double p, unsigned long c1);

static double prob(const sm_ctx *c, size_t i) { return ug_load(c->dt, c->p->aux, c->row * c->p->n + i); }

/* softmax_i of a row holding k >= 1 entries +inf and no NaN (SPECIAL.md rule 4). */
static double inf_row_softmax(const ora_row *r, size_t i)
{
    if (r->x[i] != INFINITY)
        return 0.0;
    return r->npinf == 1 ? 1.0 : NAN;
}

/* Output i of a row with +inf entries; kappa = 0 for a finite nonzero output that does not
 * depend on the labels (a limit), p_i/|g| for a dense gradient, +inf otherwise. */
static void inf_row_output(sm_ctx *c, size_t i, ug_exact *out)
{
    const ora_row *r = &c->r;
    double s = inf_row_softmax(r, i), v;
    double kappa = 0.0;
    if (c->op == UG_OP_SOFTMAX) {
        v = s;
    } else if (c->op == UG_OP_LOG_SOFTMAX) {
        v = isnan(s) ? NAN : s == 1.0 ? 0.0 : -INFINITY;
    } else if (!c->dense) {
        v = s - (double)((int64_t)i == c->t); /* exact: s in {0, 1} */
    } else {
        double pi = prob(c, i);
        if (s == 1.0 && pi != 0.0 && pi != 1.0) { /* 1 - p_i, exact, rounded once */
            ora_term_zero(&c->T);
            set_one_minus(c, pi, 1);
            ora_finish(c->A, 1, &c->T, c->dt, out);
            out->kappa = pi / mpfr_get_d(out->value, MPFR_RNDN);
            return;
        }
        v = s - pi;
        kappa = pi;
    }
    v = v == 0 ? 0.0 : v; /* exact zeros are +0 (rule 7) */
    ora_set_exact_double(out, v);
    if (isfinite(v) && v != 0)
        out->kappa = c->dense ? kappa / fabs(v) : 0.0;
}

static void special_row(sm_ctx *c, ug_exact *out)
{
    const ora_row *r = &c->r;
    for (size_t i = 0; i < r->n; i++) {
        if (r->nnan > 0 || r->npinf == 0) /* a NaN, or every entry masked: NaN row */
            ora_set_exact_double(&out[i], NAN);
        else
            inf_row_output(c, i, &out[i]);
    }
}

/* A masked output; exact. */
static void masked_output(sm_ctx *c, size_t i, ug_exact *out)
{
    double v = 0.0, kappa = INFINITY;
    if (c->op == UG_OP_LOG_SOFTMAX) {
        v = -INFINITY;
    } else if (c->op == UG_OP_XENT_GRAD) {
        double pi = c->dense ? prob(c, i) : (double)((int64_t)i == c->t);
        v = pi == 0 ? 0.0 : -pi;
        kappa = c->dense ? 1.0 : 0.0; /* |d g / d p_i| p_i / |g| = 1; -1 is constant */
    }
    ora_set_exact_double(out, v);
    if (v != 0 && isfinite(v))
        out->kappa = kappa;
}

/* A = 1 - c1 p exactly. */
static void set_one_minus(sm_ctx *c, double p, unsigned long c1)
{
    mpfr_set_prec(c->u, 53 + 64);
    mpfr_set_d(c->u, p, MPFR_RNDN);
    mpfr_mul_ui(c->u, c->u, c1, MPFR_RNDN); /* exact: 53 + 64 bits */
    mpfr_neg(c->u, c->u, MPFR_RNDN);
    mpfr_set_prec(c->A, 2);
    mpfr_set_ui(c->A, 1, MPFR_RNDN);
    ora_add_exact(c->A, c->u);
}

static void set_A_si(sm_ctx *c, long v)
{
    mpfr_set_prec(c->A, 64);
    mpfr_set_si(c->A, v, MPFR_RNDN);
}

/* A, B, T of output i (unmasked) at the row's current precision; ANALYSIS.md §3. */
static unsigned long build(sm_ctx *c, size_t i)
{
    ora_row *r = &c->r;
    int head = r->x[i] == r->m;
    int is_t = (int64_t)i == c->t;
    if (c->op == UG_OP_LOG_SOFTMAX) {
        ora_row_shift(r, i, c->A); /* a_i exact */
        ora_row_term_L(r, -1, &c->T);
        return 1;
    }
    if (head)
        ora_row_term_head(r, -1, &c->T);
    else
        ora_row_term_tail(r, i, &c->T);
    if (c->dense) {
        double pi = prob(c, i);
        if (head) {
            set_one_minus(c, pi, r->c1);
            return r->c1;
        }
        mpfr_set_prec(c->A, 53);
        mpfr_set_d(c->A, -pi, MPFR_RNDN);
        return 1;
    }
    if (head) {
        set_A_si(c, is_t ? 1 - (long)r->c1 : 1);
        return r->c1;
    }
    set_A_si(c, is_t ? -1 : 0);
    return 1;
}

static double kappa_of(sm_ctx *c, ora_cond_row *cr, size_t i, const ug_exact *o)
{
    if (mpfr_zero_p(o->value) || !mpfr_number_p(o->value) || mpfr_get_exp(o->value) < -(1L << ORA_BEYOND_LOG2))
        return INFINITY;
    switch (c->op) {
    case UG_OP_SOFTMAX: return ora_cond_softmax(cr, i);
    case UG_OP_LOG_SOFTMAX: return ora_cond_log_softmax(cr, i, o->value);
    default: return ora_cond_xent_grad(cr, i, c->dense ? prob(c, i) : 0.0, o->value);
    }
}

/* The Ziv loop of one finite row: every unmasked output decided, then kappa. */
static ug_status finite_row(sm_ctx *c, ug_exact *out)
{
    ora_row *r = &c->r;
    size_t npend = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->x[i] == -INFINITY)
            masked_output(c, i, &out[i]);
        else
            c->pending[npend++] = i;
    }
    for (mpfr_prec_t P = ORA_P0; npend > 0; P = ORA_P_NEXT(P)) {
        if (P > ORA_PMAX)
            return ora_fail_cap(ug_op_name(c->op), c->row);
        ora_row_state(r, P);
        size_t left = 0;
        for (size_t k = 0; k < npend; k++) {
            size_t i = c->pending[k];
            unsigned long B = build(c, i);
            if (!ora_finish(c->A, B, &c->T, c->dt, &out[i]))
                c->pending[left++] = i;
        }
        npend = left;
    }
    ora_cond_row cr;
    ora_cond_row_init(&cr, r);
    for (size_t i = 0; i < r->n; i++)
        if (r->x[i] != -INFINITY)
            out[i].kappa = kappa_of(c, &cr, i, &out[i]);
    ora_cond_row_clear(&cr);
    return UG_OK;
}

ug_status ora_eval_softmax_like(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out)
{
    sm_ctx c = {.op = op, .dt = dt, .p = p, .t = -1};
    c.dense = op == UG_OP_XENT_GRAD && p->target == NULL;
    ora_row_init(&c.r, p->n);
    c.r.want_cache = op != UG_OP_LOG_SOFTMAX;
    c.pending = malloc(p->n * sizeof *c.pending);
    if (c.r.x == NULL || c.pending == NULL) {
        free(c.pending);
        ora_row_clear(&c.r);
        return ora_fail_nomem(p->n);
    }
    mpfr_inits2(64, c.A, c.u, (mpfr_ptr)0);
    ora_term_init(&c.T);
    ug_status s = UG_OK;
    for (size_t row = 0; row < p->rows && s == UG_OK; row++) {
        c.row = row;
        c.t = op == UG_OP_XENT_GRAD && !c.dense ? p->target[row] : -1;
        ora_row_load(&c.r, dt, p->x, row);
        ug_exact *o = out + row * p->n;
        if (!ora_row_finite(&c.r))
            special_row(&c, o);
        else
            s = finite_row(&c, o);
    }
    ora_term_clear(&c.T);
    mpfr_clears(c.A, c.u, (mpfr_ptr)0);
    free(c.pending);
    ora_row_clear(&c.r);
    return s;
}
