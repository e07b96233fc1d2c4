/* The judge (judge.h): kernel against oracle, output by output, through ug_compare. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "judge.h"
#include "ora_internal.h"

enum { GUARD_BYTES = 64 };       /* checked after the outputs: a kernel must not write there */
static const unsigned char FILL = 0xff; /* y before the call: NaN in every dtype     */

/* ---------------------------------------------------------------- the oracle's answer */

ug_status ug_expect_init(ug_expect *e, const ug_batch *b, ug_reduction red)
{
    *e = (ug_expect){.batch = b, .red = red, .count = ug_output_count(b->op, b->rows, b->n, red)};
    e->exact = ug_exact_new(e->count);
    if (e->exact == NULL)
        return e->status = UG_ERR_NOMEM;
    char y; /* the oracle ignores y, but a problem without one is invalid */
    ug_problem p = ug_batch_problem(b, red, &y);
    e->status = ug_oracle_eval_lazy(b->op, b->dtype, &p, e->exact);
    if (e->status != UG_OK)
        ug_expect_free(e);
    return e->status;
}

ug_status ug_expect_memo(ug_expect *e)
{
    if (e->at_rounded != NULL)
        return UG_OK;
    e->at_rounded = malloc((e->count > 0 ? e->count : 1) * sizeof *e->at_rounded);
    if (e->at_rounded == NULL)
        return UG_ERR_NOMEM;
    for (size_t i = 0; i < e->count; i++)
        e->at_rounded[i].cls = UG_CMP_CLASS_COUNT;
    return UG_OK;
}

ug_status ug_expect_value(const ug_expect *e, size_t i)
{
    if (e->exact == NULL || i >= e->count)
        return UG_ERR_ARG;
    if (!e->exact[i].lazy)
        return UG_OK;
    char y;
    ug_problem p = ug_batch_problem(e->batch, e->red, &y);
    return ug_oracle_value(e->batch->op, e->batch->dtype, &p, e->exact, i);
}

static ug_cmp expect_compare(const ug_expect *e, size_t i, double y)
{
    const ug_exact *x = &e->exact[i];
    ug_cmp c;
    if (x->lazy && ug_compare_lazy(e->batch->dtype, y, x, &c))
        return c;
    if (ug_expect_value(e, i) != UG_OK) /* out of memory only: the row was valid */
        return (ug_cmp){UG_CMP_OK, NAN, 0};
    return ug_compare(e->batch->dtype, y, x);
}

ug_cmp ug_expect_compare(const ug_expect *e, size_t i, double y)
{
    double r = e->exact[i].rounded;
    if (e->at_rounded == NULL || memcmp(&y, &r, sizeof y) != 0)
        return expect_compare(e, i, y);
    if (e->at_rounded[i].cls == UG_CMP_CLASS_COUNT)
        e->at_rounded[i] = expect_compare(e, i, y);
    return e->at_rounded[i];
}

int ug_expect_value_2exp(const ug_expect *e, size_t i, double *m, long *exp)
{
    const ug_exact *x = &e->exact[i];
    if (!x->lazy || !ora_fast_d2exp(x, m, exp)) {
        if (ug_expect_value(e, i) != UG_OK || !mpfr_number_p(x->value) || mpfr_zero_p(x->value))
            return 0;
        mpfr_exp_t ex;
        *m = mpfr_get_d_2exp(&ex, x->value, MPFR_RNDN);
        *exp = (long)ex;
    }
    return 1;
}

void ug_expect_free(ug_expect *e)
{
    if (e->exact != NULL)
        ug_exact_free(e->exact, e->count);
    free(e->at_rounded);
    e->exact = NULL;
    e->at_rounded = NULL;
}

/* ---------------------------------------------------------------- samples */

static void sample_clear(ug_judge_sample *s)
{
    ug_batch_free(s->input);
    memset(s, 0, sizeof *s);
}

/* Where output i of a batch comes from: its row, its position in the row, or the whole
 * batch for a reduced loss. */
