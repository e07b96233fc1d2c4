/* Boundaries: where along an axis of inputs a kernel first fails, found by bisection over
 * the dtype's representable values.  Shared by `ulpgate boundary`, `gate` and `report`.
 *
 * THE AXES (one fixed family of rows per axis; the value v of the axis is the parameter)
 *
 *   shift+ / shift-  x = r + c, r = [0, -128], c = +v / -v, v in [0, max]: every entry
 *                    rounded once to the dtype.  Softmax, log_softmax and the losses do not
 *                    depend on c; what moves is every unshifted exp.  e^-128 is below half
 *                    an ULP of 1 in every dtype, so a kernel that exponentiates without a
 *                    shift computes exp(c) / exp(c) = 1 exactly until exp(c) overflows (+)
 *                    or underflows to 0 (-): on this row softmax.naive.f32 fails first at
 *                    the float after 0x1.62e42ep+6 ~= 88.72 (the largest float whose expf is
 *                    finite), and nowhere before.  Target 0.
 *   spread           x = [0, -v], v in [0, max]; target 1 (the small logit): losses ~ v,
 *                    softmax_1 ~ e^-v underflows.
 *   dominance        n = 16, x_0 = v, the other 15 logits 0, target 0: the loss
 *                    log(1 + 15 e^-v) tends to 0, softmax_0 to 1.
 *   length           x = [0, 0, ..., 0] of n = v entries, v in [1, cap] (cap 2^20, 2^16 for
 *                    bce_logits, whose oracle costs a log1p per element); target 0;
 *                    bce_logits uses the mean reduction there (its only dependence on n).
 *                    Outputs 1/n, log n: a running sum that stalls shows.
 * Probability rows (xent_dense) are one-hot at the target; bce labels are 1 at the target
 * and 0 elsewhere; xent_grad is judged with sparse targets.
 *
 * A kernel FAILS at a point when the judge says so (judge.h: ug_judge_failed): an output
 * that is inf or NaN where the exact value is finite, finite where it is not, a zero where
 * the correctly rounded value is not zero (an error of 2^(p-1) ULP or more, over any
 * bound), an output over the kernel's claimed bound, or a kernel error.  Nothing here
 * compares floats: every output goes through ug_compare.
 *
 * THE SEARCH.  Along a float axis the points are the dtype's values 0 <= v <= max, in the
 * order of their encodings (for non-negative IEEE values the integer encoding is monotone
 * in the value), so bisection on the integer code finds the boundary to one ULP of the
 * dtype; along the length axis the points are the integers n.
 *   1. probes: every 2^k along the axis (f32: every 2nd binade, f64: every 8th, bf16: every
 *      binade, length: n = 1, 2, 4, ..., cap) and the end of the axis;
 *   2. the first failing probe and the passing probe before it bracket the boundary; it
 *      is bisected down to two neighbouring points: the last that passes and the first that
 *      fails (the boundary);
 *   3. monotonicity: the search assumes that failure is monotone along the axis (pass up to
 *      the boundary, fail from there on).  It is checked, not trusted: every probe after
 *      the boundary must fail, and the points at distance 2, 4, 8, ... codes below the
 *      boundary must pass and those above it fail (up to the bracketing probes; at most
 *      4 each way on the length axis).  A contradiction is reported with the point.  When
 *      a point below the boundary fails, the bracket is bisected again below it (up to 8
 *      times), so the boundary reported is the earliest failure found, and the point
 *      before the first boundary (which passes, after a failure) is the contradiction.
 * The oracle's own boundary on the same axis (where more correctly rounded outputs
 * overflow to +-inf, or underflow to 0 while the exact value is not 0, than at the start
 * of the axis) is found the same way, so that a line shows the distance between the two.
 */
#ifndef ULPGATE_REPORTS_BOUNDARY_H
#define ULPGATE_REPORTS_BOUNDARY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "families.h"
#include "parallel.h"
#include "ulp.h"
#include "ulpgate/registry.h"

typedef enum ug_axis { UG_AXIS_SHIFT = 0, UG_AXIS_SPREAD, UG_AXIS_DOMINANCE, UG_AXIS_LENGTH } ug_axis;

/* One direction along one axis: a line of output per kernel. */
typedef struct ug_bdir {
    const char *name;  /* "shift+", "shift-", "spread", "dominance", "length"     */
    ug_axis axis;
    int sign;          /* +1, or -1 for shift-                                   */
    const char *param; /* "c", "s", "d", "n"                                     */
    const char *row;   /* the row in words, for help texts and reports          */
} ug_bdir;

size_t ug_bdir_count(void);
const ug_bdir *ug_bdir_at(size_t i);
const ug_bdir *ug_bdir_find(const char *name);

