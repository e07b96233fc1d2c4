/* Input families (families.h): the table, the generic generation engine, and one fill
 * function per family.
 *
 * THE FAMILIES (in table order; defaults rows x n, "+k" = k extra rows of length 1)
 *
 * The defaults are sized so that `ulpgate check --kernel all` (70 kernels x 14 families,
 * every output judged) takes about 15 s on one core of a 2-core machine: the oracle costs
 * microseconds per output and is shared by every kernel of an op and dtype, the
 * comparisons about a microsecond each.  equal_large keeps 2 rows of 10^5.
 *
 * normal1, normal10, normal100        64 x 64
 *     x ~ N(0, sigma^2), sigma = 1, 10, 100.  Ordinary logits at three scales: at sigma = 1
 *     every output is of moderate size; at 100 most softmax outputs underflow and the
 *     shift x - max is a large number whose rounding (in a kernel that rounds it) is a
 *     relative error of every output: the first place a non-exact shift shows.
 * uniform_wide                         64 x 64
 *     x ~ U(-s, s) with a per-row spread s = smax^U, smax = 1e4 (f32, bf16) or 1e6 (f64):
 *     spreads from 1 to the largest a trained model's logits reach and beyond; log_softmax
 *     and xent outputs reach 1e4..1e6, where f32 arithmetic in the shift loses digits.
 * ascending                            16 x 256
 *     N(0, 10^2) sorted ascending: every entry is a new running max, so the online
 *     (single-pass) algorithms rescale their sum n - 1 times (their worst case,
 *     ERROR-ANALYSIS.md section 1).
 * offset_huge                          64 x 32
 *     a large common offset c plus noise, per row c in {2^(p-2) (where ulp(c) = 1/2, with
 *     absolute noise 4 N or 64 N, so softmax is not trivial), 1e30, 1e300 (f64) or 2^100,
 *     0.996 x the largest finite} with either sign, and relative noise of 4 ulp or 2^-10.
 *     Rows stay finite (clamped to the largest finite).  Probes the exact shift at huge
 *     magnitudes, ties of the max (outputs 1/k), lse = max + log k near the overflow
 *     threshold of the format, and exp(x) overflow in unshifted kernels.
 * dominant                             96 x 64
 *     one logit x_t = d, d ~ U(1, dmax), dmax = 110 (f32, bf16) or 760 (f64), the rest
 *     N(0, 1); every other row shifted by -d (x_t = 0, the rest N(-d, 1)), so that
 *     logsumexp itself is tiny, ~ (n - 1) e^-d.  t is the target (xent, sparse
 *     xent_grad), the one-hot centre of the probability rows and the one label 1 of
 *     bce: tiny losses (down to e^-110 and e^-760, below the subnormals), where
 *     log(softmax) or log(sum) instead of log1p returns 0 and 1 - softmax_t cancels.
 * equal_large                          2 x 100000
 *     every entry of a row equal to c: c = -log n (1 + 2^-10 U) (logsumexp ~ -0.01 U, the
 *     cancellation of ERROR-ANALYSIS.md section 3, condition number ~ 1e3 / U),
 *     c = log(max) - 1 - U (each exp finite, their sum overflows), then N(0, 10^2), 0.
 *     Accumulation over long rows: outputs 1/n, log n; a sum in a narrow format stalls.
 *     Its aux rows are as regular: one bce label per row, and probability rows one-hot,
 *     smoothed, uniform 1/n or on the 1/256 grid (so that a JSON report stays small).
 * masked                               64 x 64
 *     N(0, 3^2) with a per-row fraction U(0.1, 0.9) of entries -inf (masks), never a whole
 *     row; every fourth row has its target on a masked entry (xent +inf, SPECIAL.md rule
 *     5).  Probability rows put no mass on masked entries except there.
 * special                              60 x 8 +12
 *     NaN, +inf (one, two, all), all -inf, +inf with -inf, +-0 rows, -inf but one entry;
 *     targets on a +inf entry or a masked one; then 12 rows of n = 1: 0, -0, 1, -1, -inf,
 *     +inf, NaN, +-max, the smallest subnormal, log(max), -1e30.  Every rule of
 *     oracle/SPECIAL.md, including the signs of zero outputs.
 * tiny                                 48 x 32 +4
 *     subnormal multiples k 2^-149 (f32; 2^-133 bf16, 2^-1074 f64), values around the
 *     smallest normal, 2^-60 N, and +-0 with one 2^-20 entry; then 4 rows of n = 1 (lse of
 *     one subnormal is that subnormal).  Softmax ~ 1/n, log terms ~ log n, bce ~ log 2 +
 *     x(1/2 - y): tiny perturbations that a kernel must not lose or flush.
 * overflow_edge                        60 x 16
 *     values near L = log(largest finite) (88.72 f32, 88.72 bf16, 709.78 f64): L + 2 N,
 *     L within 4 ulp, one entry just above L; -L U(1, 1.2) (exp in the subnormals and
 *     below); +-max U(0.5, 1) so that max - min exceeds the largest finite and x - max
 *     overflows in the format; and one +max, one -max entry with the target on -max (xent
 *     overflows to +inf, SPECIAL.md rule 10).
 * bf16_ties (f32, bf16 only)           32 x 4
 *     rows of N(0, 2^2) values selected, among up to 2^17 candidates each, so that one
 *     output of the op lands within 2^-17 ULP (bf16) or 2^-12 ULP (f32) of a midpoint
 *     between two neighbours of the format, the inputs where a rounding decided by a
 *     wider intermediate (f32 then bf16: a double rounding) or a sloppy last bit goes
 *     the wrong way.  Closeness is measured on a binary64 approximation of the op (far
 *     more accurate than the thresholds: 2^-40 bf16 ULP, 2^-26 f32 ULP), so the exact
 *     output is near, not at, the midpoint.  f64 is not supported: binary64 cannot
 *     measure a distance to an f64 midpoint.
 * lengths                              96 rows, lengths 1..64
 *     rows of lengths 1, 2, 3 then uniform in 1..n, N(0, 1) and N(0, 10^2) alternately:
 *     n = 1 and short rows, the tails of unrolled loops; one batch per run of equal
 *     lengths.
 *
 * Targets not set by a family are uniform over the row's entries that are not -inf.
 * Probability rows (xent_dense, dense xent_grad) cycle over four kinds, by row: one-hot
 * at the target; label smoothing 0.1; Dirichlet(1) (normalised exponentials); multiples
 * of 1/256 (exact in every dtype).  They are rounded to the dtype and the largest entry
 * is then set to 1 minus the others, so that every row passes ug__validate.  bce labels
 * are 0, 1 or U(0, 1) (rounded), and 1 at the target (a dominant logit is a confident
 * right answer).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "families.h"
#include "oracle.h"
#include "prng.h"

struct ug_famgen {
    const ug_family *f;
    ug_op op;
    ug_dtype dt;
    size_t rows, n;  /* resolved sizes                                          */
    ug_prng xs;      /* logits: (seed, family, dtype)                           */
    ug_prng as;      /* targets, probabilities, labels: (seed, family, dtype, op) */
    ug_prng ss;      /* row lengths: (seed, family)                             */
    size_t *idx;     /* scratch: n_max indices                                  */
    double *tmp;     /* scratch: 2 n_max doubles                                */
};

