/* Metamorphic relations of a kernel with itself: two calls whose exact answers are
 * related exactly, so that their computed answers must be related within what the claim
 * allows (generic.h (4)), or bit for bit where the kernel's construction makes them so.
 *
 * Rows: every family's rows for the kernel's op and dtype (seed 3, at most ROWS rows per
 * family, n <= MAX_N), and for the shift, constructed rows where x + c is exact. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "generic.h"
#include "prng.h"

enum { SEED = 3, ROWS = 8, MAX_N = 4096 };

/* Outputs per row of a rows = 1, reduction none call: n for the elementwise ops. */
static size_t per_row(const prop_case *c) { return prop_outputs(c, UG_RED_NONE) / c->rows; }

/* One output per logit (softmax, log_softmax, xent_grad, bce_logits), or one per row. */
static int per_logit(ug_op op)
{
    return op == UG_OP_SOFTMAX || op == UG_OP_LOG_SOFTMAX || op == UG_OP_XENT_GRAD || op == UG_OP_BCE_LOGITS;
}

static int bitwise_ops(ug_op op)
{
    return op == UG_OP_SOFTMAX || op == UG_OP_LOG_SOFTMAX || op == UG_OP_XENT || op == UG_OP_XENT_GRAD;
}

/* Compare output i of the transformed call (y2, bound b2, transformed row c2) with
 * output j of the original (y1, b1, row c1): the derived bound (4) with delta, and the
 * bits when bits is set.  A failure names both rows. */
typedef struct pairing {
    const prop_case *c1, *c2;
    const double *y1, *b1, *y2, *b2;
    mpfr_srcptr delta; /* v2 - v1, or NULL */
    int bits;          /* demand the same bits */
    const char *what;  /* "x + 0x1p-3", "reversed", ... */
} pairing;

static void compare_outputs(const ug_kernel *k, prop_report *r, const pairing *pr, size_t i2, size_t i1)
{
    double ratio;
    double y2 = pr->y2[i2], y1 = pr->y1[i1];
    int ok = prop_close(k->dtype, y2, pr->b2[i2], y1, pr->b1[i1], pr->delta, &ratio);
    int same = ug_same_bits(k->dtype, y2, y1);
    r->checked++;
    prop_seen(r, ratio, "%s (%s) output %zu", pr->c1->origin, pr->what, i1);
    if (ok && (same || !pr->bits))
        return;
    char row1[2048], row2[2048];
    prop_fmt_row(row1, sizeof row1, pr->c1, 0);
    prop_fmt_row(row2, sizeof row2, pr->c2, 0);
    prop_fail(r, "%s: output %zu is %a, output %zu of the original is %a: %s (%.4g times the allowance); "
              "original %s; transformed %s", pr->what, i2, y2, i1, y1,
              ok ? "not the same bits" : "beyond the claim", ratio, row1, row2);
}

/* ================================================================ shift_invariance
 *
 * softmax, log_softmax, xent, xent_dense and xent_grad are functions of the differences
 * x_i - x_j only: with c such that every x_i + c is exact, the exact outputs of x + c are
 * those of x, so by (4) the computed ones differ by at most b U(y, b) + b U(y', b').
 * logsumexp(x + c) = logsumexp(x) + c exactly: (4) with delta = c.  (bce_logits is
 * elementwise and not shift-invariant.)
 *
 * Bit for bit, for production kernels of softmax, log_softmax, xent and xent_grad: every
 * production kernel shifts by the row max (DESIGN.md), and a kernel that sees its logits
 * only through x_i - m, each difference rounded (or split exactly) as a function of its
 * exact value, is exactly shift-invariant: x_i + c and m + c are exact, so
 * (x_i + c) - (m + c) = x_i - m and every later operation sees the same operands.
 * (xent_dense is left out of the bitwise check: where m - x_i exceeds DBL_MAX the
 * production kernel halves m and x_i separately; logsumexp adds m back.)
 *
 * Rows: constructed rows x_i = k_i 2^s with |k_i| < 2^(p-2), shifted by c = +-2^(s+p-2),
 * so x + c = (k_i +- 2^(p-2)) 2^s fits in p bits; s spans logits from 1/16 to the top of
 * the exponent range (2^125, 2^1021), crossing the exp overflow threshold (88.72,
 * 709.78); and the family rows for which a c = +-2^j near the ulp of the largest entry
 * makes every x_i + c exact. */

