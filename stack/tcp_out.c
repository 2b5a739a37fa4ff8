/* tcp_out.c: building and sending segments: SYN and SYN-ACK with Linux's options and
 * windows, data under the peer's window and cwnd with Nagle (RFC 896) and sender-side
 * silly-window avoidance, ACKs (which carry any pending delayed ACK), RSTs (RFC 9293
 * 3.10.7.1), challenge ACKs (RFC 5961) and probes. Each segment is built once, in place,
 * in the stack's scratch buffer, with one copy of the payload from the send ring.
 * One output pass (ts_tcp_output_opts) sends what the windows allow, SACK recovery's hole
 * retransmissions first; what the pass may do beyond the connection's own rules (a
 * larger cwnd, a push, the SWS override) its caller says in a ts_out_opts. */
#include <errno.h>
#include <string.h>

#include "internal.h"

static uint32_t ts_now_ms(const ts_stack *s)
{
    return (uint32_t)(s->now / TS_MSEC);
}

uint32_t ts_flight(const ts_conn *c)
{
    return c->snd_nxt - c->snd_una;
}

/* The SYN's window: 65535 rounded down to whole segments, as Linux computes it
 * (64240 with MSS 1460 in a SYN; 65160 in a SYN-ACK with timestamps, MSS 1448). */
static uint32_t syn_window(const ts_conn *c, bool synack)
{
    uint32_t mss = c->p->mss - (synack && c->ts_ok ? TS_TS_OPT_LEN : 0);
    uint32_t space = c->p->rcvbuf < 65535 ? c->p->rcvbuf : 65535;
    return space / mss * mss;
}

/* max_len bounds the options of a non-SYN segment: with its payload they must fit in the
 * peer's MSS (RFC 6691, RFC 9293 3.7.1). SACK blocks that do not fit are left out, so a
 * full-sized data segment never grows past the path MTU; the peer still learns of every
 * hole from the pure ACKs. (Linux shrinks the payload instead; cutting segments the same
 * way everywhere keeps our segmentation simple and exact.) */
static size_t build_options(ts_stack *s, ts_conn *c, uint8_t flags, uint8_t *opt, size_t max_len)
{
    ts_tcp_opts_out o;
    memset(&o, 0, sizeof o);
    bool synack = (flags & TS_TH_SYN) && (flags & TS_TH_ACK);
    if (flags & TS_TH_SYN) {
        o.syn = true;
        o.mss_on = true;
        o.mss = (uint16_t)c->p->mss;
        /* a SYN offers what the parameters allow; a SYN-ACK answers what the peer offered */
        o.sackok_on = synack ? c->sack_ok : c->p->sack;
        o.wscale_on = synack ? c->ws_ok : c->p->wscale_on;
        o.wscale = c->rcv_wscale; /* SYN: the offer (ts_open_active); SYN-ACK: negotiated */
        o.ts_on = synack ? c->ts_ok : c->p->timestamps;
    } else {
        /* RFC 7323 allows TS on a RST; Linux sends nop,nop,TS on the RST of a connection
         * that negotiated timestamps (packetdrill ts_recent/reset_tsval.pkt) */
        o.ts_on = c->ts_ok;
        bool dsack = false;
        if (c->sack_ok && (c->ooo_n || c->dsack_pending) && !(flags & TS_TH_RST))
            o.nsack = (uint8_t)ts_rcv_sack_blocks(c, o.sack, TS_MAX_SACK_BLOCKS, &dsack);
        size_t fixed = o.ts_on ? TS_TS_OPT_LEN : 0;
        while (o.nsack && fixed + 4 + 8u * o.nsack > max_len) o.nsack--;
        /* RFC 2883 4 (3): a D-SACK block goes out in one ACK only (Linux clears it once
         * written); one that did not fit waits for the next */
        if (dsack && o.nsack) c->dsack_pending = false;
    }
    if (o.ts_on) {
        o.tsval = ts_now_ms(s) + c->ts_offset;
        o.tsecr = (flags & TS_TH_SYN) && !synack ? 0 : c->ts_recent;
    }
    return ts_tcp_opts_write(opt, &o);
}

