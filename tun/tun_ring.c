/* tun_ring.c: the device's reads and writes in batches through io_uring (liburing).
 * Without offloads every packet is one read() or write() on the TUN descriptor, and on a
 * virtual machine a system call is the dearest part of it (about 1 us here, against the
 * kernel's own 1-2 us of work per packet). The ring turns a wake-up's reads and a burst's
 * writes into one io_uring_enter each.
 *
 * Writes are queued (their gather lists, and the headers the caller rebuilds for the next
 * write, copied into the ring's own pools) and submitted together; the packets themselves
 * must stay where they are until the submit, which the loop's burst mode guarantees.
 * Reads are a batch of RWF_NOWAIT reads, one buffer each, submitted behind the queued
 * writes: the kernel runs them in order at the submit, and those that find the queue
 * empty end at once with EAGAIN instead of waiting. The batch grows while every read
 * brings a packet and shrinks when most come back empty. Completions are gathered before
 * any packet is handed on, because handing one on can queue (and submit) writes.
 *
 * A ring that fails (a submit refused, or a kernel whose TUN device takes no RWF_NOWAIT
 * I/O: before Linux 6.4 such reads end with EOPNOTSUPP) says why in ts_ring_broken and
 * from then on takes nothing; its queued writes are dropped unsubmitted (counted), and
 * the loop goes on with read() and write(). */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tun.h"

#define RING_ENTRIES  256 /* submission queue: writes queued before a submit is forced */
#define RING_IOVS     4096
#define RING_COPY_MAX 128 /* a virtio_net_hdr and a super-segment's rebuilt headers */
#define READ_TAG      (1ull << 63)

typedef struct ring_write {
    uint8_t copy[RING_COPY_MAX]; /* the write's first bytes, copied at queueing */
    uint32_t len;                /* bytes the write must take */
} ring_write;

struct ts_ring {
    struct io_uring u;
    int fd; /* the device: a registered file's index (0) when sqe_flags says so */
    uint8_t sqe_flags;
    unsigned nw, niov; /* writes queued, iovecs of the pool in use */
    unsigned nread;    /* this wake-up's read batch */
    size_t slot;       /* bytes per read buffer */
    uint8_t *rbuf;     /* TS_RING_READS_MAX buffers */
    char broken[96];   /* why the ring failed, or "" */
    ring_write w[RING_ENTRIES];
    struct iovec iov[RING_IOVS];
    struct {
        uint64_t tag;
        int res;
    } done[RING_ENTRIES + TS_RING_READS_MAX];
};

