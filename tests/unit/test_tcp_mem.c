/* test_tcp_mem.c: memory per connection (stack/mem.c; docs/architecture.md, "Memory per
 * connection"). A connection that completed its handshake but moved no data holds no ring;
 * rings appear with the data and go when the connection no longer needs them (our FIN
 * queued, the peer's FIN read, TIME-WAIT, CLOSED), while bytes not yet read stay
 * readable; the mem_* counters are exact (asserted to the byte) and back to zero when
 * every connection is gone; 10,000 idle connections made between two stacks cost less
 * than 4 KB each; HyStart's state and the record marks exist only when used; and the cap
 * mem_max bites without losing a byte: a capped transfer completes byte-exact, slower,
 * counted in mem_cap_hits, and data the receiver could not hold is sent again. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

#define PORT       7000
#define D          (5 * TS_MSEC)
#define CONN       ((uint64_t)sizeof(ts_conn))
#define RING       ((uint64_t)TS_RING_MIN)
#define PB         ((uint64_t)sizeof(ts_params_blk))
#define IDLE_BOUND 4096 /* bytes per idle connection: issue 13's target */

static const ts_counters *cnt(harness *h, int side)
{
    return ts_stack_counters(h->st[side]);
}

static ts_tcp_info info(harness *h, int side, int sd)
{
    ts_tcp_info i;
    ck_assert_int_eq(ts_sock_info(h->st[side], sd, &i), 0);
    return i;
}

static ts_conn *conn_of(harness *h, int side, int sd)
{
    return h->st[side]->socks[sd].conn;
}

static void params_with(ts_params *p, const char *name, const char *value)
{
    char err[200];
    ts_params_default(p);
    if (name) ck_assert_msg(ts_params_set(p, name, value, err, sizeof err) == 0, "%s", err);
}

/* The handshake done, nothing sent: no ring on either side, in the counters and in the
 * connection itself; the counted blocks are the connections, to the byte. */
START_TEST(idle_connection_holds_no_ring)
{
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.delay = D, .port = PORT});
    harness *h = x.h;
    h_run_until(h, h->now + 10 * TS_SEC); /* delayed ACKs and all: quiet */
    int sds[2] = {x.ca.sd, x.sb.sd};
    for (int side = 0; side < 2; side++) {
        ts_tcp_info i = info(h, side, sds[side]);
        ck_assert_int_eq(i.state, TS_ESTABLISHED);
        ck_assert_uint_eq(i.snd_ring, 0);
        ck_assert_uint_eq(i.rcv_ring, 0);
        ts_conn *c = conn_of(h, side, sds[side]);
        ck_assert_ptr_null(c->sndq.buf);
        ck_assert_ptr_null(c->rcvq.buf);
        ck_assert_uint_eq(c->sndq.cap + c->rcvq.cap, 0);
        ck_assert_ptr_null(c->hs);       /* HyStart is off by default */
        ck_assert_ptr_null(c->eor_mark); /* no record was written */
        const ts_counters *k = cnt(h, side);
        ck_assert_uint_eq(k->mem_rings, 0);
        ck_assert_uint_eq(k->mem_ring_bytes, 0);
        ck_assert_uint_eq(k->mem_ring_peak, 0); /* not even for a moment */
        ck_assert_uint_eq(k->mem_cap_hits, 0);
        ck_assert_uint_eq(k->mem_alloc_failed, 0);
    }
    ck_assert_uint_eq(cnt(h, H_A)->mem_conn_bytes, CONN);     /* the connection */
    ck_assert_uint_eq(cnt(h, H_B)->mem_conn_bytes, 2 * CONN); /* the listener, the child */
    h_conn_free(&x);
}
END_TEST

/* Five bytes each way: a page-sized ring for each direction's data on each side, kept
 * while the connection is open; closing gives every ring back at once where nothing is
 * left to hold, and the blocks go with the connections. */
