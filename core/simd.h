/* The SIMD production kernels: what core/simd_avx2.c and core/simd_avx512.c share.
 * Internal to core/.
 *
 * Layout (after XNNPACK's and Highway's): each ISA file defines a handful of primitives on
 * a vector of binary64 lanes (vd: 4 lanes AVX2, 8 lanes AVX-512) and of binary32 lanes (vf:
 * 8, 16), then includes
 *   core/simd_vexp.h   the vector exp, once per ISA;
 *   core/simd_vexp_ps.h the binary32 exp of the bf16 long rows, once per ISA;
 *   core/simd_tmpl.h   the kernels, once per dtype (f32, bf16);
 * between UG__SIMD_TARGET_BEGIN / END, which compile that code, and only that code, for
 * the ISA.  The default build assumes nothing of the build machine (no -march); the
 * registry's entry points (UG__SIMD_ENTRY, compiled for the baseline) check the CPU
 * (core/cpu.h) before they call into the ISA's code and otherwise return UG_ERR_ARG, so a
 * CPU without the ISA gets a status, never SIGILL.
 *
 * The algorithm of every kernel (error analysis: doc/SIMD-ERROR-ANALYSIS.md):
 *   pass 1  m = max_j x_j, exact (in binary64 lanes).  m = +-inf or NaN: the row is
 *           special and goes to the scalar production kernel (ug__simd_fallback_row).
 *   pass 2  d_j = x_j - m in binary64 (one rounding: |error| <= 2^-53 |d_j|), e_j =
 *           vexp(d_j) (simd_vexp.h: relative error <= 2^-47, +0 below e^-708.40),
 *           sp = sum_{j : d_j < 0} e_j + (c0 - 1), c0 = #{j : d_j = 0}: the max term is
 *           kept out of the sum (log1p of it, Blanchard, Higham & Higham 2021) and the
 *           other entries equal to the max count exactly; softmax, which needs 1 + sp only
 *           to a relative error, sums every e_j into S = 1 + sp (no compare).  Blocked lane
 *           sums, K <= 265 + ceil(n/4096) additions per term.  A NaN or +inf entry makes
 *           the sum NaN: special.
 *           Long rows in range (min_j x_j - m >= X_MIN, found with the max in pass 1: no -inf
 *           entry, no exp to flush) take the exp without its flush compare and add every
 *           lane of every group of 4 vectors but the one holding the max's first index
 *           (found by a scan), which takes the steps above: sp is then the sum of every
 *           e_j but that one max term (a tie of the max elsewhere adds its e_j = 1), the
 *           same value, operation for operation, when the max is unique.
 *   op      softmax e_i * (1 / S); log_softmax (x_i - m) - L; logsumexp m + L; xent
 *           (m - x_t) + L, L = vlog1p(sp) (simd_vlog.h, relative error <= 2^-49.96, one
 *           vector call for up to 8 rows); all in binary64, rounded once to the dtype on
 *           store.
 *   order   rows of n <= UG__SIMD_GROUP_MAX_N are analysed UG__SIMD_GROUP at a time (pass 1
 *           of the next group before pass 2 of this one; rows of at most UG__SIMD_TINY whole
 *           vectors keep their widened entries between the passes), then finished (AVX2
 *           log_softmax tiny rows: four groups in flight, a group's log1p after the next
 *           group's sums, its outputs a group later); longer rows one at a time, row r's outputs written during row r + 1's
 *           pass 2 (its stores drain while the exps are computed) while row r + 2 is
 *           prefetched; f32 calls writing UG__SIMD_STREAM_BYTES or more write those
 *           outputs with non-temporal stores (AVX-512, AVX2).  Only the order of independent
 *           instructions, and the way stores reach memory, change.
 *   bf16    softmax and log_softmax rows of n > UG__SIMD_GROUP_MAX_N compute in binary32 lanes
 *           instead (core/simd_bf16_tmpl.h, SIMD-ERROR-ANALYSIS.md §8): d_j = x_j - m in
 *           binary32, E_j = vexpf(d_j) = exp(d_j) 2^64 (simd_vexp_ps.h, relative error
 *           <= 2^-22.2 where normal), blocked sums in binary32 accumulators widened to
 *           binary64 once per block, the max term kept out for log_softmax; y = E_i * (2^-64/S)
 *           or (x_i - m) - L in binary32, rounded once to bf16: within 0.5 + 2^-7.2 ULP.
 * Every row is computed on its own, in the same order whatever the batch: the outputs do
 * not depend on how rows are batched.
 *
 * Floating-point environment: the default one (round to nearest, FTZ and DAZ clear), as
 * for the scalar kernels.
 */
