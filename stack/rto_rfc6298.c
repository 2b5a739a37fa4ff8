/* rto_rfc6298.c: the RTO estimator exactly as RFC 6298 section 2 states it:
 *   first sample R:  SRTT = R, RTTVAR = R/2
 *   later R':        RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'|, then SRTT = 7/8 SRTT + 1/8 R'
 *   RTO = SRTT + max(G, 4 RTTVAR), clamped to [rto_min, rto_max] (2.4, 2.5).
 * G, the clock granularity, is the rto_g parameter (1 ms by default: the timestamp
 * clock's tick). The smoothing alone is shared with rto_fixed.c. */
#include "internal.h"

void ts_rto_rfc6298_smooth(ts_conn *c, ts_time_t r)
{
    if (c->srtt == 0) { /* 2.2 */
        c->srtt = r ? r : 1;
        c->rttvar = r / 2;
    } else { /* 2.3: RTTVAR uses the SRTT from before this sample */
        ts_time_t diff = c->srtt > r ? c->srtt - r : r - c->srtt;
        c->rttvar = (3 * c->rttvar + diff) / 4;
        c->srtt = (7 * c->srtt + r) / 8;
    }
}

/* RTO = SRTT + max(G, 4 RTTVAR) within [rto_min, rto_max] (2.4, 2.5) */
static void rfc_set_rto(ts_conn *c)
{
    ts_time_t k = 4 * c->rttvar;
    ts_time_t rto = c->srtt + (k > c->p->rto_g ? k : c->p->rto_g);
    if (rto < c->p->rto_min) rto = c->p->rto_min; /* 2.4 */
    if (rto > c->p->rto_max) rto = c->p->rto_max; /* 2.5 */
    c->rto = rto;
}

static void rfc_sample(ts_conn *c, ts_time_t r)
{
    ts_rto_rfc6298_smooth(c, r);
    rfc_set_rto(c);
}

const ts_rto_ops ts_rto_rfc6298 = {.name = "rfc6298", .sample = rfc_sample, .set_rto = rfc_set_rto};
