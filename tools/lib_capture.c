/* lib_capture.c: --pcap FILE (capture.h): plain pcap through libpcap, or pcapng with a
 * comment on each packet a stack sent for a reason (why.h) and on each received packet
 * that changed a connection's state. pcapng packets wait in a ring, in capture order, with
 * their bytes in pooled buffers (no allocation per packet once warm), found again by
 * (source, destination, IP id) through a small hash when a stack takes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "pcapng.h"
#include "pcapw.h"
#include "why.h"

#define HOLD      (3 * TS_SEC) /* a packet to a stack not taken by then: lost on the way */
#define QUEUE_MAX 16384u       /* packets held at most; beyond, the oldest is written */
#define HASH_CAP  32768u       /* > 2 * QUEUE_MAX: the hash never fills */
#define NOTE_LEN  256
#define SMALL     2048u /* pooled packet buffers; larger packets get their own */

typedef struct rec {
    ts_time_t t;
    uint8_t *data;
    size_t len;
    uint32_t src, dst;
    uint16_t id;
    bool to_stack;  /* a registered stack will take it (or drop it) */
    bool delivered; /* taken (or given up as lost) at delivered_at */
    ts_time_t delivered_at;
    char note[NOTE_LEN];
} rec;

typedef struct cap_stack {
    char name[32];
    uint32_t addr;
    ts_why *why;
    uint64_t in_no; /* the packet it is taking now (record number + 1), 0: none */
    uint32_t in_conn;
    ts_time_t in_now;
    /* a state change made by a call (close, connect) or a timer, for the next packet that
     * connection sends (the FIN may wait behind queued data) */
    uint32_t st_conn;
    uint8_t st_flag; /* the packet it waits for carries this TCP flag (FIN, SYN), or 0 */
    char st_note[96];
} cap_stack;

typedef struct hslot {
    uint64_t no1; /* record number + 1; 0: empty */
    uint32_t src, dst;
    uint16_t id;
} hslot;

struct ts_capture {
    ts_pcapw *pcap;
    ts_pcapng *ng;
    ts_time_t offset;
    cap_stack *stacks;
    size_t nstacks;
    /* the note of the SEG_OUT just seen, for the packet that follows it */
    const uint8_t *out_pkt;
    size_t out_len;
    bool out_set;
    char out_note[NOTE_LEN];
    rec *q; /* ring of records [head, tail) */
    size_t qcap;
    uint64_t head, tail;
    uint8_t **pool; /* free SMALL buffers */
    size_t npool;
    hslot *hash;
};

ts_capture *ts_capture_open(const char *path, char *err, size_t errlen)
{
    ts_capture *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    size_t n = path ? strlen(path) : 0;
    if (n > 7 && !strcmp(path + n - 7, ".pcapng")) {
        c->hash = calloc(HASH_CAP, sizeof *c->hash);
        c->pool = calloc(QUEUE_MAX, sizeof *c->pool);
        if (!c->hash || !c->pool) {
            snprintf(err, errlen, "out of memory");
            ts_capture_close(c);
            return NULL;
        }
        c->ng = ts_pcapng_open(path, err, errlen);
    } else {
        c->pcap = ts_pcapw_open(path, err, errlen);
    }
    if (!c->ng && !c->pcap) {
        ts_capture_close(c);
        return NULL;
    }
    return c;
}

bool ts_capture_annotated(const ts_capture *c)
{
    return c && c->ng;
}

int ts_capture_add_stack(ts_capture *c, const char *name, uint32_t addr)
{
    cap_stack *s = realloc(c->stacks, (c->nstacks + 1) * sizeof *s);
    if (!s) return -1;
    c->stacks = s;
    s = &c->stacks[c->nstacks];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name ? name : "");
    s->addr = addr;
    s->why = ts_why_new();
    if (!s->why) return -1;
    return (int)c->nstacks++;
}

void ts_capture_set_offset(ts_capture *c, ts_time_t offset)
{
    if (c) c->offset = offset;
}

/* ---- the queue --------------------------------------------------------------------------- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool ip_key(const uint8_t *p, size_t len, uint32_t *src, uint32_t *dst, uint16_t *id)
{
    if (!p || len < 20 || (p[0] >> 4) != 4) return false;
    *id = (uint16_t)(p[4] << 8 | p[5]);
    *src = rd32(p + 12);
    *dst = rd32(p + 16);
    return true;
}

static size_t hash_of(uint32_t src, uint32_t dst, uint16_t id)
{
    uint32_t h = (src * 2654435761u) ^ (dst * 2246822519u) ^ (id * 3266489917u);
    return (h ^ (h >> 15)) & (HASH_CAP - 1);
}

static hslot *hash_find(ts_capture *c, uint32_t src, uint32_t dst, uint16_t id)
{
    for (size_t i = hash_of(src, dst, id);; i = (i + 1) & (HASH_CAP - 1)) {
        hslot *h = &c->hash[i];
        if (!h->no1) return NULL;
        if (h->src == src && h->dst == dst && h->id == id) return h;
    }
}

static void hash_put(ts_capture *c, const rec *r, uint64_t no)
{
    hslot *h = hash_find(c, r->src, r->dst, r->id);
    if (!h) { /* a new key: the first empty slot of its run */
        size_t i = hash_of(r->src, r->dst, r->id);
        while (c->hash[i].no1) i = (i + 1) & (HASH_CAP - 1);
        h = &c->hash[i];
    }
    *h = (hslot){no + 1, r->src, r->dst, r->id};
}