START_TEST(rings_follow_the_data_and_go_at_close)
{
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.delay = D, .port = PORT});
    harness *h = x.h;
    ck_assert_int_eq(ts_send(h->st[H_A], x.ca.sd, "hello", 5), 5);
    h_run_until(h, h->now + 100 * TS_MSEC);
    ck_assert_uint_eq(x.sb.rx_len, 5);
    ck_assert_uint_eq(info(h, H_A, x.ca.sd).snd_ring, RING);
    ck_assert_uint_eq(info(h, H_A, x.ca.sd).rcv_ring, 0);
    ck_assert_uint_eq(info(h, H_B, x.sb.sd).rcv_ring, RING);
    ck_assert_uint_eq(info(h, H_B, x.sb.sd).snd_ring, 0);
    ck_assert_int_eq(ts_send(h->st[H_B], x.sb.sd, "world", 5), 5);
    h_run_until(h, h->now + 100 * TS_MSEC);
    ck_assert_uint_eq(x.ca.rx_len, 5);
    for (int side = 0; side < 2; side++) {
        ck_assert_uint_eq(cnt(h, side)->mem_rings, 2);
        ck_assert_uint_eq(cnt(h, side)->mem_ring_bytes, 2 * RING);
        ck_assert_uint_eq(cnt(h, side)->mem_ring_peak, 2 * RING);
    }
    /* A closes: its FIN needs no ring, and an orphan reads nothing: both go at once */
    ck_assert_int_eq(ts_close(h->st[H_A], x.ca.sd), 0);
    x.ca.sd = -1;
    ck_assert_uint_eq(cnt(h, H_A)->mem_rings, 0);
    ck_assert_uint_eq(cnt(h, H_A)->mem_ring_bytes, 0);
    /* B takes the FIN with its ring read empty: the receive ring goes, the send ring stays
     * (CLOSE-WAIT may still send) */
    h_run_until(h, h->now + 100 * TS_MSEC);
    ck_assert_int_eq(info(h, H_B, x.sb.sd).state, TS_CLOSE_WAIT);
    ck_assert_uint_eq(info(h, H_B, x.sb.sd).rcv_ring, 0);
    ck_assert_uint_eq(info(h, H_B, x.sb.sd).snd_ring, RING);
    ck_assert_uint_eq(cnt(h, H_B)->mem_rings, 1);
    ck_assert_int_eq(ts_close(h->st[H_B], x.sb.sd), 0);
    x.sb.sd = -1;
    ck_assert_uint_eq(cnt(h, H_B)->mem_rings, 0);
    ck_assert_uint_eq(cnt(h, H_B)->mem_ring_bytes, 0);
    h_run_until(h, h->now + 100 * TS_MSEC);
    ck_assert_uint_eq(cnt(h, H_A)->conns_by_state[TS_TIME_WAIT], 1);
    ck_assert_uint_eq(cnt(h, H_B)->mem_conn_bytes, CONN); /* the listener alone */
    h_run_until(h, h->now + 61 * TS_SEC);                 /* TIME-WAIT is over */
    ck_assert_uint_eq(cnt(h, H_A)->mem_conn_bytes, 0);
    ck_assert_int_eq(ts_close(h->st[H_B], x.sb.lsd), 0);
    h_run_until(h, h->now + TS_MSEC);
    for (int side = 0; side < 2; side++) {
        const ts_counters *k = cnt(h, side);
        ck_assert_uint_eq(k->mem_rings, 0);
        ck_assert_uint_eq(k->mem_ring_bytes, 0);
        ck_assert_uint_eq(k->mem_conn_bytes, 0);
        ck_assert_uint_eq(k->mem_ring_peak, 2 * RING); /* the peak stays */
    }
    h_conn_free(&x);
}
END_TEST

/* Bytes not yet read outlive the connection: B's ring stays through CLOSE-WAIT, LAST-ACK
 * and CLOSED until the application has read them; then it goes. */
