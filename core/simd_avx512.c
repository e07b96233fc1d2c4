/* The AVX-512 kernels (F, DQ, BW, VL): 8 binary64 lanes per zmm register.
 *
 * Primitives for core/simd_vexp.h and core/simd_tmpl.h, then the kernels for f32 and bf16
 * (rows of core/kernels.def: *.f32.avx512, *.bf16.avx512).  Everything between
 * UG__SIMD_TARGET_BEGIN and END is compiled for AVX-512 and runs only behind the
 * ug__cpu_has check of the entry points at the end of the file.
 *
 * The exp's table lookup is one VPERMT2Q over the 16 entries held in two registers.
 * bf16 is read by widening (exact) and written by rounding once: binary64 -> binary32
 * rounded to odd (VCVTPD2PS with embedded round-toward-zero, then the last bit set when
 * inexact), then RNE to bf16 by integer arithmetic (as ug_bf16_from_f32).  Rounding to
 * odd at 24 bits and then to nearest at 8 is one correct rounding (Boldo & Melquiond
 * 2008), subnormals included: binary32's grid is finer than bf16's at every exponent.
 * With AVX512_BF16 the store is RNE to binary32 then VCVTNEPS2BF16 wherever that double
 * rounding is provably one rounding (no midpoint, no subnormal), the round-to-odd route
 * otherwise: see the second instantiation at the end of the file.
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernels.h"
#include "simd.h"
#include "simd_exp_data.h"
#include "simd_exp_ps_data.h"

UG__SIMD_TARGET_BEGIN("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,popcnt")

typedef __m512d vd;
enum { VL = 8 };

static inline vd vd_set1(double a) { return _mm512_set1_pd(a); }
static inline vd vd_zero(void) { return _mm512_setzero_pd(); }
static inline vd vd_add(vd a, vd b) { return _mm512_add_pd(a, b); }
static inline vd vd_sub(vd a, vd b) { return _mm512_sub_pd(a, b); }
static inline vd vd_max(vd a, vd b) { return _mm512_max_pd(a, b); }
static inline vd vd_min(vd a, vd b) { return _mm512_min_pd(a, b); }
static inline vd vd_mul(vd a, vd b) { return _mm512_mul_pd(a, b); }
static inline vd vd_fma(vd a, vd b, vd c) { return _mm512_fmadd_pd(a, b, c); }
static inline vd vd_loadu(const double *p) { return _mm512_loadu_pd(p); }
static inline void vd_storeu(double *p, vd v) { _mm512_storeu_pd(p, v); }
/* VL doubles just stored one by one (group_finish's counts, loss_finish's x_t): scalar loads
 * and inserts, since a vector load of separately stored scalars stalls (store forwarding). */
static inline vd vd_load_scalars(const double *p) { return _mm512_setr_pd(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]); }

/* 2^(k >> 4) T[k & 15]: VPERMT2Q reads the low 4 bits of z as the index. */
static inline vd vd_exp2k(vd z)
{
    const __m512i lo = _mm512_loadu_si512((const void *)ug__exp_table);
    const __m512i hi = _mm512_loadu_si512((const void *)(ug__exp_table + 8));
    __m512i zi = _mm512_castpd_si512(z);
    __m512i t = _mm512_permutex2var_epi64(lo, zi, hi);
    return _mm512_castsi512_pd(_mm512_add_epi64(t, _mm512_slli_epi64(zi, 52 - UG__EXP_TABLE_BITS)));
}

/* fma(a, b, c) where !(x < X_MIN) (NaN kept), +0 elsewhere. */
static inline vd vd_fma_keep(vd x, vd a, vd b, vd c)
{
    __mmask8 k = _mm512_cmp_pd_mask(x, _mm512_set1_pd(UG__EXP_X_MIN), _CMP_NLT_UQ);
    return _mm512_maskz_fmadd_pd(k, a, b, c);
}

/* acc + e in the lanes where d < 0 or NaN; the lanes where d = 0 counted in *neq. */
static inline vd vd_acc_lt0(vd acc, vd d, vd e, size_t *neq)
{
    __mmask8 k = _mm512_cmp_pd_mask(d, _mm512_setzero_pd(), _CMP_NGE_UQ);
    *neq += VL - (size_t)__builtin_popcount(k); /* branchless: the max's lane is data */
    return _mm512_mask_add_pd(acc, k, acc, e);
}

