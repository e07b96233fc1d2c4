/* ulpgate gate: deterministic measurements against a committed baseline
 * (reports/baseline.txt, format in baseline.h); exit 1 when anything got worse.
 *
 * THE MEASUREMENT SET (the gate's own; the baseline's header repeats it):
 *   - every selected kernel on every input family its dtype supports, seed 1, the
 *     families' default rows (the same inputs as `ulpgate check --kernel all`), reduction
 *     none: max_ulp, p99 and violations (outputs in violation plus kernel errors);
 *   - every selected kernel on every axis of `ulpgate boundary`, the length axis up to
 *     n = 2^16 (bce_logits too): the first failing value, or none;
 *   - every selected kernel on every worst-case file props/data/ *.wc (--wc DIR) that holds
 *     a case of its op and dtype (parsed by oracle/wc.c, the parser the property suite
 *     uses): every such case under each reduction it names, judged as one set: max_ulp,
 *     p99 and violations, measure "wc:<file name>".  The oracle runs once per case and
 *     reduction, for every kernel of that op and dtype.  A file the parser or the oracle
 *     refuses is bad input (exit 2, naming the file and line), never skipped.
 * About 20 s for every kernel on one core.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "baseline.h"
#include "boundary.h"
#include "cli.h"
#include "cmds.h"
#include "measure.h"
#include "wc.h"

static const char CMD[] = "gate";

#ifndef UG_WC_DIR
#error "UG_WC_DIR must name the default worst-case folder (props/data; reports/CMakeLists.txt)"
#endif

enum { SEED = 1, LENGTH_CAP = 1 << 16, TABLE_MAX = 200 };

static const char help_text[] =
    "usage: ulpgate gate --baseline FILE [--update] [--kernel NAME|all] [--wc DIR]\n"
    "                    [--threads T] [--shard I/N]\n\n"
    "Measures every kernel deterministically and compares with the baseline FILE\n"
    "(reports/baseline.txt): one sorted line per kernel x family x metric, and one per\n"
    "kernel x boundary axis, values as C99 hex floats (exact) or counts.\n\n"
    "measured:\n"
    "  every kernel on every input family of its dtype (seed 1, the families' default\n"
    "  rows, as ulpgate check): max_ulp, p99 and violations (outputs in violation plus\n"
    "  kernel errors); every kernel on each boundary axis (ulpgate boundary; length up to\n"
    "  n = 65536): the first failing value, or none; every kernel on each worst-case\n"
    "  file DIR/*.wc holding cases of its op and dtype (measure wc:<file>; every case\n"
    "  under each reduction it names): max_ulp, p99 and violations\n\n"
    "The gate fails (exit 1) when a max_ulp or p99 grows, violations grow (a violation\n"
    "appears), a boundary moves inward (closer to the start of its axis), a measurement\n"
    "of the baseline is not made any more, or a kernel of the baseline is not in the\n"
    "registry any more (disappeared).  Improvements and new measurements pass; review\n"
    "and commit them with --update.  The changes are printed as a GitHub-flavoured\n"
    "Markdown table (worse first), or \"no change\".\n\n"
    "options:\n"
    "  --baseline FILE    the baseline (reports/baseline.txt)\n"
    "  --update           rewrite FILE with this measurement (sorted, deterministic,\n"
    "                     atomically: a temporary file beside it, then renamed); with\n"
    "                     --kernel, only that kernel's lines are replaced.  Exit 0\n"
    "  --kernel NAME|all  measure only this kernel (default all); baseline lines of\n"
    "                     other registered kernels are not compared\n"
    "  --threads T        measure on T threads (default: every online CPU; 1: none);\n"
    "                     the same bytes whatever T\n"
    "  --shard I/N        measure and compare only shard I of N (1 <= I <= N): the\n"
    "                     kernel x family lines whose inputs (op, dtype, family) are\n"
    "                     the shard's and the boundary lines of its (op, dtype, axis)\n"
    "                     units, every N-th in order; baseline lines of a measurement\n"
    "                     that no longer exists go to shard 1, a kernel gone from the\n"
    "                     registry fails every shard.  N jobs (a CI matrix)\n"
    "                     with I = 1..N compare every line once; the gate passes when\n"
    "                     every job passes.  Not with --update\n"
    "                     (the worst-case lines: by a hash of file, op and dtype)\n"
    "  --wc DIR           the worst-case files (default: props/data of the source tree\n"
    "                     this command was built from, " UG_WC_DIR ")\n"
    "  -h, --help         print this help and exit\n\n"
    "exit status:\n"
    "  0  no change, or only improvements and new measurements (or --update)\n"
    "  1  the gate failed: something got worse, or a measurement or kernel disappeared\n"
    "  2  bad usage, a baseline that is not a complete, well-formed baseline (the\n"
    "     message names the line and column), or a worst-case file with a bad line\n"
    "     (named with its file and line)\n"
    "  3  the baseline cannot be opened or read, or written with --update; the\n"
    "     worst-case folder or one of its files cannot be read\n"
    "  4  internal error\n";

static const char baseline_comment[] =
    "# GENERATED by `ulpgate gate --baseline reports/baseline.txt --update`: review the diff, do not\n"
    "# edit by hand.  Measured (ulpgate gate --help): every kernel on every input family of its\n"
    "# dtype, seed 1, the families' default rows, reduction none: max_ulp and p99 (ULP, C99 hex\n"
    "# floats, inf for a violation) and violations (count); every kernel on each boundary axis\n"
    "# (length up to n = 65536): the first failing value (hex float; n on the length axis) or none;\n"
    "# every kernel on each worst-case file props/data/*.wc with cases of its op and dtype (measure\n"
    "# wc:<file>, every case under each reduction it names): max_ulp, p99, violations.\n"
    "# Line: <kernel> <family or axis> <metric> <value>, sorted bytewise.\n";

/* ---------------------------------------------------------------- measuring */

