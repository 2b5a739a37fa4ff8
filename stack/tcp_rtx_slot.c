/* tcp_rtx_slot.c: the one retransmission timer slot a connection has, as in Linux: the
 * RTO (RFC 6298 5.1, with the backoff policy and TCP_USER_TIMEOUT) or the tail loss
 * probe (RFC 8985 7.2) armed in it, and for when. Below tcp_out.c, which arms it when
 * data leaves, and tcp_loss.c, which owns what the probe does when it fires. */
#include "internal.h"

/* backoff_jitter: t moved uniformly within [t - P% t, t + P% t] (whole microseconds) by a
 * keyed hash of the stack's secret (from its seed, as the ISN's), the 4-tuple and n, so
 * the same seed, connection and retransmission give the same timeout: no clock, no RNG
 * state. Spreads the retransmissions of many connections that lost together. */
static ts_time_t jitter(const ts_stack *s, const ts_conn *c, ts_time_t t, uint32_t n)
{
    ts_time_t spread = t * c->p->backoff_jitter / 100; /* t <= 1 h: no overflow */
    if (!spread) return t;
    uint8_t in[17];
    wr32(in, c->local.addr), wr16(in + 4, c->local.port);
    wr32(in + 6, c->remote.addr), wr16(in + 10, c->remote.port);
    wr32(in + 12, n), in[16] = 'J'; /* a salt: not the ISN's or a port hint's hash */
    uint64_t h = ts_siphash(s->key, in, sizeof in);
    t = t - spread + h % (2 * spread + 1);
    return t ? t : 1;
}

/* The timeout after the n-th consecutive expiry (0: none yet) from the base timeout: the
 * backoff policy's schedule, then backoff_jitter, then rto_max over both. The one place
 * every RTO, SYN, SYN-ACK and persist timeout is backed off. */
ts_time_t ts_backoff_timeout(const ts_stack *s, const ts_conn *c, ts_time_t base, uint32_t n,
                             uint32_t linear)
{
    ts_time_t t = c->backoff_ops->timeout(c, base, n, linear);
    if (c->p->backoff_jitter) t = jitter(s, c, t, n);
    return t > c->p->rto_max ? c->p->rto_max : t;
}

void ts_rto_arm(ts_stack *s, ts_conn *c)
{
    bool syn = c->state == TS_SYN_SENT || c->state == TS_SYN_RECEIVED;
    ts_time_t base = syn ? c->p->syn_rto : c->rto;
    uint32_t linear = c->state == TS_SYN_SENT ? c->p->syn_linear : 0;
    ts_time_t t = ts_backoff_timeout(s, c, base, c->retries, linear);
    if (c->p->user_timeout && c->first_unacked_at && !syn) { /* clamp to the time left */
        ts_time_t end = c->first_unacked_at + c->p->user_timeout;
        ts_time_t left = end > s->now ? end - s->now : 0;
        if (t > left) t = left;
    }
    /* one timer slot, as in Linux: the RTO replaces a probe (not the reordering timer,
     * which fires first and re-arms the RTO) */
    if (!c->reo_armed) ts_timer_clear(s, c, TS_TIMER_TLP);
    ts_timer_set(s, c, TS_TIMER_RETRANSMIT, s->now + t);
}

/* RFC 8985 7.2 with Linux's numbers (tcp_schedule_loss_probe): PTO = 2*SRTT, plus the
 * worst-case delayed ACK (rto_min, 200 ms) when one segment is in flight or 2 ms
 * otherwise, capped by the RTO. Linux keeps one timer for both, so an armed probe stands
 * in for the RTO, which the probe (or its failure to qualify) re-arms. Only with SACK,
 * in the open state (no recovery or RTO episode), one probe per tail. */
void ts_tlp_arm(ts_stack *s, ts_conn *c, bool advanced)
{
    bool episode = c->ca_state == TS_CA_RECOVERY || c->ca_state == TS_CA_LOSS;
    if (!c->p->tlp || !c->sack_ok || !ts_state_may_send(c->state) || c->snd_una == c->snd_max ||
        episode || c->tlp_out || !c->srtt || seq_lt(c->snd_una, c->recover) || c->reo_armed)
        return;
    uint32_t flight = c->snd_max - c->snd_una - (c->fin_sent ? 1 : 0);
    ts_time_t pto =
        flight <= c->snd_mss ? 2 * c->srtt + c->p->rto_min : ts_timeout_min(c, 2 * c->srtt);
    ts_time_t cap = c->rto;
    if (!advanced && ts_timer_on(c, TS_TIMER_RETRANSMIT))
        cap = c->timer[TS_TIMER_RETRANSMIT] > s->now ? c->timer[TS_TIMER_RETRANSMIT] - s->now : 0;
    else if (!advanced && c->first_unacked_at) /* the RTO counts from the oldest send */
        cap = c->first_unacked_at + c->rto > s->now ? c->first_unacked_at + c->rto - s->now : 0;
    if (pto > cap) pto = cap;
    ts_timer_clear(s, c, TS_TIMER_RETRANSMIT);
    ts_timer_set(s, c, TS_TIMER_TLP, s->now + pto);
}
