/* ladder.h: the ladder (sequence) diagram of one connection, as the founding chapter
 * draws it: a lifeline per end, an arrow per segment sloped by its real flight time, long
 * idle gaps compressed and labelled, states on the lifelines, timers, losses and
 * retransmissions marked. One layout, three outputs: text (UTF-8 or ASCII, for a
 * terminal and the telnet shell), SVG (self-contained) and HTML (the SVG plus a
 * step-through). */
#ifndef TS_LADDER_H
#define TS_LADDER_H

#include <stdbool.h>
#include <stdio.h>
#include "view.h"

typedef enum { TS_LADDER_TEXT, TS_LADDER_SVG, TS_LADDER_HTML } ts_ladder_format;

typedef struct ts_ladder_opts {
    ts_ladder_format format;
    bool relative;     /* sequence numbers relative to each end's ISN */
    bool ascii;        /* text: plain ASCII instead of UTF-8 box drawing */
    unsigned width;    /* text: columns (default 100) */
    size_t last;       /* only the last N segments (0 = all), e.g. telnet's `ladder N` */
    const char *title; /* caption; NULL = made from the ends' addresses */
} ts_ladder_opts;

void ts_ladder_opts_init(ts_ladder_opts *o);
/* The format a file name asks for by its extension (.txt, .svg, .html or .htm): 0, or -1
 * when the extension is none of them. */
int ts_ladder_format_from_name(const char *path, ts_ladder_format *out);
/* Draw v into f. 0, or -1 with a one-line message in err (a write error). */
int ts_ladder_write(const ts_view *v, const ts_ladder_opts *o, FILE *f, char *err, size_t errlen);

#endif
