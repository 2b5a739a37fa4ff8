/* test_format.c: tcpdump-style lines: the founding chapter's six segments built byte by
 * byte must print exactly as its capture; data, SACK, ICMP and odd packets; and every
 * truncation of a packet prints something without reading past the end. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tcpsim/checksum.h"
#include "tcpsim/format.h"
#include "harness.h"

#define CLIENT 0x0a000067u /* 10.0.0.103 */
#define SERVER 0x0a0000c7u /* 10.0.0.199 */

typedef struct seg {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    const uint8_t *opt;
    size_t optlen;
    size_t datalen;
} seg;

static void w16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static void w32(uint8_t *p, uint32_t v)
{
    w16(p, v >> 16), w16(p + 2, v);
}

/* IPv4 header (20 bytes) for proto with l4len bytes after it. */
static void ip_hdr(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, size_t l4len)
{
    memset(p, 0, 20);
    p[0] = 0x45;
    w16(p + 2, (uint32_t)(20 + l4len));
    p[6] = 0x40; /* DF */
    p[8] = 64, p[9] = proto;
    w32(p + 12, src), w32(p + 16, dst);
    w16(p + 10, ts_csum(p, 20));
}

static size_t build(uint8_t *p, const seg *s)
{
    size_t hl = 20 + s->optlen, l4 = hl + s->datalen;
    ip_hdr(p, s->src, s->dst, 6, l4);
    uint8_t *t = p + 20;
    memset(t, 0, l4);
    w16(t, s->sport), w16(t + 2, s->dport);
    w32(t + 4, s->seq), w32(t + 8, s->ack);
    t[12] = (uint8_t)(hl / 4 << 4), t[13] = s->flags;
    w16(t + 14, s->win);
    if (s->optlen) memcpy(t + 20, s->opt, s->optlen);
    for (size_t i = 0; i < s->datalen; i++) t[hl + i] = (uint8_t)('a' + i % 26);
    return 20 + l4;
}

static const char *fmt(const uint8_t *p, size_t len)
{
    static char line[512];
    size_t n = ts_format_packet(p, len, line, sizeof line);
    ck_assert_uint_eq(n, strlen(line));
    return line;
}

/* Options as bytes, the way Linux put them on the wire. */
static const uint8_t syn_opts[] = {2,    4,    0x05, 0xb4, 4, 2, 8, 10, 0x44, 0xd6,
                                   0x00, 0x61, 0,    0,    0, 0, 1, 3,  3,    7};
static const uint8_t synack_opts[] = {2,    4,    0x04, 0xe2, 4,    2,    8, 10, 0x5b, 0xfc,
                                      0xbc, 0x73, 0x44, 0xd6, 0x00, 0x61, 1, 3,  3,    7};

static size_t ts_opts(uint8_t *o, uint32_t val, uint32_t ecr)
{
    o[0] = 1, o[1] = 1, o[2] = 8, o[3] = 10;
    w32(o + 4, val), w32(o + 8, ecr);
    return 12;
}

START_TEST(chapter_open_and_close)
{
    uint8_t pkt[128], o3[12], o4[12], o5[12], o6[12];
    ts_opts(o3, 1154875493, 1543289971);
    ts_opts(o4, 1154882707, 1543289971);
    ts_opts(o5, 1543297188, 1154882707);
    ts_opts(o6, 1154882711, 1543297188);
    const seg segs[6] = {
        {CLIENT, SERVER, 55570, 6379, 3841401858u, 0, 0x02, 64240, syn_opts, 20, 0},
        {SERVER, CLIENT, 6379, 55570, 3944805231u, 3841401859u, 0x12, 65160, synack_opts, 20, 0},
        {CLIENT, SERVER, 55570, 6379, 3841401859u, 3944805232u, 0x10, 502, o3, 12, 0},
        {CLIENT, SERVER, 55570, 6379, 3841401859u, 3944805232u, 0x11, 502, o4, 12, 0},
        {SERVER, CLIENT, 6379, 55570, 3944805232u, 3841401860u, 0x11, 510, o5, 12, 0},
        {CLIENT, SERVER, 55570, 6379, 3841401860u, 3944805233u, 0x10, 502, o6, 12, 0},
    };
    static const char *const want[6] = {
        "IP 10.0.0.103.55570 > 10.0.0.199.6379: Flags [S], seq 3841401858, win 64240, options "
        "[mss 1460,sackOK,TS val 1154875489 ecr 0,nop,wscale 7], length 0",
        "IP 10.0.0.199.6379 > 10.0.0.103.55570: Flags [S.], seq 3944805231, ack 3841401859, win "
        "65160, options [mss 1250,sackOK,TS val 1543289971 ecr 1154875489,nop,wscale 7], length 0",
        "IP 10.0.0.103.55570 > 10.0.0.199.6379: Flags [.], ack 3944805232, win 502, options "
        "[nop,nop,TS val 1154875493 ecr 1543289971], length 0",
        "IP 10.0.0.103.55570 > 10.0.0.199.6379: Flags [F.], seq 3841401859, ack 3944805232, win "
        "502, options [nop,nop,TS val 1154882707 ecr 1543289971], length 0",
        "IP 10.0.0.199.6379 > 10.0.0.103.55570: Flags [F.], seq 3944805232, ack 3841401860, win "
        "510, options [nop,nop,TS val 1543297188 ecr 1154882707], length 0",
        "IP 10.0.0.103.55570 > 10.0.0.199.6379: Flags [.], ack 3944805233, win 502, options "
        "[nop,nop,TS val 1154882711 ecr 1543297188], length 0",
    };
    for (int i = 0; i < 6; i++) ck_assert_str_eq(fmt(pkt, build(pkt, &segs[i])), want[i]);
}
END_TEST

