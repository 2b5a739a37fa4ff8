/* test_sim_link.c: the sans-IO link models (sim/ts_link.h). Each random impairment's
 * statistics over many draws (loss rate, Gilbert-Elliott burst length, duplication,
 * corruption, reordering), the exact arithmetic of serialisation and the drop-tail queue,
 * jitter bounds without reordering, scripted rules, reproducibility and the text syntax. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ts_link.h"
#include "harness.h"

/* A minimal IPv4/TCP packet: enough for the rules to read flags, seq and payload. */
static size_t mkpkt(uint8_t *b, uint8_t flags, uint32_t seq, uint32_t payload)
{
    size_t len = 40 + payload;
    memset(b, 0, len);
    b[0] = 0x45;
    b[2] = (uint8_t)(len >> 8);
    b[3] = (uint8_t)len;
    b[8] = 64;
    b[9] = 6;
    b[20 + 4] = (uint8_t)(seq >> 24);
    b[20 + 5] = (uint8_t)(seq >> 16);
    b[20 + 6] = (uint8_t)(seq >> 8);
    b[20 + 7] = (uint8_t)seq;
    b[20 + 12] = 5 << 4;
    b[20 + 13] = flags;
    return len;
}

static uint8_t pkt[2000];

START_TEST(perfect_wire)
{
    ts_link l;
    ts_link_params p = {.delay = 10 * TS_MSEC};
    ts_link_init(&l, &p);
    ts_rng r;
    ts_rng_seed(&r, 1);
    ts_link_verdict v;
    size_t n = mkpkt(pkt, TS_TH_ACK, 1, 100);
    for (ts_time_t t = 0; t < 100; t++) {
        ck_assert_uint_eq(ts_link_send(&l, &r, t * TS_MSEC, pkt, n, &v), 1);
        ck_assert_uint_eq(v.copy[0].when, t * TS_MSEC + 10 * TS_MSEC);
        ck_assert(!v.copy[0].corrupt && !v.copy[0].held);
    }
    ck_assert_uint_eq(l.stats.delivered, 100);
    ts_link_free(&l);
}
END_TEST

static double loss_rate(const ts_link_params *p, uint64_t seed, int n, double *mean_burst)
{
    ts_link l;
    ts_link_init(&l, p);
    ts_rng r;
    ts_rng_seed(&r, seed);
    ts_link_verdict v;
    size_t len = mkpkt(pkt, TS_TH_ACK, 1, 0);
    int lost = 0, bursts = 0, run = 0;
    for (int i = 0; i < n; i++) {
        if (ts_link_send(&l, &r, (ts_time_t)i, pkt, len, &v) == 0) {
            ck_assert_int_eq(v.drop, TS_LINK_DROP_LOSS);
            lost++;
            if (run++ == 0) bursts++;
        } else {
            run = 0;
        }
    }
    ck_assert_uint_eq(l.stats.drop_loss, (uint64_t)lost);
    ts_link_free(&l);
    if (mean_burst) *mean_burst = bursts ? (double)lost / bursts : 0;
    return (double)lost / n;
}

START_TEST(bernoulli_rate)
{
    const double ps[] = {0.001, 0.01, 0.1, 0.5};
    for (size_t i = 0; i < 4; i++) {
        ts_link_params p = {.loss = {TS_LOSS_BERNOULLI, ps[i], 0, 0, 0}};
        int n = 400000;
        double got = loss_rate(&p, 7 + i, n, NULL);
        double sd = sqrt(ps[i] * (1 - ps[i]) / n);
        ck_assert_msg(fabs(got - ps[i]) < 5 * sd, "loss %g: got %g", ps[i], got);
    }
    ts_link_params none = {0};
    ck_assert(loss_rate(&none, 1, 10000, NULL) == 0.0);
}
END_TEST

/* Gilbert-Elliott: stationary P(bad) = p / (p + r); with loss only in the bad state the
 * loss rate is that, and bursts last 1/r packets on average. */
