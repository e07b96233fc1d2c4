/* The f64 SIMD kernels, written once over the primitives of the including ISA file
 * (core/simd_f64_avx2.c, core/simd_f64_avx512.c), after core/simd_vexp_dd.h and
 * core/simd_vexp_f64.h.  Error analysis: doc/SIMD-ERROR-ANALYSIS.md §7; each kernel's
 * contract block states its claim.  Every op comes twice: the production rows (fast = 1)
 * take e_j from the binary64 vexp_f64 (2^-56.0, §7.5; softmax and xent_grad store e_j
 * rounded once in y), the rows of algorithm "dd" (fast = 0) from vexp_dd (§7.1-7.3).
 *
 * The algorithm (f64 needs more than binary64 lanes: the sums are double-doubles):
 *   pass 1  m = max_j x_j, exact.  m = +-inf or NaN: the row goes to the scalar production
 *           kernel (ug__simd_fallback_row), as for f32.
 *   pass 2  d_j = x_j - m split exactly, dh + dl (fast-two-sum where pass 1's max and min
 *           order the operands, else two-sum: f64_shift_kind); e_j = vexp_f64(dh, dl)
 *           (relative error <= 2^-56.0) or vexp_dd(dh, dl) (<= 2^-62.9); the sum in lane
 *           accumulators (UG__F64_ACC of them for the dd rows, 2 for the others), the high
 *           parts by an exact fast-two-sum (on max and min; the fast rows' accumulators start
 *           at 1, so the plain one), the errors and the low parts added plainly, then the
 *           accumulators and the lanes by the same in a fixed order.  The fast rows add every
 *           lane (sp = S - 1 where the max term is to be left out, checked per row by
 *           f64_ordered_ok, else pass 2 again with it kept out); the dd rows keep it out
 *           (sp = sum_{d_j < 0} e_j + (c0 - 1)) except for softmax (S = sum e_j).
 *           A row with a finite d_j < UG__F64_D_MIN = -670 goes to the scalar kernel: below,
 *           the low part of exp is subnormal; above, every value a kernel forms is normal.
 *   op      softmax (eh + el)/(Sh + Sl) (one reciprocal, one residual, one rounding; the
 *           fast row: eh times S's double-double reciprocal, f64_recip);
 *           log_softmax (dh + dl) - L (fast: fl(x - m) - Lh, two roundings); logsumexp
 *           m + L; xent (m - x_t) + L, with L = vlog1p_dd(sp) (<= 2^-56.1), each a
 *           double-double rounded once to binary64.
 * The lane order depends on n only: a row's outputs do not depend on the batch.  Rows of
 * n <= UG__F64_GROUP_MAX_N take their logs VL rows at a time (lane-wise: the same bits);
 * the fast rows of n <= UG__F64_TINY_N are analysed VL at a time, transposed (lane k = row k).
 *
 * The including file defines: vd, VL, vm (a lane mask), the primitives of simd_vexp_dd.h and
 * vd_zero, vd_loadu, vd_storeu, vd_max, vd_min, vd_eq, vd_nge (!(a >= b)), vd_fnma(a, b, c)
 * (c - a b, one rounding), vm_or, vm_and, vm_count (lanes set), vm_any, vd_swap(v, lvl)
 * (lanes 2^lvl apart exchanged), vd_transpose(r) (VL vectors, r[k][j] -> r[j][k]),
 * vd_stream(p, v) (a non-temporal store, p aligned to the vector).
 */

#define UG__F64_D_MIN (-670.0) /* e^-670 = 2^-966.6: every part of every value stays normal */
#define UG__F64_ACC 4 /* lane accumulators of pass 2: latency, and a shorter error chain */
#define UG__F64_GROUP_MAX_N ((size_t)512)
#define UG__F64_TINY_N ((size_t)32) /* rows up to this long: VL at a time, transposed */
#define ROW_X(p, r) ((const double *)(p)->x + (r) * (p)->n)
#define ROW_Y(p, r) ((double *)(p)->y + (r) * (p)->n)
#define SCALAR64(op, alg) ug_k_##op##_##alg##_f64

/* ------------------------------------------------------------------ double-double scalars */

typedef struct f64dd { double h, l; } f64dd;

/* a + b, both double-doubles (two-sum of the high parts, the low parts added). */
static inline f64dd f64dd_add(f64dd a, f64dd b)
{
    double s, e;
    ug__two_sum(a.h, b.h, &s, &e);
    return (f64dd){s, e + (a.l + b.l)};
}

/* hi + lo rounded once (the hi part when it is infinite: the low part is then NaN). */
static inline double f64dd_round(f64dd a) { return isinf(a.h) ? a.h : a.h + a.l; }

/* ------------------------------------------------------------------ partial vectors */

UG__SIMD_INLINE vd f64_load_part(const double *x, size_t k)
{
    double buf[VL];
    for (size_t j = 0; j < VL; j++)
        buf[j] = j < k ? x[j] : -INFINITY;
    return vd_loadu(buf);
}

UG__SIMD_INLINE void f64_store_part(double *y, vd v, size_t k)
{
    double buf[VL];
    vd_storeu(buf, v);
    memcpy(y, buf, k * sizeof *y);
}

/* ------------------------------------------------------------------ pass 1 */

/* max_j x_j, and in *mn min_j x_j (-inf when a mask is there). */
static inline double f64_row_max(const double *x, size_t n, double *mn)
{
    vd m0 = vd_set1(-INFINITY), m1 = m0, m2 = m0, m3 = m0, n0 = vd_set1(INFINITY), n1 = n0;
    size_t i = 0;
    for (; i + 4 * VL <= n; i += 4 * VL) {
        vd a = vd_loadu(x + i), b = vd_loadu(x + i + VL), c = vd_loadu(x + i + 2 * VL), d = vd_loadu(x + i + 3 * VL);
        m0 = vd_max(m0, a), m1 = vd_max(m1, b), m2 = vd_max(m2, c), m3 = vd_max(m3, d);
        n0 = vd_min(n0, vd_min(a, b)), n1 = vd_min(n1, vd_min(c, d));
    }
    for (; i + VL <= n; i += VL) {
        vd a = vd_loadu(x + i);
        m0 = vd_max(m0, a), n0 = vd_min(n0, a);
    }
    if (i < n) {
        double buf[VL];
        for (size_t j = 0; j < VL; j++)
            buf[j] = j < n - i ? x[i + j] : INFINITY;
        n1 = vd_min(n1, vd_loadu(buf));
        m1 = vd_max(m1, f64_load_part(x + i, n - i));
    }
    vd v = vd_max(vd_max(m0, m1), vd_max(m2, m3)), w = vd_min(n0, n1);
    for (int lvl = 0; (1 << lvl) < VL; lvl++) {
        v = vd_max(v, vd_swap(v, lvl));
        w = vd_min(w, vd_swap(w, lvl));
    }
    double b[VL], c[VL];
    vd_storeu(b, v);
    vd_storeu(c, w);
    *mn = c[0];
    return b[0];
}

/* ------------------------------------------------------------------ streamed outputs */

/* Calls writing at least UG__SIMD_STREAM_BYTES of outputs (as the f32 rows, simd_tmpl.h's
 * stream_outputs) store them around the caches (vd_stream): no cache near the core holds
 * them anyway, and a line written whole is not read for ownership first.  softmax and
 * xent_grad then keep e_i in a scratch row (L1 or L2: n <= 2^16 is 512 KiB) instead of in y,
 * so y is written once instead of twice.  Same values, same bits: only the way the stores
 * reach memory changes (an sfence at the end of the call orders them before the caller's). */
static inline int f64_stream_outputs(const ug_problem *p)
{
    return p->rows * p->n * sizeof(double) >= UG__SIMD_STREAM_BYTES;
}

#define UG__F64_LINE ((size_t)(64 / sizeof(double))) /* a cache line: VL (AVX-512), 2 VL (AVX2) */

/* The first outputs of y up to a cache-line boundary (at most n), stored plainly: the
 * streamed stores after them write whole lines.  n (nothing streamed) for a y that is not
 * aligned to its element. */
static inline size_t f64_line_head(const double *y, size_t n)
{
    uintptr_t a = (uintptr_t)y;
    size_t h = a % sizeof(double) != 0 ? n : (size_t)((64 - a % 64) % 64) / sizeof(double);
    return h < n ? h : n;
}

/* One output vector of f64_stream_store from the inputs v: op 0, e / S by f64_div0 (a, b =
 * S's reciprocal ih, il); op 1, log_softmax's fl(x - m) - Lh (a = -m, b = Lh: f64_logsm's fast
 * branch). */
UG__SIMD_INLINE vd f64_div0(vd e, vd ih, vd il);
UG__SIMD_INLINE vd f64_stream_out(int op, vd v, vd a, vd b)
{
    return op == 0 ? f64_div0(v, a, b) : vd_sub(vd_add(v, a), b);
}

/* y_i = f64_stream_out(op, in_i) for i < n (op a constant at every call), nt: streamed (the
 * first outputs up to a cache line and the last ones by partial stores, the whole lines
 * between by vd_stream), else plain stores.  Lane-wise: the same bits either way. */
UG__SIMD_INLINE void f64_stream_store(const double *in, size_t n, int op, vd a, vd b, double *y, int nt)
{
    size_t h = nt ? f64_line_head(y, n) : 0, i = 0;
    for (; i < h; i += VL) {
        size_t k = h - i < VL ? h - i : VL;
        f64_store_part(y + i, f64_stream_out(op, f64_load_part(in + i, k), a, b), k);
    }
    for (i = h; nt && i + UG__F64_LINE <= n; i += UG__F64_LINE)
        for (size_t j = 0; j < UG__F64_LINE; j += VL)
            vd_stream(y + i + j, f64_stream_out(op, vd_loadu(in + i + j), a, b));
    for (; i + VL <= n; i += VL)
        vd_storeu(y + i, f64_stream_out(op, vd_loadu(in + i), a, b));
    if (i < n)
        f64_store_part(y + i, f64_stream_out(op, f64_load_part(in + i, n - i), a, b), n - i);
}

/* A long row's outputs pending (as the f32 rows' pend, simd_tmpl.h): row r's are written
 * during row r + 1's pass 2, 4 VL at a time after each block of 4 vectors (f64_pend_4), so
 * that the stores drain while the exps are computed; the rest by f64_pend_flush.  y_i =
 * f64_stream_out(op, in_i, a, b); fix: then y[fix_t] = fix_v (xent_grad's target). */
typedef struct f64pend {
    int op, nt, fix;  /* op: f64_stream_out's; nt: streamed; fix: y[fix_t] = fix_v at the end */
    const double *in; /* e_i (op 0) or x_i (op 1) */
    double a, b, fix_v;
    double *y;
    size_t next, n, fix_t; /* outputs [0, next) written, of n */
} f64pend;

/* The next 4 VL pending outputs, if there are as many left (pd->next aligned for vd_stream
 * when nt: 4 VL doubles are whole cache lines). */
UG__SIMD_INLINE void f64_pend_4(f64pend *pd)
{
    size_t i = pd->next;
    if (pd->y == NULL || i + 4 * VL > pd->n)
        return;
    pd->next = i + 4 * VL;
    vd a = vd_set1(pd->a), b = vd_set1(pd->b);
    /* op and nt tested once per block (session 7): 4 copies of the loop, the same stores */
#define UG__F64_PEND4(OP, STORE)                                                                   \
    for (size_t j = 0; j < 4 * VL; j += VL)                                                        \
        STORE(pd->y + i + j, f64_stream_out(OP, vd_loadu(pd->in + i + j), a, b))
    if (pd->op == 0 && pd->nt)
        UG__F64_PEND4(0, vd_stream);
    else if (pd->op == 0)
        UG__F64_PEND4(0, vd_storeu);
    else if (pd->nt)
        UG__F64_PEND4(1, vd_stream);
    else
        UG__F64_PEND4(1, vd_storeu);
#undef UG__F64_PEND4
}

/* The rest of the pending outputs, [next, n), and the fix; then nothing is pending. */
static inline void f64_pend_flush(f64pend *pd)
{
    if (pd->y == NULL)
        return;
    size_t i = pd->next;
    if (pd->op == 0)
        f64_stream_store(pd->in + i, pd->n - i, 0, vd_set1(pd->a), vd_set1(pd->b), pd->y + i, pd->nt);
    else
        f64_stream_store(pd->in + i, pd->n - i, 1, vd_set1(pd->a), vd_set1(pd->b), pd->y + i, pd->nt);
    if (pd->fix)
        pd->y[pd->fix_t] = pd->fix_v;
    pd->y = NULL;
}

/* Make *pd (op, in, a, b, y, fix set by the caller) the pending outputs of a row of n, nt:
 * streamed, after writing at once the outputs up to the first cache line of y. */
static inline void f64_pend_set(f64pend *pd, size_t n, int nt)
{
    pd->n = n;
    pd->nt = nt;
    pd->next = nt ? f64_line_head(pd->y, n) : 0;
    if (pd->op == 0)
        f64_stream_store(pd->in, pd->next, 0, vd_set1(pd->a), vd_set1(pd->b), pd->y, 0);
    else
        f64_stream_store(pd->in, pd->next, 1, vd_set1(pd->a), vd_set1(pd->b), pd->y, 0);
    if (pd->nt && pd->next == n) /* y not aligned to its element: nothing streamed */
        pd->nt = 0;
}

/* ------------------------------------------------------------------ pass 2 */

