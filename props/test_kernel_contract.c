/* The contract every registered kernel keeps whatever its accuracy: bad input gives a
 * status code and a message, never undefined behaviour; and, for every kernel that is not a
 * canary, -inf masks and n = 1 behave as oracle/SPECIAL.md says.  Iterates the registry:
 * a new kernel is tested here without an edit. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ulpgate/registry.h"

enum { NMAX = 8 };

/* Storage for a small problem in any dtype. */
typedef struct buf {
    union { float f[NMAX * 2]; double d[NMAX * 2]; ug_bf16 h[NMAX * 2]; } x, aux, y;
    int64_t target[2];
} buf;


/* A valid 2 x 4 problem for k: logits 0.5, -1, 2, 0; target 2 and 1; aux a one-hot
 * probability row (xent_dense, dense xent_grad) or labels 0.25 (bce_logits). */
static ug_problem valid(const ug_kernel *k, buf *b)
{
    static const double xs[4] = {0.5, -1, 2, 0};
    memset(b, 0, sizeof *b);
    for (size_t i = 0; i < 8; i++) {
        ug_store(k->dtype, &b->x, i, xs[i % 4]);
        ug_store(k->dtype, &b->aux, i, k->op == UG_OP_BCE_LOGITS ? 0.25 : i % 4 == 2);
    }
    b->target[0] = 2;
    b->target[1] = 1;
    ug_problem p = {.rows = 2, .n = 4, .x = &b->x, .y = &b->y, .reduction = UG_RED_NONE};
    if (k->op == UG_OP_XENT || k->op == UG_OP_XENT_GRAD)
        p.target = b->target;
    if (k->op == UG_OP_XENT_DENSE || k->op == UG_OP_BCE_LOGITS)
        p.aux = &b->aux;
    return p;
}

static void expect_status(const ug_kernel *k, ug_problem p, ug_status want, const char *what)
{
    ug_status got = k->fn(&p);
    cr_expect_eq(got, want, "%s with %s: status %d (%s), want %d (%s)", k->name, what, got, ug_status_str(got), want,
                 ug_status_str(want));
    if (want != UG_OK)
        cr_expect(strlen(ug_last_error()) > 0, "%s with %s: no message from ug_last_error()", k->name, what);
}

Test(every_kernel, accepts_a_valid_problem)
{
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        buf b;
        expect_status(k, valid(k, &b), UG_OK, "a valid 2 x 4 problem");
        cr_expect_str_empty(ug_last_error(), "%s: message left after success", k->name);
    }
}

Test(every_kernel, rejects_bad_input_with_a_status)
{
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        buf b;
        ug_problem p;
        cr_expect_eq(k->fn(NULL), UG_ERR_NULL, "%s with a NULL problem", k->name);
        p = valid(k, &b), p.n = 0;
        expect_status(k, p, UG_ERR_EMPTY, "n = 0");
        p = valid(k, &b), p.rows = 0;
        expect_status(k, p, UG_ERR_EMPTY, "rows = 0");
        p = valid(k, &b), p.x = NULL;
        expect_status(k, p, UG_ERR_NULL, "x = NULL");
        p = valid(k, &b), p.y = NULL;
        expect_status(k, p, UG_ERR_NULL, "y = NULL");
        p = valid(k, &b), p.reduction = (ug_reduction)7;
        expect_status(k, p, UG_ERR_REDUCTION, "reduction 7");
        if (!ug_op_has_reduction(k->op)) {
            p = valid(k, &b), p.reduction = UG_RED_MEAN;
            expect_status(k, p, UG_ERR_REDUCTION, "a reduction on an op without one");
        }
        if (k->op == UG_OP_XENT || k->op == UG_OP_XENT_GRAD) {
            p = valid(k, &b), b.target[1] = 4;
            expect_status(k, p, UG_ERR_TARGET, "target = n");
            p = valid(k, &b), b.target[0] = -1;
            expect_status(k, p, UG_ERR_TARGET, "target = -1");
        }
        if (k->op == UG_OP_XENT) {
            p = valid(k, &b), p.target = NULL;
            expect_status(k, p, UG_ERR_NULL, "target = NULL");
        }
        if (k->op == UG_OP_XENT_GRAD) {
            p = valid(k, &b), p.target = NULL;
            expect_status(k, p, UG_ERR_NULL, "neither target nor probabilities");
        }
        if (k->op == UG_OP_XENT_DENSE || k->op == UG_OP_XENT_GRAD) {
            p = valid(k, &b), p.target = NULL, p.aux = &b.aux;
            ug_store(k->dtype, &b.aux, 0, 0.5);
            expect_status(k, p, UG_ERR_PROB_SUM, "probabilities summing to 1.5");
            p = valid(k, &b), p.target = NULL, p.aux = &b.aux;
            ug_store(k->dtype, &b.aux, 1, -0.25), ug_store(k->dtype, &b.aux, 2, 1.25);
            expect_status(k, p, UG_ERR_LABEL, "a probability of -0.25");
            p = valid(k, &b), p.target = NULL, p.aux = &b.aux;
            ug_store(k->dtype, &b.aux, 2, NAN);
            expect_status(k, p, UG_ERR_LABEL, "a NaN probability");
        }
        if (k->op == UG_OP_BCE_LOGITS) {
            p = valid(k, &b), p.aux = NULL;
            expect_status(k, p, UG_ERR_NULL, "labels = NULL");
            p = valid(k, &b);
            ug_store(k->dtype, &b.aux, 5, 1.5);
            expect_status(k, p, UG_ERR_LABEL, "a label of 1.5");
            p = valid(k, &b);
            ug_store(k->dtype, &b.aux, 3, NAN);
            expect_status(k, p, UG_ERR_LABEL, "a NaN label");
        }
    }
}

