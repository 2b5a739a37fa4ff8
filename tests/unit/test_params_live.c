/* test_params_live.c: every parameter a user can change on a live socket is safe to change
 * at any moment (issue 11, item 2). Each risky change is made on both ends of a 400 KB
 * transfer with losses, once in the middle of the transfer and once in the middle of a
 * loss recovery (with SACK ranges held when SACK recovery runs), and the transfer must
 * then complete whole, byte for byte. Switching recovery from sack to newreno with SACK
 * ranges held used to stall the connection for good: the stale scoreboard made the
 * flight underflow. Parameters agreed in the handshake are refused once the SYN has gone
 * (they apply to new connections only), and really do not change the live connection. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "harness.h"

#define PORT  6000
#define D     (5 * TS_MSEC)
#define TOTAL 400000

typedef struct change {
    const char *name;
    const char *from; /* set on both stacks before the connection opens (NULL = default) */
    const char *to;   /* set on both sockets mid-transfer */
} change;

static const change changes[] = {
    {"recovery", NULL, "newreno"},
    {"recovery", "newreno", "sack"},
    {"cc", NULL, "cubic"},
    {"cc", "cubic", "reno"},
    {"cc", "cubic", "newreno"},
    {"cc", NULL, "reno"},
    {"rto_policy", NULL, "rfc6298"},
    {"rto_policy", "rfc6298", "linux"},
    {"backoff", NULL, "1"},
    {"backoff", NULL, "16"},
    {"rto_min", NULL, "1s"},
    {"rto_min", NULL, "1ms"},
    {"rto_max", NULL, "1s"},
    {"delack", NULL, "0"},
    {"delack", NULL, "200ms"},
    {"delack_max", NULL, "500ms"},
    {"delack_segs", NULL, "64"},
    {"quickack", NULL, "off"},
    {"nagle", NULL, "off"},
    {"tlp", NULL, "off"},
    {"limited_transmit", NULL, "off"},
    {"abc", NULL, "0"},
    {"abc", NULL, "2"},
    {"init_cwnd", NULL, "1"},
    {"rcvbuf", NULL, "4096"},
    {"rcvbuf", "65536", "1073741824"},
    {"sndbuf", NULL, "4096"},
    {"hz", NULL, "250"},
    {"hz", "1000", "0"},
    {"timeout_min_ticks", "on", "off"},
    {"unsent_ack_reply", NULL, "off"},
    {"invalid_ratelimit", NULL, "0"},
    {"invalid_ratelimit", "0", "3600s"},
    {"keepalive", NULL, "on"},
    {"keepalive_idle", NULL, "1s"},
    {"user_timeout", NULL, "3600s"},
    {"orphan_retries", NULL, "1"},
    {"dsack", NULL, "off"}, /* the receiver's next duplicate: no D-SACK block */
    {"dsack", "off", "on"},
    /* agreed in the handshake: refused */
    {"mss", NULL, "536"},
    {"wscale", NULL, "0"},
    {"wscale_on", NULL, "off"},
    {"sack", NULL, "off"},
    {"sack", "off", "on"},
    {"timestamps", NULL, "off"},
};
#define NCHANGES ((int)(sizeof changes / sizeof changes[0]))

static void set_or_fail(ts_params *p, const char *name, const char *value)
{
    char err[200];
    ck_assert_msg(ts_params_set(p, name, value, err, sizeof err) == 0, "%s=%s: %s", name, value,
                  err);
}

/* Is A (the sender) where the moment wants it? 0: 30 ms into the transfer; 1: in loss
 * recovery, holding SACK ranges if SACK recovery runs. */
static bool at_moment(h_conn *x, int moment)
{
    if (moment == 0) return x->h->now >= x->t0 + 30 * TS_MSEC;
    ts_tcp_info ai;
    ck_assert_int_eq(ts_sock_info(x->h->st[H_A], x->ca.sd, &ai), 0);
    ts_params p;
    ts_sock_get_params(x->h->st[H_A], x->ca.sd, &p);
    bool sack_rec = ai.sack_ok && !strcmp(p.recovery, "sack");
    return ai.in_recovery && (!sack_rec || ai.sacked > 0);
}

