/* ulpgate run and ulpgate exact: rows of numbers in; one kernel's outputs (run) or the
 * oracle's correctly rounded outputs (exact) out, as hex floats.
 *
 * Both read and print alike; they differ only in who computes (evaluate()).  Without a
 * reduction every row is its own call (rows = 1); with --reduction sum|mean every row is
 * gathered first and reduced in one call.  Targets, probabilities and row lengths are
 * checked here, before any call, so that the message can point at the line and column;
 * anything the kernel or the oracle still refuses is reported with its own message.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "oracle.h"
#include "rowio.h"
#include "ulpgate/registry.h"

#define COMMON_OPTIONS_HELP                                                                  \
    "  --target T          class index (0-based) of every row: required for xent; for\n"     \
    "                      xent_grad it selects the sparse form (without it, xent_grad\n"    \
    "                      reads a probability row after each logits row)\n"                 \
    "  --label Y           label of every element, a number in [0, 1] (rounded to the\n"     \
    "                      dtype like any input): required for bce_logits\n"                 \
    "  --reduction R       none (default), sum or mean; only for the losses xent,\n"         \
    "                      xent_dense and bce_logits\n"                                      \
    "  -h, --help          print this help and exit\n\n"

#define CALLS_HELP                                                                           \
    "calls:\n"                                                                               \
    "  Without a reduction each row is one call (rows = 1, n = its length, so rows may\n"    \
    "  differ in length) and prints one line: n values for softmax, log_softmax, xent_grad\n" \
    "  and bce_logits, one value for logsumexp, xent and xent_dense.  With --reduction\n"    \
    "  sum or mean, all rows are read first (they must all have the same length), reduced\n" \
    "  in one call (rows = number of rows), and one value is printed.  xent_dense, and\n"    \
    "  xent_grad without --target, read each logits row's probability row (same length,\n"  \
    "  entries in [0, 1], summing to 1) on the next non-blank, non-comment line.\n\n"

#define OUTPUT_HELP                                                                          \
    "output:\n"                                                                              \
    "  Each value is the C99 hex float of its exact value (printf %a of the double that\n"  \
    "  holds it; bf16 is widened exactly), or inf, -inf, nan; values are separated by\n"     \
    "  single spaces.  A row's line is printed only once the row has been read and\n"        \
    "  computed in full; on an error in a row, the rows before it have been printed.\n\n"    \
    "errors:\n"                                                                              \
    "  Bad input is reported on stderr as `ulpgate <cmd>: FILE:LINE:COLUMN: what` (FILE\n"   \
    "  is <stdin> for standard input; LINE and COLUMN count from 1, COLUMN in bytes, at\n"   \
    "  the offending number), bad options as `ulpgate <cmd>: what`.\n\n"

static const char run_help[] =
    "usage: ulpgate run --kernel NAME [--target T] [--label Y] [--reduction none|sum|mean]\n"
    "                   [FILE|-]\n\n"
    "Run one kernel of the registry (see `ulpgate list`) on the rows of FILE, or of the\n"
    "standard input when FILE is - or absent, and print its outputs.\n\n"
    "options:\n"
    "  --kernel NAME       registry name of the kernel, e.g. softmax.twopass.f32; the\n"
    "                      input is rounded to its dtype\n" COMMON_OPTIONS_HELP UG_ROWIO_HELP_INPUT
    "\n" CALLS_HELP OUTPUT_HELP UG_CLI_HELP_EXIT;

static const char exact_help[] =
    "usage: ulpgate exact --op OP --dtype DT [--target T] [--label Y]\n"
    "                     [--reduction none|sum|mean] [FILE|-]\n\n"
    "Print the exact outputs of OP on the rows of FILE (or of the standard input), as the\n"
    "MPFR oracle computes them: each correctly rounded (to nearest, ties to even) to DT,\n"
    "the special values as oracle/SPECIAL.md says.  Reads and prints exactly as `ulpgate\n"
    "run` does, so that the two outputs can be compared line by line.\n\n"
    "options:\n"
    "  --op OP             softmax, log_softmax, logsumexp, xent, xent_dense, xent_grad\n"
    "                      or bce_logits\n"
    "  --dtype DT          f32, f64 or bf16; the input is rounded to it\n" COMMON_OPTIONS_HELP
        UG_ROWIO_HELP_INPUT "\n" CALLS_HELP OUTPUT_HELP UG_CLI_HELP_EXIT;

/* What to compute, from the options. */
typedef struct spec {
    const char *cmd;    /* "run" or "exact"                                     */
    const char *who;    /* for messages: the kernel name, or "oracle"           */
    const ug_kernel *k; /* run: the kernel; exact: NULL (the oracle computes)   */
    ug_op op;
    ug_dtype dt;
    ug_reduction red;
    int sparse;         /* --target: one target, the same for every row          */
    int64_t target;
    int labelled;       /* --label: one label, the same for every element        */
    double label;
    int dense;          /* a probability row follows every logits row           */
} spec;

