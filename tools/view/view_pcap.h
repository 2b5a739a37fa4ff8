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

/* Leave out each segment's tcpdump line (seg->line stays NULL): for a picture that does
 * not show it (the text ladder). On a 100 MB capture a quarter of the reading time and
 * some 20 MB less memory. */
#define TS_VREAD_NO_LINES 0x1u
/* ts_view_read_pcap and ts_view_read_pcap_fp with flags (TS_VREAD_*). */
int ts_view_read_pcap_flags(const char *path, unsigned flags, ts_view_set *out, char *err,
                            size_t errlen);
int ts_view_read_pcap_fp_flags(FILE *f, const char *name, unsigned flags, ts_view_set *out,
                               char *err, size_t errlen);

#endif
