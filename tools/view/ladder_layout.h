/* ladder_layout.h: the ladder diagram's layout, shared by its three renderers (private to
 * ladder_*.c). Time runs down a grid of rows: every moment something happens (a segment
 * leaves or arrives, a state changes, a timer fires) is a tick with its own rows; the
 * time between ticks becomes one or two plain rows when short, and a compressed, labelled
 * gap block when long, a little taller for each doubling so 1, 2, 4 and 8 s read as such.
 * An arrow leaves on its own row and lands on the row of its arrival's tick, so it slopes
 * by its real flight time and arrows in flight together cross. Text draws a row as a line
 * of characters, SVG as a band of pixels. */
#ifndef TS_LADDER_LAYOUT_H
#define TS_LADDER_LAYOUT_H

#include "ladder.h"

#define TS_LLABEL_MAX 160

typedef struct ts_lrow {
    ts_time_t t; /* the tick's time (a gap row: the time it ends) */
    bool tick;   /* the first row of a tick: write its time */
    int gap;     /* index into gaps when the row is part of a compressed gap, else -1 */
} ts_lrow;

typedef struct ts_lseg {
    const ts_view_seg *seg;
    size_t index;  /* in v->segs */
    int row_label; /* first label row (nlabel rows, then the arrow) */
    int nlabel;    /* 1 or 2 */
    int row_send;  /* the arrow leaves here */
    int row_recv;  /* and lands here; lost: where it ends mid-air */
    bool lost;     /* t_recv == TS_TIME_NEVER */
    bool compact;  /* text: too dense to slope, drawn as one row (label, send and arrow) */
} ts_lseg; /* small: a 100,000-packet capture lays out in a few MB; labels are made when drawn */

typedef enum { TS_LNOTE_STATE, TS_LNOTE_TIMER } ts_lnote_kind;

typedef struct ts_lnote {
    ts_lnote_kind kind;
    int end;
    int row;      /* where the text goes */
    int row_from; /* a timer: the row it was armed on (for a bracket), else row */
    bool inferred;
    ts_time_t t_set; /* a timer: when it was armed */
    char text[96];
} ts_lnote;

typedef struct ts_lgap {
    int row0, nrows; /* the rows the gap occupies; its label goes on row0 + nrows / 2 */
    ts_time_t dt;
} ts_lgap;

typedef struct ts_layout {
    const ts_view *v;
    ts_ladder_opts o;
    ts_lrow *rows;
    int nrows;
    ts_lseg *segs;
    size_t nsegs;
    ts_lnote *notes;
    size_t nnotes;
    ts_lgap *gaps;
    size_t ngaps;
    char addr[2][40]; /* "10.0.0.103:55570" */
    char title[200];
    bool any_inferred, any_lost, any_rexmit, any_timer;
    /* The text only: segments that flew while more than dense_max were in flight at once
     * are compact: one row each, their arrivals not drawn (too many crossing arrows to
     * tell apart in the columns there are). The SVG and HTML slope every arrow. */
    size_t ncompact;
    int dense_max;
} ts_layout;

/* Lay v out. 0, or -1 (out of memory) with a message in err. */
int ts_ladder_layout(const ts_view *v, const ts_ladder_opts *o, ts_layout *L, char *err,
                     size_t errlen);
void ts_ladder_layout_free(ts_layout *L);

/* "1 s", "7.196 s", "40 ms", "250 us": a duration as a person writes it. */
const char *ts_ladder_dur(ts_time_t dt, char *buf, size_t len);
/* A sequence number as the ladder shows it: absolute, or relative to end's ISN. */
uint32_t ts_ladder_seq(const ts_layout *L, int end, uint32_t seq);

/* An arrow's label in three parts: "F. seq 1 ack 1"; on SYNs the options "[mss 1460,
 * sackOK,TS,wscale 7]" (SACK blocks on ACKs); the cause of a retransmission "(SYN retry
 * #1 after 1 s)" or "". */
void ts_ladder_seg_text(const ts_layout *L, const ts_lseg *ls, char main[TS_LLABEL_MAX],
                        char opts[TS_LLABEL_MAX], char cause[64]);
/* The text of an arrow's label rows (nlabel of them): all on one row when it fits between
 * the lifelines; else the flags and numbers with the cause, then the options, or when that
 * is still too wide the flags and numbers, then the options with the cause. */
#define TS_LROW_MAX (2 * TS_LLABEL_MAX + 80)
void ts_ladder_label_rows(const ts_layout *L, const ts_lseg *ls, char rows[2][TS_LROW_MAX]);
/* The columns between the lifelines a label may use in the text (the SVG matches it). */
int ts_ladder_label_room(const ts_layout *L);

/* The length of the valid UTF-8 sequence at p (1 to 4), or 0 when it is not one: SVG and
 * HTML must not carry a stray byte from a host name or a capture. */
size_t ts_ladder_utf8_len(const char *p);

/* The renderers. */
int ts_ladder_text(const ts_layout *L, FILE *f);
int ts_ladder_svg(const ts_layout *L, FILE *f, bool html);
int ts_ladder_html(const ts_layout *L, FILE *f);

#endif
