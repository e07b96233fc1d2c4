/* Shards of `ulpgate report` and their merge (shard.h). */
#include "shard.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "cli.h"
#include "prng.h"

#ifndef UG_VERSION
#define UG_VERSION "unknown"
#endif

/* ---------------------------------------------------------------- lossless values */

/* A double exactly: "%a", or "inf", "-inf", "nan". */
static json_object *hx(double v) { return ug_j_value(v); }

static json_object *num(size_t v) { return ug_j_size(v); }

/* Bytes as lowercase hex. */
static json_object *hexbytes(const void *p, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = p;
    char *s = ug_cli_alloc(NULL, 2 * len + 1, 1);
    for (size_t i = 0; i < len; i++)
        s[2 * i] = digits[b[i] >> 4], s[2 * i + 1] = digits[b[i] & 15];
    s[2 * len] = 0;
    json_object *o = json_object_new_string_len(s, (int)(2 * len));
    free(s);
    return o;
}

/* ---------------------------------------------------------------- the run's identity */

static uint64_t registry_print(void)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (f == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, NULL, "out of memory");
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        fprintf(f, "%s %d %d %s %s %d %a %a %a\n", k->name, (int)k->op, (int)k->dtype, k->algorithm, k->isa,
                (int)k->role, k->bound.ulp, k->bound.per_n, k->bound.per_cond);
    }
    for (size_t i = 0; i < ug_family_count(); i++) {
        const ug_family *fam = ug_family_at(i);
        fprintf(f, "%s %zu %zu %zu\n", fam->name, fam->rows, fam->n, fam->extra_rows);
    }
    fclose(f);
    uint64_t h = ug_prng_hash_str(buf);
    free(buf);
    return h;
}

/* {version, seed, quick, kernels, fingerprint}: equal for every shard of one run. */
static json_object *run_json(const ug_report *r)
{
    json_object *o = json_object_new_object(), *ks = json_object_new_array();
    char fp[32];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)registry_print());
    ug_j_add(o, "version", ug_j_str(UG_VERSION));
    ug_j_add(o, "fingerprint", ug_j_str(fp));
    ug_j_add(o, "seed", json_object_new_int64((int64_t)r->seed));
    ug_j_add(o, "quick", json_object_new_boolean(r->quick));
    for (size_t i = 0; i < r->nk; i++)
        json_object_array_add(ks, ug_j_str(r->ks[i]->name));
    ug_j_add(o, "kernels", ks);
    return o;
}

/* ---------------------------------------------------------------- writing */

static json_object *fig_json(const ug_famfig *g)
{
    json_object *o = json_object_new_object(), *h = json_object_new_array();
    ug_j_add(o, "max_ulp", hx(g->max_ulp));
    ug_j_add(o, "p99", hx(g->p99));
    ug_j_add(o, "outputs", num(g->outputs));
    ug_j_add(o, "correct", num(g->correct));
    ug_j_add(o, "violations", num(g->violations));
    ug_j_add(o, "over_bound", num(g->over_bound));
    ug_j_add(o, "kernel_errors", num(g->kernel_errors));
    ug_j_add(o, "failed", num((size_t)g->failed));
    for (size_t b = 0; b < UG_HIST_BINS; b++)
        json_object_array_add(h, num(g->hist[b]));
    ug_j_add(o, "hist", h);
    return o;
}

static json_object *opt_str(const char *s) { return s != NULL ? ug_j_str(s) : NULL; }

