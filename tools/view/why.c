/* why.c: the packet explainer (why.h). It keeps a little memory per connection: when each
 * timer was armed, which timer just fired, a fast retransmission announced just before its
 * packet, how many RTO or SYN retransmissions in a row, the highest ACK received and the
 * highest sequence sent. A SEG_OUT is then explained by what came just before it:
 * - RETRANSMIT of kind fast or partial: the stack announces these before sending;
 * - TIMER_FIRE at the same instant: the timer's send (RTO, SYN, delayed ACK, probes, TLP),
 *   with the interval since that timer was armed (TIMER_SET);
 * - SEG_OUT's own why (challenge ACK).
 * RTO, SYN and probe RETRANSMIT events come after their packet; they only correct the
 * count. The memory is an open-addressing hash on the connection id (no scan of every
 * connection per event); a connection's slot goes with its CONN_FREE. */
#include "why.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpsim/wire.h"

#define WHY_LEN 160

typedef struct why_conn {
    uint32_t id; /* 0: empty slot */
    ts_time_t set_at[TS_NUM_TIMERS];
    /* a timer fired at fired_at and its send (if any) is still to come */
    bool fired;
    ts_timer_kind fired_kind;
    ts_time_t fired_at, fired_after;
    /* a fast or partial-ACK retransmission announced for the next packet */
    bool rexmit;
    ts_rexmit_kind rexmit_kind;
    ts_time_t rexmit_at; /* announced then: only a packet at that instant is it */
    ts_time_t reo_at;    /* the RACK reordering timer fired then: its retransmissions */
    bool reo;
    uint32_t rto_count, syn_count; /* retransmissions in a row, as the stack counts them */
    uint32_t keepalives;           /* keepalive probes since the last segment received */
    ts_time_t last_in;             /* when the last segment arrived (TS_TIME_NEVER: none) */
    bool acked, sent;
    uint32_t high_ack; /* highest ACK received */
    uint32_t snd_max;  /* end of the highest sequence sent */
} why_conn;

struct ts_why {
    why_conn *slot;
    size_t cap, n; /* cap a power of two, n <= cap / 2 */
    char buf[WHY_LEN];
};

ts_why *ts_why_new(void)
{
    ts_why *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->cap = 64;
    w->slot = calloc(w->cap, sizeof *w->slot);
    if (!w->slot) {
        free(w);
        return NULL;
    }
    return w;
}

void ts_why_free(ts_why *w)
{
    if (!w) return;
    free(w->slot);
    free(w);
}

/* ---- the per-connection hash ----------------------------------------------------------- */

static size_t hash_id(uint32_t id, size_t cap)
{
    return (size_t)((id * 2654435761u) & (uint32_t)(cap - 1));
}

static why_conn *find(ts_why *w, uint32_t id)
{
    for (size_t i = hash_id(id, w->cap);; i = (i + 1) & (w->cap - 1)) {
        if (w->slot[i].id == id) return &w->slot[i];
        if (w->slot[i].id == 0) return NULL;
    }
}

static void init_conn(why_conn *c, uint32_t id)
{
    memset(c, 0, sizeof *c);
    c->id = id;
    for (int k = 0; k < TS_NUM_TIMERS; k++) c->set_at[k] = TS_TIME_NEVER;
    c->last_in = TS_TIME_NEVER;
}

static bool grow(ts_why *w)
{
    size_t cap = w->cap * 2;
    why_conn *s = calloc(cap, sizeof *s);
    if (!s) return false;
    for (size_t i = 0; i < w->cap; i++) {
        if (!w->slot[i].id) continue;
        size_t j = hash_id(w->slot[i].id, cap);
        while (s[j].id) j = (j + 1) & (cap - 1);
        s[j] = w->slot[i];
    }
    free(w->slot);
    w->slot = s;
    w->cap = cap;
    return true;
}

/* The connection's memory, made on first sight; NULL only when memory ran out. */
static why_conn *get(ts_why *w, uint32_t id)
{
    why_conn *c = find(w, id);
    if (c) return c;
    if ((w->n + 1) * 2 > w->cap && !grow(w)) return NULL;
    size_t i = hash_id(id, w->cap);
    while (w->slot[i].id) i = (i + 1) & (w->cap - 1);
    init_conn(&w->slot[i], id);
    w->n++;
    return &w->slot[i];
}

