/* test_tcp_tw.c: TIME-WAIT in a small block (stack/tcp_tw.c). An orphan that enters
 * TIME-WAIT gives up its ts_conn for a block of a few hundred bytes; it must behave to the
 * bit as the whole connection did. The proof here is differential: the same connection
 * closed (orphan: the block) and only shut down (the socket stays open: the whole
 * ts_conn, the general path) is fed the same segments, and the two stacks must send the
 * same bytes at the same times and emit the same events with the same snapshots
 * (ts_stack_conn_info at each). Then: the block's size and counters, FIN retransmission
 * and 2MSL restarted to the microsecond, expiry (TIME_WAIT -> CLOSED, then CONN_FREE), an
 * exact RST, a new SYN on the 4-tuple, the ephemeral port it still holds, and 10,000
 * blocks: their bytes, the hash's chains (lookup O(1)) and the heap (expiry O(log n)). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

#define PORT 6379
#define D    (2 * TS_MSEC)

/* ---- the connection in TIME-WAIT, either way ---- */

static bool drop_from_a(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h, (void)p, (void)idx;
    return from == H_A; /* B has forgotten the connection: its RSTs would end TIME-WAIT */
}

typedef struct tw_case {
    h_conn x;
    harness *h;
    ts_stack *a;
    h_rec r;
    uint32_t rcv_nxt, snd_nxt, bts; /* A's RCV.NXT and SND.NXT, B's last TSval */
    size_t fin;                     /* B's FIN in the log */
} tw_case;

/* A connects to B and closes first (orphan) or only shuts its write side; B closes on EOF.
 * Returns with A in TIME-WAIT, A's answers dropped, A's events recorded from here on. */
static void tw_open_with(tw_case *t, bool orphan, const h_conn_opts *opts)
{
    memset(t, 0, sizeof *t);
    h_conn_open(&t->x, opts);
    t->h = t->x.h;
    t->a = t->h->st[H_A];
    t->x.sb.close_on_eof = true;
    if (orphan)
        ck_assert_int_eq(ts_close(t->a, t->x.ca.sd), 0);
    else
        ck_assert_int_eq(ts_shutdown(t->a, t->x.ca.sd, TS_SHUT_WR), 0);
    h_run_until(t->h, t->h->now + TS_SEC);
    ck_assert_uint_eq(ts_stack_counters(t->a)->conns_by_state[TS_TIME_WAIT], 1);
    t->h->drop = drop_from_a;
    for (size_t i = 0; i < h_nlog(t->h); i++)
        if (t->h->log[i].from == H_B && (t->h->log[i].flags & TS_TH_FIN)) t->fin = i;
    const h_pkt *f = &t->h->log[t->fin];
    ck_assert(f->flags & TS_TH_FIN);
    t->rcv_nxt = f->seq + f->plen + 1;
    t->snd_nxt = f->ack;
    ts_ip4_view ip;
    ts_tcp_view tv;
    ts_tcp_opts o;
    ck_assert_int_eq(ts_ip4_view_parse(&ip, f->data, f->len), TS_WIRE_OK);
    ck_assert_int_eq(ts_tcp_view_parse(&tv, ip.payload, ip.payload_len), TS_WIRE_OK);
    ck_assert_int_eq(ts_tcp_view_opts(&tv, &o), TS_WIRE_OK);
    ck_assert(o.has_ts);
    t->bts = o.tsval;
    t->r.s = t->a;
    ts_stack_set_event_fn(t->a, h_rec_cb, &t->r);
}

static void tw_open(tw_case *t, bool orphan)
{
    tw_open_with(t, orphan, &(h_conn_opts){.delay = D, .port = PORT});
}

static void tw_close(tw_case *t)
{
    ts_stack_set_event_fn(t->a, NULL, NULL); /* the teardown's events are not recorded */
    h_conn_free(&t->x);
    free(t->r.ev);
}

/* A segment from B's side of the 4-tuple into A, now; ts: with a timestamp (tsval). */
typedef struct seg {
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    bool ts;
    uint32_t tsval;
    bool dsack;
    uint32_t ds_start, ds_end;
    size_t dlen;
} seg;

