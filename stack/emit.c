/* emit.c: what the core tells its user while it works: events (with the connection they
 * concern), drops counted by reason, and the readiness queue that stack.c delivers when
 * the outermost call returns. A low floor: every TCP file reports through it. */
#include "internal.h"

void ts_emit(ts_stack *s, ts_event *ev)
{
    if (!s->event) return;
    ev->now = s->now;
    s->event(s->event_ctx, ev);
}

/* Deliver ev as an event of the connection (or TIME-WAIT block) with this identity;
 * ts_stack_conn_info answers from c or tw while it is delivered. */
static void emit_as(ts_stack *s, uint32_t id, ts_endpoint local, ts_endpoint remote,
                    const ts_conn *c, const ts_tw *tw, ts_event *ev)
{
    if (!s->event) return;
    ev->conn.id = id;
    ev->conn.local = local;
    ev->conn.remote = remote;
    const ts_conn *prev = s->ev_conn;
    const ts_tw *prev_tw = s->ev_tw;
    s->ev_conn = c;
    s->ev_tw = tw;
    ts_emit(s, ev);
    s->ev_conn = prev;
    s->ev_tw = prev_tw;
}

void ts_emit_conn(ts_stack *s, ts_conn *c, ts_event *ev)
{
    emit_as(s, c->id, c->local, c->remote, c, NULL, ev);
}

/* An event of a connection that a TIME-WAIT block holds (tcp_tw.c): the same identity. */
void ts_emit_tw(ts_stack *s, const ts_tw *tw, ts_event *ev)
{
    emit_as(s, tw->id, tw->local, tw->remote, NULL, tw, ev);
}

/* The one builder of TS_EV_RETRANSMIT: count and rto as the caller accounts them (the
 * timers: the consecutive timeout and what the timer has left; recovery and the TLP: 1
 * and the RTO in force). */
void ts_emit_rexmit(ts_stack *s, ts_conn *c, ts_rexmit_kind k, uint32_t seq, uint32_t len,
                    uint32_t count, ts_time_t rto)
{
    ts_event ev = {.type = TS_EV_RETRANSMIT};
    ev.u.rexmit.kind = k;
    ev.u.rexmit.seq = seq;
    ev.u.rexmit.len = len;
    ev.u.rexmit.count = count;
    ev.u.rexmit.rto = rto;
    ts_emit_conn(s, c, &ev);
}

void ts_drop(ts_stack *s, ts_drop_reason r, const uint8_t *pkt, size_t len)
{
    s->cnt.drops[r]++;
    if (r == TS_DROP_IP_CHECKSUM || r == TS_DROP_ICMP_CHECKSUM || r == TS_DROP_TCP_CHECKSUM)
        s->cnt.checksum_errors++;
    ts_event ev = {.type = TS_EV_DROP};
    ev.u.drop.reason = r;
    ev.u.drop.pkt = pkt;
    ev.u.drop.len = len;
    ts_emit(s, &ev);
}

/* Readiness bits are collected while the stack works and delivered when the outermost
 * call returns, so callbacks never run inside TCP processing. */
void ts_notify(ts_stack *s, ts_conn *c, unsigned bits)
{
    if (c->sd < 0 || !bits) return;
    c->notify |= bits;
    if (c->on_notify_list) return;
    c->on_notify_list = true;
    c->notify_next = NULL;
    if (s->notify_tail)
        s->notify_tail->notify_next = c;
    else
        s->notify_head = c;
    s->notify_tail = c;
}
