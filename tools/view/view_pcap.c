/* view_pcap.c: the connection model read from a capture file with libpcap. Packets are
 * taken apart down to TCP over IPv4 (other packets are skipped), split into connections by
 * 4-tuple and incarnation, and each segment filled in as the wire shows it: flags,
 * numbers, windows (scaled when both SYNs agreed), options, tcpdump's line, and whether
 * the same data or SYN went by before. After the whole file is read each connection gets
 * its far end's times estimated from the round trips seen at the tap, and its states
 * inferred by replaying each end's sends and receipts in time order (RFC 9293 3.3.2). */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tcpsim/format.h"
#include "view_build.h"
#include "view_pcap.h"

#define SEQ_GEQ(a, b) ((int32_t)((a) - (b)) >= 0)

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

typedef struct pconn {
    ts_vb b;
    ts_vwire w;
    uint32_t prev; /* an older incarnation of the same 4-tuple (index + 1) */
} pconn;

typedef struct reader {
    const char *name;
    pconn *c;
    size_t n, cap;
    ts_vflows flows;
    uint64_t packets, tcp;
    bool no_lines; /* TS_VREAD_NO_LINES */
    char line[1024];
} reader;

/* ---- link layers ---- */

static bool link_supported(int dlt)
{
    switch (dlt) {
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_NULL:
    case DLT_LOOP: return true;
    default: return false;
    }
}

/* The offset of the IPv4 header in a frame of this link type, or -1 when the frame holds
 * something else (IPv6, ARP, a frame too short to tell). */
static long ip_offset(int dlt, const uint8_t *p, size_t caplen)
{
    switch (dlt) {
    case DLT_RAW:
    case DLT_IPV4: return caplen >= 1 && p[0] >> 4 == 4 ? 0 : -1;
    case DLT_EN10MB: {
        if (caplen < 14) return -1;
        uint16_t type = rd16(p + 12);
        size_t off = 14;
        if (type == 0x8100 || type == 0x88a8) { /* one 802.1Q (or 802.1ad) tag */
            if (caplen < 18) return -1;
            type = rd16(p + 16);
            off = 18;
        }
        return type == 0x0800 ? (long)off : -1;
    }
    case DLT_LINUX_SLL: return caplen >= 16 && rd16(p + 14) == 0x0800 ? 16 : -1;
    case DLT_LINUX_SLL2: return caplen >= 20 && rd16(p) == 0x0800 ? 20 : -1;
    case DLT_NULL:
    case DLT_LOOP: {
        /* The address family in the capturing host's byte order (NULL) or network order
         * (LOOP): AF_INET is 2 everywhere. */
        if (caplen < 4) return -1;
        uint32_t be = rd32(p),
                 le = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
        return be == 2 || le == 2 ? 4 : -1;
    }
    default: return -1;
    }
}

/* ---- connections ---- */

static pconn *conn_new(reader *r, const ts_vtcp *g, uint32_t prev)
{
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 8;
        pconn *p = realloc(r->c, nc * sizeof *p);
        if (!p) return NULL;
        r->c = p;
        r->cap = nc;
    }
    pconn *c = &r->c[r->n];
    memset(c, 0, sizeof *c);
    if (ts_vb_init(&c->b, TS_VIEW_CAPTURE) < 0) return NULL;
    r->n++;
    c->prev = prev;
    ts_vwire_init(&c->w);
    ts_view *v = c->b.v;
    v->end[0].ep = (ts_endpoint){g->src, g->sport};
    v->end[1].ep = (ts_endpoint){g->dst, g->dport};
    v->times_estimated = true;
    ts_vflow_key k = ts_vflow_key_of(g->src, g->sport, g->dst, g->dport);
    if (ts_vflows_put(&r->flows, &k, (uint32_t)r->n) < 0) return NULL;
    return c;
}