static void inject(tw_case *t, const seg *g)
{
    uint8_t opt[24], data[16] = "0123456789abcdef", pkt[1600];
    size_t ol = 0;
    if (g->ts) {
        opt[ol++] = 1, opt[ol++] = 1, opt[ol++] = 8, opt[ol++] = 10;
        wr32(opt + ol, g->tsval), wr32(opt + ol + 4, 0), ol += 8;
    }
    if (g->dsack) {
        opt[ol++] = 1, opt[ol++] = 1, opt[ol++] = 5, opt[ol++] = 10;
        wr32(opt + ol, g->ds_start), wr32(opt + ol + 4, g->ds_end), ol += 8;
    }
    const h_pkt *f = &t->h->log[t->fin];
    h_seg s = {.src = H_ADDR_B,
               .dst = H_ADDR_A,
               .sport = (uint16_t)rd16(f->data + TS_IP4_HLEN),
               .dport = (uint16_t)rd16(f->data + TS_IP4_HLEN + 2),
               .seq = g->seq,
               .ack = g->ack,
               .flags = g->flags,
               .win = g->win ? g->win : 500,
               .opt = ol ? opt : NULL,
               .optlen = ol,
               .data = g->dlen ? data : NULL,
               .dlen = g->dlen};
    h_inject(t->h, H_A, pkt, h_build(pkt, &s));
}

static void replay_fin(tw_case *t)
{
    h_inject(t->h, H_A, t->h->log[t->fin].data, t->h->log[t->fin].len);
}

/* Every kind of segment TIME-WAIT meets, spaced so that invalid_ratelimit both lets
 * replies through and holds them back. */
static void script(tw_case *t)
{
    ts_time_t t0 = t->h->now;
    uint32_t r = t->rcv_nxt, n = t->snd_nxt, ts = t->bts;
    const seg s[] = {
        {0}, /* 0: B's FIN again (replayed) */
        {.seq = r, .ack = n, .flags = TS_TH_ACK, .win = 1000, .ts = true, .tsval = ts + 1},
        {.seq = r,
         .ack = n,
         .flags = TS_TH_ACK,
         .ts = true,
         .tsval = ts + 2,
         .dsack = true,
         .ds_start = n - 10,
         .ds_end = n - 5},
        {.seq = r + 5, .flags = TS_TH_SYN, .ts = true, .tsval = ts + 3}, /* a new SYN */
        {.seq = r + 10000000, .flags = TS_TH_SYN, .ts = true, .tsval = ts + 4},
        {.seq = r, .ack = n, .flags = TS_TH_ACK, .ts = true, .tsval = ts - 1000}, /* PAWS */
        {.seq = r, .ack = n + 1000, .flags = TS_TH_ACK, .ts = true, .tsval = ts + 5},
        {.seq = r, .ack = n - 2000000, .flags = TS_TH_ACK, .ts = true, .tsval = ts + 6},
        {.seq = r,
         .ack = n,
         .flags = TS_TH_ACK | TS_TH_PSH,
         .ts = true,
         .tsval = ts + 7,
         .dlen = 10},
        {.seq = r - 100, .ack = n, .flags = TS_TH_ACK, .ts = true, .tsval = ts + 8, .dlen = 10},
        {.seq = r + 10000000, .flags = TS_TH_RST},
        {.seq = r + 5, .flags = TS_TH_RST}, /* in the window, not exact: RFC 5961 */
        {.seq = r, .flags = 0, .ts = true, .tsval = ts + 9}, /* no ACK */
        {.seq = r, .ack = n, .flags = TS_TH_ACK, .ts = true, .tsval = ts + 10},
        {.seq = r - 1, .ack = n, .flags = TS_TH_ACK | TS_TH_FIN, .ts = true, .tsval = ts + 11},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        h_run_until(t->h, t0 + (ts_time_t)i * 300 * TS_MSEC + 7);
        if (i == 0)
            replay_fin(t);
        else
            inject(t, &s[i]);
    }
    h_run_until(t->h, t0 + 30 * TS_SEC);
    replay_fin(t); /* late: 2MSL starts over */
    h_run_until(t->h, t0 + 200 * TS_SEC);
}