/* Remove with backward shift, so lookups never need tombstones. */
static void drop(ts_why *w, uint32_t id)
{
    why_conn *c = find(w, id);
    if (!c) return;
    size_t mask = w->cap - 1, i = (size_t)(c - w->slot);
    for (size_t j = (i + 1) & mask; w->slot[j].id; j = (j + 1) & mask) {
        size_t home = hash_id(w->slot[j].id, w->cap);
        /* slot j may move to the hole at i if its home is not in (i, j] cyclically */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays) continue;
        w->slot[i] = w->slot[j];
        i = j;
    }
    w->slot[i].id = 0;
    w->n--;
}

/* ---- reading the packet ---------------------------------------------------------------- */

typedef struct tcp_view {
    bool ok;
    uint8_t flags;
    uint32_t seq, ack, len; /* len: payload bytes */
} tcp_view;

/* The segment's numbers through the wire layer; a packet longer than the bytes at hand
 * (TS_WIRE_IP_TOTLEN with the view filled) counts what is there. */
static tcp_view parse(const uint8_t *pkt, size_t len)
{
    tcp_view v = {0};
    ts_ip4_view ip;
    ts_wire_err e = ts_ip4_view_parse(&ip, pkt, len);
    if ((e != TS_WIRE_OK && !(e == TS_WIRE_IP_TOTLEN && ip.hdr)) || ip.proto != TS_IPPROTO_TCP)
        return v;
    ts_tcp_view th;
    if (ts_tcp_view_parse(&th, ip.payload, ip.payload_len) != TS_WIRE_OK) return v;
    v.ok = true;
    v.seq = th.seq;
    v.ack = th.ack;
    v.flags = th.flags;
    v.len = (uint32_t)th.len;
    return v;
}

static bool seq_gt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

/* ---- sentences ------------------------------------------------------------------------- */

/* "40 ms", "4 s", "1.5 s", "201.5 ms", "300 us". */
static const char *dur(ts_time_t t, char *buf, size_t len)
{
    const char *unit = "us";
    double v = (double)t;
    if (t >= TS_SEC)
        v /= TS_SEC, unit = "s";
    else if (t >= TS_MSEC)
        v /= TS_MSEC, unit = "ms";
    snprintf(buf, len, "%.3f", v);
    char *e = buf + strlen(buf) - 1;
    while (*e == '0') *e-- = '\0';
    if (*e == '.') *e = '\0';
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, " %s", unit);
    return buf;
}

static const char *say(ts_why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *say(ts_why *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->buf, sizeof w->buf, fmt, ap);
    va_end(ap);
    return w->buf;
}

/* The packet a timer sent: which timer, and how long it had run. */
static const char *timer_sentence(ts_why *w, why_conn *c, const tcp_view *v, ts_time_t now)
{
    char d[32], idle[32];
    dur(c->fired_after, d, sizeof d);
    bool pure = v->len == 0 && !(v->flags & (TS_TH_SYN | TS_TH_FIN | TS_TH_RST));
    switch (c->fired_kind) {
    case TS_TIMER_RETRANSMIT:
        if (v->flags & TS_TH_SYN)
            return say(w, "%s retransmission #%u, rto %s",
                       (v->flags & TS_TH_ACK) ? "SYN-ACK" : "SYN", ++c->syn_count, d);
        if (pure) return say(w, "zero-window probe (the window shrank to zero), after %s", d);
        return say(w, "RTO retransmission #%u, rto %s", ++c->rto_count, d);
    case TS_TIMER_DELACK:
        if (pure) return say(w, "delayed ACK timer fired after %s", d);
        return NULL;
    case TS_TIMER_PERSIST:
        if (pure) return say(w, "zero-window probe, persist timer fired after %s", d);
        return say(w,
                   "persist timer fired after %s: sending into the small window "
                   "(RFC 1122 4.2.3.4)",
                   d);
    case TS_TIMER_KEEPALIVE:
        if (v->flags & TS_TH_RST) return "keepalive: no answer to the probes, connection reset";
        if (c->last_in == TS_TIME_NEVER) return say(w, "keepalive probe #%u", ++c->keepalives);
        return say(w, "keepalive probe #%u, idle %s", ++c->keepalives,
                   dur(now - c->last_in, idle, sizeof idle));
    case TS_TIMER_TLP:
        if (seq_gt(v->seq + v->len, c->snd_max) || !c->sent)
            return say(w, "tail loss probe (new data), pto %s (RFC 8985)", d);
        return say(w, "tail loss probe (the last segment again), pto %s (RFC 8985)", d);
    default: return NULL;
    }
}

