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

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Sequence, ACK, flags and payload length of a TCP/IPv4 packet; false if it is none. This
 * runs for every segment of a series run, so it reads the four fields straight, after the
 * same structural checks as wire.c's ts_ip4_view_parse and ts_tcp_view_parse (length,
 * version, IHL, total length, protocol, data offset), in the same order; the wire parse
 * (two views cleared and filled) costs ten times as much. A packet longer than the bytes
 * at hand counts what is there. tests/unit/test_tools_view_series.c checks it against the
 * wire parse on corrupted packets. */
static bool parse_seg(ts_series_row *r, const uint8_t *pkt, size_t len)
{
    if (!pkt || len < TS_IP4_HLEN || pkt[0] >> 4 != 4) return false;
    size_t hlen = (size_t)(pkt[0] & 15) * 4;
    size_t tot = (size_t)pkt[2] << 8 | pkt[3];
    if (hlen < TS_IP4_HLEN || hlen > len || tot < hlen || pkt[9] != TS_IPPROTO_TCP) return false;
    size_t seglen = (tot < len ? tot : len) - hlen;
    const uint8_t *th = pkt + hlen;
    if (seglen < TS_TCP_HLEN) return false;
    size_t thl = (size_t)(th[12] >> 4) * 4;
    if (thl < TS_TCP_HLEN || thl > seglen) return false;
    r->seg_seq = get32(th + 4);
    r->seg_ack = get32(th + 8);
    r->flags = th[13] & 0x1f;
    r->has_ack = (th[13] & TS_TH_ACK) != 0;
    r->seg_len = (uint32_t)(seglen - thl);
    return true;
}

bool ts_series_parse_seg(const uint8_t *pkt, size_t len, uint32_t *seq, uint32_t *ack,
                         uint8_t *flags, uint32_t *seglen)
{
    ts_series_row r;
    if (!parse_seg(&r, pkt, len)) return false;
    *seq = r.seg_seq;
    *ack = r.seg_ack;
    *flags = r.flags;
    *seglen = r.seg_len;
    return true;
}

/* The event's own fields; every one the formatter may read is written (no clearing of
 * the whole row first: this runs millions of times). */
