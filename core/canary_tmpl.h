/* The canary kernels, written once over a compute type and instantiated by core/canary.c
 * (which states the parameters: CAN_T, CAN_TAG, CAN_SFX, CAN_DT, CAN_PURE, CAN_LD, CAN_ST,
 * CAN_R, CAN_EXP, CAN_LOG).  No include guard: included once per instantiation, and every
 * parameter is #undef'd at the end.
 *
 * Canaries are the known-bad algorithms that real code uses, written honestly: in the
 * native precision (float for f32 and bf16, double for f64), with the library's expf/exp
 * and logf/log, sums in order, no compensation, no special-value handling beyond what IEEE
 * arithmetic does by itself.  They validate their input like every kernel (bad input is a
 * status, never UB) and apply the reduction in the compute type (plain sum; mean = sum /
 * count).  They exist so that the harness proves it sees badness: each claims the bound of
 * its production sibling and is expected to miss it.
 *
 * Thresholds quoted below, for the float compute type (f32, bf16) / double (f64):
 *   exp overflows    x > 0x1.62e42ep+6 ~= 88.72  (ln FLT_MAX; for bf16 inputs 0x1.62p6 = 88.5
 *                    is the last finite, 89 overflows)
 *                    x > 0x1.62e42fefa39efp+9 ~= 709.78 (ln DBL_MAX)
 *   exp is subnormal x <= -0x1.5d58ap+6 ~= -87.34 (ln 2^-126)  /  x < -708.40 (ln 2^-1022)
 *   exp is zero      x <= -0x1.9fe36ap+6 ~= -103.97 (ln 2^-150, glibc expf)
 *                    x <= -0x1.74910d52d3052p+9 ~= -745.13 (glibc exp)
 * (measured with glibc 2.36: expf(0x1.62e42ep+6) = 0x1.ffff08p+127, the next float gives inf).
 */

#define H(name) UG__CAT(name##_, CAN_TAG)              /* this instantiation's helpers */
#define KFN(op, alg) UG__CAT(ug_k_##op##_##alg##_, CAN_SFX) /* kernels.def's function name */
#define X(k) CAN_LD(p->x, (k))
#define AUX(k) CAN_LD(p->aux, (k))

/* Each kernel: validate, then run the family's code. */
#define CANARY(op, alg, OP, call)                           \
    ug_status KFN(op, alg)(const ug_problem *p)             \
    {                                                       \
        ug_status st = ug__validate(p, OP, CAN_DT);         \
        return st != UG_OK ? st : (call);                   \
    }

/* ------------------------------------------------------------------ row helpers */

/* The largest entry of row r (a NaN entry makes the row's sum NaN anyway). */
static CAN_T H(row_max)(const ug_problem *p, size_t r)
{
    size_t o = r * p->n;
    CAN_T m = X(o);
    for (size_t j = 1; j < p->n; j++)
        if (X(o + j) > m)
            m = X(o + j);
    return m;
}

/* exp(x_k - c): the shift, then the exp, each rounded as the arithmetic unit rounds. */
static CAN_T H(ex)(const ug_problem *p, size_t k, CAN_T c) { return CAN_R(CAN_EXP(CAN_R(X(k) - c))); }

/* A row's shift c (0 for the naive algorithms, the max for the shifted ones) and
 * s = sum_j exp(x_j - c), added in order, each partial sum rounded. */
typedef struct H(row) { CAN_T c, s; } H(row);

static H(row) H(row_sum)(const ug_problem *p, size_t r, int shifted)
{
    H(row) w = {shifted ? H(row_max)(p, r) : 0, 0};
    for (size_t j = 0; j < p->n; j++)
        w.s = CAN_R(w.s + H(ex)(p, r * p->n + j, w.c));
    return w;
}

/* softmax_k = exp(x_k - c) / s (k indexes the whole array). */
static CAN_T H(softmax_at)(const ug_problem *p, const H(row) *w, size_t k) { return CAN_R(H(ex)(p, k, w->c) / w->s); }

/* A loss of item k (a row for xent and xent_dense, an element for bce_logits), reduced
 * over count items in the compute type: none stores each, sum adds in order, mean
 * divides that sum by count. */
typedef CAN_T (*H(loss_fn))(const ug_problem *p, size_t k, int clipped);

