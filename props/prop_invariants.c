/* Invariants: what the outputs of one call must satisfy, with bounds derived from the
 * kernel's claim (generic.h, (3) and (5)), without the oracle except for kappa where the
 * claim has a kappa term.  Rows: every family's rows for the kernel's op and dtype, seed
 * 3 (the accuracy tests use 2, test_judge 1), at most ROWS rows per family and rows of
 * length at most MAX_N (props/slow_prop_large_n.c runs them at n = 10^5).  Only rows of
 * the class "fin" of SPECIAL.md (finite or -inf entries, one finite at least) are
 * measured here; the other classes are exact special values (prop_special.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "generic.h"

enum { SEED = 3, ROWS = 8, MAX_N = 4096 };

/* Exact values in MPFR: enough bits for differences of doubles times a double. */
#define PREC (PROP_EXACT_PREC + 200)

/* ================================================================ outputs_in_range
 *
 * For each output the exact value v lies in an interval [lo, hi] computed exactly from
 * the row (m = the row max, k = the number of finite entries, L = log sum_j e^(x_j - m) in
 * [0, log k], lse = m + L):
 *   softmax      [0, 1]
 *   log_softmax  x_i - lse in [x_i - m - log k, x_i - m]       (so <= 0); -inf if masked
 *   logsumexp    [m, m + log k]
 *   xent         lse - x_t in [m - x_t, m - x_t + log k]       (so >= 0); +inf if x_t masked
 *   xent_dense   sum_{p_i > 0} p_i (lse - x_i) in [A, A + (sum p) log k], A = sum p_i (m - x_i);
 *                +inf if some p_i > 0 sits on a mask
 *   xent_grad    sparse: [0, 1] off the target, [-1, 0] at it; dense: [-p_i, 1 - p_i]
 *   bce_logits   a + log1p(e^-|x|) in [a, a + log 2], a = max(x, 0) - x y   (so >= 0)
 * With |y - v| <= b ulp(v) <= b U(y, b) (generic.h (3)):
 *     lo - b U(y, b) <= y <= hi + b U(y, b).
 * An infinite y is right only where v rounds to it; rounding is monotone and v is in
 * [lo, hi], so y = -inf needs round(lo) = -inf and y = +inf needs round(hi) = +inf.  NaN
 * is never in range for these rows.  The figure printed is how far y goes outside
 * [lo, hi] in units of b U(y, b) (0 inside; a failure is > 1). */

typedef struct range {
    mpfr_t lo, hi, t;
} range;

static void range_init(range *g)
{
    mpfr_inits2(PREC, g->lo, g->hi, (mpfr_ptr)0);
    mpfr_init2(g->t, 64);
}

static void range_clear(range *g) { mpfr_clears(g->lo, g->hi, g->t, (mpfr_ptr)0); }

/* 1 when y is in [lo - b U, hi + b U] (or an infinity the interval allows); *excess. */
static int in_range(ug_dtype dt, double y, double b, range *g, double *excess)
{
    *excess = INFINITY;
    if (isnan(y))
        return 0;
    if (isinf(y)) {
        mpfr_srcptr end = y < 0 ? g->lo : g->hi;
        int ok = ug_same_bits(dt, ug_oracle_round(end, dt), y);
        *excess = ok ? 0 : INFINITY;
        return ok;
    }
    if (!mpfr_number_p(g->lo) && !mpfr_number_p(g->hi) && mpfr_cmp(g->lo, g->hi) == 0)
        return 0; /* the exact value is an infinity and y is finite */
    prop_ulp_upper(g->t, dt, y, b);
    mpfr_mul_d(g->t, g->t, b, MPFR_RNDU);
    mpfr_t out;
    mpfr_init2(out, PREC);
    mpfr_set_zero(out, 1);
    if (mpfr_cmp_d(g->lo, y) > 0)
        mpfr_d_sub(out, y, g->lo, MPFR_RNDN), mpfr_neg(out, out, MPFR_RNDN); /* lo - y */
    else if (mpfr_cmp_d(g->hi, y) < 0)
        mpfr_sub_d(out, g->hi, y, MPFR_RNDN), mpfr_neg(out, out, MPFR_RNDN); /* y - hi */
    int ok = mpfr_lessequal_p(out, g->t);
    mpfr_div(out, out, g->t, MPFR_RNDU);
    *excess = mpfr_zero_p(out) ? 0 : mpfr_get_d(out, MPFR_RNDU);
    mpfr_clear(out);
    return ok;
}