START_TEST(change_mid_transfer_completes_whole)
{
    const change *ch = &changes[_i / 2];
    int moment = _i % 2;
    ts_params p;
    ts_params_default(&p);
    if (!strcmp(ch->name, "timeout_min_ticks")) set_or_fail(&p, "hz", "250");
    if (ch->from) set_or_fail(&p, ch->name, ch->from);
    h_conn x;
    /* losses: some first transmissions, one of them lost again */
    static const int segs[] = {20, 22, 24, 60, 61, 150};
    h_drop_plan plan = {.segs = segs, .nsegs = 6, .rexmit_drops = 1};
    h_bulk_open(&x, &(h_conn_opts){.pa = &p, .pb = &p, .delay = D, .port = PORT}, &plan, TOTAL);
    harness *h = x.h;
    while (!at_moment(&x, moment)) {
        ck_assert_msg(h->now < x.t0 + 10 * TS_SEC, "%s=%s: the moment never came", ch->name,
                      ch->to);
        h_run_until(h, h->now + 100 * TS_USEC);
    }
    bool syn = !strcmp(ts_params_when(ch->name), "syn");
    int socks[2] = {x.ca.sd, x.sb.sd};
    for (int side = 0; side < 2; side++) {
        ts_stack *st = h->st[side];
        ts_params before, after;
        char err[200] = "";
        ts_sock_get_params(st, socks[side], &before);
        int rc = ts_sock_set_param(st, socks[side], ch->name, ch->to, err, sizeof err);
        ts_sock_get_params(st, socks[side], &after);
        char want[64], got[64];
        ts_params_get(&after, ch->name, got, sizeof got);
        if (syn) { /* refused, the block unchanged, the reason said */
            ck_assert_int_eq(rc, -EINVAL);
            ck_assert_ptr_nonnull(strstr(err, "applies to new connections only"));
            ts_params_get(&before, ch->name, want, sizeof want);
        } else { /* taken: the socket's block says the new value */
            ck_assert_msg(rc == 0, "%s=%s: %s", ch->name, ch->to, err);
            ts_params canon = before;
            set_or_fail(&canon, ch->name, ch->to);
            ts_params_get(&canon, ch->name, want, sizeof want);
        }
        ck_assert_str_eq(got, want);
    }
    h_run_until(h, x.t0 + 300 * TS_SEC);
    ck_assert_msg(x.sb.rx_len == TOTAL, "%s=%s at moment %d: %zu of %d bytes arrived", ch->name,
                  ch->to, moment, x.sb.rx_len, TOTAL);
    ck_assert_uint_eq(h_app_check(&x.sb), TOTAL);
    ck_assert(x.sb.eof);
    ck_assert_int_eq(x.ca.err, 0);
    ck_assert_int_eq(x.sb.err, 0);
    /* and in reasonable time: a stall ends only by the RTO's backoff, minutes later */
    ck_assert_uint_lt(h_conn_acked_at(&x, TOTAL), x.t0 + 60 * TS_SEC);
    h_conn_free(&x);
}
END_TEST

/* The bug itself, step by step: SACK recovery holding ranges, switched to NewReno. The
 * scoreboard goes with the switch, and the flight output sees never exceeds what is
 * really outstanding. */
START_TEST(sack_to_newreno_drops_the_scoreboard)
{
    h_conn x;
    static const int segs[] = {20, 22, 24};
    h_drop_plan plan = {.segs = segs, .nsegs = 3};
    h_bulk_open(&x, &(h_conn_opts){.delay = D, .port = PORT}, &plan, TOTAL);
    harness *h = x.h;
    while (!at_moment(&x, 1)) h_run_until(h, h->now + 100 * TS_USEC);
    ts_tcp_info ai;
    ts_sock_info(h->st[H_A], x.ca.sd, &ai);
    ck_assert_uint_gt(ai.sacked, 0);
    char err[200];
    ck_assert_int_eq(ts_sock_set_param(h->st[H_A], x.ca.sd, "recovery", "newreno", err, sizeof err),
                     0);
    ts_sock_info(h->st[H_A], x.ca.sd, &ai);
    ck_assert_uint_eq(ai.sacked, 0);
    while (x.sb.rx_len < TOTAL && h->now < x.t0 + 60 * TS_SEC) {
        h_run_until(h, h->now + 1 * TS_MSEC);
        ts_sock_info(h->st[H_A], x.ca.sd, &ai);
        ck_assert_uint_le(ai.flight, ai.snd_max - ai.snd_una);
        ck_assert_uint_eq(ai.sacked, 0); /* NewReno keeps no scoreboard */
    }
    ck_assert_uint_eq(x.sb.rx_len, TOTAL);
    ck_assert_uint_eq(h_app_check(&x.sb), TOTAL);
    h_conn_free(&x);
}
END_TEST

/* Keepalive switched on mid-connection arms its timer at once (from the last segment
 * heard, as Linux's SO_KEEPALIVE); a new idle time re-arms it; switched off, no probe
 * goes out even when the old timer was due. */
