/* Exact logsumexp, xent and xent_dense: one value per row, and their sum and mean.
 *
 * Each finite row's value is A_r + T_r (ANALYSIS.md §3.4-§3.6):
 *
 *   logsumexp     m + L
 *   xent          (m - x_t) + L                      both parts >= 0
 *   xent_dense    sum_i p_i (m - x_i) + P L,  P = sum_i p_i (exact; ~1, not 1)
 *
 * with A_r exact.  A reduction adds the exact A_r exactly and the T_r (all >= 0) at a
 * precision that keeps the relative error of the sum that of its terms, then rounds once:
 * sum = (sum A_r) + (sum T_r), mean = (sum A_r)/count + (sum T_r)/count (§3.7).
 */
#include <math.h>
#include <stdlib.h>

#include "ora_internal.h"

typedef struct loss_ctx {
    ug_op op;
    ug_dtype dt;
    const ug_problem *p;
    size_t row;
    ora_row r;
    mpfr_t A, Psum, u;
    ora_term T;
    double *prow;  /* xent_dense: the probabilities of the row, widened */
} loss_ctx;

/* xent_dense on a row with +inf entries (SPECIAL.md rule 4): NaN, +inf or +0. */
static double dense_inf_row(const loss_ctx *c)
{
    int nan = 0, inf = 0;
    for (size_t i = 0; i < c->r.n; i++) {
        if (c->prow[i] == 0)
            continue; /* p_i = 0: the term is exactly 0 whatever x_i is */
        if (c->r.x[i] == INFINITY)
            nan |= c->r.npinf >= 2;
        else
            inf = 1;
    }
    return nan ? NAN : inf ? INFINITY : 0.0;
}

/* The value of a row that is not finite (NaN, +inf entries, every entry masked). */
static double special_value(const loss_ctx *c)
{
    const ora_row *r = &c->r;
    if (r->nnan > 0)
        return NAN;
    if (r->npinf == 0) /* all masked: lse -inf; xent, xent_dense -inf - (-inf) */
        return c->op == UG_OP_LOGSUMEXP ? -INFINITY : NAN;
    switch (c->op) {
    case UG_OP_LOGSUMEXP: return INFINITY;
    case UG_OP_XENT: {
        int64_t t = c->p->target[c->row];
        if (r->x[t] != INFINITY)
            return INFINITY;
        return r->npinf == 1 ? 0.0 : NAN;
    }
    default: return dense_inf_row(c);
    }
}

/* Load the row; returns 1 and *sv when the row's value is a special value, otherwise
 * sets c->A to the exact part A_r (and c->Psum for xent_dense) and returns 0. */
static int row_exact(loss_ctx *c, size_t row, double *sv)
{
    const ug_problem *p = c->p;
    c->row = row;
    ora_row_load(&c->r, c->dt, p->x, row);
    if (c->op == UG_OP_XENT_DENSE)
        for (size_t i = 0; i < p->n; i++)
            c->prow[i] = ug_load(c->dt, p->aux, row * p->n + i);
    if (!ora_row_finite(&c->r)) {
        *sv = special_value(c);
        return 1;
    }
    ora_row *r = &c->r;
    if (c->op == UG_OP_LOGSUMEXP) {
        mpfr_set_prec(c->A, 53);
        mpfr_set_d(c->A, r->m, MPFR_RNDN); /* exact */
        return 0;
    }
    if (c->op == UG_OP_XENT) {
        double xt = r->x[p->target[row]];
        if (xt == -INFINITY) { /* a masked target: +inf (rule 5) */
            *sv = INFINITY;
            return 1;
        }
        ora_sub_exact_d(c->A, r->m, xt); /* m - x_t >= 0, exact */
        return 0;
    }
    /* xent_dense: A = sum_{p_i > 0} p_i (m - x_i), P = sum p_i, both exact */
    mpfr_set_prec(c->A, 2);
    mpfr_set_zero(c->A, 1);
    mpfr_set_prec(c->Psum, 2);
    mpfr_set_zero(c->Psum, 1);
    for (size_t i = 0; i < r->n; i++) {
        double pi = c->prow[i];
        if (pi == 0)
            continue;
        if (r->x[i] == -INFINITY) { /* masked class with probability > 0: +inf (rule 5) */
            *sv = INFINITY;
            return 1;
        }
        ora_sub_exact_d(c->u, r->m, r->x[i]);
        mpfr_prec_round(c->u, mpfr_get_prec(c->u) + 53, MPFR_RNDN);
        mpfr_mul_d(c->u, c->u, pi, MPFR_RNDN); /* exact: prec(m - x_i) + 53 bits */
        ora_add_exact(c->A, c->u);
        mpfr_set_prec(c->u, 53);
        mpfr_set_d(c->u, pi, MPFR_RNDN);
        ora_add_exact(c->Psum, c->u);
    }
    return 0;
}

