/* test_tcp_reset_all.c: ts_stack_reset_all, the runner's last word on shutdown: every open
 * connection, orphans included, is reset so no peer is left waiting. */
#include <check.h>
#include <errno.h>

#include "harness.h"

START_TEST(reset_all_resets_sockets_and_orphans)
{
    harness *h = h_new(NULL, NULL);
    h->delay = 1 * TS_MSEC;
    h_app srv, c1, c2;
    h_app_init(&srv, h, H_B);
    srv.auto_read = true;
    h_app_listen(&srv, 23, 8);
    h_app_init(&c1, h, H_A);
    h_app_connect(&c1, 40001, 23);
    h_app_init(&c2, h, H_A);
    h_app_connect(&c2, 40002, 23);
    h_run_until(h, 1 * TS_SEC);
    /* c1 closes and becomes an orphan in FIN_WAIT_2 (B never closes); c2 stays open */
    ck_assert_int_eq(ts_close(h->st[H_A], c1.sd), 0);
    c1.sd = -1;
    h_run_until(h, 2 * TS_SEC);
    ck_assert_uint_eq(ts_stack_counters(h->st[H_A])->conns_by_state[TS_FIN_WAIT_2], 1);
    ck_assert_uint_eq(ts_stack_counters(h->st[H_A])->conns_by_state[TS_ESTABLISHED], 1);
    size_t before = h_count(h, H_A, TS_TH_RST | TS_TH_ACK);
    ck_assert_uint_eq(ts_stack_reset_all(h->st[H_A]), 2);
    ck_assert_uint_eq(h_count(h, H_A, TS_TH_RST | TS_TH_ACK) - before, 2);
    ck_assert_int_eq(c2.err, -ECONNRESET); /* the app read SO_ERROR in its callback */
    h_run_until(h, 3 * TS_SEC);
    /* B's two connections were reset by the RSTs */
    const ts_counters *kb = ts_stack_counters(h->st[H_B]);
    ck_assert_uint_eq(kb->conns_by_state[TS_ESTABLISHED] + kb->conns_by_state[TS_CLOSE_WAIT], 0);
    ck_assert_uint_eq(kb->tcp_rst_in, 2);
    h_app_free(&c1);
    h_app_free(&c2);
    h_app_free(&srv);
    h_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reset_all");
    TCase *tc = tcase_create("reset_all");
    tcase_add_test(tc, reset_all_resets_sockets_and_orphans);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
