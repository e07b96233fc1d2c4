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

/* The production kernel for (op, dtype) that dispatch uses: among the production rows of
 * (op, dtype) that this CPU can run, the one of the highest ISA not above ug_isa()
 * (avx512 > avx2 > scalar).  ug_run() and the public entry points call it. */
const ug_kernel *ug_kernel_production(ug_op op, ug_dtype dt);

/* 1 when this CPU can run k: always for scalar rows; for a SIMD row, when the CPU and the
 * OS support its ISA ("avx2": AVX2 + FMA; "avx512": AVX-512 F, DQ, BW and VL).  Tests,
 * the judge, `ulpgate check` and `bench` skip (and say so) a kernel for which this is 0;
 * calling its fn anyway returns UG_ERR_ARG ("this CPU cannot run avx512 code"), never
 * faults. */
int ug_kernel_available(const ug_kernel *k);

/* The ISA dispatch may use, for users who need the same results on every machine of a
 * mixed fleet and for tests:
 *   ug_set_isa("scalar" | "avx2" | "avx512")  caps dispatch at that ISA; UG_ERR_ARG (and
 *                      the setting unchanged) for an unknown name or an ISA this CPU lacks;
 *   ug_set_isa("auto") or NULL                 the best ISA the CPU has (the default).
 * The environment variable UG_ISA=scalar|avx2|avx512 gives the initial cap, read once at
 * the first dispatch; an ISA the CPU lacks caps at the best one below it, an unknown
 * value means auto.  The cap is process-wide; changing it while other threads dispatch
 * is safe (they see the old or the new cap).
 *   ug_isa()           the cap in effect: "scalar", "avx2" or "avx512". */
ug_status ug_set_isa(const char *isa);
const char *ug_isa(void);

/* The claimed bound of k for an output of a row of length n and condition number kappa. */
double ug_bound_at(const ug_kernel *k, size_t n, double kappa);

#ifdef __cplusplus
}
#endif
#endif
