/* pcapng.h: writing pcapng files by hand (libpcap writes plain pcap only, and pcap has no
 * room for comments): one Section Header Block, one Interface Description Block for raw
 * IPv4 (LINKTYPE_RAW, microsecond stamps), and one Enhanced Packet Block per packet with an
 * optional opt_comment, which Wireshark shows and `tshark -e frame.comment` prints. */
#ifndef TS_PCAPNG_H
#define TS_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include "tcpsim/types.h"

typedef struct ts_pcapng ts_pcapng;

/* Create path and write the section and interface headers. NULL with one line in err. */
ts_pcapng *ts_pcapng_open(const char *path, char *err, size_t errlen);
/* One packet stamped t microseconds (since the epoch, or virtual since 0); comment may be
 * NULL or "" for none (UTF-8). */
void ts_pcapng_write(ts_pcapng *w, ts_time_t t, const uint8_t *pkt, size_t len,
                     const char *comment);
void ts_pcapng_flush(ts_pcapng *w);
/* Flush and close; -1 if a write failed along the way (disk full), else 0. */
int ts_pcapng_close(ts_pcapng *w);

#endif
