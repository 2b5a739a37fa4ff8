/* svc_common.h: what the services share (private to svc_*.c): a listener that accepts
 * every connection and hands its readiness events to one service's handlers, and a small
 * growable output buffer for services whose replies may not fit the send buffer at once. */
#ifndef TS_SVC_COMMON_H
#define TS_SVC_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include "services.h"

typedef struct svc_conn svc_conn;

/* One service: its name, the size of its per-connection state (a svc_conn first), and
 * handlers. event returns false to close the connection gracefully (ts_close). */
typedef struct svc_ops {
    const char *name;
    size_t conn_size;
    bool (*open)(svc_conn *c);                   /* after accept; false = close */
    bool (*event)(svc_conn *c, unsigned events); /* TS_SOCK_* bits */
    void (*release)(svc_conn *c);                /* free what open allocated */
} svc_ops;

struct svc_conn {
    ts_stack *stack;
    int sd;
    ts_service *svc;
    const svc_ops *ops;
    svc_conn *prev, *next;
    bool in_event;    /* a handler is running: queue events instead of re-entering */
    unsigned pending; /* events reported while the handler ran */
};

extern const svc_ops ts_svc_echo_ops, ts_svc_discard_ops, ts_svc_chargen_ops, ts_svc_telnet_ops;

/* An output queue: bytes a service produced but the stack has not accepted yet. */
typedef struct svc_outbuf {
    char *data;
    size_t len, cap, limit;
} svc_outbuf;

/* Append; false if the limit would be passed (the bytes are dropped). */
bool svc_out_append(svc_outbuf *o, const void *p, size_t n);
/* Send as much as the stack takes. 0 when empty, 1 when bytes remain (wait for
 * TS_SOCK_WRITABLE), or the negative error of ts_send. */
int svc_out_flush(svc_outbuf *o, ts_stack *s, int sd);
void svc_out_free(svc_outbuf *o);

#endif
