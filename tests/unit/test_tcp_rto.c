/* test_tcp_rto.c: retransmission timing. The estimators against RFC 6298's formulas and
 * Linux's (REFERENCE.md checklist 17), then, through two stacks in virtual time: Karn's
 * rule, exponential backoff capped at rto_max, retries2 then -ETIMEDOUT (Linux's 924.6 s),
 * the RFC 6298 5.7 fallback after a retransmitted SYN, and TCP_USER_TIMEOUT. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "bare_conn.h"
#include "internal.h"

#define PORT 8000

/* ---- the estimators alone ---- */

static ts_conn *est_conn(const char *policy, ts_time_t rto_min)
{
    ts_conn *c = bare_conn_new(policy);
    P(c)->rto_min = rto_min;
    return c;
}

START_TEST(rfc6298_formulas_for_a_series)
{
    /* RFC 6298 2.2 and 2.3 in real numbers; the implementation works in microseconds and
     * may round each step down, so allow a few microseconds */
    const double samples_ms[] = {100, 200, 50, 300, 120, 120, 120, 1000, 10, 80};
    ts_conn *c = est_conn("rfc6298", 1 * TS_MSEC);
    double srtt = 0, rttvar = 0;
    for (size_t i = 0; i < sizeof samples_ms / sizeof samples_ms[0]; i++) {
        double r = samples_ms[i] * 1000;
        if (i == 0) {
            srtt = r;
            rttvar = r / 2;
        } else {
            rttvar = 0.75 * rttvar + 0.25 * fabs(srtt - r);
            srtt = 0.875 * srtt + 0.125 * r;
        }
        double rto = srtt + fmax(1000.0, 4 * rttvar);
        c->rto_ops->sample(c, (ts_time_t)r);
        ck_assert_msg(fabs((double)c->srtt - srtt) <= 8, "sample %zu: srtt %llu want %.1f", i,
                      (unsigned long long)c->srtt, srtt);
        ck_assert_msg(fabs((double)c->rttvar - rttvar) <= 8, "sample %zu: rttvar %llu want %.1f", i,
                      (unsigned long long)c->rttvar, rttvar);
        ck_assert_msg(fabs((double)c->rto - rto) <= 40, "sample %zu: rto %llu want %.1f", i,
                      (unsigned long long)c->rto, rto);
    }
    free(c);
    /* exact values for the first two: 100 ms -> 300 ms; 200 ms -> 112.5 + 4 * 62.5 */
    c = est_conn("rfc6298", 1 * TS_MSEC);
    c->rto_ops->sample(c, 100 * TS_MSEC);
    ck_assert_uint_eq(c->rto, 300 * TS_MSEC);
    c->rto_ops->sample(c, 200 * TS_MSEC);
    ck_assert_uint_eq(c->srtt, 112500);
    ck_assert_uint_eq(c->rttvar, 62500);
    ck_assert_uint_eq(c->rto, 362500);
    free(c);
}
END_TEST

START_TEST(rfc6298_bounds)
{
    /* 2.4: below 1 s rounds up to 1 s (the rfc profile's rto_min) */
    ts_params p;
    ts_params_default(&p);
    char err[128];
    ck_assert_int_eq(ts_params_profile(&p, "rfc", err, sizeof err), 0);
    ck_assert_str_eq(p.rto_policy, "rfc6298");
    ck_assert_uint_eq(p.rto_min, 1 * TS_SEC);
    ts_conn *c = est_conn("rfc6298", p.rto_min);
    c->rto_ops->sample(c, 100 * TS_MSEC);
    ck_assert_uint_eq(c->rto, 1 * TS_SEC);
    free(c);
    /* 2.5: the cap (120 s) */
    c = est_conn("rfc6298", 200 * TS_MSEC);
    c->rto_ops->sample(c, 100 * TS_SEC);
    ck_assert_uint_eq(c->rto, 120 * TS_SEC);
    free(c);
}
END_TEST

