/* Reporting and writing a finding (finding.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "finding.h"
#include "../reports/plugin.h"

/* Everything the writers share. */
typedef struct finding {
    const ug_fuzz_target *t;
    const ug_fuzz_case *c;
    const ug_expect *e;           /* NULL for an oracle finding                        */
    const ug_judge *j;            /* NULL for an oracle finding                        */
    const ug_judge_sample *s;     /* the output most over its bound, or the kernel error */
    double *computed;             /* the kernel's outputs (count), NULL if it refused   */
    size_t count;
    const char *who;              /* kernel name, or "oracle"                          */
    char kind[256];               /* one line: what went wrong                         */
    const char *tag;              /* over-bound, violation, kernel-error, oracle-error */
    char hash[17];
    char base[1024];              /* UG_FUZZ_OUT/finding-<who>-<hash>                  */
    char opts[160];               /* --target, --label, --reduction                   */
    char run_cmd[1400], exact_cmd[1400];
} finding;

/* ---------------------------------------------------------------- values */

static void put_value(FILE *f, double v)
{
    if (isnan(v))
        fputs("nan", f);
    else
        fprintf(f, "%a", v);
}

static void put_values(FILE *f, const char *sep, ug_dtype dt, const void *a, size_t from, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fputs(i > 0 ? sep : "", f);
        put_value(f, ug_batch_get(dt, a, from + i));
    }
}

/* A JSON string of hex floats: ["0x1p+0", "-inf", ...]. */
static void put_json_values(FILE *f, ug_dtype dt, const void *a, size_t from, size_t n)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        fputs(i > 0 ? ", \"" : "\"", f);
        put_value(f, ug_batch_get(dt, a, from + i));
        fputc('"', f);
    }
    fputc(']', f);
}

static void put_json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fprintf(f, "\"%s\"", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
}

/* A string for JSON: our strings hold no quote, backslash or control character but a
 * kernel's message might; replace them. */
static void put_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++)
        fputc(*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 ? '\'' : *s, f);
    fputc('"', f);
}

/* ---------------------------------------------------------------- preparing */

static const char *cli_path(void)
{
    const char *env = getenv("UG_FUZZ_CLI");
    if (env != NULL && env[0] != '\0')
        return env;
#ifdef UG_CLI_PATH
    if (access(UG_CLI_PATH, X_OK) == 0)
        return UG_CLI_PATH;
#endif
    return "ulpgate";
}

static void make_options(finding *f)
{
    const ug_fuzz_case *c = f->c;
    size_t len = 0;
    f->opts[0] = '\0';
    if (c->sparse)
        len += (size_t)snprintf(f->opts + len, sizeof f->opts - len, " --target %lld", (long long)c->target);
    if (c->labelled)
        len += (size_t)snprintf(f->opts + len, sizeof f->opts - len, " --label %a", c->label);
    if (c->red != UG_RED_NONE)
        snprintf(f->opts + len, sizeof f->opts - len, " --reduction %s", ug_reduction_name(c->red));
}

static void make_names(finding *f, const ug_fuzz_config *cfg, const uint8_t *data, size_t size)
{
    const ug_batch *b = f->c->b;
    snprintf(f->hash, sizeof f->hash, "%016llx", (unsigned long long)ug_fuzz_hash(data, size));
    snprintf(f->base, sizeof f->base, "%s/finding-%s-%s", cfg->out_dir, f->who, f->hash);
    make_options(f);
    const char *cli = cli_path();
    long lib = f->j != NULL ? ug_plugin_of(f->j->k) : -1; /* a plug-in's kernel: load it too */
    if (f->c->k != NULL && f->j != NULL)
        snprintf(f->run_cmd, sizeof f->run_cmd, "%s run%s%s --kernel %s%s %s.txt", cli, lib >= 0 ? " --plugin " : "",
                 lib >= 0 ? ug_plugin_path((size_t)lib) : "", f->j->k->name, f->opts, f->base);
    else
        f->run_cmd[0] = '\0';
    snprintf(f->exact_cmd, sizeof f->exact_cmd, "%s exact --op %s --dtype %s%s %s.txt", cli, ug_op_name(b->op),
             ug_dtype_name(b->dtype), f->opts, f->base);
}