/* e in the lanes where d < 0 or NaN, +0 elsewhere (vd_acc_lt0 without the add: its term);
 * the lanes where d = 0 counted in *neq. */
static inline vd vd_term_lt0(vd d, vd e, size_t *neq)
{
    __mmask8 k = _mm512_cmp_pd_mask(d, _mm512_setzero_pd(), _CMP_NGE_UQ);
    *neq += VL - (size_t)__builtin_popcount(k);
    return _mm512_maskz_mov_pd(k, e);
}

/* A fixed reduction tree: halves, then quarters, then the last pair. */
static inline double vd_hsum(vd v)
{
    __m256d a = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
    __m128d b = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_add_sd(b, _mm_unpackhi_pd(b, b)));
}

/* vd_hsum of v[0..8), the same tree for every vector (so the same bits as vd_hsum), with
 * the vectors transposed on the way: 21 operations for 8 rows instead of 48. */
UG__SIMD_INLINE void vd_hsum8(const vd v[8], double out[8])
{
    vd t[2];
    for (int h = 0; h < 2; h++) {
        vd s[2];
        for (int j = 0; j < 2; j++) {
            vd a = v[4 * h + 2 * j], b = v[4 * h + 2 * j + 1];
            /* [a lanes 0..3, b lanes 0..3] + [a lanes 4..7, b lanes 4..7] */
            s[j] = _mm512_add_pd(_mm512_shuffle_f64x2(a, b, 0x44), _mm512_shuffle_f64x2(a, b, 0xee));
        }
        /* lanes 0,1 + lanes 2,3 of each row's four */
        t[h] = _mm512_add_pd(_mm512_shuffle_f64x2(s[0], s[1], 0x88), _mm512_shuffle_f64x2(s[0], s[1], 0xdd));
    }
    /* rows 0 4 1 5 2 6 3 7, put in order by one permute */
    vd r = _mm512_add_pd(_mm512_unpacklo_pd(t[0], t[1]), _mm512_unpackhi_pd(t[0], t[1]));
    _mm512_storeu_pd(out, _mm512_permutexvar_pd(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), r));
}

/* The max of each of v[0..8), the vectors transposed on the way as in vd_hsum8 (pass 1 of
 * rows of a few whole vectors: exact, whatever the order). */
UG__SIMD_INLINE void vd_hmax8(const vd v[8], double out[8])
{
    vd t[2];
    for (int h = 0; h < 2; h++) {
        vd s[2];
        for (int j = 0; j < 2; j++) {
            vd a = v[4 * h + 2 * j], b = v[4 * h + 2 * j + 1];
            s[j] = _mm512_max_pd(_mm512_shuffle_f64x2(a, b, 0x44), _mm512_shuffle_f64x2(a, b, 0xee));
        }
        t[h] = _mm512_max_pd(_mm512_shuffle_f64x2(s[0], s[1], 0x88), _mm512_shuffle_f64x2(s[0], s[1], 0xdd));
    }
    vd r = _mm512_max_pd(_mm512_unpacklo_pd(t[0], t[1]), _mm512_unpackhi_pd(t[0], t[1]));
    _mm512_storeu_pd(out, _mm512_permutexvar_pd(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), r));
}

static inline vd vd_load_f32(const float *p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
static inline void vd_store_f32(float *p, vd v) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)); }
/* a and b rounded to binary32 as vd_store_f32, one non-temporal store of 64 bytes (p aligned). */
static inline void vd_stream2_f32(float *p, vd a, vd b)
{
    _mm512_stream_ps(p, _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(a)), _mm512_cvtpd_ps(b), 1));
}

/* bf16 -> binary32 is a shift: one zero-masked VPERMW puts word j in the high half of
 * dword j (the low halves zeroed), for 8 (ymm) or 16 (zmm) values at once. */
static inline __m256 bf16x8_to_f32(const ug_bf16 *p)
{
    const __m256i idx = _mm256_setr_epi16(0, 0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7);
    __m256i w = _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)p));
    return _mm256_castsi256_ps(_mm256_maskz_permutexvar_epi16(0xaaaa, idx, w));
}

