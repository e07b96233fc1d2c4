/* Peers in the report (peers.h): score files read, sorted, written as tables. */
#include "peers.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "jsonout.h"
#include "report.h"
#include "vectors.h"

static char *dup_str(const char *cmd, const char *s)
{
    size_t len = strlen(s != NULL ? s : "") + 1;
    char *c = ug_cli_alloc(cmd, len, 1);
    memcpy(c, s != NULL ? s : "", len);
    return c;
}

/* ---------------------------------------------------------------- reading */

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *str(json_object *o, const char *key)
{
    json_object *v = get(o, key);
    return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* A statistic: a number, or "inf", "-inf", "nan" (SCHEMA.md conventions). */
static double stat_of(json_object *o, const char *key)
{
    json_object *v = get(o, key);
    if (v == NULL)
        return NAN;
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        return strcmp(s, "inf") == 0 ? INFINITY : strcmp(s, "-inf") == 0 ? -INFINITY : NAN;
    }
    return json_object_get_double(v);
}

static size_t count(json_object *o, const char *key)
{
    json_object *v = get(o, key);
    return v != NULL && json_object_is_type(v, json_type_int) ? (size_t)json_object_get_int64(v) : 0;
}

/* The worst vector in words. */
static char *worst_text(const char *cmd, json_object *w)
{
    if (w == NULL)
        return dup_str(cmd, "");
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (f == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, cmd, "out of memory (peers)");
    fprintf(f, "vector %zu (%s)", count(w, "vector"), str(w, "source") ? str(w, "source") : "?");
    json_object *tags = get(w, "tags");
    for (size_t t = 0; tags != NULL && t < json_object_array_length(tags); t++)
        fprintf(f, "%s%s", t ? ", " : " [", json_object_get_string(json_object_array_get_idx(tags, t)));
    if (tags != NULL && json_object_array_length(tags) > 0)
        fputc(']', f);
    json_object *s = get(w, "sample");
    if (str(s, "computed") != NULL) {
        char ulp[32];
        ug_report_num(ulp, sizeof ulp, stat_of(s, "ulp"));
        fprintf(f, ": output %zu computed %s, exact %s, %s ULP (%s)", count(s, "output"), str(s, "computed"),
                str(s, "exact"), ulp, str(s, "class") ? str(s, "class") : "?");
    } else if (str(s, "kernel_error") != NULL) {
        fprintf(f, ": the implementation failed (%s)", str(s, "kernel_error"));
    }
    if (fclose(f) != 0)
        ug_cli_die(UG_EXIT_INTERNAL, cmd, "out of memory (peers)");
    return buf;
}

/* Returns 0 when path is not a score file (format differs), 1 when read. */
static int load_file(const char *cmd, const char *path, const char *name, ug_peers *ps, int must)
{
    json_object *doc = ug_json_read_file(cmd, path);
    const char *fmt = str(doc, "format");
    if (fmt == NULL || strcmp(fmt, UG_SCORE_FORMAT) != 0) {
        json_object_put(doc);
        if (must)
            ug_cli_die(UG_EXIT_USAGE, cmd, "%s: not a score file (format %s; see ulpgate vectors score --json)", path,
                       UG_SCORE_FORMAT);
        return 0;
    }
    json_object *sum = get(doc, "summary");
    const char *impl = str(doc, "implementation"), *op = str(doc, "op"), *dt = str(doc, "dtype");
    if (sum == NULL || impl == NULL || op == NULL || dt == NULL)
        ug_cli_die(UG_EXIT_USAGE, cmd, "%s: a score file without implementation, op, dtype or summary", path);
    ps->p = realloc(ps->p, (ps->count + 1) * sizeof *ps->p);
    if (ps->p == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, cmd, "out of memory (peers)");
    ug_peer *p = &ps->p[ps->count++];
    memset(p, 0, sizeof *p);
    p->file = dup_str(cmd, name);
    p->impl = dup_str(cmd, impl);
    p->peer = dup_str(cmd, impl);
    p->peer[strcspn(p->peer, " ")] = '\0';
    p->variant = dup_str(cmd, str(doc, "variant"));
    p->op = dup_str(cmd, op);
    p->dtype = dup_str(cmd, dt);
    p->vectors = count(doc, "vectors");
    p->scored = count(doc, "scored");
    p->skipped = count(doc, "skipped");
    p->bound_from = dup_str(cmd, str(get(doc, "bound"), "from"));
    p->outputs = count(sum, "outputs");
    p->violations = count(sum, "violations");
    p->over_bound = count(sum, "over_bound");
    p->max_ulp = stat_of(sum, "max_ulp");
    p->max_ulp_finite = stat_of(sum, "max_ulp_finite");
    p->p99 = stat_of(sum, "p99");
    p->pct_correct = stat_of(sum, "pct_correct");
    p->verdict = dup_str(cmd, str(sum, "verdict"));
    p->worst = worst_text(cmd, get(sum, "worst"));
    json_object_put(doc);
    return 1;
}

