/* The input format (decode.h): tail parameters, raw or offset-plus-delta values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "oracle.h"
#include "prng.h"

/* ---------------------------------------------------------------- the tail */

static uint8_t tail_byte(const uint8_t *data, size_t size, size_t from_end)
{
    return from_end <= size ? data[size - from_end] : 0;
}

ug_fuzz_params ug_fuzz_params_read(const uint8_t *data, size_t size)
{
    ug_fuzz_params p;
    p.dtype = tail_byte(data, size, UG_TAIL_DTYPE);
    p.kernel = tail_byte(data, size, UG_TAIL_KERNEL);
    p.mode = tail_byte(data, size, UG_TAIL_MODE);
    p.n = (uint16_t)(tail_byte(data, size, UG_TAIL_N_LO) | tail_byte(data, size, UG_TAIL_N_HI) << 8);
    p.target = tail_byte(data, size, UG_TAIL_TARGET);
    p.label = tail_byte(data, size, UG_TAIL_LABEL);
    p.scale = tail_byte(data, size, UG_TAIL_SCALE);
    return p;
}

void ug_fuzz_params_write(uint8_t *tail, const ug_fuzz_params *p)
{
    uint8_t *end = tail + UG_FUZZ_TAIL;
    end[-UG_TAIL_DTYPE] = p->dtype;
    end[-UG_TAIL_KERNEL] = p->kernel;
    end[-UG_TAIL_MODE] = p->mode;
    end[-UG_TAIL_N_LO] = (uint8_t)(p->n & 0xff);
    end[-UG_TAIL_N_HI] = (uint8_t)(p->n >> 8);
    end[-UG_TAIL_TARGET] = p->target;
    end[-UG_TAIL_LABEL] = p->label;
    end[-UG_TAIL_SCALE] = p->scale;
}

size_t ug_fuzz_body_size(size_t size) { return size > UG_FUZZ_TAIL ? size - UG_FUZZ_TAIL : 0; }

/* ---------------------------------------------------------------- kernels */

static int eligible(const ug_fuzz_target *t, const ug_kernel *k, ug_dtype dt, const ug_kernel *only)
{
    return ug_fuzz_target_has(t, k->op) && k->dtype == dt && (only == NULL || k == only);
}

size_t ug_fuzz_kernel_choices(const ug_fuzz_target *t, ug_dtype dt, const ug_kernel *only)
{
    size_t count = 0;
    for (size_t i = 0; ug_kernel_at(i) != NULL; i++)
        count += eligible(t, ug_kernel_at(i), dt, only);
    return count;
}

const ug_kernel *ug_fuzz_kernel_choice(const ug_fuzz_target *t, ug_dtype dt, const ug_kernel *only, size_t i)
{
    for (size_t r = 0; ug_kernel_at(r) != NULL; r++) {
        const ug_kernel *k = ug_kernel_at(r);
        if (eligible(t, k, dt, only) && i-- == 0)
            return k;
    }
    return NULL;
}

size_t ug_fuzz_portable(const ug_fuzz_target *t, const ug_fuzz_config *cfg, const uint8_t *data, size_t size,
                        uint8_t *out)
{
    size_t len = size > UG_FUZZ_TAIL ? size : UG_FUZZ_TAIL;
    memset(out, 0, len);
    memcpy(out + (len - size), data, size);
    if (cfg->only == NULL)
        return len;
    ug_dtype dt = cfg->only->dtype;
    size_t choices = ug_fuzz_kernel_choices(t, dt, NULL);
    for (size_t i = 0; i < choices; i++)
        if (ug_fuzz_kernel_choice(t, dt, NULL, i) == cfg->only)
            out[len - UG_TAIL_KERNEL] = (uint8_t)i;
    out[len - UG_TAIL_DTYPE] = (uint8_t)dt;
    return len;
}

/* ---------------------------------------------------------------- values */

size_t ug_fuzz_width(ug_dtype dt) { return ug_dtype_size(dt); }

uint64_t ug_fuzz_load_bits(const uint8_t *p, size_t w)
{
    uint64_t bits = 0;
    for (size_t i = 0; i < w; i++)
        bits |= (uint64_t)p[i] << (8 * i);
    return bits;
}

void ug_fuzz_store_bits(uint8_t *p, size_t w, uint64_t bits)
{
    for (size_t i = 0; i < w; i++)
        p[i] = (uint8_t)(bits >> (8 * i));
}

