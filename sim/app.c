/* sim/app.c: the scripted application on each stack host: the socket calls a scenario's
 * `at` lines make (listen, connect, send, shutdown, close, abort, set), and what it does
 * when the stack calls back: accept, read everything (checking every byte against what the
 * other side's application sent), close on EOF, and record when things happened. */
#include "world.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint8_t rbuf[65536]; /* one read buffer: the world is single-threaded */

static void sock_cb(ts_stack *s, int sd, unsigned events, void *ctx);

static const char *ep_str(const ts_endpoint *e, char *buf)
{
    char a[16];
    sprintf(buf, "%s.%u", ts_ip4_format(e->addr, a), e->port);
    return buf;
}

sim_conn *sim_host_conn(sim_host *h, int num)
{
    if (h->nconns == 0) return NULL;
    if (num == 0) return h->conns[h->nconns - 1];
    return (size_t)num <= h->nconns ? h->conns[num - 1] : NULL;
}

static sim_conn *conn_new(sim_host *h, int sd)
{
    if (h->nconns == h->capconns) {
        size_t ncap = h->capconns ? h->capconns * 2 : 4;
        sim_conn **n = realloc(h->conns, ncap * sizeof *n);
        if (!n) return NULL;
        h->conns = n;
        h->capconns = ncap;
    }
    sim_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->kind = OBJ_CONN;
    c->h = h;
    c->sd = sd;
    c->num = (int)h->nconns + 1;
    h->conns[h->nconns++] = c;
    return c;
}

void sim_app_destroy(sim_host *h)
{
    for (size_t i = 0; i < h->nconns; i++) {
        free(h->conns[i]->log);
        free(h->conns[i]);
    }
    free(h->conns);
    for (size_t i = 0; i < h->nlsn; i++) free(h->lsn[i]);
    free(h->lsn);
    h->conns = NULL;
    h->lsn = NULL;
    h->nconns = h->nlsn = 0;
}

static void learn_tuple(sim_conn *c)
{
    ts_stack *s = c->h->stack;
    if (c->sd < 0) return;
    if (ts_getsockname(s, c->sd, &c->local) == 0 && ts_getpeername(s, c->sd, &c->remote) == 0)
        c->tuple = true;
}

/* Find the other end's application connection (the reversed 4-tuple on another host). */
static void pair(sim_conn *c)
{
    if (c->peer || !c->tuple) return;
    ts_sim *w = c->h->w;
    for (size_t i = 0; i < w->nhosts; i++) {
        sim_host *o = &w->hosts[i];
        if (o->cfg->addr != c->remote.addr) continue;
        for (size_t k = o->nconns; k-- > 0;) {
            sim_conn *x = o->conns[k];
            if (x->tuple && !x->peer && x->local.addr == c->remote.addr &&
                x->local.port == c->remote.port && x->remote.addr == c->local.addr &&
                x->remote.port == c->local.port) {
                x->peer = c;
                c->peer = x;
                return;
            }
        }
    }
}

/* ---- sending ---- */

static void conn_release(sim_conn *c, bool abort)
{
    if (c->sd < 0) return;
    ts_stack *s = c->h->stack;
    if (abort)
        ts_abort(s, c->sd);
    else
        ts_close(s, c->sd);
    c->sd = -1;
}

/* Hand queued application data to the stack as far as its send buffer takes it; then a
 * deferred shutdown or close, which a real application would make after its writes. */
