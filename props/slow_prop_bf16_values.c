/* Every bf16 value as a logit (label slow): for every non-canary bf16 kernel, the rows
 * [v, 1/2, -1] for all 65,536 bit patterns v (NaN, infinities, zeros, subnormals
 * included), with the target on v (xent, sparse xent_grad), the probabilities (1/2, 1/4,
 * 1/4) (xent_dense, dense xent_grad) and, for bce_logits, the labels 0, 1/2 and 1; judged
 * against the oracle through the judge: the claim and no special-value violation.
 * STYLE.md rule 9: exhaustive where it is cheap.  Tests are named
 * <kernel function>::claim_on_every_bf16_value. */
#include <criterion/criterion.h>

#include "generic.h"

enum { BATCH = 4096, N = 3 };

/* The rows for bit patterns [first, first + BATCH). */
static ug_batch *values_batch(const ug_kernel *k, unsigned first)
{
    int sparse = k->op == UG_OP_XENT || (k->op == UG_OP_XENT_GRAD && first % (2 * BATCH) == 0);
    int aux = k->op == UG_OP_XENT_DENSE || k->op == UG_OP_BCE_LOGITS || (k->op == UG_OP_XENT_GRAD && !sparse);
    ug_batch *b = ug_batch_new(k->op, UG_BF16, BATCH, N, sparse, aux);
    cr_assert_not_null(b);
    static const double rest[N] = {0, 0.5, -1}, probs[N] = {0.5, 0.25, 0.25}, labels[N] = {0, 0.5, 1};
    for (unsigned r = 0; r < BATCH; r++) {
        ug_bf16 v = {(uint16_t)(first + r)};
        for (unsigned i = 0; i < N; i++) {
            ug_store(UG_BF16, b->x, r * N + i, i == 0 ? ug_bf16_to_f32(v) : rest[i]);
            if (aux)
                ug_store(UG_BF16, b->aux, r * N + i, k->op == UG_OP_BCE_LOGITS ? labels[i] : probs[i]);
        }
        if (sparse)
            b->target[r] = 0;
    }
    return b;
}

static void every_value(const char *name)
{
    const ug_kernel *k = ug_kernel_find(name);
    cr_assert_not_null(k);
    if (k->dtype != UG_BF16 || k->role == UG_ROLE_CANARY || !ug_kernel_available(k))
        cr_skip_test("%s: only non-canary bf16 kernels this CPU can run", name);
    prop_report r;
    prop_report_init(&r, k, "claim_on_every_bf16_value");
    r.worst_what = "ULP";
    for (unsigned first = 0; first < 65536; first += BATCH) {
        ug_batch *b = values_batch(k, first);
        for (int red = 0; red <= (ug_op_has_reduction(k->op) ? UG_RED_MEAN : UG_RED_NONE); red++) {
            char origin[64];
            snprintf(origin, sizeof origin, "bf16 patterns 0x%04x.. %s", first, ug_reduction_name((ug_reduction)red));
            cr_expect_eq(prop_judge(k, &r, b, (ug_reduction)red, origin), UG_OK, "%s: the oracle refused", origin);
        }
        ug_batch_free(b);
    }
    fprintf(stderr, "%-28s every bf16 value: %zu outputs, %zu failed; largest %.4g ULP at %s\n", name, r.checked,
            r.failed, r.worst, r.worst_at);
    cr_expect(r.failed == 0, "%s: %zu failed; first: %s", name, r.failed, r.first);
}

#define UG_KERNEL(fn, name, ...) \
    Test(fn, claim_on_every_bf16_value, .timeout = 1800) { every_value(name); }
#include "kernels.def"
#undef UG_KERNEL