static inline vd vd_load_bf16(const ug_bf16 *p) { return _mm512_cvtps_pd(bf16x8_to_f32(p)); }

/* v rounded to binary32 to odd: VCVTPD2PS toward zero, the last bit set when inexact. */
static inline __m256i vd_to_f32_odd(vd v)
{
    __m256 t = _mm512_cvt_roundpd_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __mmask8 inexact = _mm512_cmp_pd_mask(_mm512_cvtps_pd(t), v, _CMP_NEQ_UQ);
    __m256i b = _mm256_castps_si256(t);
    return _mm256_mask_or_epi32(b, inexact, b, _mm256_set1_epi32(1));
}

/* binary32 bits b rounded to bf16 (RNE, integer arithmetic, subnormals included). */
static inline void store_f32_bits_as_bf16(ug_bf16 *p, __m256i b)
{
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(1));
    b = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(b, _mm256_set1_epi32(0x7fff)), lsb), 16);
    _mm_storeu_si128((__m128i *)(void *)p, _mm256_cvtepi32_epi16(b));
}

static inline void vd_store_bf16(ug_bf16 *p, vd v) { store_f32_bits_as_bf16(p, vd_to_f32_odd(v)); }


/* binary32 lanes, for the max of pass 1 */
typedef __m512 vf;
enum { VF = 16 };
static inline vf vf_set1(float a) { return _mm512_set1_ps(a); }
static inline vf vf_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline double vf_hmax(vf v)
{
    __m256 a = _mm256_max_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 b = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    b = _mm_max_ps(b, _mm_movehl_ps(b, b));
    return _mm_cvtss_f32(_mm_max_ss(b, _mm_shuffle_ps(b, b, 1)));
}
/* vf_hmax of v[0..8) (the max of each vector), transposed on the way. */
UG__SIMD_INLINE void vf_hmax8(const vf v[8], double out[8])
{
    vf t[2];
    for (int h = 0; h < 2; h++) {
        vf s[2];
        for (int j = 0; j < 2; j++) {
            vf a = v[4 * h + 2 * j], b = v[4 * h + 2 * j + 1];
            s[j] = _mm512_max_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xee));
        }
        t[h] = _mm512_max_ps(_mm512_shuffle_f32x4(s[0], s[1], 0x88), _mm512_shuffle_f32x4(s[0], s[1], 0xdd));
    }
    vf w = _mm512_max_ps(_mm512_shuffle_ps(t[0], t[1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(t[0], t[1], _MM_SHUFFLE(3, 2, 3, 2)));
    w = _mm512_max_ps(w, _mm512_permute_ps(w, _MM_SHUFFLE(2, 3, 0, 1)));
    /* row q in lane 4q (q < 4), row q + 4 in lane 4q + 2 */
    __m512 r = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 2, 6, 10, 14, 0, 0, 0, 0, 0, 0, 0, 0), w);
    _mm512_storeu_pd(out, _mm512_cvtps_pd(_mm512_castps512_ps256(r)));
}
static inline vf vf_min(vf a, vf b) { return _mm512_min_ps(a, b); }
/* min = -max(-v): negation is exact, and the same tree as vf_hmax. */
static inline double vf_hmin(vf v)
{
    return -vf_hmax(_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32(INT32_MIN))));
}
/* Bit j set where lane j of a equals lane j of b (an ordered compare: NaN never equals). */
static inline unsigned vf_eq_mask(vf a, vf b) { return (unsigned)_mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
static inline vf vf_load_f32(const float *p) { return _mm512_loadu_ps(p); }
static inline vf vf_load_bf16(const ug_bf16 *p)
{
    const __m512i idx = _mm512_set_epi16(15, 0, 14, 0, 13, 0, 12, 0, 11, 0, 10, 0, 9, 0, 8, 0, 7, 0, 6, 0, 5, 0, 4, 0, 3, 0,
                                         2, 0, 1, 0, 0, 0);
    __m512i w = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(const void *)p));
    return _mm512_castsi512_ps(_mm512_maskz_permutexvar_epi16(0xaaaaaaaau, idx, w));
}