START_TEST(gilbert_elliott)
{
    ts_link_params p = {.loss = {TS_LOSS_GE, 0.01, 0.25, 1.0, 0.0}};
    double burst;
    double got = loss_rate(&p, 99, 2000000, &burst);
    double want = 0.01 / 0.26;
    ck_assert_msg(fabs(got - want) < 0.003, "GE loss %g want %g", got, want);
    ck_assert_msg(fabs(burst - 4.0) < 0.2, "GE mean burst %g want 4", burst);
    /* Partial loss in each state: rate = Pbad * 0.5 + Pgood * 0.01 */
    ts_link_params q = {.loss = {TS_LOSS_GE, 0.05, 0.2, 0.5, 0.01}};
    got = loss_rate(&q, 5, 2000000, NULL);
    want = 0.2 * 0.5 + 0.8 * 0.01;
    ck_assert_msg(fabs(got - want) < 0.003, "GE partial loss %g want %g", got, want);
}
END_TEST

START_TEST(dup_corrupt_reorder_rates)
{
    ts_link_params p = {.delay = 1 * TS_MSEC,
                        .dup = 0.05,
                        .corrupt = 0.02,
                        .reorder = 0.1,
                        .reorder_gap = 3 * TS_MSEC};
    ts_link l;
    ts_link_init(&l, &p);
    ts_rng r;
    ts_rng_seed(&r, 3);
    ts_link_verdict v;
    size_t len = mkpkt(pkt, TS_TH_ACK, 1, 500);
    enum { N = 300000 };
    int dups = 0, corrupt = 0, held = 0;
    for (int i = 0; i < N; i++) {
        ts_time_t now = (ts_time_t)i * 10 * TS_MSEC; /* far apart: no FIFO interaction */
        unsigned c = ts_link_send(&l, &r, now, pkt, len, &v);
        ck_assert_uint_ge(c, 1);
        if (c == 2) {
            dups++;
            ck_assert_uint_ge(v.copy[1].when, now + p.delay);
        }
        if (v.copy[0].corrupt) {
            corrupt++;
            ck_assert_uint_lt(v.copy[0].bit, len * 8);
        }
        if (v.copy[0].held) {
            held++;
            ck_assert_uint_eq(v.copy[0].when, now + p.delay + p.reorder_gap);
        } else {
            ck_assert_uint_eq(v.copy[0].when, now + p.delay);
        }
    }
    ck_assert_msg(fabs(dups / (double)N - 0.05) < 0.002, "dup %d", dups);
    ck_assert_msg(fabs(corrupt / (double)N - 0.02) < 0.0015, "corrupt %d", corrupt);
    ck_assert_msg(fabs(held / (double)N - 0.1) < 0.003, "held %d", held);
    ck_assert_uint_eq(l.stats.dups, (uint64_t)dups);
    ck_assert_uint_eq(l.stats.corrupted, (uint64_t)corrupt);
    ts_link_free(&l);

    uint8_t b[4] = {0, 0, 0, 0};
    ts_link_flip(b, 4, 0);
    ts_link_flip(b, 4, 31);
    ts_link_flip(b, 4, 32); /* past the end: ignored */
    ck_assert_uint_eq(b[0], 0x80);
    ck_assert_uint_eq(b[3], 0x01);
}
END_TEST

/* 1500 bytes at 12 Mbit/s = 1 ms on the wire; a queue of 3 holds 3 packets. */
START_TEST(serialisation_and_droptail)
{
    ts_link_params p = {.delay = 5 * TS_MSEC, .rate_bps = 12000000, .queue = 3};
    ts_link l;
    ts_link_init(&l, &p);
    ts_rng r;
    ts_rng_seed(&r, 1);
    ts_link_verdict v;
    size_t len = mkpkt(pkt, TS_TH_ACK, 1, 1460);
    ck_assert_uint_eq(len, 1500);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(ts_link_send(&l, &r, 0, pkt, len, &v), 1);
        ck_assert_uint_eq(v.copy[0].when, (ts_time_t)(i + 1) * TS_MSEC + 5 * TS_MSEC);
    }
    ck_assert_uint_eq(ts_link_send(&l, &r, 0, pkt, len, &v), 0);
    ck_assert_int_eq(v.drop, TS_LINK_DROP_QUEUE);
    /* At 1 ms the first has left: one slot frees; it waits behind the other two. */
    ck_assert_uint_eq(ts_link_send(&l, &r, 1 * TS_MSEC, pkt, len, &v), 1);
    ck_assert_uint_eq(v.copy[0].when, 4 * TS_MSEC + 5 * TS_MSEC);
    ck_assert_uint_eq(ts_link_send(&l, &r, 1 * TS_MSEC, pkt, len, &v), 0);
    /* After the queue drains, a packet goes straight onto the wire. */
    ck_assert_uint_eq(ts_link_send(&l, &r, 100 * TS_MSEC, pkt, len, &v), 1);
    ck_assert_uint_eq(v.copy[0].when, 101 * TS_MSEC + 5 * TS_MSEC);
    ck_assert_uint_eq(l.stats.drop_queue, 2);
    ck_assert_uint_eq(l.stats.max_queue, 3);
    ts_link_free(&l);
}
END_TEST

