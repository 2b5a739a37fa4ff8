/* sim/flows.c: the connections seen on the wire, keyed by their 4-tuple in a hash table:
 * each end's ISN (for sequence numbers relative to it, as expectations are written),
 * segment and byte counts, and, from the stacks' events, retransmissions and states. */
#include "world.h"

#include <stdlib.h>
#include <string.h>

int sim_flows_init(sim_flows *f)
{
    memset(f, 0, sizeof *f);
    f->nslots = 64;
    f->slots = calloc(f->nslots, sizeof *f->slots);
    f->last = SIZE_MAX;
    return f->slots ? 0 : -1;
}

void sim_flows_free(sim_flows *f)
{
    free(f->v);
    free(f->slots);
    memset(f, 0, sizeof *f);
}

static uint64_t key_hash(uint32_t a, uint16_t ap, uint32_t b, uint16_t bp)
{
    /* Symmetric in the two ends, so both directions land in the same slot chain. */
    uint64_t x = ((uint64_t)a << 16 | ap), y = ((uint64_t)b << 16 | bp);
    uint64_t k = (x < y) ? (x * 0x9e3779b97f4a7c15ull) ^ y : (y * 0x9e3779b97f4a7c15ull) ^ x;
    k ^= k >> 29;
    k *= 0xbf58476d1ce4e5b9ull;
    return k ^ (k >> 32);
}

static bool end_is(const sim_end *e, uint32_t a, uint16_t ap)
{
    return e->addr == a && e->port == ap;
}

sim_flow *sim_flows_find(sim_flows *f, uint32_t a, uint16_t ap, uint32_t b, uint16_t bp, int *from)
{
    if (f->last < f->n) {
        sim_flow *fl = &f->v[f->last];
        for (int s = 0; s < 2; s++)
            if (end_is(&fl->end[s], a, ap) && end_is(&fl->end[!s], b, bp)) {
                *from = s;
                return fl;
            }
    }
    size_t mask = f->nslots - 1;
    for (size_t i = key_hash(a, ap, b, bp) & mask;; i = (i + 1) & mask) {
        uint32_t s = f->slots[i];
        if (!s) return NULL;
        sim_flow *fl = &f->v[s - 1];
        for (int e = 0; e < 2; e++)
            if (end_is(&fl->end[e], a, ap) && end_is(&fl->end[!e], b, bp)) {
                *from = e;
                f->last = s - 1;
                return fl;
            }
    }
}

static int rehash(sim_flows *f)
{
    size_t n = f->nslots * 2;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots) return -1;
    for (size_t k = 0; k < f->n; k++) {
        const sim_flow *fl = &f->v[k];
        size_t i =
            key_hash(fl->end[0].addr, fl->end[0].port, fl->end[1].addr, fl->end[1].port) & (n - 1);
        while (slots[i]) i = (i + 1) & (n - 1);
        slots[i] = (uint32_t)k + 1;
    }
    free(f->slots);
    f->slots = slots;
    f->nslots = n;
    return 0;
}

static int host_of(const ts_sim *w, uint32_t addr)
{
    for (size_t i = 0; i < w->nhosts; i++)
        if (w->scn->hosts[i].addr == addr) return (int)i;
    return -1;
}

static sim_flow *flow_add(ts_sim *w, const sim_view *v)
{
    sim_flows *f = &w->flows;
    if ((f->n + 1) * 2 > f->nslots && rehash(f) < 0) return NULL;
    if (f->n == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 16;
        sim_flow *nv = realloc(f->v, ncap * sizeof *nv);
        if (!nv) return NULL;
        f->v = nv;
        f->cap = ncap;
    }
    sim_flow *fl = &f->v[f->n];
    memset(fl, 0, sizeof *fl);
    fl->id = (uint32_t)f->n + 1;
    fl->first = w->now;
    fl->end[0].addr = v->src;
    fl->end[0].port = v->sport;
    fl->end[1].addr = v->dst;
    fl->end[1].port = v->dport;
    for (int e = 0; e < 2; e++) {
        fl->end[e].host = host_of(w, fl->end[e].addr);
        /* A scripted peer's ISN is known before it sends a SYN (it may never send one). */
        if (fl->end[e].host >= 0 && w->scn->hosts[fl->end[e].host].peer) {
            fl->end[e].isn_known = true;
            fl->end[e].isn = w->scn->hosts[fl->end[e].host].isn;
        }
    }
    size_t mask = f->nslots - 1;
    size_t i = key_hash(v->src, v->sport, v->dst, v->dport) & mask;
    while (f->slots[i]) i = (i + 1) & mask;
    f->slots[i] = (uint32_t)f->n + 1;
    f->last = f->n;
    f->n++;
    return fl;
}

