/* mem.c: the core's memory per connection, counted exactly: every ring buffer's growth and
 * release and every connection block (ts_conn and its side blocks) go through here, so
 * the stack's counters (mem_ring_bytes, mem_rings, mem_ring_peak, mem_conn_bytes) say
 * what is held now, and the cap on the rings' bytes together (parameter mem_max, Linux's
 * tcp_mem[2]) is enforced in one place. A connection holds a ring only while it has bytes
 * to keep, and points at parameters it shares with others until its own are set
 * (docs/architecture.md, "Memory per connection"). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

/* The fault injection point (ts_stack.mem_refuse): true when this allocation is refused. */
static bool refused(ts_stack *s, size_t size)
{
    return s->mem_refuse && s->mem_refuse(s->mem_refuse_ctx, size);
}

static void ring_account(ts_stack *s, uint32_t cap0, uint32_t cap1)
{
    ts_counters *k = &s->cnt;
    k->mem_ring_bytes = k->mem_ring_bytes - cap0 + cap1;
    if (!cap0 && cap1) k->mem_rings++;
    if (cap0 && !cap1) k->mem_rings--;
    if (k->mem_ring_bytes > k->mem_ring_peak) k->mem_ring_peak = k->mem_ring_bytes;
}

/* The largest power of two at most n (0 for 0). */
static uint64_t pow2_floor(uint64_t n)
{
    uint64_t p = 1;
    if (!n) return 0;
    while (p <= n / 2) p <<= 1;
    return p;
}

uint32_t ts_mem_reach(const ts_stack *s, const ts_ring *r)
{
    uint64_t max = (uint64_t)s->defaults.mem_max * 1024;
    if (!max) return TS_RING_MAX;
    uint64_t others = s->cnt.mem_ring_bytes - r->cap;
    uint64_t reach = pow2_floor(max > others ? max - others : 0);
    /* every ring may hold its first page whatever the cap, as Linux guarantees a socket
     * tcp_rmem[0] and tcp_wmem[0] under pressure: a connection always makes progress */
    if (reach < TS_RING_MIN) reach = TS_RING_MIN;
    if (reach > TS_RING_MAX) reach = TS_RING_MAX;
    return reach > r->cap ? (uint32_t)reach : r->cap;
}

int ts_mem_reserve(ts_stack *s, ts_ring *r, uint32_t need)
{
    if (need <= r->cap) return 0;
    uint32_t want = ts_ring_size_for(need);
    uint32_t reach = ts_mem_reach(s, r);
    bool capped = !want || want > reach;
    if (capped) {
        s->cnt.mem_cap_hits++;
        if (reach <= r->cap) return -ENOBUFS;
        need = reach; /* as far as the cap lets it grow */
    }
    uint32_t cap0 = r->cap;
    if (refused(s, capped ? reach : want) || ts_ring_reserve(r, need) < 0) {
        s->cnt.mem_alloc_failed++;
        return -ENOMEM;
    }
    ring_account(s, cap0, r->cap);
    return capped ? -ENOBUFS : 0;
}

void ts_mem_ring_free(ts_stack *s, ts_ring *r)
{
    ring_account(s, r->cap, 0);
    ts_ring_free(r);
}

void *ts_mem_block(ts_stack *s, size_t size)
{
    void *p = refused(s, size) ? NULL : calloc(1, size);
    if (!p) {
        s->cnt.mem_alloc_failed++;
        return NULL;
    }
    s->cnt.mem_conn_bytes += size;
    return p;
}

void ts_mem_block_free(ts_stack *s, void *p, size_t size)
{
    if (!p) return;
    s->cnt.mem_conn_bytes -= size;
    free(p);
}

/* ---- parameter blocks ---- */

static ts_params_blk *blk_of(const ts_params *p)
{
    return (ts_params_blk *)(uintptr_t)p; /* p is the block's first member */
}

/* A block holding a copy of p, one reference (NULL, counted, when malloc refuses it). */
static ts_params_blk *blk_new(ts_stack *s, const ts_params *p)
{
    ts_params_blk *b = refused(s, sizeof *b) ? NULL : malloc(sizeof *b);
    if (!b) {
        s->cnt.mem_alloc_failed++;
        return NULL;
    }
    b->p = *p;
    b->refs = 1;
    b->counted = false;
    return b;
}

/* Connections made with the stack's defaults all point at one block: 100,000 of them
 * hold one copy of the parameters instead of 100,000 (336 bytes each). */
const ts_params *ts_mem_params_defaults(ts_stack *s)
{
    if (!s->dflt) s->dflt = blk_new(s, &s->defaults);
    return s->dflt ? &s->dflt->p : NULL;
}

const ts_params *ts_mem_params_own(ts_stack *s, const ts_params *p)
{
    ts_params_blk *b = blk_new(s, p);
    if (!b) return NULL;
    b->counted = true;
    s->cnt.mem_conn_bytes += sizeof *b;
    return &b->p;
}

const ts_params *ts_mem_params_hold(const ts_params *p)
{
    blk_of(p)->refs++;
    return p;
}

static void blk_drop(ts_stack *s, ts_params_blk *b)
{
    if (--b->refs) return;
    if (b->counted) s->cnt.mem_conn_bytes -= sizeof *b;
    free(b);
}

void ts_mem_params_drop(ts_stack *s, const ts_params *p)
{
    if (p) blk_drop(s, blk_of(p));
}

/* The defaults changed: new sockets get a new block; the connections made before keep
 * theirs, now counted as theirs. */
void ts_mem_params_defaults_changed(ts_stack *s)
{
    ts_params_blk *b = s->dflt;
    if (!b) return;
    s->dflt = NULL;
    if (b->refs > 1) {
        b->counted = true;
        s->cnt.mem_conn_bytes += sizeof *b;
    }
    blk_drop(s, b);
}

/* The send ring is needed until our FIN is queued with every byte before it ACKed; the
 * receive ring until it is read empty with nothing more to come: the peer's FIN reached,
 * or nobody to read (an orphan answers new data with a RST). TIME-WAIT and CLOSED need
 * neither, but bytes still unread stay readable: that ring goes when they are read. */
void ts_mem_trim(ts_stack *s, ts_conn *c)
{
    bool over = c->state == TS_TIME_WAIT || c->state == TS_CLOSED;
    if (c->sndq.buf && (over || (c->fin_queued && !c->sndq.len))) ts_mem_ring_free(s, &c->sndq);
    if (!c->rcvq.buf || c->rcvq.len) return;
    if (c->state == TS_CLOSED) {
        ts_mem_ring_free(s, &c->rcvq);
        c->ooo_n = 0; /* out-of-order bytes of a finished connection: never readable */
    } else if (!c->ooo_n && (over || c->fin_rcvd || c->orphan)) {
        ts_mem_ring_free(s, &c->rcvq);
    }
}
