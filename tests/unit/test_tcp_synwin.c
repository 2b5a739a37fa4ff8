/* test_tcp_synwin.c: the window in a SYN-ACK is never scaled (RFC 7323 2.2), even when
 * both sides agreed on window scaling: a SYN-ACK saying win 2920 with wscale 7 lets the
 * client send 2920 bytes, not 2920 << 7. */
#include <check.h>
#include <errno.h>

#include "harness.h"

START_TEST(synack_window_is_not_scaled)
{
    harness *h = h_new(NULL, NULL);
    h->drop = NULL;
    ts_stack *a = h->st[H_A];
    int sd = ts_socket(a);
    ck_assert_int_eq(ts_connect(a, sd, TS_IP4(10, 0, 0, 199), 80), -EINPROGRESS);
    ck_assert_uint_eq(h_nlog(h), 1);
    uint32_t iss = h->log[0].seq;
    uint16_t sport = (uint16_t)(h->log[0].data[20] << 8 | h->log[0].data[21]);
    /* SYN-ACK from "B" by hand: mss 1460, no timestamps, wscale 7, window 2920 */
    static const uint8_t opt[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};
    h_seg g = {.src = TS_IP4(10, 0, 0, 199),
               .dst = TS_IP4(10, 0, 0, 103),
               .sport = 80,
               .dport = sport,
               .seq = 1000,
               .ack = iss + 1,
               .flags = TS_TH_SYN | TS_TH_ACK,
               .win = 2920,
               .opt = opt,
               .optlen = sizeof opt};
    uint8_t pkt[128];
    size_t len = h_build(pkt, &g);
    h_inject(h, H_A, pkt, len);
    ck_assert(ts_sock_events(a, sd) & TS_SOCK_CONNECTED);
    static uint8_t buf[20000];
    ck_assert_int_eq(ts_send(a, sd, buf, sizeof buf), (int)sizeof buf);
    size_t bytes = 0;
    for (size_t i = 1; i < h_nlog(h); i++)
        if (h->log[i].from == H_A) bytes += h->log[i].plen;
    ck_assert_uint_eq(bytes, 2920); /* two segments of 1460: the unscaled window exactly */
    h_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("synwin");
    TCase *tc = tcase_create("synwin");
    tcase_add_test(tc, synack_window_is_not_scaled);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