/* The labels of bce_logits are checked in blocks (core/common.c, 256 at a time without a
 * branch per element, then one by one): on a 3 x 300 problem (three whole blocks and a
 * tail) every bce row accepts labels at the ends of [0, 1] (+0, -0, 1, the smallest
 * subnormal) anywhere, and rejects a label just outside it (the next value above 1, the
 * smallest negative subnormal, -1, +-inf, NaN of either sign) at the first and last element,
 * the edges of a block and the tail, naming the first bad element (row, element) when a
 * second one follows. */
enum { LROWS = 3, LN = 300, LCOUNT = LROWS * LN };

static void put_label_bits(ug_dtype dt, void *aux, size_t i, uint64_t bits)
{
    if (dt == UG_F64) {
        memcpy((double *)aux + i, &bits, sizeof(double));
    } else if (dt == UG_F32) {
        uint32_t b = (uint32_t)bits;
        memcpy((float *)aux + i, &b, sizeof(float));
    } else {
        ((ug_bf16 *)aux)[i].bits = (uint16_t)bits;
    }
}

Test(bce_labels, checked_in_every_block)
{
    /* per dtype: +0, -0, 1, smallest subnormal; then 1 + ulp, -smallest subnormal, -1, +inf,
     * -inf, NaN, -NaN */
    static const uint64_t good[3][4] = {{0, 0x80000000u, 0x3f800000u, 1},
                                        {0, 0x8000000000000000u, 0x3ff0000000000000u, 1},
                                        {0, 0x8000u, 0x3f80u, 1}};
    static const uint64_t bad[3][7] = {
        {0x3f800001u, 0x80000001u, 0xbf800000u, 0x7f800000u, 0xff800000u, 0x7fc00001u, 0xffc00000u},
        {0x3ff0000000000001u, 0x8000000000000001u, 0xbff0000000000000u, 0x7ff0000000000000u, 0xfff0000000000000u,
         0x7ff8000000000001u, 0xfff8000000000000u},
        {0x3f81u, 0x8001u, 0xbf80u, 0x7f80u, 0xff80u, 0x7fc1u, 0xffc0u}};
    static const size_t at[] = {0, 1, 255, 256, 257, 511, 512, 767, 768, 769, 899};
    size_t ran = 0;
    for (size_t q = 0; q < ug_kernel_count(); q++) {
        const ug_kernel *k = ug_kernel_at(q);
        if (k->op != UG_OP_BCE_LOGITS || !ug_kernel_available(k))
            continue;
        int d = k->dtype == UG_F32 ? 0 : k->dtype == UG_F64 ? 1 : 2;
        static double x[LCOUNT], y[LCOUNT], aux[LCOUNT]; /* room for any dtype */
        memset(x, 0, sizeof x);
        ug_problem p = {.rows = LROWS, .n = LN, .x = x, .y = y, .aux = aux, .reduction = UG_RED_NONE};
        for (size_t i = 0; i < LCOUNT; i++)
            put_label_bits(k->dtype, aux, i, good[d][i % 4]);
        expect_status(k, p, UG_OK, "labels +0, -0, 1 and the smallest subnormal in every block");
        for (size_t a = 0; a < sizeof at / sizeof at[0]; a++)
            for (size_t v = 0; v < 7; v++) {
                for (size_t i = 0; i < LCOUNT; i++)
                    put_label_bits(k->dtype, aux, i, good[d][i % 4]);
                put_label_bits(k->dtype, aux, at[a], bad[d][v]);
                if (at[a] + 300 < LCOUNT) /* a second bad label after the first */
                    put_label_bits(k->dtype, aux, at[a] + 300, bad[d][(v + 1) % 7]);
                char what[64], want[64];
                snprintf(what, sizeof what, "bad label %zu at element %zu", v, at[a]);
                expect_status(k, p, UG_ERR_LABEL, what);
                snprintf(want, sizeof want, "row %zu, element %zu: label ", at[a] / LN, at[a] % LN);
                cr_expect(strncmp(ug_last_error(), want, strlen(want)) == 0, "%s with %s: message '%s', want it to start '%s'",
                          k->name, what, ug_last_error(), want);
            }
        ran++;
    }
    cr_expect(ran >= 3, "only %zu bce_logits rows ran", ran);
}

