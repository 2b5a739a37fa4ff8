/* test_tcp_oom.c: the stack out of memory. Every allocation stack/mem.c makes (connection
 * blocks, their side blocks, rings, parameter blocks) can be refused through the stack's
 * fault injection point (ts_stack.mem_refuse, as Linux's failslab), and a refusal never
 * crashes the stack nor loses a byte: a SYN it cannot hold is dropped and the peer's
 * retry connects; a segment it cannot hold is dropped, counted (drop.tcp-no-memory) and
 * sent again; a write it cannot hold fails with ENOMEM and the next one works; a missing
 * side block costs only what it would have bought (a SACK range, a TIME-WAIT block). The
 * last test refuses each allocation of a lossy transfer in turn, on either side. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

#define PORT 7000
#define D    (5 * TS_MSEC)
#define RING ((size_t)TS_RING_MIN)

/* Which allocations to refuse: those of `size` (0: any) after `skip` of them were let
 * through, `times` of them (-1: all). `asked` counts the matching ones, `refused` what was
 * refused; `ring_bytes_then` is the stack's mem_ring_bytes at the last refusal. */
typedef struct refuse {
    ts_stack *s;
    size_t size;
    long skip, times;
    long asked, refused;
    uint64_t ring_bytes_then;
    size_t sizes[64]; /* of the first 64 matching requests */
} refuse;

static bool refuse_fn(void *ctx, size_t size)
{
    refuse *r = ctx;
    if (r->size && size != r->size) return false;
    long n = r->asked++;
    if (n < 64) r->sizes[n] = size;
    if (n < r->skip || (r->times >= 0 && n >= r->skip + r->times)) return false;
    r->refused++;
    r->ring_bytes_then = r->s->cnt.mem_ring_bytes;
    return true;
}

static void refuse_on(harness *h, int side, refuse *r)
{
    r->s = h->st[side];
    h->st[side]->mem_refuse = refuse_fn;
    h->st[side]->mem_refuse_ctx = r;
}

/* A harness with the one-way delay D (h_conn_open sets it only on harnesses it makes). */
static harness *new_h(void)
{
    harness *h = h_new(NULL, NULL);
    h->delay = D;
    return h;
}

/* A connection open on such a harness (A connected to B's PORT, B reading everything),
 * then side's allocations refused as r says (r NULL: none yet). */
static harness *opened(h_conn *x, int side, refuse *r)
{
    harness *h = new_h();
    h_conn_open(x, &(h_conn_opts){.h = h, .delay = D, .port = PORT});
    if (r) refuse_on(h, side, r);
    return h;
}

/* B has every byte of A's transfer, exactly, and its end. */
static void all_arrived(const h_conn *x, size_t total)
{
    ck_assert_uint_eq(x->sb.rx_len, total);
    ck_assert_uint_eq(h_app_check(&x->sb), total);
    ck_assert(x->sb.eof);
}

static void finish(h_conn *x)
{
    harness *h = x->h;
    h_conn_free(x);
    h_free(h);
}

static const ts_counters *cnt(harness *h, int side)
{
    return ts_stack_counters(h->st[side]);
}

/* The time of side's nth (1 = first) packet with all of flags set, TS_TIME_NEVER if none. */
static ts_time_t nth_sent(const harness *h, int side, uint8_t flags, int nth)
{
    for (size_t i = 0; i < h->nlog; i++)
        if (h->log[i].from == side && (h->log[i].flags & flags) == flags && --nth == 0)
            return h->log[i].t;
    return TS_TIME_NEVER;
}

/* B cannot make the child for A's SYN: the SYN is dropped without an answer, counted, and
 * A's SYN retry, 1 s later (RFC 6298 2.1), connects one round trip after it. */
