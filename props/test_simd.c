/* The SIMD kernels (core/simd_*.c) against their scalar twins and against themselves.
 *
 * Iterates the registry: every row whose isa is not "scalar" is a SIMD row, and its twin is
 * the row of the same name without the ".isa" suffix.  A row this CPU cannot run
 * (ug_kernel_available) is skipped with a message on stderr; a test with nothing it can
 * run is skipped as a whole (cr_skip_test).
 *
 *   agrees_with_scalar_twin  on every input family (and, for xent, every reduction), each
 *                            output is bit-identical to the twin's, or both are within
 *                            their claims against the oracle (no special-value violation)
 *   long_rows                the same on rows longer than a summation block (4096)
 *   long_rows_mixed_...      pipelined long rows with fallback rows and L = 0 rows between:
 *                            bit-identical to the twin (bf16 softmax and log_softmax, whose
 *                            long rows compute in binary32 lanes: identical, or both within
 *                            their claims), batch-independent
 *   bf16_long_rows_far_...   bf16 softmax and log_softmax long rows (binary32 lanes) whose other
 *                            entries lie 80 to 150 below the max: every output within its
 *                            claim against the oracle
 *   tiny_rows_pipeline_...   tiny rows (n <= 16) in batches of 1 to 33 rows, special, L = 0 and
 *                            masked rows in the first, middle and last groups: the twin's bits
 *   deterministic            the same call twice gives the same bits
 *   batch_independent        a batch, its rows one by one and its halves give the same bits
 *   streamed_outputs_same_bits  the same for an f64 call of >= 8 MiB of outputs, whose long
 *                            rows' outputs are streamed (non-temporal stores, a row late)
 *   dispatch                 ug_set_isa / UG_ISA cap ug_kernel_production; unknown names
 *                            and ISAs the CPU lacks are refused
 *   vexp_*                   the vector exp against MPFR on random binary64 arguments (the
 *                            exhaustive f32 sweep is props/slow_exp_exhaustive.c), its
 *                            special values, and AVX2 = AVX-512 bit for bit
 *   vlog1p_*                 the vector log1p against MPFR (claim 2^-49.96), special values,
 *                            AVX2 = AVX-512 bit for bit
 *   bf16_store               the kernels' binary64 -> bf16 store = ug_bf16_from_f64 (AVX2,
 *                            AVX-512 integer rounding, AVX512_BF16's VCVTNEPS2BF16)
 *   bf16_hw_store_same_bits  AVX-512 bf16 rows: VCVTNEPS2BF16 stores = integer stores (long rows
 *                            in binary32 lanes with tiny outputs included)
 *   vexpf_*                  the bf16 long rows' binary32 exp (E = exp(x) 2^64) against MPFR
 *                            on random arguments (the exhaustive sweep is
 *                            props/slow_exp_ps_exhaustive.c), special values, AVX2 = AVX-512
 *   bf16_store_f32           the binary32 -> bf16 store of the long rows = ug_bf16_from_f32
 *                            (AVX2, AVX-512 integer rounding, VCVTNEPS2BF16, VCVTNE2PS2BF16)
 *   vexp_dd_*, vlog1p_dd_*   the f64 rows' double-double exp and log1p against MPFR (claims
 *                            2^-62.9 and 2^-56.1), special values, AVX2 = AVX-512 bit for bit
 *   vexp_f64_mpfr            the 2-ULP rows' binary64 exp against MPFR (claim 2^-56.0), its
 *                            high part the pair rounded once, AVX2 = AVX-512 bit for bit
 *   vlog1p_dd01_mpfr         bce_logits' table-driven log1p of s in [0, 1] against MPFR (claim
 *                            2^-62.0) over its whole domain, s = 0 and 1, AVX2 = AVX-512 bit for bit
 * f64 rows: their outputs may differ from the x87 scalar twin's bits, never by more than one
 * ULP for the double-double rows, claim + 1 for the rows of the binary64 exp (softmax,
 * log_softmax, logsumexp, xent, xent_grad: expect_f64_near_twin), and both stay within their claims
 * where they differ.  Rows of their own algorithm (*.dd.f64.*) take the scalar production row.
 *   f64_threshold            f64 rows on rows around x - max = -670 (the scalar fallback),
 *                            with masks, against the twin and the oracle, batch-independent
 *   f64_short_rows_mixed     f64 rows of n = 1 .. 33 (the short rows go VL at a time,
 *                            transposed): groups mixing ordinary rows with peaked ones (the
 *                            ordered sum rejected), rows that fall back (NaN, +inf, all
 *                            -inf, x - max < -670), L = 0, ties, m <= 0, m = 1e6 and terms
 *                            near ulp(H)/2 of the accumulators (§7.8): against
 *                            the twin and the oracle, every reduction, batch-independent
 * Each test prints what it measured (outputs compared, differing bits, largest errors).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <mpfr.h>

#include "families.h"
#include "judge.h"
#include "prng.h"
#include "simd.h"
#include "simd_f64.h"
#include "ulp.h"
#include "ulpgate/registry.h"

/* ---------------------------------------------------------------- registry helpers */

static int is_simd(const ug_kernel *k) { return strcmp(k->isa, "scalar") != 0; }

/* 1 when k can run here; otherwise says so on stderr. */
static int runnable(const ug_kernel *k)
{
    if (ug_kernel_available(k))
        return 1;
    fprintf(stderr, "test_simd: skip %s: this CPU cannot run %s code\n", k->name, k->isa);
    return 0;
}

/* ---------------------------------------------------------------- running a kernel */

typedef struct outs {
    size_t count;
    double *v;
    ug_status st;
} outs;

static outs run(const ug_kernel *k, const ug_batch *b, ug_reduction red)
{
    size_t count = ug_output_count(k->op, b->rows, b->n, red);
    void *y = calloc(count, ug_dtype_size(k->dtype));
    outs o = {count, malloc(count * sizeof(double)), UG_ERR_NOMEM};
    cr_assert(y != NULL && o.v != NULL, "out of memory");
    ug_problem p = ug_batch_problem(b, red, y);
    o.st = k->fn(&p);
    for (size_t i = 0; i < count; i++)
        o.v[i] = ug_batch_get(k->dtype, y, i);
    free(y);
    return o;
}

static void outs_free(outs *o) { free(o->v); }

static int reductions(const ug_kernel *k) { return ug_op_has_reduction(k->op) ? 3 : 1; }

/* ---------------------------------------------------------------- twins */

typedef struct tally {
    size_t outputs, differ;
    double max_ulp;     /* the SIMD row's largest error where the bits differ */
    int64_t max_apart;  /* f64: the largest distance in binary64 ULPs (bit patterns) from the twin */
} tally;

/* Where k and its twin differ, both must be within their claims against the oracle. */
static void judge_difference(const ug_kernel *k, const ug_kernel *tw, const ug_batch *b, const ug_expect *e,
                             size_t i, double yk, double yt, const char *where, tally *t)
{
    ug_cmp ck = ug_expect_compare(e, i, yk), ct = ug_expect_compare(e, i, yt); /* lazy values too */
    double bk = ug_bound_at(k, b->n, e->exact[i].kappa), bt = ug_bound_at(tw, b->n, e->exact[i].kappa);
    cr_expect(ck.cls == UG_CMP_OK && !ug_expect_exceeds(e, i, yk, ck.ulp, bk), "%s %s output %zu: %a (%s, %g ULP) where %s gives %a; bound %g",
              k->name, where, i, yk, ug_cmp_class_name(ck.cls), ck.ulp, tw->name, yt, bk);
    cr_expect(ct.cls == UG_CMP_OK && !ug_expect_exceeds(e, i, yt, ct.ulp, bt), "%s %s output %zu: twin %s %a (%s, %g ULP), bound %g", k->name,
              where, i, tw->name, yt, ug_cmp_class_name(ct.cls), ct.ulp, bt);
    t->differ++;
    if (ck.ulp > t->max_ulp)
        t->max_ulp = ck.ulp;
}

/* The f64 rows whose exp is the binary64 one of core/simd_vexp_f64.h and whose claim may be
 * up to 2 ULP (SIMD-ERROR-ANALYSIS.md §7.5): softmax, log_softmax, logsumexp, xent,
 * xent_grad, algorithm not "dd" (bce_logits takes that exp too but stays within 0.5 + 2^-2
 * ULP: the double-double rows' 1 ULP from the twin). */
static int f64_fast_row(const ug_kernel *k)
{
    return k->dtype == UG_F64 && strcmp(k->algorithm, "dd") != 0 &&
           (k->op == UG_OP_SOFTMAX || k->op == UG_OP_LOG_SOFTMAX || k->op == UG_OP_LOGSUMEXP || k->op == UG_OP_XENT ||
            k->op == UG_OP_XENT_GRAD);
}

/* f64 rows compute in binary64 lanes (double-doubles or the binary64 exp), their scalar twins
 * in x87 extended precision: the bits may differ, and a special value is the twin's exactly.
 * The double-double rows never differ by more than one binary64 ULP (both are within 0.5 +
 * 2^-2.9 ULP of the exact value); the rows of the binary64 exp by at most their claim + 1
 * (the twin is within 0.5 + 2^-3 ULP, the row within its claim). */