ts_ring *ts_ring_create(int fd, size_t slot, char *err, size_t errlen)
{
    ts_ring *r = calloc(1, sizeof *r);
    /* Pages of the read buffers become resident only as packets are read into them. */
    uint8_t *rbuf = calloc(TS_RING_READS_MAX, slot);
    if (!r || !rbuf) {
        free(r);
        free(rbuf);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* One thread submits, and every completion is waited for in the submit itself:
     * Linux 6.1's single-issuer ring with deferred task work skips the locking and the
     * interrupts for both. Refused by an older kernel: a plain ring. */
    unsigned entries = RING_ENTRIES + TS_RING_READS_MAX;
    int e = io_uring_queue_init(entries, &r->u,
                                IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
    if (e == -EINVAL) e = io_uring_queue_init(entries, &r->u, 0);
    if (e < 0) {
        snprintf(err, errlen, "io_uring: %s", strerror(-e));
        free(r);
        free(rbuf);
        return NULL;
    }
    r->fd = fd;
    /* The device as a registered file: no look-up of the descriptor per request. */
    if (io_uring_register_files(&r->u, &fd, 1) == 0) {
        r->fd = 0;
        r->sqe_flags = IOSQE_FIXED_FILE;
    }
    r->slot = slot;
    r->rbuf = rbuf;
    r->nread = 8;
    return r;
}

void ts_ring_destroy(ts_ring *r)
{
    if (!r) return;
    /* The ring's own teardown is asynchronous and would let go of a registered device
     * after we return: the device (and its name) would outlive the process's close of
     * it. Unregistered here, it goes when its descriptor is closed, as without the ring. */
    if (r->sqe_flags & IOSQE_FIXED_FILE) io_uring_unregister_files(&r->u);
    io_uring_queue_exit(&r->u);
    free(r->rbuf);
    free(r);
}

bool ts_ring_pending(const ts_ring *r)
{
    return r->nw > 0;
}

const char *ts_ring_broken(const ts_ring *r)
{
    return r->broken[0] ? r->broken : NULL;
}

static void set_broken(ts_ring *r, const char *what, int e)
{
    if (!r->broken[0]) snprintf(r->broken, sizeof r->broken, "io_uring %s: %s", what, strerror(e));
}

/* The completions there are into done[] from got on; the new count. */
static unsigned reap(ts_ring *r, unsigned got)
{
    unsigned head, n = 0;
    struct io_uring_cqe *cqe;
    io_uring_for_each_cqe(&r->u, head, cqe)
    {
        if (got == sizeof r->done / sizeof r->done[0]) break;
        r->done[got].tag = cqe->user_data;
        r->done[got++].res = cqe->res;
        n++;
    }
    io_uring_cq_advance(&r->u, n);
    return got;
}

/* Submit everything queued (want entries) and wait for all of it; the completions into
 * done[]. Returns their number, or -errno with the ring broken. The writes and RWF_NOWAIT
 * reads end during the submit itself, so the wait does not sleep. */
static int submit_all(ts_ring *r, unsigned want)
{
    int e;
    do e = io_uring_submit_and_wait(&r->u, want);
    while (e == -EINTR);
    /* Refused, or a prefix taken (an entry the kernel could not prepare): what is left
     * queued must never go out later, when the bytes it points to are another burst's. */
    if (e < 0 || (unsigned)e != want) {
        set_broken(r, "submit", e < 0 ? -e : EIO);
        r->nw = r->niov = 0;
        return e < 0 ? e : -EIO;
    }
    unsigned got = reap(r, 0);
    while (got < want) { /* a signal cut the wait short: the rest are still in flight */
        struct io_uring_cqe *cqe;
        e = io_uring_wait_cqe_nr(&r->u, &cqe, want - got);
        if (e < 0 && e != -EINTR) {
            set_broken(r, "wait", -e);
            break;
        }
        got = reap(r, got);
    }
    r->nw = r->niov = 0;
    return (int)got;
}

/* Count the writes among the first n completions into t. */
static void tally_writes(ts_ring *r, int n, ts_ring_tally *t)
{
    for (int i = 0; i < n; i++) {
        if (r->done[i].tag & READ_TAG) continue;
        const ring_write *w = &r->w[r->done[i].tag];
        int res = r->done[i].res;
        if (res == (int)w->len) {
            t->pkts++;
            t->bytes += w->len;
        } else {
            t->errors++;
            if (res == -EOPNOTSUPP || res == -EINVAL) set_broken(r, "write", -res);
        }
    }
    t->submits++;
}

int ts_ring_submit(ts_ring *r, ts_ring_tally *t)
{
    if (!r->nw) return 0;
    unsigned want = r->nw;
    int n = submit_all(r, want);
    if (n < 0) {
        t->errors += want; /* the packets are lost; TCP resends them */
        return n;
    }
    tally_writes(r, n, t);
    return 0;
}

void ts_ring_writev(ts_ring *r, const struct iovec *copy, int ncopy, const struct iovec *ref,
                    int nref, size_t len, ts_ring_tally *t)
{
    size_t ncopied = 0;
    for (int i = 0; i < ncopy; i++) ncopied += copy[i].iov_len;
    if (ncopied > RING_COPY_MAX || nref < 0 || (size_t)nref + 1 > RING_IOVS || r->broken[0]) {
        t->errors++;
        return;
    }
    if (r->nw >= RING_ENTRIES || r->niov + (unsigned)nref + 1 > RING_IOVS) ts_ring_submit(r, t);
    struct io_uring_sqe *sqe = r->broken[0] ? NULL : io_uring_get_sqe(&r->u);
    if (!sqe) {
        t->errors++;
        return;
    }
    ring_write *w = &r->w[r->nw];
    struct iovec *v = &r->iov[r->niov];
    int nv = 0;
    if (ncopied) {
        size_t at = 0;
        for (int i = 0; i < ncopy; i++) {
            memcpy(w->copy + at, copy[i].iov_base, copy[i].iov_len);
            at += copy[i].iov_len;
        }
        v[nv++] = (struct iovec){w->copy, ncopied};
    }
    memcpy(&v[nv], ref, (size_t)nref * sizeof *ref);
    nv += nref;
    w->len = (uint32_t)len;
    io_uring_prep_writev(sqe, r->fd, v, (unsigned)nv, 0);
    sqe->flags |= r->sqe_flags;
    /* A device that cannot take it now refuses (a lost packet, as write() on the
     * non-blocking descriptor would): waiting for room would stall the whole loop. */
    sqe->rw_flags = RWF_NOWAIT;
    io_uring_sqe_set_data64(sqe, r->nw);
    r->nw++;
    r->niov += (unsigned)nv;
}

/* Queue up to the batch's reads behind the writes; how many. */
static unsigned queue_reads(ts_ring *r)
{
    unsigned i;
    for (i = 0; i < r->nread; i++) {
        /* Room is always there (the queue holds RING_ENTRIES writes and a batch). */
        struct io_uring_sqe *sqe = io_uring_get_sqe(&r->u);
        if (!sqe) break;
        io_uring_prep_read(sqe, r->fd, r->rbuf + i * r->slot, (unsigned)r->slot, 0);
        sqe->flags |= r->sqe_flags;
        sqe->rw_flags = RWF_NOWAIT;
        io_uring_sqe_set_data64(sqe, READ_TAG | i);
    }
    return i;
}

int ts_ring_read(ts_ring *r, ts_ring_tally *t, ts_ring_read_fn fn, void *ctx)
{
    if (r->broken[0]) return 0;
    unsigned writes = r->nw, nread = queue_reads(r);
    int n = submit_all(r, writes + nread);
    if (n < 0) {
        t->errors += writes; /* dropped unsubmitted: TCP resends them */
        return 0;
    }
    tally_writes(r, n, t);
    /* Copied out first: a packet handed on may queue writes, whose submit reuses done[]. */
    unsigned slot[TS_RING_READS_MAX];
    int res[TS_RING_READS_MAX], nr = 0, got = 0, fatal = 0;
    for (int i = 0; i < n && nr < TS_RING_READS_MAX; i++)
        if (r->done[i].tag & READ_TAG) {
            slot[nr] = (unsigned)(r->done[i].tag & ~READ_TAG);
            res[nr++] = r->done[i].res;
        }
    for (int i = 0; i < nr; i++) {
        if (res[i] > 0) {
            got++;
            fn(ctx, r->rbuf + (size_t)slot[i] * r->slot, (size_t)res[i]);
        } else if (res[i] == 0) {
            fatal = -EIO;
        } else if (res[i] == -EOPNOTSUPP || res[i] == -EINVAL) {
            set_broken(r, "read", -res[i]); /* a TUN device before Linux 6.4 */
        } else if (res[i] != -EAGAIN && res[i] != -EINTR && !fatal) {
            fatal = res[i];
        }
    }
    /* Double while every read brought a packet; else about twice what came. */
    if (!writes && !got && !fatal) t->empty++;
    unsigned next = (unsigned)got == nread ? 2 * nread : 2 * (unsigned)got;
    r->nread = next < 2 ? 2 : next > TS_RING_READS_MAX ? TS_RING_READS_MAX : next;
    return fatal ? fatal : got;
}

unsigned ts_ring_batch(const ts_ring *r)
{
    return r->nread;
}
