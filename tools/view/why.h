/* why.h: one sentence on why a stack sent a packet ("RTO retransmission #2, rto 800 ms",
 * "tail loss probe", "delayed ACK timer fired after 40 ms", "challenge ACK (RFC 5961)",
 * "zero-window probe"), and on what a received one caused ("SYN_SENT -> ESTABLISHED"),
 * worked out from the stack's events around it. Used for pcapng packet comments and for
 * the ladder's tooltips. Feed it every event of one stack, in order. */
#ifndef TS_WHY_H
#define TS_WHY_H

#include "tcpsim/event.h"

typedef struct ts_why ts_why;

ts_why *ts_why_new(void); /* NULL when out of memory */
void ts_why_free(ts_why *w);
/* Feed one event. For a SEG_OUT returns the sentence for that packet (valid until the next
 * call), or NULL when it was sent for no special reason (new data, an ordinary ACK). */
const char *ts_why_event(ts_why *w, const ts_event *ev);

#endif
