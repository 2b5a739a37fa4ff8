/* internal.h: the core's private data structures: the stack, connections (the TCB of
 * RFC 9293 3.3.1), socket handles, the timer heap, and the functions the core's files
 * share. Nothing here is part of the public API. */
#ifndef TS_INTERNAL_H
#define TS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring.h"
#include "tcpsim/checksum.h"
#include "tcpsim/stack.h"
#include "tcpsim/socket.h"
#include "tcpsim/tcp_opt.h"
#include "tcpsim/wire.h"

#define TS_MAX_PKT    65535
#define TS_OOO_MAX    32 /* out-of-order ranges held per connection */
#define TS_TS_OPT_LEN 12 /* NOP, NOP, TS */
#define TS_PUSH_MARKS 16 /* ends of the most recent writes remembered for PSH */
#define TS_SACK_MAX   32 /* SACKed ranges the sender's scoreboard holds (RFC 6675) */
#define TS_RXT_MAX    32 /* hole retransmissions remembered per recovery (RACK, RFC 8985) */
#define TS_TXM_MAX    8  /* first-transmission marks kept for timestamp checks */
#define TS_UNDO_RTX   8  /* retransmitted ranges an undo record keeps (RFC 3708) */
#define TS_HS_MARKS   32 /* send-time ranges kept for HyStart's RTT samples */

/* Sequence arithmetic modulo 2^32 (RFC 9293 3.4): valid across the wrap. */
static inline bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}
static inline bool seq_le(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}
static inline bool seq_gt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}
static inline bool seq_ge(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) >= 0;
}
static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
    return seq_gt(a, b) ? a : b;
}
static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
    return seq_lt(a, b) ? a : b;
}

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

struct ts_conn;
typedef struct ts_conn ts_conn;

/* A place in a listener's SYN or accept queue (doubly linked, O(1) removal). The accept
 * queue holds children; the SYN queue children and request blocks (tcp_req.c), told
 * apart by req. */
typedef struct ts_qlink {
    struct ts_qlink *next, *prev;
    bool req;
} ts_qlink;

/* What embeds a node of s->heap (ts_heap_node.owner). */
enum { TS_HN_CONN = 0, TS_HN_REQ = 1 };

#include "heap.h"
#include "policy.h"

/* A parsed incoming segment. */
typedef struct ts_seg {
    uint32_t src, dst; /* IPv4, host order */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd; /* raw window field */
    const uint8_t *data;
    uint32_t len; /* payload length */
    ts_tcp_opts opts;
    const uint8_t *pkt; /* the whole IPv4 packet, for events */
    size_t pkt_len;
} ts_seg;

/* SEG.LEN of RFC 9293: payload plus one for SYN and one for FIN. */
static inline uint32_t seg_seqlen(const ts_seg *g)
{
    return g->len + !!(g->flags & TS_TH_SYN) + !!(g->flags & TS_TH_FIN);
}

/* HyStart++ (RFC 9406) and Linux CUBIC's HyStart (hystart.c): when data first went out
 * (a ring of ranges), the rounds and their minimum RTTs. */
typedef struct ts_hystart {
    struct ts_hs_mark {
        uint32_t start, end; /* [start, end) went out at t */
        ts_time_t t;
    } mark[TS_HS_MARKS];
    uint8_t head, n;
    bool round_on; /* a round has started */
    bool in_css;   /* RFC 9406 Conservative Slow Start */
    bool found;    /* Linux: slow start's exit was found */
    bool rtx_on;   /* data was retransmitted, none beyond rtx_high (Karn) */
    uint32_t rtx_high;
    uint8_t css_rounds;
    uint32_t css_entries; /* times CSS was entered (for tests) */
    uint32_t window_end, samples;
    ts_time_t last_round_min, cur_round_min, css_baseline;
    /* Linux's hystart_update state */
    uint32_t end_seq, sample_cnt;
    ts_time_t round_start, last_ack, curr_rtt, delay_min;
} ts_hystart;

/* A parameter block shared by connections (mem.c); p first, so a const ts_params * of
 * a block is the block's address. */
typedef struct ts_params_blk {
    ts_params p;
    uint32_t refs;
    bool counted; /* in mem_conn_bytes: the stack no longer holds it */
} ts_params_blk;

/* A hole retransmission of SACK recovery (tcp_sack.c's records, ts_conn.rxt). */
struct ts_rxt {
    uint32_t start, end; /* the range sent */
    uint32_t order;      /* transmission order since the last reset, from 1 */
    uint32_t high;       /* SND.MAX when it went out: data above was sent later */
    bool lost;           /* lost again: NextSeg resends it before any new hole */
};

struct ts_conn {
    uint32_t id;
    ts_state state;
    ts_endpoint local, remote;
    /* The parameters, shared (mem.c): the stack's defaults' block, or the listener's for
     * its children, until a ts_sock_set_params gives the connection a block of its own. */
    const ts_params *p;
    const ts_rto_ops *rto_ops;
    const ts_backoff_ops *backoff_ops;
    const ts_delack_ops *delack_ops;
    const ts_cc_ops *cc_ops;

    /* Lookup, socket and listener links. */
    ts_conn *hnext; /* hash chain */
    bool hashed;
    int sd;            /* socket handle, -1 when orphaned */
    ts_conn *listener; /* for passive children until accepted */
    ts_qlink q;        /* its place in the listener's SYN or accept queue */
    bool in_accept_queue;
    bool port_held; /* counted in the stack's port_refs (tcp_conn.c ts_port_hold) */
    /* Listener fields. */
    uint32_t backlog;   /* the accept queue's bound */
    uint32_t n_syn;     /* SYN queue: children in SYN-RECEIVED, max_syn_backlog */
    uint32_t n_acceptq; /* accept queue: established children, backlog */
    bool cookie_sent;   /* a SYN cookie went out, at cookie_sent_at: check ACKs */
    ts_time_t cookie_sent_at;
    ts_qlink *aq_head, *aq_tail; /* accept queue (children), oldest first */
    ts_qlink *sq_head;           /* SYN queue (n_syn children or request blocks), newest first */

