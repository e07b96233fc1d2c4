/* The MPFR oracle: correctly rounded exact values of every op of DESIGN.md.
 *
 * The exact value is the mathematical function of the inputs *as stored* in the dtype,
 * with the special values of oracle/SPECIAL.md.  Every result is proven by a Ziv loop
 * (oracle/ANALYSIS.md gives the error bound of each op; the code cites its sections).
 *
 * The oracle knows no kernel: it reads a ug_problem (include/ulpgate/ulpgate.h) exactly
 * as a kernel would, and writes what the kernel should have written.
 */
#ifndef ULPGATE_ORACLE_H
#define ULPGATE_ORACLE_H

#include <stddef.h>

#include <mpfr.h>

#include "ulpgate/ulpgate.h"

/* Precision of the unrounded values handed out (ug_exact.value): enough that the ULP
 * error computed from them is exact to far better than 2^-20 of an ULP. */
#define UG_ORACLE_PREC 128

/* One output element. */
typedef struct ug_exact {
    double rounded; /* the correctly rounded (RNE) value in the dtype, held exactly in a
                       double; NaN, +-inf and the sign of zero as SPECIAL.md says      */
    mpfr_t value;   /* the exact value rounded to UG_ORACLE_PREC bits (RNE) in MPFR's
                       full exponent range (callers doing MPFR arithmetic on it widen
                       the range: it may lie below 2^-(2^30)); NaN or +-inf where the
                       table says so.  An output below 2^-(2^61) (softmax of -DBL_MAX
                       beside DBL_MAX) holds the smallest MPFR number of its sign as a
                       stand-in, with rounded = +-0 (ANALYSIS.md)                      */
    double kappa;   /* the relative condition number of this output (oracle/cond.c);
                       +inf where the output is 0 or not finite                         */
    /* Fast path (ug_oracle_eval_lazy, ANALYSIS.md §9): lazy = 1 when value has not been
     * computed (it holds NaN); the exact value v is then finite, nonzero, and
     * |v - (vhi + vlo)| <= verr.  rounded and kappa are always final.  ug_oracle_eval and
     * ug_oracle_value leave lazy = 0.  Read value only where lazy = 0. */
    int lazy;
    double vhi, vlo, verr;
} ug_exact;

/* An array of count ug_exact with value initialised at UG_ORACLE_PREC. */
ug_exact *ug_exact_new(size_t count);
void ug_exact_free(ug_exact *e, size_t count);

/* Evaluate op on p in dtype dt: fills ug_output_count(op, p->rows, p->n, p->reduction)
 * elements of out (p->y is ignored and may be NULL).  Returns the same status a kernel
 * returns for bad input (ug__validate's rules), UG_ERR_LIMIT when a Ziv loop reaches its
 * precision cap without deciding (ANALYSIS.md §1.4; never seen), UG_OK otherwise. */
ug_status ug_oracle_eval(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out);

/* As ug_oracle_eval, but an output's value may be left lazy (ug_exact.lazy): the
 * certified fast path (oracle/fast.c, ANALYSIS.md §9) answers softmax, log_softmax,
 * logsumexp, xent, xent_dense, xent_grad and bce_logits (every op, every reduction) of f32,
 * bf16 and f64 inputs in
 * double-double arithmetic when its error bound proves rounded and
 * kappa, and falls back to the MPFR Ziv loop row by row otherwise.  rounded and kappa are
 * bit for bit those of ug_oracle_eval.  With the fast path off (ug_oracle_set_fast(0) or
 * UG_ORACLE=mpfr in the environment) this is ug_oracle_eval. */
ug_status ug_oracle_eval_lazy(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out);

/* Compute the value of every lazy output in the row (or reduction) of output i of out, as
 * filled by ug_oracle_eval_lazy(op, dt, p, out), with the MPFR oracle.  Checks that the
 * MPFR path's rounded and kappa are the fast path's (ug_oracle_fast_mismatches counts any
 * difference, and the MPFR answer is kept).  Returns the oracle's status. */
ug_status ug_oracle_value(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out, size_t i);

/* The fast path switch: on by default, off when the environment has UG_ORACLE=mpfr (read
 * once, at the first call); ug_oracle_set_fast overrides both.  Thread-safe. */
void ug_oracle_set_fast(int on);
int ug_oracle_fast_enabled(void);
/* Outputs whose fast answer differed from the MPFR answer (ug_oracle_value): 0 always,
 * unless the fast path has a bug. */
unsigned long ug_oracle_fast_mismatches(void);
/* Rows (a reduction: the whole batch) the fast path answered, and rows it handed to the MPFR
 * path, since the start (statistics for tests and benchmarks; thread-safe). */
void ug_oracle_fast_rows(unsigned long *taken, unsigned long *mpfr);

/* Round an MPFR value once, correctly (RNE), to dt, with the dtype's subnormals and
 * overflow; the result is returned as a double holding the dtype value exactly. */
double ug_oracle_round(mpfr_srcptr v, ug_dtype dt);

/* Parse a decimal, C99 hex float, inf, -inf or nan and round it once (RNE) to dt.
 * Returns 0 and sets *out (exact double), or -1 when s is not a complete number. */
int ug_parse_number(const char *s, ug_dtype dt, double *out);

/* Unit in the last place and precision data of each dtype. */
int ug_dtype_precision(ug_dtype dt);  /* 24, 53, 8        */
int ug_dtype_emin(ug_dtype dt);       /* exponent e of the smallest normal 2^e: -126, -1022, -126 */

#endif
