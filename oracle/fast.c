/* The oracle's certified fast path (ANALYSIS.md §9): every op (softmax, log_softmax,
 * logsumexp, xent, xent_dense, xent_grad, bce_logits; every reduction) of f32, bf16 and f64
 * inputs, in double-double arithmetic with a running error bound.
 *
 * For one row it computes, in dd (oracle/dd.h), every output v_i with a proven absolute
 * error bound err_i, then answers from it only what it can prove:
 *   rounded   RNE_dt(v_i), when no rounding boundary of dt lies in [v_i - err_i, v_i + err_i];
 *   value     the 128-bit RNE of v_i when it provably equals the double vhi (then set), or
 *             else left *lazy*: value = NaN, lazy = 1, and (vhi, vlo, verr) an enclosure
 *             |v - (vhi + vlo)| <= verr that the judge uses (ug_compare_lazy) to decide the
 *             ULP error (RU_24, ulp.h) exactly, asking for the value (ug_oracle_value) only
 *             when it cannot;
 *   kappa     bit for bit what cond.c computes, by the same binary64 operations in the
 *             same order, where each MPFR operation at 53 bits is shown to equal its
 *             binary64 counterpart (no underflow, no overflow: checked) and the three
 *             53-bit roundings of MPFR's working values (S, S', the 128-bit value) are
 *             decided from the enclosures.
 * When any of these cannot be proven the whole row is handed to the MPFR oracle
 * (exact_softmax.c), so the answer is always the MPFR path's answer, bit for bit.
 *
 * Rows taken: no NaN, no +inf, not all -inf (those are SPECIAL.md rows: MPFR, cheap),
 * every finite entry within 600 of the max (a_j = x_j - m >= -600), and for a row with
 * a second value x2 < m, a2 = x2 - m >= -500; for logsumexp and xent, L != 0, and for xent
 * an unmasked target; for xent_grad, a gradient that is not exactly 0; bce_logits: |x| <= 600.
 * A reduction is taken when all its rows (elements) are.  Everything else goes to MPFR.
 * f64 (ANALYSIS.md §9.1, §9.7): the same path; its ULP errors are decided because the
 * metric rounds them up to 24 bits (ulp.h), which a dd enclosure decides.
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dd.h"
#include "ora_internal.h"
#include "ulp.h"

/* ---------------------------------------------------------------- the switch */

static atomic_int fast_mode = -1; /* -1: not read yet; 0: MPFR only; 1: fast path */
static atomic_ulong fast_mismatch;
static atomic_ulong fast_rows_taken, fast_rows_mpfr; /* ug_oracle_fast_rows */

int ug_oracle_fast_enabled(void)
{
    int m = atomic_load(&fast_mode);
    if (m < 0) {
        const char *s = getenv("UG_ORACLE");
        m = !(s != NULL && strcmp(s, "mpfr") == 0);
        int expected = -1;
        atomic_compare_exchange_strong(&fast_mode, &expected, m);
        m = atomic_load(&fast_mode);
    }
    return m;
}

void ug_oracle_set_fast(int on) { atomic_store(&fast_mode, on ? 1 : 0); }

unsigned long ug_oracle_fast_mismatches(void) { return atomic_load(&fast_mismatch); }

void ora_fast_mismatch(void) { atomic_fetch_add(&fast_mismatch, 1); }

void ug_oracle_fast_rows(unsigned long *taken, unsigned long *mpfr)
{
    *taken = atomic_load(&fast_rows_taken);
    *mpfr = atomic_load(&fast_rows_mpfr);
}

/* Count a row (or a whole reduction) answered by the fast path (ok) or handed to MPFR. */
static int counted(int ok)
{
    atomic_fetch_add(ok ? &fast_rows_taken : &fast_rows_mpfr, 1);
    return ok;
}

/* ---------------------------------------------------------------- constants (§9.3) */

/* From MPFR once: ln2/256 = C1 + C2 + C3 (C1 with 34 bits, so that k C1 is exact for
 * |k| < 2^19), 2^(j/256) and 1/k! as dd (each the RN of the exact value, then the RN of
 * the remainder: relative error <= 2^-106). */
static double C1, C2, C3;
static dd T256[256], FACT[12]; /* FACT[k] = 1/k! */
static double FACTD[12];
static pthread_once_t consts_once = PTHREAD_ONCE_INIT;
static int have_fma; /* the CPU has FMA: expm1_poly_fma */
static int have_v4;  /* AVX2 and FMA: fast_exp4_fma */

static dd dd_of(mpfr_t v, mpfr_t t)
{
    double h = mpfr_get_d(v, MPFR_RNDN);
    mpfr_sub_d(t, v, h, MPFR_RNDN);
    return dd_make(h, mpfr_get_d(t, MPFR_RNDN));
}

static void consts_init(void)
{
    mpfr_t v, t;
    mpfr_inits2(300, v, t, (mpfr_ptr)0);
    mpfr_const_log2(v, MPFR_RNDN);
    mpfr_div_2ui(v, v, 8, MPFR_RNDN);
    mpfr_set(t, v, MPFR_RNDN);
    mpfr_prec_round(t, 34, MPFR_RNDN);
    C1 = mpfr_get_d(t, MPFR_RNDN);
    mpfr_set_prec(t, 300);
    mpfr_sub_d(v, v, C1, MPFR_RNDN);
    C2 = mpfr_get_d(v, MPFR_RNDN);
    mpfr_sub_d(v, v, C2, MPFR_RNDN);
    C3 = mpfr_get_d(v, MPFR_RNDN);
    for (int j = 0; j < 256; j++) {
        mpfr_set_ui(v, (unsigned long)j, MPFR_RNDN);
        mpfr_div_ui(v, v, 256, MPFR_RNDN);
        mpfr_exp2(v, v, MPFR_RNDN);
        T256[j] = dd_of(v, t);
    }
    for (int k = 0; k < 12; k++) {
        mpfr_fac_ui(v, (unsigned long)k, MPFR_RNDN);
        mpfr_ui_div(v, 1, v, MPFR_RNDN);
        FACT[k] = dd_of(v, t);
        FACTD[k] = FACT[k].h;
    }
    mpfr_clears(v, t, (mpfr_ptr)0);
#ifdef DD_HAVE_FMA_VARIANT
    __builtin_cpu_init();
    have_fma = __builtin_cpu_supports("fma");
    have_v4 = have_fma && __builtin_cpu_supports("avx2");
#endif
}

/* ---------------------------------------------------------------- helpers */

/* RNE of x to an integer, |x| < 2^51, in the default rounding mode (nearbyint without
 * its floating-point-environment save and restore). */
static inline double round_int(double x)
{
    const double magic = 0x1.8p52;
    return (x + magic) - magic;
}

/* 2^e for -1022 <= e <= 1023, exactly. */
static inline double pow2(int e)
{
    union { double d; uint64_t u; } v = {.u = (uint64_t)(e + 1023) << 52};
    return v.d;
}

/* ilogb of a finite nonzero normal double. */
static inline int exp_of(double x)
{
    union { double d; uint64_t u; } v = {.d = x};
    return (int)((v.u >> 52) & 0x7ff) - 1023;
}

/* ---------------------------------------------------------------- exp, expm1, log (§9.3) */

/* e^r - 1 for |r.h| <= 2^-9.5: relative error <= 2^-100.9 (§9.3).  Terms r^6/6! ...
 * (below 2^-66) in binary64, terms 1 ... 5 by dd Horner; instantiated with Dekker's
 * products and with fma products, like FAST_EXP_BODY below. */
#define EXPM1_POLY_BODY(MUL)                                                                 \
    double q = FACTD[10];                                                                  \
    for (int k = 9; k >= 6; k--)                                                           \
        q = FACTD[k] + r.h * q;                                                            \
    dd s = dd_make(q, 0.0);                                                                \
    for (int k = 5; k >= 1; k--)                                                           \
        s = dd_add_dom(FACT[k], MUL(r, s)); /* |r s| < 2^-9.5 c_k / (k + 1) */             \
    return MUL(r, s);

static dd expm1_poly_plain(dd r) { EXPM1_POLY_BODY(dd_mul) }

#ifdef DD_HAVE_FMA_VARIANT
__attribute__((target("fma"))) static dd expm1_poly_fma(dd r) { EXPM1_POLY_BODY(dd_mul_fma) }
#endif

static dd expm1_poly(dd r)
{
#ifdef DD_HAVE_FMA_VARIANT
    if (have_fma)
        return expm1_poly_fma(r);
#endif
    return expm1_poly_plain(r);
}

/* Relative error bound of fast_exp, as a double (§9.3). */
#define EPS_EXP 0x1p-101

/* e^a for a dd a with -640 <= a.h <= 64: relative error <= EPS_EXP.  Reduction
 * a = k ln2/256 + r, |r| <= ln2/512 + 2^-40, r to 3 (2^-102) |r|; e^a = 2^(k/256) e^r.
 * FAST_EXP_BODY is the body, instantiated with Dekker's products (fast_exp_plain) and
 * with fma products (fast_exp_fma): the same operations, the same bounds (dd.h). */
