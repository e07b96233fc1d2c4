/* Every non-canary kernel against every entry of oracle/SPECIAL.md
 * (props/prop_special.c).
 *
 * Generated per kernel from core/kernels.def (props/generic.h): the tests are named
 * <kernel function>::<property>. */
#include <criterion/criterion.h>

#include "generic.h"

#define UG_KERNEL(fn, name, ...) PROP_SPECIAL(PROP_TEST, fn, name)
#include "kernels.def"
#undef UG_KERNEL
