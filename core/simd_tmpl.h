/* The SIMD kernels, written once over the element type and instantiated by the ISA files
 * (core/simd_avx2.c, core/simd_avx512.c) once per dtype.  The algorithm, its special-value
 * rules and the error budget are in core/simd.h and doc/SIMD-ERROR-ANALYSIS.md; each
 * kernel's contract block below states its claim.  No include guard: included once per
 * instantiation; every parameter is #undef'd at the end.
 *
 * Parameters (from the ISA file):
 *   ET            the element type (float, ug_bf16)
 *   DT, TAG       its dtype (UG_F32) and name token (f32) of the static kernels
 *   SCALAR_TAG    (optional, default TAG) the dtype token of the scalar twins' names
 *   ET_NEGINF     -inf as an ET (the padding of a partial vector)
 *   vd_load_et    VL elements widened exactly to binary64 lanes
 *   vd_store_et   VL binary64 lanes rounded once (RNE) to ET
 *   vd_store2_et  (optional) 2 VL lanes, as two vd_store_et (one conversion for both)
 *   vd_stream2_et (optional) vd_store2_et with a non-temporal store, to an address aligned
 *                 to its size (long rows' outputs, pend_set; without it, no streaming)
 *   vf_load_et    VF = 2 VL elements as binary32 lanes (exact; for the max)
 *   et_widen      one ET to double (exact)
 * and the primitives of the ISA (vd, VL, vd_* of simd_vexp.h and vd_hsum,
 * vd_zero, vd_loadu, vd_storeu, vd_acc_lt0; vf, VF, vf_set1, vf_max, vf_hmax, vf_min,
 * vf_hmin, vf_eq_mask).
 *
 * Each kernel is a static function op_alg_TAG; the ISA file defines the registry's entry
 * points (UG__SIMD_ENTRY) outside its target region.
 */

#ifndef SCALAR_TAG
#define SCALAR_TAG TAG /* the dtype's name in the scalar kernels' names */
#endif
/* ISA-level switches of the tiny rows (session 6; the ISA file may define them to 1, the
 * same bits either way): UG__TINY_RANGE, the exp without its flush for groups in range
 * (tiny_max); UG__TINY_KEEP_D, log_softmax keeping d = x - m for its outputs.  They pay
 * where the flush costs a compare and an AND (AVX2), not where it is a masked FMA
 * (AVX-512: measured slower with them). */
#ifndef UG__TINY_RANGE
#define UG__TINY_RANGE 0
#endif
#ifndef UG__TINY_KEEP_D
#define UG__TINY_KEEP_D 0
#endif
/* Session 7 (the same bits either way; AVX2 only, SIMD-ERROR-ANALYSIS.md §2 "Tiny rows,
 * session 7"): UG__TINY_MAX_F, pass 1 of tiny rows of an even number of vectors in binary32
 * lanes (half the vectors, no widening, nothing stored; pass 2 widens its entries from x);
 * UG__TINY_VCOUNT, the max's lanes counted in vector lanes (the ISA file's vd_term_lt0v and
 * vd_cnt_double) instead of a MOVMSK and a POPCNT per vector. */
#ifndef UG__TINY_MAX_F
#define UG__TINY_MAX_F 0
#endif
#ifndef UG__TINY_VCOUNT
#define UG__TINY_VCOUNT 0
#endif
#if UG__TINY_MAX_F && !UG__TINY_KEEP_D
#error "UG__TINY_MAX_F leaves gr->xv empty: log_softmax's tiny rows need UG__TINY_KEEP_D"
#endif
#ifndef vd_store2_et
#define vd_store2_et(y, a, b) (vd_store_et((y), (a)), vd_store_et((y) + VL, (b)))
#endif
#define T_(name) UG__CAT(name##_, TAG)
#define SCALAR(op, alg) UG__CAT(ug_k_##op##_##alg##_, SCALAR_TAG)

/* ------------------------------------------------------------------ partial vectors */

/* The k < VL elements x[0..k) in a vector, padded with -inf (exp gives 0, max ignores it). */
UG__SIMD_INLINE vd T_(load_part)(const ET *x, size_t k)
{
    ET buf[VL];
    for (size_t j = 0; j < VL; j++)
        buf[j] = j < k ? x[j] : ET_NEGINF;
    return vd_load_et(buf);
}

UG__SIMD_INLINE void T_(store_part)(ET *y, vd v, size_t k)
{
    ET buf[VL];
    vd_store_et(buf, v);
    memcpy(y, buf, k * sizeof *y);
}

/* ------------------------------------------------------------------ pass 1: the max */

/* The k < VF elements x[0..k) in a binary32 vector, padded with -inf. */
UG__SIMD_INLINE vf T_(load_part_f)(const ET *x, size_t k)
{
    ET buf[VF];
    for (size_t j = 0; j < VF; j++)
        buf[j] = j < k ? x[j] : ET_NEGINF;
    return vf_load_et(buf);
}

/* row_vmax: the lane maxima; row_max: max_j x_j, exact, in binary32 lanes (every f32 and bf16 value is one): twice the lanes
 * of binary64.  A NaN entry may or may not show (VMAXPS drops NaN operands); pass 2
 * catches it either way.  row_vminmax also leaves the lane minima in *vmin.  A partial
 * last vector is padded with copies of x[0], which changes neither the max nor the min. */
