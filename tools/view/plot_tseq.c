/* plot_tseq.c: the time-sequence graph (Stevens, TCP/IP Illustrated; tcptrace), from the
 * sender's point of view: each data segment a vertical bar from its first to its last
 * byte at the time it left, retransmissions marked by cause, the ACK line and the
 * receive-window line (ACK + window) as the sender learned them, SACK blocks beside them.
 * Where bars would overlap at 1 px they are merged, and the caption says so. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "plot_svg.h"

static const char tseq_css[] =
    ".seg{stroke-width:1.2;fill:none;stroke-linecap:butt}"
    ".new{stroke:#000}"
    ".rto{stroke:#c0392b;stroke-width:2.6}.fast{stroke:#d35400;stroke-width:2.6}"
    ".tlp{stroke:#8e44ad;stroke-width:2.6}.probe{stroke:#16a085;stroke-width:2.6}"
    ".syn{stroke:#7f8c8d;stroke-width:2.6}.rexmit{stroke:#c0392b;stroke-width:2.6}"
    ".mk{font-size:11px;font-weight:bold;stroke:none}"
    "text.rto,text.rexmit{fill:#c0392b}text.fast{fill:#d35400}text.tlp{fill:#8e44ad}"
    "text.probe{fill:#16a085}text.syn{fill:#7f8c8d}text.lostmk{fill:#000;font-size:13px}"
    "text.ctl{font-size:10px;font-weight:bold;fill:#000}"
    ".ackl{stroke:#1e8449;stroke-width:1.4;fill:none}"
    ".winl{stroke:#1f4fb4;stroke-width:1.2;stroke-dasharray:8 4;fill:none}"
    ".sack{stroke:#aaa;stroke-width:2.5}";

/* Bar classes: index 0 new data, then one per retransmission cause. */
enum { C_NEW, C_RTO, C_FAST, C_TLP, C_PROBE, C_SYN, C_REXMIT, C_SACK, NCLS };
static const char *const cls_name[NCLS] = {"new",   "rto", "fast",   "tlp",
                                           "probe", "syn", "rexmit", "sack"};
static const char *const cls_glyph[NCLS] = {NULL, "R", "F", "T", "P", "S", "X", NULL};

static int seg_class(const ts_view_seg *s)
{
    switch (s->cause) {
    case TS_VCAUSE_RTO: return C_RTO;
    case TS_VCAUSE_FAST: return C_FAST;
    case TS_VCAUSE_TLP: return C_TLP;
    case TS_VCAUSE_PROBE: return C_PROBE;
    case TS_VCAUSE_SYN: return C_SYN;
    case TS_VCAUSE_REXMIT: return C_REXMIT;
    default: return C_NEW;
    }
}

typedef struct bar {
    float x, y0, y1; /* pixels; y0 >= y1 (y grows down) */
    uint8_t cls;
    bool lost;
    uint32_t count; /* segments merged into it */
    uint32_t seg;   /* the first segment's index */
} bar;

typedef struct tseq {
    const ts_view *v;
    int snd;                   /* the data sender: 0 or 1 */
    uint32_t base;             /* sequence number drawn as 0 */
    ts_time_t torig;           /* time drawn as 0 (µs) */
    double t0, t1, ymin, ymax; /* the ranges (s, bytes) */
    double wtop;               /* the window line's highest point (bytes) */
    bar *bars;
    size_t nbars, nsegs, nsacks;
    bool thinned;
} tseq;

static double rel(const tseq *g, uint32_t seq)
{
    return (double)(uint32_t)(seq - g->base);
}

static double secs(const tseq *g, ts_time_t t)
{
    return (double)(t - g->torig) / 1e6;
}

/* When the sender learned of an ACK: its arrival; a lost one it never learned of. */
static bool ack_time(const tseq *g, const ts_view_seg *s, ts_time_t *t)
{
    if (s->t_recv != TS_TIME_NEVER) {
        *t = s->t_recv;
        return true;
    }
    *t = s->t_send;
    return g->v->origin == TS_VIEW_CAPTURE; /* a capture cannot tell a loss */
}

