/* series.c: the series export: a row per stack event with the connection's variables at
 * that moment, formatted by hand (no printf) into a large buffer, because a bulk transfer
 * raises millions of events and the export may cost at most a quarter of the run. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "series.h"
#include "tcpsim/wire.h"
#include "view.h"

static const char *const event_names[] = {
    "seg_in",     "seg_out",    "state", "timer_set", "timer_fire", "timer_cancel",
    "retransmit", "rtt_sample", "cwnd",  "drop",      "conn_new",   "conn_free",
};

static const char *const rexmit_names[] = {"syn", "rto", "fast", "partial", "probe"};

/* ---- rows ---------------------------------------------------------------------------- */

/* Sequence, ACK, flags and payload length of a TCP/IPv4 packet, read through the wire
 * layer; false if it is none. A packet longer than the bytes at hand (TS_WIRE_IP_TOTLEN
 * with the view filled) counts what is there. */
static bool parse_seg(ts_series_row *r, const uint8_t *pkt, size_t len)
{
    ts_ip4_view ip;
    ts_wire_err e = ts_ip4_view_parse(&ip, pkt, len);
    if ((e != TS_WIRE_OK && !(e == TS_WIRE_IP_TOTLEN && ip.hdr)) || ip.proto != TS_IPPROTO_TCP)
        return false;
    ts_tcp_view th;
    if (ts_tcp_view_parse(&th, ip.payload, ip.payload_len) != TS_WIRE_OK) return false;
    r->seg_seq = th.seq;
    r->seg_ack = th.ack;
    r->flags = th.flags & 0x1f;
    r->has_ack = (th.flags & TS_TH_ACK) != 0;
    r->seg_len = (uint32_t)th.len;
    return true;
}

static void fill_event(ts_series_row *r, const ts_event *ev)
{
    switch (ev->type) {
    case TS_EV_SEG_IN:
    case TS_EV_SEG_OUT: r->has_seg = parse_seg(r, ev->u.seg.pkt, ev->u.seg.len); break;
    case TS_EV_STATE:
        r->d1 = (uint8_t)ev->u.state.from;
        r->d2 = (uint8_t)ev->u.state.to;
        break;
    case TS_EV_TIMER_SET:
        r->timer = ev->u.timer.when > ev->now ? ev->u.timer.when - ev->now : 0;
        r->d1 = (uint8_t)ev->u.timer.kind;
        break;
    case TS_EV_TIMER_FIRE:
    case TS_EV_TIMER_CANCEL: r->d1 = (uint8_t)ev->u.timer.kind; break;
    case TS_EV_RETRANSMIT:
        r->d1 = (uint8_t)ev->u.rexmit.kind;
        r->has_seg = true;
        r->seg_seq = ev->u.rexmit.seq;
        r->seg_len = ev->u.rexmit.len;
        break;
    case TS_EV_RTT_SAMPLE: r->sample = ev->u.rtt.sample; break;
    case TS_EV_DROP: r->d1 = (uint8_t)ev->u.drop.reason; break;
    default: break;
    }
}

void ts_series_fill(ts_series_row *r, ts_stack *s, const char *host, const ts_event *ev,
                    ts_time_t t0)
{
    memset(r, 0, sizeof *r);
    r->t = ev->now >= t0 ? ev->now - t0 : 0;
    r->host = host;
    r->conn = ev->conn;
    r->event = (uint8_t)ev->type;
    fill_event(r, ev);
    ts_tcp_info in;
    if (!s || !ev->conn.id || ts_stack_conn_info(s, ev->conn.id, &in) < 0) return;
    r->known = true;
    r->state = (uint8_t)in.state;
    r->ca_state = (uint8_t)in.ca_state;
    r->snd_una = in.snd_una;
    r->snd_nxt = in.snd_nxt;
    r->snd_max = in.snd_max;
    r->snd_wnd = in.snd_wnd;
    r->cwnd = in.cwnd;
    r->ssthresh = in.ssthresh;
    r->flight = in.flight;
    r->sacked = in.sacked;
    r->lost = in.lost;
    r->backoff = in.backoff;
    r->srtt = in.srtt;
    r->rttvar = in.rttvar;
    r->rto = in.rto;
}

/* ---- formatting ---------------------------------------------------------------------- */

