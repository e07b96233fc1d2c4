/* ulpgate bench: ns per element of kernels and of the oracle.  A benchmark, never a test:
 * nothing here asserts a time.
 *
 * Method: one row-major batch of rows x n logits, normal(0, 1) from the project's PRNG
 * (oracle/prng.h, seed 1), rounded to the kernel's dtype.  One warm-up call, then `repeat`
 * timed calls (CLOCK_MONOTONIC); the figure is the median call time divided by rows x n.
 * GB/s counts the bytes of the logits (and labels) read and the outputs written once.
 * --oracle times ug_oracle_eval on the same batches instead (softmax, f32 and f64, rows of
 * n = 16, 1024 and 65536 unless --shape is given).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmds.h"
#include "oracle.h"
#include "prng.h"
#include "ulpgate/registry.h"

static const char *const help_text =
    "usage: ulpgate bench [--kernel NAME|all] [--shape RxN] [--repeat K] [--oracle]\n\n"
    "Times kernels (or, with --oracle, the MPFR oracle) on normal(0, 1) logits and prints\n"
    "one line per kernel and shape: name, shape, ns per element (median of K timed calls\n"
    "after one warm-up) and GB/s (logits read plus outputs written).  Single thread.\n\n"
    "options:\n"
    "  --kernel NAME|all  the kernels to time (default: every production kernel)\n"
    "  --shape RxN        rows x n (default: 4096x1024, 64x65536, 65536x16 for kernels;\n"
    "                     1x16, 1x1024, 1x65536 for the oracle)\n"
    "  --repeat K         timed calls per figure (default 5 for kernels, 3 for the oracle)\n"
    "  --oracle           time the oracle (softmax in f32 and f64) instead of kernels\n\n" UG_CLI_HELP_EXIT;

typedef struct shape { size_t rows, n; } shape;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

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
    return t[repeat / 2] / (double)(p->rows * p->n);
}

static double time_oracle(ug_op op, ug_dtype dt, const ug_problem *p, int repeat)
{
    double t[64];
    size_t count = ug_output_count(op, p->rows, p->n, p->reduction);
    ug_exact *e = ug_exact_new(count);
    if (e == NULL || ug_oracle_eval(op, dt, p, e) != UG_OK) {
        ug_exact_free(e, count);
        return -1;
    }
    for (int i = 0; i < repeat; i++) {
        double t0 = now_ns();
        ug_oracle_eval(op, dt, p, e);
        t[i] = now_ns() - t0;
    }
    ug_exact_free(e, count);
    qsort(t, (size_t)repeat, sizeof t[0], cmp_double);
    return t[repeat / 2] / (double)(p->rows * p->n);
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

static void print_line(const char *name, shape s, double ns, size_t bytes_per_elem)
{
    if (ns < 0) {
        printf("%-34s %8zux%-6zu  failed\n", name, s.rows, s.n);
        return;
    }
    printf("%-34s %8zux%-6zu %12.3f ns/elem %8.3f GB/s\n", name, s.rows, s.n, ns, (double)bytes_per_elem / ns);
}

static void bench_oracle(const char *cmd, const shape *shapes, size_t nshapes, int repeat)
{
    static const ug_dtype dts[2] = {UG_F32, UG_F64};
    for (size_t d = 0; d < 2; d++)
        for (size_t i = 0; i < nshapes; i++) {
            batch b = make_batch(cmd, dts[d], UG_OP_SOFTMAX, shapes[i]);
            ug_problem p = problem_of(&b, UG_OP_SOFTMAX);
            char name[64];
            snprintf(name, sizeof name, "oracle.softmax.%s", ug_dtype_name(dts[d]));
            print_line(name, shapes[i], time_oracle(UG_OP_SOFTMAX, dts[d], &p, repeat), 2 * ug_dtype_size(dts[d]));
            ug_cli_check_stdout(cmd);
            free_batch(&b);
        }
}

static void bench_kernels(const char *cmd, const char *which, const shape *shapes, size_t nshapes, int repeat)
{
    int all = strcmp(which, "all") == 0, production = which[0] == '\0';
    if (!all && !production && ug_kernel_find(which) == NULL)
        ug_cli_die(UG_EXIT_USAGE, cmd, "unknown kernel '%s' (see ulpgate list)", which);
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (production ? k->role != UG_ROLE_PRODUCTION : !all && strcmp(k->name, which) != 0)
            continue;
        for (size_t j = 0; j < nshapes; j++) {
            batch b = make_batch(cmd, k->dtype, k->op, shapes[j]);
            ug_problem p = problem_of(&b, k->op);
            size_t outs = ug_output_count(k->op, b.rows, b.n, UG_RED_NONE);
            size_t reads = 1 + (p.aux != NULL); /* logits, and labels or probabilities */
            size_t bytes = ug_dtype_size(k->dtype) * reads + ug_dtype_size(k->dtype) * outs / (b.rows * b.n);
            print_line(k->name, shapes[j], time_kernel(k, &p, repeat), bytes);
            ug_cli_check_stdout(cmd);
            free_batch(&b);
        }
    }
}

int ug_cmd_bench(int argc, char **argv)
{
    const char *cmd = "bench", *kernel = NULL, *shape_s = NULL, *repeat_s = NULL;
    int oracle = 0;
    const ug_cli_option opts[] = {
        {"kernel", &kernel, NULL}, {"shape", &shape_s, NULL}, {"repeat", &repeat_s, NULL}, {"oracle", NULL, &oracle}, {NULL, NULL, NULL}};
    ug_cli_parse(cmd, help_text, argc, argv, opts, NULL, 0);

    shape one, kernel_shapes[3] = {{4096, 1024}, {64, 65536}, {65536, 16}}, oracle_shapes[3] = {{1, 16}, {1, 1024}, {1, 65536}};
    const shape *shapes = oracle ? oracle_shapes : kernel_shapes;
    size_t nshapes = 3;
    if (shape_s != NULL) {
        if (parse_shape(shape_s, &one) != 0)
            ug_cli_die(UG_EXIT_USAGE, cmd, "--shape '%s' is not RxN with R, N >= 1 and R*N <= 2^28", shape_s);
        shapes = &one, nshapes = 1;
    }
    int64_t repeat = oracle ? 3 : 5;
    if (repeat_s != NULL && (ug_cli_parse_index(repeat_s, &repeat) != 0 || repeat < 1 || repeat > 64))
        ug_cli_die(UG_EXIT_USAGE, cmd, "--repeat '%s' is not an integer in [1, 64]", repeat_s);
    if (oracle)
        bench_oracle(cmd, shapes, nshapes, (int)repeat);
    else
        bench_kernels(cmd, kernel == NULL ? "" : kernel, shapes, nshapes, (int)repeat);
    return ug_cli_finish(cmd);
}