/* The max and the number of finite entries of row 0 of c. */
static double row_max(const prop_case *c, size_t *finite)
{
    double m = -INFINITY;
    *finite = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (isfinite(c->x[i])) {
            *finite += 1;
            m = c->x[i] > m ? c->x[i] : m;
        }
    }
    return m;
}

/* lo = a, hi = a + w log k (w >= 0; log k rounded up). */
static void with_log(range *g, mpfr_srcptr a, double w, size_t k)
{
    mpfr_set(g->lo, a, MPFR_RNDD);
    mpfr_set_ui(g->hi, (unsigned long)k, MPFR_RNDU);
    mpfr_log(g->hi, g->hi, MPFR_RNDU);
    mpfr_mul_d(g->hi, g->hi, w, MPFR_RNDU);
    mpfr_add(g->hi, g->hi, a, MPFR_RNDU);
}

static void set_interval(range *g, double lo, double hi)
{
    mpfr_set_d(g->lo, lo, MPFR_RNDD);
    mpfr_set_d(g->hi, hi, MPFR_RNDU);
}

/* a = sum_{p_i > 0} p_i (m - x_i) exactly; returns -1 when some p_i > 0 is on a mask. */
static int dense_floor(const prop_case *c, double m, mpfr_t a, double *psum)
{
    mpfr_t t;
    mpfr_init2(t, PREC);
    mpfr_set_zero(a, 1);
    *psum = 0;
    int masked = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (!(c->aux[i] > 0))
            continue;
        *psum += c->aux[i];
        masked |= prop_is_mask(c->x[i]);
        if (!isfinite(c->x[i]))
            continue;
        mpfr_set_d(t, m, MPFR_RNDN);
        mpfr_sub_d(t, t, c->x[i], MPFR_RNDN);
        mpfr_mul_d(t, t, c->aux[i], MPFR_RNDN);
        mpfr_add(a, a, t, MPFR_RNDN);
    }
    *psum *= 1 + 0x1p-40; /* an upper bound for sum p, only used as the weight of log k */
    mpfr_clear(t);
    return masked ? -1 : 0;
}

/* The interval of output i of row 0 of c (a FINITE row). */
static void interval_of(const prop_case *c, size_t i, double m, size_t k, range *g)
{
    mpfr_t a;
    mpfr_init2(a, PREC);
    double x = c->x[i], psum;
    switch (c->op) {
    case UG_OP_SOFTMAX: set_interval(g, 0, 1); break;
    case UG_OP_LOG_SOFTMAX:
        if (prop_is_mask(x)) {
            set_interval(g, -INFINITY, -INFINITY);
            break;
        }
        mpfr_set_d(a, x, MPFR_RNDN);
        mpfr_sub_d(a, a, m, MPFR_RNDN); /* x_i - m, exact */
        mpfr_set_ui(g->lo, (unsigned long)k, MPFR_RNDN);
        mpfr_log(g->lo, g->lo, MPFR_RNDU);
        mpfr_sub(g->lo, a, g->lo, MPFR_RNDD);
        mpfr_set(g->hi, a, MPFR_RNDU);
        break;
    case UG_OP_LOGSUMEXP:
        mpfr_set_d(a, m, MPFR_RNDN);
        with_log(g, a, 1, k);
        break;
    case UG_OP_XENT:
        if (prop_is_mask(c->x[c->target[0]])) {
            set_interval(g, INFINITY, INFINITY);
            break;
        }
        mpfr_set_d(a, m, MPFR_RNDN);
        mpfr_sub_d(a, a, c->x[c->target[0]], MPFR_RNDN);
        with_log(g, a, 1, k);
        break;
    case UG_OP_XENT_DENSE:
        if (dense_floor(c, m, a, &psum) < 0)
            set_interval(g, INFINITY, INFINITY);
        else
            with_log(g, a, psum, k);
        break;
    case UG_OP_XENT_GRAD:
        if (c->target != NULL)
            set_interval(g, (int64_t)i == c->target[0] ? -1 : 0, (int64_t)i == c->target[0] ? 0 : 1);
        else {
            mpfr_set_d(g->lo, -c->aux[i], MPFR_RNDN);
            mpfr_set_d(g->hi, c->aux[i], MPFR_RNDN);
            mpfr_ui_sub(g->hi, 1, g->hi, MPFR_RNDN); /* 1 - p_i, exact at PREC bits */
        }
        break;
    default: break;
    }
    mpfr_clear(a);
}

