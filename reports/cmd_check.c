/* ulpgate check: every selected kernel (registry order) on every input family (table
 * order), judged against the MPFR oracle; one line per (kernel, family), then a summary.
 *
 * The inputs and the oracle's answers depend on (op, dtype, family, seed, rows) only, so
 * they are computed once and shared by every kernel of that op and dtype (a cell), and
 * freed after the last such kernel.  Output is a pure function of the options: the same
 * seed gives the same bytes.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "cmds.h"
#include "families.h"
#include "judge.h"
#include "ulpgate/registry.h"

static const char CMD[] = "check";

enum { DEFAULT_SEED = 1, ROW_SHOWN = 8, RUN_MIN = 4 };

static const char help_head[] =
    "usage: ulpgate check --kernel NAME|all [--family F] [--seed S] [--rows N]\n"
    "                     [--json FILE]\n\n"
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
    "  --json FILE         also write the results as JSON to FILE (written to FILE.tmp,\n"
    "                      then renamed): {command, seed, rows, family, results,\n"
    "                      summary, inputs}; the worst output of a result refers to\n"
    "                      its complete input row in `inputs` (each row once); values\n"
    "                      are hex-float strings (a run of 4 or more equal values is\n"
    "                      one element [value, count]), statistics numbers or inf, nan\n"
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

static void select_kernels(config *c, const char *name)
{
    if (name == NULL)
        ug_cli_die(UG_EXIT_USAGE, CMD, "missing --kernel NAME|all (see ulpgate list)");
    c->kernels = ug_cli_alloc(CMD, ug_kernel_count(), sizeof *c->kernels);
    if (strcmp(name, "all") == 0) {
        for (size_t i = 0; i < ug_kernel_count(); i++)
            c->kernels[c->nkernels++] = ug_kernel_at(i);
        return;
    }
    c->kernels[0] = ug_kernel_find(name);
    if (c->kernels[0] == NULL)
        ug_cli_die(UG_EXIT_USAGE, CMD, "unknown kernel '%s' (see ulpgate list)", name);
    c->nkernels = 1;
}

static uint64_t parse_count(const char *opt, const char *s, int64_t min)
{
    int64_t v;
    if (ug_cli_parse_index(s, &v) != 0 || v < min)
        ug_cli_die(UG_EXIT_USAGE, CMD, "--%s '%s': not an integer >= %lld", opt, s, (long long)min);
    return (uint64_t)v;
}

static void configure(config *c, int argc, char **argv)
{
    const char *kernel = NULL, *family = NULL, *seed = NULL, *rows = NULL;
    memset(c, 0, sizeof *c);
    const ug_cli_option opts[] = {{"kernel", &kernel, NULL}, {"family", &family, NULL}, {"seed", &seed, NULL},
                                  {"rows", &rows, NULL},     {"json", &c->json, NULL},    {NULL, NULL, NULL}};
    char *help = help_text();
    ug_cli_parse(CMD, help, argc, argv, opts, NULL, 0);
    free(help);
    select_kernels(c, kernel);
    if (family != NULL && (c->family = ug_family_find(family)) == NULL)
        die_family(family);
    if (c->family != NULL && c->nkernels == 1 && !ug_family_supports(c->family, c->kernels[0]->dtype))
        ug_cli_die(UG_EXIT_USAGE, CMD, "family %s does not support %s (kernel %s)", c->family->name,
                   ug_dtype_name(c->kernels[0]->dtype), c->kernels[0]->name);
    c->seed = seed != NULL ? parse_count("seed", seed, 0) : DEFAULT_SEED;
    c->rows = rows != NULL ? (size_t)parse_count("rows", rows, 1) : 0;
}

/* ---------------------------------------------------------------- cells: inputs + oracle */

typedef struct cell {
    int ready;
    ug_batch_list list;
    ug_expect *expect; /* one per batch */
} cell;

typedef struct cells {
    cell *c;           /* [op][dtype][family]                     */
    size_t *last_use;  /* [op][dtype]: index of the last kernel    */
} cells;

static size_t cell_index(ug_op op, ug_dtype dt, size_t fam)
{
    return ((size_t)op * UG_DTYPE_COUNT + (size_t)dt) * ug_family_count() + fam;
}

static void cells_init(cells *cs, const config *c)
{
    size_t count = cell_index(UG_OP_COUNT, 0, 0);
    cs->c = ug_cli_alloc(CMD, count, sizeof *cs->c);
    memset(cs->c, 0, count * sizeof *cs->c);
    cs->last_use = ug_cli_alloc(CMD, UG_OP_COUNT * UG_DTYPE_COUNT, sizeof *cs->last_use);
    for (size_t i = 0; i < c->nkernels; i++)
        cs->last_use[c->kernels[i]->op * UG_DTYPE_COUNT + c->kernels[i]->dtype] = i;
}