static void expect_same(const h_rec *a, const h_rec *b)
{
    size_t na = 0, nb = 0;
    for (;; na++, nb++) {
        while (na < a->n && a->ev[na].type == TS_EV_CONN_FREE) na++; /* the orphan's only */
        while (nb < b->n && b->ev[nb].type == TS_EV_CONN_FREE) nb++;
        if (na == a->n || nb == b->n) break;
        const h_rec_ev *x = &a->ev[na], *y = &b->ev[nb];
        ck_assert_msg(x->type == y->type && x->now == y->now && x->id == y->id &&
                          x->kind == y->kind && x->when == y->when && x->from == y->from &&
                          x->to == y->to,
                      "event %zu differs: type %d/%d at %lld/%lld", na, x->type, y->type,
                      (long long)x->now, (long long)y->now);
        ck_assert_uint_eq(x->plen, y->plen);
        ck_assert_int_eq(memcmp(x->pkt, y->pkt, sizeof x->pkt), 0);
        ck_assert_int_eq(x->has_info, y->has_info);
        ck_assert_msg(!memcmp(&x->info, &y->info, sizeof x->info), "snapshot %zu differs", na);
    }
    ck_assert_uint_eq(na, a->n);
    ck_assert_uint_eq(nb, b->n);
}

static size_t count(const h_rec *r, ts_event_type type)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) k += r->ev[i].type == type;
    return k;
}

START_TEST(block_answers_as_the_whole_connection)
{
    tw_case o, f;
    tw_open(&o, true);
    tw_open(&f, false);
    ck_assert_uint_eq(ts_stack_counters(o.a)->tw_blocks, 1);
    ck_assert_uint_eq(ts_stack_counters(f.a)->tw_blocks, 0); /* the socket is open */
    script(&o);
    script(&f);
    expect_same(&o.r, &f.r);
    /* the script reached every branch: ACKs, challenge ACKs, drops of each reason */
    const ts_counters *k = ts_stack_counters(o.a);
    ck_assert_uint_ge(count(&o.r, TS_EV_SEG_OUT), 5);
    ck_assert_uint_ge(k->tcp_challenge_acks, 1);
    ck_assert_uint_ge(k->tcp_oow_ratelimited, 1);
    ck_assert_uint_ge(k->tcp_dsack_in, 1);
    ck_assert_uint_ge(k->drops[TS_DROP_TCP_PAWS], 1);
    ck_assert_uint_ge(k->drops[TS_DROP_TCP_BAD_ACK], 2);
    ck_assert_uint_ge(k->drops[TS_DROP_TCP_RST_INVALID], 1);
    ck_assert_uint_ge(k->drops[TS_DROP_TCP_FLAGS], 1);
    const ts_counters *l = ts_stack_counters(f.a);
    ck_assert_uint_eq(k->tcp_out, l->tcp_out);
    ck_assert_uint_eq(k->tcp_challenge_acks, l->tcp_challenge_acks);
    ck_assert_uint_eq(k->tcp_oow_ratelimited, l->tcp_oow_ratelimited);
    ck_assert_uint_eq(k->tcp_dsack_in, l->tcp_dsack_in);
    ck_assert_int_eq(memcmp(k->drops, l->drops, sizeof k->drops), 0);
    /* both closed at the same instant; only the orphan's block is freed */
    ck_assert_uint_eq(count(&o.r, TS_EV_CONN_FREE), 1);
    ck_assert_uint_eq(k->tw_blocks, 0);
    ck_assert_uint_eq(k->tw_bytes, 0);
    tw_close(&o);
    tw_close(&f);
}
END_TEST

