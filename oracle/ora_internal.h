/* Internal machinery of the MPFR oracle, shared by oracle/round.c, ziv.c, row.c,
 * exact_*.c, cond.c and oracle.c.  Not used outside oracle/.
 *
 * Every output v of every op is written v = A/B + T (ANALYSIS.md §1):
 *   A   an exact dyadic number (an mpfr_t holding it exactly), B a positive integer:
 *       the rational part, built from the inputs by exact operations only;
 *   T   the transcendental part, either exactly zero (ORA_ZERO), approximated with a
 *       proven absolute error (ORA_APPROX), or known only to be nonzero, of a known
 *       sign and below 2^-(2^61) in magnitude (ORA_BEYOND: past MPFR's exponent range).
 * ora_finish() turns (A, B, T) into the correctly rounded dtype value and the 128-bit
 * value, or says that T must be recomputed at a higher working precision P.
 *
 * All functions here assume MPFR's exponent range has been widened to
 * [mpfr_get_emin_min(), mpfr_get_emax_max()] (ora_range_widen).
 */
#ifndef ULPGATE_ORA_INTERNAL_H
#define ULPGATE_ORA_INTERNAL_H

#include <stddef.h>

#include <mpfr.h>

#include "oracle.h"

/* First working precision of every Ziv loop, its growth and its cap (ANALYSIS.md §1.4). */
#define ORA_P0 160
#define ORA_PMAX (1L << 20)
#define ORA_P_NEXT(P) ((P) + (P) / 2)

/* |a| > 2^ORA_BEYOND_LOG2 makes exp(-|a|) < 2^-(2^61): an ORA_BEYOND term
 * (ANALYSIS.md §1.5).  exp(-2^61) ~ 2^-3.3e18 is still inside MPFR's range
 * (2^-(2^62)), so every term that is not BEYOND can be computed. */
#define ORA_BEYOND_LOG2 61
/* An APPROX output below 2^-(2^ORA_TINY_LOG2) with A = 0 rounds to a signed zero in
 * every dtype whatever its 128-bit value (ANALYSIS.md §1.5). */
#define ORA_TINY_LOG2 60

typedef enum ora_kind { ORA_ZERO = 0, ORA_APPROX, ORA_BEYOND } ora_kind;

typedef struct ora_term {
    ora_kind kind;
    int sign;        /* the sign of T (+1 or -1) when sign_sure                    */
    int sign_sure;   /* the sign is proven (BEYOND; APPROX with err < EXP(t) - 1;
                        a sum of terms >= 0)                                        */
    mpfr_t t;        /* APPROX: the approximation of T                             */
    mpfr_exp_t err;  /* APPROX: |t - T| <= 2^err                                   */
} ora_term;

/* ---- dtype data and rounding (round.c) ------------------------------------- */

typedef struct ora_range { mpfr_exp_t emin, emax; } ora_range;

ora_range ora_range_widen(void);           /* widen, return the old range         */
void ora_range_restore(ora_range old);

int ora_dtype_emax(ug_dtype dt);           /* 127, 1023, 127: largest finite < 2^(emax+1) */

/* ug_oracle_round without touching the exponent range. */
double ora_round(mpfr_srcptr v, ug_dtype dt);

/* Set an output to a value fixed by the special-value table (or any exactly known
 * dtype value): rounded = value = v, kappa = +inf (set by the caller otherwise). */
void ora_set_exact_double(ug_exact *out, double v);

/* ---- Ziv decisions (ziv.c) -------------------------------------------------- */

void ora_term_init(ora_term *T);
void ora_term_clear(ora_term *T);
void ora_term_zero(ora_term *T);
void ora_term_beyond(ora_term *T, int sign);
/* T's approximation t (already computed, nonzero) has relative error <= 2^(1-P):
 * mark it APPROX with the absolute bound 2^(EXP(t)+3-P) (ANALYSIS.md §1.3). */
void ora_term_rel(ora_term *T, mpfr_prec_t P);

