/* test_wire.c: the wire layer (tcpsim/wire.h): parsing valid packets, every malformed
 * case with its result code and drop reason, options at the very end of an exact-size
 * buffer, the writers round-tripping through the parser, and checksums against a naive
 * reference and a known IPv4 header. Every parse reads a malloc'd block of exactly the
 * packet's length, so ASan catches a read one byte past it. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tcpsim/format.h"
#include "tcpsim/wire.h"

#define A TS_IP4(10, 0, 0, 103)
#define B TS_IP4(10, 0, 0, 199)

/* A copy of pkt in a block of exactly len bytes (freed by the caller). */
static uint8_t *exact(const uint8_t *pkt, size_t len)
{
    uint8_t *b = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(b);
    if (len) memcpy(b, pkt, len);
    return b;
}

/* Slow, obviously right one's-complement sum (RFC 1071). */
static uint16_t ref_sum(uint32_t acc, const uint8_t *p, size_t len)
{
    uint64_t s = acc;
    for (size_t i = 0; i + 1 < len; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1) s += (uint32_t)p[len - 1] << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* The chapter's first SYN: 10.0.0.103.55570 > 10.0.0.199.6379, with Linux's options. */
static size_t chapter_syn(uint8_t *buf, size_t cap, const char *data)
{
    ts_tcp_opts_out o = {.syn = true,
                         .mss_on = true,
                         .mss = 1460,
                         .sackok_on = true,
                         .wscale_on = true,
                         .wscale = 7,
                         .ts_on = true,
                         .tsval = 1154875489};
    uint8_t opt[40];
    size_t olen = ts_tcp_opts_write(opt, &o);
    ts_ip4_hdr ip = {.ttl = 64, .id = 0x1234, .frag = TS_IP4_DF, .src = A, .dst = B};
    ts_tcp_hdr th = {
        .sport = 55570, .dport = 6379, .seq = 3841401858u, .flags = TS_TH_SYN, .win = 64240};
    return ts_tcp_build(buf, cap, &ip, &th, opt, olen, data, data ? strlen(data) : 0);
}

START_TEST(flags_are_the_header_bits)
{
    /* RFC 9293 3.1 and RFC 3168: FIN is the low bit, CWR the high one. */
    const uint8_t bits[] = {TS_TH_FIN, TS_TH_SYN, TS_TH_RST, TS_TH_PSH,
                            TS_TH_ACK, TS_TH_URG, TS_TH_ECE, TS_TH_CWR};
    for (unsigned i = 0; i < 8; i++) ck_assert_uint_eq(bits[i], 1u << i);
}
END_TEST

START_TEST(parse_valid_syn)
{
    uint8_t buf[128];
    size_t len = chapter_syn(buf, sizeof buf, NULL);
    ck_assert_uint_eq(len, 60);
    uint8_t *p = exact(buf, len);
    ts_ip4_view ip;
    ck_assert_int_eq(ts_ip4_view_parse(&ip, p, len), TS_WIRE_OK);
    ck_assert_ptr_eq(ip.hdr, p);
    ck_assert_uint_eq(ip.hlen, 20);
    ck_assert_uint_eq(ip.tot_len, 60);
    ck_assert_ptr_eq(ip.payload, p + 20);
    ck_assert_uint_eq(ip.payload_len, 40);
    ck_assert_uint_eq(ip.ttl, 64);
    ck_assert_uint_eq(ip.proto, TS_IPPROTO_TCP);
    ck_assert_uint_eq(ip.id, 0x1234);
    ck_assert_uint_eq(ip.frag, TS_IP4_DF);
    ck_assert(!ts_ip4_is_fragment(&ip));
    ck_assert_uint_eq(ip.src, A);
    ck_assert_uint_eq(ip.dst, B);
    ck_assert(ts_ip4_csum_ok(&ip));

    ts_tcp_view t;
    ck_assert_int_eq(ts_tcp_view_parse(&t, ip.payload, ip.payload_len), TS_WIRE_OK);
    ck_assert_uint_eq(t.sport, 55570);
    ck_assert_uint_eq(t.dport, 6379);
    ck_assert_uint_eq(t.seq, 3841401858u);
    ck_assert_uint_eq(t.ack, 0);
    ck_assert_uint_eq(t.flags, TS_TH_SYN);
    ck_assert_uint_eq(t.win, 64240);
    ck_assert_uint_eq(t.hlen, 40);
    ck_assert_ptr_eq(t.opt, p + 40);
    ck_assert_uint_eq(t.optlen, 20);
    ck_assert_ptr_eq(t.data, p + 60);
    ck_assert_uint_eq(t.len, 0);
    ck_assert_uint_eq(ts_tcp_view_seqlen(&t), 1);
    ck_assert(ts_tcp_csum_ok(&t, A, B));
    ck_assert(!ts_tcp_csum_ok(&t, A, B + 1)); /* the pseudo-header counts */

    ts_tcp_opts o;
    ck_assert_int_eq(ts_tcp_view_opts(&t, &o), TS_WIRE_OK);
    ck_assert(o.has_mss && o.mss == 1460);
    ck_assert(o.has_sackok);
    ck_assert(o.has_wscale && o.wscale == 7);
    ck_assert(o.has_ts && o.tsval == 1154875489u && o.tsecr == 0);

    /* And the printer agrees, as tcpdump would print it. */
    char line[256];
    ts_format_packet(p, len, line, sizeof line);
    ck_assert_str_eq(line, "IP 10.0.0.103.55570 > 10.0.0.199.6379: Flags [S], seq 3841401858, "
                           "win 64240, options [mss 1460,sackOK,TS val 1154875489 ecr "
                           "0,nop,wscale 7], length 0");
    free(p);
}
END_TEST

START_TEST(parse_both_layers)
{
    uint8_t buf[128];
    size_t len = chapter_syn(buf, sizeof buf, "hi");
    uint8_t *p = exact(buf, len);
    ts_pkt_view v;
    ck_assert_int_eq(ts_pkt_view_parse(&v, p, len), TS_WIRE_OK);
    ck_assert(v.ip && v.tcp);
    ck_assert_uint_eq(v.th.len, 2);
    ck_assert_int_eq(memcmp(v.th.data, "hi", 2), 0);
    ck_assert_uint_eq(ts_tcp_view_seqlen(&v.th), 3);
    free(p);

    /* Not TCP: a well-formed IPv4 packet, tcp false, still OK. */
    buf[9] = TS_IPPROTO_ICMP;
    p = exact(buf, len);
    ck_assert_int_eq(ts_pkt_view_parse(&v, p, len), TS_WIRE_OK);
    ck_assert(v.ip && !v.tcp);
    ck_assert_uint_eq(v.ip4.proto, TS_IPPROTO_ICMP);
    free(p);

    /* A TCP header that is not well-formed: the IP part stands, tcp false, the error said. */
    buf[9] = TS_IPPROTO_TCP;
    buf[32] = 0x40; /* data offset 4 */
    p = exact(buf, len);
    ck_assert_int_eq(ts_pkt_view_parse(&v, p, len), TS_WIRE_TCP_HDRLEN);
    ck_assert(v.ip && !v.tcp);
    free(p);

    ck_assert_int_eq(ts_pkt_view_parse(&v, NULL, 0), TS_WIRE_IP_SHORT);
    ck_assert(!v.ip && !v.tcp);
}
END_TEST

/* Parse the IPv4 layer of pkt[0..len) from an exact-size copy. */
static ts_wire_err ip_err(const uint8_t *pkt, size_t len, ts_ip4_view *v)
{
    uint8_t *p = exact(pkt, len);
    ts_wire_err e = ts_ip4_view_parse(v, p, len);
    if (v->hdr) { /* every pointer it hands out lies inside the buffer */
        ck_assert(v->hdr == p);
        ck_assert(v->payload + v->payload_len <= p + len);
        v->hdr = v->payload = NULL; /* the copy goes away */
    }
    free(p);
    return e;
}

START_TEST(ip_malformed)
{
    uint8_t buf[128], bad[128];
    size_t len = chapter_syn(buf, sizeof buf, NULL);
    ts_ip4_view v;
    ck_assert_int_eq(ts_ip4_view_parse(&v, NULL, 0), TS_WIRE_IP_SHORT);
    for (size_t n = 0; n < 20; n++) ck_assert_int_eq(ip_err(buf, n, &v), TS_WIRE_IP_SHORT);

    memcpy(bad, buf, len), bad[0] = 0x65;
    ck_assert_int_eq(ip_err(bad, len, &v), TS_WIRE_IP_VERSION);
    memcpy(bad, buf, len), bad[0] = 0x44; /* IHL 4 */
    ck_assert_int_eq(ip_err(bad, len, &v), TS_WIRE_IP_HDRLEN);
    memcpy(bad, buf, len), bad[0] = 0x4f; /* IHL 15: 60 bytes, the buffer has 60: fits */
    ck_assert_int_eq(ip_err(bad, 59, &v), TS_WIRE_IP_HDRLEN);
    memcpy(bad, buf, len), bad[0] = 0x46; /* IHL 6 on a bare 20-byte header */
    ck_assert_int_eq(ip_err(bad, 20, &v), TS_WIRE_IP_HDRLEN);

    memcpy(bad, buf, len), bad[2] = 0, bad[3] = 19; /* total length below IHL */
    ck_assert_int_eq(ip_err(bad, len, &v), TS_WIRE_IP_TOTLEN);
    ck_assert_ptr_null(v.hdr);

    /* Total length past the buffer: a capture shorter than the packet. The view still
     * describes what was captured, for printers. */
    ck_assert_int_eq(ip_err(buf, 44, &v), TS_WIRE_IP_TOTLEN);
    ck_assert_uint_eq(v.tot_len, 60);
    ck_assert_uint_eq(v.payload_len, 24);
    ck_assert_uint_eq(v.src, A);

    /* Bytes after the total length (link padding) are not payload. */
    memcpy(bad, buf, len), memset(bad + len, 0xee, 6);
    ck_assert_int_eq(ip_err(bad, len + 6, &v), TS_WIRE_OK);
    ck_assert_uint_eq(v.payload_len, 40);

    /* A wrong header checksum is for the caller to check, after the structure. */
    memcpy(bad, buf, len), bad[11] ^= 1;
    uint8_t *p = exact(bad, len);
    ck_assert_int_eq(ts_ip4_view_parse(&v, p, len), TS_WIRE_OK);
    ck_assert(!ts_ip4_csum_ok(&v));
    free(p);

    /* Fragments: MF or an offset. */
    memcpy(bad, buf, len), bad[6] = 0x20; /* MF */
    ck_assert_int_eq(ip_err(bad, len, &v), TS_WIRE_OK);
    ck_assert(ts_ip4_is_fragment(&v) && !ts_ip4_is_later_fragment(&v));
    memcpy(bad, buf, len), bad[6] = 0x40, bad[7] = 1; /* DF, offset 8 */
    ck_assert_int_eq(ip_err(bad, len, &v), TS_WIRE_OK);
    ck_assert(ts_ip4_is_fragment(&v) && ts_ip4_is_later_fragment(&v));
}
END_TEST

/* Parse pkt's TCP layer from an exact-size copy of the whole packet. */
static ts_wire_err tcp_err(const uint8_t *pkt, size_t len, ts_tcp_view *t)
{
    uint8_t *p = exact(pkt, len);
    ts_ip4_view ip;
    ck_assert_int_eq(ts_ip4_view_parse(&ip, p, len), TS_WIRE_OK);
    ts_wire_err e = ts_tcp_view_parse(t, ip.payload, ip.payload_len);
    if (e == TS_WIRE_OK) {
        ck_assert(t->opt + t->optlen == t->data);
        ck_assert(t->data + t->len == p + len);
        ts_tcp_opts o;
        e = ts_tcp_view_opts(t, &o); /* reads every option byte, none past the end */
    }
    t->hdr = t->opt = t->data = NULL;
    free(p);
    return e;
}

/* Set the IPv4 total length of a packet cut to len and fix the header checksum. */
static void cut(uint8_t *pkt, size_t len)
{
    pkt[2] = (uint8_t)(len >> 8), pkt[3] = (uint8_t)len;
    h_fix_csums(pkt, len, false);
}

START_TEST(tcp_malformed)
{
    uint8_t buf[128], bad[128];
    size_t len = chapter_syn(buf, sizeof buf, NULL);
    ts_tcp_view t;
    for (size_t n = 20; n < 40; n++) {
        memcpy(bad, buf, len), cut(bad, n);
        ck_assert_int_eq(tcp_err(bad, n, &t), TS_WIRE_TCP_SHORT);
        if (n >= 24) ck_assert_uint_eq(t.sport, 55570); /* what tcpdump can still print */
    }
    memcpy(bad, buf, len), bad[32] = 0x40; /* data offset 4 */
    ck_assert_int_eq(tcp_err(bad, len, &t), TS_WIRE_TCP_HDRLEN);
    memcpy(bad, buf, len), bad[32] = 0xf0; /* data offset 15: 60 bytes, the segment has 40 */
    ck_assert_int_eq(tcp_err(bad, len, &t), TS_WIRE_TCP_HDRLEN);
    ck_assert_uint_eq(t.hlen, 60); /* fixed fields kept for printers */
    ck_assert_uint_eq(t.seq, 3841401858u);
    /* Options cut short by the segment: offset 10 but only 36 bytes of TCP. */
    memcpy(bad, buf, len), cut(bad, 56);
    ck_assert_int_eq(tcp_err(bad, 56, &t), TS_WIRE_TCP_HDRLEN);

    /* A wrong checksum is for the caller to check. */
    memcpy(bad, buf, len), bad[36] ^= 0x80;
    uint8_t *p = exact(bad, len);
    ts_tcp_view v;
    ck_assert_int_eq(ts_tcp_view_parse(&v, p + 20, len - 20), TS_WIRE_OK);
    ck_assert(!ts_tcp_csum_ok(&v, A, B));
    free(p);
}
END_TEST

/* A segment whose options are opt (olen bytes, a multiple of 4), with no payload, so the
 * options end exactly at the end of the buffer. */
static ts_wire_err opts_at_end(const uint8_t *opt, size_t olen, ts_tcp_opts *o)
{
    uint8_t buf[128];
    ts_ip4_hdr ip = {.ttl = 64, .src = A, .dst = B};
    ts_tcp_hdr th = {.sport = 1, .dport = 2, .flags = TS_TH_ACK};
    size_t len = ts_tcp_build(buf, sizeof buf, &ip, &th, opt, olen, NULL, 0);
    ck_assert_uint_eq(len, 40 + olen);
    uint8_t *p = exact(buf, len);
    ts_pkt_view v;
    ck_assert_int_eq(ts_pkt_view_parse(&v, p, len), TS_WIRE_OK);
    ck_assert(v.tcp);
    ck_assert_ptr_eq(v.th.opt + v.th.optlen, p + len);
    ck_assert(ts_tcp_csum_ok(&v.th, A, B));
    ts_wire_err e = ts_tcp_view_opts(&v.th, o);
    free(p);
    return e;
}

START_TEST(options_at_the_very_end)
{
    ts_tcp_opts o;
    /* 40 bytes: NOP NOP TS, NOP NOP SACK with 3 blocks: fills the header exactly. */
    uint8_t full[40] = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7, 1, 1, 5, 26};
    for (int i = 16; i < 40; i++) full[i] = (uint8_t)i;
    ck_assert_int_eq(opts_at_end(full, sizeof full, &o), TS_WIRE_OK);
    ck_assert(o.has_ts && o.tsval == 9 && o.tsecr == 7);
    ck_assert_uint_eq(o.nsack, 3);
    ck_assert_uint_eq(o.sack[2].end, 0x24252627u);

    /* An MSS whose four bytes start two before the end. */
    const uint8_t mss_len_last[] = {1, 1, 2, 4};
    ck_assert_int_eq(opts_at_end(mss_len_last, 4, &o), TS_WIRE_TCP_OPTIONS);
    /* A kind byte alone at the very end. */
    const uint8_t kind_last[] = {1, 1, 1, 8};
    ck_assert_int_eq(opts_at_end(kind_last, 4, &o), TS_WIRE_TCP_OPTIONS);
    /* A length that runs one byte past the end. */
    const uint8_t past[] = {1, 1, 4, 3};
    ck_assert_int_eq(opts_at_end(past, 4, &o), TS_WIRE_TCP_OPTIONS);
    /* Length 0 and 1 would loop or overlap. */
    const uint8_t zero[] = {99, 0, 1, 1}, one[] = {99, 1, 1, 1};
    ck_assert_int_eq(opts_at_end(zero, 4, &o), TS_WIRE_TCP_OPTIONS);
    ck_assert_int_eq(opts_at_end(one, 4, &o), TS_WIRE_TCP_OPTIONS);
    /* EOL ends the list; what follows is not read as options. */
    const uint8_t eol[] = {2, 4, 5, 0xb4, 0, 8, 10, 0};
    ck_assert_int_eq(opts_at_end(eol, 8, &o), TS_WIRE_OK);
    ck_assert(o.has_mss && !o.has_ts);
    /* Unknown kinds with a sane length are skipped up to the very end. */
    const uint8_t unknown[] = {1, 1, 99, 2, 1, 1, 30, 2};
    ck_assert_int_eq(opts_at_end(unknown, 8, &o), TS_WIRE_OK);
}
END_TEST

