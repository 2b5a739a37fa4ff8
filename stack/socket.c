/* socket.c: the BSD-shaped socket API over connections: handles, bind/listen/accept,
 * connect, send/recv, shutdown (half-close), close (graceful, or RST with unread data per
 * RFC 2525 2.17), abort, per-socket parameters and control-block snapshots. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static ts_conn *sock_conn(ts_stack *s, int sd)
{
    if (sd < 0 || (uint32_t)sd >= s->nsocks) return NULL;
    return s->socks[sd].conn;
}

static int alloc_sd(ts_stack *s, ts_conn *c)
{
    uint32_t sd;
    if (s->free_sock != UINT32_MAX) {
        sd = s->free_sock;
        s->free_sock = s->socks[sd].next_free;
    } else {
        if (s->nsocks >= s->max_sockets) return -EMFILE;
        if (s->nsocks == s->socks_cap) {
            uint32_t ncap = s->socks_cap ? s->socks_cap * 2 : 64;
            ts_sock *ns = realloc(s->socks, ncap * sizeof *ns);
            if (!ns) return -ENOMEM;
            s->socks = ns;
            s->socks_cap = ncap;
        }
        sd = s->nsocks++;
    }
    memset(&s->socks[sd], 0, sizeof s->socks[sd]);
    s->socks[sd].conn = c;
    c->sd = (int)sd;
    return (int)sd;
}

static void free_sd(ts_stack *s, int sd)
{
    s->socks[sd].conn = NULL;
    s->socks[sd].fn = NULL;
    s->socks[sd].next_free = s->free_sock;
    s->free_sock = (uint32_t)sd;
}

int ts_socket(ts_stack *s)
{
    int err;
    const ts_params *d = ts_mem_params_defaults(s);
    if (!d) return -ENOMEM;
    ts_conn *c = ts_conn_new(s, d, &err);
    if (!c) return err;
    int sd = alloc_sd(s, c);
    if (sd < 0) ts_conn_destroy(s, c);
    return sd;
}

#define GET_CONN(s, sd, c)                                                                         \
    ts_conn *c = sock_conn(s, sd);                                                                 \
    if (!c) return -EBADF

int ts_bind(ts_stack *s, int sd, uint32_t addr, uint16_t port)
{
    GET_CONN(s, sd, c);
    if (c->bound || c->state != TS_CLOSED) return -EINVAL;
    if (addr != 0 && addr != s->addr) return -EADDRNOTAVAIL;
    if (port && ts_port_in_use(s, port)) return -EADDRINUSE;
    c->local.port = port;
    c->bound = true;
    ts_port_hold(s, c);
    return 0;
}

int ts_listen(ts_stack *s, int sd, int backlog)
{
    GET_CONN(s, sd, c);
    if (c->state == TS_LISTEN) {
        c->backlog = backlog > 0 ? (uint32_t)backlog : c->p->backlog;
        return 0;
    }
    if (c->state != TS_CLOSED || c->fatal) return -EINVAL;
    if (!c->local.port) {
        c->local.port = ts_ephemeral_port(s, 0, 0);
        if (!c->local.port) return -EADDRINUSE;
    }
    c->bound = true;
    ts_port_hold(s, c);
    c->backlog = backlog > 0 ? (uint32_t)backlog : c->p->backlog;
    if (c->backlog > 65535) c->backlog = 65535;
    ts_enter(s);
    ts_open_listen(s, c);
    ts_leave(s);
    return 0;
}

int ts_accept(ts_stack *s, int sd, ts_endpoint *peer)
{
    GET_CONN(s, sd, l);
    if (l->state != TS_LISTEN) return -EINVAL;
    if (!l->aq_head) return -EAGAIN;
    ts_conn *c = ts_conn_of_q(l->aq_head);
    int nsd = alloc_sd(s, c);
    if (nsd < 0) return nsd;
    ts_conn_unqueue(c);
    if (peer) *peer = c->remote;
    /* what arrived before accept() is ready now */
    unsigned ev = TS_SOCK_CONNECTED | TS_SOCK_WRITABLE;
    if (c->rcvq.len || c->fin_rcvd) ev |= TS_SOCK_READABLE;
    ts_enter(s);
    ts_notify(s, c, ev);
    ts_leave(s);
    return nsd;
}

