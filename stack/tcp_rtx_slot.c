/* tcp_rtx_slot.c: the one retransmission timer slot a connection has, as in Linux: the
 * RTO (RFC 6298 5.1, with the backoff policy and TCP_USER_TIMEOUT) or the tail loss
 * probe (RFC 8985 7.2) armed in it, and for when. Below tcp_out.c, which arms it when
 * data leaves, and tcp_loss.c, which owns what the probe does when it fires. */
#include "internal.h"

void ts_rto_arm(ts_stack *s, ts_conn *c)
{
    bool syn = c->state == TS_SYN_SENT || c->state == TS_SYN_RECEIVED;
    ts_time_t base = syn ? c->p.syn_rto : c->rto;
    uint32_t linear = c->state == TS_SYN_SENT ? c->p.syn_linear : 0;
    ts_time_t t = c->backoff_ops->timeout(c, base, c->retries, linear);
    if (c->p.user_timeout && c->first_unacked_at && !syn) { /* clamp to the time left */
        ts_time_t end = c->first_unacked_at + c->p.user_timeout;
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
    if (!c->p.tlp || !c->sack_ok || !ts_state_may_send(c->state) || c->snd_una == c->snd_max ||
        episode || c->tlp_out || !c->srtt || seq_lt(c->snd_una, c->recover) || c->reo_armed)
        return;
    uint32_t flight = c->snd_max - c->snd_una - (c->fin_sent ? 1 : 0);
    ts_time_t pto =
        flight <= c->snd_mss ? 2 * c->srtt + c->p.rto_min : ts_timeout_min(c, 2 * c->srtt);
    ts_time_t cap = c->rto;
    if (!advanced && ts_timer_on(c, TS_TIMER_RETRANSMIT))
        cap = c->timer[TS_TIMER_RETRANSMIT] > s->now ? c->timer[TS_TIMER_RETRANSMIT] - s->now : 0;
    else if (!advanced && c->first_unacked_at) /* the RTO counts from the oldest send */
        cap = c->first_unacked_at + c->rto > s->now ? c->first_unacked_at + c->rto - s->now : 0;
    if (pto > cap) pto = cap;
    ts_timer_clear(s, c, TS_TIMER_RETRANSMIT);
    ts_timer_set(s, c, TS_TIMER_TLP, s->now + pto);
}