/* How pass 2 splits x - m (every kind exact: the same dh, dl, the same bits): */
#define UG__F64_SHIFT_TWO 0 /* two-sum, 6 operations */
#define UG__F64_SHIFT_M 1   /* m > 0 of the row's largest exponent: fast-two-sum(-m, x), 3 */
#define UG__F64_SHIFT_X 2   /* m <= 0, so |x| >= |m| for every x <= m: fast-two-sum(x, -m), 3 */

/* The kind for a row of max m and min mn (fast-two-sum(a, b) is exact when the exponent of
 * a is at least b's, radix 2: Handbook of Floating-Point Arithmetic, 2nd ed., Thm 4.3). */
static inline int f64_shift_kind(double m, double mn)
{
    if (m <= 0)
        return UG__F64_SHIFT_X;
    if (fabs(mn) <= m || (isfinite(mn) && mn != 0 && ilogb(mn) <= ilogb(m)))
        return UG__F64_SHIFT_M;
    return UG__F64_SHIFT_TWO;
}

/* x - m = dh + dl exactly (kind: UG__F64_SHIFT_*); x = -inf gives dh = -inf (dl NaN, never
 * used). */
UG__SIMD_INLINE void f64_shift(vd x, vd nm, vd *dh, vd *dl, int kind)
{
    vd s = vd_add(x, nm);
    *dh = s;
    if (kind == UG__F64_SHIFT_M) {
        *dl = vd_sub(x, vd_sub(s, nm));
    } else if (kind == UG__F64_SHIFT_X) {
        *dl = vd_sub(nm, vd_sub(s, x));
    } else {
        vd bb = vd_sub(s, x);
        *dl = vd_add(vd_sub(x, vd_sub(s, bb)), vd_sub(nm, bb));
    }
}

/* (h, l) += (bh, bl), h, bh >= 0: the high parts by fast-two-sum on max(h, bh) and
 * min(h, bh) (exact: the same error as two-sum, one operation fewer), the error and the
 * low parts added. */
UG__SIMD_INLINE void f64_vsum(vd *h, vd *l, vd bh, vd bl)
{
    vd s = vd_add(*h, bh);
    vd err = vd_sub(vd_min(*h, bh), vd_sub(s, vd_max(*h, bh)));
    *h = s;
    *l = vd_add(*l, vd_add(err, bl));
}

/* (h, l) += (bh, bl) for h >= 1 >= bh >= 0 (softmax's accumulators, started at 1: every
 * e_j <= 1): fast-two-sum, exact; 5 operations against f64_vsum's 7. */
UG__SIMD_INLINE void f64_vsum1(vd *h, vd *l, vd bh, vd bl)
{
    vd s = vd_add(*h, bh);
    vd err = vd_sub(bh, vd_sub(s, *h));
    *h = s;
    *l = vd_add(*l, vd_add(err, bl));
}

/* e = exp(dh + dl) where want (+0 elsewhere): vexp_f64 (fast, the 2-ULP rows) or vexp_dd
 * (the dd rows); fast is a constant at every call (the functions are inlined). */
UG__SIMD_INLINE void f64_exp(vd dh, vd dl, vm want, vd *eh, vd *el, int fast)
{
    if (fast)
        vexp_f64_where(dh, dl, want, eh, el);
    else
        vexp_dd_where(dh, dl, want, eh, el);
}

/* f64_exp for dh in [-670, 0] or NaN (no -inf: pass 1 ruled it out), the exp's own range
 * mask left out (the same bits). */
UG__SIMD_INLINE void f64_exp_in(vd dh, vd dl, vm want, vd *eh, vd *el, int fast)
{
    if (fast)
        vexp_f64_in(dh, dl, want, eh, el);
    else
        vexp_dd_where(dh, dl, want, eh, el);
}

typedef struct f64acc {
    vd h[UG__F64_ACC], l[UG__F64_ACC];
    vm bad;     /* lanes with a finite d < UG__F64_D_MIN */
    size_t neq; /* lanes with d = 0 (full = 0) */
} f64acc;

/* One vector of pass 2 into accumulator a: e = exp(x - m) stored to eh, el when not NULL;
 * full = 1 adds every lane, full = 0 the lanes with d < 0 (or NaN), counting d = 0. */
UG__SIMD_INLINE void f64_step(f64acc *acc, int a, vd x, vd nm, double *eh_out, double *el_out, int full, int check,
                               int fast, int kind)
{
    vd dh, dl, eh, el;
    f64_shift(x, nm, &dh, &dl, kind);
    if (fast && full && !check && el_out == NULL && eh_out == NULL) {
        /* vexp_f64_in and f64_vsum1 fused: el = l sc exact, so err + el is one rounding
         * (vd_scale_k_add: VSCALEFPD and an add, or one fma on AVX2; the same bits); only
         * where e is not stored (with the store, measured slower) */
        vd h, l, z, k16;
        vexp_f64_parts_k(dh, dl, &h, &l, &z, &k16);
        eh = vd_scale_k(h, z, k16);
        if (eh_out != NULL)
            vd_storeu(eh_out, eh);
        a &= 1;
        vd s = vd_add(acc->h[a], eh);
        vd err = vd_sub(eh, vd_sub(s, acc->h[a]));
        acc->h[a] = s;
        acc->l[a] = vd_add(acc->l[a], vd_scale_k_add(l, z, k16, err)); /* l sc exact: fl(l sc + err) */
        return;
    }
    if (check) /* pass 1 could not rule out a finite d < UG__F64_D_MIN */
        acc->bad = vm_or(acc->bad, vm_and(vd_lt(dh, vd_set1(UG__F64_D_MIN)), vd_lt(vd_set1(-INFINITY), dh)));
    if (full) {
        if (check)
            f64_exp(dh, dl, vm_all(), &eh, &el, fast);
        else
            f64_exp_in(dh, dl, vm_all(), &eh, &el, fast);
    } else if (eh_out == NULL) { /* the mask of d < 0 applied by the exp's own masked multiply */
        vm lt = vd_nge(dh, vd_zero());
        acc->neq += VL - vm_count(lt);
        if (check)
            f64_exp(dh, dl, lt, &eh, &el, fast);
        else
            f64_exp_in(dh, dl, lt, &eh, &el, fast);
    } else { /* e stored whole (e = 1 at the max), added where d < 0 */
        if (check)
            f64_exp(dh, dl, vm_all(), &eh, &el, fast);
        else
            f64_exp_in(dh, dl, vm_all(), &eh, &el, fast);
        vm lt = vd_nge(dh, vd_zero());
        acc->neq += VL - vm_count(lt);
        vd_storeu(eh_out, eh);
        if (el_out != NULL)
            vd_storeu(el_out, el);
        eh = vd_maskz(lt, eh);
        el = vd_maskz(lt, el);
    }
    if (full && eh_out != NULL) {
        vd_storeu(eh_out, eh);
        if (el_out != NULL)
            vd_storeu(el_out, el);
    }
    if (fast) /* two accumulators (0, 1): fewer registers; 2 and 3 stay at their start */
        a &= 1;
    if (full && fast)
        f64_vsum1(&acc->h[a], &acc->l[a], eh, el);
    else
        f64_vsum(&acc->h[a], &acc->l[a], eh, el);
}

/* Session 7: four f64_steps of the production rows (fast, full, check = 0, el NULL; e stored
 * to eh when not NULL) stage by stage: each stage of the four vectors one after the other
 * (the shift of all four, then their exps' reductions, ...), so that the scheduler holds
 * operations that can run (written step by step, the four chains of some 70 cycles each
 * filled it with operations waiting on their own vector's latency).  The same operations on
 * the same values, and the four sums into accumulators 0, 1, 0, 1 in the order of
 * f64_step's calls: the same bits.  AVX-512 only (32 registers; with AVX2's 16 it spilled
 * and measured 2-12 % slower). */
UG__SIMD_INLINE void f64_step4(f64acc *acc, const double *x, vd nm, double *eh_out, int kind)
{
    vd xv[4], dh[4], dl[4], h[4], l[4], z[4], k16[4], e[4];
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++)
        xv[j] = vd_loadu(x + j * VL);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++)
        f64_shift(xv[j], nm, &dh[j], &dl[j], kind);
    vexp_f64_parts_k4(dh, dl, h, l, z, k16);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++)
        e[j] = vd_scale_k(h[j], z[j], k16[j]);
    if (eh_out != NULL) { /* f64_step's branch with the store: vexp_f64_in, then f64_vsum1 */
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            vd_storeu(eh_out + j * VL, e[j]);
            l[j] = vd_scale_k(l[j], z[j], k16[j]);
        }
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++)
            f64_vsum1(&acc->h[j & 1], &acc->l[j & 1], e[j], l[j]);
        return;
    }
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) { /* f64_step's fused branch */
        int a = j & 1;
        vd sum = vd_add(acc->h[a], e[j]);
        vd err = vd_sub(e[j], vd_sub(sum, acc->h[a]));
        acc->h[a] = sum;
        acc->l[a] = vd_add(acc->l[a], vd_scale_k_add(l[j], z[j], k16[j], err));
    }
}

/* Pass 2 of one row of max m (f64_row_sum): e_j (stored to eh, el when not NULL) and their
 * sum, full: every lane (fast: the accumulators start at 1, f64_vsum1), else the lanes with
 * d < 0 (the max term kept out), as a double-double in *sum (normalised).  check, kind: as
 * f64_step; pd (NULL: none): the previous row's pending outputs, 4 VL after each block of 4
 * vectors (f64_pend_4).  Returns 0 for NaN, an infinite sum or a finite d < UG__F64_D_MIN. */
UG__SIMD_INLINE int f64_pass2(const double *x, size_t n, double *eh, double *el, int full, const double *pf,
                              const double *pw, f64pend *pd, double m, f64dd *sum, int check, int fast, int kind)
{
    vd nm = vd_set1(-m);
    f64acc acc;
    for (int a = 0; a < UG__F64_ACC; a++) { /* UG__F64_ACC = 4 below; softmax's start at 1 */
        acc.h[a] = full && fast ? vd_set1(1.0) : vd_zero();
        acc.l[a] = vd_zero();
    }
    acc.bad = vd_lt(vd_zero(), vd_zero());
    acc.neq = 0;
    size_t i = 0;
    /* constant accumulator indices only: the accumulators stay in registers */
    for (; i + 4 * VL <= n; i += 4 * VL) {
        for (size_t b = 0; pf != NULL && b < 4 * VL * sizeof(double); b += 64)
            _mm_prefetch((const char *)(pf + i) + b, _MM_HINT_T0);
        for (size_t b = 0; pw != NULL && b < 4 * VL * sizeof(double); b += 64)
            _mm_prefetch((const char *)(pw + i) + b, _MM_HINT_ET0);
        if (VL == 8 && __builtin_constant_p(check) && fast && full && !check && el == NULL) /* f64_p2_fast's */
            f64_step4(&acc, x + i, nm, eh ? eh + i : NULL, kind);
        else {
            f64_step(&acc, 0, vd_loadu(x + i), nm, eh ? eh + i : NULL, el ? el + i : NULL, full, check, fast, kind);
            f64_step(&acc, 1, vd_loadu(x + i + VL), nm, eh ? eh + i + VL : NULL, el ? el + i + VL : NULL, full, check, fast, kind);
            f64_step(&acc, 2, vd_loadu(x + i + 2 * VL), nm, eh ? eh + i + 2 * VL : NULL, el ? el + i + 2 * VL : NULL, full, check, fast, kind);
            f64_step(&acc, 3, vd_loadu(x + i + 3 * VL), nm, eh ? eh + i + 3 * VL : NULL, el ? el + i + 3 * VL : NULL, full, check, fast, kind);
        }
        if (pd != NULL)
            f64_pend_4(pd);
    }
    if (i + VL <= n) {
        f64_step(&acc, 0, vd_loadu(x + i), nm, eh ? eh + i : NULL, el ? el + i : NULL, full, check, fast, kind);
        i += VL;
        if (i + VL <= n) {
            f64_step(&acc, 1, vd_loadu(x + i), nm, eh ? eh + i : NULL, el ? el + i : NULL, full, check, fast, kind);
            i += VL;
            if (i + VL <= n) {
                f64_step(&acc, 2, vd_loadu(x + i), nm, eh ? eh + i : NULL, el ? el + i : NULL, full, check, fast, kind);
                i += VL;
            }
        }
    }
    if (i < n) {
        double th[VL], tl[VL]; /* the padding (-inf: e = +0, not counted) must not reach eh, el */
        /* check = 1: the padding is -inf, which only the exp's range mask sends to +0 */
        f64_step(&acc, 3, f64_load_part(x + i, n - i), nm, eh ? th : NULL, el ? tl : NULL, full, 1, fast, kind);
        if (eh != NULL)
            memcpy(eh + i, th, (n - i) * sizeof *th);
        if (el != NULL)
            memcpy(el + i, tl, (n - i) * sizeof *tl);
    }
    /* the accumulators, then the lanes (vd_swap: lanes 2^lvl apart exchanged) by two-sum, in
     * a fixed order: lane 0 ends with the sum; softmax's accumulators lose their 1 (exact) */
    for (int a = 0; full && fast && a < UG__F64_ACC; a++)
        acc.h[a] = vd_sub(acc.h[a], vd_set1(1.0));
    vd vh = acc.h[0], vl = acc.l[0];
    if (n >= 2 * VL || fast) /* the accumulators n leaves at zero are skipped (short rows) */
        f64_vsum(&vh, &vl, acc.h[1], acc.l[1]);
    if (n >= 3 * VL)
        f64_vsum(&vh, &vl, acc.h[2], acc.l[2]);
    if (n >= 4 * VL || n % VL != 0)
        f64_vsum(&vh, &vl, acc.h[3], acc.l[3]);
    for (int lvl = 0; (1 << lvl) < VL; lvl++)
        f64_vsum(&vh, &vl, vd_swap(vh, lvl), vd_swap(vl, lvl));
    double hb[VL], lb[VL];
    vd_storeu(hb, vh);
    vd_storeu(lb, vl);
    f64dd s = {hb[0], lb[0]};
    if (!full)
        s = f64dd_add(s, (f64dd){(double)acc.neq - 1, 0});
    double h, l;
    ug__two_sum(s.h, s.l, &h, &l); /* normalised */
    *sum = (f64dd){h, l};
    return isfinite(h) && !vm_any(acc.bad);
}


