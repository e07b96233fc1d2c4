/* The report's plots (report.h): gnuplot scripts generated from the measurements, run by
 * plot.c, SVG returned base64-encoded for inlining.
 *
 * Worst-ULP axes are log2 from 1/8 to 2^76: an error below 1/8 is drawn at 1/8, a
 * finite error above 2^64 at 2^64, and a violation (inf, NaN, a wrong zero; +inf in the
 * sweeps) on the dotted line at 2^72, so that every point stays visible.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "measure.h"
#include "report.h"

enum { W_FULL = 1200, H_ROW = 470, W_HALF = 600, H_HALF = 470 };

static const double Y_LO = 0x1p-3, Y_CLAMP = 0x1p64, Y_VIOL = 0x1p72, Y_HI = 0x1p76;

/* One colour per algorithm, so a line keeps its colour from plot to plot. */
static const char *algo_color(const char *alg)
{
    static const struct { const char *alg, *rgb; } colors[] = {
        {"twopass", "#1f5fbf"}, {"fused", "#1f5fbf"}, {"stable", "#1f5fbf"},  {"online", "#2ca02c"},
        {"logdomain", "#9467bd"}, {"naive", "#d62728"}, {"twostep", "#ff7f0e"}, {"clipped", "#8c564b"},
        {"logsum", "#e377c2"},  {"pure", "#7f7f7f"}};
    for (size_t i = 0; i < sizeof colors / sizeof colors[0]; i++)
        if (strcmp(colors[i].alg, alg) == 0)
            return colors[i].rgb;
    return "#17becf";
}

static double y_of(double w)
{
    if (isnan(w))
        return NAN;
    if (isinf(w))
        return Y_VIOL;
    return w < Y_LO ? Y_LO : w > Y_CLAMP ? Y_CLAMP : w;
}

static void style(FILE *f)
{
    fputs("set border 3 lc rgb '#666666'\nset tics nomirror textcolor rgb '#333333' font ',10'\n"
          "set grid ytics xtics lc rgb '#e8e8e8' lt 1\nset key outside below center horizontal maxcols 3 font ',10' "
          "samplen 2.5 spacing 1.1 noenhanced\nset title font ',13' noenhanced\n",
          f);
}

static void y_ulp_axis(FILE *f)
{
    fprintf(f, "set logscale y 2\nset yrange [%.17g:%.17g]\nset ylabel 'worst error (ULP)' font ',11'\n", Y_LO, Y_HI);
    fprintf(f, "set ytics ('≤1/8' %.17g, '1' 1, '8' 8, '64' 64, '2^10' 1024, '2^20' %.17g, '2^32' %.17g, "
               "'>=2^64' %.17g, 'violation' %.17g)\n",
            Y_LO, 0x1p20, 0x1p32, Y_CLAMP, Y_VIOL);
    fprintf(f, "set arrow 1 from graph 0, first %.17g to graph 1, first %.17g nohead dt 3 lc rgb '#d62728'\n", Y_VIOL, Y_VIOL);
    fprintf(f, "set arrow 2 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb '#999999'\n");
}

/* $name << EOD, "x y" rows (NaN rows skipped: gnuplot leaves a gap). */
static void datablock(FILE *f, const char *name, const double *x, const double *y, size_t n)
{
    fprintf(f, "$%s << EOD\n", name);
    for (size_t i = 0; i < n; i++)
        if (!isnan(y[i]))
            fprintf(f, "%.17g %.17g\n", x[i], y[i]);
        else
            fputc('\n', f);
    fputs("EOD\n", f);
}

static char *finish(ug_plotter *pl, FILE *f)
{
    size_t size;
    char *svg = ug_plot_end(pl, f, &size);
    if (svg == NULL)
        return NULL;
    char *b64 = ug_base64(svg, size);
    free(svg);
    return b64;
}