/* Build and send one segment of the connection: payload [seq, seq+len) from the ring. */
static void xmit(ts_stack *s, ts_conn *c, uint32_t seq, uint8_t flags, uint32_t len)
{
    uint8_t *pkt = s->pkt, *th = pkt + TS_IP4_HLEN;
    uint32_t full = c->snd_mss + (c->ts_ok ? TS_TS_OPT_LEN : 0); /* the peer's MSS, ours */
    size_t room = full > len ? full - len : 0;
    size_t olen =
        build_options(s, c, flags, th + TS_TCP_HLEN, room > TS_TCP_OPT_MAX ? TS_TCP_OPT_MAX : room);
    size_t hlen = TS_TCP_HLEN + olen;
    if (len) ts_ring_get(&c->sndq, seq - c->snd_buf_seq, th + hlen, len);
    uint32_t wnd;
    if (flags & TS_TH_SYN)
        wnd = syn_window(c, flags & TS_TH_ACK);
    else if (flags & TS_TH_RST)
        wnd = 0;
    else
        wnd = ts_rcv_window(s, c);
    ts_tcp_hdr h = {
        .sport = c->local.port,
        .dport = c->remote.port,
        .seq = seq,
        .ack = (flags & TS_TH_ACK) ? c->rcv_nxt : 0,
        .flags = flags,
        .win = (uint16_t)wnd,
    };
    ts_tcp_write(th, &h, olen);
    size_t tcplen = hlen + len;
    ts_tcp_write_csum(th, tcplen, s->addr, c->remote.addr);
    if (flags & TS_TH_ACK) { /* this segment carries any pending ACK */
        c->ack_pending = c->ack_now = false;
        c->segs_unacked = 0;
        c->last_ack_sent = c->rcv_nxt;
        ts_timer_clear(s, c, TS_TIMER_DELACK);
    }
    if (len && c->delack_ops->on_data_sent) c->delack_ops->on_data_sent(c, s->now);
    c->last_snd_time = s->now;
    s->cnt.tcp_out++;
    s->cnt.tcp_bytes_out += len;
    if (flags & TS_TH_RST) s->cnt.tcp_rst_out++;
    ts_ip_output(s, c, c->remote.addr, TS_IPPROTO_TCP, pkt, TS_IP4_HLEN + tcplen);
}

/* Note what the echo of this data segment's timestamp may be (tcp_ack.c checks it before
 * taking an RTT sample, RFC 7323 4): for a retransmission, the range and its TSval (the
 * oldest record pushed out when the table is full, its TSval kept: a lookup that finds
 * no record below rtx_high must assume the newest lost one); for new data, a mark per
 * TSval tick saying when data from here on first went out (when the table is full,
 * marks of ACKed data go, or the two oldest merge, so a lookup stays a lower bound). */
static void tx_note(ts_stack *s, ts_conn *c, uint32_t seq, uint32_t len, bool rexmit)
{
    if (!c->ts_ok || !len) return;
    uint32_t ts = ts_now_ms(s) + c->ts_offset;
    if (rexmit) {
        if (seq_lt(c->rtx_high, c->snd_una) || seq_gt(seq + len, c->rtx_high))
            c->rtx_high = seq + len;
        if (c->rtm_n == TS_TXM_MAX) {
            c->rtm_lost = true;
            c->rtm_lost_ts = c->rtm[0].ts;
            memmove(&c->rtm[0], &c->rtm[1], (TS_TXM_MAX - 1) * sizeof c->rtm[0]);
            c->rtm_n--;
        }
        c->rtm[c->rtm_n++] = (struct ts_rtxmark){seq, seq + len, ts};
        return;
    }
    if (c->txm_n && c->txm[c->txm_n - 1].ts == ts) return; /* this tick's mark covers it */
    if (c->txm_n == TS_TXM_MAX) {
        /* forget marks whose data is all ACKed; else merge the two oldest (the older
         * TSval stays a lower bound for both ranges) */
        uint32_t k = 0;
        while (k + 1 < c->txm_n && seq_le(c->txm[k + 1].seq, c->snd_una)) k++;
        if (k == 0) {
            c->txm[1] = c->txm[0];
            k = 1;
        }
        memmove(&c->txm[0], &c->txm[k], (c->txm_n - k) * sizeof c->txm[0]);
        c->txm_n -= k;
    }
    c->txm[c->txm_n++] = (struct ts_txmark){seq, ts};
}

void ts_send_syn(ts_stack *s, ts_conn *c)
{
    bool synack = c->state == TS_SYN_RECEIVED;
    /* no data goes out before the SYN: the first floor of the marks above */
    c->txm_floor = (struct ts_txmark){c->iss, ts_now_ms(s) + c->ts_offset};
    xmit(s, c, c->iss, TS_TH_SYN | (synack ? TS_TH_ACK : 0), 0);
    c->snd_nxt = c->snd_max = c->iss + 1;
}

