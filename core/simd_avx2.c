/* The AVX2 + FMA kernels: 4 binary64 lanes per ymm register.
 *
 * Primitives for core/simd_vexp.h and core/simd_tmpl.h, then the kernels for f32 and bf16
 * (rows of core/kernels.def: *.f32.avx2, *.bf16.avx2).  Everything between
 * UG__SIMD_TARGET_BEGIN and END is compiled for AVX2 + FMA and runs only behind the
 * ug__cpu_has check of the entry points at the end of the file.
 *
 * The exp is the AVX-512 one operation for operation (simd_vexp.h): the same bits.  Its
 * table lookup is a VPGATHERQQ from the 16-entry table.  bf16 is written by rounding once:
 * binary64 -> binary32 rounded to odd (VCVTPD2PS rounds to nearest; one less in magnitude
 * where that rounded away from zero gives the truncation, and the last bit is set when
 * inexact), then RNE to bf16 by integer arithmetic (see core/simd_avx512.c for why that is
 * one correct rounding) -- or, for the vectors with no bf16 midpoint among their binary32
 * values (nearly all), VCVTPD2PS to nearest and the same integer rounding (vd_store_bf16).
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

UG__SIMD_TARGET_BEGIN("avx2,fma,popcnt")

/* Tiny rows (simd_tmpl.h): the exp without its flush for groups in range, and log_softmax
 * keeping d: here the flush is a compare and an AND per vector. */
#define UG__TINY_RANGE 1
#define UG__TINY_KEEP_D 1
/* Session 7: pass 1 of tiny rows in binary32 lanes (1: every op; 2: log_softmax only), the
 * max's lanes counted in vector lanes (simd_tmpl.h; the same bits). */
#define UG__TINY_MAX_F 1
#define UG__TINY_VCOUNT 1

typedef __m256d vd;
enum { VL = 4 };

static inline vd vd_set1(double a) { return _mm256_set1_pd(a); }
static inline vd vd_zero(void) { return _mm256_setzero_pd(); }
static inline vd vd_add(vd a, vd b) { return _mm256_add_pd(a, b); }
static inline vd vd_sub(vd a, vd b) { return _mm256_sub_pd(a, b); }
static inline vd vd_max(vd a, vd b) { return _mm256_max_pd(a, b); }
static inline vd vd_min(vd a, vd b) { return _mm256_min_pd(a, b); }
static inline vd vd_mul(vd a, vd b) { return _mm256_mul_pd(a, b); }
static inline vd vd_fma(vd a, vd b, vd c) { return _mm256_fmadd_pd(a, b, c); }
static inline vd vd_loadu(const double *p) { return _mm256_loadu_pd(p); }
static inline void vd_storeu(double *p, vd v) { _mm256_storeu_pd(p, v); }
/* VL doubles just stored one by one (group_finish's counts, loss_finish's x_t): scalar loads
 * and inserts, since a vector load of separately stored scalars stalls (store forwarding). */
static inline vd vd_load_scalars(const double *p) { return _mm256_setr_pd(p[0], p[1], p[2], p[3]); }

/* 2^(k >> 4) T[k & 15], the table entry gathered. */
static inline vd vd_exp2k(vd z)
{
    __m256i zi = _mm256_castpd_si256(z);
    __m256i j = _mm256_and_si256(zi, _mm256_set1_epi64x((1 << UG__EXP_TABLE_BITS) - 1));
    __m256i t = _mm256_i64gather_epi64((const long long *)(const void *)ug__exp_table, j, 8);
    return _mm256_castsi256_pd(_mm256_add_epi64(t, _mm256_slli_epi64(zi, 52 - UG__EXP_TABLE_BITS)));
}

/* fma(a, b, c) where !(x < X_MIN) (NaN kept), +0 elsewhere. */
static inline vd vd_fma_keep(vd x, vd a, vd b, vd c)
{
    vd keep = _mm256_cmp_pd(x, _mm256_set1_pd(UG__EXP_X_MIN), _CMP_NLT_UQ);
    return _mm256_and_pd(keep, _mm256_fmadd_pd(a, b, c));
}

/* acc + e in the lanes where d < 0 or NaN; the lanes where d = 0 counted in *neq. */
static inline vd vd_acc_lt0(vd acc, vd d, vd e, size_t *neq)
{
    vd lt = _mm256_cmp_pd(d, _mm256_setzero_pd(), _CMP_NGE_UQ);
    int k = _mm256_movemask_pd(lt);
    *neq += VL - (size_t)__builtin_popcount((unsigned)k); /* branchless: the max's lane is data */
    return _mm256_add_pd(acc, _mm256_and_pd(lt, e));
}