START_TEST(drop_reasons_match_the_core)
{
    const struct {
        ts_wire_err e;
        ts_drop_reason r;
    } map[] = {
        {TS_WIRE_IP_SHORT, TS_DROP_IP_SHORT},       {TS_WIRE_IP_VERSION, TS_DROP_IP_VERSION},
        {TS_WIRE_IP_HDRLEN, TS_DROP_IP_HDRLEN},     {TS_WIRE_IP_TOTLEN, TS_DROP_IP_TOTLEN},
        {TS_WIRE_IP_CHECKSUM, TS_DROP_IP_CHECKSUM}, {TS_WIRE_TCP_SHORT, TS_DROP_TCP_SHORT},
        {TS_WIRE_TCP_HDRLEN, TS_DROP_TCP_HDRLEN},   {TS_WIRE_TCP_CHECKSUM, TS_DROP_TCP_CHECKSUM},
        {TS_WIRE_TCP_OPTIONS, TS_DROP_TCP_OPTIONS}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        ck_assert_int_eq(ts_wire_drop_reason(map[i].e), map[i].r);
        ck_assert_str_eq(ts_wire_err_name(map[i].e), ts_drop_reason_name(map[i].r));
    }
    ck_assert_str_eq(ts_wire_err_name(TS_WIRE_OK), "ok");
    ck_assert_str_eq(ts_wire_err_name(TS_WIRE_TCP_OPTIONS), "tcp-options");
}
END_TEST

