/* The judge: runs a registered kernel and the oracle on the same batches and measures.
 *
 * Kernel-agnostic: it knows a kernel only through its registry row (op, dtype, fn, bound,
 * name) and treats production, variant and canary kernels alike; what a failure means is
 * the caller's business.  Every output is compared with ug_compare (oracle/ulp.h), the
 * one comparison of floats in the project; the judge never compares values itself.
 *
 * For each output y of exact e (ug_exact): the class of ug_compare, its ULP error F (the
 * unrounded error x rounded up to 24 bits, ulp.h), and whether x is over the kernel's
 * claimed bound ug_bound_at(k, n, e.kappa) (decided on x exactly, ANALYSIS.md §6).
 * Accumulated over any number of batches (families x seeds): counts per class, outputs over
 * bound, correctly rounded (F <= 0.5, class ok: exactly x <= 0.5) and faithful (x < 1, class
 * ok: ug_cmp.below1) outputs, the
 * max, the mean and exact order statistics of the ULP errors (every error is kept; a
 * sorted copy gives p50, p99, p99.9 by the nearest-rank rule), the worst output and the
 * output most over its bound, each with the input row(s) it came from.
 *
 * A kernel that returns a status other than UG_OK on a batch the oracle accepts, writes
 * past its outputs, or writes to its inputs, is a failure of the kernel (kernel_errors),
 * never a crash of the judge; none of that batch's outputs is compared.
 */
#ifndef ULPGATE_ORACLE_JUDGE_H
#define ULPGATE_ORACLE_JUDGE_H

#include <stddef.h>

#include "families.h"
#include "oracle.h"
#include "ulp.h"
#include "ulpgate/registry.h"

/* The oracle's answer for one batch, computed once and judged against any number of
 * kernels of the batch's op and dtype. */
typedef struct ug_expect {
    const ug_batch *batch;
    ug_reduction red;
    size_t count;      /* ug_output_count(op, rows, n, red)                       */
    ug_exact *exact;   /* count values, NULL when the oracle refused the batch    */
    ug_status status;  /* the oracle's status (UG_OK for every valid batch)       */
    ug_cmp *at_rounded;/* NULL, or (ug_expect_memo) per output ug_expect_compare of
                          its correctly rounded value once asked (cls
                          UG_CMP_CLASS_COUNT before)                               */
} ug_expect;

/* Evaluate the oracle on b with reduction red (ug_oracle_eval_lazy: values may be lazy).
 * Returns e->status, or UG_ERR_NOMEM. */
ug_status ug_expect_init(ug_expect *e, const ug_batch *b, ug_reduction red);
void ug_expect_free(ug_expect *e);

/* From now on compare each output's correctly rounded value once (at_rounded), whichever
 * kernel returns it: most kernels do, and each would ask again.  For a caller that judges
 * many kernels against e on one thread (the fuzz harness): e is written by every compare
 * then, and must not be shared between threads.  UG_OK, or UG_ERR_NOMEM. */
ug_status ug_expect_memo(ug_expect *e);

/* Make e->exact[i].value available (computed by the MPFR oracle if it was lazy); every
 * reader of a value of an expect calls this first.  UG_OK, or the oracle's status. */
ug_status ug_expect_value(const ug_expect *e, size_t i);

/* mpfr_get_d_2exp(exp, value, MPFR_RNDN) of output i when its value is a nonzero number
 * (then 1; else 0), from the fast path's enclosure when it decides it, else from the value. */
int ug_expect_value_2exp(const ug_expect *e, size_t i, double *m, long *exp);

/* ug_compare of y with output i: from the fast path's enclosure when it decides the ULP
 * error (ug_compare_lazy), else from the value (ug_expect_value).  The same result as
 * ug_compare on the MPFR oracle's answer, bit for bit (at_rounded or not). */
ug_cmp ug_expect_compare(const ug_expect *e, size_t i, double y);

/* Whether output i's unrounded ULP error exceeds bound, for y with ug_expect_compare(e, i,
 * y).ulp = ulp (an OK class): decided exactly (the rounded-up ulp > bound alone can be a
 * false alarm within 2^-23 of the bound, ANALYSIS.md §6). */
int ug_expect_exceeds(const ug_expect *e, size_t i, double y, double ulp, double bound);

