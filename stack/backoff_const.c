/* backoff_const.c: no backoff. Every retransmission waits the base timeout again (the
 * RTO, or syn_rto for SYNs and SYN-ACKs), capped at rto_max; syn_linear changes nothing.
 * RFC 6298 5.5 asks for backoff so that a congested path is not hit at the same rate;
 * this policy is there to show what happens without it. */
#include "internal.h"

static ts_time_t const_timeout(const ts_conn *c, ts_time_t base, uint32_t n, uint32_t linear)
{
    (void)n, (void)linear;
    return base > c->p->rto_max ? c->p->rto_max : base;
}

const ts_backoff_ops ts_backoff_constant = {.name = "constant", .timeout = const_timeout};