/* Plot command for the series $s0 .. $s(n-1) of the kernels ks. */
static void plot_series(FILE *f, const ug_kernel *const *ks, size_t n, const char *dataname)
{
    fputs("plot ", f);
    for (size_t i = 0; i < n; i++) {
        const ug_kernel *k = ks[i];
        int prod = k->role == UG_ROLE_PRODUCTION, canary = k->role == UG_ROLE_CANARY;
        int simd = strcmp(k->isa, "scalar") != 0;
        fprintf(f, "%s$%s%zu using 1:2 with linespoints lw %s dt %d pt %d ps 0.45 lc rgb '%s' title '%s%s%s'",
                i ? ", \\\n     " : "", dataname, i, prod && !simd ? "2.6" : "1.4", canary ? 2 : simd ? 4 : 1,
                simd ? 6 : 7, algo_color(k->algorithm), k->algorithm, simd ? "." : "", simd ? k->isa : "");
    }
    fputc('\n', f);
}

/* The kernels of r with op and dtype (indices into r->ks). */
static size_t select_kernels(const ug_report *r, ug_op op, ug_dtype dt, size_t *idx)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nk; i++)
        if (r->ks[i]->op == op && r->ks[i]->dtype == dt)
            idx[n++] = i;
    return n;
}

/* ---------------------------------------------------------------- sweeps per op */

static void sweep_panel(FILE *f, const ug_report *r, const ug_sweep *s, ug_op op, ug_dtype dt, size_t *idx)
{
    size_t n = select_kernels(r, op, dt, idx);
    const ug_kernel *ks[64];
    double *y = malloc(s->np * sizeof *y);
    for (size_t i = 0; i < n && i < 64; i++) {
        ks[i] = r->ks[idx[i]];
        for (size_t p = 0; p < s->np; p++)
            y[p] = y_of(s->worst[idx[i] * s->np + p]);
        char name[32];
        snprintf(name, sizeof name, "s%zu", i);
        datablock(f, name, s->at, y, s->np);
    }
    free(y);
    fprintf(f, "set title '%s'\n", ug_dtype_name(dt));
    if (n == 0) {
        fputs("unset key\nplot 2 notitle\n", f);
        return;
    }
    plot_series(f, ks, n < 64 ? n : 64, "s");
}

static char *sweep_plot(ug_plotter *pl, const ug_report *r, const ug_sweep *s, ug_op op, size_t *idx)
{
    FILE *f = ug_plot_begin(pl, W_FULL, H_ROW);
    style(f);
    y_ulp_axis(f);
    int length = strcmp(s->name, "length") == 0;
    fprintf(f, "set logscale x 2\nset xrange [%.17g:%.17g]\nset xlabel '%s' font ',11'\n",
            s->at[0], s->at[s->np - 1], length ? "row length n (normal(0,1) logits)" : "spread s (16 logits uniform in [-s/2, s/2])");
    fputs("set xtics (", f);
    for (size_t p = 0; p < s->np; p += length ? 4 : 2)
        fprintf(f, "%s'%g' %.17g", p ? ", " : "", s->at[p], s->at[p]);
    fprintf(f, ")\nset bmargin 7\nset multiplot layout 1,3 title '%s: worst error against %s' font ',14' noenhanced\n",
            ug_op_name(op),
            length ? "the row length" : "the spread of the logits");
    for (int dt = 0; dt < UG_DTYPE_COUNT; dt++)
        sweep_panel(f, r, s, op, (ug_dtype)dt, idx);
    fputs("unset multiplot\n", f);
    return finish(pl, f);
}

/* ---------------------------------------------------------------- histograms per op */

static void hist_panel(FILE *f, const ug_report *r, ug_op op, ug_dtype dt, size_t *idx)
{
    size_t n = select_kernels(r, op, dt, idx);
    const ug_kernel *ks[64];
    double x[UG_HIST_BINS], y[UG_HIST_BINS];
    for (size_t i = 0; i < n && i < 64; i++) {
        const ug_kreport *kr = &r->kr[idx[i]];
        ks[i] = kr->k;
        for (size_t b = 0; b < UG_HIST_BINS; b++) {
            x[b] = (double)b;
            y[b] = kr->outputs && kr->hist[b] ? (double)kr->hist[b] / (double)kr->outputs : NAN;
        }
        char name[32];
        snprintf(name, sizeof name, "h%zu", i);
        datablock(f, name, x, y, UG_HIST_BINS);
    }
    fprintf(f, "set title '%s'\n", ug_dtype_name(dt));
    if (n == 0) {
        fputs("unset key\nplot 2 notitle\n", f);
        return;
    }
    plot_series(f, ks, n < 64 ? n : 64, "h");
}

