/* The reduced loss at the dtype's overflow threshold: one decision shared by every reducing
 * kernel (xent, xent_dense, bce_logits; scalar and SIMD rows), called by the reductions
 * (ug__reduce_store_quarters in common.c, ug__reduce_store_wide in row.c) after they have
 * stored y[0].
 *
 * Why: a reduction rounds the exact sum S of the losses (or S / count) once; near the
 * overflow threshold T of the dtype (oracle/SPECIAL.md rule 10: 0x1.ffffffp127 f32,
 * 0x1.ffp127 bf16, 0x1.fffffffffffff8p1023 f64; at T itself the result is +inf) the
 * kernels' losses, held in binary64 or ug__wide, lose the low part of S: an S a few units
 * below T lands on T and ties to +inf (fuzz/known-findings.txt, the fixed xent.fused.f32
 * entry).  No working precision short of exact fixes that: S = T - 92 needs 130 bits in f32.
 *
 * ug__threshold_settle: contract
 *   when      y[0] (as stored) is +inf or the largest finite value M of dt, and the
 *             kernel's unrounded result v is within 2^-30 T of T; otherwise it returns at
 *             once (a load and two compares: the common case costs nothing, and a sum far
 *             beyond T is not re-added).  Every kernel that calls it has a relative error
 *             far below 2^-30 (at most 2^-42.3 per loss, SIMD-ERROR-ANALYSIS.md §4; the
 *             losses are >= 0, so the sum keeps it), so an exact result at T always has
 *             its v in that range.
 *   decides   whether S >= c T (then +inf) or c M_lo < S < c T (then M), where c = 1 for
 *             a sum and c = count for a mean (S / count >= T iff S >= count T, exactly),
 *             and M_lo = M - ulp(M)/2 is the midpoint below M (ties to even below it).
 *   method    every loss is split into an exactly representable dyadic part and small
 *             transcendental parts (ERROR-ANALYSIS.md §4, "At the overflow threshold"):
 *               xent        (m - x_t)                      + L_r
 *               xent_dense  sum_{p_i>0} p_i m - p_i x_i    + P_r L_r,  P_r = sum p_i
 *               bce_logits  max(x, 0) - x y                + log1p(exp(-|x|))
 *             The dyadic parts (inputs widened to binary64; products by TwoProduct, fmal)
 *             and the computed transcendental parts t^ go into one non-overlapping
 *             expansion of ug__wide (Shewchuk's Grow-Expansion with zero elimination),
 *             which holds X = D + sum t^ exactly; c T and c M_lo go in by TwoProduct too.
 *             The transcendental parts are recomputed here in ug__wide (not taken from the
 *             kernel): |t - t^| <= 2^-59 t^ each (L_r: exponentials 10.01 u_w, compensated
 *             sum 1.01 u_w, log1pl 8 u_w, ERROR-ANALYSIS.md §1-§2; P_r L_r + 3.01 u_w;
 *             bce: 16.01 u_w, §6), plus 2^-16381 for each exponential of a finite entry
 *             that fell below the exponential's relative range (x - m < -11354, §0).
 *             So |S - X| <= E = 2^-58 fl(sum t^) + 2^-16380 (number of such entries).
 *             S >= c T is decided when X - E >= c T, S < c T when X + E < c T: the sign of
 *             an expansion is the sign of its largest component (exact).
 *   window    undecided iff |X - c T| < E (or |X - c M_lo| <= E): E <= 2^-58 rows ln n
 *             (xent), 2^-58 sum_r P_r ln n (xent_dense), 2^-58 count ln 2 (bce_logits), all
 *             absolute: below 2^-13 for any problem of up to 2^40 elements, 2^-141 of T
 *             in f32 and bf16, 2^-1037 in f64.  Then, or when a loss is NaN or +inf by the special-value
 *             rules (NaN x, masked target, +inf entries...), or memory is short, y[0] keeps
 *             the kernel's value.
 *   cost      O(terms x expansion length) on the rare problems that land at the threshold;
 *             the expansion is at most 17 600 components (every component is a multiple of
 *             2^-16445 below 2^1101, and they do not overlap), in practice a few dozen.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"
#include "row.h"

/* Knuth's TwoSum in ug__wide: s + e = a + b exactly (no overflow in ug__wide here). */
static void wtwo_sum(ug__wide a, ug__wide b, ug__wide *s, ug__wide *e)
{
    ug__wide t = a + b;
    ug__wide bb = t - a;
    *e = (a - (t - bb)) + (b - bb);
    *s = t;
}

/* A non-overlapping expansion of ug__wide, increasing magnitude, no zero component. */
typedef struct expansion {
    ug__wide *h;
    size_t len, cap;
    int full; /* a Grow would have exceeded cap: the value is lost, decide nothing */
} expansion;

