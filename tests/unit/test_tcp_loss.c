/* test_tcp_loss.c: the congestion state that stack/tcp_loss.c owns, step by step against a
 * scripted peer: NewReno's OPEN -> DISORDER -> RECOVERY -> OPEN with a partial ACK on the
 * way, an RTO's LOSS (the cc's signal at the first timeout only) until new data is ACKed,
 * the same reset for a zero window that ends recovery without entering LOSS, SACK
 * recovery's exit at cwnd = ssthresh; and the cc hooks (ECN signal, post-recovery, the
 * private area) on every registered algorithm. */
#include <check.h>

#include "internal.h"
#include "peer.h"
#include "policy_names.h"

#define PORT 8080
#define WIN  1000 /* the peer's window, scaled by 7: 128000 bytes */

/* B sends n segments of 1000 bytes at once (initial window 10). */
static void send_segments(peer *pe, int n)
{
    static uint8_t buf[20000];
    ck_assert_int_eq(ts_send(pe->h->st[H_B], pe->sd, buf, (size_t)n * 1000), n * 1000);
}

static harness *open_peer(peer *pe, bool sack, const char *cc)
{
    ts_params pb;
    ts_params_default(&pb);
    char err[128];
    ck_assert_int_eq(ts_params_set(&pb, "cc", cc, err, sizeof err), 0);
    harness *h = h_new(NULL, &pb);
    peer_open(pe, h, PORT, sack, false, 100 * TS_MSEC, WIN);
    return h;
}

START_TEST(newreno_open_disorder_recovery_open)
{
    peer pe;
    harness *h = open_peer(&pe, false, "newreno");
    send_segments(&pe, 10);
    ck_assert_int_eq(peer_info(&pe).ca_state, TS_CA_OPEN);
    h_run_until(h, h->now + 100 * TS_MSEC);
    peer_send(&pe, 1, 1001, 0x10, WIN, NULL, 0, 0); /* new data ACKed: still OPEN */
    ts_tcp_info ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_OPEN);
    uint32_t cwnd0 = ti.cwnd;
    peer_send(&pe, 1, 1001, 0x10, WIN, NULL, 0, 0); /* dupACK 1 */
    ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_DISORDER);
    ck_assert_uint_eq(ti.dupacks, 1);
    ck_assert_uint_eq(ti.cwnd, cwnd0);              /* limited transmit leaves cwnd as it was */
    peer_send(&pe, 1, 1001, 0x10, WIN, NULL, 0, 0); /* dupACK 2 */
    ck_assert_int_eq(peer_info(&pe).ca_state, TS_CA_DISORDER);
    size_t n0 = h_nlog(h);
    peer_send(&pe, 1, 1001, 0x10, WIN, NULL, 0, 0); /* dupACK 3: fast retransmit */
    ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_RECOVERY);
    ck_assert(ti.in_recovery);
    ck_assert_uint_eq(peer_out(&pe, n0), 1);
    peer_expect(&pe, n0, 1001, 2001, 0x10, h->now);
    /* RFC 5681 3.2: ssthresh = FlightSize / 2 (9 segments out), cwnd = ssthresh + 3 SMSS */
    ck_assert_uint_eq(ti.snd_max - ti.snd_una, 9000);
    ck_assert_uint_eq(ti.ssthresh, 4500);
    ck_assert_uint_eq(ti.cwnd, 7500);
    /* a partial ACK (RFC 6582): still RECOVERY, the next hole goes out at once */
    n0 = h_nlog(h);
    peer_send(&pe, 1, 3001, 0x10, WIN, NULL, 0, 0);
    ck_assert_int_eq(peer_info(&pe).ca_state, TS_CA_RECOVERY);
    ck_assert_uint_ge(peer_out(&pe, n0), 1);
    peer_expect(&pe, n0, 3001, 4001, 0x10, h->now);
    /* the full ACK ends recovery */
    peer_send(&pe, 1, 10001, 0x10, WIN, NULL, 0, 0);
    ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_OPEN);
    ck_assert(!ti.in_recovery);
    ck_assert_uint_eq(ti.dupacks, 0);
    ck_assert_uint_le(ti.cwnd, ti.ssthresh);
    h_free(h);
}
END_TEST

