/* test_tcp_eifel.c: Eifel detection by timestamps (RFC 3522) and the Eifel response
 * (RFC 4015) against a scripted peer with timestamps, in virtual time to the µs. Side B
 * (tcpsim, eifel=on, frto=off) sends ten 988-byte segments at t0 and hears nothing
 * until its RTO fires at t0 + 300 ms and resends segment 1. The peer's first ACK then
 * echoes either the original's TSval (the original arrived: the RTO was spurious) or the
 * retransmission's (it was real). */
#include <check.h>

#include "peer.h"

#define PORT 8091
#define WIN  1000
#define RTT  (100 * TS_MSEC)
#define D    (10 * TS_MSEC)
#define M    988 /* the peer's MSS 1000 less the timestamp option */

/* The TSval of logged packet i. */
static uint32_t tsval_of(const peer *pe, size_t i)
{
    const h_pkt *p = &pe->h->log[i];
    ts_pkt_view v;
    ts_tcp_opts o;
    ck_assert_int_eq(ts_pkt_view_parse(&v, p->data, p->len), TS_WIRE_OK);
    ck_assert_int_eq(ts_tcp_view_opts(&v.th, &o), TS_WIRE_OK);
    ck_assert(o.has_ts);
    return o.tsval;
}

/* Connected with timestamps; 20 segments queued, 10 sent at t0 (log index *first), the
 * RTO's retransmission of segment 1 at t0 + RTO (log index *rexmit). The handshake's
 * sample R = 100 ms gave SRTT 100 ms and the RTO: 300 ms by the default linux policy
 * (RTTVAR in its form 2R = 200 ms); with rfc (rto_policy=rfc6298, rto_min=1s) RTTVAR is
 * R/2 = 50 ms and the RTO max(100 + 4 * 50, 1000) = 1000 ms. */
static ts_time_t open_to_rto(peer *pe, bool eifel, bool sack, size_t *first, size_t *rexmit,
                             bool rfc)
{
    ts_params pb;
    ts_params_default(&pb);
    char err[128];
    if (rfc) {
        ck_assert_int_eq(ts_params_set(&pb, "rto_policy", "rfc6298", err, sizeof err), 0);
        ck_assert_int_eq(ts_params_set(&pb, "rto_min", "1s", err, sizeof err), 0);
    }
    ck_assert_int_eq(ts_params_set(&pb, "eifel", eifel ? "on" : "off", err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&pb, "frto", "off", err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&pb, "tlp", "off", err, sizeof err), 0);
    harness *h = h_new(NULL, &pb);
    peer_open(pe, h, PORT, sack, true, RTT, WIN);
    static uint8_t buf[20000];
    *first = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe->sd, buf, sizeof buf), (int)sizeof buf);
    ts_time_t t0 = h->now;
    ts_time_t rto_at = peer_info(pe).timer[TS_TIMER_RETRANSMIT];
    uint32_t rto_ms = rfc ? 1000 : 300;
    ck_assert_uint_eq(rto_at, t0 + rto_ms * TS_MSEC);
    *rexmit = h_nlog(h) + 0;
    h_run_until(h, rto_at);
    peer_expect(pe, *rexmit, 1, 1 + M, TS_TH_ACK, rto_at);
    ck_assert_uint_eq(tsval_of(pe, *rexmit) - tsval_of(pe, *first), rto_ms); /* ms */
    return rto_at;
}

/* The ACK of segment 1 echoes the original's TSval: spurious (RFC 3522 steps (4)-(6)).
 * RFC 4015 step (0) at the RTO: pipe_prev = max(FlightSize, ssthresh), SRTT_prev =
 * SRTT + 2G, RTTVAR_prev = RTTVAR; step (8): no go-back (SND.NXT = SND.MAX); step (9):
 * cwnd = FlightSize + min(bytes_acked, IW), ssthresh = pipe_prev; step (11): the first
 * RTT sample from data not yet sent at the timeout (an ACK above SND.MAX then) sets
 * SRTT = max(SRTT_prev, sample), RTTVAR = max(RTTVAR_prev, sample/2), RTO = SRTT +
 * max(G, 4 RTTVAR) within the bounds; samples from older data are smoothed as usual. */
