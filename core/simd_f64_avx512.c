/* The f64 AVX-512 kernels (F, DQ, BW, VL): 8 binary64 lanes per zmm register, every
 * intermediate a double-double (core/simd_f64_tmpl.h, doc/SIMD-ERROR-ANALYSIS.md §7).
 *
 * Primitives for core/simd_vlog.h, core/simd_vexp_dd.h and core/simd_f64_tmpl.h, then the
 * f64 kernels (rows *.f64.avx512 of core/kernels.def).  The double-double exp's table
 * lookup is two VPERMT2Q (high and low parts), each over 16 entries held in two registers.
 * Everything between UG__SIMD_TARGET_BEGIN and END runs only behind the ug__cpu_has check
 * of the entry points at the end of the file.
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernels.h"
#include "row.h"
#include "simd.h"
#include "simd_exp_dd_data.h"
#include "simd_f64.h"
#include "simd_log_dd_data.h"

UG__SIMD_TARGET_BEGIN("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,popcnt")

typedef __m512d vd;
typedef __mmask8 vm;
enum { VL = 8 };

static inline vd vd_set1(double a) { return _mm512_set1_pd(a); }
static inline vd vd_zero(void) { return _mm512_setzero_pd(); }
static inline vd vd_add(vd a, vd b) { return _mm512_add_pd(a, b); }
static inline vd vd_sub(vd a, vd b) { return _mm512_sub_pd(a, b); }
static inline vd vd_mul(vd a, vd b) { return _mm512_mul_pd(a, b); }
static inline vd vd_div(vd a, vd b) { return _mm512_div_pd(a, b); }
static inline vd vd_fma(vd a, vd b, vd c) { return _mm512_fmadd_pd(a, b, c); }
static inline vd vd_fms(vd a, vd b, vd c) { return _mm512_fmsub_pd(a, b, c); }
static inline vd vd_fnma(vd a, vd b, vd c) { return _mm512_fnmadd_pd(a, b, c); } /* c - a b */
static inline vd vd_max(vd a, vd b) { return _mm512_max_pd(a, b); }
static inline vd vd_loadu(const double *p) { return _mm512_loadu_pd(p); }
static inline void vd_storeu(double *p, vd v) { _mm512_storeu_pd(p, v); }

static inline vm vd_lt(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
static inline vm vd_nlt(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_NLT_UQ); }
static inline vm vd_nge(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_NGE_UQ); }
static inline vm vd_eq(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ); }
static inline vd vd_blend(vm m, vd t, vd f) { return _mm512_mask_blend_pd(m, f, t); }
static inline vd vd_maskz(vm m, vd v) { return _mm512_maskz_mov_pd(m, v); }
static inline vm vm_or(vm a, vm b) { return (vm)(a | b); }
static inline vm vm_and(vm a, vm b) { return (vm)(a & b); }
static inline size_t vm_count(vm m) { return (size_t)__builtin_popcount(m); }
static inline int vm_any(vm m) { return m != 0; }
static inline vd vd_maskz_mul(vm m, vd a, vd b) { return _mm512_maskz_mul_pd(m, a, b); }
static inline vm vm_all(void) { return (vm)0xff; }
static inline vd vd_min(vd a, vd b) { return _mm512_min_pd(a, b); }

/* v with the lanes 2^lvl apart exchanged (lvl < 3). */
static inline vd vd_swap(vd v, int lvl)
{
    if (lvl == 0)
        return _mm512_permute_pd(v, 0x55);
    if (lvl == 1)
        return _mm512_permutex_pd(v, 0x4e);
    return _mm512_shuffle_f64x2(v, v, 0x4e);
}

/* r[k][j] -> r[j][k]: the 8 x 8 transpose (unpack, then two rounds of 128-bit lane shuffles). */
static inline void vd_transpose(vd r[VL])
{
    vd t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);     /* columns 0 2 4 6 of rows i, i + 1 */
        t[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]); /* columns 1 3 5 7 */
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm512_shuffle_f64x2(t[i], t[i + 2], 0x88);     /* columns 0, 4 of rows i..i+3 */
        u[i + 1] = _mm512_shuffle_f64x2(t[i], t[i + 2], 0xdd); /* columns 2, 6 */
        u[i + 2] = _mm512_shuffle_f64x2(t[i + 1], t[i + 3], 0x88); /* columns 1, 5 */
        u[i + 3] = _mm512_shuffle_f64x2(t[i + 1], t[i + 3], 0xdd); /* columns 3, 7 */
    }
    r[0] = _mm512_shuffle_f64x2(u[0], u[4], 0x88);
    r[4] = _mm512_shuffle_f64x2(u[0], u[4], 0xdd);
    r[2] = _mm512_shuffle_f64x2(u[1], u[5], 0x88);
    r[6] = _mm512_shuffle_f64x2(u[1], u[5], 0xdd);
    r[1] = _mm512_shuffle_f64x2(u[2], u[6], 0x88);
    r[5] = _mm512_shuffle_f64x2(u[2], u[6], 0xdd);
    r[3] = _mm512_shuffle_f64x2(u[3], u[7], 0x88);
    r[7] = _mm512_shuffle_f64x2(u[3], u[7], 0xdd);
}

