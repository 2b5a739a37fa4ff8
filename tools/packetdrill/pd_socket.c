/* pd_socket.c: the BSD socket calls packetdrill makes, mapped onto tcpsim's non-blocking
 * socket API with Linux's numbers and semantics. A call on a blocking descriptor that
 * tcpsim answers with -EAGAIN waits (pd_wait) and retries whenever the stack's state moves.
 * Every call takes the adapter's one mutex. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
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

/* The caller's address, copied in through pd_copy_in (a bad pointer is EFAULT, as Linux). */
static int sin_in(const struct sockaddr *a, socklen_t len, uint32_t *addr, uint16_t *port)
{
    struct sockaddr_in sin;
    if (len < (socklen_t)sizeof sin) return -EINVAL;
    if (pd_copy_in(&sin, a, sizeof sin) < 0) return -EFAULT;
    if (sin.sin_family != AF_INET) return -EAFNOSUPPORT;
    *addr = ntohl(sin.sin_addr.s_addr);
    *port = ntohs(sin.sin_port);
    return 0;
}

/* The peer's address out to the caller (accept): NULL addr means "not wanted"; a bad
 * pointer is EFAULT. */
static int sin_out(struct sockaddr *a, socklen_t *len, const ts_endpoint *ep)
{
    if (!a) return 0;
    socklen_t have;
    if (pd_copy_in(&have, len, sizeof have) < 0) return -EFAULT;
    if ((int)have < 0) return -EINVAL;
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(ep->port), .sin_addr.s_addr = htonl(ep->addr)};
    size_t n = have < sizeof sin ? have : sizeof sin;
    socklen_t full = sizeof sin;
    if (pd_copy_out(a, &sin, n) < 0 || pd_copy_out(len, &full, sizeof full) < 0) return -EFAULT;
    return 0;
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
    if (addr) { /* Linux checks the length before it waits or takes a connection */
        socklen_t have;
        if (pd_copy_in(&have, addrlen, sizeof have) < 0) return fail(p, -EFAULT);
        if ((int)have < 0) return fail(p, -EINVAL);
    }
    acc_arg a = {.sd = f->sd};
    if (!accept_ready(p, &a) && !f->nonblock) pd_wait(p, accept_ready, &a, TS_TIME_NEVER);
    if (a.r < 0) return fail(p, a.r);
    int nfd = pd_fd_new(p, a.r);
    if (nfd < 0) {
        int e = errno;
        ts_abort(p->st, a.r);
        return fail(p, -e);
    }
    int r = sin_out(addr, addrlen, &a.peer);
    if (r < 0) { /* the address could not be written back: Linux closes the new socket */
        ts_close(p->st, a.r);
        pd_fd_drop(p, nfd);
        return fail(p, r);
    }
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

#define PD_IOV_MAX 1024 /* Linux's UIO_MAXIOV */

/* The caller's iovec array, copied in (it is script memory too). */
static struct iovec *iov_in(const struct iovec *uiov, int n, size_t *total, int *err)
{
    *err = 0;
    if (n < 0 || n > PD_IOV_MAX) {
        *err = -EINVAL;
        return NULL;
    }
    struct iovec *iov = malloc((size_t)(n ? n : 1) * sizeof *iov);
    if (!iov) {
        *err = -ENOMEM;
        return NULL;
    }
    if (pd_copy_in(iov, uiov, (size_t)n * sizeof *iov) < 0) {
        free(iov);
        *err = -EFAULT;
        return NULL;
    }
    *total = 0;
    for (int i = 0; i < n; i++) {
        if (iov[i].iov_len > SSIZE_MAX - *total) {
            free(iov);
            *err = -EINVAL;
            return NULL;
        }
        *total += iov[i].iov_len;
    }
    return iov;
}

typedef struct {
    int sd;
    const struct iovec *iov;
    int n;
    size_t len;
    unsigned flags;
    ssize_t r;
} rcv_arg;

/* One receive: peek what is there into the bounce buffer, copy it to the caller, and
 * consume it only if that worked, so a bad buffer fails with EFAULT and loses nothing
 * (as Linux). The bounce buffer is used and released without waiting, under mu. */
static bool recv_ready(pd *p, void *arg)
{
    rcv_arg *a = arg;
    ts_tcp_info ti;
    uint8_t none;
    if (ts_sock_info(p->st, a->sd, &ti) < 0) {
        a->r = -EBADF;
        return true;
    }
    size_t n = a->len < ti.rcv_queued ? a->len : ti.rcv_queued;
    if (n == 0) { /* EOF, an error, nothing yet, or a zero-length read */
        a->r = ts_recv_flags(p->st, a->sd, &none, 0, a->flags);
        return a->r != -EAGAIN;
    }
    uint8_t *tmp = pd_scratch(p, n);
    if (!tmp) {
        a->r = -ENOMEM;
        return true;
    }
    ts_recv_flags(p->st, a->sd, tmp, n, a->flags | TS_MSG_PEEK);
    size_t off = 0;
    for (int i = 0; i < a->n && off < n; i++) {
        size_t k = a->iov[i].iov_len < n - off ? a->iov[i].iov_len : n - off;
        if (pd_copy_out(a->iov[i].iov_base, tmp + off, k) < 0) {
            a->r = -EFAULT;
            return true;
        }
        off += k;
    }
    a->r = (a->flags & TS_MSG_PEEK) ? (ssize_t)n : ts_recv_flags(p->st, a->sd, tmp, n, 0);
    return true;
}