/* A pure ACK (and a RST) carries the RFC's SND.NXT, which is our snd_max: after an RTO
 * snd_nxt is rewound to resend from SND.UNA, and an ACK stamped with that old sequence
 * number would fall left of the peer's window, draw a duplicate ACK, and two such stacks
 * would trade ACKs forever (found by a lossy zero-window stress run in the simulator). */
void ts_send_ack(ts_stack *s, ts_conn *c)
{
    xmit(s, c, c->snd_max, TS_TH_ACK, 0);
}

/* Every ACK sent in answer to a segment that failed a check (out of the window, PAWS, an
 * ACK of unsent data, RFC 5961's challenge ACKs) passes here: at most one per
 * invalid_ratelimit per connection (Linux's tcp_invalid_ratelimit, 500 ms; 0 = no limit).
 * Two stacks that each take the other's ACK for an invalid one would otherwise trade
 * such ACKs as fast as the path allows (the fuzzer's ACK storm); RFC 5961 7 asks the same
 * for challenge ACKs. Returns true when this reply is to be skipped. */
static bool oow_limited(ts_stack *s, ts_conn *c)
{
    ts_time_t gap = c->p->invalid_ratelimit;
    if (gap && c->oow_sent && s->now - c->last_oow < gap) {
        s->cnt.tcp_oow_ratelimited++;
        return true;
    }
    c->oow_sent = true;
    c->last_oow = s->now;
    return false;
}

/* The duplicate ACK for a segment refused by PAWS or the window test (RFC 9293 3.10.7.4,
 * RFC 7323 5.3), or the ACK for an ACK of unsent data (RFC 5961 5.2; g NULL). A segment
 * that occupies sequence space (data or FIN, no SYN) is answered at once and does not
 * touch the limit, as in Linux: a peer retransmitting because our ACK was lost must hear
 * it again, and data is no part of a loop of pure ACKs. */
void ts_send_oow_ack(ts_stack *s, ts_conn *c, const ts_seg *g)
{
    bool takes_seq = g && (g->len || (g->flags & TS_TH_FIN)) && !(g->flags & TS_TH_SYN);
    if (!takes_seq && oow_limited(s, c)) return;
    ts_send_ack(s, c);
}

/* RFC 5961 7: challenge ACKs share the connection's invalid_ratelimit with the replies above
 * (as Linux). There is no per-host budget (Linux's tcp_challenge_ack_limit is per
 * network namespace and off, INT_MAX, since 6.0: a shared counter was a side channel). */
void ts_send_challenge_ack(ts_stack *s, ts_conn *c)
{
    if (oow_limited(s, c)) return;
    s->cnt.tcp_challenge_acks++;
    s->out_why = "challenge ACK (RFC 5961)";
    ts_send_ack(s, c);
    s->out_why = NULL;
}

void ts_send_rst(ts_stack *s, ts_conn *c)
{
    xmit(s, c, c->snd_max, TS_TH_RST | TS_TH_ACK, 0);
}

/* Zero-window probe or keepalive: an already ACKed sequence number draws an ACK. */
void ts_send_probe(ts_stack *s, ts_conn *c)
{
    xmit(s, c, c->snd_una - 1, TS_TH_ACK, 0);
}

/* RFC 9293 3.10.7.1: the reset for a segment that matches no connection. */
void ts_send_rst_for(ts_stack *s, const ts_seg *g)
{
    if (g->flags & TS_TH_RST) return;
    ts_conn tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.local.port = g->dport;
    tmp.remote.addr = g->src;
    tmp.remote.port = g->sport;
    tmp.delack_ops = ts_delack_find("linux");
    uint8_t flags = TS_TH_RST;
    uint32_t seq = 0;
    if (g->flags & TS_TH_ACK) {
        seq = g->ack;
    } else {
        flags |= TS_TH_ACK;
        tmp.rcv_nxt = g->seq + seg_seqlen(g);
    }
    uint8_t *pkt = s->pkt, *th = pkt + TS_IP4_HLEN;
    ts_tcp_hdr h = {
        .sport = g->dport, .dport = g->sport, .seq = seq, .ack = tmp.rcv_nxt, .flags = flags};
    ts_tcp_write(th, &h, 0);
    ts_tcp_write_csum(th, TS_TCP_HLEN, s->addr, g->src);
    s->cnt.tcp_out++;
    s->cnt.tcp_rst_out++;
    ts_ip_output(s, NULL, g->src, TS_IPPROTO_TCP, pkt, TS_IP4_HLEN + TS_TCP_HLEN);
}