static void conn_push(sim_conn *c)
{
    if (c->sd < 0 || !c->connected || c->dead) return;
    ts_stack *s = c->h->stack;
    const uint8_t *pat = sim_pattern();
    while (c->log_next < c->nlog) {
        const sim_sendop *op = &c->log[c->log_next];
        uint64_t done = c->queued - op->start;
        if (done >= op->len) {
            c->log_next++;
            continue;
        }
        uint64_t left = op->len - done;
        const uint8_t *p;
        size_t n;
        if (op->text) {
            p = op->text + done;
            n = left;
        } else {
            size_t pos = (size_t)(c->queued & SIM_PATTERN_MASK);
            p = pat + pos;
            n = SIM_PATTERN_MASK + 1 - pos;
            if (n > left) n = (size_t)left;
        }
        ssize_t r = ts_send(s, c->sd, p, n);
        if (r > 0) {
            c->queued += (uint64_t)r;
            continue;
        }
        if (r == 0 || r == -EAGAIN) return; /* wait for TS_SOCK_WRITABLE */
        sim_tracef(c->h->w, "%s/%d: send -> %s", c->h->cfg->name, c->num,
                   ts_scn_errno_name((int)r));
        c->dead = true;
        return;
    }
    if (c->shut_pending) {
        c->shut_pending = false;
        ts_shutdown(s, c->sd, c->shut_how);
    }
    if (c->close_pending) {
        c->close_pending = false;
        conn_release(c, false);
    }
}

/* ---- receiving ---- */

/* Compare n bytes read at stream offset c->received with what the sending application
 * logged; count the bytes that differ or that it never sent. */
static void verify(sim_conn *c, const uint8_t *buf, size_t n)
{
    if (!c->peer) pair(c);
    sim_conn *p = c->peer;
    if (!p) {
        c->unchecked += n; /* e.g. a service or a scripted peer sent them */
        return;
    }
    uint64_t off = c->received;
    const uint8_t *pat = sim_pattern();
    while (n) {
        while (c->peer_log_i < p->nlog &&
               p->log[c->peer_log_i].start + p->log[c->peer_log_i].len <= off)
            c->peer_log_i++;
        if (c->peer_log_i == p->nlog || p->log[c->peer_log_i].start > off) {
            c->bad_bytes += n;
            return;
        }
        const sim_sendop *op = &p->log[c->peer_log_i];
        size_t k = n;
        if (op->start + op->len - off < k) k = (size_t)(op->start + op->len - off);
        if (op->text) {
            if (memcmp(buf, op->text + (off - op->start), k)) c->bad_bytes += k;
        } else {
            for (size_t done = 0; done < k;) {
                size_t pos = (size_t)((off + done) & SIM_PATTERN_MASK);
                size_t piece = SIM_PATTERN_MASK + 1 - pos;
                if (piece > k - done) piece = k - done;
                if (memcmp(buf + done, pat + pos, piece)) c->bad_bytes += piece;
                done += piece;
            }
        }
        buf += k;
        n -= k;
        off += k;
    }
}

static void conn_close(sim_conn *c)
{
    if (c->sd < 0) return;
    if (c->log_next < c->nlog && !c->dead) {
        c->close_pending = true;
        return;
    }
    conn_release(c, false);
}

static void conn_read(sim_conn *c)
{
    ts_sim *w = c->h->w;
    while (c->read && c->sd >= 0 && !c->eof) {
        ssize_t n = ts_recv(c->h->stack, c->sd, rbuf, sizeof rbuf);
        if (n > 0) {
            verify(c, rbuf, (size_t)n);
            if (c->head_len < sizeof c->head) {
                size_t k = sizeof c->head - c->head_len;
                if (k > (size_t)n) k = (size_t)n;
                memcpy(c->head + c->head_len, rbuf, k);
                c->head_len += k;
            }
            c->received += (uint64_t)n;
            c->last_read_at = w->now;
            continue;
        }
        if (n == 0) {
            c->eof = true;
            c->eof_at = w->now;
            sim_tracef(w, "%s/%d: read -> 0 (EOF) after %llu bytes", c->h->cfg->name, c->num,
                       (unsigned long long)c->received);
            if (c->eof_close) conn_close(c);
            return;
        }
        if (n != -EAGAIN && !c->error && !(c->active && c->connect_err)) {
            c->error = (int)n;
            c->error_at = w->now;
            sim_tracef(w, "%s/%d: read -> %s", c->h->cfg->name, c->num, ts_scn_errno_name((int)n));
        }
        return;
    }
}

/* ---- stack callbacks ---- */