#define FAST_EXP_BODY(POLY, TWO_PROD, MUL)                                                   \
    double kd = round_int(a.h * (256.0 / 0.6931471805599453));                             \
    int k = (int)kd;                                                                       \
    /* k C1 is exact (<= 53 bits), a.h - k C1 exact as a TwoSum, k C2 exact as a product; \
     * the additions are of numbers of r's size: 3 (2^-102) |r| (§9.3) */                  \
    dd r = dd_two_sum(a.h, -kd * C1);                                                      \
    if (a.l != 0)                                                                          \
        r = dd_add(r, dd_make(a.l, 0.0));                                                  \
    r = dd_add(r, dd_neg(TWO_PROD(kd, C2)));                                               \
    r = dd_add(r, dd_make(-kd * C3, 0.0));                                                 \
    dd e = dd_add_dom(dd_make(1.0, 0.0), POLY(r)); /* |p| < 2^-9.4 */                      \
    e = MUL(T256[k & 255], e);                                                             \
    double sc = pow2((k - (k & 255)) / 256); /* 2^floor(k / 256): exact scaling (§9.1) */  \
    return dd_make(e.h * sc, e.l * sc);

static dd fast_exp_plain(dd a) { FAST_EXP_BODY(expm1_poly_plain, dd_two_prod, dd_mul) }

#ifdef DD_HAVE_FMA_VARIANT
__attribute__((target("fma"))) static dd fast_exp_fma(dd a) { FAST_EXP_BODY(expm1_poly_fma, dd_two_prod_fma, dd_mul_fma) }
#endif

#ifdef DD_HAVE_FMA_VARIANT
/* fast_exp_fma of four doubles a[0..3] (a.l = 0) at once: FAST_EXP_BODY's operations lane by
 * lane (dd.h's four-lane functions), so out[i] is bit for bit fast_exp_fma(a[i]) (§9.2). */
DD_V4 static void fast_exp4_fma(const double *a, dd *out)
{
    const dd_v4d zero = dd_v4_bcast(0.0), magic = dd_v4_bcast(0x1.8p52);
    dd_v4d ah = {a[0], a[1], a[2], a[3]};
    dd_v4d kd = (ah * dd_v4_bcast(256.0 / 0.6931471805599453) + magic) - magic;
    ddv r = ddv_two_sum(ah, -kd * dd_v4_bcast(C1));
    ddv t = ddv_two_prod_fma(kd, dd_v4_bcast(C2));
    r = ddv_add(r, ddv_make(-t.h, -t.l));
    r = ddv_add(r, ddv_make(-kd * dd_v4_bcast(C3), zero));
    dd_v4d q = dd_v4_bcast(FACTD[10]); /* EXPM1_POLY_BODY */
    for (int k = 9; k >= 6; k--)
        q = dd_v4_bcast(FACTD[k]) + r.h * q;
    ddv s = ddv_make(q, zero);
    for (int k = 5; k >= 1; k--)
        s = ddv_add_dom(ddv_make(dd_v4_bcast(FACT[k].h), dd_v4_bcast(FACT[k].l)), ddv_mul_fma(r, s));
    ddv e = ddv_add_dom(ddv_make(dd_v4_bcast(1.0), zero), ddv_mul_fma(r, s));
    dd_v4d th, tl, sc;
    for (int i = 0; i < 4; i++) {
        int k = (int)kd[i];
        th[i] = T256[k & 255].h, tl[i] = T256[k & 255].l;
        sc[i] = pow2((k - (k & 255)) / 256);
    }
    e = ddv_mul_fma(ddv_make(th, tl), e);
    dd_v4d eh = e.h * sc, el = e.l * sc;
    for (int i = 0; i < 4; i++)
        out[i] = dd_make(eh[i], el[i]);
}
#endif

static dd fast_exp(dd a)
{
#ifdef DD_HAVE_FMA_VARIANT
    if (have_fma)
        return fast_exp_fma(a);
#endif
    return fast_exp_plain(a);
}

/* out[i] = fast_exp(arg[i]) (arg[i] a double) for the lanes i < cnt <= 4 with use[i]; four
 * lanes at once (unused ones on 0) when the CPU has AVX2 and FMA, bit for bit the same. */
static void fast_exp_lanes(const double *arg, const int *use, int cnt, dd *out)
{
#ifdef DD_HAVE_FMA_VARIANT
    if (cnt == 4 && have_v4 && (use[0] + use[1] + use[2] + use[3]) > 1) {
        double a[4];
        for (int i = 0; i < 4; i++)
            a[i] = use[i] ? arg[i] : 0.0;
        fast_exp4_fma(a, out);
        return;
    }
#endif
    for (int i = 0; i < cnt; i++)
        if (use[i])
            out[i] = fast_exp(dd_make(arg[i], 0.0));
}

#ifdef DD_HAVE_FMA_VARIANT
/* fast_exp_sum's four-lane body: every a.l is 0. */
DD_V4 static void fast_exp_sum4(const dd *a, const size_t *idx, dd *E, dd part[4])
{
    double ah[4] = {a[idx[0]].h, a[idx[1]].h, a[idx[2]].h, a[idx[3]].h};
    dd e[4];
    fast_exp4_fma(ah, e);
    ddv ev = ddv_make((dd_v4d){e[0].h, e[1].h, e[2].h, e[3].h}, (dd_v4d){e[0].l, e[1].l, e[2].l, e[3].l});
    ddv pv = ddv_make((dd_v4d){part[0].h, part[1].h, part[2].h, part[3].h},
                      (dd_v4d){part[0].l, part[1].l, part[2].l, part[3].l});
    pv = ddv_add(pv, ev);
    for (int i = 0; i < 4; i++) {
        E[idx[i]] = e[i];
        part[i] = dd_make(pv.h[i], pv.l[i]);
    }
}
#endif

/* E[idx[i]] = fast_exp(a[idx[i]]) and part[i] = dd_add(part[i], E[idx[i]]) for i < cnt <= 4:
 * four lanes at once when the CPU has AVX2 and FMA and every a.l is 0, bit for bit the
 * same (dd.h). */
static void fast_exp_sum(const dd *a, const size_t *idx, int cnt, dd *E, dd part[4])
{
#ifdef DD_HAVE_FMA_VARIANT
    if (cnt == 4 && have_v4 && a[idx[0]].l == 0 && a[idx[1]].l == 0 && a[idx[2]].l == 0 && a[idx[3]].l == 0) {
        fast_exp_sum4(a, idx, E, part);
        return;
    }
    if (cnt > 1 && have_v4) { /* the last terms of a row: the lanes beyond cnt on 0 */
        double arg[4] = {0, 0, 0, 0};
        int use[4] = {0, 0, 0, 0};
        dd e[4];
        for (int i = 0; i < cnt; i++)
            arg[i] = a[idx[i]].h, use[i] = a[idx[i]].l == 0;
        if (use[0] + use[1] + use[2] + use[3] == cnt) {
            fast_exp_lanes(arg, use, 4, e);
            for (int i = 0; i < cnt; i++) {
                E[idx[i]] = e[i];
                part[i] = dd_add(part[i], e[i]);
            }
            return;
        }
    }
#endif
    for (int i = 0; i < cnt; i++) {
        E[idx[i]] = fast_exp(a[idx[i]]);
        part[i] = dd_add(part[i], E[idx[i]]);
    }
}

/* e^(a_j) into out[j] for the (up to four) indices idx[0..cnt), each bit for bit
 * fast_exp(a[idx[i]]): four at once when the CPU has AVX2 and FMA and every a.l is 0. */
static void fast_exp_idx(const dd *a, const size_t *idx, int cnt, dd *out)
{
#ifdef DD_HAVE_FMA_VARIANT
    if (cnt == 4 && have_v4 && a[idx[0]].l == 0 && a[idx[1]].l == 0 && a[idx[2]].l == 0 && a[idx[3]].l == 0) {
        double ah[4] = {a[idx[0]].h, a[idx[1]].h, a[idx[2]].h, a[idx[3]].h};
        dd e[4];
        fast_exp4_fma(ah, e);
        for (int i = 0; i < 4; i++)
            out[idx[i]] = e[i];
        return;
    }
#endif
    for (int i = 0; i < cnt; i++)
        out[idx[i]] = fast_exp(a[idx[i]]);
}

/* dd_mul, dd_div: their fma instances on a CPU with FMA (the same results, dd.h). */
static dd f_mul(dd x, dd y)
{
#ifdef DD_HAVE_FMA_VARIANT
    if (have_fma)
        return dd_mul_fma(x, y);
#endif
    return dd_mul(x, y);
}

static dd f_div(dd x, dd y)
{
#ifdef DD_HAVE_FMA_VARIANT
    if (have_fma)
        return dd_div_fma(x, y);
#endif
    return dd_div(x, y);
}

/* e^y - 1 for 0 <= y <= 64 (y a double), relative error <= *eps (§9.3): the polynomial's
 * 2^-100.9 for y <= 2^-10, else EPS_EXP e^y / (e^y - 1) + 2^-102 <= EPS_EXP (1 + 1/y) +
 * 2^-102 (e^y - 1 >= y), at most 2^-90. */
static dd fast_expm1(double y, double *eps)
{
    if (y <= 0x1p-10) {
        *eps = 0x1.2p-101; /* >= 2^-100.9 */
        return expm1_poly(dd_make(y, 0.0));
    }
    *eps = (EPS_EXP * (1 + 1 / y) + DD_EPS) * (1 + 0x1p-40);
    return dd_add(fast_exp(dd_make(y, 0.0)), dd_make(-1.0, 0.0));
}

