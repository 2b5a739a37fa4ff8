/* view_rec.c: recording the connection model from a run. Packets make the segments (with
 * their arrival or loss, from the link); the sending stack's events around each packet
 * give its cause (a RETRANSMIT or TIMER_FIRE), its control block (ts_stack_conn_info,
 * O(1) from inside the observer) and its explanation (ts_why); the receiving stack's
 * control block is read once it has taken the packet in. States and timers come from the
 * stacks' own events, never inferred. Connections are found by 4-tuple, and an
 * incarnation by each stack's connection id, so a late event of an old connection in
 * TIME-WAIT lands on the old one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpsim/format.h"
#include "view_build.h"
#include "view_rec.h"
#include "why.h"

typedef struct rend {
    int host; /* -1: not known yet */
    uint32_t id;
    /* the last RTO or fast recovery: resends below its end, unannounced, belong to it
     * (Linux's high_seq) */
    bool rec;
    uint32_t rec_end;
    ts_view_cause rec_cause;
    uint32_t timer[TS_NUM_TIMERS]; /* the armed timer's record + 1, 0 = none */
} rend;

typedef struct rconn {
    ts_vb b;
    ts_vwire w;
    rend e[2];
    uint32_t prev; /* an older incarnation of the same 4-tuple (index + 1) */
} rconn;

typedef struct rhost {
    bool known;
    char name[32];
    uint32_t addr;
    ts_stack *stack;
    ts_why *why;
    /* the next packet is the one the last SEG_OUT announced */
    bool out_pending;
    uint32_t out_conn; /* index + 1 */
    int out_end;
    int32_t out_tcb;
    ts_view_cause out_cause;
    bool out_why_set;
    char out_why[192];
    /* a timer fired, or a fast retransmission was announced: for the next SEG_OUT */
    bool fired;
    ts_timer_kind fired_kind;
    bool fast;
    /* the last segment this host sent, for the RETRANSMIT that follows RTO/SYN/probe sends */
    uint32_t last_conn, last_seg; /* last_conn index + 1 */
} rhost;

typedef struct rpkt {
    uint32_t conn; /* index + 1; 0 = not a TCP segment */
    uint32_t seg;
} rpkt;

struct ts_view_rec {
    ts_view_origin origin;
    rhost *hosts;
    size_t nhosts;
    rconn *c;
    size_t n, cap;
    ts_vflows flows;
    rpkt *pk; /* by packet number - 1 - pk_base */
    size_t npk, cappk;
    uint64_t pk_base;
    bool pk_based, oom;
    size_t nsegs, max_segs; /* recorded so far; the limit (ts_view_rec_limit) */
    bool full;              /* the limit was reached: nothing more is recorded */
    char line[1024];
};

ts_view_rec *ts_view_rec_new(ts_view_origin origin)
{
    ts_view_rec *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->origin = origin;
    r->max_segs = TS_VIEW_REC_MAX_SEGS;
    return r;
}

void ts_view_rec_limit(ts_view_rec *r, size_t max_segs)
{
    r->max_segs = max_segs;
}

void ts_view_rec_free(ts_view_rec *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) ts_vb_discard(&r->c[i].b);
    for (size_t i = 0; i < r->nhosts; i++) ts_why_free(r->hosts[i].why);
    free(r->c);
    free(r->hosts);
    free(r->pk);
    ts_vflows_free(&r->flows);
    free(r);
}

int ts_view_rec_host(ts_view_rec *r, int host, const char *name, uint32_t addr, ts_stack *s)
{
    if (host < 0) return -1;
    if ((size_t)host >= r->nhosts) {
        rhost *h = realloc(r->hosts, ((size_t)host + 1) * sizeof *h);
        if (!h) return -1;
        memset(h + r->nhosts, 0, ((size_t)host + 1 - r->nhosts) * sizeof *h);
        r->hosts = h;
        r->nhosts = (size_t)host + 1;
    }
    rhost *h = &r->hosts[host];
    h->known = true;
    snprintf(h->name, sizeof h->name, "%s", name ? name : "");
    h->addr = addr;
    h->stack = s;
    if (s && !h->why && !(h->why = ts_why_new())) return -1;
    return 0;
}

