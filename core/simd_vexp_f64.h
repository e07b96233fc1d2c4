/* The binary64 exp of the f64 SIMD rows' production algorithm (the 2-ULP rows, issue 7),
 * written once over the primitives of the including ISA file, after core/simd_vexp_dd.h
 * (whose constants, table and shifter it shares).  No include guard: included once per ISA
 * file.  Same operations in the same order on every ISA: AVX2 and AVX-512 give the same bits.
 * Error analysis: doc/SIMD-ERROR-ANALYSIS.md §7.5; u = 2^-53.
 *
 * vexp_f64: contract
 *   computes  exp(xh + xl) as eh + el, for xh in [-670, 0] (or -inf, NaN) and |xl| <= u |xh|
 *             (x - m split exactly by two-sum); |el| <= u eh (eh = the value rounded once).
 *   method    k = round(16 xh/ln 2) (the 1.5 2^52 shifter), rh = xh - k HI (one fma, exact,
 *             as in vexp_dd), r = (rh + xl) - k LO (two roundings, |r| <= 0.02167); P =
 *             r + r^2 q(r), q = sum_{i<=5} r^i/(i+2)! (Horner, binary64, no double-double);
 *             with T = 2^((k & 15)/16) = T_hi + T_lo (the table of vexp_dd): c = T_hi P +
 *             T_lo (one fma), eh + el = T_hi + c (fast-two-sum), times 2^(k >> 4) (exact).
 *             24 operations (22 without the range mask, vexp_f64_in) against vexp_dd's 37;
 *             on AVX-512 2 fewer (the scale by VSCALEFPD, session 7; the same bits).
 *   bound     |eh + el - exp(xh + xl)| <= 2^-56.0 exp(xh + xl) for xh in [-670, 0]
 *             (SIMD-ERROR-ANALYSIS.md §7.5: the reduced argument 2^-57.5, P's rounding,
 *             c's rounding and the dropped T_lo P 2^-58.5 each, the truncation 2^-59.5, the
 *             rest below 2^-63); xh < X_MIN and -inf give +0 in both parts, NaN gives NaN.
 */

/* The operations of vexp_f64_parts_k (below) up to c = fl(T_hi P + T_lo), returned, with
 * T_hi (*th_out), z and k16: exp(xh + xl) = (T_hi + c) 2^(k >> 4) to §7.5's bound.  Shared
 * by vexp_f64_parts_k and the short rows' fused exp-and-sum (f64_tiny_exp_sum). */
UG__SIMD_INLINE vd vexp_f64_c(vd xh, vd xl, vd *th_out, vd *z_out, vd *k16_out)
{
    vd z = vd_fma(xh, vd_set1(UG__EXPDD_INV_LN2_N), vd_set1(UG__EXPDD_SHIFT));
    vd k16 = vd_fma(z, vd_set1(0x1p-4), vd_set1(-UG__EXPDD_SHIFT * 0x1p-4)); /* k/16, exact */
    vd rh = vd_fma(k16, vd_set1(-UG__EXPDD_LN2_N_HI * 16), xh);               /* exact */
    vd r = vd_fma(k16, vd_set1(-UG__EXPDD_LN2_N_LO * 16), vd_add(rh, xl));
    vd q = vd_fma(vd_set1(UG__EXPDD_Q5), r, vd_set1(UG__EXPDD_Q4));
    q = vd_fma(q, r, vd_set1(UG__EXPDD_Q3));
    q = vd_fma(q, r, vd_set1(UG__EXPDD_Q2));
    q = vd_fma(q, r, vd_set1(UG__EXPDD_Q1));
    q = vd_fma(q, r, vd_set1(UG__EXPDD_Q0));
    vd pp = vd_fma(vd_mul(r, r), q, r); /* exp(r) - 1 */
    vd tl;
    vd_table_dd(z, th_out, &tl);
    *z_out = z;
    *k16_out = k16;
    return vd_fma(*th_out, pp, tl);
}

/* vexp_f64's parts before the scaling: exp(xh + xl) = (h + l) 2^(k >> 4), the scale given by
 * z = UG__EXPDD_SHIFT + k and k16 = k/16 (exact: z/16 and SHIFT/16 are exact, k/16 has at
 * most 15 significant bits), for vd_scale_k and its kin (every lane computed: no range mask).
 * Session 7: the reduction takes k16 times 16 HI and 16 LO (exact multiples of HI, LO: the
 * same products k HI, k LO, the same roundings, the same bits as with k), and the scale is
 * VSCALEFPD by k16 on AVX-512 (one operation where vd_pow2_k and a multiply took three). */
