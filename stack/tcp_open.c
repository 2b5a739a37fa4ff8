/* tcp_open.c: the three-way handshake: active open (connect), passive open (a SYN on a
 * listener, and listen() itself), the SYN-SENT case, the handshake's last ACK, the one ISS setup
 * both opens share, and the options they agree (RFC 9293 3.5, 3.10.7.2-3; RFC 7323, RFC 2018). */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define TS_MIN_SND_MSS 48 /* smallest sending MSS, options included (Linux TCP_MIN_SND_MSS) */

/* The send side's start, the same for both opens: the ISS (RFC 6528), the timestamp
 * offset, SND.UNA (and SND.NXT until the SYN goes: nothing in flight) and NewReno's
 * recover (RFC 6582 3.2: at the ISS, not 0). */
static uint32_t ts_offset_of(const ts_stack *s, uint32_t iss)
{
    return (uint32_t)ts_siphash(s->key, &iss, sizeof iss);
}

static void iss_set(ts_conn *c, uint32_t iss, uint32_t ts_offset)
{
    c->iss = iss;
    c->ts_offset = ts_offset;
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    c->recover = c->iss;
    ts_sack_clear(c);
    c->snd_buf_seq = c->iss + 1;
}

static void iss_init(ts_stack *s, ts_conn *c)
{
    uint32_t iss = ts_isn(s, c);
    iss_set(c, iss, ts_offset_of(s, iss));
}

/* Options agreed in the handshake (RFC 7323 2.2, 3.2; RFC 2018 2; RFC 9293 3.7.1). */
static void negotiate(ts_conn *c, const ts_seg *g)
{
    c->peer_mss = g->opts.has_mss && g->opts.mss ? g->opts.mss : 536;
    c->ws_ok = c->p->wscale_on && g->opts.has_wscale;
    c->snd_wscale = c->ws_ok ? (g->opts.wscale > 14 ? 14 : g->opts.wscale) : 0;
    /* the shift we offer: an active open chose it as its SYN left (ts_open_active), so a
     * later change of rcvbuf cannot make the SYN and our reading of the window disagree */
    uint8_t offer = c->state == TS_SYN_SENT ? c->rcv_wscale : (uint8_t)ts_params_wscale(c->p);
    c->rcv_wscale = c->ws_ok ? offer : 0;
    c->sack_ok = c->p->sack && g->opts.has_sackok;
    c->ts_ok = c->p->timestamps && g->opts.has_ts;
    if (c->ts_ok) c->ts_recent = g->opts.tsval;
    uint32_t optlen = c->ts_ok ? TS_TS_OPT_LEN : 0;
    uint32_t mss = c->peer_mss < c->p->mss ? c->peer_mss : c->p->mss;
    /* Linux's TCP_MIN_SND_MSS (the fix for CVE-2019-11479): a peer MSS of 1..47 would cut
     * 64 KB into thousands of tiny segments; clamp to 48, options then taken out of it */
    if (mss < TS_MIN_SND_MSS) mss = TS_MIN_SND_MSS;
    c->snd_mss = (uint16_t)(mss - optlen);
    c->rcv_mss = (uint16_t)(c->p->mss - optlen);
}

/* listen(): the passive open (RFC 9293 3.10.1); the caller has bound the port. */
void ts_open_listen(ts_stack *s, ts_conn *c)
{
    ts_set_state(s, c, TS_LISTEN);
    ts_conn_hash(s, c);
}

/* connect(): send the SYN (RFC 9293 3.10.1); the caller has bound the ports. */
void ts_open_active(ts_stack *s, ts_conn *c)
{
    iss_init(s, c);
    c->snd_mss = (uint16_t)(c->p->mss > 536 ? 536 : c->p->mss); /* until the peer's SYN */
    c->rcv_mss = (uint16_t)c->p->mss;
    c->rcv_wscale = (uint8_t)ts_params_wscale(c->p); /* offered; kept if the peer agrees */
    c->cc_ops->init(c); /* provisional (read by observers); again once established */
    ts_conn_hash(s, c);
    ts_set_state(s, c, TS_SYN_SENT);
    c->rtt_timed_at = s->now;
    ts_send_syn(s, c);
    ts_rto_arm(s, c);
}