/* The top exponents t (logits below 2^t, c = 2^t) of the constructed rows. */
static const int shift_tops[] = {-4, 0, 4, 7, 10, 14, 40, 100, 125, 1021};
static const size_t shift_lengths[] = {1, 2, 3, 5, 8, 17, 64};

static int64_t draw_int(ug_prng *g, int bits)
{
    int drop = (int)ug_prng_below(g, (uint64_t)(bits / 2 + 1));
    int64_t v = (int64_t)ug_prng_below(g, (uint64_t)1 << (bits - drop));
    return ug_prng_below(g, 2) ? -v : v;
}

/* A probability row for row 0 of c: one-hot at the target, or 3/4 and 1/4 (exact). */
static void constructed_aux(prop_case *c, ug_prng *g, int64_t t)
{
    int kind = (int)ug_prng_below(g, 2);
    for (size_t i = 0; i < c->n; i++)
        c->aux[i] = c->op == UG_OP_BCE_LOGITS ? (double)ug_prng_below(g, 2) : (double)((int64_t)i == t);
    if (kind == 1 && c->n > 1 && c->op != UG_OP_BCE_LOGITS) {
        c->aux[t] = 0.75;
        c->aux[((size_t)t + 1) % c->n] = 0.25;
    }
}

/* One constructed row of length n for k with top exponent t (values below 2^t). */
static prop_case *constructed_row(const ug_kernel *k, ug_prng *g, int t, size_t n)
{
    int p = ug_dtype_precision(k->dtype);
    int sparse = k->op == UG_OP_XENT || (k->op == UG_OP_XENT_GRAD && ug_prng_below(g, 2));
    int aux = k->op == UG_OP_XENT_DENSE || k->op == UG_OP_BCE_LOGITS || (k->op == UG_OP_XENT_GRAD && !sparse);
    prop_case *c = prop_case_new(k->op, k->dtype, 1, n, sparse, aux);
    for (size_t i = 0; i < n; i++)
        c->x[i] = ldexp((double)draw_int(g, p - 2), t - (p - 2));
    int64_t target = (int64_t)ug_prng_below(g, n);
    if (sparse)
        c->target[0] = target;
    if (aux)
        constructed_aux(c, g, target);
    snprintf(c->origin, sizeof c->origin, "constructed, logits below 2^%d", t);
    return c;
}

/* A power of 2 c (either sign) with every finite x_i + c exact, or 0. */
static double find_shift(const prop_case *c, size_t attempt)
{
    double big = 0;
    for (size_t i = 0; i < c->n; i++)
        if (isfinite(c->x[i]) && fabs(c->x[i]) > big)
            big = fabs(c->x[i]);
    if (!(big > 0))
        return attempt == 0 ? 1.0 : 0; /* zeros, masks and specials: any c */
    int e;
    frexp(big, &e); /* big in [2^(e-1), 2^e) */
    int p = ug_dtype_precision(c->dt);
    for (int j = 0; j < 4; j++)
        for (int sign = 0; sign < 2; sign++) {
            double cand = ldexp(sign ? -1.0 : 1.0, e - p + j + (int)attempt);
            int ok = isfinite(cand) && cand != 0;
            for (size_t i = 0; ok && i < c->n; i++)
                ok = prop_add_exact(c->dt, c->x[i], cand);
            if (ok)
                return cand;
        }
    return 0;
}

