/* test_tcp_oow_ratelimit.c: replies to invalid segments are rate-limited per connection
 * (invalid_ratelimit, Linux's tcp_invalid_ratelimit, 500 ms). The fuzzer's ACK storm (seed
 * tests/fuzz/corpus/tcp_input/ack-storm-fin_wait_2): one forged in-order segment that B
 * accepts makes B ACK data A never sent; A answers that ACK with an ACK (RFC 5961 5.2), B
 * takes A's ACK as an old duplicate and ACKs again, and without the limit the two trade
 * pure ACKs as fast as the path allows. Out-of-window dup ACKs, the ACK for an ACK of
 * unsent data and RFC 5961 challenge ACKs share one bound; a segment carrying data is
 * always answered at once. All in virtual time, to the microsecond. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define PORT 7100

typedef struct est {
    harness *h;
    int csd, ssd;
} est;

/* A connection from A to B with 1 ms each way; timestamps off so that forged segments
 * need no TSval (the limit is the same with them on). ratelimit: B's and A's limit. */
static est establish_ts(const char *ratelimit, const char *timestamps)
{
    ts_params p;
    char err[200];
    ts_params_default(&p);
    ck_assert_int_eq(ts_params_set(&p, "timestamps", timestamps, err, sizeof err), 0);
    ck_assert_int_eq(ts_params_set(&p, "invalid_ratelimit", ratelimit, err, sizeof err), 0);
    est e;
    e.h = h_new(&p, &p);
    e.h->delay = 1 * TS_MSEC;
    int l = ts_socket(e.h->st[H_B]);
    ck_assert_int_eq(ts_bind(e.h->st[H_B], l, 0, PORT), 0);
    ck_assert_int_eq(ts_listen(e.h->st[H_B], l, 8), 0);
    e.csd = ts_socket(e.h->st[H_A]);
    ck_assert_int_eq(ts_connect(e.h->st[H_A], e.csd, H_ADDR_B, PORT), -EINPROGRESS);
    h_run_until(e.h, 100 * TS_MSEC);
    e.ssd = ts_accept(e.h->st[H_B], 0, NULL);
    ck_assert_int_ge(e.ssd, 0);
    return e;
}

static est establish(const char *ratelimit)
{
    return establish_ts(ratelimit, "off");
}

/* A segment to B as A's socket would send it now, seq moved by dseq. */
static size_t from_a_opt(est *e, uint8_t *buf, int32_t dseq, uint8_t flags, const char *data,
                         const uint8_t *opt, size_t optlen)
{
    return h_build_as(e->h, H_A, e->csd, buf, dseq, flags, opt, optlen, data);
}

static size_t from_a(est *e, uint8_t *buf, int32_t dseq, uint8_t flags, const char *data)
{
    return from_a_opt(e, buf, dseq, flags, data, NULL, 0);
}

static uint64_t limited(est *e, int side)
{
    return ts_stack_counters(e->h->st[side])->tcp_oow_ratelimited;
}

/* Packets side `from` logged from index n0 on. */
static size_t sent_since(est *e, int from, size_t n0)
{
    size_t n = 0;
    for (size_t i = n0; i < h_nlog(e->h); i++) n += e->h->log[i].from == from;
    return n;
}

/* The forged segment: 3 bytes at A's SND.NXT that A never sent. */
static size_t forge(est *e, ts_time_t *t0, size_t *n0)
{
    uint8_t p[1600];
    size_t len = from_a(e, p, 0, TS_TH_ACK | TS_TH_PSH, "xyz");
    *t0 = e->h->now;
    *n0 = h_nlog(e->h);
    h_inject(e->h, H_B, p, len);
    return len;
}

