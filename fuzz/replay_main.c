/* The replay main: every fuzz target also builds without libFuzzer (any compiler) as
 * fuzz_<target>_replay, which runs inputs through LLVMFuzzerTestOneInput exactly as
 * libFuzzer would (files, directories in sorted order, the generated seeds), so that the
 * corpus and the regression inputs are an ordinary ctest test.  It also writes the seed
 * corpus and the dictionaries, and can run a short, deterministic mutation walk with the
 * custom mutator (a poor man's fuzzer, for builds without clang).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode.h"
#include "finding.h"
#include "harness.h"
#include "seeds.h"

static const char usage[] =
    "usage: fuzz_%s_replay [--seeds] [--mutate K] [--worst FILE] [FILE|DIR]...\n"
    "       fuzz_%s_replay --simplify IN OUT\n"
    "       fuzz_%s_replay --make-corpus DIR\n"
    "       fuzz_%s_replay --make-dict f32|f64|bf16\n\n"
    "Run inputs of the fuzz target '%s' (%s) through the same code as its libFuzzer\n"
    "build: files, and every regular file of each DIR in name order.  A kernel that breaks\n"
    "its claim stops the run with a report (exit by abort), as under libFuzzer.\n\n"
    "options:\n"
    "  --seeds            also run the seed inputs generated from the input families\n"
    "  --mutate K         after each input, K inputs made from it by the custom mutator\n"
    "                     (deterministic: seeded by the input's hash)\n"
    "  --worst FILE       write, for every production and variant kernel not correctly\n"
    "                     rounded on some input, its input of the largest error relative to\n"
    "                     its claimed bound as a worst-case line (props/data/<name>.wc)\n"
    "  --simplify IN OUT  IN breaks a claim: write to OUT the simplest variant found that\n"
    "                     still breaks the same kernel's claim (one row, no reduction, the\n"
    "                     shortest row, no unused bytes); exit 1 when IN breaks no claim\n"
    "  --make-corpus DIR  write the seed inputs to DIR (created if needed) and exit\n"
    "  --make-dict DT     print the dictionary of DT's special values and exit\n"
    "  -h, --help         print this help\n\n"
    "The environment variables of the harness apply (fuzz/harness.h): UG_FUZZ_KERNEL,\n"
    "UG_FUZZ_STRICT, UG_FUZZ_GUIDE, UG_FUZZ_MAX_N, UG_FUZZ_N, UG_FUZZ_OUT, UG_FUZZ_QUIET.\n";

/* libFuzzer's byte mutator, for --mutate outside libFuzzer: replace one byte, chosen
 * from the input's hash so that the walk is deterministic. */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size)
{
    (void)max_size;
    if (size == 0)
        return 0;
    uint64_t h = ug_fuzz_hash(data, size);
    data[h % size] = (uint8_t)(h >> 32);
    return size;
}

typedef struct replay {
    const ug_fuzz_target *t;
    size_t mutate;         /* --mutate K                                             */
    const char *worst;     /* --worst FILE                                           */
    size_t files, seeds;
    ug_fuzz_stats stats;
} replay;

static void run_one(replay *r, const uint8_t *data, size_t size)
{
    ug_fuzz_run(r->t, data, size, &r->stats);
    if (r->mutate == 0)
        return;
    size_t cap = size + 256, len = size;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        abort();
    memcpy(buf, data, size);
    uint64_t seed = ug_fuzz_hash(data, size);
    for (size_t i = 0; i < r->mutate; i++) {
        len = ug_fuzz_mutate(r->t, buf, len, cap, (unsigned)(seed + i));
        ug_fuzz_run(r->t, buf, len, &r->stats);
    }
    free(buf);
}

/* ---------------------------------------------------------------- files */

static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    for (size_t got; buf != NULL && (got = fread(buf + len, 1, cap - len, f)) > 0;) {
        len += got;
        if (len < cap)
            continue;
        uint8_t *bigger = realloc(buf, cap *= 2);
        if (bigger == NULL)
            free(buf);
        buf = bigger;
    }
    int bad = buf == NULL || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return -1;
    }
    *data = buf;
    *size = len;
    return 0;
}