static void make_kind(finding *f)
{
    const ug_judge_sample *s = f->s;
    if (s->status != UG_OK) {
        f->tag = "kernel-error";
        snprintf(f->kind, sizeof f->kind, "kernel error (%s): status %d, %s", s->why ? s->why : "?", (int)s->status,
                 ug_status_str(s->status));
    } else if (s->cls != UG_CMP_OK) {
        f->tag = "violation";
        snprintf(f->kind, sizeof f->kind, "special-value violation (%s): computed %a where the exact value is %a",
                 ug_cmp_class_name(s->cls), s->computed, s->exact);
    } else {
        f->tag = "over-bound";
        snprintf(f->kind, sizeof f->kind, "over its claimed bound: %.6g ULP > %.6g (kappa %.4g)", s->ulp, s->bound,
                 s->kappa);
    }
}

/* Run the kernel once more (it is deterministic) to print every output. */
static void recompute(finding *f)
{
    const ug_batch *b = f->c->b;
    f->count = ug_output_count(b->op, b->rows, b->n, f->c->red);
    void *y = calloc(f->count + 1, ug_dtype_size(b->dtype));
    f->computed = malloc((f->count + 1) * sizeof *f->computed);
    if (y == NULL || f->computed == NULL)
        abort();
    ug_problem p = ug_batch_problem(b, f->c->red, y);
    if (f->j->k->fn(&p) == UG_OK) {
        for (size_t i = 0; i < f->count; i++)
            f->computed[i] = ug_batch_get(b->dtype, y, i);
    } else {
        free(f->computed);
        f->computed = NULL;
    }
    free(y);
}

/* ---------------------------------------------------------------- the .txt (run/exact input) */

static void write_rows(FILE *out, const ug_fuzz_case *c)
{
    const ug_batch *b = c->b;
    for (size_t r = 0; r < b->rows; r++) {
        put_values(out, " ", b->dtype, b->x, r * b->n, b->n);
        fputc('\n', out);
        if (c->dense) {
            put_values(out, " ", b->dtype, b->aux, r * b->n, b->n);
            fputc('\n', out);
        }
    }
}

static void write_txt(const finding *f)
{
    char path[1100];
    snprintf(path, sizeof path, "%s.txt", f->base);
    FILE *out = fopen(path, "w");
    if (out == NULL) {
        perror(path);
        return;
    }
    fprintf(out, "# ulpgate fuzz finding, fuzz target %s, input %s\n", f->t->name, f->hash);
    fprintf(out, "# %s: %s\n", f->who, f->kind);
    if (f->s != NULL && f->s->status == UG_OK)
        fprintf(out, "# output %zu (row %zu, column %zu%s): computed %a, exact %a (unrounded %s)\n", f->s->output,
                f->s->row, f->s->col, f->s->reduced ? ", reduced" : "", f->s->computed, f->s->exact, f->s->exact_hex);
    fprintf(out, "# replay (each row is one call%s):\n", f->c->dense ? "; a probability row follows each row" : "");
    if (f->run_cmd[0] != '\0')
        fprintf(out, "#   %s\n", f->run_cmd);
    fprintf(out, "#   %s\n", f->exact_cmd);
    write_rows(out, f->c);
    fclose(out);
}

/* ---------------------------------------------------------------- the .wc line */

/* Every row of a (rows x n) array of b's dtype, rows separated by " ; ". */
static void put_rows(FILE *out, const ug_batch *b, const void *a)
{
    for (size_t r = 0; r < b->rows; r++) {
        fputs(r > 0 ? " ; " : "", out);
        put_values(out, " ", b->dtype, a, r * b->n, b->n);
    }
}

void ug_fuzz_write_wc_case(FILE *out, const ug_fuzz_case *c)
{
    const ug_batch *b = c->b;
    fprintf(out, "%s %s", ug_op_name(b->op), ug_dtype_name(b->dtype));
    if (c->sparse)
        fprintf(out, " target=%lld", (long long)c->target);
    if (c->red != UG_RED_NONE)
        fprintf(out, " reduction=%s", ug_reduction_name(c->red));
    fputs(" : ", out);
    put_rows(out, b, b->x);
    if (b->aux != NULL) {
        fputs(" | ", out);
        put_rows(out, b, b->aux);
    }
    fputc('\n', out);
}

static void write_wc(const finding *f)
{
    char path[1100];
    snprintf(path, sizeof path, "%s.wc", f->base);
    FILE *out = fopen(path, "w");
    if (out == NULL) {
        perror(path);
        return;
    }
    fprintf(out, "# from: fuzz/%s.c %s, %s\n", f->t->name, f->hash, f->who);
    fprintf(out, "# %s %s\n", f->who, f->kind);
    ug_fuzz_write_wc_case(out, f->c);
    fclose(out);
}

/* ---------------------------------------------------------------- the .input */

