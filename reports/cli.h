/* What every ulpgate subcommand shares: exit codes, messages, option parsing, printing
 * values.  Reading rows of numbers is in rowio.h.
 *
 * A subcommand (reports/cmd_<name>.c) is `int ug_cmd_<name>(int argc, char **argv)` with
 * argv[0] the command name; it parses its options with ug_cli_parse(), dies with
 * ug_cli_die() / ug_cli_die_at() on an error, and ends with `return ug_cli_finish(cmd);`.
 * Messages go to stderr as `ulpgate <cmd>: <what>`; data goes to stdout.
 */
#ifndef ULPGATE_REPORTS_CLI_H
#define ULPGATE_REPORTS_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit status of the ulpgate command, every subcommand alike. */
enum ug_exit {
    UG_EXIT_OK = 0,       /* success                                                       */
    UG_EXIT_FAIL = 1,     /* a check failed: a kernel broke its bound (check, gate, ...)    */
    UG_EXIT_USAGE = 2,    /* bad usage or bad input: unknown option/kernel, malformed number */
    UG_EXIT_IO = 3,       /* a file could not be opened, read or written (stdout included)   */
    UG_EXIT_INTERNAL = 4, /* internal error: out of memory, the oracle gave up, a bug        */
    /* A plug-in (--plugin PATH, include/ulpgate/plugin.h) that cannot be used; a missing
     * or unreadable file is UG_EXIT_IO, as for every input file. */
    UG_EXIT_PLUGIN_LOAD = 5,  /* dlopen refused it: not a shared object, a missing dependency */
    UG_EXIT_PLUGIN_ENTRY = 6, /* no ug_plugin_init entry point, or it returned NULL          */
    UG_EXIT_PLUGIN_ABI = 7,   /* built against another plug-in ABI version                   */
    UG_EXIT_PLUGIN_DUP = 8,   /* a kernel named twice (built-in, another plug-in, itself)    */
    UG_EXIT_PLUGIN_ROW = 9    /* a malformed row: NULL name or fn, bad op, dtype, bound, name */
};

/* The exit-status paragraph of every --help, so that all of them say the same. */
#define UG_CLI_HELP_EXIT                                                                  \
    "exit status:\n"                                                                      \
    "  0  success\n"                                                                      \
    "  1  a check failed (a kernel broke its bound; subcommands that check)\n"            \
    "  2  bad usage or bad input (unknown option, kernel, op or dtype; malformed number;\n" \
    "     wrong row length; target or label out of range)\n"                              \
    "  3  I/O error: an input file cannot be opened or read, or output cannot be written\n" \
    "  4  internal error (out of memory, the oracle gave up)\n"                         \
    "  5-9  a --plugin library cannot be used (ulpgate --help)\n"

/* Print `ulpgate <cmd>: <message>` (`ulpgate: ...` when cmd is NULL) on stderr and exit
 * with code. */
_Noreturn void ug_cli_die(int code, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Bad input at a position: `ulpgate <cmd>: <file>:<line>:<col>: <message>`, exit 2.
 * line and col are 1-based; col counts bytes. */
_Noreturn void ug_cli_die_at(const char *cmd, const char *file, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* malloc(count * size) that dies with UG_EXIT_INTERNAL when the product overflows or the
 * memory is not there; never returns NULL (count = 0 allocates one byte). */
void *ug_cli_alloc(const char *cmd, size_t count, size_t size);

/* arr (elements of size bytes, capacity *cap; NULL with *cap = 0 at first) grown, by
 * doubling, to hold at least need elements: returns the new array and updates *cap.
 * Dies like ug_cli_alloc.  Usage: a = ug_cli_grow(cmd, a, &cap, n + 1, sizeof *a); */
void *ug_cli_grow(const char *cmd, void *arr, size_t *cap, size_t need, size_t size);

/* One option of a subcommand: --name VALUE or --name=VALUE when value is set (the string
 * is stored there, NULL until given), a flag --name when flag is set (set to 1).
 * An array of options ends with {NULL}. */
typedef struct ug_cli_option {
    const char *name;
    const char **value;
    int *flag;
} ug_cli_option;

/* Parse argv[1..argc) of cmd.  `-h` or `--help` anywhere before `--` prints help on stdout
 * and exits 0 (3 when stdout cannot be written).  Every argument that is not an option
 * (and every one after `--`; `-` alone is one) is positional: up to max_pos of them go to
 * pos[], in order.  Dies with UG_EXIT_USAGE on an unknown option, a missing value, an
 * option given twice, a value given to a flag, or too many positional arguments.
 * Returns the number of positional arguments. */
size_t ug_cli_parse(const char *cmd, const char *help, int argc, char **argv, const ug_cli_option *opts,
                    const char **pos, size_t max_pos);

/* A non-negative decimal integer that fits int64_t: digits only, no sign, no blanks.
 * Returns 0 and sets *out, or -1. */
int ug_cli_parse_index(const char *s, int64_t *out);

/* A dtype value held exactly in a double, as the C99 hex float of its exact value
 * (printf "%a"), or `inf`, `-inf`, `nan` (NaN whatever its sign and payload). */
void ug_cli_print_value(FILE *f, double v);

/* n values separated by single spaces, then a newline. */
void ug_cli_print_values(FILE *f, const double *v, size_t n);

/* Die with UG_EXIT_IO when stdout has seen a write error (call after each output line
 * so that a full disk is noticed before the whole input is read). */
void ug_cli_check_stdout(const char *cmd);

/* Flush and close stdout: UG_EXIT_OK, or UG_EXIT_IO (with a message) when any write failed.
 * Every subcommand returns through this. */
int ug_cli_finish(const char *cmd);

#endif