static ug_status H(reduce)(const ug_problem *p, size_t count, H(loss_fn) loss, int clipped)
{
    CAN_T acc = 0;
    for (size_t k = 0; k < count; k++) {
        CAN_T l = loss(p, k, clipped);
        if (p->reduction == UG_RED_NONE)
            CAN_ST(p->y, k, l);
        else
            acc = CAN_R(acc + l);
    }
    if (p->reduction == UG_RED_SUM)
        CAN_ST(p->y, 0, acc);
    else if (p->reduction == UG_RED_MEAN)
        CAN_ST(p->y, 0, CAN_R(acc / (CAN_T)count));
    return UG_OK;
}

/* ------------------------------------------------------------------ softmax
 * naive (f32, f64, bf16): y_i = exp(x_i) / sum_j exp(x_j), no shift, the textbook formula.
 *   Canary: softmax is shift-invariant, this is not.  Any x_j above the exp overflow
 *   threshold (88.72 / 709.78) makes the sum inf: inf/inf = NaN for that entry, 0 for the
 *   others; the sum overflows earlier still when several large terms add up (n = 2,
 *   x = {88.5, 88.5}: 2 * 0x1.99b988p+127 = inf, both outputs 0).  A row entirely below
 *   -103.97 / -745.13 gives 0/0 = NaN; below -87.34 / -708.40 the exps are subnormal and
 *   lose bits before the division.
 * pure (bf16): shifted by the max, but every exp, every partial sum and the quotient are
 *   rounded to bf16, as pure-bf16 units do.  Canary: the running sum stalls once it
 *   reaches 2^8 times the next term (256 + 1 = 257 is a tie and rounds back to 256): an
 *   all-equal row gives 1/256 for every n > 256, where the answer is 1/n.
 */
static ug_status H(softmax)(const ug_problem *p, int shifted)
{
    for (size_t r = 0; r < p->rows; r++) {
        H(row) w = H(row_sum)(p, r, shifted);
        for (size_t k = r * p->n; k < (r + 1) * p->n; k++)
            CAN_ST(p->y, k, H(softmax_at)(p, &w, k));
    }
    return UG_OK;
}

/* ------------------------------------------------------------------ log_softmax
 * naive (f32, f64, bf16): y_i = x_i - log(sum_j exp(x_j)), no shift.
 *   Canary: the sum overflows above 88.72 / 709.78 (log = inf, every y = -inf) and
 *   underflows when every x_j <= -103.97 / -745.13 (log 0 = -inf, every y = +inf); near
 *   those limits, subnormal terms lose bits.
 * twostep (f32, f64, bf16): y_i = log(softmax(x)_i), softmax shifted by the max: what
 *   log(softmax(x)) in a framework computes.
 *   Canary: softmax_i underflows to 0 when x_i - max <= -103.97 / -745.13 and the log
 *   gives -inf where the exact value is about x_i - max, finite; from -87.34 / -708.40 on,
 *   the subnormal softmax_i has lost bits; and where softmax_i rounds to 1 (one dominant
 *   logit) the log gives 0 instead of -sum_{j != i} softmax_j.
 * pure (bf16): y_i = (x_i - max) - log(s), every operation rounded to bf16.
 *   Canary: the stalled sum (see softmax) makes log(s) at most log(256 * max term).
 */
static ug_status H(log_softmax)(const ug_problem *p, int shifted, int twostep)
{
    for (size_t r = 0; r < p->rows; r++) {
        H(row) w = H(row_sum)(p, r, shifted);
        CAN_T lse = twostep ? 0 : CAN_R(CAN_LOG(w.s));
        for (size_t k = r * p->n; k < (r + 1) * p->n; k++)
            CAN_ST(p->y, k, twostep ? CAN_R(CAN_LOG(H(softmax_at)(p, &w, k))) : CAN_R(CAN_R(X(k) - w.c) - lse));
    }
    return UG_OK;
}

/* ------------------------------------------------------------------ logsumexp
 * naive (f32, f64, bf16): log(sum_j exp(x_j)), no shift.
 *   Canary: +inf as soon as one x_j > 88.72 / 709.78 (the exact value is about max x);
 *   -inf when every x_j <= -103.97 / -745.13 (exact: about max x); subnormal terms below
 *   -87.34 / -708.40 lose bits.
 * pure (bf16): max + log(s), every operation rounded to bf16.
 *   Canary: the stalled sum: an all-equal row of zeros gives log(256) ~= 5.55 for every
 *   n > 256 where the answer is log(n).
 */
static ug_status H(logsumexp)(const ug_problem *p, int shifted)
{
    for (size_t r = 0; r < p->rows; r++) {
        H(row) w = H(row_sum)(p, r, shifted);
        CAN_ST(p->y, r, CAN_R(w.c + CAN_R(CAN_LOG(w.s))));
    }
    return UG_OK;
}