static void expect_f64_near_twin(const ug_kernel *k, size_t i, double yk, double yt, const char *where, tally *t)
{
    int64_t a, c, most = f64_fast_row(k) ? (int64_t)k->bound.ulp + 1 : 1;
    memcpy(&a, &yk, sizeof a);
    memcpy(&c, &yt, sizeof c);
    int64_t apart = (a < 0) == (c < 0) ? (a > c ? a - c : c - a) : INT64_MAX;
    int near = isfinite(yk) && isfinite(yt) && (yk == yt || apart <= most);
    if (near && yk != yt && apart > t->max_apart)
        t->max_apart = apart;
    cr_expect(near, "%s %s output %zu: %a where the scalar twin gives %a: more than %lld ULP apart", k->name, where,
              i, yk, yt, (long long)most);
}

static void compare_twin(const ug_kernel *k, const ug_kernel *tw, const ug_batch *b, ug_reduction red,
                         const char *where, tally *t)
{
    outs a = run(k, b, red), s = run(tw, b, red);
    cr_expect_eq(a.st, UG_OK, "%s %s: status %d (%s)", k->name, where, a.st, ug_last_error());
    cr_expect_eq(s.st, UG_OK, "%s %s: status %d", tw->name, where, s.st);
    ug_expect e;
    int have = 0;
    for (size_t i = 0; a.st == UG_OK && s.st == UG_OK && i < a.count; i++) {
        if (ug_same_bits(k->dtype, a.v[i], s.v[i]))
            continue;
        if (!have && ug_expect_init(&e, b, red) != UG_OK)
            cr_assert_fail("%s %s: the oracle refused the batch", k->name, where);
        have = 1;
        judge_difference(k, tw, b, &e, i, a.v[i], s.v[i], where, t);
        if (k->dtype == UG_F64)
            expect_f64_near_twin(k, i, a.v[i], s.v[i], where, t);
    }
    t->outputs += a.count;
    if (have)
        ug_expect_free(&e);
    outs_free(&a);
    outs_free(&s);
}

static void twin_on_families(const ug_kernel *k, const ug_kernel *tw)
{
    tally t = {0};
    for (size_t f = 0; f < ug_family_count(); f++) {
        const ug_family *fam = ug_family_at(f);
        if (!ug_family_supports(fam, k->dtype))
            continue;
        ug_batch_list l;
        cr_assert_eq(ug_family_generate(fam, k->op, k->dtype, 1, 0, 0, &l), UG_OK, "%s: generation", fam->name);
        for (size_t i = 0; i < l.count; i++)
            for (int red = 0; red < reductions(k); red++) {
                char where[96];
                snprintf(where, sizeof where, "family %s batch %zu %s", fam->name, i, ug_reduction_name(red));
                compare_twin(k, tw, l.items[i], (ug_reduction)red, where, &t);
            }
        ug_batch_list_free(&l);
    }
    fprintf(stderr,
            "test_simd: %-34s vs %-26s %7zu outputs, %5zu differ in bits (largest error there %.4g ULP, %lld ULP "
            "apart)\n",
            k->name, tw->name, t.outputs, t.differ, t.max_ulp, (long long)t.max_apart);
}

Test(simd, agrees_with_scalar_twin)
{
    size_t ran = 0;
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (!is_simd(k) || !runnable(k))
            continue;
        const ug_kernel *tw = ug_kernel_scalar_twin(k);
        cr_assert(tw != NULL && tw->op == k->op && tw->dtype == k->dtype, "%s has no scalar twin", k->name);
        twin_on_families(k, tw);
        ran++;
    }
    if (ran == 0)
        cr_skip_test("this CPU runs none of the SIMD rows");
}

/* rows x n normal(0, sigma) logits in k's dtype, targets (sparse labels) spread over the row,
 * bce labels 0, 1 or uniform. */
static ug_batch *normal_batch(const ug_kernel *k, size_t rows, size_t n, double sigma, uint64_t seed)
{
    int bce = k->op == UG_OP_BCE_LOGITS;
    ug_batch *b = ug_batch_new(k->op, k->dtype, rows, n, k->op == UG_OP_XENT || k->op == UG_OP_XENT_GRAD, bce);
    cr_assert(b != NULL, "out of memory");
    ug_prng g;
    ug_prng_seed(&g, seed);
    for (size_t i = 0; i < rows * n; i++) {
        ug_batch_put(k->dtype, b->x, i, sigma * ug_prng_normal(&g));
        if (bce) /* labels: 0, 1 and in between */
            ug_batch_put(k->dtype, b->aux, i, i % 3 == 2 ? ug_prng_uniform(&g) : (double)(i % 3));
    }
    for (size_t r = 0; b->target != NULL && r < rows; r++)
        b->target[r] = (int64_t)ug_prng_below(&g, n);
    return b;
}

Test(simd, long_rows)
{
    static const size_t ns[] = {4096, 4097, 9001};
    size_t ran = 0;
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (!is_simd(k) || !runnable(k))
            continue;
        tally t = {0};
        for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++) {
            ug_batch *b = normal_batch(k, 2, ns[j], 3.0, 7 + j);
            char where[64];
            snprintf(where, sizeof where, "2 x %zu normal(0, 3)", ns[j]);
            compare_twin(k, ug_kernel_scalar_twin(k), b, UG_RED_NONE, where, &t);
            ug_batch_free(b);
        }
        fprintf(stderr, "test_simd: %-34s long rows: %zu outputs, %zu differ in bits (largest error there %.4g ULP)\n",
                k->name, t.outputs, t.differ, t.max_ulp);
        ran++;
    }
    if (ran == 0)
        cr_skip_test("this CPU runs none of the SIMD rows");
}

/* bf16 softmax and log_softmax long rows (binary32 lanes, SIMD-ERROR-ANALYSIS.md §8) on rows
 * whose other entries lie 80 to 150 below the max: exps near and below binary32's normal
 * range, whose sum (log_softmax's sp) must keep a relative error bound (the 2^64 scaling of
 * vexpf), every output judged against the oracle (not only where the twin differs). */
Test(simd, bf16_long_rows_far_below_the_max)
{
    static const double lo[] = {-100, -150, -95, -131};
    static const double hi[] = {-88, -80, -90, -120};
    size_t ran = 0;
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (!is_simd(k) || k->dtype != UG_BF16 || (k->op != UG_OP_SOFTMAX && k->op != UG_OP_LOG_SOFTMAX) ||
            !runnable(k))
            continue;
        size_t outputs = 0, worse_than_half = 0;
        double worst = 0;
        for (size_t c = 0; c < sizeof lo / sizeof lo[0]; c++) {
            enum { ROWS = 2, N = 20000 };
            ug_batch *b = ug_batch_new(k->op, k->dtype, ROWS, N, 0, 0);
            cr_assert(b != NULL, "out of memory");
            ug_prng g;
            ug_prng_seed(&g, 40 + c);
            for (size_t j = 0; j < ROWS * N; j++)
                ug_batch_put(k->dtype, b->x, j, j % N == 17 ? 3.0 : 3.0 + ug_prng_uniform_in(&g, lo[c], hi[c]));
            outs o = run(k, b, UG_RED_NONE);
            cr_assert_eq(o.st, UG_OK, "%s: status %d", k->name, o.st);
            ug_expect e;
            cr_assert_eq(ug_expect_init(&e, b, UG_RED_NONE), UG_OK, "%s: the oracle refused the batch", k->name);
            for (size_t j = 0; j < o.count; j++) {
                ug_cmp cm = ug_expect_compare(&e, j, o.v[j]);
                double bound = ug_bound_at(k, b->n, e.exact[j].kappa);
                cr_expect(cm.cls == UG_CMP_OK && !ug_expect_exceeds(&e, j, o.v[j], cm.ulp, bound),
                          "%s: entries in [%g, %g] below the max: output %zu = %a (%s, %g ULP), bound %g", k->name,
                          lo[c], hi[c], j, o.v[j], ug_cmp_class_name(cm.cls), cm.ulp, bound);
                worse_than_half += cm.ulp > 0.5;
                worst = cm.ulp > worst ? cm.ulp : worst;
            }
            outputs += o.count;
            ug_expect_free(&e);
            outs_free(&o);
            ug_batch_free(b);
        }
        fprintf(stderr, "test_simd: %-34s rows far below the max: %zu outputs, largest error %.6g ULP, %zu above 0.5\n",
                k->name, outputs, worst, worse_than_half);
        ran++;
    }
    if (ran == 0)
        cr_skip_test("this CPU runs no bf16 SIMD softmax");
}

/* ---------------------------------------------------------------- determinism, batching */

static void expect_same(const ug_kernel *k, const double *a, const double *b, size_t count, const char *what)
{
    for (size_t i = 0; i < count; i++)
        cr_expect(ug_same_bits(k->dtype, a[i], b[i]), "%s: %s: output %zu is %a, then %a", k->name, what, i, a[i],
                  b[i]);
}

/* The batch's outputs again from rows [r0, r0 + rows) alone. */
static void expect_part(const ug_kernel *k, const ug_batch *b, const outs *all, size_t r0, size_t rows)
{
    size_t per_row = ug_output_count(k->op, 1, b->n, UG_RED_NONE);
    ug_batch *part = ug_batch_copy(b, r0, rows);
    cr_assert(part != NULL, "out of memory");
    outs o = run(k, part, UG_RED_NONE);
    char what[64];
    snprintf(what, sizeof what, "rows %zu..%zu alone", r0, r0 + rows - 1);
    expect_same(k, all->v + r0 * per_row, o.v, o.count, what);
    outs_free(&o);
    ug_batch_free(part);
}

