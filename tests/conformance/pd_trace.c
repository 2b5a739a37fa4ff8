/* pd_trace.c: records what libtcpsim_packetdrill.so does in a fixed, single-threaded
 * exchange, for tests/sim/identical.sh: every packet the stack sends (virtual time and
 * bytes, in hex) and every socket call's result, on stdout. It asserts nothing itself;
 * the golden SHA-256 of its output pins the adapter's wire behaviour across refactors.
 * The exchange: a passive open with every option, data both ways with SACK blocks and a
 * fast retransmit, a close; malformed packets (short, bad IHL, bad lengths, bad data
 * offset, bad checksums, options running off the header); a segment to a closed port;
 * an active open answered with options, then reset.
 * Usage: pd_trace PATH/libtcpsim_packetdrill.so */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pd.h"
#include "tcpsim/wire.h"

#define LOCAL  TS_IP4(192, 168, 0, 1)
#define REMOTE TS_IP4(192, 0, 2, 1)
#define RPORT  40000
#define LPORT  8080

enum {
    F_FIN = TS_TH_FIN,
    F_SYN = TS_TH_SYN,
    F_RST = TS_TH_RST,
    F_PSH = TS_TH_PSH,
    F_ACK = TS_TH_ACK
};

static struct packetdrill_interface ifc;
static void *ud;

static void wr16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}
static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, v >> 16), wr16(p + 2, v);
}

/* Build a segment from the remote side from sport to dport with options opt (padded by
 * the caller to a multiple of 4) and payload data; returns its length. */
static size_t build_to(uint8_t *pkt, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t sport,
                       uint16_t dport, const uint8_t *opt, size_t olen, const char *data)
{
    ts_ip4_hdr ip = {.ttl = 64, .src = REMOTE, .dst = LOCAL};
    ts_tcp_hdr th = {
        .sport = sport, .dport = dport, .seq = seq, .ack = ack, .flags = flags, .win = 1000};
    return ts_tcp_build(pkt, 1600, &ip, &th, opt, olen, data, data ? strlen(data) : 0);
}

static size_t build(uint8_t *pkt, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t sport,
                    const uint8_t *opt, size_t olen, const char *data)
{
    return build_to(pkt, flags, seq, ack, sport, LPORT, opt, olen, data);
}

static void send_raw(const char *what, const uint8_t *pkt, size_t len)
{
    /* Copy into an exact-size buffer so a sanitized build catches any overread. */
    uint8_t *b = malloc(len ? len : 1);
    if (!b) exit(2);
    memcpy(b, pkt, len);
    printf("in  %-14s %zu -> %d\n", what, len, ifc.netdev_send(ud, b, len));
    free(b);
}

static void inject(uint8_t flags, uint32_t seq, uint32_t ack, const uint8_t *opt, size_t olen,
                   const char *data)
{
    uint8_t pkt[1600];
    size_t len = build(pkt, flags, seq, ack, RPORT, opt, olen, data);
    send_raw("segment", pkt, len);
}

/* Print the next n packets the stack sends (or "none" when nothing will come). */
static void out(int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t buf[2048];
        size_t len = sizeof buf;
        long long t = 0;
        int rc = ifc.netdev_receive(ud, buf, &len, &t);
        if (rc != 0 || len == 0) {
            printf("out none (rc %d) at %lld\n", rc, t);
            return;
        }
        printf("out %lld %zu ", t, len);
        for (size_t k = 0; k < len; k++) printf("%02x", buf[k]);
        printf("\n");
    }
}

/* The ISS of the SYN-ACK: read it from the next packet, printing it too. */
static uint32_t out_iss(void)
{
    uint8_t buf[2048];
    size_t len = sizeof buf;
    long long t = 0;
    if (ifc.netdev_receive(ud, buf, &len, &t) != 0 || len < 40) {
        printf("out no SYN-ACK\n");
        return 0;
    }
    printf("out %lld %zu ", t, len);
    for (size_t k = 0; k < len; k++) printf("%02x", buf[k]);
    printf("\n");
    ts_pkt_view v;
    ts_pkt_view_parse(&v, buf, len);
    return v.th.seq;
}

