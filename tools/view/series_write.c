/* series_write.c: the series writer (--series). The observer must read the connection's
 * variables at the event, so it fills the row there, into a ring made at open; a thread of
 * the writer's own formats the rows in order and writes them in 256 kB blocks. The run
 * pays for the reading alone while a second core is free; the output is the same bytes as
 * formatting in line, which is what happens when no thread can be started (or when the
 * environment sets TS_SERIES_SYNC, for tests and measurements). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "series.h"

#define RING_ROWS 16384 /* about 2.3 MB of rows: room for the writer to fall behind */
#define OUT_BUF   (256 * 1024)
#define PUBLISH   64   /* rows put between two publications of the count */
#define TAKEN     1024 /* rows the writer takes between two publications of its count */
#define LINE      64   /* a cache line: what the two threads share is kept on lines apart */

_Static_assert((RING_ROWS & (RING_ROWS - 1)) == 0 && RING_ROWS % PUBLISH == 0,
               "a power of two, in whole publications");

/* What only the observer's thread touches, what only the writer's thread touches, and
 * the two counters each publishes to the other, each on lines of its own: a line written
 * by one core and read by the other moves between them at every write. */
struct ts_series {
    /* the observer's */
    ts_time_t t0;
    bool threaded;
    bool all; /* TS_SERIES_ALL: no row left out */
    bool have_last;
    ts_series_row last; /* without the thread: the row written last */
    ts_series_row *ring;
    size_t put;       /* rows put */
    size_t tail_seen; /* the writer's count as last read */
    char pad0[LINE];
    /* published by the observer (release), read by the writer (acquire) */
    atomic_size_t head; /* rows put, as of the last publication */
    char pad1[LINE - sizeof(atomic_size_t)];
    /* published by the writer */
    atomic_size_t tail; /* rows taken */
    char pad2[LINE - sizeof(atomic_size_t)];
    atomic_bool sleeping; /* the writer waits for rows */
    atomic_bool waiting;  /* the observer waits for room */
    atomic_bool closing;
    pthread_mutex_t mu;
    pthread_cond_t wake, room;
    pthread_t thread;
    char pad3[LINE];
    /* the writer's (the observer's after the thread is joined, or without one) */
    FILE *f;
    ts_series_fmt *fmt;
    bool failed;
    int err_no;
    size_t used;
    char *out; /* OUT_BUF bytes */
};

static void flush_out(ts_series *w)
{
    if (w->used && !w->failed && fwrite(w->out, 1, w->used, w->f) != w->used) {
        w->failed = true;
        w->err_no = errno;
    }
    w->used = 0;
}

static void write_row(ts_series *w, const ts_series_row *r)
{
    if (w->used > OUT_BUF - TS_SERIES_LINE_MAX) flush_out(w);
    w->used += ts_series_fmt_row(w->fmt, r, w->out + w->used);
}

static void signal_if(ts_series *w, atomic_bool *flag, pthread_cond_t *cond)
{
    if (!atomic_load(flag)) return;
    pthread_mutex_lock(&w->mu);
    pthread_cond_signal(cond);
    pthread_mutex_unlock(&w->mu);
}

/* Sleep until woken or a millisecond passed. */
static void writer_nap(ts_series *w, size_t tail)
{
    pthread_mutex_lock(&w->mu);
    atomic_store(&w->sleeping, true);
    if (atomic_load(&w->head) == tail && !atomic_load(&w->closing)) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 1000000;
        if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&w->wake, &w->mu, &until);
    }
    atomic_store(&w->sleeping, false);
    pthread_mutex_unlock(&w->mu);
}

/* The writer's thread: take the rows published, in order, format, write; nap when there
 * are none. The observer publishes its count every PUBLISH rows and wakes the writer only
 * when the ring is half full (a wake-up costs system calls on both sides); the writer
 * wakes by itself every millisecond, so it takes rows in batches of thousands. */
static void *writer_main(void *arg)
{
    ts_series *w = arg;
    const ts_series_row *ring = w->ring; /* its line is the observer's: read it once */
    size_t tail = 0;
    for (;;) {
        size_t head = atomic_load_explicit(&w->head, memory_order_acquire);
        if (head == tail) {
            if (atomic_load(&w->closing) && atomic_load(&w->head) == tail) break;
            writer_nap(w, tail);
            continue;
        }
        while (tail != head) {
            write_row(w, &ring[tail & (RING_ROWS - 1)]);
            if (++tail % TAKEN == 0) atomic_store_explicit(&w->tail, tail, memory_order_release);
        }
        atomic_store(&w->tail, tail); /* sequentially consistent: then reads `waiting` */
        signal_if(w, &w->waiting, &w->room);
    }
    return NULL;
}

