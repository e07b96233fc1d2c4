/* Reading rows of numbers (the input of run, exact and the replay of worst-case files),
 * and moving values between doubles and dtype arrays.
 *
 * Input format (UG_ROWIO_HELP_INPUT says the same to the user):
 *   - one row per line; a line is ended by LF or CRLF and may be of any length;
 *   - blank lines, and lines whose first non-blank character is `#`, are skipped;
 *   - numbers are separated by blanks (space, tab) and/or one comma; an empty field
 *     (`1,,2`, a leading or a trailing comma) is an error, not a zero or a NaN;
 *   - a number is a decimal (`-1.5e-3`, `.5`, `1.`), a C99 hex float (`0x1.8p-3`,
 *     the `p` exponent optional), or inf, +inf, -inf, infinity, nan (any case);
 *   - each number is rounded once, correctly (round-to-nearest-even, subnormals and
 *     overflow to inf as in the dtype), to the dtype: ug_parse_number (oracle/parse.c).
 * Values are handed out as doubles that hold the dtype value exactly.
 */
#ifndef ULPGATE_REPORTS_ROWIO_H
#define ULPGATE_REPORTS_ROWIO_H

#include <stddef.h>
#include <stdio.h>

#include "ulpgate/ulpgate.h"

#define UG_ROWIO_HELP_INPUT                                                                 \
    "input:\n"                                                                              \
    "  One row per line, of any length. Numbers are separated by blanks and/or one comma;\n" \
    "  an empty field (1,,2 or a trailing comma) is an error. A number is a decimal\n"      \
    "  (-1.5e-3, .5), a C99 hex float (0x1.8p-3), inf, +inf, -inf or nan (any case), and\n" \
    "  is rounded once, correctly (round to nearest, ties to even), to the dtype.\n"        \
    "  Blank lines and lines whose first non-blank character is # are skipped, so a\n"      \
    "  worst-case file can be fed as it is.\n"

/* One row as read: n values and, for messages, where each came from. */
typedef struct ug_row {
    double *v;      /* the values, dtype values held exactly                        */
    size_t *col;    /* 1-based column (byte) of the first character of each value   */
    size_t n;
    size_t cap;
    size_t line;    /* 1-based line number                                          */
    size_t end_col; /* the column just after the last value: where a missing one goes */
} ug_row;

typedef struct ug_rowreader {
    const char *cmd;  /* subcommand, for messages                                   */
    const char *name; /* the path, or "<stdin>"                                     */
    FILE *f;
    int owned;        /* f was opened here and is closed by ug_rowreader_close       */
    char *buf;        /* the current line (getline)                                 */
    size_t bufcap;
    size_t line;      /* number of lines read so far                                */
} ug_rowreader;

/* Open path for reading, or stdin when path is NULL or "-".  Dies with UG_EXIT_IO and a
 * message naming the file when it cannot be opened. */
void ug_rowreader_open(ug_rowreader *rr, const char *cmd, const char *path);

/* Read the next row, skipping blank and comment lines, every number rounded to dt.
 * Returns 1 with *row filled (n >= 1), 0 at the end of the input.  Dies with UG_EXIT_USAGE
 * (`<file>:<line>:<col>: ...`) on a malformed number or an empty field, UG_EXIT_IO on a
 * read error.  *row must be zero-initialised before its first use; its memory is reused. */
int ug_rowreader_next(ug_rowreader *rr, ug_dtype dt, ug_row *row);

/* Die with UG_EXIT_USAGE at line:col of rr's input. */
_Noreturn void ug_rowreader_fail(const ug_rowreader *rr, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void ug_rowreader_close(ug_rowreader *rr);
void ug_row_free(ug_row *row);

/* Store n dtype values held in doubles into an array of dt (float, double or ug_bf16):
 * exact, because every v[i] is a dt value. */
void ug_rowio_pack(ug_dtype dt, const double *v, size_t n, void *dst);

/* Element i of an array of dt, widened exactly to double (bf16 through f32). */
double ug_rowio_unpack(ug_dtype dt, const void *src, size_t i);

#endif
