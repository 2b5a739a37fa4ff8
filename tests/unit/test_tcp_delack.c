/* test_tcp_delack.c: when the receiver ACKs (RFC 1122 4.2.3.2, RFC 5681 4.2, Linux):
 * quick-ACK at connection start, an ACK every second full-sized segment, the 40 ms timer
 * for a lone segment, immediate ACKs for out-of-order data (with SACK) and for filling a
 * hole, delack=0, and interactive (pingpong) mode where an echo carries the ACK. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define PORT 5000
#define D    (10 * TS_MSEC)
#define MSS  1448

/* The connection (harness.h), B's parameter name=value applied. */
static void dl_open(h_conn *x, const char *b_param, const char *b_value)
{
    ts_params pb;
    ts_params_default(&pb);
    char err[128];
    if (b_param) ck_assert_int_eq(ts_params_set(&pb, b_param, b_value, err, sizeof err), 0);
    /* B's ACKs are the subject: A's tail loss probe (RFC 8985), which would draw one more
     * ACK before the RTO, is off (test_tcp_tlp.c covers it) */
    ts_params pa;
    ts_params_default(&pa);
    pa.tlp = false;
    h_conn_open(x, &(h_conn_opts){.pa = &pa, .pb = &pb, .delay = D, .port = PORT});
}

/* B's pure ACKs sent after t0: count, and their times/acks. */
static size_t b_acks(const h_conn *x, ts_time_t *t, uint32_t *ack, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < h_nlog(x->h); i++) {
        const h_pkt *p = &x->h->log[i];
        if (p->from != H_B || p->t < x->t0 || p->plen || p->flags != TS_TH_ACK) continue;
        if (n < max) {
            t[n] = p->t;
            ack[n] = p->ack;
        }
        n++;
    }
    return n;
}

static void send_segs(h_conn *x, int n)
{
    x->ca.tx_total = (size_t)n * MSS;
    h_app_push(&x->ca);
}

START_TEST(quickack_at_start_every_segment)
{
    h_conn x;
    dl_open(&x, NULL, NULL);
    send_segs(&x, 10); /* the initial window */
    h_run_until(x.h, x.t0 + 1 * TS_SEC);
    ts_time_t t[32];
    uint32_t a[32];
    /* Linux quick-ACK: min(16, max(2, rcv_wnd / (2 * rcv_mss))) segments ACKed at once */
    size_t n = b_acks(&x, t, a, 32);
    ck_assert_uint_eq(n, 10);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(t[i], x.t0 + D);
        ck_assert_uint_eq(a[i], x.base + (uint32_t)(i + 1) * MSS);
    }
    h_conn_free(&x);
}
END_TEST

START_TEST(ack_every_second_full_segment)
{
    h_conn x;
    dl_open(&x, "quickack", "off");
    send_segs(&x, 10);
    h_run_until(x.h, x.t0 + 15 * TS_MSEC);
    ts_time_t t[32];
    uint32_t a[32];
    size_t n = b_acks(&x, t, a, 32);
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(t[i], x.t0 + D);
        ck_assert_uint_eq(a[i], x.base + (uint32_t)(2 * i + 2) * MSS);
    }
    h_conn_free(&x);
}
END_TEST

START_TEST(lone_segment_delayed_40ms)
{
    h_conn x;
    dl_open(&x, "quickack", "off");
    ck_assert_int_eq(ts_send(x.h->st[H_A], x.ca.sd, "lonely", 6), 6);
    h_run_until(x.h, x.t0 + 1 * TS_SEC);
    ts_time_t t[4];
    uint32_t a[4];
    ck_assert_uint_eq(b_acks(&x, t, a, 4), 1);
    ck_assert_uint_eq(t[0], x.t0 + D + 40 * TS_MSEC);
    ck_assert_uint_eq(a[0], x.base + 6);
    ck_assert_uint_eq(ts_stack_counters(x.h->st[H_B])->tcp_delayed_acks, 1);
    h_conn_free(&x);
}
END_TEST