    /* Send side (RFC 9293 3.3.1). */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
    uint32_t snd_buf_seq; /* sequence number of the send ring's first byte */
    ts_ring sndq;
    uint16_t snd_mss;  /* payload bytes per full segment we send */
    uint16_t peer_mss; /* MSS option the peer sent (536 if none) */
    uint8_t snd_wscale, rcv_wscale;
    bool ws_ok, sack_ok, ts_ok;
    bool fin_queued; /* the user asked for a FIN after the queued data */
    bool fin_sent;
    /* PSH: sequence numbers just past the end of recent ts_send() calls, oldest first
     * (tcp_out.c ts_push_mark). A segment ending at or crossing one carries PSH. */
    uint32_t push_mark[TS_PUSH_MARKS];
    uint32_t push_n;
    /* What the user asked of the send path (socket.c; tcp_out.c honours it). */
    bool cork;              /* TCP_CORK: partial segments wait */
    bool tail_more;         /* the newest write had TS_MSG_MORE: no PSH just for ending the queue */
    uint8_t tos;            /* IP_TOS for this connection's packets */
    uint32_t notsent_lowat; /* TCP_NOTSENT_LOWAT, 0 = off */
    /* Ends of TS_MSG_EOR writes not yet ACKed, oldest first: segments never cross one.
     * TS_EOR_MAX of them, allocated at the first TS_MSG_EOR write (NULL before). */
    uint32_t *eor_mark;
    uint32_t eor_n;
    /* Receive side. */
    uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge last advertised */
    uint32_t rcv_ssthresh;          /* window budget, grows as data arrives */
    uint16_t rcv_mss;
    ts_ring rcvq; /* head = first unread byte; len = readable; OOO data past len */
    uint32_t ooo_n;
    /* Ranges held past rcv_nxt, sorted by start: TS_OOO_MAX of them, allocated at the
     * first out-of-order segment (NULL before; tcp_rcv.c), as most connections see none. */
    ts_sack_block *ooo;
    ts_sack_block sack_recent[TS_MAX_SACK_BLOCKS]; /* most recent first (RFC 2018 4) */
    uint32_t sack_recent_n;
    /* RFC 2883: a duplicate range to report as the first SACK block of the next ACK
     * (once), when SACK was negotiated and the dsack parameter is on */
    bool dsack_pending;
    ts_sack_block dsack;
    bool fin_rcvd; /* the FIN was reached in order */
    bool fin_ooo;  /* a FIN arrived beyond a hole */
    uint32_t fin_ooo_seq;
    /* Timestamps (RFC 7323). */
    uint32_t ts_recent, ts_offset, last_ack_sent;
    /* What an echoed timestamp may name (tcp_out.c records, tcp_ack.c's RTT sample
     * checks). New data: from txm[i].seq on it first went out at TSval txm[i].ts or later
     * (oldest first; below them, txm_floor: the SYN's).
     * Retransmissions: [seq, end) went out again at ts (rtm, oldest first); none reached
     * past rtx_high; rtm_lost_ts is the TSval of the newest record pushed out. */
    struct ts_txmark {
        uint32_t seq, ts;
    } txm[TS_TXM_MAX], txm_floor;
    uint32_t txm_n;
    struct ts_rtxmark {
        uint32_t seq, end, ts;
    } rtm[TS_TXM_MAX];
    uint32_t rtm_n, rtx_high, rtm_lost_ts;
    bool rtm_lost;
    /* RTT and RTO (RFC 6298). */
    ts_time_t srtt, rttvar, mdev, mdev_max, rto;
    uint32_t rtt_seq; /* Linux estimator: end of the current RTT period */
    bool rtt_timing;
    uint32_t rtt_timed_seq; /* sequence number being timed */
    ts_time_t rtt_timed_at;
    uint32_t retries; /* consecutive timeouts of the current segment */
    uint32_t total_retrans;
    bool synack_retransmitted;  /* handshake was retransmitted: RFC 6298 5.7 */
    ts_time_t first_unacked_at; /* for user_timeout */
    /* Tail loss probe (RFC 8985 7), tcp_loss.c's. tlp_out and reo_armed describe the TLP
     * timer slot, not the congestion state: either may hold in any ca_state, both at once. */
    uint32_t last_tx_seq;  /* start of the newest new-data (or FIN) segment sent */
    uint32_t tlp_high_seq; /* SND.NXT when the probe went out */
    bool tlp_out;          /* a probe is outstanding: no other until it is ACKed */
    /* Congestion control and loss recovery (tcp_loss.c writes these, and the cc cwnd). */
    uint32_t cwnd, ssthresh, bytes_acked, dupacks, recover;
    ts_ca_state ca_state; /* OPEN, DISORDER, RECOVERY (fast recovery), LOSS (after an RTO) */
    bool sack_rec;        /* SACK recovery (RFC 6675), else NewReno: chosen by ts_loss_policy */
    _Alignas(TS_CC_PRIV_ALIGN) unsigned char cc_priv[TS_CC_PRIV_SIZE]; /* the cc's own state */
    /* Slow start's exit (hystart.c), allocated only while HyStart may run (the hystart
     * parameter, or cubic's hystart_detect): NULL when off or when memory ran out. */
    ts_hystart *hs;
    /* SACK scoreboard (RFC 6675, tcp_sack.c): SACKed ranges above SND.UNA, sorted;
     * TS_SACK_MAX of them, allocated at the first SACK block kept (NULL before). */
    ts_sack_block *sb;
    uint32_t sb_n;
    uint32_t sacked_bytes; /* total of sb */
    uint32_t high_rxt;     /* RFC 6675 HighRxt: holes below it were retransmitted */
    uint32_t rack_lost;    /* unSACKed data below this is lost (reordering timer fired) */
    bool reo_armed;        /* the TLP slot holds the reordering timer (RFC 8985 6.2) */
    /* Hole retransmissions of SACK recovery not yet delivered (tcp_sack.c), kept from
     * one recovery into the next, forgotten on an RTO: RACK's "sent later and
     * delivered" test for a lost retransmission (RFC 8985 6.2). */
    struct ts_rxt *rxt; /* TS_RXT_MAX of them, allocated at the first one (NULL before) */
    uint32_t rxt_n;
    uint32_t rxt_order;     /* last order given */
    uint32_t rxt_delivered; /* highest order seen delivered */
    ts_time_t min_rtt;      /* smallest RTT sample, for the reordering window */
    /* RACK's reordering window multiplier (RFC 8985 6.2 step 4): one more per round trip
     * with a D-SACK (0 reads as 1), back to 1 after reo_wnd_persist recoveries; a round
     * ends when SND.UNA passes dsack_round (dsack_round_on). */
    uint32_t reo_wnd_mult, reo_wnd_persist, dsack_round;
    bool dsack_round_on;
    bool dsack_seen; /* a D-SACK ever arrived (RFC 3522 step 5) */
    /* The one undo record (tcp_loss.c) of the last loss episode, a fast retransmit or an
     * RTO, that F-RTO (RFC 5682), Eifel (RFC 3522/4015) and D-SACK undo (RFC 3708) read:
     * what to restore, and which retransmissions are outstanding. tcp_out.c counts each
     * retransmission of the episode's data into it (ts_undo_note_rexmit). */
    struct ts_undo {
        bool armed;              /* the episode may still be undone */
        bool rto;                /* it began with an RTO (else a fast retransmit) */
        uint32_t marker, high;   /* SND.UNA and SND.MAX when it began: its data */
        uint32_t cwnd, ssthresh; /* before the congestion response (Linux prior_cwnd) */
        /* RFC 4015 step (0), at an RTO's start: pipe_prev = max(FlightSize, ssthresh),
         * srtt_prev = SRTT + 2G, rttvar_prev = RTTVAR (RFC 6298's, whatever the policy) */
        uint32_t pipe_prev;
        ts_time_t srtt_prev, rttvar_prev;
        struct ts_undo_rtx {
            uint32_t start, end;
        } rtx[TS_UNDO_RTX]; /* what it retransmitted (when full, the last range grows) */
        uint32_t rtx_n;
        uint32_t nrtx;    /* segments of its data retransmitted */
        uint32_t retrans; /* ... not yet reported duplicate by a D-SACK */
        uint32_t rtx_ts;  /* RFC 3522 RetransmitTS: TSval of the first one */
        bool rtx_ts_set;
        bool eifel_done; /* its first acceptable ACK was checked (RFC 3522 3.2 (3)) */
        uint8_t frto;    /* RFC 5682: 0 off, 2 or 3: waiting in that step */
        /* RFC 4015 step (11) pending after an RTO undone by Eifel: reinitialize the
         * estimator from the first RTT sample of an ACK above adapt_above (SND.MAX at the
         * timeout: data not yet sent then). A later fast retransmit's record keeps it. */
        bool rto_adapt;
        uint32_t adapt_above;
    } undo;
    /* Proportional rate reduction (RFC 6937), bytes. */
    uint32_t prr_delivered, prr_out, recover_fs;
    /* Delayed ACK. */
    bool ack_pending;
    bool ack_now;
    uint32_t segs_unacked;
    uint32_t quickack_left;
    bool pingpong;
    ts_time_t ato;
    ts_time_t last_rcv_time, last_snd_time;
    ts_time_t last_seg_in; /* any segment, for keepalive */
    /* The last reply to a segment that failed a check (out of window, PAWS, ACK of unsent
     * data, challenge ACK), for invalid_ratelimit; oow_sent false until the first. */
    ts_time_t last_oow;
    bool oow_sent;
    /* Keepalive / persist. */
    uint32_t probes;
    uint32_t probes_out; /* zero-window probes sent since an ACK last came (Linux's) */
    /* Timers: absolute deadlines, TS_TIME_NEVER when off; the earliest keys the heap. */
    ts_time_t timer[TS_NUM_TIMERS];
    ts_heap_node hn; /* in s->heap, keyed by the earliest of them (tcp_conn.c) */
    /* User side. */
    int err;   /* pending error (negative errno), cleared by ts_sock_error */
    int fatal; /* sticky error returned by send/recv after a reset/timeout */
    bool shut_rd, shut_wr;
    bool orphan; /* the user closed the handle */
    bool bound;
    bool active_open;
    bool from_cookie; /* made by a SYN cookie's ACK: no handshake RTT sample */
    bool dead;        /* on the free list */
    unsigned notify;  /* readiness bits waiting to be delivered */
    bool on_notify_list;
    ts_conn *notify_next, *free_next;
};