/* e in the lanes where d < 0 or NaN, +0 elsewhere (vd_acc_lt0 without the add: its term);
 * those lanes counted in the 64-bit integer lanes of *cnt (the compare's mask is -1 there):
 * one VPSUBQ instead of a MOVMSK, a POPCNT and an add (UG__TINY_VCOUNT: this ISA's tiny
 * rows take this instead of a vd_term_lt0 with a scalar count). */
static inline vd vd_term_lt0v(vd d, vd e, vd *cnt)
{
    vd lt = _mm256_cmp_pd(d, _mm256_setzero_pd(), _CMP_NGE_UQ);
    *cnt = _mm256_castsi256_pd(_mm256_sub_epi64(_mm256_castpd_si256(*cnt), _mm256_castpd_si256(lt)));
    return _mm256_and_pd(lt, e);
}

/* Integer lanes c in [0, 2^52) as binary64, exactly: the bits of 2^52 + c, minus 2^52. */
static inline vd vd_cnt_double(vd c)
{
    __m256i b = _mm256_or_si256(_mm256_castpd_si256(c), _mm256_castpd_si256(_mm256_set1_pd(0x1p52)));
    return _mm256_sub_pd(_mm256_castsi256_pd(b), _mm256_set1_pd(0x1p52));
}

static inline double vd_hsum(vd v)
{
    __m128d b = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(b, _mm_unpackhi_pd(b, b)));
}

/* vd_hsum (OP = add) or the max of vd_hmax8 (OP = max) of v[0..8), transposed on the way:
 * each row's (s0 OP s2) OP (s1 OP s3), the operands in vd_hsum's places, so the same bits
 * (NaN operands included): 18 operations for 8 rows instead of 8 trees and extractions. */
#define UG__HTREE8(OP)                                                                        \
    do {                                                                                      \
        vd pq[4];                                                                             \
        UG__PRAGMA(GCC unroll 4)                                                              \
        for (int j = 0; j < 4; j++) /* [a0 OP a2, a1 OP a3, b0 OP b2, b1 OP b3] */            \
            pq[j] = OP(_mm256_permute2f128_pd(v[2 * j], v[2 * j + 1], 0x20),                  \
                       _mm256_permute2f128_pd(v[2 * j], v[2 * j + 1], 0x31));                 \
        UG__PRAGMA(GCC unroll 2)                                                              \
        for (int h = 0; h < 2; h++) { /* rows 4h, 4h + 2, 4h + 1, 4h + 3, then in order */   \
            vd r = OP(_mm256_unpacklo_pd(pq[2 * h], pq[2 * h + 1]),                           \
                      _mm256_unpackhi_pd(pq[2 * h], pq[2 * h + 1]));                          \
            _mm256_storeu_pd(out + 4 * h, _mm256_permute4x64_pd(r, 0xd8));                     \
        }                                                                                     \
    } while (0)

UG__SIMD_INLINE void vd_hsum8(const vd v[8], double out[8]) { UG__HTREE8(_mm256_add_pd); }

/* The max of each of v[0..8) (pass 1 of rows of a few whole vectors: exact), the tree of
 * _mm_max_pd(low half, high half) then max_sd of its two lanes. */
UG__SIMD_INLINE void vd_hmax8(const vd v[8], double out[8]) { UG__HTREE8(_mm256_max_pd); }
#undef UG__HTREE8

static inline vd vd_load_f32(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
static inline void vd_store_f32(float *p, vd v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }
/* a and b rounded to binary32 as vd_store_f32, one non-temporal store of 32 bytes (p aligned;
 * pend_4 writes two, a whole 64-byte line). */
static inline void vd_stream2_f32(float *p, vd a, vd b)
{
    _mm256_stream_ps(p, _mm256_set_m128(_mm256_cvtpd_ps(b), _mm256_cvtpd_ps(a)));
}

/* bf16 -> binary32 is a shift: interleaving zero words below the 4 values (one VPUNPCKLWD). */
static inline vd vd_load_bf16(const ug_bf16 *p)
{
    __m128i w = _mm_unpacklo_epi16(_mm_setzero_si128(), _mm_loadl_epi64((const __m128i *)(const void *)p));
    return _mm256_cvtps_pd(_mm_castsi128_ps(w));
}

/* The low 32 bits of each 64-bit lane of a compare mask. */
static inline __m128i mask_narrow(vd m)
{
    __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_castpd_si256(m), idx));
}

