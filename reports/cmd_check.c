/* ulpgate check: every selected kernel (registry order) on every input family (table
 * order), judged against the MPFR oracle; one line per (kernel, family), then a summary.
 *
 * The inputs and the oracle's answers depend on (op, dtype, family, seed, rows) only, so
 * they are computed once and shared by every kernel of that op and dtype (a cell), and
 * freed after the last such kernel.  Output is a pure function of the options: the same
 * seed gives the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "atomic.h"
#include "cli.h"
#include "cmds.h"
#include "families.h"
#include "jsonout.h"
#include "judge.h"
#include "measure.h"
#include "ulpgate/registry.h"

static const char CMD[] = "check";

enum { DEFAULT_SEED = 1, ROW_SHOWN = 8 };

static const char help_head[] =
    "usage: ulpgate check --kernel NAME|all [--family F] [--seed S] [--rows N]\n"
    "                     [--json FILE] [--threads T] [--shard I/N]\n\n"
    "Run kernels of the registry and the MPFR oracle on the input families and measure\n"
    "every output's error in ULP (reduction none).  For each kernel (registry order) and\n"
    "family (table order, listed below) one line:\n"
    "  kernel family max_ulp p50 p99 cr% over nan ovf inf zsgn err verdict\n"
    "cr% is the share of outputs correctly rounded (<= 0.5 ULP); over counts outputs\n"
    "above the kernel's claimed bound; nan, ovf, inf, zsgn count special-value\n"
    "violations (NaN, overflow, wrong infinity, sign of zero); err counts batches the\n"
    "kernel refused or on which it wrote outside its outputs.  verdict is PASS or FAIL,\n"
    "and for canary kernels (known bad) CAUGHT or missed; canaries never fail the run.\n"
    "The next lines show the worst output: its row, the computed and exact values and\n"
    "the input row as hex floats (long rows are cut here, complete in --json).  A\n"
    "summary line ends the output.\n\n"
    "options:\n"
    "  --kernel NAME|all   a registry name (see ulpgate list), or all\n"
    "  --family F          only family F (default: every family)\n"
    "  --seed S            seed of the input families, a non-negative integer (default 1)\n"
    "  --rows N            rows per family instead of each family's default (N >= 1)\n"
    "  --json FILE         also write the results as JSON to FILE (written to a\n"
    "                      temporary file beside it, then renamed): {command, seed, rows, family, results,\n"
    "                      summary, inputs}; the worst output of a result refers to\n"
    "                      its complete input row in `inputs` (each row once); values\n"
    "                      are hex-float strings (a run of 4 or more equal values is\n"
    "                      one element [value, count]), statistics numbers or inf, nan\n"
    "  --threads T         judge on T threads (default: every online CPU; 1: none);\n"
    "                      the output is the same bytes whatever T\n"
    "  --shard I/N         only shard I of N (1 <= I <= N): the (kernel, family) pairs\n"
    "                      whose inputs (op, dtype, family) are the shard's, every\n"
    "                      N-th in order of first use, so N runs with I = 1..N check\n"
    "                      every pair once; the summary counts this shard's pairs\n"
    "  -h, --help          print this help and exit\n\n"
    "The check fails (exit 1) when a kernel that is not a canary has an output over its\n"
    "claimed bound, a special-value or overflow violation, or a kernel error.\n\n";

/* The help: help_head, the family table (name, default rows x n, dtypes, description),
 * the exit codes.  Built at run time so that the list is the table's. */
static char *help_text(void)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (f == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, CMD, "out of memory (help)");
    fputs(help_head, f);
    fputs("families (default rows x n; +k rows of n = 1):\n", f);
    for (size_t i = 0; i < ug_family_count(); i++) {
        const ug_family *fam = ug_family_at(i);
        char size_col[32];
        snprintf(size_col, sizeof size_col, "%zux%zu%s", fam->rows, fam->n, fam->extra_rows ? "+" : "");
        if (fam->extra_rows)
            snprintf(size_col + strlen(size_col), sizeof size_col - strlen(size_col), "%zu", fam->extra_rows);
        fprintf(f, "  %-14s %-10s %s%s\n", fam->name, size_col, fam->desc,
                ug_family_supports(fam, UG_F64) ? "" : " (f32, bf16)");
    }
    fputs("\n" UG_CLI_HELP_EXIT, f);
    if (fclose(f) != 0)
        ug_cli_die(UG_EXIT_INTERNAL, CMD, "out of memory (help)");
    return buf;
}

