/* test_view_why.c: the packet explainer (tools/view/why.h) fed the events of two real
 * stacks back to back (harness.h): each sentence on the very packet it explains, with the
 * numbers the stacks used (the RTO that elapsed, the delayed-ACK wait). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "why.h"

#define PORT 5000
#define D    (10 * TS_MSEC)
#define MSS  1448

typedef struct said {
    int side;
    ts_time_t t;
    uint8_t flags;
    uint32_t seq, len;
    char why[160];
} said;

static struct {
    ts_why *why[2];
    said log[4096];
    size_t n;
    int drop_side;      /* drop packets of this side ... */
    uint8_t drop_flags; /* ... with these exact flags (0: any with payload) */
    int drop_left;      /* ... this many more */
    uint32_t drop_seq;  /* with payload: only this sequence number (0: any) ... */
    uint32_t drop_seq2; /* ... or this one */
} g;

static void on_event(void *ctx, const ts_event *ev)
{
    int side = (int)(intptr_t)ctx;
    const char *s = ts_why_event(g.why[side], ev);
    if (ev->type != TS_EV_SEG_OUT || !s) return;
    ck_assert_uint_lt(g.n, sizeof g.log / sizeof g.log[0]);
    said *x = &g.log[g.n++];
    x->side = side;
    x->t = ev->now;
    const uint8_t *th = ev->u.seg.pkt + 20;
    x->flags = th[13];
    x->seq = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 | (uint32_t)th[6] << 8 | th[7];
    x->len = (uint32_t)ev->u.seg.len - 20 - (uint32_t)(th[12] >> 4) * 4;
    snprintf(x->why, sizeof x->why, "%s", s);
    if (getenv("WHY_DEBUG")) fprintf(stderr, "  ^ side %d: %s\n", side, s);
}

static bool drop_hook(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h;
    (void)idx;
    if (from != g.drop_side || g.drop_left <= 0) return false;
    bool match = g.drop_flags ? p->flags == g.drop_flags
                              : p->plen && (!g.drop_seq || p->seq == g.drop_seq ||
                                            (g.drop_seq2 && p->seq == g.drop_seq2));
    if (match) g.drop_left--;
    return match;
}

static harness *setup(const ts_params *pa, const ts_params *pb)
{
    memset(&g, 0, sizeof g);
    g.drop_side = -1;
    harness *h = h_new(pa, pb);
    h->delay = D;
    h->drop = drop_hook;
    h->verbose = getenv("WHY_DEBUG") != NULL; /* every packet and sentence on stderr */
    for (int i = 0; i < 2; i++) {
        g.why[i] = ts_why_new();
        ck_assert_ptr_nonnull(g.why[i]);
        ts_stack_set_event_fn(h->st[i], on_event, (void *)(intptr_t)i);
    }
    return h;
}

static void teardown(harness *h)
{
    h_free(h);
    ts_why_free(g.why[0]);
    ts_why_free(g.why[1]);
}

/* The nth sentence (from 0) said about side's packets, or NULL. */
static const said *nth(int side, size_t n)
{
    for (size_t i = 0; i < g.n; i++)
        if (g.log[i].side == side && n-- == 0) return &g.log[i];
    return NULL;
}

static size_t count(int side)
{
    size_t k = 0;
    for (size_t i = 0; i < g.n; i++) k += g.log[i].side == side;
    return k;
}

START_TEST(syn_retransmissions)
{
    harness *h = setup(NULL, NULL);
    g.drop_side = H_A;
    g.drop_flags = TS_TH_SYN;
    g.drop_left = 3;
    h_app ca, sb;
    h_app_init(&ca, h, H_A);
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 4);
    h_app_connect(&ca, 0, PORT);
    h_run_until(h, 10 * TS_SEC);
    ck_assert(ca.events & TS_SOCK_CONNECTED);
    ck_assert_uint_eq(count(H_A), 3);
    const char *want[] = {"SYN retransmission #1, rto 1 s", "SYN retransmission #2, rto 2 s",
                          "SYN retransmission #3, rto 4 s"};
    ts_time_t at[] = {1 * TS_SEC, 3 * TS_SEC, 7 * TS_SEC};
    for (size_t i = 0; i < 3; i++) {
        const said *s = nth(H_A, i);
        ck_assert_str_eq(s->why, want[i]);
        ck_assert_uint_eq(s->flags, TS_TH_SYN);
        ck_assert_int_eq(s->t, at[i]);
    }
    ck_assert_uint_eq(count(H_B), 0); /* the SYN-ACK and the data: nothing special */
    h_app_free(&ca);
    h_app_free(&sb);
    teardown(h);
}
END_TEST

