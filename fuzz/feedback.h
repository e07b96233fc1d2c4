/* Error-guided feedback: what each run tells libFuzzer beyond code coverage.
 *
 * libFuzzer (clang 14, Linux) reads every uint8_t in the ELF section
 * `__libfuzzer_extra_counters` after each run, exactly like its own 8-bit edge counters
 * (each non-zero counter, with its value bucketed 1, 2, 3, 4-7, ..., is a feature; an
 * input with a feature never seen before is added to the corpus), and clears the section
 * before the next run.  It works with -fsanitize=fuzzer: libFuzzer finds the section
 * through the linker's __start_/__stop_ symbols (FuzzerExtraCounters.cpp).
 *
 * Two groups of counters:
 *
 *   per kernel (registry index, modulo UG_FB_KERNELS):
 *     [0, 48)   the largest ULP error of the run's outputs (class ok), in half-octaves:
 *               bucket floor(2 log2 ulp) + 8, clamped: 2^-4 ... 2^19.5 and beyond
 *     [48, 64)  the largest ratio ULP error / claimed bound, in quarter-octaves from
 *               2^-2 to 2^2: fine steps where a production kernel nears its claim
 *     [64, 69)  a special-value class (nan, overflow, inf, zero-sign), a kernel error
 *   per op x dtype x quantity, the signed distance d of a row to a threshold of the dtype,
 *   bucket (d >= 0) * 64 + clamp(floor(log2 |d|) + 48, 0, 63):
 *     q0  max x - log(largest finite)          exp(x) overflows (unshifted kernels)
 *     q1  logsumexp(x) - log(largest finite)   the sum of exponentials overflows
 *     q2  min x - log(smallest subnormal)      exp(x) underflows
 *     q3  (min x - max x) - log(smallest subn.) exp(x - max) underflows
 *     q4  -min x - log(largest finite)         exp(-x) overflows (bce)
 *     q5  (max x - min x) / largest - 1        the shift x - max overflows the format
 *   (finite entries only; logsumexp estimated in binary64).  A row one bucket closer to a
 *   threshold than any before is new coverage, so the fuzzer walks up to the edge.
 *   per op x dtype, where the exact outputs lie (oracle's unrounded values, nonzero finite):
 *     o0  |v| / T - 1, T the dtype's overflow threshold (2 - 2^-p) 2^emax: bucket as above;
 *         outputs just below or above it are where a kernel's inf or finite goes wrong
 *         (an overflowing sum inside a finite mean, a truncating store)
 *     o1  log2 |v| - log2 (smallest subnormal), from -64 to 63: outputs that round to a zero
 *         (of their own sign) or to the first subnormals
 */
#ifndef ULPGATE_FUZZ_FEEDBACK_H
#define ULPGATE_FUZZ_FEEDBACK_H

#include <stddef.h>

#include "families.h"
#include "judge.h"

/* What a judged call measured (the counters' input, and the replay main's statistics). */
typedef struct ug_fuzz_measure {
    double max_ulp;     /* largest ULP error over the class-ok outputs, 0 when none  */
    double max_ratio;   /* largest ULP error / claimed bound over the class-ok outputs */
    unsigned classes;   /* bit (1u << ug_cmp_class) for every violation class seen   */
    int kernel_error;   /* the kernel refused, overran or modified its input         */
} ug_fuzz_measure;

ug_fuzz_measure ug_fuzz_measure_judge(const ug_judge *j, const ug_expect *e, size_t n);

/* Set the counters of a measured call of the kernel with registry index ki. */
void ug_fuzz_feed_error(size_t ki, const ug_fuzz_measure *m);

/* Set the threshold-distance counters of b's rows. */
void ug_fuzz_feed_thresholds(const ug_batch *b);

/* Set the output counters of the oracle's answer e to b. */
void ug_fuzz_feed_outputs(const ug_batch *b, const ug_expect *e);

/* Number of counters set by this process since it started (a sanity figure for the
 * replay main; libFuzzer clears them between runs). */
size_t ug_fuzz_counters_set(void);

#endif