/* The input itself, made portable (ug_fuzz_portable): for fuzz/regress/. */
static void write_input(const finding *f, const ug_fuzz_config *cfg, const uint8_t *data, size_t size)
{
    char path[1100];
    snprintf(path, sizeof path, "%s.input", f->base);
    uint8_t *buf = malloc(size + UG_FUZZ_TAIL);
    FILE *out = buf != NULL ? fopen(path, "wb") : NULL;
    if (out == NULL) {
        perror(path);
        free(buf);
        return;
    }
    size_t len = ug_fuzz_portable(f->t, cfg, data, size, buf);
    fwrite(buf, 1, len, out);
    fclose(out);
    free(buf);
}

/* ---------------------------------------------------------------- the .json record */

static void write_json_sample(FILE *out, const finding *f)
{
    const ug_judge_sample *s = f->s;
    fprintf(out, "  \"class\": \"%s\",\n  \"ulp\": ", ug_cmp_class_name(s->cls));
    put_json_number(out, s->ulp);
    fputs(",\n  \"bound\": ", out);
    put_json_number(out, s->bound);
    fputs(",\n  \"kappa\": ", out);
    put_json_number(out, s->kappa);
    fprintf(out, ",\n  \"output\": %zu,\n  \"row\": %zu,\n  \"col\": %zu,\n  \"reduced\": %s,\n", s->output, s->row,
            s->col, s->reduced ? "true" : "false");
    fputs("  \"computed\": \"", out);
    put_value(out, s->computed);
    fputs("\",\n  \"exact\": \"", out);
    put_value(out, s->exact);
    fprintf(out, "\",\n  \"exact_unrounded\": \"%s\",\n", s->exact_hex);
}

static void write_json_input(FILE *out, const finding *f)
{
    const ug_batch *b = f->c->b;
    fputs("  \"rows\": [", out);
    for (size_t r = 0; r < b->rows; r++) {
        fputs(r > 0 ? ", " : "", out);
        put_json_values(out, b->dtype, b->x, r * b->n, b->n);
    }
    fputs("],\n  \"probabilities\": ", out);
    if (f->c->dense) {
        fputc('[', out);
        for (size_t r = 0; r < b->rows; r++) {
            fputs(r > 0 ? ", " : "", out);
            put_json_values(out, b->dtype, b->aux, r * b->n, b->n);
        }
        fputc(']', out);
    } else {
        fputs("null", out);
    }
    fputs(",\n  \"target_index\": ", out);
    f->c->sparse ? fprintf(out, "%lld", (long long)f->c->target) : fprintf(out, "null");
    fputs(",\n  \"label\": ", out);
    f->c->labelled ? fprintf(out, "\"%a\"", f->c->label) : fprintf(out, "null");
    fprintf(out, ",\n  \"reduction\": \"%s\",\n", ug_reduction_name(f->c->red));
}

static void write_json(const finding *f)
{
    char path[1100];
    snprintf(path, sizeof path, "%s.json", f->base);
    FILE *out = fopen(path, "w");
    if (out == NULL) {
        perror(path);
        return;
    }
    const ug_kernel *k = f->j != NULL ? f->j->k : NULL;
    fprintf(out, "{\n  \"fuzz_target\": \"%s\",\n  \"input_fnv1a\": \"%s\",\n", f->t->name, f->hash);
    fprintf(out, "  \"kernel\": \"%s\",\n  \"role\": \"%s\",\n", f->who, k != NULL ? ug_role_name(k->role) : "oracle");
    fprintf(out, "  \"op\": \"%s\",\n  \"dtype\": \"%s\",\n", ug_op_name(f->c->b->op), ug_dtype_name(f->c->b->dtype));
    fprintf(out, "  \"kind\": \"%s\",\n  \"what\": ", f->tag);
    put_json_string(out, f->kind);
    fputs(",\n", out);
    if (f->s != NULL && f->s->status == UG_OK)
        write_json_sample(out, f);
    write_json_input(out, f);
    fputs("  \"replay\": [", out);
    if (f->run_cmd[0] != '\0') {
        put_json_string(out, f->run_cmd);
        fputs(", ", out);
    }
    put_json_string(out, f->exact_cmd);
    fprintf(out, "],\n  \"files\": [\"%s.txt\", \"%s.wc\", \"%s.input\"]\n}\n", f->base, f->base, f->base);
    fclose(out);
}

/* ---------------------------------------------------------------- the report */