/* Every field of a boundary result; line is its index in its array. */
static json_object *bres_json(const ug_bresult *b, size_t line)
{
    json_object *o = json_object_new_object(), *s = json_object_new_object();
    ug_j_add(o, "line", num(line));
    ug_j_add(o, "kernel", ug_j_str(b->k->name));
    ug_j_add(o, "dir", ug_j_str(b->dir->name));
    ug_j_add(o, "kind", num((size_t)b->kind));
    ug_j_add(o, "at", hx(b->at));
    ug_j_add(o, "last_pass", hx(b->last_pass));
    ug_j_add(o, "end", hx(b->end));
    ug_j_add(s, "valid", num((size_t)b->sample.valid));
    ug_j_add(s, "output", num(b->sample.output));
    ug_j_add(s, "computed", hx(b->sample.computed));
    ug_j_add(s, "exact", hx(b->sample.exact));
    ug_j_add(s, "ulp", hx(b->sample.ulp));
    ug_j_add(s, "bound", hx(b->sample.bound));
    ug_j_add(s, "cls", num((size_t)b->sample.cls));
    ug_j_add(s, "status", json_object_new_int((int)b->sample.status));
    ug_j_add(s, "why", opt_str(b->sample.why));
    ug_j_add(o, "sample", s);
    ug_j_add(o, "monotone", num((size_t)b->monotone));
    ug_j_add(o, "counter", hx(b->counter));
    ug_j_add(o, "counter_passes", num((size_t)b->counter_passes));
    ug_j_add(o, "exact_kind", num((size_t)b->exact_kind));
    ug_j_add(o, "exact_at", hx(b->exact_at));
    ug_j_add(o, "exact_what", opt_str(b->exact_what));
    ug_j_add(o, "evals", num(b->evals));
    return o;
}

static json_object *bres_list(const ug_bresult *res, size_t count)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < count; i++)
        if (res[i].k != NULL)
            json_object_array_add(a, bres_json(&res[i], i));
    return a;
}

/* {name, param, at, cells: [[kernel index, point, worst], ...]} of the measured cells. */
static json_object *sweep_json(const ug_sweep *s)
{
    json_object *o = json_object_new_object(), *at = json_object_new_array(), *cells = json_object_new_array();
    ug_j_add(o, "name", ug_j_str(s->name));
    ug_j_add(o, "param", ug_j_str(s->param));
    for (size_t p = 0; p < s->np; p++)
        json_object_array_add(at, hx(s->at[p]));
    ug_j_add(o, "at", at);
    for (size_t k = 0; k < s->nk; k++)
        for (size_t p = 0; p < s->np; p++)
            if (s->have[k * s->np + p]) {
                json_object *c = json_object_new_array();
                json_object_array_add(c, num(k));
                json_object_array_add(c, num(p));
                json_object_array_add(c, hx(s->worst[k * s->np + p]));
                json_object_array_add(cells, c);
            }
    ug_j_add(o, "cells", cells);
    return o;
}

static json_object *input_json(const ug_batch *b, const char *source)
{
    json_object *o = json_object_new_object(), *t = NULL;
    size_t bytes = b->rows * b->n * ug_dtype_size(b->dtype);
    ug_j_add(o, "source", ug_j_str(source));
    ug_j_add(o, "op", num((size_t)b->op));
    ug_j_add(o, "dtype", num((size_t)b->dtype));
    ug_j_add(o, "row", num(b->first_row));
    ug_j_add(o, "rows", num(b->rows));
    ug_j_add(o, "n", num(b->n));
    ug_j_add(o, "x", hexbytes(b->x, bytes));
    if (b->target != NULL) {
        t = json_object_new_array();
        for (size_t r = 0; r < b->rows; r++)
            json_object_array_add(t, json_object_new_int64(b->target[r]));
    }
    ug_j_add(o, "target", t);
    ug_j_add(o, "aux", b->aux != NULL ? hexbytes(b->aux, bytes) : NULL);
    return o;
}