START_TEST(lone_segment_quickacked_at_start)
{
    h_conn x;
    dl_open(&x, NULL, NULL);
    ck_assert_int_eq(ts_send(x.h->st[H_A], x.ca.sd, "lonely", 6), 6);
    h_run_until(x.h, x.t0 + 1 * TS_SEC);
    ts_time_t t[4];
    uint32_t a[4];
    ck_assert_uint_eq(b_acks(&x, t, a, 4), 1);
    ck_assert_uint_eq(t[0], x.t0 + D);
    h_conn_free(&x);
}
END_TEST

START_TEST(out_of_order_and_hole_fill_acked_at_once)
{
    h_conn x;
    dl_open(&x, "quickack", "off");
    h_conn_drop(&x, &(h_drop_plan){.segs = (const int[]){1}, .nsegs = 1});
    send_segs(&x, 3);
    x.h->verbose = getenv("H_VERBOSE") != NULL;
    h_run_until(x.h, x.t0 + 2 * TS_SEC);
    ts_time_t t[8];
    uint32_t a[8];
    size_t n = b_acks(&x, t, a, 8);
    /* segment 0 waits (one full segment), segment 2 is out of order: an immediate dupACK
     * with a SACK block, which also covers segment 0; the retransmitted segment 1 fills
     * the hole: ACKed at once. The sender resends it when its reordering timer fires
     * (RFC 8985: min_RTT/4 = 5 ms, plus 2 ms) after that SACK arrives at t0 + 2D; before
     * SACK recovery it waited for the 220 ms RTO, which this test used to encode. */
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(t[0], x.t0 + D);
    ck_assert_uint_eq(a[0], x.base + MSS);
    ck_assert_uint_eq(t[1], x.t0 + 2 * D + 7 * TS_MSEC + D);
    ck_assert_uint_eq(a[1], x.base + 3 * MSS);
    for (size_t i = 0; i < h_nlog(x.h); i++)
        if (x.h->log[i].from == H_B && x.h->log[i].t == x.t0 + D) {
            char want[64];
            snprintf(want, sizeof want, "sack 1 {%u:%u}", x.base + 2 * MSS, x.base + 3 * MSS);
            ck_assert_ptr_nonnull(strstr(x.h->log[i].line, want));
        }
    ck_assert_uint_eq(x.sb.rx_len, 3 * MSS);
    h_conn_free(&x);
}
END_TEST

START_TEST(delack_zero_acks_everything_at_once)
{
    h_conn x;
    dl_open(&x, "delack", "0");
    ck_assert_int_eq(ts_send(x.h->st[H_A], x.ca.sd, "a", 1), 1);
    h_run_until(x.h, x.t0 + 500 * TS_MSEC);
    ts_time_t t1 = x.h->now;
    send_segs(&x, 10);
    h_run_until(x.h, t1 + 15 * TS_MSEC);
    ts_time_t t[32];
    uint32_t a[32];
    size_t n = b_acks(&x, t, a, 32);
    ck_assert_uint_eq(n, 11);
    ck_assert_uint_eq(t[0], x.t0 + D);
    for (size_t i = 1; i < n; i++) ck_assert_uint_eq(t[i], t1 + D);
    ck_assert_uint_eq(ts_stack_counters(x.h->st[H_B])->tcp_delayed_acks, 0);
    h_conn_free(&x);
}
END_TEST

/* B echoes what it reads. */
static void echo_cb(ts_stack *s, int sd, unsigned ev, void *ctx)
{
    (void)ctx;
    if (!(ev & TS_SOCK_READABLE)) return;
    char buf[256];
    ssize_t n;
    while ((n = ts_recv(s, sd, buf, sizeof buf)) > 0) ts_send(s, sd, buf, (size_t)n);
}

