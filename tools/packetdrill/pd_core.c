/* pd_core.c: the adapter's heart: packetdrill_interface_init, the virtual clock, the queue
 * of packets the stack sent, the fake network device, blocking waits and the table of host
 * descriptors that stand for tcpsim sockets.
 *
 * Time: the clock moves only when packetdrill reads it (gettimeofday, +1 us per call so
 * that its spin loops end), sleeps (usleep) or waits for a packet (netdev_receive runs the
 * clock through the stack's timers until one comes out). Every move runs the timers due on
 * the way, one deadline at a time, and lets blocked calls look at each intermediate state,
 * so a blocking call returns at the virtual time its condition became true. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <unistd.h>

#include "pd.h"

/* The time at which a blocking call on this thread completed; packetdrill reads the clock
 * right after the call returns and must see that time, not a later one the main thread
 * has moved on to meanwhile. */
static _Thread_local ts_time_t tl_done_at;

int pd_err(int neg_errno)
{
    errno = neg_errno < 0 ? -neg_errno : neg_errno;
    return -1;
}

/* ---- packets out ---- */

static void pd_output(void *ctx, const uint8_t *pkt, size_t len)
{
    pd *p = ctx;
    if (p->q_len == PD_QUEUE) {
        p->q_dropped++; /* packetdrill stopped reading; the next read reports a gap */
        return;
    }
    pd_pkt *k = &p->q[(p->q_head + p->q_len) % PD_QUEUE];
    if (k->cap < len) {
        uint8_t *nb = realloc(k->buf, len);
        if (!nb) {
            p->q_dropped++;
            return;
        }
        k->buf = nb;
        k->cap = len;
    }
    memcpy(k->buf, pkt, len);
    k->len = len;
    k->t = ts_stack_now(p->st);
    p->q_len++;
}

/* ---- clock and waits ---- */

void pd_changed(pd *p)
{
    p->epoch++;
    pthread_cond_broadcast(&p->changed);
}

/* Wait until every blocked call has looked at the current state (and either finished or
 * gone back to sleep), so that what it does happens at this virtual time. */
void pd_settle(pd *p)
{
    for (;;) {
        bool all = true;
        for (pd_waiter *w = p->waiters; w; w = w->next)
            if (w->seen != p->epoch) all = false;
        if (all) return;
        pthread_cond_wait(&p->settled, &p->mu);
    }
}

/* Run the stack's timers up to t, each at its own deadline, then set the clock to t. */
void pd_advance(pd *p, ts_time_t t)
{
    for (;;) {
        ts_time_t d = ts_stack_next_deadline(p->st);
        if (d > t) break;
        if (d > p->now) p->now = d;
        ts_stack_poll(p->st, p->now);
        pd_changed(p);
        pd_settle(p);
        if (ts_stack_next_deadline(p->st) <= p->now) break; /* never spin on a stuck timer */
    }
    if (t > p->now) {
        p->now = t;
        ts_stack_poll(p->st, t);
    }
    pd_changed(p);
    pd_settle(p);
}

static bool on_main_thread(const pd *p)
{
    return pthread_equal(pthread_self(), p->main_thread);
}

/* The main thread is the only one that moves the clock for packetdrill; if it blocks
 * itself (a call the script did not mark as blocking), it runs the clock through the
 * stack's timers until the call can finish, as a real kernel would let time pass. */
static bool pd_wait_driving(pd *p, bool (*ready)(pd *, void *), void *arg, ts_time_t deadline)
{
    for (;;) {
        if (ready(p, arg)) return true;
        if (p->now >= deadline) return false;
        ts_time_t d = ts_stack_next_deadline(p->st);
        ts_time_t target = d < deadline ? d : deadline;
        if (target == TS_TIME_NEVER || target > p->now + PD_HORIZON) return false;
        pd_advance(p, target > p->now ? target : p->now + 1);
    }
}

