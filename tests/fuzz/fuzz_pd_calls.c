/* fuzz_pd_calls.c: libFuzzer target for the packetdrill adapter (tools/packetdrill, the
 * libtcpsim_packetdrill.so that packetdrill loads). The adapter's sources are built into
 * this program and driven through packetdrill_interface_init's table, as packetdrill
 * drives it: the input is a byte-coded sequence of calls (socket, bind, listen, accept,
 * connect, the read and write family, setsockopt/getsockopt, fcntl, ioctl, poll, epoll,
 * shutdown, close) mixed with packets from the remote end (netdev_send, built relative to
 * the last packet the stack sent), netdev_receive, usleep and gettimeofday. Arguments are
 * sane in shape (buffers are real and their lengths true) and wild in value (descriptors,
 * levels, option names and lengths, flags, address families, sequence numbers).
 * Every call must return, with -1 and errno set or a result; the sanitizers catch the
 * rest. The virtual clock moves only through the adapter, so blocking calls end. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>

#include "pd.h"
#include "tcpsim/wire.h"

#define LOCAL  TS_IP4(192, 168, 0, 1)
#define REMOTE TS_IP4(192, 0, 2, 1)
#define NFD    8

typedef struct in {
    const uint8_t *p;
    size_t n;
} in;

static uint8_t u8(in *d)
{
    if (!d->n) return 0;
    d->n--;
    return *d->p++;
}

static uint16_t u16(in *d)
{
    uint16_t hi = u8(d);
    return (uint16_t)(hi << 8 | u8(d));
}

static uint32_t u32(in *d)
{
    uint32_t hi = u16(d);
    return hi << 16 | u16(d);
}

static struct packetdrill_interface ifc;
static void *ud;
static int fds[NFD]; /* descriptors the calls returned (-1: none) */
static uint8_t buf[4096];

/* The last packet the stack sent: what a remote end would answer. */
static struct {
    uint32_t seq, ack, len;
    uint16_t sport, dport;
    bool seen;
} last;

/* A descriptor: one the calls returned, mostly; now and then any number. */
static int fd_arg(in *d)
{
    uint8_t b = u8(d);
    if (b >= 0xf0) return (int)(int8_t)u8(d);
    return fds[b % NFD];
}

static void keep_fd(int fd)
{
    if (fd < 0) return;
    for (int i = 0; i < NFD; i++)
        if (fds[i] < 0 || fds[i] == fd) {
            fds[i] = fd;
            return;
        }
    fds[fd % NFD] = fd;
}

static void forget_fd(int fd)
{
    for (int i = 0; i < NFD; i++)
        if (fds[i] == fd) fds[i] = -1;
}

/* An IPv4 socket address (family, address, port chosen from the input) and its length. */
static socklen_t addr_arg(in *d, struct sockaddr_storage *ss, bool remote)
{
    uint8_t b = u8(d);
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    memset(ss, 0, sizeof *ss);
    sin->sin_family = (b & 0x80) ? (sa_family_t)u8(d) : AF_INET;
    uint32_t addrs[4] = {remote ? REMOTE : LOCAL, 0, remote ? LOCAL : REMOTE, 0};
    addrs[3] = (b & 0x40) ? u32(d) : INADDR_LOOPBACK;
    sin->sin_addr.s_addr = htonl(addrs[b & 3]);
    sin->sin_port = htons((b & 0x20) ? u16(d) : (uint16_t)(8080 + ((b >> 2) & 3)));
    if (b & 0x10) return (socklen_t)(u8(d) % (sizeof *ss + 1));
    return sizeof *sin;
}

