/* tun_loop.c: the real-time loop. One epoll set holds the TUN descriptor, a signalfd for
 * SIGINT/SIGTERM and whatever the caller watches (stdin, stdout). The wait's timeout is the
 * stack's next deadline, with nanosecond precision through epoll_pwait2 so timers fire on
 * time (SYN backoff is checked to the millisecond). Packets are read in bounded batches
 * into one buffer owned by the loop: no allocation and one read() per packet, or, with
 * the io_uring ring (tun_ring.c, the default), a batch of reads per system call and a
 * burst's writes in one. Before it sleeps the loop may busy-poll, by reading the device
 * itself (wait_polled). With offloads (tun_gso.c) every packet carries a virtio_net_hdr:
 * received partial checksums are completed here. The stack runs in burst mode
 * (tcpsim/stack.h): everything it sends between two waits (a batch of input, the timers,
 * the callbacks) is one burst, held open with ts_stack_burst_begin/end; with offloads its
 * in-order data segments are coalesced into super-segments written, without a copy, when
 * the burst ends or the run breaks, while anything else is written at once. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "tun.h"

#define LOOP_MAX_WATCH 8
#define POLL_LOOK      16    /* busy-poll rounds per look at the other descriptors */
#define LOOP_BATCH     256   /* packets read per wakeup before timers get a turn */
#define LOOP_PKT_MAX   65536 /* the largest IPv4 packet */
#define SLOT_BYTES     2048  /* a held packet up to this size uses a pool slot */

/* A packet the shaper holds: in the pool, ordered by (when, seq) in a binary heap. */
typedef struct held {
    ts_time_t when;
    uint64_t seq;
    bool out;
    uint32_t len;
    uint8_t *data; /* the slot, or a malloc'd block for a jumbo packet */
    bool big;
} held;

typedef struct watch {
    int fd;
    uint32_t events;
    bool always_ready; /* epoll refused it (regular file): report it every iteration */
    ts_loop_fd_fn fn;
    void *ctx;
} watch;

struct ts_loop {
    int tun_fd, ep, sig_fd;
    bool stop;
    bool have_pwait2;
    ts_stack *stack;
    ts_loop_tap_fn tap;
    void *tap_ctx;
    ts_loop_signal_fn on_signal;
    void *signal_ctx;
    ts_loop_idle_fn on_idle;
    void *idle_ctx;
    watch watches[LOOP_MAX_WATCH];
    size_t nwatch;
    sigset_t old_mask;
    ts_loop_stats stats;
    /* shaper (--link): pool of held packets and a heap of indices into it */
    ts_loop_shape_fn shape;
    void *shape_ctx;
    held *slots;
    uint8_t *slot_bytes;
    uint32_t *heap, *free_slots;
    size_t nslots, heap_n, nfree;
    uint64_t held_seq;
    /* offloads */
    bool vnet, gso;
    bool burst;        /* the stack is in burst mode with our flush: packets stay until it */
    ts_stack *holding; /* the stack whose burst the loop holds open, or NULL */
    ts_gso_tx *gtx;
    ts_ring *ring; /* batched reads and writes, or NULL: one system call per packet */
    ts_ring_tally rt;
    ts_time_t busy_poll; /* us to poll without sleeping before a wait (0: sleep at once) */
    bool defer_submit;   /* the burst's end before a wait: its writes go with reads */
    ts_time_t looked;    /* when the descriptors were last looked at (epoll) */
    char ring_lost[128]; /* why the ring was let go during a run, or "" */
    uint8_t rbuf[sizeof(ts_vnet_hdr) + LOOP_PKT_MAX]; /* header (if any), then the packet */
};

static ts_time_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (ts_time_t)ts.tv_sec * TS_SEC + (ts_time_t)ts.tv_nsec / 1000;
}

ts_time_t ts_loop_clock(void)
{
    return clock_us(CLOCK_MONOTONIC);
}
ts_time_t ts_loop_wallclock(void)
{
    return clock_us(CLOCK_REALTIME);
}

/* Tags in epoll_event.data.u64: the device, the signalfd, or 2 + watch index. */
enum { TAG_TUN = 0, TAG_SIG = 1, TAG_WATCH = 2 };

