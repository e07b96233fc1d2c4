/* ulpgate vectors export | score: test vectors in the spirit of Project Wycheproof.
 *
 * export: every input family (and boundary rows, reduced batches, label smoothing) of one
 * op and dtype, one vector per row, with the oracle's correctly rounded outputs and tags
 * saying why each vector is there, written to a JSON file (doc/VECTORS.md).
 *
 * score: the outputs of any implementation on those vectors (a JSON file, doc/VECTORS.md),
 * or a registered kernel run here, judged exactly as `ulpgate check` judges a kernel: the
 * oracle is evaluated again on each vector (the unrounded value is what a ULP error is
 * measured against; the file's expected values are checked against it), the outputs go
 * through the judge (oracle/judge.h) by way of a stand-in kernel that returns them, and
 * the statistics, verdicts and exit codes are check's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "atomic.h"
#include "boundary.h"
#include "cli.h"
#include "cmds.h"
#include "families.h"
#include "jsonout.h"
#include "judge.h"
#include "measure.h"
#include "oracle.h"
#include "vectors.h"
#include "ulpgate/registry.h"

static const char CMD[] = "vectors";

enum {
    DEFAULT_SEED = 1,
    REDUCED_ROWS = 8,       /* rows of a reduced (mean) vector                          */
    SMOOTH_ROWS = 16,       /* label-smoothing vectors per family                      */
    LENGTH_N = 4096,        /* the length-axis boundary vector                         */
    ROW_SHOWN = 8
};

/* Label smoothing epsilon: with n a power of two, eps / n and 1 - eps + eps / n are exact
 * in every dtype for n <= 2^6 (bf16: 0.75 + 2^-8 has 8 significant bits). */
static const double SMOOTHING = 0x1p-2;

static const char help_text[] =
    "usage: ulpgate vectors export --op OP --dtype DT --out FILE [--seed S] [--rows N]\n"
    "       ulpgate vectors score --vectors FILE (--outputs FILE | --kernel NAME)\n"
    "                             [--bound B] [--name NAME] [--variant V] [--json FILE]\n\n"
    "export writes test vectors: the rows of every input family of `ulpgate check` that\n"
    "supports DT (one vector per row; --rows N: at most N rows per family); rows of the\n"
    "boundary axes (shift+, shift-, spread, dominance) at the overflow and underflow\n"
    "thresholds of DT, and of length n = 4096; for losses, batches of 8 rows with the mean\n"
    "reduction; for xent_dense, label-smoothing rows.  Each vector carries the oracle's\n"
    "correctly rounded outputs and tags that say why it is there (masked,\n"
    "overflow_boundary, tiny_loss, tie, subnormal_output, special_value, ...).  Every\n"
    "number is a string: the C99 hex float of the exact value, or inf, -inf, nan.  The\n"
    "same options give the same bytes; the file is written to a temporary file beside it\n"
    "and renamed.  Format: doc/VECTORS.md.\n\n"
    "score judges an implementation on a vectors file: its outputs (--outputs, a JSON\n"
    "file: {\"format\": \"ulpgate-outputs\", \"version\": 1, \"implementation\": NAME, \"op\",\n"
    "\"dtype\", \"outputs\": {\"<id>\": [\"<value>\", ...], ...}, \"skipped\": {\"<id>\": \"why\"}};\n"
    "values as hex-float or decimal strings, rounded once to the dtype) or a kernel of the\n"
    "registry run here (--kernel).  The oracle is run again on every vector (and must\n"
    "agree with the file's expected values).  One line per family, as `ulpgate check`:\n"
    "  name family max_ulp p50 p99 cr% over nan ovf inf zsgn err verdict\n"
    "(the name cut to 26 characters; the first line gives it whole), then a line `all`,\n"
    "each followed by its worst vector (id, tags, computed and exact values).  The bar\n"
    "is the claim of ulpgate's scalar production kernel for the op and dtype (ULP +\n"
    "per_n n + per_cond kappa), or --bound B ULP.\n\n"
    "options:\n"
    "  --op OP, --dtype DT  what to export (ulpgate list shows ops and dtypes)\n"
    "  --out FILE           the vectors file to write\n"
    "  --seed S             seed of the input families (default 1)\n"
    "  --rows N             at most N rows per family (the family's default when smaller)\n"
    "  --vectors FILE       the vectors file to score against\n"
    "  --outputs FILE       the implementation's outputs\n"
    "  --kernel NAME        score a registered kernel instead\n"
    "  --bound B            the bound in ULP (a number >= 0) instead of the production claim\n"
    "  --name NAME          the implementation's name (default: the outputs file's\n"
    "                       \"implementation\", or the kernel's name)\n"
    "  --variant V          what the implementation computes beyond the op, for the\n"
    "                       report's peers table (\"ignore_index\", \"label_smoothing\")\n"
    "  --json FILE          also write the score as JSON (format ulpgate-score,\n"
    "                       doc/VECTORS.md; what `ulpgate report --peers` reads)\n"
    "  -h, --help           print this help and exit\n\n"
    "score fails (exit 1) when an output is over the bound or a special-value or overflow\n"
    "violation; a damaged file, a missing vector or a wrong number of outputs exits 2\n"
    "naming the place; a file that cannot be read exits 3.\n\n" UG_CLI_HELP_EXIT;

/* ---------------------------------------------------------------- values of a dtype */