static inline vd vd_div(vd a, vd b) { return _mm512_div_pd(a, b); }

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

/* -v; x > 0 ? a : b; whether a lane of x is +-inf (bce_logits). */
static inline vd vd_neg(vd v) { return _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(v), _mm512_set1_epi64(INT64_MIN))); }
static inline vd vd_select_pos(vd x, vd a, vd b) { return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_GT_OQ), b, a); }
static inline int vd_any_inf(vd x)
{
    return _mm512_cmp_pd_mask(_mm512_abs_pd(x), _mm512_set1_pd(INFINITY), _CMP_EQ_OQ) != 0;
}

static inline double bf16_widen(ug_bf16 h)
{
    uint32_t b = (uint32_t)h.bits << 16;
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* ------------------------------------------------------------------ binary32 lanes
 * The bf16 kernels' long rows (core/simd_vexp_ps.h, core/simd_bf16_tmpl.h). */
static inline vf vf_zero(void) { return _mm512_setzero_ps(); }
static inline vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vf_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vf_loadu(const float *p) { return _mm512_loadu_ps(p); }
static inline void vf_storeu(float *p, vf v) { _mm512_storeu_ps(p, v); }
/* p 2^kk rounded once (VSCALEFPS: subnormal results rounded, not flushed, with DAZ/FTZ clear). */
static inline vf vf_scale2k(vf p, vf kk) { return _mm512_scalef_ps(p, kk); }
/* v with lane j set to +0. */
static inline vf vf_clear_lane(vf v, unsigned j) { return _mm512_mask_mov_ps(v, (__mmask16)(1u << j), _mm512_setzero_ps()); }
/* *t0 += the low 8 lanes of a, *t1 += the high 8, widened (exact). */
static inline void vf_widen_acc(vd *t0, vd *t1, vf a)
{
    *t0 = _mm512_add_pd(*t0, _mm512_cvtps_pd(_mm512_castps512_ps256(a)));
    *t1 = _mm512_add_pd(*t1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1))));
}
/* binary32 lanes rounded to bf16, RNE by integer arithmetic (as ug_bf16_from_f32; every
 * binary32 but NaN, subnormals included: no NaN reaches it). */
static inline void vf_store_bf16(ug_bf16 *p, vf v)
{
    __m512i b = _mm512_castps_si512(v);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
    b = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(b, _mm512_set1_epi32(0x7fff)), lsb), 16);
    _mm256_storeu_si256((__m256i *)(void *)p, _mm512_cvtepi32_epi16(b));
}
static inline void vf_store2_bf16(ug_bf16 *p, vf a, vf b) { vf_store_bf16(p, a), vf_store_bf16(p + VF, b); }

/* Bit k set where lane k of v is finite / not NaN / not zero (group_finish, simd_tmpl.h). */
static inline unsigned vd_finite_bits(vd v)
{
    return _mm512_cmp_pd_mask(_mm512_abs_pd(v), _mm512_set1_pd(INFINITY), _CMP_LT_OQ);
}
static inline unsigned vd_ord_bits(vd v) { return _mm512_cmp_pd_mask(v, v, _CMP_ORD_Q); }
static inline unsigned vd_ne0_bits(vd v) { return _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_NEQ_UQ); }

#include "simd_vexp.h"
#include "simd_vlog.h"
#include "simd_vexp_ps.h"

#define ET float
#define DT UG_F32
#define TAG f32
#define ET_NEGINF (-INFINITY)
#define vd_load_et vd_load_f32
#define vd_store_et vd_store_f32
#define vd_stream2_et vd_stream2_f32
#define vf_load_et vf_load_f32
#define et_widen(v) ((double)(v))
#include "simd_tmpl.h"

#define ET ug_bf16
#define DT UG_BF16
#define TAG bf16
#define ET_NEGINF ((ug_bf16){0xff80u})
#define vd_load_et vd_load_bf16
#define vd_store_et vd_store_bf16
#define vf_load_et vf_load_bf16
#define et_widen bf16_widen
#define UG__BF16_LANES 1
#define vf_store_et vf_store_bf16
#define vf_store2_et vf_store2_bf16
#include "simd_tmpl.h"
#undef UG__BF16_LANES
#undef vf_store_et
#undef vf_store2_et

