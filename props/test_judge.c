/* The judge (oracle/judge.h).
 *
 * First on synthetic kernels defined here and nowhere else (never in the registry): the
 * oracle's own answer, that answer moved up by one ULP, NaN, +inf, zeros of the wrong
 * sign, a refusal, a write past the outputs, a write to the inputs.  The judge must give
 * each its ULP error or violation class.
 *
 * Then on the registry: every production and variant kernel on every family (seed 1)
 * keeps its claim; every canary is caught on at least one family.  The table of which
 * family catches which canary, and the largest error of every kernel, is printed even
 * when everything passes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "families.h"
#include "judge.h"
#include "ulpgate/registry.h"

/* ---------------------------------------------------------------- synthetic kernels */

typedef enum fake_mode {
    EXACT, PLUS_ONE_ULP, ALL_NAN, ALL_INF, FLIP_ZERO, REFUSE, OVERRUN, MODIFY, SOME_OFF
} fake_mode;

/* The next value of dt above v (v a finite dt value). */
static double next_up(ug_dtype dt, double v)
{
    if (dt == UG_F64)
        return nextafter(v, INFINITY);
    if (dt == UG_F32)
        return nextafterf((float)v, INFINITY);
    if (v == 0)
        return ug_dtype_min_subnormal(dt);
    ug_bf16 h = ug_bf16_from_f64(v);
    h.bits = v > 0 ? h.bits + 1 : h.bits - 1; /* bf16 is sign-magnitude: away from / toward zero */
    return ug_bf16_to_f32(h);
}

static double transform(fake_mode m, ug_dtype dt, double v, size_t i, size_t n)
{
    switch (m) {
    case PLUS_ONE_ULP: return isfinite(v) ? next_up(dt, v) : v;
    case ALL_NAN: return NAN;
    case ALL_INF: return INFINITY;
    case FLIP_ZERO: return v == 0 ? -v : v;
    case SOME_OFF: return i % n == 0 && isfinite(v) ? next_up(dt, v) : v;
    default: return v;
    }
}

/* softmax in dt, from the oracle, then spoiled as m says. */
static ug_status fake(const ug_problem *p, ug_dtype dt, fake_mode m)
{
    if (m == REFUSE)
        return UG_ERR_ARG;
    size_t count = ug_output_count(UG_OP_SOFTMAX, p->rows, p->n, UG_RED_NONE);
    ug_exact *e = ug_exact_new(count);
    ug_status st = ug_oracle_eval(UG_OP_SOFTMAX, dt, p, e);
    for (size_t i = 0; st == UG_OK && i < count; i++)
        ug_batch_put(dt, p->y, i, transform(m, dt, e[i].rounded, i, p->n));
    if (m == OVERRUN)
        ug_batch_put(dt, p->y, count, 0.0);
    if (m == MODIFY)
        ug_batch_put(dt, (void *)p->x, 0, 1.0 + ug_batch_get(dt, p->x, 0));
    ug_exact_free(e, count);
    return st;
}

#define FAKE(mode, dt, suffix) \
    static ug_status fake_##mode##_##suffix(const ug_problem *p) { return fake(p, dt, mode); }
FAKE(EXACT, UG_F32, f32)
FAKE(PLUS_ONE_ULP, UG_F32, f32)
FAKE(PLUS_ONE_ULP, UG_BF16, bf16)
FAKE(PLUS_ONE_ULP, UG_F64, f64)
FAKE(ALL_NAN, UG_F32, f32)
FAKE(ALL_INF, UG_F32, f32)
FAKE(FLIP_ZERO, UG_F32, f32)
FAKE(REFUSE, UG_F32, f32)
FAKE(OVERRUN, UG_F32, f32)
FAKE(MODIFY, UG_F32, f32)
FAKE(SOME_OFF, UG_F32, f32)

static ug_kernel fake_kernel(const char *name, ug_dtype dt, ug_kernel_fn fn)
{
    return (ug_kernel){.name = name, .op = UG_OP_SOFTMAX, .dtype = dt, .algorithm = "fake", .isa = "scalar",
                       .fn = fn, .bound = {1, 0, 0}, .role = UG_ROLE_VARIANT, .desc = "test only"};
}