/* ---------------------------------------------------------------- configuration */

typedef struct config {
    const ug_kernel **kernels;
    size_t nkernels;
    const ug_family *family; /* NULL: every family */
    uint64_t seed;
    size_t rows;             /* 0: the families' defaults */
    const char *json;
    ug_split split;          /* --threads, --shard */
} config;

static void die_family(const char *name)
{
    char names[512] = "";
    for (size_t i = 0; i < ug_family_count(); i++) {
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", ug_family_at(i)->name);
    }
    ug_cli_die(UG_EXIT_USAGE, CMD, "unknown family '%s' (families: %s)", name, names);
}

static void configure(config *c, int argc, char **argv)
{
    const char *kernel = NULL, *family = NULL, *seed = NULL, *rows = NULL, *threads = NULL, *shard = NULL;
    memset(c, 0, sizeof *c);
    const ug_cli_option opts[] = {{"kernel", &kernel, NULL}, {"family", &family, NULL}, {"seed", &seed, NULL},
                                  {"rows", &rows, NULL},     {"json", &c->json, NULL},    {"threads", &threads, NULL},
                                  {"shard", &shard, NULL},   {NULL, NULL, NULL}};
    char *help = help_text();
    ug_cli_parse(CMD, help, argc, argv, opts, NULL, 0);
    free(help);
    c->kernels = ug_select_kernels(CMD, kernel, &c->nkernels);
    if (family != NULL && (c->family = ug_family_find(family)) == NULL)
        die_family(family);
    if (c->family != NULL && c->nkernels == 1 && !ug_family_supports(c->family, c->kernels[0]->dtype))
        ug_cli_die(UG_EXIT_USAGE, CMD, "family %s does not support %s (kernel %s)", c->family->name,
                   ug_dtype_name(c->kernels[0]->dtype), c->kernels[0]->name);
    c->seed = seed != NULL ? ug_parse_count(CMD, "seed", seed, 0) : DEFAULT_SEED;
    c->rows = rows != NULL ? (size_t)ug_parse_count(CMD, "rows", rows, 1) : 0;
    ug_split_parse(&c->split, CMD, threads, shard);
}

/* ---------------------------------------------------------------- text output */

static void print_header(void)
{
    printf("%-26s %-13s %11s %11s %11s %7s %5s %4s %4s %4s %4s %4s  %s\n", "kernel", "family", "max_ulp", "p50", "p99",
           "cr%", "over", "nan", "ovf", "inf", "zsgn", "err", "verdict");
}

static void print_line(const ug_kernel *k, const ug_family *f, const ug_judge *j, const ug_judge_stats *s)
{
    char mx[32], p50[32], p99[32];
    ug_fmt_stat(mx, sizeof mx, s->max_ulp);
    ug_fmt_stat(p50, sizeof p50, s->p50);
    ug_fmt_stat(p99, sizeof p99, s->p99);
    printf("%-26s %-13s %11s %11s %11s %7.2f %5zu %4zu %4zu %4zu %4zu %4zu  %s\n", k->name, f->name, mx, p50, p99,
           s->pct_correct, j->over_bound, j->cls[UG_CMP_NAN_WRONG], j->cls[UG_CMP_OVERFLOW], j->cls[UG_CMP_INF_WRONG],
           j->cls[UG_CMP_ZERO_SIGN], j->kernel_errors, ug_verdict(k, ug_judge_failed(j)));
}

/* count values of an array of dt, each %a, at most ROW_SHOWN of them. */
static void print_array(const char *label, ug_dtype dt, const void *a, size_t count)
{
    printf("      %s =", label);
    for (size_t i = 0; i < count && i < ROW_SHOWN; i++) {
        fputc(' ', stdout);
        ug_cli_print_value(stdout, ug_batch_get(dt, a, i));
    }
    if (count > ROW_SHOWN)
        printf(" \xe2\x80\xa6 (%zu values)", count);
    fputc('\n', stdout);
}

static void print_targets(const ug_batch *b)
{
    printf("      target =");
    for (size_t r = 0; r < b->rows && r < ROW_SHOWN; r++)
        printf(" %lld", (long long)b->target[r]);
    if (b->rows > ROW_SHOWN)
        printf(" \xe2\x80\xa6 (%zu values)", b->rows);
    fputc('\n', stdout);
}