/* fast_expm1(y, eps) for y > 2^-10 from e = fast_exp(y) computed elsewhere: the same. */
static dd fast_expm1_of(double y, dd e, double *eps)
{
    *eps = (EPS_EXP * (1 + 1 / y) + DD_EPS) * (1 + 0x1p-40);
    return dd_add(e, dd_make(-1.0, 0.0));
}

/* log1p(s) for a dd s in [2^-900, 2^100] with relative error eps_s, as a dd with relative
 * error *eps (§9.3): y0 = log1p(s.h) (glibc: only the check |u| <= 2^-48 y0 depends on it),
 * M = expm1(y0) (relative error eps_m), u = (s - M)/(1 + M), L = y0 + u - u^2/2.  The errors
 * of s and M pass to L with the factor s/((1 + s) log1p s) <= 1, and
 * |L - computed| <= (eps_s s + eps_m M + 2^-102 |D|)/(1 + M) + 2^-51 |u| + |u|^3, M < 2 s:
 * eps = eps_s + 2 eps_m + (2^-102 |D| / (1 + M) + 2^-51 |u| + |u|^3) / L, L >= y0 (1 - 2^-47).
 * 0 when the check fails. */
static int fast_log1p_m(dd s, double eps_s, double y0, dd M, double eps_m, dd *L, double *eps);

static int fast_log1p(dd s, double eps_s, dd *L, double *eps)
{
    double y0 = log1p(s.h), eps_m;
    if (!(y0 >= 0x1p-900 && y0 <= 64))
        return 0;
    dd M = fast_expm1(y0, &eps_m);
    return fast_log1p_m(s, eps_s, y0, M, eps_m, L, eps);
}

/* fast_log1p's second half, from y0 = log1p(s.h) in [2^-900, 64] and M = fast_expm1(y0). */
static int fast_log1p_m(dd s, double eps_s, double y0, dd M, double eps_m, dd *L, double *eps)
{
    dd D = dd_add(s, dd_neg(M));
    double u = D.h / (1 + M.h); /* relative error <= 2^-51 */
    if (!(fabs(u) <= 0x1p-48 * y0))
        return 0;
    *L = dd_fast_two_sum(y0, u - u * u / 2);
    double au = fabs(u);
    double tail = (DD_EPS * fabs(D.h) * 1.01 / (1 + M.h) + 0x1p-51 * au + au * au * au) / (y0 * (1 - 0x1p-47));
    *eps = (eps_s + 2 * eps_m + tail) * (1 + 0x1p-40);
    return 1;
}

/* ---------------------------------------------------------------- decisions (§9.4) */

/* Every point of [h + l - err, h + l + err] rounds (RN, binary64) to h.  h normal. */
static int rn_decided(double h, double l, double err)
{
    if (!(fabs(h) >= 0x1p-960 && fabs(h) <= 0x1p1000) || !(err >= 0))
        return 0;
    double a = fabs(h), lp = h < 0 ? -l : l;
    int e = exp_of(a);
    double ulp = pow2(e - 52);
    double half_up = ulp / 2, half_dn = a == pow2(e) ? ulp / 4 : ulp / 2;
    return half_up - lp > 2 * err && half_dn + lp > 2 * err;
}

/* RU_24 (ulp.h: UG_ULP_BITS) of every point of [fh + fl - r, fh + fl + r] is one number,
 * set into *f.  fh > 0.  With g the candidate and pred its 24-bit predecessor, the
 * differences g - fh and fh - pred are exact (Sterbenz), so a computed margin above 2 r
 * proves the true one above r: pred < every point < g, or every point <= g = fh + fl
 * exactly cannot be shown (r > 0) and is left to MPFR. */
static int ru_decided(double fh, double fl, double r, double *f)
{
    if (!(fh >= 0x1p-960 && fh <= 0x1p1000) || !(r >= 0))
        return 0;
    int e = exp_of(fh);
    double s = pow2(e - UG_ULP_BITS + 1);
    double t = fh * pow2(UG_ULP_BITS - 1 - e), ti = round_int(t); /* fh / s in [2^23, 2^24), exact */
    double g = (ti < t ? ti + 1 : ti) * s; /* RU_24(fh) = ceil(fh / s) s, exact (at most 2^(e + 1)) */
    if (g == fh && fl > 0)
        g = fh + s;
    int eg = exp_of(g);
    double sg = pow2(eg - UG_ULP_BITS + 1);
    double pred = g == pow2(eg) ? g - sg / 2 : g - sg;
    if (!((g - fh) - fl > 2 * r) || !((fh - pred) + fl > 2 * r))
        return 0;
    *f = g;
    return 1;
}

/* RNE of the double x to dt (p bits, smallest normal 2^emin, subnormals): |x| < 2^100. */
static double rne_dt(double x, int p, int emin)
{
    if (x == 0)
        return x;
    int e = exp_of(x);
    int q = (e > emin ? e : emin) - p + 1; /* -149 <= q <= 100: the scalings are exact */
    return round_int(x * pow2(-q)) * pow2(q);
}

/* decide_rounded's test first, for f32 and bf16 (p = 24, 8) and 2^-126 <= a <= 2^100, from
 * the bits of a: a = (K 2^D + low) w, w = ulp_64(a), D = 53 - p; RNE_p(a) = c is K 2^D
 * (low < half = 2^(D-1)) or (K + 1) 2^D (low > half; a tie is left to decide_rounded), and
 * the boundaries about a are c +- half w, except c - (half/2) w below c = 2^e (K = 2^(p-1),
 * low < half) and c + 2 half w above c = 2^(e+1) (a carry): the distances taken are
 * (half - low) w or (2^D - low + half) w above, (low + half/2) w when K = 2^(p-1) else
 * (low + half) w, or (low - half) w below — never more than the true ones, and exact
 * (integers below 2^46 times w, normal).  So this answers only when decide_rounded's exact
 * test answers, with the same c; 0 sends to it. */
static int rounded_by_bits(double a, double lp, double err, int p, double *c)
{
    union { double d; uint64_t u; } v = {.d = a};
    int e = (int)(v.u >> 52) - 1023;
    if (e < -126)
        return 0;
    int D = 53 - p;
    uint64_t one = (uint64_t)1 << D, mask = one - 1, half = one >> 1, low = v.u & mask, cb;
    double w = pow2(e - 52), up, dn;
    if (low < half) {
        cb = v.u & ~mask;
        up = (double)(half - low) * w;
        dn = (double)(low + ((v.u & (((uint64_t)1 << 52) - 1)) < one ? half / 2 : half)) * w;
    } else if (low > half) {
        cb = (v.u & ~mask) + one; /* a carry into the exponent field: 2^(e+1), exact */
        up = (double)(one - low + half) * w;
        dn = (double)(low - half) * w;
    } else {
        return 0;
    }
    if (!(up - lp > 2 * err) || !(dn + lp > 2 * err))
        return 0;
    union { uint64_t u; double d; } r = {.u = cb};
    *c = r.d;
    return 1;
}

/* v in [h + l - err, h + l + err], |h| in [2^-900, 2^100], v of h's sign: set out->rounded
 * to RNE_dt(v) and return 1 when no rounding boundary lies in that interval. */
static int decide_rounded(double h, double l, double err, ug_dtype dt, ug_exact *out)
{
    int p = dt == UG_BF16 ? 8 : 24, emin = -126;
    double a = fabs(h), lp = h < 0 ? -l : l;
    if (!(fabs(l) + 2 * err < a / 2))
        return 0;
    if (dt == UG_F64) { /* h is its own RNE_64 (normal: |h| >= 2^-900); its midpoints are
                           h +- ulp/2 (ulp/4 below a power of two): rn_decided */
        if (!rn_decided(h, l, err))
            return 0;
        out->rounded = h;
        return 1;
    }
    double cb;
    if (rounded_by_bits(a, lp, err, p, &cb)) {
        out->rounded = h < 0 ? -cb : cb;
        return 1;
    }
    double c = rne_dt(a, p, emin), mid_up, mid_dn;
    if (c == 0) {
        mid_up = pow2(emin - p);        /* half the smallest subnormal (ties to 0) */
        mid_dn = -1;                    /* v has h's sign: no boundary below        */
    } else {
        int e = exp_of(c);
        int q = (e > emin ? e : emin) - p + 1;
        double ulp_dn = (c == pow2(e) && e > emin) ? pow2(q - 1) : pow2(q);
        mid_up = c + pow2(q - 1);
        mid_dn = c - ulp_dn / 2;
    }
    if (!((mid_up - a) - lp > 2 * err))
        return 0;
    if (mid_dn > 0 && !((a - mid_dn) + lp > 2 * err))
        return 0;
    out->rounded = h < 0 ? -c : c;
    return 1;
}

/* Set out's value: exactly vhi when RN_128(v) = vhi provably, lazy otherwise (§9.4). */
static void set_value(double h, double l, double err, ug_exact *out)
{
    int e = exp_of(h);
    if ((fabs(l) + err) * (1 + 0x1p-50) < pow2(e - 129)) {
        mpfr_set_d(out->value, h, MPFR_RNDN);
        out->lazy = 0;
        return;
    }
    if (!mpfr_nan_p(out->value)) /* a reused output mostly holds NaN already */
        mpfr_set_nan(out->value);
    out->lazy = 1;
    out->vhi = h;
    out->vlo = l;
    out->verr = err;
}

/* Bound on |v128 - (vhi + vlo)| for a lazy output: verr plus half an ulp at 128 bits. */
static double lazy_radius(const ug_exact *e)
{
    int q = exp_of(e->vhi) - 126; /* vhi normal: |vhi| in [2^-900, 2^100] (decide_dt) */
    return e->verr + (q >= -1022 ? pow2(q) : ldexp(1.0, q));
}