ts_loop *ts_loop_create(int tun_fd, char *err, size_t errlen)
{
    ts_loop *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->tun_fd = tun_fd;
    l->sig_fd = -1;
    l->have_pwait2 = true;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0) {
        snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
        free(l);
        return NULL;
    }
    /* A shell starts background commands with SIGINT ignored; an ignored signal never
     * reaches a signalfd, so take the default back (blocked, it kills nobody). */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, &l->old_mask);
    l->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_TUN};
    if (l->sig_fd < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, tun_fd, &ev) < 0) {
        snprintf(err, errlen, "setting up the event loop: %s", strerror(errno));
        ts_loop_destroy(l);
        return NULL;
    }
    ev.data.u64 = TAG_SIG;
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->sig_fd, &ev) < 0) {
        snprintf(err, errlen, "setting up the event loop: %s", strerror(errno));
        ts_loop_destroy(l);
        return NULL;
    }
    return l;
}

void ts_loop_destroy(ts_loop *l)
{
    if (!l) return;
    if (l->sig_fd >= 0) close(l->sig_fd);
    if (l->ep >= 0) close(l->ep);
    sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
    for (size_t i = 0; i < l->heap_n; i++)
        if (l->slots[l->heap[i]].big) free(l->slots[l->heap[i]].data);
    free(l->slots);
    free(l->slot_bytes);
    free(l->heap);
    free(l->free_slots);
    free(l->gtx);
    ts_ring_destroy(l->ring);
    free(l);
}

void ts_loop_set_stack(ts_loop *l, ts_stack *s)
{
    l->stack = s;
}

void ts_loop_set_tap(ts_loop *l, ts_loop_tap_fn fn, void *ctx)
{
    l->tap = fn;
    l->tap_ctx = ctx;
}

void ts_loop_set_signal(ts_loop *l, ts_loop_signal_fn fn, void *ctx)
{
    l->on_signal = fn;
    l->signal_ctx = ctx;
}

void ts_loop_set_idle(ts_loop *l, ts_loop_idle_fn fn, void *ctx)
{
    l->on_idle = fn;
    l->idle_ctx = ctx;
}

const ts_loop_stats *ts_loop_get_stats(const ts_loop *l)
{
    return &l->stats;
}

void ts_loop_stop(ts_loop *l)
{
    l->stop = true;
}

static void hold(ts_loop *l, bool out, ts_time_t now, const uint8_t *pkt, size_t len);
static void device_write(ts_loop *l, const ts_vnet_hdr *h, const uint8_t *pkt, size_t len);
static void device_writev(ts_loop *l, struct iovec *iov, int niov, int ncopy, size_t len);

int ts_loop_set_offload(ts_loop *l, bool vnet_hdr, bool gso)
{
    l->vnet = vnet_hdr;
    l->gso = vnet_hdr && gso;
    if (l->gso && !l->gtx && !(l->gtx = calloc(1, sizeof *l->gtx))) return -ENOMEM;
    return 0;
}

int ts_loop_set_ring(ts_loop *l, char *err, size_t errlen)
{
    if (!l->ring) l->ring = ts_ring_create(l->tun_fd, sizeof l->rbuf, err, errlen);
    return l->ring ? 0 : -1;
}

bool ts_loop_ring(const ts_loop *l)
{
    return l->ring != NULL;
}

const char *ts_loop_ring_lost(const ts_loop *l)
{
    return l->ring_lost[0] ? l->ring_lost : NULL;
}

/* A ring that failed is let go, at the top of the loop only (never under one of its own
 * calls): the loop goes on with read() and write(), still in burst mode, which costs
 * nothing without the ring. */
static void ring_check(ts_loop *l)
{
    const char *why = l->ring ? ts_ring_broken(l->ring) : NULL;
    if (!why) return;
    snprintf(l->ring_lost, sizeof l->ring_lost, "%s", why);
    ts_ring_destroy(l->ring);
    l->ring = NULL;
}

void ts_loop_set_busy_poll(ts_loop *l, ts_time_t us)
{
    l->busy_poll = us;
}

/* The ring's counts into the loop's. With a virtio_net_hdr every write on the ring has
 * one before its packet (device_writev): bytes_out counts the packets only, as it does
 * without the ring. */
