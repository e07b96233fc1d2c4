/* The vector log1p of the SIMD kernels, in binary64 lanes, written once over the primitives
 * of the including ISA file (core/simd_avx2.c, core/simd_avx512.c):
 *   vd_set1, vd_add, vd_sub, vd_mul, vd_fma, vd_div,
 *   vd_split_exp(s, &f, &e, &sc)  for s >= 1 (normal): s = 2^k f with f in [sqrt(1/2),
 *                                 sqrt(2)) (rounding of the split point aside), e = k and
 *                                 sc = 2^-k as binary64, all exact (integer arithmetic).
 * No include guard: included once per ISA file, after the primitives.
 *
 * vlog1p: contract
 *   computes  log(1 + sp) for binary64 sp >= 0, finite (the kernels' sum without the max
 *             term, and bce_logits' exp(-|x|)).  The same operations in the same order on
 *             every ISA: AVX2 and AVX-512 return the same bits.  One division, 35 operations
 *             per vector (against one libm log call per lane).
 *   method    s + lo = 1 + sp exactly (two-sum), s = 2^k f (k >= 0), so 1 + sp =
 *             2^k (f + lo 2^-k) and log1p(sp) = k ln2 + log(F), F = f + lo 2^-k in
 *             [0.7071, 1.4143).  g = fl((f - 1) + lo 2^-k) (f - 1 exact, Sterbenz; one fma),
 *             T = 2t, t = g/(2 + g), and log F = 2 atanh(t)
 *             = T + T W R(W), W = T^2, R(W) = sum_{i=0..9} W^i / ((2i + 3) 4^(i+1)) (Taylor;
 *             the coefficients are RN(1/(2i+3)) times an exact power of 2, rounded by the
 *             compiler).  T rather than t: for a subnormal g, T = g exactly.  Then
 *             L = fma(k, LN2_HI, fma(k, LN2_LO, log F)), LN2_HI = ln 2 with its last 16
 *             bits zero (k LN2_HI exact for k < 2^16), LN2_LO = RN(ln 2 - LN2_HI).
 *   bound     relative error <= 8.2 u = 2^-49.96 (u = 2^-53), SIMD-ERROR-ANALYSIS.md §3:
 *               k = 0: g = sp exactly (s - 1 + lo = sp), T = 2g/(2+g) within 2u (two
 *                 roundings; 2g exact), 2 atanh amplifies a relative error of t by <= 1.011
 *                 for |t| <= 0.1716; truncation |t w^10 2/23| / (2 atanh t) <= w^10/23 <=
 *                 2^-55.4 (w = t^2 <= 2^-5.09); the rounding of T W R (3 operations, and
 *                 R's Horner) weighs <= w Q(w)/2 <= 0.0100 of log F; the last fma u:
 *                 <= 4.4 u.  A subnormal sp: 2 + g = 2, T = g, W = 0: L = sp exactly.
 *               k >= 1: L >= ln sqrt2 = 0.3466; log F within 4.4 u of |log F| <= 0.3466,
 *                 g's rounding u |g| <= 0.414 u moves log F by <= 0.59 u, the inner fma
 *                 u 0.35, ln2's split < 2^-75 k, the last fma u L: <= 8.2 u L.
 *   measured  3.57 u = 2^-51.17 at most on 65536 arguments (props/test_simd.c: tiny to huge,
 *             and around the split sqrt2 - 1); AVX2 = AVX-512 bit for bit.
 *   domain    sp in [0, 2^1023); NaN gives NaN.  Negative sp is outside the domain.
 */

#define UG__LN2_HI 0x1.62e42fefa0000p-1    /* ln 2, last 16 bits zero        */
#define UG__LN2_LO 0x1.cf79abc9e3b3ap-40   /* RN(ln 2 - UG__LN2_HI)          */

static inline vd vlog1p(vd sp)
{
    vd one = vd_set1(1.0);
    /* two-sum: s + lo = 1 + sp */
    vd s = vd_add(one, sp);
    vd bb = vd_sub(s, one);
    vd lo = vd_add(vd_sub(one, vd_sub(s, bb)), vd_sub(sp, bb));
    vd f, k, sc;
    vd_split_exp(s, &f, &k, &sc);
    vd g = vd_fma(lo, sc, vd_sub(f, one));
    vd t = vd_div(vd_add(g, g), vd_add(vd_set1(2.0), g)); /* T = 2t: exact for tiny g */
    vd w = vd_mul(t, t);
    vd q = vd_set1(1.0 / 21 * 0x1p-20);
    q = vd_fma(q, w, vd_set1(1.0 / 19 * 0x1p-18));
    q = vd_fma(q, w, vd_set1(1.0 / 17 * 0x1p-16));
    q = vd_fma(q, w, vd_set1(1.0 / 15 * 0x1p-14));
    q = vd_fma(q, w, vd_set1(1.0 / 13 * 0x1p-12));
    q = vd_fma(q, w, vd_set1(1.0 / 11 * 0x1p-10));
    q = vd_fma(q, w, vd_set1(1.0 / 9 * 0x1p-8));
    q = vd_fma(q, w, vd_set1(1.0 / 7 * 0x1p-6));
    q = vd_fma(q, w, vd_set1(1.0 / 5 * 0x1p-4));
    q = vd_fma(q, w, vd_set1(1.0 / 3 * 0x1p-2));
    vd lf = vd_fma(vd_mul(t, w), q, t);
    return vd_fma(k, vd_set1(UG__LN2_HI), vd_fma(k, vd_set1(UG__LN2_LO), lf));
}
