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
    UG_ROLE_CANARY = 2,     /* known bad, kept so the harness proves it can see badness       */
    UG_ROLE_EXTERNAL = 3    /* another library's kernel (a plug-in, plugin.h): judged like a
                               variant, never dispatched to                                   */
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

/* The rows: the built-in ones (core/kernels.def, indices [0, ug_kernel_builtin_count())),
 * then the rows appended at run time (ug_kernel_append), in the order appended. */
size_t ug_kernel_count(void);
size_t ug_kernel_builtin_count(void);
const ug_kernel *ug_kernel_at(size_t i);           /* NULL past the end          */
const ug_kernel *ug_kernel_find(const char *name); /* NULL when unknown          */
const char *ug_role_name(ug_role r);

/* UG_OK when k is a well-formed row, else UG_ERR_ARG with the broken rule in
 * ug_last_error() ("name 'x' is not op.algorithm.dtype[.isa]"):
 *   name      op.algorithm.dtype or op.algorithm.dtype.isa, with op = ug_op_name(k->op),
 *             algorithm = k->algorithm, dtype = ug_dtype_name(k->dtype), isa = k->isa;
 *             every part [a-z0-9_]+, at most 63 characters;
 *   op, dtype in range; algorithm and isa [a-z0-9_]+; fn non-NULL; role a ug_role;
 *   bound     every field finite and >= 0, ulp >= 0.5;
 *   desc      non-NULL, printable ASCII, at most 200 characters.
 * Every built-in row is well formed (props/test_plugin.c checks). */
ug_status ug_kernel_check(const ug_kernel *k);

/* Append count rows (copied; the strings and functions they point to are not, and must
 * outlive every use of the registry) after every row so far: the plug-in loader's entry
 * (include/ulpgate/plugin.h; core itself never loads anything).  All or nothing: UG_OK,
 * or nothing appended and
 *   UG_ERR_ARG    a row that ug_kernel_check refuses, a role other than UG_ROLE_EXTERNAL
 *                 or UG_ROLE_CANARY, or a name already registered (or twice in rows);
 *                 ug_last_error() names the row and the rule;
 *   UG_ERR_NULL   rows is NULL and count > 0;
 *   UG_ERR_NOMEM  no memory.
 * Appended rows never move: pointers from ug_kernel_at/find stay valid.  Not thread-safe:
 * append before any other thread uses the registry (the command and the fuzz targets
 * load their plug-ins at start-up).  ug_kernel_production never returns an appended row;
 * ug_kernel_available treats one as a built-in row when its isa is one dispatch knows
 * ("scalar", "avx2", "avx512") and as always available otherwise. */
ug_status ug_kernel_append(const ug_kernel *rows, size_t count);

/* The production kernel for (op, dtype) that dispatch uses: among the production rows of
 * (op, dtype) that this CPU can run, the one of the highest ISA not above ug_isa()
 * (avx512 > avx2 > scalar).  ug_run() and the public entry points call it. */
const ug_kernel *ug_kernel_production(ug_op op, ug_dtype dt);

/* The scalar twin of a SIMD row: the row named as k without its last ".isa" part
 * (softmax.twopass.f32.avx512 -> softmax.twopass.f32), else (an algorithm with no scalar row,
 * softmax.dd.f64.avx512) the scalar production row of its op and dtype; NULL when none.  The
 * agreement tests and the simd fuzz target compare the two. */
const ug_kernel *ug_kernel_scalar_twin(const ug_kernel *k);

/* 1 when this CPU can run k: always for scalar rows and for appended rows whose isa is
 * not one dispatch knows (ug_kernel_append); for a SIMD row, when the CPU and the
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
