/* The harness every fuzz target shares (harness.h): settings, one input end to end. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "feedback.h"
#include "finding.h"
#include "harness.h"
#include "known.h"
#include "../reports/plugin.h"

enum { UG_FUZZ_DEFAULT_MAX_N = 64, UG_FUZZ_LIMIT_N = 65536 };

int ug_fuzz_target_has(const ug_fuzz_target *t, ug_op op)
{
    return (unsigned)op < UG_OP_COUNT && (t->ops & UG_FUZZ_OP(op)) != 0;
}

size_t ug_fuzz_kernel_index(const ug_kernel *k)
{
    size_t i = 0;
    while (ug_kernel_at(i) != NULL && ug_kernel_at(i) != k)
        i++;
    return i;
}

uint64_t ug_fuzz_hash(const uint8_t *data, size_t size)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3u;
    return h;
}

/* ---------------------------------------------------------------- settings */

static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

/* A size from the environment in [1, UG_FUZZ_LIMIT_N]; def when unset. */
static int env_size(const char *name, size_t def, size_t *out, char *why, size_t whysize)
{
    const char *v = getenv(name);
    *out = def;
    if (v == NULL || v[0] == '\0')
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < 1 || n > UG_FUZZ_LIMIT_N) {
        snprintf(why, whysize, "%s=%s: not a row length in [1, %d]", name, v, UG_FUZZ_LIMIT_N);
        return -1;
    }
    *out = (size_t)n;
    return 0;
}

static int read_guide(ug_fuzz_config *c, char *why, size_t whysize)
{
    const char *g = getenv("UG_FUZZ_GUIDE");
    c->guide = UG_GUIDE_ERROR;
    if (g == NULL || g[0] == '\0' || strcmp(g, "error") == 0)
        return 0;
    if (strcmp(g, "counters") == 0)
        c->guide = UG_GUIDE_COUNTERS;
    else if (strcmp(g, "coverage") == 0)
        c->guide = UG_GUIDE_COVERAGE;
    else {
        snprintf(why, whysize, "UG_FUZZ_GUIDE=%s: not error, counters or coverage", g);
        return -1;
    }
    return 0;
}

static int read_kernel(const ug_fuzz_target *t, ug_fuzz_config *c, char *why, size_t whysize)
{
    const char *name = getenv("UG_FUZZ_KERNEL");
    c->only = NULL;
    if (name == NULL || name[0] == '\0')
        return 0;
    c->only = ug_kernel_find(name);
    if (c->only == NULL) {
        snprintf(why, whysize, "UG_FUZZ_KERNEL=%s: no such kernel (see ulpgate list)", name);
        return -1;
    }
    if (!ug_fuzz_target_has(t, c->only->op)) {
        snprintf(why, whysize, "UG_FUZZ_KERNEL=%s: a %s kernel, not one of fuzz target %s's ops", name,
                 ug_op_name(c->only->op), t->name);
        return -1;
    }
    return 0;
}

int ug_fuzz_config_read(const ug_fuzz_target *t, ug_fuzz_config *c, char *why, size_t whysize)
{
    memset(c, 0, sizeof *c);
    c->strict = env_flag("UG_FUZZ_STRICT");
    c->quiet = env_flag("UG_FUZZ_QUIET");
    c->out_dir = getenv("UG_FUZZ_OUT");
    if (c->out_dir == NULL || c->out_dir[0] == '\0')
        c->out_dir = ".";
    if (read_kernel(t, c, why, whysize) != 0 || read_guide(c, why, whysize) != 0)
        return -1;
    if (env_size("UG_FUZZ_MAX_N", UG_FUZZ_DEFAULT_MAX_N, &c->max_n, why, whysize) != 0)
        return -1;
    if (getenv("UG_FUZZ_N") == NULL || getenv("UG_FUZZ_N")[0] == '\0') {
        c->fixed_n = 0;
        return 0;
    }
    return env_size("UG_FUZZ_N", 0, &c->fixed_n, why, whysize);
}