static void ring_fold(ts_loop *l)
{
    l->stats.pkts_out += l->rt.pkts;
    l->stats.bytes_out += l->rt.bytes - (l->vnet ? l->rt.pkts * sizeof(ts_vnet_hdr) : 0);
    l->stats.write_errors += l->rt.errors;
    l->stats.submits += l->rt.submits;
    l->stats.empty_polls += l->rt.empty;
    l->rt = (ts_ring_tally){0};
}

/* The writes queued on the ring, if any, go now. */
static void ring_submit(ts_loop *l)
{
    if (!l->ring || !ts_ring_pending(l->ring)) return;
    ts_ring_submit(l->ring, &l->rt);
    ring_fold(l);
}

void ts_loop_stack_config(ts_loop *l, ts_stack_config *cfg)
{
    cfg->output = ts_loop_output;
    cfg->output_ctx = l;
    /* Burst mode when packets are kept past the output call: coalesced by segmentation
     * offload, or queued on the ring until the burst's submit. Otherwise per-packet mode,
     * whose one scratch buffer stays in the cache. */
    cfg->flush = l->gso || l->ring ? ts_loop_flush : NULL;
    /* A wake-up in bulk can bring megabytes of echo: each time the arena fills, the
     * super-segment being built is cut short (256 KiB: 575 bursts and 7682 writes for the
     * 64 MiB offload test; 1 MiB, half this machine's L2 per core: 165 and 5213 to 6447) */
    cfg->burst_bytes = 1 << 20;
    l->burst = l->gso || l->ring;
}

/* Write the super-segment being built, if any: one writev gathering its pieces from
 * where the stack built them. */
static void gso_flush(ts_loop *l)
{
    if (!l->gso || !l->gtx->pending) return;
    ts_gso_tx *g = l->gtx;
    ts_vnet_hdr h;
    size_t len = ts_gso_tx_finish(g, &h);
    if (g->segs > 1) l->stats.gso_out++;
    g->iov[0] = (struct iovec){&h, sizeof h};
    /* A super-segment's headers are rebuilt in g for the next one: the ring copies them. */
    device_writev(l, g->iov, g->niov, g->segs > 1 ? 2 : 1, len);
}

/* The stack's burst ended: nothing it sent may be kept past this. */
void ts_loop_flush(void *loop)
{
    ts_loop *l = loop;
    l->stats.bursts++;
    gso_flush(l);
    if (!l->defer_submit) ring_submit(l);
}

void ts_loop_output(void *loop, const uint8_t *pkt, size_t len)
{
    ts_loop *l = loop;
    l->stats.segs_out++;
    if (l->tap) l->tap(l->tap_ctx, ts_loop_clock(), pkt, len, true);
    if (l->shape) {
        hold(l, true, ts_loop_clock(), pkt, len);
        return;
    }
    /* Coalescing keeps pointers to the packets: only in burst mode, where they stay. */
    if (l->gso && l->burst) {
        if (ts_gso_tx_append(l->gtx, pkt, len)) return;
        gso_flush(l); /* in order: what was pending goes first */
        if (ts_gso_tx_start(l->gtx, pkt, len)) return;
    }
    device_write(l, NULL, pkt, len);
}

/* Hold the stack's burst open (ts_stack_burst_begin) until release: idempotent, so every
 * exit from the run can release. */
static void burst_hold(ts_loop *l)
{
    if (l->holding) return;
    l->holding = l->stack;
    if (l->holding) ts_stack_burst_begin(l->holding);
}

static void burst_release(ts_loop *l)
{
    ts_stack *s = l->holding;
    l->holding = NULL;
    if (s) ts_stack_burst_end(s); /* the stack calls ts_loop_flush */
}