static void spurious_rto(bool rfc)
{
    peer pe;
    size_t first, rx;
    ts_time_t rto_at = open_to_rto(&pe, true, false, &first, &rx, rfc);
    harness *h = pe.h;
    h_run_until(h, rto_at + D);
    pe.tsecr = tsval_of(&pe, first); /* the receiver took the original's TSval */
    size_t n0 = h_nlog(h);
    peer_send(&pe, 1, 1 + M, TS_TH_ACK, WIN, NULL, 0, 0);
    ts_tcp_info ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_OPEN);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_loss_undo, 1);
    ck_assert_uint_eq(ti.ssthresh, UINT32_MAX); /* pipe_prev: ssthresh was infinite */
    ck_assert_uint_eq(ti.cwnd, 9 * M + M);      /* FlightSize 9M + min(M, IW 10M) */
    ck_assert_uint_eq(peer_out(&pe, n0), 1);    /* one new segment, no go-back */
    peer_expect(&pe, n0, 1 + 10 * M, 1 + 11 * M, TS_TH_ACK, rto_at + D);
    /* segment 2, sent before the timeout, echoing t0: a sample of old data, smoothed by
     * the policy as any other, not step (11)'s */
    peer_send(&pe, 1, 1 + 2 * M, TS_TH_ACK, WIN, NULL, 0, 0);
    ti = peer_info(&pe);
    if (rfc) { /* RFC 6298 2.3, R' = 1010: RTTVAR = (3*50 + 910)/4, SRTT = (7*100 + 1010)/8 */
        ck_assert_uint_eq(ti.srtt, 213750);
        ck_assert_uint_eq(ti.rttvar, 265 * TS_MSEC);
        ck_assert_uint_eq(ti.rto, 213750 + 4 * 265 * TS_MSEC);
    } else { /* linux, R' = 310: SRTT = 100 + 210/8; its deviation 200 + (210 - 200/4) */
        ck_assert_uint_eq(ti.srtt, 126250);
        ck_assert_uint_eq(ti.rto, 126250 + 360 * TS_MSEC);
    }
    /* 250 ms after segment 11 left, the ACK of it echoing its TSval: step (11), with
     * SRTT_prev = 100 + 2*1 = 102 ms and RTTVAR_prev = 50 ms from step (0):
     * SRTT = max(102, 250) = 250, RTTVAR = max(50, 250/2) = 125, RTO = 250 + max(1, 500)
     * = 750 ms; rfc's rto_min raises that to 1 s (RFC 6298 2.4). The old reading of
     * RTTVAR_prev off the RTO, (1000 - 100)/4 = 225, would have made it 1150 ms. linux
     * keeps 4 RTTVAR = max(200, 500) = 500 ms as its deviation: the same 750 ms. */
    h_run_until(h, rto_at + D + 250 * TS_MSEC);
    pe.tsecr = tsval_of(&pe, n0);
    peer_send(&pe, 1, 1 + 11 * M, TS_TH_ACK, WIN, NULL, 0, 0);
    ti = peer_info(&pe);
    ck_assert_uint_eq(ti.srtt, 250 * TS_MSEC);
    ck_assert_uint_eq(ti.rttvar, (rfc ? 125 : 500) * TS_MSEC);
    ck_assert_uint_eq(ti.rto, (rfc ? 1000 : 750) * TS_MSEC);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_retransmits, 1);
    h_free(h);
}

START_TEST(spurious_rto_by_tsecr)
{
    spurious_rto(false);
}
END_TEST

START_TEST(spurious_rto_by_tsecr_rfc6298)
{
    spurious_rto(true);
}
END_TEST

