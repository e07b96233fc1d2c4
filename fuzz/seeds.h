/* Seed corpora and dictionaries, generated (deterministically) rather than kept by hand.
 *
 * Seeds: every input family (oracle/families.h) of every op of the target and every
 * dtype the family supports, seed 1, rows of at most 64 values; 8 rows of each generation,
 * evenly spread, each encoded raw (decode.h) for the production kernel of its op and
 * dtype, with the family's target; plus, per op and dtype, a few offset-plus-delta inputs
 * that start the value mutator near the hard regions (a row a few ULPs past log(largest
 * finite), a dominant logit, near-equal values, masks, subnormals).
 *
 * Dictionaries: the little-endian bytes of each dtype's special values and thresholds,
 * in libFuzzer's -dict format (fuzz/<dtype>.dict are this output, committed).
 */
#ifndef ULPGATE_FUZZ_SEEDS_H
#define ULPGATE_FUZZ_SEEDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness.h"

/* Called once per seed with a file name (no directory) and the input's bytes. */
typedef void (*ug_fuzz_emit_fn)(void *ctx, const char *name, const uint8_t *data, size_t size);

/* Emit every seed of t in a fixed order; returns their number. */
size_t ug_fuzz_seeds(const ug_fuzz_target *t, ug_fuzz_emit_fn emit, void *ctx);

/* Print the dictionary of dt's special values to out. */
void ug_fuzz_dictionary(FILE *out, ug_dtype dt, const char *generator);

#endif
