/* test_tcp_states.c: the RFC 9293 state machine, each transition checked through the
 * stack's TS_EV_STATE events and the exact segments on the wire, in virtual time:
 * open and close on both sides, simultaneous open and close, TIME-WAIT (Linux 60 s, RFC
 * 240 s), the orphaned FIN-WAIT-2 timeout against a shutdown-only socket, RSTs (closed port,
 * close in SYN-SENT, close with unread data, segment after close), the listen backlog and
 * the SYN-ACK retransmission schedule. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define PORT 6379
#define D    (2 * TS_MSEC) /* one-way delay */

static void expect_path(const harness *h, int side, uint32_t conn, const char *want)
{
    char got[512];
    h_state_path(h, side, conn, got, sizeof got);
    if (strcmp(got, want)) h_dump(h);
    ck_assert_str_eq(got, want);
}

/* When side's connection conn entered state st (the last time); TS_TIME_NEVER if never. */
static ts_time_t entered(const harness *h, int side, uint32_t conn, ts_state st)
{
    ts_time_t t = TS_TIME_NEVER;
    for (size_t i = 0; i < h->nstates; i++)
        if (h->states[i].side == side && h->states[i].conn == conn && h->states[i].to == st)
            t = h->states[i].t;
    return t;
}

static void expect_flags(const harness *h, size_t from, const char *const *want, size_t n)
{
    if (h_nlog(h) != from + n) h_dump(h);
    ck_assert_uint_eq(h_nlog(h), from + n);
    for (size_t i = 0; i < n; i++) {
        char got[24];
        snprintf(got, sizeof got, "%c %s", h->log[from + i].from == H_A ? 'A' : 'B',
                 h_flags(h->log[from + i].flags));
        if (strcmp(got, want[i])) h_dump(h);
        ck_assert_str_eq(got, want[i]);
    }
}

static harness *pair(const ts_params *pa, const ts_params *pb)
{
    harness *h = h_new(pa, pb);
    h->delay = D;
    return h;
}

/* Open A -> B (harness.h), run 1 s; return with the connection established. */
static harness *open_conn(h_conn *x, const ts_params *pa, const ts_params *pb)
{
    h_conn_open(x, &(h_conn_opts){.pa = pa, .pb = pb, .delay = D, .port = PORT});
    ck_assert_int_eq(x->sb.naccepted, 1);
    return x->h;
}