static void conn_events(sim_conn *c, unsigned ev)
{
    ts_sim *w = c->h->w;
    if (ev & TS_SOCK_CONNECTED && !c->connected) {
        c->connected = true;
        learn_tuple(c);
        if (c->active && !c->connect_done) {
            c->connect_done = true;
            c->connect_err = 0;
            c->connect_at = w->now;
            sim_tracef(w, "%s/%d: connected", c->h->cfg->name, c->num);
        }
        pair(c);
    }
    if (ev & TS_SOCK_ERROR && c->sd >= 0) {
        int err = ts_sock_error(c->h->stack, c->sd);
        if (err) {
            if (c->active && !c->connect_done) {
                c->connect_done = true;
                c->connect_err = err;
                c->connect_at = w->now;
                sim_tracef(w, "%s/%d: connect -> %s", c->h->cfg->name, c->num,
                           ts_scn_errno_name(err));
            } else if (!c->error) {
                c->error = err;
                c->error_at = w->now;
                sim_tracef(w, "%s/%d: error %s", c->h->cfg->name, c->num, ts_scn_errno_name(err));
            }
            c->dead = true;
        }
    }
    if (ev & TS_SOCK_READABLE) conn_read(c);
    if (ev & TS_SOCK_WRITABLE) conn_push(c);
}

static void do_send(ts_sim *w, sim_conn *c, const ts_scn_action *a);

static void accept_all(sim_listener *l)
{
    sim_host *h = l->h;
    ts_sim *w = h->w;
    for (;;) {
        ts_endpoint peer;
        int sd = ts_accept(h->stack, l->sd, &peer);
        if (sd < 0) return;
        sim_conn *c = conn_new(h, sd);
        if (!c) {
            sim_runtime_error(w, 0, "out of memory for a connection");
            ts_abort(h->stack, sd);
            return;
        }
        c->read = l->read;
        c->eof_close = l->eof_close;
        c->connected = true;
        c->accepted = true;
        c->accept_at = w->now;
        learn_tuple(c);
        char a[32], b[32];
        sim_tracef(w, "%s/%d: accepted %s from %s", h->cfg->name, c->num, ep_str(&c->local, a),
                   ep_str(&c->remote, b));
        pair(c);
        ts_sock_set_callback(h->stack, sd, sock_cb, c);
        if (l->send) { /* a server that answers every client at once (listen send=N) */
            ts_scn_action act = {.kind = TS_ACT_SEND, .count = l->send, .line = l->line};
            do_send(w, c, &act);
        }
        conn_events(c, ts_sock_events(h->stack, sd) & ~(unsigned)TS_SOCK_CONNECTED);
    }
}

static void sock_cb(ts_stack *s, int sd, unsigned events, void *ctx)
{
    (void)s;
    (void)sd;
    if (*(sim_obj_kind *)ctx == OBJ_LISTENER) {
        if (events & TS_SOCK_READABLE) accept_all(ctx);
        return;
    }
    conn_events(ctx, events);
}

/* ---- actions ---- */

static void do_listen(ts_sim *w, sim_host *h, const ts_scn_action *a)
{
    ts_stack *s = h->stack;
    int sd = ts_socket(s);
    int rc = sd < 0 ? sd : ts_bind(s, sd, 0, a->port);
    if (rc == 0) rc = ts_listen(s, sd, 0);
    if (rc < 0) {
        sim_runtime_error(w, a->line, "%s: listen on port %u failed: %s", h->cfg->name, a->port,
                          ts_scn_errno_name(rc));
        if (sd >= 0) ts_close(s, sd);
        return;
    }
    sim_listener *l = calloc(1, sizeof *l);
    sim_listener **n = l ? realloc(h->lsn, (h->nlsn + 1) * sizeof *n) : NULL;
    if (!n) {
        free(l);
        sim_runtime_error(w, a->line, "out of memory");
        ts_close(s, sd);
        return;
    }
    h->lsn = n;
    h->lsn[h->nlsn++] = l;
    *l = (sim_listener){OBJ_LISTENER, h, sd, a->port, a->read, a->eof_close, a->count, a->line};
    ts_sock_set_callback(s, sd, sock_cb, l);
    sim_tracef(w, "%s: listening on port %u", h->cfg->name, a->port);
}