static void device_write(ts_loop *l, const ts_vnet_hdr *h, const uint8_t *pkt, size_t len)
{
    /* A TUN write hands the packet to the kernel's receive path; it does not block. A
     * refusal (queue full, device going down) is a lost packet, which TCP recovers. With
     * a virtio_net_hdr, one writev puts it before the packet without a copy. */
    static const ts_vnet_hdr none;
    if (l->vnet) {
        struct iovec iov[2] = {{(void *)(h ? h : &none), sizeof none}, {(void *)pkt, len}};
        device_writev(l, iov, 2, 1, len);
        return;
    }
    if (l->ring && l->burst) {
        struct iovec iov = {(void *)pkt, len};
        ts_ring_writev(l->ring, NULL, 0, &iov, 1, len, &l->rt);
        return;
    }
    if (write(l->tun_fd, pkt, len) != (ssize_t)len) {
        l->stats.write_errors++;
        return;
    }
    l->stats.pkts_out++;
    l->stats.bytes_out += len;
}

/* One packet of len bytes after the virtio_net_hdr in iov[0]; on the ring, the first
 * ncopy entries are copied (they may be rebuilt before the submit). */
static void device_writev(ts_loop *l, struct iovec *iov, int niov, int ncopy, size_t len)
{
    if (l->ring && l->burst) {
        ts_ring_writev(l->ring, iov, ncopy, iov + ncopy, niov - ncopy, len + sizeof(ts_vnet_hdr),
                       &l->rt);
        return;
    }
    if (writev(l->tun_fd, iov, niov) != (ssize_t)(len + sizeof(ts_vnet_hdr))) {
        l->stats.write_errors++;
        return;
    }
    l->stats.pkts_out++;
    l->stats.bytes_out += len;
}

static watch *find_watch(ts_loop *l, int fd)
{
    for (size_t i = 0; i < l->nwatch; i++)
        if (l->watches[i].fd == fd) return &l->watches[i];
    return NULL;
}

int ts_loop_watch(ts_loop *l, int fd, uint32_t events, ts_loop_fd_fn fn, void *ctx)
{
    if (find_watch(l, fd) || l->nwatch == LOOP_MAX_WATCH) return -EBUSY;
    watch *w = &l->watches[l->nwatch];
    *w = (watch){.fd = fd, .events = events, .fn = fn, .ctx = ctx};
    struct epoll_event ev = {.events = events, .data.u64 = TAG_WATCH + l->nwatch};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        if (errno != EPERM) return -errno;
        w->always_ready = true; /* a regular file: reads never block */
    }
    l->nwatch++;
    return 0;
}

int ts_loop_modify(ts_loop *l, int fd, uint32_t events)
{
    watch *w = find_watch(l, fd);
    if (!w) return -ENOENT;
    w->events = events;
    if (w->always_ready) return 0;
    struct epoll_event ev = {.events = events, .data.u64 = TAG_WATCH + (uint64_t)(w - l->watches)};
    return epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void ts_loop_unwatch(ts_loop *l, int fd)
{
    watch *w = find_watch(l, fd);
    if (!w) return;
    if (!w->always_ready) epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
    /* Keep indices stable for the tags already registered: leave a hole. */
    w->fd = -1;
    w->events = 0;
    w->fn = NULL;
}

/* The packet in buf after its virtio_net_hdr (if the device has one): its partial
 * checksum completed. NULL if the header is unusable (counted; the packet is dropped). */
static uint8_t *vnet_packet(ts_loop *l, uint8_t *buf, size_t *len)
{
    if (!l->vnet) return buf;
    ts_vnet_hdr h;
    if (*len < sizeof h) goto bad;
    memcpy(&h, buf, sizeof h);
    uint8_t *pkt = buf + sizeof h;
    *len -= sizeof h;
    if (ts_gso_rx_complete(&h, pkt, *len) < 0) goto bad;
    if (h.flags & TS_VNET_F_NEEDS_CSUM) l->stats.csum_in++;
    /* A super-segment goes to the stack whole: it is one TCP segment longer than the MSS,
     * which the stack's input takes like any other that fits the window. */
    if (h.gso_type != TS_VNET_GSO_NONE) l->stats.gso_in++;
    return pkt;
bad:
    l->stats.bad_vnet_in++;
    return NULL;
}

/* One packet read from the device (its virtio_net_hdr first, if any): to the shaper, or
 * the tap and the stack. */
static void got_packet(void *loop, uint8_t *buf, size_t n)
{
    ts_loop *l = loop;
    /* Stamp each packet: a batch can span the kernel's reply to what the stack just sent,
     * and RTT samples should see that time (the vDSO clock costs ~20 ns). */
    ts_time_t now = ts_loop_clock();
    size_t len = n;
    uint8_t *pkt = vnet_packet(l, buf, &len);
    if (!pkt) return;
    l->stats.pkts_in++;
    l->stats.bytes_in += len;
    if (l->shape) {
        hold(l, false, now, pkt, len);
        return;
    }
    if (l->tap) l->tap(l->tap_ctx, now, pkt, len, false);
    if (l->stack) ts_stack_input(l->stack, now, pkt, len);
}

/* Read up to LOOP_BATCH packets: how many, or -errno on a fatal device error. */
static int read_batch(ts_loop *l)
{
    int total = 0;
    if (l->ring) {
        /* Batches while the last one came back full; the writes queued go first. */
        while (total < LOOP_BATCH) {
            unsigned want = ts_ring_batch(l->ring);
            int n = ts_ring_read(l->ring, &l->rt, got_packet, l);
            ring_fold(l);
            if (n < 0) return n;
            total += n;
            if ((unsigned)n < want) break;
        }
        return total;
    }
    for (; total < LOOP_BATCH; total++) {
        ssize_t n = read(l->tun_fd, l->rbuf, sizeof l->rbuf);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return total;
            return -errno;
        }
        if (n == 0) return -EIO;
        got_packet(l, l->rbuf, (size_t)n);
    }
    return total;
}