static void print_sample(const char *what, const ug_judge_sample *s)
{
    const ug_batch *b = s->input;
    if (b == NULL)
        return;
    if (s->status != UG_OK) {
        printf("    %s: row %zu: the kernel failed (%s: %s)\n", what, b->first_row, s->why, ug_status_str(s->status));
    } else {
        char ulp[32], bound[32], kappa[32];
        ug_fmt_stat(ulp, sizeof ulp, s->ulp);
        ug_fmt_stat(bound, sizeof bound, s->bound);
        ug_fmt_stat(kappa, sizeof kappa, s->kappa);
        printf("    %s: %s %zu, output %zu: computed ", what, s->reduced ? "rows from" : "row", b->first_row, s->col);
        ug_cli_print_value(stdout, s->computed);
        printf(", exact ");
        ug_cli_print_value(stdout, s->exact);
        printf(" (%s), %s ULP [%s], bound %s, kappa %s\n", s->exact_hex, ulp, ug_cmp_class_name(s->cls), bound, kappa);
    }
    print_array("x", b->dtype, b->x, b->rows * b->n);
    if (b->target != NULL)
        print_targets(b);
    if (b->aux != NULL)
        print_array(b->op == UG_OP_BCE_LOGITS ? "labels" : "p", b->dtype, b->aux, b->rows * b->n);
}

/* ---------------------------------------------------------------- the run */

/* What the summary needs. */
typedef struct tally {
    size_t pairs, checked, passed, canaries, caught;
    int any_fail;
    json_object *results;   /* NULL without --json */
    ug_inputs in;           /* the input rows the results refer to          */
    json_object *failed;    /* names: kernels that broke their claim         */
    json_object *missed;    /* names: canaries never caught                  */
} tally;

/* The judging, spread over threads (parallel.h): unit u judges pair u into judges[u] and
 * summarises it; the main thread prints and records the pairs in order, then frees them. */
typedef struct check_run {
    const config *c;
    ug_cells *cs;
    ug_pairs pairs;
    ug_judge *judges;
    ug_judge_stats *stats;
    ug_par *par;
    size_t next;            /* the next pair to print                       */
} check_run;

static void judge_unit(void *ctx, size_t u)
{
    check_run *r = ctx;
    ug_cells_judge(r->cs, r->c->kernels[r->pairs.kernel[u]], r->pairs.family[u], &r->judges[u]);
    r->stats[u] = ug_judge_summary(&r->judges[u]);
}

static void progress(size_t done, size_t total, const ug_kernel *k, const ug_family *f)
{
    ug_progress(CMD, "[%zu/%zu] %s %s", done + 1, total, k->name, f->name);
}

/* Pair u, judged: print, record; returns whether the kernel failed. */
static int check_pair(check_run *r, size_t u, tally *t)
{
    const ug_kernel *k = r->c->kernels[r->pairs.kernel[u]];
    const ug_family *f = ug_family_at(r->pairs.family[u]);
    progress(u, r->pairs.count, k, f);
    ug_par_wait(r->par, u);
    ug_judge *j = &r->judges[u];
    const ug_judge_stats *s = &r->stats[u];
    int failed = ug_judge_failed(j);
    print_line(k, f, j, s);
    print_sample("worst", &j->worst);
    if (j->excess.input != NULL && (j->worst.input == NULL || (failed && k->role != UG_ROLE_CANARY)))
        print_sample(j->excess.status != UG_OK ? "kernel error" : "most over bound", &j->excess);
    ug_cli_check_stdout(CMD);
    if (t->results != NULL)
        json_object_array_add(t->results, ug_result_json(k, f, j, s, &t->in));
    t->pairs++;
    ug_judge_free(j);
    return failed;
}

static void check_kernel(check_run *r, size_t i, tally *t)
{
    const ug_kernel *k = r->c->kernels[i];
    size_t before = t->pairs;
    int failed = 0;
    if (!ug_kernel_available(k)) { /* a SIMD row this CPU cannot run */
        printf("%-26s SKIP: this CPU cannot run %s code\n", k->name, k->isa);
        ug_cells_release(r->cs, k, i);
        return;
    }
    for (; r->next < r->pairs.count && r->pairs.kernel[r->next] == i; r->next++)
        failed |= check_pair(r, r->next, t);
    ug_cells_release(r->cs, k, i);
    if (t->pairs == before)
        return; /* no family supports its dtype (--family), or none is this shard's */
    json_object *list = NULL;
    if (k->role == UG_ROLE_CANARY) {
        t->canaries++;
        t->caught += failed;
        list = failed ? NULL : t->missed;
    } else {
        t->checked++;
        t->passed += !failed;
        t->any_fail |= failed;
        list = failed ? t->failed : NULL;
    }
    if (list != NULL)
        json_object_array_add(list, json_object_new_string(k->name));
}

