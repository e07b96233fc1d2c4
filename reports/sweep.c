/* Sweeps of the worst ULP error against a parameter (sweep.h). */
#include "sweep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "families.h"
#include "jsonout.h"
#include "judge.h"
#include "measure.h"
#include "prng.h"

enum { SPREAD_N = 16, SPREAD_ROWS = 16, SPREAD_ROWS_QUICK = 4 };
enum { SPREAD_LO = -2, SPREAD_HI = 12, LENGTH_HI = 16, LENGTH_HI_QUICK = 12 };

typedef enum kind { K_SPREAD, K_LENGTH, K_AXIS } kind;

typedef struct maker {
    const char *cmd;
    kind kind;
    uint64_t seed;
    size_t rows;
    const ug_bdir *dir;
} maker;

/* Targets r mod n; probability rows and bce labels one-hot at the target. */
static void fill_labels(ug_batch *b)
{
    for (size_t r = 0; r < b->rows; r++) {
        size_t t = r % b->n;
        if (b->target != NULL)
            b->target[r] = (int64_t)t;
        for (size_t i = 0; b->aux != NULL && i < b->n; i++)
            ug_batch_put(b->dtype, b->aux, r * b->n + i, i == t ? 1.0 : 0.0);
    }
}

static ug_batch *random_batch(const maker *m, ug_op op, ug_dtype dt, double at, size_t p)
{
    size_t n = m->kind == K_SPREAD ? SPREAD_N : (size_t)at, rows = m->kind == K_SPREAD ? m->rows : 1;
    int wt = op == UG_OP_XENT || op == UG_OP_XENT_GRAD, wa = op == UG_OP_XENT_DENSE || op == UG_OP_BCE_LOGITS;
    ug_batch *b = ug_batch_new(op, dt, rows, n, wt, wa);
    if (b == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, m->cmd, "out of memory (%zu x %zu)", rows, n);
    uint64_t words[4] = {m->seed, ug_prng_hash_str(m->kind == K_SPREAD ? "sweep.spread" : "sweep.length"),
                         (uint64_t)dt, (uint64_t)p};
    ug_prng g;
    ug_prng_seed_words(&g, words, 4);
    for (size_t i = 0; i < rows * n; i++)
        ug_batch_put(dt, b->x, i, m->kind == K_SPREAD ? at * (ug_prng_uniform(&g) - 0.5) : ug_prng_normal(&g));
    fill_labels(b);
    return b;
}

static ug_batch *make_batch(const maker *m, ug_op op, ug_dtype dt, double at, size_t p, ug_reduction *red)
{
    if (m->kind == K_AXIS)
        return ug_baxis_batch(m->cmd, op, dt, m->dir, at, red);
    *red = UG_RED_NONE;
    return random_batch(m, op, dt, at, p);
}

/* The largest ULP error of k on (b, e): +inf with a violation or a kernel error. */
static double worst_of(const char *cmd, const ug_kernel *k, const ug_batch *b, const ug_expect *e)
{
    ug_judge j;
    ug_judge_init(&j, k);
    ug_status st = ug_judge_batch(&j, b, e);
    if (st != UG_OK)
        ug_cli_die(UG_EXIT_INTERNAL, cmd, "judging %s: %s", k->name, ug_status_str(st));
    double w = ug_judge_summary(&j).max_ulp;
    ug_judge_free(&j);
    return isnan(w) ? INFINITY : w;
}

/* One point for the kernels idx[0..count) (one op and dtype). */
static void run_point(ug_sweep *s, const maker *m, const size_t *idx, size_t count, size_t p)
{
    const ug_kernel *k0 = s->ks[idx[0]];
    ug_reduction red;
    ug_batch *b = make_batch(m, k0->op, k0->dtype, s->at[p], p, &red);
    ug_expect e;
    ug_status st = ug_expect_init(&e, b, red);
    if (st != UG_OK)
        ug_cli_die(UG_EXIT_INTERNAL, m->cmd, "the oracle failed on the %s sweep (%s %s, %s = %g): %s", s->name,
                   ug_op_name(k0->op), ug_dtype_name(k0->dtype), s->param, s->at[p], ug_status_str(st));
    for (size_t g = 0; g < count; g++) {
        s->worst[idx[g] * s->np + p] = worst_of(m->cmd, s->ks[idx[g]], b, &e);
        s->have[idx[g] * s->np + p] = 1;
    }
    ug_expect_free(&e);
    ug_batch_free(b);
}

/* The units of a sweep: (op and dtype group, point). */
typedef struct srun {
    ug_sweep *s;
    const maker *m;
    size_t *idx;               /* the groups' kernels, group after group           */
    size_t *first, *count, *p; /* unit u: idx[first[u] .. + count[u]) at point p[u] */
    size_t nunits;
} srun;

static void point_unit(void *ctx, size_t u)
{
    srun *r = ctx;
    run_point(r->s, r->m, r->idx + r->first[u], r->count[u], r->p[u]);
}

