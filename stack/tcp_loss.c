/* tcp_loss.c: loss recovery, in one place. It owns the sender's congestion state
 * (c->ca_state: OPEN, DISORDER, RECOVERY, LOSS, as Linux's tcp_ca_state and gVisor's
 * snd.go), the choice between SACK and NewReno recovery (made once, ts_loss_policy), and
 * every decision built on them:
 * - duplicate ACKs, limited transmit (RFC 3042), fast retransmit and NewReno recovery
 *   (RFC 5681 3.2, RFC 6582) for connections without SACK recovery;
 * - SACK recovery's entry and exit (RFC 6675 5) with proportional rate reduction
 *   (RFC 6937);
 * - RACK's reordering timer and lost retransmissions (RFC 8985 6.2);
 * - the tail loss probe (RFC 8985 7);
 * - the one reset after a retransmission timeout or a zero window;
 * - spurious retransmissions found and undone, from one undo record per episode
 *   (c->undo): F-RTO after an RTO (RFC 5682), Eifel detection by timestamps (RFC 3522)
 *   with RFC 4015's response, D-SACK undo (RFC 2883 4, RFC 3708), and the D-SACK's
 *   widening of RACK's reordering window (RFC 8985 6.2).
 * cwnd is written here and in the cc modules (cc_*.c) only: this file reports congestion
 * signals and the end of recovery to the cc (policy.h) and sets cwnd itself only where
 * recovery, not the algorithm, decides it (PRR, an RTO's second and later timeouts).
 * Limited transmit and the TLP send past cwnd by asking one output pass for a larger
 * window (ts_out_opts), leaving cwnd alone. The SACK scoreboard it reads is tcp_sack.c's;
 * output (tcp_out.c) sends what it asks for. tlp_out and reo_armed say what the TLP timer
 * slot holds; they are not congestion states. */
#include <string.h>

#include "internal.h"

/* ---- state ---- */

/* Outside recovery and loss: DISORDER while dupACKs or SACKs say something is missing. */
static void settle(ts_conn *c)
{
    if (c->ca_state == TS_CA_RECOVERY || c->ca_state == TS_CA_LOSS) return;
    c->ca_state = c->dupacks || c->sacked_bytes ? TS_CA_DISORDER : TS_CA_OPEN;
}

void ts_loss_start(ts_conn *c)
{
    c->ca_state = TS_CA_OPEN;
    ts_loss_policy(c);
}

/* SACK recovery needs the option negotiated and the parameter recovery=sack. The user
 * may switch at any moment, mid-recovery too (ts_sock_set_params). The scoreboard is SACK
 * recovery's alone: only it adds to it and trims it, so a NewReno sender must not keep
 * one (its output would still subtract the stale ranges from the flight, which then
 * underflowed and stalled the connection for good); a SACK sender starting afresh
 * rebuilds it from the next ACKs' blocks. A recovery in progress goes on under the new
 * rules to the same RecoveryPoint, PRR counting from the switch. */
void ts_loss_policy(ts_conn *c)
{
    bool sack = c->sack_ok && c->p->recovery[0] == 's'; /* "sack" */
    if (sack != c->sack_rec) {
        ts_sack_clear(c);
        c->recover_fs = c->cwnd;
        c->prr_delivered = c->prr_out = 0;
    }
    c->sack_rec = sack;
}

static void cwnd_event(ts_stack *s, ts_conn *c, uint32_t before)
{
    if (c->cwnd == before) return;
    ts_event ev = {.type = TS_EV_CWND};
    ev.u.cwnd.cwnd = c->cwnd;
    ev.u.cwnd.ssthresh = c->ssthresh;
    ts_emit_conn(s, c, &ev);
}

/* A loss episode begins (a fast retransmit, or an RTO in OPEN or DISORDER), before its
 * congestion response: the one undo record remembers what to restore (Linux's
 * prior_cwnd and prior_ssthresh) and counts the episode's retransmissions from here. An
 * RTO also takes RFC 4015 step (0) (only here: the first timeout of an episode, never a
 * later one, as section 3.1 requires): pipe_prev = max(FlightSize, ssthresh) before the
 * cc lowers them, SRTT_prev = SRTT + 2G and RTTVAR_prev = RTTVAR as they stand. A step
 * (11) still pending from an earlier undone RTO survives a fast retransmit's record; a
 * new RTO's step (0) replaces it. */