/* ---------------------------------------------------------------- dtype helpers */

double ug_batch_get(ug_dtype dt, const void *a, size_t i)
{
    switch (dt) {
    case UG_F32: return ((const float *)a)[i];
    case UG_F64: return ((const double *)a)[i];
    case UG_BF16: return ug_bf16_to_f32(((const ug_bf16 *)a)[i]);
    default: return NAN;
    }
}

void ug_batch_put(ug_dtype dt, void *a, size_t i, double v)
{
    switch (dt) {
    case UG_F32: ((float *)a)[i] = (float)v; break;
    case UG_F64: ((double *)a)[i] = v; break;
    case UG_BF16: ((ug_bf16 *)a)[i] = ug_bf16_from_f64(v); break;
    default: break;
    }
}

double ug_dtype_round(ug_dtype dt, double v)
{
    switch (dt) {
    case UG_F32: return (float)v;
    case UG_BF16: return ug_bf16_to_f32(ug_bf16_from_f64(v));
    default: return v;
    }
}

double ug_dtype_max(ug_dtype dt)
{
    return dt == UG_F64 ? 0x1.fffffffffffffp1023 : dt == UG_F32 ? 0x1.fffffep127 : 0x1.fep127;
}

double ug_dtype_min_subnormal(ug_dtype dt) { return dt == UG_F64 ? 0x1p-1074 : dt == UG_F32 ? 0x1p-149 : 0x1p-133; }

static double min_normal(ug_dtype dt) { return dt == UG_F64 ? 0x1p-1022 : 0x1p-126; }

static int is_masked(double v) { return isinf(v) && signbit(v); }

/* ---------------------------------------------------------------- batches */

ug_batch *ug_batch_new(ug_op op, ug_dtype dt, size_t rows, size_t n, int with_target, int with_aux)
{
    size_t es = ug_dtype_size(dt);
    if (es == 0 || rows == 0 || n == 0 || n > SIZE_MAX / rows / es)
        return NULL;
    ug_batch *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    *b = (ug_batch){.op = op, .dtype = dt, .rows = rows, .n = n};
    b->x = calloc(rows * n, es);
    b->target = with_target ? calloc(rows, sizeof *b->target) : NULL;
    b->aux = with_aux ? calloc(rows * n, es) : NULL;
    if (b->x == NULL || (with_target && b->target == NULL) || (with_aux && b->aux == NULL)) {
        ug_batch_free(b);
        return NULL;
    }
    return b;
}

void ug_batch_free(ug_batch *b)
{
    if (b == NULL)
        return;
    free(b->x);
    free(b->target);
    free(b->aux);
    free(b);
}

