/* test_tcp_backoff_policies.c: the backoff policies' schedules to the microsecond in
 * virtual time: SYN retransmissions to a peer that never answers (a lone stack driven
 * here, so its seed can change) and data RTOs through two stacks (harness.h) for
 * exponential, linear (with and without syn_linear) and constant; rto_max capping them;
 * backoff_jitter deterministic per seed, connection and retransmission, within +-P%. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define S  TS_SEC
#define MS TS_MSEC

/* ---- SYNs into the void: one stack, every packet it sends recorded and lost ---- */

typedef struct syn_log {
    ts_time_t now;
    ts_time_t t[64];
    size_t n;
} syn_log;

static void syn_out(void *ctx, const uint8_t *pkt, size_t len)
{
    syn_log *l = ctx;
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    ck_assert_uint_gt(len, ihl + 13);
    if ((pkt[ihl + 13] & TS_TH_SYN) && l->n < 64) l->t[l->n++] = l->now;
}

/* Connect from lport (0 = ephemeral) to a peer that never answers; records when each SYN
 * left and returns when connect() failed with ETIMEDOUT. */
static ts_time_t syn_schedule(const ts_params *p, uint64_t seed, uint16_t lport, syn_log *l)
{
    memset(l, 0, sizeof *l);
    ts_stack_config cfg;
    ts_stack_config_init(&cfg);
    cfg.addr = H_ADDR_A;
    cfg.seed = seed;
    if (p) cfg.params = *p;
    cfg.output = syn_out;
    cfg.output_ctx = l;
    char err[256];
    ts_stack *s = ts_stack_create(&cfg, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    int sd = ts_socket(s);
    ck_assert_int_ge(sd, 0);
    if (lport) ck_assert_int_eq(ts_bind(s, sd, 0, lport), 0);
    ck_assert_int_eq(ts_connect(s, sd, H_ADDR_B, 80), -EINPROGRESS);
    ts_time_t failed = TS_TIME_NEVER;
    for (int i = 0; i < 1000 && failed == TS_TIME_NEVER; i++) {
        ts_time_t next = ts_stack_next_deadline(s);
        ck_assert_uint_ne(next, TS_TIME_NEVER);
        l->now = next;
        ts_stack_poll(s, next);
        if (ts_sock_error(s, sd) == -ETIMEDOUT) failed = next;
    }
    ts_stack_destroy(s);
    return failed;
}

static ts_params syn_params(const char *policy)
{
    ts_params p;
    char err[128];
    ts_params_default(&p);
    ck_assert_int_eq(ts_params_set(&p, "backoff_policy", policy, err, sizeof err), 0);
    return p;
}

static void assert_times(const syn_log *l, const ts_time_t *want, size_t n)
{
    ck_assert_uint_eq(l->n, n);
    for (size_t i = 0; i < n; i++) ck_assert_uint_eq(l->t[i], want[i]);
}

START_TEST(syn_exponential_1_3_7_15_31_63_gives_up_127s)
{
    ts_params p = syn_params("exponential");
    syn_log l;
    ts_time_t end = syn_schedule(&p, 1, 0, &l);
    const ts_time_t want[] = {0, 1 * S, 3 * S, 7 * S, 15 * S, 31 * S, 63 * S};
    assert_times(&l, want, 7);
    ck_assert_uint_eq(end, 127 * S);
}
END_TEST

START_TEST(syn_linear_gaps_1_2_3_4_5_6_gives_up_28s)
{
    /* the n-th expiry waits syn_rto + n * syn_rto: gaps 1, 2, 3, ... s */
    ts_params p = syn_params("linear");
    syn_log l;
    ts_time_t end = syn_schedule(&p, 1, 0, &l);
    const ts_time_t want[] = {0, 1 * S, 3 * S, 6 * S, 10 * S, 15 * S, 21 * S};
    assert_times(&l, want, 7);
    ck_assert_uint_eq(end, 28 * S);
}
END_TEST

START_TEST(syn_linear_after_syn_linear_2)
{
    /* syn_linear=2: the first 2 retransmissions keep syn_rto, then the gaps grow by one
     * syn_rto each; Linux adds syn_linear to syn_retries (6 + 2 = 8 retransmissions) */
    ts_params p = syn_params("linear");
    p.syn_linear = 2;
    syn_log l;
    ts_time_t end = syn_schedule(&p, 1, 0, &l);
    const ts_time_t want[] = {0, 1 * S, 2 * S, 3 * S, 5 * S, 8 * S, 12 * S, 17 * S, 23 * S};
    assert_times(&l, want, 9);
    ck_assert_uint_eq(end, 30 * S);
}
END_TEST

START_TEST(syn_constant_every_second)
{
    ts_params p = syn_params("constant");
    p.syn_linear = 3; /* nothing to keep linear: every gap is syn_rto anyway */
    p.syn_rto = 1500 * MS;
    syn_log l;
    ts_time_t end = syn_schedule(&p, 1, 0, &l);
    ck_assert_uint_eq(l.n, 10);
    for (size_t i = 0; i < l.n; i++) ck_assert_uint_eq(l.t[i], i * 1500 * MS);
    ck_assert_uint_eq(end, 15 * S);
}
END_TEST

START_TEST(syn_rto_max_caps_every_policy)
{
    const char *pol[] = {"exponential", "linear", "constant"};
    /* syn_rto 10 s, rto_max 25 s: exponential 10, 20, 25, 25 ...; linear 10, 20, 25 ...;
     * constant 10 s, and with syn_rto 30 s above rto_max, constant waits 25 s */
    const ts_time_t want[3][7] = {{0, 10 * S, 30 * S, 55 * S, 80 * S, 105 * S, 130 * S},
                                  {0, 10 * S, 30 * S, 55 * S, 80 * S, 105 * S, 130 * S},
                                  {0, 25 * S, 50 * S, 75 * S, 100 * S, 125 * S, 150 * S}};
    const ts_time_t give_up[3] = {155 * S, 155 * S, 175 * S};
    for (int i = 0; i < 3; i++) {
        ts_params p = syn_params(pol[i]);
        p.rto_max = 25 * S;
        p.syn_rto = i == 2 ? 30 * S : 10 * S;
        syn_log l;
        ts_time_t end = syn_schedule(&p, 1, 0, &l);
        assert_times(&l, want[i], 7);
        ck_assert_uint_eq(end, give_up[i]);
    }
}
END_TEST

/* Gaps of a jittered schedule, each within +-pct of the policy's own gap. */
static void assert_jitter_bounds(const syn_log *l, const syn_log *plain, uint32_t pct)
{
    ck_assert_uint_eq(l->n, plain->n);
    for (size_t i = 1; i < l->n; i++) {
        ts_time_t g = l->t[i] - l->t[i - 1], g0 = plain->t[i] - plain->t[i - 1];
        ts_time_t spread = g0 * pct / 100;
        ck_assert_uint_ge(g, g0 - spread);
        ck_assert_uint_le(g, g0 + spread);
    }
}

START_TEST(jitter_deterministic_and_within_bounds)
{
    const char *pol[] = {"exponential", "linear", "constant"};
    for (int k = 0; k < 3; k++) {
        ts_params p = syn_params(pol[k]);
        syn_log plain, a, again, other_seed, other_port;
        syn_schedule(&p, 7, 40000, &plain);
        char err[128];
        ck_assert_int_eq(ts_params_set(&p, "backoff_jitter", "10%", err, sizeof err), 0);
        ts_time_t end = syn_schedule(&p, 7, 40000, &a);
        syn_schedule(&p, 7, 40000, &again);
        syn_schedule(&p, 8, 40000, &other_seed);
        syn_schedule(&p, 7, 40001, &other_port);
        assert_jitter_bounds(&a, &plain, 10);
        assert_jitter_bounds(&other_seed, &plain, 10);
        ck_assert_mem_eq(a.t, again.t, sizeof a.t); /* same seed, same connection */
        size_t moved = 0, differ_seed = 0, differ_port = 0;
        for (size_t i = 1; i < a.n; i++) {
            moved += a.t[i] - a.t[i - 1] != plain.t[i] - plain.t[i - 1];
            differ_seed += a.t[i] != other_seed.t[i];
            differ_port += a.t[i] != other_port.t[i];
        }
        ck_assert_uint_ge(moved, 5); /* 1 in 200001 odds per gap of landing on 0 */
        ck_assert_uint_ge(differ_seed, 5);
        ck_assert_uint_ge(differ_port, 5);
        /* the give-up expiry is jittered too: within 10% of the last plain gap */
        ck_assert_uint_ne(end, TS_TIME_NEVER);
    }
}
END_TEST

START_TEST(jitter_then_rto_max)
{
    /* syn_rto 100 s, rto_max 120 s, jitter 50%: exponential wants 100, 120, 120 ... s;
     * jitter spreads 100 s over 50..150 s and 120 s over 60..180 s, and rto_max cuts
     * every gap back to 120 s at most */
    ts_params p = syn_params("exponential");
    char err[128];
    ck_assert_int_eq(ts_params_set(&p, "syn_rto", "100s", err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&p, "backoff_jitter", "50", err, sizeof err), 0);
    syn_log l;
    syn_schedule(&p, 3, 40000, &l);
    ck_assert_uint_eq(l.n, 7);
    size_t capped = 0;
    for (size_t i = 1; i < l.n; i++) {
        ts_time_t g = l.t[i] - l.t[i - 1];
        ck_assert_uint_ge(g, i == 1 ? 50 * S : 60 * S);
        ck_assert_uint_le(g, 120 * S);
        capped += g == 120 * S;
    }
    ck_assert_uint_ge(capped, 1); /* P(none of 5 above 120 s of 60..180 s) = 1/32 ... */
}
END_TEST

/* ---- SYN-ACKs: the server's handshake timer goes through the same policy ---- */

static bool drop_a_after_syn(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h, (void)p;
    return from == H_A && idx > 1; /* A's SYN gets there, nothing A sends after it */
}

/* When B sent each SYN-ACK to a client whose ACKs never arrive (B's params: pb). */
static size_t synack_times(const ts_params *pb, ts_time_t *t, size_t max)
{
    harness *h = h_new(NULL, pb);
    h->drop = drop_a_after_syn;
    h_app a, b;
    h_app_init(&a, h, H_A);
    h_app_init(&b, h, H_B);
    h_app_listen(&b, 9000, 8);
    h_app_connect(&a, 0, 9000);
    h_run_until(h, 100 * S);
    size_t n = 0;
    for (size_t i = 0; i < h_nlog(h) && n < max; i++)
        if (h->log[i].from == H_B && h->log[i].flags == (TS_TH_SYN | TS_TH_ACK))
            t[n++] = h->log[i].t;
    h_app_free(&a);
    h_app_free(&b);
    h_free(h);
    return n;
}

START_TEST(synack_schedules)
{
    /* synack_retries 5: 6 SYN-ACKs; syn_linear is for SYNs only (Linux) */
    const char *pol[] = {"exponential", "linear", "constant"};
    const ts_time_t want[3][6] = {{0, 1 * S, 3 * S, 7 * S, 15 * S, 31 * S},
                                  {0, 1 * S, 3 * S, 6 * S, 10 * S, 15 * S},
                                  {0, 1 * S, 2 * S, 3 * S, 4 * S, 5 * S}};
    for (int i = 0; i < 3; i++) {
        ts_params pb = syn_params(pol[i]);
        pb.syn_linear = 4;
        ts_time_t t[16];
        ck_assert_uint_eq(synack_times(&pb, t, 16), 6);
        for (int k = 0; k < 6; k++) ck_assert_uint_eq(t[k], want[i][k]);
    }
    /* and jittered, within 25% of each gap, the same twice */
    ts_params pb = syn_params("linear");
    pb.backoff_jitter = 25;
    ts_time_t t[16], again[16];
    ck_assert_uint_eq(synack_times(&pb, t, 16), 6);
    ck_assert_uint_eq(synack_times(&pb, again, 16), 6);
    size_t moved = 0;
    for (int k = 1; k < 6; k++) {
        ts_time_t g = t[k] - t[k - 1], g0 = want[1][k] - want[1][k - 1];
        ck_assert_uint_ge(g, g0 - g0 / 4);
        ck_assert_uint_le(g, g0 + g0 / 4);
        ck_assert_uint_eq(t[k], again[k]);
        moved += g != g0;
    }
    ck_assert_uint_ge(moved, 4);
}
END_TEST

/* ---- data RTOs through two stacks ---- */

static bool drop_a_data(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)idx;
    bool *on = h->user;
    return *on && from == H_A && p->plen > 0;
}