START_TEST(block_rst_as_the_whole_connection)
{
    tw_case o, f;
    tw_open(&o, true);
    tw_open(&f, false);
    seg g = {.seq = o.rcv_nxt, .flags = TS_TH_RST};
    h_run_until(o.h, o.h->now + 5 * TS_MSEC);
    h_run_until(f.h, f.h->now + 5 * TS_MSEC);
    inject(&o, &g);
    inject(&f, &g);
    expect_same(&o.r, &f.r);
    /* quietly: the 2MSL timer cancelled, CLOSED, no segment; the block freed */
    ck_assert_uint_eq(count(&o.r, TS_EV_TIMER_CANCEL), 1);
    ck_assert_uint_eq(count(&o.r, TS_EV_SEG_OUT), 0);
    ck_assert_uint_eq(count(&o.r, TS_EV_CONN_FREE), 1);
    ck_assert_uint_eq(ts_stack_counters(o.a)->tcp_rst_in, ts_stack_counters(f.a)->tcp_rst_in);
    ck_assert_uint_eq(ts_stack_counters(o.a)->tw_blocks, 0);
    ck_assert_uint_eq(ts_stack_counters(o.a)->conns_by_state[TS_TIME_WAIT], 0);
    ck_assert_uint_eq(ts_stack_next_deadline(o.a), TS_TIME_NEVER);
    tw_close(&o);
    tw_close(&f);
}
END_TEST

START_TEST(block_dsack_undo_as_the_whole_connection)
{
    /* A's data lost a segment: its retransmission leaves the undo record armed into
     * TIME-WAIT, where a D-SACK of it still undoes the episode (RFC 3708) */
    static const int lost[] = {3};
    h_drop_plan plan = {.segs = lost, .nsegs = 1};
    h_conn_opts opts = {.delay = D, .port = PORT, .a_send = 40000, .plan = &plan};
    tw_case o, f;
    tw_open_with(&o, true, &opts);
    tw_open_with(&f, false, &opts);
    ts_tcp_info i;
    ck_assert_uint_eq(ts_stack_conns(o.a, &i, 1), 1);
    ts_tw *tw = ts_tw_find(o.a, i.local.port, H_ADDR_B, PORT);
    ck_assert_ptr_nonnull(tw);
    ck_assert(tw->undo_armed);
    ck_assert_uint_ge(i.retransmits, 1);
    uint32_t s3 = o.x.base + 3 * o.x.mss;
    seg g = {.seq = o.rcv_nxt,
             .ack = o.snd_nxt,
             .flags = TS_TH_ACK,
             .ts = true,
             .tsval = o.bts + 1,
             .dsack = true,
             .ds_start = s3,
             .ds_end = s3 + o.x.mss};
    h_run_until(o.h, o.h->now + 5 * TS_MSEC);
    h_run_until(f.h, f.h->now + 5 * TS_MSEC);
    inject(&o, &g);
    inject(&f, &g);
    h_run_until(o.h, o.h->now + 100 * TS_SEC);
    h_run_until(f.h, f.h->now + 100 * TS_SEC);
    expect_same(&o.r, &f.r);
    ck_assert_uint_eq(count(&o.r, TS_EV_UNDO), 1);
    ck_assert_uint_eq(ts_stack_counters(o.a)->tcp_dsack_undo, 1);
    ck_assert_uint_eq(ts_stack_counters(f.a)->tcp_dsack_undo, 1);
    tw_close(&o);
    tw_close(&f);
}
END_TEST

START_TEST(block_is_small_and_counted)
{
    tw_case o;
    tw_open(&o, true);
    const ts_counters *k = ts_stack_counters(o.a);
    ck_assert_uint_eq(k->tw_blocks, 1);
    ck_assert_uint_eq(k->tw_bytes, sizeof(ts_tw));
    ck_assert_uint_le(sizeof(ts_tw), 320);
    fprintf(stderr, "test_tcp_tw: a TIME-WAIT block is %zu bytes (a ts_conn %zu)\n", sizeof(ts_tw),
            sizeof(ts_conn));
    /* the snapshot still answers, as TIME_WAIT with the connection's id */
    ts_tcp_info all[4];
    ck_assert_uint_eq(ts_stack_conns(o.a, all, 4), 1);
    ck_assert_int_eq(all[0].state, TS_TIME_WAIT);
    ts_tcp_info one;
    ck_assert_int_eq(ts_stack_conn_info(o.a, all[0].conn_id, &one), 0);
    ck_assert_int_eq(memcmp(&one, &all[0], sizeof one), 0);
    ck_assert_uint_eq(one.rcv_nxt, o.rcv_nxt);
    ck_assert_uint_eq(one.snd_nxt, o.snd_nxt);
    /* the 4-tuple is the block's, not the connection table's */
    uint16_t lport = one.local.port;
    ck_assert_ptr_null(ts_conn_lookup(o.a, lport, H_ADDR_B, PORT));
    ck_assert_ptr_nonnull(ts_tw_find(o.a, lport, H_ADDR_B, PORT));
    ck_assert(ts_tuple_in_use(o.a, lport, H_ADDR_B, PORT));
    tw_close(&o);
}
END_TEST

