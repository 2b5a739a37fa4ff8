/* test_tcp_rto_policies.c: the RTO estimators' knobs. rfc6298's clock granularity G
 * (rto_g) against RFC 6298 2's formula; `fixed` holding rto_init whatever the samples and
 * the handshake say; Karn's rule (RFC 6298 3) switched off: the ACK of a retransmitted
 * segment timed from its first transmission, and the RTO that results, next to the same
 * run with Karn on and with timestamps (whose echo makes the sample unambiguous), and a
 * retransmitted SYN timed from the first one; a live switch to fixed; RTTVAR read and
 * stored in RFC 6298 form through each policy's ops. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "bare_conn.h"
#include "internal.h"

#define MS TS_MSEC

static ts_conn *est_conn(const char *policy, ts_time_t g)
{
    ts_conn *c = bare_conn_new(policy);
    P(c)->rto_min = 1; /* let the formula show, not the floor */
    P(c)->rto_g = g;
    return c;
}

START_TEST(rfc6298_g_1ms_vs_100ms)
{
    /* four samples of 100 ms: SRTT 100 ms; RTTVAR 50, 37.5, 28.125, 21.09375 ms (2.2,
     * 2.3; kept in whole us: 21093). RTO = SRTT + max(G, 4 RTTVAR): with G = 1 ms the
     * variance term (84.372 ms) counts, with G = 100 ms G does */
    ts_conn *a = est_conn("rfc6298", 1 * MS), *b = est_conn("rfc6298", 100 * MS);
    const ts_time_t want_a[] = {300000, 250000, 212500, 184372};
    const ts_time_t want_b[] = {300000, 250000, 212500, 200000};
    for (int i = 0; i < 4; i++) {
        a->rto_ops->sample(a, 100 * MS);
        b->rto_ops->sample(b, 100 * MS);
        ck_assert_uint_eq(a->rto, want_a[i]);
        ck_assert_uint_eq(b->rto, want_b[i]);
    }
    ck_assert_uint_eq(a->rttvar, 21093);
    /* a steady path: RTTVAR decays to 0 and the RTO to SRTT + G */
    for (int i = 0; i < 60; i++) a->rto_ops->sample(a, 100 * MS), b->rto_ops->sample(b, 100 * MS);
    ck_assert_uint_eq(a->rttvar, 0);
    ck_assert_uint_eq(a->rto, 101 * MS);
    ck_assert_uint_eq(b->rto, 200 * MS);
    free(a);
    free(b);
}
END_TEST

START_TEST(rfc6298_g_in_the_handshake)
{
    /* 10 ms each way: the SYN-ACK times 20 ms; RTTVAR 10 ms; RTO = 20 + max(G, 40) ms */
    const char *g[] = {"1ms", "100ms"};
    const ts_time_t want[] = {60 * MS, 120 * MS};
    for (int i = 0; i < 2; i++) {
        ts_params pa;
        char err[128];
        ts_params_default(&pa);
        ck_assert_int_eq(ts_params_set(&pa, "rto_policy", "rfc6298", err, sizeof err), 0);
        ck_assert_int_eq(ts_params_set(&pa, "rto_min", "1us", err, sizeof err), 0);
        ck_assert_int_eq(ts_params_set(&pa, "rto_g", g[i], err, sizeof err), 0);
        h_conn k;
        h_conn_open(&k, &(h_conn_opts){.pa = &pa, .delay = 10 * MS});
        ts_tcp_info ai;
        ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
        ck_assert_uint_eq(ai.srtt, 20 * MS);
        ck_assert_uint_eq(ai.rto, want[i]);
        h_conn_free(&k);
    }
}
END_TEST

