/* Plots through gnuplot: a generated script (data inline as datablocks) run as a child
 * process, `set terminal svg`; the SVG comes back as bytes.  gnuplot's SVG output has no
 * timestamp or random identifier (checked for gnuplot 5.4): the same script gives the
 * same bytes.  Without gnuplot (not on PATH, or it fails) every plot is skipped and
 * ug_plotter.why says why, for the report to say so.
 */
#ifndef ULPGATE_REPORTS_PLOT_H
#define ULPGATE_REPORTS_PLOT_H

#include <stddef.h>
#include <stdio.h>

typedef struct ug_plotter {
    const char *cmd;
    char dir[64];     /* a private temporary directory for script, output and log   */
    int available;    /* 0 once gnuplot failed or was not found                      */
    char why[512];    /* why plots are skipped                                       */
} ug_plotter;

void ug_plot_init(ug_plotter *pl, const char *cmd);
void ug_plot_free(ug_plotter *pl);

/* A script being written: ug_plot_begin returns the stream (terminal and output already
 * set: width x height pixels); ug_plot_end runs gnuplot and returns the SVG (malloc'd,
 * *size bytes) or NULL when plots are skipped. */
FILE *ug_plot_begin(ug_plotter *pl, int width, int height);
char *ug_plot_end(ug_plotter *pl, FILE *script, size_t *size);

/* data as base64 (RFC 4648, no line breaks), malloc'd. */
char *ug_base64(const char *data, size_t size);

#endif
