/* The property suite's shared pieces (generic.h): reports, cases, kernel calls, the
 * claimed bounds, the family rows, and the two exact measurements (4) and (5). */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "generic.h"

/* ================================================================ reports */

void prop_report_init(prop_report *r, const ug_kernel *k, const char *property)
{
    memset(r, 0, sizeof *r);
    r->k = k;
    r->property = property;
}

void prop_skip(prop_report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->skip, sizeof r->skip, fmt, ap);
    va_end(ap);
}

void prop_fail(prop_report *r, const char *fmt, ...)
{
    if (r->failed++ > 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->first, sizeof r->first, fmt, ap);
    va_end(ap);
}

void prop_seen(prop_report *r, double figure, const char *fmt, ...)
{
    if (r->worst_at[0] != '\0' && !(figure > r->worst))
        return;
    r->worst = figure;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->worst_at, sizeof r->worst_at, fmt, ap);
    va_end(ap);
}

int prop_done(const prop_report *r) { return r->probe && r->failed > 0; }

size_t prop_rows(const prop_report *r, size_t rows)
{
    if (r->big_n > 0)
        return 1;
    return r->probe && rows > 2 ? 2 : rows;
}

size_t prop_max_n(const prop_report *r, size_t max_n) { return r->big_n > 0 ? r->big_n : max_n; }
size_t prop_n(const prop_report *r) { return r->big_n; }

int prop_skip_canary(prop_report *r)
{
    if (!ug_kernel_available(r->k)) {
        prop_skip(r, "this CPU cannot run %s code (ug_kernel_available)", r->k->isa);
        return 1;
    }
    if (r->k->role != UG_ROLE_CANARY || r->probe)
        return 0;
    prop_skip(r, "a canary: props/test_canaries.c shows which property and family catch it");
    return 1;
}

int prop_skip_unless_op(prop_report *r, const ug_op *ops, size_t count, const char *why)
{
    for (size_t i = 0; i < count; i++)
        if (ops[i] == r->k->op)
            return 0;
    prop_skip(r, "does not apply to %s: %s", ug_op_name(r->k->op), why);
    return 1;
}

#define PROP_ENTRY(fn, name, property) {#property, prop_##property},
static const prop_entry prop_table[] = {PROP_ALL(PROP_ENTRY, _, _)};

size_t prop_count(void) { return sizeof prop_table / sizeof prop_table[0]; }
const prop_entry *prop_at(size_t i) { return i < prop_count() ? &prop_table[i] : NULL; }

/* ================================================================ cases */

prop_case *prop_case_new(ug_op op, ug_dtype dt, size_t rows, size_t n, int with_target, int with_aux)
{
    prop_case *c = calloc(1, sizeof *c);
    if (c == NULL)
        abort();
    *c = (prop_case){.op = op, .dt = dt, .rows = rows, .n = n};
    c->x = calloc(rows * n, sizeof *c->x);
    c->target = with_target ? calloc(rows, sizeof *c->target) : NULL;
    c->aux = with_aux ? calloc(rows * n, sizeof *c->aux) : NULL;
    if (c->x == NULL || (with_target && c->target == NULL) || (with_aux && c->aux == NULL))
        abort();
    return c;
}

void prop_case_free(prop_case *c)
{
    if (c == NULL)
        return;
    free(c->x);
    free(c->target);
    free(c->aux);
    free(c);
}

prop_case *prop_case_rows(const prop_case *c, size_t r0, size_t rows)
{
    prop_case *d = prop_case_new(c->op, c->dt, rows, c->n, c->target != NULL, c->aux != NULL);
    memcpy(d->x, c->x + r0 * c->n, rows * c->n * sizeof *d->x);
    if (c->target != NULL)
        memcpy(d->target, c->target + r0, rows * sizeof *d->target);
    if (c->aux != NULL)
        memcpy(d->aux, c->aux + r0 * c->n, rows * c->n * sizeof *d->aux);
    if (rows == 1 && c->rows > 1)
        snprintf(d->origin, sizeof d->origin, "%.80s/%zu", c->origin, r0);
    else
        memcpy(d->origin, c->origin, sizeof d->origin);
    return d;
}

prop_case *prop_case_copy(const prop_case *c) { return prop_case_rows(c, 0, c->rows); }

static int uses_probabilities(const prop_case *c)
{
    return c->aux != NULL && (c->op == UG_OP_XENT_DENSE || (c->op == UG_OP_XENT_GRAD && c->target == NULL));
}

