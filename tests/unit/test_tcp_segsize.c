/* test_tcp_segsize.c: a data segment's payload and options together fit the peer's MSS
 * (RFC 6691, RFC 9293 3.7.1). While the receive side holds out-of-order data, its ACKs
 * carry SACK blocks; riding on a full-sized data segment those blocks would push the
 * packet past the 1500-byte path MTU (1448 + 12 TS + 28 SACK + 40 = 1528 bytes), so they
 * are left out of full segments and go on the pure ACKs. */
#include <check.h>
#include <string.h>

#include "harness.h"

#define PORT 5001

static bool drop_some_b_data(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h;
    return from == H_B && p->plen && idx % 7 == 3; /* B's data: some lost, so A holds OOO */
}

START_TEST(full_segments_fit_the_mtu_while_sacking)
{
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.delay = 2 * TS_MSEC, .port = PORT, .wait = 100 * TS_MSEC});
    harness *h = x.h;
    h_app *a = &x.ca, *b = &x.sb;
    ck_assert_int_ge(b->sd, 0);
    h->drop = drop_some_b_data;
    a->tx_total = b->tx_total = 300000; /* both directions at once */
    h_app_push(a);
    h_app_push(b);
    h_run_until(h, 30 * TS_SEC);
    size_t full = 0, sack_on_pure = 0;
    for (size_t i = 0; i < h_nlog(h); i++) {
        const h_pkt *p = &h->log[i];
        if (p->from != H_A) continue;
        ck_assert_uint_le(p->len, 1500); /* never past the MTU */
        if (p->plen == 1448) full++;
        if (!p->plen && strstr(p->line, "sack")) sack_on_pure++;
    }
    ck_assert_uint_gt(full, 100);
    ck_assert_uint_gt(sack_on_pure, 0); /* the holes were still reported */
    ck_assert_uint_eq(b->rx_len, 300000);
    ck_assert_uint_eq(a->rx_len, 300000);
    h_conn_free(&x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("segsize");
    TCase *tc = tcase_create("segsize");
    tcase_add_test(tc, full_segments_fit_the_mtu_while_sacking);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