/* The echo is the retransmission's: the original was lost, nothing is undone. */
START_TEST(real_rto_by_tsecr)
{
    peer pe;
    size_t first, rx;
    ts_time_t rto_at = open_to_rto(&pe, true, false, &first, &rx, false);
    harness *h = pe.h;
    h_run_until(h, rto_at + 2 * D);
    pe.tsecr = tsval_of(&pe, rx);
    size_t n0 = h_nlog(h);
    peer_send(&pe, 1, 1 + M, TS_TH_ACK, WIN, NULL, 0, 0);
    ts_tcp_info ti = peer_info(&pe);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_loss_undo, 0);
    ck_assert_uint_eq(ti.ssthresh, 5 * M);
    ck_assert_uint_eq(ti.cwnd, 2 * M);
    peer_expect(&pe, n0, 1 + M, 1 + 2 * M, TS_TH_ACK, rto_at + 2 * D); /* go-back-N */
    h_free(h);
}
END_TEST

/* eifel=off: the same spurious echo changes nothing. */
START_TEST(eifel_off_ignores_tsecr)
{
    peer pe;
    size_t first, rx;
    ts_time_t rto_at = open_to_rto(&pe, false, false, &first, &rx, false);
    harness *h = pe.h;
    h_run_until(h, rto_at + D);
    pe.tsecr = tsval_of(&pe, first);
    size_t n0 = h_nlog(h);
    peer_send(&pe, 1, 1 + M, TS_TH_ACK, WIN, NULL, 0, 0);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_loss_undo, 0);
    ck_assert_uint_eq(peer_info(&pe).ssthresh, 5 * M);
    peer_expect(&pe, n0, 1 + M, 1 + 2 * M, TS_TH_ACK, rto_at + D);
    h_free(h);
}
END_TEST

/* A fast retransmit made spurious by reordering (SACK): the ACK that covers it echoes
 * the original's TSval; the prior cwnd and ssthresh come back (TCPFullUndo). */
START_TEST(spurious_fast_retransmit_by_tsecr)
{
    peer pe;
    size_t first, rx;
    ts_params pb;
    ts_params_default(&pb);
    char err[128];
    ck_assert_int_eq(ts_params_set(&pb, "eifel", "on", err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&pb, "dsack_undo", "off", err, sizeof err), 0);
    harness *h = h_new(NULL, &pb);
    peer_open(&pe, h, PORT, true, true, RTT, WIN);
    static uint8_t buf[20000];
    first = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, buf, sizeof buf), (int)sizeof buf);
    h_run_until(h, h->now + RTT);
    pe.tsecr = tsval_of(&pe, first);
    uint32_t blk[2] = {1 + M, 1 + 2 * M};
    peer_send(&pe, 1, 1, TS_TH_ACK, WIN, blk, 1, 0);
    blk[1] = 1 + 3 * M;
    peer_send(&pe, 1, 1, TS_TH_ACK, WIN, blk, 1, 0);
    blk[1] = 1 + 4 * M;
    rx = h_nlog(h);
    peer_send(&pe, 1, 1, TS_TH_ACK, WIN, blk, 1, 0); /* 3 SACKed: segment 1 lost */
    ts_tcp_info ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_RECOVERY);
    ck_assert_uint_eq(ti.ssthresh, 6 * M); /* half of 12 out (limited transmit sent 2) */
    peer_expect(&pe, rx, 1, 1 + M, TS_TH_ACK, h->now); /* the fast retransmit */
    h_run_until(h, h->now + D);
    peer_send(&pe, 1, 1 + 4 * M, TS_TH_ACK, WIN, NULL, 0, 0); /* the late original, echoed */
    ti = peer_info(&pe);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_full_undo, 1);
    ck_assert_int_eq(ti.ca_state, TS_CA_OPEN);
    ck_assert_uint_eq(ti.ssthresh, UINT32_MAX);
    ck_assert_uint_ge(ti.cwnd, 10 * M);
    h_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tcp_eifel");
    TCase *tc = tcase_create("eifel");
    tcase_add_test(tc, spurious_rto_by_tsecr);
    tcase_add_test(tc, spurious_rto_by_tsecr_rfc6298);
    tcase_add_test(tc, real_rto_by_tsecr);
    tcase_add_test(tc, eifel_off_ignores_tsecr);
    tcase_add_test(tc, spurious_fast_retransmit_by_tsecr);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
