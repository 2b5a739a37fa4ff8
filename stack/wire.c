/* wire.c: the wire layer (tcpsim/wire.h): bounds-checked views of IPv4 and TCP headers,
 * checksums over them, and the header writers. Every read of a header field in the
 * project goes through here; nothing reads a byte before its parse said it is there. */
#include <string.h>

#include "tcpsim/checksum.h"
#include "tcpsim/wire.h"

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
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

ts_drop_reason ts_wire_drop_reason(ts_wire_err err)
{
    static const ts_drop_reason map[] = {
        [TS_WIRE_IP_SHORT] = TS_DROP_IP_SHORT,       [TS_WIRE_IP_VERSION] = TS_DROP_IP_VERSION,
        [TS_WIRE_IP_HDRLEN] = TS_DROP_IP_HDRLEN,     [TS_WIRE_IP_TOTLEN] = TS_DROP_IP_TOTLEN,
        [TS_WIRE_IP_CHECKSUM] = TS_DROP_IP_CHECKSUM, [TS_WIRE_TCP_SHORT] = TS_DROP_TCP_SHORT,
        [TS_WIRE_TCP_HDRLEN] = TS_DROP_TCP_HDRLEN,   [TS_WIRE_TCP_CHECKSUM] = TS_DROP_TCP_CHECKSUM,
        [TS_WIRE_TCP_OPTIONS] = TS_DROP_TCP_OPTIONS,
    };
    return (unsigned)err < sizeof map / sizeof map[0] && err ? map[err] : TS_DROP_IP_SHORT;
}

const char *ts_wire_err_name(ts_wire_err err)
{
    return err == TS_WIRE_OK ? "ok" : ts_drop_reason_name(ts_wire_drop_reason(err));
}

/* ---- IPv4 (RFC 791 3.1) ---- */

static void ip4_fields(ts_ip4_view *v, const uint8_t *buf)
{
    v->hdr = buf;
    v->tos = buf[1];
    v->id = get16(buf + 4);
    v->frag = get16(buf + 6);
    v->ttl = buf[8];
    v->proto = buf[9];
    v->src = get32(buf + 12);
    v->dst = get32(buf + 16);
}

/* The checks both parses share: length, version, IHL; the header's length into *hlen. */
static ts_wire_err ip4_header(const uint8_t *buf, size_t len, size_t *hlen)
{
    if (!buf || len < TS_IP4_HLEN) return TS_WIRE_IP_SHORT;
    if (buf[0] >> 4 != 4) return TS_WIRE_IP_VERSION;
    *hlen = (size_t)(buf[0] & 15) * 4;
    if (*hlen < TS_IP4_HLEN || *hlen > len) return TS_WIRE_IP_HDRLEN;
    return TS_WIRE_OK;
}

/* Fill v for a packet of tot bytes (tot >= hlen) of which len are in the buffer. */
static void ip4_fill(ts_ip4_view *v, const uint8_t *buf, size_t len, size_t hlen, size_t tot)
{
    ip4_fields(v, buf);
    v->hlen = hlen;
    v->tot_len = tot;
    v->payload = buf + hlen;
    v->payload_len = (tot < len ? tot : len) - hlen;
}

ts_wire_err ts_ip4_view_parse(ts_ip4_view *v, const uint8_t *buf, size_t len)
{
    memset(v, 0, sizeof *v);
    size_t hlen = 0;
    ts_wire_err e = ip4_header(buf, len, &hlen);
    if (e != TS_WIRE_OK) return e;
    size_t tot = get16(buf + 2);
    if (tot < hlen) return TS_WIRE_IP_TOTLEN;
    ip4_fill(v, buf, len, hlen, tot);
    /* a capture shorter than the packet: described as far as it goes */
    return tot > len ? TS_WIRE_IP_TOTLEN : TS_WIRE_OK;
}

ts_wire_err ts_ip4_view_capture(ts_ip4_view *v, const uint8_t *buf, size_t caplen, size_t wirelen)
{
    memset(v, 0, sizeof *v);
    size_t hlen = 0;
    ts_wire_err e = ip4_header(buf, caplen, &hlen);
    if (e != TS_WIRE_OK) return e;
    size_t tot = get16(buf + 2);
    if (tot == 0 || tot > wirelen) tot = wirelen; /* 0: left for segmentation offload */
    if (tot < hlen) return TS_WIRE_IP_TOTLEN;
    ip4_fill(v, buf, caplen, hlen, tot);
    return TS_WIRE_OK;
}

bool ts_ip4_csum_ok(const ts_ip4_view *v)
{
    return v->hdr && ts_csum(v->hdr, v->hlen) == 0;
}

void ts_ip4_write(uint8_t *buf, const ts_ip4_hdr *h, uint16_t tot_len)
{
    buf[0] = 0x45;
    buf[1] = h->tos;
    put16(buf + 2, tot_len);
    put16(buf + 4, h->id);
    put16(buf + 6, h->frag);
    buf[8] = h->ttl;
    buf[9] = h->proto;
    put16(buf + 10, 0);
    put32(buf + 12, h->src);
    put32(buf + 16, h->dst);
    put16(buf + 10, ts_csum(buf, TS_IP4_HLEN));
}

/* ---- TCP (RFC 9293 3.1) ---- */