static void cell_free(cell *e)
{
    for (size_t i = 0; e->ready && i < e->list.count; i++)
        ug_expect_free(&e->expect[i]);
    free(e->expect);
    ug_batch_list_free(&e->list);
    memset(e, 0, sizeof *e);
}

static const cell *cell_get(cells *cs, const config *c, const ug_kernel *k, size_t fam)
{
    cell *e = &cs->c[cell_index(k->op, k->dtype, fam)];
    if (e->ready)
        return e;
    const ug_family *f = ug_family_at(fam);
    ug_status st = ug_family_generate(f, k->op, k->dtype, c->seed, c->rows, 0, &e->list);
    if (st != UG_OK)
        ug_cli_die(UG_EXIT_INTERNAL, CMD, "family %s (%s %s): %s", f->name, ug_op_name(k->op),
                   ug_dtype_name(k->dtype), ug_status_str(st));
    e->expect = ug_cli_alloc(CMD, e->list.count, sizeof *e->expect);
    for (size_t i = 0; i < e->list.count; i++) {
        st = ug_expect_init(&e->expect[i], e->list.items[i], UG_RED_NONE);
        if (st != UG_OK)
            ug_cli_die(UG_EXIT_INTERNAL, CMD, "the oracle refused batch %zu of family %s (%s %s): %s: %s", i, f->name,
                       ug_op_name(k->op), ug_dtype_name(k->dtype), ug_status_str(st), ug_last_error());
    }
    e->ready = 1;
    return e;
}

/* Free the cells of k's op and dtype when k (index i) is their last user. */
static void cells_release(cells *cs, const ug_kernel *k, size_t i)
{
    if (cs->last_use[k->op * UG_DTYPE_COUNT + k->dtype] != i)
        return;
    for (size_t f = 0; f < ug_family_count(); f++)
        cell_free(&cs->c[cell_index(k->op, k->dtype, f)]);
}

static void cells_free(cells *cs)
{
    for (size_t i = 0; i < cell_index(UG_OP_COUNT, 0, 0); i++)
        cell_free(&cs->c[i]);
    free(cs->c);
    free(cs->last_use);
}

/* ---------------------------------------------------------------- text output */

static const char *verdict(const ug_kernel *k, int failed)
{
    if (k->role == UG_ROLE_CANARY)
        return failed ? "CAUGHT" : "missed";
    return failed ? "FAIL" : "PASS";
}

/* A statistic: %.6g, inf, nan; an error just above 0.5 or 1 ULP (a wrong rounding) that
 * %.6g would show as 0.5 or 1 is shown as 0.5+ or 1+. */
static void fmt_stat(char *buf, size_t size, double v)
{
    if (isnan(v))
        snprintf(buf, size, "nan");
    else if (isinf(v))
        snprintf(buf, size, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, size, "%.6g%s", v, (v > 0.5 && v < 0.5000005) || (v > 1 && v < 1.000001) ? "+" : "");
}

static void print_header(void)
{
    printf("%-26s %-13s %11s %11s %11s %7s %5s %4s %4s %4s %4s %4s  %s\n", "kernel", "family", "max_ulp", "p50", "p99",
           "cr%", "over", "nan", "ovf", "inf", "zsgn", "err", "verdict");
}

