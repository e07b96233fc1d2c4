/* Fuzz target bce: every registered bce_logits kernel stays within its claimed bound of
 * the MPFR oracle, elementwise and under the sum and mean reductions, for any label in
 * [0, 1], and matches the special-value table. */
#include "harness.h"

const ug_fuzz_target ug_fuzz_this_target = {
    "bce", "bce_logits, elementwise and reduced (sum, mean), against the oracle", UG_FUZZ_OP(UG_OP_BCE_LOGITS)};

UG_FUZZ_ENTRY_POINTS
