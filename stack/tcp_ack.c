/* tcp_ack.c: the rest of segment arrival for synchronized states (RFC 9293 3.10.7.4,
 * from the ACK check on): RTT samples (RFC 6298, Karn; RFC 7323 timestamps), duplicate
 * ACKs, fast retransmit and NewReno recovery (RFC 5681 3.2, RFC 6582), window updates,
 * closing-state transitions, then the segment's data and FIN. */
#include <errno.h>
#include <string.h>

#include "internal.h"

void ts_ack_input(ts_stack *s, ts_conn *c, const ts_seg *g);

static void rtt_sample(ts_stack *s, ts_conn *c, ts_time_t rtt)
{
    if (rtt && (!c->min_rtt || rtt < c->min_rtt)) c->min_rtt = rtt;
    c->rto_ops->sample(c, rtt);
    ts_event ev = {.type = TS_EV_RTT_SAMPLE};
    ev.u.rtt.sample = rtt;
    ev.u.rtt.srtt = c->srtt;
    ev.u.rtt.rttvar = c->rttvar;
    ev.u.rtt.rto = c->rto;
    ts_emit_conn(s, c, &ev);
}

static void cwnd_event(ts_stack *s, ts_conn *c, uint32_t before)
{
    if (c->cwnd == before) return;
    ts_event ev = {.type = TS_EV_CWND};
    ev.u.cwnd.cwnd = c->cwnd;
    ev.u.cwnd.ssthresh = c->ssthresh;
    ts_emit_conn(s, c, &ev);
}

static void rexmit_event(ts_stack *s, ts_conn *c, ts_rexmit_kind k, uint32_t seq, uint32_t len)
{
    ts_event ev = {.type = TS_EV_RETRANSMIT};
    ev.u.rexmit.kind = k;
    ev.u.rexmit.seq = seq;
    ev.u.rexmit.len = len;
    ev.u.rexmit.count = 1;
    ev.u.rexmit.rto = c->rto;
    ts_emit_conn(s, c, &ev);
}

static uint32_t resend_len(const ts_conn *c)
{
    uint32_t off = c->snd_una - c->snd_buf_seq;
    uint32_t avail = c->sndq.len > off ? c->sndq.len - off : 0;
    return avail < c->snd_mss ? avail : c->snd_mss;
}

/* RFC 3042 limited transmit: each of the first two dupACKs lets one new segment out, up
 * to cwnd + 2*SMSS in flight, cwnd itself unchanged (Linux does the same, counting
 * dupACKs as SACKed segments without SACK) */
static void limited_transmit(ts_stack *s, ts_conn *c)
{
    uint32_t cwnd = c->cwnd;
    c->cwnd += c->dupacks * c->snd_mss;
    ts_tcp_output(s, c);
    c->cwnd = cwnd;
}

/* RFC 5681 3.2 and RFC 6582 3.2: a duplicate ACK (connections without SACK recovery). */
static void dupack(ts_stack *s, ts_conn *c)
{
    uint32_t before = c->cwnd;
    c->dupacks++;
    if (c->dupacks == 3 && !c->in_recovery && seq_ge(c->snd_una, c->recover)) {
        c->in_recovery = true;
        c->recover = c->snd_max;
        c->cc_ops->cong_signal(c, TS_CC_SIG_DUPACK);
        s->cnt.tcp_fast_retransmits++;
        uint32_t len = resend_len(c);
        rexmit_event(s, c, TS_REXMIT_FAST, c->snd_una, len);
        ts_send_data(s, c, c->snd_una, len, true);
        ts_rto_arm(s, c);
    } else if (c->dupacks > 3 && c->in_recovery) {
        c->cc_ops->on_dupack(c);
    } else if (c->dupacks <= 2 && !c->in_recovery && c->p.limited_transmit) {
        limited_transmit(s, c);
    }
    cwnd_event(s, c, before);
}