static void locate(const ug_batch *b, ug_reduction red, size_t i, ug_judge_sample *s)
{
    s->output = i;
    s->reduced = 0;
    switch (b->op) {
    case UG_OP_SOFTMAX:
    case UG_OP_LOG_SOFTMAX:
    case UG_OP_XENT_GRAD: s->row = i / b->n, s->col = i % b->n; return;
    case UG_OP_BCE_LOGITS:
        if (red == UG_RED_NONE) {
            s->row = i / b->n, s->col = i % b->n;
            return;
        }
        break;
    case UG_OP_XENT:
    case UG_OP_XENT_DENSE:
        if (red == UG_RED_NONE) {
            s->row = i, s->col = 0;
            return;
        }
        break;
    default: s->row = i, s->col = 0; return;
    }
    s->reduced = 1;
    s->red = red;
    s->row = 0, s->col = 0;
}

/* Record output i (or, for a kernel error, the batch's first row) into s. */
static ug_status sample_take(ug_judge_sample *s, const ug_batch *b, const ug_expect *e, size_t i, double y,
                             ug_cmp c, double bound)
{
    sample_clear(s);
    locate(b, e->red, i, s);
    s->input = s->reduced ? ug_batch_copy(b, 0, b->rows) : ug_batch_copy(b, s->row, 1);
    if (s->input == NULL)
        return UG_ERR_NOMEM;
    const ug_exact *x = &e->exact[i];
    s->computed = y;
    s->exact = x->rounded;
    /* a lazy value (a row of a softmax-like op): exact_hex is made from the sample's own
     * input when it is read (ug_judge_resolve), not for every sample taken */
    s->hex_pending = x->lazy;
    if (!x->lazy)
        mpfr_snprintf(s->exact_hex, sizeof s->exact_hex, "%Ra", x->value);
    s->ulp = c.ulp;
    s->bound = bound;
    s->kappa = x->kappa;
    s->cls = c.cls;
    s->status = UG_OK;
    return UG_OK;
}

static ug_status sample_kernel_error(ug_judge_sample *s, const ug_batch *b, ug_status st, const char *why)
{
    sample_clear(s);
    s->input = ug_batch_copy(b, 0, 1);
    s->status = st;
    s->why = why;
    s->ulp = INFINITY;
    return s->input != NULL ? UG_OK : UG_ERR_NOMEM;
}

/* ---------------------------------------------------------------- accumulation */

void ug_judge_init(ug_judge *j, const ug_kernel *k)
{
    memset(j, 0, sizeof *j);
    j->k = k;
}

void ug_judge_free(ug_judge *j)
{
    free(j->errs);
    sample_clear(&j->worst);
    sample_clear(&j->excess);
    memset(j, 0, sizeof *j);
}

static ug_status keep_error(ug_judge *j, double ulp)
{
    if (j->nerrs == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 64; /* small: the fuzzers judge rows of 16 */
        double *errs = realloc(j->errs, cap * sizeof *errs);
        if (errs == NULL)
            return UG_ERR_NOMEM;
        j->errs = errs;
        j->cap = cap;
    }
    j->errs[j->nerrs++] = ulp;
    return UG_OK;
}

/* How far over its bound an output is: +inf for a violation, ulp - bound otherwise. */
static double excess_of(ug_cmp_class cls, double ulp, double bound)
{
    return cls != UG_CMP_OK ? INFINITY : ulp - bound;
}

/* Whether an output over its bound should replace the excess sample: the first one, or
 * strictly further over than the sample (a kernel error, once taken, stays). */
static int more_excess(const ug_judge_sample *s, ug_cmp c, double bound)
{
    if (s->input == NULL)
        return 1;
    if (s->status != UG_OK)
        return 0;
    return excess_of(c.cls, c.ulp, bound) > excess_of(s->cls, s->ulp, s->bound);
}

/* F = RU_24(x) = ulp > bound: x > pred_24(F) always, so a predecessor >= bound proves
 * it; otherwise (bound within 2^-23 of F) it is decided on x itself, from the enclosure or
 * the value. */
