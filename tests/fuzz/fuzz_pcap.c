/* fuzz_pcap.c: libFuzzer target for the capture reader (tools/view/view_pcap.c): any bytes
 * are a pcap or pcapng file, read from memory (fmemopen) through libpcap into the
 * connection model. The reader must either return a model that frees cleanly or refuse
 * with one line naming the file. libpcap itself is the system's and not instrumented:
 * the coverage is the reader's (link types, IPv4/TCP parsing, state inference, the far
 * end's time estimates). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view_pcap.h"

#define NAME "fuzz.pcap"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0; /* fmemopen needs a buffer; an empty file is a unit test's */
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f) return 0;
    ts_view_set set;
    char err[512] = "";
    /* The last byte's low bit picks whether the tcpdump lines are made too. */
    unsigned flags = (data[size - 1] & 1) ? TS_VREAD_NO_LINES : 0;
    if (ts_view_read_pcap_fp_flags(f, NAME, flags, &set, err, sizeof err) == 0) {
        ts_view_set_free(&set);
        return 0;
    }
    if (strncmp(err, NAME ": ", sizeof NAME + 1) != 0 || strchr(err, '\n')) {
        fprintf(stderr, "fuzz_pcap: a refusal that is not one line 'FILE: what': [%s]\n", err);
        abort();
    }
    return 0;
}
