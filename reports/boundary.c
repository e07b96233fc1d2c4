/* Boundaries along the axes of boundary.h: probes, bisection on the integer encoding of
 * the dtype's values, monotonicity checks, the oracle's own boundary. */
#include "boundary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "families.h"
#include "jsonout.h"
#include "judge.h"
#include "measure.h"
#include "oracle.h"

static const ug_bdir dirs[] = {
    {"shift+", UG_AXIS_SHIFT, +1, "c", "x = [0, -128] + c, target 0"},
    {"shift-", UG_AXIS_SHIFT, -1, "c", "x = [0, -128] + c, target 0"},
    {"spread", UG_AXIS_SPREAD, +1, "s", "x = [0, -s], target 1"},
    {"dominance", UG_AXIS_DOMINANCE, +1, "d", "x = [d, 0 (15 times)], target 0"},
    {"length", UG_AXIS_LENGTH, +1, "n", "x = n zeros, target 0 (bce_logits: mean)"},
};

enum {
    SHIFT_LOW = -128,   /* the second entry of the shift row                       */
    DOMINANCE_N = 16,   /* row length of the dominance axis                        */
    LENGTH_VERIFY = 4,  /* monotonicity points each way on the length axis        */
    REBISECT = 8        /* new bisections below an earlier failure, at most        */
};

size_t ug_bdir_count(void) { return sizeof dirs / sizeof dirs[0]; }
const ug_bdir *ug_bdir_at(size_t i) { return i < ug_bdir_count() ? &dirs[i] : NULL; }

const ug_bdir *ug_bdir_find(const char *name)
{
    for (size_t i = 0; i < ug_bdir_count(); i++)
        if (strcmp(dirs[i].name, name) == 0)
            return &dirs[i];
    return NULL;
}

/* ---------------------------------------------------------------- codes and values */

/* A line of search: the dtype, the direction and the integer codes of its points. */
typedef struct line {
    const char *cmd;
    ug_op op;
    ug_dtype dt;
    const ug_bdir *dir;
    uint64_t start, end; /* codes of the first and last point                    */
    int violations_only; /* ug_bconfig.violations_only                            */
    size_t evals;        /* evaluations so far                                    */
} line;