int ts_connect(ts_stack *s, int sd, uint32_t addr, uint16_t port)
{
    GET_CONN(s, sd, c);
    if (c->state == TS_SYN_SENT || c->state == TS_SYN_RECEIVED) return -EALREADY;
    if (c->state != TS_CLOSED) return -EISCONN;
    if (c->fatal) return -EINVAL;
    if (addr == 0 || port == 0) return -EINVAL;
    c->remote.addr = addr;
    c->remote.port = port;
    if (!c->local.port) c->local.port = ts_ephemeral_port(s, addr, port);
    if (!c->local.port || ts_tuple_in_use(s, c->local.port, addr, port)) return -EADDRINUSE;
    c->bound = true;
    ts_port_hold(s, c);
    c->active_open = true;
    ts_enter(s);
    ts_open_active(s, c);
    ts_leave(s);
    return -EINPROGRESS;
}

/* Linux's size_goal: the skb size a write fills before it starts another (half the
 * peer's largest window, whole segments, at most a 64 KB GSO packet, at least one). */
static uint32_t size_goal(const ts_conn *c)
{
    uint32_t mss = c->snd_mss ? c->snd_mss : 536;
    uint32_t g = c->max_snd_wnd / 2 < 65535 - 320 ? c->max_snd_wnd / 2 : 65535 - 320;
    g = g / mss * mss;
    return g > mss ? g : mss;
}

/* Bytes queued and never sent. */
static uint32_t unsent(const ts_conn *c)
{
    uint32_t off = c->snd_max - c->snd_buf_seq;
    if (c->state < TS_ESTABLISHED || seq_lt(c->snd_max, c->snd_buf_seq)) off = 0;
    return c->sndq.len > off ? c->sndq.len - off : 0;
}

/* How much of len one step of a send may queue now (before any room check). With
 * TCP_NOTSENT_LOWAT Linux checks the unsent bytes only when a write starts a new skb of
 * size_goal bytes, and fills the tail skb regardless; it also sends while it copies (a
 * full skb at the head of the queue goes out at once). So a write is queued a skb at a
 * time, each followed by output: e.g. 26000 of a 59000-byte write with lowat 4000, IW10
 * of 1000-byte segments and a 32 KB window (packetdrill notsent-lowat-setsockopt.pkt). */
static uint32_t lowat_step(const ts_conn *c, size_t len)
{
    uint32_t g = size_goal(c), u = unsent(c);
    uint32_t step = u % g ? g - u % g : g;
    if (u % g == 0 && u >= c->notsent_lowat) return 0;
    return len < step ? (uint32_t)len : step;
}

/* Queue up to len bytes and send what the windows allow. */
static uint32_t send_some(ts_stack *s, ts_conn *c, const uint8_t *buf, size_t len, unsigned flags)
{
    uint32_t room = c->p->sndbuf > c->sndq.len ? c->p->sndbuf - c->sndq.len : 0;
    uint32_t n = len < room ? (uint32_t)len : room;
    uint32_t fits = c->sndq.cap - c->sndq.len; /* ts_send_flags grew the ring for the write */
    if (n > fits) n = fits;                    /* ... as far as mem_max let it */
    if (n == 0) return 0;
    ts_ring_put(&c->sndq, c->sndq.len, buf, n);
    c->sndq.len += n;
    /* A write cut short by a full buffer ends there: Linux pushes what it copied before it
     * waits for room, with PSH, MSG_MORE or not. */
    bool more = (flags & TS_MSG_MORE) && n == len;
    c->tail_more = more;
    if (!more) ts_push_mark(c, c->snd_buf_seq + c->sndq.len);
    if (n == len && (flags & TS_MSG_EOR) && c->eor_n < TS_EOR_MAX)
        c->eor_mark[c->eor_n++] = c->snd_buf_seq + c->sndq.len;
    ts_tcp_output_opts(s, c, &(ts_out_opts){.more = more});
    return n;
}

ssize_t ts_send(ts_stack *s, int sd, const void *buf, size_t len)
{
    return ts_send_flags(s, sd, buf, len, 0);
}