static void shift_one(const ug_kernel *k, prop_report *r, const prop_case *c, double shift)
{
    prop_case *c2 = prop_case_copy(c);
    for (size_t i = 0; i < c->n; i++)
        c2->x[i] = c->x[i] + shift; /* exact (checked), including for f64 */
    double *b1 = NULL, *b2 = NULL;
    double *y1 = prop_run_case(k, r, c, UG_RED_NONE, &b1);
    double *y2 = y1 ? prop_run_case(k, r, c2, UG_RED_NONE, &b2) : NULL;
    if (y2 != NULL) {
        mpfr_t delta;
        mpfr_init2(delta, 64);
        mpfr_set_d(delta, shift, MPFR_RNDN);
        char what[64];
        snprintf(what, sizeof what, "x + %a", shift);
        pairing pr = {c, c2, y1, b1, y2, b2, k->op == UG_OP_LOGSUMEXP ? delta : NULL,
                      k->role == UG_ROLE_PRODUCTION && bitwise_ops(k->op), what};
        for (size_t i = 0; i < per_row(c) && !prop_done(r); i++)
            compare_outputs(k, r, &pr, i, i);
        mpfr_clear(delta);
    }
    free(y1), free(y2), free(b1), free(b2);
    prop_case_free(c2);
}

static void shift_constructed(const ug_kernel *k, prop_report *r)
{
    ug_prng g;
    uint64_t words[2] = {SEED, ug_prng_hash_str(k->name)};
    ug_prng_seed_words(&g, words, 2);
    int emax = k->dtype == UG_F64 ? 1023 : 127;
    for (size_t ti = 0; ti < sizeof shift_tops / sizeof *shift_tops; ti++) {
        int t = shift_tops[ti];
        if (t > emax - 2) /* x + c < 2^(t+1) stays below the largest finite value */
            continue;
        for (size_t li = 0; li < sizeof shift_lengths / sizeof *shift_lengths && !prop_done(r); li++)
            for (int rep = 0; rep < 2; rep++) {
                prop_case *c = constructed_row(k, &g, t, shift_lengths[li]);
                shift_one(k, r, c, ldexp(rep ? -1.0 : 1.0, t));
                prop_case_free(c);
            }
    }
}

void prop_shift_invariance(const ug_kernel *k, prop_report *r)
{
    static const ug_op ops[] = {UG_OP_SOFTMAX, UG_OP_LOG_SOFTMAX, UG_OP_LOGSUMEXP, UG_OP_XENT, UG_OP_XENT_DENSE,
                                UG_OP_XENT_GRAD};
    if (prop_skip_canary(r) || prop_skip_unless_op(r, ops, 6, "elementwise, not shift-invariant"))
        return;
    r->worst_what = "of the allowance";
    shift_constructed(k, r);
    prop_cases rows;
    prop_family_rows(k->op, k->dtype, SEED, prop_rows(r, ROWS), prop_max_n(r, MAX_N), prop_n(r), &rows);
    size_t shifted = 0;
    for (size_t i = 0; i < rows.count && !prop_done(r); i++) {
        double c = find_shift(rows.items[i], 0);
        if (c != 0)
            shift_one(k, r, rows.items[i], c), shifted++;
    }
    /* the test's own coverage: most short family rows admit an exact shift (long rows
     * rarely do; the constructed rows cover them) */
    if (shifted * 4 < rows.count && !r->probe && r->big_n == 0)
        prop_fail(r, "only %zu of %zu family rows admit an exact shift", shifted, rows.count);
    prop_cases_free(&rows);
}

/* ================================================================ permutation_equivariance
 *
 * Permuting a row (and its target and aux row with it) permutes the exact outputs of
 * softmax, log_softmax, xent_grad and bce_logits the same way and leaves those of
 * logsumexp, xent and xent_dense unchanged: by (4), each computed output of the permuted
 * row is within b U(y, b) + b U(y', b') of the original one.  (Not bitwise: a sum in
 * another order rounds differently.)  Permutations: reversal, rotation by one, and a
 * random one (Fisher-Yates from the one PRNG). */