/* Decide out = A/B + T.  Returns 1 when out->rounded and out->value are set (proven
 * correct), 0 when T must be recomputed at a higher precision.  A must be exact
 * (it is read, never rounded); B >= 1. */
int ora_finish(mpfr_srcptr A, unsigned long B, const ora_term *T, ug_dtype dt, ug_exact *out);

/* acc += v exactly, growing acc's precision as needed (ANALYSIS.md §1.1). */
void ora_add_exact(mpfr_t acc, mpfr_srcptr v);
/* The span of a nonzero finite double: |v| < 2^hi, v a multiple of 2^lo. */
void ora_dbl_span(double v, long *hi, long *lo);
/* rop = a - b exactly for doubles a, b; rop's precision is raised if needed. */
void ora_sub_exact_d(mpfr_t rop, double a, double b);

/* Number of bits of n (bits(10^6) = 20). */
int ora_bits(unsigned long n);

/* ---- one row of logits (row.c) --------------------------------------------- */

typedef struct ora_row {
    size_t n;
    double *x;          /* the row, widened exactly to binary64 (n entries)         */
    size_t nnan, npinf, nminf;
    /* finite part, when nnan = npinf = 0 and nminf < n: */
    double m;           /* the max                                                  */
    size_t c1;          /* number of entries equal to m                            */
    int has2;           /* some finite entry is < m                                 */
    double x2;          /* the largest finite entry < m                             */
    mpfr_prec_t pd;     /* precision making every difference x_j - x_k exact        */
    /* state at working precision P (ora_row_state): */
    mpfr_prec_t P;
    ora_kind s1_kind;   /* S' = sum over x_j < m of exp(x_j - m): ZERO iff !has2    */
    mpfr_t s1;          /* APPROX: rel. error <= 2^-(P+2)             (ANALYSIS §2.2) */
    mpfr_t S;           /* c1 + S': rel. error <= 2^-(P+1)            (ANALYSIS §2.3) */
    ora_kind L_kind;    /* L = log S: ZERO iff S = 1                                 */
    mpfr_t L;           /* APPROX: rel. error <= 2^-P                 (ANALYSIS §2.4) */
    mpfr_t a, d, e;     /* scratch                                                   */
    /* e^(a_j) of every term of S' computed at P + 4 bits, kept for the outputs that
     * need it again (softmax, xent_grad): NaN where not computed.  Set want_cache
     * before ora_row_state; the cache is skipped when it would exceed ORA_CACHE_MAX. */
    int want_cache;
    int cache_ok;       /* the cache holds this row's terms at the current P          */
    __mpfr_struct *cache;
    void *cache_block;
    mpfr_prec_t cache_prec;
} ora_row;

#define ORA_CACHE_MAX ((size_t)512 << 20)

void ora_row_init(ora_row *r, size_t n);   /* allocates x; r->x == NULL on failure */
void ora_row_clear(ora_row *r);
/* Load row `row` of the rows x n array x of dtype dt and classify it. */
void ora_row_load(ora_row *r, ug_dtype dt, const void *x, size_t row);
/* The row is finite: no NaN, no +inf, not all -inf. */
int ora_row_finite(const ora_row *r);
/* Compute S', S, L at working precision P (ANALYSIS.md §2). */
void ora_row_state(ora_row *r, mpfr_prec_t P);
/* a = x_i - m exactly (a's precision raised to r->pd). */
void ora_row_shift(ora_row *r, size_t i, mpfr_t a);
/* T = e^(x_i - m) / S for a finite x_i < m             (ANALYSIS.md §2.5). */
void ora_row_term_tail(ora_row *r, size_t i, ora_term *T);
/* T = sign * S' / (c1 S)                                 (ANALYSIS.md §2.6). */
void ora_row_term_head(ora_row *r, int sign, ora_term *T);
/* T = sign * L                                            (ANALYSIS.md §2.4). */
void ora_row_term_L(ora_row *r, int sign, ora_term *T);

