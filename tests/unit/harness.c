/* harness.c: the back-to-back two-stack harness (see harness.h). */
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_cb(void *ctx, const uint8_t *pkt, size_t len);

typedef struct side_ctx {
    harness *h;
    int me;
} side_ctx;

static side_ctx sides[2]; /* one harness at a time per test process (Check forks) */

/* Record state changes; everything else is left to tests that install their own. */
static void ev_cb(void *ctx, const ts_event *ev)
{
    side_ctx *sc = ctx;
    harness *h = sc->h;
    if (ev->type != TS_EV_STATE) return;
    if (h->nstates == h->states_cap) {
        h->states_cap = h->states_cap ? 2 * h->states_cap : 64;
        h->states = realloc(h->states, h->states_cap * sizeof *h->states);
        ck_assert_ptr_nonnull(h->states);
    }
    h_state_ev *e = &h->states[h->nstates++];
    e->side = sc->me;
    e->t = ev->now;
    e->conn = ev->conn.id;
    e->lport = ev->conn.local.port;
    e->from = ev->u.state.from;
    e->to = ev->u.state.to;
}

void h_rec_cb(void *ctx, const ts_event *ev)
{
    h_rec *r = ctx;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->ev = realloc(r->ev, r->cap * sizeof *r->ev);
        ck_assert_ptr_nonnull(r->ev);
    }
    h_rec_ev *e = &r->ev[r->n++];
    memset(e, 0, sizeof *e);
    e->type = ev->type;
    e->now = ev->now;
    e->id = ev->conn.id;
    if (ev->type == TS_EV_TIMER_SET || ev->type == TS_EV_TIMER_FIRE ||
        ev->type == TS_EV_TIMER_CANCEL)
        e->kind = ev->u.timer.kind, e->when = ev->u.timer.when;
    if (ev->type == TS_EV_STATE) e->from = ev->u.state.from, e->to = ev->u.state.to;
    if (ev->type == TS_EV_DROP) e->kind = ev->u.drop.reason;
    if (ev->type == TS_EV_UNDO) e->kind = ev->u.undo.kind, e->when = ev->u.undo.cwnd;
    if (ev->type == TS_EV_SEG_OUT || ev->type == TS_EV_SEG_IN) {
        e->plen = ev->u.seg.len;
        memcpy(e->pkt, ev->u.seg.pkt, e->plen < sizeof e->pkt ? e->plen : sizeof e->pkt);
    }
    if (ev->conn.id) e->has_info = ts_stack_conn_info(r->s, ev->conn.id, &e->info) == 0;
}

harness *h_new(const ts_params *pa, const ts_params *pb)
{
    harness *h = calloc(1, sizeof *h);
    ck_assert_ptr_nonnull(h);
    h->verbose = getenv("H_VERBOSE") != NULL; /* every packet on stderr */
    h->log_cap = 1024;
    h->log = calloc(h->log_cap, sizeof *h->log);
    h->log_dropped = calloc(h->log_cap, sizeof *h->log_dropped);
    ck_assert_ptr_nonnull(h->log);
    ck_assert_ptr_nonnull(h->log_dropped);
    const uint32_t addrs[2] = {TS_IP4(10, 0, 0, 103), TS_IP4(10, 0, 0, 199)};
    const ts_params *ps[2] = {pa, pb};
    for (int i = 0; i < 2; i++) {
        ts_stack_config cfg;
        ts_stack_config_init(&cfg);
        cfg.addr = addrs[i];
        cfg.seed = 42 + (uint64_t)i;
        if (ps[i]) cfg.params = *ps[i];
        sides[i].h = h;
        sides[i].me = i;
        cfg.output = out_cb;
        cfg.output_ctx = &sides[i];
        cfg.event = ev_cb;
        cfg.event_ctx = &sides[i];
        char err[256];
        h->st[i] = ts_stack_create(&cfg, err, sizeof err);
        ck_assert_msg(h->st[i] != NULL, "stack create: %s", err);
    }
    return h;
}

void h_free(harness *h)
{
    ts_stack_destroy(h->st[0]);
    ts_stack_destroy(h->st[1]);
    free(h->log);
    free(h->log_dropped);
    free(h->states);
    free(h);
}