static void run_file(replay *r, const char *path)
{
    uint8_t *data;
    size_t size;
    if (read_file(path, &data, &size) != 0) {
        fprintf(stderr, "fuzz_%s_replay: %s: %s\n", r->t->name, path, strerror(errno));
        exit(3);
    }
    run_one(r, data, size);
    r->files++;
    free(data);
}

static int visible_file(const struct dirent *d) { return d->d_name[0] != '.'; }

static void run_dir(replay *r, const char *dir)
{
    struct dirent **names;
    int count = scandir(dir, &names, visible_file, alphasort);
    if (count < 0) {
        fprintf(stderr, "fuzz_%s_replay: %s: %s\n", r->t->name, dir, strerror(errno));
        exit(3);
    }
    for (int i = 0; i < count; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            run_file(r, path);
        free(names[i]);
    }
    free(names);
}

static void run_path(replay *r, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz_%s_replay: %s: %s\n", r->t->name, path, strerror(errno));
        exit(3);
    }
    if (S_ISDIR(st.st_mode))
        run_dir(r, path);
    else
        run_file(r, path);
}

/* ---------------------------------------------------------------- seeds and corpus */

static void run_seed(void *ctx, const char *name, const uint8_t *data, size_t size)
{
    replay *r = ctx;
    (void)name;
    run_one(r, data, size);
    r->seeds++;
}

static void write_seed(void *ctx, const char *name, const uint8_t *data, size_t size)
{
    const char *dir = ctx;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "fuzz_%s_replay: cannot write %s: %s\n", ug_fuzz_this_target.name, path, strerror(errno));
        exit(3);
    }
}

static int make_corpus(const ug_fuzz_target *t, const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "fuzz_%s_replay: cannot create %s: %s\n", t->name, dir, strerror(errno));
        return 3;
    }
    size_t count = ug_fuzz_seeds(t, write_seed, (void *)dir);
    printf("fuzz_%s_replay: %zu seed inputs written to %s\n", t->name, count, dir);
    return 0;
}

static int make_dict(const ug_fuzz_target *t, const char *name)
{
    ug_dtype dt;
    if (ug_dtype_from_name(name, &dt) != 0) {
        fprintf(stderr, "fuzz_%s_replay: --make-dict %s: not f32, f64 or bf16\n", t->name, name);
        return 2;
    }
    char generator[64];
    snprintf(generator, sizeof generator, "fuzz_%s_replay", t->name);
    ug_fuzz_dictionary(stdout, dt, generator);
    return 0;
}

/* ---------------------------------------------------------------- summary */

static void summary(const replay *r)
{
    const ug_fuzz_stats *s = &r->stats;
    size_t known = 0;
    for (size_t i = 0; i < UG_FUZZ_STATS_KERNELS; i++)
        known += s->known[i];
    printf("fuzz_%s_replay: %zu inputs (%zu seeds, %zu files), %zu refused by the oracle, %zu kernel calls judged, "
           "%zu canary calls caught; no claim broken%s\n",
           r->t->name, s->inputs, r->seeds, r->files, s->rejected, s->judged, s->canary_caught,
           known > 0 ? " but the known findings below" : "");
    printf("  largest error seen per kernel (ULP, and as a fraction of the claimed bound):\n");
    for (size_t i = 0; ug_kernel_at(i) != NULL && i < UG_FUZZ_STATS_KERNELS; i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (ug_fuzz_target_has(r->t, k->op) && (s->max_ulp[i] > 0 || s->max_ratio[i] > 0))
            printf("    %-28s %-10s %12.6g ULP  %8.4g of bound\n", k->name, ug_role_name(k->role), s->max_ulp[i],
                   s->max_ratio[i]);
    }
    for (size_t i = 0; ug_kernel_at(i) != NULL && i < UG_FUZZ_STATS_KERNELS; i++)
        if (s->known[i] > 0)
            printf("  KNOWN FINDING (fuzz/known-findings.txt) seen %zu time%s: %s\n", s->known[i],
                   s->known[i] == 1 ? "" : "s", ug_kernel_at(i)->name);
}

/* ---------------------------------------------------------------- worst cases */

