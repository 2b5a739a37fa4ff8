/* delack_linux.c: delayed ACKs as Linux does them (RFC 1122 4.2.3.2, RFC 5681 4.2):
 * - quick-ACK: the first min(16, max(2, rcv_wnd / (2 * rcv_mss))) data segments of a
 *   connection (and after an idle period longer than the RTO) are ACKed at once, unless
 *   the connection is interactive ("pingpong");
 * - otherwise an ACK goes out for every `delack_segs` full-sized segments, or when the
 *   delayed-ACK timer fires after the ATO: starts at `delack` (40 ms), adapts to the
 *   inter-arrival gap, bounded by delack_max (200 ms);
 * - sending data soon after receiving marks the connection interactive (pingpong), so its
 *   ACKs ride on replies; a timer that fires in pingpong mode leaves it. */
#include "internal.h"

static ts_time_t clamp_ato(const ts_conn *c, ts_time_t ato)
{
    if (ato < c->p->delack) ato = c->p->delack;
    if (ato > c->p->delack_max) ato = c->p->delack_max;
    return ato;
}

static uint32_t quick_count(const ts_conn *c)
{
    uint32_t q = c->rcv_ssthresh / (2u * (c->rcv_mss ? c->rcv_mss : 536));
    if (q < 2) q = 2;
    return q > 16 ? 16 : q;
}

static bool linux_on_data(ts_conn *c, ts_time_t now, uint32_t len, ts_time_t *delay)
{
    if (c->p->delack == 0) return true;
    if (c->last_rcv_time == 0 || now - c->last_rcv_time > c->rto) {
        /* first data, or data after an idle period: quick-ACK mode */
        if (c->p->quickack) c->quickack_left = quick_count(c);
        c->ato = c->p->delack;
    } else {
        ts_time_t m = now - c->last_rcv_time;
        if (m <= c->p->delack / 2)
            c->ato = c->ato / 2 + c->p->delack / 2;
        else if (m < c->ato)
            c->ato = c->ato / 2 + m;
        if (c->ato > c->rto) c->ato = c->rto;
    }
    c->last_rcv_time = now;
    c->segs_unacked += ts_delack_full_segs(c, len);
    *delay = clamp_ato(c, c->ato);
    if (c->quickack_left && !c->pingpong) {
        c->quickack_left--;
        return true;
    }
    return c->segs_unacked >= c->p->delack_segs;
}

static void linux_on_timer(ts_conn *c)
{
    if (c->pingpong) { /* the reply did not come in time: not interactive after all */
        c->pingpong = false;
        c->ato = c->p->delack;
    } else {
        c->ato = clamp_ato(c, c->ato * 2 < c->rto ? c->ato * 2 : c->rto);
    }
}

static void linux_on_data_sent(ts_conn *c, ts_time_t now)
{
    if (c->last_rcv_time && now - c->last_rcv_time < clamp_ato(c, c->ato)) c->pingpong = true;
}

const ts_delack_ops ts_delack_linux = {.name = "linux",
                                       .on_data = linux_on_data,
                                       .on_timer = linux_on_timer,
                                       .on_data_sent = linux_on_data_sent};
