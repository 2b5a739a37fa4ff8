/* tcp_open.c: the three-way handshake: active open (connect), passive open (a SYN on a
 * listener, and listen() itself), the SYN-SENT case, the handshake's last ACK, the one ISS setup
 * both opens share, and the options they agree (RFC 9293 3.5, 3.10.7.2-3; RFC 7323, RFC 2018). */
#include <errno.h>

#include "internal.h"

#define TS_MIN_SND_MSS 48 /* smallest sending MSS, options included (Linux TCP_MIN_SND_MSS) */

/* The send side's start, the same for both opens: the ISS (RFC 6528), the timestamp
 * offset, SND.UNA (and SND.NXT until the SYN goes: nothing in flight) and NewReno's
 * recover (RFC 6582 3.2: at the ISS, not 0). */
static void iss_init(ts_stack *s, ts_conn *c)
{
    c->iss = ts_isn(s, c);
    c->ts_offset = (uint32_t)ts_siphash(s->key, &c->iss, sizeof c->iss);
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    c->recover = c->iss;
    ts_sack_clear(c);
    c->snd_buf_seq = c->iss + 1;
}

/* Options agreed in the handshake (RFC 7323 2.2, 3.2; RFC 2018 2; RFC 9293 3.7.1). */
static void negotiate(ts_conn *c, const ts_seg *g)
{
    c->peer_mss = g->opts.has_mss && g->opts.mss ? g->opts.mss : 536;
    c->ws_ok = c->p.wscale_on && g->opts.has_wscale;
    c->snd_wscale = c->ws_ok ? (g->opts.wscale > 14 ? 14 : g->opts.wscale) : 0;
    c->rcv_wscale = c->ws_ok ? (uint8_t)c->p.wscale : 0;
    c->sack_ok = c->p.sack && g->opts.has_sackok;
    c->ts_ok = c->p.timestamps && g->opts.has_ts;
    if (c->ts_ok) c->ts_recent = g->opts.tsval;
    uint32_t optlen = c->ts_ok ? TS_TS_OPT_LEN : 0;
    uint32_t mss = c->peer_mss < c->p.mss ? c->peer_mss : c->p.mss;
    /* Linux's TCP_MIN_SND_MSS (the fix for CVE-2019-11479): a peer MSS of 1..47 would cut
     * 64 KB into thousands of tiny segments; clamp to 48, options then taken out of it */
    if (mss < TS_MIN_SND_MSS) mss = TS_MIN_SND_MSS;
    c->snd_mss = (uint16_t)(mss - optlen);
    c->rcv_mss = (uint16_t)(c->p.mss - optlen);
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
    c->snd_mss = (uint16_t)(c->p.mss > 536 ? 536 : c->p.mss); /* until the peer's SYN */
    c->rcv_mss = (uint16_t)c->p.mss;
    c->cc_ops->init(c); /* provisional (read by observers); again once established */
    ts_conn_hash(s, c);
    ts_set_state(s, c, TS_SYN_SENT);
    c->rtt_timed_at = s->now;
    ts_send_syn(s, c);
    ts_rto_arm(s, c);
}

