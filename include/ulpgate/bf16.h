/* bfloat16 emulation.
 *
 * Format: 1 sign bit, 8 exponent bits (bias 127, the binary32 range), 7 stored significand
 * bits (precision p = 8), subnormals kept.  A bf16 is the upper half of a binary32, so
 * widening to f32 is exact (ug_bf16_to_f32).
 *
 * Two narrowing modes:
 *   ug_bf16_from_f32      IEEE round-to-nearest-even.  Subnormal inputs and results are
 *                         rounded, not flushed.  A finite value rounds to +-inf only when it
 *                         is >= 0x1.ffp127 in magnitude (the midpoint between the largest
 *                         bf16, 0x1.fep127, and 2^128).  A NaN stays a NaN, keeps its sign and
 *                         the top 6 payload bits below the quiet bit, and is made quiet;
 *                         it never becomes inf.
 *   ug_bf16_from_f32_hw   Intel VCVTNEPS2BF16 (AVX512_BF16): subnormal inputs are first
 *                         flushed to a zero of the same sign, then RNE; a NaN is truncated to
 *                         its top 16 bits with the quiet bit set.  (The instruction ignores
 *                         MXCSR and never raises flags.)
 * and one from binary64, rounding once (never through f32):
 *   ug_bf16_from_f64      IEEE RNE of a double straight to bf16, subnormals rounded; the
 *                         same NaN and overflow rules as ug_bf16_from_f32.
 *
 * (The SDM's "output denormals are flushed" never applies to VCVTNEPS2BF16: bf16 has
 * the f32 exponent range, so no normal f32 rounds to a bf16 subnormal.)
 */
#ifndef ULPGATE_BF16_H
#define ULPGATE_BF16_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ug_bf16 { uint16_t bits; } ug_bf16;

float ug_bf16_to_f32(ug_bf16 h);
ug_bf16 ug_bf16_from_f32(float f);
ug_bf16 ug_bf16_from_f32_hw(float f);
ug_bf16 ug_bf16_from_f64(double d);

#ifdef __cplusplus
}
#endif
#endif
