/* Test vectors: inputs with their correctly rounded results, in a file any implementation
 * can read (doc/VECTORS.md is the format), and the outputs of an implementation read back
 * to be judged.  Used by `ulpgate vectors export` and `ulpgate vectors score`
 * (reports/cmd_vectors.c).
 *
 * A vector is one kernel call: a ug_batch (rows x n, one op and dtype), its reduction, the
 * family or group it belongs to, where it came from, tags saying why it is there, and the
 * oracle's correctly rounded outputs ("expected").  Every number in the file is a string:
 * the C99 hex float of the exact value, or "inf", "-inf", "nan", so that nothing is lost.
 *
 * Reading checks everything and dies naming the place (UG_EXIT_USAGE: "FILE: vectors[12]
 * (id 12): x has 15 values, expected 16"; damaged JSON: FILE:LINE:COL); a file that cannot
 * be opened or read dies with UG_EXIT_IO.
 */
#ifndef ULPGATE_REPORTS_VECTORS_H
#define ULPGATE_REPORTS_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "families.h"

#define UG_VECTORS_FORMAT "ulpgate-vectors"
#define UG_OUTPUTS_FORMAT "ulpgate-outputs"
#define UG_SCORE_FORMAT "ulpgate-score"
#define UG_VECTORS_VERSION 1

typedef struct ug_vector {
    size_t id;            /* its index in the file                                       */
    char *family;         /* the group it is scored in: a family name, "boundary",
                             "reduction", "label_smoothing"                               */
    char *source;         /* where it came from: "normal1 row 12", "shift+ c=0x1.62e43p+6" */
    char **tags;          /* why it is there (doc/VECTORS.md lists them)                  */
    size_t ntags;
    ug_batch *b;          /* the input; b->first_row is the vector's first row among all
                             rows of the file (for locating judged samples)              */
    ug_reduction red;
    double smoothing;     /* label smoothing epsilon (xent_dense vectors made from a
                             target), 0 otherwise                                         */
    int64_t smooth_target;
    double *expected;     /* count correctly rounded outputs                              */
    size_t count;
} ug_vector;

typedef struct ug_vectors {
    ug_op op;
    ug_dtype dtype;
    uint64_t seed;
    char *rows;           /* --rows of the export ("default" when not given)              */
    ug_vector *v;
    size_t count, cap;
} ug_vectors;

void ug_vectors_free(ug_vectors *vs);

/* Append a vector (takes ownership of b, copies the strings); returns it. */
ug_vector *ug_vectors_add(const char *cmd, ug_vectors *vs, ug_batch *b, ug_reduction red, const char *family,
                          const char *source);
void ug_vector_tag(const char *cmd, ug_vector *v, const char *tag);

/* The whole file, one vector per line, written atomically. */
void ug_vectors_write(const char *cmd, const char *path, const ug_vectors *vs);

/* Read and check a vectors file (see above). */
void ug_vectors_read(const char *cmd, const char *path, ug_vectors *vs);

/* The vector whose rows include global row r (b->first_row <= r < first_row + rows). */
const ug_vector *ug_vectors_by_row(const ug_vectors *vs, size_t r);

/* The whole of a JSON file, parsed: dies with UG_EXIT_IO when it cannot be read, with
 * UG_EXIT_USAGE and FILE:LINE:COL when it is not JSON. */
json_object *ug_json_read_file(const char *cmd, const char *path);

/* One value string of a file (hex float, decimal, inf, -inf, nan) rounded once to dt;
 * dies with UG_EXIT_USAGE naming `where` when it is not a number. */
double ug_json_number(const char *cmd, const char *where, ug_dtype dt, json_object *o);

#endif