/* Remove with backward shift (no tombstones). */
static void hash_del(ts_capture *c, const rec *r, uint64_t no)
{
    hslot *h = hash_find(c, r->src, r->dst, r->id);
    if (!h || h->no1 != no + 1) return; /* a later packet took the key over */
    size_t mask = HASH_CAP - 1, i = (size_t)(h - c->hash);
    for (size_t j = (i + 1) & mask; c->hash[j].no1; j = (j + 1) & mask) {
        size_t home = hash_of(c->hash[j].src, c->hash[j].dst, c->hash[j].id);
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays) continue;
        c->hash[i] = c->hash[j];
        i = j;
    }
    c->hash[i].no1 = 0;
}

static rec *rec_at(ts_capture *c, uint64_t no)
{
    return &c->q[no & (c->qcap - 1)];
}

static void write_head(ts_capture *c)
{
    uint64_t no = c->head++;
    rec *r = rec_at(c, no);
    ts_pcapng_write(c->ng, r->t + c->offset, r->data, r->len, r->note);
    hash_del(c, r, no);
    if (r->len <= SMALL && c->npool < QUEUE_MAX)
        c->pool[c->npool++] = r->data;
    else
        free(r->data);
    r->data = NULL;
}

/* Write the packets at the head whose comments can no longer change. */
static void settle(ts_capture *c, ts_time_t now)
{
    while (c->head < c->tail) {
        const rec *r = rec_at(c, c->head);
        bool done = !r->to_stack || (r->delivered && now > r->delivered_at) ||
                    (!r->delivered && now - r->t > HOLD);
        if (!done) break;
        write_head(c);
    }
}

static bool grow_queue(ts_capture *c)
{
    size_t cap = c->qcap ? c->qcap * 2 : 256;
    rec *q = malloc(cap * sizeof *q);
    if (!q) return false;
    for (uint64_t no = c->head; no < c->tail; no++) q[no & (cap - 1)] = *rec_at(c, no);
    free(c->q);
    c->q = q;
    c->qcap = cap;
    return true;
}

static bool is_stack_addr(const ts_capture *c, uint32_t addr)
{
    for (size_t i = 0; i < c->nstacks; i++)
        if (c->stacks[i].addr == addr) return true;
    return false;
}

void ts_capture_packet(ts_capture *c, ts_time_t now, const uint8_t *pkt, size_t len)
{
    if (!c) return;
    if (c->pcap) {
        ts_pcapw_write(c->pcap, now + c->offset, pkt, len);
        return;
    }
    if (c->tail - c->head == QUEUE_MAX) write_head(c);
    if (c->tail - c->head == c->qcap && !grow_queue(c)) write_head(c);
    uint8_t *data =
        len <= SMALL && c->npool ? c->pool[--c->npool] : malloc(len <= SMALL ? SMALL : len);
    if (!data) return; /* out of memory: this packet is lost from the file */
    uint64_t no = c->tail++;
    rec *r = rec_at(c, no);
    memset(r, 0, offsetof(rec, note));
    r->note[0] = '\0';
    r->t = now;
    r->data = data;
    r->len = len;
    memcpy(data, pkt, len);
    if (ip_key(pkt, len, &r->src, &r->dst, &r->id)) {
        /* only TCP is reported back (SEG_IN or DROP): an ICMP echo need not wait */
        r->to_stack = len > 9 && pkt[9] == 6 && is_stack_addr(c, r->dst);
        hash_put(c, r, no);
    }
    if (c->out_set && (pkt == c->out_pkt || (len == c->out_len && c->out_len))) {
        snprintf(r->note, sizeof r->note, "%s", c->out_note);
        c->out_set = false;
    }
    settle(c, now);
}

/* ---- events ---------------------------------------------------------------------------- */

static void append(char *buf, size_t cap, const char *prefix, const char *text)
{
    size_t n = strlen(buf);
    if (n + 1 < cap) snprintf(buf + n, cap - n, "%s%s%s", n ? "; " : "", prefix, text);
}

static const char *prefix(const ts_capture *c, const cap_stack *s, char *buf, size_t len)
{
    if (c->nstacks < 2 || !s->name[0]) return "";
    snprintf(buf, len, "%s: ", s->name);
    return buf;
}

