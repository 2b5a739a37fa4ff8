/* test_cc_hystart.c: HyStart++ (RFC 9406) on the sender. Side B sends (MSS 1000, no
 * timestamps, abc=1: one SMSS per ACK); a scripted peer (peer.h) ACKs every segment
 * exactly R after B sent it, R = 100 ms for segments sent before 200 ms and 120 ms from
 * then on (the RTT rises by 20 ms mid-slow-start). The RFC's arithmetic, by hand:
 * - t=0: segments 1-10 go out; their ACKs at 100 ms. ACK 1 starts round A (windowEnd =
 *   end of segment 10); each ACK k opens one segment and sends two (10 + 2k sent).
 * - ACK 10 ends round A (lastRoundMinRTT 100 ms); round B's windowEnd is the end of
 *   segment 28 (10 + 2*9 were out when ACK 10 came). ACK 28 (at 200 ms) starts
 *   round C with windowEnd = end of segment 64; its first samples (ACKs 28-30) are still
 *   100 ms, so C's minimum stays 100 ms.
 * - ACK 64 (at 320 ms) starts round D (windowEnd = end of segment 136), every sample
 *   120 ms >= 100 + RttThresh (clamp(100/8, 4, 16) = 12.5 ms). Its 8th sample, ACK 71
 *   (at 440 ms: segment 71 went out on ACK 31, at 320 ms), enters CSS after growing: cwnd = 10 + 71
 * = 81 segments; from ACK 72 on each ACK adds 1/CSS_GROWTH_DIVISOR = 250 bytes.
 * - CSS lasts CSS_ROUNDS = 5 rounds counting D: at the end of the 5th, ssthresh = cwnd.
 * Without the rise (or with hystart=off) the same ACKs give plain slow start. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "peer.h"
#include "harness.h"

#define PORT   9300
#define SMSS   1000
#define TOTAL  (1000 * SMSS)
#define R0     (100 * TS_MSEC)
#define R1     (120 * TS_MSEC)
#define T_RISE (200 * TS_MSEC)

typedef struct trace {
    uint32_t cwnd[TOTAL / SMSS + 1];       /* cwnd (bytes) right after ACK k (k = segments) */
    uint32_t ssthresh[TOTAL / SMSS + 1];   /* ssthresh right after ACK k */
    uint32_t nxt_before[TOTAL / SMSS + 1]; /* highest segment sent before ACK k came */
    ts_time_t at[TOTAL / SMSS + 1];
} trace;

static trace tr;
static ts_time_t t_fall = TS_TIME_NEVER; /* segments sent from then on: R0 again */

/* Run the transfer: B's segments ACKed one by one, each R after it went out. */
static void run_with(const char *const *sets, bool rise)
{
    ts_params pb;
    char err[160];
    ts_params_default(&pb);
    for (; *sets; sets += 2)
        ck_assert_msg(ts_params_set(&pb, sets[0], sets[1], err, sizeof err) == 0, "%s", err);
    harness *h = h_new(NULL, &pb);
    peer pe;
    peer_open(&pe, h, PORT, false, false, R0, 4000); /* 4000 << 7: 512 KB window */
    static uint8_t buf[TOTAL];
    ts_time_t t0 = h->now;
    size_t scanned = h_nlog(h);
    ck_assert_int_eq(ts_send(h->st[H_B], pe.sd, buf, TOTAL), TOTAL);
    /* send time of every segment, by number (first transmissions) */
    static ts_time_t sent[TOTAL / SMSS + 2];
    uint32_t highest = 0;
    memset(&tr, 0, sizeof tr);
    for (uint32_t k = 1; k <= TOTAL / SMSS; k++) {
        for (; scanned < h_nlog(h); scanned++) {
            const h_pkt *p = &h->log[scanned];
            if (p->from != H_B || !p->plen) continue;
            uint32_t seg = (p->seq - pe.iss - 1) / SMSS + 1;
            ck_assert_msg(seg == highest + 1 && p->plen == SMSS, "unexpected %s", p->line);
            sent[seg] = p->t;
            highest = seg;
        }
        ck_assert_msg(highest >= k, "segment %u never sent", k);
        ts_time_t r = rise && sent[k] - t0 >= T_RISE && sent[k] - t0 < t_fall ? R1 : R0;
        h_run_until(h, sent[k] + r);
        tr.nxt_before[k] = highest;
        tr.at[k] = h->now - t0;
        peer_send(&pe, 1, k * SMSS + 1, TS_TH_ACK, 4000, NULL, 0, 0);
        ts_tcp_info ti;
        ck_assert_int_eq(ts_sock_info(h->st[H_B], pe.sd, &ti), 0);
        tr.cwnd[k] = ti.cwnd;
        tr.ssthresh[k] = ti.ssthresh;
        if (k == 700) break; /* enough: CSS is over by then */
    }
    h_free(h);
}

