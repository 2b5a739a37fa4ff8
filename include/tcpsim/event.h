/* tcpsim/event.h: what the stack tells an observer: structured events (segments in and
 * out, state changes, timers, retransmissions, RTT samples, cwnd changes, drops) and the
 * per-stack counters. pcap files, text traces and diagrams are all built on these. */
#ifndef TCPSIM_EVENT_H
#define TCPSIM_EVENT_H

#include <stdbool.h>

#include "tcpsim/types.h"

/* RFC 9293 states, in the RFC's order. */
typedef enum {
    TS_CLOSED,
    TS_LISTEN,
    TS_SYN_SENT,
    TS_SYN_RECEIVED,
    TS_ESTABLISHED,
    TS_FIN_WAIT_1,
    TS_FIN_WAIT_2,
    TS_CLOSE_WAIT,
    TS_CLOSING,
    TS_LAST_ACK,
    TS_TIME_WAIT,
    TS_NUM_STATES
} ts_state;

const char *ts_state_name(ts_state st); /* "ESTABLISHED", ... */

/* The sender's congestion state, as Linux's tcp_ca_state names it (and gVisor's snd.go):
 * OPEN nothing wrong; DISORDER dupACKs or SACKs seen, no recovery yet; RECOVERY fast
 * recovery (NewReno or SACK); LOSS after an RTO, until the data sent before it is ACKed. */
typedef enum { TS_CA_OPEN, TS_CA_DISORDER, TS_CA_RECOVERY, TS_CA_LOSS } ts_ca_state;
const char *ts_ca_state_name(ts_ca_state st); /* "open", "disorder", "recovery", "loss" */

/* Why a packet was dropped: every malformed or unwanted packet is counted by reason. */
typedef enum {
    TS_DROP_IP_SHORT,          /* shorter than an IPv4 header */
    TS_DROP_IP_VERSION,        /* version != 4 */
    TS_DROP_IP_HDRLEN,         /* IHL < 5 or past the buffer */
    TS_DROP_IP_TOTLEN,         /* total length past the buffer or below IHL */
    TS_DROP_IP_CHECKSUM,       /* header checksum wrong */
    TS_DROP_IP_DEST,           /* not addressed to this stack */
    TS_DROP_IP_FRAGMENT,       /* fragments are not reassembled */
    TS_DROP_IP_PROTO,          /* protocol not handled */
    TS_DROP_ICMP_SHORT,        /* ICMP message too short */
    TS_DROP_ICMP_CHECKSUM,     /* ICMP checksum wrong */
    TS_DROP_ICMP_TYPE,         /* ICMP type not handled */
    TS_DROP_TCP_SHORT,         /* shorter than a TCP header */
    TS_DROP_TCP_HDRLEN,        /* data offset < 5 or past the segment */
    TS_DROP_TCP_CHECKSUM,      /* TCP checksum wrong */
    TS_DROP_TCP_OPTIONS,       /* malformed options */
    TS_DROP_TCP_FLAGS,         /* impossible flag combination (SYN+RST, no ACK where needed) */
    TS_DROP_TCP_NO_SOCKET,     /* no connection and no listener (answered with RST) */
    TS_DROP_TCP_BAD_ACK,       /* unacceptable ACK */
    TS_DROP_TCP_OUT_OF_WINDOW, /* sequence number outside the receive window */
    TS_DROP_TCP_RST_INVALID,   /* RST outside the window */
    TS_DROP_TCP_PAWS,          /* timestamp older than TS.Recent (RFC 7323) */
    TS_DROP_TCP_BACKLOG,       /* listen queue full */
    TS_DROP_TCP_NO_MEMORY,     /* connection or buffer limit reached */
    TS_DROP_TCP_OOO_FULL,      /* too many out-of-order ranges held */
    TS_DROP_TCP_STATE,         /* segment not acceptable in this state */
    TS_DROP_NUM_REASONS
} ts_drop_reason;