static void out_cb(void *ctx, const uint8_t *pkt, size_t len)
{
    side_ctx *sc = ctx;
    harness *h = sc->h;
    if (h->nlog == h->log_cap) {
        h->log_cap *= 2;
        h->log = realloc(h->log, h->log_cap * sizeof *h->log);
        h->log_dropped = realloc(h->log_dropped, h->log_cap * sizeof *h->log_dropped);
        ck_assert_ptr_nonnull(h->log);
        ck_assert_ptr_nonnull(h->log_dropped);
    }
    h_pkt *p = &h->log[h->nlog];
    p->t = h->now;
    p->from = sc->me;
    p->len = len < sizeof p->data ? len : sizeof p->data;
    memcpy(p->data, pkt, p->len);
    ts_format_packet(pkt, len, p->line, sizeof p->line);
    ts_pkt_view v;
    ts_pkt_view_parse(&v, pkt, len);
    if (v.tcp) {
        p->seq = v.th.seq;
        p->ack = v.th.ack;
        p->flags = v.th.flags;
        p->win = v.th.win;
        p->plen = (uint32_t)v.th.len;
    }
    unsigned idx = ++h->sent_count[sc->me];
    bool dropped = h->drop && h->drop(h, sc->me, p, idx);
    h->log_dropped[h->nlog] = dropped;
    if (h->verbose)
        fprintf(stderr, "%s%llu.%06llu %s\n", dropped ? "DROP " : "",
                (unsigned long long)(h->now / 1000000), (unsigned long long)(h->now % 1000000),
                p->line);
    size_t idx_log = h->nlog++;
    if (dropped) return;
    ck_assert_uint_lt(h->nq, H_MAX_QUEUE);
    h->q[h->nq].at = h->now + h->delay;
    h->q[h->nq].to = 1 - sc->me;
    h->q[h->nq].idx = idx_log;
    h->nq++;
}

/* The earliest thing to happen: a delivery (returns its queue index) or a timer (-1/-2). */
static ts_time_t next_event(harness *h, long *which)
{
    ts_time_t best = TS_TIME_NEVER;
    *which = -100;
    for (size_t i = 0; i < h->nq; i++) /* FIFO among equal times */
        if (h->q[i].at < best) {
            best = h->q[i].at;
            *which = (long)i;
        }
    for (int i = 0; i < 2; i++) {
        ts_time_t d = ts_stack_next_deadline(h->st[i]);
        if (d < best) {
            best = d;
            *which = -1 - i;
        }
    }
    return best;
}

void h_run_until(harness *h, ts_time_t t)
{
    for (int guard = 0; guard < 10000000; guard++) {
        long which;
        ts_time_t at = next_event(h, &which);
        if (at > t) break;
        if (at > h->now) h->now = at;
        if (which >= 0) {
            size_t qi = (size_t)which;
            int to = h->q[qi].to;
            h_pkt *p = &h->log[h->q[qi].idx];
            memmove(&h->q[qi], &h->q[qi + 1], (h->nq - qi - 1) * sizeof h->q[0]);
            h->nq--;
            ts_stack_input(h->st[to], h->now, p->data, p->len);
        } else {
            ts_stack_poll(h->st[-1 - which], h->now);
        }
    }
    if (t > h->now && t != TS_TIME_NEVER) h->now = t;
    ts_stack_poll(h->st[0], h->now);
    ts_stack_poll(h->st[1], h->now);
}

void h_run(harness *h, ts_time_t t_max)
{
    h_run_until(h, t_max);
}

size_t h_count(const harness *h, int from, uint8_t flags)
{
    size_t n = 0;
    for (size_t i = 0; i < h->nlog; i++)
        if ((from < 0 || h->log[i].from == from) && h->log[i].flags == flags) n++;
    return n;
}

void h_dump(const harness *h)
{
    for (size_t i = 0; i < h->nlog; i++)
        fprintf(stderr, "%s%llu.%06llu %s\n", h->log_dropped[i] ? "DROP " : "",
                (unsigned long long)(h->log[i].t / 1000000),
                (unsigned long long)(h->log[i].t % 1000000), h->log[i].line);
}

const char *h_flags(uint8_t f)
{
    static char buf[16];
    char *p = buf;
    if (f & TS_TH_SYN) *p++ = 'S';
    if (f & TS_TH_FIN) *p++ = 'F';
    if (f & TS_TH_RST) *p++ = 'R';
    if (f & TS_TH_PSH) *p++ = 'P';
    if (f & TS_TH_ACK) *p++ = '.';
    *p = 0;
    return buf;
}

const char *h_state_path(const harness *h, int side, uint32_t conn, char *out, size_t len)
{
    size_t at = 0;
    out[0] = 0;
    for (size_t i = 0; i < h->nstates; i++) {
        const h_state_ev *e = &h->states[i];
        if (e->side != side || e->conn != conn) continue;
        int n = snprintf(out + at, len - at, "%s%s", at ? " " : "", ts_state_name(e->to));
        if (n < 0 || (size_t)n >= len - at) break;
        at += (size_t)n;
    }
    return out;
}