static void print_line(const ug_kernel *k, const ug_family *f, const ug_judge *j, const ug_judge_stats *s)
{
    char mx[32], p50[32], p99[32];
    fmt_stat(mx, sizeof mx, s->max_ulp);
    fmt_stat(p50, sizeof p50, s->p50);
    fmt_stat(p99, sizeof p99, s->p99);
    printf("%-26s %-13s %11s %11s %11s %7.2f %5zu %4zu %4zu %4zu %4zu %4zu  %s\n", k->name, f->name, mx, p50, p99,
           s->pct_correct, j->over_bound, j->cls[UG_CMP_NAN_WRONG], j->cls[UG_CMP_OVERFLOW], j->cls[UG_CMP_INF_WRONG],
           j->cls[UG_CMP_ZERO_SIGN], j->kernel_errors, verdict(k, ug_judge_failed(j)));
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
        fmt_stat(ulp, sizeof ulp, s->ulp);
        fmt_stat(bound, sizeof bound, s->bound);
        fmt_stat(kappa, sizeof kappa, s->kappa);
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

/* ---------------------------------------------------------------- JSON */

/* A statistic: a number when finite, else the string inf, -inf or nan. */
static json_object *j_stat(double v)
{
    if (isfinite(v))
        return json_object_new_double(v);
    return json_object_new_string(isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
}

/* A dtype value that must round-trip: its hex float (%a), inf, -inf or nan. */
static json_object *j_value(double v)
{
    char buf[64];
    if (isnan(v))
        snprintf(buf, sizeof buf, "nan");
    else if (isinf(v))
        snprintf(buf, sizeof buf, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, sizeof buf, "%a", v);
    return json_object_new_string(buf);
}

static json_object *j_size(size_t v) { return json_object_new_int64((int64_t)v); }

/* count values of an array of dt, complete: each a j_value string, except that a run of
 * RUN_MIN or more bit-identical values is one element [value, count]. */
static json_object *j_array(ug_dtype dt, const void *a, size_t count)
{
    json_object *arr = json_object_new_array();
    size_t es = ug_dtype_size(dt);
    const char *bytes = a;
    for (size_t i = 0, j; i < count; i = j) {
        for (j = i + 1; j < count && memcmp(bytes + j * es, bytes + i * es, es) == 0; j++)
            ;
        json_object *v = j_value(ug_batch_get(dt, a, i));
        if (j - i < RUN_MIN) {
            for (size_t k = i; k < j; k++)
                json_object_array_add(arr, k == i ? v : j_value(ug_batch_get(dt, a, k)));
            continue;
        }
        json_object *run = json_object_new_array();
        json_object_array_add(run, v);
        json_object_array_add(run, j_size(j - i));
        json_object_array_add(arr, run);
    }
    return arr;
}

static void j_add(json_object *o, const char *key, json_object *v) { json_object_object_add(o, key, v); }

/* ---------------------------------------------------------------- JSON input table */

/* Every input row that a sample shows, once: samples refer to it by index, so that a long
 * row (equal_large: 1e5 values) shared by several kernels is written once, complete. */
typedef struct inputs {
    ug_batch **items;
    const ug_family **family;
    size_t count, cap;
} inputs;

static size_t input_id(inputs *in, const ug_batch *b, const ug_family *f)
{
    for (size_t i = 0; i < in->count; i++)
        if (in->family[i] == f && ug_batch_same(in->items[i], b))
            return i;
    if (in->count == in->cap) {
        in->cap = in->cap ? 2 * in->cap : 64;
        in->items = realloc(in->items, in->cap * sizeof *in->items);
        in->family = realloc(in->family, in->cap * sizeof *in->family);
        if (in->items == NULL || in->family == NULL)
            ug_cli_die(UG_EXIT_INTERNAL, CMD, "out of memory (%zu inputs)", in->cap);
    }
    in->items[in->count] = ug_batch_copy(b, 0, b->rows);
    if (in->items[in->count] == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, CMD, "out of memory (an input of %zu values)", b->rows * b->n);
    in->family[in->count] = f;
    return in->count++;
}

static json_object *input_json(const ug_batch *b, const ug_family *f, size_t id)
{
    json_object *o = json_object_new_object(), *t = NULL;
    j_add(o, "id", j_size(id));
    j_add(o, "family", json_object_new_string(f->name));
    j_add(o, "op", json_object_new_string(ug_op_name(b->op)));
    j_add(o, "dtype", json_object_new_string(ug_dtype_name(b->dtype)));
    j_add(o, "row", j_size(b->first_row));
    j_add(o, "rows", j_size(b->rows));
    j_add(o, "n", j_size(b->n));
    j_add(o, "x", j_array(b->dtype, b->x, b->rows * b->n));
    if (b->target != NULL) {
        t = json_object_new_array();
        for (size_t r = 0; r < b->rows; r++)
            json_object_array_add(t, json_object_new_int64(b->target[r]));
    }
    j_add(o, "target", t);
    j_add(o, "aux", b->aux != NULL ? j_array(b->dtype, b->aux, b->rows * b->n) : NULL);
    return o;
}

static json_object *inputs_json(inputs *in)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < in->count; i++) {
        json_object_array_add(arr, input_json(in->items[i], in->family[i], i));
        ug_batch_free(in->items[i]);
    }
    free(in->items);
    free(in->family);
    memset(in, 0, sizeof *in);
    return arr;
}

