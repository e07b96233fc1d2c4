/* Measuring kernels on the input families (measure.h): kernel selection, cells of inputs
 * and oracle answers, verdicts, statistics as text, progress. */
#include "measure.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* ---------------------------------------------------------------- options */

const ug_kernel **ug_select_kernels(const char *cmd, const char *name, size_t *count)
{
    if (name == NULL)
        ug_cli_die(UG_EXIT_USAGE, cmd, "missing --kernel NAME|all (see ulpgate list)");
    const ug_kernel **ks = ug_cli_alloc(cmd, ug_kernel_count(), sizeof *ks);
    *count = 0;
    if (strcmp(name, "all") == 0) {
        for (size_t i = 0; i < ug_kernel_count(); i++)
            ks[(*count)++] = ug_kernel_at(i);
        return ks;
    }
    if (strcmp(name, "plugins") == 0) { /* the rows --plugin libraries added (plugin.h) */
        for (size_t i = ug_kernel_builtin_count(); i < ug_kernel_count(); i++)
            ks[(*count)++] = ug_kernel_at(i);
        if (*count == 0)
            ug_cli_die(UG_EXIT_USAGE, cmd, "--kernel plugins: no plug-in loaded (--plugin PATH)");
        return ks;
    }
    ks[0] = ug_kernel_find(name);
    if (ks[0] == NULL)
        ug_cli_die(UG_EXIT_USAGE, cmd, "unknown kernel '%s' (see ulpgate list)", name);
    *count = 1;
    return ks;
}

uint64_t ug_parse_count(const char *cmd, const char *opt, const char *s, int64_t min)
{
    int64_t v;
    if (ug_cli_parse_index(s, &v) != 0 || v < min)
        ug_cli_die(UG_EXIT_USAGE, cmd, "--%s '%s': not an integer >= %lld", opt, s, (long long)min);
    return (uint64_t)v;
}

const char *ug_verdict(const ug_kernel *k, int failed)
{
    if (k->role == UG_ROLE_CANARY)
        return failed ? "CAUGHT" : "missed";
    return failed ? "FAIL" : "PASS";
}

void ug_fmt_stat(char *buf, size_t size, double v)
{
    if (isnan(v))
        snprintf(buf, size, "nan");
    else if (isinf(v))
        snprintf(buf, size, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, size, "%.6g%s", v, (v > 0.5 && v < 0.5000005) || (v > 1 && v < 1.000001) ? "+" : "");
}

/* ---------------------------------------------------------------- cells */

static size_t cell_index(ug_op op, ug_dtype dt, size_t fam)
{
    return ((size_t)op * UG_DTYPE_COUNT + (size_t)dt) * ug_family_count() + fam;
}

void ug_cells_init(ug_cells *cs, const char *cmd, const ug_kernel *const *kernels, size_t nkernels, uint64_t seed,
                   size_t rows, size_t rows_max)
{
    size_t count = cell_index(UG_OP_COUNT, 0, 0);
    *cs = (ug_cells){.cmd = cmd, .seed = seed, .rows = rows, .rows_max = rows_max};
    cs->c = ug_cli_alloc(cmd, count, sizeof *cs->c);
    memset(cs->c, 0, count * sizeof *cs->c);
    pthread_mutex_t *locks = ug_cli_alloc(cmd, count, sizeof *locks);
    for (size_t i = 0; i < count; i++)
        pthread_mutex_init(&locks[i], NULL);
    cs->locks = locks;
    cs->last_use = ug_cli_alloc(cmd, UG_OP_COUNT * UG_DTYPE_COUNT, sizeof *cs->last_use);
    memset(cs->last_use, 0, UG_OP_COUNT * UG_DTYPE_COUNT * sizeof *cs->last_use);
    for (size_t i = 0; i < nkernels; i++)
        cs->last_use[kernels[i]->op * UG_DTYPE_COUNT + kernels[i]->dtype] = i;
}

static void cell_free(ug_cell *e)
{
    for (size_t i = 0; e->ready && i < e->list.count; i++)
        ug_expect_free(&e->expect[i]);
    free(e->expect);
    ug_batch_list_free(&e->list);
    memset(e, 0, sizeof *e);
}

static size_t family_rows(const ug_cells *cs, const ug_family *f)
{
    if (cs->rows != 0)
        return cs->rows;
    return cs->rows_max != 0 && f->rows > cs->rows_max ? cs->rows_max : 0;
}

