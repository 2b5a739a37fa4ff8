/* test_tcp_dsack.c: D-SACK generation by the receiver (RFC 2883). Side B receives; a
 * scripted peer (peer.h, MSS 1000, SACK on, no timestamps so that four blocks fit) plays
 * the sender of RFC 2883's examples with their own sequence numbers, and every ACK B sends
 * is checked block by block: the D-SACK block first, then the SACK blocks in RFC 2018's
 * order, in that one ACK only, sent at the duplicate's arrival (virtual time, to the us).
 * Then no D-SACK when dsack=off or SACK is off, and two real stacks whose ACKs are lost:
 * the RTO's retransmission draws the D-SACK. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "peer.h"
#include "harness.h"

#define PORT 9200
#define WIN  320 /* << 7: 40 KB, plenty for these few segments */

static ts_params with(const char *name, const char *value)
{
    ts_params p;
    char err[160];
    ts_params_default(&p);
    ck_assert_msg(ts_params_set(&p, name, value, err, sizeof err) == 0, "%s", err);
    return p;
}

/* B's segment at log index i, with its SACK blocks (absolute sequence numbers: the peer's
 * ISN is 0, so they are RFC 2883's numbers). */
static void parse_sack(const h_pkt *p, ts_tcp_opts *o)
{
    ts_ip4_view ip;
    ts_tcp_view th;
    ck_assert_int_eq(ts_ip4_view_parse(&ip, p->data, p->len), TS_WIRE_OK);
    ck_assert_int_eq(ts_tcp_view_parse(&th, ip.payload, ip.payload_len), TS_WIRE_OK);
    memset(o, 0, sizeof *o);
    ck_assert_int_eq(ts_tcp_view_opts(&th, o), TS_WIRE_OK);
}

/* Exactly one segment from B since log index `from`, sent now: a pure ACK of `ack` whose
 * SACK option holds the n blocks given as start, end pairs (n = 0: no SACK option). */
static void expect_ack(const peer *pe, size_t from, uint32_t ack, int n, ...)
{
    const harness *h = pe->h;
    ck_assert_msg(peer_out(pe, from) == 1, "%zu segments from B, want 1", peer_out(pe, from));
    peer_expect(pe, from, 1, 1, TS_TH_ACK, h->now);
    const h_pkt *p = &h->log[from];
    ck_assert_msg(p->ack == ack, "ack %u, want %u: %s", p->ack, ack, p->line);
    ts_tcp_opts o;
    parse_sack(p, &o);
    ck_assert_msg(o.nsack == n, "%d SACK blocks, want %d: %s", o.nsack, n, p->line);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        uint32_t s = va_arg(ap, uint32_t), e = va_arg(ap, uint32_t);
        ck_assert_msg(o.sack[i].start == s && o.sack[i].end == e,
                      "block %d is %u-%u, want %u-%u: %s", i, o.sack[i].start, o.sack[i].end, s, e,
                      p->line);
    }
    va_end(ap);
}

/* A data segment [seq, end) from the peer, 1 ms after the last one; returns B's log index
 * before it, for expect_ack. */
static size_t data(peer *pe, uint32_t seq, uint32_t end)
{
    h_run_until(pe->h, pe->h->now + TS_MSEC);
    size_t n = h_nlog(pe->h);
    if (end - seq <= 1400) {
        peer_send(pe, seq, 1, TS_TH_ACK, WIN, NULL, 0, end - seq);
        return n;
    }
    /* longer than peer_send's buffer (example 5's 1500 bytes): built here, no options */
    static uint8_t payload[1500], pkt[1600];
    ck_assert_uint_le(end - seq, sizeof payload);
    memset(payload, 'd', sizeof payload);
    h_seg g = {.src = H_ADDR_A,
               .dst = H_ADDR_B,
               .sport = 40000,
               .dport = pe->port,
               .seq = seq,
               .ack = pe->iss + 1,
               .flags = TS_TH_ACK,
               .win = WIN,
               .data = payload,
               .dlen = end - seq};
    h_inject(pe->h, H_B, pkt, h_build(pkt, &g));
    return n;
}

/* The connection (B the receiver) and the stream up to 3000, so that RFC 2883's
 * numbers can be used as they are (the peer's first byte is 1). */
static harness *open_at_3000(peer *pe, const ts_params *pb, bool sack)
{
    harness *h = h_new(NULL, pb);
    peer_open(pe, h, PORT, sack, false, 100 * TS_MSEC, WIN);
    data(pe, 1, 1001);
    data(pe, 1001, 2001);
    data(pe, 2001, 3000);
    h_run_until(h, h->now + 500 * TS_MSEC); /* any delayed ACK goes out */
    return h;
}

/* RFC 2883 4.1.1, Example 1: both ACKs lost, the sender retransmits 3000-3499; the
 * receiver's ACK reports it below the cumulative ACK. */
