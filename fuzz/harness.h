/* The fuzz harness shared by every target: how an input becomes a kernel call, how the
 * call is judged against the oracle, what stops a run, and what feeds libFuzzer.
 *
 * A target (fuzz/rowops.c, fuzz/losses.c, fuzz/bce.c) is one ug_fuzz_target: a name and a
 * set of ops.  Its kernels are the registry rows of those ops (ug_kernel_at, never a
 * list kept here).  One input:
 *
 *   1. is decoded (decode.c) into a dtype, a kernel of the target's ops and that dtype,
 *      rows x n values, a target index, labels or probabilities and a reduction;
 *   2. is evaluated once by the oracle (ug_expect_init), then the chosen kernel and every
 *      other registered kernel of the same op and dtype are judged against that one
 *      answer (ug_judge_batch_defer, counts only: a kernel that breaks its claim is
 *      judged again with samples for the report; ug_expect_memo: each output's correctly
 *      rounded value is compared once): the oracle costs ~3 us per element, a kernel
 *      ~10 ns, so the siblings come almost free (a differential target in the
 *      zstd/simdjson sense);
 *   3. feeds the ULP error of each kernel (bucketed by log2) and the row's distance to
 *      its dtype's overflow and underflow thresholds to libFuzzer's extra counters
 *      (feedback.c), so an input that provokes a larger error is new coverage;
 *   4. stops the run (abort) when a production or variant kernel breaks its claim: over
 *      its bound ug_bound_at(k, n, kappa), a special-value or overflow violation, or a
 *      kernel error (a status on valid input, an overrun, an input modified).  Before
 *      stopping it prints a report and writes the finding (finding.c) as a file that
 *      `ulpgate run` and `ulpgate exact` read, a worst-case line and a JSON record.
 *      Canaries never stop a run, unless UG_FUZZ_STRICT=1 (effectiveness measurements);
 *      nor do failures listed in fuzz/known-findings.txt (known.h).
 *
 * Settings come from the environment, read on every input (getenv costs far less than
 * the oracle; libFuzzer's fork mode passes the environment to its workers):
 *
 *   UG_FUZZ_KERNEL=NAME    judge only this kernel (it must be of the target's ops)
 *   UG_FUZZ_STRICT=1       canaries stop the run too (scripts/fuzz-effectiveness)
 *   UG_FUZZ_GUIDE=G        error (default): extra counters and the value mutator;
 *                          counters: extra counters, libFuzzer's own mutations only;
 *                          coverage: neither (plain coverage-guided libFuzzer)
 *   UG_FUZZ_MAX_N=N        largest row length decoded (default 64, at most 65536)
 *   UG_FUZZ_N=N            every row has length N (speed measurements)
 *   UG_FUZZ_OUT=DIR        where findings are written (default: the current directory)
 *   UG_FUZZ_QUIET=1        no report on stderr (the files are still written)
 *   UG_FUZZ_KNOWN=FILE     the known findings (default fuzz/known-findings.txt; none)
 *   UG_PLUGIN=PATH[:PATH]  plug-ins (include/ulpgate/plugin.h) whose kernels join the
 *                          registry, read once by ug_fuzz_init (libFuzzer owns argv)
 */
#ifndef ULPGATE_FUZZ_HARNESS_H
#define ULPGATE_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "families.h"
#include "judge.h"
#include "ulpgate/registry.h"

/* A target: a name (fuzz/corpus/<name>/, fuzz_<name>) and the ops it drives. */
typedef struct ug_fuzz_target {
    const char *name;
    const char *desc;
    unsigned ops;      /* bit (1u << ug_op) per op                                  */
} ug_fuzz_target;

#define UG_FUZZ_OP(op) (1u << (op))

/* The target a fuzz/<name>.c defines; the replay main and the mutator find it here. */
extern const ug_fuzz_target ug_fuzz_this_target;

/* A target's own property, when its file defines one (fuzz/simd.c: SIMD rows against their
 * scalar twins): run after the oracle's judgement on every input the oracle accepted; it
 * prints and aborts when the property breaks.  Weak: other targets leave it undefined. */
struct ug_fuzz_case;
extern void ug_fuzz_target_check(const struct ug_fuzz_case *c) __attribute__((weak));

int ug_fuzz_target_has(const ug_fuzz_target *t, ug_op op);

/* ---------------------------------------------------------------- settings */

typedef enum ug_fuzz_guide { UG_GUIDE_COVERAGE = 0, UG_GUIDE_COUNTERS = 1, UG_GUIDE_ERROR = 2 } ug_fuzz_guide;