static void undo_begin(ts_conn *c, bool rto)
{
    struct ts_undo *u = &c->undo;
    struct ts_undo keep = {.rto_adapt = u->rto_adapt && !rto,
                           .adapt_above = u->adapt_above,
                           .srtt_prev = u->srtt_prev,
                           .rttvar_prev = u->rttvar_prev};
    uint32_t flight = c->snd_max - c->snd_una;
    *u = (struct ts_undo){.armed = true, .rto = rto, .marker = c->snd_una, .high = c->snd_max};
    u->cwnd = c->cwnd;
    u->ssthresh = c->ssthresh;
    u->pipe_prev = flight > c->ssthresh ? flight : c->ssthresh;
    if (rto) {
        u->srtt_prev = c->srtt + 2 * c->p->rto_g; /* G: the stack's clock granularity */
        u->rttvar_prev = ts_rto_rttvar_rfc(c);
    } else if (keep.rto_adapt) {
        u->rto_adapt = true, u->adapt_above = keep.adapt_above;
        u->srtt_prev = keep.srtt_prev, u->rttvar_prev = keep.rttvar_prev;
    }
}

/* One SMSS (or what is left) from SND.UNA: the segment fast retransmit resends. */
static uint32_t resend_len(const ts_conn *c)
{
    uint32_t off = c->snd_una - c->snd_buf_seq;
    uint32_t avail = c->sndq.len > off ? c->sndq.len - off : 0;
    return avail < c->snd_mss ? avail : c->snd_mss;
}

static void resend_una(ts_stack *s, ts_conn *c, ts_rexmit_kind k)
{
    uint32_t len = resend_len(c);
    ts_emit_rexmit(s, c, k, c->snd_una, len, 1, c->rto);
    ts_send_data(s, c, c->snd_una, len, true);
}

/* RFC 8985 6.2 step 4: a fast or RTO recovery ended; 16 of them after the last D-SACK
 * round, the reordering window is back to one quarter of min_RTT. */
static void reo_wnd_recovery_end(ts_conn *c)
{
    if (c->reo_wnd_persist && --c->reo_wnd_persist == 0) c->reo_wnd_mult = 1;
}

/* ---- NewReno: connections without SACK recovery ---- */

/* RFC 3042 limited transmit: each of the first two dupACKs lets one new segment out, up
 * to cwnd + 2*SMSS in flight, cwnd itself unchanged (Linux does the same, counting
 * dupACKs as SACKed segments without SACK) */
static void limited_transmit(ts_stack *s, ts_conn *c)
{
    ts_tcp_output_opts(s, c, &(ts_out_opts){.cwnd = c->cwnd + c->dupacks * c->snd_mss});
}

/* RFC 5681 3.2 and RFC 6582 3.2: a duplicate ACK. */
static void dupack(ts_stack *s, ts_conn *c)
{
    uint32_t before = c->cwnd;
    bool rec = c->ca_state == TS_CA_RECOVERY;
    c->dupacks++;
    if (c->dupacks == 3 && !rec && seq_ge(c->snd_una, c->recover)) {
        undo_begin(c, false);
        c->ca_state = TS_CA_RECOVERY;
        c->recover = c->snd_max;
        c->cc_ops->cong_signal(c, TS_CC_SIG_DUPACK);
        s->cnt.tcp_fast_retransmits++;
        resend_una(s, c, TS_REXMIT_FAST);
        ts_rto_arm(s, c);
    } else if (c->dupacks > 3 && rec) {
        c->cc_ops->on_dupack(c);
    } else if (c->dupacks <= 2 && !rec && c->p->limited_transmit) {
        limited_transmit(s, c);
    }
    cwnd_event(s, c, before);
}

/* What a new ACK delivered, as Linux counts it for cwnd growth (abc = 0): segments reach
 * the receiver once, when first SACKed, or, without SACK, when a dupACK reported them (one
 * per dupACK, Linux's Reno emulation of SACK). Bytes that arrived earlier do not count
 * again at the cumulative ACK; at least one segment does (the hole it filled). RFC 5681
 * counts every byte the ACK newly acknowledges (abc >= 1). sacked0: SACKed bytes before
 * the ACK's trim of the scoreboard. */
static uint32_t delivered(const ts_conn *c, uint32_t acked, uint32_t sacked0)
{
    uint64_t seen = c->sack_rec ? (sacked0 > c->sacked_bytes ? sacked0 - c->sacked_bytes : 0)
                                : (uint64_t)c->dupacks * c->snd_mss; /* no wrap, however many */
    uint32_t hole = acked < c->snd_mss ? acked : c->snd_mss;
    return seen < acked - hole ? acked - (uint32_t)seen : hole;
}

