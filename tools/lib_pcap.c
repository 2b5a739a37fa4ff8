/* lib_pcap.c: pcap files of raw IPv4 packets (LINKTYPE_RAW) through libpcap, stamped with
 * the driver's microsecond time so tcpdump -r and Wireshark read them. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcapw.h"

#define TS_PCAP_SNAPLEN 65535

struct ts_pcapw {
    pcap_t *dead;
    pcap_dumper_t *dump;
};

ts_pcapw *ts_pcapw_open(const char *path, char *err, size_t errlen)
{
    if (!path || !*path || !strcmp(path, "-")) {
        snprintf(err, errlen, "pcap: a file name is needed ('-' is not allowed)");
        return NULL;
    }
    ts_pcapw *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "pcap: out of memory");
        return NULL;
    }
    w->dead = pcap_open_dead(DLT_RAW, TS_PCAP_SNAPLEN);
    w->dump = w->dead ? pcap_dump_open(w->dead, path) : NULL;
    if (!w->dump) {
        snprintf(err, errlen, "pcap: cannot write '%s': %s; check the directory and permissions",
                 path, w->dead ? pcap_geterr(w->dead) : "libpcap failed");
        if (w->dead) pcap_close(w->dead);
        free(w);
        return NULL;
    }
    return w;
}

void ts_pcapw_write(ts_pcapw *w, ts_time_t t, const uint8_t *pkt, size_t len)
{
    if (!w) return;
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(t / 1000000u);
    h.ts.tv_usec = (suseconds_t)(t % 1000000u);
    h.len = (bpf_u_int32)len;
    h.caplen = (bpf_u_int32)(len > TS_PCAP_SNAPLEN ? TS_PCAP_SNAPLEN : len);
    pcap_dump((u_char *)w->dump, &h, pkt);
}

void ts_pcapw_flush(ts_pcapw *w)
{
    if (w) pcap_dump_flush(w->dump);
}

int ts_pcapw_close(ts_pcapw *w)
{
    if (!w) return 0;
    /* pcap_dump_close says nothing of a failed write: ask the stream before it goes. */
    FILE *f = pcap_dump_file(w->dump);
    int rc = fflush(f) != 0 || ferror(f) ? -1 : 0;
    pcap_dump_close(w->dump);
    pcap_close(w->dead);
    free(w);
    return rc;
}
