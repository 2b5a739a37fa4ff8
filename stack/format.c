/* format.c: packets as `tcpdump -n -S` prints them (absolute sequence numbers), and
 * tcpdump's time stamps. Reads only within the given length: anything short or
 * malformed prints what can be read and a marker such as "[|tcp]" or "[bad opt]". */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tcpsim/format.h"
#include "tcpsim/tcp_opt.h"
#include "tcpsim/wire.h"

/* An appender that truncates silently and always keeps buf NUL-terminated. */
typedef struct out {
    char *buf;
    size_t cap, len;
} out;

__attribute__((format(printf, 2, 3))) static void put(out *o, const char *fmt, ...)
{
    if (o->len + 1 >= o->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    o->len += (size_t)n;
    if (o->len >= o->cap) o->len = o->cap - 1;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_addr(out *o, uint32_t a)
{
    put(o, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
}

/* ---- TCP ---- */

/* One option at p (len bytes left); returns its length, or 0 if it is malformed. */
static size_t put_opt(out *o, const uint8_t *p, size_t len)
{
    if (p[0] == TS_OPT_NOP) return put(o, "nop"), 1;
    if (len < 2 || p[1] < 2 || p[1] > len) return 0;
    ts_tcp_opts t; /* reuse the strict parser to check known kinds' lengths */
    if (ts_tcp_opts_parse(p, p[1], &t) < 0) return 0;
    switch (p[0]) {
    case TS_OPT_MSS: put(o, "mss %u", t.mss); break;
    case TS_OPT_WSCALE: put(o, "wscale %u", t.wscale); break;
    case TS_OPT_SACKOK: put(o, "sackOK"); break;
    case TS_OPT_TS: put(o, "TS val %u ecr %u", t.tsval, t.tsecr); break;
    case TS_OPT_SACK:
        put(o, "sack %u ", t.nsack);
        for (int i = 0; i < t.nsack; i++) put(o, "{%u:%u}", t.sack[i].start, t.sack[i].end);
        break;
    default: put(o, "unknown-%u", p[0]); break;
    }
    return p[1];
}

/* The options' items as tcpdump prints them between "options [" and "]". */
static void put_opt_items(out *o, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len;) {
        if (i) put(o, ",");
        if (p[i] == TS_OPT_EOL) {
            put(o, "eol");
            break;
        }
        size_t n = put_opt(o, p + i, len - i);
        if (!n) {
            put(o, "[bad opt]");
            break;
        }
        i += n;
    }
}

size_t ts_format_tcp_options(const uint8_t *opt, size_t len, char *buf, size_t buflen)
{
    out o = {buf, buflen, 0};
    if (!buflen) return 0;
    buf[0] = 0;
    put_opt_items(&o, opt, len);
    return o.len;
}

static void put_flags(out *o, uint8_t f)
{
    /* tcpdump's order (print-tcp.c tcp_flag_values): F S R P . U E W */
    static const struct {
        uint8_t bit;
        char c;
    } fl[] = {{TS_TH_FIN, 'F'}, {TS_TH_SYN, 'S'}, {TS_TH_RST, 'R'}, {TS_TH_PSH, 'P'},
              {TS_TH_ACK, '.'}, {TS_TH_URG, 'U'}, {TS_TH_ECE, 'E'}, {TS_TH_CWR, 'W'}};
    put(o, "Flags [");
    if (!f) put(o, "none");
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++)
        if (f & fl[i].bit) put(o, "%c", fl[i].c);
    put(o, "]");
}

static void put_tcp(out *o, const ts_ip4_view *ip)
{
    ts_tcp_view t;
    ts_wire_err e = ts_tcp_view_parse(&t, ip->payload, ip->payload_len);
    if (e == TS_WIRE_TCP_SHORT && ip->payload_len < 4) {
        put_addr(o, ip->src), put(o, " > "), put_addr(o, ip->dst), put(o, ": [|tcp]");
        return;
    }
    put_addr(o, ip->src), put(o, ".%u > ", t.sport);
    put_addr(o, ip->dst), put(o, ".%u: ", t.dport);
    if (e == TS_WIRE_TCP_SHORT) {
        put(o, "[|tcp]");
        return;
    }
    if (t.hlen < TS_TCP_HLEN) {
        put(o, "[bad hdr length %zu - too short, < 20]", t.hlen);
        return;
    }
    uint8_t f = t.flags;
    uint32_t plen = (uint32_t)t.len;
    put_flags(o, f);
    if (plen || (f & (TS_TH_FIN | TS_TH_SYN | TS_TH_RST))) put(o, ", seq %u", t.seq);
    if (plen) put(o, ":%u", t.seq + plen);
    if (f & TS_TH_ACK) put(o, ", ack %u", t.ack);
    put(o, ", win %u", t.win);
    if (f & TS_TH_URG) put(o, ", urg %u", t.urg);
    if (e != TS_WIRE_OK) { /* options run past the segment */
        put(o, ", [|tcp]");
        return;
    }
    if (t.optlen) {
        put(o, ", options [");
        put_opt_items(o, t.opt, t.optlen);
        put(o, "]");
    }
    put(o, ", length %u", plen);
}

/* ---- ICMP and the rest ---- */

static void put_icmp(out *o, const ts_ip4_view *ip)
{
    const uint8_t *m = ip->payload;
    size_t len = ip->payload_len;
    put_addr(o, ip->src), put(o, " > "), put_addr(o, ip->dst), put(o, ": ");
    if (len < 8)
        put(o, "[|icmp]");
    else if (m[0] == 8 || m[0] == 0)
        put(o, "ICMP echo %s, id %u, seq %u, length %zu", m[0] ? "request" : "reply", be16(m + 4),
            be16(m + 6), len);
    else
        put(o, "ICMP type-%u, length %zu", m[0], len);
}

size_t ts_format_packet(const uint8_t *pkt, size_t len, char *buf, size_t buflen)
{
    out o = {buf, buflen, 0};
    if (!buflen) return 0;
    buf[0] = 0;
    ts_ip4_view ip;
    ts_wire_err e = ts_ip4_view_parse(&ip, pkt, len);
    if (e == TS_WIRE_IP_VERSION) return put(&o, "IP bad version %u", pkt[0] >> 4), o.len;
    if (!ip.hdr) return put(&o, "IP truncated"), o.len; /* short, bad IHL, total < IHL */
    if (e == TS_WIRE_IP_TOTLEN) /* as tcpdump says when the capture is shorter than the packet */
        put(&o, "IP truncated-ip - %zu bytes missing! ", ip.tot_len - len);
    else
        put(&o, "IP ");
    bool later_frag = ts_ip4_is_later_fragment(&ip);
    if (ip.proto == TS_IPPROTO_TCP && !later_frag) {
        put_tcp(&o, &ip);
    } else if (ip.proto == TS_IPPROTO_ICMP && !later_frag) {
        put_icmp(&o, &ip);
    } else {
        put_addr(&o, ip.src), put(&o, " > "), put_addr(&o, ip.dst);
        put(&o, ": ip-proto-%u %zu", ip.proto, ip.tot_len - ip.hlen);
    }
    return o.len;
}

size_t ts_format_time(ts_time_t t, bool virtual_time, char *buf, size_t buflen)
{
    out o = {buf, buflen, 0};
    if (!buflen) return 0;
    buf[0] = 0;
    unsigned long long s = t / 1000000u, us = t % 1000000u;
    if (virtual_time)
        put(&o, "%llu.%06llu", s, us);
    else
        put(&o, "%02llu:%02llu:%02llu.%06llu", s / 3600 % 24, s / 60 % 60, s % 60, us);
    return o.len;
}
