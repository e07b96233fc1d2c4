/* The double-double exp and log1p of the f64 SIMD kernels, in binary64 lanes, written once
 * over the primitives of the including ISA file (core/simd_f64_avx2.c, core/simd_f64_avx512.c):
 *   vd_set1, vd_add, vd_sub, vd_mul, vd_fma(a, b, c) = a b + c (one rounding), vd_fms(a, b, c)
 *   = a b - c (one rounding), vd_blend(m, t, f) (m ? t : f), vd_maskz(m, v) (m ? v : +0),
 *   vd_maskz_mul(m, a, b) (m ? a b : +0), vm_and, vm_all() (every lane), vm_any,
 *   vd_lt(a, b) (the mask a < b, ordered), vd_nlt(a, b) (!(a < b)),
 *   vd_table_dd(z, &th, &tl)  T_hi[j], T_lo[j] for j = the low 4 bits of z,
 *   vd_pow2_k(z)              2^(k >> 4) for z = SHIFT + k, k >= -16368 (the low 16 bits of z
 *                             are k + 16368: two integer operations),
 *   and vlog1p of core/simd_vlog.h (binary64, relative error <= 2^-49.96).
 * No include guard: included once per ISA file, after the primitives.  Both functions do
 * the same operations in the same order on every ISA: AVX2 and AVX-512 give the same bits.
 * The error analysis is doc/SIMD-ERROR-ANALYSIS.md §7; u = 2^-53.
 *
 * vexp_dd: contract
 *   computes  exp(xh + xl) as eh + el, for xh <= 0 (or NaN, -inf) and |xl| <= u |xh|
 *             (x - m split exactly by two-sum).  el is not normalised: |el| <= 2^-51 eh.
 *   method    k = round(16 xh/ln 2) (the 1.5 2^52 shifter), rh = xh - k HI (one fma, exact:
 *             the exact value is a multiple of 2^-58 below 2^-5.5), rl = xl - k LO (one
 *             rounding), |rh| <= ln2/32 (1 + 2^-39); exp(rh + rl) = 1 + rh + t,
 *             t = rh^2 q(rh) + rl (1 + p0), p0 = fma(rh^2, q, rh), q(r) = sum_{i<=7} r^i/(i+2)!;
 *             e = (T_hi + T_lo)(1 + rh + t) 2^(k >> 4), T = 2^((k & 15)/16) a double-double
 *             (scripts/gen-exp-dd-table, core/simd_exp_dd_data.h): T_hi + T_hi rh by two-prod
 *             and two fast-two-sums, T_hi t and the low parts added last.  37 operations.
 *   bound     relative error <= 2^-62.9 for x in [-670, 0] (SIMD-ERROR-ANALYSIS.md §7.1:
 *             4 roundings of size u 2^-12.05 (r^2, q's last step, t, T_hi t), the rest below
 *             2^-77), measured 2^-63.63 on 2^17 arguments (props/test_simd.c, vexp_dd_mpfr).
 *             Below -670 the low part may be subnormal (absolute error <= 2^-1075);
 *             xh < X_MIN = -708.40 (and -inf) gives +0 in both parts; NaN gives NaN.
 *
 * vlog1p_dd: contract
 *   computes  log(1 + s) as Lh + Ll for s = sh + sl >= 0 finite, |sl| <= sh (first
 *             renormalised by a fast-two-sum, so that |sl| <= u sh).
 *   method    L0 = vlog1p(sh) (binary64, <= 2^-49.96), then one Newton step on
 *             exp(L) = 1 + s: L = L0 + ((1 + s) E - 1), E = vexp_dd(-L0).  The correction
 *             c = (1 + s) E - 1 is formed two ways: for L0 < 2^-6 (k = 0 in the exp, E = 1 + M
 *             with M = (eh - 1) + el known to a relative 2^-52 L0) as c = (sh + Mh) + (sl + Ml
 *             + s M), sh + Mh exact (Sterbenz); above as a_h E_h - 1 (two-prod, the -1 exact)
 *             plus the low products, 1 + s = a_h + a_l by two-sum.  Lh + Ll = fast-two-sum.
 *             Each form is computed only when a lane takes it (a lane's bits do not depend
 *             on its neighbours).
 *   bound     relative error <= 2^-56.1 (SIMD-ERROR-ANALYSIS.md §7.2: L0 < 2^-6, the
 *             roundings of t and of the three terms of size L0^2, relative u L0 each:
 *             <= 2^-56.45; L0 >= 2^-6, the exp's 2^-62.9 over L >= 2^-6: <= 2^-56.85);
 *             Newton's quadratic term (2^-49.4)^2/2 is below 2^-99.  Measured 2^-57.65 on
 *             2^17 arguments (props/test_simd.c, vlog1p_dd_mpfr).  s = 0 gives exactly 0.
 */

