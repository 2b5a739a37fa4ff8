/* delack_fixed.c: delayed ACKs as RFC 1122 4.2.3.2 and RFC 5681 4.2 state them, literally:
 * an ACK for every `delack_segs` (2) full-sized segments, and a lone segment's ACK after
 * exactly `delack` from its arrival (the timer runs from the first unACKed segment; RFC
 * 1122 bounds it by 0.5 s, params.c by 500 ms). No quick-ACK at the start, no interactive
 * (pingpong) mode, no adaptation of the delay: the baseline the others are measured by. */
#include "internal.h"

static bool fixed_on_data(ts_conn *c, ts_time_t now, uint32_t len, ts_time_t *delay)
{
    (void)now;
    if (c->p->delack == 0) return true;
    c->segs_unacked += ts_delack_full_segs(c, len);
    *delay = c->p->delack;
    return c->segs_unacked >= c->p->delack_segs;
}

const ts_delack_ops ts_delack_fixed = {.name = "fixed", .on_data = fixed_on_data};
