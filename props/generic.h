/* The property suite's template, in the spirit of MPFR's tests/tgeneric.c: every property
 * is one function of a registered kernel, and a test file instantiates a list of
 * properties for every row of core/kernels.def, so that adding a kernel adds its tests
 * with no edit here.
 *
 * A test file:
 *
 *     #include <criterion/criterion.h>
 *     #include "generic.h"
 *     #define UG_KERNEL(fn, name, ...) PROP_RELATIONS(PROP_TEST, fn, name)
 *     #include "kernels.def"
 *     #undef UG_KERNEL
 *
 * gives one Criterion test per kernel and property, named <kernel fn>::<property>, e.g.
 * ug_k_softmax_twopass_f32::shift_invariance, so that a failure reads like a sentence.
 * A property that does not apply to a kernel (its op, its role, an ISA this CPU lacks)
 * skips with the reason.
 * Canary kernels skip every property here: props/test_canaries.c runs the same functions
 * on them in probe mode and asserts that at least one flags each canary.
 *
 * A property never asserts: it fills a prop_report (checked, failed, the first failure
 * with its input row as hex floats in the worst-case file format (props/data/ *.wc headers),
 * and the largest measured error even when it passes).  PROP_TEST turns the report into
 * a Criterion verdict and prints the largest error.
 *
 * Every float comparison goes through oracle/ulp.h (ug_compare, ug_same_bits) or is a
 * measurement done exactly in MPFR (prop_close, prop_sum_within): nothing here compares
 * floats with == (STYLE.md rule 7).
 *
 * Bounds are derived from the kernel's claim (ug_bound_at) and n, never guessed; the
 * derivations are written above each property (props/prop_*.c) and, for the two shared
 * measurements, below.
 */
#ifndef ULPGATE_PROPS_GENERIC_H
#define ULPGATE_PROPS_GENERIC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mpfr.h>

#include "families.h"
#include "judge.h"
#include "oracle.h"
#include "ulp.h"
#include "ulpgate/registry.h"

/* ================================================================ the property lists
 *
 * P(fn, name, property) for each property of a group; a test file picks its groups.  The
 * same lists build the table prop_at() that test_canaries.c iterates. */

/* props/prop_accuracy.c: the judge against the oracle, every family, fixed seeds */
#define PROP_ACCURACY(P, fn, name)                \
    P(fn, name, claim_on_every_family)            \
    P(fn, name, claim_under_sum_and_mean)

/* props/prop_invariants.c: what every output of one call must satisfy */
#define PROP_INVARIANTS(P, fn, name)              \
    P(fn, name, outputs_in_range)                 \
    P(fn, name, softmax_rows_sum_to_one)          \
    P(fn, name, gradient_rows_sum_to_zero)        \
    P(fn, name, monotone_in_the_logits)

/* props/prop_relations.c: metamorphic relations of one kernel with itself */
#define PROP_RELATIONS(P, fn, name)               \
    P(fn, name, shift_invariance)                 \
    P(fn, name, permutation_equivariance)         \
    P(fn, name, masks_leave_other_outputs_unchanged) \
    P(fn, name, batched_equals_row_by_row)        \
    P(fn, name, same_input_same_bits)             \
    P(fn, name, bce_label_flip_symmetry)          \
    P(fn, name, reductions_agree_with_rows)

/* props/prop_pairs.c: relations between two ops (a kernel and its partners: every
 * non-canary kernel of the other op, same dtype) */
#define PROP_PAIRS(P, fn, name)                   \
    P(fn, name, log_softmax_equals_x_minus_logsumexp) \
    P(fn, name, xent_equals_logsumexp_minus_target) \
    P(fn, name, sparse_xent_equals_dense_on_one_hot) \
    P(fn, name, gradient_equals_softmax_minus_onehot)

/* props/prop_special.c: every entry of oracle/SPECIAL.md */
#define PROP_SPECIAL(P, fn, name) P(fn, name, special_values_match_the_table)

/* props/prop_worstcases.c: props/data/ *.wc */
#define PROP_WORSTCASES(P, fn, name) P(fn, name, claim_on_worst_case_files)

#define PROP_ALL(P, fn, name)                                                                 \
    PROP_ACCURACY(P, fn, name) PROP_INVARIANTS(P, fn, name) PROP_RELATIONS(P, fn, name)      \
    PROP_PAIRS(P, fn, name) PROP_SPECIAL(P, fn, name) PROP_WORSTCASES(P, fn, name)

/* ================================================================ reports */