/* Which end sent the data, where zero is, and how far the axes go. */
static bool in_window(const tseq *g, double t)
{
    return t >= g->t0 - 1e-9 && t <= g->t1 + 1e-9;
}

/* The time range: the data's, or the window asked for. */
static int time_range(tseq *g, const ts_plot_opts *o, char *err, size_t errlen)
{
    const ts_view *v = g->v;
    ts_time_t tend = v->segs[0].t_send;
    for (size_t i = 0; i < v->nsegs; i++) {
        ts_time_t t = v->segs[i].t_send;
        if (v->segs[i].from != g->snd && !ack_time(g, &v->segs[i], &t)) t = v->segs[i].t_send;
        if (t > tend) tend = t;
    }
    double first = secs(g, v->segs[0].t_send), last = secs(g, tend);
    double span = last - first;
    g->t0 = first - (span > 0 ? span * 0.01 : 1e-4); /* marks at the edges stay whole */
    g->t1 = last + (span > 0 ? span * 0.02 : 1e-3);
    if (o && !isnan(o->from)) g->t0 = o->from;
    if (o && !isnan(o->to)) g->t1 = o->to;
    if (!(g->t1 > g->t0) || g->t0 > last || g->t1 < first) {
        snprintf(err, errlen,
                 "--from/--to: nothing to draw there; the connection runs from %.6f to %.6f s",
                 first, last);
        return -1;
    }
    return 0;
}

/* Which end sent the data, where zero is, and how far the axes go. */
static int setup(tseq *g, const ts_view *v, const ts_plot_opts *o, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    g->v = v;
    uint64_t bytes[2] = {0, 0};
    for (size_t i = 0; i < v->nsegs; i++) bytes[v->segs[i].from & 1] += v->segs[i].len;
    g->snd = bytes[1] > bytes[0] ? 1 : 0;
    if (!v->nsegs) {
        snprintf(err, errlen, "the connection has no segments: nothing to plot");
        return -1;
    }
    const ts_view_end *e = &v->end[g->snd];
    g->base = e->isn_known ? e->isn : 0;
    if (!e->isn_known)
        for (size_t i = 0; i < v->nsegs; i++)
            if (v->segs[i].from == g->snd) {
                g->base = v->segs[i].seq - 1;
                break;
            }
    g->torig = v->origin == TS_VIEW_SIM ? 0 : v->segs[0].t_send;
    if (time_range(g, o, err, errlen) < 0) return -1;
    bool zoom = o && (!isnan(o->from) || !isnan(o->to));
    double top = 0, wtop = 0, low = 4e9;
    for (size_t i = 0; i < v->nsegs; i++) {
        const ts_view_seg *s = &v->segs[i];
        ts_time_t t = s->t_send;
        if (s->from != g->snd && !ack_time(g, s, &t)) continue;
        if (!in_window(g, secs(g, t))) continue;
        if (s->from == g->snd && s->len) {
            double y = rel(g, s->seq + s->len), y0 = rel(g, s->seq);
            if (y > top && y < 4e9) top = y;
            if (y0 < low) low = y0;
        } else if (s->from != g->snd && (s->flags & TS_TH_ACK)) {
            double a = rel(g, s->ack), w = a + s->win;
            if (a > 4e9) continue;
            if (a > top) top = a;
            if (a < low) low = a;
            if (w > wtop && w < 4e9) wtop = w;
        }
    }
    if (top <= 0) top = wtop > 0 ? wtop : 1000;
    if (top < 10) top = 10; /* whole bytes on the axis when nothing is sent */
    if (wtop > top && wtop < 1.5 * top) top = wtop; /* the window line when it fits */
    g->ymin = zoom && low < top ? low - (top - low) * 0.04 : 0;
    if (g->ymin < 0) g->ymin = 0;
    g->ymax = top + (top - g->ymin) * 0.04;
    g->wtop = wtop;
    return 0;
}

