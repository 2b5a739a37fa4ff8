/* test_tcp_sendflags.c: the send controls of the socket API, as Linux behaves in
 * packetdrill's nagle/, eor/ and notsent_lowat/ scripts: TCP_CORK (ts_sock_set_cork),
 * MSG_MORE (TS_MSG_MORE), the push of TCP_NODELAY (ts_sock_push), record ends
 * (TS_MSG_EOR), TCP_NOTSENT_LOWAT, MSG_PEEK and IP_TOS. Exact segments at exact times. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "peer.h"
#include "harness.h"

#define PORT 7300
#define MS   TS_MSEC

static char big[60000];

static ts_params nodelay(void)
{
    ts_params p;
    ts_params_default(&p);
    p.nagle = false;
    return p;
}

/* Cork: small writes wait; uncorking sends them as one segment with PSH, at once. */
START_TEST(cork_holds_until_uncork)
{
    harness *h = h_new(NULL, NULL);
    peer pe;
    peer_open(&pe, h, PORT, false, false, 10 * MS, 257);
    ts_stack *b = h->st[H_B];
    ck_assert_int_eq(ts_sock_set_cork(b, pe.sd, true), 0);
    ck_assert(ts_sock_cork(b, pe.sd));
    size_t n = h_nlog(h);
    ts_time_t t0 = h->now;
    ck_assert_int_eq(ts_send(b, pe.sd, big, 40), 40);
    h_run_until(h, t0 + 50 * MS);
    ck_assert_int_eq(ts_send(b, pe.sd, big, 40), 40);
    h_run_until(h, t0 + 60 * MS);
    ck_assert_uint_eq(peer_out(&pe, n), 0); /* held */
    ck_assert_int_eq(ts_sock_set_cork(b, pe.sd, false), 0);
    ck_assert_uint_eq(peer_out(&pe, n), 1);
    peer_expect(&pe, n, 1, 81, 0x18, t0 + 60 * MS);
    h_free(h);
}
END_TEST

/* A push (TCP_NODELAY set) sends through the cork; the cork stays on for later writes,
 * whose MSG_MORE tail then carries no PSH. */
START_TEST(push_through_cork)
{
    ts_params pb = nodelay();
    harness *h = h_new(NULL, &pb);
    peer pe;
    peer_open(&pe, h, PORT, false, false, 10 * MS, 257);
    ts_stack *b = h->st[H_B];
    ts_sock_set_cork(b, pe.sd, true);
    size_t n = h_nlog(h);
    ts_time_t t0 = h->now;
    ts_send(b, pe.sd, big, 40), ts_send(b, pe.sd, big, 40);
    ck_assert_uint_eq(peer_out(&pe, n), 0);
    ck_assert_int_eq(ts_sock_push(b, pe.sd), 0);
    peer_expect(&pe, n, 1, 81, 0x18, t0);
    h_run_until(h, t0 + 10 * MS);
    peer_send(&pe, 1, 81, 0x10, 257, NULL, 0, 0);
    n = h_nlog(h);
    ck_assert(ts_sock_cork(b, pe.sd));
    ck_assert_int_eq(ts_send_flags(b, pe.sd, big, 40, TS_MSG_MORE), 40);
    ck_assert_int_eq(ts_send_flags(b, pe.sd, big, 40, TS_MSG_MORE), 40);
    ck_assert_uint_eq(peer_out(&pe, n), 0);
    ts_sock_push(b, pe.sd);
    peer_expect(&pe, n, 81, 161, 0x10, t0 + 10 * MS);
    h_free(h);
}
END_TEST

/* MSG_MORE corks its own call only: with nothing in flight the data waits for the persist
 * timer (one RTO), which sends it with PSH; a full segment goes at once and the tail
 * follows the next ACK (the socket's own Nagle setting, here off), without PSH. */
