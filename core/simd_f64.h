/* The f64 SIMD kernels' double-double exp and log1p (core/simd_vexp_dd.h), for the tests
 * (props/test_simd.c): the very code the kernels run.  Internal to core/.
 *
 * Each computes, for i < n (n any), exp(xh[i] + xl[i]) = eh[i] + el[i], or log1p(xh[i] + xl[i])
 * = eh[i] + el[i], with the contracts of core/simd_vexp_dd.h.  Returns 0, or -1 without
 * touching the outputs when the CPU lacks the ISA.
 */
#ifndef ULPGATE_CORE_SIMD_F64_H
#define ULPGATE_CORE_SIMD_F64_H

#include <stddef.h>

int ug__vexp_dd_avx2(const double *xh, const double *xl, double *eh, double *el, size_t n);
int ug__vexp_dd_avx512(const double *xh, const double *xl, double *eh, double *el, size_t n);
int ug__vlog1p_dd_avx2(const double *xh, const double *xl, double *eh, double *el, size_t n);
int ug__vlog1p_dd_avx512(const double *xh, const double *xl, double *eh, double *el, size_t n);
/* vlog1p_dd01 (session 8: bce_logits' table-driven log1p of s in [0, 1]), the same way. */
int ug__vlog1p_dd01_avx2(const double *xh, const double *xl, double *eh, double *el, size_t n);
int ug__vlog1p_dd01_avx512(const double *xh, const double *xl, double *eh, double *el, size_t n);
/* vexp_f64 of core/simd_vexp_f64.h (the binary64 exp of the 2-ULP rows), the same way. */
int ug__vexp_f64_avx2(const double *xh, const double *xl, double *eh, double *el, size_t n);
int ug__vexp_f64_avx512(const double *xh, const double *xl, double *eh, double *el, size_t n);

#endif
