/* Peers: other implementations beside ulpgate's kernels in the report (`ulpgate report
 * --peers PATH`).  What is read are the score files of `ulpgate vectors score --json`
 * (format ulpgate-score, doc/VECTORS.md): one implementation on the test vectors of one op
 * and dtype.  scripts/check-torch and scripts/check-numpy write them for PyTorch and SciPy,
 * and score ulpgate's scalar production kernels (and oneDNN's, when its plug-in is loaded)
 * on the same vectors, so that every figure of the table is measured on the same inputs.
 *
 * A peer is named by the first word of its implementation ("PyTorch 1.13 torch.softmax"
 * -> "PyTorch"); a variant (`vectors score --variant`: "ignore_index", "label_smoothing")
 * gets a row of its own.
 *
 * Sections: report.json "peers" (SCHEMA.md), report.md and report.html "Peers": a summary
 * (op [variant] x dtype rows, one column per peer: the largest ULP error of an output not in
 * violation, and the number of violations), then one row per score file with its worst
 * input.
 */
#ifndef ULPGATE_REPORTS_PEERS_H
#define ULPGATE_REPORTS_PEERS_H

#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

typedef struct ug_peer {
    char *file;            /* the score file's name (no directory)                       */
    char *impl;            /* implementation                                             */
    char *peer;            /* its first word                                             */
    char *variant;         /* the score file's "variant", or ""                           */
    char *op, *dtype;
    size_t vectors, scored, skipped, outputs, violations, over_bound;
    double max_ulp, max_ulp_finite, p99, pct_correct;
    char *bound_from;
    char *verdict;
    char *worst;           /* the worst vector in words: id, source, tags, values         */
} ug_peer;

typedef struct ug_peers {
    ug_peer *p;            /* sorted by op, variant, dtype, peer, implementation          */
    size_t count;
    char **names;          /* the peers, first-seen order of the sorted rows: ulpgate first */
    size_t nnames;
} ug_peers;

/* Read PATH: a score file, or a directory whose *.json files of format ulpgate-score are
 * read (others are ignored).  Dies with UG_EXIT_IO when PATH cannot be read, with
 * UG_EXIT_USAGE (naming the file) when a score file is damaged or none is found. */
void ug_peers_load(const char *cmd, const char *path, ug_peers *ps);
void ug_peers_free(ug_peers *ps);

/* The sections; nothing when ps is NULL. */
void ug_peers_md(FILE *f, const ug_peers *ps);
void ug_peers_html(FILE *f, const ug_peers *ps);
json_object *ug_peers_json(const ug_peers *ps);

#endif
