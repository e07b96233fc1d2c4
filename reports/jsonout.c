/* JSON pieces shared by the subcommands that write JSON (jsonout.h). */
#include "jsonout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "measure.h"

json_object *ug_j_stat(double v)
{
    if (isfinite(v))
        return json_object_new_double(v);
    return json_object_new_string(isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
}

json_object *ug_j_value(double v)
{
    char buf[64];
    if (isnan(v))
        snprintf(buf, sizeof buf, "nan");
    else if (isinf(v))
        snprintf(buf, sizeof buf, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, sizeof buf, "%a", v);
    return json_object_new_string(buf);
}

json_object *ug_j_size(size_t v) { return json_object_new_int64((int64_t)v); }

json_object *ug_j_str(const char *s) { return json_object_new_string(s); }

void ug_j_add(json_object *o, const char *key, json_object *v) { json_object_object_add(o, key, v); }

json_object *ug_j_array(ug_dtype dt, const void *a, size_t count)
{
    json_object *arr = json_object_new_array();
    size_t es = ug_dtype_size(dt);
    const char *bytes = a;
    for (size_t i = 0, j; i < count; i = j) {
        for (j = i + 1; j < count && memcmp(bytes + j * es, bytes + i * es, es) == 0; j++)
            ;
        json_object *v = ug_j_value(ug_batch_get(dt, a, i));
        if (j - i < UG_JSON_RUN_MIN) {
            for (size_t k = i; k < j; k++)
                json_object_array_add(arr, k == i ? v : ug_j_value(ug_batch_get(dt, a, k)));
            continue;
        }
        json_object *run = json_object_new_array();
        json_object_array_add(run, v);
        json_object_array_add(run, ug_j_size(j - i));
        json_object_array_add(arr, run);
    }
    return arr;
}

json_object *ug_j_kernel(const ug_kernel *k)
{
    json_object *o = json_object_new_object(), *b = json_object_new_object();
    ug_j_add(o, "name", ug_j_str(k->name));
    ug_j_add(o, "op", ug_j_str(ug_op_name(k->op)));
    ug_j_add(o, "dtype", ug_j_str(ug_dtype_name(k->dtype)));
    ug_j_add(o, "algorithm", ug_j_str(k->algorithm));
    ug_j_add(o, "isa", ug_j_str(k->isa));
    ug_j_add(o, "role", ug_j_str(ug_role_name(k->role)));
    ug_j_add(b, "ulp", ug_j_stat(k->bound.ulp));
    ug_j_add(b, "per_n", ug_j_stat(k->bound.per_n));
    ug_j_add(b, "per_cond", ug_j_stat(k->bound.per_cond));
    ug_j_add(o, "bound", b);
    ug_j_add(o, "desc", ug_j_str(k->desc));
    return o;
}

/* ---------------------------------------------------------------- input table */

size_t ug_inputs_id(ug_inputs *in, const ug_batch *b, const char *source)
{
    for (size_t i = 0; i < in->count; i++)
        if (strcmp(in->source[i], source) == 0 && ug_batch_same(in->items[i], b))
            return i;
    if (in->count == in->cap) {
        in->cap = in->cap ? 2 * in->cap : 64;
        in->items = realloc(in->items, in->cap * sizeof *in->items);
        in->source = realloc(in->source, in->cap * sizeof *in->source);
        if (in->items == NULL || in->source == NULL)
            ug_cli_die(UG_EXIT_INTERNAL, NULL, "out of memory (%zu inputs)", in->cap);
    }
    in->items[in->count] = ug_batch_copy(b, 0, b->rows);
    if (in->items[in->count] == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, NULL, "out of memory (an input of %zu values)", b->rows * b->n);
    in->source[in->count] = source;
    return in->count++;
}

static json_object *input_json(const ug_batch *b, const char *source, size_t id)
{
    json_object *o = json_object_new_object(), *t = NULL;
    ug_j_add(o, "id", ug_j_size(id));
    ug_j_add(o, "family", ug_j_str(source));
    ug_j_add(o, "op", ug_j_str(ug_op_name(b->op)));
    ug_j_add(o, "dtype", ug_j_str(ug_dtype_name(b->dtype)));
    ug_j_add(o, "row", ug_j_size(b->first_row));
    ug_j_add(o, "rows", ug_j_size(b->rows));
    ug_j_add(o, "n", ug_j_size(b->n));
    ug_j_add(o, "x", ug_j_array(b->dtype, b->x, b->rows * b->n));
    if (b->target != NULL) {
        t = json_object_new_array();
        for (size_t r = 0; r < b->rows; r++)
            json_object_array_add(t, json_object_new_int64(b->target[r]));
    }
    ug_j_add(o, "target", t);
    ug_j_add(o, "aux", b->aux != NULL ? ug_j_array(b->dtype, b->aux, b->rows * b->n) : NULL);
    return o;
}

json_object *ug_inputs_json(ug_inputs *in)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < in->count; i++) {
        json_object_array_add(arr, input_json(in->items[i], in->source[i], i));
        ug_batch_free(in->items[i]);
    }
    free(in->items);
    free(in->source);
    memset(in, 0, sizeof *in);
    return arr;
}

