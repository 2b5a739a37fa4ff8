/* test_tcp_zero_window.c: a zero-window peer that goes silent is timed out as Linux's
 * tcp_probe_timer does (issue 11, item 1). Persist probes back off from the RTO (doubling,
 * capped at rto_max); every acceptable ACK resets the count of unanswered probes (RFC 1122
 * 4.2.2.17: a receiver that keeps answering is kept however long its window stays shut).
 * At the expiry after retries2 unanswered probes (orphan_retries, 0 meaning 8, once the
 * application has closed) the connection is aborted: the application sees ETIMEDOUT, an
 * orphan is freed. Side B is the tcpsim sender, the test plays the receiver (peer.h). */
#include <check.h>
#include <errno.h>

#include "peer.h"

#define PORT 8080
#define RTT  (10 * TS_MSEC)

typedef struct zw {
    harness *h;
    peer pe;
    ts_time_t t0;  /* when the persist timer was armed */
    ts_time_t rto; /* B's RTO then: the first probe interval */
    size_t mark;   /* B's log index at t0 */
} zw;

/* B sends 3000 bytes, the peer takes them all and shuts its window; B's application then
 * writes 1000 more, which wait: the persist timer is armed. */
static void zw_open(zw *z, const ts_params *pb)
{
    z->h = h_new(NULL, pb);
    peer_open(&z->pe, z->h, PORT, false, false, RTT, 100);
    ts_stack *b = z->h->st[H_B];
    uint8_t buf[3000];
    memset(buf, 'x', sizeof buf);
    ck_assert_int_eq(ts_send(b, z->pe.sd, buf, sizeof buf), (int)sizeof buf);
    h_run_until(z->h, z->h->now + RTT);
    peer_send(&z->pe, 1, 3001, TS_TH_ACK, 0, NULL, 0, 0);
    ck_assert_int_eq(ts_send(b, z->pe.sd, buf, 1000), 1000);
    ts_tcp_info ti;
    ck_assert_int_eq(ts_sock_info(b, z->pe.sd, &ti), 0);
    ck_assert_uint_eq(ti.snd_wnd, 0);
    ck_assert_uint_eq(ti.snd_una - z->pe.iss, 3001);
    z->t0 = z->h->now;
    z->rto = ti.rto;
    ck_assert_uint_eq(ti.timer[TS_TIMER_PERSIST], z->t0 + z->rto);
    z->mark = h_nlog(z->h);
}

/* When the nth probe (1 = first) is due: the persist timer's backoff, written out. */
static ts_time_t probe_at(const zw *z, int n)
{
    ts_time_t t = z->t0 + z->rto, step = z->rto;
    for (int k = 1; k < n; k++) {
        step = step * 2 > 120 * TS_SEC ? 120 * TS_SEC : step * 2;
        t += step;
    }
    return t;
}

/* B's packets since the mark: every one must be a zero-window probe (an ACK at
 * SND.UNA - 1 with no data) sent at the nth probe's time. Returns how many. */
static int check_probes(const zw *z, int max)
{
    int n = 0;
    for (size_t i = z->mark; i < z->mark + peer_out(&z->pe, z->mark); i++) {
        if (z->h->log[i].from != H_B) continue; /* the test's own answers */
        n++;
        if (n <= max)
            peer_expect(&z->pe, i, 3000, 3000, TS_TH_ACK, probe_at(z, n));
        else
            ck_assert_msg(z->h->log[i].plen == 0, "log[%zu]: %s", i, z->h->log[i].line);
    }
    return n;
}

static size_t conns(harness *h)
{
    ts_tcp_info all[4];
    return ts_stack_conns(h->st[H_B], all, 4);
}

