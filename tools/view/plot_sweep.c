/* plot_sweep.c: a sweep's graph (plot_sweep.h) on the shared chart frame (plot_svg.h):
 * per line, a shaded band from the confidence interval's lower to its upper bound, the
 * medians joined by a line, and a marker at each median. Lines differ by dash pattern and
 * marker shape as well as colour, so the picture reads in black and white. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot_svg.h"
#include "plot_sweep.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* log P(Binomial(n, 1/2) = k) */
static double log_pmf(size_t n, size_t k)
{
    return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) -
           (double)n * log(2.0);
}

void ts_median_ci(double *v, size_t n, double *med, double *lo, double *hi, double *coverage)
{
    qsort(v, n, sizeof *v, cmp_double);
    *med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    /* l: the largest rank with P(B <= l - 1) <= 0.025; at least 1 */
    size_t l = 1;
    double cdf = 0; /* P(B <= l - 1) for the l being tried */
    double tail = exp(log_pmf(n, 0));
    for (size_t r = 1; r <= n / 2; r++) {
        double next = cdf + tail; /* P(B <= r - 1) */
        if (next > 0.025) break;
        cdf = next;
        l = r;
        tail = exp(log_pmf(n, r));
    }
    *lo = v[l - 1];
    *hi = v[n - l];
    *coverage = 1 - 2 * cdf;
    if (cdf == 0) *coverage = 1 - 2 * exp(log_pmf(n, 0)); /* [min, max]: 1 - 2^(1-n) */
}

/* Eight styles: colour, dash, marker. */
static const char sweep_css[] =
    ".l0{stroke:#1f4fb4;stroke-width:2;fill:none}.b0{fill:#1f4fb4;fill-opacity:0.14}"
    ".m0{fill:#1f4fb4}"
    ".l1{stroke:#c0392b;stroke-width:2;stroke-dasharray:9 5;fill:none}"
    ".b1{fill:#c0392b;fill-opacity:0.14}.m1{fill:#c0392b}"
    ".l2{stroke:#1e8449;stroke-width:2;stroke-dasharray:2 3;fill:none}"
    ".b2{fill:#1e8449;fill-opacity:0.14}.m2{fill:#1e8449}"
    ".l3{stroke:#7d3c98;stroke-width:2;stroke-dasharray:10 3 2 3;fill:none}"
    ".b3{fill:#7d3c98;fill-opacity:0.14}.m3{fill:#7d3c98}"
    ".l4{stroke:#b9770e;stroke-width:1.5;fill:none}.b4{fill:#b9770e;fill-opacity:0.14}"
    ".m4{fill:#b9770e}"
    ".l5{stroke:#000;stroke-width:1.5;stroke-dasharray:5 5;fill:none}"
    ".b5{fill:#000;fill-opacity:0.10}.m5{fill:#000}"
    ".l6{stroke:#117a8b;stroke-width:1.5;stroke-dasharray:1 2;fill:none}"
    ".b6{fill:#117a8b;fill-opacity:0.14}.m6{fill:#117a8b}"
    ".l7{stroke:#555;stroke-width:1.5;stroke-dasharray:12 3;fill:none}"
    ".b7{fill:#555;fill-opacity:0.12}.m7{fill:#555}"
    ".mk{stroke:#fff;stroke-width:0.8}";

static const char *const shapes[] = {"circle", "square", "triangle", "diamond",
                                     "circle", "square", "triangle", "diamond"};
static const char *const dashes[] = {"solid",       "dashed",      "dotted",    "dash-dot",
                                     "solid, thin", "long dashes", "fine dots", "long dash"};