static int op_rank(const char *op)
{
    ug_op o;
    return ug_op_from_name(op, &o) == 0 ? (int)o : 99;
}

static int dtype_rank(const char *dt)
{
    ug_dtype d;
    return ug_dtype_from_name(dt, &d) == 0 ? (int)d : 99;
}

static int peer_cmp(const char *a, const char *b)
{
    int ua = strcmp(a, "ulpgate") == 0, ub = strcmp(b, "ulpgate") == 0;
    return ua != ub ? ub - ua : strcmp(a, b);
}

static int row_cmp(const void *pa, const void *pb)
{
    const ug_peer *a = pa, *b = pb;
    int c = op_rank(a->op) - op_rank(b->op);
    if (c == 0)
        c = strcmp(a->variant, b->variant);
    if (c == 0)
        c = dtype_rank(a->dtype) - dtype_rank(b->dtype);
    if (c == 0)
        c = peer_cmp(a->peer, b->peer);
    if (c == 0)
        c = strcmp(a->impl, b->impl);
    return c != 0 ? c : strcmp(a->file, b->file);
}

static int name_cmp(const void *a, const void *b) { return peer_cmp(*(char *const *)a, *(char *const *)b); }

void ug_peers_load(const char *cmd, const char *path, ug_peers *ps)
{
    memset(ps, 0, sizeof *ps);
    struct stat st;
    if (stat(path, &st) != 0)
        ug_cli_die(UG_EXIT_IO, cmd, "--peers %s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        struct dirent **list;
        int n = scandir(path, &list, NULL, alphasort);
        if (n < 0)
            ug_cli_die(UG_EXIT_IO, cmd, "--peers %s: %s", path, strerror(errno));
        for (int i = 0; i < n; i++) {
            const char *name = list[i]->d_name;
            size_t len = strlen(name);
            if (name[0] != '.' && len > 5 && strcmp(name + len - 5, ".json") == 0) {
                char *full = ug_cli_alloc(cmd, strlen(path) + len + 2, 1);
                sprintf(full, "%s/%s", path, name);
                load_file(cmd, full, name, ps, 0);
                free(full);
            }
            free(list[i]);
        }
        free(list);
        if (ps->count == 0)
            ug_cli_die(UG_EXIT_USAGE, cmd, "--peers %s: no score files (ulpgate vectors score --json) in it", path);
    } else {
        const char *slash = strrchr(path, '/');
        load_file(cmd, path, slash ? slash + 1 : path, ps, 1);
    }
    qsort(ps->p, ps->count, sizeof *ps->p, row_cmp);
    for (size_t i = 0; i < ps->count; i++) {
        size_t k = 0;
        while (k < ps->nnames && strcmp(ps->names[k], ps->p[i].peer) != 0)
            k++;
        if (k < ps->nnames)
            continue;
        ps->names = realloc(ps->names, (ps->nnames + 1) * sizeof *ps->names);
        if (ps->names == NULL)
            ug_cli_die(UG_EXIT_INTERNAL, cmd, "out of memory (peers)");
        ps->names[ps->nnames++] = ps->p[i].peer;
    }
    qsort(ps->names, ps->nnames, sizeof *ps->names, name_cmp);
}