/* The first entry of row r that is not -inf (0 when every entry is). */
static int64_t first_unmasked(const prop_case *c, size_t r)
{
    for (size_t i = 0; i < c->n; i++)
        if (!(isinf(c->x[r * c->n + i]) && c->x[r * c->n + i] < 0))
            return (int64_t)i;
    return 0;
}

prop_case *prop_case_for_op(const prop_case *c, ug_op op)
{
    int sparse = op == UG_OP_XENT || (op == UG_OP_XENT_GRAD && !uses_probabilities(c));
    int probs = op == UG_OP_XENT_DENSE || (op == UG_OP_XENT_GRAD && !sparse);
    int labels = op == UG_OP_BCE_LOGITS;
    prop_case *d = prop_case_new(op, c->dt, c->rows, c->n, sparse, probs || labels);
    memcpy(d->x, c->x, c->rows * c->n * sizeof *d->x);
    memcpy(d->origin, c->origin, sizeof d->origin);
    for (size_t r = 0; r < c->rows; r++) {
        int64_t t = c->target != NULL ? c->target[r] : first_unmasked(c, r);
        if (sparse)
            d->target[r] = t;
        for (size_t i = 0; (probs || labels) && i < c->n; i++) {
            size_t k = r * c->n + i;
            if (probs)
                d->aux[k] = uses_probabilities(c) ? c->aux[k] : (double)((int64_t)i == t);
            else
                d->aux[k] = c->op == UG_OP_BCE_LOGITS && c->aux != NULL ? c->aux[k] : 1.0;
        }
    }
    return d;
}

prop_case *prop_case_from_batch(const ug_batch *b, const char *origin)
{
    prop_case *c = prop_case_new(b->op, b->dtype, b->rows, b->n, b->target != NULL, b->aux != NULL);
    for (size_t i = 0; i < b->rows * b->n; i++) {
        c->x[i] = ug_load(b->dtype, b->x, i);
        if (b->aux != NULL)
            c->aux[i] = ug_load(b->dtype, b->aux, i);
    }
    if (b->target != NULL)
        memcpy(c->target, b->target, b->rows * sizeof *c->target);
    snprintf(c->origin, sizeof c->origin, "%s", origin);
    return c;
}

ug_batch *prop_case_to_batch(const prop_case *c)
{
    ug_batch *b = ug_batch_new(c->op, c->dt, c->rows, c->n, c->target != NULL, c->aux != NULL);
    if (b == NULL)
        abort();
    for (size_t i = 0; i < c->rows * c->n; i++) {
        ug_store(c->dt, b->x, i, c->x[i]);
        if (c->aux != NULL)
            ug_store(c->dt, b->aux, i, c->aux[i]);
    }
    if (c->target != NULL)
        memcpy(b->target, c->target, c->rows * sizeof *b->target);
    return b;
}

static int fmt_value(char *buf, size_t size, double v)
{
    if (isnan(v))
        return snprintf(buf, size, " nan");
    return snprintf(buf, size, " %a", v);
}

/* Append the n values at v to buf (at most 64 printed; the rest elided). */
static size_t fmt_values(char *buf, size_t size, size_t len, const double *v, size_t n)
{
    size_t shown = n <= 64 ? n : 48;
    for (size_t i = 0; i < shown && len < size; i++)
        len += (size_t)fmt_value(buf + len, size - len, v[i]);
    if (shown < n && len < size)
        len += (size_t)snprintf(buf + len, size - len, " ... (%zu values)", n);
    return len;
}

void prop_fmt_row(char *buf, size_t size, const prop_case *c, size_t r)
{
    size_t len = (size_t)snprintf(buf, size, "%s %s", ug_op_name(c->op), ug_dtype_name(c->dt));
    if (c->target != NULL && len < size)
        len += (size_t)snprintf(buf + len, size - len, " target=%lld", (long long)c->target[r]);
    if (len < size)
        len += (size_t)snprintf(buf + len, size - len, " :");
    len = fmt_values(buf, size, len, c->x + r * c->n, c->n);
    if (c->aux != NULL && len < size) {
        len += (size_t)snprintf(buf + len, size - len, " |");
        len = fmt_values(buf, size, len, c->aux + r * c->n, c->n);
    }
    if (len < size && c->origin[0] != '\0')
        snprintf(buf + len, size - len, "   (from %s)", c->origin);
}