ssize_t ts_send_flags(ts_stack *s, int sd, const void *buf, size_t len, unsigned flags)
{
    GET_CONN(s, sd, c);
    if (c->fatal) return c->fatal;
    if (c->shut_wr) return -EPIPE;
    switch (c->state) {
    case TS_CLOSED:
    case TS_LISTEN: return -ENOTCONN;
    case TS_SYN_SENT:
    case TS_SYN_RECEIVED:
    case TS_ESTABLISHED:
    case TS_CLOSE_WAIT: break;
    default: return -EPIPE;
    }
    if (len == 0) return 0;
    ts_eor_trim(c);
    if ((flags & TS_MSG_EOR) && c->eor_n == TS_EOR_MAX) return -EAGAIN;
    uint32_t room = c->p->sndbuf > c->sndq.len ? c->p->sndbuf - c->sndq.len : 0;
    if (room == 0) return -EAGAIN;
    if (c->notsent_lowat && lowat_step(c, len) == 0) return -EAGAIN;
    /* the ring grows for the write; under mem_max it takes what fits (EAGAIN if nothing
     * does: ACKs make room), and only a malloc that failed with no room left is ENOMEM */
    int rc = ts_mem_reserve(s, &c->sndq, c->sndq.len + (len < room ? (uint32_t)len : room));
    if (rc < 0 && c->sndq.len >= c->sndq.cap) return rc == -ENOBUFS ? -EAGAIN : -ENOMEM;
    if ((flags & TS_MSG_EOR) && !c->eor_mark) { /* the record marks, at the first record */
        c->eor_mark = ts_mem_block(s, TS_EOR_MAX * sizeof *c->eor_mark);
        if (!c->eor_mark) return -ENOMEM;
    }
    ts_enter(s);
    /* RFC 5681 4.1: restart from the initial window after an idle period */
    if (c->snd_una == c->snd_max && c->last_snd_time && s->now - c->last_snd_time > c->rto &&
        c->state == TS_ESTABLISHED)
        c->cc_ops->on_idle(c);
    const uint8_t *p = buf;
    size_t done = 0;
    if (!c->notsent_lowat) {
        done = send_some(s, c, p, len, flags);
    } else {
        for (uint32_t step; done < len && (step = lowat_step(c, len - done)) > 0;) {
            bool last = step == len - done;
            /* only the write's last step ends the record (the caller checked for a free
             * record mark once, for one mark) */
            unsigned f = last ? flags : (flags & ~TS_MSG_EOR) | TS_MSG_MORE;
            uint32_t n = send_some(s, c, p + done, step, f);
            done += n;
            if (n < step) break; /* the buffer is full */
        }
        if (done < len && done) { /* stopped early: the write ends here, as Linux pushes */
            c->tail_more = (flags & TS_MSG_MORE) != 0;
            if (!c->tail_more) ts_push_mark(c, c->snd_buf_seq + c->sndq.len);
            ts_tcp_output(s, c);
        }
    }
    ts_leave(s);
    return (ssize_t)done;
}

ssize_t ts_recv(ts_stack *s, int sd, void *buf, size_t len)
{
    return ts_recv_flags(s, sd, buf, len, 0);
}

ssize_t ts_recv_flags(ts_stack *s, int sd, void *buf, size_t len, unsigned flags)
{
    GET_CONN(s, sd, c);
    /* Linux keeps queueing and delivering data after SHUT_RD; the shutdown only makes an
     * empty queue read as EOF (packetdrill shutdown/shutdown-rd-wr-close.pkt). */
    if (c->rcvq.len) {
        uint32_t n = len < c->rcvq.len ? (uint32_t)len : c->rcvq.len;
        ts_ring_get(&c->rcvq, 0, buf, n);
        if (flags & TS_MSG_PEEK) return n;
        ts_ring_consume(&c->rcvq, n);
        ts_enter(s);
        if (ts_rcv_window_update_due(c)) ts_send_ack(s, c);
        if (!c->rcvq.len) ts_mem_trim(s, c); /* read to the end: is the ring still needed? */
        ts_leave(s);
        return n;
    }
    if (c->fin_rcvd || c->shut_rd) return 0;
    if (c->fatal) return c->fatal;
    if (c->state == TS_CLOSED || c->state == TS_LISTEN) return -ENOTCONN;
    return -EAGAIN;
}

