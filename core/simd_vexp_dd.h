/* The double-double exp and log1p of the f64 SIMD kernels, in binary64 lanes, written once
 * over the primitives of the including ISA file (core/simd_f64_avx2.c, core/simd_f64_avx512.c):
 *   vd_set1, vd_add, vd_sub, vd_mul, vd_fma(a, b, c) = a b + c (one rounding), vd_fms(a, b, c)
 *   = a b - c (one rounding), vd_blend(m, t, f) (m ? t : f), vd_maskz(m, v) (m ? v : +0),
 *   vd_maskz_mul(m, a, b) (m ? a b : +0), vm_and, vm_all() (every lane), vm_any,
 *   vd_lt(a, b) (the mask a < b, ordered), vd_nlt(a, b) (!(a < b)),
 *   vd_table_dd(z, &th, &tl)  T_hi[j], T_lo[j] for j = the low 4 bits of z,
 *   vd_pow2_k(z)              2^(k >> 4) for z = SHIFT + k, k >= -16368 (the low 16 bits of z
 *                             are k + 16368: two integer operations),
 *   vd_lookup16(tab, z)       tab[j] for j = the low 4 bits of z (vlog1p_dd01's tables),
 *   and vlog1p of core/simd_vlog.h (binary64, relative error <= 2^-49.96).
 * No include guard: included once per ISA file, after the primitives.  The functions do
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

/* vlog1p_dd01: contract (session 8, helper B1: bce_logits' log1p(exp(-|x|)), production rows)
 *   computes  log(1 + s) as Lh + Ll for s = sh + sl, sh in [0, 1], |sl| <= u sh and sh =
 *             fl(sh + sl) (vexp_f64's pairs), s <= 1.  Ll is not normalised: |Ll| <= 2^-11.2 Lh.
 *   method    i = round(15 sh) (one fma onto the 1.5 2^52 shifter: i in the low 4 bits), then
 *             four 16-entry tables (scripts/gen-log-dd-table, core/simd_log_dd_data.h; the
 *             ISA file's vd_lookup16): g_i ~ i/15 (a multiple of 2^-42, so c_i = 1 + g_i is
 *             exact), r_i = RN(1/c_i), log(c_i) = LOGC_hi + LOGC_lo.  log1p(s) = log(c_i) +
 *             log1p(t), t = (s - g_i)/c_i, |t| <= A = 1/30 + 2^-40 (i = 0: g = 0, c = r = 1, t =
 *             s): dh = sh - g_i (exact), th = fl(dh r_i), rem = dh - th c_i (one fma, exact),
 *             tl = fl(fl(rem + sl) r_i) (i = 0: tl = sl).  log1p(th + tl) = th - th^2/2 +
 *             th^3 R(th) + tl (1 - th + th^2), R of degree 8 (fpminimax, relative, on [-A, A]);
 *             th^2 = r2 + r2e by two-prod; LOGC_hi + th, then + (-r2/2), by two fast-two-sums
 *             (exact); their errors, LOGC_lo, tl's term, -r2e/2 and th^3 R (last, one fma)
 *             summed into Ll.  No division, no exp, no branch: 35 operations (4 lookups)
 *             against vlog1p_dd's some 90 and a division.
 *   bound     relative error <= 2^-62.0 (SIMD-ERROR-ANALYSIS.md §7.10; at i = 0: the
 *             roundings of the th^3 R term 2^-62.31, R's approximation 2^-65.31 (Sollya
 *             supnorm), tl's dropped terms 2^-67.65, the low part's roundings below 2^-99, sum
 *             2^-62.11; at i >= 1: 2^-62.59, 2^-65.40, 2^-66.25, sum 2^-62.30); measured
 *             2^-62.87 on 2^17 arguments (props/test_simd.c, vlog1p_dd01_mpfr).  s = 0 gives
 *             +0 in Lh; s = 1 gives LOGC_hi[15] = RN(ln 2) in Lh.  Lanes with sh NaN or
 *             outside the domain are garbage (no fault: the index is 4 bits).  AVX2 and
 *             AVX-512 give the same bits.
 */
static inline void vlog1p_dd01(vd sh, vd sl, vd *lh, vd *ll)
{
    vd z = vd_fma(sh, vd_set1(UG__LOGDD_M), vd_set1(0x1.8p52)); /* low 4 bits: i = round(15 sh) */
    vd g = vd_lookup16(ug__logdd_g, z), r = vd_lookup16(ug__logdd_r, z);
    vd ch = vd_lookup16(ug__logdd_logc_hi, z), cl = vd_lookup16(ug__logdd_logc_lo, z);
    vd c = vd_add(g, vd_set1(1.0));   /* exact */
    vd dh = vd_sub(sh, g);            /* exact: i >= 1 makes sh >= 2^-5 */
    vd th = vd_mul(dh, r);
    vd rem = vd_fnma(th, c, dh);      /* dh - th c, exact */
    vd tl = vd_mul(vd_add(rem, sl), r);
    vd r2 = vd_mul(th, th), r2e = vd_fms(th, th, r2); /* two-prod: th^2 = r2 + r2e */
    vd p = vd_fma(vd_set1(UG__LOGDD_R8), th, vd_set1(UG__LOGDD_R7));
    p = vd_fma(p, th, vd_set1(UG__LOGDD_R6));
    p = vd_fma(p, th, vd_set1(UG__LOGDD_R5));
    p = vd_fma(p, th, vd_set1(UG__LOGDD_R4));
    p = vd_fma(p, th, vd_set1(UG__LOGDD_R3));
    p = vd_fma(p, th, vd_set1(UG__LOGDD_R2));
    p = vd_fma(p, th, vd_set1(UG__LOGDD_R1));
    p = vd_fma(p, th, vd_set1(UG__LOGDD_R0));
    vd s1 = vd_add(ch, th), e1 = vd_sub(th, vd_sub(s1, ch));   /* fast-two-sum: |ch| > |th| or ch = 0 */
    vd s2 = vd_fma(r2, vd_set1(-0.5), s1);                     /* fast-two-sum of s1 and -r2/2 */
    vd e2 = vd_fms(r2, vd_set1(-0.5), vd_sub(s2, s1));
    vd lo = vd_add(vd_add(e1, e2), cl);
    lo = vd_add(lo, vd_fma(tl, vd_sub(r2, th), tl));           /* tl (1 - th + th^2) */
    lo = vd_fma(r2e, vd_set1(-0.5), lo);
    *lh = s2;
    *ll = vd_fma(vd_mul(r2, th), p, lo);
}