size_t prop_outputs(const prop_case *c, ug_reduction red) { return ug_output_count(c->op, c->rows, c->n, red); }

/* ================================================================ calls */

/* The dtype arrays of a problem on c. */
typedef struct packed {
    void *x, *aux;
} packed;

static packed pack(const prop_case *c)
{
    size_t es = ug_dtype_size(c->dt), count = c->rows * c->n;
    packed pk = {malloc(count * es), c->aux != NULL ? malloc(count * es) : NULL};
    if (pk.x == NULL || (c->aux != NULL && pk.aux == NULL))
        abort();
    for (size_t i = 0; i < count; i++) {
        ug_store(c->dt, pk.x, i, c->x[i]);
        if (c->aux != NULL)
            ug_store(c->dt, pk.aux, i, c->aux[i]);
    }
    return pk;
}

static void unpack_free(packed *pk)
{
    free(pk->x);
    free(pk->aux);
}

static ug_problem problem_of(const prop_case *c, const packed *pk, ug_reduction red, void *y)
{
    return (ug_problem){.rows = c->rows, .n = c->n, .x = pk->x, .target = c->target, .aux = pk->aux,
                        .reduction = red, .y = y};
}

ug_status prop_call(const ug_kernel *k, const prop_case *c, ug_reduction red, unsigned char fill, double *out)
{
    size_t count = prop_outputs(c, red), es = ug_dtype_size(c->dt);
    packed pk = pack(c);
    unsigned char *y = malloc(count * es + 1);
    if (y == NULL)
        abort();
    memset(y, fill, count * es + 1);
    ug_problem p = problem_of(c, &pk, red, y);
    ug_status st = k->fn(&p);
    for (size_t i = 0; i < count; i++)
        out[i] = st == UG_OK ? ug_load(c->dt, y, i) : NAN;
    free(y);
    unpack_free(&pk);
    return st;
}

int prop_bounds(const ug_kernel *k, const prop_case *c, ug_reduction red, double *b)
{
    size_t count = prop_outputs(c, red);
    if (!(k->bound.per_cond > 0)) {
        for (size_t i = 0; i < count; i++)
            b[i] = ug_bound_at(k, c->n, 0);
        return 0;
    }
    ug_exact *e = ug_exact_new(count);
    packed pk = pack(c);
    char y;
    ug_problem p = problem_of(c, &pk, red, &y);
    ug_status st = ug_oracle_eval(c->op, c->dt, &p, e);
    for (size_t i = 0; i < count; i++)
        b[i] = st == UG_OK ? ug_bound_at(k, c->n, e[i].kappa) : INFINITY;
    ug_exact_free(e, count);
    unpack_free(&pk);
    return st == UG_OK ? 0 : -1;
}

/* ================================================================ family rows */

void prop_cases_add(prop_cases *l, prop_case *c)
{
    prop_case **items = realloc(l->items, (l->count + 1) * sizeof *items);
    if (items == NULL)
        abort();
    l->items = items;
    l->items[l->count++] = c;
}

