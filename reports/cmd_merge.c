/* ulpgate merge --out DIR SHARD_DIR...: the report of N shards (`ulpgate report --shard
 * I/N`), byte for byte the report of the unsharded run (shard.h). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cmds.h"
#include "peers.h"
#include "report.h"
#include "shard.h"

static const char CMD[] = "merge";

enum { MAX_SHARDS = 100000 };

static const char help_text[] =
    "usage: ulpgate merge --out DIR [--peers FILE|DIR] SHARD_DIR...\n\n"
    "Combines the shards of one report run, `ulpgate report --shard I/N --out SHARD_DIR`\n"
    "for I = 1..N (each wrote SHARD_DIR/" UG_SHARD_FILE "), into DIR/report.json,\n"
    "DIR/report.md and DIR/report.html: the same bytes as `ulpgate report` without\n"
    "--shard and with the same --seed, --quick and --kernel.  The plots are drawn again\n"
    "by gnuplot from the same numbers.  Every shard must be given exactly once; the\n"
    "shards must be of one run (same seed, --quick, kernels and N) and of this ulpgate\n"
    "(same version, registry and input families).  Nothing is written otherwise.\n\n"
    "options:\n"
    "  --out DIR          the output directory (created if needed)\n"
    "  --peers FILE|DIR   add the Peers section, as ulpgate report --peers does\n"
    "  -h, --help         print this help and exit\n\n"
    "exit status:\n"
    "  0  the report was written\n"
    "  2  bad usage, or shards that do not make one run: a shard missing or given twice,\n"
    "     shards of different runs or of another ulpgate build, a damaged shard file\n"
    "  3  a shard file cannot be read, or the report cannot be written\n"
    "  4  internal error\n";

int ug_cmd_merge(int argc, char **argv)
{
    const char *out = NULL, *peers = NULL;
    const ug_cli_option opts[] = {{"out", &out, NULL}, {"peers", &peers, NULL}, {NULL, NULL, NULL}};
    const char **dirs = ug_cli_alloc(CMD, (size_t)argc, sizeof *dirs);
    size_t n = ug_cli_parse(CMD, help_text, argc, argv, opts, dirs, (size_t)argc);
    if (out == NULL)
        ug_cli_die(UG_EXIT_USAGE, CMD, "missing --out DIR");
    if (n == 0)
        ug_cli_die(UG_EXIT_USAGE, CMD, "no SHARD_DIR given (the --out directories of `ulpgate report --shard`)");
    ug_report r = {.cmd = CMD};
    ug_peers ps;
    if (peers != NULL)
        ug_peers_load(CMD, peers, &ps), r.peers = &ps;
    void *docs = NULL;
    ug_shard_merge(&r, dirs, n, &docs);
    ug_report_write(&r, out);
    printf("wrote %s/report.json, %s/report.md, %s/report.html from %zu shards: %zu kernels; %zu of %zu production "
           "and variant kernels within their claims; canaries caught %zu of %zu\n",
           out, out, out, n, r.nk, r.passed, r.checked, r.caught, r.canaries);
    ug_report_free(&r);
    if (peers != NULL)
        ug_peers_free(&ps);
    ug_shard_docs_free(docs);
    free(dirs);
    return ug_cli_finish(CMD);
}