/* Judge k on family `family` (seed 1, default sizes). */
static void judge_on(ug_judge *j, const ug_kernel *k, const char *family)
{
    ug_batch_list l;
    cr_assert_eq(ug_family_generate(ug_family_find(family), k->op, k->dtype, 1, 0, 0, &l), UG_OK);
    ug_judge_init(j, k);
    cr_assert_eq(ug_judge_list(j, &l, NULL), UG_OK, "%s on %s", k->name, family);
    ug_batch_list_free(&l);
}

Test(judge, exact_kernel_is_correctly_rounded)
{
    ug_kernel k = fake_kernel("fake.exact.f32", UG_F32, fake_EXACT_f32);
    ug_judge j;
    judge_on(&j, &k, "normal1");
    ug_judge_stats s = ug_judge_summary(&j);
    const ug_family *f = ug_family_find("normal1");
    cr_expect(j.outputs == f->rows * f->n && s.outputs == j.outputs, "outputs %zu", j.outputs);
    cr_expect(s.max_ulp <= 0.5 && s.pct_correct == 100 && s.pct_faithful == 100, "max %g, cr %g", s.max_ulp,
              s.pct_correct);
    cr_expect(s.p50 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.max_ulp);
    cr_expect(!ug_judge_failed(&j) && j.over_bound == 0 && ug_judge_violations(&j) == 0);
    cr_expect_not_null(j.worst.input);
    cr_expect_null(j.excess.input);
    ug_judge_free(&j);
}

/* One ULP up: every error in (0.5, 2.5] (2.5 when the exact value lies just under a power
 * of 2 and rounds up to it), none correctly rounded, and over the bound of 1 exactly where
 * the error exceeds 1. */
static void expect_one_ulp_up(const ug_kernel *k, const char *family)
{
    ug_judge j;
    judge_on(&j, k, family);
    ug_judge_stats s = ug_judge_summary(&j);
    size_t over = 0;
    for (size_t i = 0; i < j.nerrs; i++) {
        cr_expect(j.errs[i] > 0.5 && j.errs[i] <= 2.5, "%s: output %zu: %g ULP", k->name, i, j.errs[i]);
        over += j.errs[i] > 1;
    }
    cr_expect_eq(j.cls[UG_CMP_OK], j.outputs, "%s: violations", k->name);
    cr_expect_eq(j.correct, 0, "%s: %zu correctly rounded", k->name, j.correct);
    cr_expect_eq(j.over_bound, over, "%s: over bound %zu, errors > 1: %zu", k->name, j.over_bound, over);
    cr_expect(over > 0 && ug_judge_failed(&j) && s.max_ulp > 1, "%s: max %g", k->name, s.max_ulp);
    cr_expect_not_null(j.excess.input);
    cr_expect(j.excess.ulp > j.excess.bound);
    ug_judge_free(&j);
}

Test(judge, one_ulp_up_in_every_dtype)
{
    ug_kernel f32 = fake_kernel("fake.plus1.f32", UG_F32, fake_PLUS_ONE_ULP_f32);
    ug_kernel bf16 = fake_kernel("fake.plus1.bf16", UG_BF16, fake_PLUS_ONE_ULP_bf16);
    ug_kernel f64 = fake_kernel("fake.plus1.f64", UG_F64, fake_PLUS_ONE_ULP_f64);
    expect_one_ulp_up(&f32, "normal1");
    expect_one_ulp_up(&bf16, "normal1");
    expect_one_ulp_up(&f64, "normal10");
}

Test(judge, nan_everywhere_is_a_nan_violation)
{
    ug_kernel k = fake_kernel("fake.nan.f32", UG_F32, fake_ALL_NAN_f32);
    ug_judge j;
    judge_on(&j, &k, "normal1");
    ug_judge_stats s = ug_judge_summary(&j);
    cr_expect_eq(j.cls[UG_CMP_NAN_WRONG], j.outputs);
    cr_expect(isinf(s.max_ulp) && ug_judge_failed(&j) && s.pct_correct == 0);
    cr_expect_eq(j.worst.cls, UG_CMP_NAN_WRONG);
    cr_expect_eq(j.excess.cls, UG_CMP_NAN_WRONG);
    ug_judge_free(&j);
}

