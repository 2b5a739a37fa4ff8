/* test_tcp_tsecho.c: what a timestamp echo says and what an RTT sample may take from it
 * (RFC 7323 4, issue 11 item 4). The receiver: a duplicate at the left edge refreshes
 * TS.Recent (RFC 7323 4.3 and Appendix D), a forged one does not, an acceptable old ACK
 * does (Linux 2026). The sender: an echo older than the newest retransmission of the data
 * it ACKs, older than that data's first transmission, or from the future is no sample.
 * Then through two stacks: after a backoff, the RTT sample is the path's RTT, not the
 * backoff (the RTO that grew to rto_max under heavy loss). Times exact to the µs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "peer.h"

#define PORT 7000
#define RTT  (10 * TS_MSEC)
#define SEG  988 /* B's full segment: the peer's MSS 1000 less the TS option */

/* The TS option of log entry i as tcpdump printed it. */
static void ts_of(const harness *h, size_t i, uint32_t *val, uint32_t *ecr)
{
    const char *p = strstr(h->log[i].line, "TS val ");
    ck_assert_msg(p != NULL, "no TS in %s", h->log[i].line);
    ck_assert_int_eq(sscanf(p, "TS val %u ecr %u", val, ecr), 2);
}

/* The last packet B sent. */
static size_t last_b(const harness *h)
{
    for (size_t i = h_nlog(h); i-- > 0;)
        if (h->log[i].from == H_B) return i;
    ck_abort_msg("B sent nothing");
    return 0;
}

/* ---- the receiver: TS.Recent ---- */

static harness *recv_open(peer *pe)
{
    harness *h = h_new(NULL, NULL);
    peer_open(pe, h, PORT, true, true, RTT, 1000);
    return h;
}

START_TEST(duplicate_at_left_edge_refreshes_ts_recent)
{
    peer pe;
    harness *h = recv_open(&pe);
    h_run_until(h, h->now + 100 * TS_MSEC);
    pe.tsval = 1000;
    peer_send(&pe, 1, 1, TS_TH_ACK | TS_TH_PSH, 1000, NULL, 0, 1000);
    size_t i = last_b(h);
    uint32_t val, ecr;
    ts_of(h, i, &val, &ecr);
    ck_assert_uint_eq(h->log[i].ack - 0, 1001); /* quick ACK, at once */
    ck_assert_uint_eq(ecr, 1000);
    /* that ACK is lost; the peer's RTO resends the segment 300 ms later: a duplicate, not
     * acceptable (RFC 9293 3.10.7.4), ACKed at once, echoing the retransmission */
    h_run_until(h, h->now + 300 * TS_MSEC);
    ts_time_t t = h->now;
    pe.tsval = 1300;
    size_t n0 = h_nlog(h);
    peer_send(&pe, 1, 1, TS_TH_ACK | TS_TH_PSH, 1000, NULL, 0, 1000);
    ck_assert_uint_eq(peer_out(&pe, n0), 1);
    peer_expect(&pe, n0, 1, 1, TS_TH_ACK, t);
    i = last_b(h);
    ck_assert_uint_eq(h->log[i].ack, 1001);
    ts_of(h, i, &val, &ecr);
    ck_assert_msg(ecr == 1300, "the duplicate's ACK echoes %u, want 1300 (the retransmission)",
                  ecr);
    /* an older duplicate, the first 500 bytes only, also starts at or left of the edge */
    pe.tsval = 1400;
    peer_send(&pe, 1, 1, TS_TH_ACK, 1000, NULL, 0, 500);
    ts_of(h, last_b(h), &val, &ecr);
    ck_assert_uint_eq(ecr, 1400);
    h_free(h);
}
END_TEST

START_TEST(forged_duplicate_keeps_ts_recent)
{
    peer pe;
    harness *h = recv_open(&pe);
    pe.tsval = 1000;
    peer_send(&pe, 1, 1, TS_TH_ACK, 1000, NULL, 0, 1000);
    uint32_t val, ecr;
    /* a blind duplicate: its ACK names data B never sent (RFC 5961 5.2) */
    pe.tsval = 900000;
    peer_send(&pe, 1, 5000, TS_TH_ACK, 1000, NULL, 0, 1000);
    ts_of(h, last_b(h), &val, &ecr);
    ck_assert_uint_eq(ecr, 1000);
    /* ... or data far left of any window B offered */
    peer_send(&pe, 1 - 20000000u, 1, TS_TH_ACK, 1000, NULL, 0, 1000);
    ts_of(h, last_b(h), &val, &ecr);
    ck_assert_uint_eq(ecr, 1000);
    /* and the real peer goes on: its next segment passes PAWS */
    pe.tsval = 1100;
    peer_send(&pe, 1001, 1, TS_TH_ACK, 1000, NULL, 0, 1000);
    ck_assert_uint_eq(h->log[last_b(h)].ack, 2001);
    h_free(h);
}
END_TEST

