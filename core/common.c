/* Names, status messages, argument validation and the loads and stores that every kernel
 * shares. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "ulpgate/registry.h"
#include "internal.h"

static _Thread_local char last_error[256];

static const char *const dtype_names[UG_DTYPE_COUNT] = {"f32", "f64", "bf16"};
static const char *const op_names[UG_OP_COUNT] = {
    "softmax", "log_softmax", "logsumexp", "xent", "xent_dense", "xent_grad", "bce_logits"};
static const char *const red_names[3] = {"none", "sum", "mean"};

const char *ug_dtype_name(ug_dtype dt) { return (unsigned)dt < UG_DTYPE_COUNT ? dtype_names[dt] : "?"; }
const char *ug_op_name(ug_op op) { return (unsigned)op < UG_OP_COUNT ? op_names[op] : "?"; }
const char *ug_reduction_name(ug_reduction r) { return (unsigned)r < 3 ? red_names[r] : "?"; }

static int index_of(const char *const *names, int count, const char *s)
{
    if (s == NULL)
        return -1;
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int ug_dtype_from_name(const char *s, ug_dtype *dt)
{
    int i = index_of(dtype_names, UG_DTYPE_COUNT, s);
    if (i >= 0)
        *dt = (ug_dtype)i;
    return i >= 0 ? 0 : -1;
}

int ug_op_from_name(const char *s, ug_op *op)
{
    int i = index_of(op_names, UG_OP_COUNT, s);
    if (i >= 0)
        *op = (ug_op)i;
    return i >= 0 ? 0 : -1;
}

int ug_reduction_from_name(const char *s, ug_reduction *r)
{
    int i = index_of(red_names, 3, s);
    if (i >= 0)
        *r = (ug_reduction)i;
    return i >= 0 ? 0 : -1;
}

int ug_op_has_reduction(ug_op op)
{
    return op == UG_OP_XENT || op == UG_OP_XENT_DENSE || op == UG_OP_BCE_LOGITS;
}

size_t ug_dtype_size(ug_dtype dt)
{
    switch (dt) {
    case UG_F32: return sizeof(float);
    case UG_F64: return sizeof(double);
    case UG_BF16: return sizeof(ug_bf16);
    default: return 0;
    }
}

size_t ug_output_count(ug_op op, size_t rows, size_t n, ug_reduction red)
{
    switch (op) {
    case UG_OP_SOFTMAX:
    case UG_OP_LOG_SOFTMAX:
    case UG_OP_XENT_GRAD: return rows * n;
    case UG_OP_LOGSUMEXP: return rows;
    case UG_OP_XENT:
    case UG_OP_XENT_DENSE: return red == UG_RED_NONE ? rows : 1;
    case UG_OP_BCE_LOGITS: return red == UG_RED_NONE ? rows * n : 1;
    default: return 0;
    }
}

const char *ug_status_str(ug_status s)
{
    switch (s) {
    case UG_OK: return "ok";
    case UG_ERR_NULL: return "a required pointer is NULL";
    case UG_ERR_EMPTY: return "empty input (n = 0 or rows = 0)";
    case UG_ERR_TARGET: return "target index out of range";
    case UG_ERR_LABEL: return "label or probability outside [0, 1]";
    case UG_ERR_PROB_SUM: return "probability row does not sum to 1";
    case UG_ERR_REDUCTION: return "invalid reduction for this op";
    case UG_ERR_ARG: return "invalid argument";
    case UG_ERR_NOMEM: return "out of memory";
    case UG_ERR_LIMIT: return "internal limit reached";
    }
    return "unknown status";
}

const char *ug_last_error(void) { return last_error; }

ug_status ug__fail(ug_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

double ug_prob_sum_tolerance(ug_dtype dt, size_t n)
{
    double u = dt == UG_F32 ? 0x1p-24 : dt == UG_F64 ? 0x1p-53 : 0x1p-8;
    double tol = (double)n * u;
    if (dt == UG_F64 && tol < 0x1p-20)
        tol = 0x1p-20;
    return tol;
}

double ug_load(ug_dtype dt, const void *a, size_t i)
{
    switch (dt) {
    case UG_F32: return ((const float *)a)[i];
    case UG_F64: return ((const double *)a)[i];
    case UG_BF16: return ug_bf16_to_f32(((const ug_bf16 *)a)[i]);
    default: return NAN;
    }
}

void ug_store(ug_dtype dt, void *a, size_t i, double v)
{
    switch (dt) {
    case UG_F32: ((float *)a)[i] = (float)v; break;
    case UG_F64: ((double *)a)[i] = v; break;
    case UG_BF16: ((ug_bf16 *)a)[i] = ug_bf16_from_f64(v); break;
    default: break;
    }
}

/* The index of the first of x[0..count) outside [0, 1] (NaN is outside, -0 inside), or
 * count.  Blocks of UG__UNIT_BLOCK are tested without a branch per element, on x86-64 by
 * SSE2 compares (ordered: false for NaN) ANDed over the block (gcc does not vectorise the
 * scalar form: the compares may trap); then the failing block, or the tail, one element
 * at a time.  The bce rows spent a sixth of their time in the loop of ug_load calls this
 * replaces.  IN(v): v is in [0, 1]. */
