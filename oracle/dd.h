/* Double-double ("double-word") arithmetic for the oracle's fast path (oracle/fast.c).
 *
 * A dd number is a pair (h, l) of binary64 numbers with h = RN(h + l), so |l| <= ulp(h)/2;
 * it stands for h + l.  u = 2^-53.  The error bounds below are those proven by Joldes,
 * Muller and Popescu, "Tight and rigorous error bounds for basic building blocks of
 * double-word arithmetic", ACM TOMS 44(2), 2017 (JMP), for round-to-nearest binary64 with
 * no underflow and no overflow; the fast path checks the range of its operands
 * (ANALYSIS.md §9.2) so that the hypotheses hold.  The fast path uses ONE bound for every
 * dd operation below: relative error <= 16 u^2 = 2^-102 (the largest JMP bound among them
 * is 15 u^2 + 56 u^3 < 16 u^2, DWDivDW).
 *
 *   dd_two_sum       Knuth's TwoSum: s + e = a + b exactly.
 *   dd_two_prod      Dekker's product with Veltkamp's split: p + e = a b exactly (no fma:
 *                    the project compiles without contraction and without -mfma), valid
 *                    for |a|, |b| < 2^996 and |a b| >= 2^-969 or a b = 0.
 *   dd_add           JMP Algorithm 6 (AccurateDWPlusDW):   <= 3u^2 / (1 - 4u)
 *   dd_add_d         JMP Algorithm 4 (DWPlusFP):            <= 2u^2 / (1 - 2u)
 *   dd_add_dom       |y| <= |x|/2 only: <= 10u^2 (proof at the function)
 *   dd_mul           JMP Algorithm 10 (DWTimesDW1):         <= 7u^2
 *   dd_mul_d         JMP Algorithm 7  (DWTimesFP1):         <= 1.5u^2 + 4u^3
 *   dd_div           JMP Algorithm 17 (DWDivDW2):           <= 15u^2 + 56u^3
 * The compiler must not contract or reassociate: the project builds with
 * -ffp-contract=off -fno-fast-math (CMakeLists.txt).
 */
#ifndef ULPGATE_ORACLE_DD_H
#define ULPGATE_ORACLE_DD_H

typedef struct dd { double h, l; } dd;

/* One bound for every dd operation: 16 u^2. */
#define DD_EPS 0x1p-102

static inline dd dd_make(double h, double l) { dd r = {h, l}; return r; }

static inline dd dd_two_sum(double a, double b)
{
    double s = a + b, bb = s - a, e = (a - (s - bb)) + (b - bb);
    return dd_make(s, e);
}

static inline dd dd_fast_two_sum(double a, double b) /* |a| >= |b| or a = 0 */
{
    double s = a + b, e = b - (s - a);
    return dd_make(s, e);
}

static inline void dd_split(double a, double *hi, double *lo)
{
    double c = 134217729.0 * a; /* 2^27 + 1 */
    double t = c - (c - a);
    *hi = t;
    *lo = a - t;
}

static inline dd dd_two_prod(double a, double b)
{
    double p = a * b, ah, al, bh, bl;
    dd_split(a, &ah, &al);
    dd_split(b, &bh, &bl);
    double e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    return dd_make(p, e);
}

static inline dd dd_add(dd x, dd y)
{
    dd s = dd_two_sum(x.h, y.h), t = dd_two_sum(x.l, y.l);
    double c = s.l + t.h;
    dd v = dd_fast_two_sum(s.h, c);
    double w = t.l + v.l;
    return dd_fast_two_sum(v.h, w);
}

/* x + y for a double y: JMP Algorithm 4 (DWPlusFP), <= 2u^2 / (1 - 2u): fewer operations
 * than dd_add(x, dd_make(y, 0)). */
static inline dd dd_add_d(dd x, double y)
{
    dd s = dd_two_sum(x.h, y);
    double v = x.l + s.l;
    return dd_fast_two_sum(s.h, v);
}

/* x + y when |y.h| <= |x.h| / 2 (a dominant x): TwoSum of the heads, the tails added in
 * binary64, one Fast2Sum.  The error is u|s.l + x.l| + u|s.l + x.l + y.l| (1 + u) <=
 * 5u^2 |x| (1 + 2u) <= 10u^2 |x + y|: below DD_EPS.  (Horner steps c_k + r s.) */
static inline dd dd_add_dom(dd x, dd y)
{
    dd s = dd_two_sum(x.h, y.h);
    double t = (s.l + x.l) + y.l;
    return dd_fast_two_sum(s.h, t);
}

static inline dd dd_neg(dd x) { return dd_make(-x.h, -x.l); }

static inline dd dd_mul_d(dd x, double y)
{
    dd c = dd_two_prod(x.h, y);
    double cl2 = x.l * y;
    dd t = dd_fast_two_sum(c.h, cl2);
    double tl2 = t.l + c.l;
    return dd_fast_two_sum(t.h, tl2);
}

