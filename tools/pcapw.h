/* pcapw.h: writing raw IPv4 packets to a pcap file with libpcap (LINKTYPE_RAW), stamped
 * with real or virtual time, so tcpdump -r and Wireshark read it. */
#ifndef TS_PCAPW_H
#define TS_PCAPW_H

#include <stddef.h>
#include <stdint.h>
#include "tcpsim/types.h"

typedef struct ts_pcapw ts_pcapw;

/* Open path for writing ("-" is not allowed). NULL with a one-line message in err. */
ts_pcapw *ts_pcapw_open(const char *path, char *err, size_t errlen);
/* Append one packet stamped t microseconds (since the epoch, or virtual since 0). */
void ts_pcapw_write(ts_pcapw *w, ts_time_t t, const uint8_t *pkt, size_t len);
void ts_pcapw_flush(ts_pcapw *w);
/* Close; -1 when a write failed (a full disk), so the caller can say the file is short. */
int ts_pcapw_close(ts_pcapw *w);

#endif