Test(judge, inf_for_a_finite_value_is_an_overflow_violation)
{
    ug_kernel k = fake_kernel("fake.inf.f32", UG_F32, fake_ALL_INF_f32);
    ug_judge j;
    judge_on(&j, &k, "normal1");
    cr_expect_eq(j.cls[UG_CMP_OVERFLOW], j.outputs);
    cr_expect(ug_judge_failed(&j));
    ug_judge_free(&j);
}

/* masked: every masked entry's softmax is +0; the fake writes -0 there. */
Test(judge, wrong_zero_sign_is_a_zero_sign_violation)
{
    ug_kernel k = fake_kernel("fake.flipzero.f32", UG_F32, fake_FLIP_ZERO_f32);
    ug_batch_list l;
    cr_assert_eq(ug_family_generate(ug_family_find("masked"), UG_OP_SOFTMAX, UG_F32, 1, 0, 0, &l), UG_OK);
    size_t zeros = 0;
    for (size_t b = 0; b < l.count; b++) {
        ug_expect e;
        cr_assert_eq(ug_expect_init(&e, l.items[b], UG_RED_NONE), UG_OK);
        for (size_t i = 0; i < e.count; i++)
            zeros += ug_same_bits(UG_F32, e.exact[i].rounded, 0.0) || ug_same_bits(UG_F32, e.exact[i].rounded, -0.0);
        ug_expect_free(&e);
    }
    ug_judge j;
    ug_judge_init(&j, &k);
    cr_assert_eq(ug_judge_list(&j, &l, NULL), UG_OK);
    cr_expect(zeros > 0);
    cr_expect_eq(j.cls[UG_CMP_ZERO_SIGN], zeros, "zero-sign %zu, zeros %zu", j.cls[UG_CMP_ZERO_SIGN], zeros);
    cr_expect_eq(j.cls[UG_CMP_OK], j.outputs - zeros);
    ug_judge_free(&j);
    ug_batch_list_free(&l);
}

static void expect_kernel_error(ug_kernel_fn fn, const char *why)
{
    ug_kernel k = fake_kernel("fake.error.f32", UG_F32, fn);
    ug_judge j;
    judge_on(&j, &k, "normal1");
    cr_expect_eq(j.kernel_errors, j.batches, "%s", why);
    cr_expect(j.batches > 0 && j.outputs == 0 && ug_judge_failed(&j), "%s", why);
    cr_expect(j.excess.input != NULL && j.excess.status != UG_OK && strcmp(j.excess.why, why) == 0, "%s", why);
    cr_expect(isinf(ug_judge_summary(&j).max_ulp), "%s", why);
    ug_judge_free(&j);
}

Test(judge, kernel_errors_are_failures_not_crashes)
{
    expect_kernel_error(fake_REFUSE_f32, "status");
    expect_kernel_error(fake_OVERRUN_f32, "overrun");
    expect_kernel_error(fake_MODIFY_f32, "input-modified");
}

/* One output in 64 one ULP up: 1/64 > 1% of the errors are > 0.5, so p99 (nearest rank)
 * is one of them and p50 is not. */
Test(judge, order_statistics)
{
    ug_kernel k = fake_kernel("fake.someoff.f32", UG_F32, fake_SOME_OFF_f32);
    ug_judge j;
    judge_on(&j, &k, "normal1");
    ug_judge_stats s = ug_judge_summary(&j);
    cr_expect(s.p50 <= 0.5 && s.p99 > 0.5 && s.p999 > 0.5, "p50 %g p99 %g p999 %g", s.p50, s.p99, s.p999);
    cr_expect_eq(j.correct, j.outputs - j.outputs / 64, "correct %zu of %zu", j.correct, j.outputs);
    cr_expect(fabs(s.pct_correct - 100.0 * 63 / 64) < 1e-9, "cr %g", s.pct_correct);
    ug_judge_free(&j);
}

