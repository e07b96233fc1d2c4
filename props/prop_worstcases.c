/* claim_on_worst_case_files: replay every props/data/ *.wc file for the kernel: every
 * case whose op and dtype are the kernel's, under each reduction the case names, judged
 * against the oracle (the claim, and no violation).  Files are read in name order; the
 * format is at the top of each file (and of oracle/wc.h). */
#include "generic.h"

typedef struct replay {
    const ug_kernel *k;
    prop_report *r;
    size_t cases;
} replay;

static void replay_case(void *ctx, const prop_case *c, unsigned reds)
{
    replay *p = ctx;
    ug_batch *b = prop_case_to_batch(c);
    p->cases++;
    for (int red = 0; red <= UG_RED_MEAN && !prop_done(p->r); red++) {
        if (!(reds >> red & 1u) || (red != UG_RED_NONE && !ug_op_has_reduction(c->op)))
            continue;
        char origin[160];
        snprintf(origin, sizeof origin, "%s%s%s", c->origin, red ? ", reduction " : "",
                 red ? ug_reduction_name((ug_reduction)red) : "");
        if (prop_judge(p->k, p->r, b, (ug_reduction)red, origin) != UG_OK)
            prop_fail(p->r, "%s: the oracle refused the case (a bad line)", origin);
    }
    ug_batch_free(b);
}

void prop_claim_on_worst_case_files(const ug_kernel *k, prop_report *r)
{
    if (prop_skip_canary(r))
        return;
    r->worst_what = "ULP";
    char **files;
    int count = prop_wc_files(&files);
    if (count <= 0) {
        prop_fail(r, "no worst-case file in %s/data", UG_PROPS_DIR);
        prop_wc_files_free(files, count);
        return;
    }
    replay p = {k, r, 0};
    for (int i = 0; i < count && !prop_done(r); i++) {
        char err[512];
        if (prop_wc_file_cases(files[i], k->op, k->dtype, replay_case, &p, err, sizeof err) != 0)
            prop_fail(r, "%s", err);
    }
    prop_wc_files_free(files, count);
    if (p.cases == 0 && r->failed == 0)
        prop_skip(r, "no worst case for %s %s yet", ug_op_name(k->op), ug_dtype_name(k->dtype));
}