/* The receive window a SYN-ACK offers: 65535 rounded down to whole segments (RFC 7323 2.2:
 * a SYN's window is never scaled), at most the buffer. Nothing is reserved for it: the
 * receive ring is allocated as data arrives (tcp_rcv.c), so a connection that never
 * receives data holds none (docs/architecture.md, "Memory per connection"). */
static void synack_window(ts_conn *c)
{
    uint32_t mss = c->p->mss - (c->ts_ok ? TS_TS_OPT_LEN : 0);
    c->rcv_ssthresh = 65535 / mss * mss;
    if (c->rcv_ssthresh > c->p->rcvbuf) c->rcv_ssthresh = c->p->rcvbuf;
    c->rcv_adv = c->rcv_nxt + c->rcv_ssthresh;
}

/* A passive child's receive and send sides from the SYN (g, its sequence number irs) and
 * the ISS: the same steps whether child_new makes it or ts_open_embryo rebuilds it. */
static void child_syn(ts_conn *c, const ts_seg *g, uint32_t irs, uint32_t iss, uint32_t ts_offset)
{
    ts_rcv_init(c, irs);
    negotiate(c, g);
    c->snd_wnd = g->wnd; /* a SYN's window is never scaled */
    iss_set(c, iss, ts_offset);
    c->cc_ops->init(c); /* provisional (read by observers); again once established */
}

/* A SYN-RECEIVED child of the listener for the peer's SYN (g, or the cookie ACK's rebuilt
 * SYN), in the SYN queue, with this ISS; NULL when out of memory or sockets. */
static ts_conn *child_new(ts_stack *s, ts_conn *l, const ts_seg *g, uint32_t irs, bool cookie,
                          uint32_t iss)
{
    ts_conn *c = ts_conn_new(s, l->p, NULL); /* shares the listener's parameters */
    if (!c) return NULL;
    c->local.port = g->dport;
    c->remote.addr = g->src;
    c->remote.port = g->sport;
    c->listener = l;
    ts_conn_synq_add(l, c);
    /* What the user set on the listener carries over, as Linux clones the listening
     * socket: IP_TOS (the SYN-ACK's too), TCP_CORK, TCP_NOTSENT_LOWAT (TCP_NODELAY rides
     * in c->p). */
    c->tos = l->tos, c->cork = l->cork, c->notsent_lowat = l->notsent_lowat;
    if (!cookie) iss = ts_isn(s, c);
    child_syn(c, g, irs, iss, ts_offset_of(s, iss));
    c->from_cookie = cookie;
    ts_conn_hash(s, c);
    ts_set_state(s, c, TS_SYN_RECEIVED);
    synack_window(c);
    c->rtt_timed_at = s->now;
    return c;
}

/* RFC 4987 3.6: answer the SYN with a cookie as the ISN and keep nothing. The SYN-ACK is
 * built on a connection that lives on the C stack for this call only (as the RST for a
 * segment with no connection is), so it carries exactly what a child's would, with the
 * peer's window scale and SACK in the TSval's low bits (syncookie.c). Without timestamps
 * nothing can carry them: the SYN-ACK offers neither, and the connection runs without. */
static void send_cookie(ts_stack *s, ts_conn *l, const ts_seg *g)
{
    ts_conn tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.p = l->p;
    tmp.state = TS_SYN_RECEIVED;
    tmp.sd = -1;
    tmp.hn.idx = UINT32_MAX;
    for (int k = 0; k < TS_NUM_TIMERS; k++) tmp.timer[k] = TS_TIME_NEVER;
    tmp.hn.deadline = TS_TIME_NEVER;
    tmp.delack_ops = l->delack_ops;
    tmp.tos = l->tos;
    tmp.local.addr = s->addr, tmp.local.port = g->dport;
    tmp.remote.addr = g->src, tmp.remote.port = g->sport;
    ts_rcv_init(&tmp, g->seq);
    negotiate(&tmp, g);
    uint16_t mss;
    uint32_t cookie = ts_cookie_make(s, g, &mss);
    iss_set(&tmp, cookie, ts_offset_of(s, cookie));
    if (tmp.ts_ok) {
        uint32_t now_ms = (uint32_t)(s->now / TS_MSEC);
        tmp.ts_offset =
            ts_cookie_tsval(now_ms + tmp.ts_offset, tmp.ws_ok, tmp.snd_wscale, tmp.sack_ok) -
            now_ms;
    } else {
        tmp.ws_ok = tmp.sack_ok = false;
    }
    s->cnt.tcp_syncookies_sent++;
    l->cookie_sent = true;
    l->cookie_sent_at = s->now;
    s->out_why = "SYN cookie (RFC 4987)";
    ts_send_syn(s, &tmp);
    s->out_why = NULL;
}

