/* tcpsim/wire.h: the wire layer: IPv4 and TCP headers read through bounds-checked views
 * and written by header writers, used by the core, the simulator, the packetdrill adapter
 * and the tests, so that a header is decoded and built in one place.
 *
 * Reading works in layers, as the core checks a packet (RFC 791, RFC 1122 3.2.1, RFC 9293
 * 3.10.7): ts_ip4_view_parse validates the IPv4 header's structure once (length, version, IHL,
 * total length) and fills a view; ts_tcp_view_parse does the same for the TCP header inside the
 * IP payload (length, data offset). Checksums and options are checked by separate calls
 * (ts_ip4_csum_ok, ts_tcp_csum_ok, ts_tcp_view_opts) because the core decides other
 * things in between (destination, fragments, protocol). After a parse returns TS_WIRE_OK,
 * every pointer and length in the view lies inside the buffer, so no accessor can read
 * past it. Bytes after the IPv4 total length (link padding) are never part of the view.
 * ts_pkt_view_parse does both layers at once for those who only look (the simulator, tests).
 * ts_pkt_view_capture reads a capture as tcpdump does (a snaplen cut, a total length of 0
 * left for segmentation offload); options are walked one at a time by tcp_opt.h's
 * ts_tcp_opt_next, which stops at a malformed one (the views keep what came before).
 *
 * Writing: ts_ip4_write and ts_tcp_write fill a header in place in front of options and
 * payload already in the buffer (the core builds each segment once, in place);
 * ts_tcp_build writes a whole IPv4/TCP packet from parts (peers and tests). */
#ifndef TCPSIM_WIRE_H
#define TCPSIM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpsim/event.h"
#include "tcpsim/tcp_opt.h"

/* TCP header flags (RFC 9293 3.1; ECE and CWR from RFC 3168). */
#define TS_TH_FIN 0x01
#define TS_TH_SYN 0x02
#define TS_TH_RST 0x04
#define TS_TH_PSH 0x08
#define TS_TH_ACK 0x10
#define TS_TH_URG 0x20
#define TS_TH_ECE 0x40
#define TS_TH_CWR 0x80

#define TS_IP4_HLEN     20 /* an IPv4 header without options */
#define TS_TCP_HLEN     20 /* a TCP header without options */
#define TS_TCP_OPT_MAX  40 /* data offset 15 words minus the fixed header */
#define TS_IPPROTO_ICMP 1
#define TS_IPPROTO_TCP  6
#define TS_IP4_DF       0x4000 /* don't fragment (RFC 791; RFC 1191 path MTU discovery) */

/* What is wrong with a packet, in the order the checks run. Each maps to one of the
 * core's drop reasons (ts_wire_drop_reason). */
typedef enum ts_wire_err {
    TS_WIRE_OK = 0,
    TS_WIRE_IP_SHORT,     /* shorter than an IPv4 header */
    TS_WIRE_IP_VERSION,   /* version != 4 */
    TS_WIRE_IP_HDRLEN,    /* IHL < 5, or the header runs past the buffer */
    TS_WIRE_IP_TOTLEN,    /* total length past the buffer or below IHL */
    TS_WIRE_IP_CHECKSUM,  /* header checksum wrong */
    TS_WIRE_TCP_SHORT,    /* shorter than a TCP header */
    TS_WIRE_TCP_HDRLEN,   /* data offset < 5 or past the segment */
    TS_WIRE_TCP_CHECKSUM, /* TCP checksum wrong */
    TS_WIRE_TCP_OPTIONS,  /* malformed options */
} ts_wire_err;

/* The drop reason the core counts for err (err must not be TS_WIRE_OK). */
ts_drop_reason ts_wire_drop_reason(ts_wire_err err);
/* "ok", "ip-short", ...: the drop reason's name. */
const char *ts_wire_err_name(ts_wire_err err);

/* ---- IPv4 ---- */

/* A checked IPv4 header. hdr..hdr+hlen is the header, payload..payload+payload_len what
 * the total length says follows it; both lie inside the parsed buffer. */
typedef struct ts_ip4_view {
    const uint8_t *hdr;
    size_t hlen;    /* IHL * 4, >= 20 */
    size_t tot_len; /* the header's total length, <= the buffer */
    const uint8_t *payload;
    size_t payload_len; /* tot_len - hlen */
    uint8_t tos, ttl, proto;
    uint16_t id;
    uint16_t frag;     /* flags and fragment offset as in the header */
    uint32_t src, dst; /* host order */
} ts_ip4_view;

/* Check len bytes at buf as an IPv4 packet and fill v. Returns TS_WIRE_OK, or the first
 * problem (SHORT, VERSION, HDRLEN, TOTLEN); on an error v is zeroed, except that on
 * TS_WIRE_IP_TOTLEN with tot_len > len (a capture shorter than the packet) every field is
 * filled and payload_len covers only what was captured, for printers such as tcpdump's.
 * The checksum is not checked. */
ts_wire_err ts_ip4_view_parse(ts_ip4_view *v, const uint8_t *buf, size_t len);
/* A packet as a capture holds it, read as leniently as tcpdump: caplen bytes at buf of a
 * packet that was wirelen bytes on the wire. A total length of 0 (left for segmentation
 * offload) or past wirelen is taken as wirelen; a capture cut short by its snaplen is not
 * an error: tot_len is the packet's length, payload_len what of its payload was captured.
 * Returns TS_WIRE_OK or SHORT, VERSION, HDRLEN, TOTLEN (total length below IHL); on an
 * error v is zeroed. The checksum is not checked. */