#ifndef ULPGATE_CORE_SIMD_H
#define ULPGATE_CORE_SIMD_H

#include <stddef.h>

#include "cpu.h"
#include "ulpgate/ulpgate.h"

/* Compile what follows for one ISA: GCC's target pragma, clang's attribute push.  System
 * headers are included before BEGIN, so that only ulpgate's functions carry the target. */
#define UG__PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define UG__SIMD_TARGET_BEGIN(t) UG__PRAGMA(clang attribute push(__attribute__((target(t))), apply_to = function))
#define UG__SIMD_TARGET_END UG__PRAGMA(clang attribute pop)
#else
#define UG__SIMD_TARGET_BEGIN(t) UG__PRAGMA(GCC push_options) UG__PRAGMA(GCC target(t))
#define UG__SIMD_TARGET_END UG__PRAGMA(GCC pop_options)
#endif

/* The domain of the vector exp (simd_vexp.h).
 *   X_MIN  -0x1.6232bdd7abcd2p+9 ~= -708.40, ln 2^-1022 rounded to nearest (it is above the
 *          exact value): for x >= X_MIN the result is normal.  Below X_MIN (and -inf) the
 *          exp returns +0: an absolute error < 2^-1022, far below anything an f32 or bf16
 *          output can show (their smallest subnormals are 2^-149 and 2^-133).
 *   X_MAX  0x1.62ep+9 = 709.75: k = round(16 x/ln 2) <= 16383 keeps 2^(k >> 4) finite.
 *          Above it (up to ln DBL_MAX ~= 709.78, and +inf) the result is wrong: outside the
 *          domain; the kernels only pass x <= 0. */
#define UG__EXP_X_MIN (-0x1.6232bdd7abcd2p+9)
#define UG__EXP_X_MAX 0x1.62ep+9

/* Entries per block of the blocked sum (simd_tmpl.h, SIMD-ERROR-ANALYSIS.md §2). */
#define UG__SIMD_BLOCK ((size_t)4096)

/* Rows of at most UG__SIMD_GROUP_MAX_N entries are analysed UG__SIMD_GROUP at a time before
 * they are finished (simd_tmpl.h): latency hiding only, the arithmetic is unchanged. */
#define UG__SIMD_GROUP 8 /* vd_hsum8 and vf_hmax8 reduce eight rows: keep it 8 */
#define UG__SIMD_GROUP_MAX_N ((size_t)512)
/* Rows of n = nv whole vectors, nv <= UG__SIMD_TINY, keep their entries in registers between
 * passes 1 and 2 (softmax, log_softmax, xent; simd_tmpl.h tiny_max), or, on AVX2 for even nv
 * (session 7; bf16: log_softmax only), take pass 1 in binary32 lanes and widen the entries
 * again in pass 2. */
#define UG__SIMD_TINY 4

/* Long-row softmax and log_softmax write their outputs with non-temporal stores when a call
 * writes at least this many bytes (simd_tmpl.h pend_set): the same values, without reading
 * each output line for ownership first.  A heuristic: outputs this large are not in a
 * core's L2 (2 MiB here) when the next kernel reads them anyway. */
#define UG__SIMD_STREAM_BYTES ((size_t)8 << 20)

/* row_sum's mode (simd_tmpl.h) that keeps x - m instead of exp(x - m). */
#define UG__SUM_KEEP_D 2

/* The vector exp of each ISA over n doubles (n any), for the tests
 * (props/slow_exp_exhaustive.c, props/test_simd.c): the very code the kernels run.
 * Returns 0, or -1 without touching y when the CPU lacks the ISA. */
int ug__vexp_avx2(const double *x, double *y, size_t n);
int ug__vexp_avx512(const double *x, double *y, size_t n);

/* The vector log1p of each ISA over n doubles (simd_vlog.h), for props/test_simd.c.
 * Returns 0, or -1 without touching y when the CPU lacks the ISA. */
int ug__vlog1p_avx2(const double *x, double *y, size_t n);
int ug__vlog1p_avx512(const double *x, double *y, size_t n);