/* PSH (RFC 9293 3.9.1 SEND, "push" at the end of each call). Linux marks PSH on the last
 * byte of each write; a write bigger than a segment ends in one PSH segment. Marks below
 * SND.UNA are forgotten; when the ring is full the newest mark moves forward, so PSH
 * still falls at the end of the latest write. */
void ts_push_mark(ts_conn *c, uint32_t end)
{
    uint32_t drop = 0;
    while (drop < c->push_n && seq_le(c->push_mark[drop], c->snd_una)) drop++;
    if (drop) {
        memmove(c->push_mark, c->push_mark + drop, (c->push_n - drop) * sizeof c->push_mark[0]);
        c->push_n -= drop;
    }
    if (c->push_n == TS_PUSH_MARKS)
        c->push_mark[TS_PUSH_MARKS - 1] = end;
    else
        c->push_mark[c->push_n++] = end;
}

/* Does [seq, seq+len) end at or cross the end of a write (or empty the queue)? A queue
 * whose newest write had TS_MSG_MORE has no push at its end (Linux marks PSH only at the
 * end of a write without MSG_MORE). */
static bool push_due(const ts_conn *c, uint32_t seq, uint32_t len)
{
    if (!len) return false;
    if (seq + len == c->snd_buf_seq + c->sndq.len && !c->tail_more) return true;
    for (uint32_t i = 0; i < c->push_n; i++)
        if (seq_gt(c->push_mark[i], seq) && seq_le(c->push_mark[i], seq + len)) return true;
    return false;
}

void ts_eor_trim(ts_conn *c)
{
    uint32_t drop = 0;
    while (drop < c->eor_n && seq_le(c->eor_mark[drop], c->snd_una)) drop++;
    if (!drop) return;
    memmove(c->eor_mark, c->eor_mark + drop, (c->eor_n - drop) * sizeof c->eor_mark[0]);
    c->eor_n -= drop;
}

/* Linux keeps a record's last bytes in an skb marked EOR that nothing is appended to and
 * that retransmission never merges with its neighbour: a segment ends at a record's end. */
uint32_t ts_eor_clamp(const ts_conn *c, uint32_t seq, uint32_t len)
{
    for (uint32_t i = 0; i < c->eor_n; i++)
        if (seq_gt(c->eor_mark[i], seq)) {
            uint32_t room = c->eor_mark[i] - seq;
            return len < room ? len : room;
        }
    return len;
}

/* Send [seq, seq+len) again (fast retransmit, partial ACK), with the FIN if it ends there. */
void ts_send_data(ts_stack *s, ts_conn *c, uint32_t seq, uint32_t len, bool rexmit)
{
    uint32_t off = seq - c->snd_buf_seq;
    uint32_t avail = c->sndq.len > off ? c->sndq.len - off : 0;
    if (len > avail) len = avail;
    len = ts_eor_clamp(c, seq, len);
    uint8_t flags = TS_TH_ACK;
    if (c->fin_sent && seq + len == c->snd_buf_seq + c->sndq.len) flags |= TS_TH_FIN;
    if (push_due(c, seq, len)) flags |= TS_TH_PSH;
    if (!len && !(flags & TS_TH_FIN)) return;
    if (rexmit) {
        c->total_retrans++;
        s->cnt.tcp_retransmits++;
        if (c->rtt_timing && seq_le(seq, c->rtt_timed_seq) && ts_karn(c)) c->rtt_timing = false;
        ts_undo_note_rexmit(c, seq, len, ts_now_ms(s) + c->ts_offset);
    }
    tx_note(s, c, seq, len, rexmit);
    xmit(s, c, seq, flags, len);
}