/* Sub-microsecond serialisation accumulates exactly (nanoseconds inside). */
START_TEST(serialisation_fine_grained)
{
    ts_link_params p = {.rate_bps = 1000000000}; /* 1 Gbit/s: 52 bytes = 416 ns */
    ts_link l;
    ts_link_init(&l, &p);
    ts_rng r;
    ts_rng_seed(&r, 1);
    ts_link_verdict v;
    size_t len = mkpkt(pkt, TS_TH_ACK, 1, 12);
    ck_assert_uint_eq(len, 52);
    for (int i = 0; i < 1000; i++) ts_link_send(&l, &r, 0, pkt, len, &v);
    /* 1000 x 416 ns = 416 us */
    ck_assert_uint_eq(v.copy[0].when, 416);
    ts_link_free(&l);
}
END_TEST

START_TEST(jitter_bounds_fifo)
{
    ts_link_params p = {.delay = 10 * TS_MSEC, .jitter = 2 * TS_MSEC};
    ts_link l;
    ts_link_init(&l, &p);
    ts_rng r;
    ts_rng_seed(&r, 11);
    ts_link_verdict v;
    size_t len = mkpkt(pkt, TS_TH_ACK, 1, 0);
    ts_time_t prev = 0;
    double sum = 0;
    enum { N = 100000 };
    for (int i = 0; i < N; i++) {
        ts_time_t now = (ts_time_t)i * 10 * TS_MSEC;
        ts_link_send(&l, &r, now, pkt, len, &v);
        ck_assert_uint_ge(v.copy[0].when, now + 8 * TS_MSEC);
        ck_assert_uint_le(v.copy[0].when, now + 12 * TS_MSEC);
        ck_assert_uint_ge(v.copy[0].when, prev);
        prev = v.copy[0].when;
        sum += (double)(v.copy[0].when - now);
    }
    ck_assert(fabs(sum / N - 10000.0) < 30.0); /* mean 10 ms */
    /* Back to back, jitter never reorders. */
    prev = 0;
    for (int i = 0; i < 1000; i++) {
        ts_link_send(&l, &r, 2000 * TS_SEC + (ts_time_t)i, pkt, len, &v);
        ck_assert_uint_ge(v.copy[0].when, prev);
        prev = v.copy[0].when;
    }
    ts_link_free(&l);
}
END_TEST

START_TEST(rules_nth_and_flags)
{
    ts_link l;
    ts_link_init(&l, NULL);
    ts_link_rule d = {.action = TS_RULE_DROP,
                      .tcp = true,
                      .payload = -1,
                      .flags_mask = TS_TH_SYN | TS_TH_ACK | TS_TH_FIN | TS_TH_RST,
                      .flags = TS_TH_SYN,
                      .t_to = TS_TIME_NEVER,
                      .nnth = 1};
    d.nth[0].lo = 2;
    d.nth[0].hi = 3;
    ck_assert_int_eq(ts_link_add_rule(&l, &d), 0);
    ts_rng r;
    ts_rng_seed(&r, 1);
    ts_link_verdict v;
    unsigned got[6];
    for (int i = 0; i < 5; i++) {
        /* a SYN-ACK in between is not a SYN: exact flags */
        ck_assert_uint_eq(ts_link_send(&l, &r, 0, pkt, mkpkt(pkt, TS_TH_SYN | TS_TH_ACK, 9, 0), &v),
                          1);
        got[i] = ts_link_send(&l, &r, 0, pkt, mkpkt(pkt, TS_TH_SYN, 100, 0), &v);
        if (!got[i]) {
            ck_assert_int_eq(v.drop, TS_LINK_DROP_RULE);
            ck_assert_int_eq(v.rule, 0);
        }
    }
    ck_assert_uint_eq(got[0], 1);
    ck_assert_uint_eq(got[1], 0);
    ck_assert_uint_eq(got[2], 0);
    ck_assert_uint_eq(got[3], 1);
    ck_assert_uint_eq(got[4], 1);
    ck_assert_uint_eq(l.stats.drop_rule, 2);
    ts_link_free(&l);
}
END_TEST