static const char digits2[] = "00010203040506070809101112131415161718192021222324252627282930313233"
                              "34353637383940414243444546474849505152535455565758596061626364656667"
                              "6869707172737475767778798081828384858687888990919293949596979899";

/* Decimal digits four at a time from a table of "0000".."9999" (made once): numbers are
 * most of a row's work, about twenty a row and millions of rows. */
static char digits4[10001][4]; /* one spare: put_small reads 4 bytes from its entry */

static void digits4_init(void)
{
    if (digits4[1][3]) return;
    for (int i = 0; i < 10000; i++) {
        digits4[i][0] = (char)('0' + i / 1000);
        digits4[i][1] = (char)('0' + i / 100 % 10);
        digits4[i][2] = (char)('0' + i / 10 % 10);
        digits4[i][3] = (char)('0' + i % 10);
    }
}

/* 0..9999 without leading zeros. */
static char *put_small(char *p, uint32_t v)
{
    unsigned n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : 4;
    memcpy(p, digits4[v] + 4 - n, 4); /* 4 bytes always: the buffer has room */
    return p + n;
}

static char *put_u32(char *p, uint32_t v)
{
    if (v < 10000) return put_small(p, v);
    if (v < 100000000) {
        p = put_small(p, v / 10000);
        memcpy(p, digits4[v % 10000], 4);
        return p + 4;
    }
    p = put_small(p, v / 100000000);
    memcpy(p, digits4[v / 10000 % 10000], 4);
    memcpy(p + 4, digits4[v % 10000], 4);
    return p + 8;
}

static char *put_u64(char *p, uint64_t v)
{
    if (v <= UINT32_MAX) return put_u32(p, (uint32_t)v);
    p = put_u64(p, v / 1000000000u);
    uint32_t low = (uint32_t)(v % 1000000000u);
    for (uint32_t d = 100000000u; d; d /= 10) *p++ = (char)('0' + low / d % 10);
    return p;
}

static char *put_str(char *p, const char *s)
{
    while (*s) *p++ = *s++; /* short names: a call to memcpy costs more */
    return p;
}

/* Seconds with six decimals: virtual time is exact to the µs. */
static char *put_time(char *p, ts_time_t t)
{
    p = put_u64(p, t / TS_SEC);
    *p++ = '.';
    uint32_t us = (uint32_t)(t % TS_SEC);
    for (int i = 2; i >= 0; i--, us /= 100) {
        p[2 * i] = digits2[us % 100 * 2];
        p[2 * i + 1] = digits2[us % 100 * 2 + 1];
    }
    return p + 6;
}

static char *put_ep(char *p, ts_endpoint ep)
{
    for (int i = 3; i >= 0; i--) {
        p = put_u64(p, (ep.addr >> (8 * i)) & 255);
        *p++ = i ? '.' : ':';
    }
    return put_u64(p, ep.port);
}

/* A string cell: host names come from a scenario or the command line, so escape what
 * could break a line (CSV: quote the cell; JSON: always quoted), bounded to 64 bytes. */
static char *put_text(char *p, const char *s, ts_series_format fmt)
{
    bool quote = fmt == TS_SERIES_JSONL || strpbrk(s, ",\"\n\r") != NULL;
    if (quote) *p++ = '"';
    for (size_t i = 0; s[i] && i < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') *p++ = fmt == TS_SERIES_CSV ? '"' : '\\';
        if (c == '\\' && fmt == TS_SERIES_JSONL) *p++ = '\\';
        *p++ = c < 0x20 ? '?' : (char)c;
    }
    if (quote) *p++ = '"';
    return p;
}

#define VARS_BEGIN offsetof(ts_series_row, known)
#define VARS_SIZE  (offsetof(ts_series_row, rto) + sizeof(ts_time_t) - VARS_BEGIN)

/* What repeats from row to row, formatted once: the host's cell and the connection's
 * address cells (events come in runs on one connection). */
typedef struct fmt_slot {
    ts_conn_id conn;
    size_t conn_len;
    char conn_txt[96];
    bool vars_ok;
    size_t vars_len;
    char vars[VARS_SIZE]; /* the row's variables, and their cells as text */
    char vars_txt[512];
} fmt_slot;