START_TEST(unread_bytes_keep_their_ring_until_read)
{
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.delay = D, .port = PORT});
    harness *h = x.h;
    x.sb.auto_read = false;
    ck_assert_int_eq(ts_send(h->st[H_A], x.ca.sd, "0123456789", 10), 10);
    ck_assert_int_eq(ts_close(h->st[H_A], x.ca.sd), 0);
    x.ca.sd = -1;
    h_run_until(h, h->now + 100 * TS_MSEC);
    ck_assert_int_eq(info(h, H_B, x.sb.sd).state, TS_CLOSE_WAIT);
    ck_assert_int_eq(ts_shutdown(h->st[H_B], x.sb.sd, TS_SHUT_WR), 0);
    h_run_until(h, h->now + 100 * TS_MSEC);
    ts_tcp_info bi = info(h, H_B, x.sb.sd);
    ck_assert_int_eq(bi.state, TS_CLOSED);
    ck_assert_uint_eq(bi.rcv_queued, 10);
    ck_assert_uint_eq(bi.rcv_ring, RING);
    ck_assert_uint_eq(cnt(h, H_B)->mem_rings, 1);
    char buf[32];
    ck_assert_int_eq(ts_recv(h->st[H_B], x.sb.sd, buf, 4), 4); /* part: the ring stays */
    ck_assert_uint_eq(info(h, H_B, x.sb.sd).rcv_ring, RING);
    ck_assert_int_eq(ts_recv(h->st[H_B], x.sb.sd, buf + 4, sizeof buf - 4), 6);
    ck_assert_int_eq(memcmp(buf, "0123456789", 10), 0);
    ck_assert_uint_eq(info(h, H_B, x.sb.sd).rcv_ring, 0);
    ck_assert_uint_eq(cnt(h, H_B)->mem_rings, 0);
    ck_assert_uint_eq(cnt(h, H_B)->mem_ring_bytes, 0);
    ck_assert_int_eq(ts_recv(h->st[H_B], x.sb.sd, buf, sizeof buf), 0); /* EOF */
    h_conn_free(&x);
}
END_TEST

/* A 1 MB transfer with losses (out-of-order data held, SACK recovery), then both close:
 * when every connection is gone every counter of what is held is zero again. */
START_TEST(counters_return_to_zero)
{
    static const int segs[] = {10, 11, 50, 300};
    h_conn x;
    h_bulk_open(&x, &(h_conn_opts){.delay = D, .port = PORT},
                &(h_drop_plan){.segs = segs, .nsegs = 4}, 1000 * 1000);
    harness *h = x.h;
    x.sb.close_on_eof = true;
    x.sb.tx_total = 300 * 1000; /* B answers while it receives */
    h_app_push(&x.sb);
    h_run_until(h, h->now + 30 * TS_SEC);
    ck_assert_uint_eq(h_app_check(&x.sb), 1000 * 1000);
    ck_assert_uint_eq(h_app_check(&x.ca), 300 * 1000);
    ck_assert_uint_ge(cnt(h, H_B)->mem_ring_peak, 2 * RING); /* held out-of-order data */
    ck_assert_int_eq(ts_close(h->st[H_A], x.ca.sd), 0);
    x.ca.sd = -1;
    ck_assert_int_eq(ts_close(h->st[H_B], x.sb.lsd), 0);
    h_run_until(h, h->now + 120 * TS_SEC);
    for (int side = 0; side < 2; side++) {
        const ts_counters *k = cnt(h, side);
        for (int st = 0; st < TS_NUM_STATES; st++) ck_assert_uint_eq(k->conns_by_state[st], 0);
        ck_assert_uint_eq(k->mem_rings, 0);
        ck_assert_uint_eq(k->mem_ring_bytes, 0);
        ck_assert_uint_eq(k->mem_conn_bytes, 0);
        ck_assert_uint_eq(k->mem_alloc_failed, 0);
    }
    h_conn_free(&x);
}
END_TEST