/* The non-negative dtype value of encoding code (monotone in code up to max). */
static double decode(ug_dtype dt, uint64_t code)
{
    if (dt == UG_F64) {
        double d;
        memcpy(&d, &code, sizeof d);
        return d;
    }
    if (dt == UG_BF16)
        return ug_bf16_to_f32((ug_bf16){(uint16_t)code});
    uint32_t u = (uint32_t)code;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Encoding of the largest finite value; bits of one binade; binades per probe. */
static uint64_t max_code(ug_dtype dt) { return dt == UG_F64 ? 0x7fefffffffffffffu : dt == UG_F32 ? 0x7f7fffffu : 0x7f7fu; }
static unsigned probe_shift(ug_dtype dt) { return dt == UG_F64 ? 52 + 3 : dt == UG_F32 ? 23 + 1 : 7; }

static double value_of(const line *l, uint64_t code)
{
    if (l->dir->axis == UG_AXIS_LENGTH)
        return (double)code;
    return code == 0 ? 0.0 : l->dir->sign * decode(l->dt, code); /* +0 at the start */
}

static void line_init(line *l, const char *cmd, ug_op op, ug_dtype dt, const ug_bdir *d, const ug_bconfig *cfg)
{
    *l = (line){.cmd = cmd, .op = op, .dt = dt, .dir = d, .violations_only = cfg->violations_only};
    if (d->axis == UG_AXIS_LENGTH) {
        l->start = 1;
        l->end = op == UG_OP_BCE_LOGITS ? cfg->length_cap_bce : cfg->length_cap;
    } else {
        l->start = 0;
        l->end = max_code(dt);
    }
}

/* The probes: the start, every 2^k (length) or every few binades (floats), the end. */
static uint64_t *probes(const line *l, size_t *count)
{
    size_t cap = 2048, n = 0;
    uint64_t *p = ug_cli_alloc(l->cmd, cap, sizeof *p);
    uint64_t step = (uint64_t)1 << probe_shift(l->dt);
    for (uint64_t c = l->start; c < l->end && n + 1 < cap;) {
        p[n++] = c;
        c = l->dir->axis == UG_AXIS_LENGTH ? 2 * c : c + step;
    }
    p[n++] = l->end;
    *count = n;
    return p;
}

/* ---------------------------------------------------------------- points */

static ug_reduction reduction_of(const line *l)
{
    return l->op == UG_OP_BCE_LOGITS && l->dir->axis == UG_AXIS_LENGTH ? UG_RED_MEAN : UG_RED_NONE;
}

static size_t row_length(const line *l, uint64_t code)
{
    switch (l->dir->axis) {
    case UG_AXIS_DOMINANCE: return DOMINANCE_N;
    case UG_AXIS_LENGTH: return (size_t)code;
    default: return 2;
    }
}

/* Entry i of the row at axis value v (binary64; ug_batch_put rounds it once). */
static double entry(const line *l, double v, size_t i)
{
    switch (l->dir->axis) {
    case UG_AXIS_SHIFT: return (i == 0 ? 0.0 : SHIFT_LOW) + v;
    case UG_AXIS_SPREAD: return i == 0 ? 0.0 : 0.0 - v;
    case UG_AXIS_DOMINANCE: return i == 0 ? v : 0.0;
    default: return 0.0;
    }
}

typedef struct point {
    ug_batch *b;
    ug_expect e;
} point;

/* The row of l at axis value v (n on the length axis). */
static ug_batch *axis_batch(const line *l, double v)
{
    size_t n = l->dir->axis == UG_AXIS_LENGTH ? (size_t)v : row_length(l, 0);
    size_t t = l->dir->axis == UG_AXIS_SPREAD ? 1 : 0;
    int wt = l->op == UG_OP_XENT || l->op == UG_OP_XENT_GRAD;
    int wa = l->op == UG_OP_XENT_DENSE || l->op == UG_OP_BCE_LOGITS;
    ug_batch *b = ug_batch_new(l->op, l->dt, 1, n, wt, wa);
    if (b == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, l->cmd, "out of memory (a row of %zu)", n);
    for (size_t i = 0; i < n; i++) {
        ug_batch_put(l->dt, b->x, i, entry(l, v, i));
        if (wa)
            ug_batch_put(l->dt, b->aux, i, i == t ? 1.0 : 0.0);
    }
    if (wt)
        b->target[0] = (int64_t)t;
    return b;
}

static void point_init(point *p, line *l, uint64_t code)
{
    double v = value_of(l, code);
    p->b = axis_batch(l, v);
    ug_status st = ug_expect_init(&p->e, p->b, reduction_of(l));
    if (st != UG_OK)
        ug_cli_die(UG_EXIT_INTERNAL, l->cmd, "the oracle failed on %s %s, %s = %a: %s: %s", ug_op_name(l->op),
                   ug_dtype_name(l->dt), l->dir->name, v, ug_status_str(st), ug_last_error());
    l->evals++;
}

ug_batch *ug_baxis_batch(const char *cmd, ug_op op, ug_dtype dt, const ug_bdir *d, double v, ug_reduction *red)
{
    line l = {.cmd = cmd, .op = op, .dt = dt, .dir = d};
    *red = reduction_of(&l);
    return axis_batch(&l, d->axis == UG_AXIS_LENGTH ? v : ug_dtype_round(dt, v));
}

static void point_free(point *p)
{
    ug_expect_free(&p->e);
    ug_batch_free(p->b);
}

/* Whether output i's exact value is not representable: it rounds to +-inf, or to 0
 * while the exact value is not 0 (and which). */
static int lost_output(const ug_expect *e, size_t i, const char **what)
{
    const ug_exact *x = &e->exact[i];
    int over = isinf(x->rounded), under = x->rounded == 0 && !mpfr_zero_p(x->value);
    if (what != NULL && (over || under))
        *what = over ? "overflows to inf" : "underflows to 0";
    return over || under;
}

/* The outputs lost at the start of the axis (a mask of count0 flags). */
typedef struct exact_ctx {
    unsigned char *lost0;
    size_t count0;
} exact_ctx;

/* Whether e loses an output that was not lost at the start; *what says how. */
static int newly_lost(const exact_ctx *c, const ug_expect *e, const char **what)
{
    for (size_t i = 0; i < e->count; i++)
        if ((i >= c->count0 || !c->lost0[i]) && lost_output(e, i, what))
            return 1;
    return 0;
}

static void take_sample(const ug_judge_sample *js, ug_bsample *s)
{
    *s = (ug_bsample){.valid = 1, .output = js->output, .computed = js->computed, .exact = js->exact,
                      .ulp = js->ulp, .bound = js->bound, .cls = js->cls, .status = js->status, .why = js->why};
}

/* Whether k fails at p; its worst excess into s when s is not NULL. */
static int kernel_fails(const line *l, const ug_kernel *k, const point *p, ug_bsample *s)
{
    ug_judge j;
    ug_judge_init(&j, k);
    ug_status st = ug_judge_batch(&j, p->b, &p->e);
    if (st != UG_OK)
        ug_cli_die(UG_EXIT_INTERNAL, l->cmd, "judging %s on %s: %s", k->name, l->dir->name, ug_status_str(st));
    int failed = l->violations_only ? j.max_ulp >= ldexp(1.0, ug_dtype_precision(l->dt) - 1) : ug_judge_failed(&j);
    if (failed && s != NULL)
        take_sample(&j.excess, s);
    ug_judge_free(&j);
    return failed;
}

/* ---------------------------------------------------------------- bisection */

typedef int (*pred_fn)(line *l, const void *ctx, uint64_t code);

/* lo does not satisfy pred, hi does: the smallest code in (lo, hi] that does, assuming
 * monotonicity between them. */
static uint64_t bisect(line *l, const void *ctx, pred_fn pred, uint64_t lo, uint64_t hi)
{
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (pred(l, ctx, mid))
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

static int pred_kernel(line *l, const void *ctx, uint64_t code)
{
    point p;
    point_init(&p, l, code);
    int failed = kernel_fails(l, ctx, &p, NULL);
    point_free(&p);
    return failed;
}

static int pred_exact(line *l, const void *ctx, uint64_t code)
{
    point p;
    point_init(&p, l, code);
    int lost = newly_lost(ctx, &p.e, NULL);
    point_free(&p);
    return lost;
}

/* ---------------------------------------------------------------- one line of search */

/* The oracle's boundary: the first point that loses an output not lost at the start
 * (lost[i]: whether probe i does). */
static void exact_boundary(line *l, const exact_ctx *ctx, const uint64_t *pr, const unsigned char *lost, size_t np,
                           ug_bresult *r)
{
    size_t i = 1;
    while (i < np && !lost[i])
        i++;
    r->exact_kind = UG_B_NEVER;
    if (i == np)
        return;
    uint64_t b = bisect(l, ctx, pred_exact, pr[i - 1], pr[i]);
    point p;
    point_init(&p, l, b);
    newly_lost(ctx, &p.e, &r->exact_what);
    point_free(&p);
    r->exact_kind = UG_B_FOUND;
    r->exact_at = value_of(l, b);
}

static void contradiction(ug_bresult *r, const line *l, uint64_t code, int passes)
{
    if (!r->monotone)
        return;
    r->monotone = 0;
    r->counter = value_of(l, code);
    r->counter_passes = passes;
}

/* Points at 2, 4, 8, ... codes below the boundary b, above lo, must pass: the first that
 * fails, or 0 when none does. */
static uint64_t fails_below(line *l, const ug_kernel *k, uint64_t lo, uint64_t b)
{
    int limit = l->dir->axis == UG_AXIS_LENGTH ? LENGTH_VERIFY : 64;
    for (uint64_t step = 2; step < b - lo && limit-- > 0; step *= 2)
        if (pred_kernel(l, k, b - step))
            return b - step;
    return 0;
}

/* Points at 1, 2, 4, ... codes above the boundary b, below hi, must fail. */
static void verify_above(line *l, const ug_kernel *k, uint64_t b, uint64_t hi, ug_bresult *r)
{
    int limit = l->dir->axis == UG_AXIS_LENGTH ? LENGTH_VERIFY : 64;
    for (uint64_t step = 1; step < hi - b && limit-- > 0 && r->monotone; step *= 2)
        if (!pred_kernel(l, k, b + step))
            contradiction(r, l, b + step, 1);
}

/* Bisect (lo, hi] to a boundary; while a point below it fails, the failure is not
 * monotone: note the point before the boundary (it passes, after a failure) and bisect
 * again below the earlier failure, at most REBISECT times. */
static uint64_t find_boundary(line *l, const ug_kernel *k, uint64_t lo, uint64_t hi, ug_bresult *r)
{
    uint64_t b = bisect(l, k, pred_kernel, lo, hi);
    for (int round = 0; round < REBISECT; round++) {
        uint64_t c = fails_below(l, k, lo, b);
        if (c == 0)
            break;
        contradiction(r, l, b - 1, 1);
        b = bisect(l, k, pred_kernel, lo, c);
    }
    verify_above(l, k, b, hi, r);
    return b;
}

static void sample_at(line *l, const ug_kernel *k, uint64_t code, ug_bsample *s)
{
    point p;
    point_init(&p, l, code);
    kernel_fails(l, k, &p, s);
    point_free(&p);
}

/* One kernel's line, from its pass/fail at the probes. */
static void kernel_boundary(line *l, const ug_kernel *k, const uint64_t *pr, const unsigned char *fail, size_t np,
                            ug_bresult *r)
{
    size_t before = l->evals, f = 0;
    while (f < np && !fail[f])
        f++;
    r->k = k;
    r->monotone = 1;
    r->end = value_of(l, pr[np - 1]);
    if (f == np) {
        r->kind = UG_B_NEVER;
    } else if (f == 0) {
        r->kind = UG_B_ORIGIN;
        r->at = value_of(l, pr[0]);
        sample_at(l, k, pr[0], &r->sample);
    } else {
        uint64_t b = find_boundary(l, k, pr[f - 1], pr[f], r);
        r->kind = UG_B_FOUND;
        r->at = value_of(l, b);
        r->last_pass = value_of(l, b - 1);
        sample_at(l, k, b, &r->sample);
    }
    for (size_t j = f + 1; j < np && r->monotone; j++)
        if (!fail[j])
            contradiction(r, l, pr[j], 1);
    r->evals = l->evals - before;
}

/* Every kernel of one op and dtype (ks[idx[0..count)]) along one direction. */
static void run_line(line *l, const ug_kernel *const *ks, const size_t *idx, size_t count, size_t di, ug_bresult *out)
{
    size_t np, nd = ug_bdir_count();
    uint64_t *pr = probes(l, &np);
    unsigned char *lost = ug_cli_alloc(l->cmd, np, 1);
    unsigned char *fail = ug_cli_alloc(l->cmd, count * np, 1);
    exact_ctx ctx = {NULL, 0};
    for (size_t i = 0; i < np; i++) {
        ug_progress(l->cmd, "%s %s %s: probe %zu/%zu", ug_op_name(l->op), ug_dtype_name(l->dt), l->dir->name, i + 1,
                    np);
        point p;
        point_init(&p, l, pr[i]);
        if (i == 0) {
            ctx.count0 = p.e.count;
            ctx.lost0 = ug_cli_alloc(l->cmd, ctx.count0, 1);
            for (size_t o = 0; o < ctx.count0; o++)
                ctx.lost0[o] = (unsigned char)lost_output(&p.e, o, NULL);
        }
        lost[i] = (unsigned char)newly_lost(&ctx, &p.e, NULL);
        for (size_t g = 0; g < count; g++)
            fail[g * np + i] = (unsigned char)kernel_fails(l, ks[idx[g]], &p, NULL);
        point_free(&p);
    }
    ug_bresult ex = {0};
    exact_boundary(l, &ctx, pr, lost, np, &ex);
    for (size_t g = 0; g < count; g++) {
        ug_bresult *r = &out[idx[g] * nd + di];
        ug_progress(l->cmd, "%s %s", ks[idx[g]]->name, l->dir->name);
        *r = (ug_bresult){.dir = l->dir};
        kernel_boundary(l, ks[idx[g]], pr, fail + g * np, np, r);
        r->exact_kind = ex.exact_kind, r->exact_at = ex.exact_at, r->exact_what = ex.exact_what;
    }
    free(ctx.lost0);
    free(fail);
    free(lost);
    free(pr);
}

/* The units of a run: (op and dtype group, direction). */
typedef struct brun {
    const char *cmd;
    const ug_kernel *const *ks;
    const ug_bconfig *cfg;
    ug_bresult *out;
    size_t *idx;      /* the groups' kernels, group after group                   */
    size_t *first;    /* unit u: its group's kernels are idx[first[u] .. + count[u]) */
    size_t *count;
    size_t *dir;
    size_t nunits;
} brun;

static void line_unit(void *ctx, size_t u)
{
    brun *b = ctx;
    const ug_kernel *k0 = b->ks[b->idx[b->first[u]]];
    line l;
    line_init(&l, b->cmd, k0->op, k0->dtype, &dirs[b->dir[u]], b->cfg);
    run_line(&l, b->ks, b->idx + b->first[u], b->count[u], b->dir[u], b->out);
}

void ug_boundary_run(const char *cmd, const ug_kernel *const *ks, size_t nk, const ug_bconfig *cfg,
                     const ug_bdir *only, ug_bresult *out)
{
    size_t nd = ug_bdir_count(), all = 0, used = 0;
    brun b = {.cmd = cmd, .ks = ks, .cfg = cfg, .out = out};
    b.idx = ug_cli_alloc(cmd, nk, sizeof *b.idx);
    b.first = ug_cli_alloc(cmd, nk * nd, sizeof *b.first);
    b.count = ug_cli_alloc(cmd, nk * nd, sizeof *b.count);
    b.dir = ug_cli_alloc(cmd, nk * nd, sizeof *b.dir);
    unsigned char *done = ug_cli_alloc(cmd, nk, 1);
    memset(done, 0, nk);
    for (size_t i = 0; i < nk; i++) {
        if (done[i])
            continue;
        size_t start = used;
        for (size_t j = i; j < nk; j++)
            if (!done[j] && ks[j]->op == ks[i]->op && ks[j]->dtype == ks[i]->dtype)
                b.idx[used++] = j, done[j] = 1;
        for (size_t d = 0; d < nd; d++) {
            if (only != NULL && only != &dirs[d])
                continue;
            if (ug_split_owns(&cfg->split, all++)) {
                b.first[b.nunits] = start, b.count[b.nunits] = used - start, b.dir[b.nunits] = d;
                b.nunits++;
            }
        }
    }
    ug_par_run(cmd, cfg->split.threads, b.nunits, line_unit, &b);
    ug_progress_end();
    free(done);
    free(b.idx);
    free(b.first);
    free(b.count);
    free(b.dir);
}

/* ---------------------------------------------------------------- text */

static int decimal_digits(ug_dtype dt) { return dt == UG_F64 ? 17 : dt == UG_F32 ? 9 : 5; }

void ug_bfmt_value(char *buf, size_t size, const ug_bresult *r, double v)
{
    if (r->dir->axis == UG_AXIS_LENGTH)
        snprintf(buf, size, "%.0f (0x%llx)", v, (unsigned long long)v);
    else
        snprintf(buf, size, "%a (%.*g)", v, decimal_digits(r->k->dtype), v);
}

static void fmt_value(char *buf, size_t size, double v)
{
    if (isnan(v))
        snprintf(buf, size, "nan");
    else if (isinf(v))
        snprintf(buf, size, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, size, "%a", v);
}

void ug_bfmt_returns(char *buf, size_t size, const ug_bresult *r)
{
    const ug_bsample *s = &r->sample;
    char y[48], v[48], ulp[32], bound[32];
    if (!s->valid) {
        snprintf(buf, size, "-");
        return;
    }
    if (s->status != UG_OK) {
        snprintf(buf, size, "kernel error (%s: %s)", s->why, ug_status_str(s->status));
        return;
    }
    fmt_value(y, sizeof y, s->computed);
    fmt_value(v, sizeof v, s->exact);
    if (s->cls != UG_CMP_OK) {
        snprintf(buf, size, "%s where the exact value is %s (output %zu, %s)", y, v, s->output,
                 ug_cmp_class_name(s->cls));
        return;
    }
    ug_fmt_stat(ulp, sizeof ulp, s->ulp);
    ug_fmt_stat(bound, sizeof bound, s->bound);
    snprintf(buf, size, "%s, %s ULP from %s, bound %s (output %zu)", y, ulp, v, bound, s->output);
}

void ug_bfmt_exact(char *buf, size_t size, const ug_bresult *r)
{
    char at[96];
    if (r->exact_kind == UG_B_NEVER) {
        snprintf(buf, size, "representable on the whole axis");
        return;
    }
    ug_bfmt_value(at, sizeof at, r, r->exact_at);
    snprintf(buf, size, "%s from %s = %s", r->exact_what, r->dir->param, at);
}

void ug_boundary_print_header(FILE *f)
{
    fprintf(f, "%-26s %-9s  %s\n", "kernel", "axis", "first failure; what the kernel returns there; the exact result");
}

void ug_boundary_print(FILE *f, const ug_bresult *r)
{
    char at[96], last[96], ret[256], ex[160], ctr[96];
    ug_bfmt_returns(ret, sizeof ret, r);
    ug_bfmt_exact(ex, sizeof ex, r);
    fprintf(f, "%-26s %-9s  ", r->k->name, r->dir->name);
    if (r->kind == UG_B_NEVER) {
        ug_bfmt_value(at, sizeof at, r, r->end);
        fprintf(f, "never fails (%s up to %s); exact: %s", r->dir->param, at, ex);
    } else if (r->kind == UG_B_ORIGIN) {
        ug_bfmt_value(at, sizeof at, r, r->at);
        fprintf(f, "fails at the start, %s = %s: returns %s; exact: %s", r->dir->param, at, ret, ex);
    } else {
        ug_bfmt_value(at, sizeof at, r, r->at);
        ug_bfmt_value(last, sizeof last, r, r->last_pass);
        fprintf(f, "fails from %s = %s (passes at %s): returns %s; exact: %s", r->dir->param, at, last, ret, ex);
    }
    if (!r->monotone) {
        ug_bfmt_value(ctr, sizeof ctr, r, r->counter);
        fprintf(f, "; NOT MONOTONE: %s at %s = %s", r->counter_passes ? "passes again" : "fails before, too",
                r->dir->param, ctr);
    }
    fputc('\n', f);
}

/* ---------------------------------------------------------------- JSON */

static json_object *j_point(const ug_bresult *r, double v)
{
    if (r->dir->axis == UG_AXIS_LENGTH)
        return ug_j_size((size_t)v);
    return ug_j_value(v);
}

static const char *kind_name(ug_bkind k) { return k == UG_B_NEVER ? "never" : k == UG_B_ORIGIN ? "origin" : "found"; }

static json_object *j_sample(const ug_bsample *s)
{
    if (!s->valid)
        return NULL;
    json_object *o = json_object_new_object();
    ug_j_add(o, "kernel_status", ug_j_str(s->status == UG_OK ? "ok" : ug_status_str(s->status)));
    if (s->status != UG_OK) {
        ug_j_add(o, "kernel_error", ug_j_str(s->why));
        return o;
    }
    ug_j_add(o, "output", ug_j_size(s->output));
    ug_j_add(o, "computed", ug_j_value(s->computed));
    ug_j_add(o, "exact", ug_j_value(s->exact));
    ug_j_add(o, "ulp", ug_j_stat(s->ulp));
    ug_j_add(o, "bound", ug_j_stat(s->bound));
    ug_j_add(o, "class", ug_j_str(ug_cmp_class_name(s->cls)));
    return o;
}

json_object *ug_bresult_json(const ug_bresult *r)
{
    json_object *o = json_object_new_object(), *ex = json_object_new_object();
    ug_j_add(o, "kernel", ug_j_str(r->k->name));
    ug_j_add(o, "axis", ug_j_str(r->dir->name));
    ug_j_add(o, "param", ug_j_str(r->dir->param));
    ug_j_add(o, "kind", ug_j_str(kind_name(r->kind)));
    ug_j_add(o, "first_fail", r->kind != UG_B_NEVER ? j_point(r, r->at) : NULL);
    ug_j_add(o, "last_pass", r->kind == UG_B_FOUND ? j_point(r, r->last_pass) : NULL);
    ug_j_add(o, "end", j_point(r, r->end));
    ug_j_add(o, "returns", j_sample(&r->sample));
    ug_j_add(ex, "kind", ug_j_str(kind_name(r->exact_kind)));
    ug_j_add(ex, "at", r->exact_kind != UG_B_NEVER ? j_point(r, r->exact_at) : NULL);
    ug_j_add(ex, "what", r->exact_kind != UG_B_NEVER ? ug_j_str(r->exact_what) : NULL);
    ug_j_add(o, "exact", ex);
    ug_j_add(o, "monotone", json_object_new_boolean(r->monotone));
    ug_j_add(o, "counterexample", r->monotone ? NULL : j_point(r, r->counter));
    ug_j_add(o, "counterexample_passes", r->monotone ? NULL : json_object_new_boolean(r->counter_passes));
    ug_j_add(o, "evaluations", ug_j_size(r->evals));
    return o;
}
