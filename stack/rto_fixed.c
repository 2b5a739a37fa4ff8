/* rto_fixed.c: a constant RTO, for teaching: the RTO is rto_init whatever the RTT
 * samples say (the backoff policy still backs it off per expiry). SRTT and RTTVAR are
 * still kept, by RFC 6298's smoothing (rto_rfc6298.c), because the tail loss probe and
 * RACK time themselves from SRTT; only the RTO ignores them. `constant` in the ops tells
 * tcp_open.c to skip RFC 6298 5.7's fallback after a retransmitted SYN, which would
 * otherwise move the RTO to rto_fallback. */
#include "internal.h"

static void fixed_sample(ts_conn *c, ts_time_t r)
{
    ts_rto_rfc6298_smooth(c, r);
    c->rto = c->p->rto_init; /* rto_min <= rto_init <= rto_max: validation keeps it so */
}

const ts_rto_ops ts_rto_fixed = {.name = "fixed", .sample = fixed_sample, .constant = true};