/* The option strings as given (NULL when absent). */
typedef struct raw_opts {
    const char *kernel, *op, *dtype, *target, *label, *reduction;
} raw_opts;

/* A logits row and, when dense, its probability row. */
typedef struct group {
    ug_row x, p;
} group;

/* Rows gathered for one call, as doubles, with the line of each for messages. */
typedef struct batch {
    size_t rows, n;
    double *x, *p;        /* rows x n logits; rows x n probabilities (dense)      */
    size_t *xline, *pline;
    size_t xcap, pcap, xlcap, plcap;
} batch;

/* One call: the problem and the dtype arrays it points to. */
typedef struct call {
    ug_problem p;
    void *x, *aux;
    int64_t *target;
} call;

/* ---------------------------------------------------------------- options */

static void resolve_reduction(spec *s, const char *red)
{
    s->red = UG_RED_NONE;
    if (red == NULL)
        return;
    if (ug_reduction_from_name(red, &s->red) != 0)
        ug_cli_die(UG_EXIT_USAGE, s->cmd, "--reduction '%s': not none, sum or mean", red);
    if (s->red != UG_RED_NONE && !ug_op_has_reduction(s->op))
        ug_cli_die(UG_EXIT_USAGE, s->cmd, "--reduction %s: %s takes no reduction (only xent, xent_dense, bce_logits do)",
                   red, ug_op_name(s->op));
}

static void resolve_target(spec *s, const char *target)
{
    int wants = s->op == UG_OP_XENT || s->op == UG_OP_XENT_GRAD;
    if (target == NULL) {
        if (s->op == UG_OP_XENT)
            ug_cli_die(UG_EXIT_USAGE, s->cmd, "xent needs --target T (the class index of every row)");
        return;
    }
    if (!wants)
        ug_cli_die(UG_EXIT_USAGE, s->cmd, "--target is only for xent and xent_grad, not %s", ug_op_name(s->op));
    if (ug_cli_parse_index(target, &s->target) != 0)
        ug_cli_die(UG_EXIT_USAGE, s->cmd, "--target '%s': not a non-negative integer that fits in 64 bits", target);
    s->sparse = 1;
}

static void resolve_label(spec *s, const char *label)
{
    if (label == NULL) {
        if (s->op == UG_OP_BCE_LOGITS)
            ug_cli_die(UG_EXIT_USAGE, s->cmd, "bce_logits needs --label Y (the label of every element, in [0, 1])");
        return;
    }
    if (s->op != UG_OP_BCE_LOGITS)
        ug_cli_die(UG_EXIT_USAGE, s->cmd, "--label is only for bce_logits, not %s", ug_op_name(s->op));
    if (ug_parse_number(label, s->dt, &s->label) != 0)
        ug_cli_die(UG_EXIT_USAGE, s->cmd, "--label '%s': not a number", label);
    if (!(s->label >= 0 && s->label <= 1))
        ug_cli_die(UG_EXIT_USAGE, s->cmd, "--label %s: outside [0, 1]", label);
    s->labelled = 1;
}

/* Everything but the op and dtype, which the caller has set. */
static void resolve_rest(spec *s, const raw_opts *o)
{
    resolve_reduction(s, o->reduction);
    resolve_target(s, o->target);
    resolve_label(s, o->label);
    s->dense = s->op == UG_OP_XENT_DENSE || (s->op == UG_OP_XENT_GRAD && !s->sparse);
}

