/* Row analysis shared by the production and variant kernels (see row.h). */
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "row.h"

void ug__shift(double x, double m, double *hi, double *lo)
{
    if (isinf(x)) { /* a mask: exp gives exactly 0 */
        *hi = -INFINITY;
        *lo = 0;
        return;
    }
    ug__two_sum(x, -m, hi, lo);
    if (isinf(*hi)) /* |x - m| > DBL_MAX: exp is 0 and the output overflows anyway */
        *lo = 0;
}

double ug__exp_shifted(double hi, double lo)
{
    /* exp(hi + lo) = exp(hi) (1 + lo + lo^2/2 + ...), |lo| <= 2^-53 |hi|; the dropped
     * lo^2/2 is below 2^-106 relative for |hi| <= 746 (beyond, exp(hi) = 0). */
    double E = exp(hi);
    return fma(E, lo, E);
}

void ug__row_analyse(ug__row *row, const ug_problem *p, ug_dtype dt, size_t r, double *xbuf, double *e,
                     int with_exp)
{
    size_t n = p->n;
    int nan = 0;
    size_t ninf = 0, nmasked = 0;
    for (size_t j = 0; j < n; j++) {
        double v = ug__load(dt, p->x, r * n + j);
        xbuf[j] = v;
        nan |= isnan(v);
        ninf += v == INFINITY;
        nmasked += v == -INFINITY;
    }
    row->dt = dt;
    row->n = n;
    row->x = xbuf;
    row->e = e;
    row->ninf = ninf;
    row->nfinite = n - ninf - nmasked; /* NaN rows never use it */
    if (nan) {
        row->kind = UG__ROW_NAN;
        return;
    }
    if (ninf > 0) {
        row->kind = UG__ROW_POSINF;
        return;
    }
    if (nmasked == n) {
        row->kind = UG__ROW_MASKED;
        return;
    }
    row->kind = UG__ROW_FINITE;
    if (!with_exp)
        return;
    size_t imax = 0;
    for (size_t j = 1; j < n; j++)
        if (xbuf[j] > xbuf[imax])
            imax = j;
    double m = xbuf[imax];
    ug__nsum acc = {0, 0};
    for (size_t j = 0; j < n; j++) {
        double hi, lo;
        if (j == imax) {
            e[j] = 1;
            continue;
        }
        ug__shift(xbuf[j], m, &hi, &lo);
        e[j] = ug__exp_shifted(hi, lo);
        ug__nsum_add(&acc, e[j]);
    }
    row->m = m;
    row->imax = imax;
    row->sp = ug__nsum_value(&acc);
    /* log1p: glibc's error <= 1 ulp (libm-test-ulps); sp's relative error eps changes
     * log1p(sp) by at most eps * sp/(1+sp) <= eps * log1p(sp) (ERROR-ANALYSIS.md §2). */
    row->L = log1p(row->sp);
}

double ug__row_sum_except(const ug__row *row, size_t skip)
{
    ug__nsum acc = {0, 0};
    for (size_t j = 0; j < row->n; j++)
        if (j != skip)
            ug__nsum_add(&acc, row->e[j]);
    return ug__nsum_value(&acc);
}

double *ug__scratch(size_t n, size_t extra)
{
    double *s = malloc((2 * n + extra) * sizeof *s);
    if (s == NULL)
        ug__fail(UG_ERR_NOMEM, "cannot allocate scratch for n = %zu", n);
    return s;
}

ug_status ug__run_rows(const ug_problem *p, ug_op op, ug_dtype dt, ug__row_body body, int with_exp)
{
    ug_status st = ug__validate(p, op, dt);
    if (st != UG_OK)
        return st;
    size_t n = p->n;
    int reduce = ug_op_has_reduction(op);
    size_t per_row = op == UG_OP_SOFTMAX || op == UG_OP_LOG_SOFTMAX || op == UG_OP_XENT_GRAD ? n : 1;
    /* a loss body writes out[0] = the loss and out[1] = a quarter of it computed without
     * overflow (ug__reduce_store_quarters) */
    size_t out_room = reduce ? 2 : per_row;
    double *s = ug__scratch(n, out_room + (reduce ? 2 * p->rows : 0));
    if (s == NULL)
        return UG_ERR_NOMEM;
    double *xbuf = s, *e = s + n, *out = s + 2 * n, *loss = out + out_room, *quarter = loss + (reduce ? p->rows : 0);
    for (size_t r = 0; r < p->rows; r++) {
        ug__row row;
        ug__row_analyse(&row, p, dt, r, xbuf, e, with_exp);
        if (reduce)
            out[1] = NAN;
        body(&row, p, r, out);
        if (reduce) {
            if (isnan(out[1])) /* the body computed no special quarter */
                out[1] = out[0] * 0.25;
            loss[r] = out[0], quarter[r] = out[1];
        } else
            for (size_t i = 0; i < per_row; i++)
                ug__store(dt, p->y, r * per_row + i, out[i]);
    }
    if (reduce)
        ug__reduce_store_quarters(p, dt, loss, quarter, p->rows);
    free(s);
    return UG_OK;
}

/* The one-pass normaliser of the online kernels (softmax.c states the contract). */
void ug__online_normaliser(const ug__row *row, double *m_out, double *sp_out)
{
    double m = -INFINITY;
    ug__nsum acc = {0, 0};
    for (size_t j = 0; j < row->n; j++) {
        double x = row->x[j], hi, lo;
        if (x == -INFINITY)
            continue;
        if (x > m) {
            /* the old max joins the rest: sp <- (sp + 1) exp(m - x); nothing before the
             * first finite entry */
            ug__shift(m, x, &hi, &lo);
            acc.s = m == -INFINITY ? 0 : (ug__nsum_value(&acc) + 1.0) * ug__exp_shifted(hi, lo);
            acc.c = 0;
            m = x;
        } else {
            ug__shift(x, m, &hi, &lo);
            ug__nsum_add(&acc, ug__exp_shifted(hi, lo));
        }
    }
    *m_out = m;
    /* The running max counted once: entries equal to the final max after it were added as
     * exp(0) = 1 terms, which is right (they are not the max term). */
    *sp_out = ug__nsum_value(&acc);
}