START_TEST(a_syn_without_memory_waits_for_the_retry)
{
    harness *h = new_h();
    refuse r = {.size = sizeof(ts_conn), .skip = 1, .times = 1}; /* the listener's own goes */
    refuse_on(h, H_B, &r);
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.h = h, .delay = D, .port = PORT, .wait = 3 * TS_SEC});
    ck_assert_int_eq(r.refused, 1);
    ts_time_t syn1 = nth_sent(h, H_A, TS_TH_SYN, 1), syn2 = nth_sent(h, H_A, TS_TH_SYN, 2);
    ck_assert_int_eq(syn2 - syn1, 1 * TS_SEC);
    ck_assert_int_eq(nth_sent(h, H_B, TS_TH_SYN | TS_TH_ACK, 1), syn2 + D); /* only then */
    ck_assert_int_eq(x.ca.connected_at, syn2 + 2 * D);
    ck_assert_uint_eq(cnt(h, H_B)->drops[TS_DROP_TCP_NO_MEMORY], 1);
    ck_assert_uint_eq(cnt(h, H_B)->mem_alloc_failed, 1);
    finish(&x);
}
END_TEST

/* The bug a693c2a fixed: B's out-of-order array is refused for a segment that lies beyond
 * the receive ring's page. The segment is dropped, and the ring must not have grown for
 * it first (a page held for nothing): at the refusal it is still the one page. The
 * transfer then completes byte-exact. */
START_TEST(an_out_of_order_array_refused_leaves_the_ring_alone)
{
    refuse r = {.size = TS_OOO_MAX * sizeof(ts_sack_block), .times = 1};
    h_conn x;
    harness *h = opened(&x, H_B, &r);
    /* segments 0 and 1 arrive, 2..4 do not: 5 is the first out of order, its end at 4 MSS
     * past what B has read, beyond the ring's first page */
    static const int segs[] = {2, 3, 4};
    h_drop_plan plan = {.segs = segs, .nsegs = 3};
    const size_t total = 100 * 1000;
    h_bulk_start(&x, &plan, total);
    ck_assert_uint_gt(4 * x.mss, RING);
    h_run_until(h, h->now + 5 * TS_SEC);
    ck_assert_int_eq(r.refused, 1);
    ck_assert_uint_eq(r.ring_bytes_then, RING);
    ck_assert_uint_eq(cnt(h, H_B)->drops[TS_DROP_TCP_NO_MEMORY], 1);
    ck_assert_uint_eq(cnt(h, H_B)->mem_alloc_failed, 1);
    /* the refused 256 bytes were the out-of-order array (the scoreboard and the record
     * marks are as large, but B sends nothing): the next segment past the hole made it */
    ts_conn *b = h->st[H_B]->socks[x.sb.sd].conn;
    ck_assert_ptr_nonnull(b->ooo);
    ck_assert_ptr_null(b->sb);
    ck_assert_ptr_null(b->eor_mark);
    all_arrived(&x, total);
    finish(&x);
}
END_TEST

/* B's receive ring refused at the first data segment: dropped, counted, not ACKed; A
 * sends it again and the transfer completes byte-exact. */
START_TEST(a_receive_ring_refused_the_data_comes_again)
{
    refuse r = {.size = RING, .times = 1};
    h_conn x;
    harness *h = opened(&x, H_B, &r);
    const size_t total = 50 * 1000;
    h_bulk_start(&x, NULL, total);
    h_run_until(h, h->now + 5 * TS_SEC);
    ck_assert_int_eq(r.refused, 1);
    ck_assert_uint_eq(cnt(h, H_B)->drops[TS_DROP_TCP_NO_MEMORY], 1);
    ck_assert_uint_eq(cnt(h, H_B)->mem_alloc_failed, 1);
    /* the segments behind it were held out of order and SACKed: A resends it once, as
     * their ACKs arrive, a round trip after it first went */
    ck_assert_int_eq(h_sent_at(h, x.base, 2), x.t0 + 2 * D);
    ck_assert_int_eq(h_sent_at(h, x.base, 3), TS_TIME_NEVER);
    ck_assert_uint_eq(cnt(h, H_A)->tcp_retransmits, 1);
    all_arrived(&x, total);
    finish(&x);
}
END_TEST