ug_batch *ug_batch_copy(const ug_batch *b, size_t r0, size_t rows)
{
    if (r0 > b->rows || rows > b->rows - r0)
        return NULL;
    ug_batch *c = ug_batch_new(b->op, b->dtype, rows, b->n, b->target != NULL, b->aux != NULL);
    if (c == NULL)
        return NULL;
    size_t es = ug_dtype_size(b->dtype), off = r0 * b->n * es, bytes = rows * b->n * es;
    memcpy(c->x, (const char *)b->x + off, bytes);
    if (b->aux != NULL)
        memcpy(c->aux, (const char *)b->aux + off, bytes);
    if (b->target != NULL)
        memcpy(c->target, b->target + r0, rows * sizeof *c->target);
    c->first_row = b->first_row + r0;
    return c;
}

int ug_batch_same(const ug_batch *a, const ug_batch *b)
{
    size_t bytes = a->rows * a->n * ug_dtype_size(a->dtype);
    if (a->op != b->op || a->dtype != b->dtype || a->rows != b->rows || a->n != b->n || a->first_row != b->first_row)
        return 0;
    if ((a->target == NULL) != (b->target == NULL) || (a->aux == NULL) != (b->aux == NULL))
        return 0;
    return memcmp(a->x, b->x, bytes) == 0 && (a->aux == NULL || memcmp(a->aux, b->aux, bytes) == 0) &&
           (a->target == NULL || memcmp(a->target, b->target, a->rows * sizeof *a->target) == 0);
}

ug_problem ug_batch_problem(const ug_batch *b, ug_reduction red, void *y)
{
    return (ug_problem){.rows = b->rows, .n = b->n, .x = b->x, .target = b->target, .aux = b->aux,
                        .reduction = red, .y = y};
}

