/* plot_svg.h: the chart frame the graphs share (internal to tools/view): a self-contained
 * SVG with a title, axes with 1-2-5 ticks and unit-bearing titles, a legend that names each
 * mark by its dash pattern or marker as well as its colour (so it reads printed in black
 * and white), a caption, and polylines thinned to the output's resolution. */
#ifndef TS_PLOT_SVG_H
#define TS_PLOT_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define PLOT_W      1000
#define PLOT_H      700
#define PLOT_LEFT   90.0
#define PLOT_RIGHT  970.0
#define PLOT_TOP    56.0
#define PLOT_BOTTOM 500.0

/* A legend entry's sample: a line (with the class's stroke), a bar, a marker, a patch. */
typedef enum { PLOT_KEY_LINE, PLOT_KEY_BAR, PLOT_KEY_MARK, PLOT_KEY_PATCH } ts_plot_key_kind;

typedef struct ts_plot_legend_item {
    ts_plot_key_kind kind;
    const char *cls;   /* the CSS class that styles it */
    const char *label; /* "cwnd", "RTO retransmission (R)", ... */
    const char *glyph; /* PLOT_KEY_MARK: the text marker, or NULL for a circle */
} ts_plot_legend_item;

typedef struct ts_plot {
    FILE *f;
    double x0, x1, y0, y1; /* data ranges on the axes */
    double xscale, yscale; /* the axes' units per data unit (e.g. 1000 for ms) */
    size_t nkeys;
    ts_plot_legend_item keys[12];
} ts_plot;

/* A scale for a data range: the unit's name and the factor to apply ("ms", 1e3). */
typedef struct ts_plot_unit {
    const char *name;
    double factor;
} ts_plot_unit;
ts_plot_unit ts_plot_time_unit(double span_seconds); /* s or ms */
ts_plot_unit ts_plot_byte_unit(double max_bytes);    /* bytes, kB or MB */

/* Start the document: the style sheet (extra CSS appended), the title, the frame. */
void ts_plot_begin(ts_plot *p, FILE *f, const char *title, const char *css);
/* Set the ranges (data units) and draw grid, ticks and the axis titles. */
void ts_plot_axes(ts_plot *p, double x0, double x1, double y0, double y1, const char *xtitle,
                  const char *ytitle);
double ts_plot_px(const ts_plot *p, double x);
double ts_plot_py(const ts_plot *p, double y);
/* Open and close the clipped drawing area (marks outside the frame are cut). */
void ts_plot_clip_begin(ts_plot *p);
void ts_plot_clip_end(ts_plot *p);
void ts_plot_key(ts_plot *p, ts_plot_key_kind kind, const char *cls, const char *label,
                 const char *glyph);
/* The legend (below the x axis), the caption lines, and the end of the document. */
void ts_plot_end(ts_plot *p, const char *const *captions, size_t ncaptions);

/* A polyline in data units, thinned at 1 px: in each pixel column only the first, lowest,
 * highest and last points are kept, which draws the same picture. Steps: hold each value
 * until the next point (a step function, as cwnd is). */
typedef struct ts_plot_line {
    ts_plot *p;
    const char *cls;
    bool step, open;
    int col;          /* the current pixel column */
    double pts[4][2]; /* first, min, max, last of the column (pixels) */
    int npts;
    double last_y;
    size_t written; /* points written on the current path element */
} ts_plot_line;

void ts_plot_line_begin(ts_plot_line *l, ts_plot *p, const char *cls, bool step);
void ts_plot_line_add(ts_plot_line *l, double x, double y);
/* End the current run (a gap follows, e.g. ssthresh became unset). */
void ts_plot_line_break(ts_plot_line *l);
void ts_plot_line_end(ts_plot_line *l);

/* Escape text for SVG into f. */
void ts_plot_text(FILE *f, const char *s);

#endif