/* UG_PLUGIN=PATH[:PATH...]: the plug-ins' kernels join the registry (reports/plugin.h),
 * once per process, before anything reads the registry.  An error exits with the
 * status `ulpgate --plugin` gives (3, 5 to 9), naming the library. */
static void load_plugins(const ug_fuzz_target *t)
{
    static int done;
    if (done)
        return;
    done = 1;
    char why[1024];
    int rc = ug_plugin_load_list(getenv("UG_PLUGIN"), why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "fuzz_%s: UG_PLUGIN: %s\n", t->name, why);
        exit(rc);
    }
}

void ug_fuzz_init(const ug_fuzz_target *t)
{
    load_plugins(t);
    ug_fuzz_config c;
    char why[256];
    if (ug_fuzz_config_read(t, &c, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz_%s: %s\n", t->name, why);
        exit(2);
    }
}

/* ---------------------------------------------------------------- one input */

static void note(ug_fuzz_stats *stats, size_t ki, const ug_judge *j, const ug_fuzz_measure *m)
{
    if (stats == NULL)
        return;
    stats->judged++;
    stats->canary_caught += j->k->role == UG_ROLE_CANARY && ug_judge_failed(j);
    if (ki >= UG_FUZZ_STATS_KERNELS)
        return;
    stats->max_ulp[ki] = m->max_ulp > stats->max_ulp[ki] ? m->max_ulp : stats->max_ulp[ki];
    stats->max_ratio[ki] = m->max_ratio > stats->max_ratio[ki] ? m->max_ratio : stats->max_ratio[ki];
}

/* One input, as decoded and evaluated once by the oracle. */
typedef struct trial {
    const ug_fuzz_target *t;
    const ug_fuzz_config *cfg;
    const ug_fuzz_case *c;
    const ug_expect *e;
    const uint8_t *data;
    size_t size;
    ug_fuzz_stats *stats;
} trial;

/* A broken claim: stop, or under a probe record it and go on.  light was judged without
 * samples (counts_only); the report needs them, so the kernel is judged again with them
 * (same batch, same oracle answer: the same counts, since a kernel is deterministic, which
 * the simd target checks of the SIMD rows). */
static void stop(const trial *tr, const ug_judge *light, size_t ki)
{
    if (tr->stats != NULL && tr->stats->probe) {
        if (tr->stats->failed++ == 0)
            tr->stats->failed_kernel = ki;
        return;
    }
    ug_judge j;
    ug_judge_init(&j, light->k);
    if (ug_judge_batch(&j, tr->c->b, tr->e) != UG_OK) /* resolves the samples' exact values */
        abort();
    if (!ug_judge_failed(&j) || j.nerrs != light->nerrs ||
        (j.nerrs > 0 && memcmp(j.errs, light->errs, j.nerrs * sizeof *j.errs) != 0)) {
        fprintf(stderr, "fuzz_%s: %s: judged twice on the same input, different results: not deterministic\n",
                tr->t->name, light->k->name);
        abort();
    }
    ug_fuzz_stop_kernel(tr->t, tr->cfg, tr->c, tr->e, &j, tr->data, tr->size);
}

/* Judge kernel ki into *m; returns 1 when a non-canary kernel broke its claim (in a known
 * way, or under a probe: otherwise the run has stopped). */
static int judge_kernel(const trial *tr, size_t ki, ug_fuzz_measure *m)
{
    const ug_kernel *k = ug_kernel_at(ki);
    ug_judge j;
    ug_judge_init(&j, k);
    j.counts_only = 1; /* samples only for a report (stop): taking them cost ~10% of an input */
    if (ug_judge_batch_defer(&j, tr->c->b, tr->e) != UG_OK)
        abort(); /* out of memory: the oracle already accepted the batch */
    *m = ug_fuzz_measure_judge(&j, tr->e, tr->c->b->n);
    if (tr->cfg->guide != UG_GUIDE_COVERAGE)
        ug_fuzz_feed_error(ki, m);
    note(tr->stats, ki, &j, m);
    int broke = ug_judge_failed(&j) && (k->role != UG_ROLE_CANARY || tr->cfg->strict);
    if (broke && (k->role == UG_ROLE_CANARY || !ug_fuzz_known(&j)))
        stop(tr, &j, ki);
    else if (broke && tr->stats != NULL && ki < UG_FUZZ_STATS_KERNELS)
        tr->stats->known[ki]++;
    ug_judge_free(&j);
    return broke && k->role != UG_ROLE_CANARY;
}

/* The input as the worst case of each kernel it gave a larger error relative to its
 * bound than any input before (only inputs on which no non-canary kernel broke its claim:
 * a worst case must pass the worst-case tests). */
static void keep_worsts(const trial *tr, const ug_fuzz_measure *m, const unsigned char *judged)
{
    ug_fuzz_stats *s = tr->stats;
    for (size_t ki = 0; ki < UG_FUZZ_STATS_KERNELS; ki++) {
        if (!judged[ki] || ug_kernel_at(ki)->role == UG_ROLE_CANARY || !(m[ki].max_ratio > s->worst_ratio[ki]))
            continue;
        uint8_t *copy = malloc(tr->size > 0 ? tr->size : 1);
        if (copy == NULL)
            abort();
        memcpy(copy, tr->data, tr->size);
        free(s->worst[ki]);
        s->worst[ki] = copy;
        s->worst_size[ki] = tr->size;
        s->worst_ratio[ki] = m[ki].max_ratio;
        s->worst_ulp[ki] = m[ki].max_ulp;
    }
}

static int sibling(const trial *tr, const ug_kernel *k)
{
    const ug_kernel *chosen = tr->c->k;
    return k->op == chosen->op && k->dtype == chosen->dtype && (tr->cfg->only == NULL || k == tr->cfg->only) &&
           ug_kernel_available(k); /* a SIMD row this CPU cannot run is skipped, as the judge does */
}

/* The chosen kernel, then every other kernel of its op and dtype (registry order). */
static void judge_all(const trial *tr)
{
    ug_fuzz_measure m[UG_FUZZ_STATS_KERNELS], spare;
    unsigned char judged[UG_FUZZ_STATS_KERNELS] = {0};
    size_t chosen = ug_fuzz_kernel_index(tr->c->k);
    int broke = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; ug_kernel_at(i) != NULL; i++) {
            if ((pass == 0) != (i == chosen) || !sibling(tr, ug_kernel_at(i)))
                continue;
            int tallied = i < UG_FUZZ_STATS_KERNELS;
            broke |= judge_kernel(tr, i, tallied ? &m[i] : &spare);
            if (tallied)
                judged[i] = 1;
        }
    if (tr->stats != NULL && !broke)
        keep_worsts(tr, m, judged);
}

