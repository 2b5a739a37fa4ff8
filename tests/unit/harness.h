/* harness.h: two tcpsim stacks wired back to back through their output callbacks, with a
 * manual virtual clock, a one-way delay, a drop hook and a log of every segment as tcpdump
 * prints it. Used by the TCP unit tests to assert exact segments at exact times. Its two
 * fixtures (at the end) give a suite "a connection established with these options"
 * (h_conn_open) and "a bulk transfer with this drop plan" (h_bulk_start, h_bulk_open). */
#ifndef TS_HARNESS_H
#define TS_HARNESS_H

#include <check.h>
#include <stdbool.h>
#include "tcpsim/checksum.h"
#include "tcpsim/format.h"
#include "tcpsim/tcpsim.h"
#include "tcpsim/wire.h"

#define H_A         0 /* 10.0.0.103, the chapter's client */
#define H_B         1 /* 10.0.0.199, the chapter's server */
#define H_MAX_LOG   4096
#define H_MAX_QUEUE 8192

typedef struct h_pkt {
    ts_time_t t; /* when sent */
    int from;    /* H_A or H_B */
    size_t len;
    uint8_t data[1600];
    char line[512];
    uint8_t flags; /* TCP flags, 0 for non-TCP */
    uint32_t seq, ack, plen;
    uint16_t win;
} h_pkt;

/* One TS_EV_STATE event seen by the harness's event callback. */
typedef struct h_state_ev {
    int side; /* H_A or H_B */
    ts_time_t t;
    uint32_t conn; /* ts_conn_id.id, unique per stack */
    uint16_t lport;
    ts_state from, to;
} h_state_ev;

typedef struct harness harness;
/* Return true to drop the packet (idx counts packets from that side, from 1). */
typedef bool (*h_drop_fn)(harness *h, int from, const h_pkt *p, unsigned idx);

struct harness {
    ts_stack *st[2];
    ts_time_t now;
    ts_time_t delay; /* one-way delay, both directions */
    h_drop_fn drop;
    void *user;
    unsigned sent_count[2];
    /* the log: every packet sent, dropped ones too (marked); grows as needed */
    h_pkt *log;
    bool *log_dropped;
    size_t nlog, log_cap;
    /* state changes of both stacks, in order (TS_EV_STATE events) */
    h_state_ev *states;
    size_t nstates, states_cap;
    /* in flight */
    struct {
        ts_time_t at;
        int to;
        size_t idx;
    } q[H_MAX_QUEUE];
    size_t nq;
    bool verbose; /* print each packet to stderr (h_new sets it when H_VERBOSE is set) */
};

/* Run one Check suite (a fork per test, as CK_FORK says); the process exit status. */
int h_run_suite(Suite *s);

/* Create with per-side parameter blocks (NULL = Linux defaults) and seed. */
harness *h_new(const ts_params *pa, const ts_params *pb);
void h_free(harness *h);
/* Advance the clock to t, delivering packets and running timers in time order. */
void h_run_until(harness *h, ts_time_t t);
/* Run until nothing is pending or t_max is reached. */
void h_run(harness *h, ts_time_t t_max);
/* Packets logged from side `from` (-1 = both) with these exact flags; count. */
size_t h_count(const harness *h, int from, uint8_t flags);
/* Number of packets logged (dropped included). */
static inline size_t h_nlog(const harness *h)
{
    return h->nlog;
}
/* Print the log to stderr (for failing tests). */
void h_dump(const harness *h);
/* Flag letters as tcpdump shows them: "S", "S.", ".", "F.", "P.", "R." */
const char *h_flags(uint8_t flags);

/* The states conn `conn` of side `side` went through (each `to`), written into out
 * (as TS_CLOSED-terminated names joined by " "): e.g. "SYN_SENT ESTABLISHED FIN_WAIT_1". */
const char *h_state_path(const harness *h, int side, uint32_t conn, char *out, size_t len);
/* The id of the first connection of `side` whose local port is lport (0 = any); 0 if none. */
uint32_t h_conn_id(const harness *h, int side, uint16_t lport);

/* A stack's events, recorded by h_rec_cb (ts_stack_set_event_fn(s, h_rec_cb, &rec), with
 * rec.s = s), each with the snapshot ts_stack_conn_info gives at it: for tests that play
 * one script to two stacks and compare what each said. */