START_TEST(linux_estimator_first_samples)
{
    /* RTO = R + max(2R, rto_min) after a first sample R */
    const ts_time_t r[] = {100 * TS_MSEC, 20 * TS_MSEC, 1 * TS_MSEC, 500 * TS_MSEC};
    const ts_time_t want[] = {300 * TS_MSEC, 220 * TS_MSEC, 201 * TS_MSEC, 1500 * TS_MSEC};
    for (int i = 0; i < 4; i++) {
        ts_conn *c = est_conn("linux", 200 * TS_MSEC);
        c->rto_ops->sample(c, r[i]);
        ck_assert_uint_eq(c->rto, want[i]);
        free(c);
    }
    /* a steady RTT keeps RTO at srtt + rto_min once the deviation decays */
    ts_conn *c = est_conn("linux", 200 * TS_MSEC);
    for (int i = 0; i < 50; i++) {
        c->snd_una += 10, c->snd_nxt += 10; /* one RTT period per sample */
        c->rto_ops->sample(c, 100 * TS_MSEC);
    }
    ck_assert_uint_eq(c->srtt, 100 * TS_MSEC);
    ck_assert_uint_eq(c->rto, 300 * TS_MSEC);
    free(c);
}
END_TEST

/* ---- through the stacks ---- */

typedef struct dropper {
    int syns; /* drop A's first n SYNs */
    int data; /* drop A's first n data segments (-1: all) */
    int seen_syn, seen_data;
} dropper;

static bool drop_hook(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)idx;
    dropper *d = h->user;
    if (from != H_A) return false;
    if (p->flags & TS_TH_SYN) return d->seen_syn++ < d->syns;
    if (p->plen) return d->data < 0 || d->seen_data++ < d->data;
    return false;
}

static dropper drops; /* the running test's (Check forks a process per test) */

static void conn_open(h_conn *k, const ts_params *pa, ts_time_t delay, int drop_syns)
{
    drops = (dropper){.syns = drop_syns};
    h_conn_open(k, &(h_conn_opts){.pa = pa,
                                  .delay = delay,
                                  .port = PORT,
                                  .wait = 10 * TS_SEC,
                                  .drop = drop_hook,
                                  .user = &drops});
}

/* Times at which A sent a segment carrying data at seq. */
static size_t data_times(const harness *h, uint32_t seq, ts_time_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < h_nlog(h) && n < max; i++)
        if (h->log[i].from == H_A && h->log[i].plen && h->log[i].seq == seq) out[n++] = h->log[i].t;
    return n;
}

START_TEST(karn_no_sample_from_retransmission)
{
    ts_params pa;
    ts_params_default(&pa);
    pa.timestamps = false; /* with timestamps, TSecr would time the retransmission itself */
    h_conn k;
    conn_open(&k, &pa, 10 * TS_MSEC, 0);
    ts_tcp_info ai;
    ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
    ck_assert_uint_eq(ai.srtt, 20 * TS_MSEC); /* the handshake's sample */
    ck_assert_uint_eq(ai.rto, 220 * TS_MSEC);
    drops.data = 1;
    ts_time_t t0 = k.h->now;
    ck_assert_int_eq(ts_send(k.h->st[H_A], k.ca.sd, "karn", 4), 4);
    h_run_until(k.h, t0 + 5 * TS_SEC);
    ts_time_t t[4];
    ck_assert_uint_eq(data_times(k.h, ai.snd_nxt, t, 4), 2);
    ck_assert_uint_eq(t[1], t0 + 220 * TS_MSEC);
    ck_assert_uint_eq(k.sb.rx_len, 4);
    /* the ACK came 240 ms after the first transmission: not a sample (RFC 6298 3) */
    ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
    ck_assert_uint_eq(ai.srtt, 20 * TS_MSEC);
    /* the backed-off RTO stays until a new sample (RFC 6298 5.7 keeps it; Linux resets
     * icsk_backoff on the ACK, recomputing from srtt): next unretransmitted data restores it */
    drops.data = 0;
    ck_assert_int_eq(ts_send(k.h->st[H_A], k.ca.sd, "more", 4), 4);
    h_run_until(k.h, k.h->now + 1 * TS_SEC);
    ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
    ck_assert_uint_eq(ai.srtt, 20 * TS_MSEC);
    h_conn_free(&k);
}
END_TEST