START_TEST(example1_duplicate_segment)
{
    peer pe;
    harness *h = open_at_3000(&pe, NULL, true);
    size_t n = data(&pe, 3000, 3500);
    n = data(&pe, 3500, 4000);
    h_run_until(h, h->now + 500 * TS_MSEC); /* its (delayed) ACK 4000: "ACK dropped" */
    n = data(&pe, 3000, 3500);
    expect_ack(&pe, n, 4000, 1, 3000u, 3500u);
    h_free(h);
}
END_TEST

/* RFC 2883 4.1.2, Example 2: an out-of-order segment, then a duplicate below the ACK:
 * the D-SACK block first, the SACK block after it. */
START_TEST(example2_ooo_and_duplicate)
{
    peer pe;
    harness *h = open_at_3000(&pe, NULL, true);
    data(&pe, 3000, 3500);
    data(&pe, 3500, 4000);
    h_run_until(h, h->now + 500 * TS_MSEC);
    /* 4000-4499 dropped */
    size_t n = data(&pe, 4500, 5000);
    expect_ack(&pe, n, 4000, 1, 4500u, 5000u);
    n = data(&pe, 3000, 3500);
    expect_ack(&pe, n, 4000, 2, 3000u, 3500u, 4500u, 5000u);
    h_free(h);
}
END_TEST

/* RFC 2883 4.1.3, Example 3: a duplicate of an out-of-order segment: the D-SACK block,
 * then the SACK block that contains it. */
START_TEST(example3_duplicate_of_ooo)
{
    peer pe;
    harness *h = open_at_3000(&pe, NULL, true);
    data(&pe, 3000, 3500);
    data(&pe, 3500, 4000);
    h_run_until(h, h->now + 500 * TS_MSEC);
    size_t n = data(&pe, 4500, 5000);
    expect_ack(&pe, n, 4000, 1, 4500u, 5000u);
    n = data(&pe, 5000, 5500);
    expect_ack(&pe, n, 4000, 1, 4500u, 5500u);
    n = data(&pe, 5000, 5500); /* the network duplicated it */
    expect_ack(&pe, n, 4000, 2, 5000u, 5500u, 4500u, 5500u);
    /* one ACK only: the next out-of-order segment's ACK has SACK blocks alone, the
     * newest first (RFC 2018 4) */
    n = data(&pe, 6000, 6500);
    expect_ack(&pe, n, 4000, 2, 6000u, 6500u, 4500u, 5500u);
    h_free(h);
}
END_TEST

/* RFC 2883 4.2.1, Example 4 (reordering, then a duplicate): 1000-1499 delayed, 1500-1999
 * lost; the sender resends 1000-1999 as one segment after the delayed one arrived: only
 * the duplicate half is reported, below the new cumulative ACK. */
START_TEST(example4_partial_duplicate_after_reordering)
{
    peer pe;
    harness *h = h_new(NULL, NULL);
    peer_open(&pe, h, PORT, true, false, 100 * TS_MSEC, WIN);
    data(&pe, 1, 500);
    data(&pe, 500, 1000);
    h_run_until(h, h->now + 500 * TS_MSEC);
    size_t n = data(&pe, 2000, 2500);
    expect_ack(&pe, n, 1000, 1, 2000u, 2500u);
    n = data(&pe, 1000, 1500); /* the delayed one */
    expect_ack(&pe, n, 1500, 1, 2000u, 2500u);
    n = data(&pe, 1000, 2000);
    expect_ack(&pe, n, 2500, 1, 1000u, 1500u);
    h_free(h);
}
END_TEST

/* RFC 2883 4.2.2, Example 5: one segment duplicates two ranges (one below the new ACK,
 * one that was out of order): only the first is reported, then the SACK block. */
START_TEST(example5_two_duplicates_first_reported)
{
    peer pe;
    harness *h = h_new(NULL, NULL);
    peer_open(&pe, h, PORT, true, false, 100 * TS_MSEC, WIN);
    data(&pe, 1, 500);
    data(&pe, 500, 1000);
    h_run_until(h, h->now + 500 * TS_MSEC);
    size_t n = data(&pe, 3000, 3500);
    expect_ack(&pe, n, 1000, 1, 3000u, 3500u);
    n = data(&pe, 1000, 1500);
    expect_ack(&pe, n, 1500, 1, 3000u, 3500u);
    n = data(&pe, 2000, 2500);
    expect_ack(&pe, n, 1500, 2, 2000u, 2500u, 3000u, 3500u);
    n = data(&pe, 1000, 2500);
    expect_ack(&pe, n, 2500, 2, 1000u, 1500u, 3000u, 3500u);
    h_free(h);
}
END_TEST

/* A retransmitted FIN below RCV.NXT is a duplicate too (Linux D-SACKs its sequence
 * number): CLOSE-WAIT answers it at once with the D-SACK block. */