void ug_shard_write(ug_report *r, const char *dir)
{
    json_object *doc = json_object_new_object(), *pairs = json_object_new_array();
    json_object *inputs = json_object_new_array(), *sw = json_object_new_object(), *cmp = json_object_new_array();
    json_object *viol = json_object_new_array();
    ug_j_add(doc, "schema", ug_j_str(UG_SHARD_SCHEMA));
    ug_j_add(doc, "schema_version", json_object_new_int(UG_SHARD_SCHEMA_VERSION));
    ug_j_add(doc, "shard", num(r->split.shard + 1));
    ug_j_add(doc, "shards", num(r->split.shards));
    ug_j_add(doc, "run", run_json(r));
    for (size_t u = 0; u < r->pairs.count; u++) {
        json_object *p = json_object_new_object();
        ug_j_add(p, "kernel", ug_j_str(r->ks[r->pairs.kernel[u]]->name));
        ug_j_add(p, "family", ug_j_str(ug_family_at(r->pairs.family[u])->name));
        ug_j_add(p, "figures", fig_json(&r->figs[u]));
        ug_j_add(p, "result", json_object_get(json_object_array_get_idx(r->results, u)));
        json_object_array_add(pairs, p);
    }
    ug_j_add(doc, "pairs", pairs);
    for (size_t i = 0; i < r->inputs.count; i++) {
        json_object_array_add(inputs, input_json(r->inputs.items[i], r->inputs.source[i]));
        ug_batch_free(r->inputs.items[i]);
    }
    free(r->inputs.items);
    free(r->inputs.source);
    memset(&r->inputs, 0, sizeof r->inputs);
    ug_j_add(doc, "inputs", inputs);
    ug_j_add(doc, "boundaries", bres_list(r->bres, r->nk * ug_bdir_count()));
    ug_j_add(sw, "spread", sweep_json(&r->spread));
    ug_j_add(sw, "length", sweep_json(&r->length));
    for (size_t c = 0; c < UG_COMPARE_COUNT; c++) {
        json_object_array_add(cmp, sweep_json(&r->cmp[c]));
        json_object_array_add(viol, bres_list(r->cmp_viol[c], r->cmp_nall[c] * ug_bdir_count()));
    }
    ug_j_add(sw, "comparison", cmp);
    ug_j_add(doc, "sweeps", sw);
    ug_j_add(doc, "violations", viol);
    size_t len = strlen(dir) + sizeof UG_SHARD_FILE + 1;
    char *path = ug_cli_alloc(r->cmd, len, 1);
    snprintf(path, len, "%s/%s", dir, UG_SHARD_FILE);
    ug_atomic_write_json(r->cmd, path, doc);
    free(path);
    json_object_put(doc);
}

/* ---------------------------------------------------------------- reading */

typedef struct shard {
    const char *dir;
    json_object *doc;
    size_t index, count;      /* shard index (1-based) of count                       */
    ug_batch **batches;       /* its input rows, by local id                          */
    size_t nbatches;
} shard;

typedef struct merger {
    const char *cmd;
    shard *sh;
    size_t n;
    const shard *cur;         /* the shard being read, for messages                   */
} merger;

static _Noreturn void bad(const merger *m, const char *what)
{
    ug_cli_die(UG_EXIT_USAGE, m->cmd, "%s/%s: %s", m->cur->dir, UG_SHARD_FILE, what);
}

/* o[key] of type t (json_type_null: any), or die naming the key. */
static json_object *get(const merger *m, json_object *o, const char *key, json_type t)
{
    json_object *v = NULL;
    if (o == NULL || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
        (t != json_type_null && !json_object_is_type(v, t))) {
        char msg[160];
        snprintf(msg, sizeof msg, "not a shard file of this ulpgate (missing or malformed '%s')", key);
        bad(m, msg);
    }
    return v;
}

static size_t get_size(const merger *m, json_object *o, const char *key)
{
    int64_t v = json_object_get_int64(get(m, o, key, json_type_int));
    if (v < 0)
        bad(m, "a negative count");
    return (size_t)v;
}

static double get_double(const merger *m, json_object *o, const char *key)
{
    const char *s = json_object_get_string(get(m, o, key, json_type_string));
    char *end;
    double v = strtod(s, &end);
    if (*end != 0 || end == s)
        bad(m, "a malformed number");
    return v;
}

static double elem_double(const merger *m, json_object *a, size_t i)
{
    json_object *v = json_object_array_get_idx(a, i);
    if (v == NULL || !json_object_is_type(v, json_type_string))
        bad(m, "a malformed number");
    char *end;
    const char *s = json_object_get_string(v);
    double d = strtod(s, &end);
    if (*end != 0 || end == s)
        bad(m, "a malformed number");
    return d;
}

static const char *get_opt_str(const merger *m, json_object *o, const char *key)
{
    json_object *v = get(m, o, key, json_type_null);
    if (v == NULL)
        return NULL;
    if (!json_object_is_type(v, json_type_string))
        bad(m, "a malformed string");
    return json_object_get_string(v);
}

