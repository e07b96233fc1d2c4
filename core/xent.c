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
 *             t + te = L - d_hi exactly, loss = t + (te - d_lo).  Both parts are >= 0: no
 *             cancellation, so a loss near 1e-30 (one dominant logit) keeps every digit.
 *   bound     f32, bf16: 1 ULP.  f64: 0.5 + 5.1 ULP per row; with a reduction 0.5 + 7.1:
 *             claimed 8 ULP (ERROR-ANALYSIS.md §4).
 */
static void xent_fused(const ug__row *row, const ug_problem *p, size_t r, double *out)
{
    size_t t = (size_t)p->target[r];
    double xt = row->x[t];
    switch (row->kind) {
    case UG__ROW_NAN:
    case UG__ROW_MASKED: *out = NAN; return;
    case UG__ROW_POSINF: *out = xt != INFINITY ? INFINITY : row->ninf == 1 ? 0.0 : NAN; return;
    case UG__ROW_FINITE: break;
    }
    double hi, lo, s, e;
    ug__shift(xt, row->m, &hi, &lo);
    if (isinf(hi)) {
        /* m - x_t > DBL_MAX: the loss overflows, but its quarter (for a mean over rows,
         * ug__reduce_store_quarters) does not; the scalings by 1/4 are exact here. */
        out[0] = INFINITY;
        out[1] = (0.25 * row->m - 0.25 * xt) + 0.25 * row->L;
        return;
    }
    ug__two_sum(row->L, -hi, &s, &e);
    *out = s + (e - lo);
}

UG__ROW_KERNELS(ug_k_xent_fused, UG_OP_XENT, xent_fused, 1)