/* The kernels' binary64 -> bf16 store of each ISA over n values (one rounding, RNE, as
 * ug_bf16_from_f64), for props/test_simd.c.  Returns 0, or -1 when the CPU lacks the ISA. */
int ug__round_bf16_avx2(const double *x, ug_bf16 *y, size_t n);
int ug__round_bf16_avx512(const double *x, ug_bf16 *y, size_t n);
int ug__round_bf16_avx512bf16(const double *x, ug_bf16 *y, size_t n); /* VCVTNEPS2BF16 */

/* The binary32 vector exp of each ISA (simd_vexp_ps.h: exp(x) 2^64, x <= 0) over n floats,
 * and the bf16 long rows' binary32 -> bf16 store (RNE; avx512bf16: VCVTNE2PS2BF16 on pairs
 * of vectors when pairs, VCVTNEPS2BF16 on single ones otherwise), for props/test_simd.c and
 * props/slow_exp_ps_exhaustive.c.  Return 0, or -1 when the CPU lacks the ISA. */
int ug__vexpf_avx2(const float *x, float *y, size_t n);
int ug__vexpf_avx512(const float *x, float *y, size_t n);
int ug__round_bf16_f32_avx2(const float *x, ug_bf16 *y, size_t n);
int ug__round_bf16_f32_avx512(const float *x, ug_bf16 *y, size_t n);
int ug__round_bf16_f32_avx512bf16(const float *x, ug_bf16 *y, size_t n, int pairs);

/* Record "<kernel>: this CPU cannot run <isa> code" and return UG_ERR_ARG. */
ug_status ug__simd_unavailable(const char *kernel, ug__isa isa);

/* 64-byte aligned scratch of count doubles (free with free()); NULL and UG_ERR_NOMEM
 * recorded when it cannot be allocated. */
double *ug__simd_scratch(size_t count);

/* Row r of p through the scalar production kernel `scalar` of (op, dt), alone (rows = 1,
 * reduction none).  loss NULL: the row's outputs go to their place in p->y.  loss not
 * NULL (a loss op under a reduction): the row's loss is stored in *loss, widened; it is
 * exact, since the rows that fall back have losses NaN, +inf or +0 only. */
ug_status ug__simd_fallback_row(ug_kernel_fn scalar, ug_op op, ug_dtype dt, const ug_problem *p, size_t r,
                                double *loss);

/* log_softmax when L = log1p(sp) = 0: the max's output (x_i = m, y_i = +0) becomes -0 when
 * another entry is finite, for then the exact value is negative (SPECIAL.md: zeros). */
void ug__simd_signed_zero_at_max(ug_dtype dt, const void *x, void *y, size_t n, double m);

/* The kernels' inner functions: inlined whatever the compiler's size heuristics say (a
 * call per row costs more than the row when rows are short). */
#define UG__SIMD_INLINE static inline __attribute__((always_inline))

/* Unroll the next loop completely (its trip count a constant after inlining): the tiny rows'
 * loops over their vectors, so that their terms stay in registers. */
#define UG__UNROLL4 UG__PRAGMA(GCC unroll 4)

#define UG__CAT_(a, b) a##b
#define UG__CAT(a, b) UG__CAT_(a, b)

/* The test entry ug__FN_ISA(x, y, n) of an ISA's array function FN_array (simd_*.c): -1
 * without touching y when the CPU lacks the ISA, else FN_array's outputs and 0. */
#define UG__SIMD_MAP_ENTRY(fn, isa, isa_id, TX, TY)             \
    int ug__##fn##_##isa(const TX *x, TY *y, size_t n)          \
    {                                                           \
        if (!ug__cpu_has(isa_id))                               \
            return -1;                                          \
        fn##_array(x, y, n);                                    \
        return 0;                                               \
    }

/* A registry entry point: outside the target region, it checks the CPU and only then
 * calls the ISA's code (op_alg_tag, from simd_tmpl.h). */
#define UG__SIMD_ENTRY(op, alg, tag, isa, isa_id)                                 \
    ug_status ug_k_##op##_##alg##_##tag##_##isa(const ug_problem *p)             \
    {                                                                            \
        if (!ug__cpu_has(isa_id))                                                \
            return ug__simd_unavailable(#op "." #alg "." #tag "." #isa, isa_id); \
        return op##_##alg##_##tag(p);                                            \
    }

#endif
