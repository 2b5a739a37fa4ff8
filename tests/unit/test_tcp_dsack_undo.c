/* test_tcp_dsack_undo.c: the sender's side of D-SACK (RFC 2883 4) against a scripted
 * peer with SACK, in virtual time to the µs: a D-SACK block (the first block, below the
 * cumulative ACK or inside the second block) never reaches the scoreboard and is not
 * counted as SACKed data; once every retransmission of an episode is reported duplicate
 * the episode's cwnd and ssthresh come back (RFC 3708, dsack_undo); and a D-SACK widens
 * RACK's reordering window by min_RTT/4 per round trip that brings one (RFC 8985 6.2). */
#include <check.h>

#include "peer.h"

#define PORT 8092
#define WIN  1000
#define RTT  (100 * TS_MSEC)
#define D    (10 * TS_MSEC)

/* B (SACK, no timestamps, so Eifel cannot decide) connected to the peer, n bytes sent;
 * the first 10 segments out. */
static harness *open_sending(peer *pe, const char *dsack_undo, size_t n)
{
    ts_params pb;
    ts_params_default(&pb);
    char err[128];
    ck_assert_int_eq(ts_params_set(&pb, "dsack_undo", dsack_undo, err, sizeof err), 0);
    harness *h = h_new(NULL, &pb);
    peer_open(pe, h, PORT, true, false, RTT, WIN);
    static uint8_t buf[20000];
    ck_assert_int_eq(ts_send(h->st[H_B], pe->sd, buf, n), (int)n);
    return h;
}

/* Segment 2 (1001:2001) was only reordered: three SACKs above it start recovery and its
 * fast retransmission; then it arrives (the cumulative ACK jumps) and so does the
 * retransmission, which the receiver reports with a D-SACK below the ACK. */
static void reordered(peer *pe, harness *h)
{
    h_run_until(h, h->now + RTT);
    peer_send(pe, 1, 1001, TS_TH_ACK, WIN, NULL, 0, 0);
    uint32_t blk[2] = {2001, 3001};
    for (int i = 0; i < 3; i++, blk[1] += 1000) peer_send(pe, 1, 1001, TS_TH_ACK, WIN, blk, 1, 0);
    ts_tcp_info ti = peer_info(pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_RECOVERY);
    ck_assert_uint_eq(peer_cnt(pe)->tcp_retransmits, 1);
    h_run_until(h, h->now + D);
    peer_send(pe, 1, 5001, TS_TH_ACK, WIN, NULL, 0, 0); /* the original, late */
    ck_assert_int_eq(peer_info(pe).ca_state, TS_CA_RECOVERY);
    h_run_until(h, h->now + D);
    uint32_t dsack[2] = {1001, 2001}; /* RFC 2883 4.1.1's case: below the ACK */
    peer_send(pe, 1, 5001, TS_TH_ACK, WIN, dsack, 1, 0);
    ck_assert_uint_eq(peer_cnt(pe)->tcp_dsack_in, 1);
}

START_TEST(spurious_fast_retransmit_undone)
{
    peer pe;
    harness *h = open_sending(&pe, "on", 20000);
    h_run_until(h, h->now + RTT);
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, NULL, 0, 0);
    uint32_t cwnd0 = peer_info(&pe).cwnd; /* 11000: slow start */
    uint32_t blk[2] = {2001, 3001};
    for (int i = 0; i < 2; i++, blk[1] += 1000) peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, blk, 1, 0);
    size_t n0 = h_nlog(h);
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, blk, 1, 0);
    peer_expect(&pe, n0, 1001, 2001, TS_TH_ACK, h->now); /* the fast retransmit */
    ts_tcp_info ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_RECOVERY);
    ck_assert_uint_lt(ti.ssthresh, cwnd0);
    h_run_until(h, h->now + D);
    peer_send(&pe, 1, 5001, TS_TH_ACK, WIN, NULL, 0, 0);
    h_run_until(h, h->now + D);
    uint32_t dsack[2] = {1001, 2001};
    n0 = h_nlog(h);
    uint32_t max0 = peer_info(&pe).snd_max;
    peer_send(&pe, 1, 5001, TS_TH_ACK, WIN, dsack, 1, 0);
    ck_assert_uint_ge(peer_out(&pe, n0), 1); /* the cwnd given back: only new data */
    for (size_t i = n0; i < h_nlog(h); i++) ck_assert_uint_lt(h->log[i].seq - max0, 1u << 30);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_retransmits, 1);
    ti = peer_info(&pe);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_dsack_undo, 1);
    ck_assert_int_eq(ti.ca_state, TS_CA_OPEN);
    ck_assert_uint_eq(ti.ssthresh, UINT32_MAX); /* before the episode */
    ck_assert_uint_ge(ti.cwnd, cwnd0);
    ck_assert_uint_eq(ti.sacked, 0); /* the D-SACK did not reach the scoreboard */
    h_free(h);
}
END_TEST

