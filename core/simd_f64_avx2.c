/* The f64 AVX2 + FMA kernels: 4 binary64 lanes per ymm register, every
 * intermediate a double-double (core/simd_f64_tmpl.h, doc/SIMD-ERROR-ANALYSIS.md §7).
 *
 * Primitives for core/simd_vlog.h, core/simd_vexp_dd.h and core/simd_f64_tmpl.h, then the
 * f64 kernels (rows *.f64.avx2 of core/kernels.def).  The double-double exp's table
 * lookup is two VGATHERQPD (high and low parts).  The exp and log1p do the AVX-512 file's
 * operations (the same bits); the kernels' sums have 4 lanes, not 8 (other bits, same bound).
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

UG__SIMD_TARGET_BEGIN("avx2,fma,popcnt")

typedef __m256d vd;
typedef __m256d vm; /* all-ones lanes where true */
enum { VL = 4 };

static inline vd vd_set1(double a) { return _mm256_set1_pd(a); }
static inline vd vd_zero(void) { return _mm256_setzero_pd(); }
static inline vd vd_add(vd a, vd b) { return _mm256_add_pd(a, b); }
static inline vd vd_sub(vd a, vd b) { return _mm256_sub_pd(a, b); }
static inline vd vd_mul(vd a, vd b) { return _mm256_mul_pd(a, b); }
static inline vd vd_div(vd a, vd b) { return _mm256_div_pd(a, b); }
static inline vd vd_fma(vd a, vd b, vd c) { return _mm256_fmadd_pd(a, b, c); }
static inline vd vd_fms(vd a, vd b, vd c) { return _mm256_fmsub_pd(a, b, c); }
static inline vd vd_fnma(vd a, vd b, vd c) { return _mm256_fnmadd_pd(a, b, c); } /* c - a b */
static inline vd vd_max(vd a, vd b) { return _mm256_max_pd(a, b); }
static inline vd vd_loadu(const double *p) { return _mm256_loadu_pd(p); }
static inline void vd_storeu(double *p, vd v) { _mm256_storeu_pd(p, v); }

static inline vm vd_lt(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
static inline vm vd_nlt(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_NLT_UQ); }
static inline vm vd_nge(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_NGE_UQ); }
static inline vm vd_eq(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_EQ_OQ); }
static inline vd vd_blend(vm m, vd t, vd f) { return _mm256_blendv_pd(f, t, m); }
static inline vd vd_maskz(vm m, vd v) { return _mm256_and_pd(m, v); }
static inline vm vm_or(vm a, vm b) { return _mm256_or_pd(a, b); }
static inline vm vm_and(vm a, vm b) { return _mm256_and_pd(a, b); }
static inline size_t vm_count(vm m) { return (size_t)__builtin_popcount((unsigned)_mm256_movemask_pd(m)); }
static inline int vm_any(vm m) { return _mm256_movemask_pd(m) != 0; }
static inline vd vd_maskz_mul(vm m, vd a, vd b) { return _mm256_and_pd(m, _mm256_mul_pd(a, b)); }
static inline vm vm_all(void) { return _mm256_castsi256_pd(_mm256_set1_epi64x(-1)); }
static inline vd vd_min(vd a, vd b) { return _mm256_min_pd(a, b); }

/* v with the lanes 2^lvl apart exchanged (lvl < 2). */
static inline vd vd_swap(vd v, int lvl) { return lvl == 0 ? _mm256_permute_pd(v, 5) : _mm256_permute2f128_pd(v, v, 1); }

/* r[k][j] -> r[j][k]: the 4 x 4 transpose. */
static inline void vd_transpose(vd r[VL])
{
    vd t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    vd t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

/* tab[j] for j the low 4 bits of z, gathered: vd_table_dd's two parts, vlog1p_dd01's four
 * tables. */
static inline vd vd_lookup16(const double *tab, vd z)
{
    return _mm256_i64gather_pd(tab, _mm256_and_si256(_mm256_castpd_si256(z), _mm256_set1_epi64x(15)), 8);
}

/* T_hi[j], T_lo[j], j the low 4 bits of z. */
static inline void vd_table_dd(vd z, vd *th, vd *tl)
{
    *th = vd_lookup16(ug__expdd_thi, z);
    *tl = vd_lookup16(ug__expdd_tlo, z);
}

/* 2^(k >> 4) for z = UG__EXPDD_SHIFT + k, k >= -16368 (as the AVX-512 file). */
static inline vd vd_pow2_k(vd z)
{
    return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_andnot_si256(_mm256_set1_epi64x(15), _mm256_castpd_si256(z)), 48));
}

/* s = 2^k f, f in [sqrt(1/2), sqrt(2)), for s >= 1 normal; k and 2^-k as binary64 (simd_vlog.h). */
static inline void vd_split_exp(vd s, vd *f, vd *k, vd *sc)
{
    __m256i b = _mm256_castpd_si256(s);
    __m256i e = _mm256_srli_epi64(_mm256_sub_epi64(b, _mm256_set1_epi64x(0x3fe6a09e667f3bcdLL)), 52);
    *f = _mm256_castsi256_pd(_mm256_sub_epi64(b, _mm256_slli_epi64(e, 52)));
    *k = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_add_epi64(e, _mm256_set1_epi64x(0x4330000000000000LL))),
                       _mm256_set1_pd(0x1p52));
    *sc = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_sub_epi64(_mm256_set1_epi64x(1023), e), 52));
}

/* Session 6 (helper K2), for the f64 short rows: lane masks (a and not b; bit k = lane k)
 * and a column of VL rows. */
static inline vm vm_andnot(vm a, vm b) { return _mm256_andnot_pd(b, a); }
static inline unsigned vm_bits(vm m) { return (unsigned)_mm256_movemask_pd(m); }
/* Lane k: x[k n + t[k]], the entry t[k] < n of row k of the VL rows of n entries at x. */
static inline vd vd_gather_col(const double *x, const int64_t *t, size_t n)
{
    long long m = (long long)n;
    __m256i base = _mm256_set_epi64x(3 * m, 2 * m, m, 0);
    return _mm256_i64gather_pd(x, _mm256_add_epi64(base, _mm256_loadu_si256((const __m256i *)t)), 8);
}

/* v to p (aligned to 32 bytes) with a non-temporal store (long rows' outputs: the caller
 * writes the two halves of a cache line one after the other). */
static inline void vd_stream(double *p, vd v) { _mm256_stream_pd(p, v); }

/* Session 7 (helper K3), for vexp_f64 (as the AVX-512 file; no VSCALEFPD here): v 2^(k >> 4)
 * for z = UG__EXPDD_SHIFT + k (k16 = k/16 unused), masked, and fl(v 2^(k >> 4) + c) by one fma. */
static inline vd vd_scale_k(vd v, vd z, vd k16) { (void)k16; return _mm256_mul_pd(v, vd_pow2_k(z)); }
static inline vd vd_maskz_scale_k(vm m, vd v, vd z, vd k16) { (void)k16; return vd_maskz_mul(m, v, vd_pow2_k(z)); }
static inline vd vd_scale_k_add(vd v, vd z, vd k16, vd c) { (void)k16; return _mm256_fmadd_pd(v, vd_pow2_k(z), c); }

#include "simd_vlog.h"
#include "simd_vexp_dd.h"
#include "simd_vexp_f64.h"
#include "simd_f64_tmpl.h"

UG__SIMD_TARGET_END

/* ------------------------------------------------------------------ entry points */

UG__F64_ENTRIES(avx2, UG__ISA_AVX2)