/* One judged output and the input it came from: enough to print it and replay it. */
typedef struct ug_judge_sample {
    ug_batch *input;     /* a copy of the output's row (all rows for a reduced output),
                            first_row = its row in the family generation; NULL: unset  */
    size_t output;       /* index among the batch's outputs                           */
    size_t row;          /* its row in the batch (0 for a reduced output)             */
    size_t col;          /* its position in the row's outputs                         */
    int reduced;         /* a sum or mean over every row of the batch                 */
    ug_reduction red;    /* that reduction (UG_RED_NONE when not reduced)             */
    double computed;     /* the kernel's value (a dtype value, exactly)               */
    double exact;        /* the correctly rounded value                               */
    char exact_hex[80];  /* the unrounded exact value, %Ra at UG_ORACLE_PREC bits;
                            "" while hex_pending (ug_judge_batch_defer)                */
    int hex_pending;     /* exact_hex not made yet: ug_judge_resolve makes it          */
    double ulp;          /* ULP error (+inf for a violation)                          */
    double bound;        /* ug_bound_at(k, n, kappa)                                  */
    double kappa;
    ug_cmp_class cls;
    ug_status status;    /* not UG_OK: the kernel refused the batch (nothing compared) */
    const char *why;     /* kernel errors: "status", "overrun", "input-modified"      */
} ug_judge_sample;

typedef struct ug_judge {
    const ug_kernel *k;
    size_t batches;                    /* batches judged                              */
    size_t outputs;                    /* outputs compared                            */
    size_t cls[UG_CMP_CLASS_COUNT];    /* outputs per class (UG_CMP_OK: no violation) */
    size_t over_bound;                 /* class ok and ulp > bound                    */
    size_t correct;                    /* class ok and ulp <= 0.5                     */
    size_t faithful;                   /* class ok and ulp < 1                        */
    size_t kernel_errors;              /* batches the kernel failed on                */
    double max_ulp;                    /* over every output (+inf with a violation)   */
    double sum_ulp;                    /* over the class-ok outputs                   */
    double *errs;                      /* every output's ULP error, in judging order  */
    size_t nerrs, cap;
    ug_judge_sample worst;             /* the first output of the largest ULP error   */
    ug_judge_sample excess;            /* the first output most over its bound, or the
                                          first kernel error                          */
    int counts_only;                   /* set after ug_judge_init: no sample is taken
                                          (worst and excess stay empty), every count and
                                          error is the same; for a caller that reads the
                                          samples only of a failure and then judges again
                                          without it (the fuzz harness, fuzz/harness.c)  */
} ug_judge;

typedef struct ug_judge_stats {
    size_t outputs;
    double max_ulp, mean_ulp;          /* mean over class-ok outputs                  */
    double p50, p99, p999;             /* nearest rank over every output              */
    double pct_correct, pct_faithful;  /* of every output                             */
} ug_judge_stats;

void ug_judge_init(ug_judge *j, const ug_kernel *k);
void ug_judge_free(ug_judge *j);

/* Judge j's kernel on b against e (e NULL: the oracle is run here, reduction none).
 * Returns UG_OK; UG_ERR_ARG when b is not of the kernel's op and dtype; the oracle's
 * status when it refused b (a bad batch, not the kernel's fault; nothing judged);
 * UG_ERR_NOMEM. */
ug_status ug_judge_batch(ug_judge *j, const ug_batch *b, const ug_expect *e);

/* As ug_judge_batch, but the samples' exact_hex may be left pending (hex_pending) when
 * the oracle's value was lazy: a caller judging many small batches (the fuzzers) calls
 * ug_judge_resolve only before it reads exact_hex.  ug_judge_batch and ug_judge_list
 * resolve before they return. */
ug_status ug_judge_batch_defer(ug_judge *j, const ug_batch *b, const ug_expect *e);
/* Make the pending exact_hex of j's samples (the MPFR oracle on the sample's input). */
ug_status ug_judge_resolve(ug_judge *j);

/* Every batch of l, with e[i] for l->items[i] (e NULL: computed here). */
ug_status ug_judge_list(ug_judge *j, const ug_batch_list *l, const ug_expect *e);

/* The statistics (sorts a copy of the errors); all zero when nothing was compared. */
ug_judge_stats ug_judge_summary(const ug_judge *j);

/* 1 when the kernel broke its claim: an output over its bound, a special-value or
 * overflow violation, or a kernel error. */
int ug_judge_failed(const ug_judge *j);

/* 1 when a and b hold bit-identical results: the same kernel, counts, every ULP error,
 * max and sum, and the same worst and excess samples (inputs, values, exact_hex). */
int ug_judge_same(const ug_judge *a, const ug_judge *b);

/* Outputs in violation (every class but UG_CMP_OK). */
size_t ug_judge_violations(const ug_judge *j);

#endif
