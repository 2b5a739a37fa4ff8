/* test_tcp_delack_gro.c: a segment longer than the receiver's MSS (a GRO super-segment
 * handed over by an offloading TUN device) counts as the full-sized segments it holds:
 * two or more are ACKed at once under every delayed-ACK policy that ACKs every second
 * segment (Linux's __tcp_ack_snd_check counts bytes past the last ACK), while a lone
 * segment shorter than two MSS still waits for the delayed-ACK timer. */
#include <check.h>

#include "peer.h"

#define PORT 5000
#define WIN  1000 /* scaled by 7: far more than the test sends */

/* B (the receiver) advertises MSS 536, without timestamps (rcv_mss 536), no quick-ACK. */
static harness *open_b(peer *pe, const char *policy)
{
    ts_params pb;
    char err[128];
    ts_params_default(&pb);
    ck_assert_int_eq(ts_params_set(&pb, "mss", "536", err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&pb, "quickack", "off", err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&pb, "delack_policy", policy, err, sizeof err), 0);
    harness *h = h_new(NULL, &pb);
    peer_open(pe, h, PORT, true, false, 100 * TS_MSEC, WIN);
    return h;
}

/* The time of B's first packet logged from index `from` on, checked to be a pure ACK. */
static ts_time_t first_ack(const peer *pe, size_t from)
{
    ck_assert_uint_ge(peer_out(pe, from), 1);
    ts_time_t t = pe->h->log[from].t;
    peer_expect(pe, from, 1, 1, TS_TH_ACK, t);
    return t;
}

static void check_policy(const char *policy, ts_time_t lone_delay)
{
    peer pe;
    harness *h = open_b(&pe, policy);
    /* 1,400 bytes: two full segments of 536 and more, ACKed on arrival */
    size_t n = h_nlog(h);
    ts_time_t t0 = h->now;
    peer_send(&pe, 1, 1, TS_TH_ACK, WIN, NULL, 0, 1400);
    h_run_until(h, t0 + 1 * TS_SEC);
    ck_assert_msg(first_ack(&pe, n) == t0, "%s: 1400 bytes ACKed at %llu, want %llu", policy,
                  (unsigned long long)first_ack(&pe, n), (unsigned long long)t0);
    /* 1,000 bytes: one full segment, so the delayed-ACK timer decides */
    n = h_nlog(h);
    t0 = h->now;
    peer_send(&pe, 1401, 1, TS_TH_ACK, WIN, NULL, 0, 1000);
    h_run_until(h, t0 + 1 * TS_SEC);
    ck_assert_msg(first_ack(&pe, n) == t0 + lone_delay, "%s: 1000 bytes ACKed at +%llu us", policy,
                  (unsigned long long)(first_ack(&pe, n) - t0));
    h_free(h);
}

START_TEST(linux_counts_bytes)
{
    check_policy("linux", 40 * TS_MSEC); /* ato starts at delack */
}
END_TEST

START_TEST(fixed_counts_bytes)
{
    check_policy("fixed", 40 * TS_MSEC);
}
END_TEST

START_TEST(bsd_counts_bytes)
{
    /* the 1000 bytes arrive at 1.1 s (the handshake's 100 ms, then 1 s): their ACK waits
     * for the host's next 200 ms tick, 1.2 s */
    peer pe;
    harness *h = open_b(&pe, "bsd");
    size_t n = h_nlog(h);
    ts_time_t t0 = h->now;
    peer_send(&pe, 1, 1, TS_TH_ACK, WIN, NULL, 0, 1400);
    h_run_until(h, t0 + 1 * TS_SEC);
    ck_assert_uint_eq(first_ack(&pe, n), t0);
    n = h_nlog(h);
    t0 = h->now;
    peer_send(&pe, 1401, 1, TS_TH_ACK, WIN, NULL, 0, 1000);
    h_run_until(h, t0 + 1 * TS_SEC);
    ck_assert_uint_eq(t0, 1100 * TS_MSEC);
    ck_assert_uint_eq(first_ack(&pe, n), 1200 * TS_MSEC);
    h_free(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("delack_gro");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, linux_counts_bytes);
    tcase_add_test(tc, fixed_counts_bytes);
    tcase_add_test(tc, bsd_counts_bytes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
