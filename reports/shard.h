/* Shards of `ulpgate report` and their merge.
 *
 * `ulpgate report --shard I/N --out DIR` measures its share of every stage (parallel.h)
 * and writes DIR/report-shard.json (schema `ulpgate-report-shard`, SCHEMA.md): what it
 * measured, losslessly (every double as a C99 hex float, every boundary field, the input
 * rows as raw bytes in hex), and the identity of the run (ulpgate version, seed, --quick,
 * the kernels, fingerprints of the registry and the family table).
 *
 * `ulpgate merge` (cmd_merge.c) reads N shard files, checks that they are shards 1..N of
 * one run of this ulpgate (each exactly once), puts every unit back in its place and in
 * order, numbering the input rows as an unsharded run does, and writes the report with the
 * same code as `ulpgate report`: report.json, report.md and report.html (whose plots
 * gnuplot draws from the same numbers) are the bytes of the unsharded run.
 */
#ifndef ULPGATE_REPORTS_SHARD_H
#define ULPGATE_REPORTS_SHARD_H

#include <stddef.h>

#include "report.h"

#define UG_SHARD_FILE "report-shard.json"
#define UG_SHARD_SCHEMA "ulpgate-report-shard"
#define UG_SHARD_SCHEMA_VERSION 1

/* DIR/report-shard.json from a sharded measurement (r->split.shards > 1), atomically.
 * Empties r->inputs. */
void ug_shard_write(ug_report *r, const char *dir);

/* Read DIR/report-shard.json of each of the ndirs directories and fill r (r->cmd set,
 * everything else zero) as `ulpgate report` fills it after measuring.  Dies, before
 * anything is written, with UG_EXIT_IO when a file cannot be read, and with
 * UG_EXIT_USAGE, naming the directories, when a file is not a shard file, a shard is
 * missing or given twice, the shards are of different runs (seed, --quick, kernels, N)
 * or of another ulpgate build, or their units do not cover the run exactly once.  The
 * parsed documents stay alive in *docs (r points into them) until ug_shard_docs_free. */
void ug_shard_merge(ug_report *r, const char *const *dirs, size_t ndirs, void **docs);
void ug_shard_docs_free(void *docs);

#endif