/* A's send ring refused: the write fails with ENOMEM and queues nothing; the next write
 * gets its ring, and the bytes arrive. */
START_TEST(a_send_ring_refused_is_enomem_then_works)
{
    refuse r = {.size = RING, .times = 1};
    h_conn x;
    harness *h = opened(&x, H_A, &r);
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = h_pattern(i);
    uint64_t conn_bytes = cnt(h, H_A)->mem_conn_bytes;
    ck_assert_int_eq(ts_send(h->st[H_A], x.ca.sd, buf, sizeof buf), -ENOMEM);
    ck_assert_uint_eq(cnt(h, H_A)->mem_ring_bytes, 0);
    ck_assert_uint_eq(cnt(h, H_A)->mem_conn_bytes, conn_bytes);
    ts_tcp_info i;
    ck_assert_int_eq(ts_sock_info(h->st[H_A], x.ca.sd, &i), 0);
    ck_assert_uint_eq(i.snd_queued, 0);
    ck_assert_int_eq(ts_send(h->st[H_A], x.ca.sd, buf, sizeof buf), (ssize_t)sizeof buf);
    h_run_until(h, h->now + 1 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, sizeof buf);
    ck_assert_uint_eq(h_app_check(&x.sb), sizeof buf);
    ck_assert_uint_eq(cnt(h, H_A)->mem_alloc_failed, 1);
    finish(&x);
}
END_TEST

/* A closes first, and the TIME-WAIT block is refused: the whole connection stays in
 * TIME-WAIT instead, for the same 60 s (Linux's TCP_TIMEWAIT_LEN), and then goes. */
START_TEST(a_time_wait_block_refused_keeps_the_connection)
{
    refuse r = {.size = sizeof(ts_tw), .times = -1};
    h_conn x;
    harness *h = opened(&x, H_A, &r);
    x.sb.close_on_eof = true;
    ck_assert_int_eq(ts_close(h->st[H_A], x.ca.sd), 0);
    x.ca.sd = -1;
    h_run_until(h, h->now + 1 * TS_SEC);
    const ts_counters *k = cnt(h, H_A);
    ck_assert_int_ge(r.refused, 1);
    ck_assert_uint_eq(k->conns_by_state[TS_TIME_WAIT], 1);
    ck_assert_uint_eq(k->tw_blocks, 0);
    ck_assert_uint_eq(k->mem_conn_bytes, sizeof(ts_conn));
    ts_time_t fin_ack = nth_sent(h, H_B, TS_TH_FIN | TS_TH_ACK, 1) + D; /* A enters TIME-WAIT */
    h_run_until(h, fin_ack + 60 * TS_SEC - 1);
    ck_assert_uint_eq(k->conns_by_state[TS_TIME_WAIT], 1);
    h_run_until(h, fin_ack + 60 * TS_SEC);
    ck_assert_uint_eq(k->conns_by_state[TS_TIME_WAIT], 0);
    ck_assert_uint_eq(k->mem_conn_bytes, 0);
    finish(&x);
}
END_TEST

/* A's SACK scoreboard refused, always: recovery goes on without the SACKed ranges (as with
 * a full scoreboard), and two losses are still repaired byte-exact. */