START_TEST(old_ack_that_fills_a_hole_refreshes_ts_recent)
{
    peer pe;
    harness *h = recv_open(&pe);
    ts_stack *b = h->st[H_B];
    /* B sends a segment; the peer ACKs it */
    uint8_t buf[SEG];
    memset(buf, 'b', sizeof buf);
    ck_assert_int_eq(ts_send(b, pe.sd, buf, sizeof buf), SEG);
    h_run_until(h, h->now + RTT);
    pe.tsval = 1000;
    peer_send(&pe, 1, 1 + SEG, TS_TH_ACK, 1000, NULL, 0, 0);
    /* the peer's data: [1001, 2001) arrives, [1, 1001) was sent earlier (ACK 1, before
     * B's data) and arrives late, reordered: it fills the hole */
    pe.tsval = 1010;
    peer_send(&pe, 1001, 1 + SEG, TS_TH_ACK, 1000, NULL, 0, 1000);
    /* the late segment carries an older TSval than the one above the hole; it passes PAWS
     * against TS.Recent, 1000, from the pure ACK at the left edge */
    pe.tsval = 1005;
    size_t n0 = h_nlog(h);
    peer_send(&pe, 1, 1, TS_TH_ACK, 1000, NULL, 0, 1000);
    ck_assert_uint_eq(h_nlog(h), n0 + 1); /* it fills the hole: ACKed at once */
    size_t i = last_b(h);
    ck_assert_uint_eq(h->log[i].ack, 2001);
    uint32_t val, ecr;
    ts_of(h, i, &val, &ecr);
    ck_assert_msg(ecr == 1005, "echo %u, want 1005 (the segment at the left edge)", ecr);
    h_free(h);
}
END_TEST

/* ---- the sender: which echoes time an ACK ---- */

typedef struct rtt_log {
    ts_time_t sample[16];
    int n;
} rtt_log;

static void rtt_cb(void *ctx, const ts_event *ev)
{
    rtt_log *r = ctx;
    if (ev->type == TS_EV_RTT_SAMPLE && r->n < 16) r->sample[r->n++] = ev->u.rtt.sample;
}

/* B (the tcpsim side) sends one full segment at t0; the peer never ACKs it, so B's RTO
 * (210 ms: the handshake's 10 ms sample plus rto_min) resends it. */
typedef struct sender {
    peer pe;
    harness *h;
    rtt_log rl;
    uint32_t tsval_orig, tsval_rtx; /* B's TSval on the original and on the resend */
    ts_time_t t0, t_rtx;
} sender;

static void send_and_resend(sender *x)
{
    memset(x, 0, sizeof *x);
    ts_params pb;
    ts_params_default(&pb);
    pb.tlp = false; /* the RTO alone resends */
    x->h = h_new(NULL, &pb);
    peer_open(&x->pe, x->h, PORT, true, true, RTT, 1000);
    ts_stack_set_event_fn(x->h->st[H_B], rtt_cb, &x->rl);
    uint8_t buf[SEG];
    memset(buf, 'b', sizeof buf);
    x->t0 = x->h->now;
    size_t n0 = h_nlog(x->h);
    ck_assert_int_eq(ts_send(x->h->st[H_B], x->pe.sd, buf, sizeof buf), SEG);
    ck_assert_uint_eq(h_nlog(x->h), n0 + 1);
    uint32_t ecr;
    ts_of(x->h, n0, &x->tsval_orig, &ecr);
    h_run_until(x->h, x->t0 + 215 * TS_MSEC);
    ck_assert_uint_eq(h_nlog(x->h), n0 + 2);
    x->t_rtx = x->h->log[n0 + 1].t;
    ck_assert_uint_eq(x->t_rtx, x->t0 + 210 * TS_MSEC); /* RTO: srtt 10 ms + rto_min */
    ts_of(x->h, n0 + 1, &x->tsval_rtx, &ecr);
    ck_assert_uint_eq(x->tsval_rtx - x->tsval_orig, 210);
}

