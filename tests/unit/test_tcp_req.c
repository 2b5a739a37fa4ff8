/* test_tcp_req.c: a listener's SYN-RECEIVED children at rest in small blocks
 * (stack/tcp_req.c, Linux's request socks). A child waiting for the handshake's last ACK
 * gives up its ts_conn for a block of under 200 bytes and gets it back for any segment or
 * timer; nothing else may change. The proof is differential: one script of SYNs,
 * retransmitted SYNs, ACKs, RSTs, data, segments out of the window, silence (SYN-ACK
 * retransmissions until the retries run out) and a listener's close is played to two
 * stacks, one of which may not make blocks (their allocation refused through the fault
 * injection point); both must send the same bytes at the same microseconds, emit the
 * same events, and give the same snapshots (ts_stack_conn_info at each event, and
 * ts_stack_conns at each step). Then: the counters and bytes, the ss listing, 10,000
 * embryos, and memory running out when the child comes back (a segment: dropped; its
 * timer or the listener's close: the embryo ends). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

#define PORT  9000
#define FLOOD TS_IP4(10, 0, 0, 50) /* the peers' address: nobody answers there */

/* ---- B's side: its events (h_rec) and listings, its fault injection ---- */

typedef struct side {
    harness *h;
    ts_stack *b;
    int lsd;
    h_rec r;      /* B's events, with the snapshot at each */
    long refused; /* request blocks refused (the whole side) */
    bool refuse_req, refuse_conn;
    ts_tcp_info *ss; /* ts_stack_conns at each step, sorted by id */
    size_t nss, ss_cap;
    uint64_t blocks[16]; /* req_blocks at each step */
    int nsteps;
    bool list_on_free; /* list the connections at each CONN_FREE (teardown's order) */
} side;

/* h_rec_cb, and at a CONN_FREE what ts_stack_conns lists then (in kind), if asked. */
static void side_ev(void *ctx, const ts_event *ev)
{
    side *x = ctx;
    h_rec_cb(&x->r, ev);
    if (ev->type == TS_EV_CONN_FREE && x->list_on_free)
        x->r.ev[x->r.n - 1].kind = (int)ts_stack_conns(x->b, NULL, 0);
}

/* The fault injection point: a request block (or, when asked, a connection block). */
static bool refuse_fn(void *ctx, size_t size)
{
    side *x = ctx;
    bool no =
        (x->refuse_req && size == sizeof(ts_req)) || (x->refuse_conn && size == sizeof(ts_conn));
    x->refused += no;
    return no;
}

/* B's packets go nowhere: the peers are played by the script. */
static bool drop_all_b(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)h, (void)p, (void)idx;
    return from == H_B;
}

static void side_init(side *x, bool blocks, const ts_params *pb)
{
    memset(x, 0, sizeof *x);
    x->h = h_new(NULL, pb);
    x->h->delay = 5 * TS_MSEC;
    x->h->drop = drop_all_b;
    x->b = x->h->st[H_B];
    x->refuse_req = !blocks;
    x->b->mem_refuse = refuse_fn;
    x->b->mem_refuse_ctx = x;
    x->r.s = x->b;
    ts_stack_set_event_fn(x->b, side_ev, x);
    x->lsd = ts_socket(x->b);
    ck_assert_int_ge(x->lsd, 0);
    ck_assert_int_eq(ts_bind(x->b, x->lsd, 0, PORT), 0);
    ck_assert_int_eq(ts_listen(x->b, x->lsd, 64), 0);
}

/* The stacks go (their teardown's events are recorded), then what the side kept. */
static void side_destroy(side *x)
{
    h_free(x->h);
    x->h = NULL;
}

static void side_free(side *x)
{
    if (x->h) side_destroy(x);
    free(x->r.ev);
    free(x->ss);
}

static const ts_counters *cnt(const side *x)
{
    return ts_stack_counters(x->b);
}

/* A segment from FLOOD:sport to B's listener port, at the harness's time. */
static void peer(side *x, uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags,
                 const uint8_t *opt, size_t optlen, const char *data)
{
    h_seg g = {.src = FLOOD,
               .dst = H_ADDR_B,
               .sport = sport,
               .dport = PORT,
               .seq = seq,
               .ack = ack,
               .flags = flags,
               .win = flags & TS_TH_SYN ? 64240 : 502,
               .opt = opt,
               .optlen = optlen,
               .data = (const uint8_t *)data,
               .dlen = data ? strlen(data) : 0};
    h_inject_seg(x->h, H_B, &g);
}

