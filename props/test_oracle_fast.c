/* The oracle's certified fast path (oracle/fast.c, ANALYSIS.md §9) against the MPFR-only
 * path, on every input family (seed 1; seeds 1-3 in the slow
 * twins *_all_seeds) and every worst-case file (props/data/ *.wc),
 * for every op and dtype the fast path takes:
 *
 *   - ug_oracle_eval_lazy and ug_oracle_eval give the same rounded and kappa bits for every
 *     output, the same value wherever the fast path set one, and, once ug_oracle_value has
 *     filled the lazy ones, the same value everywhere (no mismatch counted);
 *   - the judge, run on every registered kernel of the op and dtype with the fast path on
 *     and with it off, without reduction and (xent, bce_logits) under sum and mean, gives
 *     bit-identical results: every ULP error, the class counts,
 *     over-bound / correct / faithful counts, max and sum, and the worst and most-over-bound
 *     samples (their exact values printed at 128 bits, kappa, bound).
 *
 * f64 (every op, bce_logits included) runs in props/test_oracle_fast_f64.c, bce_logits of f32
 * and bf16 in props/test_oracle_fast_bce.c: the same checks, programs of their own.
 *
 * The expected side is always the MPFR path (ug_oracle_set_fast(0)), never the fast path.
 * The test prints how many outputs the fast path answered and how many ULP errors it
 * decided without MPFR.
 */
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>

#include "generic.h"
#include "judge.h"
#include "oracle.h"
#include "ulpgate/registry.h"

typedef struct tally {
    size_t batches, outputs, fast_outputs, lazy, cmp, cmp_decided;
    size_t bad_rounded, bad_kappa, bad_value, bad_judge;
    char first[600];
} tally;

static int same_d(double a, double b) { return isnan(a) ? isnan(b) : memcmp(&a, &b, sizeof a) == 0; }

static void note(tally *t, const char *what, const ug_batch *b, size_t i)
{
    if (t->first[0] == '\0')
        snprintf(t->first, sizeof t->first, "%s: %s %s rows %zu n %zu (first_row %zu), output %zu", what,
                 ug_op_name(b->op), ug_dtype_name(b->dtype), b->rows, b->n, b->first_row, i);
}

/* One batch: the oracle's answers by both paths output by output, then the judge of every
 * kernel of the batch's op and dtype against each, then every lazy value filled in. */
static void check_batch_red(tally *t, const ug_batch *b, ug_reduction red)
{
    ug_expect em, ef;
    t->batches++;
    ug_oracle_set_fast(0);
    ug_status sm = ug_expect_init(&em, b, red);
    ug_oracle_set_fast(1);
    ug_status sf = ug_expect_init(&ef, b, red);
    cr_assert_eq(sf, sm, "status %d (fast) against %d (MPFR)", sf, sm);
    if (sm != UG_OK)
        return;
    const ug_exact *m = em.exact;
    ug_exact *f = ef.exact;
    for (size_t i = 0; i < em.count; i++) {
        cr_assert_eq(m[i].lazy, 0, "the MPFR path left a value lazy");
        t->outputs++;
        t->lazy += f[i].lazy != 0;
        if (!same_d(f[i].rounded, m[i].rounded) && t->bad_rounded++ == 0)
            note(t, "rounded differs", b, i);
        if (!same_d(f[i].kappa, m[i].kappa) && t->bad_kappa++ == 0)
            note(t, "kappa differs", b, i);
        if (!f[i].lazy && !mpfr_equal_p(f[i].value, m[i].value) && !(mpfr_nan_p(f[i].value) && mpfr_nan_p(m[i].value)) &&
            t->bad_value++ == 0)
            note(t, "value differs", b, i);
        if (f[i].lazy) { /* information: decided at the correctly rounded answer? */
            ug_cmp c;
            t->cmp++;
            t->cmp_decided += ug_compare_lazy(b->dtype, f[i].rounded, &f[i], &c);
        }
    }
    int judged = 0;
    for (size_t k = 0; k < ug_kernel_count(); k++) {
        const ug_kernel *kern = ug_kernel_at(k);
        if (kern->op != b->op || kern->dtype != b->dtype || !ug_kernel_available(kern))
            continue;
        /* a reduced output: the first kernel is judged from the lazy value (its sample's
         * value made by the MPFR path), the others from the value computed then (each
         * lazy judge of a reduced batch would evaluate the whole batch by MPFR again) */
        if (red != UG_RED_NONE && judged++ == 1)
            cr_assert_eq(ug_expect_value(&ef, 0), UG_OK);
        ug_judge jm, jf;
        ug_judge_init(&jm, kern);
        ug_judge_init(&jf, kern);
        cr_expect_eq(ug_judge_batch(&jm, b, &em), UG_OK);
        cr_expect_eq(ug_judge_batch(&jf, b, &ef), UG_OK);
        if (!ug_judge_same(&jm, &jf) && t->bad_judge++ == 0) {
            char what[200];
            snprintf(what, sizeof what, "judge of %s differs (max %a / %a)", kern->name, jm.max_ulp, jf.max_ulp);
            note(t, what, b, 0);
        }
        ug_judge_free(&jm);
        ug_judge_free(&jf);
    }
    unsigned long before = ug_oracle_fast_mismatches();
    for (size_t i = 0; i < em.count; i++) {
        cr_assert_eq(ug_expect_value(&ef, i), UG_OK);
        if (!mpfr_equal_p(f[i].value, m[i].value) && !(mpfr_nan_p(f[i].value) && mpfr_nan_p(m[i].value)) &&
            t->bad_value++ == 0)
            note(t, "value differs after ug_expect_value", b, i);
    }
    cr_expect_eq(ug_oracle_fast_mismatches(), before, "ug_oracle_value counted a mismatch");
    ug_expect_free(&em);
    ug_expect_free(&ef);
}