START_TEST(msg_more_per_call)
{
    ts_params pb = nodelay();
    harness *h = h_new(NULL, &pb);
    peer pe;
    peer_open(&pe, h, PORT, false, false, 10 * MS, 257);
    ts_stack *b = h->st[H_B];
    ts_tcp_info ti;
    ts_sock_info(b, pe.sd, &ti);
    size_t n = h_nlog(h);
    ts_time_t t0 = h->now;
    ck_assert_int_eq(ts_send_flags(b, pe.sd, big, 40, TS_MSG_MORE), 40);
    h_run_until(h, t0 + ti.rto - 1);
    ck_assert_uint_eq(peer_out(&pe, n), 0);
    h_run_until(h, t0 + ti.rto);
    ck_assert_uint_eq(peer_out(&pe, n), 1);
    peer_expect(&pe, n, 1, 41, 0x18, t0 + ti.rto);
    ts_time_t t1 = t0 + ti.rto + 10 * MS;
    h_run_until(h, t1);
    peer_send(&pe, 1, 41, 0x10, 257, NULL, 0, 0);
    n = h_nlog(h);
    ck_assert_int_eq(ts_send_flags(b, pe.sd, big, 2100, TS_MSG_MORE), 2100);
    ck_assert_uint_eq(peer_out(&pe, n), 2); /* two full segments; 100 bytes wait */
    peer_expect(&pe, n, 41, 1041, 0x10, t1);
    peer_expect(&pe, n + 1, 1041, 2041, 0x10, t1);
    h_run_until(h, t1 + 10 * MS);
    peer_send(&pe, 1, 1041, 0x10, 257, NULL, 0, 0);
    ck_assert_uint_eq(peer_out(&pe, n), 3);
    peer_expect(&pe, n + 2, 2041, 2141, 0x10, t1 + 10 * MS);
    h_free(h);
}
END_TEST

/* A record end is a segment boundary: 1500 bytes with TS_MSG_EOR and 1000 more make
 * segments of 1000, 500 (sent at once: it is not the queue's tail) and 1000; a
 * retransmission after an RTO cuts at the same place. */
START_TEST(eor_boundary)
{
    harness *h = h_new(NULL, NULL);
    peer pe;
    peer_open(&pe, h, PORT, false, false, 10 * MS, 257);
    ts_stack *b = h->st[H_B];
    size_t n = h_nlog(h);
    ts_time_t t0 = h->now;
    ck_assert_int_eq(ts_send_flags(b, pe.sd, big, 1500, TS_MSG_EOR), 1500);
    ck_assert_int_eq(ts_send(b, pe.sd, big, 1000), 1000);
    ck_assert_uint_eq(peer_out(&pe, n), 3);
    peer_expect(&pe, n, 1, 1001, 0x10, t0);
    peer_expect(&pe, n + 1, 1001, 1501, 0x18, t0);
    peer_expect(&pe, n + 2, 1501, 2501, 0x18, t0);
    ts_tcp_info ti;
    ts_sock_info(b, pe.sd, &ti);
    h_run_until(h, t0 + ti.rto);
    ck_assert_uint_eq(peer_out(&pe, n), 4); /* the RTO resends the first segment */
    peer_send(&pe, 1, 1001, 0x10, 257, NULL, 0, 0);
    ck_assert_uint_ge(peer_out(&pe, n), 5);
    const h_pkt *r = &h->log[n + 4];
    ck_assert_uint_eq(r->seq - pe.iss, 1001);
    ck_assert_uint_eq(r->plen, 500); /* not 1000: the record ends at 1501 */
    h_free(h);
}
END_TEST

/* TCP_NOTSENT_LOWAT 4000 with IW10 of 1000-byte segments and a 32 KB window: a write of
 * 59000 queues a 16000-byte skb, fills the rest of the one the first 10000 left, then
 * stops (26000, as Linux); writable only once fewer than 2000 bytes wait unsent. (The
 * later cwnds are tcpsim's slow start, one SMSS per ACK.) */
