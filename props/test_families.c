/* The input families (oracle/families.h) over the whole table, every dtype each supports
 * and every op: deterministic, seed-dependent, values of the dtype, valid inputs
 * (targets in range, probability rows that sum to 1, labels in [0, 1]), and at least one
 * row for every op and dtype.  A new family is tested here without an edit. */
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>

#include "families.h"
#include "prng.h"
#include "ulp.h"
#include "ulpgate/registry.h"

/* Small sizes keep the sweep quick; equal_large keeps its long rows (n is the default). */
enum { ROWS = 6 };

typedef void (*visit_fn)(const ug_family *f, ug_op op, ug_dtype dt, const ug_batch_list *l);

/* Generate every (family, dtype, op) with seed 1 and hand the batches to visit. */
static void each_generation(visit_fn visit)
{
    for (size_t i = 0; i < ug_family_count(); i++) {
        const ug_family *f = ug_family_at(i);
        for (int dt = 0; dt < UG_DTYPE_COUNT; dt++) {
            if (!ug_family_supports(f, (ug_dtype)dt))
                continue;
            for (int op = 0; op < UG_OP_COUNT; op++) {
                ug_batch_list l;
                ug_status st = ug_family_generate(f, (ug_op)op, (ug_dtype)dt, 1, ROWS, 0, &l);
                cr_assert_eq(st, UG_OK, "%s %s %s: status %d", f->name, ug_op_name(op), ug_dtype_name(dt), st);
                visit(f, (ug_op)op, (ug_dtype)dt, &l);
                ug_batch_list_free(&l);
            }
        }
    }
}

static size_t bytes_of(const ug_batch *b) { return b->rows * b->n * ug_dtype_size(b->dtype); }

static int same_batch(const ug_batch *a, const ug_batch *b)
{
    if (a->rows != b->rows || a->n != b->n || a->first_row != b->first_row)
        return 0;
    if ((a->target == NULL) != (b->target == NULL) || (a->aux == NULL) != (b->aux == NULL))
        return 0;
    return memcmp(a->x, b->x, bytes_of(a)) == 0 && (a->aux == NULL || memcmp(a->aux, b->aux, bytes_of(a)) == 0) &&
           (a->target == NULL || memcmp(a->target, b->target, a->rows * sizeof *a->target) == 0);
}

static int same_list(const ug_batch_list *a, const ug_batch_list *b)
{
    if (a->count != b->count)
        return 0;
    for (size_t i = 0; i < a->count; i++)
        if (!same_batch(a->items[i], b->items[i]))
            return 0;
    return 1;
}

static void visit_repeat(const ug_family *f, ug_op op, ug_dtype dt, const ug_batch_list *l)
{
    ug_batch_list again;
    cr_assert_eq(ug_family_generate(f, op, dt, 1, ROWS, 0, &again), UG_OK);
    cr_expect(same_list(l, &again), "%s %s %s: seed 1 twice gave different bytes", f->name, ug_op_name(op),
              ug_dtype_name(dt));
    ug_batch_list_free(&again);
}

Test(families, same_seed_same_bytes) { each_generation(visit_repeat); }

/* Different seeds give different logits, for every family and dtype (softmax). */
Test(families, different_seeds_differ)
{
    for (size_t i = 0; i < ug_family_count(); i++) {
        const ug_family *f = ug_family_at(i);
        for (int dt = 0; dt < UG_DTYPE_COUNT; dt++) {
            if (!ug_family_supports(f, (ug_dtype)dt))
                continue;
            ug_batch_list a, b;
            cr_assert_eq(ug_family_generate(f, UG_OP_SOFTMAX, (ug_dtype)dt, 1, ROWS, 0, &a), UG_OK);
            cr_assert_eq(ug_family_generate(f, UG_OP_SOFTMAX, (ug_dtype)dt, 2, ROWS, 0, &b), UG_OK);
            cr_expect(!same_list(&a, &b), "%s %s: seeds 1 and 2 gave the same bytes", f->name, ug_dtype_name(dt));
            ug_batch_list_free(&a);
            ug_batch_list_free(&b);
        }
    }
}