/* b without reduction, and (reduce) under sum and mean for the ops that have them. */
static void check_batch_opt(tally *t, const ug_batch *b, int reduce)
{
    check_batch_red(t, b, UG_RED_NONE);
    if (reduce && ug_op_has_reduction(b->op)) {
        check_batch_red(t, b, UG_RED_SUM);
        check_batch_red(t, b, UG_RED_MEAN);
    }
}

#ifndef UG_ORACLE_FAST_BCE
static void check_batch(tally *t, const ug_batch *b) { check_batch_opt(t, b, 1); }
#endif

static void report(const char *what, const tally *t)
{
    cr_expect_eq(t->bad_rounded, 0, "%s: %zu outputs with another rounded; first: %s", what, t->bad_rounded, t->first);
    cr_expect_eq(t->bad_kappa, 0, "%s: %zu outputs with another kappa; first: %s", what, t->bad_kappa, t->first);
    cr_expect_eq(t->bad_value, 0, "%s: %zu outputs with another value; first: %s", what, t->bad_value, t->first);
    cr_expect_eq(t->bad_judge, 0, "%s: %zu judge results differ; first: %s", what, t->bad_judge, t->first);
    cr_expect(t->outputs > 0, "%s: nothing compared", what);
    cr_log_info("%s: %zu batches, %zu outputs, %zu left lazy by the fast path; %zu of %zu lazy comparisons "
                "(at the correctly rounded value) decided without MPFR",
                what, t->batches, t->outputs, t->lazy, t->cmp_decided, t->cmp);
}

static const ug_op FAST_OPS[] = {UG_OP_SOFTMAX,   UG_OP_LOG_SOFTMAX, UG_OP_LOGSUMEXP, UG_OP_XENT,
                                 UG_OP_XENT_DENSE, UG_OP_XENT_GRAD,   UG_OP_BCE_LOGITS};
static const ug_dtype FAST_DTS[] = {UG_F32, UG_BF16};

/* Every family of op in dt (every_family_dt) or in f32 and bf16: seed 1 in the quick suite
 * (84 + 42 s with seeds 1-3 on the idle 2-core machine), seeds 1-3 with
 * UG_ORACLE_FAST_ALL_SEEDS=1 in the environment (the slow ctests
 * test_oracle_fast_all_seeds, test_oracle_fast_bce_all_seeds).  Each batch is also checked
 * under sum and mean where the op reduces (the MPFR path evaluates it again per reduction). */
static void every_family_dts(ug_op op, const ug_dtype *dts, size_t ndts)
{
    tally t = {0};
    unsigned long taken0, mpfr0, taken1, mpfr1;
    ug_oracle_fast_rows(&taken0, &mpfr0);
    const char *all = getenv("UG_ORACLE_FAST_ALL_SEEDS");
    uint64_t seeds = all != NULL && strcmp(all, "1") == 0 ? 3 : 1;
    for (size_t d = 0; d < ndts; d++)
        for (size_t fi = 0; fi < ug_family_count(); fi++) {
            const ug_family *fam = ug_family_at(fi);
            if (!ug_family_supports(fam, dts[d]))
                continue;
            for (uint64_t seed = 1; seed <= seeds; seed++) {
                ug_batch_list l;
                if (ug_family_generate(fam, op, dts[d], seed, 0, 0, &l) != UG_OK)
                    continue;
                for (size_t i = 0; i < l.count; i++)
                    check_batch_opt(&t, l.items[i], 1);
                ug_batch_list_free(&l);
            }
        }
    ug_oracle_set_fast(1);
    ug_oracle_fast_rows(&taken1, &mpfr1);
    char what[80];
    snprintf(what, sizeof what, "families, %s%s%s", ug_op_name(op), ndts == 1 ? " " : "",
             ndts == 1 ? ug_dtype_name(dts[0]) : "");
    report(what, &t);
    cr_log_info("%s: the fast path answered %lu rows (or reductions), handed %lu to MPFR", what, taken1 - taken0,
                mpfr1 - mpfr0);
}