#define UG__UNIT_BLOCK 256
#define UG__IN_UNIT(v) ((v) >= 0 && (v) <= 1)
/* bf16 by its bits: +0 to 1.0 (0x3f80) and -0 (0x8000); NaN, negatives and > 1 are not */
#define UG__IN_UNIT_BF16(v) ((v).bits <= 0x3f80u || (v).bits == 0x8000u)
#define UG__FIRST_OUTSIDE(name, T, IN, BLOCK_OK)                         \
    static size_t name(const T *x, size_t count)                         \
    {                                                                    \
        size_t i = 0;                                                    \
        for (; i + UG__UNIT_BLOCK <= count; i += UG__UNIT_BLOCK)         \
            if (!BLOCK_OK(x + i))                                        \
                break;                                                   \
        for (; i < count; i++)                                           \
            if (!IN(x[i]))                                               \
                return i;                                                \
        return count;                                                    \
    }
#ifdef __SSE2__
/* f64 (SFX pd, 2 lanes) and f32 (ps, 4 lanes): 0 <= v and v <= 1 in every lane */
#define UG__BLOCK_OK_SSE2(name, T, V, SFX, LANES)                                           \
    static int name(const T *x)                                                             \
    {                                                                                       \
        const V zero = _mm_setzero_##SFX(), one = _mm_set1_##SFX(1);                        \
        V ok = _mm_castsi128_##SFX(_mm_set1_epi32(-1));                                     \
        for (size_t j = 0; j < UG__UNIT_BLOCK; j += LANES) {                                \
            V v = _mm_loadu_##SFX(x + j);                                                   \
            ok = _mm_and_##SFX(ok, _mm_and_##SFX(_mm_cmpge_##SFX(v, zero), _mm_cmple_##SFX(v, one))); \
        }                                                                                   \
        return _mm_movemask_##SFX(ok) == (1 << LANES) - 1;                                  \
    }
UG__BLOCK_OK_SSE2(block_ok_f64, double, __m128d, pd, 2)
UG__BLOCK_OK_SSE2(block_ok_f32, float, __m128, ps, 4)
#undef UG__BLOCK_OK_SSE2
/* bits as signed 16-bit integers: in [0, 0x3f80] (non-negative and at most 1.0), or -0 */
static int block_ok_bf16(const ug_bf16 *x)
{
    const __m128i lo = _mm_set1_epi16(-1), hi = _mm_set1_epi16(0x3f81), mzero = _mm_set1_epi16((short)0x8000);
    __m128i ok = _mm_set1_epi32(-1);
    for (size_t j = 0; j < UG__UNIT_BLOCK; j += 8) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(x + j));
        __m128i in = _mm_and_si128(_mm_cmpgt_epi16(v, lo), _mm_cmpgt_epi16(hi, v));
        ok = _mm_and_si128(ok, _mm_or_si128(in, _mm_cmpeq_epi16(v, mzero)));
    }
    return _mm_movemask_epi8(ok) == 0xffff;
}
#else
#define UG__BLOCK_OK_SCALAR(name, T, IN)            \
    static int name(const T *x)                     \
    {                                               \
        int ok = 1;                                 \
        for (size_t j = 0; j < UG__UNIT_BLOCK; j++) \
            ok &= IN(x[j]);                         \
        return ok;                                  \
    }