#if !CAN_PURE
/* Keras's clip of a probability to [1e-7, 1 - 1e-7], the constants rounded to the compute
 * type: float [0x1.ad7f2ap-24, 0x1.fffffcp-1], double [0x1.ad7f29abcaf48p-24,
 * 0x1.fffffca501acbp-1].  A NaN passes through (both comparisons are false). */
static CAN_T H(clip)(CAN_T q)
{
    const CAN_T lo = (CAN_T)1e-7, hi = (CAN_T)(1.0 - 1e-7);
    return q < lo ? lo : q > hi ? hi : q;
}

/* ------------------------------------------------------------------ xent
 * twostep (f32, f64, bf16): -log(softmax(x)_t), softmax shifted by the max.
 *   Canary: softmax_t underflows when x_t - max <= -103.97 / -745.13: loss +inf where the
 *   exact loss (about max - x_t) is finite; small losses lose their relative precision:
 *   softmax_t carries an absolute error of about 2^-24 / 2^-53, so a loss L < 1 has a
 *   relative error of about 2^-24 / L, and for L < 2^-25 / 2^-54 softmax_t rounds to 1 and
 *   the loss to 0.
 * clipped (f32, f64, bf16): -log(clip(softmax(x)_t, 1e-7, 1 - 1e-7)), what frameworks do
 *   when handed probabilities instead of logits.
 *   Canary: every loss above -log(1e-7) ~= 16.118 is returned as 16.118 and every loss below
 *   -log(1 - 1e-7) (float ~= 1.19e-7 = 2^-23 with glibc logf, double ~= 1.0e-7) as that floor: an
 *   n = 1 row, exact loss 0, gives 1.19e-7.
 */
static CAN_T H(xent_loss)(const ug_problem *p, size_t r, int clipped)
{
    H(row) w = H(row_sum)(p, r, 1);
    CAN_T q = H(softmax_at)(p, &w, r * p->n + (size_t)p->target[r]);
    return -CAN_LOG(clipped ? H(clip)(q) : q);
}

/* ------------------------------------------------------------------ xent_dense
 * twostep (f32, f64, bf16): -sum_i p_i log(softmax(x)_i), softmax shifted by the max, every
 *   term computed, the zero-probability ones included, as frameworks do
 *   (-reduce_sum(p * log(softmax))).
 *   Canary: a class whose softmax underflows (x_i - max <= -103.97 / -745.13) gives
 *   0 * log(0) = 0 * -inf = NaN when p_i = 0 (exact: that term is 0) and +inf when p_i > 0;
 *   small losses lose their relative precision as in xent.
 * clipped (f32, f64, bf16): the same with each softmax_i clipped to [1e-7, 1 - 1e-7].
 *   Canary: no NaN, but each term's -log is capped at 16.118, and a one-hot row whose
 *   softmax is near one-hot costs at least 1.19e-7 / 1.0e-7 per unit of probability.
 */
static CAN_T H(xent_dense_loss)(const ug_problem *p, size_t r, int clipped)
{
    H(row) w = H(row_sum)(p, r, 1);
    CAN_T acc = 0;
    for (size_t k = r * p->n; k < (r + 1) * p->n; k++) {
        CAN_T q = H(softmax_at)(p, &w, k);
        acc += AUX(k) * CAN_LOG(clipped ? H(clip)(q) : q);
    }
    return -acc;
}

/* ------------------------------------------------------------------ xent_grad
 * naive (f32, f64, bf16): exp(x_i) / sum_j exp(x_j) - [i = t] (dense labels, target NULL:
 *   - p_i), no shift.
 *   Canary: overflow and underflow as naive softmax (NaN rows above 88.72 / 709.78); and at
 *   i = t, softmax_t - 1 cancels: the result -(1 - softmax_t) keeps only the absolute
 *   error of softmax_t (about 2^-24 / 2^-53), and is 0 once softmax_t rounds to 1 while the
 *   exact value is -sum_{j != t} softmax_j.
 */
static ug_status H(xent_grad)(const ug_problem *p)
{
    for (size_t r = 0; r < p->rows; r++) {
        H(row) w = H(row_sum)(p, r, 0);
        for (size_t i = 0; i < p->n; i++) {
            size_t k = r * p->n + i;
            CAN_T label = p->target != NULL ? (CAN_T)((int64_t)i == p->target[r]) : AUX(k);
            CAN_ST(p->y, k, H(softmax_at)(p, &w, k) - label);
        }
    }
    return UG_OK;
}

