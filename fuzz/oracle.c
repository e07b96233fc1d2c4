/* Fuzz target oracle: differential, the oracle's certified fast path (oracle/fast.c)
 * against its MPFR-only path, on any softmax, log_softmax, logsumexp, xent, xent_dense,
 * xent_grad or bce_logits input (the losses under every reduction) the harness decodes
 * (decode.h: every dtype, 1-4 rows, raw bits or offset plus deltas, masks, NaN, inf,
 * targets, probabilities and labels).
 *
 * For one input, the oracle runs twice (ug_expect_init with ug_oracle_set_fast(0), then
 * (1)); it stops the run (abort, after printing the input's decoding) when
 *   - the statuses differ, or an output's rounded or kappa bits differ, or a value the
 *     fast path set differs from the MPFR value;
 *   - the judge of any registered kernel of the op and dtype differs between the two
 *     (ug_judge_same: every ULP error, count, sample);
 *   - a lazy value, once computed (ug_expect_value), differs from the MPFR value, or
 *     ug_oracle_fast_mismatches() grew.
 * Kernels' own failures are not this target's business (rowops hunts them).  f64 is on the
 * fast path like f32 and bf16 (ANALYSIS.md §9.7); the replay's summary counts each dtype's
 * outputs and lazy values, so that a run shows each dtype went through the fast path.
 *
 * The replay binary (fuzz_oracle_replay, built from this file with
 * UG_FUZZ_ORACLE_REPLAY) runs the rowops seed inputs (--seeds), files and directories,
 * and writes the seeds (--make-corpus DIR) for the libFuzzer smoke test.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode.h"
#include "harness.h"
#include "seeds.h"

const ug_fuzz_target ug_fuzz_this_target = {
    "oracle", "the oracle's fast path against its MPFR-only path (every op)",
    UG_FUZZ_OP(UG_OP_SOFTMAX) | UG_FUZZ_OP(UG_OP_LOG_SOFTMAX) | UG_FUZZ_OP(UG_OP_LOGSUMEXP) | UG_FUZZ_OP(UG_OP_XENT) |
        UG_FUZZ_OP(UG_OP_XENT_DENSE) | UG_FUZZ_OP(UG_OP_XENT_GRAD) | UG_FUZZ_OP(UG_OP_BCE_LOGITS)};

typedef struct oracle_stats { size_t inputs, outputs, lazy, dt_outputs[UG_DTYPE_COUNT], dt_lazy[UG_DTYPE_COUNT]; } oracle_stats;
static oracle_stats totals;

static int same_d(double a, double b) { return isnan(a) ? isnan(b) : memcmp(&a, &b, sizeof a) == 0; }

static void stop(const ug_fuzz_case *c, const char *what, size_t i)
{
    const ug_batch *b = c->b;
    fprintf(stderr, "fuzz_oracle: the fast path and the MPFR path disagree: %s\n  %s %s rows %zu n %zu, output %zu\n",
            what, ug_op_name(b->op), ug_dtype_name(b->dtype), b->rows, b->n, i);
    for (size_t j = 0; j < b->rows * b->n && j < 64; j++)
        fprintf(stderr, "  x[%zu] = %a\n", j, ug_batch_get(b->dtype, b->x, j));
    abort();
}

static int same_value(const ug_exact *a, const ug_exact *b)
{
    return mpfr_equal_p(a->value, b->value) || (mpfr_nan_p(a->value) && mpfr_nan_p(b->value));
}

static void compare(const ug_fuzz_case *c, const ug_expect *em, const ug_expect *ef)
{
    for (size_t i = 0; i < em->count; i++) {
        const ug_exact *m = &em->exact[i], *f = &ef->exact[i];
        totals.outputs++;
        totals.lazy += f->lazy != 0;
        totals.dt_outputs[c->b->dtype]++;
        totals.dt_lazy[c->b->dtype] += f->lazy != 0;
        if (!same_d(m->rounded, f->rounded))
            stop(c, "rounded", i);
        if (!same_d(m->kappa, f->kappa))
            stop(c, "kappa", i);
        if (!f->lazy && !same_value(m, f))
            stop(c, "value", i);
    }
    for (size_t k = 0; k < ug_kernel_count(); k++) {
        const ug_kernel *kern = ug_kernel_at(k);
        if (kern->op != c->b->op || kern->dtype != c->b->dtype || !ug_kernel_available(kern))
            continue;
        ug_judge jm, jf;
        ug_judge_init(&jm, kern);
        ug_judge_init(&jf, kern);
        ug_status sm = ug_judge_batch(&jm, c->b, em), sf = ug_judge_batch(&jf, c->b, ef);
        if (sm != sf || !ug_judge_same(&jm, &jf))
            stop(c, kern->name, 0);
        ug_judge_free(&jm);
        ug_judge_free(&jf);
    }
    unsigned long before = ug_oracle_fast_mismatches();
    for (size_t i = 0; i < em->count; i++)
        if (ug_expect_value(ef, i) != UG_OK || !same_value(&em->exact[i], &ef->exact[i]))
            stop(c, "value (computed for a lazy output)", i);
    if (ug_oracle_fast_mismatches() != before)
        stop(c, "ug_oracle_value counted a mismatch", 0);
}

static int run_one(const uint8_t *data, size_t size)
{
    ug_fuzz_config cfg;
    char why[256];
    if (ug_fuzz_config_read(&ug_fuzz_this_target, &cfg, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz_oracle: %s\n", why);
        exit(2);
    }
    ug_fuzz_case c;
    if (ug_fuzz_decode(&ug_fuzz_this_target, &cfg, data, size, &c) != 0)
        return -1;
    totals.inputs++;
    ug_expect em, ef;
    int was = ug_oracle_fast_enabled();
    ug_oracle_set_fast(0);
    ug_status sm = ug_expect_init(&em, c.b, c.red);
    ug_oracle_set_fast(1);
    ug_status sf = ug_expect_init(&ef, c.b, c.red);
    ug_oracle_set_fast(was);
    if (sm == UG_ERR_NOMEM || sf == UG_ERR_NOMEM)
        abort();
    if (sm != sf)
        stop(&c, "status", 0);
    if (sm == UG_OK)
        compare(&c, &em, &ef);
    ug_expect_free(&em);
    ug_expect_free(&ef);
    ug_fuzz_case_free(&c);
    return sm == UG_OK ? 0 : -1;
}

#ifndef UG_FUZZ_ORACLE_REPLAY

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ug_fuzz_init(&ug_fuzz_this_target);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return run_one(data, size); }

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    return ug_fuzz_mutate(&ug_fuzz_this_target, data, size, max_size, seed);
}

#else /* the replay main */

