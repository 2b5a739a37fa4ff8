/* tcp_in.c: segment arrival (RFC 9293 3.10.7): validation and demultiplexing, the LISTEN
 * and SYN-SENT cases, and the checks every synchronized state shares (PAWS, sequence
 * acceptability, RST and SYN per RFC 5961), then ACK, data and FIN processing. */
#include <errno.h>
#include <string.h>

#include "internal.h"

void ts_ack_input(ts_stack *s, ts_conn *c, const ts_seg *g); /* tcp_ack.c */

/* RFC 9293 3.10.7 (and RFC 1122 4.2.2.7): a segment too short for its header, with a wrong
 * checksum or malformed options is dropped, counted by reason. */
static bool parse_segment(ts_stack *s, ts_seg *g, const ts_ip4_view *ip)
{
    ts_tcp_view t;
    ts_wire_err e = ts_tcp_view_parse(&t, ip->payload, ip->payload_len);
    if (e == TS_WIRE_OK && !ts_tcp_csum_ok(&t, ip->src, ip->dst)) e = TS_WIRE_TCP_CHECKSUM;
    if (e == TS_WIRE_OK) e = ts_tcp_view_opts(&t, &g->opts);
    if (e != TS_WIRE_OK) {
        ts_drop(s, ts_wire_drop_reason(e), g->pkt, g->pkt_len);
        return false;
    }
    g->sport = t.sport;
    g->dport = t.dport;
    g->seq = t.seq;
    g->ack = t.ack;
    g->flags = t.flags;
    g->wnd = t.win;
    g->data = t.data;
    g->len = (uint32_t)t.len;
    if ((g->flags & TS_TH_SYN) && (g->flags & (TS_TH_RST | TS_TH_FIN))) {
        ts_drop(s, TS_DROP_TCP_FLAGS, g->pkt, g->pkt_len);
        return false;
    }
    return true;
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
    c->snd_mss = (uint16_t)(mss > optlen + 8 ? mss - optlen : 8);
    c->rcv_mss = (uint16_t)(c->p.mss - optlen);
}

