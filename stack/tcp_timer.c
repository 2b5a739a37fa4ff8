/* tcp_timer.c: what each timer does when it fires: SYN and SYN-ACK retransmission with
 * their own backoff and retry limits, the data RTO (RFC 6298 5.4-5.6, retries2,
 * TCP_USER_TIMEOUT; what an RTO does to recovery and cwnd is tcp_loss.c's), delayed ACK,
 * persist probes, keepalive, TIME-WAIT and the orphaned FIN-WAIT-2 timeout (the TLP slot
 * goes to tcp_loss.c). When a timer fires (the tick, parameter hz) is tick.c's; the heap that
 * finds it due is tcp_conn.c's; stack.c's poll calls ts_tcp_timer. */
#include <errno.h>

#include "internal.h"

/* The timers' retransmission events: count is the consecutive timeout, rto what the
 * retransmission timer has left. */
static void rexmit_event(ts_stack *s, ts_conn *c, ts_rexmit_kind k, uint32_t seq, uint32_t len)
{
    ts_emit_rexmit(s, c, k, seq, len, c->retries, c->timer[TS_TIMER_RETRANSMIT] - s->now);
}

static void syn_timeout(ts_stack *s, ts_conn *c)
{
    bool active = c->state == TS_SYN_SENT || !c->listener;
    /* Linux adds the linear retransmissions to the limit: (6, 4) sends 11 SYNs */
    uint32_t limit =
        c->state == TS_SYN_SENT ? c->p->syn_retries + c->p->syn_linear : c->p->synack_retries;
    if (c->retries >= limit) {
        if (active) s->cnt.tcp_conn_failed++;
        /* an active open reports ETIMEDOUT; a passive embryo just goes away (Linux) */
        ts_conn_done(s, c, active ? -ETIMEDOUT : 0);
        return;
    }
    c->retries++;
    c->total_retrans++;
    s->cnt.tcp_retransmits++;
    s->cnt.tcp_syn_retransmits++;
    ts_send_syn(s, c); /* same ISN and options; only TSval moves */
    ts_rto_arm(s, c);
    rexmit_event(s, c, TS_REXMIT_SYN, c->iss, 0);
}

/* Unanswered zero-window probes allowed: retries2 while the application holds the socket,
 * orphan_retries once it has closed it (0 means 8, as Linux's tcp_orphan_retries). */
static uint32_t max_probes(const ts_conn *c)
{
    if (!c->orphan) return c->p->retries2;
    return c->p->orphan_retries ? c->p->orphan_retries : 8;
}

/* The persist timer's probe into a zero window (RFC 9293 3.8.6.1), backed off each time.
 * RFC 1122 4.2.2.17 keeps the connection open while the peer answers: any acceptable ACK
 * resets probes_out (tcp_ack.c). A peer that stops answering is given up on as Linux's
 * tcp_probe_timer does: at the expiry after max_probes unanswered probes the connection
 * is aborted with ETIMEDOUT (no RST, as a data timeout), so a silent peer cannot hold it,
 * in ESTABLISHED or as an orphan in FIN-WAIT-1, forever. */
static void zero_window_probe(ts_stack *s, ts_conn *c, bool event)
{
    if (c->probes_out >= max_probes(c)) {
        ts_conn_done(s, c, -ETIMEDOUT);
        return;
    }
    c->probes++;
    c->probes_out++;
    ts_send_probe(s, c);
    if (event) rexmit_event(s, c, TS_REXMIT_PROBE, c->snd_una - 1, 0);
    ts_time_t t = ts_backoff_timeout(s, c, c->rto, c->probes, 0);
    ts_timer_set(s, c, TS_TIMER_PERSIST, s->now + t);
}