/* bce: [a, a + log 2] for element i, a = max(x, 0) - x y. */
static void bce_interval(const prop_case *c, size_t i, range *g)
{
    mpfr_t a;
    mpfr_init2(a, PREC);
    double x = c->x[i], y = c->aux[i];
    mpfr_set_d(a, x, MPFR_RNDN);
    mpfr_mul_d(a, a, y, MPFR_RNDN);             /* x y, exact */
    mpfr_d_sub(a, x > 0 ? x : 0, a, MPFR_RNDN); /* max(x, 0) - x y, exact */
    with_log(g, a, 1, 2);
    mpfr_clear(a);
}

static void check_range(const ug_kernel *k, prop_report *r, const prop_case *c, const double *y, const double *b)
{
    int bce = c->op == UG_OP_BCE_LOGITS;
    if (!bce && prop_row_kind_of(c->x, c->n) != PROP_ROW_FINITE)
        return;
    size_t finite, count = prop_outputs(c, UG_RED_NONE);
    double m = row_max(c, &finite);
    range g;
    range_init(&g);
    for (size_t i = 0; i < count; i++) {
        if (bce && !isfinite(c->x[i]))
            continue;
        if (bce)
            bce_interval(c, i, &g);
        else
            interval_of(c, i, m, finite, &g);
        double excess;
        r->checked++;
        if (!in_range(k->dtype, y[i], b[i], &g, &excess)) {
            char row[3072];
            prop_fmt_row(row, sizeof row, c, 0);
            prop_fail(r, "output %zu = %a (bound %.4g ULP) is outside [%.17g, %.17g] by %.4g times the allowance; "
                      "row: %s", i, y[i], b[i], mpfr_get_d(g.lo, MPFR_RNDD), mpfr_get_d(g.hi, MPFR_RNDU), excess, row);
        }
        prop_seen(r, excess, "%s output %zu", c->origin, i);
    }
    range_clear(&g);
}

void prop_outputs_in_range(const ug_kernel *k, prop_report *r)
{
    if (prop_skip_canary(r))
        return;
    r->worst_what = "times the allowance outside the exact range";
    prop_each_row(k, r, SEED, ROWS, MAX_N, check_range);
}

/* ================================================================ sums
 *
 * softmax: sum_i v_i = 1 exactly; by (5) |sum_i y_i - 1| <= sum_i b_i U(y_i, b_i), the
 * sum of the y_i formed exactly in MPFR.  For a claim of b ULP and no subnormal outputs
 * the allowance is about b 2^(1-p) sum y_i ~ b 2^(1-p): the sum is within b ULP of 1.
 *
 * xent_grad: sum_i v_i = sum_i s_i - sum_i [i = t] = 0 (sparse, the target masked or not)
 * or 1 - sum_i p_i (dense, p as given, summed exactly); the same (5).  The claim's kappa
 * term comes from the oracle; where an output's kappa is +inf (an exact zero gradient)
 * its allowance is infinite and the row is not measured (not counted as checked). */

