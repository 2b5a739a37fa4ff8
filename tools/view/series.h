/* series.h: the numbers behind the graphs: one row per stack event with the sender's
 * variables at that moment (state, sequence numbers, cwnd, ssthresh, bytes in flight,
 * SACKed and lost bytes, srtt, rttvar, rto, backoff, the peer's window, the congestion
 * state), read with ts_stack_conn_info from inside the event observer. Written as CSV or
 * JSON lines for people who plot in their own tools (`--series OUT.csv|OUT.jsonl`), and
 * kept in memory for tcpsim's own cwnd and rtt plots. The columns: docs/series.md. */
#ifndef TS_SERIES_H
#define TS_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "tcpsim/event.h"
#include "tcpsim/socket.h"

typedef enum { TS_SERIES_CSV, TS_SERIES_JSONL } ts_series_format;

/* One event and the connection's variables just after it. */
typedef struct ts_series_row {
    ts_time_t t; /* the event's time (µs, from the writer's origin) */
    const char *host;
    ts_conn_id conn;
    uint8_t event;  /* ts_event_type */
    uint8_t d1, d2; /* event detail: timer kind, rexmit kind, drop reason, state from/to */
    uint8_t flags;  /* segment events: TCP flags */
    bool has_seg;   /* seg_seq/seg_ack/seg_len hold a segment (or a retransmitted range) */
    bool has_ack;   /* seg_ack is meaningful (ACK flag set) */
    uint32_t seg_seq, seg_ack, seg_len;
    ts_time_t sample; /* RTT_SAMPLE: the sample; else 0 */
    ts_time_t timer;  /* TIMER_SET: the time from now to its deadline; else 0 */
    /* The connection's variables, from `srtt` to `spare`: a block with no padding (the
     * writer compares it as bytes and reuses its text while it stays the same). */
    ts_time_t srtt, rttvar, rto;
    uint32_t snd_una, snd_nxt, snd_max, snd_wnd;
    uint32_t cwnd, ssthresh, flight, sacked, lost, backoff;
    bool known;       /* the variables are the connection's (false: no connection) */
    uint8_t state;    /* ts_state */
    uint8_t ca_state; /* ts_ca_state */
    uint8_t spare;    /* 0: fills the block */
} ts_series_row;

/* The row for ev raised by stack s (NULL: no variables), stamped ev->now - t0. */
void ts_series_fill(ts_series_row *r, ts_stack *s, const char *host, const ts_event *ev,
                    ts_time_t t0);

/* The fields of a segment the rows show, read from an IPv4 packet with the wire parse's
 * structural checks; false when it is no TCP/IPv4 segment (for tests). */
bool ts_series_parse_seg(const uint8_t *pkt, size_t len, uint32_t *seq, uint32_t *ack,
                         uint8_t *flags, uint32_t *seglen);

/* The format a file name asks for: .csv, or .jsonl/.ndjson/.json (JSON lines). 0, or -1. */
int ts_series_format_from_name(const char *path, ts_series_format *out);
/* The header line (CSV only; "" for JSON lines), newline included. */
const char *ts_series_header(ts_series_format fmt);
/* Format one row with its newline into buf (at least TS_SERIES_LINE_MAX bytes); returns
 * its length. */
#define TS_SERIES_LINE_MAX 1024
size_t ts_series_format_row(const ts_series_row *r, ts_series_format fmt, char *buf);

/* A formatter that remembers what repeats from row to row (the host, the connection's
 * addresses, its variables while unchanged) and writes only what changed: the same bytes
 * as ts_series_format_row, faster. For one stream of rows. */
typedef struct ts_series_fmt ts_series_fmt;
ts_series_fmt *ts_series_fmt_new(ts_series_format fmt); /* NULL when out of memory */
void ts_series_fmt_free(ts_series_fmt *f);
size_t ts_series_fmt_row(ts_series_fmt *f, const ts_series_row *r, char *buf);

/* Which events get a row (docs/series.md "Rows"). The stack re-arms or stops a timer on
 * nearly every segment of a bulk transfer (a third or more of its events) without changing any
 * variable; by default those rows are left out. */
typedef enum {
    TS_SERIES_CHANGES, /* every event but a timer set or cancel that repeats the row before */
    TS_SERIES_ALL,     /* one row per event */
} ts_series_rows;
/* "changes" or "all" (--series-events). 0, or -1. */
int ts_series_rows_from_name(const char *name, ts_series_rows *out);