/* Recovery is over: back to OPEN (DISORDER if SACKs remain, settled after the ACK). */
static void recovery_done(ts_conn *c)
{
    c->ca_state = TS_CA_OPEN;
    c->dupacks = 0;
    reo_wnd_recovery_end(c);
}

void ts_loss_new_ack(ts_stack *s, ts_conn *c, uint32_t acked, uint32_t sacked0)
{
    uint32_t before = c->cwnd;
    ts_hystart_ack(c, c->snd_una - acked, s->now);    /* slow start's exit (hystart.c) */
    if (c->ca_state == TS_CA_LOSS && !c->undo.frto) { /* new data ACKed after the RTO */
        c->ca_state = TS_CA_OPEN;
        reo_wnd_recovery_end(c);
    }
    c->reo_armed = false; /* re-armed below if a hole remains (sack_ack) */
    if (c->tlp_out && seq_ge(c->snd_una, c->tlp_high_seq)) c->tlp_out = false; /* RFC 8985 7.4 */
    if (c->sack_rec || c->sb_n) ts_sack_trim(c);
    if (c->ca_state == TS_CA_RECOVERY && c->sack_rec) {
        /* RFC 6675: recovery ends when SND.UNA reaches RecoveryPoint; RFC 6937 (and
         * Linux) then set cwnd = ssthresh (the cc's post_recovery). A partial ACK sends
         * nothing by itself: PRR decides (sack_ack). */
        if (seq_ge(c->snd_una, c->recover)) {
            recovery_done(c);
            c->cc_ops->post_recovery(c);
        }
    } else if (c->ca_state == TS_CA_RECOVERY) {
        bool full = seq_ge(c->snd_una, c->recover);
        if (c->cc_ops->on_recovery_ack(c, acked, full))
            recovery_done(c);
        else /* partial ACK: resend the next hole at once (RFC 6582 3.2 step 3) */
            resend_una(s, c, TS_REXMIT_PARTIAL);
    } else {
        uint32_t grow = c->p->abc ? acked : delivered(c, acked, sacked0);
        c->dupacks = 0;
        c->cc_ops->on_ack(c, grow, s->now);
    }
    cwnd_event(s, c, before);
}

/* ---- SACK recovery (RFC 6675) with PRR (RFC 6937) ---- */

/* RFC 6937 section 3, in Linux's form (tcp_cwnd_reduction): above ssthresh, send in
 * proportion to what was delivered; at or below it, grow back toward ssthresh no faster
 * than slow start (SSRB: what was delivered, plus one SMSS when SND.UNA advanced). The
 * first ACK of recovery always lets the fast retransmission out. */
static void prr_ack(ts_conn *c, uint32_t delivered, bool una_advanced)
{
    uint32_t mss = c->snd_mss ? c->snd_mss : 536;
    c->prr_delivered += delivered;
    uint32_t pipe = ts_sack_pipe(c);
    int64_t sndcnt;
    if (pipe > c->ssthresh) {
        uint64_t fs = c->recover_fs ? c->recover_fs : 1;
        sndcnt = (int64_t)(((uint64_t)c->prr_delivered * c->ssthresh + fs - 1) / fs) -
                 (int64_t)c->prr_out;
    } else {
        int64_t limit = (int64_t)c->prr_delivered - (int64_t)c->prr_out;
        if (limit < (int64_t)delivered) limit = delivered;
        if (una_advanced) limit += mss;
        sndcnt = c->ssthresh - pipe;
        if (sndcnt > limit) sndcnt = limit;
    }
    if (sndcnt < 0) sndcnt = 0;
    if (!c->prr_out && sndcnt < mss) sndcnt = mss;
    c->cwnd = pipe + (uint32_t)sndcnt;
}