/* The unrounded ULP error x = |y - v128| / ulp_dt(v128) of y against a lazy e lies in
 * [fh + fl - r, fh + fl + r], fh > 0 (§9.4): 1 when the binade of v128 is decided, 0
 * otherwise. */
static int fast_ulp_interval(ug_dtype dt, double y, const ug_exact *e, double *fh, double *fl, double *r)
{
    /* ug_dtype_precision, ug_dtype_emin of the fast path's dtypes; exp_of and pow2 for
     * ilogb and ldexp: the same numbers (|vhi| in [2^-900, 2^100], so the powers of two
     * below are normal, and a product by one of them is ldexp's RN of the same) */
    int p = dt == UG_BF16 ? 8 : dt == UG_F32 ? 24 : 53, emin = dt == UG_F64 ? -1022 : -126;
    double h = e->vhi, l = e->vlo, a = fabs(h);
    if (!(a >= 0x1p-900 && a <= 0x1p100))
        return 0;
    double delta = lazy_radius(e);
    double g = (fabs(l) + delta) * (1 + 0x1p-50);
    int eh = exp_of(a), k;
    if (eh < emin) {
        if (!(pow2(emin) - a > 2 * g))
            return 0;
        k = emin - p + 1;
    } else {
        if (!(a - pow2(eh) > 2 * g) || !(pow2(eh + 1) - a > 2 * g))
            return 0;
        k = eh - p + 1;
    }
    dd d = dd_add_d(dd_two_sum(y, -h), -l); /* y - (h + l), DWPlusFP: <= 2^-102 */
    double ad = fabs(d.h);
    if (!(ad >= 0x1p-960) || !(ad <= 0x1p1000))
        return 0;
    double rho = (delta + DD_EPS * ad + 0x1p-1070) * (1 + 0x1p-40);
    if (!(ad > 4 * rho))
        return 0;
    double sk = pow2(-k); /* -k in [-93, 952] */
    *fh = ad * sk, *fl = (d.h < 0 ? -d.l : d.l) * sk, *r = (rho * sk) * (1 + 0x1p-40);
    return isfinite(*fh) && *fh > 0;
}

int ora_fast_ulp(ug_dtype dt, double y, const ug_exact *e, double *ulp, int *below1)
{
    double fh, fl, r;
    if (!fast_ulp_interval(dt, y, e, &fh, &fl, &r) || !ru_decided(fh, fl, r, ulp))
        return 0;
    *below1 = *ulp <= 1; /* F = 1 decided: every point of the interval is < 1 (ru_decided) */
    return 1;
}

int ora_fast_over(ug_dtype dt, double y, const ug_exact *e, double bound, int *over)
{
    double fh, fl, r;
    if (!fast_ulp_interval(dt, y, e, &fh, &fl, &r) || !(bound >= fh / 2 && bound <= 2 * fh))
        return 0;
    double t = (fh - bound) + fl; /* fh - bound exact (Sterbenz): t one rounding */
    if (t > 2 * r)
        *over = 1;
    else if (t < -2 * r)
        *over = 0;
    else
        return 0;
    return 1;
}

int ora_fast_d2exp(const ug_exact *e, double *m, long *exp)
{
    double h = e->vhi, a = fabs(h);
    double g = (fabs(e->vlo) + lazy_radius(e)) * (1 + 0x1p-50);
    int eh = ilogb(a);
    /* the binade of v128 and its rounding to 53 bits, as mpfr_get_d_2exp does them */
    if (!(a - ldexp(1.0, eh) > 2 * g) || !(ldexp(1.0, eh + 1) - a > 2 * g) || !rn_decided(h, e->vlo, g))
        return 0;
    *m = ldexp(h, -(eh + 1));
    *exp = eh + 1;
    return 1;
}

/* ---------------------------------------------------------------- kappa (§9.5) */

/* Binary64 operations that equal MPFR's at 53 bits when the result is normal or an
 * exact zero: *bad is set otherwise. */
static double kmul(double a, double b, int *bad)
{
    double r = a * b;
    if (r == 0 ? (a != 0 && b != 0) : !(fabs(r) >= DBL_MIN && fabs(r) <= DBL_MAX))
        *bad = 1;
    return r;
}

static double kdiv(double a, double b, int *bad)
{
    double r = a / b;
    if (b == 0 || (r == 0 ? a != 0 : !(fabs(r) >= DBL_MIN && fabs(r) <= DBL_MAX)))
        *bad = 1;
    return r;
}

static double kadd(double a, double b, int *bad) /* exact when subnormal */
{
    double r = a + b;
    if (!isfinite(r))
        *bad = 1;
    return r;
}

/* ---------------------------------------------------------------- one row (§9.1) */

typedef struct fast_ctx {
    ug_op op;
    ug_dtype dt;
    size_t n;
    int need_E; /* every e^(a_j) is an output's numerator (softmax, xent_grad)  */
    int64_t t;  /* xent, xent_grad: the row's target; -1 otherwise              */
    double *p;  /* xent_grad with probabilities (dense): the row's, widened; else NULL */
    double *x;
    dd *a;      /* a_j = x_j - m, exact                          */
    dd *E;      /* e^(a_j) for the tail (softmax), else unused   */
    double *sk; /* cond.c's tail probability exp(a_j)/Sd, binary64 */
} fast_ctx;

/* Row quantities, mirrored from row.c / cond.c. */
typedef struct fast_row {
    double m, x2;
    size_t c1;
    int has2;
    dd s1, S, L;
    dd R;                        /* 1/S (need_E, has2): relative error eps_S + 2^-102 */
    double eps_s1, eps_S, eps_L; /* relative error bounds               */
    double S53, s153;            /* RN_53 of MPFR's S and S' (cond.c)    */
    double Wtail, Wmax;
} fast_row;

/* L = log S (c1 > 1) or log1p(S') (c1 = 1), relative error bound in r->eps_L (§9.3). */
static int fast_log(fast_row *r)
{
    if (r->c1 > 1) {
        double y0 = log(r->S.h);
        dd E = fast_exp(dd_make(y0, 0.0));
        dd D = dd_add(r->S, dd_neg(E));
        double u = D.h / E.h;                  /* relative error <= 2^-51        */
        if (!(fabs(u) <= 0x1p-48))
            return 0;
        r->L = dd_two_sum(y0, u - u * u / 2);
        /* |L - computed| <= eps_S + EPS_EXP (1 + 2^-47) + 2^-51 |u| + |u|^3 (absolute),
         * and L >= log 2 - 2^-47 > 0.69 */
        double au = fabs(u);
        double eabs = (r->eps_S + EPS_EXP * (1 + 0x1p-47) + 0x1p-51 * au + au * au * au) * (1 + 0x1p-40);
        r->eps_L = eabs / (fabs(r->L.h) * (1 - 0x1p-50));
        return 1;
    }
    return fast_log1p(r->s1, r->eps_s1, &r->L, &r->eps_L);
}

/* A sum of N positive-ish doubles (the parts of positive dd terms, a partial sum never far
 * above the final S) in three limbs s0 + s1 + s2 (§9.1): s0 and s1 by TwoSum (exact), s2 +=
 * the second TwoSum's error, rounded.  |t| <= 2^-53 |s0| <= 2^-53 S, so |s1| <= N 2^-53 S,
 * |t2| <= N 2^-106 S, |s2| <= N^2 2^-106 S, and the N roundings into s2 total at most
 * N^3 2^-159 S (2^-126 S at N = 2048; 2^-96 S at N = 2^21). */
typedef struct acc3 { double s0, s1, s2, adds; } acc3;

static inline void acc_add(acc3 *a, double v)
{
    dd t = dd_two_sum(a->s0, v);
    dd t2 = dd_two_sum(a->s1, t.l);
    a->s0 = t.h, a->s1 = t2.h, a->s2 += t2.l;
    a->adds += 1;
}

/* The sum as a normalised dd (h = RN(h + l)), positive sums only (h > 0), with *err a bound
 * on |exact sum of the added doubles - (h + l)|: the additions into s2, and the rounding of
 * the two low parts' sum (2^-53 |l|). */
static dd acc_get(const acc3 *a, double *err)
{
    dd p = dd_two_sum(a->s1, a->s2), h = dd_two_sum(a->s0, p.h);
    double l = h.l + p.l; /* the one rounding */
    double n = a->adds;
    *err = (n * n * n * 0x1p-159 * h.h + 0x1p-53 * fabs(l)) * (1 + 0x1p-40);
    return dd_fast_two_sum(h.h, l);
}