UG__BLOCK_OK_SCALAR(block_ok_f64, double, UG__IN_UNIT)
UG__BLOCK_OK_SCALAR(block_ok_f32, float, UG__IN_UNIT)
UG__BLOCK_OK_SCALAR(block_ok_bf16, ug_bf16, UG__IN_UNIT_BF16)
#undef UG__BLOCK_OK_SCALAR
#endif
UG__FIRST_OUTSIDE(first_outside_f64, double, UG__IN_UNIT, block_ok_f64)
UG__FIRST_OUTSIDE(first_outside_f32, float, UG__IN_UNIT, block_ok_f32)
UG__FIRST_OUTSIDE(first_outside_bf16, ug_bf16, UG__IN_UNIT_BF16, block_ok_bf16)
#undef UG__FIRST_OUTSIDE

static ug_status check_unit_interval(const ug_problem *p, ug_dtype dt, const char *what)
{
    size_t count = p->rows * p->n, k; /* the caller checked that rows * n does not overflow */
    switch (dt) {
    case UG_F64: k = first_outside_f64(p->aux, count); break;
    case UG_F32: k = first_outside_f32(p->aux, count); break;
    case UG_BF16: k = first_outside_bf16(p->aux, count); break;
    default: return UG_OK;
    }
    if (k == count)
        return UG_OK;
    return ug__fail(UG_ERR_LABEL, "row %zu, element %zu: %s %a outside [0, 1]", k / p->n, k % p->n, what,
                    ug__load(dt, p->aux, k));
}

static ug_status check_prob_rows(const ug_problem *p, ug_dtype dt)
{
    ug_status s = check_unit_interval(p, dt, "probability");
    if (s != UG_OK)
        return s;
    double tol = ug_prob_sum_tolerance(dt, p->n);
    for (size_t r = 0; r < p->rows; r++) {
        ug__nsum acc = {0, 0};
        for (size_t i = 0; i < p->n; i++)
            ug__nsum_add(&acc, ug__load(dt, p->aux, r * p->n + i));
        double sum = ug__nsum_value(&acc);
        if (!(fabs(sum - 1.0) <= tol))
            return ug__fail(UG_ERR_PROB_SUM, "row %zu: probabilities sum to %.17g, not 1 within %.3g", r, sum, tol);
    }
    return UG_OK;
}

