/* test_tcp_min_mss.c: a peer MSS of 1..47 is clamped to 48, Linux's TCP_MIN_SND_MSS (the
 * fix for CVE-2019-11479, "SACK slowness"): before it, MSS 1 made tcpsim cut 64 KB into
 * 8,192 segments of 8 bytes. Options come out of the 48 bytes, as Linux's tcp_mtu_to_mss
 * takes the header length off after the clamp: 36 bytes of data with timestamps. Side B
 * is the tcpsim sender; the test plays a client with a tiny MSS. */
#include <check.h>
#include <string.h>

#include "harness.h"

#define PORT 7000

static bool drop_b(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h, (void)p, (void)idx;
    return from == H_B;
}

/* Open B's listener, send a SYN with MSS `mss` (and TS if ts), ACK the SYN-ACK with a
 * large window, have B send 1000 bytes; return B's accepted socket. */
static int open_with_mss(harness *h, uint16_t mss, bool ts, uint32_t *iss)
{
    h->drop = drop_b;
    ts_stack *b = h->st[H_B];
    int lsd = ts_socket(b);
    ck_assert_int_eq(ts_bind(b, lsd, 0, PORT), 0);
    ck_assert_int_eq(ts_listen(b, lsd, 4), 0);
    uint8_t opt[24], pkt[1600];
    size_t ol = 0;
    opt[ol++] = 2, opt[ol++] = 4, opt[ol++] = (uint8_t)(mss >> 8), opt[ol++] = (uint8_t)mss;
    if (ts) {
        const uint8_t t[12] = {1, 1, 8, 10, 0, 0, 0, 100, 0, 0, 0, 0};
        memcpy(opt + ol, t, sizeof t);
        ol += sizeof t;
    }
    h_seg g = {.src = H_ADDR_A,
               .dst = H_ADDR_B,
               .sport = 40000,
               .dport = PORT,
               .seq = 0,
               .flags = TS_TH_SYN,
               .win = 65535,
               .opt = opt,
               .optlen = ol};
    h_inject(h, H_B, pkt, h_build(pkt, &g));
    ck_assert_uint_eq(h->log[h_nlog(h) - 1].flags, TS_TH_SYN | TS_TH_ACK);
    *iss = h->log[h_nlog(h) - 1].seq;
    h_run_until(h, h->now + 10 * TS_MSEC);
    static const uint8_t tsopt[12] = {1, 1, 8, 10, 0, 0, 0, 200, 0, 0, 0, 0}; /* TSval 200 */
    g = (h_seg){.src = H_ADDR_A,
                .dst = H_ADDR_B,
                .sport = 40000,
                .dport = PORT,
                .seq = 1,
                .ack = *iss + 1,
                .flags = TS_TH_ACK,
                .win = 65535,
                .opt = ts ? tsopt : NULL,
                .optlen = ts ? sizeof tsopt : 0};
    h_inject(h, H_B, pkt, h_build(pkt, &g));
    int sd = ts_accept(b, lsd, NULL);
    ck_assert_int_ge(sd, 0);
    static uint8_t data[1000];
    memset(data, 'm', sizeof data);
    ck_assert_int_eq(ts_send(b, sd, data, sizeof data), (int)sizeof data);
    return sd;
}

/* The data segments B sent: each must carry `want` bytes (the last what is left). */
static void check_segments(harness *h, int sd, uint32_t want)
{
    ts_tcp_info ti;
    ck_assert_int_eq(ts_sock_info(h->st[H_B], sd, &ti), 0);
    ck_assert_uint_eq(ti.snd_mss, want);
    size_t n = 0;
    uint32_t bytes = 0;
    for (size_t i = 0; i < h_nlog(h); i++) {
        const h_pkt *p = &h->log[i];
        if (p->from != H_B || !p->plen) continue;
        n++;
        bytes += p->plen;
        if (bytes < 1000)
            ck_assert_msg(p->plen == want, "segment %zu: %u bytes, want %u", n, p->plen, want);
    }
    ck_assert_uint_gt(n, 0);
    /* the initial window is 10 segments of the clamped MSS */
    uint32_t need = (1000 + want - 1) / want;
    ck_assert_uint_eq(n, need < 10 ? need : 10);
}

static void case_mss(uint16_t mss, bool ts, uint32_t want)
{
    harness *h = h_new(NULL, NULL);
    uint32_t iss;
    int sd = open_with_mss(h, mss, ts, &iss);
    check_segments(h, sd, want);
    h_free(h);
}

START_TEST(peer_mss_1_is_clamped_to_48)
{
    case_mss(1, false, 48);
}
END_TEST

START_TEST(peer_mss_47_is_clamped_to_48)
{
    case_mss(47, false, 48);
}
END_TEST

START_TEST(peer_mss_48_is_used_as_is)
{
    case_mss(48, false, 48);
}
END_TEST

START_TEST(peer_mss_49_is_used_as_is)
{
    case_mss(49, false, 49);
}
END_TEST

/* With timestamps the 12 option bytes come out of the clamped 48, as in Linux */
START_TEST(peer_mss_1_with_timestamps_sends_36)
{
    case_mss(1, true, 36);
}
END_TEST

START_TEST(peer_mss_48_with_timestamps_sends_36)
{
    case_mss(48, true, 36);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("min_mss");
    TCase *tc = tcase_create("min_mss");
    tcase_add_test(tc, peer_mss_1_is_clamped_to_48);
    tcase_add_test(tc, peer_mss_47_is_clamped_to_48);
    tcase_add_test(tc, peer_mss_48_is_used_as_is);
    tcase_add_test(tc, peer_mss_49_is_used_as_is);
    tcase_add_test(tc, peer_mss_1_with_timestamps_sends_36);
    tcase_add_test(tc, peer_mss_48_with_timestamps_sends_36);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