static void passive_transfer(void)
{
    int lfd = ifc.socket(ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    int one = 1;
    ifc.setsockopt(ud, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(LPORT), .sin_addr.s_addr = htonl(LOCAL)};
    printf("bind %d\n", ifc.bind(ud, lfd, (struct sockaddr *)&sin, sizeof sin));
    printf("listen %d\n", ifc.listen(ud, lfd, 4));

    /* SYN: MSS 1000, SACK permitted, timestamps, window scale 7. */
    static const uint8_t syn_opt[] = {2, 4, 0x03, 0xe8, 4, 2, 8, 10, 0, 0,
                                      0, 1, 0,    0,    0, 0, 1, 3,  3, 7};
    inject(F_SYN, 100, 0, syn_opt, sizeof syn_opt, NULL);
    uint32_t iss = out_iss();
    ifc.usleep(ud, 10000);
    uint8_t ts[] = {1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 0};
#define TS_NEXT (ts[7] = (uint8_t)(ts[7] + 8), ts) /* a newer TS val every time (PAWS) */
    inject(F_ACK, 101, iss + 1, TS_NEXT, sizeof ts, NULL);
    int fd = ifc.accept(ud, lfd, NULL, NULL);
    printf("accept %s\n", fd >= 0 ? "ok" : "failed"); /* fd numbers are the host's */

    inject(F_ACK | F_PSH, 101, iss + 1, TS_NEXT, sizeof ts, "hello, tcpsim");
    out(1);
    char buf[8192];
    printf("read %zd\n", ifc.read(ud, fd, buf, sizeof buf));

    /* 4940 bytes out (five segments), then SACK blocks saying the first segment was lost. */
    memset(buf, 'x', 4940);
    printf("write %zd\n", ifc.write(ud, fd, buf, 4940));
    out(5);
    for (int i = 1; i <= 3; i++) {
        uint32_t left = iss + 1 + 988, right = iss + 1 + 988 * (uint32_t)(i + 1);
        /* NOP NOP TS, NOP NOP SACK(left, right) */
        uint8_t sack[24] = {1, 1, 8, 10, 0, 0, 0, (uint8_t)(2 + 8 * i), 0, 0, 0, 0, 1, 1, 5, 10};
        wr32(sack + 16, left), wr32(sack + 20, right);
        inject(F_ACK, 114, iss + 1, sack, sizeof sack, NULL);
    }
    out(2);
    ifc.usleep(ud, 5000);
    inject(F_ACK, 114, iss + 4941, TS_NEXT, sizeof ts, NULL);
    out(1);

    /* The peer closes, then we do. */
    inject(F_ACK | F_FIN, 114, iss + 4941, TS_NEXT, sizeof ts, NULL);
    out(1);
    printf("read-eof %zd\n", ifc.read(ud, fd, buf, sizeof buf));
    printf("close %d\n", ifc.close(ud, fd));
    out(1);
    inject(F_ACK, 115, iss + 4942, TS_NEXT, sizeof ts, NULL);
    out(1);
    printf("close %d\n", ifc.close(ud, lfd));
#undef TS_NEXT
}

/* Every malformed packet is dropped without an answer (the stack's drop reasons). */
static void malformed(void)
{
    uint8_t pkt[1600], bad[1600];
    static const uint8_t opt[] = {2, 4, 0x05, 0xb4, 4, 2, 1, 1};
    size_t len = build(pkt, F_SYN, 7, 0, RPORT + 1, opt, sizeof opt, NULL);
    send_raw("short", pkt, 10);
    send_raw("ip-only", pkt, 20);
    send_raw("tcp-short", pkt, 30);
    memcpy(bad, pkt, len), bad[0] = 0x44;
    send_raw("ihl-4", bad, len);
    memcpy(bad, pkt, len), bad[0] = 0x4f;
    send_raw("ihl-15", bad, len);
    memcpy(bad, pkt, len), bad[0] = 0x65;
    send_raw("version-6", bad, len);
    memcpy(bad, pkt, len), wr16(bad + 2, (uint32_t)len + 1);
    send_raw("totlen-long", bad, len);
    memcpy(bad, pkt, len), wr16(bad + 2, 19);
    send_raw("totlen-short", bad, len);
    memcpy(bad, pkt, len), bad[10] ^= 1;
    send_raw("ip-csum", bad, len);
    memcpy(bad, pkt, len), bad[36] ^= 1;
    send_raw("tcp-csum", bad, len);
    memcpy(bad, pkt, len), bad[32] = 0x40;
    send_raw("doff-4", bad, len);
    memcpy(bad, pkt, len), bad[32] = 0xf0;
    send_raw("doff-15", bad, len);
    memcpy(bad, pkt, len), bad[9] = 17;
    send_raw("udp", bad, len);
    /* Options that run off the header: an MSS whose length byte points past the end. */
    static const uint8_t runoff[] = {1, 1, 2, 8};
    len = build(pkt, F_SYN, 7, 0, RPORT + 1, runoff, sizeof runoff, NULL);
    send_raw("opt-runoff", pkt, len);
    static const uint8_t zero_len[] = {8, 0, 0, 0};
    len = build(pkt, F_SYN, 7, 0, RPORT + 1, zero_len, sizeof zero_len, NULL);
    send_raw("opt-len0", pkt, len);
    /* Trailing bytes after the IP total length are ignored, not read as payload. */
    len = build(pkt, F_SYN, 7, 0, RPORT + 1, opt, sizeof opt, NULL);
    memset(pkt + len, 0xee, 6);
    send_raw("trailing", pkt, len + 6);
    out(3); /* closed port: RSTs */
}

static void active_open(void)
{
    int fd = ifc.socket(ud, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(RPORT), .sin_addr.s_addr = htonl(REMOTE)};
    errno = 0;
    int rc = ifc.connect(ud, fd, (struct sockaddr *)&sin, sizeof sin);
    printf("connect %d errno %d\n", rc, errno);
    uint8_t buf[2048];
    size_t len = sizeof buf;
    long long t = 0;
    if (ifc.netdev_receive(ud, buf, &len, &t) != 0 || len < 40) {
        printf("out no SYN\n");
        return;
    }
    printf("out %lld %zu ", t, len);
    for (size_t k = 0; k < len; k++) printf("%02x", buf[k]);
    printf("\n");
    ts_pkt_view v;
    ts_pkt_view_parse(&v, buf, len);
    uint32_t iss = v.th.seq;
    uint16_t lport = v.th.sport;
    /* Answer from RPORT to the ephemeral port. */
    static const uint8_t opt[] = {2, 4, 0x02, 0x00, 1, 3, 3, 2, 4, 2, 1, 1};
    uint8_t pkt[1600];
    size_t plen = build_to(pkt, F_SYN | F_ACK, 5000, iss + 1, RPORT, lport, opt, sizeof opt, NULL);
    send_raw("synack", pkt, plen);
    out(1);
    printf("write %zd\n", ifc.write(ud, fd, "ping", 4));
    out(1);
    plen = build_to(pkt, F_RST, 5001, 0, RPORT, lport, NULL, 0, NULL);
    send_raw("rst", pkt, plen);
    int err = 0;
    socklen_t elen = sizeof err;
    ifc.getsockopt(ud, fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    printf("so_error %d\n", err);
    printf("close %d\n", ifc.close(ud, fd));
    out(1);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pd_trace PATH/libtcpsim_packetdrill.so\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "pd_trace: dlopen: %s\n", dlerror());
        return 2;
    }
    void (*init)(const char *, struct packetdrill_interface *) =
        (void (*)(const char *, struct packetdrill_interface *))dlsym(h,
                                                                      "packetdrill_interface_init");
    if (!init) return 2;
    init("local=192.168.0.1,seed=42", &ifc);
    ud = ifc.userdata;
    passive_transfer();
    malformed();
    active_open();
    ifc.free(ud);
    return 0;
}
