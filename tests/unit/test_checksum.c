/* test_checksum.c: the Internet checksum against RFC 1071's example, a real IPv4 header,
 * a naive reference at every length and alignment, and the TCP pseudo-header. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tcpsim/checksum.h"
#include "harness.h"

/* Slow, obviously right reference: big-endian 16-bit words, odd byte padded. */
static uint16_t ref_csum(const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1) s += (uint32_t)p[len - 1] << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

START_TEST(rfc1071_example)
{
    /* RFC 1071 section 3: the sum of these bytes is 0xddf2. */
    const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    ck_assert_uint_eq(ts_csum_fold(ts_csum_add(0, b, sizeof b)), (uint16_t)~0xddf2);
    ck_assert_uint_eq(ts_csum(b, sizeof b), 0x220d);
    /* Split in two even halves, the accumulator chains. */
    uint32_t s = ts_csum_add(0, b, 4);
    s = ts_csum_add(s, b + 4, 4);
    ck_assert_uint_eq(ts_csum_fold(s), 0x220d);
}
END_TEST

START_TEST(empty_and_zero)
{
    const uint8_t z[6] = {0};
    ck_assert_uint_eq(ts_csum(z, 0), 0xffff);
    ck_assert_uint_eq(ts_csum(z, sizeof z), 0xffff);
    const uint8_t ff[4] = {0xff, 0xff, 0xff, 0xff};
    ck_assert_uint_eq(ts_csum(ff, sizeof ff), 0x0000);
}
END_TEST

START_TEST(real_ipv4_header)
{
    /* 192.168.0.1 -> 192.168.0.199, UDP, total length 115, checksum 0xb861. */
    uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                   0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    ck_assert_uint_eq(ts_csum(h, sizeof h), 0);
    h[10] = h[11] = 0;
    ck_assert_uint_eq(ts_csum(h, sizeof h), 0xb861);
    h[15] ^= 1; /* any flipped bit breaks verification */
    h[10] = 0xb8, h[11] = 0x61;
    ck_assert_uint_ne(ts_csum(h, sizeof h), 0);
}
END_TEST

START_TEST(odd_lengths_and_alignment)
{
    uint8_t *buf = malloc(300);
    ck_assert_ptr_nonnull(buf);
    srand(1);
    for (int i = 0; i < 300; i++) buf[i] = (uint8_t)rand();
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= 300; len++)
            ck_assert_uint_eq(ts_csum(buf + off, len), ref_csum(buf + off, len));
    free(buf);
}
END_TEST

START_TEST(odd_length_pads_low_byte)
{
    const uint8_t b[] = {0x12, 0x34, 0x56};
    /* 0x1234 + 0x5600 = 0x6834 */
    ck_assert_uint_eq(ts_csum(b, 3), (uint16_t)~0x6834);
    /* exact end of a malloc'd block: ASan catches any overread */
    uint8_t *p = malloc(3);
    memcpy(p, b, 3);
    ck_assert_uint_eq(ts_csum(p, 3), (uint16_t)~0x6834);
    free(p);
}
END_TEST

START_TEST(carry_folding)
{
    uint8_t big[4096];
    memset(big, 0xff, sizeof big);
    big[0] = 0xfe;
    ck_assert_uint_eq(ts_csum(big, sizeof big), ref_csum(big, sizeof big));
    /* A large incoming accumulator still folds exactly. */
    uint32_t s = ts_csum_add(0xfffffff0u, big, sizeof big);
    uint64_t r = 0xfffffff0u + (uint64_t)(uint16_t)~ref_csum(big, sizeof big);
    while (r >> 16) r = (r & 0xffff) + (r >> 16);
    ck_assert_uint_eq(ts_csum_fold(s), (uint16_t)~r);
}
END_TEST

START_TEST(pseudo_header)
{
    /* The seed's first SYN: 10.0.0.103.55570 > 10.0.0.199.6379, 40 header bytes. */
    uint32_t src = 0x0a000067, dst = 0x0a0000c7;
    ck_assert_uint_eq(ts_csum_fold(ts_csum_pseudo(src, dst, 6, 40)),
                      (uint16_t) ~(0x0a00 + 0x0067 + 0x0a00 + 0x00c7 + 6 + 40));
    /* Pseudo header + segment with its checksum filled in verifies to 0, and matches a
     * reference over explicit pseudo-header bytes. */
    uint8_t seg[21] = {0xd9, 0x12, 0x18, 0xeb, 0xe4, 0xf7, 0x4f, 0x02, 0, 0,  0,
                       0,    0x50, 0x02, 0xfa, 0xf0, 0,    0,    0,    0, 'x'};
    uint16_t c =
        ts_csum_fold(ts_csum_add(ts_csum_pseudo(src, dst, 6, sizeof seg), seg, sizeof seg));
    uint8_t ph[12 + sizeof seg] = {10, 0, 0, 103, 10, 0, 0, 199, 0, 6, 0, sizeof seg};
    memcpy(ph + 12, seg, sizeof seg);
    ck_assert_uint_eq(c, ref_csum(ph, sizeof ph));
    seg[16] = (uint8_t)(c >> 8);
    seg[17] = (uint8_t)c;
    ck_assert_uint_eq(
        ts_csum_fold(ts_csum_add(ts_csum_pseudo(src, dst, 6, sizeof seg), seg, sizeof seg)), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("checksum");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rfc1071_example);
    tcase_add_test(tc, empty_and_zero);
    tcase_add_test(tc, real_ipv4_header);
    tcase_add_test(tc, odd_lengths_and_alignment);
    tcase_add_test(tc, odd_length_pads_low_byte);
    tcase_add_test(tc, carry_folding);
    tcase_add_test(tc, pseudo_header);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
