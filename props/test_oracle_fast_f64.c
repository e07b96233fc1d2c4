/* The oracle's fast path against the MPFR-only path on f64: every op's input families and
 * every worst-case file, the checks of props/test_oracle_fast.c, in a program (a ctest
 * test) of its own. */
#define UG_ORACLE_FAST_F64 1
#include "test_oracle_fast.c"
