/* All 2^32 binary32 patterns through ug_bf16_from_f32 and ug_bf16_from_f32_hw, against the
 * binary64 reference and the VCVTNEPS2BF16 instruction: the checks of props/test_bf16.c
 * over every pattern instead of its sweep.  Label slow (ctest --preset slow): measured
 * 95-101 s for the reference check and 13-18 s against the instruction, one core, -O2,
 * about 2 minutes in all (the quick sweep in test_bf16 takes about 1 s). */
#define UG_BF16_EXHAUSTIVE 1
#include "test_bf16.c"
