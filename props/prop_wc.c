/* The case lines of the worst-case files (props/data/ *.wc) and of the special-value
 * table (prop_special.c) as prop_cases.  The one parser is oracle/wc.c (the format is in
 * oracle/wc.h and at the top of every .wc file); this file only turns its batches into
 * prop_cases and names the folder. */
#include <stdlib.h>

#include "generic.h"
#include "wc.h"

#ifndef UG_PROPS_DIR
#error "UG_PROPS_DIR must name the props/ folder"
#endif

typedef struct collect {
    prop_cases *out;
    unsigned reds;
} collect;

static void collect_case(void *ctx, const ug_batch *b, unsigned reds, const char *origin)
{
    collect *c = ctx;
    prop_cases_add(c->out, prop_case_from_batch(b, origin));
    c->reds = reds;
}

int prop_wc_cases(const char *line, const char *origin, ug_op op, ug_dtype dt, prop_cases *out, unsigned *reds,
                  char *err, size_t size)
{
    collect c = {out, 1u << UG_RED_NONE};
    int n = ug_wc_line(line, origin, op, dt, collect_case, &c, err, size);
    *reds = c.reds;
    return n;
}

typedef struct forward {
    prop_wc_visit visit;
    void *ctx;
} forward;

static void forward_case(void *ctx, const ug_batch *b, unsigned reds, const char *origin)
{
    forward *f = ctx;
    prop_case *c = prop_case_from_batch(b, origin);
    f->visit(f->ctx, c, reds);
    prop_case_free(c);
}

int prop_wc_file_cases(const char *path, ug_op op, ug_dtype dt, prop_wc_visit visit, void *ctx, char *err,
                       size_t size)
{
    forward f = {visit, ctx};
    return ug_wc_file(path, op, dt, forward_case, &f, err, size) < 0 ? -1 : 0;
}

int prop_wc_files(char ***names) { return ug_wc_files(UG_PROPS_DIR "/data", names); }

void prop_wc_files_free(char **names, int count) { ug_wc_files_free(names, count); }