START_TEST(silent_peer_established_times_out_after_retries2)
{
    zw z;
    zw_open(&z, NULL);
    ts_stack *b = z.h->st[H_B];
    ts_time_t give_up = probe_at(&z, 16); /* the expiry after the 15th probe */
    h_run_until(z.h, give_up - 1);
    ck_assert_int_eq(check_probes(&z, 15), 15);
    ts_tcp_info ti;
    ck_assert_int_eq(ts_sock_info(b, z.pe.sd, &ti), 0);
    ck_assert_int_eq(ti.state, TS_ESTABLISHED);
    ck_assert_int_eq(ts_sock_events(b, z.pe.sd) & TS_SOCK_ERROR, 0);
    h_run_until(z.h, give_up);
    ck_assert_int_eq(ts_sock_info(b, z.pe.sd, &ti), 0);
    ck_assert_int_eq(ti.state, TS_CLOSED);
    ck_assert(ts_sock_events(b, z.pe.sd) & TS_SOCK_ERROR);
    ck_assert_int_eq(ts_sock_error(b, z.pe.sd), -ETIMEDOUT);
    uint8_t c;
    ck_assert_int_eq(ts_send(b, z.pe.sd, &c, 1), -ETIMEDOUT); /* sticky, as Linux's sk_err */
    /* Linux gives up without a RST (tcp_write_err), as after retries2 data timeouts */
    ck_assert_int_eq(check_probes(&z, 15), 15);
    h_run_until(z.h, give_up + 3600 * TS_SEC);
    ck_assert_int_eq(check_probes(&z, 15), 15); /* and nothing after */
    ck_assert_uint_eq(z.h->now, give_up + 3600 * TS_SEC);
    h_free(z.h);
}
END_TEST

/* retries2 bounds the probes as it bounds retransmissions: 3 gives up at the 4th expiry */
START_TEST(silent_peer_retries2_three)
{
    ts_params pb;
    char err[128];
    ts_params_default(&pb);
    ck_assert_int_eq(ts_params_set(&pb, "retries2", "3", err, sizeof err), 0);
    zw z;
    zw_open(&z, &pb);
    h_run_until(z.h, probe_at(&z, 4) - 1);
    ck_assert_int_eq(check_probes(&z, 3), 3);
    ck_assert_int_eq(ts_sock_error(z.h->st[H_B], z.pe.sd), 0);
    h_run_until(z.h, probe_at(&z, 4));
    ck_assert_int_eq(ts_sock_error(z.h->st[H_B], z.pe.sd), -ETIMEDOUT);
    h_free(z.h);
}
END_TEST

/* The application closes: the FIN waits behind the unsent data (FIN-WAIT-1), and the
 * orphan gives up after orphan_retries probes: 0 means 8, as Linux's tcp_orphan_retries. */
static void orphan_case(const char *orphan_retries, int max)
{
    ts_params pb;
    char err[128];
    ts_params_default(&pb);
    ck_assert_int_eq(ts_params_set(&pb, "orphan_retries", orphan_retries, err, sizeof err), 0);
    zw z;
    zw_open(&z, &pb);
    ts_stack *b = z.h->st[H_B];
    ck_assert_int_eq(ts_close(b, z.pe.sd), 0);
    ck_assert_uint_eq(conns(z.h), 2); /* the listener and the orphan */
    ts_tcp_info all[2];
    ts_stack_conns(b, all, 2);
    ck_assert(all[0].state == TS_FIN_WAIT_1 || all[1].state == TS_FIN_WAIT_1);
    ts_time_t give_up = probe_at(&z, max + 1);
    h_run_until(z.h, give_up - 1);
    ck_assert_int_eq(check_probes(&z, max), max);
    ck_assert_uint_eq(conns(z.h), 2);
    h_run_until(z.h, give_up);
    ck_assert_uint_eq(conns(z.h), 1); /* the orphan is gone; the listener stays */
    h_run_until(z.h, give_up + 3600 * TS_SEC);
    ck_assert_int_eq(check_probes(&z, max), max);
    h_free(z.h);
}

START_TEST(silent_peer_orphan_times_out_after_eight)
{
    orphan_case("0", 8);
}
END_TEST

START_TEST(silent_peer_orphan_retries_three)
{
    orphan_case("3", 3);
}
END_TEST

/* Closing after more probes than an orphan may send: it gives up at the next expiry. */
START_TEST(close_after_many_probes_gives_up_at_next_expiry)
{
    zw z;
    zw_open(&z, NULL);
    ts_stack *b = z.h->st[H_B];
    h_run_until(z.h, probe_at(&z, 10)); /* 10 probes out, 15 allowed while open */
    ck_assert_int_eq(check_probes(&z, 10), 10);
    ck_assert_int_eq(ts_close(b, z.pe.sd), 0);
    h_run_until(z.h, probe_at(&z, 11) - 1);
    ck_assert_uint_eq(conns(z.h), 2);
    h_run_until(z.h, probe_at(&z, 11));
    ck_assert_uint_eq(conns(z.h), 1);
    ck_assert_int_eq(check_probes(&z, 10), 10);
    h_free(z.h);
}
END_TEST