double ug_fuzz_from_bits(ug_dtype dt, uint64_t bits)
{
    if (dt == UG_F64) {
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    if (dt == UG_BF16)
        return ug_bf16_to_f32((ug_bf16){(uint16_t)bits});
    uint32_t b32 = (uint32_t)bits;
    float f;
    memcpy(&f, &b32, sizeof f);
    return f;
}

uint64_t ug_fuzz_to_bits(ug_dtype dt, double v)
{
    if (dt == UG_F64) {
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        return bits;
    }
    if (dt == UG_BF16)
        return ug_bf16_from_f64(v).bits;
    float f = (float)v;
    uint32_t b32;
    memcpy(&b32, &f, sizeof b32);
    return b32;
}

double ug_fuzz_ulp(ug_dtype dt, double v)
{
    int p = ug_dtype_precision(dt), emin = ug_dtype_emin(dt);
    if (!isfinite(v))
        v = ug_dtype_max(dt);
    if (v == 0)
        return ldexp(1, emin - p + 1);
    int e = ilogb(v);
    return ldexp(1, (e > emin ? e : emin) - p + 1);
}

double ug_fuzz_step(ug_dtype dt, double c, uint8_t s)
{
    if (s < UG_SCALE_ABSOLUTE)
        return ldexp(ug_fuzz_ulp(dt, c), s);
    return ldexp(1, (int)s - UG_SCALE_ABS_BIAS);
}

/* Labels worth a byte of their own: the ends, the middle, values whose complement
 * rounds (1 - 2^-k), and small ones where y log(1 + e^-x) is a tiny term. */
static const double label_table[16] = {
    0, 1, 0.5, 0.25, 0.75, 0.1, 0.9, 1e-3, 1 - 1e-3, 0x1p-10, 1 - 0x1p-10, 0x1p-24, 1 - 0x1p-24, 1e-7, 0.3, 0.7};

double ug_fuzz_label(ug_dtype dt, uint8_t label)
{
    double y = label < 16 ? label_table[label] : (double)(label - 16) / 239.0;
    return ug_dtype_round(dt, y);
}

/* Label-smoothing epsilons (probability scheme 1). */
static const double smoothing_table[8] = {0.1, 0.01, 0x1p-10, 0x1p-20, 0.5, 1e-7, 0.3, 0x1p-4};

static void weights(uint8_t label, size_t n, size_t t, size_t r, double *p)
{
    ug_prng g;
    const uint64_t words[3] = {label, r, n};
    ug_prng_seed_words(&g, words, 3);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        p[i] = ug_prng_below(&g, 4) == 0 ? 0 : ug_prng_uniform(&g);
        sum += p[i];
    }
    for (size_t i = 0; i < n; i++)
        p[i] = sum > 0 ? p[i] / sum : (double)(i == t);
}

void ug_fuzz_probabilities(ug_dtype dt, uint8_t label, size_t n, size_t t, size_t r, double *p)
{
    double eps = smoothing_table[(label >> 2) & 7];
    switch (label & 3) {
    case 0:
        for (size_t i = 0; i < n; i++)
            p[i] = i == t;
        break;
    case 1:
        for (size_t i = 0; i < n; i++)
            p[i] = (i == t ? 1 - eps : 0) + eps / (double)n;
        break;
    case 2:
        for (size_t i = 0; i < n; i++)
            p[i] = 1 / (double)n;
        break;
    default: weights(label, n, t, r, p); break;
    }
    /* each rounding moves p_i by at most u p_i, so the sum by at most u <= n u: the
     * tolerance of ug_prob_sum_tolerance */
    for (size_t i = 0; i < n; i++)
        p[i] = ug_dtype_round(dt, p[i]);
}

/* ---------------------------------------------------------------- the body */

/* Store a raw bit pattern as element i of b->x: exact, NaN payloads kept. */
static void put_bits(ug_batch *b, size_t i, uint64_t bits)
{
    if (b->dtype == UG_F64) {
        memcpy((double *)b->x + i, &bits, sizeof bits);
    } else if (b->dtype == UG_F32) {
        uint32_t b32 = (uint32_t)bits;
        memcpy((float *)b->x + i, &b32, sizeof b32);
    } else {
        ((ug_bf16 *)b->x)[i].bits = (uint16_t)bits;
    }
}

