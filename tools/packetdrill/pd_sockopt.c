/* pd_sockopt.c: socket options (SOL_SOCKET, IPPROTO_TCP, SOL_IP), fcntl, ioctl and poll
 * with Linux's numbers, mapped onto tcpsim's per-socket parameters, send controls and
 * connection snapshot; and the calls tcpsim does not offer (pipe, splice), which fail
 * with ENOSYS as the interface requires. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pd.h"
#include "pd_tcp_info.h"

#define PD_RMEM_MAX 212992 /* Linux net.core.{r,w}mem_max: SO_RCVBUF/SO_SNDBUF clamp */
#define PD_BUF_MIN  4608   /* Linux's minimum socket buffer (2 * SOCK_MIN_RCVBUF) */

static int unlock_ret(pd *p, int r)
{
    int e = errno;
    pd_changed(p);
    pd_settle(p);
    pthread_mutex_unlock(&p->mu);
    errno = e;
    return r;
}

/* Set one tcpsim parameter from a formatted value; EINVAL if tcpsim refuses it. */
static int set_param(pd *p, int sd, const char *name, const char *fmt, long long v)
{
    char val[32], err[160];
    snprintf(val, sizeof val, fmt, v);
    return ts_sock_set_param(p->st, sd, name, val, err, sizeof err) < 0 ? pd_err(-EINVAL) : 0;
}

static int set_sol_socket(pd *p, pd_fd *f, int name, const void *val, socklen_t len)
{
    if (name == SO_LINGER) {
        if (len < (socklen_t)sizeof(struct linger)) return pd_err(-EINVAL);
        memcpy(&f->linger, val, sizeof f->linger);
        f->linger_zero = f->linger.l_onoff && f->linger.l_linger == 0;
        return 0;
    }
    if (len < (socklen_t)sizeof(int)) return pd_err(-EINVAL);
    int v;
    memcpy(&v, val, sizeof v);
    long long b = (long long)(v < 0 ? 0 : v > PD_RMEM_MAX ? PD_RMEM_MAX : v) * 2;
    if (b < PD_BUF_MIN) b = PD_BUF_MIN;
    switch (name) {
    case SO_REUSEADDR: f->reuseaddr = v != 0; return 0;
    case SO_REUSEPORT: return 0;
    case SO_KEEPALIVE: return set_param(p, f->sd, "keepalive", "%lld", v != 0);
    case SO_RCVBUF: return set_param(p, f->sd, "rcvbuf", "%lld", b); /* Linux doubles it */
    case SO_SNDBUF: return set_param(p, f->sd, "sndbuf", "%lld", b);
    default: return pd_err(-ENOPROTOOPT);
    }
}

