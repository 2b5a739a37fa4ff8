/* tcp_ack.c: the rest of segment arrival for synchronized states (RFC 9293 3.10.7.4,
 * from the ACK check on): ACK acceptance, RTT samples (RFC 6298, Karn; RFC 7323
 * timestamps), SND.UNA and the send ring, the retransmission timer, window updates,
 * closing-state transitions, then the segment's data and FIN. What an ACK means for loss
 * recovery and cwnd (dupACKs, SACK, recovery, the cc) is tcp_loss.c's. */
#include <errno.h>
#include <string.h>

#include "internal.h"

static void rtt_sample(ts_stack *s, ts_conn *c, ts_time_t rtt, uint32_t ack)
{
    if (rtt && (!c->min_rtt || rtt < c->min_rtt)) c->min_rtt = rtt;
    /* RFC 4015 step (11), after an RTO undone by Eifel: the first sample from new data
     * reinitializes the estimator instead of being smoothed into it */
    if (!ts_loss_rtt_sample(c, rtt, ack)) c->rto_ops->sample(c, rtt);
    ts_event ev = {.type = TS_EV_RTT_SAMPLE};
    ev.u.rtt.sample = rtt;
    ev.u.rtt.srtt = c->srtt;
    ev.u.rtt.rttvar = c->rttvar;
    ev.u.rtt.rto = c->rto;
    ts_emit_conn(s, c, &ev);
}

/* The TSval of the newest transmission of the data at `seq`, or an earlier one (a lower
 * bound, from tcp_out.c's records): its newest retransmission if one is on record; if
 * records were pushed out and `seq` is below the highest data retransmitted, the newest
 * of those; else when it first went out. */
static uint32_t last_sent_ts(const ts_conn *c, uint32_t seq)
{
    for (uint32_t i = c->rtm_n; i-- > 0;)
        if (seq_le(c->rtm[i].seq, seq) && seq_lt(seq, c->rtm[i].end)) return c->rtm[i].ts;
    if (c->rtm_lost && seq_lt(seq, c->rtx_high)) return c->rtm_lost_ts;
    for (uint32_t i = c->txm_n; i-- > 0;)
        if (seq_le(c->txm[i].seq, seq)) return c->txm[i].ts;
    return c->txm_floor.ts;
}

/* May this ACK's echoed timestamp time its data (RFC 7323 4)? It acknowledges the data at
 * SND.UNA (una0), so the receiver took that data in after its last ACK and refreshed
 * TS.Recent from it or later (RFC 7323 4.3): an echo can name no transmission before
 * that data first went out, and none after now (Linux checks the same two bounds on a
 * SYN-ACK's echo). Karn's question comes back for retransmitted data: an echo older than
 * our newest copy of una0 may name an older copy, ACKed late, or a receiver that kept
 * TS.Recent from before a loss (the echo then holds the whole backoff, and the RTO fed
 * on such samples ran to rto_max): the sample is ambiguous and not taken. */
static bool echo_times_ack(const ts_conn *c, uint32_t una0, uint32_t tsecr, uint32_t now_ts)
{
    return !seq_gt(tsecr, now_ts) && !seq_lt(tsecr, last_sent_ts(c, una0));
}

static void take_rtt_sample(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    if (c->rtt_timing && seq_gt(g->ack, c->rtt_timed_seq)) {
        c->rtt_timing = false;
        rtt_sample(s, c, s->now - c->rtt_timed_at, g->ack);
    } else if (c->ts_ok && g->opts.has_ts && g->opts.tsecr && c->total_retrans) {
        /* RFC 7323 4.1: the echoed timestamp names the transmission, so retransmitted
         * data still yields a sample (at the 1 ms tick) */
        uint32_t now_ts = (uint32_t)(s->now / TS_MSEC) + c->ts_offset;
        if (echo_times_ack(c, c->snd_una, g->opts.tsecr, now_ts))
            rtt_sample(s, c, (ts_time_t)(now_ts - g->opts.tsecr) * TS_MSEC, g->ack);
    }
}

