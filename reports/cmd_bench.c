/* ulpgate bench: ns per element of kernels and of the oracle.  A benchmark, never a test:
 * nothing here asserts a time.
 *
 * Method: one row-major batch of rows x n logits, normal(0, 1) from the project's PRNG
 * (oracle/prng.h, seed 1), rounded to the kernel's dtype.  One warm-up call, then `repeat`
 * timed calls (CLOCK_MONOTONIC); the figure is the median call time (--stat min: the
 * minimum; kernels and oneDNN alike) divided by rows x n.
 * GB/s counts the bytes of the logits (and labels) read and the outputs written once.
 * --oracle times the oracle on the same batches instead: softmax, log_softmax, logsumexp, xent,
 * xent_dense (one-hot at 0), xent_grad (target 0) and bce_logits (labels 0.5), reduction
 * none, in f32, bf16, f64, 64 rows of n = 16 and 4 rows of n = 1024 unless --shape is given, each with the
 * certified fast path (oracle/fast.c) and with the MPFR-only path, alternately in one run,
 * in thread CPU time (a loaded machine's other jobs do not count).  A second pair of figures
 * (".judged") adds what the judge then asks of the oracle for a correctly rounded kernel:
 * the ULP error of every output at its rounded value (ug_compare_lazy, and for an output whose
 * enclosure does not decide it, ug_oracle_value: the row again by MPFR; ug_compare on the
 * MPFR path) — the fast path's full cost to a check or report, fallbacks included.  Kernels this CPU cannot run
 * (ug_kernel_available) are skipped with a message.
 *
 * oneDNN: when libdnnl-dev was found at configure time (UG_HAVE_DNNL, reports/CMakeLists.txt),
 * every f32 or bf16 softmax, log_softmax and xent kernel is followed, in the same run and on
 * the same batch, by oneDNN's softmax (softmax_v2, algorithm softmax_accurate; logsoftmax
 * for log_softmax) timed the same way on one thread, and the ratio ours / oneDNN (below 1:
 * ours is faster).  xent is compared with softmax_accurate, the work a framework does before
 * its loss.  oneDNN picks its best ISA; DNNL_MAX_CPU_ISA=AVX2 in the environment restricts
 * it (for comparing the avx2 rows).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#ifdef UG_HAVE_DNNL
#include <dnnl.h>
#endif

#include "atomic.h"
#include "cli.h"
#include "cmds.h"
#include "jsonout.h"
#include "ulp.h"
#include "oracle.h"
#include "prng.h"
#include "ulpgate/registry.h"

static const char *const help_text =
    "usage: ulpgate bench [--kernel NAME|all] [--shape RxN] [--repeat K] [--stat S]\n"
    "                     [--oracle] [--json FILE]\n\n"
    "Times kernels (or, with --oracle, the oracle's fast and MPFR-only paths side by side)\n"
    "on normal(0, 1) logits and prints\n"
    "one line per kernel and shape: name, shape, ns per element (median, or minimum with\n"
    "--stat min, of K timed calls\n"
    "after one warm-up) and GB/s (logits read plus outputs written).  Single thread.\n"
    "Kernels this CPU cannot run are skipped.  When built with oneDNN (libdnnl-dev at\n"
    "configure time), each f32/bf16 softmax, log_softmax and xent line is followed by\n"
    "oneDNN's softmax_accurate (logsoftmax for log_softmax) on the same batch and the ratio\n"
    "ours/oneDNN; DNNL_MAX_CPU_ISA=AVX2 restricts oneDNN to AVX2.\n\n"
    "options:\n"
    "  --kernel NAME|all  the kernels to time (default: every production kernel)\n"
    "  --shape RxN        rows x n (default: 4096x1024, 64x65536, 65536x16 for kernels;\n"
    "                     64x16, 4x1024 for the oracle)\n"
    "  --repeat K         timed calls per figure (default 5 for kernels, 3 for the oracle)\n"
    "  --stat S           median (default) or min of the K calls, for ours and oneDNN alike\n"
    "                     (min: the undisturbed time on a loaded machine)\n"
    "  --oracle           time the oracle (softmax, log_softmax, logsumexp, xent, xent_dense,\n"
    "                     xent_grad with sparse labels, bce_logits, in f32, bf16, f64; fast\n"
    "                     path and MPFR-only path; .judged lines: the call plus every\n"
    "                     output's ULP error at its rounded value, as the judge asks it)\n"
    "                     instead of kernels\n"
    "  --json FILE        also write the figures as JSON to FILE (FILE.tmp, then renamed)\n\n" UG_CLI_HELP_EXIT;

typedef struct shape { size_t rows, n; } shape;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* --stat: the figure is the median (default) or the minimum of the sorted call times.  On
 * a machine shared with other work the minimum is the better estimate of an undisturbed
 * call; kernels and oneDNN are always reported with the same statistic. */
