/* Relations between two ops: the kernel under test and each of its partners, every
 * non-canary kernel of the other op in the same dtype (a canary is never a partner: it
 * would blame the kernel under test for its own errors).  Each relation holds between
 * the exact values; with the two claims it becomes a bound on the computed ones.
 *
 *   log_softmax_equals_x_minus_logsumexp   log_softmax(x)_i = x_i - logsumexp(x)
 *   xent_equals_logsumexp_minus_target     xent(x, t) = logsumexp(x) - x_t
 *   sparse_xent_equals_dense_on_one_hot    xent(x, t) = xent_dense(x, e_t)
 *   gradient_equals_softmax_minus_onehot   xent_grad(x, t)_i = softmax(x)_i - [i = t]
 *                                          xent_grad(x, p)_i = softmax(x)_i - p_i
 *
 * Each runs for a kernel of either op of its pair.  Rows: every family's rows for the
 * first op of the pair (seed 3, at most ROWS per family, n <= MAX_N), given to the
 * second op with the same logits (targets become one-hot probability rows). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "generic.h"

enum { SEED = 3, ROWS = 8, MAX_N = 4096 };
#define PREC (PROP_EXACT_PREC + 64)

/* One pair of calls on the same row. */
typedef struct pair_run {
    const ug_kernel *ka, *kb;   /* the kernels of the first and second op */
    const prop_case *ca, *cb;
    const double *ya, *ba, *yb, *bb;
} pair_run;

typedef void (*pair_check)(prop_report *r, const pair_run *p);

static void fail_pair(prop_report *r, const pair_run *p, const char *fmt, double a, double b, double ratio)
{
    char row[3072], msg[256];
    prop_fmt_row(row, sizeof row, p->ca, 0);
    snprintf(msg, sizeof msg, fmt, a, b);
    prop_fail(r, "%s with %s: %s (%.4g times the allowance); row: %s", p->ka->name, p->kb->name, msg, ratio, row);
}

/* ================================================================ y against an exact D
 *
 * y approximates v with |y - v| <= b U(y, b), and |v - D| <= extra (the partner's
 * allowance): |y - D| <= b U(y, b) + extra.  An infinite y is right only where v rounds to
 * it, and v is within extra of D: y = -inf needs round(D - extra) = -inf, y = +inf needs
 * round(D + extra) = +inf.  A NaN D (an exact NaN) needs a NaN y. */
static int near_exact(ug_dtype dt, double y, double b, mpfr_srcptr D, mpfr_srcptr extra, double *ratio)
{
    *ratio = INFINITY;
    if (mpfr_nan_p(D) || isnan(y))
        return mpfr_nan_p(D) && isnan(y) ? (*ratio = 0, 1) : 0;
    mpfr_t t, d;
    mpfr_inits2(PREC, t, d, (mpfr_ptr)0);
    int ok;
    if (isinf(y)) {
        if (y < 0)
            mpfr_sub(t, D, extra, MPFR_RNDD);
        else
            mpfr_add(t, D, extra, MPFR_RNDU);
        ok = ug_same_bits(dt, ug_oracle_round(t, dt), y);
        *ratio = ok ? 0 : INFINITY;
    } else if (!mpfr_number_p(D)) {
        ok = 0;
    } else {
        mpfr_set(t, extra, MPFR_RNDU);
        prop_allowance_add(t, dt, y, b, 1);
        mpfr_set_d(d, y, MPFR_RNDN);
        mpfr_sub(d, d, D, MPFR_RNDN); /* exact at PREC */
        mpfr_abs(d, d, MPFR_RNDN);
        ok = mpfr_lessequal_p(d, t);
        *ratio = mpfr_zero_p(d) ? 0 : mpfr_zero_p(t) ? INFINITY : mpfr_get_d(d, MPFR_RNDU) / mpfr_get_d(t, MPFR_RNDD);
    }
    mpfr_clears(t, d, (mpfr_ptr)0);
    return ok;
}

/* extra = b U(y, b) of the partner's output. */
static void partner_allowance(mpfr_t extra, ug_dtype dt, double y, double b)
{
    mpfr_set_zero(extra, 1);
    if (isfinite(y))
        prop_allowance_add(extra, dt, y, b, 1);
}