/* The pairs over threads (parallel.h): unit u judges pair u; the main thread adds the
 * lines in pair order and frees the cells of a kernel's op and dtype after their last
 * user. */
typedef struct fam_run {
    const ug_kernel **ks;
    ug_cells cs;
    const ug_pairs *pairs;
    ug_judge *judges;
    ug_judge_stats *stats;
} fam_run;

static void judge_pair(void *ctx, size_t u)
{
    fam_run *f = ctx;
    ug_cells_judge(&f->cs, f->ks[f->pairs->kernel[u]], f->pairs->family[u], &f->judges[u]);
    f->stats[u] = ug_judge_summary(&f->judges[u]);
}

static void measure_families(const ug_kernel **ks, size_t nk, const ug_pairs *pairs, const ug_split *split,
                             ug_baseline *now)
{
    fam_run f = {.ks = ks, .pairs = pairs};
    size_t np = pairs->count, u = 0;
    ug_cells_init(&f.cs, CMD, ks, nk, SEED, 0, 0);
    f.judges = ug_cli_alloc(CMD, np, sizeof *f.judges);
    f.stats = ug_cli_alloc(CMD, np, sizeof *f.stats);
    ug_par *par = ug_par_start(CMD, split->threads, np, judge_pair, &f);
    for (size_t i = 0; i < nk; i++) {
        for (; u < np && pairs->kernel[u] == i; u++) {
            const ug_family *fam = ug_family_at(pairs->family[u]);
            ug_progress(CMD, "[%zu/%zu] %s %s", i + 1, nk, ks[i]->name, fam->name);
            ug_par_wait(par, u);
            const ug_judge *j = &f.judges[u];
            ug_baseline_add_ulp(now, ks[i]->name, fam->name, UG_M_MAX_ULP, f.stats[u].max_ulp);
            ug_baseline_add_ulp(now, ks[i]->name, fam->name, UG_M_P99, f.stats[u].p99);
            ug_baseline_add_count(now, ks[i]->name, fam->name, ug_judge_violations(j) + j->kernel_errors);
            ug_judge_free(&f.judges[u]);
        }
        ug_cells_release(&f.cs, ks[i], i);
    }
    ug_par_end(par);
    ug_cells_free(&f.cs);
    free(f.judges);
    free(f.stats);
}

/* The boundary lines; searched[i * ug_bdir_count() + d] set for the lines searched (this
 * shard's). */
static void measure_boundaries(const ug_kernel **ks, size_t nk, const ug_split *split, ug_baseline *now,
                               unsigned char *searched)
{
    size_t nd = ug_bdir_count();
    ug_bresult *res = ug_cli_alloc(CMD, nk * nd, sizeof *res);
    memset(res, 0, nk * nd * sizeof *res);
    ug_bconfig cfg = {.length_cap = LENGTH_CAP, .length_cap_bce = LENGTH_CAP, .split = *split};
    ug_boundary_run(CMD, ks, nk, &cfg, NULL, res);
    for (size_t i = 0; i < nk * nd; i++) {
        const ug_bresult *r = &res[i];
        searched[i] = r->k != NULL;
        if (r->k == NULL)
            continue; /* another shard's */
        char text[64];
        if (r->kind == UG_B_NEVER)
            snprintf(text, sizeof text, "none");
        else if (r->dir->axis == UG_AXIS_LENGTH)
            snprintf(text, sizeof text, "%.0f", r->at);
        else
            snprintf(text, sizeof text, "%a", r->at);
        ug_baseline_add(now, r->k->name, r->dir->name, UG_M_BOUNDARY, text,
                        r->kind == UG_B_NEVER ? INFINITY : fabs(r->at));
    }
    free(res);
}