static void run(const char *hystart, bool rise)
{
    const char *sets[] = {"hystart", hystart, NULL};
    run_with(sets, rise);
}

/* The round ends the RFC's windowEnd gives, from the log: a round started by ACK k
 * ends at the ACK of the highest segment sent before ACK k. */
static uint32_t round_end(uint32_t k)
{
    return tr.nxt_before[k];
}

START_TEST(rtt_rise_enters_css_at_the_rfc_round)
{
    run("on", true);
    /* plain slow start up to ACK 71: one segment per ACK */
    for (uint32_t k = 1; k <= 71; k++) {
        ck_assert_msg(tr.cwnd[k] == (10 + k) * SMSS, "ACK %u: cwnd %u", k, tr.cwnd[k]);
        ck_assert_uint_eq(tr.ssthresh[k], UINT32_MAX);
    }
    /* the rounds the RFC counts */
    ck_assert_uint_eq(round_end(1), 10);
    ck_assert_uint_eq(round_end(10), 28);
    ck_assert_uint_eq(round_end(28), 64);
    ck_assert_uint_eq(round_end(64), 136);
    ck_assert_uint_eq(tr.at[28], 200 * TS_MSEC);
    ck_assert_uint_eq(tr.at[64], 320 * TS_MSEC); /* round D's first sample, 120 ms */
    ck_assert_uint_eq(tr.at[70], 320 * TS_MSEC); /* its 7th */
    ck_assert_uint_eq(tr.at[71], 440 * TS_MSEC); /* its 8th (sent by ACK 31): CSS */
    /* CSS: a quarter segment per ACK through rounds D..H (5), then ssthresh = cwnd */
    uint32_t end = 64, css_end = 0;
    for (int r = 0; r < 5; r++) end = round_end(end);
    css_end = end; /* the ACK that ends the 5th CSS round */

    ck_assert_uint_lt(css_end, 700);
    uint32_t cwnd = 81 * SMSS;
    for (uint32_t k = 72; k < css_end; k++) {
        cwnd += SMSS / 4;
        ck_assert_msg(tr.cwnd[k] == cwnd, "ACK %u: cwnd %u, want %u", k, tr.cwnd[k], cwnd);
        ck_assert_uint_eq(tr.ssthresh[k], UINT32_MAX);
    }
    /* at the end of CSS: congestion avoidance from cwnd (RFC 9406 4.2) */
    ck_assert_uint_eq(tr.ssthresh[css_end], cwnd);
    ck_assert_uint_eq(tr.cwnd[css_end], cwnd);
    printf("hystart++: CSS from ACK 71 (t=440 ms, cwnd 81 segments) to ACK %u (t=%.0f ms, "
           "ssthresh %u bytes)\n",
           css_end, (double)tr.at[css_end] / TS_MSEC, cwnd);
}
END_TEST

/* Without the rise: plain slow start all the way (no exit, one segment per ACK). */
START_TEST(no_rise_is_plain_slow_start)
{
    run("on", false);
    for (uint32_t k = 1; k <= 200; k++) {
        ck_assert_msg(tr.cwnd[k] == (10 + k) * SMSS, "ACK %u: cwnd %u", k, tr.cwnd[k]);
        ck_assert_uint_eq(tr.ssthresh[k], UINT32_MAX);
    }
}
END_TEST

/* hystart=off (the default): the rise changes nothing. */
START_TEST(off_ignores_the_rise)
{
    run("off", true);
    for (uint32_t k = 1; k <= 200; k++) {
        ck_assert_msg(tr.cwnd[k] == (10 + k) * SMSS, "ACK %u: cwnd %u", k, tr.cwnd[k]);
        ck_assert_uint_eq(tr.ssthresh[k], UINT32_MAX);
    }
}
END_TEST