/* y[i] = f(x[i]) for n doubles (n any), f a vector function of this file. */
static inline void map_array(vd (*f)(vd), const double *x, double *y, size_t n)
{
    size_t i = 0;
    for (; i + VL <= n; i += VL)
        vd_storeu(y + i, f(vd_loadu(x + i)));
    if (i < n) {
        double b[VL] = {0};
        memcpy(b, x + i, (n - i) * sizeof *b);
        vd_storeu(b, f(vd_loadu(b)));
        memcpy(y + i, b, (n - i) * sizeof *b);
    }
}

static void vexp_array(const double *x, double *y, size_t n) { map_array(vexp, x, y, n); }
static void vlog1p_array(const double *x, double *y, size_t n) { map_array(vlog1p, x, y, n); }

/* y = x rounded to bf16 by store (vd_store_bf16 or vd_store_bf16_hw), n values (n any). */
UG__SIMD_INLINE void round_bf16_with(void (*store)(ug_bf16 *, vd), const double *x, ug_bf16 *y, size_t n)
{
    size_t i = 0;
    for (; i + VL <= n; i += VL)
        store(y + i, vd_loadu(x + i));
    if (i < n) {
        double b[VL] = {0};
        ug_bf16 h[VL];
        memcpy(b, x + i, (n - i) * sizeof *b);
        store(h, vd_loadu(b));
        memcpy(y + i, h, (n - i) * sizeof *h);
    }
}

static void round_bf16_array(const double *x, ug_bf16 *y, size_t n) { round_bf16_with(vd_store_bf16, x, y, n); }

/* y[i] = vexpf(x[i]) for n floats (n any); y = x rounded to bf16 by store (binary32 lanes). */
static void vexpf_array(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + VF <= n; i += VF)
        vf_storeu(y + i, vexpf(vf_loadu(x + i)));
    if (i < n) {
        float b[VF] = {0};
        memcpy(b, x + i, (n - i) * sizeof *b);
        vf_storeu(b, vexpf(vf_loadu(b)));
        memcpy(y + i, b, (n - i) * sizeof *b);
    }
}

UG__SIMD_INLINE void round_bf16_f32_with(void (*store2)(ug_bf16 *, vf, vf), const float *x, ug_bf16 *y, size_t n)
{
    size_t i = 0;
    for (; i + 2 * VF <= n; i += 2 * VF)
        store2(y + i, vf_loadu(x + i), vf_loadu(x + i + VF));
    if (i < n) {
        float b[2 * VF] = {0};
        ug_bf16 h[2 * VF];
        memcpy(b, x + i, (n - i) * sizeof *b);
        store2(h, vf_loadu(b), vf_loadu(b + VF));
        memcpy(y + i, h, (n - i) * sizeof *h);
    }
}

static void round_bf16_f32_array(const float *x, ug_bf16 *y, size_t n) { round_bf16_f32_with(vf_store2_bf16, x, y, n); }

UG__SIMD_TARGET_END

/* ------------------------------------------------------------------ AVX512_BF16 stores */

/* The bf16 kernels a second time, storing through VCVTNEPS2BF16 (AVX512_BF16), which rounds
 * binary32 to bf16 to nearest even in one instruction but flushes subnormal binary32 inputs
 * (vd_store_bf16_hw: the vectors where it cannot be used take the integer rounding).  Same bits as vd_store_bf16 on every input
 * (props/test_simd.c, bf16_store).  The entry points below pick this copy when the CPU has
 * AVX512_BF16 (ug__cpu_bf16_hw), the emulated one otherwise. */
UG__SIMD_TARGET_BEGIN("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,popcnt,avx512bf16")

/* The exact route, for the vectors the fast one below sends back.  The round-to-odd binary32
 * value here detects inexactness by the 29 low significand bits of the binary64 value (one
 * test instead of a conversion back and a compare): right wherever the result is a normal
 * binary32 or overflows (RZ gives the largest finite, with the sticky bit, which
 * VCVTNEPS2BF16 rounds to inf, as it should).  A lane whose result is subnormal or zero with
 * a sticky bit shows as a subnormal: that vector is done again by vd_store_bf16 (exact
 * compare, integer rounding). */