/* How much of the ring may go out at snd_nxt now; 0 means wait. Sets *fin. */
static uint32_t next_len(ts_conn *c, const ts_out_opts *o, uint32_t cwnd, bool *fin)
{
    uint32_t off = c->snd_nxt - c->snd_buf_seq;
    uint32_t avail = c->sndq.len > off ? c->sndq.len - off : 0;
    uint32_t wnd = c->snd_wnd < cwnd ? c->snd_wnd : cwnd;
    uint32_t flight = ts_flight(c);
    uint32_t room;
    if (ts_in_recovery(c) && c->sack_rec) {
        /* RFC 6675: cwnd bounds the pipe; the peer's window still counts from SND.UNA */
        uint32_t pipe = ts_sack_pipe(c), out = c->snd_max - c->snd_una;
        room = cwnd > pipe ? cwnd - pipe : 0;
        uint32_t rroom = c->snd_wnd > out ? c->snd_wnd - out : 0;
        if (rroom < room) room = rroom;
        flight = out;
    } else {
        if (ts_in_recovery(c))
            flight = c->snd_max - c->snd_una;
        else if (c->sb_n && (c->p->limited_transmit || c->ca_state == TS_CA_LOSS)) {
            /* SACKed data is not in flight: RFC 3042 with SACK, as Linux. Never below 0:
             * an underflow would close the usable window for good. */
            uint32_t sacked = ts_sack_below(c, c->snd_nxt);
            flight = flight > sacked ? flight - sacked : 0;
        }
        room = wnd > flight ? wnd - flight : 0;
    }
    uint32_t len = avail < c->snd_mss ? avail : c->snd_mss;
    uint32_t whole = len;
    len = ts_eor_clamp(c, c->snd_nxt, len);
    bool record_end = len < whole; /* more data follows the record: not the queue's tail */
    bool window_limited = len > room;
    if (window_limited) len = room;
    uint32_t fin_seq = c->snd_buf_seq + c->sndq.len;
    *fin = c->fin_queued && c->snd_nxt + len == fin_seq;
    if (*fin && c->snd_wnd == 0 && len == 0 && c->snd_nxt != c->snd_una) *fin = false;
    if (len == 0) return 0;
    bool retransmission = seq_lt(c->snd_nxt, c->snd_max);
    if (len < c->snd_mss && !retransmission && !*fin) {
        if (window_limited) { /* sender SWS avoidance (RFC 9293 3.8.6.2.1) */
            if ((flight > 0 || len < c->max_snd_wnd / 2) && !o->sws_override) return 0;
        } else if (record_end || o->push || o->sws_override) {
            /* Linux applies Nagle and the cork to the queue's last skb only; a push
             * (TCP_NODELAY, uncork) or the persist timer sends the tail regardless */
        } else if (c->cork || o->more) { /* TCP_CORK / MSG_MORE: wait for a full segment */
            return 0;
        } else if (c->p->nagle && flight > 0) { /* Nagle: one small segment in flight */
            return 0;
        }
    }
    return len;
}

/* Linux also ends a slow-start burst in PSH: its write queue holds multi-segment buffers
 * that are pushed as they fill, so the last segment a growing window lets out carries
 * PSH (packetdrill's limited_transmit, fast_recovery/prr-ss and shutdown scripts all
 * expect `P.` there), while single segments sent into a freed slot (limited transmit,
 * TLP) and bursts in congestion avoidance do not. Modelled as: the 2nd or later new
 * segment of one output pass, in slow start, after which the window blocks more data. */
static bool burst_end(const ts_conn *c, uint32_t cwnd, uint32_t off, uint32_t len, uint32_t sent)
{
    if (sent == 0 || !len || cwnd >= c->ssthresh) return false;
    uint32_t left = c->sndq.len - off - len; /* data still waiting after this segment */
    if (left == 0) return false;
    uint32_t wnd = c->snd_wnd < cwnd ? c->snd_wnd : cwnd;
    uint32_t flight = (ts_in_recovery(c) ? c->snd_max : c->snd_nxt) - c->snd_una + len;
    uint32_t next = left < c->snd_mss ? left : c->snd_mss;
    return wnd <= flight || wnd - flight < next;
}

/* SACK recovery (RFC 6675 NextSeg rule 1): retransmit the next lost hole if cwnd leaves
 * room in the pipe. Returns 1 when it sent one, 0 when no hole is lost (new data may
 * follow, from SND.NXT = SND.MAX), -1 when a lost hole waits for room. */