/* 1.5 2^52 + 16368: fma(x, INV, SHIFT) leaves round(x INV) + 16368 in the low bits (16368 =
 * 1023 16: the table index k & 15 is unchanged, and the exponent field 1023 + (k >> 4) is
 * those bits shifted, vd_pow2_k) */
#define UG__EXPDD_SHIFT (0x1.8p52 + 16368.0)
#define UG__LOG1PDD_SMALL 0x1p-6 /* below: the expm1 form of the Newton correction */

/* q(r) = sum_{i=0..7} r^i/(i+2)!, Horner: exp(r) = 1 + r + r^2 q(r) + O(r^10/10!). */
static inline vd vexp_dd_q(vd r)
{
    vd q = vd_fma(vd_set1(UG__EXPDD_Q7), r, vd_set1(UG__EXPDD_Q6));
    q = vd_fma(q, r, vd_set1(UG__EXPDD_Q5));
    q = vd_fma(q, r, vd_set1(UG__EXPDD_Q4));
    q = vd_fma(q, r, vd_set1(UG__EXPDD_Q3));
    q = vd_fma(q, r, vd_set1(UG__EXPDD_Q2));
    q = vd_fma(q, r, vd_set1(UG__EXPDD_Q1));
    return vd_fma(q, r, vd_set1(UG__EXPDD_Q0));
}

/* vexp_dd, with the lanes outside the mask `want` set to +0 as well (one masked multiply). */
static inline void vexp_dd_where(vd xh, vd xl, vm want, vd *eh, vd *el)
{
    vd z = vd_fma(xh, vd_set1(UG__EXPDD_INV_LN2_N), vd_set1(UG__EXPDD_SHIFT));
    vd kd = vd_sub(z, vd_set1(UG__EXPDD_SHIFT));
    vd rh = vd_fma(kd, vd_set1(-UG__EXPDD_LN2_N_HI), xh); /* exact */
    vd rl = vd_fma(kd, vd_set1(-UG__EXPDD_LN2_N_LO), xl);
    vd q = vexp_dd_q(rh);
    vd r2 = vd_mul(rh, rh);
    vd p0 = vd_fma(r2, q, rh);
    vd t = vd_fma(r2, q, vd_fma(rl, p0, rl)); /* exp(rh + rl) - 1 - rh */
    vd th, tl;
    vd_table_dd(z, &th, &tl);
    vd a = vd_mul(th, rh), ae = vd_fms(th, rh, a);         /* two-prod */
    vd s1 = vd_add(th, a), e1 = vd_add(vd_sub(th, s1), a); /* fast-two-sum, |th| > |a| */
    vd b = vd_mul(th, t);
    vd s2 = vd_add(s1, b), e2 = vd_add(vd_sub(s1, s2), b); /* fast-two-sum, |s1| > |b| */
    vd lo = vd_add(vd_add(e1, e2), vd_fma(tl, vd_add(rh, t), vd_add(tl, ae)));
    vd sc = vd_pow2_k(z);
    vm keep = vm_and(want, vd_nlt(xh, vd_set1(UG__EXP_X_MIN)));
    *eh = vd_maskz_mul(keep, s2, sc);
    *el = vd_maskz_mul(keep, lo, sc);
}

