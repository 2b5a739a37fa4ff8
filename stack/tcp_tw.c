/* tcp_tw.c: TIME-WAIT in a small block, as Linux's timewait socks. An orphaned connection
 * (its user closed the handle) that enters TIME-WAIT is replaced by a ts_tw holding what
 * the 2MSL wait needs (the 4-tuple, RCV.NXT, SND.NXT, the window, TS.Recent and the
 * timestamp offset, the rate limit of replies, the deadline) and the frozen snapshot the
 * observers read (ts_stack_conn_info); the ts_conn is freed. The block answers segments
 * exactly as the whole connection did on the general path (tcp_in.c, tcp_ack.c; RFC 9293
 * 3.10.7.4 TIME-WAIT, RFC 7323 PAWS, RFC 5961): a retransmitted FIN is ACKed and
 * restarts 2MSL, an exact RST closes it, a new SYN draws a challenge ACK, anything else
 * out of the window a duplicate ACK. The events are the same too: same id, same timers,
 * TIME_WAIT -> CLOSED at expiry, CONN_FREE when the outermost call leaves.
 * A block is adopted only when nothing but TIME-WAIT is left of the connection (every
 * byte ACKed both ways, no other timer, no pending ACK, loss recovery at rest); the few
 * that are not keep their ts_conn, as does a socket still open.
 * Lookup: a chained hash by 4-tuple (ts_tw_find, internal.h); expiry: a binary min-heap
 * of deadlines, O(log n) per change; the blocks are counted in tw_blocks and tw_bytes. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- the hash ---- */

static bool hash_grow(ts_stack *s)
{
    uint32_t nmask = s->tw_htab ? s->tw_hmask * 2 + 1 : 255;
    ts_tw **nt = calloc((size_t)nmask + 1, sizeof *nt);
    if (!nt) return s->tw_htab != NULL; /* keep the old table: longer chains, still correct */
    ts_tw **ot = s->tw_htab;
    uint32_t omask = s->tw_hmask;
    s->tw_htab = nt;
    s->tw_hmask = nmask;
    for (uint32_t i = 0; ot && i <= omask; i++)
        for (ts_tw *t = ot[i], *n; t; t = n) {
            n = t->hnext;
            uint32_t b = ts_tw_bucket(s, t->local.port, t->remote.addr, t->remote.port);
            t->hnext = nt[b];
            nt[b] = t;
        }
    free(ot);
    return true;
}

static void hash_remove(ts_stack *s, ts_tw *tw)
{
    ts_tw **pp = &s->tw_htab[ts_tw_bucket(s, tw->local.port, tw->remote.addr, tw->remote.port)];
    while (*pp && *pp != tw) pp = &(*pp)->hnext;
    if (!*pp) return;
    *pp = tw->hnext;
    tw->hnext = NULL;
    s->tw_count--;
}

/* ---- the heap of deadlines (heap.c) ---- */

static void heap_remove(ts_stack *s, ts_tw *tw)
{
    ts_heap_remove(&s->tw_heap, &tw->hn);
}

static ts_tw *tw_of(ts_heap_node *n)
{
    return (ts_tw *)(void *)((char *)n - offsetof(ts_tw, hn));
}

ts_time_t ts_tw_next_deadline(const ts_stack *s)
{
    return ts_heap_min(&s->tw_heap);
}

/* ---- adoption ---- */

/* Nothing but TIME-WAIT is left of the connection, and nothing else points at it: the
 * conditions under which the block's answers below are the general path's, to the bit. */
static bool adoptable(const ts_stack *s, const ts_conn *c)
{
    if (c->dead || c->state != TS_TIME_WAIT || !c->orphan || c->sd >= 0 || c->listener ||
        c->in_accept_queue || c->on_notify_list || s->ev_conn == c || !c->hashed)
        return false;
    for (int k = 0; k < TS_NUM_TIMERS; k++)
        if (ts_timer_on(c, (ts_timer_kind)k) != (k == TS_TIMER_TIME_WAIT)) return false;
    if (c->ack_pending || c->ack_now || c->snd_una != c->snd_nxt || c->snd_nxt != c->snd_max)
        return false;
    if (c->sndq.len || c->rcvq.len || c->ooo_n || c->dsack_pending || !c->fin_rcvd || c->fin_ooo)
        return false;
    /* an armed undo record stays possible: only its D-SACK undo can still happen (the block
     * keeps what it needs); Eifel needs SND.UNA to move and F-RTO an advance or a dupACK */
    return c->ca_state == TS_CA_OPEN && !c->dupacks && !c->sacked_bytes && !c->sb_n;
}

