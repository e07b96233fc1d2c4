/* The property suite on long rows (label slow): the accuracy, the invariants, determinism
 * and the reductions, run in the long-row mode of props/generic.h (big_n = 10^5): one row of
 * length 10^5 from every family meant to scale (normal1/10/100, uniform_wide, ascending,
 * dominant, masked, equal_large), so that accumulation over long rows (a sum in a narrow
 * format that stalls, a denominator rounded at each step) is measured against the same
 * derived bounds as the quick suite.  (The relations that compare two calls per row are
 * left to the quick suite: at 10^5 they cost minutes per kernel and add little, the masks
 * and shifts being bitwise for production kernels.)  About 10 minutes on one core.
 * Tests are named <kernel function>::<property>. */
#include <criterion/criterion.h>

#include "generic.h"

enum { LARGE_N = 100000 };

#define PROP_TEST_LARGE(fn, name, property) \
    Test(fn, property, .timeout = 1800) { prop_run_n(name, #property, prop_##property, LARGE_N); }

#define LARGE_N_PROPERTIES(P, fn, name) \
    PROP_ACCURACY(P, fn, name)          \
    PROP_INVARIANTS(P, fn, name)        \
    P(fn, name, same_input_same_bits)   \
    P(fn, name, reductions_agree_with_rows)

#define UG_KERNEL(fn, name, ...) LARGE_N_PROPERTIES(PROP_TEST_LARGE, fn, name)
#include "kernels.def"
#undef UG_KERNEL