static void unhex(const merger *m, json_object *s, void *out, size_t len)
{
    const char *t = json_object_get_string(s);
    unsigned char *b = out;
    if (strlen(t) != 2 * len)
        bad(m, "an input row of the wrong length");
    for (size_t i = 0; i < 2 * len; i++) {
        char c = t[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            bad(m, "an input row that is not hex");
        b[i / 2] = (unsigned char)(i % 2 ? b[i / 2] | d : d << 4);
    }
}

static void read_inputs(merger *m, shard *s)
{
    json_object *a = get(m, s->doc, "inputs", json_type_array);
    s->nbatches = json_object_array_length(a);
    s->batches = ug_cli_alloc(m->cmd, s->nbatches, sizeof *s->batches);
    for (size_t i = 0; i < s->nbatches; i++) {
        json_object *o = json_object_array_get_idx(a, i);
        size_t op = get_size(m, o, "op"), dt = get_size(m, o, "dtype"), rows = get_size(m, o, "rows");
        size_t n = get_size(m, o, "n");
        json_object *t = get(m, o, "target", json_type_null), *aux = get(m, o, "aux", json_type_null);
        if (op >= UG_OP_COUNT || dt >= UG_DTYPE_COUNT || rows == 0 || n == 0 || rows > SIZE_MAX / n / 8)
            bad(m, "a malformed input row");
        ug_batch *b = ug_batch_new((ug_op)op, (ug_dtype)dt, rows, n, t != NULL, aux != NULL);
        if (b == NULL)
            ug_cli_die(UG_EXIT_INTERNAL, m->cmd, "out of memory (an input of %zu x %zu)", rows, n);
        b->first_row = get_size(m, o, "row");
        size_t bytes = rows * n * ug_dtype_size(b->dtype);
        unhex(m, get(m, o, "x", json_type_string), b->x, bytes);
        if (aux != NULL)
            unhex(m, get(m, o, "aux", json_type_string), b->aux, bytes);
        if (t != NULL) {
            if (!json_object_is_type(t, json_type_array) || json_object_array_length(t) != rows)
                bad(m, "a malformed target list");
            for (size_t r = 0; r < rows; r++)
                b->target[r] = json_object_get_int64(json_object_array_get_idx(t, r));
        }
        get(m, o, "source", json_type_string);
        s->batches[i] = b;
    }
}

static void read_file(merger *m, shard *s)
{
    size_t len = strlen(s->dir) + sizeof UG_SHARD_FILE + 1;
    char *path = ug_cli_alloc(m->cmd, len, 1);
    snprintf(path, len, "%s/%s", s->dir, UG_SHARD_FILE);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        ug_cli_die(UG_EXIT_IO, m->cmd, "cannot read %s: %s (is %s the --out of `ulpgate report --shard`?)", path,
                   strerror(errno), s->dir);
    fclose(f);
    s->doc = json_object_from_file(path);
    free(path);
    m->cur = s;
    if (s->doc == NULL)
        bad(m, "not JSON (a damaged or truncated shard file)");
    if (strcmp(json_object_get_string(get(m, s->doc, "schema", json_type_string)), UG_SHARD_SCHEMA) != 0)
        bad(m, "not a shard file (schema is not " UG_SHARD_SCHEMA ")");
    if (json_object_get_int(get(m, s->doc, "schema_version", json_type_int)) != UG_SHARD_SCHEMA_VERSION)
        bad(m, "a shard file of another schema version");
    s->index = get_size(m, s->doc, "shard");
    s->count = get_size(m, s->doc, "shards");
    if (s->count < 2 || s->index < 1 || s->index > s->count)
        bad(m, "a malformed shard number");
}

/* Every shard: of one run, of this build, 1..N each once. */
static void check_set(merger *m, const ug_report *r)
{
    json_object *mine = run_json(r);
    const char *keys[] = {"version", "fingerprint", "seed", "quick", "kernels"};
    json_object *first = get(m, m->sh[0].doc, "run", json_type_object);
    for (size_t i = 0; i < m->n; i++) {
        m->cur = &m->sh[i];
        json_object *run = get(m, m->sh[i].doc, "run", json_type_object);
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            json_object *a = get(m, run, keys[k], json_type_null), *b = get(m, first, keys[k], json_type_null);
            if (strcmp(json_object_to_json_string(a), json_object_to_json_string(b)) != 0)
                ug_cli_die(UG_EXIT_USAGE, m->cmd, "shards of different runs: %s has %s %s, %s has %s", m->sh[i].dir,
                           keys[k], json_object_to_json_string(a), m->sh[0].dir, json_object_to_json_string(b));
        }
        if (m->sh[i].count != m->sh[0].count)
            ug_cli_die(UG_EXIT_USAGE, m->cmd, "shards of different runs: %s is shard %zu/%zu, %s is shard %zu/%zu",
                       m->sh[i].dir, m->sh[i].index, m->sh[i].count, m->sh[0].dir, m->sh[0].index, m->sh[0].count);
        for (size_t j = 0; j < i; j++)
            if (m->sh[j].index == m->sh[i].index)
                ug_cli_die(UG_EXIT_USAGE, m->cmd, "shard %zu/%zu given twice: %s and %s", m->sh[i].index,
                           m->sh[i].count, m->sh[j].dir, m->sh[i].dir);
    }
    for (size_t k = 0; k < 2; k++) {
        json_object *a = get(m, first, keys[k], json_type_null), *b = get(m, mine, keys[k], json_type_null);
        if (strcmp(json_object_to_json_string(a), json_object_to_json_string(b)) != 0)
            ug_cli_die(UG_EXIT_USAGE, m->cmd,
                       "the shards are of another ulpgate build (%s %s, this one %s): merge with the ulpgate "
                       "that measured them",
                       keys[k], json_object_to_json_string(a), json_object_to_json_string(b));
    }
    json_object_put(mine);
    if (m->n != m->sh[0].count) {
        char missing[256] = "";
        for (size_t i = 1; i <= m->sh[0].count && strlen(missing) < 200; i++) {
            int have = 0;
            for (size_t j = 0; j < m->n; j++)
                have |= m->sh[j].index == i;
            if (!have)
                snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%zu/%zu",
                         missing[0] ? ", " : "", i, m->sh[0].count);
        }
        ug_cli_die(UG_EXIT_USAGE, m->cmd, "missing shard%s %s: %zu of %zu given", m->sh[0].count - m->n > 1 ? "s" : "",
                   missing, m->n, m->sh[0].count);
    }
}

