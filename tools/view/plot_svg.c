/* plot_svg.c: the chart frame shared by the time-sequence, cwnd and RTT graphs: document,
 * axes and ticks, legend, caption, and polylines thinned to the pixel. */
#include <math.h>
#include <string.h>

#include "plot_svg.h"

/* Black-and-white first: every class differs by dash, width or marker; colour helps. */
static const char base_css[] =
    "text{font-family:sans-serif;font-size:13px;fill:#000}"
    ".title{font-size:16px;font-weight:bold}.axis{stroke:#000;stroke-width:1;fill:none}"
    ".grid{stroke:#ccc;stroke-width:0.5}.tick{font-size:12px}.cap{font-size:12px}"
    ".atitle{font-size:13px}.keybox{fill:#fff;stroke:#888}";

ts_plot_unit ts_plot_time_unit(double span)
{
    return span < 2.0 ? (ts_plot_unit){"ms", 1e3} : (ts_plot_unit){"s", 1.0};
}

ts_plot_unit ts_plot_byte_unit(double max)
{
    if (max < 20e3) return (ts_plot_unit){"bytes", 1.0};
    if (max < 20e6) return (ts_plot_unit){"kB", 1e-3};
    return (ts_plot_unit){"MB", 1e-6};
}

void ts_plot_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n') fputc(*s, f);
            break;
        }
    }
}

void ts_plot_begin(ts_plot *p, FILE *f, const char *title, const char *css)
{
    memset(p, 0, sizeof *p);
    p->f = f;
    p->xscale = p->yscale = 1.0;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\">\n<style>%s%s</style>\n"
            "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n"
            "<text class=\"title\" x=\"%d\" y=\"28\" text-anchor=\"middle\">",
            PLOT_W, PLOT_H, PLOT_W, PLOT_H, base_css, css ? css : "", PLOT_W, PLOT_H, PLOT_W / 2);
    ts_plot_text(f, title);
    fputs("</text>\n", f);
}

double ts_plot_px(const ts_plot *p, double x)
{
    double span = p->x1 > p->x0 ? p->x1 - p->x0 : 1.0;
    return PLOT_LEFT + (x - p->x0) / span * (PLOT_RIGHT - PLOT_LEFT);
}

double ts_plot_py(const ts_plot *p, double y)
{
    double span = p->y1 > p->y0 ? p->y1 - p->y0 : 1.0;
    return PLOT_BOTTOM - (y - p->y0) / span * (PLOT_BOTTOM - PLOT_TOP);
}

