/* bench-tun-client.c: the Linux side of tools/bench-tun, one plain C program for tcpsim and
 * for the kernel alike, so that both are driven by the same code at C speed (a Python loop
 * is slower than either stack at connect+close and adds microseconds to an echo). Not part
 * of the CMake build: tools/bench-tun compiles it with `cc -O2` into its temporary directory
 * at every run. Every time is taken inside this program with CLOCK_MONOTONIC.
 *
 *   serve ADDR                the kernel's services on ADDR: echo 7, discard 9, chargen 19
 *                             (one epoll loop, nonblocking; holds any number of idle ones)
 *   send ADDR SECS            bulk to discard (9)        -> "bps BITS_PER_SECOND"
 *   recv ADDR SECS            bulk from chargen (19)     -> "bps BITS_PER_SECOND"
 *   rtt ADDR SECS             1-byte echo (7)            -> "rtt MEDIAN_US SAMPLES"
 *   churn ADDR SECS [N]       connect+close to discard (9), one after the other, or N
 *                             at a time (nonblocking, one epoll loop; 1..256)
 *                                                        -> "churn PER_SECOND DONE FAILED ERRNO"
 *   discard ADDR PORT         the kernel's discard alone, on PORT (one shard of idle ones)
 *   idle ADDR PORT N SRC PORT0  open N connections to ADDR:PORT (a discard service) from
 *                             SRC:PORT0, SRC:PORT0+1, ..., at most 100 handshakes in flight;
 *                             prints "held HELD N SECS FAILED ERRNO", then holds them idle
 *                             until SIGTERM, and resets them all (SO_LINGER 0) on exit.
 *                             One process holds at most RLIMIT_NOFILE's hard limit: the
 *                             bench runs several, each against a port of its own
 *   probe ADDR SECS           until SECS have passed: connect to echo (7), one byte there and
 *                             back (a peer stack is ready) -> "ready SECONDS", or exit 1
 *   offload DEV off           TSO, GSO, GRO, scatter-gather and checksum offloads off
 *                             (the SIOCETHTOOL ioctl: no ethtool needed)
 * Bounded: every mode ends by its SECS or its own limit; a failure is one line on stderr
 * and exit 1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BULK_BLOCK   (256 * 1024)
#define RTT_MAX      (20 * 1000 * 1000)
#define IDLE_WINDOW  100  /* handshakes in flight: a burst no larger than a SYN queue (128) */
#define IDLE_HS_SECS 3.0  /* a handshake not done by then counts as failed */
#define IDLE_GIVE_UP 1000 /* failures before the rest is not tried */

_Noreturn static void die(const char *what);
static void die(const char *what)
{
    fprintf(stderr, "bench-tun-client: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct sockaddr_in sin_of(const char *addr, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
        fprintf(stderr, "bench-tun-client: '%s' is not an IPv4 address\n", addr);
        exit(2);
    }
    return a;
}

/* Up to want open files; without CAP_SYS_RESOURCE only up to the hard limit. Returns the
 * soft limit now in force. */
static rlim_t raise_nofile(rlim_t want)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) < 0) die("getrlimit");
    if (r.rlim_cur >= want) return r.rlim_cur;
    struct rlimit w = {want, r.rlim_max > want ? r.rlim_max : want};
    if (setrlimit(RLIMIT_NOFILE, &w) == 0) return want;
    r.rlim_cur = r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &r) < 0) die("setrlimit RLIMIT_NOFILE");
    return r.rlim_cur;
}

