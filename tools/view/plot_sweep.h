/* plot_sweep.h: the graph of a sweep (`tcpsim plot sweep`): one line per group (a policy),
 * the median over seeds at each x, and a band for the 95% confidence interval of that
 * median from order statistics. The statistics are here too, so that the numbers drawn
 * and the numbers written beside the picture are the same ones. */
#ifndef TS_PLOT_SWEEP_H
#define TS_PLOT_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The median of v[0..n) (sorted in place) and the distribution-free confidence interval
 * for it: the order statistics x(l) and x(n+1-l) with l the largest rank such that
 * P(Binomial(n, 1/2) <= l-1) <= 2.5%, so the coverage is at least 95% (n >= 6). With fewer
 * than 6 values no such rank exists: the interval is [min, max] and *coverage says what
 * it covers (1 - 2^(1-n)). n > 0. */
void ts_median_ci(double *v, size_t n, double *med, double *lo, double *hi, double *coverage);

typedef struct ts_sweep_mark {
    double x;
    size_t n; /* values behind it */
    double med, lo, hi;
} ts_sweep_mark;

typedef struct ts_sweep_curve {
    const char *label; /* "cc=cubic" */
    ts_sweep_mark *pts;
    size_t npts; /* sorted by x */
} ts_sweep_curve;

typedef struct ts_sweep_plot {
    const char *title, *xtitle, *ytitle;
    double yscale; /* axis units per data unit (1e3 for seconds shown as ms) */
    const ts_sweep_curve *lines;
    size_t nlines;
    const char *const *captions;
    size_t ncaptions;
} ts_sweep_plot;

/* Draw it as SVG; 0, or -1 with err when there is nothing to draw. */
int ts_plot_sweep(const ts_sweep_plot *sp, FILE *f, char *err, size_t errlen);

#endif
