/* lib_sweep_metrics.c: what a sweep measures of one run, from every stack event (sweep.h).
 * - Retransmissions by cause: each SEG_OUT is explained by the packet explainer (why.h,
 *   the same sentences as the pcapng comments), from the RETRANSMIT and TIMER_FIRE events
 *   around it; the sentence's first words name the cause.
 * - Spurious retransmissions: the simulator sees both ends, so each direction of each
 *   connection keeps the byte ranges that reached the receiving stack (its SEG_IN events).
 *   A retransmission was not needed when its bytes were all there already as it left, or
 *   when they reach the receiver twice: a copy that arrives with nothing new, while a
 *   retransmission of those bytes is outstanding (the original was only late: a spurious
 *   timeout), settles that retransmission as spurious.
 * - Backoff and RTO: the highest count of an RTO or SYN retransmission; the longest
 *   retransmission timer armed (the backed-off RTO).
 * - Time in recovery: the sender's congestion state (ts_stack_conn_info, O(1) for the
 *   connection whose event is being delivered), read at the events that can change it,
 *   and at every event of a connection while it is in recovery.
 * Per-connection and per-direction state live in open-addressing tables keyed by
 * (host, connection id) and by the 4-tuple: no scan of every connection per event. */
#include <stdlib.h>
#include <string.h>

#include "sweep.h"
#include "tcpsim/wire.h"
#include "why.h"

/* ---- a small map: a 128-bit key to an index into a payload array --------------------- */

typedef struct sw_map {
    uint64_t *k1, *k2;
    uint32_t *val; /* index + 1; 0 empty */
    size_t cap, n;
} sw_map;

static size_t sw_hash(uint64_t a, uint64_t b)
{
    uint64_t k = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull);
    k ^= k >> 31;
    k *= 0xbf58476d1ce4e5b9ull;
    return (size_t)(k ^ (k >> 29));
}

static bool map_init(sw_map *m, size_t cap)
{
    m->cap = cap;
    m->n = 0;
    m->k1 = calloc(cap, sizeof *m->k1);
    m->k2 = calloc(cap, sizeof *m->k2);
    m->val = calloc(cap, sizeof *m->val);
    return m->k1 && m->k2 && m->val;
}

static void map_free(sw_map *m)
{
    free(m->k1);
    free(m->k2);
    free(m->val);
}

/* The slot of (a, b): its value, or the empty slot where it would go. */
static size_t map_slot(const sw_map *m, uint64_t a, uint64_t b)
{
    size_t i = sw_hash(a, b) & (m->cap - 1);
    while (m->val[i] && (m->k1[i] != a || m->k2[i] != b)) i = (i + 1) & (m->cap - 1);
    return i;
}

static bool map_put(sw_map *m, uint64_t a, uint64_t b, uint32_t v)
{
    if ((m->n + 1) * 2 > m->cap) {
        sw_map g;
        if (!map_init(&g, m->cap * 2)) {
            map_free(&g);
            return false;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->val[i]) {
                size_t j = map_slot(&g, m->k1[i], m->k2[i]);
                g.k1[j] = m->k1[i], g.k2[j] = m->k2[i], g.val[j] = m->val[i];
            }
        g.n = m->n;
        map_free(m);
        *m = g;
    }
    size_t i = map_slot(m, a, b);
    if (!m->val[i]) m->n++;
    m->k1[i] = a, m->k2[i] = b, m->val[i] = v + 1;
    return true;
}

static int64_t map_get(const sw_map *m, uint64_t a, uint64_t b)
{
    size_t i = map_slot(m, a, b);
    return m->val[i] ? (int64_t)m->val[i] - 1 : -1;
}

/* ---- state ---------------------------------------------------------------------------- */

typedef struct sw_range {
    uint64_t lo, hi;
} sw_range;

/* One direction of a connection, as its receiver got it: every byte below `cum`, and the
 * ranges above it (sorted, disjoint). Offsets count from the first byte after the SYN. */
#define SW_PEND 64

typedef struct sw_dir {
    bool have_base;
    uint32_t base;
    uint64_t cum;
    sw_range *r;
    size_t nr, capr;
    sw_range pend[SW_PEND]; /* retransmissions not yet known to be needed or not */
    size_t npend;
} sw_dir;

