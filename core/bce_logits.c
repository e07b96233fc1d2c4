/* bce_logits: y log(1 + e^-x) + (1 - y) log(1 + e^x), elementwise, label y in [0, 1];
 * reduction none, or sum / mean over all rows x n elements.
 *
 * Special values (oracle/SPECIAL.md): NaN x -> NaN; x = +inf: +0 when y = 1, else +inf;
 * x = -inf: +0 when y = 0, else +inf (a term whose coefficient is 0 is exactly 0).
 * Never overflows for finite x: the loss is at most |x| + log 2.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"
#include "kernels.h"
#include "row.h"

/* bce_logits.stable.*: contract
 *   computes  with softplus(x) = max(x, 0) + log1p(exp(-|x|)), regrouped so that every
 *             term is >= 0 (no cancellation):
 *               x > 0:  x (1 - y) + log1p(exp(-x))
 *               x <= 0: (-x) y     + log1p(exp(x))
 *             f64 in the working format of row.h (ug__exp_neg_wide, log1pl), f32 and bf16 in binary64
 *             (x (1 - y) = fma(-x, y, x)); one rounding on store.
 *   bound     f32, bf16: 1 ULP.  f64: 17.1 u_w per element, 19.2 u_w with a reduction
 *             (summed and divided in the working format): 0.5094 ULP, claimed 1 ULP
 *             (ERROR-ANALYSIS.md §6).
 *   overflow  a sum at the dtype's overflow threshold is decided exactly, as xent.fused
 *             (core/threshold.c; the window: 2^-58 count ln 2 absolute); a mean never
 *             reaches it (each loss is at most |x| + ln 2).
 */
static ug__wide bce_stable(ug_dtype dt, double x, double y)
{
    if (isnan(x))
        return NAN;
    if (isinf(x))
        return (x > 0 ? y == 1 : y == 0) ? 0.0 : INFINITY;
    if (dt != UG_F64) {
        if (x > 0)
            return fma(-x, y, x) + log1p(exp(-x));
        return (-x) * y + log1p(exp(x));
    }
    /* 1 - y is exact for y >= 2^-11 and rounded once below; the product once: a <= 2 u_w.
     * b: exp's 2.03 u_w (budgeted 8) carried into log1pl with a factor <= 1 (§2), log1pl's
     * 8 u_w. */
    ug__wide a = x > 0 ? x * ((ug__wide)1 - y) : (ug__wide)(-x) * y;
    return a + log1pl(ug__exp_neg_wide(-fabs(x)));
}

static ug_status bce_run(const ug_problem *p, ug_dtype dt)
{
    ug_status st = ug__validate(p, UG_OP_BCE_LOGITS, dt);
    if (st != UG_OK)
        return st;
    size_t count = p->rows * p->n;
    if (p->reduction == UG_RED_NONE) {
        for (size_t i = 0; i < count; i++)
            ug__store_wide(dt, p->y, i, bce_stable(dt, ug__load(dt, p->x, i), ug__load(dt, p->aux, i)));
        return UG_OK;
    }
    ug__wide *loss = count <= SIZE_MAX / sizeof *loss ? malloc(count * sizeof *loss) : NULL;
    if (loss == NULL)
        return ug__fail(UG_ERR_NOMEM, "cannot allocate %zu losses", count);
    for (size_t i = 0; i < count; i++)
        loss[i] = bce_stable(dt, ug__load(dt, p->x, i), ug__load(dt, p->aux, i));
    ug__reduce_store_wide(p, UG_OP_BCE_LOGITS, dt, loss, count);
    free(loss);
    return UG_OK;
}

ug_status ug_k_bce_logits_stable_f32(const ug_problem *p) { return bce_run(p, UG_F32); }
ug_status ug_k_bce_logits_stable_f64(const ug_problem *p) { return bce_run(p, UG_F64); }
ug_status ug_k_bce_logits_stable_bf16(const ug_problem *p) { return bce_run(p, UG_BF16); }
