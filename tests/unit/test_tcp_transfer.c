/* test_tcp_transfer.c: bulk data in virtual time: a 10 MB transfer with segments dropped at
 * chosen points, delivered complete and in order; sequence numbers wrapping mid-transfer;
 * fast retransmit at the third duplicate ACK and NewReno partial ACKs (RFC 5681, 6582), with
 * no RTO; RTO with backoff when a whole window is lost (RFC 6298 5.5); zero window and
 * persist probes (RFC 9293 3.8.6.1); Nagle (RFC 896) on and off; the initial window of 10
 * segments (RFC 6928). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define PORT 9000
#define MSS  1448 /* 1460 less the timestamp option */

START_TEST(ten_megabytes_with_drops)
{
    static const int segs[] = {20, 100, 101, 102, 1000, 3000, 3002, 5000, 6000, 6906};
    h_conn x;
    h_bulk_open(&x, &(h_conn_opts){.delay = 1 * TS_MSEC, .port = PORT, .mss = MSS},
                &(h_drop_plan){.segs = segs, .nsegs = 10}, 10 * 1000 * 1000);
    h_run_until(x.h, 200 * TS_SEC);
    ck_assert_uint_eq(x.pl.drops, 10);
    ck_assert_uint_eq(x.sb.rx_len, 10 * 1000 * 1000);
    ck_assert_uint_eq(h_app_check(&x.sb), 10 * 1000 * 1000);
    ck_assert(x.sb.eof);
    const ts_counters *c = ts_stack_counters(x.h->st[H_A]);
    ck_assert_uint_ge(c->tcp_retransmits, 10);
    ck_assert_uint_ge(c->tcp_fast_retransmits, 1);
    /* every dropped segment was sent again */
    for (int i = 0; i < 10; i++)
        ck_assert_uint_ne(h_sent_at(x.h, x.pl.base + (uint32_t)segs[i] * MSS, 2), TS_TIME_NEVER);
    h_conn_free(&x);
}
END_TEST

static void wrap_transfer(const char *isn_a, const char *isn_b)
{
    ts_params pa, pb;
    ts_params_default(&pa);
    ts_params_default(&pb);
    char err[128];
    ck_assert_int_eq(ts_params_set(&pa, "isn", isn_a, err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&pb, "isn", isn_b, err, sizeof err), 0);
    static const int segs[] = {0, 1, 5}; /* losses right at the wrap */
    h_conn x;
    h_bulk_open(
        &x, &(h_conn_opts){.pa = &pa, .pb = &pb, .delay = 2 * TS_MSEC, .port = PORT, .mss = MSS},
        &(h_drop_plan){.segs = segs, .nsegs = 3}, 1000 * 1000);
    ck_assert_uint_eq(x.h->log[0].seq, (uint32_t)strtoul(isn_a, NULL, 10));
    /* B answers with 200 KB of its own so B's sequence numbers wrap too */
    x.sb.tx_total = 200 * 1000;
    h_app_push(&x.sb);
    h_run_until(x.h, 100 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 1000 * 1000);
    ck_assert_uint_eq(h_app_check(&x.sb), 1000 * 1000);
    ck_assert_uint_eq(x.ca.rx_len, 200 * 1000);
    ck_assert_uint_eq(h_app_check(&x.ca), 200 * 1000);
    /* the sequence space really crossed 2^32 on A's side */
    bool low = false, high = false;
    for (size_t i = 0; i < h_nlog(x.h); i++)
        if (x.h->log[i].from == H_A && (x.h->log[i].plen || x.h->log[i].flags & TS_TH_SYN)) {
            low |= x.h->log[i].seq < 1000 * 1000;
            high |= x.h->log[i].seq > 4294000000u;
        }
    ck_assert(low && high);
    h_conn_free(&x);
}

START_TEST(sequence_wrap_during_transfer)
{
    wrap_transfer("4294967000", "4294960000");
}
END_TEST

START_TEST(sequence_wrap_isn_max)
{
    wrap_transfer("4294967295", "4294967294");
}
END_TEST

