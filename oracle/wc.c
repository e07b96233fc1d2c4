/* The worst-case line parser (format in wc.h and at the top of every props/data/ *.wc
 * file).  Moved here from props/prop_wc.c so that the property suite and the gate read the
 * files with one parser. */
#include "wc.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

enum { MAX_TARGETS = 64 };

typedef struct wc_head {
    unsigned ops, dtypes, reds;
    int64_t targets[MAX_TARGETS];
    size_t ntargets;
} wc_head;

static int set_error(char *err, size_t size, const char *msg, const char *at)
{
    snprintf(err, size, "%s: '%.40s'", msg, at);
    return -1;
}

/* A comma list of names into a bit set; `*` gives all. */
static int name_set(const char *tok, unsigned all, int (*from)(const char *, int *), unsigned *out)
{
    if (strcmp(tok, "*") == 0) {
        *out = all;
        return 0;
    }
    char buf[128];
    snprintf(buf, sizeof buf, "%s", tok);
    *out = 0;
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
        int v;
        if (from(p, &v) != 0)
            return -1;
        *out |= 1u << v;
    }
    return 0;
}

static int op_from(const char *s, int *v)
{
    ug_op op;
    int rc = ug_op_from_name(s, &op);
    *v = (int)op;
    return rc;
}

static int dtype_from(const char *s, int *v)
{
    ug_dtype dt;
    int rc = ug_dtype_from_name(s, &dt);
    *v = (int)dt;
    return rc;
}

static int red_from(const char *s, int *v)
{
    if (strcmp(s, "all") == 0) {
        *v = 3;
        return 0;
    }
    ug_reduction red;
    int rc = ug_reduction_from_name(s, &red);
    *v = (int)red;
    return rc;
}

static int parse_targets(const char *s, wc_head *h)
{
    char *end;
    h->ntargets = 0;
    while (*s != '\0' && h->ntargets < MAX_TARGETS) {
        long long t = strtoll(s, &end, 10);
        if (end == s || t < 0)
            return -1;
        h->targets[h->ntargets++] = t;
        s = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0')
            return -1;
    }
    return h->ntargets > 0 ? 0 : -1;
}