START_TEST(rules_seq_time_data_hold)
{
    ts_link l;
    ts_link_params p = {.delay = 1 * TS_MSEC};
    ts_link_init(&l, &p);
    /* drop data whose seq is 1000..1999 after the SYN's ISN, between 1 s and 2 s */
    ts_link_rule d = {.action = TS_RULE_DROP,
                      .tcp = true,
                      .payload = 1,
                      .has_seq = true,
                      .seq_rel = true,
                      .seq_lo = 1000,
                      .seq_hi = 1999,
                      .t_from = TS_SEC,
                      .t_to = 2 * TS_SEC};
    ts_link_rule h = {.action = TS_RULE_HOLD,
                      .hold = 7 * TS_MSEC,
                      .tcp = true,
                      .payload = 0,
                      .t_to = TS_TIME_NEVER,
                      .nnth = 1};
    h.nth[0].lo = h.nth[0].hi = 1;
    ts_link_add_rule(&l, &d);
    ts_link_add_rule(&l, &h);
    ts_rng r;
    ts_rng_seed(&r, 1);
    ts_link_verdict v;
    uint32_t isn = 0xfffffc00u; /* relative ranges wrap correctly */
    ts_link_send(&l, &r, 0, pkt, mkpkt(pkt, TS_TH_SYN, isn, 0), &v);
    /* the SYN is the first no-payload segment: held 7 ms */
    ck_assert(v.copy[0].held);
    ck_assert_uint_eq(v.copy[0].when, 8 * TS_MSEC);
    ck_assert_uint_eq(
        ts_link_send(&l, &r, TS_SEC / 2, pkt, mkpkt(pkt, TS_TH_ACK, isn + 1500, 10), &v), 1);
    ck_assert_uint_eq(ts_link_send(&l, &r, TS_SEC, pkt, mkpkt(pkt, TS_TH_ACK, isn + 999, 10), &v),
                      1);
    ck_assert_uint_eq(ts_link_send(&l, &r, TS_SEC, pkt, mkpkt(pkt, TS_TH_ACK, isn + 1000, 10), &v),
                      0);
    ck_assert_uint_eq(ts_link_send(&l, &r, TS_SEC, pkt, mkpkt(pkt, TS_TH_ACK, isn + 1999, 10), &v),
                      0);
    ck_assert_uint_eq(ts_link_send(&l, &r, TS_SEC, pkt, mkpkt(pkt, TS_TH_ACK, isn + 2000, 10), &v),
                      1);
    ck_assert_uint_eq(ts_link_send(&l, &r, TS_SEC, pkt, mkpkt(pkt, TS_TH_ACK, isn + 1500, 0), &v),
                      1);
    ck_assert_uint_eq(
        ts_link_send(&l, &r, 2 * TS_SEC, pkt, mkpkt(pkt, TS_TH_ACK, isn + 1500, 10), &v), 1);
    /* not TCP: rules with TCP predicates never match */
    uint8_t udp[28] = {0x45, 0, 0, 28, [8] = 64, [9] = 17};
    ck_assert_uint_eq(ts_link_send(&l, &r, TS_SEC, udp, sizeof udp, &v), 1);
    ts_link_free(&l);
}
END_TEST

