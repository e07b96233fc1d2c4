/* A finding: a kernel that broke its claim (or an oracle that gave up), reported on
 * stderr and written to UG_FUZZ_OUT as three files named after the kernel and the FNV-1a
 * hash of the input, before the run stops (abort, so that libFuzzer saves its crash
 * file and fork mode counts it):
 *
 *   finding-<kernel>-<hash>.txt   every row of the input in the format `ulpgate run` and
 *                                 `ulpgate exact` read (hex floats; probability rows after
 *                                 their logits row), with a comment header giving both
 *                                 command lines and what went wrong;
 *   finding-<kernel>-<hash>.wc    the worst-case line, props/data/<name>.wc format
 *                                 ("OP DTYPE [target=T] [reduction=R] : ROW [; ROW...]
 *                                 [| AUX [; AUX...]]", props/prop_wc.c) under a
 *                                 `# from:` line saying where it came from;
 *   finding-<kernel>-<hash>.json  one JSON object: kernel, role, op, dtype, kind, class,
 *                                 ULP error, bound, kappa, the output, computed and exact
 *                                 values, the rows, target, label, probabilities,
 *                                 reduction and the two command lines;
 *   finding-<kernel>-<hash>.input the input bytes, portable (ug_fuzz_portable: they
 *                                 replay without UG_FUZZ_KERNEL), for fuzz/regress/.
 *
 * The report names the kernel, prints the rows as hex floats, every output computed and
 * exact with its ULP error, and the exact command lines.
 */
#ifndef ULPGATE_FUZZ_FINDING_H
#define ULPGATE_FUZZ_FINDING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "decode.h"
#include "harness.h"
#include "judge.h"

/* The kernel of j (judged on c against e) broke its claim: report, write, abort. */
_Noreturn void ug_fuzz_stop_kernel(const ug_fuzz_target *t, const ug_fuzz_config *cfg, const ug_fuzz_case *c,
                                   const ug_expect *e, const ug_judge *j, const uint8_t *data, size_t size);

/* The oracle could not evaluate a valid input (status st, UG_ERR_LIMIT): the same. */
_Noreturn void ug_fuzz_stop_oracle(const ug_fuzz_target *t, const ug_fuzz_config *cfg, const ug_fuzz_case *c,
                                   ug_status st, const uint8_t *data, size_t size);

/* The worst-case line of c (every row, its target, reduction and aux rows). */
void ug_fuzz_write_wc_case(FILE *out, const ug_fuzz_case *c);

#endif
