/* Accuracy of every non-canary kernel against the oracle, through the judge, on every
 * input family (seed 2), with reduction none and, for the losses, sum and mean
 * (props/prop_accuracy.c).
 *
 * Generated per kernel from core/kernels.def (props/generic.h): the tests are named
 * <kernel function>::<property>. */
#include <criterion/criterion.h>

#include "generic.h"

#define UG_KERNEL(fn, name, ...) PROP_ACCURACY(PROP_TEST, fn, name)
#include "kernels.def"
#undef UG_KERNEL