static void do_connect(ts_sim *w, sim_host *h, const ts_scn_action *a)
{
    ts_stack *s = h->stack;
    int sd = ts_socket(s);
    char abuf[16];
    if (sd < 0) {
        sim_runtime_error(w, a->line, "%s: socket failed: %s", h->cfg->name, ts_scn_errno_name(sd));
        return;
    }
    sim_conn *c = conn_new(h, sd);
    if (!c) {
        ts_close(s, sd);
        sim_runtime_error(w, a->line, "out of memory");
        return;
    }
    c->active = true;
    c->open_at = w->now;
    c->read = a->read;
    c->eof_close = a->eof_close;
    int rc = a->lport ? ts_bind(s, sd, 0, a->lport) : 0;
    ts_sock_set_callback(s, sd, sock_cb, c);
    if (rc == 0) rc = ts_connect(s, sd, a->addr, a->port);
    sim_tracef(w, "%s/%d: connect %s:%u -> %s", h->cfg->name, c->num, ts_ip4_format(a->addr, abuf),
               a->port, ts_scn_errno_name(rc));
    if (rc < 0 && rc != -EINPROGRESS) {
        c->connect_done = true;
        c->connect_err = rc;
        c->connect_at = w->now;
        c->dead = true;
        return;
    }
    learn_tuple(c);
    if (rc == 0) conn_events(c, TS_SOCK_CONNECTED);
}

static sim_conn *need_conn(ts_sim *w, sim_host *h, const ts_scn_action *a, const char *what)
{
    sim_conn *c = sim_host_conn(h, a->conn);
    if (!c) {
        if (a->conn)
            sim_runtime_error(w, a->line, "%s: no connection %d to %s", h->cfg->name, a->conn,
                              what);
        else
            sim_runtime_error(w, a->line, "%s: no connection to %s yet", h->cfg->name, what);
    }
    return c;
}

static void do_send(ts_sim *w, sim_conn *c, const ts_scn_action *a)
{
    if (c->nlog == c->caplog) {
        size_t ncap = c->caplog ? c->caplog * 2 : 4;
        sim_sendop *n = realloc(c->log, ncap * sizeof *n);
        if (!n) {
            sim_runtime_error(w, a->line, "out of memory");
            return;
        }
        c->log = n;
        c->caplog = ncap;
    }
    uint64_t len = a->text ? a->text_len : a->count;
    c->log[c->nlog++] = (sim_sendop){c->total, len, a->text};
    c->total += len;
    sim_tracef(w, "%s/%d: send %llu bytes", c->h->cfg->name, c->num, (unsigned long long)len);
    if (c->sd < 0)
        sim_runtime_error(w, a->line, "%s/%d: send on a closed socket", c->h->cfg->name, c->num);
    conn_push(c);
}

static void do_set(ts_sim *w, sim_host *h, const ts_scn_action *a)
{
    char err[256];
    ts_params defaults = *ts_stack_params(h->stack); /* `default`: set together, then checked */
    for (size_t i = 0; i < a->nkv; i++) {
        const char *kv = a->kv[i];
        const char *eq = strchr(kv, '=');
        char name[64];
        size_t nl = (size_t)(eq - kv) < sizeof name ? (size_t)(eq - kv) : sizeof name - 1;
        memcpy(name, kv, nl);
        name[nl] = '\0';
        int rc;
        if (a->kind == TS_ACT_DEFAULT) {
            rc = ts_params_set_kv(&defaults, kv, err, sizeof err);
        } else {
            sim_conn *c = need_conn(w, h, a, "set parameters on");
            if (!c) return;
            if (c->sd < 0) {
                sim_runtime_error(w, a->line, "%s/%d: set on a closed socket", h->cfg->name,
                                  c->num);
                return;
            }
            rc = ts_sock_set_param(h->stack, c->sd, name, eq + 1, err, sizeof err);
        }
        if (rc < 0)
            sim_runtime_error(w, a->line, "%s: set %s: %s", h->cfg->name, kv, err);
        else
            sim_tracef(w, "%s: set %s", h->cfg->name, kv);
    }
    if (a->kind == TS_ACT_DEFAULT && ts_stack_set_params(h->stack, &defaults, err, sizeof err) < 0)
        sim_runtime_error(w, a->line, "%s: default: %s", h->cfg->name, err);
}