/* Session 7: pass 2 of the production rows (fast = 1) with full = 1 and check = 0 (pass 1
 * ruled out -inf and every x - m < UG__F64_D_MIN: the common case), one function per shift
 * kind and per store (e_i stored to eh, or not), not inlined: f64_pass2 with those arguments
 * constant, the same operations in the same order (the same bits).  Inlined into each op with
 * check and eh known only at run time, the loop tested both at every vector and jumped between
 * the copies gcc laid out for them; specialised in every caller instead (session 6, §7.6) it
 * cost 330 KB of code.  These 6 are shared by every op. */
#define UG__F64_P2_FAST(NAME, KIND, STORE)                                                                           \
    static __attribute__((noinline)) int NAME(const double *x, size_t n, double *eh, const double *pf,               \
                                              const double *pw, f64pend *pd, double m, f64dd *sum)                  \
    {                                                                                                                \
        if (STORE && eh == NULL)                                                                                     \
            __builtin_unreachable();                                                                                 \
        return f64_pass2(x, n, STORE ? eh : NULL, NULL, 1, pf, pw, pd, m, sum, 0, 1, KIND);                        \
    }
UG__F64_P2_FAST(f64_p2_m, UG__F64_SHIFT_M, 0)
UG__F64_P2_FAST(f64_p2_x, UG__F64_SHIFT_X, 0)
UG__F64_P2_FAST(f64_p2_two, UG__F64_SHIFT_TWO, 0)
UG__F64_P2_FAST(f64_p2_m_st, UG__F64_SHIFT_M, 1)
UG__F64_P2_FAST(f64_p2_x_st, UG__F64_SHIFT_X, 1)
UG__F64_P2_FAST(f64_p2_two_st, UG__F64_SHIFT_TWO, 1)
#undef UG__F64_P2_FAST

/* f64_pass2(x, n, eh, NULL, 1, pf, pw, pd, m, sum, 0, 1, kind) by the functions above. */
static inline int f64_p2_fast(const double *x, size_t n, double *eh, const double *pf, const double *pw, f64pend *pd,
                              double m, f64dd *sum, int kind)
{
    if (eh != NULL)
        return kind == UG__F64_SHIFT_M   ? f64_p2_m_st(x, n, eh, pf, pw, pd, m, sum)
               : kind == UG__F64_SHIFT_X ? f64_p2_x_st(x, n, eh, pf, pw, pd, m, sum)
                                         : f64_p2_two_st(x, n, eh, pf, pw, pd, m, sum);
    return kind == UG__F64_SHIFT_M   ? f64_p2_m(x, n, NULL, pf, pw, pd, m, sum)
           : kind == UG__F64_SHIFT_X ? f64_p2_x(x, n, NULL, pf, pw, pd, m, sum)
                                     : f64_p2_two(x, n, NULL, pf, pw, pd, m, sum);
}

/* The ordered sums (fast, full, every accumulator started at 1): C chains of at most N
 * additions each add absolutely at most u^2 (N + 5)^2 (2C + 1 + S) to S
 * (SIMD-ERROR-ANALYSIS.md §7.5): when S counts the max's 1 (sp = S - 1), the ordered sum is
 * kept only when that is <= 2^-72 sp. */
static inline int f64_ordered_ok(size_t N, size_t C, f64dd sp)
{
    double nn = (double)(N + 5);
    return nn * nn * (double)(2 * C + 1) + nn * nn * sp.h <= 0x1p34 * sp.h * (1 - 0x1p-40);
}

/* Pass 1 and 2 of one row: m, and (full) S = sum_j e_j or (!full) sp = the sum without the
 * max term, as a double-double; e_j stored to eh, el (n + VL doubles each) when not NULL.
 * pf (NULL: none): the next row, of n entries, prefetched during pass 2 (its pass 1 then
 * reads from the cache instead of waiting on memory); pw (NULL: none): n outputs about to be
 * written, prefetched for writing.  fast, !full: sp = S - 1 from the ordered sum of every
 * lane (the max's e = 1 exactly), unless f64_ordered_ok rejects it: then pass 2 again with
 * the max term kept out (the accumulators at 0, f64_vsum).  pd (NULL: none): the previous
 * row's pending outputs, written during the first pass 2 (f64_pass2).
 * Returns 0 for a row that goes to the scalar kernel (NaN, +inf, all -inf, or a finite
 * x - m below UG__F64_D_MIN). */
UG__SIMD_INLINE int f64_row_sum_pend(const double *x, size_t n, double *eh, double *el, int full, const double *pf,
                                     const double *pw, f64pend *pd, double *m_out, f64dd *sum, int fast)
{
    double mn, m = f64_row_max(x, n, &mn);
    *m_out = m;
    if (!isfinite(m))
        return 0;
    int check = !(mn - m >= UG__F64_D_MIN); /* fl(x - m) >= fl(mn - m): no d below; NaN, -inf check */
    int kind = f64_shift_kind(m, mn), ok;
#define UG__F64_PASS2(FULL, PF, PW, PD)                                                                          \
    (kind == UG__F64_SHIFT_M   ? f64_pass2(x, n, eh, el, FULL, PF, PW, PD, m, sum, check, fast, UG__F64_SHIFT_M)   \
     : kind == UG__F64_SHIFT_X ? f64_pass2(x, n, eh, el, FULL, PF, PW, PD, m, sum, check, fast, UG__F64_SHIFT_X)   \
                               : f64_pass2(x, n, eh, el, FULL, PF, PW, PD, m, sum, check, fast, UG__F64_SHIFT_TWO))
    if (fast && !check && el == NULL) /* the specialised pass 2: the same bits */
        ok = f64_p2_fast(x, n, eh, pf, pw, pd, m, sum, kind);
    else if (!fast || full)
        return UG__F64_PASS2(full, pf, pw, pd);
    else
        ok = UG__F64_PASS2(1, pf, pw, pd);
    if (full)
        return ok;
    if (!ok)
        return 0;
    double h, l;
    f64dd s = f64dd_add(*sum, (f64dd){-1, 0}); /* the max's e = 1 out: exact */
    ug__two_sum(s.h, s.l, &h, &l);
    *sum = (f64dd){h, l};
    if (f64_ordered_ok(((n + VL - 1) / VL + 1) / 2 + 1, 2 * VL, *sum)) /* 2 accumulators, VL lanes */
        return 1;
    return UG__F64_PASS2(0, NULL, NULL, NULL);
#undef UG__F64_PASS2
}

/* f64_row_sum_pend with nothing pending. */
UG__SIMD_INLINE int f64_row_sum(const double *x, size_t n, double *eh, double *el, int full, const double *pf,
                                const double *pw, double *m_out, f64dd *sum, int fast)
{
    return f64_row_sum_pend(x, n, eh, el, full, pf, pw, NULL, m_out, sum, fast);
}

/* ------------------------------------------------------------------ tiny rows */

/* Rows of n <= UG__F64_TINY_N entries (the rows of the binary64 exp, fast = 1 only; the dd
 * rows keep the per-row code) are analysed VL at a time, transposed: lane k of every vector
 * is row r0 + k, vector j its entry j (columns past n: -inf).  Passes 1 and 2 as in
 * f64_row_sum, lane-wise (no horizontal tree): m = the max over the columns; e_j summed in
 * UG__F64_ACC accumulators (column j into j mod UG__F64_ACC, the loop unrolled by
 * UG__F64_ACC: the accumulators stay in registers) by fast-two-sum (they start at 1, as the
 * ordered sums of f64_row_sum), then the accumulators in order, the count of d = 0 as a
 * vector.  The sums are finished lane-wise too (f64_tiny_sum: sp, the tests of
 * f64_row_sum's return and f64_ordered_ok as lane masks), and each op forms its outputs as
 * vectors (session 6, SIMD-ERROR-ANALYSIS.md §7.7: every operation of a row the one it was,
 * in the same order: the same bits).  A row's bits depend on n only, never on the other
 * rows of its group (the lanes past the rows, g < VL, repeat row r0 and are never stored). */

/* The columns of rows [r0, r0 + g) (g <= VL; the lanes past g repeat row r0), nc = n rounded
 * up to VL of them, into c (prefetched by an earlier group's pass 2: f64tpf). */
UG__SIMD_INLINE void f64_tiny_load(const ug_problem *p, size_t r0, size_t g, vd *c)
{
    size_t n = p->n; /* n and the rows' addresses in locals: the vector stores may alias *p */
    const double *x0 = ROW_X(p, r0);
    for (size_t b = 0; b < n; b += VL) {
        size_t w = n - b < VL ? n - b : VL;
        vd r[VL];
        for (size_t k = 0; k < VL; k++) {
            const double *x = x0 + (k < g ? k : 0) * n + b;
            r[k] = w == VL ? vd_loadu(x) : f64_load_part(x, w);
        }
        vd_transpose(r);
        for (size_t k = 0; k < VL; k++)
            c[b + k] = r[k];
    }
}

/* The columns c back to rows [r0, r0 + g) of y (their first n entries; prefetched for writing
 * by the group's pass 2: f64tpf). */
UG__SIMD_INLINE void f64_tiny_store(const ug_problem *p, size_t r0, size_t g, vd *c)
{
    size_t n = p->n; /* as f64_tiny_load */
    double *y0 = ROW_Y(p, r0);
    for (size_t b = 0; b < n; b += VL) {
        size_t w = n - b < VL ? n - b : VL;
        vd r[VL];
        for (size_t k = 0; k < VL; k++)
            r[k] = c[b + k];
        vd_transpose(r);
        for (size_t k = 0; k < g; k++) {
            if (w == VL)
                vd_storeu(y0 + k * n + b, r[k]);
            else
                f64_store_part(y0 + k * n + b, r[k], w);
        }
    }
}

/* x - m = dh + dl exactly, lane-wise, for x <= m (or x = -inf: dh = -inf, dl NaN, never
 * used): fast-two-sum on a = min(x, -m), b = max(x, -m), 4 operations after the sum against
 * two-sum's 5; |a| >= |b| in every lane (x <= -m: |x| >= |m|; x > -m: |x| <= m), so it is
 * exact and gives two-sum's dl (SIMD-ERROR-ANALYSIS.md §7.7). */
UG__SIMD_INLINE void f64_tiny_shift(vd x, vd nm, vd *dh, vd *dl)
{
    vd s = vd_add(x, nm);
    *dh = s;
    *dl = vd_sub(vd_max(x, nm), vd_sub(s, vd_min(x, nm)));
}

/* vexp_f64 (simd_vexp_f64.h) fused with the ordered sum (H, L) += e of a short row's
 * column, for H >= 1 >= e and dh in [-670, 0] (session 7, SIMD-ERROR-ANALYSIS.md §7.8):
 * vexp_f64_parts' operations up to c = fl(T_hi P + T_lo), then with a = T_hi sc (exact),
 * e = fl(a + c sc) (one fma: vexp_f64's eh, fl(T_hi + c) sc, the same value), stored to
 * *eh unless NULL; sum = fl(H + e), t = sum - H (exact, Sterbenz), and L += fl(c sc +
 * fl(a - t)): c sc + (a - t) is e's error plus the sum's, what f64_step's fused branch adds
 * (l sc + err), the same value whenever a - t is exact (always but for e near ulp(H)/2;
 * the bound for the rest is §7.8's).  7 operations after c against 9 (no fast-two-sum of
 * T_hi + c). */
UG__SIMD_INLINE void f64_tiny_exp_sum(vd dh, vd dl, vd *eh, vd *H, vd *L)
{
    vd th, z, k16, c = vexp_f64_c(dh, dl, &th, &z, &k16);
    (void)k16;
    vd sc = vd_pow2_k(z);
    vd a = vd_mul(th, sc);
    vd e = vd_fma(c, sc, a);
    if (eh != NULL)
        *eh = e;
    vd sum = vd_add(*H, e);
    vd w = vd_sub(a, vd_sub(sum, *H));
    *H = sum;
    *L = vd_add(*L, vd_fma(c, sc, w));
}

/* One column x of pass 2 (f64_tiny_pass) into the accumulator (H, L): e = exp(x - m) stored
 * to *eh, *el when not NULL; full = 1 adds every lane (fast-two-sum: H >= 1 >= e), full = 0
 * the lanes with d < 0 (f64_vsum), counting d = 0 in cnt; check = 0: pass 1 ruled out -inf
 * and x - m < -670 in every lane (the exp's range mask and bad left out: the same bits). */