/* T_r of the loaded finite row at precision P: L, or P L for xent_dense (§3.6). */
static void row_T(loss_ctx *c, mpfr_prec_t P)
{
    ora_row_state(&c->r, P);
    ora_row_term_L(&c->r, 1, &c->T);
    if (c->op != UG_OP_XENT_DENSE || c->T.kind != ORA_APPROX)
        return;
    mpfr_mul(c->T.t, c->T.t, c->Psum, MPFR_RNDN); /* t has P+4 bits: 2^-P + 2^-(P+4) < 2^(1-P) */
    ora_term_rel(&c->T, P);
}

/* kappa of the loaded finite row whose value is approximately `loss`. */
static double row_kappa(loss_ctx *c, mpfr_srcptr loss)
{
    if (mpfr_zero_p(loss) || !mpfr_number_p(loss) || mpfr_get_exp(loss) < -(1L << ORA_BEYOND_LOG2))
        return INFINITY;
    ora_cond_row cr;
    ora_cond_row_init(&cr, &c->r);
    double k;
    if (c->op == UG_OP_LOGSUMEXP)
        k = ora_cond_logsumexp(&cr, loss);
    else if (c->op == UG_OP_XENT)
        k = ora_cond_xent(&cr, (size_t)c->p->target[c->row], loss);
    else
        k = ora_cond_xent_dense(&cr, c->prow, loss);
    ora_cond_row_clear(&cr);
    return k;
}

/* reduction none: one Ziv loop per row */
static ug_status eval_rows(loss_ctx *c, ug_exact *out)
{
    for (size_t row = 0; row < c->p->rows; row++) {
        double sv;
        if (row_exact(c, row, &sv)) {
            ora_set_exact_double(&out[row], sv);
            continue;
        }
        for (mpfr_prec_t P = ORA_P0;; P = ORA_P_NEXT(P)) {
            if (P > ORA_PMAX)
                return ora_fail_cap(ug_op_name(c->op), row);
            row_T(c, P);
            if (ora_finish(c->A, 1, &c->T, c->dt, &out[row]))
                break;
        }
        out[row].kappa = row_kappa(c, out[row].value);
    }
    return UG_OK;
}

/* The sums of one pass over the rows at precision P (§3.7). */
typedef struct loss_sum {
    mpfr_t A;        /* sum A_r, exact                                          */
    ora_term T;      /* sum T_r                                                 */
    size_t nbeyond;  /* rows whose T_r is BEYOND                                */
    ora_cond_sum k;
} loss_sum;

static void sum_row(loss_ctx *c, loss_sum *s, mpfr_prec_t P)
{
    ora_add_exact(s->A, c->A);
    row_T(c, P);
    if (c->T.kind == ORA_BEYOND)
        s->nbeyond++;
    else if (c->T.kind == ORA_APPROX)
        mpfr_add(s->T.t, s->T.t, c->T.t, MPFR_RNDN); /* rows adds: <= 2^-(P+4) relative */
    /* kappa_r |loss_r|, loss_r = A_r + T_r to 53 bits */
    mpfr_t loss;
    mpfr_init2(loss, 53);
    if (c->T.kind == ORA_APPROX)
        mpfr_add(loss, c->A, c->T.t, MPFR_RNDN);
    else
        mpfr_set(loss, c->A, MPFR_RNDN);
    ora_cond_sum_add(&s->k, row_kappa(c, loss), loss);
    mpfr_clear(loss);
}