/* The report's setup from the first shard's run: kernels, seed, quick. */
static void setup(merger *m, ug_report *r)
{
    m->cur = &m->sh[0];
    json_object *run = get(m, m->sh[0].doc, "run", json_type_object);
    json_object *ks = get(m, run, "kernels", json_type_array);
    r->nk = json_object_array_length(ks);
    r->ks = ug_cli_alloc(m->cmd, r->nk, sizeof *r->ks);
    for (size_t i = 0; i < r->nk; i++) {
        json_object *name = json_object_array_get_idx(ks, i);
        r->ks[i] = name != NULL ? ug_kernel_find(json_object_get_string(name)) : NULL;
        if (r->ks[i] == NULL)
            bad(m, "a kernel that is not in this registry");
    }
    int64_t seed = json_object_get_int64(get(m, run, "seed", json_type_int));
    if (seed < 0)
        bad(m, "a negative seed");
    r->split = (ug_split){.threads = 1};
    ug_report_setup(r, (uint64_t)seed, json_object_get_boolean(get(m, run, "quick", json_type_boolean)));
}

/* ------------------------------------------------ the units, each exactly once */

static _Noreturn void twice(const merger *m, const char *what)
{
    ug_cli_die(UG_EXIT_USAGE, m->cmd, "%s/%s: %s measured by two shards (shards of different runs?)", m->cur->dir,
               UG_SHARD_FILE, what);
}

static void renumber(merger *m, const shard *s, ug_report *r, json_object *result, const char *key)
{
    json_object *sample = get(m, result, key, json_type_null);
    if (sample == NULL)
        return;
    size_t local = get_size(m, sample, "input");
    if (local >= s->nbatches)
        bad(m, "a sample whose input row is not in the file");
    const char *family = json_object_get_string(get(m, result, "family", json_type_string));
    const ug_family *f = ug_family_find(family);
    if (f == NULL)
        bad(m, "an unknown family");
    json_object_object_add(sample, "input", ug_j_size(ug_inputs_id(&r->inputs, s->batches[local], f->name)));
}