static void resolve_kernel(spec *s, const char *name)
{
    if (name == NULL)
        ug_cli_die(UG_EXIT_USAGE, s->cmd, "missing --kernel NAME (see ulpgate list)");
    s->k = ug_kernel_find(name);
    if (s->k == NULL)
        ug_cli_die(UG_EXIT_USAGE, s->cmd, "unknown kernel '%s' (see ulpgate list)", name);
    s->who = s->k->name;
    s->op = s->k->op;
    s->dt = s->k->dtype;
}

static void resolve_op_dtype(spec *s, const char *op, const char *dtype)
{
    if (op == NULL || dtype == NULL)
        ug_cli_die(UG_EXIT_USAGE, s->cmd, "missing --%s (see ulpgate exact --help)", op == NULL ? "op" : "dtype");
    if (ug_op_from_name(op, &s->op) != 0)
        ug_cli_die(UG_EXIT_USAGE, s->cmd,
                   "unknown op '%s' (softmax, log_softmax, logsumexp, xent, xent_dense, xent_grad, bce_logits)", op);
    if (ug_dtype_from_name(dtype, &s->dt) != 0)
        ug_cli_die(UG_EXIT_USAGE, s->cmd, "unknown dtype '%s' (f32, f64, bf16)", dtype);
    s->who = "oracle";
    s->k = NULL;
}

/* ---------------------------------------------------------------- reading */

static void check_length(const ug_rowreader *rr, const ug_row *row, size_t want, const char *what, size_t ref_line)
{
    if (row->n == want)
        return;
    size_t col = row->n > want ? row->col[want] : row->end_col;
    ug_rowreader_fail(rr, row->line, col, "%s has %zu value%s, but the row on line %zu has %zu", what, row->n,
                      row->n == 1 ? "" : "s", ref_line, want);
}

static void check_probabilities(const ug_rowreader *rr, const ug_row *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (!(p->v[i] >= 0 && p->v[i] <= 1))
            ug_rowreader_fail(rr, p->line, p->col[i], "probability %g outside [0, 1]", p->v[i]);
}

/* The next logits row (and its probability row); 0 at the end of the input. */
static int read_group(const spec *s, ug_rowreader *rr, group *g)
{
    if (!ug_rowreader_next(rr, s->dt, &g->x))
        return 0;
    if (s->sparse && (uint64_t)s->target >= g->x.n)
        ug_rowreader_fail(rr, g->x.line, 1, "target %lld out of range for a row of %zu values (0..%zu)",
                          (long long)s->target, g->x.n, g->x.n - 1);
    if (!s->dense)
        return 1;
    if (!ug_rowreader_next(rr, s->dt, &g->p))
        ug_rowreader_fail(rr, g->x.line, 1, "the input ends before the probability row of this logits row");
    check_length(rr, &g->p, g->x.n, "probability row", g->x.line);
    check_probabilities(rr, &g->p);
    return 1;
}

static void batch_add(const spec *s, const ug_rowreader *rr, batch *b, const group *g)
{
    if (b->rows == 0)
        b->n = g->x.n;
    else
        check_length(rr, &g->x, b->n, "with --reduction every row must have the same length: this row", b->xline[0]);
    size_t total = (b->rows + 1) * b->n;
    b->x = ug_cli_grow(s->cmd, b->x, &b->xcap, total, sizeof *b->x);
    b->xline = ug_cli_grow(s->cmd, b->xline, &b->xlcap, b->rows + 1, sizeof *b->xline);
    memcpy(b->x + b->rows * b->n, g->x.v, b->n * sizeof *b->x);
    b->xline[b->rows] = g->x.line;
    if (s->dense) {
        b->p = ug_cli_grow(s->cmd, b->p, &b->pcap, total, sizeof *b->p);
        b->pline = ug_cli_grow(s->cmd, b->pline, &b->plcap, b->rows + 1, sizeof *b->pline);
        memcpy(b->p + b->rows * b->n, g->p.v, b->n * sizeof *b->p);
        b->pline[b->rows] = g->p.line;
    }
    b->rows++;
}

static void batch_free(batch *b)
{
    free(b->x);
    free(b->p);
    free(b->xline);
    free(b->pline);
    memset(b, 0, sizeof *b);
}

