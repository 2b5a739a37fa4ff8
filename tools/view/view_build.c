/* view_build.c: growing a view while a source reads it, and the 4-tuple table. Strings are
 * collected in one buffer that moves as it grows, so string fields hold offsets until the
 * view is finished and the buffer becomes the view's arena. */
#include <stdlib.h>
#include <string.h>

#include "view_build.h"

int vb_init(ts_vb *b, ts_view_origin origin)
{
    memset(b, 0, sizeof *b);
    b->v = calloc(1, sizeof *b->v);
    if (!b->v) return -1;
    b->v->origin = origin;
    b->v->end[0].ep.addr = b->v->end[1].ep.addr = 0;
    return 0;
}

void vb_discard(ts_vb *b)
{
    ts_view_free(b->v);
    free(b->str);
    memset(b, 0, sizeof *b);
}

/* Room for one more element of size sz in *arr holding n of cap; a zeroed element. */
static void *grow(void **arr, size_t n, size_t *cap, size_t sz)
{
    if (n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        void *p = realloc(*arr, nc * sz);
        if (!p) return NULL;
        *arr = p;
        *cap = nc;
    }
    void *e = (char *)*arr + n * sz;
    memset(e, 0, sz);
    return e;
}

ts_view_seg *vb_seg(ts_vb *b)
{
    ts_view_seg *s = grow((void **)&b->v->segs, b->v->nsegs, &b->cap_segs, sizeof *s);
    if (!s) return NULL;
    b->v->nsegs++;
    s->t_recv = TS_TIME_NEVER;
    s->wscale = -1;
    s->tcb[0] = s->tcb[1] = -1;
    return s;
}

ts_view_state *vb_state(ts_vb *b)
{
    ts_view_state *s = grow((void **)&b->v->states, b->v->nstates, &b->cap_states, sizeof *s);
    if (s) b->v->nstates++;
    return s;
}

ts_view_timer *vb_timer(ts_vb *b)
{
    ts_view_timer *t = grow((void **)&b->v->timers, b->v->ntimers, &b->cap_timers, sizeof *t);
    if (t) b->v->ntimers++;
    return t;
}

ts_view_tcb *vb_tcb(ts_vb *b, int32_t *index)
{
    ts_view_tcb *t = grow((void **)&b->v->tcbs, b->v->ntcbs, &b->cap_tcbs, sizeof *t);
    if (!t) return NULL;
    *index = (int32_t)b->v->ntcbs++;
    return t;
}

const char *vb_str(ts_vb *b, const char *s, size_t len)
{
    if (!s) return NULL;
    if (len == SIZE_MAX) len = strlen(s);
    if (b->nstr + len + 1 > b->capstr) {
        size_t nc = b->capstr ? b->capstr : 4096;
        while (nc < b->nstr + len + 1) nc *= 2;
        char *p = realloc(b->str, nc);
        if (!p) return NULL;
        b->str = p;
        b->capstr = nc;
    }
    size_t off = b->nstr;
    memcpy(b->str + off, s, len);
    b->str[off + len] = '\0';
    b->nstr += len + 1;
    return (const char *)(uintptr_t)(off + 1);
}

static const char *fix(const ts_vb *b, const char *p)
{
    return p ? b->str + ((uintptr_t)p - 1) : NULL;
}

/* Stable merge sort by a time key; n is small enough for a scratch copy. */
#define DEFINE_SORT(NAME, T, KEY)                                                                  \
    static int NAME(T *a, size_t n)                                                                \
    {                                                                                              \
        bool sorted = true;                                                                        \
        for (size_t i = 1; i < n && sorted; i++) sorted = a[i - 1].KEY <= a[i].KEY;                \
        if (sorted) return 0;                                                                      \
        T *tmp = malloc(n * sizeof *tmp);                                                          \
        if (!tmp) return -1;                                                                       \
        for (size_t w = 1; w < n; w *= 2) {                                                        \
            for (size_t lo = 0; lo < n; lo += 2 * w) {                                             \
                size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;        \
                size_t i = lo, j = mid, k = lo;                                                    \
                while (i < mid && j < hi) tmp[k++] = a[j].KEY < a[i].KEY ? a[j++] : a[i++];        \
                while (i < mid) tmp[k++] = a[i++];                                                 \
                while (j < hi) tmp[k++] = a[j++];                                                  \
            }                                                                                      \
            memcpy(a, tmp, n * sizeof *a);                                                         \
        }                                                                                          \
        free(tmp);                                                                                 \
        return 0;                                                                                  \
    }