void ug_batch_list_free(ug_batch_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        ug_batch_free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

/* ---------------------------------------------------------------- small draws */

static double normal(ug_famgen *g) { return ug_prng_normal(&g->xs); }
static double uniform_in(ug_famgen *g, double a, double b) { return ug_prng_uniform_in(&g->xs, a, b); }
static size_t below(ug_famgen *g, size_t k) { return (size_t)ug_prng_below(&g->xs, k); }
static double log_max(ug_dtype dt) { return log(ug_dtype_max(dt)); }

static double clamp_finite(ug_dtype dt, double v)
{
    double m = ug_dtype_max(dt);
    return v > m ? m : v < -m ? -m : v;
}

/* ---------------------------------------------------------------- fill functions */

static void fill_normal(ug_famgen *g, ug_famrow *row)
{
    for (size_t i = 0; i < row->n; i++)
        row->x[i] = g->f->param * normal(g);
}

static void fill_uniform_wide(ug_famgen *g, ug_famrow *row)
{
    double smax = g->dt == UG_F64 ? 1e6 : 1e4;
    double s = pow(smax, ug_prng_uniform(&g->xs));
    for (size_t i = 0; i < row->n; i++)
        row->x[i] = uniform_in(g, -s, s);
}

static int cmp_ascending(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void fill_ascending(ug_famgen *g, ug_famrow *row)
{
    for (size_t i = 0; i < row->n; i++)
        row->x[i] = 10 * normal(g);
    qsort(row->x, row->n, sizeof *row->x, cmp_ascending);
}

static void fill_offset_huge(ug_famgen *g, ug_famrow *row)
{
    int p = ug_dtype_precision(g->dt);
    const double offsets[4] = {ldexp(1, p - 2), 1e30, g->dt == UG_F64 ? 1e300 : 0x1p100,
                               ug_dtype_max(g->dt) * (1 - 0x1p-8)};
    size_t k = row->r % 8;
    int wide = (row->r / 8) % 2 == 1;
    double c = offsets[k % 4] * (k >= 4 ? -1 : 1);
    double eta = wide ? 0x1p-10 : ldexp(4, -p);
    for (size_t i = 0; i < row->n; i++) {
        double v = k % 4 == 0 ? c + (wide ? 64 : 4) * normal(g) : c * (1 + eta * normal(g));
        row->x[i] = clamp_finite(g->dt, v);
    }
}

static void fill_dominant(ug_famgen *g, ug_famrow *row)
{
    double dmax = g->dt == UG_F64 ? 760 : 110, d = uniform_in(g, 1, dmax);
    int at_zero = row->r % 2 == 1; /* the dominant logit at 0, the rest N(-d, 1) */
    for (size_t i = 0; i < row->n; i++)
        row->x[i] = normal(g) - (at_zero ? d : 0);
    size_t t = below(g, row->n);
    row->x[t] = at_zero ? 0 : d;
    row->target = (int64_t)t;
}

/* The kinds of probability row; families cycle over the first four by row. */
enum prob_kind { PROB_ONE_HOT, PROB_SMOOTHED, PROB_DIRICHLET, PROB_GRID, PROB_UNIFORM };

static void gen_target(ug_famgen *g, ug_famrow *row);
static void gen_probabilities(ug_famgen *g, ug_famrow *row, enum prob_kind kind);

/* equal_large's aux rows are as regular as its logits: one label per row (0, 1 or
 * U(0, 1)), and probability rows one-hot, smoothed, uniform (1/n) or on the 1/256 grid. */
static void equal_aux(ug_famgen *g, ug_famrow *row)
{
    gen_target(g, row);
    row->aux_done = 1;
    if (g->op == UG_OP_BCE_LOGITS) {
        uint64_t kind = ug_prng_below(&g->as, 3);
        double y = ug_dtype_round(g->dt, kind == 0 ? 0.0 : kind == 1 ? 1.0 : ug_prng_uniform(&g->as));
        for (size_t i = 0; i < row->n; i++)
            row->aux[i] = y;
    } else if (g->op == UG_OP_XENT_DENSE || g->op == UG_OP_XENT_GRAD) {
        gen_probabilities(g, row, row->r % 4 == 2 ? PROB_UNIFORM : (enum prob_kind)(row->r % 4));
    } else {
        row->aux_done = 0;
    }
}

static void fill_equal_large(ug_famgen *g, ug_famrow *row)
{
    double c, u = ug_prng_uniform(&g->xs);
    switch (row->r % 4) {
    case 0: c = -log((double)row->n) * (1 + 0x1p-10 * u); break; /* lse ~ -0.01 u: kappa ~ 1e3 / u */
    case 1: c = log_max(g->dt) - 1 - u; break;
    case 2: c = 10 * normal(g); break;
    default: c = 0; break;
    }
    for (size_t i = 0; i < row->n; i++)
        row->x[i] = c;
    equal_aux(g, row);
}

/* The k-th index (k < count) of row whose entry is (masked) or is not (!masked) -inf. */
static size_t nth_index(const ug_famrow *row, int masked, size_t k)
{
    for (size_t i = 0; i < row->n; i++)
        if (is_masked(row->x[i]) == masked && k-- == 0)
            return i;
    return 0;
}

static void fill_masked(ug_famgen *g, ug_famrow *row)
{
    double frac = uniform_in(g, 0.1, 0.9);
    size_t kept = 0;
    for (size_t i = 0; i < row->n; i++) {
        row->x[i] = 3 * normal(g);
        if (ug_prng_uniform(&g->xs) < frac)
            row->x[i] = -INFINITY;
        else
            kept++;
    }
    if (kept == 0) {
        row->x[below(g, row->n)] = 3 * normal(g);
        kept = 1;
    }
    size_t masked = row->n - kept;
    if (row->r % 4 == 3 && masked > 0)
        row->target = (int64_t)nth_index(row, 1, below(g, masked));
}

/* One value of n = 1 rows (special): index k of a fixed list. */
static double special_single(ug_dtype dt, size_t k)
{
    const double v[12] = {0.0, -0.0, 1.0, -1.0, -INFINITY, INFINITY, NAN, ug_dtype_max(dt), -ug_dtype_max(dt),
                          ug_dtype_min_subnormal(dt), log_max(dt), -1e30};
    return v[k % 12];
}

static void set_all(ug_famrow *row, double v)
{
    for (size_t i = 0; i < row->n; i++)
        row->x[i] = v;
}

/* Pattern r % 10 of the special family on a row of normals; a != b are two positions
 * (equal when n = 1). */
static void special_pattern(ug_famgen *g, ug_famrow *row, size_t a, size_t b)
{
    size_t n = row->n, c = (b + 1) % n;
    double *x = row->x;
    switch (row->r % 10) {
    case 0: x[a] = NAN; break;                             /* NaN: the whole row NaN    */
    case 1:                                                /* one +inf                  */
        x[a] = INFINITY;
        if ((row->r / 10) % 2 == 0)
            row->target = (int64_t)a;
        break;
    case 2:                                                /* two +inf: no limit (NaN)  */
        x[a] = INFINITY;
        x[b] = INFINITY;
        row->target = (int64_t)b;
        break;
    case 3: set_all(row, -INFINITY); break;                /* all masked                */
    case 4:                                                /* +inf, target masked       */
        x[a] = INFINITY;
        x[b] = -INFINITY;
        row->target = (int64_t)b;
        break;
    case 5:                                                /* only zeros, both signs    */
        for (size_t i = 0; i < n; i++)
            x[i] = below(g, 2) ? 0.0 : -0.0;
        break;
    case 6: set_all(row, INFINITY); break;                 /* all +inf                  */
    case 7:                                                /* NaN with +inf and -inf    */
        x[a] = NAN;
        x[b] = INFINITY;
        x[c] = -INFINITY;
        break;
    case 8:                                                /* one finite, rest masked   */
        set_all(row, -INFINITY);
        x[a] = normal(g);
        break;
    default:                                               /* -0, +0 and a mask         */
        x[a] = -0.0;
        x[b] = 0.0;
        x[c] = -INFINITY;
        break;
    }
}

static void fill_special(ug_famgen *g, ug_famrow *row)
{
    if (row->r >= g->rows) {
        row->x[0] = special_single(g->dt, row->r - g->rows);
        return;
    }
    size_t n = row->n, a = below(g, n), b = (a + 1 + below(g, n > 1 ? n - 1 : 1)) % n;
    for (size_t i = 0; i < n; i++)
        row->x[i] = normal(g);
    special_pattern(g, row, a, b);
}

static double tiny_value(ug_famgen *g, size_t pattern)
{
    double sub = ug_dtype_min_subnormal(g->dt);
    switch (pattern % 4) {
    case 0: return sub * ((double)below(g, 17) - 8);
    case 1: return 4 * min_normal(g->dt) * normal(g);
    case 2: return 0x1p-60 * normal(g);
    default: return below(g, 4) == 0 ? sub * (double)below(g, 8) : below(g, 2) ? 0.0 : -0.0;
    }
}

static void fill_tiny(ug_famgen *g, ug_famrow *row)
{
    size_t pattern = row->r >= g->rows ? row->r - g->rows : row->r;
    for (size_t i = 0; i < row->n; i++)
        row->x[i] = tiny_value(g, pattern);
    if (pattern % 4 == 3 && row->r < g->rows)
        row->x[below(g, row->n)] = 0x1p-20 * normal(g);
}

static void fill_overflow_edge(ug_famgen *g, ug_famrow *row)
{
    double L = log_max(g->dt), max = ug_dtype_max(g->dt);
    int p = ug_dtype_precision(g->dt);
    size_t n = row->n, a = below(g, n), b = (a + 1) % n;
    for (size_t i = 0; i < n; i++) {
        switch (row->r % 6) {
        case 0: row->x[i] = L + 2 * normal(g); break;
        case 1: row->x[i] = L * (1 + ldexp((double)below(g, 9) - 4, 1 - p)); break;
        case 3: row->x[i] = -L * uniform_in(g, 1, 1.2); break;
        case 4: row->x[i] = (below(g, 2) ? max : -max) * uniform_in(g, 0.5, 1); break;
        default: row->x[i] = normal(g); break;
        }
    }
    if (row->r % 6 == 2)
        row->x[a] = L + uniform_in(g, 0, 1);
    if (row->r % 6 == 5 && n > 1) {
        row->x[a] = max * uniform_in(g, 0.5, 1);
        row->x[b] = -max * uniform_in(g, 0.5, 1);
        row->target = (int64_t)b;
    }
}

static size_t lengths_row_len(ug_famgen *g, size_t r)
{
    if (r < 3)
        return r + 1 < g->n ? r + 1 : g->n;
    return 1 + (size_t)ug_prng_below(&g->ss, g->n);
}

static void fill_lengths(ug_famgen *g, ug_famrow *row)
{
    double sigma = row->r % 2 ? 10 : 1;
    for (size_t i = 0; i < row->n; i++)
        row->x[i] = sigma * normal(g);
}

static void fill_ties(ug_famgen *g, ug_famrow *row); /* below, after the generic rules */

/* ---------------------------------------------------------------- the table */

#define ALL_DTYPES ((1u << UG_F32) | (1u << UG_F64) | (1u << UG_BF16))
#define NARROW_DTYPES ((1u << UG_F32) | (1u << UG_BF16))

static const ug_family families[] = {
    {"normal1", "x ~ N(0, 1): ordinary logits", 64, 64, 0, ALL_DTYPES, 1, NULL, fill_normal},
    {"normal10", "x ~ N(0, 10^2): most softmax outputs tiny", 64, 64, 0, ALL_DTYPES, 10, NULL, fill_normal},
    {"normal100", "x ~ N(0, 100^2): large shifts x - max, outputs underflow", 64, 64, 0, ALL_DTYPES, 100, NULL,
     fill_normal},
    {"uniform_wide", "x ~ U(-s, s), s up to 1e4 (f32, bf16) / 1e6 (f64): wide spreads", 64, 64, 0, ALL_DTYPES, 0, NULL,
     fill_uniform_wide},
    {"ascending", "N(0, 10^2) sorted ascending: n - 1 rescales of an online sum", 16, 256, 0, ALL_DTYPES, 0, NULL,
     fill_ascending},
    {"offset_huge", "common offset 2^(p-2), 1e30, 1e300/2^100, ~max (both signs) plus noise", 64, 32, 0, ALL_DTYPES, 0,
     NULL, fill_offset_huge},
    {"dominant", "one logit d ~ U(1, 110 | 760) (or 0, the rest at -d) at the target: tiny losses", 96, 64, 0,
     ALL_DTYPES, 0, NULL, fill_dominant},
    {"equal_large", "all-equal rows (c = -log n, log max - 1, ...) at n = 1e5: accumulation", 2, 100000, 0,
     ALL_DTYPES, 0, NULL, fill_equal_large},
    {"masked", "N(0, 3^2) with 10-90% of entries -inf; some targets masked", 64, 64, 0, ALL_DTYPES, 0, NULL,
     fill_masked},
    {"special", "NaN, +-inf, all -inf, +-0 rows, and n = 1 rows of special values", 60, 8, 12, ALL_DTYPES, 0, NULL,
     fill_special},
    {"tiny", "subnormal and tiny logits, +-0; n = 1 subnormal rows", 48, 32, 4, ALL_DTYPES, 0, NULL, fill_tiny},
    {"overflow_edge", "near log(max) (88.72, 709.78), beyond -log(max), +-max spreads", 60, 16, 0, ALL_DTYPES, 0, NULL,
     fill_overflow_edge},
    {"bf16_ties", "outputs within 2^-17 ULP (bf16) / 2^-12 ULP (f32) of a rounding midpoint", 32, 4, 0, NARROW_DTYPES,
     0, NULL, fill_ties},
    {"lengths", "rows of lengths 1..n mixed, N(0, 1) and N(0, 10^2)", 96, 64, 0, ALL_DTYPES, 0, lengths_row_len,
     fill_lengths},
};

size_t ug_family_count(void) { return sizeof families / sizeof families[0]; }

const ug_family *ug_family_at(size_t i) { return i < ug_family_count() ? &families[i] : NULL; }

const ug_family *ug_family_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < ug_family_count(); i++)
        if (strcmp(families[i].name, name) == 0)
            return &families[i];
    return NULL;
}