static int stat_min = 0;

static int pick(int repeat) { return stat_min ? 0 : repeat / 2; }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A batch of rows x n normal(0, 1) logits in dt, targets 0, labels 1/2, probabilities
 * one-hot at 0 (valid for every op). */
typedef struct batch { void *x, *aux, *y; int64_t *target; size_t rows, n; } batch;

static batch make_batch(const char *cmd, ug_dtype dt, ug_op op, shape s)
{
    batch b = {.rows = s.rows, .n = s.n};
    size_t count = s.rows * s.n, es = ug_dtype_size(dt);
    b.x = ug_cli_alloc(cmd, count, es);
    b.aux = ug_cli_alloc(cmd, count, es);
    b.y = ug_cli_alloc(cmd, count, es);
    b.target = ug_cli_alloc(cmd, s.rows, sizeof *b.target);
    ug_prng g;
    ug_prng_seed(&g, 1);
    for (size_t i = 0; i < count; i++) {
        ug_store(dt, b.x, i, ug_prng_normal(&g));
        ug_store(dt, b.aux, i, op == UG_OP_BCE_LOGITS ? 0.5 : i % s.n == 0);
    }
    memset(b.target, 0, s.rows * sizeof *b.target);
    return b;
}

static void free_batch(batch *b)
{
    free(b->x), free(b->aux), free(b->y), free(b->target);
}

static ug_problem problem_of(const batch *b, ug_op op)
{
    ug_problem p = {.rows = b->rows, .n = b->n, .x = b->x, .y = b->y};
    if (op == UG_OP_XENT || op == UG_OP_XENT_GRAD)
        p.target = b->target;
    if (op == UG_OP_XENT_DENSE || op == UG_OP_BCE_LOGITS)
        p.aux = b->aux;
    return p;
}

/* Median ns per element of `repeat` calls after one warm-up; -1 when a call fails. */
static double time_kernel(const ug_kernel *k, const ug_problem *p, int repeat)
{
    double t[64];
    if (k->fn(p) != UG_OK)
        return -1;
    for (int i = 0; i < repeat; i++) {
        double t0 = now_ns();
        k->fn(p);
        t[i] = now_ns() - t0;
    }
    qsort(t, (size_t)repeat, sizeof t[0], cmp_double);
    return t[pick(repeat)] / (double)(p->rows * p->n);
}

/* CPU time of this thread: the oracle's figures are CPU ns, so that a loaded machine
 * (other jobs taking the cores) does not enter them. */
static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One oracle call; judged: then every output's ULP error at its rounded value, as the judge
 * asks it (the value computed by MPFR where the enclosure does not decide it). */
static ug_status oracle_call(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *e, size_t count, int judged)
{
    ug_status st = ug_oracle_eval_lazy(op, dt, p, e);
    for (size_t i = 0; judged && st == UG_OK && i < count; i++) {
        ug_cmp c;
        if (!ug_compare_lazy(dt, e[i].rounded, &e[i], &c) && (st = ug_oracle_value(op, dt, p, e, i)) == UG_OK)
            c = ug_compare(dt, e[i].rounded, &e[i]);
    }
    return st;
}

