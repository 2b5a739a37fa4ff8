/* sim/evq.c: binary min-heap of simulator events (see evq.h). */
#include "evq.h"

#include <stdlib.h>

void ts_evq_init(ts_evq *q)
{
    q->heap = NULL;
    q->len = q->cap = 0;
    q->seq = 0;
}

void ts_evq_free(ts_evq *q)
{
    free(q->heap);
    ts_evq_init(q);
}

static inline bool before(const ts_evq_entry *a, const ts_evq_entry *b)
{
    return a->time < b->time || (a->time == b->time && a->order < b->order);
}

int ts_evq_push(ts_evq *q, ts_time_t time, unsigned prio, uint32_t kind, uint32_t arg, void *ptr)
{
    if (q->len == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 256;
        ts_evq_entry *n = realloc(q->heap, ncap * sizeof *n);
        if (!n) return -1;
        q->heap = n;
        q->cap = ncap;
    }
    ts_evq_entry e = {time, ((uint64_t)(prio & 0xff) << 56) | (q->seq++ & ((1ull << 56) - 1)), kind,
                      arg, ptr};
    /* Sift up: move parents down until e's place is found. */
    size_t i = q->len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&e, &q->heap[parent])) break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = e;
    return 0;
}

bool ts_evq_pop(ts_evq *q, ts_evq_entry *out)
{
    if (q->len == 0) return false;
    *out = q->heap[0];
    ts_evq_entry last = q->heap[--q->len];
    size_t n = q->len, i = 0;
    /* Sift down the former last element from the root. */
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(&q->heap[c + 1], &q->heap[c])) c++;
        if (!before(&q->heap[c], &last)) break;
        q->heap[i] = q->heap[c];
        i = c;
    }
    if (n > 0) q->heap[i] = last;
    return true;
}

ts_time_t ts_evq_next_time(const ts_evq *q)
{
    return q->len ? q->heap[0].time : TS_TIME_NEVER;
}
