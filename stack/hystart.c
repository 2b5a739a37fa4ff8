/* hystart.c: leaving slow start before the first loss, for every congestion control.
 *
 * - HyStart++ (RFC 9406), parameter hystart=on: per round (ended when SND.NXT at its
 *   start is ACKed) the minimum RTT of its samples; from the N_RTT_SAMPLE-th sample on,
 *   a round whose minimum reaches lastRoundMinRTT + RttThresh (RttThresh =
 *   clamp(lastRoundMinRTT / 8, 4 ms, 16 ms)) leaves slow start for Conservative Slow
 *   Start (CSS): growth divided by CSS_GROWTH_DIVISOR = 4 for at most CSS_ROUNDS = 5
 *   rounds (the partial round of entry counts), then ssthresh = cwnd (congestion
 *   avoidance). A CSS round whose minimum RTT falls below cssBaselineMinRtt (the minimum
 *   that triggered CSS) was a spurious exit: back to slow start. Only in the initial slow
 *   start (ssthresh still infinite, RFC 9406 4.3); a loss ends it by setting ssthresh.
 *   Growth per ACK is at most L = 8 SMSS (RFC 9406 4.2 for a sender that does not pace:
 *   tcpsim never paces), on top of the abc limit.
 * - Linux CUBIC's HyStart (net/ipv4/tcp_cubic.c, hystart_update), parameter
 *   hystart_detect (a bit mask, Linux's module parameter of that name: 1 ACK train,
 *   2 delay), with cc=cubic only: from cwnd >= hystart_low_window = 16 segments, a round
 *   (SND.NXT at its start) whose minimum over its first HYSTART_MIN_SAMPLES = 8 samples
 *   and later exceeds delay_min + clamp(delay_min / 8, 4 ms, 16 ms), or whose ACKs keep
 *   coming less than 2 ms apart for longer than (delay_min + ack delay) / 2 from its
 *   start, sets ssthresh = cwnd. delay_min is the smallest sample; both restart after
 *   an RTO (bictcp_state's reset).
 *
 * The RTT samples are the cc's own, one per ACK that advances SND.UNA, as Linux's
 * ca_rtt_us: now minus when the newest byte it ACKs first went out. Those send times are
 * kept as a ring of TS_HS_MARKS ranges sent at one instant (a burst is one range); data
 * sent while the ring is full is not timed, and an ACK of retransmitted data gives no
 * sample (Karn). */
#include <string.h>

#include "internal.h"

#define N_RTT_SAMPLE       8
#define MIN_RTT_THRESH     (4 * TS_MSEC)
#define MAX_RTT_THRESH     (16 * TS_MSEC)
#define MIN_RTT_DIVISOR    8
#define CSS_GROWTH_DIVISOR 4
#define CSS_ROUNDS         5
#define L_SEGMENTS         8
#define LINUX_LOW_WINDOW   16
#define LINUX_ACK_DELTA    (2 * TS_MSEC) /* hystart_ack_delta_us */
#define LINUX_GSO_MAX      65536u        /* sk_gso_max_size of the device */
#define NO_RTT             TS_TIME_NEVER

static uint32_t mss(const ts_conn *c)
{
    return c->snd_mss ? c->snd_mss : 536;
}

static ts_time_t clamp_thresh(ts_time_t t)
{
    return t < MIN_RTT_THRESH ? MIN_RTT_THRESH : t > MAX_RTT_THRESH ? MAX_RTT_THRESH : t;
}

extern const ts_cc_ops ts_cc_cubic; /* cc_cubic.c: Linux's HyStart is CUBIC's */

static bool linux_wanted(const ts_conn *c)
{
    return !c->p->hystart && c->p->hystart_detect && c->cc_ops == &ts_cc_cubic;
}

/* Each runs only with its state block: without one (no memory) slow start is plain. */
static bool rfc_on(const ts_conn *c)
{
    return c->p->hystart && c->hs;
}