/* MSS 1460, SACK permitted, timestamps (TSval tsv), window scale 7: Linux's SYN. */
static void syn_full(side *x, uint16_t sport, uint32_t seq, uint32_t tsv)
{
    uint8_t o[] = {2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7};
    o[8] = (uint8_t)(tsv >> 24), o[9] = (uint8_t)(tsv >> 16), o[10] = (uint8_t)(tsv >> 8);
    o[11] = (uint8_t)tsv;
    peer(x, sport, seq, 0, TS_TH_SYN, o, sizeof o, NULL);
}

static void syn_bare(side *x, uint16_t sport, uint32_t seq)
{
    peer(x, sport, seq, 0, TS_TH_SYN, NULL, 0, NULL);
}

/* The ISS B chose for sport: the first SYN-ACK it sent there. */
static uint32_t iss_of(const side *x, uint16_t sport)
{
    for (size_t i = 0; i < h_nlog(x->h); i++) {
        const h_pkt *p = &x->h->log[i];
        if (p->from == H_B && p->flags == (TS_TH_SYN | TS_TH_ACK) &&
            (uint16_t)(p->data[22] << 8 | p->data[23]) == sport)
            return p->seq;
    }
    ck_abort_msg("no SYN-ACK to port %u", sport);
    return 0;
}

static int by_id(const void *a, const void *b)
{
    const ts_tcp_info *x = a, *y = b;
    return (x->conn_id > y->conn_id) - (x->conn_id < y->conn_id);
}

/* Run to t, then keep what ts_stack_conns lists. */
static void step(side *x, ts_time_t t)
{
    h_run_until(x->h, t);
    size_t n = ts_stack_conns(x->b, NULL, 0);
    if (x->nss + n > x->ss_cap) {
        x->ss_cap = 2 * (x->nss + n);
        x->ss = realloc(x->ss, x->ss_cap * sizeof *x->ss);
        ck_assert_ptr_nonnull(x->ss);
    }
    ck_assert_uint_eq(ts_stack_conns(x->b, x->ss + x->nss, n), n);
    qsort(x->ss + x->nss, n, sizeof *x->ss, by_id);
    x->nss += n;
    ck_assert_int_lt(x->nsteps, 16);
    x->blocks[x->nsteps++] = ts_stack_counters(x->b)->req_blocks;
}

/* The script: five peers, each a way a handshake goes. */
static void script(side *x)
{
    const ts_time_t ms = TS_MSEC;
    syn_full(x, 1001, 5000, 77);  /* completes with data after a retransmitted SYN */
    syn_bare(x, 1002, 6000);      /* completes after B's SYN-ACK went again */
    syn_full(x, 1003, 7000, 900); /* reset */
    syn_full(x, 1004, 8000, 300); /* never answered: B gives up */
    step(x, 400 * ms);
    syn_full(x, 1001, 5000, 477); /* the SYN again: answered with the same SYN-ACK */
    step(x, 600 * ms);
    peer(x, 1003, 7000 + 1 + 100000, 0, TS_TH_RST, NULL, 0, NULL); /* out of the window */
    step(x, 700 * ms);
    peer(x, 1003, 7001, 0, TS_TH_RST, NULL, 0, NULL); /* exact: the embryo goes */
    step(x, 1500 * ms);                               /* SYN-ACKs retransmitted */
    uint32_t ack2 = iss_of(x, 1002) + 1;
    peer(x, 1002, 6001, ack2, TS_TH_ACK, NULL, 0, NULL);
    step(x, 1600 * ms);
    uint8_t ts[] = {1, 1, 8, 10, 0, 0, 2, 0, 0, 0, 0, 0};
    uint32_t ack1 = iss_of(x, 1001) + 1;
    peer(x, 1001, 5001, ack1 + 5, TS_TH_ACK, ts, sizeof ts, NULL); /* ACKs unsent data */
    step(x, 1700 * ms);
    peer(x, 1001, 5001, ack1, TS_TH_ACK | TS_TH_PSH, ts, sizeof ts, "hello");
    step(x, 1800 * ms);
    syn_full(x, 1005, 9000, 5);
    step(x, 2 * TS_SEC);
    step(x, 100 * TS_SEC);      /* 1004's and 1005's retries run out */
    syn_full(x, 1006, 9500, 6); /* ends with the listener */
    step(x, 101 * TS_SEC);
    ts_close(x->b, x->lsd);
    step(x, 102 * TS_SEC);
}