/* LISTEN (RFC 9293 3.10.7.2): a SYN makes a SYN-RECEIVED child of the listener. */
void ts_open_passive(ts_stack *s, ts_conn *l, const ts_seg *g)
{
    if (g->flags & TS_TH_RST) return;
    if (g->flags & TS_TH_ACK) { /* no half-open connection matches: reset it */
        /* RFC 9293 3.10.7.2: any ACK is bad in LISTEN; counted like every refused segment */
        ts_drop(s, TS_DROP_TCP_STATE, g->pkt, g->pkt_len);
        ts_send_rst_for(s, g);
        return;
    }
    if (!(g->flags & TS_TH_SYN)) {
        ts_drop(s, TS_DROP_TCP_STATE, g->pkt, g->pkt_len);
        return;
    }
    if (l->n_children >= l->backlog) {
        ts_drop(s, TS_DROP_TCP_BACKLOG, g->pkt, g->pkt_len);
        return;
    }
    ts_conn *c = ts_conn_new(s, &l->p, NULL);
    if (!c) {
        ts_drop(s, TS_DROP_TCP_NO_MEMORY, g->pkt, g->pkt_len);
        return;
    }
    c->local.port = g->dport;
    c->remote.addr = g->src;
    c->remote.port = g->sport;
    c->listener = l;
    l->n_children++;
    /* What the user set on the listener carries over, as Linux clones the listening
     * socket: IP_TOS (the SYN-ACK's too), TCP_CORK, TCP_NOTSENT_LOWAT (TCP_NODELAY rides
     * in c->p). */
    c->tos = l->tos, c->cork = l->cork, c->notsent_lowat = l->notsent_lowat;
    ts_rcv_init(c, g->seq);
    negotiate(c, g);
    c->snd_wnd = g->wnd; /* a SYN's window is never scaled */
    iss_init(s, c);
    c->cc_ops->init(c); /* provisional (read by observers); again once established */
    ts_conn_hash(s, c);
    ts_set_state(s, c, TS_SYN_RECEIVED);
    c->rcv_ssthresh = c->p.mss; /* set properly below, once ts_ok is known */
    c->rcv_ssthresh = 65535 / (c->p.mss - (c->ts_ok ? TS_TS_OPT_LEN : 0)) *
                      (c->p.mss - (c->ts_ok ? TS_TS_OPT_LEN : 0));
    if (c->rcv_ssthresh > c->p.rcvbuf) c->rcv_ssthresh = c->p.rcvbuf;
    ts_ring_reserve(&c->rcvq, c->rcv_ssthresh);
    c->rcv_adv = c->rcv_nxt + c->rcv_ssthresh;
    c->rtt_timed_at = s->now;
    ts_send_syn(s, c);
    ts_rto_arm(s, c);
}

static void established(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    c->snd_una = g->ack;
    c->snd_wnd = (uint32_t)g->wnd << c->snd_wscale;
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = g->seq;
    c->snd_wl2 = g->ack;
    if (c->total_retrans == 0) { /* Karn: only an unretransmitted SYN gives a sample */
        c->min_rtt = s->now - c->rtt_timed_at;
        c->rto_ops->sample(c, s->now - c->rtt_timed_at);
        ts_event ev = {.type = TS_EV_RTT_SAMPLE};
        ev.u.rtt.sample = s->now - c->rtt_timed_at;
        ev.u.rtt.srtt = c->srtt;
        ev.u.rtt.rttvar = c->rttvar;
        ev.u.rtt.rto = c->rto;
        ts_emit_conn(s, c, &ev);
    } else {
        c->rto = c->p.rto_fallback; /* RFC 6298 5.7 */
    }
    c->synack_retransmitted = c->retries > 1;
    c->retries = 0;
    c->cc_ops->init(c);
    ts_loss_start(c); /* OPEN; SACK or NewReno recovery, chosen once */
    ts_timer_clear(s, c, TS_TIMER_RETRANSMIT);
    ts_set_state(s, c, TS_ESTABLISHED);
    if (c->p.keepalive) ts_timer_set(s, c, TS_TIMER_KEEPALIVE, s->now + c->p.keepalive_idle);
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
    c->rcv_ssthresh = 65535 / c->p.mss * c->p.mss;
    if (c->rcv_ssthresh > c->p.rcvbuf) c->rcv_ssthresh = c->p.rcvbuf;
    ts_ring_reserve(&c->rcvq, c->rcv_ssthresh);
    c->rcv_adv = c->rcv_nxt + c->rcv_ssthresh;
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
    if (l) { /* passive open: queue for accept() */
        s->cnt.tcp_conn_accepted++;
        c->in_accept_queue = true;
        c->aq_next = NULL;
        if (l->aq_tail)
            l->aq_tail->aq_next = c;
        else
            l->aq_head = c;
        l->aq_tail = c;
        ts_notify(s, l, TS_SOCK_READABLE);
    } else { /* simultaneous open */
        ts_notify(s, c, TS_SOCK_CONNECTED | TS_SOCK_WRITABLE);
    }
}
