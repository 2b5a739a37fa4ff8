/* svc_echo.c: the echo service (RFC 862): send back every byte received. When the stack
 * accepts fewer bytes than were read, the rest waits in the connection's buffer and reading
 * stops until the socket is writable again, so the peer's sending is throttled by TCP's
 * own flow control and no byte is lost. At the peer's FIN the service flushes and closes. */
#include <errno.h>

#include "svc_common.h"

#define ECHO_BUF 16384

typedef struct echo_conn {
    svc_conn base;
    size_t off, len; /* bytes buf[off, off+len) still to send */
    bool eof;        /* the peer's FIN was read */
    char buf[ECHO_BUF];
} echo_conn;

static bool echo_event(svc_conn *c, unsigned events)
{
    echo_conn *e = (echo_conn *)c;
    (void)events;
    for (;;) {
        while (e->len) {
            ssize_t n = ts_send(c->stack, c->sd, e->buf + e->off, e->len);
            if (n == -EAGAIN || n == 0) return true; /* wait for TS_SOCK_WRITABLE */
            if (n < 0) return false;
            e->off += (size_t)n;
            e->len -= (size_t)n;
        }
        if (e->eof) return false; /* everything echoed: close (FIN after the data) */
        ssize_t n = ts_recv(c->stack, c->sd, e->buf, sizeof e->buf);
        if (n == -EAGAIN) return true;
        if (n < 0) return false;
        if (n == 0) {
            e->eof = true;
            continue;
        }
        e->off = 0;
        e->len = (size_t)n;
    }
}

const svc_ops ts_svc_echo_ops = {
    .name = "echo",
    .conn_size = sizeof(echo_conn),
    .event = echo_event,
};
