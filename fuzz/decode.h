/* The input format of every fuzz target: a data producer that reads its parameters from
 * the input's tail (zstd's and simdjson's FuzzedDataProducer style), so that libFuzzer's
 * byte mutations of the body move values and mutations of the tail move parameters.
 *
 *   input = body | tail                       tail = the last UG_FUZZ_TAIL (8) bytes
 *
 *   tail byte (from the end)   meaning
 *     -1  dtype                f32, f64, bf16: dtype = byte % 3
 *     -2  kernel               index among the registry rows of the target's ops and this
 *                              dtype (modulo their number), in registry order
 *     -3  mode                 bit 0: body encoding, 0 raw bits, 1 offset plus deltas
 *                              bits 1-2: rows - 1 (1 to 4 rows)
 *                              bits 3-4: reduction of a loss: 1 sum, 2 mean, 0 and 3 none
 *                              bit 5: xent_grad with probability rows (dense) instead of
 *                                     a target (sparse)
 *     -4, -5  n                1 + (little-endian 16-bit value) % UG_FUZZ_MAX_N
 *     -6  target               class index of every row: byte % n
 *     -7  label                bce_logits: the label of every element (ug_fuzz_label);
 *                              dense ops: the probability rows (ug_fuzz_probabilities)
 *     -8  scale                step of the deltas (offset-plus-deltas encoding)
 *   An input shorter than the tail reads zeros for the bytes it lacks.
 *
 *   body, raw encoding: rows x n values, each the little-endian bit pattern of a dtype
 *     value (2 bytes bf16, 4 f32, 8 f64): NaNs with payloads, infinities, subnormals,
 *     the largest finite values.  When the body holds m < rows x n values, value i is
 *     value i mod m (so a short input makes a long, periodic row: accumulation); an empty
 *     body gives zeros.
 *   body, offset-plus-deltas encoding: an offset c (one raw dtype value) then one signed
 *     byte d_i per value: x_i = c + d_i * step, rounded once (RNE) to the dtype, and
 *     d_i = -128 is a -inf mask.  step = ulp(c) * 2^s for s = scale < 64 (values ULPs
 *     apart: near-ties, rows a few ULPs past log(largest finite)), step = 2^(s - 160)
 *     for s >= 64 (2^-96 ... 2^95 absolute: dominant logits, wide spreads).  Deltas
 *     cycle like raw values; without deltas every x_i is c.
 *
 * Labels and probabilities are the same for every row (except probability scheme 3), so
 * that a finding replays with `ulpgate run --target T --label Y`.
 */
#ifndef ULPGATE_FUZZ_DECODE_H
#define ULPGATE_FUZZ_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

enum { UG_FUZZ_TAIL = 8 };

/* Positions in the tail, counted from the end of the input (1 = last byte). */
enum {
    UG_TAIL_DTYPE = 1,
    UG_TAIL_KERNEL = 2,
    UG_TAIL_MODE = 3,
    UG_TAIL_N_LO = 4,
    UG_TAIL_N_HI = 5,
    UG_TAIL_TARGET = 6,
    UG_TAIL_LABEL = 7,
    UG_TAIL_SCALE = 8
};

enum {
    UG_MODE_DELTA = 0x01,
    UG_MODE_ROWS_SHIFT = 1,
    UG_MODE_RED_SHIFT = 3,
    UG_MODE_DENSE = 0x20
};

/* Scale bytes below this are ULP-relative steps, from it on absolute powers of two. */
enum { UG_SCALE_ABSOLUTE = 64, UG_SCALE_ABS_BIAS = 160 };

/* The delta byte that stands for a -inf mask. */
#define UG_DELTA_MASK ((uint8_t)0x80)

/* The parameters of the tail. */
typedef struct ug_fuzz_params {
    uint8_t dtype, kernel, mode, target, label, scale;
    uint16_t n;
} ug_fuzz_params;