/* One slot per (host, connection), hashed: the two ends of a transfer alternate. */
#define FMT_SLOTS 8
typedef struct fmt_cache {
    const char *host;
    size_t host_len;
    char host_txt[160];
    fmt_slot slot[FMT_SLOTS];
} fmt_cache;

static fmt_slot *slot_of(fmt_cache *fc, const ts_series_row *r)
{
    if (!fc) return NULL;
    uintptr_t h = (uintptr_t)r->host >> 3;
    return &fc->slot[(h * 31 + r->conn.id) % FMT_SLOTS];
}

typedef struct cols {
    char *p;
    ts_series_format fmt;
    int n;
    fmt_cache *fc; /* NULL: format everything */
} cols;

static char *put_bytes(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static const char *const col_names[] = {
    "time_s",  "host",      "conn",    "local",    "remote",   "event",    "detail",
    "seg_seq", "seg_ack",   "seg_len", "state",    "ca_state", "snd_una",  "snd_nxt",
    "snd_max", "snd_wnd",   "cwnd",    "ssthresh", "flight",   "sacked",   "lost",
    "srtt_us", "rttvar_us", "rto_us",  "backoff",  "rtt_us",   "timer_us",
};
#define NCOLS (sizeof col_names / sizeof col_names[0])

/* Start the next cell: the separator and, for JSON, the key. */
static void next(cols *c)
{
    if (c->fmt == TS_SERIES_CSV) {
        if (c->n) *c->p++ = ',';
    } else {
        *c->p++ = c->n ? ',' : '{';
        *c->p++ = '"';
        c->p = put_str(c->p, col_names[c->n]);
        *c->p++ = '"';
        *c->p++ = ':';
    }
    c->n++;
}

static void cell_none(cols *c)
{
    next(c);
    if (c->fmt == TS_SERIES_JSONL) c->p = put_str(c->p, "null");
}

static void cell_u64(cols *c, bool have, uint64_t v)
{
    if (!have) return cell_none(c);
    next(c);
    c->p = put_u64(c->p, v);
}

static void cell_text(cols *c, const char *s)
{
    if (!s || !*s) return cell_none(c);
    next(c);
    c->p = put_text(c->p, s, c->fmt);
}

/* A name of the stack's own (state, event, timer): never needs escaping. */
static void cell_name(cols *c, const char *s)
{
    if (!s || !*s) return cell_none(c);
    next(c);
    if (c->fmt == TS_SERIES_JSONL) *c->p++ = '"';
    c->p = put_str(c->p, s);
    if (c->fmt == TS_SERIES_JSONL) *c->p++ = '"';
}

static void cell_ep(cols *c, bool have, ts_endpoint ep)
{
    if (!have) return cell_none(c);
    next(c);
    if (c->fmt == TS_SERIES_JSONL) *c->p++ = '"';
    c->p = put_ep(c->p, ep);
    if (c->fmt == TS_SERIES_JSONL) *c->p++ = '"';
}

static void cell_host(cols *c, const char *host)
{
    fmt_cache *fc = c->fc;
    if (!fc || !host) return cell_text(c, host);
    char *start = c->p;
    if (fc->host == host) {
        c->p = put_bytes(c->p, fc->host_txt, fc->host_len);
        c->n++;
        return;
    }
    cell_text(c, host);
    fc->host = host;
    fc->host_len = (size_t)(c->p - start);
    memcpy(fc->host_txt, start, fc->host_len);
}

/* conn, local, remote */
static void cells_conn(cols *c, const ts_conn_id *id, fmt_slot *fc)
{
    if (fc && fc->conn_len && fc->conn.id == id->id && fc->conn.local.addr == id->local.addr &&
        fc->conn.local.port == id->local.port && fc->conn.remote.addr == id->remote.addr &&
        fc->conn.remote.port == id->remote.port) {
        c->p = put_bytes(c->p, fc->conn_txt, fc->conn_len);
        c->n += 3;
        return;
    }
    char *start = c->p;
    cell_u64(c, id->id != 0, id->id);
    cell_ep(c, id->id != 0, id->local);
    cell_ep(c, id->id != 0, id->remote);
    if (fc) {
        fc->conn = *id;
        fc->conn_len = (size_t)(c->p - start);
        memcpy(fc->conn_txt, start, fc->conn_len);
    }
}

/* The detail cell: what kind of timer, retransmission or drop; the state left; the flags.
 * NULL when there is none. fl: 8 bytes for the flags. */
static const char *detail_text(const ts_series_row *r, char *fl)
{
    switch (r->event) {
    case TS_EV_SEG_IN:
    case TS_EV_SEG_OUT: return r->has_seg ? ts_view_flags(r->flags, fl) : NULL;
    case TS_EV_STATE: return ts_state_name((ts_state)r->d1);
    case TS_EV_TIMER_SET:
    case TS_EV_TIMER_FIRE:
    case TS_EV_TIMER_CANCEL: return ts_timer_name((ts_timer_kind)r->d1);
    case TS_EV_RETRANSMIT:
        return r->d1 < sizeof rexmit_names / sizeof *rexmit_names ? rexmit_names[r->d1] : NULL;
    case TS_EV_DROP: return ts_drop_reason_name((ts_drop_reason)r->d1);
    default: return NULL;
    }
}

static const char *event_name(const ts_series_row *r)
{
    return r->event < sizeof event_names / sizeof *event_names ? event_names[r->event] : NULL;
}

static void cells_vars(cols *c, const ts_series_row *r, fmt_slot *fc);

static char *csv_u32(char *p, bool have, uint32_t v)
{
    *p++ = ',';
    return have ? put_u32(p, v) : p;
}

static char *csv_u64(char *p, bool have, uint64_t v)
{
    *p++ = ',';
    return have ? put_u64(p, v) : p;
}

static char *csv_name(char *p, const char *s)
{
    *p++ = ',';
    return s ? put_str(p, s) : p;
}

/* state .. backoff as CSV cells, each with its leading comma. */
static char *vars_csv(char *p, const ts_series_row *r)
{
    bool k = r->known, rtt = k && (r->srtt || r->rttvar);
    p = csv_name(p, k ? ts_state_name((ts_state)r->state) : NULL);
    p = csv_name(p, k ? ts_ca_state_name((ts_ca_state)r->ca_state) : NULL);
    p = csv_u32(p, k, r->snd_una);
    p = csv_u32(p, k, r->snd_nxt);
    p = csv_u32(p, k, r->snd_max);
    p = csv_u32(p, k, r->snd_wnd);
    p = csv_u32(p, k, r->cwnd);
    p = csv_u32(p, k && r->ssthresh != UINT32_MAX, r->ssthresh);
    p = csv_u32(p, k, r->flight);
    p = csv_u32(p, k, r->sacked);
    p = csv_u32(p, k, r->lost);
    p = csv_u64(p, rtt, r->srtt);
    p = csv_u64(p, rtt, r->rttvar);
    p = csv_u64(p, k, r->rto);
    return csv_u32(p, k, r->backoff);
}

/* The CSV row written straight, the repeating parts copied from the cache: the hot path
 * of a series run. The same bytes as format_row's general path. */
static size_t format_csv(const ts_series_row *r, char *buf, fmt_cache *fc)
{
    cols c = {put_time(buf, r->t), TS_SERIES_CSV, 1, fc};
    cell_host(&c, r->host);
    fmt_slot *slot = slot_of(fc, r);
    cells_conn(&c, &r->conn, slot);
    char fl[8], *p = c.p;
    p = csv_name(p, event_name(r));
    p = csv_name(p, detail_text(r, fl));
    p = csv_u32(p, r->has_seg, r->seg_seq);
    p = csv_u32(p, r->has_seg && r->has_ack, r->seg_ack);
    p = csv_u32(p, r->has_seg, r->seg_len);
    c.p = p;
    c.n = 10;
    cells_vars(&c, r, slot);
    p = csv_u64(c.p, r->event == TS_EV_RTT_SAMPLE, r->sample);
    p = csv_u64(p, r->event == TS_EV_TIMER_SET, r->timer);
    *p++ = '\n';
    return (size_t)(p - buf);
}

static size_t format_row(const ts_series_row *r, ts_series_format fmt, char *buf, fmt_cache *fc)
{
    digits4_init();
    cols c = {buf, fmt, 0, fc};
    next(&c);
    c.p = put_time(c.p, r->t);
    cell_host(&c, r->host);
    fmt_slot *slot = slot_of(fc, r);
    cells_conn(&c, &r->conn, slot);
    char fl[8];
    cell_name(&c, event_name(r));
    cell_name(&c, detail_text(r, fl));
    cell_u64(&c, r->has_seg, r->seg_seq);
    cell_u64(&c, r->has_seg && r->has_ack, r->seg_ack);
    cell_u64(&c, r->has_seg, r->seg_len);
    cells_vars(&c, r, slot);
    cell_u64(&c, r->event == TS_EV_RTT_SAMPLE, r->sample);
    cell_u64(&c, r->event == TS_EV_TIMER_SET, r->timer);
    if (fmt == TS_SERIES_JSONL) *c.p++ = '}';
    *c.p++ = '\n';
    return (size_t)(c.p - buf);
}

/* state .. backoff: the connection's variables, as the last row wrote them when they
 * have not changed (timer rows, most of a bulk run's, change nothing). */
static void cells_vars(cols *c, const ts_series_row *r, fmt_slot *fc)
{
    const char *key = (const char *)r + VARS_BEGIN;
    if (fc && fc->vars_ok && !memcmp(fc->vars, key, VARS_SIZE)) {
        c->p = put_bytes(c->p, fc->vars_txt, fc->vars_len);
        c->n += 15;
        return;
    }
    char *start = c->p;
    bool k = r->known;
    if (c->fmt == TS_SERIES_CSV) {
        c->p = vars_csv(c->p, r);
        c->n += 15;
        goto keep;
    }
    cell_name(c, k ? ts_state_name((ts_state)r->state) : NULL);
    cell_name(c, k ? ts_ca_state_name((ts_ca_state)r->ca_state) : NULL);
    cell_u64(c, k, r->snd_una);
    cell_u64(c, k, r->snd_nxt);
    cell_u64(c, k, r->snd_max);
    cell_u64(c, k, r->snd_wnd);
    cell_u64(c, k, r->cwnd);
    cell_u64(c, k && r->ssthresh != UINT32_MAX, r->ssthresh); /* unset: infinite */
    cell_u64(c, k, r->flight);
    cell_u64(c, k, r->sacked);
    cell_u64(c, k, r->lost);
    bool rtt = k && (r->srtt || r->rttvar); /* no RTT sample yet: unknown */
    cell_u64(c, rtt, r->srtt);
    cell_u64(c, rtt, r->rttvar);
    cell_u64(c, k, r->rto);
    cell_u64(c, k, r->backoff);
keep:
    if (fc) {
        memcpy(fc->vars, key, VARS_SIZE);
        fc->vars_len = (size_t)(c->p - start);
        memcpy(fc->vars_txt, start, fc->vars_len);
        fc->vars_ok = true;
    }
}

size_t ts_series_format_row(const ts_series_row *r, ts_series_format fmt, char *buf)
{
    return format_row(r, fmt, buf, NULL);
}

const char *ts_series_header(ts_series_format fmt)
{
    static char csv[512];
    if (fmt != TS_SERIES_CSV) return "";
    if (!csv[0]) {
        char *p = csv;
        for (size_t i = 0; i < NCOLS; i++) {
            if (i) *p++ = ',';
            p = put_str(p, col_names[i]);
        }
        *p++ = '\n';
        *p = '\0';
    }
    return csv;
}

int ts_series_format_from_name(const char *path, ts_series_format *out)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) return -1;
    if (!strcasecmp(dot, ".csv")) {
        *out = TS_SERIES_CSV;
        return 0;
    }
    if (!strcasecmp(dot, ".jsonl") || !strcasecmp(dot, ".ndjson") || !strcasecmp(dot, ".json")) {
        *out = TS_SERIES_JSONL;
        return 0;
    }
    return -1;
}

/* ---- a formatter with memory -------------------------------------------------------- */

struct ts_series_fmt {
    ts_series_format fmt;
    fmt_cache fc;
};

ts_series_fmt *ts_series_fmt_new(ts_series_format fmt)
{
    ts_series_fmt *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->fmt = fmt;
    digits4_init();
    return f;
}

void ts_series_fmt_free(ts_series_fmt *f)
{
    free(f);
}

size_t ts_series_fmt_row(ts_series_fmt *f, const ts_series_row *r, char *buf)
{
    return f->fmt == TS_SERIES_CSV ? format_csv(r, buf, &f->fc)
                                   : format_row(r, f->fmt, buf, &f->fc);
}
