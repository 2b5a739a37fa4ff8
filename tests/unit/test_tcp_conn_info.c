/* test_tcp_conn_info.c: what the views read from the core: ts_stack_conn_info from inside
 * the observer gives the event's own connection at that moment (the series export records
 * the sender's variables at every event), the congestion state goes OPEN -> DISORDER ->
 * RECOVERY -> OPEN around a fast retransmit, the timers' deadlines match TIMER_SET, and a
 * challenge ACK says why it was sent. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "harness.h"

#define PORT 9100
#define MSS  1448

typedef struct obs {
    ts_stack *s;
    unsigned events, mismatches;
    bool seen[4];          /* congestion states seen */
    ts_ca_state order[16]; /* distinct successive congestion states */
    int norder;
    unsigned timer_checked; /* TIMER_SET events whose deadline the snapshot showed */
    unsigned flight_bad;
    unsigned vars_bad; /* events where ts_stack_conn_vars disagreed with conn_info */
    const char *why;   /* last non-NULL SEG_OUT why */
} obs;

static void on_event(void *ctx, const ts_event *ev)
{
    obs *o = ctx;
    if (ev->type == TS_EV_SEG_OUT && ev->u.seg.why) o->why = ev->u.seg.why;
    if (!ev->conn.id) return;
    ts_tcp_info ti;
    if (ts_stack_conn_info(o->s, ev->conn.id, &ti) < 0 || ti.conn_id != ev->conn.id ||
        ti.local.port != ev->conn.local.port) {
        o->mismatches++;
        return;
    }
    o->events++;
    /* The series' slim snapshot must say exactly what the full one says. */
    ts_conn_vars v;
    if (ts_stack_conn_vars(o->s, ev->conn.id, &v) < 0 || v.srtt != ti.srtt ||
        v.rttvar != ti.rttvar || v.rto != ti.rto || v.snd_una != ti.snd_una ||
        v.snd_nxt != ti.snd_nxt || v.snd_max != ti.snd_max || v.snd_wnd != ti.snd_wnd ||
        v.cwnd != ti.cwnd || v.ssthresh != ti.ssthresh || v.flight != ti.flight ||
        v.sacked != ti.sacked || v.lost != ti.lost || v.backoff != ti.backoff ||
        v.state != ti.state || v.ca_state != ti.ca_state)
        o->vars_bad++;
    if (ti.state == TS_ESTABLISHED || ti.state == TS_FIN_WAIT_1) {
        o->seen[ti.ca_state] = true;
        if (o->norder == 0 || o->order[o->norder - 1] != ti.ca_state)
            if (o->norder < 16) o->order[o->norder++] = ti.ca_state;
        if (ti.flight > ti.snd_max - ti.snd_una) o->flight_bad++;
    }
    if (ev->type == TS_EV_TIMER_SET && ti.timer[ev->u.timer.kind] == ev->u.timer.when)
        o->timer_checked++;
}

START_TEST(conn_info_follows_a_fast_retransmit)
{
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.port = PORT, .mss = MSS});
    harness *h = x.h;
    obs o = {.s = h->st[H_A]};
    ts_stack_set_event_fn(h->st[H_A], on_event, &o);
    h_bulk_start(&x, &(h_drop_plan){.segs = (const int[]){5}, .nsegs = 1}, 40 * MSS);
    h_run(h, h->now + 5 * TS_SEC);
    ck_assert(x.pl.drops); /* the fifth segment's first transmission */
    ck_assert_uint_eq(x.sb.rx_len, 40 * MSS);
    ck_assert_uint_eq(o.mismatches, 0);
    ck_assert_uint_gt(o.events, 100);
    ck_assert_uint_eq(o.flight_bad, 0);
    ck_assert_uint_eq(o.vars_bad, 0);
    ck_assert_uint_gt(o.timer_checked, 10);
    /* OPEN, then dupACKs/SACKs (DISORDER), then fast recovery, then OPEN again */
    ck_assert(o.seen[TS_CA_OPEN] && o.seen[TS_CA_DISORDER] && o.seen[TS_CA_RECOVERY]);
    ck_assert(!o.seen[TS_CA_LOSS]); /* no RTO */
    int rec = -1;
    for (int i = 0; i < o.norder; i++)
        if (o.order[i] == TS_CA_RECOVERY) rec = i;
    ck_assert_int_ge(rec, 2);
    ck_assert_int_eq(o.order[rec - 1], TS_CA_DISORDER);
    ck_assert_int_eq(o.order[o.norder - 1], TS_CA_OPEN);
    ck_assert_int_eq(ts_stack_conn_info(h->st[H_A], 9999, &(ts_tcp_info){0}), -ENOENT);
    ck_assert_int_eq(ts_stack_conn_vars(h->st[H_A], 9999, &(ts_conn_vars){0}), -ENOENT);
    ck_assert_str_eq(ts_ca_state_name(TS_CA_RECOVERY), "recovery");
    ck_assert_str_eq(ts_ca_state_name((ts_ca_state)9), "?");
    h_conn_free(&x);
}
END_TEST