/* The common receive path. MSG_WAITALL is accepted and read as a plain blocking read. */
static ssize_t do_recv_iov(pd *p, int fd, const struct iovec *uiov, int n, int flags)
{
    pd_fd *f = pd_fd_get(p, fd);
    if (!f) return pd_err(-EBADF);
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_WAITALL | MSG_PEEK)) return pd_err(-ENOSYS);
    size_t total;
    int err;
    struct iovec *iov = iov_in(uiov, n, &total, &err);
    if (!iov) return pd_err(err);
    rcv_arg a = {.sd = f->sd,
                 .iov = iov,
                 .n = n,
                 .len = total,
                 .flags = (flags & MSG_PEEK) ? TS_MSG_PEEK : 0};
    bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
    if (!recv_ready(p, &a) && !nonblock) pd_wait(p, recv_ready, &a, TS_TIME_NEVER);
    free(iov);
    return a.r < 0 ? pd_err((int)a.r) : a.r;
}

static ssize_t do_recv(pd *p, int fd, void *buf, size_t len, int flags)
{
    struct iovec one = {.iov_base = buf, .iov_len = len};
    return do_recv_iov(p, fd, &one, 1, flags);
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
    socklen_t sl;
    if (r >= 0 && f && src && srclen && pd_copy_in(&sl, srclen, sizeof sl) == 0 &&
        ts_getpeername(p->st, f->sd, &ep) == 0) {
        struct sockaddr_in sin;
        socklen_t tl = sizeof sin;
        sin_out((struct sockaddr *)&sin, &tl, &ep);
        if (pd_copy_out(src, &sin, sl < tl ? sl : tl) < 0 ||
            pd_copy_out(srclen, &tl, sizeof tl) < 0)
            r = pd_err(-EFAULT);
    }
    return pd_ret(p, r);
}

static ssize_t pd_readv(void *ud, int fd, const struct iovec *iov, int n)
{
    PD_LOCK(ud);
    return pd_ret(p, do_recv_iov(p, fd, iov, n, 0));
}

/* TCP_INQ's control message (Linux tcp_inq_hint): the bytes left to read after this
 * call, plus one for a FIN reached (so 1 once only the end of the stream is left). */
static size_t inq_cmsg(pd *p, pd_fd *f, uint8_t *buf, size_t room, int *mflags)
{
    ts_tcp_info ti;
    if (!f->inq || ts_sock_info(p->st, f->sd, &ti) < 0) return 0;
    int inq = (int)ti.rcv_queued + (ti.fin_rcvd ? 1 : 0);
    if (room < CMSG_LEN(sizeof inq)) {
        *mflags |= MSG_CTRUNC;
        return 0;
    }
    struct cmsghdr h = {
        .cmsg_len = CMSG_LEN(sizeof inq), .cmsg_level = SOL_TCP, .cmsg_type = TCP_CM_INQ};
    memset(buf, 0, CMSG_SPACE(sizeof inq));
    memcpy(buf, &h, sizeof h);
    memcpy(buf + CMSG_LEN(0), &inq, sizeof inq);
    return room < CMSG_SPACE(sizeof inq) ? room : CMSG_SPACE(sizeof inq);
}

static ssize_t pd_recvmsg(void *ud, int fd, struct msghdr *umsg, int flags)
{
    PD_LOCK(ud);
    struct msghdr msg;
    if (pd_copy_in(&msg, umsg, sizeof msg) < 0) return fail(p, -EFAULT);
    ssize_t r = do_recv_iov(p, fd, msg.msg_iov, (int)msg.msg_iovlen, flags);
    pd_fd *f = pd_fd_get(p, fd);
    if (r >= 0 && f) {
        uint8_t cm[CMSG_SPACE(sizeof(int))];
        int mflags = 0;
        size_t clen = msg.msg_control ? inq_cmsg(p, f, cm, msg.msg_controllen, &mflags) : 0;
        msg.msg_namelen = 0; /* a connected stream socket: no source address */
        msg.msg_controllen = clen;
        msg.msg_flags = mflags;
        if (pd_copy_out(msg.msg_control, cm, clen) < 0 || pd_copy_out(umsg, &msg, sizeof msg) < 0)
            r = pd_err(-EFAULT);
    }
    return pd_ret(p, r);
}

/* ---- sending ---- */

#define PD_CHUNK 65536 /* bytes copied in per step of a send */

typedef struct {
    int sd;
    const void *buf;
    size_t len;
    unsigned flags;
    ssize_t r;
} snd_arg;