/* Shewchuk's Grow-Expansion with zero elimination: h <- h + b, exactly. */
static void grow(expansion *x, ug__wide b)
{
    if (b == 0 || x->full)
        return;
    if (x->len >= x->cap) {
        x->full = 1;
        return;
    }
    ug__wide q = b;
    size_t out = 0;
    for (size_t i = 0; i < x->len; i++) {
        ug__wide s, e;
        wtwo_sum(q, x->h[i], &s, &e);
        if (e != 0)
            x->h[out++] = e;
        q = s;
    }
    if (q != 0)
        x->h[out++] = q;
    x->len = out;
}

/* h <- h + a b exactly: TwoProduct by fmal (a, b binary64 or ug__wide with at most 64 bits
 * together exact; no underflow: |a b| >= 2^-2148 or 0). */
static void grow_product(expansion *x, ug__wide a, ug__wide b)
{
    ug__wide hi = a * b;
    grow(x, hi);
    grow(x, fmal(a, b, -hi));
}

/* The sign of h + a: -1, 0 or 1 (h is left as it was). */
static int sign_plus(const expansion *x, ug__wide *scratch, ug__wide a1, ug__wide a2, ug__wide a3)
{
    expansion y = {scratch, x->len, x->cap + 4, 0};
    for (size_t i = 0; i < x->len; i++)
        scratch[i] = x->h[i];
    grow(&y, a1);
    grow(&y, a2);
    grow(&y, a3);
    return y.len == 0 ? 0 : y.h[y.len - 1] > 0 ? 1 : -1;
}

/* What the exact losses of a problem come to: the expansion X of the dyadic parts and the
 * computed transcendental parts, and the bound E on |S - X|. */
typedef struct split_sum {
    expansion x;
    ug__wsum t;     /* sum of the t^ (for E only) */
    size_t flushed; /* exponentials of finite entries below the relative range */
    int special;    /* a loss is NaN or +inf: nothing to decide */
} split_sum;

/* L = log sum_j exp(x_j - m) of a finite row (x widened, m its max, at imax) in ug__wide,
 * relative error <= 19.1 u_w < 2^-59.7 (header); counts into *flushed the finite entries
 * whose x_j - m < -11354. */
static ug__wide row_log_sum(const double *x, size_t n, double m, size_t imax, size_t *flushed)
{
    ug__wsum acc = {0, 0};
    for (size_t j = 0; j < n; j++) {
        double hi, lo;
        if (j == imax)
            continue;
        ug__shift(x[j], m, &hi, &lo);
        if (isfinite(x[j]) && !(hi >= -11354))
            (*flushed)++;
        ug__wsum_add(&acc, ug__exp_wide(UG_F64, hi, lo));
    }
    return log1pl(ug__wsum_value(&acc));
}

static void add_part(split_sum *s, ug__wide t)
{
    grow(&s->x, t);
    ug__wsum_add(&s->t, t);
}

/* xent and xent_dense: one row's losses into s (SPECIAL.md rules for the special rows). */
static void split_row(split_sum *s, const ug_problem *p, ug_op op, ug_dtype dt, size_t r, double *xbuf)
{
    ug__row row;
    ug__row_analyse(&row, p, dt, r, xbuf, NULL, NULL, 0);
    size_t n = p->n;
    if (row.kind == UG__ROW_NAN || row.kind == UG__ROW_MASKED) {
        s->special = 1;
        return;
    }
    if (op == UG_OP_XENT) {
        double xt = xbuf[p->target[r]];
        if (row.kind == UG__ROW_POSINF) { /* +0 when x_t is the one +inf, else +inf or NaN */
            s->special |= !(xt == INFINITY && row.ninf == 1);
            return;
        }
        if (xt == -INFINITY) { /* masked target: +inf */
            s->special = 1;
            return;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            double pi = ug__load(dt, p->aux, r * n + i);
            if (pi == 0)
                continue; /* exactly 0 whatever x_i is */
            if (row.kind == UG__ROW_POSINF ? !(xbuf[i] == INFINITY && row.ninf == 1) : xbuf[i] == -INFINITY) {
                s->special = 1;
                return;
            }
        }
        if (row.kind == UG__ROW_POSINF) /* every p_i > 0 sits on the one +inf: +0 */
            return;
    }
    size_t imax = ug__row_argmax(xbuf, n);
    double m = xbuf[imax];
    ug__wide L = row_log_sum(xbuf, n, m, imax, &s->flushed);
    if (op == UG_OP_XENT) {
        grow(&s->x, m);
        grow(&s->x, -xbuf[p->target[r]]);
        add_part(s, L);
        return;
    }
    ug__wsum P = {0, 0};
    for (size_t i = 0; i < n; i++) {
        double pi = ug__load(dt, p->aux, r * n + i);
        if (pi == 0)
            continue;
        grow_product(&s->x, pi, m);
        grow_product(&s->x, pi, -xbuf[i]);
        ug__wsum_add(&P, pi);
    }
    add_part(s, ug__wsum_value(&P) * L);
}