int ug_family_supports(const ug_family *f, ug_dtype dt)
{
    return (unsigned)dt < UG_DTYPE_COUNT && (f->dtypes & (1u << dt)) != 0;
}

/* ---------------------------------------------------------------- targets and aux rows */

static void gen_target(ug_famgen *g, ug_famrow *row)
{
    if (row->target >= 0 && (size_t)row->target < row->n)
        return;
    size_t open = 0;
    for (size_t i = 0; i < row->n; i++)
        open += !is_masked(row->x[i]);
    uint64_t k = ug_prng_below(&g->as, open > 0 ? open : row->n);
    row->target = (int64_t)(open > 0 ? nth_index(row, 0, k) : k);
}

static void gen_labels(ug_famgen *g, ug_famrow *row)
{
    for (size_t i = 0; i < row->n; i++) {
        uint64_t kind = ug_prng_below(&g->as, 4);
        double y = kind == 0 ? 0.0 : kind == 1 ? 1.0 : ug_prng_uniform(&g->as);
        row->aux[i] = ug_dtype_round(g->dt, y);
    }
    row->aux[row->target] = 1.0;
}

/* Neumaier's compensated sum of v[0..n) except v[skip]. */
static double sum_except(const double *v, size_t n, size_t skip)
{
    double s = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == skip)
            continue;
        double t = s + v[i];
        c += fabs(s) >= fabs(v[i]) ? (s - t) + v[i] : (v[i] - t) + s;
        s = t;
    }
    return s + c;
}

