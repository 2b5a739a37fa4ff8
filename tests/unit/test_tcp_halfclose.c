/* test_tcp_halfclose.c: half-close (RFC 9293 3.6; the founding chapter's second experiment):
 * after A shuts its write side, B still sends 100 KB, A receives every byte, then both read
 * EOF, and both connections end in CLOSED through the right states. shutdown(WR) then send
 * gives -EPIPE while receiving still works. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "harness.h"

#define PORT 7000
#define D    (5 * TS_MSEC)

static void expect_path(const harness *h, int side, uint32_t conn, const char *want)
{
    char got[512];
    h_state_path(h, side, conn, got, sizeof got);
    if (strcmp(got, want)) h_dump(h);
    ck_assert_str_eq(got, want);
}

START_TEST(half_close_100k_then_both_closed)
{
    h_conn x; /* A sends a request, then half-closes */
    h_conn_open(&x, &(h_conn_opts){.delay = D, .port = PORT, .a_send = 1000, .a_shut = true});
    harness *h = x.h;
    ck_assert(x.sb.eof);
    ck_assert_uint_eq(x.sb.rx_len, 1000);
    ck_assert_uint_eq(h_app_check(&x.sb), 1000);
    ck_assert(!x.ca.eof);
    /* A is half-closed: FIN_WAIT_2, B in CLOSE_WAIT; B answers with 100 KB, then closes */
    ts_tcp_info ai, bi;
    ts_sock_info(h->st[H_A], x.ca.sd, &ai);
    ts_sock_info(h->st[H_B], x.sb.sd, &bi);
    ck_assert_int_eq(ai.state, TS_FIN_WAIT_2);
    ck_assert_int_eq(bi.state, TS_CLOSE_WAIT);
    /* recv on B keeps returning 0 at EOF */
    char c;
    ck_assert_int_eq(ts_recv(h->st[H_B], x.sb.sd, &c, 1), 0);
    x.sb.tx_total = 100 * 1024;
    x.sb.shut_when_sent = true;
    ts_time_t t1 = h->now;
    h_app_push(&x.sb);
    h_run_until(h, t1 + 10 * TS_SEC);
    ck_assert_uint_eq(x.ca.rx_len, 100 * 1024);
    ck_assert_uint_eq(h_app_check(&x.ca), 100 * 1024);
    ck_assert(x.ca.eof);
    ck_assert_uint_ge(x.ca.eof_at, x.sb.eof_at);
    ck_assert_int_eq(ts_recv(h->st[H_A], x.ca.sd, &c, 1), 0);
    /* B (shut, then all ACKed) is CLOSED; A waits out TIME-WAIT, then CLOSED as well */
    uint32_t a = h_conn_id(h, H_A, 0), b = h_conn_id(h, H_B, PORT);
    expect_path(h, H_B, b, "SYN_RECEIVED ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
    expect_path(h, H_A, a, "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT");
    h_run_until(h, t1 + 100 * TS_SEC);
    expect_path(h, H_A, a, "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSED");
    /* exactly one FIN each way, no RST, no retransmission on a clean link */
    ck_assert_uint_eq(h_count(h, H_A, TS_TH_FIN | TS_TH_ACK) +
                          h_count(h, H_A, TS_TH_FIN | TS_TH_ACK | TS_TH_PSH),
                      1);
    ck_assert_uint_eq(h_count(h, H_B, TS_TH_FIN | TS_TH_ACK) +
                          h_count(h, H_B, TS_TH_FIN | TS_TH_ACK | TS_TH_PSH),
                      1);
    for (int s = 0; s < 2; s++) {
        ck_assert_uint_eq(ts_stack_counters(h->st[s])->tcp_rst_out, 0);
        ck_assert_uint_eq(ts_stack_counters(h->st[s])->tcp_retransmits, 0);
    }
    /* sockets still report CLOSED, EOF readable, and calls fail cleanly */
    ck_assert(ts_sock_events(h->st[H_A], x.ca.sd) & TS_SOCK_READABLE);
    ck_assert_int_eq(ts_send(h->st[H_A], x.ca.sd, "x", 1), -EPIPE);
    ck_assert_int_eq(ts_close(h->st[H_A], x.ca.sd), 0);
    ck_assert_int_eq(ts_close(h->st[H_B], x.sb.sd), 0);
    h_run_until(h, h->now + 1 * TS_SEC);
    ck_assert_uint_eq(ts_stack_counters(h->st[H_A])->tcp_rst_out, 0);
    h_conn_free(&x);
}
END_TEST