/* The next value of dt above v >= 0. */
static double next_up(ug_dtype dt, double v)
{
    switch (dt) {
    case UG_F64: return nextafter(v, INFINITY);
    case UG_F32: return (double)nextafterf((float)v, INFINITY);
    default: { /* bf16: the f32 encodings with the 16 low bits 0, in order */
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        u = (u & 0xffff0000u) + 0x10000u;
        memcpy(&f, &u, sizeof f);
        return (double)f;
    }
    }
}

static double next_down(ug_dtype dt, double v)
{
    double lo = 0, hi = v; /* the largest value whose next_up is v, by bisection on values */
    for (int i = 0; i < 2200 && next_up(dt, lo) < v; i++) {
        double mid = ug_dtype_round(dt, lo + (hi - lo) / 2);
        if (mid <= lo || mid >= hi)
            break;
        if (next_up(dt, mid) <= v)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* ---------------------------------------------------------------- tags */

static int is_loss(ug_op op) { return op == UG_OP_XENT || op == UG_OP_XENT_DENSE || op == UG_OP_BCE_LOGITS; }

/* The tags that follow from the input and the exact outputs (doc/VECTORS.md). */
static void tag_auto(ug_vector *v, const ug_expect *e)
{
    const ug_batch *b = v->b;
    ug_dtype dt = b->dtype;
    double tiny = ldexp(1, ug_dtype_emin(dt)), big = ug_dtype_max(dt), lmax = log(big);
    if (b->n == 1)
        ug_vector_tag(CMD, v, "n1");
    if (b->n >= LENGTH_N)
        ug_vector_tag(CMD, v, "long_row");
    for (size_t r = 0; r < b->rows; r++) {
        size_t masked = 0;
        double mx = -INFINITY, mn = INFINITY;
        for (size_t i = 0; i < b->n; i++) {
            double x = ug_batch_get(dt, b->x, r * b->n + i);
            if (isnan(x))
                ug_vector_tag(CMD, v, "nan_input");
            else if (x == INFINITY)
                ug_vector_tag(CMD, v, "inf_input");
            else if (x == -INFINITY)
                masked++;
            else {
                mx = fmax(mx, x), mn = fmin(mn, x);
                if (x != 0 && fabs(x) < tiny)
                    ug_vector_tag(CMD, v, "subnormal_input");
                if (x > lmax)
                    ug_vector_tag(CMD, v, "exp_overflows");
            }
        }
        if (masked == b->n)
            ug_vector_tag(CMD, v, "all_masked");
        else if (masked > 0)
            ug_vector_tag(CMD, v, "masked");
        if (mx >= mn && mx - mn > big)
            ug_vector_tag(CMD, v, "huge_spread");
        if (mx >= mn && fabs(fabs(mx) - lmax) <= 8)
            ug_vector_tag(CMD, v, "overflow_boundary");
        if (b->target != NULL && b->target[r] >= 0 && (size_t)b->target[r] < b->n &&
            ug_batch_get(dt, b->x, r * b->n + (size_t)b->target[r]) == -INFINITY)
            ug_vector_tag(CMD, v, "masked_target");
    }
    for (size_t i = 0; i < e->count; i++) {
        const ug_exact *x = &e->exact[i];
        double y = x->rounded;
        if (isnan(y))
            ug_vector_tag(CMD, v, "nan_output");
        else if (isinf(y) && !mpfr_inf_p(x->value))
            ug_vector_tag(CMD, v, "overflow_output");
        else if (y == 0 && !mpfr_zero_p(x->value))
            ug_vector_tag(CMD, v, "underflow_to_zero");
        else if (y != 0 && fabs(y) < tiny)
            ug_vector_tag(CMD, v, "subnormal_output");
        if (is_loss(b->op) && isfinite(y) && y != 0 && fabs(y) < 0x1p-20)
            ug_vector_tag(CMD, v, "tiny_loss");
        if (isfinite(x->kappa) && x->kappa > 0x1p20)
            ug_vector_tag(CMD, v, "ill_conditioned");
    }
    static const char *const special[] = {"nan_input", "inf_input", "all_masked"};
    for (size_t s = 0; s < sizeof special / sizeof *special; s++)
        for (size_t t = 0; t < v->ntags; t++)
            if (strcmp(v->tags[t], special[s]) == 0)
                ug_vector_tag(CMD, v, "special_value");
}

/* The tags a family stands for. */
static void tag_family(ug_vector *v, const char *family)
{
    static const struct {
        const char *family, *tag;
    } map[] = {{"bf16_ties", "tie"},         {"special", "special_value"},     {"masked", "masked"},
               {"dominant", "dominant_logit"}, {"offset_huge", "huge_offset"}, {"equal_large", "accumulation"},
               {"overflow_edge", "overflow_boundary"}, {"tiny", "tiny_input"}, {"ascending", "online_rescale"}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcmp(map[i].family, family) == 0)
            ug_vector_tag(CMD, v, map[i].tag);
}

/* ---------------------------------------------------------------- export */

/* Evaluate the oracle on v, store its rounded outputs, tag it. */
static void finish_vector(ug_vector *v)
{
    ug_expect e;
    ug_status st = ug_expect_init(&e, v->b, v->red);
    if (st != UG_OK)
        ug_cli_die(UG_EXIT_INTERNAL, CMD, "the oracle refused vector %zu (%s): %s: %s", v->id, v->source,
                   ug_status_str(st), ug_last_error());
    v->count = e.count;
    v->expected = ug_cli_alloc(CMD, e.count, sizeof *v->expected);
    for (size_t i = 0; i < e.count; i++)
        v->expected[i] = e.exact[i].rounded;
    tag_auto(v, &e);
    ug_expect_free(&e);
}

static ug_batch *copy_rows(const ug_batch *b, size_t r0, size_t rows)
{
    ug_batch *c = ug_batch_copy(b, r0, rows);
    if (c == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, CMD, "out of memory (vector)");
    return c;
}

/* rows: a cap (0: none); a family with fewer rows keeps its default. */
static void generate(const ug_family *f, ug_op op, ug_dtype dt, uint64_t seed, size_t rows, ug_batch_list *l)
{
    ug_status st = ug_family_generate(f, op, dt, seed, rows != 0 && f->rows > rows ? rows : 0, 0, l);
    if (st != UG_OK)
        ug_cli_die(UG_EXIT_INTERNAL, CMD, "family %s (%s %s): %s", f->name, ug_op_name(op), ug_dtype_name(dt),
                   ug_status_str(st));
}

/* One vector per row of every batch of f; for losses one batch of up to REDUCED_ROWS rows
 * with the mean reduction as well. */
static void export_family(ug_vectors *vs, const ug_family *f, size_t rows)
{
    ug_batch_list l;
    generate(f, vs->op, vs->dtype, vs->seed, rows, &l);
    for (size_t i = 0; i < l.count; i++) {
        const ug_batch *b = l.items[i];
        const char *form = vs->op != UG_OP_XENT_GRAD ? "" : b->target != NULL ? " (sparse)" : " (dense)";
        for (size_t r = 0; r < b->rows; r++) {
            char source[128];
            snprintf(source, sizeof source, "%s row %zu%s", f->name, b->first_row + r, form);
            ug_vector *v = ug_vectors_add(CMD, vs, copy_rows(b, r, 1), UG_RED_NONE, f->name, source);
            tag_family(v, f->name);
            finish_vector(v);
        }
    }
    if (ug_op_has_reduction(vs->op) && l.count > 0) {
        const ug_batch *b = l.items[0];
        size_t k = b->rows < REDUCED_ROWS ? b->rows : REDUCED_ROWS;
        char source[128];
        snprintf(source, sizeof source, "%s rows %zu..%zu, mean", f->name, b->first_row, b->first_row + k - 1);
        ug_vector *v = ug_vectors_add(CMD, vs, copy_rows(b, 0, k), UG_RED_MEAN, "reduction", source);
        ug_vector_tag(CMD, v, "reduction_mean");
        if (vs->op == UG_OP_XENT)
            ug_vector_tag(CMD, v, "ignore_index");
        tag_family(v, f->name);
        finish_vector(v);
    }
    ug_batch_list_free(&l);
}

/* xent_dense rows with the label-smoothed probabilities of a target t,
 * p_i = eps / n + (1 - eps) [i = t], on the family's logits (the same for every op of a
 * dtype) and the targets of its xent generation; only where n is a power of two and the
 * probabilities are exact in the dtype. */
static void export_smoothing(ug_vectors *vs, const ug_family *f, size_t rows)
{
    ug_batch_list l;
    generate(f, UG_OP_XENT, vs->dtype, vs->seed, rows, &l);
    size_t done = 0;
    for (size_t i = 0; i < l.count && done < SMOOTH_ROWS; i++) {
        const ug_batch *b = l.items[i];
        double lo = SMOOTHING / (double)b->n, hi = 1 - SMOOTHING + lo;
        if (b->n < 2 || (b->n & (b->n - 1)) != 0 || ug_dtype_round(vs->dtype, lo) != lo ||
            ug_dtype_round(vs->dtype, hi) != hi)
            continue;
        for (size_t r = 0; r < b->rows && done < SMOOTH_ROWS; r++, done++) {
            ug_batch *c = ug_batch_new(UG_OP_XENT_DENSE, vs->dtype, 1, b->n, 0, 1);
            if (c == NULL)
                ug_cli_die(UG_EXIT_INTERNAL, CMD, "out of memory (vector)");
            int64_t t = b->target[r];
            for (size_t j = 0; j < b->n; j++) {
                ug_batch_put(vs->dtype, c->x, j, ug_batch_get(vs->dtype, b->x, r * b->n + j));
                ug_batch_put(vs->dtype, c->aux, j, (int64_t)j == t ? hi : lo);
            }
            char source[128];
            snprintf(source, sizeof source, "%s row %zu, target %lld, label smoothing 0.25", f->name, b->first_row + r,
                     (long long)t);
            ug_vector *v = ug_vectors_add(CMD, vs, c, UG_RED_NONE, "label_smoothing", source);
            v->smoothing = SMOOTHING;
            v->smooth_target = t;
            ug_vector_tag(CMD, v, "label_smoothing");
            tag_family(v, f->name);
            finish_vector(v);
        }
    }
    ug_batch_list_free(&l);
}

/* Rows on the boundary axes (reports/boundary.h) at the thresholds of the dtype: where
 * exp(c) overflows (c = log(max): the last value below it, the first above), where
 * exp(-s) leaves the subnormals (s = -log(smallest subnormal)), and the end of the axis. */
static void export_boundaries(ug_vectors *vs)
{
    ug_dtype dt = vs->dtype;
    double big = ug_dtype_max(dt);
    double lmax = ug_dtype_round(dt, log(big)), lsub = ug_dtype_round(dt, -log(ug_dtype_min_subnormal(dt)));
    if (exp(lmax) > big) /* the largest dtype value whose exp is finite, and the next */
        lmax = next_down(dt, lmax);
    for (size_t d = 0; d < ug_bdir_count(); d++) {
        const ug_bdir *dir = ug_bdir_at(d);
        double pts[4];
        size_t np = 0;
        if (dir->axis == UG_AXIS_LENGTH) {
            pts[np++] = LENGTH_N;
        } else {
            int over = dir->axis == UG_AXIS_SHIFT && dir->sign > 0; /* else: where exp leaves the subnormals */
            double c = over ? lmax : lsub;
            pts[np++] = over ? c : next_down(dt, c);
            pts[np++] = over ? next_up(dt, c) : c;
            pts[np++] = next_up(dt, pts[1]);
            pts[np++] = big;
            for (size_t i = 0; i < np; i++)
                pts[i] *= dir->sign; /* shift-: c = -v */
        }
        for (size_t i = 0; i < np; i++) {
            ug_reduction red;
            ug_batch *b = ug_baxis_batch(CMD, vs->op, dt, dir, pts[i], &red);
            if (b == NULL)
                ug_cli_die(UG_EXIT_INTERNAL, CMD, "out of memory (boundary %s)", dir->name);
            char source[160], tag[64];
            if (dir->axis == UG_AXIS_LENGTH)
                snprintf(source, sizeof source, "boundary %s %s=%zu", dir->name, dir->param, (size_t)pts[i]);
            else
                snprintf(source, sizeof source, "boundary %s %s=%a", dir->name, dir->param, pts[i]);
            ug_vector *v = ug_vectors_add(CMD, vs, b, red, "boundary", source);
            snprintf(tag, sizeof tag, "boundary:%s", dir->name);
            ug_vector_tag(CMD, v, "boundary");
            ug_vector_tag(CMD, v, tag);
            if (dir->axis == UG_AXIS_SHIFT && dir->sign > 0 && i < 2)
                ug_vector_tag(CMD, v, "overflow_boundary");
            finish_vector(v);
        }
    }
}

static int cmd_export(int argc, char **argv)
{
    const char *op = NULL, *dtype = NULL, *out = NULL, *seed = NULL, *rows = NULL;
    const ug_cli_option opts[] = {{"op", &op, NULL},     {"dtype", &dtype, NULL}, {"out", &out, NULL},
                                  {"seed", &seed, NULL}, {"rows", &rows, NULL},   {NULL, NULL, NULL}};
    ug_cli_parse(CMD, help_text, argc, argv, opts, NULL, 0);
    ug_vectors vs = {0};
    if (op == NULL || ug_op_from_name(op, &vs.op) != 0)
        ug_cli_die(UG_EXIT_USAGE, CMD, "export needs --op OP: softmax, log_softmax, logsumexp, xent, xent_dense, "
                                       "xent_grad or bce_logits%s%s%s",
                   op ? " (not '" : "", op ? op : "", op ? "')" : "");
    if (dtype == NULL || ug_dtype_from_name(dtype, &vs.dtype) != 0)
        ug_cli_die(UG_EXIT_USAGE, CMD, "export needs --dtype f32, f64 or bf16%s%s%s", dtype ? " (not '" : "",
                   dtype ? dtype : "", dtype ? "')" : "");
    if (out == NULL)
        ug_cli_die(UG_EXIT_USAGE, CMD, "export needs --out FILE");
    vs.seed = seed != NULL ? ug_parse_count(CMD, "seed", seed, 0) : DEFAULT_SEED;
    size_t nrows = rows != NULL ? (size_t)ug_parse_count(CMD, "rows", rows, 1) : 0;
    char rows_text[32];
    snprintf(rows_text, sizeof rows_text, "%zu", nrows);
    vs.rows = strdup(nrows ? rows_text : "default");
    for (size_t f = 0; f < ug_family_count(); f++) {
        const ug_family *fam = ug_family_at(f);
        if (!ug_family_supports(fam, vs.dtype))
            continue;
        ug_progress(CMD, "%s", fam->name);
        export_family(&vs, fam, nrows);
    }
    if (vs.op == UG_OP_XENT_DENSE)
        for (size_t f = 0; f < ug_family_count(); f++)
            if (ug_family_supports(ug_family_at(f), vs.dtype))
                export_smoothing(&vs, ug_family_at(f), nrows);
    export_boundaries(&vs);
    ug_progress_end();
    ug_vectors_write(CMD, out, &vs);
    printf("%zu vectors of %s %s (seed %llu) written to %s\n", vs.count, ug_op_name(vs.op), ug_dtype_name(vs.dtype),
           (unsigned long long)vs.seed, out);
    ug_vectors_free(&vs);
    return ug_cli_finish(CMD);
}

/* ---------------------------------------------------------------- score */

/* The stand-in kernel of an implementation whose outputs were read from a file: it
 * stores the outputs of the vector being judged (set just before each ug_judge_batch, and
 * cleared after it), rounded to the dtype, as a kernel would.  The judge sees it as any
 * other kernel: guard zone, untouched inputs, every output through ug_compare. */
static const double *replay_outputs;
static ug_dtype replay_dtype;
static ug_op replay_op;

static ug_status replay_kernel(const ug_problem *p)
{
    if (replay_outputs == NULL || p->y == NULL)
        return UG_ERR_ARG;
    size_t count = ug_output_count(replay_op, p->rows, p->n, p->reduction);
    for (size_t i = 0; i < count; i++)
        ug_store(replay_dtype, p->y, i, replay_outputs[i]);
    return UG_OK;
}

typedef struct scorer {
    const ug_vectors *vs;
    ug_kernel k;              /* the implementation (the registry row, or the stand-in) */
    int replay;               /* outputs from a file                                    */
    json_object *outputs;     /* {"<id>": [...]}                                        */
    json_object *skipped;     /* {"<id>": "why"}, or NULL                               */
    const char *outputs_path;
    char **groups;            /* families in order of first appearance; last: "all"    */
    size_t ngroups;
    ug_judge *j;              /* ngroups                                                */
    size_t scored, nskipped;
} scorer;

static size_t group_of(scorer *s, const char *family)
{
    for (size_t g = 0; g < s->ngroups; g++)
        if (strcmp(s->groups[g], family) == 0)
            return g;
    s->groups = realloc(s->groups, (s->ngroups + 1) * sizeof *s->groups);
    if (s->groups == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, CMD, "out of memory (groups)");
    s->groups[s->ngroups] = strdup(family);
    return s->ngroups++;
}

static void read_outputs(scorer *s, const char *path, const char *name)
{
    json_object *doc = ug_json_read_file(CMD, path), *v;
    const ug_vectors *vs = s->vs;
    if (!json_object_is_type(doc, json_type_object))
        ug_cli_die(UG_EXIT_USAGE, CMD, "%s: not a JSON object", path);
    if (!json_object_object_get_ex(doc, "format", &v) || strcmp(json_object_get_string(v), UG_OUTPUTS_FORMAT) != 0)
        ug_cli_die(UG_EXIT_USAGE, CMD, "%s: \"format\" is not \"%s\"", path, UG_OUTPUTS_FORMAT);
    if (!json_object_object_get_ex(doc, "version", &v) || json_object_get_int(v) != UG_VECTORS_VERSION)
        ug_cli_die(UG_EXIT_USAGE, CMD, "%s: \"version\" is not %d", path, UG_VECTORS_VERSION);
    if (!json_object_object_get_ex(doc, "op", &v) || strcmp(json_object_get_string(v), ug_op_name(vs->op)) != 0)
        ug_cli_die(UG_EXIT_USAGE, CMD, "%s: \"op\" is not \"%s\" (the vectors' op)", path, ug_op_name(vs->op));
    if (!json_object_object_get_ex(doc, "dtype", &v) ||
        strcmp(json_object_get_string(v), ug_dtype_name(vs->dtype)) != 0)
        ug_cli_die(UG_EXIT_USAGE, CMD, "%s: \"dtype\" is not \"%s\" (the vectors' dtype)", path,
                   ug_dtype_name(vs->dtype));
    if (!json_object_object_get_ex(doc, "outputs", &s->outputs) || !json_object_is_type(s->outputs, json_type_object))
        ug_cli_die(UG_EXIT_USAGE, CMD, "%s: no object \"outputs\" at the top level", path);
    if (json_object_object_get_ex(doc, "skipped", &s->skipped) && s->skipped != NULL &&
        !json_object_is_type(s->skipped, json_type_object))
        ug_cli_die(UG_EXIT_USAGE, CMD, "%s: \"skipped\" is not an object", path);
    json_object_get(s->outputs);
    if (s->skipped != NULL)
        json_object_get(s->skipped);
    const char *impl = name;
    if (impl == NULL && json_object_object_get_ex(doc, "implementation", &v) &&
        json_object_is_type(v, json_type_string))
        impl = json_object_get_string(v);
    s->k.name = strdup(impl != NULL ? impl : path);
    json_object_put(doc);
    /* every key must name a vector */
    json_object_object_foreach(s->outputs, key, val) {
        int64_t id;
        (void)val;
        if (ug_cli_parse_index(key, &id) != 0 || (size_t)id >= vs->count)
            ug_cli_die(UG_EXIT_USAGE, CMD, "%s: outputs \"%s\": no such vector (ids 0..%zu)", path, key,
                       vs->count - 1);
    }
}

/* The outputs of vector v from the file, or NULL when the file says it was skipped. */
static double *outputs_of(scorer *s, const ug_vector *v)
{
    char key[32];
    snprintf(key, sizeof key, "%zu", v->id);
    json_object *arr, *why;
    if (!json_object_object_get_ex(s->outputs, key, &arr)) {
        if (s->skipped != NULL && json_object_object_get_ex(s->skipped, key, &why))
            return NULL;
        ug_cli_die(UG_EXIT_USAGE, CMD, "%s: no outputs for vector %zu (%s), and it is not in \"skipped\"",
                   s->outputs_path, v->id, v->source);
    }
    if (!json_object_is_type(arr, json_type_array))
        ug_cli_die(UG_EXIT_USAGE, CMD, "%s: outputs \"%s\" is not an array", s->outputs_path, key);
    size_t len = json_object_array_length(arr);
    if (len != v->count)
        ug_cli_die(UG_EXIT_USAGE, CMD, "%s: outputs \"%s\" has %zu values; vector %zu (%s) has %zu outputs",
                   s->outputs_path, key, len, v->id, v->source, v->count);
    double *y = ug_cli_alloc(CMD, len, sizeof *y);
    for (size_t i = 0; i < len; i++) {
        char where[128];
        snprintf(where, sizeof where, "%s: outputs \"%s\"[%zu]", s->outputs_path, key, i);
        y[i] = ug_json_number(CMD, where, v->b->dtype, json_object_array_get_idx(arr, i));
    }
    return y;
}

/* The oracle again on v; its rounded values must be the file's expected ones. */
static void expect_vector(const scorer *s, const char *path, const ug_vector *v, ug_expect *e)
{
    ug_status st = ug_expect_init(e, v->b, v->red);
    if (st != UG_OK)
        ug_cli_die(UG_EXIT_USAGE, CMD, "%s: vector %zu (%s): the oracle refuses it: %s: %s", path, v->id, v->source,
                   ug_status_str(st), ug_last_error());
    for (size_t i = 0; i < e->count; i++)
        if (!ug_same_bits(v->b->dtype, e->exact[i].rounded, v->expected[i])) {
            char a[64], b[64];
            snprintf(a, sizeof a, "%a", v->expected[i]);
            snprintf(b, sizeof b, "%a", e->exact[i].rounded);
            ug_cli_die(UG_EXIT_USAGE, CMD,
                       "%s: vector %zu (%s): expected[%zu] is %s but the oracle says %s (the file was changed?)", path,
                       v->id, v->source, i, a, b);
        }
    (void)s;
}

static void judge_vector(scorer *s, const char *path, const ug_vector *v)
{
    double *y = NULL;
    if (s->replay && (y = outputs_of(s, v)) == NULL) {
        s->nskipped++;
        return;
    }
    ug_expect e;
    expect_vector(s, path, v, &e);
    replay_outputs = y;
    size_t g = group_of(s, v->family); /* every group exists already (cmd_score) */
    ug_judge *j = s->j;
    for (size_t which = 0; which < 2; which++) {
        ug_judge *jj = which == 0 ? &j[g] : &j[0];
        ug_status st = ug_judge_batch(jj, v->b, &e);
        if (st != UG_OK)
            ug_cli_die(UG_EXIT_INTERNAL, CMD, "judging vector %zu: %s", v->id, ug_status_str(st));
    }
    replay_outputs = NULL;
    free(y);
    ug_expect_free(&e);
    s->scored++;
}

/* The scalar production row of (op, dt): its claim is the bar an implementation is held
 * to (the same on every CPU, unlike ug_kernel_production). */
static const ug_kernel *scalar_production(ug_op op, ug_dtype dt)
{
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        if (k->op == op && k->dtype == dt && k->role == UG_ROLE_PRODUCTION && strcmp(k->isa, "scalar") == 0)
            return k;
    }
    return NULL;
}

static void print_header(void)
{
    printf("%-26s %-15s %11s %11s %11s %7s %5s %4s %4s %4s %4s %4s  %s\n", "implementation", "family", "max_ulp", "p50",
           "p99", "cr%", "over", "nan", "ovf", "inf", "zsgn", "err", "verdict");
}

static void print_line(const scorer *s, const char *group, const ug_judge *j)
{
    ug_judge_stats st = ug_judge_summary(j);
    char mx[32], p50[32], p99[32];
    ug_fmt_stat(mx, sizeof mx, st.max_ulp);
    ug_fmt_stat(p50, sizeof p50, st.p50);
    ug_fmt_stat(p99, sizeof p99, st.p99);
    printf("%-26.26s %-15s %11s %11s %11s %7.2f %5zu %4zu %4zu %4zu %4zu %4zu  %s\n", s->k.name, group, mx, p50, p99,
           st.pct_correct, j->over_bound, j->cls[UG_CMP_NAN_WRONG], j->cls[UG_CMP_OVERFLOW], j->cls[UG_CMP_INF_WRONG],
           j->cls[UG_CMP_ZERO_SIGN], j->kernel_errors, ug_verdict(&s->k, ug_judge_failed(j)));
}

static void print_worst(const scorer *s, const ug_judge_sample *w)
{
    if (w->input == NULL)
        return;
    const ug_vector *v = ug_vectors_by_row(s->vs, w->input->first_row);
    printf("    worst: vector %zu (%s)", v->id, v->source);
    for (size_t t = 0; t < v->ntags; t++)
        printf("%s%s", t ? ", " : " [", v->tags[t]);
    printf("%s\n", v->ntags ? "]" : "");
    if (w->status != UG_OK) {
        printf("      the implementation failed: %s\n", w->why);
        return;
    }
    char ulp[32];
    ug_fmt_stat(ulp, sizeof ulp, w->ulp);
    printf("      output %zu: computed ", w->output);
    ug_cli_print_value(stdout, w->computed);
    printf(", exact ");
    ug_cli_print_value(stdout, w->exact);
    printf(", %s ULP [%s]\n      x =", ulp, ug_cmp_class_name(w->cls));
    const ug_batch *b = v->b;
    for (size_t i = 0; i < b->rows * b->n && i < ROW_SHOWN; i++) {
        fputc(' ', stdout);
        ug_cli_print_value(stdout, ug_batch_get(b->dtype, b->x, i));
    }
    if (b->rows * b->n > ROW_SHOWN)
        printf(" \xe2\x80\xa6 (%zu values)", b->rows * b->n);
    fputc('\n', stdout);
}

static json_object *tags_json(const ug_vector *v)
{
    json_object *a = json_object_new_array();
    for (size_t t = 0; t < v->ntags; t++)
        json_object_array_add(a, ug_j_str(v->tags[t]));
    return a;
}

static json_object *worst_json(const scorer *s, const ug_judge *j, ug_inputs *in)
{
    if (j->worst.input == NULL)
        return NULL;
    const ug_vector *v = ug_vectors_by_row(s->vs, j->worst.input->first_row);
    json_object *o = json_object_new_object();
    ug_j_add(o, "vector", ug_j_size(v->id));
    ug_j_add(o, "family", ug_j_str(v->family));
    ug_j_add(o, "source", ug_j_str(v->source));
    ug_j_add(o, "tags", tags_json(v));
    ug_j_add(o, "sample", ug_sample_json(&j->worst, v->family, in));
    return o;
}

static json_object *stats_json(const scorer *s, const ug_judge *j, ug_inputs *in)
{
    ug_judge_stats st = ug_judge_summary(j);
    json_object *o = json_object_new_object();
    ug_j_add(o, "outputs", ug_j_size(st.outputs));
    double finite = 0; /* the largest error of an output not in violation */
    for (size_t i = 0; i < j->nerrs; i++)
        finite = isfinite(j->errs[i]) && j->errs[i] > finite ? j->errs[i] : finite;
    ug_j_add(o, "max_ulp", ug_j_stat(st.max_ulp));
    ug_j_add(o, "max_ulp_finite", ug_j_stat(finite));
    ug_j_add(o, "mean_ulp", ug_j_stat(st.mean_ulp));
    ug_j_add(o, "p50", ug_j_stat(st.p50));
    ug_j_add(o, "p99", ug_j_stat(st.p99));
    ug_j_add(o, "p999", ug_j_stat(st.p999));
    ug_j_add(o, "pct_correct", ug_j_stat(st.pct_correct));
    ug_j_add(o, "pct_faithful", ug_j_stat(st.pct_faithful));
    ug_j_add(o, "over_bound", ug_j_size(j->over_bound));
    ug_j_add(o, "violations", ug_j_size(ug_judge_violations(j)));
    json_object *cls = json_object_new_object();
    for (int c = 1; c < UG_CMP_CLASS_COUNT; c++)
        ug_j_add(cls, ug_cmp_class_name((ug_cmp_class)c), ug_j_size(j->cls[c]));
    ug_j_add(o, "violations_by_class", cls);
    ug_j_add(o, "kernel_errors", ug_j_size(j->kernel_errors));
    ug_j_add(o, "verdict", ug_j_str(ug_judge_failed(j) ? "FAIL" : "PASS"));
    ug_j_add(o, "worst", worst_json(s, j, in));
    return o;
}

static void write_score_json(const scorer *s, const char *path, const char *bound_src, const char *variant)
{
    ug_inputs in = {0};
    json_object *doc = json_object_new_object(), *groups = json_object_new_array();
    ug_j_add(doc, "format", ug_j_str(UG_SCORE_FORMAT));
    ug_j_add(doc, "version", json_object_new_int(UG_VECTORS_VERSION));
    ug_j_add(doc, "command", ug_j_str("vectors score"));
    ug_j_add(doc, "implementation", ug_j_str(s->k.name));
    ug_j_add(doc, "variant", ug_j_str(variant));
    ug_j_add(doc, "source", ug_j_str(s->replay ? "outputs" : "kernel"));
    ug_j_add(doc, "op", ug_j_str(ug_op_name(s->vs->op)));
    ug_j_add(doc, "dtype", ug_j_str(ug_dtype_name(s->vs->dtype)));
    ug_j_add(doc, "seed", json_object_new_int64((int64_t)s->vs->seed));
    ug_j_add(doc, "rows", ug_j_str(s->vs->rows));
    ug_j_add(doc, "vectors", ug_j_size(s->vs->count));
    ug_j_add(doc, "scored", ug_j_size(s->scored));
    ug_j_add(doc, "skipped", ug_j_size(s->nskipped));
    json_object *b = json_object_new_object();
    ug_j_add(b, "ulp", ug_j_stat(s->k.bound.ulp));
    ug_j_add(b, "per_n", ug_j_stat(s->k.bound.per_n));
    ug_j_add(b, "per_cond", ug_j_stat(s->k.bound.per_cond));
    ug_j_add(b, "from", ug_j_str(bound_src));
    ug_j_add(doc, "bound", b);
    for (size_t g = 1; g < s->ngroups; g++) {
        json_object *o = stats_json(s, &s->j[g], &in);
        json_object_object_add(o, "family", ug_j_str(s->groups[g]));
        json_object_array_add(groups, o);
    }
    ug_j_add(doc, "families", groups);
    ug_j_add(doc, "summary", stats_json(s, &s->j[0], &in));
    ug_j_add(doc, "inputs", ug_inputs_json(&in));
    ug_atomic_write_json(CMD, path, doc);
    json_object_put(doc);
}

static int cmd_score(int argc, char **argv)
{
    const char *vpath = NULL, *opath = NULL, *kname = NULL, *json = NULL, *bound = NULL, *name = NULL;
    const char *variant = NULL;
    const ug_cli_option opts[] = {{"vectors", &vpath, NULL}, {"outputs", &opath, NULL}, {"kernel", &kname, NULL},
                                  {"json", &json, NULL},     {"bound", &bound, NULL},   {"name", &name, NULL},
                                  {"variant", &variant, NULL}, {NULL, NULL, NULL}};
    ug_cli_parse(CMD, help_text, argc, argv, opts, NULL, 0);
    if (vpath == NULL)
        ug_cli_die(UG_EXIT_USAGE, CMD, "score needs --vectors FILE");
    if ((opath == NULL) == (kname == NULL))
        ug_cli_die(UG_EXIT_USAGE, CMD, "score needs one of --outputs FILE and --kernel NAME");
    double bound_ulp = -1;
    if (bound != NULL) {
        char *end;
        bound_ulp = strtod(bound, &end);
        if (*bound == '\0' || *end != '\0' || !(bound_ulp >= 0))
            ug_cli_die(UG_EXIT_USAGE, CMD, "--bound '%s': not a number >= 0", bound);
    }
    const ug_kernel *reg = NULL;
    if (kname != NULL && (reg = ug_kernel_find(kname)) == NULL)
        ug_cli_die(UG_EXIT_USAGE, CMD, "unknown kernel '%s' (see ulpgate list)", kname);
    ug_vectors vs;
    ug_vectors_read(CMD, vpath, &vs);
    scorer s = {.vs = &vs, .outputs_path = opath};
    char bound_src[160];
    if (reg != NULL) {
        if (reg->op != vs.op || reg->dtype != vs.dtype)
            ug_cli_die(UG_EXIT_USAGE, CMD, "kernel %s is %s %s; the vectors are %s %s", reg->name,
                       ug_op_name(reg->op), ug_dtype_name(reg->dtype), ug_op_name(vs.op), ug_dtype_name(vs.dtype));
        s.k = *reg;
        s.k.name = strdup(name != NULL ? name : reg->name);
        snprintf(bound_src, sizeof bound_src, "the claim of %s", reg->name);
        if (!ug_kernel_available(reg)) {
            printf("%s: SKIP: this CPU cannot run %s code\n", reg->name, reg->isa);
            ug_vectors_free(&vs);
            free((char *)s.k.name);
            return ug_cli_finish(CMD);
        }
    } else {
        const ug_kernel *prod = scalar_production(vs.op, vs.dtype);
        s.replay = 1;
        read_outputs(&s, opath, name);
        s.k.op = vs.op;
        s.k.dtype = vs.dtype;
        s.k.algorithm = "external";
        s.k.isa = "scalar";
        s.k.fn = replay_kernel;
        s.k.role = UG_ROLE_PRODUCTION;
        s.k.desc = "outputs read from a file";
        s.k.bound = prod != NULL ? prod->bound : (ug_bound){0.5, 0, 0};
        snprintf(bound_src, sizeof bound_src, "the claim of %s", prod != NULL ? prod->name : "(none: 0.5)");
        replay_dtype = vs.dtype;
        replay_op = vs.op;
    }
    if (bound_ulp >= 0) {
        s.k.bound = (ug_bound){bound_ulp, 0, 0};
        snprintf(bound_src, sizeof bound_src, "--bound %s", bound);
    }
    /* judges: [0] all; the groups after it, as they appear */
    group_of(&s, "all");
    for (size_t i = 0; i < vs.count; i++)
        group_of(&s, vs.v[i].family);
    s.j = ug_cli_alloc(CMD, s.ngroups, sizeof *s.j);
    for (size_t g = 0; g < s.ngroups; g++)
        ug_judge_init(&s.j[g], &s.k);
    for (size_t i = 0; i < vs.count; i++) {
        ug_progress(CMD, "[%zu/%zu] %s", i + 1, vs.count, vs.v[i].source);
        judge_vector(&s, vpath, &vs.v[i]);
    }
    ug_progress_end();
    printf("%s: %s %s, %zu vectors (seed %llu), %zu scored, %zu skipped; bound: %s: %.6g ULP", s.k.name,
           ug_op_name(vs.op), ug_dtype_name(vs.dtype), vs.count, (unsigned long long)vs.seed, s.scored, s.nskipped, bound_src,
           s.k.bound.ulp);
    if (s.k.bound.per_n > 0)
        printf(" + %.3g n", s.k.bound.per_n);
    if (s.k.bound.per_cond > 0)
        printf(" + %.3g kappa", s.k.bound.per_cond);
    printf("\n");
    print_header();
    for (size_t g = 1; g < s.ngroups; g++) {
        print_line(&s, s.groups[g], &s.j[g]);
        print_worst(&s, &s.j[g].worst);
    }
    print_line(&s, "all", &s.j[0]);
    print_worst(&s, &s.j[0].worst);
    int failed = ug_judge_failed(&s.j[0]) && s.k.role != UG_ROLE_CANARY; /* as check: canaries never fail */
    if (json != NULL)
        write_score_json(&s, json, bound_src, variant != NULL ? variant : "");
    for (size_t g = 0; g < s.ngroups; g++) {
        ug_judge_free(&s.j[g]);
        free(s.groups[g]);
    }
    free(s.j);
    free(s.groups);
    if (s.outputs != NULL)
        json_object_put(s.outputs);
    if (s.skipped != NULL)
        json_object_put(s.skipped);
    free((char *)s.k.name);
    ug_vectors_free(&vs);
    int rc = ug_cli_finish(CMD);
    return rc != UG_EXIT_OK ? rc : failed ? UG_EXIT_FAIL : UG_EXIT_OK;
}

int ug_cmd_vectors(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "export") == 0)
        return cmd_export(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "score") == 0)
        return cmd_score(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0)
        ug_cli_die(UG_EXIT_USAGE, CMD, "unknown subcommand '%s' (export or score; see ulpgate vectors --help)",
                   argv[1]);
    if (argc < 2)
        ug_cli_die(UG_EXIT_USAGE, CMD, "export or score? (see ulpgate vectors --help)");
    const ug_cli_option none[] = {{NULL, NULL, NULL}};
    ug_cli_parse(CMD, help_text, argc, argv, none, NULL, 0);
    return ug_cli_finish(CMD);
}
