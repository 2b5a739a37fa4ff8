/* tcp_timer.c: what each timer does when it fires: SYN and SYN-ACK retransmission with
 * their own backoff and retry limits, the data RTO (RFC 6298 5.4-5.6, retries2,
 * TCP_USER_TIMEOUT; what an RTO does to recovery and cwnd is tcp_loss.c's), delayed ACK,
 * persist probes, keepalive, TIME-WAIT and the orphaned FIN-WAIT-2 timeout (the TLP slot
 * goes to tcp_loss.c); and, with the parameter hz, when it fires: on the tick Linux's
 * jiffies and timer wheel would run it. */
#include <errno.h>

#include "internal.h"

/* ---- Linux's tick-based timers (parameter hz) ----
 * Linux arms every TCP timer in jiffies: a duration in microseconds is rounded up to whole
 * ticks (usecs_to_jiffies) and the timer is set to expire at jiffies + n. Its timer wheel
 * (kernel/time/timer.c since 4.8, calc_index) then runs it on the first tick of the bucket
 * after that expiry: one tick later at level 0 (fewer than 63 ticks away), so that a timer
 * armed at the very end of a tick still lasts n whole ticks; at level L (up to 63 << 3L
 * ticks) the expiry is rounded up to a multiple of 8^L ticks, the wheel's 12.5% slack.
 * Tick j begins at the virtual time ceil(j * 1e6 / hz) us; jiffies are 0 at time 0. */

#define WHEEL_CLK_SHIFT 3  /* each level is 8 times coarser than the one below */
#define WHEEL_LVL_LAST  63 /* ticks: the farthest expiry a level holds (times its grain) */

/* jiffies at virtual time t: floor(t * hz / 1e6), without overflow */
static uint64_t tick_at(uint32_t hz, ts_time_t t)
{
    return t / TS_SEC * hz + t % TS_SEC * hz / TS_SEC;
}

/* the first microsecond of tick j: ceil(j * 1e6 / hz) */
static ts_time_t tick_start(uint32_t hz, uint64_t j)
{
    return j / hz * TS_SEC + (j % hz * TS_SEC + hz - 1) / hz;
}

/* usecs_to_jiffies: a duration rounded up to whole ticks */
static uint64_t ticks_up(uint32_t hz, ts_time_t d)
{
    return d / TS_SEC * hz + (d % TS_SEC * hz + TS_SEC - 1) / TS_SEC;
}

/* The tick on which the wheel runs a timer armed at tick j to expire at tick e. */
static uint64_t wheel_tick(uint32_t hz, uint64_t j, uint64_t e)
{
    unsigned depth = hz > 100 ? 9 : 8; /* LVL_DEPTH */
    unsigned lvl = 0;
    while (lvl + 1 < depth && e - j >= (uint64_t)WHEEL_LVL_LAST << (WHEEL_CLK_SHIFT * lvl)) lvl++;
    uint64_t cutoff = (uint64_t)WHEEL_LVL_LAST << (WHEEL_CLK_SHIFT * (depth - 1));
    unsigned shift = WHEEL_CLK_SHIFT * lvl;
    if (e - j >= cutoff) /* beyond the wheel's reach: Linux caps the timeout */
        e = j + cutoff - ((uint64_t)1 << shift);
    return ((e >> shift) + 1) << shift;
}

ts_time_t ts_tick_deadline(const ts_conn *c, ts_time_t now, ts_time_t when)
{
    uint32_t hz = c->p.hz;
    if (!hz || when == TS_TIME_NEVER) return when;
    uint64_t j = tick_at(hz, now);
    uint64_t e = j + ticks_up(hz, when > now ? when - now : 0);
    return tick_start(hz, wheel_tick(hz, j, e));
}

/* Linux's 2 ms floor (TCP_TIMEOUT_MIN) on the RACK reordering and TLP timers. Since 6.6
 * (commit 1c2709cfff1d, also in 6.1.60) it is 2000 us added before the rounding to ticks;
 * before, 2 ticks added after it (8 ms at HZ=250), which timeout_min_ticks models. The
 * result is a duration that ts_tick_deadline rounds to exactly that many ticks. Used by
 * the reordering timer and by the TLP's PTO with more than one segment in flight. */
ts_time_t ts_timeout_min(const ts_conn *c, ts_time_t d)
{
    uint32_t hz = c->p.hz;
    if (!hz || !c->p.timeout_min_ticks) return d + 2 * TS_MSEC;
    uint64_t n = ticks_up(hz, d) + 2;
    return n / hz * TS_SEC + n % hz * TS_SEC / hz; /* floor: ticks_up gives back n */
}

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
        c->state == TS_SYN_SENT ? c->p.syn_retries + c->p.syn_linear : c->p.synack_retries;
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

static void data_timeout(ts_stack *s, ts_conn *c)
{
    if (c->snd_una == c->snd_max) return;
    bool user_expired = c->p.user_timeout && c->first_unacked_at &&
                        s->now - c->first_unacked_at >= c->p.user_timeout;
    if (user_expired) {
        ts_conn_done(s, c, -ETIMEDOUT);
        return;
    }
    if (c->snd_wnd == 0) {
        /* RFC 1122 4.2.2.16/17: the peer shrank its window to zero with data outstanding.
         * A retransmission could send nothing into it, so probe it like any zero window
         * (the persist timer, which keeps going while the peer answers) and resend from
         * SND.UNA once it opens, instead of counting silent RTOs up to ETIMEDOUT. */
        ts_loss_reset(s, c, false); /* go back to SND.UNA; recovery over */
        c->probes++;
        ts_send_probe(s, c);
        ts_time_t t = c->backoff_ops->timeout(c, c->rto, c->probes, 0);
        ts_timer_set(s, c, TS_TIMER_PERSIST, s->now + t);
        return;
    }
    if (c->retries >= c->p.retries2) {
        ts_conn_done(s, c, -ETIMEDOUT);
        return;
    }
    s->cnt.tcp_rto_timeouts++;
    ts_loss_reset(s, c, true); /* the congestion signal, LOSS, back to SND.UNA */
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
    c->probes++;
    ts_send_probe(s, c);
    rexmit_event(s, c, TS_REXMIT_PROBE, c->snd_una - 1, 0);
    ts_time_t t = c->backoff_ops->timeout(c, c->rto, c->probes, 0);
    ts_timer_set(s, c, TS_TIMER_PERSIST, s->now + t);
}

static void keepalive_timeout(ts_stack *s, ts_conn *c)
{
    if (c->state != TS_ESTABLISHED && c->state != TS_CLOSE_WAIT) return;
    ts_time_t idle_since = c->last_seg_in;
    if (c->probes == 0 && s->now - idle_since < c->p.keepalive_idle) {
        ts_timer_set(s, c, TS_TIMER_KEEPALIVE, idle_since + c->p.keepalive_idle);
        return;
    }
    if (c->probes >= c->p.keepalive_probes) {
        ts_send_rst(s, c);
        ts_conn_done(s, c, -ETIMEDOUT);
        return;
    }
    c->probes++;
    ts_send_probe(s, c);
    rexmit_event(s, c, TS_REXMIT_PROBE, c->snd_una - 1, 0);
    ts_timer_set(s, c, TS_TIMER_KEEPALIVE, s->now + c->p.keepalive_intvl);
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
            c->delack_ops->on_timer(c);
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
