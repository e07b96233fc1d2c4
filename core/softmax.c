/* softmax: y_i = exp(x_i) / sum_j exp(x_j).
 *
 * Special values (oracle/SPECIAL.md): NaN anywhere -> NaN row; -inf entries are masks
 * (+0); all -inf -> NaN row; k entries +inf: those are 1 (k = 1) or NaN (k >= 2), the rest
 * +0.  Never overflows: every output is in [0, 1].  n = 1 gives exactly 1.
 */
#include <math.h>

#include "internal.h"
#include "kernels.h"
#include "row.h"

/* The outputs of a row that is not FINITE; returns 1 when it wrote them. */
static int softmax_special(const ug__row *row, ug__wide *out)
{
    if (row->kind == UG__ROW_FINITE)
        return 0;
    for (size_t i = 0; i < row->n; i++) {
        if (row->kind == UG__ROW_POSINF)
            out[i] = row->x[i] != INFINITY ? 0.0 : row->ninf == 1 ? 1.0 : NAN;
        else
            out[i] = NAN;
    }
    return 1;
}

/* softmax.twopass.*: contract
 *   computes  exp(x_i - m) / (1 + sum_{j != imax} exp(x_j - m)), m the row max, with the
 *             exact shift of row.h and a compensated sum, in the working format of row.h
 *             (64-bit significand; exponentials by ug__exp_neg_wide in f64); one rounding to the
 *             dtype on store.
 *   bound     f32, bf16: relative error < 2^-50 before the rounding (ERROR-ANALYSIS.md
 *             §1): within 0.5 + 2^-25 ULP, claimed 1 ULP.
 *             f64: 23.1 u_w = 0.0113u before the rounding: 0.512 ULP, claimed 1 ULP.
 *             Subnormal outputs too: the exponentials are normal in the working format.
 *   domain    every finite row, any n (the sum of n terms <= 1 cannot overflow);
 *             outputs below the dtype's smallest subnormal round to +0. */
static void softmax_twopass(const ug__row *row, const ug_problem *p, size_t r, ug__wide *out)
{
    (void)p, (void)r;
    if (softmax_special(row, out))
        return;
    ug__wide s = 1 + row->sp; /* + u_w */
    for (size_t i = 0; i < row->n; i++)
        out[i] = row->e[i] / s;
}

UG__ROW_KERNELS(ug_k_softmax_twopass, UG_OP_SOFTMAX, softmax_twopass, 1)

/* softmax.online.*: contract
 *   computes  the normaliser in one pass (Milakov & Gimelshein 2018): a running max m and
 *             the running sum sp of exp(x_j - m) over the entries that are not the running
 *             max; when a new max x arrives, sp <- (sp + 1) exp(m - x).  Then a second
 *             pass writes exp(x_i - m) / (1 + sp).  Masked entries are skipped, so a row
 *             that is all -inf never computes exp(-inf - (-inf)).
 *   bound     f32, bf16: as twopass (binary64 throughout): 1 ULP.
 *   bound     f64: each rescale adds <= 4.03u of relative error to sp (ERROR-ANALYSIS.md
 *             §1): claimed 7 + 5n ULP (a row sorted ascending rescales n - 1 times).  */
static void softmax_online(const ug__row *row, const ug_problem *p, size_t r, ug__wide *out)
{
    (void)p, (void)r;
    if (softmax_special(row, out))
        return;
    double m, sp;
    ug__online_normaliser(row, &m, &sp);
    ug__wide s = 1 + (ug__wide)sp;
    for (size_t i = 0; i < row->n; i++) {
        double hi, lo;
        ug__shift(row->x[i], m, &hi, &lo);
        out[i] = ug__exp_shifted(hi, lo) / s;
    }
}

UG__ROW_KERNELS(ug_k_softmax_online, UG_OP_SOFTMAX, softmax_online, 0)

/* softmax.logdomain.* (canary): contract
 *   computes  exp(x_i - lse) with lse = fl(m + log1p(sp)) in binary64, as a framework does
 *             when it exponentiates a log_softmax.
 *   breaks    the rounding of lse is an absolute error of up to 2^-53 |lse| in the
 *             exponent, a relative error of 2^-53 |lse| in every output: beyond 1 ULP in
 *             f32 once |lse| > 2^28, and in f64 once |lse| > 2.
 */
static void softmax_logdomain(const ug__row *row, const ug_problem *p, size_t r, ug__wide *out)
{
    (void)p, (void)r;
    if (softmax_special(row, out))
        return;
    double lse = row->m + (double)row->L;
    for (size_t i = 0; i < row->n; i++) {
        double hi, lo;
        ug__shift(row->x[i], lse, &hi, &lo);
        out[i] = ug__exp_shifted(hi, lo);
    }
}

UG__ROW_KERNELS(ug_k_softmax_logdomain, UG_OP_SOFTMAX, softmax_logdomain, 1)