static void read_fig(merger *m, json_object *o, ug_famfig *g)
{
    json_object *h = get(m, o, "hist", json_type_array);
    *g = (ug_famfig){.max_ulp = get_double(m, o, "max_ulp"), .p99 = get_double(m, o, "p99"),
                     .outputs = get_size(m, o, "outputs"), .correct = get_size(m, o, "correct"),
                     .violations = get_size(m, o, "violations"), .over_bound = get_size(m, o, "over_bound"),
                     .kernel_errors = get_size(m, o, "kernel_errors"), .failed = get_size(m, o, "failed") != 0};
    if (json_object_array_length(h) != UG_HIST_BINS)
        bad(m, "a histogram of the wrong length");
    for (size_t b = 0; b < UG_HIST_BINS; b++)
        g->hist[b] = (size_t)json_object_get_int64(json_object_array_get_idx(h, b));
}

/* The family pairs, in the unsharded run's order; the input rows numbered in that order. */
static void merge_pairs(merger *m, ug_report *r)
{
    size_t nf = ug_family_count();
    ug_pairs_init(&r->pairs, m->cmd, r->ks, r->nk, NULL, 0, NULL);
    size_t *slot = ug_cli_alloc(m->cmd, r->nk * nf, sizeof *slot);
    for (size_t i = 0; i < r->nk * nf; i++)
        slot[i] = SIZE_MAX;
    for (size_t u = 0; u < r->pairs.count; u++)
        slot[r->pairs.kernel[u] * nf + r->pairs.family[u]] = u;
    json_object **rec = ug_cli_alloc(m->cmd, r->pairs.count, sizeof *rec);
    const shard **from = ug_cli_alloc(m->cmd, r->pairs.count, sizeof *from);
    memset(rec, 0, r->pairs.count * sizeof *rec);
    for (size_t i = 0; i < m->n; i++) {
        m->cur = &m->sh[i];
        json_object *a = get(m, m->sh[i].doc, "pairs", json_type_array);
        for (size_t j = 0; j < json_object_array_length(a); j++) {
            json_object *p = json_object_array_get_idx(a, j);
            const ug_kernel *k = ug_kernel_find(json_object_get_string(get(m, p, "kernel", json_type_string)));
            const ug_family *f = ug_family_find(json_object_get_string(get(m, p, "family", json_type_string)));
            size_t ki = 0;
            while (ki < r->nk && r->ks[ki] != k)
                ki++;
            if (k == NULL || f == NULL || ki == r->nk || slot[ki * nf + (size_t)(f - ug_family_at(0))] == SIZE_MAX)
                bad(m, "a (kernel, family) pair that is not in the run");
            size_t u = slot[ki * nf + (size_t)(f - ug_family_at(0))];
            if (rec[u] != NULL)
                twice(m, "a (kernel, family) pair");
            rec[u] = p, from[u] = &m->sh[i];
        }
    }
    r->figs = ug_cli_alloc(m->cmd, r->pairs.count, sizeof *r->figs);
    for (size_t u = 0; u < r->pairs.count; u++) {
        if (rec[u] == NULL)
            ug_cli_die(UG_EXIT_USAGE, m->cmd, "no shard measured %s on %s: the shards do not cover the run",
                       r->ks[r->pairs.kernel[u]]->name, ug_family_at(r->pairs.family[u])->name);
        m->cur = from[u];
        read_fig(m, get(m, rec[u], "figures", json_type_object), &r->figs[u]);
        json_object *res = get(m, rec[u], "result", json_type_object);
        renumber(m, from[u], r, res, "worst");
        renumber(m, from[u], r, res, "most_over_bound");
        json_object_array_add(r->results, json_object_get(res));
    }
    free(slot);
    free(rec);
    free(from);
    ug_report_tally(r);
}