/* Median CPU ns per element of ug_oracle_eval_lazy with the fast path on and off
 * (figure[0], figure[1]), the two timed alternately on the same batch; -1 when a call
 * fails.  judged: oracle_call's judged variant. */
static void time_oracle(ug_op op, ug_dtype dt, const ug_problem *p, int repeat, int judged, double figure[2])
{
    double t[2][64];
    size_t count = ug_output_count(op, p->rows, p->n, p->reduction);
    ug_exact *e = ug_exact_new(count);
    int was = ug_oracle_fast_enabled();
    figure[0] = figure[1] = -1;
    for (int path = 0; path < 2; path++) { /* warm-up */
        ug_oracle_set_fast(path == 0);
        if (e == NULL || oracle_call(op, dt, p, e, count, judged) != UG_OK) {
            ug_exact_free(e, count);
            ug_oracle_set_fast(was);
            return;
        }
    }
    for (int i = 0; i < repeat; i++)
        for (int path = 0; path < 2; path++) {
            ug_oracle_set_fast(path == 0);
            double t0 = cpu_ns();
            oracle_call(op, dt, p, e, count, judged);
            t[path][i] = cpu_ns() - t0;
        }
    ug_oracle_set_fast(was);
    ug_exact_free(e, count);
    for (int path = 0; path < 2; path++) {
        qsort(t[path], (size_t)repeat, sizeof t[path][0], cmp_double);
        figure[path] = t[path][repeat / 2] / (double)(p->rows * p->n);
    }
}

static int parse_shape(const char *s, shape *out)
{
    char *end;
    unsigned long long r = strtoull(s, &end, 10);
    if (end == s || (*end != 'x' && *end != 'X'))
        return -1;
    const char *ns = end + 1;
    unsigned long long n = strtoull(ns, &end, 10);
    if (end == ns || *end != '\0' || r == 0 || n == 0 || r > (1ull << 24) || n > (1ull << 26) || r * n > (1ull << 28))
        return -1;
    out->rows = (size_t)r, out->n = (size_t)n;
    return 0;
}

/* ---------------------------------------------------------------- oneDNN */

/* oneDNN's figure for one batch: ns per element (-1: not measured) and its implementation. */
typedef struct dnnl_figure {
    double ns;
    char impl[48];
    const char *alg;  /* "softmax_accurate" or "logsoftmax" */
} dnnl_figure;

#ifdef UG_HAVE_DNNL
/* oneDNN's threads: libgomp's, resolved through libdnnl; bench is single-threaded. */
extern void omp_set_num_threads(int) __attribute__((weak));

typedef struct dnnl_run {
    dnnl_engine_t eng;
    dnnl_stream_t st;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t src, dst;
} dnnl_run;

static void dnnl_run_free(dnnl_run *r)
{
    if (r->src) dnnl_memory_destroy(r->src);
    if (r->dst) dnnl_memory_destroy(r->dst);
    if (r->prim) dnnl_primitive_destroy(r->prim);
    if (r->pd) dnnl_primitive_desc_destroy(r->pd);
    if (r->st) dnnl_stream_destroy(r->st);
    if (r->eng) dnnl_engine_destroy(r->eng);
}

/* softmax_v2 forward inference over axis 1 of b (rows x n, row-major), y as dst. */
static int dnnl_run_init(dnnl_run *r, const batch *b, ug_dtype dt, int logsoftmax)
{
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {(dnnl_dim_t)b->rows, (dnnl_dim_t)b->n};
    dnnl_softmax_v2_desc_t sd;
    dnnl_alg_kind_t alg = logsoftmax ? dnnl_softmax_log : dnnl_softmax_accurate;
    return dnnl_engine_create(&r->eng, dnnl_cpu, 0) == dnnl_success &&
           dnnl_stream_create(&r->st, r->eng, dnnl_stream_default_flags) == dnnl_success &&
           dnnl_memory_desc_init_by_tag(&md, 2, dims, dt == UG_F32 ? dnnl_f32 : dnnl_bf16, dnnl_ab) == dnnl_success &&
           dnnl_softmax_v2_forward_desc_init(&sd, dnnl_forward_inference, alg, &md, &md, 1) == dnnl_success &&
           dnnl_primitive_desc_create(&r->pd, &sd, NULL, r->eng, NULL) == dnnl_success &&
           dnnl_primitive_create(&r->prim, r->pd) == dnnl_success &&
           dnnl_memory_create(&r->src, &md, r->eng, b->x) == dnnl_success &&
           dnnl_memory_create(&r->dst, &md, r->eng, b->y) == dnnl_success;
}