static pconn *conn_for(reader *r, const ts_vtcp *g, uint8_t flags)
{
    ts_vflow_key k = ts_vflow_key_of(g->src, g->sport, g->dst, g->dport);
    uint32_t i = ts_vflows_get(&r->flows, &k);
    if (i && ts_vwire_continues(&r->c[i - 1].w, flags)) return &r->c[i - 1];
    return conn_new(r, g, i);
}

static int add_segment(reader *r, const ts_vtcp *g, ts_time_t t)
{
    uint8_t flags = g->flags;
    pconn *c = conn_for(r, g, flags);
    if (!c) return -1;
    ts_view *v = c->b.v;
    int d = v->end[0].ep.addr == g->src && v->end[0].ep.port == g->sport ? 0 : 1;
    ts_view_seg *s = ts_vb_seg(&c->b);
    if (!s) return -1;
    s->no = (uint32_t)r->packets;
    s->from = d;
    s->t_send = t;
    ts_vtcp_fill(g, s);
    if (!r->no_lines) {
        ts_format_packet(g->ip, g->iplen, r->line, sizeof r->line);
        s->line = ts_vb_str(&c->b, r->line, SIZE_MAX);
        if (!s->line) return -1;
    }
    ts_vwire_account(&c->w, c->b.v, d, s, t);
    return 0;
}

/* ---- after reading: times and states ---- */

/* The far end's times. At the tap a segment from end 0 is ACKed by end 1 after 2y (y: tap
 * to end 1), one from end 1 after 2x (x: tap to end 0); the shortest such gap is the one
 * least delayed by the receiver. A segment from end 0 seen at T left at T - x and arrived at
 * T + y; one from end 1 left at T - y and arrived at T + x. */
static void estimate_times(pconn *c)
{
    ts_view *v = c->b.v;
    ts_time_t g0 = c->w.e[0].min_gap, g1 = c->w.e[1].min_gap;
    ts_time_t y = g0 != TS_TIME_NEVER ? g0 / 2 : 0, x = g1 != TS_TIME_NEVER ? g1 / 2 : 0;
    for (size_t i = 0; i < v->nsegs; i++) {
        ts_view_seg *s = &v->segs[i];
        ts_time_t before = s->from == 0 ? x : y, after = s->from == 0 ? y : x;
        ts_time_t t = s->t_send;
        s->t_send = t > before ? t - before : 0;
        s->t_recv = t + after;
    }
    char a0[16], a1[16], msg[256];
    const ts_endpoint *e0 = &v->end[0].ep, *e1 = &v->end[1].ep;
    ts_ip4_format(e0->addr, a0);
    ts_ip4_format(e1->addr, a1);
    if (g0 == TS_TIME_NEVER && g1 == TS_TIME_NEVER) {
        snprintf(msg, sizeof msg,
                 "one tap, no round trip seen: arrows drawn as if the wire took no time");
    } else if (x * 10 <= y || y * 10 <= x) {
        bool near0 = x <= y;
        snprintf(msg, sizeof msg,
                 "captured beside %s:%u; times at %s:%u estimated (one-way delay %.3f ms, "
                 "half the shortest round trip seen)",
                 near0 ? a0 : a1, near0 ? e0->port : e1->port, near0 ? a1 : a0,
                 near0 ? e1->port : e0->port, (double)(x + y) / 1000.0);
    } else {
        snprintf(msg, sizeof msg,
                 "captured between the ends; both ends' times estimated (%.3f ms to %s:%u, "
                 "%.3f ms to %s:%u)",
                 (double)x / 1000.0, a0, e0->port, (double)y / 1000.0, a1, e1->port);
    }
    v->note = ts_vb_str(&c->b, msg, SIZE_MAX);
}

typedef struct step {
    ts_time_t t;
    uint32_t seg;
    uint8_t recv; /* 0: the sender sends it, 1: the other end receives it */
} step;

static int step_cmp(const void *a, const void *b)
{
    const step *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    if (x->recv != y->recv) return x->recv ? -1 : 1; /* what arrives is acted on first */
    return x->seg < y->seg ? -1 : x->seg > y->seg;
}

