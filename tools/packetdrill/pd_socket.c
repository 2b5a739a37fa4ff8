/* pd_socket.c: the BSD socket calls packetdrill makes, mapped onto tcpsim's non-blocking
 * socket API with Linux's numbers and semantics. A call on a blocking descriptor that
 * tcpsim answers with -EAGAIN waits (pd_wait) and retries whenever the stack's state moves.
 * Every call takes the adapter's one mutex. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "pd.h"

#define PD_LOCK(ud)                                                                                \
    pd *p = (ud);                                                                                  \
    pthread_mutex_lock(&p->mu)

/* End a call: the state may have moved, so blocked calls look again; then unlock. */
static long pd_ret(pd *p, long r)
{
    int e = errno;
    pd_changed(p);
    pd_settle(p);
    pthread_mutex_unlock(&p->mu);
    errno = e;
    return r;
}

static int fail(pd *p, int neg_errno)
{
    return (int)pd_ret(p, pd_err(neg_errno));
}

static int sin_in(const struct sockaddr *a, socklen_t len, uint32_t *addr, uint16_t *port)
{
    if (!a || len < (socklen_t)sizeof(struct sockaddr_in)) return -EINVAL;
    if (a->sa_family != AF_INET) return -EAFNOSUPPORT;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)a;
    *addr = ntohl(sin->sin_addr.s_addr);
    *port = ntohs(sin->sin_port);
    return 0;
}

static void sin_out(struct sockaddr *a, socklen_t *len, const ts_endpoint *ep)
{
    if (!a || !len) return;
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(ep->port), .sin_addr.s_addr = htonl(ep->addr)};
    size_t n = *len < sizeof sin ? *len : sizeof sin;
    memcpy(a, &sin, n);
    *len = sizeof sin;
}

static int pd_socket(void *ud, int domain, int type, int protocol)
{
    PD_LOCK(ud);
    if (domain != AF_INET) return fail(p, -EAFNOSUPPORT);
    if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM) return fail(p, -EPROTONOSUPPORT);
    if (protocol != 0 && protocol != IPPROTO_TCP) return fail(p, -EPROTONOSUPPORT);
    int sd = ts_socket(p->st);
    if (sd < 0) return fail(p, sd);
    int fd = pd_fd_new(p, sd);
    if (fd < 0) {
        int e = errno;
        ts_close(p->st, sd);
        return fail(p, -e);
    }
    p->fds[fd].nonblock = (type & SOCK_NONBLOCK) != 0;
    return (int)pd_ret(p, fd);
}

static int pd_bind(void *ud, int fd, const struct sockaddr *a, socklen_t len)
{
    PD_LOCK(ud);
    pd_fd *f = pd_fd_get(p, fd);
    if (!f) return fail(p, -EBADF);
    uint32_t addr;
    uint16_t port;
    int r = sin_in(a, len, &addr, &port);
    if (r == 0) r = ts_bind(p->st, f->sd, addr, port);
    return r < 0 ? fail(p, r) : (int)pd_ret(p, 0);
}

static int pd_listen(void *ud, int fd, int backlog)
{
    PD_LOCK(ud);
    pd_fd *f = pd_fd_get(p, fd);
    if (!f) return fail(p, -EBADF);
    /* Linux's backlog 0 still queues one connection; tcpsim reads <= 0 as "default". */
    int r = ts_listen(p->st, f->sd, backlog > 0 ? backlog : 1);
    return r < 0 ? fail(p, r) : (int)pd_ret(p, 0);
}

/* ---- accept ---- */

typedef struct {
    int sd, r;
    ts_endpoint peer;
} acc_arg;

static bool accept_ready(pd *p, void *arg)
{
    acc_arg *a = arg;
    a->r = ts_accept(p->st, a->sd, &a->peer);
    return a->r != -EAGAIN;
}

static int pd_accept(void *ud, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    PD_LOCK(ud);
    pd_fd *f = pd_fd_get(p, fd);
    if (!f) return fail(p, -EBADF);
    acc_arg a = {.sd = f->sd};
    if (!accept_ready(p, &a) && !f->nonblock) pd_wait(p, accept_ready, &a, TS_TIME_NEVER);
    if (a.r < 0) return fail(p, a.r);
    int nfd = pd_fd_new(p, a.r);
    if (nfd < 0) {
        int e = errno;
        ts_abort(p->st, a.r);
        return fail(p, -e);
    }
    sin_out(addr, addrlen, &a.peer);
    return (int)pd_ret(p, nfd);
}

/* ---- connect ---- */