static int dnnl_call(dnnl_run *r)
{
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, r->src}, {DNNL_ARG_DST, r->dst}};
    return dnnl_primitive_execute(r->prim, r->st, 2, args) == dnnl_success && dnnl_stream_wait(r->st) == dnnl_success;
}

/* Timed like time_kernel: one warm-up, the median of `repeat` calls. */
static void time_dnnl(const batch *b, ug_dtype dt, int logsoftmax, int repeat, dnnl_figure *f)
{
    double t[64];
    dnnl_run r = {0};
    if (omp_set_num_threads != NULL)
        omp_set_num_threads(1);
    const char *impl = "?";
    if (dnnl_run_init(&r, b, dt, logsoftmax) && dnnl_call(&r)) {
        dnnl_primitive_desc_query(r.pd, dnnl_query_impl_info_str, 0, &impl);
        for (int i = 0; i < repeat; i++) {
            double t0 = now_ns();
            dnnl_call(&r);
            t[i] = now_ns() - t0;
        }
        qsort(t, (size_t)repeat, sizeof t[0], cmp_double);
        f->ns = t[pick(repeat)] / (double)(b->rows * b->n);
    }
    snprintf(f->impl, sizeof f->impl, "%s", impl);
    dnnl_run_free(&r);
}
#endif

/* oneDNN's counterpart of k (softmax_accurate, or logsoftmax for log_softmax) on b; ns
 * stays -1 when there is none (other ops and dtypes, or oneDNN not built in). */
static dnnl_figure onednn_figure(const ug_kernel *k, const batch *b, int repeat)
{
    dnnl_figure f = {.ns = -1, .impl = "", .alg = k->op == UG_OP_LOG_SOFTMAX ? "logsoftmax" : "softmax_accurate"};
    int op_ok = k->op == UG_OP_SOFTMAX || k->op == UG_OP_LOG_SOFTMAX || k->op == UG_OP_XENT;
    if (!op_ok || (k->dtype != UG_F32 && k->dtype != UG_BF16))
        return f;
#ifdef UG_HAVE_DNNL
    time_dnnl(b, k->dtype, k->op == UG_OP_LOG_SOFTMAX, repeat, &f);
#else
    (void)b, (void)repeat;
#endif
    return f;
}

/* ---------------------------------------------------------------- output */

static void print_line(const char *name, shape s, double ns, size_t bytes_per_elem)
{
    if (ns < 0) {
        printf("%-34s %8zux%-6zu  failed\n", name, s.rows, s.n);
        return;
    }
    printf("%-34s %8zux%-6zu %12.3f ns/elem %8.3f GB/s\n", name, s.rows, s.n, ns, (double)bytes_per_elem / ns);
}

static void print_onednn(const dnnl_figure *f, shape s, double ours)
{
    char name[64];
    snprintf(name, sizeof name, "  oneDNN %s", f->alg);
    printf("%-34s %8zux%-6zu %12.3f ns/elem  ratio %.3f ours/oneDNN (%s)\n", name, s.rows, s.n, f->ns,
           ours > 0 ? ours / f->ns : -1.0, f->impl);
}