/* The peer ACKs B's data up to `ack` (relative) at `at`, echoing tsecr. */
static void peer_ack_echo(sender *x, ts_time_t at, uint32_t ack, uint32_t tsecr)
{
    h_run_until(x->h, at);
    uint8_t opt[12] = {1, 1, 8, 10}, pkt[1600];
    x->pe.tsval += 10;
    uint32_t v[2] = {x->pe.tsval, tsecr};
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 4; j++) opt[4 + 4 * k + j] = (uint8_t)(v[k] >> (24 - 8 * j));
    h_seg g = {.src = H_ADDR_A,
               .dst = H_ADDR_B,
               .sport = 40000,
               .dport = PORT,
               .seq = 1,
               .ack = x->pe.iss + ack,
               .flags = TS_TH_ACK,
               .win = 1000,
               .opt = opt,
               .optlen = sizeof opt};
    h_inject(x->h, H_B, pkt, h_build(pkt, &g));
}

START_TEST(echo_of_the_retransmission_is_a_sample)
{
    sender x;
    send_and_resend(&x);
    peer_ack_echo(&x, x.t_rtx + RTT, 1 + SEG, x.tsval_rtx);
    ck_assert_int_eq(x.rl.n, 1);
    ck_assert_uint_eq(x.rl.sample[0], RTT);
    h_free(x.h);
}
END_TEST

START_TEST(stale_echo_after_a_retransmission_is_no_sample)
{
    /* a receiver that keeps TS.Recent from before the loss (one without RFC 7323 4.3's
     * duplicate rule, as Linux drops a duplicate wholly left of rcv_wup) echoes the
     * original: the "sample" would be the whole backoff, 220 ms here, 445 s in issue 11 */
    sender x;
    send_and_resend(&x);
    peer_ack_echo(&x, x.t_rtx + RTT, 1 + SEG, x.tsval_orig);
    ck_assert_msg(x.rl.n == 0, "took a sample of %llu us from a stale echo",
                  (unsigned long long)x.rl.sample[0]);
    h_free(x.h);
}
END_TEST

START_TEST(echo_from_the_future_is_no_sample)
{
    sender x;
    send_and_resend(&x);
    peer_ack_echo(&x, x.t_rtx + RTT, 1 + SEG, x.tsval_rtx + 11); /* 1 ms after B's clock now */
    ck_assert_int_eq(x.rl.n, 0);
    h_free(x.h);
}
END_TEST

START_TEST(echo_older_than_the_data_is_no_sample)
{
    sender x;
    send_and_resend(&x);
    peer_ack_echo(&x, x.t_rtx + RTT, 1 + SEG, x.tsval_rtx);
    ck_assert_int_eq(x.rl.n, 1);
    /* 1 s later two new segments, never retransmitted. The first is timed by the clock
     * (RFC 6298); the ACK of the second is timed by its echo, which names a TSval from
     * before that data existed (the original of the first segment, 1.2 s before): no
     * sample. Then the honest echo of the next segment is one. */
    h_run_until(x.h, x.h->now + 1 * TS_SEC);
    uint8_t buf[2 * SEG];
    memset(buf, 'c', sizeof buf);
    size_t n0 = h_nlog(x.h);
    ck_assert_int_eq(ts_send(x.h->st[H_B], x.pe.sd, buf, sizeof buf), 2 * SEG);
    ck_assert_uint_eq(h_nlog(x.h), n0 + 2);
    uint32_t tsval_new, ecr;
    ts_of(x.h, n0, &tsval_new, &ecr);
    ts_time_t t = x.h->now;
    peer_ack_echo(&x, t + RTT, 1 + 2 * SEG, tsval_new);
    ck_assert_int_eq(x.rl.n, 2);
    ck_assert_uint_eq(x.rl.sample[1], RTT);
    peer_ack_echo(&x, t + RTT + 1 * TS_MSEC, 1 + 3 * SEG, x.tsval_orig);
    ck_assert_msg(x.rl.n == 2, "took a sample of %llu us", (unsigned long long)x.rl.sample[2]);
    n0 = h_nlog(x.h);
    ck_assert_int_eq(ts_send(x.h->st[H_B], x.pe.sd, buf, SEG), SEG);
    ts_of(x.h, n0, &tsval_new, &ecr);
    t = x.h->now;
    /* a segment in flight, timed by the clock: ACK it, then the next by its echo */
    ck_assert_int_eq(ts_send(x.h->st[H_B], x.pe.sd, buf, SEG), SEG);
    uint32_t tsval_last;
    ts_of(x.h, n0 + 1, &tsval_last, &ecr);
    peer_ack_echo(&x, t + RTT, 1 + 4 * SEG, tsval_new);
    peer_ack_echo(&x, t + RTT + 1 * TS_MSEC, 1 + 5 * SEG, tsval_last);
    ck_assert_int_eq(x.rl.n, 4);
    ck_assert_uint_eq(x.rl.sample[3], RTT + 1 * TS_MSEC);
    h_free(x.h);
}
END_TEST

