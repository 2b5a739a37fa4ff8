/* test_cc_cubic.c: CUBIC congestion control (stack/cc_cubic.c, RFC 9438). The ops are
 * driven directly on a connection in virtual time (exact ACK times and RTTs), then once
 * end to end through two stacks with one loss. Expected values are computed here in
 * floating point from the RFC's formulas, independently of the core's integer math. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "cc_cubic.h"

#define MSS 1000u

static ts_conn conn; /* large: static, reset by fresh() */
static ts_params conn_p;

static ts_conn *fresh(void)
{
    memset(&conn, 0, sizeof conn);
    ts_params_default(&conn_p);
    conn.p = &conn_p;
    conn.snd_mss = MSS;
    conn.cc_ops = ts_cc_find("cubic");
    ck_assert_ptr_nonnull(conn.cc_ops);
    conn.cc_ops->init(&conn);
    return &conn;
}

/* cube root by Newton's method (the test needs no libm either) */
static double cbrt_d(double x)
{
    if (x <= 0) return 0;
    double y = x > 1 ? x / 3 : 1;
    for (int i = 0; i < 200; i++) y -= (y * y * y - x) / (3 * y * y);
    return y;
}

/* RFC 9438 4.2, in segments and seconds */
static double w_cubic_seg(double t, double w_max, double cwnd_epoch)
{
    double k = cbrt_d((w_max - cwnd_epoch) / 0.4);
    double d = t - k;
    return 0.4 * d * d * d + w_max;
}

/* One round trip of ACKs: cwnd/MSS full-segment ACKs spread evenly over rtt from t0. */
static void ack_round(ts_conn *c, ts_time_t t0, ts_time_t rtt)
{
    uint32_t n = c->cwnd / MSS;
    for (uint32_t i = 0; i < n; i++) c->cc_ops->on_ack(c, MSS, t0 + rtt * i / n);
}

/* A loss at cwnd W, then recovery ending at cwnd = ssthresh (as SACK recovery does). */
static void loss_at(ts_conn *c, uint32_t w)
{
    c->cwnd = w;
    c->cc_ops->cong_signal(c, TS_CC_SIG_DUPACK);
    c->cwnd = c->ssthresh;
}

START_TEST(ssthresh_is_cwnd_times_717_over_1024)
{
    ts_conn *c = fresh();
    loss_at(c, 100 * MSS);
    ck_assert_uint_eq(c->ssthresh, 100000u * 717 / 1024); /* 70019 */
    /* without SACK the window is inflated by the three dupACKs (RFC 5681 3.2 step 3) */
    c = fresh();
    c->cwnd = 100 * MSS;
    c->cc_ops->cong_signal(c, TS_CC_SIG_DUPACK);
    ck_assert_uint_eq(c->cwnd, 70019u + 3 * MSS);
    /* Linux's 10 segments -> 7: 14600 B gives 10222 B, 7 segments and 2 bytes */
    c = fresh();
    c->snd_mss = 1460;
    loss_at(c, 10 * 1460);
    ck_assert_uint_eq(c->ssthresh, 10222u);
    ck_assert_uint_eq(c->ssthresh / 1460, 7);
    /* floored at 2 SMSS */
    c = fresh();
    loss_at(c, 2 * MSS);
    ck_assert_uint_eq(c->ssthresh, 2 * MSS);
    /* an RTO: same ssthresh, cwnd 1 SMSS (RFC 9438 4.8) */
    c = fresh();
    c->cwnd = 40 * MSS;
    c->cc_ops->cong_signal(c, TS_CC_SIG_RTO);
    ck_assert_uint_eq(c->ssthresh, 40000u * 717 / 1024);
    ck_assert_uint_eq(c->cwnd, MSS);
}
END_TEST

START_TEST(slow_start_is_reno)
{
    ts_conn *c = fresh();
    ck_assert_uint_eq(c->cwnd, 10 * MSS);
    ck_assert_uint_eq(c->ssthresh, UINT32_MAX);
    c->cc_ops->on_ack(c, 2 * MSS, 0); /* + min(N, SMSS) */
    ck_assert_uint_eq(c->cwnd, 11 * MSS);
    c->cc_ops->on_ack(c, 300, 0);
    ck_assert_uint_eq(c->cwnd, 11 * MSS + 300);
}
END_TEST

/* Follow cwnd round by round after a loss at w_max segments (RTT 100 ms) and compare it
 * with W_cubic(t) at the given times (seconds since the first ACK after recovery). */