static void read_signals(ts_loop *l)
{
    struct signalfd_siginfo si;
    while (read(l->sig_fd, &si, sizeof si) == (ssize_t)sizeof si)
        if (l->on_signal) l->on_signal(l, (int)si.ssi_signo, l->signal_ctx);
}

static int wait_events(ts_loop *l, struct epoll_event *evs, int max, ts_time_t timeout_us)
{
    int n = -1;
    if (l->have_pwait2) {
        struct timespec ts, *tp = NULL;
        if (timeout_us != TS_TIME_NEVER) {
            ts.tv_sec = (time_t)(timeout_us / TS_SEC);
            ts.tv_nsec = (long)(timeout_us % TS_SEC) * 1000;
            tp = &ts;
        }
        n = epoll_pwait2(l->ep, evs, max, tp, NULL);
        if (n < 0 && errno == ENOSYS) l->have_pwait2 = false; /* before Linux 5.11 */
    }
    if (!l->have_pwait2) { /* millisecond timeouts */
        int ms = -1;
        if (timeout_us != TS_TIME_NEVER)
            ms = timeout_us > 86400 * TS_SEC ? 86400000 : (int)((timeout_us + 999) / 1000);
        n = epoll_wait(l->ep, evs, max, ms);
    }
    int e = errno;
    l->looked = ts_loop_clock();
    errno = e;
    return n;
}

/* ---- shaper: held packets ---- */

static bool held_before(const ts_loop *l, uint32_t a, uint32_t b)
{
    const held *x = &l->slots[a], *y = &l->slots[b];
    return x->when != y->when ? x->when < y->when : x->seq < y->seq;
}

static void heap_swap(ts_loop *l, size_t a, size_t b)
{
    uint32_t t = l->heap[a];
    l->heap[a] = l->heap[b];
    l->heap[b] = t;
}