/* The writers' output read back by the parser, over every flag byte and several shapes. */
START_TEST(writers_round_trip)
{
    uint8_t buf[1600], data[1000];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7);
    const uint8_t opt[12] = {1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8};
    for (unsigned f = 0; f < 256; f++) {
        size_t olen = (f % 2) ? sizeof opt : 0, dlen = (f * 37) % sizeof data;
        ts_ip4_hdr ip = {.tos = (uint8_t)f,
                         .ttl = (uint8_t)(255 - f),
                         .id = (uint16_t)(f * 257),
                         .frag = TS_IP4_DF,
                         .src = TS_IP4(192, 0, 2, f),
                         .dst = TS_IP4(198, 51, 100, 255 - f)};
        ts_tcp_hdr th = {.sport = (uint16_t)(1000 + f),
                         .dport = (uint16_t)(65535 - f),
                         .seq = 0xfffffff0u + f,
                         .ack = f * 0x01010101u,
                         .flags = (uint8_t)f,
                         .win = (uint16_t)(f << 8 | f),
                         .urg = (uint16_t)f};
        size_t len = ts_tcp_build(buf, sizeof buf, &ip, &th, opt, olen, data, dlen);
        ck_assert_uint_eq(len, 40 + olen + dlen);
        uint8_t *p = exact(buf, len);
        ts_pkt_view v;
        ck_assert_int_eq(ts_pkt_view_parse(&v, p, len), TS_WIRE_OK);
        ck_assert(v.tcp);
        ck_assert_uint_eq(v.ip4.tos, ip.tos);
        ck_assert_uint_eq(v.ip4.ttl, ip.ttl);
        ck_assert_uint_eq(v.ip4.id, ip.id);
        ck_assert_uint_eq(v.ip4.frag, ip.frag);
        ck_assert_uint_eq(v.ip4.proto, TS_IPPROTO_TCP);
        ck_assert_uint_eq(v.ip4.src, ip.src);
        ck_assert_uint_eq(v.ip4.dst, ip.dst);
        ck_assert_uint_eq(v.th.sport, th.sport);
        ck_assert_uint_eq(v.th.dport, th.dport);
        ck_assert_uint_eq(v.th.seq, th.seq);
        ck_assert_uint_eq(v.th.ack, th.ack);
        ck_assert_uint_eq(v.th.flags, th.flags);
        ck_assert_uint_eq(v.th.win, th.win);
        ck_assert_uint_eq(v.th.urg, th.urg);
        ck_assert_uint_eq(v.th.optlen, olen);
        ck_assert_uint_eq(v.th.len, dlen);
        ck_assert_int_eq(memcmp(v.th.data, data, dlen), 0);
        ck_assert(ts_ip4_csum_ok(&v.ip4));
        ck_assert(ts_tcp_csum_ok(&v.th, ip.src, ip.dst));
        /* Against the naive reference: header sum, and pseudo-header + segment sum. */
        ck_assert_uint_eq(ref_sum(0, p, 20), 0);
        uint32_t ph = (ip.src >> 16) + (ip.src & 0xffff) + (ip.dst >> 16) + (ip.dst & 0xffff) +
                      TS_IPPROTO_TCP + (uint32_t)(len - 20);
        ck_assert_uint_eq(ref_sum(ph, p + 20, len - 20), 0);
        free(p);
    }
}
END_TEST