static void copy_conn(ts_stack *s, ts_tw *tw, ts_conn *c)
{
    tw->id = c->id;
    tw->local = c->local;
    tw->remote = c->remote;
    tw->state = c->state;
    tw->hn.deadline = c->timer[TS_TIMER_TIME_WAIT];
    tw->rcv_nxt = c->rcv_nxt;
    tw->snd_nxt = c->snd_max;
    tw->snd_wnd = c->snd_wnd, tw->snd_wl1 = c->snd_wl1, tw->snd_wl2 = c->snd_wl2;
    tw->max_snd_wnd = c->max_snd_wnd;
    tw->ts_recent = c->ts_recent, tw->ts_offset = c->ts_offset;
    tw->last_ack_sent = c->last_ack_sent;
    /* the window our ACKs offer: with nothing more to receive it is settled by the first
     * computation (ts_rcv_window moves RCV.ADV once, then gives the same field) */
    tw->rcv_space = ts_rcv_space(c);
    tw->wnd_field = (uint16_t)ts_rcv_window(s, c);
    tw->rcv_space_acked = ts_rcv_space(c);
    tw->last_oow = c->last_oow, tw->oow_sent = c->oow_sent;
    tw->time_wait = c->p->time_wait, tw->invalid_ratelimit = c->p->invalid_ratelimit;
    tw->rcvbuf = c->p->rcvbuf, tw->hz = c->p->hz, tw->unsent_ack_reply = c->p->unsent_ack_reply;
    tw->tos = c->tos, tw->snd_wscale = c->snd_wscale, tw->rcv_wscale = c->rcv_wscale;
    tw->ts_ok = c->ts_ok, tw->sack_ok = c->sack_ok, tw->ws_ok = c->ws_ok;
    tw->pingpong = c->pingpong;
    tw->snd_mss = c->snd_mss, tw->rcv_mss = c->rcv_mss;
    tw->iss = c->iss, tw->irs = c->irs, tw->cwnd = c->cwnd, tw->ssthresh = c->ssthresh;
    tw->total_retrans = c->total_retrans, tw->retries = c->retries;
    tw->quickack_left = c->quickack_left;
    tw->srtt = c->srtt, tw->rttvar = c->rttvar, tw->rto = c->rto;
    memcpy(tw->cc, c->p->cc, sizeof tw->cc);
    const struct ts_undo *u = &c->undo;
    tw->undo_armed = u->armed && u->nrtx && c->p->dsack_undo;
    if (tw->undo_armed) {
        tw->undo_rto = u->rto;
        tw->undo_retrans = u->retrans;
        tw->undo_cwnd = u->cwnd, tw->undo_ssthresh = u->ssthresh;
        tw->undo_rtx_n = (uint8_t)u->rtx_n;
        memcpy(tw->undo_rtx, u->rtx, u->rtx_n * sizeof u->rtx[0]);
    }
}

bool ts_tw_adopt(ts_stack *s, ts_conn *c)
{
    if (!adoptable(s, c)) return false;
    if (s->tw_count >= s->tw_hmask && !hash_grow(s)) return false;
    if (!ts_heap_reserve(&s->tw_heap)) return false;
    ts_tw *tw = ts_mem_block(s, sizeof *tw);
    if (!tw) return false;
    copy_conn(s, tw, c);
    ts_conn_free_quiet(s, c); /* its id, nconns and conns_by_state pass to the block */
    uint32_t b = ts_tw_bucket(s, tw->local.port, tw->remote.addr, tw->remote.port);
    tw->hnext = s->tw_htab[b];
    s->tw_htab[b] = tw;
    s->tw_count++;
    tw->hn.idx = UINT32_MAX; /* not in the heap yet */
    ts_heap_set(&s->tw_heap, &tw->hn);
    s->cnt.tw_blocks++;
    s->cnt.tw_bytes += sizeof *tw;
    return true;
}

