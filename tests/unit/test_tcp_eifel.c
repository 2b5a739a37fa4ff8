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

static ts_tcp_info info(const peer *pe)
{
    ts_tcp_info ti;
    ck_assert_int_eq(ts_sock_info(pe->h->st[H_B], pe->sd, &ti), 0);
    return ti;
}

static const ts_counters *cnt(const peer *pe)
{
    return ts_stack_counters(pe->h->st[H_B]);
}

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
 * RTO's retransmission of segment 1 at t0 + 300 ms (log index *rexmit). */
static ts_time_t open_to_rto(peer *pe, bool eifel, bool sack, size_t *first, size_t *rexmit)
{
    ts_params pb;
    ts_params_default(&pb);
    char err[128];
    ck_assert_int_eq(ts_params_set(&pb, "eifel", eifel ? "on" : "off", err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&pb, "frto", "off", err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&pb, "tlp", "off", err, sizeof err), 0);
    harness *h = h_new(NULL, &pb);
    peer_open(pe, h, PORT, sack, true, RTT, WIN);
    static uint8_t buf[20000];
    *first = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe->sd, buf, sizeof buf), (int)sizeof buf);
    ts_time_t t0 = h->now;
    ts_time_t rto_at = info(pe).timer[TS_TIMER_RETRANSMIT];
    ck_assert_uint_eq(rto_at, t0 + 300 * TS_MSEC);
    *rexmit = h_nlog(h) + 0;
    h_run_until(h, rto_at);
    peer_expect(pe, *rexmit, 1, 1 + M, TS_TH_ACK, rto_at);
    ck_assert_uint_eq(tsval_of(pe, *rexmit) - tsval_of(pe, *first), 300); /* ms */
    return rto_at;
}

/* The ACK of segment 1 echoes the original's TSval: spurious (RFC 3522 4-6). RFC 4015:
 * no go-back (SND.NXT = SND.MAX), cwnd = FlightSize + min(bytes_acked, IW), ssthresh =
 * pipe_prev = max(FlightSize, ssthresh) before the RTO; the next RTT sample sets
 * SRTT = max(SRTT_prev + 2G, sample), RTO = SRTT + max(G, 4 max(RTTVAR_prev, sample/2)). */
START_TEST(spurious_rto_by_tsecr)
{
    peer pe;
    size_t first, rx;
    ts_time_t rto_at = open_to_rto(&pe, true, false, &first, &rx);
    harness *h = pe.h;
    h_run_until(h, rto_at + D);
    pe.tsecr = tsval_of(&pe, first); /* the receiver took the original's TSval */
    size_t n0 = h_nlog(h);
    peer_send(&pe, 1, 1 + M, TS_TH_ACK, WIN, NULL, 0, 0);
    ts_tcp_info ti = info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_OPEN);
    ck_assert_uint_eq(cnt(&pe)->tcp_loss_undo, 1);
    ck_assert_uint_eq(ti.ssthresh, UINT32_MAX); /* pipe_prev: ssthresh was infinite */
    ck_assert_uint_eq(ti.cwnd, 9 * M + M);      /* FlightSize + bytes_acked */
    ck_assert_uint_eq(peer_out(&pe, n0), 1);    /* one new segment, no go-back */
    peer_expect(&pe, n0, 1 + 10 * M, 1 + 11 * M, TS_TH_ACK, rto_at + D);
    /* the RTO from the next sample (310 ms by the echo): SRTT 310 ms, RTTVAR 155 ms */
    peer_send(&pe, 1, 1 + 2 * M, TS_TH_ACK, WIN, NULL, 0, 0);
    ti = info(&pe);
    ck_assert_uint_eq(ti.srtt, 310 * TS_MSEC);
    ck_assert_uint_eq(ti.rto, 310 * TS_MSEC + 4 * 155 * TS_MSEC);
    ck_assert_uint_eq(cnt(&pe)->tcp_retransmits, 1);
    h_free(h);
}
END_TEST

/* The echo is the retransmission's: the original was lost, nothing is undone. */
START_TEST(real_rto_by_tsecr)
{
    peer pe;
    size_t first, rx;
    ts_time_t rto_at = open_to_rto(&pe, true, false, &first, &rx);
    harness *h = pe.h;
    h_run_until(h, rto_at + 2 * D);
    pe.tsecr = tsval_of(&pe, rx);
    size_t n0 = h_nlog(h);
    peer_send(&pe, 1, 1 + M, TS_TH_ACK, WIN, NULL, 0, 0);
    ts_tcp_info ti = info(&pe);
    ck_assert_uint_eq(cnt(&pe)->tcp_loss_undo, 0);
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
    ts_time_t rto_at = open_to_rto(&pe, false, false, &first, &rx);
    harness *h = pe.h;
    h_run_until(h, rto_at + D);
    pe.tsecr = tsval_of(&pe, first);
    size_t n0 = h_nlog(h);
    peer_send(&pe, 1, 1 + M, TS_TH_ACK, WIN, NULL, 0, 0);
    ck_assert_uint_eq(cnt(&pe)->tcp_loss_undo, 0);
    ck_assert_uint_eq(info(&pe).ssthresh, 5 * M);
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
    ts_tcp_info ti = info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_RECOVERY);
    ck_assert_uint_eq(ti.ssthresh, 6 * M); /* half of 12 out (limited transmit sent 2) */
    peer_expect(&pe, rx, 1, 1 + M, TS_TH_ACK, h->now); /* the fast retransmit */
    h_run_until(h, h->now + D);
    peer_send(&pe, 1, 1 + 4 * M, TS_TH_ACK, WIN, NULL, 0, 0); /* the late original, echoed */
    ti = info(&pe);
    ck_assert_uint_eq(cnt(&pe)->tcp_full_undo, 1);
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
    tcase_add_test(tc, real_rto_by_tsecr);
    tcase_add_test(tc, eifel_off_ignores_tsecr);
    tcase_add_test(tc, spurious_fast_retransmit_by_tsecr);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
