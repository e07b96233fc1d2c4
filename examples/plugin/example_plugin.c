/* A worked example of a plug-in (include/ulpgate/plugin.h): two softmax kernels in f32
 * of "your library", registered as rows of ulpgate's registry.  README, "Check your own
 * kernel", walks through it.  Build it standalone with
 *
 *     cc -std=c11 -O2 -shared -fPIC -I<ulpgate>/include -o libug_example.so example_plugin.c -lm
 *
 * and check it with `ulpgate check --plugin ./libug_example.so --kernel all`.
 *
 * The kernels follow the contract of every ulpgate kernel (ulpgate.h): rows x n logits,
 * row-major, f32 in and out; a status, never a crash, on bad arguments; special values as
 * oracle/SPECIAL.md says.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "ulpgate/plugin.h"

/* The argument checks every softmax kernel makes (ulpgate.h, ug_problem). */
static ug_status check_args(const ug_problem *p)
{
    if (p == NULL || p->x == NULL || p->y == NULL)
        return UG_ERR_NULL;
    if (p->rows == 0 || p->n == 0)
        return UG_ERR_EMPTY;
    if (p->reduction != UG_RED_NONE)
        return UG_ERR_REDUCTION;
    if (p->rows > SIZE_MAX / p->n / sizeof(float))
        return UG_ERR_ARG;
    return UG_OK;
}

/* The outputs of a row holding a NaN, +inf entries or only -inf (oracle/SPECIAL.md):
 * NaN row; the +inf entries 1 when there is one, NaN when more, the rest +0; an all -inf
 * row NaN.  Returns 1 when it wrote the row. */
static int special_row(const float *x, float *y, size_t n)
{
    size_t pinf = 0, masked = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) {
            for (size_t j = 0; j < n; j++)
                y[j] = NAN;
            return 1;
        }
        pinf += x[i] == INFINITY;
        masked += x[i] == -INFINITY;
    }
    if (pinf == 0 && masked < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        y[i] = pinf == 0 ? NAN : x[i] != INFINITY ? 0.0f : pinf == 1 ? 1.0f : NAN;
    return 1;
}

/* softmax.example_shifted.f32: contract
 *   computes  exp(x_i - m) / sum_j exp(x_j - m), m the row max, in binary64: x_i - m is
 *             exact in binary64 whenever exp(x_i - m) matters (two floats within 2^29 of
 *             each other's scale); exp, the sum and the quotient each add a few 2^-53 of
 *             relative error, n terms at most n 2^-53.
 *   bound     the binary64 value is within (4 + n) 2^-53 relatively, so the float stored
 *             is within 0.5 + (4 + n) 2^-29 ULP: claimed 1 ULP for any n <= 2^28.
 *   domain    any finite row; outputs in [0, 1], never overflow; below 2^-149 they round
 *             to +0.  Masked (-inf) entries are +0; special rows as special_row. */
static ug_status softmax_shifted_f32(const ug_problem *p)
{
    ug_status st = check_args(p);
    if (st != UG_OK)
        return st;
    const float *x = p->x;
    float *y = p->y;
    for (size_t r = 0; r < p->rows; r++, x += p->n, y += p->n) {
        if (special_row(x, y, p->n))
            continue;
        double m = -INFINITY, s = 0;
        for (size_t i = 0; i < p->n; i++)
            m = x[i] > m ? x[i] : m;
        for (size_t i = 0; i < p->n; i++)
            s += exp((double)x[i] - m);
        for (size_t i = 0; i < p->n; i++)
            y[i] = (float)(exp((double)x[i] - m) / s);
    }
    return UG_OK;
}

/* softmax.example_naive.f32 (canary): contract
 *   computes  expf(x_i) / sum_j expf(x_j) in float, without the shift: the textbook
 *             formula.
 *   breaks    expf overflows to inf once x > 0x1.62e42ep+6 ~= 88.72, giving inf/inf = NaN
 *             where the exact result is finite; underflows to 0/0 for rows below ~ -103;
 *             the float sum adds up to n/2 ULP of rounding error.  Kept as a canary: the
 *             harness must catch it. */
static ug_status softmax_naive_f32(const ug_problem *p)
{
    ug_status st = check_args(p);
    if (st != UG_OK)
        return st;
    const float *x = p->x;
    float *y = p->y;
    for (size_t r = 0; r < p->rows; r++, x += p->n, y += p->n) {
        float s = 0;
        for (size_t i = 0; i < p->n; i++)
            s += expf(x[i]);
        for (size_t i = 0; i < p->n; i++)
            y[i] = expf(x[i]) / s;
    }
    return UG_OK;
}

/* The rows: the registry's shape (registry.h), names op.algorithm.dtype[.isa] with the
 * library's name in the algorithm so that no name can clash with ulpgate's own. */
static const ug_plugin_row rows[] = {
    {.name = "softmax.example_shifted.f32", .op = UG_OP_SOFTMAX, .dtype = UG_F32, .algorithm = "example_shifted",
     .isa = "scalar", .fn = softmax_shifted_f32, .bound = {1, 0, 0}, .role = UG_ROLE_EXTERNAL,
     .desc = "example plug-in: shifted by the row max, exp and sum in binary64, one rounding"},
    {.name = "softmax.example_naive.f32", .op = UG_OP_SOFTMAX, .dtype = UG_F32, .algorithm = "example_naive",
     .isa = "scalar", .fn = softmax_naive_f32, .bound = {1, 0, 0}, .role = UG_ROLE_CANARY,
     .desc = "example plug-in (canary): expf(x_i) / sum expf(x_j) in float, no shift"},
};

static const ug_plugin plugin = UG_PLUGIN_DESCRIPTOR("ulpgate example plug-in 1.0", rows);

const ug_plugin *ug_plugin_init(uint32_t host_abi_version)
{
    return host_abi_version == UG_PLUGIN_ABI_VERSION ? &plugin : NULL;
}