/* ---- answers: tcp_out.c's xmit of a pure ACK, on the block ---- */

static void send_ack(ts_stack *s, ts_tw *tw)
{
    uint8_t *pkt = s->pkt, *th = pkt + TS_IP4_HLEN;
    ts_tcp_opts_out o;
    memset(&o, 0, sizeof o);
    o.ts_on = tw->ts_ok; /* no SACK blocks: nothing is held out of order */
    if (o.ts_on) {
        o.tsval = (uint32_t)(s->now / TS_MSEC) + tw->ts_offset;
        o.tsecr = tw->ts_recent;
    }
    size_t olen = ts_tcp_opts_write(th + TS_TCP_HLEN, &o);
    ts_tcp_hdr h = {
        .sport = tw->local.port,
        .dport = tw->remote.port,
        .seq = tw->snd_nxt,
        .ack = tw->rcv_nxt,
        .flags = TS_TH_ACK,
        .win = tw->wnd_field,
    };
    tw->rcv_space = tw->rcv_space_acked;
    ts_tcp_write(th, &h, olen);
    size_t tcplen = TS_TCP_HLEN + olen;
    ts_tcp_write_csum(th, tcplen, s->addr, tw->remote.addr);
    tw->last_ack_sent = tw->rcv_nxt;
    s->cnt.tcp_out++;
    const ts_tw *prev = s->out_tw;
    s->out_tw = tw;
    ts_ip_output(s, NULL, tw->remote.addr, TS_IPPROTO_TCP, pkt, TS_IP4_HLEN + tcplen);
    s->out_tw = prev;
}

/* tcp_out.c's oow_limited: invalid_ratelimit, shared by every reply to a failed check. */
static bool oow_limited(ts_stack *s, ts_tw *tw)
{
    ts_time_t gap = tw->invalid_ratelimit;
    if (gap && tw->oow_sent && s->now - tw->last_oow < gap) {
        s->cnt.tcp_oow_ratelimited++;
        return true;
    }
    tw->oow_sent = true;
    tw->last_oow = s->now;
    return false;
}

static void oow_ack(ts_stack *s, ts_tw *tw, const ts_seg *g)
{
    bool takes_seq = g && (g->len || (g->flags & TS_TH_FIN)) && !(g->flags & TS_TH_SYN);
    if (!takes_seq && oow_limited(s, tw)) return;
    send_ack(s, tw);
}

static void challenge_ack(ts_stack *s, ts_tw *tw)
{
    if (oow_limited(s, tw)) return;
    s->cnt.tcp_challenge_acks++;
    s->out_why = "challenge ACK (RFC 5961)";
    send_ack(s, tw);
    s->out_why = NULL;
}

static void timer_event(ts_stack *s, ts_tw *tw, ts_event_type type, ts_time_t when)
{
    ts_event ev = {.type = type};
    ev.u.timer.kind = TS_TIMER_TIME_WAIT;
    ev.u.timer.when = when;
    ts_emit_tw(s, tw, &ev);
}

/* RFC 9293 3.10.7.4: a retransmitted FIN restarts the 2MSL wait (on hz's tick). */
static void restart(ts_stack *s, ts_tw *tw)
{
    tw->hn.deadline = ts_tick_deadline_hz(tw->hz, s->now, s->now + tw->time_wait);
    ts_heap_set(&s->tw_heap, &tw->hn);
    timer_event(s, tw, TS_EV_TIMER_SET, tw->hn.deadline);
}

/* ts_conn_done's steps after the timers: out of the table, CLOSED (the STATE event), and
 * freed when the outermost call leaves, with CONN_FREE. */
