/* tcp_req.c: a listener's SYN-RECEIVED children at rest in small blocks, as Linux's
 * request socks. A child whose SYN-ACK went out and that waits for the handshake's last
 * ACK holds nothing a 160-byte ts_req cannot rebuild: the SYN as it took it, the ISS, and
 * the few fields that move while it waits (the retransmission count and timer, TSval of
 * the SYN-ACK, the last segment's time). So after the segment or timer that left it at
 * rest, the child gives its ts_conn up for a block (ts_req_adopt), and any segment or
 * timer for it brings the ts_conn back (ts_req_materialize) to run the general path; the
 * child is adopted again if it is left at rest once more.
 *
 * Invisible by construction: a child is adopted only when the block rebuilds it byte for
 * byte (tcp_open.c's ts_open_embryo, the links aside), so a field the block would forget
 * costs memory, never behaviour. The block takes the child's place in the listener's SYN
 * queue and in s->heap (ts_heap_replace), so embryos end, and timers due at one instant
 * fire, in the order they would have; the id, nconns and conns_by_state stay; no event
 * marks either move. The blocks are counted in req_blocks and req_bytes. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- the hash (lookup: ts_req_find, internal.h) ---- */

static uint32_t bucket(const ts_stack *s, uint16_t lport, uint32_t raddr, uint16_t rport)
{
    return ts_tuple_hash(lport, raddr, rport) & s->req_hmask;
}

static bool hash_grow(ts_stack *s)
{
    uint32_t nmask = s->req_htab ? s->req_hmask * 2 + 1 : 255;
    ts_req **nt = calloc((size_t)nmask + 1, sizeof *nt);
    if (!nt) return s->req_htab != NULL; /* keep the old table: longer chains, still correct */
    ts_req **ot = s->req_htab;
    uint32_t omask = s->req_hmask;
    s->req_htab = nt;
    s->req_hmask = nmask;
    for (uint32_t i = 0; ot && i <= omask; i++)
        for (ts_req *r = ot[i], *n; r; r = n) {
            n = r->hnext;
            uint32_t b = bucket(s, r->lport, r->raddr, r->rport);
            r->hnext = nt[b];
            nt[b] = r;
        }
    free(ot);
    return true;
}

static void hash_add(ts_stack *s, ts_req *r)
{
    uint32_t b = bucket(s, r->lport, r->raddr, r->rport);
    r->hnext = s->req_htab[b];
    s->req_htab[b] = r;
    s->req_count++;
}

static void hash_remove(ts_stack *s, ts_req *r)
{
    ts_req **pp = &s->req_htab[bucket(s, r->lport, r->raddr, r->rport)];
    while (*pp && *pp != r) pp = &(*pp)->hnext;
    if (*pp) *pp = r->hnext;
    r->hnext = NULL;
    s->req_count--;
}

static ts_req *req_of_q(ts_qlink *q)
{
    return (ts_req *)(void *)((char *)q - offsetof(ts_req, q));
}

static ts_req *req_of_hn(ts_heap_node *n)
{
    return (ts_req *)(void *)((char *)n - offsetof(ts_req, hn));
}

/* ---- the block and its child ---- */

static void keep(ts_req *r, const ts_conn *c)
{
    r->listener = c->listener;
    r->p = c->p;
    r->id = c->id;
    r->raddr = c->remote.addr, r->lport = c->local.port, r->rport = c->remote.port;
    r->irs = c->irs;
    r->wnd = (uint16_t)c->snd_wnd; /* a SYN's window, never scaled */
    r->mss = c->peer_mss;          /* as an MSS option: the same peer_mss whether the SYN had one */
    r->has_wscale = c->ws_ok, r->wscale = c->snd_wscale;
    r->has_sackok = c->sack_ok;
    r->has_ts = c->ts_ok, r->ts_recent = c->ts_recent;
    r->tos = c->tos, r->cork = c->cork, r->notsent_lowat = c->notsent_lowat;
    r->iss = c->iss, r->ts_offset = c->ts_offset; /* a hash of the ISS: kept, not redone */
    r->retries = c->retries, r->total_retrans = c->total_retrans;
    r->txm_floor = c->txm_floor;
    r->rtt_timed_at = c->rtt_timed_at;
    r->last_snd_time = c->last_snd_time, r->last_seg_in = c->last_seg_in;
    r->last_oow = c->last_oow, r->oow_sent = c->oow_sent;
    r->hn.deadline = c->timer[TS_TIMER_RETRANSMIT];
}