static void write_worst_case(FILE *out, const replay *r, size_t ki)
{
    const ug_kernel *k = ug_kernel_at(ki);
    ug_fuzz_config cfg;
    char why[256];
    ug_fuzz_case c;
    if (ug_fuzz_config_read(r->t, &cfg, why, sizeof why) != 0 ||
        ug_fuzz_decode(r->t, &cfg, r->stats.worst[ki], r->stats.worst_size[ki], &c) != 0)
        return;
    fprintf(out, "# from: fuzz/%s.c, worst input of %s\n", r->t->name, k->name);
    fprintf(out, "# %s (%s): %.6g ULP, %.4g of its claimed bound\n", k->name, ug_role_name(k->role),
            r->stats.worst_ulp[ki], r->stats.worst_ratio[ki]);
    ug_fuzz_write_wc_case(out, &c);
    ug_fuzz_case_free(&c);
}

static int write_worst(const replay *r)
{
    FILE *out = fopen(r->worst, "w");
    if (out == NULL) {
        fprintf(stderr, "fuzz_%s_replay: cannot write %s: %s\n", r->t->name, r->worst, strerror(errno));
        return 3;
    }
    for (size_t i = 0; ug_kernel_at(i) != NULL && i < UG_FUZZ_STATS_KERNELS; i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (k->role != UG_ROLE_CANARY && r->stats.worst[i] != NULL && r->stats.worst_ulp[i] > 0.5)
            write_worst_case(out, r, i);
    }
    return fclose(out) == 0 ? 0 : 3;
}

static void free_worst(replay *r)
{
    for (size_t i = 0; i < UG_FUZZ_STATS_KERNELS; i++)
        free(r->stats.worst[i]);
}

/* ---------------------------------------------------------------- simplify */

/* Whether the input breaks the claim of registry kernel ki (any kernel when ki is the
 * registry's size), without stopping. */
static int breaks(const ug_fuzz_target *t, const uint8_t *data, size_t size, size_t ki, size_t *which)
{
    ug_fuzz_stats *s = calloc(1, sizeof *s);
    if (s == NULL)
        abort();
    s->probe = 1;
    ug_fuzz_run(t, data, size, s);
    int hit = s->failed > 0 && (ki == ug_kernel_count() || s->failed_kernel == ki);
    if (which != NULL)
        *which = s->failed_kernel;
    for (size_t i = 0; i < UG_FUZZ_STATS_KERNELS; i++)
        free(s->worst[i]);
    free(s);
    return hit;
}

/* Try the input with its tail changed by edit(value); keep the change when it still
 * breaks kernel ki. */
static int try_tail(const ug_fuzz_target *t, uint8_t *data, size_t size, size_t ki, size_t from_end, uint8_t value)
{
    uint8_t old = data[size - from_end];
    data[size - from_end] = value;
    if (breaks(t, data, size, ki, NULL))
        return 1;
    data[size - from_end] = old;
    return 0;
}

/* The smallest n (from 1 up) that still breaks kernel ki. */
static void shrink_n(const ug_fuzz_target *t, uint8_t *data, size_t size, size_t ki)
{
    ug_fuzz_params p = ug_fuzz_params_read(data, size);
    for (unsigned n16 = 0; n16 < p.n; n16++) {
        uint8_t lo = data[size - UG_TAIL_N_LO], hi = data[size - UG_TAIL_N_HI];
        data[size - UG_TAIL_N_LO] = (uint8_t)n16;
        data[size - UG_TAIL_N_HI] = (uint8_t)(n16 >> 8);
        if (breaks(t, data, size, ki, NULL))
            return;
        data[size - UG_TAIL_N_LO] = lo;
        data[size - UG_TAIL_N_HI] = hi;
    }
}

/* Drop body bytes from the front of the tail while the input still breaks kernel ki. */
static size_t shrink_body(const ug_fuzz_target *t, uint8_t *data, size_t size, size_t ki)
{
    while (size > UG_FUZZ_TAIL) {
        uint8_t *shorter = malloc(size - 1);
        if (shorter == NULL)
            abort();
        memcpy(shorter, data, size - UG_FUZZ_TAIL - 1);
        memcpy(shorter + size - UG_FUZZ_TAIL - 1, data + size - UG_FUZZ_TAIL, UG_FUZZ_TAIL);
        int ok = breaks(t, shorter, size - 1, ki, NULL);
        if (ok)
            memcpy(data, shorter, size - 1);
        free(shorter);
        if (!ok)
            break;
        size--;
    }
    return size;
}