static bool dropping; /* the running test's (Check forks per test) */

/* Times A sent the data at seq, and when A gave up (ETIMEDOUT). */
static size_t data_rto_schedule(const char *policy, const char *jitter, ts_time_t *t, size_t max,
                                ts_time_t *t0, ts_time_t *gave_up)
{
    ts_params pa;
    char err[128];
    ts_params_default(&pa);
    pa.tlp = false; /* the RTO schedule alone */
    ck_assert_int_eq(ts_params_set(&pa, "backoff_policy", policy, err, sizeof err), 0);
    if (jitter) ck_assert_int_eq(ts_params_set(&pa, "backoff_jitter", jitter, err, sizeof err), 0);
    dropping = false;
    h_conn k;
    h_conn_open(&k, &(h_conn_opts){.pa = &pa, .drop = drop_a_data, .user = &dropping});
    ts_tcp_info ai;
    ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
    ck_assert_uint_eq(ai.rto, 200 * MS + 1); /* no delay: 1 us + max(2 us, rto_min) */
    dropping = true;
    *t0 = k.h->now;
    ck_assert_int_eq(ts_send(k.h->st[H_A], k.ca.sd, "lost", 4), 4);
    h_run_until(k.h, *t0 + 3000 * S);
    size_t n = 0;
    for (size_t i = 0; i < h_nlog(k.h) && n < max; i++)
        if (k.h->log[i].from == H_A && k.h->log[i].plen && k.h->log[i].seq == ai.snd_nxt)
            t[n++] = k.h->log[i].t;
    ck_assert_int_eq(k.ca.err, -ETIMEDOUT);
    *gave_up = k.ca.err_at;
    h_conn_free(&k);
    return n;
}

