/* view.h: the model every teaching view draws from: one TCP connection as its two ends
 * saw it: the segments (sent when, arrived when or lost), each end's state changes, the
 * timers the stacks ran and each end's control block at each segment. Sources fill it
 * (a capture read with libpcap, a simulator run, a live TUN run, all through view_*.c);
 * renderers draw it (the ladder as text, SVG or HTML; the time-sequence graph). One model,
 * so every source gets every picture. */
#ifndef TS_VIEW_H
#define TS_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tcpsim/event.h"
#include "tcpsim/socket.h"
#include "tcpsim/types.h"
#include "tcpsim/wire.h"

/* Where the model came from: what it can know. A capture knows only the wire: its states
 * are inferred from the segments, it has no timers and no control blocks. */
typedef enum { TS_VIEW_CAPTURE, TS_VIEW_SIM, TS_VIEW_LIVE } ts_view_origin;

/* Why a segment was sent, for arrows and captions. */
typedef enum {
    TS_VCAUSE_NEW,    /* first transmission, or a pure ACK */
    TS_VCAUSE_SYN,    /* SYN or SYN-ACK resent by its timer */
    TS_VCAUSE_RTO,    /* data or FIN resent by the retransmission timer */
    TS_VCAUSE_FAST,   /* fast retransmit, NewReno partial ACK, SACK recovery */
    TS_VCAUSE_TLP,    /* tail loss probe (RFC 8985 7) */
    TS_VCAUSE_PROBE,  /* zero-window or keepalive probe */
    TS_VCAUSE_REXMIT, /* a retransmission whose cause the source cannot tell (capture) */
} ts_view_cause;

const char *ts_view_cause_name(ts_view_cause c); /* "new", "syn", "rto", "fast", ... */

#define TS_VIEW_SACK_MAX 4

typedef struct ts_view_seg {
    uint32_t no;            /* the packet's number in its source, from 1 */
    int from;               /* the sending end: 0 or 1 */
    ts_time_t t_send;       /* left the sender (a capture: when the tap saw it, or for the
                               far end's segments an estimate: see times_estimated) */
    ts_time_t t_recv;       /* reached the other end; TS_TIME_NEVER: it never did (lost) */
    uint8_t flags;          /* TCP flags (TS_TH_*, tcpsim/wire.h) */
    uint32_t seq, ack, len; /* absolute; len = payload bytes */
    uint16_t win_raw;       /* the window field as sent */
    uint32_t win;           /* the window in bytes (scaled when scaling was agreed) */
    /* Options (SYNs carry mss/wscale/sackOK; sack blocks on ACKs; 0/false when absent). */
    uint16_t mss;
    int8_t wscale; /* -1 if absent */
    bool sack_ok, has_ts;
    uint32_t tsval, tsecr;
    uint8_t nsack;
    uint32_t sack[TS_VIEW_SACK_MAX][2]; /* [start, end) */
    ts_view_cause cause;
    uint32_t rexmit_no; /* the nth retransmission of this data (1 = first), 0 = none */
    ts_time_t rto;      /* the RTO in force at an RTO/SYN retransmission, else 0 */
    const char *lost;   /* why it never arrived ("loss", "queue full", ...), NULL */
    const char *line;   /* the whole tcpdump line without the time stamp */
    const char *why;    /* one sentence on why it was sent ("RTO retransmission #2, rto
                           800 ms"), or NULL: pcapng comments and tooltips */
    int32_t tcb[2];     /* index into view->tcbs: each end's control block just after this
                           segment left (from) or arrived (the other end); -1 unknown */
} ts_view_seg;

typedef struct ts_view_state {
    int end; /* 0 or 1 */
    ts_time_t t;
    ts_state from, to;
    bool inferred; /* read from the segments, not reported by a stack */
} ts_view_state;

typedef enum { TS_VTIMER_PENDING, TS_VTIMER_FIRED, TS_VTIMER_CANCELLED } ts_view_timer_end;

typedef struct ts_view_timer {
    int end;
    ts_timer_kind kind;
    ts_time_t set;      /* when armed */
    ts_time_t deadline; /* when it was due */
    ts_time_t stop;     /* when it fired or was cancelled (or re-armed) */
    ts_view_timer_end how;
} ts_view_timer;

typedef struct ts_view_tcb {
    int end;
    ts_time_t t;
    ts_tcp_info info;
} ts_view_tcb;

typedef struct ts_view_end {
    ts_endpoint ep;
    char name[32]; /* the host's name in a scenario, "stack"/"linux" live, "" capture */
    uint32_t isn;  /* the ISN (seq of its SYN), for --relative */
    bool isn_known;
} ts_view_end;

typedef struct ts_view {
    ts_view_origin origin;
    ts_view_end end[2]; /* end[0] sent the connection's first segment (the client) */
    ts_view_seg *segs;  /* in order of t_send */
    size_t nsegs;
    ts_view_state *states; /* in time order */
    size_t nstates;
    ts_view_timer *timers; /* in order of set */
    size_t ntimers;
    ts_view_tcb *tcbs;
    size_t ntcbs;
    void *arena; /* strings (lines, whys) live here; freed with the view */
    /* A capture has one tap: the times at the tap are the capture's, the far end's are
     * estimated from the round trips seen there (so arrows slope). note says so in one
     * sentence for a caption ("times at 10.0.0.199:6379 estimated: ..."), or NULL. */
    bool times_estimated;
    const char *note;
} ts_view;

/* Every connection of one source, in order of first appearance. */
typedef struct ts_view_set {
    ts_view **conns;
    size_t n;
} ts_view_set;

void ts_view_free(ts_view *v);
void ts_view_set_free(ts_view_set *set);

/* Choose a connection: "" or NULL the first, "N" the Nth (from 1), or "A.B.C.D:PORT"
 * (either end). NULL with a one-line message in err naming what exists. */
ts_view *ts_view_set_pick(const ts_view_set *set, const char *which, char *err, size_t errlen);

/* tcpdump's flag letters: "S", "S.", ".", "F.", "P.", "R.", "FP." ... into buf (8 bytes). */
const char *ts_view_flags(uint8_t flags, char *buf);

#endif
