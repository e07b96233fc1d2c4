/* ulpgate report --out DIR [--quick]: check and boundary for every kernel, the sweeps and
 * the "compute the loss from logits" comparison, written as DIR/report.json,
 * DIR/report.md and DIR/report.html (report.h).  The three files are written to
 * temporary files first and renamed at the end, so that a kill or an error leaves the old
 * report (or none), never a part of one.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"
#include "cli.h"
#include "cmds.h"
#include "measure.h"
#include "peers.h"
#include "report.h"
#include "shard.h"

static const char CMD[] = "report";

enum { DEFAULT_SEED = 1, QUICK_ROWS = 16, CMP_POINTS = 97, CMP_POINTS_QUICK = 49 };

static const char help_text[] =
    "usage: ulpgate report --out DIR [--quick] [--seed S] [--kernel NAME|all]\n"
    "                      [--threads T] [--shard I/N] [--peers FILE|DIR] [--bench FILE]\n\n"
    "Measures every kernel (or one) and writes an accuracy report to DIR (created if\n"
    "needed):\n"
    "  report.json  everything measured, versioned schema (reports/SCHEMA.md)\n"
    "  report.md    GitHub-flavoured Markdown: fits a pull-request comment or a CI step\n"
    "               summary (verdicts, worst errors, canaries caught, boundaries)\n"
    "  report.html  one self-contained page with the plots inline (SVG by gnuplot):\n"
    "               ULP histograms, worst ULP against spread and against n, the boundary\n"
    "               map per dtype, and naive, two-step and clipped algorithms against the\n"
    "               fused from-logits ones, with the inputs where each breaks, and\n"
    "               (with --bench) worst ULP against ns per element\n"
    "Measured: ulpgate check on every input family (seed S; --quick: at most 16 rows per\n"
    "family), ulpgate boundary on every axis (length up to 2^20, 2^16 for bce_logits;\n"
    "--quick: 2^12), and the sweeps of reports/sweep.h.  The same options give the same\n"
    "bytes.  Without gnuplot the report says that the plots were skipped.  The files are\n"
    "renamed into place only when all three are complete.  Progress goes to stderr when\n"
    "it is a terminal.\n\n"
    "options:\n"
    "  --out DIR          the output directory\n"
    "  --quick            fewer rows and shorter sweeps (under a minute)\n"
    "  --seed S           seed of the input families (default 1)\n"
    "  --kernel NAME|all  only this kernel (default all)\n"
    "  --peers FILE|DIR   add a Peers section: the score files (ulpgate vectors score\n"
    "                     --json; scripts/check-torch, scripts/check-numpy) of other\n"
    "                     implementations, in a table beside ulpgate's kernels\n"
    "  --threads T        measure on T threads (default: every online CPU; 1: none);\n"
    "                     the same bytes whatever T\n"
    "  --shard I/N        measure only shard I of N (1 <= I <= N) and write DIR/\n"
    "                     report-shard.json instead of the report; `ulpgate merge --out\n"
    "                     DIR SHARD_DIR...` combines the N shards into the report, the\n"
    "                     same bytes as one unsharded run.  Each stage's units (kernel x\n"
    "                     family inputs, op x dtype x axis, op x dtype x sweep point) go\n"
    "                     to the shards in turn\n"
    "  --bench FILE       the timings of `ulpgate bench --json FILE`, for the accuracy-\n"
    "                     against-speed plot (the report never times anything itself;\n"
    "                     per production kernel, the figure with n closest to 1024;\n"
    "                     not with --shard)\n"
    "  -h, --help         print this help and exit\n\n"
    "The report is information: the exit status is 0 even when a kernel breaks its claim\n"
    "(ulpgate check and ulpgate gate are the checks).\n\n" UG_CLI_HELP_EXIT;

/* ---------------------------------------------------------------- the comparison */