START_TEST(a_scoreboard_refused_recovery_still_delivers)
{
    refuse r = {.size = TS_SACK_MAX * sizeof(ts_sack_block), .times = -1};
    h_conn x;
    harness *h = opened(&x, H_A, &r);
    static const int segs[] = {3, 10};
    h_drop_plan plan = {.segs = segs, .nsegs = 2};
    const size_t total = 200 * 1000;
    h_bulk_start(&x, &plan, total);
    h_run_until(h, h->now + 10 * TS_SEC);
    ck_assert_int_ge(r.refused, 1);
    ts_conn *a = h->st[H_A]->socks[x.ca.sd].conn;
    ck_assert_ptr_null(a->sb);
    /* what was refused was the scoreboard: A holds no other block of its size */
    ck_assert_ptr_null(a->ooo);
    ck_assert_ptr_null(a->eor_mark);
    ck_assert_uint_eq(cnt(h, H_A)->mem_alloc_failed, (uint64_t)r.refused);
    ck_assert_uint_eq(x.pl.drops, 2);
    all_arrived(&x, total);
    finish(&x);
}
END_TEST

/* A socket's own parameters refused: ENOMEM, and it keeps the shared block it had. */
START_TEST(own_parameters_refused_keep_the_shared_ones)
{
    harness *h = new_h();
    refuse r = {.size = sizeof(ts_params_blk), .skip = 1, .times = 1}; /* the defaults' goes */
    refuse_on(h, H_A, &r);
    ts_stack *s = h->st[H_A];
    int sd = ts_socket(s);
    ck_assert_int_ge(sd, 0);
    const ts_params *before = s->socks[sd].conn->p;
    char err[200];
    uint64_t conn_bytes = s->cnt.mem_conn_bytes;
    ck_assert_int_eq(ts_sock_set_param(s, sd, "rto_min", "5ms", err, sizeof err), -ENOMEM);
    ck_assert_ptr_eq(s->socks[sd].conn->p, before);
    ck_assert_uint_eq(s->cnt.mem_conn_bytes, conn_bytes);
    ck_assert_uint_eq(s->cnt.mem_alloc_failed, 1);
    ck_assert_int_eq(ts_sock_set_param(s, sd, "rto_min", "5ms", err, sizeof err), 0);
    ck_assert_ptr_ne(s->socks[sd].conn->p, before);
    ck_assert_int_eq(s->socks[sd].conn->p->rto_min, 5 * TS_MSEC);
    ck_assert_int_eq(before->rto_min, 200 * TS_MSEC);
    ck_assert_int_eq(ts_close(s, sd), 0);
    h_free(h);
}
END_TEST

/* ts_socket without memory: the defaults' shared block refused, then the connection's
 * own block; each is ENOMEM with nothing held, and the next call works. */
START_TEST(a_socket_refused_is_enomem_and_holds_nothing)
{
    harness *h = new_h();
    ts_stack *s = h->st[H_A];
    refuse r = {.times = 1};
    refuse_on(h, H_A, &r);
    ck_assert_int_eq(ts_socket(s), -ENOMEM); /* the defaults' block, made at the first */
    ck_assert_uint_eq(s->cnt.mem_conn_bytes, 0);
    r.size = sizeof(ts_conn), r.asked = 0, r.refused = 0;
    ck_assert_int_eq(ts_socket(s), -ENOMEM);
    ck_assert_int_eq(r.refused, 1);
    ck_assert_uint_eq(s->cnt.mem_conn_bytes, 0);
    ck_assert_uint_eq(s->cnt.mem_alloc_failed, 2);
    int sd = ts_socket(s);
    ck_assert_int_ge(sd, 0);
    ck_assert_uint_eq(s->cnt.mem_conn_bytes, sizeof(ts_conn));
    ck_assert_int_eq(ts_close(s, sd), 0);
    h_free(h);
}
END_TEST

/* ---- every allocation of a lossy transfer, refused in turn ---- */

#define SWEEP_TOTAL (300 * 1000)

/* The transfer (A sends, two losses, both close) with the k-th allocation on side
 * refused (k < 0: none); the allocations side asked for. Whatever was refused, B gets
 * every byte exactly, and both sides end with no connection memory but B's listener. */