static inline dd dd_mul(dd x, dd y)
{
    dd c = dd_two_prod(x.h, y.h);
    double tl1 = x.h * y.l, tl2 = x.l * y.h, cl2 = tl1 + tl2, cl3 = c.l + cl2;
    return dd_fast_two_sum(c.h, cl3);
}

static inline dd dd_div(dd x, dd y)
{
    double th = x.h / y.h;
    dd r = dd_mul_d(y, th);
    double ph = x.h - r.h, dl = x.l - r.l, d = ph + dl;
    double tl = d / y.h;
    return dd_fast_two_sum(th, tl);
}

/* The same products with an exact fma (p + e = a b exactly as well, same bounds), for
 * functions compiled for CPUs with FMA (fast.c dispatches on __builtin_cpu_supports). */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define DD_HAVE_FMA_VARIANT 1
#include <immintrin.h>
__attribute__((target("fma"))) static inline dd dd_two_prod_fma(double a, double b)
{
    double p = a * b;
    return dd_make(p, __builtin_fma(a, b, -p));
}

__attribute__((target("fma"))) static inline dd dd_mul_fma(dd x, dd y)
{
    dd c = dd_two_prod_fma(x.h, y.h);
    double tl1 = x.h * y.l, tl2 = x.l * y.h, cl2 = tl1 + tl2, cl3 = c.l + cl2;
    return dd_fast_two_sum(c.h, cl3);
}

/* dd_mul_d and dd_div with the fma product: bit for bit dd_mul_d's and dd_div's results
 * wherever Dekker's product is exact (both products are then p = RN(ab), e = ab - p), in
 * fewer operations. */
__attribute__((target("fma"))) static inline dd dd_mul_d_fma(dd x, double y)
{
    dd c = dd_two_prod_fma(x.h, y);
    double cl2 = x.l * y;
    dd t = dd_fast_two_sum(c.h, cl2);
    double tl2 = t.l + c.l;
    return dd_fast_two_sum(t.h, tl2);
}

__attribute__((target("fma"))) static inline dd dd_div_fma(dd x, dd y)
{
    double th = x.h / y.h;
    dd r = dd_mul_d_fma(y, th);
    double ph = x.h - r.h, dl = x.l - r.l, d = ph + dl;
    double tl = d / y.h;
    return dd_fast_two_sum(th, tl);
}

/* Four lanes at once (AVX2 + FMA, GCC vector extensions): the same operations as the scalar
 * functions above lane by lane (dd_two_sum, dd_fast_two_sum, dd_two_prod_fma, dd_add,
 * dd_add_dom, dd_mul_fma), so each lane's result is bit for bit the scalar one; the
 * project compiles without contraction, so a * b + c stays two roundings here too. */
#define DD_V4 __attribute__((target("avx2,fma")))
typedef double dd_v4d __attribute__((vector_size(32)));
typedef struct ddv { dd_v4d h, l; } ddv;

DD_V4 static inline dd_v4d dd_v4_bcast(double a) { return (dd_v4d){a, a, a, a}; }

DD_V4 static inline ddv ddv_make(dd_v4d h, dd_v4d l) { ddv r = {h, l}; return r; }

DD_V4 static inline ddv ddv_two_sum(dd_v4d a, dd_v4d b)
{
    dd_v4d s = a + b, bb = s - a, e = (a - (s - bb)) + (b - bb);
    return ddv_make(s, e);
}

DD_V4 static inline ddv ddv_fast_two_sum(dd_v4d a, dd_v4d b)
{
    dd_v4d s = a + b, e = b - (s - a);
    return ddv_make(s, e);
}

DD_V4 static inline ddv ddv_two_prod_fma(dd_v4d a, dd_v4d b)
{
    dd_v4d p = a * b;
    return ddv_make(p, (dd_v4d)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)-p));
}

DD_V4 static inline ddv ddv_add(ddv x, ddv y)
{
    ddv s = ddv_two_sum(x.h, y.h), t = ddv_two_sum(x.l, y.l);
    dd_v4d c = s.l + t.h;
    ddv v = ddv_fast_two_sum(s.h, c);
    dd_v4d w = t.l + v.l;
    return ddv_fast_two_sum(v.h, w);
}

DD_V4 static inline ddv ddv_add_dom(ddv x, ddv y)
{
    ddv s = ddv_two_sum(x.h, y.h);
    dd_v4d t = (s.l + x.l) + y.l;
    return ddv_fast_two_sum(s.h, t);
}

DD_V4 static inline ddv ddv_mul_fma(ddv x, ddv y)
{
    ddv c = ddv_two_prod_fma(x.h, y.h);
    dd_v4d tl1 = x.h * y.l, tl2 = x.l * y.h, cl2 = tl1 + tl2, cl3 = c.l + cl2;
    return ddv_fast_two_sum(c.h, cl3);
}
#endif

#endif