static const ug_compare_def compares[UG_COMPARE_COUNT] = {
    {"softmax-shift", "softmax: exp(x) / sum exp(x) against the shifted two-pass softmax",
     "Without the shift by the max, exp overflows as soon as a logit passes 88.72 (f32): NaN where the answer is 1.",
     UG_OP_SOFTMAX, "shift+", 0.25, 1024},
    {"log-softmax-spread", "log_softmax: log(softmax(x)) against the fused log-softmax",
     "The two-step form takes the log of a probability that has underflowed: from s = 104 (f32) it returns log(0) = "
     "-inf where the answer is -s, and +0 where it is -0.",
     UG_OP_LOG_SOFTMAX, "spread", 0.25, 1024},
    {"xent-dominance", "cross-entropy: -log(softmax(x)_t) and clipping against the loss from logits",
     "A confident right answer has a tiny loss; softmax_t rounds to 1 and -log gives 0, clipping gives 1e-7.",
     UG_OP_XENT, "dominance", 0.25, 256},
    {"bce-spread", "binary cross-entropy: log(1 + e^x) and a clipped sigmoid against the stable loss from logits",
     "log(1 + exp(s)) overflows past 88.72; clipping the probability caps the loss at -log(1e-7) = 16.1.",
     UG_OP_BCE_LOGITS, "spread", 0.25, 1024},
};

const ug_compare_def *ug_compare_at(size_t i) { return i < UG_COMPARE_COUNT ? &compares[i] : NULL; }

const ug_bresult *ug_report_boundary(const ug_report *r, size_t i, size_t d)
{
    return &r->bres[i * ug_bdir_count() + d];
}

/* ---------------------------------------------------------------- histogram */

size_t ug_hist_bin(double ulp)
{
    if (isinf(ulp) || isnan(ulp))
        return UG_HIST_INF;
    if (ulp <= 0.5)
        return 0;
    int e;
    double m = frexp(ulp, &e); /* ulp = m 2^e, m in [1/2, 1): ceil(log2 ulp) = e, or e - 1 at m = 1/2 */
    int b = (m == 0.5 ? e - 1 : e) + 1;
    return b > 31 ? UG_HIST_BIG : (size_t)b;
}

void ug_report_num(char *buf, size_t size, double v)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else if (isinf(v))
        snprintf(buf, size, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, size, "%.3g", v);
}

/* ---------------------------------------------------------------- measuring */

static void add_family(ug_kreport *kr, const ug_family *f, const ug_famfig *g)
{
    if (g->max_ulp > kr->max_ulp || kr->worst_family == NULL)
        kr->max_ulp = g->max_ulp, kr->worst_family = f->name;
    kr->p99 = g->p99 > kr->p99 ? g->p99 : kr->p99;
    kr->outputs += g->outputs;
    kr->correct += g->correct;
    kr->violations += g->violations;
    kr->over_bound += g->over_bound;
    kr->kernel_errors += g->kernel_errors;
    for (size_t b = 0; b < UG_HIST_BINS; b++)
        kr->hist[b] += g->hist[b];
    if (!g->failed)
        return;
    kr->failed = 1;
    size_t len = strlen(kr->caught_by);
    snprintf(kr->caught_by + len, sizeof kr->caught_by - len, "%s%s", len ? ", " : "", f->name);
}

static void famfig_of(ug_famfig *g, const ug_judge *j, const ug_judge_stats *s)
{
    *g = (ug_famfig){.max_ulp = s->max_ulp, .p99 = s->p99, .outputs = j->outputs, .correct = j->correct,
                     .violations = ug_judge_violations(j), .over_bound = j->over_bound,
                     .kernel_errors = j->kernel_errors, .failed = ug_judge_failed(j)};
    for (size_t i = 0; i < j->nerrs; i++)
        g->hist[ug_hist_bin(j->errs[i])]++;
}

void ug_report_tally(ug_report *r)
{
    memset(r->kr, 0, r->nk * sizeof *r->kr);
    for (size_t i = 0; i < r->nk; i++)
        r->kr[i].k = r->ks[i];
    for (size_t u = 0; u < r->pairs.count; u++)
        add_family(&r->kr[r->pairs.kernel[u]], ug_family_at(r->pairs.family[u]), &r->figs[u]);
    r->canaries = r->caught = r->checked = r->passed = 0;
    for (size_t i = 0; i < r->nk; i++) {
        int canary = r->ks[i]->role == UG_ROLE_CANARY;
        r->canaries += canary, r->caught += canary && r->kr[i].failed;
        r->checked += !canary, r->passed += !canary && !r->kr[i].failed;
    }
}