static void take_rtt_sample(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    if (c->rtt_timing && seq_gt(g->ack, c->rtt_timed_seq)) {
        c->rtt_timing = false;
        rtt_sample(s, c, s->now - c->rtt_timed_at);
    } else if (c->ts_ok && g->opts.has_ts && g->opts.tsecr && c->total_retrans) {
        /* RFC 7323 4.1: the echoed timestamp names the transmission, so retransmitted
         * data still yields a sample (at the 1 ms tick) */
        uint32_t ms = (uint32_t)(s->now / TS_MSEC) + c->ts_offset - g->opts.tsecr;
        if (ms < 600000) rtt_sample(s, c, (ts_time_t)ms * TS_MSEC);
    }
}

/* What a new ACK delivered, as Linux counts it for cwnd growth (abc = 0): segments reach
 * the receiver once, when first SACKed, or, without SACK, when a dupACK reported them (one
 * per dupACK, Linux's Reno emulation of SACK). Bytes that arrived earlier do not count
 * again at the cumulative ACK; at least one segment does (the hole it filled). RFC 5681
 * counts every byte the ACK newly acknowledges (abc >= 1). sacked0: SACKed bytes before
 * the ACK's trim of the scoreboard. */
static uint32_t delivered(const ts_conn *c, uint32_t acked, uint32_t sacked0, bool sack)
{
    uint64_t seen = sack ? (sacked0 > c->sacked_bytes ? sacked0 - c->sacked_bytes : 0)
                         : (uint64_t)c->dupacks * c->snd_mss; /* no wrap, however many */
    uint32_t hole = acked < c->snd_mss ? acked : c->snd_mss;
    return seen < acked - hole ? acked - (uint32_t)seen : hole;
}

/* New data ACKed: advance SND.UNA, free the ring, feed CC and recovery. */
static void new_ack(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    uint32_t acked = g->ack - c->snd_una, before = c->cwnd, sacked0 = c->sacked_bytes;
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
    c->reo_armed = false; /* re-armed below if a hole remains (sack_ack) */
    if (c->tlp_out && seq_ge(g->ack, c->tlp_high_seq)) c->tlp_out = false; /* RFC 8985 7.4 */
    bool sack = ts_sack_mode(c);
    if (sack) ts_sack_trim(c);
    if (c->in_recovery && sack) {
        /* RFC 6675: recovery ends when SND.UNA reaches RecoveryPoint; RFC 6937 (and
         * Linux) then set cwnd = ssthresh. A partial ACK sends nothing by itself: PRR
         * decides (sack_ack). */
        if (seq_ge(g->ack, c->recover)) {
            c->in_recovery = false;
            c->dupacks = 0;
            c->cc_ops->post_recovery(c);
        }
    } else if (c->in_recovery) {
        bool full = seq_ge(g->ack, c->recover);
        if (c->cc_ops->on_recovery_ack(c, acked, full)) {
            c->in_recovery = false;
            c->dupacks = 0;
        } else { /* partial ACK: resend the next hole at once (RFC 6582 3.2 step 3) */
            uint32_t len = resend_len(c);
            rexmit_event(s, c, TS_REXMIT_PARTIAL, c->snd_una, len);
            ts_send_data(s, c, c->snd_una, len, true);
        }
    } else {
        uint32_t grow = c->p.abc ? acked : delivered(c, acked, sacked0, sack);
        c->dupacks = 0;
        c->cc_ops->on_ack(c, grow, s->now);
    }
    cwnd_event(s, c, before);
    if (c->snd_una == c->snd_max) {
        ts_timer_clear(s, c, TS_TIMER_RETRANSMIT);
        ts_timer_clear(s, c, TS_TIMER_TLP);
        c->first_unacked_at = 0;
    } else {
        c->first_unacked_at = s->now;
        ts_rto_arm(s, c);
        ts_tlp_arm(s, c, true); /* RFC 8985 7.2: re-armed by each ACK that advances */
    }
    if (c->sd >= 0 && !c->shut_wr && c->sndq.len < c->p.sndbuf) ts_notify(s, c, TS_SOCK_WRITABLE);
}