/* A peer that answers every probe, its window still zero, is kept: 24 virtual hours and
 * hundreds of probes later the connection is open, and the data goes once it opens. */
START_TEST(answering_peer_is_kept_for_a_day)
{
    zw z;
    zw_open(&z, NULL);
    ts_stack *b = z.h->st[H_B];
    const ts_time_t day = 24 * 3600 * TS_SEC;
    size_t seen = h_nlog(z.h);
    int answered = 0;
    while (z.h->now < z.t0 + day) {
        ts_time_t next = ts_stack_next_deadline(b);
        ck_assert_uint_ne(next, TS_TIME_NEVER); /* the persist timer is always armed */
        h_run_until(z.h, next);
        for (; seen < h_nlog(z.h); seen++) {
            if (z.h->log[seen].from != H_B) continue;
            peer_send(&z.pe, 1, 3001, TS_TH_ACK, 0, NULL, 0, 0); /* still no room */
            answered++;
        }
    }
    int n = check_probes(&z, 10); /* answered or not, the backoff is the same */
    ck_assert_int_eq(n, answered);
    /* 10 probes in the first ~215 s, then one every 120 s */
    ck_assert_int_gt(n, 700);
    ts_tcp_info ti;
    ck_assert_int_eq(ts_sock_info(b, z.pe.sd, &ti), 0);
    ck_assert_int_eq(ti.state, TS_ESTABLISHED);
    ck_assert_int_eq(ts_sock_error(b, z.pe.sd), 0);
    /* the window opens: the waiting 1000 bytes go at once */
    size_t mark = h_nlog(z.h);
    peer_send(&z.pe, 1, 3001, TS_TH_ACK, 100, NULL, 0, 0);
    ck_assert_uint_eq(h_nlog(z.h), mark + 1);
    ck_assert_uint_eq(z.h->log[mark].plen, 1000);
    ck_assert_uint_eq(z.h->log[mark].seq - z.pe.iss, 3001);
    h_free(z.h);
}
END_TEST

/* The same count covers a window shrunk to zero with data outstanding (the RTO's
 * zero-window branch turns retransmissions into probes): a silent peer is given up on
 * after retries2 of them, instead of being probed for ever. */
START_TEST(shrunk_window_silent_peer_times_out)
{
    ts_params pb;
    char err[128];
    ts_params_default(&pb);
    ck_assert_int_eq(ts_params_set(&pb, "retries2", "5", err, sizeof err), 0);
    harness *h = h_new(NULL, &pb);
    peer pe;
    peer_open(&pe, h, PORT, false, false, RTT, 100);
    ts_stack *b = h->st[H_B];
    uint8_t buf[3000];
    memset(buf, 'y', sizeof buf);
    ck_assert_int_eq(ts_send(b, pe.sd, buf, sizeof buf), (int)sizeof buf);
    h_run_until(h, h->now + RTT);
    peer_send(&pe, 1, 1001, TS_TH_ACK, 0, NULL, 0, 0); /* takes one segment, shuts */
    h_run_until(h, h->now + 3600 * TS_SEC);
    ts_tcp_info ti;
    ck_assert_int_eq(ts_sock_info(b, pe.sd, &ti), 0);
    ck_assert_int_eq(ti.state, TS_CLOSED);
    ck_assert_int_eq(ts_sock_error(b, pe.sd), -ETIMEDOUT);
    size_t probes = 0;
    for (size_t i = 0; i < h_nlog(h); i++) {
        const h_pkt *p = &h->log[i];
        if (p->from == H_B && p->plen == 0 && p->seq - pe.iss == 1000) probes++;
    }
    ck_assert_uint_eq(probes, 5);
    h_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("zero_window");
    TCase *tc = tcase_create("zero_window");
    tcase_add_test(tc, silent_peer_established_times_out_after_retries2);
    tcase_add_test(tc, silent_peer_retries2_three);
    tcase_add_test(tc, silent_peer_orphan_times_out_after_eight);
    tcase_add_test(tc, silent_peer_orphan_retries_three);
    tcase_add_test(tc, close_after_many_probes_gives_up_at_next_expiry);
    tcase_add_test(tc, answering_peer_is_kept_for_a_day);
    tcase_add_test(tc, shrunk_window_silent_peer_times_out);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