/* The family pairs, over threads (parallel.h): unit u judges pair u; the main thread
 * writes the results in pair order (the input table numbers rows in that order). */
typedef struct fam_run {
    ug_report *r;
    ug_cells cs;
    ug_judge *judges;
    ug_judge_stats *stats;
} fam_run;

static void judge_pair(void *ctx, size_t u)
{
    fam_run *f = ctx;
    const ug_kernel *k = f->r->ks[f->r->pairs.kernel[u]];
    ug_cells_judge(&f->cs, k, f->r->pairs.family[u], &f->judges[u]);
    f->stats[u] = ug_judge_summary(&f->judges[u]);
    famfig_of(&f->r->figs[u], &f->judges[u], &f->stats[u]);
}

static void measure_families(ug_report *r)
{
    fam_run f = {.r = r};
    size_t np = r->pairs.count, u = 0;
    ug_cells_init(&f.cs, CMD, r->ks, r->nk, r->seed, 0, r->rows_max);
    f.judges = ug_cli_alloc(CMD, np, sizeof *f.judges);
    f.stats = ug_cli_alloc(CMD, np, sizeof *f.stats);
    r->figs = ug_cli_alloc(CMD, np, sizeof *r->figs);
    ug_par *par = ug_par_start(CMD, r->split.threads, np, judge_pair, &f);
    for (size_t i = 0; i < r->nk; i++) {
        for (; u < np && r->pairs.kernel[u] == i; u++) {
            const ug_family *fam = ug_family_at(r->pairs.family[u]);
            ug_progress(CMD, "check [%zu/%zu] %s %s", i + 1, r->nk, r->ks[i]->name, fam->name);
            ug_par_wait(par, u);
            json_object_array_add(r->results, ug_result_json(r->ks[i], fam, &f.judges[u], &f.stats[u], &r->inputs));
            ug_judge_free(&f.judges[u]);
        }
        ug_cells_release(&f.cs, r->ks[i], i);
    }
    ug_par_end(par);
    ug_cells_free(&f.cs);
    free(f.judges);
    free(f.stats);
    ug_report_tally(r);
}

const ug_bresult *ug_report_violation(const ug_report *r, size_t c, const ug_kernel *k)
{
    size_t d = (size_t)(ug_bdir_find(compares[c].axis) - ug_bdir_at(0));
    for (size_t i = 0; i < r->cmp_nall[c]; i++)
        if (r->cmp_all[c][i] == k)
            return &r->cmp_viol[c][i * ug_bdir_count() + d];
    return NULL;
}

/* Every kernel of comparison c's op (cmp_all), and its f32 ones (cmp_ks). */
static void compare_kernels(ug_report *r, size_t c)
{
    size_t n = 0, nf = 0, nd = ug_bdir_count();
    r->cmp_all[c] = ug_cli_alloc(CMD, r->nk, sizeof *r->cmp_all[c]);
    r->cmp_ks[c] = ug_cli_alloc(CMD, r->nk, sizeof *r->cmp_ks[c]);
    for (size_t i = 0; i < r->nk; i++)
        if (r->ks[i]->op == compares[c].op) {
            r->cmp_all[c][n++] = r->ks[i];
            if (r->ks[i]->dtype == UG_F32)
                r->cmp_ks[c][nf++] = r->ks[i];
        }
    r->cmp_nall[c] = n;
    r->cmp_nf32[c] = nf;
    r->cmp_viol[c] = ug_cli_alloc(CMD, n * nd + 1, sizeof *r->cmp_viol[c]);
    memset(r->cmp_viol[c], 0, (n * nd + 1) * sizeof *r->cmp_viol[c]);
}

