/* ladder_svg.c: the ladder diagram as one self-contained SVG: no fonts, scripts or images
 * from outside, generic font families only. Each layout row is a band RH pixels high; an
 * arrow is a straight line from its sending row to its arrival row, so it slopes with its
 * flight time. Readable in black and white: retransmissions are dashed, data lines are
 * thicker, a loss ends in a cross, idle time has a dotted lifeline and its length written
 * across it, an inferred state is italic and in brackets. Each arrow is a <g class="seg">
 * whose <title> (the tooltip) holds the whole tcpdump line and why it was sent; the HTML
 * step-through finds the arrows by their ids (seg-1, seg-2, ...). */
#include <string.h>

#include "ladder_layout.h"

#define RH     18  /* pixels per layout row */
#define TOP    96  /* the first row's top edge */
#define XL     210 /* the left lifeline */
#define GAP_XR 230 /* the right lifeline's distance from the right edge */
#define CHARW  7.2 /* an advance of 12 px monospace, for the width of labels */

typedef struct geo {
    int w, h, xl, xr, mid;
} geo;

static double row_y(int r)
{
    return TOP + r * RH + RH / 2.0;
}

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: {
            /* XML 1.0 refuses most control characters and broken UTF-8: '?' for them. */
            size_t n = ts_ladder_utf8_len(s);
            if (!n || ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t'))
                fputc('?', f);
            else
                fwrite(s, 1, n, f), s += n - 1;
        }
        }
    }
}

static void text(FILE *f, double x, double y, const char *cls, const char *anchor, const char *s)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"%s\" text-anchor=\"%s\">", x, y + 4, cls,
            anchor);
    esc(f, s);
    fputs("</text>\n", f);
}

static void style(FILE *f)
{
    fputs("<style>\n"
          "text{font-family:sans-serif;font-size:12px;fill:#000}\n"
          ".title{font-size:14px;font-weight:bold}\n"
          ".addr{font-family:monospace;font-weight:bold}\n"
          ".name,.time,.legend{font-size:11px}\n"
          ".time{font-family:monospace;fill:#333}\n"
          ".lbl{font-family:monospace;paint-order:stroke;stroke:#fff;stroke-width:4px;"
          "stroke-linejoin:round}\n"
          ".state{font-family:monospace;font-weight:bold}\n"
          ".inferred{font-style:italic;font-weight:normal}\n"
          ".timer{font-size:11px;font-style:italic;paint-order:stroke;stroke:#fff;"
          "stroke-width:4px}\n"
          ".gaplbl{font-style:italic;paint-order:stroke;stroke:#fff;stroke-width:5px}\n"
          ".life{stroke:#000;stroke-width:1.5}\n"
          ".life.idle{stroke-dasharray:2 4}\n"
          ".seg line,.seg path{stroke:#000;stroke-width:1.3;fill:none}\n"
          ".seg polygon{fill:#000}\n"
          ".seg.data line{stroke-width:2.4}\n"
          ".seg.rexmit line{stroke-dasharray:7 4}\n"
          ".seg .cross,.lostmark path{stroke:#000;stroke-width:2.4;fill:none}\n"
          ".bracket{stroke:#000;stroke-width:1;fill:none}\n"
          ".seg.current line,.seg.current path{stroke:#c00;stroke-width:3.5}\n"
          ".seg.current polygon{fill:#c00}\n"
          ".lostmark.current path{stroke:#c00;stroke-width:3.5}\n"
          ".seg.current text{fill:#c00;font-weight:bold}\n"
          "</style>\n",
          f);
}

static void header(FILE *f, const ts_layout *L, const geo *g, bool html)
{
    if (!html) text(f, 12, 18, "title", "start", L->title); /* HTML has it as its heading */
    for (int e = 0; e < 2; e++) {
        double x = e ? g->xr : g->xl, w = (double)strlen(L->addr[e]) * CHARW + 16;
        if (L->v->end[e].name[0]) text(f, x, 40, "name", "middle", L->v->end[e].name);
        fprintf(f,
                "<rect x=\"%.1f\" y=\"50\" width=\"%.1f\" height=\"24\" fill=\"none\" "
                "stroke=\"#000\"/>\n",
                x - w / 2, w);
        text(f, x, 61, "addr", "middle", L->addr[e]);
    }
    text(f, 80, 84, "name", "end", "time (s)");
}

