/* Reading rows of numbers; packing values into dtype arrays (rowio.h). */
#include "rowio.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cli.h"
#include "oracle.h"

/* Longest piece of a bad token quoted in a message. */
#define QUOTE_MAX 40

void ug_rowreader_open(ug_rowreader *rr, const char *cmd, const char *path)
{
    memset(rr, 0, sizeof *rr);
    rr->cmd = cmd;
    if (path == NULL || strcmp(path, "-") == 0) {
        rr->name = "<stdin>";
        rr->f = stdin;
        return;
    }
    rr->name = path;
    rr->f = fopen(path, "r");
    if (rr->f == NULL)
        ug_cli_die(UG_EXIT_IO, cmd, "cannot open '%s': %s", path, strerror(errno));
    rr->owned = 1;
}

void ug_rowreader_close(ug_rowreader *rr)
{
    if (rr->owned && rr->f != NULL)
        fclose(rr->f);
    free(rr->buf);
    memset(rr, 0, sizeof *rr);
}

void ug_row_free(ug_row *row)
{
    free(row->v);
    free(row->col);
    memset(row, 0, sizeof *row);
}

void ug_rowreader_fail(const ug_rowreader *rr, size_t line, size_t col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ug_cli_die_at(rr->cmd, rr->name, line, col, "%s", msg);
}

/* ---------------------------------------------------------------- one line */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static size_t skip_blanks(const char *s, size_t len, size_t i)
{
    while (i < len && is_blank(s[i]))
        i++;
    return i;
}

/* The line without its LF (and the CR of a CRLF). */
static size_t strip_eol(char *s, size_t len)
{
    if (len > 0 && s[len - 1] == '\n')
        len--;
    if (len > 0 && s[len - 1] == '\r')
        len--;
    s[len] = '\0';
    return len;
}

static int is_skipped(const char *s, size_t len)
{
    size_t i = skip_blanks(s, len, 0);
    return i == len || s[i] == '#';
}

static void push_value(const ug_rowreader *rr, ug_row *row, double v, size_t col)
{
    if (row->n == row->cap) {
        size_t cap = row->cap; /* v and col share one capacity */
        row->v = ug_cli_grow(rr->cmd, row->v, &cap, row->n + 1, sizeof *row->v);
        cap = row->cap;
        row->col = ug_cli_grow(rr->cmd, row->col, &cap, row->n + 1, sizeof *row->col);
        row->cap = cap;
    }
    row->v[row->n] = v;
    row->col[row->n] = col;
    row->n++;
}

/* The token s[start, end) (a NUL stands at end while it is parsed). */
static double parse_token(const ug_rowreader *rr, ug_dtype dt, char *s, size_t start, size_t end)
{
    char saved = s[end];
    s[end] = '\0';
    double v;
    int bad = ug_parse_number(s + start, dt, &v) != 0;
    s[end] = saved;
    if (bad) {
        size_t len = end - start;
        ug_rowreader_fail(rr, rr->line, start + 1, "malformed number '%.*s%s'", (int)(len > QUOTE_MAX ? QUOTE_MAX : len),
                          s + start, len > QUOTE_MAX ? "..." : "");
    }
    return v;
}

/* Split a line that is neither blank nor a comment into numbers. */
static void parse_line(const ug_rowreader *rr, ug_dtype dt, ug_row *row, char *s, size_t len)
{
    const char *nul = memchr(s, '\0', len);
    if (nul != NULL)
        ug_rowreader_fail(rr, rr->line, (size_t)(nul - s) + 1, "NUL byte in the input");
    row->n = 0;
    row->line = rr->line;
    size_t i = skip_blanks(s, len, 0);
    for (;;) {
        size_t start = i;
        while (i < len && !is_blank(s[i]) && s[i] != ',')
            i++;
        if (i == start)
            ug_rowreader_fail(rr, rr->line, start + 1, "empty field: a number is missing here");
        push_value(rr, row, parse_token(rr, dt, s, start, i), start + 1);
        row->end_col = i + 1;
        i = skip_blanks(s, len, i);
        if (i == len)
            return;
        if (s[i] == ',')
            i = skip_blanks(s, len, i + 1);
    }
}

int ug_rowreader_next(ug_rowreader *rr, ug_dtype dt, ug_row *row)
{
    for (;;) {
        errno = 0;
        ssize_t got = getline(&rr->buf, &rr->bufcap, rr->f);
        if (got < 0) {
            if (ferror(rr->f))
                ug_cli_die(UG_EXIT_IO, rr->cmd, "cannot read '%s': %s", rr->name, strerror(errno));
            if (!feof(rr->f))
                ug_cli_die(UG_EXIT_INTERNAL, rr->cmd, "reading '%s': %s", rr->name, strerror(errno));
            return 0;
        }
        rr->line++;
        size_t len = strip_eol(rr->buf, (size_t)got);
        if (is_skipped(rr->buf, len))
            continue;
        parse_line(rr, dt, row, rr->buf, len);
        return 1;
    }
}

/* ---------------------------------------------------------------- dtype arrays */

void ug_rowio_pack(ug_dtype dt, const double *v, size_t n, void *dst)
{
    for (size_t i = 0; i < n; i++) {
        switch (dt) {
        case UG_F32: ((float *)dst)[i] = (float)v[i]; break;
        case UG_F64: ((double *)dst)[i] = v[i]; break;
        case UG_BF16: ((ug_bf16 *)dst)[i] = ug_bf16_from_f32((float)v[i]); break;
        default: break;
        }
    }
}

double ug_rowio_unpack(ug_dtype dt, const void *src, size_t i)
{
    switch (dt) {
    case UG_F32: return ((const float *)src)[i];
    case UG_F64: return ((const double *)src)[i];
    case UG_BF16: return ug_bf16_to_f32(((const ug_bf16 *)src)[i]);
    default: return NAN;
    }
}