void ug_report_setup(ug_report *r, uint64_t seed, int quick)
{
    r->seed = seed;
    r->quick = quick;
    r->rows_max = quick ? QUICK_ROWS : 0;
    r->bcfg = quick ? (ug_bconfig){.length_cap = 1u << 12, .length_cap_bce = 1u << 12} : UG_BCONFIG_DEFAULT;
    r->bcfg.split = r->split;
    r->kr = ug_cli_alloc(CMD, r->nk, sizeof *r->kr);
    memset(r->kr, 0, r->nk * sizeof *r->kr);
    r->results = json_object_new_array();
    size_t nb = r->nk * ug_bdir_count();
    r->bres = ug_cli_alloc(CMD, nb, sizeof *r->bres);
    memset(r->bres, 0, nb * sizeof *r->bres);
    for (size_t c = 0; c < UG_COMPARE_COUNT; c++)
        compare_kernels(r, c);
}

/* Where every kernel of comparison c's op first returns inf, NaN or a wrong zero, and the
 * f32 kernels' sweep along the axis. */
static void measure_compare(ug_report *r, size_t c)
{
    ug_bconfig cfg = r->bcfg;
    cfg.violations_only = 1;
    const ug_bdir *d = ug_bdir_find(compares[c].axis);
    ug_boundary_run(CMD, r->cmp_all[c], r->cmp_nall[c], &cfg, d, r->cmp_viol[c]);
    ug_sweep_axis(&r->cmp[c], CMD, r->cmp_ks[c], r->cmp_nf32[c], d, compares[c].lo, compares[c].hi,
                  r->quick ? CMP_POINTS_QUICK : CMP_POINTS, &r->split);
}

static void measure(ug_report *r)
{
    ug_pairs_init(&r->pairs, CMD, r->ks, r->nk, NULL, 0, &r->split);
    measure_families(r);
    ug_boundary_run(CMD, r->ks, r->nk, &r->bcfg, NULL, r->bres);
    ug_sweep_spread(&r->spread, CMD, r->ks, r->nk, r->seed, r->quick, &r->split);
    ug_sweep_length(&r->length, CMD, r->ks, r->nk, r->seed, r->quick, &r->split);
    for (size_t c = 0; c < UG_COMPARE_COUNT; c++)
        measure_compare(r, c);
    ug_progress_end();
}

void ug_report_free(ug_report *r)
{
    json_object_put(r->results);
    ug_pairs_free(&r->pairs);
    free(r->figs);
    free(r->kr);
    free(r->bres);
    ug_sweep_free(&r->spread);
    ug_sweep_free(&r->length);
    for (size_t c = 0; c < UG_COMPARE_COUNT; c++) {
        ug_sweep_free(&r->cmp[c]);
        free(r->cmp_ks[c]);
        free(r->cmp_all[c]);
        free(r->cmp_viol[c]);
    }
    free(r->ks);
    free(r->speed);
}

/* ---------------------------------------------------------------- --bench FILE */

