/* test_tcp_reincarnation.c: a connection reset while its application still holds the
 * socket, then a new SYN on the same four-tuple. Pins what fuzz_tcp_input relies on (its
 * crash "read a byte the other side never wrote" was the harness forging against the old,
 * CLOSED socket's sequence space): the old socket reports CLOSED with its own IRS, the new
 * incarnation is the one segments reach, and a segment straddling the new RCV.NXT is
 * trimmed (RFC 9293 3.10.7.4) so only its in-window byte is delivered, at offset 0. */
#include <check.h>
#include <string.h>

#include "harness.h"

#define PORT 80

/* Everything B sends is lost: A's stack must not answer B's SYN-ACKs with RSTs. */
static bool drop_all(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h, (void)p, (void)idx;
    return from == H_B;
}

static void inject(harness *h, uint32_t seq, uint32_t ack, uint8_t flags, const void *data,
                   size_t dlen)
{
    uint8_t pkt[1600];
    h_seg g = {.src = H_ADDR_A,
               .dst = H_ADDR_B,
               .sport = 40000,
               .dport = PORT,
               .seq = seq,
               .ack = ack,
               .flags = flags,
               .win = 64240,
               .data = data,
               .dlen = dlen};
    h_inject(h, H_B, pkt, h_build(pkt, &g));
}

/* A three-way handshake from A (ISN irs) into B's listener; the accepted socket. */
static int handshake(harness *h, int lsd, uint32_t irs, uint32_t *iss)
{
    size_t n0 = h_nlog(h);
    inject(h, irs, 0, TS_TH_SYN, NULL, 0);
    ck_assert_uint_eq(h_nlog(h), n0 + 1);
    ck_assert_uint_eq(h->log[n0].flags, TS_TH_SYN | TS_TH_ACK);
    *iss = h->log[n0].seq;
    inject(h, irs + 1, *iss + 1, TS_TH_ACK, NULL, 0);
    int sd = ts_accept(h->st[H_B], lsd, NULL);
    ck_assert_int_ge(sd, 0);
    return sd;
}

START_TEST(reset_then_same_ports_new_incarnation)
{
    harness *h = h_new(NULL, NULL);
    h->drop = drop_all;
    ts_stack *b = h->st[H_B];
    int lsd = ts_socket(b);
    ck_assert_int_eq(ts_bind(b, lsd, 0, PORT), 0);
    ck_assert_int_eq(ts_listen(b, lsd, 8), 0);

    uint32_t iss1, iss2;
    int old = handshake(h, lsd, 1000, &iss1);
    inject(h, 1001, iss1 + 1, TS_TH_ACK, "abcd", 4); /* old stream offsets 0..3 */
    inject(h, 1005, 0, TS_TH_RST, NULL, 0);          /* exact RCV.NXT: resets */
    ts_tcp_info ti;
    ck_assert_int_eq(ts_sock_info(b, old, &ti), 0);
    ck_assert_int_eq(ti.state, TS_CLOSED);
    ck_assert_uint_eq(ti.irs, 1000);

    int sd = handshake(h, lsd, 5000, &iss2); /* same ports, the old socket still open */
    ck_assert_int_eq(ts_sock_info(b, sd, &ti), 0);
    ck_assert_int_eq(ti.state, TS_ESTABLISHED);
    ck_assert_uint_eq(ti.irs, 5000);
    ck_assert_uint_eq(ti.rcv_nxt, 5001);

    /* 4991..5001: ten bytes below the new RCV.NXT, one at it */
    inject(h, 4991, iss2 + 1, TS_TH_ACK, "0123456789X", 11);
    char buf[16];
    ck_assert_int_eq(ts_recv(b, sd, buf, sizeof buf), 1);
    ck_assert_int_eq(buf[0], 'X');
    ck_assert_int_eq(ts_sock_info(b, sd, &ti), 0);
    ck_assert_uint_eq(ti.rcv_nxt, 5002);
    /* the old socket keeps only its own stream: what it took before the reset */
    ck_assert_int_eq(ts_recv(b, old, buf, sizeof buf), 4);
    ck_assert_int_eq(memcmp(buf, "abcd", 4), 0);
    ck_assert_int_le(ts_recv(b, old, buf, sizeof buf), 0);
    h_free(h);
}
END_TEST

static Suite *reincarnation_suite(void)
{
    Suite *s = suite_create("reincarnation");
    TCase *tc = tcase_create("same_ports");
    tcase_add_test(tc, reset_then_same_ports_new_incarnation);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(reincarnation_suite());
}