/* A connection in TIME-WAIT whose user has closed its handle (tcp_tw.c): what RFC 9293
 * 3.10.7.4's TIME-WAIT and the observers still need of it, in place of the whole ts_conn
 * (as Linux's inet_timewait_sock). Frozen fields are the snapshot ts_stack_conn_info
 * reports; the live ones change as TIME-WAIT answers segments. */
typedef struct ts_tw ts_tw;
struct ts_tw {
    ts_tw *hnext;     /* the TIME-WAIT hash's chain (s->tw_htab) */
    ts_tw *free_next; /* on s->tw_free once CLOSED, until ts_leave frees it */
    ts_heap_node hn;  /* in s->tw_heap: the 2MSL timer's deadline, TS_TIME_NEVER off */
    uint32_t id;      /* the connection's id, unchanged */
    ts_endpoint local, remote;
    ts_state state; /* TIME_WAIT, then CLOSED until freed */
    /* live: what the answers read and write */
    uint32_t rcv_nxt, snd_nxt; /* SND.UNA = SND.NXT = SND.MAX: everything was ACKed */
    uint32_t snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
    uint32_t ts_recent, ts_offset, last_ack_sent;
    uint32_t rcv_space, rcv_space_acked; /* ts_rcv_space now, and once an ACK went out */
    ts_time_t last_oow;                  /* invalid_ratelimit's last reply */
    /* the connection's parameters TIME-WAIT reads */
    ts_time_t time_wait, invalid_ratelimit;
    uint32_t rcvbuf, hz;
    uint16_t wnd_field; /* the window field of our ACKs (ts_rcv_window, stable now) */
    uint8_t tos, snd_wscale, rcv_wscale;
    bool ts_ok, sack_ok, ws_ok, oow_sent, unsent_ack_reply, pingpong;
    /* frozen: the rest of the snapshot (ts_tcp_info) */
    uint16_t snd_mss, rcv_mss;
    uint32_t iss, irs, cwnd, ssthresh, total_retrans, retries, quickack_left;
    ts_time_t srtt, rttvar, rto;
    char cc[TS_POLICY_NAME_MAX];
    /* The last loss episode's undo record, when a D-SACK may still undo it (RFC 3708;
     * tcp_loss.c): armed with retransmissions and the dsack_undo parameter on. */
    bool undo_armed, undo_rto;
    uint8_t undo_rtx_n;
    uint32_t undo_retrans, undo_cwnd, undo_ssthresh;
    struct ts_undo_rtx undo_rtx[TS_UNDO_RTX];
};

/* A listener's child in SYN-RECEIVED at rest (its SYN-ACK sent, only the retransmission
 * timer armed), in place of the whole ts_conn (tcp_req.c), as Linux's request socks: what
 * rebuilds the child exactly (tcp_open.c's ts_open_embryo) when a segment or its timer
 * comes. The SYN as the child took it, the ISS, and the few fields that move while it waits. */