void ug_peers_free(ug_peers *ps)
{
    for (size_t i = 0; i < ps->count; i++) {
        ug_peer *p = &ps->p[i];
        free(p->file), free(p->impl), free(p->peer), free(p->variant), free(p->op), free(p->dtype);
        free(p->bound_from), free(p->verdict), free(p->worst);
    }
    free(ps->p);
    free(ps->names);
    memset(ps, 0, sizeof *ps);
}

/* ---------------------------------------------------------------- the summary grid */

/* Rows of the summary: runs of equal (op, variant, dtype) in the sorted list. */
static int same_row(const ug_peer *a, const ug_peer *b)
{
    return strcmp(a->op, b->op) == 0 && strcmp(a->variant, b->variant) == 0 && strcmp(a->dtype, b->dtype) == 0;
}

/* The cell of peer `name` in the row starting at i (ending before end): the largest
 * finite error and the violations, over the peer's implementations there. */
static void cell(char *buf, size_t size, const ug_peers *ps, size_t i, size_t end, const char *name)
{
    double mx = -1;
    size_t viol = 0;
    for (size_t k = i; k < end; k++)
        if (strcmp(ps->p[k].peer, name) == 0) {
            mx = fmax(mx, isnan(ps->p[k].max_ulp_finite) ? 0 : ps->p[k].max_ulp_finite);
            viol += ps->p[k].violations;
        }
    if (mx < 0) {
        snprintf(buf, size, "-");
        return;
    }
    char num[32];
    ug_report_num(num, sizeof num, mx);
    if (viol > 0)
        snprintf(buf, size, "%s (%zu viol.)", num, viol);
    else
        snprintf(buf, size, "%s", num);
}

static void row_label(char *buf, size_t size, const ug_peer *p)
{
    snprintf(buf, size, "%s%s%s%s", p->op, *p->variant ? " (" : "", p->variant, *p->variant ? ")" : "");
}

static const char PEERS_INTRO[] =
    "Every implementation measured on the same test vectors (`ulpgate vectors export`: every input family, "
    "boundary rows, mean-reduced batches, label smoothing) and scored by `ulpgate vectors score` with the judge "
    "of `ulpgate check`.  A cell is the largest ULP error of an output that is not a violation, then the number "
    "of special-value and overflow violations (NaN, inf, a wrong sign of zero where the oracle says otherwise).";

void ug_peers_md(FILE *f, const ug_peers *ps)
{
    if (ps == NULL)
        return;
    fprintf(f, "## Peers\n\n%s\n\n| op | dtype |", PEERS_INTRO);
    for (size_t k = 0; k < ps->nnames; k++)
        fprintf(f, " %s |", ps->names[k]);
    fprintf(f, "\n| --- | --- |");
    for (size_t k = 0; k < ps->nnames; k++)
        fprintf(f, " ---: |");
    fputc('\n', f);
    for (size_t i = 0, end; i < ps->count; i = end) {
        for (end = i + 1; end < ps->count && same_row(&ps->p[i], &ps->p[end]); end++)
            ;
        char label[128];
        row_label(label, sizeof label, &ps->p[i]);
        fprintf(f, "| %s | %s |", label, ps->p[i].dtype);
        for (size_t k = 0; k < ps->nnames; k++) {
            char c[64];
            cell(c, sizeof c, ps, i, end, ps->names[k]);
            fprintf(f, " %s |", c);
        }
        fputc('\n', f);
    }
    fprintf(f, "\n<details><summary>Every implementation, with its worst input</summary>\n\n"
               "| implementation | op | dtype | scored (skipped) | max ULP | p99 | %% CR | violations | over bar | "
               "worst input |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (size_t i = 0; i < ps->count; i++) {
        const ug_peer *p = &ps->p[i];
        char mx[32], p99[32];
        ug_report_num(mx, sizeof mx, p->max_ulp_finite);
        ug_report_num(p99, sizeof p99, p->p99);
        fprintf(f, "| `%s` | %s | %s | %zu (%zu) | %s | %s | %.2f | %zu | %zu | %s |\n", p->impl, p->op, p->dtype,
                p->scored, p->skipped, mx, p99, p->pct_correct, p->violations, p->over_bound, p->worst);
    }
    fprintf(f, "\n\"over bar\": outputs above the claim of ulpgate's scalar production kernel for the op and dtype.\n"
               "\n</details>\n\n");
}

