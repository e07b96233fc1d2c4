/* The vector exp of the SIMD kernels, in binary64 lanes, written once over the primitives
 * of the including ISA file (core/simd_avx2.c, core/simd_avx512.c):
 *   vd_set1, vd_sub, vd_mul, vd_fma(a, b, c) = a b + c (one rounding),
 *   vd_exp2k(z)            2^(k >> 4) T[k & 15] from the bits of z = SHIFT + k, exactly,
 *   vd_fma_keep(x, a, b, c) fma(a, b, c) in the lanes where !(x < X_MIN), +0 elsewhere.
 * No include guard: included once per ISA file, after the primitives.
 *
 * vexp: contract
 *   computes  exp(x) for binary64 x.  The same operations in the same order on every ISA,
 *             so AVX2 and AVX-512 return the same bits.  17 operations per vector.
 *   method    k = round(x 16/ln 2), r = x - k ln2/16 (one fma, ln2/16 rounded to binary64),
 *             exp(x) = 2^(k >> 4) T[k & 15] exp(r), T[j] = 2^(j/16) rounded, exp(r) ~ 1 + p(r),
 *             p(r) = r + r^2 (c2 + c3 r + c4 r^2 + c5 r^3).  The constants come from
 *             scripts/gen-exp-coeffs (core/simd_exp_data.h).
 *   domain    x in [X_MIN, X_MAX] = [-0x1.6232bdd7abcd2p+9, 0x1.62ep+9] ~= [-708.40, 709.75]
 *             (core/simd.h); x < X_MIN and x = -inf give +0 (the flush); NaN gives NaN;
 *             x > X_MAX is outside the domain (the kernels pass x <= 0 only).
 *   bound     relative error <= 2^-47.2 + 2^-54.7 |x|: <= 2^-46.6 for |x| <= 104 (every
 *             exponential an f32 or bf16 softmax output can show), <= 2^-44.9 on the whole
 *             domain.  The terms:
 *               approximation |(1 + p)/exp - 1| <= 0x1.91p-48 = 2^-47.35 (Sollya supnorm
 *                 on |r| <= a = ln2/32 (1 + 2^-30), simd_exp_data.h)
 *               k             z = fma(x, INV, SHIFT) rounds x INV to an integer: SHIFT =
 *                 1.5 2^52 leaves k in the last bits, kd = z - SHIFT is exact, and
 *                 |x INV - x 16/ln2| <= 2^-53 x 16/ln 2 < 2^-39, so |x 16/ln2 - k| <= 1/2 + 2^-39
 *               reduction     r = fma(-kd, HI, x): one rounding of a value < 2^-5.5, <= 2^-59;
 *                 HI = ln2/16 - LO with |LO| <= 0x1.abc9e3b39803fp-60 = 2^-59.26 (the LO of
 *                 simd_exp_data.h), times |k| <= 23.09 |x| + 0.5: |r - r*| <= 2^-54.73 |x|
 *                 + 2^-58; |r| stays below a.  A relative error of exp(r) of as much.
 *               polynomial    q by Horner (3 fma): |q| < 0.51, each rounding 2^-54
 *                 absolute, times r^2 <= 2^-11: 2^-64; r^2 rounded: 2^-65; p = fma(r^2, q, r)
 *                 rounded once: |p| < 2^-5.5, 2^-59.5; over 1 + p >= 0.978: <= 2^-58.9
 *               table         T[j] rounded to nearest: 2^-53 relative
 *               scale         2^(k >> 4) T[j] is exact (an exponent add) for x >= X_MIN
 *               last step     fma(Ts, p, Ts) = Ts (1 + p), one rounding: 2^-53
 *             total 2^-47.35 + 2^-52 + 2^-58 + 2^-58.9 + 2^-54.73 |x| <= 2^-47.2 + 2^-54.7 |x|.
 *             (A second fma with LO would remove the |x| term for one more operation in
 *             17; the kernels' own rounding of x - max already costs 2^-53 |x|.)
 *             Near X_MIN the result may round to a subnormal: the rounding is then an
 *             absolute 2^-1075 <= 2^-53 relative to 2^-1022.
 *   measured  over every one of the 2^32 f32 inputs (props/slow_exp_exhaustive.c: glibc's
 *             exp, and MPFR at 160 bits wherever that leaves a doubt): max relative error
 *             0x1.0934p-45 = 2^-44.95 at x = 0x1.62b572p+9 (184 ULP of binary64 there);
 *             over x <= 0, the kernels' arguments, 2^-44.95 at x = -0x1.61d5bap+9; at most
 *             0.967 of the bound above, at x = -0x1.5f0feep+9.  AVX2 = AVX-512, bit for bit.
 */

#define UG__EXP_SHIFT 0x1.8p52 /* 1.5 2^52: fma(x, INV, SHIFT) leaves round(x INV) in the low bits */

/* s = 2^(k >> 4) T[k & 15] and p = p(r) of x: everything but the last fma. */
static inline vd vexp_sp(vd x, vd *p)
{
    vd z = vd_fma(x, vd_set1(UG__EXP_INV_LN2_N), vd_set1(UG__EXP_SHIFT));
    vd kd = vd_sub(z, vd_set1(UG__EXP_SHIFT));
    vd r = vd_fma(kd, vd_set1(-UG__EXP_LN2_N_HI), x);
    vd q = vd_fma(vd_set1(UG__EXP_C5), r, vd_set1(UG__EXP_C4));
    q = vd_fma(q, r, vd_set1(UG__EXP_C3));
    q = vd_fma(q, r, vd_set1(UG__EXP_C2));
    *p = vd_fma(vd_mul(r, r), q, r);
    return vd_exp2k(z);
}

static inline vd vexp(vd x)
{
    vd p, s = vexp_sp(x, &p);
    return vd_fma_keep(x, s, p, s);
}

/* vexp_in: vexp without the flush, for arguments known to be in [X_MIN, X_MAX] (or NaN):
 * there the flush keeps every lane, so vexp_in(x) = vexp(x) bit for bit, one compare fewer.
 * Below X_MIN (and at -inf) the result is garbage: the callers check the range first (the
 * kernels: min_j x_j - m >= X_MIN, simd_tmpl.h row_analyse). */
static inline vd vexp_in(vd x)
{
    vd p, s = vexp_sp(x, &p);
    return vd_fma(s, p, s);
}