static void marker(FILE *f, int k, double x, double y)
{
    switch (k % 4) {
    case 0:
        fprintf(f, "<circle class=\"mk m%d\" cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\"/>", k, x, y);
        break;
    case 1:
        fprintf(f, "<rect class=\"mk m%d\" x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\"/>", k,
                x - 4, y - 4);
        break;
    case 2:
        fprintf(f, "<polygon class=\"mk m%d\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>", k, x,
                y - 5.5, x - 5, y + 4, x + 5, y + 4);
        break;
    default:
        fprintf(f, "<polygon class=\"mk m%d\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>",
                k, x, y - 6, x + 5, y, x, y + 6, x - 5, y);
        break;
    }
}

static void draw_line(ts_plot *p, const ts_sweep_curve *l, int k)
{
    FILE *f = p->f;
    fprintf(f, "<g class=\"series\" data-label=\"");
    ts_plot_text(f, l->label);
    fprintf(f, "\">\n<polygon class=\"band b%d\" points=\"", k);
    for (size_t i = 0; i < l->npts; i++)
        fprintf(f, "%s%.1f,%.1f", i ? " " : "", ts_plot_px(p, l->pts[i].x),
                ts_plot_py(p, l->pts[i].hi));
    for (size_t i = l->npts; i-- > 0;)
        fprintf(f, " %.1f,%.1f", ts_plot_px(p, l->pts[i].x), ts_plot_py(p, l->pts[i].lo));
    fprintf(f, "\"/>\n<polyline class=\"median l%d\" points=\"", k);
    for (size_t i = 0; i < l->npts; i++)
        fprintf(f, "%s%.1f,%.1f", i ? " " : "", ts_plot_px(p, l->pts[i].x),
                ts_plot_py(p, l->pts[i].med));
    fputs("\"/>\n", f);
    for (size_t i = 0; i < l->npts; i++)
        marker(f, k, ts_plot_px(p, l->pts[i].x), ts_plot_py(p, l->pts[i].med));
    fputs("\n</g>\n", f);
}

int ts_plot_sweep(const ts_sweep_plot *sp, FILE *f, char *err, size_t errlen)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    size_t nl = sp->nlines < 8 ? sp->nlines : 8;
    for (size_t k = 0; k < nl; k++)
        for (size_t i = 0; i < sp->lines[k].npts; i++) {
            const ts_sweep_mark *pt = &sp->lines[k].pts[i];
            x0 = fmin(x0, pt->x), x1 = fmax(x1, pt->x);
            y0 = fmin(y0, pt->lo), y1 = fmax(y1, pt->hi);
        }
    if (!isfinite(x0) || !isfinite(y0)) {
        snprintf(err, errlen, "nothing to plot: no values");
        return -1;
    }
    if (y0 > 0) y0 = 0; /* quantities start at zero: differences are not exaggerated */
    double ypad = (y1 - y0) * 0.06, xpad = (x1 - x0) * 0.04;
    ts_plot p;
    ts_plot_begin(&p, f, sp->title, sweep_css);
    p.yscale = sp->yscale > 0 ? sp->yscale : 1.0;
    ts_plot_axes(&p, x0 - (xpad > 0 ? xpad : 0.5), x1 + (xpad > 0 ? xpad : 0.5), y0,
                 y1 + (ypad > 0 ? ypad : 1e-3), sp->xtitle, sp->ytitle);
    ts_plot_clip_begin(&p);
    for (size_t k = 0; k < nl; k++) draw_line(&p, &sp->lines[k], (int)k);
    ts_plot_clip_end(&p);
    static const char *const cls[] = {"l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7"};
    char labels[8][160];
    for (size_t k = 0; k < nl; k++) {
        snprintf(labels[k], sizeof labels[k], "%s (%s, %s)", sp->lines[k].label, dashes[k],
                 shapes[k]);
        ts_plot_key(&p, PLOT_KEY_LINE, cls[k], labels[k], NULL);
    }
    ts_plot_key(&p, PLOT_KEY_PATCH, "b5", "95% CI of the median (shaded)", NULL);
    ts_plot_end(&p, sp->captions, sp->ncaptions);
    return 0;
}