/* ---------------------------------------------------------------- worst-case files */

/* The kernels of one op and dtype, judged together on the cases of one file. */
typedef struct wc_group {
    const ug_kernel **ks;
    ug_judge *j;
    size_t nk, cases;
    const char *file;
} wc_group;

static void wc_judge_case(void *ctx, const ug_batch *b, unsigned reds, const char *origin)
{
    wc_group *g = ctx;
    g->cases++;
    for (int red = 0; red <= UG_RED_MEAN; red++) {
        if (!(reds >> red & 1u) || (red != UG_RED_NONE && !ug_op_has_reduction(b->op)))
            continue;
        ug_expect e;
        ug_status st = ug_expect_init(&e, b, (ug_reduction)red);
        if (st == UG_ERR_NOMEM)
            ug_cli_die(UG_EXIT_INTERNAL, CMD, "out of memory");
        if (st != UG_OK)
            ug_cli_die(UG_EXIT_USAGE, CMD, "%s/%s: the oracle refuses this case (%s reduction %s): %s", g->file, origin,
                       ug_op_name(b->op), ug_reduction_name((ug_reduction)red), ug_last_error());
        for (size_t i = 0; i < g->nk; i++)
            if (ug_judge_batch(&g->j[i], b, &e) == UG_ERR_NOMEM)
                ug_cli_die(UG_EXIT_INTERNAL, CMD, "out of memory");
        ug_expect_free(&e);
    }
}

/* Every selected kernel on every file of dir that has cases of its op and dtype. */
/* Whether shard `split` owns the worst-case lines of file measure ("wc:NAME") for (op, dt):
 * FNV-1a of the three, modulo the number of shards, so that every shard decides alone and
 * the N shards of a CI matrix measure every worst-case line once. */