static rhost *host_get(ts_view_rec *r, int host)
{
    return host >= 0 && (size_t)host < r->nhosts && r->hosts[host].known ? &r->hosts[host] : NULL;
}

/* ---- connections ---- */

static int end_of(const ts_view *v, uint32_t addr, uint16_t port)
{
    for (int e = 0; e < 2; e++)
        if (v->end[e].ep.addr == addr && v->end[e].ep.port == port) return e;
    return -1;
}

static rconn *conn_new(ts_view_rec *r, ts_endpoint first, ts_endpoint second, uint32_t prev)
{
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 8;
        rconn *p = realloc(r->c, nc * sizeof *p);
        if (!p) return NULL;
        r->c = p;
        r->cap = nc;
    }
    rconn *c = &r->c[r->n];
    memset(c, 0, sizeof *c);
    if (ts_vb_init(&c->b, r->origin) < 0) return NULL;
    r->n++;
    ts_vwire_init(&c->w);
    c->prev = prev;
    c->e[0].host = c->e[1].host = -1;
    c->b.v->end[0].ep = first;
    c->b.v->end[1].ep = second;
    ts_vflow_key k = ts_vflow_key_of(first.addr, first.port, second.addr, second.port);
    if (ts_vflows_put(&r->flows, &k, (uint32_t)r->n) < 0) return NULL;
    return c;
}

/* The connection an event of host's stack belongs to: by the stack's connection id among
 * the incarnations of its 4-tuple; a new id on a tuple whose newest incarnation already
 * has one for this end starts a new incarnation. */
static rconn *conn_for_event(ts_view_rec *r, int host, const ts_event *ev)
{
    const ts_conn_id *id = &ev->conn;
    ts_vflow_key k =
        ts_vflow_key_of(id->local.addr, id->local.port, id->remote.addr, id->remote.port);
    uint32_t newest = ts_vflows_get(&r->flows, &k);
    for (uint32_t i = newest; i; i = r->c[i - 1].prev) {
        rconn *c = &r->c[i - 1];
        int d = end_of(c->b.v, id->local.addr, id->local.port);
        if (d >= 0 && c->e[d].id == id->id && c->e[d].host == host) return c;
    }
    if (newest) {
        rconn *c = &r->c[newest - 1];
        int d = end_of(c->b.v, id->local.addr, id->local.port);
        if (d >= 0 && !c->e[d].id) {
            c->e[d].id = id->id;
            c->e[d].host = host;
            return c;
        }
    }
    rconn *c = conn_new(r, id->local, id->remote, newest);
    if (!c) return NULL;
    c->e[0].id = id->id;
    c->e[0].host = host;
    return c;
}

/* ---- events ---- */

static void record_tcb(ts_view_rec *r, rconn *c, int d, ts_stack *s, uint32_t id, ts_time_t t,
                       int32_t *out)
{
    ts_tcp_info info;
    *out = -1;
    if (!s || !id || ts_stack_conn_info(s, id, &info) < 0) return;
    ts_view_tcb *tcb = ts_vb_tcb(&c->b, out);
    if (!tcb) {
        r->oom = true;
        return;
    }
    *tcb = (ts_view_tcb){d, t, info};
}

static void timer_close(rconn *c, int d, ts_timer_kind k, ts_time_t t, ts_view_timer_end how)
{
    uint32_t i = c->e[d].timer[k];
    if (!i) return;
    ts_view_timer *tm = &c->b.v->timers[i - 1];
    tm->stop = t;
    tm->how = how;
    c->e[d].timer[k] = 0;
}

static void on_timer(ts_view_rec *r, rconn *c, int d, const ts_event *ev)
{
    ts_timer_kind k = ev->u.timer.kind;
    if ((unsigned)k >= TS_NUM_TIMERS) return;
    if (ev->type == TS_EV_TIMER_FIRE) {
        timer_close(c, d, k, ev->now, TS_VTIMER_FIRED);
        return;
    }
    if (ev->type == TS_EV_TIMER_CANCEL) {
        timer_close(c, d, k, ev->now, TS_VTIMER_CANCELLED);
        return;
    }
    timer_close(c, d, k, ev->now, TS_VTIMER_CANCELLED); /* re-armed: the old wait ends */
    ts_view_timer *tm = ts_vb_timer(&c->b);
    if (!tm) {
        r->oom = true;
        return;
    }
    *tm = (ts_view_timer){d, k, ev->now, ev->u.timer.when, TS_TIME_NEVER, TS_VTIMER_PENDING};
    c->e[d].timer[k] = (uint32_t)c->b.v->ntimers;
}