static json_object *figure_json(const char *name, shape s, double ns, size_t bytes, const dnnl_figure *f)
{
    json_object *o = json_object_new_object();
    ug_j_add(o, "kernel", ug_j_str(name));
    ug_j_add(o, "rows", ug_j_size(s.rows));
    ug_j_add(o, "n", ug_j_size(s.n));
    ug_j_add(o, "ns_per_elem", ug_j_stat(ns));
    ug_j_add(o, "gb_per_s", ug_j_stat(ns > 0 ? (double)bytes / ns : -1));
    if (f != NULL && f->ns > 0) {
        json_object *d = json_object_new_object();
        ug_j_add(d, "algorithm", ug_j_str(f->alg));
        ug_j_add(d, "impl", ug_j_str(f->impl));
        ug_j_add(d, "ns_per_elem", ug_j_stat(f->ns));
        ug_j_add(d, "ratio", ug_j_stat(ns > 0 ? ns / f->ns : -1));
        ug_j_add(o, "onednn", d);
    }
    return o;
}

/* ---------------------------------------------------------------- the benchmarks */

static void bench_oracle(const char *cmd, const shape *shapes, size_t nshapes, int repeat, json_object *out)
{
    static const ug_dtype dts[3] = {UG_F32, UG_BF16, UG_F64};
    static const ug_op ops[7] = {UG_OP_SOFTMAX,   UG_OP_LOG_SOFTMAX, UG_OP_LOGSUMEXP, UG_OP_XENT,
                                 UG_OP_XENT_DENSE, UG_OP_XENT_GRAD,   UG_OP_BCE_LOGITS};
    printf("# oracle: certified fast path (ug_oracle_eval_lazy) and MPFR-only path (UG_ORACLE=mpfr),\n"
           "# timed alternately on the same batch in this run (thread CPU time); speedup = mpfr / fast;\n"
           "# .judged: the call, then every output's ULP error at its rounded value as the judge asks it\n"
           "# (fast path: from the enclosure, or the row again by MPFR where it does not decide)\n");
    for (size_t o = 0; o < 7; o++)
        for (size_t d = 0; d < 3; d++)
            for (size_t i = 0; i < nshapes; i++) {
                batch b = make_batch(cmd, dts[d], ops[o], shapes[i]);
                ug_problem p = problem_of(&b, ops[o]);
                for (int judged = 0; judged < 2; judged++) {
                    char name[80], mname[96];
                    snprintf(name, sizeof name, "oracle.%s.%s%s", ug_op_name(ops[o]), ug_dtype_name(dts[d]),
                             judged ? ".judged" : "");
                    double ns[2];
                    time_oracle(ops[o], dts[d], &p, repeat, judged, ns);
                    print_line(name, shapes[i], ns[0], 2 * ug_dtype_size(dts[d]));
                    snprintf(mname, sizeof mname, "%s.mpfr", name);
                    if (ns[1] < 0)
                        print_line(mname, shapes[i], ns[1], 2 * ug_dtype_size(dts[d]));
                    else
                        printf("%-34s %8zux%-6zu %12.3f ns/elem  speedup %.1fx\n", mname, shapes[i].rows, shapes[i].n,
                               ns[1], ns[0] > 0 ? ns[1] / ns[0] : -1.0);
                    if (out != NULL) {
                        json_object_array_add(out, figure_json(name, shapes[i], ns[0], 2 * ug_dtype_size(dts[d]), NULL));
                        json_object_array_add(out, figure_json(mname, shapes[i], ns[1], 2 * ug_dtype_size(dts[d]), NULL));
                    }
                }
                ug_cli_check_stdout(cmd);
                free_batch(&b);
            }
}

/* One kernel on one shape, then oneDNN's counterpart on the same batch. */
static void bench_one(const char *cmd, const ug_kernel *k, shape s, int repeat, json_object *out)
{
    batch b = make_batch(cmd, k->dtype, k->op, s);
    ug_problem p = problem_of(&b, k->op);
    size_t outs = ug_output_count(k->op, b.rows, b.n, UG_RED_NONE);
    size_t reads = 1 + (p.aux != NULL); /* logits, and labels or probabilities */
    size_t bytes = ug_dtype_size(k->dtype) * reads + ug_dtype_size(k->dtype) * outs / (b.rows * b.n);
    double ns = time_kernel(k, &p, repeat);
    print_line(k->name, s, ns, bytes);
    dnnl_figure f = onednn_figure(k, &b, repeat);
    if (f.ns > 0)
        print_onednn(&f, s, ns);
    if (out != NULL)
        json_object_array_add(out, figure_json(k->name, s, ns, bytes, &f));
    ug_cli_check_stdout(cmd);
    free_batch(&b);
}