START_TEST(synack_retransmission)
{
    harness *h = setup(NULL, NULL);
    g.drop_side = H_B;
    g.drop_flags = TS_TH_SYN | TS_TH_ACK;
    g.drop_left = 1;
    h_app ca, sb;
    h_app_init(&ca, h, H_A);
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 4);
    h_app_connect(&ca, 0, PORT);
    h_run_until(h, 1500 * TS_MSEC);
    ck_assert(ca.events & TS_SOCK_CONNECTED);
    ck_assert_uint_ge(count(H_B), 1);
    ck_assert_str_eq(nth(H_B, 0)->why, "SYN-ACK retransmission #1, rto 1 s");
    h_app_free(&ca);
    h_app_free(&sb);
    teardown(h);
}
END_TEST

/* "40 ms", "1 s", as why.c writes durations (for the expected sentences). */
static const char *ms(ts_time_t t, char *buf, size_t len)
{
    if (t % TS_SEC == 0)
        snprintf(buf, len, "%lld s", (long long)(t / TS_SEC));
    else if (t % TS_MSEC == 0)
        snprintf(buf, len, "%lld ms", (long long)(t / TS_MSEC));
    else
        snprintf(buf, len, "%.3f ms", (double)t / TS_MSEC);
    return buf;
}

START_TEST(rto_retransmissions)
{
    ts_params pa;
    ts_params_default(&pa);
    pa.tlp = false; /* the RTO itself is the subject */
    harness *h = setup(&pa, NULL);
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.h = h, .port = PORT, .mss = MSS});
    uint32_t base = x.base;
    g.n = 0;
    g.drop_side = H_A;
    g.drop_seq = base;
    g.drop_left = 2;
    ts_send(h->st[H_A], x.ca.sd, "hello", 5);
    ts_time_t t0 = h->now;
    h_run_until(h, h->now + 5 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 5);
    ck_assert_uint_eq(count(H_A), 2);
    ts_time_t t1 = h_sent_at(h, base, 2), t2 = h_sent_at(h, base, 3);
    char want[160], d[32];
    snprintf(want, sizeof want, "RTO retransmission #1, rto %s", ms(t1 - t0, d, sizeof d));
    ck_assert_str_eq(nth(H_A, 0)->why, want);
    ck_assert_int_eq(nth(H_A, 0)->t, t1);
    ck_assert_uint_eq(nth(H_A, 0)->seq, base);
    snprintf(want, sizeof want, "RTO retransmission #2, rto %s", ms(t2 - t1, d, sizeof d));
    ck_assert_str_eq(nth(H_A, 1)->why, want);
    ck_assert_int_eq(t2 - t1, 2 * (t1 - t0)); /* backed off */
    /* A new ACK starts the count over: the next loss is #1 again */
    g.drop_seq = base + 5;
    g.drop_left = 1;
    ts_send(h->st[H_A], x.ca.sd, "again", 5);
    h_run_until(h, h->now + 5 * TS_SEC);
    ck_assert_uint_eq(count(H_A), 3);
    ck_assert(!strncmp(nth(H_A, 2)->why, "RTO retransmission #1, rto ", 27));
    h_conn_free(&x);
    teardown(h);
}
END_TEST

START_TEST(fast_retransmission)
{
    harness *h = setup(NULL, NULL);
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.h = h, .port = PORT, .mss = MSS});
    uint32_t base = x.base;
    g.n = 0;
    g.drop_side = H_A;
    g.drop_seq = base + 2 * MSS;
    g.drop_left = 1;
    h_app_send_all(&x.ca, 10 * MSS);
    h_run_until(h, h->now + 2 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 10 * MSS);
    ck_assert_uint_eq(count(H_A), 1);
    const said *s = nth(H_A, 0);
    ck_assert_str_eq(s->why, "fast retransmission");
    ck_assert_uint_eq(s->seq, base + 2 * MSS);
    ck_assert_int_eq(s->t, h_sent_at(h, base + 2 * MSS, 2));
    h_conn_free(&x);
    teardown(h);
}
END_TEST