/* Merge a segment into the open bar of its class in this pixel column when their pixel
 * extents touch (1 px) and the segment alone would be under 3 px tall: drawn apart they
 * would be one smear anyway. */
static void add_bar(tseq *g, ts_plot *p, int open[NCLS], int *col, double t, double lo, double hi,
                    int cls, bool lost, size_t idx)
{
    float x = (float)ts_plot_px(p, t);
    float y0 = (float)ts_plot_py(p, lo), y1 = (float)ts_plot_py(p, hi);
    int c = (int)floorf(x);
    if (c != *col) {
        for (int k = 0; k < NCLS; k++) open[k] = -1;
        *col = c;
    }
    if (open[cls] >= 0 && y0 - y1 < 3.0f) {
        bar *b = &g->bars[open[cls]];
        if (y1 <= b->y0 + 1.0f && y0 >= b->y1 - 1.0f) {
            if (y0 > b->y0) b->y0 = y0;
            if (y1 < b->y1) b->y1 = y1;
            b->lost |= lost;
            b->count++;
            g->thinned = true;
            return;
        }
    }
    g->bars[g->nbars] = (bar){x, y0, y1, (uint8_t)cls, lost, 1, (uint32_t)idx};
    open[cls] = (int)g->nbars++;
}

static int build_bars(tseq *g, ts_plot *p, char *err, size_t errlen)
{
    const ts_view *v = g->v;
    size_t cap = 0;
    for (size_t i = 0; i < v->nsegs; i++)
        cap += v->segs[i].from == g->snd ? v->segs[i].len > 0 : v->segs[i].nsack;
    g->bars = malloc((cap ? cap : 1) * sizeof *g->bars);
    if (!g->bars) {
        snprintf(err, errlen, "out of memory for %zu bars", cap);
        return -1;
    }
    int open[NCLS], col = -1;
    for (int k = 0; k < NCLS; k++) open[k] = -1;
    for (size_t i = 0; i < v->nsegs; i++) {
        const ts_view_seg *s = &v->segs[i];
        if (s->from == g->snd) {
            if (!s->len || !in_window(g, secs(g, s->t_send))) continue;
            g->nsegs++;
            bool lost = s->t_recv == TS_TIME_NEVER && v->origin != TS_VIEW_CAPTURE;
            add_bar(g, p, open, &col, secs(g, s->t_send), rel(g, s->seq), rel(g, s->seq + s->len),
                    seg_class(s), lost, i);
            continue;
        }
        ts_time_t t;
        if (!ack_time(g, s, &t) || !in_window(g, secs(g, t))) continue;
        for (unsigned k = 0; k < s->nsack && k < TS_VIEW_SACK_MAX; k++) {
            g->nsacks++;
            add_bar(g, p, open, &col, secs(g, t), rel(g, s->sack[k][0]), rel(g, s->sack[k][1]),
                    C_SACK, false, i);
        }
    }
    return 0;
}

/* A data bar: an I-beam (tcptrace's shape) with the segment's tcpdump line as a tooltip
 * when it stands for one segment; a plain bar when it stands for several. */
