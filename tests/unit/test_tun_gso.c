/* test_tun_gso.c: the TUN device's offloads (tun/tun_gso.c) without a device. The send
 * side's coalescer joins exactly the segments a kernel's segmentation gives back (cut at
 * gso_size, headers copied, PSH on the last) and nothing else; the header it writes asks
 * for that; a partial checksum completed as the receive side does is the right one. */
#include <check.h>
#include <string.h>

#include "tcpsim/checksum.h"
#include "harness.h"
#include "tun.h"

#define SEG 1448

static ts_gso_tx g;

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The packet finish made, gathered from its pieces (iov[1..niov)) into out. */
static size_t gather(const ts_gso_tx *gx, uint8_t *out)
{
    size_t n = 0;
    for (int i = 1; i < gx->niov; i++) {
        memcpy(out + n, gx->iov[i].iov_base, gx->iov[i].iov_len);
        n += gx->iov[i].iov_len;
    }
    return n;
}

/* Whether a TCP/IPv4 packet's checksums are right. */
static bool csums_ok(const uint8_t *p, size_t len)
{
    if (ts_csum(p, 20) != 0) return false;
    uint32_t s = ts_csum_pseudo(get32(p + 12), get32(p + 16), 6, (uint16_t)(len - 20));
    return ts_csum_fold(ts_csum_add(s, p + 20, len - 20)) == 0;
}

/* 10.0.0.2:7 -> 10.0.0.1:40000, seq, ack 1000, flags, window 500, timestamps (tsval), and
 * plen bytes that are a function of the sequence number. Checksums valid. */
static size_t seg(uint8_t *p, uint32_t seq, size_t plen, uint8_t flags, uint32_t tsval)
{
    size_t len = 52 + plen;
    memset(p, 0, 52);
    p[0] = 0x45;
    put16(p + 2, (uint16_t)len);
    put16(p + 4, (uint16_t)seq); /* an ID */
    put16(p + 6, 0x4000);        /* DF */
    p[8] = 64;
    p[9] = 6;
    put32(p + 12, 0x0a000002);
    put32(p + 16, 0x0a000001);
    uint8_t *t = p + 20;
    put16(t, 7);
    put16(t + 2, 40000);
    put32(t + 4, seq);
    put32(t + 8, 1000);
    t[12] = 8 << 4;
    t[13] = flags;
    put16(t + 14, 500);
    t[20] = 1, t[21] = 1, t[22] = 8, t[23] = 10;
    put32(t + 24, tsval);
    put32(t + 28, 77);
    for (size_t i = 0; i < plen; i++) p[52 + i] = (uint8_t)((seq + i) * 7);
    put16(p + 10, ts_csum(p, 20));
    uint32_t s = ts_csum_pseudo(0x0a000002, 0x0a000001, 6, (uint16_t)(len - 20));
    put16(t + 16, ts_csum_fold(ts_csum_add(s, t, len - 20)));
    return len;
}

/* What the kernel does with a super-segment (tcp_gso_segment): segment k gets the headers
 * with seq + k * gso_size, PSH only on the last, its own length and checksums. */
static size_t cut(const uint8_t *super, size_t len, const ts_vnet_hdr *h, int k, uint8_t *out)
{
    size_t off = h->hdr_len + (size_t)k * h->gso_size;
    if (off >= len) return 0;
    size_t plen = len - off < h->gso_size ? len - off : h->gso_size;
    bool last = off + plen == len;
    memcpy(out, super, h->hdr_len);
    memcpy(out + h->hdr_len, super + off, plen);
    size_t n = h->hdr_len + plen;
    put16(out + 2, (uint16_t)n);
    put16(out + 10, 0);
    put16(out + 10, ts_csum(out, 20));
    put32(out + 24, get32(super + 24) + (uint32_t)k * h->gso_size);
    if (!last) out[33] &= (uint8_t)~0x08;
    put16(out + 36, 0);
    uint32_t s = ts_csum_pseudo(get32(out + 12), get32(out + 16), 6, (uint16_t)(n - 20));
    put16(out + 36, ts_csum_fold(ts_csum_add(s, out + 20, n - 20)));
    return n;
}

/* The same packet but for the IP ID (and so its checksum), which the kernel numbers. */
static bool same_but_id(const uint8_t *a, const uint8_t *b, size_t n)
{
    return !memcmp(a, b, 4) && !memcmp(a + 6, b + 6, 4) && !memcmp(a + 12, b + 12, n - 12);
}