static void check_sum(const ug_kernel *k, prop_report *r, const prop_case *c, const double *y, const double *b)
{
    if (prop_row_kind_of(c->x, c->n) != PROP_ROW_FINITE)
        return;
    mpfr_t S;
    mpfr_init2(S, PROP_EXACT_PREC);
    mpfr_set_ui(S, c->op == UG_OP_SOFTMAX || c->target == NULL ? 1 : 0, MPFR_RNDN);
    for (size_t i = 0; c->op == UG_OP_XENT_GRAD && c->target == NULL && i < c->n; i++)
        mpfr_sub_d(S, S, c->aux[i], MPFR_RNDN); /* 1 - sum p, exact */
    if (c->op == UG_OP_XENT_GRAD && c->target != NULL)
        mpfr_set_zero(S, 1);
    double ratio, diff;
    int ok = prop_sum_within(k->dtype, y, b, c->n, S, &ratio, &diff);
    if (!isinf(ratio) || !ok) {
        r->checked++;
        if (!ok) {
            char row[3072];
            prop_fmt_row(row, sizeof row, c, 0);
            prop_fail(r, "the outputs sum to %.17g %+a (exactly), %.4g times the allowance of the claim; row: %s",
                      mpfr_get_d(S, MPFR_RNDN), diff, ratio, row);
        }
        prop_seen(r, ratio, "%s", c->origin);
    }
    mpfr_clear(S);
}

void prop_softmax_rows_sum_to_one(const ug_kernel *k, prop_report *r)
{
    static const ug_op ops[] = {UG_OP_SOFTMAX};
    if (prop_skip_canary(r) || prop_skip_unless_op(r, ops, 1, "only softmax rows sum to 1"))
        return;
    r->worst_what = "of the allowance";
    prop_each_row(k, r, SEED, ROWS, MAX_N, check_sum);
}

void prop_gradient_rows_sum_to_zero(const ug_kernel *k, prop_report *r)
{
    static const ug_op ops[] = {UG_OP_XENT_GRAD};
    if (prop_skip_canary(r) || prop_skip_unless_op(r, ops, 1, "only xent_grad rows sum to 0"))
        return;
    r->worst_what = "of the allowance";
    prop_each_row(k, r, SEED, ROWS, MAX_N, check_sum);
}

/* ================================================================ monotonicity
 *
 * softmax, log_softmax and the sparse gradient off the target are strictly increasing in
 * their own logit at a fixed normaliser: x_i < x_j gives v_i < v_j, x_i = x_j gives
 * v_i = v_j.  With the claim, y_i - y_j <= v_i - v_j + b_i ulp(v_i) + b_j ulp(v_j)
 * < b_i U(y_i, b_i) + b_j U(y_j, b_j): an inversion beyond that allowance (generic.h (4)
 * with delta = 0 read as a one-sided bound) breaks the claim.  bce_logits is decreasing
 * in x for the label 1 and increasing for the label 0; rows are relabelled all-1 and
 * all-0.
 *
 * Checked in O(n log n): in the order of increasing x, each y_j against the largest y_i
 * seen so far (x_i <= x_j).  That pair has the largest y_i - y_j, and for outputs of one
 * sign it also decides every other pair: if y_i <= y_i* then
 * y_i - y_j = (y_i* - y_j) - (y_i* - y_i) <= b U(y_i*) + b U(y_j) - (y_i* - y_i) <=
 * b U(y_i) + b U(y_j), since U(y) = alpha |y| + beta with b alpha < 1 (positive outputs),
 * and U(y_i) >= U(y_i*) for negative ones.  Equal logits are checked both ways (the
 * largest and smallest output of each run of equal x). */

typedef struct mono {
    const prop_case *c;
    const double *y, *b;
    int decreasing;
    size_t skip; /* an index left out (the target), or (size_t)-1 */
} mono;

typedef struct keyed {
    double key;
    size_t i;
} keyed;

static int by_key(const void *a, const void *b)
{
    const keyed *p = a, *q = b;
    return p->key < q->key ? -1 : p->key > q->key ? 1 : (p->i > q->i) - (p->i < q->i);
}

/* y[i] <= y[j] within the allowance; reports a failure otherwise. */
static void mono_pair(const ug_kernel *k, prop_report *r, const mono *m, size_t i, size_t j)
{
    double ratio;
    r->checked++;
    if (!(m->y[i] > m->y[j]))
        return;
    int ok = prop_close(k->dtype, m->y[i], m->b[i], m->y[j], m->b[j], NULL, &ratio);
    prop_seen(r, ratio, "%s outputs %zu, %zu", m->c->origin, i, j);
    if (!ok) {
        char row[3072];
        prop_fmt_row(row, sizeof row, m->c, 0);
        prop_fail(r, "x_%zu = %a %s x_%zu = %a but y_%zu = %a > y_%zu = %a by %.4g times the allowance; row: %s", i,
                  m->c->x[i], m->decreasing ? ">=" : "<=", j, m->c->x[j], i, m->y[i], j, m->y[j], ratio, row);
    }
}