START_TEST(fast_retransmit_third_dupack_no_rto)
{
    static const int segs[] = {2};
    const ts_time_t d = 10 * TS_MSEC;
    h_conn x;
    h_bulk_open(&x, &(h_conn_opts){.delay = d, .port = PORT, .mss = MSS},
                &(h_drop_plan){.segs = segs, .nsegs = 1}, 20 * MSS);
    h_run_until(x.h, x.t0 + 5 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 20 * MSS);
    ck_assert_uint_eq(h_app_check(&x.sb), 20 * MSS);
    /* segments 3..9 arrive out of order at t0 + d; each draws an immediate duplicate ACK
     * with a SACK block; the third is back at t0 + 2d and triggers the retransmission */
    uint32_t lost = x.pl.base + 2 * MSS;
    ck_assert_uint_eq(h_sent_at(x.h, lost, 1), x.t0);
    ck_assert_uint_eq(h_sent_at(x.h, lost, 2), x.t0 + 2 * d);
    int dups = 0, plain = 0;
    for (size_t i = 0; i < h_nlog(x.h); i++) {
        const h_pkt *p = &x.h->log[i];
        if (p->from == H_B && p->ack == lost && p->plen == 0 && p->t == x.t0 + d) {
            if (strstr(p->line, "sack 1 {"))
                dups++;
            else
                plain++; /* the (quick) ACK of segment 1 */
        }
    }
    ck_assert_int_eq(plain, 1);
    ck_assert_int_eq(dups, 7);
    const ts_counters *c = ts_stack_counters(x.h->st[H_A]);
    ck_assert_uint_eq(c->tcp_fast_retransmits, 1);
    ck_assert_uint_eq(c->tcp_rto_timeouts, 0);
    ck_assert_uint_eq(c->tcp_retransmits, 1);
    h_conn_free(&x);
}
END_TEST

START_TEST(newreno_partial_ack_resends_next_hole)
{
    static const int segs[] = {2, 6};
    const ts_time_t d = 10 * TS_MSEC;
    h_conn x;
    ts_params pa; /* NewReno itself: with SACK, RFC 6675 recovery would repair both holes */
    char err[128];
    ts_params_default(&pa);
    ck_assert_int_eq(ts_params_set(&pa, "recovery", "newreno", err, sizeof err), 0);
    h_bulk_open(&x, &(h_conn_opts){.pa = &pa, .delay = d, .port = PORT, .mss = MSS},
                &(h_drop_plan){.segs = segs, .nsegs = 2}, 20 * MSS);
    h_run_until(x.h, x.t0 + 5 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 20 * MSS);
    ck_assert_uint_eq(h_app_check(&x.sb), 20 * MSS);
    uint32_t s2 = x.pl.base + 2 * MSS, s6 = x.pl.base + 6 * MSS;
    ck_assert_uint_eq(h_sent_at(x.h, s2, 2), x.t0 + 2 * d);
    /* the retransmitted segment 2 fills the first hole at t0 + 3d; B's ACK for 6 is a
     * partial ACK (below recover) back at t0 + 4d: segment 6 goes again at once
     * (RFC 6582 3.2 step 3), without waiting for more dupACKs or the RTO */
    ck_assert_uint_eq(h_sent_at(x.h, s6, 2), x.t0 + 4 * d);
    const ts_counters *c = ts_stack_counters(x.h->st[H_A]);
    ck_assert_uint_eq(c->tcp_fast_retransmits, 1);
    ck_assert_uint_eq(c->tcp_rto_timeouts, 0);
    ck_assert_uint_eq(c->tcp_retransmits, 2);
    h_conn_free(&x);
}
END_TEST

