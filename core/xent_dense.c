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
 *             cancellation), Neumaier-compensated in binary64.
 *   bound     f32, bf16: 1 ULP.  f64: 8.2u before the last rounding, 9.2u with a
 *             reduction: claimed 10 ULP (ERROR-ANALYSIS.md §4).
 */
static void xent_dense_fused(const ug__row *row, const ug_problem *p, size_t r, double *out)
{
    if (row->kind == UG__ROW_NAN || row->kind == UG__ROW_MASKED) {
        *out = NAN;
        return;
    }
    ug__nsum acc = {0, 0}, accq = {0, 0}; /* the loss, and its quarter (row.h) */
    double special = 0; /* +inf or NaN terms, combined by IEEE addition */
    for (size_t i = 0; i < row->n; i++) {
        double pi = ug__load(row->dt, p->aux, r * row->n + i);
        if (pi == 0)
            continue;
        double xi = row->x[i], hi, lo, s, e;
        if (row->kind == UG__ROW_POSINF) {
            special += posinf_gap(row, xi);
            continue;
        }
        ug__shift(xi, row->m, &hi, &lo);
        double term, quarter;
        if (isinf(hi)) {
            /* m - x_i > DBL_MAX, yet p_i (m - x_i + L) may be finite: halve, then double
             * (exact scalings; L is below an ulp of m - x_i here). */
            double half = pi * (0.5 * row->m - 0.5 * xi + 0.5 * row->L);
            term = 2.0 * half, quarter = 0.5 * half;
        } else {
            ug__two_sum(row->L, -hi, &s, &e);
            term = pi * (s + (e - lo));
            quarter = 0.25 * term;
        }
        if (isfinite(quarter)) { /* term itself may have overflowed: the quarter keeps it */
            ug__nsum_add(&acc, term);
            ug__nsum_add(&accq, quarter);
        } else {
            special += term;
        }
    }
    out[0] = special != 0 ? special : ug__nsum_value(&acc);
    if (special == 0 && isinf(out[0]))
        out[1] = ug__nsum_value(&accq);
}

UG__ROW_KERNELS(ug_k_xent_dense_fused, UG_OP_XENT_DENSE, xent_dense_fused, 1)