START_TEST(keepalive_switched_on_and_off_live)
{
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.delay = D, .port = PORT});
    harness *h = x.h;
    ts_stack *a = h->st[H_A];
    char err[200];
    ts_time_t heard = h->now; /* nothing moves after the handshake */
    h_run_until(h, 100 * TS_SEC);
    ck_assert_int_eq(ts_sock_set_param(a, x.ca.sd, "keepalive_idle", "200s", err, sizeof err), 0);
    ck_assert_int_eq(ts_sock_set_param(a, x.ca.sd, "keepalive", "on", err, sizeof err), 0);
    ts_tcp_info ai;
    ts_sock_info(a, x.ca.sd, &ai);
    ts_time_t last_in = ai.timer[TS_TIMER_KEEPALIVE] - 200 * TS_SEC;
    ck_assert_uint_le(last_in, heard);
    ck_assert_uint_ge(ai.timer[TS_TIMER_KEEPALIVE], 200 * TS_SEC);
    /* a shorter idle time, already passed: due at once */
    ck_assert_int_eq(ts_sock_set_param(a, x.ca.sd, "keepalive_idle", "10s", err, sizeof err), 0);
    ts_sock_info(a, x.ca.sd, &ai);
    ck_assert_uint_eq(ai.timer[TS_TIMER_KEEPALIVE], h->now);
    size_t n0 = h_nlog(h);
    h_run_until(h, h->now + 1 * TS_SEC);
    ck_assert_uint_gt(h_nlog(h), n0); /* the probe, and B's answer */
    ck_assert_uint_eq(h->log[n0].from, H_A);
    ck_assert_uint_eq(h->log[n0].t, 100 * TS_SEC);
    ck_assert_int_eq(ts_sock_set_param(a, x.ca.sd, "keepalive", "off", err, sizeof err), 0);
    ts_sock_info(a, x.ca.sd, &ai);
    ck_assert_uint_eq(ai.timer[TS_TIMER_KEEPALIVE], TS_TIME_NEVER);
    size_t n1 = h_nlog(h);
    h_run_until(h, h->now + 20000 * TS_SEC);
    ck_assert_uint_eq(h_nlog(h), n1);
    ck_assert_int_eq(x.ca.err, 0);
    h_conn_free(&x);
}
END_TEST

/* cc=cubic, then newreno, then cubic again: CUBIC starts afresh (no epoch from before),
 * and cwnd and ssthresh are kept across each switch. */
START_TEST(cc_switch_keeps_cwnd_and_restarts_state)
{
    h_conn x;
    h_bulk_open(&x, &(h_conn_opts){.delay = D, .port = PORT}, NULL, TOTAL);
    harness *h = x.h;
    ts_stack *a = h->st[H_A];
    h_run_until(h, x.t0 + 40 * TS_MSEC);
    ts_tcp_info before, after;
    char err[200];
    const char *seq[] = {"cubic", "newreno", "cubic", "reno"};
    for (size_t i = 0; i < 4; i++) {
        ts_sock_info(a, x.ca.sd, &before);
        ck_assert_int_eq(ts_sock_set_param(a, x.ca.sd, "cc", seq[i], err, sizeof err), 0);
        ts_sock_info(a, x.ca.sd, &after);
        ck_assert_str_eq(after.cc, seq[i]);
        ck_assert_uint_eq(after.cwnd, before.cwnd);
        ck_assert_uint_eq(after.ssthresh, before.ssthresh);
        h_run_until(h, h->now + 20 * TS_MSEC);
    }
    h_run_until(h, x.t0 + 60 * TS_SEC);
    ck_assert_uint_eq(h_app_check(&x.sb), TOTAL);
    ck_assert_uint_eq(x.sb.rx_len, TOTAL);
    h_conn_free(&x);
}
END_TEST

/* rto_policy carries the estimate over: the RTO right after a switch is the new
 * estimator's formula on the same SRTT and deviation, both ways. */
START_TEST(rto_policy_switch_carries_the_estimate)
{
    h_conn x;
    h_bulk_open(&x, &(h_conn_opts){.delay = 50 * TS_MSEC, .port = PORT}, NULL, 20000);
    harness *h = x.h;
    ts_stack *a = h->st[H_A];
    h_run_until(h, x.t0 + 2 * TS_SEC);
    char err[200];
    ts_tcp_info i0, i1, i2;
    ts_sock_info(a, x.ca.sd, &i0);
    ck_assert_uint_gt(i0.srtt, 0);
    ck_assert_int_eq(ts_sock_set_param(a, x.ca.sd, "rto_policy", "rfc6298", err, sizeof err), 0);
    ts_sock_info(a, x.ca.sd, &i1);
    ck_assert_uint_eq(i1.srtt, i0.srtt);
    ck_assert_uint_eq(i1.rttvar, i0.rttvar / 4); /* linux keeps 4x the deviation */
    ck_assert_int_eq(ts_sock_set_param(a, x.ca.sd, "rto_policy", "linux", err, sizeof err), 0);
    ts_sock_info(a, x.ca.sd, &i2);
    ck_assert_uint_eq(i2.rttvar, 4 * i1.rttvar > 200 * TS_MSEC ? 4 * i1.rttvar : 200 * TS_MSEC);
    ck_assert_uint_eq(x.sb.rx_len, 20000);
    h_conn_free(&x);
}
END_TEST

