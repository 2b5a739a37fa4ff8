/* plot_state.c: the sender's state graphs from the stack's own variables (a series): cwnd,
 * ssthresh and bytes in flight with recovery and loss episodes shaded; RTT samples, SRTT
 * and RTO. The values are ground truth, read from ts_tcp_info at each event. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot.h"
#include "plot_svg.h"

static const char state_css[] =
    ".cwnd{stroke:#1f4fb4;stroke-width:2;fill:none}"
    ".ssth{stroke:#c0392b;stroke-width:1.6;stroke-dasharray:9 5;fill:none}"
    ".flight{stroke:#1e8449;stroke-width:1.2;stroke-dasharray:2 3;fill:none}"
    ".srtt{stroke:#1f4fb4;stroke-width:2;fill:none}"
    ".rto{stroke:#c0392b;stroke-width:1.6;stroke-dasharray:9 5;fill:none}"
    ".sample{stroke:#000;stroke-width:1;fill:none}"
    ".mk{font-size:15px;font-weight:bold}.armed{fill:#c0392b}"
    ".rec{fill:#d0d0d0;stroke:none}.loss{fill:url(#hatch);stroke:#777;stroke-width:0.5}";

static const char hatch_def[] =
    "<defs><pattern id=\"hatch\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
    "patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"#f2f2f2\"/>"
    "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#666\" stroke-width=\"2\"/>"
    "</pattern></defs>\n";

int ts_plot_sender(const ts_series_conn *c)
{
    return c->end[1].host && c->end[1].bytes_out > c->end[0].bytes_out ? 1 : 0;
}

static const char *end_name(const ts_series_end *e, char *buf, size_t n)
{
    char a[16];
    snprintf(buf, n, "%s %s:%u", e->host ? e->host : "peer", ts_ip4_format(e->ep.addr, a),
             e->ep.port);
    return buf;
}

/* The data phase: rows in a synchronized state, where cwnd and the RTT mean something. */
static bool synced(const ts_series_row *r)
{
    return r->state >= TS_ESTABLISHED && r->state != TS_TIME_WAIT;
}

/* For the RTT graph the handshake counts too: a SYN's timer backs off (1, 2, 4, 8 s). */
static bool timing(const ts_series_row *r)
{
    return r->state != TS_CLOSED && r->state != TS_LISTEN && r->state != TS_TIME_WAIT;
}

typedef struct span {
    const ts_series_end *e;
    size_t first, last; /* rows [first, last] in the data phase */
    double t0, t1;      /* seconds: the x range */
} span;

static int find_span(const ts_series_conn *c, const ts_plot_opts *o, bool handshake, span *s,
                     char *err, size_t errlen)
{
    bool (*in)(const ts_series_row *) = handshake ? timing : synced;
    s->e = &c->end[ts_plot_sender(c)];
    size_t i = 0, last = 0;
    while (i < s->e->n && !in(&s->e->rows[i])) i++;
    if (i == s->e->n) {
        snprintf(err, errlen, "%s: nothing to plot",
                 handshake ? "the connection never opened"
                           : "the connection never reached ESTABLISHED");
        return -1;
    }
    for (size_t k = i; k < s->e->n; k++)
        if (in(&s->e->rows[k])) last = k;
    s->first = i;
    s->last = last;
    s->t0 = (double)s->e->rows[i].t / 1e6;
    s->t1 = (double)s->e->rows[last].t / 1e6;
    double pad = (s->t1 - s->t0) * 0.03;
    s->t1 += pad > 1e-4 ? pad : 1e-3;
    if (!o || (isnan(o->from) && isnan(o->to))) return 0;
    /* A window: start from the row in force at its left edge, end at its right. */
    double first = s->t0, lastt = (double)s->e->rows[last].t / 1e6;
    if (!isnan(o->from)) s->t0 = o->from;
    if (!isnan(o->to)) s->t1 = o->to;
    if (!(s->t1 > s->t0) || s->t0 > lastt || s->t1 < first) {
        snprintf(err, errlen,
                 "--from/--to: nothing to draw there; the data runs from %.6f to %.6f s", first,
                 lastt);
        return -1;
    }
    while (s->first < s->last && (double)s->e->rows[s->first + 1].t / 1e6 <= s->t0) s->first++;
    while (s->last > s->first && (double)s->e->rows[s->last].t / 1e6 > s->t1) s->last--;
    return 0;
}

static void begin(ts_plot *p, FILE *f, const ts_series_conn *c, const span *s, const char *what)
{
    char a[64], b[64], title[200];
    const ts_series_end *far = &c->end[s->e == &c->end[0] ? 1 : 0];
    snprintf(title, sizeof title, "%s: %s \xe2\x86\x92 %s", what, end_name(s->e, a, sizeof a),
             end_name(far, b, sizeof b));
    ts_plot_begin(p, f, title, state_css);
    fputs(hatch_def, f);
}

