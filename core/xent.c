/* xent (sparse labels): logsumexp(x) - x_t per row; reduction none, sum or mean.
 *
 * Special values (oracle/SPECIAL.md): NaN in the row -> NaN; all -inf -> NaN; a masked
 * target (x_t = -inf) -> +inf; k entries +inf: x_t = +inf gives +0 (k = 1) or NaN (k >= 2),
 * otherwise +inf.  n = 1 gives +0.  Overflows to +inf only where max - x_t does
 * (e.g. max = 0x1.fffffep127, x_t = -0x1.fffffep127 in f32).
 */
#include <math.h>

#include "internal.h"
#include "kernels.h"
#include "row.h"

/* xent.fused.*: contract
 *   computes  (m - x_t) + log1p(sp): with the exact shift d = x_t - m = d_hi + d_lo <= 0,
 *             loss = (L - d_hi) - d_lo in the working format of row.h.  Both parts are
 *             >= 0: no cancellation, so a loss near 1e-30 (one dominant logit) keeps every
 *             digit, and a subnormal loss is rounded once, from a normal working value.
 *   bound     f32, bf16: 1 ULP.  f64: 21.1 u_w per row, 23.2 u_w with a reduction
 *             (summed and divided in the working format): 0.512 ULP, claimed 1 ULP
 *             (ERROR-ANALYSIS.md §4).
 *   overflow  a sum or mean that rounds to +inf or the largest finite value is decided
 *             exactly against the threshold (core/threshold.c): +inf iff the exact value
 *             is >= 0x1.ffffffp127 (f32), 0x1.ffp127 (bf16), 0x1.fffffffffffff8p1023 (f64);
 *             within about 2^-58 rows ln n of it (absolute), the kernel's rounding stays.
 */
static void xent_fused(const ug__row *row, const ug_problem *p, size_t r, ug__wide *out)
{
    size_t t = (size_t)p->target[r];
    double xt = row->x[t];
    switch (row->kind) {
    case UG__ROW_NAN:
    case UG__ROW_MASKED: *out = NAN; return;
    case UG__ROW_POSINF: *out = xt != INFINITY ? INFINITY : row->ninf == 1 ? 0.0 : NAN; return;
    case UG__ROW_FINITE: break;
    }
    double hi, lo;
    ug__shift(xt, row->m, &hi, &lo);
    if (isinf(hi)) {
        /* m - x_t > DBL_MAX: a finite ug__wide (a mean over rows may be finite in the dtype);
         * L is far below an ulp of it here. */
        *out = ((ug__wide)row->m - xt) + row->L;
        return;
    }
    *out = (row->L - hi) - lo;
}

UG__ROW_KERNELS(ug_k_xent_fused, UG_OP_XENT, xent_fused, 1)