START_TEST(pingpong_echo_carries_ack)
{
    h_conn x;
    dl_open(&x, NULL, NULL);
    ts_sock_set_callback(x.h->st[H_B], x.sb.sd, echo_cb, NULL);
    /* first keystroke: quick-ACK mode ACKs at once, then the echo follows; sending data
     * so soon after receiving makes B interactive (pingpong) */
    ck_assert_int_eq(ts_send(x.h->st[H_A], x.ca.sd, "l", 1), 1);
    h_run_until(x.h, x.t0 + 1 * TS_SEC);
    ts_tcp_info bi;
    ts_sock_info(x.h->st[H_B], x.sb.sd, &bi);
    ck_assert(bi.pingpong);
    /* the next keystrokes: the echo is the only thing B sends, carrying the ACK */
    for (int k = 0; k < 3; k++) {
        size_t n0 = h_nlog(x.h);
        ts_time_t tk = x.h->now;
        ck_assert_int_eq(ts_send(x.h->st[H_A], x.ca.sd, "s", 1), 1);
        h_run_until(x.h, tk + 1 * TS_SEC);
        size_t from_b = 0;
        for (size_t i = n0; i < h_nlog(x.h); i++) {
            const h_pkt *p = &x.h->log[i];
            if (p->from != H_B) continue;
            from_b++;
            ck_assert_uint_eq(p->plen, 1);
            ck_assert_uint_eq(p->t, tk + D);
            ck_assert_uint_eq(p->ack, x.base + 2 + (uint32_t)k);
        }
        ck_assert_uint_eq(from_b, 1);
    }
    ck_assert_uint_eq(x.ca.rx_len, 4);
    ck_assert_int_eq(memcmp(x.ca.rx, "lsss", 4), 0);
    h_conn_free(&x);
}
END_TEST

/* A 10 MB bulk transfer A -> B with B's rcvbuf and wscale as given: B's pure ACKs and
 * A's data segments (first transmissions and any retransmissions). */
static void bulk_acks(const char *rcvbuf, const char *wscale, size_t *acks, size_t *data)
{
    ts_params pa, pb;
    ts_params_default(&pa);
    ts_params_default(&pb);
    char e[128];
    ck_assert_int_eq(ts_params_set(&pb, "rcvbuf", rcvbuf, e, sizeof e), 0);
    ck_assert_int_eq(ts_params_set(&pb, "wscale", wscale, e, sizeof e), 0);
    ck_assert_int_eq(ts_params_set(&pa, "sndbuf", "16777216", e, sizeof e), 0);
    h_conn x;
    h_bulk_open(&x, &(h_conn_opts){.pa = &pa, .pb = &pb, .delay = D, .port = PORT}, NULL, 10000000);
    h_run_until(x.h, x.t0 + 30 * TS_SEC);
    ck_assert_uint_eq(h_app_check(&x.sb), 10000000);
    *acks = *data = 0;
    for (size_t i = 0; i < h_nlog(x.h); i++) {
        const h_pkt *p = &x.h->log[i];
        if (p->t < x.t0) continue;
        if (p->from == H_B && !p->plen && p->flags == TS_TH_ACK) ++*acks;
        if (p->from == H_A && p->plen) ++*data;
    }
    h_conn_free(&x);
}

/* The receiver's ACK rate in a bulk transfer: Linux ACKs every second full-sized segment
 * (__tcp_ack_snd_check) once out of quick-ACK mode, and a read by the application sends a
 * window update only when the window it could offer (at most 65535 << shift) is at least
 * twice the one offered and that one is at most half the largest (tcp_cleanup_rbuf).
 * 10,000,000 bytes are 6,907 segments of 1448 bytes (the last 1,304 bytes). B ACKs the
 * first 16 at once (quick-ACK: min(16, 65,160 / (2 * 1448)) = 16, the SYN-ACK's window; more
 * data arrives before the quick-ACK budget would be refilled), then every second one:
 * 16 + (6,907 - 16 - 1) / 2 = 3,461, and the last short segment with A's FIN draws one more
 * ACK (the FIN is ACKed at once): 3,462 pure ACKs, none of them a window update. Before,
 * with rcvbuf above 65535 << wscale (16 MiB at wscale 7, which used to be the fixed
 * default), the window budget always looked twice the capped window: every read sent a
 * window update, an ACK per segment once rcv_ssthresh had grown (issue 12). */