/* What a fired timer makes of the packet that follows it. */
static ts_view_cause fired_cause(ts_timer_kind k, bool syn)
{
    switch (k) {
    case TS_TIMER_RETRANSMIT: return syn ? TS_VCAUSE_SYN : TS_VCAUSE_RTO;
    case TS_TIMER_PERSIST:
    case TS_TIMER_KEEPALIVE: return TS_VCAUSE_PROBE;
    case TS_TIMER_TLP: return TS_VCAUSE_TLP;
    default: return TS_VCAUSE_NEW;
    }
}

static void on_seg_out(ts_view_rec *r, rhost *h, rconn *c, const ts_event *ev, const char *why)
{
    h->out_pending = true;
    h->out_conn = 0;
    h->out_tcb = -1;
    h->out_why_set = why != NULL;
    if (why) snprintf(h->out_why, sizeof h->out_why, "%s", why);
    bool syn = ev->u.seg.len >= 34 && (ev->u.seg.pkt[(ev->u.seg.pkt[0] & 15) * 4 + 13] & 0x02);
    h->out_cause = h->fast    ? TS_VCAUSE_FAST
                   : h->fired ? fired_cause(h->fired_kind, syn)
                              : TS_VCAUSE_NEW;
    h->fast = h->fired = false;
    if (!c) return;
    int d = end_of(c->b.v, ev->conn.local.addr, ev->conn.local.port);
    if (d < 0) return;
    h->out_conn = (uint32_t)(c - r->c) + 1;
    h->out_end = d;
    record_tcb(r, c, d, h->stack, ev->conn.id, ev->now, &h->out_tcb);
}

/* RTO, SYN and probe retransmissions are announced just after their packet (fast and
 * partial-ACK ones just before): the count and the RTO then go on that packet. */
static void on_rexmit(ts_view_rec *r, rhost *h, rconn *c, const ts_event *ev)
{
    ts_rexmit_kind k = ev->u.rexmit.kind;
    if (k == TS_REXMIT_FAST || k == TS_REXMIT_PARTIAL) {
        h->fast = true;
        return;
    }
    if (!h->last_conn || &r->c[h->last_conn - 1] != c) return;
    ts_view_seg *s = &c->b.v->segs[h->last_seg];
    if (s->seq != ev->u.rexmit.seq) return;
    if (k == TS_REXMIT_SYN)
        s->cause = TS_VCAUSE_SYN;
    else if (k == TS_REXMIT_RTO)
        s->cause = TS_VCAUSE_RTO;
    else if (s->cause != TS_VCAUSE_TLP)
        s->cause = TS_VCAUSE_PROBE;
    s->rexmit_no = ev->u.rexmit.count;
    s->rto = ev->u.rexmit.rto;
}

void ts_view_rec_event(ts_view_rec *r, int host, const ts_event *ev)
{
    rhost *h = host_get(r, host);
    if (!h || r->oom || r->full) return;
    const char *why = h->why ? ts_why_event(h->why, ev) : NULL;
    rconn *c = NULL;
    int d = -1;
    if (ev->conn.id && ev->conn.remote.addr) {
        c = conn_for_event(r, host, ev);
        if (!c) {
            r->oom = true;
            return;
        }
        d = end_of(c->b.v, ev->conn.local.addr, ev->conn.local.port);
    }
    switch (ev->type) {
    case TS_EV_SEG_OUT: on_seg_out(r, h, c, ev, why); break;
    case TS_EV_RETRANSMIT:
        if (c) on_rexmit(r, h, c, ev);
        break;
    case TS_EV_TIMER_FIRE:
        h->fired = true;
        h->fired_kind = ev->u.timer.kind;
        /* fall through */
    case TS_EV_TIMER_SET:
    case TS_EV_TIMER_CANCEL:
        if (c && d >= 0) on_timer(r, c, d, ev);
        break;
    case TS_EV_STATE:
        if (c && d >= 0) {
            ts_view_state *s = ts_vb_state(&c->b);
            if (!s) {
                r->oom = true;
                return;
            }
            *s = (ts_view_state){d, ev->now, ev->u.state.from, ev->u.state.to, false};
        }
        break;
    case TS_EV_SEG_IN: h->fired = h->fast = false; break;
    default: break;
    }
}

