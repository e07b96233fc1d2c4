/* The gate's baseline file (reports/baseline.txt): reading, writing and comparing.
 *
 * FORMAT (version 1), plain text, one measurement per line, sorted bytewise:
 *
 *   # ulpgate gate baseline, format 1
 *   # ... free comment lines (what was measured, how to regenerate) ...
 *   <kernel> <measure> <metric> <value>
 *   ...
 *   # end: <number of measurement lines>
 *
 *   kernel   a registry name
 *   measure  an input family (normal1, ...) or a boundary axis (shift+, shift-, spread,
 *            dominance, length)
 *   metric   max_ulp, p99        value: a C99 hex float (exact: it round-trips) or inf
 *            violations          value: a decimal count (outputs in violation + kernel errors)
 *            boundary            value: the first failing axis value (hex float; a decimal n
 *                                on the length axis), or none when the kernel never fails
 *
 * The first line names the format and the last line counts the lines, so a file that was
 * cut short or is not a baseline is refused (never read as an empty baseline).  Any other
 * line that is not a comment must be a measurement; a damaged one is reported with its
 * line and column.
 */
#ifndef ULPGATE_REPORTS_BASELINE_H
#define ULPGATE_REPORTS_BASELINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define UG_BASELINE_MAGIC "# ulpgate gate baseline, format 1"

typedef enum ug_metric { UG_M_MAX_ULP = 0, UG_M_P99, UG_M_VIOLATIONS, UG_M_BOUNDARY, UG_M_COUNT } ug_metric;

typedef struct ug_bline {
    char *kernel, *measure;
    ug_metric metric;
    char *text;       /* the value as written                                     */
    double value;     /* ULP, count, or |boundary| (+inf for none)                */
    size_t line;      /* line number in the file it was read from (0: measured)   */
} ug_bline;

typedef struct ug_baseline {
    ug_bline *v;
    size_t count, cap;
} ug_baseline;

const char *ug_metric_name(ug_metric m);

/* Add a measurement (strings copied). */
void ug_baseline_add(ug_baseline *b, const char *kernel, const char *measure, ug_metric m, const char *text,
                     double value);
/* Formatting helpers that give the value text of each metric. */
void ug_baseline_add_ulp(ug_baseline *b, const char *kernel, const char *measure, ug_metric m, double ulp);
void ug_baseline_add_count(ug_baseline *b, const char *kernel, const char *measure, size_t count);

/* Sort by (kernel, measure, metric) as text; 0, or -1 with *dup set to a duplicate. */
int ug_baseline_sort(ug_baseline *b, const ug_bline **dup);

void ug_baseline_free(ug_baseline *b);

/* Read path.  Exits 3 when it cannot be opened or read, 2 (naming line and column) when it
 * is not a complete, well-formed baseline. */
void ug_baseline_read(const char *cmd, const char *path, ug_baseline *b);

/* Write b (sorted) with the header comment lines `comment` (each starting with "# "). */
void ug_baseline_write(FILE *f, const ug_baseline *b, const char *comment);

/* ---------------------------------------------------------------- comparison */

typedef enum ug_change {
    UG_CH_WORSE = 0,  /* a max or p99 grew, violations grew, a boundary moved inward   */
    UG_CH_GONE,       /* in the baseline, not measured any more (its kernel exists)      */
    UG_CH_DISAPPEARED,/* its kernel is not in the registry any more                     */
    UG_CH_BETTER,
    UG_CH_NEW         /* measured, not in the baseline                                  */
} ug_change;

typedef struct ug_diff {
    ug_change kind;
    const ug_bline *old, *now; /* NULL where absent                                     */
} ug_diff;

/* The differences between old and now (both sorted), worse first; *count set.  Lines of
 * old for which keep(line) is 0 are ignored (not measured this time: another kernel, or
 * another shard's share). */
ug_diff *ug_baseline_compare(const ug_baseline *old, const ug_baseline *now, int (*keep)(const ug_bline *l, void *ctx),
                             void *ctx, size_t *count);

/* Whether a change fails the gate. */
int ug_change_fails(ug_change c);
const char *ug_change_name(ug_change c);

#endif