START_TEST(bulk_10mb_acks_every_second_segment)
{
    static const struct {
        const char *rcvbuf, *wscale;
    } cases[] = {
        {"6291456", "auto"},  /* Linux's default: shift 7 */
        {"16777216", "auto"}, /* the shift follows the buffer: 9 */
        {"16777216", "7"},    /* set explicitly: the window capped at 65535 << 7 */
        {"1048576", "0"},     /* no scaling: 64 KB windows under a 1 MB buffer */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t acks, data;
        bulk_acks(cases[i].rcvbuf, cases[i].wscale, &acks, &data);
        ck_assert_msg(data == 6907 && acks == 3462, "rcvbuf %s wscale %s: %zu ACKs for %zu data",
                      cases[i].rcvbuf, cases[i].wscale, acks, data);
    }
}
END_TEST

/* ---- the other delayed-ACK policies (delack_fixed.c, delack_bsd.c, delack_every.c) ---- */

/* The connection with B's parameters set from NAME=VALUE strings (NULL-terminated), the
 * handshake given `wait` of virtual time (t0 = wait: the stacks' clocks start at 0). */
static void pol_open(h_conn *x, const char *const *b_sets, ts_time_t wait)
{
    ts_params pa, pb;
    ts_params_default(&pa);
    ts_params_default(&pb);
    pa.tlp = false;
    char e[128];
    for (; *b_sets; b_sets++)
        ck_assert_msg(ts_params_set_kv(&pb, *b_sets, e, sizeof e) == 0, "%s", e);
    h_conn_open(x, &(h_conn_opts){.pa = &pa, .pb = &pb, .delay = D, .port = PORT, .wait = wait});
}

/* bsd: the ACK leaves at the next tick of the host's 200 ms clock, wherever in the
 * period the data arrived; data arriving on a tick waits for the next one. */