static int dial(const char *addr, int port)
{
    struct sockaddr_in a = sin_of(addr, port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    struct timeval tv = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
    return fd;
}

/* ---- the kernel's services ---------------------------------------------------------- */

enum { K_NONE, K_LISTEN_ECHO, K_LISTEN_DISCARD, K_LISTEN_CHARGEN, K_ECHO, K_DISCARD, K_CHARGEN };

static char *chargen_block(void)
{
    static char b[BULK_BLOCK];
    for (size_t i = 0; i < sizeof b; i++) {
        size_t line = i / 74, col = i % 74;
        b[i] = col == 72 ? '\r' : col == 73 ? '\n' : (char)(' ' + (line + col) % 95);
    }
    return b;
}

static void serve_conn(int ep, unsigned char *kind, int fd, uint32_t ev, char *buf, size_t len,
                       const char *cg)
{
    ssize_t n = 1;
    if (kind[fd] == K_CHARGEN && (ev & EPOLLOUT))
        while ((n = send(fd, cg, BULK_BLOCK, MSG_NOSIGNAL)) > 0) {
        }
    if (kind[fd] != K_CHARGEN || (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        while ((n = recv(fd, buf, len, 0)) > 0)
            if (kind[fd] == K_ECHO)
                for (ssize_t off = 0, w; off < n; off += w)
                    if ((w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL)) < 0) {
                        if (errno != EAGAIN) break;
                        w = 0; /* only a 1-byte echo comes here: wait out a full buffer */
                    }
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
        kind[fd] = K_NONE;
        close(fd);
    }
}

_Noreturn static void serve(const char *addr, int nports, const int *ports, const int *kinds);
static void serve(const char *addr, int nports, const int *ports, const int *kinds)
{
    rlim_t maxfd = raise_nofile(1 << 20);
    unsigned char *kind = calloc(maxfd, 1);
    static char buf[1 << 20];
    const char *cg = chargen_block();
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!kind || ep < 0) die("epoll_create1");
    for (int i = 0; i < nports; i++) {
        struct sockaddr_in a = sin_of(addr, ports[i]);
        int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0)
            die("listen");
        kind[ls] = (unsigned char)kinds[i];
        struct epoll_event e = {.events = EPOLLIN, .data.fd = ls};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, ls, &e) < 0) die("epoll_ctl");
    }
    printf("ready\n");
    fflush(stdout);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (kind[fd] >= K_ECHO) {
                serve_conn(ep, kind, fd, evs[i].events, buf, sizeof buf, cg);
                continue;
            }
            int c, one = 1;
            while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                if ((rlim_t)c >= maxfd) die("accept: descriptor out of range");
                kind[c] = (unsigned char)(kind[fd] - K_LISTEN_ECHO + K_ECHO);
                if (kind[c] == K_ECHO) setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                struct epoll_event e = {.events = EPOLLIN, .data.fd = c};
                if (kind[c] == K_CHARGEN) e.events |= EPOLLOUT;
                if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &e) < 0) die("epoll_ctl");
            }
        }
    }
}

/* ---- bulk and echo ---------------------------------------------------------------------- */

static int bulk_send(const char *addr, double secs)
{
    static char block[BULK_BLOCK];
    int fd = dial(addr, 9);
    uint64_t bytes = 0;
    double t0 = now(), end = t0 + secs;
    while (now() < end) {
        ssize_t n = send(fd, block, sizeof block, MSG_NOSIGNAL);
        if (n <= 0) die("send");
        bytes += (uint64_t)n;
    }
    shutdown(fd, SHUT_WR);
    char c;
    if (recv(fd, &c, 1, 0) < 0) die("waiting for discard's FIN"); /* everything arrived */
    printf("bps %.6g\n", (double)bytes * 8 / (now() - t0));
    close(fd);
    return 0;
}

static int bulk_recv(const char *addr, double secs)
{
    static char buf[1 << 20];
    int fd = dial(addr, 19);
    uint64_t bytes = 0;
    double t0 = now(), end = t0 + secs, t;
    while ((t = now()) < end) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) die("recv from chargen");
        bytes += (uint64_t)n;
    }
    printf("bps %.6g\n", (double)bytes * 8 / (t - t0));
    close(fd);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int rtt(const char *addr, double secs)
{
    double *s = malloc(RTT_MAX * sizeof *s);
    if (!s) die("malloc");
    int fd = dial(addr, 7), one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    size_t n = 0;
    double end = now() + secs;
    char c = 'x';
    while (n < RTT_MAX) {
        double t0 = now();
        if (t0 >= end) break;
        if (send(fd, &c, 1, MSG_NOSIGNAL) != 1 || recv(fd, &c, 1, 0) != 1) die("echo");
        if (c != 'x') {
            fprintf(stderr, "bench-tun-client: echo returned '%c'\n", c);
            return 1;
        }
        s[n++] = now() - t0;
    }
    qsort(s, n, sizeof *s, cmp_double);
    printf("rtt %.2f %zu\n", n ? s[n / 2] * 1e6 : 0.0, n);
    close(fd);
    free(s);
    return 0;
}

/* ---- connect+close ---------------------------------------------------------------------- */

/* One connection after the other: connect (the handshake), close (FIN; the server closes
 * too). The client's TIME-WAITs are the namespace's business: tools/bench-tun sets
 * tcp_tw_reuse=1 and a wide ip_local_port_range in both client namespaces. */
static int churn_seq(const char *addr, double secs)
{
    struct sockaddr_in a = sin_of(addr, 9);
    uint64_t done = 0, failed = 0;
    int last_errno = 0;
    double t0 = now(), end = t0 + secs, t;
    while ((t = now()) < end) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) die("socket");
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            done++;
        else
            failed++, last_errno = errno;
        close(fd);
        if (failed > 1000) break; /* a broken setup, not a figure */
    }
    printf("churn %.6g %llu %llu %d\n", (double)done / (t - t0), (unsigned long long)done,
           (unsigned long long)failed, last_errno);
    return 0;
}