UG__SIMD_INLINE void f64_tiny_col(vd x, vd nm, vd *eh, vd *el, int full, vd *H, vd *L, vd *cnt, vm *bad, int check)
{
    vd dh, dl, e, f;
    f64_tiny_shift(x, nm, &dh, &dl);
    if (full && !check && el == NULL) { /* f64_tiny_exp_sum: e and H as f64_step's fused branch */
        f64_tiny_exp_sum(dh, dl, eh, H, L);
        return;
    }
    if (check)
        *bad = vm_or(*bad, vm_and(vd_lt(dh, vd_set1(UG__F64_D_MIN)), vd_lt(vd_set1(-INFINITY), dh)));
    vm want = full || eh != NULL ? vm_all() : vd_nge(dh, vd_zero()); /* else masked below */
    if (check)
        f64_exp(dh, dl, want, &e, &f, 1);
    else
        f64_exp_in(dh, dl, want, &e, &f, 1);
    if (eh != NULL)
        *eh = e;
    if (el != NULL)
        *el = f;
    if (!full && eh != NULL) { /* e kept whole (e = 1 at the max), added where d < 0 */
        vm lt = vd_nge(dh, vd_zero());
        e = vd_maskz(lt, e);
        f = vd_maskz(lt, f);
    }
    if (!full)
        *cnt = vd_add(*cnt, vd_maskz(vd_eq(dh, vd_zero()), vd_set1(1.0)));
    if (full)
        f64_vsum1(H, L, e, f);
    else
        f64_vsum(H, L, e, f);
}

/* The lines a short rows' pass 2 prefetches (session 7): x, the VL n inputs of a later group,
 * y (NULL: none) the VL n outputs of a group about to be stored; line j of each at column j
 * (f64_tiny_pf: VL n doubles are n lines on AVX-512, n / 2 on AVX2), spread over the pass
 * instead of in bursts of n before it (which waited for free fill buffers). */
typedef struct f64tpf {
    const char *x, *y;
} f64tpf;

UG__SIMD_INLINE void f64_tiny_pf(const f64tpf *pf, size_t j, size_t n)
{
    if (pf != NULL && j * UG__F64_LINE < VL * n) {
        if (pf->x != NULL)
            _mm_prefetch(pf->x + 64 * j, _MM_HINT_T0);
        if (pf->y != NULL)
            _mm_prefetch(pf->y + 64 * j, _MM_HINT_ET0);
    }
}

/* The prefetches of the pass 2 of group r0: the inputs of group r0 + 2 VL (when it is
 * whole), and (out) group r0's outputs. */
static inline f64tpf f64_tiny_pf_at(const ug_problem *p, size_t r0, int out)
{
    f64tpf pf = {NULL, NULL};
    if (r0 + 3 * VL <= p->rows)
        pf.x = (const char *)ROW_X(p, r0 + 2 * VL);
    if (out && r0 + VL <= p->rows)
        pf.y = (const char *)ROW_Y(p, r0);
    return pf;
}

/* Pass 2 over the columns j < n (f64_tiny_col; the padding ones would add +0: left out, e
 * set to +0 there) into the sum (*sh, *sl) (full: the accumulators start at 1, taken off
 * after), *cnt (the count of d = 0, full = 0) and *bad (a finite d < UG__F64_D_MIN). */
UG__SIMD_INLINE void f64_tiny_cols(size_t n, const vd *c, vd nm, vd *eh, vd *el, int full, vd *sh, vd *sl, vd *cnt,
                                   vm *bad, int check, vlog1p_dd_st *lg, const f64tpf *pf)
{
    vd one = vd_set1(1.0), h0 = full ? one : vd_zero(), h1 = h0, h2 = h0, h3 = h0; /* UG__F64_ACC = 4 */
    vd l0 = vd_zero(), l1 = l0, l2 = l0, l3 = l0;
#define UG__F64_TCOL(J, H, L)                                                                          \
    (f64_tiny_pf(pf, J, n),                                                                            \
     f64_tiny_col(c[J], nm, eh != NULL ? &eh[J] : NULL, el != NULL ? &el[J] : NULL, full, &H, &L, cnt, bad, check))
#define UG__F64_TBLOCK(J)                                                                              \
    (UG__F64_TCOL(J, h0, l0), UG__F64_TCOL(J + 1, h1, l1), UG__F64_TCOL(J + 2, h2, l2), UG__F64_TCOL(J + 3, h3, l3))
    size_t j = 0;
    if (lg != NULL) { /* the other group's log1p steps 1 and 2 before blocks 1 and 3 (f64_tiny_lg_end) */
        for (int b = 0; b < 4 && j + UG__F64_ACC <= n; b++, j += UG__F64_ACC) {
            if (b == 1)
                vlog1p_dd_1(lg);
            else if (b == 3)
                vlog1p_dd_2(lg);
            UG__F64_TBLOCK(j);
        }
    }
    for (; j + UG__F64_ACC <= n; j += UG__F64_ACC) /* column j into accumulator j mod 4 */
        UG__F64_TBLOCK(j);
#undef UG__F64_TBLOCK
    if (j < n)
        UG__F64_TCOL(j, h0, l0);
    if (j + 1 < n)
        UG__F64_TCOL(j + 1, h1, l1);
    if (j + 2 < n)
        UG__F64_TCOL(j + 2, h2, l2);
#undef UG__F64_TCOL
    for (j = n; j < (n + VL - 1) / VL * VL; j++) {
        if (eh != NULL)
            eh[j] = vd_zero();
        if (el != NULL)
            el[j] = vd_zero();
    }
    if (full) {
        h0 = vd_sub(h0, one), h1 = vd_sub(h1, one), h2 = vd_sub(h2, one), h3 = vd_sub(h3, one);
    }
    f64_vsum(&h0, &l0, h1, l1);
    f64_vsum(&h0, &l0, h2, l2);
    f64_vsum(&h0, &l0, h3, l3);
    *sh = h0;
    *sl = l0;
}

/* The steps of lg (vlog1p_dd_st) that f64_tiny_cols left for rows of n entries (1 before
 * block 1, 2 before block 3: n >= 8, n >= 16), then its result. */
UG__SIMD_INLINE void f64_tiny_lg_end(vlog1p_dd_st *lg, size_t n, vd *lh, vd *ll)
{
    if (n < 2 * UG__F64_ACC)
        vlog1p_dd_1(lg);
    if (n < 4 * UG__F64_ACC)
        vlog1p_dd_2(lg);
    vlog1p_dd_3(lg, lh, ll);
}

/* Pass 2 of a group (f64_tiny_cols, full as there), the max vmax and min mn of each lane;
 * lg (NULL: none) another group's log1p, run inside it (f64_tiny_cols); pf (NULL: none)
 * the lines it prefetches. */
UG__SIMD_INLINE void f64_tiny_pass(size_t n, const vd *c, vd vmax, vd mn, vd *eh, vd *el, int full, vd *sh, vd *sl,
                                   vd *cnt, vm *bad, vlog1p_dd_st *lg, const f64tpf *pf)
{
    vd nm = vd_sub(vd_zero(), vmax);
    *cnt = vd_zero();
    *bad = vd_lt(vd_zero(), vd_zero());
    /* as f64_row_sum: fl(x - m) >= fl(mn - m) in every lane, NaN and -inf check */
    if (vm_any(vd_nge(vd_sub(mn, vmax), vd_set1(UG__F64_D_MIN))))
        f64_tiny_cols(n, c, nm, eh, el, full, sh, sl, cnt, bad, 1, lg, pf);
    else
        f64_tiny_cols(n, c, nm, eh, el, full, sh, sl, cnt, bad, 0, lg, pf);
}

/* ug__two_sum lane-wise: a + b = *s + *e exactly (the same operations in the same order). */
UG__SIMD_INLINE void f64_tiny_two_sum(vd a, vd b, vd *s, vd *e)
{
    vd t = vd_add(a, b), bb = vd_sub(t, a);
    *e = vd_add(vd_sub(a, vd_sub(t, bb)), vd_sub(b, bb));
    *s = t;
}

/* f64dd_add lane-wise: (ah + al) + (bh + bl) as *sh + *sl, the same operations in the same
 * order (bl = vd_zero() for a binary64 b). */
UG__SIMD_INLINE void f64_tiny_dd_add(vd ah, vd al, vd bh, vd bl, vd *sh, vd *sl)
{
    vd e;
    f64_tiny_two_sum(ah, bh, sh, &e);
    *sl = vd_add(e, vd_add(al, bl));
}

/* isfinite, lane-wise. */
UG__SIMD_INLINE vm f64_finite(vd v) { return vd_eq(vd_sub(v, v), vd_zero()); }

/* Passes 1 and 2 of a group, its columns in c: per lane the max *m and the sum (*sh, *sl)
 * (full: S, else sp, normalised); e_j (whole, e = 1 at the max) into eh[j], el[j] when eh is
 * not NULL (el NULL: the high parts only).  Returns the lanes whose row is analysed
 * (f64_row_sum's return); the others go to the scalar kernel.  !full: as f64_row_sum,
 * sp = S - 1 from the ordered sum of every lane; a lane that f64_ordered_ok rejects takes
 * the sum of pass 2 run again with the max term kept out (lane-wise). */
UG__SIMD_INLINE vm f64_tiny_sum(size_t n, const vd *c, vd *eh, vd *el, int full, vd *m, vd *sh, vd *sl,
                                vlog1p_dd_st *lg, const f64tpf *pf)
{
    vd m0 = vd_set1(-INFINITY), m1 = m0, m2 = m0, m3 = m0, mn = vd_set1(INFINITY);
    size_t j = 0;
    for (; j + 4 <= n; j += 4) { /* column j into m_(j mod 4), as f64_row_max's lanes */
        m0 = vd_max(m0, c[j]), m1 = vd_max(m1, c[j + 1]), m2 = vd_max(m2, c[j + 2]), m3 = vd_max(m3, c[j + 3]);
        mn = vd_min(vd_min(mn, c[j]), vd_min(vd_min(c[j + 1], c[j + 2]), c[j + 3]));
    }
    for (; j < n; j++)
        m0 = vd_max(m0, c[j]), mn = vd_min(mn, c[j]);
    vd vmax = vd_max(vd_max(m0, m1), vd_max(m2, m3)), cnt;
    vm bad;
    *m = vmax;
    f64_tiny_pass(n, c, vmax, mn, eh, el, 1, sh, sl, &cnt, &bad, lg, pf);
    vd one = vd_set1(1.0), h = *sh, l = *sl;
    if (!full) /* the max's e = 1 out: exact */
        f64_tiny_dd_add(h, l, vd_set1(-1.0), vd_zero(), &h, &l);
    f64_tiny_two_sum(h, l, sh, sl); /* normalised */
    vm ok = vm_andnot(vm_and(f64_finite(vmax), f64_finite(*sh)), bad);
    if (full)
        return ok;
    /* f64_ordered_ok lane-wise (N = the columns per accumulator, C = UG__F64_ACC): the same
     * operations in the same order */
    double nn = (double)((n + UG__F64_ACC - 1) / UG__F64_ACC + 5);
    vd lhs = vd_add(vd_set1(nn * nn * (double)(2 * UG__F64_ACC + 1)), vd_mul(vd_set1(nn * nn), *sh));
    vd rhs = vd_mul(vd_mul(vd_set1(0x1p34), *sh), vd_set1(1 - 0x1p-40));
    vm redo = vm_and(ok, vd_nge(rhs, lhs));
    if (!vm_any(redo))
        return ok;
    vd h2, l2, s2h, s2l;
    f64_tiny_pass(n, c, vmax, mn, NULL, NULL, 0, &h2, &l2, &cnt, &bad, NULL, NULL);
    f64_tiny_dd_add(h2, l2, vd_sub(cnt, one), vd_zero(), &h2, &l2);
    f64_tiny_two_sum(h2, l2, &s2h, &s2l);
    *sh = vd_blend(redo, s2h, *sh);
    *sl = vd_blend(redo, s2l, *sl);
    vm ok2 = vm_andnot(f64_finite(s2h), bad);
    return vm_or(vm_andnot(ok, redo), vm_and(redo, ok2));
}

/* Lane k of v. */
static inline double f64_lane(const vd *v, size_t k)
{
    double d;
    memcpy(&d, (const char *)v + k * sizeof d, sizeof d);
    return d;
}

/* The stores of a vector of per-row results to y[r0 .. r0 + g). */
UG__SIMD_INLINE void f64_tiny_put(double *y, vd v, size_t g)
{
    if (g == VL)
        vd_storeu(y, v);
    else
        f64_store_part(y, v, g);
}

/* The rows [r0, r0 + g) of p whose lanes are not in ok, by the scalar kernel fn of op. */
static inline ug_status f64_tiny_fallback(ug_kernel_fn fn, ug_op op, const ug_problem *p, size_t r0, size_t g, vm ok)
{
    unsigned bits = vm_bits(ok);
    ug_status st = UG_OK;
    for (size_t k = 0; st == UG_OK && k < g; k++)
        if (!(bits >> k & 1))
            st = ug__simd_fallback_row(fn, op, UG_F64, p, r0 + k, NULL);
    return st;
}

/* ------------------------------------------------------------------ the logs of a group */

/* L[k] = vlog1p_dd(sp[k]) for k < g <= VL (lane-wise: a row's L does not depend on its
 * group); rows not ok get 0. */
static inline void f64_group_log1p(const f64dd *sp, const int *ok, size_t g, f64dd *L)
{
    double sh[VL] = {0}, sl[VL] = {0}, lh[VL], ll[VL];
    for (size_t k = 0; k < g; k++)
        if (ok[k])
            sh[k] = sp[k].h, sl[k] = sp[k].l;
    vd vh, vl;
    vlog1p_dd(vd_loadu(sh), vd_loadu(sl), &vh, &vl);
    vd_storeu(lh, vh);
    vd_storeu(ll, vl);
    for (size_t k = 0; k < g; k++)
        L[k] = (f64dd){lh[k], ll[k]};
}