START_TEST(storm_bounded)
{
    est e = establish("500ms");
    ts_time_t t0;
    size_t n0;
    forge(&e, &t0, &n0);
    h_run_until(e.h, t0 + 10 * TS_SEC);
    /* B ACKs the forged bytes at once (quick ACK); A answers that ACK of unsent data at
     * t0+1ms; B answers A's ACK, left of its window now, at t0+2ms; A's next answer falls
     * 2 ms after its first and is skipped: the loop ends there. */
    ck_assert_uint_eq(sent_since(&e, H_B, n0), 2);
    ck_assert_uint_eq(sent_since(&e, H_A, n0), 1);
    const h_pkt *b1 = &e.h->log[n0], *a1 = &e.h->log[n0 + 1], *b2 = &e.h->log[n0 + 2];
    ck_assert_int_eq(b1->from, H_B);
    ck_assert_uint_eq(b1->t, t0);
    ck_assert_int_eq(a1->from, H_A);
    ck_assert_uint_eq(a1->t, t0 + 1 * TS_MSEC);
    ck_assert_uint_eq(a1->flags, TS_TH_ACK);
    ck_assert_int_eq(b2->from, H_B);
    ck_assert_uint_eq(b2->t, t0 + 2 * TS_MSEC);
    ck_assert_uint_eq(b2->ack, b1->ack); /* a duplicate of B's ACK of the phantom bytes */
    ck_assert_uint_eq(limited(&e, H_A), 1);
    ck_assert_uint_eq(limited(&e, H_B), 0);
    h_free(e.h);
}
END_TEST

/* The same storm with the limit off: what the fuzzer found, some 500 packets a second
 * each way over this 1 ms path, with every reply at most one RTT after the last. */
START_TEST(storm_unbounded_when_off)
{
    est e = establish("0");
    ts_time_t t0;
    size_t n0;
    forge(&e, &t0, &n0);
    h_run_until(e.h, t0 + 1 * TS_SEC);
    ck_assert_uint_ge(sent_since(&e, H_A, n0), 490);
    ck_assert_uint_ge(sent_since(&e, H_B, n0), 490);
    ck_assert_uint_eq(limited(&e, H_A) + limited(&e, H_B), 0);
    h_free(e.h);
}
END_TEST

/* Over a longer storm, with the peer's replies forced by re-forging every 100 ms, no
 * side sends two replies to invalid segments less than 500 ms apart. */
START_TEST(storm_at_most_one_per_interval)
{
    est e = establish("500ms");
    ts_time_t t0;
    size_t n0;
    forge(&e, &t0, &n0);
    uint8_t p[1600];
    for (int i = 1; i <= 50; i++) { /* a pure ACK left of B's window, every 100 ms */
        h_run_until(e.h, t0 + (ts_time_t)i * 100 * TS_MSEC);
        h_inject(e.h, H_B, p, from_a(&e, p, 0, TS_TH_ACK, NULL));
    }
    h_run_until(e.h, t0 + 6 * TS_SEC);
    size_t n[2] = {0, 0};
    for (int side = H_A; side <= H_B; side++) {
        ts_time_t last = 0;
        for (size_t i = n0 + 1; i < h_nlog(e.h); i++) { /* after B's ACK of the bytes */
            if (e.h->log[i].from != side) continue;
            if (n[side]++) ck_assert_uint_ge(e.h->log[i].t - last, 500 * TS_MSEC);
            last = e.h->log[i].t;
        }
    }
    /* B: t0+2ms, then the first forged ACK 500 ms on and every fifth after it (t0+600ms,
     * +1.1 s, ... +4.6 s); A answers each at once, B's answer to that is skipped */
    ck_assert_uint_eq(n[H_B], 10);
    ck_assert_uint_eq(n[H_A], 10);
    ck_assert_uint_eq(e.h->log[h_nlog(e.h) - 2].t, t0 + 4600 * TS_MSEC);
    ck_assert_uint_eq(limited(&e, H_B), 41 + 9); /* forged ACKs, A's answers */
    ck_assert_uint_eq(limited(&e, H_A), 1);
    h_free(e.h);
}
END_TEST