static bool send_ready(pd *p, void *arg)
{
    snd_arg *a = arg;
    a->r = ts_send_flags(p->st, a->sd, a->buf, a->len, a->flags);
    return a->r != -EAGAIN;
}

/* Queue one chunk of socket sd (descriptor fd), waiting for room if blocking; bytes
 * queued, or a negative errno. The descriptor is looked up again after every wait: other
 * threads may close it or grow the table (realloc) meanwhile, so no pd_fd pointer is kept
 * across one. */
static ssize_t send_chunk(pd *p, int fd, int sd, const uint8_t *buf, size_t len, unsigned flags,
                          bool nonblock)
{
    size_t done = 0;
    while (done < len) {
        pd_fd *f = pd_fd_get(p, fd);
        if (!f || f->sd != sd) return done ? (ssize_t)done : -EBADF; /* closed meanwhile */
        snd_arg a = {.sd = sd, .buf = buf + done, .len = len - done, .flags = flags};
        if (!send_ready(p, &a) && !nonblock) pd_wait(p, send_ready, &a, TS_TIME_NEVER);
        f = pd_fd_get(p, fd);
        if (a.r == -EAGAIN && f && f->sd == sd) f->nospace = true;
        if (a.r < 0) return done ? (ssize_t)done : a.r;
        done += (size_t)a.r;
        if (nonblock && done < len) break;
    }
    return (ssize_t)done;
}

/* Copy the caller's data in a chunk at a time (a bad buffer is EFAULT, as Linux, or the
 * bytes queued before it) and queue it. A chunk that is not the last goes as MSG_MORE, so
 * the pieces of one call make the same segments as one big write. A blocking send returns
 * only when every byte is queued (or an error); a non-blocking one queues what fits. The
 * bounce buffer is the call's own: a blocked call must not share one with other threads. */
static ssize_t do_send_iov(pd *p, int fd, const struct iovec *uiov, int n, int flags)
{
    pd_fd *f = pd_fd_get(p, fd);
    if (!f) return pd_err(-EBADF);
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE | MSG_EOR)) return pd_err(-ENOSYS);
    size_t total;
    int err;
    struct iovec *iov = iov_in(uiov, n, &total, &err);
    if (!iov) return pd_err(err);
    uint8_t *bounce = malloc(total < PD_CHUNK ? (total ? total : 1) : PD_CHUNK);
    if (!bounce) {
        free(iov);
        return pd_err(-ENOMEM);
    }
    unsigned uflags = ((flags & MSG_MORE) ? TS_MSG_MORE : 0) | ((flags & MSG_EOR) ? TS_MSG_EOR : 0);
    bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
    int sd = f->sd; /* f is not used past the first wait */
    size_t done = 0, voff = 0;
    int vi = 0;
    ssize_t r = 0;
    bool fault = false;
    do {
        size_t c = 0;
        while (c < PD_CHUNK && vi < n) {
            size_t k = iov[vi].iov_len - voff;
            if (k > PD_CHUNK - c) k = PD_CHUNK - c;
            /* The script's pointer may be NULL (syscall_bad_arg): arithmetic on it is
             * undefined even with offset 0, so offset it as an integer; pd_copy_in
             * answers EFAULT. */
            const void *src = (const void *)((uintptr_t)iov[vi].iov_base + voff);
            if (pd_copy_in(bounce + c, src, k) < 0) {
                fault = true;
                break;
            }
            c += k, voff += k;
            if (voff == iov[vi].iov_len) vi++, voff = 0;
        }
        bool last = done + c == total;
        if (c == 0 && !last) break;
        r = send_chunk(p, fd, sd, bounce, c, last ? uflags : fault ? 0 : TS_MSG_MORE, nonblock);
        if (r < 0) break;
        done += (size_t)r;
        if ((size_t)r < c) break;
    } while (done < total && !fault);
    free(bounce);
    free(iov);
    if (done) return (ssize_t)done;
    if (fault) return pd_err(-EFAULT);
    return r < 0 ? pd_err((int)r) : 0;
}

static ssize_t do_send(pd *p, int fd, const void *buf, size_t len, int flags)
{
    struct iovec one = {.iov_base = (void *)buf, .iov_len = len};
    return do_send_iov(p, fd, &one, 1, flags);
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

static ssize_t pd_sendmsg(void *ud, int fd, const struct msghdr *umsg, int flags)
{
    PD_LOCK(ud);
    struct msghdr msg;
    if (pd_copy_in(&msg, umsg, sizeof msg) < 0) return fail(p, -EFAULT);
    if (msg.msg_controllen) return fail(p, -ENOSYS); /* no ancillary data to send */
    return pd_ret(p, do_send_iov(p, fd, msg.msg_iov, (int)msg.msg_iovlen, flags));
}

/* ---- ending ---- */

static int pd_close(void *ud, int fd)
{
    PD_LOCK(ud);
    if (fd >= 0 && fd < p->nfds && p->fds[fd].used && p->fds[fd].ep) { /* an epoll instance */
        pd_fd_drop(p, fd);
        return (int)pd_ret(p, 0);
    }
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
