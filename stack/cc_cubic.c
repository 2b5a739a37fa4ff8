/* cc_cubic.c: CUBIC congestion control (RFC 9438), Linux's default. Windows are bytes,
 * times microseconds, all integer arithmetic (the core needs no libm: K's cube root is
 * computed here).
 *
 * - Multiplicative decrease (4.6): ssthresh = max(cwnd * beta, 2 SMSS) with beta = 717/1024,
 *   Linux's fixed-point 0.7, so ssthresh matches Linux's (10 segments -> 7). cwnd is used
 *   rather than FlightSize, as Linux does. On an RTO cwnd then drops to 1 SMSS (4.8).
 * - Fast convergence (4.7): a loss below the previous W_max sets W_max = cwnd (1+beta)/2.
 * - Congestion avoidance: the epoch starts at the first ACK in avoidance after a reduction
 *   (the first ACK after recovery); K = cbrt((W_max - cwnd_epoch) / C), C = 0.4 (4.2).
 *   Each ACK moves cwnd toward target = W_cubic(t + RTT), clamped to [cwnd, 1.5 cwnd]:
 *   cwnd += (target - cwnd) / cwnd per SMSS ACKed (4.4, 4.5), RTT being SRTT (min RTT
 *   before any sample). Below the Reno-friendly estimate W_est (alpha = 3(1-beta)/(1+beta),
 *   1 once W_est reaches the pre-loss cwnd) cwnd follows W_est (4.3).
 * - Slow start, fast recovery without SACK (cwnd inflation, NewReno partial ACKs) and the
 *   restart after idle are Reno's (cc_newreno.c); an idle restart also ends the epoch, so
 *   idle time does not count as growth time.
 * HyStart (Linux's delay-based exit from slow start, parameter hystart_detect) is in
 * hystart.c, beside HyStart++, through the shared slow start.
 * Not implemented: undo of spurious reductions (4.9), and the rule that an
 * application-limited flow must not grow cwnd (neither does tcpsim's Reno).
 * The per-connection state (ts_cubic, cc_cubic.h) lives in the connection's cc_priv area. */
#include "cc_cubic.h"

#define BETA_NUM 717 /* beta_cubic = 717/1024 ~ 0.7 (Linux's beta = 717) */
#define BETA_DEN 1024
/* alpha_cubic = 3 (1 - beta) / (1 + beta) = 921/1741 (4.3); denominators kept common */
#define ALPHA_NUM (3 * (BETA_DEN - BETA_NUM))
#define ALPHA_DEN (BETA_DEN + BETA_NUM)
/* C = 0.4 segments/s^3. With t in ms: C t^3 = 4 t^3 / 10^10 segments, and
 * K^3 [ms^3] = delta_segments / C * 10^9 = delta_bytes * 2.5e9 / SMSS. */
#define K3_PER_SEGMENT 2500000000ull
#define T_MAX_MS       2000000 /* |t - K| cap: (2^21)^3 < 2^63 */
#define CWND_MAX       (UINT32_MAX / 2)

static uint32_t mss(const ts_conn *c)
{
    return c->snd_mss ? c->snd_mss : 536;
}

/* floor(cbrt(x)), bit by bit: three bits of x give one bit of the root. */
static uint32_t icbrt(uint64_t x)
{
    uint64_t y = 0;
    for (int sh = 63; sh >= 0; sh -= 3) {
        y <<= 1;
        uint64_t b = 3 * y * (y + 1) + 1; /* (y+1)^3 - y^3 */
        if ((x >> sh) >= b) {
            x -= b << sh;
            y++;
        }
    }
    return (uint32_t)y;
}

/* W_cubic(t) of 4.2 in bytes, t measured from the epoch. */
static uint64_t w_cubic(const ts_conn *c, ts_time_t t)
{
    const ts_cubic *cu = ts_cubic_get(c);
    int64_t d = ((int64_t)t - (int64_t)cu->k) / (int64_t)TS_MSEC;
    uint64_t a = (uint64_t)(d < 0 ? -d : d);
    if (a > T_MAX_MS) a = T_MAX_MS;
    uint64_t cube = a * a * a, m = mss(c);
    /* cube * 4 * SMSS / 10^10 without overflow: split cube at 10^6 */
    uint64_t off = cube / 1000000 * 4 * m / 10000 + cube % 1000000 * 4 * m / 10000000000ull;
    if (d >= 0) return cu->origin + off;
    return cu->origin > off ? cu->origin - off : 0;
}

static void cubic_init(ts_conn *c)
{
    ts_cc_newreno.init(c);
    *ts_cubic_of(c) = (ts_cubic){0};
}

