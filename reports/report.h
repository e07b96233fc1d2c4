/* The accuracy report (`ulpgate report`): what is measured, held in memory, and written
 * three ways: report.json (report_json in cmd_report.c; schema in reports/SCHEMA.md),
 * report.md (report_md.c) and report.html with gnuplot plots (report_html.c,
 * report_plots.c).  Every figure is a pure function of (seed, --quick) and of the
 * benchmark file given with --bench (never measured here): the same options and files
 * give the same bytes.
 */
#ifndef ULPGATE_REPORTS_REPORT_H
#define ULPGATE_REPORTS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "boundary.h"
#include "jsonout.h"
#include "measure.h"
#include "plot.h"
#include "sweep.h"
#include "ulpgate/registry.h"

#define UG_REPORT_SCHEMA "ulpgate-report"
#define UG_REPORT_SCHEMA_VERSION 1

/* ULP histogram bins: [0] <= 1/2 (correctly rounded), [b] in (2^(b-2), 2^(b-1)] for
 * b = 1 .. 31, [32] above 2^30 and finite, [33] +inf (a violation). */
enum { UG_HIST_BINS = 34, UG_HIST_INF = 33, UG_HIST_BIG = 32 };
size_t ug_hist_bin(double ulp);

/* What one (kernel, family) pair adds to its kernel's summary (ug_kreport): measured, or
 * read back from a shard file (shard.h). */
typedef struct ug_famfig {
    double max_ulp, p99;
    size_t outputs, correct, violations, over_bound, kernel_errors;
    int failed;
    size_t hist[UG_HIST_BINS];
} ug_famfig;

/* One kernel over every input family. */
typedef struct ug_kreport {
    const ug_kernel *k;
    double max_ulp;            /* over every family                                      */
    double p99;                /* the largest per-family p99                              */
    const char *worst_family;  /* where max_ulp was seen                                  */
    size_t outputs, correct, violations, over_bound, kernel_errors;
    int failed;                /* broke its claim on some family                          */
    char caught_by[512];       /* the families on which it failed, comma separated        */
    size_t hist[UG_HIST_BINS];
} ug_kreport;

/* One panel of the "compute the loss from logits" comparison. */
typedef struct ug_compare_def {
    const char *id;            /* anchor and file name part: "softmax-shift"              */
    const char *title;
    const char *lesson;        /* one sentence: what the panel shows                      */
    ug_op op;
    const char *axis;          /* a boundary direction                                    */
    double lo, hi;             /* the swept range of its parameter                        */
} ug_compare_def;

enum { UG_COMPARE_COUNT = 4 };
const ug_compare_def *ug_compare_at(size_t i);

/* The speed of one production kernel, read from `ulpgate bench --json FILE` (report
 * --bench FILE): the report never times anything itself, so that its bytes stay a pure
 * function of its inputs. */
typedef struct ug_speed {
    size_t kernel;             /* index into ug_report.ks                                 */
    size_t rows, n;            /* the shape of the figure (n closest to 1024)              */
    double ns;                 /* ns per element                                          */
} ug_speed;

typedef struct ug_report {
    const char *cmd;
    uint64_t seed;
    int quick;
    size_t rows_max;           /* family rows cap (0: the families' defaults)             */
    const ug_kernel **ks;
    size_t nk;
    ug_kreport *kr;            /* nk                                                      */
    json_object *results;      /* check results, as `ulpgate check --json`                */
    ug_inputs inputs;
    ug_pairs pairs;            /* the (kernel, family) pairs measured (measure.h)         */
    ug_famfig *figs;           /* pairs.count: results[u] and figs[u] are pair u's        */
    ug_split split;            /* --threads, --shard                                      */
    ug_bconfig bcfg;
    ug_bresult *bres;          /* nk * ug_bdir_count()                                    */
    ug_sweep spread, length;
    ug_sweep cmp[UG_COMPARE_COUNT];
    const ug_kernel **cmp_ks[UG_COMPARE_COUNT];  /* the f32 kernels of the op               */
    const ug_kernel **cmp_all[UG_COMPARE_COUNT]; /* every kernel of the op                   */
    size_t cmp_nall[UG_COMPARE_COUNT];
    size_t cmp_nf32[UG_COMPARE_COUNT];
    ug_bresult *cmp_viol[UG_COMPARE_COUNT];      /* cmp_all x directions: where each first
                                                    returns inf, NaN or a wrong 0 (violations
                                                    only), on the comparison's axis           */
    size_t checked, passed, canaries, caught;
    const struct ug_peers *peers; /* --peers: other implementations (peers.h), or NULL    */
    const char *bench;         /* --bench FILE as given, or NULL                           */
    char bench_isa[32];        /* the "isa" of that file                                   */
    ug_speed *speed;           /* nspeed figures, in registry order                        */
    size_t nspeed;
} ug_report;

/* The measuring options of (seed, quick) into r (rows, boundary caps), and the arrays
 * for r->nk kernels: what `report` and `merge` (cmd_merge.c) share. */
void ug_report_setup(ug_report *r, uint64_t seed, int quick);

/* The kernels' summaries (kr, checked, passed, canaries, caught) from figs, pair by pair
 * in order. */
void ug_report_tally(ug_report *r);

/* Write DIR/report.json, report.md and report.html (atomically, all three renamed at the
 * end); DIR is created if needed. */
void ug_report_write(ug_report *r, const char *dir);
void ug_report_free(ug_report *r);

/* The boundary result of kernel i in direction d. */
const ug_bresult *ug_report_boundary(const ug_report *r, size_t i, size_t d);

/* Where kernel k (of comparison c's op) first returns inf, NaN or a wrong zero on the
 * comparison's axis. */
const ug_bresult *ug_report_violation(const ug_report *r, size_t c, const ug_kernel *k);

/* report.md into f. */
void ug_report_md(FILE *f, const ug_report *r, const char *plots_note);

/* The plots (SVG, base64) of the report, or NULL each when plots are skipped. */
typedef struct ug_plots {
    char *hist[UG_OP_COUNT], *spread[UG_OP_COUNT], *length[UG_OP_COUNT];
    char *bmap[UG_DTYPE_COUNT];
    char *cmp[UG_COMPARE_COUNT];
    char *speed;               /* worst ULP against ns per element (report --bench)       */
    int skipped;
    char why[512];
} ug_plots;

void ug_report_plots(ug_plots *p, const ug_report *r, const char *cmd);
void ug_plots_free(ug_plots *p);

/* report.html into f. */
void ug_report_html(FILE *f, const ug_report *r, const ug_plots *p);

/* s with & < > " escaped for HTML (report_html.c). */
void ug_html_esc(FILE *f, const char *s);

/* A figure as short text: %.3g, "inf", "-" for NaN. */
void ug_report_num(char *buf, size_t size, double v);

#endif