static void vd_store_bf16_hw_odd(ug_bf16 *p, vd v)
{
    __m256 t = _mm512_cvt_roundpd_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __mmask8 inexact = _mm512_test_epi64_mask(_mm512_castpd_si512(v), _mm512_set1_epi64(0x1fffffff));
    __m256i b = _mm256_castps_si256(t);
    b = _mm256_mask_or_epi32(b, inexact, b, _mm256_set1_epi32(1));
    if (_mm256_fpclass_ps_mask(_mm256_castsi256_ps(b), 0x20 /* denormal */) != 0) {
        vd_store_bf16(p, v);
        return;
    }
    __m128bh h = _mm256_cvtneps_pbh(_mm256_castsi256_ps(b));
    _mm_storeu_si128((__m128i *)(void *)p, (__m128i)h);
}

/* v to bf16, one rounding (SIMD-ERROR-ANALYSIS.md §5).  The fast route rounds twice, to
 * binary32 (VCVTPD2PS, RNE) and then to bf16 (VCVTNEPS2BF16, RNE), which is one correct
 * rounding wherever the binary32 value t is normal and not a bf16 midpoint (its low half
 * 0x8000): every bf16 midpoint M is a binary32, rounding is monotone, so v < M gives t <= M
 * and t != M gives t < M (likewise above): v and t lie between the same two midpoints, and
 * round to the same bf16 value.  One VPTESTNMW per vector finds the other lanes: a low half
 * 0x0000 or 0x8000 (midpoints, and the exact bf16 values and infinities with them) or a zero
 * exponent field (zero or subnormal, which VCVTNEPS2BF16 would flush); such a vector goes the
 * round-to-odd route above.  NaN lanes give the same NaN either way. */
static inline __attribute__((always_inline)) void vd_store_bf16_hw(ug_bf16 *p, vd v)
{
    __m256 t = _mm512_cvtpd_ps(v);
    if (_mm256_testn_epi16_mask(_mm256_castps_si256(t), _mm256_set1_epi32(0x7f807fff)) != 0) {
        vd_store_bf16_hw_odd(p, v);
        return;
    }
    __m128bh h = _mm256_cvtneps_pbh(t);
    _mm_storeu_si128((__m128i *)(void *)p, (__m128i)h);
}

/* vd_store_bf16_hw of a and b (16 values), with one test and one VCVTNEPS2BF16 for both. */
static inline __attribute__((always_inline)) void vd_store2_bf16_hw(ug_bf16 *p, vd a, vd b)
{
    __m512 t = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(a)), _mm512_cvtpd_ps(b), 1);
    if (_mm512_testn_epi16_mask(_mm512_castps_si512(t), _mm512_set1_epi32(0x7f807fff)) != 0) {
        vd_store_bf16_hw(p, a);
        vd_store_bf16_hw(p + VL, b);
        return;
    }
    __m256bh h = _mm512_cvtneps_pbh(t);
    _mm256_storeu_si256((__m256i *)(void *)p, (__m256i)h);
}

/* binary32 lanes to bf16 (long rows, simd_bf16_tmpl.h): VCVTNEPS2BF16 / VCVTNE2PS2BF16 round
 * to nearest even, as vf_store_bf16, but treat subnormal inputs as zero: a vector with a
 * subnormal lane (one VFPCLASSPS) takes vf_store_bf16.  Same bits (props/test_simd.c). */
static inline __attribute__((always_inline)) void vf_store_bf16_hw(ug_bf16 *p, vf v)
{
    if (_mm512_fpclass_ps_mask(v, 0x20 /* denormal */) != 0) {
        vf_store_bf16(p, v);
        return;
    }
    _mm256_storeu_si256((__m256i *)(void *)p, (__m256i)_mm512_cvtneps_pbh(v));
}
static inline __attribute__((always_inline)) void vf_store2_bf16_hw(ug_bf16 *p, vf a, vf b)
{
    if ((_mm512_fpclass_ps_mask(a, 0x20) | _mm512_fpclass_ps_mask(b, 0x20)) != 0) {
        vf_store2_bf16(p, a, b);
        return;
    }
    _mm512_storeu_si512((void *)p, (__m512i)_mm512_cvtne2ps_pbh(b, a)); /* a in the low half */
}

