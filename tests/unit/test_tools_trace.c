/* test_tools_trace.c: one exact trace line per event type, virtual and real time stamps,
 * segment skipping, and safe output for unknown values and tiny buffers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"
#include "harness.h"

static ts_event ev_for(ts_event_type type, ts_time_t now)
{
    ts_event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.now = now;
    e.conn.id = 1;
    e.conn.local = (ts_endpoint){TS_IP4(10, 0, 0, 2), 40000};
    e.conn.remote = (ts_endpoint){TS_IP4(10, 0, 0, 1), 80};
    return e;
}

static const char *line(const ts_event *e, bool virt)
{
    static char buf[1024];
    size_t n = ts_trace_format(e, virt, buf, sizeof buf);
    ck_assert_uint_eq(n, strlen(buf));
    return buf;
}

#define PFX "conn 1 10.0.0.2.40000>10.0.0.1.80 "

START_TEST(state_timer_rexmit)
{
    ts_event e = ev_for(TS_EV_STATE, 31000);
    e.u.state.from = TS_SYN_SENT, e.u.state.to = TS_CLOSED;
    ck_assert_str_eq(line(&e, true), "0.031000 " PFX "state SYN_SENT -> CLOSED");

    e = ev_for(TS_EV_TIMER_SET, 1000000);
    e.u.timer.kind = TS_TIMER_RETRANSMIT, e.u.timer.when = 3000000;
    ck_assert_str_eq(line(&e, true), "1.000000 " PFX "timer rto set +2s");
    e.u.timer.when = TS_TIME_NEVER;
    ck_assert_str_eq(line(&e, true), "1.000000 " PFX "timer rto set never");
    e.type = TS_EV_TIMER_FIRE, e.u.timer.kind = TS_TIMER_DELACK;
    ck_assert_str_eq(line(&e, true), "1.000000 " PFX "timer delack fire");
    e.type = TS_EV_TIMER_CANCEL, e.u.timer.kind = TS_TIMER_TIME_WAIT;
    ck_assert_str_eq(line(&e, true), "1.000000 " PFX "timer time_wait cancel");

    e = ev_for(TS_EV_RETRANSMIT, 1000000);
    e.u.rexmit.kind = TS_REXMIT_SYN, e.u.rexmit.seq = 12345, e.u.rexmit.count = 1;
    e.u.rexmit.rto = 2 * TS_SEC;
    ck_assert_str_eq(line(&e, true), "1.000000 " PFX "rexmit syn seq 12345 len 0 #1 rto 2s");
    e.u.rexmit.kind = TS_REXMIT_FAST, e.u.rexmit.len = 1448, e.u.rexmit.rto = 300 * TS_MSEC;
    ck_assert_str_eq(line(&e, true), "1.000000 " PFX "rexmit fast seq 12345 len 1448 #1 rto 300ms");
}
END_TEST

START_TEST(rtt_cwnd_conn_drop)
{
    ts_event e = ev_for(TS_EV_RTT_SAMPLE, 2500000);
    e.u.rtt.sample = 100 * TS_MSEC, e.u.rtt.srtt = 100 * TS_MSEC, e.u.rtt.rttvar = 50 * TS_MSEC;
    e.u.rtt.rto = 300 * TS_MSEC;
    ck_assert_str_eq(line(&e, true),
                     "2.500000 " PFX "rtt sample 100ms srtt 100ms rttvar 50ms rto 300ms");
    e = ev_for(TS_EV_CWND, 0);
    e.u.cwnd.cwnd = 14600, e.u.cwnd.ssthresh = 4294967295u;
    ck_assert_str_eq(line(&e, true), "0.000000 " PFX "cwnd 14600 ssthresh 4294967295");
    e = ev_for(TS_EV_CONN_NEW, 0);
    ck_assert_str_eq(line(&e, true), "0.000000 " PFX "new");
    e.type = TS_EV_CONN_FREE;
    ck_assert_str_eq(line(&e, true), "0.000000 " PFX "free");

    e = ev_for(TS_EV_DROP, 5);
    e.conn.id = 0; /* a drop before any connection was found */
    e.u.drop.reason = TS_DROP_IP_CHECKSUM;
    ck_assert_str_eq(line(&e, true), "0.000005 drop ip-checksum");
    uint8_t ip[20] = {0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    e.u.drop.pkt = ip, e.u.drop.len = sizeof ip, e.u.drop.reason = TS_DROP_IP_PROTO;
    ck_assert_str_eq(line(&e, true),
                     "0.000005 drop ip-proto: IP 10.0.0.1 > 10.0.0.2: ip-proto-17 0");
    e.u.drop.reason = (ts_drop_reason)999;
    e.u.drop.pkt = NULL;
    ck_assert_str_eq(line(&e, true), "0.000005 drop ?");
}
END_TEST

