/* Error-guided feedback through libFuzzer's extra counters (feedback.h). */
#include <math.h>

#include "feedback.h"
#include "oracle.h"

enum {
    UG_FB_KERNELS = 256,      /* registry indices, modulo this                      */
    UG_FB_PER_KERNEL = 72,
    UG_FB_ULP = 0,            /* [0, 48): log2 ULP error, half-octaves              */
    UG_FB_RATIO = 48,         /* [48, 64): ULP error / bound, quarter-octaves        */
    UG_FB_CLASS = 64,         /* [64, 68): violation classes 1..4; 68: kernel error  */
    UG_FB_KERROR = 68,
    UG_FB_QUANTITIES = 6,
    UG_FB_PER_QUANTITY = 128, /* 2 sides x 64 magnitudes                            */
    UG_FB_THRESH_BASE = UG_FB_KERNELS * UG_FB_PER_KERNEL,
    UG_FB_OUT_BASE = UG_FB_THRESH_BASE + UG_OP_COUNT * UG_DTYPE_COUNT * UG_FB_QUANTITIES * UG_FB_PER_QUANTITY,
    UG_FB_PER_OUT = 2 * 128,  /* o0: 2 sides x 64; o1: 128 binades                 */
    UG_FB_TOTAL = UG_FB_OUT_BASE + UG_OP_COUNT * UG_DTYPE_COUNT * UG_FB_PER_OUT
};

/* The one array libFuzzer reads (see feedback.h).  `used`: nothing in the program reads
 * it, the linker must keep it. */
__attribute__((used, section("__libfuzzer_extra_counters"))) static unsigned char ug_fuzz_counters[UG_FB_TOTAL];

static void hit(size_t i)
{
    if (i < UG_FB_TOTAL && ug_fuzz_counters[i] < 255)
        ug_fuzz_counters[i]++;
}

size_t ug_fuzz_counters_set(void)
{
    size_t count = 0;
    for (size_t i = 0; i < UG_FB_TOTAL; i++)
        count += ug_fuzz_counters[i] != 0;
    return count;
}

/* floor(steps * log2 v) + bias, clamped to [0, top]; v <= 0 gives 0. */
static size_t log_bucket(double v, double steps, int bias, int top)
{
    if (!(v > 0))
        return 0;
    double b = floor(steps * log2(v)) + bias;
    return b < 0 ? 0 : b > top ? (size_t)top : (size_t)b;
}

/* ---------------------------------------------------------------- error */

ug_fuzz_measure ug_fuzz_measure_judge(const ug_judge *j, const ug_expect *e, size_t n)
{
    ug_fuzz_measure m = {0, 0, 0, j->kernel_errors > 0};
    for (int c = 1; c < UG_CMP_CLASS_COUNT; c++)
        if (j->cls[c] > 0)
            m.classes |= 1u << c;
    /* j->errs holds one error per output, in output order, when the kernel ran cleanly */
    for (size_t i = 0; !m.kernel_error && i < j->nerrs && i < e->count; i++) {
        double ulp = j->errs[i];
        if (!isfinite(ulp))
            continue;
        double bound = ug_bound_at(j->k, n, e->exact[i].kappa);
        m.max_ulp = ulp > m.max_ulp ? ulp : m.max_ulp;
        if (bound > 0 && ulp / bound > m.max_ratio)
            m.max_ratio = ulp / bound;
    }
    return m;
}

void ug_fuzz_feed_error(size_t ki, const ug_fuzz_measure *m)
{
    size_t base = (ki % UG_FB_KERNELS) * UG_FB_PER_KERNEL;
    hit(base + UG_FB_ULP + log_bucket(m->max_ulp, 2, 8, 47));
    hit(base + UG_FB_RATIO + log_bucket(m->max_ratio, 4, 8, 15));
    for (int c = 1; c < UG_CMP_CLASS_COUNT; c++)
        if (m->classes & (1u << c))
            hit(base + UG_FB_CLASS + (size_t)c - 1);
    if (m->kernel_error)
        hit(base + UG_FB_KERROR);
}

/* ---------------------------------------------------------------- thresholds */

/* The finite range of one row and a binary64 logsumexp of its finite entries. */
typedef struct row_range {
    size_t finite;
    double lo, hi, lse;
} row_range;

static row_range range_of(const ug_batch *b, size_t r)
{
    row_range g = {0, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < b->n; i++) {
        double v = ug_batch_get(b->dtype, b->x, r * b->n + i);
        if (!isfinite(v))
            continue;
        g.finite++;
        g.lo = v < g.lo ? v : g.lo;
        g.hi = v > g.hi ? v : g.hi;
    }
    if (g.finite == 0)
        return g;
    double s = 0;
    for (size_t i = 0; i < b->n; i++) {
        double v = ug_batch_get(b->dtype, b->x, r * b->n + i);
        s += isfinite(v) ? exp(v - g.hi) : 0;
    }
    g.lse = g.hi + log(s);
    return g;
}

static void hit_distance(size_t base, size_t q, double d)
{
    if (isnan(d))
        return;
    size_t side = d >= 0, mag = log_bucket(fabs(d), 1, 48, 63);
    hit(base + q * UG_FB_PER_QUANTITY + side * 64 + mag);
}

