/* backoff_exp.c: exponential backoff (RFC 6298 5.5): each consecutive timeout multiplies
 * the timeout by `backoff` (2), capped at rto_max. The first `linear` retransmissions keep
 * the base timeout (Linux 6.5+'s tcp_syn_linear_timeouts for SYNs). */
#include "internal.h"

static ts_time_t exp_timeout(const ts_conn *c, ts_time_t base, uint32_t n, uint32_t linear)
{
    ts_time_t t = base;
    for (uint32_t i = linear; i < n && t < c->p->rto_max; i++) t *= c->p->backoff;
    return t > c->p->rto_max ? c->p->rto_max : t;
}

const ts_backoff_ops ts_backoff_exponential = {.name = "exponential", .timeout = exp_timeout};