static bool connect_done(pd *p, void *arg)
{
    unsigned ev = ts_sock_events(p->st, *(int *)arg);
    return (ev & (TS_SOCK_CONNECTED | TS_SOCK_ERROR | TS_SOCK_CLOSED)) != 0;
}

static int pd_connect(void *ud, int fd, const struct sockaddr *a, socklen_t len)
{
    PD_LOCK(ud);
    pd_fd *f = pd_fd_get(p, fd);
    if (!f) return fail(p, -EBADF);
    uint32_t addr;
    uint16_t port;
    int r = sin_in(a, len, &addr, &port);
    if (r < 0) return fail(p, r);
    r = ts_connect(p->st, f->sd, addr, port);
    if (r != -EINPROGRESS || f->nonblock) return r < 0 ? fail(p, r) : (int)pd_ret(p, 0);
    int sd = f->sd;
    pd_wait(p, connect_done, &sd, TS_TIME_NEVER);
    if (ts_sock_events(p->st, sd) & TS_SOCK_CONNECTED) return (int)pd_ret(p, 0);
    r = ts_sock_error(p->st, sd);
    return fail(p, r ? r : -ETIMEDOUT);
}

/* ---- receiving ---- */

typedef struct {
    int sd;
    void *buf;
    size_t len;
    ssize_t r;
} io_arg;

static bool recv_ready(pd *p, void *arg)
{
    io_arg *a = arg;
    a->r = ts_recv(p->st, a->sd, a->buf, a->len);
    return a->r != -EAGAIN;
}

/* The common receive path; MSG_PEEK and other flags tcpsim cannot honour are refused. */
static ssize_t do_recv(pd *p, int fd, void *buf, size_t len, int flags)
{
    pd_fd *f = pd_fd_get(p, fd);
    if (!f) return pd_err(-EBADF);
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_WAITALL)) return pd_err(-ENOSYS);
    io_arg a = {.sd = f->sd, .buf = buf, .len = len};
    bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
    if (!recv_ready(p, &a) && !nonblock) pd_wait(p, recv_ready, &a, TS_TIME_NEVER);
    return a.r < 0 ? pd_err((int)a.r) : a.r;
}

static size_t iov_total(const struct iovec *iov, int n)
{
    size_t t = 0;
    for (int i = 0; i < n; i++) t += iov[i].iov_len;
    return t;
}

/* Receive into one buffer, then scatter, so a readv is one read as in Linux. */
static ssize_t do_recv_iov(pd *p, int fd, const struct iovec *iov, int n, int flags)
{
    if (n < 0) return pd_err(-EINVAL);
    size_t total = iov_total(iov, n);
    uint8_t *tmp = pd_scratch(p, total);
    if (!tmp) return pd_err(-ENOMEM);
    ssize_t r = do_recv(p, fd, tmp, total, flags);
    size_t off = 0;
    for (int i = 0; r > 0 && i < n && off < (size_t)r; i++) {
        size_t k = iov[i].iov_len < (size_t)r - off ? iov[i].iov_len : (size_t)r - off;
        memcpy(iov[i].iov_base, tmp + off, k);
        off += k;
    }
    return r;
}

static ssize_t pd_read(void *ud, int fd, void *buf, size_t count)
{
    PD_LOCK(ud);
    return pd_ret(p, do_recv(p, fd, buf, count, 0));
}

static ssize_t pd_recv(void *ud, int fd, void *buf, size_t len, int flags)
{
    PD_LOCK(ud);
    return pd_ret(p, do_recv(p, fd, buf, len, flags));
}

static ssize_t pd_recvfrom(void *ud, int fd, void *buf, size_t len, int flags, struct sockaddr *src,
                           socklen_t *srclen)
{
    PD_LOCK(ud);
    ssize_t r = do_recv(p, fd, buf, len, flags);
    pd_fd *f = pd_fd_get(p, fd);
    ts_endpoint ep;
    if (r >= 0 && f && src && ts_getpeername(p->st, f->sd, &ep) == 0) sin_out(src, srclen, &ep);
    return pd_ret(p, r);
}

static ssize_t pd_readv(void *ud, int fd, const struct iovec *iov, int n)
{
    PD_LOCK(ud);
    return pd_ret(p, do_recv_iov(p, fd, iov, n, 0));
}

static ssize_t pd_recvmsg(void *ud, int fd, struct msghdr *msg, int flags)
{
    PD_LOCK(ud);
    ssize_t r = do_recv_iov(p, fd, msg->msg_iov, (int)msg->msg_iovlen, flags);
    if (r >= 0) {
        msg->msg_namelen = 0; /* a connected stream socket: no source address */
        msg->msg_controllen = 0;
        msg->msg_flags = 0;
    }
    return pd_ret(p, r);
}