/* ================================================================ the pair runner */

static int is_partner(const ug_kernel *c, const ug_kernel *k, ug_op op)
{
    return c->op == op && c->dtype == k->dtype && c->role != UG_ROLE_CANARY && ug_kernel_available(c);
}

static void run_row(prop_report *r, const ug_kernel *ka, const ug_kernel *kb, const prop_case *ca, pair_check check)
{
    prop_case *cb = prop_case_for_op(ca, kb->op);
    double *ba = NULL, *bb = NULL;
    double *ya = prop_run_case(ka, r, ca, UG_RED_NONE, &ba);
    double *yb = ya ? prop_run_case(kb, r, cb, UG_RED_NONE, &bb) : NULL;
    if (yb != NULL) {
        pair_run p = {ka, kb, ca, cb, ya, ba, yb, bb};
        check(r, &p);
    }
    free(ya), free(yb), free(ba), free(bb);
    prop_case_free(cb);
}

/* k against every partner: k is of op_a or op_b; rows are generated for op_a. */
static void run_pairs(const ug_kernel *k, prop_report *r, ug_op op_a, ug_op op_b, pair_check check)
{
    const ug_op ops[2] = {op_a, op_b};
    if (prop_skip_canary(r) || prop_skip_unless_op(r, ops, 2, "a relation between two other ops"))
        return;
    r->worst_what = "of the allowance";
    ug_op other = k->op == op_a ? op_b : op_a;
    prop_cases rows;
    prop_family_rows(op_a, k->dtype, SEED, prop_rows(r, ROWS), prop_max_n(r, MAX_N), prop_n(r), &rows);
    size_t partners = 0;
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *c = ug_kernel_at(i);
        if (!is_partner(c, k, other))
            continue;
        partners++;
        for (size_t j = 0; j < rows.count && !prop_done(r); j++)
            run_row(r, k->op == op_a ? k : c, k->op == op_a ? c : k, rows.items[j], check);
    }
    prop_cases_free(&rows);
    if (partners == 0)
        prop_skip(r, "no non-canary %s kernel in %s to pair with", ug_op_name(other), ug_dtype_name(k->dtype));
}

/* ================================================================ log_softmax, logsumexp
 *
 * With lse computed as l (claim b_l, so |l - lse| <= b_l U(l, b_l)) and D_i = x_i - l
 * formed exactly: v_i = x_i - lse = D_i + (l - lse), so |v_i - D_i| <= b_l U(l, b_l) and
 * near_exact applies.  Rows of the class "fin" (masked entries: D = -inf). */
static void check_ls_lse(prop_report *r, const pair_run *p)
{
    if (prop_row_kind_of(p->ca->x, p->ca->n) != PROP_ROW_FINITE)
        return;
    mpfr_t D, extra;
    mpfr_init2(D, PREC);
    mpfr_init2(extra, 64);
    partner_allowance(extra, p->ca->dt, p->yb[0], p->bb[0]);
    for (size_t i = 0; i < p->ca->n && !prop_done(r); i++) {
        double ratio;
        mpfr_set_d(D, p->ca->x[i], MPFR_RNDN);
        mpfr_sub_d(D, D, p->yb[0], MPFR_RNDN); /* exact */
        r->checked++;
        if (!near_exact(p->ca->dt, p->ya[i], p->ba[i], D, extra, &ratio))
            fail_pair(r, p, "log_softmax is %a where x - logsumexp is exactly %a (rounded)", p->ya[i],
                      mpfr_get_d(D, MPFR_RNDN), ratio);
        prop_seen(r, ratio, "%s output %zu", p->ca->origin, i);
    }
    mpfr_clears(D, extra, (mpfr_ptr)0);
}

void prop_log_softmax_equals_x_minus_logsumexp(const ug_kernel *k, prop_report *r)
{
    run_pairs(k, r, UG_OP_LOG_SOFTMAX, UG_OP_LOGSUMEXP, check_ls_lse);
}