void ug_peers_html(FILE *f, const ug_peers *ps)
{
    if (ps == NULL)
        return;
    fprintf(f, "<section id=\"peers\"><h2>Peers</h2>\n<p>");
    ug_html_esc(f, PEERS_INTRO);
    fprintf(f, "</p>\n<table><thead><tr><th>op</th><th>dtype</th>");
    for (size_t k = 0; k < ps->nnames; k++) {
        fputs("<th>", f);
        ug_html_esc(f, ps->names[k]);
        fputs("</th>", f);
    }
    fputs("</tr></thead><tbody>\n", f);
    for (size_t i = 0, end; i < ps->count; i = end) {
        for (end = i + 1; end < ps->count && same_row(&ps->p[i], &ps->p[end]); end++)
            ;
        char label[128];
        row_label(label, sizeof label, &ps->p[i]);
        fputs("<tr><td>", f);
        ug_html_esc(f, label);
        fputs("</td><td>", f);
        ug_html_esc(f, ps->p[i].dtype);
        fputs("</td>", f);
        for (size_t k = 0; k < ps->nnames; k++) {
            char c[64];
            cell(c, sizeof c, ps, i, end, ps->names[k]);
            fputs("<td class=\"n\">", f);
            ug_html_esc(f, c);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n<details><summary>Every implementation, with its worst input</summary>\n<table><thead><tr>"
          "<th>implementation</th><th>op</th><th>dtype</th><th>scored (skipped)</th><th>max ULP</th><th>p99</th>"
          "<th>% CR</th><th>violations</th><th>over bar</th><th>worst input</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < ps->count; i++) {
        const ug_peer *p = &ps->p[i];
        char mx[32], p99[32];
        ug_report_num(mx, sizeof mx, p->max_ulp_finite);
        ug_report_num(p99, sizeof p99, p->p99);
        fputs("<tr><td>", f);
        ug_html_esc(f, p->impl);
        fprintf(f, "</td><td>%s</td><td>%s</td><td class=\"n\">%zu (%zu)</td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%s</td><td class=\"n\">%.2f</td><td class=\"n\">%zu</td>"
                   "<td class=\"n\">%zu</td><td><code>",
                p->op, p->dtype, p->scored, p->skipped, mx, p99, p->pct_correct, p->violations, p->over_bound);
        ug_html_esc(f, p->worst);
        fputs("</code></td></tr>\n", f);
    }
    fputs("</tbody></table></details></section>\n", f);
}

json_object *ug_peers_json(const ug_peers *ps)
{
    if (ps == NULL)
        return NULL;
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < ps->count; i++) {
        const ug_peer *p = &ps->p[i];
        json_object *o = json_object_new_object();
        ug_j_add(o, "file", ug_j_str(p->file));
        ug_j_add(o, "peer", ug_j_str(p->peer));
        ug_j_add(o, "implementation", ug_j_str(p->impl));
        ug_j_add(o, "variant", ug_j_str(p->variant));
        ug_j_add(o, "op", ug_j_str(p->op));
        ug_j_add(o, "dtype", ug_j_str(p->dtype));
        ug_j_add(o, "vectors", ug_j_size(p->vectors));
        ug_j_add(o, "scored", ug_j_size(p->scored));
        ug_j_add(o, "skipped", ug_j_size(p->skipped));
        ug_j_add(o, "outputs", ug_j_size(p->outputs));
        ug_j_add(o, "max_ulp", ug_j_stat(p->max_ulp));
        ug_j_add(o, "max_ulp_finite", ug_j_stat(p->max_ulp_finite));
        ug_j_add(o, "p99", ug_j_stat(p->p99));
        ug_j_add(o, "pct_correct", ug_j_stat(p->pct_correct));
        ug_j_add(o, "violations", ug_j_size(p->violations));
        ug_j_add(o, "over_bound", ug_j_size(p->over_bound));
        ug_j_add(o, "bound_from", ug_j_str(p->bound_from));
        ug_j_add(o, "verdict", ug_j_str(p->verdict));
        ug_j_add(o, "worst", ug_j_str(p->worst));
        json_object_array_add(arr, o);
    }
    return arr;
}