static void cell_make(ug_cells *cs, ug_cell *e, const ug_kernel *k, size_t fam)
{
    const ug_family *f = ug_family_at(fam);
    ug_status st = ug_family_generate(f, k->op, k->dtype, cs->seed, family_rows(cs, f), 0, &e->list);
    if (st != UG_OK)
        ug_cli_die(UG_EXIT_INTERNAL, cs->cmd, "family %s (%s %s): %s", f->name, ug_op_name(k->op),
                   ug_dtype_name(k->dtype), ug_status_str(st));
    e->expect = ug_cli_alloc(cs->cmd, e->list.count, sizeof *e->expect);
    for (size_t i = 0; i < e->list.count; i++) {
        st = ug_expect_init(&e->expect[i], e->list.items[i], UG_RED_NONE);
        if (st != UG_OK)
            ug_cli_die(UG_EXIT_INTERNAL, cs->cmd, "the oracle refused batch %zu of family %s (%s %s): %s: %s", i,
                       f->name, ug_op_name(k->op), ug_dtype_name(k->dtype), ug_status_str(st), ug_last_error());
    }
    e->ready = 1;
}

const ug_cell *ug_cells_get(ug_cells *cs, const ug_kernel *k, size_t fam)
{
    size_t i = cell_index(k->op, k->dtype, fam);
    pthread_mutex_t *lock = &((pthread_mutex_t *)cs->locks)[i];
    pthread_mutex_lock(lock);
    if (!cs->c[i].ready)
        cell_make(cs, &cs->c[i], k, fam);
    pthread_mutex_unlock(lock);
    return &cs->c[i];
}

void ug_cells_judge(ug_cells *cs, const ug_kernel *k, size_t fam, ug_judge *j)
{
    const ug_cell *e = ug_cells_get(cs, k, fam);
    ug_judge_init(j, k);
    ug_status st = ug_judge_list(j, &e->list, e->expect);
    if (st != UG_OK)
        ug_cli_die(UG_EXIT_INTERNAL, cs->cmd, "judging %s on %s: %s", k->name, ug_family_at(fam)->name,
                   ug_status_str(st));
}

void ug_cells_release(ug_cells *cs, const ug_kernel *k, size_t i)
{
    if (cs->last_use[k->op * UG_DTYPE_COUNT + k->dtype] != i)
        return;
    for (size_t f = 0; f < ug_family_count(); f++)
        cell_free(&cs->c[cell_index(k->op, k->dtype, f)]);
}

void ug_cells_free(ug_cells *cs)
{
    for (size_t i = 0; i < cell_index(UG_OP_COUNT, 0, 0); i++) {
        cell_free(&cs->c[i]);
        pthread_mutex_destroy(&((pthread_mutex_t *)cs->locks)[i]);
    }
    free(cs->locks);
    free(cs->c);
    free(cs->last_use);
    memset(cs, 0, sizeof *cs);
}

/* ---------------------------------------------------------------- pairs */

void ug_pairs_init(ug_pairs *p, const char *cmd, const ug_kernel *const *ks, size_t nk, const ug_family *only,
                   int skip_unavailable, const ug_split *split)
{
    size_t ncells = cell_index(UG_OP_COUNT, 0, 0), nf = ug_family_count(), next = 0;
    size_t *ordinal = ug_cli_alloc(cmd, ncells, sizeof *ordinal);
    for (size_t c = 0; c < ncells; c++)
        ordinal[c] = SIZE_MAX;
    *p = (ug_pairs){0};
    p->kernel = ug_cli_alloc(cmd, nk * nf, sizeof *p->kernel);
    p->family = ug_cli_alloc(cmd, nk * nf, sizeof *p->family);
    for (size_t i = 0; i < nk; i++) {
        if (skip_unavailable && !ug_kernel_available(ks[i]))
            continue;
        for (size_t f = 0; f < nf; f++) {
            const ug_family *fam = ug_family_at(f);
            if ((only != NULL && only != fam) || !ug_family_supports(fam, ks[i]->dtype))
                continue;
            size_t c = cell_index(ks[i]->op, ks[i]->dtype, f);
            if (ordinal[c] == SIZE_MAX)
                ordinal[c] = next++;
            if (!ug_split_owns(split, ordinal[c]))
                continue;
            p->kernel[p->count] = i;
            p->family[p->count++] = f;
        }
    }
    free(ordinal);
}

void ug_pairs_free(ug_pairs *p)
{
    free(p->kernel);
    free(p->family);
    memset(p, 0, sizeof *p);
}

/* ---------------------------------------------------------------- progress */

void ug_progress(const char *cmd, const char *fmt, ...)
{
    if (!isatty(STDERR_FILENO))
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\r\033[K%s: %s", cmd, msg); /* one call: whole lines from any thread */
    fflush(stderr);
}

void ug_progress_end(void)
{
    if (!isatty(STDERR_FILENO))
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
}
