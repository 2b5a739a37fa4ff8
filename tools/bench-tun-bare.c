/* bench-tun-bare.c: "bare TUN" in tools/bench-tun's connect+close, the least any stack over
 * a TUN device can do for it on this machine. It keeps no state at all: every SYN gets a
 * SYN-ACK and every FIN a FIN-ACK, built from the segment alone (the FIN-ACK's sequence
 * number is the ACK the FIN carries), everything else is read and dropped. No lookup, no
 * timers, no queues: what is left of a connect+close is the device, Linux's client and the
 * wake-ups between the two CPUs. A stack measured against it sees what its TCP costs.
 *
 *   bench-tun-bare SECS     make tun0, print "ready", answer for SECS (at most 600) or
 *                           until SIGTERM. The caller gives tun0 10.0.0.1/24 and brings it
 *                           up; answers go to whatever address the SYN was sent to
 *
 * The SYN-ACK carries what tcpsim's does (MSS 1460, SACK permitted, timestamps, window
 * scale 7), so Linux's client does the same work against either; the timestamps also let
 * its TIME-WAITs be reused (tcp_tw_reuse). Like tcpsim's loop it polls the device for 50 us
 * after a packet before it sleeps. tools/bench-tun compiles it with `cc -O2` into its
 * temporary directory, as it does tools/bench-tun-client.c; the tests build it with the
 * project's warnings and sanitizers (tun.bench_bare). A packet it cannot read is dropped,
 * never trusted: every length is checked against what came. */
#ifndef _GNU_SOURCE /* the project's build defines it; cc -O2 alone does not */
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define SPIN_NS (50 * 1000L) /* poll the device this long after a packet, as tcpsim does */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

/* RFC 1071: the ones' complement sum of n bytes on top of sum, folded and inverted. */
static uint16_t cksum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1) sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* A TCP header's option of this kind and length (RFC 9293 3.1): where it starts, or NULL. */
static const uint8_t *find_opt(const uint8_t *tcp, size_t hlen, uint8_t kind, uint8_t len)
{
    for (size_t i = 20; i < hlen;) {
        if (tcp[i] == 0) break; /* end of options */
        if (tcp[i] == 1) {      /* NOP */
            i++;
            continue;
        }
        if (i + 1 >= hlen || tcp[i + 1] < 2 || i + tcp[i + 1] > hlen) break; /* malformed */
        if (tcp[i] == kind && tcp[i + 1] == len) return tcp + i;
        i += tcp[i + 1];
    }
    return NULL;
}

/* An answer's options, written at op: their length, a multiple of 4. A SYN-ACK gets MSS
 * 1460, SACK permitted with the timestamps if the SYN had them, and window scale 7 if the
 * SYN offered scaling; a FIN-ACK the timestamps alone. ts: the segment's option, or NULL. */
static size_t put_opts(uint8_t *op, bool syn, const uint8_t *ts, bool ws, uint32_t my_ts)
{
    static const uint8_t mss[4] = {2, 4, 1460 >> 8, 1460 & 0xff}, sack_ok[2] = {4, 2},
                         nops[2] = {1, 1}, wscale[4] = {1, 3, 3, 7};
    size_t n = 0;
    if (syn) {
        memcpy(op, mss, 4);
        n = 4;
    }
    if (ts) {
        memcpy(op + n, syn ? sack_ok : nops, 2);
        op[n + 2] = 8;
        op[n + 3] = 10;
        put32(op + n + 4, my_ts);
        put32(op + n + 8, get32(ts + 2)); /* their TSval, echoed */
        n += 12;
    }
    if (ws) {
        memcpy(op + n, wscale, 4);
        n += 4;
    }
    return n;
}

/* The answer to one packet from Linux, built in out (60 bytes): its length, or 0 for none.
 * A SYN alone gets a SYN-ACK; a FIN (with its ACK, without SYN or RST) a FIN-ACK. */
