/* xent_grad: softmax(x)_i - [i = t] (sparse), softmax(x)_i - p_i (dense: target NULL).
 * The gradient of xent with respect to the logits, for one row, unscaled by any reduction.
 *
 * Special values (oracle/SPECIAL.md): softmax's table, then the subtraction in IEEE
 * arithmetic: NaN rows stay NaN, a masked entry gives 0 - [i = t] (-1 or +0), with one
 * +inf entry at the target the whole row is +0.  Exact zeros are +0.
 */
#include <math.h>

#include "internal.h"
#include "kernels.h"
#include "row.h"

static ug__wide softmax_at(const ug__row *row, size_t i, ug__wide s)
{
    switch (row->kind) {
    case UG__ROW_NAN:
    case UG__ROW_MASKED: return NAN;
    case UG__ROW_POSINF: return row->x[i] != INFINITY ? 0.0 : row->ninf == 1 ? 1.0 : NAN;
    case UG__ROW_FINITE: break;
    }
    return row->e[i] / s;
}

/* The expm1 form of a dense row (ERROR-ANALYSIS.md §5): E_j = exp(d_j) - 1 in [-1, 0] for
 * every finite entry, in row->work, and their compensated sum, relative error <= 18 u_w.
 * E_j = expm1l(d_hi) + (1 + expm1l(d_hi)) d_lo where d_j >= -1/2 (<= 11 u_w), else
 * e_j - 1 (e_j <= 0.61, so e_j's error grows by at most 0.61/0.39: <= 16.7 u_w). */
static ug__wide dense_expm1_sum(const ug__row *row)
{
    ug__wsum acc = {0, 0};
    for (size_t j = 0; j < row->n; j++) {
        double hi, lo;
        if (row->x[j] == -INFINITY)
            continue;
        ug__shift(row->x[j], row->m, &hi, &lo);
        ug__wide E;
        if (hi >= -0.5) {
            E = expm1l(hi);
            E += (1 + E) * lo;
        } else {
            E = row->e[j] - 1;
        }
        row->work[j] = E;
        ug__wsum_add(&acc, E);
    }
    return ug__wsum_value(&acc);
}

/* softmax_i - p_i = (e_i - p_i S) / S, S = 1 + sp, with the numerator in whichever of two
 * forms has the smaller error bound (ERROR-ANALYSIS.md §5):
 *   A  (e_i - p_i) - p_i sp            error <= cE e_i [i != imax] + cS p_i sp
 *                                      + 3 u_w (e_i + p_i S) <= cA (e_i + p_i S): in f64
 *                                      (e_j in ug__wide) cE = 10.1 u_w, cS = 11.1 u_w, cA = 14.1
 *                                      u_w; otherwise (by exp) cE = cS = 4200 u_w = 2.06u;
 *   B  (1 - p_i k) + E_i - p_i sum E   error <= 21 u_w (|1 - p_i k| + |E_i| + p_i |sum E|
 *                                      + 2^-52 p_i k), k the number of finite entries,
 *                                      E_j = exp(d_j) - 1 (dense_expm1_sum).
 * B keeps the sign and digits of a tiny difference when every logit is close to the max
 * (tiny logits, uniform labels), where e_j = 1 + d_j has lost d_j.  *sum_e holds sum E once
 * computed (NAN before). */
static ug__wide dense_finite(const ug__row *row, size_t i, double pi, ug__wide s, ug__wide *sum_e)
{
    ug__wide ei = row->e[i], num = (ei - pi) - pi * row->sp;
    /* A's bound term by term, in u_w: e_i (exact 1 at the max), sp, three roundings */
    ug__wide ce = row->dt == UG_F64 ? 10.1L : 4200.0L, cs = row->dt == UG_F64 ? 11.1L : 4200.0L;
    ug__wide bound_a = (i != row->imax ? ce * ei : 0) + cs * pi * row->sp + 3 * (ei + pi * s);
    int form_b = 0;
    double k = (double)row->nfinite, h = pi * k, l = fma(pi, k, -h); /* p_i k = h + l exactly */
    ug__wide c1 = ((ug__wide)1 - h) - l;
    if (row->x[i] != -INFINITY && 21 * fabsl(c1) < bound_a) {
        if (isnan(*sum_e))
            *sum_e = dense_expm1_sum(row);
        ug__wide Ei = row->work[i];
        ug__wide bound_b = 21 * (fabsl(c1) + fabsl(Ei) + pi * fabsl(*sum_e) + 0x1p-52L * h);
        if (bound_b < bound_a) {
            num = (c1 + Ei) - pi * *sum_e;
            form_b = 1;
            if (num == 0 && c1 == 0 && Ei == 0 && *sum_e == 0)
                return 0.0; /* every d_j = 0 and p_i k = 1: exactly 0 */
        }
    }
    if (num != 0 || row->x[i] == -INFINITY)
        return num / s;
    /* A zero numerator that may not be exact: its sign is that of e_i - p_i when that is
     * not 0, and else of -p_i sp, where sp > 0 whenever another entry is finite
     * (SPECIAL.md: zeros). */
    ug__wide d = form_b ? 0 : ei - pi;
    if (d != 0)
        return copysignl(0.0L, d);
    return pi > 0 && row->nfinite > 1 ? -0.0 : 0.0;
}

/* xent_grad.fused.*: contract
 *   computes  sparse: softmax_i for i != t, and at i = t the complement
 *             -(sum_{j != t} e_j) / (1 + sp) rather than softmax_t - 1, which cancels
 *             when the target dominates (a tiny gradient keeps all its digits).
 *             dense: (e_i - p_i S) / S in the better of two forms (dense_finite).
 *             All in the working format of row.h, one rounding on store.
 *   bound     sparse: as softmax.twopass (f32, bf16, f64: 1 ULP).  dense: softmax_i -
 *             p_i cancels when p_i ~ softmax_i; the absolute error is <= cA (softmax_i +
 *             p_i) + 13.1 u_w |g_i| <= (cA (1 + 2 kappa) + 13.1 u_w) |g_i|: f32 1 ULP + 2^-26
 *             kappa, bf16 1 + 2^-42 kappa, f64 0.5 + 0.0133 + 0.0138 kappa: claimed
 *             1 ULP + 2^-6 kappa (ERROR-ANALYSIS.md §5).
 */
static void xent_grad_fused(const ug__row *row, const ug_problem *p, size_t r, ug__wide *out)
{
    ug__wide s = row->kind == UG__ROW_FINITE ? 1 + row->sp : 1;
    if (p->target == NULL) {
        ug__wide sum_e = NAN;
        for (size_t i = 0; i < row->n; i++) {
            double pi = ug__load(row->dt, p->aux, r * row->n + i);
            out[i] = row->kind == UG__ROW_FINITE ? dense_finite(row, i, pi, s, &sum_e) : softmax_at(row, i, s) - pi;
        }
        return;
    }
    size_t t = (size_t)p->target[r];
    for (size_t i = 0; i < row->n; i++)
        out[i] = softmax_at(row, i, s) - (i == t);
    if (row->kind == UG__ROW_FINITE) {
        /* The exact q is 0 only when every entry but t is masked (+0 then). */
        ug__wide q = ug__row_sum_except(row, t);
        size_t others = row->nfinite - (isfinite(row->x[t]) ? 1 : 0);
        out[t] = q != 0 ? -q / s : others == 0 ? 0.0 : -0.0;
    }
}

UG__ROW_KERNELS(ug_k_xent_grad_fused, UG_OP_XENT_GRAD, xent_grad_fused, 1)
