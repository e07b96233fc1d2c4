/* Fuzz target rowops: every registered softmax, log_softmax, logsumexp and xent_grad
 * kernel stays within its claimed bound of the MPFR oracle, and matches the special-value
 * table, on any row (harness.h: how an input is decoded, judged and reported). */
#include "harness.h"

const ug_fuzz_target ug_fuzz_this_target = {
    "rowops", "softmax, log_softmax, logsumexp and xent_grad (sparse and dense) against the oracle",
    UG_FUZZ_OP(UG_OP_SOFTMAX) | UG_FUZZ_OP(UG_OP_LOG_SOFTMAX) | UG_FUZZ_OP(UG_OP_LOGSUMEXP) |
        UG_FUZZ_OP(UG_OP_XENT_GRAD)};

UG_FUZZ_ENTRY_POINTS
