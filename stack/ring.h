/* ring.h: a growable byte ring for a connection's send and receive streams. Capacity is a
 * power of two so offsets wrap with a mask; it grows (by doubling, never per packet) up to
 * a limit, and bytes may be written at an offset past the end (out-of-order data). */
#ifndef TS_RING_H
#define TS_RING_H

#include <stdint.h>

#define TS_RING_MIN 4096u      /* the smallest capacity: one page */
#define TS_RING_MAX (1u << 31) /* the largest */

typedef struct ts_ring {
    uint8_t *buf;
    uint32_t cap;  /* 0 or a power of two */
    uint32_t head; /* index of the first byte */
    uint32_t len;  /* bytes held from head */
    uint32_t hi;   /* bytes from head ever put (len and out-of-order data): what growth copies */
} ts_ring;

/* Make room for `need` bytes counted from head (len included); 0, or -1 if memory ran out.
 * Bytes put beyond len (out-of-order data) are kept; growth copies only the bytes put, not
 * the whole old capacity, so a reserved but unused window costs no copying and no pages. */
int ts_ring_reserve(ts_ring *r, uint32_t need);
/* The capacity ts_ring_reserve gives for `need` bytes (a power of two, at least
 * TS_RING_MIN), or 0 if no capacity can hold them. */
uint32_t ts_ring_size_for(uint32_t need);
/* Copy n bytes to offset off from head (off + n <= cap). Does not change len. */
void ts_ring_put(ts_ring *r, uint32_t off, const void *src, uint32_t n);
/* Copy n bytes from offset off (off + n <= cap) to dst. */
void ts_ring_get(const ts_ring *r, uint32_t off, void *dst, uint32_t n);
/* Drop n bytes from the front (n <= len). */
void ts_ring_consume(ts_ring *r, uint32_t n);
void ts_ring_free(ts_ring *r);

#endif
