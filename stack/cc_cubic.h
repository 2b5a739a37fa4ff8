/* cc_cubic.h: CUBIC's per-connection state (cc_cubic.c, RFC 9438), kept in the connection's
 * cc_priv area; private to cc_cubic.c and its unit test. Bytes and microseconds. */
#ifndef TS_CC_CUBIC_H
#define TS_CC_CUBIC_H

#include "internal.h"

typedef struct ts_cubic {
    uint32_t w_max;      /* W_max: cwnd before the last reduction, less fast convergence (4.7) */
    uint32_t cwnd_prior; /* cwnd before the last reduction: alpha becomes 1 there (4.3) */
    uint32_t origin;     /* W_cubic's plateau this epoch: W_max, or cwnd_epoch if above it */
    uint32_t w_est;      /* the Reno-friendly estimate W_est (4.3) */
    uint64_t est_rem, cub_rem; /* fractions of a byte carried from ACK to ACK */
    ts_time_t epoch;           /* start of the current congestion avoidance stage */
    ts_time_t k;               /* K: time from the epoch to the plateau */
    bool epoch_on;             /* an epoch is running (cleared by every reduction) */
} ts_cubic;

TS_CC_PRIV_FITS(ts_cubic);

static inline ts_cubic *ts_cubic_of(ts_conn *c)
{
    return TS_CC_PRIV(c, ts_cubic);
}
static inline const ts_cubic *ts_cubic_get(const ts_conn *c)
{
    return (const ts_cubic *)(const void *)c->cc_priv;
}

#endif