#define ET ug_bf16
#define DT UG_BF16
#define TAG bf16hw
#define SCALAR_TAG bf16
#define ET_NEGINF ((ug_bf16){0xff80u})
#define vd_load_et vd_load_bf16
#define vd_store_et vd_store_bf16_hw
#define vd_store2_et vd_store2_bf16_hw
#define vf_load_et vf_load_bf16
#define et_widen bf16_widen
#define UG__BF16_LANES 1
#define vf_store_et vf_store_bf16_hw
#define vf_store2_et vf_store2_bf16_hw
#include "simd_tmpl.h"
#undef UG__BF16_LANES
#undef vf_store_et
#undef vf_store2_et

static void round_bf16_hw_array(const double *x, ug_bf16 *y, size_t n)
{
    round_bf16_with(vd_store_bf16_hw, x, y, n);
}

/* vf_store_bf16_hw and vf_store2_bf16_hw: the second half of each 2 VF through the first. */
static inline void vf_store2_bf16_hw_halves(ug_bf16 *p, vf a, vf b) { vf_store_bf16_hw(p, a), vf_store_bf16_hw(p + VF, b); }

static void round_bf16_f32_hw_array(const float *x, ug_bf16 *y, size_t n, int pairs)
{
    round_bf16_f32_with(pairs ? vf_store2_bf16_hw : vf_store2_bf16_hw_halves, x, y, n);
}

UG__SIMD_TARGET_END

/* ------------------------------------------------------------------ entry points */

#define ENTRY(op, alg, tag) UG__SIMD_ENTRY(op, alg, tag, avx512, UG__ISA_AVX512)
ENTRY(softmax, twopass, f32)
ENTRY(log_softmax, twopass, f32)
ENTRY(logsumexp, twopass, f32)
ENTRY(xent, fused, f32)
ENTRY(xent_grad, fused, f32)
ENTRY(bce_logits, stable, f32)

/* bf16: the AVX512_BF16 copy when the CPU has it (and UG_NO_AVX512BF16 is unset). */
#define ENTRY_BF16(op, alg)                                                              \
    ug_status ug_k_##op##_##alg##_bf16_avx512(const ug_problem *p)                       \
    {                                                                                    \
        if (!ug__cpu_has(UG__ISA_AVX512))                                                \
            return ug__simd_unavailable(#op "." #alg ".bf16.avx512", UG__ISA_AVX512);    \
        return ug__cpu_bf16_hw() ? op##_##alg##_bf16hw(p) : op##_##alg##_bf16(p);        \
    }
ENTRY_BF16(softmax, twopass)
ENTRY_BF16(log_softmax, twopass)
ENTRY_BF16(logsumexp, twopass)
ENTRY_BF16(xent, fused)
ENTRY_BF16(xent_grad, fused)
ENTRY_BF16(bce_logits, stable)

UG__SIMD_MAP_ENTRY(vexp, avx512, UG__ISA_AVX512, double, double)
UG__SIMD_MAP_ENTRY(vlog1p, avx512, UG__ISA_AVX512, double, double)

int ug__round_bf16_avx512bf16(const double *x, ug_bf16 *y, size_t n)
{
    if (!ug__cpu_has(UG__ISA_AVX512) || !ug__cpu_bf16_hw())
        return -1;
    round_bf16_hw_array(x, y, n);
    return 0;
}

UG__SIMD_MAP_ENTRY(round_bf16, avx512, UG__ISA_AVX512, double, ug_bf16)
UG__SIMD_MAP_ENTRY(vexpf, avx512, UG__ISA_AVX512, float, float)
UG__SIMD_MAP_ENTRY(round_bf16_f32, avx512, UG__ISA_AVX512, float, ug_bf16)

int ug__round_bf16_f32_avx512bf16(const float *x, ug_bf16 *y, size_t n, int pairs)
{
    if (!ug__cpu_has(UG__ISA_AVX512) || !ug__cpu_bf16_hw())
        return -1;
    round_bf16_f32_hw_array(x, y, n, pairs);
    return 0;
}