/* binary32 bits b rounded to bf16 (RNE, integer arithmetic, subnormals included), stored. */
static inline void store_f32_bits_as_bf16(ug_bf16 *p, __m128i b)
{
    __m128i lsb = _mm_and_si128(_mm_srli_epi32(b, 16), _mm_set1_epi32(1));
    b = _mm_srli_epi32(_mm_add_epi32(_mm_add_epi32(b, _mm_set1_epi32(0x7fff)), lsb), 16);
    _mm_storel_epi64((__m128i *)(void *)p, _mm_packus_epi32(b, b));
}

/* The exact route: binary32 rounded to odd, then RNE to bf16. */
static void vd_store_bf16_odd(ug_bf16 *p, vd v)
{
    __m128 f = _mm256_cvtpd_ps(v);
    vd back = _mm256_cvtps_pd(f), sign = _mm256_set1_pd(-0.0);
    vd away = _mm256_cmp_pd(_mm256_andnot_pd(sign, back), _mm256_andnot_pd(sign, v), _CMP_GT_OQ);
    vd inexact = _mm256_cmp_pd(back, v, _CMP_NEQ_UQ);
    __m128i b = _mm_add_epi32(_mm_castps_si128(f), mask_narrow(away)); /* -1 where rounded away */
    b = _mm_or_si128(b, _mm_and_si128(mask_narrow(inexact), _mm_set1_epi32(1)));
    store_f32_bits_as_bf16(p, b);
}

/* v to bf16, one rounding: RNE to binary32, then RNE to bf16 by integer arithmetic, which
 * is one correct rounding wherever no binary32 value is a bf16 midpoint (low half 0x8000;
 * SIMD-ERROR-ANALYSIS.md §5: every midpoint is a binary32, subnormal ones included, and
 * rounding is monotone); a vector with such a lane takes the round-to-odd route. */
static inline __attribute__((always_inline)) void vd_store_bf16(ug_bf16 *p, vd v)
{
    __m128i b = _mm_castps_si128(_mm256_cvtpd_ps(v));
    __m128i tie = _mm_cmpeq_epi32(_mm_and_si128(b, _mm_set1_epi32(0xffff)), _mm_set1_epi32(0x8000));
    if (_mm_movemask_epi8(tie) != 0) {
        vd_store_bf16_odd(p, v);
        return;
    }
    store_f32_bits_as_bf16(p, b);
}

/* vd_store_bf16 of a and b (8 values), the same operations lane by lane with one tie test
 * and one integer rounding for both; a tie in either takes vd_store_bf16 for each. */
static inline __attribute__((always_inline)) void vd_store2_bf16(ug_bf16 *p, vd a, vd b)
{
    __m256i t = _mm256_castps_si256(_mm256_set_m128(_mm256_cvtpd_ps(b), _mm256_cvtpd_ps(a)));
    __m256i tie = _mm256_cmpeq_epi32(_mm256_and_si256(t, _mm256_set1_epi32(0xffff)), _mm256_set1_epi32(0x8000));
    if (!_mm256_testz_si256(tie, tie)) {
        vd_store_bf16(p, a);
        vd_store_bf16(p + VL, b);
        return;
    }
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(t, 16), _mm256_set1_epi32(1));
    t = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(t, _mm256_set1_epi32(0x7fff)), lsb), 16);
    __m128i h = _mm_packus_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
    _mm_storeu_si128((__m128i *)(void *)p, h);
}