START_TEST(notsent_lowat)
{
    harness *h = h_new(NULL, NULL);
    peer pe;
    peer_open(&pe, h, PORT, true, false, 10 * MS, 257);
    ts_stack *b = h->st[H_B];
    ck_assert_int_eq(ts_sock_set_notsent_lowat(b, pe.sd, 4000), 0);
    ck_assert_uint_eq(ts_sock_notsent_lowat(b, pe.sd), 4000);
    size_t n = h_nlog(h);
    ck_assert_int_eq(ts_send(b, pe.sd, big, 59000), 26000);
    ck_assert_uint_eq(peer_out(&pe, n), 10);
    ck_assert_int_eq(ts_send(b, pe.sd, big, 100), -EAGAIN);
    ck_assert_uint_eq(ts_sock_events(b, pe.sd) & TS_SOCK_WRITABLE, 0);
    ts_tcp_info ti;
    ts_sock_info(b, pe.sd, &ti);
    ck_assert_uint_eq(ti.snd_unsent, 16000);
    h_run_until(h, h->now + 10 * MS);
    peer_send(&pe, 1, 10001, 0x10, 257, NULL, 0, 0); /* cwnd 11: 11000 more go */
    ts_sock_info(b, pe.sd, &ti);
    ck_assert_uint_eq(ti.snd_unsent, 5000);
    ck_assert_uint_eq(ts_sock_events(b, pe.sd) & TS_SOCK_WRITABLE, 0); /* 2 * 5000 >= 4000 */
    h_run_until(h, h->now + 10 * MS);
    peer_send(&pe, 1, 21001, 0x10, 257, NULL, 0, 0);
    ts_sock_info(b, pe.sd, &ti);
    ck_assert_uint_eq(ti.snd_unsent, 0);
    ck_assert_uint_ne(ts_sock_events(b, pe.sd) & TS_SOCK_WRITABLE, 0);
    ck_assert_int_eq(ts_sock_set_notsent_lowat(b, pe.sd, 0), 0); /* off: the buffer rules */
    ck_assert_int_eq(ts_send(b, pe.sd, big, 59000), 59000);
    h_free(h);
}
END_TEST

/* A write cut into steps by TCP_NOTSENT_LOWAT ends one record, not one per step: 64000
 * bytes with TS_MSG_EOR through a 2048-byte window (size_goal 1000, so 64 steps) leave
 * 63 record marks free, and a 100000-byte one (100 steps, more than TS_EOR_MAX) neither
 * overruns the mark array nor fails. */