typedef struct sw_conn {
    ts_ca_state ca;
    ts_time_t since;
    bool live;
    bool est; /* past the handshake: its retransmission timer is the data RTO */
} sw_conn;

struct ts_sweep_collect {
    size_t nhosts;
    ts_why **why; /* per host */
    sw_map dirs, conns;
    sw_dir *dir;
    size_t ndir, capdir;
    sw_conn *conn;
    size_t nconn, capconn;
    ts_sweep_metrics m;
};

ts_sweep_collect *ts_sweep_collect_new(size_t nhosts)
{
    ts_sweep_collect *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->nhosts = nhosts;
    c->why = calloc(nhosts ? nhosts : 1, sizeof *c->why);
    bool ok = c->why && map_init(&c->dirs, 16) && map_init(&c->conns, 16);
    for (size_t i = 0; ok && i < nhosts; i++) ok = (c->why[i] = ts_why_new()) != NULL;
    if (!ok) {
        ts_sweep_collect_free(c);
        return NULL;
    }
    return c;
}

void ts_sweep_collect_free(ts_sweep_collect *c)
{
    if (!c) return;
    for (size_t i = 0; c->why && i < c->nhosts; i++) ts_why_free(c->why[i]);
    free(c->why);
    for (size_t i = 0; i < c->ndir; i++) free(c->dir[i].r);
    free(c->dir);
    free(c->conn);
    map_free(&c->dirs);
    map_free(&c->conns);
    free(c);
}

static void *grow(void *arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return arr;
    size_t n = *cap ? *cap * 2 : 8;
    while (n < need) n *= 2;
    void *p = realloc(arr, n * elem);
    if (p) *cap = n;
    return p;
}

/* ---- packets and directions ------------------------------------------------------------ */

typedef struct sw_seg {
    bool ok;
    uint32_t src, dst, seq;
    uint16_t sport, dport;
    uint8_t flags;
    uint32_t len;
} sw_seg;

static sw_seg seg_of(const ts_event *ev)
{
    sw_seg g = {0};
    ts_ip4_view ip;
    ts_tcp_view th;
    if (ts_ip4_view_parse(&ip, ev->u.seg.pkt, ev->u.seg.len) != TS_WIRE_OK ||
        ip.proto != TS_IPPROTO_TCP || ts_tcp_view_parse(&th, ip.payload, ip.payload_len))
        return g;
    g.ok = true;
    g.src = ip.src, g.dst = ip.dst;
    g.sport = th.sport, g.dport = th.dport;
    g.seq = th.seq, g.flags = th.flags;
    g.len = (uint32_t)th.len;
    return g;
}

static sw_dir *dir_of(ts_sweep_collect *c, const sw_seg *g)
{
    uint64_t a = (uint64_t)g->src << 16 | g->sport, b = (uint64_t)g->dst << 16 | g->dport;
    int64_t i = map_get(&c->dirs, a, b);
    if (i >= 0) return &c->dir[i];
    sw_dir *d = grow(c->dir, &c->capdir, c->ndir + 1, sizeof *d);
    if (!d) return NULL;
    c->dir = d;
    if (!map_put(&c->dirs, a, b, (uint32_t)c->ndir)) return NULL;
    memset(&c->dir[c->ndir], 0, sizeof *c->dir);
    return &c->dir[c->ndir++];
}

/* The segment's data as offsets in its direction; false when it has none. A SYN sets the
 * base (a new incarnation of the 4-tuple starts over). */
static bool data_range(sw_dir *d, const sw_seg *g, uint64_t *lo, uint64_t *hi)
{
    uint32_t seq = g->seq;
    if (g->flags & TS_TH_SYN) {
        if (!d->have_base || d->base != seq + 1) {
            d->have_base = true;
            d->base = seq + 1;
            d->cum = 0;
            d->nr = d->npend = 0;
        }
        seq++;
    }
    if (!g->len) return false;
    if (!d->have_base) { /* no SYN seen (a scripted peer's stream): start here */
        d->have_base = true;
        d->base = seq;
    }
    /* unwrap around what was received so far */
    uint32_t ref = d->base + (uint32_t)d->cum;
    int64_t off = (int64_t)d->cum + (int32_t)(seq - ref);
    if (off < 0) off = 0;
    *lo = (uint64_t)off;
    *hi = *lo + g->len;
    return true;
}

