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

static double softmax_at(const ug__row *row, size_t i, double s_hi, double s_lo)
{
    switch (row->kind) {
    case UG__ROW_NAN:
    case UG__ROW_MASKED: return NAN;
    case UG__ROW_POSINF: return row->x[i] != INFINITY ? 0.0 : row->ninf == 1 ? 1.0 : NAN;
    case UG__ROW_FINITE: break;
    }
    return ug__div_sum(row->e[i], s_hi, s_lo);
}

/* softmax_i - p_i = (e_i - p_i s) / s = ((e_i - p_i) - p_i sp) / s, s = 1 + sp: the
 * difference e_i - p_i is split exactly (two-sum) and p_i sp folded in by one fma, so a
 * one-hot label on a dominant logit (softmax_t ~ 1 - 1e-20, p_t = 1) keeps its digits. */
static double dense_finite(const ug__row *row, size_t i, double pi, double s_hi, double s_lo)
{
    double d, de;
    ug__two_sum(row->e[i], -pi, &d, &de);
    double num = fma(-pi, row->sp, d) + de;
    double g = ug__div_sum(num, s_hi, s_lo);
    if (g != 0 || isinf(row->x[i]))
        return g;
    /* A zero gradient: exact (+0) only when e_i - p_i s is exactly 0; otherwise its sign is
     * that of e_i - p_i when that is not 0, and else of -p_i sp, where sp underflowed but is
     * > 0 whenever another entry is finite (SPECIAL.md: zeros). */
    if (d != 0)
        return copysign(0.0, d);
    return pi > 0 && row->nfinite > 1 ? -0.0 : 0.0;
}

/* xent_grad.fused.*: contract
 *   computes  sparse: softmax_i for i != t, and at i = t the complement
 *             -(sum_{j != t} e_j) / (1 + sp) rather than softmax_t - 1, which cancels
 *             when the target dominates (a tiny gradient keeps all its digits).
 *             dense: ((e_i - p_i) - p_i sp) / (1 + sp), the difference split exactly.
 *   bound     sparse: as softmax.twopass (f32, bf16 1 ULP; f64 7 ULP).  dense: softmax_i -
 *             p_i cancels when p_i ~ softmax_i; the absolute error <= 6.1u softmax_i is
 *             <= 6.1u (1 + kappa) |g_i|: f32 1 ULP + 2^-26 kappa, bf16 1 + 2^-42 kappa,
 *             f64 7 + 7 kappa (ERROR-ANALYSIS.md §5).
 */
static void xent_grad_fused(const ug__row *row, const ug_problem *p, size_t r, double *out)
{
    double s_hi = 1, s_lo = 0;
    if (row->kind == UG__ROW_FINITE)
        ug__two_sum(1.0, row->sp, &s_hi, &s_lo);
    if (p->target == NULL) {
        for (size_t i = 0; i < row->n; i++) {
            double pi = ug__load(row->dt, p->aux, r * row->n + i);
            out[i] = row->kind == UG__ROW_FINITE ? dense_finite(row, i, pi, s_hi, s_lo)
                                                 : softmax_at(row, i, s_hi, s_lo) - pi;
        }
        return;
    }
    size_t t = (size_t)p->target[r];
    for (size_t i = 0; i < row->n; i++)
        out[i] = softmax_at(row, i, s_hi, s_lo) - (i == t);
    if (row->kind == UG__ROW_FINITE) {
        /* The exact q is 0 only when every entry but t is masked (+0 then); a q that
         * underflowed to 0 stands for a negative gradient: -0. */
        double q = ug__row_sum_except(row, t);
        size_t others = row->nfinite - (isfinite(row->x[t]) ? 1 : 0);
        out[t] = q != 0 ? ug__div_sum(-q, s_hi, s_lo) : others == 0 ? 0.0 : -0.0;
    }
}

UG__ROW_KERNELS(ug_k_xent_grad_fused, UG_OP_XENT_GRAD, xent_grad_fused, 1)
