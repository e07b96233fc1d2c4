/* Seed corpora from the input families, and the dtype dictionaries (seeds.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "oracle.h"
#include "seeds.h"

enum { ROWS_PER_GENERATION = 8, SEED_MAX_N = 64, SEED_ROWS = 64 };

typedef struct sink {
    const ug_fuzz_target *t;
    ug_fuzz_emit_fn emit;
    void *ctx;
    size_t count;
} sink;

/* The kernel byte that chooses the production kernel of (op, dt) (0 when there is none). */
static uint8_t production_choice(const ug_fuzz_target *t, ug_op op, ug_dtype dt)
{
    size_t count = ug_fuzz_kernel_choices(t, dt, NULL);
    for (size_t i = 0; i < count; i++) {
        const ug_kernel *k = ug_fuzz_kernel_choice(t, dt, NULL, i);
        if (k->op == op && k->role == UG_ROLE_PRODUCTION)
            return (uint8_t)i;
    }
    return 0;
}

/* Write body + tail to a fresh buffer and emit it. */
static void emit_input(sink *s, const char *name, const uint8_t *body, size_t len, const ug_fuzz_params *p)
{
    uint8_t *buf = malloc(len + UG_FUZZ_TAIL);
    if (buf == NULL)
        abort();
    if (len > 0)
        memcpy(buf, body, len);
    ug_fuzz_params_write(buf + len, p);
    s->emit(s->ctx, name, buf, len + UG_FUZZ_TAIL);
    s->count++;
    free(buf);
}

/* ---------------------------------------------------------------- family rows */

static void emit_family_row(sink *s, const ug_family *f, const ug_batch *b, size_t r, size_t k)
{
    size_t w = ug_fuzz_width(b->dtype);
    uint8_t *body = malloc(b->n * w);
    if (body == NULL)
        abort();
    for (size_t i = 0; i < b->n; i++)
        ug_fuzz_store_bits(body + i * w, w, ug_fuzz_to_bits(b->dtype, ug_batch_get(b->dtype, b->x, r * b->n + i)));
    ug_fuzz_params p = {.dtype = (uint8_t)b->dtype, .kernel = production_choice(s->t, b->op, b->dtype),
                        .n = (uint16_t)(b->n - 1), .label = (uint8_t)(k % 16)};
    p.target = b->target != NULL ? (uint8_t)b->target[r] : 0;
    if (b->op == UG_OP_XENT_GRAD && k % 2 == 1)
        p.mode |= UG_MODE_DENSE, p.label = (uint8_t)(k / 2 % 4);
    if (ug_op_has_reduction(b->op) && k % 4 == 3)
        p.mode |= (uint8_t)((1 + k / 4 % 2) << UG_MODE_RED_SHIFT);
    char name[160];
    snprintf(name, sizeof name, "seed-%s-%s-%s-%zu", f->name, ug_op_name(b->op), ug_dtype_name(b->dtype), k);
    emit_input(s, name, body, b->n * w, &p);
    free(body);
}

/* Row k of ROWS_PER_GENERATION, evenly spread over every row of the generation. */
static void emit_generation(sink *s, const ug_family *f, const ug_batch_list *l)
{
    size_t total = 0;
    for (size_t i = 0; i < l->count; i++)
        total += l->items[i]->rows;
    size_t want = total < ROWS_PER_GENERATION ? total : ROWS_PER_GENERATION;
    for (size_t k = 0; k < want; k++) {
        size_t r = k * total / want, i = 0;
        while (r >= l->items[i]->rows)
            r -= l->items[i++]->rows;
        emit_family_row(s, f, l->items[i], r, k);
    }
}

static void emit_families(sink *s, ug_op op, ug_dtype dt)
{
    for (size_t fi = 0; ug_family_at(fi) != NULL; fi++) {
        const ug_family *f = ug_family_at(fi);
        if (!ug_family_supports(f, dt))
            continue;
        size_t rows = f->rows < SEED_ROWS ? f->rows : SEED_ROWS, n = f->n < SEED_MAX_N ? f->n : SEED_MAX_N;
        ug_batch_list l;
        if (ug_family_generate(f, op, dt, 1, rows, n, &l) != UG_OK)
            continue;
        emit_generation(s, f, &l);
        ug_batch_list_free(&l);
    }
}

/* ---------------------------------------------------------------- offset-plus-delta seeds */

typedef struct delta_seed {
    const char *name;
    int offset_kind;       /* 0: zero, 1: log(largest), 2: one, 3: half the largest, 4: smallest subnormal */
    uint8_t scale;
    int8_t deltas[8];
    size_t count;
} delta_seed;

static const delta_seed delta_seeds[] = {
    {"past-overflow", 1, 0, {0, 1, -1, 2, 3, -2, 0, 5}, 8},
    {"dominant", 0, UG_SCALE_ABS_BIAS + 3, {12, 0, -1, 1, 0, 2, -2, -1}, 8},
    {"near-equal", 2, 0, {0, 1, 2, 3}, 4},
    {"masked", 0, UG_SCALE_ABS_BIAS - 1, {-128, 1, -128, 3, -2, -128}, 6},
    {"huge", 3, 20, {0, -1, 1, -100, 100, 0}, 6},
    {"subnormal", 4, 0, {0, 1, 2, 3, 100, -1}, 6},
};