/* LISTEN (RFC 9293 3.10.7.2): a SYN makes a SYN-RECEIVED child of the listener, in the
 * SYN queue (max_syn_backlog); when that is full, or always with syncookies=2, it is
 * answered with a SYN cookie instead (RFC 4987). A full accept queue (backlog) drops the
 * SYN first, as Linux's tcp_conn_request does: a connection made now could not be queued. */
ts_conn *ts_open_passive(ts_stack *s, ts_conn *l, const ts_seg *g)
{
    if (g->flags & TS_TH_RST) return NULL;
    if (g->flags & TS_TH_ACK) { /* no half-open connection matches: reset it */
        /* RFC 9293 3.10.7.2: any ACK is bad in LISTEN; counted like every refused segment */
        ts_drop(s, TS_DROP_TCP_STATE, g->pkt, g->pkt_len);
        ts_send_rst_for(s, g);
        return NULL;
    }
    if (!(g->flags & TS_TH_SYN)) {
        ts_drop(s, TS_DROP_TCP_STATE, g->pkt, g->pkt_len);
        return NULL;
    }
    if (ts_acceptq_full(l)) {
        ts_drop(s, TS_DROP_TCP_BACKLOG, g->pkt, g->pkt_len);
        return NULL;
    }
    bool synq_full = l->n_syn >= l->p->max_syn_backlog;
    if (l->p->syncookies == 2 || (l->p->syncookies == 1 && synq_full)) {
        send_cookie(s, l, g);
        return NULL;
    }
    if (synq_full) {
        ts_drop(s, TS_DROP_TCP_BACKLOG, g->pkt, g->pkt_len);
        return NULL;
    }
    ts_conn *c = child_new(s, l, g, g->seq, false, 0);
    if (!c) {
        ts_drop(s, TS_DROP_TCP_NO_MEMORY, g->pkt, g->pkt_len);
        return NULL;
    }
    ts_send_syn(s, c);
    ts_rto_arm(s, c);
    return c;
}

/* The child child_new and the SYN-ACK made (no cookie), step for step, from what the
 * request block kept; then what moved while it waited (tcp_req.c checks the result against
 * the child byte for byte before it lets the child go). */
void ts_open_embryo(ts_stack *s, ts_conn *c, const ts_req *r)
{
    c->p = r->p;
    const ts_conn *l = r->listener;
    if (c->p == l->p) { /* the policies its parameters name, as the listener found them */
        c->rto_ops = l->rto_ops, c->backoff_ops = l->backoff_ops;
        c->delack_ops = l->delack_ops, c->cc_ops = l->cc_ops;
    } else {
        ts_conn_policies(c, NULL, 0); /* found when the child was made */
    }
    c->id = r->id;
    ts_conn_defaults(s, c);
    c->local.port = r->lport;
    c->remote.addr = r->raddr;
    c->remote.port = r->rport;
    c->listener = r->listener;
    c->tos = r->tos, c->cork = r->cork, c->notsent_lowat = r->notsent_lowat;
    ts_seg g = {.seq = r->irs, .wnd = r->wnd};
    g.opts.has_mss = true, g.opts.mss = r->mss;
    g.opts.has_wscale = r->has_wscale, g.opts.wscale = r->wscale;
    g.opts.has_sackok = r->has_sackok;
    g.opts.has_ts = r->has_ts, g.opts.tsval = r->ts_recent;
    child_syn(c, &g, r->irs, r->iss, r->ts_offset);
    c->state = TS_SYN_RECEIVED;
    synack_window(c);
    c->rtt_timed_at = r->rtt_timed_at;
    /* ts_send_syn and ts_rto_arm, and what the waiting moved */
    c->snd_nxt = c->snd_max = c->iss + 1;
    c->txm_floor = r->txm_floor;
    c->last_snd_time = r->last_snd_time;
    c->last_seg_in = r->last_seg_in;
    c->retries = r->retries;
    c->total_retrans = r->total_retrans;
    c->last_oow = r->last_oow, c->oow_sent = r->oow_sent;
    c->timer[TS_TIMER_RETRANSMIT] = c->hn.deadline = r->hn.deadline;
}

