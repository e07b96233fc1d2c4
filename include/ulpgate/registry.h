/* The kernel registry: one table, every kernel a row (core/kernels.def).
 *
 * Tests, fuzzers, reports, the gate and the benchmarks iterate this table; nothing else
 * in the project keeps a list of kernels.  Adding a kernel is adding a row.
 */
#ifndef ULPGATE_REGISTRY_H
#define ULPGATE_REGISTRY_H

#include <stddef.h>

#include "ulpgate/ulpgate.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ug_role {
    UG_ROLE_PRODUCTION = 0, /* what ug_run() dispatches to for its op and dtype (on some CPU) */
    UG_ROLE_VARIANT = 1,    /* another legitimate algorithm, with its own claimed bound       */
    UG_ROLE_CANARY = 2      /* known bad, kept so the harness proves it can see badness       */
} ug_role;

/* The error a kernel claims, as data.  For every output element y of exact value v:
 *
 *     ulp_error(y, v) <= ulp + per_n * n + per_cond * kappa
 *
 * where n is the row length and kappa the condition number of that output (oracle/,
 * DESIGN.md "Error measures"); per_n and per_cond are 0 for a kernel whose claim is a
 * plain ULP bound.  Canaries carry the bar they are expected to miss. */
typedef struct ug_bound {
    double ulp;
    double per_n;
    double per_cond;
} ug_bound;

typedef struct ug_kernel {
    const char *name;      /* op.algorithm.dtype[.isa], unique                  */
    ug_op op;
    ug_dtype dtype;
    const char *algorithm; /* "twopass", "online", "naive", ...                 */
    const char *isa;       /* "scalar", "avx2", "avx512", "avx512bf16"          */
    ug_kernel_fn fn;
    ug_bound bound;
    ug_role role;
    const char *desc;      /* one line                                          */
} ug_kernel;

size_t ug_kernel_count(void);
const ug_kernel *ug_kernel_at(size_t i);           /* NULL past the end          */
const ug_kernel *ug_kernel_find(const char *name); /* NULL when unknown          */
const char *ug_role_name(ug_role r);

/* The production kernel for (op, dtype) that this CPU can run. */
const ug_kernel *ug_kernel_production(ug_op op, ug_dtype dt);

/* The claimed bound of k for an output of a row of length n and condition number kappa. */
double ug_bound_at(const ug_kernel *k, size_t n, double kappa);

#ifdef __cplusplus
}
#endif
#endif