static double delta_offset(ug_dtype dt, int kind)
{
    switch (kind) {
    case 1: return ug_dtype_round(dt, log(ug_dtype_max(dt)));
    case 2: return 1;
    case 3: return ug_dtype_round(dt, ug_dtype_max(dt) / 2);
    case 4: return ug_dtype_min_subnormal(dt);
    default: return 0;
    }
}

static void emit_deltas(sink *s, ug_op op, ug_dtype dt)
{
    size_t w = ug_fuzz_width(dt);
    for (size_t i = 0; i < sizeof delta_seeds / sizeof delta_seeds[0]; i++) {
        const delta_seed *d = &delta_seeds[i];
        uint8_t body[16];
        ug_fuzz_store_bits(body, w, ug_fuzz_to_bits(dt, delta_offset(dt, d->offset_kind)));
        for (size_t j = 0; j < d->count; j++)
            body[w + j] = (uint8_t)d->deltas[j];
        ug_fuzz_params p = {.dtype = (uint8_t)dt, .kernel = production_choice(s->t, op, dt), .mode = UG_MODE_DELTA,
                            .n = (uint16_t)(d->count - 1), .scale = d->scale, .target = (uint8_t)i};
        char name[160];
        snprintf(name, sizeof name, "delta-%s-%s-%s", d->name, ug_op_name(op), ug_dtype_name(dt));
        emit_input(s, name, body, w + d->count, &p);
    }
}

size_t ug_fuzz_seeds(const ug_fuzz_target *t, ug_fuzz_emit_fn emit, void *ctx)
{
    sink s = {t, emit, ctx, 0};
    for (int op = 0; op < UG_OP_COUNT; op++) {
        if (!ug_fuzz_target_has(t, (ug_op)op))
            continue;
        for (int dt = 0; dt < UG_DTYPE_COUNT; dt++) {
            emit_families(&s, (ug_op)op, (ug_dtype)dt);
            emit_deltas(&s, (ug_op)op, (ug_dtype)dt);
        }
    }
    return s.count;
}

/* ---------------------------------------------------------------- dictionaries */

static void dict_entry(FILE *out, ug_dtype dt, const char *name, double v)
{
    size_t w = ug_fuzz_width(dt);
    uint8_t bytes[8];
    ug_fuzz_store_bits(bytes, w, ug_fuzz_to_bits(dt, v));
    fprintf(out, "%s_%s=\"", ug_dtype_name(dt), name);
    for (size_t i = 0; i < w; i++)
        fprintf(out, "\\x%02x", bytes[i]);
    fprintf(out, "\"\n");
}

static void dict_signed(FILE *out, ug_dtype dt, const char *name, double v)
{
    char neg[64];
    snprintf(neg, sizeof neg, "minus_%s", name);
    dict_entry(out, dt, name, v);
    dict_entry(out, dt, neg, -v);
}

/* A threshold and its neighbours one ULP away. */
static void dict_threshold(FILE *out, ug_dtype dt, const char *name, double v)
{
    char lo[64], hi[64];
    double x = ug_dtype_round(dt, v), u = ug_fuzz_ulp(dt, x);
    snprintf(lo, sizeof lo, "%s_down", name);
    snprintf(hi, sizeof hi, "%s_up", name);
    dict_entry(out, dt, name, x);
    dict_entry(out, dt, lo, x - u);
    dict_entry(out, dt, hi, x + u);
}

void ug_fuzz_dictionary(FILE *out, ug_dtype dt, const char *generator)
{
    double big = ug_dtype_max(dt), sub = ug_dtype_min_subnormal(dt), normal = ldexp(1, ug_dtype_emin(dt));
    fprintf(out, "# Special values and thresholds of %s, little-endian bit patterns (libFuzzer -dict).\n",
            ug_dtype_name(dt));
    fprintf(out, "# Generated by `%s --make-dict %s`; do not edit.\n", generator, ug_dtype_name(dt));
    dict_signed(out, dt, "zero", 0);
    dict_signed(out, dt, "one", 1);
    dict_signed(out, dt, "half", 0.5);
    dict_signed(out, dt, "inf", INFINITY);
    dict_entry(out, dt, "nan", NAN);
    dict_signed(out, dt, "max", big);
    dict_signed(out, dt, "min_subnormal", sub);
    dict_signed(out, dt, "min_normal", normal);
    dict_signed(out, dt, "half_ulp_one", ldexp(1, ug_dtype_precision(dt) - 2));
    dict_signed(out, dt, "big_1e30", 1e30);
    dict_threshold(out, dt, "log_max", log(big));
    dict_threshold(out, dt, "minus_log_max", -log(big));
    dict_threshold(out, dt, "log_min_subnormal", log(sub));
    dict_threshold(out, dt, "log_min_normal", log(normal));
    dict_threshold(out, dt, "log2", log(2));
    dict_threshold(out, dt, "log_64", log(64));
}