START_TEST(burst_is_one_super_segment)
{
    static uint8_t orig[5][2000], super[TS_GSO_MAX], back[2000];
    size_t olen[5];
    uint32_t seq = 4000000000u; /* wraps inside the burst */
    for (int i = 0; i < 5; i++) {
        olen[i] = seg(orig[i], seq, i == 4 ? 100 : SEG, i == 4 ? 0x18 : 0x10, 9);
        seq += (uint32_t)olen[i] - 52;
        ck_assert(i == 0 ? ts_gso_tx_start(&g, orig[i], olen[i])
                         : ts_gso_tx_append(&g, orig[i], olen[i]));
    }
    ck_assert_uint_eq(g.segs, 5);
    ts_vnet_hdr h;
    size_t len = ts_gso_tx_finish(&g, &h);
    ck_assert_uint_eq(len, 52 + 4 * SEG + 100);
    ck_assert_uint_eq(h.flags, TS_VNET_F_NEEDS_CSUM);
    ck_assert_uint_eq(h.gso_type, TS_VNET_GSO_TCPV4);
    ck_assert_uint_eq(h.gso_size, SEG);
    ck_assert_uint_eq(h.hdr_len, 52);
    ck_assert_uint_eq(h.csum_start, 20);
    ck_assert_uint_eq(h.csum_offset, 16);
    ck_assert(!g.pending);
    ck_assert_int_eq(g.niov, 2 + 5); /* headers, then each payload where it was: no copy */
    ck_assert_ptr_eq(g.iov[2].iov_base, orig[0] + 52);
    ck_assert_ptr_eq(g.iov[6].iov_base, orig[4] + 52);
    ck_assert_uint_eq(gather(&g, super), len);
    ck_assert_uint_eq(ts_csum(super, 20), 0); /* its IP header is valid as it is */
    /* The partial checksum, completed as a device (or our receive side) does, is right. */
    static uint8_t whole[TS_GSO_MAX];
    memcpy(whole, super, len);
    ck_assert_int_eq(ts_gso_rx_complete(&h, whole, len), 0);
    ck_assert(csums_ok(whole, len));
    for (int k = 0; k < 5; k++) {
        size_t n = cut(super, len, &h, k, back);
        ck_assert_uint_eq(n, olen[k]);
        ck_assert_msg(same_but_id(back, orig[k], n), "segment %d differs", k);
    }
    ck_assert_uint_eq(cut(super, len, &h, 5, back), 0);
}
END_TEST

START_TEST(lone_segment_unchanged)
{
    uint8_t a[2000];
    size_t n = seg(a, 1, SEG, 0x10, 9);
    ck_assert(ts_gso_tx_start(&g, a, n));
    ts_vnet_hdr h;
    ck_assert_uint_eq(ts_gso_tx_finish(&g, &h), n);
    ck_assert_int_eq(g.niov, 2);
    ck_assert_ptr_eq(g.iov[1].iov_base, a); /* the packet as it is */
    ck_assert_uint_eq(g.iov[1].iov_len, n);
    ck_assert_uint_eq(h.flags | h.gso_type | h.gso_size | h.hdr_len, 0);
    ck_assert_uint_eq(ts_gso_tx_finish(&g, &h), 0); /* nothing pending */
}
END_TEST

START_TEST(what_must_not_join)
{
    uint8_t a[2000], b[2000];
    size_t n = seg(a, 1, SEG, 0x10, 9), m;
    static const uint8_t lone_flags[] = {0x12, 0x11, 0x14, 0x30, 0x90};
    for (size_t i = 0; i < sizeof lone_flags; i++) { /* SYN, FIN, RST, URG, CWR */
        m = seg(b, 1, SEG, lone_flags[i], 9);
        ck_assert(!ts_gso_tx_start(&g, b, m));
    }
    m = seg(b, 1, 0, 0x10, 9); /* a pure ACK */
    ck_assert(!ts_gso_tx_start(&g, b, m));
    ck_assert(!g.pending);
    ck_assert(ts_gso_tx_start(&g, a, n));
    m = seg(b, 1 + SEG + 1, SEG, 0x10, 9); /* a gap */
    ck_assert(!ts_gso_tx_append(&g, b, m));
    m = seg(b, 1 + SEG, SEG, 0x10, 10); /* another timestamp */
    ck_assert(!ts_gso_tx_append(&g, b, m));
    m = seg(b, 1 + SEG, SEG + 1, 0x10, 9); /* longer than the first */
    ck_assert(!ts_gso_tx_append(&g, b, m));
    m = seg(b, 1 + SEG, SEG, 0x10, 9);
    put32(b + 28, 1001); /* another ACK number */
    ck_assert(!ts_gso_tx_append(&g, b, m));
    m = seg(b, 1 + SEG, SEG, 0x10, 9);
    put16(b + 20, 8); /* another connection */
    ck_assert(!ts_gso_tx_append(&g, b, m));
    m = seg(b, 1 + SEG, SEG, 0x10, 9);
    put16(b + 34, 501); /* another window */
    ck_assert(!ts_gso_tx_append(&g, b, m));
    m = seg(b, 1 + SEG, 10, 0x10, 9); /* shorter: joins, and is the last */
    ck_assert(ts_gso_tx_append(&g, b, m));
    m = seg(b, 1 + SEG + 10, 10, 0x10, 9);
    ck_assert(!ts_gso_tx_append(&g, b, m));
    ck_assert_uint_eq(g.segs, 2);
    /* PSH ends a super-segment too. */
    n = seg(a, 1, SEG, 0x18, 9);
    ck_assert(ts_gso_tx_start(&g, a, n));
    m = seg(b, 1 + SEG, SEG, 0x10, 9);
    ck_assert(!ts_gso_tx_append(&g, b, m));
}
END_TEST

