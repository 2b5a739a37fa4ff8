/* tun_gso.c: the offloads through the TUN device's virtio_net_hdr, as pure functions over
 * buffers (the loop does the reads and writes). Receive: complete the partial checksum the
 * kernel left (VIRTIO_NET_HDR_F_NEEDS_CSUM) so the stack can verify it as any other; a
 * GSO/GRO super-segment (gso_type TCPV4) goes to the stack whole, since its input takes
 * any segment that fits the window. Send: coalesce the in-order data segments of one
 * connection that the stack emits in one burst into one super-segment (up to 64 KB) with
 * a header asking the kernel to segment and checksum it, as a NIC's TSO would. */
#include <string.h>

#include "tcpsim/checksum.h"
#include "tun.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int ts_gso_rx_complete(const ts_vnet_hdr *h, uint8_t *pkt, size_t len)
{
    if (!(h->flags & TS_VNET_F_NEEDS_CSUM)) return 0;
    size_t start = h->csum_start, at = start + h->csum_offset;
    if (start >= len || at + 2 > len) return -1;
    /* The field holds the pseudo-header's sum; the sum from csum_start to the end is the
     * checksum's complement (virtio 1.1 section 5.1.6.2). */
    uint16_t c = ts_csum(pkt + start, len - start);
    if (c == 0 && len >= 20 && pkt[9] == 17) c = 0xffff; /* UDP: 0 is no checksum (RFC 768) */
    put16(pkt + at, c);
    return 0;
}

/* A segment that can be part of a super-segment: IPv4 without fragmenting, TCP with data
 * and only ACK, PSH and ECE set (SYN, FIN, RST, URG and CWR each mean something for one
 * segment only). Returns the IP + TCP header length, or 0. */
static size_t eligible(const uint8_t *p, size_t len)
{
    if (len < 40 || p[0] >> 4 != 4 || p[9] != 6) return 0;
    size_t iphl = (size_t)(p[0] & 15) * 4;
    if (iphl < 20 || be16(p + 2) != len || (be16(p + 6) & 0x3fff)) return 0;
    if (len < iphl + 20) return 0;
    const uint8_t *t = p + iphl;
    size_t thl = (size_t)(t[12] >> 4) * 4;
    uint8_t fl = t[13];
    if (thl < 20 || iphl + thl >= len) return 0;
    if (!(fl & TCP_ACK) || (fl & (TCP_SYN | TCP_FIN | TCP_RST | TCP_URG | TCP_CWR))) return 0;
    return iphl + thl;
}

bool ts_gso_tx_start(ts_gso_tx *g, const uint8_t *pkt, size_t len)
{
    size_t hlen = eligible(pkt, len);
    if (!hlen || len > sizeof g->buf) return false;
    memcpy(g->buf, pkt, len);
    g->len = (uint32_t)len;
    g->iphl = (uint16_t)((pkt[0] & 15) * 4);
    g->hlen = (uint16_t)hlen;
    g->gso_size = (uint16_t)(len - hlen);
    g->next_seq = be32(pkt + g->iphl + 4) + g->gso_size;
    g->segs = 1;
    g->closed = (pkt[g->iphl + 13] & TCP_PSH) != 0;
    g->pending = true;
    return true;
}

/* Same connection, next in sequence, the same header bytes but for the IP length, ID and
 * checksum, the TCP sequence number, checksum and PSH (options equal byte for byte, so
 * timestamps equal too): then the kernel's segmentation gives back these very segments. */
bool ts_gso_tx_append(ts_gso_tx *g, const uint8_t *pkt, size_t len)
{
    if (!g->pending || g->closed || len <= g->hlen || eligible(pkt, len) != g->hlen) return false;
    size_t plen = len - g->hlen;
    const uint8_t *a = g->buf, *t = pkt + g->iphl, *u = g->buf + g->iphl;
    if (plen > g->gso_size || g->len + plen > TS_GSO_MAX || be32(t + 4) != g->next_seq)
        return false;
    if (a[0] != pkt[0] || a[1] != pkt[1] || a[8] != pkt[8] || memcmp(a + 12, pkt + 12, 8) ||
        memcmp(a + 20, pkt + 20, g->iphl - 20u))
        return false;
    if (memcmp(u, t, 4) || memcmp(u + 8, t + 8, 5) || (u[13] | TCP_PSH) != (t[13] | TCP_PSH) ||
        memcmp(u + 14, t + 14, 2) || memcmp(u + 18, t + 18, g->hlen - g->iphl - 18u))
        return false;
    memcpy(g->buf + g->len, pkt + g->hlen, plen);
    g->len += (uint32_t)plen;
    g->next_seq += (uint32_t)plen;
    g->segs++;
    if (t[13] & TCP_PSH) g->buf[g->iphl + 13] |= TCP_PSH;
    /* The kernel cuts gso_size pieces: a shorter one, or PSH, must be the last. */
    if (plen < g->gso_size || (t[13] & TCP_PSH)) g->closed = true;
    return true;
}

size_t ts_gso_tx_finish(ts_gso_tx *g, ts_vnet_hdr *h)
{
    memset(h, 0, sizeof *h);
    if (!g->pending) return 0;
    g->pending = false;
    if (g->segs == 1) return g->len; /* as the stack made it, checksums done */
    uint8_t *ip = g->buf, *tcp = g->buf + g->iphl;
    put16(ip + 2, (uint16_t)g->len);
    put16(ip + 10, 0);
    put16(ip + 10, ts_csum(ip, g->iphl));
    /* The TCP checksum field gets the pseudo-header's sum (RFC 793 section 3.1), as
     * Linux's own CHECKSUM_PARTIAL leaves it; the kernel adds the rest per segment. */
    uint32_t sum = ts_csum_pseudo(be32(ip + 12), be32(ip + 16), 6, (uint16_t)(g->len - g->iphl));
    put16(tcp + 16, (uint16_t)~ts_csum_fold(sum));
    h->flags = TS_VNET_F_NEEDS_CSUM;
    h->gso_type = TS_VNET_GSO_TCPV4;
    h->hdr_len = g->hlen;
    h->gso_size = g->gso_size;
    h->csum_start = g->iphl;
    h->csum_offset = 16;
    return g->len;
}