static void finish(ts_stack *s, ts_tw *tw)
{
    hash_remove(s, tw);
    ts_event ev = {.type = TS_EV_STATE};
    ev.u.state.from = tw->state;
    ev.u.state.to = TS_CLOSED;
    s->cnt.conns_by_state[tw->state]--;
    s->cnt.conns_by_state[TS_CLOSED]++;
    tw->state = TS_CLOSED;
    ts_emit_tw(s, tw, &ev);
    tw->free_next = s->tw_free;
    s->tw_free = tw;
}

void ts_tw_close(ts_stack *s, ts_tw *tw)
{
    if (tw->hn.deadline != TS_TIME_NEVER) {
        heap_remove(s, tw);
        tw->hn.deadline = TS_TIME_NEVER;
        timer_event(s, tw, TS_EV_TIMER_CANCEL, 0);
    }
    finish(s, tw);
}

bool ts_tw_expire_next(ts_stack *s, ts_time_t now)
{
    ts_heap_node *top = ts_heap_top(&s->tw_heap);
    if (!top || top->deadline > now) return false;
    ts_tw *tw = tw_of(top);
    ts_time_t due = tw->hn.deadline;
    if (due > s->now) s->now = due; /* never run backwards */
    heap_remove(s, tw);
    tw->hn.deadline = TS_TIME_NEVER;
    timer_event(s, tw, TS_EV_TIMER_FIRE, due);
    finish(s, tw);
    return true;
}

/* ---- a segment for the block: tcp_in.c's synced_input and tcp_ack.c's ts_ack_input as
 * they run in TIME-WAIT with nothing outstanding ---- */

static bool acceptable(const ts_tw *tw, const ts_seg *g)
{
    uint32_t wnd = tw->rcv_space, slen = seg_seqlen(g);
    bool start_in = seq_le(tw->rcv_nxt, g->seq) && seq_lt(g->seq, tw->rcv_nxt + wnd);
    if (slen == 0) return wnd == 0 ? g->seq == tw->rcv_nxt : start_in;
    if (wnd == 0) return false;
    uint32_t last = g->seq + slen - 1;
    return start_in || (seq_le(tw->rcv_nxt, last) && seq_lt(last, tw->rcv_nxt + wnd));
}

/* tcp_in.c's dup_ts_recent: a duplicate that looks like the peer's own refreshes TS.Recent. */
static void dup_ts_recent(ts_tw *tw, const ts_seg *g)
{
    if (!tw->ts_ok || !g->opts.has_ts || (g->flags & (TS_TH_ACK | TS_TH_SYN)) != TS_TH_ACK) return;
    if (!seq_le(g->seq, tw->last_ack_sent)) return;
    if (seq_lt(g->seq + seg_seqlen(g), tw->rcv_nxt - tw->rcvbuf)) return;
    if (seq_gt(g->ack, tw->snd_nxt) || seq_lt(g->ack, tw->snd_nxt - tw->max_snd_wnd)) return;
    tw->ts_recent = g->opts.tsval;
}

/* tcp_loss.c's test: the first SACK block is a D-SACK (RFC 2883 4). */
static bool has_dsack(const ts_seg *g)
{
    const ts_sack_block *b = g->opts.sack;
    if (!g->opts.nsack || !seq_lt(b[0].start, b[0].end)) return false;
    if (seq_lt(b[0].start, g->ack)) return true;
    return g->opts.nsack > 1 && seq_ge(b[0].start, b[1].start) && seq_le(b[0].end, b[1].end);
}

/* tcp_loss.c's D-SACK with nothing outstanding: counted; it marks the undo record's
 * retransmissions it covers as duplicates, and when none is left the episode is undone
 * (RFC 3708): cwnd and ssthresh restored, UNDO, then CWND if cwnd moved. */