START_TEST(newreno_partial_ack)
{
    ts_params pa;
    ts_params_default(&pa);
    pa.sack = false;
    harness *h = setup(&pa, NULL);
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.h = h, .port = PORT, .mss = MSS});
    uint32_t base = x.base;
    g.n = 0;
    g.drop_side = H_A;
    /* drop segments 2 and 5: the first fast retransmission fills one hole, its partial
     * ACK resends the other at once (RFC 6582 3.2) */
    g.drop_seq = base + 2 * MSS;
    g.drop_seq2 = base + 5 * MSS;
    g.drop_left = 2;
    h_app_send_all(&x.ca, 10 * MSS);
    h_run_until(h, h->now + 3 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 10 * MSS);
    ck_assert_uint_eq(count(H_A), 2);
    ck_assert_str_eq(nth(H_A, 0)->why, "fast retransmission");
    ck_assert_uint_eq(nth(H_A, 0)->seq, base + 2 * MSS);
    ck_assert_str_eq(nth(H_A, 1)->why, "fast retransmission (NewReno partial ACK, RFC 6582)");
    ck_assert_uint_eq(nth(H_A, 1)->seq, base + 5 * MSS);
    h_conn_free(&x);
    teardown(h);
}
END_TEST

START_TEST(tail_loss_probe)
{
    harness *h = setup(NULL, NULL);
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.h = h, .port = PORT, .mss = MSS});
    uint32_t base = x.base;
    g.n = 0;
    g.drop_side = H_A;
    g.drop_seq = base;
    g.drop_left = 1;
    ts_send(h->st[H_A], x.ca.sd, "hello", 5);
    ts_time_t t0 = h->now;
    h_run_until(h, h->now + 2 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 5);
    ck_assert_uint_eq(count(H_A), 1);
    ts_time_t t1 = h_sent_at(h, base, 2);
    char want[160], d[32];
    snprintf(want, sizeof want, "tail loss probe (the last segment again), pto %s (RFC 8985)",
             ms(t1 - t0, d, sizeof d));
    ck_assert_str_eq(nth(H_A, 0)->why, want);
    ck_assert_int_eq(nth(H_A, 0)->t, t1);
    h_conn_free(&x);
    teardown(h);
}
END_TEST

START_TEST(tail_loss_probe_new_data)
{
    harness *h = setup(NULL, NULL);
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.h = h, .port = PORT, .mss = MSS});
    uint32_t base = x.base;
    g.n = 0;
    g.drop_side = H_A;
    g.drop_left = 10; /* the whole first flight (cwnd 10): no ACK comes back */
    h_app_send_all(&x.ca, 30 * MSS);
    h_run_until(h, h->now + 3 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 30 * MSS);
    ck_assert_uint_ge(count(H_A), 1);
    const said *s = nth(H_A, 0);
    /* the probe sends the 11th segment, never sent before (RFC 8985 7.3) */
    ck_assert(!strncmp(s->why, "tail loss probe (new data), pto ", 32));
    ck_assert_uint_eq(s->seq, base + 10 * MSS);
    h_conn_free(&x);
    teardown(h);
}
END_TEST

START_TEST(rack_reordering_timer)
{
    harness *h = setup(NULL, NULL);
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.h = h, .port = PORT, .mss = MSS});
    uint32_t base = x.base;
    g.n = 0;
    g.drop_side = H_A;
    g.drop_seq = base;
    g.drop_left = 1;
    /* two segments, the first lost: one SACK, too few for the dupACK rule, so RACK's
     * reordering timer decides (RFC 8985 6.2) */
    h_app_send_all(&x.ca, 2 * MSS);
    h_run_until(h, h->now + 2 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 2 * MSS);
    ck_assert_uint_eq(count(H_A), 1);
    ck_assert_str_eq(nth(H_A, 0)->why,
                     "RACK reordering timer: retransmission of a segment deemed lost (RFC 8985)");
    ck_assert_uint_eq(nth(H_A, 0)->seq, base);
    h_conn_free(&x);
    teardown(h);
}
END_TEST