static void run_seed(void *ctx, const char *name, const uint8_t *data, size_t size)
{
    (void)ctx;
    (void)name;
    run_one(data, size);
}

static void write_seed(void *ctx, const char *name, const uint8_t *data, size_t size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", (const char *)ctx, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "fuzz_oracle_replay: cannot write %s: %s\n", path, strerror(errno));
        exit(3);
    }
}

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "fuzz_oracle_replay: %s: %s\n", path, strerror(errno));
        exit(3);
    }
    uint8_t buf[1 << 16];
    size_t size = fread(buf, 1, sizeof buf, f);
    fclose(f);
    run_one(buf, size);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A file, or every file of a directory in sorted order. */
static void run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz_oracle_replay: %s: %s\n", path, strerror(errno));
        exit(3);
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    DIR *d = opendir(path);
    char **names = NULL;
    size_t count = 0;
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char **grown = realloc(names, (count + 1) * sizeof *names);
        if (grown == NULL)
            abort();
        names = grown;
        names[count] = malloc(strlen(path) + strlen(e->d_name) + 2);
        if (names[count] == NULL)
            abort();
        sprintf(names[count++], "%s/%s", path, e->d_name);
    }
    if (d != NULL)
        closedir(d);
    qsort(names, count, sizeof *names, cmp_str);
    for (size_t i = 0; i < count; i++) {
        run_file(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    ug_fuzz_init(&ug_fuzz_this_target);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--make-corpus") == 0) {
            if (i + 1 == argc || (mkdir(argv[i + 1], 0777) != 0 && errno != EEXIST)) {
                fprintf(stderr, "fuzz_oracle_replay: --make-corpus needs a directory it can create\n");
                return 2;
            }
            size_t n = ug_fuzz_seeds(&ug_fuzz_this_target, write_seed, argv[i + 1]);
            printf("fuzz_oracle_replay: %zu seed inputs written to %s\n", n, argv[i + 1]);
            return 0;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seeds") == 0)
            ug_fuzz_seeds(&ug_fuzz_this_target, run_seed, NULL);
        else if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr, "usage: fuzz_oracle_replay [--seeds] [--make-corpus DIR] [FILE|DIR]...\n");
            return 2;
        } else
            run_path(argv[i]);
    }
    printf("fuzz_oracle_replay: %zu inputs, %zu outputs, %zu left lazy by the fast path (", totals.inputs,
           totals.outputs, totals.lazy);
    for (int d = 0; d < UG_DTYPE_COUNT; d++)
        printf("%s%s %zu of %zu", d ? ", " : "", ug_dtype_name((ug_dtype)d), totals.dt_lazy[d], totals.dt_outputs[d]);
    printf("): the fast path and the MPFR path agree on every one\n");
    return 0;
}

#endif