static void batching_on(const ug_kernel *k, const ug_batch *b)
{
    outs all = run(k, b, UG_RED_NONE), again = run(k, b, UG_RED_NONE);
    expect_same(k, all.v, again.v, all.count, "a second call");
    for (size_t r = 0; r < b->rows; r++)
        expect_part(k, b, &all, r, 1);
    if (b->rows >= 2) {
        expect_part(k, b, &all, 0, b->rows / 2);
        expect_part(k, b, &all, b->rows / 2, b->rows - b->rows / 2);
    }
    outs_free(&all);
    outs_free(&again);
}

Test(simd, deterministic_and_batch_independent)
{
    static const char *const fams[] = {"normal10", "masked", "special", "dominant", "lengths", "tiny"};
    size_t ran = 0;
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (!is_simd(k) || !runnable(k))
            continue;
        for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
            ug_batch_list l;
            cr_assert_eq(ug_family_generate(ug_family_find(fams[f]), k->op, k->dtype, 3, 0, 0, &l), UG_OK, "%s",
                         fams[f]);
            for (size_t j = 0; j < l.count; j++)
                batching_on(k, l.items[j]);
            ug_batch_list_free(&l);
        }
        ug_batch *b = normal_batch(k, 3, 5000, 1.0, 11);
        batching_on(k, b);
        ug_batch_free(b);
        ran++;
    }
    if (ran == 0)
        cr_skip_test("this CPU runs none of the SIMD rows");
}

/* Row r of b: k's outputs the bits of its scalar twin's (the special rows of the test below). */
static void expect_rows_like_twin(const ug_kernel *k, const ug_batch *b, size_t r)
{
    ug_batch *one = ug_batch_copy(b, r, 1);
    cr_assert(one != NULL, "out of memory");
    outs a = run(k, one, UG_RED_NONE), s = run(ug_kernel_scalar_twin(k), one, UG_RED_NONE);
    char what[64];
    snprintf(what, sizeof what, "special row %zu against the scalar twin", r);
    expect_same(k, a.v, s.v, a.count, what);
    outs_free(&a);
    outs_free(&s);
    ug_batch_free(one);
}

/* Long rows (n > UG__SIMD_GROUP_MAX_N) are pipelined: a row's outputs are written during the
 * next row's pass 2, and the sign of log_softmax's zero at the max is set afterwards.  Rows
 * that fall back to the scalar kernel (NaN, +inf, all -inf) and rows whose L is 0 (one
 * finite entry) between ordinary ones must leave every output as the twin's, and each row
 * alone must give the same bits. */
Test(simd, long_rows_mixed_with_special_rows)
{
    enum { ROWS = 7, N = 700 };
    size_t ran = 0;
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (!is_simd(k) || !runnable(k) || k->op == UG_OP_BCE_LOGITS)
            continue;
        ug_batch *b = normal_batch(k, ROWS, N, 2.0, 21);
        double *row = malloc(N * sizeof *row);
        cr_assert(row != NULL, "out of memory");
        for (size_t r = 0; r < ROWS; r++) {
            for (size_t j = 0; j < N; j++)
                row[j] = ug_batch_get(k->dtype, b->x, r * N + j);
            if (r == 1)
                row[N / 2] = NAN;
            if (r == 2 || r == 5) /* L = 0: the other finite entry is e^-800 below the max, so
                                      log_softmax's max output is -0 */
                for (size_t j = 0; j < N; j++)
                    row[j] = j == 3 ? 800 : j == 7 ? 0 : -INFINITY;
            if (r == 4)
                row[N - 1] = INFINITY;
            for (size_t j = 0; j < N; j++)
                ug_batch_put(k->dtype, b->x, r * N + j, row[j]);
            if (b->target != NULL && (r == 2 || r == 5))
                b->target[r] = 3;
        }
        free(row);
        tally t = {0};
        compare_twin(k, ug_kernel_scalar_twin(k), b, UG_RED_NONE, "7 x 700, special rows between", &t);
        /* f64: within 1 ULP of the twin (compare_twin), not its bits.  bf16 softmax and
         * log_softmax: these long rows compute in binary32 lanes (core/simd_bf16_tmpl.h), whose
         * value may round to the other side of a bf16 midpoint than the twin's binary64 one:
         * compare_twin judged every differing output against the oracle (both within their
         * claims); the special rows' outputs (scalar fallback, -0 at the max) stay the twin's. */
        int ps_lanes = k->dtype == UG_BF16 && (k->op == UG_OP_SOFTMAX || k->op == UG_OP_LOG_SOFTMAX);
        if (k->dtype != UG_F64 && !ps_lanes)
            cr_expect_eq(t.differ, 0, "%s: %zu outputs differ from the twin's", k->name, t.differ);
        static const size_t special[] = {1, 2, 4, 5};
        for (size_t j = 0; ps_lanes && j < sizeof special / sizeof special[0]; j++)
            expect_rows_like_twin(k, b, special[j]);
        batching_on(k, b);
        ug_batch_free(b);
        ran++;
    }
    fprintf(stderr, "test_simd: long rows with special rows between: %zu SIMD rows agree with their twins\n", ran);
    if (ran == 0)
        cr_skip_test("this CPU runs none of the SIMD rows");
}

/* b (reduction none) against k's twin into *t, then batch independence; b freed. */
static void twin_batching_free(const ug_kernel *k, ug_batch *b, const char *where, tally *t)
{
    compare_twin(k, ug_kernel_scalar_twin(k), b, UG_RED_NONE, where, t);
    batching_on(k, b);
    ug_batch_free(b);
}

/* The tiny-row tests' frame: cases(k, t) for every runnable f32/bf16 SIMD row but
 * bce_logits (its rows are elementwise), then none of its outputs may differ from the twin's;
 * what names the test in its summary line. */
static void tiny_rows_against_twins(void (*cases)(const ug_kernel *, tally *), const char *what)
{
    size_t ran = 0;
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (!is_simd(k) || !runnable(k) || k->op == UG_OP_BCE_LOGITS || k->dtype == UG_F64)
            continue;
        tally t = {0};
        cases(k, &t);
        cr_expect_eq(t.differ, 0, "%s: %zu outputs of tiny rows differ from the twin's", k->name, t.differ);
        ran++;
    }
    fprintf(stderr, "test_simd: tiny rows, %s: %zu SIMD rows agree with their twins\n", what, ran);
    if (ran == 0)
        cr_skip_test("this CPU runs none of the SIMD rows");
}

/* Tiny rows (n = nv VL, nv <= 4: 4 to 16 entries on AVX2, 8 to 32 on AVX-512) are taken 8 at
 * a time; on AVX2 a group whose smallest entry minus largest max is >= X_MIN takes the exp
 * without its flush, and log_softmax keeps x - m for its outputs (session 6).  Groups in
 * range, groups out of range (one entry 800 below its row's max, -inf masks, a row with L =
 * 0), special rows (NaN, +inf) and ties of the max, each in a different group, must give the
 * twin's bits (f32, bf16), row by row as in a batch. */
static void tiny_cases_in_and_out_of_range(const ug_kernel *k, tally *t)
{
    static const size_t ns[] = {4, 8, 12, 16, 24, 32};
    enum { ROWS = 44 }; /* 5 groups of 8 and a partial one */
    for (size_t q = 0; q < sizeof ns / sizeof ns[0]; q++) {
        size_t n = ns[q];
        ug_batch *b = normal_batch(k, ROWS, n, 2.0, 31 + q);
        for (size_t j = 0; j < n; j++) {
            if (j == 1) /* group 1: out of range by one entry */
                ug_batch_put(k->dtype, b->x, 9 * n + j, -800.0);
            ug_batch_put(k->dtype, b->x, 17 * n + j, j == 0 ? 800.0 : j == 1 ? 0.0 : -INFINITY); /* L = 0 */
            if (j % 3 == 0) /* group 3: -inf masks */
                ug_batch_put(k->dtype, b->x, 26 * n + j, -INFINITY);
            ug_batch_put(k->dtype, b->x, 34 * n + j, j % 2 == 0 ? 1.5 : -0.25); /* ties of the max */
        }
        ug_batch_put(k->dtype, b->x, 36 * n + n / 2, NAN);     /* group 4: special rows */
        ug_batch_put(k->dtype, b->x, 38 * n + n - 1, INFINITY);
        if (b->target != NULL)
            b->target[17] = 0;
        char where[64];
        snprintf(where, sizeof where, "%d x %zu, groups in and out of range", (int)ROWS, n);
        twin_batching_free(k, b, where, t);
    }
}

Test(simd, tiny_rows_in_and_out_of_range)
{
    tiny_rows_against_twins(tiny_cases_in_and_out_of_range, "in and out of range");
}

/* Session 7: log_softmax's tiny rows on AVX2 go through four groups in flight (a group's
 * log1p after the next group's sums, its outputs a group later), their pass 1 in binary32
 * lanes and the max's lanes counted in vector lanes; the other ops share pass 1 and the
 * counts.  Batches of every length around the stages (1 to 33 rows: the pipeline's fill
 * and drain, partial groups), with a special row (NaN, +inf), an L = 0 row and a row of
 * -inf masks placed in the first, a middle and the last group, and a NaN entry beside a
 * huge negative one in the same group (the order of MINPS's operands): the twin's bits, row
 * by row as in a batch. */