/* HyStart's state and the record marks are blocks of their own, there only when used. */
START_TEST(side_blocks_only_when_used)
{
    ts_params p;
    params_with(&p, "hystart", "on");
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.pa = &p, .delay = D, .port = PORT});
    harness *h = x.h;
    const uint64_t hs = sizeof(ts_hystart), eor = TS_EOR_MAX * sizeof(uint32_t);
    ck_assert_ptr_nonnull(conn_of(h, H_A, x.ca.sd)->hs);
    ck_assert_uint_eq(cnt(h, H_A)->mem_conn_bytes, CONN + hs);
    ck_assert_ptr_null(conn_of(h, H_B, x.sb.sd)->hs);
    ck_assert_uint_eq(cnt(h, H_B)->mem_conn_bytes, 2 * CONN);
    /* turned on on a live socket: Linux CUBIC's HyStart with cc=cubic */
    char err[200];
    ck_assert_int_eq(ts_sock_set_param(h->st[H_B], x.sb.sd, "hystart_detect", "3", err, sizeof err),
                     0);
    /* not with newreno; the socket now has parameters of its own (next test) */
    ck_assert_uint_eq(cnt(h, H_B)->mem_conn_bytes, 2 * CONN + PB);
    ck_assert_int_eq(ts_sock_set_param(h->st[H_B], x.sb.sd, "cc", "cubic", err, sizeof err), 0);
    ck_assert_ptr_nonnull(conn_of(h, H_B, x.sb.sd)->hs);
    ck_assert_uint_eq(cnt(h, H_B)->mem_conn_bytes, 2 * CONN + PB + hs);
    /* the first record (TS_MSG_EOR) brings the marks */
    ck_assert_int_eq(ts_send_flags(h->st[H_A], x.ca.sd, "rec", 3, TS_MSG_EOR), 3);
    ck_assert_ptr_nonnull(conn_of(h, H_A, x.ca.sd)->eor_mark);
    ck_assert_uint_eq(cnt(h, H_A)->mem_conn_bytes, CONN + hs + eor);
    h_run_until(h, h->now + TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 3);
    ck_assert_int_eq(ts_close(h->st[H_A], x.ca.sd), 0);
    x.ca.sd = -1;
    h_run_until(h, h->now + 100 * TS_SEC);
    ck_assert_uint_eq(cnt(h, H_A)->mem_conn_bytes, 0);
    h_conn_free(&x);
}
END_TEST

/* Both ends closed and gone (TIME-WAIT too): A holds nothing, B only its listener; the
 * fixture freed. */
static void close_to_the_listener(h_conn *x)
{
    harness *h = x->h;
    ck_assert_int_eq(ts_close(h->st[H_A], x->ca.sd), 0);
    ck_assert_int_eq(ts_close(h->st[H_B], x->sb.sd), 0);
    x->ca.sd = x->sb.sd = -1;
    h_run_until(h, h->now + 100 * TS_SEC);
    ck_assert_uint_eq(cnt(h, H_A)->mem_conn_bytes, 0);
    ck_assert_uint_eq(cnt(h, H_B)->mem_conn_bytes, CONN); /* the listener */
    h_conn_free(x);
}

/* The parameters are one block shared by every connection made with the stack's
 * defaults (the stack's own, not counted) and by a listener's children, until
 * ts_sock_set_param gives a socket its own (counted; the old one let go). Defaults
 * changed later reach new sockets only: the connections made before keep theirs, whose
 * block then counts as theirs, and is freed with the last of them. */
START_TEST(parameters_shared_until_set)
{
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.delay = D, .port = PORT});
    harness *h = x.h;
    ts_conn *a = conn_of(h, H_A, x.ca.sd), *b = conn_of(h, H_B, x.sb.sd);
    ts_conn *l = conn_of(h, H_B, x.sb.lsd);
    ck_assert_ptr_eq(b->p, l->p); /* the child shares the listener's */
    ck_assert_ptr_eq(a->p, &h->st[H_A]->dflt->p);
    ck_assert_uint_eq(cnt(h, H_A)->mem_conn_bytes, CONN);
    ck_assert_uint_eq(cnt(h, H_B)->mem_conn_bytes, 2 * CONN);
    char err[200];
    ck_assert_int_eq(ts_sock_set_param(h->st[H_B], x.sb.sd, "keepalive", "1", err, sizeof err), 0);
    ck_assert_ptr_ne(b->p, l->p);
    ck_assert_uint_eq(cnt(h, H_B)->mem_conn_bytes, 2 * CONN + PB);
    ck_assert_int_eq(ts_sock_set_param(h->st[H_B], x.sb.sd, "keepalive", "0", err, sizeof err), 0);
    ck_assert_uint_eq(cnt(h, H_B)->mem_conn_bytes, 2 * CONN + PB); /* the first one let go */
    /* new defaults on A: its connection keeps rto_min 200 ms; a new socket has 50 ms */
    ts_params np = *ts_stack_params(h->st[H_A]);
    np.rto_min = 50 * TS_MSEC;
    ck_assert_int_eq(ts_stack_set_params(h->st[H_A], &np, err, sizeof err), 0);
    ck_assert_uint_eq(a->p->rto_min, 200 * TS_MSEC);
    ck_assert_uint_eq(cnt(h, H_A)->mem_conn_bytes, CONN + PB); /* now the connection's own */
    int sd = ts_socket(h->st[H_A]);
    ck_assert_int_ge(sd, 0);
    ck_assert_uint_eq(conn_of(h, H_A, sd)->p->rto_min, 50 * TS_MSEC);
    ck_assert_uint_eq(cnt(h, H_A)->mem_conn_bytes, 2 * CONN + PB);
    ck_assert_int_eq(ts_close(h->st[H_A], sd), 0);
    close_to_the_listener(&x);
}
END_TEST