/* Socket options: the ones the adapter knows and a few it does not. */
static const int opts[][2] = {
    {SOL_SOCKET, SO_REUSEADDR},
    {SOL_SOCKET, SO_LINGER},
    {SOL_SOCKET, SO_RCVBUF},
    {SOL_SOCKET, SO_SNDBUF},
    {SOL_SOCKET, SO_KEEPALIVE},
    {SOL_SOCKET, SO_ERROR},
    {SOL_SOCKET, SO_TYPE},
    {SOL_SOCKET, SO_REUSEPORT},
    {SOL_SOCKET, SO_DOMAIN},
    {SOL_SOCKET, SO_PROTOCOL},
    {SOL_SOCKET, SO_MEMINFO},
    {SOL_SOCKET, SO_RCVLOWAT},
    {IPPROTO_TCP, TCP_NODELAY},
    {IPPROTO_TCP, TCP_MAXSEG},
    {IPPROTO_TCP, TCP_CORK},
    {IPPROTO_TCP, TCP_INFO},
    {IPPROTO_TCP, TCP_KEEPIDLE},
    {IPPROTO_TCP, TCP_KEEPINTVL},
    {IPPROTO_TCP, TCP_KEEPCNT},
    {IPPROTO_TCP, TCP_USER_TIMEOUT},
    {IPPROTO_TCP, TCP_INQ},
    {IPPROTO_TCP, TCP_CONGESTION},
    {IPPROTO_TCP, TCP_QUICKACK},
    {IPPROTO_TCP, TCP_SYNCNT},
    {IPPROTO_TCP, TCP_NOTSENT_LOWAT},
    {IPPROTO_TCP, TCP_DEFER_ACCEPT},
    {IPPROTO_IP, IP_TOS},
    {IPPROTO_IP, IP_MTU_DISCOVER},
    {IPPROTO_IP, IP_TTL},
    {IPPROTO_IPV6, 1},
};

static void op_sockopt(in *d, bool set)
{
    int fd = fd_arg(d);
    uint8_t k = u8(d);
    const int *o = opts[k % (sizeof opts / sizeof opts[0])];
    int level = o[0], name = o[1];
    if (k >= 0xf8) level = (int)(int8_t)u8(d), name = (int)(int8_t)u8(d);
    socklen_t len = u8(d) % 300u;
    if (set) {
        static const char *const cc[] = {"reno", "cubic", "newreno", "bbr", ""};
        uint8_t v = u8(d);
        memset(buf, 0, len + 1);
        if (name == TCP_CONGESTION && level == IPPROTO_TCP)
            snprintf((char *)buf, sizeof buf, "%s", cc[v % 5]);
        else
            for (socklen_t i = 0; i < len && i < 16; i++) buf[i] = (i == 0 || v & 0x80) ? v : 0;
        ifc.setsockopt(ud, fd, level, name, buf, len);
    } else {
        ifc.getsockopt(ud, fd, level, name, buf, &len);
    }
}