typedef struct ts_req ts_req;
struct ts_req {
    ts_req *hnext;      /* the request hash's chain (s->req_htab) */
    ts_qlink q;         /* its place in the listener's SYN queue (q.req set) */
    ts_heap_node hn;    /* its place in s->heap (owner TS_HN_REQ): the SYN-ACK timer */
    ts_conn *listener;  /* the child's listener */
    const ts_params *p; /* the child's parameters: its reference, held */
    uint32_t id;
    uint32_t raddr;
    uint16_t lport, rport;
    /* the SYN */
    uint32_t irs;
    uint16_t wnd, mss;
    uint8_t wscale;
    bool has_wscale, has_sackok, has_ts;
    /* the child's own */
    bool cork, oow_sent;
    uint8_t tos;
    uint32_t notsent_lowat;
    uint32_t iss, ts_offset, ts_recent, retries, total_retrans;
    struct ts_txmark txm_floor;
    ts_time_t rtt_timed_at, last_snd_time, last_seg_in, last_oow;
};

/* A socket handle. */
typedef struct ts_sock {
    ts_conn *conn; /* NULL when the slot is free */
    ts_sock_fn fn;
    void *ctx;
    uint32_t next_free;
} ts_sock;

struct ts_stack {
    uint32_t addr;
    uint64_t seed;
    uint8_t ttl;
    ts_params defaults;
    ts_params_blk *dflt; /* the defaults as new sockets share them (mem.c), or NULL */
    ts_output_fn output;
    void *output_ctx;
    ts_event_fn event;
    void *event_ctx;
    const ts_conn *ev_conn; /* the connection of the event being delivered (conn_info) */
    const char *out_why;    /* SEG_OUT's why for the packet being sent, or NULL */
    ts_time_t now;
    ts_counters cnt;
    uint64_t key[2]; /* SipHash key for ISNs and TS offsets (RFC 6528) */
    uint32_t next_conn_id;
    uint32_t ip_id;
    uint16_t port_hint;
    /* Bound ports: sockets holding each local port (bind, listen, connect), so that bind's
     * check is O(1); allocated at the first bind. port_probes counts the ports the checks and
     * the ephemeral search examined (tests bound it). */
    uint32_t *port_refs;
    bool port_refs_lost; /* the table could not be allocated: bind scans the sockets */
    uint64_t port_probes;
    /* Socket handles. */
    ts_sock *socks;
    uint32_t nsocks, socks_cap, free_sock;
    uint32_t max_sockets;
    uint32_t nconns;
    /* Connection hash: chained, power-of-two buckets. */
    ts_conn **htab;
    uint32_t hmask, hcount;
    /* Timer heap of connections keyed by their earliest deadline. */
    ts_heap heap;
    /* Deferred work: readiness notifications and connections to free. */
    ts_conn *notify_head, *notify_tail;
    ts_conn *free_head;
    int depth;
    /* Output scratch buffer of TS_MAX_PKT + 64 bytes. Allocated with malloc, not inside the
     * struct: the struct is calloc'ed, and clearing 64 KB nobody reads first cost a fifth
     * of each short-lived stack's life (the fuzz targets make two per input). In burst
     * mode it walks through the arena instead. */
    uint8_t *pkt;
    /* Burst mode (stack.h): packets are built one after another in the arena, which has
     * TS_MAX_PKT + 64 bytes beyond arena_cap so the next packet always fits; the burst is
     * flushed when arena_off passes arena_cap, or by ts_leave unless burst_hold. */
    ts_output_flush_fn flush;
    uint8_t *arena;
    size_t arena_off, arena_cap;
    int burst_hold;
    /* TIME-WAIT blocks (tcp_tw.c): a chained hash by 4-tuple, a min-heap by deadline, the
     * CLOSED ones to free at ts_leave; the block an event concerns, and the one whose
     * packet ip_out.c is sending (for its TOS and SEG_OUT's connection). */
    ts_tw **tw_htab;
    uint32_t tw_hmask, tw_count;
    ts_heap tw_heap;
    ts_tw *tw_free;
    const ts_tw *ev_tw;
    const ts_tw *out_tw;
    /* Request blocks (tcp_req.c): a chained hash by 4-tuple; their timers are in s->heap. */
    ts_req **req_htab;
    uint32_t req_hmask, req_count;
    /* Fault injection (tests, as Linux's failslab): asked before every allocation mem.c
     * makes, with its size; true refuses it as a malloc that failed would. NULL: never. */
    bool (*mem_refuse)(void *ctx, size_t size);
    void *mem_refuse_ctx;
};

/* mem.c: memory per connection, counted exactly (the mem_* counters), the cap mem_max. */
/* The capacity ring r may grow to now under mem_max (TS_RING_MAX without a cap; at least
 * TS_RING_MIN, and never less than it has). */
uint32_t ts_mem_reach(const ts_stack *s, const ts_ring *r);
/* ts_ring_reserve, counted and capped: 0; -ENOBUFS when mem_max refused (the ring grew as
 * far as it allows, maybe not at all: r->cap says what it holds); -ENOMEM (malloc). */
int ts_mem_reserve(ts_stack *s, ts_ring *r, uint32_t need);
void ts_mem_ring_free(ts_stack *s, ts_ring *r);
/* A zeroed connection block or side block of `size` bytes, counted (NULL: no memory). */
void *ts_mem_block(ts_stack *s, size_t size);
void ts_mem_block_free(ts_stack *s, void *p, size_t size); /* p may be NULL */
/* Parameter blocks shared by connections: ts_mem_params_defaults is the block of the
 * stack's defaults (made when first needed, NULL when malloc refuses it; the stack holds
 * it until ts_mem_params_defaults_changed); ts_mem_params_own a new block for one
 * connection; hold and drop count references, the last drop frees. A block counts in
 * mem_conn_bytes while only connections hold it. */
const ts_params *ts_mem_params_defaults(ts_stack *s);
const ts_params *ts_mem_params_own(ts_stack *s, const ts_params *p);
const ts_params *ts_mem_params_hold(const ts_params *p);
void ts_mem_params_drop(ts_stack *s, const ts_params *p);
void ts_mem_params_defaults_changed(ts_stack *s);
/* Give back the rings the connection no longer needs (its state, FINs, reads): */
void ts_mem_trim(ts_stack *s, ts_conn *c);

/* emit.c: events, drops, the readiness queue. */
void ts_emit(ts_stack *s, ts_event *ev);
void ts_emit_conn(ts_stack *s, ts_conn *c, ts_event *ev);
void ts_emit_rexmit(ts_stack *s, ts_conn *c, ts_rexmit_kind k, uint32_t seq, uint32_t len,
                    uint32_t count, ts_time_t rto);