/* Bits of a dtype value held in a double: -0 and +0 differ, NaN matches NaN. */
static int same(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

/* Masks: a row [a, -inf, b, c] against the row [a, b, c]: the masked output is exactly +0
 * (softmax) or -inf (log_softmax), xent_grad's is 0 - [i = t], and every other output has the
 * same bits as without the mask. */
Test(every_non_canary_kernel, treats_minus_inf_as_a_mask)
{
    static const double row3[3] = {0.75, -2.5, 1.5};
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (k->role == UG_ROLE_CANARY || k->op == UG_OP_BCE_LOGITS)
            continue;
        buf b3, b4;
        memset(&b3, 0, sizeof b3), memset(&b4, 0, sizeof b4);
        for (size_t j = 0; j < 3; j++) {
            ug_store(k->dtype, &b3.x, j, row3[j]);
            ug_store(k->dtype, &b4.x, j + (j > 0), row3[j]);
            ug_store(k->dtype, &b3.aux, j, j == 2 ? 0.75 : j == 0 ? 0.25 : 0);
            ug_store(k->dtype, &b4.aux, j + (j > 0), j == 2 ? 0.75 : j == 0 ? 0.25 : 0);
        }
        ug_store(k->dtype, &b4.x, 1, -INFINITY);
        ug_store(k->dtype, &b4.aux, 1, 0);
        b3.target[0] = 1, b4.target[0] = 2;
        ug_problem p3 = {.rows = 1, .n = 3, .x = &b3.x, .y = &b3.y, .target = b3.target};
        ug_problem p4 = {.rows = 1, .n = 4, .x = &b4.x, .y = &b4.y, .target = b4.target};
        if (k->op == UG_OP_XENT_DENSE)
            p3.aux = &b3.aux, p4.aux = &b4.aux;
        cr_assert_eq(k->fn(&p3), UG_OK, "%s: %s", k->name, ug_last_error());
        cr_assert_eq(k->fn(&p4), UG_OK, "%s: %s", k->name, ug_last_error());
        size_t outs = ug_output_count(k->op, 1, 3, UG_RED_NONE);
        if (outs == 1) {
            cr_expect(same(ug_load(k->dtype, &b3.y, 0), ug_load(k->dtype, &b4.y, 0)), "%s: masked row gives %a, unmasked %a", k->name,
                      ug_load(k->dtype, &b4.y, 0), ug_load(k->dtype, &b3.y, 0));
            continue;
        }
        for (size_t j = 0; j < 3; j++) {
            double u = ug_load(k->dtype, &b3.y, j), m = ug_load(k->dtype, &b4.y, j + (j > 0));
            cr_expect(same(u, m), "%s: output %zu is %a with a mask, %a without", k->name, j, m, u);
        }
        double masked = ug_load(k->dtype, &b4.y, 1);
        double want = k->op == UG_OP_LOG_SOFTMAX ? -INFINITY : 0.0;
        cr_expect(same(masked, want), "%s: the masked entry gives %a, not %a", k->name, masked, want);
    }
}

/* n = 1: softmax 1, log_softmax +0, logsumexp x_0, xent +0, xent_grad +0, for x_0 = -3.25. */
Test(every_non_canary_kernel, handles_n_equal_1)
{
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (k->role == UG_ROLE_CANARY || k->op == UG_OP_BCE_LOGITS)
            continue;
        buf b;
        memset(&b, 0, sizeof b);
        ug_store(k->dtype, &b.x, 0, -3.25);
        ug_store(k->dtype, &b.aux, 0, 1);
        ug_problem p = {.rows = 1, .n = 1, .x = &b.x, .y = &b.y, .target = b.target};
        if (k->op == UG_OP_XENT_DENSE)
            p.aux = &b.aux;
        cr_assert_eq(k->fn(&p), UG_OK, "%s: %s", k->name, ug_last_error());
        double want = k->op == UG_OP_SOFTMAX ? 1.0 : k->op == UG_OP_LOGSUMEXP ? -3.25 : 0.0;
        double got = ug_load(k->dtype, &b.y, 0);
        cr_expect(same(got, want), "%s: n = 1 gives %a, not %a", k->name, got, want);
    }
}