static int set_ipproto_tcp(pd *p, pd_fd *f, int name, const void *val, socklen_t len)
{
    if (name == TCP_CONGESTION) {
        char cc[TS_POLICY_NAME_MAX] = {0}, err[160];
        memcpy(cc, val, len < sizeof cc - 1 ? len : sizeof cc - 1);
        return ts_sock_set_param(p->st, f->sd, "cc", cc, err, sizeof err) < 0 ? pd_err(-ENOENT) : 0;
    }
    if (len < (socklen_t)sizeof(int)) return pd_err(-EINVAL);
    int v;
    memcpy(&v, val, sizeof v);
    switch (name) {
    case TCP_NODELAY: /* Linux pushes what waits when it is set, through a cork too */
        if (set_param(p, f->sd, "nagle", "%lld", v == 0) < 0) return -1;
        return v ? ts_sock_push(p->st, f->sd) : 0;
    case TCP_CORK: return ts_sock_set_cork(p->st, f->sd, v != 0);
    case TCP_NOTSENT_LOWAT: return ts_sock_set_notsent_lowat(p->st, f->sd, v > 0 ? (uint32_t)v : 0);
    case TCP_INQ:
        if (v < 0 || v > 1) return pd_err(-EINVAL);
        f->inq = v;
        return 0;
    case TCP_MAXSEG: {
        if (v < 88 || v > 32767) return pd_err(-EINVAL);
        /* Linux takes it at any time (user_mss, for later MSS syncs); tcpsim refuses a
         * change once the SYN has gone (the MSS was agreed), so accept it as Linux does
         * there and change nothing */
        ts_tcp_info ti;
        if (ts_sock_info(p->st, f->sd, &ti) == 0 && ti.state != TS_CLOSED && ti.state != TS_LISTEN)
            return 0;
        return set_param(p, f->sd, "mss", "%lld", v);
    }
    case TCP_KEEPIDLE:
    case TCP_KEEPINTVL:
        if (v < 1 || v > 32767) return pd_err(-EINVAL);
        return set_param(p, f->sd, name == TCP_KEEPIDLE ? "keepalive_idle" : "keepalive_intvl",
                         "%llds", v);
    case TCP_KEEPCNT:
        if (v < 1 || v > 127) return pd_err(-EINVAL);
        return set_param(p, f->sd, "keepalive_probes", "%lld", v);
    case TCP_SYNCNT:
        if (v < 1 || v > 127) return pd_err(-EINVAL);
        return set_param(p, f->sd, "syn_retries", "%lld", v);
    case TCP_USER_TIMEOUT:
        if (v < 0) return pd_err(-EINVAL);
        return set_param(p, f->sd, "user_timeout", "%lldms", v);
    case TCP_QUICKACK:
        return 0; /* accepted; tcpsim has no per-call quick-ACK switch (see README) */
    default: return pd_err(-ENOPROTOOPT);
    }
}

/* SOL_IP. Linux reads an int, or one byte when optlen is shorter (scripts pass 1). */
static int set_sol_ip(pd *p, pd_fd *f, int name, const void *val, socklen_t len)
{
    int v;
    if (len >= (socklen_t)sizeof(int))
        memcpy(&v, val, sizeof v);
    else if (len >= 1)
        v = *(const uint8_t *)val;
    else
        return pd_err(-EINVAL);
    switch (name) {
    case IP_TOS: { /* TCP keeps the ECN bits its own (RFC 3168), as Linux */
        int old = ts_sock_tos(p->st, f->sd);
        return ts_sock_set_tos(p->st, f->sd, (uint8_t)((v & ~3) | (old & 3)));
    }
    case IP_MTU_DISCOVER: /* kept for getsockopt; tcpsim always sets DF */
        if (v < IP_PMTUDISC_DONT || v > IP_PMTUDISC_OMIT) return pd_err(-EINVAL);
        f->pmtudisc = v;
        return 0;
    default: return pd_err(-ENOPROTOOPT);
    }
}

static int pd_setsockopt(void *ud, int fd, int level, int name, const void *uval, socklen_t len)
{
    pd *p = ud;
    pthread_mutex_lock(&p->mu);
    pd_fd *f = pd_fd_get(p, fd);
    uint8_t val[256];
    if (len > sizeof val) len = sizeof val; /* no option tcpsim knows is longer */
    int r;
    if (!f)
        r = pd_err(-EBADF);
    else if ((int)len < 0)
        r = pd_err(-EINVAL);
    else if (!uval || pd_copy_in(val, uval, len) < 0)
        r = pd_err(-EFAULT);
    else if (level == SOL_IP)
        r = set_sol_ip(p, f, name, val, len);
    else if (level == SOL_SOCKET)
        r = set_sol_socket(p, f, name, val, len);
    else if (level == IPPROTO_TCP)
        r = set_ipproto_tcp(p, f, name, val, len);
    else
        r = pd_err(-ENOPROTOOPT);
    return unlock_ret(p, r);
}

/* ---- getsockopt ---- */

static int put(void *val, socklen_t *len, const void *src, size_t n)
{
    if (*len > n) *len = (socklen_t)n;
    memcpy(val, src, *len);
    return 0;
}

static int put_int(void *val, socklen_t *len, int v)
{
    return put(val, len, &v, sizeof v);
}