/* The same packets at the same microseconds. */
static void same_packets(const side *w, const side *k)
{
    ck_assert_uint_eq(h_nlog(k->h), h_nlog(w->h));
    for (size_t i = 0; i < h_nlog(k->h); i++) {
        const h_pkt *a = &w->h->log[i], *b = &k->h->log[i];
        ck_assert_msg(a->t == b->t && a->len == b->len && !memcmp(a->data, b->data, a->len),
                      "packet %zu: %s at %lld vs %s at %lld", i, a->line, (long long)a->t, b->line,
                      (long long)b->t);
    }
}

/* The same events (teardown's included) with the same snapshots, the same listings. */
static void same_events(const side *w, const side *k)
{
    ck_assert_uint_eq(k->r.n, w->r.n);
    for (size_t i = 0; i < k->r.n; i++) {
        const h_rec_ev *a = &w->r.ev[i], *b = &k->r.ev[i];
        ck_assert_msg(a->type == b->type && a->now == b->now && a->id == b->id &&
                          a->kind == b->kind && a->when == b->when && a->from == b->from &&
                          a->to == b->to && a->has_info == b->has_info && a->plen == b->plen,
                      "event %zu: type %d/%d vs %d/%d", i, (int)a->type, a->kind, (int)b->type,
                      b->kind);
        ck_assert_msg(!memcmp(&a->info, &b->info, sizeof a->info), "event %zu: snapshot", i);
        ck_assert_msg(!memcmp(a->pkt, b->pkt, sizeof a->pkt), "event %zu: packet", i);
    }
    ck_assert_uint_eq(k->nss, w->nss);
    ck_assert_mem_eq(k->ss, w->ss, k->nss * sizeof *k->ss);
}

START_TEST(blocks_change_nothing)
{
    side w, k;                  /* whole children; children kept in blocks */
    side_init(&w, false, NULL); /* one after the other: the harness has one pair of sides */
    script(&w);
    side_init(&k, true, NULL);
    script(&k);
    ck_assert_int_gt(w.refused, 0); /* the whole side did try to make blocks */
    ck_assert_int_eq(k.refused, 0);
    same_packets(&w, &k);
    /* and the script reached what it is for */
    ck_assert_uint_eq(cnt(&k)->tcp_conn_accepted, 2);
    ck_assert_uint_eq(cnt(&k)->req_bytes, 0);
    ck_assert_uint_eq(cnt(&k)->conns_by_state[TS_SYN_RECEIVED], 0);
    ck_assert_uint_eq(cnt(&k)->mem_conn_bytes, cnt(&w)->mem_conn_bytes);
    side_destroy(&w);
    side_destroy(&k);
    same_events(&w, &k);
    /* blocks after each step: the four embryos; 1001 again after its SYN came again, 1003
     * after a RST out of the window; 1003 reset; 1002 established; 1001 still after an ACK
     * of unsent data, then established; 1005; none after the retries ran out; 1006; none
     * once the listener closed */
    const uint64_t want[] = {4, 4, 4, 3, 2, 2, 1, 2, 0, 1, 0};
    ck_assert_int_eq(k.nsteps, 11);
    for (int i = 0; i < k.nsteps; i++) {
        ck_assert_msg(k.blocks[i] == want[i], "step %d: %llu blocks", i,
                      (unsigned long long)k.blocks[i]);
        ck_assert_uint_eq(w.blocks[i], 0);
    }
    side_free(&w);
    side_free(&k);
}
END_TEST

/* ts_stack_reset_all with embryos in blocks, an established child and a TIME-WAIT-free
 * table, then a new embryo left for the teardown: the same packets (each embryo's RST),
 * events and snapshots, and teardown's CONN_FREE for the embryo in its block, with a
 * listing of what is left at each (nothing freed is read: ASan). */
