/* sim/evq.h: the simulator's event queue, a binary min-heap keyed by (time, priority,
 * insertion sequence). Ties in time resolve first by priority, then in the order events
 * were pushed, so a run is deterministic. Push and pop are O(log n); the array grows by
 * doubling and is never shrunk, so a steady-state run allocates nothing. */
#ifndef TS_SIM_EVQ_H
#define TS_SIM_EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tcpsim/types.h"

typedef struct ts_evq_entry {
    ts_time_t time;
    uint64_t order; /* priority in the top 8 bits, insertion sequence below */
    uint32_t kind;  /* what to do: meaning is the owner's */
    uint32_t arg;
    void *ptr;
} ts_evq_entry;

typedef struct ts_evq {
    ts_evq_entry *heap;
    size_t len, cap;
    uint64_t seq;
} ts_evq;

void ts_evq_init(ts_evq *q);
void ts_evq_free(ts_evq *q);
/* Push an event. prio 0..255, lower runs first among events of the same time.
 * Returns 0, or -1 if memory ran out. */
int ts_evq_push(ts_evq *q, ts_time_t time, unsigned prio, uint32_t kind, uint32_t arg, void *ptr);
/* Pop the earliest event into *out; false when empty. */
bool ts_evq_pop(ts_evq *q, ts_evq_entry *out);
/* Time of the earliest event, TS_TIME_NEVER when empty. */
ts_time_t ts_evq_next_time(const ts_evq *q);
static inline size_t ts_evq_len(const ts_evq *q)
{
    return q->len;
}

#endif