START_TEST(data_sack_rst_flags)
{
    uint8_t pkt[2048], o[40];
    size_t ol = ts_opts(o, 7, 8);
    seg s = {CLIENT, SERVER, 55570, 6379, 3841401859u, 3944805232u, 0x18, 502, o, ol, 12};
    ck_assert_str_eq(fmt(pkt, build(pkt, &s)),
                     "IP 10.0.0.103.55570 > 10.0.0.199.6379: Flags [P.], seq "
                     "3841401859:3841401871, ack 3944805232, win 502, options [nop,nop,TS val 7 "
                     "ecr 8], length 12");
    /* sequence wraps in "seq A:B" as tcpdump's unsigned arithmetic does */
    s.seq = 0xfffffffau, s.opt = NULL, s.optlen = 0, s.flags = 0x10, s.datalen = 1448;
    ck_assert_str_eq(fmt(pkt, build(pkt, &s)),
                     "IP 10.0.0.103.55570 > 10.0.0.199.6379: Flags [.], seq 4294967290:1442, ack "
                     "3944805232, win 502, length 1448");
    /* NOP NOP TS then NOP NOP SACK with two blocks */
    const uint8_t so[] = {1, 1, 5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40};
    memcpy(o + ol, so, sizeof so);
    s = (seg){SERVER, CLIENT, 6379, 55570, 100, 5, 0x10, 510, o, ol + sizeof so, 0};
    ck_assert_str_eq(fmt(pkt, build(pkt, &s)),
                     "IP 10.0.0.199.6379 > 10.0.0.103.55570: Flags [.], ack 5, win 510, options "
                     "[nop,nop,TS val 7 ecr 8,nop,nop,sack 2 {10:20}{30:40}], length 0");
    s = (seg){SERVER, CLIENT, 6379, 55570, 3944805232u, 0, 0x04, 0, NULL, 0, 0};
    ck_assert_str_eq(fmt(pkt, build(pkt, &s)),
                     "IP 10.0.0.199.6379 > 10.0.0.103.55570: Flags [R], seq 3944805232, win 0, "
                     "length 0");
    s.flags = 0x14, s.ack = 9;
    ck_assert_str_eq(fmt(pkt, build(pkt, &s)),
                     "IP 10.0.0.199.6379 > 10.0.0.103.55570: Flags [R.], seq 3944805232, ack 9, "
                     "win 0, length 0");
    s.flags = 0;
    ck_assert_str_eq(fmt(pkt, build(pkt, &s)),
                     "IP 10.0.0.199.6379 > 10.0.0.103.55570: Flags [none], win 0, length 0");
    s.flags = 0xff, s.ack = 1, s.seq = 2, s.win = 3; /* tcpdump's letter order; urg pointer */
    size_t n = build(pkt, &s);
    w16(pkt + 20 + 18, 77);
    ck_assert_str_eq(fmt(pkt, n), "IP 10.0.0.199.6379 > 10.0.0.103.55570: Flags [FSRP.UEW], seq "
                                  "2, ack 1, win 3, urg 77, length 0");
}
END_TEST