static inline void vexp_dd(vd xh, vd xl, vd *eh, vd *el) { vexp_dd_where(xh, xl, vm_all(), eh, el); }

/* vlog1p_dd in four steps over a state (session 7): a caller may run them apart, other
 * independent work between them (the f64 short rows run a group's log1p inside the next
 * group's pass 2, f64_tiny_cols), so that the out-of-order core overlaps the chain's latency
 * instead of holding its waiting operations.  The operations and their order within a lane
 * are vlog1p_dd's: the same bits. */
typedef struct vlog1p_dd_st {
    vd sh, sl, l0, eh, el, c_small, c_big;
    vm small;
    int any_big;
} vlog1p_dd_st;

/* Step 0: s renormalised, L0 = vlog1p(sh). */
static inline void vlog1p_dd_0(vlog1p_dd_st *st, vd sh0, vd sl0)
{
    vd sh = vd_add(sh0, sl0);
    st->sl = vd_sub(sl0, vd_sub(sh, sh0)); /* fast-two-sum: |sl| <= u sh */
    st->sh = sh;
    st->l0 = vlog1p(sh);
}

/* Step 1: L0 < 2^-6: exp(-L0) = 1 + M, M = -L0 + t, t = L0^2 q(-L0); c = s + M + s M, with
 * sh - L0 exact (Sterbenz: L0 in [sh/2, 2 sh]) and the rest of size L0^2.  L0 >= 2^-6 (or
 * NaN): E = vexp_dd(-L0).  Each formed only when a lane takes it. */
static inline void vlog1p_dd_1(vlog1p_dd_st *st)
{
    vd sh = st->sh, sl = st->sl, l0 = st->l0;
    st->small = vd_lt(l0, vd_set1(UG__LOG1PDD_SMALL));
    st->c_small = vd_zero();
    st->c_big = vd_zero();
    if (vm_any(st->small)) {
        vd t = vd_mul(vd_mul(l0, l0), vexp_dd_q(vd_sub(vd_zero(), l0)));
        st->c_small = vd_add(vd_sub(sh, l0), vd_fma(vd_sub(vd_zero(), sh), l0, vd_fma(sh, t, vd_add(sl, t))));
    }
    st->any_big = vm_any(vd_nlt(l0, vd_set1(UG__LOG1PDD_SMALL)));
    if (st->any_big)
        vexp_dd(vd_sub(vd_zero(), l0), vd_zero(), &st->eh, &st->el);
}

/* Step 2: L0 >= 2^-6: c = (1 + s) E - 1, 1 + s = ah + al by two-sum (plus sl), ah E by
 * two-prod, the -1 exact. */
static inline void vlog1p_dd_2(vlog1p_dd_st *st)
{
    if (st->any_big) {
        vd one = vd_set1(1.0), sh = st->sh, eh = st->eh, el = st->el;
        vd ah = vd_add(one, sh), bb = vd_sub(ah, one);
        vd al = vd_add(vd_add(vd_sub(one, vd_sub(ah, bb)), vd_sub(sh, bb)), st->sl); /* two-sum, plus sl */
        vd p = vd_mul(ah, eh), pe = vd_fms(ah, eh, p);
        st->c_big = vd_add(vd_sub(p, one), vd_add(pe, vd_fma(ah, el, vd_mul(al, eh))));
    }
}

/* Step 3: Lh + Ll = L0 + c by fast-two-sum, |L0| > |c|. */
static inline void vlog1p_dd_3(const vlog1p_dd_st *st, vd *lh, vd *ll)
{
    vd c = vd_blend(st->small, st->c_small, st->c_big);
    vd h = vd_add(st->l0, c);
    *lh = h;
    *ll = vd_add(vd_sub(st->l0, h), c);
}

static inline void vlog1p_dd(vd sh0, vd sl0, vd *lh, vd *ll)
{
    vlog1p_dd_st st;
    vlog1p_dd_0(&st, sh0, sl0);
    vlog1p_dd_1(&st);
    vlog1p_dd_2(&st);
    vlog1p_dd_3(&st, lh, ll);
}
