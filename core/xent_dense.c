/* xent_dense (soft labels, label smoothing): sum_i p_i (logsumexp(x) - x_i) per row.
 *
 * Special values (oracle/SPECIAL.md): a term with p_i = 0 is exactly 0 whatever x_i is (a
 * masked class of probability 0 costs nothing); NaN in the row -> NaN; all -inf -> NaN;
 * p_i > 0 on a masked x_i -> +inf; with k entries +inf, a term with p_i > 0 is +inf where
 * x_i is not +inf, 0 (k = 1) or NaN (k >= 2) where it is.
 */
#include <math.h>

#include "internal.h"
#include "kernels.h"
#include "row.h"

/* The value of one term's factor lse - x_i for a row with +inf entries. */
static double posinf_gap(const ug__row *row, double xi)
{
    return xi != INFINITY ? INFINITY : row->ninf == 1 ? 0.0 : NAN;
}

/* xent_dense.fused.*: contract
 *   computes  sum over p_i > 0 of p_i ((L - d_hi) - d_lo), every factor >= 0 (no
 *             cancellation), Neumaier-compensated, all in the working format of row.h.
 *   bound     f32, bf16: 1 ULP.  f64: 23.2 u_w per row, 25.2 u_w with a reduction:
 *             0.5123 ULP, claimed 1 ULP (ERROR-ANALYSIS.md §4).
 *   overflow  a sum or mean at the dtype's overflow threshold is decided exactly, as
 *             xent.fused (core/threshold.c; the window: 2^-58 sum_r P_r ln n absolute).
 */
static void xent_dense_fused(const ug__row *row, const ug_problem *p, size_t r, ug__wide *out)
{
    if (row->kind == UG__ROW_NAN || row->kind == UG__ROW_MASKED) {
        *out = NAN;
        return;
    }
    ug__wsum acc = {0, 0};
    ug__wide special = 0; /* +inf or NaN terms, combined by IEEE addition */
    for (size_t i = 0; i < row->n; i++) {
        double pi = ug__load(row->dt, p->aux, r * row->n + i);
        if (pi == 0)
            continue;
        double xi = row->x[i], hi, lo;
        if (row->kind == UG__ROW_POSINF) {
            special += posinf_gap(row, xi);
            continue;
        }
        ug__shift(xi, row->m, &hi, &lo);
        ug__wide gap; /* lse - x_i >= 0 */
        if (isinf(hi)) /* m - x_i > DBL_MAX: finite in ug__wide; L is below an ulp of it */
            gap = ((ug__wide)row->m - xi) + row->L;
        else
            gap = (row->L - hi) - lo;
        if (isinf(gap)) /* a masked x_i with p_i > 0 */
            special += gap;
        else
            ug__wsum_add(&acc, pi * gap);
    }
    *out = special != 0 ? special : ug__wsum_value(&acc);
}

UG__ROW_KERNELS(ug_k_xent_dense_fused, UG_OP_XENT_DENSE, xent_dense_fused, 1)