static void reset_script(side *x)
{
    x->list_on_free = true;
    syn_full(x, 1001, 5000, 77);
    syn_bare(x, 1002, 6000);
    syn_full(x, 1003, 7000, 9);
    step(x, 100 * TS_MSEC);
    peer(x, 1002, 6001, iss_of(x, 1002) + 1, TS_TH_ACK, NULL, 0, NULL);
    step(x, 200 * TS_MSEC);
    ck_assert_uint_eq(ts_stack_reset_all(x->b), 3);
    step(x, 300 * TS_MSEC);
    ck_assert_int_eq(ts_close(x->b, x->lsd), 0); /* reset too: listen again */
    x->lsd = ts_socket(x->b);
    ck_assert_int_eq(ts_bind(x->b, x->lsd, 0, PORT), 0);
    ck_assert_int_eq(ts_listen(x->b, x->lsd, 64), 0);
    syn_full(x, 1004, 8000, 5);
    syn_full(x, 1005, 8500, 6);
    step(x, 400 * TS_MSEC);
}

START_TEST(reset_all_and_teardown_change_nothing)
{
    side w, k;
    side_init(&w, false, NULL);
    reset_script(&w);
    side_init(&k, true, NULL);
    reset_script(&k);
    ck_assert_uint_eq(k.blocks[0], 3);
    ck_assert_uint_eq(k.blocks[2], 0);
    ck_assert_uint_eq(k.blocks[3], 2);
    same_packets(&w, &k);
    side_destroy(&w);
    side_destroy(&k);
    size_t frees = 0;
    for (size_t i = 0; i < k.r.n; i++) frees += k.r.ev[i].type == TS_EV_CONN_FREE;
    /* reset: 2 embryos and the child; the old listener, closed; teardown: 2 embryos and
     * the new listener */
    ck_assert_uint_eq(frees, 3 + 1 + 3);
    same_events(&w, &k);
    side_free(&w);
    side_free(&k);
}
END_TEST

/* n SYNs from FLOOD, ports from 20000. */
static void flood(side *x, unsigned n)
{
    for (unsigned i = 0; i < n; i++) syn_full(x, (uint16_t)(20000 + i), 1000 * i, i);
}

START_TEST(a_waiting_child_is_a_small_block)
{
    side k;
    side_init(&k, true, NULL);
    uint64_t base = cnt(&k)->mem_conn_bytes; /* the listener */
    flood(&k, 3);
    ck_assert_uint_le(sizeof(ts_req), 192);
    ck_assert_uint_eq(cnt(&k)->req_blocks, 3);
    ck_assert_uint_eq(cnt(&k)->req_bytes, 3 * sizeof(ts_req));
    ck_assert_uint_eq(cnt(&k)->mem_conn_bytes, base + 3 * sizeof(ts_req));
    ck_assert_uint_eq(cnt(&k)->conns_by_state[TS_SYN_RECEIVED], 3);
    ck_assert_uint_eq(k.b->nconns, 4);
    ck_assert_uint_eq(k.b->hcount, 1); /* only the listener is a ts_conn */
    ck_assert_ptr_nonnull(ts_req_find(k.b, PORT, FLOOD, 20001));
    ck_assert(ts_tuple_in_use(k.b, PORT, FLOOD, 20001)); /* connect sees it taken */
    /* what ss lists: each embryo as it stands, its ISS the SYN-ACK's */
    ts_tcp_info in[8];
    ck_assert_uint_eq(ts_stack_conns(k.b, in, 8), 4);
    int embryos = 0;
    for (int i = 0; i < 4; i++) {
        if (in[i].state == TS_LISTEN) continue;
        embryos++;
        ck_assert_int_eq(in[i].state, TS_SYN_RECEIVED);
        ck_assert_uint_eq(in[i].remote.addr, FLOOD);
        ck_assert_uint_eq(in[i].iss, iss_of(&k, in[i].remote.port));
        ck_assert_uint_eq(in[i].irs, 1000 * (in[i].remote.port - 20000u));
        ck_assert(in[i].ts_ok && in[i].sack_ok && in[i].wscale_ok);
        ck_assert_uint_eq(in[i].snd_wscale, 7);
        ts_tcp_info one;
        ck_assert_int_eq(ts_stack_conn_info(k.b, in[i].conn_id, &one), 0);
        ck_assert_mem_eq(&one, &in[i], sizeof one);
    }
    ck_assert_int_eq(embryos, 3);
    side_free(&k);
}
END_TEST

