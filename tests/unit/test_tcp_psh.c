/* test_tcp_psh.c: where PSH goes, limited transmit (RFC 3042) and the RST's timestamp,
 * as Linux does them in packetdrill's limited_transmit/ and ts_recent/reset_tsval scripts:
 * PSH on the segment that ends (or crosses) the end of a write, and on the last segment a
 * slow-start burst lets out; none on single segments sent on a dupACK. */
#include <check.h>
#include <string.h>

#include "peer.h"
#include "harness.h"

#define PORT 7100
#define MS   TS_MSEC

static char big[20000];

/* packetdrill limited_transmit/limited-transmit-{sack,no-sack}.pkt, segment by segment. */
static void limited_transmit_run(bool sack)
{
    harness *h = h_new(NULL, NULL);
    peer pe;
    peer_open(&pe, h, PORT, sack, false, 100 * MS, 320);
    ts_time_t t0 = h->now;
    size_t n = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, big, 15000), 15000);
    ck_assert_uint_eq(peer_out(&pe, n), 10); /* IW10 of 1000-byte segments */
    for (uint32_t i = 0; i < 10; i++)
        peer_expect(&pe, n + i, 1 + 1000 * i, 1001 + 1000 * i, i == 9 ? 0x18 : 0x10, t0);
    uint32_t s1[2] = {1001, 2001}, s2[2] = {1001, 3001};
    h_run_until(h, t0 + 110 * MS);
    n = h_nlog(h);
    peer_send(&pe, 1, 1, 0x10, 320, s1, sack, 0); /* first dupACK: one new segment */
    ck_assert_uint_eq(peer_out(&pe, n), 1);
    peer_expect(&pe, n, 10001, 11001, 0x10, t0 + 110 * MS);
    h_run_until(h, t0 + 120 * MS);
    peer_send(&pe, 1, 1, 0x10, 320, s2, sack, 0); /* second dupACK: one more */
    ck_assert_uint_eq(peer_out(&pe, n), 2);
    peer_expect(&pe, n + 1, 11001, 12001, 0x10, t0 + 120 * MS);
    h_run_until(h, t0 + 130 * MS);
    peer_send(&pe, 1, 3001, 0x10, 320, NULL, 0, 0); /* reordering: cwnd 11, 9 in flight */
    ck_assert_uint_eq(peer_out(&pe, n), 4);
    peer_expect(&pe, n + 2, 12001, 13001, 0x10, t0 + 130 * MS);
    peer_expect(&pe, n + 3, 13001, 14001, 0x18, t0 + 130 * MS); /* burst end: PSH */
    h_run_until(h, t0 + 150 * MS);
    peer_send(&pe, 1, 5001, 0x10, 320, NULL, 0, 0);
    ck_assert_uint_eq(peer_out(&pe, n), 5);
    peer_expect(&pe, n + 4, 14001, 15001, 0x18, t0 + 150 * MS); /* end of the write */
    ck_assert_uint_eq(ts_stack_counters(h->st[H_B])->tcp_fast_retransmits, 0);
    h_free(h);
}

START_TEST(limited_transmit_sack)
{
    limited_transmit_run(true);
}
END_TEST

START_TEST(limited_transmit_no_sack)
{
    limited_transmit_run(false);
}
END_TEST

START_TEST(limited_transmit_off)
{
    ts_params pb;
    char err[128];
    ts_params_default(&pb);
    ck_assert_int_eq(ts_params_set(&pb, "limited_transmit", "off", err, sizeof err), 0);
    harness *h = h_new(NULL, &pb);
    peer pe;
    peer_open(&pe, h, PORT, false, false, 100 * MS, 320);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, big, 15000), 15000);
    h_run_until(h, h->now + 110 * MS);
    size_t n = h_nlog(h);
    peer_send(&pe, 1, 1, 0x10, 320, NULL, 0, 0);
    peer_send(&pe, 1, 1, 0x10, 320, NULL, 0, 0);
    ck_assert_uint_eq(peer_out(&pe, n), 0); /* cwnd is full and stays so */
    h_free(h);
}
END_TEST

/* Two writes queued behind a full window: the segment that crosses the first write's end
 * carries PSH, and so does the one ending the second. */
START_TEST(psh_marks_end_of_each_write)
{
    harness *h = h_new(NULL, NULL);
    peer pe;
    peer_open(&pe, h, PORT, true, false, 100 * MS, 320);
    ts_stack *b = h->st[H_B];
    ck_assert_int_eq(ts_send(b, pe.sd, big, 10000), 10000); /* fills IW10 */
    ck_assert_int_eq(ts_send(b, pe.sd, big, 1500), 1500);   /* queued: ends at 11501 */
    ck_assert_int_eq(ts_send(b, pe.sd, big, 1500), 1500);   /* ends at 13001 */
    h_run_until(h, h->now + 100 * MS);
    ts_time_t t = h->now;
    size_t n = h_nlog(h);
    peer_send(&pe, 1, 10001, 0x10, 320, NULL, 0, 0); /* all ACKed: cwnd 20 */
    ck_assert_uint_eq(peer_out(&pe, n), 3);
    peer_expect(&pe, n, 10001, 11001, 0x10, t);
    peer_expect(&pe, n + 1, 11001, 12001, 0x18, t); /* crosses 11501 */
    peer_expect(&pe, n + 2, 12001, 13001, 0x18, t);
    h_free(h);
}
END_TEST

/* packetdrill ts_recent/reset_tsval.pkt: the RST of a connection with timestamps carries
 * nop,nop,TS (TSval of now, TSecr = TS.Recent), as Linux sends it. */
START_TEST(rst_carries_timestamp)
{
    harness *h = h_new(NULL, NULL);
    peer pe;
    peer_open(&pe, h, PORT, true, true, 100 * MS, 20000);
    pe.tsval = 201;
    peer_send(&pe, 1, 1, 0x10, 20000, NULL, 0, 1000); /* unread data: close() resets */
    h_run_until(h, h->now + TS_SEC);
    size_t n = h_nlog(h);
    ck_assert_int_eq(ts_close(h->st[H_B], pe.sd), 0);
    ck_assert_uint_eq(peer_out(&pe, n), 1);
    const h_pkt *r = &h->log[n];
    ck_assert_uint_eq(r->flags, 0x14);
    ck_assert_uint_eq(r->len, 20 + 20 + 12);
    ck_assert_ptr_nonnull(strstr(r->line, "ecr 201]"));
    h_free(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tcp_psh");
    TCase *tc = tcase_create("psh");
    tcase_add_test(tc, limited_transmit_sack);
    tcase_add_test(tc, limited_transmit_no_sack);
    tcase_add_test(tc, limited_transmit_off);
    tcase_add_test(tc, psh_marks_end_of_each_write);
    tcase_add_test(tc, rst_carries_timestamp);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
