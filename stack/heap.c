/* heap.c: the binary min-heap of deadlines (see heap.h). */
#include "heap.h"

#include <stdlib.h>

static void swap(ts_heap *h, uint32_t a, uint32_t b)
{
    ts_heap_node *t = h->a[a];
    h->a[a] = h->a[b];
    h->a[b] = t;
    h->a[a]->idx = a;
    h->a[b]->idx = b;
}

static void up(ts_heap *h, uint32_t i)
{
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (h->a[p]->deadline <= h->a[i]->deadline) break;
        swap(h, i, p);
        i = p;
    }
}

static void down(ts_heap *h, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && h->a[l]->deadline < h->a[m]->deadline) m = l;
        if (r < h->n && h->a[r]->deadline < h->a[m]->deadline) m = r;
        if (m == i) break;
        swap(h, i, m);
        i = m;
    }
}

bool ts_heap_reserve(ts_heap *h)
{
    if (h->n < h->cap) return true;
    uint32_t ncap = h->cap ? h->cap * 2 : 64;
    ts_heap_node **na = realloc(h->a, ncap * sizeof *na);
    if (!na) return false;
    h->a = na;
    h->cap = ncap;
    return true;
}

void ts_heap_set(ts_heap *h, ts_heap_node *x)
{
    if (x->idx == UINT32_MAX) {
        x->idx = h->n;
        h->a[h->n++] = x;
    }
    /* only one of the two moves it: the rest of the heap is in order */
    up(h, x->idx);
    down(h, x->idx);
}

void ts_heap_replace(ts_heap *h, ts_heap_node *x, ts_heap_node *y)
{
    y->deadline = x->deadline;
    y->idx = x->idx;
    x->idx = UINT32_MAX;
    if (y->idx != UINT32_MAX) h->a[y->idx] = y;
}

void ts_heap_remove(ts_heap *h, ts_heap_node *x)
{
    uint32_t i = x->idx;
    if (i == UINT32_MAX) return;
    x->idx = UINT32_MAX;
    if (i == --h->n) return;
    h->a[i] = h->a[h->n];
    h->a[i]->idx = i;
    down(h, i);
    up(h, i);
}

void ts_heap_free(ts_heap *h)
{
    free(h->a);
    h->a = NULL;
    h->n = h->cap = 0;
}