static bool our_fin_acked(const ts_conn *c)
{
    return c->fin_sent && c->snd_una == c->snd_buf_seq + c->sndq.len + 1;
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
        return true;
    }
    if (seq_gt(g->ack, c->snd_max)) {
        /* ACKs something not yet sent: RFC 9293 3.10.7.4 and RFC 5961 5.2 say send an ACK
         * and drop the segment; Linux before 2026 dropped it silently (unsent_ack_reply). In
         * both cases nothing of the segment is used: not its timestamp (ts_recent), window,
         * data or FIN. */
        ts_drop(s, TS_DROP_TCP_BAD_ACK, g->pkt, g->pkt_len);
        if (c->p.unsent_ack_reply) ts_send_ack(s, c);
        return false;
    }
    if (seq_lt(g->ack, c->snd_una - c->max_snd_wnd)) { /* RFC 5961 5.2: too old */
        ts_drop(s, TS_DROP_TCP_BAD_ACK, g->pkt, g->pkt_len);
        ts_send_challenge_ack(s, c);
        return false;
    }
    return true;
}

void ts_synack_acked(ts_stack *s, ts_conn *c, const ts_seg *g);

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

static bool closing_transitions(ts_stack *s, ts_conn *c)
{
    if (!our_fin_acked(c)) return true;
    switch (c->state) {
    case TS_FIN_WAIT_1:
        ts_set_state(s, c, TS_FIN_WAIT_2);
        if (c->orphan) ts_timer_set(s, c, TS_TIMER_FIN_WAIT2, s->now + c->p.fin_wait2);
        return true;
    case TS_CLOSING:
        ts_set_state(s, c, TS_TIME_WAIT);
        ts_timer_set(s, c, TS_TIMER_TIME_WAIT, s->now + c->p.time_wait);
        return true;
    case TS_LAST_ACK: ts_conn_done(s, c, 0); return false;
    default: return true;
    }
}

static void fin_input(ts_stack *s, ts_conn *c)
{
    c->rcv_nxt++;
    c->fin_rcvd = true;
    c->fin_ooo = false;
    ts_notify(s, c, TS_SOCK_READABLE);
    switch (c->state) {
    case TS_SYN_RECEIVED:
    case TS_ESTABLISHED:
        ts_set_state(s, c, TS_CLOSE_WAIT);
        /* Linux enters interactive mode on a FIN: its ACK waits for the delayed-ACK timer,
         * so it can ride on our own FIN if the application closes soon */
        c->pingpong = true;
        if (c->p.delack == 0) {
            c->ack_now = true;
        } else {
            /* Before any data arrived Linux's ATO is still 0, so the delayed ACK goes out
             * on the next timer tick (1 ms at HZ=1000; with hz set, a 0-tick timer, which
             * the wheel runs on the next tick), not after 40 ms; a close() in the same
             * instant still carries it on our FIN (packetdrill
             * close/close-remote-fin-then-close.pkt). */
            ts_time_t delay = c->last_rcv_time ? c->p.delack : c->p.hz ? 0 : TS_MSEC;
            c->ack_pending = true;
            if (!ts_timer_on(c, TS_TIMER_DELACK))
                ts_timer_set(s, c, TS_TIMER_DELACK, s->now + delay);
        }
        break;
    case TS_FIN_WAIT_1:
        ts_set_state(s, c, TS_CLOSING);
        c->ack_now = true;
        break;
    case TS_FIN_WAIT_2:
        ts_set_state(s, c, TS_TIME_WAIT);
        ts_timer_clear(s, c, TS_TIMER_FIN_WAIT2);
        ts_timer_set(s, c, TS_TIMER_TIME_WAIT, s->now + c->p.time_wait);
        c->ack_now = true;
        break;
    default: c->ack_now = true; break;
    }
}