/* RFC 9406 4.2: the RTT falls back (segments sent from 440 ms on, after CSS began, see
 * 100 ms again): a CSS round whose minimum drops below cssBaselineMinRtt (120 ms) was a
 * spurious exit, and slow start resumes: one SMSS per ACK again, ssthresh never set. */
START_TEST(rtt_falls_back_resumes_slow_start)
{
    t_fall = 440 * TS_MSEC;
    run("on", true);
    t_fall = TS_TIME_NEVER;
    ck_assert_uint_eq(tr.cwnd[71], 81 * SMSS);
    ck_assert_uint_eq(tr.cwnd[72], 81 * SMSS + SMSS / 4); /* CSS */
    uint32_t resumed = 0;
    for (uint32_t k = 73; k <= 700 && !resumed; k++)
        if (tr.cwnd[k] - tr.cwnd[k - 1] == SMSS) resumed = k;
    ck_assert_msg(resumed, "slow start never resumed");
    /* it resumed within round D or the next: before ACK 232 (round E's end) */
    ck_assert_uint_lt(resumed, 232);
    for (uint32_t k = resumed; k <= 700; k++) {
        ck_assert_uint_eq(tr.ssthresh[k], UINT32_MAX);
        ck_assert_uint_ge(tr.cwnd[k] - tr.cwnd[k - 1], SMSS / 4); /* SS or CSS again */
    }
    printf("hystart++: CSS at ACK 71, slow start again from ACK %u (t=%.0f ms)\n", resumed,
           (double)tr.at[resumed] / TS_MSEC);
}
END_TEST

/* Linux CUBIC's HyStart (tcp_cubic.c hystart_update, hystart_detect=3 as Linux), same
 * ACKs: delay_min 100 ms, threshold 100 + clamp(100/8, 4, 16) = 112.5 ms. Rounds run
 * from a reset when SND.UNA passes end_seq (SND.NXT at the reset): ACK 11 (end_seq =
 * segment 30), ACK 31 at 320 ms (end_seq = segment 70), whose samples are 120 ms. After
 * HYSTART_MIN_SAMPLES = 8 of them (ACKs 31-38), ACK 39 finds 120 > 112.5: ssthresh =
 * cwnd before its growth, 10 + 38 = 48 segments. (The ACK train never fires: the ACKs
 * come in bursts 100 ms and more apart, the train needs them within 2 ms.) */
START_TEST(linux_hystart_delay_exit)
{
    const char *sets[] = {"cc", "cubic", "hystart_detect", "3", NULL};
    run_with(sets, true);
    for (uint32_t k = 1; k <= 38; k++) {
        ck_assert_msg(tr.cwnd[k] == (10 + k) * SMSS, "ACK %u: cwnd %u", k, tr.cwnd[k]);
        ck_assert_uint_eq(tr.ssthresh[k], UINT32_MAX);
    }
    ck_assert_uint_eq(tr.at[39], 320 * TS_MSEC);
    ck_assert_uint_eq(tr.ssthresh[39], 48 * SMSS);
    /* that ACK already grows by CUBIC's avoidance (20 bytes here), not slow start's 1000 */
    ck_assert_uint_eq(tr.cwnd[39], 48 * SMSS + 20);
}
END_TEST

/* The same without the rise, and with hystart_detect=0 (tcpsim's default): no exit. */
START_TEST(linux_hystart_no_rise_no_exit)
{
    const char *sets[] = {"cc", "cubic", "hystart_detect", "3", NULL};
    run_with(sets, false);
    for (uint32_t k = 1; k <= 200; k++) ck_assert_uint_eq(tr.ssthresh[k], UINT32_MAX);
    const char *off[] = {"cc", "cubic", NULL};
    run_with(off, true);
    for (uint32_t k = 1; k <= 200; k++) ck_assert_uint_eq(tr.ssthresh[k], UINT32_MAX);
}
END_TEST

int main(void)
{
    (void)peer_out, (void)peer_expect; /* peer.h's checks: this suite reads the log itself */
    Suite *s = suite_create("hystart");
    TCase *tc = tcase_create("rfc9406");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, rtt_rise_enters_css_at_the_rfc_round);
    tcase_add_test(tc, no_rise_is_plain_slow_start);
    tcase_add_test(tc, off_ignores_the_rise);
    tcase_add_test(tc, rtt_falls_back_resumes_slow_start);
    tcase_add_test(tc, linux_hystart_delay_exit);
    tcase_add_test(tc, linux_hystart_no_rise_no_exit);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
