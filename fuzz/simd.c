/* Fuzz target simd: every SIMD row (isa other than "scalar") against its scalar twin (the
 * row of the same name without the ".isa" suffix) and against itself, on the ops that have
 * SIMD rows.  Per input, after the harness has judged every kernel of the input's op and
 * dtype against the oracle (so the SIMD row and its twin both keep their claims, or the
 * run stops there), ug_fuzz_target_check (harness.h) asks, for each SIMD row of that op and dtype this CPU runs:
 *
 *   same status   the SIMD row and its twin accept or refuse the input alike;
 *   deterministic a second call gives the same bits;
 *   batching      with reduction none and several rows, each row alone gives the same bits
 *                 as in the batch (the kernels' outputs never depend on the batching);
 *   twin          outputs that differ from the twin's in bits are counted (UG_FUZZ_VERBOSE
 *                 prints the count): a difference is allowed, since both are within their
 *                 claims of the oracle's answer, which is the differential bound (bf16
 *                 softmax and log_softmax rows of n > 512 compute in binary32 lanes and
 *                 differ from the binary64 twin near bf16 midpoints: SIMD-ERROR-ANALYSIS.md
 *                 §8.5; determinism and batching above stay bit-exact for them too);
 *   f64 twin      f64 rows and their x87 twins: every output that differs is finite in both
 *                 and at most one binary64 ULP from the twin's (double-double rows), claim + 1
 *                 (the rows of the binary64 exp, f64_twin_ulps).
 * A broken property prints the kernel, the property and the output, then aborts (libFuzzer
 * keeps the input as a crash; fuzz_simd_replay reports it).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "harness.h"
#include "ulp.h"

const ug_fuzz_target ug_fuzz_this_target = {
    "simd",
    "SIMD rows against their scalar twins: same status, deterministic, batch-independent",
    UG_FUZZ_OP(UG_OP_SOFTMAX) | UG_FUZZ_OP(UG_OP_LOG_SOFTMAX) | UG_FUZZ_OP(UG_OP_LOGSUMEXP) | UG_FUZZ_OP(UG_OP_XENT) |
        UG_FUZZ_OP(UG_OP_XENT_GRAD) | UG_FUZZ_OP(UG_OP_BCE_LOGITS)};

UG_FUZZ_ENTRY_POINTS

/* k on b under red: the status, and the outputs widened (malloc'd, *count of them). */
static ug_status call(const ug_kernel *k, const ug_batch *b, ug_reduction red, double **out, size_t *count)
{
    *count = ug_output_count(k->op, b->rows, b->n, red);
    void *y = calloc(*count + 1, ug_dtype_size(k->dtype));
    *out = malloc((*count + 1) * sizeof **out);
    if (y == NULL || *out == NULL)
        abort();
    ug_problem p = ug_batch_problem(b, red, y);
    ug_status st = k->fn(&p);
    for (size_t i = 0; i < *count; i++)
        (*out)[i] = ug_batch_get(k->dtype, y, i);
    free(y);
    return st;
}

static void broke(const ug_kernel *k, const char *what, size_t i, double a, double b)
{
    fprintf(stderr, "fuzz_simd: %s: %s: output %zu is %a, then %a\n", k->name, what, i, a, b);
    abort();
}

static void expect_same(const ug_kernel *k, const char *what, const double *a, const double *b, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!ug_same_bits(k->dtype, a[i], b[i]))
            broke(k, what, i, a[i], b[i]);
}

/* Each row of b alone against the batch's outputs all (reduction none). */
static void expect_rows_alone(const ug_kernel *k, const ug_batch *b, const double *all)
{
    size_t per_row = ug_output_count(k->op, 1, b->n, UG_RED_NONE);
    for (size_t r = 0; r < b->rows; r++) {
        ug_batch *one = ug_batch_copy(b, r, 1);
        if (one == NULL)
            abort();
        double *o;
        size_t count;
        if (call(k, one, UG_RED_NONE, &o, &count) == UG_OK)
            expect_same(k, "a row alone against the batch", all + r * per_row, o, count);
        free(o);
        ug_batch_free(one);
    }
}

/* a and b finite, of one sign, at most `most` binary64 ULPs apart. */
static int f64_near(double a, double b, int64_t most)
{
    int64_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return isfinite(a) && isfinite(b) && (a == b || ((x < 0) == (y < 0) && (x > y ? x - y : y - x) <= most));
}

/* The ULPs allowed between an f64 row and its x87 twin: claim + 1 for the rows of the binary64
 * exp (softmax, log_softmax, logsumexp, xent, xent_grad, algorithm not "dd":
 * SIMD-ERROR-ANALYSIS.md §7.5), 1 for the double-double rows and bce_logits
 * (props/test_simd.c, expect_f64_near_twin). */
static int64_t f64_twin_ulps(const ug_kernel *k)
{
    int fast = strcmp(k->algorithm, "dd") != 0 && (k->op == UG_OP_SOFTMAX || k->op == UG_OP_LOG_SOFTMAX ||
                                                    k->op == UG_OP_LOGSUMEXP || k->op == UG_OP_XENT ||
                                                    k->op == UG_OP_XENT_GRAD);
    return fast ? (int64_t)k->bound.ulp + 1 : 1;
}

static void check_row(const ug_kernel *k, const ug_fuzz_case *c)
{
    const ug_kernel *tw = ug_kernel_scalar_twin(k);
    if (tw == NULL) {
        fprintf(stderr, "fuzz_simd: %s has no scalar twin\n", k->name);
        abort();
    }
    double *a, *again, *t;
    size_t count, count2, count3;
    ug_status sa = call(k, c->b, c->red, &a, &count);
    ug_status s2 = call(k, c->b, c->red, &again, &count2);
    ug_status st = call(tw, c->b, c->red, &t, &count3);
    if (sa != st || sa != s2) {
        fprintf(stderr, "fuzz_simd: %s: status %d (again %d), its twin %s: %d\n", k->name, (int)sa, (int)s2, tw->name,
                (int)st);
        abort();
    }
    if (sa == UG_OK) {
        expect_same(k, "a second call", a, again, count);
        if (c->red == UG_RED_NONE && c->b->rows > 1)
            expect_rows_alone(k, c->b, a);
        size_t differ = 0;
        for (size_t i = 0; i < count; i++) {
            int same = ug_same_bits(k->dtype, a[i], t[i]);
            differ += !same;
            if (!same && k->dtype == UG_F64 && !f64_near(a[i], t[i], f64_twin_ulps(k)))
                broke(k, "more than the allowed ULPs from the scalar twin", i, a[i], t[i]);
        }
        if (differ > 0 && getenv("UG_FUZZ_VERBOSE") != NULL)
            fprintf(stderr, "fuzz_simd: %s: %zu of %zu outputs differ in bits from %s (both within their claims)\n",
                    k->name, differ, count, tw->name);
    }
    free(a), free(again), free(t);
}

void ug_fuzz_target_check(const struct ug_fuzz_case *c)
{
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (k->op == c->k->op && k->dtype == c->k->dtype && strcmp(k->isa, "scalar") != 0 && ug_kernel_available(k))
            check_row(k, c);
    }
}