/* One pass: 1 when decided. */
static int sum_pass(loss_ctx *c, loss_sum *s, mpfr_prec_t P, ug_exact *out)
{
    size_t rows = c->p->rows;
    mpfr_set_prec(s->A, 2);
    mpfr_set_zero(s->A, 1);
    mpfr_set_prec(s->T.t, P + 4 + ora_bits(rows));
    mpfr_set_zero(s->T.t, 1);
    s->nbeyond = 0;
    ora_cond_sum_clear(&s->k);
    ora_cond_sum_init(&s->k);
    for (size_t row = 0; row < rows; row++) {
        double sv;
        if (!row_exact(c, row, &sv))
            sum_row(c, s, P);
    }
    unsigned long B = c->p->reduction == UG_RED_MEAN ? rows : 1;
    if (!mpfr_zero_p(s->T.t)) {
        if (B > 1)
            mpfr_div_ui(s->T.t, s->T.t, B, MPFR_RNDN); /* + 2^-(P+4) */
        ora_term_rel(&s->T, P); /* rel. error <= 2^(1-P) 1.1: the slack bit of §1.3 */
        if (s->nbeyond > 0) {   /* plus rows * 2^-(2^61), far below when t is not tiny */
            mpfr_exp_t eb = -(1L << ORA_BEYOND_LOG2) + ora_bits(rows);
            s->T.err = (s->T.err > eb ? s->T.err : eb) + 1;
            s->T.sign_sure = 1; /* a sum of terms > 0 */
        }
    } else if (s->nbeyond > 0) {
        ora_term_beyond(&s->T, 1);
    } else {
        ora_term_zero(&s->T);
    }
    if (!ora_finish(s->A, B, &s->T, c->dt, out))
        return 0;
    out->kappa = ora_cond_sum_value(&s->k);
    return 1;
}

/* reduction sum or mean: IEEE on the exact row values (rule 9), rounded once */
static ug_status eval_sum(loss_ctx *c, ug_exact *out)
{
    int nan = 0, inf = 0;
    for (size_t row = 0; row < c->p->rows; row++) {
        double sv;
        if (row_exact(c, row, &sv)) {
            nan |= isnan(sv) != 0;
            inf |= sv == INFINITY;
        }
    }
    if (nan || inf) {
        ora_set_exact_double(out, nan ? NAN : INFINITY);
        return UG_OK;
    }
    loss_sum s;
    mpfr_init2(s.A, 2);
    ora_term_init(&s.T);
    ora_cond_sum_init(&s.k);
    ug_status st = UG_OK;
    for (mpfr_prec_t P = ORA_P0;; P = ORA_P_NEXT(P)) {
        if (P > ORA_PMAX) {
            st = ora_fail_cap(ug_op_name(c->op), 0);
            break;
        }
        if (sum_pass(c, &s, P, out))
            break;
    }
    ora_cond_sum_clear(&s.k);
    ora_term_clear(&s.T);
    mpfr_clear(s.A);
    return st;
}

ug_status ora_eval_row_loss(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out)
{
    loss_ctx c = {.op = op, .dt = dt, .p = p};
    ora_row_init(&c.r, p->n);
    c.prow = op == UG_OP_XENT_DENSE ? malloc(p->n * sizeof *c.prow) : NULL;
    if (c.r.x == NULL || (op == UG_OP_XENT_DENSE && c.prow == NULL)) {
        free(c.prow);
        ora_row_clear(&c.r);
        return ora_fail_nomem(p->n);
    }
    mpfr_inits2(64, c.A, c.Psum, c.u, (mpfr_ptr)0);
    ora_term_init(&c.T);
    ug_status s = op != UG_OP_LOGSUMEXP && p->reduction != UG_RED_NONE ? eval_sum(&c, out) : eval_rows(&c, out);
    ora_term_clear(&c.T);
    mpfr_clears(c.A, c.Psum, c.u, (mpfr_ptr)0);
    free(c.prow);
    ora_row_clear(&c.r);
    return s;
}