static char *hist_plot(ug_plotter *pl, const ug_report *r, ug_op op, size_t *idx)
{
    FILE *f = ug_plot_begin(pl, W_FULL, H_ROW);
    style(f);
    fputs("set logscale y 10\nset yrange [1e-7:2]\nset ytics ('1' 1, '10%%' 0.1, '1%%' 0.01, "
          "'0.1%%' 0.001, '1e-4' 1e-4, '1e-5' 1e-5, '1e-6' 1e-6, '1e-7' 1e-7)\nset ylabel 'share of outputs' font ',11'\n"
          "set xrange [-0.5:33.5]\nset xlabel 'error (ULP), upper edge of the bin' font ',11'\n"
          "set xtics ('≤½' 0, '2' 2, '16' 5, '256' 9, '4096' 13, '2^16' 17, '2^24' 25, '2^30' 31, "
          "'viol.' 33) font ',9'\n",
          f);
    fputs("set bmargin 7\n", f);
    fprintf(f, "set multiplot layout 1,3 title '%s: distribution of the ULP error over every input family' font ',14' "
               "noenhanced\n",
            ug_op_name(op));
    for (int dt = 0; dt < UG_DTYPE_COUNT; dt++)
        hist_panel(f, r, op, (ug_dtype)dt, idx);
    fputs("unset multiplot\n", f);
    return finish(pl, f);
}

/* ---------------------------------------------------------------- boundary map per dtype */

static const int emax_of[UG_DTYPE_COUNT] = {128, 1024, 128};

/* x of a boundary on the float panel: log2 |at|, "start" at -22, "never" at emax + 8. */
static double bmap_x(const ug_bresult *b, int emax)
{
    if (b->kind == UG_B_NEVER)
        return emax + 8;
    if (b->kind == UG_B_ORIGIN || fabs(b->at) < 0x1p-20)
        return -22;
    return log2(fabs(b->at));
}

static double bmap_len_x(const ug_bresult *b)
{
    if (b->kind == UG_B_NEVER)
        return 22;
    return b->kind == UG_B_ORIGIN ? 0 : log2(b->at);
}

static void bmap_data(FILE *f, const ug_report *r, const size_t *idx, size_t n, ug_dtype dt)
{
    for (size_t d = 0; d < ug_bdir_count(); d++) {
        fprintf(f, "$d%zu << EOD\n", d);
        for (size_t i = 0; i < n; i++) {
            const ug_bresult *b = ug_report_boundary(r, idx[i], d);
            double x = b->dir->axis == UG_AXIS_LENGTH ? bmap_len_x(b) : bmap_x(b, emax_of[dt]);
            fprintf(f, "%.17g %.17g\n", x, (double)(n - 1 - i) + (d < 4 ? 0.24 - 0.16 * (double)d : 0.0));
        }
        fputs("EOD\n", f);
    }
}