static size_t answer(const uint8_t *in, size_t n, uint8_t *out, uint32_t my_ts)
{
    if (n < 40 || in[0] >> 4 != 4 || in[9] != 6 /* TCP */) return 0;
    size_t ihl = (size_t)(in[0] & 15) * 4, tot = (size_t)in[2] << 8 | in[3];
    if (ihl < 20 || tot > n || tot < ihl + 20 || (in[6] & 0x3f) || in[7]) return 0; /* fragments */
    const uint8_t *t = in + ihl;
    size_t thl = (size_t)(t[12] >> 4) * 4;
    if (thl < 20 || ihl + thl > tot) return 0;
    uint8_t fl = t[13] & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN);
    bool syn = fl == TCP_SYN;
    if (!syn && fl != (TCP_ACK | TCP_FIN)) return 0;
    uint32_t seq = get32(t + 4);
    memset(out, 0, 60);
    uint8_t *o = out + 20;
    size_t len = 40 + put_opts(o + 20, syn, find_opt(t, thl, 8, 10), /* RFC 7323 */
                               syn && find_opt(t, thl, 3, 3), my_ts);
    out[0] = 0x45;
    put16(out + 2, (uint32_t)len);
    out[8] = 64;
    out[9] = 6;
    memcpy(out + 12, in + 16, 4); /* from the address the packet was sent to */
    memcpy(out + 16, in + 12, 4);
    put16(out + 10, cksum(out, 20, 0));
    memcpy(o, t + 2, 2); /* ports swapped */
    memcpy(o + 2, t, 2);
    /* any ISS will do, nothing is kept to check it; a FIN-ACK's sequence is the FIN's ACK */
    put32(o + 4, syn ? seq * 2654435761u : get32(t + 8));
    put32(o + 8, syn ? seq + 1 : seq + (uint32_t)(tot - ihl - thl) + 1);
    o[12] = (uint8_t)((len - 20) / 4 << 4);
    o[13] = (uint8_t)(syn ? TCP_SYN | TCP_ACK : TCP_FIN | TCP_ACK);
    /* 65535 in the SYN-ACK (never scaled); after it 512, tcpsim's 64 KiB at scale 7 (no
     * data is coming: unscaled, 512 bytes are as good) */
    put16(o + 14, syn ? 65535 : 512);
    uint32_t pseudo = 6 + (uint32_t)(len - 20);
    for (int i = 12; i < 20; i += 2) pseudo += (uint32_t)out[i] << 8 | out[i + 1];
    put16(o + 16, cksum(o, len - 20, pseudo));
    return len;
}

int main(int argc, char **argv)
{
    double secs = argc == 2 ? atof(argv[1]) : 0;
    if (!(secs > 0 && secs <= 600)) {
        fprintf(stderr, "usage: bench-tun-bare SECS (0 < SECS <= 600); see its header\n");
        return 2;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    struct ifreq ifr = {.ifr_flags = IFF_TUN | IFF_NO_PI};
    strcpy(ifr.ifr_name, "tun0");
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "bench-tun-bare: tun0: %s\n", strerror(errno));
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    uint8_t in[65536], out[64];
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)(secs * 1e9), last = 0, t;
    while ((t = now_ns()) < end) {
        ssize_t n = read(fd, in, sizeof in);
        if (n > 0) {
            last = t;
            size_t len = answer(in, (size_t)n, out, (uint32_t)((t - t0) / 1000000) + 1);
            if (len && write(fd, out, len) < 0 && errno != EAGAIN && errno != ENOBUFS) {
                fprintf(stderr, "bench-tun-bare: write: %s\n", strerror(errno));
                return 1;
            }
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            fprintf(stderr, "bench-tun-bare: read: %s\n", strerror(errno));
            return 1;
        } else if (t - last > SPIN_NS) { /* quiet: sleep until a packet, or a tenth of a second */
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, 100);
        }
    }
    return 0;
}