/* The rows [r0, r0 + g) of p analysed (full = 0) and their L: g = VL rows at a time when
 * n <= UG__F64_GROUP_MAX_N, else 1 (the tiny rows of the fast kernels: f64_tiny_sum).
 * rows_out: the op writes n outputs per row (prefetched for writing when g = 1).  Returns g. */
UG__SIMD_INLINE size_t f64_group(const ug_problem *p, size_t r0, int rows_out, double *m, int *ok, f64dd *sp, f64dd *L,
                                 int fast)
{
    size_t g = p->n <= UG__F64_GROUP_MAX_N ? VL : 1;
    if (g > p->rows - r0)
        g = p->rows - r0;
    for (size_t k = 0; k < g; k++)
        ok[k] = f64_row_sum(ROW_X(p, r0 + k), p->n, NULL, NULL, 0, r0 + k + 1 < p->rows ? ROW_X(p, r0 + k + 1) : NULL,
                            rows_out && g == 1 ? ROW_Y(p, r0 + k) : NULL, &m[k], &sp[k], fast);
    f64_group_log1p(sp, ok, g, L);
    return g;
}

/* ------------------------------------------------------------------ tiny rows: the logs */

/* A group of tiny rows analysed (f64_tiny_sum), then its L = vlog1p_dd(sp) (lh, ll; rows
 * not ok: log1p(0)), its outputs pending. */
typedef struct f64tg {
    size_t r0, g;
    vd m, sh, sl, lh, ll;
    vm ok;
    vd c[UG__F64_TINY_N];
} f64tg;

/* log_softmax's outputs of a group: fl(x - m) - Lh as columns (f64_logsm's operations),
 * transposed back; then the rows that fall back and those of L = 0
 * (ug__simd_signed_zero_at_max), one by one. */
UG__SIMD_INLINE ug_status f64_tiny_fin_logsm(const ug_problem *p, f64tg *t)
{
    vd lh = t->lh, nm = vd_mul(t->m, vd_set1(-1.0)); /* -m, exactly */
    for (size_t j = 0; j < (p->n + VL - 1) / VL * VL; j++)
        t->c[j] = vd_sub(vd_add(t->c[j], nm), lh);
    unsigned okb = vm_bits(t->ok), fix = (~okb | vm_bits(vd_eq(lh, vd_zero()))) & ((1u << t->g) - 1);
    f64_tiny_store(p, t->r0, t->g, t->c);
    ug_status st = UG_OK;
    for (size_t k = 0; st == UG_OK && fix != 0 && k < t->g; k++) {
        size_t r = t->r0 + k;
        if (!(okb >> k & 1))
            st = ug__simd_fallback_row(SCALAR64(log_softmax, twopass), UG_OP_LOG_SOFTMAX, UG_F64, p, r, NULL);
        else if (fix >> k & 1)
            ug__simd_signed_zero_at_max(UG_F64, ROW_X(p, r), ROW_Y(p, r), p->n, f64_lane(&t->m, k));
    }
    return st;
}

/* logsumexp's outputs of a group: m + L (f64dd_add, f64dd_round) lane-wise, stored as a
 * vector; then the rows that fall back. */
UG__SIMD_INLINE ug_status f64_tiny_fin_lse(const ug_problem *p, const f64tg *t)
{
    vd yh, yl;
    f64_tiny_dd_add(t->m, vd_zero(), t->lh, t->ll, &yh, &yl);
    f64_tiny_put((double *)p->y + t->r0, vd_blend(f64_finite(yh), vd_add(yh, yl), yh), t->g); /* m, L finite: +inf */
    if (vm_count(t->ok) == VL)
        return UG_OK;
    return f64_tiny_fallback(SCALAR64(logsumexp, twopass), UG_OP_LOGSUMEXP, p, t->r0, t->g, t->ok);
}

/* xent's outputs of a group: (m - x_t) + L lane-wise (ug__two_sum, f64dd_add); reduction
 * none: rounded once (f64dd_round), stored as a vector, then the rows that fall back; else
 * each loss widened as in xent_f64_run, and *whole = 1 when a row falls back. */
UG__SIMD_INLINE ug_status f64_tiny_fin_xent(const ug_problem *p, const f64tg *t, ug__wide *loss, int *whole)
{
    vd lh = t->lh, ll = t->ll, a, ae, vh, vl;
    vd xt;
    if (t->g == VL) {
        xt = vd_gather_col(ROW_X(p, t->r0), p->target + t->r0, p->n);
    } else {
        double b[VL];
        for (size_t k = 0; k < VL; k++) { /* x_t (the lanes past g: row r0's) */
            size_t r = t->r0 + (k < t->g ? k : 0);
            b[k] = ROW_X(p, r)[p->target[r]];
        }
        xt = vd_loadu(b);
    }
    f64_tiny_two_sum(t->m, vd_mul(xt, vd_set1(-1.0)), &a, &ae); /* -x_t, exactly */
    f64_tiny_dd_add(a, ae, lh, ll, &vh, &vl);
    if (p->reduction == UG_RED_NONE) {
        f64_tiny_put((double *)p->y + t->r0, vd_blend(f64_finite(vh), vd_add(vh, vl), vh), t->g);
        if (vm_count(t->ok) == VL)
            return UG_OK;
        return f64_tiny_fallback(SCALAR64(xent, fused), UG_OP_XENT, p, t->r0, t->g, t->ok);
    }
    if ((vm_bits(t->ok) & ((1u << t->g) - 1)) != (1u << t->g) - 1) {
        *whole = 1;
        return UG_OK;
    }
    for (size_t k = 0; k < t->g; k++) {
        size_t r = t->r0 + k;
        if (isinf(f64_lane(&a, k))) /* m - x_t overflows binary64, not ug__wide */
            loss[r] = ((ug__wide)f64_lane(&t->m, k) - ROW_X(p, r)[p->target[r]]) + f64_lane(&lh, k) + f64_lane(&ll, k);
        else
            loss[r] = (ug__wide)f64_lane(&vh, k) + f64_lane(&vl, k);
    }
    return UG_OK;
}

/* The tiny rows of log_softmax, logsumexp and xent (op, a constant at each call) in three
 * stages a group apart: group i analysed, group i - 1's log1p, group i - 2's outputs; the
 * latency of a log1p (a chain of some 180 cycles) overlaps the work of the next group
 * instead of holding up its own outputs (as the f32 rows' group_pipe, one stage more).
 * Session 7: group i - 1's log1p runs in its four steps (vlog1p_dd_0..3) around and inside
 * group i's pass 2 (f64_tiny_cols), so that its waiting operations never fill the
 * scheduler; the same operations on the same values, lane-wise: the same bits.
 * xent: loss and *whole as in f64_tiny_fin_xent. */
UG__SIMD_INLINE ug_status f64_tiny_pipe(const ug_problem *p, ug_op op, ug__wide *loss, int *whole)
{
    f64tg gr[3];
    vlog1p_dd_st lg;
    ug_status st = UG_OK;
    size_t ng = (p->rows + VL - 1) / VL;
    for (size_t i = 0; st == UG_OK && !*whole && i < ng + 2; i++) {
        if (i >= 1 && i - 1 < ng) { /* group i - 1's log1p: step 0 here, 1 and 2 in group i's pass 2 */
            f64tg *t = &gr[(i - 1) % 3];
            vlog1p_dd_0(&lg, vd_maskz(t->ok, t->sh), vd_maskz(t->ok, t->sl));
        }
        if (i < ng) {
            f64tg *t = &gr[i % 3];
            t->r0 = i * VL;
            t->g = p->rows - t->r0 < VL ? p->rows - t->r0 : VL;
            f64tpf pf = f64_tiny_pf_at(p, t->r0, op == UG_OP_LOG_SOFTMAX);
            f64_tiny_load(p, t->r0, t->g, t->c);
            t->ok = f64_tiny_sum(p->n, t->c, NULL, NULL, 0, &t->m, &t->sh, &t->sl, i >= 1 ? &lg : NULL, &pf);
        }
        if (i >= 1 && i - 1 < ng) {
            f64tg *t = &gr[(i - 1) % 3];
            if (i < ng)
                f64_tiny_lg_end(&lg, p->n, &t->lh, &t->ll);
            else /* no group i: the steps in a row */
                f64_tiny_lg_end(&lg, 0, &t->lh, &t->ll);
        }
        if (i >= 2) {
            f64tg *t = &gr[(i - 2) % 3];
            if (op == UG_OP_LOG_SOFTMAX)
                st = f64_tiny_fin_logsm(p, t);
            else if (op == UG_OP_LOGSUMEXP)
                st = f64_tiny_fin_lse(p, t);
            else
                st = f64_tiny_fin_xent(p, t, loss, whole);
        }
    }
    return st;
}

/* ------------------------------------------------------------------ long rows: the logs */

/* logsumexp's and xent's rows of n > UG__F64_GROUP_MAX_N (session 7), VL at a time: rows
 * [r0, r0 + g), g = VL (fewer at the end), analysed one by one (f64_row_sum, full = 0, the
 * next row prefetched), then their L by one vlog1p_dd (f64_group_log1p, lane-wise: the
 * values of f64_group's g = 1, the same bits).  f64_group takes such rows one at a time: the
 * log1p's chain (some 180 cycles of latency, its operations on one lane of VL) then stood
 * between a row and the next; here it comes once per VL rows.  These ops write no output per
 * entry: nothing has to stay in the cache meanwhile.  Not inlined: one copy for both ops.
 * Returns g. */
static __attribute__((noinline)) size_t f64_long_sums(const ug_problem *p, size_t r0, double *m, int *ok, f64dd *sp,
                                                       f64dd *L)
{
    size_t g = p->rows - r0 < VL ? p->rows - r0 : VL;
    for (size_t k = 0; k < g; k++)
        ok[k] = f64_row_sum(ROW_X(p, r0 + k), p->n, NULL, NULL, 0, r0 + k + 1 < p->rows ? ROW_X(p, r0 + k + 1) : NULL,
                            NULL, &m[k], &sp[k], 1);
    f64_group_log1p(sp, ok, g, L);
    return g;
}

/* ------------------------------------------------------------------ softmax */

/* y_i = (eh_i + el_i) / (Sh + Sl), rounded once: yh = eh fl(1/Sh), the residual
 * r = eh - yh Sh (one fma), y = yh + (r + el - yh Sl) / Sh. */
UG__SIMD_INLINE vd f64_div(vd eh, vd el, vd sh, vd sl, vd inv)
{
    vd yh = vd_mul(eh, inv);
    vd r = vd_fnma(yh, sh, eh);
    vd c = vd_fnma(yh, sl, vd_add(r, el));
    return vd_fma(c, inv, yh);
}

/* 1/(sh + sl) as ih + il for S = sh + sl normalised (lane-wise; one row's S: vd_set1):
 * ih = fl(1/sh), its residual rho = 1 - ih sh exact (one fma), sigma = rho - ih sl (one
 * rounding, <= 2u^2), il = fl(sigma ih); ih + il = (1 + delta)/S, |delta| <= 8u^2 = 2^-103
 * (SIMD-ERROR-ANALYSIS.md §7.5). */
UG__SIMD_INLINE void f64_recip(vd sh, vd sl, vd *ih, vd *il)
{
    vd inv = vd_div(vd_set1(1.0), sh);
    vd rho = vd_fnma(inv, sh, vd_set1(1.0));
    *ih = inv;
    *il = vd_mul(vd_fnma(inv, sl, rho), inv);
}

/* e / S for e a binary64, S's reciprocal ih + il (f64_recip): e ih + fl(e il), one rounding
 * after a relative error <= 10u^2 = 2^-102.6 (delta and e il's rounding, |il| <= 2u ih). */
UG__SIMD_INLINE vd f64_div0(vd e, vd ih, vd il) { return vd_fma(e, ih, vd_mul(e, il)); }

/* The first entries of y up to a vector boundary (at most n): the stores after them are
 * aligned (a misaligned full-width store may touch two cache lines).  Lane-wise arithmetic:
 * the outputs do not depend on it. */
static inline size_t f64_head(const double *y, size_t n)
{
    uintptr_t a = (uintptr_t)y, w = VL * sizeof(double);
    if (n < 16 * VL || a % 8 != 0) /* short rows: a partial store costs more than it saves */
        return 0;
    return (size_t)((w - a % w) % w) / 8;
}

static void f64_div_store(const double *eh, const double *el, size_t n, f64dd S, double *y)
{
    vd sh = vd_set1(S.h), sl = vd_set1(S.l), inv = vd_set1(1.0 / S.h);
    size_t i = f64_head(y, n);
    if (i > 0)
        f64_store_part(y, f64_div(vd_loadu(eh), vd_loadu(el), sh, sl, inv), i);
    for (; i + VL <= n; i += VL)
        vd_storeu(y + i, f64_div(vd_loadu(eh + i), vd_loadu(el + i), sh, sl, inv));
    if (i < n)
        f64_store_part(y + i, f64_div(vd_loadu(eh + i), vd_loadu(el + i), sh, sl, inv), n - i);
}

/* y_i = e_i / (Sh + Sl) in place, e_i = y_i a binary64 (f64_div0). */
static void f64_div_inplace(double *y, size_t n, f64dd S)
{
    vd ih, il;
    f64_recip(vd_set1(S.h), vd_set1(S.l), &ih, &il);
    size_t i = f64_head(y, n);
    if (i > 0)
        f64_store_part(y, f64_div0(f64_load_part(y, i), ih, il), i);
    for (; i + VL <= n; i += VL)
        vd_storeu(y + i, f64_div0(vd_loadu(y + i), ih, il));
    if (i < n)
        f64_store_part(y + i, f64_div0(f64_load_part(y + i, n - i), ih, il), n - i);
}