static void tiny_cases_pipeline_stages(const ug_kernel *k, tally *t)
{
    static const size_t ns[] = {4, 8, 12, 16};
    static const size_t rowss[] = {1, 2, 7, 8, 9, 16, 17, 24, 25, 33};
    for (size_t q = 0; q < sizeof ns / sizeof ns[0]; q++)
        for (size_t w = 0; w < sizeof rowss / sizeof rowss[0]; w++) {
            size_t n = ns[q], rows = rowss[w];
            ug_batch *b = normal_batch(k, rows, n, 3.0, 57 + 11 * q + w);
            size_t last = rows - 1, mid = rows / 2;
            for (size_t j = 0; j < n; j++) {
                if (rows > 2) /* L = 0 in the middle */
                    ug_batch_put(k->dtype, b->x, mid * n + j, j == n - 1 ? 3.0 : -INFINITY);
                if (rows > 3 && j % 2 == 1) /* -inf masks in the first group */
                    ug_batch_put(k->dtype, b->x, 1 * n + j, -INFINITY);
            }
            if (rows > 1) /* the last row special */
                ug_batch_put(k->dtype, b->x, last * n + (w % 2 ? 0 : n - 1), w % 3 == 0 ? INFINITY : NAN);
            if (rows > 5) { /* a huge negative entry, then a NaN in the next row of its group */
                ug_batch_put(k->dtype, b->x, 3 * n + n / 2, -1.6e35);
                ug_batch_put(k->dtype, b->x, 4 * n + n / 2, NAN);
            }
            if (b->target != NULL && rows > 2)
                b->target[mid] = (int64_t)(n - 1);
            char where[64];
            snprintf(where, sizeof where, "%zu x %zu, pipeline stages", rows, n);
            twin_batching_free(k, b, where, t);
        }
}

Test(simd, tiny_rows_pipeline_stages)
{
    tiny_rows_against_twins(tiny_cases_pipeline_stages, "pipeline stages");
}

/* f64 calls writing UG__SIMD_STREAM_BYTES (8 MiB) or more store long rows' outputs around
 * the caches and write row r's during row r + 1's pass 2 (softmax, xent_grad: from a scratch
 * row of e_i instead of y).  Such a call (9 rows of 0.89 MiB of outputs, 8.0 MiB in all, a
 * NaN row and an L = 0 row between, rows at every alignment) gives the bits of its rows alone
 * and of its halves, which write less and do not stream. */
Test(simd, streamed_outputs_same_bits)
{
    enum { ROWS = 9 };
    size_t ran = 0;
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (!is_simd(k) || !runnable(k) || k->dtype != UG_F64 ||
            (k->op != UG_OP_SOFTMAX && k->op != UG_OP_LOG_SOFTMAX && k->op != UG_OP_XENT_GRAD))
            continue;
        size_t n = ((size_t)8 << 20) / ROWS / ug_dtype_size(k->dtype) + 37;
        ug_batch *b = normal_batch(k, ROWS, n, 2.0, 41);
        for (size_t j = 0; j < n; j++) {
            if (j == n / 3)
                ug_batch_put(k->dtype, b->x, 3 * n + j, NAN);
            ug_batch_put(k->dtype, b->x, 5 * n + j, j == 3 ? 800 : j == 7 ? 0 : -INFINITY);
        }
        if (b->target != NULL)
            b->target[5] = 3;
        batching_on(k, b);
        ug_batch_free(b);
        ran++;
    }
    if (ran == 0)
        cr_skip_test("this CPU runs none of the SIMD rows");
}

/* k on b through VCVTNE(2)PS2BF16, then with UG_NO_AVX512BF16 set: the same bits.  Returns the
 * outputs compared. */
static size_t hw_against_integer(const ug_kernel *k, const ug_batch *b)
{
    outs hw = run(k, b, UG_RED_NONE);
    setenv("UG_NO_AVX512BF16", "1", 1);
    outs em = run(k, b, UG_RED_NONE);
    unsetenv("UG_NO_AVX512BF16");
    cr_expect_eq(hw.st, em.st, "%s: status %d and %d", k->name, hw.st, em.st);
    expect_same(k, hw.v, em.v, hw.count, "VCVTNEPS2BF16 against integer rounding");
    size_t count = hw.count;
    outs_free(&hw);
    outs_free(&em);
    return count;
}

/* The AVX-512 bf16 rows store through VCVTNEPS2BF16 when the CPU has AVX512_BF16, through
 * integer rounding when UG_NO_AVX512BF16 is set: the same bits, on every family (tiny
 * outputs, whose round-to-odd binary32 value is subnormal, included). */
Test(simd, bf16_hw_store_same_bits)
{
    size_t ran = 0;
    static const char *const fams[] = {"normal10", "tiny", "dominant", "special", "masked", "wide"};
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (!is_simd(k) || k->dtype != UG_BF16 || strcmp(k->isa, "avx512") != 0 || !runnable(k))
            continue;
        if (!ug__cpu_bf16_hw()) {
            fprintf(stderr, "test_simd: skip %s: this CPU has no AVX512_BF16\n", k->name);
            continue;
        }
        size_t outputs = 0;
        for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
            const ug_family *fam = ug_family_find(fams[f]);
            if (fam == NULL)
                continue;
            ug_batch_list l;
            cr_assert_eq(ug_family_generate(fam, k->op, k->dtype, 3, 0, 0, &l), UG_OK, "%s", fams[f]);
            for (size_t j = 0; j < l.count; j++)
                outputs += hw_against_integer(k, l.items[j]);
            ug_batch_list_free(&l);
        }
        /* long rows (binary32 lanes for softmax and log_softmax): sigma 30 gives outputs down to
         * the subnormals, which VCVTNE(2)PS2BF16 would flush (the store takes the integer route) */
        for (size_t j = 0; j < 3; j++) {
            ug_batch *b = normal_batch(k, 2, 700 + 2000 * j, j == 0 ? 2.0 : 30.0, 31 + j);
            outputs += hw_against_integer(k, b);
            ug_batch_free(b);
        }
        fprintf(stderr, "test_simd: %s: %zu outputs, VCVTNEPS2BF16 store = integer store\n", k->name, outputs);
        ran++;
    }
    if (ran == 0)
        cr_skip_test("this CPU runs no AVX512_BF16 store");
}

/* ---------------------------------------------------------------- dispatch */

static void expect_production_isa(const char *isa)
{
    for (int op = 0; op < UG_OP_COUNT; op++)
        for (int dt = 0; dt < UG_DTYPE_COUNT; dt++) {
            const ug_kernel *k = ug_kernel_production((ug_op)op, (ug_dtype)dt);
            cr_assert(k != NULL, "no production kernel for %s %s", ug_op_name(op), ug_dtype_name(dt));
            if (strcmp(isa, "scalar") == 0)
                cr_expect_str_eq(k->isa, "scalar", "cap scalar: %s", k->name);
            else
                cr_expect(strcmp(k->isa, "scalar") == 0 || strcmp(k->isa, isa) == 0, "cap %s: %s", isa, k->name);
        }
}

Test(simd, dispatch)
{
    static const char *const isas[] = {"scalar", "avx2", "avx512"};
    cr_expect_eq(ug_set_isa("sse9"), UG_ERR_ARG, "an unknown ISA is refused");
    cr_expect(strlen(ug_last_error()) > 0, "with a message");
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        ug_status st = ug_set_isa(isas[i]);
        if (st != UG_OK) {
            fprintf(stderr, "test_simd: skip dispatch to %s: this CPU cannot run %s code (%s)\n", isas[i], isas[i],
                    ug_last_error());
            continue;
        }
        cr_expect_str_eq(ug_isa(), isas[i]);
        expect_production_isa(isas[i]);
        const ug_kernel *k = ug_kernel_production(UG_OP_SOFTMAX, UG_F32);
        cr_expect_str_eq(k->isa, isas[i], "softmax f32 under cap %s: %s", isas[i], k->name);
    }
    cr_expect_eq(ug_set_isa("auto"), UG_OK);
    cr_expect_eq(ug_set_isa(NULL), UG_OK);
    fprintf(stderr, "test_simd: dispatch uses %s (softmax f32: %s)\n", ug_isa(),
            ug_kernel_production(UG_OP_SOFTMAX, UG_F32)->name);
}

Test(simd, availability)
{
    size_t unavailable = 0;
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (!is_simd(k)) {
            cr_expect(ug_kernel_available(k), "%s: a scalar row is always available", k->name);
            continue;
        }
        if (ug_kernel_available(k))
            continue;
        /* a row this CPU cannot run refuses to, with a status and a message, never a fault */
        float x[4] = {0}, y[4];
        int64_t t = 0;
        ug_problem p = {.rows = 1, .n = 4, .x = x, .y = y, .target = &t};
        cr_expect_eq(k->fn(&p), UG_ERR_ARG, "%s", k->name);
        cr_expect(strstr(ug_last_error(), k->isa) != NULL, "%s: message '%s'", k->name, ug_last_error());
        unavailable++;
    }
    fprintf(stderr, "test_simd: %zu SIMD rows this CPU cannot run\n", unavailable);
}

/* ---------------------------------------------------------------- the vector exp */

typedef int (*vexp_fn)(const double *, double *, size_t);
static const struct { const char *isa; vexp_fn fn; } vexps[] = {{"avx2", ug__vexp_avx2}, {"avx512", ug__vexp_avx512}};

/* The claim of core/simd_vexp.h. */
static double vexp_bound(double x) { return 0x1.bep-48 /* 2^-47.2 */ + 0x1.3cp-55 /* 2^-54.7 */ * fabs(x); }