/* Segments of plen bytes from seq 1 until one does not join; how many joined. Each segment
 * in its own buffer, as in the stack's arena: the coalescer keeps pointers, not copies. */
static int join_all(size_t plen, int max)
{
    static uint8_t a[800][200 + SEG];
    uint32_t seq = 1;
    ck_assert(ts_gso_tx_start(&g, a[0], seg(a[0], seq, plen, 0x10, 9)));
    int joined = 1;
    for (; joined < max; joined++) {
        seq += (uint32_t)plen;
        if (!ts_gso_tx_append(&g, a[joined], seg(a[joined], seq, plen, 0x10, 9))) break;
    }
    return joined;
}

START_TEST(at_most_64k)
{
    ck_assert_int_eq(join_all(SEG, 60), (TS_GSO_MAX - 52) / SEG); /* 45 */
    ck_assert_uint_le(g.len, TS_GSO_MAX);
    ts_vnet_hdr h;
    ck_assert_uint_eq(ts_gso_tx_finish(&g, &h), 52 + 45 * SEG);
    static uint8_t super[TS_GSO_MAX];
    ck_assert_uint_eq(gather(&g, super), 52 + 45 * SEG);
}
END_TEST

/* With a tiny MSS (88, the floor) 64 KB would be 744 segments: the gather list's bound
 * (TS_GSO_IOV, under the kernel's IOV_MAX of 1024) closes the super-segment first. */
START_TEST(at_most_the_gather_list)
{
    ck_assert_int_eq(join_all(88, 800), TS_GSO_IOV - 2);
    ts_vnet_hdr h;
    ck_assert_uint_eq(ts_gso_tx_finish(&g, &h), 52 + (TS_GSO_IOV - 2) * 88);
    ck_assert_int_eq(g.niov, TS_GSO_IOV);
    ck_assert_uint_eq(h.gso_size, 88);
}
END_TEST

START_TEST(rx_header_outside_the_packet)
{
    uint8_t a[2000];
    size_t n = seg(a, 1, 100, 0x10, 9);
    ts_vnet_hdr h = {.flags = TS_VNET_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 200};
    ck_assert_int_eq(ts_gso_rx_complete(&h, a, n), -1);
    h.csum_start = 4000;
    h.csum_offset = 16;
    ck_assert_int_eq(ts_gso_rx_complete(&h, a, n), -1);
    /* A partial checksum (the pseudo-header's sum) completed gives the right one. */
    uint32_t s = ts_csum_pseudo(0x0a000002, 0x0a000001, 6, (uint16_t)(n - 20));
    put16(a + 36, (uint16_t)~ts_csum_fold(s));
    h.csum_start = 20;
    ck_assert_int_eq(ts_gso_rx_complete(&h, a, n), 0);
    ck_assert(csums_ok(a, n));
    h.flags = 0; /* nothing asked: nothing touched */
    a[36] ^= 1;
    ck_assert_int_eq(ts_gso_rx_complete(&h, a, n), 0);
    ck_assert(!csums_ok(a, n));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tun_gso");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, burst_is_one_super_segment);
    tcase_add_test(tc, lone_segment_unchanged);
    tcase_add_test(tc, what_must_not_join);
    tcase_add_test(tc, at_most_64k);
    tcase_add_test(tc, at_most_the_gather_list);
    tcase_add_test(tc, rx_header_outside_the_packet);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