/* The previous row's pending outputs flushed, then y_i = e_i / (Sh + Sl) (f64_div0, as
 * f64_div_inplace: the same bits) made pending, streamed, e_i a binary64 in the scratch row
 * e (kept until the next row's pass 2 has ended). */
static void f64_pend_div(f64pend *pd, const double *e, size_t n, f64dd S, double *y)
{
    vd ih, il;
    double a[VL], b[VL];
    f64_recip(vd_set1(S.h), vd_set1(S.l), &ih, &il);
    vd_storeu(a, ih);
    vd_storeu(b, il);
    f64_pend_flush(pd);
    *pd = (f64pend){.op = 0, .in = e, .a = a[0], .b = b[0], .y = y};
    f64_pend_set(pd, n, 1);
}
/* softmax's tiny rows in two stages a group apart: group i analysed (e_i rounded once into
 * its columns), group i - 1 times S's reciprocal ih + il lane-wise (f64_recip, f64_div0, as
 * f64_div_inplace) and transposed back: the latency of the sums' last steps and of the
 * division overlaps the next group's work. */
UG__SIMD_INLINE ug_status f64_tiny_softmax(const ug_problem *p)
{
    f64tg gr[2];
    ug_status st = UG_OK;
    size_t ng = (p->rows + VL - 1) / VL;
    for (size_t i = 0; st == UG_OK && i < ng + 1; i++) {
        if (i < ng) {
            f64tg *t = &gr[i % 2];
            vd c[UG__F64_TINY_N];
            t->r0 = i * VL;
            t->g = p->rows - t->r0 < VL ? p->rows - t->r0 : VL;
            f64tpf pf = f64_tiny_pf_at(p, t->r0, 1);
            f64_tiny_load(p, t->r0, t->g, c);
            t->ok = f64_tiny_sum(p->n, c, t->c, NULL, 1, &t->m, &t->sh, &t->sl, NULL, &pf);
        }
        if (i >= 1) {
            f64tg *t = &gr[(i - 1) % 2];
            vd ih, il;
            f64_recip(t->sh, t->sl, &ih, &il);
            for (size_t j = 0; j < (p->n + VL - 1) / VL * VL; j++)
                t->c[j] = f64_div0(t->c[j], ih, il);
            f64_tiny_store(p, t->r0, t->g, t->c);
            if (vm_count(t->ok) != VL)
                st = f64_tiny_fallback(SCALAR64(softmax, twopass), UG_OP_SOFTMAX, p, t->r0, t->g, t->ok);
        }
    }
    return st;
}

/* softmax.twopass.f64.ISA: contract
 *   computes  e_i / S, e_i = vexp_f64(x_i - m) (x_i - m exact), its high part (e_i rounded
 *             once) stored in y (calls writing >= 8 MiB: in a scratch row, the outputs then
 *             streamed; tiny rows: in their columns), S = sum_j e_j a double-double, e_i times
 *             S's reciprocal ih + il (f64_div0: 10u^2), one rounding to binary64.
 *   bound     relative error before the rounding <= 1.26 2^-53 (e_i's rounding, vexp_f64's
 *             2^-56.0 in e_i and S; SIMD-ERROR-ANALYSIS.md §7.5): 1.76 ULP, claimed 2 ULP.
 * softmax.dd.f64.ISA (fast = 0): e_i = vexp_dd, double-doubles stored to a scratch pair and
 *             divided as in f64_div: <= 2^-61.8 (§7.3), 0.5 + 2^-8.8 ULP, claimed 1 ULP.
 *   special   rows with NaN, +inf, only -inf, or a finite x_i - m < -670 (outputs below
 *             e^-670/n): softmax.twopass.f64 (same outputs).  -inf entries give +0. */
UG__SIMD_INLINE ug_status softmax_f64_run(const ug_problem *p, int fast)
{
    ug_status st = ug__validate(p, UG_OP_SOFTMAX, UG_F64);
    if (st == UG_OK && fast && p->n <= UG__F64_TINY_N)
        return f64_tiny_softmax(p);
    /* stream: e_i in two scratch rows, row r's outputs streamed during row r + 1's pass 2 */
    int stream = st == UG_OK && fast && f64_stream_outputs(p);
    size_t stride = st == UG_OK && (!fast || stream) ? p->n + VL : 0;
    double *eh = stride > 0 ? ug__simd_scratch(2 * stride) : NULL;
    if (st != UG_OK || (stride > 0 && eh == NULL))
        return st != UG_OK ? st : UG_ERR_NOMEM;
    double *el = fast ? NULL : eh + stride;
    f64pend pd = {0};
    for (size_t r = 0; st == UG_OK && r < p->rows; r++) {
        double m;
        f64dd S;
        const double *pf = r + 1 < p->rows ? ROW_X(p, r + 1) : NULL;
        double *er = stream ? eh + (r & 1) * stride : NULL;
        if (fast && stream && f64_row_sum_pend(ROW_X(p, r), p->n, er, NULL, 1, pf, NULL, &pd, &m, &S, 1))
            f64_pend_div(&pd, er, p->n, S, ROW_Y(p, r)); /* e_i rounded once, kept in er */
        else if (fast && !stream && f64_row_sum(ROW_X(p, r), p->n, ROW_Y(p, r), NULL, 1, pf, ROW_Y(p, r), &m, &S, 1))
            f64_div_inplace(ROW_Y(p, r), p->n, S); /* e_i rounded once, stored in y */
        else if (!fast && f64_row_sum(ROW_X(p, r), p->n, eh, el, 1, pf, ROW_Y(p, r), &m, &S, 0))
            f64_div_store(eh, el, p->n, S, ROW_Y(p, r));
        else {
            f64_pend_flush(&pd); /* the scratch row of row r - 1 is row r + 1's */
            st = ug__simd_fallback_row(SCALAR64(softmax, twopass), UG_OP_SOFTMAX, UG_F64, p, r, NULL);
        }
    }
    f64_pend_flush(&pd);
    if (stream)
        _mm_sfence(); /* the streamed stores ordered before the caller's */
    free(eh);
    return st;
}

/* ------------------------------------------------------------------ log_softmax */

/* fast: y = fl(x - m) - Lh, rounded (two roundings, SIMD-ERROR-ANALYSIS.md §7.5: -inf
 * entries and an overflowing x - m give -inf); else y = (dh + dl) - (Lh + Ll), rounded once;
 * -inf where dh - Lh is -inf (masked entries, overflow). */
UG__SIMD_INLINE vd f64_logsm(vd x, vd nm, vd lh, vd ll, int fast)
{
    if (fast)
        return vd_sub(vd_add(x, nm), lh);
    vd dh, dl;
    f64_shift(x, nm, &dh, &dl, UG__F64_SHIFT_TWO);
    vd nl = vd_sub(vd_zero(), lh);
    vd s = vd_add(dh, nl), bb = vd_sub(s, dh);
    vd e = vd_add(vd_sub(dh, vd_sub(s, bb)), vd_sub(nl, bb));
    vd y = vd_add(s, vd_sub(vd_add(e, dl), ll));
    return vd_blend(vd_eq(s, vd_set1(-INFINITY)), s, y);
}

UG__SIMD_INLINE void f64_logsm_store(const double *x, size_t n, double m, f64dd L, double *y, int fast)
{
    vd nm = vd_set1(-m), lh = vd_set1(L.h), ll = vd_set1(L.l);
    size_t i = f64_head(y, n);
    if (i > 0)
        f64_store_part(y, f64_logsm(f64_load_part(x, i), nm, lh, ll, fast), i);
    for (; i + VL <= n; i += VL)
        vd_storeu(y + i, f64_logsm(vd_loadu(x + i), nm, lh, ll, fast));
    if (i < n)
        f64_store_part(y + i, f64_logsm(f64_load_part(x + i, n - i), nm, lh, ll, fast), n - i);
}

/* log_softmax.twopass.f64 for calls of rows longer than UG__F64_GROUP_MAX_N that stream
 * their outputs (f64_stream_outputs): row r's outputs pending during row r + 1's pass 2
 * (f64_pend_4), streamed; the same values as log_softmax_f64_run's g = 1 rows (f64_group:
 * f64_row_sum, f64_group_log1p of one row, f64_logsm's fast branch); the sign of a zero at
 * the max (L = 0) set once the row's outputs are written. */
static ug_status log_softmax_f64_long(const ug_problem *p)
{
    ug_status st = UG_OK;
    f64pend pd = {0};
    size_t fix = p->rows; /* a row whose zero at the max needs its sign, or rows */
    double fix_m = 0;
    for (size_t r = 0; st == UG_OK && r < p->rows; r++) {
        double m;
        f64dd sp, L;
        const double *pf = r + 1 < p->rows ? ROW_X(p, r + 1) : NULL;
        int ok = f64_row_sum_pend(ROW_X(p, r), p->n, NULL, NULL, 0, pf, NULL, &pd, &m, &sp, 1);
        f64_pend_flush(&pd);
        if (fix < p->rows)
            ug__simd_signed_zero_at_max(UG_F64, ROW_X(p, fix), ROW_Y(p, fix), p->n, fix_m);
        fix = p->rows;
        if (!ok) {
            st = ug__simd_fallback_row(SCALAR64(log_softmax, twopass), UG_OP_LOG_SOFTMAX, UG_F64, p, r, NULL);
            continue;
        }
        f64_group_log1p(&sp, &ok, 1, &L);
        pd = (f64pend){.op = 1, .in = ROW_X(p, r), .a = -m, .b = L.h, .y = ROW_Y(p, r)};
        f64_pend_set(&pd, p->n, 1);
        if (L.h == 0)
            fix = r, fix_m = m;
    }
    f64_pend_flush(&pd);
    if (fix < p->rows)
        ug__simd_signed_zero_at_max(UG_F64, ROW_X(p, fix), ROW_Y(p, fix), p->n, fix_m);
    _mm_sfence(); /* the streamed stores ordered before the caller's */
    return st;
}

/* log_softmax.twopass.f64.ISA: contract
 *   computes  fl(x_i - m) - Lh, rounded, L = Lh + Ll = vlog1p_dd(sp) (<= 2^-56.1), sp from
 *             vexp_f64 (<= 2^-56.0; the sums of pass 2 take x_i - m exact, by two-sum):
 *             x_i - m <= 0 <= L, nothing cancels.
 *   bound     before the last rounding, relative to y: u |x_i - m| (the rounded shift) +
 *             (u + 2^-55.04) L (Ll dropped, L's error) <= (u + 2^-55.04) |y|
 *             (SIMD-ERROR-ANALYSIS.md §7.5): 0.5 + 1.243 ULP, claimed 2 ULP.
 * log_softmax.dd.f64.ISA (vexp_dd): (dh + dl) - (Lh + Ll) by two-sum, one rounding: <= 2^-56.0
 *             (§7.3), 0.5 + 2^-3.0 ULP, claimed 1 ULP.
 *   special   rows with NaN, +inf, only -inf or a finite x_i - m < -670:
 *             log_softmax.twopass.f64; -inf entries give -inf; L = 0 (no other finite
 *             entry): the max's output is +0 (ug__simd_signed_zero_at_max). */
UG__SIMD_INLINE ug_status log_softmax_f64_run(const ug_problem *p, int fast)
{
    ug_status st = ug__validate(p, UG_OP_LOG_SOFTMAX, UG_F64);
    if (st == UG_OK && fast && p->n <= UG__F64_TINY_N)
        return f64_tiny_pipe(p, UG_OP_LOG_SOFTMAX, NULL, &(int){0});
    if (st == UG_OK && fast && p->n > UG__F64_GROUP_MAX_N && f64_stream_outputs(p))
        return log_softmax_f64_long(p);
    for (size_t r0 = 0, g; st == UG_OK && r0 < p->rows; r0 += g) {
        double m[VL];
        int ok[VL];
        f64dd sp[VL], L[VL];
        g = f64_group(p, r0, 1, m, ok, sp, L, fast);
        for (size_t k = 0; st == UG_OK && k < g; k++) {
            size_t r = r0 + k;
            if (!ok[k]) {
                st = ug__simd_fallback_row(SCALAR64(log_softmax, twopass), UG_OP_LOG_SOFTMAX, UG_F64, p, r, NULL);
                continue;
            }
            f64_logsm_store(ROW_X(p, r), p->n, m[k], L[k], ROW_Y(p, r), fast);
            if (L[k].h == 0)
                ug__simd_signed_zero_at_max(UG_F64, ROW_X(p, r), ROW_Y(p, r), p->n, m[k]);
        }
    }
    return st;
}

/* ------------------------------------------------------------------ logsumexp */

/* logsumexp.twopass.f64.ISA: contract
 *   computes  m + L, L = vlog1p_dd(sp), sp from vexp_f64, by two-sum, one rounding.
 *   bound     absolute error <= 2^-55.04 L + 2^-104 |m| before the rounding, L <= (1 + kappa)
 *             |lse|: 0.5 + 2^-2.04 (1 + kappa) ULP, claimed 1 + 2^-2 kappa
 *             (SIMD-ERROR-ANALYSIS.md §7.5).  logsumexp.dd.f64.ISA (vexp_dd): 2^-56.1 L,
 *             0.5 + 2^-3.0 (1 + kappa) ULP, claimed 1 + 2^-3 kappa (§7.3).
 *   special   NaN -> NaN, +inf -> +inf, all -inf -> -inf, rows with a finite x_i - m < -670:
 *             logsumexp.twopass.f64.  n = 1: x_0 (+0 for -0). */
