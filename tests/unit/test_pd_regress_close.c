/* test_pd_regress_close.c: behaviours packetdrill's close/ and shutdown/ scripts showed
 * tcpsim doing differently from Linux, pinned down in virtual time:
 * - a FIN that arrives before any data is ACKed on the next tick (1 ms), not after the
 *   40 ms delayed-ACK timer (Linux's ATO is still 0 then);
 * - after shutdown(SHUT_RD) data still arrives, is ACKed and can be read; only an empty
 *   queue reads as EOF. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "harness.h"

#define PORT 7000

/* A connected pair (harness.h); B's application does not read: the tests do. */
static harness *connect_pair(h_conn *x, ts_time_t delay, int *ca, int *cb)
{
    h_conn_open(x, &(h_conn_opts){.delay = delay, .port = PORT});
    x->sb.auto_read = false;
    *ca = x->ca.sd, *cb = x->sb.sd;
    ck_assert_int_ge(*cb, 0);
    return x->h;
}

START_TEST(fin_before_data_acked_next_tick)
{
    h_conn x;
    int ca, cb;
    harness *h = connect_pair(&x, 10 * TS_MSEC, &ca, &cb);
    size_t before = h_nlog(h);
    ck_assert_int_eq(ts_close(h->st[H_A], ca), 0);
    h_run_until(h, h->now + TS_SEC);
    /* A's FIN, then B's ACK of it 1 ms after it arrived (B does not close). */
    ck_assert_uint_ge(h_nlog(h), before + 2);
    const h_pkt *fin = &h->log[before], *ack = &h->log[before + 1];
    ck_assert_int_eq(fin->from, H_A);
    ck_assert_uint_eq(fin->flags, TS_TH_FIN | TS_TH_ACK);
    ck_assert_int_eq(ack->from, H_B);
    ck_assert_uint_eq(ack->flags, TS_TH_ACK);
    ck_assert_uint_eq(ack->ack, fin->seq + 1);
    ck_assert_uint_eq(ack->t, fin->t + h->delay + TS_MSEC);
    ck_assert_int_eq(ts_recv(h->st[H_B], cb, (char[4]){0}, 4), 0);
    h_conn_free(&x);
}
END_TEST

START_TEST(fin_after_data_still_delayed)
{
    h_conn x;
    int ca, cb;
    harness *h = connect_pair(&x, 10 * TS_MSEC, &ca, &cb);
    ck_assert_int_eq(ts_send(h->st[H_A], ca, "abc", 3), 3);
    h_run_until(h, h->now + TS_SEC);
    size_t before = h_nlog(h);
    ck_assert_int_eq(ts_close(h->st[H_A], ca), 0);
    h_run_until(h, h->now + TS_SEC);
    const h_pkt *fin = &h->log[before], *ack = &h->log[before + 1];
    ck_assert_uint_eq(fin->flags, TS_TH_FIN | TS_TH_ACK);
    ck_assert_uint_eq(ack->ack, fin->seq + 1);
    ck_assert_uint_eq(ack->t, fin->t + h->delay + 40 * TS_MSEC); /* the 40 ms timer */
    h_conn_free(&x);
}
END_TEST

START_TEST(shut_rd_still_reads_queued_data)
{
    h_conn x;
    int ca, cb;
    harness *h = connect_pair(&x, 0, &ca, &cb);
    ts_stack *b = h->st[H_B];
    ck_assert_int_eq(ts_shutdown(b, cb, TS_SHUT_RD), 0);
    char buf[16] = {0};
    ck_assert_int_eq(ts_recv(b, cb, buf, sizeof buf), 0); /* empty: EOF */
    ck_assert_int_eq(ts_send(h->st[H_A], ca, "hello", 5), 5);
    h_run_until(h, h->now + TS_SEC);
    ck_assert_int_eq(ts_recv(b, cb, buf, sizeof buf), 5);
    ck_assert_str_eq(buf, "hello");
    ck_assert_int_eq(ts_recv(b, cb, buf, sizeof buf), 0);
    h_conn_free(&x);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pd_regress_close");
    TCase *tc = tcase_create("close");
    tcase_add_test(tc, fin_before_data_acked_next_tick);
    tcase_add_test(tc, fin_after_data_still_delayed);
    tcase_add_test(tc, shut_rd_still_reads_queued_data);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