int ts_shutdown(ts_stack *s, int sd, int how)
{
    GET_CONN(s, sd, c);
    if (how < TS_SHUT_RD || how > TS_SHUT_RDWR) return -EINVAL;
    if (c->state == TS_CLOSED || c->state == TS_LISTEN) return -ENOTCONN;
    ts_enter(s);
    if (how != TS_SHUT_WR) c->shut_rd = true;
    if (how != TS_SHUT_RD && !c->shut_wr) {
        c->shut_wr = true;
        if (c->state == TS_SYN_SENT)
            ts_conn_done(s, c, 0);
        else
            ts_close_send_fin(s, c);
    }
    ts_leave(s);
    return 0;
}

static void close_listener(ts_stack *s, ts_conn *l)
{
    while (l->aq_head) { /* accepted by the stack but not by the user: reset them */
        ts_conn *c = ts_conn_of_q(l->aq_head);
        ts_send_rst(s, c);
        ts_conn_done(s, c, -ECONNRESET);
    }
    while (l->sq_head) { /* embryos, rebuilt from their blocks: done unlinks each */
        ts_conn *c = ts_req_child(s, l->sq_head);
        if (c) ts_conn_done(s, c, 0);
    }
    ts_conn_done(s, l, 0);
}

int ts_close(ts_stack *s, int sd)
{
    GET_CONN(s, sd, c);
    ts_enter(s);
    ts_port_drop(s, c);
    free_sd(s, sd);
    c->sd = -1;
    c->orphan = true;
    switch (c->state) {
    case TS_LISTEN: close_listener(s, c); break;
    case TS_CLOSED:
    case TS_SYN_SENT: ts_conn_done(s, c, 0); break; /* no RST in SYN-SENT (RFC 9293) */
    default:
        if (c->rcvq.len) { /* unread data: abort rather than pretend (RFC 2525 2.17) */
            ts_send_rst(s, c);
            ts_conn_done(s, c, 0);
        } else if (c->state == TS_FIN_WAIT_2) {
            ts_timer_set(s, c, TS_TIMER_FIN_WAIT2, s->now + c->p->fin_wait2);
        } else {
            c->shut_wr = true;
            ts_close_send_fin(s, c);
            /* closed in TIME-WAIT: the orphan keeps only a small block (tcp_tw.c) */
            if (c->state == TS_TIME_WAIT) ts_tw_adopt(s, c);
        }
    }
    ts_leave(s);
    return 0;
}

int ts_abort(ts_stack *s, int sd)
{
    GET_CONN(s, sd, c);
    ts_enter(s);
    ts_port_drop(s, c);
    free_sd(s, sd);
    c->sd = -1;
    c->orphan = true;
    if (c->state == TS_LISTEN) {
        close_listener(s, c);
    } else {
        if (ts_state_peer_synced(c->state)) ts_send_rst(s, c);
        ts_conn_done(s, c, 0);
    }
    ts_leave(s);
    return 0;
}

int ts_sock_set_cork(ts_stack *s, int sd, bool on)
{
    GET_CONN(s, sd, c);
    bool was = c->cork;
    c->cork = on;
    if (was && !on) { /* Linux's uncork pushes the tail now, under Nagle */
        ts_enter(s);
        ts_tcp_output(s, c);
        ts_leave(s);
    }
    return 0;
}

bool ts_sock_cork(ts_stack *s, int sd)
{
    ts_conn *c = sock_conn(s, sd);
    return c && c->cork;
}

int ts_sock_push(ts_stack *s, int sd)
{
    GET_CONN(s, sd, c);
    ts_enter(s);
    ts_tcp_output_opts(s, c, &(ts_out_opts){.push = true});
    ts_leave(s);
    return 0;
}

int ts_sock_set_notsent_lowat(ts_stack *s, int sd, uint32_t bytes)
{
    GET_CONN(s, sd, c);
    c->notsent_lowat = bytes;
    return 0;
}

uint32_t ts_sock_notsent_lowat(ts_stack *s, int sd)
{
    ts_conn *c = sock_conn(s, sd);
    return c ? c->notsent_lowat : 0;
}

int ts_sock_set_tos(ts_stack *s, int sd, uint8_t tos)
{
    GET_CONN(s, sd, c);
    c->tos = tos;
    return 0;
}

int ts_sock_tos(ts_stack *s, int sd)
{
    GET_CONN(s, sd, c);
    return c->tos;
}