static int set_state(ts_vb *b, ts_state *st, int end, ts_time_t t, ts_state to)
{
    if (*st == to) return 0;
    ts_view_state *s = ts_vb_state(b);
    if (!s) return -1;
    *s = (ts_view_state){end, t, *st, to, true};
    *st = to;
    return 0;
}

/* What sending s does to its sender's state. */
static int on_send(ts_vb *b, ts_state *st, int end, const ts_view_seg *s)
{
    ts_state to = *st;
    if (s->flags & TS_TH_RST)
        to = TS_CLOSED;
    else if ((s->flags & (TS_TH_SYN | TS_TH_ACK)) == TS_TH_SYN && *st == TS_CLOSED)
        to = TS_SYN_SENT;
    else if ((s->flags & TS_TH_SYN) && (*st == TS_LISTEN || *st == TS_CLOSED || *st == TS_SYN_SENT))
        to = TS_SYN_RECEIVED;
    else if ((s->flags & TS_TH_FIN) && (*st == TS_ESTABLISHED || *st == TS_SYN_RECEIVED))
        to = TS_FIN_WAIT_1;
    else if ((s->flags & TS_TH_FIN) && *st == TS_CLOSE_WAIT)
        to = TS_LAST_ACK;
    return set_state(b, st, end, s->t_send, to);
}

/* What receiving s does to the receiver's state: its ACK first, then its FIN. */
static int on_recv(ts_vb *b, ts_state *st, int end, const ts_vwire_end *me,
                   const ts_vwire_end *them, const ts_view_seg *s)
{
    ts_time_t t = s->t_recv;
    if (s->flags & TS_TH_RST) {
        /* Taken only at exactly the next sequence number once synchronized (RFC 5961 3.2) */
        bool ok = *st == TS_SYN_SENT || !them->max_known || s->seq == them->snd_max;
        if (ok && *st != TS_LISTEN && *st != TS_TIME_WAIT && *st != TS_CLOSED)
            return set_state(b, st, end, t, TS_CLOSED);
        return 0;
    }
    bool acks_syn = (s->flags & TS_TH_ACK) && me->syn && SEQ_GEQ(s->ack, me->isn + 1);
    bool acks_fin = (s->flags & TS_TH_ACK) && me->fin && SEQ_GEQ(s->ack, me->fin_end);
    int rc = 0;
    if ((*st == TS_SYN_SENT && (s->flags & TS_TH_SYN) && acks_syn) ||
        (*st == TS_SYN_RECEIVED && acks_syn))
        rc |= set_state(b, st, end, t, TS_ESTABLISHED);
    if (acks_fin && *st == TS_FIN_WAIT_1) rc |= set_state(b, st, end, t, TS_FIN_WAIT_2);
    if (acks_fin && *st == TS_CLOSING) rc |= set_state(b, st, end, t, TS_TIME_WAIT);
    if (acks_fin && *st == TS_LAST_ACK) rc |= set_state(b, st, end, t, TS_CLOSED);
    if (s->flags & TS_TH_FIN) {
        if (*st == TS_ESTABLISHED || *st == TS_SYN_RECEIVED)
            rc |= set_state(b, st, end, t, TS_CLOSE_WAIT);
        else if (*st == TS_FIN_WAIT_1)
            rc |= set_state(b, st, end, t, TS_CLOSING);
        else if (*st == TS_FIN_WAIT_2)
            rc |= set_state(b, st, end, t, TS_TIME_WAIT);
    }
    return rc;
}

/* Replay each end's sends and receipts in time order through the state diagram. A capture
 * that starts with the handshake starts from CLOSED and LISTEN; one that starts mid-way
 * starts both ends in ESTABLISHED. */