/* ---------------------------------------------------------------- calling */

static void *packed(const spec *s, const double *v, size_t count)
{
    void *a = ug_cli_alloc(s->cmd, count, ug_dtype_size(s->dt));
    ug_rowio_pack(s->dt, v, count, a);
    return a;
}

static void *filled(const spec *s, double v, size_t count)
{
    size_t es = ug_dtype_size(s->dt);
    char *a = ug_cli_alloc(s->cmd, count, es);
    ug_rowio_pack(s->dt, &v, 1, a);
    for (size_t i = 1; i < count; i++)
        memcpy(a + i * es, a, es);
    return a;
}

static void call_build(const spec *s, const batch *b, call *c)
{
    size_t total = b->rows * b->n;
    memset(c, 0, sizeof *c);
    c->x = packed(s, b->x, total);
    if (s->dense)
        c->aux = packed(s, b->p, total);
    if (s->labelled)
        c->aux = filled(s, s->label, total);
    if (s->sparse) {
        c->target = ug_cli_alloc(s->cmd, b->rows, sizeof *c->target);
        for (size_t r = 0; r < b->rows; r++)
            c->target[r] = s->target;
    }
    c->p = (ug_problem){.rows = b->rows, .n = b->n, .x = c->x, .target = c->target, .aux = c->aux,
                        .reduction = s->red, .y = NULL};
}

static void call_free(call *c)
{
    free(c->x);
    free(c->aux);
    free(c->target);
}

static ug_status eval_oracle(const spec *s, const ug_problem *p, double *out, size_t count)
{
    ug_exact *e = ug_exact_new(count);
    if (e == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, s->cmd, "out of memory (%zu exact values)", count);
    ug_status st = ug_oracle_eval(s->op, s->dt, p, e);
    for (size_t i = 0; st == UG_OK && i < count; i++)
        out[i] = e[i].rounded;
    ug_exact_free(e, count);
    return st;
}

/* The outputs of p (count of them) into out: the kernel's (run) or the oracle's (exact). */
static ug_status evaluate(const spec *s, ug_problem p, double *out, size_t count)
{
    void *y = ug_cli_alloc(s->cmd, count, ug_dtype_size(s->dt));
    p.y = y; /* the oracle ignores y, but a problem without one is invalid */
    ug_status st;
    if (s->k != NULL) {
        st = s->k->fn(&p);
        for (size_t i = 0; st == UG_OK && i < count; i++)
            out[i] = ug_rowio_unpack(s->dt, y, i);
    } else {
        st = eval_oracle(s, &p, out, count);
    }
    free(y);
    return st;
}

/* Row r of a batched call, alone. */
static ug_problem single_row(const spec *s, const call *c, size_t r)
{
    size_t es = ug_dtype_size(s->dt), off = r * c->p.n * es;
    ug_problem p = c->p;
    p.rows = 1;
    p.x = (const char *)c->x + off;
    p.aux = c->aux != NULL ? (const char *)c->aux + off : NULL;
    p.target = c->target != NULL ? c->target + r : NULL;
    return p;
}

/* The first row of a batched call that fails alone (its message in ug_last_error), or
 * rows when none does. */
static size_t failing_row(const spec *s, const call *c, ug_status *st)
{
    size_t count = ug_output_count(s->op, 1, c->p.n, s->red);
    double *out = ug_cli_alloc(s->cmd, count, sizeof *out);
    size_t r = 0;
    for (; r < c->p.rows; r++) {
        ug_status rs = evaluate(s, single_row(s, c, r), out, count);
        if (rs != UG_OK) {
            *st = rs;
            break;
        }
    }
    free(out);
    return r;
}

static int bad_input(ug_status st)
{
    return st == UG_ERR_EMPTY || st == UG_ERR_TARGET || st == UG_ERR_LABEL || st == UG_ERR_PROB_SUM ||
           st == UG_ERR_REDUCTION || st == UG_ERR_ARG;
}

/* Why a call failed and where, kept while the call's memory is freed. */
typedef struct failure {
    int code;    /* UG_EXIT_USAGE (bad input) or UG_EXIT_INTERNAL */
    size_t line;
    char msg[768];
} failure;

