/* view_pcap.h: the connection model read from a capture: any pcap or pcapng file that
 * tcpdump or Wireshark wrote (through libpcap), link types raw IPv4, Ethernet (one 802.1Q
 * tag), Linux cooked (SLL, SLL2) and BSD loopback. A capture has one tap: its states are
 * inferred from the segments and the far end's times are estimated (see ts_view.note). */
#ifndef TS_VIEW_PCAP_H
#define TS_VIEW_PCAP_H

#include <stddef.h>
#include <stdio.h>
#include "view.h"

/* Every TCP connection over IPv4 in the file at path, in order of first appearance. 0, or
 * -1 with one line in err naming the file and the problem (not a capture, truncated, empty,
 * no TCP, an unsupported link type). */
int ts_view_read_pcap(const char *path, ts_view_set *out, char *err, size_t errlen);
/* The same from an open stream, which the call closes; name is used in messages. */
int ts_view_read_pcap_fp(FILE *f, const char *name, ts_view_set *out, char *err, size_t errlen);

#endif
