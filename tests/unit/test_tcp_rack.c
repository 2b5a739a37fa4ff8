/* test_tcp_rack.c: lost retransmissions in SACK recovery (RACK, RFC 8985 6.2). A hole's
 * retransmission is lost when data sent after it (a later retransmission, or new data)
 * is delivered first; the sender then resends it at once instead of waiting for the RTO.
 * Two stacks, 10 ms one way, exact virtual times. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define PORT 9200
#define MSS  1448 /* 1460 less the timestamp option */
#define D    (10 * TS_MSEC)

/* Drops A's data segments (numbered from 0 by sequence) on chosen transmissions: the
 * first of each in `first`, the second of `second` (its first retransmission). */
typedef struct plan {
    uint32_t base;
    const int *first;
    int nfirst;
    int second;
    uint8_t sent[64];
} plan;

static bool plan_drop(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)idx;
    plan *pl = h->user;
    if (from != H_A || p->plen == 0 || !pl) return false;
    uint32_t n = (p->seq - pl->base) / MSS;
    if (n >= sizeof pl->sent) return false;
    unsigned k = ++pl->sent[n];
    if (k == 2) return (int)n == pl->second;
    for (int i = 0; i < pl->nfirst && k == 1; i++)
        if ((uint32_t)pl->first[i] == n) return true;
    return false;
}

typedef struct xfer {
    harness *h;
    h_app ca, sb;
    plan pl;
    ts_time_t t0;
} xfer;

static void xfer_start(xfer *x, size_t total, const int *first, int nfirst, int second)
{
    memset(&x->pl, 0, sizeof x->pl);
    x->pl.first = first;
    x->pl.nfirst = nfirst;
    x->pl.second = second;
    x->h = h_new(NULL, NULL);
    x->h->delay = D;
    x->h->verbose = getenv("H_VERBOSE") != NULL;
    x->pl.base = h_open_pair(x->h, &x->ca, &x->sb, PORT, MSS);
    x->h->user = &x->pl;
    x->h->drop = plan_drop;
    x->t0 = x->h->now;
    h_app_send_all(&x->ca, total);
}

static void xfer_free(xfer *x)
{
    h_app_free(&x->ca);
    h_app_free(&x->sb);
    h_free(x->h);
}

/* When B first ACKed all `total` bytes, or NEVER. */
static ts_time_t all_acked_at(const xfer *x, size_t total)
{
    for (size_t i = 0; i < h_nlog(x->h); i++) {
        const h_pkt *p = &x->h->log[i];
        if (p->from == H_B && (int32_t)(p->ack - (x->pl.base + (uint32_t)total)) >= 0) return p->t;
    }
    return TS_TIME_NEVER;
}

/* Segments 1 and 4 of 10 lost, and the retransmission of 1 too. Recovery resends 1 then
 * 4 at t0 + 2D; the SACK of 4's retransmission is back at t0 + 4D, one round trip later,
 * and shows that 1's retransmission, sent before it, is lost: 1 goes out a third time
 * then (the reordering window is 0 in recovery, RFC 8985 6.2 step 4), not at the RTO. */
START_TEST(later_retransmission_sacked)
{
    static const int first[] = {1, 4};
    xfer x;
    xfer_start(&x, 10 * MSS, first, 2, 1);
    h_run_until(x.h, x.t0 + 5 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 10 * MSS);
    ck_assert_uint_eq(h_app_check(&x.sb), 10 * MSS);
    uint32_t b = x.pl.base;
    ck_assert_uint_eq(h_sent_at(x.h, b + 1 * MSS, 2), x.t0 + 2 * D);
    ck_assert_uint_eq(h_sent_at(x.h, b + 4 * MSS, 2), x.t0 + 2 * D);
    ck_assert_uint_eq(h_sent_at(x.h, b + 1 * MSS, 3), x.t0 + 4 * D);
    ck_assert_uint_eq(h_sent_at(x.h, b + 1 * MSS, 4), TS_TIME_NEVER);
    ck_assert_uint_eq(h_sent_at(x.h, b + 4 * MSS, 3), TS_TIME_NEVER);
    ck_assert_uint_eq(all_acked_at(&x, 10 * MSS), x.t0 + 5 * D);
    const ts_counters *c = ts_stack_counters(x.h->st[H_A]);
    ck_assert_uint_eq(c->tcp_fast_retransmits, 1); /* one recovery episode */
    ck_assert_uint_eq(c->tcp_retransmits, 3);
    ck_assert_uint_eq(c->tcp_rto_timeouts, 0);
    xfer_free(&x);
}
END_TEST

/* One hole (segment 1 of 20) whose retransmission is lost too: PRR sends new data after
 * the retransmission at t0 + 2D; its SACKs are back at t0 + 4D and show the
 * retransmission lost (data sent after it delivered), so it goes out again then. */
START_TEST(later_new_data_sacked)
{
    static const int first[] = {1};
    xfer x;
    xfer_start(&x, 20 * MSS, first, 1, 1);
    h_run_until(x.h, x.t0 + 5 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 20 * MSS);
    ck_assert_uint_eq(h_app_check(&x.sb), 20 * MSS);
    uint32_t b = x.pl.base;
    ck_assert_uint_eq(h_sent_at(x.h, b + 1 * MSS, 2), x.t0 + 2 * D);
    ck_assert_uint_eq(h_sent_at(x.h, b + 10 * MSS, 1), x.t0 + 2 * D); /* new, after it */
    ck_assert_uint_eq(h_sent_at(x.h, b + 1 * MSS, 3), x.t0 + 4 * D);
    ck_assert_uint_eq(h_sent_at(x.h, b + 1 * MSS, 4), TS_TIME_NEVER);
    const ts_counters *c = ts_stack_counters(x.h->st[H_A]);
    ck_assert_uint_eq(c->tcp_fast_retransmits, 1);
    ck_assert_uint_eq(c->tcp_retransmits, 2);
    ck_assert_uint_eq(c->tcp_rto_timeouts, 0);
    xfer_free(&x);
}
END_TEST

/* Without the second loss nothing changes: each hole goes out once. */
START_TEST(delivered_retransmission_not_resent)
{
    static const int first[] = {1, 4};
    xfer x;
    xfer_start(&x, 10 * MSS, first, 2, -1);
    h_run_until(x.h, x.t0 + 5 * TS_SEC);
    ck_assert_uint_eq(h_app_check(&x.sb), 10 * MSS);
    uint32_t b = x.pl.base;
    ck_assert_uint_eq(h_sent_at(x.h, b + 1 * MSS, 3), TS_TIME_NEVER);
    ck_assert_uint_eq(h_sent_at(x.h, b + 4 * MSS, 3), TS_TIME_NEVER);
    ck_assert_uint_eq(all_acked_at(&x, 10 * MSS), x.t0 + 3 * D);
    const ts_counters *c = ts_stack_counters(x.h->st[H_A]);
    ck_assert_uint_eq(c->tcp_retransmits, 2);
    ck_assert_uint_eq(c->tcp_rto_timeouts, 0);
    xfer_free(&x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rack");
    TCase *tc = tcase_create("lost_retransmission");
    tcase_add_test(tc, later_retransmission_sacked);
    tcase_add_test(tc, later_new_data_sacked);
    tcase_add_test(tc, delivered_retransmission_not_resent);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
