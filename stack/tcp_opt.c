/* tcp_opt.c: TCP options: a bounds-checked parser for what peers send, and an emitter that
 * lays out our options exactly as Linux's tcp_options_write does (so captures match). */
#include <string.h>

#include "tcpsim/tcp_opt.h"

#define TS_OPT_SPACE 40 /* data offset 15 minus the 20-byte header */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

static uint8_t *put4(uint8_t *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    p[0] = a, p[1] = b, p[2] = c, p[3] = d;
    return p + 4;
}

/* One option's value (o->len already known to fit in the list). */
int ts_tcp_opt_decode(const ts_tcp_opt *o, ts_tcp_opts *out)
{
    const uint8_t *v = o->val;
    uint8_t l = o->len;
    switch (o->kind) {
    case TS_OPT_MSS:
        if (l != 4) return -1;
        out->has_mss = true;
        out->mss = get16(v);
        return 0;
    case TS_OPT_WSCALE:
        if (l != 3) return -1;
        out->has_wscale = true;
        out->wscale = v[0];
        return 0;
    case TS_OPT_SACKOK:
        if (l != 2) return -1;
        out->has_sackok = true;
        return 0;
    case TS_OPT_SACK: /* RFC 2018 3: 8n + 2, at most 4 blocks fit in 40 bytes */
        if (l < 10 || (l - 2) % 8 || (l - 2) / 8 > TS_MAX_SACK_BLOCKS) return -1;
        out->nsack = (uint8_t)((l - 2) / 8);
        for (int i = 0; i < out->nsack; i++) {
            out->sack[i].start = get32(v + 8 * i);
            out->sack[i].end = get32(v + 8 * i + 4);
        }
        return 0;
    case TS_OPT_TS:
        if (l != 10) return -1;
        out->has_ts = true;
        out->tsval = get32(v);
        out->tsecr = get32(v + 4);
        return 0;
    default: return 0; /* NOP, or an unknown kind with a sane length: skip (RFC 9293 3.1) */
    }
}

int ts_tcp_opt_next(const uint8_t *opt, size_t len, size_t *off, ts_tcp_opt *o)
{
    size_t i = *off;
    if (i >= len || opt[i] == TS_OPT_EOL) return 0;
    if (opt[i] == TS_OPT_NOP) {
        *o = (ts_tcp_opt){.kind = TS_OPT_NOP, .len = 1, .val = NULL};
        *off = i + 1;
        return 1;
    }
    if (len - i < 2) return -1; /* no room for the length byte */
    uint8_t l = opt[i + 1];
    if (l < 2 || l > len - i) return -1;
    *o = (ts_tcp_opt){.kind = opt[i], .len = l, .val = opt + i + 2};
    *off = i + l;
    return 1;
}

int ts_tcp_opts_parse(const uint8_t *opt, size_t len, ts_tcp_opts *out)
{
    memset(out, 0, sizeof *out);
    size_t off = 0;
    ts_tcp_opt o;
    int r;
    while ((r = ts_tcp_opt_next(opt, len, &off, &o)) > 0)
        if (ts_tcp_opt_decode(&o, out) < 0) return -1;
    return r;
}

/* SYN and SYN-ACK: MSS, SACK-perm folded into the TS word, NOP-padded WS. */
static uint8_t *write_syn(uint8_t *p, const ts_tcp_opts_out *o)
{
    bool sackok = o->sackok_on;
    if (o->mss_on) p = put4(p, TS_OPT_MSS, 4, (uint8_t)(o->mss >> 8), (uint8_t)o->mss);
    if (o->ts_on) {
        if (sackok)
            p = put4(p, TS_OPT_SACKOK, 2, TS_OPT_TS, 10);
        else
            p = put4(p, TS_OPT_NOP, TS_OPT_NOP, TS_OPT_TS, 10);
        p = put32(put32(p, o->tsval), o->tsecr);
        sackok = false;
    }
    if (sackok) p = put4(p, TS_OPT_NOP, TS_OPT_NOP, TS_OPT_SACKOK, 2);
    if (o->wscale_on) p = put4(p, TS_OPT_NOP, TS_OPT_WSCALE, 3, o->wscale);
    return p;
}

/* Other segments: NOP NOP TS, then NOP NOP SACK with as many blocks as still fit. */
static uint8_t *write_other(uint8_t *p, const ts_tcp_opts_out *o)
{
    size_t room = TS_OPT_SPACE;
    if (o->ts_on) {
        p = put4(p, TS_OPT_NOP, TS_OPT_NOP, TS_OPT_TS, 10);
        p = put32(put32(p, o->tsval), o->tsecr);
        room -= 12;
    }
    size_t n = o->nsack;
    if (n > TS_MAX_SACK_BLOCKS) n = TS_MAX_SACK_BLOCKS;
    if (n > (room - 4) / 8) n = (room - 4) / 8;
    if (n) {
        p = put4(p, TS_OPT_NOP, TS_OPT_NOP, TS_OPT_SACK, (uint8_t)(2 + 8 * n));
        for (size_t i = 0; i < n; i++) p = put32(put32(p, o->sack[i].start), o->sack[i].end);
    }
    return p;
}

size_t ts_tcp_opts_write(uint8_t *buf, const ts_tcp_opts_out *o)
{
    uint8_t *end = o->syn ? write_syn(buf, o) : write_other(buf, o);
    return (size_t)(end - buf);
}