static void data_timeout(ts_stack *s, ts_conn *c)
{
    if (c->snd_una == c->snd_max) return;
    bool user_expired = c->p->user_timeout && c->first_unacked_at &&
                        s->now - c->first_unacked_at >= c->p->user_timeout;
    if (user_expired) {
        ts_conn_done(s, c, -ETIMEDOUT);
        return;
    }
    if (c->snd_wnd == 0) {
        /* RFC 1122 4.2.2.16/17: the peer shrank its window to zero with data outstanding.
         * A retransmission could send nothing into it, so probe it like any zero window
         * (the persist timer, which keeps going while the peer answers and gives up as
         * zero_window_probe says when it does not) and resend from SND.UNA once it opens. */
        ts_loss_reset(s, c, false); /* go back to SND.UNA; recovery over */
        zero_window_probe(s, c, false);
        return;
    }
    if (c->retries >= c->p->retries2) {
        ts_conn_done(s, c, -ETIMEDOUT);
        return;
    }
    s->cnt.tcp_rto_timeouts++;
    bool timing = c->rtt_timing; /* karn=off: the retransmission keeps the original's timing */
    ts_loss_reset(s, c, true);   /* the congestion signal, LOSS, back to SND.UNA */
    if (!ts_karn(c)) c->rtt_timing = timing;
    c->retries++;
    uint32_t off = c->snd_una - c->snd_buf_seq;
    uint32_t len = c->sndq.len > off ? c->sndq.len - off : 0;
    ts_tcp_output(s, c);
    if (!ts_timer_on(c, TS_TIMER_RETRANSMIT)) ts_rto_arm(s, c);
    rexmit_event(s, c, TS_REXMIT_RTO, c->snd_una, len < c->snd_mss ? len : c->snd_mss);
}

static void persist_timeout(ts_stack *s, ts_conn *c)
{
    if (c->snd_wnd > 0) { /* RFC 1122 4.2.3.4 override timeout: send what fits */
        ts_tcp_output_opts(s, c, &(ts_out_opts){.sws_override = true});
        return;
    }
    zero_window_probe(s, c, true);
}

static void keepalive_timeout(ts_stack *s, ts_conn *c)
{
    if (!c->p->keepalive) return; /* switched off since it was armed */
    if (c->state != TS_ESTABLISHED && c->state != TS_CLOSE_WAIT) return;
    ts_time_t idle_since = c->last_seg_in;
    if (c->probes == 0 && s->now - idle_since < c->p->keepalive_idle) {
        ts_timer_set(s, c, TS_TIMER_KEEPALIVE, idle_since + c->p->keepalive_idle);
        return;
    }
    if (c->probes >= c->p->keepalive_probes) {
        ts_send_rst(s, c);
        ts_conn_done(s, c, -ETIMEDOUT);
        return;
    }
    c->probes++;
    ts_send_probe(s, c);
    rexmit_event(s, c, TS_REXMIT_PROBE, c->snd_una - 1, 0);
    ts_timer_set(s, c, TS_TIMER_KEEPALIVE, s->now + c->p->keepalive_intvl);
}

void ts_tcp_timer(ts_stack *s, ts_conn *c, ts_timer_kind k)
{
    switch (k) {
    case TS_TIMER_RETRANSMIT:
        if (c->state == TS_SYN_SENT || c->state == TS_SYN_RECEIVED)
            syn_timeout(s, c);
        else
            data_timeout(s, c);
        break;
    case TS_TIMER_DELACK:
        if (c->ack_pending) {
            if (c->delack_ops->on_timer) c->delack_ops->on_timer(c);
            s->cnt.tcp_delayed_acks++;
            ts_send_ack(s, c);
        }
        break;
    case TS_TIMER_PERSIST: persist_timeout(s, c); break;
    case TS_TIMER_TLP: ts_loss_probe_timer(s, c); break;
    case TS_TIMER_KEEPALIVE: keepalive_timeout(s, c); break;
    case TS_TIMER_TIME_WAIT:
    case TS_TIMER_FIN_WAIT2: ts_conn_done(s, c, 0); break;
    default: break;
    }
}
