/* format.c: packets as `tcpdump -n -S` prints them (absolute sequence numbers), and
 * tcpdump's time stamps. Reads only within the given length: anything short or
 * malformed prints what can be read and a marker such as "[|tcp]" or "[bad opt]". */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tcpsim/format.h"
#include "tcpsim/tcp_opt.h"

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

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_addr(out *o, const uint8_t *a)
{
    put(o, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
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

static void put_tcp_options(out *o, const uint8_t *p, size_t len)
{
    if (!len) return;
    put(o, ", options [");
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
    put(o, "]");
}

static void put_flags(out *o, uint8_t f)
{
    /* tcpdump's order (print-tcp.c tcp_flag_values): F S R P . U E W */
    static const struct {
        uint8_t bit;
        char c;
    } fl[] = {{0x01, 'F'}, {0x02, 'S'}, {0x04, 'R'}, {0x08, 'P'},
              {0x10, '.'}, {0x20, 'U'}, {0x40, 'E'}, {0x80, 'W'}};
    put(o, "Flags [");
    if (!f) put(o, "none");
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++)
        if (f & fl[i].bit) put(o, "%c", fl[i].c);
    put(o, "]");
}

static void put_tcp(out *o, const uint8_t *ip, const uint8_t *t, size_t len)
{
    if (len < 4) {
        put_addr(o, ip + 12), put(o, " > "), put_addr(o, ip + 16), put(o, ": [|tcp]");
        return;
    }
    put_addr(o, ip + 12), put(o, ".%u > ", be16(t));
    put_addr(o, ip + 16), put(o, ".%u: ", be16(t + 2));
    size_t hl = len < 20 ? 0 : (size_t)(t[12] >> 4) * 4;
    if (len < 20) {
        put(o, "[|tcp]");
        return;
    }
    if (hl < 20) {
        put(o, "[bad hdr length %zu - too short, < 20]", hl);
        return;
    }
    uint8_t f = t[13];
    uint32_t seq = be32(t + 4), plen = hl <= len ? (uint32_t)(len - hl) : 0;
    put_flags(o, f);
    if (plen || (f & 0x07)) put(o, ", seq %u", seq);
    if (plen) put(o, ":%u", seq + plen);
    if (f & 0x10) put(o, ", ack %u", be32(t + 8));
    put(o, ", win %u", be16(t + 14));
    if (f & 0x20) put(o, ", urg %u", be16(t + 18));
    if (hl > len) { /* options run past the segment */
        put(o, ", [|tcp]");
        return;
    }
    put_tcp_options(o, t + 20, hl - 20);
    put(o, ", length %u", plen);
}

/* ---- ICMP and the rest ---- */

static void put_icmp(out *o, const uint8_t *ip, const uint8_t *m, size_t len)
{
    put_addr(o, ip + 12), put(o, " > "), put_addr(o, ip + 16), put(o, ": ");
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
    if (!pkt || len < 20) return put(&o, "IP truncated"), o.len;
    if (pkt[0] >> 4 != 4) return put(&o, "IP bad version %u", pkt[0] >> 4), o.len;
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4, tot = be16(pkt + 2);
    if (ihl < 20 || ihl > len || tot < ihl) return put(&o, "IP truncated"), o.len;
    size_t l4 = (tot < len ? tot : len) - ihl; /* what was both sent and captured */
    bool later_frag = (be16(pkt + 6) & 0x1fff) != 0;
    if (tot > len) /* as tcpdump says when the capture is shorter than the packet */
        put(&o, "IP truncated-ip - %zu bytes missing! ", tot - len);
    else
        put(&o, "IP ");
    if (pkt[9] == 6 && !later_frag) {
        put_tcp(&o, pkt, pkt + ihl, l4);
    } else if (pkt[9] == 1 && !later_frag) {
        put_icmp(&o, pkt, pkt + ihl, l4);
    } else {
        put_addr(&o, pkt + 12), put(&o, " > "), put_addr(&o, pkt + 16);
        put(&o, ": ip-proto-%u %zu", pkt[9], tot - ihl);
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