/* Room to write: buffer space, a free record mark, and (TCP_NOTSENT_LOWAT) unsent bytes
 * below half the mark, as Linux's poll tests them (tcp_stream_memory_free, wake = 1). */
static bool writable(const ts_stack *s, const ts_conn *c)
{
    if (c->shut_wr || c->sndq.len >= c->p->sndbuf) return false;
    if (c->sndq.len >= ts_mem_reach(s, &c->sndq)) return false; /* mem_max: full for now */
    if (c->eor_n == TS_EOR_MAX && seq_gt(c->eor_mark[0], c->snd_una)) return false;
    return !c->notsent_lowat || (uint64_t)unsent(c) * 2 < c->notsent_lowat;
}

int ts_sock_error(ts_stack *s, int sd)
{
    GET_CONN(s, sd, c);
    int e = c->err;
    c->err = 0;
    return e;
}

unsigned ts_sock_events(ts_stack *s, int sd)
{
    ts_conn *c = sock_conn(s, sd);
    if (!c) return 0;
    unsigned ev = 0;
    if (c->state == TS_LISTEN) return c->aq_head ? TS_SOCK_READABLE : 0;
    if (c->rcvq.len || c->fin_rcvd || c->fatal) ev |= TS_SOCK_READABLE;
    bool open = c->state == TS_ESTABLISHED || c->state == TS_CLOSE_WAIT;
    if (open && writable(s, c)) ev |= TS_SOCK_WRITABLE;
    if (c->state >= TS_ESTABLISHED) ev |= TS_SOCK_CONNECTED;
    if (c->state == TS_CLOSED && (c->fatal || c->active_open || c->fin_rcvd)) ev |= TS_SOCK_CLOSED;
    if (c->err) ev |= TS_SOCK_ERROR;
    return ev;
}

void ts_sock_set_callback(ts_stack *s, int sd, ts_sock_fn fn, void *ctx)
{
    if (!sock_conn(s, sd)) return;
    s->socks[sd].fn = fn;
    s->socks[sd].ctx = ctx;
}

int ts_getsockname(ts_stack *s, int sd, ts_endpoint *out)
{
    GET_CONN(s, sd, c);
    *out = c->local;
    return 0;
}

int ts_getpeername(ts_stack *s, int sd, ts_endpoint *out)
{
    GET_CONN(s, sd, c);
    if (c->state == TS_CLOSED || c->state == TS_LISTEN) return -ENOTCONN;
    *out = c->remote;
    return 0;
}

int ts_sock_get_params(ts_stack *s, int sd, ts_params *out)
{
    GET_CONN(s, sd, c);
    *out = *c->p;
    return 0;
}

/* What the SYN offered is agreed for the connection's life (RFC 9293 3.7.1, RFC 7323,
 * RFC 2018): once it has gone, a change of those parameters is refused rather than
 * half-applied (a retransmitted SYN offering other options than the first). */
static int syn_params_fixed(const ts_conn *c, const ts_params *p, char *err, size_t errlen)
{
    if (c->state == TS_CLOSED || c->state == TS_LISTEN) return 0;
    for (size_t i = 0; i < ts_params_count(); i++) {
        const char *name = ts_params_info(i)->name;
        char was[64], now[64];
        if (strcmp(ts_params_when(name), "syn")) continue;
        ts_params_get(c->p, name, was, sizeof was);
        ts_params_get(p, name, now, sizeof now);
        if (!strcmp(was, now)) continue;
        if (err && errlen)
            snprintf(err, errlen,
                     "%s: agreed in the handshake, so it applies to new connections only; set "
                     "it before connect, on the listener or as a default (--set)",
                     name);
        return -1;
    }
    return 0;
}

/* The RTO estimators keep RTTVAR differently: rfc6298 the mean deviation (RTO = SRTT +
 * 4 RTTVAR), linux four times it, at least rto_min, in mdev/mdev_max (RTO = SRTT +
 * RTTVAR; fixed keeps RFC 6298's). A switch carries the estimate over in RFC 6298's form
 * (each policy's rttvar_rfc / set_rttvar_rfc) instead of starting from a stale one; the
 * RTO follows at the next sample, except that to fixed it is rto_init at once. */