/* Shade each stretch of time spent in recovery or loss (the congestion state). */
static void shade(ts_plot *p, const span *s)
{
    const ts_series_row *rows = s->e->rows;
    for (size_t i = s->first; i <= s->last;) {
        uint8_t ca = rows[i].ca_state;
        if (ca != TS_CA_RECOVERY && ca != TS_CA_LOSS) {
            i++;
            continue;
        }
        size_t j = i;
        while (j <= s->last && rows[j].ca_state == ca) j++;
        double x0 = ts_plot_px(p, (double)rows[i].t / 1e6);
        double x1 = ts_plot_px(p, j <= s->last ? (double)rows[j].t / 1e6 : s->t1);
        if (x1 - x0 < 1.5) x1 = x0 + 1.5; /* visible even when it lasted one round trip */
        fprintf(p->f,
                "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
                "<title>%s %.6f s .. %.6f s</title></rect>\n",
                ca == TS_CA_RECOVERY ? "rec" : "loss", x0, PLOT_TOP, x1 - x0,
                PLOT_BOTTOM - PLOT_TOP, ca == TS_CA_RECOVERY ? "fast recovery" : "RTO recovery",
                (double)rows[i].t / 1e6,
                j <= s->last ? (double)rows[j].t / 1e6 : (double)rows[s->last].t / 1e6);
        i = j;
    }
}

static void caption_common(char *buf, size_t n, const ts_series_conn *c, const span *s)
{
    (void)c;
    snprintf(buf, n,
             "The stack's own values (ts_tcp_info at each of its events), %zu changes drawn; "
             "time is the scenario's virtual time.",
             s->last - s->first + 1);
}

int ts_plot_cwnd(const ts_series_conn *c, const ts_plot_opts *o, FILE *f, char *err, size_t errlen)
{
    span s;
    if (find_span(c, o, false, &s, err, errlen) < 0) return -1;
    const ts_series_row *rows = s.e->rows;
    double ymax = 0;
    for (size_t i = s.first; i <= s.last; i++) {
        if (rows[i].cwnd > ymax) ymax = rows[i].cwnd;
        if (rows[i].flight > ymax) ymax = rows[i].flight;
    }
    for (size_t i = s.first; i <= s.last; i++) /* ssthresh in view unless far above */
        if (rows[i].ssthresh != UINT32_MAX && rows[i].ssthresh > ymax &&
            rows[i].ssthresh < 2 * ymax)
            ymax = rows[i].ssthresh;
    ymax *= 1.08;
    ts_plot p;
    begin(&p, f, c, &s, "cwnd");
    ts_plot_unit tu = ts_plot_time_unit(s.t1 - s.t0), bu = ts_plot_byte_unit(ymax);
    p.xscale = tu.factor;
    p.yscale = bu.factor;
    char xt[64], yt[64];
    snprintf(xt, sizeof xt, "time (%s)", tu.name);
    snprintf(yt, sizeof yt, "bytes (%s)", bu.name);
    ts_plot_axes(&p, s.t0, s.t1, 0, ymax, xt, yt);
    ts_plot_clip_begin(&p);
    shade(&p, &s);
    const char *cls[3] = {"cwnd", "ssth", "flight"};
    for (int k = 0; k < 3; k++) {
        ts_plot_line l;
        ts_plot_line_begin(&l, &p, cls[k], true);
        for (size_t i = s.first; i <= s.last; i++) {
            uint32_t v = k == 0 ? rows[i].cwnd : k == 1 ? rows[i].ssthresh : rows[i].flight;
            if (v == UINT32_MAX) {
                ts_plot_line_break(&l); /* ssthresh unset: infinite, not drawn */
                continue;
            }
            ts_plot_line_add(&l, (double)rows[i].t / 1e6, v);
        }
        ts_plot_line_add(&l, s.t1,
                         k == 0   ? rows[s.last].cwnd
                         : k == 1 ? rows[s.last].ssthresh
                                  : rows[s.last].flight);
        ts_plot_line_end(&l);
    }
    ts_plot_clip_end(&p);
    ts_plot_key(&p, PLOT_KEY_LINE, "cwnd", "cwnd (solid)", NULL);
    ts_plot_key(&p, PLOT_KEY_LINE, "ssth", "ssthresh (dashed)", NULL);
    ts_plot_key(&p, PLOT_KEY_LINE, "flight", "bytes in flight (dotted)", NULL);
    bool ca_seen[4] = {false};
    for (size_t i = s.first; i <= s.last; i++) ca_seen[rows[i].ca_state & 3] = true;
    if (ca_seen[TS_CA_RECOVERY])
        ts_plot_key(&p, PLOT_KEY_PATCH, "rec", "fast recovery (grey)", NULL);
    if (ca_seen[TS_CA_LOSS])
        ts_plot_key(&p, PLOT_KEY_PATCH, "loss", "RTO loss recovery (hatched)", NULL);
    char cap[2][200];
    caption_common(cap[0], sizeof cap[0], c, &s);
    snprintf(cap[1], sizeof cap[1],
             "ssthresh is not drawn while unset (infinite); bytes in flight is RFC 6675's pipe "
             "during SACK recovery.");
    const char *caps[2] = {cap[0], cap[1]};
    ts_plot_end(&p, caps, 2);
    return ferror(f) ? (snprintf(err, errlen, "writing the SVG failed"), -1) : 0;
}

