/* The gate's baseline file (baseline.h): read, write, compare. */
#include "baseline.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ulpgate/registry.h"

static const char *const metric_names[UG_M_COUNT] = {"max_ulp", "p99", "violations", "boundary"};

const char *ug_metric_name(ug_metric m) { return m < UG_M_COUNT ? metric_names[m] : "?"; }

static char *dup_str(const char *s)
{
    size_t len = strlen(s) + 1;
    char *d = ug_cli_alloc(NULL, len, 1);
    memcpy(d, s, len);
    return d;
}

void ug_baseline_add(ug_baseline *b, const char *kernel, const char *measure, ug_metric m, const char *text,
                     double value)
{
    b->v = ug_cli_grow(NULL, b->v, &b->cap, b->count + 1, sizeof *b->v);
    b->v[b->count++] = (ug_bline){dup_str(kernel), dup_str(measure), m, dup_str(text), value, 0};
}

void ug_baseline_add_ulp(ug_baseline *b, const char *kernel, const char *measure, ug_metric m, double ulp)
{
    char text[64];
    if (isinf(ulp) || isnan(ulp)) /* a violation: the judge counts its error as +inf */
        snprintf(text, sizeof text, "inf"), ulp = INFINITY;
    else
        snprintf(text, sizeof text, "%a", ulp);
    ug_baseline_add(b, kernel, measure, m, text, ulp);
}

void ug_baseline_add_count(ug_baseline *b, const char *kernel, const char *measure, size_t count)
{
    char text[32];
    snprintf(text, sizeof text, "%zu", count);
    ug_baseline_add(b, kernel, measure, UG_M_VIOLATIONS, text, (double)count);
}

/* Lines compare as the text "kernel measure metric" would, bytewise. */
static int key_cmp(const ug_bline *a, const ug_bline *b)
{
    int c = strcmp(a->kernel, b->kernel);
    if (c == 0)
        c = strcmp(a->measure, b->measure);
    return c != 0 ? c : strcmp(ug_metric_name(a->metric), ug_metric_name(b->metric));
}

static int line_cmp(const void *a, const void *b) { return key_cmp(a, b); }

int ug_baseline_sort(ug_baseline *b, const ug_bline **dup)
{
    if (b->count > 1)
        qsort(b->v, b->count, sizeof *b->v, line_cmp);
    for (size_t i = 1; i < b->count; i++)
        if (key_cmp(&b->v[i - 1], &b->v[i]) == 0) {
            *dup = &b->v[i];
            return -1;
        }
    return 0;
}

void ug_baseline_free(ug_baseline *b)
{
    for (size_t i = 0; i < b->count; i++) {
        free(b->v[i].kernel);
        free(b->v[i].measure);
        free(b->v[i].text);
    }
    free(b->v);
    memset(b, 0, sizeof *b);
}

/* ---------------------------------------------------------------- reading */

typedef struct reader {
    const char *cmd, *path;
    FILE *f;
    char *buf;
    size_t cap, line;
} reader;

/* The next line without its newline (CRLF accepted), or NULL at the end. */
static char *next_line(reader *r)
{
    errno = 0;
    ssize_t len = getline(&r->buf, &r->cap, r->f);
    if (len < 0) {
        if (ferror(r->f))
            ug_cli_die(UG_EXIT_IO, r->cmd, "cannot read %s: %s", r->path, strerror(errno));
        return NULL;
    }
    r->line++;
    if (len > 0 && r->buf[len - 1] == '\n')
        r->buf[--len] = '\0';
    if (len > 0 && r->buf[len - 1] == '\r')
        r->buf[--len] = '\0';
    if (strlen(r->buf) != (size_t)len)
        ug_cli_die_at(r->cmd, r->path, r->line, strlen(r->buf) + 1, "a NUL byte: not a text baseline");
    return r->buf;
}

static int parse_metric(const char *s, ug_metric *m)
{
    for (int i = 0; i < UG_M_COUNT; i++)
        if (strcmp(s, metric_names[i]) == 0) {
            *m = (ug_metric)i;
            return 0;
        }
    return -1;
}