static int infer_states(pconn *c)
{
    ts_view *v = c->b.v;
    if (!v->nsegs) return 0;
    step *steps = malloc(2 * v->nsegs * sizeof *steps);
    if (!steps) return -1;
    for (size_t i = 0; i < v->nsegs; i++) {
        steps[2 * i] = (step){v->segs[i].t_send, (uint32_t)i, 0};
        steps[2 * i + 1] = (step){v->segs[i].t_recv, (uint32_t)i, 1};
    }
    qsort(steps, 2 * v->nsegs, sizeof *steps, step_cmp);
    bool opens = (v->segs[0].flags & (TS_TH_SYN | TS_TH_ACK)) == TS_TH_SYN;
    ts_state st[2] = {opens ? TS_CLOSED : TS_ESTABLISHED, opens ? TS_LISTEN : TS_ESTABLISHED};
    /* The FIN and SYN bookkeeping is redone in time order: a receipt may only see what its
     * receiver had sent by then. */
    ts_vwire_end seen[2];
    memset(seen, 0, sizeof seen);
    int rc = 0;
    for (size_t i = 0; i < 2 * v->nsegs && !rc; i++) {
        const ts_view_seg *s = &v->segs[steps[i].seg];
        if (!steps[i].recv) {
            ts_vwire_end *me = &seen[s->from];
            if ((s->flags & TS_TH_SYN) && !me->syn) {
                me->syn = true;
                me->isn = s->seq;
            }
            uint32_t seqlen = s->len + !!(s->flags & TS_TH_SYN) + !!(s->flags & TS_TH_FIN);
            if (s->flags & TS_TH_FIN) {
                me->fin = true;
                me->fin_end = s->seq + seqlen;
            }
            if (seqlen && (!me->max_known || (int32_t)(s->seq + seqlen - me->snd_max) > 0)) {
                me->max_known = true;
                me->snd_max = s->seq + seqlen;
            }
            rc = on_send(&c->b, &st[s->from], s->from, s);
        } else {
            int to = !s->from;
            rc = on_recv(&c->b, &st[to], to, &seen[to], &seen[s->from], s);
        }
    }
    free(steps);
    return rc;
}

/* ---- reading ---- */

static void reader_free(reader *r)
{
    for (size_t i = 0; i < r->n; i++) ts_vb_discard(&r->c[i].b);
    free(r->c);
    ts_vflows_free(&r->flows);
}

static int read_packets(reader *r, pcap_t *p, char *err, size_t errlen)
{
    int dlt = pcap_datalink(p);
    if (!link_supported(dlt)) {
        const char *nm = pcap_datalink_val_to_name(dlt);
        snprintf(err, errlen,
                 "%s: link type %s (%d) is not read; use raw IP, Ethernet, Linux cooked or "
                 "loopback captures (tcpdump -i any writes Linux cooked)",
                 r->name, nm ? nm : "unknown", dlt);
        return -1;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        r->packets++;
        long off = ip_offset(dlt, data, h->caplen);
        ts_vtcp g;
        if (off < 0 || h->len < (size_t)off ||
            !ts_vtcp_parse(data + off, h->caplen - (size_t)off, h->len - (size_t)off, &g))
            continue;
        r->tcp++;
        ts_time_t t = (ts_time_t)h->ts.tv_sec * TS_SEC + (ts_time_t)h->ts.tv_usec;
        if (h->ts.tv_sec < 0 || h->ts.tv_usec < 0) t = 0;
        if (add_segment(r, &g, t) < 0) {
            snprintf(err, errlen, "%s: out of memory after %llu packets", r->name,
                     (unsigned long long)r->packets);
            return -1;
        }
    }
    if (rc == -1) {
        snprintf(err, errlen, "%s: truncated or damaged after packet %llu (libpcap: %s)", r->name,
                 (unsigned long long)r->packets, pcap_geterr(p));
        return -1;
    }
    if (!r->packets) {
        snprintf(err, errlen, "%s: the capture holds no packets", r->name);
        return -1;
    }
    if (!r->tcp) {
        snprintf(err, errlen, "%s: no TCP over IPv4 in its %llu packet%s", r->name,
                 (unsigned long long)r->packets, r->packets == 1 ? "" : "s");
        return -1;
    }
    return 0;
}