/* Round p to the dtype and make it sum to 1: the largest entry becomes 1 - the others. */
static void fix_probabilities(ug_dtype dt, double *p, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        p[i] = ug_dtype_round(dt, p[i]);
        if (p[i] > p[j])
            j = i;
    }
    double rest = ug_dtype_round(dt, 1 - sum_except(p, n, j));
    p[j] = rest < 0 ? 0 : rest > 1 ? 1 : rest;
}

static int sums_to_one(ug_dtype dt, const double *p, size_t n)
{
    return fabs(sum_except(p, n, n) - 1) <= ug_prob_sum_tolerance(dt, n);
}

/* The entries that may carry probability: those not -inf, and the target. */
static size_t support(const ug_famrow *row, size_t *idx)
{
    size_t m = 0;
    for (size_t i = 0; i < row->n; i++)
        if (!is_masked(row->x[i]) || (int64_t)i == row->target)
            idx[m++] = i;
    return m;
}

static void gen_probabilities(ug_famgen *g, ug_famrow *row, enum prob_kind kind)
{
    double *p = row->aux;
    size_t t = (size_t)row->target, m = support(row, g->idx);
    memset(p, 0, row->n * sizeof *p);
    switch (kind) {
    case PROB_UNIFORM:
        for (size_t k = 0; k < m; k++)
            p[g->idx[k]] = 1 / (double)m;
        break;
    case PROB_ONE_HOT: p[t] = 1; break;
    case PROB_SMOOTHED:
        for (size_t k = 0; k < m; k++)
            p[g->idx[k]] = 0.1 / (double)m;
        p[t] += 0.9;
        break;
    case PROB_DIRICHLET: {
        double total = 0;
        for (size_t k = 0; k < m; k++)
            total += p[g->idx[k]] = -log(1 - ug_prng_uniform(&g->as));
        for (size_t k = 0; k < m; k++)
            p[g->idx[k]] = total > 0 ? p[g->idx[k]] / total : (g->idx[k] == t);
        break;
    }
    case PROB_GRID:
        for (int unit = 0; unit < 256; unit++)
            p[g->idx[ug_prng_below(&g->as, m)]] += 0x1p-8;
        break;
    }
    fix_probabilities(g->dt, p, row->n);
    if (!sums_to_one(g->dt, p, row->n)) { /* never seen; a one-hot row always passes */
        memset(p, 0, row->n * sizeof *p);
        p[t] = 1;
    }
}

static void gen_aux(ug_famgen *g, ug_famrow *row)
{
    switch (g->op) {
    case UG_OP_XENT_DENSE:
    case UG_OP_XENT_GRAD: gen_probabilities(g, row, (enum prob_kind)(row->r % 4)); break;
    case UG_OP_BCE_LOGITS: gen_labels(g, row); break;
    default: memset(row->aux, 0, row->n * sizeof *row->aux); break;
    }
}