const char *ts_drop_reason_name(ts_drop_reason r); /* "tcp-checksum", ... */

typedef enum {
    TS_TIMER_RETRANSMIT, /* RTO, SYN and SYN-ACK retransmission */
    TS_TIMER_DELACK,
    TS_TIMER_PERSIST,
    TS_TIMER_KEEPALIVE,
    TS_TIMER_TIME_WAIT,
    TS_TIMER_FIN_WAIT2,
    TS_TIMER_TLP, /* tail loss probe (RFC 8985 7) */
    TS_NUM_TIMERS
} ts_timer_kind;

const char *ts_timer_name(ts_timer_kind k); /* "rto", "delack", ... */

typedef enum {
    TS_REXMIT_SYN,     /* SYN or SYN-ACK retransmitted by its timer */
    TS_REXMIT_RTO,     /* data or FIN retransmitted by the RTO */
    TS_REXMIT_FAST,    /* fast retransmit (3 dupACKs) */
    TS_REXMIT_PARTIAL, /* NewReno partial ACK (RFC 6582) */
    TS_REXMIT_PROBE,   /* zero-window probe, keepalive, or tail loss probe (RFC 8985) */
} ts_rexmit_kind;

typedef enum {
    TS_EV_SEG_IN,    /* a TCP segment arrived and passed validation */
    TS_EV_SEG_OUT,   /* a packet left through the output callback */
    TS_EV_STATE,     /* a connection changed state */
    TS_EV_TIMER_SET, /* a timer was armed (or re-armed) */
    TS_EV_TIMER_FIRE,
    TS_EV_TIMER_CANCEL,
    TS_EV_RETRANSMIT,
    TS_EV_RTT_SAMPLE,
    TS_EV_CWND,
    TS_EV_DROP, /* a packet was dropped; pkt may be NULL for non-packet drops */
    TS_EV_CONN_NEW,
    TS_EV_CONN_FREE,
    TS_EV_UNDO, /* a retransmission found spurious: the congestion response undone */
} ts_event_type;

/* What found a retransmission spurious (TS_EV_UNDO, stack/tcp_loss.c). */
typedef enum {
    TS_UNDO_FRTO,  /* F-RTO (RFC 5682): data never retransmitted ACKed after the RTO */
    TS_UNDO_EIFEL, /* Eifel (RFC 3522): the ACK echoes a TSval older than the retransmission */
    TS_UNDO_DSACK, /* D-SACK (RFC 3708): every retransmission reported duplicate */
} ts_undo_kind;
const char *ts_undo_kind_name(ts_undo_kind k); /* "frto", "eifel", "dsack" */

/* A connection's identity in events: the stack's local and remote endpoint. */
typedef struct ts_conn_id {
    uint32_t id; /* unique per stack, starting at 1; 0 = no connection */
    ts_endpoint local, remote;
} ts_conn_id;

typedef struct ts_event {
    ts_event_type type;
    ts_time_t now;
    ts_conn_id conn;
    union {
        struct {
            const uint8_t *pkt; /* the whole IPv4 packet */
            size_t len;
            /* SEG_OUT: why the core sent it when neither the packet, nor the RETRANSMIT or
             * TIMER_FIRE event just before it, says so ("challenge ACK (RFC 5961)"); a
             * static string, or NULL. */
            const char *why;
        } seg;
        struct {
            ts_state from, to;
        } state;
        struct {
            ts_timer_kind kind;
            ts_time_t when; /* absolute deadline (set) */
        } timer;
        struct {
            ts_rexmit_kind kind;
            uint32_t seq, len; /* absolute sequence number and length */
            uint32_t count;    /* retransmission number for this segment (1 = first) */
            ts_time_t rto;     /* RTO now in force */
        } rexmit;
        struct {
            ts_time_t sample, srtt, rttvar, rto;
        } rtt;
        struct {
            uint32_t cwnd, ssthresh; /* bytes */
        } cwnd;
        struct {
            ts_undo_kind kind;
            bool rto;                /* the episode began with an RTO (else fast retransmit) */
            uint32_t cwnd, ssthresh; /* bytes, after the undo */
        } undo;
        struct {
            ts_drop_reason reason;
            const uint8_t *pkt; /* may be NULL */
            size_t len;
        } drop;
    } u;
} ts_event;

