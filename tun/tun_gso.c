/* tun_gso.c: the offloads through the TUN device's virtio_net_hdr, as pure functions over
 * buffers (the loop does the reads and writes). Receive: complete the partial checksum the
 * kernel left (VIRTIO_NET_HDR_F_NEEDS_CSUM) so the stack can verify it as any other; a
 * GSO/GRO super-segment (gso_type TCPV4) goes to the stack whole, since its input takes
 * any segment that fits the window. Send: coalesce the in-order data segments of one
 * connection that the stack emits in one burst into one super-segment (up to 64 KB) with
 * a header asking the kernel to segment and checksum it, as a NIC's TSO would. The
 * segments are not copied: the super-segment is a gather list (new headers, then each
 * segment's payload where the stack built it, in its burst arena), for one writev.
 * Packets are read through the wire views (tcpsim/wire.h), as everywhere else. */
#include <string.h>

#include "tcpsim/checksum.h"
#include "tcpsim/wire.h"
#include "tun.h"

/* A segment that can be part of a super-segment, read through the wire views: IPv4 with
 * no options and not a fragment, exactly len bytes long, TCP with data and only ACK, PSH
 * and ECE set (SYN, FIN, RST, URG and CWR each mean something for one segment only).
 * Returns the IP + TCP header length and fills v, or 0. */
static size_t eligible(ts_pkt_view *v, const uint8_t *p, size_t len)
{
    if (ts_pkt_view_parse(v, p, len) != TS_WIRE_OK || !v->tcp) return 0;
    const ts_ip4_view *ip = &v->ip4;
    const ts_tcp_view *t = &v->th;
    if (ip->hlen != TS_IP4_HLEN || ip->tot_len != len || ts_ip4_is_fragment(ip) || !t->len)
        return 0;
    if (!(t->flags & TS_TH_ACK) ||
        (t->flags & (TS_TH_SYN | TS_TH_FIN | TS_TH_RST | TS_TH_URG | TS_TH_CWR)))
        return 0;
    return ip->hlen + t->hlen;
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
    ts_ip4_view ip;
    if (c == 0 && ts_ip4_view_parse(&ip, pkt, len) == TS_WIRE_OK && ip.proto == 17)
        c = 0xffff; /* UDP: 0 is no checksum (RFC 768) */
    put16(pkt + at, c);
    return 0;
}

bool ts_gso_tx_start(ts_gso_tx *g, const uint8_t *pkt, size_t len)
{
    ts_pkt_view v;
    size_t hlen = eligible(&v, pkt, len);
    if (!hlen) return false;
    g->first = v;
    g->psh = false; /* the first segment's PSH is in its own header */
    g->len = (uint32_t)len;
    g->hlen = (uint16_t)hlen;
    g->gso_size = (uint16_t)g->first.th.len;
    g->next_seq = g->first.th.seq + g->gso_size;
    g->segs = 1;
    g->iov[2] = (struct iovec){(void *)g->first.th.data, g->gso_size};
    g->niov = 3;
    g->closed = (g->first.th.flags & TS_TH_PSH) != 0;
    g->pending = true;
    return true;
}

/* Same connection, next in sequence, the same headers but for the IP length, ID and
 * checksum, the TCP sequence number, checksum and PSH (options equal byte for byte, so
 * timestamps equal too): then the kernel's segmentation gives back these very segments. */
static bool continues(const ts_gso_tx *g, const ts_pkt_view *v)
{
    const ts_ip4_view *a = &g->first.ip4, *b = &v->ip4;
    const ts_tcp_view *u = &g->first.th, *t = &v->th;
    /* the data offset's byte whole: the reserved bits too */
    if (t->seq != g->next_seq || t->len > g->gso_size || t->hdr[12] != u->hdr[12]) return false;
    if (a->tos != b->tos || a->ttl != b->ttl || a->frag != b->frag || a->src != b->src ||
        a->dst != b->dst)
        return false;
    return u->sport == t->sport && u->dport == t->dport && u->ack == t->ack &&
           (u->flags | TS_TH_PSH) == (t->flags | TS_TH_PSH) && u->win == t->win &&
           u->urg == t->urg && !memcmp(u->opt, t->opt, u->optlen);
}

bool ts_gso_tx_append(ts_gso_tx *g, const uint8_t *pkt, size_t len)
{
    ts_pkt_view v;
    if (!g->pending || g->closed || eligible(&v, pkt, len) != g->hlen || !continues(g, &v) ||
        g->len + v.th.len > TS_GSO_MAX || g->niov == TS_GSO_IOV)
        return false;
    g->iov[g->niov++] = (struct iovec){(void *)v.th.data, v.th.len};
    g->len += (uint32_t)v.th.len;
    g->next_seq += (uint32_t)v.th.len;
    g->segs++;
    if (v.th.flags & TS_TH_PSH) g->psh = true;
    /* The kernel cuts gso_size pieces: a shorter one, or PSH, must be the last. */
    if (v.th.len < g->gso_size || (v.th.flags & TS_TH_PSH)) g->closed = true;
    return true;
}

size_t ts_gso_tx_finish(ts_gso_tx *g, ts_vnet_hdr *h)
{
    memset(h, 0, sizeof *h);
    if (!g->pending) return 0;
    g->pending = false;
    if (g->segs == 1) { /* as the stack made it, checksums done */
        g->iov[1] = (struct iovec){(void *)g->first.ip4.hdr, g->len};
        g->niov = 2;
        return g->len;
    }
    /* New headers for the whole: the first segment's, with the total length, the IP
     * checksum, PSH if any segment had it, and in the TCP checksum field the
     * pseudo-header's sum (RFC 793 section 3.1), as Linux's own CHECKSUM_PARTIAL leaves
     * it; the kernel adds the rest per segment. */
    uint8_t *ip = g->hdr, *tcp = g->hdr + TS_IP4_HLEN;
    memcpy(g->hdr, g->first.ip4.hdr, g->hlen);
    put16(ip + 2, (uint16_t)g->len);
    put16(ip + 10, 0);
    put16(ip + 10, ts_csum(ip, TS_IP4_HLEN));
    if (g->psh) tcp[13] |= TS_TH_PSH;
    const ts_ip4_view *v = &g->first.ip4;
    uint32_t sum = ts_csum_pseudo(v->src, v->dst, TS_IPPROTO_TCP, (uint16_t)(g->len - TS_IP4_HLEN));
    put16(tcp + 16, (uint16_t)~ts_csum_fold(sum));
    g->iov[1] = (struct iovec){g->hdr, g->hlen};
    h->flags = TS_VNET_F_NEEDS_CSUM;
    h->gso_type = TS_VNET_GSO_TCPV4;
    h->hdr_len = g->hlen;
    h->gso_size = g->gso_size;
    h->csum_start = TS_IP4_HLEN;
    h->csum_offset = 16;
    return g->len;
}