/* The ACK of a SYN cookie (RFC 4987 3.6), checked only while cookies are in use on the
 * listener (always with syncookies=2; with 1, for two cookie periods after the last one
 * sent, as Linux checks only after a recent overflow): a valid cookie makes the child the
 * SYN would have made, with the MSS the cookie says and, when the ACK has timestamps,
 * the window scale and SACK its TSecr says. The caller feeds it the ACK, which
 * establishes it into the accept queue. */
int ts_open_cookie(ts_stack *s, ts_conn *l, const ts_seg *g, ts_conn **out)
{
    if ((g->flags & (TS_TH_SYN | TS_TH_RST | TS_TH_ACK)) != TS_TH_ACK) return 0;
    bool recent = l->cookie_sent && s->now - l->cookie_sent_at < 128 * TS_SEC;
    if (l->p->syncookies == 0 || (l->p->syncookies == 1 && !recent)) return 0;
    uint16_t mss;
    ts_seg syn = *g; /* the SYN the cookie stands for */
    memset(&syn.opts, 0, sizeof syn.opts);
    bool ws_ok = false, sack_ok = false;
    uint8_t ws = 0;
    if (!ts_cookie_check(s, g, &mss) ||
        (l->p->timestamps && g->opts.has_ts &&
         !ts_cookie_ts_decode(g->opts.tsecr, &ws_ok, &ws, &sack_ok))) {
        s->cnt.tcp_syncookies_failed++;
        return 0;
    }
    if (ts_acceptq_full(l)) { /* Linux: the ACK is dropped; a retransmission may get in */
        ts_drop(s, TS_DROP_TCP_BACKLOG, g->pkt, g->pkt_len);
        return -1;
    }
    syn.opts.has_mss = true, syn.opts.mss = mss;
    syn.opts.has_wscale = ws_ok, syn.opts.wscale = ws;
    syn.opts.has_sackok = sack_ok;
    syn.opts.has_ts = g->opts.has_ts, syn.opts.tsval = g->opts.tsval;
    /* the ACK's window is scaled: established() sets snd_wnd from it when synced_input
     * hands the child the ACK */
    ts_conn *c = child_new(s, l, &syn, g->seq - 1, true, g->ack - 1);
    if (!c) {
        ts_drop(s, TS_DROP_TCP_NO_MEMORY, g->pkt, g->pkt_len);
        return -1;
    }
    s->cnt.tcp_syncookies_ok++;
    c->snd_nxt = c->snd_max = c->iss + 1; /* our SYN-ACK went out, statelessly */
    ts_rto_arm(s, c);                     /* as any SYN-RECEIVED child; the ACK clears it at once */
    *out = c;
    return 1;
}