/* Expected expiry times of a segment first sent at t0 with base RTO b: doubling, capped. */
static ts_time_t expiry(ts_time_t t0, ts_time_t b, ts_time_t cap, int n)
{
    ts_time_t t = t0, r = b;
    for (int i = 0; i < n; i++) {
        t += r < cap ? r : cap;
        r = r * 2 < cap ? r * 2 : cap;
    }
    return t;
}

START_TEST(backoff_to_rto_max_then_etimedout_924s)
{
    /* These tests pin RFC 6298's RTO schedule, so the tail loss probe that Linux sends
     * before the first RTO (RFC 8985; covered by test_tcp_tlp.c) is off here. */
    ts_params pa;
    ts_params_default(&pa);
    pa.tlp = false;
    h_conn k;
    conn_open(&k, &pa, 0, 0); /* no delay: RTO = 1 us + max(2 us, 200 ms) */
    ts_tcp_info ai;
    ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
    ts_time_t base = ai.rto;
    ck_assert_uint_eq(base, 200 * TS_MSEC + 1);
    drops.data = -1; /* the network eats all of A's data from now on */
    ts_time_t t0 = k.h->now;
    ck_assert_int_eq(ts_send(k.h->st[H_A], k.ca.sd, "lost", 4), 4);
    h_run_until(k.h, t0 + 2000 * TS_SEC);
    ts_time_t t[32];
    size_t n = data_times(k.h, ai.snd_nxt, t, 32);
    ck_assert_uint_eq(n, 16); /* the first transmission and retries2 = 15 retransmissions */
    for (size_t i = 0; i < n; i++) ck_assert_uint_eq(t[i], expiry(t0, base, 120 * TS_SEC, (int)i));
    /* the gaps double to 102.4 s, then stay at the 120 s cap */
    ck_assert_uint_eq(t[10] - t[9], 102400 * TS_MSEC + 512);
    ck_assert_uint_eq(t[11] - t[10], 120 * TS_SEC);
    ck_assert_uint_eq(t[15] - t[14], 120 * TS_SEC);
    /* -ETIMEDOUT at the 16th expiry: (2^10 - 1) * 0.2 s + 6 * 120 s = 924.6 s (here plus
     * 1023 us, as the base RTO is 200.001 ms) */
    ts_time_t give_up = expiry(t0, base, 120 * TS_SEC, 16);
    ck_assert_uint_eq(give_up - t0, 924600 * TS_MSEC + 1023);
    ck_assert_int_eq(k.ca.err, -ETIMEDOUT);
    ck_assert_uint_eq(k.ca.err_at, give_up);
    char b;
    ck_assert_int_eq(ts_recv(k.h->st[H_A], k.ca.sd, &b, 1), -ETIMEDOUT);
    ck_assert_uint_eq(ts_stack_counters(k.h->st[H_A])->tcp_rto_timeouts, 15);
    h_conn_free(&k);
}
END_TEST

START_TEST(retries2_parameter)
{
    ts_params pa;
    ts_params_default(&pa);
    pa.retries2 = 3;
    pa.tlp = false; /* the RTO schedule alone (see above) */
    h_conn k;
    conn_open(&k, &pa, 10 * TS_MSEC, 0);
    drops.data = -1;
    ts_time_t t0 = k.h->now;
    ck_assert_int_eq(ts_send(k.h->st[H_A], k.ca.sd, "lost", 4), 4);
    h_run_until(k.h, t0 + 100 * TS_SEC);
    /* 220, 440, 880 ms, then the 4th expiry (1760 ms later) gives up */
    ck_assert_int_eq(k.ca.err, -ETIMEDOUT);
    ck_assert_uint_eq(k.ca.err_at, t0 + 3300 * TS_MSEC);
    h_conn_free(&k);
}
END_TEST