static bool linux_on(const ts_conn *c)
{
    return linux_wanted(c) && c->hs;
}

static void reset(ts_hystart *h)
{
    memset(h, 0, sizeof *h);
    h->last_round_min = h->cur_round_min = h->css_baseline = NO_RTT;
    h->curr_rtt = NO_RTT;
}

void ts_hystart_init(ts_conn *c)
{
    if (c->hs) reset(c->hs);
}

void ts_hystart_attach(ts_stack *s, ts_conn *c)
{
    if (c->hs || !(c->p->hystart || linux_wanted(c))) return;
    c->hs = ts_mem_block(s, sizeof *c->hs); /* NULL: counted in mem_alloc_failed */
    if (c->hs) reset(c->hs);
}

void ts_hystart_sent(ts_conn *c, uint32_t seq, uint32_t end, bool rexmit, ts_time_t now)
{
    ts_hystart *h = c->hs;
    if (!rfc_on(c) && !linux_on(c)) return;
    if (rexmit) { /* an ACK of data below rtx_high may time either copy: no sample */
        if (!h->rtx_on || seq_gt(end, h->rtx_high)) h->rtx_high = end;
        h->rtx_on = true;
        return;
    }
    if (h->n) {
        struct ts_hs_mark *last = &h->mark[(h->head + h->n - 1) % TS_HS_MARKS];
        if (last->t == now && last->end == seq) { /* the same burst */
            last->end = end;
            return;
        }
        if (!seq_gt(end, last->end)) return; /* not new data */
    }
    if (h->n == TS_HS_MARKS) return; /* full: this one is not timed */
    h->mark[(h->head + h->n) % TS_HS_MARKS] = (struct ts_hs_mark){seq, end, now};
    h->n++;
}

/* The ACK's RTT sample (SND.UNA now `una`, was una0), or NO_RTT: from the range holding
 * the newest byte ACKed; ranges wholly ACKed are forgotten. */
static ts_time_t take_sample(ts_conn *c, uint32_t una0, uint32_t una, ts_time_t now)
{
    ts_hystart *h = c->hs;
    ts_time_t sent = NO_RTT;
    while (h->n) {
        struct ts_hs_mark *m = &h->mark[h->head];
        if (seq_lt(m->start, una) && seq_le(una, m->end)) sent = m->t; /* holds una - 1 */
        if (seq_gt(m->end, una)) break;
        h->head = (uint8_t)((h->head + 1) % TS_HS_MARKS);
        h->n--;
    }
    if (sent == NO_RTT || (h->rtx_on && seq_lt(una0, h->rtx_high))) return NO_RTT;
    ts_time_t rtt = now - sent;
    return rtt ? rtt : 1;
}

/* RFC 9406 4.2: a round ends when the ACK reaches windowEnd. */
static void rfc_round(ts_conn *c, uint32_t una)
{
    ts_hystart *h = c->hs;
    if (h->round_on && seq_lt(una, h->window_end)) return;
    if (h->round_on && h->in_css && ++h->css_rounds >= CSS_ROUNDS) {
        c->ssthresh = c->cwnd; /* CSS is over: congestion avoidance (RFC 9406 4.2) */
        h->in_css = false;
        return;
    }
    h->round_on = true;
    h->window_end = c->snd_nxt;
    h->last_round_min = h->cur_round_min;
    h->cur_round_min = NO_RTT;
    h->samples = 0;
}

static void rfc_check(ts_conn *c)
{
    ts_hystart *h = c->hs;
    if (h->samples < N_RTT_SAMPLE || h->cur_round_min == NO_RTT) return;
    if (!h->in_css) {
        if (h->last_round_min == NO_RTT) return;
        ts_time_t thresh = clamp_thresh(h->last_round_min / MIN_RTT_DIVISOR);
        if (h->cur_round_min >= h->last_round_min + thresh) {
            h->css_baseline = h->cur_round_min;
            h->in_css = true;
            h->css_rounds = 0;
            h->css_entries++;
        }
    } else if (h->cur_round_min < h->css_baseline) { /* spurious: back to slow start */
        h->css_baseline = NO_RTT;
        h->in_css = false;
    }
}