bool pd_wait(pd *p, bool (*ready)(pd *, void *), void *arg, ts_time_t deadline)
{
    if (on_main_thread(p)) return pd_wait_driving(p, ready, arg, deadline);
    pd_waiter w = {.seen = 0, .next = p->waiters};
    p->waiters = &w;
    bool ok;
    for (;;) {
        if (ready(p, arg)) {
            ok = true;
            break;
        }
        if (p->now >= deadline) {
            ok = false;
            break;
        }
        w.seen = p->epoch;
        pthread_cond_broadcast(&p->settled);
        pthread_cond_wait(&p->changed, &p->mu);
    }
    for (pd_waiter **pp = &p->waiters; *pp; pp = &(*pp)->next)
        if (*pp == &w) {
            *pp = w.next;
            break;
        }
    pthread_cond_broadcast(&p->settled);
    tl_done_at = p->now;
    return ok;
}

/* ---- descriptors ---- */

pd_fd *pd_fd_get(pd *p, int fd)
{
    if (fd < 0 || fd >= p->nfds || !p->fds[fd].used || p->fds[fd].ep) return NULL;
    return &p->fds[fd];
}

/* A readiness change of a socket is an epoll wake-up: new data wakes readers; a
 * connection, an end or an error everyone; room to write wakes writers only after one
 * found none (Linux wakes writers only then, SOCK_NOSPACE). Runs under mu, at the end of
 * the stack call that caused it. */
static void pd_on_ready(ts_stack *st, int sd, unsigned ev, void *ctx)
{
    (void)st;
    pd *p = ctx;
    if (sd < 0 || sd >= p->nsd_fd) return;
    pd_fd *f = pd_fd_get(p, p->sd_fd[sd]);
    if (!f || f->sd != sd) return;
    if (ev & (TS_SOCK_CONNECTED | TS_SOCK_CLOSED | TS_SOCK_ERROR)) /* a state change */
        f->wakes_in++, f->wakes_out++, f->nospace = false;
    if (ev & TS_SOCK_READABLE) f->wakes_in++;
    if ((ev & TS_SOCK_WRITABLE) && f->nospace) f->wakes_out++, f->nospace = false;
}

void pd_fd_watch(pd *p, int fd)
{
    int sd = p->fds[fd].sd;
    if (sd >= p->nsd_fd) {
        int n = sd + 64;
        int *nm = realloc(p->sd_fd, (size_t)n * sizeof *nm);
        if (!nm) return; /* no epoll wake-ups for this socket; everything else works */
        p->sd_fd = nm;
        p->nsd_fd = n;
    }
    p->sd_fd[sd] = fd;
    ts_sock_set_callback(p->st, sd, pd_on_ready, p);
}

int pd_fd_new(pd *p, int sd)
{
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -1;
    if (fd >= p->nfds) {
        int n = fd + 64;
        pd_fd *nf = realloc(p->fds, (size_t)n * sizeof *nf);
        if (!nf) {
            close(fd);
            errno = ENOMEM;
            return -1;
        }
        memset(nf + p->nfds, 0, (size_t)(n - p->nfds) * sizeof *nf);
        p->fds = nf;
        p->nfds = n;
    }
    p->fds[fd] = (pd_fd){.used = true, .sd = sd, .pmtudisc = IP_PMTUDISC_WANT};
    if (sd >= 0) pd_fd_watch(p, fd);
    return fd;
}

void pd_fd_drop(pd *p, int fd)
{
    if (fd < 0 || fd >= p->nfds || !p->fds[fd].used) return;
    pd_epoll_forget(p, fd);
    if (p->fds[fd].ep) pd_epoll_free(p->fds[fd].ep);
    p->fds[fd] = (pd_fd){.used = false};
    close(fd);
}

void *pd_scratch(pd *p, size_t len)
{
    if (len > p->scratch_cap) {
        uint8_t *nb = realloc(p->scratch, len);
        if (!nb) return NULL;
        p->scratch = nb;
        p->scratch_cap = len;
    }
    return p->scratch ? p->scratch : (void *)p; /* any non-NULL pointer for len 0 */
}

/* ---- the network device and the clock, as packetdrill sees them ---- */

