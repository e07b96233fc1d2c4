/* report.html: one self-contained page (no external file, font or script), the plots
 * inline as base64 SVG images (report_plots.c).  A few lines of script only count the
 * plots that the browser decoded (body[data-plots-loaded="k/n"]), for the rendering test
 * (props/test_report_render.c). */
#include <math.h>
#include <string.h>

#include "measure.h"
#include "peers.h"
#include "report.h"

static const char css[] =
    "*{box-sizing:border-box}"
    "body{margin:0;font:15px/1.5 -apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:#1f2328;"
    "background:#f6f8fa}"
    "header{background:#24292f;color:#fff;padding:28px 40px 18px}"
    "header h1{margin:0;font-size:28px;font-weight:600}header p{margin:6px 0 0;color:#c9d1d9}"
    ".cards{display:flex;gap:14px;flex-wrap:wrap;margin-top:18px}"
    ".card{flex:1 1 0;background:#fff;color:#1f2328;border-radius:8px;padding:12px 18px;min-width:200px;"
    "border-top:4px solid #8c959f}"
    ".card b{display:block;font-size:24px}.card.ok{border-color:#1a7f37}.card.bad{border-color:#cf222e}"
    "nav{margin-top:16px}nav a{color:#9ecbff;margin-right:18px;text-decoration:none}"
    "main{max-width:1260px;margin:0 auto;padding:8px 30px 40px}"
    "section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:10px 26px 22px;margin:22px 0}"
    "h2{border-bottom:1px solid #d8dee4;padding-bottom:6px}h3{margin-top:28px}"
    "table{border-collapse:collapse;font-size:13px;width:100%;margin:10px 0}"
    "th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}"
    "th{background:#f6f8fa;position:sticky;top:0}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "tr:nth-child(even) td{background:#fbfcfd}code{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace}"
    ".badge{display:inline-block;border-radius:10px;padding:0 9px;font-size:12px;font-weight:600;color:#fff}"
    ".PASS{background:#1a7f37}.FAIL{background:#cf222e}.CAUGHT{background:#9a6700}.missed{background:#cf222e}"
    ".never{color:#1a7f37}.start{color:#cf222e;font-weight:600}"
    ".grid2{display:grid;grid-template-columns:11fr 10fr;gap:18px;align-items:start}"
    "figure{margin:12px 0}figure img{width:100%;height:auto;border:1px solid #eaeef2;border-radius:6px}"
    "figcaption{font-size:13px;color:#57606a;margin-top:4px}"
    ".note{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px}"
    "footer{color:#57606a;font-size:13px;text-align:center;padding:20px}";

static void esc(FILE *f, const char *s)
{
    for (; *s != '\0'; s++)
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
}

void ug_html_esc(FILE *f, const char *s) { esc(f, s); }

static void figure(FILE *f, const char *b64, const char *alt, const char *caption)
{
    if (b64 == NULL)
        return;
    fputs("<figure><img class=\"plot\" alt=\"", f);
    esc(f, alt);
    fprintf(f, "\" src=\"data:image/svg+xml;base64,%s\">", b64);
    if (caption != NULL) {
        fputs("<figcaption>", f);
        esc(f, caption);
        fputs("</figcaption>", f);
    }
    fputs("</figure>\n", f);
}

static void badge(FILE *f, const char *verdict) { fprintf(f, "<span class=\"badge %s\">%s</span>", verdict, verdict); }

/* ---------------------------------------------------------------- header */

/* Outputs in violation (and kernel errors) of production and variant kernels. */
static size_t production_violations(const ug_report *r)
{
    size_t v = 0;
    for (size_t i = 0; i < r->nk; i++)
        if (r->kr[i].k->role != UG_ROLE_CANARY)
            v += r->kr[i].violations + r->kr[i].kernel_errors;
    return v;
}

static void header(FILE *f, const ug_report *r)
{
    size_t viol = production_violations(r);
    fprintf(f, "<header><h1>ulpgate accuracy report</h1><p>Seed %llu &middot; %s run &middot; %zu kernels &middot; "
               "%zu input families &middot; every output compared with the correctly rounded MPFR result</p>\n",
            (unsigned long long)r->seed, r->quick ? "quick" : "full", r->nk, ug_family_count());
    fprintf(f, "<div class=\"cards\"><div class=\"card %s\"><b>%zu / %zu</b>production and variant kernels within "
               "their claimed bounds</div>",
            r->passed == r->checked ? "ok" : "bad", r->passed, r->checked);
    fprintf(f, "<div class=\"card %s\"><b>%zu / %zu</b>canaries (known-bad algorithms) caught</div>",
            r->caught == r->canaries ? "ok" : "bad", r->caught, r->canaries);
    fprintf(f, "<div class=\"card %s\"><b>%zu</b>special-value or overflow violations in production and variant "
               "kernels</div></div>\n",
            viol ? "bad" : "ok", viol);
    fputs("<nav><a href=\"#logits\">Loss from logits</a><a href=\"#kernels\">Kernels</a><a href=\"#boundaries\">"
          "Boundaries</a><a href=\"#ops\">Accuracy per op</a><a href=\"#speed\">Speed</a><a href=\"#canaries\">Canaries</a></nav></header>\n<main>\n",
          f);
}

/* ---------------------------------------------------------------- sections */

static void bcell(FILE *f, const ug_bresult *b)
{
    if (b->kind == UG_B_NEVER)
        fputs("<td class=\"n never\">never</td>", f);
    else if (b->kind == UG_B_ORIGIN)
        fputs("<td class=\"n start\">at start</td>", f);
    else if (b->dir->axis == UG_AXIS_LENGTH)
        fprintf(f, "<td class=\"n\" title=\"%a\">%.0f%s</td>", b->at, b->at, b->monotone ? "" : "*");
    else
        fprintf(f, "<td class=\"n\" title=\"%a\">%.5g%s</td>", b->at, b->at, b->monotone ? "" : "*");
}

static void compare_table(FILE *f, const ug_report *r, size_t c)
{
    const ug_compare_def *d = ug_compare_at(c);
    const ug_bdir *dir = ug_bdir_find(d->axis);
    size_t di = (size_t)(dir - ug_bdir_at(0));
    fprintf(f, "<table><tr><th>kernel</th><th>over bound from %s</th><th>breaks from %s</th>"
               "<th>what it returns there</th></tr>\n",
            dir->param, dir->param);
    for (size_t i = 0; i < r->nk; i++) {
        if (r->ks[i]->op != d->op)
            continue;
        const ug_bresult *b = ug_report_boundary(r, i, di), *v = ug_report_violation(r, c, r->ks[i]);
        char ret[256];
        ug_bfmt_returns(ret, sizeof ret, v->kind != UG_B_NEVER ? v : b);
        fprintf(f, "<tr><td><code>%s</code></td>", r->ks[i]->name);
        bcell(f, b);
        bcell(f, v);
        fputs("<td>", f);
        esc(f, b->kind == UG_B_NEVER && v->kind == UG_B_NEVER ? "" : ret);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void logits(FILE *f, const ug_report *r, const ug_plots *p)
{
    fputs("<section id=\"logits\"><h2>Compute the loss from logits</h2><p>&ldquo;Use the loss that takes logits, it "
          "is numerically stable&rdquo; &mdash; measured.  Each plot follows one axis of <code>ulpgate boundary</code> "
          "and shows the worst error of every f32 algorithm for the op; each table gives, for every dtype, the first "
          "input at which the algorithm exceeds its claimed bound (<i>over bound</i>), the first at which it "
          "<i>breaks</i> outright (inf, NaN, a wrong zero: not one correct bit), both by bisection over the dtype's "
          "values, and what it returns where it breaks (or goes over its bound).</p>\n",
          f);
    for (size_t c = 0; c < UG_COMPARE_COUNT; c++) {
        const ug_compare_def *d = ug_compare_at(c);
        size_t count = 0;
        for (size_t i = 0; i < r->nk; i++)
            count += r->ks[i]->op == d->op;
        if (count == 0)
            continue;
        fprintf(f, "<h3 id=\"%s\">", d->id);
        esc(f, d->title);
        fputs("</h3><div class=\"grid2\"><div>", f);
        figure(f, p->cmp[c], d->title, d->lesson);
        if (p->cmp[c] == NULL) {
            fputs("<p>", f);
            esc(f, d->lesson);
            fputs("</p>", f);
        }
        fputs("</div><div>", f);
        compare_table(f, r, c);
        fputs("</div></div>\n", f);
    }
    fputs("</section>\n", f);
}

static void kernels(FILE *f, const ug_report *r)
{
    fputs("<section id=\"kernels\"><h2>Kernels</h2><p>Worst ULP error over every input family (0.5 = correctly "
          "rounded), the largest per-family 99th percentile, the share of correctly rounded outputs, and outputs "
          "in violation (NaN, inf, a wrong zero or sign).</p>\n<table><tr><th>kernel</th><th>role</th><th>claim</th>"
          "<th>max ULP</th><th>on family</th><th>p99</th><th>correctly rounded</th><th>violations</th><th>verdict</th>"
          "<th>description</th></tr>\n",
          f);
    for (size_t i = 0; i < r->nk; i++) {
        const ug_kreport *k = &r->kr[i];
        char mx[32], p99[32], claim[32];
        ug_fmt_stat(mx, sizeof mx, k->max_ulp);
        ug_fmt_stat(p99, sizeof p99, k->p99);
        ug_fmt_stat(claim, sizeof claim, k->k->bound.ulp);
        fprintf(f, "<tr><td><code>%s</code></td><td>%s</td><td class=\"n\">%s%s</td><td class=\"n\">%s</td><td>%s</td>"
                   "<td class=\"n\">%s</td><td class=\"n\">%.2f%%</td><td class=\"n\">%zu</td><td>",
                k->k->name, ug_role_name(k->k->role), claim, k->k->bound.per_n || k->k->bound.per_cond ? "+" : "", mx,
                k->worst_family ? k->worst_family : "-", p99,
                k->outputs ? 100.0 * (double)k->correct / (double)k->outputs : 0.0, k->violations + k->kernel_errors);
        badge(f, ug_verdict(k->k, k->failed));
        fputs("</td><td>", f);
        esc(f, k->k->desc);
        fputs("</td></tr>\n", f);
    }
    fputs("</table></section>\n", f);
}

static void boundaries(FILE *f, const ug_report *r, const ug_plots *p)
{
    size_t nd = ug_bdir_count();
    fputs("<section id=\"boundaries\"><h2>Boundaries</h2><p>The first input at which each kernel fails along each "
          "axis: <i>never</i> = passes on the whole axis, <i>at start</i> = fails at its first point, * = the failure "
          "is not monotone along the axis (the search found a pass after a failure).  Hover a value for its hex "
          "float.  The dashed red line of a map is log(largest finite), where exp overflows.</p>\n<ul>",
          f);
    for (size_t d = 0; d < nd; d++)
        fprintf(f, "<li><b>%s</b>: %s</li>", ug_bdir_at(d)->name, ug_bdir_at(d)->row);
    fputs("</ul>\n", f);
    for (int dt = 0; dt < UG_DTYPE_COUNT; dt++) {
        char alt[64];
        snprintf(alt, sizeof alt, "boundary map, %s", ug_dtype_name((ug_dtype)dt));
        figure(f, p->bmap[dt], alt, NULL);
    }
    fputs("<table><tr><th>kernel</th>", f);
    for (size_t d = 0; d < nd; d++)
        fprintf(f, "<th>%s (%s)</th>", ug_bdir_at(d)->name, ug_bdir_at(d)->param);
    fputs("</tr>\n", f);
    for (size_t i = 0; i < r->nk; i++) {
        fprintf(f, "<tr><td><code>%s</code></td>", r->ks[i]->name);
        for (size_t d = 0; d < nd; d++)
            bcell(f, ug_report_boundary(r, i, d));
        fputs("</tr>\n", f);
    }
    fputs("</table></section>\n", f);
}

static void ops(FILE *f, const ug_report *r, const ug_plots *p)
{
    fputs("<section id=\"ops\"><h2>Accuracy per op</h2><p>For each op and dtype: the distribution of the ULP error "
          "over every input family; the worst error on rows of 16 logits of growing spread; the worst error on "
          "normal(0, 1) rows of growing length.  Thick lines are production kernels, dashed lines canaries.</p>\n",
          f);
    for (int op = 0; op < UG_OP_COUNT; op++) {
        const char *name = ug_op_name((ug_op)op);
        char alt[96];
        size_t count = 0;
        for (size_t i = 0; i < r->nk; i++)
            count += r->ks[i]->op == (ug_op)op;
        if (count == 0)
            continue;
        fprintf(f, "<h3 id=\"op-%s\">%s</h3>\n", name, name);
        snprintf(alt, sizeof alt, "%s: ULP histogram", name);
        figure(f, p->hist[op], alt, NULL);
        snprintf(alt, sizeof alt, "%s: worst ULP against spread", name);
        figure(f, p->spread[op], alt, NULL);
        snprintf(alt, sizeof alt, "%s: worst ULP against n", name);
        figure(f, p->length[op], alt, NULL);
    }
    fputs("</section>\n", f);
}

static void speed(FILE *f, const ug_report *r, const ug_plots *p)
{
    fputs("<section id=\"speed\"><h2>Accuracy against speed</h2>", f);
    if (r->bench == NULL) {
        fputs("<p class=\"note\">No benchmark figures: the report never times kernels itself (its bytes depend only on "
              "its inputs).  Run <code>ulpgate bench --json FILE</code>, then <code>ulpgate report --bench FILE</code>; "
              "<code>scripts/report</code> does both.</p></section>\n",
              f);
        return;
    }
    const char *base = strrchr(r->bench, '/') != NULL ? strrchr(r->bench, '/') + 1 : r->bench;
    fputs("<p>Each production kernel's worst ULP error over every input family against its time per element, from the "
          "benchmark file <code>",
          f);
    esc(f, base);
    fputs("</code> (<code>ulpgate bench --json</code>, ISA ", f);
    esc(f, r->bench_isa);
    fputs("; the shape with n closest to 1024).  Timings come from that run and its machine's load; the errors are "
          "this report's.</p>\n",
          f);
    figure(f, p->speed, "worst ULP against ns per element", NULL);
    fputs("<table><tr><th>kernel</th><th>rows &times; n</th><th>ns per element</th><th>worst ULP</th></tr>\n", f);
    for (size_t i = 0; i < r->nspeed; i++) {
        const ug_speed *sp = &r->speed[i];
        char w[32];
        ug_fmt_stat(w, sizeof w, r->kr[sp->kernel].max_ulp);
        fprintf(f, "<tr><td><code>%s</code></td><td>%zu &times; %zu</td><td>%.3g</td><td>%s</td></tr>\n",
                r->ks[sp->kernel]->name, sp->rows, sp->n, sp->ns, w);
    }
    fputs("</table></section>\n", f);
}

static void canaries(FILE *f, const ug_report *r)
{
    fputs("<section id=\"canaries\"><h2>Canaries</h2><p>Known-bad algorithms that real code uses, kept so that the "
          "harness proves it sees badness; each claims its production sibling's bound and must miss it.</p>"
          "<table><tr><th>canary</th><th>verdict</th><th>caught on</th><th>what it does</th></tr>\n",
          f);
    for (size_t i = 0; i < r->nk; i++) {
        const ug_kreport *k = &r->kr[i];
        if (k->k->role != UG_ROLE_CANARY)
            continue;
        fprintf(f, "<tr><td><code>%s</code></td><td>", k->k->name);
        badge(f, ug_verdict(k->k, k->failed));
        fprintf(f, "</td><td>%s</td><td>", k->caught_by);
        esc(f, k->k->desc);
        fputs("</td></tr>\n", f);
    }
    fputs("</table></section>\n", f);
}

static const char script[] =
    "<script>window.addEventListener('load',function(){var a=document.querySelectorAll('img.plot'),n=0;"
    "for(var i=0;i<a.length;i++)if(a[i].complete&&a[i].naturalWidth>0)n++;"
    "document.body.setAttribute('data-plots-loaded',n+'/'+a.length);});</script>\n";

void ug_report_html(FILE *f, const ug_report *r, const ug_plots *p)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
               "<meta name=\"generator\" content=\"ulpgate report, schema %s %d\">"
               "<title>ulpgate accuracy report</title><style>%s</style></head>\n<body>\n",
            UG_REPORT_SCHEMA, UG_REPORT_SCHEMA_VERSION, css);
    header(f, r);
    if (p->skipped) {
        fputs("<p class=\"note\">Plots were skipped: ", f);
        esc(f, p->why);
        fputs(". The tables below hold every figure; report.json holds the data.</p>\n", f);
    }
    logits(f, r, p);
    kernels(f, r);
    boundaries(f, r, p);
    ops(f, r, p);
    speed(f, r, p);
    canaries(f, r);
    ug_peers_html(f, r->peers);
    fprintf(f, "</main><footer>Generated by <code>ulpgate report --out DIR --seed %llu%s%s</code>; the same command "
               "(and benchmark file) gives the same bytes.  Data: report.json (schema %s, version %d, reports/SCHEMA.md)."
               "</footer>\n%s</body></html>\n",
            (unsigned long long)r->seed, r->quick ? " --quick" : "", r->bench != NULL ? " --bench FILE" : "",
            UG_REPORT_SCHEMA, UG_REPORT_SCHEMA_VERSION, script);
}