static int wc_owned(const ug_split *split, const char *measure, ug_op op, ug_dtype dt)
{
    if (split == NULL || split->shards <= 1)
        return 1;
    uint64_t h = 1469598103934665603u;
    for (const char *c = measure; *c != '\0'; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211u;
    h = (h ^ (unsigned)op) * 1099511628211u;
    h = (h ^ (unsigned)dt) * 1099511628211u;
    return h % split->shards == split->shard;
}

static void measure_worst_cases(const char *dir, const ug_kernel **ks, size_t nk, const ug_split *split,
                                ug_baseline *now)
{
    char **files;
    int nf = ug_wc_files(dir, &files);
    if (nf < 0)
        ug_cli_die(UG_EXIT_IO, CMD, "cannot read the worst-case folder %s (--wc DIR)", dir);
    const ug_kernel **group = ug_cli_alloc(CMD, nk ? nk : 1, sizeof *group);
    ug_judge *judges = ug_cli_alloc(CMD, nk ? nk : 1, sizeof *judges);
    for (int f = 0; f < nf; f++) {
        const char *base = strrchr(files[f], '/') + 1;
        char measure[256];
        snprintf(measure, sizeof measure, "wc:%s", base);
        for (int op = 0; op < UG_OP_COUNT; op++)
            for (int dt = 0; dt < UG_DTYPE_COUNT; dt++) {
                wc_group g = {group, judges, 0, 0, files[f]};
                for (size_t i = 0; i < nk; i++)
                    if ((int)ks[i]->op == op && (int)ks[i]->dtype == dt)
                        group[g.nk++] = ks[i];
                if (g.nk == 0 || !wc_owned(split, measure, (ug_op)op, (ug_dtype)dt))
                    continue;
                ug_progress(CMD, "%s %s %s", base, ug_op_name((ug_op)op), ug_dtype_name((ug_dtype)dt));
                for (size_t i = 0; i < g.nk; i++)
                    ug_judge_init(&judges[i], group[i]);
                char err[512];
                if (ug_wc_file(files[f], (ug_op)op, (ug_dtype)dt, wc_judge_case, &g, err, sizeof err) < 0) {
                    if (strncmp(err, "cannot ", 7) == 0) /* "cannot open: 'PATH'" */
                        ug_cli_die(UG_EXIT_IO, CMD, "worst-case file: %s", err);
                    ug_cli_die(UG_EXIT_USAGE, CMD, "%s/%s", dir, err); /* "FILE:LINE: what" */
                }
                for (size_t i = 0; i < g.nk; i++) {
                    if (g.cases > 0) {
                        ug_judge_stats st = ug_judge_summary(&judges[i]);
                        ug_baseline_add_ulp(now, group[i]->name, measure, UG_M_MAX_ULP, st.max_ulp);
                        ug_baseline_add_ulp(now, group[i]->name, measure, UG_M_P99, st.p99);
                        ug_baseline_add_count(now, group[i]->name, measure,
                                              ug_judge_violations(&judges[i]) + judges[i].kernel_errors);
                    }
                    ug_judge_free(&judges[i]);
                }
            }
    }
    free(group);
    free(judges);
    ug_wc_files_free(files, nf);
}

/* ---------------------------------------------------------------- the table */

static void cell(const ug_bline *l)
{
    if (l == NULL) {
        fputs(" \xe2\x80\x94 |", stdout); /* an em dash */
        return;
    }
    if (l->metric == UG_M_VIOLATIONS || isinf(l->value) || strcmp(l->text, "none") == 0 ||
        strchr(l->text, 'x') == NULL)
        printf(" `%s` |", l->text);
    else
        printf(" `%s` (%.6g) |", l->text, l->metric == UG_M_BOUNDARY ? strtod(l->text, NULL) : l->value);
}

static void print_table(const ug_diff *d, size_t count)
{
    printf("| change | kernel | family or axis | metric | baseline | now |\n"
           "| --- | --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; i < count && i < TABLE_MAX; i++) {
        const ug_bline *l = d[i].old != NULL ? d[i].old : d[i].now;
        const char *name = ug_change_name(d[i].kind);
        if (ug_change_fails(d[i].kind))
            printf("| **%s** |", name);
        else
            printf("| %s |", name);
        if (d[i].kind == UG_CH_DISAPPEARED) {
            printf(" `%s` | (every line) | \xe2\x80\x94 | \xe2\x80\x94 | not in the registry |\n", l->kernel);
            continue;
        }
        printf(" `%s` | %s | %s |", l->kernel, l->measure, ug_metric_name(l->metric));
        cell(d[i].old);
        cell(d[i].now);
        fputc('\n', stdout);
    }
    if (count > TABLE_MAX)
        printf("\n\xe2\x80\xa6 and %zu more changes.\n", count - TABLE_MAX);
}

/* ---------------------------------------------------------------- the run */

typedef struct selection {
    const ug_kernel **ks;
    size_t nk;
    int sharded;
    unsigned char *own_family; /* nk x families: the shard measured the pair          */
    unsigned char *own_axis;   /* nk x directions: the shard searched the line        */
    int own_first;             /* shard 1 of N                                         */
    ug_split split;            /* the worst-case lines: wc_owned()                     */
} selection;

static size_t kernel_index(const selection *s, const char *kernel)
{
    for (size_t i = 0; i < s->nk; i++)
        if (strcmp(s->ks[i]->name, kernel) == 0)
            return i;
    return SIZE_MAX;
}

/* Whether a line of the baseline is this run's to compare: its kernel is measured and,
 * with a shard, its measurement is the shard's; a measurement that is not made any more
 * (unknown family or axis) belongs to shard 1. */
static int selected_line(const ug_bline *l, void *ctx)
{
    const selection *s = ctx;
    size_t i = kernel_index(s, l->kernel);
    if (i == SIZE_MAX)
        return 0;
    if (!s->sharded)
        return 1;
    const ug_family *f = ug_family_find(l->measure);
    const ug_bdir *d = ug_bdir_find(l->measure);
    if (f != NULL && l->metric != UG_M_BOUNDARY && ug_family_supports(f, s->ks[i]->dtype))
        return s->own_family[i * ug_family_count() + (size_t)(f - ug_family_at(0))];
    if (d != NULL && l->metric == UG_M_BOUNDARY)
        return s->own_axis[i * ug_bdir_count() + (size_t)(d - ug_bdir_at(0))];
    if (strncmp(l->measure, "wc:", 3) == 0)
        return wc_owned(&s->split, l->measure, s->ks[i]->op, s->ks[i]->dtype);
    return s->own_first;
}

static int selected(const char *kernel, void *ctx) { return kernel_index(ctx, kernel) != SIZE_MAX; }

/* The new baseline for --update: the measurement, plus the old lines of registered
 * kernels that were not measured (--kernel). */
static void merge_unmeasured(const ug_baseline *old, ug_baseline *now, selection *sel)
{
    for (size_t i = 0; i < old->count; i++) {
        const ug_bline *l = &old->v[i];
        if (!selected(l->kernel, sel) && ug_kernel_find(l->kernel) != NULL)
            ug_baseline_add(now, l->kernel, l->measure, l->metric, l->text, l->value);
    }
}

static void write_baseline(const char *path, ug_baseline *now)
{
    const ug_bline *dup;
    if (ug_baseline_sort(now, &dup) != 0)
        ug_cli_die(UG_EXIT_INTERNAL, CMD, "two measurements of %s %s %s", dup->kernel, dup->measure,
                   ug_metric_name(dup->metric));
    ug_atomic a;
    FILE *f = ug_atomic_open(&a, CMD, path);
    ug_baseline_write(f, now, baseline_comment);
    ug_atomic_commit(&a);
}

static size_t count_failing(const ug_diff *d, size_t count)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        n += ug_change_fails(d[i].kind);
    return n;
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f != NULL)
        fclose(f);
    return f != NULL;
}