/* xent(x, t) = lse - x_t: D = l - x_t exactly, |v - D| <= b_l U(l, b_l). */
static void check_xent_lse(prop_report *r, const pair_run *p)
{
    if (prop_row_kind_of(p->ca->x, p->ca->n) != PROP_ROW_FINITE)
        return;
    mpfr_t D, extra;
    mpfr_init2(D, PREC);
    mpfr_init2(extra, 64);
    partner_allowance(extra, p->ca->dt, p->yb[0], p->bb[0]);
    mpfr_set_d(D, p->yb[0], MPFR_RNDN);
    mpfr_sub_d(D, D, p->ca->x[p->ca->target[0]], MPFR_RNDN);
    double ratio;
    r->checked++;
    if (!near_exact(p->ca->dt, p->ya[0], p->ba[0], D, extra, &ratio))
        fail_pair(r, p, "xent is %a where logsumexp - x_t is exactly %a (rounded)", p->ya[0], mpfr_get_d(D, MPFR_RNDN),
                  ratio);
    prop_seen(r, ratio, "%s", p->ca->origin);
    mpfr_clears(D, extra, (mpfr_ptr)0);
}

void prop_xent_equals_logsumexp_minus_target(const ug_kernel *k, prop_report *r)
{
    run_pairs(k, r, UG_OP_XENT, UG_OP_LOGSUMEXP, check_xent_lse);
}

/* ================================================================ sparse and dense xent
 *
 * xent(x, t) and xent_dense(x, e_t) have the same exact value in every row, the special
 * ones included (SPECIAL.md: a masked target costs +inf in both; one +inf logit at the
 * target costs +0 in both): generic.h (4) with delta = 0. */
static void check_sparse_dense(prop_report *r, const pair_run *p)
{
    double ratio;
    int ok = prop_close(p->ca->dt, p->ya[0], p->ba[0], p->yb[0], p->bb[0], NULL, &ratio);
    r->checked++;
    if (!ok)
        fail_pair(r, p, "sparse %a, dense on the one-hot row %a", p->ya[0], p->yb[0], ratio);
    prop_seen(r, ratio, "%s", p->ca->origin);
}

void prop_sparse_xent_equals_dense_on_one_hot(const ug_kernel *k, prop_report *r)
{
    run_pairs(k, r, UG_OP_XENT, UG_OP_XENT_DENSE, check_sparse_dense);
}

/* ================================================================ gradient and softmax
 *
 * g_i = s_i - [i = t] (sparse) or s_i - p_i (dense): with s_i computed by the partner
 * (claim b_s), D_i = s_i - [i = t] (or - p_i) formed exactly is within b_s U(s_i, b_s)
 * of the exact g_i: near_exact.  Rows of the class "fin". */
static void check_grad_softmax(prop_report *r, const pair_run *p)
{
    if (prop_row_kind_of(p->ca->x, p->ca->n) != PROP_ROW_FINITE)
        return;
    mpfr_t D, extra;
    mpfr_init2(D, PREC);
    mpfr_init2(extra, 64);
    for (size_t i = 0; i < p->ca->n && !prop_done(r); i++) {
        double ratio, label = p->ca->target != NULL ? (double)((int64_t)i == p->ca->target[0]) : p->ca->aux[i];
        partner_allowance(extra, p->ca->dt, p->yb[i], p->bb[i]);
        mpfr_set_d(D, p->yb[i], MPFR_RNDN);
        mpfr_sub_d(D, D, label, MPFR_RNDN);
        r->checked++;
        if (!near_exact(p->ca->dt, p->ya[i], p->ba[i], D, extra, &ratio))
            fail_pair(r, p, "the gradient is %a where softmax - label is exactly %a (rounded)", p->ya[i],
                      mpfr_get_d(D, MPFR_RNDN), ratio);
        prop_seen(r, ratio, "%s output %zu", p->ca->origin, i);
    }
    mpfr_clears(D, extra, (mpfr_ptr)0);
}

void prop_gradient_equals_softmax_minus_onehot(const ug_kernel *k, prop_report *r)
{
    run_pairs(k, r, UG_OP_XENT_GRAD, UG_OP_SOFTMAX, check_grad_softmax);
}
