/* view_build.c: growing a view while a source reads it, and the 4-tuple table. Strings are
 * collected in one buffer that moves as it grows, so string fields hold offsets until the
 * view is finished and the buffer becomes the view's arena. */
#include <stdlib.h>
#include <string.h>

#include "view_build.h"

#define SEQ_LT(a, b)  ((int32_t)((a) - (b)) < 0)
#define SEQ_GEQ(a, b) ((int32_t)((a) - (b)) >= 0)

int ts_vb_init(ts_vb *b, ts_view_origin origin)
{
    memset(b, 0, sizeof *b);
    b->v = calloc(1, sizeof *b->v);
    if (!b->v) return -1;
    b->v->origin = origin;
    b->v->end[0].ep.addr = b->v->end[1].ep.addr = 0;
    return 0;
}

void ts_vb_discard(ts_vb *b)
{
    ts_view_free(b->v);
    free(b->str);
    memset(b, 0, sizeof *b);
}

/* Small first sizes: a capture of many short connections (a SYN scan: 100,000 of one
 * segment each) holds one view per connection, so what an empty one costs is paid that
 * many times; doubling keeps long connections linear. */
#define FIRST_ELEMS 2
#define FIRST_STR   128

/* Room for one more element of size sz in *arr holding n of cap; a zeroed element. */
static void *grow(void **arr, size_t n, size_t *cap, size_t sz)
{
    if (n == *cap) {
        size_t nc = *cap ? *cap * 2 : FIRST_ELEMS;
        void *p = realloc(*arr, nc * sz);
        if (!p) return NULL;
        *arr = p;
        *cap = nc;
    }
    void *e = (char *)*arr + n * sz;
    memset(e, 0, sz);
    return e;
}

ts_view_seg *ts_vb_seg(ts_vb *b)
{
    ts_view_seg *s = grow((void **)&b->v->segs, b->v->nsegs, &b->cap_segs, sizeof *s);
    if (!s) return NULL;
    b->v->nsegs++;
    s->t_recv = TS_TIME_NEVER;
    s->wscale = -1;
    s->tcb[0] = s->tcb[1] = -1;
    return s;
}

ts_view_state *ts_vb_state(ts_vb *b)
{
    ts_view_state *s = grow((void **)&b->v->states, b->v->nstates, &b->cap_states, sizeof *s);
    if (s) b->v->nstates++;
    return s;
}

ts_view_timer *ts_vb_timer(ts_vb *b)
{
    ts_view_timer *t = grow((void **)&b->v->timers, b->v->ntimers, &b->cap_timers, sizeof *t);
    if (t) b->v->ntimers++;
    return t;
}

ts_view_tcb *ts_vb_tcb(ts_vb *b, int32_t *index)
{
    ts_view_tcb *t = grow((void **)&b->v->tcbs, b->v->ntcbs, &b->cap_tcbs, sizeof *t);
    if (!t) return NULL;
    *index = (int32_t)b->v->ntcbs++;
    return t;
}

const char *ts_vb_str(ts_vb *b, const char *s, size_t len)
{
    if (!s) return NULL;
    if (len == SIZE_MAX) len = strlen(s);
    if (b->nstr + len + 1 > b->capstr) {
        size_t nc = b->capstr ? b->capstr : FIRST_STR;
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

/* A time key and where it came from: what the sort moves, 16 bytes instead of a whole
 * segment (a capture's far-end times shift one direction against the other, so a long
 * capture arrives nearly but not quite sorted). */
typedef struct skey {
    ts_time_t t;
    size_t i;
} skey;

/* Stable bottom-up merge sort of k (n keys) with tmp as scratch; the result in k. */
static void sort_keys(skey *k, skey *tmp, size_t n)
{
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi) tmp[o++] = k[j].t < k[i].t ? k[j++] : k[i++];
            while (i < mid) tmp[o++] = k[i++];
            while (j < hi) tmp[o++] = k[j++];
        }
        memcpy(k, tmp, n * sizeof *k);
    }
}

/* Stable sort of *arr (n elements of T) by a time key: the keys are sorted, then the
 * elements moved once into a new array. */
