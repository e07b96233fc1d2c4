/* Sweeps for the report's plots: the worst ULP error of each kernel while one parameter of
 * its input moves.  Deterministic (the project's PRNG, fixed seeds).
 *
 *   spread   rows of n = 16 logits x_i = s (u_i - 1/2), u_i uniform in [0, 1) (seed, 16 rows
 *            per point; 4 with --quick), s = 2^-2 .. 2^12: the spread max - min is about s;
 *   length   rows of n = 2^k normal(0, 1) logits, k = 0 .. 16 (12 with --quick), one row
 *            per point;
 *   axis     the rows of a boundary axis (boundary.h) at log-spaced values of its
 *            parameter: the "compute the loss from logits" comparison.
 * Targets are row r mod n; probability rows one-hot at the target; bce labels 1 at the
 * target, 0 elsewhere.  Every point is judged with the judge (reduction none): the figure
 * is the largest ULP error over the point's outputs, +inf when an output is in violation
 * (NaN, inf, a wrong zero) or the kernel failed, NaN where the kernel was not swept.
 *
 * The units of `split` (parallel.h) are (op and dtype, point), ordered by the first kernel
 * of the op and dtype, then point: each is measured on some thread; with a shard only the
 * shard's units are, and have[] marks what was measured.
 */
#ifndef ULPGATE_REPORTS_SWEEP_H
#define ULPGATE_REPORTS_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "boundary.h"
#include "parallel.h"
#include "ulpgate/registry.h"

typedef struct ug_sweep {
    const char *name;          /* "spread", "length", or an axis name              */
    const char *param;         /* "s", "n", "c", "d"                               */
    size_t np;                 /* points                                            */
    double *at;                /* np parameter values                               */
    size_t nk;
    const ug_kernel *const *ks;/* the kernels (borrowed)                            */
    double *worst;             /* nk * np: worst[k * np + p]                         */
    unsigned char *have;       /* nk * np: 1 where measured (this shard's units)     */
} ug_sweep;

void ug_sweep_spread(ug_sweep *s, const char *cmd, const ug_kernel *const *ks, size_t nk, uint64_t seed, int quick,
                     const ug_split *split);
void ug_sweep_length(ug_sweep *s, const char *cmd, const ug_kernel *const *ks, size_t nk, uint64_t seed, int quick,
                     const ug_split *split);
/* np points log-spaced in [lo, hi] along direction d. */
void ug_sweep_axis(ug_sweep *s, const char *cmd, const ug_kernel *const *ks, size_t nk, const ug_bdir *d, double lo,
                   double hi, size_t np, const ug_split *split);

/* {name, param, at: [...], worst: {kernel: [...]}} (values as in jsonout.h). */
json_object *ug_sweep_json(const ug_sweep *s);

void ug_sweep_free(ug_sweep *s);

#endif
