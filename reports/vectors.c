/* Test vector files (vectors.h; the format is doc/VECTORS.md). */
#include "vectors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "cli.h"
#include "jsonout.h"
#include "oracle.h"

static char *dup_str(const char *cmd, const char *s)
{
    size_t len = strlen(s) + 1;
    char *c = ug_cli_alloc(cmd, len, 1);
    memcpy(c, s, len);
    return c;
}

void ug_vectors_free(ug_vectors *vs)
{
    for (size_t i = 0; i < vs->count; i++) {
        ug_vector *v = &vs->v[i];
        free(v->family);
        free(v->source);
        for (size_t t = 0; t < v->ntags; t++)
            free(v->tags[t]);
        free(v->tags);
        ug_batch_free(v->b);
        free(v->expected);
    }
    free(vs->v);
    free(vs->rows);
    memset(vs, 0, sizeof *vs);
}

ug_vector *ug_vectors_add(const char *cmd, ug_vectors *vs, ug_batch *b, ug_reduction red, const char *family,
                          const char *source)
{
    size_t first = 0;
    if (vs->count > 0) {
        const ug_batch *last = vs->v[vs->count - 1].b;
        first = last->first_row + last->rows;
    }
    vs->v = ug_cli_grow(cmd, vs->v, &vs->cap, vs->count + 1, sizeof *vs->v);
    ug_vector *v = &vs->v[vs->count];
    memset(v, 0, sizeof *v);
    v->id = vs->count++;
    v->family = dup_str(cmd, family);
    v->source = dup_str(cmd, source);
    v->b = b;
    v->b->first_row = first;
    v->red = red;
    return v;
}

void ug_vector_tag(const char *cmd, ug_vector *v, const char *tag)
{
    for (size_t t = 0; t < v->ntags; t++)
        if (strcmp(v->tags[t], tag) == 0)
            return;
    size_t cap = v->ntags;
    v->tags = ug_cli_grow(cmd, v->tags, &cap, v->ntags + 1, sizeof *v->tags);
    v->tags[v->ntags++] = dup_str(cmd, tag);
}

