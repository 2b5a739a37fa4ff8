/* svc_discard.c: the discard service (RFC 863): read everything, keep nothing, close when
 * the peer closes. All connections share one scratch buffer: nothing is kept between
 * events. */
#include <errno.h>

#include "svc_common.h"

static bool discard_event(svc_conn *c, unsigned events)
{
    static char scratch[65536];
    (void)events;
    for (;;) {
        ssize_t n = ts_recv(c->stack, c->sd, scratch, sizeof scratch);
        if (n > 0) continue;
        if (n == -EAGAIN) return true;
        return false; /* 0: the peer's FIN, answered by ours; < 0: the connection failed */
    }
}

const svc_ops ts_svc_discard_ops = {
    .name = "discard",
    .conn_size = sizeof(svc_conn),
    .event = discard_event,
};