static void rto_policy_switched(ts_conn *c, const ts_rto_ops *old)
{
    if (c->rto_ops->constant) c->rto = c->p->rto_init;
    if (!c->srtt) return; /* no sample yet: nothing to carry */
    ts_time_t var = old->rttvar_rfc ? old->rttvar_rfc(c) : c->rttvar;
    ts_rto_set_rttvar_rfc(c, var);
}

/* A new block on a live connection: what each change needs beyond the new values being
 * read where they are used (README, "When a parameter takes effect"). */
static void params_changed(ts_stack *s, ts_conn *c, const ts_params *old, const ts_rto_ops *rto0,
                           const ts_cc_ops *cc0)
{
    if (c->rto_ops != rto0) rto_policy_switched(c, rto0);
    /* TCP_CONGESTION: cwnd and ssthresh stay; the new algorithm's own state starts
     * afresh (a zeroed cc_priv, as its init leaves it), as Linux's tcp_reinit_congestion */
    if (c->cc_ops != cc0) memset(c->cc_priv, 0, sizeof c->cc_priv);
    /* hystart, hystart_detect or cc=cubic: HyStart's state block, if it may run now (a
     * CLOSED socket gets it when it is established) */
    if (c->state != TS_CLOSED && c->state != TS_LISTEN) ts_hystart_attach(s, c);
    ts_loss_policy(c); /* recovery=... may have changed */
    if (c->rto > c->p->rto_max) c->rto = c->p->rto_max;
    if (c->state == TS_CLOSED) c->rto = c->p->rto_init;
    /* keepalive: on, off or a new idle time re-arms (or stops) the timer at once, as
     * Linux's SO_KEEPALIVE and TCP_KEEPIDLE do */
    bool ka_state = c->state == TS_ESTABLISHED || c->state == TS_CLOSE_WAIT;
    bool ka_changed =
        c->p->keepalive != old->keepalive || c->p->keepalive_idle != old->keepalive_idle;
    if (!c->p->keepalive) {
        ts_timer_clear(s, c, TS_TIMER_KEEPALIVE);
    } else if (ka_state && ka_changed && !(old->keepalive && c->probes)) {
        ts_time_t at = c->last_seg_in + c->p->keepalive_idle;
        ts_timer_set(s, c, TS_TIMER_KEEPALIVE, at > s->now ? at : s->now);
    }
}

int ts_sock_set_params(ts_stack *s, int sd, const ts_params *p, char *err, size_t errlen)
{
    GET_CONN(s, sd, c);
    if (ts_params_validate(p, err, errlen) < 0) return -EINVAL;
    ts_conn probe = {.p = p};
    if (ts_conn_policies(&probe, err, errlen) < 0) return -EINVAL;
    if (syn_params_fixed(c, p, err, errlen) < 0) return -EINVAL;
    const ts_params *np = ts_mem_params_own(s, p); /* no longer the shared block */
    if (!np) {
        if (err && errlen) snprintf(err, errlen, "out of memory for the socket's parameters");
        return -ENOMEM;
    }
    const ts_params *old = c->p;
    const ts_rto_ops *rto0 = c->rto_ops;
    const ts_cc_ops *cc0 = c->cc_ops;
    c->p = np;
    ts_conn_policies(c, NULL, 0);
    params_changed(s, c, old, rto0, cc0);
    ts_mem_params_drop(s, old);
    return 0;
}

int ts_sock_set_param(ts_stack *s, int sd, const char *name, const char *value, char *err,
                      size_t errlen)
{
    GET_CONN(s, sd, c);
    ts_params p = *c->p;
    if (ts_params_set(&p, name, value, err, errlen) < 0) return -EINVAL;
    return ts_sock_set_params(s, sd, &p, err, errlen);
}

/* The variables the views sample at every event; fill_info copies them from here so the
 * two snapshots cannot drift apart. */
