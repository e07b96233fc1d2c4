/* Metamorphic relations of every non-canary kernel with itself: shift invariance,
 * permutation equivariance, masks, batched = row by row, determinism, the bce label flip,
 * reductions against their rows (props/prop_relations.c).
 *
 * Generated per kernel from core/kernels.def (props/generic.h): the tests are named
 * <kernel function>::<property>. */
#include <criterion/criterion.h>

#include "generic.h"

#define UG_KERNEL(fn, name, ...) PROP_RELATIONS(PROP_TEST, fn, name)
#include "kernels.def"
#undef UG_KERNEL
