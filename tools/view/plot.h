/* plot.h: the graphs, `tcpsim plot KIND SOURCE -o OUT.svg`: the time-sequence graph
 * (Stevens/tcptrace style) of a connection model, and the sender's cwnd and RTT graphs
 * from the stack's own variables (a series). Self-contained SVG, readable in black and
 * white: every mark differs by dash pattern or marker, not by colour alone. */
#ifndef TS_PLOT_H
#define TS_PLOT_H

#include <math.h>
#include <stdio.h>
#include "series.h"
#include "view.h"

/* What to draw: a window of time (seconds on the graph's own clock: virtual time for a
 * scenario, since the first segment for a capture); NAN leaves that end to the data. */
typedef struct ts_plot_opts {
    double from, to;
} ts_plot_opts;
void ts_plot_opts_init(ts_plot_opts *o);

typedef struct ts_plot_info {
    size_t drawn, segments; /* tseq: data bars drawn, data segments (drawn < segments: thinned) */
} ts_plot_info;

/* Sequence number against time for the end that sent more data: a vertical bar per data
 * segment (retransmissions marked with their cause's letter), the ACK line, the receive
 * window line, SACK blocks; thinned where bars would overlap at 1 px. info may be NULL. */
int ts_plot_tseq(const ts_view *v, const ts_plot_opts *o, FILE *f, ts_plot_info *info, char *err,
                 size_t errlen);

/* The sending end of a connection in a series: the end that sent more payload bytes. */
int ts_plot_sender(const ts_series_conn *c);
/* cwnd, ssthresh and bytes in flight against time, recovery and loss episodes shaded. */
int ts_plot_cwnd(const ts_series_conn *c, const ts_plot_opts *o, FILE *f, char *err, size_t errlen);
/* RTT samples, SRTT and RTO against time. */
int ts_plot_rtt(const ts_series_conn *c, const ts_plot_opts *o, FILE *f, char *err, size_t errlen);

#endif