/* The row state; 0 when the row is not one the fast path takes. */
static int fast_state(fast_ctx *c, fast_row *r)
{
    size_t n = c->n;
    double m = -INFINITY, x2 = -INFINITY;
    size_t nminf = 0;
    for (size_t j = 0; j < n; j++) {
        double v = c->x[j];
        if (isnan(v) || v == INFINITY)
            return 0;
        if (v == -INFINITY) {
            nminf++;
            continue;
        }
        if (v > m) {
            x2 = m;
            m = v;
        } else if (v < m && v > x2) {
            x2 = v;
        }
    }
    if (nminf == n)
        return 0;
    r->m = m;
    r->x2 = x2;
    r->has2 = x2 > -INFINITY;
    r->c1 = 0;
    for (size_t j = 0; j < n; j++) {
        r->c1 += c->x[j] == m;
        if (c->x[j] == -INFINITY)
            continue;
        c->a[j] = dd_two_sum(c->x[j], -m); /* exact (TwoSum) unless x_j - m overflows (f64) */
        if (!(c->a[j].h >= -600)) /* also an overflow: -inf, NaN */
            return 0;
    }
    r->s1 = r->L = dd_make(0.0, 0.0);
    r->eps_s1 = r->eps_L = 0;
    if (r->has2) {
        double a2 = x2 - m;
        if (a2 < -500)
            return 0;
        /* the ops that need only S and L (log_softmax, logsumexp, xent) leave out terms
         * with a_j < a2 - 110: together below n e^-110 S' < 2^-110 S' for n < 2^48 (§9.1) */
        double cut = c->need_E ? -INFINITY : a2 - 110;
        size_t nd = 0, nt = 0;
        acc3 acc = {0, 0, 0, 0};
        int wide = c->dt == UG_F64; /* f64: the three-limb accumulator; f32, bf16: a dd sum (§9.1) */
        /* the terms in index order, their exps four at a time (each bit for bit fast_exp's).
         * f64: added in index order to the accumulator; f32, bf16: term number k into the
         * partial sum k mod 4 (from exact zeros), the four partial sums then added */
        size_t idx[4];
        int np = 0;
        dd part[4] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
        for (size_t j = 0; j <= n; j++) {
            if (j < n) {
                double v = c->x[j];
                if (!(v < m) || v == -INFINITY)
                    continue;
                if (c->a[j].h < cut) {
                    nd++;
                    continue;
                }
                idx[np++] = j;
                if (np < 4)
                    continue;
            }
            if (wide) {
                fast_exp_idx(c->a, idx, np, c->E);
                for (int i = 0; i < np; i++) {
                    acc_add(&acc, c->E[idx[i]].h);
                    acc_add(&acc, c->E[idx[i]].l);
                }
            } else {
                fast_exp_sum(c->a, idx, np, c->E, part);
            }
            nt += (size_t)np;
            np = 0;
        }
        if (!wide) { /* each addition of positive terms 2^-102 of its sum (a partial sum of
                        positive terms is below S'); fewer than nt inexact ones; S one more */
            r->s1 = dd_add(dd_add(part[0], part[1]), dd_add(part[2], part[3]));
            r->eps_s1 = (EPS_EXP + (double)nt * DD_EPS + (nd ? 0x1p-110 : 0)) * (1 + 0x1p-40);
            r->S = dd_add(r->s1, dd_make((double)r->c1, 0.0));
            r->eps_S = (r->eps_s1 + DD_EPS) * (1 + 0x1p-40);
            return 1;
        }
        /* each term EPS_EXP (positive terms: EPS_EXP of the sum), the sum's own error eacc */
        double eacc, eaccS;
        r->s1 = acc_get(&acc, &eacc);
        r->eps_s1 = (EPS_EXP + eacc / r->s1.h * (1 + 0x1p-50) + (nd ? 0x1p-110 : 0)) * (1 + 0x1p-40);
        /* S = c1 + S' in the same accumulator: S's error is S' error (<= eps_S' S' <= eps_S' S)
         * plus the accumulator's */
        acc_add(&acc, (double)r->c1);
        r->S = acc_get(&acc, &eaccS);
        r->eps_S = (r->eps_s1 + eaccS / r->S.h * (1 + 0x1p-50)) * (1 + 0x1p-40);
        return 1;
    }
    r->S = dd_make((double)r->c1, 0.0); /* exact: no entry below the max */
    r->eps_S = 0;
    return 1;
}

/* RN_53 of MPFR's S and S' (rel. errors 2^-(P+1), 2^-(P+2), P >= 160: row.c), decided. */
static int fast_cond_init(fast_ctx *c, fast_row *r)
{
    double eS = (r->eps_S + 0x1p-160) * r->S.h;
    if (!rn_decided(r->S.h, r->S.l, eS))
        return 0;
    r->S53 = r->S.h;
    r->s153 = 0;
    if (r->has2) {
        if (!rn_decided(r->s1.h, r->s1.l, (r->eps_s1 + 0x1p-160) * r->s1.h))
            return 0;
        r->s153 = r->s1.h;
    }
    int bad = 0;
    double Sd = r->S53, Wtail = 0.0;
    if (!(Sd < 0x1p1000))
        return 0;
    for (size_t j = 0; j < c->n; j++) { /* cond.c: ora_cond_row_init */
        double v = c->x[j];
        if (!(v < r->m) || v == -INFINITY)
            continue;
        double a = v - r->m;
        if (!(a > -700))
            return 0;
        double s = exp(a) / Sd; /* cond.c's tail_prob: the same binary64 expression */
        c->sk[j] = s;
        double u = kmul(s, fabs(v), &bad);
        Wtail = kadd(Wtail, u, &bad);
    }
    double Wmax = kmul(fabs(r->m), (double)r->c1, &bad);
    Wmax = kdiv(Wmax, r->S53, &bad);
    r->Wtail = Wtail;
    r->Wmax = Wmax;
    return !bad;
}

/* cond.c's softmax numerator u of output i (ora_cond_prob + softmax_numerator), and its
 * s_i in *sp. */
static double fast_cond_u(fast_ctx *c, fast_row *r, size_t i, double *sp, int *bad)
{
    double v = c->x[i], ax = fabs(v), s, om, t;
    if (v == r->m) {
        s = kdiv(1.0, r->S53, bad);
        om = kadd(r->s153, (double)(r->c1 - 1), bad);
        om = kdiv(om, r->S53, bad);
        t = kmul(ax, (double)(r->c1 - 1), bad);
        t = kdiv(t, r->S53, bad);
        t = kadd(t, r->Wtail, bad);
    } else {
        s = c->sk[i];           /* exp(x_i - m) / Sd, as fast_cond_init computed it */
        om = 1.0 - s;
        t = kmul(s, ax, bad);
        t = kadd(r->Wmax, -t, bad);
        t = kadd(t, r->Wtail, bad);
        if (t < 0)
            t = 0.0;
    }
    double u = kmul(om, ax, bad);
    *sp = s;
    return kadd(u, t, bad);
}

#ifdef DD_HAVE_FMA_VARIANT
/* u / V, V = vh + vl (|vl| <= ulp(vh)/2), as q = th + d with one division on the critical
 * path (§9.5): th = RN(u/vh), rho = u - th vh exactly (fma: the remainder of a rounded
 * quotient), n = RN(rho - th vl) (fma), d = RN(n RN(1/vh)) (the reciprocal beside th), then
 * Fast2Sum (exact).  d = delta (1 + eta)^3 (1 + vl/vh), delta = u/V - th: |u/V - q| <=
 * 2^-50 |d| + 2^-170 |th| (the last for an underflow of n or d, |u| >= 2^-900) = *eq.
 * 0 outside |u|, |th| in [2^-900, 2^900] or for |vl| > 2^-53 |vh| (dd_div answers). */
__attribute__((target("fma"))) static int quot_fma(double u, double vh, double vl, dd *q, double *eq)
{
    double th = u / vh, inv = 1.0 / vh;
    if (!(fabs(u) >= 0x1p-900 && fabs(u) <= 0x1p900 && fabs(th) >= 0x1p-900 && fabs(th) <= 0x1p900) ||
        !(fabs(vl) <= 0x1p-53 * fabs(vh)))
        return 0;
    double rho = __builtin_fma(-th, vh, u);
    double n = __builtin_fma(-th, vl, rho);
    double d = n * inv;
    *q = dd_fast_two_sum(th, d);
    *eq = (0x1p-50 * fabs(d) + 0x1p-170 * fabs(th)) * (1 + 0x1p-40);
    return 1;
}
#endif

/* kappa of log_softmax: RN_53(|u / v128|) (cond.c: ratio). */
static int fast_ratio(double u, const ug_exact *o, double *kappa)
{
    if (!o->lazy) {
        if (mpfr_zero_p(o->value)) {
            *kappa = INFINITY;
            return 1;
        }
        int bad = 0;
        double q = kdiv(u, mpfr_get_d(o->value, MPFR_RNDN), &bad);
        *kappa = fabs(q);
        return !bad;
    }
    if (u == 0) {
        *kappa = 0.0;
        return 1;
    }
    double rv = (lazy_radius(o) / fabs(o->vhi)) * 1.01; /* |v128 - V| / |v128|, V = vhi + vlo */
    dd q;
    double eq;
#ifdef DD_HAVE_FMA_VARIANT
    if (have_fma && quot_fma(u, o->vhi, o->vlo, &q, &eq)) {
        if (!rn_decided(q.h, q.l, eq + rv * fabs(q.h) * 1.01))
            return 0;
        *kappa = fabs(q.h);
        return 1;
    }
#endif
    q = dd_div(dd_make(u, 0.0), dd_make(o->vhi, o->vlo));
    eq = DD_EPS * fabs(q.h);
    if (!rn_decided(q.h, q.l, eq * 1.01 + rv * fabs(q.h) * 1.01))
        return 0;
    *kappa = fabs(q.h);
    return 1;
}

/* T = S'/(c1 S) (has2) and its absolute error bound (§9.1). */
static dd head_T(const fast_row *r, double *eT)
{
    dd T = dd_div(r->s1, dd_mul_d(r->S, (double)r->c1));
    *eT = (r->eps_s1 + r->eps_S + 2 * DD_EPS) * (1 + 0x1p-40) * fabs(T.h);
    return T;
}

