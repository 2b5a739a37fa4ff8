/* view_build.h: growing a ts_view while a source reads (view_pcap.c, view_rec.c): append
 * segments, states, timers and control blocks, keep strings in one buffer, and finish the
 * view (strings moved into its arena, pointers fixed, segments and states in time order).
 * Also the table from a connection's 4-tuple to its newest view. Internal to tools/view. */
#ifndef TS_VIEW_BUILD_H
#define TS_VIEW_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tcpsim/wire.h"
#include "view.h"

typedef struct ts_vb {
    ts_view *v;
    size_t cap_segs, cap_states, cap_timers, cap_tcbs;
    char *str; /* strings; segments hold offset + 1 until vb_finish (0 = NULL) */
    size_t nstr, capstr;
} ts_vb;

int ts_vb_init(ts_vb *b, ts_view_origin origin); /* 0, or -1 out of memory */
void ts_vb_discard(ts_vb *b);                    /* free what was built (not finished) */
ts_view_seg *ts_vb_seg(ts_vb *b);                /* a zeroed segment appended, or NULL */
ts_view_state *ts_vb_state(ts_vb *b);
ts_view_timer *ts_vb_timer(ts_vb *b);
ts_view_tcb *ts_vb_tcb(ts_vb *b, int32_t *index);
/* Keep a copy of s (len bytes, or up to its NUL when len is SIZE_MAX): the value to store
 * in a string field until vb_finish; NULL when s is NULL or memory ran out. */
const char *ts_vb_str(ts_vb *b, const char *s, size_t len);
/* Fix the strings, sort segments by t_send and states by time (both stable). The view is
 * then b->v, owned by the caller. 0, or -1 out of memory. */
int ts_vb_finish(ts_vb *b);

/* A connection's identity on the wire, either direction. */
typedef struct ts_vflow_key {
    uint32_t a_addr, b_addr;
    uint16_t a_port, b_port; /* a is the lower (addr, port) */
} ts_vflow_key;

ts_vflow_key ts_vflow_key_of(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport);

/* Open addressing from a key to a value (an index + 1 into the source's connections; the
 * newest incarnation of that 4-tuple). */
typedef struct ts_vflows {
    ts_vflow_key *keys;
    uint32_t *vals; /* 0 = empty */
    size_t n, nslots;
} ts_vflows;

uint32_t ts_vflows_get(const ts_vflows *t, const ts_vflow_key *k);    /* 0 when absent */
int ts_vflows_put(ts_vflows *t, const ts_vflow_key *k, uint32_t val); /* 0, or -1 */
void ts_vflows_free(ts_vflows *t);

/* ---- the wire: TCP over IPv4 taken apart, and what each end did on it ---- */

typedef struct ts_vtcp {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint8_t flags; /* FIN..ACK: the bits the views draw */
    const uint8_t *ip;
    ts_tcp_view th;   /* the TCP header, from the wire layer */
    size_t iplen;     /* bytes of the IP packet captured (for the tcpdump line) */
    uint32_t payload; /* payload bytes on the wire (a capture may hold fewer) */
} ts_vtcp;

/* False for anything that is not a whole TCP header over an unfragmented IPv4 packet.
 * caplen: bytes at ip; wirelen: the packet's length on the wire. */
bool ts_vtcp_parse(const uint8_t *ip, size_t caplen, size_t wirelen, ts_vtcp *g);
/* Flags, numbers, window as sent and options into s. */
void ts_vtcp_fill(const ts_vtcp *g, ts_view_seg *s);
void ts_vtcp_options(const uint8_t *o, size_t n, ts_view_seg *s);

/* What one end did on the wire, as far as this connection's reading needs. */
typedef struct ts_vwire_end {
    bool syn;
    uint32_t isn;
    int8_t wscale;
    bool synack;        /* it has sent a SYN-ACK (its SYNs are counted from that one) */
    uint32_t syn_count; /* SYNs sent: the 2nd and later are retransmissions */
    bool max_known;
    uint32_t snd_max; /* highest seq + seqlen sent */
    bool fin;
    uint32_t fin_end; /* seq just past its FIN */
    uint32_t rx_seq, rx_count;
    bool sample; /* one round-trip sample at a time (Karn: none across a retransmission) */
    uint32_t sample_end;
    ts_time_t sample_t;
    ts_time_t min_gap; /* shortest time at the tap from a segment to the ACK covering it */
} ts_vwire_end;

typedef struct ts_vwire {
    ts_vwire_end e[2];
    bool ended; /* RST or both FINs: a new SYN starts a new incarnation */
} ts_vwire;

void ts_vwire_init(ts_vwire *w);
/* Whether a segment with these flags continues a 4-tuple's newest incarnation (whose wire
 * is w) rather than starting another: only a bare SYN after the old one ended starts one. */
bool ts_vwire_continues(const ts_vwire *w, uint8_t flags);
/* Retransmissions seen (cause TS_VCAUSE_SYN or _REXMIT, rexmit_no), ISNs into v->end,
 * window scaling, round trips at this point of the path, the end of the connection: for
 * segment s from end d seen at t. */
void ts_vwire_account(ts_vwire *w, ts_view *v, int d, ts_view_seg *s, ts_time_t t);

#endif