#ifndef UG_ORACLE_FAST_BCE
static void visit_wc(void *ctx, const prop_case *c, unsigned reds)
{
    (void)reds;
    ug_batch *b = prop_case_to_batch(c);
    cr_assert(b != NULL);
    check_batch(ctx, b);
    ug_batch_free(b);
}

/* Every case of every worst-case file, every op, in the dtypes dts. */
static void every_worst_case(const ug_dtype *dts, size_t ndts)
{
    char **files;
    int count = prop_wc_files(&files);
    cr_assert(count > 0);
    tally t = {0};
    for (int f = 0; f < count; f++)
        for (size_t o = 0; o < sizeof FAST_OPS / sizeof FAST_OPS[0]; o++)
            for (size_t d = 0; d < ndts; d++) {
                char err[512];
                cr_expect_eq(prop_wc_file_cases(files[f], FAST_OPS[o], dts[d], visit_wc, &t, err, sizeof err), 0, "%s",
                             err);
            }
    prop_wc_files_free(files, count);
    ug_oracle_set_fast(1);
    report(ndts == 1 && dts[0] == UG_F64 ? "worst-case files, f64" : "worst-case files", &t);
}
#endif

#if defined(UG_ORACLE_FAST_BCE) /* props/test_oracle_fast_bce.c: bce_logits's families, a program of their own */
Test(oracle_fast, every_family_bce_logits_f32, .timeout = 280) { every_family_dts(UG_OP_BCE_LOGITS, &FAST_DTS[0], 1); }
Test(oracle_fast, every_family_bce_logits_bf16, .timeout = 280) { every_family_dts(UG_OP_BCE_LOGITS, &FAST_DTS[1], 1); }
#elif defined(UG_ORACLE_FAST_F64) /* props/test_oracle_fast_f64.c: f64, every op */
static const ug_dtype F64[] = {UG_F64};
Test(oracle_fast_f64, every_family_softmax, .timeout = 280) { every_family_dts(UG_OP_SOFTMAX, F64, 1); }
Test(oracle_fast_f64, every_family_log_softmax, .timeout = 280) { every_family_dts(UG_OP_LOG_SOFTMAX, F64, 1); }
Test(oracle_fast_f64, every_family_logsumexp, .timeout = 280) { every_family_dts(UG_OP_LOGSUMEXP, F64, 1); }
Test(oracle_fast_f64, every_family_xent, .timeout = 280) { every_family_dts(UG_OP_XENT, F64, 1); }
Test(oracle_fast_f64, every_family_xent_dense, .timeout = 280) { every_family_dts(UG_OP_XENT_DENSE, F64, 1); }
Test(oracle_fast_f64, every_family_xent_grad, .timeout = 280) { every_family_dts(UG_OP_XENT_GRAD, F64, 1); }
Test(oracle_fast_f64, every_family_bce_logits, .timeout = 280) { every_family_dts(UG_OP_BCE_LOGITS, F64, 1); }
Test(oracle_fast_f64, every_worst_case_file) { every_worst_case(F64, 1); }
#else
static void every_family(ug_op op) { every_family_dts(op, FAST_DTS, sizeof FAST_DTS / sizeof FAST_DTS[0]); }
Test(oracle_fast, every_family_softmax, .timeout = 280) { every_family(UG_OP_SOFTMAX); }
Test(oracle_fast, every_family_log_softmax, .timeout = 280) { every_family(UG_OP_LOG_SOFTMAX); }
Test(oracle_fast, every_family_logsumexp, .timeout = 280) { every_family(UG_OP_LOGSUMEXP); }
Test(oracle_fast, every_family_xent, .timeout = 280) { every_family(UG_OP_XENT); }
Test(oracle_fast, every_family_xent_dense, .timeout = 280) { every_family(UG_OP_XENT_DENSE); }
Test(oracle_fast, every_family_xent_grad, .timeout = 280) { every_family(UG_OP_XENT_GRAD); }
Test(oracle_fast, every_worst_case_file) { every_worst_case(FAST_DTS, sizeof FAST_DTS / sizeof FAST_DTS[0]); }