void prop_cases_free(prop_cases *l)
{
    for (size_t i = 0; i < l->count; i++)
        prop_case_free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

/* The batches of family f for (op, dt, seed), rows capped at max_rows, as cases. */
static void family_cases(const ug_family *f, ug_op op, ug_dtype dt, uint64_t seed, size_t max_rows, size_t max_n,
                         size_t n, prop_cases *out)
{
    if (!ug_family_supports(f, dt))
        return;
    if (n > 0 && (f->row_len != NULL || f->n < 64))
        return; /* long-row mode: only the families meant to scale */
    if ((n > 0 ? n : f->n) > max_n)
        return;
    ug_batch_list l;
    size_t rows = f->rows < max_rows ? f->rows : max_rows;
    if (ug_family_generate(f, op, dt, seed, rows, n, &l) != UG_OK)
        abort();
    for (size_t i = 0; i < l.count; i++) {
        char origin[96];
        snprintf(origin, sizeof origin, "%s seed %llu batch %zu", f->name, (unsigned long long)seed, i);
        if (l.items[i]->n <= max_n)
            prop_cases_add(out, prop_case_from_batch(l.items[i], origin));
    }
    ug_batch_list_free(&l);
}

void prop_family_batches(ug_op op, ug_dtype dt, uint64_t seed, size_t max_rows, size_t max_n, size_t n,
                         prop_cases *out)
{
    memset(out, 0, sizeof *out);
    for (size_t f = 0; f < ug_family_count(); f++)
        family_cases(ug_family_at(f), op, dt, seed, max_rows, max_n, n, out);
}

void prop_family_rows(ug_op op, ug_dtype dt, uint64_t seed, size_t max_rows, size_t max_n, size_t n,
                      prop_cases *out)
{
    prop_cases batches;
    prop_family_batches(op, dt, seed, max_rows, max_n, n, &batches);
    memset(out, 0, sizeof *out);
    for (size_t b = 0; b < batches.count; b++)
        for (size_t r = 0; r < batches.items[b]->rows; r++)
            prop_cases_add(out, prop_case_rows(batches.items[b], r, 1));
    prop_cases_free(&batches);
}

/* ================================================================ measurements */

void prop_ulp_upper(mpfr_t u, ug_dtype dt, double y, double b)
{
    int p = ug_dtype_precision(dt);
    double sigma = ug_dtype_min_subnormal(dt);
    if (!(b < ldexp(1, p - 2)) || !isfinite(y)) {
        mpfr_set_inf(u, 1);
        return;
    }
    mpfr_t den;
    mpfr_init2(den, 64);
    mpfr_set_d(den, b, MPFR_RNDU);
    mpfr_mul_2si(den, den, 1 - p, MPFR_RNDU);
    mpfr_ui_sub(den, 1, den, MPFR_RNDD);       /* 1 - b 2^(1-p), rounded down        */
    mpfr_set_d(u, b, MPFR_RNDU);
    mpfr_mul_d(u, u, sigma, MPFR_RNDU);        /* b sigma                           */
    mpfr_add_d(u, u, fabs(y), MPFR_RNDU);      /* |y| + b sigma                     */
    mpfr_mul_2si(u, u, 1 - p, MPFR_RNDU);
    mpfr_div(u, u, den, MPFR_RNDU);
    mpfr_add_d(u, u, sigma, MPFR_RNDU);        /* (3)                                */
    mpfr_clear(den);
}

void prop_allowance_add(mpfr_t acc, ug_dtype dt, double y, double b, double w)
{
    mpfr_t u;
    mpfr_init2(u, 64);
    prop_ulp_upper(u, dt, y, b);
    mpfr_mul_d(u, u, b, MPFR_RNDU);
    mpfr_mul_d(u, u, w, MPFR_RNDU);
    mpfr_add(acc, acc, u, MPFR_RNDU);
    mpfr_clear(u);
}

static void add_allowance(mpfr_t acc, ug_dtype dt, double y, double b) { prop_allowance_add(acc, dt, y, b, 1); }

/* diff / tol as a double: 0 when diff = 0, +inf when tol = 0 < diff. */
static double ratio_of(mpfr_srcptr diff, mpfr_srcptr tol)
{
    if (mpfr_zero_p(diff))
        return 0;
    if (mpfr_zero_p(tol))
        return INFINITY;
    mpfr_t q;
    mpfr_init2(q, 53);
    mpfr_div(q, diff, tol, MPFR_RNDU);
    double r = mpfr_get_d(q, MPFR_RNDU);
    mpfr_clear(q);
    return r;
}

int prop_close(ug_dtype dt, double y1, double b1, double y2, double b2, mpfr_srcptr delta, double *ratio)
{
    if (!isfinite(y1) || !isfinite(y2)) {
        int same = ug_same_bits(dt, y1, y2);
        *ratio = same ? 0 : INFINITY;
        return same;
    }
    mpfr_t diff, tol;
    mpfr_init2(diff, PROP_EXACT_PREC);
    mpfr_init2(tol, 64);
    mpfr_set_d(diff, y1, MPFR_RNDN);
    if (delta != NULL)
        mpfr_sub(diff, diff, delta, MPFR_RNDN);
    mpfr_sub_d(diff, diff, y2, MPFR_RNDN); /* exact: PROP_EXACT_PREC covers the range */
    mpfr_abs(diff, diff, MPFR_RNDN);
    mpfr_set_zero(tol, 1);
    add_allowance(tol, dt, y1, b1);
    add_allowance(tol, dt, y2, b2);
    *ratio = ratio_of(diff, tol);
    int ok = mpfr_lessequal_p(diff, tol);
    mpfr_clears(diff, tol, (mpfr_ptr)0);
    return ok;
}

int prop_sum_within(ug_dtype dt, const double *y, const double *b, size_t n, mpfr_srcptr S, double *ratio,
                    double *diff_out)
{
    mpfr_t sum, tol;
    mpfr_init2(sum, PROP_EXACT_PREC);
    mpfr_init2(tol, 64);
    mpfr_set_zero(sum, 1);
    mpfr_set_zero(tol, 1);
    int finite = 1;
    for (size_t i = 0; i < n; i++) {
        finite &= isfinite(y[i]) != 0;
        mpfr_add_d(sum, sum, y[i], MPFR_RNDN); /* exact */
        add_allowance(tol, dt, y[i], b[i]);
    }
    mpfr_sub(sum, sum, S, MPFR_RNDN);
    if (diff_out != NULL)
        *diff_out = mpfr_get_d(sum, MPFR_RNDN);
    mpfr_abs(sum, sum, MPFR_RNDN);
    *ratio = finite ? ratio_of(sum, tol) : INFINITY;
    int ok = finite && mpfr_lessequal_p(sum, tol);
    mpfr_clears(sum, tol, (mpfr_ptr)0);
    return ok;
}

int prop_add_exact(ug_dtype dt, double x, double c)
{
    if (!isfinite(x))
        return 1;
    mpfr_t s;
    mpfr_init2(s, PROP_EXACT_PREC);
    mpfr_set_d(s, x, MPFR_RNDN);
    mpfr_add_d(s, s, c, MPFR_RNDN);
    int exact = mpfr_cmp_d(s, ug_oracle_round(s, dt)) == 0;
    mpfr_clear(s);
    return exact;
}

/* ================================================================ rows */

int prop_is_mask(double v) { return isinf(v) && signbit(v); }

prop_row_kind prop_row_kind_of(const double *x, size_t n)
{
    size_t masked = 0, posinf = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]))
            return PROP_ROW_NAN;
        posinf += isinf(x[i]) && !signbit(x[i]);
        masked += prop_is_mask(x[i]);
    }
    return posinf > 0 ? PROP_ROW_POSINF : masked == n ? PROP_ROW_MASKED : PROP_ROW_FINITE;
}

