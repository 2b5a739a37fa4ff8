/* delack_every.c: no delayed ACKs: every data segment is ACKed at once (RFC 1122 4.2.3.2
 * allows delaying, it does not require it; Linux's TCP_QUICKACK kept on, or delack=0
 * under the other policies). Twice the ACKs of the others in a bulk transfer, and a
 * separate ACK before every reply in an interactive one. */
#include "internal.h"

static bool every_on_data(ts_conn *c, ts_time_t now, uint32_t len, ts_time_t *delay)
{
    (void)c, (void)now, (void)len, (void)delay;
    return true;
}

const ts_delack_ops ts_delack_every = {.name = "every", .on_data = every_on_data};
