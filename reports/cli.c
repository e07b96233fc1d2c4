/* Exit codes, messages, option parsing and value printing shared by the subcommands
 * (cli.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void vmessage(const char *cmd, const char *fmt, va_list ap)
{
    fflush(stdout); /* what was printed so far comes before the message */
    if (cmd != NULL)
        fprintf(stderr, "ulpgate %s: ", cmd);
    else
        fputs("ulpgate: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void ug_cli_die(int code, const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(cmd, fmt, ap);
    va_end(ap);
    exit(code);
}

void ug_cli_die_at(const char *cmd, const char *file, size_t line, size_t col, const char *fmt, ...)
{
    fflush(stdout);
    fprintf(stderr, "ulpgate %s: %s:%zu:%zu: ", cmd, file, line, col);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(UG_EXIT_USAGE);
}

void *ug_cli_alloc(const char *cmd, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        ug_cli_die(UG_EXIT_INTERNAL, cmd, "out of memory (%zu elements of %zu bytes)", count, size);
    void *p = malloc(count * size > 0 ? count * size : 1);
    if (p == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, cmd, "out of memory (%zu elements of %zu bytes)", count, size);
    return p;
}

void *ug_cli_grow(const char *cmd, void *arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap && arr != NULL)
        return arr;
    size_t cap2 = *cap > 0 ? *cap : 16;
    while (cap2 < need)
        cap2 = cap2 > SIZE_MAX / 2 ? need : 2 * cap2;
    if (cap2 > SIZE_MAX / size)
        ug_cli_die(UG_EXIT_INTERNAL, cmd, "out of memory (%zu elements of %zu bytes)", cap2, size);
    void *p = realloc(arr, cap2 * size);
    if (p == NULL)
        ug_cli_die(UG_EXIT_INTERNAL, cmd, "out of memory (%zu elements of %zu bytes)", cap2, size);
    *cap = cap2;
    return p;
}

/* ---------------------------------------------------------------- options */

static void print_help(const char *cmd, const char *help)
{
    fputs(help, stdout);
    exit(ug_cli_finish(cmd));
}

/* Help wins over every other argument, so that `ulpgate run --kernel x --help` helps. */
static void scan_help(const char *cmd, const char *help, int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            print_help(cmd, help);
}

static const ug_cli_option *find_option(const ug_cli_option *opts, const char *name, size_t len)
{
    for (const ug_cli_option *o = opts; o->name != NULL; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

/* argv[*i] is "--name" or "--name=value"; consumes the value (argv[*i + 1] if needed). */
static void take_option(const char *cmd, const ug_cli_option *opts, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    const ug_cli_option *o = find_option(opts, name, len);
    if (o == NULL)
        ug_cli_die(UG_EXIT_USAGE, cmd, "unknown option '%.*s' (see ulpgate %s --help)", (int)(len + 2), arg, cmd);
    if (o->flag != NULL) {
        if (eq != NULL)
            ug_cli_die(UG_EXIT_USAGE, cmd, "option --%s takes no value", o->name);
        if (*o->flag)
            ug_cli_die(UG_EXIT_USAGE, cmd, "option --%s given twice", o->name);
        *o->flag = 1;
        return;
    }
    if (*o->value != NULL)
        ug_cli_die(UG_EXIT_USAGE, cmd, "option --%s given twice", o->name);
    if (eq != NULL) {
        *o->value = eq + 1;
        return;
    }
    if (*i + 1 >= argc)
        ug_cli_die(UG_EXIT_USAGE, cmd, "option --%s needs a value", o->name);
    *o->value = argv[++*i];
}

size_t ug_cli_parse(const char *cmd, const char *help, int argc, char **argv, const ug_cli_option *opts,
                    const char **pos, size_t max_pos)
{
    scan_help(cmd, help, argc, argv);
    size_t npos = 0;
    int options_end = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_end && strcmp(arg, "--") == 0) {
            options_end = 1;
            continue;
        }
        if (!options_end && strncmp(arg, "--", 2) == 0) {
            take_option(cmd, opts, argc, argv, &i);
            continue;
        }
        if (!options_end && arg[0] == '-' && arg[1] != '\0')
            ug_cli_die(UG_EXIT_USAGE, cmd, "unknown option '%s' (see ulpgate %s --help)", arg, cmd);
        if (npos >= max_pos)
            ug_cli_die(UG_EXIT_USAGE, cmd, "unexpected argument '%s' (see ulpgate %s --help)", arg, cmd);
        pos[npos++] = arg;
    }
    return npos;
}

int ug_cli_parse_index(const char *s, int64_t *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    int64_t v = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return -1;
        v = 10 * v + d;
    }
    *out = v;
    return 0;
}

/* ---------------------------------------------------------------- output */

void ug_cli_print_value(FILE *f, double v)
{
    if (isnan(v))
        fputs("nan", f);
    else if (isinf(v))
        fputs(v > 0 ? "inf" : "-inf", f);
    else
        fprintf(f, "%a", v);
}

void ug_cli_print_values(FILE *f, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            fputc(' ', f);
        ug_cli_print_value(f, v[i]);
    }
    fputc('\n', f);
}

void ug_cli_check_stdout(const char *cmd)
{
    if (ferror(stdout))
        ug_cli_die(UG_EXIT_IO, cmd, "cannot write the output: %s", strerror(errno));
}

int ug_cli_finish(const char *cmd)
{
    errno = 0;
    int failed = ferror(stdout);
    failed |= fflush(stdout) != 0;
    int err = errno;
    failed |= fclose(stdout) != 0;
    if (err == 0)
        err = errno;
    if (!failed)
        return UG_EXIT_OK;
    if (cmd != NULL)
        fprintf(stderr, "ulpgate %s: cannot write the output: %s\n", cmd, err != 0 ? strerror(err) : "write error");
    else
        fprintf(stderr, "ulpgate: cannot write the output: %s\n", err != 0 ? strerror(err) : "write error");
    return UG_EXIT_IO;
}
