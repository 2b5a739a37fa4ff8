/* test_tcp_keepalive.c: keepalive (RFC 9293 3.8.4, RFC 1122 4.2.3.6) with Linux's numbers:
 * the first probe after 7200 s idle, then every 75 s; after 9 unanswered probes the
 * connection is reset with ETIMEDOUT, 7875 s after the peer was last heard from. */
#include <check.h>
#include <errno.h>
#include <stdio.h>

#include "harness.h"

#define D (1 * TS_MSEC) /* one-way delay */

static bool drop_b_after_handshake(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)p;
    (void)idx;
    return from == H_B && h->now > 1 * TS_SEC;
}

static harness *setup(h_conn *x, bool silent_peer)
{
    ts_params pa;
    ts_params_default(&pa);
    char err[128];
    ck_assert_int_eq(ts_params_set(&pa, "keepalive", "on", err, sizeof err), 0);
    h_conn_open(x, &(h_conn_opts){.pa = &pa, .delay = D, .port = 23, .lport = 40000});
    if (silent_peer) x->h->drop = drop_b_after_handshake;
    return x->h;
}

/* Keepalive probes: A's ACK-flagged segments with seq = SND.UNA - 1 after the handshake. */
static size_t probes(const harness *h, ts_time_t *at, size_t max)
{
    size_t n = 0;
    uint32_t una = h->log[0].seq + 1;
    for (size_t i = 1; i < h->nlog; i++) {
        const h_pkt *p = &h->log[i];
        if (p->from == H_A && p->flags == TS_TH_ACK && p->seq == una - 1 && p->plen == 0) {
            if (n < max) at[n] = p->t;
            n++;
        }
    }
    return n;
}

START_TEST(keepalive_gives_up_after_nine_probes)
{
    h_conn x;
    harness *h = setup(&x, true);
    /* A last heard from B at 2 ms: the SYN-ACK */
    const ts_time_t heard = 2 * D, give_up = heard + 7875 * TS_SEC;
    h_run_until(h, give_up - 1);
    ck_assert_int_eq(x.ca.err, 0);
    ts_time_t at[16];
    ck_assert_uint_eq(probes(h, at, 16), 9);
    for (int i = 0; i < 9; i++)
        ck_assert_uint_eq(at[i], heard + (7200 + 75 * (uint64_t)i) * TS_SEC);
    h_run_until(h, give_up);
    ck_assert_int_eq(x.ca.err, -ETIMEDOUT);
    ck_assert_uint_eq(h->log[h->nlog - 1].flags, TS_TH_RST | TS_TH_ACK);
    ck_assert_uint_eq(h->log[h->nlog - 1].t, give_up);
    h_conn_free(&x);
}
END_TEST

START_TEST(keepalive_answered_restarts_idle)
{
    h_conn x;
    harness *h = setup(&x, false);
    h_run_until(h, 15000 * TS_SEC);
    ts_time_t at[4];
    ck_assert_uint_eq(probes(h, at, 4), 2);
    ck_assert_uint_eq(at[0], 2 * D + 7200 * TS_SEC);
    ck_assert_uint_eq(at[1], at[0] + 2 * D + 7200 * TS_SEC); /* idle from B's answer */
    ck_assert_int_eq(x.ca.err, 0);
    h_conn_free(&x);
}
END_TEST

START_TEST(keepalive_off_by_default)
{
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.delay = D, .port = 23, .lport = 40000});
    harness *h = x.h;
    h_run_until(h, 20000 * TS_SEC);
    ck_assert_uint_eq(h_nlog(h), 3);
    h_conn_free(&x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("keepalive");
    TCase *tc = tcase_create("keepalive");
    tcase_add_test(tc, keepalive_gives_up_after_nine_probes);
    tcase_add_test(tc, keepalive_answered_restarts_idle);
    tcase_add_test(tc, keepalive_off_by_default);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
