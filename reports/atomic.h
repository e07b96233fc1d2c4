/* Atomic file output, shared by every subcommand that writes a file (check --json,
 * boundary --json, gate --update, report).
 *
 * A file is written to a temporary file beside it (<dir>/.<name>.XXXXXX, same file
 * system), flushed, fsync'd and closed, then renamed over the destination: a reader, a
 * crash or a kill sees the old file or the whole new one, never a part.  A kill before
 * the rename leaves at most a hidden temporary file and the destination untouched.
 *
 * Several files that belong together (a report) are written in two phases: every file is
 * closed first (ug_atomic_close), then all are renamed (ug_atomic_rename), so that a
 * failure while writing any of them leaves every destination as it was.
 *
 * Errors die with UG_EXIT_IO and a message naming the file (cli.h).
 */
#ifndef ULPGATE_REPORTS_ATOMIC_H
#define ULPGATE_REPORTS_ATOMIC_H

#include <stdio.h>

#include <json-c/json.h>

typedef struct ug_atomic {
    const char *cmd; /* for messages                          */
    char *path;      /* the destination                       */
    char *tmp;       /* the temporary file; NULL once renamed  */
    FILE *f;         /* open until ug_atomic_close            */
} ug_atomic;

/* Create the temporary file for path; returns the stream to write to. */
FILE *ug_atomic_open(ug_atomic *a, const char *cmd, const char *path);

/* Flush, fsync and close the temporary file (dies, removing it, on any write error). */
void ug_atomic_close(ug_atomic *a);

/* Rename the closed temporary file over the destination; frees a's memory. */
void ug_atomic_rename(ug_atomic *a);

/* ug_atomic_close then ug_atomic_rename. */
void ug_atomic_commit(ug_atomic *a);

/* Remove the temporary file (an error path that does not die); frees a's memory. */
void ug_atomic_abort(ug_atomic *a);

/* The whole of a JSON document, pretty-printed, plus a newline, written atomically. */
void ug_atomic_write_json(const char *cmd, const char *path, json_object *doc);

/* size bytes of data written atomically to path. */
void ug_atomic_write(const char *cmd, const char *path, const void *data, size_t size);

#endif