static int finish(reader *r, ts_view_set *out, char *err, size_t errlen)
{
    out->conns = calloc(r->n, sizeof *out->conns);
    if (!out->conns) goto oom;
    for (size_t i = 0; i < r->n; i++) {
        pconn *c = &r->c[i];
        estimate_times(c);
        if (infer_states(c) < 0 || ts_vb_finish(&c->b) < 0) goto oom;
        out->conns[out->n++] = c->b.v;
        c->b.v = NULL;
    }
    return 0;
oom:
    ts_view_set_free(out);
    snprintf(err, errlen, "%s: out of memory", r->name);
    return -1;
}

static void open_error(const char *name, const char *pcap_err, long size, char *err, size_t errlen)
{
    if (size == 0)
        snprintf(err, errlen, "%s: empty file, not a capture", name);
    else if (strstr(pcap_err, "unknown file format") || strstr(pcap_err, "bad dump file format"))
        snprintf(err, errlen, "%s: not a pcap or pcapng capture (write one with tcpdump -w)", name);
    else if (strstr(pcap_err, "truncated"))
        snprintf(err, errlen, "%s: truncated capture (libpcap: %s)", name, pcap_err);
    else
        snprintf(err, errlen, "%s: cannot read it as a capture (libpcap: %s)", name, pcap_err);
}

/* Whether the file's first bytes (n of them, n <= 4) could start a pcap or pcapng file:
 * libpcap calls a short text file "truncated", which is not the problem. */
static bool capture_magic(const uint8_t *b, size_t n)
{
    static const uint8_t magic[][4] = {
        {0xa1, 0xb2, 0xc3, 0xd4}, {0xd4, 0xc3, 0xb2, 0xa1}, /* pcap, microseconds */
        {0xa1, 0xb2, 0x3c, 0x4d}, {0x4d, 0x3c, 0xb2, 0xa1}, /* pcap, nanoseconds */
        {0xa1, 0xb2, 0xcd, 0x34}, {0x34, 0xcd, 0xb2, 0xa1}, /* Kuznetsov's modified pcap */
        {0x0a, 0x0d, 0x0d, 0x0a},                           /* pcapng section header */
    };
    for (size_t i = 0; i < sizeof magic / sizeof magic[0]; i++)
        if (!memcmp(b, magic[i], n)) return true;
    return false;
}

int ts_view_read_pcap_fp(FILE *f, const char *name, ts_view_set *out, char *err, size_t errlen)
{
    return ts_view_read_pcap_fp_flags(f, name, 0, out, err, errlen);
}

int ts_view_read_pcap_fp_flags(FILE *f, const char *name, unsigned flags, ts_view_set *out,
                               char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) {
        size = ftell(f);
        rewind(f);
        uint8_t head[4];
        size_t n = fread(head, 1, sizeof head, f);
        rewind(f);
        if (n && !capture_magic(head, n)) {
            fclose(f);
            snprintf(err, errlen, "%s: not a pcap or pcapng capture (write one with tcpdump -w)",
                     name);
            return -1;
        }
    }
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_fopen_offline(f, perr);
    if (!p) {
        fclose(f);
        open_error(name, perr, size, err, errlen);
        return -1;
    }
    reader r;
    memset(&r, 0, sizeof r);
    r.name = name;
    r.no_lines = flags & TS_VREAD_NO_LINES;
    int rc = read_packets(&r, p, err, errlen);
    pcap_close(p);
    if (rc == 0) rc = finish(&r, out, err, errlen);
    reader_free(&r);
    return rc;
}

int ts_view_read_pcap(const char *path, ts_view_set *out, char *err, size_t errlen)
{
    return ts_view_read_pcap_flags(path, 0, out, err, errlen);
}

int ts_view_read_pcap_flags(const char *path, unsigned flags, ts_view_set *out, char *err,
                            size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s: a directory, not a capture", path);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open it: %s", path, strerror(errno));
        return -1;
    }
    return ts_view_read_pcap_fp_flags(f, path, flags, out, err, errlen);
}
