/* svc_common.c: the service framework: ts_service_start listens on a port and accepts
 * every connection; each connection's readiness events go to its service's handlers until
 * the handler or the network ends it. Connections sit on a doubly linked list so that
 * closing one is O(1) and ts_service_stop can close them all. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc_common.h"

struct ts_service {
    ts_stack *stack;
    int listen_sd;
    uint16_t port;
    const svc_ops *ops;
    svc_conn *conns; /* list head */
};

static const svc_ops *const all_ops[] = {&ts_svc_echo_ops, &ts_svc_discard_ops, &ts_svc_chargen_ops,
                                         &ts_svc_telnet_ops};

static const svc_ops *find_ops(const char *name)
{
    for (size_t i = 0; i < sizeof all_ops / sizeof all_ops[0]; i++)
        if (!strcmp(all_ops[i]->name, name)) return all_ops[i];
    return NULL;
}

int ts_service_known(const char *name)
{
    return find_ops(name) != NULL;
}

static void unlink_conn(svc_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->svc->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void finish_conn(svc_conn *c, bool abort_it)
{
    ts_sock_set_callback(c->stack, c->sd, NULL, NULL);
    if (abort_it)
        ts_abort(c->stack, c->sd);
    else
        ts_close(c->stack, c->sd);
    unlink_conn(c);
    if (c->ops->release) c->ops->release(c);
    free(c);
}

static void conn_cb(ts_stack *s, int sd, unsigned events, void *ctx)
{
    (void)s;
    (void)sd;
    svc_conn *c = ctx;
    /* A socket call made by the handler may report events of its own: keep them for the
     * handler's next round instead of re-entering it. */
    if (c->in_event) {
        c->pending |= events;
        return;
    }
    c->in_event = true;
    bool keep = true;
    while (events) {
        c->pending = 0;
        keep = c->ops->event(c, events);
        /* A reset or timed-out connection is gone whatever the handler thought. */
        if (!keep || (events & TS_SOCK_CLOSED)) {
            keep = false;
            break;
        }
        events = c->pending;
    }
    c->in_event = false;
    if (!keep) finish_conn(c, false);
}

static void listen_cb(ts_stack *s, int sd, unsigned events, void *ctx)
{
    ts_service *svc = ctx;
    if (!(events & TS_SOCK_READABLE)) return;
    for (;;) {
        int csd = ts_accept(s, sd, NULL);
        if (csd < 0) break; /* -EAGAIN: the queue is empty */
        svc_conn *c = calloc(1, svc->ops->conn_size);
        if (!c) {
            ts_abort(s, csd);
            continue;
        }
        c->stack = s;
        c->sd = csd;
        c->svc = svc;
        c->ops = svc->ops;
        c->next = svc->conns;
        if (svc->conns) svc->conns->prev = c;
        svc->conns = c;
        ts_sock_set_callback(s, csd, conn_cb, c);
        if (c->ops->open && !c->ops->open(c)) {
            finish_conn(c, false);
            continue;
        }
        /* Whatever arrived with the handshake (data, even a FIN) is there already. */
        conn_cb(s, csd, ts_sock_events(s, csd) | TS_SOCK_CONNECTED, c);
    }
}

ts_service *ts_service_start(ts_stack *s, const char *name, uint16_t port, char *err, size_t errlen)
{
    const svc_ops *ops = find_ops(name);
    if (!ops) {
        snprintf(err, errlen, "unknown service '%s': use echo, discard, chargen or telnet", name);
        return NULL;
    }
    ts_service *svc = calloc(1, sizeof *svc);
    if (!svc) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    svc->stack = s;
    svc->port = port;
    svc->ops = ops;
    int sd = ts_socket(s);
    int r = sd;
    if (sd >= 0) r = ts_bind(s, sd, 0, port);
    if (r >= 0) r = ts_listen(s, sd, 0);
    if (r < 0) {
        snprintf(err, errlen, "%s on port %u: %s", name, port,
                 r == -EADDRINUSE ? "port in use: give each --listen its own port" : strerror(-r));
        if (sd >= 0) ts_close(s, sd);
        free(svc);
        return NULL;
    }
    svc->listen_sd = sd;
    ts_sock_set_callback(s, sd, listen_cb, svc);
    return svc;
}

void ts_service_stop(ts_service *svc)
{
    if (!svc) return;
    ts_sock_set_callback(svc->stack, svc->listen_sd, NULL, NULL);
    ts_close(svc->stack, svc->listen_sd);
    while (svc->conns) finish_conn(svc->conns, false);
    free(svc);
}

/* ---- output buffer ------------------------------------------------------------------- */

bool svc_out_append(svc_outbuf *o, const void *p, size_t n)
{
    if (o->limit && o->len + n > o->limit) return false;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 1024;
        while (cap < o->len + n) cap *= 2;
        char *d = realloc(o->data, cap);
        if (!d) return false;
        o->data = d;
        o->cap = cap;
    }
    memcpy(o->data + o->len, p, n);
    o->len += n;
    return true;
}

int svc_out_flush(svc_outbuf *o, ts_stack *s, int sd)
{
    size_t off = 0;
    while (off < o->len) {
        ssize_t n = ts_send(s, sd, o->data + off, o->len - off);
        if (n == -EAGAIN || n == 0) break;
        if (n < 0) {
            o->len = 0;
            return (int)n;
        }
        off += (size_t)n;
    }
    memmove(o->data, o->data + off, o->len - off);
    o->len -= off;
    return o->len ? 1 : 0;
}

void svc_out_free(svc_outbuf *o)
{
    free(o->data);
    memset(o, 0, sizeof *o);
}

void *ts_service_hook_start(void *ctx, ts_stack *s, const char *name, uint16_t port, char *err,
                            size_t errlen)
{
    (void)ctx;
    return ts_service_start(s, name, port, err, errlen);
}

void ts_service_hook_stop(void *ctx, void *svc)
{
    (void)ctx;
    ts_service_stop(svc);
}