START_TEST(bsd_ack_at_next_tick)
{
    static const struct {
        ts_time_t arrive, ack;
    } cases[] = {
        {1050 * TS_MSEC, 1200 * TS_MSEC}, /* the example */
        {1199 * TS_MSEC, 1200 * TS_MSEC}, /* 1 ms before the tick: ACKed 1 ms later */
        {1000001, 1200 * TS_MSEC},        /* 1 us after a tick: almost the whole period */
        {1200 * TS_MSEC, 1400 * TS_MSEC}, /* on the tick: that tick has run */
        {1399999, 1400 * TS_MSEC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h_conn x;
        pol_open(&x, (const char *const[]){"delack_policy=bsd", NULL}, 500 * TS_MSEC);
        h_run_until(x.h, cases[i].arrive - D);
        ts_time_t t0 = x.h->now;
        ck_assert_uint_eq(t0, cases[i].arrive - D);
        ck_assert_int_eq(ts_send(x.h->st[H_A], x.ca.sd, "k", 1), 1);
        h_run_until(x.h, 3 * TS_SEC);
        x.t0 = t0;
        ts_time_t t[4];
        uint32_t a[4];
        ck_assert_uint_eq(b_acks(&x, t, a, 4), 1);
        ck_assert_msg(t[0] == cases[i].ack, "data at %llu us: ACK at %llu, want %llu",
                      (unsigned long long)cases[i].arrive, (unsigned long long)t[0],
                      (unsigned long long)cases[i].ack);
        ck_assert_uint_eq(a[0], x.base + 1);
        ck_assert_uint_eq(ts_stack_counters(x.h->st[H_B])->tcp_delayed_acks, 1);
        h_conn_free(&x);
    }
}
END_TEST

/* bsd: the tick is the host's, not the connection's: a segment arriving while an ACK is
 * already due keeps that tick; every second full-sized segment is ACKed at once, also at
 * the start (no quick-ACK), and the period is delack_max. */
START_TEST(bsd_two_segments_at_once_and_period)
{
    h_conn x;
    pol_open(&x, (const char *const[]){"delack_policy=bsd", NULL}, 500 * TS_MSEC);
    send_segs(&x, 10); /* sent at 0.5 s, arriving at 0.51 s */
    h_run_until(x.h, x.t0 + 1 * TS_SEC);
    ts_time_t t[16];
    uint32_t a[16];
    size_t n = b_acks(&x, t, a, 16);
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(t[i], x.t0 + D);
        ck_assert_uint_eq(a[i], x.base + (uint32_t)(2 * i + 2) * MSS);
    }
    h_conn_free(&x);
    /* with delack_segs=3, a full segment and another 30 ms later wait for the same tick
     * (0.6 s). (Full-sized: A's Nagle would hold a small second one until the ACK.) */
    pol_open(&x, (const char *const[]){"delack_policy=bsd", "delack_segs=3", NULL}, 500 * TS_MSEC);
    send_segs(&x, 1);
    h_run_until(x.h, x.t0 + 30 * TS_MSEC);
    send_segs(&x, 2);
    h_run_until(x.h, x.t0 + 1 * TS_SEC);
    ck_assert_uint_eq(b_acks(&x, t, a, 16), 1);
    ck_assert_uint_eq(t[0], 600 * TS_MSEC);
    ck_assert_uint_eq(a[0], x.base + 2 * MSS);
    h_conn_free(&x);
    /* a 70 ms heartbeat (delack_max): ticks at 0.49 and 0.56 s, data at 0.51 s waits
     * until 0.56 s. (A longer one than the sender's RTO, 220 ms here, would draw a
     * retransmission first: 4.4BSD's senders had a 1 s minimum RTO.) */
    pol_open(&x, (const char *const[]){"delack_policy=bsd", "delack_max=70ms", NULL},
             500 * TS_MSEC);
    ck_assert_int_eq(ts_send(x.h->st[H_A], x.ca.sd, "k", 1), 1);
    h_run_until(x.h, x.t0 + 1 * TS_SEC);
    ck_assert_uint_eq(b_acks(&x, t, a, 16), 1);
    ck_assert_uint_eq(t[0], 560 * TS_MSEC);
    h_conn_free(&x);
}
END_TEST

/* fixed: a lone segment's ACK exactly `delack` after it arrived, from the first segment
 * on (no quick-ACK) and every time (no adaptation: Linux's ato would double after a
 * timer-sent ACK); full segments in pairs at once. */
