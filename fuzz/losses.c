/* Fuzz target losses: every registered xent (sparse labels) and xent_dense (probability
 * rows, label smoothing) kernel stays within its claimed bound of the MPFR oracle, per row
 * and under the sum and mean reductions, and matches the special-value table. */
#include "harness.h"

const ug_fuzz_target ug_fuzz_this_target = {
    "losses", "xent and xent_dense, per row and reduced (sum, mean), against the oracle",
    UG_FUZZ_OP(UG_OP_XENT) | UG_FUZZ_OP(UG_OP_XENT_DENSE)};

UG_FUZZ_ENTRY_POINTS