typedef struct h_rec_ev {
    ts_event_type type;
    ts_time_t now;
    uint32_t id;
    ts_time_t when;     /* a timer's deadline; an UNDO's cwnd */
    int kind, from, to; /* a timer's kind, a drop's reason, an UNDO's kind; a STATE's */
    bool has_info;
    ts_tcp_info info;
    size_t plen; /* SEG_IN, SEG_OUT: the packet's length, and its first bytes */
    uint8_t pkt[128];
} h_rec_ev;
typedef struct h_rec {
    ts_stack *s;
    h_rec_ev *ev;
    size_t n, cap;
} h_rec;
void h_rec_cb(void *ctx, const ts_event *ev);

/* Hand-built packets. h_build writes an IPv4+TCP packet with valid checksums into buf
 * (at least 1600 bytes) with the wire layer's ts_tcp_build and returns its length. */
typedef struct h_seg {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    const uint8_t *opt; /* raw option bytes (a multiple of 4 for a sane header) */
    size_t optlen;
    const uint8_t *data;
    size_t dlen;
} h_seg;
size_t h_build(uint8_t *buf, const h_seg *g);
/* A segment as socket sd of side `side` would send it now: its 4-tuple, SEQ = its SND.NXT
 * + dseq, ACK = its RCV.NXT, window field 502, the given flags, options and data (a C
 * string, or NULL). For tests that forge what the peer sends. */
size_t h_build_as(harness *h, int side, int sd, uint8_t *buf, int32_t dseq, uint8_t flags,
                  const uint8_t *opt, size_t optlen, const char *data);
/* Recompute the IPv4 header checksum and, if tcp, the TCP checksum in place. */
void h_fix_csums(uint8_t *pkt, size_t len, bool tcp);
/* Feed a packet to side `to` at the harness's time, copied to the very end of a malloc'd
 * block of exactly len bytes so ASan catches any overread. */
void h_inject(harness *h, int to, const uint8_t *pkt, size_t len);
/* h_build, then h_inject: a hand-built segment fed to side `to`. */
void h_inject_seg(harness *h, int to, const h_seg *g);
/* Addresses of the two sides. */
#define H_ADDR_A TS_IP4(10, 0, 0, 103)
#define H_ADDR_B TS_IP4(10, 0, 0, 199)

/* A small application on one side: accepts, reads everything into rx (auto_read), closes
 * on EOF if asked, and sends tx_total bytes of h_pattern() as the window allows, then
 * shuts its write side if asked. One struct per socket it drives. */
typedef struct h_app {
    harness *h;
    int side;
    int lsd, sd; /* listener and (last accepted or connected) socket, -1 if none */
    int naccepted;
    bool auto_read, close_on_eof, shut_when_sent;
    bool eof, closed;
    int err; /* first error seen (ts_sock_error) */
    ts_time_t eof_at, connected_at, err_at;
    unsigned events; /* every readiness bit seen */
    uint8_t *rx;
    size_t rx_len, rx_cap;
    size_t tx_total, tx_sent;
} h_app;
void h_app_init(h_app *a, harness *h, int side);
/* Listen on port; accepted connections get the app's callback (sd = the newest). */
void h_app_listen(h_app *a, uint16_t port, int backlog);
/* Connect to the other side's port (optionally from a fixed local port, 0 = ephemeral). */
void h_app_connect(h_app *a, uint16_t lport, uint16_t port);
/* Push as much of tx_total as fits now (also run from the callback). */
void h_app_push(h_app *a);
void h_app_free(h_app *a);
/* The byte at stream offset i of the test pattern. */
static inline uint8_t h_pattern(size_t i)
{
    return (uint8_t)(i * 131u + (i >> 13));
}
/* Index of the first rx byte that differs from the pattern, or rx_len if none. */
size_t h_app_check(const h_app *a);
/* Have a send total pattern bytes, then shut down its write side. */
void h_app_send_all(h_app *a, size_t total);
/* When side A sent data at seq for the nth time (1 = first), or TS_TIME_NEVER. */
ts_time_t h_sent_at(const harness *h, uint32_t seq, int nth);