/* softmax_i (x_i finite) as a dd y with |softmax_i - y| <= *err (§9.1). */
static dd softmax_dd(const fast_ctx *c, const fast_row *r, size_t i, double *err)
{
    dd y;
    if (c->x[i] < r->m) { /* e^(a_i) / S as e^(a_i) R, R = 1/S by one dd division per row */
        y = f_mul(c->E[i], r->R);
        *err = (EPS_EXP + r->eps_S + 2 * DD_EPS) * (1 + 0x1p-40) * fabs(y.h);
        return y;
    }
    /* 1/c1 - S'/(c1 S) */
    dd h = dd_div(dd_make(1.0, 0.0), dd_make((double)r->c1, 0.0));
    int pow2 = (r->c1 & (r->c1 - 1)) == 0;
    double eh = pow2 ? 0.0 : DD_EPS * h.h;
    if (!r->has2) {
        *err = eh;
        return h;
    }
    double eT;
    dd T = head_T(r, &eT);
    y = dd_add(h, dd_neg(T));
    *err = (eh + eT + DD_EPS * fabs(y.h)) * (1 + 0x1p-40);
    return y;
}

/* xent_grad at the target t (x_t finite): s_t - 1 (§9.1); 0 when it is exactly 0 (the
 * MPFR path answers that row). */
static int grad_target_dd(const fast_ctx *c, const fast_row *r, size_t t, dd *y, double *err)
{
    if (c->x[t] < r->m) { /* -1 + e^(a_t)/S, e^(a_t)/S < 1/2: |y| > 1/2 */
        double eq;
        dd q = softmax_dd(c, r, t, &eq);
        *y = dd_add(dd_make(-1.0, 0.0), q);
        *err = (eq + DD_EPS * fabs(y->h)) * (1 + 0x1p-40);
        return 1;
    }
    /* -(c1 - 1)/c1 - S'/(c1 S): two terms of one sign */
    if (r->c1 == 1 && !r->has2)
        return 0;
    dd h = dd_make(0.0, 0.0), T = dd_make(0.0, 0.0);
    double eh = 0.0, eT = 0.0;
    if (r->c1 > 1) {
        h = dd_div(dd_make((double)(r->c1 - 1), 0.0), dd_make((double)r->c1, 0.0));
        eh = DD_EPS * h.h;
    }
    if (r->has2)
        T = head_T(r, &eT);
    if (r->c1 == 1) {
        *y = dd_neg(T);
        *err = eT;
    } else if (!r->has2) {
        *y = dd_neg(h);
        *err = eh;
    } else {
        *y = dd_neg(dd_add(h, T));
        *err = (eh + eT + DD_EPS * fabs(y->h)) * (1 + 0x1p-40);
    }
    return 1;
}

/* dense xent_grad, x_i finite: -p_i + e^(a_i)/S, or (1 - c1 p_i)/c1 - S'/(c1 S) at the max
 * (exact_softmax.c: build) (§9.1). */
static dd grad_dense_dd(const fast_ctx *c, const fast_row *r, size_t i, double *err)
{
    double pi = c->p[i];
    if (c->x[i] < r->m) {
        double eq;
        dd q = softmax_dd(c, r, i, &eq);
        dd y = dd_add(dd_make(-pi, 0.0), q);
        *err = (eq + DD_EPS * fabs(y.h)) * (1 + 0x1p-40);
        return y;
    }
    /* 1 - c1 p_i exactly (f32, bf16: c1 < 2^29, c1 p_i has at most 53 bits), / c1; f64:
     * c1 p_i exactly by Dekker's product (2^-1060 absolute when below 2^-969: underflow),
     * 1 - it by one dd addition (2^-102 |A|) */
    dd A;
    double eA = 0.0;
    if (c->dt == UG_F64) {
        A = dd_add(dd_make(1.0, 0.0), dd_neg(dd_two_prod((double)r->c1, pi)));
        eA = (DD_EPS * fabs(A.h) + 0x1p-1060) * (1 + 0x1p-40);
    } else {
        A = dd_two_sum(1.0, -((double)r->c1 * pi));
    }
    dd h = dd_div(A, dd_make((double)r->c1, 0.0));
    double eh = (DD_EPS * fabs(h.h) + eA / (double)r->c1) * (1 + 0x1p-40);
    if (!r->has2) {
        *err = eh;
        return h;
    }
    double eT;
    dd T = head_T(r, &eT);
    dd y = dd_add(h, dd_neg(T));
    *err = (eh + eT + DD_EPS * fabs(y.h)) * (1 + 0x1p-40);
    return y;
}

/* Decide and set one output from y with |v - y| <= err (§9.4): 1 when set. */
static int decide_dt(ug_dtype dt, dd y, double err, ug_exact *out)
{
    if (!(fabs(y.h) >= 0x1p-900 && fabs(y.h) <= 0x1p100))
        return 0;
    if (!decide_rounded(y.h, y.l, err, dt, out))
        return 0;
    set_value(y.h, y.l, err, out);
    return 1;
}

static int fast_decide(const fast_ctx *c, dd y, double err, ug_exact *out) { return decide_dt(c->dt, y, err, out); }

/* ---------------------------------------------------------------- reductions (§9.1, §9.5) */

/* The sum of the per-row (or per-element) losses, and cond.c's ora_cond_sum of their
 * condition numbers, accumulated in the order of the MPFR path. */
typedef struct fast_sum {
    dd v;          /* the sum of the losses' dd values                             */
    double err;    /* |sum of the exact losses - v| <= err                          */
    double num, den;
    size_t terms;
    int bad;
} fast_sum;

/* Add one loss y = A + T (|loss - y| <= err, |T| <= tmag) whose condition number is
 * RN_53(|u / RN_53(loss)|). */
static void sum_add(fast_sum *s, dd y, double err, double u, double tmag)
{
    /* MPFR's loss at 53 bits: RN_53(A + t), |t - T| <= 2^-158 |T| (P >= 160) */
    double e53 = err + 0x1p-157 * tmag;
    if (!rn_decided(y.h, y.l, e53)) {
        s->bad = 1;
        return;
    }
    double loss = fabs(y.h); /* cond.c: ora_cond_sum_add takes |loss| */
    double kappa = fabs(kdiv(u, y.h, &s->bad));
    s->den = kadd(s->den, loss, &s->bad);
    s->num = kadd(s->num, kmul(loss, kappa, &s->bad), &s->bad);
    if (s->terms++ == 0) {
        s->v = y;
        s->err = err;
    } else {
        s->v = dd_add(s->v, y);
        s->err = (s->err + err + DD_EPS * fabs(s->v.h)) * (1 + 0x1p-40);
    }
}

/* The reduced output from s: the sum, or the mean over count (§3.7). */
static int sum_finish(const fast_sum *s, ug_dtype dt, ug_reduction red, size_t count, ug_exact *out)
{
    if (s->bad || s->terms == 0 || !(s->den > 0))
        return 0;
    dd v = s->v;
    double err = s->err;
    if (red == UG_RED_MEAN) {
        double c = (double)count; /* exact: count < 2^53 */
        v = dd_div(v, dd_make(c, 0.0));
        err = (err / c) * (1 + 0x1p-50) + DD_EPS * fabs(v.h) * (1 + 0x1p-40);
    }
    if (!decide_dt(dt, v, err, out))
        return 0;
    int bad = 0;
    out->kappa = fabs(kdiv(s->num, s->den, &bad)); /* cond.c: ora_cond_sum_value */
    return !bad;
}

/* Output i of a softmax-like row in fast state: 1 when set (rounded, value or enclosure). */
static int fast_output(fast_ctx *c, fast_row *r, size_t i, ug_exact *out)
{
    double v = c->x[i];
    if (v == -INFINITY) { /* exact_softmax.c: masked_output */
        double mv = c->op == UG_OP_LOG_SOFTMAX ? -INFINITY : 0.0;
        if (c->op == UG_OP_XENT_GRAD && (c->p != NULL ? c->p[i] != 0 : (int64_t)i == c->t))
            mv = c->p != NULL ? -c->p[i] : -1.0;
        ora_set_exact_double(out, mv);
        if (mv != 0.0 && isfinite(mv))
            out->kappa = c->p != NULL ? 1.0 : 0.0; /* dense: |dg/dp_i| p_i/|g| = 1; sparse -1: constant */
        out->lazy = 0;
        return 1;
    }
    dd y;
    double err;
    if (c->p != NULL) {
        if (c->dt != UG_F64 && r->c1 >= ((size_t)1 << 29)) /* c1 p_i exact: 29 + 24 bits */
            return 0;
        if (c->dt == UG_F64 && !(fabs(c->p[i]) <= 0x1p100)) /* no overflow in the products */
            return 0;
        y = grad_dense_dd(c, r, i, &err);
    } else if (c->op == UG_OP_SOFTMAX || (c->op == UG_OP_XENT_GRAD && (int64_t)i != c->t)) {
        y = softmax_dd(c, r, i, &err);
    } else if (c->op == UG_OP_XENT_GRAD) {
        if (!grad_target_dd(c, r, i, &y, &err))
            return 0;
    } else {
        if (!r->has2 && r->c1 == 1) { /* L = 0 exactly: v = a_i = 0 (the max) */
            ora_set_exact_double(out, 0.0);
            out->lazy = 0;
            return 1;
        }
        /* a_i - L; a_i one double (mostly): DWPlusFP, else AccurateDWPlusDW, 2^-102 |v| */
        y = c->a[i].l == 0 ? dd_add_d(dd_neg(r->L), c->a[i].h) : dd_add(c->a[i], dd_neg(r->L));
        err = (r->eps_L * fabs(r->L.h) + DD_EPS * fabs(y.h)) * (1 + 0x1p-30);
    }
    return fast_decide(c, y, err, out);
}