/* New data ACKed: advance SND.UNA, free the ring, feed CC and recovery. */
static void new_ack(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    uint32_t acked = g->ack - c->snd_una, sacked0 = c->sacked_bytes;
    take_rtt_sample(s, c, g);
    if (seq_gt(g->ack, c->snd_buf_seq)) {
        uint32_t n = g->ack - c->snd_buf_seq;
        if (n > c->sndq.len) n = c->sndq.len;
        ts_ring_consume(&c->sndq, n);
        c->snd_buf_seq += n;
    }
    c->snd_una = g->ack;
    if (seq_lt(c->snd_nxt, c->snd_una)) c->snd_nxt = c->snd_una;
    c->retries = 0;
    c->probes = 0;
    ts_loss_new_ack(s, c, acked, sacked0); /* recovery, the cc, cwnd */
    if (c->snd_una == c->snd_max) {
        ts_timer_clear(s, c, TS_TIMER_RETRANSMIT);
        ts_timer_clear(s, c, TS_TIMER_TLP);
        c->first_unacked_at = 0;
    } else {
        c->first_unacked_at = s->now;
        ts_rto_arm(s, c);
        ts_tlp_arm(s, c, true); /* RFC 8985 7.2: re-armed by each ACK that advances */
    }
    if (c->sd >= 0 && !c->shut_wr && c->sndq.len < c->p->sndbuf) ts_notify(s, c, TS_SOCK_WRITABLE);
}

/* Returns false when the segment is to be dropped. */
static bool ack_check(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    if (c->state == TS_SYN_RECEIVED) {
        if (!seq_gt(g->ack, c->snd_una) || seq_gt(g->ack, c->snd_max)) {
            ts_send_rst_for(s, g);
            ts_drop(s, TS_DROP_TCP_BAD_ACK, g->pkt, g->pkt_len);
            return false;
        }
        if (c->listener && ts_acceptq_full(c->listener)) {
            /* no room in the accept queue: ignore the ACK and stay in the SYN queue, the
             * SYN-ACK timer running, as Linux does without tcp_abort_on_overflow */
            ts_drop(s, TS_DROP_TCP_BACKLOG, g->pkt, g->pkt_len);
            return false;
        }
        return true;
    }
    if (seq_gt(g->ack, c->snd_max)) {
        /* ACKs something not yet sent: RFC 9293 3.10.7.4 and RFC 5961 5.2 say send an ACK
         * and drop the segment; Linux before 2026 dropped it silently (unsent_ack_reply). In
         * both cases nothing of the segment is used: not its timestamp (ts_recent), window,
         * data or FIN. */
        ts_drop(s, TS_DROP_TCP_BAD_ACK, g->pkt, g->pkt_len);
        if (c->p->unsent_ack_reply) ts_send_oow_ack(s, c, NULL);
        return false;
    }
    if (seq_lt(g->ack, c->snd_una - c->max_snd_wnd)) { /* RFC 5961 5.2: too old */
        ts_drop(s, TS_DROP_TCP_BAD_ACK, g->pkt, g->pkt_len);
        ts_send_challenge_ack(s, c);
        return false;
    }
    return true;
}

static void window_update(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    if (seq_lt(c->snd_wl1, g->seq) || (c->snd_wl1 == g->seq && seq_le(c->snd_wl2, g->ack))) {
        c->snd_wnd = (uint32_t)g->wnd << c->snd_wscale;
        c->snd_wl1 = g->seq;
        c->snd_wl2 = g->ack;
        if (c->snd_wnd > c->max_snd_wnd) c->max_snd_wnd = c->snd_wnd;
        if (c->snd_wnd) ts_timer_clear(s, c, TS_TIMER_PERSIST);
    }
}

static void data_input(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    bool in_order, filled;
    uint32_t before = c->rcvq.len;
    int n = ts_rcv_data(s, c, g->seq, g->data, g->len, &in_order, &filled);
    if (n <= 0 || !in_order || filled || c->dsack_pending) {
        /* duplicate (in part: RFC 2883's D-SACK), out of order, or filling a hole: ACK at
         * once */
        c->ack_now = true;
        if (in_order) c->last_rcv_time = s->now;
    } else {
        ts_time_t delay = 0;
        if (c->delack_ops->on_data(c, s->now, g->len, &delay)) {
            c->ack_now = true;
        } else {
            c->ack_pending = true;
            if (!ts_timer_on(c, TS_TIMER_DELACK))
                ts_timer_set(s, c, TS_TIMER_DELACK, s->now + delay);
        }
    }
    if (c->rcvq.len > before) ts_notify(s, c, TS_SOCK_READABLE);
}