#define DEFINE_SORT(NAME, T, KEY)                                                                  \
    static int NAME(T **arr, size_t n)                                                             \
    {                                                                                              \
        T *a = *arr;                                                                               \
        bool sorted = true;                                                                        \
        for (size_t i = 1; i < n && sorted; i++) sorted = a[i - 1].KEY <= a[i].KEY;                \
        if (sorted) return 0;                                                                      \
        skey *k = malloc(2 * n * sizeof *k);                                                       \
        T *out = malloc(n * sizeof *out);                                                          \
        if (!k || !out) {                                                                          \
            free(k);                                                                               \
            free(out);                                                                             \
            return -1;                                                                             \
        }                                                                                          \
        for (size_t i = 0; i < n; i++) k[i] = (skey){a[i].KEY, i};                                 \
        sort_keys(k, k + n, n);                                                                    \
        for (size_t i = 0; i < n; i++) out[i] = a[k[i].i];                                         \
        free(k);                                                                                   \
        free(a);                                                                                   \
        *arr = out;                                                                                \
        return 0;                                                                                  \
    }

DEFINE_SORT(sort_segs, ts_view_seg, t_send)
DEFINE_SORT(sort_states, ts_view_state, t)

int ts_vb_finish(ts_vb *b)
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
    if (sort_segs(&v->segs, v->nsegs) < 0 || sort_states(&v->states, v->nstates) < 0) return -1;
    b->cap_segs = b->cap_states = 0; /* a sort may have moved them: the view is done */
    return 0;
}

/* ---- the 4-tuple table ---- */

ts_vflow_key ts_vflow_key_of(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
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

uint32_t ts_vflows_get(const ts_vflows *t, const ts_vflow_key *k)
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

int ts_vflows_put(ts_vflows *t, const ts_vflow_key *k, uint32_t val)
{
    if ((t->n + 1) * 2 > t->nslots && rehash(t) < 0) return -1;
    size_t i = key_hash(k) & (t->nslots - 1);
    while (t->vals[i] && !key_eq(&t->keys[i], k)) i = (i + 1) & (t->nslots - 1);
    if (!t->vals[i]) t->n++;
    t->keys[i] = *k;
    t->vals[i] = val;
    return 0;
}

void ts_vflows_free(ts_vflows *t)
{
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof *t);
}

/* ---- one TCP segment ---- */

/* The headers through the wire layer's capture parse (tcpdump's leniency: a snaplen cut,
 * a total length left 0 for segmentation offload); false for anything that is not a whole
 * TCP header over an unfragmented IPv4 packet. wirelen: the packet's length on the wire. */
bool ts_vtcp_parse(const uint8_t *ip, size_t caplen, size_t wirelen, ts_vtcp *g)
{
    ts_pkt_view pv;
    if (ts_pkt_view_capture(&pv, ip, caplen, wirelen) != TS_WIRE_OK || !pv.tcp) return false;
    if (ts_ip4_is_fragment(&pv.ip4)) return false; /* not reassembled */
    g->ip = ip;
    g->th = pv.th;
    g->src = pv.ip4.src;
    g->dst = pv.ip4.dst;
    g->sport = pv.th.sport;
    g->dport = pv.th.dport;
    g->flags = pv.th.flags & 0x1f;
    g->payload = ts_pkt_view_wire_payload(&pv);
    g->iplen = pv.ip4.hlen + pv.ip4.payload_len;
    return true;
}

/* Options (RFC 9293 3.1, RFC 7323, RFC 2018) into the segment through the wire layer's
 * walk: a malformed list stops the reading where it goes wrong, as tcpdump does, keeping
 * what came before; a known kind of the wrong length is passed over. */
void ts_vtcp_options(const uint8_t *o, size_t n, ts_view_seg *s)
{
    size_t off = 0;
    ts_tcp_opt opt;
    while (ts_tcp_opt_next(o, n, &off, &opt) > 0) {
        ts_tcp_opts d;
        memset(&d, 0, sizeof d);
        if (ts_tcp_opt_decode(&opt, &d) < 0) continue;
        if (d.has_mss) s->mss = d.mss;
        if (d.has_wscale) s->wscale = (int8_t)(d.wscale > 14 ? 14 : d.wscale);
        if (d.has_sackok) s->sack_ok = true;
        if (d.has_ts) {
            s->has_ts = true;
            s->tsval = d.tsval;
            s->tsecr = d.tsecr;
        }
        for (size_t k = 0; k < d.nsack && s->nsack < TS_VIEW_SACK_MAX; k++) {
            s->sack[s->nsack][0] = d.sack[k].start;
            s->sack[s->nsack][1] = d.sack[k].end;
            s->nsack++;
        }
    }
}

typedef enum { SYN_NEW, SYN_AGAIN, SYN_OTHER_ISN } syn_kind;

/* A SYN from end d: its first (the ISN into v->end), a retransmission of it (cause and
 * count set), or another ISN on a live connection (answered, not adopted: RFC 5961 4). */