/* dsack_undo=off: the same D-SACK is counted and nothing is undone. */
START_TEST(dsack_undo_off)
{
    peer pe;
    harness *h = open_sending(&pe, "off", 20000);
    reordered(&pe, h);
    ts_tcp_info ti = peer_info(&pe);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_dsack_undo, 0);
    ck_assert_uint_lt(ti.ssthresh, UINT32_MAX);
    h_free(h);
}
END_TEST

/* A real loss: the retransmission is not a duplicate, so a D-SACK for other data (a
 * duplicate the network made of segment 5, not of the episode's retransmission) leaves
 * the episode's response alone. */
START_TEST(dsack_of_other_data_no_undo)
{
    peer pe;
    harness *h = open_sending(&pe, "on", 20000);
    h_run_until(h, h->now + RTT);
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, NULL, 0, 0);
    uint32_t blk[2] = {2001, 3001};
    for (int i = 0; i < 3; i++, blk[1] += 1000) peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, blk, 1, 0);
    uint32_t two[4] = {3001, 4001, 2001, 5001}; /* D-SACK inside the second block */
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, two, 2, 0);
    ts_tcp_info ti = peer_info(&pe);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_dsack_in, 1);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_dsack_undo, 0);
    ck_assert_int_eq(ti.ca_state, TS_CA_RECOVERY);
    ck_assert_uint_eq(ti.sacked, 3000); /* 2001:5001 once, the D-SACK not again */
    h_free(h);
}
END_TEST

/* RFC 2883's D-SACK forms never corrupt the scoreboard: below the ACK (ignored), inside
 * the second block (a no-op), a lone duplicate above the ACK with no second block (not a
 * D-SACK by RFC 2883 4: SACKed like any block), a broken block (ignored). */
START_TEST(dsack_blocks_keep_scoreboard)
{
    peer pe;
    harness *h = open_sending(&pe, "on", 10000);
    h_run_until(h, h->now + RTT);
    uint32_t below[4] = {1, 1001, 3001, 4001}; /* D-SACK of segment 1, SACK of 4 */
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, below, 2, 0);
    ck_assert_uint_eq(peer_info(&pe).sacked, 1000);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_dsack_in, 1);
    uint32_t inside[4] = {3001, 4001, 3001, 5001}; /* 4 again inside 4..5 */
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, inside, 2, 0);
    ck_assert_uint_eq(peer_info(&pe).sacked, 2000);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_dsack_in, 2);
    uint32_t broken[4] = {6001, 6001, 7001, 8001}; /* empty first block: no D-SACK */
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, broken, 2, 0);
    ck_assert_uint_eq(peer_info(&pe).sacked, 3000);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_dsack_in, 2);
    uint32_t past[2] = {0xfffffff0u, 1001}; /* straddles the ISN: below the ACK */
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, past, 1, 0);
    ck_assert_uint_eq(peer_info(&pe).sacked, 3000);
    h_free(h);
}
END_TEST

/* RFC 8985 6.2: the reordering window is min_RTT/4 (here 25 ms, plus Linux's 2 ms
 * slack); after a D-SACK it is 2 * min_RTT/4, once per round trip however many come. */
