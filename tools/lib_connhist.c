/* lib_connhist.c: one connection's recent history (connhist.h). Two rings: events (copied
 * whole) and segment bytes (a buffer per slot, grown to the largest segment it held). An
 * event that carried a segment names its slot and the segment's serial number; once the
 * slot is reused the event is too old to replay. */
#include <stdlib.h>
#include <string.h>

#include "connhist.h"
#include "ladder.h"
#include "view_rec.h"

#define EVENTS_PER_SEG 8 /* timers, RTT, cwnd, states between two segments, roughly */

typedef struct hev {
    ts_event ev;
    uint64_t seg; /* SEG_IN/SEG_OUT: the segment's serial number (from 1), else 0 */
} hev;

typedef struct hslot {
    uint8_t *data;
    size_t cap;
} hslot;

struct ts_connhist {
    uint32_t conn;
    ts_endpoint local, remote;
    hev *ev;
    size_t evcap;
    uint64_t nev; /* events kept so far (the ring holds the last evcap) */
    hslot *slot;
    size_t nslots;
    uint64_t nseg; /* segments kept so far */
};

ts_connhist *ts_connhist_new(uint32_t conn_id, size_t max_segs)
{
    ts_connhist *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->conn = conn_id;
    h->nslots = max_segs ? max_segs : 1;
    h->evcap = h->nslots * EVENTS_PER_SEG;
    h->ev = calloc(h->evcap, sizeof *h->ev);
    h->slot = calloc(h->nslots, sizeof *h->slot);
    if (!h->ev || !h->slot) {
        ts_connhist_free(h);
        return NULL;
    }
    return h;
}

void ts_connhist_free(ts_connhist *h)
{
    if (!h) return;
    for (size_t i = 0; h->slot && i < h->nslots; i++) free(h->slot[i].data);
    free(h->slot);
    free(h->ev);
    free(h);
}

void ts_connhist_event(ts_connhist *h, const ts_event *ev)
{
    if (!h || ev->conn.id != h->conn) return;
    if (ev->type == TS_EV_DROP || ev->type == TS_EV_CONN_NEW) return; /* not drawn */
    hev *e = &h->ev[h->nev++ % h->evcap];
    e->ev = *ev;
    e->seg = 0;
    h->local = ev->conn.local;
    h->remote = ev->conn.remote;
    if (ev->type != TS_EV_SEG_IN && ev->type != TS_EV_SEG_OUT) return;
    hslot *s = &h->slot[h->nseg % h->nslots];
    size_t len = ev->u.seg.len;
    if (len > s->cap) {
        uint8_t *d = realloc(s->data, len);
        if (!d) { /* keep the event without its segment: it will not be replayed */
            h->nseg++;
            e->seg = h->nseg;
            s->cap = 0;
            return;
        }
        s->data = d;
        s->cap = len;
    }
    memcpy(s->data, ev->u.seg.pkt, len);
    e->seg = ++h->nseg;
    e->ev.u.seg.pkt = NULL; /* found again through the slot */
}

/* Replay the events from the first one about the oldest of the last n segments. */
static int replay(const ts_connhist *h, size_t n, ts_view_rec *r)
{
    uint64_t first_seg = h->nseg > n ? h->nseg - n + 1 : 1;
    uint64_t oldest = h->nseg > h->nslots ? h->nseg - h->nslots + 1 : 1;
    if (first_seg < oldest) first_seg = oldest;
    uint64_t from = h->nev > h->evcap ? h->nev - h->evcap : 0;
    bool started = false;
    for (uint64_t i = from; i < h->nev; i++) {
        const hev *e = &h->ev[i % h->evcap];
        if (!started && (!e->seg || e->seg < first_seg)) continue;
        started = true;
        ts_event ev = e->ev;
        if (!e->seg) {
            ts_view_rec_event(r, 0, &ev);
            continue;
        }
        const hslot *s = &h->slot[(e->seg - 1) % h->nslots];
        if (e->seg < oldest || s->cap < ev.u.seg.len) continue;
        ev.u.seg.pkt = s->data;
        /* the stack's side is all we see: each segment crosses at once */
        if (ev.type == TS_EV_SEG_OUT) {
            ts_view_rec_event(r, 0, &ev);
            ts_view_rec_packet(r, e->seg, 0, ev.now, s->data, ev.u.seg.len, ev.now, NULL);
        } else {
            ts_view_rec_packet(r, e->seg, 1, ev.now, s->data, ev.u.seg.len, ev.now, NULL);
            ts_view_rec_event(r, 0, &ev);
        }
    }
    return started ? 0 : -1;
}

int ts_connhist_ladder(const ts_connhist *h, size_t n, bool ascii, const char *local_name,
                       const char *remote_name, FILE *f, char *err, size_t errlen)
{
    if (!h || !h->nseg) {
        snprintf(err, errlen, "no segment recorded yet");
        return -1;
    }
    ts_view_rec *r = ts_view_rec_new(TS_VIEW_LIVE);
    ts_view_set set = {0};
    int rc = -1;
    if (!r || ts_view_rec_host(r, 0, local_name, h->local.addr, NULL) < 0 ||
        ts_view_rec_host(r, 1, remote_name, h->remote.addr, NULL) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (replay(h, n, r) < 0) {
        snprintf(err, errlen, "the last %zu segments are no longer kept", n);
        goto out;
    }
    if (ts_view_rec_finish(r, &set, err, errlen) < 0) goto out;
    const ts_view *v = ts_view_set_pick(&set, "", err, errlen);
    if (!v) goto out;
    ts_ladder_opts o;
    ts_ladder_opts_init(&o);
    o.format = TS_LADDER_TEXT;
    o.ascii = ascii;
    o.last = n;
    rc = ts_ladder_write(v, &o, f, err, errlen);
out:
    ts_view_set_free(&set);
    ts_view_rec_free(r);
    return rc;
}