void ug_fuzz_feed_thresholds(const ug_batch *b)
{
    double big = ug_dtype_max(b->dtype);
    double t_over = log(big), t_sub = log(ug_dtype_min_subnormal(b->dtype));
    size_t cell = (size_t)b->op * UG_DTYPE_COUNT + (size_t)b->dtype;
    size_t base = UG_FB_THRESH_BASE + cell * UG_FB_QUANTITIES * UG_FB_PER_QUANTITY;
    for (size_t r = 0; r < b->rows; r++) {
        row_range g = range_of(b, r);
        if (g.finite == 0)
            continue;
        hit_distance(base, 0, g.hi - t_over);
        hit_distance(base, 1, g.lse - t_over);
        hit_distance(base, 2, g.lo - t_sub);
        hit_distance(base, 3, (g.lo - g.hi) - t_sub);
        hit_distance(base, 4, -g.lo - t_over);
        hit_distance(base, 5, (g.hi / big - g.lo / big) - 1);
    }
}

/* ---------------------------------------------------------------- outputs */

static long dtype_emax(ug_dtype dt) { return dt == UG_F64 ? 1023 : 127; }

/* o0's ratio |v| / T needs the mantissa only within 2^80 of T: elsewhere it is 0 or inf. */
enum { UG_FB_RATIO_SPAN = 80 };

/* o0 and o1 of one nonzero finite exact value v = m 2^e, m = +-[1/2, 1) (feedback.h). */
static void hit_output(size_t base, ug_dtype dt, double m, long e)
{
    int p = ug_dtype_precision(dt);
    long emin_sub = ug_dtype_emin(dt) - p + 1;
    m = fabs(m); /* |v| = m 2^e, m in [1/2, 1) */
    long k = (long)e - dtype_emax(dt);
    double ratio = k < -UG_FB_RATIO_SPAN ? 0 : k > UG_FB_RATIO_SPAN ? INFINITY : ldexp(m, (int)k) / (2 - ldexp(1, -p));
    hit_distance(base, 0, ratio - 1);
    long binade = (long)e - 1 - emin_sub + 64; /* log2 |v| - log2(smallest subnormal) + 64 */
    hit(base + 128 + (size_t)(binade < 0 ? 0 : binade > 127 ? 127 : binade));
}

/* The exponent e of a lazy output's value (ug_exact: |v - (vhi + vlo)| <= verr, v finite
 * and nonzero) as mpfr_get_d_2exp gives it, m 2^e with m in [1/2, 1), when the enclosure
 * decides it: 1 and *e set, else 0.  mpfr_get_d_2exp reads ug_exact.value, v rounded to
 * UG_ORACLE_PREC = 128 bits (within 2^(ilogb(vhi) - 126) of v: fast.c's lazy_radius),
 * and rounds that to 53 bits; both roundings stay in the binade [2^eh, 2^(eh+1)) of vhi
 * when v lies in it more than twice the radius g away from its ends (h - 2^eh and
 * 2^(eh+1) - h are exact, Sterbenz; the factor 1 + 2^-50 covers the rounding of g).  A
 * vhi that is a power of two 2^eh (softmax of a row of equal values: 1/n) has both
 * roundings at 2^eh when g <= 2^(eh-56): the doubles next to 2^eh are 2^(eh-53) below and
 * 2^(eh-52) above it, so 2^eh is the nearest to any value within 2^(eh-56) of it.  The
 * fast path's enclosure decides the dtype's rounding, but 53 bits only for about a third
 * of its outputs (measured on the rowops corpus): ug_expect_value_2exp computes the row in
 * MPFR for the others, which cost more than the rest of a fuzz run at n = 1024. */
static int lazy_exponent(const ug_exact *x, long *e)
{
    double h = fabs(x->vhi);
    if (!(h >= 0x1p-900 && h <= 0x1p900)) /* the radius's terms stay normal binary64 */
        return 0;
    int eh = ilogb(h);
    double g = (fabs(x->vlo) + x->verr + ldexp(1.0, eh - 126)) * (1 + 0x1p-50);
    int inside = h - ldexp(1.0, eh) > 2 * g && ldexp(1.0, eh + 1) - h > 2 * g;
    if (!inside && !(h == ldexp(1.0, eh) && g <= ldexp(1.0, eh - 56)))
        return 0;
    *e = eh + 1;
    return 1;
}

void ug_fuzz_feed_outputs(const ug_batch *b, const ug_expect *e)
{
    size_t cell = (size_t)b->op * UG_DTYPE_COUNT + (size_t)b->dtype;
    size_t base = UG_FB_OUT_BASE + cell * UG_FB_PER_OUT;
    for (size_t i = 0; e->exact != NULL && i < e->count; i++) {
        double m;
        long ex, k;
        /* a lazy value far from the overflow threshold: o0 and o1 need only its exponent */
        if (e->exact[i].lazy && lazy_exponent(&e->exact[i], &ex) &&
            ((k = ex - dtype_emax(b->dtype)) < -UG_FB_RATIO_SPAN || k > UG_FB_RATIO_SPAN))
            hit_output(base, b->dtype, 0.5, ex);
        else if (ug_expect_value_2exp(e, i, &m, &ex)) /* the value may be lazy (oracle.h) */
            hit_output(base, b->dtype, m, ex);
    }
}
