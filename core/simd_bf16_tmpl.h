/* bf16 softmax and log_softmax of long rows (n > UG__SIMD_GROUP_MAX_N) in binary32 lanes
 * (VF per vector: 16 AVX-512, 8 AVX2), twice the lanes of the binary64 path and no VPERMW
 * per exp.  Included by core/simd_tmpl.h in its bf16 instantiations (the ISA file defines
 * UG__BF16_LANES), after the passes it shares (row_vmax, row_find, prefetch) and before the
 * kernels, whose long-row branch calls ps_softmax_long / ps_log_softmax_long.  Error
 * analysis: doc/SIMD-ERROR-ANALYSIS.md §8.
 *
 * Parameters, besides simd_tmpl.h's (ET = ug_bf16, DT, TAG, vf_load_et, et_widen):
 *   vf_store_et   VF binary32 lanes rounded once (RNE) to bf16
 *   vf_store2_et  2 VF lanes, as two vf_store_et
 * and the binary32-lane primitives of the ISA file (vf_zero, vf_add, vf_sub, vf_mul, vf_fma,
 * vf_scale2k, vf_clear_lane, vf_loadu, vf_storeu, vf_widen_acc) and vexpf (simd_vexp_ps.h).
 *
 * The algorithm, per row (every row alone: the outputs do not depend on the batch):
 *   pass 1  m = max_j x_j in binary32 lanes (row_vmax: exact).  m = +-inf or NaN: special,
 *           the scalar kernel (ug__simd_fallback_row).
 *   pass 2  d_j = fl32(x_j - m) <= 0, E_j = vexpf(d_j) = exp(d_j) 2^64 (binary32, relative
 *           error <= 2^-22.2 where normal); softmax keeps E_j (a binary32 scratch row) and
 *           sums every one; log_softmax sums every one but the max's first occurrence jm
 *           (row_find), whose E is exactly 2^64: sp = 2^-64 sum_{j != jm} E_j, the max term
 *           kept out (log1p), ties of the max adding exactly 1.  The sum: blocks of
 *           UG__SIMD_BLOCK entries into four binary32 accumulators of VF lanes (at most
 *           UG__SIMD_BLOCK/(4 VF) + 2 additions per term), each block's lanes widened and
 *           added in binary64 (vf_widen_acc), the row's total by vd_hsum.  A NaN entry makes
 *           the sum NaN: special.
 *   op      softmax y_i = RN_bf16(fl32(E_i fl32(2^64/S'))) with S' = sum_j E_j (binary64,
 *           rounded once to binary32 after the division: 2^64/S' = 1/S, normal);
 *           log_softmax y_i = RN_bf16(fl32(fl32(x_i - m) - fl32(L))), L = vlog1p(sp) in
 *           binary64 (simd_vlog.h).  Rows of L = 0: the max's zero gets its sign as in the
 *           binary64 path (ug__simd_signed_zero_at_max).
 * Not the binary64 path's bits: the outputs may differ by one bf16 ULP near midpoints, both
 * within the rows' claim (SIMD-ERROR-ANALYSIS.md §8).
 */

#define P_(name) UG__CAT(ps_##name##_, TAG)

/* The k < VF elements x[0..k) in a binary32 vector, padded with -inf (E = +0). */
UG__SIMD_INLINE vf P_(load_part)(const ET *x, size_t k)
{
    ET buf[VF];
    for (size_t j = 0; j < VF; j++)
        buf[j] = j < k ? x[j] : ET_NEGINF;
    return vf_load_et(buf);
}

UG__SIMD_INLINE void P_(store_part)(ET *y, vf v, size_t k)
{
    ET buf[VF];
    vf_store_et(buf, v);
    memcpy(y, buf, k * sizeof *y);
}

/* E of one vector (d = x - m); lane jm - i cleared when jm is in [i, i + VF). */
UG__SIMD_INLINE vf P_(e1)(vf xv, vf vm, size_t i, size_t jm)
{
    vf e = vexpf(vf_sub(xv, vm));
    return jm - i < (size_t)VF ? vf_clear_lane(e, (unsigned)(jm - i)) : e;
}

/* Pass 2 of one row: 2^-64 times sum_{j != jm} E_j in binary64 (jm = SIZE_MAX: every j);
 * e (room for n + VF floats, or NULL) receives every E_j (the one at jm included); pf: the
 * next row or NULL, prefetched on the way (pass 1 of the next row reads from cache). */
