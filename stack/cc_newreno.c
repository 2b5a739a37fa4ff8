/* cc_newreno.c: Reno congestion control (RFC 5681) with NewReno's recovery (RFC 6582), and
 * the pieces CUBIC shares (slow start, the post-recovery cwnd). "reno" differs only in
 * leaving recovery at the first new ACK. Windows are bytes; no private state. */
#include "internal.h"

static uint32_t mss(const ts_conn *c)
{
    return c->snd_mss ? c->snd_mss : 536;
}

static void cc_init(ts_conn *c)
{
    /* RFC 6928 / Linux: IW = init_cwnd segments; 1 segment after a handshake that needed
     * more than one retransmission (Linux's tcp_init_transfer) */
    c->cwnd = c->synack_retransmitted ? mss(c) : c->p->init_cwnd * mss(c);
    c->ssthresh = UINT32_MAX;
    c->bytes_acked = 0;
    ts_hystart_init(c);
}

/* Slow start, RFC 5681 3.1 (2): cwnd grows by the bytes newly ACKed, at most abc SMSS per
 * ACK (RFC 3465's L; RFC 5681 says one SMSS). With abc = 0 there is no limit but ssthresh,
 * as Linux's tcp_slow_start: an ACK that covers ten segments (a stretch ACK, or the
 * ACK after a delayed one) opens ten, and what crosses ssthresh goes on to congestion
 * avoidance. Returns the ACKed bytes left for congestion avoidance. */
uint32_t ts_cc_slow_start(ts_conn *c, uint32_t acked)
{
    if (c->p->abc) {
        uint32_t lim = c->p->abc * mss(c);
        ts_hystart_grow(c, acked < lim ? acked : lim); /* HyStart++ may slow it (RFC 9406) */
        return 0;
    }
    uint32_t room = c->ssthresh - c->cwnd; /* callers are in slow start: cwnd < ssthresh */
    uint32_t inc = acked < room ? acked : room;
    ts_hystart_grow(c, inc);
    return acked - inc;
}

static void cc_on_ack(ts_conn *c, uint32_t acked, ts_time_t now)
{
    (void)now;
    if (c->cwnd < c->ssthresh) {
        acked = ts_cc_slow_start(c, acked);
        if (!acked) return;
    }
    c->bytes_acked += acked; /* congestion avoidance: one SMSS per window ACKed (3.1) */
    if (c->bytes_acked >= c->cwnd) {
        c->bytes_acked -= c->cwnd;
        c->cwnd += mss(c);
    }
}

static uint32_t half_flight(const ts_conn *c)
{
    uint32_t half = (c->snd_max - c->snd_una) / 2;
    return half > 2 * mss(c) ? half : 2 * mss(c); /* RFC 5681 (4) */
}

/* RFC 5681 (4): ssthresh = max(FlightSize / 2, 2 SMSS) for every signal; then fast
 * recovery's cwnd = ssthresh + 3 SMSS (3.2 step 3), an RTO's 1 SMSS (5), ECN's ssthresh
 * (RFC 3168 6.1.2). */
static void cc_cong_signal(ts_conn *c, ts_cc_signal sig)
{
    c->ssthresh = half_flight(c);
    switch (sig) {
    case TS_CC_SIG_DUPACK: c->cwnd = c->ssthresh + 3 * mss(c); break;
    case TS_CC_SIG_RTO:
        c->cwnd = mss(c);
        c->bytes_acked = 0;
        break;
    case TS_CC_SIG_ECN: c->cwnd = c->ssthresh; break;
    }
}

static void cc_on_dupack(ts_conn *c)
{
    c->cwnd += mss(c);
} /* 3.2 step 4 */

static bool newreno_recovery_ack(ts_conn *c, uint32_t acked, bool full)
{
    if (full) { /* RFC 6582 3.2 step 3: full ACK */
        uint32_t flight = c->snd_max - c->snd_una;
        uint32_t w = (flight > mss(c) ? flight : mss(c)) + mss(c);
        c->cwnd = w < c->ssthresh ? w : c->ssthresh;
        return true;
    }
    /* partial ACK: deflate by what was ACKed, add back one SMSS if that much was ACKed */
    c->cwnd = c->cwnd > acked ? c->cwnd - acked : mss(c);
    if (acked >= mss(c)) c->cwnd += mss(c);
    return false;
}

static bool reno_recovery_ack(ts_conn *c, uint32_t acked, bool full)
{
    (void)acked;
    (void)full;
    c->cwnd = c->ssthresh; /* RFC 5681 3.2 step 6 */
    return true;
}

/* RFC 6937 3 (and Linux's tcp_end_cwnd_reduction): recovery ends at cwnd = ssthresh. */
void ts_cc_post_recovery(ts_conn *c)
{
    c->cwnd = c->ssthresh;
}

static void cc_on_idle(ts_conn *c)
{
    uint32_t iw = c->p->init_cwnd * mss(c); /* RFC 5681 4.1 */
    if (c->cwnd > iw) c->cwnd = iw;
}

const ts_cc_ops ts_cc_newreno = {.name = "newreno",
                                 .init = cc_init,
                                 .on_ack = cc_on_ack,
                                 .cong_signal = cc_cong_signal,
                                 .on_dupack = cc_on_dupack,
                                 .on_recovery_ack = newreno_recovery_ack,
                                 .post_recovery = ts_cc_post_recovery,
                                 .on_idle = cc_on_idle};

const ts_cc_ops ts_cc_reno = {.name = "reno",
                              .init = cc_init,
                              .on_ack = cc_on_ack,
                              .cong_signal = cc_cong_signal,
                              .on_dupack = cc_on_dupack,
                              .on_recovery_ack = reno_recovery_ack,
                              .post_recovery = ts_cc_post_recovery,
                              .on_idle = cc_on_idle};
