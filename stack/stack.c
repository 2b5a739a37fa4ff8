/* stack.c: the core's entry points: creating the stack, the IPv4 input path (RFC 791
 * validation, then dispatch to TCP or ICMP), poll (due timers), and the deferred work
 * (readiness callbacks, freeing connections, ending an output burst) that runs when a
 * top-level call finishes.
 * The top floor but one (docs/architecture.md): only socket.c stands above it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void ts_stack_config_init(ts_stack_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    ts_params_default(&cfg->params);
    cfg->seed = 1;
    cfg->ttl = 64;
    cfg->max_sockets = 65536;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) {
        strncpy(err, msg, errlen - 1);
        err[errlen - 1] = 0;
    }
}

/* The checks ts_stack_create makes: ranges and order, then that every policy is known. */
static int check_params(const ts_params *p, char *err, size_t errlen)
{
    if (ts_params_validate(p, err, errlen) < 0) return -EINVAL;
    ts_conn probe = {.p = p};
    if (ts_conn_policies(&probe, err, errlen) < 0) return -EINVAL;
    return 0;
}

ts_stack *ts_stack_create(const ts_stack_config *cfg, char *err, size_t errlen)
{
    if (!cfg->output) {
        set_err(err, errlen, "no output callback given");
        return NULL;
    }
    if (check_params(&cfg->params, err, errlen) < 0) return NULL;
    ts_stack *s = calloc(1, sizeof *s);
    if (!s) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    s->addr = cfg->addr;
    s->seed = cfg->seed;
    s->ttl = cfg->ttl ? cfg->ttl : 64;
    s->defaults = cfg->params;
    s->output = cfg->output;
    s->output_ctx = cfg->output_ctx;
    s->event = cfg->event;
    s->event_ctx = cfg->event_ctx;
    s->max_sockets = cfg->max_sockets ? cfg->max_sockets : 65536;
    /* Derive the hash key from the seed (RFC 6528's secret). */
    uint64_t z = cfg->seed;
    for (int i = 0; i < 2; i++) {
        z += 0x9e3779b97f4a7c15ULL;
        uint64_t x = z;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        s->key[i] = x ^ (x >> 31);
    }
    s->port_hint = (uint16_t)(s->key[0] >> 16);
    s->ip_id = (uint32_t)s->key[1];
    s->hmask = 255;
    s->htab = calloc(s->hmask + 1, sizeof *s->htab);
    /* Written before it is read: no clearing. Burst mode: the arena, and room for one
     * more packet of any size beyond it. */
    if (cfg->flush) {
        s->flush = cfg->flush;
        s->arena_cap = cfg->burst_bytes ? cfg->burst_bytes : 256 * 1024;
        if (s->arena_cap <= SIZE_MAX - TS_MAX_PKT - 64)
            s->arena = malloc(s->arena_cap + TS_MAX_PKT + 64);
        s->pkt = s->arena;
    } else {
        s->pkt = malloc(TS_MAX_PKT + 64);
    }
    if (!s->htab || !s->pkt) {
        free(s->htab);
        free(s->pkt); /* the arena, if burst mode */
        free(s);
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    s->free_sock = UINT32_MAX;
    return s;
}

void ts_stack_destroy(ts_stack *s)
{
    if (!s) return;
    ts_req_destroy_all(s); /* first: request blocks' children back in the table */
    for (uint32_t i = 0; i <= s->hmask; i++) {
        while (s->htab[i]) ts_conn_destroy(s, s->htab[i]);
    }
    for (uint32_t i = 0; i < s->nsocks; i++) {
        if (s->socks[i].conn) ts_conn_destroy(s, s->socks[i].conn);
    }
    while (s->free_head) {
        ts_conn *c = s->free_head;
        s->free_head = c->free_next;
        c->dead = false;
        ts_conn_destroy(s, c);
    }
    ts_tw_destroy_all(s);
    ts_mem_params_defaults_changed(s); /* the last reference now: freed */
    free(s->htab);
    free(s->port_refs);
    free(s->arena ? s->arena : s->pkt); /* in burst mode pkt points into the arena */
    ts_heap_free(&s->heap);
    free(s->socks);
    free(s);
}

void ts_stack_set_event_fn(ts_stack *s, ts_event_fn fn, void *ctx)
{
    s->event = fn;
    s->event_ctx = ctx;
}

ts_time_t ts_stack_now(const ts_stack *s)
{
    return s->now;
}
uint32_t ts_stack_addr(const ts_stack *s)
{
    return s->addr;
}
const ts_counters *ts_stack_counters(const ts_stack *s)
{
    return &s->cnt;
}
const ts_params *ts_stack_params(const ts_stack *s)
{
    return &s->defaults;
}

int ts_stack_set_params(ts_stack *s, const ts_params *p, char *err, size_t errlen)
{
    int rc = check_params(p, err, errlen);
    if (rc == 0) {
        s->defaults = *p;
        ts_mem_params_defaults_changed(s); /* connections keep what they were made with */
    }
    return rc;
}

ts_time_t ts_stack_next_deadline(const ts_stack *s)
{
    ts_time_t d = ts_heap_min(&s->heap), tw = ts_tw_next_deadline(s);
    return tw < d ? tw : d;
}

/* Validate the IPv4 header (RFC 791, RFC 1122 3.2.1) and hand the payload on. */
void ts_stack_input(ts_stack *s, ts_time_t now, const uint8_t *pkt, size_t len)
{
    ts_enter(s);
    if (now > s->now) s->now = now;
    s->cnt.ip_in++;
    ts_ip4_view ip;
    ts_wire_err e = ts_ip4_view_parse(&ip, pkt, len);
    if (e != TS_WIRE_OK)
        ts_drop(s, ts_wire_drop_reason(e), pkt, len);
    else if (!ts_ip4_csum_ok(&ip))
        ts_drop(s, TS_DROP_IP_CHECKSUM, pkt, len);
    else if (ip.dst != s->addr)
        ts_drop(s, TS_DROP_IP_DEST, pkt, len);
    else if (ts_ip4_is_fragment(&ip)) /* fragments are not reassembled */
        ts_drop(s, TS_DROP_IP_FRAGMENT, pkt, len);
    else if (ip.proto == TS_IPPROTO_TCP)
        ts_tcp_input(s, &ip);
    else if (ip.proto == TS_IPPROTO_ICMP)
        ts_icmp_input(s, ip.src, ip.payload, ip.payload_len);
    else
        ts_drop(s, TS_DROP_IP_PROTO, pkt, len);
    ts_leave(s);
}

void ts_stack_burst_begin(ts_stack *s)
{
    s->burst_hold++;
}

void ts_stack_burst_end(ts_stack *s)
{
    if (s->burst_hold > 0 && --s->burst_hold == 0 && s->depth == 0) ts_burst_flush(s);
}

ts_time_t ts_stack_poll(ts_stack *s, ts_time_t now)
{
    ts_enter(s);
    /* Each timer runs at its own due time, earliest first, then the clock is now. */
    ts_timer_kind k;
    for (;;) { /* TIME-WAIT blocks (tcp_tw.c) keep their own heap: the earlier goes first */
        ts_time_t d = ts_heap_min(&s->heap);
        if (ts_tw_next_deadline(s) < d && ts_tw_expire_next(s, now)) continue;
        /* a request block due (tcp_req.c): its child comes back to the same place first */
        if (ts_req_timer_due(s, now)) continue; /* ... or, out of memory, it ended */
        ts_conn *c = ts_timer_next_due(s, now, &k);
        if (!c) break;
        ts_tcp_timer(s, c, k);
        /* an orphan whose last timer left it with nothing but TIME-WAIT: a small block;
         * an embryo whose SYN-ACK went again, waiting once more: one too */
        if (!c->dead && c->state == TS_TIME_WAIT && c->orphan)
            ts_tw_adopt(s, c);
        else if (c->state == TS_SYN_RECEIVED)
            ts_req_adopt(s, c);
    }
    if (now > s->now) s->now = now;
    ts_leave(s);
    return ts_stack_next_deadline(s);
}

void ts_enter(ts_stack *s)
{
    s->depth++;
}

static void flush_notifications(ts_stack *s)
{
    while (s->notify_head) {
        ts_conn *c = s->notify_head;
        s->notify_head = c->notify_next;
        if (!s->notify_head) s->notify_tail = NULL;
        c->on_notify_list = false;
        unsigned bits = c->notify;
        c->notify = 0;
        if (c->dead || c->sd < 0) continue;
        ts_sock *so = &s->socks[c->sd];
        if (so->fn) so->fn(s, c->sd, bits, so->ctx);
    }
}

void ts_leave(ts_stack *s)
{
    if (s->depth > 1) {
        s->depth--;
        return;
    }
    /* Still "inside" while callbacks run, so calls they make do not recurse here. */
    flush_notifications(s);
    while (s->free_head) {
        ts_conn *c = s->free_head;
        s->free_head = c->free_next;
        c->dead = false;
        ts_conn_destroy(s, c);
    }
    ts_tw_reap(s);
    /* The burst ends last, so what the callbacks sent is part of it. */
    if (!s->burst_hold) ts_burst_flush(s);
    s->depth = 0;
}