static void fill_vars(const ts_conn *c, ts_conn_vars *o)
{
    o->srtt = c->srtt;
    o->rttvar = c->rttvar;
    o->rto = c->rto;
    o->snd_una = c->snd_una;
    o->snd_nxt = c->snd_nxt;
    o->snd_max = c->snd_max;
    o->snd_wnd = c->snd_wnd;
    o->cwnd = c->cwnd;
    o->ssthresh = c->ssthresh;
    o->sacked = c->sacked_bytes;
    o->backoff = c->retries;
    bool sack_rec = ts_in_recovery(c) && c->sack_rec;
    o->flight = sack_rec ? ts_sack_pipe(c) : ts_flight(c);
    o->lost = 0;
    if (sack_rec || c->ca_state == TS_CA_LOSS) {
        uint32_t end = ts_sack_lost_end(c);
        o->lost = end - c->snd_una - ts_sack_below(c, end);
    }
    o->state = c->state;
    o->ca_state = c->ca_state; /* tcp_loss.c's */
}

static void fill_info(const ts_conn *c, ts_tcp_info *o)
{
    memset(o, 0, sizeof *o);
    o->state = c->state;
    o->conn_id = c->id;
    o->local = c->local;
    o->remote = c->remote;
    o->iss = c->iss;
    o->irs = c->irs;
    o->snd_una = c->snd_una;
    o->snd_nxt = c->snd_nxt;
    o->snd_wnd = c->snd_wnd;
    o->snd_wl1 = c->snd_wl1;
    o->snd_wl2 = c->snd_wl2;
    o->rcv_nxt = c->rcv_nxt;
    o->rcv_wnd = ts_rcv_space(c);
    o->snd_mss = c->snd_mss;
    o->rcv_mss = c->rcv_mss;
    o->snd_wscale = c->snd_wscale;
    o->rcv_wscale = c->rcv_wscale;
    o->wscale_ok = c->ws_ok;
    o->sack_ok = c->sack_ok;
    o->ts_ok = c->ts_ok;
    o->srtt = c->srtt;
    o->rttvar = c->rttvar;
    o->rto = c->rto;
    o->cwnd = c->cwnd;
    o->ssthresh = c->ssthresh;
    o->retransmits = c->total_retrans;
    o->backoff = c->retries;
    o->dupacks = c->dupacks;
    o->in_recovery = ts_in_recovery(c);
    o->delack_pending = c->ack_pending;
    o->pingpong = c->pingpong;
    o->quickack_left = c->quickack_left;
    o->snd_queued = c->sndq.len;
    o->rcv_queued = c->rcvq.len;
    o->snd_ring = c->sndq.cap;
    o->rcv_ring = c->rcvq.cap;
    o->ooo_ranges = c->ooo_n;
    o->snd_unsent = unsent(c);
    o->fin_rcvd = c->fin_rcvd;
    memcpy(o->cc, c->p->cc, sizeof o->cc);
    ts_conn_vars v;
    fill_vars(c, &v);
    o->snd_max = v.snd_max;
    o->sacked = v.sacked;
    o->flight = v.flight;
    o->lost = v.lost;
    o->ca_state = v.ca_state;
    memcpy(o->timer, c->timer, sizeof o->timer);
}

int ts_sock_info(ts_stack *s, int sd, ts_tcp_info *out)
{
    GET_CONN(s, sd, c);
    fill_info(c, out);
    return 0;
}

size_t ts_stack_conns(ts_stack *s, ts_tcp_info *out, size_t max)
{
    size_t n = 0;
    for (uint32_t i = 0; i <= s->hmask; i++)
        for (ts_conn *c = s->htab[i]; c; c = c->hnext) {
            if (n < max) fill_info(c, &out[n]);
            n++;
        }
    for (uint32_t i = 0; i < s->nsocks; i++) { /* sockets not in the hash (CLOSED) */
        ts_conn *c = s->socks[i].conn;
        if (!c || c->hashed) continue;
        if (n < max) fill_info(c, &out[n]);
        n++;
    }
    for (uint32_t i = 0; s->tw_htab && i <= s->tw_hmask; i++) /* TIME-WAIT blocks */
        for (const ts_tw *t = s->tw_htab[i]; t; t = t->hnext) {
            if (n < max) ts_tw_info(t, &out[n]);
            n++;
        }
    for (uint32_t i = 0; s->req_htab && i <= s->req_hmask; i++) /* request blocks */
        for (const ts_req *r = s->req_htab[i]; r; r = r->hnext) {
            if (n < max) {
                ts_conn c;
                ts_req_rebuild(s, r, &c);
                fill_info(&c, &out[n]);
            }
            n++;
        }
    return n;
}