/* xent_dense: sum_{p_i != 0} p_i (m - x_i) + P L, P = sum_i p_i (§3.6), as y with
 * |loss - y| <= *err; *tmag >= |P L|.  0 for a masked class of nonzero probability (+inf)
 * and a non-finite probability (the MPFR path answers). */
static int dense_loss(fast_ctx *c, fast_row *r, dd *y, double *err, double *tmag)
{
    dd A = dd_make(0.0, 0.0), P = dd_make(0.0, 0.0);
    double eA = 0.0, eP = 0.0;
    for (size_t i = 0; i < c->n; i++) {
        double pi = c->p[i];
        if (pi == 0)
            continue;
        if (!(c->dt == UG_F64 ? fabs(pi) <= 0x1p100 : isfinite(pi)) || c->x[i] == -INFINITY)
            return 0;
        /* 2^-102 |t|, and 2^-1060 absolute for a product below 2^-969 (underflow: f64) */
        dd t = dd_mul_d(dd_neg(c->a[i]), pi);
        A = dd_add(A, t);
        eA = (eA + DD_EPS * fabs(t.h) + 0x1p-1060 + DD_EPS * fabs(A.h)) * (1 + 0x1p-40);
        P = dd_add(P, dd_make(pi, 0.0));
        eP = (eP + DD_EPS * fabs(P.h)) * (1 + 0x1p-40);
    }
    if (!(fabs(P.h) >= 0x1p-900))
        return 0;
    dd PL = dd_mul(P, r->L);
    double ePL = fabs(PL.h) * (eP / fabs(P.h) + r->eps_L + DD_EPS) * (1 + 0x1p-30);
    *y = dd_add(A, PL);
    *err = (eA + ePL + DD_EPS * fabs(y->h)) * (1 + 0x1p-40);
    *tmag = fabs(PL.h) * (1 + 0x1p-30);
    return 1;
}

/* The one output of a logsumexp, xent or xent_dense row: m + L, (m - x_t) + L with both
 * parts >= 0, or dense_loss (§9.1), as y with |loss - y| <= *err; *tmag >= |T|, MPFR's
 * transcendental part.  0 when L = 0 (one finite entry: the MPFR path answers). */
static int fast_loss(fast_ctx *c, fast_row *r, dd *y, double *err, double *tmag)
{
    if (!r->has2 && r->c1 == 1)
        return 0;
    if (c->op == UG_OP_XENT_DENSE)
        return dense_loss(c, r, y, err, tmag);
    dd A = c->op == UG_OP_LOGSUMEXP ? dd_make(r->m, 0.0) : dd_neg(c->a[c->t]); /* exact */
    *y = dd_add(A, r->L);
    /* dd_add's error: 2^-102 |y|; or, when A is a double (A.l = 0), only the rounding of
     * c = s.l + L.l in JMP's Algorithm 6 (t = TwoSum(0, L.l) = (L.l, 0), w = v.l exactly):
     * u |s.l + L.l| <= u (|L.h| + |L.l|), as |s.l| <= |L.h| (§9.1) */
    double eadd = DD_EPS * fabs(y->h);
    if (A.l == 0 && 0x1p-53 * (fabs(r->L.h) + fabs(r->L.l)) * (1 + 0x1p-50) < eadd)
        eadd = 0x1p-53 * (fabs(r->L.h) + fabs(r->L.l)) * (1 + 0x1p-50);
    *err = (r->eps_L * fabs(r->L.h) + eadd) * (1 + 0x1p-30);
    *tmag = fabs(r->L.h) * (1 + 0x1p-40);
    return 1;
}

/* cond.c's ora_cond_xent_dense numerator, in its order of operations (§9.5). */
static double dense_cond_num(fast_ctx *c, fast_row *r, int *bad)
{
    /* cond.c's L: RN_53 of MPFR's L (relative error 2^-160), decided */
    if (!rn_decided(r->L.h, r->L.l, (r->eps_L + 0x1p-158) * fabs(r->L.h))) {
        *bad = 1;
        return 0.0;
    }
    double L53 = r->L.h, num = 0.0;
    for (size_t j = 0; j < c->n; j++) {
        double xj = c->x[j], pj = c->p[j];
        if (xj == -INFINITY)
            continue;
        double sj = xj == r->m ? kdiv(1.0, r->S53, bad) : c->sk[j]; /* ora_cond_prob */
        double t = fabs(kadd(sj, -pj, bad));
        t = kmul(t, fabs(xj), bad);
        num = kadd(num, t, bad);
        t = kadd(r->m, -xj, bad);
        t = kadd(t, L53, bad);
        t = kmul(t, pj, bad);
        num = kadd(num, t, bad);
    }
    return num;
}

/* Row x (n entries, widened) into its outputs, or (xent, xent_dense with a reduction:
 * sum != NULL) into sum; 0: hand the row (the batch) to MPFR. */
static int fast_row_eval(fast_ctx *c, ug_exact *out, fast_sum *sum)
{
    fast_row r;
    dd ly = dd_make(0.0, 0.0);
    double lerr = 0.0, tmag = 0.0;
    int loss = c->op == UG_OP_LOGSUMEXP || c->op == UG_OP_XENT || c->op == UG_OP_XENT_DENSE;
    if (c->op == UG_OP_XENT && c->x[c->t] == -INFINITY)
        return 0; /* a masked target: +inf (SPECIAL.md rule 5), by the MPFR path */
    if (!fast_state(c, &r))
        return 0;
    if (c->need_E && r.has2)
        r.R = f_div(dd_make(1.0, 0.0), r.S);
    int need_L = loss || c->op == UG_OP_LOG_SOFTMAX;
    if (need_L && (r.has2 || r.c1 > 1) && !fast_log(&r))
        return 0;
    if (loss) {
        if (!fast_loss(c, &r, &ly, &lerr, &tmag) || (sum == NULL && !fast_decide(c, ly, lerr, out)))
            return 0;
    } else {
        for (size_t i = 0; i < c->n; i++)
            if (!fast_output(c, &r, i, &out[i]))
                return 0;
    }
    if (!fast_cond_init(c, &r))
        return 0;
    int bad = 0;
    double s;
    if (c->op == UG_OP_LOGSUMEXP) { /* cond.c: ora_cond_logsumexp */
        double u = kadd(r.Wtail, r.Wmax, &bad);
        return fast_ratio(u, out, &out->kappa) && !bad;
    }
    if (c->op == UG_OP_XENT || c->op == UG_OP_XENT_DENSE) { /* ora_cond_xent, _xent_dense */
        double u = c->op == UG_OP_XENT ? fast_cond_u(c, &r, (size_t)c->t, &s, &bad) : dense_cond_num(c, &r, &bad);
        if (bad)
            return 0;
        if (sum != NULL) {
            sum_add(sum, ly, lerr, u, tmag);
            return !sum->bad;
        }
        return fast_ratio(u, out, &out->kappa);
    }
    for (size_t i = 0; i < c->n && !bad; i++) {
        if (c->x[i] == -INFINITY)
            continue;
        double u = fast_cond_u(c, &r, i, &s, &bad);
        if (c->op == UG_OP_SOFTMAX) {
            out[i].kappa = u; /* softmax outputs are nonzero (kappa_of) */
            continue;
        }
        if (c->op == UG_OP_XENT_GRAD) {
            u = kmul(u, s, &bad); /* cond.c: ora_cond_xent_grad, p_i = 0 (sparse) */
            if (c->p != NULL)
                u = kadd(u, c->p[i], &bad);
        }
        if (!fast_ratio(u, &out[i], &out[i].kappa))
            return 0;
    }
    return !bad;
}

/* ---------------------------------------------------------------- bce_logits (§9.1) */

/* One bce_logits element: its inputs and the exps that bce_value and bce_kappa_num use,
 * made four elements at a time by bce_prep (fast_exp_lanes: bit for bit fast_exp's):
 * E = fast_exp(-|x|), y0 = log1p(E.h), M = fast_expm1(y0) and, for -64 <= x < 0,
 * En = fast_exp(-x); ok = 0 when the element is not taken (|x| > 600, NaN, inf, a label
 * out of range, y0 outside fast_log1p's range). */
typedef struct bce_el {
    double x, lab, y0, eps_m;
    dd E, M, En;
    int ok;
} bce_el;