static bool is_rto_set(const ts_series_row *r)
{
    return r->event == TS_EV_TIMER_SET && r->d1 == TS_TIMER_RETRANSMIT;
}

/* Point marks (circles or a text glyph), one per pixel so crowds stay small. */
static void marks(ts_plot *p, const span *s, bool rto_sets)
{
    const ts_series_row *rows = s->e->rows;
    int lastx = -1, lasty = -1;
    for (size_t i = rto_sets ? s->first : 0; i <= s->last; i++) {
        const ts_series_row *r = &rows[i];
        if (rto_sets ? !is_rto_set(r) : r->event != TS_EV_RTT_SAMPLE) continue;
        if ((double)r->t / 1e6 < s->t0) continue;
        double x = ts_plot_px(p, (double)r->t / 1e6);
        double y = ts_plot_py(p, (double)(rto_sets ? r->timer : r->sample) / 1e6);
        if ((int)x == lastx && (int)y == lasty) continue;
        lastx = (int)x;
        lasty = (int)y;
        if (rto_sets)
            fprintf(p->f,
                    "<text class=\"mk armed\" x=\"%.1f\" y=\"%.1f\" "
                    "text-anchor=\"middle\">+</text>\n",
                    x, y + 4);
        else
            fprintf(p->f, "<circle class=\"sample\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>\n", x, y);
    }
}

int ts_plot_rtt(const ts_series_conn *c, const ts_plot_opts *o, FILE *f, char *err, size_t errlen)
{
    span s;
    if (find_span(c, o, true, &s, err, errlen) < 0) return -1;
    const ts_series_row *rows = s.e->rows;
    /* RTT samples may come before ESTABLISHED (the SYN's), so look at every row. */
    double ymax = 0;
    size_t nsamples = 0;
    for (size_t i = 0; i <= s.last; i++) {
        const ts_series_row *r = &rows[i];
        if (r->event == TS_EV_RTT_SAMPLE && (double)r->t / 1e6 >= s.t0) {
            nsamples++;
            if ((double)r->sample > ymax) ymax = (double)r->sample;
        }
        if (i >= s.first && (double)r->rto > ymax) ymax = (double)r->rto;
        if (i >= s.first && is_rto_set(r) && (double)r->timer > ymax) ymax = (double)r->timer;
        if (i >= s.first && (double)r->srtt > ymax) ymax = (double)r->srtt;
    }
    ymax = ymax / 1e6 * 1.08;
    ts_plot p;
    begin(&p, f, c, &s, "RTT");
    ts_plot_unit tu = ts_plot_time_unit(s.t1 - s.t0), yu = ts_plot_time_unit(ymax);
    p.xscale = tu.factor;
    p.yscale = yu.factor;
    char xt[64], yt[64];
    snprintf(xt, sizeof xt, "time (%s)", tu.name);
    snprintf(yt, sizeof yt, "RTT and RTO (%s)", yu.name);
    ts_plot_axes(&p, s.t0, s.t1, 0, ymax > 0 ? ymax : 1e-3, xt, yt);
    ts_plot_clip_begin(&p);
    for (int k = 0; k < 2; k++) {
        ts_plot_line l;
        ts_plot_line_begin(&l, &p, k == 0 ? "srtt" : "rto", true);
        for (size_t i = s.first; i <= s.last; i++) {
            if (k == 0 && !rows[i].srtt) continue; /* no sample yet */
            ts_plot_line_add(&l, (double)rows[i].t / 1e6,
                             (double)(k == 0 ? rows[i].srtt : rows[i].rto) / 1e6);
        }
        ts_plot_line_add(&l, s.t1, (double)(k == 0 ? rows[s.last].srtt : rows[s.last].rto) / 1e6);
        ts_plot_line_end(&l);
    }
    marks(&p, &s, true);
    marks(&p, &s, false);
    ts_plot_clip_end(&p);
    ts_plot_key(&p, PLOT_KEY_MARK, "sample", "RTT sample (circle)", NULL);
    ts_plot_key(&p, PLOT_KEY_LINE, "srtt", "SRTT (solid)", NULL);
    ts_plot_key(&p, PLOT_KEY_LINE, "rto", "RTO (dashed)", NULL);
    ts_plot_key(&p, PLOT_KEY_MARK, "armed", "retransmission timer armed for (+)", "+");
    char cap[2][200];
    caption_common(cap[0], sizeof cap[0], c, &s);
    snprintf(cap[1], sizeof cap[1],
             "%zu RTT samples (RFC 6298; Karn: none from retransmitted data). The RTO line is "
             "before backoff; + marks the timer as armed, backoff included.",
             nsamples);
    const char *caps[2] = {cap[0], cap[1]};
    ts_plot_end(&p, caps, 2);
    return ferror(f) ? (snprintf(err, errlen, "writing the SVG failed"), -1) : 0;
}
