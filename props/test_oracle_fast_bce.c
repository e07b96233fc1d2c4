/* The oracle's fast path against the MPFR-only path on bce_logits's input families: the
 * checks of props/test_oracle_fast.c, in a program (a ctest test) of its own, because
 * bce_logits's MPFR path costs three times softmax's per element. */
#define UG_ORACLE_FAST_BCE 1
#include "test_oracle_fast.c"