/* Linux's hystart_ack_delay(): at most 1 ms, less when the pacing rate Linux computes
 * (2 cwnd / SRTT in slow start) would send sk_gso_max_size * 4 faster. */
static ts_time_t linux_ack_delay(const ts_conn *c)
{
    uint64_t rate = c->srtt ? (uint64_t)c->cwnd * 2 * TS_SEC / (uint64_t)c->srtt : 0;
    if (!rate) return 0;
    uint64_t d = (uint64_t)LINUX_GSO_MAX * 4 * TS_SEC / rate;
    return d < TS_MSEC ? (ts_time_t)d : TS_MSEC;
}

static void linux_round_reset(ts_conn *c, ts_time_t now)
{
    ts_hystart *h = c->hs;
    h->round_start = h->last_ack = now;
    h->end_seq = c->snd_nxt;
    h->curr_rtt = NO_RTT;
    h->sample_cnt = 0;
}

/* tcp_cubic.c hystart_update(), for one sample. */
static void linux_update(ts_conn *c, ts_time_t delay, ts_time_t now)
{
    ts_hystart *h = c->hs;
    if (!h->round_on || seq_gt(c->snd_una, h->end_seq)) {
        h->round_on = true;
        linux_round_reset(c, now);
    }
    if (c->cwnd < LINUX_LOW_WINDOW * mss(c)) return;
    if ((c->p->hystart_detect & 1) && now - h->last_ack <= LINUX_ACK_DELTA) {
        h->last_ack = now;
        ts_time_t thresh = (h->delay_min + linux_ack_delay(c)) >> 1; /* not paced */
        if (now - h->round_start > thresh) {
            h->found = true;
            c->ssthresh = c->cwnd;
        }
    }
    if (c->p->hystart_detect & 2) {
        if (delay < h->curr_rtt) h->curr_rtt = delay;
        if (h->sample_cnt < N_RTT_SAMPLE) {
            h->sample_cnt++;
        } else if (h->curr_rtt > h->delay_min + clamp_thresh(h->delay_min >> 3)) {
            h->found = true;
            c->ssthresh = c->cwnd;
        }
    }
}

void ts_hystart_ack(ts_conn *c, uint32_t una0, ts_time_t now)
{
    ts_hystart *h = c->hs;
    if (!rfc_on(c) && !linux_on(c)) return;
    if (linux_on(c) && c->ca_state == TS_CA_LOSS) { /* after an RTO: bictcp_state's reset */
        h->found = h->round_on = false;
        h->delay_min = 0;
    }
    ts_time_t rtt = take_sample(c, una0, c->snd_una, now);
    if (linux_on(c)) {
        if (rtt == NO_RTT) return;
        if (!h->delay_min || rtt < h->delay_min) h->delay_min = rtt;
        if (!h->found && c->cwnd < c->ssthresh) linux_update(c, rtt, now);
        return;
    }
    if (c->ssthresh != UINT32_MAX) return; /* RFC 9406 4.3: the initial slow start only */
    rfc_round(c, c->snd_una);
    if (rtt == NO_RTT || c->ssthresh != UINT32_MAX) return;
    if (rtt < h->cur_round_min) h->cur_round_min = rtt;
    h->samples++;
}

void ts_hystart_grow(ts_conn *c, uint32_t inc)
{
    if (!rfc_on(c) || c->ssthresh != UINT32_MAX) {
        c->cwnd += inc;
        return;
    }
    uint32_t l = L_SEGMENTS * mss(c);
    if (inc > l) inc = l;
    c->cwnd += c->hs->in_css ? inc / CSS_GROWTH_DIVISOR : inc;
    rfc_check(c); /* after the growth, as RFC 9406 4.2 orders them */
}