START_TEST(rto_is_loss_until_new_data_is_acked)
{
    peer pe;
    harness *h = open_peer(&pe, false, "newreno");
    send_segments(&pe, 10);
    ts_tcp_info ti = peer_info(&pe);
    ts_time_t rto_at = ti.timer[TS_TIMER_RETRANSMIT];
    ck_assert_uint_ne(rto_at, TS_TIME_NEVER);
    h_run_until(h, rto_at);
    ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_LOSS);
    ck_assert_uint_eq(ti.backoff, 1);
    ck_assert_uint_eq(ti.cwnd, 1000);     /* RFC 5681 (5): one SMSS */
    ck_assert_uint_eq(ti.ssthresh, 5000); /* (4): half of the 10 segments in flight */
    /* a second timeout: cwnd stays one SMSS, ssthresh is not halved again (RFC 5681 3.1:
     * once per loss episode) */
    h_run_until(h, ti.timer[TS_TIMER_RETRANSMIT]);
    ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_LOSS);
    ck_assert_uint_eq(ti.backoff, 2);
    ck_assert_uint_eq(ti.cwnd, 1000);
    ck_assert_uint_eq(ti.ssthresh, 5000);
    /* dupACKs in LOSS count, but start no fast recovery (the RTO owns the episode) */
    peer_send(&pe, 1, 1, 0x10, WIN, NULL, 0, 0);
    peer_send(&pe, 1, 1, 0x10, WIN, NULL, 0, 0);
    peer_send(&pe, 1, 1, 0x10, WIN, NULL, 0, 0);
    ck_assert_int_eq(peer_info(&pe).ca_state, TS_CA_LOSS);
    /* new data ACKed: the episode is over */
    peer_send(&pe, 1, 1001, 0x10, WIN, NULL, 0, 0);
    ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_OPEN);
    ck_assert_uint_eq(ti.backoff, 0);
    h_free(h);
}
END_TEST

START_TEST(rto_in_recovery_ends_it_in_loss)
{
    peer pe;
    harness *h = open_peer(&pe, false, "cubic");
    send_segments(&pe, 10);
    for (int i = 0; i < 3; i++) peer_send(&pe, 1, 1, 0x10, WIN, NULL, 0, 0);
    ts_tcp_info ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_RECOVERY);
    uint32_t ssthresh = ti.ssthresh;
    h_run_until(h, ti.timer[TS_TIMER_RETRANSMIT]);
    ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_LOSS);
    ck_assert(!ti.in_recovery);
    ck_assert_uint_eq(ti.dupacks, 0);
    ck_assert_uint_eq(ti.snd_nxt, ti.snd_una + 1000); /* went back: SND.UNA resent */
    ck_assert_uint_eq(ti.cwnd, 1000);
    /* CUBIC's signal: ssthresh = cwnd * 0.7 of the inflated recovery window */
    ck_assert_uint_lt(ti.ssthresh, ssthresh + 3000);
    h_free(h);
}
END_TEST

/* The RTO finds a zero window: the same reset (recovery over, SND.NXT back to SND.UNA,
 * dupACKs forgotten), but no congestion signal and no LOSS: the persist timer probes. */
START_TEST(zero_window_reset_ends_recovery_without_loss)
{
    peer pe;
    harness *h = open_peer(&pe, false, "newreno");
    send_segments(&pe, 10);
    for (int i = 0; i < 3; i++) peer_send(&pe, 1, 1, 0x10, WIN, NULL, 0, 0);
    ts_tcp_info ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_RECOVERY);
    uint32_t cwnd = ti.cwnd, ssthresh = ti.ssthresh;
    peer_send(&pe, 1, 1, 0x10, 0, NULL, 0, 0); /* the window shrinks to zero */
    ck_assert_uint_eq(peer_info(&pe).snd_wnd, 0);
    h_run_until(h, peer_info(&pe).timer[TS_TIMER_RETRANSMIT]);
    ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_OPEN);
    ck_assert(!ti.in_recovery);
    ck_assert_uint_eq(ti.dupacks, 0);
    ck_assert_uint_eq(ti.backoff, 0);
    ck_assert_uint_eq(ti.cwnd, cwnd);
    ck_assert_uint_eq(ti.ssthresh, ssthresh);
    ck_assert_uint_eq(ti.snd_nxt, ti.snd_una);
    ck_assert_uint_ne(ti.timer[TS_TIMER_PERSIST], TS_TIME_NEVER);
    /* the window opens: data goes again from SND.UNA, and an ACK of it keeps OPEN */
    peer_send(&pe, 1, 1, 0x10, WIN, NULL, 0, 0);
    ti = peer_info(&pe);
    ck_assert_uint_gt(ti.snd_nxt, ti.snd_una);
    peer_send(&pe, 1, 1001, 0x10, WIN, NULL, 0, 0);
    ck_assert_int_eq(peer_info(&pe).ca_state, TS_CA_OPEN);
    h_free(h);
}
END_TEST