START_TEST(fixed_ignores_samples)
{
    ts_conn *c = est_conn("fixed", 1 * MS);
    P(c)->rto_init = 700 * MS;
    const ts_time_t r[] = {1, 100 * MS, 5 * TS_SEC, 20 * MS, 3 * MS};
    for (size_t i = 0; i < 5; i++) {
        c->rto_ops->sample(c, r[i]);
        ck_assert_uint_eq(c->rto, 700 * MS);
    }
    ck_assert_uint_gt(c->srtt, 0); /* SRTT is still kept, for TLP and RACK */
    free(c);
}
END_TEST

/* Drop A's first SYN (syns) and then its data while *on. */
typedef struct dropper {
    int syns, seen_syns;
    bool data;
} dropper;

static dropper drops; /* the running test's (Check forks per test) */

static bool drop_hook(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)idx;
    dropper *d = h->user;
    if (from != H_A) return false;
    if (p->flags & TS_TH_SYN) return d->seen_syns++ < d->syns;
    return d->data && p->plen > 0;
}

/* When A sent the data at seq for the nth time (1 = first). */
static ts_time_t sent_at(const harness *h, uint32_t seq, int nth)
{
    for (size_t i = 0; i < h_nlog(h); i++)
        if (h->log[i].from == H_A && h->log[i].plen && h->log[i].seq == seq && --nth == 0)
            return h->log[i].t;
    return TS_TIME_NEVER;
}

START_TEST(fixed_rto_through_the_stacks)
{
    /* rto_init 1.5 s: the handshake's 20 ms sample and, with the first SYN lost, RFC 6298
     * 5.7's 3 s fallback both leave the RTO at 1.5 s; a lost segment is resent 1.5 s on */
    for (int lost_syns = 0; lost_syns < 2; lost_syns++) {
        ts_params pa;
        char err[128];
        ts_params_default(&pa);
        pa.tlp = false;
        ck_assert_int_eq(ts_params_set(&pa, "rto_policy", "fixed", err, sizeof err), 0);
        ck_assert_int_eq(ts_params_set(&pa, "rto_init", "1.5s", err, sizeof err), 0);
        drops = (dropper){.syns = lost_syns};
        h_conn k;
        h_conn_open(&k, &(h_conn_opts){.pa = &pa,
                                       .delay = 10 * MS,
                                       .wait = 5 * TS_SEC,
                                       .drop = drop_hook,
                                       .user = &drops});
        ts_tcp_info ai;
        ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
        ck_assert_uint_eq(ai.rto, 1500 * MS);
        drops.data = true;
        ts_time_t t0 = k.h->now;
        ck_assert_int_eq(ts_send(k.h->st[H_A], k.ca.sd, "x", 1), 1);
        h_run_until(k.h, t0 + 2 * TS_SEC);
        ck_assert_uint_eq(sent_at(k.h, ai.snd_nxt, 2), t0 + 1500 * MS);
        drops.data = false;
        h_run_until(k.h, k.h->now + 5 * TS_SEC); /* 1.5 + 3 s: the backed-off one */
        ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
        ck_assert_uint_eq(ai.rto, 1500 * MS);
        h_conn_free(&k);
    }
}
END_TEST

/* rfc6298, 10 ms each way (SRTT 20 ms, RTTVAR 10 ms, RTO max(60 ms, rto_min) = 200 ms),
 * the first data segment lost once: resent at +200 ms, ACKed at +220 ms. Returns A's
 * tcp_info after the ACK. */