START_TEST(shutdown_wr_then_send_epipe_recv_works)
{
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.delay = D, .port = PORT});
    harness *h = x.h;
    size_t n0 = h_nlog(h);
    ck_assert_int_eq(ts_shutdown(h->st[H_A], x.ca.sd, TS_SHUT_WR), 0);
    /* the FIN leaves at once */
    ck_assert_uint_eq(h_nlog(h), n0 + 1);
    ck_assert_uint_eq(h->log[n0].flags, TS_TH_FIN | TS_TH_ACK);
    ck_assert_int_eq(ts_send(h->st[H_A], x.ca.sd, "more", 4), -EPIPE);
    ck_assert_int_eq(ts_shutdown(h->st[H_A], x.ca.sd, TS_SHUT_WR), 0); /* again: no-op */
    ck_assert_uint_eq(h_nlog(h), n0 + 1);
    ck_assert(!(ts_sock_events(h->st[H_A], x.ca.sd) & TS_SOCK_WRITABLE));
    h_run_until(h, 2 * TS_SEC);
    ck_assert(x.sb.eof);
    /* B still talks to A */
    ck_assert_int_eq(ts_send(h->st[H_B], x.sb.sd, "reply", 5), 5);
    h_run_until(h, 3 * TS_SEC);
    ck_assert_uint_eq(x.ca.rx_len, 5);
    ck_assert_int_eq(memcmp(x.ca.rx, "reply", 5), 0);
    ck_assert(!x.ca.eof);
    ck_assert_int_eq(ts_send(h->st[H_A], x.ca.sd, "more", 4), -EPIPE);
    h_conn_free(&x);
}
END_TEST

START_TEST(eof_only_after_all_data_read)
{
    /* B sends data and FIN back to back; A doesn't read until both arrived: recv returns
     * the data first, then 0 */
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.delay = D, .port = PORT});
    harness *h = x.h;
    x.ca.auto_read = false;
    ck_assert_int_eq(ts_send(h->st[H_B], x.sb.sd, "last words", 10), 10);
    ck_assert_int_eq(ts_shutdown(h->st[H_B], x.sb.sd, TS_SHUT_WR), 0);
    h_run_until(h, 2 * TS_SEC);
    ts_tcp_info ai;
    ts_sock_info(h->st[H_A], x.ca.sd, &ai);
    ck_assert_int_eq(ai.state, TS_CLOSE_WAIT);
    char buf[32];
    ck_assert_int_eq(ts_recv(h->st[H_A], x.ca.sd, buf, 4), 4);
    ck_assert_int_eq(ts_recv(h->st[H_A], x.ca.sd, buf + 4, sizeof buf - 4), 6);
    ck_assert_int_eq(memcmp(buf, "last words", 10), 0);
    ck_assert_int_eq(ts_recv(h->st[H_A], x.ca.sd, buf, sizeof buf), 0);
    ck_assert_int_eq(ts_recv(h->st[H_A], x.ca.sd, buf, sizeof buf), 0);
    /* CLOSE_WAIT may still send (RFC 9293 3.6) */
    ck_assert_int_eq(ts_send(h->st[H_A], x.ca.sd, "ok", 2), 2);
    h_run_until(h, 3 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 2);
    h_conn_free(&x);
}
END_TEST

static Suite *halfclose_suite(void)
{
    Suite *s = suite_create("halfclose");
    TCase *tc = tcase_create("halfclose");
    tcase_add_test(tc, half_close_100k_then_both_closed);
    tcase_add_test(tc, shutdown_wr_then_send_epipe_recv_works);
    tcase_add_test(tc, eof_only_after_all_data_read);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(halfclose_suite());
}
