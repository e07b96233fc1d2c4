/* Known findings: production or variant kernels that the fuzzers caught breaking their
 * claim, reported to the kernels' owners and not fixed yet (fuzz/known-findings.txt).
 *
 * A call whose every way of failing is listed does not stop the run: it is counted (the
 * replay main prints it) and, under libFuzzer, fed to the counters like a canary, so a
 * campaign looks past a reported bug instead of stopping on it again and again.  When
 * the kernel is fixed, its line goes: the input that found it stays in fuzz/regress/ or
 * the seeds, and then guards the fix.
 *
 * File format: one finding per line, `KERNEL KIND [note...]`, `#` starts a comment line.
 * KERNEL is a registry name or a shell pattern (fnmatch: `xent_grad.fused.bf16*` is the
 * scalar row and its SIMD rows).
 * KIND is over-bound (any output over its claimed bound), kernel-error (a status on valid
 * input, an overrun, an input modified) or violation:CLASS with CLASS one of nan,
 * overflow, inf, zero-sign (oracle/ulp.h).
 *
 * The file read is UG_FUZZ_KNOWN when set (`none`: no finding is known), else the one in
 * the source tree; it is read only when a kernel has failed, never on the fast path.
 */
#ifndef ULPGATE_FUZZ_KNOWN_H
#define ULPGATE_FUZZ_KNOWN_H

#include "judge.h"

/* 1 when every way j's kernel broke its claim is a known finding. */
int ug_fuzz_known(const ug_judge *j);

#endif