/* Linux's TCP state numbers (include/net/tcp_states.h). */
static uint8_t linux_state(ts_state st)
{
    static const uint8_t map[TS_NUM_STATES] = {
        [TS_CLOSED] = 7,      [TS_LISTEN] = 10,    [TS_SYN_SENT] = 2,   [TS_SYN_RECEIVED] = 3,
        [TS_ESTABLISHED] = 1, [TS_FIN_WAIT_1] = 4, [TS_FIN_WAIT_2] = 5, [TS_CLOSE_WAIT] = 8,
        [TS_CLOSING] = 11,    [TS_LAST_ACK] = 9,   [TS_TIME_WAIT] = 6,
    };
    return st < TS_NUM_STATES ? map[st] : 7;
}

static int get_tcp_info(pd *p, pd_fd *f, void *val, socklen_t *len)
{
    ts_tcp_info ti;
    pd_tcp_info out;
    memset(&out, 0, sizeof out);
    if (ts_sock_info(p->st, f->sd, &ti) < 0) return pd_err(-EBADF);
    uint32_t mss = ti.snd_mss ? ti.snd_mss : 536;
    out.state = linux_state(ti.state);
    out.ca_state = ti.in_recovery ? 3 : ti.backoff ? 4 : 0; /* Recovery, Loss, Open */
    out.retransmits = (uint8_t)ti.backoff;
    out.backoff = (uint8_t)ti.backoff;
    out.options = (ti.ts_ok ? TCPI_OPT_TIMESTAMPS : 0) | (ti.sack_ok ? TCPI_OPT_SACK : 0) |
                  (ti.wscale_ok ? TCPI_OPT_WSCALE : 0);
    out.snd_wscale = ti.snd_wscale & 15;
    out.rcv_wscale = ti.rcv_wscale & 15;
    out.rto = (uint32_t)ti.rto;
    out.snd_mss = mss;
    out.rcv_mss = ti.rcv_mss;
    out.unacked = (ti.snd_nxt - ti.snd_una + mss - 1) / mss;
    out.rtt = (uint32_t)ti.srtt;
    out.rttvar = (uint32_t)ti.rttvar;
    out.snd_ssthresh = ti.ssthresh >= 0x7fffffffu / mss ? 0x7fffffff : ti.ssthresh / mss;
    out.snd_cwnd = ti.cwnd / mss;
    out.advmss = ti.rcv_mss;
    out.reordering = 3;
    out.total_retrans = ti.retransmits;
    out.notsent_bytes = ti.snd_unsent; /* never sent, even after an RTO rewound snd_nxt */
    out.snd_wnd = ti.snd_wnd;
    out.rcv_wnd = ti.rcv_wnd;
    return put(val, len, &out, sizeof out);
}

static int get_sol_socket(pd *p, pd_fd *f, int name, void *val, socklen_t *len)
{
    ts_params prm;
    ts_sock_get_params(p->st, f->sd, &prm);
    switch (name) {
    case SO_ERROR: return put_int(val, len, -ts_sock_error(p->st, f->sd));
    case SO_REUSEADDR: return put_int(val, len, f->reuseaddr);
    case SO_KEEPALIVE: return put_int(val, len, prm.keepalive);
    case SO_RCVBUF: return put_int(val, len, (int)prm.rcvbuf);
    case SO_SNDBUF: return put_int(val, len, (int)prm.sndbuf);
    case SO_TYPE: return put_int(val, len, SOCK_STREAM);
    case SO_DOMAIN: return put_int(val, len, AF_INET);
    case SO_PROTOCOL: return put_int(val, len, IPPROTO_TCP);
    case SO_LINGER: return put(val, len, &f->linger, sizeof f->linger);
    default: return pd_err(-ENOPROTOOPT);
    }
}