void ts_drop(ts_stack *s, ts_drop_reason r, const uint8_t *pkt, size_t len);
void ts_notify(ts_stack *s, ts_conn *c, unsigned bits);      /* delivered by ts_leave */
void ts_emit_tw(ts_stack *s, const ts_tw *tw, ts_event *ev); /* a TIME-WAIT block's event */

/* ip_out.c */
void ts_ip_output(ts_stack *s, ts_conn *c, uint32_t dst, uint8_t proto, uint8_t *pkt, size_t len);
/* Burst mode: end the burst (call the flush callback) if it holds any packet. */
void ts_burst_flush(ts_stack *s);

/* stack.c: the entry points' bracket: deferred work runs when the outermost call leaves. */
void ts_enter(ts_stack *s);
void ts_leave(ts_stack *s);

/* icmp.c */
void ts_icmp_input(ts_stack *s, uint32_t src, const uint8_t *icmp, size_t len);

/* tick.c: Linux's tick-based timers (parameter hz). */
ts_time_t ts_tick_deadline(const ts_conn *c, ts_time_t now, ts_time_t when); /* hz ticks */
ts_time_t ts_tick_deadline_hz(uint32_t hz, ts_time_t now, ts_time_t when);   /* the same, by hz */
ts_time_t ts_timeout_min(const ts_conn *c, ts_time_t d); /* d + Linux's 2 ms timer floor */

/* tcp_conn.c: connection life, lookup, state, ISN, timers. */
/* A new CLOSED connection with parameters p, or NULL with *err (may be NULL) set to
 * -EMFILE (max_sockets reached), -ENOMEM or -EINVAL (a policy name not found). */
ts_conn *ts_conn_new(ts_stack *s, const ts_params *p, int *err);
void ts_conn_release(ts_stack *s, ts_conn *c); /* queue for freeing (deferred) */
void ts_conn_destroy(ts_stack *s, ts_conn *c); /* free now (teardown) */
void ts_conn_hash(ts_stack *s, ts_conn *c);
void ts_conn_unhash(ts_stack *s, ts_conn *c);
ts_conn *ts_conn_lookup(ts_stack *s, uint16_t lport, uint32_t raddr, uint16_t rport);
/* Is the 4-tuple taken, by a connection or a TIME-WAIT block? (connect, ephemeral ports) */
bool ts_tuple_in_use(ts_stack *s, uint16_t lport, uint32_t raddr, uint16_t rport);
/* Free an orphan that a TIME-WAIT block replaces: no event, no count changes (tcp_tw.c). */
void ts_conn_free_quiet(ts_stack *s, ts_conn *c);
/* A new connection's fields before anything is done with it (ts_conn_new; tcp_req.c's
 * rebuild): CLOSED, no handle, no timer, c->p's RTO and ATO, our address. */
void ts_conn_defaults(ts_stack *s, ts_conn *c);
static inline ts_conn *ts_conn_of_q(ts_qlink *q)
{
    return (ts_conn *)(void *)((char *)q - offsetof(ts_conn, q));
}
ts_conn *ts_listener_lookup(ts_stack *s, uint16_t lport);
bool ts_port_in_use(ts_stack *s, uint16_t lport);
void ts_port_hold(ts_stack *s, ts_conn *c); /* a bound socket's port counts (idempotent) */
void ts_port_drop(ts_stack *s, ts_conn *c); /* ...and no longer (socket closed, freed) */
uint16_t ts_ephemeral_port(ts_stack *s, uint32_t raddr, uint16_t rport);
void ts_set_state(ts_stack *s, ts_conn *c, ts_state st);
/* The states in which data (and our FIN) may be sent or probed: ours is open or our FIN
 * is not yet ACKed (RFC 9293 3.10.2, 3.10.4). The one definition: output and the TLP. */
static inline bool ts_state_may_send(ts_state st)
{
    return st == TS_ESTABLISHED || st == TS_CLOSE_WAIT || st == TS_FIN_WAIT_1 || st == TS_CLOSING ||
           st == TS_LAST_ACK;
}
/* Synchronized (RFC 9293 3.5) with a peer that still holds the connection: an abort or
 * a reset of every connection sends it a RST. Not CLOSED, LISTEN or SYN-SENT (nothing
 * to reset), nor TIME-WAIT (the peer is done). The one definition: socket.c's two. */
static inline bool ts_state_peer_synced(ts_state st)
{
    return st != TS_CLOSED && st != TS_LISTEN && st != TS_SYN_SENT && st != TS_TIME_WAIT;
}
uint32_t ts_isn(ts_stack *s, const ts_conn *c);
int ts_conn_policies(ts_conn *c, char *err, size_t errlen);
void ts_timer_set(ts_stack *s, ts_conn *c, ts_timer_kind k, ts_time_t when);
void ts_timer_clear(ts_stack *s, ts_conn *c, ts_timer_kind k);
/* Karn's rule (RFC 6298 3) holds: the karn parameter is on, or timestamps are (their echo
 * names the transmission, so a retransmission's ACK is timed unambiguously, tcp_ack.c).
 * Off: the timing of a segment survives its retransmission (tcp_out.c, tcp_timer.c) and
 * its ACK is timed from the ORIGINAL transmission, as Karn & Partridge's ambiguity. */
static inline bool ts_karn(const ts_conn *c)
{
    return c->p->karn || c->ts_ok;
}
/* RTTVAR in RFC 6298's form whatever the rto policy keeps, and its store (policy.h). */
static inline ts_time_t ts_rto_rttvar_rfc(const ts_conn *c)
{
    return c->rto_ops->rttvar_rfc ? c->rto_ops->rttvar_rfc(c) : c->rttvar;
}
static inline void ts_rto_set_rttvar_rfc(ts_conn *c, ts_time_t rttvar)
{
    if (c->rto_ops->set_rttvar_rfc)
        c->rto_ops->set_rttvar_rfc(c, rttvar);
    else
        c->rttvar = rttvar;
}
/* How many full-sized segments a received segment of `len` bytes counts for in the
 * delayed-ACK policies' "ACK every delack_segs full segments": a GRO/LRO super-segment
 * from an offloading driver (tun's IFF_VNET_HDR) is many segments, as Linux's
 * __tcp_ack_snd_check counts bytes received past the last ACK, not packets. */
