/* test_stack_burst.c: the output's burst mode (tcpsim/stack.h). Stack A, in burst mode,
 * talks to stack B (per-packet mode) in-process. Every packet A sends is handed once, in
 * order, and stays where it was built until the flush that ends its burst; a burst ends
 * when the outermost entry call returns (calls made from A's callbacks are part of it),
 * when the arena is full, or at ts_stack_burst_end; the bytes are those per-packet mode
 * sends. */
#include <check.h>
#include <string.h>

#include "harness.h"

#define A_ADDR TS_IP4(10, 0, 0, 1)
#define B_ADDR TS_IP4(10, 0, 0, 2)
#define MAXP   4096

/* What A handed: the packet's place and a copy of its bytes when handed. */
typedef struct {
    const uint8_t *at;
    size_t len;
    uint8_t copy[1600];
    int burst; /* the burst it ended in (-1 until flushed) */
} rec;

static struct {
    ts_stack *a, *b;
    rec out[MAXP];
    int nout, nflushed, nbursts;
    int burst_len[MAXP];
    bool drop_to_b; /* lose what A sends (for a retransmission timer) */
    /* B's packets for A and A's for B, delivered by pump() */
    uint8_t q[2][256][1600];
    size_t qlen[2][256];
    int nq[2];
    ts_time_t now;
    int asd, bsd, lsd;
    bool burst; /* A is in burst mode */
    int flushes_in_callback;
} w;

static void queue(int to, const uint8_t *pkt, size_t len)
{
    ck_assert_uint_le(len, sizeof w.q[0][0]);
    ck_assert_int_lt(w.nq[to], 256);
    memcpy(w.q[to][w.nq[to]], pkt, len);
    w.qlen[to][w.nq[to]++] = len;
}

static void a_output(void *ctx, const uint8_t *pkt, size_t len)
{
    ck_assert_ptr_eq(ctx, &w);
    ck_assert_int_lt(w.nout, MAXP);
    rec *r = &w.out[w.nout++];
    r->at = pkt, r->len = len, r->burst = -1;
    ck_assert_uint_le(len, sizeof r->copy);
    memcpy(r->copy, pkt, len);
    if (!w.drop_to_b) queue(1, pkt, len);
}

/* The burst ends: every packet handed since the last flush is still where it was, as it
 * was, and none overlaps another. */
static void a_flush(void *ctx)
{
    ck_assert_ptr_eq(ctx, &w);
    ck_assert_int_gt(w.nout, w.nflushed); /* never an empty burst */
    for (int i = w.nflushed; i < w.nout; i++) {
        rec *r = &w.out[i];
        ck_assert_msg(!memcmp(r->at, r->copy, r->len), "packet %d changed before the flush", i);
        if (i > w.nflushed) ck_assert(r->at >= w.out[i - 1].at + w.out[i - 1].len);
        r->burst = w.nbursts;
    }
    w.burst_len[w.nbursts++] = w.nout - w.nflushed;
    w.nflushed = w.nout;
}

static void b_output(void *ctx, const uint8_t *pkt, size_t len)
{
    (void)ctx;
    queue(0, pkt, len);
}