static void draw_bar(const tseq *g, FILE *f, const bar *b)
{
    const char *cls = cls_name[b->cls];
    double x = b->cls == C_SACK ? b->x + 2.5 : b->x; /* SACKs just right of the ACK */
    if (b->count == 1 && b->cls != C_SACK)
        fprintf(f, "<path class=\"seg %s\" d=\"M%.1f %.1fV%.1fM%.1f %.1fh5M%.1f %.1fh5\">", cls, x,
                b->y0, b->y1, x - 2.5, b->y0, x - 2.5, b->y1);
    else
        fprintf(f, "<path class=\"%s %s\" d=\"M%.1f %.1fV%.1f\">",
                b->cls == C_SACK ? "sackb" : "seg", cls, x, b->y0, b->y1);
    const ts_view_seg *s = &g->v->segs[b->seg];
    if (b->count == 1) {
        fprintf(f, "<title>%.6f ", secs(g, s->t_send));
        ts_plot_text(f, s->line ? s->line : "");
        if (s->why) {
            fputs(" (", f);
            ts_plot_text(f, s->why);
            fputc(')', f);
        }
        fputs("</title>", f);
    } else {
        fprintf(f, "<title>%u %s from %.6f s</title>", b->count,
                b->cls == C_SACK ? "SACK blocks" : "segments", secs(g, s->t_send));
    }
    fputs("</path>\n", f);
    if (cls_glyph[b->cls])
        fprintf(f, "<text class=\"mk %s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                cls, b->x, b->y1 - 3, cls_glyph[b->cls]);
    if (b->lost)
        fprintf(f, "<text class=\"mk lostmk\" x=\"%.1f\" y=\"%.1f\">\xc3\x97</text>\n", b->x + 3,
                b->y1 + 4);
}

/* The ACK line and the window line (ACK + advertised window), as steps. */
/* The sender's SYN and FIN where they sit in sequence space (each takes one number). */
static size_t draw_ctl(const tseq *g, ts_plot *p)
{
    size_t n = 0;
    for (size_t i = 0; i < g->v->nsegs; i++) {
        const ts_view_seg *s = &g->v->segs[i];
        if (s->from != g->snd || !(s->flags & (TS_TH_SYN | TS_TH_FIN))) continue;
        double t = secs(g, s->t_send);
        if (!in_window(g, t)) continue;
        uint32_t at = (s->flags & TS_TH_SYN) ? s->seq : s->seq + s->len;
        fprintf(p->f, "<text class=\"ctl\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", ts_plot_px(p, t) + 2,
                ts_plot_py(p, rel(g, at)) - 4, (s->flags & TS_TH_SYN) ? "SYN" : "FIN");
        n++;
    }
    return n;
}

static void draw_lines(const tseq *g, ts_plot *p)
{
    const ts_view *v = g->v;
    for (int k = 0; k < 2; k++) {
        ts_plot_line l;
        ts_plot_line_begin(&l, p, k ? "winl" : "ackl", true);
        double last = -1;
        for (size_t i = 0; i < v->nsegs; i++) {
            const ts_view_seg *s = &v->segs[i];
            ts_time_t t;
            if (s->from == g->snd || !(s->flags & TS_TH_ACK) || !ack_time(g, s, &t)) continue;
            double a = rel(g, s->ack);
            if (a > 4e9) continue; /* acknowledges nothing of the data (before the SYN) */
            last = k ? a + s->win : a;
            ts_plot_line_add(&l, secs(g, t), last);
        }
        if (last >= 0) ts_plot_line_add(&l, g->t1, last);
        ts_plot_line_end(&l);
    }
}

static void keys(ts_plot *p, const tseq *g, size_t nctl)
{
    bool used[NCLS] = {false};
    for (size_t i = 0; i < g->nbars; i++) used[g->bars[i].cls] = true;
    bool lost = false;
    for (size_t i = 0; i < g->nbars; i++) lost |= g->bars[i].lost;
    static const char *const labels[NCLS] = {"data segment (black bar)",
                                             "RTO retransmission (R)",
                                             "fast retransmission (F)",
                                             "tail loss probe (T)",
                                             "probe (P)",
                                             "SYN retransmission (S)",
                                             "retransmission, cause unknown (X)",
                                             "SACK block (light grey, right of the ACK)"};
    ts_plot_key(p, PLOT_KEY_BAR, "seg new", labels[C_NEW], NULL);
    for (int k = 1; k < NCLS; k++)
        if (used[k])
            ts_plot_key(p, PLOT_KEY_BAR, k == C_SACK ? "sack" : cls_name[k], labels[k],
                        cls_glyph[k]);
    if (nctl) ts_plot_key(p, PLOT_KEY_MARK, "ctl", "the sender's SYN, FIN", "SYN");
    ts_plot_key(p, PLOT_KEY_LINE, "ackl", "ACK (solid line)", NULL);
    ts_plot_key(p, PLOT_KEY_LINE, "winl", "ACK + receive window (dashed)", NULL);
    if (lost) ts_plot_key(p, PLOT_KEY_MARK, "lostmk", "lost on the link (\xc3\x97)", "\xc3\x97");
}

static void captions(const tseq *g, char cap[3][300], const char *caps[3], size_t *n)
{
    const ts_view *v = g->v;
    char a[16];
    *n = 0;
    snprintf(cap[*n], 300, "Sequence numbers relative to %s:%u's ISN %u; %s.",
             ts_ip4_format(v->end[g->snd].ep.addr, a), v->end[g->snd].ep.port, g->base,
             v->origin == TS_VIEW_CAPTURE ? "from a capture: what the wire showed"
             : v->origin == TS_VIEW_SIM   ? "from the simulator: the stacks' own record"
                                          : "from a live run");
    caps[*n] = cap[*n];
    (*n)++;
    if (g->thinned)
        snprintf(cap[*n], 300,
                 "Thinned to the output's resolution: %zu data segments, %zu SACK blocks drawn "
                 "as %zu bars (under 3 px in one pixel column: merged).",
                 g->nsegs, g->nsacks, g->nbars);
    else
        snprintf(cap[*n], 300, "%zu data segments, one bar each; hover a bar for its line.",
                 g->nsegs);
    caps[*n] = cap[*n];
    (*n)++;
    if (g->wtop > g->ymax) {
        ts_plot_unit u = ts_plot_byte_unit(g->wtop);
        snprintf(cap[*n], 300,
                 "The ACK + receive window line leaves the frame at the top (it reaches %.1f "
                 "%s).",
                 g->wtop * u.factor, u.name);
        caps[*n] = cap[*n];
        (*n)++;
    }
}

void ts_plot_opts_init(ts_plot_opts *o)
{
    o->from = o->to = NAN;
}

int ts_plot_tseq(const ts_view *v, const ts_plot_opts *o, FILE *f, ts_plot_info *info, char *err,
                 size_t errlen)
{
    tseq g;
    if (setup(&g, v, o, err, errlen) < 0) return -1;
    ts_plot p;
    char a[16], b[16], title[160];
    const ts_view_end *s = &v->end[g.snd], *r = &v->end[!g.snd];
    snprintf(title, sizeof title, "time-sequence: %s:%u \xe2\x86\x92 %s:%u",
             ts_ip4_format(s->ep.addr, a), s->ep.port, ts_ip4_format(r->ep.addr, b), r->ep.port);
    ts_plot_begin(&p, f, title, tseq_css);
    ts_plot_unit tu = ts_plot_time_unit(g.t1 - g.t0), yu = ts_plot_byte_unit(g.ymax - g.ymin);
    p.xscale = tu.factor;
    p.yscale = yu.factor;
    char xt[80], yt[80];
    snprintf(xt, sizeof xt, "time (%s%s)", tu.name,
             v->origin == TS_VIEW_SIM ? ", virtual" : " since the first segment");
    snprintf(yt, sizeof yt, "sequence number (%s from the ISN)", yu.name);
    ts_plot_axes(&p, g.t0, g.t1, g.ymin, g.ymax, xt, yt);
    if (build_bars(&g, &p, err, errlen) < 0) return -1;
    ts_plot_clip_begin(&p);
    draw_lines(&g, &p);
    size_t nctl = draw_ctl(&g, &p);
    for (size_t i = 0; i < g.nbars; i++) draw_bar(&g, f, &g.bars[i]);
    ts_plot_clip_end(&p);
    keys(&p, &g, nctl);
    char cap[3][300];
    const char *caps[3];
    size_t ncap;
    captions(&g, cap, caps, &ncap);
    ts_plot_end(&p, caps, ncap);
    if (info) {
        info->segments = g.nsegs;
        info->drawn = 0;
        for (size_t i = 0; i < g.nbars; i++) info->drawn += g.bars[i].cls != C_SACK;
    }
    free(g.bars);
    if (ferror(f)) {
        snprintf(err, errlen, "writing the SVG failed");
        return -1;
    }
    return 0;
}
