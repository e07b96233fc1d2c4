/* log_softmax: y_i = x_i - log sum_j exp(x_j).
 *
 * Special values (oracle/SPECIAL.md): NaN anywhere -> NaN row; -inf entries -> -inf, the
 * rest as if absent; all -inf -> NaN row; k entries +inf: those are +0 (k = 1) or NaN
 * (k >= 2), the rest -inf.  n = 1 gives +0.  Overflows to -inf only where the exact value
 * does (x_i - max below -DBL_MAX in f64, below -0x1.fffffep127 in f32).
 */
#include <math.h>

#include "internal.h"
#include "kernels.h"
#include "row.h"

/* log_softmax.twopass.*: contract
 *   computes  (x_i - m) - L, L = log1p(sp) (Blanchard, Higham & Higham 2021), with the
 *             exact shift d_hi + d_lo of row.h: y = (d_hi - L) + d_lo in the working
 *             format of row.h, one rounding on store.  d <= 0 and L >= 0: the
 *             subtraction never cancels.
 *   bound     f32, bf16: relative error < 2^-50 before the final rounding: 1 ULP.
 *             f64: |L| <= |y| and L's relative error is <= 19.1 u_w, the two roundings
 *             2 u_w: 21.1 u_w = 0.0103u, 0.511 ULP: claimed 1 ULP (ERROR-ANALYSIS.md §2).
 */
static void log_softmax_twopass(const ug__row *row, const ug_problem *p, size_t r, ug__wide *out)
{
    (void)p, (void)r;
    for (size_t i = 0; i < row->n; i++) {
        double xi = row->x[i];
        switch (row->kind) {
        case UG__ROW_NAN:
        case UG__ROW_MASKED: out[i] = NAN; continue;
        case UG__ROW_POSINF: out[i] = xi != INFINITY ? -INFINITY : row->ninf == 1 ? 0.0 : NAN; continue;
        case UG__ROW_FINITE: break;
        }
        double hi, lo;
        ug__shift(xi, row->m, &hi, &lo);
        if (isinf(hi)) {
            out[i] = -INFINITY;
            continue;
        }
        out[i] = ((ug__wide)hi - row->L) + lo;
        /* y = d - L is exactly 0 only when no other entry is finite (L = 0 exactly); with
         * another finite entry L > 0, and an L that underflowed leaves y = -0. */
        if (out[i] == 0 && row->nfinite > 1)
            out[i] = -0.0;
    }
}

UG__ROW_KERNELS(ug_k_log_softmax_twopass, UG_OP_LOG_SOFTMAX, log_softmax_twopass, 1)