/* The lifelines: one line per run of rows of the same kind (solid, or dotted in a gap). */
static void lifelines(FILE *f, const ts_layout *L, const geo *g)
{
    fprintf(f, "<line class=\"life\" x1=\"%d\" y1=\"74\" x2=\"%d\" y2=\"%d\"/>\n", g->xl, g->xl,
            TOP);
    fprintf(f, "<line class=\"life\" x1=\"%d\" y1=\"74\" x2=\"%d\" y2=\"%d\"/>\n", g->xr, g->xr,
            TOP);
    for (int r = 0; r < L->nrows;) {
        bool idle = L->rows[r].gap >= 0;
        int s = r;
        while (r < L->nrows && (L->rows[r].gap >= 0) == idle) r++;
        for (int x = g->xl; x <= g->xr; x += g->xr - g->xl)
            fprintf(f, "<line class=\"life%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
                    idle ? " idle" : "", x, TOP + s * RH, x, TOP + r * RH);
    }
    for (size_t i = 0; i < L->ngaps; i++) {
        char d[24], b[48];
        const ts_lgap *gp = &L->gaps[i];
        snprintf(b, sizeof b, "\u2026 %s \u2026", ts_ladder_dur(gp->dt, d, sizeof d));
        text(f, g->mid, row_y(gp->row0 + gp->nrows / 2), "gaplbl", "middle", b);
    }
}

static void times(FILE *f, const ts_layout *L)
{
    ts_time_t t0 = L->v->nsegs ? L->v->segs[0].t_send : 0;
    if (L->v->nstates && L->v->states[0].t < t0) t0 = L->v->states[0].t;
    for (int r = 0; r < L->nrows; r++) {
        if (!L->rows[r].tick) continue;
        ts_time_t t = L->rows[r].t - t0;
        char b[32];
        snprintf(b, sizeof b, "%llu.%06llu", (unsigned long long)(t / TS_SEC),
                 (unsigned long long)(t % TS_SEC));
        text(f, 80, row_y(r), "time", "end", b);
    }
}

/* The head of an arrow ending at (x, y) coming from (x0, y0). */
static void head(FILE *f, double x0, double y0, double x, double y)
{
    double dx = x - x0, dy = y - y0, n = dx * dx + dy * dy;
    if (n <= 0) return;
    n = 1 / __builtin_sqrt(n);
    dx *= n, dy *= n;
    double bx = x - 10 * dx, by = y - 10 * dy;
    fprintf(f, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>\n", x, y, bx - 4 * dy,
            by + 4 * dx, bx + 4 * dy, by - 4 * dx);
}

static void seg(FILE *f, const ts_layout *L, const geo *g, size_t i)
{
    const ts_lseg *ls = &L->segs[i];
    const ts_view_seg *s = ls->seg;
    bool right = s->from == 0;
    double x0 = right ? g->xl : g->xr, x1 = right ? g->xr : g->xl;
    double y0 = row_y(ls->row_send), y1 = row_y(ls->row_recv);
    if (ls->lost) x1 = g->mid;
    fprintf(f, "<g class=\"seg%s%s%s\" id=\"seg-%zu\" data-no=\"%u\">\n<title>",
            s->len ? " data" : "", s->cause != TS_VCAUSE_NEW ? " rexmit" : "",
            ls->lost ? " lost" : "", i + 1, s->no);
    esc(f, s->line ? s->line : "");
    if (s->why) fputc('\n', f), esc(f, s->why);
    if (s->lost) fputs("\nlost: ", f), esc(f, s->lost);
    fputs("</title>\n", f);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x0, y0, x1, y1);
    if (!ls->lost) head(f, x0, y0, x1, y1); /* a loss's cross: see crosses() */
    char rows[2][TS_LROW_MAX];
    ts_ladder_label_rows(L, ls, rows);
    /* The label stands above the arrow's start, by its sender, so it is clear whose it is
     * where arrows are dense. */
    for (int k = 0; k < ls->nlabel; k++)
        text(f, right ? g->xl + 14 : g->xr - 14, row_y(ls->row_label + k), "lbl",
             right ? "start" : "end", rows[k]);
    fputs("</g>\n", f);
}

/* The crosses of lost segments, over every label (the next segment's label often stands
 * where a lost arrow ends); lost-N goes with seg-N for the step-through. */
static void crosses(FILE *f, const ts_layout *L, const geo *g)
{
    for (size_t i = 0; i < L->nsegs; i++)
        if (L->segs[i].lost)
            fprintf(f,
                    "<g class=\"lostmark\" id=\"lost-%zu\"><path class=\"cross\" "
                    "d=\"M%.1f %.1fl12 12m0 -12l-12 12\"/></g>\n",
                    i + 1, g->mid - 6.0, row_y(L->segs[i].row_recv) - 6);
}

