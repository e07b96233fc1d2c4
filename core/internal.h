/* Helpers shared by the kernels in core/.  Not installed, not used outside core/. */
#ifndef ULPGATE_CORE_INTERNAL_H
#define ULPGATE_CORE_INTERNAL_H

#include <math.h>
#include <stddef.h>

#include "ulpgate/ulpgate.h"

/* The public ug_load / ug_store (ulpgate.h), under the names the kernels use. */
#define ug__load ug_load
#define ug__store ug_store

/* Check a problem for op/dt: every rule of ulpgate.h (NULLs, empty, reduction, targets,
 * labels in [0,1], probability sums).  On failure records the detailed message and
 * returns the status; on success clears the message and returns UG_OK. */
ug_status ug__validate(const ug_problem *p, ug_op op, ug_dtype dt);

/* Record a detailed message for ug_last_error() and return s. */
ug_status ug__fail(ug_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write a finished loss vector (one binary64 value per row, each already the kernel's best
 * value) of the loss op (xent, xent_dense, bce_logits) to p->y with p->reduction applied:
 * none stores each row, sum and mean add the rows with Neumaier compensation in binary64
 * and round once; a result at the overflow threshold is settled exactly
 * (ug__threshold_settle).  Used by the SIMD loss kernels; the scalar ones keep their
 * losses wider (ug__reduce_store_wide, row.h). */
void ug__reduce_store(const ug_problem *p, ug_op op, ug_dtype dt, const double *loss, size_t count);

/* The same, where quarter[i] (may be NULL) holds loss i divided by 4 computed without
 * overflow, for a loss that overflowed binary64 although a mean of it may not. */
void ug__reduce_store_quarters(const ug_problem *p, ug_op op, ug_dtype dt, const double *loss,
                               const double *quarter, size_t count);

/* core/threshold.c (its header has the contract): after a reduction of the count losses of
 * op stored y[0], rounded from the kernel's value v (a ug__wide, row.h), if y[0] is +inf
 * or the dtype's largest finite value and v lies within 2^-30 (relative) of the overflow
 * threshold, decide exactly whether the exact sum (mean) reaches the threshold
 * (SPECIAL.md rule 10) and store +inf or the largest finite value; y[0] stays when
 * undecided (a window of about 2^-58 rows ln n absolute around the threshold) or when a
 * loss is NaN or +inf. */
void ug__threshold_settle(const ug_problem *p, ug_op op, ug_dtype dt, size_t count, long double v);

/* Error-free transformations (Knuth two-sum; Neumaier's compensated sum). */
static inline void ug__two_sum(double a, double b, double *s, double *e)
{
    double t = a + b;
    double bb = t - a;
    *e = (a - (t - bb)) + (b - bb);
    *s = t;
}

typedef struct ug__nsum { double s, c; } ug__nsum;

static inline void ug__nsum_add(ug__nsum *acc, double v)
{
    double t = acc->s + v;
    int big = (acc->s >= 0 ? acc->s : -acc->s) >= (v >= 0 ? v : -v);
    acc->c += big ? (acc->s - t) + v : (v - t) + acc->s;
    acc->s = t;
}

/* The compensated value; an overflowed running sum is returned as it is (its compensation
 * term is inf - inf). */
static inline double ug__nsum_value(const ug__nsum *acc) { return isfinite(acc->s) ? acc->s + acc->c : acc->s; }

#endif
