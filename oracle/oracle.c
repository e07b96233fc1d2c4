/* ug_oracle_eval: validate exactly as a kernel does, widen MPFR's exponent range, run
 * the op's exact evaluation, restore the range.
 *
 *   softmax, log_softmax, xent_grad   exact_softmax.c   (one Ziv loop per row)
 *   logsumexp, xent, xent_dense       exact_loss.c      (per row, or one for the sum)
 *   bce_logits                        exact_bce.c       (per element, or one for the sum)
 *
 * The method and its proof: ANALYSIS.md; the special values: SPECIAL.md.  Only this file
 * reaches into core/internal.h (ug__validate, ug__fail: the kernels' own rules and messages).
 */
#include "internal.h"
#include "ora_internal.h"

ug_status ora_fail_cap(const char *op, size_t row)
{
    return ug__fail(UG_ERR_LIMIT, "oracle: %s, row %zu: the Ziv loop reached %ld bits without deciding the rounding",
                    op, row, (long)ORA_PMAX);
}

ug_status ora_fail_nomem(size_t n) { return ug__fail(UG_ERR_NOMEM, "oracle: cannot allocate a row of %zu", n); }

ug_status ug_oracle_eval(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out)
{
    if (p == NULL)
        return ug__validate(p, op, dt);
    /* the oracle ignores p->y: validate a copy whose y is any non-NULL pointer */
    ug_problem q = *p;
    q.y = (void *)p;
    ug_status s = ug__validate(&q, op, dt);
    if (s != UG_OK)
        return s;
    if (out == NULL)
        return ug__fail(UG_ERR_NULL, "oracle: out is NULL");
    ora_range old = ora_range_widen();
    switch (op) {
    case UG_OP_SOFTMAX:
    case UG_OP_LOG_SOFTMAX:
    case UG_OP_XENT_GRAD: s = ora_eval_softmax_like(op, dt, &q, out); break;
    case UG_OP_LOGSUMEXP:
    case UG_OP_XENT:
    case UG_OP_XENT_DENSE: s = ora_eval_row_loss(op, dt, &q, out); break;
    case UG_OP_BCE_LOGITS: s = ora_eval_bce(dt, &q, out); break;
    default: s = ug__fail(UG_ERR_ARG, "oracle: unknown op %d", (int)op); break;
    }
    ora_range_restore(old);
    return s;
}
