/* pd_host.c: answers the getsockopt calls packetdrill makes with the host's own libc.
 *
 * packetdrill runs a script's `%{ ... }%` Python blocks on data it reads with a plain
 * getsockopt(fd, SOL_TCP, TCP_INFO), plus TCP_CC_INFO and SO_MEMINFO (code.c, get_data),
 * not through the interface table. On a tcpsim descriptor (a host descriptor of
 * /dev/null) the host answers ENOTSOCK and the script fails. libtcpsim_pdhost.so, preloaded
 * into packetdrill (tools/conformance does it), interposes getsockopt and asks this
 * library first through tcpsim_pd_host_getsockopt; descriptors that are not tcpsim's go on
 * to the host. The answers are the adapter's own (the same TCP_INFO a script's
 * getsockopt() call sees), so nothing here knows about any script. */
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "pd.h"

/* The instance packetdrill is running now: it calls init once per script and free at its
 * end, one script at a time. */
static pthread_mutex_t host_mu = PTHREAD_MUTEX_INITIALIZER;
static pd *host_pd;
static int (*host_getsockopt)(void *, int, int, int, void *, socklen_t *);

void pd_host_register(pd *p, const struct packetdrill_interface *ifc)
{
    pthread_mutex_lock(&host_mu);
    host_pd = p;
    host_getsockopt = ifc->getsockopt;
    pthread_mutex_unlock(&host_mu);
}

void pd_host_unregister(pd *p)
{
    pthread_mutex_lock(&host_mu);
    if (host_pd == p) host_pd = NULL;
    pthread_mutex_unlock(&host_mu);
}

/* Linux's SO_MEMINFO order (SK_MEMINFO_*): rmem_alloc, rcvbuf, wmem_alloc, sndbuf,
 * fwd_alloc, wmem_queued, optmem, backlog, drops. tcpsim has no skb truesize accounting:
 * the allocations are the bytes queued each way. */
enum { MEMINFO_VARS = 9 };

static int meminfo(pd *p, int sd, void *val, socklen_t *len)
{
    ts_tcp_info ti;
    ts_params prm;
    if (ts_sock_info(p->st, sd, &ti) < 0 || ts_sock_get_params(p->st, sd, &prm) < 0)
        return pd_err(-EBADF);
    uint32_t m[MEMINFO_VARS] = {
        ti.rcv_queued, prm.rcvbuf, ti.snd_queued, prm.sndbuf, 0, ti.snd_queued, 0, 0, 0};
    socklen_t n = *len < (socklen_t)sizeof m ? *len : (socklen_t)sizeof m;
    memcpy(val, m, n);
    *len = n;
    return 0;
}

static int answer(pd *p, int fd, int level, int name, void *val, socklen_t *len, int *handled)
{
    pthread_mutex_lock(&p->mu);
    pd_fd *f = pd_fd_get(p, fd);
    int sd = f ? f->sd : -1;
    pthread_mutex_unlock(&p->mu);
    if (!f) return 0; /* not ours: the host's */
    *handled = 1;
    if (!val || !len) return pd_err(-EFAULT);
    if (level == SOL_TCP && name == TCP_CC_INFO) {
        *len = 0; /* as Linux for a congestion control without get_info (Reno, CUBIC) */
        return 0;
    }
    if (level == SOL_SOCKET && name == SO_MEMINFO) {
        pthread_mutex_lock(&p->mu);
        int r = meminfo(p, sd, val, len);
        pthread_mutex_unlock(&p->mu);
        return r;
    }
    return host_getsockopt(p, fd, level, name, val, len);
}

/* Called by libtcpsim_pdhost.so's getsockopt. Sets *handled to 1 and returns the answer
 * (0, or -1 with errno) when fd is one of the running script's tcpsim descriptors; leaves
 * it 0 otherwise. */
__attribute__((visibility("default"))) int
tcpsim_pd_host_getsockopt(int fd, int level, int name, void *val, socklen_t *len, int *handled)
{
    *handled = 0;
    pthread_mutex_lock(&host_mu);
    pd *p = host_pd;
    int r = p ? answer(p, fd, level, name, val, len, handled) : 0;
    pthread_mutex_unlock(&host_mu);
    return r;
}