static inline uint32_t ts_delack_full_segs(const ts_conn *c, uint32_t len)
{
    return c->rcv_mss ? len / c->rcv_mss : 0;
}
static inline bool ts_timer_on(const ts_conn *c, ts_timer_kind k)
{
    return c->timer[k] != TS_TIME_NEVER;
}
/* The earliest timer due by now, taken off (clock moved, TIMER_FIRE emitted), or NULL. */
ts_conn *ts_timer_next_due(ts_stack *s, ts_time_t now, ts_timer_kind *k);
/* The connection is finished: CLOSED, timers off, unhashed, error reported. */
void ts_conn_done(ts_stack *s, ts_conn *c, int err);
/* A passive child enters its listener's SYN queue (at its creation), moves from there to
 * the accept queue (its handshake done), and leaves either (accepted, or done, which
 * calls ts_conn_unqueue itself; c->listener is then NULL): each O(1). A request block
 * (tcp_req.c) holds its child's place in the SYN queue: ts_conn_q_replace swaps them. */
void ts_conn_synq_add(ts_conn *l, ts_conn *c);
void ts_conn_to_acceptq(ts_conn *l, ts_conn *c);
void ts_conn_unqueue(ts_conn *c);
void ts_conn_q_replace(ts_conn *l, ts_qlink *x, ts_qlink *y); /* y in x's SYN queue place */
void ts_conn_q_unlink(ts_conn *l, ts_qlink *x);               /* a block leaves the SYN queue */
uint64_t ts_siphash(const uint64_t key[2], const void *data, size_t len);

/* syncookie.c: SYN cookies (RFC 4987). */
/* The cookie (our ISN) for a SYN; *mss: the MSS it encodes (of the table, <= the peer's). */
uint32_t ts_cookie_make(const ts_stack *s, const ts_seg *g, uint16_t *mss);
/* Is the segment's ACK - 1 a cookie this stack made for it in the last 64 to 128 s? */
bool ts_cookie_check(const ts_stack *s, const ts_seg *g, uint16_t *mss);
/* TSval with the window scale and SACK in its low bits; and back from the ACK's TSecr. */
uint32_t ts_cookie_tsval(uint32_t tsval, bool ws_ok, uint8_t wscale, bool sack_ok);
bool ts_cookie_ts_decode(uint32_t tsecr, bool *ws_ok, uint8_t *wscale, bool *sack_ok);

/* tcp_open.c: the handshake (RFC 9293 3.5). */
void ts_open_listen(ts_stack *s, ts_conn *c); /* listen(): LISTEN, in the table */
void ts_open_active(ts_stack *s, ts_conn *c); /* connect(): ISS, SYN-SENT, the SYN */
/* A segment on a listener; the SYN-RECEIVED child it made, or NULL. */
ts_conn *ts_open_passive(ts_stack *s, ts_conn *l, const ts_seg *g);
void ts_open_syn_sent(ts_stack *s, ts_conn *c, const ts_seg *g); /* a segment in SYN-SENT */
void ts_synack_acked(ts_stack *s, ts_conn *c, const ts_seg *g);  /* SYN-RECEIVED -> ESTABLISHED */
/* An ACK on a listener that may answer a SYN cookie: 1 and *out = a new SYN-RECEIVED child
 * made from the cookie (the caller feeds it the segment), 0 = no valid cookie (the caller
 * resets it), -1 = a valid cookie but the accept queue is full (dropped, counted). */
int ts_open_cookie(ts_stack *s, ts_conn *l, const ts_seg *g, ts_conn **out);
/* The child and SYN-ACK that ts_open_passive made, as they stand after the waiting the
 * request block r recorded (tcp_req.c), rebuilt in *c (zeroed by the caller): nothing
 * counted, linked, held or emitted. */
void ts_open_embryo(ts_stack *s, ts_conn *c, const ts_req *r);
static inline bool ts_acceptq_full(const ts_conn *l)
{
    return l->n_acceptq >= l->backlog;
}

/* tcp_close.c: the closing transitions (RFC 9293 3.6). */
void ts_close_send_fin(ts_stack *s, ts_conn *c);  /* CLOSE/shutdown: queue our FIN */
void ts_close_fin_in(ts_stack *s, ts_conn *c);    /* the peer's FIN, in order */
bool ts_close_fin_acked(ts_stack *s, ts_conn *c); /* an ACK: false when now CLOSED */

/* tcp_ack.c: an acceptable segment of a synchronized connection: ACK, data, FIN. */
void ts_ack_input(ts_stack *s, ts_conn *c, const ts_seg *g);

/* tcp_in.c */
/* A checked IPv4 packet addressed to us, protocol TCP. */
void ts_tcp_input(ts_stack *s, const ts_ip4_view *ip);

/* hystart.c: slow start's exit before a loss (HyStart++, RFC 9406; Linux CUBIC's HyStart). */
void ts_hystart_init(ts_conn *c); /* a new round of slow start: the state afresh */
/* The state block, if HyStart may run with the connection's parameters and it has none
 * (at the connection's start, and when a parameter turns it on). */
void ts_hystart_attach(ts_stack *s, ts_conn *c);
/* Data [seq, end) went out now (tcp_out.c): its send time, for the RTT samples. */
void ts_hystart_sent(ts_conn *c, uint32_t seq, uint32_t end, bool rexmit, ts_time_t now);
/* SND.UNA advanced from una0 (tcp_loss.c, before the cc's on_ack): sample, rounds. */
void ts_hystart_ack(ts_conn *c, uint32_t una0, ts_time_t now);
/* Slow start's growth by inc bytes (ts_cc_slow_start): as is, or RFC 9406's (L, CSS). */
void ts_hystart_grow(ts_conn *c, uint32_t inc);

/* tcp_rcv.c: the receive stream. */
void ts_rcv_init(ts_conn *c, uint32_t irs);
uint32_t ts_rcv_window(ts_stack *s, ts_conn *c); /* the window for the next segment (scaled) */
uint32_t ts_rcv_space(const ts_conn *c);         /* bytes that may arrive past rcv_nxt now */
/* Take in-window payload; returns true if it was in order (advanced rcv_nxt). */
int ts_rcv_data(ts_stack *s, ts_conn *c, uint32_t seq, const uint8_t *data, uint32_t len,
                bool *in_order, bool *filled_hole);
/* The SACK blocks of the next ACK: the D-SACK block first (RFC 2883 4) if one is
 * pending, then the out-of-order ranges (RFC 2018 4). *dsack: whether out[0] is it. */
size_t ts_rcv_sack_blocks(const ts_conn *c, ts_sack_block *out, size_t max, bool *dsack);
/* A segment left of the window ([seq, end) in sequence space, FIN included) arrived: note
 * what of it lies below RCV.NXT as a duplicate for the next ACK's D-SACK block. */
void ts_rcv_dup(ts_conn *c, uint32_t seq, uint32_t end);
bool ts_rcv_window_update_due(const ts_conn *c); /* after a read: send a window update? */