#define TS_SERIES_VARS_BEGIN offsetof(ts_series_row, srtt)
#define TS_SERIES_VARS_SIZE  (offsetof(ts_series_row, spare) + 1 - TS_SERIES_VARS_BEGIN)
_Static_assert(TS_SERIES_VARS_SIZE == 3 * sizeof(ts_time_t) + 10 * sizeof(uint32_t) + 4,
               "the variables' block has no padding: it is compared as bytes");

/* Two blocks of variables (a row's srtt .. spare) the same, a word at a time (memcmp is
 * a call, and this runs for most rows of a run). */
static inline bool ts_series_vars_same(const char *p, const char *q)
{
    uint64_t x = 0, u, v;
    for (size_t i = 0; i + 8 <= TS_SERIES_VARS_SIZE; i += 8) {
        memcpy(&u, p + i, 8);
        memcpy(&v, q + i, 8);
        x |= u ^ v;
    }
    uint32_t s, t;
    memcpy(&s, p + TS_SERIES_VARS_SIZE - 4, 4);
    memcpy(&t, q + TS_SERIES_VARS_SIZE - 4, 4);
    return !(x | (s ^ t));
}

/* True when r, the row after prev (NULL: r is the first), is one TS_SERIES_CHANGES leaves
 * out: a timer_set or timer_cancel of the same host and connection as prev, with the same
 * variables (state .. backoff). The row before in the file, not the connection's last
 * row: the stack sets and stops timers inside the call that raised the event before, so
 * this leaves out the same rows (in sim/scenarios) or nearly (99.8% of them in the lossy
 * echo stress runs, where connections interleave; never one more), and needs no table of
 * connections. The row before a left-out one has the same host, connection and variables,
 * so "the row before" means the same among the events as in the file. Inline: the
 * observer asks it for every event. */
static inline bool ts_series_repeats(const ts_series_row *prev, const ts_series_row *r)
{
    if ((r->event != TS_EV_TIMER_SET && r->event != TS_EV_TIMER_CANCEL) || !prev || !r->known ||
        prev->conn.id != r->conn.id ||
        !ts_series_vars_same((const char *)prev + TS_SERIES_VARS_BEGIN,
                             (const char *)r + TS_SERIES_VARS_BEGIN))
        return false;
    return prev->host == r->host || (prev->host && r->host && !strcmp(prev->host, r->host));
}

/* A writer (series_write.c). The observer only takes the row (the connection's variables
 * must be read at the event) into a ring made at open; a thread of the writer's formats
 * and writes the rows in order, in large blocks, so a run pays for the reading alone
 * when a second core is free. No allocation and no system call per event. */
typedef struct ts_series ts_series;
/* Open path for writing, the format by its extension, rows as asked. NULL with a one-line
 * message. */
ts_series *ts_series_open(const char *path, ts_time_t t0, ts_series_rows rows, char *err,
                          size_t errlen);
/* Write the row for ev, raised by stack s of host (call it from the stack's observer). */
void ts_series_event(ts_series *w, ts_stack *s, const char *host, const ts_event *ev);
/* Flush and close; 0, or -1 with a one-line message (a write error, e.g. disk full). */
int ts_series_close(ts_series *w, char *err, size_t errlen);

/* In memory, for the plots: every connection of a run, each end's rows (only rows where a
 * plotted variable changed, every RTT sample, retransmission and RTO timer set: the same
 * picture, fewer rows). Connections in order of first appearance, both ends of one
 * connection matched by their addresses. */
typedef struct ts_series_end {
    const char *host; /* NULL: this end is not a stack (a scripted peer) */
    ts_endpoint ep;
    ts_series_row *rows;
    size_t n, cap;
    uint64_t bytes_out; /* payload bytes sent, retransmissions included */
} ts_series_end;

typedef struct ts_series_conn {
    ts_series_end end[2]; /* end[0]: the first end seen (usually the client) */
} ts_series_conn;

typedef struct ts_series_set ts_series_set;
ts_series_set *ts_series_set_new(void);
void ts_series_set_free(ts_series_set *set);
/* Keep the row for ev, raised by stack s of host (call it from the stack's observer). */
void ts_series_collect(ts_series_set *set, ts_stack *s, const char *host, const ts_event *ev);
/* False when memory ran out while collecting (the set is incomplete). */
bool ts_series_set_ok(const ts_series_set *set);
size_t ts_series_set_count(const ts_series_set *set);
/* Choose a connection as ts_view_set_pick does: "" the first, "N", or "A.B.C.D:PORT" of
 * either end. NULL with one line in err naming what exists. */
const ts_series_conn *ts_series_set_pick(const ts_series_set *set, const char *which, char *err,
                                         size_t errlen);

#endif
