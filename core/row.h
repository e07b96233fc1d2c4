/* One row of logits, widened to binary64 and analysed once: its special-value class
 * (oracle/SPECIAL.md), its max and the shifted exponentials every production and variant
 * kernel builds on.  Internal to core/.
 *
 * Error analysis (doc/ERROR-ANALYSIS.md §1): for finite x_j <= m the shift d = x_j - m is
 * split exactly as d_hi + d_lo (two-sum); e_j = fl(E + E*d_lo) with E = exp(d_hi) has
 * relative error <= u_exp + 2^-53 + 2^-106, u_exp <= 0.51 * 2^-52 being glibc's measured
 * exp error (sysdeps/ieee754/dbl-64/e_exp.c: "ULP error: 0.509").  The sum without the max
 * term, sp = sum_{j != imax} e_j, is Neumaier-compensated: relative error
 * <= max_j err(e_j) + 2^-53 + O(n 2^-106).
 */
#ifndef ULPGATE_CORE_ROW_H
#define ULPGATE_CORE_ROW_H

#include <math.h>
#include <stddef.h>

#include "ulpgate/ulpgate.h"

typedef enum ug__row_kind {
    UG__ROW_FINITE = 0, /* every entry finite or -inf, at least one finite       */
    UG__ROW_NAN,        /* a NaN somewhere: every output NaN                       */
    UG__ROW_POSINF,     /* no NaN, k >= 1 entries +inf                             */
    UG__ROW_MASKED      /* every entry -inf                                        */
} ug__row_kind;

typedef struct ug__row {
    ug__row_kind kind;
    ug_dtype dt;      /* the dtype of the problem's arrays                     */
    size_t n;
    const double *x;  /* the row, widened exactly                              */
    size_t ninf;      /* POSINF: the number k of +inf entries                  */
    size_t nfinite;   /* the number of finite entries                          */
    double m;         /* FINITE: the max                                       */
    size_t imax;      /* FINITE: the first index of the max                    */
    double *e;        /* FINITE: e[j] = exp(x_j - m); e[imax] = 1; masked -> 0 */
    double sp;        /* FINITE: sum_{j != imax} e_j, compensated              */
    double L;         /* FINITE: log1p(sp) = log sum_j exp(x_j - m)           */
} ug__row;

/* Exact split of x - m (x <= m, m finite) into hi + lo; x = -inf gives (-inf, 0);
 * an overflowing difference gives (-inf, 0). */
void ug__shift(double x, double m, double *hi, double *lo);

/* exp(hi + lo) for the split above, relative error as in the header comment. */
double ug__exp_shifted(double hi, double lo);

/* Widen row r of p->x (dtype dt) into xbuf and classify it; when with_exp, and the row is
 * FINITE, also find the max and fill e, sp and L.  e must have room for n. */
void ug__row_analyse(ug__row *row, const ug_problem *p, ug_dtype dt, size_t r, double *xbuf, double *e,
                     int with_exp);

/* A row kernel body: from the analysed row r, write the row's outputs (n of them for
 * softmax-like ops, 1 for logsumexp and the losses) as binary64 values to out. */
typedef void (*ug__row_body)(const ug__row *row, const ug_problem *p, size_t r, double *out);

/* Validate, then run body over every row and store: per_row outputs per row at
 * y[r * per_row ...], or, for ops with a reduction, one loss per row reduced by
 * ug__reduce_store.  with_exp as for ug__row_analyse. */
ug_status ug__run_rows(const ug_problem *p, ug_op op, ug_dtype dt, ug__row_body body, int with_exp);

/* The sum of e_j over j != skip (compensated), for the gradient at the target. */
double ug__row_sum_except(const ug__row *row, size_t skip);

/* Scratch for a kernel call: 2n doubles (row and exponentials) plus `extra` doubles.
 * Returns NULL (and records UG_ERR_NOMEM) when it cannot allocate. */
double *ug__scratch(size_t n, size_t extra);

/* One pass over a FINITE row: the final max m and sp = sum of exp(x_j - m) over every
 * finite entry but one occurrence of the max, rescaled as the running max grows
 * (Milakov & Gimelshein 2018).  Masked entries are skipped. */
void ug__online_normaliser(const ug__row *row, double *m, double *sp);

/* e_i / (s_hi + s_lo) with s = 1 + sp split exactly: the quotient q = fl(e/s_hi) is
 * corrected by -q s_lo/s_hi (one fma), so the only roundings are those of e_i, sp, the
 * quotient and the correction: <= err(e_i) + err(sp) + 2^-53 + 2^-105 relative. */
static inline double ug__div_sum(double e, double s_hi, double s_lo)
{
    double q = e / s_hi;
    return fma(-q, s_lo / s_hi, q);
}

/* The three dtype entry points of a row kernel: fn_f32, fn_f64, fn_bf16. */
#define UG__ROW_KERNELS(fn, op, body, with_exp)                                                 \
    ug_status fn##_f32(const ug_problem *p) { return ug__run_rows(p, op, UG_F32, body, with_exp); } \
    ug_status fn##_f64(const ug_problem *p) { return ug__run_rows(p, op, UG_F64, body, with_exp); } \
    ug_status fn##_bf16(const ug_problem *p) { return ug__run_rows(p, op, UG_BF16, body, with_exp); }

#endif