/* A sample: where it is, what was computed and expected, and its input (by id). */
static json_object *sample_json(const ug_judge_sample *s, const ug_family *f, inputs *in)
{
    const ug_batch *b = s->input;
    if (b == NULL)
        return NULL;
    json_object *o = json_object_new_object();
    j_add(o, "input", j_size(input_id(in, b, f)));
    j_add(o, "row", j_size(b->first_row));
    j_add(o, "output", j_size(s->col));
    j_add(o, "reduced", json_object_new_boolean(s->reduced));
    j_add(o, "kernel_status", json_object_new_string(s->status == UG_OK ? "ok" : ug_status_str(s->status)));
    if (s->status != UG_OK) {
        j_add(o, "kernel_error", json_object_new_string(s->why));
        return o;
    }
    j_add(o, "computed", j_value(s->computed));
    j_add(o, "exact", j_value(s->exact));
    j_add(o, "exact_unrounded", json_object_new_string(s->exact_hex));
    j_add(o, "ulp", j_stat(s->ulp));
    j_add(o, "bound", j_stat(s->bound));
    j_add(o, "kappa", j_stat(s->kappa));
    j_add(o, "class", json_object_new_string(ug_cmp_class_name(s->cls)));
    return o;
}

static json_object *result_json(const ug_kernel *k, const ug_family *f, const ug_judge *j, const ug_judge_stats *s,
                                inputs *in)
{
    json_object *o = json_object_new_object(), *v = json_object_new_object();
    j_add(o, "kernel", json_object_new_string(k->name));
    j_add(o, "op", json_object_new_string(ug_op_name(k->op)));
    j_add(o, "dtype", json_object_new_string(ug_dtype_name(k->dtype)));
    j_add(o, "role", json_object_new_string(ug_role_name(k->role)));
    j_add(o, "family", json_object_new_string(f->name));
    j_add(o, "batches", j_size(j->batches));
    j_add(o, "outputs", j_size(j->outputs));
    j_add(o, "max_ulp", j_stat(s->max_ulp));
    j_add(o, "mean_ulp", j_stat(s->mean_ulp));
    j_add(o, "p50", j_stat(s->p50));
    j_add(o, "p99", j_stat(s->p99));
    j_add(o, "p999", j_stat(s->p999));
    j_add(o, "pct_correct", j_stat(s->pct_correct));
    j_add(o, "pct_faithful", j_stat(s->pct_faithful));
    j_add(o, "over_bound", j_size(j->over_bound));
    for (int c = 1; c < UG_CMP_CLASS_COUNT; c++)
        j_add(v, ug_cmp_class_name((ug_cmp_class)c), j_size(j->cls[c]));
    j_add(o, "violations", v);
    j_add(o, "kernel_errors", j_size(j->kernel_errors));
    j_add(o, "verdict", json_object_new_string(verdict(k, ug_judge_failed(j))));
    j_add(o, "worst", sample_json(&j->worst, f, in));
    j_add(o, "most_over_bound", sample_json(&j->excess, f, in));
    return o;
}

