/* test_pd_driver.c: drives libtcpsim_packetdrill.so the way packetdrill does, without
 * packetdrill: dlopen it, check every interface pointer is filled, then play the remote
 * side with hand-built IPv4/TCP packets through netdev_send/netdev_receive and make the
 * socket calls, all in virtual time: a handshake with a blocking accept on a second
 * thread, data both ways, a half-close, and a SYN timeout; EFAULT for bad buffers, epoll,
 * and the newer options (TCP_CORK, IP_TOS, TCP_NOTSENT_LOWAT, TCP_INQ).
 * Usage: test_pd_driver PATH/libtcpsim_packetdrill.so */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

#include "pd.h"
#include "pd_load.h"
#include "tcpsim/wire.h"

#define LOCAL  TS_IP4(192, 168, 0, 1)
#define REMOTE TS_IP4(192, 0, 2, 1)
#define RPORT  40000
#define LPORT  8080

static const char *so_path;
static struct packetdrill_interface ifc;
static void *ud;

/* A packet the stack sent, parsed. */
typedef struct {
    size_t len;
    long long t;
    uint8_t flags;
    uint32_t seq, ack;
    uint16_t sport, dport;
    uint32_t plen;
    const uint8_t *payload;
    uint8_t buf[2048];
} seg;

static void setup_with(const char *flags)
{
    ud = pd_load(so_path, flags, &ifc);
}

static void teardown(void)
{
    ifc.free(ud);
}

/* Inject one segment from the remote side; MSS 1000 on SYNs, no other options. */
static void inject(uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
    uint8_t pkt[1500];
    static const uint8_t mss[] = {TS_OPT_MSS, 4, 1000 >> 8, 1000 & 255};
    ts_ip4_hdr ip = {.ttl = 255, .src = REMOTE, .dst = LOCAL};
    ts_tcp_hdr th = {
        .sport = RPORT, .dport = LPORT, .seq = seq, .ack = ack, .flags = flags, .win = 65535};
    size_t olen = (flags & TS_TH_SYN) ? sizeof mss : 0;
    size_t len = ts_tcp_build(pkt, sizeof pkt, &ip, &th, mss, olen, data, data ? strlen(data) : 0);
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(ifc.netdev_send(ud, pkt, len), 0);
}

/* The next packet the stack sends; false if none will ever come. */
static bool receive(seg *s)
{
    s->len = sizeof s->buf;
    ck_assert_int_eq(ifc.netdev_receive(ud, s->buf, &s->len, &s->t), 0);
    if (s->len == 0) return false;
    ts_pkt_view v;
    ck_assert_int_eq(ts_pkt_view_parse(&v, s->buf, s->len), TS_WIRE_OK);
    ck_assert(v.tcp);
    ck_assert(ts_ip4_csum_ok(&v.ip4));
    ck_assert(ts_tcp_csum_ok(&v.th, LOCAL, REMOTE));
    s->sport = v.th.sport, s->dport = v.th.dport;
    s->seq = v.th.seq, s->ack = v.th.ack, s->flags = v.th.flags;
    s->plen = (uint32_t)v.th.len;
    s->payload = v.th.data;
    return true;
}