static void dsack_in(ts_stack *s, ts_tw *tw, const ts_sack_block *d)
{
    s->cnt.tcp_dsack_in++;
    if (!tw->undo_armed) return;
    uint32_t mss = tw->snd_mss ? tw->snd_mss : 536;
    for (uint32_t i = 0; i < tw->undo_rtx_n && tw->undo_retrans; i++) {
        uint32_t lo = seq_max(d->start, tw->undo_rtx[i].start);
        uint32_t hi = seq_min(d->end, tw->undo_rtx[i].end);
        if (!seq_lt(lo, hi)) continue;
        uint32_t segs = (hi - lo + mss - 1) / mss;
        tw->undo_retrans -= segs < tw->undo_retrans ? segs : tw->undo_retrans;
    }
    if (tw->undo_retrans) return;
    uint32_t before = tw->cwnd;
    if (tw->cwnd < tw->undo_cwnd) tw->cwnd = tw->undo_cwnd;
    if (tw->ssthresh < tw->undo_ssthresh) tw->ssthresh = tw->undo_ssthresh;
    s->cnt.tcp_dsack_undo++;
    tw->undo_armed = false;
    ts_event ev = {.type = TS_EV_UNDO};
    ev.u.undo.kind = TS_UNDO_DSACK;
    ev.u.undo.rto = tw->undo_rto;
    ev.u.undo.cwnd = tw->cwnd;
    ev.u.undo.ssthresh = tw->ssthresh;
    ts_emit_tw(s, tw, &ev);
    if (tw->cwnd == before) return;
    ts_event cw = {.type = TS_EV_CWND};
    cw.u.cwnd.cwnd = tw->cwnd;
    cw.u.cwnd.ssthresh = tw->ssthresh;
    ts_emit_tw(s, tw, &cw);
}

/* An acceptable ACK (tcp_ack.c): its checks, TS.Recent, the D-SACK count (all that
 * ts_loss_ack does with nothing outstanding), the window; a FIN is ACKed again. */
static void ack_input(ts_stack *s, ts_tw *tw, const ts_seg *g)
{
    if (seq_gt(g->ack, tw->snd_nxt)) {
        ts_drop(s, TS_DROP_TCP_BAD_ACK, g->pkt, g->pkt_len);
        if (tw->unsent_ack_reply) oow_ack(s, tw, NULL);
        return;
    }
    if (seq_lt(g->ack, tw->snd_nxt - tw->max_snd_wnd)) {
        ts_drop(s, TS_DROP_TCP_BAD_ACK, g->pkt, g->pkt_len);
        challenge_ack(s, tw);
        return;
    }
    if (tw->ts_ok && g->opts.has_ts && seq_le(g->seq, tw->last_ack_sent))
        tw->ts_recent = g->opts.tsval;
    if (has_dsack(g)) dsack_in(s, tw, &g->opts.sack[0]);
    if (seq_lt(tw->snd_wl1, g->seq) || (tw->snd_wl1 == g->seq && seq_le(tw->snd_wl2, g->ack))) {
        tw->snd_wnd = (uint32_t)g->wnd << tw->snd_wscale;
        tw->snd_wl1 = g->seq;
        tw->snd_wl2 = g->ack;
        if (tw->snd_wnd > tw->max_snd_wnd) tw->max_snd_wnd = tw->snd_wnd;
    }
    if (g->flags & TS_TH_FIN) { /* the FIN again: ACK it, and 2MSL starts over */
        restart(s, tw);
        send_ack(s, tw);
    }
}

void ts_tw_input(ts_stack *s, ts_tw *tw, const ts_seg *g)
{
    bool rst = g->flags & TS_TH_RST;
    if (tw->ts_ok && g->opts.has_ts && !rst && seq_lt(g->opts.tsval, tw->ts_recent)) {
        ts_drop(s, TS_DROP_TCP_PAWS, g->pkt, g->pkt_len); /* RFC 7323 5.3 */
        oow_ack(s, tw, g);
        return;
    }
    if (!acceptable(tw, g)) {
        ts_drop(s, rst ? TS_DROP_TCP_RST_INVALID : TS_DROP_TCP_OUT_OF_WINDOW, g->pkt, g->pkt_len);
        if (rst) return;
        dup_ts_recent(tw, g);
        /* RFC 9293 3.10.7.4: a retransmitted FIN is ACKed and restarts the 2MSL wait */
        if (g->flags & TS_TH_FIN) restart(s, tw);
        oow_ack(s, tw, g);
        return;
    }
    if (rst) {
        if (g->seq != tw->rcv_nxt) { /* RFC 5961 3.2 */
            challenge_ack(s, tw);
            return;
        }
        s->cnt.tcp_rst_in++;
        ts_tw_close(s, tw); /* quietly: the peer is done */
        return;
    }
    if (g->flags & TS_TH_SYN) { /* RFC 5961 4.2: no reuse of the 4-tuple by a new SYN */
        challenge_ack(s, tw);
        return;
    }
    if (!(g->flags & TS_TH_ACK)) {
        ts_drop(s, TS_DROP_TCP_FLAGS, g->pkt, g->pkt_len);
        return;
    }
    ack_input(s, tw, g);
}