/* A 1-2-5 step giving about n ticks over span. */
static double tick_step(double span, int n)
{
    if (!(span > 0)) return 1.0;
    double raw = span / n, mag = pow(10.0, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

static void tick_label(char *buf, size_t n, double v, double step)
{
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6) dec = 6;
    if (fabs(v) < step * 1e-6) v = 0;
    snprintf(buf, n, "%.*f", dec, v);
}

static void draw_ticks(ts_plot *p, bool xaxis)
{
    double lo = xaxis ? p->x0 : p->y0, hi = xaxis ? p->x1 : p->y1;
    double scale = xaxis ? p->xscale : p->yscale;
    double step = tick_step((hi - lo) * scale, xaxis ? 10 : 8);
    char lab[32];
    for (double v = ceil(lo * scale / step - 1e-9) * step; v <= hi * scale + step * 1e-9;
         v += step) {
        tick_label(lab, sizeof lab, v, step);
        if (xaxis) {
            double x = ts_plot_px(p, v / scale);
            fprintf(p->f,
                    "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                    "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                    x, PLOT_TOP, x, PLOT_BOTTOM + 5, x, PLOT_BOTTOM + 19, lab);
        } else {
            double y = ts_plot_py(p, v / scale);
            fprintf(p->f,
                    "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                    "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                    PLOT_LEFT - 5, y, PLOT_RIGHT, y, PLOT_LEFT - 8, y + 4, lab);
        }
    }
}

void ts_plot_axes(ts_plot *p, double x0, double x1, double y0, double y1, const char *xtitle,
                  const char *ytitle)
{
    p->x0 = x0;
    p->x1 = x1 > x0 ? x1 : x0 + 1e-3;
    p->y0 = y0;
    p->y1 = y1 > y0 ? y1 : y0 + 1;
    draw_ticks(p, true);
    draw_ticks(p, false);
    fprintf(p->f,
            "<rect class=\"axis\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n"
            "<text class=\"atitle xtitle\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            PLOT_LEFT, PLOT_TOP, PLOT_RIGHT - PLOT_LEFT, PLOT_BOTTOM - PLOT_TOP,
            (PLOT_LEFT + PLOT_RIGHT) / 2, PLOT_BOTTOM + 40);
    ts_plot_text(p->f, xtitle);
    fprintf(p->f,
            "</text>\n<text class=\"atitle ytitle\" x=\"22\" y=\"%.1f\" text-anchor=\"middle\" "
            "transform=\"rotate(-90 22 %.1f)\">",
            (PLOT_TOP + PLOT_BOTTOM) / 2, (PLOT_TOP + PLOT_BOTTOM) / 2);
    ts_plot_text(p->f, ytitle);
    fprintf(p->f,
            "</text>\n<clipPath id=\"frame\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
            "height=\"%.1f\"/></clipPath>\n",
            PLOT_LEFT, PLOT_TOP - 12, PLOT_RIGHT - PLOT_LEFT, PLOT_BOTTOM - PLOT_TOP + 12);
}

void ts_plot_clip_begin(ts_plot *p)
{
    fputs("<g clip-path=\"url(#frame)\">\n", p->f);
}

void ts_plot_clip_end(ts_plot *p)
{
    fputs("</g>\n", p->f);
}

void ts_plot_key(ts_plot *p, ts_plot_key_kind kind, const char *cls, const char *label,
                 const char *glyph)
{
    if (p->nkeys < sizeof p->keys / sizeof p->keys[0])
        p->keys[p->nkeys++] = (ts_plot_legend_item){kind, cls, label, glyph};
}

/* One legend sample at (x, y), 30 px wide. */
static void key_sample(FILE *f, const ts_plot_legend_item *k, double x, double y)
{
    switch (k->kind) {
    case PLOT_KEY_LINE:
        fprintf(f, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", k->cls,
                x, y, x + 30, y);
        break;
    case PLOT_KEY_BAR:
        fprintf(f, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", k->cls,
                x + 15, y - 7, x + 15, y + 7);
        if (k->glyph)
            fprintf(f, "<text class=\"mk %s\" x=\"%.1f\" y=\"%.1f\">%s</text>", k->cls, x + 19,
                    y - 1, k->glyph);
        break;
    case PLOT_KEY_MARK:
        if (k->glyph)
            fprintf(f,
                    "<text class=\"mk %s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                    k->cls, x + 15, y + 4, k->glyph);
        else
            fprintf(f, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>", k->cls, x + 15, y);
        break;
    case PLOT_KEY_PATCH:
        fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"30\" height=\"12\"/>", k->cls,
                x, y - 6);
        break;
    }
}

void ts_plot_end(ts_plot *p, const char *const *captions, size_t ncaptions)
{
    /* The legend: entries in rows below the axis title, about 230 px each. */
    double x = PLOT_LEFT, y = PLOT_BOTTOM + 66;
    fputs("<g class=\"legend\">\n", p->f);
    for (size_t i = 0; i < p->nkeys; i++) {
        double w = 44 + 7.0 * (double)strlen(p->keys[i].label);
        if (x + w > PLOT_RIGHT && x > PLOT_LEFT) {
            x = PLOT_LEFT;
            y += 20;
        }
        key_sample(p->f, &p->keys[i], x, y);
        fprintf(p->f, "<text x=\"%.1f\" y=\"%.1f\">", x + 36, y + 4);
        ts_plot_text(p->f, p->keys[i].label);
        fputs("</text>\n", p->f);
        x += w;
    }
    fputs("</g>\n", p->f);
    y += 24;
    for (size_t i = 0; i < ncaptions; i++, y += 16) {
        fprintf(p->f, "<text class=\"cap\" x=\"%.1f\" y=\"%.1f\">", PLOT_LEFT, y);
        ts_plot_text(p->f, captions[i]);
        fputs("</text>\n", p->f);
    }
    fputs("</svg>\n", p->f);
}

/* ---- thinned polylines --------------------------------------------------------------- */

void ts_plot_line_begin(ts_plot_line *l, ts_plot *p, const char *cls, bool step)
{
    memset(l, 0, sizeof *l);
    l->p = p;
    l->cls = cls;
    l->step = step;
    l->col = -1;
}

static void emit(ts_plot_line *l, double x, double y)
{
    FILE *f = l->p->f;
    if (!l->open) {
        fprintf(f, "<polyline class=\"%s\" points=\"", l->cls);
        l->open = true;
        l->written = 0;
    }
    fprintf(f, "%s%.1f,%.1f", l->written++ ? " " : "", x, y);
}

/* Write the column's points: first, the extremes in the order they came, last. */
static void flush_col(ts_plot_line *l)
{
    for (int i = 0; i < l->npts; i++) {
        if (i && l->pts[i][0] == l->pts[i - 1][0] && l->pts[i][1] == l->pts[i - 1][1]) continue;
        emit(l, l->pts[i][0], l->pts[i][1]);
    }
    l->npts = 0;
}

/* Keep a point in its column: at most first, min, max, last (4 points) per column. */
static void keep(ts_plot_line *l, double px, double py)
{
    int col = (int)floor(px);
    if (col != l->col) {
        flush_col(l);
        l->col = col;
    }
    if (l->npts < 4) {
        l->pts[l->npts][0] = px;
        l->pts[l->npts][1] = py;
        l->npts++;
        return;
    }
    /* Four held: fold the middle two into the extremes, the new point becomes last. */
    double lo = l->pts[1][1] < l->pts[2][1] ? l->pts[1][1] : l->pts[2][1];
    double hi = l->pts[1][1] > l->pts[2][1] ? l->pts[1][1] : l->pts[2][1];
    double last = l->pts[3][1];
    if (last < lo) lo = last;
    if (last > hi) hi = last;
    l->pts[1][1] = lo;
    l->pts[2][1] = hi;
    l->pts[1][0] = l->pts[2][0] = l->pts[3][0];
    l->pts[3][0] = px;
    l->pts[3][1] = py;
}

void ts_plot_line_add(ts_plot_line *l, double x, double y)
{
    double px = ts_plot_px(l->p, x), py = ts_plot_py(l->p, y);
    if (px < PLOT_LEFT - 2) px = PLOT_LEFT - 2; /* keep the path sane beyond the frame */
    if (px > PLOT_RIGHT + 2) px = PLOT_RIGHT + 2;
    if (l->step && (l->npts || l->open)) keep(l, px, l->last_y);
    keep(l, px, py);
    l->last_y = py;
}

void ts_plot_line_break(ts_plot_line *l)
{
    flush_col(l);
    if (l->open) fputs("\"/>\n", l->p->f);
    l->open = false;
    l->col = -1;
}

void ts_plot_line_end(ts_plot_line *l)
{
    ts_plot_line_break(l);
}
