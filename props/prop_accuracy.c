/* Accuracy: the kernel against the oracle, through the judge (oracle/judge.h), on every
 * input family (oracle/families.h) with fixed seeds.
 *
 *   claim_on_every_family      reduction none, seed 2, the families' default sizes.
 *                              (props/test_judge.c judges seed 1 in one sweep over the
 *                              registry; this is the per-kernel test, on other rows.)
 *   claim_under_sum_and_mean   the losses (xent, xent_dense, bce_logits) with reduction
 *                              sum and mean, seed 2, rows of n <= 4096 (longer ones in
 *                              slow_prop_large_n.c): one output per batch, judged against
 *                              the exact sum (or mean) of the exact row losses, rounded
 *                              once (SPECIAL.md rule 9).  Catches a mean over the wrong
 *                              count or a sum that drops a row, which no per-row test sees.
 *
 * Pass: every output within ug_bound_at(k, n, kappa) ULP and no violation (NaN, overflow,
 * infinity or zero-sign) and no kernel error.  The largest ULP error seen is printed. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "generic.h"

enum { ACCURACY_SEED = 2 };

/* Describe the judge's excess sample (the first output most over its bound, or the
 * first kernel error) with the row it came from. */
static void fail_with_sample(prop_report *r, const ug_judge *j, const char *origin)
{
    const ug_judge_sample *s = &j->excess;
    char row[3072] = "";
    if (s->input != NULL) {
        prop_case *c = prop_case_from_batch(s->input, origin);
        prop_fmt_row(row, sizeof row, c, 0);
        prop_case_free(c);
    }
    if (s->status != UG_OK) {
        prop_fail(r, "%s: kernel error (%s, status %d: %s) on %s", origin, s->why ? s->why : "?", s->status,
                  ug_status_str(s->status), row);
        return;
    }
    prop_fail(r, "%s: output %zu (row %zu, col %zu%s): computed %a, exact %a (%s), %.6g ULP, bound %.6g, class %s; "
              "kappa %.4g; input %s",
              origin, s->output, s->row, s->col, s->reduced ? ", reduced over every row" : "", s->computed,
              s->exact, s->exact_hex, s->ulp, s->bound, ug_cmp_class_name(s->cls), s->kappa, row);
}

ug_status prop_judge(const ug_kernel *k, prop_report *r, const ug_batch *b, ug_reduction red, const char *origin)
{
    ug_expect e;
    ug_status st = ug_expect_init(&e, b, red);
    if (st != UG_OK) {
        ug_expect_free(&e);
        return st;
    }
    ug_judge j;
    ug_judge_init(&j, k);
    st = ug_judge_batch(&j, b, &e);
    if (st == UG_OK) {
        r->checked += j.outputs + j.kernel_errors;
        if (ug_judge_failed(&j))
            fail_with_sample(r, &j, origin);
        if (j.worst.input != NULL)
            prop_seen(r, j.max_ulp, "%s (bound there %.4g)", origin, j.worst.bound);
    }
    ug_judge_free(&j);
    ug_expect_free(&e);
    return st;
}

/* Every family's batches for k (seed ACCURACY_SEED, rows of at most max_n) under red. */
static void judge_families(const ug_kernel *k, prop_report *r, ug_reduction red, size_t max_n)
{
    r->worst_what = "ULP";
    prop_cases l;
    prop_family_batches(k->op, k->dtype, ACCURACY_SEED, prop_rows(r, SIZE_MAX), prop_max_n(r, max_n), prop_n(r), &l);
    for (size_t i = 0; i < l.count && !prop_done(r); i++) {
        char origin[128];
        snprintf(origin, sizeof origin, "%s %s", l.items[i]->origin, ug_reduction_name(red));
        ug_batch *b = prop_case_to_batch(l.items[i]);
        ug_status st = prop_judge(k, r, b, red, origin);
        if (st != UG_OK)
            prop_fail(r, "%s: the oracle refused the batch (status %d)", origin, st);
        ug_batch_free(b);
    }
    prop_cases_free(&l);
}

void prop_claim_on_every_family(const ug_kernel *k, prop_report *r)
{
    if (prop_skip_canary(r))
        return;
    judge_families(k, r, UG_RED_NONE, SIZE_MAX);
}

/* Reductions over batches of rows of at most REDUCE_MAX_N (the oracle's exact sum over
 * 2 x 10^5 bce elements takes seconds): equal_large's rows are reduced in
 * props/slow_prop_large_n.c. */
enum { REDUCE_MAX_N = 4096 };

void prop_claim_under_sum_and_mean(const ug_kernel *k, prop_report *r)
{
    if (prop_skip_canary(r))
        return;
    if (!ug_op_has_reduction(k->op)) {
        prop_skip(r, "%s has no reduction", ug_op_name(k->op));
        return;
    }
    judge_families(k, r, UG_RED_SUM, REDUCE_MAX_N);
    judge_families(k, r, UG_RED_MEAN, REDUCE_MAX_N);
}
