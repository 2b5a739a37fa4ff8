/* test_review_shrunk_window.c: a peer that shrinks its window to zero while data is
 * outstanding (RFC 1122 4.2.2.16/17: the sender must probe it in the standard way and
 * should not time the connection out while the peer keeps answering). Found in review:
 * the RTO sent nothing into the zero window, armed no persist timer, and counted up to
 * retries2, killing a live connection with ETIMEDOUT. */
#include <check.h>

#include "peer.h"

START_TEST(zero_window_with_data_outstanding_is_probed)
{
    harness *h = h_new(NULL, NULL);
    peer pe;
    peer_open(&pe, h, 8080, false, false, 100 * TS_MSEC, 100);
    ts_stack *b = h->st[H_B];
    uint8_t buf[3000];
    memset(buf, 'x', sizeof buf);
    size_t n0 = h_nlog(h);
    ts_time_t t0 = h->now;
    ck_assert_int_eq(ts_send(b, pe.sd, buf, sizeof buf), 3000);
    ck_assert_uint_eq(peer_out(&pe, n0), 3);
    peer_expect(&pe, n0, 1, 1001, 0x10, t0);
    h_run_until(h, h->now + 100 * TS_MSEC);
    /* the peer takes the first segment, then (shrinking) offers a zero window */
    peer_send(&pe, 1, 1001, 0x10, 0, NULL, 0, 0);
    size_t mark = h_nlog(h);
    ts_time_t start = h->now;
    /* for 30 minutes, answer everything B sends with the same zero window */
    while (h->now - start < 1800 * TS_SEC) {
        size_t n = h_nlog(h);
        h_run_until(h, h->now + 100 * TS_MSEC);
        if (h_nlog(h) > n) peer_send(&pe, 1, 1001, 0x10, 0, NULL, 0, 0);
    }
    ck_assert_msg(h_nlog(h) - mark >= 5, "B probed the zero window only %zu times",
                  h_nlog(h) - mark);
    ts_tcp_info info;
    ck_assert_int_eq(ts_sock_info(b, pe.sd, &info), 0);
    ck_assert_int_eq(info.state, TS_ESTABLISHED);
    ck_assert_int_eq(ts_sock_error(b, pe.sd), 0);
    /* the window opens: the outstanding data goes out again from SND.UNA */
    size_t before = h_nlog(h);
    peer_send(&pe, 1, 1001, 0x10, 100, NULL, 0, 0);
    h_run_until(h, h->now + 10 * TS_MSEC);
    bool resent = false;
    for (size_t i = before; i < h_nlog(h); i++)
        if (h->log[i].from == H_B && h->log[i].seq - pe.iss == 1001 && h->log[i].plen == 1000)
            resent = true;
    ck_assert(resent);
    h_free(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("review_shrunk_window");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, zero_window_with_data_outstanding_is_probed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