static void tcp_fields(ts_tcp_view *v, const uint8_t *seg)
{
    v->hdr = seg;
    v->sport = get16(seg);
    v->dport = get16(seg + 2);
    v->seq = get32(seg + 4);
    v->ack = get32(seg + 8);
    v->hlen = (size_t)(seg[12] >> 4) * 4;
    v->flags = seg[13];
    v->win = get16(seg + 14);
    v->csum = get16(seg + 16);
    v->urg = get16(seg + 18);
}

ts_wire_err ts_tcp_view_parse(ts_tcp_view *v, const uint8_t *seg, size_t len)
{
    memset(v, 0, sizeof *v);
    if (!seg || len < TS_TCP_HLEN) {
        if (seg && len >= 4) v->sport = get16(seg), v->dport = get16(seg + 2);
        return TS_WIRE_TCP_SHORT;
    }
    tcp_fields(v, seg);
    if (v->hlen < TS_TCP_HLEN || v->hlen > len) return TS_WIRE_TCP_HDRLEN;
    v->opt = seg + TS_TCP_HLEN;
    v->optlen = v->hlen - TS_TCP_HLEN;
    v->data = seg + v->hlen;
    v->len = len - v->hlen;
    return TS_WIRE_OK;
}

bool ts_tcp_csum_ok(const ts_tcp_view *v, uint32_t src, uint32_t dst)
{
    size_t seglen = v->hlen + v->len;
    uint32_t sum = ts_csum_pseudo(src, dst, TS_IPPROTO_TCP, (uint16_t)seglen);
    return v->hdr && ts_csum_fold(ts_csum_add(sum, v->hdr, seglen)) == 0;
}

ts_wire_err ts_tcp_view_opts(const ts_tcp_view *v, ts_tcp_opts *out)
{
    return ts_tcp_opts_parse(v->opt, v->optlen, out) < 0 ? TS_WIRE_TCP_OPTIONS : TS_WIRE_OK;
}

void ts_tcp_write(uint8_t *seg, const ts_tcp_hdr *h, size_t optlen)
{
    put16(seg, h->sport);
    put16(seg + 2, h->dport);
    put32(seg + 4, h->seq);
    put32(seg + 8, h->ack);
    seg[12] = (uint8_t)(((TS_TCP_HLEN + optlen) / 4) << 4);
    seg[13] = h->flags;
    put16(seg + 14, h->win);
    put16(seg + 16, 0);
    put16(seg + 18, h->urg);
}

void ts_tcp_write_csum(uint8_t *seg, size_t seglen, uint32_t src, uint32_t dst)
{
    put16(seg + 16, 0);
    uint32_t sum = ts_csum_pseudo(src, dst, TS_IPPROTO_TCP, (uint16_t)seglen);
    put16(seg + 16, ts_csum_fold(ts_csum_add(sum, seg, seglen)));
}

size_t ts_tcp_build(uint8_t *buf, size_t cap, const ts_ip4_hdr *ip, const ts_tcp_hdr *tcp,
                    const uint8_t *opt, size_t optlen, const void *data, size_t dlen)
{
    size_t seglen = TS_TCP_HLEN + optlen + dlen, len = TS_IP4_HLEN + seglen;
    if (optlen > TS_TCP_OPT_MAX || len > cap || len > 65535) return 0;
    uint8_t *seg = buf + TS_IP4_HLEN;
    if (optlen) memcpy(seg + TS_TCP_HLEN, opt, optlen);
    if (dlen && data) memcpy(seg + TS_TCP_HLEN + optlen, data, dlen);
    ts_tcp_write(seg, tcp, optlen);
    ts_tcp_write_csum(seg, seglen, ip->src, ip->dst);
    ts_ip4_hdr h = *ip;
    h.proto = TS_IPPROTO_TCP;
    ts_ip4_write(buf, &h, (uint16_t)len);
    return len;
}

/* ---- both ---- */

/* The TCP layer of v once its IPv4 layer is in place. */
static ts_wire_err pkt_tcp(ts_pkt_view *v)
{
    v->ip = true;
    if (v->ip4.proto != TS_IPPROTO_TCP) return TS_WIRE_OK;
    ts_wire_err e = ts_tcp_view_parse(&v->th, v->ip4.payload, v->ip4.payload_len);
    if (e != TS_WIRE_OK) {
        memset(&v->th, 0, sizeof v->th);
        return e;
    }
    v->tcp = true;
    return TS_WIRE_OK;
}

ts_wire_err ts_pkt_view_parse(ts_pkt_view *v, const uint8_t *buf, size_t len)
{
    v->ip = v->tcp = false;
    memset(&v->th, 0, sizeof v->th);
    ts_wire_err e = ts_ip4_view_parse(&v->ip4, buf, len);
    if (e != TS_WIRE_OK) {
        memset(&v->ip4, 0, sizeof v->ip4);
        return e;
    }
    return pkt_tcp(v);
}

ts_wire_err ts_pkt_view_capture(ts_pkt_view *v, const uint8_t *buf, size_t caplen, size_t wirelen)
{
    v->ip = v->tcp = false;
    memset(&v->th, 0, sizeof v->th);
    ts_wire_err e = ts_ip4_view_capture(&v->ip4, buf, caplen, wirelen);
    if (e != TS_WIRE_OK) return e;
    return pkt_tcp(v);
}

uint32_t ts_pkt_view_wire_payload(const ts_pkt_view *v)
{
    return v->tcp ? (uint32_t)(v->ip4.tot_len - v->ip4.hlen - v->th.hlen) : 0;
}
