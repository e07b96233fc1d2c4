/* Deliberately broken plug-ins, one per error the loader must report (reports/plugin.h,
 * include/ulpgate/plugin.h).  props/plugin/CMakeLists.txt builds this file once per case
 * with -DUG_BAD_<CASE>; run_case.cmake asserts the message and the exit status.
 *
 *   NO_ENTRY       no ug_plugin_init at all                                    6
 *   INIT_NULL      ug_plugin_init returns NULL                                 6
 *   ABI_NEXT       abi_version = UG_PLUGIN_ABI_VERSION + 1                     7
 *   ROW_SIZE       row_size of a larger row                                    7
 *   DUP_BUILTIN    a row named softmax.twopass.f32 (a built-in kernel)         8
 *   DUP_SELF       the same name in two rows                                   8
 *   NULL_NAME      a row with name NULL                                        9
 *   NULL_FN        a row with fn NULL                                          9
 *   BAD_OP         op = UG_OP_COUNT                                            9
 *   BAD_DTYPE      dtype = 7                                                   9
 *   NEG_BOUND      bound.ulp = -1                                              9
 *   NAN_BOUND      bound.per_n = NaN                                           9
 *   BAD_NAME       name "softmax.f32.badcase" (not op.algorithm.dtype)         9
 *   WRONG_OP_NAME  name "log_softmax.badcase.f32" on a softmax row              9
 *   PRODUCTION     role UG_ROLE_PRODUCTION                                     9
 *   LIAR           well formed: an external kernel that breaks its claim of 1 ULP
 *                  (float accumulation, float shift): check exits 1, a fuzzer stops
 */
#include <math.h>
#include <stdint.h>

#include "ulpgate/plugin.h"

/* softmax in float, shifted: x_i - m rounds in float unless x_i and m are within a factor
 * 2 (Sterbenz), an absolute error of up to 2^-24 |x_i - m| in the exponent, so a relative
 * error of as much in the output (about |x_i - m| / 2 ULP): it breaks 1 ULP on wide rows. */
static ug_status softmax_float(const ug_problem *p)
{
    if (p == NULL || p->x == NULL || p->y == NULL)
        return UG_ERR_NULL;
    if (p->rows == 0 || p->n == 0)
        return UG_ERR_EMPTY;
    if (p->reduction != UG_RED_NONE)
        return UG_ERR_REDUCTION;
    const float *x = p->x;
    float *y = p->y;
    for (size_t r = 0; r < p->rows; r++, x += p->n, y += p->n) {
        float m = -INFINITY, s = 0;
        for (size_t i = 0; i < p->n; i++)
            m = x[i] > m ? x[i] : m;
        for (size_t i = 0; i < p->n; i++)
            s += expf(x[i] - m);
        for (size_t i = 0; i < p->n; i++)
            y[i] = expf(x[i] - m) / s;
    }
    return UG_OK;
}

#define ROW(name_, alg_) \
    {.name = name_, .op = UG_OP_SOFTMAX, .dtype = UG_F32, .algorithm = alg_, .isa = "scalar", .fn = softmax_float, \
     .bound = {1, 0, 0}, .role = UG_ROLE_EXTERNAL, .desc = "a broken test plug-in"}

#if defined(UG_BAD_NO_ENTRY)
/* A library with kernels but no entry point. */
const ug_plugin_row ug_bad_rows[] = {ROW("softmax.badcase.f32", "badcase")};
#else

static ug_plugin_row rows[] = {
#if defined(UG_BAD_DUP_BUILTIN)
    ROW("softmax.twopass.f32", "twopass"),
#elif defined(UG_BAD_BAD_NAME)
    ROW("softmax.f32.badcase", "badcase"),
#elif defined(UG_BAD_WRONG_OP_NAME)
    ROW("log_softmax.badcase.f32", "badcase"),
#elif defined(UG_BAD_LIAR)
    ROW("softmax.liar.f32", "liar"),
#else
    ROW("softmax.badcase.f32", "badcase"),
#endif
    ROW("softmax.badcase2.f32", "badcase2"),
};

static ug_plugin plugin = UG_PLUGIN_DESCRIPTOR("broken test plug-in", rows);

const ug_plugin *ug_plugin_init(uint32_t host_abi_version)
{
    (void)host_abi_version;
#if defined(UG_BAD_INIT_NULL)
    return NULL;
#endif
#if defined(UG_BAD_ABI_NEXT)
    plugin.abi_version = UG_PLUGIN_ABI_VERSION + 1;
#elif defined(UG_BAD_ROW_SIZE)
    plugin.row_size = (uint32_t)sizeof(ug_plugin_row) + 8;
#elif defined(UG_BAD_DUP_SELF)
    rows[1].name = rows[0].name, rows[1].algorithm = rows[0].algorithm;
#elif defined(UG_BAD_NULL_NAME)
    rows[1].name = NULL;
#elif defined(UG_BAD_NULL_FN)
    rows[1].fn = NULL;
#elif defined(UG_BAD_BAD_OP)
    rows[1].op = UG_OP_COUNT;
#elif defined(UG_BAD_BAD_DTYPE)
    rows[1].dtype = (ug_dtype)7;
#elif defined(UG_BAD_NEG_BOUND)
    rows[1].bound.ulp = -1;
#elif defined(UG_BAD_NAN_BOUND)
    rows[1].bound.per_n = NAN;
#elif defined(UG_BAD_PRODUCTION)
    rows[1].role = UG_ROLE_PRODUCTION;
#endif
    return &plugin;
}
#endif