START_TEST(challenge_ack_says_why)
{
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.port = PORT, .mss = MSS});
    harness *h = x.h;
    obs o = {.s = h->st[H_B]};
    ts_stack_set_event_fn(h->st[H_B], on_event, &o);
    ts_tcp_info bi;
    ck_assert_int_eq(ts_sock_info(h->st[H_B], x.sb.sd, &bi), 0);
    uint8_t pkt[1600];
    h_seg g = {.src = H_ADDR_A,
               .dst = H_ADDR_B,
               .sport = bi.remote.port,
               .dport = PORT,
               .seq = bi.rcv_nxt + 100,
               .flags = TS_TH_RST};
    size_t n = h_build(pkt, &g);
    h_inject(h, H_B, pkt, n); /* in window, not exact: RFC 5961 3.2 */
    ck_assert_ptr_nonnull(o.why);
    ck_assert_str_eq(o.why, "challenge ACK (RFC 5961)");
    h_conn_free(&x);
}
END_TEST

/* Before the handshake is done the snapshot must already make sense: a series row at
 * SYN_SENT or SYN_RECEIVED used to show SND.NXT 0, a wrapped flight and no ssthresh. */
typedef struct early {
    ts_stack *s;
    int seen;
} early;

static void on_early(void *ctx, const ts_event *ev)
{
    early *e = ctx;
    if (ev->type != TS_EV_STATE ||
        (ev->u.state.to != TS_SYN_SENT && ev->u.state.to != TS_SYN_RECEIVED))
        return;
    ts_tcp_info ti;
    ck_assert_int_eq(ts_stack_conn_info(e->s, ev->conn.id, &ti), 0);
    ck_assert_uint_eq(ti.snd_una, ti.iss);
    ck_assert_uint_eq(ti.snd_nxt, ti.iss); /* the SYN is not out yet */
    ck_assert_uint_eq(ti.snd_max, ti.iss);
    ck_assert_uint_eq(ti.flight, 0);
    ck_assert_uint_eq(ti.ssthresh, UINT32_MAX);  /* NewReno's "infinite" */
    ck_assert_uint_eq(ti.cwnd, 10 * ti.snd_mss); /* RFC 6928, with the MSS known so far */
    ck_assert_int_eq(ti.ca_state, TS_CA_OPEN);
    e->seen++;
}

START_TEST(snapshot_sane_before_established)
{
    harness *h = h_new(NULL, NULL);
    early ea = {.s = h->st[H_A]}, eb = {.s = h->st[H_B]};
    ts_stack_set_event_fn(h->st[H_A], on_early, &ea);
    ts_stack_set_event_fn(h->st[H_B], on_early, &eb);
    int l = ts_socket(h->st[H_B]), c = ts_socket(h->st[H_A]);
    ck_assert_int_eq(ts_bind(h->st[H_B], l, 0, PORT), 0);
    ck_assert_int_eq(ts_listen(h->st[H_B], l, 4), 0);
    ck_assert_int_eq(ts_connect(h->st[H_A], c, H_ADDR_B, PORT), -EINPROGRESS);
    h_run(h, TS_SEC);
    ck_assert_int_eq(ea.seen, 1);
    ck_assert_int_eq(eb.seen, 1);
    h_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conn_info");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, conn_info_follows_a_fast_retransmit);
    tcase_add_test(tc, challenge_ack_says_why);
    tcase_add_test(tc, snapshot_sane_before_established);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