/* Member name of o as a number (integers too); -1 when absent or not a number. */
static double bench_num(json_object *o, const char *name)
{
    json_object *v;
    if (!json_object_object_get_ex(o, name, &v) ||
        !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return -1;
    return json_object_get_double(v);
}

/* Read the figures of `ulpgate bench --json` from path into r->speed: for each selected
 * production kernel with a figure, the one whose n is closest to 1024 (the first of equals).
 * Exit 3 when the file cannot be read, 2 when it is not a bench file (naming the figure). */
static void read_bench(ug_report *r, const char *path)
{
    FILE *probe = fopen(path, "r");
    if (probe == NULL)
        ug_cli_die(UG_EXIT_IO, CMD, "cannot open the benchmark file %s: %s", path, strerror(errno));
    fclose(probe);
    json_object *doc = json_object_from_file(path), *cmd, *isa, *figs;
    if (doc == NULL || !json_object_is_type(doc, json_type_object))
        ug_cli_die(UG_EXIT_USAGE, CMD, "%s: not JSON (expected the output of ulpgate bench --json)", path);
    if (!json_object_object_get_ex(doc, "command", &cmd) || strcmp(json_object_get_string(cmd), "bench") != 0 ||
        !json_object_object_get_ex(doc, "figures", &figs) || !json_object_is_type(figs, json_type_array))
        ug_cli_die(UG_EXIT_USAGE, CMD, "%s: not a file of ulpgate bench --json (no \"command\": \"bench\" with "
                   "\"figures\")", path);
    snprintf(r->bench_isa, sizeof r->bench_isa, "%s",
             json_object_object_get_ex(doc, "isa", &isa) ? json_object_get_string(isa) : "?");
    r->bench = path;
    r->speed = ug_cli_alloc(CMD, r->nk ? r->nk : 1, sizeof *r->speed);
    size_t *best = ug_cli_alloc(CMD, r->nk ? r->nk : 1, sizeof *best);
    for (size_t i = 0; i < r->nk; i++)
        best[i] = SIZE_MAX;
    size_t nf = json_object_array_length(figs);
    for (size_t i = 0; i < nf; i++) {
        json_object *fig = json_object_array_get_idx(figs, i), *name;
        double rows = bench_num(fig, "rows"), n = bench_num(fig, "n"), ns = bench_num(fig, "ns_per_elem");
        if (!json_object_is_type(fig, json_type_object) || !json_object_object_get_ex(fig, "kernel", &name) ||
            !json_object_is_type(name, json_type_string) || rows < 1 || n < 1)
            ug_cli_die(UG_EXIT_USAGE, CMD, "%s: figure %zu: expected kernel, rows, n and ns_per_elem", path, i);
        if (!(ns > 0))
            continue; /* the kernel failed or was not run: no point */
        for (size_t k = 0; k < r->nk; k++) {
            if (r->ks[k]->role != UG_ROLE_PRODUCTION || strcmp(r->ks[k]->name, json_object_get_string(name)) != 0)
                continue;
            ug_speed sp = {k, (size_t)rows, (size_t)n, ns};
            if (best[k] == SIZE_MAX)
                best[k] = r->nspeed++;
            else if (!(fabs(log2(n / 1024)) < fabs(log2((double)r->speed[best[k]].n / 1024))))
                continue;
            r->speed[best[k]] = sp;
        }
    }
    /* registry order, whatever the file's order */
    size_t m = 0;
    ug_speed *sorted = ug_cli_alloc(CMD, r->nk ? r->nk : 1, sizeof *sorted);
    for (size_t k = 0; k < r->nk; k++)
        if (best[k] != SIZE_MAX)
            sorted[m++] = r->speed[best[k]];
    free(r->speed);
    r->speed = sorted;
    free(best);
    json_object_put(doc);
}

/* ---------------------------------------------------------------- report.json */

static json_object *kernel_json(const ug_kreport *kr)
{
    json_object *o = ug_j_kernel(kr->k), *s = json_object_new_object(), *h = json_object_new_array();
    ug_j_add(s, "outputs", ug_j_size(kr->outputs));
    ug_j_add(s, "max_ulp", ug_j_stat(kr->max_ulp));
    ug_j_add(s, "worst_family", kr->worst_family ? ug_j_str(kr->worst_family) : NULL);
    ug_j_add(s, "p99_max", ug_j_stat(kr->p99));
    ug_j_add(s, "pct_correct", ug_j_stat(kr->outputs ? 100.0 * (double)kr->correct / (double)kr->outputs : 0));
    ug_j_add(s, "violations", ug_j_size(kr->violations));
    ug_j_add(s, "over_bound", ug_j_size(kr->over_bound));
    ug_j_add(s, "kernel_errors", ug_j_size(kr->kernel_errors));
    ug_j_add(s, "verdict", ug_j_str(ug_verdict(kr->k, kr->failed)));
    ug_j_add(s, "failed_on", ug_j_str(kr->caught_by));
    for (size_t b = 0; b < UG_HIST_BINS; b++)
        json_object_array_add(h, ug_j_size(kr->hist[b]));
    ug_j_add(s, "histogram", h);
    ug_j_add(o, "summary", s);
    return o;
}

static json_object *config_json(const ug_report *r)
{
    json_object *o = json_object_new_object(), *f = json_object_new_array();
    ug_j_add(o, "seed", json_object_new_int64((int64_t)r->seed));
    ug_j_add(o, "quick", json_object_new_boolean(r->quick));
    ug_j_add(o, "family_rows_max", r->rows_max ? ug_j_size(r->rows_max) : NULL);
    for (size_t i = 0; i < ug_family_count(); i++)
        json_object_array_add(f, ug_j_str(ug_family_at(i)->name));
    ug_j_add(o, "families", f);
    ug_j_add(o, "length_cap", ug_j_size(r->bcfg.length_cap));
    ug_j_add(o, "length_cap_bce", ug_j_size(r->bcfg.length_cap_bce));
    return o;
}

static json_object *compare_json(const ug_report *r, size_t c)
{
    json_object *o = json_object_new_object(), *v = json_object_new_array();
    for (size_t i = 0; i < r->cmp_nall[c]; i++)
        json_object_array_add(v, ug_bresult_json(ug_report_violation(r, c, r->cmp_all[c][i])));
    ug_j_add(o, "id", ug_j_str(compares[c].id));
    ug_j_add(o, "title", ug_j_str(compares[c].title));
    ug_j_add(o, "op", ug_j_str(ug_op_name(compares[c].op)));
    ug_j_add(o, "axis", ug_j_str(compares[c].axis));
    ug_j_add(o, "sweep", ug_sweep_json(&r->cmp[c]));
    ug_j_add(o, "violations", v);
    return o;
}

static json_object *summary_json(const ug_report *r)
{
    json_object *o = json_object_new_object();
    ug_j_add(o, "kernels", ug_j_size(r->nk));
    ug_j_add(o, "checked", ug_j_size(r->checked));
    ug_j_add(o, "passed", ug_j_size(r->passed));
    ug_j_add(o, "canaries", ug_j_size(r->canaries));
    ug_j_add(o, "canaries_caught", ug_j_size(r->caught));
    ug_j_add(o, "verdict", ug_j_str(r->passed == r->checked ? "PASS" : "FAIL"));
    return o;
}

static json_object *report_json(ug_report *r)
{
    json_object *doc = json_object_new_object(), *ks = json_object_new_array(), *bs = json_object_new_array();
    json_object *sw = json_object_new_object(), *cs = json_object_new_array();
    ug_j_add(doc, "schema", ug_j_str(UG_REPORT_SCHEMA));
    ug_j_add(doc, "schema_version", json_object_new_int(UG_REPORT_SCHEMA_VERSION));
    ug_j_add(doc, "generator", ug_j_str("ulpgate report"));
    ug_j_add(doc, "config", config_json(r));
    ug_j_add(doc, "summary", summary_json(r));
    for (size_t i = 0; i < r->nk; i++)
        json_object_array_add(ks, kernel_json(&r->kr[i]));
    ug_j_add(doc, "kernels", ks);
    ug_j_add(doc, "results", json_object_get(r->results));
    for (size_t i = 0; i < r->nk * ug_bdir_count(); i++)
        json_object_array_add(bs, ug_bresult_json(&r->bres[i]));
    ug_j_add(doc, "boundaries", bs);
    ug_j_add(sw, "spread", ug_sweep_json(&r->spread));
    ug_j_add(sw, "length", ug_sweep_json(&r->length));
    ug_j_add(doc, "sweeps", sw);
    for (size_t c = 0; c < UG_COMPARE_COUNT; c++)
        json_object_array_add(cs, compare_json(r, c));
    ug_j_add(doc, "comparison", cs);
    ug_j_add(doc, "inputs", ug_inputs_json(&r->inputs));
    if (r->peers != NULL)
        ug_j_add(doc, "peers", ug_peers_json(r->peers));
    return doc;
}

/* ---------------------------------------------------------------- writing */

static void make_dir(const char *cmd, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            ug_cli_die(UG_EXIT_IO, cmd, "--out %s: not a directory", dir);
        return;
    }
    if (mkdir(dir, 0777) != 0)
        ug_cli_die(UG_EXIT_IO, cmd, "cannot create %s: %s", dir, strerror(errno));
}