UG__SIMD_INLINE void vexp_f64_parts_k(vd xh, vd xl, vd *h, vd *l, vd *z_out, vd *k16_out)
{
    vd th, c = vexp_f64_c(xh, xl, &th, z_out, k16_out);
    vd hh = vd_add(th, c);
    *h = hh;
    *l = vd_sub(c, vd_sub(hh, th)); /* fast-two-sum, |th| > |c| */
}

/* vexp_f64_parts_k of four vectors, stage by stage (each operation for the four, then the
 * next: four independent chains side by side for the scheduler; session 7, f64_step4): the
 * same operations on the same values. */
#define UG__VEXP4(stmt) _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) stmt
UG__SIMD_INLINE void vexp_f64_parts_k4(const vd *xh, const vd *xl, vd *h, vd *l, vd *z, vd *k16)
{
    vd rh[4], r[4], q[4], pp[4], th[4], tl[4], c[4];
    UG__VEXP4(z[j] = vd_fma(xh[j], vd_set1(UG__EXPDD_INV_LN2_N), vd_set1(UG__EXPDD_SHIFT)));
    UG__VEXP4(k16[j] = vd_fma(z[j], vd_set1(0x1p-4), vd_set1(-UG__EXPDD_SHIFT * 0x1p-4)));
    UG__VEXP4(rh[j] = vd_fma(k16[j], vd_set1(-UG__EXPDD_LN2_N_HI * 16), xh[j]));
    UG__VEXP4(r[j] = vd_fma(k16[j], vd_set1(-UG__EXPDD_LN2_N_LO * 16), vd_add(rh[j], xl[j])));
    UG__VEXP4(q[j] = vd_fma(vd_set1(UG__EXPDD_Q5), r[j], vd_set1(UG__EXPDD_Q4)));
    UG__VEXP4(q[j] = vd_fma(q[j], r[j], vd_set1(UG__EXPDD_Q3)));
    UG__VEXP4(q[j] = vd_fma(q[j], r[j], vd_set1(UG__EXPDD_Q2)));
    UG__VEXP4(q[j] = vd_fma(q[j], r[j], vd_set1(UG__EXPDD_Q1)));
    UG__VEXP4(q[j] = vd_fma(q[j], r[j], vd_set1(UG__EXPDD_Q0)));
    UG__VEXP4(pp[j] = vd_fma(vd_mul(r[j], r[j]), q[j], r[j]));
    UG__VEXP4(vd_table_dd(z[j], &th[j], &tl[j]));
    UG__VEXP4(c[j] = vd_fma(th[j], pp[j], tl[j]));
    UG__VEXP4(h[j] = vd_add(th[j], c[j]));
    UG__VEXP4(l[j] = vd_sub(c[j], vd_sub(h[j], th[j])));
}
#undef UG__VEXP4

/* vexp_f64_parts_k with the scale as sc = 2^(k >> 4) (vd_pow2_k): eh = h sc, el = l sc. */
UG__SIMD_INLINE void vexp_f64_parts(vd xh, vd xl, vd *h, vd *l, vd *sc)
{
    vd z, k16;
    vexp_f64_parts_k(xh, xl, h, l, &z, &k16);
    *sc = vd_pow2_k(z);
}

/* vexp_f64 with the lanes outside want set to +0; in = 1: xh known to be >= -670 or NaN
 * (no -inf), the range mask left out (for those arguments it keeps every lane). */
UG__SIMD_INLINE void vexp_f64_mask(vd xh, vd xl, vm want, vd *eh, vd *el, int in)
{
    vd h, l, z, k16;
    vexp_f64_parts_k(xh, xl, &h, &l, &z, &k16);
    vm keep = in ? want : vm_and(want, vd_nlt(xh, vd_set1(UG__EXP_X_MIN)));
    *eh = vd_maskz_scale_k(keep, h, z, k16);
    *el = vd_maskz_scale_k(keep, l, z, k16);
}

UG__SIMD_INLINE void vexp_f64_where(vd xh, vd xl, vm want, vd *eh, vd *el) { vexp_f64_mask(xh, xl, want, eh, el, 0); }
UG__SIMD_INLINE void vexp_f64_in(vd xh, vd xl, vm want, vd *eh, vd *el) { vexp_f64_mask(xh, xl, want, eh, el, 1); }
static inline void vexp_f64(vd xh, vd xl, vd *eh, vd *el) { vexp_f64_where(xh, xl, vm_all(), eh, el); }
