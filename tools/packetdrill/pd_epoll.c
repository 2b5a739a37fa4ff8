/* pd_epoll.c: epoll_create, epoll_ctl and epoll_wait over tcpsim sockets, in virtual time,
 * with Linux's semantics (epoll(7)):
 *  - level-triggered items are reported whenever their socket is ready for what they ask;
 *  - edge-triggered items (EPOLLET) only after a wake-up since their last report: new
 *    data, a connection, an end or an error wakes readers and writers; room to write wakes
 *    writers only after someone found the socket full (Linux's SOCK_NOSPACE). Adding or
 *    modifying an item counts as a wake-up, as Linux polls it then. A reported item shows
 *    the socket's whole current state (EPOLLIN|EPOLLOUT after new data, say);
 *  - EPOLLONESHOT disables an item after one report until EPOLL_CTL_MOD;
 *  - EPOLLERR and EPOLLHUP are always reported; closing a socket removes it everywhere.
 * An instance is a host descriptor (like the sockets' ones) whose pd_fd has `ep` set. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "pd.h"

typedef struct pd_epitem {
    int fd;
    struct epoll_event ev;
    uint64_t seen_in, seen_out; /* the socket's wake counts at the last look */
    bool pending;               /* added or modified since the last look */
} pd_epitem;

typedef struct pd_epoll {
    pd_epitem *items;
    int n, cap;
} pd_epoll;

#define EP_ALWAYS (EPOLLERR | EPOLLHUP)

void pd_epoll_free(pd_epoll *ep)
{
    if (!ep) return;
    free(ep->items);
    free(ep);
}

static pd_epoll *ep_get(pd *p, int epfd)
{
    if (epfd < 0 || epfd >= p->nfds || !p->fds[epfd].used) return NULL;
    return p->fds[epfd].ep;
}

static pd_epitem *ep_find(pd_epoll *ep, int fd)
{
    for (int i = 0; i < ep->n; i++)
        if (ep->items[i].fd == fd) return &ep->items[i];
    return NULL;
}

static void ep_remove(pd_epoll *ep, pd_epitem *it)
{
    *it = ep->items[--ep->n];
}

void pd_epoll_forget(pd *p, int fd)
{
    for (int e = 0; e < p->nfds; e++) {
        pd_epoll *ep = ep_get(p, e);
        pd_epitem *it = ep ? ep_find(ep, fd) : NULL;
        if (it) ep_remove(ep, it);
    }
}

static int pd_epoll_create(void *ud, int size)
{
    pd *p = ud;
    if (size <= 0) return pd_err(-EINVAL);
    pthread_mutex_lock(&p->mu);
    pd_epoll *ep = calloc(1, sizeof *ep);
    int fd = ep ? pd_fd_new(p, -1) : -1;
    int e = ep ? errno : ENOMEM;
    if (fd >= 0)
        p->fds[fd].ep = ep;
    else
        free(ep);
    pthread_mutex_unlock(&p->mu);
    return fd >= 0 ? fd : pd_err(-e);
}

static int ep_ctl(pd *p, int epfd, int op, int fd, const struct epoll_event *uev)
{
    pd_epoll *ep = ep_get(p, epfd);
    if (!ep) return epfd >= 0 && epfd < p->nfds && p->fds[epfd].used ? -EINVAL : -EBADF;
    if (fd == epfd) return -EINVAL;
    pd_fd *f = pd_fd_get(p, fd);
    if (!f) return ep_get(p, fd) ? -EINVAL : -EBADF; /* nesting epoll is not offered */
    struct epoll_event ev = {0};
    if (op != EPOLL_CTL_DEL && (!uev || pd_copy_in(&ev, uev, sizeof ev) < 0)) return -EFAULT;
    pd_epitem *it = ep_find(ep, fd);
    switch (op) {
    case EPOLL_CTL_ADD:
        if (it) return -EEXIST;
        if (ep->n == ep->cap) {
            int ncap = ep->cap ? 2 * ep->cap : 8;
            pd_epitem *ni = realloc(ep->items, (size_t)ncap * sizeof *ni);
            if (!ni) return -ENOMEM;
            ep->items = ni;
            ep->cap = ncap;
        }
        it = &ep->items[ep->n++];
        it->fd = fd;
        break;
    case EPOLL_CTL_MOD:
        if (!it) return -ENOENT;
        break;
    case EPOLL_CTL_DEL:
        if (!it) return -ENOENT;
        ep_remove(ep, it);
        return 0;
    default: return -EINVAL;
    }
    it->ev = ev;
    it->ev.events |= EP_ALWAYS;
    it->pending = true;
    return 0;
}