START_TEST(reproducible)
{
    ts_link_params p = {.delay = 3 * TS_MSEC,
                        .jitter = 1 * TS_MSEC,
                        .rate_bps = 50000000,
                        .queue = 20,
                        .loss = {TS_LOSS_GE, 0.02, 0.3, 0.9, 0.001},
                        .dup = 0.01,
                        .corrupt = 0.01,
                        .reorder = 0.02,
                        .reorder_gap = 2000};
    ts_link a, b;
    ts_link_init(&a, &p);
    ts_link_init(&b, &p);
    ts_rng ra, rb;
    ts_rng_seed(&ra, 77);
    ts_rng_seed(&rb, 77);
    size_t len = mkpkt(pkt, TS_TH_ACK, 1, 1000);
    for (int i = 0; i < 50000; i++) {
        ts_link_verdict va, vb;
        ts_time_t now = (ts_time_t)i * 150;
        ck_assert_uint_eq(ts_link_send(&a, &ra, now, pkt, len, &va),
                          ts_link_send(&b, &rb, now, pkt, len, &vb));
        ck_assert_mem_eq(&va, &vb, sizeof va);
    }
    ck_assert_mem_eq(&a.stats, &b.stats, sizeof a.stats);
    ts_link_free(&a);
    ts_link_free(&b);
}
END_TEST

START_TEST(text_syntax)
{
    ts_link_params p = {0};
    char err[256];
    ck_assert_int_eq(ts_link_param_set_kv(&p, "delay=20ms", err, sizeof err), 0);
    ck_assert_uint_eq(p.delay, 20 * TS_MSEC);
    ck_assert_int_eq(ts_link_param_set_kv(&p, "rate=100Mbit", err, sizeof err), 0);
    ck_assert_uint_eq(p.rate_bps, 100000000);
    ck_assert_int_eq(ts_link_param_set_kv(&p, "rate=1.5Gbit", err, sizeof err), 0);
    ck_assert_uint_eq(p.rate_bps, 1500000000);
    ck_assert_int_eq(ts_link_param_set_kv(&p, "loss=2%", err, sizeof err), 0);
    ck_assert_int_eq(p.loss.kind, TS_LOSS_BERNOULLI);
    ck_assert(fabs(p.loss.p - 0.02) < 1e-12);
    ck_assert_int_eq(ts_link_param_set_kv(&p, "ge=1%,25%", err, sizeof err), 0);
    ck_assert_int_eq(p.loss.kind, TS_LOSS_GE);
    ck_assert(p.loss.loss_bad == 1.0 && p.loss.loss_good == 0.0);
    ck_assert_int_eq(ts_link_param_set_kv(&p, "reorder=5%,4ms", err, sizeof err), 0);
    ck_assert_uint_eq(p.reorder_gap, 4 * TS_MSEC);
    ck_assert_int_eq(ts_link_param_set_kv(&p, "queue=1000", err, sizeof err), 0);
    ck_assert_uint_eq(p.queue, 1000);
    ts_link_params before = p;
    const char *bad[] = {"loss=2",       "loss=-1%", "loss=101%",   "rate=fast", "delay=soon",
                         "queue=-1",     "ge=1%",    "colour=blue", "noequals",  "=1",
                         "reorder=5%,x", "dup=",     "corrupt=1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(ts_link_param_set_kv(&p, bad[i], err, sizeof err) < 0, "%s", bad[i]);
        ck_assert_msg(err[0] != '\0', "no message for %s", bad[i]);
    }
    ck_assert_mem_eq(&p, &before, sizeof p); /* failures change nothing */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim_link");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, perfect_wire);
    tcase_add_test(tc, bernoulli_rate);
    tcase_add_test(tc, gilbert_elliott);
    tcase_add_test(tc, dup_corrupt_reorder_rates);
    tcase_add_test(tc, serialisation_and_droptail);
    tcase_add_test(tc, serialisation_fine_grained);
    tcase_add_test(tc, jitter_bounds_fifo);
    tcase_add_test(tc, rules_nth_and_flags);
    tcase_add_test(tc, rules_seq_time_data_hold);
    tcase_add_test(tc, reproducible);
    tcase_add_test(tc, text_syntax);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