/* The connection of an id: O(1) for the event being delivered, a scan otherwise. */
static const ts_conn *conn_by_id(const ts_stack *s, uint32_t conn_id)
{
    if (s->ev_conn && s->ev_conn->id == conn_id) return s->ev_conn;
    for (uint32_t i = 0; i <= s->hmask; i++)
        for (const ts_conn *c = s->htab[i]; c; c = c->hnext)
            if (c->id == conn_id) return c;
    for (uint32_t i = 0; i < s->nsocks; i++) {
        const ts_conn *c = s->socks[i].conn;
        if (c && c->id == conn_id) return c;
    }
    return NULL;
}

/* The child a request block (tcp_req.c) of this id stands for, rebuilt in *tmp; NULL if
 * there is no such block. */
static const ts_conn *req_by_id(ts_stack *s, uint32_t conn_id, ts_conn *tmp)
{
    const ts_req *r = ts_req_by_id(s, conn_id);
    if (!r) return NULL;
    ts_req_rebuild(s, r, tmp);
    return tmp;
}

/* A TIME-WAIT block's (tcp_tw.c) by id: O(1) for the event being delivered. */
static const ts_tw *tw_by_id(const ts_stack *s, uint32_t conn_id)
{
    if (s->ev_tw && s->ev_tw->id == conn_id) return s->ev_tw;
    if (s->ev_conn && s->ev_conn->id == conn_id) return NULL;
    return ts_tw_by_id(s, conn_id);
}

int ts_stack_conn_vars(ts_stack *s, uint32_t conn_id, ts_conn_vars *out)
{
    const ts_tw *tw = tw_by_id(s, conn_id);
    if (tw) {
        ts_tcp_info i;
        ts_tw_info(tw, &i);
        *out = (ts_conn_vars){i.srtt,    i.rttvar,  i.rto,     i.snd_una,  i.snd_nxt,
                              i.snd_max, i.snd_wnd, i.cwnd,    i.ssthresh, i.flight,
                              i.sacked,  i.lost,    i.backoff, i.state,    i.ca_state};
        return 0;
    }
    ts_conn tmp;
    const ts_conn *c = conn_by_id(s, conn_id);
    if (!c) c = req_by_id(s, conn_id, &tmp);
    if (!c) return -ENOENT;
    fill_vars(c, out);
    return 0;
}

int ts_stack_conn_info(ts_stack *s, uint32_t conn_id, ts_tcp_info *out)
{
    const ts_tw *tw = tw_by_id(s, conn_id);
    if (tw) {
        ts_tw_info(tw, out);
        return 0;
    }
    ts_conn tmp;
    const ts_conn *c = conn_by_id(s, conn_id);
    if (!c) c = req_by_id(s, conn_id, &tmp);
    if (!c) return -ENOENT;
    fill_info(c, out);
    return 0;
}

/* A RST to a peer that still holds the connection, and the connection done: 1 if sent. */
static size_t reset_one(ts_stack *s, ts_conn *c)
{
    bool synced = ts_state_peer_synced(c->state);
    if (synced) ts_send_rst(s, c);
    ts_conn_done(s, c, synced ? -ECONNRESET : 0);
    return synced;
}

size_t ts_stack_reset_all(ts_stack *s)
{
    size_t n = 0;
    ts_enter(s);
    /* embryos in blocks (tcp_req.c) back in the table first, to be reset in its order */
    for (uint32_t i = 0; s->req_htab && i <= s->req_hmask; i++)
        while (s->req_htab[i] && ts_req_materialize(s, s->req_htab[i])) {
        }
    for (uint32_t i = 0; i <= s->hmask; i++) {
        for (ts_conn *c = s->htab[i], *next; c; c = next) {
            next = c->hnext; /* ts_conn_done unhashes c */
            n += reset_one(s, c);
        }
    }
    for (uint32_t i = 0; s->tw_htab && i <= s->tw_hmask; i++) /* TIME-WAIT: silently */
        while (s->tw_htab[i]) ts_tw_close(s, s->tw_htab[i]);
    for (uint32_t i = 0; s->req_htab && i <= s->req_hmask; i++) /* out of memory for them */
        while (s->req_htab[i]) {
            ts_conn *c = ts_req_child(s, &s->req_htab[i]->q);
            if (c) n += reset_one(s, c);
        }
    ts_leave(s);
    return n;
}