static void finish_row(ug_famgen *g, ug_famrow *row)
{
    for (size_t i = 0; i < row->n; i++)
        row->x[i] = ug_dtype_round(g->dt, row->x[i]);
    gen_target(g, row);
    if (!row->aux_done)
        gen_aux(g, row);
}

/* ---------------------------------------------------------------- bf16_ties */

/* A binary64 approximation of the op's outputs on a finite row (relative error a few
 * 2^-53 except where the op cancels); returns the number of outputs. */
static size_t approx_outputs(ug_op op, const ug_famrow *row, double *out)
{
    size_t n = row->n, t = (size_t)row->target;
    double m = row->x[0], s = 0;
    for (size_t i = 1; i < n; i++)
        m = row->x[i] > m ? row->x[i] : m;
    for (size_t i = 0; i < n; i++)
        s += exp(row->x[i] - m);
    double ls = log(s), acc = 0;
    switch (op) {
    case UG_OP_LOGSUMEXP: out[0] = m + ls; return 1;
    case UG_OP_XENT: out[0] = (m - row->x[t]) + ls; return 1;
    case UG_OP_XENT_DENSE:
        for (size_t i = 0; i < n; i++)
            acc += row->aux[i] * ((m - row->x[i]) + ls);
        out[0] = acc;
        return 1;
    default: break;
    }
    for (size_t i = 0; i < n; i++) {
        double x = row->x[i], sm = exp(x - m) / s;
        switch (op) {
        case UG_OP_SOFTMAX: out[i] = sm; break;
        case UG_OP_LOG_SOFTMAX: out[i] = (x - m) - ls; break;
        case UG_OP_XENT_GRAD: out[i] = sm - (i == t); break;
        default: out[i] = (x > 0 ? x : 0) - x * row->aux[i] + log1p(exp(-fabs(x))); break;
        }
    }
    return n;
}

/* Distance, in ULP of dt, from v to the nearest midpoint between two dt values
 * (0.5 for a value of dt itself).  Scaling by powers of 2 and floor are exact. */
static double midpoint_distance(ug_dtype dt, double v)
{
    if (!isfinite(v) || v == 0)
        return 0.5;
    int e;
    frexp(v, &e); /* |v| in [2^(e-1), 2^e) */
    int emin = ug_dtype_emin(dt), p = ug_dtype_precision(dt);
    int ulp_exp = (e - 1 > emin ? e - 1 : emin) - p + 1;
    double q = ldexp(fabs(v), -ulp_exp);
    return fabs((q - floor(q)) - 0.5);
}

static double tie_score(ug_famgen *g, const ug_famrow *row)
{
    double *out = g->tmp, best = 0.5;
    size_t count = approx_outputs(g->op, row, out);
    for (size_t i = 0; i < count; i++) {
        double d = midpoint_distance(g->dt, out[i]);
        best = d < best ? d : best;
    }
    return best;
}

enum { TIES_MAX_TRIES = 1 << 17 };

static void fill_ties(ug_famgen *g, ug_famrow *row)
{
    double eps = g->dt == UG_BF16 ? 0x1p-17 : 0x1p-12, best = INFINITY;
    double *keep = g->tmp + g->n; /* x then aux of the best row, 2 n doubles */
    double keep_aux[64];
    int64_t keep_t = 0;
    for (long tries = 0; tries < TIES_MAX_TRIES && best > eps; tries++) {
        for (size_t i = 0; i < row->n; i++)
            row->x[i] = ug_dtype_round(g->dt, 2 * normal(g));
        row->target = -1;
        gen_target(g, row);
        gen_aux(g, row);
        double d = tie_score(g, row);
        if (d < best) {
            best = d;
            keep_t = row->target;
            memcpy(keep, row->x, row->n * sizeof *keep);
            memcpy(keep_aux, row->aux, row->n * sizeof *keep_aux);
        }
    }
    memcpy(row->x, keep, row->n * sizeof *keep);
    memcpy(row->aux, keep_aux, row->n * sizeof *keep_aux);
    row->target = keep_t;
    row->aux_done = 1;
}

/* ---------------------------------------------------------------- generation */

static int wants_target(ug_op op, int dense) { return op == UG_OP_XENT || (op == UG_OP_XENT_GRAD && !dense); }

static int wants_aux(ug_op op, int dense)
{
    return op == UG_OP_XENT_DENSE || op == UG_OP_BCE_LOGITS || (op == UG_OP_XENT_GRAD && dense);
}

/* All rows of a generation, as doubles. */
typedef struct rowset {
    size_t count;   /* rows                                  */
    size_t *len;    /* length of each row                    */
    size_t *off;    /* offset of each row in x and aux       */
    double *x, *aux;
    int64_t *target;
} rowset;

static void rowset_free(rowset *s)
{
    free(s->len);
    free(s->off);
    free(s->x);
    free(s->aux);
    free(s->target);
}