/* Boundary results (a shard file's list) into out[0 .. count): each line once. */
static void merge_bres(merger *m, json_object *list, const ug_kernel *const *ks, ug_bresult *out, size_t count)
{
    size_t nd = ug_bdir_count();
    for (size_t j = 0; j < json_object_array_length(list); j++) {
        json_object *o = json_object_array_get_idx(list, j), *s = get(m, o, "sample", json_type_object);
        size_t line = get_size(m, o, "line");
        const ug_bdir *d = ug_bdir_find(json_object_get_string(get(m, o, "dir", json_type_string)));
        const ug_kernel *k = ug_kernel_find(json_object_get_string(get(m, o, "kernel", json_type_string)));
        if (line >= count || d == NULL || d != ug_bdir_at(line % nd) || k != ks[line / nd])
            bad(m, "a boundary line that is not in the run");
        ug_bresult *b = &out[line];
        if (b->k != NULL)
            twice(m, "a boundary line");
        *b = (ug_bresult){.k = k, .dir = d, .kind = (ug_bkind)get_size(m, o, "kind"), .at = get_double(m, o, "at"),
                          .last_pass = get_double(m, o, "last_pass"), .end = get_double(m, o, "end"),
                          .monotone = (int)get_size(m, o, "monotone"), .counter = get_double(m, o, "counter"),
                          .counter_passes = (int)get_size(m, o, "counter_passes"),
                          .exact_kind = (ug_bkind)get_size(m, o, "exact_kind"),
                          .exact_at = get_double(m, o, "exact_at"), .exact_what = get_opt_str(m, o, "exact_what"),
                          .evals = get_size(m, o, "evals")};
        b->sample = (ug_bsample){.valid = (int)get_size(m, s, "valid"), .output = get_size(m, s, "output"),
                                 .computed = get_double(m, s, "computed"), .exact = get_double(m, s, "exact"),
                                 .ulp = get_double(m, s, "ulp"), .bound = get_double(m, s, "bound"),
                                 .cls = (ug_cmp_class)get_size(m, s, "cls"),
                                 .status = (ug_status)json_object_get_int(get(m, s, "status", json_type_int)),
                                 .why = get_opt_str(m, s, "why")};
    }
}

static void bres_complete(const merger *m, const ug_bresult *out, size_t count, const ug_bdir *only)
{
    for (size_t i = 0; i < count; i++)
        if (out[i].k == NULL && (only == NULL || ug_bdir_at(i % ug_bdir_count()) == only))
            ug_cli_die(UG_EXIT_USAGE, m->cmd, "no shard searched boundary line %zu: the shards do not cover the run",
                       i);
}

/* A sweep: name, parameter and points from the first shard, the cells from all. */
static void merge_sweep(merger *m, ug_sweep *s, const ug_kernel *const *ks, size_t nk, json_object *const *objs)
{
    m->cur = &m->sh[0];
    json_object *at = get(m, objs[0], "at", json_type_array);
    *s = (ug_sweep){.name = json_object_get_string(get(m, objs[0], "name", json_type_string)),
                    .param = json_object_get_string(get(m, objs[0], "param", json_type_string)),
                    .np = json_object_array_length(at), .nk = nk, .ks = ks};
    s->at = ug_cli_alloc(m->cmd, s->np, sizeof *s->at);
    for (size_t p = 0; p < s->np; p++)
        s->at[p] = elem_double(m, at, p);
    s->worst = ug_cli_alloc(m->cmd, nk * s->np, sizeof *s->worst);
    s->have = ug_cli_alloc(m->cmd, nk * s->np, 1);
    memset(s->have, 0, nk * s->np);
    for (size_t i = 0; i < m->n; i++) {
        m->cur = &m->sh[i];
        json_object *cells = get(m, objs[i], "cells", json_type_array);
        if (json_object_array_length(get(m, objs[i], "at", json_type_array)) != s->np)
            bad(m, "a sweep of another length");
        for (size_t j = 0; j < json_object_array_length(cells); j++) {
            json_object *c = json_object_array_get_idx(cells, j);
            if (!json_object_is_type(c, json_type_array) || json_object_array_length(c) != 3)
                bad(m, "a malformed sweep cell");
            int64_t k = json_object_get_int64(json_object_array_get_idx(c, 0));
            int64_t p = json_object_get_int64(json_object_array_get_idx(c, 1));
            if (k < 0 || p < 0 || (size_t)k >= nk || (size_t)p >= s->np)
                bad(m, "a sweep cell that is not in the run");
            if (s->have[(size_t)k * s->np + (size_t)p]++)
                twice(m, "a sweep point");
            s->worst[(size_t)k * s->np + (size_t)p] = elem_double(m, c, 2);
        }
    }
    for (size_t i = 0; i < nk * s->np; i++)
        if (!s->have[i])
            ug_cli_die(UG_EXIT_USAGE, m->cmd, "no shard measured point %zu of %s on the %s sweep", i % s->np,
                       ks[i / s->np]->name, s->name);
}