typedef struct prop_report {
    const ug_kernel *k;
    const char *property;
    int probe;           /* 1: canary probe mode (test_canaries.c): stop at the first failure */
    size_t big_n;        /* 0, or the long-row mode of props/slow_prop_large_n.c: one row of
                            length big_n per family that scales (default length >= 64)     */
    size_t checked;      /* outputs or relations checked                                  */
    size_t failed;
    double worst;        /* the largest measured figure (meaning in worst_what)          */
    const char *worst_what; /* e.g. "ULP", "of the derived allowance"                   */
    char worst_at[512];  /* where the largest figure was seen                           */
    char first[4096];    /* the first failure, with its input row                       */
    char skip[256];      /* non-empty: the property does not apply                      */
} prop_report;

typedef void (*prop_fn)(const ug_kernel *k, prop_report *r);

void prop_report_init(prop_report *r, const ug_kernel *k, const char *property);
void prop_skip(prop_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Count a failure; the first one's message is kept. */
void prop_fail(prop_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Note a measured figure; the largest is kept with where it was seen. */
void prop_seen(prop_report *r, double figure, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* In probe mode, a property may stop once it has failed. */
int prop_done(const prop_report *r);
/* Rows per family a property samples: rows, or 2 in probe mode (a canary fails on
 * almost any row; the probe must stay quick over 43 canaries), or 1 in long-row mode. */
size_t prop_rows(const prop_report *r, size_t rows);
/* The longest rows a property takes (max_n, or big_n in long-row mode) and the length it
 * asks the families for (0: their own; big_n in long-row mode). */
size_t prop_max_n(const prop_report *r, size_t max_n);
size_t prop_n(const prop_report *r);

/* The filter shared by every property: a kernel this CPU cannot run skips
 * (ug_kernel_available), and so do canaries (they are probed by test_canaries.c), unless
 * the report is in probe mode.  Returns 1 when skipped. */
int prop_skip_canary(prop_report *r);
/* Skip unless k->op is one of ops[0..count). Returns 1 when skipped. */
int prop_skip_unless_op(prop_report *r, const ug_op *ops, size_t count, const char *why);

/* The table of every property (PROP_ALL), for probe mode. */
typedef struct prop_entry {
    const char *name;
    prop_fn fn;
} prop_entry;
size_t prop_count(void);
const prop_entry *prop_at(size_t i);

#define PROP_DECLARE(fn, name, property) void prop_##property(const ug_kernel *k, prop_report *r);
PROP_ALL(PROP_DECLARE, _, _)

/* ================================================================ cases */

/* A problem held as doubles (each a value of the dtype, exactly), rows x n. */
typedef struct prop_case {
    ug_op op;
    ug_dtype dt;
    size_t rows, n;
    double *x;          /* rows * n logits                                              */
    int64_t *target;    /* rows targets, or NULL                                        */
    double *aux;        /* rows * n probabilities or labels, or NULL                    */
    char origin[96];    /* where it came from: "normal1 seed 2 row 7", "props/data/x.wc:12" */
} prop_case;

prop_case *prop_case_new(ug_op op, ug_dtype dt, size_t rows, size_t n, int with_target, int with_aux);
void prop_case_free(prop_case *c);
prop_case *prop_case_copy(const prop_case *c);
/* Rows [r0, r0 + rows) of c as a case of its own. */
prop_case *prop_case_rows(const prop_case *c, size_t r0, size_t rows);
/* The same rows for another op: targets and aux kept when the new op uses them, else
 * dropped; missing ones are made: target 0 is never a mask if avoidable, aux one-hot at
 * the target (probabilities) or 1 (labels). */
prop_case *prop_case_for_op(const prop_case *c, ug_op op);
prop_case *prop_case_from_batch(const ug_batch *b, const char *origin);
ug_batch *prop_case_to_batch(const prop_case *c);

/* "op dtype [target=T] : x0 x1 ... [| a0 a1 ...]" for row r (rows = 1 cases: r = 0):
 * the worst-case file format, so that a failing row can be pasted into props/data. */
void prop_fmt_row(char *buf, size_t size, const prop_case *c, size_t r);

/* Run k on c with reduction red; its ug_output_count outputs go to out.  y is filled
 * with the byte `fill` before the call.  Returns the kernel's status. */
ug_status prop_call(const ug_kernel *k, const prop_case *c, ug_reduction red, unsigned char fill, double *out);

/* The claimed bound of every output of k on c (ug_bound_at with the oracle's kappa; the
 * oracle is run only when the claim has a kappa term).  b has ug_output_count entries;
 * returns 0, or -1 when the oracle refused the case. */
int prop_bounds(const ug_kernel *k, const prop_case *c, ug_reduction red, double *b);

/* Number of outputs of c under red. */
size_t prop_outputs(const prop_case *c, ug_reduction red);

/* Every row of every family that supports dt, generated for op with seed, as rows = 1
 * cases (at most max_rows rows per family; rows longer than max_n skipped).  n = 0: the
 * families' own lengths; n > 0: rows of length n from every family whose default rows
 * are at least 64 long and of one length (the families meant to scale).  The families'
 * own targets and aux rows are kept. */
typedef struct prop_cases {
    size_t count;
    prop_case **items;
} prop_cases;
void prop_family_rows(ug_op op, ug_dtype dt, uint64_t seed, size_t max_rows, size_t max_n, size_t n,
                      prop_cases *out);
/* The batches (rows >= 1) of every family as above, each at most max_rows rows. */
void prop_family_batches(ug_op op, ug_dtype dt, uint64_t seed, size_t max_rows, size_t max_n, size_t n,
                         prop_cases *out);
void prop_cases_free(prop_cases *l);
void prop_cases_add(prop_cases *l, prop_case *c);

/* The classes of SPECIAL.md, for one row of logits. */
typedef enum prop_row_kind {
    PROP_ROW_FINITE, /* every entry finite or -inf, at least one finite */
    PROP_ROW_NAN,    /* a NaN somewhere                                  */
    PROP_ROW_POSINF, /* no NaN, at least one +inf                        */
    PROP_ROW_MASKED  /* every entry -inf                                 */
} prop_row_kind;
prop_row_kind prop_row_kind_of(const double *x, size_t n);
int prop_is_mask(double v); /* v is -inf */

/* Run k on every row of prop_family_rows(k->op, k->dtype, seed, prop_rows(r, max_rows),
 * prop_max_n(r, max_n), prop_n(r)), each as its own call (rows = 1, reduction none), and
 * hand check the row, the outputs and their claimed bounds.  A kernel error is a
 * failure.  Stops early in probe mode. */
typedef void (*prop_row_check)(const ug_kernel *k, prop_report *r, const prop_case *c, const double *y,
                               const double *b);
void prop_each_row(const ug_kernel *k, prop_report *r, uint64_t seed, size_t max_rows, size_t max_n,
                   prop_row_check check);

/* Judge k on b with reduction red (oracle run here): the outputs are counted into r, a
 * failure (over the claim, a violation, a kernel error) is recorded with its input row,
 * the largest ULP error noted with origin.  Returns UG_OK or the oracle's refusal. */
ug_status prop_judge(const ug_kernel *k, prop_report *r, const ug_batch *b, ug_reduction red, const char *origin);

/* ================================================================ case lines
 *
 * One case per line, as in the worst-case files (the format is at the top of every
 * props/data/ *.wc file and of oracle/wc.h; parsed by oracle/wc.c):
 *   OPS DTYPES [target=T,...] [reduction=none|sum|mean|all] : ROW [; ROW] [| AUX [; AUX]]
 * prop_wc_cases appends the cases of line for (op, dt) to out (xent_grad: one per form the
 * line gives) and sets *reds (bit per reduction); returns the number added, 0 when the
 * line is not for op and dt, -1 on a syntax error (message in err). */
int prop_wc_cases(const char *line, const char *origin, ug_op op, ug_dtype dt, prop_cases *out, unsigned *reds,
                  char *err, size_t size);

/* Every case of a file for (op, dt), handed to visit (which must not keep c); lines
 * starting with '#' are comments, and "# from: SOURCE" names the source of the cases that
 * follow (it goes into each case's origin).  Returns 0, or -1 with the message. */
typedef void (*prop_wc_visit)(void *ctx, const prop_case *c, unsigned reds);
int prop_wc_file_cases(const char *path, ug_op op, ug_dtype dt, prop_wc_visit visit, void *ctx, char *err,
                       size_t size);

/* The worst-case files props/data/ *.wc, full paths in name order; returns the count
 * (-1 when the folder cannot be read). */
int prop_wc_files(char ***names);
void prop_wc_files_free(char **names, int count);

/* ================================================================ measurements
 *
 * The claim.  For an output y of exact value v, the kernel claims |y - v| <= b ulp(v),
 * b = ug_bound_at(k, n, kappa) (registry.h), ulp as in oracle/ulp.h:
 * ulp(v) = 2^(max(e, emin) - p + 1) for |v| in [2^e, 2^(e+1)), ulp(0) = sigma, the
 * smallest subnormal.
 *
 * ulp(v) from y (prop_ulp_upper).  Without the oracle, v is unknown; but
 *     ulp(v) <= max(2^(1-p) |v|, sigma) <= 2^(1-p) |v| + sigma                    (1)
 * and |v| <= |y| + b ulp(v) <= |y| + b (2^(1-p) |v| + sigma), so, when b 2^(1-p) < 1,
 *     |v| <= (|y| + b sigma) / (1 - b 2^(1-p))                                   (2)
 *     ulp(v) <= U(y, b) := 2^(1-p) (|y| + b sigma) / (1 - b 2^(1-p)) + sigma.    (3)
 * U is within a factor 2 (1 + b 2^(2-p)) of ulp(y).  For b >= 2^(p-2) (a claim of a
 * quarter of the binade or more) U is taken as +inf: the claim says nothing useful.
 *
 * Two computed values of one kernel or of two (prop_close).  If y1 approximates v1 with
 * claim b1 and y2 approximates v2 = v1 - delta (delta known exactly) with claim b2, then
 *     |y1 - delta - y2| <= |y1 - v1| + |v2 - y2| <= b1 U(y1, b1) + b2 U(y2, b2).     (4)
 * The left side is formed exactly in MPFR, the right side rounded upward.  NaN and
 * infinities are not measured: they must have the same bits (ug_same_bits), because
 * both values approximate exact values of the same class (the callers ensure it) and a
 * NaN or an infinity that differs from the exact one is a violation (ug_compare).  Zeros
 * of either sign are 0 in (4).
 *
 * A sum measured exactly (prop_sum_within): sum_i y_i against an exact S = sum_i v_i:
 *     |sum_i y_i - S| <= sum_i b_i ulp(v_i) <= sum_i b_i U(y_i, b_i).               (5)
 */

/* U(y, b) of (3) into u (rounded up; +inf when b >= 2^(p-2) or b is not finite). */
void prop_ulp_upper(mpfr_t u, ug_dtype dt, double y, double b);

/* (4): 1 when |y1 - delta - y2| <= b1 U(y1, b1) + b2 U(y2, b2) (delta NULL: 0), with
 * *ratio the left side over the right (0 for matching specials, +inf for a mismatch). */
int prop_close(ug_dtype dt, double y1, double b1, double y2, double b2, mpfr_srcptr delta, double *ratio);

/* (5): 1 when |sum y_i - S| <= sum b_i U(y_i, b_i); *ratio as above; *sum_out (may be
 * NULL) receives the exact sum minus S rounded to a double, for messages. */
int prop_sum_within(ug_dtype dt, const double *y, const double *b, size_t n, mpfr_srcptr S, double *ratio,
                    double *diff_out);

/* acc += w b U(y, b), rounded up: the allowance of (4) and (5) for one value. */
void prop_allowance_add(mpfr_t acc, ug_dtype dt, double y, double b, double w);

/* Outputs of k on c under red (malloc'd, ug_output_count of them) and, when b is not
 * NULL, their claimed bounds (malloc'd).  NULL when the kernel refused a valid case or
 * the oracle refused it (a failure recorded in r with the row). */
double *prop_run_case(const ug_kernel *k, prop_report *r, const prop_case *c, ug_reduction red, double **b);

/* An exact-enough MPFR scratch: prec bits enough for any exact sum of a few thousand
 * doubles (2^-1074 .. 2^1024 and carries). */
#define PROP_EXACT_PREC 2300

/* 1 when x + c is exact in dt (c a power of 2), x any value (non-finite: 1). */
int prop_add_exact(ug_dtype dt, double x, double c);

/* ================================================================ Criterion glue */

#ifdef CRITERION_H_
/* Run property fn on the kernel called name and turn its report into a verdict: skip
 * with the reason, fail with the first failure, or pass; the largest figure is printed
 * to stderr either way.  big_n: 0, or the long-row mode (slow_prop_large_n.c). */
static inline void prop_run_n(const char *name, const char *property, prop_fn fn, size_t big_n)
{
    const ug_kernel *k = ug_kernel_find(name);
    cr_assert_not_null(k, "%s is not in the registry", name);
    prop_report r;
    prop_report_init(&r, k, property);
    r.big_n = big_n;
    fn(k, &r);
    if (r.skip[0] != '\0')
        cr_skip_test("%s: %s", name, r.skip);
    fprintf(stderr, "%-28s %-40s %6zu checked, %zu failed; largest %.4g %s%s%s\n", name, property, r.checked,
            r.failed, r.worst, r.worst_what ? r.worst_what : "", r.worst_at[0] ? " at " : "", r.worst_at);
    cr_expect(r.checked > 0, "%s %s: nothing was checked", name, property);
    cr_expect(r.failed == 0, "%s %s: %zu of %zu checks failed; first: %s", name, property, r.failed, r.checked,
              r.first);
}

static inline void prop_run(const char *name, const char *property, prop_fn fn)
{
    prop_run_n(name, property, fn, 0);
}

#define PROP_TEST(fn, name, property) \
    Test(fn, property, .timeout = 240) { prop_run(name, #property, prop_##property); }
#endif

#endif