int ug_fuzz_run(const ug_fuzz_target *t, const uint8_t *data, size_t size, ug_fuzz_stats *stats)
{
    ug_fuzz_config cfg;
    char why[256];
    if (ug_fuzz_config_read(t, &cfg, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz_%s: %s\n", t->name, why);
        exit(2);
    }
    ug_fuzz_case c;
    if (ug_fuzz_decode(t, &cfg, data, size, &c) != 0)
        return -1;
    if (stats != NULL)
        stats->inputs++;
    ug_expect e;
    ug_status st = ug_expect_init(&e, c.b, c.red);
    if (st == UG_OK)
        st = ug_expect_memo(&e); /* every kernel of the op is judged against e, on this thread */
    if (st == UG_ERR_NOMEM)
        abort();
    if (st == UG_ERR_LIMIT)
        ug_fuzz_stop_oracle(t, &cfg, &c, st, data, size);
    if (st == UG_OK) {
        if (cfg.guide != UG_GUIDE_COVERAGE) {
            ug_fuzz_feed_thresholds(c.b);
            ug_fuzz_feed_outputs(c.b, &e);
        }
        judge_all(&(trial){t, &cfg, &c, &e, data, size, stats});
        if (ug_fuzz_target_check != NULL)
            ug_fuzz_target_check(&c);
    } else if (stats != NULL) {
        stats->rejected++;
    }
    ug_expect_free(&e);
    ug_fuzz_case_free(&c);
    return st == UG_OK ? 0 : -1;
}