/* ---- the fixtures: "a connection established with these options" and "a bulk transfer
 * with this drop plan", shared by every suite that needs one ---- */

/* Which data segments of one side to drop. Segments are numbered from 0 by sequence
 * (stream offset / mss); the plan counts the transmissions of each. Zeroed = drop nothing. */
typedef struct h_drop_plan {
    int from;          /* whose data: H_A (the default) or H_B */
    const int *segs;   /* drop the first transmission of these segments ... */
    int nsegs;         /*   (how many in segs) */
    int rexmit_drops;  /* ... and this many of their retransmissions, the first sent */
    const int *resend; /* drop the second transmission (first retransmission) of these */
    int nresend;
    uint32_t loss_pct; /* instead of all that: drop this share (percent) of every data
                        * packet, pseudo-randomly (a 64-bit LCG started at seed) */
    uint64_t seed;
    /* kept by the fixture */
    uint32_t base;       /* `from`'s first data sequence number */
    uint32_t mss;        /* the numbering's segment size: the connection's MSS */
    unsigned drops;      /* packets dropped so far */
    int rexmit_dropped;  /* of rexmit_drops */
    uint8_t sent[16384]; /* transmissions of each segment seen (saturating) */
} h_drop_plan;

/* How to establish the connection. Zeroed = two stacks with Linux defaults, no delay. */
typedef struct h_conn_opts {
    const ts_params *pa, *pb; /* the stacks' parameter blocks (NULL = Linux defaults):
                               * MSS, SACK, timestamps, window scale, cc, ... per side */
    ts_time_t delay;          /* one-way delay */
    uint16_t port;            /* B listens here (0 = 9000) */
    uint16_t lport;           /* A's local port (0 = ephemeral) */
    uint32_t mss;             /* A's MSS to check once established (0 = any) */
    harness *h;               /* open on this harness instead (the caller keeps it) */
    ts_time_t wait;           /* virtual time given to the handshake (0 = 1 s) */
    /* a transfer that starts with the connection instead of after it: */
    size_t a_send;           /* A sends this many pattern bytes as soon as it connects */
    bool a_shut;             /* ... then shuts its write side */
    const h_drop_plan *plan; /* drops from the first packet on (copied into h_conn.pl) */
    h_drop_fn drop;          /* or a drop hook of the suite's own, from the first SYN */
    void *user;              /* ... with this h->user */
} h_conn_opts;

/* An established connection: A connected, B accepted and reading everything (h_app).
 * About 17 KB with the plan's table: fine on a test's stack. */
typedef struct h_conn {
    harness *h;
    h_app ca, sb;          /* A's socket; B's listener and accepted socket */
    uint32_t isn_a, isn_b; /* the two initial sequence numbers */
    uint32_t base;         /* A's first data sequence number (isn_a + 1) */
    uint32_t mss;          /* A's MSS */
    ts_time_t t0;          /* when the fixture returned (and a bulk transfer started) */
    h_drop_plan pl;        /* the bulk transfer's drops and their count */
    bool own_h;
} h_conn;

/* Create the harness (unless o->h), connect A to B on o->port, run o->wait of virtual
 * time, check A is connected (and its MSS if o->mss). The ISNs are read from the SYNs. */
void h_conn_open(h_conn *c, const h_conn_opts *o);
/* Install the drop plan (NULL = none) and have plan->from's side send total pattern bytes,
 * then shut its write side; t0 is now. */
void h_bulk_start(h_conn *c, const h_drop_plan *plan, size_t total);
/* Install the drop plan (NULL = none) on the connection's data from now on. */
void h_conn_drop(h_conn *c, const h_drop_plan *plan);
/* h_conn_open then h_bulk_start. */
void h_bulk_open(h_conn *c, const h_conn_opts *o, const h_drop_plan *plan, size_t total);
/* The plan's drop hook (h->user = the h_conn), as h_conn_drop and h_bulk_start install it. */
bool h_plan_drop(harness *h, int from, const h_pkt *p, unsigned idx);
/* When B first ACKed `total` bytes of A's data, or TS_TIME_NEVER. */
ts_time_t h_conn_acked_at(const h_conn *c, size_t total);
/* Free the apps, and the harness if the fixture created it. */
void h_conn_free(h_conn *c);

#endif
