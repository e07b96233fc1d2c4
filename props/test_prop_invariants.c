/* Invariants of every non-canary kernel's outputs, with bounds derived from its claim:
 * the range of each output, softmax rows summing to 1 and gradient rows to 0 (summed
 * exactly in MPFR), monotonicity in the logits (props/prop_invariants.c).
 *
 * Generated per kernel from core/kernels.def (props/generic.h): the tests are named
 * <kernel function>::<property>. */
#include <criterion/criterion.h>

#include "generic.h"

#define UG_KERNEL(fn, name, ...) PROP_INVARIANTS(PROP_TEST, fn, name)
#include "kernels.def"
#undef UG_KERNEL
