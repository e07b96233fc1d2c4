/* One row of logits: classification (SPECIAL.md) and the row quantities every op is
 * built from, at working precision P (ANALYSIS.md §2):
 *
 *     m = max_j x_j,  c1 = #{j : x_j = m},  a_j = x_j - m <= 0 (exact),
 *     S' = sum_{a_j < 0} e^(a_j),  S = c1 + S',  L = log S.
 *
 * S' is the part of the sum that can be tiny; keeping it apart from c1 is what lets
 * 1 - softmax, log_softmax at the max and the losses near 0 be computed with a small
 * relative error (never as a difference of nearly equal numbers).
 */
#include <math.h>
#include <stdlib.h>

#include "ora_internal.h"

void ora_row_init(ora_row *r, size_t n)
{
    r->n = n;
    r->x = malloc((n ? n : 1) * sizeof *r->x);
    r->P = 0;
    r->pd = 2;
    r->want_cache = 0;
    r->cache_ok = 0;
    r->cache = NULL;
    r->cache_block = NULL;
    r->cache_prec = 0;
    mpfr_inits2(ORA_P0, r->s1, r->S, r->L, (mpfr_ptr)0);
    mpfr_inits2(64, r->a, r->d, r->e, (mpfr_ptr)0);
}

void ora_row_clear(ora_row *r)
{
    free(r->x);
    free(r->cache);
    free(r->cache_block);
    r->x = NULL;
    r->cache = NULL;
    r->cache_block = NULL;
    mpfr_clears(r->s1, r->S, r->L, r->a, r->d, r->e, (mpfr_ptr)0);
}

/* m, c1, x2 and pd of a row with at least one finite entry. */
static void finite_part(ora_row *r)
{
    double m = -INFINITY, x2 = -INFINITY;
    long hi = -100000, lo = 100000;
    for (size_t j = 0; j < r->n; j++) {
        double v = r->x[j];
        if (v == -INFINITY)
            continue;
        if (v > m) {
            x2 = m;
            m = v;
        } else if (v < m && v > x2) {
            x2 = v;
        }
        if (v != 0) {
            long h, l;
            ora_dbl_span(v, &h, &l);
            hi = h > hi ? h : hi;
            lo = l < lo ? l : lo;
        }
    }
    size_t c1 = 0;
    for (size_t j = 0; j < r->n; j++)
        c1 += r->x[j] == m;
    r->m = m;
    r->c1 = c1;
    r->has2 = x2 > -INFINITY;
    r->x2 = x2;
    /* |x_j - x_k| < 2^(hi+1), a multiple of 2^lo: hi + 1 - lo bits, one spare */
    r->pd = hi >= lo ? hi + 2 - lo : 2;
}

void ora_row_load(ora_row *r, ug_dtype dt, const void *x, size_t row)
{
    r->nnan = r->npinf = r->nminf = 0;
    for (size_t j = 0; j < r->n; j++) {
        double v = ug_load(dt, x, row * r->n + j); /* exact widening */
        r->x[j] = v;
        r->nnan += isnan(v) != 0;
        r->npinf += v == INFINITY;
        r->nminf += v == -INFINITY;
    }
    r->has2 = 0;
    r->c1 = 0;
    r->cache_ok = 0;
    if (ora_row_finite(r))
        finite_part(r);
}

int ora_row_finite(const ora_row *r) { return r->nnan == 0 && r->npinf == 0 && r->nminf < r->n; }

void ora_row_shift(ora_row *r, size_t i, mpfr_t a)
{
    if (mpfr_get_prec(a) != r->pd)
        mpfr_set_prec(a, r->pd);
    mpfr_set_d(a, r->x[i], MPFR_RNDN);  /* exact: pd >= 53 or x_i fits pd bits */
    mpfr_sub_d(a, a, r->m, MPFR_RNDN); /* exact: pd bits hold every x_j - x_k */
}

static void set_prec_if(mpfr_t v, mpfr_prec_t p)
{
    if (mpfr_get_prec(v) != p)
        mpfr_set_prec(v, p);
}

/* Make the cache hold n numbers of precision prec, all NaN; 0 when it cannot. */
static int cache_ready(ora_row *r, mpfr_prec_t prec)
{
    size_t size = mpfr_custom_get_size(prec);
    if (r->n > ORA_CACHE_MAX / (size + sizeof *r->cache))
        return 0;
    if (r->cache_prec != prec) {
        free(r->cache);
        free(r->cache_block);
        r->cache = malloc(r->n * sizeof *r->cache);
        r->cache_block = malloc(r->n * size);
        r->cache_prec = prec;
        if (r->cache == NULL || r->cache_block == NULL) {
            free(r->cache);
            free(r->cache_block);
            r->cache = NULL;
            r->cache_block = NULL;
            r->cache_prec = 0;
            return 0;
        }
    }
    char *b = r->cache_block;
    for (size_t j = 0; j < r->n; j++) {
        mpfr_custom_init(b + j * size, prec);
        mpfr_custom_init_set(&r->cache[j], MPFR_NAN_KIND, 0, prec, b + j * size);
    }
    return 1;
}

