/* JSON pieces shared by check --json, boundary --json and report.json.
 *
 * Conventions (reports/SCHEMA.md): a dtype value that must round-trip is a string, its
 * C99 hex float ("0x1.8p-3"), or "inf", "-inf", "nan"; a statistic is a JSON number when
 * finite and one of those strings otherwise; an array of values writes a run of
 * UG_JSON_RUN_MIN or more equal values as one element [value, count].
 */
#ifndef ULPGATE_REPORTS_JSONOUT_H
#define ULPGATE_REPORTS_JSONOUT_H

#include <stddef.h>

#include <json-c/json.h>

#include "families.h"
#include "judge.h"
#include "ulpgate/registry.h"

enum { UG_JSON_RUN_MIN = 4 };

json_object *ug_j_stat(double v);  /* number, or "inf" / "-inf" / "nan"      */
json_object *ug_j_value(double v); /* "%a", or "inf" / "-inf" / "nan"        */
json_object *ug_j_size(size_t v);
json_object *ug_j_str(const char *s);
void ug_j_add(json_object *o, const char *key, json_object *v);

/* count values of an array of dt, complete (runs compressed, see above). */
json_object *ug_j_array(ug_dtype dt, const void *a, size_t count);

/* The kernel's registry row: name, op, dtype, algorithm, isa, role, bound, description. */
json_object *ug_j_kernel(const ug_kernel *k);

/* ---------------------------------------------------------------- input table */

/* Every input row that a sample shows, once: samples refer to it by index, so that a long
 * row shared by several kernels is written once, complete.  Each input carries the name
 * of where it came from (a family, a boundary axis). */
typedef struct ug_inputs {
    ug_batch **items;
    const char **source;
    size_t count, cap;
} ug_inputs;

/* The index of b (from source) in the table, adding a copy when new. */
size_t ug_inputs_id(ug_inputs *in, const ug_batch *b, const char *source);

/* The table as a JSON array; empties the table. */
json_object *ug_inputs_json(ug_inputs *in);

/* A judged sample: its input (by id), position, computed and exact values, ULP error,
 * bound, kappa and class; NULL when the sample is unset. */
json_object *ug_sample_json(const ug_judge_sample *s, const char *source, ug_inputs *in);

/* One (kernel, family) result of the judge, as `ulpgate check --json` writes it. */
json_object *ug_result_json(const ug_kernel *k, const ug_family *f, const ug_judge *j, const ug_judge_stats *s,
                            ug_inputs *in);

#endif