static ts_tcp_info karn_run(bool karn, bool timestamps, ts_time_t *resent)
{
    ts_params pa;
    char err[128];
    ts_params_default(&pa);
    pa.tlp = false;
    pa.timestamps = timestamps;
    ck_assert_int_eq(ts_params_set(&pa, "rto_policy", "rfc6298", err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&pa, "karn", karn ? "on" : "off", err, sizeof err), 0);
    drops = (dropper){0};
    h_conn k;
    h_conn_open(&k, &(h_conn_opts){.pa = &pa, .delay = 10 * MS, .drop = drop_hook, .user = &drops});
    ts_tcp_info ai;
    ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
    ck_assert_uint_eq(ai.srtt, 20 * MS);
    ck_assert_uint_eq(ai.rto, 200 * MS);
    uint32_t seq = ai.snd_nxt;
    drops.data = true;
    ts_time_t t0 = k.h->now;
    ck_assert_int_eq(ts_send(k.h->st[H_A], k.ca.sd, "karn", 4), 4);
    h_run_until(k.h, t0 + 199 * MS); /* the retransmission (at +200 ms) gets through */
    drops.data = false;
    h_run_until(k.h, t0 + 230 * MS); /* its ACK is in */
    *resent = sent_at(k.h, seq, 2) - t0;
    ck_assert_uint_eq(k.sb.rx_len, 4);
    ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
    h_conn_free(&k);
    return ai;
}

START_TEST(karn_off_takes_the_ambiguous_sample)
{
    ts_time_t resent;
    /* Karn on: the ACK of the retransmission is no sample; SRTT and the RTO stay */
    ts_tcp_info on = karn_run(true, false, &resent);
    ck_assert_uint_eq(resent, 200 * MS);
    ck_assert_uint_eq(on.srtt, 20 * MS);
    ck_assert_uint_eq(on.rto, 200 * MS);
    /* Karn off: timed from the FIRST transmission, R = 220 ms (the real RTT is 20 ms):
     * RTTVAR = 3/4 10 + 1/4 |20 - 220| = 57.5 ms, SRTT = 7/8 20 + 1/8 220 = 45 ms,
     * RTO = 45 + 4 * 57.5 = 275 ms: each loss inflates the RTO by the backoff it waited */
    ts_tcp_info off = karn_run(false, false, &resent);
    ck_assert_uint_eq(resent, 200 * MS);
    ck_assert_uint_eq(off.srtt, 45 * MS);
    ck_assert_uint_eq(off.rttvar, 57500);
    ck_assert_uint_eq(off.rto, 275 * MS);
    /* with timestamps the echo names the retransmission: a true 20 ms sample either way
     * (RTTVAR 3/4 of 10 ms, RTO max(20 + 30 ms, rto_min)) */
    ts_tcp_info ts = karn_run(false, true, &resent);
    ck_assert_uint_eq(ts.srtt, 20 * MS);
    ck_assert_uint_eq(ts.rttvar, 7500);
    ck_assert_uint_eq(ts.rto, 200 * MS);
}
END_TEST

START_TEST(karn_off_times_a_retransmitted_syn_from_the_first)
{
    /* the first SYN lost, no timestamps: Karn on gives no sample and RFC 6298 5.7's 3 s;
     * off times the SYN-ACK from the first SYN: R = 1.02 s, so Linux's estimator gives
     * SRTT 1.02 s + 2 R = 3.06 s */
    for (int karn = 1; karn >= 0; karn--) {
        ts_params pa;
        ts_params_default(&pa);
        pa.timestamps = false;
        pa.karn = karn;
        drops = (dropper){.syns = 1};
        h_conn k;
        h_conn_open(&k, &(h_conn_opts){.pa = &pa,
                                       .delay = 10 * MS,
                                       .wait = 3 * TS_SEC,
                                       .drop = drop_hook,
                                       .user = &drops});
        ts_tcp_info ai;
        ts_sock_info(k.h->st[H_A], k.ca.sd, &ai);
        ck_assert_uint_eq(ai.srtt, karn ? 0 : 1020 * MS);
        ck_assert_uint_eq(ai.rto, karn ? 3 * TS_SEC : 3060 * MS);
        h_conn_free(&k);
    }
}
END_TEST