/* 10,000 embryos: their bytes, and the hash's chains stay short (lookup O(1)). */
START_TEST(ten_thousand_embryos)
{
    ts_params pb;
    ts_params_default(&pb);
    pb.max_syn_backlog = 20000;
    side k;
    side_init(&k, true, &pb);
    uint64_t base = cnt(&k)->mem_conn_bytes;
    enum { N = 10000 };
    flood(&k, N);
    ck_assert_uint_eq(cnt(&k)->req_blocks, N);
    ck_assert_uint_eq(cnt(&k)->mem_conn_bytes - base, (uint64_t)N * sizeof(ts_req));
    ck_assert_uint_le(cnt(&k)->mem_conn_bytes - base, (uint64_t)N * 192);
    ck_assert_uint_ge(k.b->req_hmask + 1, N / 2);
    uint32_t longest = 0;
    for (uint32_t i = 0; i <= k.b->req_hmask; i++) {
        uint32_t len = 0;
        for (const ts_req *r = k.b->req_htab[i]; r; r = r->hnext) len++;
        if (len > longest) longest = len;
    }
    ck_assert_uint_le(longest, 12);
    /* each one's SYN-ACK goes again at 1 s, each one back in its block after */
    h_run_until(k.h, 1100 * TS_MSEC);
    ck_assert_uint_eq(cnt(&k)->tcp_syn_retransmits, N);
    ck_assert_uint_eq(cnt(&k)->req_blocks, N);
    ck_assert_uint_eq(k.b->hcount, 1);
    side_free(&k);
}
END_TEST

/* Memory runs out when a segment would bring the child back: the segment is dropped and
 * counted, the block stays, and the peer's next ACK completes the handshake. */
START_TEST(no_memory_for_the_child_drops_the_segment)
{
    side k;
    side_init(&k, true, NULL);
    flood(&k, 1);
    uint32_t ack = iss_of(&k, 20000) + 1;
    h_run_until(k.h, 100 * TS_MSEC);
    k.refuse_conn = true;
    peer(&k, 20000, 1, ack, TS_TH_ACK, NULL, 0, NULL);
    ck_assert_int_eq(k.refused, 1);
    ck_assert_uint_eq(cnt(&k)->drops[TS_DROP_TCP_NO_MEMORY], 1);
    ck_assert_uint_eq(cnt(&k)->req_blocks, 1);
    ck_assert_uint_eq(cnt(&k)->conns_by_state[TS_SYN_RECEIVED], 1);
    k.refuse_conn = false;
    h_run_until(k.h, 200 * TS_MSEC);
    peer(&k, 20000, 1, ack, TS_TH_ACK, NULL, 0, NULL);
    ck_assert_uint_eq(cnt(&k)->req_blocks, 0);
    ck_assert_uint_eq(cnt(&k)->conns_by_state[TS_ESTABLISHED], 1);
    int sd = ts_accept(k.b, k.lsd, NULL);
    ck_assert_int_ge(sd, 0);
    side_free(&k);
}
END_TEST

/* The event types from the first at or after `from`, in order, into out (at most max). */
static size_t types_since(const side *x, size_t from, ts_event_type *out, size_t max)
{
    size_t n = 0;
    for (size_t i = from; i < x->r.n && n < max; i++)
        if (x->r.ev[i].type != TS_EV_DROP) out[n++] = x->r.ev[i].type;
    return n;
}

/* Memory runs out when the SYN-ACK's timer would bring the child back: the embryo is
 * given up there, at the timer's time, instead of retransmitting: its timer cancelled,
 * CLOSED, freed, the listener's SYN queue and every count back to where they were. */