static void bce_prep(ug_dtype dt, const ug_problem *p, size_t k0, int cnt, bce_el *b)
{
    double arg[4] = {0, 0, 0, 0};
    int use[4] = {0, 0, 0, 0};
    dd e[4] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
    for (int i = 0; i < cnt; i++) {
        double x = ug_load(dt, p->x, k0 + (size_t)i), lab = ug_load(dt, p->aux, k0 + (size_t)i);
        b[i].x = x, b[i].lab = lab;
        b[i].ok = fabs(x) <= 600 && (dt == UG_F64 ? fabs(lab) <= 0x1p100 : isfinite(lab));
        arg[i] = -fabs(x), use[i] = b[i].ok;
    }
    fast_exp_lanes(arg, use, cnt, e); /* e^-|x| in [e^-600, 1], EPS_EXP */
    for (int i = 0; i < cnt; i++) {
        use[i] = 0;
        if (!b[i].ok)
            continue;
        b[i].E = e[i];
        b[i].y0 = log1p(e[i].h); /* fast_log1p's y0 and its range */
        b[i].ok = b[i].y0 >= 0x1p-900 && b[i].y0 <= 64;
        arg[i] = b[i].y0, use[i] = b[i].ok && b[i].y0 > 0x1p-10;
    }
    fast_exp_lanes(arg, use, cnt, e); /* fast_expm1's e^y0 */
    for (int i = 0; i < cnt; i++) {
        if (b[i].ok)
            b[i].M = use[i] ? fast_expm1_of(b[i].y0, e[i], &b[i].eps_m) : fast_expm1(b[i].y0, &b[i].eps_m);
        use[i] = b[i].ok && b[i].x < 0 && b[i].x >= -64;
        arg[i] = -b[i].x;
    }
    fast_exp_lanes(arg, use, cnt, e); /* bce_kappa_num's e^-x, x < 0 */
    for (int i = 0; i < cnt; i++)
        if (use[i])
            b[i].En = e[i];
}

/* f(x, lab) = A + T, A = max(x, 0) - x lab (exact), T = log1p(e^-|x|) (exact_bce.c), as
 * y with |f - y| <= *err; 0 when not taken (|x| > 600, NaN, inf). */
static int bce_value(ug_dtype dt, const bce_el *b, dd *y, double *err, double *tmag)
{
    double x = b->x, lab = b->lab, eA = 0.0;
    if (!b->ok)
        return 0;
    dd A;
    if (dt == UG_F64) { /* x lab by Dekker's product (exact, or 2^-1060 absolute below
                           2^-969), max(x, 0) minus it by one dd addition: 2^-102 |A| */
        A = dd_add(dd_make(x > 0 ? x : 0.0, 0.0), dd_neg(dd_two_prod(x, lab)));
        eA = (DD_EPS * fabs(A.h) + 0x1p-1060) * (1 + 0x1p-40);
    } else {
        A = dd_two_sum(x > 0 ? x : 0.0, -(x * lab)); /* x lab exact: 24 + 24 bits; the sum by TwoSum */
    }
    dd T; /* T = log1p(E) as fast_log does log1p(S') (§9.3), E = e^-|x| <= 1 */
    double epsT;
    if (!fast_log1p_m(b->E, EPS_EXP, b->y0, b->M, b->eps_m, &T, &epsT))
        return 0;
    *y = dd_add(A, T);
    *err = (epsT * fabs(T.h) + eA + DD_EPS * fabs(y->h)) * (1 + 0x1p-30);
    *tmag = fabs(T.h) * (1 + 0x1p-40);
    return 1;
}

/* cond.c's ora_cond_bce numerator |x| (|sigma(x) - lab| + |lab|), sigma(x) = 1/(1 + e^-x)
 * with e^-x rounded to 53 bits by MPFR: decided from fast_exp's enclosure (E = e^-|x| when
 * x >= 0, En = e^-x when x < 0). */
static int bce_kappa_num(const bce_el *b, double *num)
{
    double x = b->x, lab = b->lab;
    if (!(x >= -64 && x <= 600))
        return 0;
    dd E = x < 0 ? b->En : b->E;
    if (!rn_decided(E.h, E.l, EPS_EXP * fabs(E.h) * (1 + 0x1p-40)))
        return 0;
    int bad = 0;
    double s = kadd(E.h, 1.0, &bad);
    s = kdiv(1.0, s, &bad);
    s = kadd(s, -lab, &bad);
    s = kadd(fabs(s), fabs(lab), &bad);
    *num = kmul(s, fabs(x), &bad);
    return !bad;
}

/* Every element of a bce_logits problem, or its sum or mean; 0: the MPFR path answers
 * all of it (reduced) or the row (row_fail set: elementwise).  Four elements at a time. */
static int fast_bce_row(ug_dtype dt, const ug_problem *p, size_t row, ug_exact *out)
{
    for (size_t j0 = 0; j0 < p->n; j0 += 4) {
        int cnt = p->n - j0 < 4 ? (int)(p->n - j0) : 4;
        bce_el b[4];
        bce_prep(dt, p, row * p->n + j0, cnt, b);
        for (int i = 0; i < cnt; i++) {
            ug_exact *o = &out[j0 + (size_t)i];
            double num, err, tmag;
            dd y;
            if (!bce_value(dt, &b[i], &y, &err, &tmag) || !decide_dt(dt, y, err, o) || !bce_kappa_num(&b[i], &num) ||
                !fast_ratio(num, o, &o->kappa))
                return 0;
        }
    }
    return 1;
}

static int fast_bce_sum(ug_dtype dt, const ug_problem *p, ug_exact *out)
{
    fast_sum sum = {.terms = 0};
    size_t count = p->rows * p->n;
    for (size_t k0 = 0; k0 < count && !sum.bad; k0 += 4) {
        int cnt = count - k0 < 4 ? (int)(count - k0) : 4;
        bce_el b[4];
        bce_prep(dt, p, k0, cnt, b);
        for (int i = 0; i < cnt && !sum.bad; i++) {
            double num, err, tmag;
            dd y;
            if (!bce_value(dt, &b[i], &y, &err, &tmag) || !bce_kappa_num(&b[i], &num))
                return 0;
            sum_add(&sum, y, err, num, tmag);
        }
    }
    return sum_finish(&sum, dt, p->reduction, count, out);
}

/* ---------------------------------------------------------------- entry points */

int ora_fast_supported(ug_op op, ug_dtype dt, const ug_problem *p)
{
    if (dt != UG_F32 && dt != UG_BF16 && dt != UG_F64)
        return 0;
    switch (op) {
    case UG_OP_SOFTMAX:
    case UG_OP_LOG_SOFTMAX:
    case UG_OP_LOGSUMEXP: return 1; /* logsumexp has no reduction */
    case UG_OP_XENT: return p->target != NULL;
    case UG_OP_XENT_DENSE: return p->aux != NULL;
    case UG_OP_BCE_LOGITS: return p->aux != NULL;
    case UG_OP_XENT_GRAD: return p->target != NULL || p->aux != NULL;
    default: return 0;
    }
}

ug_status ora_fast_eval(ug_op op, ug_dtype dt, const ug_problem *p, ug_exact *out)
{
    pthread_once(&consts_once, consts_init);
    if (op == UG_OP_BCE_LOGITS) {
        if (p->reduction != UG_RED_NONE)
            return counted(fast_bce_sum(dt, p, out)) ? UG_OK : ora_mpfr_rows(op, dt, p, out, 0, p->rows);
        ug_status s = UG_OK;
        for (size_t row = 0; row < p->rows && s == UG_OK; row++)
            if (!counted(fast_bce_row(dt, p, row, out + row * p->n)))
                s = ora_mpfr_rows(op, dt, p, out, row, 1);
        return s;
    }
    int reduced = (op == UG_OP_XENT || op == UG_OP_XENT_DENSE) && p->reduction != UG_RED_NONE;
    fast_sum sum = {.terms = 0};
    size_t n = p->n, stride = ug_output_count(op, 1, n, UG_RED_NONE);
    fast_ctx c = {.op = op, .dt = dt, .n = n, .t = -1};
    c.need_E = op == UG_OP_SOFTMAX || op == UG_OP_XENT_GRAD;
    c.x = malloc(n * sizeof *c.x);
    c.a = malloc(n * sizeof *c.a);
    c.E = malloc(n * sizeof *c.E);
    c.sk = malloc(n * sizeof *c.sk);
    int dense = op == UG_OP_XENT_DENSE || (op == UG_OP_XENT_GRAD && p->target == NULL);
    c.p = dense ? malloc(n * sizeof *c.p) : NULL;
    if (c.x == NULL || c.a == NULL || c.E == NULL || c.sk == NULL || (dense && c.p == NULL)) {
        free(c.x), free(c.a), free(c.E), free(c.sk), free(c.p);
        return ora_fail_nomem(n);
    }
    ug_status s = UG_OK;
    for (size_t row = 0; row < p->rows && s == UG_OK; row++) {
        for (size_t j = 0; j < n; j++)
            c.x[j] = dt == UG_F32 ? (double)((const float *)p->x)[row * n + j] /* exact */
                                  : ug_load(dt, p->x, row * n + j);
        if (op == UG_OP_XENT || (op == UG_OP_XENT_GRAD && !dense))
            c.t = p->target[row]; /* in [0, n): validated */
        for (size_t j = 0; dense && j < n; j++)
            c.p[j] = ug_load(dt, p->aux, row * n + j);
        if (reduced) {
            if (!fast_row_eval(&c, NULL, &sum)) {
                sum.bad = 1;
                break;
            }
        } else if (!counted(fast_row_eval(&c, out + row * stride, NULL))) {
            s = ora_mpfr_rows(op, dt, p, out, row, 1);
        }
    }
    free(c.x), free(c.a), free(c.E), free(c.sk), free(c.p);
    if (reduced && !counted(sum_finish(&sum, dt, p->reduction, p->rows, out)))
        s = ora_mpfr_rows(op, dt, p, out, 0, p->rows);
    return s;
}