ts_wire_err ts_ip4_view_capture(ts_ip4_view *v, const uint8_t *buf, size_t caplen, size_t wirelen);
/* The header checksum is right (RFC 791: the sum over the header is 0). */
bool ts_ip4_csum_ok(const ts_ip4_view *v);
/* MF set or a fragment offset: part of a fragmented datagram. */
static inline bool ts_ip4_is_fragment(const ts_ip4_view *v)
{
    return (v->frag & 0x3fff) != 0;
}
/* A fragment other than the first (its payload does not start with a transport header). */
static inline bool ts_ip4_is_later_fragment(const ts_ip4_view *v)
{
    return (v->frag & 0x1fff) != 0;
}

/* The fields an IPv4 header is written from (no IP options). */
typedef struct ts_ip4_hdr {
    uint8_t tos, ttl, proto;
    uint16_t id;
    uint16_t frag; /* flags and offset, e.g. TS_IP4_DF */
    uint32_t src, dst;
} ts_ip4_hdr;

/* Write a 20-byte IPv4 header at buf for a packet of tot_len bytes, checksum included. */
void ts_ip4_write(uint8_t *buf, const ts_ip4_hdr *h, uint16_t tot_len);

/* ---- TCP ---- */

/* A checked TCP header. opt..opt+optlen are the options, data..data+len the payload. */
typedef struct ts_tcp_view {
    const uint8_t *hdr;
    size_t hlen; /* data offset * 4, >= 20 */
    const uint8_t *opt;
    size_t optlen;
    const uint8_t *data;
    size_t len; /* payload bytes */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win, csum, urg;
} ts_tcp_view;

/* Check len bytes at seg (an IPv4 payload) as a TCP segment and fill v. Returns TS_WIRE_OK,
 * TS_WIRE_TCP_SHORT or TS_WIRE_TCP_HDRLEN; on an error v is zeroed, except that what lies
 * inside the buffer is kept for printers: the ports when 4 bytes are there, every fixed
 * field (hlen too, opt/data NULL) on TS_WIRE_TCP_HDRLEN. */
ts_wire_err ts_tcp_view_parse(ts_tcp_view *v, const uint8_t *seg, size_t len);
/* The TCP checksum over header and payload with the pseudo-header is right. */
bool ts_tcp_csum_ok(const ts_tcp_view *v, uint32_t src, uint32_t dst);
/* The options, parsed by ts_tcp_opts_parse: TS_WIRE_OK or TS_WIRE_TCP_OPTIONS. */
ts_wire_err ts_tcp_view_opts(const ts_tcp_view *v, ts_tcp_opts *out);
/* Sequence space the segment takes: payload, plus one each for SYN and FIN. */
static inline uint32_t ts_tcp_view_seqlen(const ts_tcp_view *v)
{
    return (uint32_t)v->len + ((v->flags & TS_TH_SYN) ? 1u : 0u) +
           ((v->flags & TS_TH_FIN) ? 1u : 0u);
}

/* The fields a TCP header is written from. */
typedef struct ts_tcp_hdr {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win, urg;
} ts_tcp_hdr;

/* Write the fixed 20 bytes of a TCP header at seg, with a data offset for optlen option
 * bytes (already at seg + 20, or written later; optlen should be a multiple of 4, and the
 * offset says (20 + optlen) / 4 words) and the checksum field zero. */
void ts_tcp_write(uint8_t *seg, const ts_tcp_hdr *h, size_t optlen);
/* Compute and store the checksum of the seglen-byte segment at seg (header, options and
 * payload in place) for addresses src and dst. */
void ts_tcp_write_csum(uint8_t *seg, size_t seglen, uint32_t src, uint32_t dst);

/* A whole IPv4/TCP packet at buf: IPv4 header from ip (proto is set to TCP), TCP header
 * from tcp, optlen option bytes from opt, dlen payload bytes from data (NULL: leave what
 * is in the buffer), both checksums. Returns the packet's length, or 0 if it would not
 * fit in cap bytes or optlen exceeds TS_TCP_OPT_MAX. */
size_t ts_tcp_build(uint8_t *buf, size_t cap, const ts_ip4_hdr *ip, const ts_tcp_hdr *tcp,
                    const uint8_t *opt, size_t optlen, const void *data, size_t dlen);

/* ---- both layers ---- */

/* An IPv4 packet and, when it carries one, its TCP segment: structure only, no checksums
 * (a simulator or a test looks at packets as they are, corrupt ones too). */
typedef struct ts_pkt_view {
    bool ip;  /* a well-formed IPv4 header */
    bool tcp; /* protocol 6 with a well-formed TCP header (fragment bits not looked at) */
    ts_ip4_view ip4;
    ts_tcp_view th;
} ts_pkt_view;

/* Fill v from len bytes at buf; returns the first structural problem (TS_WIRE_OK if
 * none, and TS_WIRE_OK for a well-formed non-TCP packet, where v->tcp is false). */
ts_wire_err ts_pkt_view_parse(ts_pkt_view *v, const uint8_t *buf, size_t len);
/* The same over a capture (ts_ip4_view_capture's leniency): the TCP header must lie
 * inside what was captured and the packet; v->th.len counts the captured payload only. */
ts_wire_err ts_pkt_view_capture(ts_pkt_view *v, const uint8_t *buf, size_t caplen, size_t wirelen);
/* The TCP payload's length on the wire (from the total length; a capture may hold less);
 * 0 unless v->tcp. */
uint32_t ts_pkt_view_wire_payload(const ts_pkt_view *v);

#endif
