/* logsumexp: log sum_j exp(x_j).
 *
 * Special values (oracle/SPECIAL.md): NaN anywhere -> NaN; any +inf -> +inf; all -inf ->
 * -inf; -inf entries are masks.  n = 1 gives x_0 exactly.  Overflows only where the exact
 * value does: max + log(n) can exceed the largest finite value only when max is within
 * log(n) of it, i.e. never in f32/bf16 (log(n) is far below an ulp of 0x1.fep127).
 */
#include <math.h>

#include "internal.h"
#include "kernels.h"
#include "row.h"

static int lse_special(const ug__row *row, ug__wide *out)
{
    switch (row->kind) {
    case UG__ROW_NAN: *out = NAN; return 1;
    case UG__ROW_POSINF: *out = INFINITY; return 1;
    case UG__ROW_MASKED: *out = -INFINITY; return 1;
    case UG__ROW_FINITE: break;
    }
    return 0;
}

/* logsumexp.twopass.*: contract
 *   computes  m + log1p(sp), sp the sum without the max term (Blanchard, Higham & Higham
 *             2021, alg. 4.1), in the working format of row.h, one rounding on store.
 *   bound     m + L cancels when m < 0 and L ~ -m (e.g. a row of equal entries near
 *             -log n): the error is absolute, <= err(L) L, and L <= (1 + kappa) |lse| with
 *             kappa = sum |x_i| s_i / |lse| (ERROR-ANALYSIS.md §3).
 *             f32: 1 ULP + 2^-25 kappa; bf16: 1 ULP + 2^-41 kappa;
 *             f64: 0.5 + 0.0099 + 0.0094 kappa ULP: claimed 1 ULP + 2^-6 kappa.
 */
static void logsumexp_twopass(const ug__row *row, const ug_problem *p, size_t r, ug__wide *out)
{
    (void)p, (void)r;
    if (!lse_special(row, out))
        *out = row->m + row->L; /* + u_w |lse| */
}

UG__ROW_KERNELS(ug_k_logsumexp_twopass, UG_OP_LOGSUMEXP, logsumexp_twopass, 1)

/* logsumexp.logsum.* (canary): m + log(1 + sp), the sum rounded before the log.
 *   breaks    when one logit dominates, 1 + sp rounds to 1 and a loss near 1e-20 becomes
 *             0 (binary64 internally: f32 outputs are hit once sp < 2^-53 and m ~ 0). */
static void logsumexp_logsum(const ug__row *row, const ug_problem *p, size_t r, ug__wide *out)
{
    (void)p, (void)r;
    if (!lse_special(row, out))
        *out = row->m + log(1.0 + (double)row->sp);
}

UG__ROW_KERNELS(ug_k_logsumexp_logsum, UG_OP_LOGSUMEXP, logsumexp_logsum, 1)

/* logsumexp.online.*: the one-pass normaliser of softmax.online (row.h), then
 * m + log1p(sp), all in binary64.  f32, bf16: as logsumexp.twopass.  f64: the binary64
 * analysis (log1p 2u, sp 3.04u, so L 5.1u: 6 ULP + 11 kappa) and up to 4.03u per rescale
 * (softmax.c): claimed 6 + 5n ULP + 11 kappa. */
static void logsumexp_online(const ug__row *row, const ug_problem *p, size_t r, ug__wide *out)
{
    (void)p, (void)r;
    if (lse_special(row, out))
        return;
    double m, sp;
    ug__online_normaliser(row, &m, &sp);
    *out = m + log1p(sp);
}

UG__ROW_KERNELS(ug_k_logsumexp_online, UG_OP_LOGSUMEXP, logsumexp_online, 0)