uint32_t h_conn_id(const harness *h, int side, uint16_t lport)
{
    for (size_t i = 0; i < h->nstates; i++) {
        const h_state_ev *e = &h->states[i];
        if (e->side == side && (lport == 0 || e->lport == lport) && e->to != TS_LISTEN)
            return e->conn;
    }
    return 0;
}

void h_fix_csums(uint8_t *pkt, size_t len, bool tcp)
{
    /* Deliberately lenient: tests corrupt lengths and offsets, then fix the sums. */
    size_t ihl = (size_t)(pkt[0] & 15) * 4;
    pkt[10] = pkt[11] = 0;
    uint16_t sum = ts_csum(pkt, ihl);
    pkt[10] = (uint8_t)(sum >> 8), pkt[11] = (uint8_t)sum;
    if (!tcp || len < ihl + 18) return;
    uint32_t src =
        (uint32_t)pkt[12] << 24 | (uint32_t)pkt[13] << 16 | (uint32_t)pkt[14] << 8 | pkt[15];
    uint32_t dst =
        (uint32_t)pkt[16] << 24 | (uint32_t)pkt[17] << 16 | (uint32_t)pkt[18] << 8 | pkt[19];
    ts_tcp_write_csum(pkt + ihl, len - ihl, src, dst);
}

size_t h_build(uint8_t *buf, const h_seg *g)
{
    ts_ip4_hdr ip = {
        .ttl = 64, .proto = TS_IPPROTO_TCP, .frag = TS_IP4_DF, .src = g->src, .dst = g->dst};
    ts_tcp_hdr th = {.sport = g->sport,
                     .dport = g->dport,
                     .seq = g->seq,
                     .ack = g->ack,
                     .flags = g->flags,
                     .win = g->win};
    size_t len = ts_tcp_build(buf, 1600, &ip, &th, g->opt, g->optlen, g->data, g->dlen);
    ck_assert_uint_gt(len, 0); /* fits in 1600 bytes, options at most 40 */
    return len;
}

size_t h_build_as(harness *h, int side, int sd, uint8_t *buf, int32_t dseq, uint8_t flags,
                  const uint8_t *opt, size_t optlen, const char *data)
{
    ts_tcp_info a;
    ck_assert_int_eq(ts_sock_info(h->st[side], sd, &a), 0);
    h_seg g = {.src = a.local.addr,
               .dst = a.remote.addr,
               .sport = a.local.port,
               .dport = a.remote.port,
               .seq = a.snd_nxt + (uint32_t)dseq,
               .ack = a.rcv_nxt,
               .flags = flags,
               .win = 502,
               .opt = opt,
               .optlen = optlen,
               .data = (const uint8_t *)data,
               .dlen = data ? strlen(data) : 0};
    return h_build(buf, &g);
}

void h_inject(harness *h, int to, const uint8_t *pkt, size_t len)
{
    uint8_t *block = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(block);
    if (len) memcpy(block, pkt, len);
    ts_stack_input(h->st[to], h->now, block, len);
    free(block);
}

void h_inject_seg(harness *h, int to, const h_seg *g)
{
    uint8_t p[1600];
    h_inject(h, to, p, h_build(p, g));
}

/* ---- the test application ---- */

void h_app_init(h_app *a, harness *h, int side)
{
    memset(a, 0, sizeof *a);
    a->h = h;
    a->side = side;
    a->lsd = a->sd = -1;
    a->auto_read = true;
}

void h_app_free(h_app *a)
{
    free(a->rx);
    a->rx = NULL;
}

size_t h_app_check(const h_app *a)
{
    for (size_t i = 0; i < a->rx_len; i++)
        if (a->rx[i] != h_pattern(i)) return i;
    return a->rx_len;
}

void h_app_push(h_app *a)
{
    ts_stack *s = a->h->st[a->side];
    uint8_t buf[16384];
    while (a->sd >= 0 && a->tx_sent < a->tx_total) {
        size_t n = a->tx_total - a->tx_sent;
        if (n > sizeof buf) n = sizeof buf;
        for (size_t i = 0; i < n; i++) buf[i] = h_pattern(a->tx_sent + i);
        ssize_t r = ts_send(s, a->sd, buf, n);
        if (r <= 0) break;
        a->tx_sent += (size_t)r;
        if (a->tx_sent == a->tx_total && a->shut_when_sent)
            ck_assert_int_eq(ts_shutdown(s, a->sd, TS_SHUT_WR), 0);
    }
}