START_TEST(fin_again_is_acked_and_2msl_restarts_to_the_us)
{
    tw_case o;
    tw_open(&o, true);
    ts_time_t t1 = o.h->now + 12345 * TS_MSEC + 678;
    h_run_until(o.h, t1);
    size_t n0 = h_nlog(o.h);
    replay_fin(&o);
    ck_assert_uint_eq(h_nlog(o.h), n0 + 1); /* the ACK, at once */
    ck_assert_uint_eq(o.h->log[n0].t, t1);
    ck_assert_uint_eq(o.h->log[n0].flags, TS_TH_ACK);
    ck_assert_uint_eq(o.h->log[n0].ack, o.rcv_nxt);
    ck_assert_uint_eq(o.h->log[n0].seq, o.snd_nxt);
    ck_assert_uint_eq(ts_stack_next_deadline(o.a), t1 + 60 * TS_SEC);
    h_run_until(o.h, t1 + 60 * TS_SEC - 1);
    ck_assert_uint_eq(ts_stack_counters(o.a)->tw_blocks, 1);
    ck_assert_uint_eq(count(&o.r, TS_EV_STATE), 0);
    h_run_until(o.h, t1 + 60 * TS_SEC);
    ck_assert_uint_eq(ts_stack_counters(o.a)->tw_blocks, 0);
    ck_assert_uint_eq(count(&o.r, TS_EV_STATE), 1);
    tw_close(&o);
}
END_TEST

START_TEST(expiry_emits_closed_and_frees)
{
    tw_case o;
    tw_open(&o, true);
    ts_tcp_info before;
    ck_assert_uint_eq(ts_stack_conns(o.a, &before, 1), 1);
    ts_time_t due = ts_stack_next_deadline(o.a);
    h_run_until(o.h, due + TS_SEC);
    /* TIMER_FIRE, STATE TIME_WAIT -> CLOSED, CONN_FREE: one id, the snapshot as CLOSED */
    ck_assert_uint_eq(o.r.n, 3);
    ck_assert_int_eq(o.r.ev[0].type, TS_EV_TIMER_FIRE);
    ck_assert_int_eq(o.r.ev[0].kind, TS_TIMER_TIME_WAIT);
    ck_assert_uint_eq(o.r.ev[0].now, due);
    ck_assert_int_eq(o.r.ev[1].type, TS_EV_STATE);
    ck_assert_int_eq(o.r.ev[1].from, TS_TIME_WAIT);
    ck_assert_int_eq(o.r.ev[1].to, TS_CLOSED);
    ck_assert_int_eq(o.r.ev[2].type, TS_EV_CONN_FREE);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(o.r.ev[i].id, before.conn_id);
        ck_assert(o.r.ev[i].has_info);
        ck_assert_uint_eq(o.r.ev[i].info.iss, before.iss);
        ck_assert_uint_eq(o.r.ev[i].info.timer[TS_TIMER_TIME_WAIT], TS_TIME_NEVER);
    }
    ck_assert_int_eq(o.r.ev[1].info.state, TS_CLOSED);
    const ts_counters *k = ts_stack_counters(o.a);
    ck_assert_uint_eq(k->tw_blocks, 0);
    ck_assert_uint_eq(k->tw_bytes, 0);
    ck_assert_uint_eq(k->mem_conn_bytes, 0); /* nothing held once the block is gone */
    ck_assert_uint_eq(k->conns_by_state[TS_TIME_WAIT], 0);
    ck_assert_uint_eq(k->conns_by_state[TS_CLOSED], 0);
    ck_assert_uint_eq(ts_stack_conns(o.a, NULL, 0), 0);
    ck_assert_int_eq(ts_stack_conn_info(o.a, before.conn_id, &before), -ENOENT);
    tw_close(&o);
}
END_TEST