static void follow_curve(uint32_t w_max, const double *checks, size_t n, double tol)
{
    ts_conn *c = fresh();
    const ts_time_t rtt = 100 * TS_MSEC, t0 = 10 * TS_SEC;
    c->srtt = c->min_rtt = rtt;
    loss_at(c, w_max * MSS);
    double epoch_seg = c->cwnd / (double)MSS;
    double k = cbrt_d((w_max - epoch_seg) / 0.4);
    size_t next = 0;
    for (ts_time_t t = 0; next < n; t += rtt) {
        ack_round(c, t0 + t, rtt);
        if (t == 0) {
            ck_assert(ts_cubic_of(c)->epoch_on);
            ck_assert_uint_eq(ts_cubic_of(c)->epoch, t0); /* the first ACK after recovery */
            /* K in whole ms, floored */
            ck_assert_uint_eq(ts_cubic_of(c)->k, (ts_time_t)(k * 1000) * TS_MSEC);
        }
        double now = (double)(t + rtt) / TS_SEC; /* the round's ACKs are all in */
        if (now + 1e-9 < checks[next]) continue;
        double want = w_cubic_seg(now, w_max, epoch_seg);
        double got = c->cwnd / (double)MSS;
        ck_assert_msg(got > want - tol && got < want + tol, "t=%.1f s: cwnd %.3f, W_cubic %.3f",
                      now, got, want);
        ck_assert_uint_lt(ts_cubic_of(c)->w_est, c->cwnd); /* the curve, not Reno, sets the pace */
        next++;
    }
}

/* From a loss at 1000 segments: the concave side up to W_max at t = K = 9.09 s, the
 * plateau, then the convex side, cwnd within a segment of W_cubic(t) all along (each
 * ACK aims at W_cubic(t + RTT), one RTT ahead, so a round ends on the curve). */
START_TEST(growth_follows_w_cubic)
{
    const double checks[] = {0.5, 1.0, 3.0, 6.0, 9.1, 10.0, 12.0, 15.0, 18.0};
    follow_curve(1000, checks, sizeof checks / sizeof checks[0], 1.0);
}
END_TEST

/* From 100 segments, K = 4.22 s: the curve leads until about 6 s; by then W_est has
 * passed the pre-loss cwnd and grows a segment per round (alpha = 1), overtaking the
 * curve's slow start of the convex side: the Reno-friendly region (4.3). */
START_TEST(growth_small_window_turns_reno_friendly)
{
    const double checks[] = {1.0, 2.0, 3.0, 4.2, 5.0};
    follow_curve(100, checks, sizeof checks / sizeof checks[0], 1.0);
    ts_conn *c = &conn; /* continue the same connection to t = 7.5 s */
    ts_time_t t = 10 * TS_SEC + 5 * TS_SEC + 100 * TS_MSEC;
    for (; t < 17500 * TS_MSEC; t += 100 * TS_MSEC) ack_round(c, t, 100 * TS_MSEC);
    /* past even W_cubic(t + RTT), the furthest the curve's own rule would aim */
    double cub = w_cubic_seg(7.5 + 0.1, 100, 70.019);
    ck_assert_uint_eq(c->cwnd, ts_cubic_of(c)->w_est);
    ck_assert_msg(c->cwnd / (double)MSS > cub + 1, "cwnd %u vs W_cubic %.3f", c->cwnd, cub);
}
END_TEST

/* Short RTT (2 ms): 500 rounds a second, so Reno's linear growth outruns the cubic
 * curve and cwnd follows W_est: alpha = 3(1-b)/(1+b) = 0.529 SMSS per round until W_est
 * reaches the pre-loss cwnd, then 1 SMSS per round (RFC 9438 4.3). */
START_TEST(reno_friendly_region_for_small_rtt)
{
    ts_conn *c = fresh();
    const ts_time_t rtt = 2 * TS_MSEC;
    c->srtt = c->min_rtt = rtt;
    loss_at(c, 100 * MSS);
    uint32_t w0 = c->cwnd; /* 70019 */
    ts_time_t t = TS_SEC;
    for (int i = 0; i < 20; i++, t += rtt) ack_round(c, t, rtt);
    /* 20 rounds at alpha = 921/1741: 10.58 segments, cubic alone would give ~0 */
    double alpha = 3.0 * (1024 - 717) / (1024 + 717);
    double got = (c->cwnd - w0) / (double)MSS;
    ck_assert_msg(got > 20 * alpha - 0.6 && got < 20 * alpha + 0.6, "grew %.3f", got);
    ck_assert_uint_eq(c->cwnd, ts_cubic_of(c)->w_est);
    double cub = w_cubic_seg((double)(t - TS_SEC) / TS_SEC, 100, w0 / (double)MSS);
    ck_assert(c->cwnd / (double)MSS > cub + 5); /* well above the cubic curve */
    /* run on past the pre-loss cwnd (100 segments): then one segment per round */
    while (ts_cubic_of(c)->w_est < 100 * MSS) ack_round(c, t, rtt), t += rtt;
    ack_round(c, t, rtt), t += rtt;
    uint32_t before = c->cwnd;
    for (int i = 0; i < 10; i++, t += rtt) ack_round(c, t, rtt);
    got = (c->cwnd - before) / (double)MSS;
    /* the curve's own growth near W_max is tiny at this age (t ~ 0.06 s, K = 4.2 s) */
    ck_assert_msg(got > 9.4 && got < 10.6, "grew %.3f in 10 rounds with alpha 1", got);
}
END_TEST