/* The ULP metric (ulp.h, ANALYSIS.md §6): F = RU_24 of the unrounded error x, below1 = x < 1,
 * and the exact over-bound test, by the MPFR path (a set value) and from an enclosure (a
 * lazy one).  Expected values worked out by hand. */
static ug_cmp cmp_set(ug_dtype dt, double y, const char *v)
{
    ug_exact *e = ug_exact_new(1);
    mpfr_set_str(e->value, v, 0, MPFR_RNDN);
    e->rounded = mpfr_get_d(e->value, MPFR_RNDN), e->kappa = 1, e->lazy = 0;
    ug_cmp c = ug_compare(dt, y, e);
    ug_exact_free(e, 1);
    return c;
}

static int cmp_lazy(ug_dtype dt, double y, double h, double l, double err, ug_cmp *c)
{
    ug_exact e = {.rounded = h, .kappa = 1, .lazy = 1, .vhi = h, .vlo = l, .verr = err};
    return ug_compare_lazy(dt, y, &e, c);
}

Test(oracle_fast, ulp_metric_rounded_up_to_24_bits)
{
    /* f32, y = 1, v = 1 + 2^-24 + 2^-60: x = 1/2 + 2^-37, F = 1/2 + 2^-24 (24 bits) */
    ug_cmp c = cmp_set(UG_F32, 1.0, "0x1.000001000000001p0");
    cr_expect(c.cls == UG_CMP_OK && c.ulp == 0x1.000002p-1 && c.below1 == 1, "%a", c.ulp);
    ug_cmp l;
    cr_expect(cmp_lazy(UG_F32, 1.0, 0x1.000001p0, 0x1p-60, 0x1p-100, &l));
    cr_expect(l.ulp == 0x1.000002p-1 && l.below1 == 1, "%a", l.ulp);
    /* y = 1, v = 1 + 2^-23 - 2^-70: x = 1 - 2^-47 rounds up to 1 and is still faithful */
    c = cmp_set(UG_F32, 1.0, "0x1.000001fffffffffffcp0");
    cr_expect(c.ulp == 1.0 && c.below1 == 1, "%a", c.ulp);
    cr_expect(cmp_lazy(UG_F32, 1.0, 0x1.000002p0, -0x1p-70, 0x1p-110, &l));
    cr_expect(l.ulp == 1.0 && l.below1 == 1, "%a", l.ulp);
    /* v = 1 + 2^-23 exactly: x = 1, not faithful; a lazy enclosure around it cannot tell */
    c = cmp_set(UG_F32, 1.0, "0x1.000002p0");
    cr_expect(c.ulp == 1.0 && c.below1 == 0, "%a", c.ulp);
    cr_expect(!cmp_lazy(UG_F32, 1.0, 0x1.000002p0, 0, 0x1p-110, &l));
    /* f64: y = 3/2, v = 3/2 + 2^-52 / 3 (x = 1/3): F = RU_24(1/3) = 0x1.555556p-2 */
    c = cmp_set(UG_F64, 1.5, "0x1.80000000000005555555555555555555p0");
    cr_expect(c.ulp == 0x1.555556p-2 && c.below1 == 1, "%a", c.ulp);
    cr_expect(cmp_lazy(UG_F64, 1.5, 1.5, 0x1.5555555555555p-54, 0x1p-104, &l));
    cr_expect(l.ulp == 0x1.555556p-2 && l.below1 == 1, "%a", l.ulp);
    /* exactly 1/2 and 3/2 stay: correct is F <= 0.5 exactly */
    cr_expect_eq(cmp_set(UG_F32, 1.0, "0x1.000001p0").ulp, 0.5);
    cr_expect_eq(cmp_set(UG_F32, 0x1.000004p0, "0x1.000001p0").ulp, 1.5);
}