static void permutation(size_t *perm, size_t n, int kind, ug_prng *g)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = kind == 0 ? n - 1 - i : kind == 1 ? (i + 1) % n : i;
    for (size_t i = n; kind == 2 && i > 1; i--) {
        size_t j = (size_t)ug_prng_below(g, i), t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

/* Row 0 of c with entry i moved to position perm[i]. */
static prop_case *permuted(const prop_case *c, const size_t *perm)
{
    prop_case *d = prop_case_copy(c);
    for (size_t i = 0; i < c->n; i++) {
        d->x[perm[i]] = c->x[i];
        if (c->aux != NULL)
            d->aux[perm[i]] = c->aux[i];
    }
    if (c->target != NULL)
        d->target[0] = (int64_t)perm[c->target[0]];
    return d;
}

static void permute_one(const ug_kernel *k, prop_report *r, const prop_case *c, const size_t *perm, const char *what)
{
    prop_case *d = permuted(c, perm);
    double *b1 = NULL, *b2 = NULL;
    double *y1 = prop_run_case(k, r, c, UG_RED_NONE, &b1);
    double *y2 = y1 ? prop_run_case(k, r, d, UG_RED_NONE, &b2) : NULL;
    if (y2 != NULL) {
        pairing pr = {c, d, y1, b1, y2, b2, NULL, 0, what};
        size_t outs = per_row(c);
        for (size_t i = 0; i < outs && !prop_done(r); i++)
            compare_outputs(k, r, &pr, per_logit(c->op) ? perm[i] : 0, i);
    }
    free(y1), free(y2), free(b1), free(b2);
    prop_case_free(d);
}

void prop_permutation_equivariance(const ug_kernel *k, prop_report *r)
{
    static const char *const names[] = {"reversed", "rotated by one", "randomly permuted"};
    if (prop_skip_canary(r))
        return;
    r->worst_what = "of the allowance";
    prop_cases rows;
    prop_family_rows(k->op, k->dtype, SEED, prop_rows(r, ROWS), prop_max_n(r, MAX_N), prop_n(r), &rows);
    ug_prng g;
    ug_prng_seed(&g, SEED);
    for (size_t i = 0; i < rows.count && !prop_done(r); i++) {
        const prop_case *c = rows.items[i];
        size_t *perm = malloc(c->n * sizeof *perm);
        if (perm == NULL)
            abort();
        for (int kind = 0; kind < 3 && c->n > 1; kind++) {
            permutation(perm, c->n, kind, &g);
            permute_one(k, r, c, perm, names[kind]);
        }
        free(perm);
    }
    prop_cases_free(&rows);
}

/* ================================================================ masks
 *
 * SPECIAL.md rule 2: a -inf entry is a class that is not there.  Its softmax output is
 * exactly +0, its log_softmax -inf, its sparse gradient 0 - [i = t] (+0: the target is
 * never put on a mask here), its dense gradient -p_i = +0 (p_i = 0 there); every other
 * output is exactly what it is for the row without the mask.  So for the row with masks
 * inserted the exact unmasked outputs are those of the original row: within (4) of the
 * original's computed ones for every kernel, and bit for bit for production kernels (the
 * masked entries add exact zeros to every sum: e^-inf = 0, and x + 0 = x).  The masked
 * outputs themselves are exact special values and must have the bits above.  Masks go
 * at the front, at the back and at random places, 1, 3 or n of them; rows from every
 * family whose rows are of the class "fin" of SPECIAL.md (xent targets and probability
 * mass move with their entries; bce_logits is elementwise: -inf is a logit there, rule 6). */

/* Row 0 of c with k masks inserted (mask[j] = 1 at the new ones); map[i] is the new
 * position of entry i. */
static prop_case *with_masks(const prop_case *c, size_t k, int where, ug_prng *g, size_t *map, unsigned char *mask)
{
    size_t n2 = c->n + k;
    prop_case *d = prop_case_new(c->op, c->dt, 1, n2, c->target != NULL, c->aux != NULL);
    for (size_t m = 0; m < k; m++) {
        size_t pos = where == 0 ? m : where == 1 ? n2 - 1 - m : (size_t)ug_prng_below(g, n2);
        while (mask[pos])
            pos = (pos + 1) % n2;
        mask[pos] = 1;
    }
    for (size_t i = 0, j = 0; j < n2; j++) {
        if (mask[j]) {
            d->x[j] = -INFINITY;
            continue;
        }
        map[i] = j;
        d->x[j] = c->x[i];
        if (c->aux != NULL)
            d->aux[j] = c->aux[i];
        i++;
    }
    if (c->target != NULL)
        d->target[0] = (int64_t)map[c->target[0]];
    memcpy(d->origin, c->origin, sizeof d->origin);
    return d;
}

/* The exact value of a masked output of d at position j (softmax-like ops). */
static double masked_output(ug_op op) { return op == UG_OP_LOG_SOFTMAX ? -INFINITY : 0.0; }

static void check_masked(const ug_kernel *k, prop_report *r, const prop_case *d, const double *y2, size_t j)
{
    double want = masked_output(k->op);
    r->checked++;
    if (ug_same_bits(k->dtype, y2[j], want))
        return;
    char row[3072];
    prop_fmt_row(row, sizeof row, d, 0);
    prop_fail(r, "the masked entry %zu gives %a, not %a; row: %s", j, y2[j], want, row);
}

static void mask_one(const ug_kernel *k, prop_report *r, const prop_case *c, size_t count, int where, ug_prng *g)
{
    size_t *map = malloc(c->n * sizeof *map);
    unsigned char *mask = calloc(c->n + count, 1);
    if (map == NULL || mask == NULL)
        abort();
    prop_case *d = with_masks(c, count, where, g, map, mask);
    double *b1 = NULL, *b2 = NULL;
    double *y1 = prop_run_case(k, r, c, UG_RED_NONE, &b1);
    double *y2 = y1 ? prop_run_case(k, r, d, UG_RED_NONE, &b2) : NULL;
    if (y2 != NULL) {
        char what[64];
        snprintf(what, sizeof what, "%zu masks inserted", count);
        pairing pr = {c, d, y1, b1, y2, b2, NULL, k->role == UG_ROLE_PRODUCTION, what};
        if (!per_logit(c->op)) {
            compare_outputs(k, r, &pr, 0, 0);
        } else {
            for (size_t i = 0; i < c->n && !prop_done(r); i++)
                compare_outputs(k, r, &pr, map[i], i);
            for (size_t j = 0; j < d->n && !prop_done(r); j++)
                if (mask[j])
                    check_masked(k, r, d, y2, j);
        }
    }
    free(y1), free(y2), free(b1), free(b2), free(map), free(mask);
    prop_case_free(d);
}

void prop_masks_leave_other_outputs_unchanged(const ug_kernel *k, prop_report *r)
{
    static const ug_op ops[] = {UG_OP_SOFTMAX, UG_OP_LOG_SOFTMAX, UG_OP_LOGSUMEXP, UG_OP_XENT, UG_OP_XENT_DENSE,
                                UG_OP_XENT_GRAD};
    if (prop_skip_canary(r) || prop_skip_unless_op(r, ops, 6, "elementwise: -inf is a logit, not a mask (rule 6)"))
        return;
    r->worst_what = "of the allowance";
    prop_cases rows;
    prop_family_rows(k->op, k->dtype, SEED, prop_rows(r, ROWS), prop_max_n(r, MAX_N), prop_n(r), &rows);
    ug_prng g;
    ug_prng_seed(&g, SEED);
    for (size_t i = 0; i < rows.count && !prop_done(r); i++) {
        const prop_case *c = rows.items[i];
        if (prop_row_kind_of(c->x, c->n) != PROP_ROW_FINITE)
            continue;
        size_t counts[3] = {1, 3, c->n};
        for (int where = 0; where < 3; where++)
            mask_one(k, r, c, counts[(i + (size_t)where) % 3], where, &g);
    }
    prop_cases_free(&rows);
}

/* ================================================================ batched, deterministic
 *
 * A call on rows x n computes each row as rows = 1 calls do (the rows are independent;
 * include/ulpgate/ulpgate.h): the same bits, reduction none.  And a kernel is a function:
 * the same input twice gives the same bits, whatever was in y before the call (0x00 or
 * 0xff bytes: +0 or NaN), every reduction. */

static void batch_vs_rows(const ug_kernel *k, prop_report *r, const prop_case *c)
{
    double *yb = prop_run_case(k, r, c, UG_RED_NONE, NULL);
    size_t per = prop_outputs(c, UG_RED_NONE) / c->rows;
    for (size_t row = 0; yb != NULL && row < c->rows && !prop_done(r); row++) {
        prop_case *one = prop_case_rows(c, row, 1);
        double *y1 = prop_run_case(k, r, one, UG_RED_NONE, NULL);
        for (size_t i = 0; y1 != NULL && i < per; i++) {
            r->checked++;
            if (ug_same_bits(k->dtype, yb[row * per + i], y1[i]))
                continue;
            char line[3072];
            prop_fmt_row(line, sizeof line, one, 0);
            prop_fail(r, "%s: row %zu of %zu, output %zu: %a in the batch, %a alone; row: %s", c->origin, row, c->rows,
                      i, yb[row * per + i], y1[i], line);
        }
        free(y1);
        prop_case_free(one);
    }
    free(yb);
}

void prop_batched_equals_row_by_row(const ug_kernel *k, prop_report *r)
{
    if (prop_skip_canary(r))
        return;
    prop_cases batches;
    prop_family_batches(k->op, k->dtype, SEED, prop_rows(r, ROWS), prop_max_n(r, MAX_N), prop_n(r), &batches);
    for (size_t i = 0; i < batches.count && !prop_done(r); i++)
        if (batches.items[i]->rows > 1)
            batch_vs_rows(k, r, batches.items[i]);
    prop_cases_free(&batches);
}

static void twice(const ug_kernel *k, prop_report *r, const prop_case *c, ug_reduction red)
{
    size_t count = prop_outputs(c, red);
    double *a = malloc(count * sizeof *a), *b = malloc(count * sizeof *b);
    if (a == NULL || b == NULL)
        abort();
    ug_status sa = prop_call(k, c, red, 0x00, a), sb = prop_call(k, c, red, 0xff, b);
    r->checked++;
    if (sa != sb)
        prop_fail(r, "%s: status %d then %d", c->origin, sa, sb);
    for (size_t i = 0; sa == UG_OK && sa == sb && i < count; i++) {
        if (ug_same_bits(k->dtype, a[i], b[i]))
            continue;
        char line[3072];
        prop_fmt_row(line, sizeof line, c, 0);
        prop_fail(r, "%s, reduction %s: output %zu is %a, then %a; row 0: %s", c->origin, ug_reduction_name(red), i,
                  a[i], b[i], line);
        break;
    }
    free(a);
    free(b);
}

void prop_same_input_same_bits(const ug_kernel *k, prop_report *r)
{
    if (prop_skip_canary(r))
        return;
    prop_cases batches;
    prop_family_batches(k->op, k->dtype, SEED, prop_rows(r, ROWS), prop_max_n(r, MAX_N), prop_n(r), &batches);
    for (size_t i = 0; i < batches.count && !prop_done(r); i++)
        for (int red = 0; red <= (ug_op_has_reduction(k->op) ? UG_RED_MEAN : UG_RED_NONE); red++)
            twice(k, r, batches.items[i], (ug_reduction)red);
    prop_cases_free(&batches);
}

/* ================================================================ bce_label_flip_symmetry
 *
 * bce(x, y) = y log(1 + e^-x) + (1 - y) log(1 + e^x) is unchanged by (x, y) -> (-x, 1 - y):
 * the same exact value, so by (4) the two computed values are within b U + b U', per
 * element and for the sum and the mean (the same exact sum).  -x is exact; 1 - y is exact
 * for y in [1/2, 1] (Sterbenz) and for y = 0, and is checked exactly; a label whose
 * 1 - y is not a value of the dtype is replaced by 1 in both calls. */

static void flip_batch(const ug_kernel *k, prop_report *r, const prop_case *c)
{
    prop_case *a = prop_case_copy(c), *f = prop_case_copy(c);
    for (size_t i = 0; i < c->rows * c->n; i++) {
        if (!prop_add_exact(c->dt, -c->aux[i], 1.0))
            a->aux[i] = f->aux[i] = 1.0;
        f->x[i] = -c->x[i];
        f->aux[i] = 1.0 - a->aux[i]; /* exact (checked) */
    }
    for (int red = UG_RED_NONE; red <= UG_RED_MEAN && !prop_done(r); red++) {
        double *b1 = NULL, *b2 = NULL;
        double *y1 = prop_run_case(k, r, a, (ug_reduction)red, &b1);
        double *y2 = y1 ? prop_run_case(k, r, f, (ug_reduction)red, &b2) : NULL;
        char what[64];
        snprintf(what, sizeof what, "(x, y) -> (-x, 1 - y), reduction %s", ug_reduction_name((ug_reduction)red));
        pairing pr = {a, f, y1, b1, y2, b2, NULL, 0, what};
        for (size_t i = 0; y2 != NULL && i < prop_outputs(c, (ug_reduction)red) && !prop_done(r); i++)
            compare_outputs(k, r, &pr, i, i);
        free(y1), free(y2), free(b1), free(b2);
    }
    prop_case_free(a);
    prop_case_free(f);
}

void prop_bce_label_flip_symmetry(const ug_kernel *k, prop_report *r)
{
    static const ug_op ops[] = {UG_OP_BCE_LOGITS};
    if (prop_skip_canary(r) || prop_skip_unless_op(r, ops, 1, "a relation of bce_logits"))
        return;
    r->worst_what = "of the allowance";
    prop_cases batches;
    prop_family_batches(k->op, k->dtype, SEED, prop_rows(r, ROWS), prop_max_n(r, MAX_N), prop_n(r), &batches);
    for (size_t i = 0; i < batches.count && !prop_done(r); i++)
        flip_batch(k, r, batches.items[i]);
    prop_cases_free(&batches);
}

/* ================================================================ reductions_agree_with_rows
 *
 * SPECIAL.md rule 9: sum and mean are the exact sum S = sum_r v_r of the exact per-item
 * losses (rows; elements for bce_logits), rounded once; mean = S / N.  With the items'
 * computed values y_r (reduction none, claims b_r), the sum y_s (claim b_s) and the mean
 * y_m (claim b_m), and S' = sum_r y_r formed exactly:
 *     |y_s - S'|     <= |y_s - S| + |S - S'| <= b_s U(y_s) + sum_r b_r U(y_r)
 *     |N y_m - S'|   <= N |y_m - S/N| + |S - S'| <= N b_m U(y_m) + sum_r b_r U(y_r).
 * Classes: NaN if an item is NaN (the items' classes are those of the exact values, or
 * the kernel has already failed elsewhere).  An infinite item is an exact +inf or an
 * exact value beyond the overflow threshold; either way the sum, >= that item (losses are
 * >= 0), is beyond it too: +inf.  The mean of such items may be finite (rule 10), so it is
 * not measured then.  A sum or mean that overflows to +inf from finite items is right
 * only if (S' + sum_r b_r U(y_r)) / weight rounds to +inf. */

typedef struct reduced {
    double y, b;
    size_t weight; /* 1 for the sum, N for the mean */
    const char *name;
} reduced;

static void check_reduced(const ug_kernel *k, prop_report *r, const prop_case *c, const double *items,
                          const double *bi, size_t count, const reduced *red)
{
    int nan = 0, inf = 0;
    mpfr_t sum, tol, lhs;
    mpfr_init2(sum, PROP_EXACT_PREC + 64);
    mpfr_init2(lhs, PROP_EXACT_PREC + 64);
    mpfr_init2(tol, 64);
    mpfr_set_zero(sum, 1);
    mpfr_set_zero(tol, 1);
    for (size_t i = 0; i < count; i++) {
        nan |= isnan(items[i]) != 0;
        inf |= isinf(items[i]) != 0;
        if (isfinite(items[i])) {
            mpfr_add_d(sum, sum, items[i], MPFR_RNDN);
            prop_allowance_add(tol, k->dtype, items[i], bi[i], 1);
        }
    }
    int ok;
    double ratio = 0;
    if (!nan && inf && red->weight > 1) {
        mpfr_clears(sum, tol, lhs, (mpfr_ptr)0);
        return; /* a mean over an infinite item: not decided by the items */
    }
    r->checked++;
    if (nan || inf) {
        ok = ug_same_bits(k->dtype, red->y, nan ? NAN : INFINITY);
    } else if (isinf(red->y)) {
        mpfr_add(lhs, sum, tol, MPFR_RNDU);
        mpfr_div_ui(lhs, lhs, (unsigned long)red->weight, MPFR_RNDU);
        ok = red->y > 0 && isinf(ug_oracle_round(lhs, k->dtype));
    } else {
        mpfr_set_d(lhs, red->y, MPFR_RNDN);
        mpfr_mul_ui(lhs, lhs, (unsigned long)red->weight, MPFR_RNDN); /* exact */
        mpfr_sub(lhs, lhs, sum, MPFR_RNDN);
        mpfr_abs(lhs, lhs, MPFR_RNDN);
        prop_allowance_add(tol, k->dtype, red->y, red->b, (double)red->weight);
        ok = mpfr_lessequal_p(lhs, tol);
        ratio = mpfr_zero_p(lhs) ? 0 : mpfr_zero_p(tol) ? INFINITY : mpfr_get_d(lhs, MPFR_RNDU) / mpfr_get_d(tol, MPFR_RNDD);
    }
    prop_seen(r, ratio, "%s %s", c->origin, red->name);
    if (!ok) {
        char line[3072];
        prop_fmt_row(line, sizeof line, c, c->rows - 1);
        prop_fail(r, "%s: the %s is %a, the %zu items sum exactly to %.17g (%s%s); %.4g times the allowance; "
                  "last row: %s", c->origin, red->name, red->y, count, mpfr_get_d(sum, MPFR_RNDN), nan ? "a NaN item" : "",
                  inf ? "an infinite item" : "", ratio, line);
    }
    mpfr_clears(sum, tol, lhs, (mpfr_ptr)0);
}

static void reductions_of(const ug_kernel *k, prop_report *r, const prop_case *c)
{
    double *bi = NULL, *bs = NULL, *bm = NULL;
    double *items = prop_run_case(k, r, c, UG_RED_NONE, &bi);
    double *ys = items ? prop_run_case(k, r, c, UG_RED_SUM, &bs) : NULL;
    double *ym = ys ? prop_run_case(k, r, c, UG_RED_MEAN, &bm) : NULL;
    if (ym != NULL) {
        size_t count = prop_outputs(c, UG_RED_NONE);
        reduced s = {ys[0], bs[0], 1, "sum"}, m = {ym[0], bm[0], count, "mean"};
        check_reduced(k, r, c, items, bi, count, &s);
        check_reduced(k, r, c, items, bi, count, &m);
    }
    free(items), free(ys), free(ym), free(bi), free(bs), free(bm);
}

void prop_reductions_agree_with_rows(const ug_kernel *k, prop_report *r)
{
    if (prop_skip_canary(r))
        return;
    if (!ug_op_has_reduction(k->op)) {
        prop_skip(r, "%s has no reduction", ug_op_name(k->op));
        return;
    }
    r->worst_what = "of the allowance";
    prop_cases batches;
    prop_family_batches(k->op, k->dtype, SEED, prop_rows(r, ROWS), prop_max_n(r, MAX_N), prop_n(r), &batches);
    for (size_t i = 0; i < batches.count && !prop_done(r); i++)
        reductions_of(k, r, batches.items[i]);
    prop_cases_free(&batches);
}