START_TEST(syn_retransmitted_fallback_rto_3s)
{
    h_conn k;
    conn_open(&k, NULL, 10 * TS_MSEC, 1); /* first SYN lost: no RTT sample (Karn) */
    ts_tcp_info ai;
    ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
    ck_assert_uint_eq(ai.rto, 3 * TS_SEC); /* RFC 6298 5.7 */
    ck_assert_uint_eq(ai.srtt, 0);
    ck_assert_uint_eq(ai.cwnd, 10 * ai.snd_mss); /* one retransmission keeps IW10 */
    drops.data = 1;
    ts_time_t t0 = k.h->now;
    ck_assert_int_eq(ts_send(k.h->st[H_A], k.ca.sd, "x", 1), 1);
    h_run_until(k.h, t0 + 10 * TS_SEC);
    ts_time_t t[4];
    ck_assert_uint_eq(data_times(k.h, ai.snd_nxt, t, 4), 2);
    ck_assert_uint_eq(t[1], t0 + 3 * TS_SEC);
    h_conn_free(&k);
}
END_TEST

START_TEST(two_syn_retransmissions_cwnd_one)
{
    h_conn k;
    conn_open(&k, NULL, 10 * TS_MSEC, 2);
    ts_tcp_info ai;
    ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
    ck_assert_uint_eq(ai.rto, 3 * TS_SEC);
    ck_assert_uint_eq(ai.cwnd, ai.snd_mss); /* Linux: cwnd 1 after > 1 retransmission */
    h_conn_free(&k);
}
END_TEST

START_TEST(user_timeout_clamps_rto)
{
    ts_params pa;
    ts_params_default(&pa);
    char err[128];
    ck_assert_int_eq(ts_params_set(&pa, "user_timeout", "5s", err, sizeof err), 0);
    pa.tlp = false; /* the RTO schedule alone (see above) */
    h_conn k;
    conn_open(&k, &pa, 10 * TS_MSEC, 0);
    drops.data = -1;
    ts_time_t t0 = k.h->now;
    ck_assert_int_eq(ts_send(k.h->st[H_A], k.ca.sd, "lost", 4), 4);
    h_run_until(k.h, t0 + 100 * TS_SEC);
    /* expiries at 0.22, 0.66, 1.54, 3.3 s; the next (6.82 s) is clamped to 5 s, where the
     * connection is aborted */
    ts_time_t t[8];
    ts_tcp_info ai;
    ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
    size_t n = data_times(k.h, ai.snd_una, t, 8);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(t[4], t0 + 3300 * TS_MSEC);
    ck_assert_int_eq(k.ca.err, -ETIMEDOUT);
    ck_assert_uint_eq(k.ca.err_at, t0 + 5 * TS_SEC);
    h_conn_free(&k);
}
END_TEST

static Suite *rto_suite(void)
{
    Suite *s = suite_create("rto");
    TCase *tc = tcase_create("rto");
    tcase_add_test(tc, rfc6298_formulas_for_a_series);
    tcase_add_test(tc, rfc6298_bounds);
    tcase_add_test(tc, linux_estimator_first_samples);
    tcase_add_test(tc, karn_no_sample_from_retransmission);
    tcase_add_test(tc, backoff_to_rto_max_then_etimedout_924s);
    tcase_add_test(tc, retries2_parameter);
    tcase_add_test(tc, syn_retransmitted_fallback_rto_3s);
    tcase_add_test(tc, two_syn_retransmissions_cwnd_one);
    tcase_add_test(tc, user_timeout_clamps_rto);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(rto_suite());
}