static int get_ipproto_tcp(pd *p, pd_fd *f, int name, void *val, socklen_t *len)
{
    ts_params prm;
    ts_tcp_info ti;
    ts_sock_get_params(p->st, f->sd, &prm);
    bool conn = ts_sock_info(p->st, f->sd, &ti) == 0 && ti.state >= TS_ESTABLISHED;
    switch (name) {
    case TCP_NODELAY: return put_int(val, len, !prm.nagle);
    case TCP_CORK: return put_int(val, len, ts_sock_cork(p->st, f->sd));
    case TCP_NOTSENT_LOWAT: return put_int(val, len, (int)ts_sock_notsent_lowat(p->st, f->sd));
    case TCP_INQ: return put_int(val, len, f->inq);
    case TCP_MAXSEG: return put_int(val, len, conn ? (int)ti.snd_mss : 536);
    case TCP_KEEPIDLE: return put_int(val, len, (int)(prm.keepalive_idle / TS_SEC));
    case TCP_KEEPINTVL: return put_int(val, len, (int)(prm.keepalive_intvl / TS_SEC));
    case TCP_KEEPCNT: return put_int(val, len, (int)prm.keepalive_probes);
    case TCP_SYNCNT: return put_int(val, len, (int)prm.syn_retries);
    case TCP_USER_TIMEOUT: return put_int(val, len, (int)(prm.user_timeout / TS_MSEC));
    case TCP_QUICKACK: return put_int(val, len, conn ? !ti.pingpong : 1);
    case TCP_INFO: return get_tcp_info(p, f, val, len);
    case TCP_CONGESTION: return put(val, len, prm.cc, strlen(prm.cc) + 1);
    default: return pd_err(-ENOPROTOOPT);
    }
}

static int get_sol_ip(pd *p, pd_fd *f, int name, void *val, socklen_t *len)
{
    switch (name) {
    case IP_TOS: return put_int(val, len, ts_sock_tos(p->st, f->sd));
    case IP_MTU_DISCOVER: return put_int(val, len, f->pmtudisc);
    default: return pd_err(-ENOPROTOOPT);
    }
}

/* The value is built in a local buffer, then copied out: the caller's pointers are script
 * memory and may be bad (EFAULT, as Linux). */
static int pd_getsockopt(void *ud, int fd, int level, int name, void *uval, socklen_t *ulen)
{
    pd *p = ud;
    pthread_mutex_lock(&p->mu);
    pd_fd *f = pd_fd_get(p, fd);
    union {
        struct tcp_info ti;
        uint8_t b[512];
    } val;
    socklen_t len = 0;
    int r;
    if (!f)
        r = pd_err(-EBADF);
    else if (!ulen || pd_copy_in(&len, ulen, sizeof len) < 0)
        r = pd_err(-EFAULT);
    else if ((int)len < 0)
        r = pd_err(-EINVAL);
    else {
        if (len > sizeof val) len = sizeof val;
        if (level == SOL_SOCKET)
            r = get_sol_socket(p, f, name, &val, &len);
        else if (level == IPPROTO_TCP)
            r = get_ipproto_tcp(p, f, name, &val, &len);
        else if (level == SOL_IP)
            r = get_sol_ip(p, f, name, &val, &len);
        else
            r = pd_err(-ENOPROTOOPT);
        if (r == 0 && (pd_copy_out(uval, &val, len) < 0 || pd_copy_out(ulen, &len, sizeof len) < 0))
            r = pd_err(-EFAULT);
    }
    return unlock_ret(p, r);
}

/* ---- fcntl, ioctl ---- */

static int pd_fcntl(void *ud, int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long); /* read only by the commands that take one */
    va_end(ap);
    pd *p = ud;
    pthread_mutex_lock(&p->mu);
    pd_fd *f = pd_fd_get(p, fd);
    int r;
    if (!f)
        r = pd_err(-EBADF);
    else if (cmd == F_GETFL)
        r = O_RDWR | (f->nonblock ? O_NONBLOCK : 0);
    else if (cmd == F_SETFL)
        f->nonblock = (arg & O_NONBLOCK) != 0, r = 0;
    else if (cmd == F_GETFD || cmd == F_SETFD)
        r = fcntl(fd, cmd, arg); /* close-on-exec lives on the host descriptor */
    else
        r = pd_err(-ENOSYS);
    return unlock_ret(p, r);
}