static void data_input(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    bool in_order, filled;
    uint32_t before = c->rcvq.len;
    int n = ts_rcv_data(s, c, g->seq, g->data, g->len, &in_order, &filled);
    if (n <= 0 || !in_order || filled) {
        c->ack_now = true; /* duplicate, out of order, or filling a hole: ACK at once */
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

/* RFC 6675 5 with PRR: enter recovery, retransmit the first hole at once. */
static void sack_enter_recovery(ts_stack *s, ts_conn *c)
{
    c->in_recovery = true;
    c->recover = c->snd_max; /* RecoveryPoint = HighData */
    c->recover_fs = c->cwnd; /* Linux's prior_cwnd */
    c->prr_delivered = c->prr_out = 0;
    /* Holes the last recovery retransmitted above its RecoveryPoint are still in
     * flight (HighRxt above SND.UNA, and remembered for RACK): a recovery that starts
     * on the ACK that ended the last must not send them again at once. */
    if (!seq_gt(c->high_rxt, c->snd_una) || seq_gt(c->high_rxt, c->snd_max))
        c->high_rxt = c->snd_una;
    if (c->reo_armed) {
        c->reo_armed = false;
        ts_timer_clear(s, c, TS_TIMER_TLP);
        if (!ts_timer_on(c, TS_TIMER_RETRANSMIT)) ts_rto_arm(s, c);
    }
    /* RFC 6675 4: the first segment is presumed lost even if IsLost does not say so */
    if (!seq_gt(ts_sack_lost_end(c), c->snd_una)) {
        uint32_t end = c->sb_n ? c->sb[0].start : c->snd_max;
        c->rack_lost = seq_min(end, c->snd_una + c->snd_mss);
    }
    c->cc_ops->cong_signal(c, TS_CC_SIG_DUPACK); /* ssthresh; PRR sets cwnd */
    s->cnt.tcp_fast_retransmits++;
}

/* The reordering window of RFC 8985 6.2: min_RTT/4, at most SRTT, plus Linux's 2 ms
 * timer slack (2 ticks on older Linux, see ts_timeout_min). Armed when SACKed data shows
 * a hole that IsLost does not yet call lost: the hole went out no later than the SACKed
 * data, so it is late by then. */
static void reo_arm(ts_stack *s, ts_conn *c)
{
    ts_time_t rtt = c->min_rtt ? c->min_rtt : c->srtt;
    ts_time_t wnd = rtt / 4 < c->srtt ? rtt / 4 : c->srtt;
    c->reo_armed = true;
    ts_timer_set(s, c, TS_TIMER_TLP, s->now + ts_timeout_min(c, wnd));
}

/* The reordering timer fired: the holes below the highest SACKed range are lost. */
void ts_reo_timeout(ts_stack *s, ts_conn *c)
{
    c->reo_armed = false;
    bool may = c->in_recovery || (seq_ge(c->snd_una, c->recover) && !c->retries);
    if (c->snd_una == c->snd_max || !c->sb_n || !may) {
        ts_rto_arm(s, c);
        return;
    }
    c->rack_lost = c->sb[c->sb_n - 1].start;
    if (!c->in_recovery) {
        sack_enter_recovery(s, c);
        ts_prr_ack(c, 0, false);
    } /* in recovery cwnd stays: the newly lost data leaves the pipe, making room */
    ts_tcp_output(s, c);
    ts_rto_arm(s, c);
}

/* A hole below the highest SACKed range that IsLost does not (yet) call lost? */
static bool hole_below_sacked(const ts_conn *c)
{
    return c->sb_n && c->sacked_bytes >= c->snd_mss &&
           seq_lt(ts_sack_lost_end(c), c->sb[c->sb_n - 1].start);
}

/* An ACK on a connection with SACK recovery: the scoreboard, then RFC 6675's decision to
 * enter recovery (DupThresh dupACKs, or IsLost(SND.UNA)), then PRR's cwnd. */
static void sack_ack(ts_stack *s, ts_conn *c, const ts_seg *g, bool dup, uint32_t una0,
                     uint32_t sacked0)
{
    uint32_t before = c->cwnd;
    ts_sack_add(c, g->opts.sack, g->opts.nsack);
    uint32_t acked = c->snd_una - una0;
    int64_t d = (int64_t)acked + c->sacked_bytes - sacked0;
    uint32_t delivered = d > 0 ? (uint32_t)d : 0;
    if (dup) c->dupacks++;
    if (!c->in_recovery) {
        bool may = c->snd_una != c->snd_max && seq_ge(c->snd_una, c->recover) && !c->retries;
        if (may && (c->dupacks >= 3 || seq_gt(ts_sack_lost_end(c), c->snd_una))) {
            sack_enter_recovery(s, c);
            ts_prr_ack(c, delivered, acked > 0);
            if (hole_below_sacked(c) && c->srtt) reo_arm(s, c);
        } else {
            /* limited transmit needs no help here: SACKed data leaves the flight
             * (tcp_out.c next_len), so ts_ack_input's output sends into the room */
            if (may && hole_below_sacked(c) && !c->reo_armed && c->srtt) reo_arm(s, c);
        }
    } else {
        ts_rxt_detect(c); /* before PRR: a lost retransmission leaves the pipe */
        ts_prr_ack(c, delivered, acked > 0);
        /* RACK in recovery too: a hole below SACKed data, too few SACKs above it for
         * DupThresh (the tail of the window), is lost once the reordering window passes */
        if (hole_below_sacked(c) && !c->reo_armed && c->srtt) reo_arm(s, c);
    }
    cwnd_event(s, c, before);
}

void ts_ack_input(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    if (!ack_check(s, c, g)) return;
    /* RFC 7323 4.3: remember the timestamp of the segment at the left edge. RFC 7323 5.3
     * (R3) records it before the ACK field is looked at; tcpsim waits until the ACK has
     * passed its checks and is not older than SND.UNA, as Linux's tcp_ack does, so that a
     * segment ACKing unsent data (a blind injection, RFC 5961 5.2) cannot move TS.Recent:
     * Linux's own test of this (ts_recent/invalid_ack) checks the echoed value. */
    if (c->ts_ok && g->opts.has_ts && seq_le(g->seq, c->last_ack_sent) &&
        seq_ge(g->ack, c->snd_una))
        c->ts_recent = g->opts.tsval;
    if (c->state == TS_SYN_RECEIVED) ts_synack_acked(s, c, g);
    bool dup = g->ack == c->snd_una && g->len == 0 && !(g->flags & TH_FIN) &&
               ((uint32_t)g->wnd << c->snd_wscale) == c->snd_wnd && c->snd_max != c->snd_una;
    uint32_t una0 = c->snd_una, sacked0 = c->sacked_bytes;
    if (seq_gt(g->ack, c->snd_una)) new_ack(s, c, g);
    if (ts_sack_mode(c) && c->state != TS_SYN_RECEIVED)
        sack_ack(s, c, g, dup, una0, sacked0);
    else if (dup)
        dupack(s, c);
    window_update(s, c, g);
    if (!closing_transitions(s, c)) return;
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
    if (g->flags & TH_FIN) {
        uint32_t fin_seq = g->seq + g->len;
        if (fin_seq == c->rcv_nxt && !c->fin_rcvd) {
            fin_input(s, c);
        } else if (seq_gt(fin_seq, c->rcv_nxt) && !c->fin_rcvd) {
            c->fin_ooo = true; /* after a hole: taken when the hole fills */
            c->fin_ooo_seq = fin_seq;
        } else {
            c->ack_now = true;
            if (c->state == TS_TIME_WAIT) /* a retransmitted FIN restarts 2MSL */
                ts_timer_set(s, c, TS_TIMER_TIME_WAIT, s->now + c->p.time_wait);
        }
    }
    if (c->fin_ooo && c->fin_ooo_seq == c->rcv_nxt && !c->fin_rcvd) fin_input(s, c);
    if (c->p.keepalive) c->probes = 0;
    ts_tcp_output(s, c);
}