/* Which special values a family may produce in x: NaN and +inf only `special`, -inf also
 * `masked`.  Everything else is finite: a huge offset must not round to inf. */
static void expect_values(const ug_family *f, const ug_batch *b)
{
    int specials = strcmp(f->name, "special") == 0, masks = specials || strcmp(f->name, "masked") == 0;
    for (size_t i = 0; i < b->rows * b->n; i++) {
        double v = ug_batch_get(b->dtype, b->x, i);
        /* a stored value reads back as itself: put(get(v)) keeps the bits */
        cr_expect(ug_same_bits(b->dtype, ug_dtype_round(b->dtype, v), v), "%s: %a is not a %s value", f->name, v,
                  ug_dtype_name(b->dtype));
        if (isnan(v) || (isinf(v) && v > 0))
            cr_expect(specials, "%s %s: x[%zu] = %a", f->name, ug_dtype_name(b->dtype), i, v);
        else if (isinf(v))
            cr_expect(masks, "%s %s: x[%zu] = -inf", f->name, ug_dtype_name(b->dtype), i);
    }
}

static void expect_targets(const ug_family *f, const ug_batch *b)
{
    for (size_t r = 0; b->target != NULL && r < b->rows; r++)
        cr_expect(b->target[r] >= 0 && (uint64_t)b->target[r] < b->n, "%s: target %lld outside [0, %zu)", f->name,
                  (long long)b->target[r], b->n);
}

static void expect_labels(const ug_family *f, const ug_batch *b)
{
    size_t zeros = 0, ones = 0;
    for (size_t i = 0; i < b->rows * b->n; i++) {
        double y = ug_batch_get(b->dtype, b->aux, i);
        cr_expect(y >= 0 && y <= 1, "%s %s: label %a outside [0, 1]", f->name, ug_dtype_name(b->dtype), y);
        zeros += y == 0;
        ones += y == 1;
    }
    cr_expect(ones > 0, "%s %s: no label 1", f->name, ug_dtype_name(b->dtype));
    (void)zeros; /* a batch of one element may have none */
}

/* The layout of xent_grad: a sparse batch then a dense one, alternately. */
static void expect_layout(const ug_family *f, ug_op op, const ug_batch_list *l, size_t i)
{
    const ug_batch *b = l->items[i];
    int dense = op == UG_OP_XENT_GRAD && i % 2 == 1;
    int want_target = op == UG_OP_XENT || (op == UG_OP_XENT_GRAD && !dense);
    int want_aux = op == UG_OP_XENT_DENSE || op == UG_OP_BCE_LOGITS || dense;
    cr_expect_eq(b->target != NULL, want_target, "%s %s batch %zu: target", f->name, ug_op_name(op), i);
    cr_expect_eq(b->aux != NULL, want_aux, "%s %s batch %zu: aux", f->name, ug_op_name(op), i);
    cr_expect(b->op == op && b->rows >= 1 && b->n >= 1, "%s %s batch %zu: shape", f->name, ug_op_name(op), i);
}

static void visit_valid(const ug_family *f, ug_op op, ug_dtype dt, const ug_batch_list *l)
{
    cr_expect(l->count >= 1, "%s %s %s: no batch", f->name, ug_op_name(op), ug_dtype_name(dt));
    if (op == UG_OP_XENT_GRAD)
        cr_expect(l->count % 2 == 0, "%s xent_grad: sparse and dense batches come in pairs", f->name);
    for (size_t i = 0; i < l->count; i++) {
        const ug_batch *b = l->items[i];
        expect_layout(f, op, l, i);
        expect_values(f, b);
        expect_targets(f, b);
        if (op == UG_OP_BCE_LOGITS)
            expect_labels(f, b);
        /* The production kernel validates every input rule (ug__validate): targets,
         * labels, probability rows summing to 1 within ug_prob_sum_tolerance. */
        size_t count = ug_output_count(op, b->rows, b->n, UG_RED_NONE);
        void *y = calloc(count, ug_dtype_size(dt));
        ug_problem p = ug_batch_problem(b, UG_RED_NONE, y);
        ug_status st = ug_run(op, dt, &p);
        cr_expect_eq(st, UG_OK, "%s %s %s batch %zu: the production kernel refused it: %s", f->name, ug_op_name(op),
                     ug_dtype_name(dt), i, ug_last_error());
        free(y);
    }
}