static void established(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    c->snd_una = g->ack;
    c->snd_wnd = (uint32_t)g->wnd << c->snd_wscale;
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = g->seq;
    c->snd_wl2 = g->ack;
    if (c->from_cookie) {
        /* no time was kept for the SYN-ACK (the TSecr's low bits are options): no sample,
         * the RTO stays at rto_init */
    } else if (c->total_retrans == 0 || !ts_karn(c)) { /* Karn: an unretransmitted SYN only */
        c->min_rtt = s->now - c->rtt_timed_at;
        c->rto_ops->sample(c, s->now - c->rtt_timed_at);
        ts_event ev = {.type = TS_EV_RTT_SAMPLE};
        ev.u.rtt.sample = s->now - c->rtt_timed_at;
        ev.u.rtt.srtt = c->srtt;
        ev.u.rtt.rttvar = c->rttvar;
        ev.u.rtt.rto = c->rto;
        ts_emit_conn(s, c, &ev);
    } else if (!c->rto_ops->constant) { /* rto_policy=fixed keeps rto_init */
        c->rto = c->p->rto_fallback;    /* RFC 6298 5.7 */
    }
    c->synack_retransmitted = c->retries > 1;
    c->retries = 0;
    ts_hystart_attach(s, c); /* its state block, only if HyStart may run */
    c->cc_ops->init(c);
    ts_loss_start(c); /* OPEN; SACK or NewReno recovery, chosen once */
    ts_timer_clear(s, c, TS_TIMER_RETRANSMIT);
    ts_set_state(s, c, TS_ESTABLISHED);
    if (c->p->keepalive) ts_timer_set(s, c, TS_TIMER_KEEPALIVE, s->now + c->p->keepalive_idle);
}

/* SYN-SENT (RFC 9293 3.10.7.3): the peer's SYN-ACK, its RST, or its SYN. */
void ts_open_syn_sent(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    bool ack_ok = seq_gt(g->ack, c->iss) && seq_le(g->ack, c->snd_max);
    if ((g->flags & TS_TH_ACK) && !ack_ok) {
        if (!(g->flags & TS_TH_RST)) ts_send_rst_for(s, g);
        ts_drop(s, TS_DROP_TCP_BAD_ACK, g->pkt, g->pkt_len);
        return;
    }
    if (g->flags & TS_TH_RST) {
        if (g->flags & TS_TH_ACK) { /* connection refused */
            s->cnt.tcp_rst_in++;
            s->cnt.tcp_conn_failed++;
            ts_conn_done(s, c, -ECONNREFUSED);
        } else {
            ts_drop(s, TS_DROP_TCP_RST_INVALID, g->pkt, g->pkt_len);
        }
        return;
    }
    if (!(g->flags & TS_TH_SYN)) {
        ts_drop(s, TS_DROP_TCP_STATE, g->pkt, g->pkt_len);
        return;
    }
    ts_rcv_init(c, g->seq);
    negotiate(c, g);
    c->rcv_ssthresh = 65535 / c->p->mss * c->p->mss;
    if (c->rcv_ssthresh > c->p->rcvbuf) c->rcv_ssthresh = c->p->rcvbuf;
    c->rcv_adv = c->rcv_nxt + c->rcv_ssthresh; /* no ring yet: see synack_window */
    if (g->flags & TS_TH_ACK) {
        established(s, c, g);
        c->snd_wnd = c->max_snd_wnd = g->wnd; /* RFC 7323 2.2: a SYN's window is unscaled */
        s->cnt.tcp_conn_opened++;
        ts_send_ack(s, c); /* the handshake's third segment goes out at once */
        ts_notify(s, c, TS_SOCK_CONNECTED | TS_SOCK_WRITABLE);
        ts_tcp_output(s, c); /* data queued before the connection completed */
    } else {                 /* simultaneous open (RFC 9293 3.5, figure 7) */
        c->snd_wnd = g->wnd;
        ts_set_state(s, c, TS_SYN_RECEIVED);
        ts_send_syn(s, c);
        ts_rto_arm(s, c);
    }
}

/* The handshake's last ACK arrived in SYN-RECEIVED (RFC 9293 3.10.7.4, ACK step). */
void ts_synack_acked(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    established(s, c, g);
    s->cnt.tcp_conn_opened++;
    ts_conn *l = c->listener;
    if (l) { /* passive open: from the SYN queue to the accept queue, for accept() */
        s->cnt.tcp_conn_accepted++;
        ts_conn_to_acceptq(l, c);
        ts_notify(s, l, TS_SOCK_READABLE);
    } else { /* simultaneous open */
        ts_notify(s, c, TS_SOCK_CONNECTED | TS_SOCK_WRITABLE);
    }
}