ug_fuzz_params ug_fuzz_params_read(const uint8_t *data, size_t size);

/* Write p as the UG_FUZZ_TAIL bytes at tail (the inverse of ug_fuzz_params_read). */
void ug_fuzz_params_write(uint8_t *tail, const ug_fuzz_params *p);

/* Bytes before the tail. */
size_t ug_fuzz_body_size(size_t size);

/* One decoded input: a kernel call's input and how `ulpgate run` replays it. */
typedef struct ug_fuzz_case {
    const ug_kernel *k;   /* the kernel the input chose                              */
    ug_batch *b;          /* rows x n values, target, aux                            */
    ug_reduction red;
    int sparse;           /* one target for every row (b->target)                    */
    int64_t target;
    int labelled;         /* bce_logits: one label for every element                 */
    double label;
    int dense;            /* probability rows in b->aux                              */
} ug_fuzz_case;

/* Decode data into *c.  Returns 0, or -1 when the target has no kernel of the decoded
 * dtype (or UG_FUZZ_KERNEL names none of it).  Out of memory aborts. */
int ug_fuzz_decode(const ug_fuzz_target *t, const ug_fuzz_config *cfg, const uint8_t *data, size_t size,
                   ug_fuzz_case *c);
void ug_fuzz_case_free(ug_fuzz_case *c);

/* The input as it decodes without UG_FUZZ_KERNEL: with it, the decoder takes the dtype
 * and kernel from the setting, not from the tail; this writes them into the tail (the
 * dtype byte, and the kernel byte as the kernel's index among all the choices of its
 * dtype), so that a finding made with UG_FUZZ_KERNEL replays anywhere.  An input shorter
 * than the tail is padded in front with zeros (which it read anyway).  Returns the new
 * size (max(size, UG_FUZZ_TAIL)); out must hold that many bytes. */
size_t ug_fuzz_portable(const ug_fuzz_target *t, const ug_fuzz_config *cfg, const uint8_t *data, size_t size,
                        uint8_t *out);

/* The kernels an input can choose: registry rows of t's ops with dtype dt (and only
 * `only` when it is set), counted and picked in registry order. */
size_t ug_fuzz_kernel_choices(const ug_fuzz_target *t, ug_dtype dt, const ug_kernel *only);
const ug_kernel *ug_fuzz_kernel_choice(const ug_fuzz_target *t, ug_dtype dt, const ug_kernel *only, size_t i);

/* ---------------------------------------------------------------- values */

/* Width in bytes of a raw value of dt. */
size_t ug_fuzz_width(ug_dtype dt);

/* A raw little-endian value of width w at p, and its inverse. */
uint64_t ug_fuzz_load_bits(const uint8_t *p, size_t w);
void ug_fuzz_store_bits(uint8_t *p, size_t w, uint64_t bits);

/* The dtype value of a bit pattern (exactly, as a double), and the bits of a dtype value
 * (v is rounded to dt first). */
double ug_fuzz_from_bits(ug_dtype dt, uint64_t bits);
uint64_t ug_fuzz_to_bits(ug_dtype dt, double v);

/* ulp_dt(v) (oracle/ulp.h's definition); the ulp of the largest finite for inf and NaN. */
double ug_fuzz_ulp(ug_dtype dt, double v);

/* The step of the deltas for offset c and scale byte s. */
double ug_fuzz_step(ug_dtype dt, double c, uint8_t s);

/* The label of a bce input (a dtype value in [0, 1]). */
double ug_fuzz_label(ug_dtype dt, uint8_t label);

/* Probability row r (n entries, dtype values in [0, 1] that pass ug__validate's sum
 * test) of scheme label & 3: one-hot at t; label smoothing (eps from label >> 2);
 * uniform 1/n; deterministic random weights seeded by (label, r, n). */
void ug_fuzz_probabilities(ug_dtype dt, uint8_t label, size_t n, size_t t, size_t r, double *p);

#endif
