/* The worst-case files props/data/ *.wc: every file parses, every case is accepted by the
 * oracle and fits at least one registered kernel; and every non-canary kernel keeps its
 * claim on every case of its op and dtype (props/prop_worstcases.c), one test per kernel
 * named <kernel function>::claim_on_worst_case_files. */
#include <criterion/criterion.h>

#include "generic.h"

#define UG_KERNEL(fn, name, ...) PROP_WORSTCASES(PROP_TEST, fn, name)
#include "kernels.def"
#undef UG_KERNEL

typedef struct tally {
    size_t cases, refused;
    char first[512];
} tally;

static void count_case(void *ctx, const prop_case *c, unsigned reds)
{
    tally *t = ctx;
    ug_batch *b = prop_case_to_batch(c);
    for (int red = 0; red <= UG_RED_MEAN; red++) {
        if (!(reds >> red & 1u) || (red != UG_RED_NONE && !ug_op_has_reduction(c->op)))
            continue;
        ug_expect e;
        ug_status st = ug_expect_init(&e, b, (ug_reduction)red);
        if (st != UG_OK && t->refused++ == 0)
            snprintf(t->first, sizeof t->first, "%s: the oracle refuses it (status %d: %s)", c->origin, st,
                     ug_last_error());
        ug_expect_free(&e);
    }
    ug_batch_free(b);
    t->cases++;
}

/* One kernel of (op, dt) in the registry, or NULL. */
static const ug_kernel *any_kernel(ug_op op, ug_dtype dt)
{
    for (size_t i = 0; i < ug_kernel_count(); i++)
        if (ug_kernel_at(i)->op == op && ug_kernel_at(i)->dtype == dt)
            return ug_kernel_at(i);
    return NULL;
}

Test(worst_case_files, parse_and_every_case_is_valid)
{
    char **files;
    int count = prop_wc_files(&files);
    cr_assert(count > 0, "no .wc file in %s/data", UG_PROPS_DIR);
    for (int f = 0; f < count; f++) {
        tally t = {0};
        for (int op = 0; op < UG_OP_COUNT; op++)
            for (int dt = 0; dt < UG_DTYPE_COUNT; dt++) {
                char err[512];
                size_t before = t.cases;
                cr_expect_eq(prop_wc_file_cases(files[f], (ug_op)op, (ug_dtype)dt, count_case, &t, err, sizeof err), 0,
                             "%s", err);
                cr_expect(t.cases == before || any_kernel((ug_op)op, (ug_dtype)dt) != NULL,
                          "%s: cases for %s %s, which no kernel computes", files[f], ug_op_name(op), ug_dtype_name(dt));
            }
        cr_expect(t.cases > 0, "%s holds no case", files[f]);
        cr_expect_eq(t.refused, 0, "%s: %zu cases refused; first: %s", files[f], t.refused, t.first);
        fprintf(stderr, "%-60s %zu cases (over ops and dtypes)\n", files[f], t.cases);
    }
    prop_wc_files_free(files, count);
}