UG__SIMD_INLINE double P_(row_sum)(const ET *x, size_t n, float m, float *e, size_t jm, const ET *pf)
{
    vf vm = vf_set1(m);
    vd t0 = vd_zero(), t1 = vd_zero();
    for (size_t b = 0; b < n; b += UG__SIMD_BLOCK) {
        size_t end = n - b < UG__SIMD_BLOCK ? n : b + UG__SIMD_BLOCK, i = b;
        vf a0 = vf_zero(), a1 = a0, a2 = a0, a3 = a0;
        for (; i + 4 * VF <= end; i += 4 * VF) {
            if (pf != NULL)
                T_(prefetch)(pf + i), T_(prefetch)(pf + i + 4 * VL); /* 4 VF = 8 VL elements */
            vf e0 = vexpf(vf_sub(vf_load_et(x + i), vm));
            vf e1 = vexpf(vf_sub(vf_load_et(x + i + VF), vm));
            vf e2 = vexpf(vf_sub(vf_load_et(x + i + 2 * VF), vm));
            vf e3 = vexpf(vf_sub(vf_load_et(x + i + 3 * VF), vm));
            if (e != NULL) {
                vf_storeu(e + i, e0), vf_storeu(e + i + VF, e1);
                vf_storeu(e + i + 2 * VF, e2), vf_storeu(e + i + 3 * VF, e3);
            }
            if (jm - i < (size_t)(4 * VF)) { /* the group holding the max's first index */
                size_t q = (jm - i) / VF;
                unsigned l = (unsigned)((jm - i) % VF);
                e0 = q == 0 ? vf_clear_lane(e0, l) : e0;
                e1 = q == 1 ? vf_clear_lane(e1, l) : e1;
                e2 = q == 2 ? vf_clear_lane(e2, l) : e2;
                e3 = q == 3 ? vf_clear_lane(e3, l) : e3;
            }
            a0 = vf_add(a0, e0), a1 = vf_add(a1, e1), a2 = vf_add(a2, e2), a3 = vf_add(a3, e3);
        }
        for (; i + VF <= end; i += VF) {
            vf e0 = vexpf(vf_sub(vf_load_et(x + i), vm));
            if (e != NULL)
                vf_storeu(e + i, e0);
            a0 = vf_add(a0, jm - i < (size_t)VF ? vf_clear_lane(e0, (unsigned)(jm - i)) : e0);
        }
        if (i < end) {
            vf e0 = vexpf(vf_sub(P_(load_part)(x + i, end - i), vm));
            if (e != NULL)
                vf_storeu(e + i, e0);
            a1 = vf_add(a1, jm - i < (size_t)VF ? vf_clear_lane(e0, (unsigned)(jm - i)) : e0);
        }
        vf_widen_acc(&t0, &t1, vf_add(vf_add(a0, a1), vf_add(a2, a3)));
    }
    return vd_hsum(vd_add(t0, t1)) * 0x1p-64; /* exact: a power of two, no underflow */
}

/* y = fl32(E s) rounded to bf16, n outputs. */
UG__SIMD_INLINE void P_(scale_store)(const float *e, size_t n, float s, ET *y)
{
    vf vs = vf_set1(s);
    size_t i = 0;
    for (; i + 2 * VF <= n; i += 2 * VF)
        vf_store2_et(y + i, vf_mul(vf_loadu(e + i), vs), vf_mul(vf_loadu(e + i + VF), vs));
    for (; i + VF <= n; i += VF)
        vf_store_et(y + i, vf_mul(vf_loadu(e + i), vs));
    if (i < n)
        P_(store_part)(y + i, vf_mul(vf_loadu(e + i), vs), n - i);
}

/* y = fl32(fl32(x - m) - L) rounded to bf16, n outputs. */
UG__SIMD_INLINE void P_(shift_store)(const ET *x, size_t n, float m, float L, ET *y)
{
    vf vm = vf_set1(m), vl = vf_set1(L);
    size_t i = 0;
    for (; i + 2 * VF <= n; i += 2 * VF)
        vf_store2_et(y + i, vf_sub(vf_sub(vf_load_et(x + i), vm), vl), vf_sub(vf_sub(vf_load_et(x + i + VF), vm), vl));
    for (; i + VF <= n; i += VF)
        vf_store_et(y + i, vf_sub(vf_sub(vf_load_et(x + i), vm), vl));
    if (i < n)
        P_(store_part)(y + i, vf_sub(vf_sub(P_(load_part)(x + i, n - i), vm), vl), n - i);
}

/* softmax of rows longer than UG__SIMD_GROUP_MAX_N in binary32 lanes (see the top). */
static ug_status P_(softmax_long)(const ug_problem *p)
{
    size_t stride = p->n + VF;
    float *e = (float *)ug__simd_scratch((stride + 1) / 2);
    if (e == NULL)
        return UG_ERR_NOMEM;
    ug_status st = UG_OK;
    for (size_t r = 0; st == UG_OK && r < p->rows; r++) {
        const ET *x = ROW_X(p, r), *pf = r + 1 < p->rows ? ROW_X(p, r + 1) : NULL;
        double m = T_(row_max)(x, p->n), S = NAN;
        if (isfinite(m))
            S = P_(row_sum)(x, p->n, (float)m, e, SIZE_MAX, pf);
        if (isnan(S)) {
            st = ug__simd_fallback_row(SCALAR(softmax, twopass), UG_OP_SOFTMAX, DT, p, r, NULL);
            continue;
        }
        P_(scale_store)(e, p->n, (float)(0x1p-64 / S), ROW_Y(p, r, p->n));
    }
    free(e);
    return st;
}

/* log_softmax of rows longer than UG__SIMD_GROUP_MAX_N in binary32 lanes (see the top). */
static ug_status P_(log_softmax_long)(const ug_problem *p)
{
    ug_status st = UG_OK;
    for (size_t r = 0; st == UG_OK && r < p->rows; r++) {
        const ET *x = ROW_X(p, r), *pf = r + 1 < p->rows ? ROW_X(p, r + 1) : NULL;
        double m = T_(row_max)(x, p->n), sp = NAN;
        size_t jm = isfinite(m) ? T_(row_find)(x, p->n, m) : p->n;
        if (jm < p->n)
            sp = P_(row_sum)(x, p->n, (float)m, NULL, jm, pf);
        if (isnan(sp)) {
            st = ug__simd_fallback_row(SCALAR(log_softmax, twopass), UG_OP_LOG_SOFTMAX, DT, p, r, NULL);
            continue;
        }
        double Lv[VL];
        vd_storeu(Lv, vlog1p(vd_set1(sp)));
        float L = (float)Lv[0];
        P_(shift_store)(x, p->n, (float)m, L, ROW_Y(p, r, p->n));
        if (L == 0) /* sp = 0, or below 2^-150: the max's exact output -L rounds to -0 */
            ug__simd_signed_zero_at_max(DT, x, ROW_Y(p, r, p->n), p->n, m);
    }
    return st;
}

#undef P_