const ug_vector *ug_vectors_by_row(const ug_vectors *vs, size_t r)
{
    size_t lo = 0, hi = vs->count;
    while (lo < hi) { /* the first vector whose rows end after r */
        size_t mid = lo + (hi - lo) / 2;
        const ug_batch *b = vs->v[mid].b;
        if (b->first_row + b->rows <= r)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < vs->count ? &vs->v[lo] : NULL;
}

/* ---------------------------------------------------------------- writing */

/* Every value, one string each (no run compression: a reader indexes the array). */
static json_object *values_json(ug_dtype dt, const void *a, size_t count)
{
    json_object *arr = json_object_new_array_ext((int)count);
    for (size_t i = 0; i < count; i++)
        json_object_array_add(arr, ug_j_value(ug_batch_get(dt, a, i)));
    return arr;
}

static const char *aux_key(ug_op op) { return op == UG_OP_BCE_LOGITS ? "labels" : "p"; }

static json_object *vector_json(const ug_vector *v)
{
    const ug_batch *b = v->b;
    json_object *o = json_object_new_object();
    ug_j_add(o, "id", ug_j_size(v->id));
    ug_j_add(o, "family", ug_j_str(v->family));
    ug_j_add(o, "source", ug_j_str(v->source));
    json_object *tags = json_object_new_array();
    for (size_t t = 0; t < v->ntags; t++)
        json_object_array_add(tags, ug_j_str(v->tags[t]));
    ug_j_add(o, "tags", tags);
    ug_j_add(o, "rows", ug_j_size(b->rows));
    ug_j_add(o, "n", ug_j_size(b->n));
    ug_j_add(o, "reduction", ug_j_str(ug_reduction_name(v->red)));
    ug_j_add(o, "x", values_json(b->dtype, b->x, b->rows * b->n));
    if (b->target != NULL) {
        json_object *t = json_object_new_array();
        for (size_t r = 0; r < b->rows; r++)
            json_object_array_add(t, json_object_new_int64(b->target[r]));
        ug_j_add(o, "target", t);
    }
    if (b->aux != NULL)
        ug_j_add(o, aux_key(b->op), values_json(b->dtype, b->aux, b->rows * b->n));
    if (v->smoothing > 0) {
        ug_j_add(o, "label_smoothing", ug_j_value(v->smoothing));
        ug_j_add(o, "smooth_target", json_object_new_int64(v->smooth_target));
    }
    json_object *e = json_object_new_array_ext((int)v->count);
    for (size_t i = 0; i < v->count; i++)
        json_object_array_add(e, ug_j_value(v->expected[i]));
    ug_j_add(o, "expected", e);
    return o;
}

void ug_vectors_write(const char *cmd, const char *path, const ug_vectors *vs)
{
    ug_atomic a;
    FILE *f = ug_atomic_open(&a, cmd, path);
    fprintf(f, "{\"format\": \"%s\", \"version\": %d, \"generator\": \"ulpgate vectors export\",\n", UG_VECTORS_FORMAT,
            UG_VECTORS_VERSION);
    fprintf(f, " \"op\": \"%s\", \"dtype\": \"%s\", \"seed\": %llu, \"rows\": \"%s\", \"count\": %zu,\n",
            ug_op_name(vs->op), ug_dtype_name(vs->dtype), (unsigned long long)vs->seed, vs->rows, vs->count);
    fputs(" \"vectors\": [\n", f);
    for (size_t i = 0; i < vs->count; i++) {
        json_object *o = vector_json(&vs->v[i]);
        fprintf(f, "  %s%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                i + 1 < vs->count ? "," : "");
        json_object_put(o);
    }
    fputs(" ]\n}\n", f);
    ug_atomic_commit(&a);
}

/* ---------------------------------------------------------------- reading */

json_object *ug_json_read_file(const char *cmd, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        ug_cli_die(UG_EXIT_IO, cmd, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        buf = ug_cli_grow(cmd, buf, &cap, len + 65536, 1);
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    if (ferror(f)) {
        fclose(f);
        ug_cli_die(UG_EXIT_IO, cmd, "%s: cannot read: %s", path, strerror(errno));
    }
    fclose(f);
    json_tokener *tok = json_tokener_new();
    if (tok == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, cmd, "out of memory (JSON)");
    json_object *doc = len > 0 ? json_tokener_parse_ex(tok, buf, (int)len) : NULL;
    enum json_tokener_error err = len > 0 ? json_tokener_get_error(tok) : json_tokener_continue;
    size_t at = len > 0 ? json_tokener_get_parse_end(tok) : 0;
    if (doc != NULL && err == json_tokener_success) { /* only blanks may follow */
        while (at < len && strchr(" \t\r\n", buf[at]) != NULL)
            at++;
        if (at < len) {
            json_object_put(doc);
            doc = NULL;
            err = json_tokener_error_parse_unexpected;
        }
    }
    if (doc == NULL || err != json_tokener_success) {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < at && i < len; i++, col++)
            if (buf[i] == '\n')
                line++, col = 0;
        const char *why = err == json_tokener_continue ? "the JSON ends early" : json_tokener_error_desc(err);
        json_tokener_free(tok);
        free(buf);
        ug_cli_die_at(cmd, path, line, col, "not valid JSON: %s", why);
    }
    json_tokener_free(tok);
    free(buf);
    return doc;
}

double ug_json_number(const char *cmd, const char *where, ug_dtype dt, json_object *o)
{
    double v;
    if (o == NULL || !json_object_is_type(o, json_type_string))
        ug_cli_die(UG_EXIT_USAGE, cmd, "%s: not a string (values are hex-float or decimal strings)", where);
    if (ug_parse_number(json_object_get_string(o), dt, &v) != 0)
        ug_cli_die(UG_EXIT_USAGE, cmd, "%s: '%s' is not a number", where, json_object_get_string(o));
    return v;
}

/* What the messages of one vector start with. */
typedef struct place {
    const char *cmd, *path;
    size_t index;
    long long id;
} place;

static _Noreturn __attribute__((format(printf, 2, 3))) void die_in(const place *pl, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (pl->id >= 0)
        ug_cli_die(UG_EXIT_USAGE, pl->cmd, "%s: vectors[%zu] (id %lld): %s", pl->path, pl->index, pl->id, msg);
    ug_cli_die(UG_EXIT_USAGE, pl->cmd, "%s: vectors[%zu]: %s", pl->path, pl->index, msg);
}

static json_object *need(const place *pl, json_object *o, const char *key, json_type type)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        die_in(pl, "no \"%s\"", key);
    if (!json_object_is_type(v, type))
        die_in(pl, "\"%s\" is not a%s %s", key, type == json_type_array || type == json_type_int ? "n" : "",
               json_type_to_name(type));
    return v;
}

static size_t need_size(const place *pl, json_object *o, const char *key, size_t min)
{
    int64_t v = json_object_get_int64(need(pl, o, key, json_type_int));
    if (v < (int64_t)min || v > (int64_t)1 << 40)
        die_in(pl, "\"%s\" is %lld, not an integer >= %zu", key, (long long)v, min);
    return (size_t)v;
}

/* count values of key into array a of dt (or doubles when a is NULL: into d). */
static void read_values(const place *pl, json_object *o, const char *key, size_t count, ug_dtype dt, void *a,
                        double *d)
{
    json_object *arr = need(pl, o, key, json_type_array);
    size_t len = json_object_array_length(arr);
    if (len != count)
        die_in(pl, "\"%s\" has %zu values, expected %zu", key, len, count);
    for (size_t i = 0; i < count; i++) {
        char where[256];
        snprintf(where, sizeof where, "%s: vectors[%zu] (id %lld): %s[%zu]", pl->path, pl->index, pl->id, key, i);
        double v = ug_json_number(pl->cmd, where, dt, json_object_array_get_idx(arr, i));
        if (a != NULL)
            ug_batch_put(dt, a, i, v);
        else
            d[i] = v;
    }
}

static int has(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && v != NULL;
}

static void read_vector(ug_vectors *vs, const place *pl, json_object *o)
{
    ug_op op = vs->op;
    size_t rows = need_size(pl, o, "rows", 1), n = need_size(pl, o, "n", 1);
    ug_reduction red;
    const char *rs = json_object_get_string(need(pl, o, "reduction", json_type_string));
    if (ug_reduction_from_name(rs, &red) != 0 || (red != UG_RED_NONE && !ug_op_has_reduction(op)))
        die_in(pl, "reduction '%s' is not one of %s", rs, ug_op_has_reduction(op) ? "none, sum, mean" : "none");
    int with_target = op == UG_OP_XENT || (op == UG_OP_XENT_GRAD && has(o, "target"));
    int with_aux = op == UG_OP_XENT_DENSE || op == UG_OP_BCE_LOGITS || (op == UG_OP_XENT_GRAD && !with_target);
    if (rows > ((size_t)1 << 32) / n)
        die_in(pl, "%zu x %zu values is too many", rows, n);
    ug_batch *b = ug_batch_new(op, vs->dtype, rows, n, with_target, with_aux);
    if (b == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, pl->cmd, "out of memory (vector %zu)", pl->index);
    const char *family = json_object_get_string(need(pl, o, "family", json_type_string));
    const char *source = json_object_get_string(need(pl, o, "source", json_type_string));
    ug_vector *v = ug_vectors_add(pl->cmd, vs, b, red, family, source);
    json_object *tags = need(pl, o, "tags", json_type_array);
    for (size_t t = 0; t < json_object_array_length(tags); t++) {
        json_object *s = json_object_array_get_idx(tags, t);
        if (!json_object_is_type(s, json_type_string))
            die_in(pl, "tags[%zu] is not a string", t);
        ug_vector_tag(pl->cmd, v, json_object_get_string(s));
    }
    read_values(pl, o, "x", rows * n, vs->dtype, b->x, NULL);
    if (with_target) {
        json_object *t = need(pl, o, "target", json_type_array);
        if (json_object_array_length(t) != rows)
            die_in(pl, "\"target\" has %zu values, expected %zu", json_object_array_length(t), rows);
        for (size_t r = 0; r < rows; r++) {
            json_object *e = json_object_array_get_idx(t, r);
            if (!json_object_is_type(e, json_type_int))
                die_in(pl, "target[%zu] is not an integer", r);
            b->target[r] = json_object_get_int64(e);
        }
    }
    if (with_aux)
        read_values(pl, o, aux_key(op), rows * n, vs->dtype, b->aux, NULL);
    if (has(o, "label_smoothing")) {
        char where[256];
        snprintf(where, sizeof where, "%s: vectors[%zu]: label_smoothing", pl->path, pl->index);
        v->smoothing = ug_json_number(pl->cmd, where, UG_F64, json_object_object_get(o, "label_smoothing"));
        v->smooth_target = json_object_get_int64(need(pl, o, "smooth_target", json_type_int));
    }
    v->count = ug_output_count(op, rows, n, red);
    v->expected = ug_cli_alloc(pl->cmd, v->count, sizeof *v->expected);
    read_values(pl, o, "expected", v->count, vs->dtype, NULL, v->expected);
}

static const char *head_string(const char *cmd, const char *path, json_object *doc, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(doc, key, &v) || !json_object_is_type(v, json_type_string))
        ug_cli_die(UG_EXIT_USAGE, cmd, "%s: no string \"%s\" at the top level", path, key);
    return json_object_get_string(v);
}

