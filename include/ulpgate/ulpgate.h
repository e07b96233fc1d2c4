/* ulpgate public API: dtypes, operations, status codes, the problem a kernel solves.
 *
 * Every kernel, production or not, has one signature (ug_kernel_fn) and takes one
 * ug_problem.  The public entry points ug_softmax() ... dispatch to the kernel whose
 * registry role is "production" for that op and dtype (include/ulpgate/registry.h).
 *
 * The exact mathematics of every op is in ../shared/DESIGN.md ("The operations");
 * special values follow oracle/SPECIAL.md.
 */
#ifndef ULPGATE_ULPGATE_H
#define ULPGATE_ULPGATE_H

#include <stddef.h>
#include <stdint.h>

#include "ulpgate/bf16.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ug_dtype { UG_F32 = 0, UG_F64 = 1, UG_BF16 = 2, UG_DTYPE_COUNT = 3 } ug_dtype;

typedef enum ug_op {
    UG_OP_SOFTMAX = 0,     /* y_i = exp(x_i) / sum_j exp(x_j)                        rows x n out */
    UG_OP_LOG_SOFTMAX = 1, /* y_i = x_i - log sum_j exp(x_j)                         rows x n out */
    UG_OP_LOGSUMEXP = 2,   /* log sum_j exp(x_j)                                     rows out     */
    UG_OP_XENT = 3,        /* logsumexp(x) - x_t                  (reduction)        rows or 1    */
    UG_OP_XENT_DENSE = 4,  /* sum_i p_i (logsumexp(x) - x_i)      (reduction)        rows or 1    */
    UG_OP_XENT_GRAD = 5,   /* softmax(x)_i - [i = t]  (dense: softmax(x)_i - p_i)    rows x n out */
    UG_OP_BCE_LOGITS = 6,  /* y log(1+e^-x) + (1-y) log(1+e^x), elementwise (reduction) rows x n or 1 */
    UG_OP_COUNT = 7
} ug_op;

/* Reduction of a loss over its rows (xent, xent_dense) or over all rows x n elements
 * (bce_logits).  The sum and mean are of the exact per-row losses, rounded once. */
typedef enum ug_reduction { UG_RED_NONE = 0, UG_RED_SUM = 1, UG_RED_MEAN = 2 } ug_reduction;

typedef enum ug_status {
    UG_OK = 0,
    UG_ERR_NULL = 1,       /* a required pointer is NULL                                  */
    UG_ERR_EMPTY = 2,      /* n = 0 or rows = 0                                           */
    UG_ERR_TARGET = 3,     /* a target index outside [0, n)                               */
    UG_ERR_LABEL = 4,      /* a label or probability outside [0, 1] (NaN included)         */
    UG_ERR_PROB_SUM = 5,   /* a probability row whose sum is not 1 within tolerance (below) */
    UG_ERR_REDUCTION = 6,  /* an unknown reduction, or one given to an op that has none    */
    UG_ERR_ARG = 7,        /* any other bad argument (dtype, op, sizes that overflow)      */
    UG_ERR_NOMEM = 8,      /* scratch memory could not be allocated                        */
    UG_ERR_LIMIT = 9       /* an internal limit was reached (the oracle's precision cap)   */
} ug_status;

/* A probability row p (xent_dense, dense xent_grad) must satisfy |sum p_i - 1| <= n * u,
 * the sum taken in binary64 with compensation, u = 2^-p the unit roundoff of the dtype
 * (2^-24 f32, 2^-53 f64, 2^-8 bf16), and never less than 2^-20 for f64 so that a row
 * written in decimal with 6 digits passes.  See ug_prob_sum_tolerance(). */
double ug_prob_sum_tolerance(ug_dtype dt, size_t n);

/* One call of a kernel: rows x n logits, row-major, all arrays in the kernel's dtype
 * (float, double or ug_bf16) except target.
 *
 *   op           x      target   aux                      reduction   y (outputs)
 *   softmax      rows*n  -       -                        NONE        rows*n
 *   log_softmax  rows*n  -       -                        NONE        rows*n
 *   logsumexp    rows*n  -       -                        NONE        rows
 *   xent         rows*n  rows    -                        any         rows | 1
 *   xent_dense   rows*n  -       rows*n probabilities     any         rows | 1
 *   xent_grad    rows*n  rows    -  (sparse)              NONE        rows*n
 *                rows*n  NULL    rows*n probabilities (dense)
 *   bce_logits   rows*n  -       rows*n labels in [0,1]   any         rows*n | 1
 *
 * Ops without a reduction require UG_RED_NONE.  y must not alias x, target or aux. */
typedef struct ug_problem {
    size_t rows;
    size_t n;
    const void *x;
    const int64_t *target;
    const void *aux;
    ug_reduction reduction;
    void *y;
} ug_problem;

typedef ug_status (*ug_kernel_fn)(const ug_problem *p);

/* Number of outputs a call writes: see the table above. */
size_t ug_output_count(ug_op op, size_t rows, size_t n, ug_reduction red);

/* Size in bytes of one element of dt. */
size_t ug_dtype_size(ug_dtype dt);

/* Element i of an array of dtype dt, widened exactly to binary64; and the store that
 * rounds a binary64 value once (RNE) into element i (bf16 straight from binary64, never
 * through binary32).  Every piece of ulpgate that moves values in and out of dtype
 * arrays uses these two. */
double ug_load(ug_dtype dt, const void *a, size_t i);
void ug_store(ug_dtype dt, void *a, size_t i, double v);

/* Names as used everywhere (registry names, CLI, reports): "f32", "softmax", "mean". */
const char *ug_dtype_name(ug_dtype dt);
const char *ug_op_name(ug_op op);
const char *ug_reduction_name(ug_reduction r);
int ug_dtype_from_name(const char *s, ug_dtype *dt);   /* 0 on success, -1 unknown */
int ug_op_from_name(const char *s, ug_op *op);
int ug_reduction_from_name(const char *s, ug_reduction *r);

/* Whether op takes a reduction, a target, an aux array. */
int ug_op_has_reduction(ug_op op);

/* A fixed message for a status ("target index out of range"), and the detailed message
 * of the last failing call in this thread ("row 3: target 17 outside [0, 16)"), or ""
 * after a successful one. */
const char *ug_status_str(ug_status s);
const char *ug_last_error(void);

/* Public entry points: the production kernel of the op for dt (see registry.h). */
ug_status ug_run(ug_op op, ug_dtype dt, const ug_problem *p);

#ifdef __cplusplus
}
#endif
#endif