typedef void (*ts_event_fn)(void *ctx, const ts_event *ev);

typedef struct ts_counters {
    uint64_t ip_in, ip_out;
    uint64_t icmp_echo_in, icmp_echo_out;
    uint64_t tcp_in, tcp_out;             /* segments */
    uint64_t tcp_bytes_in, tcp_bytes_out; /* payload bytes, retransmissions included */
    uint64_t tcp_retransmits;             /* all retransmitted segments */
    uint64_t tcp_rto_timeouts;            /* RTO expiries */
    uint64_t tcp_fast_retransmits;
    uint64_t tcp_syn_retransmits;
    uint64_t tcp_rst_out, tcp_rst_in;
    uint64_t tcp_challenge_acks;
    /* replies to invalid segments (out-of-window and PAWS dup ACKs, the ACK for an ACK of
     * unsent data, challenge ACKs) skipped by invalid_ratelimit */
    uint64_t tcp_oow_ratelimited;
    uint64_t tcp_delayed_acks; /* ACKs sent by the delayed-ACK timer */
    /* Spurious retransmissions undone (tcp_loss.c), as Linux's TCPSpuriousRTOs,
     * TCPLossUndo, TCPFullUndo, TCPDSACKUndo, TCPDSACKRecv */
    uint64_t tcp_spurious_rto_undo; /* F-RTO: an RTO found spurious */
    uint64_t tcp_loss_undo;         /* Eifel: an RTO found spurious by timestamps */
    uint64_t tcp_full_undo;         /* Eifel: a fast retransmit found spurious by timestamps */
    uint64_t tcp_dsack_undo;        /* D-SACK: every retransmission of an episode duplicate */
    uint64_t tcp_dsack_in;          /* ACKs that carried a D-SACK block (RFC 2883) */
    uint64_t tcp_conn_opened, tcp_conn_accepted, tcp_conn_failed;
    /* SYN cookies (RFC 4987): SYN-ACKs sent with a cookie, ACKs whose cookie was valid
     * (a connection made), ACKs checked against the cookies and refused */
    uint64_t tcp_syncookies_sent, tcp_syncookies_ok, tcp_syncookies_failed;
    /* TIME-WAIT held in small blocks (stack/tcp_tw.c) in place of whole connections: how
     * many there are now, and the bytes they take (each is also in conns_by_state) */
    uint64_t tw_blocks, tw_bytes;
    /* SYN-RECEIVED children at rest in small blocks (stack/tcp_req.c, Linux's request
     * socks): how many now, and their bytes (each also in conns_by_state, mem_conn_bytes) */
    uint64_t req_blocks, req_bytes;
    uint64_t checksum_errors; /* IP + ICMP + TCP */
    /* Memory (stack/mem.c; docs/architecture.md, "Memory per connection"): what is held
     * now, kept exact at every malloc and free, so a test may assert it. */
    uint64_t mem_ring_bytes; /* capacity of every send and receive ring */
    uint64_t mem_ring_peak;  /* the most mem_ring_bytes has been */
    uint64_t mem_rings;      /* rings that hold a buffer */
    uint64_t mem_conn_bytes; /* connection blocks and their side blocks (HyStart, EOR marks) */
    /* Times mem_max refused a ring's growth or cut the window offered (a send accepted
     * less, arriving data not held, a smaller window): as Linux's TCPMemoryPressures */
    uint64_t mem_cap_hits;
    uint64_t mem_alloc_failed; /* allocations malloc refused: the stack went on without */
    uint64_t drops[TS_DROP_NUM_REASONS];
    uint64_t conns_by_state[TS_NUM_STATES]; /* live connections now, by state */
} ts_counters;

#endif