/* binary32 lanes, for the max of pass 1 */
typedef __m256 vf;
enum { VF = 8 };
static inline vf vf_set1(float a) { return _mm256_set1_ps(a); }
static inline vf vf_max(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline double vf_hmax(vf v)
{
    __m128 b = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    b = _mm_max_ps(b, _mm_movehl_ps(b, b));
    return _mm_cvtss_f32(_mm_max_ss(b, _mm_shuffle_ps(b, b, 1)));
}
/* vf_hmax of v[0..8), transposed on the way (the operands in vf_hmax's places at every
 * level, so the same bits): 16 operations for 8 rows. */
UG__SIMD_INLINE void vf_hmax8(const vf v[8], double out[8])
{
    vf w[2];
    for (int h = 0; h < 2; h++) {
        vf pq[2];
        for (int j = 0; j < 2; j++) { /* [max(a_i, a_i+4), i < 4 | the same of b] */
            vf a = v[4 * h + 2 * j], b = v[4 * h + 2 * j + 1];
            pq[j] = _mm256_max_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
        }
        /* max(A_i, A_i+2), i < 2, of each of the four rows: [a a c c | b b d d] */
        w[h] = _mm256_max_ps(_mm256_shuffle_ps(pq[0], pq[1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm256_shuffle_ps(pq[0], pq[1], _MM_SHUFFLE(3, 2, 3, 2)));
    }
    /* max(A_0, A_1): [r0 r2 r4 r6 | r1 r3 r5 r7] */
    vf r = _mm256_max_ps(_mm256_shuffle_ps(w[0], w[1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm256_shuffle_ps(w[0], w[1], _MM_SHUFFLE(3, 1, 3, 1)));
    r = _mm256_permutevar8x32_ps(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_pd(out, _mm256_cvtps_pd(_mm256_castps256_ps128(r)));
    _mm256_storeu_pd(out + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(r, 1)));
}
static inline vf vf_min(vf a, vf b) { return _mm256_min_ps(a, b); }
/* min = -max(-v): negation is exact, and the same tree as vf_hmax. */
static inline double vf_hmin(vf v) { return -vf_hmax(_mm256_xor_ps(v, _mm256_set1_ps(-0.0f))); }
/* Bit j set where lane j of a equals lane j of b (an ordered compare: NaN never equals). */
static inline unsigned vf_eq_mask(vf a, vf b) { return (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_EQ_OQ)); }
static inline vf vf_load_f32(const float *p) { return _mm256_loadu_ps(p); }
static inline vf vf_load_bf16(const ug_bf16 *p)
{
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

static inline vd vd_div(vd a, vd b) { return _mm256_div_pd(a, b); }

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

/* -v; x > 0 ? a : b; whether a lane of x is +-inf (bce_logits). */
static inline vd vd_neg(vd v) { return _mm256_xor_pd(v, _mm256_set1_pd(-0.0)); }
static inline vd vd_select_pos(vd x, vd a, vd b) { return _mm256_blendv_pd(b, a, _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_GT_OQ)); }
static inline int vd_any_inf(vd x)
{
    vd ax = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
    return _mm256_movemask_pd(_mm256_cmp_pd(ax, _mm256_set1_pd(INFINITY), _CMP_EQ_OQ)) != 0;
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
static inline vf vf_zero(void) { return _mm256_setzero_ps(); }
static inline vf vf_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vf_fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf vf_loadu(const float *p) { return _mm256_loadu_ps(p); }
static inline void vf_storeu(float *p, vf v) { _mm256_storeu_ps(p, v); }
/* p 2^kk rounded once, for p in [0.70, 1.42] and integers kk in [-152, 64]: kk = k1 + k2,
 * k1 = floor(kk/2), both in [-76, 32]; p 2^k1 is exact (normal), times 2^k2 rounds once:
 * VSCALEFPS's value, bit for bit. */
static inline vf vf_scale2k(vf p, vf kk)
{
    __m256i k = _mm256_cvtps_epi32(kk); /* exact: an integer */
    __m256i k1 = _mm256_srai_epi32(k, 1), k2 = _mm256_sub_epi32(k, k1);
    __m256i bias = _mm256_set1_epi32(127);
    vf s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
    vf s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}
/* v with lane j set to +0. */
static inline vf vf_clear_lane(vf v, unsigned j)
{
    __m256i hit = _mm256_cmpeq_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)j));
    return _mm256_andnot_ps(_mm256_castsi256_ps(hit), v);
}
/* *t0 += the low 4 lanes of a, *t1 += the high 4, widened (exact). */
static inline void vf_widen_acc(vd *t0, vd *t1, vf a)
{
    *t0 = _mm256_add_pd(*t0, _mm256_cvtps_pd(_mm256_castps256_ps128(a)));
    *t1 = _mm256_add_pd(*t1, _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)));
}
/* binary32 lanes rounded to bf16, RNE by integer arithmetic (as ug_bf16_from_f32; every
 * binary32 but NaN, subnormals included: no NaN reaches it). */