Test(oracle_fast, ulp_metric_over_bound_is_exact)
{
    /* x = 1 + 2^-34 (F = 1 + 2^-23): over 1 + 2^-40, not over 1 + 2^-30; the lazy one
     * x = 1 + 2^-37, the same answers */
    mpfr_t v;
    mpfr_init2(v, 128);
    mpfr_set_str(v, "0x1.000002000000008p0", 0, MPFR_RNDN);
    cr_expect_eq(ug_ulp_exceeds(UG_F32, 1.0, v, 0x1.0000000001p0), 1);
    cr_expect_eq(ug_ulp_exceeds(UG_F32, 1.0, v, 0x1.00000004p0), 0);
    cr_expect_eq(ug_ulp_exceeds(UG_F32, 1.0, v, 1.0), 1);
    mpfr_clear(v);
    ug_exact e = {.rounded = 0x1.000002p0, .kappa = 1, .lazy = 1, .vhi = 0x1.000002p0, .vlo = 0x1p-60, .verr = 0x1p-100};
    int over = -1;
    cr_expect(ug_compare_over_lazy(UG_F32, 1.0, &e, 0x1.0000000001p0, &over) && over == 1);
    cr_expect(ug_compare_over_lazy(UG_F32, 1.0, &e, 0x1.00000004p0, &over) && over == 0);
}

/* The judge on a kernel within 2^-10 ULP of a tight claim: logsumexp.naive.f32 (claim
 * 1 + 2^-25 kappa) returns 0 on the row [2^-149, -128], where v = 2^-149 + log(1 + e^-(128 +
 * 2^-149)) ~ 2^-149 + 2^-184.7: x = 1 + 2^-35.7 ULP (ulp = 2^-149), kappa ~ 1 + 2^-28.7, so
 * the bound ~ 1 + 2^-25 lies between x and F = RU_24(x) = 1 + 2^-23.  Not over its bound,
 * not faithful, F = 1 + 2^-23; the same with the fast path on and off. */
Test(oracle_fast, judge_over_bound_on_the_unrounded_error)
{
    const ug_kernel *k = ug_kernel_find("logsumexp.naive.f32");
    cr_assert(k != NULL);
    ug_batch *b = ug_batch_new(UG_OP_LOGSUMEXP, UG_F32, 1, 2, 0, 0);
    cr_assert(b != NULL);
    ug_batch_put(UG_F32, b->x, 0, 0x1p-149);
    ug_batch_put(UG_F32, b->x, 1, -128.0);
    for (int fast = 0; fast < 2; fast++) {
        ug_oracle_set_fast(fast);
        ug_expect e;
        cr_assert_eq(ug_expect_init(&e, b, UG_RED_NONE), UG_OK);
        ug_judge j;
        ug_judge_init(&j, k);
        cr_assert_eq(ug_judge_batch(&j, b, &e), UG_OK);
        cr_assert(j.worst.input != NULL && j.worst.computed == 0.0, "the premise: the canary returns 0");
        cr_expect(j.max_ulp == 0x1.000002p0, "F %a", j.max_ulp);
        cr_expect(j.worst.bound > 1 && j.worst.bound < 0x1.000002p0, "bound %a", j.worst.bound);
        cr_expect_eq(j.over_bound, 0, "x = 1 + 2^-35.7 is within 1 + 2^-25 kappa");
        cr_expect_eq(j.faithful, 0);
        cr_expect_eq(j.correct, 0);
        ug_judge_free(&j);
        ug_expect_free(&e);
    }
    ug_oracle_set_fast(1);
    ug_batch_free(b);
}

Test(oracle_fast, switch_and_supported_ops)
{
    /* the switch: off gives the MPFR path, whose values are never lazy */
    float x[4] = {0.5f, -1.25f, 3.0f, 2.0f};
    ug_problem p = {.rows = 1, .n = 4, .x = x, .y = x};
    ug_exact *e = ug_exact_new(4);
    ug_oracle_set_fast(0);
    cr_expect_eq(ug_oracle_fast_enabled(), 0);
    cr_assert_eq(ug_oracle_eval_lazy(UG_OP_SOFTMAX, UG_F32, &p, e), UG_OK);
    for (int i = 0; i < 4; i++)
        cr_expect_eq(e[i].lazy, 0);
    ug_oracle_set_fast(1);
    cr_expect_eq(ug_oracle_fast_enabled(), 1);
    cr_assert_eq(ug_oracle_eval_lazy(UG_OP_SOFTMAX, UG_F32, &p, e), UG_OK);
    int lazy = 0;
    for (int i = 0; i < 4; i++)
        lazy += e[i].lazy;
    cr_expect(lazy > 0, "an ordinary f32 row: the fast path leaves its irrational values lazy");
    /* bad input: the same status by both paths */
    p.n = 0;
    cr_expect_eq(ug_oracle_eval_lazy(UG_OP_SOFTMAX, UG_F32, &p, e), UG_ERR_EMPTY);
    ug_exact_free(e, 4);
}
#endif
