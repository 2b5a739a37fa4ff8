/* tcp_conn.c: a connection's life: creation with the parameter block and policies, the
 * 4-tuple hash table, ephemeral ports, state changes, ISNs (RFC 6528) and the timer heap
 * (O(log n) per change; a connection sits in the heap keyed by its earliest timer). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- SipHash-2-4, the keyed hash behind ISNs and timestamp offsets ---- */

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = rotl(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = rotl(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = rotl(v2, 32);                                                                         \
    } while (0)

uint64_t ts_siphash(const uint64_t key[2], const void *data, size_t len)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ key[0], v1 = 0x646f72616e646f6dULL ^ key[1];
    uint64_t v2 = 0x6c7967656e657261ULL ^ key[0], v3 = 0x7465646279746573ULL ^ key[1];
    const uint8_t *p = data;
    size_t n = len;
    while (n >= 8) {
        uint64_t m = 0;
        for (int i = 7; i >= 0; i--) m = (m << 8) | p[i];
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
        p += 8;
        n -= 8;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < n; i++) b |= (uint64_t)p[i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static uint64_t tuple_hash(const ts_stack *s, const ts_conn *c, uint8_t salt)
{
    uint8_t t[13];
    wr32(t, c->local.addr);
    wr16(t + 4, c->local.port);
    wr32(t + 6, c->remote.addr);
    wr16(t + 10, c->remote.port);
    t[12] = salt;
    return ts_siphash(s->key, t, sizeof t);
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4-microsecond clock. */
uint32_t ts_isn(ts_stack *s, const ts_conn *c)
{
    if (c->p->isn_fixed) return c->p->isn;
    return (uint32_t)tuple_hash(s, c, 0) + (uint32_t)(s->now / 4);
}

/* ---- policies ---- */

int ts_conn_policies(ts_conn *c, char *err, size_t errlen)
{
    c->rto_ops = ts_rto_find(c->p->rto_policy);
    c->backoff_ops = ts_backoff_find(c->p->backoff_policy);
    c->delack_ops = ts_delack_find(c->p->delack_policy);
    c->cc_ops = ts_cc_find(c->p->cc);
    if (c->rto_ops && c->backoff_ops && c->delack_ops && c->cc_ops) return 0;
    if (err && errlen) {
        strncpy(err, "unknown policy name (rto_policy, backoff_policy, delack_policy or cc)",
                errlen - 1);
        err[errlen - 1] = 0;
    }
    return -1;
}

/* ---- creation and destruction ---- */

ts_conn *ts_conn_new(ts_stack *s, const ts_params *p, int *err)
{
    int dummy;
    if (!err) err = &dummy;
    *err = -EMFILE;
    if (s->nconns >= s->max_sockets) return NULL;
    *err = -ENOMEM;
    ts_conn *c = ts_mem_block(s, sizeof *c); /* counted: mem_conn_bytes */
    if (!c) return NULL;
    c->p = ts_mem_params_hold(p);
    *err = -EINVAL; /* cannot happen with validated parameters; said truthfully if it does */
    if (ts_conn_policies(c, NULL, 0) < 0) {
        ts_mem_params_drop(s, c->p);
        ts_mem_block_free(s, c, sizeof *c);
        return NULL;
    }
    *err = 0;
    c->id = ++s->next_conn_id;
    ts_conn_defaults(s, c);
    s->nconns++;
    s->cnt.conns_by_state[TS_CLOSED]++;
    ts_event ev = {.type = TS_EV_CONN_NEW};
    ts_emit_conn(s, c, &ev);
    return c;
}

void ts_conn_defaults(ts_stack *s, ts_conn *c)
{
    c->state = TS_CLOSED;
    c->sd = -1;
    c->hn.idx = UINT32_MAX;
    for (int k = 0; k < TS_NUM_TIMERS; k++) c->timer[k] = TS_TIME_NEVER;
    c->hn.deadline = TS_TIME_NEVER;
    c->rto = c->p->rto_init;
    c->ato = c->p->delack;
    c->local.addr = s->addr;
}

static void heap_remove(ts_stack *s, ts_conn *c);

/* Everything the connection holds, through mem.c so its counters stay exact. */
static void free_blocks(ts_stack *s, ts_conn *c)
{
    ts_mem_ring_free(s, &c->sndq);
    ts_mem_ring_free(s, &c->rcvq);
    ts_mem_block_free(s, c->hs, sizeof *c->hs);
    ts_mem_block_free(s, c->eor_mark, TS_EOR_MAX * sizeof *c->eor_mark);
    ts_mem_block_free(s, c->ooo, TS_OOO_MAX * sizeof *c->ooo);
    ts_mem_block_free(s, c->sb, TS_SACK_MAX * sizeof *c->sb);
    ts_mem_block_free(s, c->rxt, TS_RXT_MAX * sizeof *c->rxt);
    ts_mem_params_drop(s, c->p);
    ts_mem_block_free(s, c, sizeof *c);
}

void ts_conn_destroy(ts_stack *s, ts_conn *c)
{
    ts_event ev = {.type = TS_EV_CONN_FREE};
    ts_emit_conn(s, c, &ev);
    ts_conn_unhash(s, c);
    heap_remove(s, c);
    ts_port_drop(s, c);
    if (c->sd >= 0) s->socks[c->sd].conn = NULL; /* only at teardown */
    s->cnt.conns_by_state[c->state]--;
    s->nconns--;
    free_blocks(s, c);
}

/* A TIME-WAIT block took the connection's place (tcp_tw.c): it keeps the id, the count
 * in nconns and conns_by_state, and will say CONN_FREE itself. */
void ts_conn_free_quiet(ts_stack *s, ts_conn *c)
{
    ts_conn_unhash(s, c);
    heap_remove(s, c);
    ts_port_drop(s, c);
    free_blocks(s, c);
}

void ts_conn_release(ts_stack *s, ts_conn *c)
{
    if (c->dead) return;
    ts_conn_unhash(s, c);
    heap_remove(s, c);
    c->dead = true;
    c->free_next = s->free_head;
    s->free_head = c;
}

/* ---- the 4-tuple hash ---- */

static uint32_t bucket(const ts_stack *s, uint16_t lport, uint32_t raddr, uint16_t rport)
{
    return ts_tuple_hash(lport, raddr, rport) & s->hmask;
}

static void rehash(ts_stack *s)
{
    uint32_t nmask = s->hmask * 2 + 1;
    ts_conn **nt = calloc((size_t)nmask + 1, sizeof *nt);
    if (!nt) return; /* keep the old table: longer chains, still correct */
    uint32_t omask = s->hmask;
    ts_conn **ot = s->htab;
    s->htab = nt;
    s->hmask = nmask;
    for (uint32_t i = 0; i <= omask; i++) {
        for (ts_conn *c = ot[i], *n; c; c = n) {
            n = c->hnext;
            uint32_t b = bucket(s, c->local.port, c->remote.addr, c->remote.port);
            c->hnext = nt[b];
            nt[b] = c;
        }
    }
    free(ot);
}

void ts_conn_hash(ts_stack *s, ts_conn *c)
{
    if (c->hashed) return;
    if (s->hcount > s->hmask) rehash(s);
    uint32_t b = bucket(s, c->local.port, c->remote.addr, c->remote.port);
    c->hnext = s->htab[b];
    s->htab[b] = c;
    c->hashed = true;
    s->hcount++;
}

void ts_conn_unhash(ts_stack *s, ts_conn *c)
{
    if (!c->hashed) return;
    ts_conn **pp = &s->htab[bucket(s, c->local.port, c->remote.addr, c->remote.port)];
    while (*pp && *pp != c) pp = &(*pp)->hnext;
    if (*pp) *pp = c->hnext;
    c->hashed = false;
    s->hcount--;
}

ts_conn *ts_conn_lookup(ts_stack *s, uint16_t lport, uint32_t raddr, uint16_t rport)
{
    for (ts_conn *c = s->htab[bucket(s, lport, raddr, rport)]; c; c = c->hnext) {
        if (c->local.port == lport && c->remote.addr == raddr && c->remote.port == rport &&
            c->state != TS_LISTEN)
            return c;
    }
    return NULL;
}

/* A TIME-WAIT block (tcp_tw.c) or a request block (tcp_req.c), each in its own hash,
 * holds its 4-tuple as a connection would. */
bool ts_tuple_in_use(ts_stack *s, uint16_t lport, uint32_t raddr, uint16_t rport)
{
    return ts_conn_lookup(s, lport, raddr, rport) || ts_tw_find(s, lport, raddr, rport) ||
           ts_req_find(s, lport, raddr, rport);
}

/* Listeners are hashed with a zero remote endpoint. */
ts_conn *ts_listener_lookup(ts_stack *s, uint16_t lport)
{
    for (ts_conn *c = s->htab[bucket(s, lport, 0, 0)]; c; c = c->hnext) {
        if (c->local.port == lport && c->state == TS_LISTEN) return c;
    }
    return NULL;
}

/* ---- local ports ---- */

/* A port is taken for bind() while a listener or a socket bound to it (bind, listen,
 * connect; not an accepted child) holds it. Sockets are counted per port as they bind and
 * when they close, so the check costs one lookup however many sockets there are. */
void ts_port_hold(ts_stack *s, ts_conn *c)
{
    if (c->port_held || !c->bound || !c->local.port || c->sd < 0) return;
    if (!s->port_refs && !s->port_refs_lost) {
        s->port_refs = calloc(65536, sizeof *s->port_refs);
        s->port_refs_lost = !s->port_refs;
    }
    if (!s->port_refs) return; /* ts_port_in_use scans instead */
    s->port_refs[c->local.port]++;
    c->port_held = true;
}

void ts_port_drop(ts_stack *s, ts_conn *c)
{
    if (!c->port_held) return;
    s->port_refs[c->local.port]--;
    c->port_held = false;
}

bool ts_port_in_use(ts_stack *s, uint16_t lport)
{
    if (ts_listener_lookup(s, lport)) return true;
    if (s->port_refs) return s->port_refs[lport] > 0;
    if (!s->port_refs_lost) return false;      /* no socket has held a port yet */
    for (uint32_t i = 0; i < s->nsocks; i++) { /* no table: out of memory at the first bind */
        ts_conn *c = s->socks[i].conn;
        s->port_probes++;
        if (c && c->bound && c->local.port == lport) return true;
    }
    return false;
}

/* Linux's default range 32768..60999; start from a keyed hash of the destination plus a
 * counter. A search that had to step over taken ports moves the counter past them (as
 * Linux's table_perturb does), so that the next search for the destination starts beyond
 * the run it just crossed rather than crossing it again: sequential connects cost O(1)
 * each even when most of the range is held. */
uint16_t ts_ephemeral_port(ts_stack *s, uint32_t raddr, uint16_t rport)
{
    const uint32_t lo = 32768, n = 61000 - 32768;
    uint8_t t[6];
    wr32(t, raddr);
    wr16(t + 4, rport);
    uint32_t start = (uint32_t)ts_siphash(s->key, t, sizeof t) + s->port_hint++;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t port = (uint16_t)(lo + (start + i) % n);
        s->port_probes++;
        if (!ts_tuple_in_use(s, port, raddr, rport) && !ts_listener_lookup(s, port)) {
            s->port_hint = (uint16_t)(s->port_hint + i);
            return port;
        }
    }
    return 0;
}

/* ---- state ---- */

void ts_set_state(ts_stack *s, ts_conn *c, ts_state st)
{
    if (c->state == st) return;
    ts_event ev = {.type = TS_EV_STATE};
    ev.u.state.from = c->state;
    ev.u.state.to = st;
    s->cnt.conns_by_state[c->state]--;
    s->cnt.conns_by_state[st]++;
    c->state = st;
    ts_emit_conn(s, c, &ev);
    ts_mem_trim(s, c); /* FIN-WAIT-2, TIME-WAIT, CLOSED, ...: rings no longer needed go */
}

/* ---- a listener's two queues, doubly linked through the children's (and the request
 * blocks') q links ---- */

static ts_qlink **q_head(ts_conn *l, bool acceptq)
{
    return acceptq ? &l->aq_head : &l->sq_head;
}

static void q_unlink(ts_conn *l, ts_qlink *x, bool acceptq)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        *q_head(l, acceptq) = x->next;
    if (x->next)
        x->next->prev = x->prev;
    else if (acceptq)
        l->aq_tail = x->prev;
    x->next = x->prev = NULL;
}

void ts_conn_q_replace(ts_conn *l, ts_qlink *x, ts_qlink *y)
{
    y->prev = x->prev, y->next = x->next;
    if (y->prev)
        y->prev->next = y;
    else
        l->sq_head = y;
    if (y->next) y->next->prev = y;
    x->next = x->prev = NULL;
}

void ts_conn_q_unlink(ts_conn *l, ts_qlink *x)
{
    q_unlink(l, x, false);
    l->n_syn--;
}

void ts_conn_synq_add(ts_conn *l, ts_conn *c)
{
    c->q.prev = NULL;
    c->q.next = l->sq_head;
    if (l->sq_head) l->sq_head->prev = &c->q;
    l->sq_head = &c->q;
    l->n_syn++;
}

void ts_conn_to_acceptq(ts_conn *l, ts_conn *c)
{
    q_unlink(l, &c->q, false);
    l->n_syn--;
    l->n_acceptq++;
    c->in_accept_queue = true;
    c->q.prev = l->aq_tail;
    if (l->aq_tail)
        l->aq_tail->next = &c->q;
    else
        l->aq_head = &c->q;
    l->aq_tail = &c->q;
}

void ts_conn_unqueue(ts_conn *c)
{
    ts_conn *l = c->listener;
    q_unlink(l, &c->q, c->in_accept_queue);
    if (c->in_accept_queue)
        l->n_acceptq--;
    else
        l->n_syn--;
    c->in_accept_queue = false;
    c->listener = NULL;
}

/* Finish a connection: CLOSED, no timers, out of the hash. An orphan is freed; a socket
 * keeps its handle (in CLOSED) and is told. */
void ts_conn_done(ts_stack *s, ts_conn *c, int err)
{
    for (int k = 0; k < TS_NUM_TIMERS; k++) ts_timer_clear(s, c, (ts_timer_kind)k);
    ts_conn_unhash(s, c);
    ts_set_state(s, c, TS_CLOSED);
    if (err) {
        c->err = err;
        c->fatal = err;
    }
    if (c->listener) { /* an embryonic (SYN-ACK retries ran out, or reset) or unaccepted child */
        ts_conn_unqueue(c);
        c->orphan = true;
    }
    if (c->orphan || c->sd < 0)
        ts_conn_release(s, c);
    else
        ts_notify(s, c, TS_SOCK_CLOSED | TS_SOCK_READABLE | (err ? TS_SOCK_ERROR : 0));
}

/* ---- timers: a binary min-heap of connections (heap.c) ---- */

static void heap_remove(ts_stack *s, ts_conn *c)
{
    ts_heap_remove(&s->heap, &c->hn);
}

static void heap_update(ts_stack *s, ts_conn *c)
{
    ts_time_t d = TS_TIME_NEVER;
    for (int k = 0; k < TS_NUM_TIMERS; k++)
        if (c->timer[k] < d) d = c->timer[k];
    c->hn.deadline = d;
    if (d == TS_TIME_NEVER || c->dead) {
        heap_remove(s, c);
        return;
    }
    /* the timer is lost only if memory is gone entirely */
    if (c->hn.idx == UINT32_MAX && !ts_heap_reserve(&s->heap)) return;
    ts_heap_set(&s->heap, &c->hn);
}

/* Arm timer k for `when`; with the parameter hz, on the tick Linux would run it. */
void ts_timer_set(ts_stack *s, ts_conn *c, ts_timer_kind k, ts_time_t when)
{
    when = ts_tick_deadline(c, s->now, when);
    c->timer[k] = when;
    heap_update(s, c);
    ts_event ev = {.type = TS_EV_TIMER_SET};
    ev.u.timer.kind = k;
    ev.u.timer.when = when;
    ts_emit_conn(s, c, &ev);
}

void ts_timer_clear(ts_stack *s, ts_conn *c, ts_timer_kind k)
{
    if (c->timer[k] == TS_TIME_NEVER) return;
    c->timer[k] = TS_TIME_NEVER;
    heap_update(s, c);
    ts_event ev = {.type = TS_EV_TIMER_CANCEL};
    ev.u.timer.kind = k;
    ts_emit_conn(s, c, &ev);
}

/* Take the earliest timer due by now off the heap: the clock moves to its due time (never
 * backwards), TIMER_FIRE is emitted, and the connection is returned with *k its kind for
 * the caller (stack.c's poll) to run; NULL when none is due. */
ts_conn *ts_timer_next_due(ts_stack *s, ts_time_t now, ts_timer_kind *kind)
{
    ts_heap_node *top = ts_heap_top(&s->heap);
    if (!top || top->deadline > now) return NULL;
    ts_conn *c = (ts_conn *)(void *)((char *)top - offsetof(ts_conn, hn));
    int k = 0;
    for (int i = 1; i < TS_NUM_TIMERS; i++)
        if (c->timer[i] < c->timer[k]) k = i;
    ts_time_t due = c->timer[k];
    if (due > s->now) s->now = due; /* never run backwards */
    c->timer[k] = TS_TIME_NEVER;
    heap_update(s, c);
    ts_event ev = {.type = TS_EV_TIMER_FIRE};
    ev.u.timer.kind = (ts_timer_kind)k;
    ev.u.timer.when = due;
    ts_emit_conn(s, c, &ev);
    *kind = (ts_timer_kind)k;
    return c;
}