START_TEST(fixed_plain_timer)
{
    h_conn x;
    pol_open(&x, (const char *const[]){"delack_policy=fixed", "delack=100ms", NULL}, 500 * TS_MSEC);
    ts_time_t t[16];
    uint32_t a[16];
    for (int k = 0; k < 3; k++) {
        ts_time_t tk = x.t0 + (ts_time_t)k * TS_SEC;
        h_run_until(x.h, tk);
        ck_assert_int_eq(ts_send(x.h->st[H_A], x.ca.sd, "k", 1), 1);
    }
    h_run_until(x.h, x.t0 + 4 * TS_SEC);
    ck_assert_uint_eq(b_acks(&x, t, a, 16), 3);
    for (int k = 0; k < 3; k++) {
        ck_assert_uint_eq(t[k], x.t0 + (ts_time_t)k * TS_SEC + D + 100 * TS_MSEC);
        ck_assert_uint_eq(a[k], x.base + (uint32_t)k + 1);
    }
    ck_assert_uint_eq(ts_stack_counters(x.h->st[H_B])->tcp_delayed_acks, 3);
    h_conn_free(&x);
    /* 10 segments at the start: 5 ACKs as they arrive, none at once for quick-ACK */
    pol_open(&x, (const char *const[]){"delack_policy=fixed", NULL}, 500 * TS_MSEC);
    send_segs(&x, 10);
    h_run_until(x.h, x.t0 + 1 * TS_SEC);
    size_t n = b_acks(&x, t, a, 16);
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(t[i], x.t0 + D);
        ck_assert_uint_eq(a[i], x.base + (uint32_t)(2 * i + 2) * MSS);
    }
    h_conn_free(&x);
    /* three full segments with delack_segs=3: one ACK at once; 11 segments: 3 at once,
     * the last two 40 ms later by the timer */
    pol_open(&x, (const char *const[]){"delack_policy=fixed", "delack_segs=3", NULL},
             500 * TS_MSEC);
    send_segs(&x, 11);
    h_run_until(x.h, x.t0 + 1 * TS_SEC);
    n = b_acks(&x, t, a, 16);
    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(t[i], x.t0 + D);
        ck_assert_uint_eq(a[i], x.base + (uint32_t)(3 * i + 3) * MSS);
    }
    ck_assert_uint_eq(a[3], x.base + 11 * MSS);
    h_conn_free(&x);
}
END_TEST

/* every: each segment ACKed as it arrives, whether quick-ACK is on or not; nothing waits. */
START_TEST(every_segment_at_once)
{
    h_conn x;
    pol_open(&x, (const char *const[]){"delack_policy=every", "quickack=off", NULL}, 500 * TS_MSEC);
    send_segs(&x, 10);
    h_run_until(x.h, x.t0 + 1 * TS_SEC);
    ck_assert_int_eq(ts_send(x.h->st[H_A], x.ca.sd, "k", 1), 1);
    h_run_until(x.h, x.t0 + 2 * TS_SEC);
    ts_time_t t[16];
    uint32_t a[16];
    size_t n = b_acks(&x, t, a, 16);
    ck_assert_uint_eq(n, 11);
    for (size_t i = 0; i < 10; i++) {
        ck_assert_uint_eq(t[i], x.t0 + D);
        ck_assert_uint_eq(a[i], x.base + (uint32_t)(i + 1) * MSS);
    }
    ck_assert_uint_eq(t[10], x.t0 + 1 * TS_SEC + D);
    ck_assert_uint_eq(a[10], x.base + 10 * MSS + 1);
    ck_assert_uint_eq(ts_stack_counters(x.h->st[H_B])->tcp_delayed_acks, 0);
    h_conn_free(&x);
}
END_TEST

static Suite *delack_suite(void)
{
    Suite *s = suite_create("delack");
    TCase *tc = tcase_create("delack");
    tcase_add_test(tc, quickack_at_start_every_segment);
    tcase_add_test(tc, ack_every_second_full_segment);
    tcase_add_test(tc, lone_segment_delayed_40ms);
    tcase_add_test(tc, lone_segment_quickacked_at_start);
    tcase_add_test(tc, out_of_order_and_hole_fill_acked_at_once);
    tcase_add_test(tc, delack_zero_acks_everything_at_once);
    tcase_add_test(tc, pingpong_echo_carries_ack);
    suite_add_tcase(s, tc);
    TCase *tb = tcase_create("bulk"); /* four 10 MB transfers: seconds under ASan */
    tcase_set_timeout(tb, 120);
    tcase_add_test(tb, bulk_10mb_acks_every_second_segment);
    suite_add_tcase(s, tb);
    TCase *tp = tcase_create("policies");
    tcase_add_test(tp, bsd_ack_at_next_tick);
    tcase_add_test(tp, bsd_two_segments_at_once_and_period);
    tcase_add_test(tp, fixed_plain_timer);
    tcase_add_test(tp, every_segment_at_once);
    suite_add_tcase(s, tp);
    return s;
}

int main(void)
{
    return h_run_suite(delack_suite());
}