static ug_status push_batch(ug_batch_list *out, ug_batch *b)
{
    ug_batch **items = b != NULL ? realloc(out->items, (out->count + 1) * sizeof *items) : NULL;
    if (items == NULL) {
        ug_batch_free(b);
        return UG_ERR_NOMEM;
    }
    out->items = items;
    out->items[out->count++] = b;
    return UG_OK;
}

/* Rows [r0, r1) of s (all of one length) as one batch, sparse or dense. */
static ug_status add_batch(const ug_famgen *g, const rowset *s, size_t r0, size_t r1, int dense, ug_batch_list *out)
{
    size_t n = s->len[r0];
    int wt = wants_target(g->op, dense), wa = wants_aux(g->op, dense);
    ug_batch *b = ug_batch_new(g->op, g->dt, r1 - r0, n, wt, wa);
    if (b == NULL)
        return UG_ERR_NOMEM;
    b->first_row = r0;
    for (size_t r = r0; r < r1; r++)
        for (size_t i = 0; i < n; i++) {
            size_t k = (r - r0) * n + i;
            ug_batch_put(g->dt, b->x, k, s->x[s->off[r] + i]);
            if (wa)
                ug_batch_put(g->dt, b->aux, k, s->aux[s->off[r] + i]);
        }
    for (size_t r = r0; wt && r < r1; r++)
        b->target[r - r0] = s->target[r];
    return push_batch(out, b);
}

static ug_status make_batches(const ug_famgen *g, const rowset *s, ug_batch_list *out)
{
    ug_status st = UG_OK;
    for (size_t r0 = 0, r1; st == UG_OK && r0 < s->count; r0 = r1) {
        for (r1 = r0 + 1; r1 < s->count && s->len[r1] == s->len[r0]; r1++)
            ;
        st = add_batch(g, s, r0, r1, 0, out);
        if (st == UG_OK && g->op == UG_OP_XENT_GRAD)
            st = add_batch(g, s, r0, r1, 1, out);
    }
    return st;
}

/* Row lengths and offsets; returns the largest length, 0 when out of memory. */
static size_t plan_rows(ug_famgen *g, rowset *s)
{
    s->count = g->rows + g->f->extra_rows;
    s->len = malloc(s->count * sizeof *s->len);
    s->off = malloc(s->count * sizeof *s->off);
    if (s->len == NULL || s->off == NULL)
        return 0;
    size_t total = 0, nmax = 1;
    for (size_t r = 0; r < s->count; r++) {
        s->len[r] = r >= g->rows ? 1 : g->f->row_len != NULL ? g->f->row_len(g, r) : g->n;
        s->off[r] = total;
        total += s->len[r];
        nmax = s->len[r] > nmax ? s->len[r] : nmax;
    }
    s->x = malloc(total * sizeof *s->x);
    s->aux = malloc(total * sizeof *s->aux);
    s->target = malloc(s->count * sizeof *s->target);
    g->idx = malloc(nmax * sizeof *g->idx);
    g->tmp = malloc(2 * nmax * sizeof *g->tmp);
    return s->x && s->aux && s->target && g->idx && g->tmp ? nmax : 0;
}

static void famgen_init(ug_famgen *g, const ug_family *f, ug_op op, ug_dtype dt, uint64_t seed, size_t rows,
                        size_t n)
{
    uint64_t name = ug_prng_hash_str(f->name);
    uint64_t xw[3] = {seed, name, (uint64_t)dt}, aw[4] = {seed, name, (uint64_t)dt, 0x100u + (uint64_t)op},
             sw[3] = {seed, name, 0x5eedu};
    *g = (ug_famgen){.f = f, .op = op, .dt = dt, .rows = rows ? rows : f->rows, .n = n ? n : f->n};
    ug_prng_seed_words(&g->xs, xw, 3);
    ug_prng_seed_words(&g->as, aw, 4);
    ug_prng_seed_words(&g->ss, sw, 3);
}

ug_status ug_family_generate(const ug_family *f, ug_op op, ug_dtype dt, uint64_t seed, size_t rows, size_t n,
                             ug_batch_list *out)
{
    *out = (ug_batch_list){0, NULL};
    if (f == NULL || !ug_family_supports(f, dt) || (unsigned)op >= UG_OP_COUNT)
        return UG_ERR_ARG;
    ug_famgen g;
    famgen_init(&g, f, op, dt, seed, rows, n);
    if (f->fill == fill_ties && g.n > 64)
        g.n = 64; /* bf16_ties keeps its candidates on the stack */
    rowset s = {0};
    ug_status st = plan_rows(&g, &s) ? UG_OK : UG_ERR_NOMEM;
    for (size_t r = 0; st == UG_OK && r < s.count; r++) {
        ug_famrow row = {.r = r, .n = s.len[r], .x = s.x + s.off[r], .target = -1, .aux = s.aux + s.off[r]};
        f->fill(&g, &row);
        finish_row(&g, &row);
        s.target[r] = row.target;
    }
    if (st == UG_OK)
        st = make_batches(&g, &s, out);
    if (st != UG_OK)
        ug_batch_list_free(out);
    rowset_free(&s);
    free(g.idx);
    free(g.tmp);
    return st;
}