/* |(yh + yl)/f(xh + xl) - 1| in MPFR at 300 bits (both sums exact there). */
static double rel_error_dd(int (*f)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t), double xh, double xl, double yh, double yl)
{
    mpfr_t v, w;
    mpfr_inits2(300, v, w, (mpfr_ptr)0);
    mpfr_set_d(v, xh, MPFR_RNDN);
    mpfr_add_d(v, v, xl, MPFR_RNDN);
    f(v, v, MPFR_RNDN);
    mpfr_set_d(w, yh, MPFR_RNDN);
    mpfr_add_d(w, w, yl, MPFR_RNDN);
    mpfr_div(w, w, v, MPFR_RNDN);
    mpfr_sub_ui(w, w, 1, MPFR_RNDN);
    double r = fabs(mpfr_get_d(w, MPFR_RNDN));
    mpfr_clears(v, w, (mpfr_ptr)0);
    return r;
}

/* |y/f(x) - 1|, f = mpfr_exp or mpfr_log1p. */
static double rel_error_of(int (*f)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t), double x, double y)
{
    return rel_error_dd(f, x, 0, y, 0);
}

enum { NEXP = 1 << 16 };

Test(simd, vexp_accuracy)
{
    static double x[NEXP], y[NEXP];
    ug_prng g;
    ug_prng_seed(&g, 5);
    for (size_t i = 0; i < NEXP; i++) /* most of them where the kernels call it: [X_MIN, 0] */
        x[i] = i % 8 == 0 ? ug_prng_uniform_in(&g, 0, UG__EXP_X_MAX)
             : i % 8 == 1 ? -ug_prng_uniform(&g) * 0x1p-20
                          : ug_prng_uniform_in(&g, UG__EXP_X_MIN, 0);
    x[2] = UG__EXP_X_MIN, x[3] = UG__EXP_X_MAX, x[4] = 0x1.62e42fefa39efp-6 /* ln2/32 */, x[5] = -104;
    size_t ran = 0;
    for (size_t v = 0; v < sizeof vexps / sizeof vexps[0]; v++) {
        if (vexps[v].fn(x, y, NEXP) != 0) {
            fprintf(stderr, "test_simd: skip the %s exp: this CPU cannot run %s code\n", vexps[v].isa, vexps[v].isa);
            continue;
        }
        double worst = 0, worst_x = 0, worst_ratio = 0;
        for (size_t i = 0; i < NEXP; i++) {
            double e = rel_error_of(mpfr_exp, x[i], y[i]);
            cr_expect(e <= vexp_bound(x[i]), "%s exp(%a) = %a: relative error %a above %a", vexps[v].isa, x[i], y[i],
                      e, vexp_bound(x[i]));
            if (e > worst)
                worst = e, worst_x = x[i];
            if (e / vexp_bound(x[i]) > worst_ratio)
                worst_ratio = e / vexp_bound(x[i]);
        }
        fprintf(stderr, "test_simd: %s exp, %d random arguments: largest relative error 2^%.2f at x = %a; "
                        "at most %.3f of the claimed bound\n", vexps[v].isa, NEXP, log2(worst), worst_x, worst_ratio);
        ran++;
    }
    if (ran == 0)
        cr_skip_test("this CPU runs no vector exp");
}

Test(simd, vexp_special_values_and_isa_agreement)
{
    const double x[] = {0.0, -0.0, -INFINITY, NAN, UG__EXP_X_MIN, nextafter(UG__EXP_X_MIN, -INFINITY), -745.2, -1e300,
                               -0x1p-1074, 0x1p-1074, -1.0, 1.0, -0x1.62e42fefa39efp-5, -0x1.62e42fefa39efp-6, -20};
    enum { N = sizeof x / sizeof x[0] };
    double y[2][N];
    int have[2];
    for (size_t v = 0; v < 2; v++)
        have[v] = vexps[v].fn(x, y[v], N) == 0;
    if (!have[0] && !have[1])
        cr_skip_test("this CPU runs no vector exp");
    for (size_t v = 0; v < 2; v++) {
        if (!have[v])
            continue;
        cr_expect(y[v][0] == 1 && y[v][1] == 1, "%s: exp(+-0) = %a, %a", vexps[v].isa, y[v][0], y[v][1]);
        cr_expect(y[v][2] == 0 && !signbit(y[v][2]), "%s: exp(-inf) = %a", vexps[v].isa, y[v][2]);
        cr_expect(isnan(y[v][3]), "%s: exp(NaN) = %a", vexps[v].isa, y[v][3]);
        cr_expect(y[v][4] >= 0x1p-1022 * (1 - 0x1p-44), "%s: exp(X_MIN) = %a", vexps[v].isa, y[v][4]);
        for (size_t i = 5; i < 8; i++)
            cr_expect(y[v][i] == 0 && !signbit(y[v][i]), "%s: exp(%a) = %a: below X_MIN flushes to +0",
                      vexps[v].isa, x[i], y[v][i]);
        cr_expect(y[v][8] == 1 && y[v][9] == 1, "%s: exp(+-2^-1074) rounds to 1: %a %a", vexps[v].isa, y[v][8],
                  y[v][9]);
    }
    for (size_t i = 0; have[0] && have[1] && i < N; i++)
        cr_expect(memcmp(&y[0][i], &y[1][i], sizeof(double)) == 0, "exp(%a): avx2 %a, avx512 %a", x[i], y[0][i],
                  y[1][i]);
    if (have[0] && have[1]) { /* and on the random arguments */
        static double r[NEXP], a[NEXP], b[NEXP];
        ug_prng g;
        ug_prng_seed(&g, 9);
        for (size_t i = 0; i < NEXP; i++)
            r[i] = ug_prng_uniform_in(&g, -800, 0);
        ug__vexp_avx2(r, a, NEXP);
        ug__vexp_avx512(r, b, NEXP);
        cr_expect(memcmp(a, b, sizeof a) == 0, "avx2 and avx512 exps differ on random arguments");
    }
}

/* ---------------------------------------------------------------- the vector log1p */

static const struct { const char *isa; vexp_fn fn; } vlogs[] = {{"avx2", ug__vlog1p_avx2},
                                                                {"avx512", ug__vlog1p_avx512}};

/* |y/log1p(x) - 1| (0 when both are 0). */
static double rel_error_log1p(double x, double y)
{
    if (x == 0)
        return y == 0 ? 0 : INFINITY;
    return rel_error_of(mpfr_log1p, x, y);
}

Test(simd, vlog1p_accuracy_and_isa_agreement)
{
    static double x[NEXP], y[2][NEXP];
    ug_prng g;
    ug_prng_seed(&g, 13);
    for (size_t i = 0; i < NEXP; i++) /* the kernels' sums: tiny to n, around sqrt2 - 1, and huge */
        x[i] = i % 4 == 0 ? ldexp(1 + ug_prng_uniform(&g), (int)ug_prng_below(&g, 1100) - 1074)
             : i % 4 == 1 ? 0x1.a827999fcef32p-2 * (1 + (ug_prng_uniform(&g) - 0.5) * 0x1p-20)
             : i % 4 == 2 ? ug_prng_uniform_in(&g, 0, 3)
                          : exp(ug_prng_uniform_in(&g, -40, 700));
    x[0] = 0, x[1] = 0x1p-1074, x[2] = 0x1p-53, x[3] = 0x1.6a09e667f3bcdp+0 - 1, x[4] = 1, x[5] = 0x1.fffffffffffffp1022;
    x[6] = 1e5, x[7] = 0x1p-52;
    int have[2];
    for (size_t v = 0; v < 2; v++) {
        have[v] = vlogs[v].fn(x, y[v], NEXP) == 0;
        if (!have[v]) {
            fprintf(stderr, "test_simd: skip the %s log1p: this CPU cannot run %s code\n", vlogs[v].isa, vlogs[v].isa);
            continue;
        }
        double worst = 0, worst_x = 0;
        for (size_t i = 0; i < NEXP; i++) {
            double e = rel_error_log1p(x[i], y[v][i]);
            cr_expect(e <= 0x1.07p-50 /* 8.2 u = 2^-49.96 */, "%s log1p(%a) = %a: relative error %a above 2^-49.96",
                      vlogs[v].isa, x[i], y[v][i], e);
            if (e > worst)
                worst = e, worst_x = x[i];
        }
        cr_expect(y[v][0] == 0 && !signbit(y[v][0]), "%s: log1p(0) = %a", vlogs[v].isa, y[v][0]);
        cr_expect(y[v][1] == 0x1p-1074 && y[v][2] == 0x1p-53, "%s: log1p(tiny) = %a, %a", vlogs[v].isa, y[v][1],
                  y[v][2]);
        fprintf(stderr, "test_simd: %s log1p, %d arguments: largest relative error 2^%.2f (%.2f u) at x = %a\n",
                vlogs[v].isa, NEXP, log2(worst), worst * 0x1p53, worst_x);
    }
    if (!have[0] && !have[1])
        cr_skip_test("this CPU runs no vector log1p");
    if (have[0] && have[1])
        cr_expect(memcmp(y[0], y[1], sizeof y[0]) == 0, "avx2 and avx512 log1p differ");
    double nan_in = NAN, nan_out = 0;
    for (size_t v = 0; v < 2; v++)
        if (have[v] && vlogs[v].fn(&nan_in, &nan_out, 1) == 0)
            cr_expect(isnan(nan_out), "%s: log1p(NaN) = %a", vlogs[v].isa, nan_out);
}

/* ---------------------------------------------------------------- the bf16 store */

typedef int (*round_fn)(const double *, ug_bf16 *, size_t);
static const struct { const char *isa; round_fn fn; } rounds[] = {{"avx2", ug__round_bf16_avx2},
                                                                 {"avx512", ug__round_bf16_avx512},
                                                                 {"avx512bf16", ug__round_bf16_avx512bf16}};