static void check_mono_order(const ug_kernel *k, prop_report *r, const mono *m)
{
    size_t n = m->c->n, cnt = 0;
    keyed *o = malloc(n * sizeof *o);
    if (o == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        if (i != m->skip && !isnan(m->c->x[i]))
            o[cnt++] = (keyed){m->decreasing ? -m->c->x[i] : m->c->x[i], i};
    qsort(o, cnt, sizeof *o, by_key);
    size_t best = cnt ? o[0].i : 0;
    for (size_t s = 1; s < cnt && !prop_done(r); s++) {
        size_t j = o[s].i;
        mono_pair(k, r, m, best, j);
        best = m->y[j] > m->y[best] ? j : best;
    }
    for (size_t s = 0; s < cnt && !prop_done(r);) { /* runs of equal x: both directions */
        size_t e = s, lo = o[s].i, hi = o[s].i;
        while (e + 1 < cnt && !(o[e + 1].key > o[s].key)) {
            e++;
            lo = m->y[o[e].i] < m->y[lo] ? o[e].i : lo;
            hi = m->y[o[e].i] > m->y[hi] ? o[e].i : hi;
        }
        if (e > s)
            mono_pair(k, r, m, hi, lo);
        s = e + 1;
    }
    free(o);
}

static void check_mono(const ug_kernel *k, prop_report *r, const prop_case *c, const double *y, const double *b)
{
    if (c->op == UG_OP_BCE_LOGITS)
        return; /* relabelled in prop_monotone_in_the_logits */
    if (prop_row_kind_of(c->x, c->n) != PROP_ROW_FINITE || (c->op == UG_OP_XENT_GRAD && c->target == NULL))
        return;
    mono m = {c, y, b, 0, c->op == UG_OP_XENT_GRAD ? (size_t)c->target[0] : (size_t)-1};
    check_mono_order(k, r, &m);
}

/* bce_logits rows relabelled all-1 (decreasing) and all-0 (increasing). */
static void bce_mono(const ug_kernel *k, prop_report *r)
{
    prop_cases rows;
    prop_family_rows(k->op, k->dtype, SEED, prop_rows(r, ROWS), prop_max_n(r, MAX_N), prop_n(r), &rows);
    for (size_t i = 0; i < rows.count && !prop_done(r); i++) {
        for (int label = 0; label <= 1; label++) {
            prop_case *c = prop_case_copy(rows.items[i]);
            for (size_t j = 0; j < c->n; j++)
                c->aux[j] = label;
            double *y = malloc(c->n * sizeof *y), *b = malloc(c->n * sizeof *b);
            if (y == NULL || b == NULL)
                abort();
            if (prop_call(k, c, UG_RED_NONE, 0xff, y) != UG_OK || prop_bounds(k, c, UG_RED_NONE, b) != 0) {
                prop_fail(r, "the kernel or the oracle refused %s", c->origin);
            } else {
                mono m = {c, y, b, label == 1, (size_t)-1};
                check_mono_order(k, r, &m);
            }
            free(y);
            free(b);
            prop_case_free(c);
        }
    }
    prop_cases_free(&rows);
}

void prop_monotone_in_the_logits(const ug_kernel *k, prop_report *r)
{
    static const ug_op ops[] = {UG_OP_SOFTMAX, UG_OP_LOG_SOFTMAX, UG_OP_XENT_GRAD, UG_OP_BCE_LOGITS};
    if (prop_skip_canary(r) ||
        prop_skip_unless_op(r, ops, 4, "its output is not one value per logit that grows with it"))
        return;
    r->worst_what = "of the allowance (largest inversion)";
    if (k->op == UG_OP_BCE_LOGITS)
        bce_mono(k, r);
    else
        prop_each_row(k, r, SEED, ROWS, MAX_N, check_mono);
}