START_TEST(zero_window_probe)
{
    ts_params pb;
    ts_params_default(&pb);
    pb.rcvbuf = 8192;
    harness *h = setup(NULL, &pb);
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.h = h, .port = PORT});
    x.sb.auto_read = false; /* B never reads: its window closes */
    g.n = 0;
    h_app_send_all(&x.ca, 64 * 1024);
    h_run_until(h, h->now + 3 * TS_SEC);
    /* first the persist timer sends what fits into the window left, then probes it */
    ck_assert_uint_ge(count(H_A), 3);
    ck_assert_str_eq(nth(H_A, 0)->why, "persist timer fired after 220 ms: sending into the "
                                       "small window (RFC 1122 4.2.3.4)");
    ck_assert_uint_gt(nth(H_A, 0)->len, 0);
    ck_assert_str_eq(nth(H_A, 1)->why, "zero-window probe, persist timer fired after 220 ms");
    ck_assert_uint_eq(nth(H_A, 1)->len, 0);
    ck_assert_str_eq(nth(H_A, 2)->why, "zero-window probe, persist timer fired after 440 ms");
    h_conn_free(&x);
    teardown(h);
}
END_TEST

START_TEST(keepalive_probe)
{
    ts_params pa;
    ts_params_default(&pa);
    pa.keepalive = true;
    pa.keepalive_idle = 10 * TS_SEC;
    pa.keepalive_intvl = 2 * TS_SEC;
    harness *h = setup(&pa, NULL);
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.h = h, .port = PORT, .mss = MSS});
    g.n = 0;
    h_run_until(h, h->now + 11 * TS_SEC);
    ck_assert_uint_eq(count(H_A), 1);
    ck_assert_str_eq(nth(H_A, 0)->why, "keepalive probe #1, idle 10 s");
    /* the next one only if unanswered: drop the answers */
    g.drop_side = H_B;
    g.drop_flags = TS_TH_ACK;
    g.drop_left = 100;
    h_run_until(h, h->now + 11 * TS_SEC);
    ck_assert_uint_ge(count(H_A), 2);
    ck_assert_str_eq(nth(H_A, 1)->why, "keepalive probe #1, idle 10 s");
    ck_assert_str_eq(nth(H_A, 2)->why, "keepalive probe #2, idle 12 s");
    h_conn_free(&x);
    teardown(h);
}
END_TEST

START_TEST(delayed_ack)
{
    harness *h = setup(NULL, NULL);
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.h = h, .port = PORT, .mss = MSS});
    g.n = 0;
    /* small writes far apart: once quick ACKs are used up B waits for its timer */
    for (int i = 0; i < 50 && count(H_B) == 0; i++) { /* closer than the RTO: no idle */
        ts_send(h->st[H_A], x.ca.sd, "x", 1);
        h_run_until(h, h->now + 100 * TS_MSEC);
    }
    ck_assert_uint_ge(count(H_B), 1);
    const said *s = nth(H_B, 0);
    ck_assert_str_eq(s->why, "delayed ACK timer fired after 40 ms");
    ck_assert_uint_eq(s->flags, TS_TH_ACK);
    ck_assert_uint_eq(s->len, 0);
    /* it left 40 ms after the data arrived */
    ts_time_t arrived = TS_TIME_NEVER;
    for (size_t i = 0; i < h_nlog(h); i++)
        if (h->log[i].from == H_A && h->log[i].plen && h->log[i].t + D <= s->t)
            arrived = h->log[i].t + D;
    ck_assert_int_eq(s->t - arrived, 40 * TS_MSEC);
    h_conn_free(&x);
    teardown(h);
}
END_TEST