START_TEST(odd_options)
{
    uint8_t pkt[128];
    const uint8_t unk[] = {30, 4, 0xaa, 0xbb, 1, 0, 0, 0}; /* unknown kind, NOP, EOL + pad */
    seg s = {CLIENT, SERVER, 1, 2, 5, 0, 0x02, 100, unk, sizeof unk, 0};
    ck_assert_str_eq(fmt(pkt, build(pkt, &s)), "IP 10.0.0.103.1 > 10.0.0.199.2: Flags [S], seq 5, "
                                               "win 100, options [unknown-30,nop,eol], length 0");
    const uint8_t bad[] = {2, 4, 5, 0xb4, 3, 2, 0, 0}; /* wscale with length 2 */
    s.opt = bad, s.optlen = sizeof bad;
    ck_assert_str_eq(fmt(pkt, build(pkt, &s)), "IP 10.0.0.103.1 > 10.0.0.199.2: Flags [S], seq 5, "
                                               "win 100, options [mss 1460,[bad opt]], length 0");
    const uint8_t zero[] = {1, 1, 8, 0}; /* length byte 0 */
    s.opt = zero, s.optlen = sizeof zero;
    ck_assert_str_eq(fmt(pkt, build(pkt, &s)), "IP 10.0.0.103.1 > 10.0.0.199.2: Flags [S], seq 5, "
                                               "win 100, options [nop,nop,[bad opt]], length 0");
    const uint8_t past[] = {1, 1, 1, 8}; /* kind with no length byte */
    s.opt = past, s.optlen = sizeof past;
    ck_assert_str_eq(fmt(pkt, build(pkt, &s)),
                     "IP 10.0.0.103.1 > 10.0.0.199.2: Flags [S], seq 5, win 100, options "
                     "[nop,nop,nop,[bad opt]], length 0");
}
END_TEST

static size_t icmp_echo(uint8_t *p, uint8_t type, uint16_t id, uint16_t sq, size_t len)
{
    ip_hdr(p, 0x0a000001, 0x0a000002, 1, len);
    uint8_t *m = p + 20;
    memset(m, 0, len);
    m[0] = type;
    w16(m + 4, id), w16(m + 6, sq);
    w16(m + 2, ts_csum(m, len));
    return 20 + len;
}

START_TEST(icmp_and_other_protocols)
{
    uint8_t pkt[256];
    ck_assert_str_eq(fmt(pkt, icmp_echo(pkt, 8, 7, 1, 64)),
                     "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 64");
    ck_assert_str_eq(fmt(pkt, icmp_echo(pkt, 0, 7, 1, 64)),
                     "IP 10.0.0.1 > 10.0.0.2: ICMP echo reply, id 7, seq 1, length 64");
    ck_assert_str_eq(fmt(pkt, icmp_echo(pkt, 13, 1, 2, 20)),
                     "IP 10.0.0.1 > 10.0.0.2: ICMP type-13, length 20");
    ck_assert_str_eq(fmt(pkt, icmp_echo(pkt, 8, 7, 1, 4)), "IP 10.0.0.1 > 10.0.0.2: [|icmp]");
    ip_hdr(pkt, 0x0a000001, 0x0a000002, 17, 36);
    ck_assert_str_eq(fmt(pkt, 56), "IP 10.0.0.1 > 10.0.0.2: ip-proto-17 36");
    /* a later fragment of a TCP packet has no TCP header to print */
    ip_hdr(pkt, 0x0a000001, 0x0a000002, 6, 8);
    pkt[6] = 0x00, pkt[7] = 0x10;
    ck_assert_str_eq(fmt(pkt, 28), "IP 10.0.0.1 > 10.0.0.2: ip-proto-6 8");
}
END_TEST