/* A legitimate out-of-window duplicate ACK goes out at once when the last such reply was
 * 500 ms or more ago, never earlier; a segment carrying data always gets its ACK. */
START_TEST(dupack_after_interval_at_once)
{
    est e = establish("500ms");
    uint8_t p[1600];
    size_t n0 = h_nlog(e.h);
    ts_time_t t0 = e.h->now;
    size_t old_ack = from_a(&e, p, -1, TS_TH_ACK, NULL); /* left of B's window */
    h_inject(e.h, H_B, p, old_ack);
    ck_assert_uint_eq(h_nlog(e.h), n0 + 1);
    ck_assert_uint_eq(e.h->log[n0].t, t0);
    ck_assert_uint_eq(e.h->log[n0].flags, TS_TH_ACK);
    h_run_until(e.h, t0 + 499999);
    h_inject(e.h, H_B, p, old_ack);
    ck_assert_uint_eq(h_nlog(e.h), n0 + 1);
    ck_assert_uint_eq(limited(&e, H_B), 1);
    /* an old data segment (a retransmission whose ACK was lost) is answered anyway */
    uint8_t q[1600];
    h_inject(e.h, H_B, q, from_a(&e, q, -4, TS_TH_ACK | TS_TH_PSH, "old"));
    ck_assert_uint_eq(h_nlog(e.h), n0 + 2);
    ck_assert_uint_eq(e.h->log[n0 + 1].t, t0 + 499999);
    ck_assert_uint_eq(limited(&e, H_B), 1);
    h_run_until(e.h, t0 + 500 * TS_MSEC);
    h_inject(e.h, H_B, p, old_ack);
    ck_assert_uint_eq(h_nlog(e.h), n0 + 3);
    ck_assert_uint_eq(e.h->log[n0 + 2].t, t0 + 500 * TS_MSEC);
    ck_assert_uint_eq(e.h->log[n0 + 2].from, H_B);
    ck_assert_uint_eq(limited(&e, H_B), 1);
    h_free(e.h);
}
END_TEST

/* PAWS (RFC 7323 5.3): the duplicate ACK for a segment with an old TSval obeys the same
 * bound; one carrying data is answered anyway. */
START_TEST(paws_dupack_bounded)
{
    est e = establish_ts("500ms", "on");
    uint32_t tsval = 0, ecr = 0;
    for (size_t i = 0; i < h_nlog(e.h); i++) /* A's latest TSval, as B last saw it */
        if (e.h->log[i].from == H_A) {
            const char *t = strstr(e.h->log[i].line, "TS val ");
            ck_assert_ptr_nonnull(t);
            ck_assert_int_eq(sscanf(t, "TS val %u ecr %u", &tsval, &ecr), 2);
        }
    uint32_t old = tsval - 1000;
    const uint8_t opt[12] = {
        1, 1, 8, 10, (uint8_t)(old >> 24), (uint8_t)(old >> 16), (uint8_t)(old >> 8), (uint8_t)old,
        0, 0, 0, 0};
    uint8_t p[1600];
    size_t n0 = h_nlog(e.h);
    ts_time_t t0 = e.h->now;
    const uint64_t *drops = ts_stack_counters(e.h->st[H_B])->drops;
    size_t len = from_a_opt(&e, p, 0, TS_TH_ACK, NULL, opt, sizeof opt);
    h_inject(e.h, H_B, p, len);
    ck_assert_uint_eq(drops[TS_DROP_TCP_PAWS], 1);
    ck_assert_uint_eq(h_nlog(e.h), n0 + 1);
    h_run_until(e.h, t0 + 100 * TS_MSEC);
    h_inject(e.h, H_B, p, len);
    ck_assert_uint_eq(drops[TS_DROP_TCP_PAWS], 2);
    ck_assert_uint_eq(h_nlog(e.h), n0 + 1);
    ck_assert_uint_eq(limited(&e, H_B), 1);
    h_inject(e.h, H_B, p, from_a_opt(&e, p, 0, TS_TH_ACK | TS_TH_PSH, "abc", opt, sizeof opt));
    ck_assert_uint_eq(drops[TS_DROP_TCP_PAWS], 3);
    ck_assert_uint_eq(h_nlog(e.h), n0 + 2);
    ck_assert_uint_eq(e.h->log[n0 + 1].t, t0 + 100 * TS_MSEC);
    h_free(e.h);
}
END_TEST

