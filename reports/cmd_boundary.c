/* ulpgate boundary: for each selected kernel and each axis of boundary.h, the first input
 * at which the kernel fails, found by bisection over the dtype's values, and where the
 * exact result itself stops being representable.  One line per kernel x direction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "atomic.h"
#include "boundary.h"
#include "cli.h"
#include "cmds.h"
#include "jsonout.h"
#include "measure.h"

static const char CMD[] = "boundary";

static const char help_text[] =
    "usage: ulpgate boundary --kernel NAME|all [--axis A] [--violations] [--json FILE]\n"
    "                        [--threads T]\n\n"
    "For each kernel (registry order) and each axis, the first input at which the kernel\n"
    "fails: an output inf or NaN where the exact result is finite, finite where it is not,\n"
    "0 where the correctly rounded result is not, or over the kernel's claimed bound (the\n"
    "judge decides, as in ulpgate check).  Found by bisection over the dtype's values in\n"
    "the order of their integer encodings, so to one ULP of the dtype.\n\n"
    "axes (the parameter runs from 0 to the largest finite value of the dtype):\n"
    "  shift+, shift-  x = [0, -128] + c, c >= 0 and c <= 0; target 0.  With this row an\n"
    "                  unshifted exp(x) computes exp(c)/exp(c) = 1 exactly until exp(c)\n"
    "                  overflows or underflows to 0\n"
    "  spread          x = [0, -s]; target 1 (the loss grows like s)\n"
    "  dominance       x = [d, 0, ..., 0], n = 16; target 0 (the loss tends to 0)\n"
    "  length          n zeros, 1 <= n <= 2^20 (2^16 for bce_logits, mean reduction)\n"
    "xent_dense uses one-hot probabilities at the target, bce_logits labels 1 at the\n"
    "target and 0 elsewhere, xent_grad sparse targets.\n\n"
    "Each line: kernel, axis, the first failing value and the last passing one (hex float\n"
    "and decimal; n on the length axis), what the kernel returns there (the output most\n"
    "over its bound and the correctly rounded value), and where the exact result itself\n"
    "first overflows to inf or underflows to 0 (or that it is representable on the whole\n"
    "axis).  \"never fails\" means every probe passed.  The search assumes that failure\n"
    "is monotone along the axis and checks it (probes every few binades, and points 2, 4,\n"
    "8, ... ULP around the boundary): a contradiction is shown as NOT MONOTONE with the\n"
    "point where it was seen.\n\n"
    "options:\n"
    "  --kernel NAME|all   a registry name (see ulpgate list), or all\n"
    "  --axis A            only this axis (shift+, shift-, spread, dominance, length)\n"
    "  --violations        count only outright failures, not errors over the claimed\n"
    "                      bound: inf, NaN, a zero of the wrong sign, a kernel error,\n"
    "                      or an error of 2^(p-1) ULP or more (no correct bit, e.g. 0\n"
    "                      where the exact result is normal); p = 24, 53, 8\n"
    "  --json FILE         also write the results as JSON to FILE (atomically: a\n"
    "                      temporary file beside it, then renamed); see reports/SCHEMA.md\n"
    "  --threads T         search on T threads, one (op, dtype, axis) at a time each\n"
    "                      (default: every online CPU); the output is the same bytes\n"
    "  -h, --help          print this help and exit\n\n"
    "Boundaries are information: the exit status is 0 unless an error occurs.\n\n" UG_CLI_HELP_EXIT;

static json_object *results_json(const ug_bresult *res, size_t count)
{
    json_object *doc = json_object_new_object(), *arr = json_object_new_array();
    ug_j_add(doc, "command", ug_j_str(CMD));
    for (size_t i = 0; i < count; i++)
        if (res[i].k != NULL)
            json_object_array_add(arr, ug_bresult_json(&res[i]));
    ug_j_add(doc, "boundaries", arr);
    return doc;
}

int ug_cmd_boundary(int argc, char **argv)
{
    const char *kernel = NULL, *axis = NULL, *json = NULL, *threads = NULL;
    int violations = 0;
    const ug_cli_option opts[] = {{"kernel", &kernel, NULL},
                                  {"axis", &axis, NULL},
                                  {"violations", NULL, &violations},
                                  {"json", &json, NULL},
                                  {"threads", &threads, NULL},
                                  {NULL, NULL, NULL}};
    ug_cli_parse(CMD, help_text, argc, argv, opts, NULL, 0);
    size_t nk;
    const ug_kernel **ks = ug_select_kernels(CMD, kernel, &nk);
    const ug_bdir *only = NULL;
    if (axis != NULL && (only = ug_bdir_find(axis)) == NULL)
        ug_cli_die(UG_EXIT_USAGE, CMD, "unknown axis '%s' (shift+, shift-, spread, dominance, length)", axis);
    size_t nd = ug_bdir_count(), count = nk * nd;
    ug_bresult *res = ug_cli_alloc(CMD, count, sizeof *res);
    memset(res, 0, count * sizeof *res);
    ug_bconfig cfg = UG_BCONFIG_DEFAULT;
    cfg.violations_only = violations;
    ug_split_parse(&cfg.split, CMD, threads, NULL);
    ug_boundary_run(CMD, ks, nk, &cfg, only, res);
    ug_boundary_print_header(stdout);
    for (size_t i = 0; i < count; i++)
        if (res[i].k != NULL) {
            ug_boundary_print(stdout, &res[i]);
            ug_cli_check_stdout(CMD);
        }
    if (json != NULL) {
        json_object *doc = results_json(res, count);
        ug_atomic_write_json(CMD, json, doc);
        json_object_put(doc);
    }
    free(res);
    free(ks);
    return ug_cli_finish(CMD);
}
