/* tcp_in.c: segment arrival (RFC 9293 3.10.7): validation and demultiplexing, then the
 * checks every synchronized state shares (PAWS, sequence acceptability, RST and SYN per
 * RFC 5961) before tcp_ack.c's ACK, data and FIN processing. The LISTEN and SYN-SENT
 * cases (the opens) are tcp_open.c's. */
#include <errno.h>
#include <string.h>

#include "internal.h"

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

/* RFC 7323 4.3 (2) and its Appendix D: a segment with SEG.SEQ <= Last.ACK.sent updates
 * TS.Recent even when it is a duplicate left of the window. That is the retransmission
 * of data whose ACK was lost: the duplicate ACK it draws must echo the retransmission's
 * TSval, or the sender's next RTT sample holds its whole backoff (a RTO that grew on
 * such samples to rto_max under heavy loss). PAWS has already passed (TSval >= TS.Recent).
 * A duplicate is easy to forge blindly, so it must look like one of this connection's
 * own: its ACK field acceptable (RFC 5961 5.2) and its end within the largest window we
 * may have offered to the left of RCV.NXT. (Linux refreshes from a duplicate that
 * reaches the left edge, which its tcp_sequence accepts, but not from one wholly left
 * of it: there it echoes the old TSval, and the sender's sample check must cope.) */
static void dup_ts_recent(ts_conn *c, const ts_seg *g)
{
    /* not a SYN: an old SYN-ACK replays the handshake; its ACK keeps the echo, as the
     * challenge ACK Linux answers it with does */
    if (!c->ts_ok || !g->opts.has_ts || (g->flags & (TS_TH_ACK | TS_TH_SYN)) != TS_TH_ACK) return;
    if (!seq_le(g->seq, c->last_ack_sent)) return;
    if (seq_lt(g->seq + seg_seqlen(g), c->rcv_nxt - c->p->rcvbuf)) return;
    if (seq_gt(g->ack, c->snd_max) || seq_lt(g->ack, c->snd_una - c->max_snd_wnd)) return;
    c->ts_recent = g->opts.tsval;
}

/* RFC 2883 4.1.1: a segment whose data (or FIN) lies below RCV.NXT, left of the window or
 * refused by PAWS, is a duplicate: its ACK, sent at once, reports it in a D-SACK block
 * (Linux tcp_send_dupack). Not from TIME-WAIT, whose ACKs carry no SACK in Linux. */
static void dup_dsack(ts_conn *c, const ts_seg *g)
{
    if (c->state == TS_TIME_WAIT || (g->flags & TS_TH_SYN) || !seg_seqlen(g)) return;
    ts_rcv_dup(c, g->seq, g->seq + seg_seqlen(g));
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

static void synced_input(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    /* RFC 7323 5.3: PAWS */
    if (c->ts_ok && g->opts.has_ts && !(g->flags & TS_TH_RST) &&
        seq_lt(g->opts.tsval, c->ts_recent)) {
        ts_drop(s, TS_DROP_TCP_PAWS, g->pkt, g->pkt_len);
        dup_dsack(c, g);
        ts_send_oow_ack(s, c, g);
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
        dup_ts_recent(c, g);
        /* RFC 9293 3.10.7.4 (TIME-WAIT): a retransmitted FIN is ACKed and restarts the 2MSL
         * wait (Linux tcp_timewait_state_process reschedules on any ACK-bearing segment) */
        if (c->state == TS_TIME_WAIT && (g->flags & TS_TH_FIN))
            ts_timer_set(s, c, TS_TIMER_TIME_WAIT, s->now + c->p->time_wait);
        dup_dsack(c, g);
        ts_send_oow_ack(s, c, g);
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
    ts_tw *tw = c ? NULL : ts_tw_find(s, g.dport, g.src, g.sport);
    ts_event ev = {.type = TS_EV_SEG_IN};
    ev.u.seg.pkt = pkt;
    ev.u.seg.len = iplen;
    ts_req *rq = c || tw ? NULL : ts_req_find(s, g.dport, g.src, g.sport);
    if (rq && !(c = ts_req_materialize(s, rq))) { /* the embryo's ts_conn (tcp_req.c) */
        ts_conn copy;
        ts_req_rebuild(s, rq, &copy);
        ts_emit_conn(s, &copy, &ev);
        ts_drop(s, TS_DROP_TCP_NO_MEMORY, pkt, iplen); /* the peer sends it again */
        return;
    }
    if (c)
        ts_emit_conn(s, c, &ev);
    else if (tw)
        ts_emit_tw(s, tw, &ev);
    else
        ts_emit(s, &ev);
    if (tw) { /* TIME-WAIT in its small block (tcp_tw.c) */
        ts_tw_input(s, tw, &g);
        return;
    }
    if (!c) {
        ts_conn *l = ts_listener_lookup(s, g.dport);
        int made = l ? ts_open_cookie(s, l, &g, &c) : 0;
        if (made > 0) { /* a SYN cookie's ACK made the child: it takes the segment */
            c->last_seg_in = s->now;
            synced_input(s, c, &g);
        } else if (made < 0) { /* a valid cookie, no room: dropped and counted */
        } else if (l) {
            c = ts_open_passive(s, l, &g);
            if (c) ts_req_adopt(s, c); /* the SYN-ACK went: at rest in a small block */
        } else {
            if (g.flags & TS_TH_RST) s->cnt.tcp_rst_in++;
            ts_drop(s, TS_DROP_TCP_NO_SOCKET, pkt, iplen);
            ts_send_rst_for(s, &g);
        }
        return;
    }
    c->last_seg_in = s->now; /* keepalive counts idle time from here */
    if (c->state == TS_SYN_SENT)
        ts_open_syn_sent(s, c, &g);
    else
        synced_input(s, c, &g);
    /* an orphan that this segment left in TIME-WAIT keeps only a small block, and so does
     * an embryo left waiting for the handshake's last ACK */
    if (!c->dead && c->state == TS_TIME_WAIT && c->orphan)
        ts_tw_adopt(s, c);
    else if (c->state == TS_SYN_RECEIVED)
        ts_req_adopt(s, c);
}
