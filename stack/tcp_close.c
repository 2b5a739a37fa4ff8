/* tcp_close.c: the connection's closing half of RFC 9293's state diagram (3.3.2, 3.6):
 * the user's CLOSE or shutdown queues our FIN, the peer's FIN arrives, an ACK covers our
 * FIN; each moves the state (FIN-WAIT-1/2, CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT) and
 * arms what that state waits on. The opening half is tcp_open.c's; CLOSED, reached from
 * any state, is ts_conn_done's (tcp_conn.c). */
#include "internal.h"

/* Queue our FIN (RFC 9293 3.10.4 CLOSE): ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT -> LAST-ACK. */
void ts_close_send_fin(ts_stack *s, ts_conn *c)
{
    if (c->fin_queued) return;
    c->fin_queued = true;
    if (c->state == TS_ESTABLISHED || c->state == TS_SYN_RECEIVED)
        ts_set_state(s, c, TS_FIN_WAIT_1);
    else if (c->state == TS_CLOSE_WAIT)
        ts_set_state(s, c, TS_LAST_ACK);
    ts_tcp_output(s, c);
}

static bool our_fin_acked(const ts_conn *c)
{
    return c->fin_sent && c->snd_una == c->snd_buf_seq + c->sndq.len + 1;
}

/* An ACK arrived: if it covers our FIN, FIN-WAIT-1 -> FIN-WAIT-2 (with the orphan's
 * timeout), CLOSING -> TIME-WAIT, LAST-ACK -> CLOSED. Returns false when the connection
 * is finished (the segment's processing stops). */
bool ts_close_fin_acked(ts_stack *s, ts_conn *c)
{
    if (!our_fin_acked(c)) return true;
    switch (c->state) {
    case TS_FIN_WAIT_1:
        ts_set_state(s, c, TS_FIN_WAIT_2);
        if (c->orphan) ts_timer_set(s, c, TS_TIMER_FIN_WAIT2, s->now + c->p->fin_wait2);
        return true;
    case TS_CLOSING:
        ts_set_state(s, c, TS_TIME_WAIT);
        ts_timer_set(s, c, TS_TIMER_TIME_WAIT, s->now + c->p->time_wait);
        return true;
    case TS_LAST_ACK: ts_conn_done(s, c, 0); return false;
    default: return true;
    }
}

/* The peer's FIN, reached in order (RFC 9293 3.10.7.4, eighth step): ESTABLISHED and
 * SYN-RECEIVED -> CLOSE-WAIT, FIN-WAIT-1 -> CLOSING, FIN-WAIT-2 -> TIME-WAIT; its ACK. */
void ts_close_fin_in(ts_stack *s, ts_conn *c)
{
    c->rcv_nxt++;
    c->fin_rcvd = true;
    c->fin_ooo = false;
    ts_notify(s, c, TS_SOCK_READABLE);
    switch (c->state) {
    case TS_SYN_RECEIVED:
    case TS_ESTABLISHED:
        ts_set_state(s, c, TS_CLOSE_WAIT);
        /* Linux enters interactive mode on a FIN: its ACK waits for the delayed-ACK timer,
         * so it can ride on our own FIN if the application closes soon */
        c->pingpong = true;
        if (c->p->delack == 0) {
            c->ack_now = true;
        } else {
            /* Before any data arrived Linux's ATO is still 0, so the delayed ACK goes out
             * on the next timer tick (1 ms at HZ=1000; with hz set, a 0-tick timer, which
             * the wheel runs on the next tick), not after 40 ms; a close() in the same
             * instant still carries it on our FIN (packetdrill
             * close/close-remote-fin-then-close.pkt). */
            ts_time_t delay = c->last_rcv_time ? c->p->delack : c->p->hz ? 0 : TS_MSEC;
            c->ack_pending = true;
            if (!ts_timer_on(c, TS_TIMER_DELACK))
                ts_timer_set(s, c, TS_TIMER_DELACK, s->now + delay);
        }
        break;
    case TS_FIN_WAIT_1:
        ts_set_state(s, c, TS_CLOSING);
        c->ack_now = true;
        break;
    case TS_FIN_WAIT_2:
        ts_set_state(s, c, TS_TIME_WAIT);
        ts_timer_clear(s, c, TS_TIMER_FIN_WAIT2);
        ts_timer_set(s, c, TS_TIMER_TIME_WAIT, s->now + c->p->time_wait);
        c->ack_now = true;
        break;
    default: c->ack_now = true; break;
    }
}