static FILE *open_out(ug_atomic *a, const char *cmd, const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = ug_cli_alloc(cmd, len, 1);
    snprintf(path, len, "%s/%s", dir, name);
    FILE *f = ug_atomic_open(a, cmd, path);
    free(path);
    return f;
}

void ug_report_write(ug_report *r, const char *dir)
{
    make_dir(r->cmd, dir);
    ug_atomic a[3];
    json_object *doc = report_json(r);
    FILE *f = open_out(&a[0], r->cmd, dir, "report.json");
    fputs(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE),
          f);
    fputc('\n', f);
    json_object_put(doc);
    ug_plots plots;
    ug_report_plots(&plots, r, r->cmd);
    ug_report_md(open_out(&a[1], r->cmd, dir, "report.md"), r, plots.skipped ? plots.why : NULL);
    ug_report_html(open_out(&a[2], r->cmd, dir, "report.html"), r, &plots);
    ug_plots_free(&plots);
    for (int i = 0; i < 3; i++)
        ug_atomic_close(&a[i]);
    for (int i = 0; i < 3; i++)
        ug_atomic_rename(&a[i]);
}

int ug_cmd_report(int argc, char **argv)
{
    const char *out = NULL, *seed = NULL, *kernel = NULL, *threads = NULL, *shard = NULL, *peers = NULL;
    const char *bench = NULL;
    int quick = 0;
    const ug_cli_option opts[] = {{"out", &out, NULL},         {"quick", NULL, &quick}, {"seed", &seed, NULL},
                                  {"kernel", &kernel, NULL},   {"threads", &threads, NULL},
                                  {"shard", &shard, NULL},     {"peers", &peers, NULL},
                                  {"bench", &bench, NULL},     {NULL, NULL, NULL}};
    ug_cli_parse(CMD, help_text, argc, argv, opts, NULL, 0);
    if (out == NULL)
        ug_cli_die(UG_EXIT_USAGE, CMD, "missing --out DIR");
    ug_report r = {.cmd = CMD};
    ug_split_parse(&r.split, CMD, threads, shard);
    r.ks = ug_select_kernels(CMD, kernel != NULL ? kernel : "all", &r.nk);
    ug_report_setup(&r, seed != NULL ? ug_parse_count(CMD, "seed", seed, 0) : DEFAULT_SEED, quick);
    if (peers != NULL && r.split.shards > 1)
        ug_cli_die(UG_EXIT_USAGE, CMD, "--peers goes with the unsharded report (or ulpgate merge --peers), not --shard");
    if (bench != NULL && r.split.shards > 1)
        ug_cli_die(UG_EXIT_USAGE, CMD, "--bench goes with the unsharded report, not --shard");
    if (bench != NULL)
        read_bench(&r, bench); /* before measuring: a bad file fails fast */
    ug_peers ps;
    if (peers != NULL) /* read first: a bad file fails before the long measurement */
        ug_peers_load(CMD, peers, &ps), r.peers = &ps;
    make_dir(CMD, out);
    measure(&r);
    if (r.split.shards > 1) {
        ug_shard_write(&r, out);
        printf("wrote %s/%s: shard %u of %u, %zu kernels; combine the shards with ulpgate merge\n", out,
               UG_SHARD_FILE, r.split.shard + 1, r.split.shards, r.nk);
    } else {
        ug_report_write(&r, out);
        printf("wrote %s/report.json, %s/report.md, %s/report.html: %zu kernels; %zu of %zu production and variant "
               "kernels within their claims; canaries caught %zu of %zu\n",
               out, out, out, r.nk, r.passed, r.checked, r.caught, r.canaries);
    }
    ug_report_free(&r);
    if (peers != NULL)
        ug_peers_free(&ps);
    return ug_cli_finish(CMD);
}