/* A non-negative number: hex float, decimal, or inf (ULP figures). */
static int parse_ulp(const char *s, double *v)
{
    if (strcmp(s, "inf") == 0) {
        *v = INFINITY;
        return 0;
    }
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *s != '\0' && *end == '\0' && errno == 0 && isfinite(*v) && *v >= 0 && s[0] != '-' ? 0 : -1;
}

static int parse_value(ug_metric m, const char *s, double *v)
{
    int64_t n;
    char *end;
    switch (m) {
    case UG_M_VIOLATIONS:
        if (ug_cli_parse_index(s, &n) != 0)
            return -1;
        *v = (double)n;
        return 0;
    case UG_M_BOUNDARY:
        if (strcmp(s, "none") == 0) {
            *v = INFINITY;
            return 0;
        }
        errno = 0;
        *v = fabs(strtod(s, &end));
        return *s != '\0' && *end == '\0' && errno == 0 && isfinite(*v) ? 0 : -1;
    default: return parse_ulp(s, v);
    }
}

/* Split line into exactly 4 fields separated by single spaces; the column of field i. */
static int split(char *line, char *field[4], size_t col[4])
{
    size_t n = 0;
    char *p = line;
    while (n < 4) {
        if (*p == '\0' || *p == ' ')
            return -1;
        field[n] = p;
        col[n++] = (size_t)(p - line) + 1;
        while (*p != '\0' && *p != ' ')
            p++;
        if (*p == '\0')
            break;
        *p++ = '\0';
    }
    return n == 4 && strchr(field[3], ' ') == NULL ? 0 : -1;
}

static void read_measurement(reader *r, char *line, ug_baseline *b)
{
    char *fld[4];
    size_t col[4];
    ug_metric m;
    double v;
    if (split(line, fld, col) != 0)
        ug_cli_die_at(r->cmd, r->path, r->line, 1,
                      "damaged line: expected '<kernel> <measure> <metric> <value>' separated by single spaces");
    if (parse_metric(fld[2], &m) != 0)
        ug_cli_die_at(r->cmd, r->path, r->line, col[2], "unknown metric '%s' (max_ulp, p99, violations, boundary)",
                      fld[2]);
    if (parse_value(m, fld[3], &v) != 0)
        ug_cli_die_at(r->cmd, r->path, r->line, col[3], "bad %s value '%s'", fld[2], fld[3]);
    ug_baseline_add(b, fld[0], fld[1], m, fld[3], v);
    b->v[b->count - 1].line = r->line;
}

/* "# end: N" with N the number of measurement lines; -1 when line is not an end line. */
static long end_count(const char *line)
{
    int64_t n;
    if (strncmp(line, "# end: ", 7) != 0 || ug_cli_parse_index(line + 7, &n) != 0)
        return -1;
    return (long)n;
}

static void read_lines(reader *r, ug_baseline *b)
{
    char *line = next_line(r);
    if (line == NULL || strcmp(line, UG_BASELINE_MAGIC) != 0)
        ug_cli_die_at(r->cmd, r->path, 1, 1, "not a ulpgate baseline: the first line must be '%s'", UG_BASELINE_MAGIC);
    long end = -1;
    while ((line = next_line(r)) != NULL) {
        if (end >= 0)
            ug_cli_die_at(r->cmd, r->path, r->line, 1, "a line after the '# end' line");
        if (line[0] == '#')
            end = end_count(line);
        else if (line[0] == '\0')
            ug_cli_die_at(r->cmd, r->path, r->line, 1, "an empty line (a damaged baseline?)");
        else
            read_measurement(r, line, b);
    }
    if (end < 0)
        ug_cli_die_at(r->cmd, r->path, r->line + 1, 1, "cut short: no '# end: N' line after the last measurement");
    if ((size_t)end != b->count)
        ug_cli_die_at(r->cmd, r->path, r->line, 1, "the end line counts %ld measurements, the file has %zu", end,
                      b->count);
}