START_TEST(whole_window_lost_rto_backoff)
{
    static const int segs[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const ts_time_t d = 10 * TS_MSEC;
    h_conn x;
    /* the first two retransmissions of segment 0 are lost as well */
    h_bulk_open(&x, &(h_conn_opts){.delay = d, .port = PORT, .mss = MSS},
                &(h_drop_plan){.segs = segs, .nsegs = 10, .rexmit_drops = 2}, 10 * MSS);
    h_run_until(x.h, x.t0 + 30 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 10 * MSS);
    ck_assert_uint_eq(h_app_check(&x.sb), 10 * MSS);
    /* the handshake's RTT sample (2d = 20 ms) gives Linux's RTO 20 + max(40, 200) = 220 ms.
     * First the tail loss probe (RFC 8985 7, Linux): PTO = 2 SRTT + 2 ms = 42 ms resends
     * the last segment sent, here the FIN that followed the data (the sender shut its
     * write side), and re-arms the RTO from there: 42 + 220 = 262 ms; then it doubles:
     * 440 ms, 880 ms */
    uint32_t s0 = x.pl.base, fin = x.pl.base + 10 * MSS;
    ck_assert_uint_eq(h_sent_at(x.h, s0, 1), x.t0);
    size_t nfin = 0;
    for (size_t i = 0; i < h_nlog(x.h); i++) {
        const h_pkt *p = &x.h->log[i];
        if (p->from == H_A && (p->flags & TS_TH_FIN) && p->seq == fin &&
            p->t <= x.t0 + 42 * TS_MSEC)
            ck_assert_uint_eq(p->t, nfin++ ? x.t0 + 42 * TS_MSEC : x.t0);
    }
    ck_assert_uint_eq(nfin, 2);
    ck_assert_uint_eq(h_sent_at(x.h, s0, 2), x.t0 + 262 * TS_MSEC);
    ck_assert_uint_eq(h_sent_at(x.h, s0, 3), x.t0 + 702 * TS_MSEC);
    ck_assert_uint_eq(h_sent_at(x.h, s0, 4), x.t0 + 1582 * TS_MSEC);
    ck_assert_uint_eq(h_sent_at(x.h, s0, 5), TS_TIME_NEVER);
    /* after the probe, only segment 0 went out at each RTO expiry (cwnd one segment) */
    for (size_t i = 0; i < h_nlog(x.h); i++) {
        const h_pkt *p = &x.h->log[i];
        if (p->from == H_A && p->plen && p->t > x.t0 && p->t <= x.t0 + 1582 * TS_MSEC)
            ck_assert_uint_eq(p->seq, s0);
    }
    const ts_counters *c = ts_stack_counters(x.h->st[H_A]);
    ck_assert_uint_eq(c->tcp_rto_timeouts, 3);
    ck_assert_uint_eq(c->tcp_fast_retransmits, 0);
    h_conn_free(&x);
}
END_TEST

START_TEST(zero_window_persist_then_read)
{
    ts_params pb;
    ts_params_default(&pb);
    char err[128];
    ck_assert_int_eq(ts_params_set(&pb, "rcvbuf", "16384", err, sizeof err), 0);
    const ts_time_t d = 10 * TS_MSEC;
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.pb = &pb, .delay = d, .port = PORT});
    x.sb.auto_read = false; /* B does not read */
    h_bulk_start(&x, NULL, 100 * 1000);
    h_run_until(x.h, 60 * TS_SEC);
    ts_tcp_info ai, bi;
    ts_sock_info(x.h->st[H_A], x.ca.sd, &ai);
    ts_sock_info(x.h->st[H_B], x.sb.sd, &bi);
    ck_assert_uint_eq(ai.snd_wnd, 0);
    /* the buffer is full; as Linux (__tcp_select_window), the scaled window is rounded up
     * to the scale unit, so a little more than rcvbuf may be taken in */
    ck_assert_uint_ge(bi.rcv_queued, 16384);
    ck_assert_uint_lt(bi.rcv_queued, 16384 + 1448);
    ck_assert_uint_eq(bi.rcv_queued, ai.snd_una - x.h->log[0].seq - 1);
    ck_assert_uint_eq(ai.snd_una, ai.snd_nxt); /* everything sent was ACKed */
    /* probes: zero-length segments at SND.UNA - 1, backed off (doubling) */
    ts_time_t probe_t[16];
    int np = 0;
    for (size_t i = 0; i < h_nlog(x.h) && np < 16; i++) {
        const h_pkt *p = &x.h->log[i];
        if (p->from == H_A && p->plen == 0 && p->seq == ai.snd_una - 1) probe_t[np++] = p->t;
    }
    ck_assert_int_ge(np, 4);
    /* before the window closed it was 896 bytes: too small to send into at once (sender
     * SWS avoidance), so the persist timer's override sent it (RFC 1122 4.2.3.4) rather than
     * leaving the connection stalled with nothing in flight */
    bool small = false;
    for (size_t i = 0; i < h_nlog(x.h); i++) {
        const h_pkt *p = &x.h->log[i];
        if (p->from == H_A && p->plen && p->plen < MSS && p->t < probe_t[0]) small = true;
    }
    ck_assert(small);
    for (int i = 2; i < np; i++)
        ck_assert_uint_eq(probe_t[i] - probe_t[i - 1], 2 * (probe_t[i - 1] - probe_t[i - 2]));
    /* each probe is answered with the (still zero) window */
    size_t n_zero_acks = 0;
    for (size_t i = 0; i < h_nlog(x.h); i++)
        if (x.h->log[i].from == H_B && x.h->log[i].win == 0) n_zero_acks++;
    ck_assert_uint_ge(n_zero_acks, (size_t)np);
    /* now B reads everything as it comes: the window reopens and the transfer completes */
    size_t got = 0;
    uint8_t *buf = malloc(100 * 1000);
    for (int round = 0; round < 1000 && got < 100 * 1000; round++) {
        for (;;) {
            ssize_t n = ts_recv(x.h->st[H_B], x.sb.sd, buf + got, 100 * 1000 - got);
            if (n <= 0) break;
            got += (size_t)n;
        }
        h_run_until(x.h, x.h->now + 100 * TS_MSEC);
    }
    ck_assert_uint_eq(got, 100 * 1000);
    for (size_t i = 0; i < got; i++)
        if (buf[i] != h_pattern(i)) ck_abort_msg("byte %zu differs", i);
    free(buf);
    h_conn_free(&x);
}
END_TEST

