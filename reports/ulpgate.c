/* ulpgate: the command.  Loads the plug-ins (--plugin PATH, any subcommand), then
 * dispatches to the subcommands of the table below (cmds.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "plugin.h"

typedef struct ug_command {
    const char *name;
    ug_cmd_fn fn;
    const char *summary; /* one line of `ulpgate --help` */
} ug_command;

/* The subcommands, one line each, in the order --help lists them. */
static const ug_command commands[] = {
    {"list", ug_cmd_list, "print the kernel registry: name, op, dtype, algorithm, isa, bound, role"},
    {"run", ug_cmd_run, "run one kernel on rows of numbers, print its outputs as hex floats"},
    {"exact", ug_cmd_exact, "print the oracle's correctly rounded outputs for rows of numbers"},
    {"bench", ug_cmd_bench, "time kernels (or the oracle, --oracle): ns per element and GB/s"},
    {"check", ug_cmd_check, "judge kernels against the oracle on the input families: ULP statistics"},
    {"report", ug_cmd_report, "write the accuracy report: report.json, report.md, report.html with plots"},
    {"merge", ug_cmd_merge, "combine the shards of `report --shard I/N` into the report of the whole run"},
    {"gate", ug_cmd_gate, "compare deterministic measurements with a committed baseline; exit 1 if worse"},
    {"boundary", ug_cmd_boundary, "where each kernel first fails along the shift, spread, dominance, length axes"},
    {"vectors", ug_cmd_vectors, "export test vectors with exact results; score any implementation's outputs"},
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fputs("usage: ulpgate <command> [options] [arguments]\n"
          "       ulpgate <command> --help\n"
          "       ulpgate help <command>\n\n"
          "Checks softmax and cross-entropy kernels against a correctly rounded MPFR oracle.\n\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("\noption of every command (before or after its name, before `--`):\n"
          "  --plugin PATH  load the kernels of the shared library PATH (include/ulpgate/plugin.h)\n"
          "                 after the built-in ones; repeatable, loaded in order.  Every command\n"
          "                 then lists, checks, bounds, reports, gates and times them too;\n"
          "                 `--kernel plugins` (check, boundary, report, gate) selects them alone\n\n" UG_CLI_HELP_EXIT
          "     5  a plug-in cannot be loaded as a shared library (not one, wrong architecture)\n"
          "     6  a plug-in has no ug_plugin_init entry point, or it returned NULL\n"
          "     7  a plug-in was built against another plug-in ABI version\n"
          "     8  a plug-in names a kernel that is already registered (or names one twice)\n"
          "     9  a plug-in has a malformed row (NULL name or function, bad op or dtype,\n"
          "        negative or NaN bound, a name that is not op.algorithm.dtype[.isa])\n"
          "  (a plug-in file that does not exist or cannot be read: 3)\n",
          f);
}

static const ug_command *find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    ug_cli_die(UG_EXIT_USAGE, NULL, "unknown command '%s' (see ulpgate --help)", name);
}

static int find_known(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0)
            return 1;
    return 0;
}

static int is_help(const char *arg) { return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0; }

/* `ulpgate help [command]` */
static int help(int argc, char **argv)
{
    if (argc < 3) {
        usage(stdout);
        return ug_cli_finish(NULL);
    }
    char help_arg[] = "--help";
    char *args[] = {argv[2], help_arg, NULL};
    return find_command(argv[2])->fn(2, args);
}

/* Take every `--plugin PATH` / `--plugin=PATH` before `--` out of argv (the command's
 * own parser never sees them), then load them in order; dies naming the library on an
 * error (plugin.h).  Returns the new argc. */
static int load_plugins(int argc, char **argv)
{
    const char *paths[argc > 0 ? argc : 1];
    size_t np = 0;
    int out = 1, i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strncmp(argv[i], "--plugin=", 9) == 0) {
            paths[np++] = argv[i] + 9;
        } else if (strcmp(argv[i], "--plugin") == 0) {
            if (i + 1 >= argc)
                ug_cli_die(UG_EXIT_USAGE, NULL, "option --plugin needs a value (a shared library)");
            paths[np++] = argv[++i];
        } else {
            argv[out++] = argv[i];
        }
    }
    while (i < argc)
        argv[out++] = argv[i++];
    argv[out] = NULL;
    const char *cmd = out > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    for (size_t p = 0; p < np; p++) {
        char why[1024];
        int rc = ug_plugin_load(paths[p], why, sizeof why);
        if (rc != UG_EXIT_OK)
            ug_cli_die(rc, cmd != NULL && find_known(cmd) ? cmd : NULL, "%s", why);
    }
    return out;
}

int main(int argc, char **argv)
{
    argc = load_plugins(argc, argv);
    if (argc < 2) {
        usage(stderr);
        return UG_EXIT_USAGE;
    }
    if (is_help(argv[1])) {
        usage(stdout);
        return ug_cli_finish(NULL);
    }
    if (strcmp(argv[1], "help") == 0)
        return help(argc, argv);
    return find_command(argv[1])->fn(argc - 1, argv + 1);
}