/* Largest n on the length axis (defaults 2^20, and 2^16 for bce_logits); and what counts
 * as a failure: 0 what the judge says (the default); 1 only an outright break, ignoring
 * the ULP claim: an output in violation (inf, NaN, a zero of the wrong sign), a kernel
 * error, or an error of 2^(p-1) ULP or more (p the dtype's precision: no correct bit, as
 * a 0 where the exact result is a normal number). */
typedef struct ug_bconfig {
    uint64_t length_cap;
    uint64_t length_cap_bce;
    int violations_only;
    ug_split split;       /* threads and shard (parallel.h); zero: one thread, no shard */
} ug_bconfig;

#define UG_BCONFIG_DEFAULT ((ug_bconfig){1u << 20, 1u << 16, 0, {0, 0, 0}})

typedef enum ug_bkind {
    UG_B_NEVER = 0, /* no failure anywhere on the axis (every probe passed)        */
    UG_B_FOUND,     /* fails from `at` on; `last_pass` is the point before it     */
    UG_B_ORIGIN     /* fails at the start of the axis already                     */
} ug_bkind;

/* What a kernel returned at a failing point: the output most over its bound. */
typedef struct ug_bsample {
    int valid;
    size_t output;      /* index among the outputs                                   */
    double computed;    /* the kernel's value                                        */
    double exact;       /* the correctly rounded value                               */
    double ulp, bound;
    ug_cmp_class cls;
    ug_status status;   /* not UG_OK: the kernel refused the input                   */
    const char *why;
} ug_bsample;

typedef struct ug_bresult {
    const ug_kernel *k;
    const ug_bdir *dir;
    ug_bkind kind;
    double at, last_pass; /* axis values (signed; n on the length axis)             */
    double end;           /* the last point of the axis                             */
    ug_bsample sample;    /* at `at`                                                */
    int monotone;         /* no contradiction found                                 */
    double counter;       /* the contradicting point                                */
    int counter_passes;   /* 1: it passes after the boundary; 0: it fails before    */
    ug_bkind exact_kind;  /* the oracle's boundary: where the exact result stops     */
    double exact_at;      /* being representable                                    */
    const char *exact_what; /* "overflows to inf", "underflows to 0"                */
    size_t evals;         /* kernel evaluations spent on this line                  */
} ug_bresult;

/* The boundaries of every kernel of ks on every direction (only that one when `only` is
 * not NULL): out[i * ug_bdir_count() + d]; lines not searched keep k = NULL.
 * Kernels of one op and dtype share the oracle's answers at the probes.  The units of
 * cfg->split (parallel.h) are (op and dtype, direction), ordered by the first kernel of
 * the op and dtype, then direction: each is searched on some thread, and with a shard
 * only the shard's units are (the others keep k = NULL).  A result does not depend on
 * the other kernels of its unit, the thread count or the shard.  Progress on stderr when
 * it is a terminal.  Dies with UG_EXIT_INTERNAL when the oracle fails. */
void ug_boundary_run(const char *cmd, const ug_kernel *const *ks, size_t nk, const ug_bconfig *cfg,
                     const ug_bdir *only, ug_bresult *out);

/* The input of direction d at axis value v (rounded to dt; n on the length axis) for op,
 * as the search builds it, and the reduction it is judged with. */
ug_batch *ug_baxis_batch(const char *cmd, ug_op op, ug_dtype dt, const ug_bdir *d, double v, ug_reduction *red);

/* An axis value as "<hex> (<decimal>)": C99 hex float and enough decimal digits to tell
 * neighbours apart (9 f32, 17 f64, 5 bf16); on the length axis "<n> (<0xhex>)". */
void ug_bfmt_value(char *buf, size_t size, const ug_bresult *r, double v);

/* What the kernel returned at the boundary, in words ("nan where the exact value is
 * 0x1p+0 (output 0)", "0x1.fep-1, 3.5 ULP from 0x1p+0, bound 1 (output 1)"). */
void ug_bfmt_returns(char *buf, size_t size, const ug_bresult *r);

/* The oracle's boundary in words ("finite and nonzero up to the end of the axis",
 * "underflows to 0 from 0x1.a0p+6 (104)"). */
void ug_bfmt_exact(char *buf, size_t size, const ug_bresult *r);

/* One text line (boundary's output): kernel, direction, first failure, last pass,
 * what it returns, the exact result's boundary, monotonicity. */
void ug_boundary_print(FILE *f, const ug_bresult *r);
void ug_boundary_print_header(FILE *f);

/* A result as JSON (SCHEMA.md "boundaries"). */
json_object *ug_bresult_json(const ug_bresult *r);

#endif