static inline __m256i vf_bf16_bits(vf v)
{
    __m256i b = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(1));
    return _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(b, _mm256_set1_epi32(0x7fff)), lsb), 16);
}
static inline void vf_store_bf16(ug_bf16 *p, vf v)
{
    __m256i b = vf_bf16_bits(v);
    _mm_storeu_si128((__m128i *)(void *)p, _mm_packus_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1)));
}
/* 16 values: one pack (within 128-bit halves) and one cross-lane permute. */
static inline void vf_store2_bf16(ug_bf16 *p, vf a, vf b)
{
    __m256i h = _mm256_packus_epi32(vf_bf16_bits(a), vf_bf16_bits(b)); /* a0-3 b0-3 a4-7 b4-7 */
    _mm256_storeu_si256((__m256i *)(void *)p, _mm256_permute4x64_epi64(h, 0xd8));
}

/* Bit k set where lane k of v is finite / not NaN / not zero (group_finish, simd_tmpl.h). */
static inline unsigned vd_finite_bits(vd v)
{
    vd a = _mm256_andnot_pd(_mm256_set1_pd(-0.0), v);
    return (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(a, _mm256_set1_pd(INFINITY), _CMP_LT_OQ));
}
static inline unsigned vd_ord_bits(vd v) { return (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(v, v, _CMP_ORD_Q)); }
static inline unsigned vd_ne0_bits(vd v)
{
    return (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(v, _mm256_setzero_pd(), _CMP_NEQ_UQ));
}

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

/* bf16: pass 1 of tiny rows in binary32 lanes for log_softmax only (the entries are widened
 * twice then: the other ops measured no faster, softmax about 3 % slower). */
#undef UG__TINY_MAX_F
#define UG__TINY_MAX_F 2
#define ET ug_bf16
#define DT UG_BF16
#define TAG bf16
#define ET_NEGINF ((ug_bf16){0xff80u})
#define vd_load_et vd_load_bf16
#define vd_store_et vd_store_bf16
#define vd_store2_et vd_store2_bf16
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

static void round_bf16_array(const double *x, ug_bf16 *y, size_t n)
{
    size_t i = 0;
    for (; i + VL <= n; i += VL)
        vd_store_bf16(y + i, vd_loadu(x + i));
    if (i < n) {
        double b[VL] = {0};
        ug_bf16 h[VL];
        memcpy(b, x + i, (n - i) * sizeof *b);
        vd_store_bf16(h, vd_loadu(b));
        memcpy(y + i, h, (n - i) * sizeof *h);
    }
}

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

static void round_bf16_f32_array(const float *x, ug_bf16 *y, size_t n)
{
    size_t i = 0;
    for (; i + 2 * VF <= n; i += 2 * VF)
        vf_store2_bf16(y + i, vf_loadu(x + i), vf_loadu(x + i + VF));
    for (; i + VF <= n; i += VF)
        vf_store_bf16(y + i, vf_loadu(x + i));
    if (i < n) {
        float b[VF] = {0};
        ug_bf16 h[VF];
        memcpy(b, x + i, (n - i) * sizeof *b);
        vf_store_bf16(h, vf_loadu(b));
        memcpy(y + i, h, (n - i) * sizeof *h);
    }
}

UG__SIMD_TARGET_END

/* ------------------------------------------------------------------ entry points */

#define ENTRY(op, alg, tag) UG__SIMD_ENTRY(op, alg, tag, avx2, UG__ISA_AVX2)
ENTRY(softmax, twopass, f32)
ENTRY(log_softmax, twopass, f32)
ENTRY(logsumexp, twopass, f32)
ENTRY(xent, fused, f32)
ENTRY(xent_grad, fused, f32)
ENTRY(bce_logits, stable, f32)
ENTRY(softmax, twopass, bf16)
ENTRY(log_softmax, twopass, bf16)
ENTRY(logsumexp, twopass, bf16)
ENTRY(xent, fused, bf16)
ENTRY(xent_grad, fused, bf16)
ENTRY(bce_logits, stable, bf16)

UG__SIMD_MAP_ENTRY(vexp, avx2, UG__ISA_AVX2, double, double)
UG__SIMD_MAP_ENTRY(vlog1p, avx2, UG__ISA_AVX2, double, double)
UG__SIMD_MAP_ENTRY(round_bf16, avx2, UG__ISA_AVX2, double, ug_bf16)
UG__SIMD_MAP_ENTRY(vexpf, avx2, UG__ISA_AVX2, float, float)
UG__SIMD_MAP_ENTRY(round_bf16_f32, avx2, UG__ISA_AVX2, float, ug_bf16)