START_TEST(duplicate_fin)
{
    peer pe;
    harness *h = open_at_3000(&pe, NULL, true);
    h_run_until(h, h->now + TS_MSEC);
    peer_send(&pe, 3000, 1, TS_TH_FIN | TS_TH_ACK, WIN, NULL, 0, 0);
    h_run_until(h, h->now + 500 * TS_MSEC);
    size_t n = h_nlog(h);
    peer_send(&pe, 3000, 1, TS_TH_FIN | TS_TH_ACK, WIN, NULL, 0, 0);
    expect_ack(&pe, n, 3001, 1, 3000u, 3001u);
    h_free(h);
}
END_TEST

/* dsack=off: the duplicates of examples 1 and 3 draw plain ACKs. */
START_TEST(off_by_parameter)
{
    peer pe;
    ts_params pb = with("dsack", "off");
    harness *h = open_at_3000(&pe, &pb, true);
    size_t n = data(&pe, 3000, 3500);
    expect_ack(&pe, n, 3500, 0);
    n = data(&pe, 3000, 3500);
    expect_ack(&pe, n, 3500, 0);
    data(&pe, 4000, 4500);
    n = data(&pe, 4000, 4500);
    expect_ack(&pe, n, 3500, 1, 4000u, 4500u);
    h_free(h);
}
END_TEST

/* SACK not negotiated: no SACK option at all, D-SACK neither. */
START_TEST(off_without_sack)
{
    peer pe;
    harness *h = open_at_3000(&pe, NULL, false);
    size_t n = data(&pe, 3000, 3500);
    expect_ack(&pe, n, 3500, 0);
    n = data(&pe, 3000, 3500);
    expect_ack(&pe, n, 3500, 0);
    data(&pe, 4000, 4500);
    n = data(&pe, 4000, 4500);
    expect_ack(&pe, n, 3500, 0);
    h_free(h);
}
END_TEST

/* Two stacks, 10 ms one way, B's ACKs of the first flight lost: A resends (the tail loss
 * probe or the RTO); B, which has the data, answers the retransmission at its arrival
 * with the cumulative ACK and the D-SACK block of exactly that segment. */
static ts_time_t drop_until;

static bool drop_b_acks(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)idx;
    return from == H_B && p->plen == 0 && h->now < drop_until;
}

START_TEST(two_stacks_retransmission_draws_dsack)
{
    const ts_time_t d = 10 * TS_MSEC;
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.delay = d, .port = PORT});
    uint32_t mss = x.mss;
    x.t0 = x.h->now; /* two segments, no FIN: the retransmission is of data */
    x.ca.tx_total = 2 * mss;
    h_app_push(&x.ca);
    drop_until = x.t0 + d + TS_MSEC; /* every ACK of the first flight */
    x.h->drop = drop_b_acks;
    h_run_until(x.h, x.t0 + 5 * TS_SEC);
    ck_assert_uint_eq(h_app_check(&x.sb), 2 * mss);
    /* A's first retransmission, whichever segment it was */
    ts_time_t r0 = h_sent_at(x.h, x.base, 2), r1 = h_sent_at(x.h, x.base + mss, 2);
    ck_assert(r0 != TS_TIME_NEVER || r1 != TS_TIME_NEVER);
    uint32_t seq = r1 < r0 ? x.base + mss : x.base;
    ts_time_t rt = r1 < r0 ? r1 : r0;
    const h_pkt *ack = NULL;
    for (size_t i = 0; i < h_nlog(x.h) && !ack; i++)
        if (x.h->log[i].from == H_B && x.h->log[i].t >= rt) ack = &x.h->log[i];
    ck_assert_msg(ack != NULL, "no ACK from B after the retransmission");
    ck_assert_uint_eq(ack->t, rt + d); /* at the duplicate's arrival */
    ck_assert_uint_eq(ack->ack, x.base + 2 * mss);
    ts_tcp_opts o;
    parse_sack(ack, &o);
    ck_assert_uint_eq(o.nsack, 1);
    ck_assert_uint_eq(o.sack[0].start, seq);
    ck_assert_uint_eq(o.sack[0].end, seq + mss);
    h_conn_free(&x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dsack");
    TCase *tc = tcase_create("rfc2883");
    tcase_add_test(tc, example1_duplicate_segment);
    tcase_add_test(tc, example2_ooo_and_duplicate);
    tcase_add_test(tc, example3_duplicate_of_ooo);
    tcase_add_test(tc, example4_partial_duplicate_after_reordering);
    tcase_add_test(tc, example5_two_duplicates_first_reported);
    tcase_add_test(tc, duplicate_fin);
    tcase_add_test(tc, off_by_parameter);
    tcase_add_test(tc, off_without_sack);
    tcase_add_test(tc, two_stacks_retransmission_draws_dsack);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
