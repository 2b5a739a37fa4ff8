/* ip_out.c: IPv4 output: the header in front of a payload TCP or ICMP has built
 * (RFC 791), the SEG_OUT event, and the user's output callback; in burst mode, the arena
 * the packets are built in and the flush that ends a burst. */
#include "internal.h"

/* Fill in the IPv4 header in front of an already built payload and send the packet. */
void ts_ip_output(ts_stack *s, ts_conn *c, uint32_t dst, uint8_t proto, uint8_t *pkt, size_t len)
{
    ts_ip4_hdr h = {
        /* IP_TOS (RFC 2474 DSCP, RFC 3168 ECN bits); a TIME-WAIT block's ACK keeps it */
        .tos = c           ? c->tos
               : s->out_tw ? s->out_tw->tos
                           : 0,
        .ttl = s->ttl,
        .proto = proto,
        .id = (uint16_t)s->ip_id++,
        .frag = TS_IP4_DF, /* RFC 1191 */
        .src = s->addr,
        .dst = dst,
    };
    ts_ip4_write(pkt, &h, (uint16_t)len);
    s->cnt.ip_out++;
    if (s->event) {
        ts_event ev = {.type = TS_EV_SEG_OUT};
        ev.u.seg.pkt = pkt;
        ev.u.seg.len = len;
        ev.u.seg.why = s->out_why;
        if (c)
            ts_emit_conn(s, c, &ev);
        else if (s->out_tw)
            ts_emit_tw(s, s->out_tw, &ev);
        else
            ts_emit(s, &ev);
    }
    s->output(s->output_ctx, pkt, len);
    if (s->arena) {
        /* Burst mode: the packet stays; the next one is built after it (64-byte aligned,
         * a cache line), or the burst ends if the arena is full. */
        s->arena_off += (len + 63) & ~(size_t)63;
        if (s->arena_off > s->arena_cap)
            ts_burst_flush(s);
        else
            s->pkt = s->arena + s->arena_off;
    }
}

void ts_burst_flush(ts_stack *s)
{
    if (!s->arena_off) return;
    s->arena_off = 0;
    s->pkt = s->arena;
    s->flush(s->output_ctx);
}
