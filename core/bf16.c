/* bfloat16 emulation: the conversions of include/ulpgate/bf16.h.
 *
 * Everything here is integer arithmetic on bit patterns, so the results do not depend on
 * the floating-point environment (rounding mode, FTZ/DAZ): the conversions are the same
 * on every CPU and under every compiler flag.
 *
 * Tested exhaustively over all 2^32 binary32 patterns against a reference written in
 * binary64 arithmetic (frexp/nearbyint) and, for the _hw mode, against the VCVTNEPS2BF16
 * instruction itself (props/test_bf16.c, props/slow_bf16_exhaustive.c).
 */
#include <string.h>

#include "ulpgate/bf16.h"

#define F32_SIGN 0x80000000u
#define F32_EXP 0x7f800000u     /* exponent field of binary32                          */
#define F32_ABS 0x7fffffffu
#define BF16_QUIET 0x0040u      /* top stored significand bit: set in every quiet NaN  */
#define BF16_INF 0x7f80u

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static ug_bf16 bf16(uint32_t bits) { return (ug_bf16){(uint16_t)bits}; }

float ug_bf16_to_f32(ug_bf16 h)
{
    uint32_t u = (uint32_t)h.bits << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static int f32_is_nan(uint32_t u) { return (u & F32_ABS) > F32_EXP; }

/* A NaN keeps its sign and the top 7 bits of its payload and is made quiet. */
static ug_bf16 f32_nan_to_bf16(uint32_t u) { return bf16((u >> 16) | BF16_QUIET); }

/* Round-to-nearest-even of a non-NaN binary32 pattern to its top 16 bits.
 *
 * Adding 0x7fff + lsb (lsb = bit 16, the last kept bit) carries into the kept half exactly
 * when the dropped half is > 0x8000, or = 0x8000 and the kept half is odd: RNE.  Binary32
 * patterns of one sign increase with the magnitude through zero, subnormals, normals and
 * inf, and one bf16 ulp is 2^16 binary32 ulps in every binade (subnormal ones included),
 * so the carry is RNE everywhere: the largest subnormal region rounds up into 0x0080
 * (2^-126), and 0x7f7f8000 = 0x1.ffp127 (the midpoint between 0x1.fep127, the largest
 * bf16, and 2^128) carries to 0x7f80 = inf, as does everything above it; inf itself has
 * a zero dropped half and stays inf.  The sum never wraps: the largest non-NaN pattern
 * is 0xff800000. */
static ug_bf16 f32_rne_to_bf16(uint32_t u)
{
    uint32_t lsb = (u >> 16) & 1u;
    return bf16((u + 0x7fffu + lsb) >> 16);
}

ug_bf16 ug_bf16_from_f32(float f)
{
    uint32_t u = f32_bits(f);
    return f32_is_nan(u) ? f32_nan_to_bf16(u) : f32_rne_to_bf16(u);
}

/* VCVTNEPS2BF16 (Intel SDM, convert_fp32_to_bfloat16): zero or denormal input -> zero of
 * the same sign; NaN -> top 16 bits with the quiet bit set; otherwise the integer RNE
 * above.  The SDM also says "output denormals are always flushed to zero", but no normal
 * binary32 rounds to a bf16 subnormal (same exponent range; rounding never lowers a
 * magnitude below 2^-126), so once the inputs are flushed that rule never applies. */
ug_bf16 ug_bf16_from_f32_hw(float f)
{
    uint32_t u = f32_bits(f);
    if (f32_is_nan(u))
        return f32_nan_to_bf16(u);
    if ((u & F32_EXP) == 0)
        u &= F32_SIGN;
    return f32_rne_to_bf16(u);
}

/* RNE(sig / 2^s) for sig < 2^53 and s >= 1. */
static uint64_t rne_shift(uint64_t sig, int s)
{
    if (s >= 64)
        return 0; /* sig / 2^s < 2^-11: far below one half */
    uint64_t q = sig >> s;
    uint64_t rem = sig & ((UINT64_C(1) << s) - 1);
    uint64_t half = UINT64_C(1) << (s - 1);
    return q + (rem > half || (rem == half && (q & 1)));
}

/* binary64 -> bf16 in one rounding.  Never through binary32: that double rounding is
 * wrong for a double just above a bf16 midpoint whose excess is below binary32's ulp,
 * e.g. 0x1.0100000000001p0 -> (float) 0x1.01p0 (a tie) -> 1.0, where RNE gives 0x1.02p0.
 *
 * With |d| = sig * 2^(e-52) (sig < 2^53) and E = max(e, -126) the bf16 binade (bf16
 * subnormals share the ulp 2^-133 of the binade [2^-126, 2^-125)), the bf16 ulp is
 * 2^(E-7), and k = RNE(|d| / 2^(E-7)) = RNE(sig / 2^(45 + E - e)) counts ulps:
 * k in [128, 256] when e >= -126, k in [0, 128] below.  The pattern is then
 * (E + 126) * 2^7 + k, where k = 256 carries into the next binade and k = 128 at
 * E = -126 is the smallest normal: no case analysis.  A pattern >= 0x7f80 is an
 * overflow: |d| >= 0x1.ffp127 rounds to inf. */
ug_bf16 ug_bf16_from_f64(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    uint32_t sign = (uint32_t)(u >> 48) & 0x8000u;
    int bexp = (int)((u >> 52) & 0x7ff);
    uint64_t frac = u & ((UINT64_C(1) << 52) - 1);
    if (bexp == 0x7ff) /* inf, or NaN: quiet, with its sign and top 7 payload bits */
        return bf16(sign | BF16_INF | (frac ? BF16_QUIET | (uint32_t)(frac >> 45) : 0));
    int e = bexp ? bexp - 1023 : -1022;
    if (e > 127) /* |d| >= 2^128 */
        return bf16(sign | BF16_INF);
    uint64_t sig = bexp ? frac | (UINT64_C(1) << 52) : frac;
    int E = e < -126 ? -126 : e;
    uint32_t bits = (uint32_t)((E + 126) << 7) + (uint32_t)rne_shift(sig, 45 + E - e);
    return bf16(sign | (bits >= BF16_INF ? BF16_INF : bits));
}