START_TEST(sack_recovery_exits_at_ssthresh)
{
    peer pe;
    harness *h = open_peer(&pe, true, "newreno");
    send_segments(&pe, 10);
    h_run_until(h, h->now + 100 * TS_MSEC);
    uint32_t blk[2] = {2001, 3001};
    peer_send(&pe, 1, 1001, 0x10, WIN, blk, 1, 0); /* segment 2 missing, 3 SACKed */
    ts_tcp_info ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_DISORDER);
    ck_assert_uint_eq(ti.sacked, 1000);
    blk[1] = 4001;
    peer_send(&pe, 1, 1001, 0x10, WIN, blk, 1, 0);
    blk[1] = 5001;
    peer_send(&pe, 1, 1001, 0x10, WIN, blk, 1, 0); /* 3 SACKed segments: IsLost(1001) */
    ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_RECOVERY);
    ck_assert(ti.in_recovery);
    uint32_t ssthresh = ti.ssthresh;
    peer_send(&pe, 1, 10001, 0x10, WIN, NULL, 0, 0); /* RecoveryPoint */
    ti = peer_info(&pe);
    ck_assert_int_eq(ti.ca_state, TS_CA_OPEN);
    ck_assert_uint_eq(ti.ssthresh, ssthresh);
    ck_assert_uint_eq(ti.cwnd, ssthresh); /* the cc's post_recovery (RFC 6937 3) */
    ck_assert_uint_eq(ti.sacked, 0);
    h_free(h);
}
END_TEST

/* The hooks of every registered algorithm, on a bare connection. */
START_TEST(cc_hooks_of_every_algorithm)
{
    static ts_conn c;
    static ts_params cp;
    ts_params_default(&cp);
    for (const char *const *n = ts_policy_names("cc"); *n; n++) {
        memset(&c, 0, sizeof c);
        c.p = &cp;
        c.snd_mss = 1000;
        c.cc_ops = ts_cc_find(*n);
        ck_assert_ptr_nonnull(c.cc_ops);
        ck_assert_uint_le(c.cc_ops->priv_size, TS_CC_PRIV_SIZE);
        c.cc_ops->init(&c);
        c.cwnd = 20000;
        c.snd_max = 20000;                        /* 20 segments in flight */
        c.cc_ops->cong_signal(&c, TS_CC_SIG_ECN); /* RFC 3168 6.1.2: cwnd to ssthresh */
        ck_assert_msg(c.ssthresh < 20000 && c.ssthresh >= 2000, "%s: ssthresh %u", *n, c.ssthresh);
        ck_assert_uint_eq(c.cwnd, c.ssthresh);
        c.cwnd = 3000;
        c.cc_ops->post_recovery(&c);
        ck_assert_uint_eq(c.cwnd, c.ssthresh);
        c.cwnd = 20000;
        c.cc_ops->cong_signal(&c, TS_CC_SIG_DUPACK);
        ck_assert_uint_eq(c.cwnd, c.ssthresh + 3000);
        c.cc_ops->cong_signal(&c, TS_CC_SIG_RTO);
        ck_assert_uint_eq(c.cwnd, 1000);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tcp_loss");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, newreno_open_disorder_recovery_open);
    tcase_add_test(tc, rto_is_loss_until_new_data_is_acked);
    tcase_add_test(tc, rto_in_recovery_ends_it_in_loss);
    tcase_add_test(tc, zero_window_reset_ends_recovery_without_loss);
    tcase_add_test(tc, sack_recovery_exits_at_ssthresh);
    tcase_add_test(tc, cc_hooks_of_every_algorithm);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