/* tcp_rtx_slot.c: the retransmission timer slot: the RTO or the tail loss probe. */
void ts_rto_arm(ts_stack *s, ts_conn *c);
/* The timeout after the n-th consecutive expiry: backoff policy, backoff_jitter, rto_max. */
ts_time_t ts_backoff_timeout(const ts_stack *s, const ts_conn *c, ts_time_t base, uint32_t n,
                             uint32_t linear);
/* Arm the tail loss probe in place of the RTO if RFC 8985 7.2 allows one; `advanced`:
 * an ACK just advanced SND.UNA (cap at a full RTO), else cap at the RTO's time left. */
void ts_tlp_arm(ts_stack *s, ts_conn *c, bool advanced);

/* tcp_out.c */
/* What one output pass may do beyond the connection's standing rules: its callers say
 * so here instead of changing the connection and changing it back. */
typedef struct ts_out_opts {
    uint32_t cwnd;     /* the congestion window for this pass (0: c->cwnd) */
    bool push;         /* partial segments go despite Nagle and the cork (TCP_NAGLE_OFF) */
    bool sws_override; /* send into a window however small, with PSH (the persist timer) */
    bool more;         /* the running send has TS_MSG_MORE: a partial segment waits */
} ts_out_opts;
void ts_tcp_output(ts_stack *s, ts_conn *c); /* no options */
void ts_tcp_output_opts(ts_stack *s, ts_conn *c, const ts_out_opts *o);
void ts_send_syn(ts_stack *s, ts_conn *c);
void ts_send_ack(ts_stack *s, ts_conn *c);
void ts_send_challenge_ack(ts_stack *s, ts_conn *c);
void ts_send_oow_ack(ts_stack *s, ts_conn *c, const ts_seg *g);
void ts_send_rst_for(ts_stack *s, const ts_seg *g);
void ts_send_rst(ts_stack *s, ts_conn *c);   /* reset an existing connection */
void ts_send_probe(ts_stack *s, ts_conn *c); /* zero-window / keepalive probe */
/* Send one segment of [seq, seq+len) from the send ring (retransmission or new data). */
void ts_send_data(ts_stack *s, ts_conn *c, uint32_t seq, uint32_t len, bool rexmit);
void ts_push_mark(ts_conn *c, uint32_t end); /* the user's write ends at `end` */
/* len, cut so that [seq, seq+len) crosses no record end (TS_MSG_EOR). */
uint32_t ts_eor_clamp(const ts_conn *c, uint32_t seq, uint32_t len);
void ts_eor_trim(ts_conn *c); /* forget record ends at or below SND.UNA */
uint32_t ts_flight(const ts_conn *c);

/* A retransmission of [seq, seq+len) left at TSval tsval (tcp_out.c): an outstanding
 * retransmission of the undo record's episode when it is of the episode's data. */
static inline void ts_undo_note_rexmit(ts_conn *c, uint32_t seq, uint32_t len, uint32_t tsval)
{
    struct ts_undo *u = &c->undo;
    if (!u->armed || !len || !seq_lt(seq, u->high) || seq_lt(seq + len, u->marker)) return;
    uint32_t mss = c->snd_mss ? c->snd_mss : 536;
    uint32_t segs = (len + mss - 1) / mss;
    u->nrtx += segs;
    u->retrans += segs;
    struct ts_undo_rtx *last = u->rtx_n ? &u->rtx[u->rtx_n - 1] : NULL;
    if (last && seq_le(last->start, seq) && seq_le(seq, last->end))
        last->end = seq_max(last->end, seq + len); /* go-back-N: one growing range */
    else if (u->rtx_n < TS_UNDO_RTX)
        u->rtx[u->rtx_n++] = (struct ts_undo_rtx){seq, seq + len};
    else
        last->end = seq_max(last->end, seq + len), last->start = seq_min(last->start, seq);
    if (!u->rtx_ts_set) u->rtx_ts = tsval, u->rtx_ts_set = true;
}

/* tcp_sack.c: the sender's SACK scoreboard, RFC 6675 loss detection and PRR. */
void ts_sack_clear(ts_conn *c);
void ts_sack_trim(ts_conn *c); /* drop what SND.UNA has passed */
/* Merge the segment's valid SACK blocks (within (SND.UNA, SND.MAX], D-SACKs ignored). */
void ts_sack_add(ts_stack *s, ts_conn *c, const ts_sack_block *blk, uint32_t n);
uint32_t ts_sack_lost_end(const ts_conn *c);            /* unSACKed bytes below it are lost */
uint32_t ts_sack_pipe(const ts_conn *c);                /* RFC 6675 SetPipe, bytes */
uint32_t ts_sack_below(const ts_conn *c, uint32_t seq); /* SACKed bytes below seq */
/* Bytes of [s, e) (s at or above SND.UNA) neither ACKed nor SACKed (inline: per ACK,
 * per remembered retransmission). */
static inline uint32_t ts_sack_unsacked_in(const ts_conn *c, uint32_t s, uint32_t e)
{
    if (seq_lt(s, c->snd_una)) s = c->snd_una;
    if (!seq_lt(s, e)) return 0;
    return (e - s) - (ts_sack_below(c, e) - ts_sack_below(c, s));
}
/* If `seq` lies in a SACKed range, the end of that range, else seq. */
uint32_t ts_sack_skip(const ts_conn *c, uint32_t seq);
/* RFC 6675 NextSeg rule 1: the next lost, not yet retransmitted hole segment. */
bool ts_sack_next_lost(const ts_conn *c, uint32_t *seq, uint32_t *len);
void ts_rxt_reset(ts_conn *c); /* after an RTO, or at open */
/* A hole retransmission went out. */
void ts_rxt_sent(ts_stack *s, ts_conn *c, uint32_t seq, uint32_t len);
bool ts_rxt_next(const ts_conn *c, uint32_t *seq, uint32_t *len); /* to resend */

/* tcp_loss.c: loss recovery: the congestion state, dupACKs, NewReno, SACK recovery with
 * PRR, RACK's reordering timer, the TLP, the RTO's reset. */
