/* Measuring kernels on the input families: the pieces that check, gate and report share.
 *
 *   - selecting kernels (--kernel NAME|all) and parsing counts (--seed, --rows);
 *   - cells: the inputs of (op, dtype, family) and the oracle's answers on them, computed
 *     once and shared by every kernel of that op and dtype, freed after its last user;
 *   - verdicts (PASS / FAIL, and CAUGHT / missed for canaries) and statistics as text;
 *   - progress on stderr, only when stderr is a terminal.
 *
 * A cell depends on (op, dtype, family, seed, rows) only, so every figure measured through
 * it is a pure function of those: the same seed gives the same bytes.
 */
#ifndef ULPGATE_REPORTS_MEASURE_H
#define ULPGATE_REPORTS_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "families.h"
#include "judge.h"
#include "parallel.h"
#include "ulpgate/registry.h"

/* The kernels named by --kernel: a registry name, "all" (registry order), or "plugins"
 * (the rows --plugin libraries added).  Dies with UG_EXIT_USAGE when name is NULL or
 * unknown, or for "plugins" when none is loaded.  The array is the caller's to free. */
const ug_kernel **ug_select_kernels(const char *cmd, const char *name, size_t *count);

/* A non-negative decimal integer >= min given to option --opt; dies with UG_EXIT_USAGE. */
uint64_t ug_parse_count(const char *cmd, const char *opt, const char *s, int64_t min);

/* "PASS" / "FAIL", or for a canary "CAUGHT" / "missed". */
const char *ug_verdict(const ug_kernel *k, int failed);

/* A statistic as text: %.6g, inf, nan; an error just above 0.5 or 1 ULP (a wrong
 * rounding) that %.6g would show as 0.5 or 1 is shown as 0.5+ or 1+. */
void ug_fmt_stat(char *buf, size_t size, double v);

/* ---------------------------------------------------------------- cells */

typedef struct ug_cell {
    int ready;
    ug_batch_list list;
    ug_expect *expect; /* one per batch */
} ug_cell;

typedef struct ug_cells {
    const char *cmd;
    void *locks;       /* a mutex per cell: ug_cells_get may run on several threads  */
    uint64_t seed;
    size_t rows;       /* rows per family: 0 the family's default                   */
    size_t rows_max;   /* 0, or at most this many rows (the default when smaller)    */
    ug_cell *c;        /* [op][dtype][family]                                       */
    size_t *last_use;  /* [op][dtype]: index of the last kernel that uses the cells  */
} ug_cells;

/* Cells for the kernels (their index in this array is what ug_cells_release takes). */
void ug_cells_init(ug_cells *cs, const char *cmd, const ug_kernel *const *kernels, size_t nkernels, uint64_t seed,
                   size_t rows, size_t rows_max);

/* The cell of (k's op and dtype, family fam), generated and evaluated on first use (by
 * one thread; others asking for it meanwhile wait).  Dies with UG_EXIT_INTERNAL when the
 * family or the oracle fails. */
const ug_cell *ug_cells_get(ug_cells *cs, const ug_kernel *k, size_t fam);

/* Judge k on family fam into j (initialised here; the caller frees it). */
void ug_cells_judge(ug_cells *cs, const ug_kernel *k, size_t fam, ug_judge *j);

/* Free the cells of k's op and dtype when kernel index i is their last user (call it
 * once no unit that uses them is running). */
void ug_cells_release(ug_cells *cs, const ug_kernel *k, size_t i);

void ug_cells_free(ug_cells *cs);

/* ---------------------------------------------------------------- pairs */

/* The (kernel, family) pairs of check, report and gate: kernel-major (registry order, then
 * the family table's order), the families that support the kernel's dtype (only `only`
 * when not NULL), kernels this CPU cannot run left out when skip_unavailable.  These are
 * the units of ug_par_* (parallel.h).  A shard keeps the pairs of the cells it owns: the
 * cells (op, dtype, family) are numbered in the order of their first pair, and cell c
 * belongs to the shard when ug_split_owns(split, c), so that no two shards evaluate the
 * oracle on the same inputs. */
typedef struct ug_pairs {
    size_t count;
    size_t *kernel; /* index into the kernel array            */
    size_t *family; /* index into the family table            */
} ug_pairs;

void ug_pairs_init(ug_pairs *p, const char *cmd, const ug_kernel *const *ks, size_t nk, const ug_family *only,
                   int skip_unavailable, const ug_split *split);
void ug_pairs_free(ug_pairs *p);

/* ---------------------------------------------------------------- progress */

/* `\r<cmd>: <message>` on stderr, erasing the line first, when stderr is a terminal;
 * nothing otherwise.  ug_progress_end erases the line. */
void ug_progress(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ug_progress_end(void);

#endif
