/* trace.h: one text line per stack event (state changes, timers, retransmissions, RTT
 * samples, cwnd, drops), stamped, for --trace in both the TUN runner and the simulator. */
#ifndef TS_TRACE_H
#define TS_TRACE_H

#include <stdbool.h>
#include <stdio.h>
#include "tcpsim/event.h"

/* Format ev as one line (no newline) into buf. Segment events (SEG_IN/SEG_OUT) are
 * formatted with ts_format_packet; callers that print packets separately may skip them.
 * Example: "0.031000 conn 1 10.0.0.2.40000>10.0.0.1.80 state SYN_SENT -> CLOSED"
 *          "1.000000 conn 1 ... rexmit syn seq 12345 len 0 #1 rto 2s"
 * virtual_time: stamp as seconds since 0; otherwise as HH:MM:SS.uuuuuu (UTC). */
size_t ts_trace_format(const ts_event *ev, bool virtual_time, char *buf, size_t buflen);
/* Print one line per event to f, skipping segment events when skip_segments. */
void ts_trace_print(FILE *f, const ts_event *ev, bool virtual_time, bool skip_segments);

#endif
