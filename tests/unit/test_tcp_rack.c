/* test_tcp_rack.c: lost retransmissions in SACK recovery (RACK, RFC 8985 6.2). A hole's
 * retransmission is lost when data sent after it (a later retransmission, or new data)
 * is delivered first; the sender then resends it at once instead of waiting for the RTO.
 * Two stacks, 10 ms one way, exact virtual times. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define PORT 9200
#define MSS  1448 /* 1460 less the timestamp option */
#define D    (10 * TS_MSEC)

/* Segments 1 and 4 of 10 lost, and the retransmission of 1 too. Recovery resends 1 then
 * 4 at t0 + 2D; the SACK of 4's retransmission is back at t0 + 4D, one round trip later,
 * and shows that 1's retransmission, sent before it, is lost: 1 goes out a third time
 * then (the reordering window is 0 in recovery, RFC 8985 6.2 step 4), not at the RTO. */
START_TEST(later_retransmission_sacked)
{
    static const int first[] = {1, 4};
    h_conn x;
    h_bulk_open(&x, &(h_conn_opts){.delay = D, .port = PORT, .mss = MSS},
                &(h_drop_plan){.segs = first, .nsegs = 2, .resend = (const int[]){1}, .nresend = 1},
                10 * MSS);
    h_run_until(x.h, x.t0 + 5 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 10 * MSS);
    ck_assert_uint_eq(h_app_check(&x.sb), 10 * MSS);
    uint32_t b = x.pl.base;
    ck_assert_uint_eq(h_sent_at(x.h, b + 1 * MSS, 2), x.t0 + 2 * D);
    ck_assert_uint_eq(h_sent_at(x.h, b + 4 * MSS, 2), x.t0 + 2 * D);
    ck_assert_uint_eq(h_sent_at(x.h, b + 1 * MSS, 3), x.t0 + 4 * D);
    ck_assert_uint_eq(h_sent_at(x.h, b + 1 * MSS, 4), TS_TIME_NEVER);
    ck_assert_uint_eq(h_sent_at(x.h, b + 4 * MSS, 3), TS_TIME_NEVER);
    ck_assert_uint_eq(h_conn_acked_at(&x, 10 * MSS), x.t0 + 5 * D);
    const ts_counters *c = ts_stack_counters(x.h->st[H_A]);
    ck_assert_uint_eq(c->tcp_fast_retransmits, 1); /* one recovery episode */
    ck_assert_uint_eq(c->tcp_retransmits, 3);
    ck_assert_uint_eq(c->tcp_rto_timeouts, 0);
    h_conn_free(&x);
}
END_TEST

/* One hole (segment 1 of 20) whose retransmission is lost too: PRR sends new data after
 * the retransmission at t0 + 2D; its SACKs are back at t0 + 4D and show the
 * retransmission lost (data sent after it delivered), so it goes out again then. */
START_TEST(later_new_data_sacked)
{
    static const int first[] = {1};
    h_conn x;
    h_bulk_open(&x, &(h_conn_opts){.delay = D, .port = PORT, .mss = MSS},
                &(h_drop_plan){.segs = first, .nsegs = 1, .resend = (const int[]){1}, .nresend = 1},
                20 * MSS);
    h_run_until(x.h, x.t0 + 5 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 20 * MSS);
    ck_assert_uint_eq(h_app_check(&x.sb), 20 * MSS);
    uint32_t b = x.pl.base;
    ck_assert_uint_eq(h_sent_at(x.h, b + 1 * MSS, 2), x.t0 + 2 * D);
    ck_assert_uint_eq(h_sent_at(x.h, b + 10 * MSS, 1), x.t0 + 2 * D); /* new, after it */
    ck_assert_uint_eq(h_sent_at(x.h, b + 1 * MSS, 3), x.t0 + 4 * D);
    ck_assert_uint_eq(h_sent_at(x.h, b + 1 * MSS, 4), TS_TIME_NEVER);
    const ts_counters *c = ts_stack_counters(x.h->st[H_A]);
    ck_assert_uint_eq(c->tcp_fast_retransmits, 1);
    ck_assert_uint_eq(c->tcp_retransmits, 2);
    ck_assert_uint_eq(c->tcp_rto_timeouts, 0);
    h_conn_free(&x);
}
END_TEST

/* Without the second loss nothing changes: each hole goes out once. */
START_TEST(delivered_retransmission_not_resent)
{
    static const int first[] = {1, 4};
    h_conn x;
    h_bulk_open(&x, &(h_conn_opts){.delay = D, .port = PORT, .mss = MSS},
                &(h_drop_plan){.segs = first, .nsegs = 2}, 10 * MSS);
    h_run_until(x.h, x.t0 + 5 * TS_SEC);
    ck_assert_uint_eq(h_app_check(&x.sb), 10 * MSS);
    uint32_t b = x.pl.base;
    ck_assert_uint_eq(h_sent_at(x.h, b + 1 * MSS, 3), TS_TIME_NEVER);
    ck_assert_uint_eq(h_sent_at(x.h, b + 4 * MSS, 3), TS_TIME_NEVER);
    ck_assert_uint_eq(h_conn_acked_at(&x, 10 * MSS), x.t0 + 3 * D);
    const ts_counters *c = ts_stack_counters(x.h->st[H_A]);
    ck_assert_uint_eq(c->tcp_retransmits, 2);
    ck_assert_uint_eq(c->tcp_rto_timeouts, 0);
    h_conn_free(&x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rack");
    TCase *tc = tcase_create("lost_retransmission");
    tcase_add_test(tc, later_retransmission_sacked);
    tcase_add_test(tc, later_new_data_sacked);
    tcase_add_test(tc, delivered_retransmission_not_resent);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