static int simplify(const ug_fuzz_target *t, const char *in, const char *out)
{
    uint8_t *data;
    size_t size, ki;
    if (read_file(in, &data, &size) != 0) {
        fprintf(stderr, "fuzz_%s_replay: %s: %s\n", t->name, in, strerror(errno));
        return 3;
    }
    if (size < UG_FUZZ_TAIL || !breaks(t, data, size, ug_kernel_count(), &ki)) {
        fprintf(stderr, "fuzz_%s_replay: %s breaks no claim (inputs shorter than the tail are kept as they are)\n",
                t->name, in);
        free(data);
        return 1;
    }
    uint8_t mode = data[size - UG_TAIL_MODE];
    try_tail(t, data, size, ki, UG_TAIL_MODE, (uint8_t)(mode & ~(3u << UG_MODE_ROWS_SHIFT)));
    mode = data[size - UG_TAIL_MODE];
    try_tail(t, data, size, ki, UG_TAIL_MODE, (uint8_t)(mode & ~(3u << UG_MODE_RED_SHIFT)));
    shrink_n(t, data, size, ki);
    size = shrink_body(t, data, size, ki);
    FILE *f = fopen(out, "wb");
    int bad = f == NULL || fwrite(data, 1, size, f) != size;
    bad |= f != NULL && fclose(f) != 0;
    printf("fuzz_%s_replay: %s: %s, %zu bytes\n", t->name, out, ug_kernel_at(ki)->name, size);
    free(data);
    return bad ? 3 : 0;
}

/* ---------------------------------------------------------------- main */

static size_t parse_count(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v > 1000000) {
        fprintf(stderr, "fuzz_%s_replay: --mutate %s: not a count up to 1000000\n", ug_fuzz_this_target.name, s);
        exit(2);
    }
    return (size_t)v;
}

int main(int argc, char **argv)
{
    const ug_fuzz_target *t = &ug_fuzz_this_target;
    replay r = {.t = t};
    int seeds = 0;
    ug_fuzz_init(t);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf(usage, t->name, t->name, t->name, t->name, t->name, t->desc);
            return 0;
        }
        if ((strcmp(a, "--make-corpus") == 0 || strcmp(a, "--make-dict") == 0 || strcmp(a, "--mutate") == 0 ||
             strcmp(a, "--worst") == 0) &&
            i + 1 == argc) {
            fprintf(stderr, "fuzz_%s_replay: %s needs a value (try --help)\n", t->name, a);
            return 2;
        }
        if (strcmp(a, "--simplify") == 0) {
            if (i + 2 >= argc) {
                fprintf(stderr, "fuzz_%s_replay: --simplify needs IN and OUT\n", t->name);
                return 2;
            }
            return simplify(t, argv[i + 1], argv[i + 2]);
        }
        if (strcmp(a, "--make-corpus") == 0)
            return make_corpus(t, argv[i + 1]);
        if (strcmp(a, "--make-dict") == 0)
            return make_dict(t, argv[i + 1]);
        if (strcmp(a, "--mutate") == 0)
            r.mutate = parse_count(argv[++i]);
        else if (strcmp(a, "--worst") == 0)
            r.worst = argv[++i];
        else if (strcmp(a, "--seeds") == 0)
            seeds = 1;
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "fuzz_%s_replay: unknown option %s (try --help)\n", t->name, a);
            return 2;
        }
    }
    if (seeds)
        ug_fuzz_seeds(t, run_seed, &r);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mutate") == 0 || strcmp(argv[i], "--worst") == 0)
            i++;
        else if (strncmp(argv[i], "--", 2) != 0)
            run_path(&r, argv[i]);
    }
    summary(&r);
    int rc = r.worst != NULL ? write_worst(&r) : 0;
    free_worst(&r);
    return rc;
}