json_object *ug_sample_json(const ug_judge_sample *s, const char *source, ug_inputs *in)
{
    const ug_batch *b = s->input;
    if (b == NULL)
        return NULL;
    json_object *o = json_object_new_object();
    ug_j_add(o, "input", ug_j_size(ug_inputs_id(in, b, source)));
    ug_j_add(o, "row", ug_j_size(b->first_row));
    ug_j_add(o, "output", ug_j_size(s->col));
    ug_j_add(o, "reduced", json_object_new_boolean(s->reduced));
    ug_j_add(o, "kernel_status", ug_j_str(s->status == UG_OK ? "ok" : ug_status_str(s->status)));
    if (s->status != UG_OK) {
        ug_j_add(o, "kernel_error", ug_j_str(s->why));
        return o;
    }
    ug_j_add(o, "computed", ug_j_value(s->computed));
    ug_j_add(o, "exact", ug_j_value(s->exact));
    ug_j_add(o, "exact_unrounded", ug_j_str(s->exact_hex));
    ug_j_add(o, "ulp", ug_j_stat(s->ulp));
    ug_j_add(o, "bound", ug_j_stat(s->bound));
    ug_j_add(o, "kappa", ug_j_stat(s->kappa));
    ug_j_add(o, "class", ug_j_str(ug_cmp_class_name(s->cls)));
    return o;
}

json_object *ug_result_json(const ug_kernel *k, const ug_family *f, const ug_judge *j, const ug_judge_stats *s,
                            ug_inputs *in)
{
    json_object *o = json_object_new_object(), *v = json_object_new_object();
    ug_j_add(o, "kernel", ug_j_str(k->name));
    ug_j_add(o, "op", ug_j_str(ug_op_name(k->op)));
    ug_j_add(o, "dtype", ug_j_str(ug_dtype_name(k->dtype)));
    ug_j_add(o, "role", ug_j_str(ug_role_name(k->role)));
    ug_j_add(o, "family", ug_j_str(f->name));
    ug_j_add(o, "batches", ug_j_size(j->batches));
    ug_j_add(o, "outputs", ug_j_size(j->outputs));
    ug_j_add(o, "max_ulp", ug_j_stat(s->max_ulp));
    ug_j_add(o, "mean_ulp", ug_j_stat(s->mean_ulp));
    ug_j_add(o, "p50", ug_j_stat(s->p50));
    ug_j_add(o, "p99", ug_j_stat(s->p99));
    ug_j_add(o, "p999", ug_j_stat(s->p999));
    ug_j_add(o, "pct_correct", ug_j_stat(s->pct_correct));
    ug_j_add(o, "pct_faithful", ug_j_stat(s->pct_faithful));
    ug_j_add(o, "over_bound", ug_j_size(j->over_bound));
    for (int c = 1; c < UG_CMP_CLASS_COUNT; c++)
        ug_j_add(v, ug_cmp_class_name((ug_cmp_class)c), ug_j_size(j->cls[c]));
    ug_j_add(o, "violations", v);
    ug_j_add(o, "kernel_errors", ug_j_size(j->kernel_errors));
    ug_j_add(o, "verdict", ug_j_str(ug_verdict(k, ug_judge_failed(j))));
    ug_j_add(o, "worst", ug_sample_json(&j->worst, f->name, in));
    ug_j_add(o, "most_over_bound", ug_sample_json(&j->excess, f->name, in));
    return o;
}