static char *bmap_plot(ug_plotter *pl, const ug_report *r, ug_dtype dt, size_t *idx)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nk; i++)
        if (r->ks[i]->dtype == dt)
            idx[n++] = i;
    if (n == 0)
        return NULL;
    int emax = emax_of[dt];
    FILE *f = ug_plot_begin(pl, W_FULL, 130 + 19 * (int)n);
    style(f);
    bmap_data(f, r, idx, n, dt);
    fputs("set ytics (", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s'%s' %zu", i ? ", " : "", r->ks[idx[i]]->name, n - 1 - i);
    fprintf(f, ") font ',9' noenhanced\nset yrange [-0.8:%zu.8]\nset grid xtics ytics\nunset ylabel\n", n - 1);
    fprintf(f, "set multiplot title '%s: where each kernel first fails (first failing |value| per axis)' font ',14'\n",
            ug_dtype_name(dt));
    fprintf(f, "set lmargin at screen 0.2\nset rmargin at screen 0.76\nset xrange [-25:%d]\n", emax + 12);
    fprintf(f, "set xtics ('start' -22, '2^-16' -16, '1' 0, '2^16' 16, '2^32' 32, '2^64' 64%s, 'never' %d) font ',9'\n",
            dt == UG_F64 ? ", '2^256' 256, '2^512' 512, '2^1024' 1024" : ", '2^128' 128", emax + 8);
    fprintf(f, "set xlabel 'first failing |c|, s, d (log scale)' font ',11'\nset key at screen 0.48, screen 0.03 "
               "center horizontal\nset bmargin at screen %.17g\nset tmargin at screen %.17g\n",
            90.0 / (130 + 19 * (double)n), 1 - 40.0 / (130 + 19 * (double)n));
    fprintf(f, "set arrow 3 from %.17g, graph 0 to %.17g, graph 1 nohead dt 2 lc rgb '#d62728'\n", log2(log(ug_dtype_max(dt))),
            log2(log(ug_dtype_max(dt))));
    fputs("plot $d0 u 1:2 w p pt 9 ps 1.3 lc rgb '#d62728' t 'shift+', $d1 u 1:2 w p pt 11 ps 1.3 lc rgb '#9467bd' t "
          "'shift-', $d2 u 1:2 w p pt 5 ps 0.9 lc rgb '#ff7f0e' t 'spread', $d3 u 1:2 w p pt 7 ps 0.9 lc rgb '#1f5fbf' "
          "t 'dominance'\n",
          f);
    fputs("set ytics (", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s'' %zu", i ? ", " : "", i);
    fputs(")\n", f);
    fputs("set lmargin at screen 0.8\nset rmargin at screen 0.98\nset xrange [-1:23]\nunset arrow 3\n"
          "set xtics ('1' 0, '2^5' 5, '2^10' 10, '2^15' 15, '2^20' 20, 'never' 22)\n"
          "set xlabel 'first failing n' font ',11'\nunset key\n"
          "plot $d4 u 1:2 w p pt 13 ps 1.1 lc rgb '#2ca02c' t 'length'\nunset multiplot\n",
          f);
    return finish(pl, f);
}

/* ---------------------------------------------------------------- the comparison */

static char *cmp_plot(ug_plotter *pl, const ug_report *r, size_t c)
{
    const ug_sweep *s = &r->cmp[c];
    const ug_compare_def *d = ug_compare_at(c);
    const ug_bdir *dir = ug_bdir_find(d->axis);
    FILE *f = ug_plot_begin(pl, W_HALF, H_HALF);
    style(f);
    y_ulp_axis(f);
    double *y = malloc(s->np * sizeof *y);
    for (size_t k = 0; k < s->nk; k++) {
        for (size_t p = 0; p < s->np; p++)
            y[p] = y_of(s->worst[k * s->np + p]);
        char name[32];
        snprintf(name, sizeof name, "c%zu", k);
        datablock(f, name, s->at, y, s->np);
    }
    free(y);
    fprintf(f, "set logscale x 2\nset xrange [%.17g:%.17g]\nset xlabel '%s   (%s, f32)' font ',11' noenhanced\n", d->lo, d->hi,
            dir->param, dir->row);
    fprintf(f, "set xtics ('1/4' 0.25, '1' 1, '4' 4, '16' 16, '64' 64, '256' 256, '1024' 1024)\n");
    fprintf(f, "set title '%s' font ',12'\nset key font ',9' maxcols 2\n", ug_op_name(d->op));
    if (s->nk == 0)
        fputs("unset key\nplot 2 notitle\n", f);
    else
        plot_series(f, s->ks, s->nk, "c");
    return finish(pl, f);
}

/* ---------------------------------------------------------------- accuracy against speed */

static const unsigned dtype_rgb[UG_DTYPE_COUNT] = {0x1f5fbf, 0x2ca02c, 0xd62728};
/* gnuplot point types per op: filled for scalar kernels, the open shape (one less) for SIMD */
static const int op_pt[UG_OP_COUNT] = {7, 5, 9, 11, 13, 15, 3};

/* Worst ULP error over every input family against ns per element, one point per
 * production kernel timed in the --bench file: colour = dtype, shape = op (open: SIMD);
 * kernels worse than 2 ULP are labelled with their name (the table below the plot names
 * every point).  Both axes log2. */
static char *speed_plot(ug_plotter *pl, const ug_report *r)
{
    double lo = INFINITY, hi = 0;
    for (size_t i = 0; i < r->nspeed; i++)
        lo = fmin(lo, r->speed[i].ns), hi = fmax(hi, r->speed[i].ns);
    FILE *f = ug_plot_begin(pl, W_FULL, 560);
    style(f);
    y_ulp_axis(f);
    fputs("$v << EOD\n", f);
    for (size_t i = 0; i < r->nspeed; i++) {
        const ug_kernel *k = r->ks[r->speed[i].kernel];
        double w = r->kr[r->speed[i].kernel].max_ulp;
        int simd = strcmp(k->isa, "scalar") != 0;
        fprintf(f, "%.17g %.17g %d %u \"%s\"\n", r->speed[i].ns, y_of(w), op_pt[k->op] - simd, dtype_rgb[k->dtype],
                w > 2 ? k->name : "");
    }
    fputs("EOD\n", f);
    fprintf(f, "set logscale x 2\nset xrange [%.17g:%.17g]\nset format x '%%g'\n"
               "set xlabel 'ns per element (ulpgate bench; lower is faster)' font ',11'\n",
            lo / 2, hi * 2);
    fputs("set title 'production kernels: worst error over every input family against speed' font ',13'\n"
          "set key outside right top vertical font ',10' noenhanced\nset rmargin 18\n"
          "plot $v using 1:2:3:4 with points pt variable ps 1.3 lc rgb variable notitle, \\\n"
          "     $v using 1:2:5 with labels left offset 0.8,0.4 font ',9' tc rgb '#333333' noenhanced notitle",
          f);
    for (int op = 0; op < UG_OP_COUNT; op++)
        fprintf(f, ", \\\n     keyentry with points pt %d ps 1.2 lc rgb '#444444' title '%s'", op_pt[op],
                ug_op_name((ug_op)op));
    for (int dt = 0; dt < UG_DTYPE_COUNT; dt++)
        fprintf(f, ", \\\n     keyentry with points pt 7 ps 1.2 lc rgb '#%06x' title '%s'", dtype_rgb[dt],
                ug_dtype_name((ug_dtype)dt));
    fputs(", \\\n     keyentry with points pt 6 ps 1.2 lc rgb '#444444' title 'open: SIMD'\n", f);
    return finish(pl, f);
}

/* ---------------------------------------------------------------- all of them */

static int has_op(const ug_report *r, ug_op op)
{
    for (size_t i = 0; i < r->nk; i++)
        if (r->ks[i]->op == op)
            return 1;
    return 0;
}

void ug_report_plots(ug_plots *p, const ug_report *r, const char *cmd)
{
    memset(p, 0, sizeof *p);
    ug_plotter pl;
    ug_plot_init(&pl, cmd);
    size_t *idx = malloc((r->nk + 1) * sizeof *idx);
    for (size_t c = 0; c < UG_COMPARE_COUNT && pl.available; c++)
        p->cmp[c] = r->cmp[c].nk > 0 ? cmp_plot(&pl, r, c) : NULL;
    for (int dt = 0; dt < UG_DTYPE_COUNT && pl.available; dt++)
        p->bmap[dt] = bmap_plot(&pl, r, (ug_dtype)dt, idx);
    if (r->nspeed > 0 && pl.available)
        p->speed = speed_plot(&pl, r);
    for (int op = 0; op < UG_OP_COUNT && pl.available; op++) {
        if (!has_op(r, (ug_op)op))
            continue;
        ug_progress(cmd, "plots: %s", ug_op_name((ug_op)op));
        p->hist[op] = hist_plot(&pl, r, (ug_op)op, idx);
        p->spread[op] = sweep_plot(&pl, r, &r->spread, (ug_op)op, idx);
        p->length[op] = sweep_plot(&pl, r, &r->length, (ug_op)op, idx);
    }
    ug_progress_end();
    if (!pl.available) {
        p->skipped = 1;
        snprintf(p->why, sizeof p->why, "%s", pl.why);
    }
    free(idx);
    ug_plot_free(&pl);
}

void ug_plots_free(ug_plots *p)
{
    for (int i = 0; i < UG_OP_COUNT; i++)
        free(p->hist[i]), free(p->spread[i]), free(p->length[i]);
    for (int i = 0; i < UG_DTYPE_COUNT; i++)
        free(p->bmap[i]);
    for (int i = 0; i < UG_COMPARE_COUNT; i++)
        free(p->cmp[i]);
    free(p->speed);
}