/* ---- packets ---- */

static int remember_packet(ts_view_rec *r, uint64_t no, uint32_t conn, uint32_t seg)
{
    if (!r->pk_based) {
        r->pk_base = no;
        r->pk_based = true;
    }
    if (no < r->pk_base) return 0;
    size_t i = (size_t)(no - r->pk_base);
    if (i >= r->cappk) {
        size_t nc = r->cappk ? r->cappk : 256;
        while (nc <= i) nc *= 2;
        rpkt *p = realloc(r->pk, nc * sizeof *p);
        if (!p) return -1;
        memset(p + r->cappk, 0, (nc - r->cappk) * sizeof *p);
        r->pk = p;
        r->cappk = nc;
    }
    r->pk[i] = (rpkt){conn, seg};
    if (i >= r->npk) r->npk = i + 1;
    return 0;
}

static ts_view_cause recovery_cause(const rconn *c, int d, int32_t tcb, const ts_view_seg *s)
{
    if (tcb < 0 || (s->flags & TS_TH_SYN)) return TS_VCAUSE_REXMIT;
    const rend *e = &c->e[d];
    if (e->rec && (int32_t)(s->seq - e->rec_end) < 0) return e->rec_cause;
    ts_ca_state ca = c->b.v->tcbs[tcb].info.ca_state;
    return ca == TS_CA_LOSS       ? TS_VCAUSE_RTO
           : ca == TS_CA_RECOVERY ? TS_VCAUSE_FAST
                                  : TS_VCAUSE_REXMIT;
}

static rconn *conn_for_packet(ts_view_rec *r, rhost *h, const ts_vtcp *g, uint8_t flags)
{
    if (h && h->out_pending && h->out_conn) return &r->c[h->out_conn - 1];
    ts_vflow_key k = ts_vflow_key_of(g->src, g->sport, g->dst, g->dport);
    uint32_t i = ts_vflows_get(&r->flows, &k);
    if (i && ts_vwire_continues(&r->c[i - 1].w, flags)) return &r->c[i - 1];
    return conn_new(r, (ts_endpoint){g->src, g->sport}, (ts_endpoint){g->dst, g->dport}, i);
}

void ts_view_rec_packet(ts_view_rec *r, uint64_t no, int from, ts_time_t t, const uint8_t *pkt,
                        size_t len, ts_time_t arrive, const char *lost)
{
    rhost *h = host_get(r, from);
    ts_vtcp g;
    if (r->oom || r->full || !ts_vtcp_parse(pkt, len, len, &g)) {
        if (h) h->out_pending = false;
        return;
    }
    if (r->nsegs >= r->max_segs) {
        r->full = true;
        if (h) h->out_pending = false;
        return;
    }
    rconn *c = conn_for_packet(r, h, &g, g.flags);
    ts_view_seg *s = c ? ts_vb_seg(&c->b) : NULL;
    if (!s) {
        r->oom = true;
        return;
    }
    /* Full from the last segment kept on, so the events that lead to the next one (its
     * state change, its timers) are not kept without it. */
    if (++r->nsegs >= r->max_segs) r->full = true;
    int d = end_of(c->b.v, g.src, g.sport);
    s->no = (uint32_t)no;
    s->from = d < 0 ? 0 : d;
    s->t_send = t;
    s->t_recv = arrive;
    ts_vtcp_fill(&g, s);
    ts_format_packet(pkt, len, r->line, sizeof r->line);
    s->line = ts_vb_str(&c->b, r->line, SIZE_MAX);
    if (arrive == TS_TIME_NEVER) s->lost = ts_vb_str(&c->b, lost ? lost : "lost", SIZE_MAX);
    ts_vwire_account(&c->w, c->b.v, s->from, s, t);
    if (h && h->out_pending) {
        /* The stack said why: that outranks what the wire suggests. A resend no timer or
         * RETRANSMIT announced takes its cause from the recovery the sender is in (the
         * rest of the window after an RTO, more holes in fast recovery), or stays a
         * retransmission of no named cause (a SYN-ACK answering a repeated SYN). */
        if (h->out_cause != TS_VCAUSE_NEW)
            s->cause = h->out_cause;
        else if (s->cause != TS_VCAUSE_NEW)
            s->cause = recovery_cause(c, s->from, h->out_tcb, s);
        if ((h->out_cause == TS_VCAUSE_RTO || h->out_cause == TS_VCAUSE_FAST) && h->out_tcb >= 0) {
            rend *e = &c->e[s->from];
            e->rec = true;
            e->rec_end = c->b.v->tcbs[h->out_tcb].info.snd_max;
            e->rec_cause = h->out_cause;
        }
        if (s->cause == TS_VCAUSE_NEW) s->rexmit_no = 0;
        s->tcb[s->from] = h->out_tcb;
        if (h->out_why_set) s->why = ts_vb_str(&c->b, h->out_why, SIZE_MAX);
        h->out_pending = false;
    }
    uint32_t ci = (uint32_t)(c - r->c) + 1, si = (uint32_t)(c->b.v->nsegs - 1);
    if (h) {
        h->last_conn = ci;
        h->last_seg = si;
    }
    if (!s->line || (arrive == TS_TIME_NEVER && !s->lost) || remember_packet(r, no, ci, si) < 0)
        r->oom = true;
}