/* ---- two stacks: the sample after a backoff ---- */

typedef struct ackdrop {
    int left; /* B's pure ACKs still to drop */
} ackdrop;

static bool drop_b_acks(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)idx;
    ackdrop *d = h->user;
    if (from != H_B || p->plen || p->flags != TS_TH_ACK || d->left == 0) return false;
    d->left--;
    return true;
}

START_TEST(sample_after_backoff_is_the_path_rtt)
{
    /* A sends two segments; B's ACKs of both, and of A's first retransmission, are lost.
     * A resends at t0+220 ms, then t0+660 ms (backoff); each resend is a duplicate at B.
     * B's ACK of the second arrives at t0+680 ms. Its echo must name that resend: an RTT
     * sample of 20 ms, not 680 ms (the whole backoff), and the RTO back to 220 ms. */
    ts_params pa;
    ts_params_default(&pa);
    pa.tlp = false;
    static ackdrop d;
    h_conn k;
    h_conn_open(&k, &(h_conn_opts){.pa = &pa, .delay = RTT, .port = PORT});
    ts_tcp_info ai;
    ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
    ck_assert_uint_eq(ai.rto, 220 * TS_MSEC);
    rtt_log rl = {0};
    ts_stack_set_event_fn(k.h->st[H_A], rtt_cb, &rl);
    d.left = 3;
    k.h->drop = drop_b_acks;
    k.h->user = &d;
    ts_time_t t0 = k.h->now;
    k.ca.tx_total = 2 * k.mss;
    h_app_push(&k.ca);
    h_run_until(k.h, t0 + 2 * TS_SEC);
    ck_assert_uint_eq(h_sent_at(k.h, k.base, 2), t0 + 220 * TS_MSEC);
    ck_assert_uint_eq(h_sent_at(k.h, k.base, 3), t0 + 660 * TS_MSEC);
    ck_assert_uint_eq(h_sent_at(k.h, k.base, 4), TS_TIME_NEVER);
    ck_assert_int_eq(d.left, 0);
    /* the samples taken from t0 on: the one from B's ACK at t0+680 ms */
    ck_assert_int_ge(rl.n, 1);
    ck_assert_msg(rl.sample[0] == 2 * RTT, "RTT sample %llu us after the backoff, want %llu",
                  (unsigned long long)rl.sample[0], (unsigned long long)(2 * RTT));
    ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
    ck_assert_uint_eq(ai.srtt, 2 * RTT);
    ck_assert_uint_eq(ai.rto, 220 * TS_MSEC);
    h_conn_free(&k);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tcp_tsecho");
    TCase *tc = tcase_create("receiver");
    tcase_add_test(tc, duplicate_at_left_edge_refreshes_ts_recent);
    tcase_add_test(tc, forged_duplicate_keeps_ts_recent);
    tcase_add_test(tc, old_ack_that_fills_a_hole_refreshes_ts_recent);
    suite_add_tcase(s, tc);
    tc = tcase_create("sender");
    tcase_add_test(tc, echo_of_the_retransmission_is_a_sample);
    tcase_add_test(tc, stale_echo_after_a_retransmission_is_no_sample);
    tcase_add_test(tc, echo_from_the_future_is_no_sample);
    tcase_add_test(tc, echo_older_than_the_data_is_no_sample);
    suite_add_tcase(s, tc);
    tc = tcase_create("two_stacks");
    tcase_add_test(tc, sample_after_backoff_is_the_path_rtt);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