START_TEST(data_linear_schedule)
{
    /* gaps (n + 1) * 200.001 ms up to the 120 s cap; retries2 = 15 */
    ts_time_t t[32], t0, end;
    size_t n = data_rto_schedule("linear", NULL, t, 32, &t0, &end);
    ck_assert_uint_eq(n, 16);
    ck_assert_uint_eq(t[0], t0);
    ts_time_t want = t0;
    for (size_t i = 1; i < n; i++) {
        want += i * (200 * MS + 1);
        ck_assert_uint_eq(t[i], want);
    }
    ck_assert_uint_eq(t[1] - t[0], 200001);
    ck_assert_uint_eq(t[2] - t[1], 400002);
    ck_assert_uint_eq(t[15] - t[14], 3000015);
    /* the 16th expiry: 200.001 ms * (1 + 2 + ... + 16) = 27.200136 s */
    ck_assert_uint_eq(end - t0, 27200136);
}
END_TEST

START_TEST(data_constant_schedule)
{
    ts_time_t t[32], t0, end;
    size_t n = data_rto_schedule("constant", NULL, t, 32, &t0, &end);
    ck_assert_uint_eq(n, 16);
    for (size_t i = 0; i < n; i++) ck_assert_uint_eq(t[i], t0 + i * (200 * MS + 1));
    ck_assert_uint_eq(end - t0, 16 * (200 * MS + 1));
}
END_TEST