int ug_cmd_gate(int argc, char **argv)
{
    const char *path = NULL, *kernel = NULL, *threads = NULL, *shard = NULL, *wc_dir = NULL;
    int update = 0;
    const ug_cli_option opts[] = {{"baseline", &path, NULL}, {"update", NULL, &update}, {"kernel", &kernel, NULL},
                                  {"wc", &wc_dir, NULL},     {"threads", &threads, NULL}, {"shard", &shard, NULL},
                                  {NULL, NULL, NULL}};
    ug_cli_parse(CMD, help_text, argc, argv, opts, NULL, 0);
    if (path == NULL)
        ug_cli_die(UG_EXIT_USAGE, CMD, "missing --baseline FILE (reports/baseline.txt)");
    ug_split split;
    ug_split_parse(&split, CMD, threads, shard);
    if (update && split.shards > 1)
        ug_cli_die(UG_EXIT_USAGE, CMD, "--update measures every line: it cannot be combined with --shard");
    selection sel = {.sharded = split.shards > 1, .own_first = split.shard == 0, .split = split};
    sel.ks = ug_select_kernels(CMD, kernel != NULL ? kernel : "all", &sel.nk);
    size_t nf = ug_family_count(), nd = ug_bdir_count();
    sel.own_family = ug_cli_alloc(CMD, sel.nk * nf, 1);
    sel.own_axis = ug_cli_alloc(CMD, sel.nk * nd, 1);
    memset(sel.own_family, 0, sel.nk * nf);
    ug_baseline old = {0}, now = {0};
    int had_old = !update || file_exists(path);
    if (had_old)
        ug_baseline_read(CMD, path, &old); /* before measuring: a bad baseline fails fast */
    ug_pairs pairs;
    ug_pairs_init(&pairs, CMD, sel.ks, sel.nk, NULL, 0, &split);
    for (size_t u = 0; u < pairs.count; u++)
        sel.own_family[pairs.kernel[u] * nf + pairs.family[u]] = 1;
    measure_families(sel.ks, sel.nk, &pairs, &split, &now);
    measure_boundaries(sel.ks, sel.nk, &split, &now, sel.own_axis);
    ug_pairs_free(&pairs);
    measure_worst_cases(wc_dir != NULL ? wc_dir : UG_WC_DIR, sel.ks, sel.nk, &split, &now);
    ug_progress_end();
    const ug_bline *dup;
    if (ug_baseline_sort(&now, &dup) != 0)
        ug_cli_die(UG_EXIT_INTERNAL, CMD, "two measurements of %s %s", dup->kernel, dup->measure);
    size_t count;
    ug_diff *d = ug_baseline_compare(&old, &now, selected_line, &sel, &count);
    size_t failing = count_failing(d, count);
    char share[48] = "";
    if (split.shards > 1)
        snprintf(share, sizeof share, " (shard %u/%u)", split.shard + 1, split.shards);
    if (count == 0)
        printf("no change: %zu measurements match %s%s\n", now.count, path, share);
    else if (had_old)
        print_table(d, count);
    if (update) {
        merge_unmeasured(&old, &now, &sel);
        write_baseline(path, &now);
        printf("\nupdated %s: %zu measurements\n", path, now.count);
    } else if (count > 0) {
        printf("\ngate: %s: %zu of %zu changes fail the gate (%zu measurements, baseline %s)%s\n",
               failing ? "FAIL" : "PASS", failing, count, now.count, path, share);
    }
    free(d);
    ug_baseline_free(&old);
    ug_baseline_free(&now);
    free(sel.ks);
    free(sel.own_family);
    free(sel.own_axis);
    int rc = ug_cli_finish(CMD);
    return rc != UG_EXIT_OK ? rc : failing && !update ? UG_EXIT_FAIL : UG_EXIT_OK;
}