int ug_expect_exceeds(const ug_expect *e, size_t i, double y, double ulp, double bound)
{
    if (!(ulp > bound))
        return 0;
    if (!isfinite(ulp))
        return 1;
    int ex = ilogb(ulp);
    double s = ldexp(1.0, ex - UG_ULP_BITS + 1);
    double pred = ulp == ldexp(1.0, ex) ? ulp - s / 2 : ulp - s;
    if (pred >= bound)
        return 1;
    const ug_exact *x = &e->exact[i];
    int over;
    if (x->lazy && ug_compare_over_lazy(e->batch->dtype, y, x, bound, &over))
        return over;
    if (ug_expect_value(e, i) != UG_OK) /* out of memory only: counted over */
        return 1;
    return ug_ulp_exceeds(e->batch->dtype, y, x->value, bound);
}

static ug_status judge_output(ug_judge *j, const ug_batch *b, const ug_expect *e, size_t i, double y)
{
    ug_cmp c = ug_expect_compare(e, i, y);
    double ulp = isnan(c.ulp) ? INFINITY : c.ulp;
    double bound = ug_bound_at(j->k, b->n, e->exact[i].kappa);
    ug_status st = keep_error(j, ulp);
    int over = c.cls == UG_CMP_OK && ug_expect_exceeds(e, i, y, ulp, bound);
    j->outputs++;
    j->cls[c.cls]++;
    if (c.cls == UG_CMP_OK) {
        j->sum_ulp += ulp;
        j->correct += ulp <= 0.5; /* exact: 0.5 has 24 bits, F <= 0.5 iff x <= 0.5 */
        j->faithful += c.below1;  /* the unrounded error < 1, exactly (ulp.h) */
        j->over_bound += over;
    }
    if (st == UG_OK && !j->counts_only && (j->worst.input == NULL || ulp > j->max_ulp))
        st = sample_take(&j->worst, b, e, i, y, c, bound);
    j->max_ulp = ulp > j->max_ulp ? ulp : j->max_ulp;
    if (st == UG_OK && !j->counts_only && (c.cls != UG_CMP_OK || over) && more_excess(&j->excess, c, bound))
        st = sample_take(&j->excess, b, e, i, y, c, bound);
    return st;
}

/* ---------------------------------------------------------------- running the kernel */

/* The kernel's outputs, with a guard zone after them and a copy of the inputs to check
 * that it left them alone. */
typedef struct run {
    unsigned char *y;
    size_t ybytes;
    void *x0, *aux0;
    int64_t *t0;
} run;

static void run_free(run *r)
{
    free(r->y);
    free(r->x0);
    free(r->aux0);
    free(r->t0);
}

static void *dup_bytes(const void *p, size_t bytes)
{
    void *c = p != NULL ? malloc(bytes ? bytes : 1) : NULL;
    if (c != NULL)
        memcpy(c, p, bytes);
    return c;
}

static int run_prepare(run *r, const ug_batch *b, size_t count)
{
    size_t es = ug_dtype_size(b->dtype), xbytes = b->rows * b->n * es;
    memset(r, 0, sizeof *r);
    r->ybytes = count * es;
    r->y = malloc(r->ybytes + GUARD_BYTES);
    r->x0 = dup_bytes(b->x, xbytes);
    r->aux0 = dup_bytes(b->aux, xbytes);
    r->t0 = dup_bytes(b->target, b->rows * sizeof *b->target);
    if (r->y == NULL || r->x0 == NULL || (b->aux && !r->aux0) || (b->target && !r->t0))
        return 0;
    memset(r->y, FILL, r->ybytes + GUARD_BYTES);
    return 1;
}

