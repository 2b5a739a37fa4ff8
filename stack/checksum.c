/* checksum.c: the Internet checksum (RFC 1071) and the TCP/UDP pseudo-header sum.
 *
 * The sum is byte-order independent (RFC 1071 2(B)): we add native-order 32-bit words
 * into a 64-bit accumulator, fold to 16 bits and swap once at the end if the host is
 * little-endian. Loads go through memcpy so unaligned buffers are fine. */
#include <string.h>

#include "tcpsim/checksum.h"

/* Fold a 64-bit accumulator to a 16-bit one's-complement sum (no complement). */
static uint32_t fold16(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    return (uint32_t)s;
}

static uint16_t to_big_endian_sum(uint32_t s16)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (uint16_t)(((s16 & 0xffu) << 8) | (s16 >> 8));
#else
    return (uint16_t)s16;
#endif
}

/* Native-order 16-bit sum of len bytes; an odd last byte is padded with a zero byte. */
static uint32_t native_sum(const uint8_t *p, size_t len)
{
    uint64_t acc = 0;
    while (len >= 32) { /* four 64-bit words per round; each split so nothing overflows */
        uint64_t w[4];
        memcpy(w, p, sizeof w);
        for (int i = 0; i < 4; i++) acc += (w[i] & 0xffffffffu) + (w[i] >> 32);
        p += 32;
        len -= 32;
    }
    while (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        acc += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        acc += w;
        p += 2;
        len -= 2;
    }
    if (len) {
        uint8_t last[2] = {p[0], 0};
        uint16_t w;
        memcpy(&w, last, 2);
        acc += w;
    }
    return fold16(acc);
}

uint32_t ts_csum_add(uint32_t sum, const void *data, size_t len)
{
    uint64_t s = (uint64_t)sum + to_big_endian_sum(native_sum(data, len));
    /* 2^32 == 1 (mod 0xffff), so folding the carry back in keeps the sum exact. */
    return (uint32_t)((s & 0xffffffffu) + (s >> 32));
}

uint16_t ts_csum_fold(uint32_t sum)
{
    return (uint16_t)~fold16(sum);
}

uint16_t ts_csum(const void *data, size_t len)
{
    return ts_csum_fold(ts_csum_add(0, data, len));
}

uint32_t ts_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    return (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + proto + len;
}
