/* One row of logits, widened to binary64 and analysed once: its special-value class
 * (oracle/SPECIAL.md), its max and the shifted exponentials every production and variant
 * kernel builds on.  Internal to core/.
 *
 * The working format (doc/ERROR-ANALYSIS.md §0) is ug__wide = long double, the x87
 * extended format on x86-64: a 64-bit significand (u_w = 2^-64) and an exponent range
 * down to 2^-16382, so that no exponential a binary64 output depends on is subnormal
 * there.  Every kernel body computes in it and rounds once on store.
 *
 * Error analysis (doc/ERROR-ANALYSIS.md §1): for finite x_j <= m the shift d = x_j - m is
 * split exactly as d_hi + d_lo (two-sum); e_j = E + E*d_lo with E = exp(d_hi):
 *   f64 rows   E = ug__exp_neg_wide(d_hi), e_j in ug__wide: relative error <= 4.04 u_w
 *              (budgeted as 10.01 u_w, the figure for glibc's expl);
 *   f32, bf16  E = exp(d_hi) (binary64, glibc <= 0.51 ulp): relative error <= 2.03u,
 *              u = 2^-53, which their one rounding to 24 or 8 bits does not see.
 * The sum without the max term, sp = sum_{j != imax} e_j, is Neumaier-compensated in
 * ug__wide: relative error <= err(e) + u_w + 2n u_w^2.
 */
#ifndef ULPGATE_CORE_ROW_H
#define ULPGATE_CORE_ROW_H

#include <float.h>
#include <math.h>
#include <stddef.h>

#include "ulpgate/ulpgate.h"

/* The analysis needs at least 64 significand bits and an exponent range reaching far below
 * binary64's (x87 extended on x86-64, binary128 on aarch64 and others).  A platform whose
 * long double is binary64 would silently void the f64 claims: refuse to build there. */
#if LDBL_MANT_DIG < 64 || LDBL_MIN_EXP > -16000
#error "core/row.h: the f64 kernels need a long double with >= 64 significand bits and a wide exponent range"
#endif

typedef long double ug__wide;

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
    ug__wide *e;      /* FINITE: e[j] = exp(x_j - m); e[imax] = 1; masked -> 0 */
    ug__wide *work;   /* n values of scratch a kernel body may use             */
    ug__wide sp;      /* FINITE: sum_{j != imax} e_j, compensated              */
    ug__wide L;       /* FINITE: log1p(sp) = log sum_j exp(x_j - m)           */
} ug__row;

/* Exact split of x - m (x <= m, m finite) into hi + lo; x = -inf gives (-inf, 0);
 * an overflowing difference gives (-inf, 0). */
void ug__shift(double x, double m, double *hi, double *lo);

/* exp(hi + lo) for the split above in binary64: relative error <= 2.03u (glibc's exp,
 * one fma).  The variants and canaries use it. */
double ug__exp_shifted(double hi, double lo);

/* exp(x) for x <= 0 (or NaN) in the working format: k = round(x 64/ln2), a 64-entry table of
 * 2^(j/64) and a degree-7 Taylor polynomial (constants: core/wide_exp_data.h, made by
 * scripts/gen-wide-exp-table).  Relative error <= 2.03 u_w for x >= -11354 (proof:
 * ERROR-ANALYSIS.md §0; measured 1.95 u_w against MPFR on 10^6 arguments); below, an
 * absolute error under 2^-16382, and 0 below -11400 and at -inf.  About 4 times faster
 * than glibc's x87 expl, whose bound (<= 1 ulp, 2 u_w) it nearly matches. */
ug__wide ug__exp_neg_wide(double x);

/* exp(hi + lo) in the working precision of dtype dt: ug__exp_neg_wide for f64 (relative
 * error <= 4.04 u_w; the analysis budgets 10.01 u_w), ug__exp_shifted otherwise (<= 2.03u). */
