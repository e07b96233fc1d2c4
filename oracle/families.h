/* Input families: named, seeded, deterministic generators of kernel inputs.
 *
 * One table (ug_family_at) that `ulpgate check`, the property tests, the reports and the
 * fuzzers' seed corpora all iterate; nothing else keeps a list of families.  Each family
 * has a short name (used by `--family` and in every report row), a one-line description,
 * default sizes, and the dtypes it supports (every op is supported).  The comment block
 * at the top of families.c says what each family probes and why.
 *
 * A generation is a pure function of (family, op, dtype, seed, rows, n):
 *   - the logits come from a stream seeded by (seed, family name, dtype), so every op of a
 *     dtype sees the same rows (except bf16_ties, which selects rows for the op);
 *   - targets, probabilities and labels from a stream seeded by (seed, family, dtype, op);
 *   - row lengths (families with rows of several lengths) from (seed, family).
 * Every value is a value of the dtype: generated in binary64, then rounded once (RNE) to
 * f32 by a cast, to bf16 by ug_bf16_from_f64, never through another format.
 *
 * A generation is a list of batches; a batch is one kernel call's input (rows x n, one n).
 * Most families give one batch; families with rows of several lengths give one batch per
 * run of equal lengths; xent_grad gets every batch twice, sparse (target) then dense
 * (probability rows), so that both forms are judged.
 */
#ifndef ULPGATE_ORACLE_FAMILIES_H
#define ULPGATE_ORACLE_FAMILIES_H

#include <stddef.h>
#include <stdint.h>

#include "ulpgate/ulpgate.h"

/* One kernel call's input, in the dtype's storage. */
typedef struct ug_batch {
    ug_op op;
    ug_dtype dtype;
    size_t rows, n;
    void *x;           /* rows * n logits                                                 */
    int64_t *target;   /* rows class indices, or NULL: xent and sparse xent_grad          */
    void *aux;         /* rows * n, or NULL: probability rows (xent_dense, dense
                          xent_grad) or labels in [0, 1] (bce_logits)                     */
    size_t first_row;  /* index of row 0 among all rows of the generation (for reports)   */
} ug_batch;

/* A zeroed batch with x, and target / aux when asked; NULL when out of memory. */
ug_batch *ug_batch_new(ug_op op, ug_dtype dt, size_t rows, size_t n, int with_target, int with_aux);
void ug_batch_free(ug_batch *b);

/* A copy of rows [r0, r0 + rows) of b as a batch of its own (first_row adjusted); NULL
 * when out of memory or out of range. */
ug_batch *ug_batch_copy(const ug_batch *b, size_t r0, size_t rows);

/* 1 when a and b hold the same op, dtype, shape, first_row and bytes. */
int ug_batch_same(const ug_batch *a, const ug_batch *b);

/* The problem a kernel or the oracle solves on b, writing to y. */
ug_problem ug_batch_problem(const ug_batch *b, ug_reduction red, void *y);

/* Element i of an array of dt, widened exactly; store v rounded once (RNE) to dt. */
double ug_batch_get(ug_dtype dt, const void *a, size_t i);
void ug_batch_put(ug_dtype dt, void *a, size_t i, double v);

/* v rounded once (RNE) to dt, returned exactly as a double. */
double ug_dtype_round(ug_dtype dt, double v);

/* The largest finite value of dt: 0x1.fffffep127 (f32), 0x1.fffffffffffffp1023 (f64),
 * 0x1.fep127 (bf16); and the smallest positive subnormal: 2^-149, 2^-1074, 2^-133. */
double ug_dtype_max(ug_dtype dt);
double ug_dtype_min_subnormal(ug_dtype dt);

/* The batches of one generation. */
typedef struct ug_batch_list {
    size_t count;
    ug_batch **items;
} ug_batch_list;

void ug_batch_list_free(ug_batch_list *l);

/* ---------------------------------------------------------------- the family table */

typedef struct ug_famgen ug_famgen; /* a generation in progress (families.c)          */

/* One row as a family fills it: n values (binary64, rounded to the dtype afterwards if
 * the family did not), a target hint (-1: chosen by the generic rule), and the aux row
 * (filled by the generic rule unless the family did it and set aux_done). */
typedef struct ug_famrow {
    size_t r;        /* row index in the generation                                    */
    size_t n;
    double *x;
    int64_t target;
    double *aux;
    int aux_done;
} ug_famrow;

typedef struct ug_family {
    const char *name;  /* short, unique: "normal1"                                      */
    const char *desc;  /* one line                                                      */
    size_t rows;       /* default number of rows of length n                            */
    size_t n;          /* default row length (for `lengths`, the largest)               */
    size_t extra_rows; /* rows of length 1 appended after the rows (0 for most)        */
    unsigned dtypes;   /* supported dtypes: bit (1u << ug_dtype)                        */
    double param;      /* family parameter (sigma of the normal families)               */
    size_t (*row_len)(ug_famgen *g, size_t r); /* NULL: every row has length n         */
    void (*fill)(ug_famgen *g, ug_famrow *row);
} ug_family;

size_t ug_family_count(void);
const ug_family *ug_family_at(size_t i);            /* NULL past the end              */
const ug_family *ug_family_find(const char *name);  /* NULL when unknown              */
int ug_family_supports(const ug_family *f, ug_dtype dt);

/* Generate f for (op, dt, seed) into *out (count >= 1 batches on success).  rows = 0 and
 * n = 0 mean the family's defaults.  Returns UG_OK, UG_ERR_ARG (dtype not supported, bad
 * op), or UG_ERR_NOMEM; on failure *out is empty. */
ug_status ug_family_generate(const ug_family *f, ug_op op, ug_dtype dt, uint64_t seed, size_t rows, size_t n,
                             ug_batch_list *out);

#endif
