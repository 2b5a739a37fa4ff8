/* series_set.c: the series kept in memory for the plots: each connection of a run, each
 * end's rows, found from an event in O(1) (a table per host indexed by the stack's
 * connection id, which counts from 1). Rows that change nothing a plot draws are skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series.h"
#include "view.h"

typedef struct host_map {
    const char *host;
    uint32_t *slot; /* slot[conn id]: (connection index + 1) << 1 | end; 0 not yet seen */
    size_t cap;
} host_map;

struct ts_series_set {
    host_map *hosts;
    size_t nhosts;
    ts_series_conn *conns;
    size_t n, cap;
    bool failed;
};

ts_series_set *ts_series_set_new(void)
{
    return calloc(1, sizeof(ts_series_set));
}

void ts_series_set_free(ts_series_set *set)
{
    if (!set) return;
    for (size_t i = 0; i < set->nhosts; i++) free(set->hosts[i].slot);
    free(set->hosts);
    for (size_t i = 0; i < set->n; i++)
        for (int e = 0; e < 2; e++) free(set->conns[i].end[e].rows);
    free(set->conns);
    free(set);
}

bool ts_series_set_ok(const ts_series_set *set)
{
    return !set->failed;
}

size_t ts_series_set_count(const ts_series_set *set)
{
    return set->n;
}

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return true;
    size_t n = *cap ? *cap : 16;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * size);
    if (!q) return false;
    memset((char *)q + *cap * size, 0, (n - *cap) * size);
    *p = q;
    *cap = n;
    return true;
}

static host_map *host_of(ts_series_set *set, const char *host)
{
    for (size_t i = 0; i < set->nhosts; i++)
        if (set->hosts[i].host == host) return &set->hosts[i];
    host_map *h = realloc(set->hosts, (set->nhosts + 1) * sizeof *h);
    if (!h) return NULL;
    set->hosts = h;
    h = &set->hosts[set->nhosts++];
    memset(h, 0, sizeof *h);
    h->host = host;
    return h;
}

static bool ep_eq(ts_endpoint a, ts_endpoint b)
{
    return a.addr == b.addr && a.port == b.port;
}

/* The end this (host, connection) is: the far end of a connection already seen, or the
 * first end of a new one. 0 when out of memory. */
static uint32_t attach(ts_series_set *set, const char *host, const ts_conn_id *id)
{
    for (size_t i = 0; i < set->n; i++) {
        ts_series_end *far = &set->conns[i].end[1];
        if (!far->host && ep_eq(far->ep, id->local) && ep_eq(set->conns[i].end[0].ep, id->remote)) {
            far->host = host;
            return (uint32_t)(i + 1) << 1 | 1;
        }
    }
    if (!grow((void **)&set->conns, &set->cap, set->n + 1, sizeof *set->conns)) return 0;
    ts_series_conn *c = &set->conns[set->n++];
    c->end[0].host = host;
    c->end[0].ep = id->local;
    c->end[1].ep = id->remote;
    return (uint32_t)set->n << 1;
}

/* Worth keeping: the first row, a sample, a retransmission, a state change, or a change
 * in a plotted variable. */
static bool worth(const ts_series_end *e, const ts_series_row *r)
{
    if (!e->n || r->event == TS_EV_RTT_SAMPLE || r->event == TS_EV_RETRANSMIT ||
        r->event == TS_EV_STATE || (r->event == TS_EV_TIMER_SET && r->d1 == TS_TIMER_RETRANSMIT))
        return true;
    const ts_series_row *l = &e->rows[e->n - 1];
    return l->cwnd != r->cwnd || l->ssthresh != r->ssthresh || l->flight != r->flight ||
           l->ca_state != r->ca_state || l->srtt != r->srtt || l->rttvar != r->rttvar ||
           l->rto != r->rto || l->backoff != r->backoff || l->state != r->state;
}

void ts_series_collect(ts_series_set *set, ts_stack *s, const char *host, const ts_event *ev)
{
    uint32_t id = ev->conn.id;
    if (!id || !s || set->failed) return;
    host_map *h = host_of(set, host);
    if (!h || !grow((void **)&h->slot, &h->cap, (size_t)id + 1, sizeof *h->slot)) {
        set->failed = true;
        return;
    }
    if (!h->slot[id]) {
        if (!ev->conn.remote.port) return; /* a listener, or not yet connecting */
        if (!(h->slot[id] = attach(set, host, &ev->conn))) {
            set->failed = true;
            return;
        }
    }
    ts_series_end *e = &set->conns[(h->slot[id] >> 1) - 1].end[h->slot[id] & 1];
    ts_series_row r;
    ts_series_fill(&r, s, host, ev, 0);
    if (!r.known) return;
    if (r.event == TS_EV_SEG_OUT && r.has_seg) e->bytes_out += r.seg_len;
    if (!worth(e, &r)) return;
    if (!grow((void **)&e->rows, &e->cap, e->n + 1, sizeof *e->rows)) {
        set->failed = true;
        return;
    }
    e->rows[e->n++] = r;
}

const ts_series_conn *ts_series_set_pick(const ts_series_set *set, const char *which, char *err,
                                         size_t errlen)
{
    /* The same rules as ts_view_set_pick, so --conn means the same in every view. */
    if (!set->n) {
        snprintf(err, errlen, "no TCP connection in the run");
        return NULL;
    }
    if (!which || !*which) return &set->conns[0];
    char *endp;
    unsigned long n = strtoul(which, &endp, 10);
    if (!*endp && n >= 1 && n <= set->n) return &set->conns[n - 1];
    const char *colon = strrchr(which, ':');
    if (*endp && colon && (size_t)(colon - which) < 32) {
        char addr[32];
        memcpy(addr, which, (size_t)(colon - which));
        addr[colon - which] = '\0';
        uint32_t a;
        unsigned long port = strtoul(colon + 1, &endp, 10);
        if (!*endp && port <= 65535 && ts_ip4_parse(addr, &a) == 0)
            for (size_t i = 0; i < set->n; i++)
                for (int e = 0; e < 2; e++)
                    if (set->conns[i].end[e].ep.addr == a && set->conns[i].end[e].ep.port == port)
                        return &set->conns[i];
    }
    snprintf(err, errlen,
             "--conn %s: no such connection; there %s %zu (1..%zu, or an address:port of "
             "either end)",
             which, set->n == 1 ? "is" : "are", set->n, set->n);
    return NULL;
}