ug__wide ug__exp_wide(ug_dtype dt, double hi, double lo);

/* log1p(s) in the working precision of dtype dt: log1pl for f64 (<= 8 u_w), log1p of s
 * rounded to binary64 otherwise (<= 2u + u). */
ug__wide ug__log1p_wide(ug_dtype dt, ug__wide s);

/* Widen row r of p->x (dtype dt) into xbuf and classify it; when with_exp, and the row is
 * FINITE, also find the max and fill e, sp and L.  e and work must have room for n. */
void ug__row_analyse(ug__row *row, const ug_problem *p, ug_dtype dt, size_t r, double *xbuf, ug__wide *e,
                     ug__wide *work, int with_exp);

/* A row kernel body: from the analysed row r, write the row's outputs (n of them for
 * softmax-like ops, 1 for logsumexp and the losses) in the working format to out; the
 * caller rounds each once to the dtype. */
typedef void (*ug__row_body)(const ug__row *row, const ug_problem *p, size_t r, ug__wide *out);

/* Validate, then run body over every row and store: per_row outputs per row at
 * y[r * per_row ...], or, for ops with a reduction, one loss per row reduced by
 * ug__reduce_store_wide.  with_exp as for ug__row_analyse. */
ug_status ug__run_rows(const ug_problem *p, ug_op op, ug_dtype dt, ug__row_body body, int with_exp);

/* The first index of the max of x[0..n) (NaN-free, n >= 1). */
size_t ug__row_argmax(const double *x, size_t n);

/* The sum of e_j over j != skip (compensated), for the gradient at the target. */
ug__wide ug__row_sum_except(const ug__row *row, size_t skip);

/* Neumaier's compensated sum in the working format (internal.h has the binary64 one). */
typedef struct ug__wsum { ug__wide s, c; } ug__wsum;

static inline void ug__wsum_add(ug__wsum *acc, ug__wide v)
{
    ug__wide t = acc->s + v;
    int big = fabsl(acc->s) >= fabsl(v);
    acc->c += big ? (acc->s - t) + v : (v - t) + acc->s;
    acc->s = t;
}

static inline ug__wide ug__wsum_value(const ug__wsum *acc) { return isfinite(acc->s) ? acc->s + acc->c : acc->s; }

/* Round a working-format value once to dtype dt and store it at a[i] (bf16 goes through
 * binary64: a second rounding 2^-45 ulp_bf16 wide, far below the kernels' own error). */
void ug__store_wide(ug_dtype dt, void *a, size_t i, ug__wide v);

/* A finished loss vector of the loss op in the working format to p->y with p->reduction
 * applied: none rounds each, sum and mean add them (Neumaier, in ug__wide: no binary64 loss
 * overflows there) and round once; a result at the overflow threshold is settled exactly
 * (ug__threshold_settle, internal.h).  ERROR-ANALYSIS.md §4. */
void ug__reduce_store_wide(const ug_problem *p, ug_op op, ug_dtype dt, const ug__wide *loss, size_t count);

/* One pass over a FINITE row: the final max m and sp = sum of exp(x_j - m) over every
 * finite entry but one occurrence of the max, rescaled as the running max grows
 * (Milakov & Gimelshein 2018).  Masked entries are skipped. */
void ug__online_normaliser(const ug__row *row, double *m, double *sp);

/* The three dtype entry points of a row kernel: fn_f32, fn_f64, fn_bf16. */
#define UG__ROW_KERNELS(fn, op, body, with_exp)                                                 \
    ug_status fn##_f32(const ug_problem *p) { return ug__run_rows(p, op, UG_F32, body, with_exp); } \
    ug_status fn##_f64(const ug_problem *p) { return ug__run_rows(p, op, UG_F64, body, with_exp); } \
    ug_status fn##_bf16(const ug_problem *p) { return ug__run_rows(p, op, UG_BF16, body, with_exp); }

#endif