void ug_baseline_read(const char *cmd, const char *path, ug_baseline *b)
{
    reader r = {.cmd = cmd, .path = path};
    memset(b, 0, sizeof *b);
    r.f = fopen(path, "r");
    if (r.f == NULL)
        ug_cli_die(UG_EXIT_IO, cmd, "cannot open the baseline %s: %s", path, strerror(errno));
    read_lines(&r, b);
    fclose(r.f);
    free(r.buf);
    const ug_bline *dup;
    if (ug_baseline_sort(b, &dup) != 0)
        ug_cli_die_at(cmd, path, dup->line, 1, "a second line for %s %s %s", dup->kernel, dup->measure,
                      ug_metric_name(dup->metric));
}

void ug_baseline_write(FILE *f, const ug_baseline *b, const char *comment)
{
    fprintf(f, "%s\n%s", UG_BASELINE_MAGIC, comment);
    for (size_t i = 0; i < b->count; i++)
        fprintf(f, "%s %s %s %s\n", b->v[i].kernel, b->v[i].measure, ug_metric_name(b->v[i].metric), b->v[i].text);
    fprintf(f, "# end: %zu\n", b->count);
}

/* ---------------------------------------------------------------- comparison */

static const char *const change_names[] = {"worse", "gone", "disappeared", "better", "new"};

const char *ug_change_name(ug_change c) { return change_names[c]; }

int ug_change_fails(ug_change c) { return c == UG_CH_WORSE || c == UG_CH_GONE || c == UG_CH_DISAPPEARED; }

/* How a measured line compares with its baseline line: -1 better, 0 same, 1 worse. */
static int direction(const ug_bline *old, const ug_bline *now)
{
    if (old->value == now->value)
        return 0;
    int larger = now->value > old->value;
    return now->metric == UG_M_BOUNDARY ? (larger ? -1 : 1) : (larger ? 1 : -1);
}

typedef struct diffs {
    ug_diff *v;
    size_t count, cap;
} diffs;

static void push(diffs *d, ug_change kind, const ug_bline *old, const ug_bline *now)
{
    d->v = ug_cli_grow(NULL, d->v, &d->cap, d->count + 1, sizeof *d->v);
    d->v[d->count++] = (ug_diff){kind, old, now};
}

/* A baseline line with no measurement: its kernel disappeared (reported once per kernel)
 * or the measurement is gone. */
static void push_missing(diffs *d, const ug_bline *old, const char **last_gone_kernel)
{
    if (ug_kernel_find(old->kernel) != NULL) {
        push(d, UG_CH_GONE, old, NULL);
        return;
    }
    if (*last_gone_kernel == NULL || strcmp(*last_gone_kernel, old->kernel) != 0)
        push(d, UG_CH_DISAPPEARED, old, NULL);
    *last_gone_kernel = old->kernel;
}

static int diff_order(const void *a, const void *b)
{
    const ug_diff *x = a, *y = b;
    if (x->kind != y->kind)
        return (int)x->kind - (int)y->kind;
    return key_cmp(x->old ? x->old : x->now, y->old ? y->old : y->now);
}

ug_diff *ug_baseline_compare(const ug_baseline *old, const ug_baseline *now, int (*keep)(const ug_bline *l, void *ctx),
                             void *ctx, size_t *count)
{
    diffs d = {0};
    const char *gone = NULL;
    size_t i = 0, j = 0;
    while (i < old->count || j < now->count) {
        const ug_bline *o = i < old->count ? &old->v[i] : NULL, *n = j < now->count ? &now->v[j] : NULL;
        int c = o == NULL ? 1 : n == NULL ? -1 : key_cmp(o, n);
        if (c < 0) {
            if (keep(o, ctx) || ug_kernel_find(o->kernel) == NULL)
                push_missing(&d, o, &gone);
            i++;
        } else if (c > 0) {
            push(&d, UG_CH_NEW, NULL, n);
            j++;
        } else {
            int dir = direction(o, n);
            if (dir != 0)
                push(&d, dir > 0 ? UG_CH_WORSE : UG_CH_BETTER, o, n);
            i++, j++;
        }
    }
    if (d.count > 1)
        qsort(d.v, d.count, sizeof *d.v, diff_order);
    *count = d.count;
    return d.v;
}