START_TEST(writers_refuse_what_does_not_fit)
{
    uint8_t buf[100], opt[44] = {0};
    ts_ip4_hdr ip = {.ttl = 64, .src = A, .dst = B};
    ts_tcp_hdr th = {.flags = TS_TH_ACK};
    ck_assert_uint_eq(ts_tcp_build(buf, sizeof buf, &ip, &th, opt, 44, NULL, 0), 0);
    ck_assert_uint_eq(ts_tcp_build(buf, sizeof buf, &ip, &th, opt, 40, NULL, 0), 80);
    ck_assert_uint_eq(ts_tcp_build(buf, 79, &ip, &th, opt, 40, NULL, 0), 0);
    ck_assert_uint_eq(ts_tcp_build(buf, sizeof buf, &ip, &th, NULL, 0, NULL, 61), 0);
}
END_TEST

START_TEST(ip_header_known_checksum)
{
    /* A textbook IPv4 header (UDP, 192.168.0.1 > 192.168.0.199, total length 115, DF,
     * TTL 64) whose checksum is 0xb861. */
    const uint8_t want[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                              0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    uint8_t got[20];
    ts_ip4_hdr h = {.ttl = 64,
                    .proto = 17,
                    .frag = TS_IP4_DF,
                    .src = TS_IP4(192, 168, 0, 1),
                    .dst = TS_IP4(192, 168, 0, 199)};
    ts_ip4_write(got, &h, 0x73);
    ck_assert_int_eq(memcmp(got, want, 20), 0);
}
END_TEST

START_TEST(tcp_writer_in_place)
{
    /* The core's way: options and payload first, then the header, then the sum. */
    uint8_t seg[32] = {0};
    memcpy(seg + 20, "\x01\x01\x01\x01", 4);
    memcpy(seg + 24, "payload!", 8);
    ts_tcp_hdr h = {.sport = 80, .dport = 81, .seq = 5, .ack = 6, .flags = TS_TH_PSH | TS_TH_ACK};
    ts_tcp_write(seg, &h, 4);
    ck_assert_uint_eq(seg[12], 6 << 4);
    ck_assert_uint_eq(seg[16] | seg[17], 0);
    ts_tcp_write_csum(seg, sizeof seg, A, B);
    ts_tcp_view v;
    ck_assert_int_eq(ts_tcp_view_parse(&v, seg, sizeof seg), TS_WIRE_OK);
    ck_assert(ts_tcp_csum_ok(&v, A, B));
    ck_assert_uint_eq(v.len, 8);
    ck_assert_uint_eq(v.csum, (uint16_t)(seg[16] << 8 | seg[17]));
}
END_TEST

/* A valid packet cut at every length, each in an exact-size block: never a read past it,
 * OK only when the whole packet is there. */
START_TEST(every_truncation)
{
    uint8_t buf[128];
    size_t len = chapter_syn(buf, sizeof buf, "0123456789");
    for (size_t n = 0; n <= len; n++) {
        uint8_t *p = exact(buf, n);
        ts_pkt_view v;
        ts_wire_err e = ts_pkt_view_parse(&v, p, n);
        ck_assert_int_eq(e == TS_WIRE_OK, n == len);
        char line[256];
        ts_format_packet(p, n, line, sizeof line); /* the printer too */
        free(p);
    }
}
END_TEST

/* ---- the option walk ---- */

/* Walk len bytes of options (copied to an exact-size block): the kinds found into kinds
 * (at most 16), their count into *n; returns the walk's last result (0 or -1). */
static int walk(const uint8_t *opt, size_t len, uint8_t *kinds, size_t *n, size_t *off)
{
    uint8_t *p = exact(opt, len);
    ts_tcp_opt o;
    int r;
    *n = 0;
    *off = 0;
    while ((r = ts_tcp_opt_next(p, len, off, &o)) > 0) {
        ck_assert_uint_le(*off, len);
        if (o.kind != TS_OPT_NOP) ck_assert_ptr_eq(o.val, p + *off - o.len + 2);
        if (*n < 16) kinds[(*n)++] = o.kind;
    }
    free(p);
    return r;
}

START_TEST(option_walk_reports_each_in_turn)
{
    uint8_t k[16];
    size_t n, off;
    /* Linux's SYN options: MSS, SACK-permitted + TS, NOP, WS, filling 20 bytes. */
    const uint8_t syn[] = {2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
    ck_assert_int_eq(walk(syn, sizeof syn, k, &n, &off), 0);
    ck_assert_uint_eq(n, 5);
    const uint8_t want[] = {TS_OPT_MSS, TS_OPT_SACKOK, TS_OPT_TS, TS_OPT_NOP, TS_OPT_WSCALE};
    ck_assert_int_eq(memcmp(k, want, 5), 0);
    ck_assert_uint_eq(off, sizeof syn);
    /* EOL ends the walk with 0, where it stands. */
    const uint8_t eol[] = {1, 0, 2, 4};
    ck_assert_int_eq(walk(eol, sizeof eol, k, &n, &off), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(off, 1);
    /* Malformed after a good option: the good one is reported, then -1 on the bad one. */
    const uint8_t bad_len[] = {2, 4, 5, 0xb4, 8, 1, 0, 0};
    ck_assert_int_eq(walk(bad_len, sizeof bad_len, k, &n, &off), -1);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(k[0], TS_OPT_MSS);
    ck_assert_uint_eq(off, 4);
    const uint8_t past_end[] = {1, 1, 8, 10, 0, 0}; /* TS runs past the list */
    ck_assert_int_eq(walk(past_end, sizeof past_end, k, &n, &off), -1);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(off, 2);
    const uint8_t kind_last[] = {1, 1, 1, 8}; /* no room for the length byte */
    ck_assert_int_eq(walk(kind_last, sizeof kind_last, k, &n, &off), -1);
    ck_assert_uint_eq(n, 3);
    /* The walk itself does not judge a known kind's length: decode does. */
    const uint8_t mss5[] = {2, 5, 1, 2, 3, 1, 1, 1};
    ck_assert_int_eq(walk(mss5, sizeof mss5, k, &n, &off), 0);
    ck_assert_uint_eq(n, 4);
    ts_tcp_opt o = {.kind = TS_OPT_MSS, .len = 5, .val = mss5 + 2};
    ts_tcp_opts d;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(ts_tcp_opt_decode(&o, &d), -1);
    o.len = 4;
    ck_assert_int_eq(ts_tcp_opt_decode(&o, &d), 0);
    ck_assert(d.has_mss && d.mss == 0x0102);
    /* And the strict parse built on it still refuses the whole list. */
    ck_assert_int_eq(ts_tcp_opts_parse(bad_len, sizeof bad_len, &d), -1);
    ck_assert_int_eq(ts_tcp_opts_parse(mss5, sizeof mss5, &d), -1);
    ck_assert_int_eq(ts_tcp_opts_parse(syn, sizeof syn, &d), 0);
    ck_assert(d.has_mss && d.has_sackok && d.has_ts && d.has_wscale && d.wscale == 7);
}
END_TEST

/* ---- the capture parse ---- */

START_TEST(capture_cut_by_the_snaplen)
{
    uint8_t buf[128];
    size_t len = chapter_syn(buf, sizeof buf, "0123456789"); /* 70 bytes */
    /* 64 of 70 bytes captured: the strict parse says TOTLEN, the capture parse reads it. */
    uint8_t *p = exact(buf, 64);
    ts_pkt_view v;
    ck_assert_int_eq(ts_pkt_view_parse(&v, p, 64), TS_WIRE_IP_TOTLEN);
    ck_assert_int_eq(ts_pkt_view_capture(&v, p, 64, len), TS_WIRE_OK);
    ck_assert(v.ip && v.tcp);
    ck_assert_uint_eq(v.ip4.tot_len, 70);
    ck_assert_uint_eq(v.ip4.payload_len, 44);
    ck_assert_uint_eq(v.th.len, 4); /* captured */
    ck_assert_uint_eq(ts_pkt_view_wire_payload(&v), 10);
    ck_assert_uint_eq(v.th.seq, 3841401858u);
    free(p);
    /* Cut inside the options: no TCP header to read. */
    p = exact(buf, 50);
    ck_assert_int_eq(ts_pkt_view_capture(&v, p, 50, len), TS_WIRE_TCP_HDRLEN);
    ck_assert(v.ip && !v.tcp);
    ck_assert_uint_eq(ts_pkt_view_wire_payload(&v), 0);
    free(p);
    /* Every cut, each in an exact-size block: never a read past it; a TCP view whenever
     * the whole TCP header was captured. */
    for (size_t n = 0; n <= len; n++) {
        p = exact(buf, n);
        ts_wire_err e = ts_pkt_view_capture(&v, p, n, len);
        ck_assert_int_eq(e == TS_WIRE_OK && v.tcp, n >= 60);
        free(p);
    }
}
END_TEST

START_TEST(capture_total_length_zero_or_long)
{
    uint8_t buf[128];
    size_t len = chapter_syn(buf, sizeof buf, "hi"); /* 62 bytes */
    uint8_t *p = exact(buf, len);
    ts_pkt_view v;
    p[2] = p[3] = 0; /* segmentation offload: the NIC fills the length in */
    ck_assert_int_eq(ts_pkt_view_parse(&v, p, len), TS_WIRE_IP_TOTLEN);
    ck_assert_int_eq(ts_pkt_view_capture(&v, p, len, len), TS_WIRE_OK);
    ck_assert_uint_eq(v.ip4.tot_len, len);
    ck_assert_uint_eq(ts_pkt_view_wire_payload(&v), 2);
    ck_assert_int_eq(memcmp(v.th.data, "hi", 2), 0);
    p[2] = 0x10; /* 4096: more than the wire carried, taken as the wire's length */
    ck_assert_int_eq(ts_pkt_view_capture(&v, p, len, len), TS_WIRE_OK);
    ck_assert_uint_eq(v.ip4.tot_len, len);
    ck_assert_uint_eq(v.th.len, 2);
    p[2] = 0, p[3] = 12; /* below the header: refused */
    ck_assert_int_eq(ts_pkt_view_capture(&v, p, len, len), TS_WIRE_IP_TOTLEN);
    ck_assert(!v.ip && !v.ip4.hdr);
    p[2] = 0, p[3] = 50; /* a TCP header running past the total length */
    ck_assert_int_eq(ts_pkt_view_capture(&v, p, len, len), TS_WIRE_TCP_HDRLEN);
    p[3] = 62;
    p[0] = 0x65; /* version 6 */
    ck_assert_int_eq(ts_pkt_view_capture(&v, p, len, len), TS_WIRE_IP_VERSION);
    free(p);
}
END_TEST

static Suite *wire_suite(void)
{
    Suite *s = suite_create("wire");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, flags_are_the_header_bits);
    tcase_add_test(tc, parse_valid_syn);
    tcase_add_test(tc, parse_both_layers);
    tcase_add_test(tc, ip_malformed);
    tcase_add_test(tc, tcp_malformed);
    tcase_add_test(tc, options_at_the_very_end);
    tcase_add_test(tc, drop_reasons_match_the_core);
    tcase_add_test(tc, writers_round_trip);
    tcase_add_test(tc, writers_refuse_what_does_not_fit);
    tcase_add_test(tc, ip_header_known_checksum);
    tcase_add_test(tc, tcp_writer_in_place);
    tcase_add_test(tc, every_truncation);
    tcase_add_test(tc, option_walk_reports_each_in_turn);
    tcase_add_test(tc, capture_cut_by_the_snaplen);
    tcase_add_test(tc, capture_total_length_zero_or_long);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(wire_suite());
}