/* The part before ':'. */
static int parse_head(char *head, wc_head *h, char *err, size_t size)
{
    memset(h, 0, sizeof *h);
    h->reds = 1u << UG_RED_NONE;
    int field = 0;
    for (char *save = NULL, *tok = strtok_r(head, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
        if (field == 0 && name_set(tok, (1u << UG_OP_BCE_LOGITS) - 1, op_from, &h->ops) != 0)
            return set_error(err, size, "unknown op", tok);
        if (field == 1 && name_set(tok, (1u << UG_DTYPE_COUNT) - 1, dtype_from, &h->dtypes) != 0)
            return set_error(err, size, "unknown dtype", tok);
        if (field >= 2 && strncmp(tok, "target=", 7) == 0 && parse_targets(tok + 7, h) != 0)
            return set_error(err, size, "bad target list", tok);
        if (field >= 2 && strncmp(tok, "reduction=", 10) == 0) {
            unsigned r;
            if (name_set(tok + 10, 0, red_from, &r) != 0)
                return set_error(err, size, "unknown reduction", tok);
            h->reds = r == (1u << 3) ? 7u : r;
        } else if (field >= 2 && strncmp(tok, "target=", 7) != 0) {
            return set_error(err, size, "unknown field", tok);
        }
        field++;
    }
    return field >= 2 ? 0 : set_error(err, size, "expected OPS DTYPES", head);
}

/* One value token (without repetition) in dt. */
static int parse_value(const char *tok, ug_dtype dt, double *v)
{
    if (strcmp(tok, "max") == 0 || strcmp(tok, "-max") == 0) {
        *v = tok[0] == '-' ? -ug_dtype_max(dt) : ug_dtype_max(dt);
        return 0;
    }
    if (strcmp(tok, "sub") == 0 || strcmp(tok, "-sub") == 0) {
        *v = tok[0] == '-' ? -ug_dtype_min_subnormal(dt) : ug_dtype_min_subnormal(dt);
        return 0;
    }
    return ug_parse_number(tok, dt, v);
}

/* The rows of s (';'-separated) into a growing array; *n the common length. */
typedef struct values {
    double *v;
    size_t count, cap, rows, n;
} values;

static int push(values *vs, double v)
{
    if (vs->count == vs->cap) {
        size_t cap = vs->cap ? 2 * vs->cap : 64;
        double *p = realloc(vs->v, cap * sizeof *p);
        if (p == NULL)
            abort();
        vs->v = p, vs->cap = cap;
    }
    vs->v[vs->count++] = v;
    return 0;
}

static int parse_token(char *tok, ug_dtype dt, values *vs, char *err, size_t size)
{
    char *star = strchr(tok, '*');
    long reps = 1;
    if (star != NULL) {
        *star = '\0';
        char *end;
        reps = strtol(star + 1, &end, 10);
        if (end == star + 1 || *end != '\0' || reps < 1 || reps > 1000000)
            return set_error(err, size, "bad repetition", star + 1);
    }
    double v;
    if (parse_value(tok, dt, &v) != 0)
        return set_error(err, size, "bad number", tok);
    for (long i = 0; i < reps; i++)
        push(vs, v);
    return 0;
}

static int parse_rows(char *s, ug_dtype dt, values *vs, char *err, size_t size)
{
    memset(vs, 0, sizeof *vs);
    for (char *rs = NULL, *row = strtok_r(s, ";", &rs); row != NULL; row = strtok_r(NULL, ";", &rs)) {
        size_t before = vs->count;
        for (char *ts = NULL, *tok = strtok_r(row, " \t,", &ts); tok != NULL; tok = strtok_r(NULL, " \t,", &ts))
            if (parse_token(tok, dt, vs, err, size) != 0)
                return -1;
        size_t len = vs->count - before;
        if (len == 0 || (vs->rows > 0 && len != vs->n))
            return set_error(err, size, "rows must be non-empty and of one length", row);
        vs->n = len;
        vs->rows++;
    }
    return vs->rows > 0 ? 0 : set_error(err, size, "no row", s);
}

/* The batch for op in dt; dense: xent_grad's dense form.  NULL when out of memory. */
static ug_batch *make_batch(const wc_head *h, const values *x, const values *aux, ug_op op, ug_dtype dt, int dense)
{
    int sparse = op == UG_OP_XENT || (op == UG_OP_XENT_GRAD && !dense);
    int with_aux = op == UG_OP_XENT_DENSE || op == UG_OP_BCE_LOGITS || (op == UG_OP_XENT_GRAD && dense);
    ug_batch *b = ug_batch_new(op, dt, x->rows, x->n, sparse, with_aux);
    if (b == NULL)
        return NULL;
    for (size_t i = 0; i < x->count; i++)
        ug_store(dt, b->x, i, x->v[i]);
    for (size_t r = 0; r < x->rows; r++) {
        int64_t t = h->ntargets ? h->targets[r < h->ntargets ? r : h->ntargets - 1] : 0;
        if (sparse)
            b->target[r] = t;
        for (size_t i = 0; with_aux && i < x->n; i++)
            ug_store(dt, b->aux, r * x->n + i, aux->count ? aux->v[r * x->n + i] : (double)((int64_t)i == t));
    }
    return b;
}

int ug_wc_line(const char *line, const char *origin, ug_op op, ug_dtype dt, ug_wc_visit visit, void *ctx,
               char *err, size_t size)
{
    char *buf = strdup(line), *colon = buf ? strchr(buf, ':') : NULL;
    if (colon == NULL) {
        free(buf);
        return set_error(err, size, "expected ':'", line);
    }
    *colon = '\0';
    char *bar = strchr(colon + 1, '|');
    if (bar != NULL)
        *bar = '\0';
    wc_head h;
    values x = {0}, aux = {0};
    int rc = parse_head(buf, &h, err, size);
    if (rc == 0 && (!(h.ops >> op & 1u) || !(h.dtypes >> dt & 1u)))
        rc = 1; /* does not fit */
    if (rc == 0)
        rc = parse_rows(colon + 1, dt, &x, err, size);
    if (rc == 0 && bar != NULL)
        rc = parse_rows(bar + 1, dt, &aux, err, size);
    if (rc == 0 && bar != NULL && (aux.rows != x.rows || aux.n != x.n))
        rc = set_error(err, size, "the aux rows must match the logits rows", bar + 1);
    if (rc == 0 && h.ntargets == 0 && (op == UG_OP_XENT || (op == UG_OP_XENT_GRAD && bar == NULL)))
        rc = set_error(err, size, "this op needs target=", line);
    if (rc == 0 && bar == NULL && op == UG_OP_BCE_LOGITS)
        rc = set_error(err, size, "bce_logits needs labels after |", line);
    int forms[2], nforms = 0, added = 0;
    if (op != UG_OP_XENT_GRAD)
        forms[nforms++] = 0;
    if (op == UG_OP_XENT_GRAD && h.ntargets > 0)
        forms[nforms++] = 0; /* sparse */
    if (op == UG_OP_XENT_GRAD && bar != NULL)
        forms[nforms++] = 1; /* dense */
    for (int i = 0; rc == 0 && i < nforms; i++) {
        ug_batch *b = make_batch(&h, &x, &aux, op, dt, forms[i]);
        if (b == NULL)
            abort(); /* out of memory: as push() */
        visit(ctx, b, h.reds, origin);
        ug_batch_free(b);
        added++;
    }
    free(x.v);
    free(aux.v);
    free(buf);
    return rc < 0 ? -1 : added;
}

long ug_wc_file(const char *path, ug_op op, ug_dtype dt, ug_wc_visit visit, void *ctx, char *err, size_t size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return set_error(err, size, "cannot open", path);
    char *line = NULL, source[64] = "";
    size_t cap = 0, lineno = 0;
    long total = 0;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    while (total >= 0 && getline(&line, &cap, f) > 0) {
        lineno++;
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        s[strcspn(s, "\r\n")] = '\0';
        if (strncmp(s, "# from:", 7) == 0)
            snprintf(source, sizeof source, "%.60s", s + 8);
        if (*s == '\0' || *s == '#')
            continue;
        char origin[96];
        snprintf(origin, sizeof origin, "%s:%zu (%.60s)", base, lineno, source);
        int n = ug_wc_line(s, origin, op, dt, visit, ctx, err, size);
        if (n < 0) {
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s:%zu: %s", base, lineno, err);
            snprintf(err, size, "%s", tmp);
            total = -1;
        } else {
            total += n;
        }
    }
    if (total >= 0 && ferror(f))
        total = set_error(err, size, "cannot read", path);
    free(line);
    fclose(f);
    return total;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int ug_wc_files(const char *dir, char ***names)
{
    DIR *d = opendir(dir);
    size_t count = 0;
    *names = NULL;
    if (d == NULL)
        return -1;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".wc") != 0)
            continue;
        char **p = realloc(*names, (count + 1) * sizeof *p);
        size_t need = strlen(dir) + len + 2;
        if (p == NULL)
            abort();
        *names = p;
        if ((p[count] = malloc(need)) == NULL)
            abort();
        snprintf(p[count++], need, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (count > 0)
        qsort(*names, count, sizeof **names, by_name);
    return (int)count;
}

void ug_wc_files_free(char **names, int count)
{
    for (int i = 0; i < count; i++)
        free(names[i]);
    free(names);
}