/* ---- what observers read, and the end ---- */

/* The snapshot socket.c's fill_info gave of the connection, from the block: nothing sent
 * is outstanding or queued, recovery is at rest, only the 2MSL timer runs. */
void ts_tw_info(const ts_tw *tw, ts_tcp_info *o)
{
    memset(o, 0, sizeof *o);
    o->state = tw->state;
    o->conn_id = tw->id;
    o->local = tw->local;
    o->remote = tw->remote;
    o->iss = tw->iss;
    o->irs = tw->irs;
    o->snd_una = o->snd_nxt = o->snd_max = tw->snd_nxt;
    o->snd_wnd = tw->snd_wnd;
    o->snd_wl1 = tw->snd_wl1;
    o->snd_wl2 = tw->snd_wl2;
    o->rcv_nxt = tw->rcv_nxt;
    o->rcv_wnd = tw->rcv_space;
    o->snd_mss = tw->snd_mss;
    o->rcv_mss = tw->rcv_mss;
    o->snd_wscale = tw->snd_wscale;
    o->rcv_wscale = tw->rcv_wscale;
    o->wscale_ok = tw->ws_ok;
    o->sack_ok = tw->sack_ok;
    o->ts_ok = tw->ts_ok;
    o->srtt = tw->srtt;
    o->rttvar = tw->rttvar;
    o->rto = tw->rto;
    o->cwnd = tw->cwnd;
    o->ssthresh = tw->ssthresh;
    o->retransmits = tw->total_retrans;
    o->backoff = tw->retries;
    o->pingpong = tw->pingpong;
    o->quickack_left = tw->quickack_left;
    o->fin_rcvd = true;
    memcpy(o->cc, tw->cc, sizeof o->cc);
    o->ca_state = TS_CA_OPEN;
    for (int k = 0; k < TS_NUM_TIMERS; k++) o->timer[k] = TS_TIME_NEVER;
    o->timer[TS_TIMER_TIME_WAIT] = tw->hn.deadline;
}

ts_tw *ts_tw_by_id(const ts_stack *s, uint32_t id)
{
    for (uint32_t i = 0; s->tw_htab && i <= s->tw_hmask; i++)
        for (ts_tw *t = s->tw_htab[i]; t; t = t->hnext)
            if (t->id == id) return t;
    return NULL;
}

/* ts_conn_destroy's end: CONN_FREE, then the counts the connection held. */
static void destroy(ts_stack *s, ts_tw *tw)
{
    ts_event ev = {.type = TS_EV_CONN_FREE};
    ts_emit_tw(s, tw, &ev);
    hash_remove(s, tw);
    heap_remove(s, tw);
    s->cnt.conns_by_state[tw->state]--;
    s->nconns--;
    s->cnt.tw_blocks--;
    s->cnt.tw_bytes -= sizeof *tw;
    ts_mem_block_free(s, tw, sizeof *tw);
}

void ts_tw_reap(ts_stack *s)
{
    while (s->tw_free) {
        ts_tw *tw = s->tw_free;
        s->tw_free = tw->free_next;
        destroy(s, tw);
    }
}

void ts_tw_destroy_all(ts_stack *s)
{
    for (uint32_t i = 0; s->tw_htab && i <= s->tw_hmask; i++)
        while (s->tw_htab[i]) destroy(s, s->tw_htab[i]);
    ts_tw_reap(s);
    free(s->tw_htab);
    ts_heap_free(&s->tw_heap);
    s->tw_htab = NULL;
}