static void bench_kernels(const char *cmd, const char *which, const shape *shapes, size_t nshapes, int repeat,
                          json_object *out)
{
    int all = strcmp(which, "all") == 0, production = which[0] == '\0';
    if (!all && !production && ug_kernel_find(which) == NULL)
        ug_cli_die(UG_EXIT_USAGE, cmd, "unknown kernel '%s' (see ulpgate list)", which);
#ifndef UG_HAVE_DNNL
    printf("# oneDNN not built in (libdnnl-dev was not found at configure time): no comparison\n");
#endif
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (production ? k->role != UG_ROLE_PRODUCTION : !all && strcmp(k->name, which) != 0)
            continue;
        if (!ug_kernel_available(k)) {
            printf("%-34s skipped: this CPU cannot run %s code\n", k->name, k->isa);
            continue;
        }
        for (size_t j = 0; j < nshapes; j++)
            bench_one(cmd, k, shapes[j], repeat, out);
    }
}

int ug_cmd_bench(int argc, char **argv)
{
    const char *cmd = "bench", *kernel = NULL, *shape_s = NULL, *repeat_s = NULL, *json = NULL, *stat_s = NULL;
    int oracle = 0;
    const ug_cli_option opts[] = {{"kernel", &kernel, NULL}, {"shape", &shape_s, NULL}, {"repeat", &repeat_s, NULL},
                                  {"stat", &stat_s, NULL},     {"oracle", NULL, &oracle}, {"json", &json, NULL},
                                  {NULL, NULL, NULL}};
    ug_cli_parse(cmd, help_text, argc, argv, opts, NULL, 0);

    shape one, kernel_shapes[3] = {{4096, 1024}, {64, 65536}, {65536, 16}}, oracle_shapes[2] = {{64, 16}, {4, 1024}};
    const shape *shapes = oracle ? oracle_shapes : kernel_shapes;
    size_t nshapes = oracle ? 2 : 3;
    if (shape_s != NULL) {
        if (parse_shape(shape_s, &one) != 0)
            ug_cli_die(UG_EXIT_USAGE, cmd, "--shape '%s' is not RxN with R, N >= 1 and R*N <= 2^28", shape_s);
        shapes = &one, nshapes = 1;
    }
    if (stat_s != NULL && strcmp(stat_s, "median") != 0 && strcmp(stat_s, "min") != 0)
        ug_cli_die(UG_EXIT_USAGE, cmd, "--stat '%s' is not median or min", stat_s);
    stat_min = stat_s != NULL && strcmp(stat_s, "min") == 0;
    int64_t repeat = oracle ? 3 : 5;
    if (repeat_s != NULL && (ug_cli_parse_index(repeat_s, &repeat) != 0 || repeat < 1 || repeat > 64))
        ug_cli_die(UG_EXIT_USAGE, cmd, "--repeat '%s' is not an integer in [1, 64]", repeat_s);
    json_object *figures = json != NULL ? json_object_new_array() : NULL;
    if (oracle)
        bench_oracle(cmd, shapes, nshapes, (int)repeat, figures);
    else
        bench_kernels(cmd, kernel == NULL ? "" : kernel, shapes, nshapes, (int)repeat, figures);
    if (json != NULL) {
        json_object *doc = json_object_new_object();
        ug_j_add(doc, "command", ug_j_str("bench"));
        ug_j_add(doc, "isa", ug_j_str(ug_isa()));
        ug_j_add(doc, "repeat", ug_j_size((size_t)repeat));
        ug_j_add(doc, "stat", json_object_new_string(stat_min ? "min" : "median"));
        ug_j_add(doc, "figures", figures);
        ug_atomic_write_json(cmd, json, doc);
        json_object_put(doc);
    }
    return ug_cli_finish(cmd);
}