/* S' when no term is BEYOND: ANALYSIS.md §2.2.  Returns with r->s1 set. */
static void sum_tail(ora_row *r, mpfr_prec_t P)
{
    /* Terms with x_j - x2 < -(D+1), D = P + 8 + bits(n), are left out: each is below
     * e^(a2) e^-(D+1), together below n e^-D e^(a2) < 2^-(P+8) S'.  The filter is in
     * binary64: fl(x_j - x2) < -2(D+1) implies x_j - x2 < -(D+1) (relative error 2^-53;
     * an overflow to -inf is a fortiori below).  Every other term is computed. */
    double cut = -2.0 * (double)(P + 9 + ora_bits(r->n));
    set_prec_if(r->e, P + 4);
    mpfr_set_zero(r->s1, 1);
    int cached = r->want_cache && cache_ready(r, P + 4);
    r->cache_ok = cached;
    for (size_t j = 0; j < r->n; j++) {
        double v = r->x[j];
        if (!(v < r->m) || v == -INFINITY || v - r->x2 < cut)
            continue;
        mpfr_ptr e = cached ? &r->cache[j] : r->e;
        ora_row_shift(r, j, r->a);       /* a_j exact                                 */
        mpfr_exp(e, r->a, MPFR_RNDN);    /* e^(a_j) (1 + d), |d| <= 2^-(P+4)           */
        mpfr_add(r->s1, r->s1, e, MPFR_RNDN); /* P+4+bits(n) bits: n adds cost
                                                 <= 2^-(P+4) relative, all terms > 0 */
    }
}

void ora_row_state(ora_row *r, mpfr_prec_t P)
{
    r->P = P;
    r->cache_ok = 0;
    set_prec_if(r->s1, P + 4 + ora_bits(r->n));
    set_prec_if(r->S, P + 4);
    set_prec_if(r->L, P + 4);
    r->s1_kind = ORA_ZERO;
    mpfr_set_zero(r->s1, 1);
    if (r->has2) {
        ora_sub_exact_d(r->d, r->x2, r->m); /* a2 = x2 - m exactly */
        if (mpfr_cmp_si_2exp(r->d, -1, ORA_BEYOND_LOG2) < 0) {
            r->s1_kind = ORA_BEYOND; /* S' < n e^(a2) < 2^-(2^61): §1.5; s1 stays 0 */
        } else {
            r->s1_kind = ORA_APPROX;
            sum_tail(r, P); /* |s1 - S'| <= 2^-(P+2) S' (§2.2) */
        }
    }
    /* S = c1 + S': one more rounding, 2^-(P+4): rel. error <= 2^-(P+1) (§2.3).
     * With S' BEYOND, S = c1 within 2^-(2^61), far below 2^-(P+1). */
    mpfr_add_ui(r->S, r->s1, r->c1, MPFR_RNDN);
    if (r->c1 == 1) {
        /* L = log1p(S') (§2.4): the error of s1 passes through with a factor
         * S'/((1+S') log1p(S')) <= 1; log1p adds 2^-(P+4): rel. error <= 2^-(P+1). */
        r->L_kind = r->s1_kind;
        if (r->s1_kind == ORA_APPROX)
            mpfr_log1p(r->L, r->s1, MPFR_RNDN);
        else
            mpfr_set_zero(r->L, 1);
    } else {
        /* L = log(c1 + S') >= log 2 (§2.4): rel. error <= 1.47 (2^-(P+1)) + 2^-(P+4) < 2^-P */
        r->L_kind = ORA_APPROX;
        mpfr_log(r->L, r->S, MPFR_RNDN);
    }
}

void ora_row_term_tail(ora_row *r, size_t i, ora_term *T)
{
    ora_row_shift(r, i, r->a);
    if (mpfr_cmp_si_2exp(r->a, -1, ORA_BEYOND_LOG2) < 0) {
        ora_term_beyond(T, 1); /* e^(a_i)/S < e^(-2^61) (§1.5) */
        return;
    }
    mpfr_prec_t P = r->P;
    set_prec_if(r->e, P + 4);
    set_prec_if(T->t, P + 4);
    mpfr_srcptr e = r->e;
    if (r->cache_ok && !mpfr_nan_p(&r->cache[i]))
        e = &r->cache[i];               /* the same e^(a_i) as in S' (sum_tail)       */
    else
        mpfr_exp(r->e, r->a, MPFR_RNDN); /* 2^-(P+4)                                   */
    mpfr_div(T->t, e, r->S, MPFR_RNDN); /* + S's 2^-(P+1) + 2^-(P+4): < 2^-P (§2.5)   */
    ora_term_rel(T, P);
}

void ora_row_term_head(ora_row *r, int sign, ora_term *T)
{
    if (r->s1_kind != ORA_APPROX) {
        if (r->s1_kind == ORA_ZERO)
            ora_term_zero(T);
        else
            ora_term_beyond(T, sign);
        return;
    }
    mpfr_prec_t P = r->P;
    set_prec_if(r->e, P + 4);
    set_prec_if(T->t, P + 4);
    mpfr_mul_ui(r->e, r->S, r->c1, MPFR_RNDN); /* c1 S: 2^-(P+1) + 2^-(P+4)                  */
    mpfr_div(T->t, r->s1, r->e, MPFR_RNDN);    /* S'/(c1 S): + 2^-(P+2) + 2^-(P+4) < 2^-P (§2.6) */
    if (sign < 0)
        mpfr_neg(T->t, T->t, MPFR_RNDN);
    ora_term_rel(T, P);
}

void ora_row_term_L(ora_row *r, int sign, ora_term *T)
{
    if (r->L_kind != ORA_APPROX) {
        if (r->L_kind == ORA_ZERO)
            ora_term_zero(T);
        else
            ora_term_beyond(T, sign);
        return;
    }
    set_prec_if(T->t, mpfr_get_prec(r->L));
    mpfr_set(T->t, r->L, MPFR_RNDN); /* exact copy: rel. error of L, < 2^-P (§2.4) */
    if (sign < 0)
        mpfr_neg(T->t, T->t, MPFR_RNDN);
    ora_term_rel(T, r->P);
}
