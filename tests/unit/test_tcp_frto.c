/* test_tcp_frto.c: F-RTO (RFC 5682) against a scripted peer, in virtual time to the µs.
 * Side B (tcpsim, frto=on) sends ten 1000-byte segments and hears nothing until its RTO
 * fires; it retransmits the first segment. Then:
 * - spurious: the originals were only late. The first ACK (of segment 1) lets two new
 *   segments out instead of going back (step 2b); the next ACK covers data never
 *   retransmitted (step 3b), so the RTO's cwnd and ssthresh are undone;
 * - real: the second ACK is a duplicate (the new segments arrived, the originals did
 *   not): cwnd at most 3 SMSS, back to SND.UNA (step 3a), the normal RTO recovery.
 * Both without SACK (section 2) and with it (section 3.1, where a dupACK in step 2 is
 * waited out and a SACK of never-retransmitted data in step 3 counts as its ACK). */
#include <check.h>

#include "peer.h"

#define PORT 8090
#define WIN  1000            /* the peer's window, scaled by 7: 128000 bytes */
#define RTT  (100 * TS_MSEC) /* the handshake's: SRTT 100 ms, RTO 300 ms (linux) */
#define D    (10 * TS_MSEC)

/* B with frto=on (and the given sack) connected to the scripted peer; 20 segments
 * queued, the first 10 sent (initial window) at t0; runs to the RTO and checks that it
 * resent segment 1 alone at rto_at. Returns rto_at. */
static ts_time_t open_to_rto(peer *pe, bool sack, bool frto)
{
    ts_params pb;
    ts_params_default(&pb);
    char err[128];
    ck_assert_int_eq(ts_params_set(&pb, "frto", frto ? "on" : "off", err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&pb, "eifel", "off", err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&pb, "tlp", "off", err, sizeof err),
                     0); /* the RTO, not a probe */
    harness *h = h_new(NULL, &pb);
    peer_open(pe, h, PORT, sack, false, RTT, WIN);
    static uint8_t buf[20000];
    ck_assert_int_eq(ts_send(h->st[H_B], pe->sd, buf, sizeof buf), (int)sizeof buf);
    ts_time_t t0 = h->now;
    ts_tcp_info ti = peer_info(pe);
    ck_assert_uint_eq(ti.snd_max - ti.snd_una, 10000);
    ck_assert_uint_eq(ti.rto, 300 * TS_MSEC);
    ts_time_t rto_at = ti.timer[TS_TIMER_RETRANSMIT];
    ck_assert_uint_eq(rto_at, t0 + 300 * TS_MSEC);
    size_t n0 = h_nlog(h);
    h_run_until(h, rto_at);
    ck_assert_uint_eq(peer_out(pe, n0), 1);
    peer_expect(pe, n0, 1, 1001, TS_TH_ACK, rto_at); /* the RTO's one retransmission */
    ti = peer_info(pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_LOSS);
    ck_assert_uint_eq(ti.cwnd, 1000);     /* RFC 5681 (5) */
    ck_assert_uint_eq(ti.ssthresh, 5000); /* (4): half of 10 segments */
    return rto_at;
}

/* The late originals' ACKs after a spurious RTO: two new segments, then the undo. */
static void spurious(bool sack)
{
    peer pe;
    ts_time_t rto_at = open_to_rto(&pe, sack, true);
    harness *h = pe.h;
    h_run_until(h, rto_at + D);
    size_t n0 = h_nlog(h);
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, NULL, 0, 0); /* original segment 1 arrived */
    /* step 2b: SND.UNA advanced below "recover": two new segments, nothing resent */
    ck_assert_uint_eq(peer_out(&pe, n0), 2);
    peer_expect(&pe, n0, 10001, 11001, TS_TH_ACK, rto_at + D);
    peer_expect(&pe, n0 + 1, 11001, 12001, TS_TH_ACK, rto_at + D);
    ts_tcp_info ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_LOSS);
    ck_assert_uint_eq(ti.snd_nxt, ti.snd_max);
    /* step 3b: the next ACK covers segment 2, sent once: the RTO was spurious */
    h_run_until(h, rto_at + 2 * D);
    n0 = h_nlog(h);
    peer_send(&pe, 1, 2001, TS_TH_ACK, WIN, NULL, 0, 0);
    ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_OPEN);
    ck_assert_uint_eq(ti.ssthresh, UINT32_MAX); /* as before the RTO */
    ck_assert_uint_eq(ti.cwnd, 10000);          /* as before the RTO */
    ck_assert_uint_eq(ti.snd_nxt, ti.snd_max);
    /* flight 10000 = cwnd: nothing goes (no burst), and no go-back-N */
    ck_assert_uint_eq(peer_out(&pe, n0), 0);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_spurious_rto_undo, 1);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_retransmits, 1);
    /* the rest of the originals: ACKed, new data flows, segment 2..10 never resent */
    for (uint32_t a = 3001; a <= 12001; a += 1000) peer_send(&pe, 1, a, TS_TH_ACK, WIN, NULL, 0, 0);
    h_run_until(h, rto_at + 3 * D);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_retransmits, 1);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_rto_timeouts, 1);
    ck_assert_uint_eq(peer_info(&pe).snd_max - pe.iss, 20001); /* all 20 segments out */
    h_free(h);
}

START_TEST(spurious_rto_undone)
{
    spurious(false);
}
END_TEST

START_TEST(spurious_rto_undone_sack)
{
    spurious(true);
}
END_TEST

/* Segment 1 and 2..10 really lost: the ACK of the retransmission lets two new
 * segments out (step 2b), their arrival shows as a duplicate ACK (step 3a): cwnd at most
 * 3 SMSS, ssthresh as the RTO set it, and retransmission from SND.UNA. */