void sim_app_action(ts_sim *w, const ts_scn_action *a)
{
    sim_host *h = &w->hosts[a->host];
    sim_conn *c;
    switch (a->kind) {
    case TS_ACT_LISTEN: do_listen(w, h, a); return;
    case TS_ACT_SERVE: {
        char err[256] = "";
        void *svc = w->o.hooks.service_start
                        ? w->o.hooks.service_start(w->o.hooks.service_ctx, h->stack, a->service,
                                                   a->port, err, sizeof err)
                        : NULL;
        void **n = svc ? realloc(h->svcs, (h->nsvcs + 1) * sizeof *n) : NULL;
        if (!n) {
            if (svc && w->o.hooks.service_stop)
                w->o.hooks.service_stop(w->o.hooks.service_ctx, svc);
            sim_runtime_error(w, a->line, "%s: serve %s: %s", h->cfg->name, a->service,
                              err[0] ? err : "not available");
            return;
        }
        h->svcs = n;
        h->svcs[h->nsvcs++] = svc;
        sim_tracef(w, "%s: serving %s on port %u", h->cfg->name, a->service, a->port);
        return;
    }
    case TS_ACT_CONNECT: do_connect(w, h, a); return;
    case TS_ACT_DEFAULT: do_set(w, h, a); return;
    case TS_ACT_SET: do_set(w, h, a); return;
    case TS_ACT_INJECT: return; /* world.c routes it to peer.c */
    default: break;
    }
    c = need_conn(w, h, a, "act on");
    if (!c) return;
    switch (a->kind) {
    case TS_ACT_SEND: do_send(w, c, a); break;
    case TS_ACT_SHUTDOWN:
        sim_tracef(w, "%s/%d: shutdown", h->cfg->name, c->num);
        if (c->sd < 0) break;
        if (c->log_next < c->nlog && !c->dead) {
            c->shut_pending = true;
            c->shut_how = a->how;
        } else {
            ts_shutdown(h->stack, c->sd, a->how);
        }
        break;
    case TS_ACT_CLOSE:
        sim_tracef(w, "%s/%d: close", h->cfg->name, c->num);
        conn_close(c);
        break;
    case TS_ACT_ABORT:
        sim_tracef(w, "%s/%d: abort", h->cfg->name, c->num);
        c->dead = true;
        conn_release(c, true);
        break;
    case TS_ACT_READ:
        c->read = a->read;
        sim_tracef(w, "%s/%d: read %s", h->cfg->name, c->num, a->read ? "on" : "off");
        if (c->read) conn_read(c);
        break;
    default: break;
    }
}

void ts_sim_get_app_stats(const ts_sim *w, ts_sim_app_stats *st)
{
    memset(st, 0, sizeof *st);
    st->first_open = st->last_read = TS_TIME_NEVER;
    for (size_t i = 0; i < w->nhosts; i++) {
        const sim_host *h = &w->hosts[i];
        for (size_t k = 0; k < h->nconns; k++) {
            const sim_conn *c = h->conns[k];
            st->to_send += c->total;
            st->received += c->received;
            st->bad += c->bad_bytes;
            if (c->received && (st->last_read == TS_TIME_NEVER || c->last_read_at > st->last_read))
                st->last_read = c->last_read_at;
            if (!c->active) continue;
            st->active++;
            if (st->first_open == TS_TIME_NEVER || c->open_at < st->first_open)
                st->first_open = c->open_at;
            if (c->connect_done && !c->connect_err) {
                st->connected++;
                if (c->connect_at - c->open_at > st->connect_max)
                    st->connect_max = c->connect_at - c->open_at;
            } else {
                st->connect_failed++;
            }
        }
    }
}