static void write_json(const char *path, json_object *doc)
{
    size_t len = strlen(path) + 5;
    char *tmp = ug_cli_alloc(CMD, len, 1);
    snprintf(tmp, len, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        ug_cli_die(UG_EXIT_IO, CMD, "cannot write %s: %s", tmp, strerror(errno));
    int bad = fputs(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE), f) < 0;
    bad |= fputc('\n', f) == EOF;
    bad |= fclose(f) != 0;
    if (bad) {
        remove(tmp);
        ug_cli_die(UG_EXIT_IO, CMD, "cannot write %s: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0)
        ug_cli_die(UG_EXIT_IO, CMD, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    free(tmp);
}

/* ---------------------------------------------------------------- the run */

/* What the summary needs. */
typedef struct tally {
    size_t pairs, checked, passed, canaries, caught;
    int any_fail;
    json_object *results;   /* NULL without --json */
    inputs in;              /* the input rows the results refer to          */
    json_object *failed;    /* names: kernels that broke their claim         */
    json_object *missed;    /* names: canaries never caught                  */
} tally;

static void progress(size_t done, size_t total, const ug_kernel *k, const ug_family *f)
{
    if (!isatty(STDERR_FILENO))
        return;
    if (k == NULL)
        fputs("\r\033[K", stderr);
    else
        fprintf(stderr, "\r\033[Kcheck: [%zu/%zu] %s %s", done + 1, total, k->name, f->name);
    fflush(stderr);
}

/* One (kernel, family): judge, print, record; returns whether the kernel failed. */
static int check_pair(cells *cs, const config *c, const ug_kernel *k, size_t fam, tally *t)
{
    const ug_family *f = ug_family_at(fam);
    const cell *e = cell_get(cs, c, k, fam);
    ug_judge j;
    ug_judge_init(&j, k);
    ug_status st = ug_judge_list(&j, &e->list, e->expect);
    if (st != UG_OK)
        ug_cli_die(UG_EXIT_INTERNAL, CMD, "judging %s on %s: %s", k->name, f->name, ug_status_str(st));
    ug_judge_stats s = ug_judge_summary(&j);
    int failed = ug_judge_failed(&j);
    print_line(k, f, &j, &s);
    print_sample("worst", &j.worst);
    if (j.excess.input != NULL && (j.worst.input == NULL || (failed && k->role != UG_ROLE_CANARY)))
        print_sample(j.excess.status != UG_OK ? "kernel error" : "most over bound", &j.excess);
    ug_cli_check_stdout(CMD);
    if (t->results != NULL)
        json_object_array_add(t->results, result_json(k, f, &j, &s, &t->in));
    t->pairs++;
    ug_judge_free(&j);
    return failed;
}

static int family_selected(const config *c, const ug_family *f, const ug_kernel *k)
{
    return (c->family == NULL || c->family == f) && ug_family_supports(f, k->dtype);
}

static size_t count_pairs(const config *c)
{
    size_t total = 0;
    for (size_t i = 0; i < c->nkernels; i++)
        for (size_t f = 0; f < ug_family_count(); f++)
            total += family_selected(c, ug_family_at(f), c->kernels[i]);
    return total;
}

static void check_kernel(cells *cs, const config *c, size_t i, tally *t, size_t total)
{
    const ug_kernel *k = c->kernels[i];
    size_t before = t->pairs;
    int failed = 0;
    for (size_t f = 0; f < ug_family_count(); f++) {
        if (!family_selected(c, ug_family_at(f), k))
            continue;
        progress(t->pairs, total, k, ug_family_at(f));
        failed |= check_pair(cs, c, k, f, t);
    }
    cells_release(cs, k, i);
    if (t->pairs == before)
        return; /* no family supports its dtype (--family) */
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
    printf("summary: %zu kernels, %zu (kernel, family) pairs, seed %llu: %zu of %zu production/variant kernels "
           "within their claims, %zu failing; canaries caught %zu of %zu\n",
           c->nkernels, t->pairs, (unsigned long long)c->seed, t->passed, t->checked, t->checked - t->passed,
           t->caught, t->canaries);
    print_names("failing", t->failed);
    print_names("canaries missed", t->missed);
}

static json_object *summary_json(const config *c, const tally *t)
{
    json_object *o = json_object_new_object();
    j_add(o, "kernels", j_size(c->nkernels));
    j_add(o, "pairs", j_size(t->pairs));
    j_add(o, "checked", j_size(t->checked));
    j_add(o, "passed", j_size(t->passed));
    j_add(o, "canaries", j_size(t->canaries));
    j_add(o, "canaries_caught", j_size(t->caught));
    j_add(o, "failing", json_object_get(t->failed));
    j_add(o, "canaries_missed", json_object_get(t->missed));
    j_add(o, "verdict", json_object_new_string(t->any_fail ? "FAIL" : "PASS"));
    return o;
}

static void finish_json(const config *c, tally *t)
{
    json_object *doc = json_object_new_object();
    j_add(doc, "command", json_object_new_string(CMD));
    j_add(doc, "seed", json_object_new_int64((int64_t)c->seed));
    j_add(doc, "rows", c->rows ? j_size(c->rows) : NULL);
    j_add(doc, "family", c->family ? json_object_new_string(c->family->name) : NULL);
    j_add(doc, "results", t->results);
    j_add(doc, "summary", summary_json(c, t));
    j_add(doc, "inputs", inputs_json(&t->in));
    t->results = NULL;
    write_json(c->json, doc);
    json_object_put(doc);
}

int ug_cmd_check(int argc, char **argv)
{
    config c;
    configure(&c, argc, argv);
    cells cs;
    cells_init(&cs, &c);
    tally t = {.failed = json_object_new_array(), .missed = json_object_new_array()};
    t.results = c.json != NULL ? json_object_new_array() : NULL;
    size_t total = count_pairs(&c);
    print_header();
    for (size_t i = 0; i < c.nkernels; i++)
        check_kernel(&cs, &c, i, &t, total);
    progress(0, 0, NULL, NULL);
    print_summary(&c, &t);
    if (c.json != NULL)
        finish_json(&c, &t);
    cells_free(&cs);
    json_object_put(t.failed);
    json_object_put(t.missed);
    free(c.kernels);
    int rc = ug_cli_finish(CMD);
    return rc != UG_EXIT_OK ? rc : t.any_fail ? UG_EXIT_FAIL : UG_EXIT_OK;
}