static void notes(FILE *f, const ts_layout *L, const geo *g)
{
    for (size_t i = 0; i < L->nnotes; i++) {
        const ts_lnote *nt = &L->notes[i];
        double y = row_y(nt->row);
        if (nt->kind == TS_LNOTE_STATE) {
            const char *cls = nt->inferred ? "state inferred" : "state";
            if (nt->end == 0)
                text(f, g->xl - 14, y, cls, "end", nt->text);
            else
                text(f, g->xr + 14, y, cls, "start", nt->text);
            continue;
        }
        /* A timer: its note inside by the lifeline, a bracket outside from armed to fired. */
        if (nt->end == 0)
            text(f, g->xl + 8, y, "timer", "start", nt->text);
        else
            text(f, g->xr - 8, y, "timer", "end", nt->text);
        if (nt->row_from < nt->row) {
            int x = nt->end == 0 ? g->xl - 4 : g->xr + 4, d = nt->end == 0 ? -5 : 5;
            fprintf(f, "<path class=\"bracket\" d=\"M%d %.1fh%dV%.1fh%d\"/>\n", x,
                    row_y(nt->row_from), d, y, -d);
        }
    }
}

static int legend(FILE *f, const ts_layout *L, const geo *g, int y)
{
    int x = 20;
    if (L->ngaps) {
        fprintf(f, "<line class=\"life idle\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", x + 10,
                y - 8, x + 10, y + 8);
        text(f, x + 30, y, "legend", "start",
             "\u2026 1 s \u2026  idle time, compressed; the label says how long");
        y += 20;
    }
    if (L->any_rexmit) {
        fprintf(f,
                "<line stroke=\"#000\" stroke-width=\"1.3\" stroke-dasharray=\"7 4\" "
                "x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
                x, y, x + 24, y);
        text(f, x + 30, y, "legend", "start",
             "a retransmission (dashed), its cause and the time it waited");
        y += 20;
    }
    if (L->any_lost) {
        fprintf(f,
                "<path class=\"cross\" stroke=\"#000\" stroke-width=\"2.4\" "
                "d=\"M%d %dl12 12m0 -12l-12 12\"/>\n",
                x + 4, y - 6);
        text(f, x + 30, y, "legend", "start", "a segment lost on the way");
        y += 20;
    }
    if (L->any_timer) {
        fprintf(f, "<path class=\"bracket\" d=\"M%d %dh-5v16h5\"/>\n", x + 14, y - 8);
        text(f, x + 30, y, "legend", "start", "a timer, from where it was armed to where it fired");
        y += 20;
    }
    if (L->any_inferred) {
        text(f, x + 30, y, "legend state inferred", "start", "[STATE]");
        text(f, x + 100, y, "legend", "start",
             "a state inferred from the segments (a capture knows no states)");
        y += 20;
    }
    text(f, x + 30, y, "legend", "start",
         L->o.relative ? "seq/ack relative to each end's ISN; thick lines carry data"
                       : "seq/ack absolute, as on the wire; thick lines carry data");
    if (L->v->note) y += 20, text(f, x + 30, y, "legend", "start", L->v->note);
    (void)g;
    return y + 20;
}

int ts_ladder_svg(const ts_layout *L, FILE *f, bool html)
{
    geo g;
    g.w = 900;
    g.xl = XL;
    g.xr = g.w - GAP_XR;
    g.mid = (g.xl + g.xr) / 2;
    int legend_rows = (L->v->note != NULL) + 1 + (L->ngaps > 0) + L->any_rexmit + L->any_lost +
                      L->any_timer + L->any_inferred;
    g.h = TOP + L->nrows * RH + 20 + legend_rows * 20;
    if (!html) fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
            g.w, g.h, g.w, g.h);
    esc(f, L->title);
    fputs("\">\n<title>", f);
    esc(f, L->title);
    fputs("</title>\n", f);
    style(f);
    fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", g.w, g.h);
    header(f, L, &g, html);
    lifelines(f, L, &g);
    times(f, L);
    notes(f, L, &g);
    for (size_t i = 0; i < L->nsegs; i++) seg(f, L, &g, i);
    crosses(f, L, &g);
    legend(f, L, &g, TOP + L->nrows * RH + 20);
    fputs("</svg>\n", f);
    return ferror(f) ? -1 : 0;
}