Test(families, valid_inputs_for_every_op_and_dtype) { each_generation(visit_valid); }

/* Every probability row sums to 1 within the tolerance, checked here too (Neumaier). */
static void visit_prob_sums(const ug_family *f, ug_op op, ug_dtype dt, const ug_batch_list *l)
{
    if (op != UG_OP_XENT_DENSE && op != UG_OP_XENT_GRAD)
        return;
    for (size_t i = 0; i < l->count; i++) {
        const ug_batch *b = l->items[i];
        for (size_t r = 0; b->aux != NULL && r < b->rows; r++) {
            double s = 0, c = 0;
            for (size_t k = 0; k < b->n; k++) {
                double v = ug_batch_get(dt, b->aux, r * b->n + k), t = s + v;
                cr_expect(v >= 0 && v <= 1, "%s: probability %a", f->name, v);
                c += fabs(s) >= fabs(v) ? (s - t) + v : (v - t) + s;
                s = t;
            }
            cr_expect(fabs(s + c - 1) <= ug_prob_sum_tolerance(dt, b->n), "%s %s row %zu: sum %.17g", f->name,
                      ug_dtype_name(dt), r, s + c);
        }
    }
}

Test(families, probability_rows_sum_to_one) { each_generation(visit_prob_sums); }

/* The table: unique names, descriptions, sizes; lookup by name. */
Test(families, table_is_well_formed)
{
    cr_assert(ug_family_count() >= 14);
    for (size_t i = 0; i < ug_family_count(); i++) {
        const ug_family *f = ug_family_at(i);
        cr_expect(f->name[0] != '\0' && f->desc[0] != '\0' && f->rows >= 1 && f->n >= 1, "%zu", i);
        cr_expect_eq(ug_family_find(f->name), f, "%s", f->name);
        for (size_t j = 0; j < i; j++)
            cr_expect_str_neq(f->name, ug_family_at(j)->name);
    }
    cr_expect_null(ug_family_find("no-such-family"));
    cr_expect_null(ug_family_at(ug_family_count()));
}

/* The PRNG: the first outputs of splitmix64 and xoshiro256** seeded with 0 (computed by
 * a Python transcription of the reference code, prng.di.unimi.it), integers in range,
 * uniforms in [0, 1), normals with mean 0 and variance 1. */
Test(prng, reference_and_ranges)
{
    ug_prng g;
    ug_prng_seed(&g, 0);
    cr_expect_eq(g.s[0], 0xe220a8397b1dcdafu, "splitmix64(0) = %#llx", (unsigned long long)g.s[0]);
    const uint64_t first[3] = {0x99ec5f36cb75f2b4u, 0xbf6e1f784956452au, 0x1a5f849d4933e6e0u};
    for (int i = 0; i < 3; i++)
        cr_expect_eq(ug_prng_next(&g), first[i], "output %d", i);
    for (int i = 0; i < 100000; i++) {
        double u = ug_prng_uniform(&g);
        cr_assert(u >= 0 && u < 1);
        cr_assert_lt(ug_prng_below(&g, 7), 7);
    }
    cr_expect_eq(ug_prng_below(&g, 1), 0);
    double s = 0, s2 = 0;
    for (int i = 0; i < 100000; i++) {
        double z = ug_prng_normal(&g);
        s += z;
        s2 += z * z;
    }
    cr_expect(fabs(s / 100000) < 0.02 && fabs(s2 / 100000 - 1) < 0.02, "mean %g, variance %g", s / 1e5, s2 / 1e5);
}