/* A nonblocking connect started and watched; 1 when it is under way, 0 when it already
 * finished (counted), -1 when it failed at once (counted). */
static int churn_start(int ep, const struct sockaddr_in *a, uint64_t *done, uint64_t *failed,
                       int *last_errno)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (const struct sockaddr *)a, sizeof *a) == 0) {
        (*done)++;
        close(fd);
        return 0;
    }
    if (errno != EINPROGRESS) {
        (*failed)++, *last_errno = errno;
        close(fd);
        return -1;
    }
    struct epoll_event e = {.events = EPOLLOUT, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) die("epoll_ctl");
    return 1;
}

/* n connect+close at a time, as a server's many clients would: each connection that
 * completes (or fails) is closed and replaced at once, until secs have passed. */
static int churn_conc(const char *addr, double secs, int n)
{
    struct sockaddr_in a = sin_of(addr, 9);
    uint64_t done = 0, failed = 0;
    int last_errno = 0, inflight = 0;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    double t0 = now(), end = t0 + secs, t = t0;
    struct epoll_event evs[256];
    while ((t = now()) < end && failed <= 1000) {
        while (inflight < n && failed <= 1000)
            if (churn_start(ep, &a, &done, &failed, &last_errno) > 0) inflight++;
        int k = epoll_wait(ep, evs, 256, 100);
        if (k < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < k; i++) {
            int fd = evs[i].data.fd, err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
            if (err)
                failed++, last_errno = err;
            else
                done++;
            close(fd); /* closing also takes it out of the epoll set */
            inflight--;
        }
    }
    printf("churn %.6g %llu %llu %d\n", (double)done / (t - t0), (unsigned long long)done,
           (unsigned long long)failed, last_errno);
    close(ep);
    return 0;
}

static int churn(const char *addr, double secs, const char *conc)
{
    int n = conc ? atoi(conc) : 1;
    if (n < 1 || n > 256) {
        fprintf(stderr, "bench-tun-client: churn: %s in flight: use 1..256\n", conc);
        return 2;
    }
    return n == 1 ? churn_seq(addr, secs) : churn_conc(addr, secs, n);
}

/* ---- idle connections ------------------------------------------------------------------- */

typedef struct pending {
    int fd;
    double t0;
} pending;

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

/* Start one connection from src (its port set by the caller) to dst. */
static int idle_start(const struct sockaddr_in *dst, const struct sockaddr_in *src)
{
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket (RLIMIT_NOFILE?)");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)src, sizeof *src) < 0 ||
        (connect(fd, (const struct sockaddr *)dst, sizeof *dst) < 0 && errno != EINPROGRESS)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int idle(const char *addr, int port, long n, const char *srcaddr, long port0)
{
    struct sockaddr_in dst = sin_of(addr, port), src = sin_of(srcaddr, 0);
    if (n < 1 || port0 < 1024 || port0 + n > 65536) {
        fprintf(stderr, "bench-tun-client: idle: ports %ld..%ld are not in 1024..65535\n", port0,
                port0 + n - 1);
        return 2;
    }
    if (raise_nofile((rlim_t)n + 64) < (rlim_t)n + 64) {
        fprintf(stderr, "bench-tun-client: idle: %ld connections need RLIMIT_NOFILE %ld\n", n,
                n + 64);
        return 2;
    }
    int *fds = malloc((size_t)n * sizeof *fds), ep = epoll_create1(EPOLL_CLOEXEC);
    pending win[IDLE_WINDOW];
    if (!fds || ep < 0) die("malloc");
    long next = 0, held = 0, failed = 0, inflight = 0;
    int last_errno = 0;
    double t0 = now(), limit = t0 + 10 + (double)n / 2000;
    for (int k = 0; k < IDLE_WINDOW; k++) win[k].fd = -1;
    while ((next < n || inflight) && failed < IDLE_GIVE_UP && now() < limit) {
        for (int k = 0; k < IDLE_WINDOW && next < n; k++) {
            if (win[k].fd >= 0) continue;
            src.sin_port = htons((uint16_t)(port0 + next++));
            int fd = idle_start(&dst, &src);
            if (fd < 0) {
                failed++, last_errno = errno;
                continue;
            }
            struct epoll_event e = {.events = EPOLLOUT, .data.u32 = (uint32_t)k};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) die("epoll_ctl");
            win[k] = (pending){fd, now()};
            inflight++;
        }
        struct epoll_event evs[IDLE_WINDOW];
        int m = epoll_wait(ep, evs, IDLE_WINDOW, 20);
        double t = now();
        for (int j = 0; j < m; j++) {
            int k = (int)evs[j].data.u32, err = 0;
            socklen_t len = sizeof err;
            getsockopt(win[k].fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err) {
                close(win[k].fd);
                failed++, last_errno = err;
            } else { /* idle from now on; kept in epoll like the server's end */
                struct epoll_event e = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
                epoll_ctl(ep, EPOLL_CTL_MOD, win[k].fd, &e);
                fds[held++] = win[k].fd;
            }
            win[k].fd = -1;
            inflight--;
        }
        for (int k = 0; k < IDLE_WINDOW; k++)
            if (win[k].fd >= 0 && t - win[k].t0 > IDLE_HS_SECS) {
                close(win[k].fd);
                win[k].fd = -1;
                inflight--;
                failed++, last_errno = ETIMEDOUT;
            }
    }
    for (int k = 0; k < IDLE_WINDOW; k++)
        if (win[k].fd >= 0) close(win[k].fd), failed++, last_errno = ETIMEDOUT;
    printf("held %ld %ld %.3f %ld %d\n", held, n, now() - t0, failed, last_errno);
    fflush(stdout);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    while (!stop) pause(); /* idle: no data either way */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    for (long i = 0; i < held; i++) {
        setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fds[i]);
    }
    return 0;
}