/* tab[j] for j the low 4 bits of z, tab 16 doubles aligned to 64 bytes (one VPERMT2Q over
 * the table's two registers): vd_table_dd's two parts, vlog1p_dd01's four tables. */
static inline vd vd_lookup16(const double *tab, vd z)
{
    return _mm512_permutex2var_pd(_mm512_load_pd(tab), _mm512_castpd_si512(z), _mm512_load_pd(tab + 8));
}

/* T_hi[j], T_lo[j], j the low 4 bits of z. */
static inline void vd_table_dd(vd z, vd *th, vd *tl)
{
    *th = vd_lookup16(ug__expdd_thi, z);
    *tl = vd_lookup16(ug__expdd_tlo, z);
}

/* 2^(k >> 4) for z = 1.5 2^52 + 16368 + k (UG__EXPDD_SHIFT + k), k >= -16368: the low 16
 * bits of z are k + 16368 = 16 (1023 + (k >> 4)) + (k & 15), shifted into the exponent field
 * without the low 4 (the bits above 15 shift out). */
static inline vd vd_pow2_k(vd z)
{
    return _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_andnot_si512(_mm512_set1_epi64(15), _mm512_castpd_si512(z)), 48));
}

/* s = 2^k f, f in [sqrt(1/2), sqrt(2)), for s >= 1 normal; k and 2^-k as binary64 (simd_vlog.h). */
static inline void vd_split_exp(vd s, vd *f, vd *k, vd *sc)
{
    __m512i b = _mm512_castpd_si512(s);
    __m512i e = _mm512_srli_epi64(_mm512_sub_epi64(b, _mm512_set1_epi64(0x3fe6a09e667f3bcdLL)), 52);
    *f = _mm512_castsi512_pd(_mm512_sub_epi64(b, _mm512_slli_epi64(e, 52)));
    *k = _mm512_sub_pd(_mm512_castsi512_pd(_mm512_add_epi64(e, _mm512_set1_epi64(0x4330000000000000LL))),
                       _mm512_set1_pd(0x1p52));
    *sc = _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_sub_epi64(_mm512_set1_epi64(1023), e), 52));
}

/* Session 6 (helper K2), for the f64 short rows: lane masks (a and not b; bit k = lane k)
 * and a column of VL rows. */
static inline vm vm_andnot(vm a, vm b) { return (vm)(a & ~b); }
static inline unsigned vm_bits(vm m) { return m; }
/* Lane k: x[k n + t[k]], the entry t[k] < n of row k of the VL rows of n entries at x. */
static inline vd vd_gather_col(const double *x, const int64_t *t, size_t n)
{
    __m512i base = _mm512_mullo_epi64(_mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi64((long long)n));
    return _mm512_i64gather_pd(_mm512_add_epi64(base, _mm512_loadu_si512(t)), x, 8);
}

/* v to p (aligned to 64 bytes: one whole cache line) with a non-temporal store: written
 * around the caches, the line not read for ownership first (long rows' outputs). */
static inline void vd_stream(double *p, vd v) { _mm512_stream_pd(p, v); }

/* Session 7 (helper K3), for vexp_f64: v 2^(k >> 4) for z = UG__EXPDD_SHIFT + k and k16 =
 * k/16 (exact), by VSCALEFPD (v 2^floor(k16): exact where the result is normal, as the
 * multiply by vd_pow2_k(z) it replaces; one operation instead of three); masked (+0 outside
 * m); and fl(v 2^(k >> 4) + c) (v 2^(k >> 4) exact: the value of the fma by vd_pow2_k(z)). */
static inline vd vd_scale_k(vd v, vd z, vd k16) { (void)z; return _mm512_scalef_pd(v, k16); }
static inline vd vd_maskz_scale_k(vm m, vd v, vd z, vd k16) { (void)z; return _mm512_maskz_scalef_pd(m, v, k16); }
static inline vd vd_scale_k_add(vd v, vd z, vd k16, vd c) { (void)z; return _mm512_add_pd(_mm512_scalef_pd(v, k16), c); }

#include "simd_vlog.h"
#include "simd_vexp_dd.h"
#include "simd_vexp_f64.h"
#include "simd_f64_tmpl.h"

UG__SIMD_TARGET_END

/* ------------------------------------------------------------------ entry points */

UG__F64_ENTRIES(avx512, UG__ISA_AVX512)
