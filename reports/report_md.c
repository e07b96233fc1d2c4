/* report.md: GitHub-flavoured Markdown, short enough for a pull-request comment (65536
 * characters) or a CI step summary: verdicts, worst errors, canaries caught, the
 * from-logits comparison, boundaries.  The details and the plots are in report.html. */
#include <math.h>
#include <string.h>

#include "measure.h"
#include "peers.h"
#include "report.h"

/* A boundary as short text: "88.72", "never", "at start", n on the length axis; a "*"
 * when the failure was not monotone. */
static void bshort(char *buf, size_t size, const ug_bresult *b)
{
    if (b->kind == UG_B_NEVER)
        snprintf(buf, size, "never");
    else if (b->kind == UG_B_ORIGIN)
        snprintf(buf, size, "at start");
    else if (b->dir->axis == UG_AXIS_LENGTH)
        snprintf(buf, size, "%.0f", b->at);
    else
        snprintf(buf, size, "%.4g", b->at);
    if (!b->monotone)
        strncat(buf, "*", size - strlen(buf) - 1);
}

static void header(FILE *f, const ug_report *r)
{
    int pass = r->passed == r->checked;
    fprintf(f, "# ulpgate accuracy report\n\n");
    fprintf(f, "**%s**: %zu of %zu production and variant kernels within their claimed bounds; "
               "%zu of %zu canaries caught.\n\n",
            pass ? "PASS" : "FAIL", r->passed, r->checked, r->caught, r->canaries);
    fprintf(f, "Seed %llu, %s run: %zu kernels, every input family (%s), boundaries up to n = %llu. "
               "Errors are in ULP of the exact, correctly rounded result (0.5 = correctly rounded). "
               "Reproduce with `ulpgate report --out DIR --seed %llu%s`.\n\n",
            (unsigned long long)r->seed, r->quick ? "quick" : "full", r->nk,
            r->rows_max ? "at most 16 rows each" : "default rows", (unsigned long long)r->bcfg.length_cap,
            (unsigned long long)r->seed, r->quick ? " --quick" : "");
}

static void kernels_table(FILE *f, const ug_report *r)
{
    fprintf(f, "## Kernels\n\n"
               "Worst error over every input family; *violations* are outputs that are NaN, inf, a wrong zero or "
               "a zero of the wrong sign where the exact result is not.\n\n"
               "| kernel | role | claim | max ULP | on | p99 | cr %% | violations | verdict |\n"
               "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | --- |\n");
    for (size_t i = 0; i < r->nk; i++) {
        const ug_kreport *k = &r->kr[i];
        char mx[32], p99[32], claim[32];
        ug_fmt_stat(mx, sizeof mx, k->max_ulp);
        ug_fmt_stat(p99, sizeof p99, k->p99);
        ug_fmt_stat(claim, sizeof claim, k->k->bound.ulp);
        const char *v = ug_verdict(k->k, k->failed);
        int bold = strcmp(v, "FAIL") == 0 || strcmp(v, "missed") == 0;
        fprintf(f, "| `%s` | %s | %s%s | %s | %s | %s | %.1f | %zu | %s%s%s |\n", k->k->name, ug_role_name(k->k->role),
                claim, k->k->bound.per_n || k->k->bound.per_cond ? "+" : "", mx,
                k->worst_family ? k->worst_family : "-", p99,
                k->outputs ? 100.0 * (double)k->correct / (double)k->outputs : 0.0, k->violations + k->kernel_errors,
                bold ? "**" : "", v, bold ? "**" : "");
    }
    fprintf(f, "\nclaim: the bound the kernel claims in `core/kernels.def` (+: plus terms in n or the condition "
               "number).\n\n");
}

static void canaries(FILE *f, const ug_report *r)
{
    fprintf(f, "## Canaries caught\n\nKnown-bad algorithms, kept to prove that the harness sees badness.\n\n"
               "| canary | caught on |\n| --- | --- |\n");
    for (size_t i = 0; i < r->nk; i++)
        if (r->kr[i].k->role == UG_ROLE_CANARY)
            fprintf(f, "| `%s` | %s |\n", r->kr[i].k->name, r->kr[i].failed ? r->kr[i].caught_by : "**missed**");
    fputc('\n', f);
}

static void compare(FILE *f, const ug_report *r)
{
    fprintf(f, "## Compute the loss from logits\n\n"
               "Where each algorithm first fails along an axis (bisection over the dtype's values; "
               "`ulpgate boundary`).\n\n");
    for (size_t c = 0; c < UG_COMPARE_COUNT; c++) {
        const ug_compare_def *d = ug_compare_at(c);
        const ug_bdir *dir = ug_bdir_find(d->axis);
        size_t di = (size_t)(dir - ug_bdir_at(0));
        fprintf(f, "**%s** (%s: %s). %s\n\n| kernel | over its bound from | inf, NaN or no correct bit from | returns there |\n"
                   "| --- | ---: | ---: | --- |\n",
                d->title, dir->name, dir->row, d->lesson);
        for (size_t i = 0; i < r->nk; i++) {
            if (r->ks[i]->op != d->op)
                continue;
            const ug_bresult *b = ug_report_boundary(r, i, di), *v = ug_report_violation(r, c, r->ks[i]);
            char at[48], vat[48], ret[256];
            bshort(at, sizeof at, b);
            bshort(vat, sizeof vat, v);
            ug_bfmt_returns(ret, sizeof ret, v->kind != UG_B_NEVER ? v : b);
            fprintf(f, "| `%s` | %s | %s | %s |\n", r->ks[i]->name, at, vat,
                    b->kind == UG_B_NEVER && v->kind == UG_B_NEVER ? "" : ret);
        }
        fputc('\n', f);
    }
}

static void boundaries(FILE *f, const ug_report *r)
{
    size_t nd = ug_bdir_count();
    fprintf(f, "## Boundaries\n\nThe first input at which each kernel fails, per axis (`ulpgate boundary --help`): "
               "*never* = passes on the whole axis, *at start* = fails at its first point, * = the failure is not "
               "monotone along the axis.\n\n| kernel |");
    for (size_t d = 0; d < nd; d++)
        fprintf(f, " %s (%s) |", ug_bdir_at(d)->name, ug_bdir_at(d)->param);
    fprintf(f, "\n| --- |");
    for (size_t d = 0; d < nd; d++)
        fprintf(f, " ---: |");
    fputc('\n', f);
    for (size_t i = 0; i < r->nk; i++) {
        fprintf(f, "| `%s` |", r->ks[i]->name);
        for (size_t d = 0; d < nd; d++) {
            char at[48];
            bshort(at, sizeof at, ug_report_boundary(r, i, d));
            fprintf(f, " %s |", at);
        }
        fputc('\n', f);
    }
    fputc('\n', f);
}

void ug_report_md(FILE *f, const ug_report *r, const char *plots_note)
{
    header(f, r);
    kernels_table(f, r);
    canaries(f, r);
    compare(f, r);
    boundaries(f, r);
    ug_peers_md(f, r->peers);
    if (plots_note != NULL)
        fprintf(f, "Plots were skipped: %s.\n", plots_note);
    else
        fprintf(f, "Plots (ULP histograms, worst ULP against spread and against n, boundary maps, the comparison) "
                   "are in report.html.\n");
}