/* ---- a peer stack's readiness ----------------------------------------------------------- */

/* One try: a connect to echo within a second, one byte back within another. */
static int probe_once(const char *addr)
{
    struct sockaddr_in a = sin_of(addr, 7);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* bounds connect() too */
    char c = 'x', r = 0;
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && send(fd, &c, 1, 0) == 1 &&
             recv(fd, &r, 1, 0) == 1 && r == c;
    close(fd);
    return ok;
}

static int probe(const char *addr, double secs)
{
    double t0 = now();
    while (!probe_once(addr)) {
        if (now() - t0 >= secs) {
            fprintf(stderr, "bench-tun-client: probe: no echo from %s:7 within %.0f s\n", addr,
                    secs);
            return 1;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    printf("ready %.3f\n", now() - t0);
    return 0;
}

/* ---- veth offloads ---------------------------------------------------------------------- */

static int offload_off(const char *dev)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    const uint32_t cmds[] = {ETHTOOL_SGRO, ETHTOOL_SGSO,    ETHTOOL_STSO,
                             ETHTOOL_SSG,  ETHTOOL_STXCSUM, ETHTOOL_SRXCSUM};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        struct ethtool_value v = {.cmd = cmds[i], .data = 0};
        struct ifreq ifr = {0};
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
        ifr.ifr_data = (void *)&v;
        if (ioctl(fd, SIOCETHTOOL, &ifr) < 0 && errno != EOPNOTSUPP) die("SIOCETHTOOL");
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "serve") && argc == 3) {
        const int ports[] = {7, 9, 19},
                  kinds[] = {K_LISTEN_ECHO, K_LISTEN_DISCARD, K_LISTEN_CHARGEN};
        serve(argv[2], 3, ports, kinds);
    }
    if (!strcmp(mode, "discard") && argc == 4) {
        const int ports[] = {atoi(argv[3])}, kinds[] = {K_LISTEN_DISCARD};
        serve(argv[2], 1, ports, kinds);
    }
    if (!strcmp(mode, "send") && argc == 4) return bulk_send(argv[2], atof(argv[3]));
    if (!strcmp(mode, "recv") && argc == 4) return bulk_recv(argv[2], atof(argv[3]));
    if (!strcmp(mode, "rtt") && argc == 4) return rtt(argv[2], atof(argv[3]));
    if (!strcmp(mode, "churn") && (argc == 4 || argc == 5))
        return churn(argv[2], atof(argv[3]), argc == 5 ? argv[4] : NULL);
    if (!strcmp(mode, "idle") && argc == 7)
        return idle(argv[2], atoi(argv[3]), atol(argv[4]), argv[5], atol(argv[6]));
    if (!strcmp(mode, "probe") && argc == 4) return probe(argv[2], atof(argv[3]));
    if (!strcmp(mode, "offload") && argc == 4 && !strcmp(argv[3], "off"))
        return offload_off(argv[2]);
    fprintf(stderr, "usage: bench-tun-client serve|send|recv|rtt|churn|idle|probe|offload ...; see "
                    "the header of tools/bench-tun-client.c\n");
    return 2;
}