static void run(ug_sweep *s, const maker *m, const ug_split *split)
{
    size_t all = 0, used = 0, nu = s->nk * s->np;
    srun r = {.s = s, .m = m};
    r.idx = ug_cli_alloc(m->cmd, s->nk, sizeof *r.idx);
    r.first = ug_cli_alloc(m->cmd, nu, sizeof *r.first);
    r.count = ug_cli_alloc(m->cmd, nu, sizeof *r.count);
    r.p = ug_cli_alloc(m->cmd, nu, sizeof *r.p);
    unsigned char *done = ug_cli_alloc(m->cmd, s->nk, 1);
    memset(done, 0, s->nk);
    s->worst = ug_cli_alloc(m->cmd, nu, sizeof *s->worst);
    s->have = ug_cli_alloc(m->cmd, nu, 1);
    memset(s->have, 0, nu);
    for (size_t i = 0; i < nu; i++)
        s->worst[i] = NAN;
    for (size_t i = 0; i < s->nk; i++) {
        if (done[i])
            continue;
        size_t start = used;
        for (size_t j = i; j < s->nk; j++)
            if (!done[j] && s->ks[j]->op == s->ks[i]->op && s->ks[j]->dtype == s->ks[i]->dtype)
                r.idx[used++] = j, done[j] = 1;
        for (size_t p = 0; p < s->np; p++)
            if (ug_split_owns(split, all++)) {
                r.first[r.nunits] = start, r.count[r.nunits] = used - start, r.p[r.nunits] = p;
                r.nunits++;
            }
    }
    ug_progress(m->cmd, "%s sweep", s->name);
    ug_par_run(m->cmd, split != NULL ? split->threads : 1, r.nunits, point_unit, &r);
    free(done);
    free(r.idx);
    free(r.first);
    free(r.count);
    free(r.p);
}

static void init(ug_sweep *s, const char *name, const char *param, const ug_kernel *const *ks, size_t nk, size_t np)
{
    *s = (ug_sweep){.name = name, .param = param, .np = np, .nk = nk, .ks = ks};
    s->at = ug_cli_alloc(NULL, np, sizeof *s->at);
}

void ug_sweep_spread(ug_sweep *s, const char *cmd, const ug_kernel *const *ks, size_t nk, uint64_t seed, int quick,
                     const ug_split *split)
{
    init(s, "spread", "s", ks, nk, SPREAD_HI - SPREAD_LO + 1);
    for (size_t p = 0; p < s->np; p++)
        s->at[p] = ldexp(1.0, SPREAD_LO + (int)p);
    maker m = {cmd, K_SPREAD, seed, quick ? SPREAD_ROWS_QUICK : SPREAD_ROWS, NULL};
    run(s, &m, split);
}

void ug_sweep_length(ug_sweep *s, const char *cmd, const ug_kernel *const *ks, size_t nk, uint64_t seed, int quick,
                     const ug_split *split)
{
    init(s, "length", "n", ks, nk, (quick ? LENGTH_HI_QUICK : LENGTH_HI) + 1);
    for (size_t p = 0; p < s->np; p++)
        s->at[p] = ldexp(1.0, (int)p);
    maker m = {cmd, K_LENGTH, seed, 1, NULL};
    run(s, &m, split);
}

void ug_sweep_axis(ug_sweep *s, const char *cmd, const ug_kernel *const *ks, size_t nk, const ug_bdir *d, double lo,
                   double hi, size_t np, const ug_split *split)
{
    init(s, d->name, d->param, ks, nk, np);
    for (size_t p = 0; p < np; p++)
        s->at[p] = ug_dtype_round(UG_F32, lo * pow(hi / lo, np > 1 ? (double)p / (double)(np - 1) : 0.0));
    maker m = {cmd, K_AXIS, 0, 1, d};
    run(s, &m, split);
}

json_object *ug_sweep_json(const ug_sweep *s)
{
    json_object *o = json_object_new_object(), *at = json_object_new_array(), *w = json_object_new_object();
    ug_j_add(o, "name", ug_j_str(s->name));
    ug_j_add(o, "param", ug_j_str(s->param));
    for (size_t p = 0; p < s->np; p++)
        json_object_array_add(at, ug_j_value(s->at[p]));
    ug_j_add(o, "at", at);
    for (size_t k = 0; k < s->nk; k++) {
        json_object *row = json_object_new_array();
        for (size_t p = 0; p < s->np; p++)
            json_object_array_add(row, ug_j_stat(s->worst[k * s->np + p]));
        ug_j_add(w, s->ks[k]->name, row);
    }
    ug_j_add(o, "worst_ulp", w);
    return o;
}

void ug_sweep_free(ug_sweep *s)
{
    free(s->at);
    free(s->worst);
    free(s->have);
    memset(s, 0, sizeof *s);
}