UG__SIMD_INLINE ug_status logsumexp_f64_run(const ug_problem *p, int fast)
{
    ug_status st = ug__validate(p, UG_OP_LOGSUMEXP, UG_F64);
    if (st == UG_OK && fast && p->n <= UG__F64_TINY_N)
        return f64_tiny_pipe(p, UG_OP_LOGSUMEXP, NULL, &(int){0});
    for (size_t r0 = 0, g; st == UG_OK && r0 < p->rows; r0 += g) {
        double m[VL];
        int ok[VL];
        f64dd sp[VL], L[VL];
        g = fast && p->n > UG__F64_GROUP_MAX_N ? f64_long_sums(p, r0, m, ok, sp, L) : f64_group(p, r0, 0, m, ok, sp, L, fast);
        for (size_t k = 0; st == UG_OK && k < g; k++) {
            if (ok[k])
                ((double *)p->y)[r0 + k] = f64dd_round(f64dd_add((f64dd){m[k], 0}, L[k]));
            else
                st = ug__simd_fallback_row(SCALAR64(logsumexp, twopass), UG_OP_LOGSUMEXP, UG_F64, p, r0 + k, NULL);
        }
    }
    return st;
}

/* ------------------------------------------------------------------ xent */

/* xent.fused.f64.ISA: contract
 *   computes  per row (m - x_t) + L, m - x_t exact (two-sum), L = vlog1p_dd(sp) (sp from
 *             vexp_f64; xent.dd.f64.ISA: from vexp_dd), the sum by
 *             two-sum (both >= 0: no cancellation); reduction none rounds each once; sum and
 *             mean widen each double-double to ug__wide (2^-64) and go through
 *             ug__reduce_store_wide (as xent.fused.f64); a row whose m - x_t overflows
 *             binary64 has its loss formed in ug__wide (one rounding, 2^-64).
 *   bound     per row relative error <= 2^-55.04 before the rounding (dd: 2^-56.0); with a
 *             reduction + 2^-63 + the wide sum's (ERROR-ANALYSIS.md §4): 0.5 + 2^-2.0 ULP
 *             (dd: 2^-2.9), claimed 1 ULP (SIMD-ERROR-ANALYSIS.md §7.5, §7.3).
 *   special   a row that falls back (NaN, +inf, all -inf, a finite x_i - m < -670):
 *             reduction none, that row by xent.fused.f64; sum or mean, the whole problem by
 *             xent.fused.f64 (its losses stay in its working format). */
UG__SIMD_INLINE ug_status xent_f64_run(const ug_problem *p, int fast)
{
    ug_status st = ug__validate(p, UG_OP_XENT, UG_F64);
    if (st != UG_OK)
        return st;
    int none = p->reduction == UG_RED_NONE;
    ug__wide *loss = none ? NULL : malloc(p->rows * sizeof *loss);
    if (!none && loss == NULL)
        return ug__fail(UG_ERR_NOMEM, "cannot allocate %zu losses", p->rows);
    int whole = 0, tiny = fast && p->n <= UG__F64_TINY_N; /* whole: a row fell back under a reduction */
    if (tiny)
        st = f64_tiny_pipe(p, UG_OP_XENT, loss, &whole);
    for (size_t r0 = 0, g; st == UG_OK && !whole && !tiny && r0 < p->rows; r0 += g) {
        double m[VL];
        int ok[VL];
        f64dd sp[VL], L[VL];
        g = fast && p->n > UG__F64_GROUP_MAX_N ? f64_long_sums(p, r0, m, ok, sp, L) : f64_group(p, r0, 0, m, ok, sp, L, fast);
        for (size_t k = 0; st == UG_OK && !whole && k < g; k++) {
            size_t r = r0 + k;
            if (!ok[k]) {
                if (none)
                    st = ug__simd_fallback_row(SCALAR64(xent, fused), UG_OP_XENT, UG_F64, p, r, NULL);
                else
                    whole = 1;
                continue;
            }
            double a, ae;
            ug__two_sum(m[k], -ROW_X(p, r)[p->target[r]], &a, &ae);
            f64dd v = f64dd_add((f64dd){a, ae}, L[k]);
            if (none)
                ((double *)p->y)[r] = f64dd_round(v);
            else if (isinf(a)) /* m - x_t overflows binary64, not ug__wide: a mean may be finite */
                loss[r] = ((ug__wide)m[k] - ROW_X(p, r)[p->target[r]]) + L[k].h + L[k].l;
            else
                loss[r] = (ug__wide)v.h + v.l;
        }
    }
    if (st == UG_OK && !none) {
        if (whole)
            st = SCALAR64(xent, fused)(p);
        else
            ug__reduce_store_wide(p, UG_OP_XENT, UG_F64, loss, p->rows);
    }
    free(loss);
    return st;
}

/* ------------------------------------------------------------------ xent_grad */

/* -(q / S), q and S double-doubles, rounded once (as f64_div). */
static inline double f64_neg_div(f64dd q, f64dd S)
{
    double inv = 1.0 / S.h, yh = q.h * inv;
    double r = fma(-yh, S.h, q.h);
    double c = fma(-yh, S.l, r + q.l);
    return -fma(c, inv, yh);
}

/* e_t = exp(x_t - m) as the pair eh + el of pass 2 (the same two-sum, the same lanes of the
 * same exp: the same bits as the row's e_t). */
UG__SIMD_INLINE f64dd f64_exp1(double xt, double m, int fast)
{
    double dh, dl, hb[VL], lb[VL];
    ug__two_sum(xt, -m, &dh, &dl);
    vd h, l;
    f64_exp(vd_set1(dh), vd_set1(dl), vm_all(), &h, &l, fast);
    vd_storeu(hb, h);
    vd_storeu(lb, l);
    return (f64dd){hb[0], lb[0]};
}

/* The gradient at the target t of a row (x, n) with max m, sp, S = 1 + sp and e_t (unused
 * when x_t = m): -q/S, q = sp when x_t is the max, else 1 + (sp - e_t); q = 0: +0, or -0
 * when another entry is finite. */
static inline double f64_grad_t(const double *x, size_t n, size_t t, double m, f64dd sp, f64dd S, f64dd et)
{
    f64dd q = x[t] == m ? sp : f64dd_add((f64dd){1, 0}, f64dd_add(sp, (f64dd){-et.h, -et.l}));
    double gt = 0.0;
    if (q.h != 0)
        gt = f64_neg_div(q, S);
    else
        for (size_t j = 0; j < n; j++)
            if (j != t && x[j] != -INFINITY)
                gt = -0.0;
    return gt;
}

/* xent_grad's tiny rows, a group at a time: S = 1 + sp lane-wise, e_t from its column,
 * e_i / S as softmax's tiny rows, then the gradient at each row's target (f64_grad_t). */
UG__SIMD_INLINE ug_status f64_tiny_xent_grad(const ug_problem *p)
{
    ug_status st = UG_OK;
    for (size_t r0 = 0; st == UG_OK && r0 < p->rows; r0 += VL) {
        size_t g = p->rows - r0 < VL ? p->rows - r0 : VL;
        vd c[UG__F64_TINY_N], eh[UG__F64_TINY_N], el[UG__F64_TINY_N], m, sh, sl, Sh, Sl, ih, il;
        f64dd et[VL];
        f64tpf pf = f64_tiny_pf_at(p, r0, 1);
        f64_tiny_load(p, r0, g, c);
        vm ok = f64_tiny_sum(p->n, c, eh, el, 0, &m, &sh, &sl, NULL, &pf);
        f64_tiny_dd_add(vd_set1(1.0), vd_zero(), sh, sl, &Sh, &Sl);
        for (size_t k = 0; k < g; k++) { /* e_t: lane k of column t */
            size_t t = (size_t)p->target[r0 + k];
            et[k] = ROW_X(p, r0 + k)[t] != f64_lane(&m, k) ? (f64dd){f64_lane(&eh[t], k), f64_lane(&el[t], k)}
                                                             : (f64dd){0, 0};
        }
        f64_recip(Sh, Sl, &ih, &il);
        for (size_t j = 0; j < (p->n + VL - 1) / VL * VL; j++)
            eh[j] = f64_div0(eh[j], ih, il);
        f64_tiny_store(p, r0, g, eh);
        unsigned okb = vm_bits(ok);
        for (size_t k = 0; st == UG_OK && k < g; k++) {
            size_t r = r0 + k, t = (size_t)p->target[r];
            if (okb >> k & 1)
                ROW_Y(p, r)[t] = f64_grad_t(ROW_X(p, r), p->n, t, f64_lane(&m, k), (f64dd){f64_lane(&sh, k), f64_lane(&sl, k)},
                                            (f64dd){f64_lane(&Sh, k), f64_lane(&Sl, k)}, et[k]);
            else
                st = ug__simd_fallback_row(SCALAR64(xent_grad, fused), UG_OP_XENT_GRAD, UG_F64, p, r, NULL);
        }
    }
    return st;
}

/* xent_grad.fused.f64.ISA: contract
 *   computes  sparse labels: softmax_i = e_i / S for i != t, S = 1 + sp, as softmax.twopass:
 *             e_i = vexp_f64(x_i - m) rounded once and stored in y, divided in place; at t the
 *             complement -q/S, q = sum_{j != t} e_j: q = sp when x_t is the max, else
 *             1 + (sp - e_t) >= 1, e_t the pair (h, l) recomputed (double-doubles; never
 *             softmax_t - 1); one rounding.  Dense labels (target NULL): xent_grad.fused.f64,
 *             the scalar kernel, whole.
 *   bound     i != t: as softmax.twopass.f64, 1.76 ULP; at t: q within 2^-54.41 (sp <= 2q,
 *             e_t <= q), S within 2^-55.99: 0.5 + 0.51 ULP (SIMD-ERROR-ANALYSIS.md §7.5);
 *             claimed 2 ULP; dense: the scalar kernel's 1 + 2^-6 kappa: the row claims
 *             2 + 2^-6 kappa.
 * xent_grad.dd.f64.ISA (fast = 0): e_i = vexp_dd, double-doubles stored to a scratch pair and
 *             divided as f64_div: i != t 2^-61.8, at t q within 2^-61.3, the division 2^-60.9
 *             (§7.3): 0.5 + 2^-7.9 ULP, claimed 1 ULP (dense: 1 + 2^-6 kappa).
 *   special   rows with NaN, +inf, only -inf, or a finite x_i - m < -670:
 *             xent_grad.fused.f64; masked entries give +0, a masked target -1. */
UG__SIMD_INLINE ug_status xent_grad_f64_run(const ug_problem *p, int fast)
{
    if (p != NULL && p->target == NULL && p->aux != NULL)
        return SCALAR64(xent_grad, fused)(p);
    ug_status st = ug__validate(p, UG_OP_XENT_GRAD, UG_F64);
    if (st == UG_OK && fast && p->n <= UG__F64_TINY_N)
        return f64_tiny_xent_grad(p);
    /* stream: as softmax_f64_run, the target's output set when its row's are written */
    int stream = st == UG_OK && fast && f64_stream_outputs(p);
    size_t stride = st == UG_OK && (!fast || stream) ? p->n + VL : 0;
    double *eh = stride > 0 ? ug__simd_scratch(2 * stride) : NULL;
    if (st != UG_OK || (stride > 0 && eh == NULL))
        return st != UG_OK ? st : UG_ERR_NOMEM;
    double *el = fast ? NULL : eh + stride;
    f64pend pd = {0};
    for (size_t r = 0; st == UG_OK && r < p->rows; r++) {
        double m;
        f64dd sp;
        const double *x = ROW_X(p, r);
        double *y = ROW_Y(p, r), *er = stream ? eh + (r & 1) * stride : fast ? y : eh;
        size_t t = (size_t)p->target[r];
        if (!f64_row_sum_pend(x, p->n, er, el, 0, r + 1 < p->rows ? ROW_X(p, r + 1) : NULL, stream ? NULL : y,
                              stream ? &pd : NULL, &m, &sp, fast)) {
            f64_pend_flush(&pd); /* the scratch row of row r - 1 is row r + 1's */
            st = ug__simd_fallback_row(SCALAR64(xent_grad, fused), UG_OP_XENT_GRAD, UG_F64, p, r, NULL);
            continue;
        }
        f64dd S = f64dd_add((f64dd){1, 0}, sp), et = {0, 0};
        if (x[t] != m)
            et = fast ? f64_exp1(x[t], m, 1) : (f64dd){eh[t], el[t]};
        if (stream) { /* e_i rounded once, kept in er */
            f64_pend_div(&pd, er, p->n, S, y);
            pd.fix = 1, pd.fix_t = t, pd.fix_v = f64_grad_t(x, p->n, t, m, sp, S, et);
            continue;
        }
        if (fast)
            f64_div_inplace(y, p->n, S); /* e_i rounded once, stored in y by pass 2 */
        else
            f64_div_store(eh, el, p->n, S, y);
        y[t] = f64_grad_t(x, p->n, t, m, sp, S, et);
    }
    f64_pend_flush(&pd);
    if (stream)
        _mm_sfence(); /* the streamed stores ordered before the caller's */
    free(eh);
    return st;
}

/* ------------------------------------------------------------------ bce_logits */

/* The losses of VL elements, as double-doubles: A + L, A = x (1 - y) = x - x y for x > 0,
 * (-x) y otherwise (two-prod, two-sum: exact but for a rounding of 2^-104 A), L =
 * vlog1p_dd01(vexp_f64(-|x|)) (fast; session 8) or vlog1p_dd(vexp_dd(-|x|)); the sum by two-sum.  Lanes with !(|x| <= 670) are garbage: the
 * caller sends them to the scalar kernel. */
