/* The canaries are proven visible: for every canary of the registry (role CANARY), the
 * suite must flag it.  One test per kernel, named <kernel function>::is_caught (skipped for
 * the other roles):
 *
 *   - the judge on every input family (seed 2, at most 16 rows per family, rows of at most
 *     4096): the families that see an output over the claimed bound, a violation or a
 *     kernel error;
 *   - every other property of the suite (props/generic.h, PROP_ALL) run in probe mode,
 *     which stops at the first failure: the properties that flag it.
 *
 * The test fails when nothing catches the canary (the harness would have gone blind), and
 * prints, even when it passes, which families and which properties caught it and the
 * first failure of one of them. */
#include <string.h>

#include <criterion/criterion.h>

#include "generic.h"

enum { CANARY_SEED = 2, CANARY_ROWS = 16, CANARY_MAX_N = 4096 };

/* The families whose batches show the canary failing, appended to list.  Rows of at
 * most CANARY_MAX_N (equal_large's 10^5-long rows are left to test_judge.c). */
static size_t families_catching(const ug_kernel *k, char *list, size_t size)
{
    size_t caught = 0;
    for (size_t f = 0; f < ug_family_count(); f++) {
        const ug_family *fam = ug_family_at(f);
        ug_batch_list l;
        if (!ug_family_supports(fam, k->dtype) || fam->n > CANARY_MAX_N ||
            ug_family_generate(fam, k->op, k->dtype, CANARY_SEED, CANARY_ROWS, 0, &l) != UG_OK)
            continue;
        ug_judge j;
        ug_judge_init(&j, k);
        cr_assert_eq(ug_judge_list(&j, &l, NULL), UG_OK, "%s on %s", k->name, fam->name);
        if (ug_judge_failed(&j)) {
            caught++;
            size_t len = strlen(list);
            snprintf(list + len, size - len, " %s(%.3g ULP)", fam->name, ug_judge_summary(&j).max_ulp);
        }
        ug_judge_free(&j);
        ug_batch_list_free(&l);
    }
    return caught;
}

/* The properties that flag the canary, appended to list; the first failure to first. */
static size_t properties_catching(const ug_kernel *k, char *list, size_t size, char *first, size_t fsize)
{
    size_t caught = 0;
    for (size_t i = 0; i < prop_count(); i++) {
        const prop_entry *p = prop_at(i);
        if (strcmp(p->name, "claim_on_every_family") == 0)
            continue; /* the families above */
        prop_report r;
        prop_report_init(&r, k, p->name);
        r.probe = 1;
        p->fn(k, &r);
        if (r.skip[0] != '\0' || r.failed == 0)
            continue;
        caught++;
        size_t len = strlen(list);
        snprintf(list + len, size - len, " %s", p->name);
        if (first[0] == '\0')
            snprintf(first, fsize, "%s: %.900s", p->name, r.first);
    }
    return caught;
}

static void expect_caught(const char *name)
{
    const ug_kernel *k = ug_kernel_find(name);
    cr_assert_not_null(k);
    if (k->role != UG_ROLE_CANARY)
        cr_skip_test("%s is a %s kernel, not a canary", name, ug_role_name(k->role));
    char fams[2048] = "", props[2048] = "", first[1024] = "";
    size_t nf = families_catching(k, fams, sizeof fams);
    size_t np = properties_catching(k, props, sizeof props, first, sizeof first);
    fprintf(stderr, "canary %-26s caught by families:%s\n", name, nf ? fams : " none");
    fprintf(stderr, "canary %-26s caught by properties:%s\n", name, np ? props : " none");
    if (first[0] != '\0')
        fprintf(stderr, "canary %-26s e.g. %.600s\n", name, first);
    cr_expect(nf + np > 0, "canary %s is caught by no family and no property: the harness is blind to it", name);
}

#define UG_KERNEL(fn, name, ...) \
    Test(fn, is_caught, .timeout = 240) { expect_caught(name); }
#include "kernels.def"
#undef UG_KERNEL