static void report_outputs(const finding *f)
{
    size_t shown = f->count < 64 ? f->count : 64;
    fprintf(stderr, "  outputs      %zu%s (computed / exact / ULP error):\n", f->count,
            shown < f->count ? ", the first 64" : "");
    for (size_t i = 0; i < shown; i++) {
        fprintf(stderr, "    [%zu] ", i);
        if (f->computed != NULL)
            put_value(stderr, f->computed[i]);
        fputs(" / ", stderr);
        put_value(stderr, f->e->exact[i].rounded);
        if (i < f->j->nerrs)
            fprintf(stderr, " / %.4g", f->j->errs[i]);
        fputs(i == f->s->output && f->s->status == UG_OK ? "   <--\n" : "\n", stderr);
    }
}

static void report_rows(const finding *f)
{
    const ug_batch *b = f->c->b;
    for (size_t r = 0; r < b->rows; r++) {
        fprintf(stderr, "  row %zu        (n = %zu) ", r, b->n);
        put_values(stderr, " ", b->dtype, b->x, r * b->n, b->n);
        fputc('\n', stderr);
        if (f->c->dense) {
            fprintf(stderr, "  probs %zu      ", r);
            put_values(stderr, " ", b->dtype, b->aux, r * b->n, b->n);
            fputc('\n', stderr);
        }
    }
    if (f->c->sparse)
        fprintf(stderr, "  target       %lld (every row)\n", (long long)f->c->target);
    if (f->c->labelled)
        fprintf(stderr, "  label        %a (every element)\n", f->c->label);
    if (f->c->red != UG_RED_NONE)
        fprintf(stderr, "  reduction    %s over %zu rows\n", ug_reduction_name(f->c->red), b->rows);
}

static void report(const finding *f)
{
    const ug_kernel *k = f->j != NULL ? f->j->k : NULL;
    fprintf(stderr, "\n==ulpgate-fuzz== FINDING in fuzz target '%s': %s (%s, %s %s)\n", f->t->name, f->who,
            k != NULL ? ug_role_name(k->role) : "oracle", ug_op_name(f->c->b->op), ug_dtype_name(f->c->b->dtype));
    fprintf(stderr, "  what         %s\n", f->kind);
    if (f->s != NULL && f->s->status == UG_OK) {
        fprintf(stderr, "  output       %zu (row %zu, column %zu%s)\n", f->s->output, f->s->row, f->s->col,
                f->s->reduced ? ", the reduced loss" : "");
        fprintf(stderr, "  computed     %a\n  exact        %a (correctly rounded)\n", f->s->computed, f->s->exact);
        fprintf(stderr, "  unrounded    %s\n", f->s->exact_hex);
    }
    report_rows(f);
    if (f->j != NULL)
        report_outputs(f);
    fprintf(stderr, "  files        %s.txt (.wc, .json, .input)\n  reproduce\n", f->base);
    if (f->run_cmd[0] != '\0')
        fprintf(stderr, "    %s\n", f->run_cmd);
    fprintf(stderr, "    %s\n", f->exact_cmd);
    fprintf(stderr, "    fuzz_%s_replay %s.input   (the input itself, as the fuzz target reads it)\n\n", f->t->name,
            f->base);
}

static _Noreturn void finish(finding *f, const ug_fuzz_config *cfg, const uint8_t *data, size_t size)
{
    mkdir(cfg->out_dir, 0777); /* may exist already; a failure shows when writing */
    write_input(f, cfg, data, size);
    write_txt(f);
    if (f->j != NULL)
        write_wc(f);
    write_json(f);
    if (!cfg->quiet)
        report(f);
    free(f->computed);
    fflush(NULL);
    abort();
}

_Noreturn void ug_fuzz_stop_kernel(const ug_fuzz_target *t, const ug_fuzz_config *cfg, const ug_fuzz_case *c,
                                   const ug_expect *e, const ug_judge *j, const uint8_t *data, size_t size)
{
    finding f = {.t = t, .c = c, .e = e, .j = j, .who = j->k->name};
    f.s = j->excess.input != NULL ? &j->excess : &j->worst;
    make_names(&f, cfg, data, size);
    make_kind(&f);
    recompute(&f);
    finish(&f, cfg, data, size);
}

_Noreturn void ug_fuzz_stop_oracle(const ug_fuzz_target *t, const ug_fuzz_config *cfg, const ug_fuzz_case *c,
                                   ug_status st, const uint8_t *data, size_t size)
{
    finding f = {.t = t, .c = c, .who = "oracle", .tag = "oracle-error"};
    make_names(&f, cfg, data, size);
    snprintf(f.kind, sizeof f.kind, "the oracle refused a valid input: status %d, %s: %s", (int)st,
             ug_status_str(st), ug_last_error());
    finish(&f, cfg, data, size);
}
