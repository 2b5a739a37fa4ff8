/* test_pd_regress_recover.c: NewReno's "recover" starts at the ISS (RFC 6582 3.2). It used
 * to start at 0, so with an ISS in the upper half of the sequence space SND.UNA never
 * compared >= recover and three dupACKs never triggered fast retransmit: packetdrill's
 * fast_retransmit/fr-4pkt.pkt passed or failed with the ISN. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "harness.h"

#define PORT 7001

static bool drop_first_data_from_b(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)idx;
    bool *dropped = h->user;
    if (from != H_B || p->plen == 0 || *dropped) return false;
    *dropped = true;
    return true;
}

static void fast_retransmit_with_isn(const char *isn)
{
    ts_params pb;
    char err[160];
    ts_params_default(&pb);
    ck_assert_int_eq(ts_params_set(&pb, "isn", isn, err, sizeof err), 0);
    harness *h = h_new(NULL, &pb);
    h->delay = 50 * TS_MSEC;
    bool dropped = false;
    h->user = &dropped;
    ts_stack *a = h->st[H_A], *b = h->st[H_B];
    int l = ts_socket(b);
    ck_assert_int_eq(ts_bind(b, l, 0, PORT), 0);
    ck_assert_int_eq(ts_listen(b, l, 4), 0);
    int ca = ts_socket(a);
    ck_assert_int_eq(ts_connect(a, ca, TS_IP4(10, 0, 0, 199), PORT), -EINPROGRESS);
    h_run_until(h, h->now + TS_SEC);
    int cb = ts_accept(b, l, NULL);
    ck_assert_int_ge(cb, 0);
    static char data[4 * 1448];
    memset(data, 'x', sizeof data);
    h->drop = drop_first_data_from_b;
    ck_assert_int_eq(ts_send(b, cb, data, sizeof data), (ssize_t)sizeof data);
    ts_time_t t0 = h->now;
    /* Three dupACKs come back one RTT later; the fast retransmit answers them at once,
     * long before the RTO (>= 1 s here, since the handshake gave a 100 ms sample + 200). */
    h_run_until(h, t0 + 150 * TS_MSEC);
    ck_assert(dropped);
    ck_assert_uint_eq(ts_stack_counters(b)->tcp_fast_retransmits, 1);
    ck_assert_uint_eq(ts_stack_counters(b)->tcp_rto_timeouts, 0);
    h_run_until(h, t0 + 2 * TS_SEC);
    char buf[sizeof data];
    ck_assert_int_eq(ts_recv(a, ca, buf, sizeof buf), (ssize_t)sizeof data);
    h_free(h);
}

START_TEST(fast_retransmit_low_isn)
{
    fast_retransmit_with_isn("268435456"); /* 0x10000000 */
}
END_TEST

START_TEST(fast_retransmit_high_isn)
{
    fast_retransmit_with_isn("2415919104"); /* 0x90000000 */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pd_regress_recover");
    TCase *tc = tcase_create("recover");
    tcase_add_test(tc, fast_retransmit_low_isn);
    tcase_add_test(tc, fast_retransmit_high_isn);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