/* Loss recovery's arrays are side blocks too: the sender's SACK scoreboard at the first
 * SACK block, its retransmission records at the first hole resent, the receiver's
 * out-of-order ranges at the first segment past a hole. A transfer without loss makes
 * none of them; one with two losses makes each once, arrives byte-exact, and gives them
 * back with the connection. */
START_TEST(recovery_blocks_only_after_a_loss)
{
    const uint64_t sb = TS_SACK_MAX * sizeof(ts_sack_block);
    const uint64_t rxt = TS_RXT_MAX * sizeof(struct ts_rxt),
                   ooo = TS_OOO_MAX * sizeof(ts_sack_block);
    const size_t total = 200 * 1000;
    for (int lossy = 0; lossy < 2; lossy++) {
        static const int segs[] = {3, 10};
        h_drop_plan plan = {.segs = segs, .nsegs = lossy ? 2 : 0};
        h_conn x;
        h_bulk_open(&x, &(h_conn_opts){.delay = D, .port = PORT}, &plan, total);
        harness *h = x.h;
        h_run_until(h, h->now + 2 * TS_SEC);
        ck_assert_uint_eq(x.sb.rx_len, total);
        ck_assert_uint_eq(h_app_check(&x.sb), total);
        ck_assert(x.sb.eof);
        ck_assert_uint_eq(x.pl.drops, lossy ? 2 : 0);
        ts_conn *a = conn_of(h, H_A, x.ca.sd), *b = conn_of(h, H_B, x.sb.sd);
        if (!lossy) {
            ck_assert_ptr_null(a->sb);
            ck_assert_ptr_null(a->rxt);
            ck_assert_ptr_null(b->ooo);
        } else {
            ck_assert_ptr_nonnull(a->sb);
            ck_assert_ptr_nonnull(a->rxt);
            ck_assert_ptr_nonnull(b->ooo);
            ck_assert_ptr_null(a->ooo); /* A received nothing out of order */
            ck_assert_ptr_null(b->sb);
        }
        /* A's rings went when its FIN was ACKed; B's receive ring when EOF was read */
        ck_assert_uint_eq(cnt(h, H_A)->mem_conn_bytes, CONN + (lossy ? sb + rxt : 0));
        ck_assert_uint_eq(cnt(h, H_B)->mem_conn_bytes, 2 * CONN + (lossy ? ooo : 0));
        ck_assert_uint_eq(cnt(h, H_A)->mem_alloc_failed + cnt(h, H_B)->mem_alloc_failed, 0);
        close_to_the_listener(&x);
    }
}
END_TEST

/* ---- 10,000 connections between two stacks, without the harness's packet log ---- */

typedef struct qpkt {
    int to;
    size_t len;
    uint8_t data[];
} qpkt;

typedef struct pair {
    ts_stack *st[2];
    ts_time_t now;
    qpkt **q;
    size_t nq, cap;
} pair;

typedef struct pside {
    pair *p;
    int me;
} pside;

static pside psides[2];

static void pair_out(void *ctx, const uint8_t *pkt, size_t len)
{
    pside *ps = ctx;
    pair *p = ps->p;
    if (p->nq == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 4096;
        p->q = realloc(p->q, p->cap * sizeof *p->q);
        ck_assert_ptr_nonnull(p->q);
    }
    qpkt *k = malloc(sizeof *k + len);
    ck_assert_ptr_nonnull(k);
    k->to = 1 - ps->me;
    k->len = len;
    memcpy(k->data, pkt, len);
    p->q[p->nq++] = k;
}