static int sack_rexmit(ts_stack *s, ts_conn *c, uint32_t cwnd)
{
    uint32_t seq, len;
    c->snd_nxt = c->snd_max;
    /* a retransmission found lost again (RFC 8985) goes first: it is the oldest loss */
    bool again = ts_rxt_next(c, &seq, &len);
    if (!again && !ts_sack_next_lost(c, &seq, &len)) return 0;
    len = ts_eor_clamp(c, seq, len);
    uint32_t pipe = ts_sack_pipe(c), need = len ? len : 1;
    if (cwnd <= pipe || cwnd - pipe < need) return -1;
    ts_emit_rexmit(s, c, TS_REXMIT_FAST, seq, len, 1, c->rto);
    ts_send_data(s, c, seq, len, true);
    if (!again) c->high_rxt = seq + need;
    ts_rxt_sent(s, c, seq, len);
    c->prr_out += len;
    return 1;
}

/* Send what the windows allow; any pending ACK rides along, or goes out alone if due. */
void ts_tcp_output(ts_stack *s, ts_conn *c)
{
    static const ts_out_opts none;
    ts_tcp_output_opts(s, c, &none);
}

void ts_tcp_output_opts(ts_stack *s, ts_conn *c, const ts_out_opts *o)
{
    uint32_t cwnd = o->cwnd ? o->cwnd : c->cwnd;
    if (ts_state_may_send(c->state)) {
        uint32_t sent = 0; /* new-data segments sent by this call */
        bool sack = c->sack_rec;
        for (int guard = 0; guard < 65536; guard++) {
            if (sack && ts_in_recovery(c)) {
                int r = sack_rexmit(s, c, cwnd);
                if (r > 0) continue;
                if (r < 0) break; /* a lost hole waits for room in the pipe */
            }
            if (sack && c->sb_n && seq_lt(c->snd_nxt, c->snd_max)) /* after an RTO: skip */
                c->snd_nxt = ts_sack_skip(c, c->snd_nxt);          /* what the peer holds */
            bool fin;
            uint32_t len = next_len(c, o, cwnd, &fin);
            if (len == 0 && !fin) break;
            uint32_t seq = c->snd_nxt;
            bool rexmit = seq_lt(seq, c->snd_max);
            uint32_t off = seq - c->snd_buf_seq;
            uint8_t flags = TS_TH_ACK | (fin ? TS_TH_FIN : 0);
            if (push_due(c, seq, len) || (!rexmit && burst_end(c, cwnd, off, len, sent)))
                flags |= TS_TH_PSH;
            if (o->sws_override && len) flags |= TS_TH_PSH; /* as Linux's tcp_write_wakeup */
            if (!rexmit && (len || fin)) {
                sent++;
                c->last_tx_seq = seq;
            }
            if (rexmit) {
                c->total_retrans++;
                s->cnt.tcp_retransmits++;
                ts_undo_note_rexmit(c, seq, len, ts_now_ms(s) + c->ts_offset);
            } else if (!c->rtt_timing && len) {
                c->rtt_timing = true;
                c->rtt_timed_seq = seq;
                c->rtt_timed_at = s->now;
            }
            if (c->snd_una == c->snd_max) c->first_unacked_at = s->now;
            if (ts_in_recovery(c)) c->prr_out += len;
            tx_note(s, c, seq, len, rexmit);
            if (len) ts_hystart_sent(c, seq, seq + len, rexmit, s->now); /* HyStart's RTTs */
            xmit(s, c, seq, flags, len);
            c->snd_nxt = seq + len + (fin ? 1 : 0);
            if (fin) c->fin_sent = true;
            c->snd_max = seq_max(c->snd_max, c->snd_nxt);
            if (!ts_timer_on(c, TS_TIMER_RETRANSMIT) && !ts_timer_on(c, TS_TIMER_TLP))
                ts_rto_arm(s, c);
        }
        if (sent) ts_tlp_arm(s, c, false); /* new data went out: probe its tail */
        /* Data waits with nothing in flight: the window is zero, or too small to be worth
         * a segment (sender SWS avoidance). Either way only a timer can move things on:
         * probe a zero window (RFC 9293 3.8.6.1), or send into a small one when it fires
         * (the override timeout of RFC 1122 4.2.3.4; Linux's probe timer does both).
         * Arming it only for a zero window stalled the connection for good when the
         * peer's window update was lost. */
        uint32_t off = c->snd_nxt - c->snd_buf_seq;
        bool waiting = c->sndq.len > off || (c->fin_queued && !c->fin_sent);
        if (waiting && c->snd_una == c->snd_max && !ts_timer_on(c, TS_TIMER_PERSIST))
            ts_timer_set(s, c, TS_TIMER_PERSIST, s->now + c->rto);
    }
    if (c->ack_now) ts_send_ack(s, c);
}