static int pd_netdev_send(void *ud, const void *buf, size_t count)
{
    pd *p = ud;
    pthread_mutex_lock(&p->mu);
    ts_stack_input(p->st, p->now, buf, count);
    pd_changed(p);
    pd_settle(p);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

static int pd_netdev_receive(void *ud, void *buf, size_t *count, long long *time_usecs)
{
    pd *p = ud;
    pthread_mutex_lock(&p->mu);
    pd_settle(p);
    for (;;) {
        if (p->q_len) {
            pd_pkt *k = &p->q[p->q_head];
            size_t n = k->len < *count ? k->len : *count;
            memcpy(buf, k->buf, n);
            *count = n;
            *time_usecs = (long long)k->t;
            p->q_head = (p->q_head + 1) % PD_QUEUE;
            p->q_len--;
            break;
        }
        ts_time_t d = ts_stack_next_deadline(p->st);
        if (d == TS_TIME_NEVER || d > p->now + PD_HORIZON) {
            *count = 0; /* nothing will ever come out: packetdrill fails the script */
            *time_usecs = (long long)p->now;
            break;
        }
        pd_advance(p, d > p->now ? d : p->now);
    }
    pthread_mutex_unlock(&p->mu);
    return 0;
}

static int pd_usleep(void *ud, useconds_t usec)
{
    pd *p = ud;
    pthread_mutex_lock(&p->mu);
    pd_advance(p, p->now + usec);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

static int pd_gettimeofday(void *ud, struct timeval *tv, struct timezone *tz)
{
    (void)tz;
    pd *p = ud;
    pthread_mutex_lock(&p->mu);
    pd_advance(p, p->now + 1);
    ts_time_t t = p->now;
    if (tl_done_at && tl_done_at < t) t = tl_done_at + 1;
    tl_done_at = 0;
    pthread_mutex_unlock(&p->mu);
    tv->tv_sec = (time_t)(t / TS_SEC);
    tv->tv_usec = (suseconds_t)(t % TS_SEC);
    return 0;
}

/* ---- life ---- */

static void pd_free(void *ud)
{
    pd *p = ud;
    if (!p) return;
    pd_host_unregister(p);
    for (int fd = 0; fd < p->nfds; fd++)
        if (p->fds[fd].used) {
            if (p->fds[fd].ep) pd_epoll_free(p->fds[fd].ep);
            close(fd);
        }
    free(p->sd_fd);
    ts_stack_destroy(p->st);
    for (size_t i = 0; i < PD_QUEUE; i++) free(p->q[i].buf);
    free(p->fds);
    free(p->scratch);
    pthread_cond_destroy(&p->changed);
    pthread_cond_destroy(&p->settled);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* packetdrill has no way to hear that init failed: say why on stderr and exit, as a bad
 * command-line flag would. */
static void pd_die(const char *what, const char *why)
{
    fprintf(stderr, "tcpsim_packetdrill: %s: %s\n", what, why);
    exit(2);
}

__attribute__((visibility("default"))) void
packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
{
    char err[256];
    ts_stack_config cfg;
    if (pd_parse_flags(flags, &cfg, err, sizeof err) < 0) pd_die("bad --so_flags", err);
    pd *p = calloc(1, sizeof *p);
    if (!p) pd_die("init", "out of memory");
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->changed, NULL);
    pthread_cond_init(&p->settled, NULL);
    p->main_thread = pthread_self();
    p->now = PD_EPOCH;
    cfg.output = pd_output;
    cfg.output_ctx = p;
    p->st = ts_stack_create(&cfg, err, sizeof err);
    if (!p->st) pd_die("cannot create the stack", err);
    ts_stack_poll(p->st, p->now);

    memset(ifc, 0, sizeof *ifc);
    ifc->userdata = p;
    ifc->free = pd_free;
    ifc->netdev_send = pd_netdev_send;
    ifc->netdev_receive = pd_netdev_receive;
    ifc->usleep = pd_usleep;
    ifc->gettimeofday = pd_gettimeofday;
    pd_fill_socket_calls(ifc);
    pd_fill_option_calls(ifc);
    pd_fill_epoll_calls(ifc);
    pd_host_register(p, ifc);
}