void ts_ack_input(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    if (!ack_check(s, c, g)) return;
    /* RFC 7323 4.3: remember the timestamp of the segment at the left edge. RFC 7323 5.3
     * (R3) records it before the ACK field is looked at; tcpsim waits until the ACK has
     * passed its checks, as Linux's tcp_ack does, so that a segment ACKing unsent data (a
     * blind injection, RFC 5961 5.2) cannot move TS.Recent: Linux's own test of this
     * (ts_recent/invalid_ack) checks the echoed value. An old but acceptable ACK (below
     * SND.UNA, within MAX.SND.WND) counts too, as in Linux since 2026 ("tcp: refresh
     * TS.Recent for accepted old ACKs"): with data flowing both ways a reordered segment
     * that fills our receive hole carries an old ACK, and our ACK of it must echo it. */
    if (c->ts_ok && g->opts.has_ts && seq_le(g->seq, c->last_ack_sent))
        c->ts_recent = g->opts.tsval;
    if (c->state == TS_SYN_RECEIVED) ts_synack_acked(s, c, g);
    bool dup = g->ack == c->snd_una && g->len == 0 && !(g->flags & TS_TH_FIN) &&
               ((uint32_t)g->wnd << c->snd_wscale) == c->snd_wnd && c->snd_max != c->snd_una;
    uint32_t una0 = c->snd_una, sacked0 = c->sacked_bytes;
    if (seq_gt(g->ack, c->snd_una)) new_ack(s, c, g);
    ts_ack_info a = {g->opts.sack, g->opts.nsack,  dup,          una0, sacked0,
                     g->ack,       g->opts.has_ts, g->opts.tsecr};
    ts_loss_ack(s, c, &a); /* dupACKs, SACK, recovery (tcp_loss.c) */
    window_update(s, c, g);
    /* the peer is alive: a zero-window probe counts only while unanswered (Linux's tcp_ack
     * clears icsk_probes_out for every ACK not older than SND.UNA) */
    if (seq_ge(g->ack, una0)) c->probes_out = 0;
    if (!ts_close_fin_acked(s, c)) return;
    if (g->len) {
        bool open =
            c->state == TS_ESTABLISHED || c->state == TS_FIN_WAIT_1 || c->state == TS_FIN_WAIT_2;
        if (open && c->orphan && seq_ge(g->seq + g->len, c->rcv_nxt + 1)) {
            /* data for a closed socket: nobody will read it (RFC 9293 3.10.7.4, Linux).
             * Linux answers it as a segment for no connection: RST with seq = SEG.ACK and
             * no ACK flag (packetdrill user_timeout/user_timeout.pkt, `> R 1:1(0)`) */
            ts_send_rst_for(s, g);
            ts_conn_done(s, c, -ECONNRESET);
            return;
        }
        if (open) data_input(s, c, g);
    }
    if (g->flags & TS_TH_FIN) {
        uint32_t fin_seq = g->seq + g->len;
        if (fin_seq == c->rcv_nxt && !c->fin_rcvd) {
            ts_close_fin_in(s, c);
        } else if (seq_gt(fin_seq, c->rcv_nxt) && !c->fin_rcvd) {
            c->fin_ooo = true; /* after a hole: taken when the hole fills */
            c->fin_ooo_seq = fin_seq;
        } else {
            c->ack_now = true;
            if (c->state == TS_TIME_WAIT) /* a retransmitted FIN restarts 2MSL */
                ts_timer_set(s, c, TS_TIMER_TIME_WAIT, s->now + c->p->time_wait);
        }
    }
    if (c->fin_ooo && c->fin_ooo_seq == c->rcv_nxt && !c->fin_rcvd) ts_close_fin_in(s, c);
    if (c->p->keepalive) c->probes = 0;
    ts_tcp_output(s, c);
}
