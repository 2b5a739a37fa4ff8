/* rto_linux.c: Linux's RTO estimator. Like RFC 6298 it keeps a smoothed RTT (gain 1/8)
 * and a mean deviation (gain 1/4), but the deviation term has rto_min as its floor and
 * falls only once per RTT, and falling samples count 1/32. So after a first sample R the
 * RTO is R + max(2R, rto_min): 300 ms for R = 100 ms (REFERENCE.md A, checklist 17). */
#include "internal.h"

/* RTO = SRTT + the deviation term, at most rto_max (its floor is in the term). */
static void linux_set_rto(ts_conn *c)
{
    ts_time_t rto = c->srtt + c->rttvar;
    c->rto = rto > c->p->rto_max ? c->p->rto_max : rto;
}

static void linux_sample(ts_conn *c, ts_time_t rtt)
{
    int64_t m = (int64_t)(rtt ? rtt : 1);
    int64_t floor = (int64_t)c->p->rto_min;
    if (c->srtt == 0) {
        c->srtt = (ts_time_t)m;
        c->mdev = (ts_time_t)(2 * m); /* four times the mean deviation of R/2 */
        c->mdev_max = c->mdev > (ts_time_t)floor ? c->mdev : (ts_time_t)floor;
        c->rttvar = c->mdev_max;
        c->rtt_seq = c->snd_nxt;
    } else {
        int64_t err = m - (int64_t)c->srtt;
        c->srtt = (ts_time_t)((int64_t)c->srtt + err / 8);
        int64_t d;
        if (err < 0) {
            d = -err - (int64_t)c->mdev / 4;
            if (d > 0) d /= 8; /* a falling RTT moves the deviation slowly */
        } else {
            d = err - (int64_t)c->mdev / 4;
        }
        int64_t md = (int64_t)c->mdev + d;
        c->mdev = md > 0 ? (ts_time_t)md : 0;
        if (c->mdev > c->mdev_max) {
            c->mdev_max = c->mdev;
            if (c->mdev_max > c->rttvar) c->rttvar = c->mdev_max;
        }
        if (seq_gt(c->snd_una, c->rtt_seq)) { /* once per RTT: let rttvar decay */
            if (c->mdev_max < c->rttvar) c->rttvar -= (c->rttvar - c->mdev_max) / 4;
            c->rtt_seq = c->snd_nxt;
            c->mdev_max = (ts_time_t)floor;
        }
    }
    linux_set_rto(c);
}

/* Linux keeps four times RFC 6298's RTTVAR, floored at rto_min, as its deviation; a
 * stored one starts a new RTT period, as a first sample does. */
static ts_time_t linux_rttvar_rfc(const ts_conn *c)
{
    return c->rttvar / 4;
}

static void linux_set_rttvar_rfc(ts_conn *c, ts_time_t rttvar)
{
    c->mdev = 4 * rttvar;
    c->mdev_max = c->mdev > c->p->rto_min ? c->mdev : c->p->rto_min;
    c->rttvar = c->mdev_max;
    c->rtt_seq = c->snd_nxt;
}

const ts_rto_ops ts_rto_linux = {.name = "linux",
                                 .sample = linux_sample,
                                 .rttvar_rfc = linux_rttvar_rfc,
                                 .set_rttvar_rfc = linux_set_rttvar_rfc,
                                 .set_rto = linux_set_rto};