static void dir_add(sw_dir *d, uint64_t lo, uint64_t hi)
{
    if (hi <= d->cum) return;
    if (lo <= d->cum) { /* in order: advance, then swallow ranges it reaches */
        d->cum = hi;
        size_t k = 0;
        while (k < d->nr && d->r[k].lo <= d->cum) {
            if (d->r[k].hi > d->cum) d->cum = d->r[k].hi;
            k++;
        }
        if (k) memmove(d->r, d->r + k, (d->nr - k) * sizeof *d->r);
        d->nr -= k;
        return;
    }
    size_t i = 0; /* out of order: insert, merging neighbours */
    while (i < d->nr && d->r[i].hi < lo) i++;
    size_t j = i;
    while (j < d->nr && d->r[j].lo <= hi) {
        if (d->r[j].lo < lo) lo = d->r[j].lo;
        if (d->r[j].hi > hi) hi = d->r[j].hi;
        j++;
    }
    if (j == i) {
        sw_range *r = grow(d->r, &d->capr, d->nr + 1, sizeof *r);
        if (!r) return;
        d->r = r;
        memmove(d->r + i + 1, d->r + i, (d->nr - i) * sizeof *d->r);
        d->nr++;
    } else if (j > i + 1) {
        memmove(d->r + i + 1, d->r + j, (d->nr - j) * sizeof *d->r);
        d->nr -= j - i - 1;
    }
    d->r[i] = (sw_range){lo, hi};
}

static bool dir_has(const sw_dir *d, uint64_t lo, uint64_t hi)
{
    if (hi <= d->cum) return true;
    for (size_t i = 0; i < d->nr && d->r[i].lo <= lo; i++)
        if (d->r[i].hi >= hi) return true;
    return false;
}

/* ---- retransmission causes ------------------------------------------------------------- */

static int cause_of(const char *why)
{
    static const struct {
        const char *prefix;
        ts_sweep_cause cause;
    } tab[] = {
        {"RTO retransmission", TS_SW_RTO},
        {"SYN retransmission", TS_SW_SYN},
        {"SYN-ACK retransmission", TS_SW_SYN},
        {"fast retransmission (NewReno partial", TS_SW_PARTIAL},
        {"fast retransmission", TS_SW_FAST},
        {"RACK reordering timer", TS_SW_RACK},
        {"tail loss probe (the last segment again)", TS_SW_TLP},
        {"zero-window probe", TS_SW_PROBE},
        {"keepalive probe", TS_SW_PROBE},
    };
    for (size_t i = 0; why && i < sizeof tab / sizeof tab[0]; i++)
        if (!strncmp(why, tab[i].prefix, strlen(tab[i].prefix))) return (int)tab[i].cause;
    return -1;
}

static void seg_out(ts_sweep_collect *c, int host, const ts_event *ev)
{
    int cause = cause_of(ts_why_event(c->why[host], ev));
    sw_seg g = seg_of(ev);
    if (!g.ok) return;
    if (!g.len && (g.flags & (TS_TH_ACK | TS_TH_SYN | TS_TH_FIN | TS_TH_RST)) == TS_TH_ACK)
        c->m.pure_acks++; /* the receiver's ACK rate: the delayed-ACK policies' cost */
    sw_dir *d = dir_of(c, &g);
    uint64_t lo, hi;
    bool data = d && data_range(d, &g, &lo, &hi);
    if (cause < 0) return;
    c->m.rexmit[cause]++;
    if (!data) return;
    if (dir_has(d, lo, hi)) {
        c->m.spurious++;
        c->m.spurious_bytes += hi - lo;
        return;
    }
    if (d->npend == SW_PEND) { /* the oldest is forgotten: undecided, counted as needed */
        memmove(d->pend, d->pend + 1, (SW_PEND - 1) * sizeof *d->pend);
        d->npend--;
    }
    d->pend[d->npend++] = (sw_range){lo, hi};
}

/* A copy arrived that brings nothing new: the retransmission of those bytes still
 * outstanding was not needed. */
static void duplicate(ts_sweep_collect *c, sw_dir *d, uint64_t lo, uint64_t hi)
{
    for (size_t i = 0; i < d->npend; i++)
        if (d->pend[i].lo < hi && lo < d->pend[i].hi) {
            c->m.spurious++;
            c->m.spurious_bytes += d->pend[i].hi - d->pend[i].lo;
            d->pend[i] = d->pend[--d->npend];
            return;
        }
}