/* The first ACK of a congestion avoidance stage: t = 0 here, K from the window now. */
static void epoch_start(ts_conn *c, ts_time_t now)
{
    ts_cubic *cu = ts_cubic_of(c);
    cu->epoch_on = true;
    cu->epoch = now;
    cu->w_est = c->cwnd;
    cu->est_rem = cu->cub_rem = 0;
    if (cu->w_max > c->cwnd) {
        uint64_t k3 = (uint64_t)(cu->w_max - c->cwnd) * K3_PER_SEGMENT / mss(c);
        cu->k = (ts_time_t)icbrt(k3) * TS_MSEC;
        cu->origin = cu->w_max;
    } else { /* above the old plateau (e.g. after an RTO's slow start): probe from here */
        cu->k = 0;
        cu->origin = c->cwnd;
    }
}

/* 4.3: W_est += alpha * segments_acked / cwnd (in segments), i.e. alpha SMSS per window. */
static void reno_estimate(ts_conn *c, uint32_t acked)
{
    ts_cubic *cu = ts_cubic_of(c);
    uint64_t alpha = cu->w_est >= cu->cwnd_prior ? ALPHA_DEN : ALPHA_NUM;
    uint64_t num = alpha * mss(c) * acked + cu->est_rem, den = (uint64_t)ALPHA_DEN * c->cwnd;
    uint64_t w = cu->w_est + num / den;
    cu->w_est = w > CWND_MAX ? CWND_MAX : (uint32_t)w;
    cu->est_rem = num % den;
}

static void cubic_on_ack(ts_conn *c, uint32_t acked, ts_time_t now)
{
    if (c->cwnd < c->ssthresh) { /* slow start as Reno's (HyStart: hystart.c) */
        acked = ts_cc_slow_start(c, acked);
        if (!acked) return;
    }
    ts_cubic *cu = ts_cubic_of(c);
    if (!cu->epoch_on) epoch_start(c, now);
    ts_time_t t = now - cu->epoch, rtt = c->srtt ? c->srtt : c->min_rtt;
    reno_estimate(c, acked);
    if (w_cubic(c, t) < cu->w_est) { /* Reno-friendly region (4.3) */
        if (cu->w_est > c->cwnd) c->cwnd = cu->w_est;
        return;
    }
    /* concave (4.4) and convex (4.5) regions */
    uint64_t target = w_cubic(c, t + rtt), cwnd = c->cwnd;
    if (target < cwnd) target = cwnd;
    if (target > cwnd + cwnd / 2) target = cwnd + cwnd / 2;
    uint64_t num = (target - cwnd) * acked + cu->cub_rem;
    cu->cub_rem = num % cwnd;
    cwnd += num / cwnd;
    c->cwnd = cwnd > CWND_MAX ? CWND_MAX : (uint32_t)cwnd;
}

/* A congestion event (4.6, 4.7): W_max with fast convergence, ssthresh, a new epoch. */
static void reduce(ts_conn *c)
{
    ts_cubic *cu = ts_cubic_of(c);
    uint32_t w = c->cwnd, m = mss(c);
    cu->cwnd_prior = w;
    if (w < cu->w_max) /* the flow lost below its last plateau: release bandwidth */
        cu->w_max = (uint32_t)((uint64_t)w * (BETA_DEN + BETA_NUM) / (2 * BETA_DEN));
    else
        cu->w_max = w;
    uint32_t ss = (uint32_t)((uint64_t)w * BETA_NUM / BETA_DEN);
    c->ssthresh = ss > 2 * m ? ss : 2 * m;
    cu->epoch_on = false;
}

/* 4.6 and 4.8: every signal reduces by beta_cubic; fast recovery without SACK then inflates
 * by the three dupACKs (RFC 5681 3.2 step 3; SACK recovery's PRR resets it), an RTO drops
 * cwnd to 1 SMSS as Reno (RFC 5681 (5)), ECN (RFC 3168 6.1.2) to ssthresh. */
static void cubic_cong_signal(ts_conn *c, ts_cc_signal sig)
{
    reduce(c);
    switch (sig) {
    case TS_CC_SIG_DUPACK: c->cwnd = c->ssthresh + 3 * mss(c); break;
    case TS_CC_SIG_RTO:
        c->cwnd = mss(c);
        c->bytes_acked = 0;
        break;
    case TS_CC_SIG_ECN: c->cwnd = c->ssthresh; break;
    }
}

static void cubic_on_dupack(ts_conn *c)
{
    ts_cc_newreno.on_dupack(c);
}

static bool cubic_recovery_ack(ts_conn *c, uint32_t acked, bool full)
{
    return ts_cc_newreno.on_recovery_ack(c, acked, full);
}

static void cubic_on_idle(ts_conn *c)
{
    ts_cc_newreno.on_idle(c);
    ts_cubic_of(c)->epoch_on = false;
}

const ts_cc_ops ts_cc_cubic = {.name = "cubic",
                               .priv_size = sizeof(ts_cubic),
                               .init = cubic_init,
                               .on_ack = cubic_on_ack,
                               .cong_signal = cubic_cong_signal,
                               .on_dupack = cubic_on_dupack,
                               .on_recovery_ack = cubic_recovery_ack,
                               .post_recovery = ts_cc_post_recovery,
                               .on_idle = cubic_on_idle};
