/* backoff_linear.c: linear backoff. The timeout after the n-th consecutive expiry is
 * base + n * base, i.e. (n + 1) * base: 1, 2, 3, 4 ... times the RTO (or syn_rto) where
 * exponential gives 1, 2, 4, 8. The first `linear` retransmissions (Linux 6.5+'s
 * tcp_syn_linear_timeouts, the syn_linear parameter, for SYNs) keep the base timeout and
 * the count starts after them, as backoff_exp.c does: n > linear gives
 * (n - linear + 1) * base. Capped at rto_max. No RFC asks for it: it is the schedule
 * people compare exponential backoff against. */
#include "internal.h"

static ts_time_t linear_timeout(const ts_conn *c, ts_time_t base, uint32_t n, uint32_t linear)
{
    uint32_t steps = n > linear ? n - linear : 0;
    /* base <= 1 h and steps < 2^32: the product fits 64 bits, but stop early anyway */
    if (steps >= c->p->rto_max / (base ? base : 1)) return c->p->rto_max;
    ts_time_t t = base + (ts_time_t)steps * base;
    return t > c->p->rto_max ? c->p->rto_max : t;
}

const ts_backoff_ops ts_backoff_linear = {.name = "linear", .timeout = linear_timeout};
