/* peer.h: a scripted peer for the unit tests, in packetdrill's style: side B is a tcpsim
 * server, and the test plays the client by injecting hand-built segments from A's address
 * (side A's stack never sees B's output: every B packet is logged, then dropped). */
#ifndef TS_TEST_PEER_H
#define TS_TEST_PEER_H

#include <check.h>
#include <string.h>

#include "harness.h"

typedef struct peer {
    harness *h;
    int lsd, sd;    /* B's listener and accepted socket */
    uint32_t iss;   /* B's ISS, read from its SYN-ACK */
    uint16_t port;  /* B's port; the peer uses port 40000 */
    uint32_t tsval; /* the peer's TSval when timestamps are on */
    uint32_t tsecr; /* the TSecr it echoes (0 until a test sets it) */
    bool ts;
} peer;

/* B's accepted socket's info and B's counters. */
static inline ts_tcp_info peer_info(const peer *pe)
{
    ts_tcp_info ti;
    ck_assert_int_eq(ts_sock_info(pe->h->st[H_B], pe->sd, &ti), 0);
    return ti;
}

static inline const ts_counters *peer_cnt(const peer *pe)
{
    return ts_stack_counters(pe->h->st[H_B]);
}

static bool peer_drop_b(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h, (void)p, (void)idx;
    return from == H_B;
}

/* Inject a segment from the peer: seq/ack relative to the ISNs (peer ISN 0, so seq 1 is
 * its first byte), with NOP,NOP,TS when ts is on, then SACK blocks (relative). */
static void peer_send(peer *pe, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
                      const uint32_t *sack, int nsack, size_t dlen)
{
    uint8_t opt[40], pkt[1600], data[1400];
    size_t ol = 0;
    if (pe->ts) {
        uint8_t t[12] = {1, 1, 8, 10};
        memcpy(opt, t, 12);
        opt[4] = (uint8_t)(pe->tsval >> 24), opt[5] = (uint8_t)(pe->tsval >> 16);
        opt[6] = (uint8_t)(pe->tsval >> 8), opt[7] = (uint8_t)pe->tsval;
        opt[8] = (uint8_t)(pe->tsecr >> 24), opt[9] = (uint8_t)(pe->tsecr >> 16);
        opt[10] = (uint8_t)(pe->tsecr >> 8), opt[11] = (uint8_t)pe->tsecr;
        ol = 12;
    }
    if (nsack) {
        opt[ol++] = 1, opt[ol++] = 1, opt[ol++] = 5, opt[ol++] = (uint8_t)(2 + 8 * nsack);
        for (int i = 0; i < 2 * nsack; i++) {
            uint32_t v = pe->iss + sack[i];
            opt[ol++] = (uint8_t)(v >> 24), opt[ol++] = (uint8_t)(v >> 16);
            opt[ol++] = (uint8_t)(v >> 8), opt[ol++] = (uint8_t)v;
        }
    }
    memset(data, 'd', sizeof data);
    h_seg g = {.src = H_ADDR_A,
               .dst = H_ADDR_B,
               .sport = 40000,
               .dport = pe->port,
               .seq = seq,
               .ack = pe->iss + ack,
               .flags = flags,
               .win = win,
               .opt = opt,
               .optlen = ol,
               .data = data,
               .dlen = dlen};
    size_t len = h_build(pkt, &g);
    h_inject(pe->h, H_B, pkt, len);
}

/* Handshake as packetdrill's scripts do it: SYN <mss 1000,sackOK(,TS),nop,wscale 7>, then
 * the ACK `win` (scaled by 7) `rtt` later; B accepts. */
static void peer_open(peer *pe, harness *h, uint16_t port, bool sack, bool ts, ts_time_t rtt,
                      uint16_t win)
{
    memset(pe, 0, sizeof *pe);
    pe->h = h, pe->port = port, pe->ts = ts, pe->tsval = 100;
    h->drop = peer_drop_b;
    ts_stack *b = h->st[H_B];
    pe->lsd = ts_socket(b);
    ck_assert_int_eq(ts_bind(b, pe->lsd, 0, port), 0);
    ck_assert_int_eq(ts_listen(b, pe->lsd, 4), 0);
    uint8_t opt[20], pkt[1600];
    size_t ol = 0;
    opt[ol++] = 2, opt[ol++] = 4, opt[ol++] = 0x03, opt[ol++] = 0xe8; /* mss 1000 */
    if (sack)
        opt[ol++] = 4, opt[ol++] = 2;
    else
        opt[ol++] = 1, opt[ol++] = 1;
    if (ts) {
        uint8_t t[10] = {8, 10, 0, 0, 0, 100, 0, 0, 0, 0};
        memcpy(opt + ol, t, 10);
        ol += 10;
    } else {
        opt[ol++] = 1, opt[ol++] = 1;
    }
    opt[ol++] = 1, opt[ol++] = 3, opt[ol++] = 3, opt[ol++] = 7; /* nop, wscale 7 */
    h_seg g = {.src = H_ADDR_A,
               .dst = H_ADDR_B,
               .sport = 40000,
               .dport = port,
               .seq = 0,
               .flags = TS_TH_SYN,
               .win = 32792,
               .opt = opt,
               .optlen = ol};
    h_inject(h, H_B, pkt, h_build(pkt, &g));
    ck_assert_uint_ge(h_nlog(h), 1);
    const h_pkt *sa = &h->log[h_nlog(h) - 1];
    ck_assert_uint_eq(sa->flags, TS_TH_SYN | TS_TH_ACK);
    pe->iss = sa->seq;
    h_run_until(h, h->now + rtt);
    pe->tsval += 100;
    peer_send(pe, 1, 1, TS_TH_ACK, win, NULL, 0, 0);
    pe->sd = ts_accept(b, pe->lsd, NULL);
    ck_assert_int_ge(pe->sd, 0);
}

/* B's packets logged since index `from`. */
static size_t peer_out(const peer *pe, size_t from)
{
    return h_nlog(pe->h) - from;
}

/* Check B's log entry i: relative seq range, flags, time. */
static void peer_expect(const peer *pe, size_t i, uint32_t seq, uint32_t end, uint8_t flags,
                        ts_time_t t)
{
    const h_pkt *p = &pe->h->log[i];
    ck_assert_msg(p->from == H_B && p->seq - pe->iss == seq && p->seq - pe->iss + p->plen == end &&
                      p->flags == flags && p->t == t,
                  "log[%zu]: got %s", i, p->line);
}

#endif