Test(judge, rejects_a_batch_of_another_op_or_dtype)
{
    ug_kernel k = fake_kernel("fake.exact.f32", UG_F32, fake_EXACT_f32);
    ug_batch_list l;
    cr_assert_eq(ug_family_generate(ug_family_find("normal1"), UG_OP_SOFTMAX, UG_F64, 1, 2, 4, &l), UG_OK);
    ug_judge j;
    ug_judge_init(&j, &k);
    cr_expect_eq(ug_judge_batch(&j, l.items[0], NULL), UG_ERR_ARG);
    cr_expect_eq(j.batches, 0);
    ug_judge_free(&j);
    ug_batch_list_free(&l);
}

/* ---------------------------------------------------------------- the registry */

/* Rows per family in the registry sweep: the defaults, exactly what `ulpgate check
 * --kernel all` judges (about 15 s here; the oracle's answers are shared by every kernel
 * of an op and dtype). */
static size_t sweep_rows(const ug_family *f) { return f->rows; }

typedef struct sweep {
    ug_batch_list l;
    ug_expect *e;
} sweep;

static void sweep_make(sweep *s, const ug_family *f, ug_op op, ug_dtype dt)
{
    cr_assert_eq(ug_family_generate(f, op, dt, 1, sweep_rows(f), 0, &s->l), UG_OK);
    s->e = calloc(s->l.count, sizeof *s->e);
    for (size_t i = 0; i < s->l.count; i++)
        cr_assert_eq(ug_expect_init(&s->e[i], s->l.items[i], UG_RED_NONE), UG_OK, "%s: oracle refused batch %zu",
                     f->name, i);
}

static void sweep_free(sweep *s)
{
    for (size_t i = 0; i < s->l.count; i++)
        ug_expect_free(&s->e[i]);
    free(s->e);
    ug_batch_list_free(&s->l);
}

/* The largest error of a kernel over the sweep, the bound at that output, the family. */
typedef struct seen {
    double ulp, bound;
    const char *family;
} seen;

/* Judge every kernel of (op, dt) on family f, noting who failed and the largest error. */
static void judge_group(ug_op op, ug_dtype dt, const ug_family *f, char (*caught)[256], seen *worst)
{
    sweep s;
    sweep_make(&s, f, op, dt);
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (k->op != op || k->dtype != dt)
            continue;
        ug_judge j;
        ug_judge_init(&j, k);
        cr_assert_eq(ug_judge_list(&j, &s.l, s.e), UG_OK);
        double m = ug_judge_summary(&j).max_ulp;
        if (j.worst.input != NULL && (worst[i].family == NULL || m > worst[i].ulp))
            worst[i] = (seen){m, j.worst.bound, f->name};
        if (k->role != UG_ROLE_CANARY)
            cr_expect(!ug_judge_failed(&j), "%s on %s: max %g ULP, %zu over bound, %zu violations, %zu errors", k->name,
                      f->name, m, j.over_bound, ug_judge_violations(&j), j.kernel_errors);
        else if (ug_judge_failed(&j) && strlen(caught[i]) + strlen(f->name) + 2 < sizeof caught[i])
            strcat(strcat(caught[i], " "), f->name);
        ug_judge_free(&j);
    }
    sweep_free(&s);
}

Test(registry, production_and_variants_keep_their_claims_canaries_are_caught, .timeout = 280)
{
    size_t nk = ug_kernel_count();
    char(*caught)[256] = calloc(nk, sizeof *caught);
    seen *worst = calloc(nk, sizeof *worst);
    for (int op = 0; op < UG_OP_COUNT; op++)
        for (int dt = 0; dt < UG_DTYPE_COUNT; dt++)
            for (size_t f = 0; f < ug_family_count(); f++)
                if (ug_family_supports(ug_family_at(f), (ug_dtype)dt))
                    judge_group((ug_op)op, (ug_dtype)dt, ug_family_at(f), caught, worst);
    for (size_t i = 0; i < nk; i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (k->role == UG_ROLE_CANARY) {
            fprintf(stderr, "canary     %-26s caught by:%s\n", k->name, caught[i][0] ? caught[i] : " NOTHING");
            cr_expect(caught[i][0] != '\0', "canary %s is caught by no family", k->name);
        } else {
            fprintf(stderr, "%-10s %-26s max %.4g ULP on %s (bound there %.4g)\n", ug_role_name(k->role), k->name,
                    worst[i].ulp, worst[i].family, worst[i].bound);
        }
    }
    free(caught);
    free(worst);
}