START_TEST(switch_to_fixed_on_a_live_socket)
{
    /* rfc6298 (RTO 200 ms after the handshake) to fixed: rto_init at once, RTTVAR kept
     * in RFC 6298's convention (no Linux conversion between the two) */
    ts_params pa;
    char err[128];
    ts_params_default(&pa);
    ck_assert_int_eq(ts_params_set(&pa, "rto_policy", "rfc6298", err, sizeof err), 0);
    h_conn k;
    h_conn_open(&k, &(h_conn_opts){.pa = &pa, .delay = 10 * MS});
    ts_stack *a = k.h->st[H_A];
    ts_tcp_info ai;
    ts_sock_info(a, k.ca.sd, &ai);
    ck_assert_uint_eq(ai.rto, 200 * MS);
    ck_assert_uint_eq(ai.rttvar, 10 * MS);
    ck_assert_int_eq(ts_sock_set_param(a, k.ca.sd, "rto_policy", "fixed", err, sizeof err), 0);
    ts_sock_info(a, k.ca.sd, &ai);
    ck_assert_uint_eq(ai.rto, 1 * TS_SEC);
    ck_assert_uint_eq(ai.rttvar, 10 * MS);
    ck_assert_uint_eq(ai.srtt, 20 * MS);
    /* and back: the RFC's formula from the kept estimate at the next sample */
    ck_assert_int_eq(ts_sock_set_param(a, k.ca.sd, "rto_policy", "rfc6298", err, sizeof err), 0);
    ck_assert_int_eq(ts_send(a, k.ca.sd, "x", 1), 1);
    h_run_until(k.h, k.h->now + 1 * TS_SEC);
    ts_sock_info(a, k.ca.sd, &ai);
    ck_assert_uint_eq(ai.srtt, 20 * MS);
    ck_assert_uint_eq(ai.rttvar, 7500);
    ck_assert_uint_eq(ai.rto, 200 * MS);
    h_conn_free(&k);
}
END_TEST

/* Every policy reads and stores RTTVAR in RFC 6298's form through its ops, which is how
 * Eifel's step (11) and a policy switch reach the estimator without knowing which one it
 * is: linux keeps four times it (floored at rto_min) and its RTO = SRTT + that; rfc6298
 * keeps it as it is and RTO = SRTT + max(G, 4 RTTVAR); fixed keeps it and its RTO never
 * follows. */
START_TEST(rttvar_in_rfc_form_through_the_ops)
{
    const char *names[] = {"linux", "rfc6298", "fixed"};
    const ts_time_t want_rto[] = {500 * MS, 500 * MS, 1000 * MS};
    for (int i = 0; i < 3; i++) {
        ts_conn *c = est_conn(names[i], 1 * MS);
        P(c)->rto_min = 200 * MS;
        c->srtt = 100 * MS;
        ts_rto_set_rttvar_rfc(c, 100 * MS);
        ck_assert_uint_eq(ts_rto_rttvar_rfc(c), 100 * MS);
        if (c->rto_ops->set_rto) c->rto_ops->set_rto(c);
        ck_assert_uint_eq(c->rto, want_rto[i]);
        /* below linux's floor the stored deviation is rto_min: RTTVAR reads rto_min/4 */
        ts_rto_set_rttvar_rfc(c, 10 * MS);
        ck_assert_uint_eq(ts_rto_rttvar_rfc(c), i == 0 ? 50 * MS : 10 * MS);
        free(c);
    }
}
END_TEST

static Suite *rto_policies_suite(void)
{
    Suite *s = suite_create("rto_policies");
    TCase *tc = tcase_create("rto");
    tcase_add_test(tc, rfc6298_g_1ms_vs_100ms);
    tcase_add_test(tc, rfc6298_g_in_the_handshake);
    tcase_add_test(tc, fixed_ignores_samples);
    tcase_add_test(tc, fixed_rto_through_the_stacks);
    tcase_add_test(tc, karn_off_takes_the_ambiguous_sample);
    tcase_add_test(tc, karn_off_times_a_retransmitted_syn_from_the_first);
    tcase_add_test(tc, switch_to_fixed_on_a_live_socket);
    tcase_add_test(tc, rttvar_in_rfc_form_through_the_ops);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(rto_policies_suite());
}