static void print_names(const char *label, json_object *names)
{
    size_t count = json_object_array_length(names);
    if (count == 0)
        return;
    printf("%s:", label);
    for (size_t i = 0; i < count; i++)
        printf(" %s", json_object_get_string(json_object_array_get_idx(names, i)));
    fputc('\n', stdout);
}

static void print_summary(const config *c, const tally *t)
{
    char shard[48] = "";
    if (c->split.shards > 1)
        snprintf(shard, sizeof shard, " (shard %u/%u)", c->split.shard + 1, c->split.shards);
    printf("summary: %zu kernels, %zu (kernel, family) pairs%s, seed %llu: %zu of %zu production/variant kernels "
           "within their claims, %zu failing; canaries caught %zu of %zu\n",
           c->nkernels, t->pairs, shard, (unsigned long long)c->seed, t->passed, t->checked, t->checked - t->passed,
           t->caught, t->canaries);
    print_names("failing", t->failed);
    print_names("canaries missed", t->missed);
}

static json_object *summary_json(const config *c, const tally *t)
{
    json_object *o = json_object_new_object();
    ug_j_add(o, "kernels", ug_j_size(c->nkernels));
    ug_j_add(o, "pairs", ug_j_size(t->pairs));
    ug_j_add(o, "checked", ug_j_size(t->checked));
    ug_j_add(o, "passed", ug_j_size(t->passed));
    ug_j_add(o, "canaries", ug_j_size(t->canaries));
    ug_j_add(o, "canaries_caught", ug_j_size(t->caught));
    ug_j_add(o, "failing", json_object_get(t->failed));
    ug_j_add(o, "canaries_missed", json_object_get(t->missed));
    ug_j_add(o, "verdict", json_object_new_string(t->any_fail ? "FAIL" : "PASS"));
    return o;
}

static void finish_json(const config *c, tally *t)
{
    json_object *doc = json_object_new_object();
    ug_j_add(doc, "command", json_object_new_string(CMD));
    ug_j_add(doc, "seed", json_object_new_int64((int64_t)c->seed));
    ug_j_add(doc, "rows", c->rows ? ug_j_size(c->rows) : NULL);
    ug_j_add(doc, "family", c->family ? json_object_new_string(c->family->name) : NULL);
    if (c->split.shards > 1) {
        ug_j_add(doc, "shard", ug_j_size(c->split.shard + 1));
        ug_j_add(doc, "shards", ug_j_size(c->split.shards));
    }
    ug_j_add(doc, "results", t->results);
    ug_j_add(doc, "summary", summary_json(c, t));
    ug_j_add(doc, "inputs", ug_inputs_json(&t->in));
    t->results = NULL;
    ug_atomic_write_json(CMD, c->json, doc);
    json_object_put(doc);
}

int ug_cmd_check(int argc, char **argv)
{
    config c;
    configure(&c, argc, argv);
    ug_cells cs;
    ug_cells_init(&cs, CMD, c.kernels, c.nkernels, c.seed, c.rows, 0);
    tally t = {.failed = json_object_new_array(), .missed = json_object_new_array()};
    t.results = c.json != NULL ? json_object_new_array() : NULL;
    check_run r = {.c = &c, .cs = &cs};
    ug_pairs_init(&r.pairs, CMD, c.kernels, c.nkernels, c.family, 1, &c.split);
    r.judges = ug_cli_alloc(CMD, r.pairs.count, sizeof *r.judges);
    r.stats = ug_cli_alloc(CMD, r.pairs.count, sizeof *r.stats);
    r.par = ug_par_start(CMD, c.split.threads, r.pairs.count, judge_unit, &r);
    print_header();
    for (size_t i = 0; i < c.nkernels; i++)
        check_kernel(&r, i, &t);
    ug_par_end(r.par);
    ug_progress_end();
    print_summary(&c, &t);
    if (c.json != NULL)
        finish_json(&c, &t);
    ug_cells_free(&cs);
    ug_pairs_free(&r.pairs);
    free(r.judges);
    free(r.stats);
    json_object_put(t.failed);
    json_object_put(t.missed);
    free(c.kernels);
    int rc = ug_cli_finish(CMD);
    return rc != UG_EXIT_OK ? rc : t.any_fail ? UG_EXIT_FAIL : UG_EXIT_OK;
}