static void app_conn_cb(ts_stack *s, int sd, unsigned ev, void *ctx)
{
    h_app *a = ctx;
    a->events |= ev;
    if ((ev & TS_SOCK_CONNECTED) && !a->connected_at) a->connected_at = ts_stack_now(s);
    if (ev & TS_SOCK_ERROR) {
        int e = ts_sock_error(s, sd);
        if (e && !a->err) {
            a->err = e;
            a->err_at = ts_stack_now(s);
        }
    }
    if (a->auto_read && (ev & TS_SOCK_READABLE)) {
        for (;;) {
            if (a->rx_len + 65536 > a->rx_cap) {
                a->rx_cap = a->rx_cap ? a->rx_cap * 2 : 1 << 20;
                a->rx = realloc(a->rx, a->rx_cap);
                ck_assert_ptr_nonnull(a->rx);
            }
            ssize_t n = ts_recv(s, sd, a->rx + a->rx_len, 65536);
            if (n > 0) {
                a->rx_len += (size_t)n;
                continue;
            }
            if (n == 0 && !a->eof) {
                a->eof = true;
                a->eof_at = ts_stack_now(s);
                if (a->close_on_eof && !a->closed) {
                    ts_close(s, sd);
                    a->closed = true;
                    if (a->sd == sd) a->sd = -1;
                    return;
                }
            }
            break;
        }
    }
    if (ev & (TS_SOCK_WRITABLE | TS_SOCK_CONNECTED)) h_app_push(a);
}

static void app_listen_cb(ts_stack *s, int sd, unsigned ev, void *ctx)
{
    h_app *a = ctx;
    (void)ev;
    for (;;) {
        int c = ts_accept(s, sd, NULL);
        if (c < 0) break;
        a->sd = c;
        a->naccepted++;
        ts_sock_set_callback(s, c, app_conn_cb, a);
        app_conn_cb(s, c, ts_sock_events(s, c), a);
    }
}

void h_app_listen(h_app *a, uint16_t port, int backlog)
{
    ts_stack *s = a->h->st[a->side];
    a->lsd = ts_socket(s);
    ck_assert_int_ge(a->lsd, 0);
    ck_assert_int_eq(ts_bind(s, a->lsd, 0, port), 0);
    ck_assert_int_eq(ts_listen(s, a->lsd, backlog), 0);
    ts_sock_set_callback(s, a->lsd, app_listen_cb, a);
}

void h_app_connect(h_app *a, uint16_t lport, uint16_t port)
{
    ts_stack *s = a->h->st[a->side];
    a->sd = ts_socket(s);
    ck_assert_int_ge(a->sd, 0);
    if (lport) ck_assert_int_eq(ts_bind(s, a->sd, 0, lport), 0);
    ts_sock_set_callback(s, a->sd, app_conn_cb, a);
    uint32_t peer = a->side == H_A ? H_ADDR_B : H_ADDR_A;
    ck_assert_int_eq(ts_connect(s, a->sd, peer, port), -EINPROGRESS);
}

int h_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

void h_app_send_all(h_app *a, size_t total)
{
    a->tx_total = total;
    a->shut_when_sent = true;
    h_app_push(a);
}

ts_time_t h_sent_at(const harness *h, uint32_t seq, int nth)
{
    for (size_t i = 0; i < h_nlog(h); i++)
        if (h->log[i].from == H_A && h->log[i].plen && h->log[i].seq == seq && --nth == 0)
            return h->log[i].t;
    return TS_TIME_NEVER;
}

/* ---- the fixtures ---- */