/* After the call: NULL when the kernel kept to its outputs, else what it did wrong. */
static const char *run_trespass(const run *r, const ug_batch *b)
{
    size_t xbytes = b->rows * b->n * ug_dtype_size(b->dtype);
    for (size_t i = 0; i < GUARD_BYTES; i++)
        if (r->y[r->ybytes + i] != FILL)
            return "overrun";
    if (memcmp(r->x0, b->x, xbytes) != 0 || (b->aux && memcmp(r->aux0, b->aux, xbytes) != 0) ||
        (b->target && memcmp(r->t0, b->target, b->rows * sizeof *b->target) != 0))
        return "input-modified";
    return NULL;
}

static ug_status kernel_error(ug_judge *j, const ug_batch *b, ug_status st, const char *why)
{
    j->kernel_errors++;
    j->max_ulp = INFINITY;
    if (j->counts_only || (j->excess.input != NULL && j->excess.status != UG_OK))
        return UG_OK; /* keep the first kernel error */
    return sample_kernel_error(&j->excess, b, st, why);
}

static ug_status judge_against(ug_judge *j, const ug_batch *b, const ug_expect *e)
{
    run r;
    if (!run_prepare(&r, b, e->count)) {
        run_free(&r);
        return UG_ERR_NOMEM;
    }
    ug_problem p = ug_batch_problem(b, e->red, r.y);
    ug_status ks = j->k->fn(&p);
    const char *why = ks != UG_OK ? "status" : run_trespass(&r, b);
    ug_status st = UG_OK;
    j->batches++;
    if (why != NULL)
        st = kernel_error(j, b, ks != UG_OK ? ks : UG_ERR_ARG, why);
    for (size_t i = 0; why == NULL && st == UG_OK && i < e->count; i++)
        st = judge_output(j, b, e, i, ug_batch_get(b->dtype, r.y, i));
    run_free(&r);
    return st;
}

/* exact_hex of a sample whose value was lazy: the MPFR oracle on its input (one row, the
 * output at col; or every row under the sample's reduction, one output). */
static ug_status sample_resolve(ug_judge_sample *s)
{
    if (!s->hex_pending || s->input == NULL)
        return UG_OK;
    const ug_batch *b = s->input;
    ug_reduction red = s->reduced ? s->red : UG_RED_NONE;
    size_t count = ug_output_count(b->op, b->rows, b->n, red);
    ug_exact *e = ug_exact_new(count);
    if (e == NULL)
        return UG_ERR_NOMEM;
    char y;
    ug_problem p = ug_batch_problem(b, red, &y);
    ug_status st = ug_oracle_eval(b->op, b->dtype, &p, e);
    if (st == UG_OK) {
        mpfr_snprintf(s->exact_hex, sizeof s->exact_hex, "%Ra", e[s->reduced ? 0 : s->col].value);
        s->hex_pending = 0;
    }
    ug_exact_free(e, count);
    return st;
}

ug_status ug_judge_resolve(ug_judge *j)
{
    ug_status st = sample_resolve(&j->worst);
    return st != UG_OK ? st : sample_resolve(&j->excess);
}

ug_status ug_judge_batch(ug_judge *j, const ug_batch *b, const ug_expect *e)
{
    ug_status st = ug_judge_batch_defer(j, b, e);
    return st != UG_OK ? st : ug_judge_resolve(j);
}

ug_status ug_judge_batch_defer(ug_judge *j, const ug_batch *b, const ug_expect *e)
{
    if (b->op != j->k->op || b->dtype != j->k->dtype || (e != NULL && e->batch != b))
        return UG_ERR_ARG;
    if (!ug_kernel_available(j->k)) /* a SIMD row this CPU cannot run: nothing judged */
        return UG_OK;
    if (e != NULL)
        return e->status != UG_OK ? e->status : judge_against(j, b, e);
    ug_expect own;
    ug_status st = ug_expect_init(&own, b, UG_RED_NONE);
    if (st == UG_OK)
        st = judge_against(j, b, &own);
    ug_expect_free(&own);
    return st;
}