static void fill_event(ts_series_row *r, const ts_event *ev)
{
    r->d1 = r->d2 = r->flags = 0;
    r->has_seg = r->has_ack = false;
    r->seg_seq = r->seg_ack = r->seg_len = 0;
    r->sample = r->timer = 0;
    switch (ev->type) {
    case TS_EV_SEG_IN:
    case TS_EV_SEG_OUT:
        r->has_seg = parse_seg(r, ev->u.seg.pkt, ev->u.seg.len); /* none written if not */
        break;
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

/* srtt .. backoff lie in ts_conn_vars as in the row: copied as one block. */
#define VARS_NUMBERS (offsetof(ts_conn_vars, backoff) + sizeof(uint32_t))
_Static_assert(offsetof(ts_conn_vars, srtt) == 0 &&
                   offsetof(ts_series_row, backoff) - offsetof(ts_series_row, srtt) ==
                       offsetof(ts_conn_vars, backoff) &&
                   offsetof(ts_series_row, snd_una) - offsetof(ts_series_row, srtt) ==
                       offsetof(ts_conn_vars, snd_una) &&
                   offsetof(ts_series_row, cwnd) - offsetof(ts_series_row, srtt) ==
                       offsetof(ts_conn_vars, cwnd) &&
                   offsetof(ts_series_row, rto) - offsetof(ts_series_row, srtt) ==
                       offsetof(ts_conn_vars, rto),
               "ts_conn_vars and the row's variables in the same order");

void ts_series_fill(ts_series_row *r, ts_stack *s, const char *host, const ts_event *ev,
                    ts_time_t t0)
{
    r->t = ev->now >= t0 ? ev->now - t0 : 0;
    r->host = host;
    r->conn = ev->conn;
    r->event = (uint8_t)ev->type;
    fill_event(r, ev);
    ts_conn_vars in;
    if (!s || !ev->conn.id || ts_stack_conn_vars(s, ev->conn.id, &in) < 0) {
        memset((char *)r + offsetof(ts_series_row, srtt), 0,
               sizeof *r - offsetof(ts_series_row, srtt));
        return;
    }
    memcpy(&r->srtt, &in.srtt, VARS_NUMBERS); /* one block copy: this runs per event */
    r->known = true;
    r->state = (uint8_t)in.state;
    r->ca_state = (uint8_t)in.ca_state;
    r->spare = 0;
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

#define VARS_BEGIN TS_SERIES_VARS_BEGIN
#define VARS_SIZE  TS_SERIES_VARS_SIZE

/* What repeats from row to row, formatted once: the host's cell and the connection's
 * address cells (events come in runs on one connection). */
/* One variable's CSV cell as last written: its value and text, comma first. */
typedef struct var_cell {
    uint64_t v;
    bool have; /* false: the cell is empty */
    uint8_t len;
    char txt[22]; /* ",18446744073709551615" at most */
} var_cell;
#define NVARS 15

typedef struct fmt_slot {
    const char *host; /* the slot's (host, connection id): it serves their rows */
    uint32_t id;
    uint64_t used;  /* when it last served a row: the older of two is taken over */
    size_t pre_len; /* ",host,conn,local,remote" as last written (CSV) */
    const char *pre_host;
    ts_conn_id pre_conn;
    char pre_txt[256];
    ts_conn_id conn;
    size_t conn_len;
    char conn_txt[96];
    bool vars_ok;
    size_t vars_len;
    char vars[VARS_SIZE]; /* the row's variables, and their cells as text */
    char vars_txt[512];   /* at most 480 used (about 200 needed): as pre_txt */
    bool cells_ok;        /* cell[] holds the last CSV row's variables */
    var_cell cell[NVARS];
} fmt_slot;

/* One slot per (host, connection), the least recently used taken over: the two ends of a
 * transfer alternate, and must not take each other's slot. */
#define FMT_SLOTS 16
/* The CSV cells ",event,detail" for one (event, detail key) pair, made on first use. */
typedef struct evdet_cell {
    uint8_t len; /* 0: not made yet */
    char txt[31];
} evdet_cell;
#define EVDET_EVENTS 12 /* the event names */
#define EVDET_KEYS   64 /* segments: the flags (0..31) or 32 for none; else d1 */

typedef struct fmt_cache {
    const char *host;
    size_t host_len;
    char host_txt[160];
    bool sec_ok;
    ts_time_t sec_base; /* the whole second of the last row's time, in µs */
    size_t sec_len;
    char sec_txt[24]; /* its text and the decimal point */
    uint64_t clock;   /* rows formatted */
    fmt_slot slot[FMT_SLOTS];
    fmt_slot *last; /* the slot of the last row */
    evdet_cell evdet[EVDET_EVENTS][EVDET_KEYS];
} fmt_cache;

static fmt_slot *slot_of(fmt_cache *fc, const ts_series_row *r)
{
    if (!fc) return NULL;
    /* Looked up by value, not by a hash of the host's address: that moves from run to run
     * (ASLR), and two ends sharing a slot would make every row of both a miss. A bulk run
     * has two or three (host, connection) pairs, found in the first places looked at. */
    fmt_slot *last = fc->last; /* events come in runs on one connection */
    if (last && last->host == r->host && last->id == r->conn.id) {
        last->used = ++fc->clock;
        return last;
    }
    fmt_slot *victim = &fc->slot[0];
    for (fmt_slot *q = fc->slot; q < fc->slot + FMT_SLOTS; q++) {
        if (q->host == r->host && q->id == r->conn.id && q->used) {
            q->used = ++fc->clock;
            return fc->last = q;
        }
        if (q->used < victim->used) victim = q;
    }
    /* every cache in a slot is keyed by what it holds: taking one over is safe */
    victim->host = r->host;
    victim->id = r->conn.id;
    victim->used = ++fc->clock;
    return fc->last = victim;
}

static bool conn_eq(const ts_conn_id *a, const ts_conn_id *b)
{
    return a->id == b->id && a->local.addr == b->local.addr && a->local.port == b->local.port &&
           a->remote.addr == b->remote.addr && a->remote.port == b->remote.port;
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
    if (fc && fc->conn_len && conn_eq(&fc->conn, id)) {
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

/* Seconds with six decimals, the whole seconds' text reused while they stay the same. */
static char *put_time_cached(char *p, ts_time_t t, fmt_cache *fc)
{
    if (!fc->sec_ok || t < fc->sec_base || t - fc->sec_base >= TS_SEC) {
        fc->sec_base = t - t % TS_SEC;
        char *q = put_u64(fc->sec_txt, t / TS_SEC);
        *q++ = '.';
        fc->sec_len = (size_t)(q - fc->sec_txt);
        fc->sec_ok = true;
    }
    memcpy(p, fc->sec_txt, sizeof fc->sec_txt); /* the buffer has room: TS_SERIES_LINE_MAX */
    p += fc->sec_len;
    uint32_t us = (uint32_t)(t - fc->sec_base);
    memcpy(p, digits4[us / 100], 4);
    memcpy(p + 4, digits2 + us % 100 * 2, 2);
    return p + 6;
}

/* ",event,detail": copied from the cache once made (a few dozen pairs occur in a run). */
static char *put_evdet(char *p, const ts_series_row *r, fmt_cache *fc)
{
    bool seg = r->event == TS_EV_SEG_IN || r->event == TS_EV_SEG_OUT;
    unsigned key = seg ? (r->has_seg ? r->flags & 31u : 32u) : r->d1;
    evdet_cell *e = r->event < EVDET_EVENTS && key < EVDET_KEYS ? &fc->evdet[r->event][key] : NULL;
    if (e && e->len) {
        memcpy(p, e->txt, sizeof e->txt);
        return p + e->len;
    }
    char fl[8], *start = p;
    p = csv_name(p, event_name(r));
    p = csv_name(p, detail_text(r, fl));
    if (e && p - start <= (ptrdiff_t)sizeof e->txt) {
        memcpy(e->txt, start, (size_t)(p - start));
        e->len = (uint8_t)(p - start);
    }
    return p;
}

int ts_series_rows_from_name(const char *name, ts_series_rows *out)
{
    if (!strcmp(name, "changes"))
        *out = TS_SERIES_CHANGES;
    else if (!strcmp(name, "all"))
        *out = TS_SERIES_ALL;
    else
        return -1;
    return 0;
}

/* One variable's cell: its text made again only when its value changed. */
static char *put_var(char *p, var_cell *c, bool fresh, bool have, uint64_t v, const char *name)
{
    if (fresh || c->have != have || c->v != v) {
        char *q = c->txt;
        *q++ = ',';
        if (have) q = name ? put_str(q, name) : put_u64(q, v);
        c->len = (uint8_t)(q - c->txt);
        c->have = have;
        c->v = v;
    }
    memcpy(p, c->txt, sizeof c->txt); /* the buffer has room: TS_SERIES_LINE_MAX */
    return p + c->len;
}

/* state .. backoff: the whole block's text when nothing changed since the connection's
 * last row (timer rows, most of a bulk run's), else cell by cell, each made again only
 * when it changed (an ACK moves snd_una and flight, rarely the rest). The same bytes as
 * vars_csv. */
static char *vars_csv_cached(char *p, const ts_series_row *r, fmt_slot *fs)
{
    const char *key = (const char *)r + VARS_BEGIN;
    if (fs->vars_ok && ts_series_vars_same(fs->vars, key))
        return put_bytes(p, fs->vars_txt, fs->vars_len);
    bool k = r->known, rtt = k && (r->srtt || r->rttvar), f = !fs->cells_ok;
    var_cell *c = fs->cell;
    char *start = p;
    const char *st = k ? ts_state_name((ts_state)r->state) : NULL;
    const char *ca = k ? ts_ca_state_name((ts_ca_state)r->ca_state) : NULL;
    p = put_var(p, &c[0], f, st != NULL, r->state, st ? st : "");
    p = put_var(p, &c[1], f, ca != NULL, r->ca_state, ca ? ca : "");
    p = put_var(p, &c[2], f, k, r->snd_una, NULL);
    p = put_var(p, &c[3], f, k, r->snd_nxt, NULL);
    p = put_var(p, &c[4], f, k, r->snd_max, NULL);
    p = put_var(p, &c[5], f, k, r->snd_wnd, NULL);
    p = put_var(p, &c[6], f, k, r->cwnd, NULL);
    p = put_var(p, &c[7], f, k && r->ssthresh != UINT32_MAX, r->ssthresh, NULL);
    p = put_var(p, &c[8], f, k, r->flight, NULL);
    p = put_var(p, &c[9], f, k, r->sacked, NULL);
    p = put_var(p, &c[10], f, k, r->lost, NULL);
    p = put_var(p, &c[11], f, rtt, r->srtt, NULL);
    p = put_var(p, &c[12], f, rtt, r->rttvar, NULL);
    p = put_var(p, &c[13], f, k, r->rto, NULL);
    p = put_var(p, &c[14], f, k, r->backoff, NULL);
    fs->cells_ok = true;
    memcpy(fs->vars, key, VARS_SIZE);
    fs->vars_len = (size_t)(p - start);
    fs->vars_ok = fs->vars_len <= sizeof fs->vars_txt;
    if (fs->vars_ok) memcpy(fs->vars_txt, start, fs->vars_len);
    return p;
}

/* The CSV row written straight, the repeating parts copied from the cache: the hot path
 * of a series run. The same bytes as format_row's general path. */
static size_t format_csv(const ts_series_row *r, char *buf, fmt_cache *fc)
{
    char *p = put_time_cached(buf, r->t, fc);
    fmt_slot *slot = slot_of(fc, r);
    if (slot->pre_len && slot->pre_host == r->host && conn_eq(&slot->pre_conn, &r->conn)) {
        p = put_bytes(p, slot->pre_txt, slot->pre_len);
    } else {
        cols c = {p, TS_SERIES_CSV, 1, fc};
        cell_host(&c, r->host);
        cells_conn(&c, &r->conn, slot);
        size_t n = (size_t)(c.p - p);
        slot->pre_len = n <= sizeof slot->pre_txt ? n : 0; /* 0: not kept */
        memcpy(slot->pre_txt, p, slot->pre_len);
        slot->pre_host = r->host;
        slot->pre_conn = r->conn;
        p = c.p;
    }
    p = put_evdet(p, r, fc);
    p = csv_u32(p, r->has_seg, r->seg_seq);
    p = csv_u32(p, r->has_seg && r->has_ack, r->seg_ack);
    p = csv_u32(p, r->has_seg, r->seg_len);
    p = vars_csv_cached(p, r, slot);
    p = csv_u64(p, r->event == TS_EV_RTT_SAMPLE, r->sample);
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