void ug_vectors_read(const char *cmd, const char *path, ug_vectors *vs)
{
    memset(vs, 0, sizeof *vs);
    json_object *doc = ug_json_read_file(cmd, path), *v;
    if (!json_object_is_type(doc, json_type_object))
        ug_cli_die(UG_EXIT_USAGE, cmd, "%s: not a JSON object", path);
    if (strcmp(head_string(cmd, path, doc, "format"), UG_VECTORS_FORMAT) != 0)
        ug_cli_die(UG_EXIT_USAGE, cmd, "%s: \"format\" is not \"%s\"", path, UG_VECTORS_FORMAT);
    if (!json_object_object_get_ex(doc, "version", &v) || json_object_get_int(v) != UG_VECTORS_VERSION)
        ug_cli_die(UG_EXIT_USAGE, cmd, "%s: \"version\" is not %d (this ulpgate reads version %d)", path,
                   UG_VECTORS_VERSION, UG_VECTORS_VERSION);
    const char *op = head_string(cmd, path, doc, "op"), *dt = head_string(cmd, path, doc, "dtype");
    if (ug_op_from_name(op, &vs->op) != 0)
        ug_cli_die(UG_EXIT_USAGE, cmd, "%s: unknown op '%s'", path, op);
    if (ug_dtype_from_name(dt, &vs->dtype) != 0)
        ug_cli_die(UG_EXIT_USAGE, cmd, "%s: unknown dtype '%s'", path, dt);
    vs->seed = json_object_object_get_ex(doc, "seed", &v) ? (uint64_t)json_object_get_int64(v) : 0;
    vs->rows = dup_str(cmd, json_object_object_get_ex(doc, "rows", &v) ? json_object_get_string(v) : "default");
    json_object *arr;
    if (!json_object_object_get_ex(doc, "vectors", &arr) || !json_object_is_type(arr, json_type_array))
        ug_cli_die(UG_EXIT_USAGE, cmd, "%s: no array \"vectors\" at the top level", path);
    size_t count = json_object_array_length(arr);
    for (size_t i = 0; i < count; i++) {
        json_object *o = json_object_array_get_idx(arr, i), *id;
        place pl = {cmd, path, i, -1};
        if (!json_object_is_type(o, json_type_object))
            die_in(&pl, "not an object");
        if (!json_object_object_get_ex(o, "id", &id) || !json_object_is_type(id, json_type_int))
            die_in(&pl, "no integer \"id\"");
        pl.id = json_object_get_int64(id);
        if (pl.id != (long long)i)
            die_in(&pl, "ids must be 0, 1, 2, ... in order (this one should be %zu)", i);
        read_vector(vs, &pl, o);
    }
    json_object_put(doc);
}