UG__SIMD_INLINE vf T_(row_vminmax)(const ET *x, size_t n, vf *vmin)
{
    vf m0 = vf_set1(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
    vf l0 = vf_set1(INFINITY), l1 = l0, l2 = l0, l3 = l0;
    size_t i = 0;
    for (; i + 4 * VF <= n; i += 4 * VF) {
        vf a0 = vf_load_et(x + i), a1 = vf_load_et(x + i + VF);
        vf a2 = vf_load_et(x + i + 2 * VF), a3 = vf_load_et(x + i + 3 * VF);
        m0 = vf_max(m0, a0), l0 = vf_min(l0, a0);
        m1 = vf_max(m1, a1), l1 = vf_min(l1, a1);
        m2 = vf_max(m2, a2), l2 = vf_min(l2, a2);
        m3 = vf_max(m3, a3), l3 = vf_min(l3, a3);
    }
    for (; i + VF <= n; i += VF) {
        vf a0 = vf_load_et(x + i);
        m0 = vf_max(m0, a0), l0 = vf_min(l0, a0);
    }
    if (i < n) {
        ET buf[VF];
        for (size_t j = 0; j < VF; j++)
            buf[j] = x[i + j < n ? i + j : 0];
        vf a1 = vf_load_et(buf);
        m1 = vf_max(m1, a1), l1 = vf_min(l1, a1);
    }
    *vmin = vf_min(vf_min(l0, l1), vf_min(l2, l3));
    return vf_max(vf_max(m0, m1), vf_max(m2, m3));
}

UG__SIMD_INLINE vf T_(row_vmax)(const ET *x, size_t n)
{
    vf unused;
    return T_(row_vminmax)(x, n, &unused); /* the minima are dead code here */
}

/* The index of the first entry equal to m (a finite max from row_max), n if there is none
 * (a NaN entry can make row_max return a value it then hides from no compare, but never
 * one absent from the row: n is a safeguard, and the caller takes the general path). */
UG__SIMD_INLINE size_t T_(row_find)(const ET *x, size_t n, double m)
{
    vf vm = vf_set1((float)m);
    size_t i = 0;
    for (; i + 2 * VF <= n; i += 2 * VF) {
        unsigned k0 = vf_eq_mask(vf_load_et(x + i), vm), k1 = vf_eq_mask(vf_load_et(x + i + VF), vm);
        if ((k0 | k1) != 0)
            return k0 != 0 ? i + (size_t)__builtin_ctz(k0) : i + VF + (size_t)__builtin_ctz(k1);
    }
    for (; i < n; i += VF) {
        unsigned k = vf_eq_mask(n - i >= VF ? vf_load_et(x + i) : T_(load_part_f)(x + i, n - i), vm);
        if (k != 0)
            return i + (size_t)__builtin_ctz(k);
    }
    return n;
}

static inline double T_(row_max)(const ET *x, size_t n) { return vf_hmax(T_(row_vmax)(x, n)); }

/* ------------------------------------------------------------------ pass 3: outputs */

/* y_i = op(v_i, c), rounded once: scale_store (op = vd_mul: e_i s) and dshift_store
 * (op = vd_sub: d_i - L, with d_i = x_i - m kept from pass 2, shift_store's value). */
UG__SIMD_INLINE void T_(map_store)(const double *v, size_t n, double c, ET *y, vd (*op)(vd, vd))
{
    vd vc = vd_set1(c);
    size_t i = 0;
    for (; i + 2 * VL <= n; i += 2 * VL)
        vd_store2_et(y + i, op(vd_loadu(v + i), vc), op(vd_loadu(v + i + VL), vc));
    for (; i + VL <= n; i += VL)
        vd_store_et(y + i, op(vd_loadu(v + i), vc));
    if (i < n)
        T_(store_part)(y + i, op(vd_loadu(v + i), vc), n - i);
}

UG__SIMD_INLINE void T_(scale_store)(const double *e, size_t n, double s, ET *y) { T_(map_store)(e, n, s, y, vd_mul); }
UG__SIMD_INLINE void T_(dshift_store)(const double *d, size_t n, double L, ET *y) { T_(map_store)(d, n, L, y, vd_sub); }

/* y_i = (x_i - m) - L, rounded once. */
UG__SIMD_INLINE void T_(shift_store)(const ET *x, size_t n, double m, double L, ET *y)
{
    vd vm = vd_set1(m), vl = vd_set1(L);
    size_t i = 0;
    for (; i + 2 * VL <= n; i += 2 * VL)
        vd_store2_et(y + i, vd_sub(vd_sub(vd_load_et(x + i), vm), vl), vd_sub(vd_sub(vd_load_et(x + i + VL), vm), vl));
    for (; i + VL <= n; i += VL)
        vd_store_et(y + i, vd_sub(vd_sub(vd_load_et(x + i), vm), vl));
    if (i < n)
        T_(store_part)(y + i, vd_sub(vd_sub(T_(load_part)(x + i, n - i), vm), vl), n - i);
}

/* The outputs of the previous row, written while the next row is analysed (long rows):
 * its stores drain to memory while the next row's exps are computed, instead of after.
 * Each output is the same arithmetic as scale_store / shift_store: only the order in which
 * the two rows' instructions run changes. */
typedef struct T_(pend) {
    int kind;       /* 0 nothing, 1 y = e s (softmax), 2 y = (x - m) - L (log_softmax),
                       3 y = d - L with d = x - m kept from pass 2 (e, log_softmax) */
    const double *e; /* kind 1, 3                                                    */
    const ET *x;     /* kind 2                                                       */
    double a, b;     /* kind 1: s; kind 2: m, L; kind 3: -, L                        */
    ET *y;
    size_t next, n;  /* outputs [0, next) written, of n                              */
    int nt;          /* pend_4 streams its stores (pend_set)                         */
} T_(pend);

/* Non-temporal stores (the ISA file's vd_stream2_et, 2 VL outputs to an address aligned to
 * their size; without it, ordinary stores): same values, written around the caches.  Only
 * for outputs of at least UG__SIMD_STREAM_BYTES per call, which no cache near the core holds
 * anyway: their lines are not read for ownership first (a third of the traffic).  The
 * streamed part of a row starts on a cache line (64 bytes) and pend_4 writes whole lines
 * (4 VL outputs: 64 or 128 bytes), so that no line is left half written in the
 * write-combining buffers. */
#ifdef vd_stream2_et
#define STREAM_ALIGN ((size_t)64)
#else
#define vd_stream2_et vd_store2_et
#define STREAM_ALIGN ((size_t)1)
#endif

/* The pending outputs [i, end). */
UG__SIMD_INLINE void T_(pend_range)(const T_(pend) *pd, size_t i, size_t end)
{
    if (pd->kind == 1)
        T_(scale_store)(pd->e + i, end - i, pd->a, pd->y + i);
    else if (pd->kind == 2)
        T_(shift_store)(pd->x + i, end - i, pd->a, pd->b, pd->y + i);
    else if (pd->kind == 3)
        T_(dshift_store)(pd->e + i, end - i, pd->b, pd->y + i);
}

/* The next 4 VL pending outputs, if there are as many left: pd->next advances. */
#define UG__PEND_STORE(y, a, b) (nt ? vd_stream2_et((y), (a), (b)) : vd_store2_et((y), (a), (b)))
UG__SIMD_INLINE void T_(pend_4)(T_(pend) *pd)
{
    size_t i = pd->next;
    int nt = pd->nt;
    if (pd->kind == 0 || i + 4 * VL > pd->n)
        return;
    pd->next = i + 4 * VL;
    if (pd->kind == 1) {
        vd vs = vd_set1(pd->a);
        for (size_t j = 0; j < 4 * VL; j += 2 * VL)
            UG__PEND_STORE(pd->y + i + j, vd_mul(vd_loadu(pd->e + i + j), vs), vd_mul(vd_loadu(pd->e + i + j + VL), vs));
    } else if (pd->kind == 2) {
        vd vm = vd_set1(pd->a), vl = vd_set1(pd->b);
        for (size_t j = 0; j < 4 * VL; j += 2 * VL)
            UG__PEND_STORE(pd->y + i + j, vd_sub(vd_sub(vd_load_et(pd->x + i + j), vm), vl),
                           vd_sub(vd_sub(vd_load_et(pd->x + i + j + VL), vm), vl));
    } else if (pd->kind == 3) {
        vd vl = vd_set1(pd->b);
        for (size_t j = 0; j < 4 * VL; j += 2 * VL)
            UG__PEND_STORE(pd->y + i + j, vd_sub(vd_loadu(pd->e + i + j), vl), vd_sub(vd_loadu(pd->e + i + j + VL), vl));
    }
}
#undef UG__PEND_STORE

/* The rest of the pending outputs, [pd->next, n); then nothing is pending. */
UG__SIMD_INLINE void T_(pend_flush)(T_(pend) *pd)
{
    T_(pend_range)(pd, pd->next, pd->n);
    pd->kind = 0;
}

/* Make *pd (kind, e or x, a, b, y set by the caller) the pending outputs of a row of n:
 * stream (nt) when the call writes at least UG__SIMD_STREAM_BYTES, after writing at once
 * the first outputs, up to the first address aligned for vd_stream2_et. */
UG__SIMD_INLINE void T_(pend_set)(T_(pend) *pd, size_t n, int stream)
{
    size_t head = 0;
    pd->n = n;
    pd->nt = stream && (uintptr_t)pd->y % sizeof(ET) == 0 && STREAM_ALIGN > 1;
    if (pd->nt)
        head = (STREAM_ALIGN - (uintptr_t)pd->y % STREAM_ALIGN) % STREAM_ALIGN / sizeof(ET);
    head = head < n ? head : n;
    T_(pend_range)(pd, 0, head);
    pd->next = head;
}

/* Whether a long-row kernel streams its outputs (rows x n x sizeof(ET) bytes). */
static inline int T_(stream_outputs)(const ug_problem *p)
{
    return STREAM_ALIGN > 1 && p->rows * p->n * sizeof(ET) >= UG__SIMD_STREAM_BYTES;
}

/* ------------------------------------------------------------------ pass 2: the sum */

/* Prefetch the 4 VL elements at x (into L2 and L1): one or two cache lines. */
UG__SIMD_INLINE void T_(prefetch)(const ET *x)
{
    for (size_t b = 0; b < 4 * VL * sizeof(ET); b += 64)
        _mm_prefetch((const char *)x + b, _MM_HINT_T0);
}

/* e = exp(x - m) for one vector; e is stored to e_out (VL doubles) when it is not NULL.
 * full = 0: the lanes with x < m are added to acc, the others (x = m) counted in *neq;
 * full = 1 (softmax): every lane is added (e = 1 exactly where x = m); full =
 * UG__SUM_KEEP_D: as 0, but e_out receives d = x - m instead of e (log_softmax's long rows,
 * whose outputs are d - L).  fast = 1: the row is in range (x - m >= X_MIN everywhere,
 * row_analyse) and every lane is added, whatever full: the exp without its flush (vexp_in,
 * the same bits there) and no compare; the caller keeps the max's lane out of these
 * vectors (block_sum).  full and fast are constants at every call: the compiler drops the
 * other branches. */
UG__SIMD_INLINE vd T_(step)(vd x, vd vm, vd acc, size_t *neq, double *e_out, int full, int fast)
{
    vd d = vd_sub(x, vm);
    vd e = fast ? vexp_in(d) : vexp(d);
    if (e_out != NULL)
        vd_storeu(e_out, full == UG__SUM_KEEP_D ? d : e);
    return full == 1 || fast ? vd_add(acc, e) : vd_acc_lt0(acc, d, e, neq);
}

/* The four steps of the 4 VL entries at x + i, into a0..a3 (fast: see step). */
#define UG__STEP4(FAST)                                                                                     \
    do {                                                                                                    \
        *a0 = T_(step)(vd_load_et(x + i), vm, *a0, neq, e != NULL ? e + i : NULL, full, FAST);                \
        *a1 = T_(step)(vd_load_et(x + i + VL), vm, *a1, neq, e != NULL ? e + i + VL : NULL, full, FAST);      \
        *a2 = T_(step)(vd_load_et(x + i + 2 * VL), vm, *a2, neq, e != NULL ? e + i + 2 * VL : NULL, full, FAST); \
        *a3 = T_(step)(vd_load_et(x + i + 3 * VL), vm, *a3, neq, e != NULL ? e + i + 3 * VL : NULL, full, FAST); \
    } while (0)

UG__SIMD_INLINE void T_(step4_fast)(const ET *x, size_t i, vd vm, vd *a0, vd *a1, vd *a2, vd *a3, size_t *neq,
                                   double *e, int full)
{
    UG__STEP4(1);
}

UG__SIMD_INLINE void T_(step4)(const ET *x, size_t i, vd vm, vd *a0, vd *a1, vd *a2, vd *a3, size_t *neq, double *e,
                              int full)
{
    UG__STEP4(0);
}
#undef UG__STEP4

/* One block of at most UG__SIMD_BLOCK entries into four accumulators (4 VL lanes), added
 * lane by lane into *tot.  pf: the same block of the next row (or NULL), prefetched while
 * this one is computed, so that pass 1 of the next row reads from cache.  fast (the row is
 * in range): the groups of 4 VL entries take the fast steps, except the group that starts
 * at jg (the one holding the max's first occurrence; SIZE_MAX: none), which takes the
 * general steps, as do the last < 4 VL entries: the max's lane is left out of the sum and
 * counted, as in the general path, and every other lane is added (a tie of the max in a
 * fast group adds its exp, exactly 1).  The lanes, their order and their accumulators are
 * those of the general path. */
UG__SIMD_INLINE void T_(block_sum)(const ET *x, size_t b, size_t end, vd vm, vd *tot, size_t *neq, double *e, int full,
                                 const ET *pf, T_(pend) *pd, int fast, size_t jg)
{
    vd a0 = vd_zero(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = b;
    for (; i + 4 * VL <= end; i += 4 * VL) {
        if (pf != NULL)
            T_(prefetch)(pf + i);
        T_(pend_4)(pd);
        if (fast && i != jg)
            T_(step4_fast)(x, i, vm, &a0, &a1, &a2, &a3, neq, e, full);
        else
            T_(step4)(x, i, vm, &a0, &a1, &a2, &a3, neq, e, full);
    }
    for (; i + VL <= end; i += VL)
        a0 = T_(step)(vd_load_et(x + i), vm, a0, neq, e != NULL ? e + i : NULL, full, 0);
    if (i < end)
        a1 = T_(step)(T_(load_part)(x + i, end - i), vm, a1, neq, e != NULL ? e + i : NULL, full, 0);
    *tot = vd_add(*tot, vd_add(vd_add(a0, a1), vd_add(a2, a3)));
}

/* full = 0: sp = sum_{j : x_j < m} exp(x_j - m) + (#{j : x_j = m} - 1); full = 1: the whole
 * sum S = sum_j exp(x_j - m) (= 1 + sp, computed without singling out the max), for a row
 * whose max m is finite; e (room for n + VL doubles, or NULL) receives every exp(x_j - m);
 * pf: the next row or NULL (prefetch only); pd: the previous row's outputs, written on the
 * way (then pd->kind = 0).  row_vsum leaves the lane sums (and the count in *neq).
 * row_sum returns 0 when the row is special after all
 * (a NaN or +inf entry makes the sum NaN).
 * Each term passes through at most UG__SIMD_BLOCK/(4 VL) + 4 additions in its lane's
 * accumulator, 2 combining the four, ceil(n/UG__SIMD_BLOCK) in tot, log2 VL in the
 * horizontal sum and 1 for the count: K <= 265 + ceil(n/4096) (SIMD-ERROR-ANALYSIS.md §2). */
UG__SIMD_INLINE vd T_(row_vsum)(const ET *x, size_t n, double m, double *e, int full, const ET *pf, T_(pend) *pd,
                              size_t *neq, int fast, size_t jm)
{
    vd vm = vd_set1(m), tot = vd_zero();
    size_t c = *neq; /* in a register, not through the pointer */
    for (size_t b = 0; b < n; b += UG__SIMD_BLOCK) {
        /* the group of 4 VL holding jm (blocks start at multiples of 4 VL) */
        size_t jg = jm >= b && jm < b + UG__SIMD_BLOCK ? jm - (jm - b) % (4 * VL) : SIZE_MAX;
        T_(block_sum)(x, b, n - b < UG__SIMD_BLOCK ? n : b + UG__SIMD_BLOCK, vm, &tot, &c, e, full, pf, pd, fast, jg);
    }
    T_(pend_flush)(pd);
    *neq = c;
    return tot;
}

/* The row's sum from the horizontal sum h of row_vsum's lanes and its count neq. */
UG__SIMD_INLINE int T_(sum_finish)(double h, size_t neq, int full, double *sp)
{
    if (full == 1) {
        *sp = h;
        return !isnan(*sp);
    }
    if (neq == 0) /* m is not an entry: only a NaN can do that */
        return 0;
    *sp = h + (double)(neq - 1);
    return !isnan(*sp);
}

UG__SIMD_INLINE int T_(row_sum)(const ET *x, size_t n, double m, double *e, double *sp, int full, const ET *pf,
                              T_(pend) *pd, int fast, size_t jm)
{
    size_t neq = 0;
    vd tot = T_(row_vsum)(x, n, m, e, full, pf, pd, &neq, fast, jm);
    return T_(sum_finish)(vd_hsum(tot), neq, full, sp);
}

/* m and sp (full = 0) or S (full = 1) of row x; 0 when the row is special (NaN, +inf,
 * every entry -inf).  The row is in range when min_j x_j - m >= X_MIN, computed as pass 2
 * computes each d_j = x_j - m (fl is monotone, so then every d_j >= X_MIN, no -inf entry
 * either): pass 2 takes the fast steps (block_sum), full = 0 after finding the max's first
 * index (row_find). */
UG__SIMD_INLINE int T_(row_analyse)(const ET *x, size_t n, double *e, double *m, double *sp, int full, const ET *pf,
                                  T_(pend) *pd)
{
    vf vmin;
    *m = vf_hmax(T_(row_vminmax)(x, n, &vmin));
    int ok = isfinite(*m);
    if (ok) {
        int fast = vf_hmin(vmin) - *m >= UG__EXP_X_MIN;
        size_t jm = fast && full != 1 ? T_(row_find)(x, n, *m) : SIZE_MAX;
        fast = fast && (full == 1 || jm < n);
        ok = T_(row_sum)(x, n, *m, e, sp, full, pf, pd, fast, jm);
    }
    if (pd->kind != 0) /* the row was special before its sum: write them now */
        T_(pend_flush)(pd);
    return ok;
}

/* ------------------------------------------------------------------ the kernels */

/* Row r of p: its logits and its outputs (per_row of them). */
#define ROW_X(p, r) ((const ET *)(p)->x + (r) * (p)->n)
#define ROW_Y(p, r, per_row) ((ET *)(p)->y + (r) * (per_row))

/* Short rows are taken UG__SIMD_GROUP at a time: all analysed (passes 1 and 2), then all
 * finished, so that the out-of-order core overlaps their latency chains (max -> sum ->
 * log or division -> outputs).  Each row's arithmetic is the same whatever the group:
 * the outputs do not depend on the grouping or the batch. */
typedef struct T_(group) {
    size_t r0, g;             /* rows [r0, r0 + g)                          */
    double m[UG__SIMD_GROUP];  /* their max                                 */
    double sp[UG__SIMD_GROUP]; /* their sum without the max term (full: S)   */
    int ok[UG__SIMD_GROUP];    /* 0: special, through the scalar kernel      */
    unsigned okm;              /* bit k: ok[k]                               */
    vd xv[UG__SIMD_GROUP][UG__SIMD_TINY]; /* tiny rows: their entries, widened       */
    int in_range;              /* tiny rows: every x_j - m_k >= X_MIN (tiny_max) */
    double L[UG__SIMD_GROUP];  /* log_softmax's tiny rows (group_pipe): log1p(sp), right after the sums */
} T_(group);

/* Pass 1 of the group of short rows from r0 on: gr->r0, g and m (vf_hmax8: the same tree as
 * vf_hmax, so the same bits). */
UG__SIMD_INLINE void T_(group_max)(const ug_problem *p, size_t r0, T_(group) *gr)
{
    gr->r0 = r0;
    gr->g = p->rows - r0 < UG__SIMD_GROUP ? p->rows - r0 : UG__SIMD_GROUP;
    vf vmax[UG__SIMD_GROUP];
    for (size_t k = 0; k < UG__SIMD_GROUP; k++)
        vmax[k] = k < gr->g ? T_(row_vmax)(ROW_X(p, r0 + k), p->n) : vf_set1(-INFINITY);
    vf_hmax8(vmax, gr->m);
}

/* The group's sums from the lane sums vsum and the counts neq of its rows: sum_finish for
 * all UG__SIMD_GROUP rows at once, lane-wise (lane k = row k after vd_hsum8, the same tree
 * as vd_hsum): sp = h + (neq - 1) (full = 0; neq - 1 is exact as a double either way, so
 * the same sum) or S = h (full = 1), and ok = m finite, neq != 0 (full = 0) and sp not NaN.
 * sp of the special rows and of the lanes past g is 0 (never used). */
UG__SIMD_INLINE void T_(group_finish)(T_(group) *gr, const vd vsum[UG__SIMD_GROUP], const size_t neq[UG__SIMD_GROUP],
                                      int full)
{
    double h[UG__SIMD_GROUP], cnt[UG__SIMD_GROUP];
    vd_hsum8(vsum, h);
    for (size_t k = 0; k < UG__SIMD_GROUP; k++)
        cnt[k] = (double)neq[k];
    unsigned ok = 0;
    for (size_t k = 0; k < UG__SIMD_GROUP; k += VL) {
        vd vh = vd_loadu(h + k), vc = vd_load_scalars(cnt + k);
        vd sp = full == 1 ? vh : vd_add(vh, vd_sub(vc, vd_set1(1.0)));
        unsigned b = vd_finite_bits(vd_loadu(gr->m + k)) & vd_ord_bits(sp);
        ok |= (full == 1 ? b : b & vd_ne0_bits(vc)) << k;
        vd_storeu(gr->sp + k, sp);
    }
    gr->okm = ok;
    for (size_t k = 0; k < UG__SIMD_GROUP; k++)
        if (!(gr->ok[k] = (int)(ok >> k & 1)))
            gr->sp[k] = 0; /* log1p's argument for the lanes never used: in its domain */
}

#if UG__TINY_VCOUNT
/* group_finish of tiny rows of n entries whose lanes x < m (or NaN) were counted in the
 * integer lanes of vcnt (UG__TINY_VCOUNT): their counts, exact as binary64, summed by
 * vd_hsum8 (exact: integers below 2^53), give c0 = n - that, the neq of group_finish as a
 * double: the same sp = h + (c0 - 1), the same ok. */
UG__SIMD_INLINE void T_(group_finish_v)(T_(group) *gr, const vd vsum[UG__SIMD_GROUP], const vd vcnt[UG__SIMD_GROUP],
                                        double n)
{
    double h[UG__SIMD_GROUP], clt[UG__SIMD_GROUP];
    vd cd[UG__SIMD_GROUP];
    UG__PRAGMA(GCC unroll 8)
    for (size_t k = 0; k < UG__SIMD_GROUP; k++)
        cd[k] = vd_cnt_double(vcnt[k]);
    vd_hsum8(vsum, h);
    vd_hsum8(cd, clt);
    unsigned ok = 0;
    for (size_t k = 0; k < UG__SIMD_GROUP; k += VL) {
        vd vh = vd_loadu(h + k), vc = vd_sub(vd_set1(n), vd_loadu(clt + k));
        vd sp = vd_add(vh, vd_sub(vc, vd_set1(1.0)));
        unsigned b = vd_finite_bits(vd_loadu(gr->m + k)) & vd_ord_bits(sp) & vd_ne0_bits(vc);
        ok |= b << k;
        vd_storeu(gr->sp + k, sp);
    }
    gr->okm = ok;
    for (size_t k = 0; k < UG__SIMD_GROUP; k++)
        if (!(gr->ok[k] = (int)(ok >> k & 1)))
            gr->sp[k] = 0; /* log1p's argument for the lanes never used: in its domain */
}
#endif

/* Tiny rows (n = nv VL, nv <= UG__SIMD_TINY whole vectors, and the kernel asks for it): each
 * row's vectors are loaded and widened once, for both passes.  Pass 1 (tiny_max) takes the
 * max in binary64 lanes (exact, as in binary32: the entries are the same values); pass 2
 * (tiny_sum) runs the same steps in the same order as row_vsum, so the same bits: one
 * accumulator for nv < 4, four for nv = 4 (block_sum's unrolled loop).
 * Session 6: tiny_max also takes the group's smallest entry lo and largest max hi; the group
 * is in range when fl(lo - hi) >= X_MIN, for then every d = fl(x_j - m_k) of its rows is
 * >= X_MIN (x_j - m_k >= lo - hi, and fl is monotone): tiny_sum takes the exp without its
 * flush (vexp_in: the same bits there).  lo and hi leave NaN entries out (MINPD / MAXPD
 * return their second operand when either is NaN, so x and mx come first): a NaN must not
 * reach them, for the next MINPD would then return its second operand and forget every
 * earlier entry of that lane (a fuzz finding: a row's -1.6e35 forgotten after the next row's
 * NaN, the group taken as in range).  Rows with a NaN fall back (ok = 0) and their outputs
 * are not these; every other row's entries and max are in lo and hi.  And tiny_sum adds the masked terms without the
 * accumulators' starting zeros: 0 + t = t exactly for every term t (t = +0, an exp > 0 or
 * NaN), so the same sums, one addition per vector fewer. */
/* Whether pass 1 of tiny rows of nv vectors takes binary32 lanes (UG__TINY_MAX_F 1: every
 * op; 2: log_softmax only, keep): then gr->xv holds nothing after it, and pass 2 widens the
 * entries from x. */
#define UG__TINY_F(nv, keep) \
    ((UG__TINY_MAX_F == 1 || (UG__TINY_MAX_F == 2 && (keep))) && VF == 2 * VL && (nv) % 2 == 0)

UG__SIMD_INLINE void T_(tiny_max)(const ug_problem *p, size_t r0, T_(group) *gr, size_t nv, int keep)
{
    gr->r0 = r0;
    gr->g = p->rows - r0 < UG__SIMD_GROUP ? p->rows - r0 : UG__SIMD_GROUP;
    if (UG__TINY_F(nv, keep)) {
        /* Session 7: the same maxima, lo and hi from the binary32 entries (exact, every entry
         * is one); MINPS / MAXPS take their operands in the order MINPD / MAXPD took them,
         * so a NaN entry is left out of lo and hi as there.  Each row prefetches the one 4
         * groups ahead (a cache line; the batch's rows are read in order).  Session 9: the
         * rows' addresses from x0 by the constant nv VL (is_tiny: n = nv VL) and the loop over
         * the group unrolled, so that nothing is reloaded from p after the stores of the other
         * passes (a vector store may alias anything): 235 -> 195 instructions per row with
         * the other session-9 changes (callgrind, log_softmax.twopass.f32.avx2, 8192x16). */
        vf vmax[UG__SIMD_GROUP], lo = vf_set1(INFINITY), hi = vf_set1(-INFINITY);
        const ET *x0 = ROW_X(p, r0);
        size_t g = gr->g, ahead = p->rows - r0 > 5 * UG__SIMD_GROUP ? 4 * UG__SIMD_GROUP : 0;
        UG__PRAGMA(GCC unroll 8)
        for (size_t k = 0; k < UG__SIMD_GROUP; k++) {
            vf mx = vf_set1(-INFINITY);
            if (k < g) {
                /* the row 4 groups on (none near the end): in L1 when its pass 1 comes */
                if (ahead != 0)
                    _mm_prefetch((const char *)(x0 + (k + ahead) * nv * VL), _MM_HINT_T0);
                UG__UNROLL4
                for (size_t j = 0; j < nv / 2; j++) {
                    vf a = vf_load_et(x0 + k * nv * VL + j * VF);
                    mx = vf_max(mx, a);
                    lo = vf_min(a, lo); /* NaN a: lo (the second operand) kept */
                }
                hi = vf_max(mx, hi); /* a NaN lane of mx: hi kept */
            }
            vmax[k] = mx;
        }
        vf_hmax8(vmax, gr->m);
        if (!UG__TINY_RANGE) {
            gr->in_range = 0;
            return;
        }
        gr->in_range = vf_hmin(lo) - vf_hmax(hi) >= UG__EXP_X_MIN; /* false for infinities */
        return;
    }
    vd vmax[UG__SIMD_GROUP], lo = vd_set1(INFINITY), hi = vd_set1(-INFINITY);
    for (size_t k = 0; k < UG__SIMD_GROUP; k++) {
        vd mx = vd_set1(-INFINITY);
        if (k < gr->g) {
            UG__UNROLL4
            for (size_t j = 0; j < nv; j++) {
                gr->xv[k][j] = vd_load_et(ROW_X(p, r0 + k) + j * VL);
                mx = vd_max(mx, gr->xv[k][j]);
                lo = vd_min(gr->xv[k][j], lo); /* NaN x: lo (the second operand) kept */
            }
            hi = vd_max(mx, hi); /* a NaN lane of mx: hi kept */
        }
        vmax[k] = mx;
    }
    vd_hmax8(vmax, gr->m);
    if (!UG__TINY_RANGE) {
        gr->in_range = 0;
        return; /* lo and hi are dead code then */
    }
    double l[VL], h[VL], lmin = INFINITY, hmax = -INFINITY;
    vd_storeu(l, lo), vd_storeu(h, hi);
    for (size_t j = 0; j < VL; j++) {
        lmin = l[j] < lmin ? l[j] : lmin;
        hmax = h[j] > hmax ? h[j] : hmax;
    }
    gr->in_range = lmin - hmax >= UG__EXP_X_MIN; /* false for NaN and infinities */
}

/* One vector's term of a tiny row's sum: e = exp(x - m) (stored to e_out unless NULL), masked
 * as step masks it (full = 0: +0 in the lanes x = m, counted in *neq, or in the vector lanes
 * of *cnt with UG__TINY_VCOUNT; full = 1: every lane); in: the group is in range, the exp
 * without its flush; keep: *xv becomes d = x - m (for log_softmax's outputs d - L:
 * tiny_dshift_store).  step(x, vm, acc, ...) is acc + this term. */
UG__SIMD_INLINE vd T_(tiny_term)(vd x, vd *xv, vd vm, size_t *neq, vd *cnt, double *e_out, int full, int in, int keep)
{
    vd d = vd_sub(x, vm);
    vd e = in ? vexp_in(d) : vexp(d);
    if (e_out != NULL)
        vd_storeu(e_out, e);
    if (keep)
        *xv = d;
    (void)cnt, (void)neq;
    if (full == 1)
        return e;
#if UG__TINY_VCOUNT
    return vd_term_lt0v(d, e, cnt);
#else
    return vd_term_lt0(d, e, neq);
#endif
}

UG__SIMD_INLINE void T_(tiny_vsum)(const ug_problem *p, double *e, size_t stride, T_(group) *gr, int full, size_t nv,
                                   int in, int keep)
{
    vd vsum[UG__SIMD_GROUP], vcnt[UG__SIMD_GROUP];
    size_t neq[UG__SIMD_GROUP] = {0};
    unsigned live = 0; /* bit k: row k is in the group and its max finite */
    for (size_t k = 0; k < UG__SIMD_GROUP; k += VL)
        live |= vd_finite_bits(vd_loadu(gr->m + k)) << k;
    live &= (1u << gr->g) - 1;
    const ET *x0 = ROW_X(p, gr->r0); /* session 9: as in tiny_max */
    for (size_t k = 0; k < UG__SIMD_GROUP; k++) {
        vd a0 = vd_zero(), cv = vd_zero();
        if (live >> k & 1) {
            vd vm = vd_set1(gr->m[k]), t[UG__SIMD_TINY];
            double *ek = e != NULL ? e + k * stride : NULL;
            const ET *xk = x0 + k * nv * VL;
            size_t c = 0;
            UG__UNROLL4
            for (size_t j = 0; j < nv; j++)
                t[j] = T_(tiny_term)(UG__TINY_F(nv, keep) ? vd_load_et(xk + j * VL) : gr->xv[k][j], &gr->xv[k][j], vm, &c,
                                     &cv, ek != NULL ? ek + j * VL : NULL, full, in, keep);
            if (nv == 4) { /* ((0 + t0) + (0 + t1)) + ((0 + t2) + (0 + t3)), then 0 + that */
                a0 = vd_add(vd_add(t[0], t[1]), vd_add(t[2], t[3]));
            } else { /* ((0 + t0) + t1) + ... */
                a0 = t[0];
                UG__UNROLL4
                for (size_t j = 1; j < nv; j++)
                    a0 = vd_add(a0, t[j]);
            }
            neq[k] = c;
        }
        vsum[k] = a0;
        vcnt[k] = cv;
    }
#if UG__TINY_VCOUNT
    if (full != 1) {
        T_(group_finish_v)(gr, vsum, vcnt, (double)(nv * VL));
        return;
    }
#endif
    (void)vcnt;
    T_(group_finish)(gr, vsum, neq, full);
}

UG__SIMD_INLINE void T_(tiny_sum)(const ug_problem *p, double *e, size_t stride, T_(group) *gr, int full, size_t nv,
                                  int keep)
{
    if (gr->in_range)
        T_(tiny_vsum)(p, e, stride, gr, full, nv, 1, keep);
    else
        T_(tiny_vsum)(p, e, stride, gr, full, nv, 0, keep);
}

/* Whether the rows of p are tiny (for the kernels that ask for it). */
static inline int T_(is_tiny)(const ug_problem *p) { return p->n % VL == 0 && p->n <= UG__SIMD_TINY * VL; }

/* shift_store of a tiny row from its widened entries xv (the same values: the same bits). */
UG__SIMD_INLINE void T_(tiny_shift_store)(const vd *xv, size_t nv, double m, double L, ET *y)
{
    vd vm = vd_set1(m), vl = vd_set1(L);
    size_t j = 0;
    for (; j + 2 <= nv; j += 2)
        vd_store2_et(y + j * VL, vd_sub(vd_sub(xv[j], vm), vl), vd_sub(vd_sub(xv[j + 1], vm), vl));
    if (j < nv)
        vd_store_et(y + j * VL, vd_sub(vd_sub(xv[j], vm), vl));
}

/* The same from d = x - m kept by tiny_sum (UG__TINY_KEEP_D): d - L, the same values (d is
 * the same fl(x - m)), so the same bits, one subtraction per vector fewer. */
UG__SIMD_INLINE void T_(tiny_dshift_store)(const vd *d, size_t nv, double L, ET *y)
{
    vd vl = vd_set1(L);
    size_t j = 0;
    for (; j + 2 <= nv; j += 2)
        vd_store2_et(y + j * VL, vd_sub(d[j], vl), vd_sub(d[j + 1], vl));
    if (j < nv)
        vd_store_et(y + j * VL, vd_sub(d[j], vl));
}

/* The next group of p's rows from r0 on, analysed (full: see row_sum); e (stride doubles
 * per row) or NULL.  Groups of short rows take their horizontal max and sum for all rows
 * at once (vf_hmax8, vd_hsum8: the same tree as vf_hmax, vd_hsum, so the same bits).
 * gr points to ns groups (3, or 4 for log_softmax's tiny rows, group_pipe_nv): the callers go
 * through the rows in order from r0 = 0, and pass 1
 * of the next group of short rows is done here, before pass 2 of this one, so that its
 * latency (loads, horizontal max) overlaps this group's exps instead of adding to them;
 * the third slot keeps the previous group, which log_softmax, logsumexp and xent finish
 * (log1p, outputs) after this call (group_pipe), so that its log1p and stores overlap this
 * group's exps.  Returns the group of r0 (slot r0/UG__SIMD_GROUP mod ns; a long row: slot
 * r0 mod ns).  Only the order of independent work changes.  tiny: 0, or 1 to take tiny rows
 * in registers (tiny_max), UG__SUM_KEEP_D to keep also their d = x - m in gr->xv (full = 0). */
UG__SIMD_INLINE T_(group) *T_(group_analyse)(const ug_problem *p, size_t r0, double *e, size_t stride, T_(group) *gr,
                                          size_t ns, int full, int tiny)
{
    if (p->n > UG__SIMD_GROUP_MAX_N) { /* one long row */
        T_(pend) none = {0};
        T_(group) *one = &gr[r0 % ns];
        one->r0 = r0, one->g = 1;
        for (size_t k = 1; k < UG__SIMD_GROUP; k++) /* the unused lanes, read by the lane-wise finishes */
            one->m[k] = 0, one->sp[k] = 0;
        const ET *pf = r0 + 1 < p->rows ? ROW_X(p, r0 + 1) : NULL; /* prefetched during pass 2 */
        one->ok[0] = T_(row_analyse)(ROW_X(p, r0), p->n, e, &one->m[0], &one->sp[0], full, pf, &none);
        one->okm = (unsigned)one->ok[0];
        return one;
    }
    size_t q = r0 / UG__SIMD_GROUP; /* r0 is a multiple of UG__SIMD_GROUP: the groups before are full */
    T_(group) *cur = &gr[q % ns], *next = &gr[(q + 1) % ns];
    if (tiny && T_(is_tiny)(p)) {
        size_t nv = p->n / VL;
        int keep = tiny == UG__SUM_KEEP_D;
#define UG__TINY_CASE(NV)                                       \
    case NV:                                                    \
        if (r0 == 0)                                            \
            T_(tiny_max)(p, 0, cur, NV, keep);                  \
        if (r0 + cur->g < p->rows)                              \
            T_(tiny_max)(p, r0 + cur->g, next, NV, keep);       \
        T_(tiny_sum)(p, e, stride, cur, full, NV, keep);        \
        return cur;
        switch (nv) { /* a constant nv per copy: the loops unrolled */
            UG__TINY_CASE(1)
            UG__TINY_CASE(2)
            UG__TINY_CASE(3)
            default:
            UG__TINY_CASE(4)
        }
#undef UG__TINY_CASE
    }
    if (r0 == 0)
        T_(group_max)(p, 0, cur);
    if (r0 + cur->g < p->rows)
        T_(group_max)(p, r0 + cur->g, next);
    vd vsum[UG__SIMD_GROUP];
    size_t neq[UG__SIMD_GROUP] = {0};
    for (size_t k = 0; k < UG__SIMD_GROUP; k++) {
        T_(pend) none = {0};
        vsum[k] = k < cur->g && isfinite(cur->m[k])
                      ? T_(row_vsum)(ROW_X(p, r0 + k), p->n, cur->m[k], e != NULL ? e + k * stride : NULL, full, NULL,
                                     &none, &neq[k], 0, SIZE_MAX)
                      : vd_zero();
    }
    T_(group_finish)(cur, vsum, neq, full);
    return cur;
}

/* L[k] = log1p(sp[k]) for the group's rows (vlog1p, core/simd_vlog.h: relative error
 * <= 2^-49.96, SIMD-ERROR-ANALYSIS.md §3); 0 for its special rows and the lanes past g
 * (group_finish: sp = 0).  Lane-wise: a row's L does not depend on its place in the group. */
UG__SIMD_INLINE void T_(group_log1p)(const T_(group) *gr, double L[UG__SIMD_GROUP])
{
    for (size_t k = 0; k < UG__SIMD_GROUP; k += VL)
        vd_storeu(L + k, vlog1p(vd_loadu(gr->sp + k)));
}

/* y[0..g) = v[0..g) rounded once (vd_store_et; v has UG__SIMD_GROUP entries). */
UG__SIMD_INLINE void T_(store_group)(ET *y, const double v[UG__SIMD_GROUP], size_t g)
{
    if (g == UG__SIMD_GROUP) {
        for (size_t k = 0; k < UG__SIMD_GROUP; k += VL)
            vd_store_et(y + k, vd_loadu(v + k));
        return;
    }
    ET buf[UG__SIMD_GROUP];
    for (size_t k = 0; k < UG__SIMD_GROUP; k += VL)
        vd_store_et(buf + k, vd_loadu(v + k));
    memcpy(y, buf, g * sizeof *y);
}

#ifdef UG__BF16_LANES /* bf16: long rows in binary32 lanes */
#include "simd_bf16_tmpl.h"
#endif

/* softmax.twopass.TAG.ISA: contract
 *   computes  e_i / S as e_i * fl(1/S) in binary64, e_i = vexp(x_i - m) kept from pass 2,
 *             S = sum_j e_j (the whole sum), one rounding on store.
 *   bound     relative error of the binary64 value <= 2^-42.2 (SIMD-ERROR-ANALYSIS.md §4):
 *             0.5 + 2^-18 ULP (f32), 0.5 + 2^-34 ULP (bf16): claimed 1 ULP.
 *   special   rows with NaN, +inf or only -inf: softmax.twopass.TAG (same outputs); -inf
 *             entries of other rows give exp = +0: +0.  Outputs in [0, 1], never overflow;
 *             below the dtype's smallest subnormal they round to +0.  n = 1: exactly 1. */
static ug_status T_(softmax_long)(const ug_problem *p, double *e, size_t stride);

static ug_status T_(softmax_twopass)(const ug_problem *p)
{
    ug_status st = ug__validate(p, UG_OP_SOFTMAX, DT);
#ifdef UG__BF16_LANES
    if (st == UG_OK && p->n > UG__SIMD_GROUP_MAX_N)
        return UG__CAT(ps_softmax_long_, TAG)(p); /* simd_bf16_tmpl.h */
#endif
    size_t stride = st == UG_OK ? p->n + VL : 0;
    double *e = st == UG_OK ? ug__simd_scratch(stride * UG__SIMD_GROUP) : NULL;
    if (e == NULL)
        return st != UG_OK ? st : UG_ERR_NOMEM;
    if (p->n > UG__SIMD_GROUP_MAX_N) {
        st = T_(softmax_long)(p, e, stride);
        free(e);
        return st;
    }
    T_(group) grs[3], *gp = grs;
    for (size_t r0 = 0; st == UG_OK && r0 < p->rows; r0 += gp->g) {
        gp = T_(group_analyse)(p, r0, e, stride, grs, 3, 1, 1);
        const T_(group) *gr = gp;
        for (size_t k = 0; st == UG_OK && k < gr->g; k++) {
            if (gr->ok[k])
                T_(scale_store)(e + k * stride, p->n, 1.0 / gr->sp[k], ROW_Y(p, r0 + k, p->n));
            else
                st = ug__simd_fallback_row(SCALAR(softmax, twopass), UG_OP_SOFTMAX, DT, p, r0 + k, NULL);
        }
    }
    free(e);
    return st;
}

/* softmax of rows longer than UG__SIMD_GROUP_MAX_N, one at a time, row r's outputs written
 * during row r + 1's pass 2 (pend); e holds two rows (stride doubles each). */
static ug_status T_(softmax_long)(const ug_problem *p, double *e, size_t stride)
{
    ug_status st = UG_OK;
    T_(pend) pd = {0};
    int stream = T_(stream_outputs)(p);
    for (size_t r = 0; st == UG_OK && r < p->rows; r++) {
        double m, S, *er = e + (r & 1) * stride;
        const ET *pf = r + 1 < p->rows ? ROW_X(p, r + 1) : NULL;
        if (T_(row_analyse)(ROW_X(p, r), p->n, er, &m, &S, 1, pf, &pd)) {
            pd = (T_(pend)){.kind = 1, .e = er, .a = 1.0 / S, .y = ROW_Y(p, r, p->n)};
            T_(pend_set)(&pd, p->n, stream);
        } else {
            st = ug__simd_fallback_row(SCALAR(softmax, twopass), UG_OP_SOFTMAX, DT, p, r, NULL);
        }
    }
    T_(pend_flush)(&pd);
    if (stream)
        _mm_sfence(); /* the streamed stores ordered before the caller's */
    return st;
}

/* log1p(sp) of one row (lane 0 of vlog1p). */
static inline double T_(log1p_one)(double sp)
{
    double L[VL];
    vd_storeu(L, vlog1p(vd_set1(sp)));
    return L[0];
}

/* log_softmax of rows longer than UG__SIMD_GROUP_MAX_N, as softmax_long, pass 2 keeping
 * d = x - m for the outputs d - L (two rows of scratch); the sign of a zero at the max
 * (L = 0) is set once the row's outputs are written. */
static ug_status T_(log_softmax_long)(const ug_problem *p)
{
    size_t stride = p->n + VL;
    double *dbuf = ug__simd_scratch(2 * stride);
    if (dbuf == NULL)
        return UG_ERR_NOMEM;
    ug_status st = UG_OK;
    T_(pend) pd = {0};
    int stream = T_(stream_outputs)(p);
    size_t fix = p->rows; /* a row whose zero at the max needs its sign, or rows */
    double fix_m = 0;
    for (size_t r = 0; st == UG_OK && r < p->rows; r++) {
        double m, sp;
        const ET *pf = r + 1 < p->rows ? ROW_X(p, r + 1) : NULL;
        double *dr = dbuf + (r & 1) * stride;
        int ok = T_(row_analyse)(ROW_X(p, r), p->n, dr, &m, &sp, UG__SUM_KEEP_D, pf, &pd);
        if (fix < p->rows)
            ug__simd_signed_zero_at_max(DT, ROW_X(p, fix), ROW_Y(p, fix, p->n), p->n, fix_m);
        fix = p->rows;
        if (ok) {
            double L = T_(log1p_one)(sp);
            pd = (T_(pend)){.kind = 3, .e = dr, .b = L, .y = ROW_Y(p, r, p->n)};
            T_(pend_set)(&pd, p->n, stream);
            if (L == 0)
                fix = r, fix_m = m;
        } else {
            st = ug__simd_fallback_row(SCALAR(log_softmax, twopass), UG_OP_LOG_SOFTMAX, DT, p, r, NULL);
        }
    }
    T_(pend_flush)(&pd);
    if (fix < p->rows)
        ug__simd_signed_zero_at_max(DT, ROW_X(p, fix), ROW_Y(p, fix, p->n), p->n, fix_m);
    if (stream)
        _mm_sfence(); /* the streamed stores ordered before the caller's */
    free(dbuf);
    return st;
}

/* The outputs of an analysed group gr of log_softmax's short rows; nv: 0, or the number of
 * vectors of tiny rows whose d = x - m the group keeps (UG__TINY_KEEP_D), a constant at
 * each call: a whole group of such rows, none special and none with L = 0, is written
 * without a test per row (the same stores). */
UG__SIMD_INLINE ug_status T_(log_softmax_finish)(const ug_problem *p, const T_(group) *gr, size_t nv)
{
    ug_status st = UG_OK;
    double Lg[UG__SIMD_GROUP];
    const double *L = gr->L; /* nv != 0: group_pipe's group_log1p */
    if (nv == 0)
        T_(group_log1p)(gr, Lg), L = Lg;
    if (nv != 0 && gr->g == UG__SIMD_GROUP && gr->okm == (1u << UG__SIMD_GROUP) - 1) {
        unsigned nz = 0;
        for (size_t k = 0; k < UG__SIMD_GROUP; k += VL)
            nz |= vd_ne0_bits(vd_loadu(L + k)) << k;
        if (nz == (1u << UG__SIMD_GROUP) - 1) {
            ET *y0 = ROW_Y(p, gr->r0, nv * VL); /* session 9: not reloaded after each store */
            UG__PRAGMA(GCC unroll 8)
            for (size_t k = 0; k < UG__SIMD_GROUP; k++)
                T_(tiny_dshift_store)(gr->xv[k], nv, L[k], y0 + k * nv * VL);
            return st;
        }
    }
    for (size_t k = 0; st == UG_OK && k < gr->g; k++) {
        size_t r = gr->r0 + k;
        if (!gr->ok[k]) {
            st = ug__simd_fallback_row(SCALAR(log_softmax, twopass), UG_OP_LOG_SOFTMAX, DT, p, r, NULL);
            continue;
        }
        if (T_(is_tiny)(p))
            if (UG__TINY_KEEP_D)
                T_(tiny_dshift_store)(gr->xv[k], p->n / VL, L[k], ROW_Y(p, r, p->n));
            else
                T_(tiny_shift_store)(gr->xv[k], p->n / VL, gr->m[k], L[k], ROW_Y(p, r, p->n));
        else
            T_(shift_store)(ROW_X(p, r), p->n, gr->m[k], L[k], ROW_Y(p, r, p->n));
        if (L[k] == 0)
            ug__simd_signed_zero_at_max(DT, ROW_X(p, r), ROW_Y(p, r, p->n), p->n, gr->m[k]);
    }
    return st;
}

/* The outputs of an analysed group gr for logsumexp (m + L) and xent ((m - x_t) + L; loss
 * NULL: reduction none, the losses rounded to y, else their binary64 values to loss[]),
 * lane-wise for the whole group; the special rows then take the scalar kernel, whose
 * outputs replace theirs. */
UG__SIMD_INLINE ug_status T_(loss_finish)(const ug_problem *p, const T_(group) *gr, ug_op op, double *loss)
{
    ug_status st = UG_OK;
    size_t g0 = gr->r0;
    double xt[UG__SIMD_GROUP] = {0}, v[UG__SIMD_GROUP];
    if (op == UG_OP_XENT)
        for (size_t k = 0; k < gr->g; k++)
            xt[k] = et_widen(ROW_X(p, g0 + k)[p->target[g0 + k]]);
    for (size_t k = 0; k < UG__SIMD_GROUP; k += VL) {
        vd m = vd_loadu(gr->m + k), L = vlog1p(vd_loadu(gr->sp + k));
        vd_storeu(v + k, op == UG_OP_XENT ? vd_add(vd_sub(m, vd_load_scalars(xt + k)), L) : vd_add(m, L));
    }
    if (loss == NULL)
        T_(store_group)((ET *)p->y + g0, v, gr->g);
    else
        memcpy(loss + g0, v, gr->g * sizeof *v);
    ug_kernel_fn scalar = op == UG_OP_XENT ? SCALAR(xent, fused) : SCALAR(logsumexp, twopass);
    for (size_t k = 0; st == UG_OK && k < gr->g; k++)
        if (!gr->ok[k]) /* loss NULL: the row's output goes straight to y */
            st = ug__simd_fallback_row(scalar, op, DT, p, g0 + k, loss == NULL ? NULL : &loss[g0 + k]);
    return st;
}

/* group_pipe: the short rows of log_softmax, logsumexp and xent (op), group by group, each
 * group finished (log1p, outputs) after the next one is analysed, so that its latency chain
 * (sum, log1p, stores) overlaps the next group's exps; loss: as loss_finish.  nv: as
 * log_softmax_finish; then (session 7) one stage more: a group's log1p is taken after the
 * next group's sums, its outputs after those of the group after that (four groups in
 * flight), so that neither the chain of its sums nor that of its log1p (a division and
 * some 30 dependent operations) holds up the work behind it (measured slower for the losses
 * and on AVX-512, which keep the three stages).  Only the order of independent work changes. */
UG__SIMD_INLINE ug_status T_(group_pipe_nv)(const ug_problem *p, ug_op op, double *loss, size_t nv)
{
    ug_status st = UG_OK;
    T_(group) grs[4], *prev = NULL, *prev2 = NULL; /* prev2: the group before prev (nv != 0) */
    int tiny = op == UG_OP_LOG_SOFTMAX && UG__TINY_KEEP_D ? UG__SUM_KEEP_D : 1; /* log_softmax: tiny rows keep d */
    for (size_t r0 = 0; st == UG_OK && (r0 < p->rows || prev != NULL || prev2 != NULL);) {
        T_(group) *cur = r0 < p->rows ? T_(group_analyse)(p, r0, NULL, 0, grs, nv != 0 ? 4 : 3, 0, tiny) : NULL;
        r0 += cur != NULL ? cur->g : 0;
        if (nv != 0) {
            if (prev != NULL) /* its sums are done: its L now, used a stage later */
                T_(group_log1p)(prev, prev->L);
            if (prev2 != NULL)
                st = T_(log_softmax_finish)(p, prev2, nv);
            prev2 = prev;
        } else if (prev != NULL) {
            st = op == UG_OP_LOG_SOFTMAX ? T_(log_softmax_finish)(p, prev, nv) : T_(loss_finish)(p, prev, op, loss);
        }
        prev = cur;
    }
    return st;
}

UG__SIMD_INLINE ug_status T_(group_pipe)(const ug_problem *p, ug_op op, double *loss)
{
    if (op == UG_OP_LOG_SOFTMAX && UG__TINY_KEEP_D && T_(is_tiny)(p))
        switch (p->n / VL) { /* a constant nv per copy: the tiny rows' stores unrolled */
        case 1:
            return T_(group_pipe_nv)(p, op, loss, 1);
        case 2:
            return T_(group_pipe_nv)(p, op, loss, 2);
        case 3:
            return T_(group_pipe_nv)(p, op, loss, 3);
        default:
            return T_(group_pipe_nv)(p, op, loss, 4);
        }
    return T_(group_pipe_nv)(p, op, loss, 0);
}

/* log_softmax.twopass.TAG.ISA: contract
 *   computes  (x_i - m) - L, L = vlog1p(sp) (simd_vlog.h), in binary64 (two roundings and
 *             L's error), one rounding on store.  x_i - m <= 0 <= L: nothing
 *             cancels.
 *   bound     relative error <= 2^-42.3 (SIMD-ERROR-ANALYSIS.md §4): claimed 1 ULP.
 *   special   NaN, +inf, all -inf rows: log_softmax.twopass.TAG; -inf entries give -inf.
 *             When L is 0 (one finite entry, or the others below e^-708.4 of it) the max's
 *             output is -0 if another entry is finite (the exact value is negative), +0
 *             otherwise.  Overflows to -inf only where x_i - m does.  */
static ug_status T_(log_softmax_twopass)(const ug_problem *p)
{
    ug_status st = ug__validate(p, UG_OP_LOG_SOFTMAX, DT);
#ifdef UG__BF16_LANES
    if (st == UG_OK && p->n > UG__SIMD_GROUP_MAX_N)
        return UG__CAT(ps_log_softmax_long_, TAG)(p); /* simd_bf16_tmpl.h */
#endif
    if (st == UG_OK && p->n > UG__SIMD_GROUP_MAX_N)
        return T_(log_softmax_long)(p);
    return st == UG_OK ? T_(group_pipe)(p, UG_OP_LOG_SOFTMAX, NULL) : st;
}

/* logsumexp.twopass.TAG.ISA: contract
 *   computes  m + L, L = log1p(sp) as for log_softmax, in binary64, one rounding on store.
 *   bound     absolute error <= 2^-42.3 L + 2^-53 |lse|, and L <= (1 + kappa) |lse|
 *             (ERROR-ANALYSIS.md §3): 0.5 + 2^-18.3 (1 + kappa) ULP (f32), 0.5 + 2^-34.3
 *             (1 + kappa) (bf16): claimed 1 + 2^-18 kappa (f32), 1 + 2^-34 kappa (bf16)
 *             (SIMD-ERROR-ANALYSIS.md §4).
 *   special   NaN -> NaN, +inf -> +inf, all -inf -> -inf (logsumexp.twopass.TAG); -inf
 *             entries are masks.  n = 1: x_0 (+0 for -0, as the scalar kernel).  Never
 *             overflows in f32 or bf16 (m + log n stays below the largest finite). */
static ug_status T_(logsumexp_twopass)(const ug_problem *p)
{
    ug_status st = ug__validate(p, UG_OP_LOGSUMEXP, DT);
    return st == UG_OK ? T_(group_pipe)(p, UG_OP_LOGSUMEXP, NULL) : st;
}

/* xent.fused.TAG.ISA: contract
 *   computes  per row (m - x_t) + L, L = log1p(sp) as for log_softmax, in binary64: two
 *             non-negative parts, no cancellation (a loss near 1e-30 keeps its digits);
 *             reduction none, sum or mean of those binary64 losses by ug__reduce_store
 *             (Neumaier, one rounding).
 *   bound     per row relative error <= 2^-42.3 (SIMD-ERROR-ANALYSIS.md §4); the reduction
 *             adds <= 3 2^-53: claimed 1 ULP.
 *   special   NaN or all -inf -> NaN; masked target -> +inf; +inf entries: +0 / NaN / +inf
 *             as xent.fused.TAG (its rows fall back to it).  n = 1: +0.  Overflows to +inf
 *             only where m - x_t does (e.g. 0x1.fffffep127 - (-0x1.fffffep127) in f32). */
static ug_status T_(xent_fused)(const ug_problem *p)
{
    ug_status st = ug__validate(p, UG_OP_XENT, DT);
    int none = st == UG_OK && p->reduction == UG_RED_NONE; /* losses stored group by group */
    double *loss = st == UG_OK && !none ? ug__simd_scratch(p->rows) : NULL;
    if (loss == NULL && !none)
        return st != UG_OK ? st : UG_ERR_NOMEM;
    if (st == UG_OK)
        st = T_(group_pipe)(p, UG_OP_XENT, loss);
    if (st == UG_OK && !none)
        ug__reduce_store(p, UG_OP_XENT, DT, loss, p->rows);
    free(loss);
    return st;
}

/* The gradient at the target, g_t = -q/(1 + sp) with q = sum_{j != t} e_j: q = sp when x_t
 * is the max (any occurrence of it may be the one kept out of sp), else q = 1 + (sp - e_t)
 * >= 1, which never cancels.  A zero q is +0 only when no other entry is finite (as
 * xent_grad.fused.TAG: an underflowed q stands for a negative gradient). */
static double T_(grad_at_target)(const ET *x, size_t n, size_t t, double m, double sp, const double *e, double s)
{
    double xt = et_widen(x[t]);
    double q = xt == m ? sp : 1.0 + (sp - e[t]);
    if (q != 0)
        return -(q * s);
    for (size_t j = 0; j < n; j++)
        if (j != t && et_widen(x[j]) != -INFINITY)
            return -0.0;
    return 0.0;
}

/* xent_grad.fused.TAG.ISA: contract
 *   computes  sparse labels: softmax_i = e_i * fl(1/fl(1 + sp)) for i != t (as softmax above),
 *             and at i = t the complement -q/(1 + sp), q = sum_{j != t} e_j (above), never
 *             softmax_t - 1; binary64, one rounding on store.  Dense labels (target NULL):
 *             xent_grad.fused.TAG, the scalar kernel, whole.
 *   bound     sparse: i != t as softmax, 2^-41.72; at t, q has relative error <= 2 eps(sp)
 *             + theta_t + 2u <= 2^-41.0 (sp <= 2q and e_t <= q when q >= 1), then the
 *             division: <= 2^-40.5, 0.5 + 2^-16.5 ULP (f32), 0.5 + 2^-32.5 (bf16)
 *             (SIMD-ERROR-ANALYSIS.md §4).  dense: the scalar
 *             kernel's, 1 + 2^-26 kappa (f32), 1 + 2^-42 kappa (bf16): the claims of the rows.
 *   special   rows with NaN, +inf or only -inf: xent_grad.fused.TAG; masked entries give +0,
 *             a masked target -1; zeros are +0 except an underflowed gradient at t (-0). */
static ug_status T_(xent_grad_fused)(const ug_problem *p)
{
    if (p != NULL && p->target == NULL && p->aux != NULL)
        return SCALAR(xent_grad, fused)(p);
    ug_status st = ug__validate(p, UG_OP_XENT_GRAD, DT);
    size_t stride = st == UG_OK ? p->n + VL : 0;
    double *e = st == UG_OK ? ug__simd_scratch(stride * UG__SIMD_GROUP) : NULL;
    if (e == NULL)
        return st != UG_OK ? st : UG_ERR_NOMEM;
    T_(group) grs[3], *gp = grs;
    for (size_t r0 = 0; st == UG_OK && r0 < p->rows; r0 += gp->g) {
        gp = T_(group_analyse)(p, r0, e, stride, grs, 3, 0, 0);
        const T_(group) *gr = gp;
        for (size_t k = 0; st == UG_OK && k < gr->g; k++) {
            size_t r = r0 + k, t = (size_t)p->target[r];
            if (!gr->ok[k]) {
                st = ug__simd_fallback_row(SCALAR(xent_grad, fused), UG_OP_XENT_GRAD, DT, p, r, NULL);
                continue;
            }
            double s = 1.0 / (1.0 + gr->sp[k]);
            T_(scale_store)(e + k * stride, p->n, s, ROW_Y(p, r, p->n));
            double gt = T_(grad_at_target)(ROW_X(p, r), p->n, t, gr->m[k], gr->sp[k], e + k * stride, s);
            ug_store(DT, ROW_Y(p, r, p->n), t, gt);
        }
    }
    free(e);
    return st;
}

/* ------------------------------------------------------------------ bce_logits */

/* The losses of the VL elements x, y (binary64 lanes): A + log1p(exp(-|x|)), A = x (1 - y)
 * = fma(-x, y, x) for x > 0, (-x) y for x <= 0; lanes with x = +-inf get the special
 * values of bce_logits.stable.TAG (+0 when the infinite term's coefficient is 0, else +inf). */
UG__SIMD_INLINE vd T_(bce_vec)(vd x, vd y)
{
    vd nx = vd_neg(x);
    vd e = vexp(vd_select_pos(x, nx, x)); /* exp(-|x|), -|x| exact */
    vd a = vd_select_pos(x, vd_fma(nx, y, x), vd_mul(nx, y));
    vd v = vd_add(a, vlog1p(e));
    if (vd_any_inf(x)) {
        double xs[VL], ys[VL], vs[VL];
        vd_storeu(xs, x), vd_storeu(ys, y), vd_storeu(vs, v);
        for (size_t j = 0; j < VL; j++)
            if (isinf(xs[j]))
                vs[j] = (xs[j] > 0 ? ys[j] == 1 : ys[j] == 0) ? 0.0 : INFINITY;
        v = vd_loadu(vs);
    }
    return v;
}

/* bce_logits.stable.TAG.ISA: contract
 *   computes  elementwise A + L, A = x (1 - y) = fma(-x, y, x) for x > 0, (-x) y for x <= 0,
 *             L = vlog1p(vexp(-|x|)) (simd_vexp.h, simd_vlog.h), both >= 0: no cancellation;
 *             binary64 lanes, one rounding on store; reduction sum or mean of the binary64
 *             losses by ug__reduce_store (Neumaier, one rounding), as the scalar kernel.
 *   bound     relative error <= 2^-44.8 per loss (SIMD-ERROR-ANALYSIS.md §6): 0.5 + 2^-20.8
 *             ULP (f32), 0.5 + 2^-36.8 (bf16); the reduction adds <= 3 2^-53: claimed 1 ULP.
 *   special   NaN x -> NaN; x = +inf: +0 when y = 1, else +inf; x = -inf: +0 when y = 0,
 *             else +inf (as bce_logits.stable.TAG).  |x| > 708.4: exp(-|x|) flushes to +0,
 *             an absolute error below 2^-1021 that no f32 or bf16 output can show.  Never
 *             overflows for finite x. */
static ug_status T_(bce_logits_stable)(const ug_problem *p)
{
    ug_status st = ug__validate(p, UG_OP_BCE_LOGITS, DT);
    if (st != UG_OK)
        return st;
    size_t count = p->rows * p->n, i = 0;
    const ET *x = p->x, *lab = p->aux;
    double *loss = NULL;
    if (p->reduction != UG_RED_NONE && (loss = ug__simd_scratch(count + VL)) == NULL)
        return UG_ERR_NOMEM;
    ET *y = p->y;
    for (; i + VL <= count; i += VL) {
        vd v = T_(bce_vec)(vd_load_et(x + i), vd_load_et(lab + i));
        if (loss != NULL)
            vd_storeu(loss + i, v);
        else
            vd_store_et(y + i, v);
    }
    if (i < count) {
        vd v = T_(bce_vec)(T_(load_part)(x + i, count - i), T_(load_part)(lab + i, count - i));
        if (loss != NULL)
            vd_storeu(loss + i, v);
        else
            T_(store_part)(y + i, v, count - i);
    }
    if (loss != NULL)
        ug__reduce_store(p, UG_OP_BCE_LOGITS, DT, loss, count);
    free(loss);
    return UG_OK;
}

#undef ROW_X
#undef ROW_Y
#undef STREAM_ALIGN
#undef vd_stream2_et
#undef T_
#undef SCALAR
#undef ET
#undef DT
#undef TAG
#undef SCALAR_TAG
#undef ET_NEGINF
#undef vd_load_et
#undef vd_store_et
#undef vd_store2_et
#undef vf_load_et
#undef et_widen
