/* test_hz.c: the parameter hz, timers on Linux's ticks. With hz = 0 every timer fires at
 * its exact microsecond; with hz set, a duration is rounded up to whole ticks (jiffies),
 * the timer expires at jiffies + n and Linux's timer wheel runs it on the first tick of
 * the next bucket: one tick later below 63 ticks, rounded up to 8 ticks below 504, and so
 * on. Tick j starts at ceil(j * 1e6 / hz) us of virtual time. Exact firing instants for
 * the RTO, the delayed ACK and the RACK reordering timer, armed on and between ticks. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "peer.h"
#include "harness.h"

#define PORT 7300
#define MS   TS_MSEC

static char buf[8000];

static ts_params with_hz(unsigned hz, bool min_ticks)
{
    ts_params p;
    char err[128], v[16];
    ts_params_default(&p);
    snprintf(v, sizeof v, "%u", hz);
    ck_assert_int_eq(ts_params_set(&p, "hz", v, err, sizeof err), 0);
    ck_assert_int_eq(
        ts_params_set(&p, "timeout_min_ticks", min_ticks ? "on" : "off", err, sizeof err), 0);
    return p;
}

/* ---- RTO ---- */

/* B (the tcpsim server, 10 ms handshake RTT, so RTO = 10 + max(20, 200) = 210 ms) sends
 * one segment at `at` and the peer never ACKs it: when does the retransmission go out? */
static ts_time_t rto_fires_at(unsigned hz, ts_time_t at)
{
    ts_params pb = with_hz(hz, false);
    pb.sack = false; /* no TLP: the RTO alone */
    harness *h = h_new(NULL, &pb);
    peer pe;
    peer_open(&pe, h, PORT, false, false, 10 * MS, 320);
    h_run_until(h, at);
    ts_tcp_info ti;
    ck_assert_int_eq(ts_sock_info(h->st[H_B], pe.sd, &ti), 0);
    ck_assert_uint_eq(ti.rto, 210 * MS);
    size_t n = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, buf, 1000), 1000);
    peer_expect(&pe, n, 1, 1001, TS_TH_PSH | TS_TH_ACK, at);
    h_run_until(h, at + 1 * TS_SEC);
    ck_assert_uint_ge(peer_out(&pe, n), 2);
    const h_pkt *p = &h->log[n + 1];
    ck_assert_msg(p->seq - pe.iss == 1 && p->plen == 1000, "%s", p->line);
    ts_time_t t = p->t;
    h_free(h);
    return t;
}

START_TEST(rto_exact_without_hz)
{
    ck_assert_uint_eq(rto_fires_at(0, 11500), 221500); /* 11.5 ms + 210 ms, to the us */
    ck_assert_uint_eq(rto_fires_at(0, 12000), 222000);
}
END_TEST

/* HZ=250 (4 ms ticks): 210 ms is 53 ticks (52.5 rounded up). Armed anywhere in tick 2
 * (8-12 ms), it expires at tick 55 and runs at the start of tick 56: 224 ms, between 53
 * and 54 ticks after it was armed. Armed in tick 3, from its first microsecond on, it
 * runs at tick 57. */
START_TEST(rto_hz250)
{
    ck_assert_uint_eq(rto_fires_at(250, 10000), 224000);
    ck_assert_uint_eq(rto_fires_at(250, 11500), 224000);
    ck_assert_uint_eq(rto_fires_at(250, 11999), 224000);
    ck_assert_uint_eq(rto_fires_at(250, 12000), 228000);
    ck_assert_uint_eq(rto_fires_at(250, 15999), 228000);
}
END_TEST

/* HZ=1000: 210 ticks is past level 0 of the wheel (63 ticks), so the expiry is rounded
 * up to a multiple of 8 ticks, always past it: armed in tick 11, expiring at tick 221,
 * the timer runs at tick 224. */
START_TEST(rto_hz1000_wheel_level1)
{
    ck_assert_uint_eq(rto_fires_at(1000, 11000), 224000);
    ck_assert_uint_eq(rto_fires_at(1000, 11500), 224000);
    ck_assert_uint_eq(rto_fires_at(1000, 14000), 232000); /* expires at 224: runs at 232 */
}
END_TEST

