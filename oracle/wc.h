/* Worst-case files (props/data/ *.wc): the one parser of the case-line format, shared by
 * the property suite (props/prop_worstcases.c, props/prop_special.c), the gate
 * (reports/cmd_gate.c) and anyone else who replays worst cases.
 *
 * THE FORMAT (documented again at the top of every .wc file), one case per line:
 *
 *   OPS DTYPES [target=T[,T...]] [reduction=none|sum|mean|all] : ROW [; ROW ...] [| AUX [; AUX ...]]
 *
 * OPS     op names separated by commas, or `*` for the six row ops (every op but
 *         bce_logits)
 * DTYPES  f32, f64, bf16 separated by commas, or `*` for all three
 * target  one per row (the last one repeats); required by xent; for xent_grad it asks
 *         for the sparse form
 * reduction  for the losses; `all` is none, sum and mean (default none)
 * ROW     the logits of one row: numbers as `ulpgate run` reads them (decimal, C99 hex
 *         float, inf, -inf, nan), each rounded once (RNE) to the dtype; `max`, `-max`
 *         (the dtype's largest finite value), `sub`, `-sub` (its smallest subnormal);
 *         `V*K` repeats V K times.  Several rows (one batch) are separated by `;`.
 * AUX     probability rows (xent_dense; xent_grad's dense form) or labels (bce_logits),
 *         one per row.  Without it xent_dense gets the one-hot row at the target.
 * xent_grad runs in each form the line provides (sparse with target=, dense with |).
 *
 * In a file, blank lines and lines starting with '#' are comments; "# from: SOURCE" names
 * where the cases below it came from and goes into each case's origin
 * ("softmax.wc:12 (SOURCE)").
 *
 * The parser only reads: it never runs the oracle or a kernel.  A case it accepts may
 * still be refused by the oracle (a target out of range, say); the callers judge that.
 */
#ifndef ULPGATE_ORACLE_WC_H
#define ULPGATE_ORACLE_WC_H

#include <stddef.h>

#include "families.h"

/* Bit r of reds is set for each reduction r (ug_reduction) the line asks for. */
typedef void (*ug_wc_visit)(void *ctx, const ug_batch *b, unsigned reds, const char *origin);

/* The cases of one line for (op, dt), handed to visit (which must not keep b): one
 * batch, or for xent_grad one per form the line gives.  Returns the number of cases, 0
 * when the line is not for op and dt, -1 on a syntax error (message in err). */
int ug_wc_line(const char *line, const char *origin, ug_op op, ug_dtype dt, ug_wc_visit visit, void *ctx,
               char *err, size_t size);

/* Every case of the file at path for (op, dt), in file order.  Returns the number of
 * cases, or -1 with the message ("softmax.wc:12: unknown op: 'sofmax'", or "cannot open")
 * in err.  The head of every line (OPS DTYPES ...) is checked whatever (op, dt) is; its
 * rows only when the line is for (op, dt), as they are read in dt: a file is fully
 * checked by reading it for every op and dtype (props/test_worstcases.c does). */
long ug_wc_file(const char *path, ug_op op, ug_dtype dt, ug_wc_visit visit, void *ctx, char *err, size_t size);

/* The files DIR/ *.wc, full paths in bytewise name order (*names is the caller's, to free
 * with ug_wc_files_free).  Returns the count, or -1 when dir cannot be read. */
int ug_wc_files(const char *dir, char ***names);
void ug_wc_files_free(char **names, int count);

#endif