/* ---- sending ---- */

static bool send_ready(pd *p, void *arg)
{
    io_arg *a = arg;
    a->r = ts_send(p->st, a->sd, a->buf, a->len);
    return a->r != -EAGAIN;
}

/* A blocking send returns only when every byte is queued (or an error); a non-blocking one
 * queues what fits. */
static ssize_t do_send(pd *p, int fd, const void *buf, size_t len, int flags)
{
    pd_fd *f = pd_fd_get(p, fd);
    if (!f) return pd_err(-EBADF);
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE | MSG_EOR)) return pd_err(-ENOSYS);
    bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
    size_t done = 0;
    do {
        io_arg a = {.sd = f->sd, .buf = (uint8_t *)buf + done, .len = len - done};
        if (!send_ready(p, &a) && !nonblock) pd_wait(p, send_ready, &a, TS_TIME_NEVER);
        if (a.r < 0) return done ? (ssize_t)done : pd_err((int)a.r);
        done += (size_t)a.r;
    } while (done < len && !nonblock);
    return (ssize_t)done;
}

/* Gather into one buffer, then send once, so a writev is one segment as in Linux. */
static ssize_t do_send_iov(pd *p, int fd, const struct iovec *iov, int n, int flags)
{
    if (n < 0) return pd_err(-EINVAL);
    size_t total = iov_total(iov, n), off = 0;
    uint8_t *tmp = pd_scratch(p, total);
    if (!tmp) return pd_err(-ENOMEM);
    for (int i = 0; i < n; i++) {
        memcpy(tmp + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    return do_send(p, fd, tmp, total, flags);
}

static ssize_t pd_write(void *ud, int fd, const void *buf, size_t count)
{
    PD_LOCK(ud);
    return pd_ret(p, do_send(p, fd, buf, count, 0));
}

static ssize_t pd_send(void *ud, int fd, const void *buf, size_t len, int flags)
{
    PD_LOCK(ud);
    return pd_ret(p, do_send(p, fd, buf, len, flags));
}

static ssize_t pd_sendto(void *ud, int fd, const void *buf, size_t len, int flags,
                         const struct sockaddr *dst, socklen_t dstlen)
{
    PD_LOCK(ud);
    /* Linux ignores the address on a connected stream socket. */
    (void)dst, (void)dstlen;
    return pd_ret(p, do_send(p, fd, buf, len, flags));
}

static ssize_t pd_writev(void *ud, int fd, const struct iovec *iov, int n)
{
    PD_LOCK(ud);
    return pd_ret(p, do_send_iov(p, fd, iov, n, 0));
}

static ssize_t pd_sendmsg(void *ud, int fd, const struct msghdr *msg, int flags)
{
    PD_LOCK(ud);
    if (msg->msg_controllen) return fail(p, -ENOSYS); /* no ancillary data */
    return pd_ret(p, do_send_iov(p, fd, msg->msg_iov, (int)msg->msg_iovlen, flags));
}

/* ---- ending ---- */

static int pd_close(void *ud, int fd)
{
    PD_LOCK(ud);
    pd_fd *f = pd_fd_get(p, fd);
    if (!f) return fail(p, -EBADF);
    if (f->linger_zero)
        ts_abort(p->st, f->sd);
    else
        ts_close(p->st, f->sd);
    pd_fd_drop(p, fd);
    return (int)pd_ret(p, 0);
}

static int pd_shutdown(void *ud, int fd, int how)
{
    PD_LOCK(ud);
    pd_fd *f = pd_fd_get(p, fd);
    if (!f) return fail(p, -EBADF);
    int r = ts_shutdown(p->st, f->sd, how); /* SHUT_RD/WR/RDWR are 0/1/2 in both */
    return r < 0 ? fail(p, r) : (int)pd_ret(p, 0);
}

void pd_fill_socket_calls(struct packetdrill_interface *ifc)
{
    ifc->socket = pd_socket;
    ifc->bind = pd_bind;
    ifc->listen = pd_listen;
    ifc->accept = pd_accept;
    ifc->connect = pd_connect;
    ifc->read = pd_read;
    ifc->readv = pd_readv;
    ifc->recv = pd_recv;
    ifc->recvfrom = pd_recvfrom;
    ifc->recvmsg = pd_recvmsg;
    ifc->write = pd_write;
    ifc->writev = pd_writev;
    ifc->send = pd_send;
    ifc->sendto = pd_sendto;
    ifc->sendmsg = pd_sendmsg;
    ifc->close = pd_close;
    ifc->shutdown = pd_shutdown;
}
