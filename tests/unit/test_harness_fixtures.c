/* test_harness_fixtures.c: the shared fixtures of harness.h do what the suites rely on:
 * h_conn_open reports the ISNs and A's first data sequence number as the SYNs carried
 * them; a drop plan drops exactly the transmissions it names (by data-segment index, in
 * either direction, installed after the handshake or before it) and counts them. */
#include <check.h>
#include <string.h>

#include "harness.h"

#define PORT 9300
#define MSS  1448 /* 1460 less the timestamp option */
#define D    (10 * TS_MSEC)

/* The log entries of side `from` carrying data at seq: how many, and how many dropped. */
static int sends(const harness *h, int from, uint32_t seq, int *dropped)
{
    int n = 0;
    *dropped = 0;
    for (size_t i = 0; i < h_nlog(h); i++)
        if (h->log[i].from == from && h->log[i].plen && h->log[i].seq == seq) {
            n++;
            *dropped += h->log_dropped[i];
        }
    return n;
}

START_TEST(conn_reports_isns_from_the_syns)
{
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.delay = D, .port = PORT, .mss = MSS});
    ck_assert_uint_eq(h_nlog(x.h), 3);
    ck_assert_uint_eq(x.h->log[0].flags, TS_TH_SYN);
    ck_assert_uint_eq(x.isn_a, x.h->log[0].seq);
    ck_assert_uint_eq(x.isn_b, x.h->log[1].seq);
    ck_assert_uint_eq(x.base, x.isn_a + 1);
    ck_assert_uint_eq(x.mss, MSS);
    ck_assert_uint_eq(x.t0, 1 * TS_SEC);
    ck_assert_int_ge(x.sb.sd, 0);
    h_conn_free(&x);
}
END_TEST

/* Segment 2's first and second transmissions (resend), segment 5's first and, from the
 * budget of one, its first retransmission: four drops, and the data still all arrives. */
START_TEST(plan_drops_the_named_transmissions)
{
    h_conn x;
    h_bulk_open(&x, &(h_conn_opts){.delay = D, .port = PORT, .mss = MSS},
                &(h_drop_plan){.segs = (const int[]){2, 5},
                               .nsegs = 2,
                               .rexmit_drops = 1,
                               .resend = (const int[]){2},
                               .nresend = 1},
                10 * MSS);
    h_run_until(x.h, x.t0 + 10 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 10 * MSS);
    ck_assert_uint_eq(h_app_check(&x.sb), 10 * MSS);
    int dropped;
    ck_assert_int_ge(sends(x.h, H_A, x.base + 2 * MSS, &dropped), 3);
    ck_assert_int_eq(dropped, 2);
    ck_assert_int_ge(sends(x.h, H_A, x.base + 5 * MSS, &dropped), 3);
    ck_assert_int_eq(dropped, 2);
    ck_assert_int_eq(sends(x.h, H_A, x.base + 4 * MSS, &dropped), 1);
    ck_assert_int_eq(dropped, 0);
    ck_assert_uint_eq(x.pl.drops, 4);
    ck_assert_int_eq(x.pl.rexmit_dropped, 1);
    h_conn_free(&x);
}
END_TEST

/* A plan on B's data: its base is B's ISN + 1 and only B's packets are touched. */
START_TEST(plan_on_the_other_direction)
{
    h_conn x;
    h_bulk_open(&x, &(h_conn_opts){.delay = D, .port = PORT},
                &(h_drop_plan){.from = H_B, .segs = (const int[]){1}, .nsegs = 1}, 4 * MSS);
    h_run_until(x.h, x.t0 + 10 * TS_SEC);
    ck_assert_uint_eq(x.pl.base, x.isn_b + 1);
    ck_assert_uint_eq(x.ca.rx_len, 4 * MSS);
    ck_assert_uint_eq(h_app_check(&x.ca), 4 * MSS);
    ck_assert(x.ca.eof);
    int dropped;
    ck_assert_int_eq(sends(x.h, H_B, x.pl.base + MSS, &dropped), 2);
    ck_assert_int_eq(dropped, 1);
    ck_assert_uint_eq(x.pl.drops, 1);
    h_conn_free(&x);
}
END_TEST

/* A transfer that starts with the connection: the plan, installed before the SYN, learns
 * its base from it and its segment size from the connection. */
START_TEST(plan_from_the_first_packet)
{
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.delay = D,
                                   .port = PORT,
                                   .a_send = 6 * MSS,
                                   .a_shut = true,
                                   .plan = &(h_drop_plan){.segs = (const int[]){0}, .nsegs = 1}});
    h_run_until(x.h, 10 * TS_SEC);
    ck_assert_uint_eq(x.pl.base, x.base);
    ck_assert_uint_eq(x.pl.mss, MSS);
    ck_assert_uint_eq(x.sb.rx_len, 6 * MSS);
    ck_assert(x.sb.eof);
    int dropped;
    ck_assert_int_eq(sends(x.h, H_A, x.base, &dropped), 2);
    ck_assert_int_eq(dropped, 1);
    ck_assert_uint_eq(x.pl.drops, 1);
    h_conn_free(&x);
}
END_TEST

/* loss_pct 100: every data packet of the side is lost, nothing else. */
START_TEST(plan_total_loss)
{
    h_conn x;
    h_bulk_open(&x, &(h_conn_opts){.delay = D, .port = PORT}, &(h_drop_plan){.loss_pct = 100},
                3 * MSS);
    h_run_until(x.h, x.t0 + 2 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 0);
    size_t data = 0;
    for (size_t i = 0; i < h_nlog(x.h); i++) {
        const h_pkt *p = &x.h->log[i];
        if (p->from == H_A && p->plen) data++;
        ck_assert_int_eq(x.h->log_dropped[i], p->from == H_A && p->plen > 0);
    }
    ck_assert_uint_eq(x.pl.drops, data);
    ck_assert_uint_gt(data, 3);
    h_conn_free(&x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("harness_fixtures");
    TCase *tc = tcase_create("fixtures");
    tcase_add_test(tc, conn_reports_isns_from_the_syns);
    tcase_add_test(tc, plan_drops_the_named_transmissions);
    tcase_add_test(tc, plan_on_the_other_direction);
    tcase_add_test(tc, plan_from_the_first_packet);
    tcase_add_test(tc, plan_total_loss);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