static long sweep_run(int side, long k, size_t sizes[64])
{
    h_conn x;
    harness *h = opened(&x, H_A, NULL);
    x.sb.close_on_eof = true;
    refuse r = {.skip = k < 0 ? 0 : k, .times = k < 0 ? 0 : 1};
    refuse_on(h, side, &r);
    static const int segs[] = {5, 12, 13};
    h_drop_plan plan = {.segs = segs, .nsegs = 3};
    h_bulk_start(&x, &plan, SWEEP_TOTAL);
    /* a write refused with ENOMEM is the application's to retry: it does, every 50 ms */
    for (int i = 0; i < 200 && !(x.sb.eof && x.ca.tx_sent == SWEEP_TOTAL); i++) {
        h_app_push(&x.ca);
        h_run_until(h, h->now + 50 * TS_MSEC);
    }
    ck_assert_msg(x.sb.rx_len == SWEEP_TOTAL && x.sb.eof,
                  "side %d, allocation %ld refused: B has %zu bytes, eof %d", side, k, x.sb.rx_len,
                  x.sb.eof);
    ck_assert_uint_eq(h_app_check(&x.sb), SWEEP_TOTAL);
    ck_assert_int_eq(ts_close(h->st[H_A], x.ca.sd), 0);
    x.ca.sd = -1;
    h_run_until(h, h->now + 120 * TS_SEC); /* TIME-WAIT and all */
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(cnt(h, i)->mem_ring_bytes, 0);
        /* B's listener is the one connection left */
        ck_assert_uint_eq(cnt(h, i)->mem_conn_bytes, i == H_B ? sizeof(ts_conn) : 0);
    }
    ck_assert_msg(r.refused == (k < 0 ? 0 : 1), "side %d k %ld: refused %ld of %ld asked", side, k,
                  r.refused, r.asked);
    ck_assert_uint_eq(cnt(h, side)->mem_alloc_failed, k < 0 ? 0 : 1);
    long asked = r.asked;
    if (sizes) memcpy(sizes, r.sizes, sizeof r.sizes);
    finish(&x);
    return asked;
}

static bool asked_for(const size_t *sizes, long n, size_t size)
{
    for (long i = 0; i < n && i < 64; i++)
        if (sizes[i] == size) return true;
    return false;
}

START_TEST(every_allocation_refused_in_turn)
{
    const size_t arr = TS_SACK_MAX * sizeof(ts_sack_block); /* = TS_OOO_MAX's */
    for (int side = 0; side < 2; side++) {
        size_t sizes[64];
        long n = sweep_run(side, -1, sizes);
        /* the sweep covers what it should: the rings (first page at least), and A's
         * scoreboard, hole records and TIME-WAIT block, B's out-of-order array */
        ck_assert_int_le(n, 64);
        ck_assert(asked_for(sizes, n, side == H_A ? 4 * RING : RING));
        ck_assert(asked_for(sizes, n, arr));
        if (side == H_A) {
            ck_assert(asked_for(sizes, n, TS_RXT_MAX * sizeof(struct ts_rxt)));
            ck_assert(asked_for(sizes, n, sizeof(ts_tw)));
        }
        for (long k = 0; k < n; k++) sweep_run(side, k, NULL);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("oom");
    TCase *tc = tcase_create("oom");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, a_syn_without_memory_waits_for_the_retry);
    tcase_add_test(tc, an_out_of_order_array_refused_leaves_the_ring_alone);
    tcase_add_test(tc, a_receive_ring_refused_the_data_comes_again);
    tcase_add_test(tc, a_send_ring_refused_is_enomem_then_works);
    tcase_add_test(tc, a_time_wait_block_refused_keeps_the_connection);
    tcase_add_test(tc, a_scoreboard_refused_recovery_still_delivers);
    tcase_add_test(tc, own_parameters_refused_keep_the_shared_ones);
    tcase_add_test(tc, a_socket_refused_is_enomem_and_holds_nothing);
    tcase_add_test(tc, every_allocation_refused_in_turn);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