START_TEST(malformed_ip)
{
    uint8_t pkt[64] = {0};
    ck_assert_str_eq(fmt(pkt, 0), "IP truncated");
    ck_assert_str_eq(fmt(NULL, 0), "IP truncated");
    ip_hdr(pkt, 1, 2, 6, 20);
    ck_assert_str_eq(fmt(pkt, 19), "IP truncated");
    pkt[0] = 0x65;
    ck_assert_str_eq(fmt(pkt, 40), "IP bad version 6");
    pkt[0] = 0x44; /* IHL 16 bytes */
    ck_assert_str_eq(fmt(pkt, 40), "IP truncated");
    pkt[0] = 0x4f; /* IHL 60 bytes, past the buffer */
    ck_assert_str_eq(fmt(pkt, 40), "IP truncated");
    ip_hdr(pkt, 1, 2, 6, 20);
    pkt[2] = 0, pkt[3] = 10; /* total length below the header */
    ck_assert_str_eq(fmt(pkt, 40), "IP truncated");
    ip_hdr(pkt, 0x0a000001, 0x0a000002, 6, 20);
    memset(pkt + 20, 0, 20);
    pkt[20 + 12] = 0x30; /* data offset 3 */
    ck_assert_str_eq(fmt(pkt, 40),
                     "IP 10.0.0.1.0 > 10.0.0.2.0: [bad hdr length 12 - too short, < 20]");
    pkt[20 + 12] = 0xf0, pkt[20 + 13] = 0x02; /* 60-byte header in a 20-byte segment */
    ck_assert_str_eq(fmt(pkt, 40), "IP 10.0.0.1.0 > 10.0.0.2.0: Flags [S], seq 0, win 0, [|tcp]");
}
END_TEST

START_TEST(every_truncation_is_safe)
{
    uint8_t full[128];
    const seg s = {CLIENT, SERVER, 55570, 6379, 1, 2, 0x12, 65160, synack_opts, 20, 10};
    size_t n = build(full, &s);
    for (size_t len = 0; len <= n; len++) {
        uint8_t *p = malloc(len ? len : 1); /* exact size: ASan sees any overread */
        if (len) memcpy(p, full, len);
        const char *line = fmt(p, len);
        ck_assert(strncmp(line, "IP ", 3) == 0);
        ck_assert_uint_eq(strlen(line) > 0, 1);
        free(p);
    }
    /* the IP total length says more than was captured: print what there is */
    ck_assert_str_eq(fmt(full, 44), "IP truncated-ip - 26 bytes missing! 10.0.0.103.55570 > "
                                    "10.0.0.199.6379: Flags [S.], seq 1, "
                                    "ack 2, win 65160, [|tcp]");
    ck_assert_str_eq(fmt(full, 22),
                     "IP truncated-ip - 48 bytes missing! 10.0.0.103 > 10.0.0.199: [|tcp]");
    ck_assert_str_eq(
        fmt(full, 30),
        "IP truncated-ip - 40 bytes missing! 10.0.0.103.55570 > 10.0.0.199.6379: [|tcp]");
}
END_TEST

START_TEST(small_buffers)
{
    uint8_t pkt[128];
    const seg s = {CLIENT, SERVER, 55570, 6379, 3841401858u, 0, 0x02, 64240, syn_opts, 20, 0};
    size_t n = build(pkt, &s);
    char buf[16];
    memset(buf, 'x', sizeof buf);
    ck_assert_uint_eq(ts_format_packet(pkt, n, buf, 10), 9);
    ck_assert_str_eq(buf, "IP 10.0.0");
    ck_assert_int_eq(buf[10], 'x');
    ck_assert_uint_eq(ts_format_packet(pkt, n, buf, 1), 0);
    ck_assert_str_eq(buf, "");
    ck_assert_uint_eq(ts_format_packet(pkt, n, buf, 0), 0);
}
END_TEST

START_TEST(time_stamps)
{
    char buf[32];
    ts_time_t t =
        (ts_time_t)19000 * 86400 * 1000000 + ((7 * 3600 + 42 * 60 + 21) * 1000000ull) + 201942;
    ck_assert_uint_eq(ts_format_time(t, false, buf, sizeof buf), 15);
    ck_assert_str_eq(buf, "07:42:21.201942");
    ck_assert_uint_eq(ts_format_time(31000000, true, buf, sizeof buf), 9);
    ck_assert_str_eq(buf, "31.000000");
    ts_format_time(0, true, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.000000");
    ts_format_time(1027000, true, buf, sizeof buf);
    ck_assert_str_eq(buf, "1.027000");
    ts_format_time(0, false, buf, sizeof buf);
    ck_assert_str_eq(buf, "00:00:00.000000");
    ts_format_time(1027000, true, buf, 4);
    ck_assert_str_eq(buf, "1.0");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, chapter_open_and_close);
    tcase_add_test(tc, data_sack_rst_flags);
    tcase_add_test(tc, odd_options);
    tcase_add_test(tc, icmp_and_other_protocols);
    tcase_add_test(tc, malformed_ip);
    tcase_add_test(tc, every_truncation_is_safe);
    tcase_add_test(tc, small_buffers);
    tcase_add_test(tc, time_stamps);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