void ts_req_rebuild(ts_stack *s, const ts_req *r, ts_conn *out)
{
    memset(out, 0, sizeof *out);
    ts_open_embryo(s, out, r);
    out->hashed = true; /* as the child is, in the table */
}

/* A child at rest: SYN-RECEIVED in its listener's SYN queue, only its SYN-ACK's timer
 * armed, nothing held beside the ts_conn, nothing pointing at it. */
static bool at_rest(const ts_stack *s, const ts_conn *c)
{
    if (c->dead || c->state != TS_SYN_RECEIVED || !c->listener || c->in_accept_queue ||
        c->from_cookie || c->sd >= 0 || c->orphan || c->port_held || !c->hashed ||
        c->on_notify_list || c->notify || s->ev_conn == c)
        return false;
    for (int k = 0; k < TS_NUM_TIMERS; k++)
        if (ts_timer_on(c, (ts_timer_kind)k) != (k == TS_TIMER_RETRANSMIT)) return false;
    return !c->sndq.buf && !c->rcvq.buf && !c->hs && !c->eor_mark && !c->ooo && !c->sb && !c->rxt;
}

/* Does the block rebuild the child exactly? The links (hash chain, queue, heap index)
 * may differ: they are set aside in the child, and left zero in the rebuild, for one
 * memcmp. Once per handshake, on the C stack. */
static bool rebuilds(ts_stack *s, const ts_req *r, ts_conn *c)
{
    ts_conn a;
    ts_req_rebuild(s, r, &a);
    a.hnext = NULL;
    a.hn.idx = 0;
    ts_conn *hnext = c->hnext;
    ts_qlink q = c->q;
    uint32_t idx = c->hn.idx;
    c->hnext = NULL, c->q = (ts_qlink){0}, c->hn.idx = 0;
    bool same = memcmp(&a, c, sizeof a) == 0;
    c->hnext = hnext, c->q = q, c->hn.idx = idx;
    return same;
}

bool ts_req_adopt(ts_stack *s, ts_conn *c)
{
    if (!at_rest(s, c)) return false;
    ts_req probe = {0};
    keep(&probe, c);
    if (!rebuilds(s, &probe, c)) return false;
    if (s->req_count >= s->req_hmask && !hash_grow(s)) return false;
    ts_req *r = ts_mem_block(s, sizeof *r);
    if (!r) return false;
    *r = probe;
    r->q.req = true;
    r->hn.owner = TS_HN_REQ;
    ts_conn_q_replace(c->listener, &c->q, &r->q);
    ts_heap_replace(&s->heap, &c->hn, &r->hn);
    hash_add(s, r);
    ts_mem_params_hold(r->p); /* the child's reference goes with its ts_conn */
    ts_conn_free_quiet(s, c); /* its id, nconns and conns_by_state pass to the block */
    s->cnt.req_blocks++;
    s->cnt.req_bytes += sizeof *r;
    return true;
}

/* The block's count and memory (out of the hash first; the parameters' reference either
 * passed to the child or is dropped by the caller). */
static void block_free(ts_stack *s, ts_req *r)
{
    s->cnt.req_blocks--;
    s->cnt.req_bytes -= sizeof *r;
    ts_mem_block_free(s, r, sizeof *r);
}

ts_conn *ts_req_materialize(ts_stack *s, ts_req *r)
{
    ts_conn *c = ts_mem_block(s, sizeof *c); /* zeroed, counted: mem_conn_bytes */
    if (!c) return NULL;
    ts_open_embryo(s, c, r);
    ts_conn_q_replace(r->listener, &r->q, &c->q);
    ts_heap_replace(&s->heap, &r->hn, &c->hn);
    c->hn.owner = TS_HN_CONN;
    ts_conn_hash(s, c);
    hash_remove(s, r);
    block_free(s, r); /* its parameters' reference is the child's again */
    return c;
}