/* Values around every kind of bf16 rounding decision: ties and their neighbours at many
 * distances, subnormal bf16 and binary32, the overflow threshold 0x1.ffp127, infinities. */
static size_t bf16_cases(double *v, size_t cap)
{
    static const double fixed[] = {0x1.ffp127, 0x1.fep127, 0x1.fffffep127, 0x1p128, 0x1p200, 0x1p-133, 0x1p-134,
                                   0x1.8p-134, 0x1p-150, 0x1p-149, 0x1.fffffep-127, 0x1p-126, 0x1.01p0, 0x1.018p0,
                                   0x1.028p0, INFINITY, 0.0, 1e-300};
    size_t k = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        v[k++] = fixed[i];
        v[k++] = -fixed[i];
        v[k++] = nextafter(fixed[i], 0);
        v[k++] = nextafter(fixed[i], INFINITY);
    }
    ug_prng g;
    ug_prng_seed(&g, 13);
    while (k + 8 <= cap) {
        int e = (int)ug_prng_below(&g, 300) - 160;                       /* 2^-160 .. 2^139 */
        double m = 1 + (double)ug_prng_below(&g, 128) / 128;              /* a bf16 significand */
        double ulp = ldexp(1, e - 7 < -133 ? -133 : e - 7), tie = ldexp(m, e) + ulp / 2;
        double s = ug_prng_below(&g, 2) ? -1 : 1;
        int d = (int)ug_prng_below(&g, 50) + 8;
        v[k++] = s * tie;
        v[k++] = s * (tie + ldexp(ulp, -d));
        v[k++] = s * (tie - ldexp(ulp, -d));
        v[k++] = s * nextafter(tie, 0);
        v[k++] = s * nextafter(tie, INFINITY);
        v[k++] = s * ldexp(ug_prng_uniform(&g) + 1, e);
        v[k++] = s * ldexp(m, e);
        v[k++] = s * ldexp(ug_prng_uniform(&g), -133 - (int)ug_prng_below(&g, 30));
    }
    return k;
}

Test(simd, bf16_store)
{
    enum { CAP = 1 << 16 };
    static double v[CAP];
    static ug_bf16 h[CAP];
    size_t count = bf16_cases(v, CAP), ran = 0;
    for (size_t r = 0; r < sizeof rounds / sizeof rounds[0]; r++) {
        if (rounds[r].fn(v, h, count) != 0) {
            fprintf(stderr, "test_simd: skip the %s bf16 store: this CPU cannot run %s code\n", rounds[r].isa,
                    rounds[r].isa);
            continue;
        }
        size_t bad = 0;
        for (size_t i = 0; i < count; i++) {
            ug_bf16 want = ug_bf16_from_f64(v[i]);
            if (h[i].bits != want.bits && bad++ < 10)
                cr_expect_fail("%s: bf16 store of %a gives 0x%04x, ug_bf16_from_f64 0x%04x", rounds[r].isa, v[i],
                               h[i].bits, want.bits);
        }
        cr_expect_eq(bad, 0, "%s: %zu of %zu values rounded differently", rounds[r].isa, bad, count);
        fprintf(stderr, "test_simd: %s bf16 store: %zu values, %zu differ from ug_bf16_from_f64\n", rounds[r].isa,
                count, bad);
        ran++;
    }
    if (ran == 0)
        cr_skip_test("this CPU runs no SIMD bf16 store");
}

/* ---------------------------------------------------------------- the binary32 exp */

typedef int (*vexpf_fn)(const float *, float *, size_t);
static const struct { const char *isa; vexpf_fn fn; } vexpfs[] = {{"avx2", ug__vexpf_avx2},
                                                                  {"avx512", ug__vexpf_avx512}};

#define VEXPF_BOUND 0x1.bdbp-23 /* ~2^-22.2, the claim of core/simd_vexp_ps.h */

/* |y - exp(x) 2^64| and exp(x) 2^64 (*ref), in MPFR at 200 bits. */
static double vexpf_error(float x, float y, double *ref)
{
    mpfr_t v, w;
    mpfr_inits2(200, v, w, (mpfr_ptr)0);
    mpfr_set_flt(v, x, MPFR_RNDN);
    mpfr_exp(v, v, MPFR_RNDN);
    mpfr_mul_2si(v, v, 64, MPFR_RNDN);
    mpfr_sub_d(w, v, (double)y, MPFR_RNDN);
    mpfr_abs(w, w, MPFR_RNDN);
    double r = mpfr_get_d(w, MPFR_RNDU);
    *ref = mpfr_get_d(v, MPFR_RNDN);
    mpfr_clears(v, w, (mpfr_ptr)0);
    return r;
}

Test(simd, vexpf_accuracy_and_isa_agreement)
{
    static float x[NEXP], y[2][NEXP];
    ug_prng g;
    ug_prng_seed(&g, 17);
    for (size_t i = 0; i < NEXP; i++) /* the kernels' d = x - m: [-150, 0], tiny, subnormal results */
        x[i] = i % 4 == 0 ? (float)ug_prng_uniform_in(&g, -150, 0)
             : i % 4 == 1 ? (float)(-ug_prng_uniform(&g) * 0x1p-20)
             : i % 4 == 2 ? (float)ug_prng_uniform_in(&g, -148.5, -131)
                          : (float)ug_prng_uniform_in(&g, -20, 0);
    x[0] = 0, x[1] = -0x1.62e43p-2f, x[2] = -0x1.62e42ep-2f, x[3] = -131.7f, x[4] = -148.3f, x[5] = -150;
    int have[2];
    for (size_t v = 0; v < 2; v++) {
        have[v] = vexpfs[v].fn(x, y[v], NEXP) == 0;
        if (!have[v]) {
            fprintf(stderr, "test_simd: skip the %s binary32 exp: this CPU cannot run %s code\n", vexpfs[v].isa,
                    vexpfs[v].isa);
            continue;
        }
        double worst = 0, worst_x = 0, worst_sub = 0;
        for (size_t i = 0; i < NEXP; i++) {
            double ref, e = vexpf_error(x[i], y[v][i], &ref);
            double allowed = ref >= 0x1p-126 ? VEXPF_BOUND * ref : 0x1p-150 + VEXPF_BOUND * ref;
            cr_expect(e <= allowed, "%s vexpf(%a) = %a: error %a above %a (E = %a)", vexpfs[v].isa, (double)x[i],
                      (double)y[v][i], e, allowed, ref);
            if (ref >= 0x1p-126 && e / ref > worst)
                worst = e / ref, worst_x = x[i];
            if (ref < 0x1p-126 && e * 0x1p149 > worst_sub)
                worst_sub = e * 0x1p149;
        }
        fprintf(stderr, "test_simd: %s binary32 exp, %d arguments: largest relative error 2^%.2f at x = %a; "
                        "subnormal results within %.4f units of 2^-149\n", vexpfs[v].isa, NEXP, log2(worst), worst_x,
                worst_sub);
    }
    if (!have[0] && !have[1])
        cr_skip_test("this CPU runs no binary32 exp");
    if (have[0] && have[1])
        cr_expect(memcmp(y[0], y[1], sizeof y[0]) == 0, "avx2 and avx512 binary32 exps differ");
    const float sx[] = {0.0f, -0.0f, -INFINITY, NAN, -150.0f, -151.0f, -1e30f, -0x1.fffffep127f, -0x1p-149f, -148.4f};
    enum { NS = sizeof sx / sizeof sx[0] };
    for (size_t v = 0; v < 2; v++) {
        float sy[NS];
        if (!have[v] || vexpfs[v].fn(sx, sy, NS) != 0)
            continue;
        cr_expect(sy[0] == 0x1p64f && sy[1] == 0x1p64f, "%s: vexpf(+-0) = %a, %a", vexpfs[v].isa, (double)sy[0],
                  (double)sy[1]);
        cr_expect(isnan(sy[3]), "%s: vexpf(NaN) = %a", vexpfs[v].isa, (double)sy[3]);
        for (size_t i = 2; i < NS - 2; i++)
            if (i != 3)
                cr_expect(sy[i] == 0 && !signbit(sy[i]), "%s: vexpf(%a) = %a: +0 below -148.3", vexpfs[v].isa,
                          (double)sx[i], (double)sy[i]);
        cr_expect(sy[8] == 0x1p64f, "%s: vexpf(-2^-149) = %a", vexpfs[v].isa, (double)sy[8]);
        cr_expect(sy[9] == 0, "%s: vexpf(-148.4) = %a (E < 2^-150)", vexpfs[v].isa, (double)sy[9]);
    }
}

/* ---------------------------------------------------------------- the binary32 -> bf16 store */