typedef struct ug_fuzz_config {
    const ug_kernel *only;  /* UG_FUZZ_KERNEL, or NULL                               */
    int strict;             /* UG_FUZZ_STRICT                                        */
    ug_fuzz_guide guide;    /* UG_FUZZ_GUIDE                                         */
    size_t max_n;           /* UG_FUZZ_MAX_N                                         */
    size_t fixed_n;         /* UG_FUZZ_N, 0 when unset                               */
    const char *out_dir;    /* UG_FUZZ_OUT                                           */
    int quiet;              /* UG_FUZZ_QUIET                                         */
} ug_fuzz_config;

/* The settings from the environment.  Returns 0, or -1 with a message in why (an unknown
 * kernel, one of another target's ops, a bad number). */
int ug_fuzz_config_read(const ug_fuzz_target *t, ug_fuzz_config *c, char *why, size_t whysize);

/* ---------------------------------------------------------------- one input */

/* What the replay main accumulates over many inputs (NULL under libFuzzer), per kernel by
 * registry index (kernels past UG_FUZZ_STATS_KERNELS are judged but not tallied). */
enum { UG_FUZZ_STATS_KERNELS = 256 };

typedef struct ug_fuzz_stats {
    int probe;              /* set by the caller: a broken claim is recorded in
                               failed / failed_kernel instead of stopping the run    */
    size_t failed;          /* probe: calls that broke a claim (and would stop)      */
    size_t failed_kernel;   /* probe: registry index of the first such kernel        */
    size_t inputs;          /* inputs run                                            */
    size_t rejected;        /* inputs the oracle refused (never after decoding)      */
    size_t judged;          /* kernel calls judged                                   */
    size_t canary_caught;   /* canary calls that broke the canary's bar              */
    double max_ulp[UG_FUZZ_STATS_KERNELS];    /* largest ULP error per registry index (class ok)       */
    double max_ratio[UG_FUZZ_STATS_KERNELS];  /* largest ULP error / claimed bound per registry index  */
    size_t known[UG_FUZZ_STATS_KERNELS];      /* calls that broke the claim in a known way (known.h)   */
    uint8_t *worst[UG_FUZZ_STATS_KERNELS];    /* a copy of the input of worst_ratio (malloc), or NULL */
    double worst_ratio[UG_FUZZ_STATS_KERNELS];/* max_ratio over the calls that kept the claim          */
    double worst_ulp[UG_FUZZ_STATS_KERNELS];  /* the largest ULP error on the worst input               */
    size_t worst_size[UG_FUZZ_STATS_KERNELS];
} ug_fuzz_stats;

/* Run one input.  Returns 0 (libFuzzer: keep it if new), or -1 when the input decodes to
 * nothing the oracle accepts (libFuzzer does not add it to the corpus).  A broken claim
 * prints, writes and aborts; it never returns. */
int ug_fuzz_run(const ug_fuzz_target *t, const uint8_t *data, size_t size, ug_fuzz_stats *stats);

/* LLVMFuzzerInitialize's body: check the settings, exit(2) with a message when wrong. */
void ug_fuzz_init(const ug_fuzz_target *t);

/* The value-aware mutator (mutator.c), LLVMFuzzerCustomMutator's body. */
size_t ug_fuzz_mutate(const ug_fuzz_target *t, uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* libFuzzer's own mutator (the replay main provides a simple stand-in). */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/* libFuzzer's entry points, which every target defines the same way (after defining
 * ug_fuzz_this_target). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

#define UG_FUZZ_ENTRY_POINTS                                                               \
    int LLVMFuzzerInitialize(int *argc, char ***argv)                                      \
    {                                                                                      \
        (void)argc;                                                                        \
        (void)argv;                                                                        \
        ug_fuzz_init(&ug_fuzz_this_target);                                                \
        return 0;                                                                          \
    }                                                                                      \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                           \
    {                                                                                      \
        return ug_fuzz_run(&ug_fuzz_this_target, data, size, NULL);                        \
    }                                                                                      \
    size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) \
    {                                                                                      \
        return ug_fuzz_mutate(&ug_fuzz_this_target, data, size, max_size, seed);           \
    }

/* Index of k in the registry (ug_kernel_at(i) == k), or the count when absent. */
size_t ug_fuzz_kernel_index(const ug_kernel *k);

/* FNV-1a over bytes: names an input (finding files) and seeds deterministic choices. */
uint64_t ug_fuzz_hash(const uint8_t *data, size_t size);

#endif