static void heap_push(ts_loop *l, uint32_t slot)
{
    size_t i = l->heap_n++;
    l->heap[i] = slot;
    while (i > 0 && held_before(l, l->heap[i], l->heap[(i - 1) / 2])) {
        heap_swap(l, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static uint32_t heap_pop(ts_loop *l)
{
    uint32_t top = l->heap[0];
    l->heap[0] = l->heap[--l->heap_n];
    for (size_t i = 0;;) {
        size_t a = 2 * i + 1, b = a + 1, m = i;
        if (a < l->heap_n && held_before(l, l->heap[a], l->heap[m])) m = a;
        if (b < l->heap_n && held_before(l, l->heap[b], l->heap[m])) m = b;
        if (m == i) break;
        heap_swap(l, i, m);
        i = m;
    }
    return top;
}

int ts_loop_set_shaper(ts_loop *l, ts_loop_shape_fn fn, void *ctx, size_t slots)
{
    if (!slots) slots = 1;
    l->slots = calloc(slots, sizeof *l->slots);
    l->slot_bytes = malloc(slots * SLOT_BYTES);
    l->heap = calloc(slots, sizeof *l->heap);
    l->free_slots = calloc(slots, sizeof *l->free_slots);
    if (!l->slots || !l->slot_bytes || !l->heap || !l->free_slots) return -ENOMEM;
    for (size_t i = 0; i < slots; i++) l->free_slots[i] = (uint32_t)(slots - 1 - i);
    l->nslots = l->nfree = slots;
    l->shape = fn;
    l->shape_ctx = ctx;
    return 0;
}

static void hold(ts_loop *l, bool out, ts_time_t now, const uint8_t *pkt, size_t len)
{
    ts_loop_copy copy[2];
    unsigned n = l->shape(l->shape_ctx, out, now, pkt, len, copy);
    for (unsigned i = 0; i < n && i < 2; i++) {
        if (!l->nfree) {
            l->stats.held_overflow++;
            return;
        }
        uint32_t slot = l->free_slots[--l->nfree];
        held *h = &l->slots[slot];
        h->big = len > SLOT_BYTES;
        h->data = h->big ? malloc(len) : l->slot_bytes + (size_t)slot * SLOT_BYTES;
        if (!h->data) {
            l->free_slots[l->nfree++] = slot;
            l->stats.held_overflow++;
            return;
        }
        memcpy(h->data, pkt, len);
        if (copy[i].flip_bit >= 0 && (size_t)(copy[i].flip_bit / 8) < len)
            h->data[copy[i].flip_bit / 8] ^= (uint8_t)(0x80u >> (copy[i].flip_bit % 8));
        h->when = copy[i].when;
        h->seq = l->held_seq++;
        h->out = out;
        h->len = (uint32_t)len;
        heap_push(l, slot);
    }
}

/* Deliver every held packet that is due: to the device, or to the stack. */
static void release_due(ts_loop *l, ts_time_t now)
{
    while (l->heap_n && l->slots[l->heap[0]].when <= now) {
        uint32_t slot = heap_pop(l);
        held *h = &l->slots[slot];
        if (h->out) {
            device_write(l, NULL, h->data, h->len);
            ring_submit(l); /* the slot is given back below: the write must go first */
        } else {
            if (l->tap) l->tap(l->tap_ctx, now, h->data, h->len, false);
            if (l->stack) ts_stack_input(l->stack, now, h->data, h->len);
        }
        if (h->big) free(h->data);
        l->free_slots[l->nfree++] = slot;
    }
}

/* The stack's timers and the shaper's due packets, then the caller's idle callback: the
 * next time the loop must wake at. */
static ts_time_t run_due(ts_loop *l, ts_time_t now, ts_time_t deadline)
{
    release_due(l, now);
    ts_time_t next = l->stack ? ts_stack_poll(l->stack, now) : TS_TIME_NEVER;
    if (l->on_idle) l->on_idle(l, l->idle_ctx);
    /* A socket call from a callback may have armed an earlier timer. */
    if (l->stack) {
        ts_time_t d = ts_stack_next_deadline(l->stack);
        if (d < next) next = d;
    }
    if (l->heap_n && l->slots[l->heap[0]].when < next) next = l->slots[l->heap[0]].when;
    return deadline < next ? deadline : next;
}

/* Hand one wait's events to their owners, then call the always-ready watches (regular
 * files, which epoll refuses): 0, or -errno on a fatal device error. */
static int dispatch(ts_loop *l, const struct epoll_event *evs, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag == TAG_TUN) {
            int r = read_batch(l);
            if (r < 0) return r;
        } else if (tag == TAG_SIG) {
            read_signals(l);
        } else if (tag - TAG_WATCH < l->nwatch) {
            watch *w = &l->watches[tag - TAG_WATCH];
            if (w->fn) w->fn(l, w->fd, evs[i].events, w->ctx);
        }
    }
    for (size_t i = 0; i < l->nwatch; i++) {
        watch *w = &l->watches[i];
        if (w->always_ready && w->fn && (w->events & EPOLLIN)) w->fn(l, w->fd, EPOLLIN, w->ctx);
    }
    return 0;
}

/* On the ring, the round's writes go with a batch of reads in one call, and what the
 * kernel answered to them at once (Linux's TCP runs inside our write: an ACK, a FIN, the
 * client's next SYN) is read without a wait. 1 if packets came (the burst is then held:
 * the loop goes round again without sleeping), 0 if not, -errno on a device error. */
static int ring_round(ts_loop *l, struct epoll_event *evs, int max)
{
    if (!l->ring || !ts_ring_pending(l->ring)) return 0;
    burst_hold(l);
    int got = read_batch(l);
    if (got <= 0) {
        burst_release(l); /* nothing came: nothing new to send either */
        return got;
    }
    /* A stream that never pauses would keep the loop here: look at the other descriptors
     * (signals, the caller's) at least once a millisecond. */
    if (ts_loop_clock() - l->looked >= TS_MSEC) {
        int n = wait_events(l, evs, max, 0);
        int r = n >= 0 ? dispatch(l, evs, n) : 0;
        if (r < 0) {
            burst_release(l);
            return r;
        }
    }
    return 1;
}

/* Wait up to timeout for events, polling for busy_poll first: their number, or -1 (errno
 * set). The poll reads the device itself: one system call a round, where asking epoll
 * first would put a second one between every packet and its answer (on this project's
 * VM, about 1 us each: 4% of a connect+close). Packets so read are handed on, with the
 * burst held, and 0 is returned; the other descriptors are looked at every POLL_LOOK
 * rounds, and at least once a millisecond however often packets come. */
static int wait_polled(ts_loop *l, struct epoll_event *evs, int max, ts_time_t now,
                       ts_time_t timeout)
{
    if (l->busy_poll && timeout != 0) {
        /* A peer that answers within microseconds (connect+close, an echo) would find us
         * asleep: on a VM, waking a halted vCPU costs more than polling. */
        ts_time_t end = now + (timeout < l->busy_poll ? timeout : l->busy_poll);
        for (unsigned round = 1;; round++) {
            if (round % POLL_LOOK != 0 && ts_loop_clock() - l->looked < TS_MSEC) {
                burst_hold(l);
                int got = read_batch(l);
                if (got > 0) return 0;
                burst_release(l);
                if (got < 0) {
                    errno = -got;
                    return -1;
                }
            } else {
                int n = wait_events(l, evs, max, 0);
                if (n != 0) return n;
            }
            if (ts_loop_clock() >= end) break;
        }
        if (timeout != TS_TIME_NEVER) {
            ts_time_t spent = ts_loop_clock() - now;
            timeout = spent >= timeout ? 0 : timeout - spent;
        }
    }
    return wait_events(l, evs, max, timeout);
}

int ts_loop_run(ts_loop *l, ts_time_t deadline)
{
    struct epoll_event evs[LOOP_MAX_WATCH + 2];
    const int max = (int)(sizeof evs / sizeof evs[0]);
    int r = 0;
    l->stop = false;
    burst_hold(l);
    while (!l->stop && r >= 0) {
        ring_check(l);
        ts_time_t next = run_due(l, ts_loop_clock(), deadline);
        if (l->stop) break;
        /* The burst ends before the loop waits: what this round's input, timers and
         * callbacks sent goes out now (on the ring, with the next reads). */
        l->defer_submit = l->ring != NULL;
        burst_release(l);
        l->defer_submit = false;
        int more = ring_round(l, evs, max);
        ts_time_t now = ts_loop_clock();
        if (more < 0) return more;
        if (deadline != TS_TIME_NEVER && now >= deadline) break;
        if (more > 0) continue;
        ts_time_t timeout = next == TS_TIME_NEVER ? TS_TIME_NEVER : next > now ? next - now : 0;
        for (size_t i = 0; i < l->nwatch; i++)
            if (l->watches[i].always_ready && l->watches[i].events) timeout = 0;
        int n = wait_polled(l, evs, max, now, timeout);
        if (n < 0 && errno != EINTR) return -errno;
        if (n >= 0) l->stats.wakeups++;
        burst_hold(l);
        if (n >= 0) r = dispatch(l, evs, n); /* none: the always-ready watches still */
    }
    burst_release(l);
    ring_submit(l); /* the deadline came before the wait */
    return r < 0 ? r : 0;
}