ug_status ug_judge_list(ug_judge *j, const ug_batch_list *l, const ug_expect *e)
{
    ug_status st = UG_OK;
    for (size_t i = 0; st == UG_OK && i < l->count; i++)
        st = ug_judge_batch_defer(j, l->items[i], e != NULL ? &e[i] : NULL);
    return st != UG_OK ? st : ug_judge_resolve(j);
}

/* ---------------------------------------------------------------- statistics */

static int cmp_err(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest error e such that at least num/den of the errors are <= e,
 * i.e. sorted[ceil(count * num / den) - 1], in integers. */
static double rank(const double *sorted, size_t count, size_t num, size_t den)
{
    size_t k = (count * num + den - 1) / den;
    return sorted[k > 0 ? k - 1 : 0];
}

ug_judge_stats ug_judge_summary(const ug_judge *j)
{
    ug_judge_stats s = {0};
    s.max_ulp = j->kernel_errors > 0 ? INFINITY : 0;
    if (j->nerrs == 0)
        return s;
    double *sorted = malloc(j->nerrs * sizeof *sorted);
    if (sorted == NULL)
        return s;
    memcpy(sorted, j->errs, j->nerrs * sizeof *sorted);
    qsort(sorted, j->nerrs, sizeof *sorted, cmp_err);
    size_t ok = j->cls[UG_CMP_OK];
    s.outputs = j->outputs;
    s.max_ulp = j->max_ulp;
    s.mean_ulp = ok > 0 ? j->sum_ulp / (double)ok : 0;
    s.p50 = rank(sorted, j->nerrs, 50, 100);
    s.p99 = rank(sorted, j->nerrs, 99, 100);
    s.p999 = rank(sorted, j->nerrs, 999, 1000);
    s.pct_correct = 100.0 * (double)j->correct / (double)j->outputs;
    s.pct_faithful = 100.0 * (double)j->faithful / (double)j->outputs;
    free(sorted);
    return s;
}

size_t ug_judge_violations(const ug_judge *j)
{
    size_t v = 0;
    for (int c = 0; c < UG_CMP_CLASS_COUNT; c++)
        v += c != UG_CMP_OK ? j->cls[c] : 0;
    return v;
}

int ug_judge_failed(const ug_judge *j)
{
    return j->over_bound > 0 || ug_judge_violations(j) > 0 || j->kernel_errors > 0;
}

/* ---------------------------------------------------------------- identity */

static int same_d(double a, double b) { return isnan(a) ? isnan(b) : memcmp(&a, &b, sizeof a) == 0; }

static int same_sample(const ug_judge_sample *a, const ug_judge_sample *b)
{
    return (a->input == NULL) == (b->input == NULL) && (a->input == NULL || ug_batch_same(a->input, b->input)) &&
           a->output == b->output && a->row == b->row && a->col == b->col && a->reduced == b->reduced &&
           same_d(a->computed, b->computed) && same_d(a->exact, b->exact) && strcmp(a->exact_hex, b->exact_hex) == 0 &&
           same_d(a->ulp, b->ulp) && same_d(a->bound, b->bound) && same_d(a->kappa, b->kappa) && a->cls == b->cls &&
           a->status == b->status && a->why == b->why && a->hex_pending == b->hex_pending;
}

int ug_judge_same(const ug_judge *a, const ug_judge *b)
{
    if (a->k != b->k || a->batches != b->batches || a->outputs != b->outputs || a->over_bound != b->over_bound ||
        a->correct != b->correct || a->faithful != b->faithful || a->kernel_errors != b->kernel_errors ||
        !same_d(a->max_ulp, b->max_ulp) || !same_d(a->sum_ulp, b->sum_ulp) || a->nerrs != b->nerrs)
        return 0;
    for (int c = 0; c < UG_CMP_CLASS_COUNT; c++)
        if (a->cls[c] != b->cls[c])
            return 0;
    for (size_t i = 0; i < a->nerrs; i++)
        if (!same_d(a->errs[i], b->errs[i]))
            return 0;
    return same_sample(&a->worst, &b->worst) && same_sample(&a->excess, &b->excess);
}