/* ---- delayed ACK ---- */

/* B, without quick-ACKs, gets 500 bytes at `at`: its delayed ACK (40 ms) goes out when? */
static ts_time_t delack_fires_at(unsigned hz, ts_time_t at)
{
    ts_params pb = with_hz(hz, false);
    pb.quickack = false;
    harness *h = h_new(NULL, &pb);
    peer pe;
    peer_open(&pe, h, PORT, true, false, 10 * MS, 320);
    h_run_until(h, at);
    size_t n = h_nlog(h);
    peer_send(&pe, 1, 1, TS_TH_PSH | TS_TH_ACK, 320, NULL, 0, 500);
    ck_assert_uint_eq(peer_out(&pe, n), 0);
    h_run_until(h, at + 1 * TS_SEC);
    ck_assert_uint_ge(peer_out(&pe, n), 1);
    const h_pkt *p = &h->log[n];
    ck_assert_msg(p->flags == TS_TH_ACK && p->ack == 501 && p->plen == 0, "%s", p->line);
    ts_time_t t = p->t;
    h_free(h);
    return t;
}

START_TEST(delack_exact_without_hz)
{
    ck_assert_uint_eq(delack_fires_at(0, 21500), 61500);
}
END_TEST

/* 40 ms is 10 ticks at HZ=250 and 40 at HZ=1000; the ACK goes out on a tick boundary one
 * tick after the expiry, so 40 to 44 ms (HZ=250) or 40 to 41 ms (HZ=1000) later. */
START_TEST(delack_hz250_hz1000)
{
    ck_assert_uint_eq(delack_fires_at(250, 21500), 64000); /* tick 5 + 10 + 1 */
    ck_assert_uint_eq(delack_fires_at(250, 20000), 64000);
    ck_assert_uint_eq(delack_fires_at(250, 23999), 64000);
    ck_assert_uint_eq(delack_fires_at(1000, 21500), 62000); /* tick 21 + 40 + 1 */
    ck_assert_uint_eq(delack_fires_at(1000, 21000), 62000);
}
END_TEST

/* ---- the RACK reordering timer (RFC 8985 6.2) ---- */

/* packetdrill's fast_retransmit/fr-4pkt-fack-last-mss.pkt: 100 ms handshake RTT, 4
 * segments sent at 100 ms, the last SACKed at `sack_at`; the reordering timer (min_RTT/4
 * = 25 ms plus Linux's 2 ms floor) resends the first. When? */
static ts_time_t rack_fires_at(unsigned hz, bool min_ticks, ts_time_t sack_at)
{
    ts_params pb = with_hz(hz, min_ticks);
    harness *h = h_new(NULL, &pb);
    peer pe;
    peer_open(&pe, h, PORT, true, false, 100 * MS, 320);
    ck_assert_uint_eq(h->now, 100 * MS);
    size_t n = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, buf, 4000), 4000);
    ck_assert_uint_eq(peer_out(&pe, n), 4);
    h_run_until(h, sack_at);
    n = h_nlog(h);
    uint32_t sack[2] = {3001, 4001};
    peer_send(&pe, 1, 1, TS_TH_ACK, 320, sack, 1, 0);
    ck_assert_uint_eq(peer_out(&pe, n), 0); /* one SACK: not lost yet (DupThresh 3) */
    h_run_until(h, sack_at + 100 * MS);
    ck_assert_uint_ge(peer_out(&pe, n), 1);
    const h_pkt *p = &h->log[n];
    ck_assert_msg(p->seq - pe.iss == 1 && p->plen == 1000, "%s", p->line);
    ts_time_t t = p->t;
    h_free(h);
    return t;
}

START_TEST(rack_exact_without_hz)
{
    ck_assert_uint_eq(rack_fires_at(0, false, 200 * MS), 227 * MS);
    ck_assert_uint_eq(rack_fires_at(0, false, 201500), 228500);
    /* timeout_min_ticks means nothing without ticks */
    ck_assert_uint_eq(rack_fires_at(0, true, 201500), 228500);
}
END_TEST