static void pair_new(pair *p)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < 2; i++) {
        ts_stack_config cfg;
        ts_stack_config_init(&cfg);
        cfg.addr = i ? H_ADDR_B : H_ADDR_A;
        cfg.seed = 7 + (uint64_t)i;
        psides[i] = (pside){p, i};
        cfg.output = pair_out;
        cfg.output_ctx = &psides[i];
        p->st[i] = ts_stack_create(&cfg, NULL, 0);
        ck_assert_ptr_nonnull(p->st[i]);
    }
}

/* Deliver what is queued (no delay), and what that sends, until the wire is quiet; then
 * run the timers due up to t the same way. */
static void pair_run(pair *p, ts_time_t t)
{
    for (;;) {
        while (p->nq) {
            size_t n = p->nq;
            qpkt **batch = malloc(n * sizeof *batch);
            ck_assert_ptr_nonnull(batch);
            memcpy(batch, p->q, n * sizeof *batch);
            p->nq = 0;
            for (size_t i = 0; i < n; i++) {
                ts_stack_input(p->st[batch[i]->to], p->now, batch[i]->data, batch[i]->len);
                free(batch[i]);
            }
            free(batch);
        }
        ts_time_t next = ts_stack_next_deadline(p->st[0]);
        ts_time_t nb = ts_stack_next_deadline(p->st[1]);
        if (nb < next) next = nb;
        if (next > t) break;
        if (next > p->now) p->now = next;
        ts_stack_poll(p->st[0], p->now);
        ts_stack_poll(p->st[1], p->now);
    }
    p->now = t;
}

static void pair_free(pair *p)
{
    for (size_t i = 0; i < p->nq; i++) free(p->q[i]);
    free(p->q);
    ts_stack_destroy(p->st[0]);
    ts_stack_destroy(p->st[1]);
}

#define NCONN 10000
#define NBUSY 1000 /* of them, those that exchange five bytes each way */