/* A writes 10 bytes every ms, 5 times; return the number of data segments A sent by t. */
static size_t small_writes(harness *h, int sd, ts_time_t t0)
{
    for (int i = 0; i < 5; i++) {
        h_run_until(h, t0 + (ts_time_t)i * TS_MSEC);
        ck_assert_int_eq(ts_send(h->st[H_A], sd, "0123456789", 10), 10);
    }
    size_t n = 0;
    for (size_t i = 0; i < h_nlog(h); i++)
        if (h->log[i].from == H_A && h->log[i].plen) n++;
    return n;
}

static void nagle_case(bool on)
{
    ts_params pa;
    ts_params_default(&pa);
    pa.nagle = on;
    const ts_time_t d = 10 * TS_MSEC;
    h_conn c;
    h_conn_open(&c, &(h_conn_opts){.pa = &pa, .delay = d, .port = PORT});
    harness *h = c.h;
    ts_time_t t0 = h->now;
    size_t n = small_writes(h, c.ca.sd, t0);
    if (on) {
        /* one small segment in flight; the rest waits for its ACK (quick-ACKed by B at
         * t0 + d, back at t0 + 2d), then goes as one 40-byte segment */
        ck_assert_uint_eq(n, 1);
        h_run_until(h, t0 + 2 * d);
        size_t last = 0;
        for (size_t i = 0; i < h_nlog(h); i++)
            if (h->log[i].from == H_A && h->log[i].plen) last = i;
        ck_assert_uint_eq(h->log[last].plen, 40);
        ck_assert_uint_eq(h->log[last].t, t0 + 2 * d);
    } else {
        ck_assert_uint_eq(n, 5); /* every write goes at once */
        for (size_t i = 0, k = 0; i < h_nlog(h); i++)
            if (h->log[i].from == H_A && h->log[i].plen) {
                ck_assert_uint_eq(h->log[i].plen, 10);
                ck_assert_uint_eq(h->log[i].t, t0 + k++ * TS_MSEC);
            }
    }
    h_run_until(h, t0 + 1 * TS_SEC);
    ck_assert_uint_eq(c.sb.rx_len, 50);
    h_conn_free(&c);
}

START_TEST(nagle_on_coalesces_small_writes)
{
    nagle_case(true);
}
END_TEST

START_TEST(nagle_off_sends_each_write)
{
    nagle_case(false);
}
END_TEST

START_TEST(initial_window_ten_segments)
{
    const ts_time_t d = 50 * TS_MSEC;
    h_conn x;
    h_bulk_open(&x, &(h_conn_opts){.delay = d, .port = PORT, .mss = MSS}, NULL, 100 * 1000);
    h_run_until(x.h, x.t0 + 2 * d - 1);
    size_t n = 0;
    for (size_t i = 0; i < h_nlog(x.h); i++) {
        const h_pkt *p = &x.h->log[i];
        if (p->from != H_A || !p->plen) continue;
        n++;
        ck_assert_uint_eq(p->t, x.t0);
        ck_assert_uint_eq(p->plen, MSS);
    }
    ck_assert_uint_eq(n, 10); /* RFC 6928: min(10 MSS, max(2 MSS, 14600)) = 10 segments */
    ts_tcp_info ai;
    ts_sock_info(x.h->st[H_A], x.ca.sd, &ai);
    ck_assert_uint_eq(ai.cwnd, 10 * MSS);
    h_run_until(x.h, x.t0 + 10 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 100 * 1000);
    h_conn_free(&x);
}
END_TEST

static Suite *transfer_suite(void)
{
    Suite *s = suite_create("transfer");
    TCase *tc = tcase_create("transfer");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, ten_megabytes_with_drops);
    tcase_add_test(tc, sequence_wrap_during_transfer);
    tcase_add_test(tc, sequence_wrap_isn_max);
    tcase_add_test(tc, fast_retransmit_third_dupack_no_rto);
    tcase_add_test(tc, newreno_partial_ack_resends_next_hole);
    tcase_add_test(tc, whole_window_lost_rto_backoff);
    tcase_add_test(tc, zero_window_persist_then_read);
    tcase_add_test(tc, nagle_on_coalesces_small_writes);
    tcase_add_test(tc, nagle_off_sends_each_write);
    tcase_add_test(tc, initial_window_ten_segments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(transfer_suite());
}