/* f64_bce's parts (session 7: f64_bce4 runs them for UG__F64_BCE_W vectors, stage by stage):
 * the exp s = exp(-|x|), then L = log1p(s) (f64_bce_log1p), then A + L. */
UG__SIMD_INLINE void f64_bce_exp(vd x, vd *sh, vd *sl, int fast)
{
    vd nx = vd_sub(vd_zero(), x);
    vd ax = vd_max(x, nx);
    f64_exp(vd_sub(vd_zero(), ax), vd_zero(), vm_all(), sh, sl, fast);
}

UG__SIMD_INLINE void f64_bce_sum(vd x, vd y, vd lh, vd ll, vd *vh, vd *vl)
{
    vd p = vd_mul(x, y), pe = vd_fms(x, y, p);
    vd np = vd_sub(vd_zero(), p), npe = vd_sub(vd_zero(), pe);
    vd a = vd_add(x, np), bb = vd_sub(a, x);
    vd ae = vd_add(vd_sub(x, vd_sub(a, bb)), vd_sub(np, bb));
    vm pos = vd_lt(vd_zero(), x);
    vd ah = vd_blend(pos, a, np), al = vd_blend(pos, vd_add(ae, npe), npe);
    vd s = vd_add(ah, lh), b2 = vd_sub(s, ah);
    vd e = vd_add(vd_sub(ah, vd_sub(s, b2)), vd_sub(lh, b2));
    *vh = s;
    *vl = vd_add(e, vd_add(al, ll));
}

/* L = log1p(s), s = exp(-|x|) in (2^-967, 1]: vlog1p_dd01 (fast: the table-driven log1p of
 * s in [0, 1], session 8, SIMD-ERROR-ANALYSIS.md §7.10) or vlog1p_dd (the dd rows). */
UG__SIMD_INLINE void f64_bce_log1p(vd sh, vd sl, vd *lh, vd *ll, int fast)
{
    if (fast)
        vlog1p_dd01(sh, sl, lh, ll);
    else
        vlog1p_dd(sh, sl, lh, ll);
}

UG__SIMD_INLINE void f64_bce(vd x, vd y, vd *vh, vd *vl, int fast)
{
    vd sh, sl, lh, ll;
    f64_bce_exp(x, &sh, &sl, fast);
    f64_bce_log1p(sh, sl, &lh, &ll, fast);
    f64_bce_sum(x, y, lh, ll, vh, vl);
}

#define UG__F64_BCE_W (VL == 8 ? 4 : 2) /* vectors at a time: AVX-512 4 (8 measured no faster), AVX2 2 (session 8: with vlog1p_dd01 4 spill its 16 registers, 2 are 5-10 % faster, 1 slower) */
/* f64_bce of UG__F64_BCE_W vectors, each stage for all before the next (their log1p chains
 * side by side): the same operations on the same values. */
UG__SIMD_INLINE void f64_bce4(const vd *x, const vd *y, vd *vh, vd *vl, int fast)
{
    vd sh[UG__F64_BCE_W], sl[UG__F64_BCE_W], lh[UG__F64_BCE_W], ll[UG__F64_BCE_W];
    for (int j = 0; j < UG__F64_BCE_W; j++)
        f64_bce_exp(x[j], &sh[j], &sl[j], fast);
    for (int j = 0; j < UG__F64_BCE_W; j++)
        f64_bce_log1p(sh[j], sl[j], &lh[j], &ll[j], fast);
    for (int j = 0; j < UG__F64_BCE_W; j++)
        f64_bce_sum(x[j], y[j], lh[j], ll[j], &vh[j], &vl[j]);
}

/* bce_logits.stable.f64.ISA: contract
 *   computes  elementwise A + L as in f64_bce, the exp vexp_f64 (both >= 0: no
 *             cancellation), one rounding; sum and mean widen each loss to ug__wide and go
 *             through ug__reduce_store_wide.
 *   bound     relative error per loss before the rounding <= 2^-55.96 (session 8, L's: the
 *             exp's 2^-56.0 moves log1p by a relative 2^-56.0 at most, vlog1p_dd01's 2^-62.0,
 *             its unnormalised low part in the sum's two roundings 2^-63.2; A is exact but for
 *             2^-104): 0.5 + 2^-2.96 ULP (session 7, with vlog1p_dd: 2^-55.04, 0.5 + 2^-2.04);
 *             with a reduction + 2^-63 + the wide sum's: claimed 1 ULP
 *             (SIMD-ERROR-ANALYSIS.md §7.5, §7.10).
 * bce_logits.dd.f64.ISA (fast = 0): the exp vexp_dd: 2^-56.0 per loss, 0.5 + 2^-3.0 ULP,
 *             claimed 1 ULP (§7.3).
 *   special   elements with NaN or infinite x, or |x| > 670 (exp(-|x|) < 2^-966): reduction
 *             none, bce_logits.stable.f64 on that element; sum or mean, the whole problem by
 *             bce_logits.stable.f64. */
UG__SIMD_INLINE ug_status bce_logits_f64_run(const ug_problem *p, int fast)
{
    ug_status st = ug__validate(p, UG_OP_BCE_LOGITS, UG_F64);
    if (st != UG_OK)
        return st;
    size_t count = p->rows * p->n;
    int none = p->reduction == UG_RED_NONE;
    ug__wide *loss = none ? NULL : malloc((count + VL) * sizeof *loss);
    if (!none && loss == NULL)
        return ug__fail(UG_ERR_NOMEM, "cannot allocate %zu losses", count);
    const double *x = p->x, *lab = p->aux;
    double *y = p->y;
    ug_problem one = {.rows = count, .n = 1, .x = p->x, .aux = p->aux, .reduction = UG_RED_NONE, .y = p->y};
    vd lim = vd_set1(-UG__F64_D_MIN);
    for (size_t i = 0; st == UG_OK && i < count; i += VL) {
        if (i % (UG__F64_BCE_W * VL) == 0 && i + UG__F64_BCE_W * VL <= count) { /* when none falls back */
            vd bx[UG__F64_BCE_W], by[UG__F64_BCE_W], bh[UG__F64_BCE_W], bl[UG__F64_BCE_W];
            vm any = vd_lt(vd_zero(), vd_zero());
            for (int j = 0; j < UG__F64_BCE_W; j++) {
                bx[j] = vd_loadu(x + i + j * VL), by[j] = vd_loadu(lab + i + j * VL);
                any = vm_or(any, vd_nge(lim, vd_max(bx[j], vd_sub(vd_zero(), bx[j]))));
            }
            if (!vm_any(any)) {
                f64_bce4(bx, by, bh, bl, fast);
                for (int j = 0; j < UG__F64_BCE_W; j++) {
                    if (none)
                        vd_storeu(y + i + j * VL, vd_add(bh[j], bl[j]));
                    else
                        for (size_t q = 0; q < VL; q++)
                            loss[i + j * VL + q] = (ug__wide)bh[j][q] + bl[j][q];
                }
                i += (UG__F64_BCE_W - 1) * VL; /* and VL by the loop */
                continue;
            }
        }
        size_t k = count - i < VL ? count - i : VL;
        vd vx = k == VL ? vd_loadu(x + i) : f64_load_part(x + i, k), vy = k == VL ? vd_loadu(lab + i) : f64_load_part(lab + i, k);
        vd vh, vl;
        vm big = vd_nge(lim, vd_max(vx, vd_sub(vd_zero(), vx))); /* !(|x| <= 670): NaN, padding too */
        f64_bce(vx, vy, &vh, &vl, fast);
        if (!vm_any(big)) {
            if (none)
                vd_storeu(y + i, vd_add(vh, vl));
            else
                for (size_t j = 0; j < VL; j++)
                    loss[i + j] = (ug__wide)vh[j] + vl[j];
            continue;
        }
        if (!none) {
            if (k == VL || vm_count(big) != VL - k) { /* more than the padding */
                free(loss);
                return SCALAR64(bce_logits, stable)(p);
            }
        }
        double hb[VL], lb[VL];
        vd_storeu(hb, vh);
        vd_storeu(lb, vl);
        for (size_t j = 0; j < k; j++) {
            if (none)
                y[i + j] = hb[j] + lb[j];
            else
                loss[i + j] = (ug__wide)hb[j] + lb[j];
        }
        for (size_t j = 0; none && st == UG_OK && j < k; j++)
            if (!(fabs(x[i + j]) <= -UG__F64_D_MIN))
                st = ug__simd_fallback_row(SCALAR64(bce_logits, stable), UG_OP_BCE_LOGITS, UG_F64, &one, i + j, NULL);
    }
    if (st == UG_OK && !none)
        ug__reduce_store_wide(p, UG_OP_BCE_LOGITS, UG_F64, loss, count);
    free(loss);
    return st;
}

/* ------------------------------------------------------------------ the rows */

/* Production (*.f64.ISA, vexp_f64: SIMD-ERROR-ANALYSIS.md §7.5) and the dd variants
 * (*.dd.f64.ISA, vexp_dd, §7.1-7.3) of the six kernels above: the same code but the exp
 * (and, for softmax and xent_grad, e_i kept as a pair in a scratch instead of in y). */
static ug_status softmax_twopass_f64(const ug_problem *p) { return softmax_f64_run(p, 1); }
static ug_status softmax_dd_f64(const ug_problem *p) { return softmax_f64_run(p, 0); }
static ug_status log_softmax_twopass_f64(const ug_problem *p) { return log_softmax_f64_run(p, 1); }
static ug_status log_softmax_dd_f64(const ug_problem *p) { return log_softmax_f64_run(p, 0); }
static ug_status logsumexp_twopass_f64(const ug_problem *p) { return logsumexp_f64_run(p, 1); }
static ug_status logsumexp_dd_f64(const ug_problem *p) { return logsumexp_f64_run(p, 0); }
static ug_status xent_fused_f64(const ug_problem *p) { return xent_f64_run(p, 1); }
static ug_status xent_dd_f64(const ug_problem *p) { return xent_f64_run(p, 0); }
static ug_status xent_grad_fused_f64(const ug_problem *p) { return xent_grad_f64_run(p, 1); }
static ug_status xent_grad_dd_f64(const ug_problem *p) { return xent_grad_f64_run(p, 0); }
static ug_status bce_logits_stable_f64(const ug_problem *p) { return bce_logits_f64_run(p, 1); }
static ug_status bce_logits_dd_f64(const ug_problem *p) { return bce_logits_f64_run(p, 0); }

/* ------------------------------------------------------------------ for the tests */

/* eh + el = f(xh + xl) for n lanes (n any), f = vexp_dd, vlog1p_dd or vexp_f64 (core/simd_f64.h). */
static void f64_map_dd(void (*f)(vd, vd, vd *, vd *), const double *xh, const double *xl, double *eh, double *el,
                       size_t n)
{
    for (size_t i = 0; i < n; i += VL) {
        size_t k = n - i < VL ? n - i : VL;
        double a[VL] = {0}, b[VL] = {0}, c[VL], d[VL];
        memcpy(a, xh + i, k * sizeof *a);
        memcpy(b, xl + i, k * sizeof *b);
        vd h, l;
        f(vd_loadu(a), vd_loadu(b), &h, &l);
        vd_storeu(c, h);
        vd_storeu(d, l);
        memcpy(eh + i, c, k * sizeof *c);
        memcpy(el + i, d, k * sizeof *d);
    }
}

#undef ROW_X
#undef ROW_Y
#undef SCALAR64

/* The registry's entry points and the tests' exp and log1p of the ISA file, expanded after
 * its target region (they run on any CPU and check it first). */
#define UG__F64_ENTRY(op, alg, isa, isa_id) UG__SIMD_ENTRY(op, alg, f64, isa, isa_id)
/* The test entry ug__FN_ISA of a vector function FN of (hi, lo) arrays (simd_f64.h). */
#define UG__F64_MAP_ENTRY(fn, isa, isa_id)                                                               \
    int ug__##fn##_##isa(const double *xh, const double *xl, double *eh, double *el, size_t n)          \
    {                                                                                                    \
        if (!ug__cpu_has(isa_id))                                                                        \
            return -1;                                                                                   \
        f64_map_dd(fn, xh, xl, eh, el, n);                                                               \
        return 0;                                                                                        \
    }
#define UG__F64_ENTRIES(isa, isa_id)                                                                     \
    UG__F64_ENTRY(softmax, twopass, isa, isa_id)                                                         \
    UG__F64_ENTRY(log_softmax, twopass, isa, isa_id)                                                     \
    UG__F64_ENTRY(logsumexp, twopass, isa, isa_id)                                                       \
    UG__F64_ENTRY(xent, fused, isa, isa_id)                                                              \
    UG__F64_ENTRY(xent_grad, fused, isa, isa_id)                                                         \
    UG__F64_ENTRY(softmax, dd, isa, isa_id)                                                              \
    UG__F64_ENTRY(log_softmax, dd, isa, isa_id)                                                          \
    UG__F64_ENTRY(logsumexp, dd, isa, isa_id)                                                            \
    UG__F64_ENTRY(xent, dd, isa, isa_id)                                                                 \
    UG__F64_ENTRY(xent_grad, dd, isa, isa_id)                                                            \
    UG__F64_ENTRY(bce_logits, dd, isa, isa_id)                                                           \
    UG__F64_ENTRY(bce_logits, stable, isa, isa_id)                                                       \
    UG__F64_MAP_ENTRY(vexp_dd, isa, isa_id)                                                               \
    UG__F64_MAP_ENTRY(vlog1p_dd, isa, isa_id)                                                             \
    UG__F64_MAP_ENTRY(vlog1p_dd01, isa, isa_id)                                                           \
    UG__F64_MAP_ENTRY(vexp_f64, isa, isa_id)