START_TEST(ten_thousand_idle_connections)
{
    static int csd[NCONN], ssd[NCONN];
    pair p;
    pair_new(&p);
    ts_stack *a = p.st[0], *b = p.st[1];
    int lsd = ts_socket(b);
    ck_assert_int_eq(ts_bind(b, lsd, 0, PORT), 0);
    ck_assert_int_eq(ts_listen(b, lsd, 1024), 0);
    int accepted = 0;
    for (int i = 0; i < NCONN; i += 100) { /* a hundred at a time: within the SYN queue */
        for (int j = i; j < i + 100; j++) {
            csd[j] = ts_socket(a);
            ck_assert_int_ge(csd[j], 0);
            ck_assert_int_eq(ts_connect(a, csd[j], H_ADDR_B, PORT), -EINPROGRESS);
        }
        pair_run(&p, p.now + TS_MSEC);
        for (int sd; (sd = ts_accept(b, lsd, NULL)) >= 0;) ssd[accepted++] = sd;
    }
    ck_assert_int_eq(accepted, NCONN);
    pair_run(&p, p.now + 10 * TS_SEC);
    const ts_counters *ka = ts_stack_counters(a), *kb = ts_stack_counters(b);
    ck_assert_uint_eq(ka->conns_by_state[TS_ESTABLISHED], NCONN);
    ck_assert_uint_eq(kb->conns_by_state[TS_ESTABLISHED], NCONN);
    ck_assert_uint_eq(ka->tcp_syncookies_sent + kb->tcp_syncookies_sent, 0);
    /* idle: no ring anywhere, the blocks are the connections (and B's listener) */
    ck_assert_uint_eq(ka->mem_rings + kb->mem_rings, 0);
    ck_assert_uint_eq(ka->mem_ring_bytes + kb->mem_ring_bytes, 0);
    ck_assert_uint_eq(ka->mem_conn_bytes, NCONN * CONN);
    ck_assert_uint_eq(kb->mem_conn_bytes, (NCONN + 1) * CONN);
    /* per idle connection: its blocks, malloc's chunk header (glibc: 8 bytes, 16-byte
     * aligned) and its socket slot */
    uint64_t per = (ka->mem_conn_bytes + ka->mem_ring_bytes) / NCONN + 16 + sizeof(ts_sock);
    printf("mem: %d idle connections: %llu B of blocks, %llu B of rings; %llu B each with "
           "malloc's header and the socket slot (sizeof ts_conn %zu)\n",
           NCONN, (unsigned long long)ka->mem_conn_bytes, (unsigned long long)ka->mem_ring_bytes,
           (unsigned long long)per, sizeof(ts_conn));
    ck_assert_uint_le(per, IDLE_BOUND);
    /* five bytes each way on some: a page per direction per side on those, no more */
    for (int i = 0; i < NBUSY; i++) ck_assert_int_eq(ts_send(a, csd[i], "ping!", 5), 5);
    pair_run(&p, p.now + TS_MSEC);
    char buf[16];
    for (int i = 0; i < NBUSY; i++) {
        ck_assert_int_eq(ts_recv(b, ssd[i], buf, sizeof buf), 5);
        ck_assert_int_eq(ts_send(b, ssd[i], buf, 5), 5);
    }
    pair_run(&p, p.now + TS_SEC);
    for (int i = 0; i < NBUSY; i++) {
        ck_assert_int_eq(ts_recv(a, csd[i], buf, sizeof buf), 5);
        ck_assert_int_eq(memcmp(buf, "ping!", 5), 0);
    }
    for (int s = 0; s < 2; s++) {
        const ts_counters *k = s ? kb : ka;
        ck_assert_uint_eq(k->mem_rings, 2 * NBUSY);
        ck_assert_uint_eq(k->mem_ring_bytes, 2 * NBUSY * RING);
        ck_assert_uint_eq(k->mem_ring_peak, 2 * NBUSY * RING);
    }
    /* A closes all; B closes each as its FIN comes: every ring goes */
    for (int i = 0; i < NCONN; i++) ck_assert_int_eq(ts_close(a, csd[i]), 0);
    ck_assert_uint_eq(ka->mem_rings, 0);
    pair_run(&p, p.now + TS_MSEC);
    ck_assert_uint_eq(kb->conns_by_state[TS_CLOSE_WAIT], NCONN);
    ck_assert_uint_eq(kb->mem_rings, NBUSY); /* the send rings: CLOSE-WAIT may still send */
    for (int i = 0; i < NCONN; i++) ck_assert_int_eq(ts_close(b, ssd[i]), 0);
    pair_run(&p, p.now + TS_SEC);
    ck_assert_uint_eq(ka->conns_by_state[TS_TIME_WAIT], NCONN);
    ck_assert_uint_eq(ka->mem_rings + kb->mem_rings, 0);
    ck_assert_uint_eq(ka->mem_ring_bytes + kb->mem_ring_bytes, 0);
    ck_assert_uint_eq(kb->mem_conn_bytes, CONN); /* the listener */
    pair_run(&p, p.now + 61 * TS_SEC);
    ck_assert_uint_eq(ka->mem_conn_bytes, 0);
    ck_assert_int_eq(ts_close(b, lsd), 0);
    ck_assert_uint_eq(kb->mem_conn_bytes, 0);
    pair_free(&p);
}
END_TEST

/* ---- the cap ---- */

#define TOTAL 400000

/* A 400 KB transfer with 10 ms RTT: virtual time until B has it all (and its EOF). */
static ts_time_t timed_transfer(const char *mem_max, harness **hp, h_conn *x)
{
    ts_params p;
    params_with(&p, mem_max ? "mem_max" : NULL, mem_max);
    h_bulk_open(x, &(h_conn_opts){.pa = &p, .pb = &p, .delay = D, .port = PORT}, NULL, TOTAL);
    *hp = x->h;
    h_run_until(x->h, x->t0 + 60 * TS_SEC);
    ck_assert_uint_eq(x->sb.rx_len, TOTAL);
    ck_assert_uint_eq(h_app_check(&x->sb), TOTAL);
    ck_assert(x->sb.eof);
    return x->sb.eof_at - x->t0;
}

/* mem_max=16 (KiB) on both stacks: the sender's ring stops at 16 KB (send() takes less),
 * the receiver offers no more than its ring may hold: the transfer is whole, slower. */