/* Linux 6.6+ (and 6.1.60+): usecs_to_jiffies(25 ms + 2000 us). HZ=1000: 27 ticks, runs
 * at the 28th; HZ=250: 7 ticks (6.75 rounded up), runs at the 8th: 28 to 32 ms later. */
START_TEST(rack_hz_min_in_us)
{
    ck_assert_uint_eq(rack_fires_at(1000, false, 200 * MS), 228 * MS);
    ck_assert_uint_eq(rack_fires_at(1000, false, 201500), 229 * MS);
    ck_assert_uint_eq(rack_fires_at(250, false, 200 * MS), 232 * MS);
    ck_assert_uint_eq(rack_fires_at(250, false, 203999), 232 * MS);
}
END_TEST

/* Linux before 6.6 (6.1 before 6.1.60): usecs_to_jiffies(25 ms) + 2 ticks. HZ=250: 7 + 2
 * = 9 ticks, run at the 10th: whatever the phase of the SACK within its tick, 36 to 40 ms
 * after it, inside fr-4pkt-fack-last-mss's 40 +- 5 ms. HZ=1000: 25 + 2, as with the new
 * form. HZ=300 (3333.3 us ticks): 8 (7.5 rounded up) + 2, run at the 11th. */
START_TEST(rack_hz_min_in_ticks)
{
    ck_assert_uint_eq(rack_fires_at(250, true, 200 * MS), 240 * MS); /* on the tick */
    ck_assert_uint_eq(rack_fires_at(250, true, 201500), 240 * MS);   /* mid-tick */
    ck_assert_uint_eq(rack_fires_at(250, true, 203999), 240 * MS);   /* its last us */
    ck_assert_uint_eq(rack_fires_at(250, true, 204000), 244 * MS);   /* next tick */
    ck_assert_uint_eq(rack_fires_at(1000, true, 201500), 229 * MS);  /* 201 + 27 + 1 */
    ck_assert_uint_eq(rack_fires_at(300, true, 201500), 236667);     /* tick 60 + 11 */
    ck_assert_uint_eq(rack_fires_at(300, true, 200 * MS), 236667);   /* tick 60 too */
}
END_TEST

/* ---- the tail loss probe (RFC 8985 7.2) ---- */

/* B (10 ms handshake RTT, SACK) sends two segments at `at` and hears nothing: the probe
 * resends the last after PTO = 2 SRTT + Linux's 2 ms floor. When? */
static ts_time_t tlp_fires_at(unsigned hz, bool min_ticks, ts_time_t at)
{
    ts_params pb = with_hz(hz, min_ticks);
    harness *h = h_new(NULL, &pb);
    peer pe;
    peer_open(&pe, h, PORT, true, false, 10 * MS, 320);
    h_run_until(h, at);
    size_t n = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, buf, 2000), 2000);
    ck_assert_uint_eq(peer_out(&pe, n), 2);
    h_run_until(h, at + 100 * MS);
    ck_assert_uint_ge(peer_out(&pe, n), 3);
    const h_pkt *p = &h->log[n + 2];
    ck_assert_msg(p->seq - pe.iss == 1001 && p->plen == 1000, "%s", p->line);
    ts_time_t t = p->t;
    h_free(h);
    return t;
}

/* hz=0: 20 + 2 ms to the us. HZ=250, 6.6+ form: usecs_to_jiffies(22 ms) = 6 ticks, run at
 * the 7th; pre-6.6 form: 5 ticks + 2, run at the 8th. */
START_TEST(tlp_floor_in_us_or_ticks)
{
    ck_assert_uint_eq(tlp_fires_at(0, false, 21500), 43500);
    ck_assert_uint_eq(tlp_fires_at(250, false, 21500), 48 * MS); /* tick 5 + 6 + 1 */
    ck_assert_uint_eq(tlp_fires_at(250, true, 21500), 52 * MS);  /* tick 5 + 7 + 1 */
}
END_TEST