/* bce_logits: element i's loss into s. */
static void split_bce(split_sum *s, const ug_problem *p, ug_dtype dt, size_t i)
{
    double x = ug__load(dt, p->x, i), y = ug__load(dt, p->aux, i);
    if (isnan(x) || isinf(x)) { /* +0 when the infinite term's coefficient is 0 */
        s->special |= isnan(x) || !(x > 0 ? y == 1 : y == 0);
        return;
    }
    if (x > 0)
        grow(&s->x, x);
    grow_product(&s->x, -x, y);
    if (!(-fabs(x) >= -11354))
        s->flushed++;
    add_part(s, log1pl(ug__exp_neg_wide(-fabs(x))));
}

/* The dtype's largest finite value M, the midpoint M_lo below it and the threshold T (all
 * exact in ug__wide; the f64 midpoints have 54 bits). */
static void dtype_top(ug_dtype dt, ug__wide *M, ug__wide *M_lo, ug__wide *T)
{
    switch (dt) {
    case UG_F32: *M = 0x1.fffffep127L, *M_lo = 0x1.fffffdp127L, *T = 0x1.ffffffp127L; break;
    case UG_BF16: *M = 0x1.fep127L, *M_lo = 0x1.fdp127L, *T = 0x1.ffp127L; break;
    default: *M = DBL_MAX, *M_lo = 0x1.ffffffffffffe8p1023L, *T = 0x1.fffffffffffff8p1023L; break;
    }
}

/* The expansion is at most this long (header). */
enum { EXPANSION_MAX = 17600 };

/* +1: S >= c T (+inf); -1: c M_lo < S < c T (M); 0: undecided or nothing to decide. */
static int decide(const ug_problem *p, ug_op op, ug_dtype dt, size_t count)
{
    size_t terms = op == UG_OP_BCE_LOGITS ? 4 * p->rows * p->n
                 : op == UG_OP_XENT       ? 3 * p->rows
                                          : (4 * p->n + 1) * p->rows;
    size_t cap = terms < EXPANSION_MAX ? terms + 8 : EXPANSION_MAX;
    ug__wide *h = malloc(2 * (cap + 4) * sizeof *h);
    double *xbuf = op == UG_OP_BCE_LOGITS ? NULL : malloc(p->n * sizeof *xbuf);
    int verdict = 0;
    if (h == NULL || (op != UG_OP_BCE_LOGITS && xbuf == NULL))
        goto done;
    split_sum s = {{h, 0, cap, 0}, {0, 0}, 0, 0};
    if (op == UG_OP_BCE_LOGITS)
        for (size_t i = 0; i < p->rows * p->n && !s.special; i++)
            split_bce(&s, p, dt, i);
    else
        for (size_t r = 0; r < p->rows && !s.special; r++)
            split_row(&s, p, op, dt, r, xbuf);
    if (s.special || s.x.full)
        goto done;
    ug__wide E = 0x1p-58L * ug__wsum_value(&s.t) + 0x1p-16380L * (ug__wide)s.flushed;
    ug__wide M, M_lo, T;
    dtype_top(dt, &M, &M_lo, &T);
    ug__wide c = p->reduction == UG_RED_MEAN ? (ug__wide)count : 1;
    /* X - c T - E >= 0: S >= c T.  X - c T + E < 0: S < c T. */
    ug__wide cT = c * T, cT_lo = fmal(c, T, -cT);
    ug__wide *scratch = h + cap + 4;
    if (sign_plus(&s.x, scratch, -cT, -cT_lo, -E) >= 0)
        verdict = 1;
    else if (sign_plus(&s.x, scratch, -cT, -cT_lo, E) < 0) {
        ug__wide cM = c * M_lo, cM_lo = fmal(c, M_lo, -cM);
        if (sign_plus(&s.x, scratch, -cM, -cM_lo, -E) > 0)
            verdict = -1;
    }
done:
    free(h);
    free(xbuf);
    return verdict;
}

void ug__threshold_settle(const ug_problem *p, ug_op op, ug_dtype dt, size_t count, long double v)
{
    if (p->reduction == UG_RED_NONE || !ug_op_has_reduction(op))
        return;
    ug__wide M, M_lo, T;
    dtype_top(dt, &M, &M_lo, &T);
    double y = ug__load(dt, p->y, 0);
    if (!(y == INFINITY || y == M) || !(fabsl(v - T) <= 0x1p-30L * T))
        return;
    int verdict = decide(p, op, dt, count);
    if (verdict != 0)
        ug__store(dt, p->y, 0, verdict > 0 ? INFINITY : (double)M);
}