static void merge_sweeps(merger *m, ug_report *r)
{
    json_object **objs = ug_cli_alloc(m->cmd, m->n, sizeof *objs);
    const char *names[] = {"spread", "length"};
    ug_sweep *dst[] = {&r->spread, &r->length};
    for (size_t w = 0; w < 2; w++) {
        for (size_t i = 0; i < m->n; i++) {
            m->cur = &m->sh[i];
            objs[i] = get(m, get(m, m->sh[i].doc, "sweeps", json_type_object), names[w], json_type_object);
        }
        merge_sweep(m, dst[w], r->ks, r->nk, objs);
    }
    for (size_t c = 0; c < UG_COMPARE_COUNT; c++) {
        for (size_t i = 0; i < m->n; i++) {
            m->cur = &m->sh[i];
            json_object *a = get(m, get(m, m->sh[i].doc, "sweeps", json_type_object), "comparison", json_type_array);
            objs[i] = json_object_array_get_idx(a, c);
            if (json_object_array_length(a) != UG_COMPARE_COUNT || objs[i] == NULL)
                bad(m, "a comparison list of the wrong length");
        }
        merge_sweep(m, &r->cmp[c], r->cmp_ks[c], r->cmp_nf32[c], objs);
    }
    free(objs);
}

static void merge_boundaries(merger *m, ug_report *r)
{
    size_t nd = ug_bdir_count();
    for (size_t i = 0; i < m->n; i++) {
        m->cur = &m->sh[i];
        merge_bres(m, get(m, m->sh[i].doc, "boundaries", json_type_array), r->ks, r->bres, r->nk * nd);
        json_object *v = get(m, m->sh[i].doc, "violations", json_type_array);
        if (json_object_array_length(v) != UG_COMPARE_COUNT)
            bad(m, "a comparison list of the wrong length");
        for (size_t c = 0; c < UG_COMPARE_COUNT; c++)
            merge_bres(m, json_object_array_get_idx(v, c), r->cmp_all[c], r->cmp_viol[c], r->cmp_nall[c] * nd);
    }
    bres_complete(m, r->bres, r->nk * nd, NULL);
    for (size_t c = 0; c < UG_COMPARE_COUNT; c++)
        bres_complete(m, r->cmp_viol[c], r->cmp_nall[c] * nd, ug_bdir_find(ug_compare_at(c)->axis));
}

void ug_shard_merge(ug_report *r, const char *const *dirs, size_t ndirs, void **docs)
{
    merger m = {.cmd = r->cmd, .n = ndirs};
    m.sh = ug_cli_alloc(r->cmd, ndirs + 1, sizeof *m.sh); /* a zeroed one ends the list */
    memset(m.sh, 0, (ndirs + 1) * sizeof *m.sh);
    for (size_t i = 0; i < ndirs; i++) {
        m.sh[i].dir = dirs[i];
        read_file(&m, &m.sh[i]);
    }
    setup(&m, r);
    check_set(&m, r);
    for (size_t i = 0; i < ndirs; i++) {
        m.cur = &m.sh[i];
        read_inputs(&m, &m.sh[i]);
    }
    merge_pairs(&m, r);
    merge_boundaries(&m, r);
    merge_sweeps(&m, r);
    for (size_t i = 0; i < ndirs; i++) {
        for (size_t b = 0; b < m.sh[i].nbatches; b++)
            ug_batch_free(m.sh[i].batches[b]);
        free(m.sh[i].batches);
        m.sh[i].batches = NULL;
    }
    *docs = m.sh; /* the documents: r's strings point into them */
}

void ug_shard_docs_free(void *docs)
{
    shard *sh = docs;
    if (sh == NULL)
        return;
    for (size_t i = 0; sh[i].doc != NULL; i++)
        json_object_put(sh[i].doc);
    free(sh);
}