static void listen_input(ts_stack *s, ts_conn *l, const ts_seg *g)
{
    if (g->flags & TS_TH_RST) return;
    if (g->flags & TS_TH_ACK) { /* no half-open connection matches: reset it */
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
    c->iss = ts_isn(s, c);
    c->ts_offset = (uint32_t)ts_siphash(s->key, &c->iss, sizeof c->iss);
    c->snd_una = c->snd_buf_seq = c->iss;
    c->recover = c->iss; /* RFC 6582 3.2: recover starts at the ISS, not 0 */
    ts_sack_clear(c);
    c->snd_buf_seq = c->iss + 1;
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

static void syn_sent_input(ts_stack *s, ts_conn *c, const ts_seg *g)
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

/* RFC 9293 3.10.7.4 first check: is the segment's sequence space in the window? */
static bool acceptable(const ts_conn *c, const ts_seg *g)
{
    uint32_t wnd = ts_rcv_space(c), slen = seg_seqlen(g);
    bool start_in = seq_le(c->rcv_nxt, g->seq) && seq_lt(g->seq, c->rcv_nxt + wnd);
    if (slen == 0) return wnd == 0 ? g->seq == c->rcv_nxt : start_in;
    if (wnd == 0) return false;
    uint32_t last = g->seq + slen - 1;
    return start_in || (seq_le(c->rcv_nxt, last) && seq_lt(last, c->rcv_nxt + wnd));
}

static void rst_input(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    if (g->seq != c->rcv_nxt) { /* in window but not exact: RFC 5961 3.2 */
        ts_send_challenge_ack(s, c);
        return;
    }
    s->cnt.tcp_rst_in++;
    if (c->state == TS_SYN_RECEIVED && c->listener) { /* back to LISTEN: drop the child */
        ts_conn_done(s, c, 0);
        return;
    }
    bool quiet = c->state == TS_CLOSING || c->state == TS_LAST_ACK || c->state == TS_TIME_WAIT;
    if (c->state == TS_SYN_RECEIVED) s->cnt.tcp_conn_failed++;
    ts_conn_done(s, c, quiet ? 0 : (c->state == TS_SYN_RECEIVED ? -ECONNREFUSED : -ECONNRESET));
}

void ts_synced_input(ts_stack *s, ts_conn *c, const ts_seg *g);
void ts_synced_input(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    /* RFC 7323 5.3: PAWS */
    if (c->ts_ok && g->opts.has_ts && !(g->flags & TS_TH_RST) &&
        seq_lt(g->opts.tsval, c->ts_recent)) {
        ts_drop(s, TS_DROP_TCP_PAWS, g->pkt, g->pkt_len);
        ts_send_ack(s, c);
        return;
    }
    if (c->state == TS_SYN_RECEIVED && (g->flags & TS_TH_SYN) && !(g->flags & TS_TH_RST) &&
        g->seq == c->irs) {
        /* The peer's SYN again. It lies just left of the window, so the acceptability test
         * below would only ACK it; handle it first, as Linux does. */
        if (!(g->flags & TS_TH_ACK)) {
            /* a retransmitted SYN: our SYN-ACK was lost; answer it again at once, keeping
             * the SYN-ACK timer's schedule (Linux tcp_check_req -> inet_rtx_syn_ack) */
            c->total_retrans++;
            s->cnt.tcp_retransmits++;
            ts_send_syn(s, c);
            return;
        }
        if (g->ack == c->snd_nxt) {
            /* simultaneous open (RFC 9293 3.5 figure 7, step 5): the SYN-ACK acknowledges
             * our SYN; its SYN is the one already taken, so it counts as a plain ACK at
             * IRS+1 (Linux tcp_validate_incoming's SYN_RECV exception) */
            ts_seg a = *g;
            a.flags &= (uint8_t)~TS_TH_SYN;
            a.seq = g->seq + 1;
            ts_ack_input(s, c, &a);
            return;
        }
    }
    if (!acceptable(c, g)) {
        ts_drop(s, (g->flags & TS_TH_RST) ? TS_DROP_TCP_RST_INVALID : TS_DROP_TCP_OUT_OF_WINDOW,
                g->pkt, g->pkt_len);
        if (g->flags & TS_TH_RST) return;
        /* RFC 9293 3.10.7.4 (TIME-WAIT): a retransmitted FIN is ACKed and restarts the 2MSL
         * wait (Linux tcp_timewait_state_process reschedules on any ACK-bearing segment) */
        if (c->state == TS_TIME_WAIT && (g->flags & TS_TH_FIN))
            ts_timer_set(s, c, TS_TIMER_TIME_WAIT, s->now + c->p.time_wait);
        ts_send_ack(s, c);
        return;
    }
    if (g->flags & TS_TH_RST) {
        rst_input(s, c, g);
        return;
    }
    if (g->flags & TS_TH_SYN) { /* RFC 5961 4.2 (the peer's own SYN was handled above) */
        ts_send_challenge_ack(s, c);
        return;
    }
    if (!(g->flags & TS_TH_ACK)) {
        ts_drop(s, TS_DROP_TCP_FLAGS, g->pkt, g->pkt_len);
        return;
    }
    ts_ack_input(s, c, g);
}

void ts_tcp_input(ts_stack *s, const ts_ip4_view *ip)
{
    const uint8_t *pkt = ip->hdr;
    size_t iplen = ip->tot_len;
    ts_seg g;
    memset(&g, 0, sizeof g);
    g.src = ip->src;
    g.dst = ip->dst;
    g.pkt = pkt;
    g.pkt_len = iplen;
    if (!parse_segment(s, &g, ip)) return;
    s->cnt.tcp_in++;
    s->cnt.tcp_bytes_in += g.len;
    ts_conn *c = ts_conn_lookup(s, g.dport, g.src, g.sport);
    ts_event ev = {.type = TS_EV_SEG_IN};
    ev.u.seg.pkt = pkt;
    ev.u.seg.len = iplen;
    if (c)
        ts_emit_conn(s, c, &ev);
    else
        ts_emit(s, &ev);
    if (!c) {
        ts_conn *l = ts_listener_lookup(s, g.dport);
        if (l) {
            listen_input(s, l, &g);
        } else {
            if (g.flags & TS_TH_RST) s->cnt.tcp_rst_in++;
            ts_drop(s, TS_DROP_TCP_NO_SOCKET, pkt, iplen);
            ts_send_rst_for(s, &g);
        }
        return;
    }
    c->last_seg_in = s->now; /* keepalive counts idle time from here */
    if (c->state == TS_SYN_SENT)
        syn_sent_input(s, c, &g);
    else
        ts_synced_input(s, c, &g);
}

/* The handshake's last ACK arrived in SYN-RECEIVED (RFC 9293 3.10.7.4, ACK step). */
void ts_synack_acked(ts_stack *s, ts_conn *c, const ts_seg *g);
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