Test(simd, bf16_store_f32)
{
    enum { CAP = 1 << 16 };
    static double v[CAP];
    static float f[CAP];
    static ug_bf16 h[CAP];
    size_t count = bf16_cases(v, CAP), ran = 0;
    for (size_t i = 0; i < count; i++) /* the cases in binary32: ties, subnormals, 0x1.ffp127, inf */
        f[i] = (float)v[i];
    for (int r = 0; r < 4; r++) {
        const char *isa = r == 0 ? "avx2" : r == 1 ? "avx512" : r == 2 ? "avx512bf16 pairs" : "avx512bf16 singles";
        int st = r == 0 ? ug__round_bf16_f32_avx2(f, h, count)
               : r == 1 ? ug__round_bf16_f32_avx512(f, h, count)
                        : ug__round_bf16_f32_avx512bf16(f, h, count, r == 2);
        if (st != 0) {
            fprintf(stderr, "test_simd: skip the %s binary32 -> bf16 store: this CPU cannot run it\n", isa);
            continue;
        }
        size_t bad = 0, sub = 0;
        for (size_t i = 0; i < count; i++) {
            ug_bf16 want = ug_bf16_from_f32(f[i]);
            sub += f[i] != 0 && fabsf(f[i]) < 0x1p-126f;
            if (h[i].bits != want.bits && bad++ < 10)
                cr_expect_fail("%s: bf16 store of %a gives 0x%04x, ug_bf16_from_f32 0x%04x", isa, (double)f[i],
                               h[i].bits, want.bits);
        }
        cr_expect_eq(bad, 0, "%s: %zu of %zu values rounded differently", isa, bad, count);
        cr_expect(sub > 100, "%s: only %zu subnormal cases", isa, sub);
        fprintf(stderr, "test_simd: %s binary32 -> bf16 store: %zu values (%zu subnormal), %zu differ from "
                        "ug_bf16_from_f32\n", isa, count, sub, bad);
        ran++;
    }
    if (ran == 0)
        cr_skip_test("this CPU runs no SIMD binary32 -> bf16 store");
}

/* ---------------------------------------------------------------- the f64 rows' dd exp, log1p */

typedef int (*dd_fn)(const double *, const double *, double *, double *, size_t);
static const struct { const char *isa; dd_fn exp, log1p, exp_f64, log1p01; } dds[] = {
    {"avx2", ug__vexp_dd_avx2, ug__vlog1p_dd_avx2, ug__vexp_f64_avx2, ug__vlog1p_dd01_avx2},
    {"avx512", ug__vexp_dd_avx512, ug__vlog1p_dd_avx512, ug__vexp_f64_avx512, ug__vlog1p_dd01_avx512}};
enum { DD_EXP, DD_LOG1P, F64_EXP, DD_LOG1P01 }; /* which function check_dd runs */

enum { NDD = 1 << 17 };

/* x = a - b split by two-sum, as the kernels' x - max: a uniform in [lo, hi] minus b. */
static void dd_args(ug_prng *g, double *xh, double *xl, size_t count, double lo, double hi)
{
    for (size_t i = 0; i < count; i++) {
        double d = ug_prng_uniform_in(g, lo, hi), b = ug_prng_uniform_in(g, -50, 50), a = d + b, s = a - b;
        double bb = s - a;
        xh[i] = s;
        xl[i] = (a - (s - bb)) + (-b - bb);
    }
}

static void check_dd(const char *what, int fn, const double *xh, const double *xl, size_t count, double bound)
{
    int is_exp = fn == DD_EXP || fn == F64_EXP;
    static double yh[2][NDD], yl[2][NDD];
    int have[2];
    for (size_t v = 0; v < 2; v++)
        have[v] = (fn == DD_EXP ? dds[v].exp : fn == DD_LOG1P ? dds[v].log1p : fn == F64_EXP ? dds[v].exp_f64 : dds[v].log1p01)(xh, xl, yh[v], yl[v], count) == 0;
    if (!have[0] && !have[1])
        cr_skip_test("this CPU runs no f64 SIMD code");
    for (size_t v = 0; v < 2; v++) {
        if (!have[v])
            continue;
        double worst = 0, worst_x = 0;
        for (size_t i = 0; i < count; i++) {
            double e = rel_error_dd(is_exp ? mpfr_exp : mpfr_log1p, xh[i], xl[i], yh[v][i], yl[v][i]);
            cr_expect(e <= bound, "%s %s(%a + %a) = %a + %a: relative error %a above %a", dds[v].isa, what, xh[i],
                      xl[i], yh[v][i], yl[v][i], e, bound);
            if (e > worst)
                worst = e, worst_x = xh[i];
        }
        fprintf(stderr, "test_simd: %s %s, %zu arguments: largest relative error 2^%.2f at %a (claim 2^%.2f)\n",
                dds[v].isa, what, count, log2(worst), worst_x, log2(bound));
    }
    for (size_t i = 0; have[0] && have[1] && i < count; i++)
        cr_expect(memcmp(&yh[0][i], &yh[1][i], sizeof(double)) == 0 && memcmp(&yl[0][i], &yl[1][i], sizeof(double)) == 0,
                  "%s(%a): avx2 %a + %a, avx512 %a + %a", what, xh[i], yh[0][i], yl[0][i], yh[1][i], yl[1][i]);
}

/* The arguments of the exp tests: [-670, 0], [-1, 0], tiny, and at the ends of the reduction
 * intervals (x = a - b split by two-sum). */
static void exp_args(double *xh, double *xl)
{
    ug_prng g;
    ug_prng_seed(&g, 17);
    dd_args(&g, xh, xl, NDD / 2, -670, 0);
    dd_args(&g, xh + NDD / 2, xl + NDD / 2, NDD / 4, -1, 0);
    for (size_t i = 3 * NDD / 4; i < NDD; i++) {
        double k = floor(ug_prng_uniform_in(&g, 0, 16 * 670 / 0.6931471805599453));
        xh[i] = i % 2 ? -ug_prng_uniform(&g) * 0x1p-30 : -(k + 0.5) * 0x1.62e42fefa39efp-5 + ug_prng_uniform_in(&g, -1e-9, 1e-9);
        xl[i] = xh[i] * 0x1p-54 * ug_prng_uniform_in(&g, -1, 1);
    }
    xh[0] = -670, xl[0] = 0, xh[1] = -0x1p-1074, xl[1] = 0;
}

/* The claim of core/simd_vexp_f64.h on [-670, 0]: 2^-56.0 for eh + el, and eh = (eh + el)
 * rounded once (|el| <= ulp(eh)/2, the fast-two-sum). */
Test(simd, vexp_f64_mpfr)
{
    static double xh[NDD], xl[NDD], h[NDD], l[NDD];
    exp_args(xh, xl);
    check_dd("exp_f64", F64_EXP, xh, xl, NDD, 0x1p-56);
    for (size_t v = 0; v < 2; v++) {
        if (dds[v].exp_f64(xh, xl, h, l, NDD) != 0)
            continue;
        size_t bad = 0;
        for (size_t i = 0; i < NDD; i++)
            bad += h[i] + l[i] != h[i] || fabs(l[i]) > 0x1p-53 * h[i];
        cr_expect_eq(bad, 0, "%s exp_f64: %zu of %d high parts not the pair rounded once", dds[v].isa, bad, NDD);
    }
}

/* The claim of core/simd_vexp_dd.h on [-670, 0]: 2^-62.9. */
Test(simd, vexp_dd_mpfr)
{
    static double xh[NDD], xl[NDD];
    exp_args(xh, xl);
    check_dd("exp_dd", DD_EXP, xh, xl, NDD, 0x1.12p-63 /* 2^-62.9 */);
}

Test(simd, vexp_dd_special_values)
{
    const double xh[] = {0.0, -0.0, -INFINITY, NAN, -708.5, -1e300}, xl[] = {0, 0, 0, 0, 0, 0};
    enum { N = sizeof xh / sizeof xh[0] };
    double h[N], l[N];
    size_t ran = 0;
    for (size_t v = 0; v < 2; v++) {
        if (dds[v].exp(xh, xl, h, l, N) != 0)
            continue;
        cr_expect(h[0] == 1 && l[0] == 0 && h[1] == 1 && l[1] == 0, "%s: exp_dd(+-0) = %a + %a, %a + %a", dds[v].isa,
                  h[0], l[0], h[1], l[1]);
        cr_expect(h[2] == 0 && l[2] == 0 && !signbit(h[2]), "%s: exp_dd(-inf) = %a + %a", dds[v].isa, h[2], l[2]);
        cr_expect(isnan(h[3]), "%s: exp_dd(NaN) = %a", dds[v].isa, h[3]);
        for (size_t i = 4; i < N; i++)
            cr_expect(h[i] == 0 && l[i] == 0, "%s: exp_dd(%a) = %a + %a: below X_MIN flushes to +0", dds[v].isa, xh[i],
                      h[i], l[i]);
        ran++;
    }
    if (ran == 0)
        cr_skip_test("this CPU runs no f64 SIMD code");
}

/* The claim of core/simd_vexp_dd.h for vlog1p_dd: 2^-56.1, on s = sh + sl >= 0 from 2^-1000
 * to 2^30, around the switch of the correction (L0 = 2^-6) and sums of exps (sl != 0). */
Test(simd, vlog1p_dd_mpfr)
{
    static double sh[NDD], sl[NDD];
    ug_prng g;
    ug_prng_seed(&g, 19);
    for (size_t i = 0; i < NDD; i++) {
        double s = i % 4 == 0 ? exp2(ug_prng_uniform_in(&g, -1000, 30))
                 : i % 4 == 1 ? exp2(ug_prng_uniform_in(&g, -60, 4))
                 : i % 4 == 2 ? expm1(0x1p-6) * (1 + ug_prng_uniform_in(&g, -1e-3, 1e-3))
                              : ug_prng_uniform_in(&g, 0, 20);
        sh[i] = s;
        sl[i] = s * 0x1p-53 * ug_prng_uniform_in(&g, -1, 1);
    }
    sh[0] = 0, sl[0] = 0, sh[1] = 0x1p-1022, sl[1] = 0, sh[2] = 1e6, sl[2] = 0;
    check_dd("log1p_dd", DD_LOG1P, sh + 1, sl + 1, NDD - 1, 0x1.d2p-57 /* 2^-56.1 */);
    double h = 1, l = 1;
    for (size_t v = 0; v < 2; v++)
        if (dds[v].log1p(sh, sl, &h, &l, 1) == 0)
            cr_expect(h == 0 && l == 0 && !signbit(h), "%s: log1p_dd(0) = %a + %a", dds[v].isa, h, l);
}