static int do_ioctl(pd *p, pd_fd *f, unsigned long req, int *arg)
{
    ts_tcp_info ti;
    if (req == FIONBIO) {
        f->nonblock = *arg != 0;
        return 0;
    }
    if (ts_sock_info(p->st, f->sd, &ti) < 0) return pd_err(-EBADF);
    if (ti.state == TS_LISTEN) return pd_err(-EINVAL); /* as Linux for SIOCINQ/OUTQ */
    switch (req) {
    case SIOCINQ: *arg = (int)ti.rcv_queued; return 0;
    case SIOCOUTQ: *arg = (int)ti.snd_queued; return 0;
    case SIOCOUTQNSD: {
        uint32_t sent = ti.snd_nxt - ti.snd_una;
        *arg = ti.snd_queued > sent ? (int)(ti.snd_queued - sent) : 0;
        return 0;
    }
    default: return pd_err(-ENOSYS);
    }
}

static int pd_ioctl(void *ud, int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    int *arg = va_arg(ap, int *);
    va_end(ap);
    pd *p = ud;
    pthread_mutex_lock(&p->mu);
    pd_fd *f = pd_fd_get(p, fd);
    int v = 0, r;
    if (!f)
        r = pd_err(-EBADF);
    else if (req == FIONBIO && pd_copy_in(&v, arg, sizeof v) < 0)
        r = pd_err(-EFAULT);
    else if ((r = do_ioctl(p, f, req, &v)) == 0 && req != FIONBIO &&
             pd_copy_out(arg, &v, sizeof v) < 0)
        r = pd_err(-EFAULT);
    return unlock_ret(p, r);
}

/* ---- poll ---- */

typedef struct {
    struct pollfd *fds;
    nfds_t n;
    int ready;
} poll_arg;

short pd_revents(pd *p, int fd)
{
    pd_fd *f = pd_fd_get(p, fd);
    if (!f) return POLLNVAL;
    unsigned ev = ts_sock_events(p->st, f->sd);
    short r = 0;
    if (ev & TS_SOCK_READABLE) r |= POLLIN | POLLRDNORM;
    if (ev & TS_SOCK_WRITABLE)
        r |= POLLOUT | POLLWRNORM;
    else
        f->nospace = true; /* someone saw it full: room is a wake-up again (SOCK_NOSPACE) */
    if (ev & TS_SOCK_ERROR) r |= POLLERR;
    if (ev & TS_SOCK_CLOSED) r |= POLLHUP | POLLIN | POLLRDNORM | POLLRDHUP;
    return r;
}

static short revents_of(pd *p, const struct pollfd *pf)
{
    if (pf->fd < 0) return 0;
    return (short)(pd_revents(p, pf->fd) & (pf->events | POLLERR | POLLHUP | POLLNVAL));
}

static bool poll_ready(pd *p, void *arg)
{
    poll_arg *a = arg;
    a->ready = 0;
    for (nfds_t i = 0; i < a->n; i++) {
        a->fds[i].revents = revents_of(p, &a->fds[i]);
        if (a->fds[i].revents) a->ready++;
    }
    return a->ready > 0;
}

static int pd_poll(void *ud, struct pollfd *fds, nfds_t n, int timeout)
{
    pd *p = ud;
    pthread_mutex_lock(&p->mu);
    poll_arg a = {.fds = fds, .n = n};
    if (!poll_ready(p, &a) && timeout != 0)
        pd_wait(p, poll_ready, &a,
                timeout < 0 ? TS_TIME_NEVER : p->now + (ts_time_t)timeout * TS_MSEC);
    return unlock_ret(p, a.ready);
}

/* ---- not offered by tcpsim ---- */

static int pd_pipe(void *ud, int pipefd[2])
{
    (void)ud, (void)pipefd;
    return pd_err(-ENOSYS);
}

static int pd_splice(void *ud, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
                     unsigned int flags)
{
    (void)ud, (void)fd_in, (void)off_in, (void)fd_out, (void)off_out, (void)len, (void)flags;
    return pd_err(-ENOSYS);
}

void pd_fill_option_calls(struct packetdrill_interface *ifc)
{
    ifc->setsockopt = pd_setsockopt;
    ifc->getsockopt = pd_getsockopt;
    ifc->fcntl = pd_fcntl;
    ifc->ioctl = pd_ioctl;
    ifc->poll = pd_poll;
    ifc->pipe = pd_pipe;
    ifc->splice = pd_splice;
}