DEFINE_SORT(sort_segs, ts_view_seg, t_send)
DEFINE_SORT(sort_states, ts_view_state, t)

int vb_finish(ts_vb *b)
{
    ts_view *v = b->v;
    for (size_t i = 0; i < v->nsegs; i++) {
        ts_view_seg *s = &v->segs[i];
        s->line = fix(b, s->line);
        s->why = fix(b, s->why);
        s->lost = fix(b, s->lost);
    }
    v->note = fix(b, v->note);
    v->arena = b->str;
    b->str = NULL;
    if (sort_segs(v->segs, v->nsegs) < 0 || sort_states(v->states, v->nstates) < 0) return -1;
    return 0;
}

/* ---- the 4-tuple table ---- */

ts_vflow_key vflow_key(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
    ts_vflow_key k;
    memset(&k, 0, sizeof k);
    bool swap = src > dst || (src == dst && sport > dport);
    k.a_addr = swap ? dst : src;
    k.a_port = swap ? dport : sport;
    k.b_addr = swap ? src : dst;
    k.b_port = swap ? sport : dport;
    return k;
}

static size_t key_hash(const ts_vflow_key *k)
{
    uint64_t h = (uint64_t)k->a_addr * 0x9e3779b97f4a7c15ull;
    h ^=
        ((uint64_t)k->b_addr << 32 | (uint64_t)k->a_port << 16 | k->b_port) * 0xff51afd7ed558ccdull;
    return (size_t)(h ^ (h >> 29));
}

static bool key_eq(const ts_vflow_key *a, const ts_vflow_key *b)
{
    return a->a_addr == b->a_addr && a->b_addr == b->b_addr && a->a_port == b->a_port &&
           a->b_port == b->b_port;
}

uint32_t vflows_get(const ts_vflows *t, const ts_vflow_key *k)
{
    if (!t->nslots) return 0;
    for (size_t i = key_hash(k) & (t->nslots - 1);; i = (i + 1) & (t->nslots - 1)) {
        if (!t->vals[i]) return 0;
        if (key_eq(&t->keys[i], k)) return t->vals[i];
    }
}

static int rehash(ts_vflows *t)
{
    size_t ns = t->nslots ? t->nslots * 2 : 64;
    ts_vflow_key *keys = calloc(ns, sizeof *keys);
    uint32_t *vals = calloc(ns, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t i = 0; i < t->nslots; i++) {
        if (!t->vals[i]) continue;
        size_t j = key_hash(&t->keys[i]) & (ns - 1);
        while (vals[j]) j = (j + 1) & (ns - 1);
        keys[j] = t->keys[i];
        vals[j] = t->vals[i];
    }
    free(t->keys);
    free(t->vals);
    t->keys = keys;
    t->vals = vals;
    t->nslots = ns;
    return 0;
}

int vflows_put(ts_vflows *t, const ts_vflow_key *k, uint32_t val)
{
    if ((t->n + 1) * 2 > t->nslots && rehash(t) < 0) return -1;
    size_t i = key_hash(k) & (t->nslots - 1);
    while (t->vals[i] && !key_eq(&t->keys[i], k)) i = (i + 1) & (t->nslots - 1);
    if (!t->vals[i]) t->n++;
    t->keys[i] = *k;
    t->vals[i] = val;
    return 0;
}

void vflows_free(ts_vflows *t)
{
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof *t);
}
