/* ulpgate: the command.  Dispatches to the subcommands of the table below (cmds.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"

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
    fputs("\n" UG_CLI_HELP_EXIT, f);
}

static const ug_command *find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    ug_cli_die(UG_EXIT_USAGE, NULL, "unknown command '%s' (see ulpgate --help)", name);
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

int main(int argc, char **argv)
{
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