void h_conn_open(h_conn *c, const h_conn_opts *o)
{
    memset(c, 0, sizeof *c);
    c->own_h = !o->h;
    harness *h = c->h = o->h ? o->h : h_new(o->pa, o->pb);
    if (c->own_h) h->delay = o->delay;
    uint16_t port = o->port ? o->port : 9000;
    h_app_init(&c->ca, h, H_A);
    h_app_init(&c->sb, h, H_B);
    h_app_listen(&c->sb, port, 4);
    if (o->plan) { /* base and mss are learnt from the SYN and the connection */
        c->pl = *o->plan;
        c->pl.base = c->pl.mss = 0;
        h->user = c;
        h->drop = h_plan_drop;
    }
    if (o->drop) {
        ck_assert_ptr_null(o->plan); /* one or the other */
        h->drop = o->drop;
        h->user = o->user;
    }
    c->ca.tx_total = o->a_send;
    c->ca.shut_when_sent = o->a_shut;
    size_t n0 = h_nlog(h);
    h_app_connect(&c->ca, o->lport, port);
    h_run_until(h, h->now + (o->wait ? o->wait : 1 * TS_SEC));
    ck_assert(c->ca.events & TS_SOCK_CONNECTED);
    bool syn = false, synack = false;
    for (size_t i = n0; i < h_nlog(h) && !(syn && synack); i++) {
        const h_pkt *p = &h->log[i];
        if (!syn && p->from == H_A && p->flags == TS_TH_SYN) syn = true, c->isn_a = p->seq;
        if (!synack && p->from == H_B && p->flags == (TS_TH_SYN | TS_TH_ACK))
            synack = true, c->isn_b = p->seq;
    }
    ck_assert(syn && synack);
    c->base = c->isn_a + 1;
    ts_tcp_info ai;
    ck_assert_int_eq(ts_sock_info(h->st[H_A], c->ca.sd, &ai), 0);
    c->mss = ai.snd_mss;
    if (o->mss) ck_assert_uint_eq(ai.snd_mss, o->mss);
    c->t0 = h->now;
}

void h_conn_drop(h_conn *c, const h_drop_plan *plan)
{
    if (plan)
        c->pl = *plan;
    else
        memset(&c->pl, 0, sizeof c->pl);
    bool from_b = c->pl.from == H_B;
    c->pl.base = from_b ? c->isn_b + 1 : c->base;
    c->pl.mss = c->mss;
    if (from_b) {
        ts_tcp_info bi;
        ck_assert_int_eq(ts_sock_info(c->h->st[H_B], c->sb.sd, &bi), 0);
        c->pl.mss = bi.snd_mss;
    }
    c->h->user = c;
    c->h->drop = h_plan_drop;
}

void h_bulk_start(h_conn *c, const h_drop_plan *plan, size_t total)
{
    h_conn_drop(c, plan);
    c->t0 = c->h->now;
    h_app_send_all(c->pl.from == H_B ? &c->sb : &c->ca, total);
}

void h_bulk_open(h_conn *c, const h_conn_opts *o, const h_drop_plan *plan, size_t total)
{
    h_conn_open(c, o);
    h_bulk_start(c, plan, total);
}

static bool plan_has(const int *v, int n, uint32_t seg)
{
    for (int i = 0; i < n; i++)
        if ((uint32_t)v[i] == seg) return true;
    return false;
}

/* Which transmission of which segment this is decides; see h_drop_plan. */
static bool plan_decide(h_drop_plan *pl, const h_pkt *p)
{
    if (pl->loss_pct) {
        pl->seed = pl->seed * 6364136223846793005ull + 1442695040888963407ull;
        return (pl->seed >> 33) % 100 < pl->loss_pct;
    }
    uint32_t n = (p->seq - pl->base) / pl->mss;
    if (n >= sizeof pl->sent) return false;
    unsigned k = pl->sent[n] < 255 ? ++pl->sent[n] : 255;
    if (k == 1) return plan_has(pl->segs, pl->nsegs, n);
    if (k == 2 && plan_has(pl->resend, pl->nresend, n)) return true;
    if (plan_has(pl->segs, pl->nsegs, n) && pl->rexmit_dropped < pl->rexmit_drops) {
        pl->rexmit_dropped++;
        return true;
    }
    return false;
}

bool h_plan_drop(harness *h, int from, const h_pkt *p, unsigned idx)
{
    (void)idx;
    h_conn *c = h->user;
    if (!c || from != c->pl.from) return false;
    if (p->flags & TS_TH_SYN) { /* a plan installed before the handshake */
        c->pl.base = p->seq + 1;
        return false;
    }
    if (p->plen == 0) return false;
    if (!c->pl.mss) {
        ts_tcp_info i;
        ck_assert_int_eq(ts_sock_info(h->st[from], from == H_A ? c->ca.sd : c->sb.sd, &i), 0);
        c->pl.mss = i.snd_mss;
    }
    bool drop = plan_decide(&c->pl, p);
    c->pl.drops += drop;
    return drop;
}

ts_time_t h_conn_acked_at(const h_conn *c, size_t total)
{
    for (size_t i = 0; i < h_nlog(c->h); i++) {
        const h_pkt *p = &c->h->log[i];
        if (p->from == H_B && (int32_t)(p->ack - (c->base + (uint32_t)total)) >= 0) return p->t;
    }
    return TS_TIME_NEVER;
}

void h_conn_free(h_conn *c)
{
    h_app_free(&c->ca);
    h_app_free(&c->sb);
    if (c->own_h) h_free(c->h);
    c->h = NULL;
}