static bool start_thread(ts_series *w)
{
    w->ring = malloc(RING_ROWS * sizeof *w->ring);
    if (!w->ring) return false;
    if (pthread_mutex_init(&w->mu, NULL)) goto no_mutex;
    if (pthread_cond_init(&w->wake, NULL)) goto no_wake;
    if (pthread_cond_init(&w->room, NULL)) goto no_room;
    /* The thread takes no signals: they stay the runner's (tun's SIGINT, its signalfd). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int e = pthread_create(&w->thread, NULL, writer_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e) goto no_thread;
    return true;
no_thread:
    pthread_cond_destroy(&w->room);
no_room:
    pthread_cond_destroy(&w->wake);
no_wake:
    pthread_mutex_destroy(&w->mu);
no_mutex:
    free(w->ring);
    w->ring = NULL;
    return false;
}

ts_series *ts_series_open(const char *path, ts_time_t t0, ts_series_rows rows, char *err,
                          size_t errlen)
{
    ts_series_format fmt;
    if (ts_series_format_from_name(path, &fmt) < 0) {
        snprintf(err, errlen, "--series %s: name the file .csv or .jsonl, e.g. --series run.csv",
                 path);
        return NULL;
    }
    ts_series *w = calloc(1, sizeof *w);
    if (w) w->out = malloc(OUT_BUF);
    if (w && w->out) w->fmt = ts_series_fmt_new(fmt);
    if (!w || !w->out || !w->fmt) {
        snprintf(err, errlen, "--series %s: out of memory", path);
        goto fail;
    }
    w->f = fopen(path, "wb");
    if (!w->f) {
        snprintf(err, errlen, "--series %s: %s", path, strerror(errno));
        goto fail;
    }
    setvbuf(w->f, NULL, _IONBF, 0); /* our own buffer is the only one */
    w->t0 = t0;
    w->all = rows == TS_SERIES_ALL;
    const char *h = ts_series_header(fmt);
    w->used = strlen(h);
    memcpy(w->out, h, w->used);
    w->threaded = !getenv("TS_SERIES_SYNC") && start_thread(w);
    return w;
fail:
    if (w) {
        ts_series_fmt_free(w->fmt);
        free(w->out);
    }
    free(w);
    return NULL;
}

/* The ring is full: publish what was put and wait for the writer to take some. */
static void wait_room(ts_series *w)
{
    atomic_store_explicit(&w->head, w->put, memory_order_release);
    pthread_mutex_lock(&w->mu);
    atomic_store(&w->waiting, true);
    pthread_cond_signal(&w->wake);
    while (w->put - (w->tail_seen = atomic_load(&w->tail)) == RING_ROWS)
        pthread_cond_wait(&w->room, &w->mu);
    atomic_store(&w->waiting, false);
    pthread_mutex_unlock(&w->mu);
}

void ts_series_event(ts_series *w, ts_stack *s, const char *host, const ts_event *ev)
{
    if (!w->threaded) {
        ts_series_row r;
        ts_series_fill(&r, s, host, ev, w->t0);
        if (!w->all && ts_series_repeats(w->have_last ? &w->last : NULL, &r)) return;
        write_row(w, &r);
        w->last = r;
        w->have_last = true;
        return;
    }
    size_t put = w->put;
    if (put - w->tail_seen == RING_ROWS &&
        put - (w->tail_seen = atomic_load_explicit(&w->tail, memory_order_acquire)) == RING_ROWS)
        wait_room(w);
    ts_series_row *r = &w->ring[put & (RING_ROWS - 1)];
    ts_series_fill(r, s, host, ev, w->t0);
    /* A row left out is not put: the next event's fills the same slot, its lines still
     * here. The row before stays in the ring until this one is put. */
    if (!w->all && ts_series_repeats(put ? &w->ring[(put - 1) & (RING_ROWS - 1)] : NULL, r)) return;
    w->put = ++put;
    if (put % PUBLISH) return;
    atomic_store_explicit(&w->head, put, memory_order_release);
    if (put - w->tail_seen >= RING_ROWS / 2) {
        w->tail_seen = atomic_load_explicit(&w->tail, memory_order_acquire);
        if (put - w->tail_seen >= RING_ROWS / 2) signal_if(w, &w->sleeping, &w->wake);
    }
}

int ts_series_close(ts_series *w, char *err, size_t errlen)
{
    if (!w) return 0;
    if (w->threaded) {
        atomic_store_explicit(&w->head, w->put, memory_order_release);
        pthread_mutex_lock(&w->mu);
        atomic_store(&w->closing, true);
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
        pthread_cond_destroy(&w->room);
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->mu);
    }
    flush_out(w);
    int rc = 0;
    if (fclose(w->f) != 0 && !w->failed) {
        w->failed = true;
        w->err_no = errno;
    }
    if (w->failed) {
        snprintf(err, errlen, "--series: writing failed: %s", strerror(w->err_no));
        rc = -1;
    }
    ts_series_fmt_free(w->fmt);
    free(w->ring);
    free(w->out);
    free(w);
    return rc;
}