ug_status ug__validate(const ug_problem *p, ug_op op, ug_dtype dt)
{
    if (p == NULL)
        return ug__fail(UG_ERR_NULL, "problem is NULL");
    if ((unsigned)op >= UG_OP_COUNT || (unsigned)dt >= UG_DTYPE_COUNT)
        return ug__fail(UG_ERR_ARG, "unknown op or dtype");
    if (p->rows == 0 || p->n == 0)
        return ug__fail(UG_ERR_EMPTY, "rows = %zu, n = %zu: both must be >= 1", p->rows, p->n);
    if (p->n > SIZE_MAX / p->rows / 8)
        return ug__fail(UG_ERR_ARG, "rows x n = %zu x %zu is too large", p->rows, p->n);
    if (p->x == NULL || p->y == NULL)
        return ug__fail(UG_ERR_NULL, "%s is NULL", p->x == NULL ? "x" : "y");
    if ((unsigned)p->reduction > UG_RED_MEAN)
        return ug__fail(UG_ERR_REDUCTION, "reduction %d is not none, sum or mean", (int)p->reduction);
    if (!ug_op_has_reduction(op) && p->reduction != UG_RED_NONE)
        return ug__fail(UG_ERR_REDUCTION, "%s takes no reduction (got %s)", ug_op_name(op), ug_reduction_name(p->reduction));

    int sparse = op == UG_OP_XENT || (op == UG_OP_XENT_GRAD && p->target != NULL);
    if (sparse) {
        if (p->target == NULL)
            return ug__fail(UG_ERR_NULL, "target is NULL");
        for (size_t r = 0; r < p->rows; r++)
            if (p->target[r] < 0 || (uint64_t)p->target[r] >= p->n)
                return ug__fail(UG_ERR_TARGET, "row %zu: target %lld outside [0, %zu)", r, (long long)p->target[r], p->n);
        ug__fail(UG_OK, "%s", "");
        return UG_OK;
    }
    ug_status s = UG_OK;
    if (op == UG_OP_XENT_DENSE || op == UG_OP_XENT_GRAD) {
        if (p->aux == NULL)
            return ug__fail(UG_ERR_NULL, op == UG_OP_XENT_GRAD ? "target and probabilities are both NULL" : "probabilities are NULL");
        s = check_prob_rows(p, dt);
    } else if (op == UG_OP_BCE_LOGITS) {
        if (p->aux == NULL)
            return ug__fail(UG_ERR_NULL, "labels are NULL");
        s = check_unit_interval(p, dt, "label");
    }
    if (s == UG_OK)
        ug__fail(UG_OK, "%s", "");
    return s;
}

void ug__reduce_store(const ug_problem *p, ug_op op, ug_dtype dt, const double *loss, size_t count)
{
    ug__reduce_store_quarters(p, op, dt, loss, NULL, count);
}

/* Whether the true (unoverflowed) losses are all finite although their plain sum, or one
 * of them, overflowed binary64: then the reduction is done at a scale of 2^-64. */
static int needs_scaling(const double *loss, const double *quarter, size_t count, double plain)
{
    if (!isinf(plain))
        return 0;
    for (size_t i = 0; i < count; i++)
        if (isnan(loss[i]) || (isinf(loss[i]) && !(quarter != NULL && isfinite(quarter[i]))))
            return 0;
    return 1;
}

void ug__reduce_store_quarters(const ug_problem *p, ug_op op, ug_dtype dt, const double *loss,
                               const double *quarter, size_t count)
{
    if (p->reduction == UG_RED_NONE) {
        for (size_t i = 0; i < count; i++)
            ug__store(dt, p->y, i, loss[i]);
        return;
    }
    /* Losses are >= 0.  A NaN or a truly infinite loss makes the result NaN or +inf (IEEE).
     * Finite losses whose sum overflows binary64 (or a loss that overflowed while its
     * quarter did not) may still have a finite mean: then every loss is summed scaled by
     * 2^-64 (a quarter by 2^-62), exact for every loss >= 2^-958 (smaller ones are below
     * an ulp of a sum that large), and scaled back after the division. */
    double plain = 0;
    for (size_t i = 0; i < count; i++)
        plain += loss[i];
    int scaled = needs_scaling(loss, quarter, count, plain);
    ug__nsum acc = {0, 0};
    for (size_t i = 0; i < count; i++) {
        double v = loss[i];
        if (scaled)
            v = isinf(v) ? quarter[i] * 0x1p-62 : v * 0x1p-64;
        ug__nsum_add(&acc, v);
    }
    double sum = isfinite(plain) || scaled ? ug__nsum_value(&acc) : plain;
    if (p->reduction == UG_RED_MEAN)
        sum /= (double)count; /* one more rounding (ERROR-ANALYSIS.md §4) */
    if (scaled)
        sum *= 0x1p64;
    ug__store(dt, p->y, 0, sum);
    ug__threshold_settle(p, op, dt, count, sum); /* at the overflow threshold: exactly */
}

ug_status ug_run(ug_op op, ug_dtype dt, const ug_problem *p)
{
    const ug_kernel *k = ug_kernel_production(op, dt);
    if (k == NULL)
        return ug__fail(UG_ERR_ARG, "no production kernel for %s %s", ug_op_name(op), ug_dtype_name(dt));
    return k->fn(p);
}
