/* test_tcp_tlp.c: the tail loss probe (RFC 8985 7) with Linux's numbers, against a scripted
 * peer whose handshake RTT is 100 ms (so SRTT 100 ms and RTO 100 + 200 = 300 ms):
 * PTO = 2*SRTT + 2 ms with several segments in flight, + 200 ms with one, capped at the
 * RTO; the probe is new data if the peer's window allows, else the last segment sent;
 * the RTO is re-armed from the probe. Only with SACK, as in Linux. */
#include <check.h>
#include <string.h>

#include "peer.h"
#include "harness.h"

#define PORT 7200
#define MS   TS_MSEC

static char big[20000];

static harness *open_with(peer *pe, bool sack, const char *tlp)
{
    ts_params pb;
    char err[128];
    ts_params_default(&pb);
    ck_assert_int_eq(ts_params_set(&pb, "tlp", tlp, err, sizeof err), 0);
    harness *h = h_new(NULL, &pb);
    peer_open(pe, h, PORT, sack, false, 100 * MS, 320);
    return h;
}

/* packetdrill fast_retransmit/fr-4pkt-fack-last-byte.pkt: the probe at 202 ms resends the
 * last segment (a SACK of its last byte does not re-arm the PTO), the RTO 300 ms later. */
START_TEST(probe_resends_last_segment)
{
    peer pe;
    harness *h = open_with(&pe, true, "on");
    ts_time_t t0 = h->now;
    size_t n = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, big, 4000), 4000);
    ck_assert_uint_eq(peer_out(&pe, n), 4);
    h_run_until(h, t0 + 100 * MS);
    uint32_t sk[2] = {4000, 4001};
    peer_send(&pe, 1, 1, 0x10, 320, sk, 1, 0);
    h_run_until(h, t0 + 600 * MS);
    ck_assert_uint_eq(peer_out(&pe, n), 6);
    peer_expect(&pe, n + 4, 3001, 4001, 0x18, t0 + 202 * MS); /* TLP */
    peer_expect(&pe, n + 5, 1, 1001, 0x10, t0 + 502 * MS);    /* RTO, from the probe */
    ck_assert_uint_eq(ts_stack_counters(h->st[H_B])->tcp_rto_timeouts, 1);
    h_free(h);
}
END_TEST

/* One segment in flight: 2*100 + 200 = 400 ms, capped at the 300 ms RTO. */
START_TEST(one_segment_pto_capped_at_rto)
{
    peer pe;
    harness *h = open_with(&pe, true, "on");
    ts_time_t t0 = h->now;
    size_t n = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, big, 1000), 1000);
    h_run_until(h, t0 + 700 * MS);
    ck_assert_uint_eq(peer_out(&pe, n), 3);
    peer_expect(&pe, n, 1, 1001, 0x18, t0);
    peer_expect(&pe, n + 1, 1, 1001, 0x18, t0 + 300 * MS); /* TLP */
    peer_expect(&pe, n + 2, 1, 1001, 0x18, t0 + 600 * MS); /* RTO 300 ms after it */
    h_free(h);
}
END_TEST

/* New data waiting beyond cwnd but inside the peer's window: the probe sends it. */
START_TEST(probe_sends_new_data)
{
    peer pe;
    harness *h = open_with(&pe, true, "on");
    ts_time_t t0 = h->now;
    size_t n = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, big, 15000), 15000);
    ck_assert_uint_eq(peer_out(&pe, n), 10);
    h_run_until(h, t0 + 510 * MS);
    ck_assert_uint_eq(peer_out(&pe, n), 12);
    peer_expect(&pe, n + 10, 10001, 11001, 0x10, t0 + 202 * MS);
    peer_expect(&pe, n + 11, 1, 1001, 0x10, t0 + 502 * MS);
    h_free(h);
}
END_TEST

/* tlp=off, or no SACK (Linux probes only with SACK): the RTO alone, at 300 ms. */
static void no_probe(bool sack, const char *tlp)
{
    peer pe;
    harness *h = open_with(&pe, sack, tlp);
    ts_time_t t0 = h->now;
    size_t n = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, big, 4000), 4000);
    h_run_until(h, t0 + 400 * MS);
    ck_assert_uint_eq(peer_out(&pe, n), 5);
    peer_expect(&pe, n + 4, 1, 1001, 0x10, t0 + 300 * MS);
    h_free(h);
}

START_TEST(tlp_off)
{
    no_probe(true, "off");
}
END_TEST

START_TEST(no_sack_no_probe)
{
    no_probe(false, "on");
}
END_TEST

/* An ACK that advances re-arms the probe from its arrival: ACK of 1001 at 100 ms, three
 * segments left, so the probe goes at 100 + 202 ms. */
START_TEST(ack_rearms_probe)
{
    peer pe;
    harness *h = open_with(&pe, true, "on");
    ts_time_t t0 = h->now;
    size_t n = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, big, 4000), 4000);
    h_run_until(h, t0 + 100 * MS);
    peer_send(&pe, 1, 1001, 0x10, 320, NULL, 0, 0);
    ck_assert_uint_eq(peer_out(&pe, n), 4); /* cwnd 11 but nothing left to send */
    h_run_until(h, t0 + 305 * MS);
    ck_assert_uint_eq(peer_out(&pe, n), 5);
    peer_expect(&pe, n + 4, 3001, 4001, 0x18, t0 + 302 * MS); /* SRTT still 100 ms */
    h_free(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tcp_tlp");
    TCase *tc = tcase_create("tlp");
    tcase_add_test(tc, probe_resends_last_segment);
    tcase_add_test(tc, one_segment_pto_capped_at_rto);
    tcase_add_test(tc, probe_sends_new_data);
    tcase_add_test(tc, tlp_off);
    tcase_add_test(tc, no_sack_no_probe);
    tcase_add_test(tc, ack_rearms_probe);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