START_TEST(cap_bites_transfer_completes_slower)
{
    harness *h;
    h_conn free_x, cap_x;
    ts_time_t t_free = timed_transfer(NULL, &h, &free_x);
    ck_assert_uint_eq(cnt(h, H_A)->mem_cap_hits + cnt(h, H_B)->mem_cap_hits, 0);
    ck_assert_uint_gt(cnt(h, H_A)->mem_ring_peak, 16384);
    h_conn_free(&free_x);
    ts_time_t t_cap = timed_transfer("16", &h, &cap_x);
    const ts_counters *ka = cnt(h, H_A), *kb = cnt(h, H_B);
    printf("mem: 400 KB, 10 ms RTT: %.1f ms without a cap, %.1f ms with mem_max=16 (KiB); cap "
           "hits: sender %llu, receiver %llu\n",
           t_free / 1000.0, t_cap / 1000.0, (unsigned long long)ka->mem_cap_hits,
           (unsigned long long)kb->mem_cap_hits);
    ck_assert_uint_gt(ka->mem_cap_hits, 0);
    ck_assert_uint_gt(kb->mem_cap_hits, 0);
    ck_assert_uint_le(ka->mem_ring_peak, 16384);
    ck_assert_uint_le(kb->mem_ring_peak, 16384);
    ck_assert_uint_eq(ka->mem_alloc_failed + kb->mem_alloc_failed, 0);
    ck_assert_int_gt(t_cap, 2 * t_free);
    h_conn_free(&cap_x);
}
END_TEST

/* Below a page the cap still leaves each ring its first page. B does not read for 300 ms
 * while A's first flight fills the 64 KB its SYN-ACK offered: B holds the first 4 KB and
 * drops the rest (not held, counted), A sends it again, and everything arrives once B
 * reads. */
START_TEST(data_the_receiver_cannot_hold_is_sent_again)
{
    ts_params pb;
    params_with(&pb, "mem_max", "1");
    h_conn x;
    h_conn_open(&x, &(h_conn_opts){.pb = &pb, .delay = D, .port = PORT});
    harness *h = x.h;
    x.sb.auto_read = false;
    h_bulk_start(&x, NULL, 100 * 1000);
    h_run_until(h, h->now + 300 * TS_MSEC);
    const ts_counters *kb = cnt(h, H_B);
    ck_assert_uint_eq(info(h, H_B, x.sb.sd).rcv_queued, RING); /* held: one page exactly */
    ck_assert_uint_eq(kb->mem_ring_peak, RING);
    ck_assert_uint_gt(kb->drops[TS_DROP_TCP_NO_MEMORY], 0);
    ck_assert_uint_gt(kb->mem_cap_hits, 0);
    ck_assert_uint_gt(cnt(h, H_A)->tcp_retransmits, 0);
    x.sb.auto_read = true;
    uint8_t *rx = malloc(1 << 20);
    ck_assert_ptr_nonnull(rx);
    free(x.sb.rx);
    x.sb.rx = rx, x.sb.rx_cap = 1 << 20;
    ssize_t n = ts_recv(h->st[H_B], x.sb.sd, rx, 1 << 16);
    ck_assert_int_eq(n, (ssize_t)RING);
    x.sb.rx_len = (size_t)n;
    h_run_until(h, h->now + 120 * TS_SEC);
    ck_assert_uint_eq(x.sb.rx_len, 100 * 1000);
    ck_assert_uint_eq(h_app_check(&x.sb), 100 * 1000);
    ck_assert(x.sb.eof);
    ck_assert_uint_eq(kb->mem_ring_peak, RING);
    h_conn_free(&x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mem");
    TCase *tc = tcase_create("mem");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, idle_connection_holds_no_ring);
    tcase_add_test(tc, rings_follow_the_data_and_go_at_close);
    tcase_add_test(tc, unread_bytes_keep_their_ring_until_read);
    tcase_add_test(tc, counters_return_to_zero);
    tcase_add_test(tc, side_blocks_only_when_used);
    tcase_add_test(tc, recovery_blocks_only_after_a_loss);
    tcase_add_test(tc, parameters_shared_until_set);
    tcase_add_test(tc, ten_thousand_idle_connections);
    tcase_add_test(tc, cap_bites_transfer_completes_slower);
    tcase_add_test(tc, data_the_receiver_cannot_hold_is_sent_again);
    suite_add_tcase(s, tc);
    return h_run_suite(s);
}
