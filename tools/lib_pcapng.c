/* lib_pcapng.c: the pcapng writer (pcapng.h), after the pcapng specification
 * (draft-ietf-opsawg-pcapng): blocks in the writer's byte order, which the section
 * header's byte-order magic tells readers; every block and option padded to 32 bits. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcapng.h"

#define BT_SHB       0x0A0D0D0Au
#define BT_IDB       0x00000001u
#define BT_EPB       0x00000006u
#define BOM          0x1A2B3C4Du
#define LINKTYPE_RAW 101u /* raw IPv4/IPv6, as libpcap writes DLT_RAW */
#define SNAPLEN      65535u
#define OPT_END      0
#define OPT_COMMENT  1
#define COMMENT_MAX  4000u /* a comment longer than this is cut */

struct ts_pcapng {
    FILE *f;
    bool failed;
};

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

static void put(ts_pcapng *w, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, w->f) != n) w->failed = true;
}

static void put32(ts_pcapng *w, uint32_t v)
{
    put(w, &v, 4);
}

static void put16(ts_pcapng *w, uint16_t v)
{
    put(w, &v, 2);
}

static void put_pad(ts_pcapng *w, size_t n)
{
    static const uint8_t zero[4];
    put(w, zero, pad4(n) - n);
}

static void write_headers(ts_pcapng *w)
{
    /* Section Header Block: no options */
    put32(w, BT_SHB);
    put32(w, 28);
    put32(w, BOM);
    put16(w, 1); /* version 1.0 */
    put16(w, 0);
    put32(w, 0xFFFFFFFFu); /* section length: not given (-1) */
    put32(w, 0xFFFFFFFFu);
    put32(w, 28);
    /* Interface Description Block: raw IP; no if_tsresol, so microseconds */
    put32(w, BT_IDB);
    put32(w, 20);
    put16(w, LINKTYPE_RAW);
    put16(w, 0);
    put32(w, SNAPLEN);
    put32(w, 20);
}

ts_pcapng *ts_pcapng_open(const char *path, char *err, size_t errlen)
{
    if (!path || !*path || !strcmp(path, "-")) {
        snprintf(err, errlen, "pcapng: a file name is needed ('-' is not allowed)");
        return NULL;
    }
    ts_pcapng *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "pcapng: out of memory");
        return NULL;
    }
    w->f = fopen(path, "wb");
    if (!w->f) {
        snprintf(err, errlen, "pcapng: cannot write '%s': %m; check the directory and permissions",
                 path);
        free(w);
        return NULL;
    }
    write_headers(w);
    return w;
}

void ts_pcapng_write(ts_pcapng *w, ts_time_t t, const uint8_t *pkt, size_t len, const char *comment)
{
    if (!w) return;
    size_t cap = len > SNAPLEN ? SNAPLEN : len;
    size_t clen = comment ? strlen(comment) : 0;
    if (clen > COMMENT_MAX) clen = COMMENT_MAX;
    size_t opts = clen ? 4 + pad4(clen) + 4 : 0;
    uint32_t total = (uint32_t)(28 + pad4(cap) + opts + 4);
    uint64_t ts = (uint64_t)t;
    put32(w, BT_EPB);
    put32(w, total);
    put32(w, 0); /* interface 0 */
    put32(w, (uint32_t)(ts >> 32));
    put32(w, (uint32_t)ts);
    put32(w, (uint32_t)cap);
    put32(w, (uint32_t)len);
    put(w, pkt, cap);
    put_pad(w, cap);
    if (clen) {
        put16(w, OPT_COMMENT);
        put16(w, (uint16_t)clen);
        put(w, comment, clen);
        put_pad(w, clen);
        put16(w, OPT_END);
        put16(w, 0);
    }
    put32(w, total);
}

void ts_pcapng_flush(ts_pcapng *w)
{
    if (w && fflush(w->f) != 0) w->failed = true;
}

int ts_pcapng_close(ts_pcapng *w)
{
    if (!w) return 0;
    bool bad = w->failed || fclose(w->f) != 0;
    free(w);
    return bad ? -1 : 0;
}