static const char *rexmit_sentence(const why_conn *c, ts_time_t now)
{
    if (c->reo && c->reo_at == now)
        return "RACK reordering timer: retransmission of a segment deemed lost (RFC 8985)";
    if (c->rexmit_kind == TS_REXMIT_PARTIAL)
        return "fast retransmission (NewReno partial ACK, RFC 6582)";
    return "fast retransmission";
}

static const char *seg_out(ts_why *w, why_conn *c, const ts_event *ev)
{
    tcp_view v = parse(ev->u.seg.pkt, ev->u.seg.len);
    const char *s = NULL;
    if (c->rexmit && c->rexmit_at == ev->now) {
        s = rexmit_sentence(c, ev->now);
        c->rexmit = false;
    } else if (c->fired && c->fired_at == ev->now && v.ok) {
        s = timer_sentence(w, c, &v, ev->now);
        c->fired = false;
    } else if (ev->u.seg.why) {
        s = ev->u.seg.why;
    }
    c->fired = c->rexmit = false; /* said of the first packet after them, or of none */
    if (v.ok) {
        uint32_t end =
            v.seq + v.len + ((v.flags & TS_TH_SYN) ? 1 : 0) + ((v.flags & TS_TH_FIN) ? 1 : 0);
        if (!c->sent || seq_gt(end, c->snd_max)) c->snd_max = end;
        c->sent = true;
    }
    return s;
}

static void seg_in(why_conn *c, const ts_event *ev)
{
    tcp_view v = parse(ev->u.seg.pkt, ev->u.seg.len);
    c->fired = c->rexmit = false;
    c->last_in = ev->now;
    c->keepalives = 0;
    if (!v.ok || !(v.flags & TS_TH_ACK)) return;
    if (!c->acked || seq_gt(v.ack, c->high_ack)) {
        if (c->acked) c->rto_count = 0; /* new data ACKed: the stack's count starts over */
        c->high_ack = v.ack;
        c->acked = true;
    }
}

static void rexmit(why_conn *c, const ts_event *ev)
{
    switch (ev->u.rexmit.kind) {
    case TS_REXMIT_FAST:
    case TS_REXMIT_PARTIAL: /* announced before the packet */
        c->rexmit = true;
        c->rexmit_kind = ev->u.rexmit.kind;
        c->rexmit_at = ev->now;
        if (c->fired && c->fired_kind == TS_TIMER_TLP && c->fired_at == ev->now) {
            c->reo = true;
            c->reo_at = ev->now;
        }
        break;
    case TS_REXMIT_RTO: c->rto_count = ev->u.rexmit.count; break; /* after the packet */
    case TS_REXMIT_SYN: c->syn_count = ev->u.rexmit.count; break;
    default: break;
    }
}

const char *ts_why_event(ts_why *w, const ts_event *ev)
{
    if (!w || !ev) return NULL;
    if (ev->conn.id == 0) { /* no connection: a reset for a stray segment, an ICMP reply */
        if (ev->type != TS_EV_SEG_OUT) return NULL;
        tcp_view v = parse(ev->u.seg.pkt, ev->u.seg.len);
        if (v.ok && (v.flags & TS_TH_RST))
            return "RST: no connection or listener for that segment (RFC 9293 3.10.7.1)";
        return ev->u.seg.why;
    }
    if (ev->type == TS_EV_CONN_FREE) {
        drop(w, ev->conn.id);
        return NULL;
    }
    why_conn *c = get(w, ev->conn.id);
    if (!c) return ev->type == TS_EV_SEG_OUT ? ev->u.seg.why : NULL;
    switch (ev->type) {
    case TS_EV_SEG_OUT: return seg_out(w, c, ev);
    case TS_EV_SEG_IN: seg_in(c, ev); break;
    case TS_EV_TIMER_SET:
        c->set_at[ev->u.timer.kind] = ev->now;
        /* re-armed without sending (keepalive before the idle time): nothing to explain */
        if (c->fired && c->fired_kind == ev->u.timer.kind) c->fired = false;
        break;
    case TS_EV_TIMER_FIRE: {
        ts_timer_kind k = ev->u.timer.kind;
        c->fired = true;
        c->fired_kind = k;
        c->fired_at = ev->now;
        ts_time_t set = c->set_at[k];
        c->fired_after =
            set != TS_TIME_NEVER && ev->u.timer.when >= set ? ev->u.timer.when - set : 0;
        c->set_at[k] = TS_TIME_NEVER;
        break;
    }
    case TS_EV_TIMER_CANCEL: c->set_at[ev->u.timer.kind] = TS_TIME_NEVER; break;
    case TS_EV_RETRANSMIT: rexmit(c, ev); break;
    default: break;
    }
    return NULL;
}
