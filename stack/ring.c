/* ring.c: the growable byte ring (see ring.h). */
#include "ring.h"

#include <stdlib.h>
#include <string.h>

uint32_t ts_ring_size_for(uint32_t need)
{
    uint32_t c = TS_RING_MIN;
    while (c < need && c < TS_RING_MAX) c <<= 1;
    return c < need ? 0 : c;
}

int ts_ring_reserve(ts_ring *r, uint32_t need)
{
    if (need <= r->cap) return 0;
    uint32_t ncap = ts_ring_size_for(need);
    if (!ncap) return -1;
    uint8_t *nb = malloc(ncap);
    if (!nb) return -1;
    uint32_t keep = r->hi > r->len ? r->hi : r->len; /* out-of-order bytes too */
    if (keep > r->cap) keep = r->cap;
    if (keep) ts_ring_get(r, 0, nb, keep);
    free(r->buf);
    r->buf = nb;
    r->cap = ncap;
    r->head = 0;
    return 0;
}

void ts_ring_put(ts_ring *r, uint32_t off, const void *src, uint32_t n)
{
    if (n == 0) return;
    if (off + n > r->hi) r->hi = off + n;
    uint32_t at = (r->head + off) & (r->cap - 1);
    uint32_t first = r->cap - at < n ? r->cap - at : n;
    memcpy(r->buf + at, src, first);
    if (n > first) memcpy(r->buf, (const uint8_t *)src + first, n - first);
}

void ts_ring_get(const ts_ring *r, uint32_t off, void *dst, uint32_t n)
{
    if (n == 0) return;
    uint32_t at = (r->head + off) & (r->cap - 1);
    uint32_t first = r->cap - at < n ? r->cap - at : n;
    memcpy(dst, r->buf + at, first);
    if (n > first) memcpy((uint8_t *)dst + first, r->buf, n - first);
}

void ts_ring_consume(ts_ring *r, uint32_t n)
{
    /* head only moves forward: out-of-order bytes past len keep their offsets */
    r->len -= n;
    r->hi = r->hi > n ? r->hi - n : 0;
    if (r->cap) r->head = (r->head + n) & (r->cap - 1);
}

void ts_ring_free(ts_ring *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}