/* ---- the ACK of a FIN that comes before any data ---- */

/* Linux's ATO is still 0 then: a 0-tick delayed-ACK timer, which the wheel runs on the
 * next tick (hz=0: tcpsim's 1 ms stand-in for HZ=1000's next tick). */
static ts_time_t fin_ack_at(unsigned hz, ts_time_t at)
{
    ts_params pb = with_hz(hz, false);
    harness *h = h_new(NULL, &pb);
    peer pe;
    peer_open(&pe, h, PORT, true, false, 10 * MS, 320);
    h_run_until(h, at);
    size_t n = h_nlog(h);
    peer_send(&pe, 1, 1, TS_TH_FIN | TS_TH_ACK, 320, NULL, 0, 0);
    ck_assert_uint_eq(peer_out(&pe, n), 0);
    h_run_until(h, at + 100 * MS);
    ck_assert_uint_ge(peer_out(&pe, n), 1);
    const h_pkt *p = &h->log[n];
    ck_assert_msg(p->flags == TS_TH_ACK && p->ack == 2, "%s", p->line);
    ts_time_t t = p->t;
    h_free(h);
    return t;
}

START_TEST(fin_ack_on_the_next_tick)
{
    ck_assert_uint_eq(fin_ack_at(0, 21500), 22500);
    ck_assert_uint_eq(fin_ack_at(250, 21500), 24 * MS);
    ck_assert_uint_eq(fin_ack_at(1000, 21500), 22 * MS);
}
END_TEST

/* ---- the parameters ---- */

START_TEST(hz_param_bounds)
{
    ts_params p;
    char err[160], v[16];
    ts_params_default(&p);
    ck_assert_uint_eq(p.hz, 0); /* exact microseconds by default, in every profile */
    ck_assert(!p.timeout_min_ticks);
    const char *const *names = ts_params_profiles();
    for (; *names; names++) {
        ck_assert_int_eq(ts_params_profile(&p, *names, err, sizeof err), 0);
        ck_assert_uint_eq(p.hz, 0);
    }
    ck_assert_int_eq(ts_params_set(&p, "hz", "10001", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "hz"));
    ck_assert_int_eq(ts_params_set(&p, "hz", "-1", err, sizeof err), -1);
    /* only Linux's CONFIG_HZ values (and 0): the help lists them, tick.c models them */
    static const char *const bad[] = {"7", "1", "99", "200", "999", "1001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(ts_params_set(&p, "hz", bad[i], err, sizeof err), -1);
        ck_assert_ptr_nonnull(strstr(err, "is not a Linux CONFIG_HZ; use 100, 250, 300 or 1000"));
        ck_assert_uint_eq(p.hz, 0); /* a refused set leaves the block as it was */
    }
    p.hz = 7; /* a block built by hand is refused by validation, so by every front end */
    ck_assert_int_eq(ts_params_validate(&p, err, sizeof err), -1);
    ck_assert_str_eq(err,
                     "hz: 7 is not a Linux CONFIG_HZ; use 100, 250, 300 or 1000 (0 = exact us)");
    p.hz = 0;
    static const char *const good[] = {"0", "100", "250", "1000"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_int_eq(ts_params_set(&p, "hz", good[i], err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&p, "hz", "300", err, sizeof err), 0);
    ck_assert_int_eq(ts_params_get(&p, "hz", v, sizeof v), 0);
    ck_assert_str_eq(v, "300");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hz");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rto_exact_without_hz);
    tcase_add_test(tc, rto_hz250);
    tcase_add_test(tc, rto_hz1000_wheel_level1);
    tcase_add_test(tc, delack_exact_without_hz);
    tcase_add_test(tc, delack_hz250_hz1000);
    tcase_add_test(tc, rack_exact_without_hz);
    tcase_add_test(tc, rack_hz_min_in_us);
    tcase_add_test(tc, rack_hz_min_in_ticks);
    tcase_add_test(tc, tlp_floor_in_us_or_ticks);
    tcase_add_test(tc, fin_ack_on_the_next_tick);
    tcase_add_test(tc, hz_param_bounds);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
