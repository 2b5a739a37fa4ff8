/* test_pd_regress_recover.c: NewReno's "recover" starts at the ISS (RFC 6582 3.2). It used
 * to start at 0, so with an ISS in the upper half of the sequence space SND.UNA never
 * compared >= recover and three dupACKs never triggered fast retransmit: packetdrill's
 * fast_retransmit/fr-4pkt.pkt passed or failed with the ISN. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "harness.h"

#define PORT 7001

static void fast_retransmit_with_isn(const char *isn)
{
    ts_params pb;
    char err[160];
    ts_params_default(&pb);
    ck_assert_int_eq(ts_params_set(&pb, "isn", isn, err, sizeof err), 0);
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.pb = &pb, .delay = 50 * TS_MSEC, .port = PORT});
    x.ca.auto_read = false; /* A reads the data itself, at the end */
    harness *h = x.h;
    ts_stack *a = h->st[H_A], *b = h->st[H_B];
    int ca = x.ca.sd, cb = x.sb.sd;
    ck_assert_int_ge(cb, 0);
    static char data[4 * 1448];
    memset(data, 'x', sizeof data);
    /* B's first data segment is lost */
    h_conn_drop(&x, &(h_drop_plan){.from = H_B, .segs = (const int[]){0}, .nsegs = 1});
    ck_assert_int_eq(ts_send(b, cb, data, sizeof data), (ssize_t)sizeof data);
    ts_time_t t0 = h->now;
    /* Three dupACKs come back one RTT later; the fast retransmit answers them at once,
     * long before the RTO (>= 1 s here, since the handshake gave a 100 ms sample + 200). */
    h_run_until(h, t0 + 150 * TS_MSEC);
    ck_assert(x.pl.drops);
    ck_assert_uint_eq(ts_stack_counters(b)->tcp_fast_retransmits, 1);
    ck_assert_uint_eq(ts_stack_counters(b)->tcp_rto_timeouts, 0);
    h_run_until(h, t0 + 2 * TS_SEC);
    char buf[sizeof data];
    ck_assert_int_eq(ts_recv(a, ca, buf, sizeof buf), (ssize_t)sizeof data);
    h_conn_free(&x);
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