/* 4.7: a loss below the previous W_max sets W_max = cwnd (1 + b) / 2, and K follows. */
START_TEST(fast_convergence)
{
    ts_conn *c = fresh();
    c->srtt = 100 * TS_MSEC;
    loss_at(c, 100 * MSS);
    ck_assert_uint_eq(ts_cubic_of(c)->w_max, 100 * MSS);
    ck_assert_uint_eq(ts_cubic_of(c)->cwnd_prior, 100 * MSS);
    loss_at(c, 90 * MSS); /* below 100: release bandwidth */
    ck_assert_uint_eq(ts_cubic_of(c)->w_max, 90000u * 1741 / 2048); /* 76508 */
    ck_assert_uint_eq(ts_cubic_of(c)->cwnd_prior, 90 * MSS);
    ck_assert_uint_eq(c->ssthresh, 90000u * 717 / 1024); /* 63017 */
    c->cc_ops->on_ack(c, MSS, 5 * TS_SEC);               /* epoch starts */
    double k = cbrt_d((76.508 - 63.017) / 0.4);
    ck_assert_msg(llabs((long long)ts_cubic_of(c)->k - (long long)(k * TS_SEC)) <= 1000,
                  "K %llu us", (unsigned long long)ts_cubic_of(c)->k);
    ck_assert_uint_eq(ts_cubic_of(c)->origin, 76508);
    /* a loss above W_max: W_max = cwnd, no reduction of the plateau */
    loss_at(c, 120 * MSS);
    ck_assert_uint_eq(ts_cubic_of(c)->w_max, 120 * MSS);
    /* an epoch starting above W_max (slow start after an RTO overshot it) plateaus at
     * the epoch's own window: K = 0 */
    ts_cubic_of(c)->w_max = 50 * MSS;
    ts_cubic_of(c)->epoch_on = false;
    c->cwnd = c->ssthresh = 60 * MSS;
    c->cc_ops->on_ack(c, MSS, 9 * TS_SEC);
    ck_assert_uint_eq(ts_cubic_of(c)->k, 0);
    ck_assert_uint_eq(ts_cubic_of(c)->origin, 60 * MSS);
}
END_TEST

/* An idle restart ends the epoch: idle time is not growth time. */
START_TEST(idle_restarts_epoch)
{
    ts_conn *c = fresh();
    c->srtt = 100 * TS_MSEC;
    loss_at(c, 100 * MSS);
    c->cc_ops->on_ack(c, MSS, TS_SEC);
    ck_assert(ts_cubic_of(c)->epoch_on);
    c->cc_ops->on_idle(c);
    ck_assert(!ts_cubic_of(c)->epoch_on);
    ck_assert_uint_eq(c->cwnd, 10 * MSS); /* RFC 5681 4.1, as Reno */
}
END_TEST

/* ---- end to end: a bulk transfer with one loss through two stacks ---- */

static void bulk_with_loss(const char *cc, ts_tcp_info *out)
{
    char err[128];
    ts_params pa;
    ts_params_default(&pa);
    ck_assert_int_eq(ts_params_set(&pa, "cc", cc, err, sizeof err), 0);
    /* A sends from the moment it connects; its 20th data segment, one of the first
     * slow-start rounds, is lost */
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.pa = &pa,
                                   .delay = 20 * TS_MSEC,
                                   .port = 80,
                                   .a_send = 400000,
                                   .plan = &(h_drop_plan){.segs = (const int[]){19}, .nsegs = 1}});
    h_run(x.h, 30 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 400000);
    ck_assert_uint_eq(h_app_check(&x.sb), x.sb.rx_len);
    ck_assert_int_eq(ts_sock_info(x.h->st[H_A], x.ca.sd, out), 0);
    h_conn_free(&x);
}

START_TEST(end_to_end_one_loss)
{
    ts_tcp_info cu, nr;
    bulk_with_loss("cubic", &cu);
    bulk_with_loss("newreno", &nr);
    /* slow start grows whole segments, so the loss came at n segments, and CUBIC's
     * ssthresh is n * 1460 * 717/1024 where NewReno's is half the flight */
    bool found = false;
    ck_assert_uint_eq(cu.retransmits, 1); /* one loss, one fast retransmit */
    ck_assert_uint_eq(cu.snd_mss, 1448);  /* 1460 less the timestamps */
    for (uint32_t n = 10; n < 400 && !found; n++) found = cu.ssthresh == n * 1448u * 717 / 1024;
    ck_assert_msg(found, "cubic ssthresh %u is not 0.7 of a whole-segment cwnd", cu.ssthresh);
    ck_assert_uint_gt(cu.ssthresh, nr.ssthresh);
    ck_assert_uint_gt(cu.cwnd, cu.ssthresh); /* grew on after recovery */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cc_cubic");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ssthresh_is_cwnd_times_717_over_1024);
    tcase_add_test(tc, slow_start_is_reno);
    tcase_add_test(tc, growth_follows_w_cubic);
    tcase_add_test(tc, growth_small_window_turns_reno_friendly);
    tcase_add_test(tc, reno_friendly_region_for_small_rtt);
    tcase_add_test(tc, fast_convergence);
    tcase_add_test(tc, idle_restarts_epoch);
    tcase_add_test(tc, end_to_end_one_loss);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
