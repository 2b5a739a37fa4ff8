/* test_cc_abc.c: the parameter abc, how far one ACK opens cwnd in slow start. abc = 1 is
 * RFC 5681 (one SMSS per ACK), 2 RFC 3465's L = 2, and 0 Linux's tcp_slow_start: every
 * segment newly delivered, up to ssthresh, the rest to congestion avoidance; a segment
 * delivered earlier (SACKed, or reported by a dupACK without SACK) is not counted again at
 * the cumulative ACK (packetdrill's limited_transmit scripts spell this out). */
#include <check.h>
#include <stdio.h>

#include "peer.h"
#include "harness.h"

#define PORT 7400
#define MSS  1000 /* the peer's MSS option */

static char buf[20000];

static harness *open_with_abc(peer *pe, unsigned abc, bool sack)
{
    ts_params pb;
    char err[128], v[16];
    ts_params_default(&pb);
    snprintf(v, sizeof v, "%u", abc);
    ck_assert_int_eq(ts_params_set(&pb, "abc", v, err, sizeof err), 0);
    harness *h = h_new(NULL, &pb);
    peer_open(pe, h, PORT, sack, false, 100 * TS_MSEC, 320);
    return h;
}

static uint32_t cwnd_segs(const peer *pe)
{
    ts_tcp_info ti;
    ck_assert_int_eq(ts_sock_info(pe->h->st[H_B], pe->sd, &ti), 0);
    ck_assert_uint_eq(ti.snd_mss, MSS);
    return ti.cwnd / MSS;
}

/* The initial window of 10 segments, then one ACK for all of them. */
static uint32_t cwnd_after_stretch_ack(unsigned abc)
{
    peer pe;
    harness *h = open_with_abc(&pe, abc, true);
    size_t n = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, buf, 20000), 20000);
    ck_assert_uint_eq(peer_out(&pe, n), 10);
    ck_assert_uint_eq(cwnd_segs(&pe), 10);
    h_run_until(h, h->now + 100 * TS_MSEC);
    peer_send(&pe, 1, 10001, TS_TH_ACK, 320, NULL, 0, 0);
    uint32_t w = cwnd_segs(&pe);
    h_free(h);
    return w;
}

START_TEST(stretch_ack_in_slow_start)
{
    ck_assert_uint_eq(cwnd_after_stretch_ack(1), 11); /* RFC 5681: one SMSS */
    ck_assert_uint_eq(cwnd_after_stretch_ack(2), 12); /* RFC 3465, L = 2 */
    ck_assert_uint_eq(cwnd_after_stretch_ack(0), 20); /* Linux: all ten */
}
END_TEST

/* Limited transmit, then the ACK of 3 segments of which 2 were reported before (by SACK or
 * by two dupACKs): Linux opens one segment, not three, and sends 11 - 9 = 2. */
static void reordering_then_ack(bool sack)
{
    peer pe;
    harness *h = open_with_abc(&pe, 0, sack);
    size_t n = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, buf, 15000), 15000);
    ck_assert_uint_eq(peer_out(&pe, n), 10);
    h_run_until(h, h->now + 110 * TS_MSEC);
    uint32_t s1[2] = {1001, 2001}, s2[2] = {1001, 3001};
    peer_send(&pe, 1, 1, TS_TH_ACK, 320, s1, sack, 0);
    peer_send(&pe, 1, 1, TS_TH_ACK, 320, s2, sack, 0);
    ck_assert_uint_eq(peer_out(&pe, n), 12); /* two limited-transmit segments */
    n = h_nlog(h);
    peer_send(&pe, 1, 3001, TS_TH_ACK, 320, NULL, 0, 0);
    ck_assert_uint_eq(cwnd_segs(&pe), 11);
    ck_assert_uint_eq(peer_out(&pe, n), 2);
    peer_expect(&pe, n, 12001, 13001, TS_TH_ACK, h->now);
    peer_expect(&pe, n + 1, 13001, 14001, TS_TH_PSH | TS_TH_ACK, h->now);
    h_free(h);
}

START_TEST(delivered_once_with_sack)
{
    reordering_then_ack(true);
}
END_TEST

START_TEST(delivered_once_with_dupacks)
{
    reordering_then_ack(false);
}
END_TEST

/* After an RTO (ssthresh = 5 segments, cwnd = 1), one ACK for all ten: Linux's slow start
 * stops at ssthresh and gives the other 6000 bytes to congestion avoidance, which adds one
 * SMSS for each cwnd's worth (5000): 6 segments. RFC 5681: 1 + 1. */
static uint32_t cwnd_after_rto_and_ack(unsigned abc)
{
    peer pe;
    harness *h = open_with_abc(&pe, abc, false);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, buf, 10000), 10000);
    h_run_until(h, h->now + 1500 * TS_MSEC); /* one RTO (300 ms), then backed off */
    ts_tcp_info ti;
    ck_assert_int_eq(ts_sock_info(h->st[H_B], pe.sd, &ti), 0);
    ck_assert_uint_eq(ti.ssthresh, 5 * MSS);
    ck_assert_uint_eq(ti.cwnd, 1 * MSS);
    peer_send(&pe, 1, 10001, TS_TH_ACK, 320, NULL, 0, 0);
    uint32_t w = cwnd_segs(&pe);
    h_free(h);
    return w;
}

START_TEST(slow_start_stops_at_ssthresh)
{
    ck_assert_uint_eq(cwnd_after_rto_and_ack(1), 2);
    ck_assert_uint_eq(cwnd_after_rto_and_ack(0), 6);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cc_abc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, stretch_ack_in_slow_start);
    tcase_add_test(tc, delivered_once_with_sack);
    tcase_add_test(tc, delivered_once_with_dupacks);
    tcase_add_test(tc, slow_start_stops_at_ssthresh);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