START_TEST(no_memory_at_the_timer_ends_the_embryo)
{
    side k;
    side_init(&k, true, NULL);
    uint64_t base = cnt(&k)->mem_conn_bytes;
    flood(&k, 1);
    uint32_t id = k.r.ev[k.r.n - 1].id; /* the embryo's last event: its timer set */
    size_t from = k.r.n;
    k.refuse_conn = true;
    h_run_until(k.h, 2 * TS_SEC);
    ck_assert_int_eq(k.refused, 1);
    ts_event_type t[8];
    ck_assert_uint_eq(types_since(&k, from, t, 8), 3);
    ck_assert_int_eq(t[0], TS_EV_TIMER_CANCEL);
    ck_assert_int_eq(t[1], TS_EV_STATE);
    ck_assert_int_eq(t[2], TS_EV_CONN_FREE);
    for (size_t i = from; i < k.r.n; i++) {
        ck_assert_uint_eq(k.r.ev[i].id, id);
        ck_assert_int_eq(k.r.ev[i].now, 1 * TS_SEC); /* rto_init after the SYN */
    }
    ck_assert_uint_eq(cnt(&k)->tcp_syn_retransmits, 0);
    ck_assert_uint_eq(cnt(&k)->req_blocks, 0);
    ck_assert_uint_eq(cnt(&k)->conns_by_state[TS_SYN_RECEIVED], 0);
    ck_assert_uint_eq(cnt(&k)->conns_by_state[TS_CLOSED], 0);
    ck_assert_uint_eq(k.b->nconns, 1);
    ck_assert_uint_eq(cnt(&k)->mem_conn_bytes, base);
    ck_assert_ptr_null(ts_req_find(k.b, PORT, FLOOD, 20000));
    ck_assert_int_eq(ts_stack_conn_info(k.b, id, &(ts_tcp_info){0}), -ENOENT);
    /* the listener takes the next SYN: its queue is empty */
    k.refuse_conn = false;
    syn_full(&k, 20001, 5, 5);
    ck_assert_uint_eq(cnt(&k)->req_blocks, 1);
    side_free(&k);
}
END_TEST

/* ... and when the listener closes: each embryo ends in place, the same way. */
START_TEST(no_memory_at_the_listeners_close_ends_the_embryos)
{
    side k;
    side_init(&k, true, NULL);
    uint64_t base = cnt(&k)->mem_conn_bytes;
    flood(&k, 3);
    k.refuse_conn = true;
    size_t from = k.r.n;
    ck_assert_int_eq(ts_close(k.b, k.lsd), 0);
    ck_assert_int_eq(k.refused, 3);
    size_t frees = 0;
    for (size_t i = from; i < k.r.n; i++) frees += k.r.ev[i].type == TS_EV_CONN_FREE;
    ck_assert_uint_eq(frees, 4); /* three embryos and the listener */
    ck_assert_uint_eq(cnt(&k)->req_blocks, 0);
    ck_assert_uint_eq(k.b->nconns, 0);
    ck_assert_uint_eq(cnt(&k)->mem_conn_bytes, base - sizeof(ts_conn));
    side_free(&k);
}
END_TEST

/* ... and at teardown: each embryo still says CONN_FREE, with what is left listed at each
 * (nothing freed is read: ASan). */
START_TEST(no_memory_at_teardown_still_frees_each)
{
    side k;
    side_init(&k, true, NULL);
    flood(&k, 2);
    k.refuse_conn = true;
    k.list_on_free = true;
    size_t from = k.r.n;
    side_destroy(&k);
    ck_assert_int_eq(k.refused, 2);
    size_t frees = 0;
    for (size_t i = from; i < k.r.n; i++) {
        ck_assert_int_eq(k.r.ev[i].type, TS_EV_CONN_FREE);
        ck_assert(k.r.ev[i].has_info);
        frees++;
    }
    ck_assert_uint_eq(frees, 3); /* two embryos, then the listener */
    ck_assert_int_eq(k.r.ev[from].info.state, TS_SYN_RECEIVED);
    ck_assert_int_eq(k.r.ev[from].kind, 3); /* listed: itself, the other, the listener */
    side_free(&k);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tcp_req");
    TCase *tc = tcase_create("req");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, blocks_change_nothing);
    tcase_add_test(tc, reset_all_and_teardown_change_nothing);
    tcase_add_test(tc, a_waiting_child_is_a_small_block);
    tcase_add_test(tc, ten_thousand_embryos);
    tcase_add_test(tc, no_memory_for_the_child_drops_the_segment);
    tcase_add_test(tc, no_memory_at_the_timer_ends_the_embryo);
    tcase_add_test(tc, no_memory_at_the_listeners_close_ends_the_embryos);
    tcase_add_test(tc, no_memory_at_teardown_still_frees_each);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