void prop_each_row(const ug_kernel *k, prop_report *r, uint64_t seed, size_t max_rows, size_t max_n,
                   prop_row_check check)
{
    prop_cases rows;
    prop_family_rows(k->op, k->dtype, seed, prop_rows(r, max_rows), prop_max_n(r, max_n), prop_n(r), &rows);
    for (size_t i = 0; i < rows.count && !prop_done(r); i++) {
        const prop_case *c = rows.items[i];
        size_t count = prop_outputs(c, UG_RED_NONE);
        double *y = malloc(count * sizeof *y), *b = malloc(count * sizeof *b);
        if (y == NULL || b == NULL)
            abort();
        ug_status st = prop_call(k, c, UG_RED_NONE, 0xff, y);
        if (st != UG_OK) {
            char row[3072];
            prop_fmt_row(row, sizeof row, c, 0);
            prop_fail(r, "status %d (%s) on a valid row: %s", st, ug_status_str(st), row);
        } else if (prop_bounds(k, c, UG_RED_NONE, b) == 0) {
            check(k, r, c, y, b);
        }
        free(y);
        free(b);
    }
    prop_cases_free(&rows);
}

double *prop_run_case(const ug_kernel *k, prop_report *r, const prop_case *c, ug_reduction red, double **b)
{
    size_t count = prop_outputs(c, red);
    double *y = malloc(count * sizeof *y);
    if (y == NULL)
        abort();
    char row[3072];
    ug_status st = prop_call(k, c, red, 0xff, y);
    if (st != UG_OK) {
        prop_fmt_row(row, sizeof row, c, 0);
        prop_fail(r, "status %d (%s) on a valid case (%zu rows, reduction %s); row 0: %s", st, ug_status_str(st),
                  c->rows, ug_reduction_name(red), row);
        free(y);
        return NULL;
    }
    if (b == NULL)
        return y;
    *b = malloc(count * sizeof **b);
    if (*b == NULL)
        abort();
    if (prop_bounds(k, c, red, *b) != 0) {
        prop_fmt_row(row, sizeof row, c, 0);
        prop_fail(r, "the oracle refused the case (reduction %s); row 0: %s", ug_reduction_name(red), row);
        free(y);
        free(*b);
        *b = NULL;
        return NULL;
    }
    return y;
}