/* A call failed with st: find the row (the one that fails alone) and the message. */
static void describe_failure(const spec *s, const batch *b, const call *c, ug_status st, failure *f)
{
    char detail[512];
    snprintf(detail, sizeof detail, "%s", ug_last_error());
    size_t r = 0;
    if (b->rows > 1) {
        r = failing_row(s, c, &st);
        if (r < b->rows)
            snprintf(detail, sizeof detail, "%s", ug_last_error());
        else
            r = 0;
    }
    int on_aux = s->dense && (st == UG_ERR_LABEL || st == UG_ERR_PROB_SUM);
    f->line = on_aux ? b->pline[r] : b->xline[r];
    f->code = bad_input(st) ? UG_EXIT_USAGE : UG_EXIT_INTERNAL;
    snprintf(f->msg, sizeof f->msg, "%s: %s%s%s", s->who, ug_status_str(st), detail[0] != '\0' ? ": " : "", detail);
}

static _Noreturn void die_failure(const spec *s, const ug_rowreader *rr, const failure *f)
{
    if (f->code == UG_EXIT_USAGE)
        ug_rowreader_fail(rr, f->line, 1, "%s", f->msg);
    ug_cli_die(f->code, s->cmd, "%s:%zu:1: %s", rr->name, f->line, f->msg);
}

static void call_and_print(const spec *s, const ug_rowreader *rr, const batch *b)
{
    call c;
    call_build(s, b, &c);
    size_t count = ug_output_count(s->op, b->rows, b->n, s->red);
    double *out = ug_cli_alloc(s->cmd, count, sizeof *out);
    ug_status st = evaluate(s, c.p, out, count);
    failure f;
    if (st == UG_OK)
        ug_cli_print_values(stdout, out, count);
    else
        describe_failure(s, b, &c, st, &f);
    free(out);
    call_free(&c);
    if (st != UG_OK)
        die_failure(s, rr, &f);
    ug_cli_check_stdout(s->cmd);
}

/* ---------------------------------------------------------------- the commands */

static void process(const spec *s, const char *path)
{
    ug_rowreader rr;
    ug_rowreader_open(&rr, s->cmd, path);
    group g = {0};
    batch b = {0};
    while (read_group(s, &rr, &g)) {
        if (s->red == UG_RED_NONE) {
            b.rows = 0;
            batch_add(s, &rr, &b, &g);
            call_and_print(s, &rr, &b);
        } else {
            batch_add(s, &rr, &b, &g);
        }
    }
    if (s->red != UG_RED_NONE) {
        if (b.rows == 0)
            ug_cli_die(UG_EXIT_USAGE, s->cmd, "%s: no rows to reduce", rr.name);
        call_and_print(s, &rr, &b);
    }
    batch_free(&b);
    ug_row_free(&g.x);
    ug_row_free(&g.p);
    ug_rowreader_close(&rr);
}

int ug_cmd_run(int argc, char **argv)
{
    raw_opts o = {0};
    const ug_cli_option opts[] = {{"kernel", &o.kernel, NULL},       {"target", &o.target, NULL},
                                  {"label", &o.label, NULL},         {"reduction", &o.reduction, NULL},
                                  {NULL, NULL, NULL}};
    const char *file = NULL;
    ug_cli_parse("run", run_help, argc, argv, opts, &file, 1);
    spec s = {.cmd = "run"};
    resolve_kernel(&s, o.kernel);
    resolve_rest(&s, &o);
    process(&s, file);
    return ug_cli_finish(s.cmd);
}

int ug_cmd_exact(int argc, char **argv)
{
    raw_opts o = {0};
    const ug_cli_option opts[] = {{"op", &o.op, NULL},         {"dtype", &o.dtype, NULL},
                                  {"target", &o.target, NULL}, {"label", &o.label, NULL},
                                  {"reduction", &o.reduction, NULL}, {NULL, NULL, NULL}};
    const char *file = NULL;
    ug_cli_parse("exact", exact_help, argc, argv, opts, &file, 1);
    spec s = {.cmd = "exact"};
    resolve_op_dtype(&s, o.op, o.dtype);
    resolve_rest(&s, &o);
    process(&s, file);
    return ug_cli_finish(s.cmd);
}