/* ---- condition numbers (cond.c) -------------------------------------------- */

/* Row data for the condition numbers: 53-bit MPFR numbers in the wide exponent range,
 * so that outputs far below binary64's range still get a finite kappa. */
typedef struct ora_cond_row {
    const ora_row *r;
    mpfr_t S, s1, L;    /* S, S', L at 53 bits                                       */
    double Sd;          /* S in binary64 (1 <= S <= n)                               */
    mpfr_t Wtail;       /* sum over x_j < m of |x_j| s_j                             */
    mpfr_t Wmax;        /* c1 |m| / S                                                */
    mpfr_t s, om, t, u; /* scratch                                                   */
} ora_cond_row;

void ora_cond_row_init(ora_cond_row *c, ora_row *r);  /* r in state at some P */
void ora_cond_row_clear(ora_cond_row *c);
/* s = s_i and om = 1 - s_i for entry i (finite or -inf) of the row. */
void ora_cond_prob(ora_cond_row *c, size_t i);
double ora_cond_softmax(ora_cond_row *c, size_t i);
double ora_cond_log_softmax(ora_cond_row *c, size_t i, mpfr_srcptr y);
double ora_cond_logsumexp(ora_cond_row *c, mpfr_srcptr lse);
double ora_cond_xent(ora_cond_row *c, size_t t, mpfr_srcptr loss);
double ora_cond_xent_dense(ora_cond_row *c, const double *p, mpfr_srcptr loss);
double ora_cond_xent_grad(ora_cond_row *c, size_t i, double p_i, mpfr_srcptr g);
double ora_cond_bce(double x, double y, mpfr_srcptr f);
/* kappa of a sum of losses: sum_r kappa_r |loss_r| / |sum_r loss_r|, accumulated. */
typedef struct ora_cond_sum { mpfr_t num, den; int inf; } ora_cond_sum;
void ora_cond_sum_init(ora_cond_sum *s);
void ora_cond_sum_add(ora_cond_sum *s, double kappa, mpfr_srcptr loss);
double ora_cond_sum_value(ora_cond_sum *s);
void ora_cond_sum_clear(ora_cond_sum *s);

/* ---- the ops (exact_*.c) ---------------------------------------------------- */

ug_status ora_eval_softmax_like(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out);
ug_status ora_eval_row_loss(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out);
ug_status ora_eval_bce(ug_dtype dt, const ug_problem *p, ug_exact *out);

/* ---- the fast path (fast.c, ANALYSIS.md §9) ---------------------------------- */

/* The fast path takes op on dt for the validated problem p (reduction none where op has one). */
int ora_fast_supported(ug_op op, ug_dtype dt, const ug_problem *p);
/* p validated, MPFR's exponent range as the caller's: every row, fast or MPFR. */
ug_status ora_fast_eval(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out);
/* The ULP error of y against a lazy e, as ug_compare would compute it from e's value:
 * 1 and *ulp, *below1 set when the enclosure decides both, 0 otherwise. */
int ora_fast_ulp(ug_dtype dt, double y, const ug_exact *e, double *ulp, int *below1);
/* Whether that unrounded error exceeds bound (> 0): 1 and *over set when decided. */
int ora_fast_over(ug_dtype dt, double y, const ug_exact *e, double bound, int *over);
/* mpfr_get_d_2exp(exp, value, MPFR_RNDN) of a lazy e, from its enclosure: 1 when decided. */
int ora_fast_d2exp(const ug_exact *e, double *m, long *exp);
void ora_fast_mismatch(void);
/* Rows [row, row + count) of a softmax-like op by the MPFR oracle (lazy cleared). */
ug_status ora_mpfr_rows(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out, size_t row, size_t count);

/* Fail with the precision-cap message (ANALYSIS.md §1.4), or out of memory. */
ug_status ora_fail_cap(const char *op, size_t row);
ug_status ora_fail_nomem(size_t n);

#endif
