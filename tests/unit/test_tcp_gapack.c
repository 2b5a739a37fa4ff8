/* test_tcp_gapack.c: RFC 5681 4.2: "an immediate ACK SHOULD be generated when a segment
 * arrives that fills in all or part of a gap in the sequence space" (issue 11 item 6).
 * A scripted peer sends to a tcpsim receiver with quick-ACKs off, so only that rule (and
 * the out-of-order rule) can make an ACK leave before the 40 ms delayed-ACK timer: each
 * ACK must leave at the virtual microsecond its segment arrives. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "peer.h"

#define PORT 7100
#define RTT  (10 * TS_MSEC)

static harness *gap_open(peer *pe)
{
    ts_params pb;
    ts_params_default(&pb);
    pb.quickack = false;
    harness *h = h_new(NULL, &pb);
    peer_open(pe, h, PORT, true, true, RTT, 1000);
    h_run_until(h, h->now + 100 * TS_MSEC);
    return h;
}

/* The peer sends [seq, seq+len); B's packets since then: exactly one, a pure ACK of `ack`
 * sent at this very instant. */
static void send_expect_ack_now(peer *pe, uint32_t seq, uint32_t len, uint32_t ack)
{
    harness *h = pe->h;
    size_t n0 = h_nlog(h);
    ts_time_t t = h->now;
    pe->tsval += 1;
    peer_send(pe, seq, 1, TS_TH_ACK, 1000, NULL, 0, len);
    ck_assert_msg(peer_out(pe, n0) == 1, "[%u, %u) drew %zu packets at once, want its ACK", seq,
                  seq + len, peer_out(pe, n0));
    peer_expect(pe, n0, 1, 1, TS_TH_ACK, t);
    ck_assert_uint_eq(h->log[n0].ack, ack);
}

/* Segments at 1 (in order, ACKed by the timer), then 2001 and 3001 out of order. */
static void make_gap(peer *pe)
{
    harness *h = pe->h;
    size_t n0 = h_nlog(h);
    ts_time_t t = h->now;
    pe->tsval += 1;
    peer_send(pe, 1, 1, TS_TH_ACK, 1000, NULL, 0, 1000);
    ck_assert_uint_eq(peer_out(pe, n0), 0); /* a lone small segment: the delayed ACK */
    h_run_until(h, t + 100 * TS_MSEC);
    ck_assert_uint_eq(peer_out(pe, n0), 1);
    peer_expect(pe, n0, 1, 1, TS_TH_ACK, t + 40 * TS_MSEC);
    send_expect_ack_now(pe, 2001, 1000, 1001); /* out of order: a duplicate ACK at once */
    send_expect_ack_now(pe, 3001, 500, 1001);
}

START_TEST(segment_filling_part_of_the_gap_is_acked_at_once)
{
    peer pe;
    harness *h = gap_open(&pe);
    make_gap(&pe);
    /* the gap is [1001, 2001): its first half arrives, in order; data is held beyond it */
    send_expect_ack_now(&pe, 1001, 500, 1501);
    /* and the rest: the gap is closed, everything up to 3501 ACKed */
    send_expect_ack_now(&pe, 1501, 500, 3501);
    h_free(h);
}
END_TEST

START_TEST(segment_filling_the_gap_is_acked_at_once)
{
    peer pe;
    harness *h = gap_open(&pe);
    make_gap(&pe);
    send_expect_ack_now(&pe, 1001, 1000, 3501);
    /* in order again with nothing held: back to the delayed ACK (its ATO has adapted to
     * the arrivals, so only its bounds are checked here: test_tcp_delack.c pins it) */
    size_t n0 = h_nlog(h);
    ts_time_t t = h->now;
    peer_send(&pe, 3501, 1, TS_TH_ACK, 1000, NULL, 0, 100);
    ck_assert_uint_eq(peer_out(&pe, n0), 0);
    h_run_until(h, t + 200 * TS_MSEC);
    ck_assert_uint_eq(peer_out(&pe, n0), 1);
    ck_assert_uint_ge(h->log[n0].t, t + 40 * TS_MSEC);
    ck_assert_uint_eq(h->log[n0].ack, 3601);
    h_free(h);
}
END_TEST

START_TEST(segment_filling_a_later_gap_is_acked_at_once)
{
    /* holes at [1001, 2001) and [2501, 3001): a segment between them, above the first */
    peer pe;
    harness *h = gap_open(&pe);
    make_gap(&pe);
    send_expect_ack_now(&pe, 2001, 1000, 1001); /* a duplicate of held data */
    send_expect_ack_now(&pe, 4001, 500, 1001);
    send_expect_ack_now(&pe, 3501, 500, 1001); /* fills [3501, 4001) */
    send_expect_ack_now(&pe, 1001, 1000, 4501);
    h_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tcp_gapack");
    TCase *tc = tcase_create("rfc5681_4_2");
    tcase_add_test(tc, segment_filling_part_of_the_gap_is_acked_at_once);
    tcase_add_test(tc, segment_filling_the_gap_is_acked_at_once);
    tcase_add_test(tc, segment_filling_a_later_gap_is_acked_at_once);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
