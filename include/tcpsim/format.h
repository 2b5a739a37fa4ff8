/* tcpsim/format.h: print packets as tcpdump does, so simulator output, traces and tests
 * read like the founding chapter's captures. Pure functions, no I/O. */
#ifndef TCPSIM_FORMAT_H
#define TCPSIM_FORMAT_H

#include <stdbool.h>
#include "tcpsim/types.h"

/* Format an IPv4 packet the way `tcpdump -n` prints it (no timestamp), e.g.
 * "IP 10.0.0.103.55570 > 10.0.0.199.6379: Flags [S], seq 3841401858, win 64240, options
 *  [mss 1460,sackOK,TS val 1154875489 ecr 0,nop,wscale 7], length 0"
 * Non-SYN TCP segments print "seq A:B," for data and "ack N," when ACK is set, as tcpdump
 * does in absolute mode (-S); ICMP echo prints "ICMP echo request, id I, seq S, length L".
 * Malformed packets print what can be read and "[|tcp]" or similar. Returns the length
 * written (truncated to buflen - 1, always NUL-terminated). */
size_t ts_format_packet(const uint8_t *pkt, size_t len, char *buf, size_t buflen);

/* Format len bytes of TCP options as tcpdump prints them between "options [" and "]",
 * e.g. "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7"; a malformed option ends the list
 * with "[bad opt]". Returns the length written (truncated to buflen - 1). */
size_t ts_format_tcp_options(const uint8_t *opt, size_t len, char *buf, size_t buflen);

/* Format a time stamp as tcpdump's "HH:MM:SS.uuuuuu" for real time (wall clock seconds
 * since the epoch, UTC) or, when virtual is true, as seconds "S.uuuuuu" since zero. */
size_t ts_format_time(ts_time_t t, bool virtual_time, char *buf, size_t buflen);

#endif