START_TEST(dsack_widens_rack_reo_wnd)
{
    for (int with = 0; with < 2; with++) {
        peer pe;
        harness *h = open_sending(&pe, "on", 10000);
        h_run_until(h, h->now + RTT);
        if (with) {
            uint32_t d[2] = {1, 1001};
            peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, d, 1, 0);
            peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, d, 1, 0); /* the same round: once */
            ck_assert_uint_eq(peer_cnt(&pe)->tcp_dsack_in, 2);
        }
        uint32_t blk[2] = {2001, 3001}; /* a hole below SACKed data, too few for DupThresh */
        peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, blk, 1, 0);
        ts_tcp_info ti = peer_info(&pe);
        ck_assert_int_eq(ti.ca_state, TS_CA_DISORDER);
        ts_time_t wnd = (with ? 50 : 25) * TS_MSEC + 2 * TS_MSEC;
        ck_assert_uint_eq(ti.timer[TS_TIMER_TLP], h->now + wnd);
        h_free(h);
    }
}
END_TEST

/* A D-SACK in a later round (after SND.UNA passed SND.MAX as it was at the first)
 * widens the window again: 3 * min_RTT/4. */
START_TEST(dsack_rounds_widen_again)
{
    peer pe;
    harness *h = open_sending(&pe, "on", 20000);
    h_run_until(h, h->now + RTT);
    uint32_t d[2] = {1, 1001};
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, d, 1, 0); /* round 1 (ends at 10001) */
    peer_send(&pe, 1, 10001, TS_TH_ACK, WIN, NULL, 0, 0);
    ck_assert_uint_eq(peer_info(&pe).snd_max - pe.iss, 20001);
    peer_send(&pe, 1, 10001, TS_TH_ACK, WIN, d, 1, 0); /* round 2 */
    uint32_t blk[2] = {11001, 12001};
    peer_send(&pe, 1, 10001, TS_TH_ACK, WIN, blk, 1, 0);
    ts_tcp_info ti = peer_info(&pe);
    ck_assert_uint_eq(peer_cnt(&pe)->tcp_dsack_in, 2);
    ck_assert_uint_eq(ti.timer[TS_TIMER_TLP], h->now + 75 * TS_MSEC + 2 * TS_MSEC);
    h_free(h);
}
END_TEST

/* RFC 8985 6.2 step 4: the widened window stays for 16 recoveries after the last D-SACK
 * round, then is back to min_RTT/4. Each round: one SACK above the hole at SND.UNA puts
 * B in DISORDER with the reordering timer at now + the window (read here), the timer
 * marks the hole lost and starts recovery, and an ACK of everything ends it. */
START_TEST(reo_wnd_back_after_16_recoveries)
{
    peer pe;
    harness *h = open_sending(&pe, "on", 20000);
    static uint8_t more[200000];
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, more, sizeof more), (int)sizeof more);
    h_run_until(h, h->now + RTT);
    uint32_t d[2] = {1, 1001};
    peer_send(&pe, 1, 1001, TS_TH_ACK, WIN, d, 1, 0); /* mult 2, for 16 recoveries */
    uint32_t una = 1001;
    for (int done = 0; done <= 16; done++) {
        h_run_until(h, h->now + RTT);
        uint32_t blk[2] = {una + 1000, una + 2000};
        peer_send(&pe, 1, una, TS_TH_ACK, WIN, blk, 1, 0);
        ts_tcp_info ti = peer_info(&pe);
        ck_assert_int_eq(ti.ca_state, TS_CA_DISORDER);
        ts_time_t wnd = (done < 16 ? 50 : 25) * TS_MSEC + 2 * TS_MSEC;
        ck_assert_uint_eq(ti.timer[TS_TIMER_TLP], h->now + wnd);
        h_run_until(h, h->now + RTT);
        ck_assert_int_eq(peer_info(&pe).ca_state, TS_CA_RECOVERY);
        una = peer_info(&pe).snd_max - pe.iss;
        peer_send(&pe, 1, una, TS_TH_ACK, WIN, NULL, 0, 0);
        ck_assert_int_eq(peer_info(&pe).ca_state, TS_CA_OPEN);
    }
    h_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tcp_dsack_undo");
    TCase *tc = tcase_create("dsack");
    tcase_add_test(tc, spurious_fast_retransmit_undone);
    tcase_add_test(tc, dsack_undo_off);
    tcase_add_test(tc, dsack_of_other_data_no_undo);
    tcase_add_test(tc, dsack_blocks_keep_scoreboard);
    tcase_add_test(tc, dsack_widens_rack_reo_wnd);
    tcase_add_test(tc, dsack_rounds_widen_again);
    tcase_add_test(tc, reo_wnd_back_after_16_recoveries);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