static void seg_out(ts_capture *c, cap_stack *s, const ts_event *ev, const char *why)
{
    char p[40];
    c->out_note[0] = '\0';
    if (why) append(c->out_note, sizeof c->out_note, prefix(c, s, p, sizeof p), why);
    const uint8_t *pk = ev->u.seg.pkt;
    uint8_t flags = pk && ev->u.seg.len >= 40 && (size_t)(pk[0] & 15) * 4 + 14 <= ev->u.seg.len
                        ? pk[(pk[0] & 15) * 4 + 13]
                        : 0;
    if (s->st_note[0] && s->st_conn == ev->conn.id && (!s->st_flag || (flags & s->st_flag))) {
        append(c->out_note, sizeof c->out_note, why ? "" : prefix(c, s, p, sizeof p), s->st_note);
        s->st_note[0] = '\0';
    }
    c->out_set = c->out_note[0] != '\0';
    c->out_pkt = ev->u.seg.pkt;
    c->out_len = ev->u.seg.len;
}

/* A stack took (or dropped) a packet: its record is delivered; what follows at the same
 * instant on the same connection (state changes) is what it caused. */
static void taken(ts_capture *c, cap_stack *s, const ts_event *ev, const uint8_t *pkt, size_t len)
{
    uint32_t src, dst;
    uint16_t id;
    s->in_no = 0;
    if (!ip_key(pkt, len, &src, &dst, &id)) return;
    hslot *h = hash_find(c, src, dst, id);
    if (!h) return;
    uint64_t no = h->no1 - 1;
    rec *r = rec_at(c, no);
    if (!r->delivered) {
        r->delivered = true;
        r->delivered_at = ev->now;
    }
    s->in_no = no + 1;
    s->in_conn = ev->conn.id;
    s->in_now = ev->now;
    /* The oldest packet on the same path, sent before this one, is not coming: lost. */
    rec *hd = rec_at(c, c->head);
    if (c->head < no && !hd->delivered && hd->src == src && hd->dst == dst) {
        hd->delivered = true;
        hd->delivered_at = ev->now;
    }
}

static void state(ts_capture *c, cap_stack *s, const ts_event *ev)
{
    char p[40], text[80];
    snprintf(text, sizeof text, "%s -> %s", ts_state_name(ev->u.state.from),
             ts_state_name(ev->u.state.to));
    uint64_t no = s->in_no - 1;
    /* a SYN to a listener makes a new connection: its first state belongs to the SYN */
    bool embryo = ev->u.state.from == TS_CLOSED && ev->u.state.to == TS_SYN_RECEIVED;
    if (s->in_no && (s->in_conn == ev->conn.id || embryo) && s->in_now == ev->now &&
        no >= c->head && no < c->tail) {
        rec *r = rec_at(c, no);
        append(r->note, sizeof r->note, prefix(c, s, p, sizeof p), text);
        return;
    }
    if (s->st_conn != ev->conn.id) s->st_note[0] = '\0';
    s->st_conn = ev->conn.id;
    /* a close goes with the FIN it sends (after any data still queued), a connect with
     * its SYN; anything else with the next packet */
    ts_state to = ev->u.state.to;
    s->st_flag = to == TS_FIN_WAIT_1 || to == TS_LAST_ACK ? 0x01 : to == TS_SYN_SENT ? 0x02 : 0;
    append(s->st_note, sizeof s->st_note, "", text);
}

void ts_capture_event(ts_capture *c, int stack, const ts_event *ev)
{
    if (!c || !c->ng || stack < 0 || (size_t)stack >= c->nstacks) return;
    cap_stack *s = &c->stacks[stack];
    const char *why = ts_why_event(s->why, ev);
    switch (ev->type) {
    case TS_EV_SEG_OUT: seg_out(c, s, ev, why); break;
    case TS_EV_SEG_IN: taken(c, s, ev, ev->u.seg.pkt, ev->u.seg.len); break;
    case TS_EV_DROP:
        if (ev->u.drop.pkt) taken(c, s, ev, ev->u.drop.pkt, ev->u.drop.len);
        break;
    case TS_EV_STATE: state(c, s, ev); break;
    default: break;
    }
}

void ts_capture_tick(ts_capture *c, ts_time_t now)
{
    if (c && c->ng) settle(c, now);
}

void ts_capture_flush(ts_capture *c)
{
    if (c && c->pcap) ts_pcapw_flush(c->pcap);
    if (c && c->ng) ts_pcapng_flush(c->ng);
}

int ts_capture_close(ts_capture *c)
{
    if (!c) return 0;
    int rc = 0;
    if (c->ng) {
        while (c->head < c->tail) write_head(c);
        rc = ts_pcapng_close(c->ng);
    }
    if (c->pcap) ts_pcapw_close(c->pcap);
    for (size_t i = 0; i < c->nstacks; i++) ts_why_free(c->stacks[i].why);
    for (size_t i = 0; i < c->npool; i++) free(c->pool[i]);
    free(c->stacks);
    free(c->pool);
    free(c->hash);
    free(c->q);
    free(c);
    return rc;
}