/* A block whose child is not coming back: out of the heap, the SYN queue and the hash. */
static void unlink_block(ts_stack *s, ts_req *r)
{
    ts_heap_remove(&s->heap, &r->hn);
    ts_conn_q_unlink(r->listener, &r->q);
    hash_remove(s, r);
}

/* ...and after its events, what ts_conn_destroy undoes: the counts (in state st), the
 * parameters' reference, the memory. */
static void gone(ts_stack *s, ts_req *r, ts_state st)
{
    s->cnt.conns_by_state[st]--;
    s->nconns--;
    ts_mem_params_drop(s, r->p);
    block_free(s, r);
}

/* Out of memory for the child: the embryo ends from its block, with the events of a
 * child's end (on a rebuilt copy): its timer cancelled, CLOSED, then CONN_FREE at once
 * (the whole child would have retransmitted its SYN-ACK first: with no memory to bring
 * it back, it is given up). Unlinked before the first event, as a child leaves the table
 * when it is done, so that what a callback does meets no half-gone block. The peer's ACK
 * will find no connection and be reset. */
static void end_in_place(ts_stack *s, ts_req *r)
{
    ts_conn c;
    ts_req_rebuild(s, r, &c);
    c.hashed = false;
    c.listener = NULL;
    unlink_block(s, r);
    ts_event ev = {.type = TS_EV_TIMER_CANCEL};
    ev.u.timer.kind = TS_TIMER_RETRANSMIT;
    ts_emit_conn(s, &c, &ev);
    ts_event st = {.type = TS_EV_STATE};
    st.u.state.from = TS_SYN_RECEIVED;
    st.u.state.to = c.state = TS_CLOSED;
    s->cnt.conns_by_state[TS_SYN_RECEIVED]--;
    s->cnt.conns_by_state[TS_CLOSED]++;
    ts_emit_conn(s, &c, &st);
    ts_event fr = {.type = TS_EV_CONN_FREE};
    ts_emit_conn(s, &c, &fr);
    gone(s, r, TS_CLOSED);
}

ts_conn *ts_req_child(ts_stack *s, ts_qlink *q)
{
    if (!q->req) return ts_conn_of_q(q);
    ts_req *r = req_of_q(q);
    ts_conn *c = ts_req_materialize(s, r);
    if (!c) end_in_place(s, r);
    return c;
}

bool ts_req_timer_due(ts_stack *s, ts_time_t now)
{
    ts_heap_node *top = ts_heap_top(&s->heap);
    if (!top || top->owner != TS_HN_REQ || top->deadline > now) return false;
    ts_req *r = req_of_hn(top);
    if (ts_req_materialize(s, r)) return false; /* the child is on top now: the caller runs it */
    if (top->deadline > s->now) s->now = top->deadline; /* its time, as a timer's */
    end_in_place(s, r);
    return true;
}

const ts_req *ts_req_by_id(const ts_stack *s, uint32_t id)
{
    for (uint32_t i = 0; s->req_htab && i <= s->req_hmask; i++)
        for (const ts_req *r = s->req_htab[i]; r; r = r->hnext)
            if (r->id == id) return r;
    return NULL;
}

/* Teardown, before the connections': each block's child back in the table, to be freed in
 * its order with the rest (a block's rebuild reads its listener). One that memory ran out
 * for says CONN_FREE (on a rebuilt copy), as ts_conn_destroy would, and goes. */
void ts_req_destroy_all(ts_stack *s)
{
    for (uint32_t i = 0; s->req_htab && i <= s->req_hmask; i++)
        while (s->req_htab[i]) {
            ts_req *r = s->req_htab[i];
            if (ts_req_materialize(s, r)) continue;
            ts_conn c;
            ts_req_rebuild(s, r, &c);
            ts_event ev = {.type = TS_EV_CONN_FREE}; /* still listed, as ts_conn_destroy's */
            ts_emit_conn(s, &c, &ev);
            unlink_block(s, r);
            gone(s, r, TS_SYN_RECEIVED);
        }
    free(s->req_htab);
    s->req_htab = NULL;
}