/* RFC 6675 5 with PRR: enter recovery; output retransmits the first hole. */
static void sack_enter_recovery(ts_stack *s, ts_conn *c)
{
    undo_begin(c, false);
    c->ca_state = TS_CA_RECOVERY;
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

/* The reordering window of RFC 8985 6.2: reo_wnd_mult * min_RTT/4, at most SRTT (the
 * multiplier grows with D-SACK rounds, dsack_in), plus Linux's 2 ms
 * timer slack (2 ticks on older Linux, see ts_timeout_min). Armed when SACKed data shows
 * a hole that IsLost does not yet call lost: the hole went out no later than the SACKed
 * data, so it is late by then. It shares the TLP's timer slot (reo_armed says which). */
static void reo_arm(ts_stack *s, ts_conn *c)
{
    ts_time_t rtt = c->min_rtt ? c->min_rtt : c->srtt;
    ts_time_t mult = c->reo_wnd_mult ? c->reo_wnd_mult : 1; /* D-SACK rounds widen it */
    ts_time_t wnd = mult * (rtt / 4) < c->srtt ? mult * (rtt / 4) : c->srtt;
    c->reo_armed = true;
    ts_timer_set(s, c, TS_TIMER_TLP, s->now + ts_timeout_min(c, wnd));
}

/* The reordering timer fired: the holes below the highest SACKed range are lost. */
static void reo_timeout(ts_stack *s, ts_conn *c)
{
    c->reo_armed = false;
    bool rec = c->ca_state == TS_CA_RECOVERY;
    bool may = rec || (seq_ge(c->snd_una, c->recover) && c->ca_state != TS_CA_LOSS);
    if (c->snd_una == c->snd_max || !c->sb_n || !may) {
        ts_rto_arm(s, c);
        return;
    }
    c->rack_lost = c->sb[c->sb_n - 1].start;
    if (!rec) {
        sack_enter_recovery(s, c);
        prr_ack(c, 0, false);
    } /* in recovery cwnd stays: the newly lost data leaves the pipe, making room */
    ts_tcp_output(s, c);
    ts_rto_arm(s, c);
}

/* RFC 8985 6.2 for retransmissions: one is lost when data sent after it (a later
 * retransmission, or data above SND.MAX as it was then) has been delivered while it has
 * not. The reordering window is 0 here: RFC 8985 6.2 step 4 (and Linux) use 0 during
 * loss recovery until reordering has been seen, which tcpsim does not track. Delivered
 * entries leave the array; call after the scoreboard took the ACK's SACK blocks. Out of
 * line: it runs only in recovery, and inlined into sack_ack it slowed every ACK (callgrind:
 * 0.2% of a whole simulated transfer). */
__attribute__((noinline)) static void rxt_detect(ts_conn *c)
{
    for (uint32_t i = 0; i < c->rxt_n;) {
        if (ts_sack_unsacked_in(c, c->rxt[i].start, c->rxt[i].end) == 0) {
            if (c->rxt[i].order > c->rxt_delivered) c->rxt_delivered = c->rxt[i].order;
            c->rxt[i] = c->rxt[--c->rxt_n];
        } else {
            i++;
        }
    }
    uint32_t top = c->sb_n ? c->sb[c->sb_n - 1].end : c->snd_una;
    for (uint32_t i = 0; i < c->rxt_n; i++) {
        struct ts_rxt *r = &c->rxt[i];
        if (!r->lost && (c->rxt_delivered > r->order || seq_gt(top, r->high))) r->lost = true;
    }
}

/* A hole below the highest SACKed range that IsLost does not (yet) call lost? */
static bool hole_below_sacked(const ts_conn *c)
{
    return c->sb_n && c->sacked_bytes >= c->snd_mss &&
           seq_lt(ts_sack_lost_end(c), c->sb[c->sb_n - 1].start);
}

/* An ACK on a connection with SACK recovery: the scoreboard, then RFC 6675's decision to
 * enter recovery (DupThresh dupACKs, or IsLost(SND.UNA)), then PRR's cwnd. */
static void sack_ack(ts_stack *s, ts_conn *c, const ts_ack_info *a)
{
    uint32_t before = c->cwnd;
    ts_sack_add(s, c, a->sack, a->nsack);
    uint32_t acked = c->snd_una - a->una0;
    int64_t d = (int64_t)acked + c->sacked_bytes - a->sacked0;
    uint32_t delivered = d > 0 ? (uint32_t)d : 0;
    if (a->dup) c->dupacks++;
    if (c->ca_state != TS_CA_RECOVERY) {
        bool may =
            c->snd_una != c->snd_max && seq_ge(c->snd_una, c->recover) && c->ca_state != TS_CA_LOSS;
        if (may && (c->dupacks >= 3 || seq_gt(ts_sack_lost_end(c), c->snd_una))) {
            sack_enter_recovery(s, c);
            prr_ack(c, delivered, acked > 0);
            if (hole_below_sacked(c) && c->srtt) reo_arm(s, c);
        } else {
            /* limited transmit needs no help here: SACKed data leaves the flight
             * (tcp_out.c next_len), so ts_ack_input's output sends into the room */
            if (may && hole_below_sacked(c) && !c->reo_armed && c->srtt) reo_arm(s, c);
        }
    } else {
        rxt_detect(c); /* before PRR: a lost retransmission leaves the pipe */
        prr_ack(c, delivered, acked > 0);
        /* RACK in recovery too: a hole below SACKed data, too few SACKs above it for
         * DupThresh (the tail of the window), is lost once the reordering window passes */
        if (hole_below_sacked(c) && !c->reo_armed && c->srtt) reo_arm(s, c);
    }
    cwnd_event(s, c, before);
}

/* ---- spurious retransmissions: undo (RFC 5682, 3522, 4015, 2883, 3708) ---- */

/* A retransmission was spurious: undo the episode's congestion response.
 * An RTO found by Eifel is RFC 4015's SPUR_TO, and step (7) sends it through:
 * - step (8): SND.NXT = SND.MAX, no go-back-N (below, shared with the other undos);
 * - step (9): cwnd = FlightSize (after this ACK) + min(bytes_acked, IW), IW being the
 *   window the cc opened with (cc_newreno.c: 1 segment after a retransmitted SYN-ACK),
 *   and ssthresh = pipe_prev; cwnd is not touched again for this ACK (ts_loss_new_ack's
 *   growth ran before). Its ECN-Echo exit cannot be taken: tcpsim never negotiates ECN,
 *   and RFC 3168 6.1.1 has a non-ECN sender ignore the flag. Floor of our own: 1 SMSS;
 * - step (10): nothing to do: the one idle restart (socket.c, RFC 5681 4.1) requires
 *   SND.UNA == SND.MAX, so a delay spike with data out is never taken for idleness;
 * - step (11): armed here, taken by ts_loss_rtt_sample.
 * F-RTO and D-SACK (SPUR_TO and LATE_SPUR_TO in RFC 4015 2's terms) do not take this
 * response (RFC 4015 3.1 makes it optional): they restore what the episode found, as
 * Linux's tcp_undo_cwnd_reduction does (never lower than now). Any undo of an RTO stops
 * its go-back-N (Linux clears its lost marks), and recovery or LOSS is over. */
static void undo(ts_stack *s, ts_conn *c, ts_undo_kind kind, uint32_t acked)
{
    struct ts_undo *u = &c->undo;
    if (kind == TS_UNDO_EIFEL && u->rto) {
        uint32_t iw = (c->synack_retransmitted ? 1 : c->p->init_cwnd) * c->snd_mss;
        c->cwnd = (c->snd_max - c->snd_una) + (acked < iw ? acked : iw);
        if (c->cwnd < c->snd_mss) c->cwnd = c->snd_mss;
        c->ssthresh = u->pipe_prev;
        u->rto_adapt = true;
        u->adapt_above = u->high;
    } else {
        if (c->cwnd < u->cwnd) c->cwnd = u->cwnd;
        if (c->ssthresh < u->ssthresh) c->ssthresh = u->ssthresh;
    }
    if (kind == TS_UNDO_FRTO)
        s->cnt.tcp_spurious_rto_undo++;
    else if (kind == TS_UNDO_EIFEL)
        (u->rto ? s->cnt.tcp_loss_undo++ : s->cnt.tcp_full_undo++);
    else
        s->cnt.tcp_dsack_undo++;
    if (u->rto && seq_lt(c->snd_nxt, c->snd_max)) c->snd_nxt = c->snd_max;
    if (c->ca_state == TS_CA_RECOVERY || c->ca_state == TS_CA_LOSS) {
        recovery_done(c);
        c->rack_lost = c->high_rxt = c->snd_una;
        ts_rxt_reset(c);
    }
    u->armed = false;
    u->frto = 0;
    ts_event ev = {.type = TS_EV_UNDO};
    ev.u.undo.kind = kind;
    ev.u.undo.rto = u->rto;
    ev.u.undo.cwnd = c->cwnd;
    ev.u.undo.ssthresh = c->ssthresh;
    ts_emit_conn(s, c, &ev);
}

/* RFC 2883 4: the first SACK block is a D-SACK when it lies below the cumulative ACK or
 * inside the second block. A broken block (start not below end) is none. */
static bool has_dsack(const ts_ack_info *a)
{
    if (!a->nsack || !seq_lt(a->sack[0].start, a->sack[0].end)) return false;
    if (seq_lt(a->sack[0].start, a->ack)) return true;
    return a->nsack > 1 && seq_ge(a->sack[0].start, a->sack[1].start) &&
           seq_le(a->sack[0].end, a->sack[1].end);
}

/* A D-SACK arrived: RACK's reordering window widens once per round trip that brings one
 * (RFC 8985 6.2 step 4), and the segments of the undo record's retransmissions it covers
 * were duplicates (RFC 3708 2); a D-SACK of data not retransmitted (a duplicate the
 * network made) counts for nothing. Nothing of it reaches the scoreboard: the data was
 * already ACKed or SACKed (ts_loss_ack passes the other blocks only). */
static void dsack_in(ts_stack *s, ts_conn *c, const ts_sack_block *d)
{
    s->cnt.tcp_dsack_in++;
    c->dsack_seen = true;
    if (c->dsack_round_on && seq_ge(c->snd_una, c->dsack_round)) c->dsack_round_on = false;
    if (!c->dsack_round_on) {
        c->dsack_round_on = true;
        c->dsack_round = c->snd_max;
        if (c->reo_wnd_mult < 255) c->reo_wnd_mult = (c->reo_wnd_mult ? c->reo_wnd_mult : 1) + 1;
        c->reo_wnd_persist = 16;
    }
    struct ts_undo *u = &c->undo;
    if (!u->armed || !u->retrans) return;
    uint32_t mss = c->snd_mss ? c->snd_mss : 536;
    for (uint32_t i = 0; i < u->rtx_n && u->retrans; i++) {
        uint32_t lo = seq_max(d->start, u->rtx[i].start), hi = seq_min(d->end, u->rtx[i].end);
        if (!seq_lt(lo, hi)) continue;
        uint32_t segs = (hi - lo + mss - 1) / mss;
        u->retrans -= segs < u->retrans ? segs : u->retrans;
    }
}

/* RFC 3522 3.2 Eifel detection (RFC 4015's step (DET)), checked against the text:
 * steps (1)-(2) are the undo record and its RetransmitTS, the TSval of the episode's
 * first retransmission, never overwritten (ts_undo_note_rexmit); (3) the first
 * acceptable ACK after it is examined, once (eifel_done); (4) its TSecr must be older
 * than RetransmitTS (serial comparison; strictly older; a zero echo counts as none, as
 * in Linux); (5) an ACK with a D-SACK ends it, and so does an ACK of all outstanding
 * data unless an earlier ACK carried a D-SACK (dsack_seen: an ACK with its own D-SACK
 * has returned before that test); (6) then the retransmission was spurious: SPUR_TO
 * after an RTO, a spurious fast retransmit otherwise. */
static void eifel_check(ts_stack *s, ts_conn *c, const ts_ack_info *a, bool dsack)
{
    struct ts_undo *u = &c->undo;
    if (!c->p->eifel || !c->ts_ok || !u->armed || !u->rtx_ts_set || u->eifel_done ||
        !seq_gt(c->snd_una, u->marker) || c->snd_una == a->una0)
        return;
    u->eifel_done = true;
    if (!a->has_ts || !a->tsecr || !seq_lt(a->tsecr, u->rtx_ts) || dsack) return;
    if (c->dsack_seen || c->snd_una != c->snd_max) undo(s, c, TS_UNDO_EIFEL, c->snd_una - a->una0);
}

/* F-RTO step 2b (RFC 5682 2 and 3.1): up to two new segments past SND.MAX instead of
 * going back; false when none can go (no new data, or no window), which leaves the
 * conventional RTO recovery. */
static bool frto_send_new(ts_stack *s, ts_conn *c)
{
    uint32_t nxt = c->snd_nxt, max = c->snd_max;
    bool data = seq_lt(c->snd_max, c->snd_buf_seq + c->sndq.len);
    if (!data || !seq_lt(c->snd_max, c->snd_una + c->snd_wnd)) return false;
    uint32_t flight = c->snd_max - c->snd_una, sacked = ts_sack_below(c, c->snd_max);
    flight -= sacked < flight ? sacked : flight; /* as output counts it in LOSS */
    c->snd_nxt = c->snd_max;
    ts_tcp_output_opts(s, c, &(ts_out_opts){.cwnd = flight + 2 * c->snd_mss});
    if (c->snd_max != max) return true;
    c->snd_nxt = nxt;
    return false;
}

/* RFC 5682 after an RTO (undo.frto 2: waiting for the first new ACK; 3: new data sent,
 * waiting for the next ACK). The basic algorithm (section 2) without SACK, the
 * SACK-enhanced one (section 3.1) with it: there duplicate ACKs in step 2 are waited
 * out, and in step 3 a SACK of data never retransmitted counts as its ACK.
 * orig_sacked: this ACK SACKed data below the episode's SND.MAX anew. */
static void frto_ack(ts_stack *s, ts_conn *c, const ts_ack_info *a, bool orig_sacked)
{
    struct ts_undo *u = &c->undo;
    bool advanced = c->snd_una != a->una0;
    if (u->frto == 2) {
        if (!advanced) {
            if (a->dup && !c->sack_rec) u->frto = 0; /* 2a: conventional recovery */
            return;
        }
        if (seq_lt(c->snd_una, u->high) && frto_send_new(s, c)) {
            u->frto = 3; /* 2b */
            return;
        }
        u->frto = 0; /* 2a: all of it ACKed, or nothing new to send */
    } else if (advanced || (c->sack_rec && orig_sacked)) {
        undo(s, c, TS_UNDO_FRTO, c->snd_una - a->una0); /* 3b: never-retransmitted data arrived */
        return;
    } else if (a->dup) {
        /* 3a: the loss was real. At most 3 SMSS, and go back from SND.UNA. */
        if (c->cwnd > 3 * c->snd_mss) c->cwnd = 3 * c->snd_mss;
        c->snd_nxt = c->snd_una;
        u->frto = 0;
        return;
    } else {
        return; /* step 3 ignores other ACKs (a window update) */
    }
    if (c->ca_state == TS_CA_LOSS && advanced) {
        c->ca_state = TS_CA_OPEN; /* the conventional rule: new data ACKed after the RTO */
        reo_wnd_recovery_end(c);
    }
}

void ts_loss_ack(ts_stack *s, ts_conn *c, const ts_ack_info *a)
{
    bool dsack = c->state != TS_SYN_RECEIVED && has_dsack(a);
    ts_ack_info b = *a; /* the D-SACK block never reaches the scoreboard */
    if (dsack) {
        dsack_in(s, c, &a->sack[0]);
        b.sack++, b.nsack--;
    }
    bool frto3 = c->undo.armed && c->undo.frto == 3;
    uint32_t orig0 = frto3 ? ts_sack_below(c, c->undo.high) : 0;
    if (c->sack_rec && c->state != TS_SYN_RECEIVED)
        sack_ack(s, c, &b);
    else if (b.dup)
        dupack(s, c);
    uint32_t before = c->cwnd; /* sack_ack and dupack report their own changes */
    eifel_check(s, c, &b, dsack);
    if (c->undo.armed && c->undo.frto)
        frto_ack(s, c, &b, frto3 && ts_sack_below(c, c->undo.high) > orig0);
    struct ts_undo *u = &c->undo;
    if (dsack && c->p->dsack_undo && u->armed && u->nrtx && !u->retrans)
        undo(s, c, TS_UNDO_DSACK, 0);
    settle(c);
    cwnd_event(s, c, before);
}

/* RFC 4015 step (11), after an RTO undone by Eifel: the first RTT sample from an ACK of
 * data that had not been sent when the timeout fired (above adapt_above; samples from
 * older data are smoothed as usual) reinitializes the estimator: SRTT = max(SRTT_prev,
 * sample), RTTVAR = max(RTTVAR_prev, sample/2), RTO = SRTT + max(G, 4 RTTVAR) within
 * [rto_min, rto_max] (RFC 6298 2.4, 2.5); new_ack restarts the timer with it. That is
 * rfc6298's estimator; the others adapt in their own form: linux keeps 4 RTTVAR,
 * floored at rto_min, as its deviation (RTO = SRTT + that, capped at rto_max), and
 * fixed's RTO stays rto_init. */
bool ts_loss_rtt_sample(ts_conn *c, ts_time_t rtt, uint32_t ack)
{
    struct ts_undo *u = &c->undo;
    if (!u->rto_adapt || !seq_gt(ack, u->adapt_above)) return false;
    u->rto_adapt = false;
    ts_time_t srtt = rtt > u->srtt_prev ? rtt : u->srtt_prev;
    ts_time_t var = rtt / 2 > u->rttvar_prev ? rtt / 2 : u->rttvar_prev;
    c->srtt = srtt;
    ts_rto_set_rttvar_rfc(c, var);
    if (c->rto_ops->set_rto) c->rto_ops->set_rto(c);
    return true;
}

/* ---- timeouts ---- */

/* The one reset for a retransmission timeout and for a zero window met with data
 * outstanding (rto false): recovery must not hold SND.NXT, the TLP slot and the
 * dupACK count start over, and nothing in flight can be timed (Karn). An RTO is also a
 * congestion signal: the cc's at the first timeout of an episode (RFC 5681 3.1), 1 SMSS
 * at each later one (RFC 5681 (5)); and RFC 6675 5.1 lets the scoreboard stay, as Linux
 * does (tcp_timeout_mark_lost), unless the peer reneged: a SACKed range starting at
 * SND.UNA would have been ACKed. The caller counts the timeout (retries). */
void ts_loss_reset(ts_stack *s, ts_conn *c, bool rto)
{
    /* A new episode (not an RTO in recovery, nor a later one of an RTO's episode) gets a
     * new undo record; F-RTO starts only then, as Linux's (RFC 5682 2 step 1). */
    bool fresh = rto && (c->ca_state == TS_CA_OPEN || c->ca_state == TS_CA_DISORDER) &&
                 !(c->undo.armed && c->undo.rto && seq_lt(c->snd_una, c->recover));
    if (fresh) undo_begin(c, true);
    if (rto) c->undo.frto = fresh && c->p->frto && ts_state_may_send(c->state) ? 2 : 0;
    if (rto && c->retries == 0)
        c->cc_ops->cong_signal(c, TS_CC_SIG_RTO);
    else if (rto)
        c->cwnd = c->snd_mss;
    if (rto)
        c->ca_state = TS_CA_LOSS;
    else if (c->ca_state == TS_CA_RECOVERY)
        c->ca_state = TS_CA_OPEN;
    c->dupacks = 0;
    if (c->reo_armed) ts_timer_clear(s, c, TS_TIMER_TLP);
    c->reo_armed = false;
    if (rto) {
        if (c->sb_n && c->sb[0].start == c->snd_una) c->sb_n = 0, c->sacked_bytes = 0;
        c->high_rxt = c->rack_lost = c->snd_una;
    }
    ts_rxt_reset(c);
    c->recover = c->snd_max;
    c->tlp_out = false;
    c->rtt_timing = false;
    c->snd_nxt = c->snd_una; /* go back: resend from the first unACKed byte */
    settle(c);
}

/* RFC 8985 7.3 (Linux tcp_send_loss_probe): send one new segment if the peer's window
 * allows it (cwnd notwithstanding), else the newest segment sent again; then the RTO. */
static void tlp_timeout(ts_stack *s, ts_conn *c)
{
    if (c->snd_una == c->snd_max) return;
    c->tlp_out = true; /* also keeps ts_tcp_output from arming another probe */
    c->tlp_high_seq = c->snd_max;
    uint32_t off = c->snd_nxt - c->snd_buf_seq;
    uint32_t avail = c->sndq.len > off ? c->sndq.len - off : 0;
    uint32_t len = avail < c->snd_mss ? avail : c->snd_mss;
    bool sent_new = false;
    if (len && seq_le(c->snd_nxt + len, c->snd_una + c->snd_wnd)) {
        uint32_t max = c->snd_max;
        /* exactly one segment past the flight, cwnd notwithstanding; Linux sends the
         * probe with TCP_NAGLE_OFF, which overrides Nagle and the cork */
        ts_out_opts o = {.cwnd = c->snd_nxt - c->snd_una + len, .push = true};
        ts_tcp_output_opts(s, c, &o);
        sent_new = seq_gt(c->snd_max, max);
        c->tlp_high_seq = c->snd_max;
    }
    if (!sent_new) {
        uint32_t seq = seq_max(c->last_tx_seq, c->snd_una);
        /* the newest segment *sent*: data past snd_max has never gone out */
        uint32_t end = seq_min(c->snd_max, c->snd_buf_seq + c->sndq.len);
        uint32_t n = seq_lt(seq, end) ? end - seq : 0;
        if (n > c->snd_mss) seq = end - c->snd_mss, n = c->snd_mss;
        ts_send_data(s, c, seq, n, true);
        ts_emit_rexmit(s, c, TS_REXMIT_PROBE, seq, n, 1, c->rto); /* the timer kind: tlp */
    }
    ts_rto_arm(s, c);
}

/* The TLP timer slot fired: it held either RACK's reordering timer or the probe. */
void ts_loss_probe_timer(ts_stack *s, ts_conn *c)
{
    if (c->reo_armed)
        reo_timeout(s, c);
    else
        tlp_timeout(s, c);
}
