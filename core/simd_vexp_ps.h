/* The binary32 vector exp of the bf16 kernels' long rows (core/simd_bf16_tmpl.h), written
 * once over the binary32-lane primitives of the including ISA file (core/simd_avx2.c,
 * core/simd_avx512.c, their "binary32 lanes" block):
 *   vf_set1, vf_sub, vf_max, vf_fma(a, b, c) = a b + c (one rounding),
 *   vf_scale2k(p, kk) p 2^kk, one rounding (subnormal results included), for integers
 *                     kk in [-152, 64] held as binary32 and p in [0.70, 1.42].
 * No include guard: included once per ISA file, after the primitives.
 *
 * vexpf: contract
 *   computes  E(x) = exp(x) 2^64 for binary32 x <= 0, in binary32.  The factor 2^64 keeps
 *             every result that matters normal (exp(x) down to 2^-150 becomes 2^-86): the
 *             callers' sums of many tiny terms keep a relative error bound (a sum of
 *             subnormal exps would not, SIMD-ERROR-ANALYSIS.md §8.1); they undo it exactly
 *             (a power of two) in binary64.  The same operations and roundings on every
 *             ISA: AVX2 and AVX-512 return the same bits.  12 operations per vector.
 *   method    x' = max(X_LO, x) (VMAXPS with x second: NaN kept, -inf -> X_LO), z =
 *             fma(x', LOG2E, SHIFT) rounds x' LOG2E to the integer k (SHIFT = 1.5 2^23),
 *             kf = z - SHIFT exactly, r = fma(kf, -LN2_HI, x'), r = fma(kf, -LN2_LO, r)
 *             (Cody & Waite), p = 1 + c1 r + ... + c5 r^5 (Horner, 5 fma), result p 2^(k+64)
 *             rounded once (VSCALEFPS on AVX-512; two exact power-of-two products on AVX2,
 *             the second rounding once).  Constants: scripts/gen-exp-ps-coeffs
 *             (core/simd_exp_ps_data.h, Sollya fpminimax, certified supnorm).
 *   domain    x in [-inf, 0] and NaN (NaN gives NaN).  x < X_LO = -150 (and -inf) is
 *             computed as X_LO: exp(-150) 2^64 < 2^-152 rounds to +0, the correctly rounded
 *             value of every x <= -148.3 (E(x) < 2^-150).  x > 0 is outside the domain.
 *   bound     for E(x) >= 2^-126 (x >= -131.7): relative error <= 2^-22.29, claimed 2^-22.2
 *             (SIMD-ERROR-ANALYSIS.md §8.1):
 *               approximation |p/exp - 1| <= 0x1.8a9f3fp-24 = 2^-23.38 on |r| <= ln2/2 (1 + 2^-14)
 *                 (Sollya supnorm, simd_exp_ps_data.h)
 *               k             |x' LOG2E - k| <= 1/2, |LOG2E - log2 e| <= 2^-24, |x'| <= 150:
 *                 |x' - k ln2| <= ln2/2 (1 + 2^-15.7), inside the interval
 *               reduction     the first fma is exact (|r1| < 1/2, a multiple of 2^-25 when
 *                 k != 0: |x'| >= 0.346 has ulp(x') >= 2^-25, kf LN2_HI is a multiple of
 *                 2^-21); the second rounds once, <= 2^-26; LN2_LO misses ln2 - LN2_HI by
 *                 2^-53.3, times |k| <= 217: 2^-45.6
 *               polynomial    Horner: the inner roundings, 0.045, 0.198, 0.632, 1.415 u32
 *                 absolute on h4..h1, times |r| <= 0.347, and the last rounding (u32 for
 *                 p >= 1, u32/2 below) over p >= 0.707: 1.49 u32 = 2^-23.42
 *               scale         exact for a normal result
 *             total 2^-23.38 + 2^-23.42 + 2^-26 + 2^-45.6 <= 2^-22.29.  Below 2^-126 (x in
 *             [-148.4, -131.7)) the scale rounds once more: absolute error <= 2^-150 +
 *             2^-22.2 E(x).
 *   measured  over every binary32 x <= 0 and every NaN pattern (props/slow_exp_ps_exhaustive.c,
 *             glibc's binary64 exp as the reference, MPFR where that leaves a doubt): normal
 *             results within 0x1.60376dp-23 = 2^-22.54 (at x = -0x1.f4c7aap+3, 0.79 of the
 *             claim), subnormal ones within 1.40 units of 2^-149, x < -150 and -inf +0, NaN
 *             NaN; AVX2 = AVX-512 bit for bit.
 */

#define UG__EXPF_SHIFT 0x1.8p23f /* 1.5 2^23: fma(x, LOG2E, SHIFT) leaves round(x LOG2E) in the low bits */
#define UG__EXPF_X_LO (-150.0f)  /* the clamp: exp(-150) 2^64 rounds to +0 */
#define UG__EXPF_SCALE 64        /* E(x) = exp(x) 2^UG__EXPF_SCALE */

static inline vf vexpf(vf x)
{
    x = vf_max(vf_set1(UG__EXPF_X_LO), x); /* x second: NaN kept */
    vf z = vf_fma(x, vf_set1(UG__EXPF_LOG2E), vf_set1(UG__EXPF_SHIFT));
    vf kf = vf_sub(z, vf_set1(UG__EXPF_SHIFT));
    vf r = vf_fma(kf, vf_set1(-UG__EXPF_LN2_HI), x);
    r = vf_fma(kf, vf_set1(-UG__EXPF_LN2_LO), r);
    vf q = vf_fma(vf_set1(UG__EXPF_C5), r, vf_set1(UG__EXPF_C4));
    q = vf_fma(q, r, vf_set1(UG__EXPF_C3));
    q = vf_fma(q, r, vf_set1(UG__EXPF_C2));
    q = vf_fma(q, r, vf_set1(UG__EXPF_C1));
    vf p = vf_fma(q, r, vf_set1(1.0f));
    return vf_scale2k(p, vf_sub(z, vf_set1(UG__EXPF_SHIFT - UG__EXPF_SCALE))); /* k + 64, exact */
}