static void seg_in(ts_sweep_collect *c, int host, const ts_event *ev)
{
    ts_why_event(c->why[host], ev);
    sw_seg g = seg_of(ev);
    if (!g.ok) return;
    sw_dir *d = dir_of(c, &g);
    uint64_t lo, hi;
    if (!d || !data_range(d, &g, &lo, &hi)) return;
    if (dir_has(d, lo, hi))
        duplicate(c, d, lo, hi);
    else
        dir_add(d, lo, hi);
}

/* ---- recovery time ---------------------------------------------------------------------- */

static void ca_close(ts_sweep_collect *c, sw_conn *k, ts_time_t now)
{
    if (k->ca == TS_CA_RECOVERY) c->m.recovery += now - k->since;
    if (k->ca == TS_CA_LOSS) c->m.loss += now - k->since;
    k->since = now;
}

static sw_conn *conn_of(ts_sweep_collect *c, int host, uint32_t id, bool make)
{
    int64_t i = map_get(&c->conns, (uint64_t)host, id);
    if (i >= 0) return &c->conn[i];
    if (!make) return NULL;
    sw_conn *v = grow(c->conn, &c->capconn, c->nconn + 1, sizeof *v);
    if (!v) return NULL;
    c->conn = v;
    if (!map_put(&c->conns, (uint64_t)host, id, (uint32_t)c->nconn)) return NULL;
    c->conn[c->nconn] = (sw_conn){TS_CA_OPEN, 0, true, false};
    return &c->conn[c->nconn++];
}

static void ca_event(ts_sweep_collect *c, int host, ts_stack *s, const ts_event *ev)
{
    bool may_change = ev->type == TS_EV_CWND || ev->type == TS_EV_RETRANSMIT ||
                      ev->type == TS_EV_TIMER_FIRE || ev->type == TS_EV_CONN_FREE ||
                      ev->type == TS_EV_STATE;
    sw_conn *k = conn_of(c, host, ev->conn.id, may_change);
    if (!k || !k->live) return;
    if (ev->type == TS_EV_STATE) k->est = ev->u.state.to >= TS_ESTABLISHED;
    if (ev->type == TS_EV_TIMER_SET && ev->u.timer.kind == TS_TIMER_RETRANSMIT && k->est &&
        ev->u.timer.when > ev->now && ev->u.timer.when - ev->now > c->m.max_rto)
        c->m.max_rto = ev->u.timer.when - ev->now;
    if (!may_change && k->ca != TS_CA_RECOVERY && k->ca != TS_CA_LOSS) return;
    if (ev->type == TS_EV_CONN_FREE) {
        ca_close(c, k, ev->now);
        k->live = false;
        k->ca = TS_CA_OPEN;
        return;
    }
    ts_tcp_info ti;
    if (ts_stack_conn_info(s, ev->conn.id, &ti) < 0 || ti.ca_state == k->ca) return;
    ca_close(c, k, ev->now);
    k->ca = ti.ca_state;
}

void ts_sweep_collect_event(ts_sweep_collect *c, int host, ts_stack *s, const ts_event *ev)
{
    if (!c || host < 0 || (size_t)host >= c->nhosts) return;
    switch (ev->type) {
    case TS_EV_SEG_OUT: seg_out(c, host, ev); break;
    case TS_EV_SEG_IN: seg_in(c, host, ev); break;
    case TS_EV_RETRANSMIT:
        ts_why_event(c->why[host], ev);
        if ((ev->u.rexmit.kind == TS_REXMIT_RTO || ev->u.rexmit.kind == TS_REXMIT_SYN) &&
            ev->u.rexmit.count > c->m.max_backoff)
            c->m.max_backoff = ev->u.rexmit.count;
        break;
    default: ts_why_event(c->why[host], ev); break;
    }
    if (ev->conn.id) ca_event(c, host, s, ev);
}

void ts_sweep_collect_finish(ts_sweep_collect *c, ts_time_t end, ts_sweep_metrics *m)
{
    for (size_t i = 0; i < c->nconn; i++)
        if (c->conn[i].live) ca_close(c, &c->conn[i], end);
    *m = c->m;
}