static inline bool ts_in_recovery(const ts_conn *c)
{
    return c->ca_state == TS_CA_RECOVERY;
}
void ts_loss_start(ts_conn *c);  /* the connection is established: OPEN, policy chosen */
void ts_loss_policy(ts_conn *c); /* choose SACK or NewReno recovery (again after set_params) */
/* SND.UNA just advanced by `acked` (sacked0: SACKed bytes before): recovery, cc, cwnd. */
void ts_loss_new_ack(ts_stack *s, ts_conn *c, uint32_t acked, uint32_t sacked0);
/* What tcp_ack.c tells tcp_loss.c of an acceptable ACK (no segment: the wire is not ours). */
typedef struct ts_ack_info {
    const ts_sack_block *sack; /* the segment's SACK blocks */
    uint32_t nsack;
    bool dup;         /* a duplicate ACK (RFC 5681 2) */
    uint32_t una0;    /* SND.UNA before the ACK */
    uint32_t sacked0; /* SACKed bytes before the ACK */
    uint32_t ack;     /* SEG.ACK: a first SACK block below it is a D-SACK (RFC 2883 4) */
    bool has_ts;      /* the segment's timestamp echo, for Eifel (RFC 3522) */
    uint32_t tsecr;
} ts_ack_info;
/* Every acceptable ACK, after ts_loss_new_ack: dupACKs, SACK blocks, recovery entry, PRR. */
void ts_loss_ack(ts_stack *s, ts_conn *c, const ts_ack_info *a);
/* An RTO (rto true) or a zero window with data out: the one reset (see tcp_loss.c). */
void ts_loss_reset(ts_stack *s, ts_conn *c, bool rto);
void ts_loss_probe_timer(ts_stack *s, ts_conn *c); /* the TLP slot: RACK reordering or TLP */
/* An RTT sample from an ACK up to `ack` (tcp_ack.c): true when it was RFC 4015 step
 * (11)'s, which set SRTT, RTTVAR and the RTO itself (the rto policy then takes no sample). */
bool ts_loss_rtt_sample(ts_conn *c, ts_time_t rtt, uint32_t ack);

/* tcp_timer.c: what timer k does when it fires (called by stack.c's poll). */
void ts_tcp_timer(ts_stack *s, ts_conn *c, ts_timer_kind k);

/* The hash of a 4-tuple (our address is one) that the connection table, the TIME-WAIT
 * blocks' and the request blocks' take their buckets from, under their own masks. */
static inline uint32_t ts_tuple_hash(uint16_t lport, uint32_t raddr, uint16_t rport)
{
    uint32_t h = raddr * 0x9e3779b1u ^ ((uint32_t)lport << 16 | rport) * 0x85ebca6bu;
    return h ^ (h >> 15);
}

/* The TIME-WAIT block of a 4-tuple, or NULL: one bucket of the TIME-WAIT hash (inline so
 * that tcp_conn.c's lookup, below tcp_tw.c, counts TIME-WAIT 4-tuples as in use). */
static inline uint32_t ts_tw_bucket(const ts_stack *s, uint16_t lport, uint32_t raddr,
                                    uint16_t rport)
{
    return ts_tuple_hash(lport, raddr, rport) & s->tw_hmask;
}
static inline ts_tw *ts_tw_find(const ts_stack *s, uint16_t lport, uint32_t raddr, uint16_t rport)
{
    if (!s->tw_htab) return NULL;
    for (ts_tw *t = s->tw_htab[ts_tw_bucket(s, lport, raddr, rport)]; t; t = t->hnext)
        if (t->local.port == lport && t->remote.addr == raddr && t->remote.port == rport) return t;
    return NULL;
}

/* The request block of a 4-tuple, or NULL: one bucket of the request hash (inline, as
 * ts_tw_find, so that tcp_conn.c's ts_tuple_in_use sees the 4-tuple as taken). */
static inline ts_req *ts_req_find(const ts_stack *s, uint16_t lport, uint32_t raddr, uint16_t rport)
{
    if (!s->req_htab) return NULL;
    uint32_t b = ts_tuple_hash(lport, raddr, rport) & s->req_hmask;
    for (ts_req *r = s->req_htab[b]; r; r = r->hnext)
        if (r->lport == lport && r->raddr == raddr && r->rport == rport) return r;
    return NULL;
}

/* tcp_req.c: a listener's SYN-RECEIVED children at rest in small blocks (Linux's request
 * socks). The child becomes a block, and the block the child again, invisibly: same id,
 * same place in the SYN queue and the timer heap, no event, the counts unchanged. */
/* After a segment or timer left the child at rest: into a block, if the block rebuilds it
 * byte for byte (else it keeps its ts_conn); true if it did. */
bool ts_req_adopt(ts_stack *s, ts_conn *c);
/* The child back in the block's place (the block is freed); NULL when memory ran out. */
ts_conn *ts_req_materialize(ts_stack *s, ts_req *r);
/* The SYN queue's entry q as a child, rebuilt if it is a block; NULL when memory ran out,
 * and the block was then ended in place (timers cleared, CLOSED, freed): listener close. */
ts_conn *ts_req_child(ts_stack *s, ts_qlink *q);
/* When s->heap's earliest entry is a block due by now, its child back in its place for
 * the caller to run the timer: false. True when memory ran out and the embryo was ended
 * instead (the caller looks again). */
bool ts_req_timer_due(ts_stack *s, ts_time_t now);
void ts_req_rebuild(ts_stack *s, const ts_req *r, ts_conn *out); /* a copy, for snapshots */
const ts_req *ts_req_by_id(const ts_stack *s, uint32_t id);      /* a scan, as conn_by_id's */
void ts_req_destroy_all(ts_stack *s);                            /* teardown */

/* tcp_tw.c: TIME-WAIT in a small block (RFC 9293 3.10.7.4; Linux's timewait socks). */
/* An orphaned connection in TIME-WAIT, after its segment: replaced by a block and freed
 * (no event; it keeps its id and counts) when nothing else holds it; true if it was. */
bool ts_tw_adopt(ts_stack *s, ts_conn *c);
void ts_tw_input(ts_stack *s, ts_tw *tw, const ts_seg *g); /* a segment for the block */
ts_time_t ts_tw_next_deadline(const ts_stack *s);
/* The earliest 2MSL timer if due by now: fired (clock moved, TIMER_FIRE, CLOSED); true if one was.
 */
bool ts_tw_expire_next(ts_stack *s, ts_time_t now);
void ts_tw_close(ts_stack *s, ts_tw *tw); /* CLOSED now (reset all, RST): freed at ts_leave */
void ts_tw_reap(ts_stack *s);             /* ts_leave: free the CLOSED blocks (CONN_FREE) */
void ts_tw_destroy_all(ts_stack *s);      /* teardown */
void ts_tw_info(const ts_tw *tw, ts_tcp_info *out); /* the snapshot ts_stack_conn_info gives */
ts_tw *ts_tw_by_id(const ts_stack *s, uint32_t id); /* a scan, as conn_by_id's */

#endif