/* ------------------------------------------------------------------ bce_logits
 * naive (f32, f64, bf16): y log(1 + exp(-x)) + (1 - y) log(1 + exp(x)), elementwise, no
 *   log1p.
 *   Canary: exp(x) overflows for x > 88.72 / 709.78: log(1 + inf) = inf, and with y = 1
 *   the term (1 - y) * inf = 0 * inf = NaN (exact loss about e^-x); 1 + e^-x rounds to 1
 *   for x > 0x1.0a2b24p+4 ~= 16.64 / 36.74, so a confident correct prediction (y = 1,
 *   large x) costs 0 instead of about e^-x, and below that log(1 + e^-x) loses the
 *   relative precision of e^-x.
 * clipped (f32, f64, bf16): p = 1 / (1 + exp(-x)), clipped to [1e-7, 1 - 1e-7], then
 *   -(y log p + (1 - y) log(1 - p)): binary cross-entropy on probabilities.
 *   Canary: losses capped at -log(1e-7) ~= 16.118 (x = -30, y = 1: exact 30); floored at
 *   1.19e-7 / 1.0e-7; 1 - p cancels for p near 1.
 */
static CAN_T H(bce_loss)(const ug_problem *p, size_t k, int clipped)
{
    CAN_T x = X(k), y = AUX(k);
    if (!clipped)
        return y * CAN_LOG(1 + CAN_EXP(-x)) + (1 - y) * CAN_LOG(1 + CAN_EXP(x));
    CAN_T q = H(clip)(1 / (1 + CAN_EXP(-x)));
    return -(y * CAN_LOG(q) + (1 - y) * CAN_LOG(1 - q));
}

CANARY(softmax, naive, UG_OP_SOFTMAX, H(softmax)(p, 0))
CANARY(log_softmax, naive, UG_OP_LOG_SOFTMAX, H(log_softmax)(p, 0, 0))
CANARY(log_softmax, twostep, UG_OP_LOG_SOFTMAX, H(log_softmax)(p, 1, 1))
CANARY(logsumexp, naive, UG_OP_LOGSUMEXP, H(logsumexp)(p, 0))
CANARY(xent, twostep, UG_OP_XENT, H(reduce)(p, p->rows, H(xent_loss), 0))
CANARY(xent, clipped, UG_OP_XENT, H(reduce)(p, p->rows, H(xent_loss), 1))
CANARY(xent_dense, twostep, UG_OP_XENT_DENSE, H(reduce)(p, p->rows, H(xent_dense_loss), 0))
CANARY(xent_dense, clipped, UG_OP_XENT_DENSE, H(reduce)(p, p->rows, H(xent_dense_loss), 1))
CANARY(xent_grad, naive, UG_OP_XENT_GRAD, H(xent_grad)(p))
CANARY(bce_logits, naive, UG_OP_BCE_LOGITS, H(reduce)(p, p->rows * p->n, H(bce_loss), 0))
CANARY(bce_logits, clipped, UG_OP_BCE_LOGITS, H(reduce)(p, p->rows * p->n, H(bce_loss), 1))

#else
/* ------------------------------------------------------------------ xent, pure bf16
 * pure (bf16): (max - x_t) + log(s), the fused production formula, every operation
 *   rounded to bf16, and the reduction's partial sums too.
 *   Canary: the stalled sum (see softmax), and a bf16 reduction that stalls the same way
 *   over many rows.
 */
static CAN_T H(xent_pure_loss)(const ug_problem *p, size_t r, int clipped)
{
    (void)clipped;
    H(row) w = H(row_sum)(p, r, 1);
    return CAN_R(CAN_R(w.c - X(r * p->n + (size_t)p->target[r])) + CAN_R(CAN_LOG(w.s)));
}

CANARY(softmax, pure, UG_OP_SOFTMAX, H(softmax)(p, 1))
CANARY(log_softmax, pure, UG_OP_LOG_SOFTMAX, H(log_softmax)(p, 1, 0))
CANARY(logsumexp, pure, UG_OP_LOGSUMEXP, H(logsumexp)(p, 1))
CANARY(xent, pure, UG_OP_XENT, H(reduce)(p, p->rows, H(xent_pure_loss), 0))
#endif

#undef H
#undef KFN
#undef X
#undef AUX
#undef CANARY
#undef CAN_T
#undef CAN_TAG
#undef CAN_SFX
#undef CAN_DT
#undef CAN_PURE
#undef CAN_LD
#undef CAN_ST
#undef CAN_R
#undef CAN_EXP
#undef CAN_LOG