START_TEST(challenge_ack)
{
    harness *h = setup(NULL, NULL);
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.h = h, .port = PORT, .mss = MSS});
    uint32_t base = x.base;
    g.n = 0;
    ts_endpoint l;
    ts_getsockname(h->st[H_A], x.ca.sd, &l);
    uint8_t pkt[1600];
    /* RFC 5961 4.2: a SYN on a synchronized connection draws a challenge ACK */
    h_seg sg = {.src = H_ADDR_A,
                .dst = H_ADDR_B,
                .sport = l.port,
                .dport = PORT,
                .seq = base + 100,
                .flags = TS_TH_SYN,
                .win = 1000};
    size_t n = h_build(pkt, &sg);
    h_inject(h, H_B, pkt, n);
    h_run_until(h, h->now + 100 * TS_MSEC);
    ck_assert_uint_eq(count(H_B), 1);
    ck_assert_str_eq(nth(H_B, 0)->why, "challenge ACK (RFC 5961)");
    ck_assert_uint_eq(nth(H_B, 0)->flags, TS_TH_ACK);
    h_conn_free(&x);
    teardown(h);
}
END_TEST

START_TEST(reset_no_listener)
{
    harness *h = setup(NULL, NULL);
    h_app ca;
    h_app_init(&ca, h, H_A);
    h_app_connect(&ca, 0, 9); /* nobody listens on B's port 9 */
    h_run_until(h, 1 * TS_SEC);
    ck_assert_uint_eq(count(H_B), 1);
    ck_assert_str_eq(nth(H_B, 0)->why,
                     "RST: no connection or listener for that segment (RFC 9293 3.10.7.1)");
    ck_assert_uint_eq(count(H_A), 0);
    h_app_free(&ca);
    teardown(h);
}
END_TEST

/* Many connections come and go: the memory follows each one by its id (insert, grow,
 * remove with backward shift), and a freed connection's history is gone. */
START_TEST(many_connections)
{
    ts_why *w = ts_why_new();
    ck_assert_ptr_nonnull(w);
    uint8_t pkt[40] = {0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6};
    pkt[32] = 5 << 4;
    pkt[33] = 0x10; /* a pure ACK */
    const uint32_t N = 5000;
    for (uint32_t id = 1; id <= N; id++) {
        ts_event e = {.type = TS_EV_TIMER_SET, .now = id, .conn = {.id = id}};
        e.u.timer.kind = TS_TIMER_DELACK;
        e.u.timer.when = id + 40 * TS_MSEC;
        ck_assert_ptr_null(ts_why_event(w, &e));
    }
    for (uint32_t id = 1; id <= N; id += 2) {
        ts_event e = {.type = TS_EV_CONN_FREE, .conn = {.id = id}};
        ck_assert_ptr_null(ts_why_event(w, &e));
    }
    for (uint32_t id = 1; id <= N; id++) {
        ts_event f = {.type = TS_EV_TIMER_FIRE, .now = id + 40 * TS_MSEC, .conn = {.id = id}};
        f.u.timer.kind = TS_TIMER_DELACK;
        f.u.timer.when = f.now;
        ts_why_event(w, &f);
        ts_event o = {.type = TS_EV_SEG_OUT, .now = f.now, .conn = {.id = id}};
        o.u.seg.pkt = pkt;
        o.u.seg.len = sizeof pkt;
        const char *s = ts_why_event(w, &o);
        /* a freed connection starts over: no TIMER_SET known, so 0 elapsed */
        ck_assert_str_eq(s, id % 2 ? "delayed ACK timer fired after 0 us"
                                   : "delayed ACK timer fired after 40 ms");
        /* once said, never again for the next packet */
        ck_assert_ptr_null(ts_why_event(w, &o));
    }
    ts_why_free(w);
}
END_TEST

int main(void)
{
    const TTest *all[] = {syn_retransmissions,      synack_retransmission, rto_retransmissions,
                          fast_retransmission,      newreno_partial_ack,   tail_loss_probe,
                          tail_loss_probe_new_data, rack_reordering_timer, zero_window_probe,
                          keepalive_probe,          delayed_ack,           challenge_ack,
                          reset_no_listener,        many_connections};
    const char *only = getenv("WHY_ONLY"); /* run one test by name, for debugging */
    Suite *s = suite_create("view_why");
    TCase *tc = tcase_create("why");
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!only || !strcmp(only, all[i]->name)) tcase_add_test(tc, all[i]);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