static void fill_raw(ug_batch *b, const uint8_t *body, size_t len)
{
    size_t w = ug_fuzz_width(b->dtype), m = len / w, count = b->rows * b->n;
    for (size_t i = 0; i < count; i++)
        put_bits(b, i, m > 0 ? ug_fuzz_load_bits(body + (i % m) * w, w) : 0);
}

static void fill_delta(ug_batch *b, const uint8_t *body, size_t len, uint8_t scale)
{
    size_t w = ug_fuzz_width(b->dtype), count = b->rows * b->n;
    double c = len >= w ? ug_fuzz_from_bits(b->dtype, ug_fuzz_load_bits(body, w)) : 0.0;
    const uint8_t *d = len > w ? body + w : NULL;
    size_t m = len > w ? len - w : 0;
    double step = ug_fuzz_step(b->dtype, c, scale);
    for (size_t i = 0; i < count; i++) {
        uint8_t di = m > 0 ? d[i % m] : 0;
        double v = di == UG_DELTA_MASK ? -INFINITY : c + (double)(int8_t)di * step;
        ug_batch_put(b->dtype, b->x, i, v);
    }
}

static size_t decode_n(const ug_fuzz_config *cfg, uint16_t n16)
{
    if (cfg->fixed_n > 0)
        return cfg->fixed_n;
    return 1 + (size_t)n16 % cfg->max_n;
}

static void fill_aux(ug_fuzz_case *c, const ug_fuzz_params *p)
{
    ug_batch *b = c->b;
    if (c->labelled)
        for (size_t i = 0; i < b->rows * b->n; i++)
            ug_batch_put(b->dtype, b->aux, i, c->label);
    if (!c->dense)
        return;
    double *row = malloc(b->n * sizeof *row);
    if (row == NULL)
        abort();
    for (size_t r = 0; r < b->rows; r++) {
        ug_fuzz_probabilities(b->dtype, p->label, b->n, (size_t)c->target, r, row);
        for (size_t i = 0; i < b->n; i++)
            ug_batch_put(b->dtype, b->aux, r * b->n + i, row[i]);
    }
    free(row);
}

static ug_reduction decode_reduction(ug_op op, uint8_t mode)
{
    unsigned red = (mode >> UG_MODE_RED_SHIFT) & 3;
    if (!ug_op_has_reduction(op) || red == 0 || red == 3)
        return UG_RED_NONE;
    return red == 1 ? UG_RED_SUM : UG_RED_MEAN;
}

int ug_fuzz_decode(const ug_fuzz_target *t, const ug_fuzz_config *cfg, const uint8_t *data, size_t size,
                   ug_fuzz_case *c)
{
    ug_fuzz_params p = ug_fuzz_params_read(data, size);
    ug_dtype dt = cfg->only != NULL ? cfg->only->dtype : (ug_dtype)(p.dtype % UG_DTYPE_COUNT);
    size_t choices = ug_fuzz_kernel_choices(t, dt, cfg->only);
    memset(c, 0, sizeof *c);
    if (choices == 0)
        return -1;
    c->k = ug_fuzz_kernel_choice(t, dt, cfg->only, p.kernel % choices);
    ug_op op = c->k->op;
    size_t n = decode_n(cfg, p.n), rows = 1 + ((p.mode >> UG_MODE_ROWS_SHIFT) & 3);
    c->sparse = op == UG_OP_XENT || (op == UG_OP_XENT_GRAD && !(p.mode & UG_MODE_DENSE));
    c->dense = op == UG_OP_XENT_DENSE || (op == UG_OP_XENT_GRAD && !c->sparse);
    c->labelled = op == UG_OP_BCE_LOGITS;
    c->red = decode_reduction(op, p.mode);
    c->target = (int64_t)(p.target % n);
    c->label = ug_fuzz_label(dt, p.label);
    c->b = ug_batch_new(op, dt, rows, n, c->sparse, c->dense || c->labelled);
    if (c->b == NULL)
        abort();
    for (size_t r = 0; c->sparse && r < rows; r++)
        c->b->target[r] = c->target;
    size_t len = ug_fuzz_body_size(size);
    if (p.mode & UG_MODE_DELTA)
        fill_delta(c->b, data, len, p.scale);
    else
        fill_raw(c->b, data, len);
    fill_aux(c, &p);
    return 0;
}

void ug_fuzz_case_free(ug_fuzz_case *c)
{
    ug_batch_free(c->b);
    memset(c, 0, sizeof *c);
}