static ts_stack *make(uint32_t addr, bool burst, size_t burst_bytes)
{
    ts_stack_config cfg;
    ts_stack_config_init(&cfg);
    cfg.addr = addr;
    cfg.output = burst || addr == A_ADDR ? a_output : b_output;
    cfg.output_ctx = &w;
    if (burst) cfg.flush = a_flush, cfg.burst_bytes = burst_bytes;
    char err[256];
    ts_stack *s = ts_stack_create(&cfg, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    return s;
}

/* A connects to B; both sides established and B's socket accepted. */
static void setup(bool burst, size_t burst_bytes)
{
    memset(&w, 0, sizeof w);
    w.burst = burst;
    w.bsd = -1;
    w.a = make(A_ADDR, burst, burst_bytes);
    w.b = make(B_ADDR, false, 0);
    w.lsd = ts_socket(w.b);
    ck_assert_int_eq(ts_bind(w.b, w.lsd, 0, 7), 0);
    ck_assert_int_eq(ts_listen(w.b, w.lsd, 8), 0);
    w.asd = ts_socket(w.a);
    ts_connect(w.a, w.asd, B_ADDR, 7);
}

static void teardown(void)
{
    ts_stack_destroy(w.a);
    ts_stack_destroy(w.b);
}

/* Deliver what is queued for B. */
static void to_b(void)
{
    static uint8_t pkt[1600];
    int n = w.nq[1];
    w.nq[1] = 0;
    for (int i = 0; i < n; i++) {
        memcpy(pkt, w.q[1][i], w.qlen[1][i]);
        ts_stack_input(w.b, w.now, pkt, w.qlen[1][i]);
    }
}

/* Deliver what is queued, to B first then A, once; returns how many went to A. */
static int pump_once(void)
{
    static uint8_t pkt[1600];
    to_b();
    int m = w.nq[0];
    w.nq[0] = 0;
    for (int i = 0; i < m; i++) {
        memcpy(pkt, w.q[0][i], w.qlen[0][i]);
        int before = w.nout;
        ts_stack_input(w.a, w.now, pkt, w.qlen[0][i]);
        /* what this input made A send was flushed when it returned: nothing pending */
        if (!w.burst) continue;
        ck_assert_int_eq(w.nflushed, w.nout);
        if (w.nout > before) ck_assert_int_eq(w.out[before].burst, w.out[w.nout - 1].burst);
    }
    return m;
}

static void pump(void)
{
    for (int i = 0; i < 500; i++) { /* 0.5 s: delayed ACKs and the like included */
        w.now += TS_MSEC;
        pump_once();
        ts_stack_poll(w.b, w.now);
        ts_stack_poll(w.a, w.now);
        static uint8_t sink[65536]; /* B's application reads everything */
        while (w.bsd >= 0 && ts_recv(w.b, w.bsd, sink, sizeof sink) > 0) continue;
        if (w.bsd < 0) w.bsd = ts_accept(w.b, w.lsd, NULL);
    }
    if (w.bsd < 0) w.bsd = ts_accept(w.b, w.lsd, NULL);
}

/* A TCP packet's sequence number and payload length. */
static void seg_of(const rec *r, uint32_t *seq, size_t *dlen)
{
    ts_pkt_view v;
    ck_assert_int_eq(ts_pkt_view_parse(&v, r->copy, r->len), TS_WIRE_OK);
    ck_assert(v.tcp);
    *seq = v.th.seq, *dlen = v.th.len;
}

/* A send call's segments are one burst, handed when the call returns; B's ACKs each
 * release new data in a burst of their own; the bytes are in sequence, each once. */
START_TEST(a_call_is_a_burst)
{
    setup(true, 0);
    pump();
    ck_assert_int_gt(w.bsd, 0);
    ck_assert_int_eq(w.nflushed, w.nout); /* SYN, ACK: each its own call's burst */
    int first = w.nout, bursts = w.nbursts;
    static uint8_t data[100000];
    ck_assert_int_eq(ts_send(w.a, w.asd, data, sizeof data), (int)sizeof data);
    /* IW10 (RFC 6928): ten segments, one burst, flushed as ts_send returned */
    ck_assert_int_eq(w.nbursts, bursts + 1);
    ck_assert_int_eq(w.burst_len[bursts], 10);
    ck_assert_int_eq(w.nout - first, 10);
    /* B takes the ten; only its last ACK (cumulative, all ten) reaches A: that one input
     * releases a window's worth, handed as one burst when ts_stack_input returns */
    w.now += TS_MSEC;
    to_b();
    ck_assert_int_gt(w.nq[0], 0);
    memcpy(w.q[0][0], w.q[0][w.nq[0] - 1], w.qlen[0][w.nq[0] - 1]);
    w.qlen[0][0] = w.qlen[0][w.nq[0] - 1];
    w.nq[0] = 1;
    int before = w.nout;
    bursts = w.nbursts;
    ck_assert_int_eq(pump_once(), 1);
    ck_assert_int_eq(w.nbursts, bursts + 1);
    ck_assert_int_ge(w.burst_len[bursts], 10);
    ck_assert_int_eq(w.burst_len[bursts], w.nout - before);
    pump();
    uint32_t seq0, next;
    size_t dlen, total = 0;
    seg_of(&w.out[first], &seq0, &dlen);
    next = seq0;
    for (int i = first; i < w.nout; i++) {
        uint32_t seq;
        seg_of(&w.out[i], &seq, &dlen);
        if (!dlen) continue;
        ck_assert_uint_eq(seq, next); /* in order, none twice, none missing */
        next += (uint32_t)dlen;
        total += dlen;
        ck_assert_int_ge(w.out[i].burst, 0);
    }
    ck_assert_uint_eq(total, sizeof data);
    ck_assert_int_eq(w.nflushed, w.nout);
    teardown();
}
END_TEST

/* A retransmission timer's expiry, in ts_stack_poll, hands its own burst. */
START_TEST(a_timer_is_a_burst)
{
    setup(true, 0);
    pump();
    static uint8_t data[3 * 1448]; /* full segments: Nagle holds none back */
    w.drop_to_b = true;
    ck_assert_int_eq(ts_send(w.a, w.asd, data, sizeof data), (int)sizeof data);
    int bursts = w.nbursts, sent = w.nout;
    ts_time_t rto = ts_stack_next_deadline(w.a);
    ck_assert(rto != TS_TIME_NEVER);
    ts_stack_poll(w.a, rto - 1);
    ck_assert_int_eq(w.nbursts, bursts); /* nothing due: no burst */
    ts_stack_poll(w.a, rto);
    ck_assert_int_eq(w.nbursts, bursts + 1);
    ck_assert_int_eq(w.burst_len[bursts], 1); /* the first segment again */
    ck_assert_int_eq(w.nout, sent + 1);
    uint32_t seq, s2;
    size_t dlen, d2;
    seg_of(&w.out[sent], &seq, &dlen);
    bool again = false; /* a segment sent before (RTO or tail loss probe) */
    for (int i = sent - 3; i < sent; i++) {
        seg_of(&w.out[i], &s2, &d2);
        again |= s2 == seq && d2 == dlen && dlen > 0;
    }
    ck_assert(again);
    teardown();
}
END_TEST

/* A's socket callback (run by the outermost ts_leave) sends: a nested entry, which must
 * not end the burst; what it sends joins the burst of the input that woke it. */
static void echo_cb(ts_stack *s, int sd, unsigned ev, void *ctx)
{
    (void)ctx;
    if (!(ev & TS_SOCK_READABLE)) return;
    uint8_t buf[4096];
    ssize_t n = ts_recv(s, sd, buf, sizeof buf);
    if (n <= 0) return;
    int before = w.nbursts;
    ck_assert_int_eq(ts_send(s, sd, buf, (size_t)n), n);
    w.flushes_in_callback += w.nbursts - before;
}

START_TEST(nested_calls_do_not_flush)
{
    setup(true, 0);
    pump();
    ts_sock_set_callback(w.a, w.asd, echo_cb, NULL);
    static const char msg[] = "hello, burst";
    ck_assert_int_eq(ts_send(w.b, w.bsd, msg, sizeof msg), (int)sizeof msg);
    ck_assert_int_eq(w.nq[0], 1);
    int bursts = w.nbursts, sent = w.nout;
    w.nq[1] = 0;
    pump_once(); /* A takes the data; its callback echoes it */
    ck_assert_int_eq(w.flushes_in_callback, 0);
    ck_assert_int_eq(w.nbursts, bursts + 1);
    ck_assert_int_eq(w.burst_len[bursts], w.nout - sent); /* the ACK and the echo */
    const rec *e = &w.out[w.nout - 1];
    ck_assert(!memcmp(e->copy + e->len - sizeof msg, msg, sizeof msg));
    teardown();
}
END_TEST

/* ts_stack_burst_begin/end widen a burst over several calls; pairs nest. */
START_TEST(begin_end_widen_a_burst)
{
    setup(true, 0);
    pump();
    ts_params p;
    ck_assert_int_eq(ts_sock_get_params(w.a, w.asd, &p), 0);
    p.nagle = false; /* each one-byte send goes out at once */
    ck_assert_int_eq(ts_sock_set_params(w.a, w.asd, &p, NULL, 0), 0);
    int bursts = w.nbursts, sent = w.nout;
    ts_stack_burst_begin(w.a);
    ts_stack_burst_begin(w.a);
    ck_assert_int_eq(ts_send(w.a, w.asd, "a", 1), 1);
    ck_assert_int_eq(ts_send(w.a, w.asd, "b", 1), 1);
    ts_stack_burst_end(w.a);
    ck_assert_int_eq(w.nbursts, bursts); /* the outer pair still holds it */
    ck_assert_int_eq(ts_send(w.a, w.asd, "c", 1), 1);
    ts_stack_burst_end(w.a);
    ck_assert_int_eq(w.nbursts, bursts + 1);
    ck_assert_int_eq(w.burst_len[bursts], 3);
    ck_assert_int_eq(w.nout, sent + 3);
    ts_stack_burst_end(w.a); /* unpaired: nothing */
    ck_assert_int_eq(w.nbursts, bursts + 1);
    teardown();
}
END_TEST

/* A small arena cuts a burst where it fills: each packet still handed once, in order. */
START_TEST(a_full_arena_cuts_the_burst)
{
    setup(true, 4000);
    pump();
    int bursts = w.nbursts, sent = w.nout;
    static uint8_t data[14480];
    ck_assert_int_eq(ts_send(w.a, w.asd, data, sizeof data), (int)sizeof data);
    ck_assert_int_eq(w.nout - sent, 10);
    /* 64-byte aligned packets of ~1500 bytes: a flush once past 4000, every third */
    ck_assert_int_eq(w.nbursts - bursts, 4);
    ck_assert_int_eq(w.burst_len[bursts], 3);
    ck_assert_int_eq(w.burst_len[bursts + 3], 1);
    ck_assert_int_eq(w.nflushed, w.nout);
    teardown();
}
END_TEST

/* Burst mode sends the very bytes per-packet mode sends. */
START_TEST(same_bytes_as_per_packet)
{
    static rec per[MAXP];
    int nper = 0;
    for (int mode = 0; mode < 2; mode++) {
        setup(mode == 1, 0);
        pump();
        static uint8_t data[60000];
        for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 13);
        ts_send(w.a, w.asd, data, sizeof data);
        pump();
        ts_close(w.a, w.asd);
        pump();
        if (mode == 0) {
            memcpy(per, w.out, sizeof per);
            nper = w.nout;
            ck_assert_int_eq(w.nbursts, 0); /* per-packet mode: no flush at all */
        } else {
            ck_assert_int_eq(w.nout, nper);
            for (int i = 0; i < nper; i++) {
                ck_assert_uint_eq(w.out[i].len, per[i].len);
                ck_assert_msg(!memcmp(w.out[i].copy, per[i].copy, per[i].len), "packet %d", i);
            }
        }
        teardown();
    }
    ck_assert_int_gt(nper, 40);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("stack_burst");
    TCase *tc = tcase_create("burst");
    tcase_add_test(tc, a_call_is_a_burst);
    tcase_add_test(tc, a_timer_is_a_burst);
    tcase_add_test(tc, nested_calls_do_not_flush);
    tcase_add_test(tc, begin_end_widen_a_burst);
    tcase_add_test(tc, a_full_arena_cuts_the_burst);
    tcase_add_test(tc, same_bytes_as_per_packet);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
