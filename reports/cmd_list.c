/* ulpgate list: the kernel registry, one kernel a line, or as JSON.  Iterates the
 * registry (ug_kernel_count / ug_kernel_at) and nothing else. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "cmds.h"
#include "ulpgate/registry.h"

static const char help_text[] =
    "usage: ulpgate list [--json]\n\n"
    "Print every kernel of the registry, one line each, in registry order, with the\n"
    "whitespace-separated columns\n"
    "  name  op  dtype  algorithm  isa  bound  role\n"
    "where bound is the claimed ULP error bound: ulp, then +c*n when it grows with the\n"
    "row length n and +c*kappa when it grows with the condition number kappa\n"
    "(e.g. 1+2^-26*kappa, 3+2*n).\n\n"
    "options:\n"
    "  --json      a JSON array of objects {name, op, dtype, algorithm, isa,\n"
    "              bound: {ulp, per_n, per_cond}, role, description} instead\n"
    "  -h, --help  print this help and exit\n\n" UG_CLI_HELP_EXIT;

/* A coefficient that %g shows exactly, else 2^k for a power of two, else %.17g. */
static void format_coef(char *buf, size_t size, double c)
{
    snprintf(buf, size, "%g", c);
    if (strtod(buf, NULL) == c)
        return;
    int e;
    if (frexp(c, &e) == 0.5)
        snprintf(buf, size, "2^%d", e - 1);
    else
        snprintf(buf, size, "%.17g", c);
}

/* "1", "3+2*n", "1+2^-26*kappa": one column, no blanks. */
static void format_bound(char *buf, size_t size, const ug_bound *b)
{
    char coef[48];
    int len = snprintf(buf, size, "%g", b->ulp);
    if (b->per_n != 0 && len >= 0 && (size_t)len < size) {
        format_coef(coef, sizeof coef, b->per_n);
        len += snprintf(buf + len, size - (size_t)len, "+%s*n", coef);
    }
    if (b->per_cond != 0 && len >= 0 && (size_t)len < size) {
        format_coef(coef, sizeof coef, b->per_cond);
        snprintf(buf + len, size - (size_t)len, "+%s*kappa", coef);
    }
}

enum { COLS = 7, BOUND_MAX = 128 };

static void columns(const ug_kernel *k, const char *bound, const char *col[COLS])
{
    col[0] = k->name;
    col[1] = ug_op_name(k->op);
    col[2] = ug_dtype_name(k->dtype);
    col[3] = k->algorithm;
    col[4] = k->isa;
    col[5] = bound;
    col[6] = ug_role_name(k->role);
}

/* Column widths over the whole registry, so that the table lines up. */
static void widths(size_t w[COLS])
{
    memset(w, 0, COLS * sizeof w[0]);
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        char bound[BOUND_MAX];
        const char *col[COLS];
        format_bound(bound, sizeof bound, &k->bound);
        columns(k, bound, col);
        for (int c = 0; c < COLS; c++)
            if (strlen(col[c]) > w[c])
                w[c] = strlen(col[c]);
    }
}

static void print_table(void)
{
    size_t w[COLS];
    widths(w);
    for (size_t i = 0; i < ug_kernel_count(); i++) {
        const ug_kernel *k = ug_kernel_at(i);
        char bound[BOUND_MAX];
        const char *col[COLS];
        format_bound(bound, sizeof bound, &k->bound);
        columns(k, bound, col);
        for (int c = 0; c < COLS - 1; c++)
            printf("%-*s  ", (int)w[c], col[c]);
        printf("%s\n", col[COLS - 1]);
    }
}

static json_object *kernel_json(const ug_kernel *k)
{
    json_object *o = json_object_new_object();
    json_object *b = json_object_new_object();
    json_object_object_add(b, "ulp", json_object_new_double(k->bound.ulp));
    json_object_object_add(b, "per_n", json_object_new_double(k->bound.per_n));
    json_object_object_add(b, "per_cond", json_object_new_double(k->bound.per_cond));
    json_object_object_add(o, "name", json_object_new_string(k->name));
    json_object_object_add(o, "op", json_object_new_string(ug_op_name(k->op)));
    json_object_object_add(o, "dtype", json_object_new_string(ug_dtype_name(k->dtype)));
    json_object_object_add(o, "algorithm", json_object_new_string(k->algorithm));
    json_object_object_add(o, "isa", json_object_new_string(k->isa));
    json_object_object_add(o, "bound", b);
    json_object_object_add(o, "role", json_object_new_string(ug_role_name(k->role)));
    json_object_object_add(o, "description", json_object_new_string(k->desc));
    return o;
}

static void print_json(void)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < ug_kernel_count(); i++)
        json_object_array_add(arr, kernel_json(ug_kernel_at(i)));
    puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(arr);
}

int ug_cmd_list(int argc, char **argv)
{
    int json = 0;
    const ug_cli_option opts[] = {{"json", NULL, &json}, {NULL, NULL, NULL}};
    ug_cli_parse("list", help_text, argc, argv, opts, NULL, 0);
    if (json)
        print_json();
    else
        print_table();
    return ug_cli_finish("list");
}
