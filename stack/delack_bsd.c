/* delack_bsd.c: delayed ACKs as 4.4BSD does them (tcp_input's TF_DELACK, sent by
 * tcp_fasttimo) and lwIP after it (tcp_tmr's fast timer): a free-running heartbeat common
 * to the host, not a timer per segment. A delayed ACK leaves at the next tick, at a
 * multiple of the period on the stack's clock, so its delay is anywhere in (0, period]:
 * data at 1.05 s is ACKed at 1.2 s, data at 1.199 s at 1.2 s too, data at exactly 1.2 s at
 * 1.4 s (the tick has run). The period is `delack_max` (200 ms: BSD's PR_FASTHZ = 5 per
 * second); 0 ACKs at once. Every `delack_segs` (2) full-sized segments are ACKed at once
 * (4.4BSD's tcp_output sends one when the window opens by two segments). No quick-ACK, no
 * interactive mode: a reply carries the ACK only if it happens to leave before the tick. */
#include "internal.h"

static bool bsd_on_data(ts_conn *c, ts_time_t now, uint32_t len, ts_time_t *delay)
{
    ts_time_t period = c->p->delack_max;
    if (period == 0) return true;
    c->segs_unacked += ts_delack_full_segs(c, len);
    *delay = (now / period + 1) * period - now; /* to the next tick of the host's clock */
    return c->segs_unacked >= c->p->delack_segs;
}

const ts_delack_ops ts_delack_bsd = {.name = "bsd", .on_data = bsd_on_data};