/* What applies to new connections only really reaches only them: a listener's change
 * reaches the children it makes afterwards; ts_stack_set_params the sockets made after. */
START_TEST(open_params_reach_new_connections_only)
{
    harness *h = h_new(NULL, NULL);
    h->delay = D;
    h_app sb, c1, c2;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 4);
    h_app_init(&c1, h, H_A);
    h_app_connect(&c1, 0, PORT);
    h_run_until(h, 1 * TS_SEC);
    int b1 = sb.sd;
    char err[200];
    /* the listener's block: mss for its next children (its SYN is yet to come) */
    ck_assert_int_eq(ts_sock_set_param(h->st[H_B], sb.lsd, "mss", "536", err, sizeof err), 0);
    /* the stack's defaults: for sockets made from now on */
    ts_params d = *ts_stack_params(h->st[H_A]);
    ck_assert_int_eq(ts_params_set(&d, "mss", "1000", err, sizeof err), 0);
    ck_assert_int_eq(ts_stack_set_params(h->st[H_A], &d, err, sizeof err), 0);
    /* the connected socket refuses it */
    ck_assert_int_eq(ts_sock_set_param(h->st[H_A], c1.sd, "mss", "600", err, sizeof err), -EINVAL);
    ck_assert_str_eq(err, "mss: agreed in the handshake, so it applies to new connections only; "
                          "set it before connect, on the listener or as a default (--set)");
    h_app_init(&c2, h, H_A);
    h_app_connect(&c2, 0, PORT);
    h_run_until(h, 2 * TS_SEC);
    int b2 = sb.sd;
    ck_assert_int_ne(b1, b2);
    ts_tcp_info i1, i2, j1, j2;
    ts_sock_info(h->st[H_A], c1.sd, &i1);
    ts_sock_info(h->st[H_A], c2.sd, &i2);
    ts_sock_info(h->st[H_B], b1, &j1);
    ts_sock_info(h->st[H_B], b2, &j2);
    ck_assert_uint_eq(i1.snd_mss, 1448); /* the first connection is as it was */
    ck_assert_uint_eq(j1.snd_mss, 1448);
    ck_assert_uint_eq(i2.snd_mss, 536 - 12); /* B's new child offered 536 */
    ck_assert_uint_eq(j2.snd_mss, 536 - 12);
    ck_assert_uint_eq(i2.rcv_mss, 1000 - 12); /* A's new socket offered 1000 */
    ck_assert_uint_eq(i1.rcv_mss, 1460 - 12);
    h_app_free(&sb);
    h_app_free(&c1);
    h_app_free(&c2);
    h_free(h);
}
END_TEST

/* Every parameter says when a change takes effect, in one of the six words. */
START_TEST(every_parameter_says_when)
{
    static const char *const words[] = {"now", "timer", "open", "syn", "listen", "stack"};
    for (size_t i = 0; i < ts_params_count(); i++) {
        const char *w = ts_params_when(ts_params_info(i)->name);
        ck_assert_ptr_nonnull(w);
        bool known = false;
        for (size_t k = 0; k < 6; k++) known |= !strcmp(w, words[k]);
        ck_assert_msg(known, "%s: '%s'", ts_params_info(i)->name, w);
    }
    ck_assert_ptr_null(ts_params_when("nonsense"));
    ck_assert_str_eq(ts_params_when("mss"), "syn");
    ck_assert_str_eq(ts_params_when("recovery"), "now");
    ck_assert_str_eq(ts_params_when("mem_max"), "stack");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("params_live");
    TCase *tc = tcase_create("live");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, change_mid_transfer_completes_whole, 0, 2 * NCHANGES);
    tcase_add_test(tc, sack_to_newreno_drops_the_scoreboard);
    tcase_add_test(tc, keepalive_switched_on_and_off_live);
    tcase_add_test(tc, cc_switch_keeps_cwnd_and_restarts_state);
    tcase_add_test(tc, rto_policy_switch_carries_the_estimate);
    tcase_add_test(tc, open_params_reach_new_connections_only);
    tcase_add_test(tc, every_parameter_says_when);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
