/* heap.h: a binary min-heap of deadlines, the stack's timer queues: the connections keyed
 * by their earliest timer (tcp_conn.c) with the request blocks by their SYN-ACK timer
 * (tcp_req.c), and the TIME-WAIT blocks by their 2MSL deadline (tcp_tw.c). An entry embeds
 * a ts_heap_node and knows its place in the array, so insert, removal and a changed
 * deadline cost O(log n), the earliest O(1), and nothing scans. */
#ifndef TS_HEAP_H
#define TS_HEAP_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpsim/types.h"

typedef struct ts_heap_node {
    ts_time_t deadline;
    uint32_t idx;  /* place in the heap, UINT32_MAX when not in it */
    uint8_t owner; /* what embeds it, where one heap holds two kinds (TS_HN_*, internal.h) */
} ts_heap_node;

typedef struct ts_heap {
    ts_heap_node **a;
    uint32_t n, cap;
} ts_heap;

/* Room for one more entry (doubling, never per change): false if memory ran out. */
bool ts_heap_reserve(ts_heap *h);
/* Put x in (ts_heap_reserve first), or move it after its deadline changed. */
void ts_heap_set(ts_heap *h, ts_heap_node *x);
/* Put y in x's place (x leaves, y takes its deadline and index): entries due at the same
 * instant keep their order, as if x had never been replaced. */
void ts_heap_replace(ts_heap *h, ts_heap_node *x, ts_heap_node *y);
/* Take x out; nothing if it is not in. */
void ts_heap_remove(ts_heap *h, ts_heap_node *x);
void ts_heap_free(ts_heap *h);

/* The entry with the earliest deadline (ties: whichever the heap holds on top), or NULL. */
static inline ts_heap_node *ts_heap_top(const ts_heap *h)
{
    return h->n ? h->a[0] : NULL;
}

static inline ts_time_t ts_heap_min(const ts_heap *h)
{
    return h->n ? h->a[0]->deadline : TS_TIME_NEVER;
}

#endif