/* The claim of core/simd_vexp_dd.h for vlog1p_dd01 (bce_logits' log1p(exp(-|x|)), session 8):
 * 2^-62.0, on s = sh + sl over its whole domain [0, 1]: log-uniform from 2^-967 to 1, uniform
 * on [0, 1], at the ends of the index intervals ((k + 1/2)/15, where round(15 sh) switches),
 * just below 1, the powers of two 2^-k (k = 0..966, sl = 0), and the pairs vexp_f64 returns
 * for x in [-670, 0] (the kernel's own arguments); sl with |sl| <= u sh (sh = fl(sh + sl)).
 * s = 0 gives exactly +0 + 0; s = 1 gives ln 2 to the claim; AVX2 = AVX-512 bit for bit. */
Test(simd, vlog1p_dd01_mpfr)
{
    static double sh[NDD], sl[NDD], xh[NDD / 8], xl[NDD / 8], eh[NDD / 8], el[NDD / 8];
    ug_prng g;
    ug_prng_seed(&g, 23);
    size_t n = 0;
    while (n < NDD - NDD / 8 - 1024) {
        size_t kind = n % 4;
        double s = kind == 0 ? exp2(ug_prng_uniform_in(&g, -966.6, 0))
                 : kind == 1 ? ug_prng_uniform_in(&g, 0, 1)
                 : kind == 2 ? (floor(ug_prng_uniform_in(&g, 0, 15)) + 0.5) / 15 * (1 + ug_prng_uniform_in(&g, -1e-12, 1e-12))
                             : 1 - ug_prng_uniform(&g) * 0x1p-20;
        double e = s * 0x1p-54 * ug_prng_uniform_in(&g, -1, 1);
        sh[n] = s, sl[n++] = s + e > 1 ? -e : e; /* s + sl <= 1 */
    }
    for (int k = 0; k <= 966; k++)
        sh[n] = ldexp(1, -k), sl[n++] = 0;
    for (; n < NDD - NDD / 8; n++)
        sh[n] = nextafter(1, 0) - (double)(n % 16) * 0x1p-53, sl[n] = -0x1p-56 * (double)(n % 3);
    for (size_t i = 0; i < NDD / 8; i++)
        xh[i] = ug_prng_uniform_in(&g, i % 2 ? -40 : -670, 0), xl[i] = 0;
    size_t have_exp = 0;
    for (size_t v = 0; v < 2 && !have_exp; v++)
        have_exp = dds[v].exp_f64(xh, xl, eh, el, NDD / 8) == 0;
    if (!have_exp)
        cr_skip_test("this CPU runs no f64 SIMD code");
    for (size_t i = 0; i < NDD / 8; i++)
        sh[n] = eh[i], sl[n++] = el[i];
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += !(sh[i] >= 0 && sh[i] <= 1 && sh[i] + sl[i] == sh[i] && sh[i] + sl[i] <= 1);
    cr_expect_eq(bad, 0, "%zu arguments outside the domain", bad);
    check_dd("log1p_dd01", DD_LOG1P01, sh, sl, n, 0x1p-62);
    const double zh[] = {0, 1}, zl[] = {0, 0};
    for (size_t v = 0; v < 2; v++) {
        double h[2], l[2];
        if (dds[v].log1p01(zh, zl, h, l, 2) != 0)
            continue;
        cr_expect(h[0] == 0 && l[0] == 0 && !signbit(h[0]), "%s: log1p_dd01(0) = %a + %a", dds[v].isa, h[0], l[0]);
        cr_expect(h[1] == 0x1.62e42fefa39efp-1, "%s: log1p_dd01(1) = %a + %a, not ln 2", dds[v].isa, h[1], l[1]);
    }
}

/* ---------------------------------------------------------------- f64: the -670 threshold */

/* Rows whose smallest finite x - max is just above -670 (the SIMD path: exps near 2^-966.6,
 * every part normal), just below it and far below (the scalar kernel), with and without
 * masked entries and ties at the max: within 1 ULP of the twin, both within their claims
 * where the bits differ, each row alone as in the batch. */
Test(simd, f64_threshold)
{
    static const double far[] = {-669.9, -669.999999, -670.000001, -700, -708.5, -745, -1000};
    enum { N = 37, ROWS = 2 * (sizeof far / sizeof far[0]) };
    size_t ran = 0;
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (!is_simd(k) || k->dtype != UG_F64 || !runnable(k))
            continue;
        ug_batch *b = normal_batch(k, ROWS, N, 1.0, 31);
        for (size_t r = 0; r < ROWS; r++) {
            double base = 5.0, d = far[r / 2];
            for (size_t j = 0; j < N; j++) {
                double v = k->op == UG_OP_BCE_LOGITS ? (j % 2 ? -1 : 1) * (-d + 0.01 * (double)j)
                         : j == 3 || j == 11 ? base
                         : j == 20          ? base + d
                         : r % 2 && j % 7 == 0 ? -INFINITY
                                              : base - 0.5 * (double)j;
                ug_batch_put(k->dtype, b->x, r * N + j, v);
            }
            if (b->target != NULL)
                b->target[r] = r % 3 == 0 ? 3 : r % 3 == 1 ? 20 : 5;
        }
        tally t = {0};
        for (int red = 0; red < reductions(k); red++)
            compare_twin(k, ug_kernel_scalar_twin(k), b, (ug_reduction)red, "rows around x - max = -670", &t);
        batching_on(k, b);
        fprintf(stderr, "test_simd: %-34s threshold rows: %zu outputs, %zu differ in bits (largest error there %.4g ULP)\n",
                k->name, t.outputs, t.differ, t.max_ulp);
        ug_batch_free(b);
        ran++;
    }
    if (ran == 0)
        cr_skip_test("this CPU runs none of the f64 SIMD rows");
}

/* ---------------------------------------------------------------- f64: short rows, mixed */

/* Row r of the mixed short-row batch: its kind r % 11 (0, 1 ordinary, then the special ones). */
static double short_row_entry(size_t r, size_t j, size_t n, double z)
{
    switch (r % 11) {
    case 1: /* terms near ulp(H)/2 of the accumulators (H in [1, 2) and [2, 4)): the fused
             * exp-and-sum's inexact case (SIMD-ERROR-ANALYSIS.md §7.8) */
        return j == 0 ? 0 : j % 4 == 1 ? -0.5 + 0.1 * z : (j % 2 ? -36.7368 : -36.0437) + 0x1p-6 * z;
    case 2: return j == n / 2 ? 60 + z : z;                     /* peaked: sp ~ e^-58, pass 2 again */
    case 3: return z - 40;                                      /* m <= 0 */
    case 4: return j == n - 1 ? NAN : z;                        /* falls back */
    case 5: return j == 0 ? INFINITY : z;                       /* falls back */
    case 6: return -INFINITY;                                   /* all -inf: falls back */
    case 7: return j == n / 3 ? z - 700 : z;                    /* x - max < -670 (n > 1): falls back */
    case 8: return j == n / 2 ? z : -INFINITY;                  /* one finite entry: L = 0 */
    case 9: return 2.5;                                         /* ties */
    case 10: return j % 3 == 1 ? -INFINITY : 1e6 + 1e-3 * z;    /* masks, a large max */
    default: return z;
    }
}

/* The short rows of the f64 SIMD row k (n <= 32 run VL rows at a time, transposed, each group
 * finished lane-wise): groups that mix every kind of row above must give each row the bits
 * it has alone (a row's bits never depend on its group), within the twin's claim + 1 and
 * within the claims where the bits differ, for every reduction. */
static void short_rows_mixed_on(const ug_kernel *k)
{
    enum { ROWS = 27 };
    tally t = {0};
    for (size_t n = 1; n <= 33; n++) {
        ug_batch *b = normal_batch(k, ROWS, n, 1.0, 41 + n);
        for (size_t r = 0; r < ROWS; r++) {
            for (size_t j = 0; j < n; j++)
                ug_batch_put(k->dtype, b->x, r * n + j, short_row_entry(r, j, n, ug_batch_get(k->dtype, b->x, r * n + j)));
            if (b->target != NULL && r % 11 == 8)
                b->target[r] = (int64_t)(r % 2 ? n / 2 : 0); /* the finite entry, or a masked one */
        }
        for (int red = 0; red < reductions(k); red++)
            compare_twin(k, ug_kernel_scalar_twin(k), b, (ug_reduction)red, "mixed short rows", &t);
        batching_on(k, b);
        ug_batch_free(b);
    }
    fprintf(stderr, "test_simd: %-34s mixed short rows, n = 1 .. 33: %zu outputs, %zu differ in bits (largest error there %.4g ULP)\n",
            k->name, t.outputs, t.differ, t.max_ulp);
}

Test(simd, f64_short_rows_mixed)
{
    size_t ran = 0;
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (is_simd(k) && k->dtype == UG_F64 && k->op != UG_OP_BCE_LOGITS && runnable(k)) {
            short_rows_mixed_on(k);
            ran++;
        }
    }
    if (ran == 0)
        cr_skip_test("this CPU runs none of the f64 SIMD rows");
}