static void close_and_time_wait(const ts_params *p, ts_time_t tw)
{
    h_conn x;
    harness *h = open_conn(&x, p, p);
    x.sb.close_on_eof = true;
    ck_assert_int_eq(ts_close(h->st[H_A], x.ca.sd), 0);
    ts_time_t tc = h->now;
    h_run_until(h, tc + tw - 1);
    uint32_t a = h_conn_id(h, H_A, 0), b = h_conn_id(h, H_B, PORT);
    expect_path(h, H_A, a, "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT");
    expect_path(h, H_B, b, "SYN_RECEIVED ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
    /* B's FIN (carrying the ACK of A's FIN) left as soon as B read EOF and closed */
    ck_assert_uint_eq(entered(h, H_A, a, TS_TIME_WAIT), tc + 2 * D);
    ck_assert_uint_eq(entered(h, H_B, b, TS_CLOSED), tc + 3 * D);
    h_run_until(h, tc + 2 * D + tw - 1);
    ck_assert_uint_eq(ts_stack_counters(h->st[H_A])->conns_by_state[TS_TIME_WAIT], 1);
    h_run_until(h, tc + 2 * D + tw);
    expect_path(h, H_A, a, "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSED");
    ck_assert_uint_eq(entered(h, H_A, a, TS_CLOSED), tc + 2 * D + tw);
    ck_assert_uint_eq(ts_stack_counters(h->st[H_A])->conns_by_state[TS_TIME_WAIT], 0);
    ck_assert_uint_eq(ts_stack_next_deadline(h->st[H_A]), TS_TIME_NEVER);
    h_conn_free(&x);
}

START_TEST(active_close_time_wait_60s)
{
    close_and_time_wait(NULL, 60 * TS_SEC);
}
END_TEST

START_TEST(active_close_time_wait_240s_rfc_profile)
{
    ts_params p;
    ts_params_default(&p);
    char err[128];
    ck_assert_int_eq(ts_params_profile(&p, "rfc", err, sizeof err), 0);
    ck_assert_uint_eq(p.time_wait, 240 * TS_SEC);
    close_and_time_wait(&p, 240 * TS_SEC);
}
END_TEST

static bool drop_all(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h, (void)from, (void)p, (void)idx;
    return true;
}

START_TEST(time_wait_answers_retransmitted_fin_and_restarts)
{
    /* RFC 9293 3.10.7.4: in TIME-WAIT a retransmitted FIN is ACKed and restarts 2MSL */
    h_conn x;
    harness *h = open_conn(&x, NULL, NULL);
    x.sb.close_on_eof = true;
    ts_close(h->st[H_A], x.ca.sd);
    ts_time_t tc = h->now;
    h_run_until(h, tc + 10 * TS_SEC);
    uint32_t a = h_conn_id(h, H_A, 0);
    ck_assert_uint_eq(entered(h, H_A, a, TS_TIME_WAIT), tc + 2 * D);
    /* replay B's FIN (the 5th segment) into A */
    size_t fin = 0;
    for (size_t i = 0; i < h_nlog(h); i++)
        if (h->log[i].from == H_B && (h->log[i].flags & TS_TH_FIN)) fin = i;
    ck_assert_uint_ne(fin, 0);
    size_t n0 = h_nlog(h);
    /* A's answer must not reach B's stack: B has forgotten the connection and would answer
     * with a RST that kills A's TIME-WAIT (RFC 1337's assassination, which Linux allows) */
    h->drop = drop_all;
    h_inject(h, H_A, h->log[fin].data, h->log[fin].len);
    ck_assert_uint_eq(h_nlog(h), n0 + 1);
    ck_assert_uint_eq(h->log[n0].flags, TS_TH_ACK);
    ck_assert_uint_eq(h->log[n0].ack, h->log[fin].seq + 1);
    h_run_until(h, tc + 10 * TS_SEC + 60 * TS_SEC - 1);
    ck_assert_uint_eq(entered(h, H_A, a, TS_CLOSED), TS_TIME_NEVER);
    h_run_until(h, tc + 10 * TS_SEC + 60 * TS_SEC);
    ck_assert_uint_eq(entered(h, H_A, a, TS_CLOSED), tc + 70 * TS_SEC);
    h_conn_free(&x);
}
END_TEST

START_TEST(passive_close_last_ack)
{
    /* B closes first: B goes FIN_WAIT_1 ... TIME_WAIT, A through CLOSE_WAIT and LAST_ACK */
    h_conn x;
    harness *h = open_conn(&x, NULL, NULL);
    x.ca.close_on_eof = true;
    size_t n0 = h_nlog(h);
    ts_time_t tc = h->now;
    ck_assert_int_eq(ts_close(h->st[H_B], x.sb.sd), 0);
    h_run_until(h, tc + 1 * TS_SEC);
    const char *want[] = {"B F.", "A F.", "B ."};
    expect_flags(h, n0, want, 3);
    uint32_t a = h_conn_id(h, H_A, 0), b = h_conn_id(h, H_B, PORT);
    expect_path(h, H_A, a, "SYN_SENT ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
    expect_path(h, H_B, b, "SYN_RECEIVED ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT");
    ck_assert_uint_eq(entered(h, H_A, a, TS_LAST_ACK), tc + D);
    ck_assert_uint_eq(entered(h, H_A, a, TS_CLOSED), tc + 3 * D);
    ck_assert(x.ca.eof);
    h_conn_free(&x);
}
END_TEST

START_TEST(simultaneous_open)
{
    /* RFC 9293 3.5 figure 7: both connect at once; the SYNs cross; each answers with a
     * SYN-ACK carrying its own ISS again, and each SYN-ACK completes the other side */
    harness *h = pair(NULL, NULL);
    h_app a, b;
    h_app_init(&a, h, H_A);
    h_app_init(&b, h, H_B);
    h_app_connect(&a, 5000, 6000);
    h_app_connect(&b, 6000, 5000);
    h_run_until(h, 5 * TS_SEC);
    ck_assert(a.events & TS_SOCK_CONNECTED);
    ck_assert(b.events & TS_SOCK_CONNECTED);
    uint32_t ia = h_conn_id(h, H_A, 5000), ib = h_conn_id(h, H_B, 6000);
    expect_path(h, H_A, ia, "SYN_SENT SYN_RECEIVED ESTABLISHED");
    expect_path(h, H_B, ib, "SYN_SENT SYN_RECEIVED ESTABLISHED");
    ck_assert_uint_eq(entered(h, H_A, ia, TS_SYN_RECEIVED), D);
    ck_assert_uint_eq(entered(h, H_A, ia, TS_ESTABLISHED), 2 * D);
    ck_assert_uint_eq(entered(h, H_B, ib, TS_ESTABLISHED), 2 * D);
    /* as Linux: S, S, S., S. and nothing else (no retransmission, no drop) */
    const char *want[] = {"A S", "B S", "B S.", "A S."}; /* A's SYN arrived first */
    expect_flags(h, 0, want, 4);
    ck_assert_uint_eq(h->log[3].seq, h->log[0].seq); /* the same ISS */
    ck_assert_uint_eq(h->log[2].seq, h->log[1].seq);
    ck_assert_uint_eq(h->log[3].ack, h->log[1].seq + 1);
    ck_assert_uint_eq(h->log[2].ack, h->log[0].seq + 1);
    for (int s = 0; s < 2; s++)
        for (int r = 0; r < TS_DROP_NUM_REASONS; r++)
            ck_assert_uint_eq(ts_stack_counters(h->st[s])->drops[r], 0);
    /* and data flows both ways */
    ck_assert_int_eq(ts_send(h->st[H_A], a.sd, "ping", 4), 4);
    ck_assert_int_eq(ts_send(h->st[H_B], b.sd, "pong", 4), 4);
    h_run_until(h, 6 * TS_SEC);
    ck_assert_uint_eq(a.rx_len, 4);
    ck_assert_uint_eq(b.rx_len, 4);
    ck_assert_int_eq(memcmp(a.rx, "pong", 4), 0);
    h_app_free(&a);
    h_app_free(&b);
    h_free(h);
}
END_TEST

START_TEST(simultaneous_close)
{
    h_conn x;
    harness *h = open_conn(&x, NULL, NULL);
    size_t n0 = h_nlog(h);
    ts_time_t tc = h->now;
    ts_close(h->st[H_A], x.ca.sd);
    ts_close(h->st[H_B], x.sb.sd);
    h_run_until(h, tc + 1 * TS_SEC);
    /* A's FIN was sent first, so it arrives first and B's ACK of it leaves first */
    const char *want[] = {"A F.", "B F.", "B .", "A ."};
    expect_flags(h, n0, want, 4);
    uint32_t a = h_conn_id(h, H_A, 0), b = h_conn_id(h, H_B, PORT);
    expect_path(h, H_A, a, "SYN_SENT ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT");
    expect_path(h, H_B, b, "SYN_RECEIVED ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT");
    ck_assert_uint_eq(entered(h, H_A, a, TS_CLOSING), tc + D);
    ck_assert_uint_eq(entered(h, H_A, a, TS_TIME_WAIT), tc + 2 * D);
    ck_assert_uint_eq(entered(h, H_B, b, TS_TIME_WAIT), tc + 2 * D);
    h_run_until(h, tc + 2 * D + 60 * TS_SEC);
    ck_assert_uint_eq(entered(h, H_A, a, TS_CLOSED), tc + 2 * D + 60 * TS_SEC);
    ck_assert_uint_eq(entered(h, H_B, b, TS_CLOSED), tc + 2 * D + 60 * TS_SEC);
    h_conn_free(&x);
}
END_TEST

START_TEST(orphan_fin_wait2_times_out_60s)
{
    h_conn x;
    harness *h = open_conn(&x, NULL, NULL); /* B never closes */
    ts_time_t tc = h->now;
    ts_close(h->st[H_A], x.ca.sd);
    h_run_until(h, tc + 200 * TS_SEC);
    uint32_t a = h_conn_id(h, H_A, 0);
    expect_path(h, H_A, a, "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 CLOSED");
    /* B's ACK of the FIN waited for its delayed-ACK timer (Linux: pingpong after a FIN);
     * no data ever arrived, so Linux's ATO is still 0 and the timer fires on the next
     * 1 ms tick (packetdrill close/close-remote-fin-then-close.pkt) */
    ts_time_t fw2 = entered(h, H_A, a, TS_FIN_WAIT_2);
    ck_assert_uint_eq(fw2, tc + 2 * D + 1 * TS_MSEC);
    ck_assert_uint_eq(entered(h, H_A, a, TS_CLOSED), fw2 + 60 * TS_SEC);
    /* the timeout is silent (Linux's FIN-WAIT-2 timewait socket just expires) */
    ck_assert_uint_eq(h_count(h, H_A, TS_TH_RST | TS_TH_ACK) + h_count(h, H_A, TS_TH_RST), 0);
    /* B closes later: its FIN meets no connection and draws a RST */
    size_t n0 = h_nlog(h);
    ts_close(h->st[H_B], x.sb.sd);
    h_run_until(h, h->now + 1 * TS_SEC);
    const char *want[] = {"B F.", "A R"};
    expect_flags(h, n0, want, 2);
    ck_assert_uint_eq(h->log[n0 + 1].seq, h->log[n0].ack);
    h_conn_free(&x);
}
END_TEST

START_TEST(shutdown_fin_wait2_waits_indefinitely)
{
    h_conn x;
    harness *h = open_conn(&x, NULL, NULL);
    ts_time_t tc = h->now;
    ck_assert_int_eq(ts_shutdown(h->st[H_A], x.ca.sd, TS_SHUT_WR), 0);
    h_run_until(h, tc + 10000 * TS_SEC);
    uint32_t a = h_conn_id(h, H_A, 0);
    expect_path(h, H_A, a, "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2");
    ts_tcp_info ti;
    ts_sock_info(h->st[H_A], x.ca.sd, &ti);
    ck_assert_int_eq(ti.state, TS_FIN_WAIT_2);
    ck_assert_uint_eq(ts_stack_next_deadline(h->st[H_A]), TS_TIME_NEVER);
    /* B can still send; then closes; A goes to TIME-WAIT */
    ck_assert_int_eq(ts_send(h->st[H_B], x.sb.sd, "late", 4), 4);
    ts_close(h->st[H_B], x.sb.sd);
    h_run_until(h, h->now + 1 * TS_SEC);
    ck_assert_uint_eq(x.ca.rx_len, 4);
    ck_assert(x.ca.eof);
    expect_path(h, H_A, a, "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT");
    h_conn_free(&x);
}
END_TEST

START_TEST(rst_from_closed_port_refuses)
{
    harness *h = pair(NULL, NULL);
    h_app ca;
    h_app_init(&ca, h, H_A);
    h_app_connect(&ca, 0, 7777); /* nobody listens */
    h_run_until(h, 100 * TS_SEC);
    const char *want[] = {"A S", "B R."};
    expect_flags(h, 0, want, 2);
    /* RFC 9293 3.10.7.1: no ACK in the SYN, so SEQ = 0 and ACK = SEG.SEQ + SEG.LEN */
    ck_assert_uint_eq(h->log[1].seq, 0);
    ck_assert_uint_eq(h->log[1].ack, h->log[0].seq + 1);
    ck_assert_int_eq(ca.err, -ECONNREFUSED);
    ck_assert_uint_eq(ca.err_at, 2 * D);
    ck_assert(ca.events & TS_SOCK_CLOSED);
    char buf[4];
    ck_assert_int_eq(ts_recv(h->st[H_A], ca.sd, buf, 4), -ECONNREFUSED);
    ck_assert_uint_eq(ts_stack_counters(h->st[H_A])->tcp_syn_retransmits, 0);
    ck_assert_uint_eq(ts_stack_counters(h->st[H_B])->drops[TS_DROP_TCP_NO_SOCKET], 1);
    ck_assert_uint_eq(ts_stack_next_deadline(h->st[H_A]), TS_TIME_NEVER);
    h_app_free(&ca);
    h_free(h);
}
END_TEST

START_TEST(close_in_syn_sent_then_synack_gets_rst)
{
    harness *h = pair(NULL, NULL);
    h->delay = 10 * TS_MSEC;
    h_app ca, sb;
    h_app_init(&ca, h, H_A);
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 16);
    h_app_connect(&ca, 0, PORT);
    h_run_until(h, 5 * TS_MSEC);
    ck_assert_int_eq(ts_close(h->st[H_A], ca.sd), 0); /* no RST from SYN-SENT */
    ck_assert_uint_eq(h_nlog(h), 1);
    h_run_until(h, 100 * TS_SEC);
    const char *want[] = {"A S", "B S.", "A R"};
    expect_flags(h, 0, want, 3);
    ck_assert_uint_eq(h->log[2].seq, h->log[1].ack); /* SEQ = SEG.ACK */
    ck_assert_uint_eq(h->log[2].t, 20 * TS_MSEC);
    /* B's embryo is reset back to nothing: no more SYN-ACKs, nothing accepted */
    uint32_t b = h_conn_id(h, H_B, PORT);
    expect_path(h, H_B, b, "SYN_RECEIVED CLOSED");
    ck_assert_uint_eq(entered(h, H_B, b, TS_CLOSED), 30 * TS_MSEC);
    ck_assert_int_eq(sb.naccepted, 0);
    h_app_free(&ca);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

START_TEST(close_with_unread_data_sends_rst)
{
    h_conn x;
    harness *h = open_conn(&x, NULL, NULL);
    x.sb.auto_read = false;
    ck_assert_int_eq(ts_send(h->st[H_A], x.ca.sd, "unread", 6), 6);
    h_run_until(h, h->now + 1 * TS_SEC);
    size_t n0 = h_nlog(h);
    ts_time_t tc = h->now;
    ck_assert_int_eq(ts_close(h->st[H_B], x.sb.sd), 0);
    h_run_until(h, tc + 1 * TS_SEC);
    /* RFC 2525 2.17: RST instead of FIN */
    const char *want[] = {"B R."};
    expect_flags(h, n0, want, 1);
    ck_assert_int_eq(x.ca.err, -ECONNRESET);
    ck_assert_uint_eq(x.ca.err_at, tc + D);
    uint32_t a = h_conn_id(h, H_A, 0), b = h_conn_id(h, H_B, PORT);
    expect_path(h, H_A, a, "SYN_SENT ESTABLISHED CLOSED");
    expect_path(h, H_B, b, "SYN_RECEIVED ESTABLISHED CLOSED");
    h_conn_free(&x);
}
END_TEST

START_TEST(segment_after_full_close_gets_rst)
{
    h_conn x;
    harness *h = open_conn(&x, NULL, NULL);
    x.ca.close_on_eof = true;
    ts_close(h->st[H_B], x.sb.sd); /* B: FIN_WAIT_1 ... TIME_WAIT; A: LAST_ACK -> CLOSED */
    h_run_until(h, h->now + 1 * TS_SEC);
    uint32_t a = h_conn_id(h, H_A, 0);
    expect_path(h, H_A, a, "SYN_SENT ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
    /* B's stack (TIME-WAIT) meets a data segment on the old 4-tuple sent to A: A's side is
     * fully closed and answers RST with SEQ = SEG.ACK */
    size_t last_b = 0;
    for (size_t i = 0; i < h_nlog(h); i++)
        if (h->log[i].from == H_B) last_b = i;
    ts_endpoint la, lb;
    ts_getsockname(h->st[H_A], x.ca.sd, &la);
    lb.port = PORT;
    h_seg g = {.src = H_ADDR_B,
               .dst = H_ADDR_A,
               .sport = lb.port,
               .dport = la.port,
               .seq = h->log[last_b].seq,
               .ack = h->log[last_b].ack,
               .flags = TS_TH_ACK | TS_TH_PSH,
               .win = 502,
               .data = (const uint8_t *)"zombie",
               .dlen = 6};
    uint8_t p[1600];
    size_t len = h_build(p, &g);
    size_t n0 = h_nlog(h);
    h_inject(h, H_A, p, len);
    ck_assert_uint_eq(h_nlog(h), n0 + 1);
    ck_assert_uint_eq(h->log[n0].flags, TS_TH_RST);
    ck_assert_uint_eq(h->log[n0].seq, g.ack);
    ck_assert_uint_eq(ts_stack_counters(h->st[H_A])->drops[TS_DROP_TCP_NO_SOCKET], 1);
    h_conn_free(&x);
}
END_TEST

static bool drop_a_acks(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h, (void)idx;
    return from == H_A && p->flags == TS_TH_ACK;
}

START_TEST(listen_backlog_bounds_the_accept_queue)
{
    /* Half-open connections wait in the SYN queue (max_syn_backlog), not against the
     * listen backlog: the backlog bounds the accept queue, and an ACK that would overfill
     * it is ignored, the SYN-ACK timer running on (Linux without tcp_abort_on_overflow). */
    harness *h = pair(NULL, NULL);
    h->drop = drop_a_acks; /* handshakes never complete: children stay in SYN_RECEIVED */
    h_app sb;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 2);
    h_app c[4];
    for (int i = 0; i < 4; i++) {
        h_app_init(&c[i], h, H_A);
        h_app_connect(&c[i], 0, PORT);
    }
    h_run_until(h, 500 * TS_MSEC);
    const ts_counters *bc = ts_stack_counters(h->st[H_B]);
    ck_assert_uint_eq(bc->conns_by_state[TS_SYN_RECEIVED], 4);
    ck_assert_uint_eq(bc->drops[TS_DROP_TCP_BACKLOG], 0);
    ck_assert_uint_eq(h_count(h, H_B, TS_TH_SYN | TS_TH_ACK), 4);
    /* let the ACKs through (answering the SYN-ACKs resent at 1 s): two complete and wait
     * in the accept queue (not accepted: the app accepts in its callback, so take it
     * away first); the other two ACKs find it full */
    ts_sock_set_callback(h->st[H_B], sb.lsd, NULL, NULL);
    h->drop = NULL;
    h_run_until(h, 1500 * TS_MSEC);
    ck_assert_uint_eq(bc->conns_by_state[TS_ESTABLISHED], 2);
    ck_assert_uint_eq(bc->conns_by_state[TS_SYN_RECEIVED], 2);
    ck_assert_uint_eq(bc->drops[TS_DROP_TCP_BACKLOG], 2);
    /* accepting one frees a slot: the next SYN-ACK retransmission (at 3 s) gets one in */
    int n = ts_accept(h->st[H_B], sb.lsd, NULL);
    ck_assert_int_ge(n, 0);
    h_run_until(h, 3500 * TS_MSEC);
    ck_assert_uint_eq(bc->conns_by_state[TS_ESTABLISHED], 3);
    ck_assert_uint_eq(bc->conns_by_state[TS_SYN_RECEIVED], 1);
    ck_assert_uint_eq(bc->drops[TS_DROP_TCP_BACKLOG], 3);
    for (int i = 0; i < 4; i++) h_app_free(&c[i]);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

static bool drop_b(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h, (void)p, (void)idx;
    return from == H_B;
}

/* A SYN from A's address, hand-made (MSS 1460, sequence 1000), fed to B now. */
static void inject_syn(harness *h, uint16_t sport, uint16_t dport)
{
    const uint8_t opt[] = {2, 4, 5, 180};
    h_seg g = {.src = H_ADDR_A,
               .dst = H_ADDR_B,
               .sport = sport,
               .dport = dport,
               .seq = 1000,
               .flags = TS_TH_SYN,
               .win = 64240,
               .opt = opt,
               .optlen = sizeof opt};
    h_inject_seg(h, H_B, &g);
}

START_TEST(synack_retransmissions_and_embryo_drop)
{
    harness *h = pair(NULL, NULL);
    h->drop = drop_b; /* the client never hears the SYN-ACK */
    h_app sb;
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 1);
    inject_syn(h, 40000, PORT); /* one SYN, hand-made (a real client would retransmit it) */
    h_run_until(h, 200 * TS_SEC);
    const ts_time_t want[] = {0, 1, 3, 7, 15, 31};
    ck_assert_uint_eq(h_nlog(h), 6);
    for (int i = 0; i < 6; i++) {
        ck_assert_uint_eq(h->log[i].flags, TS_TH_SYN | TS_TH_ACK);
        ck_assert_uint_eq(h->log[i].t, want[i] * TS_SEC);
        ck_assert_uint_eq(h->log[i].seq, h->log[0].seq);
        ck_assert_uint_eq(h->log[i].ack, 1001);
    }
    uint32_t b = h_conn_id(h, H_B, PORT);
    expect_path(h, H_B, b, "SYN_RECEIVED CLOSED");
    ck_assert_uint_eq(entered(h, H_B, b, TS_CLOSED), 63 * TS_SEC);
    ck_assert_uint_eq(ts_stack_counters(h->st[H_B])->tcp_syn_retransmits, 5);
    /* the slot is free again (backlog 1): a new SYN gets a SYN-ACK */
    inject_syn(h, 40001, PORT);
    ck_assert_uint_eq(h_nlog(h), 7);
    ck_assert_uint_eq(h->log[6].flags, TS_TH_SYN | TS_TH_ACK);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

/* The ISS of B's SYN-ACK to A's port, from the log. */
static uint32_t synack_iss(const harness *h, uint16_t aport)
{
    for (size_t i = 0; i < h_nlog(h); i++) {
        const h_pkt *p = &h->log[i];
        if (p->from == H_B && p->flags == (TS_TH_SYN | TS_TH_ACK) &&
            (p->data[22] << 8 | p->data[23]) == aport)
            return p->seq;
    }
    ck_abort_msg("no SYN-ACK to port %u", aport);
    return 0;
}

/* A listener's SYN queue is a list of its own: closing the listener ends its embryos (no
 * more SYN-ACKs, counted CLOSED) without walking the connection table, and leaves alone
 * the children already accepted and another listener's embryos. The queue is left from
 * its middle too: one embryo completes its handshake, one is reset. */
START_TEST(closing_listener_ends_its_embryos_only)
{
    harness *h = pair(NULL, NULL);
    h->drop = drop_b; /* no client: B's answers go nowhere */
    h_app sb, other;
    h_app_init(&sb, h, H_B);
    h_app_init(&other, h, H_B);
    h_app_listen(&sb, PORT, 16);
    h_app_listen(&other, PORT + 1, 16);
    for (uint16_t port = 40000; port < 40004; port++) inject_syn(h, port, PORT);
    inject_syn(h, 40100, PORT + 1);
    uint8_t p[1600];
    const ts_counters *k = ts_stack_counters(h->st[H_B]);
    ck_assert_uint_eq(k->conns_by_state[TS_SYN_RECEIVED], 5);
    /* 40001 completes its handshake (accepted by the app), 40002 is reset */
    h_seg ack = {.src = H_ADDR_A,
                 .dst = H_ADDR_B,
                 .sport = 40001,
                 .dport = PORT,
                 .seq = 1001,
                 .ack = synack_iss(h, 40001) + 1,
                 .flags = TS_TH_ACK,
                 .win = 502};
    h_inject(h, H_B, p, h_build(p, &ack));
    ck_assert_int_eq(sb.naccepted, 1);
    h_seg rst = {.src = H_ADDR_A,
                 .dst = H_ADDR_B,
                 .sport = 40002,
                 .dport = PORT,
                 .seq = 1001,
                 .flags = TS_TH_RST};
    h_inject(h, H_B, p, h_build(p, &rst));
    ck_assert_uint_eq(k->conns_by_state[TS_SYN_RECEIVED], 3);
    ck_assert_uint_eq(k->conns_by_state[TS_ESTABLISHED], 1);
    h_run_until(h, 500 * TS_MSEC);
    ck_assert_int_eq(ts_close(h->st[H_B], sb.lsd), 0);
    sb.lsd = -1;
    ck_assert_uint_eq(k->conns_by_state[TS_SYN_RECEIVED], 1); /* the other listener's */
    ck_assert_uint_eq(k->conns_by_state[TS_ESTABLISHED], 1);
    ck_assert_uint_eq(k->conns_by_state[TS_LISTEN], 1);
    size_t before = h_nlog(h);
    h_run_until(h, 2 * TS_SEC);               /* the SYN-ACK timers fire at 1 s */
    ck_assert_uint_eq(h_nlog(h), before + 1); /* only the other listener's embryo resends */
    ck_assert_uint_eq(h->log[before].data[22] << 8 | h->log[before].data[23], 40100);
    h_app_free(&sb);
    h_app_free(&other);
    h_free(h);
}
END_TEST

static bool drop_first_synack(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h, (void)p;
    return from == H_B && idx == 1;
}

START_TEST(retransmitted_syn_in_syn_received_resends_synack)
{
    /* Linux (tcp_check_req): a SYN that repeats the one that created the embryo means our
     * SYN-ACK was lost; it is answered with the SYN-ACK again at once */
    /* A retries its SYN after 500 ms, so the answer is not confused with B's own SYN-ACK
     * timer (which would fire at 1 s + D) */
    ts_params pa;
    ts_params_default(&pa);
    pa.syn_rto = 500 * TS_MSEC;
    harness *h = pair(&pa, NULL);
    h->drop = drop_first_synack;
    h_app ca, sb;
    h_app_init(&ca, h, H_A);
    h_app_init(&sb, h, H_B);
    h_app_listen(&sb, PORT, 16);
    h_app_connect(&ca, 0, PORT);
    h_run_until(h, 5 * TS_SEC);
    const char *want[] = {"A S", "B S.", "A S", "B S.", "A ."};
    expect_flags(h, 0, want, 5);
    ck_assert_uint_eq(h->log[2].t, 500 * TS_MSEC);
    ck_assert_uint_eq(h->log[3].t, 500 * TS_MSEC + D);
    ck_assert_uint_eq(h->log[3].seq, h->log[1].seq);
    ck_assert_uint_eq(ca.connected_at, 500 * TS_MSEC + 2 * D);
    ck_assert_uint_eq(ts_stack_counters(h->st[H_B])->tcp_retransmits, 1);
    ck_assert_int_eq(sb.naccepted, 1);
    h_app_free(&ca);
    h_app_free(&sb);
    h_free(h);
}
END_TEST

static Suite *states_suite(void)
{
    Suite *s = suite_create("states");
    TCase *tc = tcase_create("states");
    tcase_add_test(tc, active_close_time_wait_60s);
    tcase_add_test(tc, active_close_time_wait_240s_rfc_profile);
    tcase_add_test(tc, time_wait_answers_retransmitted_fin_and_restarts);
    tcase_add_test(tc, passive_close_last_ack);
    tcase_add_test(tc, simultaneous_open);
    tcase_add_test(tc, simultaneous_close);
    tcase_add_test(tc, orphan_fin_wait2_times_out_60s);
    tcase_add_test(tc, shutdown_fin_wait2_waits_indefinitely);
    tcase_add_test(tc, rst_from_closed_port_refuses);
    tcase_add_test(tc, close_in_syn_sent_then_synack_gets_rst);
    tcase_add_test(tc, close_with_unread_data_sends_rst);
    tcase_add_test(tc, segment_after_full_close_gets_rst);
    tcase_add_test(tc, listen_backlog_bounds_the_accept_queue);
    tcase_add_test(tc, synack_retransmissions_and_embryo_drop);
    tcase_add_test(tc, closing_listener_ends_its_embryos_only);
    tcase_add_test(tc, retransmitted_syn_in_syn_received_resends_synack);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(states_suite());
}