sim_flow *sim_flows_packet(ts_sim *w, const sim_view *v, int src_host, int *from)
{
    (void)src_host;
    sim_flow *fl = sim_flows_find(&w->flows, v->src, v->sport, v->dst, v->dport, from);
    if (!fl) {
        fl = flow_add(w, v);
        if (!fl) return NULL;
        *from = 0;
    }
    sim_end *e = &fl->end[*from];
    /* A SYN gives this end's ISN. A stack in SYN_SENT may send a new one on a reused
     * 4-tuple (a new incarnation after a FIN or RST); any other SYN on a synchronized
     * connection is a stray (RFC 5961 4) and relative numbers stay as they were. */
    if (v->flags & TS_TH_SYN) {
        bool restart = !(v->flags & TS_TH_ACK) && e->state_known && e->state == TS_SYN_SENT;
        if (restart && fl->ended) {
            sim_end *o = &fl->end[!*from];
            fl->ended = false;
            o->isn_known = o->host >= 0 && w->scn->hosts[o->host].peer;
        }
        if (!e->isn_known || restart) {
            e->isn_known = true;
            e->isn = v->seq;
        }
    }
    if (v->flags & (TS_TH_FIN | TS_TH_RST)) fl->ended = true; /* FIN or RST */
    e->segs++;
    if (v->payload) {
        e->data_segs++;
        e->bytes += v->payload;
    }
    fl->last = w->now;
    fl->last_pkt_no = w->pkt_no;
    return fl;
}

/* Stack events: retransmissions and state changes, attributed to the end that raised them. */
void sim_flows_event(ts_sim *w, sim_host *h, const ts_event *ev)
{
    if (ev->type != TS_EV_RETRANSMIT && ev->type != TS_EV_STATE) return;
    const ts_conn_id *c = &ev->conn;
    int from;
    sim_flow *fl = sim_flows_find(&w->flows, c->local.addr, c->local.port, c->remote.addr,
                                  c->remote.port, &from);
    if (!fl) return; /* nothing of it on the wire yet (e.g. LISTEN, or CLOSED before a SYN) */
    (void)h;
    sim_end *e = &fl->end[from];
    if (ev->type == TS_EV_STATE) {
        e->state_known = true;
        e->state = ev->u.state.to;
        e->state_at = ev->now;
        return;
    }
    switch (ev->u.rexmit.kind) {
    case TS_REXMIT_SYN:
        e->rexmit_syn++;
        e->timeouts++;
        break;
    case TS_REXMIT_RTO:
        e->rexmit_rto++;
        e->timeouts++;
        break;
    case TS_REXMIT_FAST:
    case TS_REXMIT_PARTIAL: e->rexmit_fast++; break;
    case TS_REXMIT_PROBE: e->rexmit_probe++; break;
    }
}

ts_state sim_conn_state(sim_host *h, const ts_endpoint *local, const ts_endpoint *remote)
{
    if (!h->stack) return TS_CLOSED;
    /* A snapshot of every connection: used only by checks, never per packet. */
    size_t n = ts_stack_conns(h->stack, NULL, 0);
    if (n == 0) return TS_CLOSED;
    ts_tcp_info *all = malloc(n * sizeof *all);
    if (!all) return TS_CLOSED;
    n = ts_stack_conns(h->stack, all, n);
    ts_state st = TS_CLOSED;
    for (size_t i = 0; i < n; i++)
        if (all[i].local.addr == local->addr && all[i].local.port == local->port &&
            all[i].remote.addr == remote->addr && all[i].remote.port == remote->port) {
            st = all[i].state;
            break;
        }
    free(all);
    return st;
}