START_TEST(eor_one_mark_per_lowat_write)
{
    harness *h = h_new(NULL, NULL);
    peer pe;
    peer_open(&pe, h, PORT, false, false, 10 * MS, 16);
    ts_stack *b = h->st[H_B];
    ck_assert_int_eq(ts_sock_set_notsent_lowat(b, pe.sd, 1000000), 0);
    size_t n = h_nlog(h);
    ck_assert_int_eq(ts_send_flags(b, pe.sd, big, 60000, TS_MSG_EOR), 60000);
    ck_assert_int_eq(ts_send_flags(b, pe.sd, big, 4000, 0), 4000);
    ck_assert_uint_eq(peer_out(&pe, n), 2); /* the window: two full segments, no cut */
    peer_expect(&pe, n, 1, 1001, 0x10, h->now);
    peer_expect(&pe, n + 1, 1001, 2001, 0x10, h->now);
    ck_assert_int_eq(ts_send_flags(b, pe.sd, big, 1, TS_MSG_EOR), 1);
    ck_assert_uint_ne(ts_sock_events(b, pe.sd) & TS_SOCK_WRITABLE, 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(ts_send_flags(b, pe.sd, big, 50000, TS_MSG_EOR), 50000);
    ck_assert_uint_ne(ts_sock_events(b, pe.sd) & TS_SOCK_WRITABLE, 0);
    h_free(h);
}
END_TEST

/* MSG_PEEK copies without consuming; IP_TOS goes into every packet of the connection. */
START_TEST(peek_and_tos)
{
    harness *h = h_new(NULL, NULL);
    peer pe;
    peer_open(&pe, h, PORT, false, false, 10 * MS, 257);
    ts_stack *b = h->st[H_B];
    peer_send(&pe, 1, 1, 0x18, 257, NULL, 0, 100);
    char buf[200];
    ck_assert_int_eq(ts_recv_flags(b, pe.sd, buf, 60, TS_MSG_PEEK), 60);
    ck_assert_int_eq(ts_recv_flags(b, pe.sd, buf, sizeof buf, TS_MSG_PEEK), 100);
    ck_assert_int_eq(ts_recv(b, pe.sd, buf, sizeof buf), 100);
    ck_assert_int_eq(ts_recv_flags(b, pe.sd, buf, sizeof buf, TS_MSG_PEEK), -EAGAIN);
    ck_assert_int_eq(ts_sock_tos(b, pe.sd), 0);
    ck_assert_int_eq(ts_sock_set_tos(b, pe.sd, 0x10), 0);
    ck_assert_int_eq(ts_sock_tos(b, pe.sd), 0x10);
    size_t n = h_nlog(h);
    ts_send(b, pe.sd, big, 10);
    ck_assert_uint_eq(peer_out(&pe, n), 1);
    ck_assert_uint_eq(h->log[n].data[1], 0x10);
    h_free(h);
}
END_TEST

/* IP_TOS, TCP_CORK and TCP_NOTSENT_LOWAT set on a listener carry over to the connections
 * it accepts (Linux clones the listening socket), the SYN-ACK's TOS too. */
START_TEST(listener_options_inherited)
{
    harness *h = h_new(NULL, NULL);
    peer pe;
    peer_open(&pe, h, PORT, false, false, 10 * MS, 257);
    ts_stack *b = h->st[H_B];
    ck_assert_int_eq(ts_sock_set_tos(b, pe.lsd, 0x20), 0);
    ck_assert_int_eq(ts_sock_set_cork(b, pe.lsd, true), 0);
    ck_assert_int_eq(ts_sock_set_notsent_lowat(b, pe.lsd, 3000), 0);
    uint8_t opt[4] = {2, 4, 0x03, 0xe8}, pkt[200];
    h_seg g = {.src = H_ADDR_A,
               .dst = H_ADDR_B,
               .sport = 40001,
               .dport = PORT,
               .seq = 0,
               .flags = 0x02,
               .win = 65535,
               .opt = opt,
               .optlen = sizeof opt};
    size_t n = h_nlog(h);
    h_inject(h, H_B, pkt, h_build(pkt, &g));
    ck_assert_uint_eq(peer_out(&pe, n), 1);
    const h_pkt *sa = &h->log[n];
    ck_assert_uint_eq(sa->flags, 0x12);
    ck_assert_uint_eq(sa->data[1], 0x20);
    g.seq = 1, g.ack = sa->seq + 1, g.flags = 0x10, g.optlen = 0;
    h_inject(h, H_B, pkt, h_build(pkt, &g));
    int sd = ts_accept(b, pe.lsd, NULL);
    ck_assert_int_ge(sd, 0);
    ck_assert_int_eq(ts_sock_tos(b, sd), 0x20);
    ck_assert(ts_sock_cork(b, sd));
    ck_assert_uint_eq(ts_sock_notsent_lowat(b, sd), 3000);
    h_free(h);
}
END_TEST

/* The tail loss probe sends new data through a cork, as Linux's does (TCP_NAGLE_OFF
 * replaces the socket's cork for the probe): two full segments go at once, 500 bytes
 * wait; PTO = 2 SRTT + 2 ms later the probe is those 500 bytes, not a resend. */
START_TEST(tlp_probe_through_cork)
{
    harness *h = h_new(NULL, NULL);
    peer pe;
    peer_open(&pe, h, PORT, true, false, 10 * MS, 257);
    ts_stack *b = h->st[H_B];
    ts_sock_set_cork(b, pe.sd, true);
    size_t n = h_nlog(h);
    ts_time_t t0 = h->now;
    ck_assert_int_eq(ts_send(b, pe.sd, big, 2500), 2500);
    ck_assert_uint_eq(peer_out(&pe, n), 2);
    h_run_until(h, t0 + 30 * MS);
    ck_assert_uint_eq(peer_out(&pe, n), 3);
    peer_expect(&pe, n + 2, 2001, 2501, 0x18, t0 + 22 * MS);
    h_free(h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sendflags");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, cork_holds_until_uncork);
    tcase_add_test(tc, tlp_probe_through_cork);
    tcase_add_test(tc, push_through_cork);
    tcase_add_test(tc, msg_more_per_call);
    tcase_add_test(tc, eor_boundary);
    tcase_add_test(tc, notsent_lowat);
    tcase_add_test(tc, eor_one_mark_per_lowat_write);
    tcase_add_test(tc, peek_and_tos);
    tcase_add_test(tc, listener_options_inherited);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