static syn_kind syn_seen(ts_vwire_end *me, ts_view *v, int d, ts_view_seg *s)
{
    me->syn_count++;
    if (me->syn && me->isn == s->seq && (s->flags & TS_TH_ACK) && !me->synack) {
        /* A simultaneous open (RFC 9293 3.5, figure 8): the end that sent a SYN and got
         * one answers with SYN-ACK on the same ISN; that is the handshake's next step,
         * not a retransmission. Its own retransmissions count from here. */
        me->synack = true;
        me->syn_count = 1;
        return SYN_NEW;
    }
    if (me->syn && me->isn == s->seq) {
        s->cause = TS_VCAUSE_SYN;
        s->rexmit_no = me->syn_count - 1;
        return SYN_AGAIN;
    }
    if (me->syn) return SYN_OTHER_ISN;
    me->syn = true;
    me->synack = (s->flags & TS_TH_ACK) != 0;
    me->isn = s->seq;
    me->wscale = s->wscale;
    v->end[d].isn = s->seq;
    v->end[d].isn_known = true;
    return SYN_NEW;
}

/* Retransmission, window scale and round-trip bookkeeping for one segment from end d. */
void ts_vwire_account(ts_vwire *w, ts_view *v, int d, ts_view_seg *s, ts_time_t t)
{
    ts_vwire_end *me = &w->e[d], *peer = &w->e[!d];
    uint32_t seqlen = s->len + !!(s->flags & TS_TH_SYN) + !!(s->flags & TS_TH_FIN);
    bool rexmit = false;
    if (s->flags & TS_TH_SYN) {
        syn_kind k = syn_seen(me, v, d, s);
        if (k == SYN_OTHER_ISN) return;
        rexmit = k == SYN_AGAIN;
    } else if (seqlen && me->max_known && SEQ_LT(s->seq, me->snd_max)) {
        s->cause = TS_VCAUSE_REXMIT;
        me->rx_count = me->rx_seq == s->seq && me->rx_count ? me->rx_count + 1 : 1;
        me->rx_seq = s->seq;
        s->rexmit_no = me->rx_count;
        rexmit = true;
    }
    if (seqlen && (!me->max_known || SEQ_LT(me->snd_max, s->seq + seqlen))) {
        me->snd_max = s->seq + seqlen;
        me->max_known = true;
    }
    if (s->flags & TS_TH_FIN) {
        me->fin = true;
        me->fin_end = s->seq + seqlen;
    }
    if (!(s->flags & TS_TH_SYN) && w->e[0].wscale >= 0 && w->e[1].wscale >= 0)
        s->win = (uint32_t)s->win_raw << me->wscale;
    /* Round trips at the tap, one sample at a time per direction. */
    if (rexmit && me->sample && SEQ_LT(s->seq, me->sample_end)) me->sample = false;
    if (!rexmit && seqlen && !me->sample) {
        me->sample = true;
        me->sample_end = s->seq + seqlen;
        me->sample_t = t;
    }
    if ((s->flags & TS_TH_ACK) && peer->sample && SEQ_GEQ(s->ack, peer->sample_end)) {
        ts_time_t gap = t - peer->sample_t;
        if (gap < peer->min_gap) peer->min_gap = gap;
        peer->sample = false;
    }
    /* A reset ends the connection when its receiver would take it: at exactly the next
     * sequence number (RFC 5961 3.2; a blind one is answered with a challenge ACK), or
     * before the connection is synchronized. */
    if ((s->flags & TS_TH_RST) &&
        (!me->max_known || s->seq == me->snd_max || !peer->syn || !me->syn))
        w->ended = true;
    if (w->e[0].fin && w->e[1].fin) w->ended = true;
}

bool ts_vwire_continues(const ts_vwire *w, uint8_t flags)
{
    return !(w->ended && (flags & (TS_TH_SYN | TS_TH_ACK)) == TS_TH_SYN);
}

void ts_vwire_init(ts_vwire *w)
{
    memset(w, 0, sizeof *w);
    for (int e = 0; e < 2; e++) {
        w->e[e].wscale = -1;
        w->e[e].min_gap = TS_TIME_NEVER;
    }
}

void ts_vtcp_fill(const ts_vtcp *g, ts_view_seg *s)
{
    s->flags = g->flags;
    s->seq = g->th.seq;
    s->ack = g->th.ack;
    s->len = g->payload;
    s->win_raw = g->th.win;
    s->win = s->win_raw;
    ts_vtcp_options(g->th.opt, g->th.optlen, s);
}