static long long now_us(void)
{
    struct timeval tv;
    ck_assert_int_eq(ifc.gettimeofday(ud, &tv, NULL), 0);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

START_TEST(every_pointer_filled)
{
    setup_with(NULL);
    /* After userdata the struct is nothing but function pointers, in the ABI's order. */
    void (**fp)(void) = (void (**)(void))((char *)&ifc + sizeof(void *));
    size_t n = (sizeof ifc - sizeof(void *)) / sizeof(void (*)(void));
    ck_assert_uint_eq(n, 32);
    for (size_t i = 0; i < n; i++) ck_assert_msg(fp[i] != NULL, "pointer %zu is NULL", i);
    /* Unsupported calls fail cleanly. */
    errno = 0;
    int pfd[2];
    ck_assert_int_eq(ifc.pipe(ud, pfd), -1);
    ck_assert_int_eq(errno, ENOSYS);
    /* The clock moves on every read, even when nothing else moves it. */
    long long a = now_us(), b = now_us();
    ck_assert_int_ge(b - a, 1);
    ck_assert_int_eq(ifc.usleep(ud, 250000), 0);
    ck_assert_int_ge(now_us() - b, 250000);
    teardown();
}
END_TEST

typedef struct {
    int lfd, fd, err;
    struct sockaddr_in peer;
} accept_job;

static void *accept_thread(void *arg)
{
    accept_job *j = arg;
    socklen_t len = sizeof j->peer;
    j->fd = ifc.accept(ud, j->lfd, (struct sockaddr *)&j->peer, &len);
    j->err = errno;
    return NULL;
}

static int listen_socket(void)
{
    int fd = ifc.socket(ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    ck_assert_int_ge(fd, 0);
    int one = 1;
    ck_assert_int_eq(ifc.setsockopt(ud, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(LPORT), .sin_addr.s_addr = htonl(LOCAL)};
    ck_assert_int_eq(ifc.bind(ud, fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(ifc.listen(ud, fd, 1), 0);
    return fd;
}

START_TEST(handshake_data_half_close)
{
    setup_with("local=192.168.0.1,profile=packetdrill");
    accept_job j = {.lfd = listen_socket(), .fd = -1};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, accept_thread, &j), 0);
    usleep(20000); /* real time: let the accept block first (it must also work if not) */

    long long t0 = now_us();
    inject(TS_TH_SYN, 100, 0, NULL);
    seg s;
    ck_assert(receive(&s));
    ck_assert_uint_eq(s.flags, TS_TH_SYN | TS_TH_ACK);
    ck_assert_uint_eq(s.ack, 101);
    ck_assert_uint_eq(s.sport, LPORT);
    ck_assert_int_lt(s.t - t0, 10); /* at once, in virtual time */
    uint32_t iss = s.seq;
    ck_assert_int_eq(ifc.usleep(ud, 100000), 0);
    inject(TS_TH_ACK, 101, iss + 1, NULL);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_ge(j.fd, 0);
    ck_assert_uint_eq(ntohl(j.peer.sin_addr.s_addr), REMOTE);
    ck_assert_uint_eq(ntohs(j.peer.sin_port), RPORT);

    /* Data in: quick-ACKed at the start of the connection, then read. */
    inject(TS_TH_ACK | TS_TH_PSH, 101, iss + 1, "hello");
    ck_assert(receive(&s));
    ck_assert_uint_eq(s.flags, TS_TH_ACK);
    ck_assert_uint_eq(s.ack, 106);
    int inq = -1;
    ck_assert_int_eq(ifc.ioctl(ud, j.fd, FIONREAD, &inq), 0);
    ck_assert_int_eq(inq, 5);
    char buf[64] = {0};
    ck_assert_int_eq(ifc.read(ud, j.fd, buf, sizeof buf), 5);
    ck_assert_str_eq(buf, "hello");

    /* Data out. */
    ck_assert_int_eq(ifc.write(ud, j.fd, "world!", 6), 6);
    ck_assert(receive(&s));
    ck_assert_uint_eq(s.seq, iss + 1);
    ck_assert_uint_eq(s.plen, 6);
    ck_assert_int_eq(memcmp(s.payload, "world!", 6), 0);
    inject(TS_TH_ACK, 106, iss + 7, NULL);

    /* The peer half-closes: read() gives 0, and we can still send. */
    inject(TS_TH_ACK | TS_TH_FIN, 106, iss + 7, NULL);
    ck_assert(receive(&s));
    ck_assert_uint_eq(s.ack, 107);
    ck_assert_int_eq(ifc.read(ud, j.fd, buf, sizeof buf), 0);
    ck_assert_int_eq(ifc.write(ud, j.fd, "more", 4), 4);
    ck_assert(receive(&s));
    ck_assert_uint_eq(s.plen, 4);
    inject(TS_TH_ACK, 107, iss + 11, NULL);
    ck_assert_int_eq(ifc.close(ud, j.fd), 0);
    ck_assert(receive(&s));
    ck_assert_uint_eq(s.flags & TS_TH_FIN, TS_TH_FIN);
    ck_assert_uint_eq(s.seq, iss + 11);
    inject(TS_TH_ACK, 107, iss + 12, NULL);
    ck_assert(!receive(&s)); /* LAST-ACK done: nothing more will ever come */
    ck_assert_int_eq(ifc.close(ud, j.lfd), 0);
    teardown();
}
END_TEST

START_TEST(syn_timeout_in_virtual_time)
{
    setup_with("profile=packetdrill,syn_retries=2");
    int fd = ifc.socket(ud, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ifc.fcntl(ud, fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(RPORT), .sin_addr.s_addr = htonl(REMOTE)};
    errno = 0;
    ck_assert_int_eq(ifc.connect(ud, fd, (struct sockaddr *)&sin, sizeof sin), -1);
    ck_assert_int_eq(errno, EINPROGRESS);
    /* The same SYN at 0, 1 and 3 s (RTO 1 s, doubling), then nothing. */
    seg s;
    long long t[3];
    uint32_t isn = 0;
    for (int i = 0; i < 3; i++) {
        ck_assert(receive(&s));
        ck_assert_uint_eq(s.flags, TS_TH_SYN);
        if (i == 0) isn = s.seq;
        ck_assert_uint_eq(s.seq, isn);
        t[i] = s.t;
    }
    ck_assert_int_eq(t[1] - t[0], 1000000);
    ck_assert_int_eq(t[2] - t[0], 3000000);
    ck_assert(!receive(&s));
    int err = 0;
    socklen_t len = sizeof err;
    ck_assert_int_eq(ifc.getsockopt(ud, fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    ck_assert_int_eq(err, ETIMEDOUT);
    ck_assert_int_eq(ifc.close(ud, fd), 0);
    teardown();
}
END_TEST

START_TEST(blocking_connect_times_out_on_main_thread)
{
    /* A blocking call the script did not mark as blocking runs the clock itself. */
    setup_with("syn_retries=1");
    int fd = ifc.socket(ud, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(RPORT), .sin_addr.s_addr = htonl(REMOTE)};
    long long t0 = now_us();
    errno = 0;
    ck_assert_int_eq(ifc.connect(ud, fd, (struct sockaddr *)&sin, sizeof sin), -1);
    ck_assert_int_eq(errno, ETIMEDOUT);
    long long dt = now_us() - t0;
    ck_assert_int_ge(dt, 3000000); /* SYNs at 0 and 1 s, give up at 3 s */
    ck_assert_int_lt(dt, 3000100);
    teardown();
}
END_TEST

/* An established connection accepted on the main thread; returns the descriptor. */
static int established(int lfd, uint32_t *iss)
{
    inject(TS_TH_SYN, 100, 0, NULL);
    seg s;
    ck_assert(receive(&s));
    *iss = s.seq;
    inject(TS_TH_ACK, 101, *iss + 1, NULL);
    int fd = ifc.accept(ud, lfd, NULL, NULL);
    ck_assert_int_ge(fd, 0);
    return fd;
}

/* Bad user pointers give -1/EFAULT as on Linux, never a crash, and lose no data. */
START_TEST(bad_pointers_efault)
{
    setup_with("local=192.168.0.1");
    uint32_t iss;
    int lfd = listen_socket(), fd = established(lfd, &iss);
    void *gone = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(gone, MAP_FAILED); /* mapped, but neither readable nor writable */
    void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(ro, MAP_FAILED);
    errno = 0;
    ck_assert_int_eq(ifc.write(ud, fd, NULL, 1000), -1);
    ck_assert_int_eq(errno, EFAULT);
    ck_assert_int_eq(ifc.send(ud, fd, gone, 100, 0), -1);
    ck_assert_int_eq(errno, EFAULT);
    inject(TS_TH_ACK | TS_TH_PSH, 101, iss + 1, "hello");
    seg s;
    ck_assert(receive(&s)); /* its ACK */
    ck_assert_int_eq(ifc.read(ud, fd, NULL, 100), -1);
    ck_assert_int_eq(errno, EFAULT);
    ck_assert_int_eq(ifc.recv(ud, fd, gone, 100, 0), -1);
    ck_assert_int_eq(errno, EFAULT);
    ck_assert_int_eq(ifc.recv(ud, fd, ro, 100, 0), -1); /* mapped but not writable */
    ck_assert_int_eq(errno, EFAULT);
    socklen_t *badlen = gone;
    int v;
    ck_assert_int_eq(ifc.getsockopt(ud, fd, IPPROTO_TCP, TCP_NODELAY, &v, badlen), -1);
    ck_assert_int_eq(errno, EFAULT);
    ck_assert_int_eq(ifc.setsockopt(ud, fd, IPPROTO_TCP, TCP_NODELAY, gone, 4), -1);
    ck_assert_int_eq(errno, EFAULT);
    /* addresses: bind and connect read one, accept writes one back */
    int s2 = ifc.socket(ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    ck_assert_int_ge(s2, 0);
    ck_assert_int_eq(ifc.bind(ud, s2, gone, sizeof(struct sockaddr_in)), -1);
    ck_assert_int_eq(errno, EFAULT);
    ck_assert_int_eq(ifc.connect(ud, s2, gone, sizeof(struct sockaddr_in)), -1);
    ck_assert_int_eq(errno, EFAULT);
    struct sockaddr_in peer;
    ck_assert_int_eq(ifc.accept(ud, lfd, (struct sockaddr *)&peer, badlen), -1);
    ck_assert_int_eq(errno, EFAULT);
    ifc.close(ud, s2);
    char buf[16] = {0};
    ck_assert_int_eq(ifc.recv(ud, fd, buf, 3, MSG_PEEK), 3); /* nothing was lost */
    ck_assert_int_eq(ifc.read(ud, fd, buf, sizeof buf), 5);
    ck_assert_str_eq(buf, "hello");
    munmap(ro, 4096), munmap(gone, 4096);
    ifc.close(ud, fd), ifc.close(ud, lfd);
    teardown();
}
END_TEST

/* epoll: edge-triggered items report after each wake-up only, with the whole state;
 * level-triggered ones while ready; closing the socket removes it. */
START_TEST(epoll_edge_and_level)
{
    setup_with("local=192.168.0.1");
    uint32_t iss;
    int lfd = listen_socket(), fd = established(lfd, &iss);
    int ep = ifc.epoll_create(ud, 1);
    ck_assert_int_ge(ep, 0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.fd = fd}, out[4];
    ck_assert_int_eq(ifc.epoll_ctl(ud, ep, EPOLL_CTL_ADD, fd, &ev), 0);
    ck_assert_int_eq(ifc.epoll_ctl(ud, ep, EPOLL_CTL_ADD, fd, &ev), -1);
    ck_assert_int_eq(errno, EEXIST);
    ck_assert_int_eq(ifc.epoll_wait(ud, ep, out, 4, 0), 1);
    ck_assert_uint_eq(out[0].events, EPOLLOUT);
    ck_assert_int_eq(out[0].data.fd, fd);
    ck_assert_int_eq(ifc.epoll_wait(ud, ep, out, 4, 0), 0);
    inject(TS_TH_ACK | TS_TH_PSH, 101, iss + 1, "data");
    ck_assert_int_eq(ifc.epoll_wait(ud, ep, out, 4, 0), 1);
    ck_assert_uint_eq(out[0].events, EPOLLIN | EPOLLOUT);
    ck_assert_int_eq(ifc.epoll_wait(ud, ep, out, 4, 0), 0);
    long long t0 = now_us(); /* a timeout runs in virtual time */
    ck_assert_int_eq(ifc.epoll_wait(ud, ep, out, 4, 500), 0);
    ck_assert_int_ge(now_us() - t0, 500000);
    ev.events = EPOLLIN; /* level-triggered: reported while readable */
    ck_assert_int_eq(ifc.epoll_ctl(ud, ep, EPOLL_CTL_MOD, fd, &ev), 0);
    ck_assert_int_eq(ifc.epoll_wait(ud, ep, out, 4, 0), 1);
    ck_assert_int_eq(ifc.epoll_wait(ud, ep, out, 4, 0), 1);
    ck_assert_uint_eq(out[0].events, EPOLLIN);
    char buf[8];
    ck_assert_int_eq(ifc.read(ud, fd, buf, sizeof buf), 4);
    ck_assert_int_eq(ifc.epoll_wait(ud, ep, out, 4, 0), 0);
    ck_assert_int_eq(ifc.close(ud, fd), 0);
    ck_assert_int_eq(ifc.epoll_ctl(ud, ep, EPOLL_CTL_DEL, fd, NULL), -1);
    ck_assert_int_eq(errno, EBADF);
    ck_assert_int_eq(ifc.close(ud, ep), 0);
    ifc.close(ud, lfd);
    teardown();
}
END_TEST

/* New options round-trip, and do what they say: TCP_CORK holds a write until uncorked,
 * IP_TOS (a one-byte value, as scripts pass it) marks the packets, TCP_INQ adds the
 * bytes left to recvmsg's control data, TCP_NOTSENT_LOWAT reads back. */
START_TEST(option_round_trip)
{
    setup_with("local=192.168.0.1");
    uint32_t iss;
    int lfd = listen_socket(), fd = established(lfd, &iss);
    int one = 1, zero = 0, v = -1, lw = 4000;
    socklen_t vl = sizeof v;
    uint8_t tos = 0x28;
    ck_assert_int_eq(ifc.setsockopt(ud, fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one), 0);
    ck_assert_int_eq(ifc.getsockopt(ud, fd, IPPROTO_TCP, TCP_CORK, &v, &vl), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(ifc.setsockopt(ud, fd, SOL_IP, IP_TOS, &tos, 1), 0);
    ck_assert_int_eq(ifc.getsockopt(ud, fd, SOL_IP, IP_TOS, &v, &vl), 0);
    ck_assert_int_eq(v, 0x28);
    ck_assert_int_eq(ifc.setsockopt(ud, fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lw, sizeof lw), 0);
    ck_assert_int_eq(ifc.getsockopt(ud, fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &vl), 0);
    ck_assert_int_eq(v, 4000);
    ck_assert_int_eq(ifc.write(ud, fd, "abc", 3), 3);
    ck_assert_int_eq(ifc.setsockopt(ud, fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof zero), 0);
    seg s;
    ck_assert(receive(&s));
    ck_assert_uint_eq(s.plen, 3);
    ck_assert_uint_eq(s.buf[1], 0x28);
    inject(TS_TH_ACK, 101, iss + 4, NULL);
    ck_assert_int_eq(ifc.setsockopt(ud, fd, SOL_TCP, TCP_INQ, &one, sizeof one), 0);
    inject(TS_TH_ACK | TS_TH_PSH, 101, iss + 4, "0123456789");
    char buf[4], ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    ck_assert_int_eq(ifc.recvmsg(ud, fd, &m, 0), 4);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->cmsg_level, SOL_TCP);
    ck_assert_int_eq(c->cmsg_type, TCP_CM_INQ);
    memcpy(&v, CMSG_DATA(c), sizeof v);
    ck_assert_int_eq(v, 6);
    ifc.close(ud, fd), ifc.close(ud, lfd);
    teardown();
}
END_TEST

static Suite *suite(void)
{
    Suite *su = suite_create("packetdrill_adapter");
    TCase *tc = tcase_create("driver");
    tcase_add_test(tc, every_pointer_filled);
    tcase_add_test(tc, handshake_data_half_close);
    tcase_add_test(tc, syn_timeout_in_virtual_time);
    tcase_add_test(tc, blocking_connect_times_out_on_main_thread);
    tcase_add_test(tc, bad_pointers_efault);
    tcase_add_test(tc, epoll_edge_and_level);
    tcase_add_test(tc, option_round_trip);
    suite_add_tcase(su, tc);
    return su;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_pd_driver PATH/libtcpsim_packetdrill.so\n");
        return 2;
    }
    so_path = argv[1];
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