/* RFC 5961 challenge ACKs (in-window RST, SYN) count against the same bound. */
START_TEST(challenge_shares_the_bound)
{
    est e = establish("500ms");
    uint8_t p[1600];
    size_t n0 = h_nlog(e.h);
    ts_time_t t0 = e.h->now;
    h_inject(e.h, H_B, p, from_a(&e, p, -1, TS_TH_ACK, NULL)); /* dup ACK at t0 */
    ck_assert_uint_eq(h_nlog(e.h), n0 + 1);
    h_run_until(e.h, t0 + 100 * TS_MSEC);
    h_inject(e.h, H_B, p, from_a(&e, p, 1, TS_TH_RST, NULL)); /* in window, not exact */
    h_run_until(e.h, t0 + 499999);
    h_inject(e.h, H_B, p, from_a(&e, p, 5, TS_TH_SYN, NULL));
    ck_assert_uint_eq(h_nlog(e.h), n0 + 1);
    ck_assert_uint_eq(ts_stack_counters(e.h->st[H_B])->tcp_challenge_acks, 0);
    ck_assert_uint_eq(limited(&e, H_B), 2);
    h_run_until(e.h, t0 + 500 * TS_MSEC);
    h_inject(e.h, H_B, p, from_a(&e, p, 5, TS_TH_SYN, NULL));
    ck_assert_uint_eq(h_nlog(e.h), n0 + 2);
    ck_assert_uint_eq(e.h->log[n0 + 1].t, t0 + 500 * TS_MSEC);
    ck_assert_uint_eq(e.h->log[n0 + 1].flags, TS_TH_ACK);
    ck_assert_uint_eq(ts_stack_counters(e.h->st[H_B])->tcp_challenge_acks, 1);
    /* and a challenge ACK holds back the next dup ACK in turn */
    h_run_until(e.h, t0 + 999999);
    h_inject(e.h, H_B, p, from_a(&e, p, -1, TS_TH_ACK, NULL));
    ck_assert_uint_eq(h_nlog(e.h), n0 + 2);
    ck_assert_uint_eq(limited(&e, H_B), 3);
    ts_tcp_info b;
    ts_sock_info(e.h->st[H_B], e.ssd, &b);
    ck_assert_int_eq(b.state, TS_ESTABLISHED);
    h_free(e.h);
}
END_TEST

/* invalid_ratelimit=0: every challenge is answered. */
START_TEST(challenge_unlimited_when_off)
{
    est e = establish("0");
    uint8_t p[1600];
    size_t n0 = h_nlog(e.h);
    for (int i = 0; i < 3; i++) h_inject(e.h, H_B, p, from_a(&e, p, 1, TS_TH_RST, NULL));
    ck_assert_uint_eq(h_nlog(e.h), n0 + 3);
    ck_assert_uint_eq(ts_stack_counters(e.h->st[H_B])->tcp_challenge_acks, 3);
    ck_assert_uint_eq(limited(&e, H_B), 0);
    h_free(e.h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tcp_oow_ratelimit");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, storm_bounded);
    tcase_add_test(tc, storm_unbounded_when_off);
    tcase_add_test(tc, storm_at_most_one_per_interval);
    tcase_add_test(tc, dupack_after_interval_at_once);
    tcase_add_test(tc, paws_dupack_bounded);
    tcase_add_test(tc, challenge_shares_the_bound);
    tcase_add_test(tc, challenge_unlimited_when_off);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