static int pd_epoll_ctl(void *ud, int epfd, int op, int fd, struct epoll_event *event)
{
    pd *p = ud;
    pthread_mutex_lock(&p->mu);
    int r = ep_ctl(p, epfd, op, fd, event);
    pthread_mutex_unlock(&p->mu);
    return r < 0 ? pd_err(r) : 0;
}

typedef struct {
    int epfd;
    pd_epoll *ep;
    struct epoll_event *out;
    int max, n;
} ep_wait_arg;

/* Should this item be looked at (level-triggered: always; edge: after a wake-up)? */
static bool ep_triggered(pd *p, pd_epitem *it)
{
    if (!(it->ev.events & EPOLLET)) return true;
    pd_fd *f = pd_fd_get(p, it->fd);
    bool in = it->ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLPRI);
    bool out = it->ev.events & EPOLLOUT;
    bool t =
        it->pending || (in && f->wakes_in != it->seen_in) || (out && f->wakes_out != it->seen_out);
    it->pending = false;
    it->seen_in = f->wakes_in;
    it->seen_out = f->wakes_out;
    return t;
}

static bool ep_ready(pd *p, void *arg)
{
    ep_wait_arg *a = arg;
    a->n = 0;
    if (ep_get(p, a->epfd) != a->ep) return true; /* closed by another thread meanwhile */
    for (int i = 0; i < a->ep->n && a->n < a->max; i++) {
        pd_epitem *it = &a->ep->items[i];
        if (!(it->ev.events & ~(EP_ALWAYS | EPOLLET | EPOLLONESHOT)) &&
            (it->ev.events & EPOLLONESHOT))
            continue; /* a one-shot item already reported: off until EPOLL_CTL_MOD */
        if (!ep_triggered(p, it)) continue;
        uint32_t rev = (uint32_t)(uint16_t)pd_revents(p, it->fd) & it->ev.events;
        if (!rev) continue;
        a->out[a->n].events = rev;
        a->out[a->n].data = it->ev.data;
        a->n++;
        if (it->ev.events & EPOLLONESHOT) it->ev.events &= EPOLLONESHOT | EPOLLET | EP_ALWAYS;
    }
    return a->n > 0;
}

static int pd_epoll_wait(void *ud, int epfd, struct epoll_event *events, int max, int timeout)
{
    pd *p = ud;
    pthread_mutex_lock(&p->mu);
    pd_epoll *ep = ep_get(p, epfd);
    int r;
    if (!ep) {
        r = epfd >= 0 && epfd < p->nfds && p->fds[epfd].used ? -EINVAL : -EBADF;
    } else if (max <= 0 || (size_t)max > INT_MAX / sizeof(struct epoll_event)) {
        r = -EINVAL; /* Linux's EP_MAX_EVENTS */
    } else {
        /* no more events than items: the buffer need not be as large as the caller's */
        int cap = max < ep->n ? max : ep->n > 0 ? ep->n : 1;
        ep_wait_arg a = {.epfd = epfd,
                         .ep = ep,
                         .out = calloc((size_t)cap, sizeof(struct epoll_event)),
                         .max = cap};
        if (!a.out) {
            r = -ENOMEM;
        } else {
            if (!ep_ready(p, &a) && timeout != 0)
                pd_wait(p, ep_ready, &a,
                        timeout < 0 ? TS_TIME_NEVER : p->now + (ts_time_t)timeout * TS_MSEC);
            /* the instance may be gone if another thread closed it while we waited */
            r = ep_get(p, epfd) != ep ? -EBADF : a.n;
            if (r > 0 && pd_copy_out(events, a.out, (size_t)r * sizeof *a.out) < 0) r = -EFAULT;
            free(a.out);
        }
    }
    pd_changed(p);
    pd_settle(p);
    pthread_mutex_unlock(&p->mu);
    return r < 0 ? pd_err(r) : r;
}

void pd_fill_epoll_calls(struct packetdrill_interface *ifc)
{
    ifc->epoll_create = pd_epoll_create;
    ifc->epoll_ctl = pd_epoll_ctl;
    ifc->epoll_wait = pd_epoll_wait;
}
