/* The canary kernels of core/kernels.def (role CANARY: algorithms naive, twostep, clipped,
 * pure): known-bad algorithms kept so that the harness proves it can see badness.  The
 * code, with each family's contract (what it computes, why it is a canary, where it
 * breaks), is core/canary_tmpl.h, written once over a compute type; this file instantiates
 * it four times:
 *
 *   tag        kernels                               compute   intermediates     store
 *   f32        naive, twostep, clipped .f32          float     IEEE float        as is
 *   f64        naive, twostep, clipped .f64          double    IEEE double       as is
 *   bf16       naive, twostep, clipped .bf16         float     IEEE float        RNE to bf16, once
 *   pure_bf16  pure .bf16                            float     each rounded      RNE to bf16
 *                                                              to bf16
 *
 * Template parameters:
 *   CAN_T          the compute type
 *   CAN_TAG        suffix of this instantiation's static helpers
 *   CAN_SFX        dtype suffix of the kernel names (ug_k_<op>_<alg>_<CAN_SFX>)
 *   CAN_DT         the ug_dtype the kernels validate and store
 *   CAN_PURE       0: the naive/twostep/clipped kernels; 1: the pure ones
 *   CAN_LD(a, i)   element i of a dtype array as CAN_T (exact)
 *   CAN_ST(a, i, v) store CAN_T v into element i (bf16: ug_bf16_from_f32, one RNE)
 *   CAN_R(v)       what an arithmetic unit does to each intermediate: nothing, or a
 *                  round trip through bf16
 *   CAN_EXP, CAN_LOG  the compute type's exp and log (expf/logf or exp/log)
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "kernels.h"

#define UG__CAT_(a, b) a##b
#define UG__CAT(a, b) UG__CAT_(a, b)

static float bf16_load(const void *a, size_t i) { return ug_bf16_to_f32(((const ug_bf16 *)a)[i]); }
static void bf16_store(void *a, size_t i, float v) { ((ug_bf16 *)a)[i] = ug_bf16_from_f32(v); }
static float bf16_round(float v) { return ug_bf16_to_f32(ug_bf16_from_f32(v)); }

#define CAN_T float
#define CAN_TAG f32
#define CAN_SFX f32
#define CAN_DT UG_F32
#define CAN_PURE 0
#define CAN_LD(a, i) (((const float *)(a))[i])
#define CAN_ST(a, i, v) (((float *)(a))[i] = (v))
#define CAN_R(v) (v)
#define CAN_EXP expf
#define CAN_LOG logf
#include "canary_tmpl.h"

#define CAN_T double
#define CAN_TAG f64
#define CAN_SFX f64
#define CAN_DT UG_F64
#define CAN_PURE 0
#define CAN_LD(a, i) (((const double *)(a))[i])
#define CAN_ST(a, i, v) (((double *)(a))[i] = (v))
#define CAN_R(v) (v)
#define CAN_EXP exp
#define CAN_LOG log
#include "canary_tmpl.h"

#define CAN_T float
#define CAN_TAG bf16
#define CAN_SFX bf16
#define CAN_DT UG_BF16
#define CAN_PURE 0
#define CAN_LD(a, i) bf16_load(a, i)
#define CAN_ST(a, i, v) bf16_store(a, i, v)
#define CAN_R(v) (v)
#define CAN_EXP expf
#define CAN_LOG logf
#include "canary_tmpl.h"

#define CAN_T float
#define CAN_TAG pure_bf16
#define CAN_SFX bf16
#define CAN_DT UG_BF16
#define CAN_PURE 1
#define CAN_LD(a, i) bf16_load(a, i)
#define CAN_ST(a, i, v) bf16_store(a, i, v)
#define CAN_R(v) bf16_round(v)
#define CAN_EXP expf
#define CAN_LOG logf
#include "canary_tmpl.h"