START_TEST(data_jitter_within_bounds)
{
    ts_time_t t[32], plain[32], t0, p0, end, pend;
    size_t n0 = data_rto_schedule("exponential", NULL, plain, 32, &p0, &pend);
    size_t n = data_rto_schedule("exponential", "20%", t, 32, &t0, &end);
    ck_assert_uint_eq(n, n0);
    size_t moved = 0;
    for (size_t i = 1; i < n; i++) {
        ts_time_t g = t[i] - t[i - 1], g0 = plain[i] - plain[i - 1];
        ck_assert_uint_ge(g, g0 - g0 / 5);
        ck_assert_uint_le(g, g0 + g0 / 5 < 120 * S ? g0 + g0 / 5 : 120 * S);
        moved += g != g0;
    }
    ck_assert_uint_ge(moved, 10);
}
END_TEST

static Suite *backoff_suite(void)
{
    Suite *s = suite_create("backoff_policies");
    TCase *tc = tcase_create("backoff");
    tcase_add_test(tc, syn_exponential_1_3_7_15_31_63_gives_up_127s);
    tcase_add_test(tc, syn_linear_gaps_1_2_3_4_5_6_gives_up_28s);
    tcase_add_test(tc, syn_linear_after_syn_linear_2);
    tcase_add_test(tc, syn_constant_every_second);
    tcase_add_test(tc, syn_rto_max_caps_every_policy);
    tcase_add_test(tc, jitter_deterministic_and_within_bounds);
    tcase_add_test(tc, jitter_then_rto_max);
    tcase_add_test(tc, synack_schedules);
    tcase_add_test(tc, data_linear_schedule);
    tcase_add_test(tc, data_constant_schedule);
    tcase_add_test(tc, data_jitter_within_bounds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(backoff_suite());
}
