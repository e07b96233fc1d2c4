/* ug_oracle_eval: validate exactly as a kernel does, widen MPFR's exponent range, run
 * the op's exact evaluation, restore the range.
 *
 *   softmax, log_softmax, xent_grad   exact_softmax.c   (one Ziv loop per row)
 *   logsumexp, xent, xent_dense       exact_loss.c      (per row, or one for the sum)
 *   bce_logits                        exact_bce.c       (per element, or one for the sum)
 *
 * ug_oracle_eval_lazy takes the certified fast path (fast.c, ANALYSIS.md §9) where it
 * applies; ug_oracle_value computes a lazy output's value by the MPFR path.
 *
 * The method and its proof: ANALYSIS.md; the special values: SPECIAL.md.  Only this file
 * reaches into core/internal.h (ug__validate, ug__fail: the kernels' own rules and messages).
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "ora_internal.h"

ug_status ora_fail_cap(const char *op, size_t row)
{
    return ug__fail(UG_ERR_LIMIT, "oracle: %s, row %zu: the Ziv loop reached %ld bits without deciding the rounding",
                    op, row, (long)ORA_PMAX);
}

ug_status ora_fail_nomem(size_t n) { return ug__fail(UG_ERR_NOMEM, "oracle: cannot allocate a row of %zu", n); }

/* Validate p as a kernel's problem (y ignored): q is p with a non-NULL y. */
static ug_status validate(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out, ug_problem *q)
{
    if (p == NULL)
        return ug__validate(p, op, dt);
    /* the oracle ignores p->y: validate a copy whose y is any non-NULL pointer */
    *q = *p;
    q->y = (void *)p;
    ug_status s = ug__validate(q, op, dt);
    if (s != UG_OK)
        return s;
    if (out == NULL)
        return ug__fail(UG_ERR_NULL, "oracle: out is NULL");
    return UG_OK;
}

static ug_status eval_mpfr(ug_op op, ug_dtype dt, const ug_problem *q, ug_exact *out)
{
    ug_status s;
    ora_range old = ora_range_widen();
    switch (op) {
    case UG_OP_SOFTMAX:
    case UG_OP_LOG_SOFTMAX:
    case UG_OP_XENT_GRAD: s = ora_eval_softmax_like(op, dt, q, out); break;
    case UG_OP_LOGSUMEXP:
    case UG_OP_XENT:
    case UG_OP_XENT_DENSE: s = ora_eval_row_loss(op, dt, q, out); break;
    case UG_OP_BCE_LOGITS: s = ora_eval_bce(dt, q, out); break;
    default: s = ug__fail(UG_ERR_ARG, "oracle: unknown op %d", (int)op); break;
    }
    ora_range_restore(old);
    size_t count = ug_output_count(op, q->rows, q->n, q->reduction);
    for (size_t i = 0; i < count; i++)
        out[i].lazy = 0;
    return s;
}

ug_status ug_oracle_eval(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out)
{
    ug_problem q;
    ug_status s = validate(op, dt, p, out, &q);
    return s != UG_OK ? s : eval_mpfr(op, dt, &q, out);
}

ug_status ug_oracle_eval_lazy(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out)
{
    ug_problem q;
    ug_status s = validate(op, dt, p, out, &q);
    if (s != UG_OK)
        return s;
    if (!ug_oracle_fast_enabled() || !ora_fast_supported(op, dt, &q))
        return eval_mpfr(op, dt, &q, out);
    return ora_fast_eval(op, dt, &q, out);
}

/* The sub-problem of rows [row, row + count) of a validated problem without reduction. */
static ug_problem sub_rows(ug_dtype dt, const ug_problem *p, size_t row, size_t count)
{
    ug_problem q = *p;
    size_t off = row * p->n;
    q.rows = count;
    q.x = (const char *)p->x + off * ug_dtype_size(dt);
    if (p->aux != NULL)
        q.aux = (const char *)p->aux + off * ug_dtype_size(dt);
    if (p->target != NULL)
        q.target = p->target + row;
    return q;
}

ug_status ora_mpfr_rows(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out, size_t row, size_t count)
{
    ug_problem q = sub_rows(dt, p, row, count);
    return eval_mpfr(op, dt, &q, out + row * ug_output_count(op, 1, p->n, UG_RED_NONE));
}

static int same_bits(double a, double b) { return isnan(a) ? isnan(b) : memcmp(&a, &b, sizeof a) == 0; }

ug_status ug_oracle_value(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out, size_t i)
{
    ug_problem q;
    ug_status s = validate(op, dt, p, out, &q);
    if (s != UG_OK)
        return s;
    if (!out[i].lazy)
        return UG_OK;
    /* lazy outputs come from the fast path: one row per n outputs (softmax-like ops,
     * bce_logits) or per output (logsumexp, xent), or the one output of a reduction */
    int reduced = ug_output_count(op, q.rows, q.n, q.reduction) != ug_output_count(op, q.rows, q.n, UG_RED_NONE);
    size_t n = reduced ? 1 : ug_output_count(op, 1, q.n, UG_RED_NONE), row = reduced ? 0 : i / n;
    ug_exact *e = ug_exact_new(n);
    if (e == NULL)
        return ora_fail_nomem(n);
    ug_problem r = reduced ? q : sub_rows(dt, &q, row, 1);
    s = eval_mpfr(op, dt, &r, e);
    for (size_t j = 0; s == UG_OK && j < n; j++) {
        ug_exact *o = &out[row * n + j];
        if (!same_bits(o->rounded, e[j].rounded) || !same_bits(o->kappa, e[j].kappa) ||
            (!o->lazy && !mpfr_equal_p(o->value, e[j].value) && !(mpfr_nan_p(o->value) && mpfr_nan_p(e[j].value))))
            ora_fast_mismatch();
        o->rounded = e[j].rounded;
        o->kappa = e[j].kappa;
        mpfr_set(o->value, e[j].value, MPFR_RNDN);
        o->lazy = 0;
    }
    ug_exact_free(e, n);
    return s;
}