START_TEST(new_syn_on_the_tuple_draws_a_challenge_ack)
{
    /* as the general path: RFC 5961 4.2, no reuse of the 4-tuple (nor does Linux take a
     * SYN whose timestamp does not advance; this one is in the window) */
    tw_case o;
    tw_open(&o, true);
    h_run_until(o.h, o.h->now + TS_SEC);
    size_t n0 = h_nlog(o.h);
    seg g = {.seq = o.rcv_nxt + 1000, .flags = TS_TH_SYN, .ts = true, .tsval = o.bts + 100};
    inject(&o, &g);
    ck_assert_uint_eq(h_nlog(o.h), n0 + 1);
    ck_assert_uint_eq(o.h->log[n0].flags, TS_TH_ACK);
    ck_assert_uint_eq(o.h->log[n0].ack, o.rcv_nxt);
    ck_assert_uint_eq(ts_stack_counters(o.a)->tcp_challenge_acks, 1);
    ck_assert_uint_eq(ts_stack_counters(o.a)->tw_blocks, 1);
    tw_close(&o);
}
END_TEST

/* ---- 10,000 blocks on one stack, a server that closes first ---- */

typedef struct srv {
    ts_stack *s;
    uint32_t seq;
    uint8_t flags;
} srv;

static void srv_out(void *ctx, const uint8_t *pkt, size_t len)
{
    srv *v = ctx;
    ts_ip4_view ip;
    ts_tcp_view t;
    ck_assert_int_eq(ts_ip4_view_parse(&ip, pkt, len), TS_WIRE_OK);
    ck_assert_int_eq(ts_tcp_view_parse(&t, ip.payload, ip.payload_len), TS_WIRE_OK);
    v->seq = t.seq;
    v->flags = t.flags;
}

static void srv_in(srv *v, ts_time_t now, uint16_t cport, uint32_t seq, uint32_t ack, uint8_t fl)
{
    uint8_t pkt[128];
    h_seg g = {.src = H_ADDR_A,
               .dst = H_ADDR_B,
               .sport = cport,
               .dport = 80,
               .seq = seq,
               .ack = ack,
               .flags = fl,
               .win = 65535};
    ts_stack_input(v->s, now, pkt, h_build(pkt, &g));
}