START_TEST(real_rto_goes_back)
{
    peer pe;
    ts_time_t rto_at = open_to_rto(&pe, false, true);
    harness *h = pe.h;
    h_run_until(h, rto_at + 2 * D);
    size_t n0 = h_nlog(h);
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, NULL, 0, 0); /* the retransmission arrived */
    ck_assert_uint_eq(peer_out(&pe, n0), 2);
    peer_expect(&pe, n0, 10001, 11001, TS_TH_ACK, rto_at + 2 * D);
    peer_expect(&pe, n0 + 1, 11001, 12001, TS_TH_ACK, rto_at + 2 * D);
    ck_assert_uint_eq(peer_info(&pe).cwnd, 2000); /* slow start from 1 SMSS */
    h_run_until(h, rto_at + 4 * D);
    n0 = h_nlog(h);
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, NULL, 0, 0); /* the new data arrived: dupACK */
    ts_tcp_info ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_LOSS);
    ck_assert_uint_eq(ti.cwnd, 2000); /* <= 3 SMSS */
    ck_assert_uint_eq(ti.ssthresh, 5000);
    /* go-back-N from SND.UNA, cwnd's worth */
    ck_assert_uint_eq(peer_out(&pe, n0), 2);
    peer_expect(&pe, n0, 1001, 2001, TS_TH_ACK, rto_at + 4 * D);
    peer_expect(&pe, n0 + 1, 2001, 3001, TS_TH_ACK, rto_at + 4 * D);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_spurious_rto_undo, 0);
    /* the episode goes on as before F-RTO: a new ACK ends LOSS, cwnd is not restored */
    peer_send(&pe, 1, 2001, TS_TH_ACK, WIN, NULL, 0, 0);
    ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_OPEN);
    ck_assert_uint_eq(ti.ssthresh, 5000);
    ck_assert_uint_le(ti.cwnd, 3000);
    h_free(h);
}
END_TEST

/* SACK-enhanced F-RTO (RFC 5682 3.1): step 3's dupACK that SACKs only the new segments
 * (above "recover") says the loss was real; one that SACKs never-retransmitted data
 * below it says the RTO was spurious. */
START_TEST(sack_step3_decides_by_sacks)
{
    peer pe;
    ts_time_t rto_at = open_to_rto(&pe, true, true);
    harness *h = pe.h;
    h_run_until(h, rto_at + D);
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, NULL, 0, 0);
    ck_assert_uint_eq(peer_info(&pe).snd_max - pe.iss, 12001);
    /* segment 2 lost, 3 arrived late (never retransmitted): SACKed below recover */
    uint32_t blk[2] = {2001, 3001};
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, blk, 1, 0);
    ts_tcp_info ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_DISORDER); /* LOSS is over; segment 2's hole remains */
    ck_assert_uint_eq(ti.ssthresh, UINT32_MAX);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_spurious_rto_undo, 1);
    h_free(h);

    rto_at = open_to_rto(&pe, true, true);
    h = pe.h;
    h_run_until(h, rto_at + D);
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, NULL, 0, 0);
    size_t n0 = h_nlog(h);
    uint32_t nw[2] = {10001, 12001}; /* only the two new segments arrived */
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, nw, 1, 0);
    ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_LOSS);
    ck_assert_uint_eq(ti.ssthresh, 5000);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_spurious_rto_undo, 0);
    ck_assert_uint_ge(peer_out(&pe, n0), 1);
    peer_expect(&pe, n0, 1001, 2001, TS_TH_ACK, rto_at + D); /* back to SND.UNA */
    h_free(h);
}
END_TEST

/* Without SACK a dupACK in step 2 (before the retransmission is ACKed) ends F-RTO
 * (RFC 5682 2 step 2a); frto=off is today's RTO: the first ACK already goes back. */
START_TEST(frto_off_goes_back_at_once)
{
    peer pe;
    ts_time_t rto_at = open_to_rto(&pe, false, false);
    harness *h = pe.h;
    h_run_until(h, rto_at + D);
    size_t n0 = h_nlog(h);
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, NULL, 0, 0);
    ck_assert_uint_eq(peer_out(&pe, n0), 2);
    peer_expect(&pe, n0, 1001, 2001, TS_TH_ACK, rto_at + D); /* go-back-N */
    peer_expect(&pe, n0 + 1, 2001, 3001, TS_TH_ACK, rto_at + D);
    ck_assert_int_eq(peer_info(&pe).ca_state, TS_CA_OPEN);
    h_free(h);

    rto_at = open_to_rto(&pe, false, true);
    h = pe.h;
    peer_send(&pe, 1, 1, TS_TH_ACK, WIN, NULL, 0, 0); /* a dupACK first: step 2a */
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, NULL, 0, 0);
    peer_send(&pe, 1, 2001, TS_TH_ACK, WIN, NULL, 0, 0);
    ck_assert_int_eq(peer_info(&pe).ca_state, TS_CA_OPEN);
    ck_assert_uint_eq(peer_info(&pe).ssthresh, 5000);          /* conventional: nothing undone */
    ck_assert_uint_eq(peer_info(&pe).snd_max - pe.iss, 10001); /* no new data: going back */
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_spurious_rto_undo, 0);
    h_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tcp_frto");
    TCase *tc = tcase_create("frto");
    tcase_add_test(tc, spurious_rto_undone);
    tcase_add_test(tc, spurious_rto_undone_sack);
    tcase_add_test(tc, real_rto_goes_back);
    tcase_add_test(tc, sack_step3_decides_by_sacks);
    tcase_add_test(tc, frto_off_goes_back_at_once);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