START_TEST(segments_and_print)
{
    uint8_t ip[28] = {0x45, 0, 0,  28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0,
                      0,    1, 10, 0,  0, 2, 8, 0, 0,  0, 0, 7, 0,  1};
    ts_event e = ev_for(TS_EV_SEG_IN, 7);
    e.conn.id = 0;
    e.u.seg.pkt = ip, e.u.seg.len = sizeof ip;
    ck_assert_str_eq(
        line(&e, true),
        "0.000007 in IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 8");
    e.type = TS_EV_SEG_OUT;
    ck_assert_str_eq(
        line(&e, true),
        "0.000007 out IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 8");

    char *mem = NULL;
    size_t memlen = 0;
    FILE *f = open_memstream(&mem, &memlen);
    ck_assert_ptr_nonnull(f);
    ts_trace_print(f, &e, true, true); /* skipped */
    ts_event s = ev_for(TS_EV_STATE, 1000000);
    s.u.state.from = TS_ESTABLISHED, s.u.state.to = TS_FIN_WAIT_1;
    ts_trace_print(f, &s, true, true);
    ts_trace_print(f, &e, true, false);
    fclose(f);
    ck_assert_str_eq(mem, "1.000000 " PFX "state ESTABLISHED -> FIN_WAIT_1\n"
                          "0.000007 out IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, "
                          "length 8\n");
    free(mem);
}
END_TEST

START_TEST(real_time_and_odd_values)
{
    ts_event e = ev_for(TS_EV_STATE, (ts_time_t)19000 * 86400 * 1000000 + 27741201942ull);
    e.u.state.from = TS_LISTEN, e.u.state.to = (ts_state)77;
    ck_assert_str_eq(line(&e, false), "07:42:21.201942 " PFX "state LISTEN -> ?");
    e.type = (ts_event_type)99;
    ck_assert_str_eq(line(&e, false), "07:42:21.201942 " PFX "event 99");
    e.type = TS_EV_RETRANSMIT;
    e.u.rexmit.kind = (ts_rexmit_kind)9;
    ck_assert_ptr_nonnull(strstr(line(&e, false), "rexmit ? seq"));
    e.type = TS_EV_TIMER_FIRE, e.u.timer.kind = (ts_timer_kind)40;
    ck_assert_ptr_nonnull(strstr(line(&e, false), "timer ? fire"));
    /* tiny buffers stay terminated and report what fits */
    char small[12];
    e.type = TS_EV_CONN_NEW;
    ck_assert_uint_eq(ts_trace_format(&e, false, small, sizeof small), 11);
    ck_assert_str_eq(small, "07:42:21.20");
    ck_assert_uint_eq(ts_trace_format(&e, false, small, 0), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tools_trace");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, state_timer_rexmit);
    tcase_add_test(tc, rtt_cwnd_conn_drop);
    tcase_add_test(tc, segments_and_print);
    tcase_add_test(tc, real_time_and_odd_values);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