START_TEST(ten_thousand_blocks)
{
    enum { N = 10000 };
    srv v = {0};
    ts_stack_config cfg;
    ts_stack_config_init(&cfg);
    cfg.addr = H_ADDR_B;
    cfg.output = srv_out;
    cfg.output_ctx = &v;
    v.s = ts_stack_create(&cfg, NULL, 0);
    ck_assert_ptr_nonnull(v.s);
    int lsd = ts_socket(v.s);
    ck_assert_int_eq(ts_bind(v.s, lsd, 0, 80), 0);
    ck_assert_int_eq(ts_listen(v.s, lsd, 16), 0);
    ts_time_t now = TS_SEC;
    for (uint32_t i = 0; i < N; i++) {
        uint16_t cport = (uint16_t)(1024 + i);
        now += 3; /* a different deadline for each, in order */
        srv_in(&v, now, cport, 1000, 0, TS_TH_SYN);
        ck_assert_uint_eq(v.flags, TS_TH_SYN | TS_TH_ACK);
        uint32_t iss = v.seq;
        srv_in(&v, now, cport, 1001, iss + 1, TS_TH_ACK);
        int sd = ts_accept(v.s, lsd, NULL);
        ck_assert_int_ge(sd, 0);
        ck_assert_int_eq(ts_close(v.s, sd), 0); /* the server closes first: FIN */
        ck_assert(v.flags & TS_TH_FIN);
        srv_in(&v, now, cport, 1001, iss + 2, TS_TH_ACK | TS_TH_FIN);
        ck_assert_uint_eq(v.flags, TS_TH_ACK);
    }
    const ts_counters *k = ts_stack_counters(v.s);
    ck_assert_uint_eq(k->conns_by_state[TS_TIME_WAIT], N);
    ck_assert_uint_eq(k->tw_blocks, N);
    /* their memory: N blocks, against N whole connections before */
    ck_assert_uint_eq(k->tw_bytes, N * sizeof(ts_tw));
    ck_assert_uint_le(k->tw_bytes, (uint64_t)N * 320);
    /* and all the stack's connection memory (mem.c): the blocks, the listener, no ring */
    size_t listener = sizeof(ts_conn);
    ck_assert_uint_eq(k->mem_conn_bytes, N * sizeof(ts_tw) + listener);
    ck_assert_uint_eq(k->mem_rings, 0);
    fprintf(stderr, "test_tcp_tw: %d TIME-WAIT connections hold %llu bytes (were %zu)\n", N,
            (unsigned long long)k->tw_bytes, (size_t)N * sizeof(ts_conn));
    /* lookup is one hash bucket: short chains, a table as large as the population */
    ck_assert_uint_ge(v.s->tw_hmask + 1, N);
    uint32_t longest = 0;
    for (uint32_t b = 0; b <= v.s->tw_hmask; b++) {
        uint32_t n = 0;
        for (ts_tw *t = v.s->tw_htab[b]; t; t = t->hnext) n++;
        if (n > longest) longest = n;
    }
    ck_assert_uint_le(longest, 8);
    for (uint32_t i = 0; i < N; i += 997)
        ck_assert_ptr_nonnull(ts_tw_find(v.s, 80, H_ADDR_A, (uint16_t)(1024 + i)));
    /* expiry: a binary heap of deadlines, the earliest on top */
    ck_assert_uint_eq(v.s->tw_heap.n, N);
    for (uint32_t i = 1; i < v.s->tw_heap.n; i++)
        ck_assert_int_le(v.s->tw_heap.a[(i - 1) / 2]->deadline, v.s->tw_heap.a[i]->deadline);
    ck_assert_uint_eq(ts_stack_next_deadline(v.s), TS_SEC + 3 + 60 * TS_SEC);
    ts_stack_poll(v.s, TS_SEC + 3 * (N / 2) + 60 * TS_SEC);
    ck_assert_uint_eq(k->tw_blocks, N - N / 2);
    ts_stack_poll(v.s, now + 60 * TS_SEC);
    ck_assert_uint_eq(k->tw_blocks, 0);
    ck_assert_uint_eq(k->tw_bytes, 0);
    ck_assert_uint_eq(k->mem_conn_bytes, listener);
    ck_assert_uint_eq(k->conns_by_state[TS_TIME_WAIT], 0);
    ck_assert_uint_eq(ts_stack_conns(v.s, NULL, 0), 1); /* the listener */
    ts_stack_destroy(v.s);
}
END_TEST

START_TEST(tuple_in_time_wait_stays_in_use)
{
    /* connect() to the same peer from the block's port is refused, as before */
    tw_case o;
    tw_open(&o, true);
    ts_tcp_info i;
    ck_assert_uint_eq(ts_stack_conns(o.a, &i, 1), 1);
    int sd = ts_socket(o.a);
    ck_assert_int_eq(ts_bind(o.a, sd, 0, i.local.port), 0);
    ck_assert_int_eq(ts_connect(o.a, sd, H_ADDR_B, PORT), -EADDRINUSE);
    ts_close(o.a, sd);
    tw_close(&o);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tcp_tw");
    TCase *t = tcase_create("time_wait_block");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, block_answers_as_the_whole_connection);
    tcase_add_test(t, block_rst_as_the_whole_connection);
    tcase_add_test(t, block_dsack_undo_as_the_whole_connection);
    tcase_add_test(t, block_is_small_and_counted);
    tcase_add_test(t, fin_again_is_acked_and_2msl_restarts_to_the_us);
    tcase_add_test(t, expiry_emits_closed_and_frees);
    tcase_add_test(t, new_syn_on_the_tuple_draws_a_challenge_ack);
    tcase_add_test(t, ten_thousand_blocks);
    tcase_add_test(t, tuple_in_time_wait_stays_in_use);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