void ts_view_rec_arrived(ts_view_rec *r, uint64_t no, int host, ts_time_t t)
{
    rhost *h = host_get(r, host);
    if (!h || !h->stack || r->oom || !r->pk_based || no < r->pk_base) return;
    size_t i = (size_t)(no - r->pk_base);
    if (i >= r->npk || !r->pk[i].conn) return;
    rconn *c = &r->c[r->pk[i].conn - 1];
    ts_view_seg *s = &c->b.v->segs[r->pk[i].seg];
    int to = !s->from;
    if (s->tcb[to] >= 0 || c->e[to].host != host) return; /* a duplicate's second copy */
    int32_t idx;
    record_tcb(r, c, to, h->stack, c->e[to].id, t, &idx);
    s = &c->b.v->segs[r->pk[i].seg]; /* the tcb array grew, not the segments: still valid */
    s->tcb[to] = idx;
}

/* ---- the end ---- */

int ts_view_rec_finish(ts_view_rec *r, ts_view_set *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (r->oom) {
        snprintf(err, errlen, "out of memory while recording the run");
        return -1;
    }
    out->conns = calloc(r->n ? r->n : 1, sizeof *out->conns);
    if (!out->conns) goto oom;
    char note[160];
    snprintf(note, sizeof note,
             "recording stopped after %zu segments (the recorder's limit); what came later "
             "is not drawn",
             r->nsegs);
    for (size_t i = 0; i < r->n; i++) {
        rconn *c = &r->c[i];
        ts_view *v = c->b.v;
        if (!v->nsegs) continue; /* a socket that never sent or received a segment */
        if (r->full && !(v->note = ts_vb_str(&c->b, note, SIZE_MAX))) goto oom;
        for (int e = 0; e < 2; e++)
            for (size_t k = 0; k < r->nhosts; k++)
                if (r->hosts[k].known && r->hosts[k].addr == v->end[e].ep.addr)
                    snprintf(v->end[e].name, sizeof v->end[e].name, "%s", r->hosts[k].name);
        if (ts_vb_finish(&c->b) < 0) goto oom;
        out->conns[out->n++] = v;
        c->b.v = NULL;
    }
    for (size_t i = 0; i < r->n; i++) ts_vb_discard(&r->c[i].b);
    r->n = 0;
    r->npk = 0;
    r->pk_based = false;
    r->nsegs = 0;
    r->full = false;
    for (size_t k = 0; k < r->nhosts; k++) {
        r->hosts[k].last_conn = 0;
        r->hosts[k].out_pending = false;
    }
    ts_vflows_free(&r->flows);
    return 0;
oom:
    ts_view_set_free(out);
    snprintf(err, errlen, "out of memory while recording the run");
    return -1;
}