static void op_send(in *d)
{
    int fd = fd_arg(d);
    uint8_t how = u8(d);
    size_t n = u16(d) % sizeof buf;
    static const int flags[] = {0, MSG_DONTWAIT, MSG_MORE, MSG_EOR, MSG_NOSIGNAL, MSG_OOB};
    int fl = flags[(how >> 3) % 6];
    memset(buf, 'x', n);
    struct iovec iov[2] = {{buf, n / 2}, {buf + n / 2, n - n / 2}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    switch (how & 7) {
    case 0: ifc.write(ud, fd, buf, n); break;
    case 1: ifc.send(ud, fd, buf, n, fl); break;
    case 2: ifc.sendto(ud, fd, buf, n, fl, NULL, 0); break;
    case 3: ifc.sendmsg(ud, fd, &m, fl); break;
    case 4: ifc.writev(ud, fd, iov, 2); break;
    default: ifc.send(ud, fd, NULL, n ? 1 : 0, fl); break; /* a bad buffer: EFAULT */
    }
}

static void op_recv(in *d)
{
    int fd = fd_arg(d);
    uint8_t how = u8(d);
    size_t n = u16(d) % sizeof buf;
    static const int flags[] = {0, MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, MSG_OOB};
    int fl = flags[(how >> 3) % 6];
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    uint8_t ctl[64];
    struct iovec iov[2] = {{buf, n / 2}, {buf + n / 2, n - n / 2}};
    struct msghdr m = {.msg_iov = iov,
                       .msg_iovlen = 2,
                       .msg_control = ctl,
                       .msg_controllen = (how & 0x40) ? sizeof ctl : 0};
    switch (how & 7) {
    case 0: ifc.read(ud, fd, buf, n); break;
    case 1: ifc.recv(ud, fd, buf, n, fl); break;
    case 2: ifc.recvfrom(ud, fd, buf, n, fl, (struct sockaddr *)&ss, &sl); break;
    case 3: ifc.recvmsg(ud, fd, &m, fl); break;
    case 4: ifc.readv(ud, fd, iov, 2); break;
    default: ifc.recv(ud, fd, NULL, n ? 1 : 0, fl); break;
    }
}

/* A segment from the remote end, relative to the last one the stack sent (or wild). */
static void op_packet(in *d)
{
    uint8_t flags = u8(d), sel = u8(d), olen = u8(d) % 41u;
    int16_t dseq = (int16_t)u16(d), dack = (int16_t)u16(d);
    uint16_t win = u16(d), dlen = u16(d) % 1461u;
    uint8_t opt[44] = {0}, pkt[1600];
    for (size_t i = 0; i < olen; i++) opt[i] = u8(d);
    while (olen % 4) opt[olen++] = TS_OPT_EOL;
    uint32_t next = last.seq + last.len;
    ts_tcp_hdr th = {.sport = last.seen ? last.dport : 8080,
                     .dport = last.seen ? last.sport : 8080,
                     .seq = (sel & 1) ? u32(d) : last.ack + (uint32_t)dseq,
                     .ack = (sel & 2) ? u32(d) : next + (uint32_t)dack,
                     .flags = flags,
                     .win = win};
    if (sel & 4) th.sport = u16(d);
    if (sel & 8) th.dport = u16(d);
    ts_ip4_hdr ip = {.ttl = 64, .src = REMOTE, .dst = LOCAL};
    memset(buf, 'r', dlen);
    size_t len = ts_tcp_build(pkt, sizeof pkt, &ip, &th, opt, olen, buf, dlen);
    if (len && (sel & 0x10)) len -= (size_t)u8(d) % len; /* a cut packet */
    if (len) ifc.netdev_send(ud, pkt, len);
}

static void op_receive(void)
{
    uint8_t pkt[2048];
    size_t n = sizeof pkt;
    long long t;
    if (ifc.netdev_receive(ud, pkt, &n, &t) != 0 || n == 0) return;
    ts_pkt_view v;
    if (ts_pkt_view_parse(&v, pkt, n) != TS_WIRE_OK || !v.tcp) return;
    last.seq = v.th.seq, last.ack = v.th.ack, last.len = ts_tcp_view_seqlen(&v.th);
    last.sport = v.th.sport, last.dport = v.th.dport, last.seen = true;
}

static void op_poll(in *d)
{
    struct pollfd p[NFD];
    nfds_t n = u8(d) % (NFD + 1);
    for (nfds_t i = 0; i < n; i++) p[i] = (struct pollfd){.fd = fd_arg(d), .events = (short)u8(d)};
    ifc.poll(ud, p, n, (int)(int8_t)u8(d));
}

static void op_epoll(in *d)
{
    uint8_t how = u8(d);
    struct epoll_event ev[4] = {{.events = (uint32_t)u8(d) << (how & 0x10 ? 24 : 0)}};
    switch (how & 3) {
    case 0: keep_fd(ifc.epoll_create(ud, (int)(int8_t)u8(d))); break;
    case 1: ifc.epoll_ctl(ud, fd_arg(d), 1 + u8(d) % 3, fd_arg(d), ev); break;
    case 2: ifc.epoll_wait(ud, fd_arg(d), ev, 1 + (how >> 2) % 4, (int)(int8_t)u8(d)); break;
    default: ifc.epoll_ctl(ud, fd_arg(d), EPOLL_CTL_DEL, fd_arg(d), NULL); break;
    }
}

static void op_control(in *d)
{
    int fd = fd_arg(d);
    uint8_t how = u8(d);
    int v = (int)(int8_t)u8(d);
    static const unsigned long ioctls[] = {FIONREAD, SIOCINQ, SIOCOUTQ, FIONBIO, SIOCOUTQNSD};
    switch (how & 3) {
    case 0: ifc.fcntl(ud, fd, F_GETFL); break;
    case 1: ifc.fcntl(ud, fd, F_SETFL, (how & 4) ? O_NONBLOCK | O_RDWR : O_RDWR); break;
    case 2: ifc.ioctl(ud, fd, ioctls[(how >> 2) % 5], &v); break;
    default: ifc.fcntl(ud, fd, (int)(how >> 2), v); break;
    }
}

static void call(in *d)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    uint8_t op = u8(d);
    switch (op % 18) {
    case 0: {
        int fd = ifc.socket(ud, (op & 0x80) ? (int)u8(d) : AF_INET,
                            (op & 0x40) ? (int)u8(d) : SOCK_STREAM, 0);
        /* Mostly non-blocking: a blocking call runs the virtual clock to its end, which
         * costs time better spent on other inputs (they stay reachable with bit 0x20). */
        if (fd >= 0 && !(op & 0x20)) ifc.fcntl(ud, fd, F_SETFL, O_NONBLOCK | O_RDWR);
        keep_fd(fd);
        break;
    }
    case 1: {
        int fd = fd_arg(d);
        sl = addr_arg(d, &ss, false);
        ifc.bind(ud, fd, (struct sockaddr *)&ss, sl);
        break;
    }
    case 2: ifc.listen(ud, fd_arg(d), (int)(int8_t)u8(d)); break;
    case 3:
        sl = u8(d) % (sizeof ss + 1);
        keep_fd(ifc.accept(ud, fd_arg(d), (op & 0x80) ? NULL : (struct sockaddr *)&ss, &sl));
        break;
    case 4: {
        int fd = fd_arg(d);
        sl = addr_arg(d, &ss, true);
        ifc.connect(ud, fd, (struct sockaddr *)&ss, sl);
        break;
    }
    case 5: op_send(d); break;
    case 6: op_recv(d); break;
    case 7: op_sockopt(d, true); break;
    case 8: op_sockopt(d, false); break;
    case 9: op_control(d); break;
    case 10: {
        int fd = fd_arg(d);
        if (ifc.close(ud, fd) == 0) forget_fd(fd);
        break;
    }
    case 11: ifc.shutdown(ud, fd_arg(d), (int)(u8(d) % 4)); break;
    case 12: op_poll(d); break;
    case 13: op_epoll(d); break;
    case 14:
    case 15: op_packet(d); break;
    case 16: op_receive(); break;
    default:
        if (op & 0x80) {
            struct timeval tv;
            ifc.gettimeofday(ud, &tv, NULL);
        } else {
            ifc.usleep(ud, (useconds_t)u16(d) * ((op & 0x40) ? 1000u : 1u));
        }
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in d = {data, size};
    /* Buffers of 64 KB instead of the packetdrill profile's 15 MB: the same code, without
     * ASan mapping and unmapping a large receive ring on every execution. */
    packetdrill_interface_init("rcvbuf=65536,sndbuf=65536", &ifc);
    ud = ifc.userdata;
    for (int i = 0; i < NFD; i++) fds[i] = -1;
    memset(&last, 0, sizeof last);
    for (int calls = 0; d.n && calls < 200; calls++) call(&d);
    ifc.free(ud);
    return 0;
}
